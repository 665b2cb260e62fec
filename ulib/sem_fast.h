/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * The semaphore's fast path: what a process may do to the shared state
 * word (struct ksync_sem_shared) without entering the kernel.  Kept apart
 * so that a host-only test can drive it against a stand-in slow path under
 * ThreadSanitizer and valgrind (selftests/host/).
 *
 * The rule: only while the kernel's bits are clear, and only with a
 * compare-and-swap of the whole word.  Once somebody sleeps (or polls on
 * an empty semaphore), the kernel's bits are set and every operation goes
 * to the kernel, which keeps FIFO order and hands permits over itself.
 */
#ifndef KSYNC_SEM_FAST_H
#define KSYNC_SEM_FAST_H

#include <errno.h>
#include <stdatomic.h>
#include <stdint.h>

#include <linux/ksync.h>

#include "fast.h"

/* 1: n permits taken; 0: not now, ask the kernel. */
static inline int ksync_fast_take(ksync_word_t *word, uint32_t n)
{
	uint64_t s = atomic_load_explicit(word, memory_order_relaxed);

	for (int tries = 0; tries < KSYNC_FAST_TRIES; tries++) {
		if ((s & KSYNC_SEM_STATE_KERNEL) || (uint32_t)s < n)
			return 0;
		/* acquire: pairs with the release CAS of ksync_fast_give() and
		 * with the kernel's store-release in ksync_word_commit() (kmod/word.c) */
		if (atomic_compare_exchange_weak_explicit(word, &s, s - n, memory_order_acquire,
							  memory_order_relaxed))
			return 1;
	}
	return 0;
}

/* 1: n permits given; 0: somebody sleeps or polls (or the word keeps
 * changing), ask the kernel; -EOVERFLOW: the value would pass max, the
 * semaphore's maximum (at most KSYNC_SEM_VALUE_MAX), which the caller
 * learnt from the kernel: the page's word may hold anything. */
static inline int ksync_fast_give(ksync_word_t *word, uint32_t n, uint32_t max)
{
	uint64_t s = atomic_load_explicit(word, memory_order_relaxed);

	for (int tries = 0; tries < KSYNC_FAST_TRIES; tries++) {
		if (s & KSYNC_SEM_STATE_KERNEL)
			return 0;
		if (n > max || (uint32_t)s > max - n)
			return -EOVERFLOW;
		/* release: pairs with the acquire CAS of ksync_fast_take() and
		 * with the kernel's read-acquire in sem_read() (kmod/sem.c) */
		if (atomic_compare_exchange_weak_explicit(word, &s, s + n, memory_order_release,
							  memory_order_relaxed))
			return 1;
	}
	return 0;
}

/*
 * The value as the word shows it, clamped as the kernel clamps it: to the
 * semaphore's maximum (KSYNC_SEM_VALUE_MAX if it declared none), so that a
 * word scribbled or over-released past it reads as the kernel reports it.
 */
static inline int ksync_fast_value(ksync_word_t *word, uint32_t max)
{
	uint32_t v = (uint32_t)atomic_load_explicit(word, memory_order_relaxed);

	return v > max ? (int)max : (int)v;
}

#endif
