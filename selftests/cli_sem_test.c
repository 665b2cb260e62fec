// SPDX-License-Identifier: GPL-2.0
/*
 * ksync sem -- CMD, the shell's job limiter, and ksync barrier: permits
 * held exactly while CMD runs, CMD's status passed through, and nothing
 * left behind however ksync or CMD end.
 */
#include <sys/prctl.h>

#include "cli.h"
#include "kselftest_harness.h"

/* The semaphore's maximum (KSYNC_SEM_VALUE_MAX: none), or -1. */
static int sem_max(const char *name)
{
	ksync_sem_t *s;
	int v;

	if (ksync_sem_open(&s, name, 0, 0, 0))
		return -1;
	v = ksync_sem_max(s);
	ksync_sem_close(s);
	return v;
}

static int sem_value(const char *name)
{
	ksync_sem_t *s;
	int v;

	if (ksync_sem_open(&s, name, 0, 0, 0))
		return -1;
	v = ksync_sem_value(s);
	ksync_sem_close(s);
	return v;
}

/* Read a line starting with want from fd within ms; its rest, or NULL. */
static const char *await_line(int fd, const char *want, int ms)
{
	static char buf[256];

	drain_line(fd, buf, sizeof(buf), now_ns() + (int64_t)ms * 1000000);
	return strncmp(buf, want, strlen(want)) ? NULL : buf + strlen(want);
}

FIXTURE(sem)
{
	char name[64];
	char info[64]; /* "info --json NAME" as CMD sees it */
};

FIXTURE_SETUP(sem)
{
	struct run r;

	snprintf(self->name, sizeof(self->name), "%s", test_name("limit"));
	ASSERT_EQ(0, KSYNC(&r, "create", "sem", self->name, "3"));
}

FIXTURE_TEARDOWN(sem)
{
	/* self->name and any other a test made, passed or failed */
	unlink_own_names();
}

TEST_F(sem, holds_the_permits_while_cmd_runs)
{
	struct run r;

	/* CMD looks at the semaphore: 2 of the 3 permits are out */
	ASSERT_EQ(0, KSYNC(&r, "sem", self->name, "-n", "2", "--", ksync_bin(), "info", "--json",
			   self->name));
	ASSERT_NE(NULL, strstr(r.out, "\"value\":1,"));
	/* and who holds them: ksync, with UNDO */
	ASSERT_NE(NULL, strstr(r.out, "\"who\":[{\"what\":\"holds\","));
	ASSERT_NE(NULL, strstr(r.out, "\"count\":2,"));
	ASSERT_EQ(3, sem_value(self->name));
	ASSERT_EQ(0,
		  KSYNC(&r, "sem", self->name, "-n", "2", "--", ksync_bin(), "info", self->name));
	ASSERT_NE(NULL, strstr(r.out, "holds 2 permits (UNDO)"));
	/* without "--" too */
	ASSERT_EQ(0, KSYNC(&r, "sem", self->name, ksync_bin(), "info", "--json", self->name));
	ASSERT_NE(NULL, strstr(r.out, "\"value\":2,"));
	ASSERT_EQ(3, sem_value(self->name));
}

TEST_F(sem, passes_the_status_through)
{
	struct run r;

	ASSERT_EQ(7, KSYNC(&r, "sem", self->name, "--", "sh", "-c", "exit 7"));
	ASSERT_EQ(128 + SIGTERM, KSYNC(&r, "sem", self->name, "--", "sh", "-c", "kill -TERM $$"));
	ASSERT_EQ(127, KSYNC(&r, "sem", self->name, "--", "/nonexistent/cmd"));
	ASSERT_NE(NULL, strstr(r.err, "/nonexistent/cmd"));
	ASSERT_EQ(126, KSYNC(&r, "sem", self->name, "--", "/dev/null"));
	ASSERT_EQ(3, sem_value(self->name));
}

TEST_F(sem, timeout_runs_nothing)
{
	ksync_sem_t *s;
	int64_t start;
	struct run r;

	/* all 3 permits are taken */
	ASSERT_EQ(0, ksync_sem_open(&s, self->name, 0, 0, 0));
	ASSERT_EQ(0, ksync_sem_try_acquire(s, 3));
	start = now_ns();
	ASSERT_EQ(15, KSYNC(&r, "sem", self->name, "--timeout", "0.3", "--", "echo", "ran"));
	/* it waited out its deadline, and CMD never ran */
	ASSERT_LE(300000000, now_ns() - start);
	ASSERT_EQ(NULL, strstr(r.out, "ran"));
	ASSERT_NE(NULL, strstr(r.err, "timed out"));
	ASSERT_EQ(0, sem_value(self->name));
	ASSERT_EQ(0, ksync_sem_release(s, 3));
	ksync_sem_close(s);
}

TEST_F(sem, create_when_missing)
{
	const char *name = test_name("new");
	struct run r;

	ASSERT_EQ(12, KSYNC(&r, "sem", name, "--", "true"));
	ASSERT_EQ(0, KSYNC(&r, "sem", name, "--create", "2", "--", "true"));
	ASSERT_EQ(2, sem_value(name));
	/* its value is its maximum: one permit more is a double release */
	ASSERT_EQ(2, sem_max(name));
	/* it exists now: --create's value no longer matters, and it says so */
	ASSERT_EQ(0, KSYNC(&r, "sem", name, "--create", "9", "--", "true"));
	ASSERT_EQ(2, sem_value(name));
	ASSERT_NE(NULL, strstr(r.err, "exists already, with a maximum of 2 permits"));
	ASSERT_NE(NULL, strstr(r.err, "--create 9 left it as it is"));
	/* the same --create again is silent */
	ASSERT_EQ(0, KSYNC(&r, "sem", name, "--create", "2", "--", "true"));
	ASSERT_STREQ("", r.err);
	ksync_unlink(name);
	ASSERT_EQ(0, KSYNC(&r, "sem", name, "--create", "2", "--max", "none", "--", "true"));
	ASSERT_EQ(KSYNC_SEM_VALUE_MAX, sem_max(name));
	ksync_unlink(name);
}

/*
 * create sem NAME 3 declares 3 as its maximum (--max chooses another, or
 * none); -n above it fails at once, where it used to wait for ever.
 */
TEST_F(sem, more_than_the_maximum_fails_at_once)
{
	const char *other = test_name("nomax");
	struct run r;

	ASSERT_EQ(3, sem_max(self->name));
	ASSERT_EQ(1, KSYNC(&r, "sem", self->name, "-n", "4", "--", "true"));
	ASSERT_NE(NULL, strstr(r.err, "-n 4 is more than it ever holds (its maximum is 3"));
	ASSERT_EQ(3, sem_value(self->name));
	ASSERT_EQ(0, KSYNC(&r, "sem", self->name, "-n", "3", "--", "true"));
	ASSERT_EQ(0, KSYNC(&r, "create", "--max", "none", "sem", other, "3"));
	ASSERT_EQ(KSYNC_SEM_VALUE_MAX, sem_max(other));
	ASSERT_EQ(0, KSYNC(&r, "rm", other));
	ASSERT_EQ(0, KSYNC(&r, "create", "sem", "--max", "5", other, "1"));
	ASSERT_EQ(5, sem_max(other));
	ASSERT_EQ(2, KSYNC(&r, "create", "sem", "--max", "2", test_name("bad"), "3"));
	ASSERT_NE(NULL, strstr(r.err, "VALUE 3 is more than --max 2"));
	ASSERT_EQ(2, KSYNC(&r, "create", "--max", "2", "queue", test_name("bad"), "3", "8"));
}

/*
 * SIGKILL ksync while CMD runs: the permits come back and CMD dies too.
 * We are the children's subreaper, so CMD's end is ours to see.
 */
TEST_F(sem, killed_ksync_takes_cmd_along)
{
	int in, out, err, cmd;
	const char *rest;
	pid_t pid;

	ASSERT_EQ(0, prctl(PR_SET_CHILD_SUBREAPER, 1));
	pid = ksync_start((const char *const[]){ "ksync", "sem", self->name, "-n", "2", "--", "sh",
						 "-c", "echo ready $$; exec sleep 60", NULL },
			  &in, &out, &err);
	ASSERT_LT(0, pid);
	rest = await_line(out, "ready ", 20000);
	ASSERT_NE(NULL, rest);
	cmd = atoi(rest);
	ASSERT_LT(0, cmd);
	ASSERT_EQ(1, sem_value(self->name));
	ASSERT_EQ(0, kill(pid, SIGKILL));
	ASSERT_EQ(128 + SIGKILL, wait_child(pid, 20000));
	ASSERT_EQ(128 + SIGKILL, wait_child(cmd, 20000));
	ASSERT_EQ(3, sem_value(self->name));
	close(in);
	close(out);
	close(err);
}

/* SIGTERM to ksync reaches CMD, whose status comes back. */
TEST_F(sem, signals_reach_cmd)
{
	int in, out, err;
	pid_t pid;

	pid = ksync_start((const char *const[]){ "ksync", "sem", self->name, "--", "sh", "-c",
						 "trap 'exit 42' TERM; echo ready; "
						 "while :; do sleep 0.05; done",
						 NULL },
			  &in, &out, &err);
	ASSERT_LT(0, pid);
	ASSERT_NE(NULL, await_line(out, "ready", 20000));
	ASSERT_EQ(0, kill(pid, SIGTERM));
	ASSERT_EQ(42, wait_child(pid, 20000));
	ASSERT_EQ(3, sem_value(self->name));
	close(in);
	close(out);
	close(err);
}

/* ksync info names the sleepers, with what they ask for. */
TEST_F(sem, info_shows_who_waits)
{
	ksync_sem_t *s;
	struct run r;
	char want[128], comm[32];
	FILE *f;
	pid_t pid;

	ASSERT_EQ(0, ksync_sem_open(&s, self->name, 0, 0, 0));
	ASSERT_EQ(0, ksync_sem_try_acquire(s, 3));
	pid = fork();
	if (pid == 0) {
		struct timespec dl = ksync_deadline_ms(20000);

		_exit(ksync_sem_acquire(s, 2, &dl) ? 1 : 0);
	}
	ASSERT_TRUE(wait_waiters(s, 1, 20000));
	ASSERT_EQ(0, KSYNC(&r, "info", self->name));
	/* the waiter by pid and command name, as /proc has it */
	snprintf(want, sizeof(want), "/proc/%d/comm", (int)pid);
	f = fopen(want, "r");
	ASSERT_NE(NULL, f);
	ASSERT_NE(NULL, fgets(comm, sizeof(comm), f));
	fclose(f);
	comm[strcspn(comm, "\n")] = 0;
	snprintf(want, sizeof(want), "pid %d (%s) waits for 2 permits, asleep", (int)pid, comm);
	ASSERT_NE(NULL, strstr(r.out, want));
	ASSERT_EQ(0, ksync_sem_release(s, 3));
	ASSERT_EQ(0, wait_child(pid, 20000));
	ASSERT_EQ(0, KSYNC(&r, "info", self->name));
	ASSERT_NE(NULL, strstr(r.out, "nobody holds or waits"));
	ksync_sem_close(s);
}

/*
 * info: who made it and when, and counters that do not read as a leak
 * after ksync sem's UNDO handles gave every permit back on close.
 */
TEST_F(sem, info_says_who_made_it_and_what_the_counts_mean)
{
	const char *name = test_name("made");
	char want[64];
	ksync_sem_t *s;
	struct run r;

	ASSERT_EQ(0, ksync_sem_open(&s, name, KSYNC_CREATE, 0600, 1));
	ASSERT_EQ(0, KSYNC(&r, "info", name));
	snprintf(want, sizeof(want), "\ncreated:  ");
	ASSERT_NE(NULL, strstr(r.out, want));
	snprintf(want, sizeof(want), ", by pid %d\n", (int)getpid());
	ASSERT_NE(NULL, strstr(r.out, want));
	ASSERT_NE(NULL, strstr(r.out, "maximum:  none\n"));
	ksync_sem_close(s);
	ASSERT_EQ(0, KSYNC(&r, "info", self->name));
	ASSERT_NE(NULL, strstr(r.out, "maximum:  3 permits"));
	for (int i = 0; i < 3; i++) {
		ASSERT_EQ(0, KSYNC(&r, "sem", self->name, "--", "true"));
	}
	ASSERT_EQ(3, sem_value(self->name));
	ASSERT_EQ(0, KSYNC(&r, "info", self->name));
	ASSERT_NE(NULL, strstr(r.out, "3 acquire calls and 0 release calls entered the kernel"));
	ASSERT_NE(NULL, strstr(r.out, "permits come back when it\n"));
	ASSERT_EQ(NULL, strstr(r.out, "releases entered the kernel"));
}

TEST(barrier_meets_and_breaks)
{
	const char *name = test_name("phase");
	int in[2], out[2], err[2], serial = 0;
	char buf[2][64];
	int64_t start;
	struct run r;
	pid_t pid[2];

	ASSERT_EQ(0, KSYNC(&r, "create", "barrier", name, "2"));
	for (int i = 0; i < 2; i++) {
		pid[i] = ksync_start(
			(const char *const[]){ "ksync", "barrier", name, "--timeout", "20", NULL },
			&in[i], &out[i], &err[i]);
		ASSERT_LT(0, pid[i]);
	}
	for (int i = 0; i < 2; i++) {
		drain(out[i], buf[i], sizeof(buf[i]), now_ns() + 20000000000LL);
		ASSERT_EQ(0, wait_child(pid[i], 20000));
		serial += !strcmp(buf[i], "serial\n");
		close(in[i]);
		close(out[i]);
		close(err[i]);
	}
	ASSERT_EQ(1, serial);

	/* alone, it times out, and the round is broken for whoever comes next */
	start = now_ns();
	ASSERT_EQ(15, KSYNC(&r, "barrier", name, "--timeout", "0.3"));
	ASSERT_LE(300000000, now_ns() - start);
	ASSERT_EQ(16, KSYNC(&r, "barrier", name, "--timeout", "5"));
	ASSERT_NE(NULL, strstr(r.err, "broken"));
	ASSERT_EQ(0, KSYNC(&r, "info", name));
	ASSERT_NE(NULL, strstr(r.out, "BROKEN"));
	ASSERT_EQ(0, KSYNC(&r, "barrier", "--reset", name));
	ASSERT_EQ(0, KSYNC(&r, "info", name));
	ASSERT_EQ(NULL, strstr(r.out, "BROKEN"));
	ksync_unlink(name);
}

TEST_HARNESS_MAIN
