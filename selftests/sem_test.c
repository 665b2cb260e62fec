// SPDX-License-Identifier: GPL-2.0
/*
 * The semaphore as its users rely on it: counting, weighted FIFO, exact
 * wake-ups, deadlines, signals, poll, overflow, fork and SCM_RIGHTS.
 */
#include <pthread.h>
#include <sched.h>
#include <stdatomic.h>
#include <sys/epoll.h>
#include <sys/mman.h>
#include <sys/socket.h>

#include "common.h"
#include "kselftest_harness.h"

FIXTURE(sem)
{
	ksync_sem_t *s;
};

FIXTURE_SETUP(sem)
{
	ASSERT_EQ(0, ksync_sem_open(&self->s, NULL, 0, 0600, 0));
}

FIXTURE_TEARDOWN(sem)
{
	ksync_sem_close(self->s);
}

TEST_F(sem, counts_permits)
{
	ASSERT_EQ(0, ksync_sem_value(self->s));
	ASSERT_EQ(0, ksync_sem_release(self->s, 5));
	ASSERT_EQ(5, ksync_sem_value(self->s));
	ASSERT_EQ(0, ksync_sem_try_acquire(self->s, 3));
	ASSERT_EQ(2, ksync_sem_value(self->s));
	ASSERT_EQ(-EAGAIN, ksync_sem_try_acquire(self->s, 3));
	ASSERT_EQ(2, ksync_sem_value(self->s));
	ASSERT_EQ(0, ksync_sem_acquire(self->s, 2, NULL));
	ASSERT_EQ(0, ksync_sem_value(self->s));
	ASSERT_EQ(-EAGAIN, ksync_sem_try_acquire(self->s, 1));
}

TEST_F(sem, zero_and_limits)
{
	ASSERT_EQ(0, ksync_sem_acquire(self->s, 0, NULL));
	ASSERT_EQ(0, ksync_sem_try_acquire(self->s, 0));
	ASSERT_EQ(0, ksync_sem_release(self->s, 0));
	ASSERT_EQ(-EINVAL, ksync_sem_acquire(self->s, KSYNC_SEM_VALUE_MAX + 1u, NULL));
	ASSERT_EQ(-EINVAL, ksync_sem_release(self->s, KSYNC_SEM_VALUE_MAX + 1u));
	ASSERT_EQ(0, ksync_sem_value(self->s));
}

TEST_F(sem, overflow_changes_nothing)
{
	ASSERT_EQ(0, ksync_sem_release(self->s, KSYNC_SEM_VALUE_MAX - 1));
	ASSERT_EQ(-EOVERFLOW, ksync_sem_release(self->s, 2));
	ASSERT_EQ(KSYNC_SEM_VALUE_MAX - 1, ksync_sem_value(self->s));
	ASSERT_EQ(0, ksync_sem_release(self->s, 1));
	ASSERT_EQ(KSYNC_SEM_VALUE_MAX, ksync_sem_value(self->s));
	ASSERT_EQ(-EOVERFLOW, ksync_sem_release(self->s, 1));
	ASSERT_EQ(KSYNC_SEM_VALUE_MAX, ksync_sem_value(self->s));
	ASSERT_EQ(0, ksync_sem_acquire(self->s, KSYNC_SEM_VALUE_MAX, NULL));
	ASSERT_EQ(0, ksync_sem_value(self->s));
}

/*
 * A release that the queue's head consumes at once is no overflow, though
 * value + count passes the limit: the value never does.
 */
TEST_F(sem, release_served_at_once_does_not_overflow)
{
	pid_t pid;

	ASSERT_EQ(0, ksync_sem_release(self->s, KSYNC_SEM_VALUE_MAX - 1));
	pid = fork();
	ASSERT_GE(pid, 0);
	if (pid == 0) {
		struct timespec dl = ksync_deadline_ms(20000);

		_exit(ksync_sem_acquire(self->s, KSYNC_SEM_VALUE_MAX, &dl) ? 1 : 0);
	}
	ASSERT_TRUE(wait_waiters(self->s, 1, 10000));
	ASSERT_EQ(0, ksync_sem_release(self->s, 2));
	ASSERT_EQ(0, wait_child(pid, 10000));
	ASSERT_EQ(1, ksync_sem_value(self->s));
	/* what the head does not consume still may not pass the limit */
	ASSERT_EQ(0, ksync_sem_release(self->s, KSYNC_SEM_VALUE_MAX - 1));
	ASSERT_EQ(-EOVERFLOW, ksync_sem_release(self->s, 1));
	ASSERT_EQ(KSYNC_SEM_VALUE_MAX, ksync_sem_value(self->s));
}

TEST(open_rejects_value_above_max)
{
	ksync_sem_t *s;

	ASSERT_EQ(-EINVAL, ksync_sem_open(&s, NULL, 0, 0600, KSYNC_SEM_VALUE_MAX + 1u));
	ASSERT_EQ(0, ksync_sem_open(&s, NULL, 0, 0600, KSYNC_SEM_VALUE_MAX));
	ASSERT_EQ(KSYNC_SEM_VALUE_MAX, ksync_sem_value(s));
	ksync_sem_close(s);
}

/* Deadlines: a past one tries once; a future one is never cut short. */
TEST_F(sem, deadline_past_tries_once)
{
	struct timespec past = ksync_deadline_ms(-1000);

	ASSERT_EQ(-ETIMEDOUT, ksync_sem_acquire(self->s, 1, &past));
	ASSERT_EQ(0, ksync_sem_release(self->s, 1));
	ASSERT_EQ(0, ksync_sem_acquire(self->s, 1, &past));
	ASSERT_EQ(0, ksync_sem_value(self->s));
}

TEST_F(sem, deadline_not_before)
{
	int ms[] = { 1, 20, 100 };
	unsigned int i;

	for (i = 0; i < sizeof(ms) / sizeof(ms[0]); i++) {
		struct timespec dl = ksync_deadline_ms(ms[i]);

		ASSERT_EQ(-ETIMEDOUT, ksync_sem_acquire(self->s, 1, &dl));
		ASSERT_GE(now_ns(), ts_ns(&dl));
	}
	ASSERT_EQ(0, sem_waiters(self->s));
}

/*
 * Deadlines are read on the caller's CLOCK_MONOTONIC, which a time
 * namespace offsets from the host's: a day ahead here must not mean a day
 * of sleep.
 */
TEST(deadline_in_time_namespace)
{
	pid_t pid;
	int fd;

	if (unshare(CLONE_NEWTIME))
		SKIP(return, "no time namespaces here: %s", strerror(errno));
	fd = open("/proc/self/timens_offsets", O_WRONLY | O_CLOEXEC);
	ASSERT_GE(fd, 0);
	ASSERT_LT(0, dprintf(fd, "monotonic 86400 0\n"));
	close(fd);
	pid = fork();
	ASSERT_GE(pid, 0);
	if (pid == 0) {
		struct timespec dl = ksync_deadline_ms(50);
		ksync_sem_t *s;
		int ret;

		if (ksync_sem_open(&s, NULL, 0, 0600, 0))
			_exit(2);
		ret = ksync_sem_acquire(s, 1, &dl);
		_exit(ret == -ETIMEDOUT && now_ns() >= ts_ns(&dl) ? 0 : 1);
	}
	ASSERT_EQ(0, wait_child(pid, 20000));
}

TEST_F(sem, bad_deadline)
{
	struct timespec bad = { .tv_sec = 0, .tv_nsec = 1000000000 };

	ASSERT_EQ(-EINVAL, ksync_sem_acquire(self->s, 1, &bad));
}

/* A process killed while asleep leaves no waiter and no lost permit. */
TEST_F(sem, killed_waiter_leaves_no_trace)
{
	pid_t pid = fork();

	ASSERT_GE(pid, 0);
	if (pid == 0) {
		struct timespec dl = ksync_deadline_ms(20000);

		_exit(ksync_sem_acquire(self->s, 2, &dl) ? 1 : 0);
	}
	ASSERT_TRUE(wait_waiters(self->s, 1, 10000));
	ASSERT_EQ(0, ksync_sem_release(self->s, 1));
	kill(pid, SIGKILL);
	ASSERT_EQ(128 + SIGKILL, wait_child(pid, 10000));
	ASSERT_EQ(0, sem_waiters(self->s));
	ASSERT_EQ(1, ksync_sem_value(self->s));
	ASSERT_EQ(0, ksync_sem_try_acquire(self->s, 1));
}

/* Children that take permits and report the order in which they got them. */
struct order {
	atomic_int next;
	int got[8];
};

static pid_t acquirer(ksync_sem_t *s, unsigned int n, struct order *o, int id)
{
	pid_t pid = fork();

	if (pid == 0) {
		struct timespec dl = ksync_deadline_ms(20000);

		if (ksync_sem_acquire(s, n, &dl))
			_exit(1);
		o->got[atomic_fetch_add(&o->next, 1)] = id;
		_exit(0);
	}
	return pid;
}

/*
 * FIFO with weights: a large request at the head is served before small
 * ones that came later, even when the small ones could have run sooner.
 */
TEST_F(sem, weighted_fifo)
{
	struct order *o =
		mmap(NULL, sizeof(*o), PROT_READ | PROT_WRITE, MAP_SHARED | MAP_ANONYMOUS, -1, 0);
	pid_t big, small1, small2;

	ASSERT_NE(MAP_FAILED, o);
	big = acquirer(self->s, 3, o, 3);
	ASSERT_TRUE(wait_waiters(self->s, 1, 10000));
	small1 = acquirer(self->s, 1, o, 1);
	ASSERT_TRUE(wait_waiters(self->s, 2, 10000));
	small2 = acquirer(self->s, 1, o, 2);
	ASSERT_TRUE(wait_waiters(self->s, 3, 10000));

	/* two permits would satisfy both small ones, but the big one is first */
	ASSERT_EQ(0, ksync_sem_release(self->s, 2));
	ASSERT_EQ(2, ksync_sem_value(self->s));
	ASSERT_EQ(3, sem_waiters(self->s));
	/* a newcomer does not jump the queue either */
	ASSERT_EQ(-EAGAIN, ksync_sem_try_acquire(self->s, 1));

	ASSERT_EQ(0, ksync_sem_release(self->s, 1));
	ASSERT_EQ(0, wait_child(big, 10000));
	ASSERT_EQ(3, o->got[0]);
	/* then the small ones, one permit each, in the order they came */
	ASSERT_EQ(2, sem_waiters(self->s));
	ASSERT_EQ(0, ksync_sem_release(self->s, 1));
	ASSERT_EQ(0, wait_child(small1, 10000));
	ASSERT_EQ(1, sem_waiters(self->s));
	ASSERT_EQ(0, ksync_sem_release(self->s, 1));
	ASSERT_EQ(0, wait_child(small2, 10000));
	ASSERT_EQ(1, o->got[1]);
	ASSERT_EQ(2, o->got[2]);
	ASSERT_EQ(0, ksync_sem_value(self->s));
	munmap(o, sizeof(*o));
}

/* A waiter that gives up at the head lets the ones behind it through. */
TEST_F(sem, timed_out_head_unblocks_queue)
{
	struct order *o =
		mmap(NULL, sizeof(*o), PROT_READ | PROT_WRITE, MAP_SHARED | MAP_ANONYMOUS, -1, 0);
	pid_t big, small;

	ASSERT_NE(MAP_FAILED, o);
	ASSERT_EQ(0, ksync_sem_release(self->s, 1));
	big = fork();
	ASSERT_GE(big, 0);
	if (big == 0) {
		_exit(ksync_sem_acquire(self->s, 5, NULL) == -EINTR ? 0 : 1);
	}
	ASSERT_TRUE(wait_waiters(self->s, 1, 10000));
	small = acquirer(self->s, 1, o, 1);
	ASSERT_TRUE(wait_waiters(self->s, 2, 10000));
	kill(big, SIGKILL);
	ASSERT_EQ(128 + SIGKILL, wait_child(big, 10000));
	ASSERT_EQ(0, wait_child(small, 10000));
	ASSERT_EQ(0, ksync_sem_value(self->s));
	munmap(o, sizeof(*o));
}

/* Threads asleep in acquire; each one reports when it returns. */
#define SLEEPERS 1000

struct sleepers {
	ksync_sem_t *s;
	atomic_int returned;
	pid_t tid[SLEEPERS];
	atomic_int done[SLEEPERS];
	atomic_int started;
};

static void *sleeper(void *arg)
{
	struct sleepers *sl = arg;
	/*
	 * Longer than starting 1,000 threads and waiting for quiet can take
	 * on a busy debug guest (60 s did not always do), within the test's
	 * 300 s: a sleeper must not leave before the releases it is counted in.
	 */
	struct timespec dl = ksync_deadline_ms(240000);
	int me = atomic_fetch_add(&sl->started, 1);

	sl->tid[me] = (pid_t)syscall(SYS_gettid);
	if (ksync_sem_acquire(sl->s, 1, &dl) == 0) {
		atomic_store(&sl->done[me], 1);
		atomic_fetch_add(&sl->returned, 1);
	}
	return NULL;
}

/* voluntary context switches of one thread of ours, or -1 */
static long thread_switches(pid_t tid)
{
	char path[64], line[128];
	long n = -1;
	FILE *f;

	snprintf(path, sizeof(path), "/proc/self/task/%d/status", tid);
	f = fopen(path, "r");
	if (!f)
		return -1;
	while (fgets(line, sizeof(line), f))
		if (sscanf(line, "voluntary_ctxt_switches: %ld", &n) == 1)
			break;
	fclose(f);
	return n;
}

/* Snapshot every sleeper's switch count once they have all gone quiet. */
static int quiet_snapshot(struct sleepers *sl, long *snap)
{
	static long again[SLEEPERS];
	int64_t end = now_ns() + 30000000000LL;
	int i;

	while (now_ns() < end) {
		for (i = 0; i < SLEEPERS; i++)
			snap[i] = thread_switches(sl->tid[i]);
		pause_us(2000);
		for (i = 0; i < SLEEPERS; i++)
			again[i] = thread_switches(sl->tid[i]);
		if (!memcmp(snap, again, sizeof(again)))
			return 1;
	}
	return 0;
}

/*
 * 1,000 sleepers and a release of 1 wake exactly one task: every other
 * sleeper's count of voluntary context switches stays as it was.
 */
TEST_F_TIMEOUT(sem, exact_wakeups, 300)
{
	static struct sleepers sl;
	static long before[SLEEPERS];
	pthread_t th[SLEEPERS];
	pthread_attr_t attr;
	int i, changed = 0;

	sl.s = self->s;
	pthread_attr_init(&attr);
	pthread_attr_setstacksize(&attr, 64 * 1024);
	for (i = 0; i < SLEEPERS; i++)
		ASSERT_EQ(0, pthread_create(&th[i], &attr, sleeper, &sl));
	ASSERT_TRUE(wait_waiters(self->s, SLEEPERS, 60000));
	ASSERT_TRUE(quiet_snapshot(&sl, before));

	ASSERT_EQ(0, ksync_sem_release(self->s, 1));
	ASSERT_TRUE(wait_waiters(self->s, SLEEPERS - 1, 10000));
	for (i = 0; i < 10000 && atomic_load(&sl.returned) < 1; i++)
		pause_us(1000);
	ASSERT_EQ(1, atomic_load(&sl.returned));
	for (i = 0; i < SLEEPERS; i++) {
		if (atomic_load(&sl.done[i]))
			continue;
		if (thread_switches(sl.tid[i]) != before[i])
			changed++;
	}
	ASSERT_EQ(0, changed);
	ASSERT_EQ(0, ksync_sem_value(self->s));

	/* a release of 7 wakes 7 */
	ASSERT_EQ(0, ksync_sem_release(self->s, 7));
	ASSERT_TRUE(wait_waiters(self->s, SLEEPERS - 8, 10000));
	ASSERT_EQ(0, ksync_sem_value(self->s));

	ASSERT_EQ(0, ksync_sem_release(self->s, SLEEPERS - 8));
	for (i = 0; i < SLEEPERS; i++)
		pthread_join(th[i], NULL);
	ASSERT_EQ(SLEEPERS, atomic_load(&sl.returned));
	ASSERT_EQ(0, ksync_sem_value(self->s));
}

static int readable(int fd, int ms)
{
	struct pollfd p = { .fd = fd, .events = POLLIN };

	return poll(&p, 1, ms) == 1 && (p.revents & POLLIN);
}

TEST_F(sem, poll_readable_while_positive)
{
	int fd = ksync_sem_fd(self->s);

	ASSERT_FALSE(readable(fd, 0));
	ASSERT_EQ(0, ksync_sem_release(self->s, 2));
	ASSERT_TRUE(readable(fd, 0));
	ASSERT_EQ(0, ksync_sem_try_acquire(self->s, 1));
	ASSERT_TRUE(readable(fd, 0));
	ASSERT_EQ(0, ksync_sem_try_acquire(self->s, 1));
	ASSERT_FALSE(readable(fd, 0));
}

/* epoll_wait in one process wakes when another process releases. */
TEST_F(sem, epoll_wakes_on_release)
{
	int ep = epoll_create1(EPOLL_CLOEXEC);
	struct epoll_event ev = { .events = EPOLLIN };
	int pipefd[2];
	pid_t pid;
	char c;

	ASSERT_GE(ep, 0);
	ASSERT_EQ(0, pipe(pipefd));
	ASSERT_EQ(0, epoll_ctl(ep, EPOLL_CTL_ADD, ksync_sem_fd(self->s), &ev));
	pid = fork();
	ASSERT_GE(pid, 0);
	if (pid == 0) {
		/* wait until the parent is about to block, then release */
		if (read(pipefd[0], &c, 1) != 1)
			_exit(1);
		_exit(ksync_sem_release(self->s, 1) ? 1 : 0);
	}
	ASSERT_EQ(0, epoll_wait(ep, &ev, 1, 0));
	ASSERT_EQ(1, write(pipefd[1], "x", 1));
	ASSERT_EQ(1, epoll_wait(ep, &ev, 1, 10000));
	ASSERT_NE(0u, ev.events & EPOLLIN);
	ASSERT_EQ(0, wait_child(pid, 10000));
	ASSERT_EQ(1, ksync_sem_value(self->s));
	close(ep);
	close(pipefd[0]);
	close(pipefd[1]);
}

TEST_F(sem, fork_inherits)
{
	pid_t pid = fork();

	ASSERT_GE(pid, 0);
	if (pid == 0)
		_exit(ksync_sem_release(self->s, 4) ? 1 : 0);
	ASSERT_EQ(0, wait_child(pid, 10000));
	ASSERT_EQ(4, ksync_sem_value(self->s));
}

/* An anonymous semaphore made in one process, used by another. */
TEST(fd_over_unix_socket)
{
	ksync_sem_t *mine, *theirs;
	int sv[2], fd;
	pid_t pid;

	ASSERT_EQ(0, socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sv));
	pid = fork();
	ASSERT_GE(pid, 0);
	if (pid == 0) {
		ksync_sem_t *s;

		if (ksync_sem_open(&s, NULL, 0, 0600, 3) || send_fd(sv[1], ksync_sem_fd(s)))
			_exit(1);
		ksync_sem_close(s);
		_exit(0);
	}
	fd = recv_fd(sv[0]);
	ASSERT_GE(fd, 0);
	ASSERT_EQ(0, wait_child(pid, 10000));
	ASSERT_EQ(0, ksync_sem_from_fd(&theirs, fd));
	close(fd);
	ASSERT_EQ(3, ksync_sem_value(theirs));
	ASSERT_EQ(0, ksync_sem_try_acquire(theirs, 3));
	ASSERT_EQ(0, ksync_sem_value(theirs));

	/* from_fd refuses what is not a ksync semaphore */
	ASSERT_EQ(-EPROTOTYPE, ksync_sem_from_fd(&mine, sv[0]));
	ASSERT_EQ(-EBADF, ksync_sem_from_fd(&mine, -1));
	ksync_sem_close(theirs);
	close(sv[0]);
	close(sv[1]);
}

TEST_HARNESS_MAIN
