// SPDX-License-Identifier: LGPL-2.1-or-later
/* Handles of every type: opening, adopting an fd, closing. */
#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <unistd.h>

#include "internal.h"

static const struct ksync_type *const types[] = {
	[KSYNC_TYPE_SEM] = &ksync_sem_type,
	[KSYNC_TYPE_BARRIER] = &ksync_barrier_type,
	[KSYNC_TYPE_QUEUE] = &ksync_queue_type,
	[KSYNC_TYPE_EVENT] = &ksync_event_type,
};

const struct ksync_type *ksync_type_of(uint32_t id)
{
	return id < sizeof(types) / sizeof(types[0]) ? types[id] : NULL;
}

/* Open or create an object of the type args names; its fd or -errno. */
static int open_object(struct ksync_open_args *args, const char *name, int flags, mode_t mode)
{
	int dev, fd;

	if (flags & ~(KSYNC_CREATE | KSYNC_EXCL | KSYNC_UNDO | KSYNC_QUEUE_NOEOF |
		      KSYNC_QUEUE_KERNEL | KSYNC_QUEUE_SEND | KSYNC_QUEUE_RECV))
		return -EINVAL;
	if (!name)
		flags |= KSYNC_CREATE | KSYNC_EXCL;
	args->size = sizeof(*args);
	args->flags = (uint32_t)flags | KSYNC_OPEN_CLOEXEC;
	args->mode = mode & 0777;
	args->name = (uintptr_t)name;
	dev = ksync_device();
	if (dev < 0)
		return dev;
	fd = ksync_ioctl(dev, KSYNC_IOC_OPEN, args);
	close(dev);
	return fd;
}

/* If fd is a ksync object of the given type, fill *info and return a dup of fd. */
static int adopt_fd(int fd, uint32_t type, struct ksync_info *info)
{
	int saved = errno;
	int ret, copy;

	if (fd < 0)
		return -EBADF;
	ret = ksync_ioctl(fd, KSYNC_IOC_INFO, info);
	if (ret < 0)
		return ret == -ENOTTY || ret == -EINVAL ? -EPROTOTYPE : ret;
	if (info->type != type)
		return -EPROTOTYPE;
	copy = fcntl(fd, F_DUPFD_CLOEXEC, 0);
	if (copy < 0) {
		copy = -errno;
		errno = saved;
	}
	return copy;
}

int ksync_wrap(const struct ksync_type *t, int fd, const struct ksync_info *info,
	       struct ksync_handle **out)
{
	struct ksync_handle *h;
	int saved = errno;
	int ret;

	if (fd < 0)
		return fd;
	h = calloc(1, t->size);
	if (!h) {
		ret = -ENOMEM;
		goto close_fd;
	}
	h->type = t;
	h->fd = fd;
	if (info)
		h->serial = info->serial;
	ret = t->setup(h, info);
	if (ret)
		goto unwrap;
	errno = saved;
	*out = h;
	return 0;
unwrap:
	ksync_unwrap(h);
	errno = saved;
	return ret;
close_fd:
	close(fd);
	errno = saved;
	return ret;
}

int ksync_wrap_open(const struct ksync_type *t, struct ksync_open_args *args, const char *name,
		    int flags, mode_t mode, struct ksync_handle **out)
{
	args->type = t->id;
	return ksync_wrap(t, open_object(args, name, flags, mode), NULL, out);
}

int ksync_wrap_fd(const struct ksync_type *t, int fd, struct ksync_handle **out)
{
	struct ksync_info info;

	fd = adopt_fd(fd, t->id, &info);
	return ksync_wrap(t, fd, fd < 0 ? NULL : &info, out);
}

uint64_t ksync_handle_serial(struct ksync_handle *h)
{
	/* handles are shared by threads: each may ask, all get one answer */
	uint64_t serial = __atomic_load_n(&h->serial, __ATOMIC_RELAXED);
	struct ksync_info info;

	if (serial || ksync_ioctl(h->fd, KSYNC_IOC_INFO, &info) < 0)
		return serial;
	__atomic_store_n(&h->serial, info.serial, __ATOMIC_RELAXED);
	return info.serial;
}

int ksync_unwrap(struct ksync_handle *h)
{
	int ret = h->type->release ? h->type->release(h) : 0;
	int r = ksync_unmap_close(h->map, h->map_len, h->fd);

	free(h);
	return r ? r : ret;
}
