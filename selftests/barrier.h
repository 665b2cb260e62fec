/* SPDX-License-Identifier: GPL-2.0 */
/* What the barrier tests share. */
#ifndef KSYNC_SELFTEST_BARRIER_H
#define KSYNC_SELFTEST_BARRIER_H

#include "common.h"

/* Exit codes of a child that waited once: what ksync_barrier_wait said. */
enum { W_PASSED = 10, W_SERIAL, W_EPIPE, W_ETIMEDOUT, W_EINTR, W_OTHER };

static inline int wait_code(int ret)
{
	switch (ret) {
	case 0:
		return W_PASSED;
	case 1:
		return W_SERIAL;
	case -EPIPE:
		return W_EPIPE;
	case -ETIMEDOUT:
		return W_ETIMEDOUT;
	case -EINTR:
		return W_EINTR;
	default:
		return W_OTHER;
	}
}

/* A child that waits once on b (at most ms) and exits with wait_code(). */
static inline pid_t barrier_child(ksync_barrier_t *b, long ms)
{
	pid_t pid = fork();

	if (pid == 0) {
		struct timespec dl = ksync_deadline_ms(ms);

		_exit(wait_code(ksync_barrier_wait(b, &dl)));
	}
	return pid;
}

/* ksync_barrier_stats() in signed fields, as the harness compares them. */
struct bstats {
	int parties, waiting, generation, broken, sleepers;
	long long wait_calls, woken, breaks, resets;
};

static inline struct bstats barrier_stats(ksync_barrier_t *b)
{
	struct ksync_barrier_stats st;
	struct bstats r = { -1, -1, -1, -1, -1, -1, -1, -1, -1 };

	if (ksync_barrier_stats(b, &st) == 0)
		r = (struct bstats){ (int)st.parties,	  (int)st.waiting,
				     (int)st.generation,  (int)st.broken,
				     (int)st.sleepers,	  (long long)st.wait_calls,
				     (long long)st.woken, (long long)st.breaks,
				     (long long)st.resets };
	return r;
}

/* Wait until b's count (waiting, or sleepers) is n; false after ms. */
static inline int wait_count(ksync_barrier_t *b, int sleepers, int n, int ms)
{
	int64_t end = now_ns() + (int64_t)ms * 1000000;

	for (;;) {
		struct bstats st = barrier_stats(b);

		if ((sleepers ? st.sleepers : st.waiting) == n)
			return 1;
		if (now_ns() > end)
			return 0;
		pause_us(200);
	}
}

/* Wait until n parties have arrived in b's round. */
static inline int wait_arrived(ksync_barrier_t *b, int n, int ms)
{
	return wait_count(b, 0, n, ms);
}

/* Wait until n tasks sleep in the kernel on b. */
static inline int wait_sleepers(ksync_barrier_t *b, int n, int ms)
{
	return wait_count(b, 1, n, ms);
}

#endif
