// SPDX-License-Identifier: GPL-2.0
/*
 * Exercise 5: cap the sleepers of a semaphore with a module parameter.
 * See docs/teaching.md: a module parameter, max_sleepers (0, the
 * default: no limit), caps how many tasks may sleep on one semaphore; an
 * acquire that would have to sleep beyond it fails at once with -EAGAIN.
 */
#include "../common.h"
#include "kselftest_harness.h"

#define PARAM KSYNC_PARAM("max_sleepers")

FIXTURE(cap)
{
	ksync_sem_t *s;
	pid_t pid[2];
};

FIXTURE_SETUP(cap)
{
	ASSERT_EQ(0, write_text(PARAM, "2"));
	ASSERT_EQ(0, ksync_sem_open(&self->s, NULL, 0, 0600, 0));
	for (int i = 0; i < 2; i++) {
		self->pid[i] = fork();
		if (self->pid[i] == 0) {
			struct timespec dl = ksync_deadline_ms(20000);

			_exit(ksync_sem_acquire(self->s, 1, &dl) ? 1 : 0);
		}
		ASSERT_TRUE(wait_waiters(self->s, i + 1, 20000));
	}
}

FIXTURE_TEARDOWN(cap)
{
	write_text(PARAM, "0");
	ksync_sem_release(self->s, 2);
	for (int i = 0; i < 2; i++)
		if (self->pid[i] > 0)
			wait_child(self->pid[i], 20000);
	ksync_sem_close(self->s);
}

TEST_F(cap, the_third_sleeper_is_refused_at_once)
{
	struct timespec dl = ksync_deadline_ms(20000);

	/* refused: -EAGAIN, not -ETIMEDOUT at its deadline */
	ASSERT_EQ(-EAGAIN, ksync_sem_acquire(self->s, 1, &dl));
	ASSERT_EQ(2, sem_waiters(self->s));
}

TEST_F(cap, those_that_need_not_sleep_are_not_refused)
{
	ASSERT_EQ(0, ksync_sem_release(self->s, 3));
	for (int i = 0; i < 2; i++) {
		ASSERT_EQ(0, wait_child(self->pid[i], 20000));
	}
	ASSERT_EQ(0, ksync_sem_acquire(self->s, 1, NULL));
	self->pid[0] = self->pid[1] = 0;
}

TEST_F(cap, zero_means_no_limit)
{
	struct timespec dl = ksync_deadline_ms(50);

	ASSERT_EQ(0, write_text(PARAM, "0"));
	ASSERT_EQ(-ETIMEDOUT, ksync_sem_acquire(self->s, 1, &dl));
}

TEST_HARNESS_MAIN
