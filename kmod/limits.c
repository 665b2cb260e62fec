// SPDX-License-Identifier: GPL-2.0
/*
 * What one user, and everyone together, may make the module hold.
 *
 * Every object is charged when it is created and uncharged when it is
 * freed: once against max_objects (all users) and against
 * max_objects_per_user for each of its payers: its owner (the creator's
 * effective uid) and the owner of every user namespace between the
 * creator and the machine's, unless that owner is root.  So the uids of an
 * unprivileged user's containers (a subuid range, say) count against the
 * user too, and cannot multiply its share; containers that root made (a
 * container manager's) are left their own shares, one per uid, as root
 * chose to map them, and do not drain root's.  Named and anonymous objects
 * count alike, since both pin memory.  So do their bytes (a page for a
 * semaphore or a barrier, the ring for a queue), against
 * max_bytes_per_user; one queue's ring is also bounded by max_queue_bytes.
 * Memory itself is charged to the creator's memory cgroup
 * (GFP_KERNEL_ACCOUNT).
 *
 * ksync_users_lock is taken last of ksync's (lock order: ksync.h).
 */
#include <linux/capability.h>
#include <linux/module.h>
#include <linux/moduleparam.h>
#include <linux/mutex.h>
#include <linux/sysfs.h>
#include <linux/user_namespace.h>
#include <linux/xarray.h>

#include "ksync.h"

/* Each object costs a page and a few hundred bytes. */
static unsigned int ksync_max_objects = 65536;
module_param_named(max_objects, ksync_max_objects, uint, 0644);
MODULE_PARM_DESC(max_objects, "Most objects alive at once (default 65536)");

static unsigned int ksync_max_per_user = 1024;
module_param_named(max_objects_per_user, ksync_max_per_user, uint, 0644);
MODULE_PARM_DESC(max_objects_per_user,
		 "Most objects one user may own; CAP_SYS_RESOURCE exceeds it (default 1024)");

static unsigned long ksync_max_queue = 64UL << 20;
module_param_named(max_queue_bytes, ksync_max_queue, ulong, 0644);
MODULE_PARM_DESC(max_queue_bytes,
		 "Largest ring of one queue, capacity x slot size (default 64 MiB, at most 1 GiB)");

static unsigned long ksync_max_user_bytes = 256UL << 20;
module_param_named(max_bytes_per_user, ksync_max_user_bytes, ulong, 0644);
MODULE_PARM_DESC(max_bytes_per_user,
		 "Most memory one user's objects may hold; CAP_SYS_RESOURCE exceeds it (default 256 MiB)");

u64 ksync_max_queue_bytes(void)
{
	return READ_ONCE(ksync_max_queue);
}

static atomic_t ksync_nr_objects = ATOMIC_INIT(0);

/* Read-only: lets tests and admins see that objects are freed. */
static int ksync_objects_get(char *buf, const struct kernel_param *kp)
{
	return sysfs_emit(buf, "%d\n", atomic_read(&ksync_nr_objects));
}

static const struct kernel_param_ops ksync_objects_ops = {
	.get = ksync_objects_get,
};
module_param_cb(objects, &ksync_objects_ops, NULL, 0444);
MODULE_PARM_DESC(objects, "Objects alive now (read-only)");

/*
 * kuid -> how many objects that user owns now, and how many pages they
 * hold, as xarray value entries.
 */
static DEFINE_MUTEX(ksync_users_lock);
static DEFINE_XARRAY(ksync_users);
static DEFINE_XARRAY(ksync_user_pages);

static unsigned long ksync_get(struct xarray *xa, unsigned long idx)
{
	void *entry = xa_load(xa, idx);

	return entry ? xa_to_value(entry) : 0;
}

/*
 * Who pays for an object: distinct kuids, the owner and one per user
 * namespace level (they nest 33 deep at most: create_user_ns()).
 */
#define KSYNC_PAYERS_MAX	34

static int ksync_payers(kuid_t uid, const struct user_namespace *ns,
			unsigned long *idx)
{
	int i, n = 0;

	idx[n++] = __kuid_val(uid);
	for (; ns && ns != &init_user_ns && n < KSYNC_PAYERS_MAX; ns = ns->parent) {
		unsigned long owner = __kuid_val(ns->owner);

		if (uid_eq(ns->owner, GLOBAL_ROOT_UID))
			continue;
		for (i = 0; i < n && idx[i] != owner; i++)
			;
		if (i == n)
			idx[n++] = owner;
	}
	return n;
}

/* Set a payer's count; replacing an entry in place allocates nothing. */
static int ksync_set(struct xarray *xa, unsigned long idx, unsigned long n)
{
	if (!n) {
		xa_erase(xa, idx);
		return 0;
	}
	return xa_err(xa_store(xa, idx, xa_mk_value(n), GFP_KERNEL_ACCOUNT));
}

/* Add one object of 'pages' to a payer (or take it away: sign -1). */
static int ksync_add(unsigned long idx, unsigned long pages, int sign)
{
	unsigned long owned = ksync_get(&ksync_users, idx);
	unsigned long held = ksync_get(&ksync_user_pages, idx);
	int ret;

	if (sign < 0) {
		if (WARN_ON_ONCE(!owned || held < pages))
			return 0;
		ksync_set(&ksync_users, idx, owned - 1);
		ksync_set(&ksync_user_pages, idx, held - pages);
		return 0;
	}
	ret = ksync_set(&ksync_users, idx, owned + 1);
	if (!ret) {
		ret = ksync_set(&ksync_user_pages, idx, held + pages);
		if (ret)
			ksync_set(&ksync_users, idx, owned);
	}
	return ret;
}

static bool ksync_over(unsigned long idx, unsigned long pages)
{
	return ksync_get(&ksync_users, idx) >= READ_ONCE(ksync_max_per_user) ||
	       ksync_get(&ksync_user_pages, idx) + pages >
	       READ_ONCE(ksync_max_user_bytes) >> PAGE_SHIFT;
}

/*
 * Charge an object of 'bytes' created by uid in user namespace ns.
 * -ENOSPC: the machine's limit; -EDQUOT: a payer's, as keyrings report a
 * user's quota.
 */
int ksync_charge(kuid_t uid, const struct user_namespace *ns, u64 bytes)
{
	unsigned long pages = DIV_ROUND_UP_ULL(bytes, PAGE_SIZE);
	unsigned long idx[KSYNC_PAYERS_MAX];
	int i, n, ret = 0;

	if (atomic_inc_return(&ksync_nr_objects) > READ_ONCE(ksync_max_objects)) {
		atomic_dec(&ksync_nr_objects);
		return -ENOSPC;
	}
	n = ksync_payers(uid, ns, idx);
	mutex_lock(&ksync_users_lock);
	for (i = 0; i < n; i++)
		if (ksync_over(idx[i], pages))
			break;
	if (i < n && !capable(CAP_SYS_RESOURCE))
		ret = -EDQUOT;
	for (i = 0; !ret && i < n; i++) {
		ret = ksync_add(idx[i], pages, 1);
		if (ret)	/* undo the payers charged so far */
			while (i--)
				ksync_add(idx[i], pages, -1);
	}
	mutex_unlock(&ksync_users_lock);
	if (ret)
		atomic_dec(&ksync_nr_objects);
	return ret;
}

void ksync_uncharge(kuid_t uid, const struct user_namespace *ns, u64 bytes)
{
	unsigned long pages = DIV_ROUND_UP_ULL(bytes, PAGE_SIZE);
	unsigned long idx[KSYNC_PAYERS_MAX];
	int i, n = ksync_payers(uid, ns, idx);

	mutex_lock(&ksync_users_lock);
	for (i = 0; i < n; i++)
		ksync_add(idx[i], pages, -1);
	mutex_unlock(&ksync_users_lock);
	atomic_dec(&ksync_nr_objects);
}

/*
 * The user whose usage KSYNC_IOC_LIMITS reports: the caller's euid, or a
 * uid of its user namespace, another's only for its CAP_SYS_ADMIN.
 */
static int ksync_limits_whom(const struct ksync_limits_args *args, kuid_t *kuid)
{
	struct user_namespace *uns = current_user_ns();

	*kuid = current_euid();
	if (!(args->flags & KSYNC_LIMITS_UID))
		return 0;
	*kuid = make_kuid(uns, args->uid);
	if (!uid_valid(*kuid))
		return -EINVAL;
	if (!uid_eq(*kuid, current_euid()) && !ns_capable(uns, CAP_SYS_ADMIN))
		return -EPERM;
	return 0;
}

long ksync_limits(void __user *uarg)
{
	struct ksync_limits_args args;
	unsigned long idx;
	kuid_t kuid;
	int ret;

	ret = ksync_copy_args(&args, sizeof(args), sizeof(args), uarg);
	if (ret)
		return ret;
	if (args.flags & ~KSYNC_LIMITS_UID || args.pad)
		return -EINVAL;
	/* a uid that would mean nothing now, but something in a later version */
	if (!(args.flags & KSYNC_LIMITS_UID) && args.uid)
		return -EINVAL;
	ret = ksync_limits_whom(&args, &kuid);
	if (ret)
		return ret;
	idx = __kuid_val(kuid);
	args.uid = from_kuid_munged(current_user_ns(), kuid);
	args.max_objects = READ_ONCE(ksync_max_objects);
	args.objects = atomic_read(&ksync_nr_objects);
	args.max_objects_per_user = READ_ONCE(ksync_max_per_user);
	args.max_bytes_per_user = READ_ONCE(ksync_max_user_bytes);
	args.max_queue_bytes = READ_ONCE(ksync_max_queue);
	/* the two counts of one moment */
	mutex_lock(&ksync_users_lock);
	args.user_objects = ksync_get(&ksync_users, idx);
	args.user_bytes = (u64)ksync_get(&ksync_user_pages, idx) << PAGE_SHIFT;
	mutex_unlock(&ksync_users_lock);
	return copy_to_user(uarg, &args, sizeof(args)) ? -EFAULT : 0;
}

/*
 * KSYNC_IOC_USAGE: a batch of users from the cursor on, gathered into a
 * buffer on the stack (nothing to allocate, so nothing to fail) and
 * copied out after it.  Any user may call it in a user namespace of its
 * own, so the walk holds no lock of ksync's while it passes the users the
 * caller cannot see (the xarray's RCU walk suffices): at most
 * max_objects entries of the caller's own time, and creates and frees
 * elsewhere never wait on it.  Only a user it reports is read under
 * ksync_users_lock, so that its two counts are of one moment.  The cursor
 * moves only past users it reports, or to the end: it tells nothing of
 * the others.
 */
#define KSYNC_USAGE_BATCH	16
#define KSYNC_USAGE_END		((u64)U32_MAX + 1)	/* past every kuid */

static u32 ksync_usage_gather(struct ksync_usage_entry *buf, u32 max, u64 *cursor)
{
	struct user_namespace *uns = current_user_ns();
	unsigned long idx;
	void *entry;
	u32 n = 0, seen = 0;

	xa_for_each_start(&ksync_users, idx, entry, (unsigned long)*cursor) {
		uid_t uid = from_kuid(uns, KUIDT_INIT(idx));

		if (!(++seen % 256))
			cond_resched();
		if (uid == (uid_t)-1)
			continue;
		mutex_lock(&ksync_users_lock);
		buf[n].uid = uid;
		buf[n].objects = ksync_get(&ksync_users, idx);
		buf[n].bytes = (u64)ksync_get(&ksync_user_pages, idx) << PAGE_SHIFT;
		mutex_unlock(&ksync_users_lock);
		if (!buf[n].objects)	/* its last object went meanwhile */
			continue;
		*cursor = (u64)idx + 1;
		if (++n == max)
			return n;
	}
	*cursor = KSYNC_USAGE_END;
	return n;
}

long ksync_usage(void __user *uarg)
{
	struct ksync_usage_args __user *uargs = uarg;
	struct ksync_usage_entry buf[KSYNC_USAGE_BATCH];
	struct ksync_usage_args args;
	u64 cursor;
	u32 n;
	int ret;

	ret = ksync_copy_args(&args, sizeof(args), sizeof(args), uarg);
	if (ret)
		return ret;
	if (args.flags || !args.count || args.entry_size < sizeof(buf[0]) ||
	    args.entry_size > PAGE_SIZE)
		return -EINVAL;
	if (!ns_capable(current_user_ns(), CAP_SYS_ADMIN))
		return -EPERM;
	if (args.cursor >= KSYNC_USAGE_END)
		return 0;
	memset(buf, 0, sizeof(buf));
	cursor = args.cursor;
	n = ksync_usage_gather(buf, min_t(u32, args.count, KSYNC_USAGE_BATCH), &cursor);
	if (ksync_copy_entries(u64_to_user_ptr(args.entries), buf, n, sizeof(buf[0]),
			       args.entry_size) ||
	    put_user(cursor, &uargs->cursor))
		return -EFAULT;
	return n;
}

/* Module exit: every object is gone, and with it every entry. */
void ksync_limits_exit(void)
{
	WARN_ON(!xa_empty(&ksync_users) || !xa_empty(&ksync_user_pages));
	xa_destroy(&ksync_users);
	xa_destroy(&ksync_user_pages);
}
