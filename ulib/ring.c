// SPDX-License-Identifier: LGPL-2.1-or-later
/*
 * A queue's fast paths: sending into and receiving from the shared ring,
 * slot by slot, with its sequence words (the rules are in
 * <linux/ksync.h>, the protocol and its orderings in docs/design.md).
 * What they cannot do they leave to the kernel (queue.c).
 */
#include <errno.h>
#include <stdatomic.h>
#include <stdint.h>
#include <string.h>

#include "ring.h"

/* Steps a fast path takes on a ring that keeps changing under it before
 * it lets the kernel sort things out. */
#define FAST_STEPS 4096

/*
 * Compare-and-swaps on a slot a fast path may lose in one call (a receive
 * copies the message before each) before it lets the kernel decide, as
 * the module's q_send_one() and q_recv_one() give up after Q_RACES: a
 * peer that keeps rewriting a slot's word must not make a call copy the
 * message thousands of times.  An honest loss means another process
 * took the slot, and a receive or send that loses four in a row is rare.
 */
#define FAST_RACES 4

static struct ksync_queue_slot *slot_at(const ksync_queue_t *q, uint64_t pos)
{
	return (struct ksync_queue_slot *)(q->ring + (size_t)(pos % q->capacity) * q->slot_size);
}

/*
 * After an operation on the ring (a seq_cst store or compare-and-swap of
 * the slot), a seq_cst read of the state word: the pair is ordered as a
 * full fence would order it (on x86 the store or the CAS is the locked
 * instruction), and pairs with the kernel's fully ordered write of the
 * WAIT bits before it looks at the ring (q_publish_state() in
 * kmod/queue.c): either we see the other side's bit here and wake its
 * sleeper, or the kernel saw what we did.
 */
static void wake_if_needed(ksync_queue_t *q, uint64_t bit)
{
	if (read_state(q, memory_order_seq_cst) & bit)
		ksync_ioctl(q->h.fd, KSYNC_IOC_QUEUE_WAKE, NULL);
}

/* The process's claim stamp, joining as a sender first in a new process. */
static uint32_t sender_token(ksync_queue_t *q)
{
	unsigned int epoch = ksync_process_epoch();
	struct ksync_queue_join args;

	if (likely(atomic_load_explicit(&q->joined, memory_order_acquire) == epoch))
		return atomic_load_explicit(&q->token, memory_order_relaxed);
	memset(&args, 0, sizeof(args));
	args.size = sizeof(args);
	if (ksync_ioctl(q->h.fd, KSYNC_IOC_QUEUE_JOIN, &args) < 0)
		return 0; /* the kernel path will say why */
	/* the kernel looks for our claims when we go only if this is set */
	if (args.token)
		atomic_store_explicit((_Atomic uint32_t *)&q->hdr->claimed[args.token], 1,
				      memory_order_relaxed);
	atomic_store_explicit(&q->token, args.token, memory_order_relaxed);
	atomic_store_explicit(&q->joined, epoch, memory_order_release);
	return args.token;
}

/*
 * The slot's length: one load, whatever a peer writes there meanwhile, so
 * that the length checked is the length copied.
 */
static uint32_t slot_len(struct ksync_queue_slot *slot)
{
	return atomic_load_explicit((_Atomic uint32_t *)&slot->len, memory_order_relaxed);
}

static void set_slot_len(struct ksync_queue_slot *slot, uint32_t len)
{
	atomic_store_explicit((_Atomic uint32_t *)&slot->len, len, memory_order_relaxed);
}

/*
 * Send on the ring.  1: sent; 0: full, or the kernel must do it (also
 * when the state word said shut down or broken after the claim, which
 * then became a tombstone: the kernel knows whether that was true).
 * A slot is free for position t only if its word is exactly FREE(t), as
 * the module's q_send_one() requires; FREE(t) with other bits set is
 * nothing an honest process writes, and the kernel decides about it.
 */
int ksync_ring_send(ksync_queue_t *q, const void *msg, size_t len)
{
	struct ksync_queue_slot *slot;
	uint64_t t, s, stamp, st;
	uint32_t token;
	int steps, lost = 0;

	if (read_state(q, memory_order_acquire) & GO_KERNEL)
		return 0;
	token = sender_token(q);
	if (!token)
		return 0;
	stamp = KSYNC_QUEUE_SEQ_BUSY | (uint64_t)token << KSYNC_QUEUE_TOKEN_SHIFT;
	t = atomic_load_explicit(w64(&q->hdr->tail), memory_order_relaxed);
	for (steps = 0;; steps++) {
		int64_t d;

		if (steps == FAST_STEPS)
			return 0;
		slot = slot_at(q, t);
		/* acquire: pairs with the receiver's taking compare-and-swap */
		s = atomic_load_explicit(w64(&slot->seq), memory_order_acquire);
		d = ksync_queue_seq_diff(s & KSYNC_QUEUE_SEQ_POS, ksync_queue_seq_free(t));
		if (s == ksync_queue_seq_free(t)) {
			/* seq_cst: see the read of state below */
			if (atomic_compare_exchange_strong_explicit(
				    w64(&slot->seq), &s, ksync_queue_seq_free(t) | stamp,
				    memory_order_seq_cst, memory_order_relaxed))
				break;
			/* another sender had it, or a peer rewrote the word */
			if (++lost == FAST_RACES)
				return 0;
		} else if (d < 0) {
			uint64_t now =
				atomic_load_explicit(w64(&q->hdr->tail), memory_order_relaxed);

			if (now == t) /* full */
				return 0;
			t = now;
			continue;
		} else if (d == 0 && !(s & KSYNC_QUEUE_SEQ_BUSY)) {
			return 0; /* FREE(t) with a token: not ours to judge */
		} else {
			/* claimed by someone who has not moved tail on yet */
			atomic_compare_exchange_strong_explicit(w64(&q->hdr->tail), &t, t + 1,
								memory_order_relaxed,
								memory_order_relaxed);
		}
		t = atomic_load_explicit(w64(&q->hdr->tail), memory_order_relaxed);
	}
	atomic_compare_exchange_strong_explicit(w64(&q->hdr->tail), &(uint64_t){ t }, t + 1,
						memory_order_relaxed, memory_order_relaxed);
	/*
	 * Shut down since we looked?  Our claim (seq_cst) and this read
	 * (seq_cst) pair with the kernel's fully ordered write of SHUTDOWN
	 * before receivers decide that the ring is drained: either we see it,
	 * or they see our claim and wait for it.
	 */
	st = read_state(q, memory_order_seq_cst);
	if (unlikely(st & (KSYNC_QUEUE_STATE_SHUTDOWN | KSYNC_QUEUE_STATE_BROKEN))) {
		set_slot_len(slot, KSYNC_QUEUE_TOMBSTONE);
		len = 0;
	} else {
		memcpy(slot->data, msg, len);
		set_slot_len(slot, (uint32_t)len);
	}
	/*
	 * The length and payload before FULL (release, pairing with the
	 * receiver's acquire load of seq); seq_cst, for the read of state in
	 * wake_if_needed().
	 */
	atomic_store_explicit(w64(&slot->seq), ksync_queue_seq_full(t), memory_order_seq_cst);
	wake_if_needed(q, KSYNC_QUEUE_STATE_RECV_WAIT);
	/*
	 * The state word is in memory every opener may write: SHUTDOWN or
	 * BROKEN there may be a peer's forgery.  The kernel, which keeps the
	 * truth apart, says -EPIPE or -ENOTRECOVERABLE if it is true, and
	 * sends the message if not.
	 */
	return st & GO_KERNEL ? 0 : 1;
}

/*
 * Receive from the ring: the length, EMPTY (or the kernel must do it), or
 * -EMSGSIZE (the message stays).  The copy comes before the taking
 * compare-and-swap, so a receiver that dies takes nothing; a take that
 * fails leaves the copy in buf.  A message is there for position h only
 * if its slot's word is exactly FULL(h), as the module's q_recv_one()
 * requires; FULL(h) with other bits set is nothing an honest process
 * writes, and the kernel decides about it.
 */
ssize_t ksync_ring_recv(ksync_queue_t *q, void *buf, size_t room)
{
	struct ksync_queue_slot *slot;
	uint64_t h, s;
	uint32_t len;
	int steps, lost = 0;

	/* shut down: take what is there; the kernel says when it is drained */
	if (read_state(q, memory_order_acquire) & KSYNC_QUEUE_STATE_BROKEN)
		return EMPTY;
	h = atomic_load_explicit(w64(&q->hdr->head), memory_order_relaxed);
	for (steps = 0; steps < FAST_STEPS; steps++) {
		int64_t d;

		slot = slot_at(q, h);
		/* acquire: pairs with the sender's release store of FULL */
		s = atomic_load_explicit(w64(&slot->seq), memory_order_acquire);
		d = ksync_queue_seq_diff(s & KSYNC_QUEUE_SEQ_POS, ksync_queue_seq_full(h));
		if (s == ksync_queue_seq_full(h)) {
			len = slot_len(slot);
			if (len != KSYNC_QUEUE_TOMBSTONE) {
				if (len > q->msg_size)
					return EMPTY; /* the kernel will break the queue */
				if (len > room)
					return -EMSGSIZE;
				memcpy(buf, slot->data, len);
			}
			/* release: our copy is done before a sender may claim
			 * the slot; seq_cst for wake_if_needed() */
			if (atomic_compare_exchange_strong_explicit(
				    w64(&slot->seq), &s, ksync_queue_seq_free(h + q->capacity),
				    memory_order_seq_cst, memory_order_relaxed)) {
				atomic_compare_exchange_strong_explicit(
					w64(&q->hdr->head), &(uint64_t){ h }, h + 1,
					memory_order_relaxed, memory_order_relaxed);
				/* a slot freed, by a tombstone too: tell sleeping senders */
				wake_if_needed(q, KSYNC_QUEUE_STATE_SEND_WAIT);
				if (len != KSYNC_QUEUE_TOMBSTONE)
					return len;
			} else if (++lost == FAST_RACES) {
				/* another receiver had it, or a peer rewrote the word */
				return EMPTY;
			}
		} else if (d < 0) {
			uint64_t now =
				atomic_load_explicit(w64(&q->hdr->head), memory_order_relaxed);

			if (now == h)
				return EMPTY;
			h = now;
			continue;
		} else if (d == 0) {
			return EMPTY; /* FULL(h) with more bits: not ours to judge */
		} else {
			/* taken by someone who has not moved head on yet */
			atomic_compare_exchange_strong_explicit(w64(&q->hdr->head), &h, h + 1,
								memory_order_relaxed,
								memory_order_relaxed);
		}
		h = atomic_load_explicit(w64(&q->hdr->head), memory_order_relaxed);
	}
	return EMPTY;
}
