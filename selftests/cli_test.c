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
	static const char *const cmds[] = { "ls",   "info",	"create", "rm",
					    "sem",  "barrier",	"send",	  "recv",
					    "hold", "shutdown", "limits" };
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
	/* what was wrong, by name, rather than getopt's "invalid option" */
	ASSERT_NE(NULL, strstr(r.err, "-1: a semaphore's VALUE"));
	ASSERT_NE(NULL, strstr(r.err, "not negative"));
	ASSERT_EQ(NULL, strstr(r.err, "invalid option"));
	ASSERT_EQ(2, KSYNC(&r, "create", "sem", bare("u"), "2147483648"));
	ASSERT_EQ(2, KSYNC(&r, "create", "barrier", bare("u"), "0"));
	ASSERT_EQ(2, KSYNC(&r, "create", "queue", bare("u"), "0", "8"));
	ASSERT_EQ(2, KSYNC(&r, "create", "--mode", "999", "sem", bare("u"), "1"));
	ASSERT_NE(NULL, strstr(r.err, "--mode 999: MODE is octal"));
	ASSERT_EQ(2, KSYNC(&r, "create", "--frob", "sem", bare("u"), "1"));
	ASSERT_NE(NULL, strstr(r.err, "no option --frob"));
	ASSERT_EQ(2, KSYNC(&r, "create", "sem", bare("u"), "1", "--mode"));
	ASSERT_NE(NULL, strstr(r.err, "--mode needs a value"));
	ASSERT_EQ(2, KSYNC(&r, "sem", "/x", "--timeout", "soon", "--", "true"));
	ASSERT_EQ(2, KSYNC(&r, "sem", "/x"));
	ASSERT_EQ(2, KSYNC(&r, "ls", "extra"));
	ASSERT_EQ(2, KSYNC(&r, "ls", "--watch", "0"));
	ASSERT_EQ(2, KSYNC(&r, "recv", "/x", "-n", "0"));
	ASSERT_NE(NULL, strstr(r.err, "-n 0: COUNT is 1 to"));
	ASSERT_EQ(2, KSYNC(&r, "sem", "/x", "-n", "0", "--", "true"));
	ASSERT_NE(NULL, strstr(r.err, "-n 0: N is 1 to"));
	ASSERT_EQ(2, KSYNC(&r, "barrier", "/x", "--timeout", "soon"));
	ASSERT_NE(NULL, strstr(r.err, "--timeout soon: S is seconds"));
	ASSERT_EQ(2, KSYNC(&r, "shutdown", "--frob", "/x"));
	ASSERT_NE(NULL, strstr(r.err, "no option --frob"));
	/* and nothing was made on the way */
	ASSERT_EQ(0, list_names(test_name("u"), NULL, NULL));
}

/* --version: the one the man page was written for (both from one place). */
TEST_F(cli, version)
{
	char path[PATH_MAX], line[256], want[128];
	const char *v;
	struct run r;
	FILE *f;

	ASSERT_EQ(0, KSYNC(&r, "--version"));
	f = fopen(build_path("../docs/ksync.1", path, sizeof(path)), "r");
	ASSERT_NE(NULL, f);
	ASSERT_NE(NULL, fgets(line, sizeof(line), f));
	fclose(f);
	/* .TH KSYNC 1 DATE "ksync VERSION" "User Commands" */
	v = strstr(line, "\"ksync ");
	ASSERT_NE(NULL, v);
	snprintf(want, sizeof(want), "%.*s\n", (int)strcspn(v + 1, "\""), v + 1);
	ASSERT_STREQ(want, r.out);
}

/* rm -f: a missing name is no error, as rm -f; without -f it is (12). */
TEST_F(cli, rm_force)
{
	char name[64], gone[64];
	struct run r;

	snprintf(name, sizeof(name), "%s", test_name("rmf"));
	snprintf(gone, sizeof(gone), "%s", test_name("gone"));
	ASSERT_EQ(0, KSYNC(&r, "create", "sem", name, "1"));
	ASSERT_EQ(12, KSYNC(&r, "rm", gone));
	ASSERT_EQ(0, KSYNC(&r, "rm", "-f", gone, name));
	ASSERT_STREQ("", r.err);
	ASSERT_EQ(12, KSYNC(&r, "info", name));
	ASSERT_EQ(0, KSYNC(&r, "rm", "--force"));
}

/* A name in an error message reaches the terminal escaped, as in ls. */
TEST_F(cli, errors_escape_names)
{
	char name[96];
	struct run r;

	snprintf(name, sizeof(name), "%s\x1b[2J\xc2\x9b", test_name("esc"));
	ASSERT_EQ(12, KSYNC(&r, "info", name));
	EXPECT_EQ(NULL, strchr(r.err, 0x1b));
	EXPECT_EQ(NULL, strstr(r.err, "\xc2\x9b"));
	EXPECT_NE(NULL, strstr(r.err, "\\x1b[2J\\xc2\\x9b")) TH_LOG("%s", r.err);
}

/* Each user's own objects, in a fresh IPC namespace of our own. */
static int create_as(void *arg)
{
	struct run r;

	return KSYNC(&r, "create", "--mode", "0644", "sem", arg, "1");
}

static int rm_all_as(void *arg)
{
	struct run r;

	(void)arg;
	return KSYNC(&r, "rm", "--all");
}

/*
 * rm --all: a user's removes its own names and no one else's, even those
 * it sees; root's removes every name of the namespace, and only there.
 */
static int rm_all_in_new_ns(void *arg)
{
	struct run r;

	(void)arg;
	if (unshare(CLONE_NEWIPC))
		return 1;
	if (KSYNC(&r, "create", "--mode", "0644", "sem", "/root1", "1") ||
	    as_user(4242, 4242, create_as, "/u1") || as_user(4242, 4242, create_as, "/u2"))
		return 2;
	if (as_user(4242, 4242, rm_all_as, NULL))
		return 3;
	if (KSYNC(&r, "ls") || !strstr(r.out, "/root1") || strstr(r.out, "/u1") ||
	    strstr(r.out, "/u2"))
		return 4;
	if (as_user(4242, 4242, create_as, "/u3") || KSYNC(&r, "rm", "--all"))
		return 5;
	return KSYNC(&r, "ls") || strstr(r.out, "/root1") || strstr(r.out, "/u3") ? 6 : 0;
}

TEST_F(cli, rm_all)
{
	char name[64];
	struct run r;

	snprintf(name, sizeof(name), "%s", test_name("outside"));
	ASSERT_EQ(0, KSYNC(&r, "create", "sem", name, "1"));
	ASSERT_EQ(0, as_user(0, 0, rm_all_in_new_ns, NULL));
	/* a name outside that namespace was not touched */
	ASSERT_EQ(0, KSYNC(&r, "info", name));
	ASSERT_EQ(2, KSYNC(&r, "rm", "--all", name));
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
	/* info gives sem's answer: the name exists, but is not ours to see */
	if (KSYNC(&r, "info", name) != 11 || !strstr(r.err, "Permission denied"))
		return 5;
	if (KSYNC(&r, "info", "/no-such-name-at-all") != 12)
		return 6;
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

/* The module's limits, put back as they were whatever a test does. */
FIXTURE(lim)
{
	long per_user;
};

FIXTURE_SETUP(lim)
{
	self->per_user = read_number(KSYNC_PARAM("max_objects_per_user"));
	ASSERT_LT(0, self->per_user);
}

FIXTURE_TEARDOWN(lim)
{
	char v[32];

	snprintf(v, sizeof(v), "%ld", self->per_user);
	EXPECT_EQ(0, write_text(KSYNC_PARAM("max_objects_per_user"), v));
	unlink_own_names();
}

/* Whether err names the parameter, the value it has now, and where it is set. */
static bool names_limit(const char *err, const char *param)
{
	char path[128], want[128];
	long v;

	snprintf(path, sizeof(path), KSYNC_PARAM("%s"), param);
	v = read_number(path);
	snprintf(want, sizeof(want), "%s = %ld ", param, v);
	return v >= 0 && strstr(err, want) && strstr(err, KSYNC_PARAM(""));
}

static int create_two(void *arg)
{
	char **names = arg;
	struct run r;

	if (KSYNC(&r, "create", "sem", names[0], "1"))
		return 1;
	if (KSYNC(&r, "create", "sem", names[1], "1") != 1)
		return 2;
	return names_limit(r.err, "max_objects_per_user") && strstr(r.err, "ksync rm") ? 0 : 3;
}

/* A limit reached: the error names it, with its value, and what to do. */
TEST_F(lim, errors_name_the_limit)
{
	char a[64], b[64], *names[] = { a, b };
	struct run r;

	snprintf(a, sizeof(a), "%s", test_name("lima"));
	snprintf(b, sizeof(b), "%s", test_name("limb"));
	/* the largest ring the command takes is past any max_queue_bytes */
	ASSERT_EQ(1, KSYNC(&r, "create", "queue", a, "1048576", "1048576"));
	ASSERT_TRUE(names_limit(r.err, "max_queue_bytes"));
	ASSERT_EQ(NULL, strstr(r.err, "File too large"));
	ASSERT_EQ(0, write_text(KSYNC_PARAM("max_objects_per_user"), "1"));
	ASSERT_EQ(0, as_user(4242, 4242, create_two, names));
}

/* What uid 4242 sees of the limits: its own usage, and no one else's. */
static int limits_as_user(void *arg)
{
	char want[128];
	struct run r;

	if (KSYNC(&r, "create", "sem", (const char *)arg, "1"))
		return 1;
	if (KSYNC(&r, "limits", "--json"))
		return 2;
	if (!strstr(r.out, "\"uid\":4242,\"user_objects\":1,"))
		return 3;
	snprintf(want, sizeof(want), "\"max_objects_per_user\":%ld,",
		 read_number(KSYNC_PARAM("max_objects_per_user")));
	if (!strstr(r.out, want))
		return 4;
	if (KSYNC(&r, "limits", "--user", "0") != 11 || KSYNC(&r, "limits", "--users") != 11)
		return 5;
	return KSYNC(&r, "rm", (const char *)arg) ? 6 : 0;
}

/* Whether the table's row for param shows the value it has now. */
static bool row_has(const char *out, const char *param)
{
	char path[128], want[128];
	const char *row;

	snprintf(path, sizeof(path), KSYNC_PARAM("%s"), param);
	snprintf(want, sizeof(want), "\n%s ", param);
	row = strstr(out, want);
	snprintf(want, sizeof(want), " %ld ", read_number(path));
	return row && strstr(row, want) && strstr(row, want) < strchr(row + 1, '\n');
}

/* ksync limits: each limit with its value, as the module has it, and what is used. */
TEST_F(lim, limits_and_usage)
{
	struct run r;

	ASSERT_EQ(0, KSYNC(&r, "limits", "--bytes"));
	ASSERT_TRUE(row_has(r.out, "max_queue_bytes"));
	ASSERT_TRUE(row_has(r.out, "max_bytes_per_user"));
	ASSERT_TRUE(row_has(r.out, "max_objects_per_user"));
	ASSERT_EQ(0, as_user(4242, 4242, limits_as_user, (void *)test_name("lim")));
	/* root sees every user's share */
	ASSERT_EQ(0, KSYNC(&r, "limits", "--users"));
	ASSERT_NE(NULL, strstr(r.out, "\nUSER "));
	ASSERT_EQ(0, KSYNC(&r, "limits", "--user", "4242", "--json"));
	ASSERT_NE(NULL, strstr(r.out, "\"uid\":4242,\"user_objects\":0,"));
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
