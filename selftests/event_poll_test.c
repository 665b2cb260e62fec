// SPDX-License-Identifier: GPL-2.0
/*
 * poll, select and epoll on an event: readable exactly while a wait would
 * pass at once (set, and for an auto event not given to a sleeper), woken
 * by every set that makes it so, whether the setter went through the
 * kernel or the page, level- and edge-triggered alike.
 */
#include <pthread.h>
#include <sys/epoll.h>
#include <sys/select.h>

#include "common.h"
#include "kselftest_harness.h"

static int readable(ksync_event_t *e)
{
	struct pollfd p = { .fd = ksync_event_fd(e), .events = POLLIN };

	return poll(&p, 1, 0) == 1 && (p.revents & POLLIN);
}

static unsigned int ev_waiters(ksync_event_t *e)
{
	struct ksync_event_stats st = { .waiters = ~0u };

	ksync_event_stats(e, &st);
	return st.waiters;
}

/* A child that does op on e once parent sleeps (in poll or epoll_wait). */
enum { OP_SET, OP_RESET_SET };

static pid_t act_when_asleep(ksync_event_t *e, int op, int go)
{
	pid_t parent = getpid(), pid = fork();
	char c;

	if (pid == 0) {
		if (read(go, &c, 1) != 1 || !wait_sleeping(parent, 10000))
			_exit(1);
		if (op == OP_RESET_SET && ksync_event_reset(e))
			_exit(2);
		_exit(ksync_event_set(e) ? 3 : 0);
	}
	return pid;
}

TEST(readable_exactly_while_set)
{
	ksync_event_t *m, *a;

	ASSERT_EQ(0, ksync_event_open(&m, NULL, 0, 0600, 0));
	ASSERT_EQ(0, ksync_event_open(&a, NULL, KSYNC_EVENT_AUTO, 0600, 0));
	ASSERT_FALSE(readable(m));
	ASSERT_FALSE(readable(a));
	ASSERT_EQ(0, ksync_event_set(m));
	ASSERT_EQ(0, ksync_event_set(a));
	ASSERT_TRUE(readable(m));
	ASSERT_TRUE(readable(a));
	/* a manual event's wait leaves it set; an auto event's takes it */
	ASSERT_EQ(0, ksync_event_wait(m, NULL));
	ASSERT_EQ(0, ksync_event_wait(a, NULL));
	ASSERT_TRUE(readable(m));
	ASSERT_FALSE(readable(a));
	ASSERT_EQ(0, ksync_event_reset(m));
	ASSERT_FALSE(readable(m));
	/* select says the same */
	fd_set r;
	struct timeval tv = { 0, 0 };

	FD_ZERO(&r);
	FD_SET(ksync_event_fd(m), &r);
	ASSERT_EQ(0, select(ksync_event_fd(m) + 1, &r, NULL, NULL, &tv));
	ASSERT_EQ(0, ksync_event_set(m));
	FD_SET(ksync_event_fd(m), &r);
	ASSERT_EQ(1, select(ksync_event_fd(m) + 1, &r, NULL, NULL, &tv));
	ASSERT_EQ(0, ksync_event_close(a));
	ASSERT_EQ(0, ksync_event_close(m));
}

/* An auto event whose set went to a sleeper is not readable: no wait would pass. */
TEST(an_auto_set_given_to_a_sleeper_is_not_readable)
{
	ksync_event_t *a;
	pid_t pid;

	ASSERT_EQ(0, ksync_event_open(&a, NULL, KSYNC_EVENT_AUTO, 0600, 0));
	pid = fork();
	ASSERT_LE(0, pid);
	if (pid == 0) {
		struct timespec dl = ksync_deadline_ms(20000);

		_exit(ksync_event_wait(a, &dl) ? 1 : 0);
	}
	while (ev_waiters(a) != 1)
		pause_us(200);
	ASSERT_FALSE(readable(a));
	ASSERT_EQ(0, ksync_event_set(a));
	ASSERT_EQ(0, wait_child(pid, 10000));
	ASSERT_FALSE(readable(a));
	ASSERT_EQ(0, ksync_event_is_set(a));
	ASSERT_EQ(0, ksync_event_close(a));
}

/* poll() asleep wakes on a set from another process, through the library. */
TEST(poll_wakes_on_a_set)
{
	ksync_event_t *e;
	int go[2];
	pid_t pid;
	struct pollfd p;
	int64_t start;

	ASSERT_EQ(0, ksync_event_open(&e, NULL, 0, 0600, 0));
	ASSERT_EQ(0, pipe(go));
	pid = act_when_asleep(e, OP_SET, go[0]);
	ASSERT_LE(0, pid);
	ASSERT_EQ(1, write(go[1], "g", 1));
	p = (struct pollfd){ .fd = ksync_event_fd(e), .events = POLLIN };
	start = now_ns();
	ASSERT_EQ(1, poll(&p, 1, 20000));
	ASSERT_TRUE(!!(p.revents & POLLIN));
	/* woken, not found set when its time ran out (poll looks once more) */
	ASSERT_GT(start + 15000000000LL, now_ns());
	ASSERT_EQ(0, wait_child(pid, 10000));
	/* poll is over: the next set is on the page again */
	ASSERT_EQ(0, ksync_event_reset(e));
	ASSERT_EQ(0, ksync_event_set(e));
	ASSERT_EQ(0, ksync_event_close(e));
	close(go[0]);
	close(go[1]);
}

/*
 * epoll, level- or edge-triggered: each round, a child sets (through the
 * library, with nobody asleep in a wait) once we sleep in epoll_wait, and
 * it must wake us.  Level-triggered reports again while set;
 * edge-triggered once per set.  From the second round on, edge-triggered
 * starts with the event still set and the child resets and sets it: a
 * reset and a set on the page must not hide the new edge.
 */
static void epoll_case(struct __test_metadata *_metadata, uint32_t et)
{
	struct epoll_event ev = { .events = EPOLLIN | et };
	ksync_event_t *e;
	int ep, go[2];
	pid_t pid;

	ASSERT_EQ(0, ksync_event_open(&e, NULL, 0, 0600, 0));
	ASSERT_LE(0, ep = epoll_create1(EPOLL_CLOEXEC));
	ASSERT_EQ(0, pipe(go));
	ASSERT_EQ(0, epoll_ctl(ep, EPOLL_CTL_ADD, ksync_event_fd(e), &ev));
	for (int round = 0; round < 3; round++) {
		/* (level-triggered would not sleep on a set event) */
		if (!et && round)
			ASSERT_EQ(0, ksync_event_reset(e));
		ASSERT_EQ(0, epoll_wait(ep, &ev, 1, 0));
		pid = act_when_asleep(e, et && round ? OP_RESET_SET : OP_SET, go[0]);
		ASSERT_LE(0, pid);
		ASSERT_EQ(1, write(go[1], "g", 1));
		ASSERT_EQ(1, epoll_wait(ep, &ev, 1, 10000));
		ASSERT_TRUE(!!(ev.events & EPOLLIN));
		ASSERT_EQ(0, wait_child(pid, 10000));
		/* level: again while set; edge: not until it changes */
		ASSERT_EQ(et ? 0 : 1, epoll_wait(ep, &ev, 1, 0));
		/* a set of a set event is no new edge, and no new readiness */
		ASSERT_EQ(0, ksync_event_set(e));
		ASSERT_EQ(et ? 0 : 1, epoll_wait(ep, &ev, 1, 0));
		if (round < 2)
			continue;
		/* reset here, while epoll watches: not readable any more */
		ASSERT_EQ(0, ksync_event_reset(e));
		ASSERT_EQ(0, epoll_wait(ep, &ev, 1, 0));
	}
	close(ep);
	close(go[0]);
	close(go[1]);
	ASSERT_EQ(0, ksync_event_close(e));
}

TEST(epoll_level_triggered)
{
	epoll_case(_metadata, 0);
}

TEST(epoll_edge_triggered)
{
	epoll_case(_metadata, EPOLLET);
}

/*
 * Edge-triggered on an auto event: the set that a wait (anyone's, on the
 * page) took is gone; the next set is a new edge.
 */
TEST(epoll_edge_triggered_auto)
{
	struct epoll_event ev = { .events = EPOLLIN | EPOLLET };
	ksync_event_t *a;
	int ep;

	ASSERT_EQ(0, ksync_event_open(&a, NULL, KSYNC_EVENT_AUTO, 0600, 0));
	ASSERT_LE(0, ep = epoll_create1(EPOLL_CLOEXEC));
	ASSERT_EQ(0, epoll_ctl(ep, EPOLL_CTL_ADD, ksync_event_fd(a), &ev));
	for (int i = 0; i < 3; i++) {
		ASSERT_EQ(0, epoll_wait(ep, &ev, 1, 0));
		ASSERT_EQ(0, ksync_event_set(a));
		ASSERT_EQ(1, epoll_wait(ep, &ev, 1, 1000));
		ASSERT_EQ(0, epoll_wait(ep, &ev, 1, 0));
		ASSERT_EQ(0, ksync_event_wait(a, NULL));
		ASSERT_FALSE(readable(a));
	}
	close(ep);
	ASSERT_EQ(0, ksync_event_close(a));
}

TEST_HARNESS_MAIN
