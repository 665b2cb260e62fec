/* SPDX-License-Identifier: GPL-2.0 */
/*
 * /dev/ksync without the library, for the tests whose subject is the
 * module's ABI itself (bad arguments, structs of other sizes, the
 * listing's paging): everything else goes through libksync.
 */
#ifndef KSYNC_SELFTEST_RAW_H
#define KSYNC_SELFTEST_RAW_H

#include <errno.h>
#include <fcntl.h>
#include <sys/ioctl.h>
#include <unistd.h>

#include <linux/ksync.h>

/* An ioctl on a fresh /dev/ksync fd; -errno on failure. */
static inline int ksync_dev_ioctl(unsigned long cmd, void *arg)
{
	int fd = open("/dev/ksync", O_RDWR | O_CLOEXEC);
	int ret;

	if (fd < 0)
		return -errno;
	ret = ioctl(fd, cmd, arg);
	if (ret < 0)
		ret = -errno;
	close(fd);
	return ret;
}

#endif
