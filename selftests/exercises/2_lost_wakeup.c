// SPDX-License-Identifier: GPL-2.0
/*
 * Exercise 2: find the lost wake-up in a broken semaphore.
 * See docs/teaching.md: `scripts/exercise start 2` breaks the
 * wake-up of kmod/wait.c, which the semaphore uses, so that a release
 * that satisfies several sleepers leaves some of them asleep.  Find it and fix it: every sleeper a release
 * satisfies must wake, at once, without waiting for its deadline.
 */
#include "../common.h"
#include "kselftest_harness.h"

/* The sleepers of a test; the teardown kills any left, so that a failed
 * run leaves nobody asleep on the semaphore. */
FIXTURE(wake)
{
	ksync_sem_t *s;
	pid_t pid[3];
};

FIXTURE_SETUP(wake)
{
	ASSERT_EQ(0, ksync_sem_open(&self->s, NULL, 0, 0600, 0));
}

FIXTURE_TEARDOWN(wake)
{
	for (int i = 0; i < 3; i++)
		if (self->pid[i] > 0)
			wait_child(self->pid[i], 0);
	ksync_sem_close(self->s);
}

/* A child that takes n permits, waiting for ever: only a wake-up ends it. */
static pid_t sleeper(ksync_sem_t *s, unsigned int n)
{
	pid_t pid = fork();

	if (pid == 0)
		_exit(ksync_sem_acquire(s, n, NULL) ? 1 : 0);
	return pid;
}

/* Each must end within 5 s of the last: a wake-up takes microseconds. */
static int all_end(pid_t *pid, int n)
{
	int ok = 1;

	for (int i = 0; i < n; i++) {
		ok &= wait_child(pid[i], 5000) == 0;
		pid[i] = 0;
	}
	return ok;
}

TEST_F(wake, one_release_wakes_every_sleeper_it_satisfies)
{
	static const unsigned int want[3] = { 1, 2, 1 };

	for (int i = 0; i < 3; i++) {
		self->pid[i] = sleeper(self->s, want[i]);
		ASSERT_TRUE(wait_waiters(self->s, i + 1, 20000));
	}
	/* 4 permits cover all three: each must wake */
	ASSERT_EQ(0, ksync_sem_release(self->s, 4));
	ASSERT_TRUE(all_end(self->pid, 3));
	ASSERT_EQ(0, ksync_sem_value(self->s));
}

/* A sleeper that leaves (here: killed) can unblock smaller requests behind it. */
TEST_F(wake, a_leaving_head_wakes_those_behind)
{
	ASSERT_EQ(0, ksync_sem_release(self->s, 2));
	self->pid[0] = sleeper(self->s, 5);
	ASSERT_TRUE(wait_waiters(self->s, 1, 20000));
	self->pid[1] = sleeper(self->s, 1);
	self->pid[2] = sleeper(self->s, 1);
	ASSERT_TRUE(wait_waiters(self->s, 3, 20000));
	ASSERT_EQ(0, kill(self->pid[0], SIGKILL));
	ASSERT_EQ(128 + SIGKILL, wait_child(self->pid[0], 20000));
	self->pid[0] = 0;
	ASSERT_TRUE(all_end(self->pid + 1, 2));
}

TEST_HARNESS_MAIN
