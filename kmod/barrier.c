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
#include <linux/hrtimer.h>
#include <linux/mm.h>
#include <linux/poll.h>
#include <linux/sched.h>
#include <linux/sched/signal.h>
#include <linux/sched/task.h>
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
	struct list_head waiters;	/* struct bar_waiter, all of round gen */
	struct list_head wake;		/* their round ended: bar_unlock wakes */
	u32 nr_waiters;
	struct hlist_head pending;	/* ksync_files that arrived in round gen */
	u64 wait_calls;
	u64 woken;
	u64 breaks;
	u64 resets;
	u64 fences;			/* ksync_word_commit gave up comparing */
};

/*
 * Lives on the sleeper's stack.  Under obj->lock a round's end moves it
 * to b->wake and sets 'claimed'; after unlocking, the waker sets 'done',
 * its last touch, and wakes the task.  So the sleeper returns when it sees
 * 'done', without the lock, and, if it finds itself claimed, waits for
 * 'done' before its stack may go.
 */
struct bar_waiter {
	struct list_head node;
	struct task_struct *task;
	u64 since;			/* ktime_get_ns() when it queued */
	int result;			/* 0: the round completed, or -EPIPE */
	bool claimed;
	bool done;
};

static struct ksync_barrier *to_bar(struct ksync_obj *obj)
{
	return container_of(obj, struct ksync_barrier, obj);
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
	/*
	 * Without a barrier: pollers add themselves to poll_wq and then
	 * take obj->lock in bar_poll(), which we hold; one we miss here
	 * arms itself there, after us.
	 */
	return b->poll_armed || waitqueue_active(&b->obj.poll_wq);
}

/*
 * Round gen is over: tell its sleepers and the handles that arrived in it
 * how it went.  The sleepers are woken by bar_unlock(), after obj->lock
 * is dropped, so that the parties woken at once do not find it held.
 */
static void bar_end_round(struct ksync_barrier *b, bool broken)
{
	struct bar_waiter *w;
	struct ksync_file *kf;
	struct hlist_node *n;

	list_for_each_entry(w, &b->waiters, node) {
		w->result = broken ? -EPIPE : 0;
		w->claimed = true;
		get_task_struct(w->task);
		if (!broken)
			b->woken++;
	}
	list_splice_tail_init(&b->waiters, &b->wake);
	b->nr_waiters = 0;
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

	if (!delta)
		return;
	bar_end_round(b, b->broken);
	b->gen += delta;
	b->broken = false;
}

/* Round gen broke: remember it, for those who ask later how theirs went. */
static void bar_note_break(struct ksync_barrier *b)
{
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

/* Leave the sleepers' list; the caller checked that we are not claimed. */
static void bar_unqueue(struct ksync_barrier *b, struct bar_waiter *w)
{
	list_del(&w->node);
	b->nr_waiters--;
}

static void bar_unlock(struct ksync_barrier *b)
	__releases(&b->obj.lock)
{
	__poll_t events = b->poll_events;
	struct bar_waiter *w, *tmp;
	LIST_HEAD(wake);

	b->poll_events = 0;
	list_splice_init(&b->wake, &wake);
	spin_unlock(&b->obj.lock);
	list_for_each_entry_safe(w, tmp, &wake, node) {
		struct task_struct *task = w->task;

		/* release: pairs with bar_sleep()'s acquire; w may go now */
		smp_store_release(&w->done, true);
		wake_up_process(task);
		put_task_struct(task);
	}
	if (events)
		wake_up_interruptible_poll(&b->obj.poll_wq, events);
}

/*
 * Our round ended and its waker, after unlocking, is about to let go of w.
 * Sleep (not spin: the waker may need our CPU) until it has.  The sleep
 * cannot be interrupted: w is on our stack, and the waker will write it.
 * It is short: the waker sets 'done' within its walk of the woken list.
 */
static void bar_wait_done(struct bar_waiter *w)
{
	for (;;) {
		set_current_state(TASK_UNINTERRUPTIBLE);
		/* acquire: pairs with the release in bar_unlock() */
		if (smp_load_acquire(&w->done))
			break;
		schedule();
	}
	__set_current_state(TASK_RUNNING);
}

/*
 * Sleep until round g ends, a signal, or the deadline.  Called under
 * obj->lock, returns without it.
 */
static int bar_sleep(struct ksync_barrier *b, struct bar_waiter *w, u32 g,
		     ktime_t *expires)
	__releases(&b->obj.lock)
{
	bool expired = false;
	int ret;

	for (;;) {
		if (w->claimed) {
			bar_unlock(b);
			bar_wait_done(w);
			return w->result;
		}
		if (fatal_signal_pending(current)) {
			/* this party will never come back: do not wait for it */
			bar_unqueue(b, w);
			bar_break(b, &g, NULL);
			ret = -EINTR;
			break;
		}
		/*
		 * The deadline is absolute and bar_wait() writes the round
		 * back to the caller's struct, so a restart waits for the
		 * same round: a stop, ptrace or the freezer do not end the
		 * wait; only a handler does (-EINTR), and then libksync
		 * breaks the round.
		 */
		if (signal_pending(current)) {
			bar_unqueue(b, w);
			ret = -ERESTARTNOHAND;
			break;
		}
		if (expired) {
			bar_unqueue(b, w);
			ret = bar_timed_out(b, g);
			break;
		}
		bar_unlock(b);
		set_current_state(TASK_INTERRUPTIBLE);
		/* acquire: pairs with the release in bar_unlock() */
		if (smp_load_acquire(&w->done)) {
			__set_current_state(TASK_RUNNING);
			return w->result;
		}
		if (!expires)
			schedule();
		else if (!schedule_hrtimeout_range(expires, current->timer_slack_ns,
						   HRTIMER_MODE_ABS))
			expired = true;
		__set_current_state(TASK_RUNNING);
		/* acquire, as above; else take the lock to learn why we woke */
		if (smp_load_acquire(&w->done))
			return w->result;
		spin_lock(&b->obj.lock);
	}
	bar_unlock(b);
	return ret;
}

static bool bar_expired(const ktime_t *expires)
{
	return expires && ktime_compare(*expires, ktime_get()) <= 0;
}

static long bar_wait(struct ksync_file *kf, void __user *uarg)
{
	struct ksync_barrier_wait __user *ugen = uarg;
	struct ksync_barrier *b = to_bar(kf->obj);
	struct bar_waiter w = { .task = current };
	struct ksync_barrier_wait args;
	ktime_t expires, *deadline = NULL;
	bool arrived;
	int ret;

	ret = ksync_copy_args(&args, sizeof(args), sizeof(args), uarg);
	if (ret)
		return ret;
	arrived = args.flags & KSYNC_BARRIER_ARRIVED;
	if (args.flags & ~KSYNC_BARRIER_WAIT_FLAGS || args.pad ||
	    (arrived && args.flags & KSYNC_BARRIER_NOWAIT))
		return -EINVAL;
	if (args.flags & KSYNC_WAIT_DEADLINE) {
		expires = ksync_deadline(args.deadline);
		deadline = &expires;
	}
	/*
	 * A NOWAIT arrival writes its round back: check first that it can,
	 * so that a struct in read-only memory fails before arriving, not
	 * after.  (A wait writes back only when a signal interrupts it, and
	 * breaks the round if it cannot.)
	 */
	if (args.flags & KSYNC_BARRIER_NOWAIT &&
	    put_user(args.generation, &ugen->generation))
		return -EFAULT;

	spin_lock(&b->obj.lock);
	b->wait_calls++;
	if (arrived)
		ret = bar_rejoin(b, kf, args.generation);
	else
		ret = bar_arrive(b, kf, &args.generation,
				 !(args.flags & KSYNC_BARRIER_NOWAIT));
	/* 1 is the serial party's return, but for bar_rejoin() "wait" */
	if (arrived && ret != 1)
		goto out;
	if (!arrived && ret < 0)
		goto out;
	if (!arrived && args.flags & KSYNC_BARRIER_NOWAIT) {
		bar_unlock(b);
		/* the round arrived in, for BREAK or a later ARRIVED wait */
		if (put_user(args.generation, &ugen->generation))
			return -EFAULT;
		return ret;
	}
	if (!arrived && ret)
		goto out;
	if (bar_expired(deadline)) {
		ret = bar_timed_out(b, args.generation);
		goto out;
	}
	w.since = ktime_get_ns();
	list_add_tail(&w.node, &b->waiters);
	b->nr_waiters++;
	ret = bar_sleep(b, &w, args.generation, deadline);
	if (ret != -ERESTARTNOHAND || arrived)
		return ret;
	/* so that the restarted call waits instead of arriving again */
	args.flags |= KSYNC_BARRIER_ARRIVED;
	if (!copy_to_user(uarg, &args, sizeof(args)))
		return ret;
	/* it cannot be restarted: the others must not wait for it */
	spin_lock(&b->obj.lock);
	bar_break(b, &args.generation, NULL);
	ret = -EFAULT;
out:
	bar_unlock(b);
	return ret;
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

static long bar_info(struct ksync_file *kf, void __user *uarg)
{
	struct ksync_barrier *b = to_bar(kf->obj);
	struct ksync_barrier_info info = {};
	s64 word;

	spin_lock(&b->obj.lock);
	word = bar_read(b);
	bar_sync(b, word);
	info.parties = b->parties;
	info.waiting = b->broken ? 0 : bar_arrived_of(b, word);
	info.generation = b->gen;
	info.broken = b->broken;
	info.sleepers = b->nr_waiters;
	info.wait_calls = b->wait_calls;
	info.woken = b->woken;
	info.breaks = b->breaks;
	info.resets = b->resets;
	bar_unlock(b);
	return copy_to_user(uarg, &info, sizeof(info)) ? -EFAULT : 0;
}

static long bar_ioctl(struct ksync_file *kf, unsigned int cmd, void __user *uarg)
{
	/* an output struct has one size: the number must match exactly */
	if (cmd == KSYNC_IOC_BARRIER_INFO)
		return bar_info(kf, uarg);
	switch (KSYNC_CMD_NOSIZE(cmd)) {
	case KSYNC_CMD_NOSIZE(KSYNC_IOC_BARRIER_WAIT):
		return bar_wait(kf, uarg);
	case KSYNC_CMD_NOSIZE(KSYNC_IOC_BARRIER_BREAK):
		return bar_break_ioctl(kf, uarg);
	case KSYNC_CMD_NOSIZE(KSYNC_IOC_BARRIER_RESET):
		return bar_reset(kf, uarg);
	case KSYNC_CMD_NOSIZE(KSYNC_IOC_BARRIER_JOIN):
		return bar_join(kf, uarg);
	default:
		return -ENOTTY;
	}
}

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
	if (memchr_inv(args->reserved + 1, 0, sizeof(args->reserved) -
		       sizeof(args->reserved[0])))
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

static void bar_summary(struct ksync_obj *obj, struct ksync_list_entry *e)
{
	struct ksync_barrier *b = to_bar(obj);
	s64 word;

	spin_lock(&b->obj.lock);
	word = bar_read(b);
	bar_sync(b, word);
	e->barrier.parties = b->parties;
	e->barrier.waiting = b->broken ? 0 : bar_arrived_of(b, word);
	e->barrier.generation = b->gen;
	e->barrier.broken = b->broken;
	bar_unlock(b);
}

static void bar_fdinfo(struct seq_file *m, struct ksync_file *kf)
{
	struct ksync_barrier *b = to_bar(kf->obj);
	s64 word;

	spin_lock(&b->obj.lock);
	word = bar_read(b);
	bar_sync(b, word);
	seq_printf(m, "ksync-type:\tbarrier\nksync-parties:\t%u\n", b->parties);
	seq_printf(m, "ksync-waiting:\t%u\nksync-generation:\t%u\n",
		   b->broken ? 0 : bar_arrived_of(b, word), b->gen);
	seq_printf(m, "ksync-broken:\t%d\nksync-sleepers:\t%u\n",
		   b->broken, b->nr_waiters);
	seq_printf(m, "ksync-wait-calls:\t%llu\nksync-woken:\t%llu\n",
		   b->wait_calls, b->woken);
	seq_printf(m, "ksync-breaks:\t%llu\nksync-resets:\t%llu\n",
		   b->breaks, b->resets);
	seq_printf(m, "ksync-fences:\t%llu\n", b->fences);
	bar_unlock(b);
}

static void bar_who(struct ksync_obj *obj, struct ksync_who *w)
{
	struct ksync_barrier *b = to_bar(obj);
	struct bar_waiter *bw;

	/* as the listing does: rounds the word completed are over first */
	spin_lock(&b->obj.lock);
	bar_sync(b, bar_read(b));
	w->total = b->nr_waiters;
	list_for_each_entry(bw, &b->waiters, node)
		if (!ksync_who_add(w, bw->task, KSYNC_WHO_WAITS, 1, bw->since))
			break;
	bar_unlock(b);
}

const struct ksync_type ksync_barrier_type = {
	.type		= KSYNC_TYPE_BARRIER,
	.name		= "[ksync-barrier]",
	.check		= bar_check,
	.create		= bar_create,
	.free		= bar_free,
	.ioctl		= bar_ioctl,
	.poll		= bar_poll,
	.shm_pages	= 1,
	.page		= bar_page,
	.release	= bar_release,
	.flush		= bar_flush,
	.fdinfo		= bar_fdinfo,
	.summary	= bar_summary,
	.who		= bar_who,
};
