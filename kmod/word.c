// SPDX-License-Identifier: GPL-2.0
/*
 * The state words the module shares with the fast paths: how it changes
 * one that userspace may be changing at the same moment.
 */
#include <linux/atomic.h>

#include "ksync.h"

/*
 * Replace a shared word, which held *old when the caller read it, by new;
 * for every type's state word.  The caller holds the object's lock.
 *
 * While the kernel owns the word ('owned': its bits are set, as we last
 * wrote them), no honest process writes it: the fast paths see the bits
 * and call us.  So we may simply store.  Otherwise a fast path may be
 * racing us, so we compare-and-swap; when that fails *old is refreshed
 * and the caller computes again.  A process that keeps rewriting the word
 * could make that go on forever, so after KSYNC_CAS_TRIES lost races we
 * fence the fast paths off: an atomic OR of 'fence' (a kernel bit; it
 * cannot fail) stops honest fast paths, the caller decides once more on
 * what the word held at that moment, and we then store.  No honest update
 * is lost either way.
 */
#define KSYNC_CAS_TRIES 64

bool ksync_word_commit(atomic64_t *word, s64 *old, s64 new, bool owned,
		       u64 fence, unsigned int *tries, u64 *fences)
{
	if (owned || *tries > KSYNC_CAS_TRIES) {
		/*
		 * Release: pairs with the fast paths' acquire compare-and-swap
		 * or load (ulib/sem_fast.h, ulib/barrier.c): what we hand over
		 * (permits, a completed round) must arrive with everything
		 * written before it was handed back to us.
		 */
		atomic64_set_release(word, new);
		return true;
	}
	/* Fully ordered on success: acquire and release at once. */
	if (atomic64_try_cmpxchg(word, old, new))
		return true;
	if (++*tries > KSYNC_CAS_TRIES) {
		*old = atomic64_fetch_or(fence, word) | fence;
		++*fences;
	}
	return false;
}
