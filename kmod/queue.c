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
 * again before it sleeps (q_one).  A process that sends on the ring reads
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
 * The ring is user memory.  We read positions and lengths from it but
 * keep our own state apart, index with pos % capacity, check every length
 * against msg_size, and bound every loop by the capacity; what we cannot
 * make sense of breaks the queue (-ENOTRECOVERABLE), for its users only.
 *
 * Lock order: mmap_lock -> q->lock (mutex) -> the poll wait queue.  party.c's
 * obj->lock is never taken under q->lock nor q->lock under it.  Under
 * q->lock user memory is touched only with page faults disabled, so no
 * fault takes mmap_lock under it.
 */
#include <linux/file.h>
#include <linux/hrtimer.h>
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

enum { Q_SEND, Q_RECV };

#define SEQ_POS		KSYNC_QUEUE_SEQ_POS
#define SEQ_BUSY	KSYNC_QUEUE_SEQ_BUSY
#define SEQ_TOKEN	KSYNC_QUEUE_SEQ_TOKEN
#define TOMBSTONE	KSYNC_QUEUE_TOMBSTONE

/* The largest ring, whatever max_queue_bytes says. */
#define Q_RING_MAX	BIT_ULL(30)

/* Faults one message may take before the call gives up with -EFAULT. */
#define Q_FAULTS	8
/*
 * Races we lose to processes on the ring before we let them have it (as
 * if the ring had been full, or empty): the caller sleeps, and the next
 * change wakes it.  Losing is no sign of damage: they are faster there.
 */
#define Q_RACES		4

struct ksync_queue {
	struct ksync_obj obj;
	struct mutex lock;		/* all below, and the ring's indices */
	void *mem;			/* vmalloc'ed: header, ring, status */
	struct ksync_queue_shared *hdr;
	struct ksync_queue_status *status;	/* mapped read-only */
	u8 *ring;
	u32 capacity;
	u32 msg_size;
	u32 slot_size;
	u32 max_token;
	struct ida tokens;		/* senders' claim stamps */
	struct list_head waiters[2];	/* struct q_waiter, FIFO, per side */
	u32 sleeping[2];		/* on the lists */
	u32 granted[2];			/* woken to a message or slot, not back */
	bool noeof;
	u32 writers;			/* sender files (kf->q.sender) */
	u32 eof_gen;			/* times writers fell to zero */
	bool shutdown;
	bool broken;
	bool armed[2];			/* a poller waits for this side */
	u64 send_calls;
	u64 recv_calls;
	u64 wake_calls;
	u64 woken;
	u64 tombstones;
};

/* Lives on the sleeper's stack; touched by others only under q->lock. */
struct q_waiter {
	struct list_head node;
	struct task_struct *task;
	u64 since;			/* ktime_get_ns() when it first queued */
	u32 gen;			/* a receiver's file's kf->q.gen */
	bool granted;
};

/* One message of a call: where it is, and its length (or room). */
struct q_msg {
	void __user *base;
	u64 len;
	u64 __user *ulen;	/* recv: where to say how long it was */
};

static struct ksync_queue *to_q(struct ksync_obj *obj)
{
	return container_of(obj, struct ksync_queue, obj);
}

static atomic64_t *q_state(struct ksync_queue *q)
{
	return (atomic64_t *)&q->status->state;
}

static atomic64_t *q_index(struct ksync_queue *q, int side)
{
	return (atomic64_t *)(side == Q_RECV ? &q->hdr->head : &q->hdr->tail);
}

static struct ksync_queue_slot *q_slot(struct ksync_queue *q, u64 pos)
{
	return (void *)(q->ring + (size_t)(pos % q->capacity) * q->slot_size);
}

static atomic64_t *q_seq(struct ksync_queue_slot *slot)
{
	return (atomic64_t *)&slot->seq;
}

static u64 q_ring_bytes(u32 capacity, u32 msg_size)
{
	return (u64)capacity * KSYNC_QUEUE_SLOT_SIZE(msg_size);
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
 * Move an index past slots that are done with: a receiver that took the
 * message at head, or a sender that claimed the slot at tail, may have
 * died before moving the index on, and everyone moves it for them.  With
 * take, also take the tombstones at head: that frees their slots, so only
 * callers that settle afterwards may (q_settle, q_recv_one).  Bounded by
 * the capacity, whatever the ring says.
 */
static void q_sync(struct ksync_queue *q, int side, bool take)
{
	atomic64_t *idx = q_index(q, side);
	u32 n;

	lockdep_assert_held(&q->lock);
	for (n = 0; n <= q->capacity; n++) {
		u64 pos = atomic64_read(idx);
		struct ksync_queue_slot *slot = q_slot(q, pos);
		/* acquire: pairs with the release that published the slot */
		u64 seq = atomic64_read_acquire(q_seq(slot));
		s64 d;

		/*
		 * A process that keeps rewinding the indices can make every
		 * call walk the ring: a mutex holder may yield, and must on a
		 * kernel without preemption.
		 */
		if (n && !(n % 4096))
			cond_resched();

		if (side == Q_RECV) {
			d = ksync_queue_seq_diff(seq & SEQ_POS,
						 ksync_queue_seq_full(pos));
			if (take && !d && !(seq & SEQ_BUSY) &&
			    READ_ONCE(slot->len) == TOMBSTONE)
				atomic64_cmpxchg(q_seq(slot), seq,
						 ksync_queue_seq_free(pos + q->capacity));
			else if (d <= 0)
				return;
		} else {
			d = ksync_queue_seq_diff(seq & SEQ_POS,
						 ksync_queue_seq_free(pos));
			if (d < 0 || (!d && !(seq & SEQ_BUSY)))
				return;
		}
		atomic64_cmpxchg(idx, pos, pos + 1);
	}
}

/*
 * Is there a message (side Q_RECV) or a free slot (Q_SEND) past the first
 * k?  A tombstone is no message: a receive would skip it and might find
 * nothing.  (One at head is taken by q_settle() before anyone asks; one
 * behind the first k is looked at again when those k have been taken,
 * which settles again.)
 */
static bool q_ready(struct ksync_queue *q, int side, u32 k)
{
	struct ksync_queue_slot *slot;
	u64 pos;

	if (k >= q->capacity)
		return false;
	q_sync(q, side, false);
	pos = atomic64_read(q_index(q, side)) + k;
	slot = q_slot(q, pos);
	if (side == Q_SEND)
		return atomic64_read_acquire(q_seq(slot)) ==
		       ksync_queue_seq_free(pos);
	/* acquire: the length after the seq that published it */
	return atomic64_read_acquire(q_seq(slot)) ==
	       ksync_queue_seq_full(pos) &&
	       READ_ONCE(slot->len) != TOMBSTONE;
}

/* Shut down and nothing left: nothing full or being written at head. */
static bool q_drained(struct ksync_queue *q)
{
	u64 pos;

	q_sync(q, Q_RECV, false);
	pos = atomic64_read(q_index(q, Q_RECV));
	return atomic64_read_acquire(q_seq(q_slot(q, pos))) ==
	       ksync_queue_seq_free(pos);
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
static __poll_t q_events(struct ksync_queue *q, struct ksync_file *kf)
{
	u32 roles = kf ? kf->flags : KSYNC_OPEN_SEND | KSYNC_OPEN_RECV;
	bool ended = kf ? q_ended(q, kf->q.gen) : q_ended(q, q->eof_gen - 1);
	__poll_t ev = 0;

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

static void q_grant(struct ksync_queue *q, int side, struct q_waiter *w)
{
	list_del_init(&w->node);
	q->sleeping[side]--;
	q->granted[side]++;
	q->woken++;
	w->granted = true;
	/* under q->lock: the sleeper reads 'granted' only under it */
	wake_up_process(w->task);
}

/* Must this sleeper wake up to fail (or to find the end)? */
static bool q_must_go(struct ksync_queue *q, int side, struct q_waiter *w)
{
	if (q->broken)
		return true;
	if (side == Q_SEND)
		return q->shutdown;
	return q_ended(q, w->gen) && q_drained(q);
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
	struct q_waiter *w, *n;
	__poll_t ev, wake = 0;
	int side;

	lockdep_assert_held(&q->lock);
	/* the WAIT bits first, then the ring: see q_publish_state() */
	q_publish_state(q);
	/* tombstones at head free their slots before senders are counted */
	q_sync(q, Q_RECV, true);
	for (side = Q_SEND; side <= Q_RECV; side++) {
		list_for_each_entry_safe(w, n, &q->waiters[side], node) {
			if (q_must_go(q, side, w) ||
			    q_ready(q, side, q->granted[side]))
				q_grant(q, side, w);
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
		ev = q_events(q, NULL);
		for (side = Q_SEND; side <= Q_RECV; side++) {
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

/* The ring makes no sense: fail everyone, now and later. */
static int q_break(struct ksync_queue *q)
{
	q->broken = true;
	return -ENOTRECOVERABLE;
}

/*
 * Send one message at tail, as a sender on the ring does, stamped with
 * token 0.  1: sent; 0: full; -EFAULT: the message could not be read (a
 * tombstone took the slot: fault it in and try again).
 */
static int q_send_one(struct ksync_queue *q, const struct q_msg *m)
{
	struct ksync_queue_slot *slot;
	unsigned long left;
	u32 tries;
	s64 seq;
	u64 pos;

	for (tries = 0; tries < Q_RACES; tries++) {
		q_sync(q, Q_SEND, false);
		pos = atomic64_read(q_index(q, Q_SEND));
		slot = q_slot(q, pos);
		seq = ksync_queue_seq_free(pos);
		if (atomic64_read(q_seq(slot)) != seq)
			return 0;
		/*
		 * acquire: pairs with the receiver's taking compare-and-swap,
		 * whose copy must be done before we write
		 */
		if (!atomic64_try_cmpxchg_acquire(q_seq(slot), &seq,
						  ksync_queue_seq_free(pos) | SEQ_BUSY))
			continue;
		atomic64_cmpxchg(q_index(q, Q_SEND), pos, pos + 1);
		pagefault_disable();
		left = copy_from_user(slot->data, m->base, m->len);
		pagefault_enable();
		WRITE_ONCE(slot->len, left ? TOMBSTONE : m->len);
		/* release: the length and payload before FULL */
		atomic64_set_release(q_seq(slot), ksync_queue_seq_full(pos));
		if (left) {
			q->tombstones++;
			return -EFAULT;
		}
		return 1;
	}
	return 0;
}

/*
 * Receive the message at head, as a receiver on the ring does: copy, then
 * take.  1: received (m->len set); 0: empty; -EMSGSIZE: it does not fit
 * (it stays); -EFAULT: the buffer faulted (nothing taken).
 */
static int q_recv_one(struct ksync_queue *q, struct q_msg *m)
{
	struct ksync_queue_slot *slot;
	unsigned long left;
	u32 tries, len;
	u64 pos;

	for (tries = 0; tries < Q_RACES; tries++) {
		q_sync(q, Q_RECV, true);	/* q_one settles after us */
		pos = atomic64_read(q_index(q, Q_RECV));
		slot = q_slot(q, pos);
		if (atomic64_read_acquire(q_seq(slot)) !=
		    ksync_queue_seq_full(pos))
			return 0;
		len = READ_ONCE(slot->len);
		if (len == TOMBSTONE)
			continue;
		if (len > q->msg_size)
			return q_break(q);
		if (len > m->len)
			return -EMSGSIZE;
		/* the message and its length, before we take it */
		pagefault_disable();
		left = copy_to_user(m->base, slot->data, len);
		if (!left && put_user((u64)len, m->ulen))
			left = 1;
		pagefault_enable();
		if (left)
			return -EFAULT;
		/* fully ordered: our copy is done before a sender may claim */
		if (atomic64_cmpxchg(q_seq(slot), ksync_queue_seq_full(pos),
				     ksync_queue_seq_free(pos + q->capacity)) !=
		    ksync_queue_seq_full(pos)) {
			/*
			 * Another had it: the room the caller gave goes back
			 * where we wrote the length (a restart reads it again).
			 */
			pagefault_disable();
			if (put_user(m->len, m->ulen))
				left = 1;
			pagefault_enable();
			if (left)
				return -EFAULT;
			continue;
		}
		atomic64_cmpxchg(q_index(q, Q_RECV), pos, pos + 1);
		m->len = len;
		return 1;
	}
	return 0;
}

/*
 * One message, under q->lock: now if nobody of our side waits and the ring
 * has room (a message) beyond what was granted to sleepers, else sleep in
 * FIFO order until granted, unless block is false.  Returns 1 or an error
 * (-ETIMEDOUT also when block is false, -ERESTARTNOHAND on a signal).
 */
static int q_one(struct ksync_queue *q, int side, struct q_msg *m,
		 ktime_t *expires, bool block, u32 gen)
	__must_hold(&q->lock)
{
	struct q_waiter w = { .task = current, .gen = gen };
	bool queued = false, expired = false, front = false;
	int ret;

	for (;;) {
		if (q->broken) {
			ret = -ENOTRECOVERABLE;
			break;
		}
		if (side == Q_SEND && q->shutdown) {
			ret = -EPIPE;
			break;
		}
		if (queued ? w.granted : !q->sleeping[side] &&
		    q_ready(q, side, q->granted[side])) {
			if (queued) {
				q->granted[side]--;
				queued = false;
				front = true;	/* if it is gone, we stay first */
			}
			ret = side == Q_SEND ? q_send_one(q, m) : q_recv_one(q, m);
			if (ret)
				break;
			/*
			 * The ring's users were faster: let them run.  Losing
			 * every time must not outlast the deadline, which
			 * otherwise is only looked at after a sleep.
			 */
			cond_resched();
			if (expires && ktime_compare(ktime_get(), *expires) >= 0)
				expired = true;
		}
		if (side == Q_RECV && q_ended(q, gen) && q_drained(q)) {
			ret = -EPIPE;
			break;
		}
		if (!block || expired) {
			ret = -ETIMEDOUT;
			break;
		}
		/* the deadline is absolute: a restart waits exactly as long */
		if (signal_pending(current)) {
			ret = -ERESTARTNOHAND;
			break;
		}
		if (!queued) {
			w.granted = false;
			if (!w.since)
				w.since = ktime_get_ns();
			if (front)
				list_add(&w.node, &q->waiters[side]);
			else
				list_add_tail(&w.node, &q->waiters[side]);
			q->sleeping[side]++;
			queued = true;
			/* sets our WAIT bit, then looks again: may grant us */
			q_settle(q);
			continue;
		}
		set_current_state(TASK_INTERRUPTIBLE);
		if (w.granted) {
			__set_current_state(TASK_RUNNING);
			continue;
		}
		mutex_unlock(&q->lock);
		if (!expires)
			schedule();
		else if (!schedule_hrtimeout_range(expires, current->timer_slack_ns,
						   HRTIMER_MODE_ABS))
			expired = true;
		__set_current_state(TASK_RUNNING);
		mutex_lock(&q->lock);
	}
	if (queued) {
		if (w.granted) {
			q->granted[side]--;
		} else {
			list_del(&w.node);
			q->sleeping[side]--;
		}
	}
	/*
	 * A try that failed is how an edge-triggered poller drains, and a
	 * receive that found the end is how it reads to the end: arm its
	 * side, so that the next change (a message, a new input) comes here
	 * and wakes it.
	 */
	if ((ret == -ETIMEDOUT && !block) || (ret == -EPIPE && side == Q_RECV)) {
		/* (under q->lock, which q_poll() arms under: no poller is missed) */
		if (waitqueue_active(&q->obj.poll_wq))
			q->armed[side] = true;
	}
	q_settle(q);	/* pass on what we were granted and did not use */
	return ret;
}

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
static int q_shutdown(struct ksync_queue *q, struct ksync_file *kf)
{
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

/*
 * A sender's process let go of its file: what it claimed and never
 * published becomes a tombstone.  It is dead (or no longer holds the
 * file, which a well-behaved process does not do while sending), so
 * nobody else writes those slots.  One pass over the ring, only if the
 * process said it may hold a claim.
 */
static void q_repair(struct ksync_queue *q, u32 token)
{
	u64 stamp = (u64)token << KSYNC_QUEUE_TOKEN_SHIFT | SEQ_BUSY;
	u64 found = 0;
	u32 i;

	if (!READ_ONCE(q->hdr->claimed[token]))
		return;
	for (i = 0; i < q->capacity; i++) {
		struct ksync_queue_slot *slot = q_slot(q, i);
		s64 seq = atomic64_read(q_seq(slot));
		atomic64_t *tail = q_index(q, Q_SEND);
		u64 pos;

		/*
		 * Make the claim ours (token 0) before writing the slot: a
		 * holder that published meanwhile (it should be gone) keeps its
		 * message, and we leave the slot alone.
		 */
		if ((seq & (SEQ_BUSY | SEQ_TOKEN)) == stamp &&
		    atomic64_try_cmpxchg(q_seq(slot), &seq, (seq & SEQ_POS) | SEQ_BUSY)) {
			WRITE_ONCE(slot->len, TOMBSTONE);
			/*
			 * release: the length before FULL; a compare-and-swap,
			 * so that a holder that was alive after all and
			 * published cannot have its slot sent back a lap
			 */
			atomic64_cmpxchg_release(q_seq(slot), (seq & SEQ_POS) | SEQ_BUSY,
						 (seq & SEQ_POS) | 1);
			found++;
			pos = atomic64_read(tail);
			if (ksync_queue_seq_free(pos) == (seq & SEQ_POS))
				atomic64_cmpxchg(tail, pos, pos + 1);
		}
		if (!(i % 4096))
			cond_resched();
	}
	WRITE_ONCE(q->hdr->claimed[token], 0);
	mutex_lock(&q->lock);
	q->tombstones += found;
	mutex_unlock(&q->lock);
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

static long q_xfer(struct ksync_file *kf, void __user *uarg, int side)
{
	struct ksync_queue_xfer __user *uxfer = uarg;
	struct ksync_queue *q = to_q(kf->obj);
	struct ksync_queue_msg __user *umsg;
	struct ksync_queue_xfer args;
	ktime_t expires, *deadline = NULL;
	struct ksync_queue_msg um;
	unsigned int faults = 0;
	bool block = true;
	struct q_msg m;
	u32 done;
	int ret;

	ret = ksync_copy_args(&args, sizeof(args), sizeof(args), uarg);
	if (ret)
		return ret;
	if (args.flags & ~KSYNC_WAIT_FLAGS || args.count > KSYNC_QUEUE_BATCH_MAX ||
	    args.done > args.count)
		return -EINVAL;
	if (args.flags & KSYNC_WAIT_DEADLINE) {
		expires = ksync_deadline(args.deadline);
		deadline = &expires;
		/* past already: try once, without queueing */
		block = ktime_compare(expires, ktime_get()) > 0;
	}
	if (!(kf->flags & (side == Q_SEND ? KSYNC_OPEN_SEND : KSYNC_OPEN_RECV)))
		return -EBADF;
	if (side == Q_SEND) {
		ret = q_join_sender(kf, NULL);
		if (ret)
			return ret;
	}
	umsg = u64_to_user_ptr(args.msgs);
	mutex_lock(&q->lock);
	if (side == Q_SEND)
		q->send_calls++;
	else
		q->recv_calls++;
	mutex_unlock(&q->lock);

	for (done = args.done; done < args.count; ) {
		if (copy_from_user(&um, &umsg[done], sizeof(um))) {
			ret = -EFAULT;
			break;
		}
		m.base = u64_to_user_ptr(um.base);
		m.len = um.len;
		m.ulen = &umsg[done].len;
		if (side == Q_SEND && m.len > q->msg_size) {
			ret = -EMSGSIZE;
			break;
		}
		/*
		 * Fault the message in now, and the place where a receive
		 * writes its length (q_recv_one writes it before it takes the
		 * message, with faults disabled).
		 */
		if ((side == Q_SEND && fault_in_readable(m.base, m.len)) ||
		    (side == Q_RECV && put_user(um.len, &umsg[done].len))) {
			ret = -EFAULT;
			break;
		}
		if (mutex_lock_killable(&q->lock)) {
			ret = -EINTR;
			break;
		}
		/* a receive waits for its first message only */
		ret = q_one(q, side, &m, deadline,
			    block && (side == Q_SEND || done == 0), kf->q.gen);
		mutex_unlock(&q->lock);
		if (ret == -EFAULT && ++faults < Q_FAULTS) {
			size_t len = min_t(u64, m.len, q->msg_size);

			if (side == Q_RECV ? fault_in_safe_writeable(m.base, len) ||
			    fault_in_safe_writeable((char __user *)m.ulen, sizeof(u64)) :
			    fault_in_readable(m.base, len))
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

static u32 q_length(struct ksync_queue *q)
{
	return ksync_queue_length(atomic64_read(q_index(q, Q_RECV)),
				  atomic64_read(q_index(q, Q_SEND)), q->capacity);
}

static u32 q_state_bits(struct ksync_queue *q)
{
	return (q->shutdown ? KSYNC_QUEUE_STATE_SHUTDOWN : 0) |
	       (q->broken ? KSYNC_QUEUE_STATE_BROKEN : 0) |
	       (q->noeof ? KSYNC_QUEUE_STATE_NOEOF : 0) |
	       (!q->noeof && !q->writers && q->eof_gen ? KSYNC_QUEUE_STATE_EOF : 0);
}

static long q_info(struct ksync_file *kf, void __user *uarg)
{
	struct ksync_queue *q = to_q(kf->obj);
	struct ksync_queue_info info = {
		.capacity	= q->capacity,
		.msg_size	= q->msg_size,
		.slot_size	= q->slot_size,
		.ring_offset	= PAGE_SIZE,
		.map_size	= q->obj.shm_pages << PAGE_SHIFT,
		.state_offset	= q->obj.shm_pages << PAGE_SHIFT,
		.flags		= kf->flags & (KSYNC_OPEN_KERNEL | KSYNC_OPEN_SEND |
					       KSYNC_OPEN_RECV),
	};

	mutex_lock(&q->lock);
	info.length = q_length(q);
	info.state = q_state_bits(q);
	info.senders = q->writers;
	info.send_sleepers = q->sleeping[Q_SEND];
	info.recv_sleepers = q->sleeping[Q_RECV];
	info.send_calls = q->send_calls;
	info.recv_calls = q->recv_calls;
	info.wake_calls = q->wake_calls;
	info.woken = q->woken;
	info.tombstones = q->tombstones;
	mutex_unlock(&q->lock);
	return copy_to_user(uarg, &info, sizeof(info)) ? -EFAULT : 0;
}

static long q_ioctl(struct ksync_file *kf, unsigned int cmd, void __user *uarg)
{
	struct ksync_queue *q = to_q(kf->obj);

	switch (cmd) {
	case KSYNC_IOC_QUEUE_INFO:
		return q_info(kf, uarg);
	case KSYNC_IOC_QUEUE_WAKE:
		mutex_lock(&q->lock);
		q->wake_calls++;
		q_settle(q);
		mutex_unlock(&q->lock);
		return 0;
	case KSYNC_IOC_QUEUE_SHUTDOWN:
		return q_shutdown(q, kf);
	}
	switch (KSYNC_CMD_NOSIZE(cmd)) {
	case KSYNC_CMD_NOSIZE(KSYNC_IOC_QUEUE_SEND):
		return q_xfer(kf, uarg, Q_SEND);
	case KSYNC_CMD_NOSIZE(KSYNC_IOC_QUEUE_RECV):
		return q_xfer(kf, uarg, Q_RECV);
	case KSYNC_CMD_NOSIZE(KSYNC_IOC_QUEUE_JOIN):
		return q_join(kf, uarg);
	case KSYNC_CMD_NOSIZE(KSYNC_IOC_QUEUE_REOPEN):
		return q_reopen(kf, uarg);
	default:
		return -ENOTTY;
	}
}

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
		q->armed[Q_RECV] |= arm_in;
		q->armed[Q_SEND] |= arm_out;
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
	if (memchr_inv(args->reserved + 1, 0, sizeof(args->reserved) -
		       sizeof(args->reserved[0])))
		return -EINVAL;
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
	u32 i;

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
	for (i = 0; i < q->capacity; i++) {
		atomic64_set(q_seq(q_slot(q, i)), ksync_queue_seq_free(i));
		if (!(i % 4096))
			cond_resched();
	}
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

static void q_summary(struct ksync_obj *obj, struct ksync_list_entry *e)
{
	struct ksync_queue *q = to_q(obj);

	e->queue.capacity = q->capacity;
	e->queue.msg_size = q->msg_size;
	mutex_lock(&q->lock);
	e->queue.length = q_length(q);
	e->queue.sleepers = q->sleeping[Q_SEND] + q->sleeping[Q_RECV];
	e->queue.state = q_state_bits(q);
	mutex_unlock(&q->lock);
}

static void q_fdinfo(struct seq_file *m, struct ksync_file *kf)
{
	struct ksync_queue *q = to_q(kf->obj);

	mutex_lock(&q->lock);
	seq_printf(m, "ksync-type:\tqueue\nksync-capacity:\t%u\nksync-msg-size:\t%u\n",
		   q->capacity, q->msg_size);
	seq_printf(m, "ksync-length:\t%u\nksync-state:\t%s%s%s\n", q_length(q),
		   q->broken ? "broken" : q->shutdown ? "shutdown" :
		   q_state_bits(q) & KSYNC_QUEUE_STATE_EOF ? "eof" : "open",
		   q->noeof ? " noeof" : "",
		   kf->flags & KSYNC_OPEN_KERNEL ? " kernel-only" : "");
	seq_printf(m, "ksync-role:\t%s\n",
		   !(kf->flags & KSYNC_OPEN_RECV) ? "send" :
		   !(kf->flags & KSYNC_OPEN_SEND) ? "recv" : "send recv");
	seq_printf(m, "ksync-senders:\t%u\nksync-send-sleepers:\t%u\nksync-recv-sleepers:\t%u\n",
		   q->writers, q->sleeping[Q_SEND], q->sleeping[Q_RECV]);
	seq_printf(m, "ksync-send-calls:\t%llu\nksync-recv-calls:\t%llu\n",
		   q->send_calls, q->recv_calls);
	seq_printf(m, "ksync-wake-calls:\t%llu\nksync-woken:\t%llu\nksync-tombstones:\t%llu\n",
		   q->wake_calls, q->woken, q->tombstones);
	mutex_unlock(&q->lock);
}

static void q_who(struct ksync_obj *obj, struct ksync_who *w)
{
	struct ksync_queue *q = to_q(obj);
	struct q_waiter *qw;

	mutex_lock(&q->lock);
	w->total = q->sleeping[Q_SEND] + q->sleeping[Q_RECV];
	list_for_each_entry(qw, &q->waiters[Q_SEND], node)
		if (!ksync_who_add(w, qw->task, KSYNC_WHO_SENDS, 1, qw->since))
			goto out;
	list_for_each_entry(qw, &q->waiters[Q_RECV], node)
		if (!ksync_who_add(w, qw->task, KSYNC_WHO_RECEIVES, 1, qw->since))
			break;
out:
	mutex_unlock(&q->lock);
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
	.ioctl		= q_ioctl,
	.poll		= q_poll,
	.page		= q_page,
	.opened		= q_opened,
	.release	= q_release,
	.unmapped	= q_unmapped,
	.flush		= q_flush,
	.fdinfo		= q_fdinfo,
	.summary	= q_summary,
	.who		= q_who,
};
