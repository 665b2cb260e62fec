// SPDX-License-Identifier: GPL-2.0
/*
 * Objects as files: reference counts, the anon-inode fd each open returns,
 * and the dispatch of ioctl, poll and fdinfo to the object's type.
 */
#include <linux/anon_inodes.h>
#include <linux/cred.h>
#include <linux/fs_struct.h>
#include <linux/module.h>
#include <linux/poll.h>
#include <linux/seq_file.h>
#include <linux/slab.h>
#include <linux/uaccess.h>
#include <linux/user_namespace.h>

#include "ksync.h"

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
 * Copy a size-prefixed struct from userspace (every argument struct starts
 * with its __u32 size).  Older callers may pass a smaller struct than ours
 * (we zero the rest; below min is -EINVAL), newer ones a larger one as
 * long as what we do not understand is zero.  PAGE_SIZE bounds the work.
 */
int ksync_copy_args(void *dst, size_t ksize, size_t min, const void __user *src)
{
	u32 usize;
	int ret;

	if (get_user(usize, (const u32 __user *)src))
		return -EFAULT;
	if (usize < min || usize > PAGE_SIZE)
		return -EINVAL;
	ret = copy_struct_from_user(dst, ksize, src, usize);
	return ret == -E2BIG ? -EINVAL : ret;
}

/*
 * Copy n entries of ksize bytes from buf out to an array whose entries are
 * usize bytes, as the caller knows them: a longer entry than ours gets
 * zeros past what we know, a shorter one (an older caller's) what fits.
 * For KSYNC_IOC_LIST and KSYNC_IOC_WHO, which check usize first.
 */
int ksync_copy_entries(void __user *dst, const void *buf, u32 n, size_t ksize,
		       size_t usize)
{
	size_t copy = min(ksize, usize);
	char __user *out = dst;
	u32 i;

	for (i = 0; i < n; i++, out += usize, buf += ksize)
		if (copy_to_user(out, buf, copy) || clear_user(out + copy, usize - copy))
			return -EFAULT;
	return 0;
}

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

static int ksync_get_info(struct ksync_file *kf, void __user *uarg)
{
	struct ksync_obj *obj = kf->obj;
	struct ksync_info info = {
		.type	= obj->ops->type,
		.flags	= kf->flags & (KSYNC_OPEN_UNDO | KSYNC_OPEN_KERNEL |
				   KSYNC_OPEN_SEND | KSYNC_OPEN_RECV),
		.uid	= from_kuid_munged(current_user_ns(), obj->uid),
		.gid	= from_kgid_munged(current_user_ns(), obj->gid),
		.mode	= obj->mode,
	};

	return copy_to_user(uarg, &info, sizeof(info)) ? -EFAULT : 0;
}

static long ksync_file_ioctl(struct file *file, unsigned int cmd,
			     unsigned long arg)
{
	struct ksync_file *kf = file->private_data;

	if (cmd == KSYNC_IOC_INFO)
		return ksync_get_info(kf, (void __user *)arg);
	if (KSYNC_CMD_NOSIZE(cmd) == KSYNC_CMD_NOSIZE(KSYNC_IOC_WHO))
		return ksync_who(kf, (void __user *)arg);
	return kf->obj->ops->ioctl(kf, cmd, (void __user *)arg);
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

	/* the name lives as long as the object: no lock needed to read it */
	seq_puts(m, "ksync-name:\t");
	if (obj->name)
		ksync_seq_name(m, obj->name);
	seq_printf(m, "\nksync-linked:\t%d\n", READ_ONCE(obj->linked));
	seq_printf(m, "ksync-undo:\t%d\n", !!(kf->flags & KSYNC_OPEN_UNDO));
	obj->ops->fdinfo(m, kf);
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
