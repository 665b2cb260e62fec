// SPDX-License-Identifier: GPL-2.0
/*
 * A semaphore's poll readiness is "an acquire of 1 would succeed now",
 * also while an entry of a select that another object already claimed is
 * still linked: such an entry holds no place, for poll as for the
 * acquire.  (Poll counted it, and said "not readable" while an acquire
 * succeeded at once; found by review, failing 4 runs in 4.)
 *
 * Held deterministically as wait_any_order_test does: the selector is
 * pinned to our CPU and we run SCHED_FIFO.
 */
#include <sched.h>

#include "common.h"
#include "kselftest_harness.h"

TEST(poll_agrees_with_acquire_while_a_claimed_selector_is_linked)
{
	struct sched_param rt = { .sched_priority = 1 }, normal = { 0 };
	int cpu = sched_getcpu(), readable, acquired;
	int linked, linked2;
	ksync_event_t *e;
	ksync_sem_t *s;
	struct pollfd p;
	int64_t end;
	pid_t sel;

	ASSERT_LE(0, cpu);
	ASSERT_EQ(0, ksync_sem_open(&s, NULL, 0, 0600, 0));
	ASSERT_EQ(0, ksync_event_open(&e, NULL, 0, 0600, 0));
	sel = fork();
	ASSERT_LE(0, sel);
	if (sel == 0) {
		struct timespec dl = ksync_deadline_ms(20000);
		struct ksync_op ops[2] = {
			{ .kind = KSYNC_OP_ACQUIRE, .sem = s, .n = 1 },
			{ .kind = KSYNC_OP_EVENT, .event = e },
		};

		pin_to_cpu(cpu);
		_exit(ksync_wait_any(ops, 2, &dl) == 1 ? 0 : 10);
	}
	end = now_ns() + 10000000000LL;
	while (sem_waiters(s) != 1 && now_ns() < end)
		pause_us(200);
	ASSERT_EQ(1, sem_waiters(s));
	/* and on the event, after the semaphore */
	for (;;) {
		struct ksync_event_stats st = { 0 };

		ksync_event_stats(e, &st);
		if (st.waiters == 1 || now_ns() > end)
			break;
		pause_us(200);
	}
	pin_to_cpu(cpu);
	if (sched_setscheduler(0, SCHED_FIFO, &rt)) {
		kill(sel, SIGKILL);
		wait_child(sel, 10000);
		SKIP(return, "no real-time scheduling here: %s", strerror(errno));
	}
	/* sel is claimed by the set and cannot run to leave the semaphore */
	ASSERT_EQ(0, ksync_event_set(e));
	ASSERT_EQ(0, ksync_sem_release(s, 1));
	linked = sem_waiters(s);
	p = (struct pollfd){ .fd = ksync_sem_fd(s), .events = POLLIN };
	readable = poll(&p, 1, 0) == 1 && (p.revents & POLLIN);
	{
		struct ksync_sem_info info;
		int r = ioctl(ksync_sem_fd(s), KSYNC_IOC_SEM_INFO, &info);

		TH_LOG("info %d: waiters %u value %u; poll revents %#x", r, info.waiters,
		       info.value, p.revents);
	}
	acquired = ksync_sem_try_acquire(s, 1) == 0;
	linked2 = sem_waiters(s);
	sched_setscheduler(0, SCHED_OTHER, &normal);
	ASSERT_EQ(0, wait_child(sel, 10000));
	if (linked != 1 || linked2 != 1) /* the window was not held */
		SKIP(return, "the selector left before we looked (%d, %d)", linked, linked2);
	EXPECT_TRUE(acquired);
	EXPECT_EQ(acquired, readable)
	{
		TH_LOG("poll said %s, an acquire of 1 %s", readable ? "readable" : "not readable",
		       acquired ? "succeeded" : "failed");
	}
	ksync_sem_close(s);
	ksync_event_close(e);
}

TEST_HARNESS_MAIN
