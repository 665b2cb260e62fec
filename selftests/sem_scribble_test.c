// SPDX-License-Identifier: GPL-2.0
/*
 * The shared page is user memory: any process that has the semaphore open
 * may write anything there.  While others wait, acquire, release and poll,
 * a scribbler writes random words.  The kernel must not crash, hang, loop
 * or leak (ksync-vm checks its log, rmmod and kmemleak); every call must
 * return within its deadline; and other semaphores must not notice.
 */
#include <stdatomic.h>
#include <sys/mman.h>

#include "common.h"
#include "rnd.h"
#include "stepper.h"
#include "kselftest_harness.h"

#define WORKERS 6
#define SECONDS 5

/* Words a scribbler would pick to hurt: limits, kernel bits, garbage. */
static uint64_t nasty(uint64_t *x)
{
	static const uint64_t words[] = {
		0,
		1,
		KSYNC_SEM_VALUE_MAX,
		0xffffffffULL,
		0x80000000ULL,
		~0ULL,
		0xffffffff00000000ULL,
		1ULL << 32,
		1ULL << 63,
		(1ULL << 63) | 5,
		0x7fffffff7fffffffULL,
	};
	uint64_t r = rnd(x);

	return r & 1 ? words[(r >> 1) % (sizeof(words) / sizeof(words[0]))] : rnd(x);
}

static int worker(ksync_sem_t *s, uint64_t seed, int64_t end)
{
	while (now_ns() < end) {
		unsigned int n = 1 + rnd(&seed) % 4;
		struct timespec dl = ksync_deadline_ms((long)(rnd(&seed) % 20));
		struct pollfd p = { .fd = ksync_sem_fd(s), .events = POLLIN };
		int64_t before = now_ns();
		int ret;

		switch (rnd(&seed) % 4) {
		case 0:
			ret = ksync_sem_acquire(s, n, &dl);
			if (ret && ret != -ETIMEDOUT)
				return 1;
			/* the deadline holds, whatever the word says (with slack for a busy guest)
			 */
			if (now_ns() - before > 5000000000LL)
				return 2;
			break;
		case 1:
			ret = ksync_sem_try_acquire(s, n);
			if (ret && ret != -EAGAIN)
				return 3;
			break;
		case 2:
			ret = ksync_sem_release(s, n);
			if (ret && ret != -EOVERFLOW)
				return 4;
			break;
		default:
			if (poll(&p, 1, 5) < 0)
				return 5;
			break;
		}
		if (ksync_sem_value(s) < 0)
			return 6;
	}
	return 0;
}

TEST(scribbled_page_hurts_nobody_else)
{
	long pg = sysconf(_SC_PAGESIZE);
	int base = ksync_objects();
	ksync_sem_t *victim, *bystander;
	pid_t pid[WORKERS], scribbler;
	_Atomic uint64_t *word;
	int i;

	ASSERT_EQ(0, ksync_sem_open(&victim, NULL, 0, 0600, 3));
	ASSERT_EQ(0, ksync_sem_open(&bystander, NULL, 0, 0600, 7));
	word = mmap(NULL, pg, PROT_READ | PROT_WRITE, MAP_SHARED, ksync_sem_fd(victim), 0);
	ASSERT_NE(MAP_FAILED, word);

	int64_t end = now_ns() + SECONDS * 1000000000LL;

	for (i = 0; i < WORKERS; i++) {
		pid[i] = fork();
		ASSERT_GE(pid[i], 0);
		if (pid[i] == 0)
			_exit(worker(victim, 0x9e3779b97f4a7c15ULL * (i + 1), end));
	}
	scribbler = fork();
	ASSERT_GE(scribbler, 0);
	if (scribbler == 0) {
		uint64_t x = 42;

		while (now_ns() < end) {
			atomic_store(word, nasty(&x));
			if (rnd(&x) % 8 == 0)
				pause_us(100);
		}
		_exit(0);
	}
	ASSERT_EQ(0, wait_child(scribbler, 60000));
	for (i = 0; i < WORKERS; i++)
		ASSERT_EQ(0, wait_child(pid[i], 60000));

	/*
	 * One more round aimed at the kernel's bounded retry: a scribbler
	 * rewrites the value as fast as it can, with the kernel's bits clear,
	 * while we release and take through the ioctls, where the kernel must
	 * compare-and-swap against it.
	 */
	{
		pid_t hammer;

		end = now_ns() + 2000000000LL;
		hammer = fork();
		ASSERT_GE(hammer, 0);
		if (hammer == 0) {
			uint64_t v = 0;

			while (now_ns() < end)
				for (int k = 0; k < 4096; k++)
					atomic_store_explicit(word, v++ & 0xffff,
							      memory_order_relaxed);
			_exit(0);
		}
		while (now_ns() < end) {
			struct ksync_sem_wait w = { .size = sizeof(w),
						    .count = 1,
						    .flags = KSYNC_WAIT_DEADLINE };
			struct ksync_sem_post p = { .size = sizeof(p), .count = 1 };

			ioctl(ksync_sem_fd(victim), KSYNC_IOC_SEM_RELEASE, &p);
			ioctl(ksync_sem_fd(victim), KSYNC_IOC_SEM_ACQUIRE, &w);
		}
		ASSERT_EQ(0, wait_child(hammer, 30000));
	}

	/* how often the kernel had to fence the fast paths off (for the log) */
	{
		char path[64], line[128];
		FILE *f;

		snprintf(path, sizeof(path), "/proc/self/fdinfo/%d", ksync_sem_fd(victim));
		f = fopen(path, "r");
		ASSERT_NE(NULL, f);
		while (fgets(line, sizeof(line), f))
			if (!strncmp(line, "ksync-fences:", 13))
				TH_LOG("%s", line);
		fclose(f);
	}

	/* the victim still works once the word is sane again */
	atomic_store(word, 2);
	ASSERT_EQ(0, ksync_sem_acquire(victim, 2, NULL));
	ASSERT_EQ(-EAGAIN, ksync_sem_try_acquire(victim, 1));
	ASSERT_EQ(0, ksync_sem_release(victim, 1));
	ASSERT_EQ(1, ksync_sem_value(victim));
	ASSERT_EQ(0, sem_waiters(victim));

	/* the bystander never noticed */
	ASSERT_EQ(7, ksync_sem_value(bystander));
	ASSERT_EQ(0, ksync_sem_acquire(bystander, 7, NULL));
	ASSERT_EQ(0, ksync_sem_value(bystander));

	munmap((void *)word, pg);
	ksync_sem_close(victim);
	ksync_sem_close(bystander);
	ASSERT_EQ(base, ksync_objects());
}

/*
 * A peer that rewrites the word between every two instructions of ours
 * (stepper.h) wins every compare-and-swap: the fast path must give up
 * and let the kernel, which bounds its own retries, do the call.  The
 * three calls below took about 2,600 instructions that way; a fast path
 * that retried until it won would never return.
 */
#define MAX_STEPS 20000

static void rewrite_value(void *word, long n)
{
	/* the kernel's bits clear and the value ample, never twice the same */
	atomic_store_explicit((_Atomic uint64_t *)word, 100 + (uint64_t)(n & 0xffff),
			      memory_order_relaxed);
}

/* read before stepping: see stepper.h */
static struct timespec far_deadline;

static int acquire_release_try(void *arg)
{
	ksync_sem_t *s = arg;

	if (ksync_sem_acquire(s, 1, &far_deadline))
		return 1;
	if (ksync_sem_release(s, 2))
		return 2;
	if (ksync_sem_try_acquire(s, 3))
		return 3;
	return 0;
}

/* Stepping is slow on a debugging kernel (milliseconds a step). */
FIXTURE(stepped)
{
	long steps;
};

FIXTURE_SETUP(stepped)
{
	self->steps = 0;
}

FIXTURE_TEARDOWN(stepped)
{
}

TEST_F_TIMEOUT(stepped, a_peer_that_wins_every_race, 180)
{
	long pg = sysconf(_SC_PAGESIZE);
	struct ksync_sem_stats st;
	_Atomic uint64_t *word;
	ksync_sem_t *s, *warm;

	ASSERT_EQ(0, ksync_sem_open(&s, NULL, 0, 0600, 3));
	ASSERT_EQ(0, ksync_sem_open(&warm, NULL, 0, 0600, 3));
	word = mmap(NULL, pg, PROT_READ | PROT_WRITE, MAP_SHARED, ksync_sem_fd(s), 0);
	ASSERT_NE(MAP_FAILED, word);
	far_deadline = ksync_deadline_ms(600000);
	ASSERT_EQ(0, run_stepped(acquire_release_try, s, warm, rewrite_value, (void *)word,
				 MAX_STEPS, &self->steps));
	TH_LOG("an acquire, a release and a try in %ld instructions", self->steps);
	/* the kernel did them: the fast path lost every race */
	ASSERT_EQ(0, ksync_sem_stats(s, &st));
	ASSERT_EQ(2ULL, st.wait_calls);
	ASSERT_EQ(1ULL, st.wake_calls);
	munmap((void *)word, pg);
	ASSERT_EQ(0, ksync_sem_close(s));
	ASSERT_EQ(0, ksync_sem_close(warm));
}

TEST_HARNESS_MAIN
