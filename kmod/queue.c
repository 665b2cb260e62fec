// SPDX-License-Identifier: GPL-2.0
/*
 * Bounded message queues.
 *
 * The messages live in a ring that every process using the queue maps (the
 * layout and the ring's rules are in the uapi header): a header page with
 * the head and tail positions and a state word, then 'capacity' slots,
 * each with a sequence word that says whether it is free, being written or
 * full, and for which position.  This is Vyukov's bounded MPMC queue, with
 * two changes: a sender's claim stamps the slot with the sender's token,
 * so that the claims of a process that dies can be found (q_repair), and a
 * receiver copies the message out *before* it takes it with a
 * compare-and-swap, so that a receiver that dies takes nothing.
 *
 * libksync sends and receives on the ring alone whenever it finds room or
 * a message.  A process that must wait comes here: under q->lock we count
 * it, set RECV_WAIT (or SEND_WAIT) in the state word and look at the ring
 * again before it sleeps (q_attempt).  A process that sends on the ring reads
 * the state word after it, and if receivers wait it calls
 * KSYNC_IOC_QUEUE_WAKE; likewise a receiver for senders: an eventcount,
 * the futex protocol (docs/design.md has the orderings).  Here, sleepers
 * are granted in FIFO order, one per message or free slot beyond those
 * already granted (q_settle), so one message wakes one receiver.  An
 * operation on the ring that finds a message takes it even if somebody
 * sleeps (as a futex lock may be taken past its sleepers); a woken
 * sleeper that finds its message gone goes back to the head of the line.
 *
 * The module moves messages itself for whoever comes here: it claims and
 * publishes slots with the same compare-and-swaps as the library, and
 * copies with page faults disabled under q->lock (a mutex), faulting the
 * user's pages in after dropping it.  So an operation through the module
 * happens entirely or not at all: a process killed in one loses nothing
 * (KSYNC_OPEN_KERNEL fds do everything this way).
 *
 * End of input belongs to open files, as a pipe's write end does (the
 * rule is in the uapi header): a file with the send role holds the input
 * open from its open (a two-way file from its first send or join) until
 * its release, which fork, dup and SCM_RIGHTS hold back exactly as they
 * hold back a pipe's, and a mapping does not (shm.c).  q->writers counts
 * such files; each time it falls to zero q->eof_gen moves on, and a
 * receiving file sees the ends of input numbered after its own kf->q.gen.
 * No fd table is ever looked at for this.
 *
 * Claims are another matter: they are stamped per process (party.c), and
 * a process that no longer holds the file while others do has its
 * unpublished claims turned into tombstones that receivers skip.
 *
 * The ring's own code, on user memory that we never trust, is in
 * queue_ring.c.
 *
 * q->lock, a mutex, guards the queue; obj->lock only party.c's lists.
 * How they and mmap_lock nest: kmod/ksync.h.
 */
#include <linux/file.h>
#include <linux/idr.h>
#include <linux/mm.h>
#include <linux/mutex.h>
#include <linux/pagemap.h>
#include <linux/poll.h>
#include <linux/sched.h>
#include <linux/sched/signal.h>
#include <linux/seq_file.h>
#include <linux/slab.h>
#include <linux/uaccess.h>
#include <linux/vmalloc.h>

#include "ksync.h"
#include "queue.h"

/* The largest ring, whatever max_queue_bytes says. */
#define Q_RING_MAX	BIT_ULL(30)

/* Faults one message may take before the call gives up with -EFAULT. */
#define Q_FAULTS	8

/*
 * A call's wait for one message or free slot, on the caller's stack
 * (wait.c).  What q_settle() grants is a turn, not the message: the woken
 * sleeper does its own operation on the ring, and, if a process that never
 * slept took the message first, queues again at the head of the line.
 */
struct q_waiter {
	struct ksync_wait_entry e;	/* on q->waiters[side] */
	struct ksync_waiter w;
	struct q_msg *m;
	int side;
	u32 gen;			/* a receiver's file's kf->q.gen */
	bool block;			/* may sleep (else: try once) */
	bool front;			/* lost its turn's message: stays first */
};

static struct ksync_queue *to_q(struct ksync_obj *obj)
{
	return container_of(obj, struct ksync_queue, obj);
}

static struct q_waiter *to_q_waiter(struct ksync_wait_entry *e)
{
	return container_of(e, struct q_waiter, e);
}

static atomic64_t *q_state(struct ksync_queue *q)
{
	return (atomic64_t *)&q->status->state;
}

/*
 * Write the state word from our own state.  Fully ordered: pairs with the
 * full fence a process issues between its operation on the ring and its
 * read of the state word (ulib/queue.c).  Either it sees RECV_WAIT (or
 * SEND_WAIT) and comes to wake us, or what we read of the ring after this
 * shows its operation.
 */
static void q_publish_state(struct ksync_queue *q)
{
	u64 st = 0;

	lockdep_assert_held(&q->lock);
	if (q->sleeping[Q_RECV] || q->armed[Q_RECV])
		st |= KSYNC_QUEUE_STATE_RECV_WAIT;
	if (q->sleeping[Q_SEND] || q->armed[Q_SEND])
		st |= KSYNC_QUEUE_STATE_SEND_WAIT;
	if (q->shutdown)
		st |= KSYNC_QUEUE_STATE_SHUTDOWN;
	if (q->broken)
		st |= KSYNC_QUEUE_STATE_BROKEN;
	atomic64_xchg(q_state(q), st);
}

/*
 * Has the input ended for a receiving file that may see the ends numbered
 * after gen (nothing queued is left to say)?  A shutdown ends it for all.
 */
static bool q_ended(struct ksync_queue *q, u32 gen)
{
	lockdep_assert_held(&q->lock);
	return q->shutdown ||
	       (!q->noeof && !q->writers && q->eof_gen != gen);
}

/*
 * What poll would report now, to file kf; NULL: to whichever file would
 * see the most (settle's test for waking pollers, who then look again).
 */
static __poll_t q_events_as(struct ksync_queue *q, u32 roles, u32 gen)
{
	bool ended = q_ended(q, gen);
	__poll_t ev = 0;

	lockdep_assert_held(&q->lock);
	if (q->broken)
		return EPOLLERR | EPOLLHUP;
	if (roles & KSYNC_OPEN_RECV) {
		if (!q->sleeping[Q_RECV] &&
		    q_ready(q, Q_RECV, q->granted[Q_RECV]))
			ev |= EPOLLIN | EPOLLRDNORM;
		if (ended) {
			ev |= EPOLLHUP;
			if (q_drained(q))
				ev |= EPOLLIN | EPOLLRDNORM;
		}
	}
	if (!(roles & KSYNC_OPEN_SEND))
		return ev;
	if (q->shutdown)
		ev |= EPOLLHUP;
	else if (!q->sleeping[Q_SEND] && q_ready(q, Q_SEND, q->granted[Q_SEND]))
		ev |= EPOLLOUT | EPOLLWRNORM;
	return ev;
}

/* What poll says for kf: its roles, the ends of input it sees. */
static __poll_t q_events(struct ksync_queue *q, struct ksync_file *kf)
{
	return q_events_as(q, kf->flags, kf->q.gen);
}

/*
 * A poller not ready arms its side: the next q_settle() that finds the
 * side ready for it wakes the pollers.  Receivers see the ends of input
 * after their own generation; the oldest armed is kept, so that the wake
 * is for an end that some armed poller sees, and never for one that none
 * does (it woke a poller that its own poll had armed, for ever).
 */
static void q_arm(struct ksync_queue *q, int side, u32 gen)
{
	lockdep_assert_held(&q->lock);
	if (side == Q_RECV && (!q->armed[Q_RECV] || (s32)(gen - q->armed_gen) < 0))
		q->armed_gen = gen;
	q->armed[side] = true;
}

/* A turn for the sleeper: q_settle() wakes it, under q->lock. */
static void q_grant(struct ksync_queue *q, int side, struct ksync_wait_entry *e)
{
	lockdep_assert_held(&q->lock);
	/* woken at once: see ksync_wait_grant() */
	if (!ksync_wait_grant(e, 0))
		return;
	q->sleeping[side]--;
	q->granted[side]++;
	q->woken++;
}

/* Must this sleeper wake up to fail (or to find the end)? */
static bool q_must_go(struct ksync_queue *q, int side, struct ksync_wait_entry *e)
{
	if (q->broken)
		return true;
	if (side == Q_SEND)
		return q->shutdown;
	return q_ended(q, to_q_waiter(e)->gen) && q_drained(q);
}

/*
 * Grant the sleepers at the front of each side one message or free slot
 * each, for as long as the ring has one beyond those already granted;
 * wake pollers whose side became ready.  Called after every change.
 */
static void q_settle(struct ksync_queue *q)
{
	static const __poll_t side_ev[2] = {
		[Q_SEND] = EPOLLOUT | EPOLLWRNORM | EPOLLHUP | EPOLLERR,
		[Q_RECV] = EPOLLIN | EPOLLRDNORM | EPOLLHUP | EPOLLERR,
	};
	struct ksync_wait_entry *e, *n;
	__poll_t ev, wake = 0;
	int side;

	lockdep_assert_held(&q->lock);
	/* the WAIT bits first, then the ring: see q_publish_state() */
	q_publish_state(q);
	/* tombstones at head free their slots before senders are counted */
	q_sync(q, Q_RECV, true);
	for (side = Q_SEND; side <= Q_RECV; side++) {
		list_for_each_entry_safe(e, n, &q->waiters[side], node) {
			/* one claimed by another object leaves by itself */
			if (!ksync_wait_pending(e))
				continue;
			if (q_must_go(q, side, e) ||
			    q_ready(q, side, q->granted[side]))
				q_grant(q, side, e);
			else if (side == Q_SEND || q->writers || q->noeof ||
				 !q_drained(q))
				break;
			/*
			 * else the input ended for some receivers, not for
			 * one that came after the end: it waits on, and
			 * those behind it go
			 */
		}
	}
	if (q->armed[Q_SEND] || q->armed[Q_RECV]) {
		for (side = Q_SEND; side <= Q_RECV; side++) {
			ev = q_events_as(q, side == Q_SEND ? KSYNC_OPEN_SEND : KSYNC_OPEN_RECV,
					 q->armed_gen);
			if (q->armed[side] && ev & side_ev[side]) {
				q->armed[side] = false;
				wake |= side_ev[side];
			}
		}
	}
	q_publish_state(q);
	if (wake)
		wake_up_interruptible_poll(&q->obj.poll_wq, wake);
}

/*
 * One message now, under q->lock, if nobody of our side waits and the ring
 * has room (a message) beyond what was granted to sleepers, or it is our
 * turn (granted).  Returns 1 (moved), an error, or 0: not now.
 */
static int q_now(struct ksync_queue *q, struct q_waiter *qw, bool granted)
{
	int side = qw->side, ret;

	lockdep_assert_held(&q->lock);
	/*
	 * Each way of completing claims the waiter first: in a wait on
	 * several objects only one operation completes (wait.c).
	 */
	if (q->broken || (side == Q_SEND && q->shutdown))
		goto end;
	if (granted || (!q->sleeping[side] && q_ready(q, side, q->granted[side]))) {
		if (!ksync_wait_claim_self(&qw->e))
			return KSYNC_WAIT_LOST;
		ret = side == Q_SEND ? q_send_one(q, qw->m) : q_recv_one(q, qw->m);
		if (ret)
			return ret;
		/* the ring's users were faster: let them run */
		cond_resched();
		ret = ksync_wait_unclaim_self(&qw->e);
		if (ret)
			return ret;
	}
	if (side == Q_RECV && q_ended(q, qw->gen) && q_drained(q))
		goto end;
	return 0;
end:
	if (!ksync_wait_claim_self(&qw->e))
		return KSYNC_WAIT_LOST;
	return q->broken ? -ENOTRECOVERABLE : -EPIPE;
}

/*
 * Under q->lock: one message now, or queue for a turn (in FIFO order;
 * first if we lost the message of one), unless we may not block or the
 * deadline has passed (-ETIMEDOUT: losing every race must not outlast it).
 */
static int q_attempt(struct ksync_queue *q, struct q_waiter *qw, bool granted)
{
	int side = qw->side;
	int ret = q_now(q, qw, granted);

	if (ret == KSYNC_WAIT_LOST || ret == KSYNC_WAIT_RETRY) {
		q_settle(q);	/* pass on what we were granted */
		return ret;
	}

	/*
	 * A turn whose message was gone: a pending signal ends the wait here,
	 * as it would have in the sleep, else turns lost one after another
	 * could keep a signalled task in the kernel.
	 */
	if (!ret && granted && signal_pending(current))
		ret = -ERESTARTNOHAND;
	if (!ret && (!qw->block || ksync_deadline_passed(qw->e.w->expires)))
		ret = -ETIMEDOUT;
	if (!ret) {
		ksync_wait_link(&qw->e, &q->waiters[side], qw->front);
		q->sleeping[side]++;
		/* sets our WAIT bit, then looks again: may grant us */
		q_settle(q);
		return KSYNC_WAIT_QUEUED;
	}
	/*
	 * A try that failed is how an edge-triggered poller drains, and a
	 * receive that found the end is how it reads to the end: arm its
	 * side, so that the next change (a message, a new input) comes here
	 * and wakes it.
	 */
	if ((ret == -ETIMEDOUT && !qw->block) || (ret == -EPIPE && side == Q_RECV)) {
		/* (under q->lock, which q_poll() arms under: no poller is missed) */
		if (waitqueue_active(&q->obj.poll_wq))
			q_arm(q, side, qw->gen);
	}
	q_settle(q);	/* pass on what we were granted and did not use */
	return ret;
}

static int q_wait_try(struct ksync_wait_entry *e)
{
	return q_attempt(to_q(e->obj), to_q_waiter(e), false);
}

/*
 * Our turn: the message (slot) may be gone already; then we stay first.
 * (A task killed between the grant and now takes nothing: q_wait_give_back.)
 */
static int q_wait_consume(struct ksync_wait_entry *e)
{
	struct q_waiter *qw = to_q_waiter(e);
	struct ksync_queue *q = to_q(e->obj);
	int ret;

	mutex_lock(&q->lock);
	q->granted[qw->side]--;
	qw->front = true;
	ret = q_attempt(q, qw, true);
	mutex_unlock(&q->lock);
	return ret;
}

/* A task killed before it ran: the turn goes to the next sleeper. */
static void q_wait_give_back(struct ksync_wait_entry *e)
{
	struct ksync_queue *q = to_q(e->obj);

	mutex_lock(&q->lock);
	q->granted[to_q_waiter(e)->side]--;
	q_settle(q);
	mutex_unlock(&q->lock);
}

static int q_wait_leave(struct ksync_wait_entry *e, int ret)
{
	struct ksync_queue *q = to_q(e->obj);

	lockdep_assert_held(&q->lock);
	list_del(&e->node);
	q->sleeping[to_q_waiter(e)->side]--;
	q_settle(q);
	return ret;
}

static void q_wait_lock(struct ksync_wait_entry *e)
{
	mutex_lock(&to_q(e->obj)->lock);
}

static void q_wait_unlock(struct ksync_wait_entry *e)
{
	mutex_unlock(&to_q(e->obj)->lock);
}

static bool q_fault_in(struct ksync_queue *q, int side, const struct q_msg *m);

static int q_wait_fault_in(struct ksync_wait_entry *e)
{
	struct q_waiter *qw = to_q_waiter(e);

	return q_fault_in(to_q(e->obj), qw->side, qw->m) ? 0 : -EFAULT;
}

static const struct ksync_wait_ops q_wait_ops = {
	.lock		= q_wait_lock,
	.unlock		= q_wait_unlock,
	.try		= q_wait_try,
	.consume	= q_wait_consume,
	.give_back	= q_wait_give_back,
	.leave		= q_wait_leave,
	.fault_in	= q_wait_fault_in,
};

/* The file holds the input open from now on, until its release. */
static void q_add_writer(struct ksync_queue *q, struct ksync_file *kf)
{
	lockdep_assert_held(&q->lock);
	if (kf->q.sender)
		return;
	/* read without the lock by q_join_sender: it only ever goes true */
	WRITE_ONCE(kf->q.sender, true);
	/*
	 * The end, if there was one, is over: every poller looks again, and
	 * one that is not ready then arms its side for the next message.
	 * (An edge-triggered reader that read to the end is armed by nothing
	 * else, as a FIFO's reader is woken by the next writer's data.)
	 */
	if (!q->writers++ && q->eof_gen)
		wake_up_interruptible_poll(&q->obj.poll_wq,
					   EPOLLIN | EPOLLRDNORM | EPOLLOUT | EPOLLWRNORM);
	q_settle(q);
}

/*
 * The calling process becomes a sender of the file, and the file a sender
 * file; *token if it may send on the ring.
 */
static int q_join_sender(struct ksync_file *kf, u32 *token)
{
	struct ksync_queue *q = to_q(kf->obj);
	u32 tag;
	int id, ret;

	if (!(kf->flags & KSYNC_OPEN_SEND))
		return -EBADF;
	if (!READ_ONCE(kf->q.sender)) {
		mutex_lock(&q->lock);
		q_add_writer(q, kf);
		mutex_unlock(&q->lock);
	}
	ret = ksync_party_join(kf, &tag);
	if (ret < 0 || !token)
		return ret < 0 ? ret : 0;
	/* a file that may not map has no use for a claim token: keep them */
	if (tag || kf->flags & (KSYNC_OPEN_KERNEL | KSYNC_FILE_NOMAP)) {
		*token = tag;
		return 0;
	}
	/* out of tokens: this process sends through the module */
	id = ida_alloc_range(&q->tokens, 1, q->max_token, GFP_KERNEL_ACCOUNT);
	if (id == -ENOSPC)
		id = 0;
	if (id < 0)
		return id;
	if (id) {
		WRITE_ONCE(q->hdr->claimed[id], 0);
		ret = ksync_party_set_tag(kf, id);
		if (ret) {	/* another thread was first, or we let go */
			ida_free(&q->tokens, id);
			ret = ksync_party_join(kf, &tag);
			if (ret < 0)
				return ret;
			id = tag;
		}
	}
	*token = id;
	return 0;
}

/* Go's close(ch): q_settle() wakes every sender, and receivers once drained. */
static long q_shutdown(struct ksync_file *kf, void __user *uarg)
{
	struct ksync_queue *q = to_q(kf->obj);

	if (!(kf->flags & KSYNC_OPEN_SEND))
		return -EBADF;
	/* for good, for everyone: not for who the mode lets only send */
	if (kf->flags & KSYNC_FILE_NOMAP)
		return -EACCES;
	mutex_lock(&q->lock);
	q->shutdown = true;
	q_settle(q);
	mutex_unlock(&q->lock);
	return 0;
}

/* Settle: grant and wake whatever the last change made possible. */
static void q_wake(struct ksync_queue *q)
{
	mutex_lock(&q->lock);
	q_settle(q);
	mutex_unlock(&q->lock);
}

/* A sending process let go of the file: its unpublished claims become tombstones. */
static void q_gone(struct ksync_file *kf, u32 token)
{
	struct ksync_queue *q = to_q(kf->obj);

	if (token) {
		q_repair(q, token);
		ida_free(&q->tokens, token);
	}
}

/*
 * Every close, exit and exec comes here.  Besides a sender's departure, a
 * process may have died between an operation on the ring and the wake-up
 * it owed (ulib/queue.c wakes after it sends or takes): settling grants
 * the sleepers whatever it left them.
 */
static void q_flush(struct ksync_file *kf, struct file *file)
{
	u32 token = 0;

	if (ksync_party_flush(kf, file, &token))
		q_gone(kf, token);
	q_wake(to_q(kf->obj));
}

/* Ditto for a process that kept only a mapping (shm.c). */
static void q_unmapped(struct ksync_obj *obj)
{
	q_wake(to_q(obj));
}

/*
 * A receiving file sees the ends of input after the one current at its
 * open, unless messages of that input are still queued: then it may see
 * that end once it has drained them.
 */
static void q_opened(struct ksync_file *kf)
{
	struct ksync_queue *q = to_q(kf->obj);

	if (!(kf->flags & (KSYNC_OPEN_SEND | KSYNC_OPEN_RECV)))
		kf->flags |= KSYNC_OPEN_SEND | KSYNC_OPEN_RECV;
	mutex_lock(&q->lock);
	kf->q.gen = q->eof_gen;
	if (!q->writers && q->eof_gen && !q_drained(q))
		kf->q.gen--;
	/* a send-only file holds the input open from its open, as a pipe's write end */
	if (!(kf->flags & KSYNC_OPEN_RECV))
		q_add_writer(q, kf);
	mutex_unlock(&q->lock);
}

static void q_release(struct ksync_file *kf)
{
	struct ksync_queue *q = to_q(kf->obj);

	ksync_party_release(kf, q_gone);
	mutex_lock(&q->lock);
	if (kf->q.sender && !--q->writers)
		q->eof_gen++;
	q_settle(q);
	mutex_unlock(&q->lock);
}

/*
 * A call's next message: where it is and how long (or how much room), and
 * its pages faulted in, with the word where a receive writes its length:
 * q_send_one() and q_recv_one() copy with page faults disabled.
 */
static int q_get_msg(struct ksync_queue *q, int side,
		     struct ksync_queue_msg __user *umsg, struct q_msg *m)
{
	struct ksync_queue_msg um;

	if (copy_from_user(&um, umsg, sizeof(um)))
		return -EFAULT;
	m->base = u64_to_user_ptr(um.base);
	m->len = um.len;
	m->ulen = &umsg->len;
	if (side == Q_SEND && m->len > q->msg_size)
		return -EMSGSIZE;
	if ((side == Q_SEND && fault_in_readable(m->base, m->len)) ||
	    (side == Q_RECV && put_user(um.len, &umsg->len)))
		return -EFAULT;
	return 0;
}

/* A copy of m faulted with q->lock held: fault it in, false if it cannot. */
static bool q_fault_in(struct ksync_queue *q, int side, const struct q_msg *m)
{
	size_t len = min_t(u64, m->len, q->msg_size);

	if (side == Q_SEND)
		return !fault_in_readable(m->base, len);
	return !fault_in_safe_writeable(m->base, len) &&
	       !fault_in_safe_writeable((char __user *)m->ulen, sizeof(u64));
}

/* A call may go on, with the file's role: a send joins; count the call. */
static int q_xfer_start(struct ksync_file *kf, int side)
{
	struct ksync_queue *q = to_q(kf->obj);
	int ret;

	if (!(kf->flags & (side == Q_SEND ? KSYNC_OPEN_SEND : KSYNC_OPEN_RECV)))
		return -EBADF;
	if (side == Q_SEND) {
		ret = q_join_sender(kf, NULL);
		if (ret)
			return ret;
	}
	mutex_lock(&q->lock);
	if (side == Q_SEND)
		q->send_calls++;
	else
		q->recv_calls++;
	mutex_unlock(&q->lock);
	return 0;
}

/*
 * One message, now or after a wait (wait.c): 1, or an error.  front: we
 * lost a turn to a fault, so we queue first again.
 */
static int q_xfer_one(struct ksync_file *kf, int side, struct q_msg *m,
		      ktime_t *deadline, bool block, bool front)
{
	struct q_waiter qw = {
		.m = m, .side = side, .block = block, .front = front,
	};
	struct ksync_queue *q = to_q(kf->obj);

	ksync_waiter_init(&qw.w, deadline);
	ksync_wait_entry_init(&qw.e, &qw.w, &q->obj, 0);
	if (mutex_lock_killable(&q->lock))
		return -EINTR;
	qw.gen = kf->q.gen;
	return ksync_wait_locked(&qw.e, &q_wait_ops);
}

/* KSYNC_OP_SEND and _RECV in a wait on several objects (select.c). */
struct q_op {
	struct q_waiter qw;
	struct q_msg m;
};

static int q_op_init(struct ksync_file *kf, struct ksync_wait_op *op,
		     struct ksync_wait_op __user *uop, void *mem,
		     struct ksync_waiter *w, u32 index, struct ksync_wait_one *one)
{
	struct ksync_queue *q = to_q(kf->obj);
	struct q_op *qo = mem;
	int side;

	if ((op->kind != KSYNC_OP_SEND && op->kind != KSYNC_OP_RECV) || op->count)
		return -EINVAL;
	side = op->kind == KSYNC_OP_SEND ? Q_SEND : Q_RECV;
	qo->m.base = u64_to_user_ptr(op->buf);
	qo->m.len = op->len;
	qo->m.ulen = &uop->len;
	if (side == Q_SEND && op->len > q->msg_size)
		return -EMSGSIZE;
	if ((side == Q_SEND && fault_in_readable(qo->m.base, op->len)) ||
	    (side == Q_RECV && put_user(op->len, &uop->len)))
		return -EFAULT;
	if (!(kf->flags & (side == Q_SEND ? KSYNC_OPEN_SEND : KSYNC_OPEN_RECV)))
		return -EBADF;
	qo->qw.m = &qo->m;
	qo->qw.side = side;
	qo->qw.block = true;
	ksync_wait_entry_init(&qo->qw.e, w, &q->obj, index);
	mutex_lock(&q->lock);
	qo->qw.gen = kf->q.gen;
	mutex_unlock(&q->lock);
	one->e = &qo->qw.e;
	one->ops = &q_wait_ops;
	return 0;
}

/* Once every op of the call checked out: a send joins, as a plain one. */
static int q_op_start(struct ksync_file *kf, void *mem)
{
	return q_xfer_start(kf, ((struct q_op *)mem)->qw.side);
}

static long q_xfer(struct ksync_file *kf, void __user *uarg, int side)
{
	struct ksync_queue_xfer __user *uxfer = uarg;
	struct ksync_queue *q = to_q(kf->obj);
	struct ksync_queue_msg __user *umsg;
	ktime_t expires, *deadline;
	struct ksync_queue_xfer args;
	unsigned int faults = 0;
	struct q_msg m;
	bool block;
	u32 done;
	int ret;

	ret = ksync_copy_args(&args, sizeof(args), sizeof(args), uarg);
	if (ret)
		return ret;
	if (args.flags & ~KSYNC_WAIT_FLAGS || args.count > KSYNC_QUEUE_BATCH_MAX ||
	    args.done > args.count)
		return -EINVAL;
	deadline = ksync_wait_deadline(args.flags, args.deadline, &expires);
	/* past already: try once, without queueing */
	block = !ksync_deadline_passed(deadline);
	ret = q_xfer_start(kf, side);
	if (ret)
		return ret;
	umsg = u64_to_user_ptr(args.msgs);
	for (done = args.done; done < args.count; ) {
		/* a dying receiver takes no more: they would die with it */
		if (side == Q_RECV && done > args.done && fatal_signal_pending(current))
			break;
		ret = q_get_msg(q, side, &umsg[done], &m);
		if (ret)
			break;
		/* a receive waits for its first message only */
		ret = q_xfer_one(kf, side, &m, deadline,
				 block && (side == Q_SEND || done == 0), faults);
		if (ret == -EFAULT && ++faults < Q_FAULTS) {
			if (!q_fault_in(q, side, &m))
				break;
			continue;
		}
		if (ret != 1)
			break;
		faults = 0;
		done++;
	}
	if (ret == -ERESTARTNOHAND) {
		/* a restart goes on from here; a handler's caller learns it */
		if (done != args.done && put_user(done, &uxfer->done))
			return done;
		return ret;
	}
	return done ? done : ret;
}

static long q_join(struct ksync_file *kf, void __user *uarg)
{
	struct ksync_queue_join __user *ujoin = uarg;
	struct ksync_queue_join args;
	u32 token = 0;
	long ret;

	ret = ksync_copy_args(&args, sizeof(args), sizeof(args), uarg);
	if (ret)
		return ret;
	if (args.flags || args.pad || args.token)
		return -EINVAL;
	ret = q_join_sender(kf, &token);
	if (ret)
		return ret;
	return put_user(token, &ujoin->token) ? -EFAULT : 0;
}

/*
 * Another open file on the queue, with some of this one's roles: what
 * pipe() gives, for a queue that has no name to open again.  A kernel-only
 * or unmappable file makes files like itself.
 */
static long q_reopen(struct ksync_file *kf, void __user *uarg)
{
	const u32 roles = KSYNC_OPEN_SEND | KSYNC_OPEN_RECV;
	struct ksync_queue_reopen args;
	struct file *file;
	u32 flags;
	int fd, ret;

	ret = ksync_copy_args(&args, sizeof(args), sizeof(args), uarg);
	if (ret)
		return ret;
	if (args.flags & ~(roles | KSYNC_OPEN_KERNEL | KSYNC_OPEN_CLOEXEC) ||
	    args.reserved)
		return -EINVAL;
	flags = args.flags & roles ? args.flags & roles : roles;
	if (flags & ~kf->flags)
		return -EACCES;
	flags |= (args.flags | kf->flags) & KSYNC_OPEN_KERNEL;
	flags |= kf->flags & KSYNC_FILE_NOMAP;
	fd = get_unused_fd_flags(O_RDWR |
				 (args.flags & KSYNC_OPEN_CLOEXEC ? O_CLOEXEC : 0));
	if (fd < 0)
		return fd;
	/* ours pins the object while the new file takes its reference */
	kref_get(&kf->obj->ref);
	file = ksync_obj_file(kf->obj, flags);
	if (IS_ERR(file)) {
		ksync_obj_put(kf->obj);
		put_unused_fd(fd);
		return PTR_ERR(file);
	}
	ksync_obj_opened(file);
	fd_install(fd, file);
	return fd;
}

static u32 q_state_bits(struct ksync_queue *q)
{
	lockdep_assert_held(&q->lock);
	return (q->shutdown ? KSYNC_QUEUE_STATE_SHUTDOWN : 0) |
	       (q->broken ? KSYNC_QUEUE_STATE_BROKEN : 0) |
	       (q->noeof ? KSYNC_QUEUE_STATE_NOEOF : 0) |
	       (!q->noeof && !q->writers && q->eof_gen ? KSYNC_QUEUE_STATE_EOF : 0);
}

static long q_send(struct ksync_file *kf, void __user *uarg)
{
	return q_xfer(kf, uarg, Q_SEND);
}

static long q_recv(struct ksync_file *kf, void __user *uarg)
{
	return q_xfer(kf, uarg, Q_RECV);
}

/* A process that changed the ring owes its peers this call: settle. */
static long q_wake_ioctl(struct ksync_file *kf, void __user *uarg)
{
	struct ksync_queue *q = to_q(kf->obj);

	mutex_lock(&q->lock);
	q->wake_calls++;
	q_settle(q);
	mutex_unlock(&q->lock);
	return 0;
}

static const struct ksync_cmd q_cmds[] = {
	{ KSYNC_IOC_QUEUE_INFO,		ksync_info_ioctl },
	{ KSYNC_IOC_QUEUE_WAKE,		q_wake_ioctl },
	{ KSYNC_IOC_QUEUE_SHUTDOWN,	q_shutdown },
	{ KSYNC_IOC_QUEUE_SEND,		q_send },
	{ KSYNC_IOC_QUEUE_RECV,		q_recv },
	{ KSYNC_IOC_QUEUE_JOIN,		q_join },
	{ KSYNC_IOC_QUEUE_REOPEN,	q_reopen },
};

/*
 * Ready as the operations would find it now, FIFO included.  A side the
 * poller wants and that is not ready is armed (its WAIT bit): the next
 * change comes here and wakes the poller.  Having armed, look again, in
 * case a process changed the ring before it could see the bit.
 */
static __poll_t q_poll(struct ksync_file *kf, __poll_t want)
{
	struct ksync_queue *q = to_q(kf->obj);
	bool arm_in, arm_out;
	__poll_t ev;

	if (!(kf->flags & KSYNC_OPEN_RECV))
		want &= ~(EPOLLIN | EPOLLRDNORM);
	if (!(kf->flags & KSYNC_OPEN_SEND))
		want &= ~(EPOLLOUT | EPOLLWRNORM);
	mutex_lock(&q->lock);
	q_settle(q);	/* takes tombstones at head, so that they do not look readable */
	ev = q_events(q, kf);
	/*
	 * A side that is ready needs no arming; one that has hung up for
	 * good (shut down) will not change.  An end of input is the receive
	 * side's, and not for good: a two-way fd's send side is armed all
	 * the same.
	 */
	arm_in = want & (EPOLLIN | EPOLLRDNORM) && !(ev & EPOLLIN);
	arm_out = want & (EPOLLOUT | EPOLLWRNORM) && !(ev & EPOLLOUT) && !q->shutdown;
	if (!q->broken && (arm_in || arm_out)) {
		if (arm_in)
			q_arm(q, Q_RECV, kf->q.gen);
		if (arm_out)
			q_arm(q, Q_SEND, kf->q.gen);
		q_publish_state(q);
		ev = q_events(q, kf);
	}
	mutex_unlock(&q->lock);
	return ev;
}

static int q_check(const struct ksync_open_args *args, bool create)
{
	/* the shape matters only to a call that may create the queue */
	if (create) {
		if (!args->queue.capacity ||
		    args->queue.capacity > KSYNC_QUEUE_CAPACITY_MAX ||
		    args->queue.msg_size > KSYNC_QUEUE_MSG_MAX)
			return -EINVAL;
		/* whatever the parameter says, the mapping's size fits in 32 bits */
		if (q_ring_bytes(args->queue.capacity, args->queue.msg_size) >
		    min_t(u64, ksync_max_queue_bytes(), Q_RING_MAX))
			return -EFBIG;
	}
	return 0;
}

/* The header page, the ring, and the status page. */
static u64 q_cost(const struct ksync_open_args *args)
{
	return PAGE_SIZE + PAGE_ALIGN(q_ring_bytes(args->queue.capacity,
						   args->queue.msg_size)) +
	       PAGE_SIZE;
}

static struct ksync_obj *q_create(const struct ksync_open_args *args)
{
	struct ksync_queue *q;
	u64 bytes = q_cost(args);

	q = kzalloc(sizeof(*q), GFP_KERNEL_ACCOUNT);
	if (!q)
		return ERR_PTR(-ENOMEM);
	/*
	 * Up to max_queue_bytes at a user's request: past the memory
	 * cgroup's limit (or the machine's memory) the open fails with
	 * -ENOMEM rather than waking the OOM killer.
	 */
	q->mem = __vmalloc(bytes, GFP_KERNEL_ACCOUNT | __GFP_ZERO | __GFP_NOWARN |
			   __GFP_RETRY_MAYFAIL);
	if (!q->mem) {
		kfree(q);
		return ERR_PTR(-ENOMEM);
	}
	/*
	 * The state word gets a page of its own, after the ring, that users
	 * map read-only: only the module writes it, and a peer that could
	 * write SHUTDOWN or BROKEN there would fail every honest fast path.
	 */
	q->obj.shm_pages = (bytes >> PAGE_SHIFT) - 1;
	q->obj.shm_ro_pages = 1;
	q->status = (void *)((u8 *)q->mem + bytes - PAGE_SIZE);
	q->hdr = q->mem;
	q->ring = (u8 *)q->mem + PAGE_SIZE;
	q->capacity = args->queue.capacity;
	q->msg_size = args->queue.msg_size;
	q->slot_size = KSYNC_QUEUE_SLOT_SIZE(q->msg_size);
	q->max_token = (PAGE_SIZE - offsetof(struct ksync_queue_shared, claimed)) /
		       sizeof(q->hdr->claimed[0]) - 1;
	q->noeof = args->flags & KSYNC_OPEN_NOEOF;
	q_ring_init(q);
	mutex_init(&q->lock);
	ida_init(&q->tokens);
	INIT_LIST_HEAD(&q->waiters[Q_SEND]);
	INIT_LIST_HEAD(&q->waiters[Q_RECV]);
	return &q->obj;
}

/* Mappings hold their own references to the pages. */
static void q_free_obj(struct ksync_obj *obj)
{
	struct ksync_queue *q = to_q(obj);

	ida_destroy(&q->tokens);
	mutex_destroy(&q->lock);
	vfree(q->mem);
	kfree(q);
}

static struct page *q_page(struct ksync_obj *obj, pgoff_t pgoff)
{
	return vmalloc_to_page((u8 *)to_q(obj)->mem + (pgoff << PAGE_SHIFT));
}

static_assert(sizeof(struct ksync_queue_info) <=
	      sizeof_field(struct ksync_snap, data));

/* Senders asleep first, then receivers. */
static void q_who(struct ksync_queue *q, struct ksync_who *w)
{
	struct ksync_wait_entry *e;

	lockdep_assert_held(&q->lock);
	list_for_each_entry(e, &q->waiters[Q_SEND], node)
		if (!ksync_who_add(w, e->w->task, KSYNC_WHO_SENDS, 1, e->w->since))
			return;
	list_for_each_entry(e, &q->waiters[Q_RECV], node)
		if (!ksync_who_add(w, e->w->task, KSYNC_WHO_RECEIVES, 1, e->w->since))
			return;
}

/* The queue's snapshot is its INFO struct; the shape needs no lock. */
static void q_snapshot(struct ksync_obj *obj, struct ksync_file *kf,
		       struct ksync_snap *s, struct ksync_who *w)
{
	struct ksync_queue *q = to_q(obj);
	struct ksync_queue_info *info = (void *)s->data;

	info->capacity = q->capacity;
	info->msg_size = q->msg_size;
	info->slot_size = q->slot_size;
	info->ring_offset = PAGE_SIZE;
	info->map_size = q->obj.shm_pages << PAGE_SHIFT;
	info->state_offset = q->obj.shm_pages << PAGE_SHIFT;
	info->flags = kf ? kf->flags & (KSYNC_OPEN_KERNEL | KSYNC_OPEN_SEND |
					KSYNC_OPEN_RECV) : 0;
	mutex_lock(&q->lock);
	info->length = q_length(q);
	info->state = q_state_bits(q);
	info->senders = q->writers;
	info->send_sleepers = q->sleeping[Q_SEND];
	info->recv_sleepers = q->sleeping[Q_RECV];
	info->send_calls = q->send_calls;
	info->recv_calls = q->recv_calls;
	info->wake_calls = q->wake_calls;
	info->woken = q->woken;
	info->tombstones = q->tombstones;
	s->who = q->sleeping[Q_SEND] + q->sleeping[Q_RECV];
	if (w)
		q_who(q, w);
	mutex_unlock(&q->lock);
}

static void q_summary(const struct ksync_snap *s, struct ksync_list_entry *e)
{
	const struct ksync_queue_info *info = (const void *)s->data;

	e->queue.capacity = info->capacity;
	e->queue.msg_size = info->msg_size;
	e->queue.length = info->length;
	e->queue.sleepers = info->send_sleepers + info->recv_sleepers;
	e->queue.state = info->state;
}

static const char *q_state_name(u32 state)
{
	if (state & KSYNC_QUEUE_STATE_BROKEN)
		return "broken";
	if (state & KSYNC_QUEUE_STATE_SHUTDOWN)
		return "shutdown";
	return state & KSYNC_QUEUE_STATE_EOF ? "eof" : "open";
}

static void q_fdinfo(struct seq_file *m, const struct ksync_snap *s)
{
	const struct ksync_queue_info *info = (const void *)s->data;

	seq_printf(m, "ksync-type:\tqueue\nksync-capacity:\t%u\nksync-msg-size:\t%u\n",
		   info->capacity, info->msg_size);
	seq_printf(m, "ksync-length:\t%u\nksync-state:\t%s%s%s\n", info->length,
		   q_state_name(info->state),
		   info->state & KSYNC_QUEUE_STATE_NOEOF ? " noeof" : "",
		   info->flags & KSYNC_OPEN_KERNEL ? " kernel-only" : "");
	seq_printf(m, "ksync-role:\t%s\n",
		   !(info->flags & KSYNC_OPEN_RECV) ? "send" :
		   !(info->flags & KSYNC_OPEN_SEND) ? "recv" : "send recv");
	seq_printf(m, "ksync-senders:\t%u\nksync-send-sleepers:\t%u\nksync-recv-sleepers:\t%u\n",
		   info->senders, info->send_sleepers, info->recv_sleepers);
	seq_printf(m, "ksync-send-calls:\t%llu\nksync-recv-calls:\t%llu\n",
		   info->send_calls, info->recv_calls);
	seq_printf(m, "ksync-wake-calls:\t%llu\nksync-woken:\t%llu\nksync-tombstones:\t%llu\n",
		   info->wake_calls, info->woken, info->tombstones);
}

const struct ksync_type ksync_queue_type = {
	.type		= KSYNC_TYPE_QUEUE,
	.name		= "[ksync-queue]",
	.open_flags	= KSYNC_OPEN_NOEOF | KSYNC_OPEN_KERNEL | KSYNC_OPEN_SEND |
			  KSYNC_OPEN_RECV,
	.check		= q_check,
	.cost		= q_cost,
	.create		= q_create,
	.free		= q_free_obj,
	.cmds		= q_cmds,
	.nr_cmds	= ARRAY_SIZE(q_cmds),
	.poll		= q_poll,
	.page		= q_page,
	.opened		= q_opened,
	.release	= q_release,
	.unmapped	= q_unmapped,
	.flush		= q_flush,
	.snapshot	= q_snapshot,
	.info_size	= sizeof(struct ksync_queue_info),
	.fdinfo		= q_fdinfo,
	.summary	= q_summary,
	.op_size	= sizeof(struct q_op),
	.op_init	= q_op_init,
	.op_start	= q_op_start,
};
