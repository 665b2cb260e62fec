// SPDX-License-Identifier: LGPL-2.1-or-later
/* Looking at objects from outside: the listing, a lookup, counters, who. */
#include <errno.h>
#include <stddef.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#include "internal.h"

_Static_assert(KSYNC_TYPE_SEM == 1 && KSYNC_TYPE_BARRIER == 2 && KSYNC_TYPE_QUEUE == 3 &&
		       KSYNC_TYPE_EVENT == 4,
	       "type numbers are the ABI");
_Static_assert(sizeof(((struct ksync_object *)0)->name) == KSYNC_LIST_NAME_LEN,
	       "names as the module lists them");

#define BATCH 32

struct ksync_list {
	int dev;
	unsigned int n, next; /* entries in e[], the next to report */
	struct ksync_list_args args;
	struct ksync_list_entry e[BATCH];
};

/* struct ksync_object as KSYNC_0.2 knew it: the least size a caller may give. */
#define OBJECT_SIZE_V2 offsetof(struct ksync_object, ctime_ns)

_Static_assert(OBJECT_SIZE_V2 == 328, "KSYNC_0.2's struct ksync_object");

/*
 * Copy a result of ours into the caller's struct, which starts with the
 * size the caller knows: what both know, and zeroes beyond ours.
 */
static int give(void *to, const void *ours, size_t size, size_t least)
{
	unsigned int theirs = *(const unsigned int *)to;
	size_t both = theirs < size ? theirs : size;

	if (theirs < least)
		return -EINVAL;
	memcpy((char *)to + sizeof(theirs), (const char *)ours + sizeof(theirs),
	       both - sizeof(theirs));
	if (theirs > size)
		memset((char *)to + size, 0, theirs - size);
	return 0;
}

int ksync_list_open(ksync_list_t **out)
{
	int saved = errno;
	ksync_list_t *l;

	if (!out)
		return -EINVAL;
	l = calloc(1, sizeof(*l));
	errno = saved;
	if (!l)
		return -ENOMEM;
	l->dev = ksync_device();
	if (l->dev < 0) {
		int ret = l->dev;

		free(l);
		return ret;
	}
	l->args.size = sizeof(l->args);
	l->args.entries = (uintptr_t)l->e;
	l->args.entry_size = sizeof(l->e[0]);
	*out = l;
	return 0;
}

static void queue_entry(struct ksync_object *o, const struct ksync_list_entry *e)
{
	o->queue.capacity = e->queue.capacity;
	o->queue.msg_size = e->queue.msg_size;
	o->queue.length = e->queue.length;
	o->queue.sleepers = e->queue.sleepers;
	o->queue.shutdown = !!(e->queue.state & KSYNC_QUEUE_STATE_SHUTDOWN);
	o->queue.broken = !!(e->queue.state & KSYNC_QUEUE_STATE_BROKEN);
	o->queue.eof = !!(e->queue.state & KSYNC_QUEUE_STATE_EOF);
	o->queue.noeof = !!(e->queue.state & KSYNC_QUEUE_STATE_NOEOF);
}

/* The module's entry as the library's; a type it does not know has no state. */
static void to_object(struct ksync_object *o, const struct ksync_list_entry *e)
{
	memset(o, 0, sizeof(*o));
	o->size = sizeof(*o);
	o->type = e->type;
	o->id = e->id;
	o->uid = e->uid;
	o->gid = e->gid;
	o->mode = e->mode;
	o->handles = e->handles;
	memcpy(o->name, e->name, sizeof(o->name));
	o->name[sizeof(o->name) - 1] = 0;
	o->ctime_ns = e->ctime;
	o->creator_pid = e->cpid;
	if (e->type == KSYNC_TYPE_SEM) {
		o->sem.value = e->sem.value;
		o->sem.waiters = e->sem.waiters;
		/* a module before KSYNC_0.3 knows no maximum but the largest value */
		o->sem.max = e->sem.max ? e->sem.max : KSYNC_SEM_VALUE_MAX;
	} else if (e->type == KSYNC_TYPE_BARRIER) {
		o->barrier.parties = e->barrier.parties;
		o->barrier.waiting = e->barrier.waiting;
		o->barrier.generation = e->barrier.generation;
		o->barrier.broken = e->barrier.broken;
	} else if (e->type == KSYNC_TYPE_QUEUE) {
		queue_entry(o, e);
	} else if (e->type == KSYNC_TYPE_EVENT) {
		o->event.set = e->event.set;
		o->event.waiters = e->event.waiters;
		o->event.auto_reset = !!(e->event.flags & KSYNC_EVENT_FLAG_AUTO);
	}
}

int ksync_list_next(ksync_list_t *l, struct ksync_object *o)
{
	struct ksync_object mine;
	int ret;

	if (!l || !o || o->size < OBJECT_SIZE_V2)
		return -EINVAL; /* before an entry is used up */
	if (l->next == l->n) {
		/* a module before KSYNC_0.3 fills its own part and zeroes ours */
		l->args.count = BATCH;
		ret = ksync_ioctl(l->dev, KSYNC_IOC_LIST, &l->args);
		if (ret <= 0)
			return ret;
		l->n = (unsigned int)ret;
		l->next = 0;
	}
	to_object(&mine, &l->e[l->next++]);
	ret = give(o, &mine, sizeof(mine), OBJECT_SIZE_V2);
	return ret ? ret : 1;
}

int ksync_list_close(ksync_list_t *l)
{
	int saved = errno;
	int ret = 0;

	if (!l)
		return -EINVAL;
	/* on Linux the fd is gone after EINTR too */
	if (close(l->dev) && errno != EINTR)
		ret = -errno;
	free(l);
	errno = saved;
	return ret;
}

int ksync_lookup(const char *name, struct ksync_object *o)
{
	ksync_list_t *l;
	int ret;

	if (!name || !o)
		return -EINVAL;
	ret = ksync_list_open(&l);
	if (ret)
		return ret;
	while ((ret = ksync_list_next(l, o)) == 1 && strcmp(o->name, name))
		;
	ksync_list_close(l);
	return ret == 1 ? 0 : ret ? ret : -ENOENT;
}
