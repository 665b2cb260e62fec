// SPDX-License-Identifier: GPL-2.0
/*
 * Queue handles with a send role, a receive role or both, as mq_open's
 * O_WRONLY, O_RDONLY and O_RDWR: checked against the mode at open,
 * enforced by the module and the library, polled for their own role, and
 * unmappable for an opener the mode allows only one role.
 */
#include <sys/mman.h>

#include "kselftest_harness.h"
#include "common.h"

#define OTHER 65534 /* nobody */

static unsigned int queue_mode(ksync_queue_t *q)
{
	struct ksync_info info;

	return ioctl(ksync_queue_fd(q), KSYNC_IOC_INFO, &info) ? 0 : info.mode;
}

static ksync_queue_t *open_as(const char *name, int flags)
{
	ksync_queue_t *q = NULL;

	return ksync_queue_open(&q, name, flags, 0, 0, 0) ? NULL : q;
}

/* In a child as another user: the results of a few opens and operations. */
struct as_other {
	const char *name;
	int open_send, open_recv, open_both;
	int sent, shut, mapped, received;
};

static int other_user(void *arg)
{
	struct as_other *a = arg;
	ksync_queue_t *q;
	struct ksync_queue_info info;
	void *p;

	a->open_both = ksync_queue_open(&q, a->name, 0, 0, 0, 0);
	if (!a->open_both)
		ksync_queue_close(q);
	a->open_recv = ksync_queue_open(&q, a->name, KSYNC_QUEUE_RECV, 0, 0, 0);
	if (!a->open_recv) {
		char c;

		a->received = (int)ksync_queue_try_recv(q, &c, 1);
		ksync_queue_close(q);
	}
	a->open_send = ksync_queue_open(&q, a->name, KSYNC_QUEUE_SEND, 0, 0, 0);
	if (!a->open_send) {
		a->sent = ksync_queue_try_send(q, "o", 1);
		a->shut = ksync_queue_shutdown(q);
		/* the ring would let it read: no mapping for it */
		a->mapped = ioctl(ksync_queue_fd(q), KSYNC_IOC_QUEUE_INFO, &info) ? -errno : 0;
		if (!a->mapped) {
			p = mmap(NULL, info.map_size, PROT_READ, MAP_SHARED, ksync_queue_fd(q), 0);
			a->mapped = p == MAP_FAILED ? -errno : 0;
		}
		ksync_queue_close(q);
	}
	return 0;
}

/*
 * A log queue: every user may send (mode 0622), only the owner reads.
 * Another user may open it to send, through the module alone, and not to
 * receive, map or shut it down.
 */
TEST(write_only_for_others)
{
	static struct as_other *a;
	const char *name = test_name("roles");
	ksync_queue_t *q;
	char c;

	if (geteuid())
		SKIP(return, "needs root to act as another user");
	a = mmap(NULL, sizeof(*a), PROT_READ | PROT_WRITE, MAP_SHARED | MAP_ANONYMOUS, -1, 0);
	ASSERT_NE(MAP_FAILED, a);
	umask(0);
	ASSERT_EQ(0, ksync_queue_open(&q, name, KSYNC_CREATE | KSYNC_QUEUE_RECV, 0622, 4, 8));
	a->name = name;
	ASSERT_EQ(0, as_user(OTHER, OTHER, other_user, a));
	EXPECT_EQ(-EACCES, a->open_both);
	EXPECT_EQ(-EACCES, a->open_recv);
	EXPECT_EQ(0622, (int)queue_mode(q));
	EXPECT_EQ(0, a->open_send);
	EXPECT_EQ(0, a->sent);
	EXPECT_EQ(-EACCES, a->shut);
	EXPECT_EQ(-EACCES, a->mapped);
	EXPECT_EQ(1, ksync_queue_try_recv(q, &c, 1));
	EXPECT_EQ('o', c);
	ksync_queue_close(q);
	ksync_unlink(name);
	munmap(a, sizeof(*a));
}

/* Read-only for others (0644): receive yes, send and map no. */
TEST(read_only_for_others)
{
	static struct as_other *a;
	const char *name = test_name("roles");
	ksync_queue_t *q;

	if (geteuid())
		SKIP(return, "needs root to act as another user");
	a = mmap(NULL, sizeof(*a), PROT_READ | PROT_WRITE, MAP_SHARED | MAP_ANONYMOUS, -1, 0);
	ASSERT_NE(MAP_FAILED, a);
	umask(0);
	ASSERT_EQ(0, ksync_queue_open(&q, name, KSYNC_CREATE, 0644, 4, 8));
	ASSERT_EQ(0, ksync_queue_send(q, "m", 1, NULL));
	a->name = name;
	ASSERT_EQ(0, as_user(OTHER, OTHER, other_user, a));
	EXPECT_EQ(-EACCES, a->open_both);
	EXPECT_EQ(0, a->open_recv);
	EXPECT_EQ(1, a->received);
	EXPECT_EQ(-EACCES, a->open_send);
	ksync_queue_close(q);
	ksync_unlink(name);
	munmap(a, sizeof(*a));
}

/* Each role does its own operations only, in the library and in the module. */
TEST(each_role_its_own_operations)
{
	const char *name = test_name("roles");
	ksync_queue_t *both, *tx, *rx, *ktx;
	struct ksync_queue_xfer x = { .size = sizeof(x), .count = 1 };
	struct ksync_queue_msg m = { 0, 1 };
	struct ksync_queue_join j = { .size = sizeof(j) };
	struct ksync_info info;
	char c = 'x';

	ASSERT_EQ(0, ksync_queue_open(&both, name, KSYNC_CREATE, 0600, 4, 8));
	ASSERT_NE(NULL, tx = open_as(name, KSYNC_QUEUE_SEND));
	ASSERT_NE(NULL, rx = open_as(name, KSYNC_QUEUE_RECV));
	ASSERT_NE(NULL, ktx = open_as(name, KSYNC_QUEUE_SEND | KSYNC_QUEUE_KERNEL));
	ASSERT_EQ(0, ioctl(ksync_queue_fd(rx), KSYNC_IOC_INFO, &info));
	EXPECT_EQ(KSYNC_OPEN_RECV, (int)info.flags);
	ASSERT_EQ(0, ioctl(ksync_queue_fd(both), KSYNC_IOC_INFO, &info));
	EXPECT_EQ(KSYNC_OPEN_SEND | KSYNC_OPEN_RECV, (int)info.flags);

	EXPECT_EQ(-EBADF, ksync_queue_try_send(rx, &c, 1));
	EXPECT_EQ(-EBADF, ksync_queue_send_batch(rx, &(struct iovec){ &c, 1 }, 1, NULL));
	EXPECT_EQ(-EBADF, ksync_queue_join(rx));
	EXPECT_EQ(-EBADF, ksync_queue_shutdown(rx));
	EXPECT_EQ(-EBADF, ksync_queue_try_recv(tx, &c, 1));
	EXPECT_EQ(-EBADF, ksync_queue_recv_batch(tx, &(struct iovec){ &c, 1 }, 1, NULL));
	/* the module refuses too, whatever a library does */
	m.base = (uintptr_t)&c;
	x.msgs = (uintptr_t)&m;
	EXPECT_EQ(-1, ioctl(ksync_queue_fd(rx), KSYNC_IOC_QUEUE_SEND, &x));
	EXPECT_EQ(EBADF, errno);
	EXPECT_EQ(-1, ioctl(ksync_queue_fd(ktx), KSYNC_IOC_QUEUE_RECV, &x));
	EXPECT_EQ(EBADF, errno);
	EXPECT_EQ(-1, ioctl(ksync_queue_fd(rx), KSYNC_IOC_QUEUE_JOIN, &j));
	EXPECT_EQ(EBADF, errno);

	EXPECT_EQ(0, ksync_queue_try_send(tx, "a", 1));
	EXPECT_EQ(0, ksync_queue_try_send(ktx, "b", 1));
	EXPECT_EQ(1, ksync_queue_try_recv(rx, &c, 1));
	EXPECT_EQ('a', c);
	EXPECT_EQ(1, ksync_queue_try_recv(rx, &c, 1));
	EXPECT_EQ('b', c);
	ksync_queue_close(ktx);
	ksync_queue_close(rx);
	ksync_queue_close(tx);
	ksync_queue_close(both);
	ksync_unlink(name);
}

/* Polled for its role: a send end is never readable, a receive end never writable. */
TEST(poll_per_role)
{
	ksync_queue_t *ends[2];
	struct pollfd p[2];

	ASSERT_EQ(0, ksync_queue_pipe(ends, 2, 8, 0));
	ASSERT_EQ(0, ksync_queue_try_send(ends[1], "a", 1));
	p[0] = (struct pollfd){ ksync_queue_fd(ends[0]), POLLIN | POLLOUT, 0 };
	p[1] = (struct pollfd){ ksync_queue_fd(ends[1]), POLLIN | POLLOUT, 0 };
	ASSERT_EQ(2, poll(p, 2, 0));
	EXPECT_EQ(POLLIN, p[0].revents);
	EXPECT_EQ(POLLOUT, p[1].revents);
	/* the send end gone: the receive end hangs up once drained */
	ksync_queue_close(ends[1]);
	ASSERT_EQ(1, poll(p, 1, 0));
	EXPECT_EQ(POLLIN | POLLHUP, p[0].revents);
	ksync_queue_close(ends[0]);
}

/* reopen gives some of a handle's roles, never more. */
TEST(reopen_never_adds_a_role)
{
	ksync_queue_t *q, *rx, *again;

	ASSERT_EQ(0, ksync_queue_open(&q, NULL, 0, 0600, 2, 8));
	ASSERT_EQ(0, ksync_queue_reopen(&rx, q, KSYNC_QUEUE_RECV));
	EXPECT_EQ(-EACCES, ksync_queue_reopen(&again, rx, KSYNC_QUEUE_SEND));
	EXPECT_EQ(-EACCES, ksync_queue_reopen(&again, rx, KSYNC_QUEUE_SEND | KSYNC_QUEUE_RECV));
	ASSERT_EQ(0, ksync_queue_reopen(&again, rx, 0));
	EXPECT_EQ(-EBADF, ksync_queue_try_send(again, "a", 1));
	ksync_queue_close(again);
	EXPECT_EQ(-EINVAL, ksync_queue_reopen(&again, rx, KSYNC_QUEUE_NOEOF));
	ksync_queue_close(rx);
	ksync_queue_close(q);
}

TEST_HARNESS_MAIN
