// SPDX-License-Identifier: GPL-2.0
/*
 * Signals and a blocked acquire.  A wait ends with -EINTR only when a
 * signal handler ran (with or without SA_RESTART, as sem_wait(3) does).
 * Being stopped and continued, attached by a debugger or frozen by the
 * cgroup freezer must not end it:
 * the kernel restarts the call, and since the deadline is absolute the
 * restarted wait ends exactly when the first would have.
 */
#include <sys/mount.h>
#include <sys/ptrace.h>
#include <sys/stat.h>

#include "common.h"
#include "kselftest_harness.h"

FIXTURE(sig)
{
	ksync_sem_t *s;
};

FIXTURE_SETUP(sig)
{
	ASSERT_EQ(0, ksync_sem_open(&self->s, NULL, 0, 0600, 0));
}

FIXTURE_TEARDOWN(sig)
{
	ksync_sem_close(self->s);
}

/* A child that waits for one permit and exits with 0 when it gets it. */
static pid_t waiting_child(ksync_sem_t *s, long ms)
{
	pid_t pid = fork();

	if (pid == 0) {
		struct timespec dl = ksync_deadline_ms(ms);
		int ret = ksync_sem_acquire(s, 1, &dl);

		_exit(ret == 0 ? 0 : ret == -EINTR ? 2 : ret == -ETIMEDOUT ? 3 : 4);
	}
	return pid;
}

TEST_F(sig, stop_and_continue_keeps_waiting)
{
	pid_t pid = waiting_child(self->s, 20000);

	ASSERT_GT(pid, 0);
	ASSERT_TRUE(wait_waiters(self->s, 1, 10000));
	ASSERT_EQ(0, kill(pid, SIGSTOP));
	ASSERT_TRUE(wait_stopped(pid, WUNTRACED));
	ASSERT_EQ(0, kill(pid, SIGCONT));
	ASSERT_TRUE(wait_stopped(pid, WCONTINUED));
	/* it is (or will be) back in the queue: a release reaches it */
	ASSERT_TRUE(wait_waiters(self->s, 1, 10000));
	ASSERT_EQ(0, ksync_sem_release(self->s, 1));
	ASSERT_EQ(0, wait_child(pid, 10000));
	ASSERT_EQ(0, ksync_sem_value(self->s));
}

TEST_F(sig, ptrace_attach_keeps_waiting)
{
	pid_t pid = waiting_child(self->s, 20000);
	int status;

	ASSERT_GT(pid, 0);
	ASSERT_TRUE(wait_waiters(self->s, 1, 10000));
	ASSERT_EQ(0, ptrace(PTRACE_ATTACH, pid, NULL, NULL));
	ASSERT_EQ(pid, waitpid(pid, &status, 0));
	ASSERT_TRUE(WIFSTOPPED(status));
	ASSERT_EQ(0, ptrace(PTRACE_DETACH, pid, NULL, NULL));
	ASSERT_TRUE(wait_waiters(self->s, 1, 10000));
	ASSERT_EQ(0, ksync_sem_release(self->s, 1));
	ASSERT_EQ(0, wait_child(pid, 10000));
}

/*
 * The cgroup v2 freezer: frozen and thawed, the wait goes on.  Skipped
 * where cgroup2 cannot be mounted (the debug kernel has no cgroups).
 */
TEST_F(sig, cgroup_freezer_keeps_waiting)
{
	pid_t pid = waiting_child(self->s, 20000);
	int ret;

	ASSERT_GT(pid, 0);
	ASSERT_TRUE(wait_waiters(self->s, 1, 10000));
	ret = freeze_and_thaw(pid);
	if (ret > 0) {
		ksync_sem_release(self->s, 1);
		wait_child(pid, 10000);
		SKIP(return, "no cgroup2 here");
	}
	ASSERT_EQ(0, ret);
	ASSERT_TRUE(wait_waiters(self->s, 1, 10000));
	ASSERT_EQ(0, ksync_sem_release(self->s, 1));
	ASSERT_EQ(0, wait_child(pid, 10000));
}

/*
 * Stopped past its deadline: the restarted wait times out, not -EINTR.
 * The deadline is a second away: it must not pass before the stop lands,
 * on a slow guest either.
 */
TEST_F(sig, deadline_passes_while_stopped)
{
	pid_t pid = waiting_child(self->s, 1000);
	int64_t end;

	ASSERT_GT(pid, 0);
	ASSERT_TRUE(wait_waiters(self->s, 1, 10000));
	/* it took its deadline before it slept: no later than this */
	end = now_ns() + 1000 * 1000000LL;
	ASSERT_EQ(0, kill(pid, SIGSTOP));
	ASSERT_TRUE(wait_stopped(pid, WUNTRACED));
	while (now_ns() <= end)
		pause_us(10000);
	ASSERT_EQ(0, kill(pid, SIGCONT));
	ASSERT_EQ(3, wait_child(pid, 10000));
	ASSERT_EQ(0, sem_waiters(self->s));
}

static void on_signal(int sig)
{
	(void)sig;
}

/* A handler ends the wait with -EINTR, SA_RESTART or not. */
TEST_F(sig, handler_interrupts)
{
	int flags[] = { 0, SA_RESTART };

	for (unsigned int i = 0; i < 2; i++) {
		pid_t pid = fork();

		ASSERT_GE(pid, 0);
		if (pid == 0) {
			struct sigaction sa = { .sa_handler = on_signal, .sa_flags = flags[i] };
			struct timespec dl = ksync_deadline_ms(20000);

			sigaction(SIGUSR1, &sa, NULL);
			_exit(ksync_sem_acquire(self->s, 1, &dl) == -EINTR ? 0 : 1);
		}
		ASSERT_TRUE(wait_waiters(self->s, 1, 10000));
		kill(pid, SIGUSR1);
		ASSERT_EQ(0, wait_child(pid, 10000));
		ASSERT_EQ(0, sem_waiters(self->s));
	}
}

/* An ignored signal, or one whose default is to do nothing, is no handler. */
TEST_F(sig, ignored_signal_keeps_waiting)
{
	pid_t pid = fork();

	ASSERT_GE(pid, 0);
	if (pid == 0) {
		struct timespec dl = ksync_deadline_ms(20000);

		signal(SIGUSR1, SIG_IGN);
		_exit(ksync_sem_acquire(self->s, 1, &dl) ? 1 : 0);
	}
	ASSERT_TRUE(wait_waiters(self->s, 1, 10000));
	ASSERT_EQ(0, kill(pid, SIGUSR1));
	ASSERT_EQ(0, kill(pid, SIGWINCH)); /* default action: ignore */
	ASSERT_EQ(0, ksync_sem_release(self->s, 1));
	ASSERT_EQ(0, wait_child(pid, 10000));
}

/* SIGKILL: no waiter left behind, no permit lost. */
TEST_F(sig, sigkill_leaves_no_trace)
{
	pid_t pid = waiting_child(self->s, 20000);

	ASSERT_GT(pid, 0);
	ASSERT_TRUE(wait_waiters(self->s, 1, 10000));
	ASSERT_EQ(0, kill(pid, SIGKILL));
	ASSERT_EQ(128 + SIGKILL, wait_child(pid, 10000));
	ASSERT_EQ(0, sem_waiters(self->s));
	ASSERT_EQ(0, ksync_sem_release(self->s, 1));
	ASSERT_EQ(0, ksync_sem_try_acquire(self->s, 1));
}

TEST_HARNESS_MAIN
