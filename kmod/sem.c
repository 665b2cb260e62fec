// SPDX-License-Identifier: GPL-2.0
/*
 * Counting semaphores.
 *
 * Sleepers wait in a FIFO list, each asking for its own number of permits.
 * A release hands permits to the head of the list for as long as the head
 * can be satisfied, marks each such waiter granted and wakes exactly those
 * tasks.  Nobody takes permits while somebody sleeps, so a large request at
 * the head cannot be starved by small ones arriving later.
 *
 * The value lives in a page of its own so that a later fast path can map
 * it into userspace (docs/design.md); until then only this file touches it,
 * always under obj->lock.
 */
#include <linux/gfp.h>
#include <linux/hrtimer.h>
#include <linux/poll.h>
#include <linux/sched.h>
#include <linux/sched/signal.h>
#include <linux/seq_file.h>
#include <linux/slab.h>
#include <linux/uaccess.h>

#include "ksync.h"

struct ksync_sem_state {
	u32 value;
};

struct ksync_sem {
	struct ksync_obj obj;
	struct ksync_sem_state *state;	/* one page */
	struct list_head waiters;	/* struct ksync_sem_waiter, FIFO */
	u32 nr_waiters;
};

/* Lives on the sleeper's stack; the waker touches it only under obj->lock. */
struct ksync_sem_waiter {
	struct list_head node;
	struct task_struct *task;
	u32 count;
	bool granted;
};

static struct ksync_sem *to_sem(struct ksync_obj *obj)
{
	return container_of(obj, struct ksync_sem, obj);
}

static int sem_check(const struct ksync_open_args *args)
{
	if (args->sem.value > KSYNC_SEM_VALUE_MAX || args->sem.pad)
		return -EINVAL;
	if (memchr_inv(args->reserved + 1, 0, sizeof(args->reserved) -
		       sizeof(args->reserved[0])))
		return -EINVAL;
	return 0;
}

static struct ksync_obj *sem_create(const struct ksync_open_args *args)
{
	struct ksync_sem *sem;

	sem = kzalloc(sizeof(*sem), GFP_KERNEL_ACCOUNT);
	if (!sem)
		return ERR_PTR(-ENOMEM);
	sem->state = (void *)get_zeroed_page(GFP_KERNEL_ACCOUNT);
	if (!sem->state) {
		kfree(sem);
		return ERR_PTR(-ENOMEM);
	}
	sem->state->value = args->sem.value;
	INIT_LIST_HEAD(&sem->waiters);
	return &sem->obj;
}

static void sem_free(struct ksync_obj *obj)
{
	struct ksync_sem *sem = to_sem(obj);

	free_page((unsigned long)sem->state);
	kfree(sem);
}

/*
 * Serve the head of the queue while the value covers it.  The wake-up is
 * issued under obj->lock: a woken waiter reads 'granted' only under that
 * lock, so it cannot return (and free its stack) before we are done.
 */
static void sem_grant(struct ksync_sem *sem)
{
	struct ksync_sem_waiter *w, *tmp;
	u32 value = sem->state->value;

	lockdep_assert_held(&sem->obj.lock);
	list_for_each_entry_safe(w, tmp, &sem->waiters, node) {
		if (w->count > value)
			break;
		value -= w->count;
		list_del_init(&w->node);
		sem->nr_waiters--;
		w->granted = true;
		wake_up_process(w->task);
	}
	sem->state->value = value;
}

/* Add permits, saturating at the limit (undo), or failing (release). */
static int sem_add(struct ksync_sem *sem, u64 count, bool saturate)
{
	u32 value = sem->state->value;

	lockdep_assert_held(&sem->obj.lock);
	if (count > KSYNC_SEM_VALUE_MAX - value) {
		if (!saturate)
			return -EOVERFLOW;
		count = KSYNC_SEM_VALUE_MAX - value;
	}
	sem->state->value = value + count;
	sem_grant(sem);
	return 0;
}

static void sem_wake_pollers(struct ksync_sem *sem)
{
	if (READ_ONCE(sem->state->value) > 0)
		wake_up_interruptible_poll(&sem->obj.poll_wq, EPOLLIN | EPOLLRDNORM);
}

/* Sleep until granted, signalled or expired; drops and retakes obj->lock. */
static int sem_sleep(struct ksync_sem *sem, struct ksync_sem_waiter *w,
		     ktime_t *expires)
	__must_hold(&sem->obj.lock)
{
	bool expired = false;

	for (;;) {
		set_current_state(TASK_INTERRUPTIBLE);
		spin_unlock(&sem->obj.lock);
		if (!expires)
			schedule();
		else if (!schedule_hrtimeout_range(expires, current->timer_slack_ns,
						   HRTIMER_MODE_ABS))
			expired = true;
		spin_lock(&sem->obj.lock);
		/* a grant wins over a signal or the deadline: nothing is lost */
		if (w->granted)
			return 0;
		if (signal_pending(current))
			return -EINTR;
		if (expired)
			return -ETIMEDOUT;
	}
}

static long sem_acquire(struct ksync_file *kf, void __user *uarg)
{
	struct ksync_sem *sem = to_sem(kf->obj);
	struct ksync_sem_waiter w;
	struct ksync_sem_wait args;
	ktime_t expires;
	bool timed;
	int ret;

	if (copy_from_user(&args, uarg, sizeof(args)))
		return -EFAULT;
	if (args.flags & ~KSYNC_WAIT_FLAGS || args.count > KSYNC_SEM_VALUE_MAX)
		return -EINVAL;
	if (!args.count)
		return 0;
	timed = args.flags & KSYNC_WAIT_DEADLINE;
	if (timed)
		expires = ksync_deadline(args.deadline);

	spin_lock(&sem->obj.lock);
	if (list_empty(&sem->waiters) && sem->state->value >= args.count) {
		sem->state->value -= args.count;
		ret = 0;
	} else if (timed && ktime_compare(expires, ktime_get()) <= 0) {
		ret = -ETIMEDOUT;
	} else {
		w.task = current;
		w.count = args.count;
		w.granted = false;
		list_add_tail(&w.node, &sem->waiters);
		sem->nr_waiters++;
		ret = sem_sleep(sem, &w, timed ? &expires : NULL);
		__set_current_state(TASK_RUNNING);
		if (!w.granted) {
			list_del(&w.node);
			sem->nr_waiters--;
			/* we may have been the head blocking smaller requests */
			sem_grant(sem);
		}
	}
	if (!ret && kf->flags & KSYNC_OPEN_UNDO)
		kf->held += args.count;
	spin_unlock(&sem->obj.lock);
	return ret;
}

static long sem_release(struct ksync_file *kf, void __user *uarg)
{
	struct ksync_sem *sem = to_sem(kf->obj);
	struct ksync_sem_post args;
	int ret;

	if (copy_from_user(&args, uarg, sizeof(args)))
		return -EFAULT;
	if (args.flags || args.count > KSYNC_SEM_VALUE_MAX)
		return -EINVAL;
	if (!args.count)
		return 0;

	spin_lock(&sem->obj.lock);
	ret = sem_add(sem, args.count, false);
	if (!ret && kf->flags & KSYNC_OPEN_UNDO)
		kf->held -= min_t(u64, kf->held, args.count);
	spin_unlock(&sem->obj.lock);
	if (!ret)
		sem_wake_pollers(sem);
	return ret;
}

static long sem_info(struct ksync_file *kf, void __user *uarg)
{
	struct ksync_sem *sem = to_sem(kf->obj);
	struct ksync_sem_info info = {};

	spin_lock(&sem->obj.lock);
	info.value = sem->state->value;
	info.waiters = sem->nr_waiters;
	info.held = kf->held;
	spin_unlock(&sem->obj.lock);
	return copy_to_user(uarg, &info, sizeof(info)) ? -EFAULT : 0;
}

static long sem_ioctl(struct ksync_file *kf, unsigned int cmd, void __user *uarg)
{
	switch (cmd) {
	case KSYNC_IOC_SEM_ACQUIRE:
		return sem_acquire(kf, uarg);
	case KSYNC_IOC_SEM_RELEASE:
		return sem_release(kf, uarg);
	case KSYNC_IOC_SEM_INFO:
		return sem_info(kf, uarg);
	default:
		return -ENOTTY;
	}
}

static __poll_t sem_poll(struct ksync_file *kf)
{
	return READ_ONCE(to_sem(kf->obj)->state->value) ? EPOLLIN | EPOLLRDNORM : 0;
}

/* KSYNC_OPEN_UNDO: the fd is going away, so are the permits it held. */
static void sem_undo(struct ksync_file *kf)
{
	struct ksync_sem *sem = to_sem(kf->obj);

	if (!kf->held)
		return;
	spin_lock(&sem->obj.lock);
	sem_add(sem, kf->held, true);
	kf->held = 0;
	spin_unlock(&sem->obj.lock);
	sem_wake_pollers(sem);
}

static void sem_fdinfo(struct seq_file *m, struct ksync_file *kf)
{
	struct ksync_sem *sem = to_sem(kf->obj);

	spin_lock(&sem->obj.lock);
	seq_printf(m, "ksync-type:\tsem\nksync-value:\t%u\nksync-waiters:\t%u\nksync-held:\t%llu\n",
		   sem->state->value, sem->nr_waiters, kf->held);
	spin_unlock(&sem->obj.lock);
}

const struct ksync_type ksync_sem_type = {
	.type		= KSYNC_TYPE_SEM,
	.name		= "[ksync-sem]",
	.check		= sem_check,
	.create		= sem_create,
	.free		= sem_free,
	.ioctl		= sem_ioctl,
	.poll		= sem_poll,
	.release	= sem_undo,
	.fdinfo		= sem_fdinfo,
};
