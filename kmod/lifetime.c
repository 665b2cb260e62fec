// SPDX-License-Identifier: GPL-2.0
/*
 * An object's life: made and charged to its owner, freed and uncharged
 * when its last reference goes (docs/design.md, "Lifetimes").
 */
#include <linux/cred.h>
#include <linux/fs_struct.h>
#include <linux/pid.h>
#include <linux/sched.h>
#include <linux/slab.h>
#include <linux/timekeeping.h>
#include <linux/user_namespace.h>

#include "ksync.h"

/*
 * Serials: one counter for the machine, so that two fds can be told to
 * name one object or two whatever namespaces they came through.  64 bits
 * do not wrap.
 */
static atomic64_t ksync_serial = ATOMIC64_INIT(0);

struct ksync_obj *ksync_obj_new(const struct ksync_type *ops,
				const struct ksync_open_args *args)
{
	struct user_namespace *uns = current_user_ns();
	kuid_t owner = current_euid();
	u64 cost = ops->cost ? ops->cost(args) : PAGE_SIZE;
	struct ksync_obj *obj;
	int ret;

	ret = ksync_charge(owner, uns, cost);
	if (ret)
		return ERR_PTR(ret);
	obj = ops->create(args);
	if (IS_ERR(obj)) {
		ksync_uncharge(owner, uns, cost);
		return obj;
	}
	obj->cost = cost;
	if (!obj->shm_pages)
		obj->shm_pages = ops->shm_pages;
	obj->uns = get_user_ns(uns);
	obj->ctime = ktime_get_real_ns();
	obj->serial = atomic64_inc_return(&ksync_serial);
	obj->creator = get_pid(task_tgid(current));
	kref_init(&obj->ref);
	obj->ops = ops;
	spin_lock_init(&obj->lock);
	init_waitqueue_head(&obj->poll_wq);
	obj->uid = owner;
	obj->gid = current_egid();
	obj->mode = args->mode & ~current_umask() & 0777;
	obj->name = NULL;
	obj->ns = NULL;
	obj->linked = false;
	atomic_set(&obj->files, 0);
	mutex_init(&obj->map_lock);
	obj->mapf = NULL;
	return obj;
}

static void ksync_obj_release(struct kref *ref)
{
	struct ksync_obj *obj = container_of(ref, struct ksync_obj, ref);
	struct user_namespace *uns = obj->uns;
	kuid_t owner = obj->uid;
	u64 cost = obj->cost;

	mutex_destroy(&obj->map_lock);
	put_pid(obj->creator);
	kfree(obj->name);
	obj->ops->free(obj);
	ksync_uncharge(owner, uns, cost);
	put_user_ns(uns);
}

void ksync_obj_put(struct ksync_obj *obj)
{
	kref_put(&obj->ref, ksync_obj_release);
}

/*
 * The creator's process id in the reader's pid namespace (ipcs -p), also
 * once it has exited, as the struct pid we hold keeps its numbers; 0 if
 * the reader's namespace does not see it.
 */
u32 ksync_obj_cpid(const struct ksync_obj *obj)
{
	return pid_vnr(obj->creator);
}
