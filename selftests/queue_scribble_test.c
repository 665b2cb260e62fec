// SPDX-License-Identifier: GPL-2.0
/*
 * A queue's ring is user memory: any process that has the queue open may
 * write anything there.  A corrupt slot breaks that queue, with a clear
 * error, for its users only.  While workers send, receive and poll, a
 * scribbler writes random words over the header and the slots: the kernel
 * must not crash, hang, loop or leak (ksync-vm checks its log, rmmod and
 * kmemleak), every call returns within its deadline with an error a user
 * can expect, and another queue used meanwhile delivers every message.
 */
#include <sched.h>
#include <stdatomic.h>
#include <sys/epoll.h>
#include <sys/mman.h>
#include <sys/prctl.h>

#include "queue.h"
#include "rnd.h"
#include "stepper.h"
#include "kselftest_harness.h"

#define WORKERS 6
#define SECONDS 5
#define CAP 8
#define MSG 24

static void *map_ring(ksync_queue_t *q, struct ksync_queue_info *info)
{
	if (ioctl(ksync_queue_fd(q), KSYNC_IOC_QUEUE_INFO, info))
		return MAP_FAILED;
	return mmap(NULL, info->map_size, PROT_READ | PROT_WRITE, MAP_SHARED, ksync_queue_fd(q), 0);
}

TEST(corrupt_length_breaks_the_queue)
{
	struct ksync_queue_info info;
	struct ksync_queue_slot *slot;
	ksync_queue_t *q, *k, *other;
	int base = ksync_objects();
	char *ring, buf[MSG];

	ASSERT_EQ(0, ksync_queue_open(&q, NULL, KSYNC_QUEUE_NOEOF, 0600, CAP, MSG));
	ASSERT_EQ(0, ksync_queue_open(&other, NULL, KSYNC_QUEUE_NOEOF, 0600, CAP, MSG));
	ring = map_ring(q, &info);
	ASSERT_NE(MAP_FAILED, ring);
	ASSERT_EQ(0, ksync_queue_send(q, "hello", 6, NULL));
	slot = (void *)(ring + info.ring_offset);
	slot->len = MSG + 1; /* longer than any message may be */
	ASSERT_EQ(-ENOTRECOVERABLE, ksync_queue_recv(q, buf, sizeof(buf), NULL));
	ASSERT_EQ(1, (int)queue_stats(q).broken);
	/* broken for every user of it, by any path, until it is gone */
	ASSERT_EQ(-ENOTRECOVERABLE, ksync_queue_try_send(q, "x", 1));
	ASSERT_EQ(-ENOTRECOVERABLE, ksync_queue_try_recv(q, buf, sizeof(buf)));
	struct pollfd p = { .fd = ksync_queue_fd(q), .events = POLLIN };
	ASSERT_EQ(1, poll(&p, 1, 0));
	ASSERT_EQ(POLLERR | POLLHUP, p.revents);
	ASSERT_EQ(0, ksync_queue_from_fd(&k, ksync_queue_fd(q)));
	ASSERT_EQ(-ENOTRECOVERABLE, ksync_queue_send(k, "x", 1, NULL));
	ASSERT_EQ(0, ksync_queue_close(k));
	/* another queue never noticed */
	ASSERT_EQ(0, ksync_queue_send(other, "fine", 5, NULL));
	ASSERT_EQ(5, ksync_queue_recv(other, buf, sizeof(buf), NULL));
	munmap(ring, info.map_size);
	ASSERT_EQ(0, ksync_queue_close(q));
	ASSERT_EQ(0, ksync_queue_close(other));
	ASSERT_EQ(base, ksync_objects());
}

static int allowed(long ret)
{
	return ret >= 0 || ret == -EAGAIN || ret == -ETIMEDOUT || ret == -EMSGSIZE ||
	       ret == -ENOTRECOVERABLE || ret == -EPIPE;
}

static int worker(ksync_queue_t *q, uint64_t seed, int64_t end)
{
	char buf[MSG];

	memset(buf, 'w', sizeof(buf));
	while (now_ns() < end) {
		struct timespec dl = ksync_deadline_ms((long)(rnd(&seed) % 20));
		struct pollfd p = { .fd = ksync_queue_fd(q), .events = POLLIN | POLLOUT };
		struct iovec v[4];
		int64_t before = now_ns();
		long ret;

		for (int i = 0; i < 4; i++)
			v[i] = (struct iovec){ buf, rnd(&seed) % (MSG + 1) };
		switch (rnd(&seed) % 6) {
		case 0:
			ret = ksync_queue_send(q, buf, rnd(&seed) % (MSG + 1), &dl);
			break;
		case 1:
			ret = ksync_queue_recv(q, buf, rnd(&seed) % (MSG + 1), &dl);
			break;
		case 2:
			ret = ksync_queue_send_batch(q, v, 4, &dl);
			break;
		case 3:
			ret = ksync_queue_recv_batch(q, v, 4, &dl);
			break;
		case 4:
			ret = ksync_queue_try_recv(q, buf, sizeof(buf));
			break;
		default:
			ret = poll(&p, 1, 5) < 0 ? -errno : 0;
			break;
		}
		if (!allowed(ret))
			return 1;
		/* the deadline holds, whatever the ring says (slack for a busy guest) */
		if (now_ns() - before > 5000000000LL)
			return 2;
		if (ksync_queue_len(q) < 0)
			return 3;
	}
	return 0;
}

TEST(scribbled_ring_hurts_nobody_else)
{
	struct ksync_queue_info info;
	ksync_queue_t *victim, *bystander;
	pid_t pid[WORKERS], scribbler;
	int base = ksync_objects();
	uint64_t *words;
	char *mem;
	int i;

	ASSERT_EQ(0, ksync_queue_open(&victim, NULL, KSYNC_QUEUE_NOEOF, 0600, CAP, MSG));
	ASSERT_EQ(0, ksync_queue_open(&bystander, NULL, KSYNC_QUEUE_NOEOF, 0600, 64, 8));
	mem = map_ring(victim, &info);
	ASSERT_NE(MAP_FAILED, mem);
	words = (uint64_t *)mem;

	int64_t end = now_ns() + SECONDS * 1000000000LL;

	for (i = 0; i < WORKERS; i++) {
		pid[i] = fork();
		ASSERT_GE(pid[i], 0);
		if (pid[i] == 0)
			_exit(worker(victim, 0x9e3779b97f4a7c15ULL * (i + 1), end));
	}
	scribbler = fork();
	ASSERT_GE(scribbler, 0);
	if (scribbler == 0) {
		size_t nwords = info.map_size / 8;
		uint64_t x = 42;

		while (now_ns() < end) {
			uint64_t r = rnd(&x);
			/* aim at the header's words and the slots' heads */
			size_t at =
				r & 1 ? (r >> 1) % 64
				      : (info.ring_offset + ((r >> 1) % CAP) * info.slot_size) / 8 +
						(r >> 8) % 2;

			__atomic_store_n(&words[at % nwords], rnd(&x) >> (r % 64),
					 __ATOMIC_RELAXED);
			if (rnd(&x) % 8 == 0)
				pause_us(100);
		}
		_exit(0);
	}
	/* the bystander delivers every message meanwhile */
	for (uint64_t n = 0; now_ns() < end; n++) {
		uint64_t got;

		ASSERT_EQ(0, ksync_queue_send(bystander, &n, sizeof(n), NULL));
		ASSERT_EQ(8, ksync_queue_recv(bystander, &got, sizeof(got), NULL));
		ASSERT_EQ(n, got);
	}
	ASSERT_EQ(0, wait_child(scribbler, 60000));
	for (i = 0; i < WORKERS; i++)
		ASSERT_EQ(0, wait_child(pid[i], 60000));
	TH_LOG("victim: %s", queue_stats(victim).broken ? "broken" : "not broken");
	munmap(mem, info.map_size);
	ASSERT_EQ(0, ksync_queue_close(victim));
	ASSERT_EQ(0, ksync_queue_close(bystander));
	ASSERT_EQ(base, ksync_objects());
}

/*
 * A peer that keeps flipping bits of a full slot's word that no honest
 * process sets (a claim's token): the word is FULL with one token, then
 * with another, over and over.  A receive must not copy the message,
 * lose the take to the next flip and try again thousands of times: every
 * call returns long before its deadline passes by much, whatever the
 * peer does.  (With 256 KiB messages one receive takes well under a
 * millisecond; copying 4,096 times took 300 to 500.)
 *
 * The peer has a CPU of its own.  (On a busy host the guest's two CPUs
 * may seldom run at once, and the peer then flips during few copies: this
 * test fails on a library without the bound only when they do.
 * a_peer_that_wins_every_race below does not depend on that.)
 */
#define BIG (256 * 1024)
#define GENEROUS_NS 100000000LL /* 100 ms */

static struct ksync_queue_slot *first_slot(char *mem, const struct ksync_queue_info *info)
{
	return (struct ksync_queue_slot *)(mem + info->ring_offset);
}

/*
 * FULL(head), whatever head says (a receive that takes the message finds
 * another at the next position), with a token that changes at every
 * store: exact once in 32,768.  Until killed, or its parent goes (a
 * failed assertion must not leave it holding the ring), or a minute.
 */
static pid_t token_flipper(struct ksync_queue_shared *hdr, _Atomic uint64_t *seq, int cpu)
{
	int64_t end = now_ns() + 60000000000LL;
	pid_t parent = getpid();
	pid_t pid = fork();
	cpu_set_t set;

	if (pid)
		return pid;
	CPU_ZERO(&set);
	CPU_SET(cpu, &set);
	if (prctl(PR_SET_PDEATHSIG, SIGKILL) || getppid() != parent ||
	    sched_setaffinity(0, sizeof(set), &set))
		_exit(1);
	for (uint64_t i = 1; (i & 0xffff) || now_ns() < end; i++) {
		uint64_t h =
			atomic_load_explicit((_Atomic uint64_t *)&hdr->head, memory_order_relaxed);

		atomic_store_explicit(seq,
				      ((2 * h + 1) & KSYNC_QUEUE_SEQ_POS) |
					      (i & 0x7fff) << KSYNC_QUEUE_TOKEN_SHIFT,
				      memory_order_relaxed);
	}
	_exit(0);
}

TEST(token_flipper_cannot_hold_a_receive)
{
	struct ksync_queue_info info;
	int me = -1, other = -1;
	_Atomic uint64_t *seq;
	cpu_set_t set, mine;
	int64_t t0, took;
	ksync_queue_t *q;
	char *mem, *buf;
	ssize_t ret;
	pid_t peer;

	ASSERT_EQ(0, sched_getaffinity(0, sizeof(set), &set));
	for (int c = 0; c < CPU_SETSIZE && other < 0; c++)
		if (CPU_ISSET(c, &set))
			*(me < 0 ? &me : &other) = c;
	if (other < 0)
		SKIP(return, "needs two CPUs");
	CPU_ZERO(&mine);
	CPU_SET(me, &mine);
	ASSERT_EQ(0, sched_setaffinity(0, sizeof(mine), &mine));
	buf = malloc(BIG);
	ASSERT_NE(NULL, buf);
	memset(buf, 'm', BIG);
	/* one slot: every position is in it */
	ASSERT_EQ(0, ksync_queue_open(&q, NULL, KSYNC_QUEUE_NOEOF, 0600, 1, BIG));
	mem = map_ring(q, &info);
	ASSERT_NE(MAP_FAILED, mem);
	ASSERT_EQ(0, ksync_queue_send(q, buf, BIG, NULL));
	seq = (_Atomic uint64_t *)&first_slot(mem, &info)->seq;
	ASSERT_EQ(1ULL, atomic_load(seq)); /* FULL(0) */
	peer = token_flipper((struct ksync_queue_shared *)mem, seq, other);
	ASSERT_GT(peer, 0);
	/* it flips now */
	t0 = now_ns();
	while (atomic_load(seq) == 1 && now_ns() - t0 < 10000000000LL)
		;
	ASSERT_NE(1ULL, atomic_load(seq));

	for (int i = 0; i < 5; i++) {
		t0 = now_ns();
		ret = ksync_queue_try_recv(q, buf, BIG);
		took = now_ns() - t0;
		TH_LOG("try_recv: %zd after %lld us", ret, (long long)took / 1000);
		ASSERT_TRUE(ret == -EAGAIN || ret == BIG);
		ASSERT_LT(took, GENEROUS_NS);
	}
	{
		struct timespec dl = ksync_deadline_ms(10);

		ret = ksync_queue_recv(q, buf, BIG, &dl);
		took = now_ns() - ts_ns(&dl);
		TH_LOG("recv, 10 ms deadline: %zd, %lld us after it", ret, (long long)took / 1000);
		ASSERT_TRUE(ret == -ETIMEDOUT || ret == BIG);
		if (ret == -ETIMEDOUT)
			ASSERT_GE(took, 0);
		ASSERT_LT(took, GENEROUS_NS);
	}
	kill(peer, SIGKILL);
	ASSERT_EQ(128 + SIGKILL, wait_child(peer, 10000));
	munmap(mem, info.map_size);
	ASSERT_EQ(0, ksync_queue_close(q));
	free(buf);
}

/*
 * The peer that wins every race (stepper.h): it rewrites the word of the
 * slot the child uses after each of the child's instructions, giving it
 * a token most of the time and leaving it exact now and then, so that
 * the child sees a free slot (a message) only to lose the claim (the
 * take).  A try_send took about 450 instructions, a try_recv 280.
 * Retrying up to 4,096 times, a try_send took over 110,000, and a
 * try_recv, which copies the message each time, had not returned when
 * the harness's 30 s ran out.
 */
#define MAX_STEPS 20000

struct stepped {
	ksync_queue_t *q;
	_Atomic uint64_t *seq;
	uint64_t word; /* the honest word: FREE(0) or FULL(0) */
};

static void rewrite_token(void *arg, long n)
{
	struct stepped *st = arg;

	atomic_store_explicit(st->seq, st->word | (uint64_t)(n % 8) << KSYNC_QUEUE_TOKEN_SHIFT,
			      memory_order_relaxed);
}

static int try_send_one(void *arg)
{
	struct stepped *st = arg;
	int ret = ksync_queue_try_send(st->q, "x", 1);

	return ret == 0 || ret == -EAGAIN ? 0 : 1;
}

static int try_recv_one(void *arg)
{
	struct stepped *st = arg;
	char c;
	ssize_t ret = ksync_queue_try_recv(st->q, &c, 1);

	return ret == 1 || ret == -EAGAIN ? 0 : 1;
}

/* A queue of one slot of 8 bytes, empty or with a message */
static ksync_queue_t *small_queue(int with_message)
{
	ksync_queue_t *q;

	if (ksync_queue_open(&q, NULL, KSYNC_QUEUE_NOEOF, 0600, 1, 8))
		return NULL;
	if (with_message && ksync_queue_try_send(q, "y", 1)) {
		ksync_queue_close(q);
		return NULL;
	}
	return q;
}

/* fn stepped on a small queue, warmed up on another in the same state */
static int stepped_call(int (*fn)(void *), int with_message, long *steps)
{
	ksync_queue_t *q = small_queue(with_message), *warm = small_queue(with_message);
	struct stepped st, warm_st = { warm, NULL, 0 };
	struct ksync_queue_info info;
	char *mem = MAP_FAILED;
	int ret = -1;

	if (q && warm)
		mem = map_ring(q, &info);
	if (mem != MAP_FAILED) {
		st = (struct stepped){ q, (_Atomic uint64_t *)&first_slot(mem, &info)->seq,
				       with_message ? 1 : 0 };
		ret = run_stepped(fn, &st, &warm_st, rewrite_token, &st, MAX_STEPS, steps);
		munmap(mem, info.map_size);
	}
	if (q)
		ksync_queue_close(q);
	if (warm)
		ksync_queue_close(warm);
	return ret;
}

/* Stepping is slow on a debugging kernel (milliseconds a step). */
FIXTURE(stepped)
{
	long steps;
};

FIXTURE_SETUP(stepped)
{
	self->steps = 0;
}

FIXTURE_TEARDOWN(stepped)
{
}

TEST_F_TIMEOUT(stepped, a_peer_that_wins_every_claim, 180)
{
	ASSERT_EQ(0, stepped_call(try_send_one, 0, &self->steps));
	TH_LOG("a try_send in %ld instructions", self->steps);
}

/* the same for a message: FULL(0), with its length set */
TEST_F_TIMEOUT(stepped, a_peer_that_wins_every_take, 180)
{
	ASSERT_EQ(0, stepped_call(try_recv_one, 1, &self->steps));
	TH_LOG("a try_recv in %ld instructions", self->steps);
}

/*
 * Honest users, no scribbler: two senders and three receivers, a ring of
 * two slots and messages long enough that receivers often copy the same
 * one and all but one lose the take.  Every message arrives exactly
 * once, in its sender's order.
 */
#define HONEST_SENDERS 2
#define HONEST_RECEIVERS 3
#define HONEST_EACH 3000
#define HONEST_SIZE 4096

static int honest_sender(ksync_queue_t *q, uint32_t id)
{
	static char msg[HONEST_SIZE];
	struct qmsg *m = (struct qmsg *)msg;

	for (uint32_t i = 0; i < HONEST_EACH; i++) {
		struct timespec dl = in_ms(20000);

		*m = (struct qmsg){ id, i };
		if (ksync_queue_send(q, msg, sizeof(msg), &dl))
			return 1;
	}
	return 0;
}

/* Until EOF, alternately trying and waiting. */
static int honest_receiver(ksync_queue_t *q, unsigned char *seen, int tries)
{
	static char msg[HONEST_SIZE];
	struct qmsg *m = (struct qmsg *)msg;
	uint32_t last[HONEST_SENDERS] = { UINT32_MAX, UINT32_MAX };
	int64_t end = now_ns() + 60000000000LL;

	for (uint64_t k = 0;; k++) {
		struct timespec dl = in_ms(20000);
		ssize_t n = tries && k % 2 ? ksync_queue_try_recv(q, msg, sizeof(msg))
					   : ksync_queue_recv(q, msg, sizeof(msg), &dl);

		if (n == -EPIPE)
			return 0;
		if (n == -EAGAIN && now_ns() < end)
			continue;
		if (n != (ssize_t)sizeof(msg))
			return 2;
		if (m->sender >= HONEST_SENDERS || m->seq >= HONEST_EACH)
			return 3;
		if (last[m->sender] != UINT32_MAX && m->seq <= last[m->sender])
			return 4;
		last[m->sender] = m->seq;
		__atomic_fetch_add(&seen[m->sender * HONEST_EACH + m->seq], 1, __ATOMIC_RELAXED);
	}
}

FIXTURE(honest)
{
	unsigned char *seen; /* [sender][seq]: times each message arrived */
};

FIXTURE_SETUP(honest)
{
	self->seen = mmap(NULL, HONEST_SENDERS * HONEST_EACH, PROT_READ | PROT_WRITE,
			  MAP_SHARED | MAP_ANONYMOUS, -1, 0);
	ASSERT_NE(MAP_FAILED, self->seen);
}

FIXTURE_TEARDOWN(honest)
{
	munmap(self->seen, HONEST_SENDERS * HONEST_EACH);
}

TEST_F_TIMEOUT(honest, users_lose_nothing, 120)
{
	pid_t pid[HONEST_SENDERS + HONEST_RECEIVERS];
	ksync_queue_t *ends[2];
	int i;

	/* a pipe's two ends: the input ends when the last sender is gone */
	ASSERT_EQ(0, ksync_queue_pipe(ends, 2, HONEST_SIZE, 0));
	for (i = 0; i < HONEST_RECEIVERS; i++) {
		pid[i] = fork();
		ASSERT_GE(pid[i], 0);
		if (pid[i] == 0) {
			ksync_queue_close(ends[1]);
			_exit(honest_receiver(ends[0], self->seen, i != 0));
		}
	}
	for (i = 0; i < HONEST_SENDERS; i++) {
		pid[HONEST_RECEIVERS + i] = fork();
		ASSERT_GE(pid[HONEST_RECEIVERS + i], 0);
		if (pid[HONEST_RECEIVERS + i] == 0) {
			ksync_queue_close(ends[0]);
			_exit(honest_sender(ends[1], (uint32_t)i));
		}
	}
	ASSERT_EQ(0, ksync_queue_close(ends[1]));
	for (i = 0; i < HONEST_SENDERS; i++)
		ASSERT_EQ(0, wait_child(pid[HONEST_RECEIVERS + i], 100000));
	for (i = 0; i < HONEST_RECEIVERS; i++)
		ASSERT_EQ(0, wait_child(pid[i], 100000));
	for (i = 0; i < HONEST_SENDERS * HONEST_EACH; i++)
		ASSERT_EQ(1, self->seen[i]);
	ksync_queue_close(ends[0]);
}

/*
 * The state word (SHUTDOWN, BROKEN, who sleeps) is the module's alone: a
 * peer that could set SHUTDOWN or BROKEN there would turn every honest
 * fast path away.  It lives on a page of its own that maps read-only and
 * cannot be made writable.
 */
TEST(the_state_word_cannot_be_written)
{
	const size_t pg = (size_t)sysconf(_SC_PAGESIZE);
	const unsigned long long shut = KSYNC_QUEUE_STATE_SHUTDOWN;
	struct ksync_queue_info info;
	volatile uint64_t *st;
	ksync_queue_t *q;
	long v, got;
	char *ring;
	int fd, mem;

	ASSERT_EQ(0, ksync_queue_open(&q, NULL, KSYNC_QUEUE_NOEOF, 0600, 4, sizeof(long)));
	fd = ksync_queue_fd(q);
	ring = map_ring(q, &info);
	ASSERT_NE(MAP_FAILED, ring);
	ASSERT_EQ(info.map_size, info.state_offset);
	/* the ring's writable mapping cannot reach it */
	EXPECT_EQ(MAP_FAILED, mmap(NULL, info.map_size + pg, PROT_READ, MAP_SHARED, fd, 0));
	EXPECT_EQ(EINVAL, errno);
	EXPECT_EQ(MAP_FAILED,
		  mmap(NULL, pg, PROT_READ | PROT_WRITE, MAP_SHARED, fd, info.state_offset));
	EXPECT_EQ(EACCES, errno);
	EXPECT_EQ(MAP_FAILED, mmap(NULL, pg, PROT_READ, MAP_PRIVATE, fd, info.state_offset));
	EXPECT_EQ(MAP_FAILED, mmap(NULL, 2 * pg, PROT_READ, MAP_SHARED, fd, info.state_offset));
	st = mmap(NULL, pg, PROT_READ, MAP_SHARED, fd, info.state_offset);
	ASSERT_NE(MAP_FAILED, st);
	/* nor be made writable later, by mprotect or by /proc/pid/mem's force */
	EXPECT_EQ(-1, mprotect((void *)st, pg, PROT_READ | PROT_WRITE));
	EXPECT_EQ(EACCES, errno);
	mem = open("/proc/self/mem", O_RDWR);
	ASSERT_LE(0, mem);
	EXPECT_EQ(-1, pwrite(mem, &shut, sizeof(shut), (off_t)(uintptr_t)st));
	close(mem);
	EXPECT_EQ(0ULL, st[0] & shut);
	/* where the word was before, in the header, a forgery changes nothing */
	memset(ring, 0xff, 64);
	for (v = 0; v < 8; v++) {
		struct timespec dl = ksync_deadline_ms(10000);

		ASSERT_EQ(0, ksync_queue_send(q, &v, sizeof(v), &dl));
		ASSERT_EQ((ssize_t)sizeof(got), ksync_queue_recv(q, &got, sizeof(got), &dl));
		ASSERT_EQ(v, got);
	}
	/* and the module's word shows through the read-only page */
	ASSERT_EQ(0, ksync_queue_shutdown(q));
	EXPECT_EQ(shut, st[0] & shut);
	munmap((void *)st, pg);
	munmap(ring, info.map_size);
	ksync_queue_close(q);
}

/*
 * Whatever a process does to its mappings (offsets beside the status
 * page, growing, splitting and moving the ring, moving, zapping and
 * re-protecting the status page, a forked child's writes), no writable
 * view of the module's word appears, and the mapping keeps showing it
 * after the fd is gone.  (From the kernel review of the status page.)
 */
TEST(status_page_paths)
{
	const size_t pg = (size_t)sysconf(_SC_PAGESIZE);
	struct ksync_queue_info info;
	volatile uint64_t *st, *moved;
	ksync_queue_t *q;
	char *ring, *r2, *spare;
	int fd, status;
	pid_t pid;

	ASSERT_EQ(0, ksync_queue_open(&q, NULL, KSYNC_QUEUE_NOEOF, 0600, 64, 64));
	fd = ksync_queue_fd(q);
	ASSERT_EQ(0, ioctl(fd, KSYNC_IOC_QUEUE_INFO, &info));
	ASSERT_EQ(info.map_size, info.state_offset);
	ASSERT_EQ(0UL, info.map_size % pg);
	/* offsets inside the ring, or past the status page */
	EXPECT_EQ(MAP_FAILED, mmap(NULL, info.map_size - pg, PROT_READ, MAP_SHARED, fd, pg));
	EXPECT_EQ(MAP_FAILED, mmap(NULL, pg, PROT_READ, MAP_SHARED, fd, info.state_offset + pg));
	EXPECT_EQ(MAP_FAILED, mmap(NULL, pg, PROT_READ, MAP_SHARED, fd, info.state_offset - pg));
	/* the ring's vma cannot grow into the status page */
	ring = mmap(NULL, info.map_size, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
	ASSERT_NE(MAP_FAILED, ring);
	EXPECT_EQ(MAP_FAILED, mremap(ring, info.map_size, info.map_size + pg, MREMAP_MAYMOVE));
	/* a split ring still works, and a tail piece is still not the status page */
	spare = mmap(NULL, 4 * pg, PROT_NONE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	ASSERT_NE(MAP_FAILED, spare);
	ASSERT_EQ(0, mprotect(ring + pg, pg, PROT_READ));
	ASSERT_EQ(0, mprotect(ring + pg, pg, PROT_READ | PROT_WRITE));
	r2 = mremap(ring + info.map_size - pg, pg, pg, MREMAP_MAYMOVE | MREMAP_FIXED, spare);
	EXPECT_NE(MAP_FAILED, r2);
	/* the status page: grow, move, zap, fork */
	st = mmap(NULL, pg, PROT_READ, MAP_SHARED, fd, info.state_offset);
	ASSERT_NE(MAP_FAILED, st);
	EXPECT_EQ(MAP_FAILED, mremap((void *)st, pg, 2 * pg, MREMAP_MAYMOVE));
	moved = mremap((void *)st, pg, pg, MREMAP_MAYMOVE | MREMAP_FIXED, spare + 2 * pg);
	ASSERT_NE(MAP_FAILED, moved);
	EXPECT_EQ(-1, mprotect((void *)moved, pg, PROT_READ | PROT_WRITE));
	EXPECT_EQ(EACCES, errno);
	EXPECT_EQ(0, madvise((void *)moved, pg, MADV_DONTNEED));
	EXPECT_EQ(0, mprotect((void *)moved, pg, PROT_NONE));
	EXPECT_EQ(0, mprotect((void *)moved, pg, PROT_READ));
	pid = fork();
	ASSERT_LE(0, pid);
	if (pid == 0) {
		const unsigned long long shut = KSYNC_QUEUE_STATE_SHUTDOWN;
		int mem = open("/proc/self/mem", O_RDWR);

		if (mprotect((void *)moved, pg, PROT_READ | PROT_WRITE) == 0)
			_exit(2);
		if (pwrite(mem, &shut, sizeof(shut), (off_t)(uintptr_t)moved) != -1)
			_exit(3);
		_exit(moved[0] & shut ? 4 : 0);
	}
	ASSERT_EQ(pid, waitpid(pid, &status, 0));
	EXPECT_EQ(0, WEXITSTATUS(status));
	/* the fd may go: the mapping still shows the module's word */
	ASSERT_EQ(0, ksync_queue_shutdown(q));
	EXPECT_EQ(0, ksync_queue_close(q));
	EXPECT_EQ((uint64_t)KSYNC_QUEUE_STATE_SHUTDOWN, moved[0] & KSYNC_QUEUE_STATE_SHUTDOWN);
	munmap((void *)moved, pg);
	munmap(ring, info.map_size);
	munmap(spare, 4 * pg);
}

TEST_HARNESS_MAIN
