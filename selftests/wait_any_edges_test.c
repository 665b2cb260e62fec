// SPDX-License-Identifier: GPL-2.0
/*
 * ksync_wait_any() at its edges, each found by review, each failing on
 * the code before its fix:
 *
 *  - the library's fast path must not complete an op before a later op
 *    that the call is refused for: the call fails and changes nothing;
 *  - a call refused by a later op has not joined an earlier SEND's handle
 *    to the senders;
 *  - an FD op's entry leaves the file's wait queues before the waiter is
 *    armed again (a second wake claimed it again, into a dead stack
 *    frame: "kernel BUG at lib/list_debug.c" on Debian's stock kernel).
 */
#include <sched.h>
#include <stdatomic.h>
#include <sys/eventfd.h>
#include <sys/mman.h>
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

static void pin(int cpu)
{
	cpu_set_t set;

	CPU_ZERO(&set);
	CPU_SET(cpu, &set);
	sched_setaffinity(0, sizeof(set), &set);
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

		pin(1);
		while (!atomic_load(stop)) {
			/* a burst of wakes, then a pause for the selector to sleep */
			for (int i = 0; i < 64; i++)
				if (write(efd, &one, sizeof(one)) != sizeof(one))
					_exit(1);
			pause_us(200);
		}
		_exit(0);
	}
	pin(0);
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
