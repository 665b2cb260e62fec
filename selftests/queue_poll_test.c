// SPDX-License-Identifier: GPL-2.0
/*
 * poll and epoll on a queue: EPOLLIN when a receive would succeed now,
 * EPOLLOUT when a send would, FIFO included (a sleeper ahead means not
 * ready), EPOLLHUP once shut down (with EPOLLIN once drained); level- and
 * edge-triggered, with the other side working on the ring, unseen by the
 * kernel until a poller arms it.
 */
#include <sys/epoll.h>

#include "queue.h"
#include "kselftest_harness.h"

FIXTURE(qpoll)
{
	ksync_queue_t *q; /* polled */
	ksync_queue_t *other; /* another open file: the ring's other users */
	int fd;
};

FIXTURE_SETUP(qpoll)
{
	const char *name = test_name("q-poll");

	ASSERT_EQ(0,
		  ksync_queue_open(&self->q, name, KSYNC_CREATE | KSYNC_QUEUE_NOEOF, 0600, 2, 8));
	ASSERT_EQ(0, ksync_queue_open(&self->other, name, 0, 0, 0, 0));
	ASSERT_EQ(0, ksync_unlink(name));
	self->fd = ksync_queue_fd(self->q);
}

FIXTURE_TEARDOWN(qpoll)
{
	ksync_queue_close(self->q);
	ksync_queue_close(self->other);
}

static int events(int fd, short want, int ms)
{
	struct pollfd p = { .fd = fd, .events = want };

	return poll(&p, 1, ms) < 0 ? -errno : p.revents;
}

/* An epoll instance watching fd for want; -errno on failure. */
static int watch(int fd, uint32_t want)
{
	struct epoll_event ev = { .events = want };
	int ep = epoll_create1(EPOLL_CLOEXEC);

	if (ep < 0 || epoll_ctl(ep, EPOLL_CTL_ADD, fd, &ev))
		return -errno;
	return ep;
}

/* The events epoll reports within ms (0 if none). */
static int epoll_events(int ep, int ms)
{
	struct epoll_event ev;
	int n = epoll_wait(ep, &ev, 1, ms);

	return n < 0 ? -errno : n ? (int)ev.events : 0;
}

/* A child asleep in epoll_wait on ep; exits with the events it got (or 0). */
static pid_t sleeping_poller(int ep, int ms)
{
	pid_t pid = fork();

	if (pid == 0)
		_exit(epoll_events(ep, ms) & 0xff);
	return pid;
}

TEST_F(qpoll, readable_and_writable_as_operations_would_find_it)
{
	char buf[8];

	ASSERT_EQ(POLLOUT, events(self->fd, POLLIN | POLLOUT, 0));
	ASSERT_EQ(0, ksync_queue_send(self->other, "a", 1, NULL));
	ASSERT_EQ(POLLIN | POLLOUT, events(self->fd, POLLIN | POLLOUT, 0));
	ASSERT_EQ(0, ksync_queue_send(self->other, "b", 1, NULL));
	ASSERT_EQ(POLLIN, events(self->fd, POLLIN | POLLOUT, 0));
	ASSERT_EQ(1, ksync_queue_recv(self->other, buf, sizeof(buf), NULL));
	ASSERT_EQ(1, ksync_queue_recv(self->other, buf, sizeof(buf), NULL));
	ASSERT_EQ(POLLOUT, events(self->fd, POLLIN | POLLOUT, 0));
	ASSERT_EQ(0, events(self->fd, POLLIN, 0));
}

TEST_F(qpoll, level_triggered)
{
	int ep = watch(self->fd, EPOLLIN);
	char buf[8];

	ASSERT_LE(0, ep);
	ASSERT_EQ(0, epoll_events(ep, 0));
	/* sent on the ring, by another file: epoll learns of it */
	ASSERT_EQ(0, ksync_queue_send(self->other, "a", 1, NULL));
	ASSERT_EQ(EPOLLIN, epoll_events(ep, 1000));
	ASSERT_EQ(EPOLLIN, epoll_events(ep, 0));
	ASSERT_EQ(1, ksync_queue_recv(self->q, buf, sizeof(buf), NULL));
	ASSERT_EQ(0, epoll_events(ep, 0));
	close(ep);
}

TEST_F(qpoll, edge_triggered_drains)
{
	int ep = watch(self->fd, EPOLLIN | EPOLLET);
	struct iovec v[2];
	char buf[2][8];

	ASSERT_LE(0, ep);
	for (int round = 0; round < 3; round++) {
		ASSERT_EQ(0, epoll_events(ep, 0));
		ASSERT_EQ(0, ksync_queue_send(self->other, "a", 1, NULL));
		ASSERT_EQ(EPOLLIN, epoll_events(ep, 1000));
		/* one edge, one report */
		ASSERT_EQ(0, epoll_events(ep, 0));
		/* drain to -EAGAIN, with a batch one round, singly the next */
		if (round == 1) {
			v[0] = (struct iovec){ buf[0], 8 };
			v[1] = (struct iovec){ buf[1], 8 };
			ASSERT_EQ(1, ksync_queue_recv_batch(self->q, v, 2,
							    &(struct timespec){ 0, 0 }));
			ASSERT_EQ(-EAGAIN, ksync_queue_recv_batch(self->q, v, 2,
								  &(struct timespec){ 0, 0 }));
		} else {
			ASSERT_EQ(1, ksync_queue_try_recv(self->q, buf[0], 8));
			ASSERT_EQ(-EAGAIN, ksync_queue_try_recv(self->q, buf[0], 8));
		}
	}
	close(ep);
}

TEST_F(qpoll, edge_triggered_writable)
{
	int ep = watch(self->fd, EPOLLOUT | EPOLLET);
	char buf[8];

	ASSERT_LE(0, ep);
	ASSERT_EQ(EPOLLOUT, epoll_events(ep, 0));
	ASSERT_EQ(0, ksync_queue_try_send(self->q, "a", 1));
	ASSERT_EQ(0, ksync_queue_try_send(self->q, "b", 1));
	ASSERT_EQ(-EAGAIN, ksync_queue_try_send(self->q, "c", 1));
	ASSERT_EQ(0, epoll_events(ep, 0));
	/* a slot freed on the ring by another file */
	ASSERT_EQ(1, ksync_queue_recv(self->other, buf, sizeof(buf), NULL));
	ASSERT_EQ(EPOLLOUT, epoll_events(ep, 1000));
	close(ep);
}

TEST_F(qpoll, sleeping_poller_wakes)
{
	int ep = watch(self->fd, EPOLLIN);
	pid_t pid;

	ASSERT_LE(0, ep);
	pid = sleeping_poller(ep, 20000);
	ASSERT_TRUE(wait_sleeping(pid, 10000));
	ASSERT_EQ(0, ksync_queue_send(self->other, "a", 1, NULL));
	ASSERT_EQ(EPOLLIN, wait_child(pid, 10000));
	close(ep);
}

TEST_F(qpoll, a_sleeping_receiver_comes_first)
{
	int ep = watch(self->fd, EPOLLIN);
	pid_t r, p;

	ASSERT_LE(0, ep);
	r = fork();
	ASSERT_LE(0, r);
	if (r == 0) {
		struct timespec dl = in_ms(20000);
		char c;

		_exit(ksync_queue_recv(self->other, &c, 1, &dl) == 1 ? 0 : 1);
	}
	ASSERT_TRUE(wait_queue_sleepers(self->q, 1, 1, 10000));
	p = sleeping_poller(ep, 500);
	ASSERT_TRUE(wait_sleeping(p, 10000));
	/* the message is the sleeper's: not readable for the poller */
	ASSERT_EQ(0, ksync_queue_send(self->other, "a", 1, NULL));
	ASSERT_EQ(0, wait_child(r, 10000));
	ASSERT_EQ(0, wait_child(p, 10000));
	ASSERT_EQ(0, events(self->fd, POLLIN, 0));
	/* the next one is nobody's */
	ASSERT_EQ(0, ksync_queue_send(self->other, "b", 1, NULL));
	ASSERT_EQ(POLLIN, events(self->fd, POLLIN, 0));
	close(ep);
}

TEST_F(qpoll, hangup_on_shutdown)
{
	int ep = watch(self->fd, EPOLLIN | EPOLLET);
	char buf[8];
	pid_t pid;

	ASSERT_LE(0, ep);
	ASSERT_EQ(0, ksync_queue_send(self->other, "a", 1, NULL));
	ASSERT_EQ(EPOLLIN, epoll_events(ep, 1000));
	ASSERT_EQ(1, ksync_queue_try_recv(self->q, buf, sizeof(buf)));
	ASSERT_EQ(-EAGAIN, ksync_queue_try_recv(self->q, buf, sizeof(buf)));
	pid = sleeping_poller(ep, 20000);
	ASSERT_TRUE(wait_sleeping(pid, 10000));
	ASSERT_EQ(0, ksync_queue_send(self->other, "b", 1, NULL));
	ASSERT_EQ(EPOLLIN, wait_child(pid, 10000));
	/* shut down with "b" still queued: readable, and hung up */
	ASSERT_EQ(0, ksync_queue_shutdown(self->other));
	ASSERT_EQ(POLLIN | POLLHUP, events(self->fd, POLLIN | POLLOUT, 0));
	ASSERT_EQ(1, ksync_queue_recv(self->q, buf, sizeof(buf), NULL));
	/* drained: a receive returns at once (-EPIPE), so still readable */
	ASSERT_EQ(POLLIN | POLLHUP, events(self->fd, POLLIN | POLLOUT, 0));
	ASSERT_EQ(-EPIPE, ksync_queue_try_recv(self->q, buf, sizeof(buf)));
	close(ep);
}

TEST_F(qpoll, shutdown_wakes_a_sleeping_writer_poller)
{
	int ep = watch(self->fd, EPOLLOUT);
	pid_t pid;

	ASSERT_LE(0, ep);
	ASSERT_EQ(0, ksync_queue_send(self->other, "a", 1, NULL));
	ASSERT_EQ(0, ksync_queue_send(self->other, "b", 1, NULL));
	pid = sleeping_poller(ep, 20000);
	ASSERT_TRUE(wait_sleeping(pid, 10000));
	ASSERT_EQ(0, ksync_queue_shutdown(self->other));
	ASSERT_EQ(EPOLLHUP, wait_child(pid, 10000));
	close(ep);
}

TEST_HARNESS_MAIN
