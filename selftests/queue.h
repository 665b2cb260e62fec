/* SPDX-License-Identifier: GPL-2.0 */
/* Helpers the queue tests share. */
#ifndef KSYNC_SELFTEST_QUEUE_H
#define KSYNC_SELFTEST_QUEUE_H

#include "common.h"

static inline struct ksync_queue_stats queue_stats(ksync_queue_t *q)
{
	struct ksync_queue_stats st;

	memset(&st, 0xff, sizeof(st));
	if (ksync_queue_stats(q, &st))
		memset(&st, 0xff, sizeof(st));
	return st;
}

/* Wait until n tasks sleep to receive (recv) or to send; false after ms. */
static inline int wait_queue_sleepers(ksync_queue_t *q, int recv, unsigned int n, int ms)
{
	int64_t end = now_ns() + (int64_t)ms * 1000000;

	for (;;) {
		struct ksync_queue_stats st = queue_stats(q);

		if ((recv ? st.recv_sleepers : st.send_sleepers) == n)
			return 1;
		if (now_ns() > end)
			return 0;
		pause_us(200);
	}
}

/* A numbered message: who sent it and its number in that sender's order. */
struct qmsg {
	uint32_t sender;
	uint32_t seq;
};

/* A deadline ms from now, for calls that must not hang a test. */
static inline struct timespec in_ms(long ms)
{
	return ksync_deadline_ms(ms);
}

#endif
