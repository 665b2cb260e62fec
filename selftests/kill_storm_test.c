// SPDX-License-Identifier: GPL-2.0
/*
 * SIGKILL storms over every type at once.  Processes use an UNDO
 * semaphore, a plain semaphore, a barrier, a queue on the ring, a queue
 * through kernel-only handles and an auto event, all at the same time, and the test
 * kills one of them at random every few milliseconds for
 * KSYNC_STORM_SECONDS (default 4), replacing each.  Then the survivors
 * are told to stop, and every one of them must be able to: nothing hangs.
 *
 * What users rely on afterwards:
 * - UNDO semaphore: every permit back, nobody listed as a holder.
 * - plain semaphore: no permit made up; the permits of a holder killed
 *   before its release are lost (that is what UNDO is for), and no more:
 *   each user says in shared memory what it is asking for, holds or is
 *   giving back, and the killer counts what a death cost for sure (and
 *   gives those permits back, so that the semaphore goes on) and what it
 *   may have cost (a death in the middle of an acquire or a release).
 * - barrier: a party's death breaks the round the others wait in, so they
 *   never hang; at the end the parties leave one by one and their exits
 *   break the rounds of those still waiting.
 * - queues: a message is received once at most, each sender's in order.
 *   Through kernel-only handles nothing is lost: every message whose send
 *   returned is received (a message being sent when its sender died, at
 *   most once).  On the ring, a consumer killed in a receive may take its
 *   message with it (docs/design.md): at most one per consumer killed.
 *   The producers share the test's send end, the consumers a receive end,
 *   as the two ends of a pipe; when the producers are gone and the test
 *   has closed its send end, the end of input reaches every consumer.
 * - auto event: its set is a token: a user whose wait passed holds it,
 *   then sets the event again.  Never two holders at once (each says so
 *   in shared memory and looks at the others), and the token is lost only
 *   with a user killed between its wait's return and its set: one killed
 *   asleep in the wait as a set reaches it passes the set on.  A holder
 *   killed is known (the killer sets the event for it); one killed in the
 *   middle of its wait may have held it (in doubt).  At the end the event
 *   is set unless a death in doubt took the token.
 * ksync-vm then checks that the kernel logged nothing, rmmod succeeds and
 * kmemleak finds no leak.
 *
 * Half the acquires, half the event users' waits and the odd consumers'
 * receives are waits on several objects that the module decides
 * (select_acquire(), select_event(), select_recv()).
 *
 * A consumer receives into a buffer in shared memory, so that a message
 * the kernel delivered to a consumer that died before logging it is still
 * counted.
 */
#include <stdatomic.h>
#include <sys/eventfd.h>
#include <sys/mman.h>

#include "queue.h"
#include "rnd.h"
#include "kselftest_harness.h"

#define PERMITS 4
#define MOST_PER_ACQUIRE 3
#define PARTIES 3
#define EVENT_USERS 3
#define PRODUCERS 2 /* per queue */
#define CONSUMERS 2
#define MAXP 8192 /* producers per queue over the whole storm */
#define PER 512 /* messages per producer at most (then it waits to be killed) */
#define NONE UINT32_MAX

enum role { UNDO, PLAIN, BARRIER, PRODUCER, CONSUMER, EVENT, ROLES };

static const char *const role_names[ROLES] = { "UNDO semaphore", "plain semaphore", "barrier party",
					       "producer",	 "consumer",	    "event user" };

/* One queue's bookkeeping, in memory shared with every process. */
struct qbook {
	_Atomic uint32_t sent[MAXP]; /* sends that returned */
	_Atomic uint32_t attempt[MAXP]; /* 1 + the one being sent, or 0 */
	struct qmsg buf[CONSUMERS]; /* each consumer's receive buffer */
	_Atomic uint32_t owner[MAXP][PER]; /* which consumer got it */
	_Atomic uint32_t dups, disorder;
	struct {
		uint32_t sender, seq, first, second;
	} dup[4]; /* the first few, for the log */
};

/*
 * What a plain semaphore's user is doing, so that the killer knows what
 * its death cost: n permits asked for, held, or being given back.
 */
enum { IDLE, ACQUIRING, HOLDING, RELEASING };
#define SEM_STATE(what, n) ((what) << 8 | (n))

struct board {
	atomic_int stop;
	atomic_int plain[2]; /* SEM_STATE of each plain user */
	atomic_long acquired[2]; /* acquires that returned: UNDO, plain */
	atomic_long rounds, broken; /* barrier waits that passed, that broke */
	atomic_int ev_state[EVENT_USERS]; /* IDLE, ACQUIRING (waiting), HOLDING */
	atomic_int ev_holds[EVENT_USERS]; /* 1 while it holds the token */
	atomic_long ev_passes, ev_twice; /* tokens taken; two holders at once */
	struct qbook q[2]; /* on the ring, kernel-only */
};

struct proc {
	enum role role;
	int q; /* producers and consumers: which queue */
	int slot; /* consumers: which receive buffer */
	uint32_t id; /* producers: their number; consumers: their cid */
	pid_t pid;
};

struct world {
	struct board *b;
	char sem_name[2][64];
	ksync_barrier_t *bar;
	ksync_queue_t *q[2]; /* the producers' (send) */
	ksync_queue_t *rq[2]; /* the consumers' (receive) */
	ksync_event_t *ev; /* auto: its set is the token */
	uint64_t seed;
};

/*
 * Acquire, hold a moment, release, until told to stop.  A plain user says
 * what it is doing in the board before each step (an UNDO user, to
 * itself: its permits come back whatever it was doing).
 */
/*
 * Half the waits go through a wait on several objects, behind an eventfd
 * that never becomes readable, so that the module decides them
 * (ksync_wait_any() in the kernel, killed as often as the rest).
 */
static int never_fd = -1;

static int select_acquire(ksync_sem_t *s, unsigned int n, const struct timespec *dl)
{
	struct ksync_op ops[2] = {
		{ .kind = KSYNC_OP_FD, .fd = never_fd },
		{ .kind = KSYNC_OP_ACQUIRE, .sem = s, .n = n },
	};
	int ret = ksync_wait_any(ops, 2, dl);

	return ret == 1 ? 0 : ret < 0 ? ret : -EBADMSG;
}

static int select_event(ksync_event_t *e, const struct timespec *dl)
{
	struct ksync_op ops[2] = {
		{ .kind = KSYNC_OP_FD, .fd = never_fd },
		{ .kind = KSYNC_OP_EVENT, .event = e },
	};
	int ret = ksync_wait_any(ops, 2, dl);

	return ret == 1 ? (int)ops[1].result : ret < 0 ? ret : -EBADMSG;
}

static ssize_t select_recv(ksync_queue_t *q, void *buf, size_t len, const struct timespec *dl)
{
	struct ksync_op ops[2] = {
		{ .kind = KSYNC_OP_FD, .fd = never_fd },
		{ .kind = KSYNC_OP_RECV, .queue = q, .buf = buf, .len = len },
	};
	int ret = ksync_wait_any(ops, 2, dl);

	return ret == 1 ? ops[1].result : ret < 0 ? ret : -EBADMSG;
}

static int sem_user(struct world *w, int undo, int slot, uint64_t x)
{
	atomic_int own, *state = undo ? &own : &w->b->plain[slot];
	ksync_sem_t *s;

	/* UNDO belongs to an open file: each process opens its own */
	if (ksync_sem_open(&s, w->sem_name[undo ? 0 : 1], undo ? KSYNC_UNDO : 0, 0, 0))
		return 10;
	while (!atomic_load(&w->b->stop)) {
		unsigned int n = 1 + rnd_below(&x, MOST_PER_ACQUIRE);
		struct timespec dl = in_ms(50);
		int ret;

		atomic_store(state, SEM_STATE(ACQUIRING, n));
		ret = rnd_one_in(&x, 2) ? select_acquire(s, n, &dl) : ksync_sem_acquire(s, n, &dl);
		if (ret == -ETIMEDOUT)
			continue;
		if (ret)
			return 11;
		atomic_store(state, SEM_STATE(HOLDING, n));
		atomic_fetch_add(&w->b->acquired[undo ? 0 : 1], 1);
		if (rnd_one_in(&x, 2))
			pause_us(rnd_below(&x, 300));
		atomic_store(state, SEM_STATE(RELEASING, n));
		if (ksync_sem_release(s, n))
			return 12;
		atomic_store(state, SEM_STATE(IDLE, 0));
	}
	return 0;
}

/*
 * Take the token (an auto event's set), hold it a moment, set the event
 * again, until told to stop.  It says what it is doing in the board, and
 * that it holds the token, then looks whether anyone else does (each
 * says so before it looks: of two holders, one sees the other).
 */
static int event_user(struct world *w, int slot, uint64_t x)
{
	struct board *b = w->b;

	while (!atomic_load(&b->stop)) {
		struct timespec dl = in_ms(20);
		int ret;

		atomic_store(&b->ev_state[slot], SEM_STATE(ACQUIRING, 1));
		ret = rnd_one_in(&x, 2) ? select_event(w->ev, &dl) : ksync_event_wait(w->ev, &dl);
		if (ret == -ETIMEDOUT)
			continue;
		if (ret)
			return 30;
		atomic_store(&b->ev_holds[slot], 1);
		atomic_store(&b->ev_state[slot], SEM_STATE(HOLDING, 1));
		atomic_fetch_add(&b->ev_passes, 1);
		for (int i = 0; i < EVENT_USERS; i++)
			if (i != slot && atomic_load(&b->ev_holds[i]))
				atomic_fetch_add(&b->ev_twice, 1);
		if (rnd_one_in(&x, 2))
			pause_us(rnd_below(&x, 300));
		atomic_store(&b->ev_state[slot], SEM_STATE(RELEASING, 1));
		atomic_store(&b->ev_holds[slot], 0);
		if (ksync_event_set(w->ev))
			return 31;
		atomic_store(&b->ev_state[slot], SEM_STATE(IDLE, 0));
	}
	return 0;
}

/*
 * Rounds until told to stop.  A party killed breaks the round (-EPIPE);
 * the party in slot 0 resets the barrier, the others wait for that.  No
 * deadline: a death that did not break the round would hang us, and the
 * test would see it.
 */
static int party(struct world *w, int slot)
{
	while (!atomic_load(&w->b->stop)) {
		int ret = ksync_barrier_wait(w->bar, NULL);

		if (ret == 0 || ret == 1) {
			atomic_fetch_add(&w->b->rounds, 1);
			continue;
		}
		if (ret != -EPIPE)
			return 20;
		atomic_fetch_add(&w->b->broken, 1);
		if (slot == 0 && ksync_barrier_reset(w->bar))
			return 21;
		if (slot != 0)
			pause_us(500);
	}
	return 0;
}

static int producer(struct qbook *s, ksync_queue_t *q, uint32_t id)
{
	for (uint32_t seq = 0; seq < PER; seq++) {
		struct qmsg m = { id, seq };
		struct timespec dl = in_ms(30000);
		int ret;

		atomic_store(&s->attempt[id], seq + 1);
		ret = ksync_queue_send(q, &m, sizeof(m), &dl);
		if (ret)
			return ret == -EPIPE ? 0 : 30;
		atomic_store(&s->sent[id], seq + 1);
		atomic_store(&s->attempt[id], 0);
	}
	pause(); /* done: wait to be killed, still a sender */
	return 0;
}

/* Record that consumer cid got m; a second consumer is a duplicate. */
static void take(struct qbook *s, const struct qmsg *m, uint32_t cid)
{
	uint32_t none = 0;

	if (m->sender >= MAXP || m->seq >= PER)
		return;
	if (!atomic_compare_exchange_strong(&s->owner[m->sender][m->seq], &none, cid) &&
	    none != cid) {
		uint32_t i = atomic_fetch_add(&s->dups, 1);

		if (i < 4) {
			s->dup[i].sender = m->sender;
			s->dup[i].seq = m->seq;
			s->dup[i].first = none;
			s->dup[i].second = cid;
		}
	}
}

static int consumer(struct qbook *s, ksync_queue_t *q, int slot, uint32_t cid)
{
	uint32_t last[MAXP];

	memset(last, 0xff, sizeof(last));
	for (;;) {
		struct timespec dl = in_ms(60000);
		ssize_t n;

		s->buf[slot].sender = NONE;
		if (cid % 2)
			n = select_recv(q, &s->buf[slot], sizeof(s->buf[slot]), &dl);
		else
			n = ksync_queue_recv(q, &s->buf[slot], sizeof(s->buf[slot]), &dl);
		if (n == -EPIPE)
			return 0;
		if (n != sizeof(struct qmsg))
			return 40;
		struct qmsg m = s->buf[slot];

		if (m.sender >= MAXP)
			return 41;
		if (last[m.sender] != NONE && m.seq <= last[m.sender])
			atomic_fetch_add(&s->disorder, 1);
		last[m.sender] = m.seq;
		take(s, &m, cid);
	}
}

static void start(struct world *w, struct proc *p)
{
	uint64_t x = w->seed ^ ((uint64_t)p->role << 32) ^ p->id ^ (uint64_t)now_ns();

	/*
	 * Its slot in the board is cleared here, not by the child: one killed
	 * before it ran a line would be charged what the slot held before, the
	 * last one's permits (given back twice) or a zeroed buffer (a message
	 * {0, 0} it never got).
	 */
	if (p->role == PLAIN)
		atomic_store(&w->b->plain[p->slot], SEM_STATE(IDLE, 0));
	else if (p->role == EVENT)
		atomic_store(&w->b->ev_state[p->slot], SEM_STATE(IDLE, 0));
	else if (p->role == CONSUMER)
		w->b->q[p->q].buf[p->slot].sender = NONE;
	p->pid = fork();
	if (p->pid)
		return;
	/* as with a pipe, only the writers keep the write end: or no end comes */
	if (p->role != PRODUCER) {
		ksync_queue_close(w->q[0]);
		ksync_queue_close(w->q[1]);
	}
	switch (p->role) {
	case UNDO:
	case PLAIN:
		_exit(sem_user(w, p->role == UNDO, p->slot, x ? x : 1));
	case BARRIER:
		_exit(party(w, p->slot));
	case EVENT:
		_exit(event_user(w, p->slot, x ? x : 1));
	case PRODUCER:
		_exit(producer(&w->b->q[p->q], w->q[p->q], p->id));
	default:
		_exit(consumer(&w->b->q[p->q], w->rq[p->q], p->slot, p->id));
	}
}

/* Check one queue's books: what was lost, duplicated, reordered. */
static int audit(struct __test_metadata *_metadata, struct qbook *s, uint32_t producers, int kernel,
		 int consumer_kills)
{
	uint32_t lost = 0, ambiguous = 0, total = 0;

	for (uint32_t id = 0; id < producers; id++) {
		uint32_t sent = atomic_load(&s->sent[id]);
		uint32_t attempt = atomic_load(&s->attempt[id]);

		total += sent;

		for (uint32_t seq = 0; seq < PER; seq++) {
			int got = atomic_load(&s->owner[id][seq]) != 0;

			if (seq < sent) {
				lost += !got;
			} else if (attempt && seq == attempt - 1) {
				ambiguous += got;
			} else if (got) {
				TH_LOG("sender %u seq %u was never sent", id, seq);
				return -1;
			}
		}
	}
	TH_LOG("queue %s: %u producers sent %u, %d consumers killed, %u lost, %u in flight"
	       " delivered, %u duplicates, %u out of order",
	       kernel ? "kernel-only" : "on the ring", producers, total, consumer_kills, lost,
	       ambiguous, atomic_load(&s->dups), atomic_load(&s->disorder));
	for (uint32_t i = 0; i < 4 && i < atomic_load(&s->dups); i++)
		TH_LOG("sender %u seq %u went to consumer %u, then to %u", s->dup[i].sender,
		       s->dup[i].seq, s->dup[i].first, s->dup[i].second);
	/* (nothing sent would make every check pass) */
	if (!total || atomic_load(&s->dups) || atomic_load(&s->disorder))
		return -1;
	return kernel ? (lost ? -1 : 0) : ((int)lost > consumer_kills ? -1 : 0);
}

FIXTURE(storm)
{
	struct world w;
	struct proc p[3 + 2 + PARTIES + 2 * (PRODUCERS + CONSUMERS) + EVENT_USERS];
	int n;
};

FIXTURE_SETUP(storm)
{
	struct ksync_queue_join j = { .size = sizeof(j) };
	struct world *w = &self->w;
	ksync_queue_t *creator;
	char qname[64];

	w->b = mmap(NULL, sizeof(*w->b), PROT_READ | PROT_WRITE, MAP_SHARED | MAP_ANONYMOUS, -1, 0);
	ASSERT_NE(MAP_FAILED, w->b);
	for (int i = 0; i < 2; i++) {
		ksync_sem_t *s;

		snprintf(w->sem_name[i], sizeof(w->sem_name[i]), "%s", test_name("storm-sem"));
		ASSERT_EQ(0, ksync_sem_open(&s, w->sem_name[i], KSYNC_CREATE | KSYNC_EXCL, 0600,
					    PERMITS));
		ksync_sem_close(s); /* the name keeps it */
	}
	ASSERT_EQ(0, ksync_barrier_open(&w->bar, NULL, 0, 0600, PARTIES));
	ASSERT_EQ(0, ksync_event_open(&w->ev, NULL, KSYNC_EVENT_AUTO, 0600, 1));
	for (int k = 0; k < 2; k++) {
		snprintf(qname, sizeof(qname), "%s", test_name("storm-q"));
		ASSERT_EQ(0, ksync_queue_open(&creator, qname, KSYNC_CREATE, 0600, 16,
					      sizeof(struct qmsg)));
		ASSERT_EQ(0,
			  ksync_queue_open(&w->q[k], qname, k ? KSYNC_QUEUE_KERNEL : 0, 0, 0, 0));
		ASSERT_EQ(0, ksync_unlink(qname));
		ASSERT_EQ(0, ksync_queue_close(creator));
		/* we hold the input open until the storm is over: no early EOF */
		j.token = 0;
		ASSERT_EQ(0, ioctl(ksync_queue_fd(w->q[k]), KSYNC_IOC_QUEUE_JOIN, &j));
		ASSERT_EQ(0, ksync_queue_reopen(&w->rq[k], w->q[k], KSYNC_QUEUE_RECV));
	}
}

FIXTURE_TEARDOWN(storm)
{
	for (int i = 0; i < self->n; i++)
		if (self->p[i].pid > 0)
			wait_child(self->p[i].pid, 0);
	ksync_unlink(self->w.sem_name[0]);
	ksync_unlink(self->w.sem_name[1]);
	munmap(self->w.b, sizeof(*self->w.b));
}

static void add(FIXTURE_DATA(storm) * self, enum role role, int q, int slot, uint32_t id)
{
	struct proc *p = &self->p[self->n++];

	p->role = role;
	p->q = q;
	p->slot = slot;
	p->id = id;
	start(&self->w, p);
}

TEST_F_TIMEOUT(storm, every_type_at_once, 86400)
{
	struct world *w = &self->w;
	struct board *b = w->b;
	long seconds = env_long("KSYNC_STORM_SECONDS", 4);
	int64_t end = now_ns() + seconds * 1000000000LL;
	uint32_t next_id[2] = { 0, 0 }, next_cid = 1;
	int kills[ROLES] = { 0 }, consumer_kills[2] = { 0, 0 }, total = 0;
	int lost_min = 0, in_doubt = 0, lost, ev_lost = 0, ev_doubt = 0;
	struct ksync_who_args who = { .size = sizeof(who) };
	struct ksync_barrier_stats bst;
	ksync_sem_t *s, *plain;
	uint64_t x;
	int i, code;

	w->seed = rnd_seed("KSYNC_STORM_SEED");
	x = w->seed;
	never_fd = eventfd(0, EFD_CLOEXEC);
	ASSERT_LE(0, never_fd);
	TH_LOG("seed %llu (KSYNC_STORM_SEED replays the killer's choices), %ld s",
	       (unsigned long long)w->seed, seconds);
	/* the harness's own timeout is a day (long runs): a hang ends here */
	alarm((unsigned int)seconds + 600);
	for (i = 0; i < 3; i++)
		add(self, UNDO, 0, i, (uint32_t)i);
	for (i = 0; i < 2; i++)
		add(self, PLAIN, 0, i, (uint32_t)i);
	for (i = 0; i < PARTIES; i++)
		add(self, BARRIER, 0, i, (uint32_t)i);
	for (i = 0; i < EVENT_USERS; i++)
		add(self, EVENT, 0, i, (uint32_t)i);
	for (int k = 0; k < 2; k++) {
		for (i = 0; i < CONSUMERS; i++)
			add(self, CONSUMER, k, i, next_cid++);
		for (i = 0; i < PRODUCERS; i++)
			add(self, PRODUCER, k, i, next_id[k]++);
	}
	for (i = 0; i < self->n; i++)
		ASSERT_LT(0, self->p[i].pid);
	/* the killer's handle on the plain semaphore */
	ASSERT_EQ(0, ksync_sem_open(&plain, w->sem_name[1], 0, 0, 0));

	while (now_ns() < end) {
		struct proc *p = &self->p[rnd_below(&x, (uint32_t)self->n)];

		pause_us(rnd_below(&x, 10000));
		if (p->role == PRODUCER && next_id[p->q] >= MAXP)
			continue;
		kill(p->pid, SIGKILL);
		code = wait_child(p->pid, 30000);
		/* anything but SIGKILL: the process failed (its code says where) */
		ASSERT_EQ(128 + SIGKILL, code)
		{
			TH_LOG("a %s exited %d", role_names[p->role], code);
		}
		kills[p->role]++;
		total++;
		if (p->role == PLAIN) {
			int st = atomic_load(&b->plain[p->slot]);

			/* held: lost for sure, and given back so that it goes on */
			if (st >> 8 == HOLDING) {
				lost_min += st & 0xff;
				ASSERT_EQ(0, ksync_sem_release(plain, (unsigned int)(st & 0xff)));
			} else if (st >> 8 != IDLE) {
				/* taken or not, given back or not: one or the other */
				in_doubt += st & 0xff;
			}
		} else if (p->role == EVENT) {
			int st = atomic_load(&b->ev_state[p->slot]) >> 8;
			int held = atomic_exchange(&b->ev_holds[p->slot], 0);

			/*
			 * It held the token (its set comes after it says
			 * RELEASING): the killer sets the event for it.  Asleep
			 * in its wait, it passed a set on; returned from it, or
			 * in its set, the token may be gone: in doubt.
			 */
			if (held || st == HOLDING) {
				ev_lost++;
				ASSERT_EQ(0, ksync_event_set(w->ev));
			} else if (st != IDLE) {
				ev_doubt++;
			}
		} else if (p->role == PRODUCER) {
			p->id = next_id[p->q]++;
		} else if (p->role == CONSUMER) {
			struct qbook *s = &b->q[p->q];

			consumer_kills[p->q]++;
			/*
			 * What the kernel delivered to it before it died.  (A
			 * receiver on the ring copies before it takes, so its
			 * buffer may hold a message another one took.)
			 */
			if (p->q == 1 && s->buf[p->slot].sender != NONE)
				take(s, &s->buf[p->slot], p->id);
			p->id = next_cid++;
		}
		start(w, p);
		ASSERT_LT(0, p->pid);
	}

	/* the end: producers die, the rest are told to stop and must */
	atomic_store(&b->stop, 1);
	for (i = 0; i < self->n; i++) {
		if (self->p[i].role != PRODUCER)
			continue;
		kill(self->p[i].pid, SIGKILL);
		ASSERT_EQ(128 + SIGKILL, wait_child(self->p[i].pid, 30000));
		self->p[i].pid = 0;
	}
	ASSERT_EQ(0, ksync_queue_close(w->q[0]));
	ASSERT_EQ(0, ksync_queue_close(w->q[1]));
	ASSERT_EQ(0, ksync_queue_close(w->rq[0]));
	ASSERT_EQ(0, ksync_queue_close(w->rq[1]));
	/*
	 * A party that saw no stop yet may arrive in a round the others,
	 * stopping between rounds, will never complete: break the rounds
	 * until every party is gone (a minute at most: a hang is forever).
	 */
	for (int64_t give_up = now_ns() + 60000000000LL; now_ns() < give_up;) {
		int left = 0;

		for (i = 0; i < self->n; i++) {
			if (self->p[i].role != BARRIER || !self->p[i].pid)
				continue;
			if (waitpid(self->p[i].pid, &code, WNOHANG) == self->p[i].pid) {
				ASSERT_TRUE(WIFEXITED(code) && WEXITSTATUS(code) == 0);
				self->p[i].pid = 0;
			} else {
				left++;
			}
		}
		if (!left)
			break;
		ASSERT_EQ(0, ksync_barrier_reset(w->bar));
		pause_us(2000);
	}
	for (i = 0; i < self->n; i++) {
		if (!self->p[i].pid)
			continue;
		/* a minute: the debug kernel is slow, a hang is forever */
		ASSERT_EQ(0, wait_child(self->p[i].pid, 60000))
		{
			TH_LOG("a %s did not stop cleanly", role_names[self->p[i].role]);
		}
		self->p[i].pid = 0;
	}

	TH_LOG("%d processes killed: %d UNDO, %d plain, %d parties, %d producers, %d consumers, "
	       "%d event users",
	       total, kills[UNDO], kills[PLAIN], kills[BARRIER], kills[PRODUCER], kills[CONSUMER],
	       kills[EVENT]);
	TH_LOG("%ld UNDO and %ld plain acquires, %ld barrier rounds passed and %ld broken",
	       (long)b->acquired[0], (long)b->acquired[1], (long)b->rounds, (long)b->broken);

	/* UNDO: every permit back, no holder left */
	ASSERT_EQ(0, ksync_sem_open(&s, w->sem_name[0], 0, 0, 0));
	ASSERT_EQ(PERMITS, ksync_sem_value(s));
	ASSERT_EQ(0, ioctl(ksync_sem_fd(s), KSYNC_IOC_WHO, &who));
	ksync_sem_close(s);
	/*
	 * plain: nothing made up, nothing lost but what the dead held (given
	 * back by the killer) or may have held (taken or given back as they
	 * died)
	 */
	/* (what the killer gave back is exactly what it knew lost) */
	lost = PERMITS + lost_min - ksync_sem_value(plain);
	TH_LOG("plain semaphore: %d permits lost with the dead, %d of them held for sure"
	       " (the killer gave those back), %d in doubt",
	       lost, lost_min, in_doubt);
	ASSERT_LE(lost_min, lost);
	ASSERT_LE(lost, lost_min + in_doubt);
	ksync_sem_close(plain);
	/* every part was exercised, and the barrier still works */
	ASSERT_LT(0, (long)b->acquired[0]);
	ASSERT_LT(0, (long)b->acquired[1]);
	ASSERT_LT(0, (long)b->rounds);
	ASSERT_EQ(0, ksync_barrier_stats(w->bar, &bst));
	ASSERT_EQ(0, (int)bst.sleepers);
	ASSERT_EQ(0, ksync_barrier_reset(w->bar));
	ksync_barrier_close(w->bar);
	/* the event: one token, never two holders, lost only with a death in doubt */
	TH_LOG("event: %ld tokens taken, %d holders killed, %d killed in doubt, set: %d",
	       (long)b->ev_passes, ev_lost, ev_doubt, ksync_event_is_set(w->ev));
	ASSERT_EQ(0, (long)b->ev_twice);
	ASSERT_LT(0, (long)b->ev_passes);
	if (!ev_doubt)
		ASSERT_EQ(1, ksync_event_is_set(w->ev));
	ksync_event_close(w->ev);
	/* the queues' books */
	ASSERT_EQ(0, audit(_metadata, &b->q[0], next_id[0], 0, consumer_kills[0]));
	ASSERT_EQ(0, audit(_metadata, &b->q[1], next_id[1], 1, consumer_kills[1]));
}

TEST_HARNESS_MAIN
