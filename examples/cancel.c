// SPDX-License-Identifier: MIT
/*
 * cancel [STAGES [CANCEL_AT]]: a pipeline stopped from outside, at once.
 *
 *	gen --q0--> stage 1 --q1--> ... stage STAGES --qSTAGES--> sink
 *
 * Each process waits with a select on its queue operation and on one event,
 * done, the cross-process ctx.Done() of Go:
 *
 *	select { case v := <-in: ...; case <-ctx.Done(): return }
 *	select { case out <- v: ...; case <-ctx.Done(): return }
 *
 * gen never stops by itself and the queues are small, so every process is
 * soon blocked in a send or a receive.  Once the sink has CANCEL_AT items,
 * the parent sets done: every process returns at once, whichever call it
 * was in.  A select completes exactly one operation, so a cancelled process
 * took no message it does not hold and sent none it did not count: every
 * item gen sent is in exactly one place, received by the sink, held by a
 * stage (taken, not passed on), or still in a queue.  Items are numbers in
 * the order gen sent them, so the parent checks just that: the sink's,
 * then the last queue's, the last stage's, and so on back to the first
 * queue, must count 0, 1, 2, ... up to what gen sent, once each.
 */
#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <ksync.h>

#define MAX_STAGES 16

struct report {
	uint64_t sent; /* by gen */
	uint64_t got; /* by the sink, in order */
	uint64_t bad; /* sink: out of order */
	int holds[MAX_STAGES + 1]; /* stage i holds item held[i] */
	uint64_t held[MAX_STAGES + 1];
};

static struct report *rep;
static ksync_queue_t *q[MAX_STAGES + 1];
static ksync_event_t *done;
static ksync_sem_t *progress;

/*
 * Receive from in, or be cancelled: 1 (got *v), 0 (cancelled), or an
 * error.  done comes first: when both could complete, the lowest index
 * wins, so once done is set no call takes anything more.
 */
static int take(ksync_queue_t *in, uint64_t *v)
{
	struct ksync_op ops[2] = {
		{ .kind = KSYNC_OP_EVENT, .event = done },
		{ .kind = KSYNC_OP_RECV, .queue = in, .buf = v, .len = sizeof(*v) },
	};
	int i = ksync_wait_any(ops, 2, NULL);

	if (i <= 0)
		return i;
	return ops[1].result == sizeof(*v) ? 1 : ops[1].result < 0 ? (int)ops[1].result : -EIO;
}

/* Send to out, or be cancelled: 1 (sent), 0 (cancelled), or an error. */
static int give(ksync_queue_t *out, uint64_t v)
{
	struct ksync_op ops[2] = {
		{ .kind = KSYNC_OP_EVENT, .event = done },
		{ .kind = KSYNC_OP_SEND, .queue = out, .buf = &v, .len = sizeof(v) },
	};
	int i = ksync_wait_any(ops, 2, NULL);

	if (i <= 0)
		return i;
	return ops[1].result ? (int)ops[1].result : 1;
}

static int gen(void)
{
	int ret;

	while ((ret = give(q[0], rep->sent)) == 1)
		rep->sent++;
	return ret != 0; /* the item it was sending when cancelled was never anywhere */
}

/* Stage i: from q[i - 1] to q[i], holding each item in between. */
static int stage(int i)
{
	int ret;

	while ((ret = take(q[i - 1], &rep->held[i])) == 1) {
		rep->holds[i] = 1;
		ret = give(q[i], rep->held[i]);
		if (ret != 1)
			break;
		rep->holds[i] = 0;
	}
	return ret != 0;
}

static int sink(int stages, uint64_t cancel_at)
{
	uint64_t v;
	int ret;

	while ((ret = take(q[stages], &v)) == 1) {
		rep->bad += v != rep->got;
		if (++rep->got == cancel_at)
			ksync_sem_release(progress, 1);
	}
	return ret != 0;
}

static double now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec * 1e3 + (double)ts.tv_nsec / 1e6;
}

/* Every item once, in order, from the sink back to the first queue. */
static int account(int stages, uint64_t *in_queues, uint64_t *in_hands)
{
	uint64_t next = rep->got, v;
	int once = rep->bad == 0;

	*in_queues = *in_hands = 0;
	for (int i = stages; i >= 0; i--) {
		while (ksync_queue_try_recv(q[i], &v, sizeof(v)) == sizeof(v)) {
			once &= v == next++;
			++*in_queues;
		}
		if (i > 0 && rep->holds[i]) {
			once &= rep->held[i] == next++;
			++*in_hands;
		}
	}
	return once && next == rep->sent;
}

int main(int argc, char **argv)
{
	int stages = argc > 1 ? atoi(argv[1]) : 3;
	uint64_t cancel_at = argc > 2 ? strtoull(argv[2], NULL, 10) : 1000;
	struct timespec dl;
	uint64_t in_queues, in_hands;
	int ret, status, failed = 0, once;
	double t;
	pid_t pid;

	if (stages < 1 || stages > MAX_STAGES || !cancel_at) {
		fprintf(stderr, "usage: cancel [STAGES (1-%d) [CANCEL_AT]]\n", MAX_STAGES);
		return 2;
	}
	rep = mmap(NULL, sizeof(*rep), PROT_READ | PROT_WRITE, MAP_SHARED | MAP_ANONYMOUS, -1, 0);
	if (rep == MAP_FAILED)
		return 1;
	/* anonymous objects: the children inherit them, as they would pipes */
	ret = ksync_event_open(&done, NULL, 0, 0600, 0);
	if (!ret)
		ret = ksync_sem_open(&progress, NULL, 0, 0600, 0);
	for (int i = 0; !ret && i <= stages; i++)
		ret = ksync_queue_open(&q[i], NULL, KSYNC_QUEUE_NOEOF, 0600, 4, sizeof(uint64_t));
	if (ret) {
		fprintf(stderr, "cancel: %s%s\n", strerror(-ret),
			ret == -ENODEV ? " (is the ksync module loaded?)" : "");
		return 1;
	}
	for (int i = 0; i <= stages + 1; i++) {
		pid = fork();
		if (pid < 0)
			return 1;
		if (pid == 0)
			_exit(i == 0 ? gen() : i <= stages ? stage(i) : sink(stages, cancel_at));
	}

	/* cancel once the sink has cancel_at items (or a minute has passed) */
	dl = ksync_deadline_ms(60000);
	ret = ksync_sem_acquire(progress, 1, &dl);
	t = now_ms();
	ksync_event_set(done);
	while (wait(&status) > 0)
		failed += !WIFEXITED(status) || WEXITSTATUS(status);
	t = now_ms() - t;
	once = account(stages, &in_queues, &in_hands);
	printf("%d stages, cancelled after %llu: gen sent %llu; the sink got %llu, stages held "
	       "%llu, "
	       "queues held %llu; every item once, in order: %s; all stopped in %.1f ms; "
	       "%d processes failed\n",
	       stages, (unsigned long long)cancel_at, (unsigned long long)rep->sent,
	       (unsigned long long)rep->got, (unsigned long long)in_hands,
	       (unsigned long long)in_queues, once ? "yes" : "NO", t, failed);
	return ret || failed || !once || rep->got < cancel_at;
}
