// SPDX-License-Identifier: GPL-2.0
/*
 * The examples are programs people copy: each must do what its comment
 * says.  Run each with arguments of our choosing and check what it
 * reports against figures computed here from those arguments.
 */
#include <inttypes.h>

#include "cli.h"
#include "kselftest_harness.h"

/* Run build/examples/name with args within 120 s; its exit status. */
static int example(struct run *r, const char *name, const char *const args[])
{
	char path[PATH_MAX], sub[64];

	snprintf(sub, sizeof(sub), "examples/%s", name);
	return run_cmd(r, build_path(sub, path, sizeof(path)), NULL, 0, 120000, args);
}

static uint64_t sum_of_squares(uint64_t n)
{
	return n * (n + 1) * (2 * n + 1) / 6;
}

TEST(limiter)
{
	int limit, most, served, calls, gave_up;
	char kept[8];
	struct run r;

	ASSERT_EQ(0, example(&r, "limiter", (const char *const[]){ "limiter", "6", "2", NULL }));
	ASSERT_EQ(6, sscanf(r.out,
			    "limit %d: most at once %d; %d of %d calls served, %d gave up; "
			    "deadline kept: %7s",
			    &limit, &most, &served, &calls, &gave_up, kept));
	ASSERT_EQ(2, limit);
	ASSERT_LE(1, most);
	ASSERT_GE(2, most);
	ASSERT_LT(0, calls);
	ASSERT_EQ(calls, served + gave_up);
	ASSERT_STREQ("yes", kept);
}

TEST(pool)
{
	unsigned long long sum;
	int got, bad, failed;
	int jobs;
	char right[8], end[8];
	const char *p;
	struct run r;

	ASSERT_EQ(0, example(&r, "pool", (const char *const[]){ "pool", "3", "500", NULL }));
	p = strchr(r.out, '\n');
	ASSERT_NE(NULL, p);
	ASSERT_EQ(7, sscanf(p + 1,
			    "%d of %d results, sum of squares %llu (%7[^)]), %d bad or twice, %d "
			    "processes failed; results ended with %7s",
			    &got, &jobs, &sum, right, &bad, &failed, end));
	ASSERT_EQ(500, got);
	ASSERT_EQ(sum_of_squares(500), sum);
	ASSERT_EQ(0, bad);
	ASSERT_EQ(0, failed);
	ASSERT_STREQ("EOF", end);
}

TEST(pipeline)
{
	unsigned long long sent, n, done, got, at, sum;
	char end[8];
	struct run r;

	ASSERT_EQ(0, example(&r, "pipeline",
			     (const char *const[]){ "pipeline", "100000", "50", NULL }));
	ASSERT_EQ(7, sscanf(r.out,
			    "gen sent %llu of %llu, square did %llu, sum got %llu (cancelled at "
			    "%llu), sum %llu (right), end: %7s",
			    &sent, &n, &done, &got, &at, &sum, end));
	/* cancelled: gen stopped soon after the 50th, and every stage agrees */
	ASSERT_LE(50ULL, sent);
	ASSERT_GT(100ULL, sent);
	ASSERT_EQ(sent, done);
	ASSERT_EQ(sent, got);
	ASSERT_EQ(sum_of_squares(sent), sum);
	ASSERT_STREQ("EOF", end);
}

/* fan-in with a select: every item of every source once, in order; every end seen */
TEST(merge)
{
	int sources, each, failed;
	unsigned int got, bad;
	char end[8];
	struct run r;

	ASSERT_EQ(0, example(&r, "merge", (const char *const[]){ "merge", "5", "400", NULL }));
	ASSERT_EQ(6, sscanf(r.out,
			    "%d sources sent %d each; merged %u, %u out of order or twice, "
			    "%d processes failed, end: %7s",
			    &sources, &each, &got, &bad, &failed, end));
	ASSERT_EQ(5, sources);
	ASSERT_EQ(2000u, got);
	ASSERT_EQ(0u, bad);
	ASSERT_EQ(0, failed);
	ASSERT_STREQ("EOF", end);
}

/*
 * A pipeline cancelled from outside: every process stops, and every item
 * gen sent is in one place once (the example checks the order; "yes").
 */
TEST(cancel)
{
	unsigned long long at, sent, got, held, queued;
	int stages, failed;
	char once[4];
	double ms;
	struct run r;

	ASSERT_EQ(0, example(&r, "cancel", (const char *const[]){ "cancel", "3", "500", NULL }));
	ASSERT_EQ(9, sscanf(r.out,
			    "%d stages, cancelled after %llu: gen sent %llu; the sink got %llu, "
			    "stages held %llu, queues held %llu; every item once, in order: %3s; "
			    "all stopped in %lf ms; %d processes failed",
			    &stages, &at, &sent, &got, &held, &queued, once, &ms, &failed));
	ASSERT_STREQ("yes", once);
	ASSERT_LE(500ULL, got);
	ASSERT_EQ(sent, got + held + queued);
	/* at most one item in each stage's hands, at most 4 in each of the 4 queues */
	ASSERT_GE(3ULL, held);
	ASSERT_GE(16ULL, queued);
	ASSERT_EQ(0, failed);
}

TEST(fanout)
{
	int a, b, c, got, bad;
	int items, failed;
	char end[8];
	struct run r;

	ASSERT_EQ(0, example(&r, "fanout", (const char *const[]){ "fanout", "3", "1000", NULL }));
	ASSERT_EQ(8, sscanf(r.out,
			    "3 workers took %d %d %d; merged %d of %d, %d out of order or twice, "
			    "%d processes failed, end: %7s",
			    &a, &b, &c, &got, &items, &bad, &failed, end));
	ASSERT_EQ(1000, got);
	ASSERT_EQ(1000, a + b + c);
	ASSERT_EQ(0, bad);
	ASSERT_STREQ("EOF", end);
}

TEST(phases)
{
	unsigned long long first, last;
	int wrong, failed;
	struct run r;

	ASSERT_EQ(0, example(&r, "phases", (const char *const[]){ "phases", "3", "8", NULL }));
	ASSERT_EQ(4, sscanf(r.out,
			    "3 processes, 8 phases: totals %llu .. %llu, %d phases wrong, %d "
			    "processes failed",
			    &first, &last, &wrong, &failed));
	/* 1 + 2 + ... + 4096, doubled in each of the 7 phases after the first */
	ASSERT_EQ(4096ULL * 4097 / 2, first);
	ASSERT_EQ(first << 7, last);
	ASSERT_EQ(0, wrong);
}

TEST(crash)
{
	int got, died, bad;
	int jobs, permits, failed, broken = 0;
	const char *p;
	struct run r;

	ASSERT_EQ(0, example(&r, "crash", (const char *const[]){ "crash", "4", "300", NULL }));
	ASSERT_NE(NULL, strstr(r.out, "its permit came back: 2 of 2 free"));
	ASSERT_NE(NULL, strstr(r.out, "the barrier broke instead of waiting"));
	/* both survivors found the barrier broken rather than waiting */
	for (p = r.out; (p = strstr(p, "halfway barrier is broken")); p++)
		broken++;
	ASSERT_EQ(2, broken);
	p = strstr(r.out, "pool finished: ");
	ASSERT_NE(NULL, p);
	ASSERT_EQ(6, sscanf(p,
			    "pool finished: %d of %d results, %d jobs died with their workers, %d "
			    "bad; permits %d of 2; %d survivors failed",
			    &got, &jobs, &died, &bad, &permits, &failed));
	/* each dead worker took at most the job in its hands */
	ASSERT_GE(2, died);
	ASSERT_EQ(300, got + died);
	ASSERT_EQ(0, bad);
	ASSERT_EQ(2, permits);
	ASSERT_EQ(0, failed);
}

TEST_HARNESS_MAIN
