/* SPDX-License-Identifier: GPL-2.0 */
/*
 * What the queue's files share: the queue (queue.c) and its ring
 * (queue_ring.c).
 */
#ifndef KSYNC_KMOD_QUEUE_H
#define KSYNC_KMOD_QUEUE_H

#include <linux/idr.h>
#include <linux/list.h>
#include <linux/mutex.h>

#include "ksync.h"

enum { Q_SEND, Q_RECV };

#define SEQ_POS		KSYNC_QUEUE_SEQ_POS
#define SEQ_BUSY	KSYNC_QUEUE_SEQ_BUSY
#define SEQ_TOKEN	KSYNC_QUEUE_SEQ_TOKEN
#define TOMBSTONE	KSYNC_QUEUE_TOMBSTONE

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
	u32 armed_gen;			/* the oldest armed receiver's kf->q.gen */
	u64 send_calls;
	u64 recv_calls;
	u64 wake_calls;
	u64 woken;
	u64 tombstones;
};

/* One message of a call: where it is, and its length (or room). */
struct q_msg {
	void __user *base;
	u64 len;
	u64 __user *ulen;	/* recv: where to say how long it was */
};

static inline atomic64_t *q_index(struct ksync_queue *q, int side)
{
	return (atomic64_t *)(side == Q_RECV ? &q->hdr->head : &q->hdr->tail);
}

static inline struct ksync_queue_slot *q_slot(struct ksync_queue *q, u64 pos)
{
	return (void *)(q->ring + (size_t)(pos % q->capacity) * q->slot_size);
}

static inline atomic64_t *q_seq(struct ksync_queue_slot *slot)
{
	return (atomic64_t *)&slot->seq;
}

static inline u64 q_ring_bytes(u32 capacity, u32 msg_size)
{
	return (u64)capacity * KSYNC_QUEUE_SLOT_SIZE(msg_size);
}

/* queue_ring.c; under q->lock: */
void q_sync(struct ksync_queue *q, int side, bool take);
bool q_ready(struct ksync_queue *q, int side, u32 k);
bool q_drained(struct ksync_queue *q);
int q_break(struct ksync_queue *q);
int q_send_one(struct ksync_queue *q, const struct q_msg *m);
int q_recv_one(struct ksync_queue *q, struct q_msg *m);
u32 q_length(struct ksync_queue *q);
/* without it: */
void q_ring_init(struct ksync_queue *q);	/* a new queue's */
void q_repair(struct ksync_queue *q, u32 token);	/* takes it */

#endif /* KSYNC_KMOD_QUEUE_H */
