// SPDX-License-Identifier: GPL-2.0
/*
 * The ksync command at a shell: create, ls, info, rm, help, and an exit
 * code of its own for every kind of failure (ksync(1)).
 */
#include <sched.h>

#include "cli.h"
#include "kselftest_harness.h"

/*
 * Every test runs in this fixture for its teardown: whatever names a test
 * made are gone when it ends, passed or failed.
 */
FIXTURE(cli)
{
	int unused;
};

FIXTURE_SETUP(cli)
{
}

FIXTURE_TEARDOWN(cli)
{
	unlink_own_names();
}

/* A name for this test without the leading '/', as a user types it. */
static const char *bare(const char *tag)
{
	return test_name(tag) + 1;
}

TEST_F(cli, usage_and_help)
{
	static const char *const cmds[] = { "ls",  "info",    "create", "rm",
					    "sem", "barrier", "send",	"recv" };
	struct run r;
	char want[64];

	ASSERT_EQ(2, ksync_run(&r, NULL, 20000, (const char *const[]){ "ksync", NULL }));
	ASSERT_NE(NULL, strstr(r.err, "usage: ksync COMMAND"));
	ASSERT_EQ(2, KSYNC(&r, "frobnicate"));
	ASSERT_NE(NULL, strstr(r.err, "no command 'frobnicate'"));
	ASSERT_EQ(0, KSYNC(&r, "--help"));
	for (unsigned int i = 0; i < sizeof(cmds) / sizeof(cmds[0]); i++) {
		ASSERT_NE(NULL, strstr(r.out, cmds[i]));
	}
	for (unsigned int i = 0; i < sizeof(cmds) / sizeof(cmds[0]); i++) {
		snprintf(want, sizeof(want), "usage: ksync %s ", cmds[i]);
		ASSERT_EQ(0, KSYNC(&r, cmds[i], "--help"));
		ASSERT_EQ(0, strncmp(r.out, want, strlen(want)));
		ASSERT_EQ(0, KSYNC(&r, "help", cmds[i]));
		ASSERT_EQ(0, strncmp(r.out, want, strlen(want)));
	}
	/* bad arguments: usage errors, with a hint, and nothing created */
	ASSERT_EQ(2, KSYNC(&r, "create", "sem"));
	ASSERT_NE(NULL, strstr(r.err, "--help"));
	ASSERT_EQ(2, KSYNC(&r, "create", "pipe", "x", "1"));
	ASSERT_EQ(2, KSYNC(&r, "create", "sem", bare("u"), "-1"));
	ASSERT_EQ(2, KSYNC(&r, "create", "sem", bare("u"), "2147483648"));
	ASSERT_EQ(2, KSYNC(&r, "create", "barrier", bare("u"), "0"));
	ASSERT_EQ(2, KSYNC(&r, "create", "queue", bare("u"), "0", "8"));
	ASSERT_EQ(2, KSYNC(&r, "create", "--mode", "999", "sem", bare("u"), "1"));
	ASSERT_EQ(2, KSYNC(&r, "sem", "/x", "--timeout", "soon", "--", "true"));
	ASSERT_EQ(2, KSYNC(&r, "sem", "/x"));
	ASSERT_EQ(2, KSYNC(&r, "ls", "extra"));
	ASSERT_EQ(2, KSYNC(&r, "ls", "--watch", "0"));
	ASSERT_EQ(2, KSYNC(&r, "recv", "/x", "-n", "0"));
}

TEST_F(cli, create_ls_info_rm)
{
	char sem[64], bar[64], q[64], json[128];
	struct run r;

	snprintf(sem, sizeof(sem), "%s", test_name("sem"));
	snprintf(bar, sizeof(bar), "%s", test_name("bar"));
	snprintf(q, sizeof(q), "%s", test_name("q"));
	ASSERT_EQ(0, KSYNC(&r, "create", "sem", sem, "3"));
	/* the leading '/' is optional */
	ASSERT_EQ(0, KSYNC(&r, "create", "--mode", "0640", "barrier", bar + 1, "4"));
	ASSERT_EQ(0, KSYNC(&r, "create", "queue", q, "16", "100"));

	ASSERT_EQ(0, KSYNC(&r, "ls"));
	ASSERT_EQ(0, strncmp(r.out, "TYPE", strlen("TYPE")));
	ASSERT_NE(NULL, strstr(r.out, sem));
	ASSERT_NE(NULL, strstr(r.out, "3 free"));
	ASSERT_NE(NULL, strstr(r.out, "0/4 in"));
	ASSERT_NE(NULL, strstr(r.out, "0/16 of 100B"));

	ASSERT_EQ(0, KSYNC(&r, "ls", "--json"));
	ASSERT_EQ('[', r.out[0]);
	snprintf(json, sizeof(json), "{\"name\":\"%s\",\"type\":\"sem\"", sem);
	ASSERT_NE(NULL, strstr(r.out, json));
	snprintf(json, sizeof(json), "{\"name\":\"%s\",\"type\":\"barrier\"", bar);
	ASSERT_NE(NULL, strstr(r.out, json));
	ASSERT_NE(NULL, strstr(r.out, "\"mode\":\"0640\""));

	ASSERT_EQ(0, KSYNC(&r, "info", sem + 1));
	ASSERT_NE(NULL, strstr(r.out, "type:     sem"));
	ASSERT_NE(NULL, strstr(r.out, "value 3"));
	ASSERT_EQ(0, KSYNC(&r, "info", "--json", q));
	ASSERT_NE(NULL, strstr(r.out, "\"capacity\":16,\"msg_size\":100,\"length\":0"));
	ASSERT_NE(NULL, strstr(r.out, "\"send_calls\":0"));

	/* taken names and missing ones */
	ASSERT_EQ(14, KSYNC(&r, "create", "sem", sem, "1"));
	ASSERT_NE(NULL, strstr(r.err, "exists"));
	ASSERT_EQ(0, KSYNC(&r, "rm", sem, bar, q));
	ASSERT_EQ(12, KSYNC(&r, "info", sem));
	ASSERT_EQ(12, KSYNC(&r, "rm", sem));
	ASSERT_NE(NULL, strstr(r.err, "No such file"));
	ASSERT_EQ(0, KSYNC(&r, "ls"));
	ASSERT_EQ(NULL, strstr(r.out, sem));
}

/* The counters in ls and info count calls that entered the kernel only. */
TEST_F(cli, counters_count_kernel_entries)
{
	const char *name = test_name("cnt");
	struct timespec dl = ksync_deadline_ms(10);
	ksync_sem_t *s;
	struct run r;

	ASSERT_EQ(0, ksync_sem_open(&s, name, KSYNC_CREATE, 0600, 0));
	/* nothing free: this one sleeps in the module until its deadline */
	ASSERT_EQ(-ETIMEDOUT, ksync_sem_acquire(s, 1, &dl));
	/* nobody waits: these stay in userspace */
	ASSERT_EQ(0, ksync_sem_release(s, 2));
	ASSERT_EQ(0, ksync_sem_try_acquire(s, 1));
	ASSERT_EQ(0, KSYNC(&r, "info", "--json", name));
	ASSERT_NE(NULL, strstr(r.out, "\"value\":1,\"waiters\":0"));
	ASSERT_NE(NULL, strstr(r.out, "\"wait_calls\":1,\"wake_calls\":0"));
	/* and the fast path counted its own, on the shared page */
	ASSERT_NE(NULL, strstr(r.out, "\"fast_counters\":{\"acquires\":1,\"releases\":1}"));
	ASSERT_EQ(0, KSYNC(&r, "ls", "-o", "+FAST,CALLS"));
	ASSERT_NE(NULL, strstr(r.out, "wait 1 wake 0"));
	ASSERT_NE(NULL, strstr(r.out, "acq 1 rel 1"));
	ksync_sem_close(s);
	ksync_unlink(name);
}

/* A barrier's arrivals on the page, and a queue's messages in all. */
TEST_F(cli, fast_counters_of_barriers_and_queues)
{
	const char *name = test_name("fastb");
	char qname[64];
	ksync_barrier_t *b;
	ksync_queue_t *q;
	struct run r;
	char buf[8];

	ASSERT_EQ(0, ksync_barrier_open(&b, name, KSYNC_CREATE, 0600, 1));
	/* one party: each wait completes its round on the word */
	for (int i = 0; i < 3; i++) {
		ASSERT_EQ(1, ksync_barrier_wait(b, NULL));
	}
	ASSERT_EQ(0, KSYNC(&r, "info", "--json", name));
	ASSERT_NE(NULL, strstr(r.out, "\"fast_counters\":{\"arrivals\":3}"));
	ksync_barrier_close(b);
	ksync_unlink(name);

	snprintf(qname, sizeof(qname), "%s", test_name("fastq"));
	ASSERT_EQ(0, ksync_queue_open(&q, qname, KSYNC_CREATE, 0600, 4, 8));
	ASSERT_EQ(0, ksync_queue_send(q, "a", 1, NULL));
	ASSERT_EQ(0, ksync_queue_send(q, "b", 1, NULL));
	ASSERT_EQ(1, ksync_queue_recv(q, buf, sizeof(buf), NULL));
	ASSERT_EQ(0, KSYNC(&r, "info", qname));
	ASSERT_NE(NULL, strstr(r.out, "messages: 2 sent and 1 received in all"));
	ksync_queue_close(q);
	ksync_unlink(qname);
}

/* A mode that forbids: exit 11 with no change; the owner is unaffected. */
static int try_as_other(void *arg)
{
	const char *name = arg;
	struct run r;

	if (KSYNC(&r, "sem", name, "--timeout", "1", "--", "true") != 11)
		return 1;
	if (!strstr(r.err, "Permission denied"))
		return 2;
	if (KSYNC(&r, "rm", name) != 11)
		return 3;
	/* ls does not show what the caller may not see */
	if (KSYNC(&r, "ls") != 0 || strstr(r.out, name))
		return 4;
	return 0;
}

TEST_F(cli, permission_denied)
{
	char name[64];
	struct run r;

	snprintf(name, sizeof(name), "%s", test_name("perm"));
	ASSERT_EQ(0, KSYNC(&r, "create", "--mode", "0600", "sem", name, "1"));
	ASSERT_EQ(0, as_user(4242, 4242, try_as_other, name));
	ASSERT_EQ(0, KSYNC(&r, "info", name));
	ASSERT_EQ(0, KSYNC(&r, "rm", name));
}

TEST_F(cli, wrong_type)
{
	char name[64];
	struct run r;

	snprintf(name, sizeof(name), "%s", test_name("type"));
	ASSERT_EQ(0, KSYNC(&r, "create", "queue", name, "4", "8"));
	ASSERT_EQ(13, KSYNC(&r, "sem", name, "--", "true"));
	ASSERT_NE(NULL, strstr(r.err, "another type"));
	ASSERT_EQ(13, KSYNC(&r, "barrier", name));
	ASSERT_EQ(0, KSYNC(&r, "rm", name));
}

/* Without /dev/ksync: exit 10 and the command that loads the module. */
static int without_device(void *arg)
{
	struct run r;

	(void)arg;
	if (unshare(CLONE_NEWNS) || mount(NULL, "/", NULL, MS_REC | MS_PRIVATE, NULL) ||
	    mount("none", "/dev", "tmpfs", 0, NULL))
		return 1;
	if (KSYNC(&r, "ls") != 10 || !strstr(r.err, "not loaded") || !strstr(r.err, "modprobe"))
		return 2;
	if (KSYNC(&r, "sem", "/x", "--", "true") != 10)
		return 3;
	if (KSYNC(&r, "send", "/x", "m") != 10)
		return 4;
	return 0;
}

TEST_F(cli, module_not_loaded)
{
	ASSERT_EQ(0, as_user(0, 0, without_device, NULL));
}

TEST_HARNESS_MAIN
