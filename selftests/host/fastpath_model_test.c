// SPDX-License-Identifier: GPL-2.0
/*
 * The userspace half of the semaphore protocol, natively, where
 * ThreadSanitizer and valgrind can see it: libksync's fast path
 * (ulib/sem_fast.h) against a stand-in for the kernel's slow path that
 * keeps the same rules as kmod/sem.c (FIFO waiters under a lock, the
 * sleeper count in the word's kernel bits, compare-and-swap while the
 * kernel's bits are clear, hand-over on release).
 *
 * This checks the fast path's atomics and the shape of the protocol; the
 * real guarantee is the guest test against the real module.
 */
#include <errno.h>
#include <pthread.h>
#include <sched.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <time.h>

#include "../../ulib/sem_fast.h"
#include "kselftest_harness.h"

#define SLEEPER (1ULL << 32)

struct waiter {
	struct waiter *next;
	uint32_t count;
	int granted;
	pthread_cond_t cv;
};

/* The "kernel": one lock, one FIFO, the word it shares with the fast path. */
struct model {
	ksync_word_t word;
	pthread_mutex_t lock;
	struct waiter *head, **tail;
	uint32_t nr_waiters;
	long wait_calls, wake_calls, woken;
};

static void model_init(struct model *m, uint32_t value)
{
	atomic_init(&m->word, value);
	pthread_mutex_init(&m->lock, NULL);
	m->head = NULL;
	m->tail = &m->head;
	m->nr_waiters = 0;
	m->wait_calls = m->wake_calls = m->woken = 0;
}

/* As sem_commit(): store while our bits are set, else compare-and-swap. */
static int commit(struct model *m, uint64_t *old, uint64_t new)
{
	if (m->nr_waiters) {
		atomic_store(&m->word, new);
		return 1;
	}
	return atomic_compare_exchange_strong(&m->word, old, new);
}

/* As sem_settle(): add, then hand over to the head while it is covered. */
static void settle(struct model *m, uint32_t add)
{
	uint64_t old = atomic_load(&m->word), new;
	uint32_t value, n;
	struct waiter *w;

	do {
		value = (uint32_t)old + add;
		n = 0;
		for (w = m->head; w && w->count <= value; w = w->next) {
			value -= w->count;
			n++;
		}
		new = value | (uint64_t)(m->nr_waiters - n) * SLEEPER;
	} while (!commit(m, &old, new));
	while (n--) {
		w = m->head;
		m->head = w->next;
		if (!m->head)
			m->tail = &m->head;
		m->nr_waiters--;
		m->woken++;
		w->granted = 1;
		pthread_cond_signal(&w->cv);
	}
}

static int model_acquire(struct model *m, uint32_t n, int try)
{
	struct waiter w = { .count = n };
	uint64_t old, new;
	int taken;

	if (ksync_fast_take(&m->word, n))
		return 0;
	pthread_mutex_lock(&m->lock);
	m->wait_calls++;
	old = atomic_load(&m->word);
	do {
		taken = !m->head && (uint32_t)old >= n;
		if (!taken && try) {
			pthread_mutex_unlock(&m->lock);
			return -EAGAIN;
		}
		new = taken ? old - n : old + SLEEPER;
	} while (!commit(m, &old, new));
	if (!taken) {
		pthread_cond_init(&w.cv, NULL);
		*m->tail = &w;
		m->tail = &w.next;
		m->nr_waiters++;
		while (!w.granted)
			pthread_cond_wait(&w.cv, &m->lock);
		pthread_cond_destroy(&w.cv);
	}
	pthread_mutex_unlock(&m->lock);
	return 0;
}

static int model_release(struct model *m, uint32_t n)
{
	int ret = ksync_fast_give(&m->word, n, KSYNC_SEM_VALUE_MAX);

	if (ret)
		return ret < 0 ? ret : 0;
	pthread_mutex_lock(&m->lock);
	m->wake_calls++;
	settle(m, n);
	pthread_mutex_unlock(&m->lock);
	return 0;
}

#define PERMITS 3
#define THREADS 6
#define ROUNDS 20000

struct run {
	struct model m;
	atomic_int inside;
	atomic_int violations;
	atomic_int errors;
	long exclusive; /* plain memory, touched only while holding every permit */
};

static void *hammer(void *arg)
{
	struct run *r = arg;
	unsigned int seed = (unsigned int)(uintptr_t)&seed;
	int i;

	for (i = 0; i < ROUNDS; i++) {
		uint32_t n = 1 + rand_r(&seed) % PERMITS;
		int try = rand_r(&seed) % 2;
		int ret = model_acquire(&r->m, n, try);

		if (ret == -EAGAIN)
			continue;
		if (ret) {
			atomic_fetch_add(&r->errors, 1);
			continue;
		}
		/* all permits: we are alone, so plain memory is ours; touch it
		 * before any other atomic, so that only the semaphore's own
		 * acquire and release order it (TSan checks) */
		if (n == PERMITS)
			r->exclusive++;
		if (atomic_fetch_add(&r->inside, (int)n) + (int)n > PERMITS)
			atomic_fetch_add(&r->violations, 1);
		/* hold the permits across a reschedule, so that others contend */
		if (rand_r(&seed) % 4 == 0)
			sched_yield();
		atomic_fetch_sub(&r->inside, (int)n);
		if (model_release(&r->m, n))
			atomic_fetch_add(&r->errors, 1);
	}
	return NULL;
}

TEST(fast_path_against_model)
{
	static struct run r;
	pthread_t th[THREADS];
	int i;

	model_init(&r.m, PERMITS);
	for (i = 0; i < THREADS; i++)
		ASSERT_EQ(0, pthread_create(&th[i], NULL, hammer, &r));
	for (i = 0; i < THREADS; i++)
		ASSERT_EQ(0, pthread_join(th[i], NULL));
	TH_LOG("slow path: %ld waits, %ld wakes, %ld woken", r.m.wait_calls, r.m.wake_calls,
	       r.m.woken);
	ASSERT_EQ(0, atomic_load(&r.violations));
	ASSERT_EQ(0, atomic_load(&r.errors));
	ASSERT_EQ((uint64_t)PERMITS, atomic_load(&r.m.word));
	ASSERT_EQ(0u, r.m.nr_waiters);
	/* both halves ran: the slow path slept and handed over */
	ASSERT_GT(r.m.woken, 0);
	ASSERT_GT(r.exclusive, 0);
}

/*
 * A binary semaphore taken and given only through the fast path guards
 * plain memory: ThreadSanitizer sees a data race unless the fast path's
 * compare-and-swaps order memory as acquire and release.
 */
struct mutex_run {
	struct model m;
	long plain;
};

static void *lock_loop(void *arg)
{
	struct mutex_run *r = arg;
	int i;

	for (i = 0; i < 100000; i++) {
		while (!ksync_fast_take(&r->m.word, 1))
			sched_yield();
		r->plain++;
		if (ksync_fast_give(&r->m.word, 1, KSYNC_SEM_VALUE_MAX) != 1)
			abort();
	}
	return NULL;
}

TEST(fast_path_orders_memory)
{
	static struct mutex_run r;
	pthread_t a, b;

	model_init(&r.m, 1);
	ASSERT_EQ(0, pthread_create(&a, NULL, lock_loop, &r));
	ASSERT_EQ(0, pthread_create(&b, NULL, lock_loop, &r));
	ASSERT_EQ(0, pthread_join(a, NULL));
	ASSERT_EQ(0, pthread_join(b, NULL));
	ASSERT_EQ(200000, r.plain);
}

TEST(fast_path_edges)
{
	ksync_word_t w;

	atomic_init(&w, 5);
	ASSERT_EQ(1, ksync_fast_take(&w, 5));
	ASSERT_EQ(0, ksync_fast_take(&w, 1));
	ASSERT_EQ(1, ksync_fast_give(&w, KSYNC_SEM_VALUE_MAX, KSYNC_SEM_VALUE_MAX));
	ASSERT_EQ(-EOVERFLOW, ksync_fast_give(&w, 1, KSYNC_SEM_VALUE_MAX));
	ASSERT_EQ(KSYNC_SEM_VALUE_MAX, ksync_fast_value(&w, KSYNC_SEM_VALUE_MAX));
	/* kernel bits set: hands off, whatever the value */
	atomic_store(&w, SLEEPER | 9);
	ASSERT_EQ(0, ksync_fast_take(&w, 1));
	ASSERT_EQ(0, ksync_fast_give(&w, 1, KSYNC_SEM_VALUE_MAX));
	ASSERT_EQ(SLEEPER | 9, atomic_load(&w));
	/* a scribbled value above the limit reads as the limit */
	atomic_store(&w, 0xffffffffULL);
	ASSERT_EQ(KSYNC_SEM_VALUE_MAX, ksync_fast_value(&w, KSYNC_SEM_VALUE_MAX));
	ASSERT_EQ(-EOVERFLOW, ksync_fast_give(&w, 1, KSYNC_SEM_VALUE_MAX));
}

/* A semaphore's maximum: a give that would pass it changes nothing. */
TEST(fast_give_max)
{
	ksync_word_t w;

	atomic_init(&w, 1);
	ASSERT_EQ(1, ksync_fast_give(&w, 2, 3));
	ASSERT_EQ(3, ksync_fast_value(&w, 3));
	/* a word past the maximum (a scribble) reads as the maximum, as the kernel reads it */
	atomic_store(&w, 100);
	ASSERT_EQ(3, ksync_fast_value(&w, 3));
	atomic_store(&w, 3);
	ASSERT_EQ(-EOVERFLOW, ksync_fast_give(&w, 1, 3));
	ASSERT_EQ(1, ksync_fast_take(&w, 2));
	ASSERT_EQ(-EOVERFLOW, ksync_fast_give(&w, 3, 3));
	ASSERT_EQ(-EOVERFLOW, ksync_fast_give(&w, 4, 3)); /* n alone past it */
	ASSERT_EQ(1ULL, atomic_load(&w));
	ASSERT_EQ(1, ksync_fast_give(&w, 2, 3));
	ASSERT_EQ(3ULL, atomic_load(&w));
}

TEST_HARNESS_MAIN
