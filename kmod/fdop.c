// SPDX-License-Identifier: GPL-2.0
/*
 * KSYNC_OP_FD: a wait on several objects may also wait for any file that
 * can be polled to become readable (a pidfd, an eventfd, a timerfd, a
 * socket), taking nothing from it.  The waiter registers on the file's
 * wait queues through its poll method, as poll(2) and epoll do, with a
 * wake function of its own that claims the waiter (wait.c) for this
 * entry when the file says it is readable.
 *
 * The file is pinned for the call.  A wait queue that goes away before
 * the file (POLLFREE: a signalfd's, a binder thread's) is let go of as
 * epoll does: the wake function unhooks the entry and forgets the queue,
 * whose memory RCU keeps until fd_remove() has looked.
 */
#include <linux/file.h>
#include <linux/poll.h>
#include <linux/rcupdate.h>
#include <linux/wait.h>

#include "ksync.h"

#define FD_READY	(EPOLLIN | EPOLLRDNORM | EPOLLHUP | EPOLLERR)
/* A file polls one or two wait queues (a tty, a pipe: two). */
#define FD_HEADS	4

struct fd_wq {
	wait_queue_entry_t wq;
	wait_queue_head_t *head;	/* NULL once it went away (POLLFREE) */
	struct fd_op *op;
};

struct fd_op {
	struct ksync_wait_entry e;
	struct file *file;
	poll_table pt;
	unsigned int nr;		/* of wq, registered */
	bool overflow;			/* the file polled more than FD_HEADS */
	struct fd_wq wq[FD_HEADS];
};

static struct fd_op *to_fd_op(struct ksync_wait_entry *e)
{
	return container_of(e, struct fd_op, e);
}

/* Called under the wait queue's lock, perhaps from an interrupt. */
static int fd_wake(wait_queue_entry_t *wq, unsigned int mode, int sync, void *key)
{
	struct fd_wq *q = container_of(wq, struct fd_wq, wq);
	__poll_t mask = key_to_poll(key);
	struct fd_op *op = q->op;

	/*
	 * No key: the file does not say what changed, and fd_consume()
	 * looks again.  POLLFREE: the queue is going away; wake the waiter
	 * to look again too, then let go of the queue (as epoll does).
	 */
	if (!mask || mask & (FD_READY | POLLFREE))
		ksync_wait_grant(&op->e, 0);
	if (mask & POLLFREE) {
		list_del_init(&wq->entry);
		/* release: pairs with the acquire in fd_remove() */
		smp_store_release(&q->head, NULL);
	}
	return 0;
}

static void fd_queue_proc(struct file *file, wait_queue_head_t *head, poll_table *pt)
{
	struct fd_op *op = container_of(pt, struct fd_op, pt);
	struct fd_wq *q;

	if (op->nr == FD_HEADS) {
		op->overflow = true;
		return;
	}
	q = &op->wq[op->nr++];
	q->head = head;
	q->op = op;
	init_waitqueue_func_entry(&q->wq, fd_wake);
	add_wait_queue(head, &q->wq);
}

/* Off every wait queue: no fd_wake() runs for this op after it. */
static void fd_remove(struct fd_op *op)
{
	while (op->nr) {
		struct fd_wq *q = &op->wq[--op->nr];
		wait_queue_head_t *head;

		/* a POLLFREE'd queue is freed only after an RCU grace period */
		rcu_read_lock();
		/* acquire: pairs with the release in fd_wake() */
		head = smp_load_acquire(&q->head);
		if (head)
			remove_wait_queue(head, &q->wq);
		rcu_read_unlock();
	}
}

/* Register and look; a readable file completes the op at once. */
static __poll_t fd_poll(struct fd_op *op)
{
	/*
	 * A node of its own, for the claim to move (ksync_wait_claim()): it
	 * may point into the last claimer's list, long gone.
	 */
	INIT_LIST_HEAD(&op->e.node);
	op->overflow = false;
	init_poll_funcptr(&op->pt, fd_queue_proc);
	op->pt._key = FD_READY;
	return vfs_poll(op->file, &op->pt);
}

static void fd_lock(struct ksync_wait_entry *e)
{
}

static void fd_unlock(struct ksync_wait_entry *e)
{
}

static int fd_try(struct ksync_wait_entry *e)
{
	struct fd_op *op = to_fd_op(e);
	__poll_t mask = fd_poll(op);

	if (!(mask & FD_READY) && !op->overflow) {
		if (!ksync_deadline_passed(e->w->expires))
			return KSYNC_WAIT_QUEUED;
		fd_remove(op);
		return -ETIMEDOUT;
	}
	fd_remove(op);
	if (!ksync_wait_claim_self(e))
		return KSYNC_WAIT_LOST;
	/* it polls more wait queues than it did at the start: see below */
	return op->overflow ? -EINVAL : 0;
}

/* fd_wake() claimed it: off the wait queues, before the waiter is armed again. */
static void fd_detach(struct ksync_wait_entry *e)
{
	fd_remove(to_fd_op(e));
}

/*
 * fd_wake() claimed it, for a wake-up that said readable, or said nothing
 * (or that the queue went away): look again, and wait on if it is not.
 * No other entry of the waiter is queued now, so the claim is ours
 * whoever makes it.
 */
static int fd_consume(struct ksync_wait_entry *e)
{
	struct fd_op *op = to_fd_op(e);
	__poll_t mask = fd_poll(op);

	if (!(mask & FD_READY) && !op->overflow)
		return KSYNC_WAIT_QUEUED;
	fd_remove(op);
	ksync_wait_claim_self(e);
	return op->overflow ? -EINVAL : 0;
}

static int fd_leave(struct ksync_wait_entry *e, int ret)
{
	fd_remove(to_fd_op(e));
	return ret;
}

static const struct ksync_wait_ops fd_wait_ops = {
	.lock		= fd_lock,
	.unlock		= fd_unlock,
	.try		= fd_try,
	.consume	= fd_consume,
	.leave		= fd_leave,
	.detach		= fd_detach,
};

const size_t ksync_fd_op_size = sizeof(struct fd_op);

/* Count the wait queues a file polls, registering nowhere. */
static void fd_count_proc(struct file *file, wait_queue_head_t *head, poll_table *pt)
{
	container_of(pt, struct fd_op, pt)->nr++;
}

/*
 * The op for file, which the caller pins for the wait.  A file that
 * polls more wait queues than an op holds is refused (-EINVAL): it
 * could not be woken by all of them.  (One that polls more later
 * completes its op with -EINVAL.)
 */
int ksync_fd_op_init(struct file *file, const struct ksync_wait_op *kop,
		     void *mem, struct ksync_waiter *w, u32 index,
		     struct ksync_wait_one *one)
{
	struct fd_op *op = mem;

	if (kop->count || kop->buf || kop->len)
		return -EINVAL;
	op->file = file;
	ksync_wait_entry_init(&op->e, w, NULL, index);
	init_poll_funcptr(&op->pt, fd_count_proc);
	op->pt._key = FD_READY;
	vfs_poll(file, &op->pt);
	if (op->nr > FD_HEADS)
		return -EINVAL;
	op->nr = 0;
	one->e = &op->e;
	one->ops = &fd_wait_ops;
	return 0;
}
