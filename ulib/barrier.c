// SPDX-License-Identifier: LGPL-2.1-or-later
/*
 * Cyclic barriers.  Each handle maps the barrier's shared page.  Arriving
 * is one compare-and-swap on its state word; the last party completes the
 * round there too, and a party that has to wait watches the word for a
 * short, adaptive while before it asks the kernel to let it sleep.  While
 * anybody sleeps or polls, or the round is broken, the word's KWAKE or
 * BROKEN bit sends every arrival to the kernel (kmod/barrier.c), so the
 * last one there wakes the sleepers.  docs/design.md has the protocol.
 */
#include <errno.h>
#include <stdatomic.h>
#include <stddef.h>
#include <string.h>
#include <unistd.h>

#include "fast.h"
#include "internal.h"

/* The longest a party watches the word before it sleeps, by default. */
#define SPIN_MAX_NS 20000u

struct ksync_barrier {
	struct ksync_handle h; /* h.map: the shared page */
	unsigned int parties;
	atomic_int can_spin; /* no more parties than CPUs: the last may come meanwhile */
	atomic_int kernel_only; /* the fd was handed out: poll must see arrivals */
	atomic_uint spin_max_ns;
	atomic_uint spin_ns; /* adapts between spin_max_ns / 32 and spin_max_ns */
	atomic_uint joined; /* ksync_process_epoch() when this process joined */
};

_Static_assert(offsetof(struct ksync_barrier, h) == 0, "the handle comes first");

static ksync_word_t *word_of(const ksync_barrier_t *b)
{
	return b->h.map;
}

static struct ksync_barrier_shared *page_of(const ksync_barrier_t *b)
{
	return b->h.map;
}

static int barrier_setup(struct ksync_handle *h, const struct ksync_info *unused)
{
	ksync_barrier_t *b = (ksync_barrier_t *)h;
	struct ksync_barrier_info info;
	int ret;

	(void)unused;
	ret = ksync_ioctl(h->fd, KSYNC_IOC_BARRIER_INFO, &info);
	if (ret)
		return ret;
	ret = ksync_map_page(h->fd, &h->map, &h->map_len);
	if (ret)
		return ret;
	b->parties = info.parties;
	atomic_init(&b->can_spin,
		    info.parties > 1 && (long)info.parties <= sysconf(_SC_NPROCESSORS_ONLN));
	atomic_init(&b->spin_max_ns, SPIN_MAX_NS);
	atomic_init(&b->spin_ns, SPIN_MAX_NS);
	return 0;
}

static void barrier_stats_of(const struct ksync_barrier_info *info, struct ksync_barrier_stats *st)
{
	memset(st, 0, sizeof(*st));
	st->parties = info->parties;
	st->waiting = info->waiting;
	st->generation = info->generation;
	st->broken = info->broken;
	st->sleepers = info->sleepers;
	st->wait_calls = info->wait_calls;
	st->woken = info->woken;
	st->breaks = info->breaks;
	st->resets = info->resets;
}

static int barrier_counters(int fd, struct ksync_counters *c)
{
	size_t len = (size_t)sysconf(_SC_PAGESIZE);
	struct ksync_barrier_shared *page;
	struct ksync_barrier_info info;
	int ret;

	ret = ksync_ioctl(fd, KSYNC_IOC_BARRIER_INFO, &info);
	if (ret)
		return ret;
	barrier_stats_of(&info, &c->barrier.kernel);
	page = ksync_map_to_read(fd, len);
	if (page) {
		c->fast_valid = 1;
		c->barrier.fast_arrivals = ksync_peek(&page->fast_arrivals);
		ksync_unmap(page, len);
	}
	return 0;
}

const struct ksync_type ksync_barrier_type = {
	.id = KSYNC_TYPE_BARRIER,
	.size = sizeof(ksync_barrier_t),
	.setup = barrier_setup,
	.counters = barrier_counters,
};

int ksync_barrier_open(ksync_barrier_t **out, const char *name, int flags, mode_t mode,
		       unsigned int parties)
{
	struct ksync_open_args args;
	struct ksync_handle *h;
	int ret;

	if (!out || flags & KSYNC_UNDO)
		return -EINVAL;
	/* parties matter only to a call that may create the barrier */
	if ((!name || flags & KSYNC_CREATE) && (parties < 1 || parties > KSYNC_BARRIER_PARTIES_MAX))
		return -EINVAL;
	memset(&args, 0, sizeof(args));
	args.barrier.parties = parties;
	ret = ksync_wrap_open(&ksync_barrier_type, &args, name, flags, mode, &h);
	if (!ret)
		*out = (ksync_barrier_t *)h;
	return ret;
}

int ksync_barrier_from_fd(ksync_barrier_t **out, int fd)
{
	struct ksync_handle *h;
	int ret;

	if (!out)
		return -EINVAL;
	ret = ksync_wrap_fd(&ksync_barrier_type, fd, &h);
	if (!ret)
		*out = (ksync_barrier_t *)h;
	return ret;
}

/* Tell the kernel, once per process, that this process is a party. */
static int barrier_join(ksync_barrier_t *b)
{
	struct ksync_barrier_ctl ctl = { .size = sizeof(ctl) };
	unsigned int epoch = ksync_process_epoch();
	int ret;

	if (likely(atomic_load_explicit(&b->joined, memory_order_relaxed) == epoch))
		return 0;
	ret = ksync_ioctl(b->h.fd, KSYNC_IOC_BARRIER_JOIN, &ctl);
	if (ret == 0)
		atomic_store_explicit(&b->joined, epoch, memory_order_relaxed);
	return ret;
}

static int barrier_kernel(ksync_barrier_t *b, uint32_t flags, uint32_t gen,
			  const struct timespec *deadline)
{
	struct ksync_barrier_wait args = { .size = sizeof(args),
					   .flags = flags,
					   .generation = gen };
	struct ksync_barrier_ctl ctl = { .size = sizeof(ctl) };
	int ret;

	if (deadline) {
		args.flags |= KSYNC_WAIT_DEADLINE;
		args.deadline = ksync_timespec_ns(deadline);
	}
	ret = ksync_ioctl(b->h.fd, KSYNC_IOC_BARRIER_WAIT, &args);
	if (ret != -EINTR || !(args.flags & KSYNC_BARRIER_ARRIVED))
		return ret;
	/* a handler ran: the round breaks, unless it completed meanwhile */
	ctl.generation = args.generation;
	return ksync_ioctl(b->h.fd, KSYNC_IOC_BARRIER_BREAK, &ctl) == 1 ? 0 : -EINTR;
}

static uint64_t now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ksync_timespec_ns(&ts);
}

/*
 * Having arrived in round gen (and not last), watch the word for a while:
 * a generation one higher means the round completed.  Adapt how long to
 * the handle's luck: double after a round that completed while we
 * watched, halve after one that did not.
 */
static int barrier_watch(ksync_barrier_t *b, uint32_t gen, const struct timespec *deadline)
{
	unsigned int max = atomic_load_explicit(&b->spin_max_ns, memory_order_relaxed);
	unsigned int budget = atomic_load_explicit(&b->spin_ns, memory_order_relaxed);
	uint64_t w, end = 0;
	unsigned int i;

	for (i = 0;; i++) {
		/* acquire: pairs with the completer's release (its acq_rel
		 * compare-and-swap below, or ksync_word_commit() in kmod/word.c),
		 * so every party's writes before the round are visible now */
		w = atomic_load_explicit(word_of(b), memory_order_acquire);
		if (ksync_barrier_gen(w) != gen || (w & KSYNC_BARRIER_STATE_BROKEN))
			break;
		if (!atomic_load_explicit(&b->can_spin, memory_order_relaxed) || budget == 0)
			break;
		if ((i & 63) == 0) {
			uint64_t t = now_ns();

			if (i == 0) {
				/* never watch past the deadline: the kernel reports it */
				end = t + budget;
				if (deadline && ksync_timespec_ns(deadline) < end)
					end = ksync_timespec_ns(deadline);
			} else if (t >= end) {
				break;
			}
		}
		cpu_relax();
	}
	if (ksync_barrier_gen(w) == gen + 1) {
		if (budget < max)
			atomic_store_explicit(&b->spin_ns,
					      (uint64_t)budget * 2 > max ? max : budget * 2,
					      memory_order_relaxed);
		return 0;
	}
	if (budget > max / 32)
		atomic_store_explicit(&b->spin_ns, budget / 2, memory_order_relaxed);
	return barrier_kernel(b, KSYNC_BARRIER_ARRIVED, gen, deadline);
}

int ksync_barrier_wait(ksync_barrier_t *b, const struct timespec *deadline)
{
	uint64_t w, next;
	uint32_t arrived;
	int ret, tries;

	if (!b || ksync_bad_deadline(deadline))
		return -EINVAL;
	ret = barrier_join(b);
	if (ret < 0)
		return ret;
	if (atomic_load_explicit(&b->kernel_only, memory_order_relaxed))
		return barrier_kernel(b, 0, 0, deadline);
	w = atomic_load_explicit(word_of(b), memory_order_relaxed);
	/* before the arrival, which may complete the round: ksync_count_fast() */
	ksync_count_fast(&page_of(b)->fast_arrivals, 1);
	/* bounded as the semaphore's (fast.h); the kernel arrives for us */
	for (tries = 0; tries < KSYNC_FAST_TRIES &&
			!(w & (KSYNC_BARRIER_STATE_KWAKE | KSYNC_BARRIER_STATE_BROKEN));
	     tries++) {
		arrived = (uint32_t)(w & KSYNC_BARRIER_STATE_ARRIVED);
		if (arrived + 1 >= b->parties)
			next = ksync_barrier_gen_word(ksync_barrier_gen(w) + 1);
		else
			next = w + 1;
		/* acq_rel: release what we wrote before arriving; the last
		 * party acquires what all the others released (pairs with the
		 * acquire in barrier_watch() and bar_read() in kmod/barrier.c) */
		if (atomic_compare_exchange_weak_explicit(
			    word_of(b), &w, next, memory_order_acq_rel, memory_order_relaxed))
			return next & KSYNC_BARRIER_STATE_ARRIVED
				       ? barrier_watch(b, ksync_barrier_gen(w), deadline)
				       : 1; /* b may be gone now */
	}
	ksync_count_fast(&page_of(b)->fast_arrivals, -1);
	return barrier_kernel(b, 0, 0, deadline);
}

int ksync_barrier_arrive(ksync_barrier_t *b)
{
	int ret;

	if (!b)
		return -EINVAL;
	ret = barrier_join(b);
	return ret < 0 ? ret : barrier_kernel(b, KSYNC_BARRIER_NOWAIT, 0, NULL);
}

int ksync_barrier_reset(ksync_barrier_t *b)
{
	struct ksync_barrier_ctl ctl = { .size = sizeof(ctl) };

	return b ? ksync_ioctl(b->h.fd, KSYNC_IOC_BARRIER_RESET, &ctl) : -EINVAL;
}

int ksync_barrier_stats(ksync_barrier_t *b, struct ksync_barrier_stats *st)
{
	struct ksync_barrier_info info;
	int ret;

	if (!b || !st)
		return -EINVAL;
	ret = ksync_ioctl(b->h.fd, KSYNC_IOC_BARRIER_INFO, &info);
	if (ret < 0)
		return ret;
	barrier_stats_of(&info, st);
	return 0;
}

int ksync_barrier_set_spin(ksync_barrier_t *b, unsigned int max_ns)
{
	if (!b)
		return -EINVAL;
	/* an explicit choice overrides the guess from the number of CPUs */
	atomic_store_explicit(&b->can_spin, max_ns > 0, memory_order_relaxed);
	atomic_store_explicit(&b->spin_max_ns, max_ns, memory_order_relaxed);
	atomic_store_explicit(&b->spin_ns, max_ns, memory_order_relaxed);
	return 0;
}

int ksync_barrier_fd(ksync_barrier_t *b)
{
	if (!b)
		return -EINVAL;
	/* from now on every wait arrives through the kernel, which then knows
	 * which round this open file is in and can answer poll (design.md) */
	atomic_store_explicit(&b->kernel_only, 1, memory_order_relaxed);
	return b->h.fd;
}

int ksync_barrier_close(ksync_barrier_t *b)
{
	return b ? ksync_unwrap(&b->h) : -EINVAL;
}
