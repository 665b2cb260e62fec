// SPDX-License-Identifier: GPL-2.0
/*
 * /proc/PID/fdinfo/FD: what it shows, that a name cannot forge its lines,
 * and that reading it while the name is unlinked is safe (the debug kernel's
 * KASAN watches that race; ksync-vm fails the run on any report).
 */
#include <pthread.h>
#include <stdatomic.h>

#include "common.h"
#include "kselftest_harness.h"

/* How many lines of buf start with key. */
static int lines_starting(const char *buf, const char *key)
{
	int n = 0;

	for (const char *p = buf; p; p = strchr(p, '\n')) {
		if (*p == '\n')
			p++;
		if (!strncmp(p, key, strlen(key)))
			n++;
	}
	return n;
}

TEST(names_are_escaped)
{
	const char *name = "/a\nksync-value:\t999 \\x\x7f\xc3\xa9";
	char buf[4096];
	ksync_sem_t *s;

	ksync_unlink(name);
	ASSERT_EQ(0, ksync_sem_open(&s, name, KSYNC_CREATE | KSYNC_EXCL, 0600, 1));
	ASSERT_GT(read_fdinfo(ksync_sem_fd(s), buf, sizeof(buf)), 0);
	ASSERT_EQ(1, lines_starting(buf, "ksync-value:"));
	ASSERT_EQ(1, lines_starting(buf, "ksync-value:\t1\n"));
	ASSERT_NE(NULL,
		  strstr(buf,
			 "ksync-name:\t/a\\012ksync-value:\\011999\\040\\134x\\177\\303\\251\n"));
	ASSERT_NE(NULL, strstr(buf, "ksync-linked:\t1\n"));
	ASSERT_EQ(0, ksync_unlink(name));
	/* unlinked: the name is still shown, and says so */
	ASSERT_GT(read_fdinfo(ksync_sem_fd(s), buf, sizeof(buf)), 0);
	ASSERT_NE(NULL, strstr(buf, "ksync-name:\t/a\\012"));
	ASSERT_NE(NULL, strstr(buf, "ksync-linked:\t0\n"));
	ksync_sem_close(s);
}

TEST(anonymous_has_empty_name)
{
	char buf[4096];
	ksync_sem_t *s;

	ASSERT_EQ(0, ksync_sem_open(&s, NULL, 0, 0600, 0));
	ASSERT_GT(read_fdinfo(ksync_sem_fd(s), buf, sizeof(buf)), 0);
	ASSERT_NE(NULL, strstr(buf, "ksync-name:\t\n"));
	ASSERT_NE(NULL, strstr(buf, "ksync-linked:\t0\n"));
	ksync_sem_close(s);
}

/*
 * One thread reads fdinfo in a loop while another creates a name, unlinks
 * it and closes the fd.  The reader must only ever see whole names.
 */
struct race {
	atomic_int fd;
	atomic_int stop;
	atomic_long reads;
	atomic_int bad;
	char prefix[32];
};

static void *reader(void *arg)
{
	struct race *r = arg;
	char buf[4096];

	while (!atomic_load(&r->stop)) {
		const char *p;

		if (read_fdinfo(atomic_load(&r->fd), buf, sizeof(buf)) <= 0)
			continue;
		atomic_fetch_add(&r->reads, 1);
		p = strstr(buf, "ksync-name:\t");
		if (!p)
			continue; /* the fd number went to another file meanwhile */
		/* a whole name: our prefix, the rest of 256 bytes, then \n */
		if (strncmp(p + 12, r->prefix, strlen(r->prefix)) ||
		    strchr(p + 12, '\n') - (p + 12) != KSYNC_NAME_MAX + 1)
			atomic_fetch_add(&r->bad, 1);
	}
	return NULL;
}

FIXTURE(race)
{
	int unused;
};

FIXTURE_SETUP(race)
{
}

FIXTURE_TEARDOWN(race)
{
}

/* KSYNC_RACE_SECONDS (default 3) sets how long it runs. */
TEST_F_TIMEOUT(race, fdinfo_races_unlink, 600)
{
	const char *env = getenv("KSYNC_RACE_SECONDS");
	int64_t end = now_ns() + (env ? atoll(env) : 3) * 1000000000LL;
	struct race r = { .fd = -1 };
	char name[KSYNC_NAME_MAX + 2];
	long rounds = 0;
	pthread_t th;

	snprintf(r.prefix, sizeof(r.prefix), "/fdi%d-", (int)getpid());
	ASSERT_EQ(0, pthread_create(&th, NULL, reader, &r));
	while (now_ns() < end) {
		ksync_sem_t *s;

		/* the longest name there is: the most bytes to print */
		int k = snprintf(name, sizeof(name), "%s%ld-", r.prefix, rounds++);

		memset(name + k, 'n', sizeof(name) - 1 - k);
		name[sizeof(name) - 1] = 0;
		ASSERT_EQ(0, ksync_sem_open(&s, name, KSYNC_CREATE | KSYNC_EXCL, 0600, 0));
		atomic_store(&r.fd, ksync_sem_fd(s));
		ASSERT_EQ(0, ksync_unlink(name));
		ksync_sem_close(s);
	}
	atomic_store(&r.stop, 1);
	pthread_join(th, NULL);
	TH_LOG("%ld rounds, %ld reads", rounds, atomic_load(&r.reads));
	ASSERT_EQ(0, atomic_load(&r.bad));
}

TEST_HARNESS_MAIN
