// SPDX-License-Identifier: LGPL-2.1-or-later
/*
 * Events.  Each handle maps the event's shared page (struct
 * ksync_event_shared).  Bit 0 of its word is the set state, which anyone
 * may read at any time: ksync_event_is_set() and a wait on a set manual
 * event are one load.  While the kernel's bits are clear (nobody sleeps
 * or polls), a set, a reset and an auto event's wait that finds it set
 * are one compare-and-swap of the whole word, 0 to 1 or 1 to 0; anything
 * else goes to the kernel, which keeps FIFO order and decides whom a set
 * lets pass.
 */
#include <errno.h>
#include <stddef.h>
#include <string.h>
#include <unistd.h>

#include "fast.h"
#include "internal.h"

struct ksync_event {
	struct ksync_handle h; /* h.map: the shared page */
	int autoreset; /* from the kernel: fixed at creation */
};

_Static_assert(offsetof(struct ksync_event, h) == 0, "the handle comes first");
_Static_assert(KSYNC_EVENT_AUTO & ~(KSYNC_CREATE | KSYNC_EXCL | KSYNC_UNDO | KSYNC_QUEUE_NOEOF |
				    KSYNC_QUEUE_KERNEL | KSYNC_QUEUE_SEND | KSYNC_QUEUE_RECV |
				    KSYNC_OPEN_CLOEXEC),
	       "KSYNC_EVENT_AUTO is a bit no other open flag uses");

static ksync_word_t *word_of(const ksync_event_t *e)
{
	return e->h.map;
}

static struct ksync_event_shared *page_of(const ksync_event_t *e)
{
	return e->h.map;
}

/*
 * Learn the fd's flags (unless the caller has them already) and whether
 * the event is an auto one, which never changes; map the page.
 */
static int event_setup(struct ksync_handle *h, const struct ksync_info *info)
{
	ksync_event_t *e = (ksync_event_t *)h;
	struct ksync_event_info ei;
	struct ksync_info own;
	int ret;

	if (!info) {
		ret = ksync_ioctl(h->fd, KSYNC_IOC_INFO, &own);
		if (ret)
			return ret;
		info = &own;
	}
	h->flags = info->flags;
	ret = ksync_ioctl(h->fd, KSYNC_IOC_EVENT_INFO, &ei);
	if (ret)
		return ret;
	e->autoreset = !!(ei.flags & KSYNC_EVENT_FLAG_AUTO);
	return ksync_map_page(h->fd, &h->map, &h->map_len);
}

static void event_stats_of(const struct ksync_event_info *info, struct ksync_event_stats *st)
{
	memset(st, 0, sizeof(*st));
	st->set = info->set;
	st->auto_reset = !!(info->flags & KSYNC_EVENT_FLAG_AUTO);
	st->waiters = info->waiters;
	st->wait_calls = info->wait_calls;
	st->set_calls = info->set_calls;
	st->reset_calls = info->reset_calls;
	st->woken = info->woken;
}

static int event_counters(int fd, struct ksync_counters *c)
{
	size_t len = (size_t)sysconf(_SC_PAGESIZE);
	struct ksync_event_shared *page;
	struct ksync_event_info info;
	int ret;

	ret = ksync_ioctl(fd, KSYNC_IOC_EVENT_INFO, &info);
	if (ret)
		return ret;
	event_stats_of(&info, &c->event.kernel);
	page = ksync_map_to_read(fd, len);
	if (page) {
		c->fast_valid = 1;
		c->event.fast_sets = ksync_peek(&page->fast_sets);
		c->event.fast_resets = ksync_peek(&page->fast_resets);
		c->event.fast_waits = ksync_peek(&page->fast_waits);
		ksync_unmap(page, len);
	}
	return 0;
}

const struct ksync_type ksync_event_type = {
	.id = KSYNC_TYPE_EVENT,
	.size = sizeof(ksync_event_t),
	.setup = event_setup,
	.counters = event_counters,
};

int ksync_event_open(ksync_event_t **out, const char *name, int flags, mode_t mode, int set)
{
	struct ksync_open_args args;
	struct ksync_handle *h;
	int ret;

	if (!out || (set != 0 && set != 1))
		return -EINVAL;
	memset(&args, 0, sizeof(args));
	args.event.flags = flags & KSYNC_EVENT_AUTO ? KSYNC_EVENT_FLAG_AUTO : 0;
	args.event.set = (uint32_t)set;
	ret = ksync_wrap_open(&ksync_event_type, &args, name, flags & ~KSYNC_EVENT_AUTO, mode, &h);
	if (!ret)
		*out = (ksync_event_t *)h;
	return ret;
}

int ksync_event_from_fd(ksync_event_t **out, int fd)
{
	struct ksync_handle *h;
	int ret;

	if (!out)
		return -EINVAL;
	ret = ksync_wrap_fd(&ksync_event_type, fd, &h);
	if (!ret)
		*out = (ksync_event_t *)h;
	return ret;
}

/* What fast_swap() did. */
enum { FAST_KERNEL, FAST_DONE, FAST_ALREADY };

/*
 * Turn a word that is exactly 'from' into 'to' (set: 0 to 1, reset and an
 * auto event's wait: 1 to 0).  FAST_ALREADY: it was 'to' (a set of a set
 * event changes nothing); FAST_KERNEL: the kernel's bits are set (or the
 * word holds what it may not, or keeps changing): ask the kernel.  order:
 * acquire for a wait, which takes what the setter published; release as
 * well for a set and a reset, which publish.
 */
static inline int fast_swap(ksync_word_t *word, uint64_t from, uint64_t to, memory_order order)
{
	uint64_t s = atomic_load_explicit(word, memory_order_acquire);

	for (int tries = 0; tries < KSYNC_FAST_TRIES; tries++) {
		if (s == to)
			return FAST_ALREADY;
		if (s != from)
			return FAST_KERNEL;
		/* pairs with the kernel's read-acquire in ev_read() and its
		 * store-release in ksync_word_commit() (kmod/event.c, word.c) */
		if (atomic_compare_exchange_weak_explicit(word, &s, to, order,
							  memory_order_acquire))
			return FAST_DONE;
	}
	return FAST_KERNEL;
}

static int event_ctl(ksync_event_t *e, unsigned long cmd)
{
	struct ksync_event_ctl args = { .size = sizeof(args) };

	return ksync_ioctl(e->h.fd, cmd, &args);
}

/*
 * A change on the page is counted before the compare-and-swap and taken
 * back if it did not happen: once the event is set, a waiter on this
 * handle may close it (ksync_count_fast()).
 */
static int event_change(ksync_event_t *e, uint64_t from, uint64_t to, __u64 *counter,
			unsigned long cmd)
{
	uint64_t s = atomic_load_explicit(word_of(e), memory_order_relaxed);
	int ret;

	if (s == to)
		return 0;
	if (s == from) {
		ksync_count_fast(counter, 1);
		ret = fast_swap(word_of(e), from, to, memory_order_acq_rel);
		if (likely(ret == FAST_DONE))
			return 0; /* e and its page may be gone now */
		ksync_count_fast(counter, -1);
		if (ret == FAST_ALREADY)
			return 0;
	}
	return event_ctl(e, cmd);
}

int ksync_event_set(ksync_event_t *e)
{
	if (!e)
		return -EINVAL;
	return event_change(e, 0, KSYNC_EVENT_STATE_SET, &page_of(e)->fast_sets,
			    KSYNC_IOC_EVENT_SET);
}

int ksync_event_reset(ksync_event_t *e)
{
	if (!e)
		return -EINVAL;
	return event_change(e, KSYNC_EVENT_STATE_SET, 0, &page_of(e)->fast_resets,
			    KSYNC_IOC_EVENT_RESET);
}

int ksync_event_is_set(ksync_event_t *e)
{
	if (!e)
		return -EINVAL;
	/* acquire: what the setter wrote before setting is visible after */
	return !!(atomic_load_explicit(word_of(e), memory_order_acquire) & KSYNC_EVENT_STATE_SET);
}

int ksync_event_auto(ksync_event_t *e)
{
	return e ? e->autoreset : -EINVAL;
}

/*
 * 1: the wait passed on the page alone.  A manual event's passes whenever
 * bit 0 is set, kernel's bits or not: while it is set, every wait passes.
 */
static inline int event_fast_wait(ksync_event_t *e)
{
	if (!e->autoreset)
		return !!(atomic_load_explicit(word_of(e), memory_order_acquire) &
			  KSYNC_EVENT_STATE_SET);
	return fast_swap(word_of(e), KSYNC_EVENT_STATE_SET, 0, memory_order_acquire) == FAST_DONE;
}

static __attribute__((noinline)) int event_wait_slow(ksync_event_t *e,
						     const struct timespec *deadline)
{
	struct ksync_event_wait args = { .size = sizeof(args) };

	if (deadline) {
		if (ksync_bad_deadline(deadline))
			return -EINVAL;
		args.flags = KSYNC_WAIT_DEADLINE;
		args.deadline = ksync_timespec_ns(deadline);
	}
	return ksync_ioctl(e->h.fd, KSYNC_IOC_EVENT_WAIT, &args);
}

int ksync_event_wait(ksync_event_t *e, const struct timespec *deadline)
{
	if (unlikely(!e))
		return -EINVAL;
	if (likely(event_fast_wait(e))) {
		ksync_count_fast(&page_of(e)->fast_waits, 1);
		return 0;
	}
	return event_wait_slow(e, deadline);
}

/*
 * An EVENT of a wait on several objects (select.c): the module would
 * refuse nothing once the handle is an event's (the caller checked).
 */
int ksync_event_op_check(ksync_event_t *e)
{
	return e ? 0 : -EINVAL;
}

/*
 * An EVENT of a wait on several objects (select.c), on the word alone, as
 * ksync_event_wait()'s fast path: 1 done (a set manual event, one load; an
 * auto event's set state taken with a compare-and-swap 1 to 0 while the
 * kernel's bits are clear, so that only the op that completes takes it),
 * 0 not now (bit 0 clear: no wait could pass), -1 only the kernel can
 * tell (an auto event set while somebody sleeps or polls).
 */
int ksync_event_op_fast(ksync_event_t *e)
{
	if (event_fast_wait(e)) {
		ksync_count_fast(&page_of(e)->fast_waits, 1);
		return 1;
	}
	return atomic_load_explicit(word_of(e), memory_order_relaxed) & KSYNC_EVENT_STATE_SET ? -1
											      : 0;
}

int ksync_event_stats(ksync_event_t *e, struct ksync_event_stats *st)
{
	struct ksync_event_info info;
	int ret;

	if (!e || !st)
		return -EINVAL;
	ret = ksync_ioctl(e->h.fd, KSYNC_IOC_EVENT_INFO, &info);
	if (ret < 0)
		return ret;
	event_stats_of(&info, st);
	return 0;
}

int ksync_event_fd(ksync_event_t *e)
{
	return e ? e->h.fd : -EINVAL;
}

int ksync_event_close(ksync_event_t *e)
{
	return e ? ksync_unwrap(&e->h) : -EINVAL;
}
