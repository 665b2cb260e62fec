/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* What the semaphore's and the barrier's fast paths share. */
#ifndef KSYNC_FAST_H
#define KSYNC_FAST_H

#include <stdatomic.h>
#include <stdint.h>

/* A 64-bit state word on a shared page. */
typedef _Atomic uint64_t ksync_word_t;

/*
 * Compare-and-swaps a fast path may lose in one call before it asks the
 * kernel instead.  Among honest processes a loss means another one's
 * operation landed; a peer that keeps rewriting the word could make the
 * loop go on for as long as the hardware lets it win, so it is bounded
 * here rather than left to the hardware's fairness.  The kernel bounds its
 * own retries on the word and then fences the fast paths off
 * (ksync_word_commit() in kmod/word.c), so going there always ends.  As
 * many as the kernel tries before it fences.
 */
#define KSYNC_FAST_TRIES 64

#endif
