// SPDX-License-Identifier: LGPL-2.1-or-later
/* The device, names, deadlines, mappings, forks. */
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdatomic.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <unistd.h>

#include "internal.h"

int ksync_ioctl(int fd, unsigned long cmd, void *arg)
{
	int saved = errno;
	int ret = ioctl(fd, cmd, arg);

	if (ret < 0) {
		ret = -errno;
		errno = saved;
	}
	return ret;
}

/*
 * /dev/ksync is opened per call: the library keeps no global state.  A
 * missing node (ENOENT), or one whose driver is gone (ENXIO, ENODEV), is
 * -ENODEV: the module is not loaded.  -ENOENT stays "no such name".
 */
int ksync_device(void)
{
	int saved = errno;
	int fd = open(KSYNC_DEVICE, O_RDWR | O_CLOEXEC);

	if (fd < 0) {
		fd = errno == ENOENT || errno == ENXIO ? -ENODEV : -errno;
		errno = saved;
	}
	return fd;
}

int ksync_unlink(const char *name)
{
	struct ksync_unlink_args args;
	int dev, ret;

	if (!name)
		return -EINVAL;
	memset(&args, 0, sizeof(args));
	args.size = sizeof(args);
	args.name = (uintptr_t)name;
	dev = ksync_device();
	if (dev < 0)
		return dev;
	ret = ksync_ioctl(dev, KSYNC_IOC_UNLINK, &args);
	close(dev);
	return ret;
}

uint64_t ksync_timespec_ns(const struct timespec *ts)
{
	if (ts->tv_sec < 0)
		return 0;
	if ((uint64_t)ts->tv_sec > (UINT64_MAX - 999999999) / 1000000000)
		return UINT64_MAX;
	return (uint64_t)ts->tv_sec * 1000000000 + (uint64_t)ts->tv_nsec;
}

struct timespec ksync_deadline_ms(long ms)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	ts.tv_sec += ms / 1000;
	ts.tv_nsec += (ms % 1000) * 1000000;
	if (ts.tv_nsec >= 1000000000) {
		ts.tv_sec++;
		ts.tv_nsec -= 1000000000;
	} else if (ts.tv_nsec < 0) {
		ts.tv_sec--;
		ts.tv_nsec += 1000000000;
	}
	return ts;
}

int ksync_map_page(int fd, void **page, size_t *len)
{
	int saved = errno;
	void *p;

	*len = (size_t)sysconf(_SC_PAGESIZE);
	p = mmap(NULL, *len, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
	if (p == MAP_FAILED) {
		int ret = -errno;

		errno = saved;
		return ret;
	}
	*page = p;
	return 0;
}

void *ksync_map_to_read(int fd, size_t len)
{
	int saved = errno;
	void *p = mmap(NULL, len, PROT_READ, MAP_SHARED, fd, 0);

	errno = saved;
	return p == MAP_FAILED ? NULL : p;
}

/*
 * munmap can fail only for want of memory, even for a whole mapping (6.1's
 * maple tree allocates to unmap): try twice, then report it.  A mapping
 * left behind keeps its object alive.
 */
int ksync_unmap(void *p, size_t len)
{
	int saved = errno;
	int ret = 0;

	if (munmap(p, len) && munmap(p, len))
		ret = -errno;
	errno = saved;
	return ret;
}

int ksync_unmap_close(void *p, size_t len, int fd)
{
	int saved = errno;
	int ret = p ? ksync_unmap(p, len) : 0;

	/* the fd goes either way; close(2) may report EINTR, but on Linux the
	 * fd is gone then too */
	if (close(fd) < 0 && errno != EINTR && !ret)
		ret = -errno;
	errno = saved;
	return ret;
}

/*
 * A number that changes in every child at fork, so that a handle can tell
 * cheaply that it is used by a process that has not joined yet (getpid()
 * is a system call).  Processes made by clone(2) without fork's handlers
 * must not share barrier handles with their parent.
 */
static atomic_uint fork_epoch = 1;
static pthread_once_t fork_once = PTHREAD_ONCE_INIT;

static void count_fork(void)
{
	atomic_fetch_add_explicit(&fork_epoch, 1, memory_order_relaxed);
}

static void watch_forks(void)
{
	pthread_atfork(NULL, NULL, count_fork);
}

unsigned int ksync_process_epoch(void)
{
	pthread_once(&fork_once, watch_forks);
	return atomic_load_explicit(&fork_epoch, memory_order_relaxed);
}
