// SPDX-License-Identifier: GPL-2.0
/*
 * What a waker grants reaches a waiter that can use it.  A task killed
 * between its grant and its turn to run takes nothing with it: the
 * semaphore's permits and the queue's message go to the next sleeper.  A
 * receiver whose turn faults keeps its place in line.
 *
 * The kill tests need two CPUs: the victim shares CPU 0 with the parent,
 * which runs SCHED_FIFO from the grant to the kill, so the victim cannot
 * run in between, on every run.
 */
#include <pthread.h>
#include <sched.h>
#include <stdatomic.h>
#include <sys/mman.h>

#include "common.h"
#include "kselftest_harness.h"
#include "queue.h"

static int on_cpu(int cpu)
{
	cpu_set_t set;

	CPU_ZERO(&set);
	CPU_SET(cpu, &set);
	return sched_setaffinity(0, sizeof(set), &set) ? -errno : 0;
}

static cpu_set_t all_cpus;

/*
 * Make the caller SCHED_FIFO on CPU 0 (on), or put it back as it was:
 * SCHED_OTHER on every CPU.
 */
static int hog_cpu0(int on)
{
	struct sched_param sp = { .sched_priority = on ? 50 : 0 };

	if (on && on_cpu(0))
		return -errno;
	if (sched_setscheduler(0, on ? SCHED_FIFO : SCHED_OTHER, &sp))
		return -errno;
	if (!on && sched_setaffinity(0, sizeof(all_cpus), &all_cpus))
		return -errno;
	return 0;
}

/* Two CPUs, and the right to run SCHED_FIFO (root in the guest). */
static int can_hog(void)
{
	if (sysconf(_SC_NPROCESSORS_ONLN) < 2 ||
	    sched_getaffinity(0, sizeof(all_cpus), &all_cpus) || CPU_COUNT(&all_cpus) < 2)
		return 0;
	if (hog_cpu0(1))
		return 0;
	return !hog_cpu0(0);
}

/* A child on cpu that acquires one permit: exit 0 once it has it. */
static pid_t acquirer(ksync_sem_t *s, int cpu)
{
	pid_t pid = fork();

	if (pid == 0) {
		struct timespec dl = ksync_deadline_ms(10000);

		if (on_cpu(cpu))
			_exit(2);
		_exit(ksync_sem_acquire(s, 1, &dl) ? 1 : 0);
	}
	return pid;
}

TEST(killed_acquirer_gives_back_its_permit)
{
	ksync_sem_t *s;
	pid_t first, second;

	if (!can_hog())
		SKIP(return, "needs 2 CPUs and SCHED_FIFO");
	ASSERT_EQ(0, ksync_sem_open(&s, NULL, 0, 0600, 0));
	first = acquirer(s, 0);
	ASSERT_TRUE(wait_waiters(s, 1, 5000));
	second = acquirer(s, 1);
	ASSERT_TRUE(wait_waiters(s, 2, 5000));

	/* the module grants the permit to first, which cannot run yet */
	ASSERT_EQ(0, hog_cpu0(1));
	EXPECT_EQ(0, ksync_sem_release(s, 1));
	kill(first, SIGKILL);
	ASSERT_EQ(0, hog_cpu0(0));

	EXPECT_EQ(128 + SIGKILL, wait_child(first, 10000));
	EXPECT_EQ(0, wait_child(second, 15000));
	EXPECT_EQ(0, ksync_sem_value(s));
	EXPECT_EQ(0, sem_waiters(s));
	ksync_sem_close(s);
}

/* A child on cpu that receives one message: exit 0 if it is "M". */
static pid_t receiver(ksync_queue_t *q, int cpu)
{
	pid_t pid = fork();

	if (pid == 0) {
		struct timespec dl = ksync_deadline_ms(10000);
		char buf[8] = "";

		if (on_cpu(cpu))
			_exit(2);
		_exit(ksync_queue_recv(q, buf, sizeof(buf), &dl) == 2 && !strcmp(buf, "M") ? 0 : 1);
	}
	return pid;
}

TEST(killed_receiver_passes_on_its_turn)
{
	ksync_queue_t *q;
	pid_t first, second;

	if (!can_hog())
		SKIP(return, "needs 2 CPUs and SCHED_FIFO");
	/* through the module: its send grants the turn to a sleeper */
	ASSERT_EQ(0,
		  ksync_queue_open(&q, NULL, KSYNC_QUEUE_KERNEL | KSYNC_QUEUE_NOEOF, 0600, 4, 8));
	first = receiver(q, 0);
	ASSERT_TRUE(wait_queue_sleepers(q, 1, 1, 5000));
	second = receiver(q, 1);
	ASSERT_TRUE(wait_queue_sleepers(q, 1, 2, 5000));

	ASSERT_EQ(0, hog_cpu0(1));
	EXPECT_EQ(0, ksync_queue_send(q, "M", 2, NULL));
	kill(first, SIGKILL);
	ASSERT_EQ(0, hog_cpu0(0));

	EXPECT_EQ(128 + SIGKILL, wait_child(first, 10000));
	EXPECT_EQ(0, wait_child(second, 15000));
	EXPECT_EQ(0, ksync_queue_len(q));
	ksync_queue_close(q);
}

struct rx {
	ksync_queue_t *q;
	char *buf;
	ssize_t got;
	_Atomic int *finished;
};

static void *rx_one(void *arg)
{
	struct rx *r = arg;
	struct timespec dl = ksync_deadline_ms(10000);

	r->got = ksync_queue_recv(r->q, r->buf, 16, &dl);
	atomic_fetch_add(r->finished, 1);
	return NULL;
}

/* Wait until n receivers are done; false after ms. */
static int wait_finished(_Atomic int *finished, int n, int ms)
{
	int64_t end = now_ns() + (int64_t)ms * 1000000;

	while (atomic_load(finished) < n) {
		if (now_ns() > end)
			return 0;
		pause_us(200);
	}
	return 1;
}

/*
 * A receiver whose turn faults (its buffer not faulted in: the module
 * copies under its lock with page faults disabled) loses that message to
 * the next in line, but not its place: it stays first for the next one.
 */
TEST(receiver_whose_turn_faults_stays_first)
{
	static const char *const msgs[3] = { "first", "second", "third" };
	struct rx r[3] = { { 0 } };
	_Atomic int finished = 0;
	pthread_t t[3];
	ksync_queue_t *q;
	int i;

	ASSERT_EQ(0,
		  ksync_queue_open(&q, NULL, KSYNC_QUEUE_KERNEL | KSYNC_QUEUE_NOEOF, 0600, 4, 16));
	/* first in line, into pages never touched */
	r[0].buf = mmap(NULL, 4096, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	ASSERT_NE(MAP_FAILED, r[0].buf);
	for (i = 0; i < 3; i++) {
		if (i)
			ASSERT_NE(NULL, r[i].buf = calloc(1, 16));
		r[i].q = q;
		r[i].finished = &finished;
		ASSERT_EQ(0, pthread_create(&t[i], NULL, rx_one, &r[i]));
		ASSERT_TRUE(wait_queue_sleepers(q, 1, (unsigned int)i + 1, 5000));
	}
	/* one message at a time, each landing before the next is sent */
	for (i = 0; i < 3; i++) {
		EXPECT_EQ(0, ksync_queue_send(q, msgs[i], strlen(msgs[i]) + 1, NULL));
		EXPECT_TRUE(wait_finished(&finished, i + 1, 10000));
		/* and the one that faulted is back in line */
		EXPECT_TRUE(wait_queue_sleepers(q, 1, (unsigned int)(2 - i), 5000));
	}
	for (i = 0; i < 3; i++)
		pthread_join(t[i], NULL);
	/* r[0] faulted on "first", which went to r[1]; r[0] kept the head */
	EXPECT_EQ(7, r[0].got);
	EXPECT_STREQ("second", r[0].buf);
	EXPECT_STREQ("first", r[1].buf);
	EXPECT_STREQ("third", r[2].buf);
	munmap(r[0].buf, 4096);
	free(r[1].buf);
	free(r[2].buf);
	ksync_queue_close(q);
}

TEST_HARNESS_MAIN
