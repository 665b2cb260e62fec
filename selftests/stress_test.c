// SPDX-License-Identifier: GPL-2.0
/*
 * Many processes hammer one semaphore of K permits with weighted, timed
 * and non-blocking acquires.  A counter in shared memory checks the
 * invariant users rely on: never more than K permits' worth inside.  At
 * the end every permit is back.
 */
#include <sched.h>
#include <stdatomic.h>
#include <sys/mman.h>

#include "common.h"
#include "kselftest_harness.h"

#define PERMITS 5
#define PROCS 8
#define ROUNDS 400

struct board {
	atomic_int inside; /* permits held right now, by everyone */
	atomic_int most;
	atomic_int violations;
	atomic_int timeouts;
};

static int hammer(ksync_sem_t *s, struct board *b, unsigned int seed)
{
	int i;

	for (i = 0; i < ROUNDS; i++) {
		unsigned int n = 1 + rand_r(&seed) % 3;
		struct timespec dl;
		int ret, now, most;

		switch (rand_r(&seed) % 3) {
		case 0:
			ret = ksync_sem_acquire(s, n, NULL);
			break;
		case 1:
			ret = ksync_sem_try_acquire(s, n);
			break;
		default:
			dl = ksync_deadline_ms(rand_r(&seed) % 3);
			ret = ksync_sem_acquire(s, n, &dl);
			break;
		}
		if (ret == -EAGAIN || ret == -ETIMEDOUT) {
			atomic_fetch_add(&b->timeouts, 1);
			continue;
		}
		if (ret)
			return 1;
		now = atomic_fetch_add(&b->inside, (int)n) + (int)n;
		if (now > PERMITS)
			atomic_fetch_add(&b->violations, 1);
		most = atomic_load(&b->most);
		while (now > most && !atomic_compare_exchange_weak(&b->most, &most, now))
			;
		if (rand_r(&seed) % 4 == 0)
			sched_yield();
		atomic_fetch_sub(&b->inside, (int)n);
		if (ksync_sem_release(s, n))
			return 2;
	}
	return 0;
}

FIXTURE(stress)
{
	int unused;
};

FIXTURE_SETUP(stress)
{
}

FIXTURE_TEARDOWN(stress)
{
}

TEST_F_TIMEOUT(stress, many_processes_never_more_than_k_inside, 240)
{
	struct board *b =
		mmap(NULL, sizeof(*b), PROT_READ | PROT_WRITE, MAP_SHARED | MAP_ANONYMOUS, -1, 0);
	const char *name = test_name("stress");
	pid_t pid[PROCS];
	ksync_sem_t *s;
	int i;

	ASSERT_NE(MAP_FAILED, b);
	ASSERT_EQ(0, ksync_sem_open(&s, name, KSYNC_CREATE | KSYNC_EXCL, 0600, PERMITS));
	for (i = 0; i < PROCS; i++) {
		pid[i] = fork();
		ASSERT_GE(pid[i], 0);
		if (pid[i] == 0) {
			ksync_sem_t *mine;

			/* half share the parent's fd, half open the name */
			if (i & 1)
				_exit(hammer(s, b, (unsigned int)i + 1));
			if (ksync_sem_open(&mine, name, 0, 0, 0))
				_exit(3);
			_exit(hammer(mine, b, (unsigned int)i + 1));
		}
	}
	for (i = 0; i < PROCS; i++)
		ASSERT_EQ(0, wait_child(pid[i], 200000));
	TH_LOG("most inside %d of %d, %d gave up", atomic_load(&b->most), PERMITS,
	       atomic_load(&b->timeouts));
	ASSERT_EQ(0, atomic_load(&b->violations));
	ASSERT_LE(atomic_load(&b->most), PERMITS);
	ASSERT_EQ(PERMITS, ksync_sem_value(s));
	ASSERT_EQ(0, sem_waiters(s));
	ksync_sem_close(s);
	ASSERT_EQ(0, ksync_unlink(name));
}

TEST_HARNESS_MAIN
