// SPDX-License-Identifier: GPL-2.0
/*
 * Exercise 4: make queues named "/k-..." kernel-only.
 * See docs/teaching.md: a queue whose name starts with "/k-" is
 * kernel-only for everyone: each of its fds behaves as if opened with
 * KSYNC_OPEN_KERNEL (no ring to map), whatever the caller asked for.
 * Other names keep the caller's choice.
 */
#include <sys/mman.h>

#include "../common.h"
#include "../raw.h"
#include "kselftest_harness.h"

static int open_queue(const char *name, uint32_t flags)
{
	struct ksync_open_args a = {
		.size = sizeof(a),
		.type = KSYNC_TYPE_QUEUE,
		.flags = KSYNC_OPEN_CREATE | KSYNC_OPEN_CLOEXEC | flags,
		.mode = 0600,
		.name = (uintptr_t)name,
		.queue = { .capacity = 4, .msg_size = 8 },
	};

	return ksync_dev_ioctl(KSYNC_IOC_OPEN, &a);
}

static uint32_t fd_flags(int fd)
{
	struct ksync_info info;

	return ioctl(fd, KSYNC_IOC_INFO, &info) ? ~0U : info.flags;
}

/* Whether the queue's memory (all of it, as mmap wants) maps through fd. */
static int maps(int fd)
{
	struct ksync_queue_info info;
	void *p;

	if (ioctl(fd, KSYNC_IOC_QUEUE_INFO, &info))
		return -1;
	p = mmap(NULL, info.map_size, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
	if (p == MAP_FAILED)
		return 0;
	munmap(p, info.map_size);
	return 1;
}

TEST(k_names_are_kernel_only)
{
	char name[64];
	int fd;

	snprintf(name, sizeof(name), "/k-ex4-%d", (int)getpid());
	fd = open_queue(name, 0);
	ASSERT_LE(0, fd);
	ASSERT_EQ((uint32_t)KSYNC_OPEN_KERNEL, fd_flags(fd) & KSYNC_OPEN_KERNEL);
	ASSERT_EQ(0, maps(fd));
	close(fd);
	/* and a second opener too */
	fd = open_queue(name, 0);
	ASSERT_LE(0, fd);
	ASSERT_EQ((uint32_t)KSYNC_OPEN_KERNEL, fd_flags(fd) & KSYNC_OPEN_KERNEL);
	close(fd);
	ASSERT_EQ(0, ksync_unlink(name));
}

TEST(other_names_keep_the_callers_choice)
{
	char name[64];
	int fd;

	snprintf(name, sizeof(name), "/ex4-%d", (int)getpid());
	fd = open_queue(name, 0);
	ASSERT_LE(0, fd);
	ASSERT_EQ(0u, fd_flags(fd) & KSYNC_OPEN_KERNEL);
	ASSERT_EQ(1, maps(fd));
	close(fd);
	fd = open_queue(name, KSYNC_OPEN_KERNEL);
	ASSERT_LE(0, fd);
	ASSERT_EQ((uint32_t)KSYNC_OPEN_KERNEL, fd_flags(fd) & KSYNC_OPEN_KERNEL);
	close(fd);
	ASSERT_EQ(0, ksync_unlink(name));
}

/* Messages still flow through a "/k-" queue, all through the module. */
TEST(k_queues_work)
{
	ksync_queue_t *q;
	char name[64], buf[8];

	snprintf(name, sizeof(name), "/k-ex4w-%d", (int)getpid());
	ASSERT_EQ(0, ksync_queue_open(&q, name, KSYNC_CREATE | KSYNC_QUEUE_KERNEL, 0600, 4, 8));
	ASSERT_EQ(0, ksync_queue_send(q, "hi", 2, NULL));
	ASSERT_EQ(2, ksync_queue_recv(q, buf, sizeof(buf), NULL));
	ksync_queue_close(q);
	ASSERT_EQ(0, ksync_unlink(name));
}

TEST_HARNESS_MAIN
