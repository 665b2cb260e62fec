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

/* Module exit: every object is gone, and with it every entry. */
void ksync_limits_exit(void)
{
	WARN_ON(!xa_empty(&ksync_users) || !xa_empty(&ksync_user_pages));
	xa_destroy(&ksync_users);
	xa_destroy(&ksync_user_pages);
}
