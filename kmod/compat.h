/* SPDX-License-Identifier: GPL-2.0 */
/* What differs between the kernels ksync builds on (6.1 to 6.12). */
#ifndef KSYNC_COMPAT_H
#define KSYNC_COMPAT_H

#include <linux/fs.h>
#include <linux/mm.h>

/*
 * vma->vm_flags became read-only behind wrappers in 6.3.  Kbuild looks for
 * the wrappers in the headers (version numbers lie about backports).
 */
static inline void ksync_vm_flags_mod(struct vm_area_struct *vma,
				      vm_flags_t set, vm_flags_t clear)
{
#ifdef KSYNC_HAVE_VM_FLAGS_MOD
	vm_flags_mod(vma, set, clear);
#else
	vma->vm_flags = (vma->vm_flags | set) & ~clear;
#endif
}

/* A reference to a file whose count may already have dropped to zero. */
static inline bool ksync_get_file_unless_zero(struct file *file)
{
#ifdef KSYNC_HAVE_FILE_REF
	return file_ref_get(&file->f_ref);
#else
	return atomic_long_inc_not_zero(&file->f_count);
#endif
}

#endif /* KSYNC_COMPAT_H */
