// SPDX-License-Identifier: GPL-2.0
/*
 * ksync send, recv, hold and shutdown: a queue as a shell pipeline's work
 * list, or a FIFO fed by one script after another.  Messages arrive whole
 * and in order, the end of input reaches the receiver as exit 0, the next
 * sender starts a new input, and every failure has its exit code.
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
	/* a later sender starts a new input, as a FIFO's next writer */
	ASSERT_EQ(0, KSYNC(&r, "send", self->name, "late"));
	ASSERT_EQ(0, KSYNC(&r, "recv", self->name, "--timeout", "20"));
	ASSERT_STREQ("late\n", r.out);
	/* shut down for good: later sends fail, receives see the end */
	ASSERT_EQ(0, KSYNC(&r, "shutdown", self->name));
	ASSERT_EQ(16, KSYNC(&r, "send", self->name, "later"));
	ASSERT_NE(NULL, strstr(r.err, "shut down"));
	ASSERT_EQ(0, KSYNC(&r, "recv", self->name));
	ASSERT_STREQ("", r.out);
}

/* One ksync send per message, from a shell loop: each is a sender in turn. */
TEST_F(q, one_send_per_message)
{
	struct run r;
	const char *letters[] = { "a", "b", "c" };

	for (int i = 0; i < 3; i++) {
		ASSERT_EQ(0, KSYNC(&r, "send", self->name, letters[i]));
	}
	ASSERT_EQ(0, KSYNC(&r, "recv", self->name, "--timeout", "20"));
	ASSERT_STREQ("a\nb\nc\n", r.out);
}

/* Wait until n receivers sleep on the queue; false after 10 s. */
static bool receivers_asleep(const char *name, unsigned int n)
{
	struct ksync_queue_stats st;
	ksync_queue_t *q;
	bool ok = false;

	if (ksync_queue_open(&q, name, KSYNC_QUEUE_RECV, 0, 0, 0))
		return false;
	for (int64_t end = now_ns() + 10000000000LL; !ok && now_ns() < end; pause_us(1000))
		ok = !ksync_queue_stats(q, &st) && st.recv_sleepers == n;
	ksync_queue_close(q);
	return ok;
}

/* A receiver that came first; its output once it has exited. */
struct waiting {
	pid_t pid;
	int in, out, err;
};

static bool start_recv(struct waiting *w, const char *name, const char *opt)
{
	w->pid = ksync_start((const char *const[]){ "ksync", "recv", opt ? opt : "-0", name,
						    "--timeout", "20", NULL },
			     &w->in, &w->out, &w->err);
	close(w->in);
	return w->pid > 0 && receivers_asleep(name, 1);
}

static int end_recv(struct waiting *w, char *buf, size_t len)
{
	drain(w->out, buf, len, now_ns() + 20000000000LL);
	close(w->out);
	close(w->err);
	return wait_child(w->pid, 20000);
}

/*
 * `true | ksync send`: a sender with nothing to say still ends the input,
 * and the receiver waiting for it exits 0 (it waited for ever).
 */
TEST_F(q, empty_input_ends)
{
	struct waiting w;
	char out[64];
	struct run r;

	ASSERT_TRUE(start_recv(&w, self->name, NULL));
	ASSERT_EQ(0, KSYNC_IN(&r, "", "send", self->name));
	ASSERT_EQ(0, end_recv(&w, out, sizeof(out)));
	ASSERT_STREQ("", out);
}

/*
 * ksync hold: the producers it runs hold one input between them, so the
 * receiver does not see an end between the first one and the second.
 */
TEST_F(q, hold_declares_the_producers)
{
	static char script[4 * PATH_MAX];
	struct waiting w;
	char out[64];
	struct run r;

	ASSERT_TRUE(start_recv(&w, self->name, "--count=9"));
	snprintf(script, sizeof(script), "%s send %s a && %s send %s b", ksync_bin(), self->name,
		 ksync_bin(), self->name);
	ASSERT_EQ(0, KSYNC(&r, "hold", self->name, "--", "sh", "-c", script));
	ASSERT_EQ(0, end_recv(&w, out, sizeof(out)));
	ASSERT_STREQ("a\nb\n", out);
	/* its command's status comes back */
	ASSERT_EQ(3, KSYNC(&r, "hold", self->name, "--", "sh", "-c", "exit 3"));
	ASSERT_EQ(127, KSYNC(&r, "hold", self->name, "--", "/nonexistent/cmd"));
}

/* recv --follow: one input after another, until the queue is shut down. */
TEST_F(q, follow_until_shutdown)
{
	struct waiting w;
	char out[64];
	struct run r;

	ASSERT_TRUE(start_recv(&w, self->name, "--follow"));
	ASSERT_EQ(0, KSYNC(&r, "send", self->name, "a"));
	ASSERT_EQ(0, KSYNC(&r, "send", self->name, "b"));
	ASSERT_TRUE(receivers_asleep(self->name, 1));
	ASSERT_EQ(0, KSYNC(&r, "shutdown", self->name));
	ASSERT_EQ(0, end_recv(&w, out, sizeof(out)));
	ASSERT_STREQ("a\nb\n", out);
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

/*
 * Run ksync with stdin and stdout on the given files (as a shell's
 * redirections do) and its stderr in r->err, within 20 s.
 */
static int ksync_redirected(struct run *r, const char *in, const char *out,
			    const char *const args[])
{
	int fin = open(in, O_RDONLY | O_CLOEXEC), fout = open(out, O_WRONLY | O_CLOEXEC);
	int pe[2];
	pid_t pid;

	r->out[0] = r->err[0] = 0;
	if (fin < 0 || fout < 0 || pipe2(pe, O_CLOEXEC))
		return r->status = -1;
	pid = fork();
	if (pid == 0) {
		dup2(fin, 0);
		dup2(fout, 1);
		dup2(pe[1], 2);
		fexecve(ksync_exe, (char *const *)args, environ);
		_exit(99);
	}
	close(fin);
	close(fout);
	close(pe[1]);
	drain(pe[0], r->err, sizeof(r->err), now_ns() + 20000000000LL);
	close(pe[0]);
	return r->status = wait_child(pid, 20000);
}

/*
 * `ksync recv -n 3 > /dev/full`: the first message that cannot be written
 * ends it with an error that says the message is lost, and the others stay
 * on the queue for a receiver that can deliver them.
 */
TEST_F(q, recv_stops_at_a_failed_write)
{
	ksync_queue_t *q;
	struct run r;

	ASSERT_EQ(0, ksync_queue_open(&q, self->name, 0, 0, 0, 0));
	ASSERT_EQ(0, ksync_queue_join(q));
	ASSERT_EQ(0, KSYNC(&r, "send", self->name, "a", "b", "c"));
	ASSERT_EQ(1, ksync_redirected(&r, "/dev/null", "/dev/full",
				      (const char *const[]){ "ksync", "recv", "-n", "3", self->name,
							     NULL }));
	ASSERT_NE(NULL, strstr(r.err, "No space left on device"));
	ASSERT_NE(NULL, strstr(r.err, "not delivered"));
	ASSERT_EQ(2, ksync_queue_len(q));
	ksync_queue_close(q);
	ASSERT_EQ(0, KSYNC(&r, "recv", "-n", "2", self->name));
	ASSERT_STREQ("b\nc\n", r.out);
}

/* `ksync send /q < /`: a read error on stdin is an error, not an end. */
TEST_F(q, send_reports_a_read_error)
{
	struct run r;

	ASSERT_EQ(1, ksync_redirected(&r, "/", "/dev/null",
				      (const char *const[]){ "ksync", "send", self->name, NULL }));
	ASSERT_NE(NULL, strstr(r.err, "standard input: Is a directory"));
	ASSERT_EQ(1, ksync_redirected(&r, "/", "/dev/null",
				      (const char *const[]){ "ksync", "send", "--whole", self->name,
							     NULL }));
	ASSERT_NE(NULL, strstr(r.err, "standard input: Is a directory"));
}

/* A shell pipeline consumes the queue while a producer fills it, twice. */
TEST_F(q, pipeline)
{
	static char script[2 * PATH_MAX + 512];
	struct run r;

	snprintf(script, sizeof(script),
		 "(seq 1 100 | %s send %s) & "
		 "%s recv %s | { while read -r n; do s=$((s + n)); done; echo sum $s; }; wait",
		 ksync_bin(), self->name, ksync_bin(), self->name);
	for (int i = 0; i < 2; i++) {
		ASSERT_EQ(0, run_cmd(&r, "sh", NULL, 0, 60000,
				     (const char *const[]){ "sh", "-c", script, NULL }));
		ASSERT_STREQ("sum 5050\n", r.out);
	}
}

TEST_HARNESS_MAIN
