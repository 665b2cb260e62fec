// SPDX-License-Identifier: LGPL-2.1-or-later
/* The module's limits and what users hold of them (ipcs -l, lsipc). */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "internal.h"

/* One ioctl on a fresh /dev/ksync fd. */
static int device_ioctl(unsigned long cmd, void *arg)
{
	int saved = errno;
	int dev = ksync_device();
	int ret;

	if (dev < 0)
		return dev;
	ret = ksync_ioctl(dev, cmd, arg);
	close(dev);
	errno = saved;
	return ret;
}

int ksync_limits(uid_t uid, struct ksync_limits *l)
{
	struct ksync_limits_args args = { .size = sizeof(args) };
	struct ksync_limits mine;
	int ret;

	if (!l || l->size < sizeof(mine))
		return -EINVAL;
	if (uid != KSYNC_SELF) {
		args.flags = KSYNC_LIMITS_UID;
		args.uid = (__u32)uid;
	}
	ret = device_ioctl(KSYNC_IOC_LIMITS, &args);
	if (ret < 0)
		return ret;
	memset(&mine, 0, sizeof(mine));
	mine.uid = args.uid;
	mine.max_objects = args.max_objects;
	mine.objects = args.objects;
	mine.max_objects_per_user = args.max_objects_per_user;
	mine.max_bytes_per_user = args.max_bytes_per_user;
	mine.max_queue_bytes = args.max_queue_bytes;
	mine.user_objects = args.user_objects;
	mine.user_bytes = args.user_bytes;
	memcpy((char *)l + sizeof(l->size), (char *)&mine + sizeof(l->size),
	       sizeof(mine) - sizeof(l->size));
	memset((char *)l + sizeof(mine), 0, l->size - sizeof(mine));
	return 0;
}

#define USAGE_BATCH 64

/* The module's entries into the caller's, size bytes apart, from index at. */
static void give_users(struct ksync_usage *users, unsigned int size, unsigned int at,
		       unsigned int count, const struct ksync_usage_entry *e, unsigned int n)
{
	for (unsigned int i = 0; i < n && at + i < count; i++) {
		struct ksync_usage *u =
			(struct ksync_usage *)((char *)users + (size_t)(at + i) * size);

		memset(u, 0, size);
		u->size = size;
		u->uid = e[i].uid;
		u->objects = e[i].objects;
		u->bytes = e[i].bytes;
	}
}

int ksync_usage(struct ksync_usage *users, unsigned int count)
{
	struct ksync_usage_args args = { .size = sizeof(args) };
	struct ksync_usage_entry e[USAGE_BATCH];
	unsigned int size = count && users ? users[0].size : 0;
	unsigned int total = 0;
	int ret, dev;

	if (count && (!users || size < sizeof(*users) || size % _Alignof(struct ksync_usage)))
		return -EINVAL;
	dev = ksync_device();
	if (dev < 0)
		return dev;
	args.entries = (uintptr_t)e;
	args.entry_size = sizeof(e[0]);
	do {
		args.count = USAGE_BATCH;
		ret = ksync_ioctl(dev, KSYNC_IOC_USAGE, &args);
		if (ret > 0) {
			give_users(users, size, total, count, e, (unsigned int)ret);
			total += (unsigned int)ret;
		}
	} while (ret > 0 && total < INT32_MAX);
	close(dev);
	return ret < 0 ? ret : (int)total;
}
