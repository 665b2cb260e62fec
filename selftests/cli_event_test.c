// SPDX-License-Identifier: GPL-2.0
/*
 * ksync create event and ksync event set|reset|wait: what a shell script
 * relies on: the state each leaves, wait's exit status (0 set, 15 timed
 * out), and ls and info showing events.
 */
#include "cli.h"
#include "kselftest_harness.h"

static int is_set(const char *name)
{
	ksync_event_t *e;
	int v;

	if (ksync_event_open(&e, name, 0, 0, 0))
		return -1;
	v = ksync_event_is_set(e);
	ksync_event_close(e);
	return v;
}

FIXTURE(ev)
{
	char name[64];
};

FIXTURE_SETUP(ev)
{
	snprintf(self->name, sizeof(self->name), "%s", test_name("cli-ev"));
}

FIXTURE_TEARDOWN(ev)
{
	ksync_unlink(self->name);
}

TEST_F(ev, create_set_reset)
{
	struct run r;
	ksync_event_t *e;

	ASSERT_EQ(0, KSYNC(&r, "create", "event", self->name));
	ASSERT_EQ(0, is_set(self->name));
	ASSERT_EQ(14, KSYNC(&r, "create", "event", self->name));
	ASSERT_EQ(0, KSYNC(&r, "event", "set", self->name));
	ASSERT_EQ(1, is_set(self->name));
	ASSERT_EQ(0, KSYNC(&r, "event", "set", self->name));
	ASSERT_EQ(1, is_set(self->name));
	ASSERT_EQ(0, KSYNC(&r, "event", "reset", self->name));
	ASSERT_EQ(0, is_set(self->name));
	ASSERT_EQ(0, ksync_unlink(self->name));

	/* --set and --auto at creation */
	ASSERT_EQ(0, KSYNC(&r, "create", "--auto", "--set", "--mode", "0640", "event", self->name));
	ASSERT_EQ(0, ksync_event_open(&e, self->name, 0, 0, 0));
	ASSERT_EQ(1, ksync_event_auto(e));
	ASSERT_EQ(1, ksync_event_is_set(e));
	ASSERT_EQ(0, ksync_event_close(e));
	ASSERT_EQ(0, ksync_unlink(self->name));

	/* ksync event create, the other way round */
	ASSERT_EQ(0, KSYNC(&r, "event", "create", "--auto", self->name));
	ASSERT_EQ(0, ksync_event_open(&e, self->name, 0, 0, 0));
	ASSERT_EQ(1, ksync_event_auto(e));
	ASSERT_EQ(0, ksync_event_is_set(e));
	ASSERT_EQ(0, ksync_event_close(e));
	ASSERT_EQ(14, KSYNC(&r, "event", "create", self->name));
	/* they are an event's */
	ASSERT_EQ(2, KSYNC(&r, "create", "--auto", "sem", "/kst-x", "1"));
	ASSERT_EQ(2, KSYNC(&r, "create", "--set", "barrier", "/kst-x", "2"));
	ASSERT_EQ(2, KSYNC(&r, "create", "event", "/kst-x", "1"));
}

/* wait: 0 once set, 15 at the timeout (no earlier), an auto event's wait takes the set. */
TEST_F(ev, wait_exit_status)
{
	int64_t start;
	struct run r;

	ASSERT_EQ(0, KSYNC(&r, "create", "--auto", "event", self->name));
	start = now_ns();
	ASSERT_EQ(15, KSYNC(&r, "event", "wait", "--timeout", "0.2", self->name));
	ASSERT_LE(start + 200000000, now_ns());
	ASSERT_NE(NULL, strstr(r.err, "timed out"));
	ASSERT_EQ(0, KSYNC(&r, "event", "set", self->name));
	ASSERT_EQ(0, KSYNC(&r, "event", "wait", "--timeout", "5", self->name));
	ASSERT_EQ(0, is_set(self->name));
	ASSERT_EQ(15, KSYNC(&r, "event", "wait", "--timeout", "0", self->name));
}

/* A wait in the background ends when another command sets the event. */
TEST_F(ev, wait_ends_at_a_set)
{
	int in = -1, out = -1, err = -1;
	ksync_event_t *e;
	struct run r;
	pid_t pid;

	ASSERT_EQ(0, KSYNC(&r, "create", "event", self->name));
	pid = ksync_start((const char *const[]){ "ksync", "event", "wait", self->name, NULL }, &in,
			  &out, &err);
	ASSERT_LT(0, pid);
	ASSERT_EQ(0, ksync_event_open(&e, self->name, 0, 0, 0));
	for (int i = 0; i < 10000; i++) {
		struct ksync_event_stats st;

		ASSERT_EQ(0, ksync_event_stats(e, &st));
		if (st.waiters == 1)
			break;
		pause_us(1000);
	}
	ASSERT_EQ(0, KSYNC(&r, "event", "set", self->name));
	ASSERT_EQ(0, wait_child(pid, 10000));
	ASSERT_EQ(0, ksync_event_close(e));
	close(in);
	close(out);
	close(err);
}

TEST_F(ev, errors)
{
	struct run r;
	ksync_sem_t *s;

	ASSERT_EQ(12, KSYNC(&r, "event", "set", self->name));
	ASSERT_EQ(0, ksync_sem_open(&s, self->name, KSYNC_CREATE, 0600, 0));
	ASSERT_EQ(13, KSYNC(&r, "event", "wait", self->name));
	ASSERT_EQ(0, ksync_sem_close(s));
	ASSERT_EQ(2, KSYNC(&r, "event", "toggle", self->name));
	ASSERT_EQ(2, KSYNC(&r, "event", "set"));
	ASSERT_EQ(2, KSYNC(&r, "event", "--timeout", "1", "set", self->name));
	ASSERT_EQ(2, KSYNC(&r, "event", "wait", "--timeout", "x", self->name));
	ASSERT_EQ(0, KSYNC(&r, "event", "--help"));
	ASSERT_NE(NULL, strstr(r.out, "usage: ksync event create"));
	ASSERT_NE(NULL, strstr(r.out, "ksync event set NAME"));
}

/* ls and info show an event's state; JSON for scripts. */
TEST_F(ev, ls_and_info)
{
	char json[160];
	struct run r;

	ASSERT_EQ(0, KSYNC(&r, "create", "--auto", "--set", "event", self->name));
	ASSERT_EQ(0, KSYNC(&r, "ls"));
	ASSERT_NE(NULL, strstr(r.out, self->name));
	ASSERT_NE(NULL, strstr(r.out, "event"));
	ASSERT_NE(NULL, strstr(r.out, "auto"));
	ASSERT_EQ(0, KSYNC(&r, "ls", "--json"));
	snprintf(json, sizeof(json), "{\"name\":\"%s\",\"type\":\"event\"", self->name);
	ASSERT_NE(NULL, strstr(r.out, json));
	ASSERT_NE(NULL, strstr(r.out, "\"set\":true,\"auto\":true,\"waiters\":0"));
	ASSERT_EQ(0, KSYNC(&r, "info", self->name));
	ASSERT_NE(NULL, strstr(r.out, "type:     event"));
	ASSERT_NE(NULL, strstr(r.out, "state:    set, auto-reset, 0 waiting"));
	ASSERT_NE(NULL, strstr(r.out, "fast:     0 sets, 0 resets and 0 waits"));
	ASSERT_EQ(0, KSYNC(&r, "event", "wait", self->name));
	ASSERT_EQ(0, KSYNC(&r, "info", "--json", self->name));
	ASSERT_NE(NULL, strstr(r.out, "\"set\":false"));
	ASSERT_NE(NULL, strstr(r.out, "\"fast_counters\":{\"sets\":0,\"resets\":0,\"waits\":1}"));
}

TEST_HARNESS_MAIN
