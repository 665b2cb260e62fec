// SPDX-License-Identifier: GPL-2.0
/*
 * --cancel EVENT on every blocking subcommand (sem, send, recv, event
 * wait, barrier): a script's ctx.Done().  One set of the event ends every
 * command blocked with it, each with exit 17 and nothing done: no permit
 * taken, no message sent or taken, the event waited for left set; a
 * barrier's party gives up as at a timeout (the round breaks).  An event
 * already set wins over an operation that could complete.
 */
#include "cli.h"
#include "kselftest_harness.h"

#define CANCELLED 17

FIXTURE(c)
{
	char ev[64], sem[64], q[64], bar[64], target[64], tev[64];
	ksync_event_t *cancel;
};

FIXTURE_SETUP(c)
{
	snprintf(self->ev, sizeof(self->ev), "%s", test_name("cancel-ev"));
	snprintf(self->sem, sizeof(self->sem), "%s", test_name("cancel-sem"));
	snprintf(self->q, sizeof(self->q), "%s", test_name("cancel-q"));
	snprintf(self->bar, sizeof(self->bar), "%s", test_name("cancel-bar"));
	snprintf(self->target, sizeof(self->target), "%s", test_name("cancel-target"));
	snprintf(self->tev, sizeof(self->tev), "%s", test_name("cancel-tev"));
	ASSERT_EQ(0, ksync_event_open(&self->cancel, self->ev, KSYNC_CREATE | KSYNC_EXCL, 0600, 0));
}

FIXTURE_TEARDOWN(c)
{
	ksync_event_close(self->cancel);
	ksync_unlink(self->ev);
	ksync_unlink(self->sem);
	ksync_unlink(self->q);
	ksync_unlink(self->bar);
	ksync_unlink(self->target);
	ksync_unlink(self->tev);
}

static unsigned int queue_length(const char *name)
{
	struct ksync_queue_stats st = { 0 };
	ksync_queue_t *q;

	if (ksync_queue_open(&q, name, 0, 0, 0, 0))
		return ~0U;
	ksync_queue_stats(q, &st);
	ksync_queue_close(q);
	return st.length;
}

/* Set already: each command ends at once with 17, though its operation was ready. */
TEST_F(c, a_set_event_wins)
{
	ksync_event_t *target;
	ksync_barrier_t *b;
	ksync_queue_t *q;
	ksync_sem_t *s;
	struct run r;

	ASSERT_EQ(0, ksync_sem_open(&s, self->sem, KSYNC_CREATE, 0600, 1));
	ASSERT_EQ(0, ksync_queue_open(&q, self->q, KSYNC_CREATE | KSYNC_QUEUE_NOEOF, 0600, 4, 16));
	ASSERT_EQ(0, ksync_queue_send(q, "m", 1, NULL));
	/* an auto event, set: a wait would take the set */
	ASSERT_EQ(0,
		  ksync_event_open(&target, self->tev, KSYNC_CREATE | KSYNC_EVENT_AUTO, 0600, 1));
	ASSERT_EQ(0, ksync_barrier_open(&b, self->bar, KSYNC_CREATE, 0600, 1));
	ASSERT_EQ(0, ksync_event_set(self->cancel));

	EXPECT_EQ(CANCELLED, KSYNC(&r, "sem", self->sem, "--cancel", self->ev, "--", "true"));
	EXPECT_NE(NULL, strstr(r.err, "cancelled"));
	EXPECT_EQ(1, ksync_sem_value(s));
	EXPECT_EQ(CANCELLED, KSYNC(&r, "recv", "-n", "1", "--cancel", self->ev, self->q));
	EXPECT_STREQ("", r.out);
	EXPECT_EQ(1u, queue_length(self->q));
	EXPECT_EQ(CANCELLED, KSYNC(&r, "send", self->q, "--cancel", self->ev, "x"));
	EXPECT_EQ(1u, queue_length(self->q));
	EXPECT_EQ(CANCELLED, KSYNC(&r, "event", "wait", "--cancel", self->ev, self->tev));
	EXPECT_EQ(1, ksync_event_is_set(target));
	EXPECT_EQ(CANCELLED, KSYNC(&r, "barrier", self->bar, "--cancel", self->ev));

	/* reset: the same calls go through */
	ASSERT_EQ(0, ksync_event_reset(self->cancel));
	EXPECT_EQ(0, KSYNC(&r, "recv", "-n", "1", "--cancel", self->ev, self->q));
	EXPECT_STREQ("m\n", r.out);
	EXPECT_EQ(0, KSYNC(&r, "barrier", self->bar, "--cancel", self->ev));
	EXPECT_EQ(0, KSYNC(&r, "sem", self->sem, "--cancel", self->ev, "--", "true"));

	ksync_sem_close(s);
	ksync_queue_close(q);
	ksync_event_close(target);
	ksync_barrier_close(b);
}

/* Five commands blocked, one set: all end with 17, and nothing was done. */
TEST_F(c, one_set_ends_every_blocked_command)
{
	struct ksync_event_stats st;
	struct ksync_barrier_stats bst;
	ksync_event_t *target;
	ksync_barrier_t *b;
	ksync_queue_t *q, *full;
	ksync_sem_t *s;
	pid_t pid[5];
	int fds[5][3];
	struct run r;
	int i;

	ASSERT_EQ(0, ksync_sem_open(&s, self->sem, KSYNC_CREATE, 0600, 0));
	ASSERT_EQ(0, ksync_queue_open(&q, self->q, KSYNC_CREATE | KSYNC_QUEUE_NOEOF, 0600, 1, 16));
	ASSERT_EQ(0, ksync_queue_open(&full, self->target, KSYNC_CREATE | KSYNC_QUEUE_NOEOF, 0600,
				      1, 16));
	ASSERT_EQ(0, ksync_queue_send(full, "old", 3, NULL));
	ASSERT_EQ(0, ksync_barrier_open(&b, self->bar, KSYNC_CREATE, 0600, 2));
	ASSERT_EQ(0, ksync_event_open(&target, self->tev, KSYNC_CREATE, 0600, 0));

	memset(fds, 0xff, sizeof(fds));
	pid[0] = ksync_start((const char *const[]){ "ksync", "sem", self->sem, "--cancel", self->ev,
						    "--", "true", NULL },
			     &fds[0][0], &fds[0][1], &fds[0][2]);
	pid[1] = ksync_start(
		(const char *const[]){ "ksync", "recv", "--cancel", self->ev, self->q, NULL },
		&fds[1][0], &fds[1][1], &fds[1][2]);
	pid[2] = ksync_start((const char *const[]){ "ksync", "send", self->target, "--cancel",
						    self->ev, "new", NULL },
			     &fds[2][0], &fds[2][1], &fds[2][2]);
	pid[3] = ksync_start(
		(const char *const[]){ "ksync", "barrier", self->bar, "--cancel", self->ev, NULL },
		&fds[3][0], &fds[3][1], &fds[3][2]);
	pid[4] = ksync_start((const char *const[]){ "ksync", "event", "wait", "--cancel", self->ev,
						    self->tev, NULL },
			     &fds[4][0], &fds[4][1], &fds[4][2]);
	for (i = 0; i < 5; i++)
		ASSERT_LT(0, pid[i]);
	/* all asleep: each waits on the cancel event */
	for (i = 0; i < 20000; i++) {
		ASSERT_EQ(0, ksync_event_stats(self->cancel, &st));
		ASSERT_EQ(0, ksync_barrier_stats(b, &bst));
		if (st.waiters >= 5 && bst.waiting == 1)
			break;
		pause_us(1000);
	}
	ASSERT_LE(5u, st.waiters);

	ASSERT_EQ(0, KSYNC(&r, "event", "set", self->ev));
	for (i = 0; i < 5; i++) {
		EXPECT_EQ(CANCELLED, wait_child(pid[i], 10000));
		close(fds[i][0]);
		close(fds[i][1]);
		close(fds[i][2]);
	}
	EXPECT_EQ(0, ksync_sem_value(s));
	EXPECT_EQ(0u, queue_length(self->q));
	EXPECT_EQ(1u, queue_length(self->target));
	ASSERT_EQ(0, ksync_barrier_stats(b, &bst));
	EXPECT_EQ(1u, bst.broken);
	EXPECT_EQ(0, ksync_event_is_set(target));
	ASSERT_EQ(0, ksync_event_stats(self->cancel, &st));
	EXPECT_EQ(0u, st.waiters);

	ksync_sem_close(s);
	ksync_queue_close(q);
	ksync_queue_close(full);
	ksync_barrier_close(b);
	ksync_event_close(target);
}

TEST_F(c, errors)
{
	struct run r;
	ksync_sem_t *s;

	EXPECT_EQ(12, KSYNC(&r, "event", "wait", "--cancel", "/kst-no-such-cancel", self->ev));
	EXPECT_EQ(2, KSYNC(&r, "event", "set", "--cancel", self->ev, self->ev));
	EXPECT_EQ(2, KSYNC(&r, "barrier", "--reset", "--cancel", self->ev, "/kst-x"));
	ASSERT_EQ(0, ksync_sem_open(&s, self->sem, KSYNC_CREATE, 0600, 1));
	/* the cancel must be an event */
	EXPECT_EQ(13, KSYNC(&r, "sem", self->sem, "--cancel", self->sem, "--", "true"));
	EXPECT_EQ(1, ksync_sem_value(s));
	ksync_sem_close(s);
}

TEST_HARNESS_MAIN
