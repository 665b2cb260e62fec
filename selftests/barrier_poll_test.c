// SPDX-License-Identifier: GPL-2.0
/*
 * poll and epoll on a barrier: EPOLLIN once the round the open file last
 * arrived in has completed, EPOLLERR if it broke or the barrier is broken.
 * The split-phase use: ksync_barrier_arrive(), then wait in an event loop.
 */
#include <sys/epoll.h>

#include "barrier.h"
#include "kselftest_harness.h"

FIXTURE(bpoll)
{
	const char *name;
	ksync_barrier_t *a; /* polled */
	ksync_barrier_t *b; /* another open file of the same barrier */
	int fd;
};

FIXTURE_SETUP(bpoll)
{
	self->name = strdup(test_name("bar-poll"));
	ASSERT_EQ(0, ksync_barrier_open(&self->a, self->name, KSYNC_CREATE | KSYNC_EXCL, 0600, 2));
	ASSERT_EQ(0, ksync_barrier_open(&self->b, self->name, 0, 0, 0));
	self->fd = ksync_barrier_fd(self->a);
}

FIXTURE_TEARDOWN(bpoll)
{
	ksync_unlink(self->name);
	ksync_barrier_close(self->a);
	ksync_barrier_close(self->b);
}

static int events(int fd, int ms)
{
	struct pollfd p = { .fd = fd, .events = POLLIN };

	return poll(&p, 1, ms) < 0 ? -errno : p.revents;
}

TEST_F(bpoll, nothing_before_the_first_arrival)
{
	ASSERT_EQ(0, events(self->fd, 0));
}

TEST_F(bpoll, readable_once_the_round_completes)
{
	ASSERT_EQ(0, ksync_barrier_arrive(self->a));
	ASSERT_EQ(0, events(self->fd, 0));
	/* completed on the page, by the other file's fast path */
	ASSERT_EQ(1, ksync_barrier_wait(self->b, NULL));
	ASSERT_EQ(POLLIN, events(self->fd, 0));
	/* and it stays so until this file arrives again */
	ASSERT_EQ(POLLIN, events(self->fd, 0));
	ASSERT_EQ(0, ksync_barrier_arrive(self->a));
	ASSERT_EQ(0, events(self->fd, 0));
}

TEST_F(bpoll, serial_arrival_is_readable_at_once)
{
	ASSERT_EQ(0, ksync_barrier_arrive(self->b));
	ASSERT_EQ(1, ksync_barrier_arrive(self->a));
	ASSERT_EQ(POLLIN, events(self->fd, 0));
}

TEST_F(bpoll, error_when_broken)
{
	struct timespec past = { 0, 0 };
	ksync_barrier_t *c;
	int fd_c;

	ASSERT_EQ(0, ksync_barrier_open(&c, self->name, 0, 0, 0));
	fd_c = ksync_barrier_fd(c); /* never arrives */
	ASSERT_EQ(0, ksync_barrier_arrive(self->a));
	/* a reset breaks a's round */
	ASSERT_EQ(0, ksync_barrier_reset(self->b));
	ASSERT_EQ(POLLERR, events(self->fd, 0));
	ASSERT_EQ(0, events(fd_c, 0));
	/* broken now (b timed out alone): every file says so */
	ASSERT_EQ(-ETIMEDOUT, ksync_barrier_wait(self->b, &past));
	ASSERT_EQ(POLLERR, events(fd_c, 0));
	ASSERT_EQ(POLLERR, events(self->fd, 0));
	ASSERT_EQ(0, ksync_barrier_reset(self->b));
	ASSERT_EQ(0, events(fd_c, 0));
	/* a's last round broke, and a has not arrived since */
	ASSERT_EQ(POLLERR, events(self->fd, 0));
	ASSERT_EQ(0, ksync_barrier_arrive(self->a));
	ASSERT_EQ(0, events(self->fd, 0));
	ASSERT_EQ(0, ksync_barrier_close(c));
}

/*
 * A round that broke under a wait through this file (its deadline, alone):
 * the wait said so, and after a reset the fd reports nothing, to poll and
 * to level- and edge-triggered epoll alike, until the file arrives in the
 * new round.  (EPOLLERR cannot be masked: an fd that kept reporting it
 * would make every level-triggered set that holds it spin.)
 */
TEST_F(bpoll, reset_ends_the_error_of_a_round_a_wait_reported)
{
	struct epoll_event lt = { .events = EPOLLIN }, et = { .events = EPOLLIN | EPOLLET }, ev;
	int ep_lt = epoll_create1(EPOLL_CLOEXEC), ep_et = epoll_create1(EPOLL_CLOEXEC);
	struct timespec past = { 0, 0 };

	ASSERT_GE(ep_lt, 0);
	ASSERT_GE(ep_et, 0);
	ASSERT_EQ(0, epoll_ctl(ep_lt, EPOLL_CTL_ADD, self->fd, &lt));
	ASSERT_EQ(0, epoll_ctl(ep_et, EPOLL_CTL_ADD, self->fd, &et));
	ASSERT_EQ(-ETIMEDOUT, ksync_barrier_wait(self->a, &past));
	ASSERT_EQ(POLLERR, events(self->fd, 0));
	ASSERT_EQ(1, epoll_wait(ep_lt, &ev, 1, 0));
	ASSERT_EQ(EPOLLERR, (int)ev.events);
	ASSERT_EQ(1, epoll_wait(ep_et, &ev, 1, 0));
	ASSERT_EQ(EPOLLERR, (int)ev.events);
	ASSERT_EQ(0, ksync_barrier_reset(self->b));
	ASSERT_EQ(0, events(self->fd, 0));
	ASSERT_EQ(0, epoll_wait(ep_lt, &ev, 1, 0));
	ASSERT_EQ(0, epoll_wait(ep_et, &ev, 1, 0));
	/* the new round: nothing while it goes on, then readable */
	ASSERT_EQ(0, ksync_barrier_arrive(self->a));
	ASSERT_EQ(0, events(self->fd, 0));
	ASSERT_EQ(0, epoll_wait(ep_lt, &ev, 1, 0));
	ASSERT_EQ(1, ksync_barrier_wait(self->b, NULL));
	ASSERT_EQ(POLLIN, events(self->fd, 0));
	ASSERT_EQ(1, epoll_wait(ep_et, &ev, 1, 10000));
	ASSERT_EQ(EPOLLIN, (int)ev.events);
	ASSERT_EQ(1, epoll_wait(ep_lt, &ev, 1, 0));
	ASSERT_EQ(EPOLLIN, (int)ev.events);
	close(ep_lt);
	close(ep_et);
}

/* So do a wait that broke the round itself (a handler ran) and a serial arrival. */
TEST_F(bpoll, reset_ends_what_any_wait_reported)
{
	struct ksync_barrier_ctl ctl = { .size = sizeof(ctl) };
	struct ksync_barrier_wait w = { .size = sizeof(w), .flags = KSYNC_BARRIER_NOWAIT };

	/* a arrives on its own through the raw call, then waits for it (ARRIVED) */
	ASSERT_EQ(0, ioctl(self->fd, KSYNC_IOC_BARRIER_WAIT, &w));
	ctl.generation = w.generation;
	ASSERT_EQ(0, ioctl(self->fd, KSYNC_IOC_BARRIER_BREAK, &ctl));
	w.flags = KSYNC_BARRIER_ARRIVED;
	ASSERT_EQ(-1, ioctl(self->fd, KSYNC_IOC_BARRIER_WAIT, &w));
	ASSERT_EQ(EPIPE, errno);
	ASSERT_EQ(0, ksync_barrier_reset(self->b));
	ASSERT_EQ(0, events(self->fd, 0));
	/* completed by a's own arrival, which returned 1: reset, nothing */
	ASSERT_EQ(0, ksync_barrier_arrive(self->b));
	ASSERT_EQ(1, ksync_barrier_arrive(self->a));
	ASSERT_EQ(POLLIN, events(self->fd, 0));
	ASSERT_EQ(0, ksync_barrier_reset(self->b));
	ASSERT_EQ(0, events(self->fd, 0));
}

/*
 * An arrival without waiting learns how its round went only from poll:
 * broken by another party's deadline and then reset before its owner
 * looked, the fd still says so (POLLERR), until it arrives again.
 */
TEST_F(bpoll, an_arrival_without_waiting_hears_of_its_break_after_a_reset)
{
	struct ksync_barrier_ctl ctl = { .size = sizeof(ctl) };

	ASSERT_EQ(0, ksync_barrier_arrive(self->a));
	/* another party's handler broke the round, as libksync does after -EINTR */
	ctl.generation = (uint32_t)barrier_stats(self->b).generation;
	ASSERT_EQ(0, ioctl(ksync_barrier_fd(self->b), KSYNC_IOC_BARRIER_BREAK, &ctl));
	ASSERT_EQ(0, ksync_barrier_reset(self->b));
	ASSERT_EQ(POLLERR, events(self->fd, 0));
	ASSERT_EQ(POLLERR, events(self->fd, 0));
	ASSERT_EQ(0, ksync_barrier_arrive(self->a));
	ASSERT_EQ(0, events(self->fd, 0));
}

/* A child asleep in poll(2) on fd; it exits with the events it got. */
static pid_t sleeping_poller(int fd)
{
	pid_t pid = fork();

	if (pid == 0) {
		struct pollfd p = { .fd = fd, .events = POLLIN };

		_exit(poll(&p, 1, 20000) == 1 ? p.revents : 255);
	}
	return pid > 0 && wait_sleeping(pid, 10000) ? pid : -1;
}

/* A poller asleep in poll(2) is woken by the round's completion or break. */
static void woken_poller(struct __test_metadata *_metadata, FIXTURE_DATA(bpoll) * self, int breaks,
			 int expect)
{
	pid_t pid;

	ASSERT_EQ(0, ksync_barrier_arrive(self->a));
	pid = sleeping_poller(self->fd);
	ASSERT_GT(pid, 0);
	if (breaks) {
		ASSERT_EQ(0, ksync_barrier_reset(self->b));
	} else {
		ASSERT_EQ(1, ksync_barrier_wait(self->b, NULL));
	}
	ASSERT_EQ(expect, wait_child(pid, 20000));
}

TEST_F(bpoll, sleeping_poller_woken_by_completion)
{
	woken_poller(_metadata, self, 0, POLLIN);
}

TEST_F(bpoll, sleeping_poller_woken_by_reset)
{
	woken_poller(_metadata, self, 1, POLLERR);
}

TEST_F(bpoll, edge_triggered_epoll)
{
	struct epoll_event ev = { .events = EPOLLIN | EPOLLET };
	int ep = epoll_create1(EPOLL_CLOEXEC);
	pid_t pid;

	ASSERT_GE(ep, 0);
	ASSERT_EQ(0, epoll_ctl(ep, EPOLL_CTL_ADD, self->fd, &ev));
	for (int round = 0; round < 20; round++) {
		ASSERT_EQ(0, ksync_barrier_arrive(self->a));
		ASSERT_EQ(0, epoll_wait(ep, &ev, 1, 0));
		/* the other party, another process, on the fast path */
		pid = barrier_child(self->b, 10000);
		ASSERT_GT(pid, 0);
		ASSERT_EQ(1, epoll_wait(ep, &ev, 1, 10000));
		ASSERT_EQ(EPOLLIN, (int)ev.events);
		ASSERT_EQ(W_SERIAL, wait_child(pid, 10000));
		/* edge-triggered: reported once */
		ASSERT_EQ(0, epoll_wait(ep, &ev, 1, 0));
	}
	close(ep);
}

/*
 * A handle whose fd was taken waits through the kernel, so that poll from
 * another process sharing the file knows the round it waits in.
 */
TEST_F(bpoll, waits_of_a_handle_whose_fd_was_taken_are_seen)
{
	pid_t pid = barrier_child(self->a, 20000);

	ASSERT_GT(pid, 0);
	ASSERT_TRUE(wait_sleepers(self->a, 1, 10000));
	ASSERT_EQ(0, events(self->fd, 0));
	ASSERT_EQ(1, ksync_barrier_wait(self->b, NULL));
	ASSERT_EQ(W_PASSED, wait_child(pid, 10000));
	ASSERT_EQ(POLLIN, events(self->fd, 0));
}

/* A file that never arrived still hears of the break (POLLERR). */
TEST_F(bpoll, sleeping_poller_woken_by_another_deadline)
{
	struct timespec dl;
	pid_t pid;

	pid = sleeping_poller(self->fd);
	ASSERT_GT(pid, 0);
	dl = ksync_deadline_ms(100);
	ASSERT_EQ(-ETIMEDOUT, ksync_barrier_wait(self->b, &dl));
	ASSERT_EQ(POLLERR, wait_child(pid, 20000));
}

/* Level-triggered epoll reports the completed round until the next arrival. */
TEST_F(bpoll, level_triggered_epoll)
{
	struct epoll_event ev = { .events = EPOLLIN };
	int ep = epoll_create1(EPOLL_CLOEXEC);

	ASSERT_GE(ep, 0);
	ASSERT_EQ(0, epoll_ctl(ep, EPOLL_CTL_ADD, self->fd, &ev));
	ASSERT_EQ(0, epoll_wait(ep, &ev, 1, 0));
	for (int round = 0; round < 10; round++) {
		pid_t pid;

		ASSERT_EQ(0, ksync_barrier_arrive(self->a));
		ASSERT_EQ(0, epoll_wait(ep, &ev, 1, 0));
		pid = barrier_child(self->b, 10000);
		ASSERT_GT(pid, 0);
		ASSERT_EQ(1, epoll_wait(ep, &ev, 1, 10000));
		ASSERT_EQ(W_SERIAL, wait_child(pid, 10000));
		/* level-triggered: still readable */
		ASSERT_EQ(1, epoll_wait(ep, &ev, 1, 0));
		ASSERT_EQ(EPOLLIN, (int)ev.events);
	}
	close(ep);
}

TEST_HARNESS_MAIN
