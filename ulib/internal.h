/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* What the library's files share. */
#ifndef KSYNC_INTERNAL_H
#define KSYNC_INTERNAL_H

#include <linux/ksync.h>
#include <stdatomic.h>
#include <stdint.h>
#include <time.h>

#include "ksync.h"

_Static_assert(KSYNC_CREATE == KSYNC_OPEN_CREATE, "flag values are the ABI");
_Static_assert(KSYNC_EXCL == KSYNC_OPEN_EXCL, "flag values are the ABI");
_Static_assert(KSYNC_UNDO == KSYNC_OPEN_UNDO, "flag values are the ABI");

#define KSYNC_DEVICE "/dev/ksync"

/* ioctl(2) with the result as a negative errno, retried on nothing. */
int ksync_ioctl(int fd, unsigned long cmd, void *arg);

/* Open or create an object of the given type; returns its fd or -errno. */
int ksync_open_object(struct ksync_open_args *args, const char *name, int flags, mode_t mode);

/* Check that fd is a ksync object of the given type and fill *info;
 * returns a dup of fd. */
int ksync_adopt_fd(int fd, uint32_t type, struct ksync_info *info);

/* Map an object's shared page (*len: the page size). */
int ksync_map_page(int fd, void **page, size_t *len);

/* Unmap the page and close the fd; the first error, or 0. */
int ksync_unmap(void *p, size_t len);
int ksync_unmap_close(void *page, size_t len, int fd);

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

#endif
