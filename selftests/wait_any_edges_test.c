// SPDX-License-Identifier: GPL-2.0
/*
 * ksync_wait_any() at its edges, each found by review, each failing on
 * the code before its fix:
 *
 *  - the library's fast path must not complete an op before a later op
 *    that the call is refused for: the call fails and changes nothing;
 *  - one object named through two handles is refused (the module refuses
 *    it), before the fast path completes any op;
 *  - a wait that is woken as it queues, round after round, still ends at
 *    its deadline and on a signal (it looked at neither, for ever: the
 *    fuzzer's caller spun in the module, deaf even to SIGKILL);
 *  - a call refused by a later op has not joined an earlier SEND's handle
 *    to the senders;
 *  - an FD op's entry leaves the file's wait queues before the waiter is
 *    armed again (a second wake claimed it again, into a dead stack
 *    frame: "kernel BUG at lib/list_debug.c" on Debian's stock kernel).
 */
#include <pthread.h>
#include <sched.h>
#include <stdatomic.h>
#include <sys/eventfd.h>
#include <sys/mman.h>
#include <sys/resource.h>
#include <sys/wait.h>

#include "common.h"
#include "kselftest_harness.h"

#define DEADLINE_MS 10000

static struct ksync_op acquire(ksync_sem_t *s, unsigned int n)
{
	return (struct ksync_op){ .kind = KSYNC_OP_ACQUIRE, .sem = s, .n = n };
}

static struct ksync_op send_op(ksync_queue_t *q, const void *msg, size_t len)
{
	return (struct ksync_op){
		.kind = KSYNC_OP_SEND, .queue = q, .buf = (void *)msg, .len = len
	};
}

static struct ksync_op fd_op(int fd)
{
	return (struct ksync_op){ .kind = KSYNC_OP_FD, .fd = fd };
}

/* A ready ACQUIRE, then a bad fd: -EBADF, and the permit stays. */
TEST(fast_path_completes_before_a_bad_fd)
{
	ksync_sem_t *b;
	struct ksync_op ops[2];
	struct timespec dl = ksync_deadline_ms(DEADLINE_MS);

	ASSERT_EQ(0, ksync_sem_open(&b, NULL, 0, 0600, 1));
	ops[0] = acquire(b, 1);
	ops[1] = fd_op(-1);
	EXPECT_EQ(-EBADF, ksync_wait_any(ops, 2, &dl));
	EXPECT_EQ(1, ksync_sem_value(b));
	ksync_sem_close(b);
}

/*
 * A ready ACQUIRE, then one semaphore through two handles: -EINVAL, and
 * the permit stays.  The same call with an fd (the module decides it at
 * once) is refused the same way.
 */
TEST(one_object_through_two_handles)
{
	const char *name = test_name("twice");
	ksync_sem_t *a, *b, *b2;
	struct ksync_op ops[4];
	struct timespec dl = ksync_deadline_ms(DEADLINE_MS);
	int efd = eventfd(0, EFD_CLOEXEC);

	ASSERT_LE(0, efd);
	ASSERT_EQ(0, ksync_sem_open(&a, NULL, 0, 0600, 1));
	ASSERT_EQ(0, ksync_sem_open(&b, name, KSYNC_CREATE | KSYNC_EXCL, 0600, 1));
	ASSERT_EQ(0, ksync_sem_open(&b2, name, 0, 0, 0));
	ops[0] = acquire(a, 1);
	ops[1] = acquire(b, 1);
	ops[2] = acquire(b2, 1);
	EXPECT_EQ(-EINVAL, ksync_wait_any(ops, 3, &dl));
	EXPECT_EQ(1, ksync_sem_value(a));
	EXPECT_EQ(1, ksync_sem_value(b));
	ops[3] = fd_op(efd);
	EXPECT_EQ(-EINVAL, ksync_wait_any(ops, 4, &dl));
	EXPECT_EQ(1, ksync_sem_value(a));
	/* one handle each: the first op completes */
	EXPECT_EQ(0, ksync_wait_any(ops, 2, &dl));
	EXPECT_EQ(0, ksync_sem_value(a));
	EXPECT_EQ(1, ksync_sem_value(b));
	ksync_sem_close(a);
	ksync_sem_close(b);
	ksync_sem_close(b2);
	ksync_unlink(name);
	close(efd);
}

static void on_usr1(int sig)
{
	(void)sig;
}

struct nagger {
	pthread_t target;
	atomic_int stop;
};

/* SIGUSR1 to the target every 50 ms until told to stop: one lands in its wait. */
static void *nag(void *arg)
{
	struct nagger *n = arg;

	while (!atomic_load(&n->stop)) {
		usleep(50000);
		pthread_kill(n->target, SIGUSR1);
	}
	return NULL;
}

/*
 * An fd op on a queue's receive-only fd, opened after the input ended
 * (its own input has not), then a RECV on it: each time the RECV queues,
 * the queue woke its pollers for the end that this fd does not see, the
 * fd op was claimed, found the fd not readable and queued again.  The
 * call must sleep, end at its deadline, and on a signal without one.
 */
TEST(woken_as_it_queues)
{
	const char *name = test_name("selfwake");
	struct sigaction sa = { .sa_handler = on_usr1 };
	struct nagger n = { .target = pthread_self() };
	ksync_queue_t *a, *s, *r;
	struct ksync_op ops[2];
	struct timespec dl, now;
	struct rusage ru0, ru1;
	char buf[8];
	pthread_t t;
	int ret;

	ASSERT_EQ(0, ksync_queue_open(&a, name, KSYNC_CREATE | KSYNC_EXCL, 0600, 4, 8));
	ASSERT_EQ(0, ksync_queue_open(&s, name, KSYNC_QUEUE_SEND, 0, 0, 0));
	ASSERT_EQ(0, ksync_queue_close(s)); /* the input ends */
	ASSERT_EQ(0, ksync_queue_open(&r, name, KSYNC_QUEUE_RECV, 0, 0, 0));
	ops[0] = fd_op(ksync_queue_fd(r));
	ops[1] = (struct ksync_op){ .kind = KSYNC_OP_RECV, .queue = r, .buf = buf, .len = 8 };

	/*
	 * And it sleeps: the queue wakes pollers only for an end that one of
	 * them sees (it woke this one each round, and the wait went round a
	 * tick apart, 75 times in 300 ms).
	 */
	ASSERT_EQ(0, getrusage(RUSAGE_THREAD, &ru0));
	dl = ksync_deadline_ms(300);
	EXPECT_EQ(-ETIMEDOUT, ksync_wait_any(ops, 2, &dl));
	ASSERT_EQ(0, getrusage(RUSAGE_THREAD, &ru1));
	EXPECT_GT(10, ru1.ru_nvcsw - ru0.ru_nvcsw);
	clock_gettime(CLOCK_MONOTONIC, &now);
	EXPECT_TRUE(now.tv_sec > dl.tv_sec ||
		    (now.tv_sec == dl.tv_sec && now.tv_nsec >= dl.tv_nsec));

	ASSERT_EQ(0, sigaction(SIGUSR1, &sa, NULL)); /* no SA_RESTART */
	ASSERT_EQ(0, pthread_create(&t, NULL, nag, &n));
	ret = ksync_wait_any(ops, 2, NULL);
	atomic_store(&n.stop, 1);
	pthread_join(t, NULL);
	EXPECT_EQ(-EINTR, ret);

	ksync_queue_close(r);
	ksync_queue_close(a);
	ksync_unlink(name);
}

/*
 * A call that goes to the module takes it through an object's fd: it opens
 * nothing, so it works in a process out of fds (the library opened
 * /dev/ksync per call, and such a call failed with -EMFILE).
 */
TEST(no_fd_needed)
{
	struct timespec dl = ksync_deadline_ms(20);
	struct rlimit old, none;
	ksync_sem_t *a;
	struct ksync_op op;
	int ret, spare;

	ASSERT_EQ(0, ksync_sem_open(&a, NULL, 0, 0600, 0));
	op = acquire(a, 1);
	ASSERT_EQ(0, getrlimit(RLIMIT_NOFILE, &old));
	spare = dup(0);
	ASSERT_LE(0, spare);
	close(spare);
	none = old;
	/* the lowest free fd is the limit: no fd can be made */
	none.rlim_cur = (rlim_t)spare;
	ASSERT_EQ(0, setrlimit(RLIMIT_NOFILE, &none));
	ASSERT_EQ(-1, dup(0));
	ret = ksync_wait_any(&op, 1, &dl);
	ASSERT_EQ(0, setrlimit(RLIMIT_NOFILE, &old));
	EXPECT_EQ(-ETIMEDOUT, ret);
	ksync_sem_close(a);
}

/* A ready ACQUIRE, then a SEND too long and one on a handle that may not send. */
TEST(fast_path_completes_before_emsgsize_or_ebadf)
{
	struct timespec dl = ksync_deadline_ms(DEADLINE_MS);
	ksync_queue_t *q, *rd;
	struct ksync_op ops[2];
	ksync_sem_t *b;

	ASSERT_EQ(0, ksync_sem_open(&b, NULL, 0, 0600, 1));
	ASSERT_EQ(0, ksync_queue_open(&q, NULL, 0, 0600, 4, 8));
	ASSERT_EQ(0, ksync_queue_reopen(&rd, q, KSYNC_QUEUE_RECV));
	ops[0] = acquire(b, 1);
	ops[1] = send_op(q, "123456789", 9);
	EXPECT_EQ(-EMSGSIZE, ksync_wait_any(ops, 2, &dl));
	ops[1] = send_op(rd, "1", 1);
	EXPECT_EQ(-EBADF, ksync_wait_any(ops, 2, &dl));
	EXPECT_EQ(1, ksync_sem_value(b));
	EXPECT_EQ(0, (int)ksync_queue_len(q));
	ksync_queue_close(rd);
	ksync_queue_close(q);
	ksync_sem_close(b);
}

/* A ready ACQUIRE, then an ACQUIRE above a semaphore's maximum: -ERANGE. */
TEST(fast_path_completes_before_erange)
{
	ksync_sem_t *b, *small;
	struct ksync_op ops[2];
	struct timespec dl = ksync_deadline_ms(DEADLINE_MS);

	ASSERT_EQ(0, ksync_sem_open(&b, NULL, 0, 0600, 1));
	ASSERT_EQ(0, ksync_sem_open_max(&small, NULL, 0, 0600, 1, 1));
	ops[0] = acquire(b, 1);
	ops[1] = acquire(small, 2);
	EXPECT_EQ(-ERANGE, ksync_wait_any(ops, 2, &dl));
	EXPECT_EQ(1, ksync_sem_value(b));
	ksync_sem_close(b);
	ksync_sem_close(small);
}

/*
 * A call refused by a later op's op_init (-ERANGE) has joined its SEND's
 * handle to the senders: closing it ends the input for a receiver, which
 * without the failed call would still be waiting.
 */
TEST(failed_call_joined_the_senders)
{
	int efd = eventfd(0, EFD_CLOEXEC);
	ksync_queue_t *q, *rd;
	ksync_sem_t *small;
	struct ksync_op ops[3];
	struct timespec dl = ksync_deadline_ms(DEADLINE_MS);
	struct timespec soon = ksync_deadline_ms(300);
	char buf[64];

	ASSERT_LE(0, efd);
	ASSERT_EQ(0, ksync_queue_open(&q, NULL, 0, 0600, 4, 64));
	ASSERT_EQ(0, ksync_queue_reopen(&rd, q, KSYNC_QUEUE_RECV));
	ASSERT_EQ(0, ksync_sem_open_max(&small, NULL, 0, 0600, 1, 1));
	ops[0] = fd_op(efd); /* the module decides */
	ops[1] = send_op(q, "x", 1);
	ops[2] = acquire(small, 2);
	ASSERT_EQ(-ERANGE, ksync_wait_any(ops, 3, &dl));
	ASSERT_EQ(0, ksync_queue_close(q));
	/* nothing was sent, no sender joined: the receiver waits on */
	EXPECT_EQ(-ETIMEDOUT, ksync_queue_recv(rd, buf, sizeof(buf), &soon));
	ksync_queue_close(rd);
	ksync_sem_close(small);
	close(efd);
}

/*
 * The selector sleeps on an eventfd; a writer wakes it and goes on
 * writing: a wake between the selector's re-arm and fd_consume() claims
 * the waiter a second time.
 */
TEST(fd_entry_reclaimed_after_rearm)
{
	int efd = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
	long iters = env_long("KSYNC_REVIEW_ITERS", 3000);
	_Atomic int *stop =
		mmap(NULL, 4096, PROT_READ | PROT_WRITE, MAP_SHARED | MAP_ANONYMOUS, -1, 0);
	pid_t writer;
	uint64_t v;

	ASSERT_LE(0, efd);
	ASSERT_NE(MAP_FAILED, stop);
	writer = fork();
	ASSERT_LE(0, writer);
	if (writer == 0) {
		uint64_t one = 1;

		pin_to_cpu(1);
		while (!atomic_load(stop)) {
			/* a burst of wakes, then a pause for the selector to sleep */
			for (int i = 0; i < 64; i++)
				if (write(efd, &one, sizeof(one)) != sizeof(one))
					_exit(1);
			pause_us(200);
		}
		_exit(0);
	}
	pin_to_cpu(0);
	/* as many as fit in 10 s: the debug kernel is slow */
	for (long i = 0, end = now_ns() + 10000000000LL; i < iters && now_ns() < end; i++) {
		struct ksync_op op = fd_op(efd);
		struct timespec dl = ksync_deadline_ms(DEADLINE_MS);

		while (read(efd, &v, sizeof(v)) == sizeof(v))
			;
		ASSERT_EQ(0, ksync_wait_any(&op, 1, &dl));
	}
	atomic_store(stop, 1);
	ASSERT_EQ(0, wait_child(writer, 10000));
	close(efd);
}

TEST_HARNESS_MAIN
