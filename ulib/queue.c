// SPDX-License-Identifier: LGPL-2.1-or-later
/*
 * Bounded message queues.  Each handle maps the queue's ring (the layout
 * and its rules are in <linux/ksync.h>, the protocol in docs/design.md).
 * A sender that finds a free slot and a receiver that finds a message
 * complete on the ring, without a system call; they enter the kernel to
 * sleep, to wake a sleeper of the other side (RECV_WAIT, SEND_WAIT), or
 * when the queue is shut down or broken.  KSYNC_QUEUE_KERNEL handles map nothing and do everything
 * in the kernel (kmod/queue.c).
 */
#include <errno.h>
#include <stdatomic.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>
#include <sched.h>
#include <sys/mman.h>
#include <sys/uio.h>
#include <unistd.h>

#include "internal.h"

_Static_assert(KSYNC_QUEUE_NOEOF == KSYNC_OPEN_NOEOF, "flag values are the ABI");
_Static_assert(KSYNC_QUEUE_KERNEL == KSYNC_OPEN_KERNEL, "flag values are the ABI");
_Static_assert(KSYNC_QUEUE_SEND == KSYNC_OPEN_SEND, "flag values are the ABI");
_Static_assert(KSYNC_QUEUE_RECV == KSYNC_OPEN_RECV, "flag values are the ABI");

#define ROLES (KSYNC_QUEUE_SEND | KSYNC_QUEUE_RECV)

/*
 * The longest a blocking call watches the ring before it sleeps, by
 * default: 2 us, chosen with bench_queue (10 and 50 us, or yielding the
 * CPU between looks, did no better for one producer and one consumer and
 * worse for four of each on two CPUs).
 */
#define SPIN_NS 2000u

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

static word_t *w64(volatile void *p)
{
	return (word_t *)p;
}

static struct ksync_queue_slot *slot_at(const ksync_queue_t *q, uint64_t pos)
{
	return (struct ksync_queue_slot *)(q->ring + (size_t)(pos % q->capacity) * q->slot_size);
}

/* The module's state word, on its read-only page. */
static uint64_t read_state(const ksync_queue_t *q, memory_order order)
{
	return atomic_load_explicit((const word_t *)&q->status->state, order);
}

#define GO_KERNEL (KSYNC_QUEUE_STATE_SHUTDOWN | KSYNC_QUEUE_STATE_BROKEN)

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
static int fast_send(ksync_queue_t *q, const void *msg, size_t len)
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

#define EMPTY (-EAGAIN)

/*
 * Receive from the ring: the length, EMPTY (or the kernel must do it), or
 * -EMSGSIZE (the message stays).  The copy comes before the taking
 * compare-and-swap, so a receiver that dies takes nothing; a take that
 * fails leaves the copy in buf.  A message is there for position h only
 * if its slot's word is exactly FULL(h), as the module's q_recv_one()
 * requires; FULL(h) with other bits set is nothing an honest process
 * writes, and the kernel decides about it.
 */
static ssize_t fast_recv(ksync_queue_t *q, void *buf, size_t room)
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

/* One KSYNC_IOC_QUEUE_SEND or _RECV; msgs in the ABI's layout. */
static int xfer(ksync_queue_t *q, unsigned long cmd, void *msgs, unsigned int count,
		const struct timespec *deadline)
{
	struct ksync_queue_xfer args;
	int ret;

	memset(&args, 0, sizeof(args));
	args.size = sizeof(args);
	args.count = count;
	args.msgs = (uintptr_t)msgs;
	if (deadline) {
		args.flags = KSYNC_WAIT_DEADLINE;
		args.deadline = ksync_timespec_ns(deadline);
	}
	ret = ksync_ioctl(q->h.fd, cmd, &args);
	/* a handler ran after some had moved: they count */
	if (ret == -EINTR && args.done)
		return (int)args.done;
	return ret;
}

/* On 64-bit, struct iovec is struct ksync_queue_msg: pass the caller's array. */
#define IOV_IS_MSG                                                                     \
	(sizeof(struct iovec) == sizeof(struct ksync_queue_msg) &&                     \
	 offsetof(struct iovec, iov_base) == offsetof(struct ksync_queue_msg, base) && \
	 offsetof(struct iovec, iov_len) == offsetof(struct ksync_queue_msg, len))

/* The kernel path: SEND or RECV of count messages (an iovec array). */
static int kernel_xfer(ksync_queue_t *q, unsigned long cmd, struct iovec *msgs, unsigned int count,
		       const struct timespec *deadline)
{
	struct ksync_queue_msg m[32];
	unsigned int done = 0, n, i;
	int ret = 0;

	if (IOV_IS_MSG)
		return xfer(q, cmd, msgs, count, deadline);
	/* elsewhere, 32 at a time through an array of the ABI's layout */
	while (done < count) {
		n = count - done < 32 ? count - done : 32;
		for (i = 0; i < n; i++) {
			m[i].base = (uintptr_t)msgs[done + i].iov_base;
			m[i].len = msgs[done + i].iov_len;
		}
		ret = xfer(q, cmd, m, n, deadline);
		if (ret <= 0)
			break;
		if (cmd == KSYNC_IOC_QUEUE_RECV)
			for (i = 0; i < (unsigned int)ret; i++)
				msgs[done + i].iov_len = (size_t)m[i].len;
		done += (unsigned int)ret;
		/* a receive takes what is there: one call */
		if ((unsigned int)ret < n || cmd == KSYNC_IOC_QUEUE_RECV)
			break;
	}
	return done ? (int)done : ret;
}

/* kernel_xfer(), or with try only a try: -EAGAIN rather than -ETIMEDOUT. */
static int kernel_call(ksync_queue_t *q, unsigned long cmd, struct iovec *msgs, unsigned int count,
		       const struct timespec *deadline, int try)
{
	static const struct timespec past = { 0, 0 };

	if (!try)
		return kernel_xfer(q, cmd, msgs, count, deadline);
	return ksync_tried(kernel_xfer(q, cmd, msgs, count, &past));
}

static int deadline_passed(const struct timespec *deadline)
{
	struct timespec now;

	if (!deadline)
		return 0;
	clock_gettime(CLOCK_MONOTONIC, &now);
	return ksync_timespec_ns(&now) >= ksync_timespec_ns(deadline);
}

/* Watch the ring for a short while before sleeping: returns 1 to go on. */
static int spin_step(ksync_queue_t *q, struct timespec *start, int *steps)
{
	unsigned int max = atomic_load_explicit(&q->spin_ns, memory_order_relaxed);
	struct timespec now;

	if (!q->can_spin || !max || read_state(q, memory_order_acquire) & GO_KERNEL)
		return 0;
	if ((*steps)++ == 0) {
		clock_gettime(CLOCK_MONOTONIC, start);
		return 1;
	}
	for (int i = 0; i < 64; i++)
		cpu_relax();
	clock_gettime(CLOCK_MONOTONIC, &now);
	return (uint64_t)((now.tv_sec - start->tv_sec) * 1000000000L + now.tv_nsec -
			  start->tv_nsec) < max;
}

static int queue_send(ksync_queue_t *q, const void *msg, size_t len,
		      const struct timespec *deadline, int try)
{
	struct iovec iov = { .iov_base = (void *)msg, .iov_len = len };
	struct timespec start;
	int ret, steps = 0;

	if (!q || (!msg && len) || ksync_bad_deadline(deadline))
		return -EINVAL;
	if (!(q->roles & KSYNC_QUEUE_SEND))
		return -EBADF;
	if (len > q->msg_size)
		return -EMSGSIZE;
	if (!q->kernel_only) {
		do {
			ret = fast_send(q, msg, len);
			if (ret)
				return ret < 0 ? ret : 0;
		} while (!try && spin_step(q, &start, &steps));
	}
	if (!try && deadline_passed(deadline))
		try = 1;
	ret = kernel_call(q, KSYNC_IOC_QUEUE_SEND, &iov, 1, deadline, try);
	return ret < 0 ? ret : 0;
}

int ksync_queue_send(ksync_queue_t *q, const void *msg, size_t len, const struct timespec *deadline)
{
	return queue_send(q, msg, len, deadline, 0);
}

int ksync_queue_try_send(ksync_queue_t *q, const void *msg, size_t len)
{
	return queue_send(q, msg, len, NULL, 1);
}

static ssize_t queue_recv(ksync_queue_t *q, void *buf, size_t room, const struct timespec *deadline,
			  int try)
{
	struct iovec iov = { .iov_base = buf, .iov_len = room };
	struct timespec start;
	int steps = 0;
	ssize_t ret;

	if (!q || (!buf && room) || ksync_bad_deadline(deadline))
		return -EINVAL;
	if (!(q->roles & KSYNC_QUEUE_RECV))
		return -EBADF;
	if (!q->kernel_only) {
		do {
			ret = fast_recv(q, buf, room);
			if (ret != EMPTY)
				return ret;
		} while (!try && spin_step(q, &start, &steps));
	}
	if (!try && deadline_passed(deadline))
		try = 1;
	ret = kernel_call(q, KSYNC_IOC_QUEUE_RECV, &iov, 1, deadline, try);
	return ret < 0 ? ret : (ssize_t)iov.iov_len;
}

ssize_t ksync_queue_recv(ksync_queue_t *q, void *buf, size_t buf_len,
			 const struct timespec *deadline)
{
	return queue_recv(q, buf, buf_len, deadline, 0);
}

ssize_t ksync_queue_try_recv(ksync_queue_t *q, void *buf, size_t buf_len)
{
	return queue_recv(q, buf, buf_len, NULL, 1);
}

/* Batches: as many as there is room for on the ring, the rest in the kernel. */

int ksync_queue_send_batch(ksync_queue_t *q, const struct iovec *msgs, unsigned int count,
			   const struct timespec *deadline)
{
	unsigned int done = 0;
	int ret = 0, try;

	if (!q || (!msgs && count) || ksync_bad_deadline(deadline))
		return -EINVAL;
	if (!(q->roles & KSYNC_QUEUE_SEND))
		return -EBADF;
	for (unsigned int i = 0; i < count; i++)
		if (msgs[i].iov_len > q->msg_size)
			return -EMSGSIZE;
	while (!q->kernel_only && done < count) {
		ret = fast_send(q, msgs[done].iov_base, msgs[done].iov_len);
		if (ret <= 0)
			break;
		done++;
	}
	if (ret < 0)
		return done ? (int)done : ret;
	try = done < count && deadline_passed(deadline);
	while (done < count) {
		unsigned int n =
			count - done > KSYNC_QUEUE_BATCH_MAX ? KSYNC_QUEUE_BATCH_MAX : count - done;

		ret = kernel_call(q, KSYNC_IOC_QUEUE_SEND, (struct iovec *)&msgs[done], n, deadline,
				  try);
		if (ret <= 0)
			break;
		done += (unsigned int)ret;
		if ((unsigned int)ret < n)
			break;
	}
	return done ? (int)done : ret;
}

int ksync_queue_recv_batch(ksync_queue_t *q, struct iovec *bufs, unsigned int count,
			   const struct timespec *deadline)
{
	unsigned int done = 0;
	ssize_t len = EMPTY;

	if (!q || (!bufs && count) || ksync_bad_deadline(deadline))
		return -EINVAL;
	if (!(q->roles & KSYNC_QUEUE_RECV))
		return -EBADF;
	if (!count)
		return 0;
	while (!q->kernel_only && done < count) {
		len = fast_recv(q, bufs[done].iov_base, bufs[done].iov_len);
		if (len < 0)
			break;
		bufs[done++].iov_len = (size_t)len;
	}
	if (done)
		return (int)done;
	if (len == -EMSGSIZE)
		return -EMSGSIZE;
	return kernel_call(q, KSYNC_IOC_QUEUE_RECV, bufs,
			   count > KSYNC_QUEUE_BATCH_MAX ? KSYNC_QUEUE_BATCH_MAX : count, deadline,
			   deadline_passed(deadline));
}

/* The fd's roles: a module from before roles reports none, two-way. */
static int roles_of(const struct ksync_queue_info *info)
{
	return info->flags & ROLES ? (int)(info->flags & ROLES) : ROLES;
}

static void queue_stats_of(const struct ksync_queue_info *info, struct ksync_queue_stats *st)
{
	memset(st, 0, sizeof(*st));
	st->capacity = info->capacity;
	st->msg_size = info->msg_size;
	st->length = info->length;
	st->senders = info->senders;
	st->send_sleepers = info->send_sleepers;
	st->recv_sleepers = info->recv_sleepers;
	st->shutdown = !!(info->state & KSYNC_QUEUE_STATE_SHUTDOWN);
	st->broken = !!(info->state & KSYNC_QUEUE_STATE_BROKEN);
	st->send_calls = info->send_calls;
	st->recv_calls = info->recv_calls;
	st->wake_calls = info->wake_calls;
	st->woken = info->woken;
	st->tombstones = info->tombstones;
	st->eof = !!(info->state & KSYNC_QUEUE_STATE_EOF);
	st->roles = (unsigned int)roles_of(info);
}

int ksync_queue_join(ksync_queue_t *q)
{
	struct ksync_queue_join args;

	if (!q)
		return -EINVAL;
	memset(&args, 0, sizeof(args));
	args.size = sizeof(args);
	return ksync_ioctl(q->h.fd, KSYNC_IOC_QUEUE_JOIN, &args);
}

static int queue_wrap(ksync_queue_t **out, int fd);

int ksync_queue_reopen(ksync_queue_t **out, ksync_queue_t *q, int flags)
{
	struct ksync_queue_reopen args;

	if (!out || !q || flags & ~(ROLES | KSYNC_QUEUE_KERNEL))
		return -EINVAL;
	memset(&args, 0, sizeof(args));
	args.size = sizeof(args);
	args.flags = (uint32_t)flags | KSYNC_OPEN_CLOEXEC;
	if (!(flags & ROLES))
		args.flags |= (uint32_t)q->roles;
	return queue_wrap(out, ksync_ioctl(q->h.fd, KSYNC_IOC_QUEUE_REOPEN, &args));
}

int ksync_queue_pipe(ksync_queue_t *ends[2], unsigned int capacity, unsigned int msg_size,
		     int flags)
{
	ksync_queue_t *q;
	int ret;

	if (!ends || flags & ~KSYNC_QUEUE_KERNEL)
		return -EINVAL;
	ends[0] = ends[1] = NULL;
	ret = ksync_queue_open(&q, NULL, flags, 0600, capacity, msg_size);
	if (ret)
		return ret;
	ret = ksync_queue_reopen(&ends[1], q, KSYNC_QUEUE_SEND);
	if (!ret)
		ret = ksync_queue_reopen(&ends[0], q, KSYNC_QUEUE_RECV);
	if (ret && ends[1]) {
		ksync_queue_close(ends[1]);
		ends[1] = NULL;
	}
	ksync_queue_close(q);
	return ret;
}

int ksync_queue_shutdown(ksync_queue_t *q)
{
	return q ? ksync_ioctl(q->h.fd, KSYNC_IOC_QUEUE_SHUTDOWN, NULL) : -EINVAL;
}

int ksync_queue_len(ksync_queue_t *q)
{
	struct ksync_queue_info info;
	uint64_t head, tail;
	int ret;

	if (!q)
		return -EINVAL;
	if (q->kernel_only) {
		ret = ksync_ioctl(q->h.fd, KSYNC_IOC_QUEUE_INFO, &info);
		return ret < 0 ? ret : (int)info.length;
	}
	head = atomic_load_explicit(w64(&q->hdr->head), memory_order_relaxed);
	tail = atomic_load_explicit(w64(&q->hdr->tail), memory_order_relaxed);
	return (int)ksync_queue_length(head, tail, q->capacity);
}

int ksync_queue_stats(ksync_queue_t *q, struct ksync_queue_stats *st)
{
	struct ksync_queue_info info;
	int ret;

	if (!q || !st)
		return -EINVAL;
	ret = ksync_ioctl(q->h.fd, KSYNC_IOC_QUEUE_INFO, &info);
	if (ret < 0)
		return ret;
	queue_stats_of(&info, st);
	return 0;
}

int ksync_queue_set_spin(ksync_queue_t *q, unsigned int max_ns)
{
	if (!q)
		return -EINVAL;
	atomic_store_explicit(&q->spin_ns, max_ns, memory_order_relaxed);
	return 0;
}

int ksync_queue_fd(ksync_queue_t *q)
{
	return q ? q->h.fd : -EINVAL;
}

/* Map the ring and the status page, unless the fd does everything in the kernel. */
static int queue_map(ksync_queue_t *q, const struct ksync_queue_info *info)
{
	int saved = errno;
	void *mem, *status;

	mem = mmap(NULL, info->map_size, PROT_READ | PROT_WRITE, MAP_SHARED, q->h.fd, 0);
	if (mem == MAP_FAILED) {
		int ret = -errno;

		errno = saved;
		/* the mode gave this opener one role: the kernel does it all */
		if (ret != -EACCES)
			return ret;
		q->kernel_only = 1;
		return 0;
	}
	q->h.map = mem;
	q->h.map_len = info->map_size;
	/* the module's state word: its page can only be mapped read-only */
	q->status_len = (size_t)sysconf(_SC_PAGESIZE);
	status = mmap(NULL, q->status_len, PROT_READ, MAP_SHARED, q->h.fd, info->state_offset);
	if (status == MAP_FAILED) {
		int ret = -errno;

		errno = saved;
		return ret;
	}
	q->hdr = mem;
	q->ring = (unsigned char *)mem + info->ring_offset;
	q->status = status;
	return 0;
}

static int queue_setup(struct ksync_handle *h, const struct ksync_info *unused)
{
	ksync_queue_t *q = (ksync_queue_t *)h;
	struct ksync_queue_info info;
	int ret;

	(void)unused;
	ret = ksync_ioctl(h->fd, KSYNC_IOC_QUEUE_INFO, &info);
	if (ret)
		return ret;
	h->flags = info.flags;
	q->capacity = info.capacity;
	q->msg_size = info.msg_size;
	q->slot_size = info.slot_size;
	q->kernel_only = !!(info.flags & KSYNC_OPEN_KERNEL);
	q->roles = roles_of(&info);
	q->can_spin = sysconf(_SC_NPROCESSORS_ONLN) > 1;
	atomic_init(&q->spin_ns, SPIN_NS);
	return q->kernel_only ? 0 : queue_map(q, &info);
}

static int queue_release(struct ksync_handle *h)
{
	ksync_queue_t *q = (ksync_queue_t *)h;

	return q->status ? ksync_unmap((void *)q->status, q->status_len) : 0;
}

static int queue_counters(int fd, struct ksync_counters *c)
{
	struct ksync_queue_info info;
	struct ksync_queue_shared *hdr;
	int ret;

	ret = ksync_ioctl(fd, KSYNC_IOC_QUEUE_INFO, &info);
	if (ret)
		return ret;
	queue_stats_of(&info, &c->queue.kernel);
	/* the positions: messages sent and received in all */
	hdr = ksync_map_to_read(fd, info.map_size);
	if (hdr) {
		c->fast_valid = 1;
		c->queue.sent = ksync_peek(&hdr->tail);
		c->queue.received = ksync_peek(&hdr->head);
		ksync_unmap(hdr, info.map_size);
	}
	return 0;
}

const struct ksync_type ksync_queue_type = {
	.id = KSYNC_TYPE_QUEUE,
	.size = sizeof(ksync_queue_t),
	.setup = queue_setup,
	.release = queue_release,
	.counters = queue_counters,
};

/* A handle for fd, a new queue fd or an error. */
static int queue_wrap(ksync_queue_t **out, int fd)
{
	struct ksync_handle *h;
	int ret = ksync_wrap(&ksync_queue_type, fd, NULL, &h);

	if (!ret)
		*out = (ksync_queue_t *)h;
	return ret;
}

int ksync_queue_open(ksync_queue_t **out, const char *name, int flags, mode_t mode,
		     unsigned int capacity, unsigned int msg_size)
{
	struct ksync_open_args args;
	struct ksync_handle *h;
	int ret;

	if (!out || flags & KSYNC_UNDO)
		return -EINVAL;
	/* the shape matters only to a call that may create the queue */
	if ((!name || flags & KSYNC_CREATE) &&
	    (capacity < 1 || capacity > KSYNC_QUEUE_CAPACITY_MAX || msg_size > KSYNC_QUEUE_MSG_MAX))
		return -EINVAL;
	memset(&args, 0, sizeof(args));
	args.queue.capacity = capacity;
	args.queue.msg_size = msg_size;
	ret = ksync_wrap_open(&ksync_queue_type, &args, name, flags, mode, &h);
	if (!ret)
		*out = (ksync_queue_t *)h;
	return ret;
}

int ksync_queue_from_fd(ksync_queue_t **out, int fd)
{
	struct ksync_handle *h;
	int ret;

	if (!out)
		return -EINVAL;
	ret = ksync_wrap_fd(&ksync_queue_type, fd, &h);
	if (!ret)
		*out = (ksync_queue_t *)h;
	return ret;
}

int ksync_queue_close(ksync_queue_t *q)
{
	return q ? ksync_unwrap(&q->h) : -EINVAL;
}
