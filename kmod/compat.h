/* SPDX-License-Identifier: GPL-2.0 */
/* What differs between the kernels ksync builds on (6.1 to 6.12). */
#ifndef KSYNC_COMPAT_H
#define KSYNC_COMPAT_H

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

#endif /* KSYNC_COMPAT_H */
