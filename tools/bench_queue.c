// SPDX-License-Identifier: GPL-2.0
/*
 * bench_queue: ksync queues against what users would otherwise pick, in
 * one run on one machine: POSIX message queues (msg_max raised to the
 * same capacity), a pipe, a SysV message queue (msgmnb raised likewise),
 * and, as the in-process reference, liburcu's wait-free concurrent queue
 * (wfcqueue) between threads of one process, kept to the same capacity.
 *
 * Cases: 1 producer x 1 consumer and 4 x 4 (processes; threads for
 * liburcu), 8-byte and 1 KiB messages, one message per call or batches
 * (ksync: send_batch/recv_batch of 32; a pipe: one write of as many
 * messages as PIPE_BUF holds, up to 32; POSIX and SysV queues have no
 * batches).  The result is messages per second, the median of 5 runs with
 * the kinds interleaved (the fast ones move 4 times as many messages, so
 * that every run lasts long enough to time), and ksync's ratio to each of the others.  For
 * ksync, the kernel entries per message (all processes) come from
 * ksync_queue_stats().
 *
 * Usage: bench_queue [SCALE]   (SCALE multiplies the message counts;
 * BENCH_ONLY="4x4 8B" runs the cases whose label holds that text)
 */
#define _LGPL_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <mqueue.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ipc.h>
#include <sys/mman.h>
#include <sys/msg.h>
#include <sys/uio.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>
/* scripts/setup-host installs liburcu-dev; without it, no reference column */
#if __has_include(<urcu/wfcqueue.h>)
#include <urcu/wfcqueue.h>
#define HAVE_URCU 1
#else
#define HAVE_URCU 0
#endif

#include <ksync.h>

#define CAPACITY 256
#define BATCH 32
#define RUNS 5

enum { KSYNC, KSYNC_KERNEL, POSIXMQ, PIPE, SYSV, URCU, NKINDS };
static const char *const names[NKINDS] = {
	"ksync", "ksync kernel-only", "POSIX mq", "pipe", "SysV msg", "liburcu (threads)",
};

static void die(const char *what, int err)
{
	fprintf(stderr, "bench_queue: %s: %s\n", what, strerror(err));
	exit(1);
}

static double now_s(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static void write_proc(const char *path, long v)
{
	FILE *f = fopen(path, "w");

	if (!f || fprintf(f, "%ld\n", v) < 0 || fclose(f))
		die(path, errno);
}

/* What every process of a run shares. */
struct shared {
	_Atomic int go;
	_Atomic long received;
};

struct chan {
	int kind;
	size_t size;
	ksync_queue_t *kq; /* this process's end: the receiving one until fork */
	ksync_queue_t *ktx; /* the sending end, closed by all but the producers */
	mqd_t mq;
	int pipefd[2];
	int sysv;
	struct shared *sh;
};

struct sysv_msg {
	long mtype;
	char text[1024];
};

#define SENTINEL UINT64_MAX

static void chan_open(struct chan *c, int kind, size_t size)
{
	char name[64];
	int ret;

	memset(c, 0, sizeof(*c));
	c->kind = kind;
	c->size = size;
	c->sh = mmap(NULL, sizeof(*c->sh), PROT_READ | PROT_WRITE, MAP_SHARED | MAP_ANONYMOUS, -1,
		     0);
	if (c->sh == MAP_FAILED)
		die("mmap", errno);
	snprintf(name, sizeof(name), "/bench-queue-%d", (int)getpid());
	switch (kind) {
	case KSYNC:
	case KSYNC_KERNEL: {
		/*
		 * As a pipe: the producers inherit the sending end and everyone
		 * else closes it, so the input ends when the last producer exits.
		 */
		ksync_queue_t *ends[2];

		ret = ksync_queue_pipe(ends, CAPACITY, (unsigned int)size,
				       kind == KSYNC_KERNEL ? KSYNC_QUEUE_KERNEL : 0);
		if (ret)
			die("ksync_queue_pipe", -ret);
		c->kq = ends[0];
		c->ktx = ends[1];
		break;
	}
	case POSIXMQ: {
		struct mq_attr attr = { .mq_maxmsg = CAPACITY, .mq_msgsize = (long)size };

		mq_unlink(name);
		c->mq = mq_open(name, O_RDWR | O_CREAT | O_EXCL, 0600, &attr);
		if (c->mq == (mqd_t)-1)
			die("mq_open (as root, with msg_max raised)", errno);
		mq_unlink(name);
		break;
	}
	case PIPE:
		if (pipe(c->pipefd))
			die("pipe", errno);
		break;
	case SYSV:
		c->sysv = msgget(IPC_PRIVATE, 0600);
		if (c->sysv < 0)
			die("msgget", errno);
		break;
	}
}

static void chan_close(struct chan *c)
{
	switch (c->kind) {
	case KSYNC:
	case KSYNC_KERNEL:
		ksync_queue_close(c->kq);
		break;
	case POSIXMQ:
		mq_close(c->mq);
		break;
	case PIPE:
		close(c->pipefd[0]);
		close(c->pipefd[1]);
		break;
	case SYSV:
		msgctl(c->sysv, IPC_RMID, NULL);
		break;
	}
	munmap(c->sh, sizeof(*c->sh));
}

static int batch_of(const struct chan *c)
{
	if (c->kind == PIPE) {
		size_t n = PIPE_BUF / c->size;

		return n > BATCH ? BATCH : (int)n;
	}
	return BATCH;
}

/* Send one message, or a batch of n (kinds that have batches). */
static void put(struct chan *c, char *msgs, int n)
{
	struct iovec v[BATCH];
	struct sysv_msg sm;
	int i, ret;

	switch (c->kind) {
	case KSYNC:
	case KSYNC_KERNEL:
		if (n == 1) {
			ret = ksync_queue_send(c->kq, msgs, c->size, NULL);
		} else {
			for (i = 0; i < n; i++)
				v[i] = (struct iovec){ msgs + (size_t)i * c->size, c->size };
			ret = ksync_queue_send_batch(c->kq, v, (unsigned int)n, NULL);
			ret = ret == n ? 0 : ret < 0 ? ret : -EIO;
		}
		if (ret)
			die("ksync_queue_send", -ret);
		break;
	case POSIXMQ:
		if (mq_send(c->mq, msgs, c->size, 0))
			die("mq_send", errno);
		break;
	case PIPE:
		if (write(c->pipefd[1], msgs, c->size * (size_t)n) !=
		    (ssize_t)(c->size * (size_t)n))
			die("pipe write", errno);
		break;
	case SYSV:
		sm.mtype = 1;
		memcpy(sm.text, msgs, c->size);
		if (msgsnd(c->sysv, &sm, c->size, 0))
			die("msgsnd", errno);
		break;
	}
}

/* Receive one message or up to n; how many, or 0 at the end. */
static int get(struct chan *c, char *bufs, int n)
{
	struct iovec v[BATCH];
	struct sysv_msg sm;
	ssize_t got;
	int i;

	switch (c->kind) {
	case KSYNC:
	case KSYNC_KERNEL:
		if (n == 1) {
			got = ksync_queue_recv(c->kq, bufs, c->size, NULL);
			if (got == -EPIPE)
				return 0;
			if (got < 0)
				die("ksync_queue_recv", (int)-got);
			return 1;
		}
		for (i = 0; i < n; i++)
			v[i] = (struct iovec){ bufs + (size_t)i * c->size, c->size };
		got = ksync_queue_recv_batch(c->kq, v, (unsigned int)n, NULL);
		if (got == -EPIPE)
			return 0;
		if (got < 0)
			die("ksync_queue_recv_batch", (int)-got);
		return (int)got;
	case POSIXMQ:
		got = mq_receive(c->mq, bufs, c->size, NULL);
		if (got < 0)
			die("mq_receive", errno);
		return *(uint64_t *)bufs == SENTINEL ? 0 : 1;
	case PIPE:
		/* whole messages: every write was a multiple of size, at most PIPE_BUF */
		got = read(c->pipefd[0], bufs, c->size * (size_t)n);
		if (got < 0)
			die("pipe read", errno);
		if (got % (ssize_t)c->size) {
			ssize_t more =
				read(c->pipefd[0], bufs + got, c->size - (size_t)got % c->size);

			if (more <= 0)
				die("pipe read", EIO);
			got += more;
		}
		return (int)(got / (ssize_t)c->size);
	case SYSV:
		got = msgrcv(c->sysv, &sm, c->size, 0, 0);
		if (got < 0)
			die("msgrcv", errno);
		return *(uint64_t *)sm.text == SENTINEL ? 0 : 1;
	}
	return 0;
}

static void wait_go(struct shared *sh)
{
	while (!atomic_load(&sh->go))
		sched_yield();
}

static void set_spin(struct chan *c)
{
	const char *env = getenv("BENCH_SPIN_NS");

	if (env && c->kq)
		ksync_queue_set_spin(c->kq, (unsigned int)atoi(env));
}

static void producer(struct chan *c, long count, int batch)
{
	int n = batch ? batch_of(c) : 1;
	char *msgs = calloc((size_t)n, c->size);

	set_spin(c);
	wait_go(c->sh);
	for (long i = 0; i < count; i += n) {
		int k = count - i < n ? (int)(count - i) : n;

		for (int j = 0; j < k; j++)
			*(uint64_t *)(msgs + (size_t)j * c->size) = (uint64_t)(i + j);
		if (c->kind == POSIXMQ || c->kind == SYSV)
			for (int j = 0; j < k; j++)
				put(c, msgs + (size_t)j * c->size, 1);
		else
			put(c, msgs, k);
	}
	free(msgs);
}

static void consumer(struct chan *c, int batch)
{
	int n = batch && c->kind != POSIXMQ && c->kind != SYSV ? batch_of(c) : 1;
	char *bufs = calloc((size_t)n, c->size);
	long mine = 0;
	int got;

	set_spin(c);
	wait_go(c->sh);
	while ((got = get(c, bufs, n)) > 0)
		mine += got;
	atomic_fetch_add(&c->sh->received, mine);
	free(bufs);
}

#if HAVE_URCU
/* The in-process reference: liburcu's wfcqueue between threads, bounded
 * like the others by a count of messages in flight. */
struct urcu_run {
	struct cds_wfcq_head head;
	struct cds_wfcq_tail tail;
	_Atomic long in_flight, received, produced_all;
	long per_producer, total;
	size_t size;
	int batch;
	_Atomic int go;
};

struct urcu_node {
	struct cds_wfcq_node node;
	char data[];
};

static void *urcu_producer(void *arg)
{
	struct urcu_run *r = arg;

	while (!atomic_load(&r->go))
		sched_yield();
	for (long i = 0; i < r->per_producer; i++) {
		struct urcu_node *m = malloc(sizeof(*m) + r->size);

		while (atomic_load_explicit(&r->in_flight, memory_order_relaxed) >= CAPACITY)
			sched_yield();
		atomic_fetch_add_explicit(&r->in_flight, 1, memory_order_relaxed);
		*(uint64_t *)m->data = (uint64_t)i;
		cds_wfcq_node_init(&m->node);
		cds_wfcq_enqueue(&r->head, &r->tail, &m->node);
	}
	return NULL;
}

static void *urcu_consumer(void *arg)
{
	struct urcu_run *r = arg;
	char *buf = malloc(r->size + 8);

	while (!atomic_load(&r->go))
		sched_yield();
	while (atomic_load(&r->received) < r->total) {
		struct cds_wfcq_node *n = cds_wfcq_dequeue_blocking(&r->head, &r->tail);

		if (!n) {
			sched_yield();
			continue;
		}
		memcpy(buf, ((struct urcu_node *)n)->data, r->size);
		free(n);
		atomic_fetch_sub_explicit(&r->in_flight, 1, memory_order_relaxed);
		atomic_fetch_add(&r->received, 1);
	}
	free(buf);
	return NULL;
}

static double run_urcu(int p, size_t size, long total)
{
	pthread_t th[8];
	struct urcu_run *r = calloc(1, sizeof(*r));
	double t0, t;
	int i;

	cds_wfcq_init(&r->head, &r->tail);
	r->per_producer = total / p;
	r->total = r->per_producer * p;
	r->size = size;
	for (i = 0; i < 2 * p; i++)
		pthread_create(&th[i], NULL, i < p ? urcu_producer : urcu_consumer, r);
	t0 = now_s();
	atomic_store(&r->go, 1);
	for (i = 0; i < 2 * p; i++)
		pthread_join(th[i], NULL);
	t = now_s() - t0;
	cds_wfcq_destroy(&r->head, &r->tail);
	total = r->total;
	free(r);
	return (double)total / t;
}
#else
static double run_urcu(int p, size_t size, long total)
{
	(void)p, (void)size, (void)total;
	return 0;
}
#endif

struct result {
	double msgs_per_s;
	double kernel_per_msg;
};

static struct result run(int kind, int p, size_t size, int batch, long total)
{
	struct result res = { 0, 0 };
	long per = total / p;
	pid_t pids[16];
	struct chan c;
	double t0;
	int i;

	if (kind == URCU) {
		res.msgs_per_s = run_urcu(p, size, total);
		return res;
	}
	chan_open(&c, kind, size);
	for (i = 0; i < 2 * p; i++) {
		pids[i] = fork();
		if (pids[i] < 0)
			die("fork", errno);
		if (pids[i] == 0) {
			if (kind == PIPE)
				close(i < p ? c.pipefd[0] : c.pipefd[1]);
			if (c.ktx && i < p) {
				ksync_queue_close(c.kq);
				c.kq = c.ktx;
			} else if (c.ktx) {
				ksync_queue_close(c.ktx);
			}
			if (i < p)
				producer(&c, per, batch);
			else
				consumer(&c, batch);
			_exit(0);
		}
	}
	if (kind == PIPE)
		close(c.pipefd[1]);
	if (c.ktx) {
		ksync_queue_close(c.ktx);
		c.ktx = NULL;
	}
	t0 = now_s();
	atomic_store(&c.sh->go, 1);
	for (i = 0; i < p; i++)
		waitpid(pids[i], NULL, 0);
	/* the end: ksync and pipes see it when the producers are gone */
	if (kind == POSIXMQ || kind == SYSV) {
		char *stop = calloc(1, size);

		*(uint64_t *)stop = SENTINEL;
		for (i = 0; i < p; i++)
			put(&c, stop, 1);
		free(stop);
	}
	for (i = p; i < 2 * p; i++)
		waitpid(pids[i], NULL, 0);
	res.msgs_per_s = (double)atomic_load(&c.sh->received) / (now_s() - t0);
	if (atomic_load(&c.sh->received) != per * p)
		die(names[kind], EIO);
	if (kind == KSYNC || kind == KSYNC_KERNEL) {
		struct ksync_queue_stats st;

		if (!ksync_queue_stats(c.kq, &st))
			res.kernel_per_msg =
				(double)(st.send_calls + st.recv_calls + st.wake_calls) /
				(double)(per * p);
	}
	if (kind == PIPE)
		c.pipefd[1] = -1;
	chan_close(&c);
	return res;
}

static int cmp(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;

	return x < y ? -1 : x > y;
}

int main(int argc, char **argv)
{
	double scale = argc > 1 ? atof(argv[1]) : 1.0;
	static const struct {
		int p;
		size_t size;
		int batch;
	} cases[] = {
		{ 1, 8, 0 }, { 1, 8, 1 }, { 1, 1024, 0 }, { 1, 1024, 1 },
		{ 4, 8, 0 }, { 4, 8, 1 }, { 4, 1024, 0 }, { 4, 1024, 1 },
	};

	if (scale <= 0)
		scale = 1.0;
	/* the others get the same capacity: that needs root */
	write_proc("/proc/sys/fs/mqueue/msg_max", CAPACITY);
	write_proc("/proc/sys/fs/mqueue/msgsize_max", 8192);
	write_proc("/proc/sys/kernel/msgmnb", CAPACITY * 1024);
	printf("bench_queue: messages per second, median of %d runs; capacity %d, batches of %d\n",
	       RUNS, CAPACITY, BATCH);
	printf("%-22s %12s %12s %12s %12s %12s %12s | %7s %7s %7s %7s | %s\n", "case", names[KSYNC],
	       "kernel-only", "POSIX mq", "pipe", "SysV msg", "urcu thr", "vs mq", "vs pipe",
	       "vs SysV", "vs urcu", "ksync syscalls/msg");
	for (size_t k = 0; k < sizeof(cases) / sizeof(cases[0]); k++) {
		long total = (long)((cases[k].size == 8 ? 200000 : 50000) * scale);
		double v[NKINDS][RUNS], med[NKINDS], kpm[RUNS];
		const char *only = getenv("BENCH_ONLY");
		char label[32];

		snprintf(label, sizeof(label), "%dx%d %zuB %s", cases[k].p, cases[k].p,
			 cases[k].size, cases[k].batch ? "batch" : "single");
		if (only && !strstr(label, only))
			continue;
		for (int r = 0; r < RUNS; r++) {
			for (int kind = 0; kind < NKINDS; kind++) {
				struct result res;

				if (cases[k].batch &&
				    (kind == POSIXMQ || kind == SYSV || kind == URCU)) {
					v[kind][r] = 0;
					continue;
				}
				res = run(kind, cases[k].p, cases[k].size, cases[k].batch,
					  kind == KSYNC || kind == URCU ? 4 * total : total);
				v[kind][r] = res.msgs_per_s;
				if (kind == KSYNC)
					kpm[r] = res.kernel_per_msg;
			}
		}
		for (int kind = 0; kind < NKINDS; kind++) {
			qsort(v[kind], RUNS, sizeof(double), cmp);
			med[kind] = v[kind][RUNS / 2];
		}
		qsort(kpm, RUNS, sizeof(double), cmp);
		printf("%-22s", label);
		for (int kind = 0; kind < NKINDS; kind++)
			if (med[kind] > 0)
				printf(" %12.0f", med[kind]);
			else
				printf(" %12s", "-");
		printf(" |");
		for (int kind = POSIXMQ; kind < NKINDS; kind++)
			if (med[kind] > 0)
				printf(" %7.2f", med[KSYNC] / med[kind]);
			else
				printf(" %7s", "-");
		printf(" | %.3f\n", kpm[RUNS / 2]);
		fflush(stdout);
	}
	return 0;
}
