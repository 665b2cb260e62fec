// SPDX-License-Identifier: GPL-2.0
/*
 * Objects as files: the anon-inode fd each open returns, and the dispatch
 * of ioctl, poll, mmap and fdinfo to the object's type.  The hub of the
 * object core: it calls the leaves (lifetime.c, args.c, shm.c, who.c) and
 * the types' hooks, and nothing calls back into it but to make a file.
 */
#include <linux/anon_inodes.h>
#include <linux/cred.h>
#include <linux/fs_struct.h>
#include <linux/math64.h>
#include <linux/module.h>
#include <linux/poll.h>
#include <linux/seq_file.h>
#include <linux/slab.h>
#include <linux/uaccess.h>
#include <linux/user_namespace.h>

#include "ksync.h"

static int ksync_file_release(struct inode *inode, struct file *file)
{
	struct ksync_file *kf = file->private_data;
	struct ksync_obj *obj = kf->obj;

	if (obj->ops->release)
		obj->ops->release(kf);
	atomic_dec(&obj->files);
	kfree(kf);
	ksync_obj_put(obj);
	return 0;
}

/*
 * Called at every close of an fd of the file, by the closing task, also
 * when it closes its fds at exit or exec: the barrier learns here that a
 * party's process no longer holds it, which the file's release (that
 * another process may hold back) would say too late or never.
 */
static int ksync_file_flush(struct file *file, fl_owner_t id)
{
	struct ksync_file *kf = file->private_data;

	if (kf->obj->ops->flush)
		kf->obj->ops->flush(kf, file);
	return 0;
}

static void ksync_fill_info(struct ksync_file *kf, struct ksync_info *info)
{
	struct ksync_obj *obj = kf->obj;

	*info = (struct ksync_info) {
		.type	= obj->ops->type,
		.flags	= kf->flags & (KSYNC_OPEN_UNDO | KSYNC_OPEN_KERNEL |
				   KSYNC_OPEN_SEND | KSYNC_OPEN_RECV),
		.uid	= from_kuid_munged(current_user_ns(), obj->uid),
		.gid	= from_kgid_munged(current_user_ns(), obj->gid),
		.mode	= obj->mode,
		.ctime	= obj->ctime,
		.cpid	= ksync_obj_cpid(obj),
		.serial	= obj->serial,
	};
}

static long ksync_get_info(struct ksync_file *kf, void __user *uarg)
{
	struct ksync_info info;

	ksync_fill_info(kf, &info);
	return copy_to_user(uarg, &info, sizeof(info)) ? -EFAULT : 0;
}

/* The struct as it was before 0.4, for programs built then. */
static_assert(offsetof(struct ksync_info, serial) == KSYNC_INFO_SIZE_V0);

static long ksync_get_info_v0(struct ksync_file *kf, void __user *uarg)
{
	struct ksync_info info;

	ksync_fill_info(kf, &info);
	return copy_to_user(uarg, &info, KSYNC_INFO_SIZE_V0) ? -EFAULT : 0;
}

/*
 * A type's KSYNC_IOC_*_INFO, in its table: the INFO struct at the start
 * of its snapshot.
 */
long ksync_info_ioctl(struct ksync_file *kf, void __user *uarg)
{
	const struct ksync_type *ops = kf->obj->ops;
	struct ksync_snap s;

	ksync_snapshot(kf->obj, kf, &s, NULL);
	return copy_to_user(uarg, s.data, ops->info_size) ? -EFAULT : 0;
}

/*
 * The wait on several objects on an object's fd as on /dev/ksync: the
 * library then needs no open of the device per call.  The fd is only the
 * way in; the call names its objects itself.
 */
static long ksync_obj_wait_any(struct ksync_file *kf, void __user *uarg)
{
	return ksync_wait_any(uarg);
}

/* Every object's ioctls, looked at before its type's. */
static const struct ksync_cmd ksync_common_cmds[] = {
	{ KSYNC_IOC_INFO,	ksync_get_info },
	{ KSYNC_IOC_INFO_V0,	ksync_get_info_v0 },
	{ KSYNC_IOC_WAIT_ANY,	ksync_obj_wait_any },
	{ KSYNC_IOC_WHO,	ksync_who },
};

static const struct ksync_cmd *ksync_cmd_find(const struct ksync_cmd *t,
					      unsigned int n, unsigned int cmd)
{
	for (; n; n--, t++) {
		if (_IOC_DIR(t->cmd) & _IOC_WRITE ?
		    KSYNC_CMD_NOSIZE(cmd) == KSYNC_CMD_NOSIZE(t->cmd) :
		    cmd == t->cmd)
			return t;
	}
	return NULL;
}

static long ksync_file_ioctl(struct file *file, unsigned int cmd,
			     unsigned long arg)
{
	struct ksync_file *kf = file->private_data;
	const struct ksync_type *ops = kf->obj->ops;
	const struct ksync_cmd *c;

	c = ksync_cmd_find(ksync_common_cmds, ARRAY_SIZE(ksync_common_cmds), cmd);
	if (!c)
		c = ksync_cmd_find(ops->cmds, ops->nr_cmds, cmd);
	return c ? c->fn(kf, (void __user *)arg) : -ENOTTY;
}

static __poll_t ksync_file_poll(struct file *file, struct poll_table_struct *pt)
{
	struct ksync_file *kf = file->private_data;

	poll_wait(file, &kf->obj->poll_wq, pt);
	return kf->obj->ops->poll(kf, poll_requested_events(pt));
}

static int ksync_file_mmap(struct file *file, struct vm_area_struct *vma)
{
	return ksync_shm_mmap(file->private_data, vma);
}

/*
 * Names may hold any byte but '/' and NUL: print them as /proc/mounts
 * prints paths, with space, control and non-ASCII bytes and the backslash
 * escaped in octal, so that a name cannot forge a line of fdinfo.
 */
static void ksync_seq_name(struct seq_file *m, const char *name)
{
	for (; *name; name++) {
		unsigned char c = *name;

		if (c > ' ' && c < 0x7f && c != '\\')
			seq_putc(m, c);
		else
			seq_printf(m, "\\%03o", c);
	}
}

static void ksync_file_fdinfo(struct seq_file *m, struct file *file)
{
	struct ksync_file *kf = file->private_data;
	struct ksync_obj *obj = kf->obj;
	struct ksync_snap s;
	u32 nsec;
	u64 sec;

	/* the name lives as long as the object: no lock needed to read it */
	seq_puts(m, "ksync-name:\t");
	if (obj->name)
		ksync_seq_name(m, obj->name);
	seq_printf(m, "\nksync-linked:\t%d\n", READ_ONCE(obj->linked));
	seq_printf(m, "ksync-undo:\t%d\n", !!(kf->flags & KSYNC_OPEN_UNDO));
	sec = div_u64_rem(obj->ctime, NSEC_PER_SEC, &nsec);
	seq_printf(m, "ksync-ctime:\t%llu.%09u\nksync-cpid:\t%u\n", sec, nsec,
		   ksync_obj_cpid(obj));
	seq_printf(m, "ksync-serial:\t%llu\n", obj->serial);
	ksync_snapshot(obj, kf, &s, NULL);
	obj->ops->fdinfo(m, &s);
}

static const struct file_operations ksync_obj_fops = {
	.owner		= THIS_MODULE,
	.release	= ksync_file_release,
	.flush		= ksync_file_flush,
	.unlocked_ioctl	= ksync_file_ioctl,
	.compat_ioctl	= compat_ptr_ioctl,
	.poll		= ksync_file_poll,
	.mmap		= ksync_file_mmap,
	.show_fdinfo	= ksync_file_fdinfo,
	.llseek		= noop_llseek,
};

/* The ksync object file behind file, or NULL if it is another kind. */
struct ksync_file *ksync_file_of(struct file *file)
{
	return file->f_op == &ksync_obj_fops ? file->private_data : NULL;
}

/* A new file on obj; on success it owns one reference the caller gave it. */
struct file *ksync_obj_file(struct ksync_obj *obj, u32 flags)
{
	struct ksync_file *kf;
	struct file *file;

	kf = kzalloc(sizeof(*kf), GFP_KERNEL_ACCOUNT);
	if (!kf)
		return ERR_PTR(-ENOMEM);
	kf->obj = obj;
	kf->flags = flags & KSYNC_FILE_FLAGS;
	file = anon_inode_getfile(obj->ops->name, &ksync_obj_fops, kf, O_RDWR);
	if (IS_ERR(file)) {
		kfree(kf);
		return file;
	}
	kf->file = file;
	atomic_inc(&obj->files);
	return file;
}

/*
 * The type's part of a new file, once no registry lock is held (a
 * queue's may walk its ring) and before the fd is installed: nothing
 * else can reach the file yet, and nothing fails after this.
 */
void ksync_obj_opened(struct file *file)
{
	struct ksync_file *kf = file->private_data;

	if (kf->obj->ops->opened)
		kf->obj->ops->opened(kf);
}
