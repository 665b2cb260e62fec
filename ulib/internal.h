/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* What the library's files share. */
#ifndef KSYNC_INTERNAL_H
#define KSYNC_INTERNAL_H

#include <errno.h>
#include <linux/ksync.h>
#include <stdatomic.h>
#include <stddef.h>
#include <stdint.h>
#include <time.h>

#include "ksync.h"

_Static_assert(KSYNC_CREATE == KSYNC_OPEN_CREATE, "flag values are the ABI");
_Static_assert(KSYNC_EXCL == KSYNC_OPEN_EXCL, "flag values are the ABI");
_Static_assert(KSYNC_UNDO == KSYNC_OPEN_UNDO, "flag values are the ABI");

#define KSYNC_DEVICE "/dev/ksync"

/* For the fast paths: the compiler lays out the expected case first. */
#define likely(x) __builtin_expect(!!(x), 1)
#define unlikely(x) __builtin_expect(!!(x), 0)

struct ksync_type;

/*
 * What every handle holds, first in each type's handle struct, so that
 * code that need not know the type (opening, closing, a wait on several
 * objects) works on any handle.
 */
struct ksync_handle {
	const struct ksync_type *type;
	int fd;
	uint32_t flags; /* this fd's KSYNC_OPEN_UNDO, _KERNEL, _SEND, _RECV */
	void *map; /* the object's memory at offset 0, or NULL */
	size_t map_len;
	uint64_t serial; /* KSYNC_IOC_INFO's, once asked (ksync_handle_serial()); 0 before */
};

/* What the generic code needs to know of a type. */
struct ksync_type {
	uint32_t id; /* KSYNC_TYPE_* */
	size_t size; /* of its handle struct, struct ksync_handle first */
	/*
	 * Fill in a zeroed handle whose fd and type are set: learn what it
	 * needs of the object (info: KSYNC_IOC_INFO's answer, when the caller
	 * has it already, else NULL) and map what it maps.  On failure it may
	 * leave mappings behind for release() and the generic unmapping.
	 */
	int (*setup)(struct ksync_handle *h, const struct ksync_info *info);
	/* Unmap what setup() mapped besides h->map (NULL: nothing). */
	int (*release)(struct ksync_handle *h);
	/* Fill c's part for this type from an object fd, for ksync_counters(). */
	int (*counters)(int fd, struct ksync_counters *c);
};

/* The types this library knows, by KSYNC_TYPE_*: one entry each in handle.c. */
extern const struct ksync_type ksync_sem_type, ksync_barrier_type, ksync_queue_type,
	ksync_event_type;
const struct ksync_type *ksync_type_of(uint32_t id);

/*
 * A new handle of type t for fd (a result of the open ioctls: a negative
 * fd is returned as the error); the fd is the handle's, or closed on
 * failure.
 */
int ksync_wrap(const struct ksync_type *t, int fd, const struct ksync_info *info,
	       struct ksync_handle **out);

/* ksync_wrap() an object opened by name (args: the type's part filled in). */
int ksync_wrap_open(const struct ksync_type *t, struct ksync_open_args *args, const char *name,
		    int flags, mode_t mode, struct ksync_handle **out);

/* ksync_wrap() a dup of an fd from elsewhere, if it is an object of type t. */
int ksync_wrap_fd(const struct ksync_type *t, int fd, struct ksync_handle **out);

/*
 * The object's serial: two handles of one object have the same.  Asked of
 * the module once per handle; 0 if it cannot say.
 */
uint64_t ksync_handle_serial(struct ksync_handle *h);

/* Unmap, close and free; the first error, or 0. */
int ksync_unwrap(struct ksync_handle *h);

/* A deadline the ABI can carry: tv_nsec within a second (NULL: none). */
static inline int ksync_bad_deadline(const struct timespec *deadline)
{
	return deadline && (deadline->tv_nsec < 0 || deadline->tv_nsec >= 1000000000);
}

/*
 * A call that only tries, made to the kernel with a deadline in the past,
 * reports "not now" as -EAGAIN, as sem_trywait(3) does, not -ETIMEDOUT.
 */
static inline int ksync_tried(int ret)
{
	return ret == -ETIMEDOUT ? -EAGAIN : ret;
}

/* A new fd on /dev/ksync, or -errno: the library's one way to the device. */
int ksync_device(void);

/* ioctl(2) with the result as a negative errno, retried on nothing. */
int ksync_ioctl(int fd, unsigned long cmd, void *arg);

/* Map an object's shared page (*len: the page size). */
int ksync_map_page(int fd, void **page, size_t *len);

/* Map len bytes of an object read-only, to look at its counters; NULL if not. */
void *ksync_map_to_read(int fd, size_t len);

/* A 64-bit counter on a page others write: one relaxed atomic load. */
static inline uint64_t ksync_peek(const __u64 *field)
{
	return atomic_load_explicit((const _Atomic uint64_t *)field, memory_order_relaxed);
}

/* Unmap (unless p is NULL) and close the fd; the first error, or 0. */
int ksync_unmap(void *p, size_t len);
int ksync_unmap_close(void *p, size_t len, int fd);

/*
 * One more operation done on a shared page alone, for `ksync ls`.  A
 * plain load and store, not an atomic add: the counter shares the cache
 * line that the operation has just written, so this costs next to
 * nothing, and a count lost to a racing process only makes a statistic
 * a little low (the ABI says so).
 *
 * Whatever hands something over (a release, the arrival that completes a
 * round) counts *before* its compare-and-swap, and takes the count back
 * if it fails: once the permits or the round are handed over, the taker
 * may close the handle and unmap the page (sem_post/sem_destroy), so
 * neither may be touched after it.
 */
static inline void ksync_count_fast(__u64 *field, int64_t add)
{
	_Atomic uint64_t *counter = (_Atomic uint64_t *)field;

	atomic_store_explicit(counter,
			      atomic_load_explicit(counter, memory_order_relaxed) + (uint64_t)add,
			      memory_order_relaxed);
}

/* A pause in a loop that watches shared memory. */
static inline void cpu_relax(void)
{
#if defined(__x86_64__) || defined(__i386__)
	__builtin_ia32_pause();
#elif defined(__aarch64__)
	__asm__ volatile("yield");
#endif
}

/* Changes in every child at fork(); never 0. */
unsigned int ksync_process_epoch(void);

/* A struct timespec as the ABI's deadline in ns (0 if already negative). */
uint64_t ksync_timespec_ns(const struct timespec *ts);

/* select.c's fast path, in each type's file: 1 done, 0 not now, -1 ask the kernel */
int ksync_sem_op_check(ksync_sem_t *s, unsigned int n);
int ksync_sem_op_fast(ksync_sem_t *s, unsigned int n);
int ksync_queue_op_check(ksync_queue_t *q, int send, const void *buf, size_t len);
int ksync_queue_op_fast(ksync_queue_t *q, int send, void *buf, size_t len, ssize_t *result);
int ksync_event_op_check(ksync_event_t *e);
int ksync_event_op_fast(ksync_event_t *e);

#endif
