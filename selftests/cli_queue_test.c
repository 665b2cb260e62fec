// SPDX-License-Identifier: GPL-2.0
/*
 * ksync send and ksync recv: a queue as a shell pipeline's work list.
 * Messages arrive whole and in order, the end of input reaches the
 * receiver as exit 0, and every failure has its exit code.
 */
#include "cli.h"
#include "kselftest_harness.h"

FIXTURE(q)
{
	char name[64];
};

FIXTURE_SETUP(q)
{
	struct run r;

	snprintf(self->name, sizeof(self->name), "%s", test_name("jobs"));
	ASSERT_EQ(0, KSYNC(&r, "create", "queue", self->name, "8", "32"));
}

FIXTURE_TEARDOWN(q)
{
	/* self->name and any other a test made, passed or failed */
	unlink_own_names();
}

/* Arguments in, lines out; the sender's end is the receiver's EOF. */
TEST_F(q, arguments_then_eof)
{
	struct run r;

	ASSERT_EQ(0, KSYNC(&r, "send", self->name, "one", "two words", ""));
	ASSERT_EQ(0, KSYNC(&r, "recv", self->name, "--timeout", "20"));
	ASSERT_STREQ("one\ntwo words\n\n", r.out);
	/* the queue is shut down now: later sends fail, receives see the end */
	ASSERT_EQ(16, KSYNC(&r, "send", self->name, "late"));
	ASSERT_NE(NULL, strstr(r.err, "shut down"));
	ASSERT_EQ(0, KSYNC(&r, "recv", self->name));
	ASSERT_STREQ("", r.out);
}

TEST_F(q, stdin_lines_and_count)
{
	struct run r;

	ASSERT_EQ(0, KSYNC_IN(&r, "a\nb\nc\nd", "send", self->name));
	ASSERT_EQ(0, KSYNC(&r, "recv", "-n", "2", self->name));
	ASSERT_STREQ("a\nb\n", r.out);
	ASSERT_EQ(0, KSYNC(&r, "info", "--json", self->name));
	ASSERT_NE(NULL, strstr(r.out, "\"length\":2,"));
	ASSERT_EQ(0, KSYNC(&r, "recv", self->name));
	ASSERT_STREQ("c\nd\n", r.out);
}

TEST_F(q, null_separated_and_whole)
{
	ksync_queue_t *q;
	char buf[64];
	struct run r;

	/* a sender of our own keeps the queue open across the commands */
	ASSERT_EQ(0, ksync_queue_open(&q, self->name, 0, 0, 0, 0));
	ASSERT_EQ(0, ksync_queue_join(q));
	ASSERT_EQ(0, run_cmd(&r, ksync_bin(), "x\ny\0z", 5, 20000,
			     (const char *const[]){ "ksync", "send", "-0", self->name, NULL }));
	ASSERT_EQ(0, KSYNC_IN(&r, "line 1\nline 2\n", "send", "--whole", self->name));
	ASSERT_EQ(3, ksync_queue_recv(q, buf, sizeof(buf), NULL));
	ASSERT_EQ(0, memcmp(buf, "x\ny", 3));
	ASSERT_EQ(1, ksync_queue_recv(q, buf, sizeof(buf), NULL));
	ASSERT_EQ('z', buf[0]);
	ASSERT_EQ(14, ksync_queue_recv(q, buf, sizeof(buf), NULL));
	ASSERT_EQ(0, memcmp(buf, "line 1\nline 2\n", 14));
	ASSERT_EQ(0, ksync_queue_send(q, "p\nq", 3, NULL));
	ASSERT_EQ(0, ksync_queue_send(q, "r", 1, NULL));
	ASSERT_EQ(0, KSYNC(&r, "recv", "-0", "-n", "2", self->name));
	ASSERT_EQ(0, memcmp(r.out, "p\nq\0r\0", 6));
	ksync_queue_close(q);
}

TEST_F(q, too_long_and_timeouts)
{
	char big[40];
	int64_t start;
	ksync_queue_t *q;
	struct run r;

	memset(big, 'x', sizeof(big) - 1);
	big[sizeof(big) - 1] = 0;
	ASSERT_EQ(0, ksync_queue_open(&q, self->name, 0, 0, 0, 0));
	ASSERT_EQ(0, ksync_queue_join(q));
	ASSERT_EQ(1, KSYNC(&r, "send", self->name, big));
	ASSERT_NE(NULL, strstr(r.err, "at most 32"));
	/* empty: recv waits out its deadline */
	start = now_ns();
	ASSERT_EQ(15, KSYNC(&r, "recv", "--timeout", "0.3", self->name));
	ASSERT_LE(300000000, now_ns() - start);
	/* full: so does send */
	for (int i = 0; i < 8; i++) {
		ASSERT_EQ(0, ksync_queue_send(q, "m", 1, NULL));
	}
	start = now_ns();
	ASSERT_EQ(15, KSYNC(&r, "send", "--timeout", "0.3", self->name, "one more"));
	ASSERT_LE(300000000, now_ns() - start);
	ASSERT_EQ(8, ksync_queue_len(q));
	ksync_queue_close(q);
}

/* A shell pipeline consumes the queue while a producer fills it. */
TEST_F(q, pipeline)
{
	static char script[2 * PATH_MAX + 512];
	struct run r;

	snprintf(script, sizeof(script),
		 "(seq 1 100 | %s send %s) & "
		 "%s recv %s | { while read -r n; do s=$((s + n)); done; echo sum $s; }; wait",
		 ksync_bin(), self->name, ksync_bin(), self->name);
	ASSERT_EQ(0, run_cmd(&r, "sh", NULL, 0, 60000,
			     (const char *const[]){ "sh", "-c", script, NULL }));
	ASSERT_STREQ("sum 5050\n", r.out);
}

TEST_HARNESS_MAIN
