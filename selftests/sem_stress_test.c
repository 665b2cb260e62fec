// SPDX-License-Identifier: GPL-2.0
/*
 * Many processes hammer one semaphore of K permits with weighted, timed
 * and non-blocking acquires.  A counter in shared memory checks the
 * invariant users rely on: never more than K permits' worth inside.  At
 * the end every permit is back.
 */
#include <pthread.h>
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

/*
 * Threads in several processes, with signals flying: random weighted,
 * timed and non-blocking acquires, holds of random short length, and
 * SIGUSR1 at random threads (no SA_RESTART, so waits end with -EINTR).
 * Every wait has a deadline far beyond any fair wait: hitting one fails.
 */
#define T_PROCS 4
#define T_THREADS 4
#define T_SECONDS 15

struct tboard {
	atomic_int inside;
	atomic_int violations;
	atomic_int errors;
	atomic_long ops;
	atomic_long eintr;
	int64_t end;
};

struct tctx {
	ksync_sem_t *s;
	struct tboard *b;
	unsigned int seed;
};

static void on_usr1(int sig)
{
	(void)sig;
}

static void hold_briefly(unsigned int *seed)
{
	struct timespec ts = { 0, (long)(rand_r(seed) % 200) * 1000 };

	if (rand_r(seed) % 2)
		nanosleep(&ts, NULL);
}

static void *tworker(void *arg)
{
	struct tctx *c = arg;
	struct tboard *b = c->b;

	while (now_ns() < b->end) {
		unsigned int n = 1 + rand_r(&c->seed) % 3;
		int kind = rand_r(&c->seed) % 3;
		struct timespec dl;
		int ret, v;

		if (kind == 1) {
			ret = ksync_sem_try_acquire(c->s, n);
		} else {
			/* "forever" is 20 s: a fair wait here is milliseconds */
			dl = ksync_deadline_ms(kind == 0 ? 20000 : rand_r(&c->seed) % 5);
			ret = ksync_sem_acquire(c->s, n, &dl);
		}
		v = ksync_sem_value(c->s);
		if (v < 0 || v > PERMITS)
			atomic_fetch_add(&b->violations, 1);
		if (ret == -EINTR) {
			atomic_fetch_add(&b->eintr, 1);
			continue;
		}
		if ((ret == -EAGAIN && kind == 1) || (ret == -ETIMEDOUT && kind == 2))
			continue;
		if (ret) {
			atomic_fetch_add(&b->errors, 1);
			continue;
		}
		if (atomic_fetch_add(&b->inside, (int)n) + (int)n > PERMITS)
			atomic_fetch_add(&b->violations, 1);
		hold_briefly(&c->seed);
		atomic_fetch_sub(&b->inside, (int)n);
		if (ksync_sem_release(c->s, n))
			atomic_fetch_add(&b->errors, 1);
		atomic_fetch_add(&b->ops, 1);
	}
	return NULL;
}

static int tprocess(ksync_sem_t *s, struct tboard *b, unsigned int seed)
{
	struct sigaction sa = { .sa_handler = on_usr1 };
	struct tctx ctx[T_THREADS];
	pthread_t th[T_THREADS];
	int i;

	sigaction(SIGUSR1, &sa, NULL);
	for (i = 0; i < T_THREADS; i++) {
		ctx[i] = (struct tctx){ .s = s, .b = b, .seed = seed * 31 + (unsigned int)i };
		if (pthread_create(&th[i], NULL, tworker, &ctx[i]))
			return 1;
	}
	/* this thread is the signaller */
	while (now_ns() < b->end) {
		struct timespec ts = { 0, 1000000 };

		pthread_kill(th[rand_r(&seed) % T_THREADS], SIGUSR1);
		nanosleep(&ts, NULL);
	}
	for (i = 0; i < T_THREADS; i++)
		pthread_join(th[i], NULL);
	return 0;
}

TEST_F_TIMEOUT(stress, threads_signals_and_deadlines, 240)
{
	struct tboard *b =
		mmap(NULL, sizeof(*b), PROT_READ | PROT_WRITE, MAP_SHARED | MAP_ANONYMOUS, -1, 0);
	pid_t pid[T_PROCS];
	ksync_sem_t *s;
	int i;

	ASSERT_NE(MAP_FAILED, b);
	ASSERT_EQ(0, ksync_sem_open(&s, NULL, 0, 0600, PERMITS));
	b->end = now_ns() + T_SECONDS * 1000000000LL;
	for (i = 0; i < T_PROCS; i++) {
		pid[i] = fork();
		ASSERT_GE(pid[i], 0);
		if (pid[i] == 0)
			_exit(tprocess(s, b, (unsigned int)i + 7));
	}
	for (i = 0; i < T_PROCS; i++)
		ASSERT_EQ(0, wait_child(pid[i], 120000));
	TH_LOG("%ld operations, %ld waits ended by signals", atomic_load(&b->ops),
	       atomic_load(&b->eintr));
	ASSERT_EQ(0, atomic_load(&b->violations));
	ASSERT_EQ(0, atomic_load(&b->errors));
	ASSERT_GT(atomic_load(&b->ops), 0);
	ASSERT_EQ(PERMITS, ksync_sem_value(s));
	ASSERT_EQ(0, sem_waiters(s));
	ksync_sem_close(s);
}

TEST_HARNESS_MAIN
