// SPDX-License-Identifier: GPL-2.0
/*
 * Exercise 6: a select that waits for room.  See docs/teaching.md: a new
 * kind of operation for KSYNC_IOC_WAIT_ANY, KSYNC_OP_WRITABLE (5), which
 * completes when its fd is writable (EPOLLOUT, or EPOLLERR), taking
 * nothing, as KSYNC_OP_FD does for readable.  Called through the ioctl
 * itself: the library need not know the new kind.
 */
#include <sys/wait.h>

#include "../common.h"
#include "kselftest_harness.h"

#ifndef KSYNC_OP_WRITABLE
#define KSYNC_OP_WRITABLE 5
#endif

/* One select through the ioctl: the index, or -errno. */
static int wait_any(struct ksync_wait_op *ops, unsigned int n, long ms)
{
	struct timespec dl = ksync_deadline_ms(ms);
	struct ksync_wait_any_args a = {
		.size = sizeof(a),
		.flags = KSYNC_WAIT_DEADLINE,
		.deadline = (uint64_t)dl.tv_sec * 1000000000ULL + (uint64_t)dl.tv_nsec,
		.ops = (uintptr_t)ops,
		.count = n,
		.op_size = sizeof(ops[0]),
	};
	int dev = open("/dev/ksync", O_RDWR | O_CLOEXEC), ret;

	if (dev < 0)
		return -errno;
	ret = ioctl(dev, KSYNC_IOC_WAIT_ANY, &a);
	ret = ret < 0 ? -errno : ret;
	close(dev);
	return ret;
}

static struct ksync_wait_op op(int kind, int fd)
{
	return (struct ksync_wait_op){ .kind = (uint32_t)kind, .fd = fd };
}

FIXTURE(room)
{
	int p[2];
};

FIXTURE_SETUP(room)
{
	ASSERT_EQ(0, pipe2(self->p, O_CLOEXEC | O_NONBLOCK));
}

FIXTURE_TEARDOWN(room)
{
	close(self->p[0]);
	close(self->p[1]);
}

/* Fill the pipe: writes until it would block. */
static void fill(int fd)
{
	char buf[4096] = { 0 };

	while (write(fd, buf, sizeof(buf)) > 0)
		;
}

TEST_F(room, a_pipe_with_room_completes_at_once)
{
	struct ksync_wait_op ops[1] = { op(KSYNC_OP_WRITABLE, self->p[1]) };

	ASSERT_EQ(0, wait_any(ops, 1, 10000));
	ASSERT_EQ(0, ops[0].result);
}

/* Full: it waits; a reader makes room, and the select ends. */
TEST_F(room, a_full_pipe_waits_for_a_reader)
{
	struct ksync_wait_op ops[1] = { op(KSYNC_OP_WRITABLE, self->p[1]) };
	pid_t parent = getpid(), pid;

	fill(self->p[1]);
	ASSERT_EQ(-ETIMEDOUT, wait_any(ops, 1, 100));
	pid = fork();
	if (pid == 0) {
		char buf[65536];

		if (!wait_sleeping(parent, 10000))
			_exit(10);
		_exit(read(self->p[0], buf, sizeof(buf)) > 0 ? 0 : 11);
	}
	ASSERT_LT(0, pid);
	ASSERT_EQ(0, wait_any(ops, 1, 10000));
	ASSERT_EQ(0, wait_child(pid, 10000));
}

/* A read end is never writable; and the readable kind keeps working. */
TEST_F(room, readable_and_writable_are_told_apart)
{
	struct ksync_wait_op ops[2] = { op(KSYNC_OP_WRITABLE, self->p[0]),
					op(KSYNC_OP_FD, self->p[0]) };

	ASSERT_EQ(-ETIMEDOUT, wait_any(ops, 2, 100));
	ASSERT_EQ(1, write(self->p[1], "x", 1));
	ASSERT_EQ(1, wait_any(ops, 2, 10000));
	/* writable first in the list, and the write end has room: it wins */
	ops[0] = op(KSYNC_OP_WRITABLE, self->p[1]);
	ASSERT_EQ(0, wait_any(ops, 2, 10000));
}

TEST_HARNESS_MAIN
