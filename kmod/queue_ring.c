// SPDX-License-Identifier: GPL-2.0
/*
 * The queue's ring, as the module works on it (the layout and the rules
 * are in the uapi header; queue.c has the rest of the queue): finding the
 * indices' true places, and sending and receiving one message with the
 * same compare-and-swaps as the library.
 *
 * The ring is user memory.  We read positions and lengths from it but
 * keep our own state apart, index with pos % capacity, check every length
 * against msg_size, and bound every loop by the capacity; what we cannot
 * make sense of breaks the queue (-ENOTRECOVERABLE), for its users only.
 */
#include <linux/mutex.h>
#include <linux/sched.h>
#include <linux/uaccess.h>

#include "queue.h"

/*
 * Races we lose to processes on the ring before we let them have it (as
 * if the ring had been full, or empty): the caller sleeps, and the next
 * change wakes it.  Losing is no sign of damage: they are faster there.
 */
#define Q_RACES		4

/* Every slot free for its first lap. */
void q_ring_init(struct ksync_queue *q)
{
	u32 i;

	for (i = 0; i < q->capacity; i++) {
		atomic64_set(q_seq(q_slot(q, i)), ksync_queue_seq_free(i));
		if (!(i % 4096))
			cond_resched();
	}
}

/*
 * Move an index past slots that are done with: a receiver that took the
 * message at head, or a sender that claimed the slot at tail, may have
 * died before moving the index on, and everyone moves it for them.  With
 * take, also take the tombstones at head: that frees their slots, so only
 * callers that settle afterwards may (q_settle, q_recv_one).  Bounded by
 * the capacity, whatever the ring says.
 */
void q_sync(struct ksync_queue *q, int side, bool take)
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
bool q_ready(struct ksync_queue *q, int side, u32 k)
{
	struct ksync_queue_slot *slot;
	u64 pos;

	lockdep_assert_held(&q->lock);
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
bool q_drained(struct ksync_queue *q)
{
	u64 pos;

	lockdep_assert_held(&q->lock);
	q_sync(q, Q_RECV, false);
	pos = atomic64_read(q_index(q, Q_RECV));
	return atomic64_read_acquire(q_seq(q_slot(q, pos))) ==
	       ksync_queue_seq_free(pos);
}

/* The ring makes no sense: fail everyone, now and later. */
int q_break(struct ksync_queue *q)
{
	lockdep_assert_held(&q->lock);
	q->broken = true;
	return -ENOTRECOVERABLE;
}

/*
 * Send one message at tail, as a sender on the ring does, stamped with
 * token 0.  1: sent; 0: full; -EFAULT: the message could not be read (a
 * tombstone took the slot: fault it in and try again).
 */
int q_send_one(struct ksync_queue *q, const struct q_msg *m)
{
	struct ksync_queue_slot *slot;
	unsigned long left;
	u32 tries;
	s64 seq;
	u64 pos;

	lockdep_assert_held(&q->lock);
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
int q_recv_one(struct ksync_queue *q, struct q_msg *m)
{
	struct ksync_queue_slot *slot;
	unsigned long left;
	u32 tries, len;
	u64 pos;

	lockdep_assert_held(&q->lock);
	for (tries = 0; tries < Q_RACES; tries++) {
		q_sync(q, Q_RECV, true);	/* q_attempt settles after us */
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
 * A sender's process let go of its file: what it claimed and never
 * published becomes a tombstone.  It is dead (or no longer holds the
 * file, which a well-behaved process does not do while sending), so
 * nobody else writes those slots.  One pass over the ring, only if the
 * process said it may hold a claim.
 */
void q_repair(struct ksync_queue *q, u32 token)
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

u32 q_length(struct ksync_queue *q)
{
	lockdep_assert_held(&q->lock);
	return ksync_queue_length(atomic64_read(q_index(q, Q_RECV)),
				  atomic64_read(q_index(q, Q_SEND)), q->capacity);
}
