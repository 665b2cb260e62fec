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
 * count alike, since both pin memory.  Memory itself is charged to the
 * creator's memory cgroup (GFP_KERNEL_ACCOUNT).
 *
 * Lock order: ksync_registry_lock -> ksync_users_lock.
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

/* kuid -> how many objects that user owns now, as an xarray value entry */
static DEFINE_MUTEX(ksync_users_lock);
static DEFINE_XARRAY(ksync_users);

static unsigned long ksync_owned(unsigned long idx)
{
	void *entry = xa_load(&ksync_users, idx);

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
static int ksync_set_owned(unsigned long idx, unsigned long n)
{
	if (!n) {
		xa_erase(&ksync_users, idx);
		return 0;
	}
	return xa_err(xa_store(&ksync_users, idx, xa_mk_value(n),
			       GFP_KERNEL_ACCOUNT));
}

/*
 * Charge an object created by uid in user namespace ns.  -ENOSPC: the
 * machine's limit; -EDQUOT: a payer's, as keyrings report a user's quota.
 */
int ksync_charge(kuid_t uid, const struct user_namespace *ns)
{
	unsigned long idx[KSYNC_PAYERS_MAX];
	int i, n, ret = 0;

	if (atomic_inc_return(&ksync_nr_objects) > READ_ONCE(ksync_max_objects)) {
		atomic_dec(&ksync_nr_objects);
		return -ENOSPC;
	}
	n = ksync_payers(uid, ns, idx);
	mutex_lock(&ksync_users_lock);
	for (i = 0; i < n; i++)
		if (ksync_owned(idx[i]) >= READ_ONCE(ksync_max_per_user))
			break;
	if (i < n && !capable(CAP_SYS_RESOURCE))
		ret = -EDQUOT;
	for (i = 0; !ret && i < n; i++) {
		ret = ksync_set_owned(idx[i], ksync_owned(idx[i]) + 1);
		if (ret)	/* undo the payers charged so far */
			while (i--)
				ksync_set_owned(idx[i], ksync_owned(idx[i]) - 1);
	}
	mutex_unlock(&ksync_users_lock);
	if (ret)
		atomic_dec(&ksync_nr_objects);
	return ret;
}

void ksync_uncharge(kuid_t uid, const struct user_namespace *ns)
{
	unsigned long idx[KSYNC_PAYERS_MAX];
	int i, n = ksync_payers(uid, ns, idx);

	mutex_lock(&ksync_users_lock);
	for (i = 0; i < n; i++) {
		unsigned long owned = ksync_owned(idx[i]);

		if (!WARN_ON_ONCE(!owned))
			ksync_set_owned(idx[i], owned - 1);
	}
	mutex_unlock(&ksync_users_lock);
	atomic_dec(&ksync_nr_objects);
}

/* Module exit: every object is gone, and with it every entry. */
void ksync_limits_exit(void)
{
	WARN_ON(!xa_empty(&ksync_users));
	xa_destroy(&ksync_users);
}
