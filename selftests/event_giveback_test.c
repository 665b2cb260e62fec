// SPDX-License-Identifier: GPL-2.0
/*
 * A killed auto-event waiter gives its set back (to the next sleeper, or
 * to the word) only if the event was not reset since the set that chose
 * it: set, then reset, in that order, leave the event clear.  The give-
 * back set it again whatever happened since (found by review: 2 tests of
 * 2 failed on 6.1, 6.12 and the debug kernel).
 *
 * Same technique as event_test's a_killed_waiter_passes_the_set_on: the
 * waiter is pinned to our CPU and we run SCHED_FIFO, so it cannot run
 * between our set, our kill and our reset.
 */
#include <sched.h>

#include "common.h"
#include "kselftest_harness.h"

static void run(struct __test_metadata *_metadata, int select)
{
	struct sched_param rt = { .sched_priority = 1 }, normal = { 0 };
	int cpu = sched_getcpu();
	ksync_event_t *e;
	ksync_sem_t *s;
	pid_t a;

	ASSERT_LE(0, cpu);
	ASSERT_EQ(0, ksync_event_open(&e, NULL, KSYNC_EVENT_AUTO, 0600, 0));
	ASSERT_EQ(0, ksync_sem_open(&s, NULL, 0, 0600, 0));
	a = fork();
	ASSERT_LE(0, a);
	if (a == 0) {
		struct timespec dl = ksync_deadline_ms(20000);
		struct ksync_op ops[2] = {
			{ .kind = KSYNC_OP_ACQUIRE, .sem = s, .n = 1 },
			{ .kind = KSYNC_OP_EVENT, .event = e },
		};

		if (pin_to_cpu(cpu))
			_exit(5);
		if (select)
			_exit(ksync_wait_any(ops, 2, &dl) == 1 ? 0 : 1);
		_exit(ksync_event_wait(e, &dl) ? 1 : 0);
	}
	ASSERT_TRUE(wait_ev_waiters(e, 1, 10000));
	ASSERT_EQ(0, pin_to_cpu(cpu));
	if (sched_setscheduler(0, SCHED_FIFO, &rt)) {
		kill(a, SIGKILL);
		wait_child(a, 10000);
		SKIP(return, "no real-time scheduling here: %s", strerror(errno));
	}
	/* a is claimed by the set and cannot run until we sleep */
	ASSERT_EQ(0, ksync_event_set(e));
	ASSERT_EQ(0, kill(a, SIGKILL));
	ASSERT_EQ(0, ksync_event_reset(e));
	ASSERT_EQ(0, ksync_event_is_set(e));
	ASSERT_EQ(0, sched_setscheduler(0, SCHED_OTHER, &normal));
	ASSERT_EQ(128 + SIGKILL, wait_child(a, 10000));
	/* set, then reset: the event is clear */
	EXPECT_EQ(0, ksync_event_is_set(e))
	{
		TH_LOG("the killed waiter's give-back set the event after the reset");
	}
	ksync_event_close(e);
	ksync_sem_close(s);
}

TEST(reset_after_a_killed_waiters_set_stays)
{
	run(_metadata, 0);
}

TEST(reset_after_a_killed_selects_set_stays)
{
	run(_metadata, 1);
}

TEST_HARNESS_MAIN
