// SPDX-License-Identifier: GPL-2.0
/*
 * What one user may make the module hold: at most max_objects_per_user
 * objects, named or anonymous (-EDQUOT past it), while others are not
 * affected and CAP_SYS_RESOURCE may exceed it; and max_objects for
 * everyone together (-ENOSPC).
 */
#include <sched.h>

#include "common.h"
#include "kselftest_harness.h"

#define USER_A 1000
#define USER_B 1001
#define LIMIT 6

FIXTURE(limits)
{
	long per_user, global;
};

FIXTURE_SETUP(limits)
{
	char v[16];

	if (geteuid() != 0)
		SKIP(return, "needs root to set the limits and switch users");
	self->per_user = read_number(KSYNC_PARAM("max_objects_per_user"));
	self->global = read_number(KSYNC_PARAM("max_objects"));
	ASSERT_LT(0, self->per_user);
	snprintf(v, sizeof(v), "%d", LIMIT);
	ASSERT_EQ(0, write_text(KSYNC_PARAM("max_objects_per_user"), v));
}

FIXTURE_TEARDOWN(limits)
{
	char v[32];

	snprintf(v, sizeof(v), "%ld", self->per_user);
	EXPECT_EQ(0, write_text(KSYNC_PARAM("max_objects_per_user"), v));
	snprintf(v, sizeof(v), "%ld", self->global);
	EXPECT_EQ(0, write_text(KSYNC_PARAM("max_objects"), v));
}

/*
 * As one user: fill the quota with anonymous and named objects, check the
 * error, free one and take it again.  Exit code 0 when all held.
 */
static int fill_quota(void *arg)
{
	ksync_sem_t *s[LIMIT];
	const char *name = arg;
	ksync_sem_t *extra;
	int ret = 0;

	for (int i = 0; i < LIMIT; i++)
		if (ksync_sem_open(&s[i], i ? NULL : name, KSYNC_CREATE | KSYNC_EXCL, 0600, 0))
			return 1;
	if (ksync_sem_open(&extra, NULL, 0, 0600, 0) != -EDQUOT)
		ret = 2;
	else if (ksync_sem_open(&extra, "/quota-extra", KSYNC_CREATE, 0600, 0) != -EDQUOT)
		ret = 3;
	/* an existing object may still be opened: nothing new is held */
	else if (ksync_sem_open(&extra, name, 0, 0, 0) || ksync_sem_close(extra))
		ret = 4;
	ksync_sem_close(s[LIMIT - 1]);
	if (!ret && (ksync_sem_open(&extra, NULL, 0, 0600, 0) || ksync_sem_close(extra)))
		ret = 5;
	for (int i = 0; i < LIMIT - 1; i++)
		ksync_sem_close(s[i]);
	return ret;
}

static int fill_quota_and_wait(void *arg)
{
	int *fds = arg;
	ksync_sem_t *s;
	char c;

	for (int i = 0; i < LIMIT; i++)
		if (ksync_sem_open(&s, NULL, 0, 0600, 0))
			return 1;
	/* hold them (handles leak on purpose) until told to go */
	if (write(fds[1], "f", 1) != 1 || read(fds[2], &c, 1) != 1)
		return 2;
	return 0;
}

TEST_F(limits, per_user_quota)
{
	char name[64];
	int base = ksync_objects();

	snprintf(name, sizeof(name), "%s", test_name("quota"));
	ASSERT_EQ(0, as_user(USER_A, USER_A, fill_quota, name));
	/* the named one stays: it counts against its owner until unlinked */
	ASSERT_EQ(base + 1, ksync_objects());
	ASSERT_EQ(0, ksync_unlink(name));
	ASSERT_EQ(base, ksync_objects());
}

TEST_F(limits, one_user_full_leaves_others_alone)
{
	int done[2], go[2], fds[3];
	ksync_sem_t *s[LIMIT + 2];
	char c, name[64];
	pid_t pid;

	ASSERT_EQ(0, pipe(done));
	ASSERT_EQ(0, pipe(go));
	fds[1] = done[1];
	fds[2] = go[0];
	pid = fork();
	ASSERT_GE(pid, 0);
	if (pid == 0) {
		if (setresgid(USER_A, USER_A, USER_A) || setresuid(USER_A, USER_A, USER_A))
			_exit(99);
		_exit(fill_quota_and_wait(fds));
	}
	ASSERT_EQ(1, read(done[0], &c, 1));
	/* another user has a whole quota of its own */
	snprintf(name, sizeof(name), "%s", test_name("other"));
	ASSERT_EQ(0, as_user(USER_B, USER_B, fill_quota, name));
	ASSERT_EQ(0, ksync_unlink(name));
	/* root (CAP_SYS_RESOURCE) may go past the per-user limit */
	for (int i = 0; i < LIMIT + 2; i++)
		ASSERT_EQ(0, ksync_sem_open(&s[i], NULL, 0, 0600, 0));
	for (int i = 0; i < LIMIT + 2; i++)
		ksync_sem_close(s[i]);
	ASSERT_EQ(1, write(go[1], "g", 1));
	ASSERT_EQ(0, wait_child(pid, 10000));
	close(done[0]);
	close(done[1]);
	close(go[0]);
	close(go[1]);
}

/*
 * A user's containers count against the user: in a user namespace owned by
 * USER_A, objects made by any uid mapped there are charged to USER_A too,
 * so a range of uids cannot multiply one user's share.
 */
static int create_some(int n)
{
	ksync_sem_t *s;

	for (int i = 0; i < n; i++) {
		char name[64];

		snprintf(name, sizeof(name), "/chain-%d-%d", (int)getuid(), i);
		if (ksync_sem_open(&s, name, KSYNC_CREATE | KSYNC_EXCL, 0600, 0))
			return 1;
		ksync_sem_close(s); /* the names stay, and keep counting */
	}
	return 0;
}

static int create_some_arg(void *n)
{
	return create_some(*(int *)n);
}

/* As uid 1 inside, which is USER_B outside. */
static int inner_user(int n)
{
	return as_user(1, 1, create_some_arg, &n);
}

/* What runs in a user namespace once the test has written its maps. */
static int chain_inside(void)
{
	ksync_sem_t *s;

	/* USER_B makes LIMIT - 2 objects: charged to USER_B and USER_A */
	if (inner_user(LIMIT - 2))
		return 12;
	/* root inside is USER_A: two more fill USER_A's share */
	if (create_some(2))
		return 13;
	if (ksync_sem_open(&s, NULL, 0, 0600, 0) != -EDQUOT)
		return 14;
	/* and USER_B, with room of its own, is held by USER_A's */
	if (inner_user(1) != 1)
		return 15;
	return 0;
}

/* Root-made: a full share for root inside (the mapped uid). */
static int share_inside(void)
{
	ksync_sem_t *s[LIMIT];

	for (int i = 0; i < LIMIT; i++) {
		int ret = ksync_sem_open(&s[i], NULL, 0, 0600, 0);

		if (ret) {
			fprintf(stderr, "# share_inside: object %d: %s\n", i, strerror(-ret));
			return 20 + i;
		}
	}
	for (int i = 0; i < LIMIT; i++)
		ksync_sem_close(s[i]);
	return 0;
}

/*
 * Run fn in a new user namespace made by owner (-1: root), with map as its
 * uid and gid map, written from outside as a container manager does.
 */
static int in_userns(int owner, const char *map, int (*fn)(void))
{
	int ready[2], go[2], ok = 0, ret;
	char path[64], c;
	pid_t pid;

	if (pipe(ready) || pipe(go))
		return -1;
	pid = fork();
	if (pid == 0) {
		if (owner >= 0 &&
		    (setresgid(owner, owner, owner) || setresuid(owner, owner, owner)))
			_exit(10);
		if (unshare(CLONE_NEWUSER) || write(ready[1], "u", 1) != 1 ||
		    read(go[0], &c, 1) != 1)
			_exit(11);
		/* become root inside, that is the uid mapped to 0 */
		if (setresgid(0, 0, 0) || setresuid(0, 0, 0))
			_exit(12);
		_exit(fn());
	}
	snprintf(path, sizeof(path), "/proc/%d/uid_map", (int)pid);
	if (read(ready[0], &c, 1) == 1 && !write_text(path, map)) {
		snprintf(path, sizeof(path), "/proc/%d/gid_map", (int)pid);
		ok = !write_text(path, map) && write(go[1], "g", 1) == 1;
	}
	close(go[1]); /* on failure, the child's read returns and it exits */
	ret = wait_child(pid, 20000);
	close(ready[0]);
	close(ready[1]);
	close(go[0]);
	return ok ? ret : -1;
}

TEST_F(limits, a_users_containers_count_against_it)
{
	char map[64], name[64];

	snprintf(map, sizeof(map), "0 %d 1\n1 %d 1\n", USER_A, USER_B);
	ASSERT_EQ(0, in_userns(USER_A, map, chain_inside));
	/* the names live in the machine's IPC namespace: root removes them */
	for (int i = 0; i < LIMIT - 2; i++) {
		snprintf(name, sizeof(name), "/chain-1-%d", i); /* uid 1 inside */
		ASSERT_EQ(0, ksync_unlink(name));
	}
	for (int i = 0; i < 2; i++) {
		snprintf(name, sizeof(name), "/chain-0-%d", i);
		ASSERT_EQ(0, ksync_unlink(name));
	}
}

/* A full share held until the test says so (hold[0] to read, held[1] to tell). */
static int hold[2], held[2];

static int hold_inside(void)
{
	ksync_sem_t *s[LIMIT];
	char c;

	close(hold[1]);
	close(held[0]);
	for (int i = 0; i < LIMIT; i++)
		if (ksync_sem_open(&s[i], NULL, 0, 0600, 0))
			return 30 + i;
	if (write(held[1], "h", 1) != 1 || read(hold[0], &c, 1) != 1)
		return 40;
	return 0;
}

/*
 * Containers that root made do not share one quota (root's): while one
 * holds a full share, another still gets its own.
 */
TEST_F(limits, root_made_containers_keep_their_own_shares)
{
	pid_t pid;
	char c;

	ASSERT_EQ(0, pipe(hold));
	ASSERT_EQ(0, pipe(held));
	pid = fork();
	ASSERT_GE(pid, 0);
	if (pid == 0)
		_exit(in_userns(-1, "0 100000 1\n", hold_inside) ? 1 : 0);
	close(held[1]);
	ASSERT_EQ(1, read(held[0], &c, 1));
	ASSERT_EQ(0, in_userns(-1, "0 200000 1\n", share_inside));
	ASSERT_EQ(1, write(hold[1], "g", 1));
	ASSERT_EQ(0, wait_child(pid, 20000));
	close(hold[0]);
	close(hold[1]);
	close(held[0]);
}

/* The machine-wide limit holds for root too: -ENOSPC. */
TEST_F(limits, global_limit)
{
	int base = ksync_objects();
	ksync_sem_t *s[3];
	char v[16];

	snprintf(v, sizeof(v), "%d", base + 2);
	ASSERT_EQ(0, write_text(KSYNC_PARAM("max_objects"), v));
	ASSERT_EQ(0, ksync_sem_open(&s[0], NULL, 0, 0600, 0));
	ASSERT_EQ(0, ksync_sem_open(&s[1], NULL, 0, 0600, 0));
	ASSERT_EQ(-ENOSPC, ksync_sem_open(&s[2], NULL, 0, 0600, 0));
	ksync_sem_close(s[0]);
	ASSERT_EQ(0, ksync_sem_open(&s[2], NULL, 0, 0600, 0));
	ksync_sem_close(s[1]);
	ksync_sem_close(s[2]);
	ASSERT_EQ(base, ksync_objects());
}

TEST_HARNESS_MAIN
