// SPDX-License-Identifier: GPL-2.0
/*
 * A barrier must not hang when a party dies: the round that others wait in
 * breaks (-EPIPE).  A process is a party once it has waited; it stops
 * being one when it no longer holds the barrier (last close, exec, exit),
 * whoever else shares the open file or keeps a mapping.  And signals: only
 * a handler ends a wait (-EINTR, and the round breaks); a stop, ptrace or
 * an ignored signal change nothing, and a restarted wait arrives once.
 */
#include <sys/mman.h>
#include <sys/ptrace.h>
#include <sys/resource.h>

#include "barrier.h"
#include "raw.h"
#include "kselftest_harness.h"

FIXTURE(death)
{
	const char *name;
	ksync_barrier_t *b;
};

FIXTURE_SETUP(death)
{
	self->name = strdup(test_name("bar-death"));
	ASSERT_EQ(0, ksync_barrier_open(&self->b, self->name, KSYNC_CREATE | KSYNC_EXCL, 0600, 3));
}

FIXTURE_TEARDOWN(death)
{
	ksync_unlink(self->name);
	ksync_barrier_close(self->b);
}

/* A child that opens the barrier by name (its own open file) and waits. */
static pid_t own_file_child(const char *name, long ms)
{
	pid_t pid = fork();

	if (pid == 0) {
		struct timespec dl = ksync_deadline_ms(ms);
		ksync_barrier_t *b;

		if (ksync_barrier_open(&b, name, 0, 0, 0))
			_exit(99);
		_exit(wait_code(ksync_barrier_wait(b, &dl)));
	}
	return pid;
}

static void killed_party(struct __test_metadata *_metadata, pid_t victim, pid_t other,
			 ksync_barrier_t *b)
{
	ASSERT_GT(victim, 0);
	ASSERT_GT(other, 0);
	ASSERT_TRUE(wait_arrived(b, 2, 10000));
	ASSERT_EQ(0, kill(victim, SIGKILL));
	ASSERT_EQ(128 + SIGKILL, wait_child(victim, 10000));
	ASSERT_EQ(W_EPIPE, wait_child(other, 10000));
	ASSERT_EQ(1, barrier_stats(b).broken);
	ASSERT_EQ(-EPIPE, ksync_barrier_wait(b, NULL));
}

TEST_F(death, sigkill_while_others_wait)
{
	pid_t victim = own_file_child(self->name, 30000);
	pid_t other = own_file_child(self->name, 30000);

	killed_party(_metadata, victim, other, self->b);
}

/* Processes that share one open file (fork) are parties each. */
TEST_F(death, sigkill_of_a_process_sharing_the_file)
{
	pid_t victim = barrier_child(self->b, 30000);
	pid_t other = barrier_child(self->b, 30000);

	killed_party(_metadata, victim, other, self->b);
}

/* Killed while watching the word, before it ever slept in the kernel. */
TEST_F(death, sigkill_while_watching)
{
	pid_t victim, other;

	victim = fork();
	if (victim == 0) {
		/* arrives on the page and watches it, never entering the kernel */
		ksync_barrier_set_spin(self->b, 4000000000u);
		_exit(wait_code(ksync_barrier_wait(self->b, NULL)));
	}
	ASSERT_TRUE(wait_arrived(self->b, 1, 10000));
	ASSERT_EQ(0, barrier_stats(self->b).wait_calls);
	other = barrier_child(self->b, 30000);
	killed_party(_metadata, victim, other, self->b);
}

/* A party that steps through rounds with the test, driven by a pipe. */
struct stepper {
	pid_t pid;
	/* write a byte: 'w' wait a round, 'a' arrive without waiting, 'c' close,
	 * 'x' exit, 'e' exec */
	int cmd;
	int done; /* one byte back per command: its wait_code or 0 */
};

static int stepper_start(struct stepper *s, const char *name)
{
	int to[2], from[2];

	if (pipe(to) || pipe(from))
		return -1;
	s->pid = fork();
	if (s->pid == 0) {
		ksync_barrier_t *b;
		char c, r;

		close(to[1]);
		close(from[0]);
		if (ksync_barrier_open(&b, name, 0, 0, 0))
			_exit(99);
		while (read(to[0], &c, 1) == 1) {
			struct timespec dl = ksync_deadline_ms(20000);

			r = 0;
			if (c == 'w')
				r = (char)wait_code(ksync_barrier_wait(b, &dl));
			else if (c == 'a')
				r = (char)wait_code(ksync_barrier_arrive(b));
			else if (c == 'c')
				ksync_barrier_close(b);
			else if (c == 'x')
				_exit(0);
			else if (c == 'e')
				execl("/bin/sleep", "sleep", "30", (char *)NULL);
			if (write(from[1], &r, 1) != 1)
				_exit(98);
		}
		_exit(0);
	}
	close(to[0]);
	close(from[1]);
	s->cmd = to[1];
	s->done = from[0];
	return s->pid > 0 ? 0 : -1;
}

static int stepper_do(struct stepper *s, char c)
{
	struct pollfd p = { .fd = s->done, .events = POLLIN };
	char r;

	if (write(s->cmd, &c, 1) != 1 || poll(&p, 1, 20000) != 1 || read(s->done, &r, 1) != 1)
		return -1;
	return r;
}

/* The stepper and the test's own two arrivals make up one round. */
static void round_with(struct __test_metadata *_metadata, struct stepper *s, ksync_barrier_t *b)
{
	ASSERT_EQ(0, ksync_barrier_arrive(b));
	ASSERT_EQ(0, ksync_barrier_arrive(b));
	ASSERT_EQ(W_SERIAL, stepper_do(s, 'w'));
}

TEST_F(death, close_while_others_wait)
{
	struct stepper s;

	ASSERT_EQ(0, stepper_start(&s, self->name));
	round_with(_metadata, &s, self->b);
	ASSERT_EQ(0, ksync_barrier_arrive(self->b));
	ASSERT_EQ(0, stepper_do(&s, 'c'));
	ASSERT_EQ(1, barrier_stats(self->b).broken);
	stepper_do(&s, 'x');
	ASSERT_EQ(0, wait_child(s.pid, 10000));
}

TEST_F(death, exec_while_others_wait)
{
	struct stepper s;

	ASSERT_EQ(0, stepper_start(&s, self->name));
	round_with(_metadata, &s, self->b);
	ASSERT_EQ(0, ksync_barrier_arrive(self->b));
	ASSERT_EQ(0, write(s.cmd, "e", 1) == 1 ? 0 : -1);
	/* the exec closes the (close-on-exec) fd: the round breaks */
	int64_t end = now_ns() + 10000000000LL;
	while (!barrier_stats(self->b).broken && now_ns() < end)
		pause_us(500);
	ASSERT_EQ(1, barrier_stats(self->b).broken);
	kill(s.pid, SIGKILL);
	wait_child(s.pid, 10000);
}

/* Leaving cleanly between rounds, with nobody waiting, breaks nothing. */
TEST_F(death, clean_close_and_exit_between_rounds)
{
	struct stepper s;

	ASSERT_EQ(0, stepper_start(&s, self->name));
	round_with(_metadata, &s, self->b);
	ASSERT_EQ(0, stepper_do(&s, 'c'));
	ASSERT_EQ(0, barrier_stats(self->b).broken);
	ASSERT_EQ(-1, stepper_do(&s, 'x')); /* exits without answering */
	ASSERT_EQ(0, wait_child(s.pid, 10000));
	/* another party that exits normally, its handle still open */
	ASSERT_EQ(0, stepper_start(&s, self->name));
	round_with(_metadata, &s, self->b);
	ASSERT_EQ(-1, stepper_do(&s, 'x'));
	ASSERT_EQ(0, wait_child(s.pid, 10000));
	ASSERT_EQ(0, barrier_stats(self->b).broken);
	ASSERT_EQ(2, barrier_stats(self->b).generation);
}

/*
 * The split-phase use: a party arrives without waiting, then closes its
 * handle or exits normally.  It has done its part of the round, which
 * completes when the others arrive: 1 for the last, 0 for the others.
 */
TEST_F(death, arrive_then_clean_close_or_exit_completes_the_round)
{
	struct timespec dl = ksync_deadline_ms(20000);
	struct stepper s;
	pid_t other;

	for (char how = 'c'; how; how = how == 'c' ? 'x' : 0) {
		ASSERT_EQ(0, stepper_start(&s, self->name));
		ASSERT_EQ(W_PASSED, stepper_do(&s, 'a'));
		other = barrier_child(self->b, 20000);
		ASSERT_GT(other, 0);
		ASSERT_TRUE(wait_arrived(self->b, 2, 10000));
		if (how == 'c') {
			ASSERT_EQ(0, stepper_do(&s, 'c'));
		}
		ASSERT_EQ(-1, stepper_do(&s, 'x')); /* exits without answering */
		ASSERT_EQ(0, wait_child(s.pid, 10000));
		ASSERT_EQ(0, barrier_stats(self->b).broken);
		ASSERT_EQ(2, barrier_stats(self->b).waiting);
		ASSERT_EQ(1, ksync_barrier_wait(self->b, &dl));
		ASSERT_EQ(W_PASSED, wait_child(other, 10000));
	}
	ASSERT_EQ(2, barrier_stats(self->b).generation);
	ASSERT_EQ(0, barrier_stats(self->b).breaks);
}

/* Killed after arriving, a party still breaks the round: it can never come to the next. */
TEST_F(death, arrive_then_killed_breaks)
{
	struct stepper s;
	pid_t other;

	ASSERT_EQ(0, stepper_start(&s, self->name));
	ASSERT_EQ(W_PASSED, stepper_do(&s, 'a'));
	other = barrier_child(self->b, 20000);
	ASSERT_GT(other, 0);
	ASSERT_TRUE(wait_arrived(self->b, 2, 10000));
	ASSERT_EQ(0, kill(s.pid, SIGKILL));
	ASSERT_EQ(128 + SIGKILL, wait_child(s.pid, 10000));
	ASSERT_EQ(W_EPIPE, wait_child(other, 10000));
	ASSERT_EQ(1, barrier_stats(self->b).broken);
}

/*
 * Whose arrival it was matters, not the file's: a process that shares the
 * file with one that arrived through it, and leaves without arriving,
 * leaves the others waiting for it, so the round breaks.
 */
TEST_F(death, leaving_a_file_another_process_arrived_through_breaks)
{
	struct ksync_barrier_ctl ctl = { .size = sizeof(ctl) };
	int go[2], done[2];
	pid_t sharer, other;
	char c = 0;

	ASSERT_EQ(0, pipe(go));
	ASSERT_EQ(0, pipe(done));
	sharer = fork();
	if (sharer == 0) {
		/* a party through the test's own file, then it lets go of it */
		if (ioctl(ksync_barrier_fd(self->b), KSYNC_IOC_BARRIER_JOIN, &ctl))
			_exit(99);
		if (write(done[1], &c, 1) != 1 || read(go[0], &c, 1) != 1)
			_exit(98);
		ksync_barrier_close(self->b);
		_exit(write(done[1], &c, 1) == 1 ? 0 : 97);
	}
	ASSERT_GT(sharer, 0);
	ASSERT_EQ(1, read(done[0], &c, 1));
	ASSERT_EQ(0, ksync_barrier_arrive(self->b));
	other = own_file_child(self->name, 20000);
	ASSERT_GT(other, 0);
	ASSERT_TRUE(wait_arrived(self->b, 2, 10000));
	ASSERT_EQ(1, write(go[1], &c, 1));
	ASSERT_EQ(0, wait_child(sharer, 10000));
	ASSERT_EQ(W_EPIPE, wait_child(other, 10000));
	ASSERT_EQ(1, barrier_stats(self->b).broken);
	close(go[0]);
	close(go[1]);
	close(done[0]);
	close(done[1]);
}

/* But a party killed between rounds can never come: the next round would hang. */
TEST_F(death, killed_between_rounds)
{
	struct stepper s;

	ASSERT_EQ(0, stepper_start(&s, self->name));
	round_with(_metadata, &s, self->b);
	ASSERT_EQ(0, barrier_stats(self->b).waiting);
	ASSERT_EQ(0, kill(s.pid, SIGKILL));
	ASSERT_EQ(128 + SIGKILL, wait_child(s.pid, 10000));
	ASSERT_EQ(1, barrier_stats(self->b).broken);
	ASSERT_EQ(-EPIPE, ksync_barrier_arrive(self->b));
}

/* A process that only opened the barrier, never waiting, is not a party. */
TEST_F(death, onlooker_dies)
{
	pid_t pid = fork();

	if (pid == 0) {
		ksync_barrier_t *b;

		if (ksync_barrier_open(&b, self->name, 0, 0, 0))
			_exit(99);
		pause();
		_exit(0);
	}
	ASSERT_GT(pid, 0);
	ASSERT_EQ(0, ksync_barrier_arrive(self->b));
	ASSERT_EQ(0, kill(pid, SIGKILL));
	ASSERT_EQ(128 + SIGKILL, wait_child(pid, 10000));
	ASSERT_EQ(0, barrier_stats(self->b).broken);
	ASSERT_EQ(1, barrier_stats(self->b).waiting);
}

/* Closing a dup of the fd leaves the process holding the barrier. */
TEST_F(death, closing_a_dup_is_not_leaving)
{
	int fd = ksync_barrier_fd(self->b);

	ASSERT_EQ(0, ksync_barrier_arrive(self->b));
	ASSERT_EQ(0, close(dup(fd)));
	ASSERT_EQ(0, barrier_stats(self->b).broken);
	ASSERT_EQ(1, barrier_stats(self->b).waiting);
}

/*
 * A daemon-style child of a party closes every fd but keeps the mapping;
 * when the party is killed, the others must not wait on the child's account.
 */
TEST_F(death, daemon_child_keeps_only_the_mapping)
{
	pid_t party, other, daemon = 0;
	int ready[2];

	ASSERT_EQ(0, pipe(ready));
	party = fork();
	if (party == 0) {
		struct timespec dl = ksync_deadline_ms(30000);
		ksync_barrier_t *b;
		pid_t d;

		if (ksync_barrier_open(&b, self->name, 0, 0, 0))
			_exit(99);
		d = fork();
		if (d == 0) {
			/* the daemon: no fds at all, the page still mapped */
			close_range(0, ~0U, 0);
			sleep(30);
			_exit(0);
		}
		if (write(ready[1], &d, sizeof(d)) != sizeof(d))
			_exit(97);
		_exit(wait_code(ksync_barrier_wait(b, &dl)));
	}
	ASSERT_GT(party, 0);
	ASSERT_EQ((ssize_t)sizeof(daemon), read(ready[0], &daemon, sizeof(daemon)));
	ASSERT_GT(daemon, 0);
	ASSERT_TRUE(wait_arrived(self->b, 1, 10000));
	other = barrier_child(self->b, 30000);
	ASSERT_GT(other, 0);
	ASSERT_TRUE(wait_arrived(self->b, 2, 10000));
	ASSERT_EQ(0, kill(party, SIGKILL));
	ASSERT_EQ(128 + SIGKILL, wait_child(party, 10000));
	EXPECT_EQ(W_EPIPE, wait_child(other, 10000));
	kill(daemon, SIGKILL); /* not our child: it holds the module until it goes */
	while (kill(daemon, 0) == 0)
		pause_us(1000);
	close(ready[0]);
	close(ready[1]);
}

static void on_usr1(int sig)
{
	(void)sig;
}

static pid_t handler_child(ksync_barrier_t *b, int flags)
{
	pid_t pid = fork();

	if (pid == 0) {
		struct sigaction sa = { .sa_handler = on_usr1, .sa_flags = flags };
		struct timespec dl = ksync_deadline_ms(30000);

		sigaction(SIGUSR1, &sa, NULL);
		signal(SIGUSR2, SIG_IGN);
		_exit(wait_code(ksync_barrier_wait(b, &dl)));
	}
	return pid;
}

static void handler_breaks(struct __test_metadata *_metadata, ksync_barrier_t *b, int flags)
{
	pid_t pid = handler_child(b, flags);
	pid_t other = barrier_child(b, 30000);

	ASSERT_GT(pid, 0);
	ASSERT_GT(other, 0);
	ASSERT_TRUE(wait_sleepers(b, 2, 10000));
	ASSERT_EQ(0, kill(pid, SIGUSR1));
	ASSERT_EQ(W_EINTR, wait_child(pid, 10000));
	ASSERT_EQ(W_EPIPE, wait_child(other, 10000));
	ASSERT_EQ(1, barrier_stats(b).broken);
}

TEST_F(death, handler_interrupts_and_breaks)
{
	handler_breaks(_metadata, self->b, 0);
}

TEST_F(death, handler_with_sa_restart_interrupts_too)
{
	handler_breaks(_metadata, self->b, SA_RESTART);
}

/* The last of three: the round completes with both children passing. */
static void finish_round(struct __test_metadata *_metadata, ksync_barrier_t *b, pid_t a, pid_t c)
{
	ASSERT_EQ(1, ksync_barrier_wait(b, NULL));
	ASSERT_EQ(W_PASSED, wait_child(a, 10000));
	ASSERT_EQ(W_PASSED, wait_child(c, 10000));
	ASSERT_EQ(0, barrier_stats(b).broken);
	ASSERT_EQ(1, barrier_stats(b).generation);
}

/* Stopped, continued, signalled with an ignored signal: it arrives once. */
TEST_F(death, stop_continue_and_ignored_signals_change_nothing)
{
	pid_t a = barrier_child(self->b, 30000);
	pid_t c;

	ASSERT_GT(a, 0);
	ASSERT_TRUE(wait_sleepers(self->b, 1, 10000));
	/* c arrives through the kernel (a sleeps) and sleeps: its restart
	 * must wait for its round, not arrive again */
	c = handler_child(self->b, 0);
	ASSERT_GT(c, 0);
	ASSERT_TRUE(wait_sleepers(self->b, 2, 10000));
	ASSERT_EQ(0, kill(c, SIGSTOP));
	ASSERT_TRUE(wait_stopped(c, WUNTRACED));
	ASSERT_EQ(0, kill(c, SIGCONT));
	ASSERT_TRUE(wait_stopped(c, WCONTINUED));
	ASSERT_EQ(0, kill(c, SIGUSR2));
	ASSERT_TRUE(wait_sleepers(self->b, 2, 10000));
	ASSERT_EQ(2, barrier_stats(self->b).waiting);
	finish_round(_metadata, self->b, a, c);
}

TEST_F(death, ptrace_attach_changes_nothing)
{
	pid_t a = barrier_child(self->b, 30000);
	pid_t c = barrier_child(self->b, 30000);
	int status;

	ASSERT_GT(a, 0);
	ASSERT_GT(c, 0);
	ASSERT_TRUE(wait_sleepers(self->b, 2, 10000));
	ASSERT_EQ(0, ptrace(PTRACE_ATTACH, c, NULL, NULL));
	ASSERT_EQ(c, waitpid(c, &status, 0));
	ASSERT_EQ(0, ptrace(PTRACE_DETACH, c, NULL, NULL));
	ASSERT_TRUE(wait_sleepers(self->b, 2, 10000));
	ASSERT_EQ(2, barrier_stats(self->b).waiting);
	finish_round(_metadata, self->b, a, c);
}

TEST_F(death, deadline_passes_while_stopped)
{
	pid_t a = barrier_child(self->b, 30000);
	/* a second: the deadline must not pass before the stop lands */
	pid_t c = barrier_child(self->b, 1000);
	int64_t deadline;

	ASSERT_GT(a, 0);
	ASSERT_GT(c, 0);
	ASSERT_TRUE(wait_sleepers(self->b, 2, 10000));
	/* c took its deadline before it slept: it is no later than this */
	deadline = now_ns() + 1000000000;
	ASSERT_EQ(0, kill(c, SIGSTOP));
	ASSERT_TRUE(wait_stopped(c, WUNTRACED));
	/* what is awaited here is time itself: c's deadline passing */
	while (now_ns() <= deadline)
		pause_us(10000);
	ASSERT_EQ(0, kill(c, SIGCONT));
	ASSERT_EQ(W_ETIMEDOUT, wait_child(c, 10000));
	ASSERT_EQ(W_EPIPE, wait_child(a, 10000));
}

TEST_F(death, cgroup_freezer_changes_nothing)
{
	pid_t a = barrier_child(self->b, 30000);
	pid_t c = barrier_child(self->b, 30000);
	int ret;

	ASSERT_GT(a, 0);
	ASSERT_GT(c, 0);
	ASSERT_TRUE(wait_sleepers(self->b, 2, 10000));
	ret = freeze_and_thaw(c);
	if (ret > 0) {
		ksync_barrier_reset(self->b);
		wait_child(a, 10000);
		wait_child(c, 10000);
		SKIP(return, "no cgroup2 here");
	}
	ASSERT_EQ(0, ret);
	ASSERT_TRUE(wait_sleepers(self->b, 2, 10000));
	ASSERT_EQ(2, barrier_stats(self->b).waiting);
	finish_round(_metadata, self->b, a, c);
}

/*
 * A party stopped while asleep is counted in its round, which completes
 * without it; whatever happens before it is continued (resets, or other
 * processes going through many rounds), it passes that round: a stop must
 * not change the outcome of a wait.
 */
static pid_t stopped_sleeper(struct __test_metadata *_metadata, ksync_barrier_t *b)
{
	pid_t c = barrier_child(b, 30000);

	ksync_barrier_set_spin(b, 0);
	if (c <= 0 || !wait_sleepers(b, 1, 10000) || kill(c, SIGSTOP) ||
	    !wait_stopped(c, WUNTRACED))
		return -1;
	/* the round completes: c arrived in it, we are the serial party */
	if (ksync_barrier_wait(b, NULL) != 1)
		return -1;
	return c;
}

TEST(stopped_party_passes_after_resets)
{
	ksync_barrier_t *b;
	pid_t c;

	ASSERT_EQ(0, ksync_barrier_open(&b, NULL, 0, 0600, 2));
	c = stopped_sleeper(_metadata, b);
	ASSERT_GT(c, 0);
	for (int i = 0; i < 100; i++)
		ASSERT_EQ(0, ksync_barrier_reset(b));
	ASSERT_EQ(0, kill(c, SIGCONT));
	ASSERT_EQ(W_PASSED, wait_child(c, 10000));
	ASSERT_EQ(0, ksync_barrier_close(b));
}

TEST(stopped_party_passes_after_many_rounds)
{
	ksync_barrier_t *b;
	pid_t c, d;

	ASSERT_EQ(0, ksync_barrier_open(&b, NULL, 0, 0600, 2));
	c = stopped_sleeper(_metadata, b);
	ASSERT_GT(c, 0);
	/* two other processes go on without it (more processes than parties) */
	d = fork();
	if (d == 0) {
		for (int i = 0; i < 200; i++)
			if (ksync_barrier_wait(b, NULL) < 0)
				_exit(1);
		_exit(0);
	}
	for (int i = 0; i < 200; i++)
		ASSERT_LE(0, ksync_barrier_wait(b, NULL));
	ASSERT_EQ(0, wait_child(d, 10000));
	ASSERT_EQ(0, kill(c, SIGCONT));
	ASSERT_EQ(W_PASSED, wait_child(c, 10000));
	ASSERT_EQ(0, ksync_barrier_close(b));
}

/*
 * Closing joined files must not scan the fd table each time (it did: at
 * every close, for a file that no other fd could hold).  A table of
 * 400,000 fds made each such scan long: 8,192 joined files took 90 s to
 * close the old way, 2 s now, on the stock kernel.  The closes are held
 * to twice the time it took to build the table and open the files, which grows
 * with the machine's and the kernel's slowness alike (a fixed limit of
 * 60 s failed on the debug kernel while the host was busy).  Half the
 * table and half the files cost the old way a quarter of its 90 s, still
 * far more than building them, and halve what the test costs.
 */
FIXTURE(many){};
FIXTURE_SETUP(many)
{
}
FIXTURE_TEARDOWN(many)
{
}

TEST_F_TIMEOUT(many, closing_joined_files_in_a_big_fd_table, 600)
{
	int64_t start = now_ns(), built;
	struct ksync_barrier_ctl ctl = { .size = sizeof(ctl) };
	const char *name = test_name("bar-many");
	struct rlimit rl = { 220000, 220000 };
	int null, first_dup, first = -1;
	ksync_barrier_t *b;

	if (setrlimit(RLIMIT_NOFILE, &rl))
		SKIP(return, "cannot raise RLIMIT_NOFILE");
	ASSERT_EQ(0, ksync_barrier_open(&b, name, KSYNC_CREATE, 0600, 2));
	null = open("/dev/null", O_RDONLY | O_CLOEXEC);
	ASSERT_GE(null, 0);
	first_dup = dup(null);
	ASSERT_GE(first_dup, 0);
	for (int i = 1; i < 200000; i++)
		ASSERT_GE(dup(null), 0);
	for (int i = 0; i < 4096; i++) {
		struct ksync_open_args oa = { .size = sizeof(oa),
					      .type = KSYNC_TYPE_BARRIER,
					      .name = (uintptr_t)name };
		int fd = ksync_dev_ioctl(KSYNC_IOC_OPEN, &oa);

		ASSERT_GE(fd, 0);
		if (first < 0)
			first = fd;
		ASSERT_EQ(0, ioctl(fd, KSYNC_IOC_BARRIER_JOIN, &ctl));
	}
	built = now_ns() - start;
	start = now_ns();
	ASSERT_EQ(0, close_range(first, ~0U, 0));
	/* twice: one stall of the host must not decide it */
	ASSERT_LT(now_ns() - start, 2 * built);
	ASSERT_EQ(0, close_range(first_dup, first - 1, 0));
	ASSERT_EQ(0, close(null));
	ASSERT_EQ(0, barrier_stats(b).broken);
	ASSERT_EQ(0, ksync_unlink(name));
	ASSERT_EQ(0, ksync_barrier_close(b));
}

TEST_HARNESS_MAIN
