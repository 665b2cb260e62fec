// SPDX-License-Identifier: GPL-2.0
/*
 * Events as users rely on them: a manual set lets every waiter and every
 * later wait pass until a reset; an auto set lets exactly one pass, under
 * any race of waiters, setters and deadlines; deadlines and signals as for
 * every wait; the fast path makes no system call; a scribbled page spoils
 * only its own event; names, types, fdinfo, the listing and who.
 */
#include <pthread.h>
#include <sched.h>
#include <stdatomic.h>
#include <sys/mman.h>

#include "common.h"
#include "rnd.h"
#include "kselftest_harness.h"

/* A child that waits on e for ms; exit 0 passed, 2 -EINTR, 3 -ETIMEDOUT. */
static pid_t waiting_child(ksync_event_t *e, long ms)
{
	pid_t pid = fork();

	if (pid == 0) {
		struct timespec dl = ksync_deadline_ms(ms);
		int ret = ksync_event_wait(e, &dl);

		_exit(ret == 0 ? 0 : ret == -EINTR ? 2 : ret == -ETIMEDOUT ? 3 : 4);
	}
	return pid;
}

/* A wait that must not pass: its deadline is already over. */
static int try_wait(ksync_event_t *e)
{
	struct timespec past = ksync_deadline_ms(-1);

	return ksync_event_wait(e, &past);
}

#define SLEEPERS 8

/* For the tests that need a longer timeout than the harness's default. */
FIXTURE(slow)
{
	int unused;
};

FIXTURE_SETUP(slow)
{
}

FIXTURE_TEARDOWN(slow)
{
}

TEST(manual_set_lets_every_waiter_and_later_wait_pass)
{
	pid_t pid[SLEEPERS];
	ksync_event_t *e;

	ASSERT_EQ(0, ksync_event_open(&e, NULL, 0, 0600, 0));
	ASSERT_EQ(0, ksync_event_auto(e));
	ASSERT_EQ(0, ksync_event_is_set(e));
	for (int i = 0; i < SLEEPERS; i++)
		ASSERT_LT(0, pid[i] = waiting_child(e, 20000));
	ASSERT_TRUE(wait_ev_waiters(e, SLEEPERS, 10000));
	ASSERT_EQ(0, ksync_event_set(e));
	for (int i = 0; i < SLEEPERS; i++)
		ASSERT_EQ(0, wait_child(pid[i], 10000));
	ASSERT_EQ((unsigned long long)SLEEPERS, ev_stats(e).woken);
	/* it stays set: every later wait passes, in this process and others */
	ASSERT_EQ(1, ksync_event_is_set(e));
	for (int i = 0; i < 3; i++)
		ASSERT_EQ(0, try_wait(e));
	ASSERT_LT(0, pid[0] = waiting_child(e, 1));
	ASSERT_EQ(0, wait_child(pid[0], 10000));
	/* until a reset */
	ASSERT_EQ(0, ksync_event_reset(e));
	ASSERT_EQ(0, ksync_event_is_set(e));
	ASSERT_EQ(-ETIMEDOUT, try_wait(e));
	ASSERT_EQ(0, ksync_event_close(e));
}

TEST(auto_set_lets_exactly_one_pass)
{
	pid_t pid[3];
	int passed = 0;
	ksync_event_t *e;

	ASSERT_EQ(0, ksync_event_open(&e, NULL, KSYNC_EVENT_AUTO, 0600, 0));
	ASSERT_EQ(1, ksync_event_auto(e));
	for (int i = 0; i < 3; i++) {
		ASSERT_LT(0, pid[i] = waiting_child(e, 20000));
		/* one at a time: the FIFO is the order they came in */
		ASSERT_TRUE(wait_ev_waiters(e, (unsigned int)i + 1, 10000));
	}
	for (int i = 0; i < 3; i++) {
		ASSERT_EQ(0, ksync_event_set(e));
		/* the head of the FIFO passes, and takes the set state with it */
		ASSERT_EQ(0, wait_child(pid[i], 10000));
		passed++;
		ASSERT_EQ(0, ksync_event_is_set(e));
		ASSERT_EQ(3u - passed, ev_stats(e).waiters);
	}
	ASSERT_EQ(3ULL, ev_stats(e).woken);
	/* nobody waits: the set stays for the next wait, which takes it */
	ASSERT_EQ(0, ksync_event_set(e));
	ASSERT_EQ(1, ksync_event_is_set(e));
	ASSERT_EQ(0, try_wait(e));
	ASSERT_EQ(0, ksync_event_is_set(e));
	ASSERT_EQ(-ETIMEDOUT, try_wait(e));
	ASSERT_EQ(0, ksync_event_close(e));
}

/* Sets do not count up: a set of a set event changes nothing. */
TEST(set_on_set_changes_nothing)
{
	ksync_event_t *m, *a;

	ASSERT_EQ(0, ksync_event_open(&m, NULL, 0, 0600, 1));
	ASSERT_EQ(1, ksync_event_is_set(m));
	ASSERT_EQ(0, ksync_event_set(m));
	ASSERT_EQ(0, ksync_event_set(m));
	ASSERT_EQ(1, ksync_event_is_set(m));
	ASSERT_EQ(0, ksync_event_reset(m));
	ASSERT_EQ(0, ksync_event_reset(m));
	ASSERT_EQ(0, ksync_event_is_set(m));
	ASSERT_EQ(-ETIMEDOUT, try_wait(m));

	ASSERT_EQ(0, ksync_event_open(&a, NULL, KSYNC_EVENT_AUTO, 0600, 0));
	ASSERT_EQ(0, ksync_event_set(a));
	ASSERT_EQ(0, ksync_event_set(a));
	ASSERT_EQ(0, try_wait(a));
	ASSERT_EQ(-ETIMEDOUT, try_wait(a));
	/* through the kernel alike */
	struct ksync_event_ctl ctl = { .size = sizeof(ctl) };

	ASSERT_EQ(0, ioctl(ksync_event_fd(a), KSYNC_IOC_EVENT_SET, &ctl));
	ASSERT_EQ(0, ioctl(ksync_event_fd(a), KSYNC_IOC_EVENT_SET, &ctl));
	ASSERT_EQ(0, try_wait(a));
	ASSERT_EQ(-ETIMEDOUT, try_wait(a));
	ASSERT_EQ(0, ioctl(ksync_event_fd(m), KSYNC_IOC_EVENT_SET, &ctl));
	ASSERT_EQ(0, ioctl(ksync_event_fd(m), KSYNC_IOC_EVENT_RESET, &ctl));
	ASSERT_EQ(0, ksync_event_is_set(m));
	ASSERT_EQ(0, ksync_event_close(a));
	ASSERT_EQ(0, ksync_event_close(m));
}

/* A reset leaves sleepers asleep; the next set lets them pass. */
TEST(reset_does_not_wake_sleepers)
{
	ksync_event_t *e;
	pid_t pid;

	ASSERT_EQ(0, ksync_event_open(&e, NULL, 0, 0600, 0));
	ASSERT_LT(0, pid = waiting_child(e, 20000));
	ASSERT_TRUE(wait_ev_waiters(e, 1, 10000));
	ASSERT_EQ(0, ksync_event_reset(e));
	ASSERT_EQ(1u, ev_stats(e).waiters);
	ASSERT_EQ(0, ksync_event_set(e));
	ASSERT_EQ(0, wait_child(pid, 10000));
	ASSERT_EQ(0, ksync_event_close(e));
}

/*
 * Exactly once, under a race: waiter processes wait with short random
 * deadlines (so that some time out as a set reaches them), or try with
 * a deadline already past, again and again (so that, while nobody
 * sleeps, sets and takes go on the page alone), setter
 * processes take a credit (a semaphore of one permit) before each set,
 * and whoever passes gives the credit back.  So every set finds the event
 * clear and must let exactly one wait pass: a set taken twice gives back
 * two credits, a set lost leaves the setters without one (their deadline
 * fails the test).  Counted at the end.
 */
#define RACE_WAITERS 6
#define RACE_SETTERS 3
#define RACE_SETS 3000

struct race {
	atomic_long passes;
	atomic_long sets;
	atomic_int stop;
};

static int race_waiter(ksync_event_t *e, ksync_sem_t *credit, struct race *r, uint64_t seed,
		       int spin)
{
	while (!atomic_load(&r->stop)) {
		struct timespec dl = ksync_deadline_ms(spin ? -1 : (long)(rnd(&seed) % 3));
		int ret = ksync_event_wait(e, &dl);

		if (ret == -ETIMEDOUT) {
			if (spin)
				pause_us(20);
			continue;
		}
		if (ret)
			return 1;
		atomic_fetch_add(&r->passes, 1);
		if (ksync_sem_release(credit, 1))
			return 2;
	}
	return 0;
}

static int race_setter(ksync_event_t *e, ksync_sem_t *credit, struct race *r)
{
	for (;;) {
		struct timespec dl = ksync_deadline_ms(20000);

		if (atomic_fetch_add(&r->sets, 1) >= RACE_SETS)
			return 0;
		if (ksync_sem_acquire(credit, 1, &dl))
			return 1; /* a set was lost (or taken twice, and then...) */
		if (ksync_event_set(e))
			return 2;
	}
}

TEST_F_TIMEOUT(slow, auto_exactly_once_under_a_race, 300)
{
	struct race *r =
		mmap(NULL, sizeof(*r), PROT_READ | PROT_WRITE, MAP_SHARED | MAP_ANONYMOUS, -1, 0);
	pid_t w[RACE_WAITERS], s[RACE_SETTERS];
	ksync_sem_t *credit;
	ksync_event_t *e;
	int64_t end;

	ASSERT_NE(MAP_FAILED, r);
	ASSERT_EQ(0, ksync_event_open(&e, NULL, KSYNC_EVENT_AUTO, 0600, 0));
	ASSERT_EQ(0, ksync_sem_open(&credit, NULL, 0, 0600, 1));
	for (int i = 0; i < RACE_WAITERS; i++) {
		w[i] = fork();
		ASSERT_LE(0, w[i]);
		if (w[i] == 0)
			_exit(race_waiter(e, credit, r, 0x9e3779b97f4a7c15ULL * (i + 1), i & 1));
	}
	for (int i = 0; i < RACE_SETTERS; i++) {
		s[i] = fork();
		ASSERT_LE(0, s[i]);
		if (s[i] == 0)
			_exit(race_setter(e, credit, r));
	}
	for (int i = 0; i < RACE_SETTERS; i++)
		ASSERT_EQ(0, wait_child(s[i], 240000));
	/* the last set's pass, then nothing more */
	end = now_ns() + 20000000000LL;
	while (atomic_load(&r->passes) < RACE_SETS && now_ns() < end)
		pause_us(1000);
	atomic_store(&r->stop, 1);
	for (int i = 0; i < RACE_WAITERS; i++)
		ASSERT_EQ(0, wait_child(w[i], 20000));
	ASSERT_EQ(RACE_SETS, atomic_load(&r->passes));
	ASSERT_EQ(1, ksync_sem_value(credit));
	ASSERT_EQ(0, ksync_event_is_set(e));
	ASSERT_EQ(0u, ev_stats(e).waiters);
	struct ksync_event_shared *page =
		mmap(NULL, 4096, PROT_READ, MAP_SHARED, ksync_event_fd(e), 0);

	ASSERT_NE(MAP_FAILED, page);
	TH_LOG("%d sets: %llu through the kernel, %llu sleepers woken, %llu on the page, "
	       "%llu taken there",
	       RACE_SETS, ev_stats(e).set_calls, ev_stats(e).woken, page->fast_sets,
	       page->fast_waits);
	munmap(page, 4096);
	ksync_sem_close(credit);
	ksync_event_close(e);
	munmap(r, sizeof(*r));
}

/*
 * A waiter killed between an auto set's claim and its return passes the
 * set on.  To hold it there: it shares one CPU with us, and we run there
 * as a real-time task from the set to the kill, so that it cannot run in
 * between; the next sleeper must then get the set.
 */
TEST(a_killed_waiter_passes_the_set_on)
{
	struct sched_param rt = { .sched_priority = 1 }, normal = { 0 };
	int cpu = sched_getcpu();
	ksync_event_t *e;
	cpu_set_t one;
	pid_t a, b;

	ASSERT_LE(0, cpu);
	CPU_ZERO(&one);
	CPU_SET(cpu, &one);
	ASSERT_EQ(0, ksync_event_open(&e, NULL, KSYNC_EVENT_AUTO, 0600, 0));
	a = fork();
	ASSERT_LE(0, a);
	if (a == 0) {
		struct timespec dl = ksync_deadline_ms(20000);

		if (sched_setaffinity(0, sizeof(one), &one))
			_exit(5);
		_exit(ksync_event_wait(e, &dl) ? 1 : 0);
	}
	ASSERT_TRUE(wait_ev_waiters(e, 1, 10000));
	ASSERT_LT(0, b = waiting_child(e, 20000));
	ASSERT_TRUE(wait_ev_waiters(e, 2, 10000));
	ASSERT_EQ(0, sched_setaffinity(0, sizeof(one), &one));
	if (sched_setscheduler(0, SCHED_FIFO, &rt)) {
		kill(a, SIGKILL);
		kill(b, SIGKILL);
		wait_child(a, 10000);
		wait_child(b, 10000);
		SKIP(return, "no real-time scheduling here: %s", strerror(errno));
	}
	/* from here to the kill, a cannot run: it is claimed, not yet back */
	ASSERT_EQ(0, ksync_event_set(e));
	ASSERT_EQ(0, kill(a, SIGKILL));
	ASSERT_EQ(0, sched_setscheduler(0, SCHED_OTHER, &normal));
	ASSERT_EQ(128 + SIGKILL, wait_child(a, 10000));
	/* the set went on to b, not into the grave with a */
	ASSERT_EQ(0, wait_child(b, 10000));
	ASSERT_EQ(0, ksync_event_is_set(e));
	ASSERT_EQ(2ULL, ev_stats(e).woken);
	ASSERT_EQ(0, ksync_event_close(e));
}

/* A deadline ends a wait no earlier than it says, nor much later. */
TEST(returns_no_earlier_than_its_deadline)
{
	ksync_event_t *e;

	ASSERT_EQ(0, ksync_event_open(&e, NULL, KSYNC_EVENT_AUTO, 0600, 0));
	for (int i = 0; i < 5; i++) {
		struct timespec dl = ksync_deadline_ms(30);
		int64_t t;

		ASSERT_EQ(-ETIMEDOUT, ksync_event_wait(e, &dl));
		t = now_ns();
		ASSERT_LE(ts_ns(&dl), t);
		ASSERT_GT(ts_ns(&dl) + 2000000000LL, t);
	}
	ASSERT_EQ(0u, ev_stats(e).waiters);
	ASSERT_EQ(0, ksync_event_close(e));
}

/* A deadline already past tries once: it passes on a set event, through the kernel too. */
TEST(past_deadline_tries_once)
{
	struct ksync_event_wait w = { .size = sizeof(w), .flags = KSYNC_WAIT_DEADLINE };
	ksync_event_t *m, *a;

	ASSERT_EQ(0, ksync_event_open(&m, NULL, 0, 0600, 0));
	ASSERT_EQ(0, ksync_event_open(&a, NULL, KSYNC_EVENT_AUTO, 0600, 0));
	ASSERT_EQ(-1, ioctl(ksync_event_fd(m), KSYNC_IOC_EVENT_WAIT, &w));
	ASSERT_EQ(ETIMEDOUT, errno);
	ASSERT_EQ(0, ksync_event_set(m));
	ASSERT_EQ(0, ioctl(ksync_event_fd(m), KSYNC_IOC_EVENT_WAIT, &w));
	ASSERT_EQ(0, ksync_event_set(a));
	ASSERT_EQ(0, ioctl(ksync_event_fd(a), KSYNC_IOC_EVENT_WAIT, &w));
	ASSERT_EQ(-1, ioctl(ksync_event_fd(a), KSYNC_IOC_EVENT_WAIT, &w));
	ASSERT_EQ(ETIMEDOUT, errno);
	ASSERT_EQ(0u, ev_stats(a).waiters);
	ASSERT_EQ(0, ksync_event_close(m));
	ASSERT_EQ(0, ksync_event_close(a));
}

static void on_usr1(int sig)
{
	(void)sig;
}

/* -EINTR only when a handler ran; stop and continue do not end the wait. */
TEST(signals)
{
	struct sigaction sa = { .sa_handler = on_usr1 };
	ksync_event_t *e;
	pid_t pid;

	ASSERT_EQ(0, ksync_event_open(&e, NULL, KSYNC_EVENT_AUTO, 0600, 0));
	/* a handler: -EINTR (the child inherits it) */
	ASSERT_EQ(0, sigaction(SIGUSR1, &sa, NULL));
	ASSERT_LT(0, pid = waiting_child(e, 20000));
	ASSERT_TRUE(wait_ev_waiters(e, 1, 10000));
	ASSERT_EQ(0, kill(pid, SIGUSR1));
	ASSERT_EQ(2, wait_child(pid, 10000));
	ASSERT_EQ(0u, ev_stats(e).waiters);
	signal(SIGUSR1, SIG_DFL);

	/* an ignored signal, then a stop and a continue: it waits on */
	ASSERT_LT(0, pid = waiting_child(e, 20000));
	ASSERT_TRUE(wait_ev_waiters(e, 1, 10000));
	ASSERT_EQ(0, kill(pid, SIGCHLD));
	ASSERT_EQ(0, kill(pid, SIGSTOP));
	ASSERT_TRUE(wait_stopped(pid, WUNTRACED));
	ASSERT_EQ(0, kill(pid, SIGCONT));
	ASSERT_TRUE(wait_stopped(pid, WCONTINUED));
	ASSERT_TRUE(wait_ev_waiters(e, 1, 10000));
	ASSERT_EQ(0, ksync_event_set(e));
	ASSERT_EQ(0, wait_child(pid, 10000));
	/* its pass took the set */
	ASSERT_EQ(0, ksync_event_is_set(e));

	/* stopped past its deadline: the restarted wait times out, not -EINTR */
	ASSERT_LT(0, pid = waiting_child(e, 1000));
	ASSERT_TRUE(wait_ev_waiters(e, 1, 10000));
	ASSERT_EQ(0, kill(pid, SIGSTOP));
	ASSERT_TRUE(wait_stopped(pid, WUNTRACED));
	pause_us(1200000);
	ASSERT_EQ(0, kill(pid, SIGCONT));
	ASSERT_EQ(3, wait_child(pid, 10000));

	/* killed asleep: no trace left */
	ASSERT_LT(0, pid = waiting_child(e, 20000));
	ASSERT_TRUE(wait_ev_waiters(e, 1, 10000));
	ASSERT_EQ(0, kill(pid, SIGKILL));
	ASSERT_EQ(128 + SIGKILL, wait_child(pid, 10000));
	ASSERT_EQ(0u, ev_stats(e).waiters);
	/* and the fast path is back */
	ASSERT_EQ(0, ksync_event_set(e));
	ASSERT_EQ(0, try_wait(e));
	ASSERT_EQ(0, ksync_event_close(e));
}

/*
 * is_set, a wait on a set manual event, and (nobody sleeping or polling)
 * set, reset and an auto event's wait that finds it set: no system call,
 * by the kernel's own counters.
 */
TEST_F_TIMEOUT(slow, fast_path_makes_no_system_call, 120)
{
	struct ksync_event_stats st;
	ksync_event_t *m, *a;

	ASSERT_EQ(0, ksync_event_open(&m, NULL, 0, 0600, 1));
	ASSERT_EQ(0, ksync_event_open(&a, NULL, KSYNC_EVENT_AUTO, 0600, 0));
	for (int i = 0; i < 1000000; i++) {
		ASSERT_EQ(1, ksync_event_is_set(m));
		ASSERT_EQ(0, ksync_event_wait(m, NULL));
	}
	for (int i = 0; i < 100000; i++) {
		ASSERT_EQ(0, ksync_event_set(a));
		ASSERT_EQ(0, ksync_event_wait(a, NULL));
		ASSERT_EQ(0, ksync_event_reset(m));
		ASSERT_EQ(0, ksync_event_set(m));
	}
	st = ev_stats(m);
	ASSERT_EQ(0ULL, st.wait_calls);
	ASSERT_EQ(0ULL, st.set_calls);
	ASSERT_EQ(0ULL, st.reset_calls);
	st = ev_stats(a);
	ASSERT_EQ(0ULL, st.wait_calls);
	ASSERT_EQ(0ULL, st.set_calls);
	/* a wait that must sleep does enter it, and counts */
	ASSERT_EQ(-ETIMEDOUT, try_wait(a));
	ASSERT_EQ(1ULL, ev_stats(a).wait_calls);
	ASSERT_EQ(0, ksync_event_close(a));
	ASSERT_EQ(0, ksync_event_close(m));
}

/* While somebody sleeps, a set must reach the kernel, and does. */
TEST(set_with_a_sleeper_enters_the_kernel)
{
	ksync_event_t *e;
	pid_t pid;

	ASSERT_EQ(0, ksync_event_open(&e, NULL, 0, 0600, 0));
	ASSERT_LT(0, pid = waiting_child(e, 20000));
	ASSERT_TRUE(wait_ev_waiters(e, 1, 10000));
	ASSERT_EQ(0, ksync_event_set(e));
	ASSERT_EQ(1ULL, ev_stats(e).set_calls);
	ASSERT_EQ(0, wait_child(pid, 10000));
	/* nobody sleeps now: the page again */
	ASSERT_EQ(0, ksync_event_reset(e));
	ASSERT_EQ(0ULL, ev_stats(e).reset_calls);
	ASSERT_EQ(0, ksync_event_close(e));
}

/* Words a scribbler would pick to hurt: kernel bits, garbage. */
static uint64_t nasty(uint64_t *x)
{
	static const uint64_t words[] = {
		0,
		1,
		2,
		3,
		~0ULL,
		0xffffffff00000000ULL,
		1ULL << 32,
		1ULL << 63,
		(1ULL << 63) | 1,
		0xfffffffeULL,
	};
	uint64_t r = rnd(x);

	return r & 1 ? words[(r >> 1) % (sizeof(words) / sizeof(words[0]))] : rnd(x);
}

/*
 * The page is user memory: a scribbler writes random words while others
 * wait, set, reset and poll.  Every call returns within its deadline, and
 * another event, made before and used alongside, does not notice; once the
 * scribbler stops, a reset and a set bring the event back to work.
 */
TEST_F_TIMEOUT(slow, page_scribbling_harms_only_the_event, 120)
{
	ksync_event_t *e, *other;
	volatile uint64_t *word;
	int64_t end = now_ns() + 3000000000LL;
	pid_t pid[4], scribbler;

	ASSERT_EQ(0, ksync_event_open(&e, NULL, KSYNC_EVENT_AUTO, 0600, 0));
	ASSERT_EQ(0, ksync_event_open(&other, NULL, 0, 0600, 0));
	word = mmap(NULL, 4096, PROT_READ | PROT_WRITE, MAP_SHARED, ksync_event_fd(e), 0);
	ASSERT_NE(MAP_FAILED, word);
	scribbler = fork();
	ASSERT_LE(0, scribbler);
	if (scribbler == 0) {
		uint64_t x = 42;

		while (now_ns() < end)
			*word = nasty(&x);
		_exit(0);
	}
	for (int i = 0; i < 4; i++) {
		pid[i] = fork();
		ASSERT_LE(0, pid[i]);
		if (pid[i] == 0) {
			uint64_t x = (uint64_t)i + 7;

			while (now_ns() < end) {
				struct timespec dl = ksync_deadline_ms((long)(rnd(&x) % 10));
				struct pollfd p = { .fd = ksync_event_fd(e), .events = POLLIN };
				int64_t before = now_ns();
				int ret = 0;

				switch (rnd(&x) % 4) {
				case 0:
					ret = ksync_event_wait(e, &dl);
					if (ret == -ETIMEDOUT)
						ret = 0;
					if (now_ns() - before > 5000000000LL)
						_exit(9);
					break;
				case 1:
					ret = ksync_event_set(e);
					break;
				case 2:
					ret = ksync_event_reset(e);
					break;
				default:
					ret = poll(&p, 1, 2) < 0 ? -errno : 0;
					break;
				}
				if (ret)
					_exit(i + 1);
				/* the other event is untouched */
				if (ksync_event_is_set(other))
					_exit(8);
			}
			_exit(0);
		}
	}
	ASSERT_EQ(0, wait_child(scribbler, 60000));
	for (int i = 0; i < 4; i++)
		ASSERT_EQ(0, wait_child(pid[i], 60000));
	/* the other event still works */
	ASSERT_EQ(0, ksync_event_set(other));
	ASSERT_EQ(0, try_wait(other));
	/* and this one, once its word is honest again */
	*word = 0;
	ASSERT_EQ(0, ksync_event_set(e));
	ASSERT_EQ(0, try_wait(e));
	ASSERT_EQ(-ETIMEDOUT, try_wait(e));
	ASSERT_EQ(0u, ev_stats(e).waiters);
	munmap((void *)word, 4096);
	ASSERT_EQ(0, ksync_event_close(other));
	ASSERT_EQ(0, ksync_event_close(e));
}

/* Whatever the word says, the kernel sleeps and wakes by its own counts. */
TEST(a_scribbled_word_does_not_strand_a_sleeper)
{
	volatile uint64_t *word;
	ksync_event_t *e;
	pid_t pid;

	ASSERT_EQ(0, ksync_event_open(&e, NULL, 0, 0600, 0));
	word = mmap(NULL, 4096, PROT_READ | PROT_WRITE, MAP_SHARED, ksync_event_fd(e), 0);
	ASSERT_NE(MAP_FAILED, word);
	ASSERT_LT(0, pid = waiting_child(e, 20000));
	ASSERT_TRUE(wait_ev_waiters(e, 1, 10000));
	/* the kernel's bits wiped: a fast set would miss the sleeper */
	*word = 0;
	ASSERT_EQ(0, ksync_event_set(e));
	/* the library found the word clear and set it on the page; a second
	 * set, through the kernel, reaches the sleeper */
	struct ksync_event_ctl ctl = { .size = sizeof(ctl) };

	ASSERT_EQ(0, ioctl(ksync_event_fd(e), KSYNC_IOC_EVENT_SET, &ctl));
	ASSERT_EQ(0, wait_child(pid, 10000));
	/* garbage in the low bits: read as nothing but bit 0 */
	*word = 0x00000000fffffffeULL;
	ASSERT_EQ(0, ksync_event_is_set(e));
	ASSERT_EQ(0, ioctl(ksync_event_fd(e), KSYNC_IOC_EVENT_SET, &ctl));
	ASSERT_EQ(1ULL, *word);
	munmap((void *)word, 4096);
	ASSERT_EQ(0, ksync_event_close(e));
}

/* Bad arguments: each refused, nothing changed. */
TEST(bad_arguments)
{
	struct ksync_event_ctl ctl = { .size = sizeof(ctl) };
	struct ksync_event_wait w = { .size = sizeof(w) };
	struct timespec bad = { 0, 1000000000 };
	ksync_event_t *e;

	ASSERT_EQ(-EINVAL, ksync_event_open(&e, NULL, 0, 0600, 2));
	ASSERT_EQ(-EINVAL, ksync_event_open(&e, NULL, 0, 0600, -1));
	ASSERT_EQ(-EINVAL, ksync_event_open(&e, NULL, KSYNC_UNDO, 0600, 0));
	ASSERT_EQ(-EINVAL, ksync_event_open(NULL, NULL, 0, 0600, 0));
	ASSERT_EQ(-EINVAL, ksync_event_set(NULL));
	ASSERT_EQ(-EINVAL, ksync_event_reset(NULL));
	ASSERT_EQ(-EINVAL, ksync_event_wait(NULL, NULL));
	ASSERT_EQ(-EINVAL, ksync_event_is_set(NULL));
	ASSERT_EQ(-EINVAL, ksync_event_close(NULL));
	ASSERT_EQ(0, ksync_event_open(&e, NULL, 0, 0600, 0));
	ASSERT_EQ(-EINVAL, ksync_event_wait(e, &bad));
	ctl.flags = 1;
	ASSERT_EQ(-1, ioctl(ksync_event_fd(e), KSYNC_IOC_EVENT_SET, &ctl));
	ASSERT_EQ(EINVAL, errno);
	ASSERT_EQ(-1, ioctl(ksync_event_fd(e), KSYNC_IOC_EVENT_RESET, &ctl));
	ASSERT_EQ(EINVAL, errno);
	ctl.flags = 0;
	ctl.size = 4;
	ASSERT_EQ(-1, ioctl(ksync_event_fd(e), KSYNC_IOC_EVENT_SET, &ctl));
	ASSERT_EQ(EINVAL, errno);
	w.flags = 2;
	ASSERT_EQ(-1, ioctl(ksync_event_fd(e), KSYNC_IOC_EVENT_WAIT, &w));
	ASSERT_EQ(EINVAL, errno);
	/* the event's ioctls are the event's */
	ASSERT_EQ(-1, ioctl(ksync_event_fd(e), KSYNC_IOC_SEM_ACQUIRE, &w));
	ASSERT_EQ(ENOTTY, errno);
	ASSERT_EQ(0, ksync_event_is_set(e));
	ASSERT_EQ(0ULL, ev_stats(e).set_calls);
	ASSERT_EQ(0, ksync_event_close(e));
}

/* Names: create, open, EXCL, AUTO fixed at creation, -EPROTOTYPE every way round. */
TEST(names_and_types)
{
	const char *name = strdup(test_name("ev"));
	const char *sname = strdup(test_name("ev-sem"));
	ksync_event_t *e, *e2;
	ksync_barrier_t *b;
	ksync_queue_t *q;
	ksync_sem_t *s;

	ASSERT_EQ(-ENOENT, ksync_event_open(&e, name, 0, 0, 0));
	ASSERT_EQ(0, ksync_event_open(&e, name, KSYNC_CREATE | KSYNC_EXCL | KSYNC_EVENT_AUTO, 0600,
				      1));
	ASSERT_EQ(-EEXIST, ksync_event_open(&e2, name, KSYNC_CREATE | KSYNC_EXCL, 0600, 0));
	/* AUTO and set matter only to the creator */
	ASSERT_EQ(0, ksync_event_open(&e2, name, KSYNC_CREATE, 0600, 0));
	ASSERT_EQ(1, ksync_event_auto(e2));
	ASSERT_EQ(1, ksync_event_is_set(e2));
	/* one event: what one handle takes, the other sees taken */
	ASSERT_EQ(0, try_wait(e2));
	ASSERT_EQ(0, ksync_event_is_set(e));
	ASSERT_EQ(0, ksync_event_close(e2));
	ASSERT_EQ(0, ksync_event_from_fd(&e2, ksync_event_fd(e)));
	ASSERT_EQ(1, ksync_event_auto(e2));
	ASSERT_EQ(0, ksync_event_close(e2));

	ASSERT_EQ(0, ksync_sem_open(&s, sname, KSYNC_CREATE, 0600, 1));
	ASSERT_EQ(-EPROTOTYPE, ksync_event_open(&e2, sname, 0, 0, 0));
	ASSERT_EQ(-EPROTOTYPE, ksync_event_open(&e2, sname, KSYNC_CREATE, 0600, 0));
	ASSERT_EQ(-EPROTOTYPE, ksync_sem_open(&s, name, 0, 0, 0));
	ASSERT_EQ(-EPROTOTYPE, ksync_barrier_open(&b, name, 0, 0, 0));
	ASSERT_EQ(-EPROTOTYPE, ksync_queue_open(&q, name, 0, 0, 0, 0));
	ASSERT_EQ(-EPROTOTYPE, ksync_event_from_fd(&e2, STDIN_FILENO));
	ASSERT_EQ(-EBADF, ksync_event_from_fd(&e2, -1));
	ASSERT_EQ(0, ksync_sem_close(s));
	ASSERT_EQ(0, ksync_sem_open(&s, NULL, 0, 0600, 0));
	ASSERT_EQ(-EPROTOTYPE, ksync_event_from_fd(&e2, ksync_sem_fd(s)));
	ASSERT_EQ(-EPROTOTYPE, ksync_sem_from_fd(&s, ksync_event_fd(e)));
	ASSERT_EQ(0, ksync_sem_close(s));

	/* a name outlives its fds, and keeps the state */
	ASSERT_EQ(0, ksync_event_set(e));
	ASSERT_EQ(0, ksync_event_close(e));
	ASSERT_EQ(0, ksync_event_open(&e, name, 0, 0, 0));
	ASSERT_EQ(1, ksync_event_is_set(e));
	ASSERT_EQ(0, ksync_unlink(name));
	ASSERT_EQ(0, ksync_unlink(sname));
	ASSERT_EQ(-ENOENT, ksync_event_open(&e2, name, 0, 0, 0));
	ASSERT_EQ(0, ksync_event_close(e));
}

/* fdinfo: the state, the counters, and what every object shows. */
TEST(fdinfo)
{
	const char *name = test_name("ev-fdinfo");
	char buf[2048];
	ksync_event_t *e;
	pid_t pid;

	ASSERT_EQ(0, ksync_event_open(&e, name, KSYNC_CREATE | KSYNC_EXCL | KSYNC_EVENT_AUTO, 0600,
				      0));
	ASSERT_LT(0, pid = waiting_child(e, 20000));
	ASSERT_TRUE(wait_ev_waiters(e, 1, 10000));
	ASSERT_LT(0, read_fdinfo(ksync_event_fd(e), buf, sizeof(buf)));
	ASSERT_NE(NULL, strstr(buf, "ksync-name:\t/kst-ev-fdinfo-"));
	ASSERT_NE(NULL, strstr(buf, "ksync-type:\tevent\n"));
	ASSERT_NE(NULL, strstr(buf, "ksync-set:\t0\n"));
	ASSERT_NE(NULL, strstr(buf, "ksync-auto:\t1\n"));
	ASSERT_NE(NULL, strstr(buf, "ksync-waiters:\t1\n"));
	ASSERT_NE(NULL, strstr(buf, "ksync-wait-calls:\t1\n"));
	ASSERT_NE(NULL, strstr(buf, "ksync-set-calls:\t0\n"));
	ASSERT_EQ(0, ksync_event_set(e));
	ASSERT_EQ(0, wait_child(pid, 10000));
	ASSERT_EQ(0, ksync_event_set(e));
	ASSERT_LT(0, read_fdinfo(ksync_event_fd(e), buf, sizeof(buf)));
	ASSERT_NE(NULL, strstr(buf, "ksync-set:\t1\n"));
	ASSERT_NE(NULL, strstr(buf, "ksync-waiters:\t0\n"));
	ASSERT_NE(NULL, strstr(buf, "ksync-set-calls:\t1\n"));
	ASSERT_NE(NULL, strstr(buf, "ksync-woken:\t1\n"));
	ASSERT_NE(NULL, strstr(buf, "ksync-reset-calls:\t0\n"));
	ASSERT_EQ(0, ksync_unlink(name));
	ASSERT_EQ(0, ksync_event_close(e));
}

/* The listing, a lookup, the counters and who waits. */
TEST(listing_counters_and_who)
{
	const char *name = strdup(test_name("ev-list"));
	struct ksync_object o = { .size = sizeof(o) };
	struct ksync_counters c = { .size = sizeof(c) };
	struct ksync_task who[4] = { { .size = sizeof(who[0]) } };
	ksync_event_t *e;
	pid_t pid;

	ASSERT_EQ(0, ksync_event_open(&e, name, KSYNC_CREATE | KSYNC_EXCL, 0640, 1));
	ASSERT_EQ(0, ksync_lookup(name, &o));
	ASSERT_EQ((unsigned int)KSYNC_TYPE_EVENT, o.type);
	ASSERT_EQ(1u, o.event.set);
	ASSERT_EQ(0u, o.event.auto_reset);
	ASSERT_EQ(0u, o.event.waiters);
	ASSERT_EQ(0640u, o.mode);
	ASSERT_EQ(1u, o.handles);
	ASSERT_EQ(0, ksync_event_reset(e));
	ASSERT_EQ(0, ksync_event_set(e));
	ASSERT_EQ(0, ksync_event_wait(e, NULL));
	ASSERT_EQ(0, ksync_event_reset(e));
	ASSERT_LT(0, pid = waiting_child(e, 20000));
	ASSERT_TRUE(wait_ev_waiters(e, 1, 10000));
	ASSERT_EQ(0, ksync_lookup(name, &o));
	ASSERT_EQ(0u, o.event.set);
	ASSERT_EQ(1u, o.event.waiters);
	ASSERT_EQ(0, ksync_counters(&o, &c));
	ASSERT_EQ((unsigned int)KSYNC_TYPE_EVENT, c.type);
	ASSERT_EQ(1u, c.fast_valid);
	ASSERT_EQ(1ULL, c.event.fast_sets);
	ASSERT_EQ(2ULL, c.event.fast_resets);
	ASSERT_EQ(1ULL, c.event.fast_waits);
	ASSERT_EQ(1ULL, c.event.kernel.wait_calls);
	ASSERT_EQ(1u, c.event.kernel.waiters);
	ASSERT_EQ(1, ksync_who(&o, who, 4));
	ASSERT_EQ((unsigned int)KSYNC_WHO_EVENT_WAITS, who[0].what);
	ASSERT_EQ((unsigned int)pid, who[0].pid);
	ASSERT_EQ(1u, who[0].count);
	ASSERT_EQ(0, ksync_event_set(e));
	ASSERT_EQ(0, wait_child(pid, 10000));
	ASSERT_EQ(0, ksync_unlink(name));
	ASSERT_EQ(0, ksync_event_close(e));
}

/*
 * The cancellation idiom: processes blocked in waits (and a thread of
 * this one) all stop at once when one set reaches them.
 */
static void *thread_wait(void *arg)
{
	struct timespec dl = ksync_deadline_ms(20000);

	return (void *)(intptr_t)ksync_event_wait(arg, &dl);
}

TEST(one_set_cancels_every_process_and_thread)
{
	pid_t pid[SLEEPERS];
	ksync_event_t *e;
	pthread_t th;
	void *ret;

	ASSERT_EQ(0, ksync_event_open(&e, NULL, 0, 0600, 0));
	for (int i = 0; i < SLEEPERS; i++)
		ASSERT_LT(0, pid[i] = waiting_child(e, 20000));
	ASSERT_EQ(0, pthread_create(&th, NULL, thread_wait, e));
	ASSERT_TRUE(wait_ev_waiters(e, SLEEPERS + 1, 10000));
	ASSERT_EQ(0, ksync_event_set(e));
	ASSERT_EQ(0, pthread_join(th, &ret));
	ASSERT_EQ(0, (int)(intptr_t)ret);
	for (int i = 0; i < SLEEPERS; i++)
		ASSERT_EQ(0, wait_child(pid[i], 10000));
	ASSERT_EQ(0, ksync_event_close(e));
}

/*
 * What a setter wrote before its set is there for whoever its set lets
 * pass, on the page and through the kernel alike: a ping-pong of two
 * auto events carrying a counter in plain memory.  (x86 orders the plain
 * stores anyway; arm64 would not, with a relaxed compare-and-swap.)
 */
struct pingpong {
	ksync_event_t *ping, *pong;
	uint64_t data[8]; /* plain, not atomic: the events order it */
	int bad;
};

static void *ponger(void *arg)
{
	struct pingpong *p = arg;

	for (uint64_t i = 1; i <= 20000; i++) {
		if (ksync_event_wait(p->ping, NULL))
			break;
		for (int k = 0; k < 8; k++)
			if (p->data[k] != i)
				p->bad = 1;
		for (int k = 0; k < 8; k++)
			p->data[k] = i + 1000000;
		ksync_event_set(p->pong);
	}
	return NULL;
}

TEST(set_carries_data)
{
	static struct pingpong p;
	pthread_t th;

	ASSERT_EQ(0, ksync_event_open(&p.ping, NULL, KSYNC_EVENT_AUTO, 0600, 0));
	ASSERT_EQ(0, ksync_event_open(&p.pong, NULL, KSYNC_EVENT_AUTO, 0600, 0));
	ASSERT_EQ(0, pthread_create(&th, NULL, ponger, &p));
	for (uint64_t i = 1; i <= 20000; i++) {
		for (int k = 0; k < 8; k++)
			p.data[k] = i;
		ASSERT_EQ(0, ksync_event_set(p.ping));
		ASSERT_EQ(0, ksync_event_wait(p.pong, NULL));
		for (int k = 0; k < 8; k++)
			ASSERT_EQ(i + 1000000, p.data[k]);
	}
	ASSERT_EQ(0, pthread_join(th, NULL));
	ASSERT_EQ(0, p.bad);
	ASSERT_EQ(0, ksync_event_close(p.ping));
	ASSERT_EQ(0, ksync_event_close(p.pong));
}

TEST_HARNESS_MAIN
