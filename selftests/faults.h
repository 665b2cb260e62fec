/* SPDX-License-Identifier: GPL-2.0 */
/*
 * Fault injection on the debug kernels: /proc/thread-self/fail-nth makes
 * the n-th slab or page allocation of the calling thread fail (failslab
 * and fail_page_alloc both count it).  The knobs' defaults would leave
 * the module's allocations alone (they may sleep: ignore-gfp-wait) and
 * print a stack for each fault (a "Call Trace" that ksync-vm takes for a
 * kernel report): fault_setup() sets what every test needs.
 */
#ifndef KSYNC_SELFTEST_FAULTS_H
#define KSYNC_SELFTEST_FAULTS_H

#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "common.h"

/* 0 when the kernel has fault injection and it is set up, else -1. */
static inline int fault_setup(void)
{
	static const char *const knobs[][2] = {
		{ "/sys/kernel/debug/failslab/ignore-gfp-wait", "N" },
		{ "/sys/kernel/debug/fail_page_alloc/ignore-gfp-wait", "N" },
		{ "/sys/kernel/debug/fail_page_alloc/min-order", "0" },
		{ "/sys/kernel/debug/failslab/verbose", "0" },
		{ "/sys/kernel/debug/fail_page_alloc/verbose", "0" },
	};

	if (access("/proc/thread-self/fail-nth", W_OK))
		return -1;
	for (unsigned int i = 0; i < sizeof(knobs) / sizeof(knobs[0]); i++)
		if (write_text(knobs[i][0], knobs[i][1]))
			return -1;
	return 0;
}

/* This thread's fail-nth, to keep open: opening it allocates. */
static inline int fault_open(void)
{
	return open("/proc/thread-self/fail-nth", O_RDWR | O_CLOEXEC);
}

/* Arm: the n-th allocation of this thread from now fails (0: disarm). */
static inline int fault_arm(int fd, int n)
{
	char v[16];

	snprintf(v, sizeof(v), "%d", n);
	return pwrite(fd, v, strlen(v), 0) == (ssize_t)strlen(v) ? 0 : -1;
}

/* Allocations still to go before the fault; 0 once it was injected. */
static inline int fault_left(int fd)
{
	char buf[32] = "";

	if (pread(fd, buf, sizeof(buf) - 1, 0) < 0)
		return -1;
	return atoi(buf);
}

#endif
