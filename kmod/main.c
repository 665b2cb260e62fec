// SPDX-License-Identifier: GPL-2.0
/*
 * /dev/ksync: the misc device.  Its only job is to turn names into object
 * fds (KSYNC_IOC_OPEN), to remove names (KSYNC_IOC_UNLINK), to list them
 * (KSYNC_IOC_LIST) and to tell the limits and who uses them
 * (KSYNC_IOC_LIMITS, _USAGE: limits.c); everything else happens on the
 * object fds (object.c).
 */
#define pr_fmt(fmt) KBUILD_MODNAME ": " fmt

#include <linux/miscdevice.h>
#include <linux/module.h>
#include <linux/slab.h>
#include <linux/uaccess.h>

#include "ksync.h"

/*
 * Names follow POSIX IPC: "/name", 1 to KSYNC_NAME_MAX bytes after the
 * slash, no further slash.  Returns a kmalloc'ed copy or an ERR_PTR.
 */
static char *ksync_get_name(u64 uptr)
{
	const char __user *uname = u64_to_user_ptr(uptr);
	char *name;
	long len;

	name = kmalloc(KSYNC_NAME_MAX + 2, GFP_KERNEL);
	if (!name)
		return ERR_PTR(-ENOMEM);
	len = strncpy_from_user(name, uname, KSYNC_NAME_MAX + 2);
	if (len < 0)
		goto err;
	if (len > KSYNC_NAME_MAX + 1) {
		len = -ENAMETOOLONG;
		goto err;
	}
	if (len < 2 || name[0] != '/' || strchr(name + 1, '/')) {
		len = -EINVAL;
		goto err;
	}
	return name;
err:
	kfree(name);
	return ERR_PTR(len);
}

static long ksync_dev_open_obj(void __user *uarg)
{
	struct ksync_open_args args;
	char *name = NULL;
	int ret;

	ret = ksync_copy_args(&args, sizeof(args), sizeof(args), uarg);
	if (ret)
		return ret;
	if (args.flags & ~KSYNC_OPEN_FLAGS || args.mode & ~0777)
		return -EINVAL;
	if (args.name) {
		name = ksync_get_name(args.name);
		if (IS_ERR(name))
			return PTR_ERR(name);
	}
	ret = ksync_open(&args, name);
	kfree(name);
	return ret;
}

static long ksync_dev_unlink(void __user *uarg)
{
	struct ksync_unlink_args args;
	char *name;
	int ret;

	ret = ksync_copy_args(&args, sizeof(args), sizeof(args), uarg);
	if (ret)
		return ret;
	if (args.flags)
		return -EINVAL;
	name = ksync_get_name(args.name);
	if (IS_ERR(name))
		return PTR_ERR(name);
	ret = ksync_unlink(name);
	kfree(name);
	return ret;
}

static long ksync_dev_ioctl(struct file *file, unsigned int cmd,
			    unsigned long arg)
{
	void __user *uarg = (void __user *)arg;

	switch (KSYNC_CMD_NOSIZE(cmd)) {
	case KSYNC_CMD_NOSIZE(KSYNC_IOC_OPEN):
		return ksync_dev_open_obj(uarg);
	case KSYNC_CMD_NOSIZE(KSYNC_IOC_UNLINK):
		return ksync_dev_unlink(uarg);
	case KSYNC_CMD_NOSIZE(KSYNC_IOC_LIST):
		return ksync_list(uarg);
	case KSYNC_CMD_NOSIZE(KSYNC_IOC_LIMITS):
		return ksync_limits(uarg);
	case KSYNC_CMD_NOSIZE(KSYNC_IOC_USAGE):
		return ksync_usage(uarg);
	case KSYNC_CMD_NOSIZE(KSYNC_IOC_WAIT_ANY):
		return ksync_wait_any(uarg);
	default:
		return -ENOTTY;
	}
}

static const struct file_operations ksync_dev_fops = {
	.owner		= THIS_MODULE,
	.unlocked_ioctl	= ksync_dev_ioctl,
	.compat_ioctl	= compat_ptr_ioctl,
	.llseek		= noop_llseek,
};

static struct miscdevice ksync_misc = {
	.minor		= MISC_DYNAMIC_MINOR,
	.name		= "ksync",
	.fops		= &ksync_dev_fops,
	.mode		= 0666,	/* access is checked per object */
};

static int __init ksync_init(void)
{
	int ret = ksync_registry_init();

	if (ret)
		return ret;
	ret = misc_register(&ksync_misc);
	if (ret)
		ksync_registry_exit();
	return ret;
}

static void __exit ksync_exit(void)
{
	misc_deregister(&ksync_misc);
	/* no fd or mapping can be open here: each one pins the module */
	ksync_registry_exit();
	ksync_limits_exit();
}

module_init(ksync_init);
module_exit(ksync_exit);

MODULE_DESCRIPTION("Cross-process semaphores, barriers, queues and events");
MODULE_AUTHOR("The ksync developers");
MODULE_LICENSE("GPL");
