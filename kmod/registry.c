// SPDX-License-Identifier: GPL-2.0
/*
 * The registry: names, permissions and the lifetime of named objects.
 *
 * A linked name holds one reference on its object, so a named object
 * outlives its fds until it is unlinked, as POSIX semaphores do.  All
 * names live in one table for the whole machine (see docs/design.md on
 * namespaces).
 */
#include <linux/cred.h>
#include <linux/capability.h>
#include <linux/file.h>
#include <linux/hashtable.h>
#include <linux/mutex.h>
#include <linux/slab.h>
#include <linux/stringhash.h>

#include "ksync.h"

static DEFINE_MUTEX(ksync_registry_lock);
static DEFINE_HASHTABLE(ksync_names, 8);

static const struct ksync_type *const ksync_types[] = {
	&ksync_sem_type,
};

static const struct ksync_type *ksync_type_of(u32 type)
{
	int i;

	for (i = 0; i < ARRAY_SIZE(ksync_types); i++)
		if (ksync_types[i]->type == type)
			return ksync_types[i];
	return NULL;
}

static u32 ksync_name_hash(const char *name)
{
	return full_name_hash(NULL, name, strlen(name));
}

static struct ksync_obj *ksync_lookup(const char *name)
{
	struct ksync_obj *obj;

	lockdep_assert_held(&ksync_registry_lock);
	hash_for_each_possible(ksync_names, obj, hnode, ksync_name_hash(name))
		if (!strcmp(obj->name, name))
			return obj;
	return NULL;
}

/* POSIX IPC rules: owner, then group, then other bits; read and write. */
static bool ksync_may_open(const struct ksync_obj *obj)
{
	umode_t granted = obj->mode;

	if (uid_eq(current_euid(), obj->uid))
		granted >>= 6;
	else if (in_egroup_p(obj->gid))
		granted >>= 3;
	if ((granted & 06) == 06)
		return true;
	return capable(CAP_IPC_OWNER);
}

/*
 * Find or create the object, then wrap it in a new file.  Both happen
 * under the registry lock so that a failed open never leaves a new name
 * behind and two creators of one name cannot race.
 */
static struct file *ksync_open_file(const struct ksync_type *ops,
				    const struct ksync_open_args *args,
				    const char *name)
{
	struct ksync_obj *obj;
	struct file *file;
	char *copy;

	if (!name) {
		obj = ksync_obj_new(ops, args);
		if (IS_ERR(obj))
			return ERR_CAST(obj);
		file = ksync_obj_file(obj, args->flags);
		if (IS_ERR(file))
			ksync_obj_put(obj);
		return file;
	}

	mutex_lock(&ksync_registry_lock);
	obj = ksync_lookup(name);
	if (obj) {
		if ((args->flags & (KSYNC_OPEN_CREATE | KSYNC_OPEN_EXCL)) ==
		    (KSYNC_OPEN_CREATE | KSYNC_OPEN_EXCL))
			file = ERR_PTR(-EEXIST);
		else if (obj->ops != ops)
			file = ERR_PTR(-EPROTOTYPE);
		else if (!ksync_may_open(obj))
			file = ERR_PTR(-EACCES);
		else
			file = ksync_obj_file(obj, args->flags);
		if (!IS_ERR(file))
			kref_get(&obj->ref);
		goto out;
	}
	if (!(args->flags & KSYNC_OPEN_CREATE)) {
		file = ERR_PTR(-ENOENT);
		goto out;
	}
	copy = kstrdup(name, GFP_KERNEL_ACCOUNT);
	if (!copy) {
		file = ERR_PTR(-ENOMEM);
		goto out;
	}
	obj = ksync_obj_new(ops, args);
	if (IS_ERR(obj)) {
		kfree(copy);
		file = ERR_CAST(obj);
		goto out;
	}
	file = ksync_obj_file(obj, args->flags);
	if (IS_ERR(file)) {
		kfree(copy);
		ksync_obj_put(obj);
		goto out;
	}
	/* the file took the creation reference; the name takes another */
	obj->name = copy;
	obj->linked = true;
	kref_get(&obj->ref);
	hash_add(ksync_names, &obj->hnode, ksync_name_hash(copy));
out:
	mutex_unlock(&ksync_registry_lock);
	return file;
}

int ksync_open(const struct ksync_open_args *args, const char *name)
{
	const struct ksync_type *ops = ksync_type_of(args->type);
	struct file *file;
	int fd, ret;

	if (!ops)
		return -EINVAL;
	ret = ops->check(args);
	if (ret)
		return ret;
	fd = get_unused_fd_flags(O_RDWR |
				 (args->flags & KSYNC_OPEN_CLOEXEC ? O_CLOEXEC : 0));
	if (fd < 0)
		return fd;
	file = ksync_open_file(ops, args, name);
	if (IS_ERR(file)) {
		put_unused_fd(fd);
		return PTR_ERR(file);
	}
	fd_install(fd, file);
	return fd;
}

static void ksync_unhash(struct ksync_obj *obj)
{
	hash_del(&obj->hnode);
	WRITE_ONCE(obj->linked, false);
	ksync_obj_put(obj);
}

int ksync_unlink(const char *name)
{
	struct ksync_obj *obj;
	int ret = 0;

	mutex_lock(&ksync_registry_lock);
	obj = ksync_lookup(name);
	if (!obj)
		ret = -ENOENT;
	else if (!uid_eq(current_euid(), obj->uid) && !capable(CAP_IPC_OWNER))
		ret = -EACCES;
	else
		ksync_unhash(obj);
	mutex_unlock(&ksync_registry_lock);
	return ret;
}

/* Module exit: no fd is open, so dropping the names frees everything. */
void ksync_registry_exit(void)
{
	struct hlist_node *tmp;
	struct ksync_obj *obj;
	int bkt;

	mutex_lock(&ksync_registry_lock);
	hash_for_each_safe(ksync_names, bkt, tmp, obj, hnode)
		ksync_unhash(obj);
	mutex_unlock(&ksync_registry_lock);
}
