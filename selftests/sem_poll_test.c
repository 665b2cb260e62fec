// SPDX-License-Identifier: GPL-2.0
/*
 * poll and epoll say EPOLLIN exactly when an acquire of 1 would succeed
 * now: FIFO included, so a sleeper at the head of the queue means "not
 * readable" whatever the value.  Level-triggered users must not spin;
 * edge-triggered users that drain with try_acquire (of any count) until
 * -EAGAIN must be woken by every release that follows.
 */
#include <pthread.h>
#include <sys/epoll.h>

#include "common.h"
#include "kselftest_harness.h"

FIXTURE(pollsem)
{
	ksync_sem_t *s;
	int ep;
};

FIXTURE_SETUP(pollsem)
{
	ASSERT_EQ(0, ksync_sem_open(&self->s, NULL, 0, 0600, 0));
	self->ep = epoll_create1(EPOLL_CLOEXEC);
	ASSERT_GE(self->ep, 0);
}

FIXTURE_TEARDOWN(pollsem)
{
	close(self->ep);
	ksync_sem_close(self->s);
}

static int readable_now(ksync_sem_t *s)
{
	struct pollfd p = { .fd = ksync_sem_fd(s), .events = POLLIN };

	return poll(&p, 1, 0) == 1 && (p.revents & POLLIN);
}

/* A thread that asks for count permits, with a deadline. */
struct sleeper {
	ksync_sem_t *s;
	unsigned int count;
	int ret;
	pthread_t th;
};

static void *sleeper_main(void *arg)
{
	struct sleeper *w = arg;
	struct timespec dl = ksync_deadline_ms(20000);

	w->ret = ksync_sem_acquire(w->s, w->count, &dl);
	return NULL;
}

static int start_sleeper(struct sleeper *w, ksync_sem_t *s, unsigned int count)
{
	w->s = s;
	w->count = count;
	w->ret = 1;
	if (pthread_create(&w->th, NULL, sleeper_main, w))
		return 0;
	return wait_waiters(s, 1, 10000);
}

static void add_et(struct __test_metadata *_metadata, int ep, ksync_sem_t *s)
{
	struct epoll_event ev = { .events = EPOLLIN | EPOLLET };

	ASSERT_EQ(0, epoll_ctl(ep, EPOLL_CTL_ADD, ksync_sem_fd(s), &ev));
}

/* Drain as an edge-triggered user must: try until -EAGAIN. */
static int drain(ksync_sem_t *s, unsigned int n)
{
	int got = 0;

	while (ksync_sem_try_acquire(s, n) == 0)
		got += (int)n;
	return got;
}

/* A sleeper at the head: 3 permits free, but acquire(1) would queue. */
TEST_F(pollsem, not_readable_behind_a_sleeper)
{
	struct sleeper w;

	ASSERT_TRUE(start_sleeper(&w, self->s, 5));
	ASSERT_EQ(0, ksync_sem_release(self->s, 3));
	ASSERT_EQ(3, ksync_sem_value(self->s));
	/* level-triggered: not readable, so a poll loop blocks, not spins */
	ASSERT_FALSE(readable_now(self->s));
	ASSERT_EQ(-EAGAIN, ksync_sem_try_acquire(self->s, 1));
	ASSERT_FALSE(readable_now(self->s));
	/* the sleeper is served; the next permit makes it readable */
	ASSERT_EQ(0, ksync_sem_release(self->s, 2));
	pthread_join(w.th, NULL);
	ASSERT_EQ(0, w.ret);
	ASSERT_FALSE(readable_now(self->s));
	ASSERT_EQ(0, ksync_sem_release(self->s, 1));
	ASSERT_TRUE(readable_now(self->s));
}

/* A sleeper that gives up (deadline) unblocks readers behind it. */
TEST_F(pollsem, readable_when_the_head_gives_up)
{
	struct timespec dl = ksync_deadline_ms(300);
	struct pollfd p = { .fd = ksync_sem_fd(self->s), .events = POLLIN };

	ASSERT_EQ(0, ksync_sem_release(self->s, 1));
	ASSERT_TRUE(readable_now(self->s));
	/* we are the head now: nobody else could take the one permit */
	ASSERT_EQ(-ETIMEDOUT, ksync_sem_acquire(self->s, 2, &dl));
	ASSERT_EQ(1, poll(&p, 1, 0));
}

/*
 * The scenario from the review: an edge-triggered poller must not be left
 * asleep when a release lands after a sleeper ahead of it was served.
 */
TEST_F(pollsem, edge_triggered_after_a_sleeper_is_served)
{
	struct epoll_event ev;
	struct sleeper w;

	add_et(_metadata, self->ep, self->s);
	ASSERT_TRUE(start_sleeper(&w, self->s, 5));
	ASSERT_EQ(0, ksync_sem_release(self->s, 3));
	/* whatever epoll said, the drain finds nothing: the sleeper is first */
	epoll_wait(self->ep, &ev, 1, 0);
	ASSERT_EQ(0, drain(self->s, 1));
	/* serves the sleeper and leaves nothing: no event, nothing to drain */
	ASSERT_EQ(0, ksync_sem_release(self->s, 2));
	pthread_join(w.th, NULL);
	ASSERT_EQ(0, w.ret);
	/* now a plain release, which the fast path could take alone */
	ASSERT_EQ(0, ksync_sem_release(self->s, 1));
	ASSERT_EQ(1, epoll_wait(self->ep, &ev, 1, 10000));
	ASSERT_EQ(1, drain(self->s, 1));
}

/* Draining with a count above one: the next release must still wake us. */
TEST_F(pollsem, edge_triggered_drain_of_two)
{
	struct epoll_event ev;

	add_et(_metadata, self->ep, self->s);
	ASSERT_EQ(0, epoll_wait(self->ep, &ev, 1, 0));
	ASSERT_EQ(0, ksync_sem_release(self->s, 1));
	ASSERT_EQ(1, epoll_wait(self->ep, &ev, 1, 10000));
	ASSERT_EQ(0, drain(self->s, 2)); /* one permit is not enough */
	ASSERT_EQ(0, ksync_sem_release(self->s, 1));
	ASSERT_EQ(1, epoll_wait(self->ep, &ev, 1, 10000));
	ASSERT_EQ(2, drain(self->s, 2));
	ASSERT_EQ(0, ksync_sem_value(self->s));
}

/* Level-triggered epoll agrees with poll, before and after the sleeper. */
TEST_F(pollsem, level_triggered_follows_the_queue)
{
	struct epoll_event ev = { .events = EPOLLIN };
	struct sleeper w;

	ASSERT_EQ(0, epoll_ctl(self->ep, EPOLL_CTL_ADD, ksync_sem_fd(self->s), &ev));
	ASSERT_TRUE(start_sleeper(&w, self->s, 4));
	ASSERT_EQ(0, ksync_sem_release(self->s, 3));
	ASSERT_EQ(0, epoll_wait(self->ep, &ev, 1, 0));
	ASSERT_EQ(0, ksync_sem_release(self->s, 2));
	pthread_join(w.th, NULL);
	ASSERT_EQ(0, w.ret);
	ASSERT_EQ(1, epoll_wait(self->ep, &ev, 1, 10000));
	ASSERT_EQ(1, ksync_sem_value(self->s));
	ASSERT_EQ(0, ksync_sem_try_acquire(self->s, 1));
	ASSERT_EQ(0, epoll_wait(self->ep, &ev, 1, 0));
}

TEST_HARNESS_MAIN
