// SPDX-License-Identifier: GPL-2.0
/*
 * Exercise 1: add a peek ioctl to the semaphore.
 * See docs/teaching.md: KSYNC_IOC_SEM_PEEK on a semaphore fd
 * returns the permits free now, as the ioctl's result, taking none.
 */
#include <sys/mman.h>

#include "../common.h"
#include "kselftest_harness.h"

#ifndef KSYNC_IOC_SEM_PEEK
#define KSYNC_IOC_SEM_PEEK _IO(KSYNC_IOC_MAGIC, 0x15)
#endif

TEST(peek_shows_the_value_and_takes_nothing)
{
	ksync_sem_t *s;
	int fd;

	ASSERT_EQ(0, ksync_sem_open(&s, NULL, 0, 0600, 3));
	fd = ksync_sem_fd(s);
	ASSERT_EQ(3, ioctl(fd, KSYNC_IOC_SEM_PEEK));
	ASSERT_EQ(3, ioctl(fd, KSYNC_IOC_SEM_PEEK));
	ASSERT_EQ(0, ksync_sem_try_acquire(s, 2));
	ASSERT_EQ(1, ioctl(fd, KSYNC_IOC_SEM_PEEK));
	ASSERT_EQ(0, ksync_sem_release(s, 2));
	ASSERT_EQ(3, ksync_sem_value(s));
	ksync_sem_close(s);
}

/* The page is user memory: whatever is written there, peek stays in range. */
TEST(peek_distrusts_the_page)
{
	volatile uint64_t *word;
	ksync_sem_t *s;
	int fd, v;

	ASSERT_EQ(0, ksync_sem_open(&s, NULL, 0, 0600, 1));
	fd = ksync_sem_fd(s);
	word = mmap(NULL, 4096, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
	ASSERT_NE(MAP_FAILED, word);
	*word = 0xffffffffULL;
	v = ioctl(fd, KSYNC_IOC_SEM_PEEK);
	ASSERT_LE(0, v);
	ASSERT_GE(KSYNC_SEM_VALUE_MAX, v);
	munmap((void *)word, 4096);
	ksync_sem_close(s);
}

/* Only semaphores peek. */
TEST(other_types_do_not)
{
	ksync_barrier_t *b;

	ASSERT_EQ(0, ksync_barrier_open(&b, NULL, 0, 0600, 2));
	ASSERT_EQ(-1, ioctl(ksync_barrier_fd(b), KSYNC_IOC_SEM_PEEK));
	ASSERT_EQ(ENOTTY, errno);
	ksync_barrier_close(b);
}

TEST_HARNESS_MAIN
