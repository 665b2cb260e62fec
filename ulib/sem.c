// SPDX-License-Identifier: LGPL-2.1-or-later
/*
 * Semaphores.  Each handle maps the semaphore's shared page; uncontended
 * acquires and releases are one compare-and-swap on its state word
 * (sem_fast.h), and only sleeping, waking a sleeper, or a try that fails
 * enters the kernel.  KSYNC_UNDO handles always go through the kernel,
 * which must count what each of them holds.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#include "internal.h"
#include "sem_fast.h"

struct ksync_sem {
	int fd;
	int undo;
	ksync_word_t *word; /* in the shared page */
	struct ksync_sem_shared *page; /* the same page: the fast counters */
	size_t map_len;
};

/*
 * Make a handle for a new object fd: learn its flags (unless the caller
 * already has them in *info), map its page.
 */
static int sem_wrap(ksync_sem_t **out, int fd, struct ksync_info *info)
{
	struct ksync_info own;
	ksync_sem_t *s = NULL;
	void *page = NULL;
	int saved = errno;
	int ret = 0;

	if (fd < 0)
		return fd;
	if (!info) {
		info = &own;
		ret = ksync_ioctl(fd, KSYNC_IOC_INFO, info);
	}
	if (ret == 0) {
		s = malloc(sizeof(*s));
		ret = s ? 0 : -ENOMEM;
	}
	if (ret == 0) {
		s->fd = fd;
		s->undo = !!(info->flags & KSYNC_OPEN_UNDO);
		ret = ksync_map_page(fd, &page, &s->map_len);
		s->word = page;
		s->page = page;
	}
	if (ret == 0) {
		*out = s;
	} else {
		free(s);
		close(fd);
	}
	errno = saved;
	return ret;
}

int ksync_sem_open(ksync_sem_t **out, const char *name, int flags, mode_t mode, unsigned int value)
{
	struct ksync_open_args args;

	if (!out)
		return -EINVAL;
	if (value > KSYNC_SEM_VALUE_MAX)
		return -EINVAL;
	memset(&args, 0, sizeof(args));
	args.type = KSYNC_TYPE_SEM;
	args.sem.value = value;
	return sem_wrap(out, ksync_open_object(&args, name, flags, mode), NULL);
}

int ksync_sem_from_fd(ksync_sem_t **out, int fd)
{
	struct ksync_info info;

	if (!out)
		return -EINVAL;
	return sem_wrap(out, ksync_adopt_fd(fd, KSYNC_TYPE_SEM, &info), &info);
}

/*
 * The public calls try the fast path first, in as few instructions as
 * glibc's sem_wait and sem_post; everything else is out of line.
 */
#define likely(x) __builtin_expect(!!(x), 1)

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
	return ksync_ioctl(s->fd, KSYNC_IOC_SEM_ACQUIRE, &args);
}

static inline int sem_fast_ok(const ksync_sem_t *s, unsigned int n)
{
	return likely(s != NULL) && likely(!s->undo) && likely(n <= KSYNC_SEM_VALUE_MAX);
}

static __attribute__((noinline)) int sem_acquire_slow(ksync_sem_t *s, unsigned int n,
						      const struct timespec *deadline)
{
	if (!deadline)
		return sem_wait_slow(s, n, 0, 0);
	if (deadline->tv_nsec < 0 || deadline->tv_nsec >= 1000000000)
		return -EINVAL;
	return sem_wait_slow(s, n, KSYNC_WAIT_DEADLINE, ksync_timespec_ns(deadline));
}

int ksync_sem_acquire(ksync_sem_t *s, unsigned int n, const struct timespec *deadline)
{
	if (sem_fast_ok(s, n) && likely(ksync_fast_take(s->word, n))) {
		ksync_count_fast(&s->page->fast_acquires, 1);
		return 0;
	}
	return sem_acquire_slow(s, n, deadline);
}

int ksync_sem_try_acquire(ksync_sem_t *s, unsigned int n)
{
	int ret;

	if (sem_fast_ok(s, n) && likely(ksync_fast_take(s->word, n))) {
		ksync_count_fast(&s->page->fast_acquires, 1);
		return 0;
	}
	/* ask the kernel even so: a deadline in the past means "try once",
	 * and a failed try re-arms edge-triggered pollers (design.md) */
	ret = sem_wait_slow(s, n, KSYNC_WAIT_DEADLINE, 0);
	return ret == -ETIMEDOUT ? -EAGAIN : ret;
}

static __attribute__((noinline)) int sem_post_slow(ksync_sem_t *s, unsigned int n)
{
	struct ksync_sem_post args = { .size = sizeof(args), .count = n };

	if (!s || n > KSYNC_SEM_VALUE_MAX)
		return -EINVAL;
	if (n == 0)
		return 0;
	return ksync_ioctl(s->fd, KSYNC_IOC_SEM_RELEASE, &args);
}

int ksync_sem_release(ksync_sem_t *s, unsigned int n)
{
	if (sem_fast_ok(s, n)) {
		int ret;

		/* before the give: see ksync_count_fast() */
		ksync_count_fast(&s->page->fast_releases, 1);
		ret = ksync_fast_give(s->word, n);
		if (likely(ret > 0))
			return 0; /* s and its page may be gone now */
		ksync_count_fast(&s->page->fast_releases, -1);
		if (ret < 0)
			return ret;
	}
	return sem_post_slow(s, n);
}

int ksync_sem_value(ksync_sem_t *s)
{
	return s ? ksync_fast_value(s->word) : -EINVAL;
}

int ksync_sem_stats(ksync_sem_t *s, struct ksync_sem_stats *st)
{
	struct ksync_sem_info info;
	int ret;

	if (!s || !st)
		return -EINVAL;
	ret = ksync_ioctl(s->fd, KSYNC_IOC_SEM_INFO, &info);
	if (ret < 0)
		return ret;
	memset(st, 0, sizeof(*st));
	st->wait_calls = info.wait_calls;
	st->wake_calls = info.wake_calls;
	st->woken = info.woken;
	st->waiters = info.waiters;
	return 0;
}

int ksync_sem_fd(ksync_sem_t *s)
{
	return s ? s->fd : -EINVAL;
}

int ksync_sem_close(ksync_sem_t *s)
{
	int ret;

	if (!s)
		return -EINVAL;
	ret = ksync_unmap_close((void *)s->word, s->map_len, s->fd);
	free(s);
	return ret;
}
