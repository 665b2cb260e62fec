// SPDX-License-Identifier: GPL-2.0
/*
 * SIGKILL storms on a queue.  Producers send numbered messages and
 * consumers receive them, and the test kills one of them at random every
 * few milliseconds for KSYNC_STORM_SECONDS (default 4), replacing each.
 * Then it kills the producers, and the queue's automatic EOF must reach
 * every consumer: nothing hangs.
 *
 * A consumer receives into a buffer in shared memory, so a message the
 * kernel delivered to a consumer that died before logging it is still
 * seen.  Through kernel-only handles nothing may be lost: every message
 * whose send returned is received exactly once (the one a producer was
 * sending when it died, at most once).  On the ring, a consumer killed in
 * a receive may take its message with it (docs/design.md): at most one
 * per consumer killed; nothing is ever received twice, and every
 * consumer sees each producer's messages in order.
 */
#include <stdatomic.h>
#include <sys/mman.h>

#include "queue.h"
#include "kselftest_harness.h"

#define PRODUCERS 4
#define CONSUMERS 3
#define MAXP 512 /* producers over the whole storm */
#define PER 4000 /* messages per producer at most */
#define NONE UINT32_MAX

struct storm {
	_Atomic uint32_t sent[MAXP]; /* sends that returned */
	_Atomic uint32_t attempt[MAXP]; /* 1 + the one being sent, or 0 */
	struct qmsg buf[CONSUMERS]; /* each consumer's receive buffer */
	_Atomic uint16_t owner[MAXP][PER]; /* which consumer got it */
	_Atomic uint32_t dups, disorder;
};

static int producer(ksync_queue_t *q, struct storm *s, uint32_t id)
{
	for (uint32_t seq = 0; seq < PER; seq++) {
		struct qmsg m = { id, seq };
		struct timespec dl = in_ms(20000);
		int ret;

		atomic_store(&s->attempt[id], seq + 1);
		ret = ksync_queue_send(q, &m, sizeof(m), &dl);
		if (ret)
			return ret == -EPIPE ? 0 : 1;
		atomic_store(&s->sent[id], seq + 1);
		atomic_store(&s->attempt[id], 0);
	}
	pause(); /* done: wait to be killed, still a sender */
	return 0;
}

/* Record that consumer cid got m; a second consumer is a duplicate. */
static void take(struct storm *s, const struct qmsg *m, uint16_t cid)
{
	uint16_t none = 0;

	if (m->sender >= MAXP || m->seq >= PER)
		return;
	if (!atomic_compare_exchange_strong(&s->owner[m->sender][m->seq], &none, cid) &&
	    none != cid)
		atomic_fetch_add(&s->dups, 1);
}

static int consumer(ksync_queue_t *q, struct storm *s, int slot, uint16_t cid)
{
	uint32_t last[MAXP];

	memset(last, 0xff, sizeof(last));
	for (;;) {
		struct timespec dl = in_ms(30000);
		ssize_t n;

		s->buf[slot].sender = NONE;
		n = ksync_queue_recv(q, &s->buf[slot], sizeof(s->buf[slot]), &dl);
		if (n == -EPIPE)
			return 0;
		if (n != sizeof(struct qmsg))
			return 1;
		struct qmsg m = s->buf[slot];

		if (m.sender >= MAXP)
			return 2;
		if (last[m.sender] != NONE && m.seq <= last[m.sender])
			atomic_fetch_add(&s->disorder, 1);
		last[m.sender] = m.seq;
		take(s, &m, cid);
	}
}

static uint64_t rnd(uint64_t *x)
{
	*x ^= *x << 13;
	*x ^= *x >> 7;
	*x ^= *x << 17;
	return *x;
}

FIXTURE(storm)
{
	struct storm *s;
	ksync_queue_t *q;
};

FIXTURE_VARIANT(storm)
{
	int kernel;
};

FIXTURE_VARIANT_ADD(storm, ring){
	.kernel = 0,
};

FIXTURE_VARIANT_ADD(storm, kernel_only){
	.kernel = 1,
};

FIXTURE_SETUP(storm)
{
	const char *name = test_name("q-storm");
	ksync_queue_t *creator;

	self->s = mmap(NULL, sizeof(*self->s), PROT_READ | PROT_WRITE, MAP_SHARED | MAP_ANONYMOUS,
		       -1, 0);
	ASSERT_NE(MAP_FAILED, self->s);
	ASSERT_EQ(0, ksync_queue_open(&creator, name, KSYNC_CREATE, 0600, 16, sizeof(struct qmsg)));
	ASSERT_EQ(0, ksync_queue_open(&self->q, name, variant->kernel ? KSYNC_QUEUE_KERNEL : 0, 0,
				      0, 0));
	ASSERT_EQ(0, ksync_unlink(name));
	ASSERT_EQ(0, ksync_queue_close(creator));
}

FIXTURE_TEARDOWN(storm)
{
	munmap(self->s, sizeof(*self->s));
}

TEST_F_TIMEOUT(storm, kill_storm, 180)
{
	struct ksync_queue_join j = { .size = sizeof(j) };
	const char *env = getenv("KSYNC_STORM_SECONDS");
	int64_t end = now_ns() + (env ? atol(env) : 4) * 1000000000LL;
	pid_t prod[PRODUCERS], cons[CONSUMERS];
	uint16_t cid[CONSUMERS], next_cid = 1;
	uint32_t next_id = 0, lost = 0, ambiguous = 0;
	int consumer_kills = 0, producer_kills = 0;
	struct storm *s = self->s;
	uint64_t x = (uint64_t)now_ns() | 1;
	int i;

	TH_LOG("seed %llu", (unsigned long long)x);
	/* we count as a sender until the storm is over: no early EOF */
	ASSERT_EQ(0, ioctl(ksync_queue_fd(self->q), KSYNC_IOC_QUEUE_JOIN, &j));
	for (i = 0; i < CONSUMERS; i++) {
		cid[i] = next_cid++;
		cons[i] = fork();
		ASSERT_LE(0, cons[i]);
		if (cons[i] == 0)
			_exit(consumer(self->q, s, i, cid[i]));
	}
	for (i = 0; i < PRODUCERS; i++) {
		uint32_t id = next_id++;

		prod[i] = fork();
		ASSERT_LE(0, prod[i]);
		if (prod[i] == 0)
			_exit(producer(self->q, s, id));
	}
	while (now_ns() < end && next_id < MAXP) {
		int victim = (int)(rnd(&x) % (PRODUCERS + CONSUMERS));

		pause_us((long)(rnd(&x) % 20000));
		if (victim < PRODUCERS) {
			uint32_t id = next_id++;

			kill(prod[victim], SIGKILL);
			ASSERT_EQ(128 + SIGKILL, wait_child(prod[victim], 30000));
			producer_kills++;
			prod[victim] = fork();
			ASSERT_LE(0, prod[victim]);
			if (prod[victim] == 0)
				_exit(producer(self->q, s, id));
		} else {
			int k = victim - PRODUCERS;
			int code;

			kill(cons[k], SIGKILL);
			code = wait_child(cons[k], 30000);
			ASSERT_EQ(128 + SIGKILL, code);
			consumer_kills++;
			/*
			 * What the kernel delivered to it before it died.  (A
			 * receiver on the ring copies before it takes, so its
			 * buffer may hold a message another one took.)
			 */
			if (variant->kernel && s->buf[k].sender != NONE)
				take(s, &s->buf[k], cid[k]);
			s->buf[k].sender = NONE; /* its successor may die before it runs */
			cid[k] = next_cid++;
			cons[k] = fork();
			ASSERT_LE(0, cons[k]);
			if (cons[k] == 0)
				_exit(consumer(self->q, s, k, cid[k]));
		}
	}
	/* the end: producers die, we let go, the consumers drain and see EOF */
	for (i = 0; i < PRODUCERS; i++) {
		kill(prod[i], SIGKILL);
		ASSERT_EQ(128 + SIGKILL, wait_child(prod[i], 30000));
	}
	ASSERT_EQ(0, ksync_queue_close(self->q));
	for (i = 0; i < CONSUMERS; i++)
		ASSERT_EQ(0, wait_child(cons[i], 60000));

	for (uint32_t id = 0; id < next_id; id++) {
		uint32_t sent = atomic_load(&s->sent[id]);
		uint32_t attempt = atomic_load(&s->attempt[id]);

		for (uint32_t seq = 0; seq < PER; seq++) {
			int got = atomic_load(&s->owner[id][seq]) != 0;

			if (seq < sent) {
				lost += !got;
			} else if (attempt && seq == attempt - 1) {
				ambiguous += got;
			} else if (got) {
				TH_LOG("sender %u seq %u was never sent", id, seq);
				ASSERT_EQ(0, got);
			}
		}
	}
	TH_LOG("%s: %u producers, %d producer and %d consumer kills, %u lost, %u in flight "
	       "delivered, %u duplicates",
	       variant->kernel ? "kernel-only" : "ring", next_id, producer_kills, consumer_kills,
	       lost, ambiguous, atomic_load(&s->dups));
	ASSERT_EQ(0, (int)atomic_load(&s->dups));
	ASSERT_EQ(0, (int)atomic_load(&s->disorder));
	if (variant->kernel) {
		ASSERT_EQ(0, (int)lost);
	} else {
		ASSERT_GE(consumer_kills, (int)lost);
	}
}

TEST_HARNESS_MAIN
