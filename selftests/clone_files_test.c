// SPDX-License-Identifier: GPL-2.0
/*
 * A thread with an fd table of its own (unshare(CLONE_FILES)) is still
 * part of its process: when it exits, or closes its copy of a barrier's or
 * a queue's fd, while another thread of the process holds the fd, the
 * process has not let go.  The barrier round it is a party of must not
 * break, and a queue whose only sender it is must neither shut down nor
 * lose the process's claim token.  When the last table of the process
 * lets go, the process has: that still counts.
 */
#include <pthread.h>
#include <sched.h>

#include "barrier.h"
#include "kselftest_harness.h"

/* What a helper thread does once it has a table of its own. */
enum { T_EXIT, T_CLOSE, T_HOLD };

struct helper {
	pthread_t thread;
	pid_t tid;
	int fd; /* the object's fd: in its table too, after unshare */
	int how;
	int (*before)(void *arg); /* run first, in the shared table; or NULL */
	void *arg;
	int ready[2]; /* a byte once its table is its own */
	int release[2]; /* T_HOLD: a byte here makes it close its copy and end */
	int ret; /* 0, or what failed */
};

static void *helper_main(void *p)
{
	struct helper *h = p;
	char c = 0;

	h->tid = gettid();
	if (h->before)
		h->ret = h->before(h->arg);
	if (!h->ret && unshare(CLONE_FILES))
		h->ret = -errno;
	if (write(h->ready[1], &c, 1) != 1 && !h->ret)
		h->ret = -EIO;
	if (h->ret)
		return NULL;
	if (h->how == T_HOLD && read(h->release[0], &c, 1) != 1)
		h->ret = -EIO;
	if (h->how != T_EXIT && close(h->fd))
		h->ret = -errno;
	/* ends: its table, with the copy of fd if it kept one, is closed */
	return NULL;
}

/* Read one byte from fd, at most ms; 0 or -1. */
static int read_byte(int fd, int ms)
{
	struct pollfd p = { .fd = fd, .events = POLLIN };
	char c;

	return poll(&p, 1, ms) == 1 && read(fd, &c, 1) == 1 ? 0 : -1;
}

/* Start a helper on fd; it has unshared its table when this returns 0. */
static int helper_start(struct helper *h, int fd, int how, int (*before)(void *), void *arg)
{
	memset(h, 0, sizeof(*h));
	h->fd = fd;
	h->how = how;
	h->before = before;
	h->arg = arg;
	if (pipe2(h->ready, O_CLOEXEC) || pipe2(h->release, O_CLOEXEC))
		return -1;
	if (pthread_create(&h->thread, NULL, helper_main, h))
		return -1;
	return read_byte(h->ready[0], 10000);
}

/*
 * T_HOLD: let it close its copy.  Then wait until it has ended; its ret.
 * pthread_join() returns before the thread's exit closes its fd table
 * (the kernel wakes the joiner as it lets go of the memory, earlier), so
 * wait for the thread to be gone from /proc, which happens after.
 */
static int helper_end(struct helper *h)
{
	int64_t end = now_ns() + 10000000000LL;
	char c = 0, path[64];

	if (h->how == T_HOLD && write(h->release[1], &c, 1) != 1)
		return -1;
	if (pthread_join(h->thread, NULL))
		return -1;
	snprintf(path, sizeof(path), "/proc/self/task/%d", (int)h->tid);
	while (access(path, F_OK) == 0) {
		if (now_ns() > end)
			return -1;
		pause_us(200);
	}
	close(h->ready[0]);
	close(h->ready[1]);
	close(h->release[0]);
	close(h->release[1]);
	return h->ret;
}

/* A process with its own open file of the barrier, waiting rounds times. */
static pid_t waiter(const char *name, int rounds)
{
	pid_t pid = fork();

	if (pid == 0) {
		struct timespec dl = ksync_deadline_ms(20000);
		ksync_barrier_t *b;
		int ret = 0;

		if (ksync_barrier_open(&b, name, 0, 0, 0))
			_exit(99);
		for (int i = 0; i < rounds && ret >= 0; i++)
			ret = ksync_barrier_wait(b, &dl);
		_exit(wait_code(ret));
	}
	return pid;
}

FIXTURE(bar)
{
	const char *name;
	ksync_barrier_t *b; /* this process's handle: a party of 2 */
	ksync_barrier_t *look; /* another open file, for the counters only */
	pid_t other;
};

/* This process is a party of round 0; the other has arrived in round 1. */
FIXTURE_SETUP(bar)
{
	struct timespec dl = ksync_deadline_ms(20000);

	self->name = strdup(test_name("clone-files"));
	ASSERT_EQ(0, ksync_barrier_open(&self->b, self->name, KSYNC_CREATE | KSYNC_EXCL, 0600, 2));
	ASSERT_EQ(0, ksync_barrier_open(&self->look, self->name, 0, 0, 0));
	self->other = waiter(self->name, 2);
	ASSERT_GT(self->other, 0);
	ASSERT_LE(0, ksync_barrier_wait(self->b, &dl));
	ASSERT_TRUE(wait_arrived(self->look, 1, 10000));
}

FIXTURE_TEARDOWN(bar)
{
	if (self->other > 0) {
		kill(self->other, SIGKILL);
		wait_child(self->other, 10000);
	}
	ksync_unlink(self->name);
	if (self->b)
		ksync_barrier_close(self->b);
	ksync_barrier_close(self->look);
}

/* The round goes on: this process arrives and completes it. */
static void round_completes(struct __test_metadata *_metadata, FIXTURE_DATA(bar) * self)
{
	struct timespec dl = ksync_deadline_ms(20000);

	ASSERT_EQ(0, barrier_stats(self->look).broken);
	ASSERT_EQ(1, ksync_barrier_wait(self->b, &dl));
	ASSERT_EQ(W_PASSED, wait_child(self->other, 10000));
	self->other = 0;
}

TEST_F(bar, thread_with_its_own_table_exits)
{
	struct helper h;

	ASSERT_EQ(0, helper_start(&h, ksync_barrier_fd(self->b), T_EXIT, NULL, NULL));
	ASSERT_EQ(0, helper_end(&h));
	round_completes(_metadata, self);
}

TEST_F(bar, thread_closes_its_own_copy)
{
	struct helper h;

	ASSERT_EQ(0, helper_start(&h, ksync_barrier_fd(self->b), T_CLOSE, NULL, NULL));
	ASSERT_EQ(0, helper_end(&h));
	round_completes(_metadata, self);
}

/* The main thread closes while a thread's copy holds; the copy's close is the last. */
TEST_F(bar, the_last_table_to_let_go_leaves)
{
	struct helper h;

	ASSERT_EQ(0, helper_start(&h, ksync_barrier_fd(self->b), T_HOLD, NULL, NULL));
	ASSERT_EQ(0, ksync_barrier_close(self->b));
	self->b = NULL;
	ASSERT_EQ(0, barrier_stats(self->look).broken);
	ASSERT_EQ(1, barrier_stats(self->look).waiting);
	ASSERT_EQ(0, helper_end(&h));
	ASSERT_EQ(W_EPIPE, wait_child(self->other, 10000));
	self->other = 0;
	ASSERT_EQ(1, barrier_stats(self->look).broken);
}

FIXTURE(q)
{
	const char *name;
	ksync_queue_t *tx; /* this process sends on it, from one thread */
	ksync_queue_t *rx; /* another open file: receives only */
};

FIXTURE_SETUP(q)
{
	self->name = strdup(test_name("clone-files-q"));
	ASSERT_EQ(0,
		  ksync_queue_open(&self->tx, self->name, KSYNC_CREATE | KSYNC_EXCL, 0600, 8, 8));
	ASSERT_EQ(0, ksync_queue_open(&self->rx, self->name, 0, 0, 0, 0));
}

FIXTURE_TEARDOWN(q)
{
	ksync_unlink(self->name);
	if (self->tx)
		ksync_queue_close(self->tx);
	ksync_queue_close(self->rx);
}

static int send_one(void *q)
{
	char m = 1;

	return ksync_queue_send(q, &m, 1, NULL);
}

/*
 * The only thread that has sent gets a table of its own and exits (or
 * closes its copy there): the process still holds the queue, so it is
 * still a sender: its next send, from another thread, goes through and
 * both messages arrive; when it lets go for real, the queue ends.
 */
static void only_sender_thread(struct __test_metadata *_metadata, FIXTURE_DATA(q) * self, int how)
{
	struct timespec dl = ksync_deadline_ms(10000);
	struct helper h;
	char m = 2, got[2] = { 0, 0 };

	ASSERT_EQ(0, helper_start(&h, ksync_queue_fd(self->tx), how, send_one, self->tx));
	ASSERT_EQ(0, helper_end(&h));
	ASSERT_EQ(0, ksync_queue_send(self->tx, &m, 1, &dl));
	ASSERT_EQ(1, ksync_queue_recv(self->rx, &got[0], 1, &dl));
	ASSERT_EQ(1, ksync_queue_recv(self->rx, &got[1], 1, &dl));
	ASSERT_EQ(1, got[0]);
	ASSERT_EQ(2, got[1]);
	ASSERT_EQ(-EAGAIN, ksync_queue_try_recv(self->rx, got, 1));
	ASSERT_EQ(0, ksync_queue_close(self->tx));
	self->tx = NULL;
	ASSERT_EQ(-EPIPE, ksync_queue_recv(self->rx, got, 1, &dl));
}

TEST_F(q, only_sending_thread_with_its_own_table_exits)
{
	only_sender_thread(_metadata, self, T_EXIT);
}

TEST_F(q, only_sending_thread_closes_its_own_copy)
{
	only_sender_thread(_metadata, self, T_CLOSE);
}

TEST_HARNESS_MAIN
