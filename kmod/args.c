// SPDX-License-Identifier: GPL-2.0
/*
 * Arguments: size-prefixed structs copied in, arrays of entries copied
 * out, each as the caller's version of the ABI knows them.
 */
#include <linux/minmax.h>
#include <linux/uaccess.h>

#include "ksync.h"

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
