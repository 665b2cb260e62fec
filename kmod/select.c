// SPDX-License-Identifier: GPL-2.0
/*
 * KSYNC_IOC_WAIT_ANY: Go's select across processes.  One call waits on
 * several operations (acquire a semaphore's permits, send or receive one
 * message, an event being set, a file becoming readable) and completes
 * exactly one of them, the first that can complete, leaving every other
 * as it was.
 *
 * This file checks the call and pins what it names; each type sets up its
 * own operations (its op_init hook, its waiter at the memory given), and
 * wait.c's ksync_wait_many() does the waiting on the one waiter core.
 * Everything that can fail is checked, and every allocation made, before
 * any object changes: a call that fails has changed no object (but for
 * -ENOMEM from a send's joining, which a plain send may leave too).
 */
#include <linux/file.h>
#include <linux/slab.h>
#include <linux/uaccess.h>

#include "ksync.h"

/* What the call names, pinned for it. */
struct any_op {
	struct ksync_wait_op op;
	struct file *file;
	struct ksync_file *kf;		/* NULL for KSYNC_OP_FD */
	size_t size;			/* of its waiter */
	void *mem;			/* the waiter, once set up */
};

/* Read and check op i; pin its file. */
static int any_get(struct any_op *a, const void __user *uop, u32 op_size)
{
	int ret = copy_struct_from_user(&a->op, sizeof(a->op), uop, op_size);

	if (ret)
		return ret;
	if (a->op.flags || a->op.kind > KSYNC_OP_FD)
		return -EINVAL;
	/* the result is written after the wait: it must be writable now */
	if (put_user(0LL, &((struct ksync_wait_op __user *)uop)->result))
		return -EFAULT;
	a->file = fget(a->op.fd);
	if (!a->file)
		return -EBADF;
	if (a->op.kind == KSYNC_OP_FD) {
		a->size = ksync_fd_op_size;
		return 0;
	}
	a->kf = ksync_file_of(a->file);
	if (!a->kf || !a->kf->obj->ops->op_init)
		return -EINVAL;
	a->size = a->kf->obj->ops->op_size;
	return 0;
}

/* An object named twice would hold two places in one line. */
static bool any_twice(const struct any_op *a, u32 n)
{
	u32 i, j;

	for (i = 0; i < n; i++)
		for (j = i + 1; a[i].kf && j < n; j++)
			if (a[j].kf && a[j].kf->obj == a[i].kf->obj)
				return true;
	return false;
}

static void any_put(struct any_op *a, u32 n)
{
	u32 i;

	for (i = 0; i < n; i++) {
		if (a[i].mem && a[i].kf && a[i].kf->obj->ops->op_end)
			a[i].kf->obj->ops->op_end(a[i].mem);
		if (a[i].file)
			fput(a[i].file);
	}
}

/* Set up every op's waiter in mem, entry i of waiter w. */
static int any_init(struct any_op *a, u32 n, const u8 __user *uops, u32 op_size,
		    u8 *mem, struct ksync_waiter *w, struct ksync_wait_one *one)
{
	u32 i;
	int ret;

	for (i = 0; i < n; mem += a[i++].size) {
		void __user *uop = (void __user *)(uops + (size_t)i * op_size);

		if (a[i].kf)
			ret = a[i].kf->obj->ops->op_init(a[i].kf, &a[i].op, uop, mem,
							  w, i, &one[i]);
		else
			ret = ksync_fd_op_init(a[i].file, &a[i].op, mem, w, i,
					       &one[i]);
		if (ret)
			return ret;
		a[i].mem = mem;
	}
	return 0;
}

long ksync_wait_any(void __user *uarg)
{
	struct ksync_wait_any_args args;
	struct ksync_wait_one *one;
	struct ksync_waiter w;
	ktime_t expires, *deadline;
	const u8 __user *uops;
	struct any_op *a;
	size_t total = 0;
	u8 *mem = NULL;
	u32 i, index;
	int ret;

	ret = ksync_copy_args(&args, sizeof(args), sizeof(args), uarg);
	if (ret)
		return ret;
	if (args.flags & ~KSYNC_WAIT_FLAGS || !args.count ||
	    args.count > KSYNC_WAIT_MAX || args.op_size < sizeof(struct ksync_wait_op) ||
	    args.op_size > PAGE_SIZE)
		return -EINVAL;
	uops = u64_to_user_ptr(args.ops);
	a = kcalloc(args.count, sizeof(*a), GFP_KERNEL_ACCOUNT);
	one = kcalloc(args.count, sizeof(*one), GFP_KERNEL_ACCOUNT);
	if (!a || !one) {
		ret = -ENOMEM;
		goto out;
	}
	for (i = 0; i < args.count; i++) {
		ret = any_get(&a[i], uops + (size_t)i * args.op_size, args.op_size);
		if (ret)
			goto out;
		total += a[i].size;
	}
	ret = -EINVAL;
	if (any_twice(a, args.count))
		goto out;
	ret = -ENOMEM;
	mem = kzalloc(total, GFP_KERNEL_ACCOUNT);
	if (!mem)
		goto out;
	deadline = ksync_wait_deadline(args.flags, args.deadline, &expires);
	ksync_waiter_init(&w, deadline);
	ret = any_init(a, args.count, uops, args.op_size, mem, &w, one);
	for (i = 0; !ret && i < args.count; i++)
		if (a[i].kf && a[i].kf->obj->ops->op_start)
			ret = a[i].kf->obj->ops->op_start(a[i].kf, a[i].mem);
	if (ret)
		goto out;
	ret = ksync_wait_many(one, args.count, &w, &index);
	if (index < args.count) {
		struct ksync_wait_op __user *uop =
			(void __user *)(uops + (size_t)index * args.op_size);

		/*
		 * A RECV's length is in len already (the queue wrote it).  The
		 * op completed: its index is the answer even if another thread
		 * made the array unwritable since any_get() wrote to it.
		 */
		if (put_user((s64)(ret > 0 ? 0 : ret), &uop->result))
			pr_debug("ksync: wait_any result of op %u not written\n", index);
		ret = index;
	}
out:
	if (a)
		any_put(a, args.count);
	kfree(mem);
	kfree(one);
	kfree(a);
	return ret;
}
