// SPDX-License-Identifier: LGPL-2.1-or-later
/*
 * ksync_wait_any(): Go's select over ksync operations.  First each
 * operation in order on its shared page alone, as the single calls do;
 * the first that completes there wins (a set manual event: one load; an
 * auto event's set state: a compare-and-swap that takes it, so only the
 * op that completes consumes it).  An operation only the module can
 * decide (an FD, a semaphore somebody sleeps on, a full or empty ring, a
 * set event somebody sleeps on or polls) ends that: from there the module
 * decides for all of them, in the same order, and so keeps "the lowest
 * index wins".
 */
#include <string.h>
#include <unistd.h>

#include "internal.h"
#include "ring.h"

/* 1 done (op->result set), 0 not now, -1 ask the module. */
static int op_fast(struct ksync_op *op)
{
	switch (op->kind) {
	case KSYNC_OP_ACQUIRE: {
		int ret = ksync_sem_op_fast(op->sem, op->n);

		if (ret == 1)
			op->result = 0;
		return ret;
	}
	case KSYNC_OP_SEND:
	case KSYNC_OP_RECV:
		return ksync_queue_op_fast(op->queue, op->kind == KSYNC_OP_SEND, op->buf, op->len,
					   &op->result);
	case KSYNC_OP_EVENT: {
		int ret = ksync_event_op_fast(op->event);

		if (ret == 1)
			op->result = 0;
		return ret;
	}
	default:
		return -1;
	}
}

/* The op's handle, NULL for an FD; its type must be the op's. */
static const struct ksync_handle *op_handle(const struct ksync_op *op)
{
	switch (op->kind) {
	case KSYNC_OP_ACQUIRE:
		return (const struct ksync_handle *)op->sem;
	case KSYNC_OP_SEND:
	case KSYNC_OP_RECV:
		return (const struct ksync_handle *)op->queue;
	case KSYNC_OP_EVENT:
		return (const struct ksync_handle *)op->event;
	default:
		return NULL;
	}
}

/* The type of object an op names. */
static uint32_t op_type(int kind)
{
	switch (kind) {
	case KSYNC_OP_ACQUIRE:
		return KSYNC_TYPE_SEM;
	case KSYNC_OP_EVENT:
		return KSYNC_TYPE_EVENT;
	default:
		return KSYNC_TYPE_QUEUE;
	}
}

/* The object's serial, asked of the module once per handle (0: unknown). */
static uint64_t serial_of(const struct ksync_handle *h)
{
	uint64_t serial = __atomic_load_n(&h->serial, __ATOMIC_RELAXED);

	return serial ? serial : ksync_handle_serial((struct ksync_handle *)h);
}

/*
 * A bad call must leave every object as it was, so no op may complete in
 * the library before every op has been checked: here, what the handles
 * tell (type, permits and maximum, roles, message size, one handle named
 * twice, one object through two handles).  1: the call may try its ops
 * on the shared pages; 0: the module must see it first (an fd, which only
 * it can check); else the error.
 */
static int check(const struct ksync_op *ops, unsigned int count)
{
	const struct ksync_handle *h[KSYNC_WAIT_MAX];
	int fast = 1, ret;

	for (unsigned int i = 0; i < count; i++) {
		h[i] = op_handle(&ops[i]);
		if (ops[i].kind == KSYNC_OP_FD) {
			fast = 0;
			continue;
		}
		if (!h[i] || h[i]->type->id != op_type(ops[i].kind))
			return -EINVAL;
		if (ops[i].kind == KSYNC_OP_ACQUIRE)
			ret = ksync_sem_op_check(ops[i].sem, ops[i].n);
		else if (ops[i].kind == KSYNC_OP_EVENT)
			ret = ksync_event_op_check(ops[i].event);
		else
			ret = ksync_queue_op_check(ops[i].queue, ops[i].kind == KSYNC_OP_SEND,
						   ops[i].buf, ops[i].len);
		if (ret)
			return ret;
	}
	/*
	 * One handle named twice, or one object through two handles (the
	 * module refuses that itself when it decides: fast only)
	 */
	for (unsigned int i = 1; i < count; i++) {
		for (unsigned int j = 0; h[i] && j < i; j++) {
			if (!h[j])
				continue;
			if (h[j] == h[i] ||
			    (fast && serial_of(h[i]) == serial_of(h[j]) && serial_of(h[i])))
				return -EINVAL;
		}
	}
	return fast;
}

/* The module's answer (ret: the index or an error) into the ops. */
static int finish(struct ksync_op *ops, const struct ksync_wait_op *kops, int ret)
{
	unsigned int i = (unsigned int)ret;

	if (ret < 0)
		return ret;
	ops[i].result = (ssize_t)kops[i].result;
	if (ops[i].kind == KSYNC_OP_RECV && !kops[i].result)
		ops[i].result = (ssize_t)kops[i].len;
	return ret;
}

int ksync_wait_any(struct ksync_op *ops, unsigned int count, const struct timespec *deadline)
{
	struct ksync_wait_op kops[KSYNC_WAIT_MAX];
	struct ksync_wait_any_args args = {
		.size = sizeof(args),
		.count = count,
		.op_size = sizeof(kops[0]),
	};
	unsigned int i;
	int dev, ret;

	if (!ops || !count || count > KSYNC_WAIT_MAX || ksync_bad_deadline(deadline))
		return -EINVAL;
	ret = check(ops, count);
	if (ret < 0)
		return ret;
	for (i = 0; ret && i < count; i++) {
		int done = op_fast(&ops[i]);

		if (done == 1)
			return (int)i;
		if (done < 0)
			break;
	}
	memset(kops, 0, sizeof(kops[0]) * count);
	for (i = 0; i < count; i++) {
		kops[i].kind = (uint32_t)ops[i].kind;
		kops[i].fd = ops[i].kind == KSYNC_OP_FD ? ops[i].fd : op_handle(&ops[i])->fd;
		if (ops[i].kind == KSYNC_OP_ACQUIRE)
			kops[i].count = ops[i].n;
		if (ops[i].kind == KSYNC_OP_SEND || ops[i].kind == KSYNC_OP_RECV) {
			kops[i].buf = (uintptr_t)ops[i].buf;
			kops[i].len = ops[i].len;
		}
	}
	args.ops = (uintptr_t)kops;
	if (deadline) {
		args.flags = KSYNC_WAIT_DEADLINE;
		args.deadline = ksync_timespec_ns(deadline);
	}
	/* any object's fd takes the call; only a call of fds alone opens the device */
	for (i = 0; i < count && ops[i].kind == KSYNC_OP_FD; i++)
		;
	if (i < count)
		return finish(ops, kops,
			      ksync_ioctl(op_handle(&ops[i])->fd, KSYNC_IOC_WAIT_ANY, &args));
	dev = ksync_device();
	if (dev < 0)
		return dev;
	ret = ksync_ioctl(dev, KSYNC_IOC_WAIT_ANY, &args);
	close(dev);
	return finish(ops, kops, ret);
}
