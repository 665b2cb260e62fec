/* SPDX-License-Identifier: GPL-2.0 */
/*
 * Reproducible randomness for the tests that throw garbage at the module:
 * xorshift64 from a printed seed, and the values most likely to find an
 * off-by-one or an overflow.
 */
#ifndef KSYNC_SELFTEST_RND_H
#define KSYNC_SELFTEST_RND_H

#include <stdint.h>
#include <stdlib.h>
#include <time.h>

static inline uint64_t rnd(uint64_t *x)
{
	*x ^= *x << 13;
	*x ^= *x >> 7;
	*x ^= *x << 17;
	return *x;
}

/* A number in [0, n); n > 0. */
static inline uint32_t rnd_below(uint64_t *x, uint32_t n)
{
	return (uint32_t)(rnd(x) % n);
}

/* True one time in n. */
static inline int rnd_one_in(uint64_t *x, uint32_t n)
{
	return rnd_below(x, n) == 0;
}

/* Boundaries of 32- and 64-bit fields and of ksync's limits, or noise. */
static inline uint64_t rnd_nasty(uint64_t *x)
{
	static const uint64_t words[] = {
		0,
		1,
		2,
		3,
		7,
		8,
		63,
		64,
		255,
		256,
		4095,
		4096,
		4097,
		65535,
		65536,
		0x7fffffffULL,
		0x80000000ULL,
		0xfffffffeULL,
		0xffffffffULL,
		1ULL << 32,
		1048576,
		1048577,
		0x7fffffffffffffffULL,
		1ULL << 63,
		~0ULL - 1,
		~0ULL,
		0xffffffff00000000ULL,
	};
	uint64_t r = rnd(x);

	if (r & 1)
		return words[(r >> 1) % (sizeof(words) / sizeof(words[0]))];
	return r & 2 ? rnd(x) : rnd(x) % 1024;
}

/*
 * The seed: $name from the environment if set (to replay a failure),
 * else from the clock.  Never 0, which xorshift would keep forever.
 */
static inline uint64_t rnd_seed(const char *name)
{
	const char *env = getenv(name);
	struct timespec ts;
	uint64_t s;

	if (env && *env)
		s = strtoull(env, NULL, 0);
	else {
		clock_gettime(CLOCK_REALTIME, &ts);
		s = (uint64_t)ts.tv_sec * 1000000007ULL ^ (uint64_t)ts.tv_nsec;
	}
	return s ? s : 1;
}

#endif
