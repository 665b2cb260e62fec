// SPDX-License-Identifier: GPL-2.0
/*
 * The registry: names, IPC namespaces, permissions, listing, and the
 * lifetime of named objects.
 *
 * A linked name holds one reference on its object, so a named object
 * outlives its fds until it is unlinked, as POSIX semaphores do.
 *
 * Names belong to the caller's IPC namespace, as POSIX message queues' do.
 * A module cannot hold an IPC namespace (get_ipc_ns/put_ipc_ns are not
 * exported), but each namespace has its own internal mqueue mount,
 * ipc_ns->mq_mnt, and a mount can be pinned with mntget().  So a namespace
 * is known here by that mount, pinned: while we hold it, no other
 * namespace can be given the same mount, so a new namespace that reuses a
 * dead one's memory can never inherit its names.  When a namespace dies,
 * put_ipc_ns() clears its mqueue superblock's s_fs_info (mq_clear_sbinfo);
 * every registry operation first drops the names of namespaces found dead
 * that way (ksync_reap), so does a work item once a second while any
 * namespace but the machine's holds names, and module exit drops them all.
 * The mount of an emptied namespace is let go after the lock is dropped:
 * its last mntput tears down that namespace's mqueue filesystem at once.
 *
 * Names are found through one resizable hash table (rhashtable), keyed by
 * namespace and name and seeded at random, so that nobody can choose names
 * that collide.  Each namespace also numbers its names (an xarray), which
 * gives the listing a stable order and a cursor.
 *
 * The names, the namespaces and the lookups run under ksync_registry_lock;
 * making a new object (under ksync_create_lock), a type's snapshot for the
 * listing, and dropping an unlinked object's last reference run outside
 * it (lock order: ksync.h).
 */
#include <linux/capability.h>
#include <linux/cred.h>
#include <linux/file.h>
#include <linux/hash.h>
#include <linux/ipc_namespace.h>
#include <linux/jhash.h>
#include <linux/jiffies.h>
#include <linux/timer.h>
#include <linux/mount.h>
#include <linux/mutex.h>
#include <linux/nsproxy.h>
#include <linux/rhashtable.h>
#include <linux/sched.h>
#include <linux/slab.h>
#include <linux/uaccess.h>
#include <linux/user_namespace.h>
#include <linux/workqueue.h>
#include <linux/xarray.h>

#include "ksync.h"

/* The names of one IPC namespace. */
struct ksync_ns {
	struct list_head link;		/* in ksync_namespaces */
	struct vfsmount *mnt;		/* pinned: who we are */
	struct xarray objs;		/* id -> named object */
	u32 next_id;
};

static DEFINE_MUTEX(ksync_registry_lock);
/*
 * Creators of names, one at a time, outside the registry lock: a new
 * object (a queue's ring: up to 64 MiB of vmalloc, with reclaim) is made
 * for a name found missing, and nobody else makes one for it meanwhile,
 * so nobody is charged for an object a faster creator made needless.
 */
static DEFINE_MUTEX(ksync_create_lock);
static LIST_HEAD(ksync_namespaces);
static LIST_HEAD(ksync_ns_gone);	/* emptied: mntput after unlocking */
/*
 * Unlinked objects whose name's reference is dropped after unlocking: the
 * last reference frees a queue's ring (vfree), which need not hold up
 * everyone else's names.
 */
static LIST_HEAD(ksync_put_later);
static unsigned int ksync_nr_foreign;	/* namespaces but the machine's */
static bool ksync_exiting;
static struct rhashtable ksync_names;

static void ksync_reap_work(struct work_struct *work);
/* deferrable: it need not wake an idle CPU, a dead namespace can wait */
static DECLARE_DEFERRABLE_WORK(ksync_reaper, ksync_reap_work);

/*
 * The registry of types, the one list of them in the module: a new type
 * is its own file, its line here and its declaration in ksync.h.
 */
static const struct ksync_type *const ksync_types[] = {
	&ksync_sem_type,
	&ksync_barrier_type,
	&ksync_queue_type,
	&ksync_event_type,
};

static const struct ksync_type *ksync_type_of(u32 type)
{
	int i;

	for (i = 0; i < ARRAY_SIZE(ksync_types); i++)
		if (ksync_types[i]->type == type)
			return ksync_types[i];
	return NULL;
}

/* The name table. */
struct ksync_key {
	const struct ksync_ns *ns;
	const char *name;
};

static u32 ksync_hash(const struct ksync_ns *ns, const char *name, u32 seed)
{
	return jhash(name, strlen(name), seed ^ hash_ptr(ns, 32));
}

static u32 ksync_key_hashfn(const void *data, u32 len, u32 seed)
{
	const struct ksync_key *key = data;

	return ksync_hash(key->ns, key->name, seed);
}

static u32 ksync_obj_hashfn(const void *data, u32 len, u32 seed)
{
	const struct ksync_obj *obj = data;

	return ksync_hash(obj->ns, obj->name, seed);
}

static int ksync_obj_cmpfn(struct rhashtable_compare_arg *arg, const void *ptr)
{
	const struct ksync_key *key = arg->key;
	const struct ksync_obj *obj = ptr;

	return obj->ns != key->ns || strcmp(obj->name, key->name);
}

static const struct rhashtable_params ksync_names_params = {
	.head_offset		= offsetof(struct ksync_obj, rnode),
	.hashfn			= ksync_key_hashfn,
	.obj_hashfn		= ksync_obj_hashfn,
	.obj_cmpfn		= ksync_obj_cmpfn,
	.automatic_shrinking	= true,
};

static struct ksync_obj *ksync_lookup(const struct ksync_ns *ns,
				      const char *name)
{
	struct ksync_key key = { .ns = ns, .name = name };

	lockdep_assert_held(&ksync_registry_lock);
	return rhashtable_lookup_fast(&ksync_names, &key, ksync_names_params);
}

/*
 * The caller's IPC namespace: its mqueue mount, whether it has died, and
 * the user namespace that owns it.  Without POSIX message queues there is
 * no mount to go by, and one namespace for the whole machine.
 */
#ifdef CONFIG_POSIX_MQUEUE
static struct vfsmount *ksync_ns_mnt(void)
{
	return current->nsproxy->ipc_ns->mq_mnt;
}

/* The machine's own IPC namespace never dies: nothing to watch there. */
static bool ksync_ns_foreign(const struct ksync_ns *ns)
{
	return ns->mnt != init_task.nsproxy->ipc_ns->mq_mnt;
}

static bool ksync_ns_dead(const struct ksync_ns *ns)
{
	/* set once by put_ipc_ns(), under a lock we cannot take: one way */
	return !READ_ONCE(ns->mnt->mnt_sb->s_fs_info);
}

static struct user_namespace *ksync_ns_owner(void)
{
	return current->nsproxy->ipc_ns->user_ns;
}
#else
static struct vfsmount *ksync_ns_mnt(void)
{
	return NULL;
}

static bool ksync_ns_foreign(const struct ksync_ns *ns)
{
	return false;
}

static bool ksync_ns_dead(const struct ksync_ns *ns)
{
	return false;
}

static struct user_namespace *ksync_ns_owner(void)
{
	return &init_user_ns;
}
#endif

/*
 * The caller's names, or NULL (or, with create, a new empty set).  A
 * linear search: only namespaces that hold names are on the list, and
 * ksync_reap() walks it anyway.
 */
static struct ksync_ns *ksync_ns_find(bool create)
{
	struct vfsmount *mnt = ksync_ns_mnt();
	struct ksync_ns *ns;

	lockdep_assert_held(&ksync_registry_lock);
	list_for_each_entry(ns, &ksync_namespaces, link)
		if (ns->mnt == mnt)
			return ns;
	if (!create)
		return NULL;
	ns = kzalloc(sizeof(*ns), GFP_KERNEL_ACCOUNT);
	if (!ns)
		return ERR_PTR(-ENOMEM);
	ns->mnt = mntget(mnt);
	xa_init_flags(&ns->objs, XA_FLAGS_ALLOC1);
	list_add(&ns->link, &ksync_namespaces);
	if (ksync_ns_foreign(ns))
		ksync_nr_foreign++;
	return ns;
}

/*
 * A namespace with no names left is forgotten; its mount is let go when
 * the lock is dropped (ksync_registry_leave).
 */
static void ksync_ns_put_if_empty(struct ksync_ns *ns)
{
	if (!xa_empty(&ns->objs))
		return;
	if (ksync_ns_foreign(ns))
		ksync_nr_foreign--;
	list_move(&ns->link, &ksync_ns_gone);
	xa_destroy(&ns->objs);
}

/*
 * Drop the name's reference (once the lock is dropped); the object lives
 * on while fds hold it.
 */
static void ksync_unhash(struct ksync_obj *obj)
{
	lockdep_assert_held(&ksync_registry_lock);
	rhashtable_remove_fast(&ksync_names, &obj->rnode, ksync_names_params);
	xa_erase(&obj->ns->objs, obj->id);
	WRITE_ONCE(obj->linked, false);
	list_add(&obj->put_link, &ksync_put_later);
}

static void ksync_ns_clear(struct ksync_ns *ns)
{
	struct ksync_obj *obj;
	unsigned long id;

	xa_for_each(&ns->objs, id, obj)
		ksync_unhash(obj);
	ksync_ns_put_if_empty(ns);
}

/* Free the names of every namespace that has died since we last looked. */
static void ksync_reap(void)
{
	struct ksync_ns *ns, *tmp;

	lockdep_assert_held(&ksync_registry_lock);
	list_for_each_entry_safe(ns, tmp, &ksync_namespaces, link)
		if (ksync_ns_dead(ns))
			ksync_ns_clear(ns);
}

/* Every registry operation: take the lock, then drop what died. */
static void ksync_registry_enter(void)
{
	mutex_lock(&ksync_registry_lock);
	ksync_reap();
}

/*
 * Drop the lock, then let go of emptied namespaces' mounts: for a dead
 * namespace the last mntput tears down its mqueue filesystem there and
 * then, which need not hold up the registry.  While other namespaces than
 * the machine's hold names, look again for dead ones in a second.
 */
static void ksync_registry_leave(void)
{
	struct ksync_obj *obj, *next;
	struct ksync_ns *ns, *tmp;
	LIST_HEAD(unlinked);
	LIST_HEAD(gone);
	bool watch;

	list_splice_init(&ksync_ns_gone, &gone);
	list_splice_init(&ksync_put_later, &unlinked);
	watch = ksync_nr_foreign && !ksync_exiting;
	mutex_unlock(&ksync_registry_lock);
	list_for_each_entry_safe(obj, next, &unlinked, put_link)
		ksync_obj_put(obj);
	list_for_each_entry_safe(ns, tmp, &gone, link) {
		mntput(ns->mnt);
		kfree(ns);
	}
	if (watch)
		queue_delayed_work(system_wq, &ksync_reaper,
				   round_jiffies_relative(HZ));
}

static void ksync_reap_work(struct work_struct *work)
{
	ksync_registry_enter();
	ksync_registry_leave();
}

/*
 * POSIX IPC rules: the owner's bits for the owner, else the group's for a
 * member, else the others'; want is 04 (read), 02 (write) or both.
 */
static bool ksync_mode_allows(const struct ksync_obj *obj, umode_t want)
{
	umode_t granted = obj->mode;

	if (uid_eq(current_euid(), obj->uid))
		granted >>= 6;
	else if (in_egroup_p(obj->gid))
		granted >>= 3;
	return (granted & want) == want;
}

/*
 * CAP_IPC_OWNER in the user namespace that owns the caller's IPC namespace
 * overrides the mode: root in a container manages its own names, and no
 * others (names are per IPC namespace, so it can find no others).
 */
static bool ksync_may_open(const struct ksync_obj *obj, umode_t want)
{
	return ksync_mode_allows(obj, want) ||
	       ns_capable(ksync_ns_owner(), CAP_IPC_OWNER);
}

/*
 * What an open asks for: a queue's roles, as mq_open's O_WRONLY (write)
 * and O_RDONLY (read); everything else, and a two-way queue fd, both.
 */
static umode_t ksync_open_access(u32 flags)
{
	umode_t want = (flags & KSYNC_OPEN_SEND ? 02 : 0) |
		       (flags & KSYNC_OPEN_RECV ? 04 : 0);

	return want ? want : 06;
}

static bool ksync_may_unlink(const struct ksync_obj *obj)
{
	return uid_eq(current_euid(), obj->uid) ||
	       ns_capable(ksync_ns_owner(), CAP_IPC_OWNER);
}

/* Its owner, those who may read it, and CAP_IPC_OWNER may list it. */
static bool ksync_may_see(const struct ksync_obj *obj)
{
	return uid_eq(current_euid(), obj->uid) || ksync_mode_allows(obj, 04) ||
	       ns_capable_noaudit(ksync_ns_owner(), CAP_IPC_OWNER);
}

/* Link a new object under its name in ns: the name takes a reference. */
static int ksync_link(struct ksync_ns *ns, struct ksync_obj *obj)
{
	int ret;

	obj->ns = ns;
	ret = xa_alloc_cyclic(&ns->objs, &obj->id, obj, xa_limit_32b,
			      &ns->next_id, GFP_KERNEL_ACCOUNT);
	if (ret < 0)
		return ret == -EBUSY ? -ENOSPC : ret;
	ret = rhashtable_insert_fast(&ksync_names, &obj->rnode,
				     ksync_names_params);
	if (ret) {
		xa_erase(&ns->objs, obj->id);
		return ret == -ENOMEM ? ret : -ENOSPC;
	}
	obj->linked = true;
	kref_get(&obj->ref);
	return 0;
}

/* An existing name: the checks of POSIX IPC, in sem_open's order. */
static struct file *ksync_open_existing(struct ksync_obj *obj,
					const struct ksync_type *ops,
					const struct ksync_open_args *args)
{
	struct file *file;

	if ((args->flags & (KSYNC_OPEN_CREATE | KSYNC_OPEN_EXCL)) ==
	    (KSYNC_OPEN_CREATE | KSYNC_OPEN_EXCL))
		return ERR_PTR(-EEXIST);
	if (obj->ops != ops)
		return ERR_PTR(-EPROTOTYPE);
	if (!ksync_may_open(obj, ksync_open_access(args->flags)))
		return ERR_PTR(-EACCES);
	/* the mapping does what both roles do: only for who may do both */
	file = ksync_obj_file(obj, args->flags |
			      (ksync_mode_allows(obj, 06) ||
			       ns_capable_noaudit(ksync_ns_owner(), CAP_IPC_OWNER) ?
			       0 : KSYNC_FILE_NOMAP));
	if (!IS_ERR(file))
		kref_get(&obj->ref);
	return file;
}

/* A new object for a name, which it frees from now on. */
static struct ksync_obj *ksync_obj_new_named(const struct ksync_type *ops,
					     const struct ksync_open_args *args,
					     const char *name)
{
	struct ksync_obj *obj = ksync_obj_new(ops, args);

	if (IS_ERR(obj))
		return obj;
	obj->name = kstrdup(name, GFP_KERNEL_ACCOUNT);
	if (!obj->name) {
		ksync_obj_put(obj);
		return ERR_PTR(-ENOMEM);
	}
	return obj;
}

/*
 * Under the registry lock: give the new object its name and its first
 * file.  The name takes a reference of its own; the file takes the
 * creation one.  On failure *put is the object, for the caller to put
 * once unlocked.
 */
static struct file *ksync_publish(struct ksync_ns *ns, struct ksync_obj *obj,
				  const struct ksync_open_args *args,
				  struct ksync_obj **put)
{
	struct file *file;
	int ret;

	lockdep_assert_held(&ksync_registry_lock);
	ret = ksync_link(ns, obj);
	if (ret) {
		*put = obj;
		return ERR_PTR(ret);
	}
	file = ksync_obj_file(obj, args->flags);
	if (IS_ERR(file)) {
		ksync_unhash(obj);
		*put = obj;
	}
	return file;
}

/*
 * Find or create the object, then wrap it in a new file.  The lookup, the
 * link and the file are made under the registry lock, so a failed open
 * never leaves a new name behind; a new object is made before, under the
 * creators' lock, so two creators of one name cannot both succeed and
 * nobody is charged for an object it did not need.
 */
static struct file *ksync_open_named(const struct ksync_type *ops,
				     const struct ksync_open_args *args,
				     const char *name)
{
	struct ksync_obj *obj, *new = NULL;
	bool creator = false;
	struct ksync_ns *ns;
	struct file *file;

again:
	ksync_registry_enter();
	ns = ksync_ns_find(false);
	obj = ns ? ksync_lookup(ns, name) : NULL;
	if (obj) {
		/* (a creator that lost the race gets EEXIST here with EXCL) */
		file = ksync_open_existing(obj, ops, args);
		goto out;
	}
	if (!(args->flags & KSYNC_OPEN_CREATE)) {
		file = ERR_PTR(-ENOENT);
		goto out;
	}
	if (!creator) {
		/* one creator at a time; then look again */
		ksync_registry_leave();
		mutex_lock(&ksync_create_lock);
		creator = true;
		goto again;
	}
	if (!new) {
		/*
		 * Make it unlocked: that must not hold up everyone's names.
		 * No other creator can make this name meanwhile.
		 */
		ksync_registry_leave();
		new = ksync_obj_new_named(ops, args, name);
		if (IS_ERR(new)) {
			mutex_unlock(&ksync_create_lock);
			return ERR_CAST(new);
		}
		goto again;
	}
	ns = ksync_ns_find(true);
	if (IS_ERR(ns)) {
		file = ERR_CAST(ns);
		goto out;
	}
	obj = new;
	new = NULL;
	file = ksync_publish(ns, obj, args, &new);
	ksync_ns_put_if_empty(ns);
out:
	ksync_registry_leave();
	if (creator)
		mutex_unlock(&ksync_create_lock);
	if (new)
		ksync_obj_put(new);
	return file;
}

static struct file *ksync_open_anon(const struct ksync_type *ops,
				    const struct ksync_open_args *args)
{
	struct ksync_obj *obj = ksync_obj_new(ops, args);
	struct file *file;

	if (IS_ERR(obj))
		return ERR_CAST(obj);
	file = ksync_obj_file(obj, args->flags);
	if (IS_ERR(file))
		ksync_obj_put(obj);
	return file;
}

int ksync_open(const struct ksync_open_args *args, const char *name)
{
	const struct ksync_type *ops = ksync_type_of(args->type);
	struct file *file;
	int fd, ret;

	if (!ops)
		return -EINVAL;
	if (args->flags & ~(KSYNC_OPEN_CREATE | KSYNC_OPEN_EXCL |
			    KSYNC_OPEN_CLOEXEC | ops->open_flags))
		return -EINVAL;
	/* an anonymous open always creates, with or without CREATE */
	ret = ops->check(args, !name || args->flags & KSYNC_OPEN_CREATE);
	if (ret)
		return ret;
	/* every type's parameters fit in the union's first 8 bytes */
	if (memchr_inv(args->reserved + 1, 0, sizeof(args->reserved) -
		       sizeof(args->reserved[0])))
		return -EINVAL;
	fd = get_unused_fd_flags(O_RDWR |
				 (args->flags & KSYNC_OPEN_CLOEXEC ? O_CLOEXEC : 0));
	if (fd < 0)
		return fd;
	file = name ? ksync_open_named(ops, args, name) :
		      ksync_open_anon(ops, args);
	if (IS_ERR(file)) {
		put_unused_fd(fd);
		return PTR_ERR(file);
	}
	ksync_obj_opened(file);
	fd_install(fd, file);
	return fd;
}

int ksync_unlink(const char *name)
{
	struct ksync_obj *obj = NULL;
	struct ksync_ns *ns;
	int ret = 0;

	ksync_registry_enter();
	ns = ksync_ns_find(false);
	if (ns)
		obj = ksync_lookup(ns, name);
	if (!obj) {
		ret = -ENOENT;
	} else if (!ksync_may_unlink(obj)) {
		ret = -EACCES;
	} else {
		ksync_unhash(obj);
		ksync_ns_put_if_empty(ns);
	}
	ksync_registry_leave();
	return ret;
}

/*
 * Listing.  Entries are gathered under the lock into a kernel buffer and
 * copied out after it, so that a slow (or userfaultfd-stalled) buffer
 * cannot hold the registry.  A batch is bounded; callers loop.
 */
#define KSYNC_LIST_BATCH	64

/* A caller of the first ABI gets the entry up to its name. */
static_assert(offsetof(struct ksync_list_entry, ctime) == KSYNC_LIST_ENTRY_SIZE_V1);

static void ksync_fill_entry(struct ksync_list_entry *e, struct ksync_obj *obj)
{
	struct user_namespace *uns = current_user_ns();

	memset(e, 0, sizeof(*e));
	e->id = obj->id;
	e->type = obj->ops->type;
	e->uid = from_kuid_munged(uns, obj->uid);
	e->gid = from_kgid_munged(uns, obj->gid);
	e->mode = obj->mode;
	e->handles = atomic_read(&obj->files);
	strscpy(e->name, obj->name, sizeof(e->name));
	e->ctime = obj->ctime;
	e->cpid = ksync_obj_cpid(obj);
}

/*
 * The registry's part under its lock, each object's own part (which takes
 * the object's lock: a queue's is a mutex) after it, holding a reference.
 */
static unsigned int ksync_gather(struct ksync_list_entry *buf, unsigned int max,
				 u64 cursor)
{
	struct ksync_obj *objs[KSYNC_LIST_BATCH];
	unsigned long id = cursor + 1;
	struct ksync_obj *obj;
	struct ksync_ns *ns;
	unsigned int n = 0, i;

	if (cursor >= U32_MAX)
		return 0;
	max = min_t(unsigned int, max, KSYNC_LIST_BATCH);
	ksync_registry_enter();
	ns = ksync_ns_find(false);
	if (ns) {
		xa_for_each_start(&ns->objs, id, obj, id) {
			if (!ksync_may_see(obj))
				continue;
			ksync_fill_entry(&buf[n], obj);
			kref_get(&obj->ref);
			objs[n] = obj;
			if (++n == max)
				break;
		}
	}
	ksync_registry_leave();
	for (i = 0; i < n; i++) {
		struct ksync_snap s;

		ksync_snapshot(objs[i], NULL, &s, NULL);
		objs[i]->ops->summary(&s, &buf[i]);
		ksync_obj_put(objs[i]);
	}
	return n;
}

long ksync_list(void __user *uarg)
{
	struct ksync_list_args __user *uargs = uarg;
	struct ksync_list_entry *buf;
	struct ksync_list_args args;
	unsigned int n, max;
	long ret;

	ret = ksync_copy_args(&args, sizeof(args), sizeof(args), uarg);
	if (ret)
		return ret;
	if (args.flags || !args.count || args.entry_size < KSYNC_LIST_ENTRY_SIZE_V1 ||
	    args.entry_size > PAGE_SIZE)
		return -EINVAL;
	max = min_t(u32, args.count, KSYNC_LIST_BATCH);
	buf = kvcalloc(max, sizeof(*buf), GFP_KERNEL_ACCOUNT);
	if (!buf)
		return -ENOMEM;
	n = ksync_gather(buf, max, args.cursor);
	if (ksync_copy_entries(u64_to_user_ptr(args.entries), buf, n, sizeof(*buf),
			       args.entry_size)) {
		ret = -EFAULT;
		goto out;
	}
	if (n) {
		args.cursor = buf[n - 1].id;
		if (put_user(args.cursor, &uargs->cursor)) {
			ret = -EFAULT;
			goto out;
		}
	}
	ret = n;
out:
	kvfree(buf);
	return ret;
}

int ksync_registry_init(void)
{
	return rhashtable_init(&ksync_names, &ksync_names_params);
}

/* Module exit: no fd is open, so dropping the names frees everything. */
void ksync_registry_exit(void)
{
	struct ksync_ns *ns, *tmp;

	mutex_lock(&ksync_registry_lock);
	ksync_exiting = true;	/* the reaper does not come back */
	mutex_unlock(&ksync_registry_lock);
	cancel_delayed_work_sync(&ksync_reaper);

	mutex_lock(&ksync_registry_lock);
	list_for_each_entry_safe(ns, tmp, &ksync_namespaces, link)
		ksync_ns_clear(ns);
	ksync_registry_leave();
	rhashtable_destroy(&ksync_names);
}
