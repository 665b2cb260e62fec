// SPDX-License-Identifier: GPL-2.0
/*
 * The pages an object shares with userspace: mmap and page faults.
 *
 * A mapping must not keep the object's *fd* alive.  A vma holds a
 * reference to its vm_file, so had we left the object fd there, a process
 * that closed the fd but kept the mapping (a daemon-style child that
 * closes every fd after fork) would hold back what the fd's last close
 * does: giving back UNDO permits, and soon a barrier party's death and a
 * queue's automatic EOF.  So mmap swaps the vma's file for a small file of
 * its own ("[ksync-map]") that pins only the object, and with it the
 * pages.  The object fd's release then runs when its last fd is closed,
 * whoever still maps the pages.
 *
 * One such file serves every mapping of an object: obj->mapf points at it
 * without holding it (the vmas do), and its release clears the pointer.
 * So mmap cannot be used to make struct files that no fd limit counts.
 *
 * Pages are inserted on fault, not at mmap time, so that a mapping zapped
 * by MADV_DONTNEED (or anything else) simply faults the same page back.
 */
#include <linux/anon_inodes.h>
#include <linux/file.h>
#include <linux/mm.h>
#include <linux/module.h>

#include "compat.h"
#include "ksync.h"

static vm_fault_t ksync_shm_fault(struct vm_fault *vmf)
{
	struct ksync_obj *obj = vmf->vma->vm_file->private_data;
	struct page *page;

	if (vmf->pgoff >= obj->shm_pages + obj->shm_ro_pages)
		return VM_FAULT_SIGBUS;
	/* (mmap let no writable vma reach them; a second lock on that door) */
	if (vmf->pgoff >= obj->shm_pages && (vmf->vma->vm_flags & VM_MAYWRITE))
		return VM_FAULT_SIGBUS;
	page = obj->ops->page(obj, vmf->pgoff);
	get_page(page);
	vmf->page = page;
	return 0;
}

/*
 * A process that changed the shared state may owe others a wake-up it did
 * not live to give (a receiver killed between taking a message and waking
 * the senders): its mappings go before its fds at exit, and a mapping may
 * be all it had.  Runs under mmap_lock.  (A vma with a close is never
 * merged again: a mapping split by mprotect stays in pieces, each of which
 * settles when it goes.)
 */
static void ksync_shm_close(struct vm_area_struct *vma)
{
	struct ksync_obj *obj = vma->vm_file->private_data;

	/* (a read-only page's mapper cannot have changed anything) */
	if (obj->ops->unmapped && vma->vm_pgoff < obj->shm_pages)
		obj->ops->unmapped(obj);
}

static const struct vm_operations_struct ksync_shm_vm_ops = {
	.fault = ksync_shm_fault,
	.close = ksync_shm_close,
};

/* The mapping's file: its only job is to hold the object. */
static int ksync_shm_release(struct inode *inode, struct file *file)
{
	struct ksync_obj *obj = file->private_data;

	mutex_lock(&obj->map_lock);
	if (obj->mapf == file)
		obj->mapf = NULL;
	mutex_unlock(&obj->map_lock);
	ksync_obj_put(obj);
	return 0;
}

static const struct file_operations ksync_shm_fops = {
	.owner		= THIS_MODULE,
	.release	= ksync_shm_release,
	.llseek		= noop_llseek,
};

/*
 * The object's map file, with a reference for the caller: the one that
 * exists, unless its last reference is already gone (it is being
 * released: its release will clear obj->mapf under map_lock), else a new one.
 */
static struct file *ksync_shm_file(struct ksync_obj *obj)
{
	struct file *mapf;

	mutex_lock(&obj->map_lock);
	mapf = obj->mapf;
	if (!mapf || !ksync_get_file_unless_zero(mapf)) {
		kref_get(&obj->ref);
		mapf = anon_inode_getfile("[ksync-map]", &ksync_shm_fops, obj,
					  O_RDWR);
		if (!IS_ERR(mapf))
			obj->mapf = mapf;
	}
	mutex_unlock(&obj->map_lock);
	if (IS_ERR(mapf))
		ksync_obj_put(obj);	/* the reference the file did not take */
	return mapf;
}

/*
 * The whole of the object's shared pages at offset 0, or the whole of its
 * read-only pages at their offset, shared, never executable (nor made so
 * later: VM_MAYEXEC goes, so mprotect gives -EACCES).  The read-only pages
 * hold words only the module writes: mmap refuses to map them writable,
 * and mprotect to make them so (VM_MAYWRITE goes).  (/proc/pid/mem's
 * forced writes never reach a shared mapping without VM_WRITE: it is not
 * a copy-on-write mapping.)
 */
int ksync_shm_mmap(struct ksync_file *kf, struct vm_area_struct *vma)
{
	struct ksync_obj *obj = kf->obj;
	unsigned long pages = vma_pages(vma);
	struct file *mapf;

	if (!obj->shm_pages)
		return -ENODEV;
	/* the fd promised to go through the module for everything */
	if (kf->flags & KSYNC_OPEN_KERNEL)
		return -EPERM;
	/* the ring lets its mapper send and receive, whatever the fd's role */
	if (kf->flags & KSYNC_FILE_NOMAP)
		return -EACCES;
	if (!(vma->vm_flags & VM_SHARED))
		return -EINVAL;
	if (vma->vm_flags & VM_EXEC)
		return -EPERM;
	if (vma->vm_pgoff == obj->shm_pages && obj->shm_ro_pages) {
		if (pages != obj->shm_ro_pages)
			return -EINVAL;
		if (vma->vm_flags & VM_WRITE)
			return -EACCES;
		ksync_vm_flags_mod(vma, 0, VM_MAYWRITE);
	} else if (vma->vm_pgoff || pages != obj->shm_pages) {
		return -EINVAL;
	}

	mapf = ksync_shm_file(obj);
	if (IS_ERR(mapf))
		return PTR_ERR(mapf);
	vma_set_file(vma, mapf);
	fput(mapf);	/* the vma holds its own reference now */
	ksync_vm_flags_mod(vma, VM_DONTEXPAND, VM_MAYEXEC);
	vma->vm_ops = &ksync_shm_vm_ops;
	return 0;
}
