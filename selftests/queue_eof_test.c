// SPDX-License-Identifier: GPL-2.0
/*
 * End of input, as pipes and FIFOs give it (the rule is in
 * include/uapi/linux/ksync.h): sender open files hold a queue's input
 * open, fork shares them as it shares a pipe's write end, the last one's
 * release ends the input, and the next sender starts a new one.  Each test
 * is an idiom people write with pipes, FIFOs or Go channels.
 */
#include <sched.h>
#include <pthread.h>
#include <sys/mman.h>

#include "kselftest_harness.h"
#include "common.h"

#define PRODUCERS 4
#define WAIT_MS 10000

static struct timespec soon(void)
{
	return ksync_deadline_ms(WAIT_MS);
}

/* Receive until the end of input; how many came, or the error that ended it. */
static int drain(ksync_queue_t *q, long *sum)
{
	struct timespec dl = soon();
	long v;
	int n = 0;
	ssize_t r;

	while ((r = ksync_queue_recv(q, &v, sizeof(v), &dl)) == sizeof(v)) {
		n++;
		if (sum)
			*sum += v;
	}
	return r == -EPIPE ? n : (int)r;
}

/* A child that waits for a byte on go[0], then runs fn and exits with its result. */
static pid_t spawn(int go[2], int (*fn)(void *), void *arg)
{
	pid_t pid = fork();
	char c;

	if (pid == 0) {
		close(go[1]);
		if (read(go[0], &c, 1) != 1)
			_exit(90);
		_exit(fn(arg));
	}
	return pid;
}

static ksync_queue_t *shared_q;

static int send_index(void *arg)
{
	long v = (long)(intptr_t)arg;
	struct timespec dl = soon();

	return ksync_queue_send(shared_q, &v, sizeof(v), &dl) ? 1 : 0;
}

/*
 * Forked producers that share the creator's two-way handle, no join, each
 * sending once after the previous one has exited: the first to finish must
 * not end the input for the others (it did: they got -EPIPE).  The input
 * ends when the creator shuts the queue down.
 */
TEST(forked_producers_finish_one_by_one)
{
	int go[PRODUCERS][2];
	pid_t pid[PRODUCERS];
	long sum = 0;
	int i;

	ASSERT_EQ(0, ksync_queue_open(&shared_q, NULL, 0, 0600, 16, sizeof(long)));
	for (i = 0; i < PRODUCERS; i++) {
		ASSERT_EQ(0, pipe(go[i]));
		pid[i] = spawn(go[i], send_index, (void *)(intptr_t)(i + 1));
		ASSERT_LT(0, pid[i]);
		close(go[i][0]);
	}
	for (i = 0; i < PRODUCERS; i++) {
		ASSERT_EQ(1, write(go[i][1], "g", 1));
		EXPECT_EQ(0, wait_child(pid[i], WAIT_MS)) TH_LOG("producer %d", i);
		close(go[i][1]);
	}
	ASSERT_EQ(PRODUCERS, ksync_queue_len(shared_q));
	ASSERT_EQ(0, ksync_queue_shutdown(shared_q));
	EXPECT_EQ(PRODUCERS, drain(shared_q, &sum));
	EXPECT_EQ(PRODUCERS * (PRODUCERS + 1) / 2, sum);
	ksync_queue_close(shared_q);
}

/*
 * The pipe idiom: the coordinator declares the producers (join), forks
 * them, closes its own handle.  The consumer, with its own handle, gets
 * every message and then the end (it got -EPIPE after none).
 */
TEST(join_fork_close)
{
	const char *name = test_name("jfc");
	ksync_queue_t *rx;
	int go[PRODUCERS][2];
	pid_t pid[PRODUCERS];
	long sum = 0;
	int i;

	ASSERT_EQ(0, ksync_queue_open(&rx, name, KSYNC_CREATE, 0600, 16, sizeof(long)));
	ASSERT_EQ(0, ksync_queue_open(&shared_q, name, 0, 0, 0, 0));
	ASSERT_EQ(0, ksync_queue_join(shared_q));
	for (i = 0; i < PRODUCERS; i++) {
		ASSERT_EQ(0, pipe(go[i]));
		pid[i] = spawn(go[i], send_index, (void *)(intptr_t)(i + 1));
		ASSERT_LT(0, pid[i]);
		close(go[i][0]);
	}
	ASSERT_EQ(0, ksync_queue_close(shared_q));
	ASSERT_EQ(0, ksync_unlink(name));
	/* one after the other, each gone before the next starts */
	for (i = 0; i < PRODUCERS; i++) {
		ASSERT_EQ(1, write(go[i][1], "g", 1));
		EXPECT_EQ(0, wait_child(pid[i], WAIT_MS)) TH_LOG("producer %d", i);
		close(go[i][1]);
	}
	EXPECT_EQ(PRODUCERS, drain(rx, &sum));
	EXPECT_EQ(PRODUCERS * (PRODUCERS + 1) / 2, sum);
	ksync_queue_close(rx);
}

/* The same with pipe()'s own shape, for an anonymous queue. */
TEST(queue_pipe)
{
	ksync_queue_t *ends[2];
	int go[PRODUCERS][2];
	pid_t pid[PRODUCERS];
	long sum = 0;
	int i;

	ASSERT_EQ(0, ksync_queue_pipe(ends, 16, sizeof(long), 0));
	shared_q = ends[1];
	for (i = 0; i < PRODUCERS; i++) {
		ASSERT_EQ(0, pipe(go[i]));
		pid[i] = spawn(go[i], send_index, (void *)(intptr_t)(i + 1));
		ASSERT_LT(0, pid[i]);
		close(go[i][0]);
	}
	ksync_queue_close(ends[1]);
	for (i = 0; i < PRODUCERS; i++) {
		ASSERT_EQ(1, write(go[i][1], "g", 1));
		EXPECT_EQ(0, wait_child(pid[i], WAIT_MS));
		close(go[i][1]);
	}
	EXPECT_EQ(PRODUCERS, drain(ends[0], &sum));
	EXPECT_EQ(PRODUCERS * (PRODUCERS + 1) / 2, sum);
	/* the ends have their roles */
	long v = 0;
	EXPECT_EQ(-EBADF, ksync_queue_try_send(ends[0], &v, sizeof(v)));
	ksync_queue_close(ends[0]);
}

/*
 * A FIFO fed by one writer after another: each batch of senders is an
 * input of its own, and a later sender is not refused (it was: the queue
 * had shut down for good after the first).
 */
TEST(named_queue_one_sender_after_another)
{
	const char *name = test_name("fifo");
	ksync_queue_t *rx, *tx;
	struct timespec dl;
	long v;
	int round;

	ASSERT_EQ(0, ksync_queue_open(&rx, name, KSYNC_CREATE, 0600, 8, sizeof(long)));
	for (round = 0; round < 3; round++) {
		ASSERT_EQ(0, ksync_queue_open(&tx, name, 0, 0, 0, 0));
		v = round;
		dl = soon();
		ASSERT_EQ(0, ksync_queue_send(tx, &v, sizeof(v), &dl)) TH_LOG("round %d", round);
		ksync_queue_close(tx);
		/* a receiver of this input gets its message and its end */
		if (round) {
			ksync_queue_close(rx);
			ASSERT_EQ(0, ksync_queue_open(&rx, name, 0, 0, 0, 0));
		}
		dl = soon();
		ASSERT_EQ((ssize_t)sizeof(v), ksync_queue_recv(rx, &v, sizeof(v), &dl));
		EXPECT_EQ(round, v);
		dl = soon();
		EXPECT_EQ(-EPIPE, ksync_queue_recv(rx, &v, sizeof(v), &dl));
	}
	ksync_queue_close(rx);
	ksync_unlink(name);
}

/*
 * A sender that sends nothing still ends the input (`true | ksync send`):
 * the receiver waiting for it sees the end instead of waiting forever.
 */
TEST(empty_input_ends)
{
	const char *name = test_name("empty");
	ksync_queue_t *rx, *tx;
	struct timespec dl = soon();
	long v;

	ASSERT_EQ(0, ksync_queue_open(&rx, name, KSYNC_CREATE | KSYNC_QUEUE_RECV, 0600, 8,
				      sizeof(long)));
	ASSERT_EQ(0, ksync_queue_open(&tx, name, KSYNC_QUEUE_SEND, 0, 0, 0));
	ksync_queue_close(tx);
	EXPECT_EQ(-EPIPE, ksync_queue_recv(rx, &v, sizeof(v), &dl));
	ksync_queue_close(rx);
	ksync_unlink(name);
}

/*
 * A receiver that comes before the producers, after an earlier input has
 * ended and been drained, waits for them instead of taking the old end.
 * One that comes after a whole input was sent gets it and its end.
 */
TEST(late_and_early_receivers)
{
	const char *name = test_name("early");
	ksync_queue_t *rx, *tx, *old;
	struct timespec dl;
	long v = 7;

	ASSERT_EQ(0, ksync_queue_open(&old, name, KSYNC_CREATE | KSYNC_QUEUE_RECV, 0600, 8,
				      sizeof(long)));
	ASSERT_EQ(0, ksync_queue_open(&tx, name, KSYNC_QUEUE_SEND, 0, 0, 0));
	ksync_queue_close(tx);
	dl = soon();
	ASSERT_EQ(-EPIPE, ksync_queue_recv(old, &v, sizeof(v), &dl));

	/* early: nothing queued, no sender yet */
	ASSERT_EQ(0, ksync_queue_open(&rx, name, KSYNC_QUEUE_RECV, 0, 0, 0));
	EXPECT_EQ(-EAGAIN, ksync_queue_try_recv(rx, &v, sizeof(v)));
	dl = ksync_deadline_ms(20);
	EXPECT_EQ(-ETIMEDOUT, ksync_queue_recv(rx, &v, sizeof(v), &dl));
	/* while the handle that saw the old end still sees it */
	EXPECT_EQ(-EPIPE, ksync_queue_try_recv(old, &v, sizeof(v)));
	ksync_queue_close(old);

	/* the producers come, send two and go: both arrive, then the end */
	ASSERT_EQ(0, ksync_queue_open(&tx, name, KSYNC_QUEUE_SEND, 0, 0, 0));
	dl = soon();
	ASSERT_EQ(0, ksync_queue_send(tx, &v, sizeof(v), &dl));
	ASSERT_EQ(0, ksync_queue_send(tx, &v, sizeof(v), &dl));
	ksync_queue_close(tx);
	EXPECT_EQ(2, drain(rx, NULL));
	ksync_queue_close(rx);

	/* late: the input was sent and ended before the receiver came */
	ASSERT_EQ(0, ksync_queue_open(&tx, name, KSYNC_QUEUE_SEND, 0, 0, 0));
	dl = soon();
	ASSERT_EQ(0, ksync_queue_send(tx, &v, sizeof(v), &dl));
	ksync_queue_close(tx);
	ASSERT_EQ(0, ksync_queue_open(&rx, name, KSYNC_QUEUE_RECV, 0, 0, 0));
	EXPECT_EQ(1, drain(rx, NULL));
	ksync_queue_close(rx);
	ksync_unlink(name);
}

/* A consumer's two-way handle that never sends never holds its own input. */
TEST(two_way_consumer_does_not_hold_input)
{
	const char *name = test_name("2way");
	ksync_queue_t *rx, *tx;
	struct timespec dl = soon();
	long v = 1;

	ASSERT_EQ(0, ksync_queue_open(&rx, name, KSYNC_CREATE, 0600, 8, sizeof(long)));
	ASSERT_EQ(0, ksync_queue_open(&tx, name, KSYNC_QUEUE_SEND, 0, 0, 0));
	ASSERT_EQ(0, ksync_queue_send(tx, &v, sizeof(v), &dl));
	ksync_queue_close(tx);
	EXPECT_EQ(1, drain(rx, NULL));
	ksync_queue_close(rx);
	ksync_unlink(name);
}

/*
 * A producer that forked a daemon-style child, which closed every fd but
 * kept the mapping, then exited: the mapping does not hold the input.
 */
TEST(mapping_left_behind_holds_nothing)
{
	ksync_queue_t *rx;
	int go[2], ready[2];
	pid_t producer, daemon_pid = 0;
	char c;

	ASSERT_EQ(0, pipe(go));
	ASSERT_EQ(0, pipe(ready));
	ASSERT_EQ(0, ksync_queue_open(&rx, NULL, 0, 0600, 8, sizeof(long)));
	ASSERT_EQ(0, ksync_queue_reopen(&shared_q, rx, KSYNC_QUEUE_SEND));
	producer = fork();
	ASSERT_LE(0, producer);
	if (producer == 0) {
		long v = 5;
		struct timespec dl = soon();
		pid_t d;

		close(go[1]);
		if (ksync_queue_send(shared_q, &v, sizeof(v), &dl))
			_exit(1);
		d = fork();
		if (d == 0) {
			/* the daemon: every fd closed, the ring still mapped */
			close(ksync_queue_fd(shared_q));
			close(ksync_queue_fd(rx));
			(void)!read(go[0], &c, 1); /* until the test is done */
			_exit(0);
		}
		if (write(ready[1], &d, sizeof(d)) != sizeof(d))
			_exit(1);
		_exit(0);
	}
	close(ready[1]);
	ASSERT_EQ((ssize_t)sizeof(daemon_pid), read(ready[0], &daemon_pid, sizeof(daemon_pid)));
	ASSERT_EQ(0, wait_child(producer, WAIT_MS));
	ksync_queue_close(shared_q);
	/* the daemon lives and maps the ring; the input has ended */
	EXPECT_EQ(1, drain(rx, NULL));
	close(go[1]);
	close(go[0]);
	if (daemon_pid > 0) {
		kill(daemon_pid, SIGKILL);
		/* a grandchild: init reaps it */
	}
	ksync_queue_close(rx);
}

/*
 * SIGKILL at every step of the pipe idiom: the coordinator (after its
 * open, after forking, after closing) or one producer (before and after
 * it sends).  The consumer always gets what was sent and then the end.
 */
enum { K_OPENED, K_FORKED, K_CLOSED, K_PRODUCER_WAITING, K_PRODUCER_SENT, K_STEPS };

/* Say which process to kill (the caller), and wait for it. */
static void stop_here(int report)
{
	pid_t me = getpid();

	if (write(report, &me, sizeof(me)) != sizeof(me))
		_exit(1);
	for (;;)
		pause();
}

static void coordinator(int step, int report, int go)
{
	pid_t pid[2];
	long v = 1;
	char c;
	int i;

	/* shared_q is the send end, inherited */
	if (step == K_OPENED)
		stop_here(report);
	for (i = 0; i < 2; i++) {
		pid[i] = fork();
		if (pid[i] == 0) {
			struct timespec dl = soon();

			if (read(go, &c, 1) != 1)
				_exit(1);
			if (step == K_PRODUCER_WAITING && i == 0)
				stop_here(report);
			if (ksync_queue_send(shared_q, &v, sizeof(v), &dl))
				_exit(1);
			if (step == K_PRODUCER_SENT && i == 0)
				stop_here(report);
			_exit(0);
		}
	}
	if (step == K_FORKED)
		stop_here(report);
	ksync_queue_close(shared_q);
	if (step == K_CLOSED)
		stop_here(report);
	for (i = 0; i < 2; i++)
		waitpid(pid[i], NULL, 0);
	_exit(0);
}

TEST(sigkill_at_every_step_of_the_pipe_idiom)
{
	int step;

	for (step = 0; step < K_STEPS; step++) {
		ksync_queue_t *ends[2];
		int report[2], go[2];
		pid_t coord, victim;
		int got, expect;

		ASSERT_EQ(0, ksync_queue_pipe(ends, 8, sizeof(long), 0));
		shared_q = ends[1];
		ASSERT_EQ(0, pipe(report));
		ASSERT_EQ(0, pipe(go));
		coord = fork();
		ASSERT_LE(0, coord);
		if (coord == 0) {
			close(report[0]);
			close(go[1]);
			coordinator(step, report[1], go[0]);
		}
		close(report[1]);
		close(go[0]);
		ksync_queue_close(ends[1]);
		/* the producers may go (one byte each) */
		ASSERT_EQ(2, write(go[1], "gg", 2));
		close(go[1]);
		ASSERT_EQ((ssize_t)sizeof(victim), read(report[0], &victim, sizeof(victim)))
		TH_LOG("step %d", step);
		kill(victim, SIGKILL);
		/*
		 * Whatever was killed, the consumer ends: the coordinator
		 * killed before forking takes both producers with it (none
		 * sent); otherwise each live producer sends one.
		 */
		got = drain(ends[0], NULL);
		expect = step == K_OPENED ? 0 : step == K_PRODUCER_WAITING ? 1 : 2;
		EXPECT_EQ(expect, got) TH_LOG("step %d", step);
		kill(coord, SIGKILL);
		waitpid(coord, NULL, 0);
		close(report[0]);
		ksync_queue_close(ends[0]);
	}
}

/* A thread with its own fd table that closes its copy: the process still sends. */
static void *own_table_thread(void *arg)
{
	(void)arg;
	if (unshare(CLONE_FILES))
		return (void *)1;
	close(ksync_queue_fd(shared_q));
	return NULL;
}

TEST(thread_with_own_fd_table)
{
	struct timespec dl = soon();
	pthread_t t;
	void *res;
	long v = 3;

	ASSERT_EQ(0, ksync_queue_open(&shared_q, NULL, 0, 0600, 8, sizeof(long)));
	ASSERT_EQ(0, ksync_queue_send(shared_q, &v, sizeof(v), &dl));
	ASSERT_EQ(0, pthread_create(&t, NULL, own_table_thread, NULL));
	ASSERT_EQ(0, pthread_join(t, &res));
	ASSERT_EQ(NULL, res);
	EXPECT_EQ(0, ksync_queue_send(shared_q, &v, sizeof(v), &dl));
	EXPECT_EQ(2, ksync_queue_len(shared_q));
	EXPECT_EQ((ssize_t)sizeof(v), ksync_queue_try_recv(shared_q, &v, sizeof(v)));
	EXPECT_EQ((ssize_t)sizeof(v), ksync_queue_try_recv(shared_q, &v, sizeof(v)));
	ksync_queue_close(shared_q);
}

/*
 * A receiver killed after it took a message and before it woke the
 * sleeping senders (its header page write-protected, so it dies moving
 * head on): the sender asleep beside the free slot still gets it.
 */
static void *queue_header(void)
{
	FILE *f = fopen("/proc/self/maps", "r");
	unsigned long lo = 0;
	char line[512];

	while (f && fgets(line, sizeof(line), f))
		/* the ring's mapping, not the read-only status page's */
		if (strstr(line, "ksync-map") && strstr(line, " rw-s ")) {
			sscanf(line, "%lx-", &lo);
			break;
		}
	if (f)
		fclose(f);
	return (void *)lo;
}

TEST(receiver_killed_before_waking_senders)
{
	struct timespec dl;
	ksync_queue_t *q;
	pid_t sender, receiver;
	long v = 1;
	int status;

	ASSERT_EQ(0, ksync_queue_open(&q, NULL, 0, 0600, 1, sizeof(long)));
	dl = soon();
	ASSERT_EQ(0, ksync_queue_send(q, &v, sizeof(v), &dl));
	sender = fork();
	ASSERT_LE(0, sender);
	if (sender == 0) {
		dl = soon();
		_exit(ksync_queue_send(q, &v, sizeof(v), &dl) ? 1 : 0);
	}
	ASSERT_TRUE(wait_sleeping(sender, WAIT_MS));
	receiver = fork();
	ASSERT_LE(0, receiver);
	if (receiver == 0) {
		void *hdr = queue_header();

		if (!hdr || mprotect(hdr, (size_t)sysconf(_SC_PAGESIZE), PROT_READ))
			_exit(2);
		ksync_queue_try_recv(q, &v, sizeof(v));
		_exit(3); /* it was to die on the header */
	}
	ASSERT_EQ(0, waitpid(receiver, &status, 0) == receiver ? 0 : -1);
	ASSERT_TRUE(WIFSIGNALED(status)) TH_LOG("receiver: %x", status);
	EXPECT_EQ(0, wait_child(sender, WAIT_MS));
	ksync_queue_close(q);
}

TEST_HARNESS_MAIN
