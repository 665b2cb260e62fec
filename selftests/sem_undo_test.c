// SPDX-License-Identifier: GPL-2.0
/*
 * KSYNC_UNDO: permits held through a handle come back when the handle is
 * closed or its process dies, as SysV SEM_UNDO does.
 */
#include <stdatomic.h>
#include <sys/mman.h>
#include <sys/prctl.h>

#include "common.h"
#include "kselftest_harness.h"

static unsigned long long held(ksync_sem_t *s)
{
	struct ksync_sem_info info;

	if (ioctl(ksync_sem_fd(s), KSYNC_IOC_SEM_INFO, &info))
		return ~0ULL;
	return info.held;
}

FIXTURE(undo)
{
	const char *name;
	ksync_sem_t *s; /* a plain handle, for looking on */
};

FIXTURE_SETUP(undo)
{
	self->name = strdup(test_name("undo"));
	ASSERT_EQ(0, ksync_sem_open(&self->s, self->name, KSYNC_CREATE | KSYNC_EXCL, 0600, 5));
}

static pid_t daemon_pid; /* a test's fd-less child, killed if it fails */

FIXTURE_TEARDOWN(undo)
{
	if (daemon_pid > 0)
		kill(daemon_pid, SIGKILL);
	ksync_sem_close(self->s);
	ksync_unlink(self->name);
	free((void *)self->name);
}

TEST_F(undo, returned_on_close)
{
	ksync_sem_t *u;

	ASSERT_EQ(0, ksync_sem_open(&u, self->name, KSYNC_UNDO, 0, 0));
	ASSERT_EQ(0, ksync_sem_acquire(u, 3, NULL));
	ASSERT_EQ(0, ksync_sem_try_acquire(u, 1));
	ASSERT_EQ(4ULL, held(u));
	ASSERT_EQ(1, ksync_sem_value(self->s));
	/* a release through the same handle lowers what it would give back */
	ASSERT_EQ(0, ksync_sem_release(u, 2));
	ASSERT_EQ(2ULL, held(u));
	ASSERT_EQ(3, ksync_sem_value(self->s));
	ksync_sem_close(u);
	ASSERT_EQ(5, ksync_sem_value(self->s));
}

TEST_F(undo, plain_handle_keeps_nothing)
{
	ksync_sem_t *p;

	ASSERT_EQ(0, ksync_sem_open(&p, self->name, 0, 0, 0));
	ASSERT_EQ(0, ksync_sem_acquire(p, 2, NULL));
	ASSERT_EQ(0ULL, held(p));
	ksync_sem_close(p);
	ASSERT_EQ(3, ksync_sem_value(self->s));
	ASSERT_EQ(0, ksync_sem_release(self->s, 2));
}

/* More released through the handle than it took: undo gives back nothing. */
TEST_F(undo, over_release_does_not_go_negative)
{
	ksync_sem_t *u;

	ASSERT_EQ(0, ksync_sem_open(&u, self->name, KSYNC_UNDO, 0, 0));
	ASSERT_EQ(0, ksync_sem_acquire(u, 1, NULL));
	ASSERT_EQ(0, ksync_sem_release(u, 3));
	ASSERT_EQ(0ULL, held(u));
	ksync_sem_close(u);
	ASSERT_EQ(7, ksync_sem_value(self->s));
}

/* A process killed with permits held gives them back. */
TEST_F(undo, returned_on_sigkill)
{
	int pipefd[2];
	pid_t pid;
	char c;

	ASSERT_EQ(0, pipe(pipefd));
	pid = fork();
	ASSERT_GE(pid, 0);
	if (pid == 0) {
		ksync_sem_t *u;

		if (ksync_sem_open(&u, self->name, KSYNC_UNDO, 0, 0) ||
		    ksync_sem_acquire(u, 4, NULL))
			_exit(1);
		if (write(pipefd[1], "x", 1) != 1)
			_exit(1);
		for (;;)
			pause();
	}
	ASSERT_EQ(1, read(pipefd[0], &c, 1));
	ASSERT_EQ(1, ksync_sem_value(self->s));
	kill(pid, SIGKILL);
	ASSERT_EQ(128 + SIGKILL, wait_child(pid, 10000));
	ASSERT_EQ(5, ksync_sem_value(self->s));
	close(pipefd[0]);
	close(pipefd[1]);
}

/* Permits an undo gives back go to a waiter, as a release would. */
TEST_F(undo, undo_wakes_waiters)
{
	ksync_sem_t *u;
	pid_t pid;

	ASSERT_EQ(0, ksync_sem_open(&u, self->name, KSYNC_UNDO, 0, 0));
	ASSERT_EQ(0, ksync_sem_acquire(u, 5, NULL));
	pid = fork();
	ASSERT_GE(pid, 0);
	if (pid == 0) {
		struct timespec dl = ksync_deadline_ms(20000);

		/* the fd was inherited: undo waits for its last close */
		ksync_sem_close(u);
		_exit(ksync_sem_acquire(self->s, 4, &dl) ? 1 : 0);
	}
	ASSERT_TRUE(wait_waiters(self->s, 1, 10000));
	ksync_sem_close(u);
	ASSERT_EQ(0, wait_child(pid, 10000));
	ASSERT_EQ(1, ksync_sem_value(self->s));
	ASSERT_EQ(0, ksync_sem_release(self->s, 4));
}

/* Undo saturates at the limit instead of failing or wrapping. */
TEST_F(undo, undo_saturates)
{
	ksync_sem_t *u;

	ASSERT_EQ(0, ksync_sem_open(&u, self->name, KSYNC_UNDO, 0, 0));
	ASSERT_EQ(0, ksync_sem_acquire(u, 5, NULL));
	ASSERT_EQ(0, ksync_sem_release(self->s, KSYNC_SEM_VALUE_MAX - 2));
	ksync_sem_close(u);
	ASSERT_EQ(KSYNC_SEM_VALUE_MAX, ksync_sem_value(self->s));
}

/* The fd reports that it undoes. */
TEST_F(undo, info_flags)
{
	struct ksync_info info;
	ksync_sem_t *u;

	ASSERT_EQ(0, ksync_sem_open(&u, self->name, KSYNC_UNDO, 0, 0));
	ASSERT_EQ(0, ioctl(ksync_sem_fd(u), KSYNC_IOC_INFO, &info));
	ASSERT_EQ((unsigned int)KSYNC_OPEN_UNDO, info.flags);
	ksync_sem_close(u);
}

/*
 * A holder forks a daemon-style child that closes every fd but keeps its
 * memory, the holder's mapping of the semaphore included, and then the
 * holder dies holding permits.  They must come back at once, not when the
 * fd-less child exits.
 */
struct daemon_ctl {
	atomic_int ready;
	atomic_int release;
	atomic_int pid;
};

TEST_F(undo, returned_though_a_child_keeps_the_mapping)
{
	struct daemon_ctl *ctl =
		mmap(NULL, sizeof(*ctl), PROT_READ | PROT_WRITE, MAP_SHARED | MAP_ANONYMOUS, -1, 0);
	struct timespec dl;
	pid_t holder;

	ASSERT_NE(MAP_FAILED, ctl);
	ASSERT_EQ(0, prctl(PR_SET_CHILD_SUBREAPER, 1));
	holder = fork();
	ASSERT_GE(holder, 0);
	if (holder == 0) {
		ksync_sem_t *u;
		pid_t d;

		if (ksync_sem_open(&u, self->name, KSYNC_UNDO, 0, 0) ||
		    ksync_sem_acquire(u, 5, NULL))
			_exit(1);
		d = fork();
		if (d == 0) {
			int64_t end = now_ns() + 30 * 1000000000LL;

			/* the daemon: every fd closed, the page still mapped */
			for (int fd = 0; fd < 1024; fd++)
				close(fd);
			atomic_store(&ctl->ready, 1);
			while (!atomic_load(&ctl->release) && now_ns() < end)
				pause_us(1000);
			_exit(ksync_sem_value(u) >= 0 ? 0 : 1);
		}
		atomic_store(&ctl->pid, d);
		while (!atomic_load(&ctl->ready))
			pause_us(1000);
		_exit(0); /* dies holding 5 permits, without closing */
	}
	ASSERT_EQ(0, wait_child(holder, 10000));
	daemon_pid = atomic_load(&ctl->pid);
	ASSERT_NE(0, daemon_pid);
	/* the daemon lives, and maps the page; the permits are back anyway */
	ASSERT_EQ(0, kill(atomic_load(&ctl->pid), 0));
	dl = ksync_deadline_ms(5000);
	ASSERT_EQ(0, ksync_sem_acquire(self->s, 5, &dl));
	ASSERT_EQ(0, ksync_sem_release(self->s, 5));
	atomic_store(&ctl->release, 1);
	ASSERT_EQ(0, wait_child(daemon_pid, 10000));
	daemon_pid = 0;
	prctl(PR_SET_CHILD_SUBREAPER, 0);
	munmap(ctl, sizeof(*ctl));
}

TEST_HARNESS_MAIN
