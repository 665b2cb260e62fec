// SPDX-License-Identifier: GPL-2.0
/*
 * Cyclic barriers.
 *
 * The state is one 64-bit word in a page that every party maps (the layout
 * is in the uapi header): how many arrived in this round, the round's
 * number (its generation), and two bits that send every arrival here:
 * KWAKE while somebody sleeps or polls, BROKEN while the round is broken.
 * While both are clear, libksync arrives with one compare-and-swap and the
 * last party completes the round in userspace: nobody sleeps, so nobody
 * needs waking.  A party that must sleep comes here; under obj->lock we
 * set KWAKE before it sleeps, so from then on the last arrival comes here
 * too and wakes it.  That is the futex protocol, with one difference: the
 * completer's arrival and its wake-up are one system call, so a completer
 * cannot die between the two and leave sleepers waiting for a round that
 * is over.
 *
 * Rounds end by completing (the generation moves on by 1) or by breaking:
 * a deadline, a signal handler, a party's death, or a reset.  A broken
 * round stays broken, failing every arrival with -EPIPE, until a reset
 * starts a new round 2 generations on.  So a party that watches the word
 * knows that a step of exactly 1 is its round completing; anything else it
 * asks us, and we remember which rounds broke (the last BAR_BREAKS).
 *
 * A party is a process that joined through a file (KSYNC_IOC_BARRIER_JOIN,
 * which libksync calls before a process's first wait; party.c keeps the
 * list).  When the process no longer holds the file (it closed its last fd
 * of it, exec'd or exited: flush tells us), a round that others arrived in
 * breaks, unless the process had arrived in it too (ksync_barrier_arrive()
 * and then a close: its part of the round is done); and any round breaks
 * if the process was killed by a signal: nobody hangs for a party that
 * will never come.  A mapping left behind does not count (shm.c).
 *
 * The word is user memory: we clamp what we read from it, rewrite it from
 * our own state, bound every retry (ksync_word_commit), and decide who
 * passes from our own list of sleepers, never from the word alone.
 */
#include <linux/gfp.h>
#include <linux/mm.h>
#include <linux/poll.h>
#include <linux/sched.h>
#include <linux/sched/signal.h>
#include <linux/seq_file.h>
#include <linux/slab.h>
#include <linux/uaccess.h>

#include "ksync.h"

#define BAR_ARRIVED	KSYNC_BARRIER_STATE_ARRIVED
#define BAR_KWAKE	KSYNC_BARRIER_STATE_KWAKE
#define BAR_BROKEN	KSYNC_BARRIER_STATE_BROKEN

/* How many broken rounds we remember, for parties that ask late. */
#define BAR_BREAKS	64

/* How a round went, and kf->bar.round: the handle's last round. */
enum { BAR_NONE, BAR_WAITING, BAR_PASSED, BAR_FAILED };

struct ksync_barrier {
	struct ksync_obj obj;
	struct page *page;		/* mapped by every party */
	atomic64_t *state;		/* the word in that page */
	u32 parties;
	u32 gen;			/* the current round, as we last saw it */
	u32 broke[BAR_BREAKS];		/* the last rounds that broke, a ring */
	u64 nr_broke;			/* rounds that broke, ever */
	bool broken;			/* round gen is broken */
	bool poll_armed;		/* a poller waits for round gen to end */
	__poll_t poll_events;		/* to wake pollers with, after unlock */
	struct list_head waiters;	/* struct bar_waiter's e, all of round gen */
	struct list_head wake;		/* claimed: bar_unlock() wakes them */
	u32 nr_waiters;
	struct hlist_head pending;	/* ksync_files that arrived in round gen */
	u64 wait_calls;
	u64 woken;
	u64 breaks;
	u64 resets;
	u64 fences;			/* ksync_word_commit gave up comparing */
};

/*
 * A call's arrival and wait, on the caller's stack (wait.c).  A round's
 * end claims its sleepers under obj->lock, with their result (0: it
 * completed, or -EPIPE), and bar_unlock() wakes them as it drops the lock,
 * without being preempted; a woken party returns without taking it, so
 * parties woken at once do not queue on it.
 */
struct bar_waiter {
	struct ksync_wait_entry e;	/* on b->waiters */
	struct ksync_waiter w;
	struct ksync_file *kf;
	u32 flags;			/* the call's KSYNC_BARRIER_* */
	u32 g;				/* the round arrived in */
};

static struct ksync_barrier *to_bar(struct ksync_obj *obj)
{
	return container_of(obj, struct ksync_barrier, obj);
}

static struct bar_waiter *to_bar_waiter(struct ksync_wait_entry *e)
{
	return container_of(e, struct bar_waiter, e);
}

/* Parties in the round, whatever was written there: fewer than all. */
static u32 bar_arrived_of(struct ksync_barrier *b, s64 word)
{
	return min_t(u32, word & BAR_ARRIVED, b->parties - 1);
}

static s64 bar_word(u32 gen, u32 arrived, bool kwake, bool broken)
{
	return ksync_barrier_gen_word(gen) | arrived |
	       (kwake ? BAR_KWAKE : 0) | (broken ? BAR_BROKEN : 0);
}

/*
 * Acquire: pairs with the release half of the fast paths' arrival
 * compare-and-swap (ulib/barrier.c), so that what every party wrote before
 * arriving is visible to the parties we then let pass.
 */
static s64 bar_read(struct ksync_barrier *b)
{
	return atomic64_read_acquire(b->state);
}

/*
 * While the word we read has KWAKE or BROKEN set, honest processes leave
 * it alone (only we clear those bits, under obj->lock): we may store.
 */
static bool bar_commit(struct ksync_barrier *b, s64 *old, s64 new,
		       unsigned int *tries)
{
	lockdep_assert_held(&b->obj.lock);
	return ksync_word_commit(b->state, old, new,
				 *old & (BAR_KWAKE | BAR_BROKEN),
				 BAR_KWAKE, tries, &b->fences);
}

/*
 * Somebody polls the barrier (epoll keeps its entry there between calls):
 * a handle's arrival changes what it waits for without calling poll
 * again, so the round's end must come here even if completed on the page.
 * A poller that adds itself after we look calls bar_poll(), which arms.
 */
static bool bar_pollers(struct ksync_barrier *b)
{
	lockdep_assert_held(&b->obj.lock);
	/*
	 * Without a barrier: pollers add themselves to poll_wq and then
	 * take obj->lock in bar_poll(), which we hold; one we miss here
	 * arms itself there, after us.
	 */
	return b->poll_armed || waitqueue_active(&b->obj.poll_wq);
}

/*
 * Round gen is over: tell its sleepers and the handles that arrived in it
 * how it went.  The sleepers are woken by bar_unlock().
 */
static void bar_end_round(struct ksync_barrier *b, bool broken)
{
	struct ksync_wait_entry *e, *tmp;
	struct ksync_file *kf;
	struct hlist_node *n;

	lockdep_assert_held(&b->obj.lock);
	list_for_each_entry_safe(e, tmp, &b->waiters, node) {
		if (!ksync_wait_claim(e, broken ? -EPIPE : 0, &b->wake))
			continue;
		b->nr_waiters--;
		if (!broken)
			b->woken++;
	}
	hlist_for_each_entry_safe(kf, n, &b->pending, bar.pending) {
		hlist_del_init(&kf->bar.pending);
		kf->bar.round = broken ? BAR_FAILED : BAR_PASSED;
	}
	if (bar_pollers(b) || broken)
		b->poll_events |= broken ? EPOLLERR : EPOLLIN | EPOLLRDNORM;
	b->poll_armed = false;
}

/*
 * The word's generation moved on without us: the fast paths completed
 * those rounds (or somebody scribbled; then our sleepers pass, and the
 * scribbler has only spoiled its own barrier).
 */
static void bar_sync(struct ksync_barrier *b, s64 word)
{
	u32 delta = ksync_barrier_gen(word) - b->gen;

	lockdep_assert_held(&b->obj.lock);
	if (!delta)
		return;
	bar_end_round(b, b->broken);
	b->gen += delta;
	b->broken = false;
}

/* Round gen broke: remember it, for those who ask later how theirs went. */
static void bar_note_break(struct ksync_barrier *b)
{
	lockdep_assert_held(&b->obj.lock);
	b->broke[b->nr_broke++ % BAR_BREAKS] = b->gen;
}

/*
 * How round g went; call after bar_sync().  Completed rounds take no room
 * in the memory, so it lasts BAR_BREAKS breaks, not so many rounds.  A
 * round from before what we remember, or from the future, counts as
 * broken: never let a party pass early.
 */
static int bar_outcome(struct ksync_barrier *b, u32 g)
{
	u32 d = b->gen - g;
	unsigned int i, n = min_t(u64, b->nr_broke, BAR_BREAKS);

	lockdep_assert_held(&b->obj.lock);
	if (!d)
		return b->broken ? BAR_FAILED : BAR_WAITING;
	if (d > S32_MAX)
		return BAR_FAILED;
	for (i = 0; i < n; i++)
		if (b->broke[i] == g)
			return BAR_FAILED;
	/* the ring is full: its oldest entry is the next to be replaced */
	if (b->nr_broke > BAR_BREAKS &&
	    d > b->gen - b->broke[b->nr_broke % BAR_BREAKS])
		return BAR_FAILED;
	return BAR_PASSED;
}

static int bar_result(int outcome)
{
	return outcome == BAR_PASSED ? 0 : -EPIPE;
}

/*
 * The handle arrived in round g: poll reports on that round from now on.
 * arm: the caller set KWAKE for pollers in the word it committed.  told:
 * the call waits, and will return how the round went; else (NOWAIT) poll
 * is how its caller learns it, even after a reset (bar_poll()).
 */
static void bar_note_arrival(struct ksync_barrier *b, struct ksync_file *kf,
			     u32 g, bool arm, bool told)
{
	struct pid *me = task_tgid(current);

	lockdep_assert_held(&b->obj.lock);
	kf->bar.gen = g;
	kf->bar.round = BAR_WAITING;
	kf->bar.told = told;
	kf->bar.resets = b->resets;
	/* put_pid() is safe here: RCU callbacks call it */
	if (kf->bar.by != me) {
		put_pid(kf->bar.by);
		kf->bar.by = get_pid(me);
	}
	if (hlist_unhashed(&kf->bar.pending))
		hlist_add_head(&kf->bar.pending, &b->pending);
	b->poll_armed |= arm;
}

/*
 * A process that let go of a file, for bar_break(): its arrival in the
 * current round, if it made one, is on that file (kf NULL: not known).
 */
struct bar_leaver {
	const struct ksync_file *kf;
	struct pid *tgid;
};

/* Did the leaver arrive in the current round?  Call after bar_sync(). */
static bool bar_leaver_arrived(struct ksync_barrier *b,
			       const struct bar_leaver *left)
{
	const struct ksync_file *kf = left->kf;

	lockdep_assert_held(&b->obj.lock);
	return kf && kf->bar.round == BAR_WAITING && kf->bar.gen == b->gen &&
	       kf->bar.by == left->tgid;
}

/*
 * Break round g (NULL: the current one) if it is still going on and, for a
 * leaver (a process gone cleanly), if somebody arrived in it and the
 * leaver did not: the others would wait for it, while a leaver that
 * arrived has done its part.  Returns 0 if we broke it (or there was
 * nothing to break), 1 if it had completed, -EPIPE if it was already
 * broken.
 */
static int bar_break(struct ksync_barrier *b, const u32 *g,
		     const struct bar_leaver *left)
{
	unsigned int tries = 0;
	int outcome;
	s64 old;

	lockdep_assert_held(&b->obj.lock);
	old = bar_read(b);
	do {
		bar_sync(b, old);
		outcome = bar_outcome(b, g ? *g : b->gen);
		if (outcome != BAR_WAITING)
			return outcome == BAR_PASSED ? 1 : -EPIPE;
		if (left && (!bar_arrived_of(b, old) ||
			     bar_leaver_arrived(b, left)))
			return 0;
	} while (!bar_commit(b, &old, old | BAR_BROKEN, &tries));
	bar_note_break(b);
	b->broken = true;
	b->breaks++;
	bar_end_round(b, true);
	return 0;
}

/*
 * Arrive in the current round.  The last party completes it (returns 1);
 * the others are counted (0), with KWAKE set if they will sleep.
 */
static int bar_arrive(struct ksync_barrier *b, struct ksync_file *kf, u32 *g,
		      bool will_sleep)
{
	bool arm = bar_pollers(b);	/* once: KWAKE and poll_armed agree */
	unsigned int tries = 0;
	bool last;
	u32 arrived;
	s64 old, new;

	lockdep_assert_held(&b->obj.lock);
	old = bar_read(b);
	do {
		bar_sync(b, old);
		if (b->broken)
			return -EPIPE;
		arrived = bar_arrived_of(b, old);
		last = arrived + 1 >= b->parties;
		if (last)
			new = bar_word(b->gen + 1, 0, false, false);
		else
			new = bar_word(b->gen, arrived + 1,
				       will_sleep || b->nr_waiters || arm,
				       false);
	} while (!bar_commit(b, &old, new, &tries));
	*g = b->gen;
	if (!last) {
		bar_note_arrival(b, kf, *g, arm, will_sleep);
		return 0;
	}
	hlist_del_init(&kf->bar.pending);
	kf->bar.gen = *g;
	kf->bar.round = BAR_PASSED;
	kf->bar.told = true;	/* we return 1 */
	kf->bar.resets = b->resets;
	bar_end_round(b, false);
	b->gen++;
	return 1;
}

/*
 * A party that arrived in round g on the page waits for it here: unless it
 * is over, set KWAKE so that its last arrival comes to us.
 */
static int bar_rejoin(struct ksync_barrier *b, struct ksync_file *kf, u32 g)
{
	unsigned int tries = 0;
	int outcome;
	s64 old;

	lockdep_assert_held(&b->obj.lock);
	old = bar_read(b);
	do {
		bar_sync(b, old);
		/*
		 * A sleeper that a stop took off the list finds how its round
		 * went in its file, whatever happened since; else ask the ring.
		 */
		if (kf->bar.gen == g && (kf->bar.round == BAR_PASSED ||
					 kf->bar.round == BAR_FAILED))
			outcome = kf->bar.round;
		else
			outcome = bar_outcome(b, g);
		if (outcome != BAR_WAITING) {
			/* a NOWAIT arrival's caller asked: now it knows */
			if (kf->bar.gen == g)
				kf->bar.told = true;
			return bar_result(outcome);
		}
		if (old & BAR_KWAKE)
			break;
	} while (!bar_commit(b, &old, old | BAR_KWAKE, &tries));
	bar_note_arrival(b, kf, g, bar_pollers(b), true);
	return 1;
}

/* A wait for round g passed its deadline: the round breaks unless over. */
static int bar_timed_out(struct ksync_barrier *b, u32 g)
{
	int ret = bar_break(b, &g, NULL);

	return ret > 0 ? 0 : ret ? ret : -ETIMEDOUT;
}

/* Drop obj->lock, then wake whoever a round's end claimed meanwhile. */
static void bar_unlock(struct ksync_barrier *b)
	__releases(&b->obj.lock)
{
	__poll_t events = b->poll_events;
	LIST_HEAD(wake);

	lockdep_assert_held(&b->obj.lock);
	b->poll_events = 0;
	list_splice_init(&b->wake, &wake);
	/*
	 * A claimed party that gives up (a signal, its deadline) waits in
	 * ksync_wait_done() for this walk, so nothing may preempt it: a
	 * waker preempted here kept such a party in D state for seconds.
	 * Not under the lock, though: a round may wake thousands, and the
	 * lock's other users (INFO, poll, arrivals) need not wait for that.
	 */
	preempt_disable();
	spin_unlock(&b->obj.lock);
	ksync_wait_wake_list(&wake);
	preempt_enable();
	if (events)
		wake_up_interruptible_poll(&b->obj.poll_wq, events);
}

static void bar_wait_lock(struct ksync_wait_entry *e)
	__acquires(&e->obj->lock)
{
	spin_lock(&e->obj->lock);
}

static void bar_wait_unlock(struct ksync_wait_entry *e)
	__releases(&e->obj->lock)
{
	bar_unlock(to_bar(e->obj));
}

/*
 * Arrive (or, ARRIVED, come back to the round arrived in), then sleep
 * until the round ends, unless the deadline has passed already.
 */
static int bar_wait_try(struct ksync_wait_entry *e)
{
	struct bar_waiter *bw = to_bar_waiter(e);
	struct ksync_barrier *b = to_bar(e->obj);
	bool arrived = bw->flags & KSYNC_BARRIER_ARRIVED;
	int ret;

	lockdep_assert_held(&b->obj.lock);
	b->wait_calls++;
	if (arrived)
		ret = bar_rejoin(b, bw->kf, bw->g);
	else
		ret = bar_arrive(b, bw->kf, &bw->g,
				 !(bw->flags & KSYNC_BARRIER_NOWAIT));
	/* 1 is the serial party's return, but for bar_rejoin() "wait" */
	if (bw->flags & KSYNC_BARRIER_NOWAIT || (arrived ? ret != 1 : ret != 0))
		return ret;
	if (ksync_deadline_passed(e->w->expires))
		return bar_timed_out(b, bw->g);
	ksync_wait_link(e, &b->waiters, false);
	b->nr_waiters++;
	return KSYNC_WAIT_QUEUED;
}

/* The round's end set our result: no lock to take. */
static int bar_wait_consume(struct ksync_wait_entry *e)
{
	return e->w->result;
}

/*
 * No round's end claimed us.  A stop, ptrace or the freezer do not end
 * the wait: bar_wait() writes the round back to the caller's struct, so a
 * restart waits for the same round; only a handler does (-EINTR), and then
 * libksync breaks the round.
 */
static int bar_wait_leave(struct ksync_wait_entry *e, int ret)
{
	struct ksync_barrier *b = to_bar(e->obj);
	u32 g = to_bar_waiter(e)->g;

	lockdep_assert_held(&b->obj.lock);
	list_del(&e->node);
	b->nr_waiters--;
	if (fatal_signal_pending(current)) {
		/* this party will never come back: do not wait for it */
		bar_break(b, &g, NULL);
		return -EINTR;
	}
	return ret == -ETIMEDOUT ? bar_timed_out(b, g) : ret;
}

static const struct ksync_wait_ops bar_wait_ops = {
	.lock		= bar_wait_lock,
	.unlock		= bar_wait_unlock,
	.try		= bar_wait_try,
	.consume	= bar_wait_consume,
	.leave		= bar_wait_leave,
};

static int bar_wait_args(struct ksync_barrier_wait *args, void __user *uarg)
{
	struct ksync_barrier_wait __user *ugen = uarg;
	int ret;

	ret = ksync_copy_args(args, sizeof(*args), sizeof(*args), uarg);
	if (ret)
		return ret;
	if (args->flags & ~KSYNC_BARRIER_WAIT_FLAGS || args->pad ||
	    (args->flags & KSYNC_BARRIER_ARRIVED &&
	     args->flags & KSYNC_BARRIER_NOWAIT))
		return -EINVAL;
	/*
	 * A NOWAIT arrival writes its round back: check first that it can,
	 * so that a struct in read-only memory fails before arriving, not
	 * after.  (A wait writes back only when a signal interrupts it, and
	 * breaks the round if it cannot.)
	 */
	if (args->flags & KSYNC_BARRIER_NOWAIT &&
	    put_user(args->generation, &ugen->generation))
		return -EFAULT;
	return 0;
}

/* A signal stopped an arrival's wait: a restart must wait, not arrive again. */
static int bar_wait_restart(struct ksync_barrier *b,
			    struct ksync_barrier_wait *args, void __user *uarg)
{
	args->flags |= KSYNC_BARRIER_ARRIVED;
	if (!copy_to_user(uarg, args, sizeof(*args)))
		return -ERESTARTNOHAND;
	/* it cannot be restarted: the others must not wait for it */
	spin_lock(&b->obj.lock);
	bar_break(b, &args->generation, NULL);
	bar_unlock(b);
	return -EFAULT;
}

static long bar_wait(struct ksync_file *kf, void __user *uarg)
{
	struct ksync_barrier_wait __user *ugen = uarg;
	struct bar_waiter bw = { .kf = kf };
	ktime_t expires, *deadline;
	struct ksync_barrier_wait args;
	int ret;

	ret = bar_wait_args(&args, uarg);
	if (ret)
		return ret;
	deadline = ksync_wait_deadline(args.flags, args.deadline, &expires);
	bw.flags = args.flags;
	bw.g = args.generation;
	ksync_waiter_init(&bw.w, deadline);
	ksync_wait_entry_init(&bw.e, &bw.w, kf->obj, 0);
	ret = ksync_wait(&bw.e, &bar_wait_ops);
	args.generation = bw.g;
	/* the round arrived in, for BREAK or a later ARRIVED wait */
	if (args.flags & KSYNC_BARRIER_NOWAIT && ret >= 0)
		return put_user(args.generation, &ugen->generation) ? -EFAULT : ret;
	if (ret != -ERESTARTNOHAND || args.flags & KSYNC_BARRIER_ARRIVED)
		return ret;
	return bar_wait_restart(to_bar(kf->obj), &args, uarg);
}

static long bar_ctl_args(struct ksync_barrier_ctl *args, void __user *uarg,
			 bool uses_gen)
{
	int ret = ksync_copy_args(args, sizeof(*args), sizeof(*args), uarg);

	if (ret)
		return ret;
	if (args->flags || args->pad || (!uses_gen && args->generation))
		return -EINVAL;
	return 0;
}

/* After a handler interrupted a wait: the round breaks unless it is over. */
static long bar_break_ioctl(struct ksync_file *kf, void __user *uarg)
{
	struct ksync_barrier *b = to_bar(kf->obj);
	struct ksync_barrier_ctl args;
	long ret;

	ret = bar_ctl_args(&args, uarg, true);
	if (ret)
		return ret;
	spin_lock(&b->obj.lock);
	ret = bar_break(b, &args.generation, NULL);
	bar_unlock(b);
	return ret;
}

/* Whoever waits gets -EPIPE; a new, empty round starts 2 generations on. */
static long bar_reset(struct ksync_file *kf, void __user *uarg)
{
	struct ksync_barrier *b = to_bar(kf->obj);
	struct ksync_barrier_ctl args;
	unsigned int tries = 0;
	s64 old;
	long ret;

	ret = bar_ctl_args(&args, uarg, false);
	if (ret)
		return ret;
	spin_lock(&b->obj.lock);
	old = bar_read(b);
	do {
		bar_sync(b, old);
	} while (!bar_commit(b, &old, bar_word(b->gen + 2, 0, false, false),
			     &tries));
	if (!b->broken) {
		if (bar_arrived_of(b, old))
			b->breaks++;
		bar_note_break(b);
	}
	bar_end_round(b, true);
	b->gen += 2;
	b->broken = false;
	b->resets++;
	bar_unlock(b);
	return 0;
}

static void bar_depart(struct ksync_barrier *b, const struct bar_leaver *left,
		       bool killed);

/*
 * The calling process becomes a party through this file (party.c).  If
 * it let go of the file as it joined, it is gone, as flush would say.
 */
static long bar_join(struct ksync_file *kf, void __user *uarg)
{
	struct bar_leaver me = { kf, task_tgid(current) };
	struct ksync_barrier_ctl args;
	long ret;

	ret = bar_ctl_args(&args, uarg, false);
	if (!ret)
		ret = ksync_party_join(kf, NULL);
	if (ret == -EBADF)
		bar_depart(to_bar(kf->obj), &me, false);
	return ret < 0 ? ret : 0;
}

static const struct ksync_cmd bar_cmds[] = {
	{ KSYNC_IOC_BARRIER_INFO,	ksync_info_ioctl },
	{ KSYNC_IOC_BARRIER_WAIT,	bar_wait },
	{ KSYNC_IOC_BARRIER_BREAK,	bar_break_ioctl },
	{ KSYNC_IOC_BARRIER_RESET,	bar_reset },
	{ KSYNC_IOC_BARRIER_JOIN,	bar_join },
};

/*
 * EPOLLIN once the round this handle last arrived in (through the module)
 * has completed, EPOLLERR if it broke or the barrier is broken now.  While
 * the round goes on, set KWAKE so that its completion comes here.
 *
 * A reset starts over: a handle whose caller was told how its round went
 * (its wait returned) reports nothing after one until it arrives again;
 * EPOLLERR cannot be masked, and would make every level-triggered epoll
 * set that holds the fd spin.  A NOWAIT arrival's caller learns only from
 * poll, perhaps after the reset (which may be what broke its round), so
 * its handle keeps reporting how that round went until it arrives again.
 */
static __poll_t bar_poll(struct ksync_file *kf, __poll_t want)
{
	struct ksync_barrier *b = to_bar(kf->obj);
	unsigned int tries = 0;
	__poll_t events = 0;
	u8 round;
	s64 old;

	spin_lock(&b->obj.lock);
	old = bar_read(b);
	do {
		bar_sync(b, old);
		if (kf->bar.round != BAR_WAITING || old & BAR_KWAKE)
			break;
	} while (!bar_commit(b, &old, old | BAR_KWAKE, &tries));
	round = kf->bar.round;
	if (round != BAR_WAITING && kf->bar.told &&
	    kf->bar.resets != b->resets)
		round = BAR_NONE;
	if (round == BAR_WAITING)
		b->poll_armed = true;
	else if (round == BAR_PASSED)
		events = EPOLLIN | EPOLLRDNORM;
	else if (round == BAR_FAILED)
		events = EPOLLERR;
	if (b->broken)
		events |= EPOLLERR;
	bar_unlock(b);
	return events;
}

/*
 * A party's process let go of the file: break the round if others arrived
 * in it and the process did not (bar_break()) or, had the process been
 * killed, whatever the round: it can never come to the next one, arrived
 * or not.
 */
static void bar_depart(struct ksync_barrier *b, const struct bar_leaver *left,
		       bool killed)
{
	spin_lock(&b->obj.lock);
	bar_break(b, NULL, killed ? NULL : left);
	bar_unlock(b);
}

static void bar_flush(struct ksync_file *kf, struct file *file)
{
	struct bar_leaver me = { kf, task_tgid(current) };
	int gone = ksync_party_flush(kf, file, NULL);

	if (gone)
		bar_depart(to_bar(kf->obj), &me, gone == KSYNC_PARTY_KILLED);
}

/*
 * The file's last reference: whoever still counted as a party through it
 * (a process that shared its fd table with another, not as a thread).
 * Which of them arrived is not known: as for one that did not.
 */
static void bar_release(struct ksync_file *kf)
{
	struct ksync_barrier *b = to_bar(kf->obj);
	struct bar_leaver unknown = { NULL, NULL };

	spin_lock(&b->obj.lock);
	hlist_del_init(&kf->bar.pending);
	spin_unlock(&b->obj.lock);
	put_pid(kf->bar.by);
	if (ksync_party_release(kf, NULL))
		bar_depart(b, &unknown, false);
}

static int bar_check(const struct ksync_open_args *args, bool create)
{
	/* parties matter only to a call that may create the barrier */
	if (create &&
	    (!args->barrier.parties ||
	     args->barrier.parties > KSYNC_BARRIER_PARTIES_MAX))
		return -EINVAL;
	if (args->barrier.pad)
		return -EINVAL;
	return 0;
}

static struct ksync_obj *bar_create(const struct ksync_open_args *args)
{
	struct ksync_barrier *b;

	b = kzalloc(sizeof(*b), GFP_KERNEL_ACCOUNT);
	if (!b)
		return ERR_PTR(-ENOMEM);
	b->page = alloc_page(GFP_KERNEL_ACCOUNT | __GFP_ZERO);
	if (!b->page) {
		kfree(b);
		return ERR_PTR(-ENOMEM);
	}
	b->state = page_address(b->page);
	b->parties = args->barrier.parties;
	INIT_LIST_HEAD(&b->waiters);
	INIT_LIST_HEAD(&b->wake);
	INIT_HLIST_HEAD(&b->pending);
	return &b->obj;
}

static void bar_free(struct ksync_obj *obj)
{
	struct ksync_barrier *b = to_bar(obj);

	put_page(b->page);
	kfree(b);
}

static struct page *bar_page(struct ksync_obj *obj, pgoff_t pgoff)
{
	return to_bar(obj)->page;
}

/* What the barrier's snapshot holds. */
struct bar_snap {
	struct ksync_barrier_info info;	/* first: KSYNC_IOC_BARRIER_INFO's */
	u64 fences;
};

static_assert(sizeof(struct bar_snap) <= sizeof_field(struct ksync_snap, data));

/*
 * Rounds the word completed are over first, for every reader alike; with
 * w, the sleepers too.
 */
static void bar_snapshot(struct ksync_obj *obj, struct ksync_file *kf,
			 struct ksync_snap *s, struct ksync_who *w)
{
	struct ksync_barrier *b = to_bar(obj);
	struct bar_snap *bs = (void *)s->data;
	struct ksync_wait_entry *we;
	s64 word;

	spin_lock(&b->obj.lock);
	word = bar_read(b);
	bar_sync(b, word);
	bs->info.parties = b->parties;
	bs->info.waiting = b->broken ? 0 : bar_arrived_of(b, word);
	bs->info.generation = b->gen;
	bs->info.broken = b->broken;
	bs->info.sleepers = b->nr_waiters;
	bs->info.wait_calls = b->wait_calls;
	bs->info.woken = b->woken;
	bs->info.breaks = b->breaks;
	bs->info.resets = b->resets;
	bs->fences = b->fences;
	s->who = b->nr_waiters;
	if (w)
		list_for_each_entry(we, &b->waiters, node)
			if (!ksync_who_add(w, we->w->task, KSYNC_WHO_WAITS, 1,
					   we->w->since))
				break;
	bar_unlock(b);
}

static void bar_summary(const struct ksync_snap *s, struct ksync_list_entry *e)
{
	const struct bar_snap *bs = (const void *)s->data;

	e->barrier.parties = bs->info.parties;
	e->barrier.waiting = bs->info.waiting;
	e->barrier.generation = bs->info.generation;
	e->barrier.broken = bs->info.broken;
}

static void bar_fdinfo(struct seq_file *m, const struct ksync_snap *s)
{
	const struct bar_snap *bs = (const void *)s->data;

	seq_printf(m, "ksync-type:\tbarrier\nksync-parties:\t%u\n", bs->info.parties);
	seq_printf(m, "ksync-waiting:\t%u\nksync-generation:\t%u\n",
		   bs->info.waiting, bs->info.generation);
	seq_printf(m, "ksync-broken:\t%u\nksync-sleepers:\t%u\n",
		   bs->info.broken, bs->info.sleepers);
	seq_printf(m, "ksync-wait-calls:\t%llu\nksync-woken:\t%llu\n",
		   bs->info.wait_calls, bs->info.woken);
	seq_printf(m, "ksync-breaks:\t%llu\nksync-resets:\t%llu\n",
		   bs->info.breaks, bs->info.resets);
	seq_printf(m, "ksync-fences:\t%llu\n", bs->fences);
}

const struct ksync_type ksync_barrier_type = {
	.type		= KSYNC_TYPE_BARRIER,
	.name		= "[ksync-barrier]",
	.check		= bar_check,
	.create		= bar_create,
	.free		= bar_free,
	.cmds		= bar_cmds,
	.nr_cmds	= ARRAY_SIZE(bar_cmds),
	.poll		= bar_poll,
	.shm_pages	= 1,
	.page		= bar_page,
	.release	= bar_release,
	.flush		= bar_flush,
	.snapshot	= bar_snapshot,
	.info_size	= sizeof(struct ksync_barrier_info),
	.fdinfo		= bar_fdinfo,
	.summary	= bar_summary,
};
