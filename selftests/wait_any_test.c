// SPDX-License-Identifier: GPL-2.0
/*
 * ksync_wait_any(): exactly one operation completes, the lowest index
 * that can, and every other is left as it was; a blocked select is handed
 * a permit, a message, an event's set or a readable fd; an auto event's
 * set goes to exactly one wait, and only to an op that completes;
 * deadlines; bad calls change nothing.
 */
#include <stdatomic.h>
#include <sys/eventfd.h>
#include <sys/mman.h>

#include "common.h"
#include "kselftest_harness.h"

#define DEADLINE_MS 10000

static struct ksync_op acquire(ksync_sem_t *s, unsigned int n)
{
	return (struct ksync_op){ .kind = KSYNC_OP_ACQUIRE, .sem = s, .n = n };
}

static struct ksync_op recv_op(ksync_queue_t *q, void *buf, size_t len)
{
	return (struct ksync_op){ .kind = KSYNC_OP_RECV, .queue = q, .buf = buf, .len = len };
}

static struct ksync_op send_op(ksync_queue_t *q, const void *msg, size_t len)
{
	return (struct ksync_op){
		.kind = KSYNC_OP_SEND, .queue = q, .buf = (void *)msg, .len = len
	};
}

static struct ksync_op fd_op(int fd)
{
	return (struct ksync_op){ .kind = KSYNC_OP_FD, .fd = fd };
}

static struct ksync_op event_op(ksync_event_t *e)
{
	return (struct ksync_op){ .kind = KSYNC_OP_EVENT, .event = e };
}

FIXTURE(any)
{
	ksync_sem_t *a, *b;
	ksync_queue_t *q;
};

FIXTURE_SETUP(any)
{
	ASSERT_EQ(0, ksync_sem_open(&self->a, NULL, 0, 0600, 0));
	ASSERT_EQ(0, ksync_sem_open(&self->b, NULL, 0, 0600, 0));
	ASSERT_EQ(0, ksync_queue_open(&self->q, NULL, 0, 0600, 4, 64));
}

FIXTURE_TEARDOWN(any)
{
	ksync_sem_close(self->a);
	ksync_sem_close(self->b);
	ksync_queue_close(self->q);
}

/* Both could complete: index 0 does, and b keeps its permit. */
TEST_F(any, lowest_ready_index_wins_and_the_other_is_untouched)
{
	struct ksync_op ops[2] = { acquire(self->a, 1), acquire(self->b, 1) };
	struct timespec dl = ksync_deadline_ms(DEADLINE_MS);

	ASSERT_EQ(0, ksync_sem_release(self->a, 1));
	ASSERT_EQ(0, ksync_sem_release(self->b, 1));
	ASSERT_EQ(0, ksync_wait_any(ops, 2, &dl));
	ASSERT_EQ(0, ops[0].result);
	ASSERT_EQ(0, ksync_sem_value(self->a));
	ASSERT_EQ(1, ksync_sem_value(self->b));
	/* a is empty now: b's permit */
	ASSERT_EQ(1, ksync_wait_any(ops, 2, &dl));
	ASSERT_EQ(0, ksync_sem_value(self->b));
}

/* The same, decided in the module: an FD first makes the library ask it. */
TEST_F(any, lowest_ready_index_wins_in_the_module)
{
	int efd = eventfd(0, EFD_CLOEXEC);
	struct ksync_op ops[3] = { fd_op(efd), acquire(self->a, 1), acquire(self->b, 1) };
	struct timespec dl = ksync_deadline_ms(DEADLINE_MS);

	ASSERT_LE(0, efd);
	ASSERT_EQ(0, ksync_sem_release(self->a, 1));
	ASSERT_EQ(0, ksync_sem_release(self->b, 1));
	ASSERT_EQ(1, ksync_wait_any(ops, 3, &dl));
	ASSERT_EQ(0, ksync_sem_value(self->a));
	ASSERT_EQ(1, ksync_sem_value(self->b));
	ASSERT_EQ(2, ksync_wait_any(ops, 3, &dl));
	ASSERT_EQ(0, ksync_sem_value(self->b));
	close(efd);
}

struct later {
	ksync_sem_t *s;
	ksync_queue_t *q;
	int efd;
	int sleepers_on; /* wait for this many on s first (sem_waiters) */
};

/* A child that gives one thing once the parent sleeps in the select. */
static int give_later(void *arg, pid_t parent)
{
	struct later *l = arg;
	uint64_t one = 1;

	if (!wait_sleeping(parent, DEADLINE_MS))
		return 10;
	if (l->s && !wait_waiters(l->s, l->sleepers_on, DEADLINE_MS))
		return 11;
	if (l->s)
		return ksync_sem_release(l->s, 1) ? 12 : 0;
	if (l->q)
		return ksync_queue_send(l->q, "hello", 5, NULL) ? 13 : 0;
	return write(l->efd, &one, sizeof(one)) == sizeof(one) ? 0 : 14;
}

static pid_t spawn_giver(struct later *l)
{
	pid_t parent = getpid(), pid = fork();

	if (pid == 0)
		_exit(give_later(l, parent));
	return pid;
}

/* Asleep on two semaphores: b's release goes to it, and a is left alone. */
TEST_F(any, blocked_select_is_handed_a_permit)
{
	struct ksync_op ops[2] = { acquire(self->a, 1), acquire(self->b, 1) };
	struct timespec dl = ksync_deadline_ms(DEADLINE_MS);
	struct later l = { .s = self->b, .sleepers_on = 1 };
	pid_t pid = spawn_giver(&l);

	ASSERT_LT(0, pid);
	ASSERT_EQ(1, ksync_wait_any(ops, 2, &dl));
	ASSERT_EQ(0, wait_child(pid, DEADLINE_MS));
	ASSERT_EQ(0, ksync_sem_value(self->b));
	/* it left a's line as well */
	ASSERT_EQ(0, sem_waiters(self->a));
	ASSERT_EQ(0, sem_waiters(self->b));
	ASSERT_EQ(0, ksync_sem_release(self->a, 1));
	ASSERT_EQ(1, ksync_sem_value(self->a));
}

/* A message for a select over a semaphore and the queue. */
TEST_F(any, blocked_select_is_handed_a_message)
{
	char buf[64] = "";
	struct ksync_op ops[2] = { acquire(self->a, 1), recv_op(self->q, buf, sizeof(buf)) };
	struct timespec dl = ksync_deadline_ms(DEADLINE_MS);
	struct later l = { .q = self->q };
	pid_t pid = spawn_giver(&l);

	ASSERT_LT(0, pid);
	ASSERT_EQ(1, ksync_wait_any(ops, 2, &dl));
	ASSERT_EQ(5, ops[1].result);
	ASSERT_EQ(0, memcmp(buf, "hello", 5));
	ASSERT_EQ(0, wait_child(pid, DEADLINE_MS));
	ASSERT_EQ(0, (int)ksync_queue_len(self->q));
	ASSERT_EQ(0, sem_waiters(self->a));
}

/* A readable fd ends the wait and is left readable: nothing is taken. */
TEST_F(any, readable_fd_ends_the_wait_and_keeps_its_data)
{
	int efd = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
	struct ksync_op ops[2] = { acquire(self->a, 1), fd_op(efd) };
	struct timespec dl = ksync_deadline_ms(DEADLINE_MS);
	struct later l = { .efd = efd };
	uint64_t v = 0;
	pid_t pid;

	ASSERT_LE(0, efd);
	pid = spawn_giver(&l);
	ASSERT_LT(0, pid);
	ASSERT_EQ(1, ksync_wait_any(ops, 2, &dl));
	ASSERT_EQ(0, ops[1].result);
	ASSERT_EQ(0, wait_child(pid, DEADLINE_MS));
	ASSERT_EQ((ssize_t)sizeof(v), read(efd, &v, sizeof(v)));
	ASSERT_EQ(1u, v);
	ASSERT_EQ(0, sem_waiters(self->a));
	close(efd);
}

/*
 * A set manual event completes at once, on the page alone (the module
 * counts no wait), and stays set: a manual event is never consumed.  The
 * same decided in the module, behind an FD.
 */
TEST_F(any, a_set_manual_event_completes_at_once)
{
	int efd = eventfd(0, EFD_CLOEXEC);
	struct timespec past = ksync_deadline_ms(0);
	struct ksync_op ops[3];
	ksync_event_t *e;

	ASSERT_LE(0, efd);
	ASSERT_EQ(0, ksync_event_open(&e, NULL, 0, 0600, 1));
	ops[0] = acquire(self->a, 1);
	ops[1] = event_op(e);
	ops[1].result = 99;
	ASSERT_EQ(1, ksync_wait_any(ops, 2, &past));
	ASSERT_EQ(0, ops[1].result);
	ASSERT_EQ(0ULL, ev_stats(e).wait_calls);
	ASSERT_EQ(1, ksync_event_is_set(e));
	ASSERT_EQ(0, sem_waiters(self->a));
	ops[0] = fd_op(efd);
	ops[1] = acquire(self->a, 1);
	ops[2] = event_op(e);
	ASSERT_EQ(2, ksync_wait_any(ops, 3, &past));
	ASSERT_EQ(0, ops[2].result);
	ASSERT_EQ(1, ksync_event_is_set(e));
	ASSERT_EQ(0, sem_waiters(self->a));
	/* reset, the same selects find nothing */
	ASSERT_EQ(0, ksync_event_reset(e));
	ASSERT_EQ(-ETIMEDOUT, ksync_wait_any(ops, 3, &past));
	ASSERT_EQ(-ETIMEDOUT, ksync_wait_any(&ops[1], 2, &past));
	ASSERT_EQ(0, ksync_event_close(e));
	close(efd);
}

struct setter {
	ksync_event_t *e;
	ksync_sem_t *s; /* the select sleeps on it too */
};

/* A child that sets e once the parent sleeps on s and e. */
static int set_later(void *arg, pid_t parent)
{
	struct setter *st = arg;

	if (!wait_sleeping(parent, DEADLINE_MS))
		return 10;
	if (!wait_waiters(st->s, 1, DEADLINE_MS) || !wait_ev_waiters(st->e, 1, DEADLINE_MS))
		return 11;
	return ksync_event_set(st->e) ? 12 : 0;
}

/*
 * The cancel idiom: a worker waits for a permit or for "stop", an event
 * another process sets.  The set ends the select with the event's index;
 * the semaphore is left as it was (its permit, its line), for a manual
 * and for an auto event.
 */
TEST_F(any, an_event_set_elsewhere_cancels_a_blocked_select)
{
	for (int autoreset = 0; autoreset < 2; autoreset++) {
		struct timespec dl = ksync_deadline_ms(DEADLINE_MS);
		struct setter st = { .s = self->a };
		struct ksync_op ops[2];
		pid_t pid;

		/* one permit, too few for the select's 2 */
		ASSERT_EQ(0, ksync_sem_release(self->a, 1));
		ASSERT_EQ(0,
			  ksync_event_open(&st.e, NULL, autoreset ? KSYNC_EVENT_AUTO : 0, 0600, 0));
		ops[0] = acquire(self->a, 2);
		ops[1] = event_op(st.e);
		pid = fork();
		ASSERT_LE(0, pid);
		if (pid == 0)
			_exit(set_later(&st, getppid()));
		ASSERT_EQ(1, ksync_wait_any(ops, 2, &dl)) TH_LOG("auto %d", autoreset);
		ASSERT_EQ(0, ops[1].result);
		ASSERT_EQ(0, wait_child(pid, DEADLINE_MS));
		ASSERT_EQ(1, ksync_sem_value(self->a));
		ASSERT_EQ(0, sem_waiters(self->a));
		ASSERT_EQ(0U, ev_stats(st.e).waiters);
		/* a manual set stays; an auto set was the select's */
		ASSERT_EQ(!autoreset, ksync_event_is_set(st.e));
		ASSERT_EQ(0, ksync_sem_try_acquire(self->a, 1));
		ASSERT_EQ(0, ksync_event_close(st.e));
	}
}

/*
 * An auto event's set is consumed only by an op that completes.  Ready at
 * once, lowest index first: the semaphore's permit wins, in the library
 * and in the module, and the event stays set.  Asleep: a release claims
 * the select first, then a set arrives while its event entry may still
 * be linked; the set must stay on the event, not go to the select.
 * (wait_any_order_test holds that window open for certain.)
 */
TEST_F(any, an_auto_event_another_op_wins_is_not_consumed)
{
	int efd = eventfd(0, EFD_CLOEXEC);
	struct timespec dl = ksync_deadline_ms(DEADLINE_MS);
	struct timespec past = ksync_deadline_ms(0);
	struct ksync_op ops[3];
	ksync_event_t *e;
	pid_t pid;

	ASSERT_LE(0, efd);
	ASSERT_EQ(0, ksync_event_open(&e, NULL, KSYNC_EVENT_AUTO, 0600, 1));
	ASSERT_EQ(0, ksync_sem_release(self->a, 2));
	ops[0] = acquire(self->a, 1);
	ops[1] = event_op(e);
	ASSERT_EQ(0, ksync_wait_any(ops, 2, &past));
	ASSERT_EQ(1, ksync_event_is_set(e));
	ops[0] = fd_op(efd);
	ops[1] = acquire(self->a, 1);
	ops[2] = event_op(e);
	ASSERT_EQ(1, ksync_wait_any(ops, 3, &past));
	ASSERT_EQ(1, ksync_event_is_set(e));
	ASSERT_EQ(0, ksync_sem_value(self->a));
	/* asleep on both: a release, then a set */
	ASSERT_EQ(0, ksync_event_reset(e));
	pid = fork();
	ASSERT_LE(0, pid);
	if (pid == 0) {
		if (!wait_waiters(self->a, 1, DEADLINE_MS) || !wait_ev_waiters(e, 1, DEADLINE_MS))
			_exit(10);
		if (ksync_sem_release(self->a, 1))
			_exit(11);
		_exit(ksync_event_set(e) ? 12 : 0);
	}
	ASSERT_EQ(1, ksync_wait_any(ops, 3, &dl));
	ASSERT_EQ(0, wait_child(pid, DEADLINE_MS));
	ASSERT_EQ(0, ksync_sem_value(self->a));
	ASSERT_EQ(1, ksync_event_is_set(e));
	ASSERT_EQ(0U, ev_stats(e).waiters);
	ASSERT_EQ(0ULL, ev_stats(e).woken);
	ASSERT_EQ(0, ksync_event_close(e));
	close(efd);
}

/* A select over a semaphore and e, or a plain wait on e; exit 0 when e let it pass. */
static pid_t event_sleeper(ksync_sem_t *s, ksync_event_t *e, int plain)
{
	pid_t pid = fork();

	if (pid == 0) {
		struct timespec dl = ksync_deadline_ms(DEADLINE_MS);
		struct ksync_op ops[2] = { acquire(s, 1), event_op(e) };

		if (plain)
			_exit(ksync_event_wait(e, &dl) ? 10 : 0);
		_exit(ksync_wait_any(ops, 2, &dl) == 1 && !ops[1].result ? 0 : 11);
	}
	return pid;
}

/* The first of pids[0..n) to exit, within ms: its index, or -1. */
static int first_exit(pid_t *pids, int n, int *code, int ms)
{
	for (int64_t end = now_ns() + (int64_t)ms * 1000000; now_ns() < end; pause_us(500)) {
		for (int i = 0; i < n; i++) {
			int status;

			if (pids[i] > 0 && waitpid(pids[i], &status, WNOHANG) == pids[i]) {
				*code = WIFEXITED(status) ? WEXITSTATUS(status) : 128;
				pids[i] = 0;
				return i;
			}
		}
	}
	return -1;
}

/*
 * Two selects and one plain waiter asleep on an auto event: each set lets
 * exactly one of them pass (the count of sleepers drops by one, the set
 * state is taken), and the semaphore the selects also wait on is left
 * alone.  Three sets, three passes, whatever the order.
 */
TEST_F(any, an_auto_set_wakes_exactly_one_of_two_selects_and_a_waiter)
{
	ksync_event_t *e;
	pid_t pids[3];

	ASSERT_EQ(0, ksync_event_open(&e, NULL, KSYNC_EVENT_AUTO, 0600, 0));
	for (int i = 0; i < 3; i++) {
		pids[i] = event_sleeper(self->a, e, i == 1);
		ASSERT_LT(0, pids[i]);
		ASSERT_TRUE(wait_ev_waiters(e, (unsigned int)i + 1, DEADLINE_MS));
	}
	ASSERT_TRUE(wait_waiters(self->a, 2, DEADLINE_MS));
	for (int left = 3; left > 0; left--) {
		int code = -1;

		ASSERT_EQ(0, ksync_event_set(e));
		ASSERT_LE(0, first_exit(pids, 3, &code, DEADLINE_MS));
		ASSERT_EQ(0, code);
		/* the one that passed is gone; the others sleep on, unset */
		ASSERT_EQ((unsigned int)left - 1, ev_stats(e).waiters);
		ASSERT_EQ(0, ksync_event_is_set(e));
		ASSERT_EQ(0, ksync_sem_value(self->a));
	}
	ASSERT_EQ(3ULL, ev_stats(e).woken);
	ASSERT_EQ(0, sem_waiters(self->a));
	ASSERT_EQ(0, ksync_event_close(e));
}

/* Nothing comes: -ETIMEDOUT no earlier than the deadline, nothing taken. */
TEST_F(any, deadline)
{
	char buf[64];
	struct ksync_op ops[2] = { acquire(self->a, 1), recv_op(self->q, buf, sizeof(buf)) };
	struct timespec dl = ksync_deadline_ms(100);
	int64_t want = (int64_t)dl.tv_sec * 1000000000 + dl.tv_nsec;

	ASSERT_EQ(-ETIMEDOUT, ksync_wait_any(ops, 2, &dl));
	ASSERT_LE(want, now_ns());
	ASSERT_EQ(0, sem_waiters(self->a));
	/* a past deadline tries once */
	ASSERT_EQ(0, ksync_sem_release(self->a, 1));
	dl = ksync_deadline_ms(0);
	ASSERT_EQ(0, ksync_wait_any(ops, 2, &dl));
	ASSERT_EQ(-ETIMEDOUT, ksync_wait_any(ops, 2, &dl));
}

/* A SEND on a queue that was shut down completes at once with -EPIPE. */
TEST_F(any, send_on_a_shut_down_queue_completes_with_epipe)
{
	struct ksync_op ops[2] = { acquire(self->a, 1), send_op(self->q, "x", 1) };
	struct timespec dl = ksync_deadline_ms(DEADLINE_MS);

	ASSERT_EQ(0, ksync_queue_shutdown(self->q));
	ASSERT_EQ(1, ksync_wait_any(ops, 2, &dl));
	ASSERT_EQ(-EPIPE, ops[1].result);
}

/* Too small a buffer: the RECV completes with -EMSGSIZE, and the message stays. */
TEST_F(any, recv_into_too_small_a_buffer)
{
	int efd = eventfd(0, EFD_CLOEXEC);
	char small[2], buf[64];
	struct ksync_op ops[2] = { fd_op(efd), recv_op(self->q, small, sizeof(small)) };
	struct timespec dl = ksync_deadline_ms(DEADLINE_MS);

	ASSERT_LE(0, efd);
	ASSERT_EQ(0, ksync_queue_send(self->q, "hello", 5, NULL));
	ASSERT_EQ(1, ksync_wait_any(ops, 2, &dl));
	ASSERT_EQ(-EMSGSIZE, ops[1].result);
	ASSERT_EQ(5, ksync_queue_try_recv(self->q, buf, sizeof(buf)));
	close(efd);
}

/*
 * A SEND joins its handle to the senders as a plain send does: when the
 * handle closes, the input ends for the receiver (without the join it
 * would wait on, for a sender that never came).  And a handle that may
 * not send is refused.
 */
TEST_F(any, a_send_joins_the_senders)
{
	int efd = eventfd(0, EFD_CLOEXEC);
	struct ksync_op ops[2] = { fd_op(efd), send_op(self->q, "x", 1) };
	struct timespec dl = ksync_deadline_ms(DEADLINE_MS);
	ksync_queue_t *rd;
	char buf[64];

	ASSERT_LE(0, efd);
	ASSERT_EQ(0, ksync_queue_reopen(&rd, self->q, KSYNC_QUEUE_RECV));
	ASSERT_EQ(1, ksync_wait_any(ops, 2, &dl));
	ASSERT_EQ(0, ops[1].result);
	ops[1] = send_op(rd, "y", 1);
	ASSERT_EQ(-EBADF, ksync_wait_any(ops, 2, &dl));
	ASSERT_EQ(0, ksync_queue_close(self->q));
	self->q = NULL;
	ASSERT_EQ(1, ksync_queue_recv(rd, buf, sizeof(buf), &dl));
	ASSERT_EQ(-EPIPE, ksync_queue_recv(rd, buf, sizeof(buf), &dl));
	ksync_queue_close(rd);
	close(efd);
}

TEST_F(any, bad_calls_change_nothing)
{
	struct ksync_op ops[KSYNC_WAIT_MAX + 1];
	struct timespec dl = ksync_deadline_ms(DEADLINE_MS);
	ksync_barrier_t *bar;
	ksync_event_t *ev;
	ksync_sem_t *small;

	for (int i = 0; i <= KSYNC_WAIT_MAX; i++)
		ops[i] = acquire(self->a, 1);
	ASSERT_EQ(0, ksync_sem_release(self->b, 1));
	ASSERT_EQ(-EINVAL, ksync_wait_any(ops, 0, &dl));
	ASSERT_EQ(-EINVAL, ksync_wait_any(NULL, 1, &dl));
	ASSERT_EQ(-EINVAL, ksync_wait_any(ops, KSYNC_WAIT_MAX + 1, &dl));
	/* a named twice, b ready after it: refused, b keeps its permit */
	ops[2] = acquire(self->b, 1);
	ASSERT_EQ(-EINVAL, ksync_wait_any(ops, 3, &dl));
	ASSERT_EQ(1, ksync_sem_value(self->b));
	ops[0] = acquire(self->a, 0);
	ops[1] = acquire(self->b, 2);
	ASSERT_EQ(-EINVAL, ksync_wait_any(ops, 2, &dl));
	ASSERT_EQ(0, ksync_sem_open_max(&small, NULL, 0, 0600, 1, 1));
	ops[0] = acquire(small, 2);
	ASSERT_EQ(-ERANGE, ksync_wait_any(ops, 2, &dl));
	ASSERT_EQ(1, ksync_sem_value(small));
	ASSERT_EQ(0, ksync_barrier_open(&bar, NULL, 0, 0600, 2));
	ops[0] = (struct ksync_op){ .kind = KSYNC_OP_ACQUIRE, .sem = (ksync_sem_t *)bar, .n = 1 };
	ASSERT_EQ(-EINVAL, ksync_wait_any(ops, 2, &dl));
	ops[0] = fd_op(-1);
	ASSERT_EQ(-EBADF, ksync_wait_any(ops, 2, &dl));
	ops[0] = send_op(self->q, "x", 65);
	ASSERT_EQ(-EMSGSIZE, ksync_wait_any(ops, 2, &dl));
	ops[0] = (struct ksync_op){ .kind = 99 };
	ASSERT_EQ(-EINVAL, ksync_wait_any(ops, 2, &dl));
	/* an EVENT of a semaphore, an ACQUIRE of an event */
	ops[0] = (struct ksync_op){ .kind = KSYNC_OP_EVENT, .event = (ksync_event_t *)self->a };
	ASSERT_EQ(-EINVAL, ksync_wait_any(ops, 2, &dl));
	ASSERT_EQ(0, ksync_event_open(&ev, NULL, 0, 0600, 1));
	ops[0] = (struct ksync_op){ .kind = KSYNC_OP_ACQUIRE, .sem = (ksync_sem_t *)ev, .n = 1 };
	ASSERT_EQ(-EINVAL, ksync_wait_any(ops, 2, &dl));
	/* a set event named twice: refused, not completed */
	ops[0] = event_op(ev);
	ops[2] = event_op(ev);
	ASSERT_EQ(-EINVAL, ksync_wait_any(ops, 3, &dl));
	ksync_event_close(ev);
	ASSERT_EQ(1, ksync_sem_value(self->b));
	ASSERT_EQ(0, sem_waiters(self->b));
	ksync_barrier_close(bar);
	ksync_sem_close(small);
}

/*
 * Exactly once under races: selectors take from two queues, a semaphore
 * and an auto event while producers fill the queues, a releaser gives
 * permits and a setter sets the event (each set once taken: the next waits
 * for it); every message is received once, every permit and every set
 * taken once, counted at the end.  A shutdown of a third queue ends them
 * all: its receive completes with -EPIPE in every select.
 */
#define SELECTORS 4
#define PER_QUEUE 400
#define PERMITS 400
#define SETS 200

struct tally {
	_Atomic int got[2][PER_QUEUE];
	_Atomic int permits;
	_Atomic int sets;
};

static int selector(ksync_queue_t *q0, ksync_queue_t *q1, ksync_sem_t *s, ksync_event_t *tok,
		    ksync_queue_t *end, struct tally *t)
{
	uint32_t m0 = 0, m1 = 0, none;
	struct ksync_op ops[5] = {
		recv_op(q0, &m0, sizeof(m0)),
		recv_op(q1, &m1, sizeof(m1)),
		acquire(s, 1),
		event_op(tok),
		recv_op(end, &none, sizeof(none)),
	};

	for (;;) {
		struct timespec dl = ksync_deadline_ms(60000);
		int i = ksync_wait_any(ops, 5, &dl);

		if (i < 0)
			return 20;
		if (i == 4)
			return ops[4].result == -EPIPE ? 0 : 22;
		if (i == 3) {
			atomic_fetch_add(&t->sets, 1);
			continue;
		}
		if (i == 2) {
			atomic_fetch_add(&t->permits, 1);
			continue;
		}
		if (ops[i].result != sizeof(uint32_t))
			return 21;
		atomic_fetch_add(&t->got[i][i ? m1 : m0], 1);
	}
}

/* Set tok SETS times, each once the last set was taken. */
static int setter(ksync_event_t *tok)
{
	for (int n = 0; n < SETS; n++) {
		for (int64_t end = now_ns() + 60000000000LL; ksync_event_is_set(tok) == 1;) {
			if (now_ns() > end)
				return 33;
			pause_us(100);
		}
		if (ksync_event_set(tok))
			return 32;
	}
	return 0;
}

TEST(exactly_once_under_races)
{
	struct tally *t =
		mmap(NULL, sizeof(*t), PROT_READ | PROT_WRITE, MAP_SHARED | MAP_ANONYMOUS, -1, 0);
	ksync_queue_t *q[2], *end;
	ksync_event_t *tok;
	ksync_sem_t *s;
	pid_t pids[SELECTORS + 4];
	int n = 0;

	ASSERT_NE(MAP_FAILED, t);
	ASSERT_EQ(0, ksync_queue_open(&q[0], NULL, 0, 0600, 8, 4));
	ASSERT_EQ(0, ksync_queue_open(&q[1], NULL, 0, 0600, 8, 4));
	ASSERT_EQ(0, ksync_queue_open(&end, NULL, KSYNC_QUEUE_NOEOF, 0600, 1, 4));
	ASSERT_EQ(0, ksync_sem_open(&s, NULL, 0, 0600, 0));
	ASSERT_EQ(0, ksync_event_open(&tok, NULL, KSYNC_EVENT_AUTO, 0600, 0));
	for (int i = 0; i < SELECTORS; i++) {
		pids[n] = fork();
		if (pids[n] == 0)
			_exit(selector(q[0], q[1], s, tok, end, t));
		ASSERT_LT(0, pids[n++]);
	}
	for (int k = 0; k < 2; k++) {
		pids[n] = fork();
		if (pids[n] == 0) {
			for (uint32_t m = 0; m < PER_QUEUE; m++)
				if (ksync_queue_send(q[k], &m, sizeof(m), NULL))
					_exit(30);
			_exit(0);
		}
		ASSERT_LT(0, pids[n++]);
	}
	pids[n] = fork();
	if (pids[n] == 0) {
		for (int m = 0; m < PERMITS; m++)
			if (ksync_sem_release(s, 1))
				_exit(31);
		_exit(0);
	}
	ASSERT_LT(0, pids[n++]);
	pids[n] = fork();
	if (pids[n] == 0)
		_exit(setter(tok));
	ASSERT_LT(0, pids[n++]);
	/* the producers end, then everything is taken, then a shutdown stops the selectors */
	for (int i = SELECTORS; i < n; i++)
		ASSERT_EQ(0, wait_child(pids[i], 120000));
	for (int64_t end_ns = now_ns() + 120000000000LL;
	     ksync_queue_len(q[0]) || ksync_queue_len(q[1]) || ksync_sem_value(s) ||
	     ksync_event_is_set(tok);) {
		ASSERT_GT(end_ns, now_ns());
		pause_us(1000);
	}
	ASSERT_EQ(0, ksync_queue_shutdown(end));
	for (int i = 0; i < SELECTORS; i++)
		ASSERT_EQ(0, wait_child(pids[i], 120000));
	for (int k = 0; k < 2; k++) {
		for (int m = 0; m < PER_QUEUE; m++) {
			ASSERT_EQ(1, atomic_load(&t->got[k][m]))
			TH_LOG("queue %d message %d", k, m);
		}
	}
	ASSERT_EQ(PERMITS, atomic_load(&t->permits));
	ASSERT_EQ(SETS, atomic_load(&t->sets));
	ksync_queue_close(q[0]);
	ksync_queue_close(q[1]);
	ksync_queue_close(end);
	ksync_sem_close(s);
	ksync_event_close(tok);
	munmap(t, sizeof(*t));
}

TEST_HARNESS_MAIN
