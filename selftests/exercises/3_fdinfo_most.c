// SPDX-License-Identifier: GPL-2.0
/*
 * Exercise 3: add a statistic to the semaphore's fdinfo.
 * See docs/teaching.md: a semaphore's fdinfo gains a line
 * "ksync-most-waiters:\tN", the most tasks ever asleep on it at once.
 */
#include "../common.h"
#include "kselftest_harness.h"

static long most_waiters(int fd)
{
	char buf[2048], *p;

	if (read_fdinfo(fd, buf, sizeof(buf)) < 0)
		return -1;
	p = strstr(buf, "\nksync-most-waiters:\t");
	return p ? strtol(p + strlen("\nksync-most-waiters:\t"), NULL, 10) : -1;
}

TEST(the_most_ever_asleep_at_once)
{
	pid_t pid[3];
	ksync_sem_t *s;

	ASSERT_EQ(0, ksync_sem_open(&s, NULL, 0, 0600, 0));
	ASSERT_EQ(0, most_waiters(ksync_sem_fd(s)));
	for (int i = 0; i < 3; i++) {
		pid[i] = fork();
		if (pid[i] == 0) {
			struct timespec dl = ksync_deadline_ms(20000);

			_exit(ksync_sem_acquire(s, 1, &dl) ? 1 : 0);
		}
		ASSERT_TRUE(wait_waiters(s, i + 1, 20000));
	}
	ASSERT_EQ(3, most_waiters(ksync_sem_fd(s)));
	ASSERT_EQ(0, ksync_sem_release(s, 3));
	for (int i = 0; i < 3; i++) {
		ASSERT_EQ(0, wait_child(pid[i], 20000));
	}
	/* nobody sleeps now; the most stays */
	ASSERT_EQ(0, sem_waiters(s));
	ASSERT_EQ(3, most_waiters(ksync_sem_fd(s)));
	ksync_sem_close(s);
}

TEST(each_semaphore_counts_its_own)
{
	ksync_sem_t *s;

	ASSERT_EQ(0, ksync_sem_open(&s, NULL, 0, 0600, 1));
	ASSERT_EQ(0, most_waiters(ksync_sem_fd(s)));
	ksync_sem_close(s);
}

TEST_HARNESS_MAIN
