// SPDX-License-Identifier: LGPL-2.1-or-later
/*
 * Bounded message queues.  Each handle maps the queue's ring (the layout
 * and its rules are in <linux/ksync.h>, the protocol in docs/design.md).
 * A sender that finds a free slot and a receiver that finds a message
 * complete on the ring, without a system call; they enter the kernel to
 * sleep, to wake a sleeper of the other side (RECV_WAIT, SEND_WAIT), or
 * when the queue is shut down or broken.  KSYNC_QUEUE_KERNEL handles map nothing and do everything
 * in the kernel (kmod/queue.c).  The ring's fast paths are in ring.c.
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
#include "ring.h"

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
			ret = ksync_ring_send(q, msg, len);
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
			ret = ksync_ring_recv(q, buf, room);
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

/* A SEND's or RECV's errors that the module would give, seen here first. */
int ksync_queue_op_check(ksync_queue_t *q, int send, const void *buf, size_t len)
{
	if (!buf && len)
		return -EFAULT;
	if (!(q->roles & (send ? KSYNC_QUEUE_SEND : KSYNC_QUEUE_RECV)))
		return -EBADF;
	return send && len > q->msg_size ? -EMSGSIZE : 0;
}

/*
 * A SEND or RECV of a wait on several objects (select.c), on the ring
 * alone: 1 done (*result: 0, or a RECV's length), -1 only the kernel can
 * tell (full, empty, shut down, an error to report).
 */
int ksync_queue_op_fast(ksync_queue_t *q, int send, void *buf, size_t len, ssize_t *result)
{
	ssize_t ret;

	if (!q || q->kernel_only || (!buf && len) ||
	    !(q->roles & (send ? KSYNC_QUEUE_SEND : KSYNC_QUEUE_RECV)))
		return -1;
	if (send) {
		if (len > q->msg_size || ksync_ring_send(q, buf, len) <= 0)
			return -1;
		*result = 0;
		return 1;
	}
	ret = ksync_ring_recv(q, buf, len);
	if (ret < 0)
		return -1;
	*result = ret;
	return 1;
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
		ret = ksync_ring_send(q, msgs[done].iov_base, msgs[done].iov_len);
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
		len = ksync_ring_recv(q, bufs[done].iov_base, bufs[done].iov_len);
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
