// SPDX-License-Identifier: GPL-2.0
/*
 * Events: a flag that waiters wait for, set and reset by anyone who has
 * the event open; manual (every wait passes while set) or auto-reset
 * (each set lets exactly one wait pass, which takes the set state).
 *
 * The state is one 64-bit word in a page that every user maps (struct
 * ksync_event_shared), laid out as the semaphore's: the set state in bit
 * 0, the kernel's bits in the high half.  While the kernel's bits are
 * clear, libksync sets, resets and takes an auto event's set state with a
 * compare-and-swap on the word, and anyone may read bit 0 at any time: a
 * manual event's wait that finds it set needs no system call at all.
 * Whoever must sleep comes here; under obj->lock we re-read the word and,
 * if it is still clear, count ourselves in the kernel's bits in the same
 * compare-and-swap that found it clear.  From then on a set must come
 * here too, and it decides, under the lock, whom to let pass: a manual
 * set all the sleepers (the word stays set), an auto set the head of the
 * FIFO (the word stays clear), as if there were no fast path at all.
 *
 * A wait may be one operation of a wait on several objects (KSYNC_OP_EVENT,
 * select.c): whoever completes it claims the waiter first (wait.c), so an
 * auto event's set goes only to a wait that completes with it, and a
 * newcomer is held back only by sleepers a set could still let pass
 * (ev_nobody_ahead()).
 *
 * Pollers: readable means "a wait would succeed now", that is, set.  A
 * poller has the kernel's poll bit set while it is on the poll wait queue,
 * whether the event is set or not, so that a reset on the page cannot
 * hide from an edge-triggered epoll the set that follows it (with the
 * semaphore, a failed try arms the bit; an event has no failed try).  An
 * event in an epoll set thus sets and resets through the module.
 *
 * The page is user memory: we keep no state of ours there, read bit 0
 * and nothing else of what userspace may write, rewrite the kernel's bits
 * from our own counts on every change, and bound every retry
 * (ksync_word_commit()), so that a scribbler spoils only its own event.
 */
#include <linux/gfp.h>
#include <linux/mm.h>
#include <linux/poll.h>
#include <linux/sched.h>
#include <linux/seq_file.h>
#include <linux/slab.h>
#include <linux/uaccess.h>

#include "ksync.h"

#define EV_SET			KSYNC_EVENT_STATE_SET
/* The kernel's bits: sleepers counted from bit 32, pollers in bit 63. */
#define EV_SLEEPER		BIT_ULL(32)
#define EV_POLL_ARMED		BIT_ULL(63)

struct ksync_event {
	struct ksync_obj obj;
	struct page *page;		/* mapped by every user */
	atomic64_t *state;		/* the word in that page */
	struct list_head waiters;	/* struct event_waiter's e, FIFO */
	u32 nr_waiters;
	/*
	 * Auto sets claimed for a waiter that has not taken them yet: they
	 * keep the word ours (a reset on the page would not reach us), and a
	 * killed waiter's set goes back only if no reset came since (resets).
	 */
	u32 nr_granted;
	u64 resets;
	bool poll_armed;		/* the poll bit, as we last wrote it */
	bool autoreset;			/* set at creation */
	u64 wait_calls;
	u64 set_calls;
	u64 reset_calls;
	u64 woken;
	u64 fences;			/* ksync_word_commit gave up comparing */
};

/* An entry on ev->waiters (a select's op is one). */
struct ev_entry {
	struct ksync_wait_entry e;
	u64 resets;			/* ev->resets when a set was granted to it */
};

/* A wait, on the caller's stack: its waiter and its entry (wait.c). */
struct event_waiter {
	struct ev_entry ee;
	struct ksync_waiter w;
};

static struct ev_entry *to_ev_entry(struct ksync_wait_entry *e)
{
	return container_of(e, struct ev_entry, e);
}

static struct ksync_event *to_event(struct ksync_obj *obj)
{
	return container_of(obj, struct ksync_event, obj);
}

/*
 * Read the word before deciding on it.  Acquire: pairs with the release
 * half of the fast set's compare-and-swap (ulib/event.c), so that what the
 * setter wrote before setting is visible to the waiters we let pass.
 */
static s64 ev_read(struct ksync_event *ev)
{
	return atomic64_read_acquire(ev->state);
}

/* The poll bit follows the poll wait queue: set while anybody polls. */
static bool ev_pollers(struct ksync_event *ev)
{
	lockdep_assert_held(&ev->obj.lock);
	/*
	 * Without a barrier: a poller adds itself to poll_wq and then takes
	 * obj->lock in ev_poll(), which we hold; one we miss here arms there.
	 */
	return waitqueue_active(&ev->obj.poll_wq);
}

/* The word: bit 0 as given, the kernel's bits from our own counts. */
static s64 ev_word(bool set, u32 nr_waiters, bool poll)
{
	return (set ? EV_SET : 0) | (u64)nr_waiters * EV_SLEEPER |
	       (poll ? EV_POLL_ARMED : 0);
}

/*
 * Replace the word (ksync_word_commit()).  owned: the kernel's bits, as
 * we last wrote them, are set, so no honest process writes the word; the
 * caller says so from the counts it had before it changed them.
 */
static bool ev_commit(struct ksync_event *ev, s64 *old, s64 new, bool owned,
		      unsigned int *tries)
{
	lockdep_assert_held(&ev->obj.lock);
	if (!ksync_word_commit(ev->state, old, new, owned, EV_POLL_ARMED, tries,
			       &ev->fences))
		return false;
	ev->poll_armed = new & EV_POLL_ARMED;
	return true;
}

/* What the kernel's bits count: sleepers, and sets granted not yet taken. */
static u32 ev_held(struct ksync_event *ev)
{
	return ev->nr_waiters + ev->nr_granted;
}

static bool ev_owned(struct ksync_event *ev)
{
	return ev_held(ev) || ev->poll_armed;
}

/*
 * Does nobody wait ahead of a newcomer?  The FIFO rule counts the
 * sleepers a set could still let pass: an entry of a wait on several
 * objects that another object claimed (or whose waiter gave up) stays
 * linked, and counted in nr_waiters and the kernel's bits, until it
 * leaves, but no set will ever let it pass (ev_grant() skips it), so it
 * holds nobody's place.  Counting it would keep a newcomer asleep on a
 * set manual event.
 */
static bool ev_nobody_ahead(struct ksync_event *ev)
{
	struct ksync_wait_entry *e;

	lockdep_assert_held(&ev->obj.lock);
	list_for_each_entry(e, &ev->waiters, node)
		if (ksync_wait_pending(e))
			return false;
	return true;
}

/*
 * Let the sleepers that a set state lets pass go: a manual event all of
 * them, an auto event its first.  Claims onto wake; the caller wakes them.
 * Returns whether the state stays set (an auto event's set is taken).
 */
static bool ev_grant(struct ksync_event *ev, struct list_head *wake)
{
	struct ksync_wait_entry *e, *tmp;

	lockdep_assert_held(&ev->obj.lock);
	list_for_each_entry_safe(e, tmp, &ev->waiters, node) {
		/* one that gave up, or was claimed elsewhere, leaves by itself */
		if (!ksync_wait_claim(e, 0, wake))
			continue;
		ev->nr_waiters--;
		ev->woken++;
		if (ev->autoreset) {
			to_ev_entry(e)->resets = ev->resets;
			ev->nr_granted++;
			return false;
		}
	}
	return true;
}

/*
 * Set the event (set) or settle what the word says, under obj->lock:
 * sleepers that the set state lets pass are claimed onto wake.  While
 * anybody sleeps the word is ours (no honest process writes it), so the
 * grant and the store that follows it happen once; otherwise nobody can
 * be granted, and we may compare and swap again.  Returns whether pollers
 * must be woken (the event became readable), after the caller unlocks.
 */
static bool ev_settle(struct ksync_event *ev, bool set, struct list_head *wake)
{
	bool owned = ev_owned(ev), is_set, was_set;
	unsigned int tries = 0;
	s64 old, new;

	lockdep_assert_held(&ev->obj.lock);
	old = ev_read(ev);
	do {
		was_set = old & EV_SET;
		is_set = set || was_set;
		if (is_set && ev->nr_waiters)
			is_set = ev_grant(ev, wake);
		new = ev_word(is_set, ev_held(ev), ev_pollers(ev));
	} while (!ev_commit(ev, &old, new, owned, &tries));
	return is_set && !was_set && ev_pollers(ev);
}

static void ev_wake_pollers(struct ksync_event *ev)
{
	wake_up_interruptible_poll(&ev->obj.poll_wq, EPOLLIN | EPOLLRDNORM);
}

/*
 * Drop obj->lock, then wake whoever a set claimed meanwhile: a manual set
 * may let thousands pass, and the lock's other users need not wait for
 * that.  Nothing may preempt the walk: a claimed waiter that gave up
 * waits for it in ksync_wait_done() (wait.c; the barrier does the same).
 */
static void ev_unlock(struct ksync_event *ev, struct list_head *wake,
		      bool wake_poll)
	__releases(&ev->obj.lock)
{
	preempt_disable();
	spin_unlock(&ev->obj.lock);
	ksync_wait_wake_list(wake);
	preempt_enable();
	if (wake_poll)
		ev_wake_pollers(ev);
}

/*
 * The first half of a wait: can it complete now?  Then claim the waiter
 * (in a wait on several objects another object's waker may have been
 * first: KSYNC_WAIT_LOST) and complete it: an auto event's wait takes the
 * set state.  A sleeper ahead (only a scribbler sets the word over
 * sleepers) keeps its turn: a later set settles them.  Returns 0 (done)
 * or -EAGAIN, with *old the word as last read, for ev_link(); or, the
 * set state gone from the page after the claim, KSYNC_WAIT_RETRY.
 * Bounded: every pass but the last commits with tries, which
 * ksync_word_commit() bounds.
 */
static int ev_take(struct ksync_event *ev, struct ksync_wait_entry *e,
		   s64 *old, unsigned int *tries)
{
	bool claimed = false;
	int ret;

	lockdep_assert_held(&ev->obj.lock);
	for (;;) {
		if (!(*old & EV_SET) || !ev_nobody_ahead(ev)) {
			if (!claimed)
				return -EAGAIN;
			/* a process on the page took or reset it as we looked */
			ret = ksync_wait_unclaim_self(e);
			return ret ? ret : -EAGAIN;
		}
		/* only one operation of a wait on several completes */
		if (!claimed) {
			if (!ksync_wait_claim_self(e))
				return KSYNC_WAIT_LOST;
			claimed = true;
		}
		if (!ev->autoreset)
			return 0;
		if (ev_commit(ev, old, ev_word(false, ev_held(ev), ev_pollers(ev)),
			      ev_owned(ev), tries))
			return 0;
	}
}

/*
 * The second half: queue e and count it in the kernel's bits, in one
 * compare-and-swap from the clear word that ev_take() saw, so that no fast
 * set can slip in between.  -EAGAIN: the word changed (a fast set, say);
 * *old holds it now, and the caller takes again.
 */
static int ev_link(struct ksync_event *ev, struct ksync_wait_entry *e,
		   s64 *old, unsigned int *tries)
{
	s64 new = ev_word(*old & EV_SET, ev_held(ev) + 1, ev_pollers(ev));

	lockdep_assert_held(&ev->obj.lock);
	if (!ev_commit(ev, old, new, ev_owned(ev), tries))
		return -EAGAIN;
	ksync_wait_link(e, &ev->waiters, false);
	ev->nr_waiters++;
	return KSYNC_WAIT_QUEUED;
}

static void ev_wait_lock(struct ksync_wait_entry *e)
	__acquires(&e->obj->lock)
{
	spin_lock(&e->obj->lock);
}

static void ev_wait_unlock(struct ksync_wait_entry *e)
	__releases(&e->obj->lock)
{
	spin_unlock(&e->obj->lock);
}

static int ev_wait_try(struct ksync_wait_entry *e)
{
	struct ksync_event *ev = to_event(e->obj);
	unsigned int tries = 0;
	s64 old;
	int ret;

	ev->wait_calls++;
	old = ev_read(ev);
	do {
		ret = ev_take(ev, e, &old, &tries);
		if (ret != -EAGAIN)
			return ret;
		if (ksync_deadline_passed(e->w->expires))
			return -ETIMEDOUT;
		ret = ev_link(ev, e, &old, &tries);
	} while (ret == -EAGAIN);
	return ret;
}

/*
 * An auto set granted to us is taken, or given back: either way it no
 * longer holds the word, which goes back to what the counts say.
 */
static void ev_ungrant(struct ksync_event *ev)
{
	bool owned = ev_owned(ev);
	unsigned int tries = 0;
	s64 old;

	lockdep_assert_held(&ev->obj.lock);
	ev->nr_granted--;
	old = ev_read(ev);
	while (!ev_commit(ev, &old, ev_word(old & EV_SET, ev_held(ev), ev_pollers(ev)),
			  owned, &tries))
		;
}

/*
 * A set let us pass.  Any signal but a fatal one, or the deadline, came
 * too late: the grant wins and the wait returns 0, as the semaphore's
 * does.  (A task killed between the grant and now: ev_wait_give_back.)
 */
static int ev_wait_consume(struct ksync_wait_entry *e)
{
	struct ksync_event *ev = to_event(e->obj);

	if (ev->autoreset) {
		spin_lock(&ev->obj.lock);
		ev_ungrant(ev);
		spin_unlock(&ev->obj.lock);
	}
	return 0;
}

/*
 * A task killed before it ran passes an auto event's set on (to the next
 * sleeper, or back to the word): it would never use it.  Unless the event
 * was reset since: the set is over then, for everyone.  A manual event's
 * set stays on the word: nothing to pass on.
 */
static void ev_wait_give_back(struct ksync_wait_entry *e)
{
	struct ksync_event *ev = to_event(e->obj);
	bool wake_poll = false;
	LIST_HEAD(wake);

	if (!ev->autoreset)
		return;
	spin_lock(&ev->obj.lock);
	ev_ungrant(ev);
	if (to_ev_entry(e)->resets == ev->resets)
		wake_poll = ev_settle(ev, true, &wake);
	ev_unlock(ev, &wake, wake_poll);
}

/*
 * No set claimed us: leave the queue, and the kernel's bits with it.  We
 * were counted, so the word is ours (owned) and the first commit stores;
 * ksync_word_commit() would bound the loop anyway, whatever a process
 * writes on the page meanwhile.
 */
static int ev_wait_leave(struct ksync_wait_entry *e, int ret)
{
	struct ksync_event *ev = to_event(e->obj);
	bool owned = ev_owned(ev);
	unsigned int tries = 0;
	s64 old;

	lockdep_assert_held(&ev->obj.lock);
	list_del(&e->node);
	ev->nr_waiters--;
	old = ev_read(ev);
	while (!ev_commit(ev, &old, ev_word(old & EV_SET, ev_held(ev),
					    ev_pollers(ev)), owned, &tries))
		;
	return ret;
}

static const struct ksync_wait_ops ev_wait_ops = {
	.lock		= ev_wait_lock,
	.unlock		= ev_wait_unlock,
	.try		= ev_wait_try,
	.consume	= ev_wait_consume,
	.give_back	= ev_wait_give_back,
	.leave		= ev_wait_leave,
};

/*
 * KSYNC_OP_EVENT in a wait on several objects (select.c): a wait, as
 * KSYNC_IOC_EVENT_WAIT's, with the entry and its claim doing the rest.
 * An auto event's set goes to this op only if it is the one that
 * completes: ev_take() claims the waiter before it takes the set state,
 * and ev_grant() passes over an entry whose waiter another object
 * claimed.  Nothing to undo after the wait: no op_end.
 */
static int ev_op_init(struct ksync_file *kf, struct ksync_wait_op *op,
		      struct ksync_wait_op __user *uop, void *mem,
		      struct ksync_waiter *w, u32 index, struct ksync_wait_one *one)
{
	struct ksync_wait_entry *e = &((struct ev_entry *)mem)->e;

	if (op->kind != KSYNC_OP_EVENT || op->count || op->buf || op->len)
		return -EINVAL;
	ksync_wait_entry_init(e, w, kf->obj, index);
	one->e = e;
	one->ops = &ev_wait_ops;
	return 0;
}

static long ev_wait(struct ksync_file *kf, void __user *uarg)
{
	struct event_waiter ew = {};
	ktime_t expires, *deadline;
	struct ksync_event_wait args;
	int ret;

	ret = ksync_copy_args(&args, sizeof(args), sizeof(args), uarg);
	if (ret)
		return ret;
	if (args.flags & ~KSYNC_WAIT_FLAGS)
		return -EINVAL;
	deadline = ksync_wait_deadline(args.flags, args.deadline, &expires);
	ksync_waiter_init(&ew.w, deadline);
	ksync_wait_entry_init(&ew.ee.e, &ew.w, kf->obj, 0);
	return ksync_wait(&ew.ee.e, &ev_wait_ops);
}

static int ev_ctl_args(void __user *uarg)
{
	struct ksync_event_ctl args;
	int ret;

	ret = ksync_copy_args(&args, sizeof(args), sizeof(args), uarg);
	if (ret)
		return ret;
	return args.flags ? -EINVAL : 0;
}

static long ev_set(struct ksync_file *kf, void __user *uarg)
{
	struct ksync_event *ev = to_event(kf->obj);
	LIST_HEAD(wake);
	bool wake_poll;
	int ret;

	ret = ev_ctl_args(uarg);
	if (ret)
		return ret;
	spin_lock(&ev->obj.lock);
	ev->set_calls++;
	wake_poll = ev_settle(ev, true, &wake);
	ev_unlock(ev, &wake, wake_poll);
	return 0;
}

/* Clear the state; sleepers sleep on, pollers have nothing to hear. */
static long ev_reset(struct ksync_file *kf, void __user *uarg)
{
	struct ksync_event *ev = to_event(kf->obj);
	unsigned int tries = 0;
	bool owned;
	s64 old;
	int ret;

	ret = ev_ctl_args(uarg);
	if (ret)
		return ret;
	spin_lock(&ev->obj.lock);
	ev->reset_calls++;
	ev->resets++;
	owned = ev_owned(ev);
	old = ev_read(ev);
	while (!ev_commit(ev, &old, ev_word(false, ev_held(ev), ev_pollers(ev)),
			  owned, &tries))
		;
	spin_unlock(&ev->obj.lock);
	return 0;
}

static const struct ksync_cmd ev_cmds[] = {
	{ KSYNC_IOC_EVENT_INFO,		ksync_info_ioctl },
	{ KSYNC_IOC_EVENT_SET,		ev_set },
	{ KSYNC_IOC_EVENT_RESET,	ev_reset },
	{ KSYNC_IOC_EVENT_WAIT,		ev_wait },
};

/*
 * Readable while a wait would succeed now: set, and nobody queued that a
 * set could let pass (ev_nobody_ahead()).  Arm the poll bit whatever the
 * answer (see the top of this file); the poller is on poll_wq already.
 * A set word over sleepers is settled here as a set would, so that what
 * poll says is what a wait would find.
 */
static __poll_t ev_poll(struct ksync_file *kf, __poll_t want)
{
	struct ksync_event *ev = to_event(kf->obj);
	LIST_HEAD(wake);
	bool readable;

	spin_lock(&ev->obj.lock);
	ev_settle(ev, false, &wake);
	readable = (ev_read(ev) & EV_SET) && ev_nobody_ahead(ev);
	ev_unlock(ev, &wake, false);
	return readable ? EPOLLIN | EPOLLRDNORM : 0;
}

static int ev_check(const struct ksync_open_args *args, bool create)
{
	if (args->event.flags & ~KSYNC_EVENT_FLAGS || args->event.set > 1)
		return -EINVAL;
	return 0;
}

static struct ksync_obj *ev_create(const struct ksync_open_args *args)
{
	struct ksync_event *ev;

	ev = kzalloc(sizeof(*ev), GFP_KERNEL_ACCOUNT);
	if (!ev)
		return ERR_PTR(-ENOMEM);
	ev->page = alloc_page(GFP_KERNEL_ACCOUNT | __GFP_ZERO);
	if (!ev->page) {
		kfree(ev);
		return ERR_PTR(-ENOMEM);
	}
	ev->state = page_address(ev->page);
	ev->autoreset = args->event.flags & KSYNC_EVENT_FLAG_AUTO;
	atomic64_set(ev->state, args->event.set ? EV_SET : 0);
	INIT_LIST_HEAD(&ev->waiters);
	return &ev->obj;
}

/* Mappings hold their own references to the page: it outlives us if mapped. */
static void ev_free(struct ksync_obj *obj)
{
	struct ksync_event *ev = to_event(obj);

	put_page(ev->page);
	kfree(ev);
}

static struct page *ev_page(struct ksync_obj *obj, pgoff_t pgoff)
{
	return to_event(obj)->page;
}

/* What the event's snapshot holds. */
struct ev_snap {
	struct ksync_event_info info;	/* first: KSYNC_IOC_EVENT_INFO's */
	u64 fences;
};

static_assert(sizeof(struct ev_snap) <= sizeof_field(struct ksync_snap, data));

static void ev_snapshot(struct ksync_obj *obj, struct ksync_file *kf,
			struct ksync_snap *s, struct ksync_who *w)
{
	struct ksync_event *ev = to_event(obj);
	struct ev_snap *es = (void *)s->data;
	struct ksync_wait_entry *e;

	spin_lock(&ev->obj.lock);
	es->info.set = (ev_read(ev) & EV_SET) && ev_nobody_ahead(ev);
	es->info.flags = ev->autoreset ? KSYNC_EVENT_FLAG_AUTO : 0;
	es->info.waiters = ev->nr_waiters;
	es->info.wait_calls = ev->wait_calls;
	es->info.set_calls = ev->set_calls;
	es->info.reset_calls = ev->reset_calls;
	es->info.woken = ev->woken;
	es->fences = ev->fences;
	s->who = ev->nr_waiters;
	if (w)
		list_for_each_entry(e, &ev->waiters, node)
			if (!ksync_who_add(w, e->w->task, KSYNC_WHO_EVENT_WAITS, 1,
					   e->w->since))
				break;
	spin_unlock(&ev->obj.lock);
}

static void ev_summary(const struct ksync_snap *s, struct ksync_list_entry *e)
{
	const struct ev_snap *es = (const void *)s->data;

	e->event.set = es->info.set;
	e->event.waiters = es->info.waiters;
	e->event.flags = es->info.flags;
}

static void ev_fdinfo(struct seq_file *m, const struct ksync_snap *s)
{
	const struct ev_snap *es = (const void *)s->data;

	seq_printf(m, "ksync-type:\tevent\nksync-set:\t%u\n", es->info.set);
	seq_printf(m, "ksync-auto:\t%u\nksync-waiters:\t%u\n",
		   !!(es->info.flags & KSYNC_EVENT_FLAG_AUTO), es->info.waiters);
	seq_printf(m, "ksync-wait-calls:\t%llu\nksync-set-calls:\t%llu\n",
		   es->info.wait_calls, es->info.set_calls);
	seq_printf(m, "ksync-reset-calls:\t%llu\nksync-woken:\t%llu\n",
		   es->info.reset_calls, es->info.woken);
	seq_printf(m, "ksync-fences:\t%llu\n", es->fences);
}

const struct ksync_type ksync_event_type = {
	.type		= KSYNC_TYPE_EVENT,
	.name		= "[ksync-event]",
	.check		= ev_check,
	.create		= ev_create,
	.free		= ev_free,
	.cmds		= ev_cmds,
	.nr_cmds	= ARRAY_SIZE(ev_cmds),
	.poll		= ev_poll,
	.shm_pages	= 1,
	.page		= ev_page,
	.snapshot	= ev_snapshot,
	.info_size	= sizeof(struct ksync_event_info),
	.fdinfo		= ev_fdinfo,
	.summary	= ev_summary,
	.op_size	= sizeof(struct ev_entry),
	.op_init	= ev_op_init,
};
