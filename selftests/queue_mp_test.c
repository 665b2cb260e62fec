// SPDX-License-Identifier: GPL-2.0
/*
 * Queues across processes: K producers x M consumers deliver every message
 * exactly once and in each sender's order; sleepers are served in arrival
 * order, one per message or slot; shutdown wakes every sleeper; the end of
 * input when the last send handle closes, exits or is killed; a sender killed
 * holding a claim on the ring leaves a tombstone, not a hang; signals.
 */
#include <poll.h>
#include <sys/mman.h>
#include <sys/prctl.h>
#include <sys/ptrace.h>

#include "queue.h"
#include "kselftest_harness.h"

/* Exit codes of a child that did one operation. */
enum { Q_OK = 10, Q_EPIPE, Q_ETIMEDOUT, Q_EINTR, Q_EAGAIN, Q_OTHER };

static int code_of(long ret)
{
	switch (ret) {
	case -EPIPE:
		return Q_EPIPE;
	case -ETIMEDOUT:
		return Q_ETIMEDOUT;
	case -EINTR:
		return Q_EINTR;
	case -EAGAIN:
		return Q_EAGAIN;
	default:
		return ret >= 0 ? Q_OK : Q_OTHER;
	}
}

/* A child that receives once (at most ms) and exits with what it got:
 * Q_OK + the message's first byte, or an error code. */
static pid_t recv_child(ksync_queue_t *q, long ms)
{
	pid_t pid = fork();

	if (pid == 0) {
		struct timespec dl = in_ms(ms);
		unsigned char c = 0;
		ssize_t n = ksync_queue_recv(q, &c, 1, &dl);

		_exit(n == 1 ? Q_OK + 20 + c : code_of(n));
	}
	return pid;
}

static pid_t send_child(ksync_queue_t *q, char c, long ms)
{
	pid_t pid = fork();

	if (pid == 0) {
		struct timespec dl = in_ms(ms);

		_exit(code_of(ksync_queue_send(q, &c, 1, &dl)));
	}
	return pid;
}

/* Exited already?  Its code, or -1 if it still runs. */
static int exited(pid_t pid)
{
	int status;

	if (waitpid(pid, &status, WNOHANG) != pid)
		return -1;
	return WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
}

FIXTURE(kxm)
{
	ksync_queue_t *q;
	ksync_queue_t *use; /* q, or a kernel-only handle on it */
	unsigned char *seen; /* [K][N]: times each message arrived */
};

FIXTURE_VARIANT(kxm)
{
	int kernel; /* 1: everyone kernel-only; 2: odd consumers only */
	int producers, consumers, per_producer;
	unsigned int capacity;
	int batch;
};

FIXTURE_VARIANT_ADD(kxm, ring_1x1){
	.producers = 1,
	.consumers = 1,
	.per_producer = 50000,
	.capacity = 16,
};

FIXTURE_VARIANT_ADD(kxm, ring_4x4){
	.producers = 4,
	.consumers = 4,
	.per_producer = 20000,
	.capacity = 8,
};

FIXTURE_VARIANT_ADD(kxm, ring_4x4_batches){
	.producers = 4,
	.consumers = 4,
	.per_producer = 20000,
	.capacity = 64,
	.batch = 16,
};

FIXTURE_VARIANT_ADD(kxm, ring_3x2_capacity_1){
	.producers = 3,
	.consumers = 2,
	.per_producer = 5000,
	.capacity = 1,
};

FIXTURE_VARIANT_ADD(kxm, kernel_4x4){
	.kernel = 1,
	.producers = 4,
	.consumers = 4,
	.per_producer = 5000,
	.capacity = 8,
};

/* the module's receivers race the ring's for every message */
FIXTURE_VARIANT_ADD(kxm, mixed_4x4){
	.kernel = 2,
	.producers = 4,
	.consumers = 4,
	.per_producer = 10000,
	.capacity = 8,
};

FIXTURE_VARIANT_ADD(kxm, kernel_4x4_batches){
	.kernel = 1,
	.producers = 4,
	.consumers = 4,
	.per_producer = 5000,
	.capacity = 32,
	.batch = 8,
};

FIXTURE_SETUP(kxm)
{
	size_t n = (size_t)variant->producers * variant->per_producer;

	const char *name = test_name("q-kxm");

	ASSERT_EQ(0, ksync_queue_open(&self->q, name, KSYNC_CREATE, 0600, variant->capacity,
				      sizeof(struct qmsg)));
	self->use = self->q;
	if (variant->kernel)
		ASSERT_EQ(0, ksync_queue_open(&self->use, name, KSYNC_QUEUE_KERNEL, 0, 0, 0));
	ASSERT_EQ(0, ksync_unlink(name));
	self->seen = mmap(NULL, n, PROT_READ | PROT_WRITE, MAP_SHARED | MAP_ANONYMOUS, -1, 0);
	ASSERT_NE(MAP_FAILED, self->seen);
}

FIXTURE_TEARDOWN(kxm)
{
	munmap(self->seen, (size_t)variant->producers * variant->per_producer);
	if (self->use != self->q)
		ksync_queue_close(self->use);
	ksync_queue_close(self->q);
}

static int producer(ksync_queue_t *q, uint32_t id, int n, int batch)
{
	struct qmsg m[64];
	struct iovec v[64];
	int i = 0, k, ret;

	while (i < n) {
		int count = batch ? (n - i < batch ? n - i : batch) : 1;

		for (k = 0; k < count; k++) {
			m[k] = (struct qmsg){ id, (uint32_t)(i + k) };
			v[k] = (struct iovec){ &m[k], sizeof(m[k]) };
		}
		if (batch) {
			struct timespec dl = in_ms(20000);

			ret = ksync_queue_send_batch(q, v, (unsigned int)count, &dl);
			if (ret <= 0)
				return 1;
			i += ret;
		} else {
			struct timespec dl = in_ms(20000);

			if (ksync_queue_send(q, &m[0], sizeof(m[0]), &dl))
				return 1;
			i++;
		}
	}
	return 0;
}

/* Receive until EOF; every message must come after the last one this
 * consumer had from the same sender. */
static int consumer(ksync_queue_t *q, unsigned char *seen, int producers, int per, int batch)
{
	uint32_t last[64];
	struct qmsg m[64];
	struct iovec v[64];
	int k, got;

	memset(last, 0xff, sizeof(last));
	for (;;) {
		struct timespec dl = in_ms(20000);

		for (k = 0; k < 64; k++)
			v[k] = (struct iovec){ &m[k], sizeof(m[k]) };
		if (batch) {
			got = ksync_queue_recv_batch(q, v, (unsigned int)batch, &dl);
		} else {
			ssize_t n = ksync_queue_recv(q, &m[0], sizeof(m[0]), &dl);

			got = n == (ssize_t)sizeof(m[0]) ? 1 : (n < 0 ? (int)n : -EBADMSG);
		}
		if (got == -EPIPE)
			return 0;
		if (got <= 0)
			return 2;
		for (k = 0; k < got; k++) {
			if (v[k].iov_len != sizeof(m[k]) || m[k].sender >= (uint32_t)producers ||
			    m[k].seq >= (uint32_t)per)
				return 3;
			if (last[m[k].sender] != UINT32_MAX && m[k].seq <= last[m[k].sender])
				return 4; /* out of its sender's order */
			last[m[k].sender] = m[k].seq;
			__atomic_fetch_add(&seen[(size_t)m[k].sender * per + m[k].seq], 1,
					   __ATOMIC_RELAXED);
		}
	}
}

TEST_F_TIMEOUT(kxm, exactly_once_in_order, 120)
{
	int P = variant->producers, C = variant->consumers, N = variant->per_producer;
	ksync_queue_t *tx;
	pid_t pids[16];
	int gate[2], i;

	for (i = 0; i < C; i++) {
		pids[P + i] = fork();
		ASSERT_LE(0, pids[P + i]);
		if (pids[P + i] == 0)
			_exit(consumer(variant->kernel == 2 && i % 2 == 0 ? self->q : self->use,
				       self->seen, P, N, variant->batch));
	}
	/*
	 * The producers share one send end, as a pipe's writers do: one that
	 * sends everything and exits before the next has started ends
	 * nothing while the others hold it.
	 */
	ASSERT_EQ(0, ksync_queue_reopen(&tx, variant->kernel == 2 ? self->q : self->use,
					KSYNC_QUEUE_SEND));
	ASSERT_EQ(0, pipe(gate));
	for (i = 0; i < P; i++) {
		pids[i] = fork();
		ASSERT_LE(0, pids[i]);
		if (pids[i] == 0) {
			struct pollfd go = { gate[0], POLLIN, 0 };

			close(gate[1]);
			if (poll(&go, 1, 60000) != 1)
				_exit(5);
			_exit(producer(tx, (uint32_t)i, N, variant->batch));
		}
	}
	ASSERT_EQ(1, (int)queue_stats(self->q).senders);
	ASSERT_EQ(0, ksync_queue_close(tx));
	close(gate[0]);
	close(gate[1]); /* EOF: go */
	/* the last producer's exit ends the input: the consumers see EOF */
	for (i = 0; i < P + C; i++)
		ASSERT_EQ(0, wait_child(pids[i], 100000));
	for (i = 0; i < P * N; i++)
		if (self->seen[i] != 1)
			ASSERT_EQ(1, self->seen[i]) TH_LOG("message %d of sender %d", i % N, i / N);
	ASSERT_EQ(1, (int)queue_stats(self->q).eof);
	ASSERT_EQ(0, (int)queue_stats(self->q).tombstones);
}

TEST(receivers_served_in_arrival_order)
{
	ksync_queue_t *q;
	pid_t pids[3];
	int i, k;

	ASSERT_EQ(0, ksync_queue_open(&q, NULL, KSYNC_QUEUE_NOEOF, 0600, 4, 1));
	for (i = 0; i < 3; i++) {
		pids[i] = recv_child(q, 20000);
		ASSERT_TRUE(wait_queue_sleepers(q, 1, (unsigned int)i + 1, 10000));
	}
	/* one message wakes one receiver, the one that came first */
	for (i = 0; i < 3; i++) {
		unsigned char c = (unsigned char)('a' + i);
		unsigned long long woken = queue_stats(q).woken;

		ASSERT_EQ(0, ksync_queue_send(q, &c, 1, NULL));
		ASSERT_EQ(Q_OK + 20 + c, wait_child(pids[i], 10000));
		ASSERT_EQ(woken + 1, queue_stats(q).woken);
		ASSERT_EQ(2 - i, (int)queue_stats(q).recv_sleepers);
		for (k = i + 1; k < 3; k++)
			ASSERT_EQ(-1, exited(pids[k]));
	}
	ASSERT_EQ(0, ksync_queue_len(q));
	ASSERT_EQ(0, ksync_queue_close(q));
}

TEST(senders_served_in_arrival_order)
{
	ksync_queue_t *q;
	pid_t pids[3];
	unsigned char c;
	int i;

	ASSERT_EQ(0, ksync_queue_open(&q, NULL, KSYNC_QUEUE_NOEOF, 0600, 1, 1));
	ASSERT_EQ(0, ksync_queue_send(q, "x", 1, NULL));
	for (i = 0; i < 3; i++) {
		pids[i] = send_child(q, (char)('a' + i), 20000);
		ASSERT_TRUE(wait_queue_sleepers(q, 0, (unsigned int)i + 1, 10000));
	}
	/* each slot freed lets exactly the first sleeping sender in */
	ASSERT_EQ(1, ksync_queue_recv(q, &c, 1, NULL));
	ASSERT_EQ('x', c);
	for (i = 0; i < 3; i++) {
		ASSERT_EQ(Q_OK, wait_child(pids[i], 10000));
		ASSERT_EQ(1, ksync_queue_recv(q, &c, 1, NULL));
		ASSERT_EQ('a' + i, c);
	}
	ASSERT_EQ(0, ksync_queue_close(q));
}

TEST(shutdown_wakes_every_sleeper)
{
	ksync_queue_t *q, *full;
	pid_t r[3], s[2];
	int i;

	ASSERT_EQ(0, ksync_queue_open(&q, NULL, 0, 0600, 4, 1));
	ASSERT_EQ(0, ksync_queue_open(&full, NULL, 0, 0600, 1, 1));
	ASSERT_EQ(0, ksync_queue_send(full, "x", 1, NULL));
	for (i = 0; i < 3; i++)
		r[i] = recv_child(q, 20000);
	for (i = 0; i < 2; i++)
		s[i] = send_child(full, 'y', 20000);
	ASSERT_TRUE(wait_queue_sleepers(q, 1, 3, 10000));
	ASSERT_TRUE(wait_queue_sleepers(full, 0, 2, 10000));
	ASSERT_EQ(0, ksync_queue_shutdown(q));
	ASSERT_EQ(0, ksync_queue_shutdown(full));
	for (i = 0; i < 3; i++)
		ASSERT_EQ(Q_EPIPE, wait_child(r[i], 10000));
	for (i = 0; i < 2; i++)
		ASSERT_EQ(Q_EPIPE, wait_child(s[i], 10000));
	/* what was queued is still there for receivers */
	ASSERT_EQ(1, ksync_queue_len(full));
	ASSERT_EQ(1, ksync_queue_try_recv(full, &(char){ 0 }, 1));
	ASSERT_EQ(-EPIPE, ksync_queue_try_recv(full, &(char){ 0 }, 1));
	ASSERT_EQ(0, ksync_queue_close(q));
	ASSERT_EQ(0, ksync_queue_close(full));
}

/* How a producer child leaves, once it has sent and read a byte from go. */
enum { LEAVE_EXIT, LEAVE_CLOSE, LEAVE_KILLED, LEAVE_DAEMON };

static pid_t producer_child(ksync_queue_t *q, int how, int count, int go)
{
	pid_t pid = fork();

	if (pid == 0) {
		char c;

		for (int i = 0; i < count; i++)
			if (ksync_queue_send(q, &(char){ (char)('0' + i) }, 1, NULL))
				_exit(1);
		if (go >= 0 && read(go, &c, 1) != 1)
			_exit(2);
		switch (how) {
		case LEAVE_CLOSE:
			ksync_queue_close(q);
			pause();
			break;
		case LEAVE_KILLED:
			raise(SIGKILL);
			break;
		case LEAVE_DAEMON:
			/* closes every fd, keeps the mapping, lives on */
			close(ksync_queue_fd(q));
			pause();
			break;
		}
		_exit(0);
	}
	return pid;
}

FIXTURE(eof)
{
	ksync_queue_t *q;
	ksync_queue_t *tx; /* the producers' send end */
};

FIXTURE_VARIANT(eof)
{
	int how;
	int noeof;
};

FIXTURE_VARIANT_ADD(eof, exit){
	.how = LEAVE_EXIT,
};

FIXTURE_VARIANT_ADD(eof, close){
	.how = LEAVE_CLOSE,
};

FIXTURE_VARIANT_ADD(eof, killed){
	.how = LEAVE_KILLED,
};

FIXTURE_VARIANT_ADD(eof, daemon_keeps_mapping){
	.how = LEAVE_DAEMON,
};

FIXTURE_VARIANT_ADD(eof, noeof){
	.how = LEAVE_EXIT,
	.noeof = 1,
};

FIXTURE_SETUP(eof)
{
	ASSERT_EQ(0, ksync_queue_open(&self->q, NULL, variant->noeof ? KSYNC_QUEUE_NOEOF : 0, 0600,
				      8, 1));
	ASSERT_EQ(0, ksync_queue_reopen(&self->tx, self->q, KSYNC_QUEUE_SEND));
}

FIXTURE_TEARDOWN(eof)
{
	if (self->tx)
		ksync_queue_close(self->tx);
	ksync_queue_close(self->q);
}

TEST_F(eof, last_sender_leaving)
{
	struct timespec dl;
	int go[2];
	pid_t a, b;
	char c;

	/* a receiver alone is not a sender: nothing ends */
	ASSERT_EQ(-EAGAIN, ksync_queue_try_recv(self->q, &c, 1));
	ASSERT_EQ(0, pipe(go));
	b = producer_child(self->tx, variant->how, 3, go[0]);
	for (int64_t end = now_ns() + 10000000000LL; ksync_queue_len(self->q) < 3; pause_us(200))
		ASSERT_GT(end, now_ns());
	a = producer_child(self->tx, LEAVE_EXIT, 2, -1);
	/* the producers hold the send end now */
	ASSERT_EQ(0, ksync_queue_close(self->tx));
	self->tx = NULL;
	dl = in_ms(10000);
	for (int i = 0; i < 5; i++)
		ASSERT_EQ(1, ksync_queue_recv(self->q, &c, 1, &dl));
	/* one producer is gone, the other still holds the send end */
	ASSERT_EQ(0, wait_child(a, 10000));
	ASSERT_EQ(1, (int)queue_stats(self->q).senders);
	ASSERT_EQ(0, (int)queue_stats(self->q).eof);
	ASSERT_EQ(1, write(go[1], "g", 1));
	close(go[0]);
	close(go[1]);
	if (variant->how == LEAVE_EXIT || variant->how == LEAVE_KILLED)
		wait_child(b, 10000);
	if (variant->noeof) {
		dl = in_ms(100);
		ASSERT_EQ(-ETIMEDOUT, ksync_queue_recv(self->q, &c, 1, &dl));
		ASSERT_EQ(0, (int)queue_stats(self->q).shutdown);
		return;
	}
	/* the last sender let go: EOF, for a sleeping receiver too */
	dl = in_ms(10000);
	ASSERT_EQ(-EPIPE, ksync_queue_recv(self->q, &c, 1, &dl));
	ASSERT_EQ(1, (int)queue_stats(self->q).eof);
	ASSERT_EQ(0, (int)queue_stats(self->q).shutdown);
	/* a new sender starts a new input, as a FIFO's next writer */
	ASSERT_EQ(0, ksync_queue_send(self->q, "z", 1, NULL));
	ASSERT_EQ(0, (int)queue_stats(self->q).eof);
	ASSERT_EQ(1, ksync_queue_try_recv(self->q, &c, 1));
	ASSERT_EQ('z', c);
	if (variant->how == LEAVE_CLOSE || variant->how == LEAVE_DAEMON) {
		kill(b, SIGKILL);
		wait_child(b, 10000);
	}
}

/*
 * A sender killed between claiming a slot and publishing it: the claim is
 * made by hand here, with the child's own token, so that death comes at
 * exactly that point.  Receivers behind it must not hang.
 */
/*
 * A child that claims the slot at tail by hand, with its own token, says
 * so through the pipe, and waits to be killed there: a sender's death at
 * exactly that point.
 */
static pid_t claimer(ksync_queue_t *q, const struct ksync_queue_info *info, int tell)
{
	pid_t pid = fork();

	if (pid == 0) {
		struct ksync_queue_join j = { .size = sizeof(j) };
		struct ksync_queue_shared *hdr;
		struct ksync_queue_slot *slot;
		uint64_t t;

		hdr = mmap(NULL, info->map_size, PROT_READ | PROT_WRITE, MAP_SHARED,
			   ksync_queue_fd(q), 0);
		if (hdr == MAP_FAILED || ioctl(ksync_queue_fd(q), KSYNC_IOC_QUEUE_JOIN, &j) ||
		    !j.token)
			_exit(1);
		t = __atomic_load_n(&hdr->tail, __ATOMIC_ACQUIRE);
		slot = (void *)((char *)hdr + info->ring_offset +
				(t % info->capacity) * info->slot_size);
		__atomic_store_n(&hdr->claimed[j.token], 1, __ATOMIC_RELAXED);
		if (!__atomic_compare_exchange_n(
			    &slot->seq, &(uint64_t){ (t << 1) & KSYNC_QUEUE_SEQ_POS },
			    ((t << 1) & KSYNC_QUEUE_SEQ_POS) | KSYNC_QUEUE_SEQ_BUSY |
				    (uint64_t)j.token << KSYNC_QUEUE_TOKEN_SHIFT,
			    0, __ATOMIC_ACQUIRE, __ATOMIC_RELAXED))
			_exit(2);
		__atomic_compare_exchange_n(&hdr->tail, &t, t + 1, 0, __ATOMIC_RELAXED,
					    __ATOMIC_RELAXED);
		if (write(tell, "c", 1) != 1)
			_exit(3);
		pause(); /* killed here, the claim unpublished */
		_exit(4);
	}
	return pid;
}

/*
 * A sender killed holding the only slot of a queue of 1, a receiver asleep
 * behind the claim and a sender asleep for the slot: the tombstone frees
 * the slot, and both must be woken (the module once granted the senders
 * before it took the tombstone, and left both asleep).
 */
TEST(killed_holding_the_only_slot)
{
	struct ksync_queue_info info;
	int pipefd[2];
	ksync_queue_t *q;
	pid_t c, r, s;
	char ch;

	ASSERT_EQ(0, ksync_queue_open(&q, NULL, KSYNC_QUEUE_NOEOF, 0600, 1, 1));
	ASSERT_EQ(0, ioctl(ksync_queue_fd(q), KSYNC_IOC_QUEUE_INFO, &info));
	ASSERT_EQ(0, pipe(pipefd));
	c = claimer(q, &info, pipefd[1]);
	ASSERT_LE(0, c);
	ASSERT_EQ(1, read(pipefd[0], &ch, 1));
	r = recv_child(q, 20000);
	ASSERT_TRUE(wait_queue_sleepers(q, 1, 1, 10000));
	s = send_child(q, 'b', 20000);
	ASSERT_TRUE(wait_queue_sleepers(q, 0, 1, 10000));
	kill(c, SIGKILL);
	ASSERT_EQ(128 + SIGKILL, wait_child(c, 10000));
	ASSERT_EQ(Q_OK, wait_child(s, 15000));
	ASSERT_EQ(Q_OK + 20 + 'b', wait_child(r, 15000));
	ASSERT_EQ(1, (int)queue_stats(q).tombstones);
	ASSERT_EQ(0, ksync_queue_close(q));
	close(pipefd[0]);
	close(pipefd[1]);
}

TEST(killed_holding_a_claim)
{
	struct ksync_queue_info info;
	ksync_queue_t *q, *k;
	int pipefd[2];
	pid_t pid;
	char c;

	ASSERT_EQ(0, ksync_queue_open(&q, NULL, KSYNC_QUEUE_NOEOF, 0600, 4, 1));
	ASSERT_EQ(0, ksync_queue_from_fd(&k, ksync_queue_fd(q)));
	ASSERT_EQ(0, ioctl(ksync_queue_fd(q), KSYNC_IOC_QUEUE_INFO, &info));
	ASSERT_EQ(0, pipe(pipefd));
	ASSERT_EQ(0, ksync_queue_send(q, "a", 1, NULL));
	pid = claimer(q, &info, pipefd[1]);
	ASSERT_LE(0, pid);
	ASSERT_EQ(1, read(pipefd[0], &c, 1));
	ASSERT_EQ(0, ksync_queue_send(q, "b", 1, NULL));
	ASSERT_EQ(3, ksync_queue_len(q));
	ASSERT_EQ(1, ksync_queue_recv(q, &c, 1, NULL));
	ASSERT_EQ('a', c);
	/* "b" waits behind the claim, on the ring and in the kernel */
	ASSERT_EQ(-EAGAIN, ksync_queue_try_recv(q, &c, 1));
	ASSERT_EQ(-EAGAIN, ksync_queue_try_recv(k, &c, 1));
	pid_t r = recv_child(q, 20000);

	ASSERT_TRUE(wait_queue_sleepers(q, 1, 1, 10000));
	kill(pid, SIGKILL);
	ASSERT_EQ(128 + SIGKILL, wait_child(pid, 10000));
	/* the claim became a tombstone: the sleeper gets "b" */
	ASSERT_EQ(Q_OK + 20 + 'b', wait_child(r, 10000));
	ASSERT_EQ(1, (int)queue_stats(q).tombstones);
	ASSERT_EQ(0, ksync_queue_len(q));
	ASSERT_EQ(0, ksync_queue_close(k));
	ASSERT_EQ(0, ksync_queue_close(q));
	close(pipefd[0]);
	close(pipefd[1]);
}

static void on_usr1(int sig)
{
	(void)sig;
}

TEST(signals)
{
	struct sigaction sa = { .sa_handler = on_usr1 };
	ksync_queue_t *q;
	pid_t pid;
	char c;

	ASSERT_EQ(0, ksync_queue_open(&q, NULL, KSYNC_QUEUE_NOEOF, 0600, 2, 1));
	/* a handler ends the wait with -EINTR */
	pid = fork();
	ASSERT_LE(0, pid);
	if (pid == 0) {
		struct timespec dl = in_ms(20000);

		sigaction(SIGUSR1, &sa, NULL);
		_exit(code_of(ksync_queue_recv(q, &c, 1, &dl)));
	}
	ASSERT_TRUE(wait_queue_sleepers(q, 1, 1, 10000));
	kill(pid, SIGUSR1);
	ASSERT_EQ(Q_EINTR, wait_child(pid, 10000));
	ASSERT_EQ(0, (int)queue_stats(q).recv_sleepers);

	/* stop and continue change nothing: the wait goes on */
	pid = recv_child(q, 20000);
	ASSERT_TRUE(wait_queue_sleepers(q, 1, 1, 10000));
	kill(pid, SIGSTOP);
	ASSERT_TRUE(wait_stopped(pid, WUNTRACED));
	kill(pid, SIGCONT);
	ASSERT_TRUE(wait_stopped(pid, WCONTINUED));
	ASSERT_TRUE(wait_queue_sleepers(q, 1, 1, 10000));
	ASSERT_EQ(0, ksync_queue_send(q, "s", 1, NULL));
	ASSERT_EQ(Q_OK + 20 + 's', wait_child(pid, 10000));

	/* nor do ptrace and the cgroup freezer */
	pid = recv_child(q, 20000);
	ASSERT_TRUE(wait_queue_sleepers(q, 1, 1, 10000));
	int status, frozen;

	ASSERT_EQ(0, ptrace(PTRACE_ATTACH, pid, NULL, NULL));
	ASSERT_EQ(pid, waitpid(pid, &status, 0));
	ASSERT_EQ(0, ptrace(PTRACE_DETACH, pid, NULL, NULL));
	ASSERT_TRUE(wait_queue_sleepers(q, 1, 1, 10000));
	frozen = freeze_and_thaw(pid);
	ASSERT_LE(0, frozen); /* 1: no cgroup2 here (the debug kernel) */
	ASSERT_TRUE(wait_queue_sleepers(q, 1, 1, 10000));
	ASSERT_EQ(0, ksync_queue_send(q, "t", 1, NULL));
	ASSERT_EQ(Q_OK + 20 + 't', wait_child(pid, 10000));
	ASSERT_EQ(0, ksync_queue_close(q));
}

/*
 * A turn granted to a sleeper just as its deadline passes, or as a handler
 * interrupts it, is used or passed on, never lost (kmod/wait.c: the waker
 * and the waiter giving up race for one compare-and-swap): every message
 * sent through the module reaches exactly one of two receivers whose
 * waits of 50 us to 1 ms keep ending, by deadline and by SIGUSR1.
 */
#define RACE_MSGS 2000

static void race_receiver(ksync_queue_t *q, unsigned int *got, unsigned int seed)
{
	unsigned int v;
	ssize_t n;

	/* a test that failed before its shutdown leaves nobody behind */
	prctl(PR_SET_PDEATHSIG, SIGKILL);
	for (;;) {
		struct timespec dl;
		long ns;

		clock_gettime(CLOCK_MONOTONIC, &dl);
		ns = dl.tv_nsec + 50000 + rand_r(&seed) % 1000000;
		dl.tv_sec += ns / 1000000000;
		dl.tv_nsec = ns % 1000000000;
		n = ksync_queue_recv(q, &v, sizeof(v), &dl);
		if (n == -EPIPE)
			_exit(0);
		if (n == sizeof(v) && v < RACE_MSGS)
			__atomic_fetch_add(&got[v], 1, __ATOMIC_RELAXED);
		else if (n != -ETIMEDOUT && n != -EAGAIN && n != -EINTR)
			_exit(1);
	}
}

TEST(grants_racing_deadlines_and_signals_lose_nothing)
{
	struct sigaction sa = { .sa_handler = on_usr1 };
	unsigned int seed = 7, *got;
	struct timespec dl;
	ksync_queue_t *q;
	pid_t pid[2];

	/* the receivers' handler (no SA_RESTART: their waits end with -EINTR) */
	ASSERT_EQ(0, sigaction(SIGUSR1, &sa, NULL));

	got = mmap(NULL, RACE_MSGS * sizeof(*got), PROT_READ | PROT_WRITE,
		   MAP_SHARED | MAP_ANONYMOUS, -1, 0);
	ASSERT_NE(MAP_FAILED, got);
	ASSERT_EQ(0, ksync_queue_open(&q, NULL, KSYNC_QUEUE_KERNEL | KSYNC_QUEUE_NOEOF, 0600,
				      RACE_MSGS, sizeof(unsigned int)));
	for (int i = 0; i < 2; i++) {
		pid[i] = fork();
		ASSERT_LE(0, pid[i]);
		if (pid[i] == 0)
			race_receiver(q, got, i + 1);
	}
	/* the jitter only spreads the sends over the receivers' deadlines */
	for (unsigned int v = 0; v < RACE_MSGS; v++) {
		dl = in_ms(10000);
		ASSERT_EQ(0, ksync_queue_send(q, &v, sizeof(v), &dl));
		if (v % 3 == 0)
			kill(pid[v % 2], SIGUSR1);
		pause_us(rand_r(&seed) % 400);
	}
	/* the receivers take what is left, then get -EPIPE */
	ASSERT_EQ(0, ksync_queue_shutdown(q));
	for (int i = 0; i < 2; i++)
		ASSERT_EQ(0, wait_child(pid[i], 20000));
	for (unsigned int v = 0; v < RACE_MSGS; v++) {
		ASSERT_EQ(1u, got[v]) TH_LOG("message %u", v);
	}
	EXPECT_EQ(0, (int)queue_stats(q).recv_sleepers);
	ASSERT_EQ(0, ksync_queue_close(q));
	munmap(got, RACE_MSGS * sizeof(*got));
}

/* A batch of 4 into a queue of 2, through the kernel: it sleeps after 2. */
static pid_t batch_sender(ksync_queue_t *q, int handler)
{
	pid_t pid = fork();

	if (pid == 0) {
		struct sigaction sa = { .sa_handler = on_usr1 };
		struct iovec v[4];
		char m[4] = { 'a', 'b', 'c', 'd' };
		struct timespec dl = in_ms(20000);

		if (handler)
			sigaction(SIGUSR1, &sa, NULL);
		for (int i = 0; i < 4; i++)
			v[i] = (struct iovec){ &m[i], 1 };
		_exit(ksync_queue_send_batch(q, v, 4, &dl));
	}
	return pid;
}

/*
 * A batch that a signal interrupts after some were sent: a stop and
 * continue restarts it where it was (none sent twice); a handler ends it
 * with the count of those sent.
 */
TEST(batch_restarts_where_it_was)
{
	const char *name = test_name("q-batch-sig");
	ksync_queue_t *q, *k;
	char c[8];
	pid_t pid;

	ASSERT_EQ(0, ksync_queue_open(&q, name, KSYNC_CREATE | KSYNC_QUEUE_NOEOF, 0600, 2, 1));
	ASSERT_EQ(0, ksync_queue_open(&k, name, KSYNC_QUEUE_KERNEL, 0, 0, 0));
	ASSERT_EQ(0, ksync_unlink(name));

	pid = batch_sender(k, 0);
	ASSERT_TRUE(wait_queue_sleepers(q, 0, 1, 10000));
	kill(pid, SIGSTOP);
	ASSERT_TRUE(wait_stopped(pid, WUNTRACED));
	kill(pid, SIGCONT);
	ASSERT_TRUE(wait_stopped(pid, WCONTINUED));
	ASSERT_TRUE(wait_queue_sleepers(q, 0, 1, 10000));
	struct timespec dl = in_ms(10000);

	for (int i = 0; i < 4; i++) {
		ASSERT_EQ(1, ksync_queue_recv(q, &c[i], 1, &dl));
		ASSERT_EQ('a' + i, c[i]);
	}
	ASSERT_EQ(4, wait_child(pid, 10000));
	ASSERT_EQ(-EAGAIN, ksync_queue_try_recv(q, c, 1));

	pid = batch_sender(k, 1);
	ASSERT_TRUE(wait_queue_sleepers(q, 0, 1, 10000));
	kill(pid, SIGUSR1);
	ASSERT_EQ(2, wait_child(pid, 10000));
	ASSERT_EQ(2, ksync_queue_len(q));
	ASSERT_EQ(0, ksync_queue_close(k));
	ASSERT_EQ(0, ksync_queue_close(q));
}

/*
 * A receive through the module copies a message and writes its length,
 * then takes it; when a receiver on the ring takes it first, the room the
 * caller gave must be back in place (a restart, and the caller, read it):
 * the review found it overwritten.  Messages of 1 MiB make the race
 * common.
 */
TEST(lengths_of_messages_not_received_stay)
{
	const char *name = test_name("q-lens");
	static char b0[1 << 20], b1[1 << 20];
	long calls = 0, clobbered = 0;
	ksync_queue_t *q, *k;
	pid_t snd, rcv;
	int64_t end;

	ASSERT_EQ(0,
		  ksync_queue_open(&q, name, KSYNC_CREATE | KSYNC_QUEUE_NOEOF, 0600, 1, 1 << 20));
	ASSERT_EQ(0, ksync_queue_open(&k, name, KSYNC_QUEUE_KERNEL, 0, 0, 0));
	ASSERT_EQ(0, ksync_unlink(name));
	end = now_ns() + 3000000000LL;
	snd = fork();
	ASSERT_LE(0, snd);
	if (snd == 0) {
		while (now_ns() < end)
			ksync_queue_try_send(q, b0, 500000);
		_exit(0);
	}
	rcv = fork();
	ASSERT_LE(0, rcv);
	if (rcv == 0) {
		while (now_ns() < end)
			ksync_queue_try_recv(q, b1, sizeof(b1));
		_exit(0);
	}
	while (now_ns() < end) {
		struct iovec v[2] = { { b0, sizeof(b0) }, { b1, sizeof(b1) } };
		int n = ksync_queue_recv_batch(k, v, 2, &(struct timespec){ 0, 0 });

		calls++;
		if ((n < 1 && v[0].iov_len != sizeof(b0)) || (n < 2 && v[1].iov_len != sizeof(b1)))
			clobbered++;
	}
	ASSERT_EQ(0, wait_child(snd, 10000));
	ASSERT_EQ(0, wait_child(rcv, 10000));
	TH_LOG("%ld receives through the module, %ld with a room overwritten", calls, clobbered);
	ASSERT_EQ(0, clobbered);
	ASSERT_EQ(0, ksync_queue_close(k));
	ASSERT_EQ(0, ksync_queue_close(q));
}

TEST_HARNESS_MAIN
