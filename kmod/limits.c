// SPDX-License-Identifier: GPL-2.0
/*
 * What one user, and everyone together, may make the module hold.
 *
 * Every object is charged when it is created and uncharged when it is
 * freed: once against max_objects (all users) and once against
 * max_objects_per_user (its owner, the creator's effective uid).  Named
 * and anonymous objects count alike, since both pin memory.  Memory itself
 * is charged to the creator's memory cgroup (GFP_KERNEL_ACCOUNT).
 *
 * Lock order: ksync_registry_lock -> ksync_users_lock.
 */
#include <linux/capability.h>
#include <linux/module.h>
#include <linux/moduleparam.h>
#include <linux/mutex.h>
#include <linux/sysfs.h>
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

/* -ENOSPC: the machine's limit; -EDQUOT: this user's, as keyrings say it. */
int ksync_charge(kuid_t uid)
{
	unsigned long idx = __kuid_val(uid), n;
	int ret;

	if (atomic_inc_return(&ksync_nr_objects) > READ_ONCE(ksync_max_objects)) {
		atomic_dec(&ksync_nr_objects);
		return -ENOSPC;
	}
	mutex_lock(&ksync_users_lock);
	n = ksync_owned(idx);
	if (n >= READ_ONCE(ksync_max_per_user) && !capable(CAP_SYS_RESOURCE))
		ret = -EDQUOT;
	else
		ret = xa_err(xa_store(&ksync_users, idx, xa_mk_value(n + 1),
				      GFP_KERNEL_ACCOUNT));
	mutex_unlock(&ksync_users_lock);
	if (ret)
		atomic_dec(&ksync_nr_objects);
	return ret;
}

void ksync_uncharge(kuid_t uid)
{
	unsigned long idx = __kuid_val(uid), n;

	mutex_lock(&ksync_users_lock);
	n = ksync_owned(idx);
	if (n > 1)	/* replaces an entry in place: allocates nothing */
		xa_store(&ksync_users, idx, xa_mk_value(n - 1), GFP_KERNEL);
	else
		xa_erase(&ksync_users, idx);
	mutex_unlock(&ksync_users_lock);
	atomic_dec(&ksync_nr_objects);
}

/* Module exit: every object is gone, and with it every entry. */
void ksync_limits_exit(void)
{
	WARN_ON(!xa_empty(&ksync_users));
	xa_destroy(&ksync_users);
}
