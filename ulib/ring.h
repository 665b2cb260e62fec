/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * What a queue's handle and its ring share: the handle, and the fast
 * paths that send and receive on the ring (ring.c) without entering the
 * kernel.  The ring's layout and rules are in <linux/ksync.h>.
 */
#ifndef KSYNC_RING_H
#define KSYNC_RING_H

#include <stdatomic.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include "internal.h"

struct ksync_queue {
	struct ksync_handle h; /* h.map: the header page and the ring, or NULL */
	int kernel_only;
	int roles; /* KSYNC_QUEUE_SEND, _RECV: what the kernel lets this fd do */
	struct ksync_queue_shared *hdr; /* h.map */
	unsigned char *ring;
	const struct ksync_queue_status *status; /* mapped read-only */
	size_t status_len;
	uint32_t capacity;
	uint32_t msg_size;
	uint32_t slot_size;
	int can_spin;
	atomic_uint spin_ns;
	atomic_uint joined; /* ksync_process_epoch() when this process joined */
	atomic_uint token; /* its claim stamp; 0: send through the kernel */
};

_Static_assert(offsetof(struct ksync_queue, h) == 0, "the handle comes first");

typedef _Atomic uint64_t word_t;

static inline word_t *w64(volatile void *p)
{
	return (word_t *)p;
}

/* The module's state word, on its read-only page. */
static inline uint64_t read_state(const ksync_queue_t *q, memory_order order)
{
	return atomic_load_explicit((const word_t *)&q->status->state, order);
}

#define GO_KERNEL (KSYNC_QUEUE_STATE_SHUTDOWN | KSYNC_QUEUE_STATE_BROKEN)

#define EMPTY (-EAGAIN)

/*
 * Send on the ring.  1: sent; 0: full, or the kernel must do it (also
 * when the state word said shut down or broken after the claim).
 */
int ksync_ring_send(ksync_queue_t *q, const void *msg, size_t len);

/*
 * Receive from the ring: the length, EMPTY (or the kernel must do it), or
 * -EMSGSIZE (the message stays).
 */
ssize_t ksync_ring_recv(ksync_queue_t *q, void *buf, size_t room);

#endif
