// SPDX-License-Identifier: GPL-2.0
/*
 * bench_select: what ksync_wait_any() costs against the plain call, and
 * against what a program does without it (epoll_wait on the object's fd
 * and a cancel fd, then a try, in a loop).  Each select waits on an
 * operation and a cancellation that never comes, Go's
 * `select { case <-ch: case <-ctx.Done(): }`: a ksync event (which the
 * library looks at on its page), or an eventfd (which only the module can
 * poll, so every such select is a system call).
 *
 *   ready        the operation can complete at once: ns per acquire+release
 *   sem trips    two processes hand a permit back and forth through two
 *                semaphores, each acquire blocking: round trips per second
 *   queue trips  the same with a message through two queues
 *
 * Rounds are interleaved, and the median of each is shown, with its
 * ratio to the plain call in the same run (the aim: a ready
 * select within 1.5x of the plain fast path, a blocked one within 1.2x of
 * the plain round trip).
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/eventfd.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <ksync.h>

#define ROUNDS 5

enum { PLAIN, SELECT, SELECT_FD, EPOLL, NWAYS };
static const char *const ways[NWAYS] = { "plain call", "select, event", "select, eventfd",
					 "epoll + try" };

static int cancel_fd = -1;
static ksync_event_t *cancel_ev;

/* The select's cancellation: the event, or the eventfd. */
static struct ksync_op cancel_op(int way)
{
	if (way == SELECT)
		return (struct ksync_op){ .kind = KSYNC_OP_EVENT, .event = cancel_ev };
	return (struct ksync_op){ .kind = KSYNC_OP_FD, .fd = cancel_fd };
}

static void die(const char *what, int err)
{
	fprintf(stderr, "bench_select: %s: %s\n", what, strerror(err < 0 ? -err : err));
	exit(1);
}

static double now_s(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

/* Wait for fd or the cancel fd (which never fires) to become readable. */
static void epoll_for(int fd)
{
	struct epoll_event ev = { .events = EPOLLIN }, out[2];
	int ep = epoll_create1(EPOLL_CLOEXEC);

	if (ep < 0 || epoll_ctl(ep, EPOLL_CTL_ADD, fd, &ev) ||
	    epoll_ctl(ep, EPOLL_CTL_ADD, cancel_fd, &ev))
		die("epoll", errno);
	while (epoll_wait(ep, out, 2, -1) < 0)
		if (errno != EINTR)
			die("epoll_wait", errno);
	close(ep);
}

static void take(int way, ksync_sem_t *s)
{
	struct ksync_op ops[2] = {
		{ .kind = KSYNC_OP_ACQUIRE, .sem = s, .n = 1 },
		cancel_op(way),
	};
	int ret;

	switch (way) {
	case PLAIN:
		ret = ksync_sem_acquire(s, 1, NULL);
		break;
	case SELECT:
	case SELECT_FD:
		ret = ksync_wait_any(ops, 2, NULL);
		break;
	default:
		/* the idiom without a select: try, else wait for readiness */
		while ((ret = ksync_sem_try_acquire(s, 1)) == -EAGAIN)
			epoll_for(ksync_sem_fd(s));
	}
	if (ret)
		die("acquire", ret);
}

static ssize_t get(int way, ksync_queue_t *q, void *buf, size_t len)
{
	struct ksync_op ops[2] = {
		{ .kind = KSYNC_OP_RECV, .queue = q, .buf = buf, .len = len },
		cancel_op(way),
	};
	ssize_t ret;

	switch (way) {
	case PLAIN:
		ret = ksync_queue_recv(q, buf, len, NULL);
		break;
	case SELECT:
	case SELECT_FD:
		ret = ksync_wait_any(ops, 2, NULL);
		if (ret == 0)
			ret = ops[0].result;
		break;
	default:
		while ((ret = ksync_queue_try_recv(q, buf, len)) == -EAGAIN)
			epoll_for(ksync_queue_fd(q));
	}
	if (ret < 0)
		die("receive", (int)ret);
	return ret;
}

/* ns per acquire+release when a permit is there */
static double ready(int way, long iters)
{
	ksync_sem_t *s;
	double t;
	int ret = ksync_sem_open(&s, NULL, 0, 0600, 1);

	if (ret)
		die("sem", ret);
	t = now_s();
	for (long i = 0; i < iters; i++) {
		take(way, s);
		ksync_sem_release(s, 1);
	}
	t = now_s() - t;
	ksync_sem_close(s);
	return t * 1e9 / (double)iters;
}

/* round trips per second through two semaphores */
static double sem_trips(int way, long trips)
{
	ksync_sem_t *ping, *pong;
	double t;
	pid_t pid;
	int status;

	if (ksync_sem_open(&ping, NULL, 0, 0600, 0) || ksync_sem_open(&pong, NULL, 0, 0600, 0))
		die("sem", ENOMEM);
	pid = fork();
	if (pid == 0) {
		for (long i = 0; i < trips; i++) {
			take(way, ping);
			ksync_sem_release(pong, 1);
		}
		_exit(0);
	}
	t = now_s();
	for (long i = 0; i < trips; i++) {
		ksync_sem_release(ping, 1);
		take(way, pong);
	}
	t = now_s() - t;
	if (waitpid(pid, &status, 0) != pid || status)
		die("child", EIO);
	ksync_sem_close(ping);
	ksync_sem_close(pong);
	return (double)trips / t;
}

/* round trips per second of an 8-byte message through two queues */
static double queue_trips(int way, long trips)
{
	ksync_queue_t *there, *back;
	char buf[8] = "message";
	double t;
	pid_t pid;
	int status;

	if (ksync_queue_open(&there, NULL, 0, 0600, 4, 8) ||
	    ksync_queue_open(&back, NULL, 0, 0600, 4, 8))
		die("queue", ENOMEM);
	pid = fork();
	if (pid == 0) {
		for (long i = 0; i < trips; i++) {
			get(way, there, buf, sizeof(buf));
			if (ksync_queue_send(back, buf, sizeof(buf), NULL))
				_exit(1);
		}
		_exit(0);
	}
	t = now_s();
	for (long i = 0; i < trips; i++) {
		if (ksync_queue_send(there, buf, sizeof(buf), NULL))
			die("send", EIO);
		get(way, back, buf, sizeof(buf));
	}
	t = now_s() - t;
	if (waitpid(pid, &status, 0) != pid || status)
		die("child", EIO);
	ksync_queue_close(there);
	ksync_queue_close(back);
	return (double)trips / t;
}

static int cmp(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;

	return x < y ? -1 : x > y;
}

static double median(double *v)
{
	qsort(v, ROUNDS, sizeof(*v), cmp);
	return v[ROUNDS / 2];
}

int main(int argc, char **argv)
{
	double scale = argc > 1 ? atof(argv[1]) : 1.0;
	double r[NWAYS][ROUNDS], st[NWAYS][ROUNDS], qt[NWAYS][ROUNDS];
	double mr[NWAYS], ms[NWAYS], mq[NWAYS];

	if (scale <= 0)
		scale = 1.0;
	cancel_fd = eventfd(0, EFD_CLOEXEC);
	if (cancel_fd < 0)
		die("eventfd", errno);
	if (ksync_event_open(&cancel_ev, NULL, 0, 0600, 0))
		die("event", ENOMEM);
	printf("ksync bench_select (scale %.2f): %d interleaved rounds, medians, ratios against "
	       "the "
	       "plain call\n\n",
	       scale, ROUNDS);
	for (int i = 0; i < ROUNDS; i++) {
		for (int w = 0; w < NWAYS; w++) {
			r[w][i] = ready(w, (long)(200000 * scale) + 1);
			st[w][i] = sem_trips(w, (long)(4000 * scale) + 1);
			qt[w][i] = queue_trips(w, (long)(4000 * scale) + 1);
		}
	}
	for (int w = 0; w < NWAYS; w++) {
		mr[w] = median(r[w]);
		ms[w] = median(st[w]);
		mq[w] = median(qt[w]);
	}
	printf("%-16s %12s %8s %16s %8s %16s %8s\n", "", "ready", "", "sem trips", "",
	       "queue trips", "");
	printf("%-16s %12s %8s %16s %8s %16s %8s\n", "", "ns/op", "x plain", "trips/s", "x plain",
	       "trips/s", "x plain");
	for (int w = 0; w < NWAYS; w++)
		printf("%-16s %12.0f %8.2f %16.0f %8.2f %16.0f %8.2f\n", ways[w], mr[w],
		       mr[w] / mr[PLAIN], ms[w], ms[PLAIN] / ms[w], mq[w], mq[PLAIN] / mq[w]);
	printf("\n(x plain: time per operation or per round trip against the plain call's; "
	       "below 1 is faster)\n");
	return 0;
}
