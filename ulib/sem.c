// SPDX-License-Identifier: LGPL-2.1-or-later
/*
 * Semaphores.  For now every operation is one ioctl on the object fd; the
 * shared-page fast path comes later (docs/design.md).
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "internal.h"

struct ksync_sem {
	int fd;
};

static int sem_wrap(ksync_sem_t **out, int fd)
{
	ksync_sem_t *s;

	if (fd < 0)
		return fd;
	s = malloc(sizeof(*s));
	if (!s) {
		close(fd);
		return -ENOMEM;
	}
	s->fd = fd;
	*out = s;
	return 0;
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
	return sem_wrap(out, ksync_open_object(&args, name, flags, mode));
}

int ksync_sem_from_fd(ksync_sem_t **out, int fd)
{
	if (!out)
		return -EINVAL;
	return sem_wrap(out, ksync_adopt_fd(fd, KSYNC_TYPE_SEM));
}

static int sem_wait(ksync_sem_t *s, unsigned int n, uint32_t flags, uint64_t deadline)
{
	struct ksync_sem_wait args = { .count = n, .flags = flags, .deadline = deadline };

	if (!s)
		return -EINVAL;
	if (n > KSYNC_SEM_VALUE_MAX)
		return -EINVAL;
	return ksync_ioctl(s->fd, KSYNC_IOC_SEM_ACQUIRE, &args);
}

int ksync_sem_acquire(ksync_sem_t *s, unsigned int n, const struct timespec *deadline)
{
	if (!deadline)
		return sem_wait(s, n, 0, 0);
	if (deadline->tv_nsec < 0 || deadline->tv_nsec >= 1000000000)
		return -EINVAL;
	return sem_wait(s, n, KSYNC_WAIT_DEADLINE, ksync_timespec_ns(deadline));
}

int ksync_sem_try_acquire(ksync_sem_t *s, unsigned int n)
{
	/* a deadline in the past means "try once" */
	int ret = sem_wait(s, n, KSYNC_WAIT_DEADLINE, 0);

	return ret == -ETIMEDOUT ? -EAGAIN : ret;
}

int ksync_sem_release(ksync_sem_t *s, unsigned int n)
{
	struct ksync_sem_post args = { .count = n };

	if (!s)
		return -EINVAL;
	if (n > KSYNC_SEM_VALUE_MAX)
		return -EINVAL;
	return ksync_ioctl(s->fd, KSYNC_IOC_SEM_RELEASE, &args);
}

int ksync_sem_value(ksync_sem_t *s)
{
	struct ksync_sem_info info;
	int ret;

	if (!s)
		return -EINVAL;
	ret = ksync_ioctl(s->fd, KSYNC_IOC_SEM_INFO, &info);
	return ret < 0 ? ret : (int)info.value;
}

int ksync_sem_fd(ksync_sem_t *s)
{
	return s ? s->fd : -EINVAL;
}

int ksync_sem_close(ksync_sem_t *s)
{
	int saved = errno;
	int ret = 0;

	if (!s)
		return -EINVAL;
	/* close(2) may report EINTR, but on Linux the fd is gone either way */
	if (close(s->fd) < 0 && errno != EINTR)
		ret = -errno;
	errno = saved;
	free(s);
	return ret;
}
