// SPDX-License-Identifier: GPL-2.0
/*
 * ksync_wait_any() among other waiters: a select keeps its place in each
 * semaphore's and each event's FIFO between plain waiters; an entry that
 * another object claimed holds nobody's place; a selecting process killed
 * or interrupted leaves every line with nothing taken, and passes on an
 * auto event's set; stop and continue change nothing; a pidfd cancels a
 * select when a process dies.
 */
#include <sched.h>
#include <signal.h>
#include <stdatomic.h>
#include <sys/eventfd.h>
#include <sys/mman.h>
#include <sys/ptrace.h>
#include <sys/syscall.h>

#include "common.h"
#include "kselftest_harness.h"

/*
 * Run on cpu as a real-time task: a task pinned there cannot run until
 * rt_end(), so that one claimed by a waker stays claimed and not yet back
 * (its other entries still linked) for as long as we look.
 */
static int rt_begin(int cpu)
{
	struct sched_param rt = { .sched_priority = 1 };

	pin_to_cpu(cpu);
	return sched_setscheduler(0, SCHED_FIFO, &rt) ? -errno : 0;
}

static void rt_end(void)
{
	struct sched_param normal = { 0 };

	sched_setscheduler(0, SCHED_OTHER, &normal);
}

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

/*
 * who: a plain wait on e (even) or a select over other and e (odd); on
 * cpu alone unless it is -1.
 */
static pid_t event_waiter(ksync_event_t *e, ksync_sem_t *other, _Atomic int *log, int who, int cpu)
{
	pid_t pid = fork();

	if (pid == 0) {
		struct timespec dl = ksync_deadline_ms(DEADLINE_MS);
		struct ksync_op ops[2] = {
			{ .kind = KSYNC_OP_ACQUIRE, .sem = other, .n = 1 },
			{ .kind = KSYNC_OP_EVENT, .event = e },
		};
		int ret;

		if (cpu >= 0)
			pin_to_cpu(cpu);
		ret = who % 2 ? ksync_wait_any(ops, 2, &dl) - 1 : ksync_event_wait(e, &dl);
		if (ret)
			_exit(10);
		done(log, who);
		_exit(0);
	}
	return pid;
}

/* An auto event: plain, select, plain, select, each set lets the next pass. */
TEST_F(order, fifo_of_an_event_across_plain_and_selecting_waiters)
{
	ksync_event_t *e;
	pid_t pids[4];

	ASSERT_EQ(0, ksync_event_open(&e, NULL, KSYNC_EVENT_AUTO, 0600, 0));
	for (int i = 0; i < 4; i++) {
		pids[i] = event_waiter(e, self->other, self->log, i, -1);
		ASSERT_LT(0, pids[i]);
		ASSERT_TRUE(wait_ev_waiters(e, (unsigned int)i + 1, DEADLINE_MS));
	}
	for (int i = 0; i < 4; i++) {
		ASSERT_EQ(0, ksync_event_set(e));
		ASSERT_EQ(0, wait_child(pids[i], DEADLINE_MS)) TH_LOG("waiter %d", i);
	}
	for (int i = 0; i < 4; i++)
		ASSERT_EQ(i, self->log[1 + i]);
	ASSERT_EQ(0, sem_waiters(self->other));
	ASSERT_EQ(0, ksync_event_is_set(e));
	ASSERT_EQ(0, ksync_event_close(e));
}

/*
 * A selector asleep on other, a manual event m and an auto event a is
 * claimed by other's release and held there (it shares a CPU with us, a
 * real-time task), its event entries still linked.  Sets of m and a skip
 * them, and those entries hold nobody's place: m is set for poll, for
 * the info and for a newcomer in the module; a newcomer takes a's set.
 */
TEST_F(order, an_entry_claimed_elsewhere_holds_no_place_on_an_event)
{
	int cpu = sched_getcpu(), efd = eventfd(0, EFD_CLOEXEC), linked, info_set, readable;
	int sel_ret, auto_ret, rt;
	struct timespec past = ksync_deadline_ms(0);
	struct ksync_op ops[2];
	ksync_event_t *m, *a;
	struct pollfd p;
	pid_t sel;

	ASSERT_LE(0, cpu);
	ASSERT_LE(0, efd);
	ASSERT_EQ(0, ksync_event_open(&m, NULL, 0, 0600, 0));
	ASSERT_EQ(0, ksync_event_open(&a, NULL, KSYNC_EVENT_AUTO, 0600, 0));
	sel = fork();
	ASSERT_LE(0, sel);
	if (sel == 0) {
		struct timespec dl = ksync_deadline_ms(DEADLINE_MS);
		struct ksync_op three[3] = {
			{ .kind = KSYNC_OP_ACQUIRE, .sem = self->other, .n = 1 },
			{ .kind = KSYNC_OP_EVENT, .event = m },
			{ .kind = KSYNC_OP_EVENT, .event = a },
		};

		pin_to_cpu(cpu);
		_exit(ksync_wait_any(three, 3, &dl) == 0 ? 0 : 10);
	}
	ASSERT_TRUE(wait_ev_waiters(a, 1, DEADLINE_MS));
	ASSERT_TRUE(wait_ev_waiters(m, 1, DEADLINE_MS));
	rt = rt_begin(cpu);
	if (rt) {
		rt_end();
		kill(sel, SIGKILL);
		wait_child(sel, DEADLINE_MS);
		SKIP(return, "no real-time scheduling here: %s", strerror(-rt));
	}
	/* from here to rt_end(), sel cannot run: claimed, not yet back */
	ASSERT_EQ(0, ksync_sem_release(self->other, 1));
	ASSERT_EQ(0, ksync_event_set(m));
	ASSERT_EQ(0, ksync_event_set(a));
	linked = (int)ev_stats(m).waiters + (int)ev_stats(a).waiters;
	info_set = (int)ev_stats(m).set;
	p = (struct pollfd){ .fd = ksync_event_fd(m), .events = POLLIN };
	readable = poll(&p, 1, 0) == 1 && (p.revents & POLLIN);
	ops[0] = (struct ksync_op){ .kind = KSYNC_OP_FD, .fd = efd };
	ops[1] = (struct ksync_op){ .kind = KSYNC_OP_EVENT, .event = m };
	sel_ret = ksync_wait_any(ops, 2, &past);
	auto_ret = ksync_event_wait(a, &past);
	rt_end();
	ASSERT_EQ(0, wait_child(sel, DEADLINE_MS));
	/* the window was there: both entries were still linked */
	ASSERT_EQ(2, linked);
	ASSERT_EQ(1, info_set);
	ASSERT_TRUE(readable);
	ASSERT_EQ(1, sel_ret);
	ASSERT_EQ(0, auto_ret);
	ASSERT_EQ(0U, ev_stats(m).waiters);
	ASSERT_EQ(0U, ev_stats(a).waiters);
	ASSERT_EQ(1, ksync_event_is_set(m));
	ASSERT_EQ(0, ksync_event_is_set(a));
	ASSERT_EQ(0, ksync_sem_value(self->other));
	ksync_event_close(m);
	ksync_event_close(a);
	close(efd);
}

/*
 * A selector killed between an auto set's claim and its return (held
 * there as above) passes the set on to the plain waiter behind it, and
 * leaves the semaphore's line.
 */
TEST_F(order, a_killed_selector_passes_an_auto_set_on)
{
	int cpu = sched_getcpu(), rt, set_ret, kill_ret;
	ksync_event_t *e;
	pid_t sel, plain;

	ASSERT_LE(0, cpu);
	ASSERT_EQ(0, ksync_event_open(&e, NULL, KSYNC_EVENT_AUTO, 0600, 0));
	sel = event_waiter(e, self->other, self->log, 1, cpu);
	ASSERT_LT(0, sel);
	ASSERT_TRUE(wait_ev_waiters(e, 1, DEADLINE_MS));
	plain = event_waiter(e, self->other, self->log, 2, -1);
	ASSERT_LT(0, plain);
	ASSERT_TRUE(wait_ev_waiters(e, 2, DEADLINE_MS));
	rt = rt_begin(cpu);
	if (rt) {
		rt_end();
		kill(sel, SIGKILL);
		kill(plain, SIGKILL);
		wait_child(sel, DEADLINE_MS);
		wait_child(plain, DEADLINE_MS);
		SKIP(return, "no real-time scheduling here: %s", strerror(-rt));
	}
	set_ret = ksync_event_set(e);
	kill_ret = kill(sel, SIGKILL);
	rt_end();
	ASSERT_EQ(0, set_ret);
	ASSERT_EQ(0, kill_ret);
	ASSERT_EQ(128 + SIGKILL, wait_child(sel, DEADLINE_MS));
	ASSERT_EQ(0, wait_child(plain, DEADLINE_MS));
	ASSERT_EQ(0, ksync_event_is_set(e));
	ASSERT_EQ(2ULL, ev_stats(e).woken);
	ASSERT_EQ(0, sem_waiters(self->other));
	ASSERT_EQ(0, ksync_sem_value(self->other));
	ksync_event_close(e);
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
