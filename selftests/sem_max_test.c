// SPDX-License-Identifier: GPL-2.0
/*
 * A semaphore's maximum, declared at creation (ksync_sem_open_max()): an
 * acquire of more fails at once (-ERANGE), a release past it fails
 * (-EOVERFLOW) on the fast path and in the kernel, whatever the shared
 * page says, an UNDO handle's give-back stops at it, and every opener and
 * onlooker sees it.  Without one, a semaphore is unbounded as before.
 */
#include <sys/mman.h>

#include "common.h"
#include "kselftest_harness.h"

FIXTURE(sem_max)
{
	char name[64];
	ksync_sem_t *s; /* 3 permits at most, all free */
};

FIXTURE_SETUP(sem_max)
{
	snprintf(self->name, sizeof(self->name), "%s", test_name("max"));
	ASSERT_EQ(0,
		  ksync_sem_open_max(&self->s, self->name, KSYNC_CREATE | KSYNC_EXCL, 0600, 3, 3));
}

FIXTURE_TEARDOWN(sem_max)
{
	ksync_sem_close(self->s);
	ksync_unlink(self->name);
}

static struct ksync_sem_info sem_info(ksync_sem_t *s)
{
	struct ksync_sem_info info;

	memset(&info, 0xff, sizeof(info));
	if (ioctl(ksync_sem_fd(s), KSYNC_IOC_SEM_INFO, &info))
		memset(&info, 0xff, sizeof(info));
	return info;
}

/* The kernel's word on the release: the ioctl, no fast path. */
static int kernel_release(ksync_sem_t *s, unsigned int n)
{
	struct ksync_sem_post p = { .size = sizeof(p), .count = n };

	return ioctl(ksync_sem_fd(s), KSYNC_IOC_SEM_RELEASE, &p) ? -errno : 0;
}

TEST_F(sem_max, acquire_of_more_than_the_maximum_fails_at_once)
{
	struct timespec deadline = ksync_deadline_ms(10000);

	ASSERT_EQ(3, ksync_sem_max(self->s));
	/* it could never be served: -ERANGE, not a wait until the deadline */
	ASSERT_EQ(-ERANGE, ksync_sem_acquire(self->s, 4, &deadline));
	ASSERT_EQ(-ERANGE, ksync_sem_try_acquire(self->s, 4));
	ASSERT_EQ(3, ksync_sem_value(self->s));
	/* from an empty semaphore too, where a fast path has nothing to take */
	ASSERT_EQ(0, ksync_sem_acquire(self->s, 3, &deadline));
	ASSERT_EQ(-ERANGE, ksync_sem_acquire(self->s, 4, &deadline));
	ASSERT_EQ(0, ksync_sem_release(self->s, 3));
	ASSERT_EQ(0, ksync_sem_acquire(self->s, 3, &deadline));
	ASSERT_EQ(0, ksync_sem_release(self->s, 3));
}

TEST_F(sem_max, release_past_the_maximum_fails_on_the_fast_path)
{
	struct ksync_sem_stats before, after;

	ASSERT_EQ(0, ksync_sem_stats(self->s, &before));
	ASSERT_EQ(-EOVERFLOW, ksync_sem_release(self->s, 1));
	ASSERT_EQ(0, ksync_sem_try_acquire(self->s, 2));
	ASSERT_EQ(-EOVERFLOW, ksync_sem_release(self->s, 3));
	ASSERT_EQ(0, ksync_sem_release(self->s, 2));
	ASSERT_EQ(3, ksync_sem_value(self->s));
	/* all of it decided on the word: the kernel saw no release */
	ASSERT_EQ(0, ksync_sem_stats(self->s, &after));
	ASSERT_EQ(before.wake_calls, after.wake_calls);
}

TEST_F(sem_max, release_past_the_maximum_fails_in_the_kernel)
{
	ASSERT_EQ(-EOVERFLOW, kernel_release(self->s, 1));
	ASSERT_EQ(0, ksync_sem_try_acquire(self->s, 1));
	ASSERT_EQ(-EOVERFLOW, kernel_release(self->s, 2));
	ASSERT_EQ(0, kernel_release(self->s, 1));
	ASSERT_EQ(3u, sem_info(self->s).value);
}

/* A release that would pass the maximum with a sleeper queued: the kernel's path. */
TEST_F(sem_max, release_past_the_maximum_with_a_sleeper)
{
	ksync_sem_t *s = self->s;
	pid_t pid;

	ASSERT_EQ(0, ksync_sem_try_acquire(s, 2)); /* 1 left */
	pid = fork();
	ASSERT_LE(0, pid);
	if (pid == 0) {
		struct timespec deadline = ksync_deadline_ms(10000);

		_exit(ksync_sem_acquire(s, 3, &deadline) ? 1 : 0);
	}
	ASSERT_TRUE(wait_waiters(s, 1, 10000));
	/*
	 * 1 + 3 = 4 passes 3, though the sleeper would take 3 of them: only 2
	 * were taken, so this gives back one that never was (an unbounded
	 * semaphore would serve the sleeper: sem_test's
	 * release_served_at_once_does_not_overflow)
	 */
	ASSERT_EQ(-EOVERFLOW, ksync_sem_release(s, 3));
	ASSERT_EQ(1u, sem_info(s).waiters);
	ASSERT_EQ(0, ksync_sem_release(s, 2)); /* serves the sleeper */
	ASSERT_EQ(0, wait_child(pid, 10000));
	ASSERT_EQ(0, ksync_sem_value(s));
	ASSERT_EQ(0, ksync_sem_release(s, 3));
}

/* The kernel keeps its own maximum: a page that claims more does not count. */
TEST_F(sem_max, the_kernel_does_not_trust_the_page)
{
	long page = sysconf(_SC_PAGESIZE);
	struct ksync_sem_shared *shared;

	shared = mmap(NULL, page, PROT_READ | PROT_WRITE, MAP_SHARED, ksync_sem_fd(self->s), 0);
	ASSERT_NE(MAP_FAILED, shared);
	__atomic_store_n(&shared->state, (__u64)KSYNC_SEM_VALUE_MAX, __ATOMIC_SEQ_CST);
	ASSERT_EQ(3u, sem_info(self->s).value);
	ASSERT_EQ(3u, sem_info(self->s).max);
	/* and the library reads the word as the kernel does */
	ASSERT_EQ(3, ksync_sem_value(self->s));
	ASSERT_EQ(-EOVERFLOW, kernel_release(self->s, 1));
	/* a scribbled value lets the kernel give no more than the maximum */
	__atomic_store_n(&shared->state, 0ULL, __ATOMIC_SEQ_CST);
	ASSERT_EQ(0, kernel_release(self->s, 3));
	ASSERT_EQ(-EOVERFLOW, kernel_release(self->s, 1));
	ASSERT_EQ(0, munmap(shared, page));
}

/*
 * What an UNDO handle gives back on close stops at the maximum: here a
 * plain handle gave back the same permits first (a double release that
 * the semaphore could not tell from a correct one).
 */
TEST_F(sem_max, undo_give_back_never_passes_the_maximum)
{
	ksync_sem_t *u;

	ASSERT_EQ(0, ksync_sem_open(&u, self->name, KSYNC_UNDO, 0, 0));
	ASSERT_EQ(0, ksync_sem_try_acquire(u, 2));
	ASSERT_EQ(1, ksync_sem_value(self->s));
	ASSERT_EQ(0, ksync_sem_release(self->s, 2));
	ASSERT_EQ(3, ksync_sem_value(self->s));
	ASSERT_EQ(0, ksync_sem_close(u)); /* would make 5 */
	ASSERT_EQ(3u, sem_info(self->s).value);
	ASSERT_EQ(3, ksync_sem_value(self->s));
	ASSERT_EQ(-EOVERFLOW, ksync_sem_release(self->s, 1));
	/* and one that fits is given back whole */
	ASSERT_EQ(0, ksync_sem_open(&u, self->name, KSYNC_UNDO, 0, 0));
	ASSERT_EQ(0, ksync_sem_try_acquire(u, 2));
	ASSERT_EQ(0, ksync_sem_close(u));
	ASSERT_EQ(3u, sem_info(self->s).value);
}

TEST_F(sem_max, every_opener_and_onlooker_sees_it)
{
	struct ksync_object o = { .size = sizeof(o) };
	char buf[4096];
	ksync_sem_t *t, *f;

	/* an opener that did not create it: its own value and max are ignored */
	ASSERT_EQ(0, ksync_sem_open_max(&t, self->name, KSYNC_CREATE, 0600, 7, 9));
	ASSERT_EQ(3, ksync_sem_max(t));
	ASSERT_EQ(3, ksync_sem_value(t));
	ASSERT_EQ(-EOVERFLOW, ksync_sem_release(t, 1));
	ASSERT_EQ(0, ksync_sem_from_fd(&f, ksync_sem_fd(t)));
	ASSERT_EQ(3, ksync_sem_max(f));
	ASSERT_EQ(-EOVERFLOW, ksync_sem_release(f, 1));
	ASSERT_EQ(3u, sem_info(t).max);
	ASSERT_EQ(0, ksync_lookup(self->name, &o));
	ASSERT_EQ(3u, o.sem.max);
	ASSERT_LT(0, read_fdinfo(ksync_sem_fd(t), buf, sizeof(buf)));
	ASSERT_NE(NULL, strstr(buf, "ksync-max:\t3\n"));
	ASSERT_EQ(0, ksync_sem_close(f));
	ASSERT_EQ(0, ksync_sem_close(t));
}

TEST(without_a_maximum_it_is_unbounded)
{
	struct ksync_object o = { .size = sizeof(o) };
	const char *name = test_name("nomax");
	ksync_sem_t *s;

	ASSERT_EQ(0, ksync_sem_open(&s, name, KSYNC_CREATE | KSYNC_EXCL, 0600, 1));
	ASSERT_EQ(KSYNC_SEM_VALUE_MAX, ksync_sem_max(s));
	ASSERT_EQ(KSYNC_SEM_VALUE_MAX, (int)sem_info(s).max);
	ASSERT_EQ(0, ksync_lookup(name, &o));
	ASSERT_EQ((unsigned int)KSYNC_SEM_VALUE_MAX, o.sem.max);
	ASSERT_EQ(0, ksync_sem_release(s, 1000));
	ASSERT_EQ(1001, ksync_sem_value(s));
	ASSERT_EQ(0, ksync_sem_close(s));
	ASSERT_EQ(0, ksync_unlink(name));
	/* max 0 asks for none */
	ASSERT_EQ(0, ksync_sem_open_max(&s, NULL, 0, 0600, 5, 0));
	ASSERT_EQ(KSYNC_SEM_VALUE_MAX, ksync_sem_max(s));
	ASSERT_EQ(0, ksync_sem_close(s));
}

TEST(bad_maximums)
{
	ksync_sem_t *s;

	ASSERT_EQ(-EINVAL, ksync_sem_open_max(&s, NULL, 0, 0600, 4, 3));
	ASSERT_EQ(-EINVAL, ksync_sem_open_max(&s, NULL, 0, 0600, 0, KSYNC_SEM_VALUE_MAX + 1u));
	ASSERT_EQ(0, ksync_sem_open_max(&s, NULL, 0, 0600, 0, 1));
	ASSERT_EQ(1, ksync_sem_max(s));
	ASSERT_EQ(0, ksync_sem_close(s));
	ASSERT_EQ(-EINVAL, ksync_sem_max(NULL));
}

TEST_HARNESS_MAIN
