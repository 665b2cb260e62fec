// SPDX-License-Identifier: GPL-2.0
/*
 * Counting semaphores.
 *
 * The state is one 64-bit word in a page that every process using the
 * semaphore maps (struct ksync_sem_shared): the value in the low half, the
 * kernel's bits in the high half.  While the kernel's bits are clear,
 * libksync takes and gives permits with a compare-and-swap on the word and
 * never enters the kernel.  Whoever must sleep calls KSYNC_IOC_SEM_ACQUIRE;
 * under obj->lock we re-read the word and, if the permits are still not
 * there, count ourselves in the kernel's bits before we sleep.  From then
 * on every fast path backs off and comes here, so a release cannot slip
 * past a sleeper (the futex race), and FIFO order and exact hand-over are
 * decided here, under the lock, as if there were no fast path at all.
 *
 * Sleepers wait in a FIFO list, each asking for its own number of permits.
 * A release serves the head of the list for as long as the value covers
 * it: it claims each such waiter for its permits and wakes exactly those
 * tasks, under obj->lock (wait.c).
 *
 * The page is user memory: any process that has the semaphore open can
 * write anything there.  We never keep our own state in it, clamp the
 * value we read, rewrite the kernel's bits from our own counts on every
 * change, and bound every retry (sem_commit), so that a scribbler can only
 * spoil the count of the semaphore it scribbles on.
 */
#include <linux/gfp.h>
#include <linux/mm.h>
#include <linux/pid.h>
#include <linux/poll.h>
#include <linux/sched.h>
#include <linux/seq_file.h>
#include <linux/slab.h>
#include <linux/uaccess.h>

#include "ksync.h"

/*
 * The word is shared with userspace's compare-and-swap: the kernel's side
 * must be a real 64-bit atomic instruction, not the spinlocked emulation
 * (lib/atomic64.c) that userspace cannot take part in.
 */
#ifdef CONFIG_GENERIC_ATOMIC64
#error "ksync needs 64-bit atomics that userspace can share (not GENERIC_ATOMIC64)"
#endif

/* The kernel's bits: sleepers counted from bit 32, pollers in bit 63. */
#define SEM_SLEEPER		BIT_ULL(32)
#define SEM_POLL_ARMED		BIT_ULL(63)

struct ksync_sem {
	struct ksync_obj obj;
	struct page *page;		/* mapped by every user */
	atomic64_t *state;		/* the word in that page */
	struct list_head waiters;	/* struct ksync_sem_waiter's e, FIFO */
	struct list_head holders;	/* UNDO files holding permits */
	u32 nr_holders;
	u32 nr_waiters;
	bool poll_armed;		/* a poller saw zero: wake it */
	u64 wait_calls;
	u64 wake_calls;
	u64 woken;
	u64 fences;			/* sem_commit gave up comparing */
	u32 max;			/* the most it holds; set at creation */
	bool declared;			/* max was asked for: see sem_settle_word */
};

/* An acquire, on the caller's stack: its waiter and its entry (wait.c). */
struct ksync_sem_waiter {
	struct ksync_wait_entry e;	/* on sem->waiters */
	struct ksync_waiter w;
	struct ksync_file *kf;
	struct pid *old_by;		/* for the caller to put, unlocked */
	u32 count;
	bool wake_poll;			/* pollers to wake, after unlocking */
	bool counted;			/* sem_settle_word() served it; obj->lock */
};

static struct ksync_sem *to_sem(struct ksync_obj *obj)
{
	return container_of(obj, struct ksync_sem, obj);
}

static struct ksync_sem_waiter *to_sem_waiter(struct ksync_wait_entry *e)
{
	return container_of(e, struct ksync_sem_waiter, e);
}

/* The value in a word read from the page, whatever was written there. */
static u32 sem_value_of(const struct ksync_sem *sem, s64 word)
{
	return min_t(u32, (u32)word, sem->max);
}

/* What the kernel's bits must say, from the kernel's own counts. */
static u64 sem_kernel_bits(u32 nr_waiters, bool poll_armed)
{
	return (u64)nr_waiters * SEM_SLEEPER | (poll_armed ? SEM_POLL_ARMED : 0);
}

/*
 * Read the word before deciding on it.  Acquire: pairs with the release
 * compare-and-swap of ksync_fast_give() (ulib/sem_fast.h), so that permits
 * a fast path gave back, and everything written before, are visible to
 * the task we hand them to.
 */
static s64 sem_read(struct ksync_sem *sem)
{
	return atomic64_read_acquire(sem->state);
}

/* Replace the word: see ksync_word_commit() (word.c). */
static bool sem_commit(struct ksync_sem *sem, s64 *old, s64 new,
		       unsigned int *tries)
{
	lockdep_assert_held(&sem->obj.lock);
	return ksync_word_commit(sem->state, old, new,
				 sem->nr_waiters || sem->poll_armed,
				 SEM_POLL_ARMED, tries, &sem->fences);
}

static int sem_check(const struct ksync_open_args *args, bool create)
{
	const u32 limit = args->sem.max ?: KSYNC_SEM_VALUE_MAX;

	if (limit > KSYNC_SEM_VALUE_MAX || args->sem.value > limit)
		return -EINVAL;
	return 0;
}

static struct ksync_obj *sem_create(const struct ksync_open_args *args)
{
	struct ksync_sem *sem;

	sem = kzalloc(sizeof(*sem), GFP_KERNEL_ACCOUNT);
	if (!sem)
		return ERR_PTR(-ENOMEM);
	sem->page = alloc_page(GFP_KERNEL_ACCOUNT | __GFP_ZERO);
	if (!sem->page) {
		kfree(sem);
		return ERR_PTR(-ENOMEM);
	}
	sem->state = page_address(sem->page);
	sem->max = args->sem.max ?: KSYNC_SEM_VALUE_MAX;
	sem->declared = args->sem.max;
	atomic64_set(sem->state, args->sem.value);
	INIT_LIST_HEAD(&sem->waiters);
	INIT_LIST_HEAD(&sem->holders);
	return &sem->obj;
}

/* Mappings hold their own references to the page: it outlives us if mapped. */
static void sem_free(struct ksync_obj *obj)
{
	struct ksync_sem *sem = to_sem(obj);

	put_page(sem->page);
	kfree(sem);
}

/* Forget the n waiters a pass of sem_settle_word() counted. */
static void sem_uncount(struct ksync_sem *sem, unsigned int n)
{
	struct ksync_wait_entry *e;

	list_for_each_entry(e, &sem->waiters, node) {
		if (!n)
			break;
		if (to_sem_waiter(e)->counted) {
			to_sem_waiter(e)->counted = false;
			n--;
		}
	}
}

/*
 * The word after adding add permits and serving the head of the queue for
 * as long as the value covers it: *n waiters served.  The sum is taken in
 * 64 bits and checked against the maximum only after the queue is served:
 * a release that the head consumes at once cannot overflow, whatever the
 * value was.  What is left beyond the maximum fails the release with
 * -EOVERFLOW (nothing changes) or, for UNDO's give-back, is dropped
 * (saturate), as SysV SEM_UNDO clamps.  A declared maximum is stricter,
 * as ntsync's: value + add may not pass it, sleepers or not, since there
 * are never more permits than it and a sleeper holds none; so a double
 * release fails even when a sleeper would take what it gives.  Returns 1
 * if pollers must be woken (after the caller unlocks), 0, or -EOVERFLOW.
 */
static int sem_settle_word(struct ksync_sem *sem, u64 add, bool saturate,
			   unsigned int *n)
{
	struct ksync_wait_entry *e;
	unsigned int tries = 0;
	bool wake_poll, stopped;
	s64 old, new;
	u64 value;

	old = sem_read(sem);
	*n = 0;
	do {
		sem_uncount(sem, *n);
		*n = 0;
		value = sem_value_of(sem, old) + add;
		if (sem->declared && !saturate && value > sem->max)
			return -EOVERFLOW;
		stopped = false;
		list_for_each_entry(e, &sem->waiters, node) {
			/*
			 * One claimed by another object leaves by itself.  A
			 * claim may come at any time, lock or not: those
			 * served are marked, so that sem_grant() serves
			 * exactly them, and gives back the permits of any
			 * claimed since.
			 */
			if (!ksync_wait_pending(e))
				continue;
			if (to_sem_waiter(e)->count > value) {
				stopped = true;
				break;
			}
			value -= to_sem_waiter(e)->count;
			to_sem_waiter(e)->counted = true;
			++*n;
		}
		if (value > sem->max) {
			if (!saturate) {
				sem_uncount(sem, *n);
				return -EOVERFLOW;
			}
			value = sem->max;
		}
		/* readable again: nobody left in the queue (but those served), and a permit */
		wake_poll = sem->poll_armed && !stopped && value;
		new = value | sem_kernel_bits(sem->nr_waiters - *n,
					      sem->poll_armed && !wake_poll);
	} while (!sem_commit(sem, &old, new, &tries));
	if (wake_poll)
		sem->poll_armed = false;
	return wake_poll;
}

/*
 * Claim the first n waiters the word was settled for, onto wake.  Returns
 * the permits of those another object's waker claimed meanwhile (a wait
 * on several objects), which go back to the value.
 */
static u64 sem_grant(struct ksync_sem *sem, unsigned int n, struct list_head *wake)
{
	struct ksync_wait_entry *e, *tmp;
	u64 lost = 0;

	lockdep_assert_held(&sem->obj.lock);
	list_for_each_entry_safe(e, tmp, &sem->waiters, node) {
		if (!n)
			break;
		/* exactly those the word was settled for (pending then) */
		if (!to_sem_waiter(e)->counted)
			continue;
		to_sem_waiter(e)->counted = false;
		n--;
		if (!ksync_wait_claim(e, 0, wake)) {
			lost += to_sem_waiter(e)->count;
			continue;
		}
		sem->nr_waiters--;
		sem->woken++;
	}
	return lost;
}

/*
 * Add permits, then serve the head of the queue while the value covers
 * it, claiming and waking exactly those waiters, under obj->lock as
 * wait.c's rule asks; a woken acquirer returns without taking the lock.
 * Returns 1 if pollers must be woken (after the caller unlocks), 0, or
 * -EOVERFLOW.
 */
static int sem_settle(struct ksync_sem *sem, u64 add, bool saturate)
{
	LIST_HEAD(wake);
	unsigned int n;
	int ret, wake_poll = 0;

	lockdep_assert_held(&sem->obj.lock);
	do {
		ret = sem_settle_word(sem, add, saturate, &n);
		if (ret < 0)
			return ret;
		wake_poll |= ret;
		add = sem_grant(sem, n, &wake);
		saturate = true;	/* permits we had a moment ago */
	} while (add);
	ksync_wait_wake_list(&wake);
	return wake_poll;
}

static void sem_wake_pollers(struct ksync_sem *sem)
{
	wake_up_interruptible_poll(&sem->obj.poll_wq, EPOLLIN | EPOLLRDNORM);
}

/*
 * Does nobody wait ahead of a newcomer?  Entries of a wait on several
 * objects that another object claimed are on their way out, and hold
 * nobody's place.
 */
static bool sem_nobody_ahead(struct ksync_sem *sem)
{
	struct ksync_wait_entry *e;

	list_for_each_entry(e, &sem->waiters, node)
		if (ksync_wait_pending(e))
			return false;
	return true;
}

/*
 * Readable means "an acquire of 1 would succeed now": nobody queues and
 * there is a permit.  When it is not (or when always is set), set the poll
 * bit so that the next release comes here and wakes the pollers; they
 * added themselves to poll_wq before calling us, so none is missed.
 * Returns whether the semaphore is readable.
 */
static bool sem_arm_poll(struct ksync_sem *sem, bool always)
{
	bool readable, nobody = sem_nobody_ahead(sem);
	unsigned int tries = 0;
	s64 old, new;
	u32 value;

	lockdep_assert_held(&sem->obj.lock);
	old = sem_read(sem);
	do {
		value = sem_value_of(sem, old);
		readable = nobody && value;
		if (readable && !always)
			return true;
		new = value | sem_kernel_bits(sem->nr_waiters, true);
		/* already armed, and nobody has scribbled the bit away */
		if (new == old)
			break;
	} while (!sem_commit(sem, &old, new, &tries));
	sem->poll_armed = true;
	return readable;
}

/*
 * Take the permits now if nobody queues and the value covers them, else
 * (unless the deadline has passed) count ourselves in the kernel's bits,
 * so that no fast path can take or give permits behind our back.
 * Returns 0 (taken), KSYNC_WAIT_QUEUED or -ETIMEDOUT.
 */
static int sem_take_or_queue(struct ksync_sem *sem, struct ksync_sem_waiter *sw)
{
	bool taken, claimed = false, nobody_waits = sem_nobody_ahead(sem);
	unsigned int tries = 0;
	s64 old, new;
	u32 value;
	int ret;

	lockdep_assert_held(&sem->obj.lock);
	old = sem_read(sem);
	do {
		value = sem_value_of(sem, old);
		taken = nobody_waits && value >= sw->count;
		/* only one operation of a wait on several completes */
		if (taken && !claimed) {
			if (!ksync_wait_claim_self(&sw->e))
				return KSYNC_WAIT_LOST;
			claimed = true;
		} else if (!taken && claimed) {
			/* a fast path took them as we looked */
			ret = ksync_wait_unclaim_self(&sw->e);
			if (ret)
				return ret;
			claimed = false;
		}
		if (!taken && ksync_deadline_passed(sw->e.w->expires))
			return -ETIMEDOUT;
		if (taken)
			new = (value - sw->count) |
			      sem_kernel_bits(sem->nr_waiters, sem->poll_armed);
		else
			new = value | sem_kernel_bits(sem->nr_waiters + 1,
						      sem->poll_armed);
	} while (!sem_commit(sem, &old, new, &tries));
	if (taken)
		return 0;
	ksync_wait_link(&sw->e, &sem->waiters, false);
	sem->nr_waiters++;
	return KSYNC_WAIT_QUEUED;
}

/*
 * An UNDO file took count permits: count them to give back, and remember
 * who took them, for KSYNC_IOC_WHO.  Returns the pid reference it no
 * longer needs, for the caller to put after unlocking.
 */
static struct pid *sem_hold(struct ksync_sem *sem, struct ksync_file *kf, u32 count)
{
	struct pid *tgid = task_tgid(current), *old = NULL;

	lockdep_assert_held(&sem->obj.lock);
	if (!kf->sem.held) {
		list_add_tail(&kf->sem.holding, &sem->holders);
		sem->nr_holders++;
	}
	kf->sem.held += count;
	if (kf->sem.by != tgid) {
		old = kf->sem.by;
		kf->sem.by = get_pid(tgid);
	}
	return old;
}

/* Some or all given back: off the holders' list once none is left. */
static void sem_unhold(struct ksync_sem *sem, struct ksync_file *kf, u64 count)
{
	lockdep_assert_held(&sem->obj.lock);
	if (!kf->sem.held)
		return;
	kf->sem.held -= min(kf->sem.held, count);
	if (!kf->sem.held) {
		list_del(&kf->sem.holding);
		sem->nr_holders--;
	}
}

static void sem_wait_lock(struct ksync_wait_entry *e)
	__acquires(&e->obj->lock)
{
	spin_lock(&e->obj->lock);
}

static void sem_wait_unlock(struct ksync_wait_entry *e)
	__releases(&e->obj->lock)
{
	struct ksync_sem_waiter *sw = to_sem_waiter(e);

	spin_unlock(&e->obj->lock);
	if (sw->wake_poll) {
		sw->wake_poll = false;
		sem_wake_pollers(to_sem(e->obj));
	}
}

/* UNDO: the permits are the file's to give back, and we took them. */
static void sem_took(struct ksync_sem *sem, struct ksync_sem_waiter *sw)
{
	if (sw->kf->flags & KSYNC_OPEN_UNDO)
		sw->old_by = sem_hold(sem, sw->kf, sw->count);
}

static int sem_wait_try(struct ksync_wait_entry *e)
{
	struct ksync_sem_waiter *sw = to_sem_waiter(e);
	struct ksync_sem *sem = to_sem(e->obj);
	int ret;

	sem->wait_calls++;
	if (!sw->count)
		return 0;
	ret = sem_take_or_queue(sem, sw);
	/*
	 * A failed try is how an edge-triggered poller drains, with any
	 * count: arm the poll bit, even if one permit is there, so that the
	 * next release wakes the poller.  Pollers add themselves to poll_wq
	 * before they check (and arm) under obj->lock, so none is missed.
	 */
	if (ret == -ETIMEDOUT && waitqueue_active(&sem->obj.poll_wq))
		sem_arm_poll(sem, true);
	if (!ret)
		sem_took(sem, sw);
	return ret;
}

/*
 * Granted: sem_settle() took our permits out of the value for us.  (A
 * task killed between the grant and now gives them back at once: it would
 * never use them, and without UNDO nothing else would return them:
 * sem_wait_give_back.)
 */
static int sem_wait_consume(struct ksync_wait_entry *e)
{
	struct ksync_sem_waiter *sw = to_sem_waiter(e);
	struct ksync_sem *sem = to_sem(e->obj);

	if (sw->kf->flags & KSYNC_OPEN_UNDO) {
		spin_lock(&e->obj->lock);
		sem_took(sem, sw);
		spin_unlock(&e->obj->lock);
	}
	return 0;
}

/* A task killed before it ran: its permits go to the next in line. */
static void sem_wait_give_back(struct ksync_wait_entry *e)
{
	struct ksync_sem_waiter *sw = to_sem_waiter(e);

	sem_wait_lock(e);
	sw->wake_poll = sem_settle(to_sem(e->obj), sw->count, true) > 0;
	sem_wait_unlock(e);
}

static int sem_wait_leave(struct ksync_wait_entry *e, int ret)
{
	struct ksync_sem *sem = to_sem(e->obj);

	lockdep_assert_held(&sem->obj.lock);
	list_del(&e->node);
	sem->nr_waiters--;
	/* we may have been the head blocking smaller requests */
	to_sem_waiter(e)->wake_poll = sem_settle(sem, 0, true) > 0;
	return ret;
}

static const struct ksync_wait_ops sem_wait_ops = {
	.lock		= sem_wait_lock,
	.unlock		= sem_wait_unlock,
	.try		= sem_wait_try,
	.consume	= sem_wait_consume,
	.give_back	= sem_wait_give_back,
	.leave		= sem_wait_leave,
};

/* KSYNC_OP_ACQUIRE in a wait on several objects (select.c). */
static int sem_op_init(struct ksync_file *kf, struct ksync_wait_op *op,
		       struct ksync_wait_op __user *uop, void *mem,
		       struct ksync_waiter *w, u32 index, struct ksync_wait_one *one)
{
	struct ksync_sem *sem = to_sem(kf->obj);
	struct ksync_sem_waiter *sw = mem;

	if (op->kind != KSYNC_OP_ACQUIRE || !op->count || op->buf || op->len ||
	    op->count > KSYNC_SEM_VALUE_MAX)
		return -EINVAL;
	if (op->count > sem->max)
		return -ERANGE;
	sw->kf = kf;
	sw->count = op->count;
	ksync_wait_entry_init(&sw->e, w, &sem->obj, index);
	one->e = &sw->e;
	one->ops = &sem_wait_ops;
	return 0;
}

static void sem_op_end(void *mem)
{
	struct ksync_sem_waiter *sw = mem;

	put_pid(sw->old_by);
}

static long sem_acquire(struct ksync_file *kf, void __user *uarg)
{
	struct ksync_sem *sem = to_sem(kf->obj);
	struct ksync_sem_waiter sw = { .kf = kf };
	ktime_t expires, *deadline;
	struct ksync_sem_wait args;
	int ret;

	ret = ksync_copy_args(&args, sizeof(args), sizeof(args), uarg);
	if (ret)
		return ret;
	if (args.flags & ~KSYNC_WAIT_FLAGS || args.pad ||
	    args.count > KSYNC_SEM_VALUE_MAX)
		return -EINVAL;
	/* more than it can ever hold would wait for ever: say so at once */
	if (args.count > sem->max)
		return -ERANGE;
	deadline = ksync_wait_deadline(args.flags, args.deadline, &expires);

	sw.count = args.count;
	ksync_waiter_init(&sw.w, deadline);
	ksync_wait_entry_init(&sw.e, &sw.w, &sem->obj, 0);
	ret = ksync_wait(&sw.e, &sem_wait_ops);
	put_pid(sw.old_by);
	return ret;
}

static long sem_release(struct ksync_file *kf, void __user *uarg)
{
	struct ksync_sem *sem = to_sem(kf->obj);
	struct ksync_sem_post args;
	int ret;

	ret = ksync_copy_args(&args, sizeof(args), sizeof(args), uarg);
	if (ret)
		return ret;
	if (args.flags || args.pad || args.count > KSYNC_SEM_VALUE_MAX)
		return -EINVAL;

	spin_lock(&sem->obj.lock);
	sem->wake_calls++;
	ret = args.count ? sem_settle(sem, args.count, false) : 0;
	if (ret >= 0 && kf->flags & KSYNC_OPEN_UNDO)
		sem_unhold(sem, kf, args.count);
	spin_unlock(&sem->obj.lock);
	if (ret > 0)
		sem_wake_pollers(sem);
	return ret < 0 ? ret : 0;
}

static const struct ksync_cmd sem_cmds[] = {
	{ KSYNC_IOC_SEM_INFO,		ksync_info_ioctl },
	{ KSYNC_IOC_SEM_ACQUIRE,	sem_acquire },
	{ KSYNC_IOC_SEM_RELEASE,	sem_release },
};

/*
 * Readable while an acquire of 1 would succeed now.  The word alone can say
 * so when the kernel's bits are clear (nobody queues); otherwise decide
 * under the lock, from our own counts, and arm the poll bit if not.
 */
static __poll_t sem_poll(struct ksync_file *kf, __poll_t want)
{
	struct ksync_sem *sem = to_sem(kf->obj);
	s64 word = sem_read(sem);
	bool readable;

	if (!(word & KSYNC_SEM_STATE_KERNEL) && sem_value_of(sem, word))
		return EPOLLIN | EPOLLRDNORM;
	spin_lock(&sem->obj.lock);
	readable = sem_arm_poll(sem, false);
	spin_unlock(&sem->obj.lock);
	return readable ? EPOLLIN | EPOLLRDNORM : 0;
}

/* The one page (shm.c maps it, pgoff < shm_pages): the state word. */
static struct page *sem_page(struct ksync_obj *obj, pgoff_t pgoff)
{
	return to_sem(obj)->page;
}

/* KSYNC_OPEN_UNDO: the fd is going away, so are the permits it held. */
static void sem_undo(struct ksync_file *kf)
{
	struct ksync_sem *sem = to_sem(kf->obj);
	int wake_poll = 0;
	struct pid *by;

	spin_lock(&sem->obj.lock);
	if (kf->sem.held) {
		wake_poll = sem_settle(sem, kf->sem.held, true);
		sem_unhold(sem, kf, kf->sem.held);
	}
	by = kf->sem.by;
	kf->sem.by = NULL;
	spin_unlock(&sem->obj.lock);
	put_pid(by);
	if (wake_poll > 0)
		sem_wake_pollers(sem);
}

/* What the semaphore's snapshot holds. */
struct sem_snap {
	struct ksync_sem_info info;	/* first: KSYNC_IOC_SEM_INFO's */
	u64 fences;
};

static_assert(sizeof(struct sem_snap) <= sizeof_field(struct ksync_snap, data));

/* Holders (UNDO files with permits, by process) first, then sleepers. */
static void sem_who(struct ksync_sem *sem, struct ksync_who *w)
{
	struct ksync_wait_entry *e;
	struct ksync_file *kf;

	lockdep_assert_held(&sem->obj.lock);
	list_for_each_entry(kf, &sem->holders, sem.holding)
		if (!ksync_who_add_pid(w, kf->sem.by, KSYNC_WHO_HOLDS, kf->sem.held))
			return;
	list_for_each_entry(e, &sem->waiters, node)
		if (!ksync_who_add(w, e->w->task, KSYNC_WHO_ACQUIRES,
				   to_sem_waiter(e)->count, e->w->since))
			return;
}

static void sem_snapshot(struct ksync_obj *obj, struct ksync_file *kf,
			 struct ksync_snap *s, struct ksync_who *w)
{
	struct ksync_sem *sem = to_sem(obj);
	struct sem_snap *ss = (void *)s->data;

	spin_lock(&sem->obj.lock);
	ss->info.value = sem_value_of(sem, sem_read(sem));
	ss->info.max = sem->max;
	ss->info.waiters = sem->nr_waiters;
	ss->info.held = kf ? kf->sem.held : 0;
	ss->info.wait_calls = sem->wait_calls;
	ss->info.wake_calls = sem->wake_calls;
	ss->info.woken = sem->woken;
	ss->fences = sem->fences;
	s->who = sem->nr_holders + sem->nr_waiters;
	if (w)
		sem_who(sem, w);
	spin_unlock(&sem->obj.lock);
}

static void sem_summary(const struct ksync_snap *s, struct ksync_list_entry *e)
{
	const struct sem_snap *ss = (const void *)s->data;

	e->sem.value = ss->info.value;
	e->sem.waiters = ss->info.waiters;
	e->sem.max = ss->info.max;
}

static void sem_fdinfo(struct seq_file *m, const struct ksync_snap *s)
{
	const struct sem_snap *ss = (const void *)s->data;

	seq_printf(m, "ksync-type:\tsem\nksync-value:\t%u\n", ss->info.value);
	seq_printf(m, "ksync-waiters:\t%u\n", ss->info.waiters);
	seq_printf(m, "ksync-held:\t%llu\nksync-wait-calls:\t%llu\n",
		   ss->info.held, ss->info.wait_calls);
	seq_printf(m, "ksync-wake-calls:\t%llu\nksync-woken:\t%llu\n",
		   ss->info.wake_calls, ss->info.woken);
	/* after the lines of KSYNC_0.2, for readers that go by position */
	seq_printf(m, "ksync-fences:\t%llu\nksync-max:\t%u\n", ss->fences, ss->info.max);
}

const struct ksync_type ksync_sem_type = {
	.type		= KSYNC_TYPE_SEM,
	.name		= "[ksync-sem]",
	.open_flags	= KSYNC_OPEN_UNDO,
	.check		= sem_check,
	.create		= sem_create,
	.free		= sem_free,
	.cmds		= sem_cmds,
	.nr_cmds	= ARRAY_SIZE(sem_cmds),
	.poll		= sem_poll,
	.shm_pages	= 1,
	.page		= sem_page,
	.release	= sem_undo,
	.snapshot	= sem_snapshot,
	.info_size	= sizeof(struct ksync_sem_info),
	.fdinfo		= sem_fdinfo,
	.summary	= sem_summary,
	.op_size	= sizeof(struct ksync_sem_waiter),
	.op_init	= sem_op_init,
	.op_end		= sem_op_end,
};
