// SPDX-License-Identifier: GPL-2.0
/*
 * Waiting, for every type: one waiter record per sleeping task, one sleep
 * loop, one wake rule, one reading of deadlines and signals.
 *
 * A task that must wait fills a struct ksync_waiter on its stack, and one
 * struct ksync_wait_entry per object it waits on, which the object's type
 * links on its own list of waiters, under its own lock.  A waker, holding
 * that object's lock, claims the waiter for its entry with a
 * compare-and-swap on 'signaled' (ksync_wait_claim()): of all the wakers of
 * all the objects a waiter waits on, and the waiter itself giving up
 * (ksync_wait_cancel()), exactly one wins, so a grant is never given to a
 * waiter that goes away without it, nor twice.  The winner unlinks the
 * entry, and its last touch of the record is ksync_wait_wake_list(), which sets
 * 'done' and wakes the task: before the waker drops the object's lock (the
 * semaphore, the queue), or, for the barrier, whose one round may wake
 * thousands, just after, with preemption off from the unlock to the end
 * of the walk.  The record lives on the waiter's stack, so the waiter
 * returns only once 'done' is set; a waiter that gave up and lost the claim
 * (it took the same lock to find out) waits for it in ksync_wait_done(),
 * which so waits for a running walk at most, never for a preempted waker.
 * This is ntsync's ntsync_q, with the claim and the last touch apart.
 *
 * The type supplies the rest (struct ksync_wait_ops): how to try its
 * operation for the waiter (and queue it if it cannot be done now), what
 * to make of a grant, and how to leave its list without one.
 *
 * Several objects (ksync_wait_many(), at the end): the record and the
 * claim assume no number of them.  A waiter never holds two object locks
 * at once; each waker holds one, of whatever kind (the semaphore's and
 * the barrier's spinlock, the queue's mutex, a file's wait queue lock),
 * and the compare-and-swap, not any lock, decides between them; a waker
 * that counts before it claims gives back what a failed claim would have
 * taken (sem_grant()).  Whoever completes an operation claims the waiter
 * first, the waiter's own try included (ksync_wait_claim_self()), so
 * exactly one completes (docs/design.md, "Waiting on several objects").
 */
#include <linux/hrtimer.h>
#include <linux/ktime.h>
#include <linux/rcupdate.h>
#include <linux/sched.h>
#include <linux/sched/signal.h>
#include <linux/time_namespace.h>

#include "ksync.h"

/*
 * Deadlines arrive as CLOCK_MONOTONIC in the caller's time namespace; the
 * hrtimer runs on the host's clock.  timens_ktime_to_host() is not
 * exported, but the offsets it applies are plain data in current's nsproxy.
 * The deadline is absolute, so a restarted call waits exactly as long as
 * the first would have.
 */
static ktime_t ksync_deadline(u64 ns)
{
	ktime_t t = ns > KTIME_MAX ? KTIME_MAX : (ktime_t)ns;
#ifdef CONFIG_TIME_NS
	ktime_t off;

	off = timespec64_to_ktime(current->nsproxy->time_ns->offsets.monotonic);
	if (t != KTIME_MAX && check_sub_overflow(t, off, &t))
		t = off > 0 ? 0 : KTIME_MAX;
#endif
	return t;
}

/*
 * The one reading of a wait's deadline: NULL for none, else *t, the
 * deadline on the host's clock.
 */
ktime_t *ksync_wait_deadline(u32 flags, u64 ns, ktime_t *t)
{
	if (!(flags & KSYNC_WAIT_DEADLINE))
		return NULL;
	*t = ksync_deadline(ns);
	return t;
}

/* Has the deadline (NULL: none) passed?  A past one means "try once". */
bool ksync_deadline_passed(const ktime_t *expires)
{
	return expires && ktime_compare(*expires, ktime_get()) <= 0;
}

/*
 * Make the waiter nobody's again, for a new round of links ('result'
 * stays: the consume that follows reads it).  Only while no entry of it
 * is on any list, so that no waker sees it meanwhile: in a wait on
 * several objects, linking one entry must not undo a claim of another.
 */
static void ksync_waiter_arm(struct ksync_waiter *w)
{
	atomic_set(&w->signaled, KSYNC_WAIT_PENDING);
	w->done = 0;
}

void ksync_waiter_init(struct ksync_waiter *w, ktime_t *expires)
{
	w->task = current;
	w->expires = expires;
	w->since = 0;
	w->result = 0;
	w->many = false;
	ksync_waiter_arm(w);
}

void ksync_wait_entry_init(struct ksync_wait_entry *e, struct ksync_waiter *w,
			   struct ksync_obj *obj, u32 index)
{
	INIT_LIST_HEAD(&e->node);
	e->w = w;
	e->obj = obj;
	e->index = index;
}

/*
 * Queue e on an object's list of waiters (at its head: a waiter that lost
 * what it was granted keeps its turn), under the object's lock.  The
 * waiter is armed (nobody's) already: by ksync_waiter_init(), or by the
 * wait loop before a consume that may queue it again.
 */
void ksync_wait_link(struct ksync_wait_entry *e, struct list_head *list,
		     bool front)
{
	struct ksync_waiter *w = e->w;

	if (!w->since)
		w->since = ktime_get_ns();
	if (front)
		list_add(&e->node, list);
	else
		list_add_tail(&e->node, list);
}

/* Is e's waiter still nobody's (a waker may count it)? */
bool ksync_wait_pending(const struct ksync_wait_entry *e)
{
	return atomic_read(&e->w->signaled) == KSYNC_WAIT_PENDING;
}

/*
 * Claim e's waiter, under the object's lock, and move e to the waker's
 * list: the caller wakes it with ksync_wait_wake_list() before it unlocks,
 * or without a preemption point after (bar_unlock()).  False: another
 * waker, or the waiter itself, was first.
 */
bool ksync_wait_claim(struct ksync_wait_entry *e, int result,
		      struct list_head *wake)
{
	struct ksync_waiter *w = e->w;
	int pending = KSYNC_WAIT_PENDING;

	/* fully ordered: pairs with the compare-and-swap in ksync_wait_cancel() */
	if (!atomic_try_cmpxchg(&w->signaled, &pending, e->index))
		return false;
	w->result = result;
	list_move_tail(&e->node, wake);
	return true;
}

/* The claimer's last touch of each waiter on wake; wake is garbage after. */
void ksync_wait_wake_list(struct list_head *wake)
{
	struct ksync_wait_entry *e, *tmp;

	list_for_each_entry_safe(e, tmp, wake, node) {
		struct task_struct *task = e->w->task;

		/*
		 * The waiter may return, and its task exit, once 'done' is
		 * set: a task_struct is freed after an RCU grace period, so
		 * it stays valid for the wake-up, as in rcuwait_wake_up().
		 */
		rcu_read_lock();
		/*
		 * release: pairs with the acquire in ksync_wait_sleep() and
		 * ksync_wait_done(): the grant, and 'result', before 'done'.
		 * e and its waiter may be gone once it is set.
		 */
		smp_store_release(&e->w->done, 1);
		wake_up_process(task);
		rcu_read_unlock();
	}
}

/*
 * Claim and wake at once, with preemption off between the two: for a
 * waker that holds a sleeping lock (the queue's mutex), so that a waiter
 * of several objects that lost the claim to it never waits in D state for
 * a waker that was preempted in between (ksync_wait_done()).
 */
bool ksync_wait_grant(struct ksync_wait_entry *e, int result)
{
	LIST_HEAD(wake);
	bool claimed;

	preempt_disable();
	claimed = ksync_wait_claim(e, result, &wake);
	ksync_wait_wake_list(&wake);
	preempt_enable();
	return claimed;
}

/*
 * A try (or a consume) that can complete e's operation now claims the
 * waiter for e first, under e's object lock, and completes it only if
 * that succeeds: in a wait on several objects a waker of another may have
 * claimed it (KSYNC_WAIT_LOST), and exactly one operation completes.
 * With one object nobody else can claim the waiter: this always succeeds.
 */
bool ksync_wait_claim_self(struct ksync_wait_entry *e)
{
	int pending = KSYNC_WAIT_PENDING;

	/* fully ordered: pairs with the compare-and-swap in ksync_wait_claim() */
	return atomic_try_cmpxchg(&e->w->signaled, &pending, e->index);
}

/*
 * The claim was made and the operation could not complete after all (a
 * process on the shared page was first).  With one object, make the
 * waiter nobody's again: it is on no list.  With several, wakers may have
 * passed over its other entries meanwhile, so it must not go back to
 * sleep on them: KSYNC_WAIT_RETRY, and ksync_wait_many() starts again.
 */
int ksync_wait_unclaim_self(struct ksync_wait_entry *e)
{
	if (e->w->many)
		return KSYNC_WAIT_RETRY;
	atomic_set(&e->w->signaled, KSYNC_WAIT_PENDING);
	return 0;
}

/*
 * The one sleep: until a waker is done with us (0), a signal, or the
 * deadline.  A grant wins: 'done' is looked at first.  A signal gives
 * -ERESTARTNOHAND, so that the kernel decides: the call ends with -EINTR
 * only if a handler runs (with SA_RESTART or not, as sem_wait(3) does);
 * a stop and continue, ptrace, the freezer restart it, and the absolute
 * deadline makes the restart exact.
 */
static int ksync_wait_sleep(struct ksync_waiter *w)
{
	bool expired = false;
	int ret = 0;

	for (;;) {
		set_current_state(TASK_INTERRUPTIBLE);
		/* acquire: pairs with the release in ksync_wait_wake_list() */
		if (smp_load_acquire(&w->done))
			break;
		if (signal_pending(current)) {
			ret = -ERESTARTNOHAND;
			break;
		}
		if (expired) {
			ret = -ETIMEDOUT;
			break;
		}
		if (!w->expires)
			schedule();
		else if (!schedule_hrtimeout_range(w->expires, current->timer_slack_ns,
						   HRTIMER_MODE_ABS))
			expired = true;
	}
	__set_current_state(TASK_RUNNING);
	return ret;
}

/*
 * A waker claimed us and is about to let go of the record.  Sleep (not
 * spin: it may need our CPU) until it has; not interruptibly: the record
 * is on our stack, and the waker will write it.  With one object, for a
 * running walk at most (see the top of this file).  In a wait on several
 * objects, for the waker of another object, which has preemption off from
 * its claim to 'done' whatever lock it holds (ksync_wait_grant() for the
 * queue's mutex).
 */
static void ksync_wait_done(struct ksync_waiter *w)
{
	for (;;) {
		set_current_state(TASK_UNINTERRUPTIBLE);
		/* acquire: pairs with the release in ksync_wait_wake_list() */
		if (smp_load_acquire(&w->done))
			break;
		schedule();
	}
	__set_current_state(TASK_RUNNING);
}

/*
 * The wait stopped (ret: -ETIMEDOUT, -ERESTARTNOHAND).  Under the object's
 * lock, take the waiter back from the wakers; if one was first, its grant
 * wins, and we wait for it to be done with us.  True: we left, *ret says
 * how.
 */
static bool ksync_wait_cancel(struct ksync_wait_entry *e,
			      const struct ksync_wait_ops *ops, int *ret)
{
	int pending = KSYNC_WAIT_PENDING;
	bool left;

	ops->lock(e);
	/* fully ordered: pairs with the compare-and-swap in ksync_wait_claim() */
	left = atomic_try_cmpxchg(&e->w->signaled, &pending, KSYNC_WAIT_CANCELLED);
	if (left)
		*ret = ops->leave(e, *ret);
	ops->unlock(e);
	if (!left)
		ksync_wait_done(e->w);
	return left;
}

/*
 * A waker claimed e and is done with the record.  A task killed before it
 * ran passes what it was granted on (the semaphore's permits, the queue's
 * turn), or it would die with it; nobody sees its -EINTR.  Else the type
 * takes the grant, with the waiter armed again, since its consume may
 * queue it anew (a queue's turn whose message a process on the ring took).
 */
static int ksync_wait_granted(struct ksync_wait_entry *e,
			      const struct ksync_wait_ops *ops)
{
	if (ops->detach)
		ops->detach(e);
	if (ops->give_back && fatal_signal_pending(current)) {
		ops->give_back(e);
		return -EINTR;
	}
	ksync_waiter_arm(e->w);
	return ops->consume(e);
}

/*
 * Wait on one object, the type's way: its try, consume or leave says how
 * the wait ended.  Called with the object's lock taken (the queue's,
 * killably, by the caller); returns without it.
 */
int ksync_wait_locked(struct ksync_wait_entry *e, const struct ksync_wait_ops *ops)
{
	int ret = ops->try(e);

	ops->unlock(e);
	while (ret == KSYNC_WAIT_QUEUED) {
		ret = ksync_wait_sleep(e->w);
		if (ret && ksync_wait_cancel(e, ops, &ret))
			break;
		ret = ksync_wait_granted(e, ops);
	}
	return ret;
}

/* ksync_wait_locked(), taking the lock first. */
int ksync_wait(struct ksync_wait_entry *e, const struct ksync_wait_ops *ops)
{
	ops->lock(e);
	return ksync_wait_locked(e, ops);
}

/*
 * Waiting on several objects (KSYNC_IOC_WAIT_ANY: select.c).  A round
 * tries each operation not queued yet, in order, under its object's lock:
 * it completes (having claimed the waiter: ksync_wait_claim_self()), or
 * its entry is queued on the object's list.  Then one sleep, until a
 * waker of any of them claims the waiter, or a signal or the deadline.
 * Whichever way it ends, every other entry leaves its list under its own
 * lock, one at a time (never two locks at once), passing on what its
 * departure frees.  A claimed queue entry whose turn was lost (the
 * consume queued it again) or a retry starts another round.
 */

/* Every entry still queued leaves, with ret. */
static void ksync_wait_leave_all(struct ksync_wait_one *one, u32 n, int ret)
{
	u32 i;

	for (i = 0; i < n; i++) {
		if (!one[i].linked)
			continue;
		one[i].ops->lock(one[i].e);
		one[i].ops->leave(one[i].e, ret);
		one[i].ops->unlock(one[i].e);
		one[i].linked = false;
	}
}

/*
 * One round: try each entry not queued.  Returns KSYNC_WAIT_QUEUED with
 * *index n (nothing completed; *linked: how many are queued), or the
 * result of entry *index, which claimed the waiter: a completion, or
 * KSYNC_WAIT_LOST, KSYNC_WAIT_RETRY, -EFAULT.
 */
static int ksync_wait_round(struct ksync_wait_one *one, u32 n, u32 *index,
			    u32 *linked)
{
	int ret;
	u32 i;

	*linked = 0;
	for (i = 0; i < n; i++) {
		if (one[i].linked) {
			(*linked)++;
			continue;
		}
		one[i].ops->lock(one[i].e);
		ret = one[i].ops->try(one[i].e);
		one[i].ops->unlock(one[i].e);
		if (ret == KSYNC_WAIT_QUEUED) {
			one[i].linked = true;
			(*linked)++;
		} else if (ret != -ETIMEDOUT) {
			/* (-ETIMEDOUT: the deadline has passed; tried once) */
			*index = i;
			return ret;
		}
	}
	*index = n;
	return KSYNC_WAIT_QUEUED;
}

/*
 * Wait until one of n operations completes.  Returns its result with its
 * index in *index, or, with *index n, why none did: -ETIMEDOUT,
 * -ERESTARTNOHAND, -EINTR (a fatal signal), -EFAULT.
 */
/*
 * The wait stops (ret: -ERESTARTNOHAND, -ETIMEDOUT) unless a waker has
 * claimed the waiter: then its grant wins.  True: every entry left.
 */
static bool ksync_wait_many_cancel(struct ksync_wait_one *one, u32 n,
				   struct ksync_waiter *w, int ret)
{
	int pending = KSYNC_WAIT_PENDING;

	/* fully ordered: pairs with ksync_wait_claim() */
	if (!atomic_try_cmpxchg(&w->signaled, &pending, KSYNC_WAIT_CANCELLED))
		return false;
	ksync_wait_leave_all(one, n, ret);
	return true;
}

/*
 * Stop now (ret), from a loop that has not slept: leave every entry.  A
 * claim made meanwhile (a file's wake-up that its own poll caused, round
 * after round) is not taken, but passed on as a killed task passes its
 * grant on: otherwise a grant that comes back each round would keep us
 * for ever.
 */
static void ksync_wait_many_abandon(struct ksync_wait_one *one, u32 n,
				    struct ksync_waiter *w, int ret)
{
	u32 k;

	if (ksync_wait_many_cancel(one, n, w, ret))
		return;
	ksync_wait_done(w);
	k = atomic_read(&w->signaled);
	one[k].linked = false;
	ksync_wait_leave_all(one, n, ret);
	if (one[k].ops->detach)
		one[k].ops->detach(one[k].e);
	if (one[k].ops->give_back)
		one[k].ops->give_back(one[k].e);
}

/* Why a wait that has not slept since its last round must stop, or 0. */
static int ksync_wait_many_stop(struct ksync_waiter *w)
{
	if (signal_pending(current))
		return -ERESTARTNOHAND;
	if (ksync_deadline_passed(w->expires))
		return -ETIMEDOUT;
	return 0;
}

int ksync_wait_many(struct ksync_wait_one *one, u32 n, struct ksync_waiter *w,
		    u32 *index)
{
	unsigned int faults = 0, retries = 0, requeues = 0;
	u32 linked, k;
	int ret;

	w->many = true;
	for (;;) {
		ret = ksync_wait_round(one, n, &k, &linked);
		if (ret == KSYNC_WAIT_QUEUED) {
			if (!linked) {
				*index = n;
				return -ETIMEDOUT;
			}
			ret = ksync_wait_sleep(w);
			if (ret) {
				if (ksync_wait_many_cancel(one, n, w, ret)) {
					*index = n;
					return ret;
				}
				ksync_wait_done(w);
			}
			ret = KSYNC_WAIT_LOST;
		}
		if (ret == KSYNC_WAIT_LOST) {
			/* a waker claimed entry k, and took it off its list */
			ksync_wait_done(w);
			k = atomic_read(&w->signaled);
			one[k].linked = false;
			ksync_wait_leave_all(one, n, 0);
			ret = ksync_wait_granted(one[k].e, one[k].ops);
			if (ret == KSYNC_WAIT_QUEUED) {
				one[k].linked = true;
				/*
				 * Nothing completed, and the next sleep looks
				 * at 'done' before signals: a file whose poll
				 * wakes its own pollers (the consume's poll
				 * claimed us again already), or a queue whose
				 * turns a ring empties as fast, would keep us
				 * here for ever, deaf even to SIGKILL.  Look
				 * here, and after a few such, a tick apart (a
				 * grant cuts it short).
				 */
				ret = ksync_wait_many_stop(w);
				if (ret) {
					ksync_wait_many_abandon(one, n, w, ret);
					*index = n;
					return ret;
				}
				if (++requeues > 16)
					schedule_timeout_interruptible(1);
				continue;
			}
		} else {
			/* entry k completed now, or claimed and could not */
			ksync_wait_leave_all(one, n, 0);
		}
		if (ret == -EFAULT && one[k].ops->fault_in && ++faults < 4 &&
		    !one[k].ops->fault_in(one[k].e))
			ret = KSYNC_WAIT_RETRY;
		if (ret != KSYNC_WAIT_RETRY) {
			/* these complete nothing; any other result is entry k's */
			*index = ret == -EINTR || ret == -EFAULT ||
				 ret == -ERESTARTNOHAND ? n : k;
			return ret;
		}
		/*
		 * Nothing is queued: a new round, nobody's again.  Each retry
		 * is a race lost to a process on a shared page; one that
		 * rewrites it for ever (a scribbler) must not keep us here
		 * past a signal or the deadline, nor spinning: after a few,
		 * a tick between rounds.
		 */
		*index = n;
		ret = ksync_wait_many_stop(w);
		if (ret)
			return ret;
		ksync_waiter_arm(w);
		if (++retries > 16)
			schedule_timeout_interruptible(1);
		else
			cond_resched();
	}
}
