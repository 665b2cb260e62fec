// SPDX-License-Identifier: LGPL-2.1-or-later
/* An object's counters and who holds or waits on it, for onlookers. */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "internal.h"

_Static_assert(KSYNC_WHO_HOLDS == 1 && KSYNC_WHO_ACQUIRES == 2 && KSYNC_WHO_WAITS == 3 &&
		       KSYNC_WHO_SENDS == 4 && KSYNC_WHO_RECEIVES == 5 &&
		       KSYNC_WHO_EVENT_WAITS == 6,
	       "what the module says a task does is the ABI");

/* An fd on the listed object, for looking: opening joins nothing. */
static int open_listed(const struct ksync_object *o)
{
	struct ksync_open_args args = {
		.size = sizeof(args),
		.type = o->type,
		.flags = KSYNC_OPEN_CLOEXEC,
		.name = (uintptr_t)o->name,
	};
	int dev, fd;

	dev = ksync_device();
	if (dev < 0)
		return dev;
	fd = ksync_ioctl(dev, KSYNC_IOC_OPEN, &args);
	close(dev);
	return fd;
}

/* close(2), keeping errno: the fd is gone either way. */
static void close_quietly(int fd)
{
	int saved = errno;

	close(fd);
	errno = saved;
}

int ksync_counters(const struct ksync_object *o, struct ksync_counters *c)
{
	const struct ksync_type *t = o ? ksync_type_of(o->type) : NULL;
	struct ksync_counters mine;
	int fd, ret;

	if (!o || !c || c->size < sizeof(mine))
		return -EINVAL;
	if (!t)
		return -EPROTOTYPE;
	fd = open_listed(o);
	if (fd < 0)
		return fd;
	memset(&mine, 0, sizeof(mine));
	mine.size = sizeof(mine);
	mine.type = o->type;
	ret = t->counters(fd, &mine);
	close_quietly(fd);
	if (ret)
		return ret;
	memcpy((char *)c + sizeof(c->size), (char *)&mine + sizeof(c->size),
	       sizeof(mine) - sizeof(c->size));
	memset((char *)c + sizeof(mine), 0, c->size - sizeof(mine));
	return 0;
}

/* The module's entries into the caller's, size bytes apart. */
static void give_tasks(struct ksync_task *tasks, unsigned int size, const struct ksync_who_entry *w,
		       unsigned int n)
{
	for (unsigned int i = 0; i < n; i++) {
		struct ksync_task *t = (struct ksync_task *)((char *)tasks + (size_t)i * size);

		memset(t, 0, size);
		t->size = size;
		t->what = w[i].what;
		t->pid = w[i].pid;
		t->tid = w[i].tid;
		t->count = w[i].count;
		t->waited_ns = w[i].waited_ns;
	}
}

int ksync_who(const struct ksync_object *o, struct ksync_task *tasks, unsigned int count)
{
	struct ksync_who_args args = { .size = sizeof(args) };
	struct ksync_who_entry *w = NULL;
	unsigned int size = count && tasks ? tasks[0].size : 0;
	int saved = errno;
	int fd, ret;

	if (!o || (count && (size < sizeof(*tasks) || size % _Alignof(struct ksync_task))))
		return -EINVAL;
	if (count > KSYNC_WHO_MAX)
		count = KSYNC_WHO_MAX;
	if (count) {
		w = calloc(count, sizeof(*w));
		errno = saved;
		if (!w)
			return -ENOMEM;
	}
	fd = open_listed(o);
	if (fd < 0) {
		free(w);
		return fd;
	}
	args.entries = (uintptr_t)w;
	args.count = count;
	args.entry_size = sizeof(*w);
	ret = ksync_ioctl(fd, KSYNC_IOC_WHO, &args);
	close_quietly(fd);
	if (ret > 0)
		give_tasks(tasks, size, w, (unsigned int)ret < count ? (unsigned int)ret : count);
	free(w);
	return ret;
}
