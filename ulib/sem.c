// SPDX-License-Identifier: LGPL-2.1-or-later
/*
 * Semaphores.  Each handle maps the semaphore's shared page; uncontended
 * acquires and releases are one compare-and-swap on its state word
 * (sem_fast.h), and only sleeping, waking a sleeper, or a try that fails
 * enters the kernel.  KSYNC_UNDO handles always go through the kernel,
 * which must count what each of them holds.
 */
#include <errno.h>
#include <stddef.h>
#include <string.h>
#include <unistd.h>

#include "internal.h"
#include "sem_fast.h"

struct ksync_sem {
	struct ksync_handle h; /* h.map: the shared page */
	int undo;
	uint32_t max; /* from the kernel: the page holds no copy to trust */
};

_Static_assert(offsetof(struct ksync_sem, h) == 0, "the handle comes first");

static ksync_word_t *word_of(const ksync_sem_t *s)
{
	return s->h.map;
}

static struct ksync_sem_shared *page_of(const ksync_sem_t *s)
{
	return s->h.map;
}

/* A maximum as the kernel reports it: one before KSYNC_0.3 reports none. */
static uint32_t sem_max_of(const struct ksync_sem_info *info)
{
	return info->max && info->max < KSYNC_SEM_VALUE_MAX ? info->max : KSYNC_SEM_VALUE_MAX;
}

/*
 * Learn the fd's flags (unless the caller has them already) and the
 * maximum, which never changes, for the fast release; map the page.
 */
static int sem_setup(struct ksync_handle *h, const struct ksync_info *info)
{
	ksync_sem_t *s = (ksync_sem_t *)h;
	struct ksync_sem_info si;
	struct ksync_info own;
	int ret;

	if (!info) {
		ret = ksync_ioctl(h->fd, KSYNC_IOC_INFO, &own);
		if (ret)
			return ret;
		info = &own;
	}
	h->flags = info->flags;
	s->undo = !!(info->flags & KSYNC_OPEN_UNDO);
	ret = ksync_ioctl(h->fd, KSYNC_IOC_SEM_INFO, &si);
	if (ret)
		return ret;
	s->max = sem_max_of(&si);
	return ksync_map_page(h->fd, &h->map, &h->map_len);
}

static void sem_stats_of(const struct ksync_sem_info *info, struct ksync_sem_stats *st)
{
	memset(st, 0, sizeof(*st));
	st->wait_calls = info->wait_calls;
	st->wake_calls = info->wake_calls;
	st->woken = info->woken;
	st->waiters = info->waiters;
}

static int sem_counters(int fd, struct ksync_counters *c)
{
	size_t len = (size_t)sysconf(_SC_PAGESIZE);
	struct ksync_sem_shared *page;
	struct ksync_sem_info info;
	int ret;

	ret = ksync_ioctl(fd, KSYNC_IOC_SEM_INFO, &info);
	if (ret)
		return ret;
	sem_stats_of(&info, &c->sem.kernel);
	page = ksync_map_to_read(fd, len);
	if (page) {
		c->fast_valid = 1;
		c->sem.fast_acquires = ksync_peek(&page->fast_acquires);
		c->sem.fast_releases = ksync_peek(&page->fast_releases);
		ksync_unmap(page, len);
	}
	return 0;
}

const struct ksync_type ksync_sem_type = {
	.id = KSYNC_TYPE_SEM,
	.size = sizeof(ksync_sem_t),
	.setup = sem_setup,
	.counters = sem_counters,
};

int ksync_sem_open_max(ksync_sem_t **out, const char *name, int flags, mode_t mode,
		       unsigned int value, unsigned int max)
{
	struct ksync_open_args args;
	struct ksync_handle *h;
	int ret;

	if (!out)
		return -EINVAL;
	if (value > KSYNC_SEM_VALUE_MAX || max > KSYNC_SEM_VALUE_MAX || (max && value > max))
		return -EINVAL;
	memset(&args, 0, sizeof(args));
	args.sem.value = value;
	args.sem.max = max;
	ret = ksync_wrap_open(&ksync_sem_type, &args, name, flags, mode, &h);
	if (!ret)
		*out = (ksync_sem_t *)h;
	return ret;
}

int ksync_sem_open(ksync_sem_t **out, const char *name, int flags, mode_t mode, unsigned int value)
{
	return ksync_sem_open_max(out, name, flags, mode, value, 0);
}

int ksync_sem_max(ksync_sem_t *s)
{
	return s ? (int)s->max : -EINVAL;
}

int ksync_sem_from_fd(ksync_sem_t **out, int fd)
{
	struct ksync_handle *h;
	int ret;

	if (!out)
		return -EINVAL;
	ret = ksync_wrap_fd(&ksync_sem_type, fd, &h);
	if (!ret)
		*out = (ksync_sem_t *)h;
	return ret;
}

/*
 * The public calls try the fast path first, in as few instructions as
 * glibc's sem_wait and sem_post; everything else is out of line.
 */
static __attribute__((noinline)) int sem_wait_slow(ksync_sem_t *s, unsigned int n, uint32_t flags,
						   uint64_t deadline)
{
	struct ksync_sem_wait args = {
		.size = sizeof(args), .count = n, .flags = flags, .deadline = deadline
	};

	if (!s || n > KSYNC_SEM_VALUE_MAX)
		return -EINVAL;
	if (n == 0)
		return 0;
	return ksync_ioctl(s->h.fd, KSYNC_IOC_SEM_ACQUIRE, &args);
}

static inline int sem_fast_ok(const ksync_sem_t *s, unsigned int n)
{
	/* more than the maximum: the kernel says -ERANGE or -EOVERFLOW */
	return likely(s != NULL) && likely(!s->undo) && likely(n <= s->max);
}

static __attribute__((noinline)) int sem_acquire_slow(ksync_sem_t *s, unsigned int n,
						      const struct timespec *deadline)
{
	if (!deadline)
		return sem_wait_slow(s, n, 0, 0);
	if (ksync_bad_deadline(deadline))
		return -EINVAL;
	return sem_wait_slow(s, n, KSYNC_WAIT_DEADLINE, ksync_timespec_ns(deadline));
}

int ksync_sem_acquire(ksync_sem_t *s, unsigned int n, const struct timespec *deadline)
{
	if (sem_fast_ok(s, n) && likely(ksync_fast_take(word_of(s), n))) {
		ksync_count_fast(&page_of(s)->fast_acquires, 1);
		return 0;
	}
	return sem_acquire_slow(s, n, deadline);
}

int ksync_sem_try_acquire(ksync_sem_t *s, unsigned int n)
{
	if (sem_fast_ok(s, n) && likely(ksync_fast_take(word_of(s), n))) {
		ksync_count_fast(&page_of(s)->fast_acquires, 1);
		return 0;
	}
	/* ask the kernel even so: a deadline in the past means "try once",
	 * and a failed try re-arms edge-triggered pollers (design.md) */
	return ksync_tried(sem_wait_slow(s, n, KSYNC_WAIT_DEADLINE, 0));
}

static __attribute__((noinline)) int sem_post_slow(ksync_sem_t *s, unsigned int n)
{
	struct ksync_sem_post args = { .size = sizeof(args), .count = n };

	if (!s || n > KSYNC_SEM_VALUE_MAX)
		return -EINVAL;
	if (n == 0)
		return 0;
	return ksync_ioctl(s->h.fd, KSYNC_IOC_SEM_RELEASE, &args);
}

int ksync_sem_release(ksync_sem_t *s, unsigned int n)
{
	if (sem_fast_ok(s, n)) {
		int ret;

		/* before the give: see ksync_count_fast() */
		ksync_count_fast(&page_of(s)->fast_releases, 1);
		ret = ksync_fast_give(word_of(s), n, s->max);
		if (likely(ret > 0))
			return 0; /* s and its page may be gone now */
		ksync_count_fast(&page_of(s)->fast_releases, -1);
		if (ret < 0)
			return ret;
	}
	return sem_post_slow(s, n);
}

/* An ACQUIRE's errors that the module would give, seen here first. */
int ksync_sem_op_check(ksync_sem_t *s, unsigned int n)
{
	if (!n || n > KSYNC_SEM_VALUE_MAX)
		return -EINVAL;
	return n > s->max ? -ERANGE : 0;
}

/*
 * An ACQUIRE of a wait on several objects (select.c), on the word alone:
 * 1 taken, 0 not now (the word says so: nobody sleeps, too few permits),
 * -1 only the kernel can tell.
 */
int ksync_sem_op_fast(ksync_sem_t *s, unsigned int n)
{
	if (!n || !sem_fast_ok(s, n))
		return -1;
	if (ksync_fast_take(word_of(s), n)) {
		ksync_count_fast(&page_of(s)->fast_acquires, 1);
		return 1;
	}
	return atomic_load_explicit(word_of(s), memory_order_relaxed) & KSYNC_SEM_STATE_KERNEL ? -1
											       : 0;
}

int ksync_sem_value(ksync_sem_t *s)
{
	return s ? ksync_fast_value(word_of(s), s->max) : -EINVAL;
}

int ksync_sem_stats(ksync_sem_t *s, struct ksync_sem_stats *st)
{
	struct ksync_sem_info info;
	int ret;

	if (!s || !st)
		return -EINVAL;
	ret = ksync_ioctl(s->h.fd, KSYNC_IOC_SEM_INFO, &info);
	if (ret < 0)
		return ret;
	sem_stats_of(&info, st);
	return 0;
}

int ksync_sem_fd(ksync_sem_t *s)
{
	return s ? s->h.fd : -EINVAL;
}

int ksync_sem_close(ksync_sem_t *s)
{
	return s ? ksync_unwrap(&s->h) : -EINVAL;
}
