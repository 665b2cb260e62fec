// SPDX-License-Identifier: GPL-2.0
/*
 * ksync_wait_any() among other waiters: a select keeps its place in each
 * semaphore's FIFO between plain acquirers; a selecting process killed
 * or interrupted leaves every line with nothing taken; stop and continue
 * change nothing; a pidfd cancels a select when a process dies.
 */
#include <signal.h>
#include <stdatomic.h>
#include <sys/mman.h>
#include <sys/ptrace.h>
#include <sys/syscall.h>

#include "common.h"
#include "kselftest_harness.h"

#define DEADLINE_MS 20000

FIXTURE(order)
{
	ksync_sem_t *s, *other;
	_Atomic int *log; /* [0]: next slot; then who finished, in order */
};

FIXTURE_SETUP(order)
{
	ASSERT_EQ(0, ksync_sem_open(&self->s, NULL, 0, 0600, 0));
	ASSERT_EQ(0, ksync_sem_open(&self->other, NULL, 0, 0600, 0));
	self->log = mmap(NULL, 4096, PROT_READ | PROT_WRITE, MAP_SHARED | MAP_ANONYMOUS, -1, 0);
	ASSERT_NE(MAP_FAILED, self->log);
}

FIXTURE_TEARDOWN(order)
{
	ksync_sem_close(self->s);
	ksync_sem_close(self->other);
	munmap(self->log, 4096);
}

static void done(_Atomic int *log, int who)
{
	log[1 + atomic_fetch_add(&log[0], 1)] = who;
}

/* who: a plain acquire of s (even) or a select over other and s (odd). */
static pid_t waiter(ksync_sem_t *s, ksync_sem_t *other, _Atomic int *log, int who)
{
	pid_t pid = fork();

	if (pid == 0) {
		struct timespec dl = ksync_deadline_ms(DEADLINE_MS);
		struct ksync_op ops[2] = {
			{ .kind = KSYNC_OP_ACQUIRE, .sem = other, .n = 1 },
			{ .kind = KSYNC_OP_ACQUIRE, .sem = s, .n = 1 },
		};
		int ret = who % 2 ? ksync_wait_any(ops, 2, &dl) - 1 : ksync_sem_acquire(s, 1, &dl);

		if (ret)
			_exit(10);
		done(log, who);
		_exit(0);
	}
	return pid;
}

/* plain, select, plain, select: released one at a time, served in that order. */
TEST_F(order, fifo_across_plain_and_selecting_waiters)
{
	pid_t pids[4];

	for (int i = 0; i < 4; i++) {
		pids[i] = waiter(self->s, self->other, self->log, i);
		ASSERT_LT(0, pids[i]);
		ASSERT_TRUE(wait_waiters(self->s, i + 1, DEADLINE_MS));
	}
	for (int i = 0; i < 4; i++) {
		ASSERT_EQ(0, ksync_sem_release(self->s, 1));
		ASSERT_EQ(0, wait_child(pids[i], DEADLINE_MS)) TH_LOG("waiter %d", i);
	}
	for (int i = 0; i < 4; i++)
		ASSERT_EQ(i, self->log[1 + i]);
	/* the selects left other's line */
	ASSERT_EQ(0, sem_waiters(self->other));
	ASSERT_EQ(0, ksync_sem_value(self->s));
}

/*
 * A selector heads s's line and waits for 2: a newcomer's acquire of 1,
 * plain or selecting, does not pass it.
 */
TEST_F(order, a_newcomer_does_not_pass_a_selecting_head)
{
	struct ksync_op ops[2] = {
		{ .kind = KSYNC_OP_ACQUIRE, .sem = self->other, .n = 1 },
		{ .kind = KSYNC_OP_ACQUIRE, .sem = self->s, .n = 1 },
	};
	struct timespec past = ksync_deadline_ms(0);
	pid_t head = fork();

	if (head == 0) {
		struct timespec dl = ksync_deadline_ms(DEADLINE_MS);
		struct ksync_op two[2] = {
			{ .kind = KSYNC_OP_ACQUIRE, .sem = self->other, .n = 1 },
			{ .kind = KSYNC_OP_ACQUIRE, .sem = self->s, .n = 2 },
		};

		_exit(ksync_wait_any(two, 2, &dl) == 1 ? 0 : 10);
	}
	ASSERT_LT(0, head);
	ASSERT_TRUE(wait_waiters(self->s, 1, DEADLINE_MS));
	ASSERT_EQ(0, ksync_sem_release(self->s, 1));
	ASSERT_EQ(-EAGAIN, ksync_sem_try_acquire(self->s, 1));
	ASSERT_EQ(-ETIMEDOUT, ksync_wait_any(ops, 2, &past));
	ASSERT_EQ(0, ksync_sem_release(self->s, 1));
	ASSERT_EQ(0, wait_child(head, DEADLINE_MS));
	ASSERT_EQ(0, ksync_sem_value(self->s));
}

/* Killed asleep in a select: both lines forget it; nothing is lost. */
TEST_F(order, a_killed_selector_leaves_every_line)
{
	pid_t sel = waiter(self->s, self->other, self->log, 1), plain;

	ASSERT_LT(0, sel);
	ASSERT_TRUE(wait_waiters(self->s, 1, DEADLINE_MS));
	ASSERT_TRUE(wait_waiters(self->other, 1, DEADLINE_MS));
	plain = waiter(self->s, self->other, self->log, 2);
	ASSERT_LT(0, plain);
	ASSERT_TRUE(wait_waiters(self->s, 2, DEADLINE_MS));
	ASSERT_EQ(0, kill(sel, SIGKILL));
	ASSERT_EQ(128 + SIGKILL, wait_child(sel, DEADLINE_MS));
	ASSERT_TRUE(wait_waiters(self->s, 1, DEADLINE_MS));
	ASSERT_EQ(0, sem_waiters(self->other));
	/* the permit goes to the plain waiter behind it */
	ASSERT_EQ(0, ksync_sem_release(self->s, 1));
	ASSERT_EQ(0, wait_child(plain, DEADLINE_MS));
	ASSERT_EQ(0, ksync_sem_value(self->s));
	ASSERT_EQ(0, ksync_sem_release(self->other, 1));
	ASSERT_EQ(1, ksync_sem_value(self->other));
}

static void on_signal(int sig)
{
	(void)sig;
}

/* A handler ends the select with -EINTR (with SA_RESTART too); stop and continue do not. */
TEST_F(order, signals)
{
	static const int flags[] = { 0, SA_RESTART };

	for (int i = 0; i < 2; i++) {
		pid_t pid = fork();

		if (pid == 0) {
			struct sigaction sa = { .sa_handler = on_signal, .sa_flags = flags[i] };
			struct timespec dl = ksync_deadline_ms(DEADLINE_MS);
			struct ksync_op ops[2] = {
				{ .kind = KSYNC_OP_ACQUIRE, .sem = self->other, .n = 1 },
				{ .kind = KSYNC_OP_ACQUIRE, .sem = self->s, .n = 1 },
			};

			sigaction(SIGUSR1, &sa, NULL);
			_exit(ksync_wait_any(ops, 2, &dl) == -EINTR ? 0 : 10);
		}
		ASSERT_LT(0, pid);
		ASSERT_TRUE(wait_waiters(self->s, 1, DEADLINE_MS));
		ASSERT_EQ(0, kill(pid, SIGUSR1));
		ASSERT_EQ(0, wait_child(pid, DEADLINE_MS));
		ASSERT_EQ(0, sem_waiters(self->s));
		ASSERT_EQ(0, sem_waiters(self->other));
	}
	pid_t pid = waiter(self->s, self->other, self->log, 1);

	ASSERT_LT(0, pid);
	ASSERT_TRUE(wait_waiters(self->s, 1, DEADLINE_MS));
	ASSERT_EQ(0, kill(pid, SIGSTOP));
	ASSERT_TRUE(wait_stopped(pid, WUNTRACED));
	ASSERT_EQ(0, kill(pid, SIGCONT));
	ASSERT_TRUE(wait_stopped(pid, WCONTINUED));
	ASSERT_TRUE(wait_waiters(self->s, 1, DEADLINE_MS));
	ASSERT_EQ(0, ksync_sem_release(self->s, 1));
	ASSERT_EQ(0, wait_child(pid, DEADLINE_MS));
}

/* A debugger attaching and detaching does not end a select either. */
TEST_F(order, ptrace_attach_keeps_selecting)
{
	pid_t pid = waiter(self->s, self->other, self->log, 1);
	int status;

	ASSERT_LT(0, pid);
	ASSERT_TRUE(wait_waiters(self->s, 1, DEADLINE_MS));
	ASSERT_EQ(0, ptrace(PTRACE_ATTACH, pid, NULL, NULL));
	ASSERT_EQ(pid, waitpid(pid, &status, 0));
	ASSERT_TRUE(WIFSTOPPED(status));
	ASSERT_EQ(0, ptrace(PTRACE_DETACH, pid, NULL, NULL));
	ASSERT_TRUE(wait_waiters(self->s, 1, DEADLINE_MS));
	ASSERT_TRUE(wait_waiters(self->other, 1, DEADLINE_MS));
	ASSERT_EQ(0, ksync_sem_release(self->s, 1));
	ASSERT_EQ(0, wait_child(pid, DEADLINE_MS));
	ASSERT_EQ(0, sem_waiters(self->other));
}

/* Cancellation by a pidfd: the select ends when the process it watches dies. */
TEST_F(order, a_pidfd_cancels_when_its_process_dies)
{
	pid_t watched = fork(), sel;
	int pidfd;

	if (watched == 0) {
		pause();
		_exit(0);
	}
	ASSERT_LT(0, watched);
	pidfd = (int)syscall(SYS_pidfd_open, watched, 0);
	ASSERT_LE(0, pidfd);
	sel = fork();
	if (sel == 0) {
		struct timespec dl = ksync_deadline_ms(DEADLINE_MS);
		struct ksync_op ops[2] = {
			{ .kind = KSYNC_OP_ACQUIRE, .sem = self->s, .n = 1 },
			{ .kind = KSYNC_OP_FD, .fd = pidfd },
		};

		_exit(ksync_wait_any(ops, 2, &dl) == 1 ? 0 : 10);
	}
	ASSERT_LT(0, sel);
	ASSERT_TRUE(wait_waiters(self->s, 1, DEADLINE_MS));
	ASSERT_EQ(0, kill(watched, SIGKILL));
	ASSERT_EQ(0, wait_child(sel, DEADLINE_MS));
	ASSERT_EQ(128 + SIGKILL, wait_child(watched, DEADLINE_MS));
	ASSERT_EQ(0, sem_waiters(self->s));
	close(pidfd);
}

TEST_HARNESS_MAIN
