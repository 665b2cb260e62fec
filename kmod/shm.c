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

	if (vmf->pgoff >= obj->ops->shm_pages)
		return VM_FAULT_SIGBUS;
	page = obj->ops->page(obj, vmf->pgoff);
	get_page(page);
	vmf->page = page;
	return 0;
}

static const struct vm_operations_struct ksync_shm_vm_ops = {
	.fault = ksync_shm_fault,
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
 * The whole of the object's pages, shared, at offset 0, never executable
 * (nor made so later: VM_MAYEXEC goes, so mprotect gives -EACCES).
 */
int ksync_shm_mmap(struct ksync_file *kf, struct vm_area_struct *vma)
{
	struct ksync_obj *obj = kf->obj;
	unsigned long pages = vma_pages(vma);
	struct file *mapf;

	if (!obj->ops->shm_pages)
		return -ENODEV;
	if (vma->vm_pgoff || pages != obj->ops->shm_pages)
		return -EINVAL;
	if (!(vma->vm_flags & VM_SHARED))
		return -EINVAL;
	if (vma->vm_flags & VM_EXEC)
		return -EPERM;

	mapf = ksync_shm_file(obj);
	if (IS_ERR(mapf))
		return PTR_ERR(mapf);
	vma_set_file(vma, mapf);
	fput(mapf);	/* the vma holds its own reference now */
	ksync_vm_flags_mod(vma, VM_DONTEXPAND, VM_MAYEXEC);
	vma->vm_ops = &ksync_shm_vm_ops;
	return 0;
}
