// SPDX-License-Identifier: GPL-2.0
/*
 * What queues may make the module hold: one ring is at most
 * max_queue_bytes (-EFBIG), one user's objects at most max_bytes_per_user
 * (-EDQUOT; CAP_SYS_RESOURCE exceeds it, other users are not affected),
 * and the ring is charged to the creator's memory cgroup (-ENOMEM past
 * its memory.max).
 */
#include "queue.h"
#include "kselftest_harness.h"

#define USER_A 1000
#define USER_B 1001
#define MIB (1024L * 1024)
/* 16384 slots of 8-byte messages (64 bytes each): a 1 MiB ring */
#define CAP_1MIB 16384

FIXTURE(qlimits)
{
	long queue_bytes, user_bytes;
};

FIXTURE_SETUP(qlimits)
{
	if (geteuid() != 0)
		SKIP(return, "needs root to set the limits and switch users");
	self->queue_bytes = read_number(KSYNC_PARAM("max_queue_bytes"));
	self->user_bytes = read_number(KSYNC_PARAM("max_bytes_per_user"));
	ASSERT_EQ(64 * MIB, self->queue_bytes);
	ASSERT_LT(0, self->user_bytes);
}

FIXTURE_TEARDOWN(qlimits)
{
	char v[32];

	snprintf(v, sizeof(v), "%ld", self->queue_bytes);
	EXPECT_EQ(0, write_text(KSYNC_PARAM("max_queue_bytes"), v));
	snprintf(v, sizeof(v), "%ld", self->user_bytes);
	EXPECT_EQ(0, write_text(KSYNC_PARAM("max_bytes_per_user"), v));
}

TEST_F(qlimits, one_ring_at_most_max_queue_bytes)
{
	int base = ksync_objects();
	ksync_queue_t *q;

	/* the default: 64 MiB, exactly, is allowed; one slot more is not */
	ASSERT_EQ(0, ksync_queue_open(&q, NULL, 0, 0600, 64 * CAP_1MIB, 8));
	ASSERT_EQ(64 * CAP_1MIB, (int)queue_stats(q).capacity);
	ASSERT_EQ(0, ksync_queue_close(q));
	ASSERT_EQ(-EFBIG, ksync_queue_open(&q, NULL, 0, 0600, 32 * CAP_1MIB + 1, 100));
	ASSERT_EQ(0, write_text(KSYNC_PARAM("max_queue_bytes"), "1048576"));
	ASSERT_EQ(-EFBIG, ksync_queue_open(&q, NULL, 0, 0600, CAP_1MIB + 1, 8));
	ASSERT_EQ(-EFBIG, ksync_queue_open(&q, NULL, 0, 0600, 2, KSYNC_QUEUE_MSG_MAX));
	ASSERT_EQ(0, ksync_queue_open(&q, NULL, 0, 0600, CAP_1MIB, 8));
	ASSERT_EQ(0, ksync_queue_close(q));
	ASSERT_EQ(base, ksync_objects());
}

/* As one user: two 1 MiB rings fit in 3 MiB, a third does not. */
static int fill_bytes(void *arg)
{
	ksync_queue_t *q[3];

	(void)arg;
	if (ksync_queue_open(&q[0], NULL, 0, 0600, CAP_1MIB, 8) ||
	    ksync_queue_open(&q[1], NULL, 0, 0600, CAP_1MIB, 8))
		return 1;
	if (ksync_queue_open(&q[2], NULL, 0, 0600, CAP_1MIB, 8) != -EDQUOT)
		return 2;
	/* small objects still fit */
	if (ksync_queue_open(&q[2], NULL, 0, 0600, 4, 8) || ksync_queue_close(q[2]))
		return 3;
	if (ksync_queue_close(q[1]) || ksync_queue_open(&q[1], NULL, 0, 0600, CAP_1MIB, 8))
		return 4;
	ksync_queue_close(q[0]);
	ksync_queue_close(q[1]);
	return 0;
}

static int hold_bytes(void *arg)
{
	int go = *(int *)arg;
	ksync_queue_t *q[2];
	char c;

	if (ksync_queue_open(&q[0], NULL, 0, 0600, CAP_1MIB, 8) ||
	    ksync_queue_open(&q[1], NULL, 0, 0600, CAP_1MIB, 8))
		return 1;
	/* until the parent has tried another user */
	return read(go, &c, 1) == 1 ? 0 : 2;
}

TEST_F(qlimits, per_user_bytes)
{
	int base = ksync_objects(), go[2];
	ksync_queue_t *q[3];
	pid_t holder;

	ASSERT_EQ(0, write_text(KSYNC_PARAM("max_bytes_per_user"), "3145728"));
	ASSERT_EQ(0, as_user(USER_A, USER_A, fill_bytes, NULL));
	ASSERT_EQ(base, ksync_objects());

	/* a full user leaves the others alone */
	ASSERT_EQ(0, pipe(go));
	holder = fork();
	ASSERT_LE(0, holder);
	if (holder == 0)
		_exit(as_user(USER_A, USER_A, hold_bytes, &go[0]));
	while (ksync_objects() < base + 2)
		pause_us(1000);
	ASSERT_EQ(0, as_user(USER_B, USER_B, fill_bytes, NULL));
	ASSERT_EQ(1, write(go[1], "g", 1));
	ASSERT_EQ(0, wait_child(holder, 30000));
	close(go[0]);
	close(go[1]);

	/* root (CAP_SYS_RESOURCE) may exceed it */
	for (int i = 0; i < 3; i++)
		ASSERT_EQ(0, ksync_queue_open(&q[i], NULL, 0, 0600, CAP_1MIB, 8));
	for (int i = 0; i < 3; i++)
		ASSERT_EQ(0, ksync_queue_close(q[i]));
	ASSERT_EQ(base, ksync_objects());
}

static long cg_number(const char *dir, const char *file)
{
	char path[128];

	snprintf(path, sizeof(path), "%s/%s", dir, file);
	return read_number(path);
}

/* A child in a cgroup of its own creates a 16 MiB queue, then tries again under memory.max. */
TEST_F(qlimits, charged_to_the_memory_cgroup)
{
	char dir[64], cg[96], path[128], pidbuf[24];
	long before, during;
	int tell[2], go[2];
	pid_t pid;
	char c;

	snprintf(dir, sizeof(dir), "/tmp/kst-mcg-%d", (int)getpid());
	if (mkdir(dir, 0700) || mount("none", dir, "cgroup2", 0, NULL)) {
		rmdir(dir);
		SKIP(return, "no cgroup2 here (the debug kernel has none)");
	}
	snprintf(path, sizeof(path), "%s/cgroup.subtree_control", dir);
	write_text(path, "+memory");
	snprintf(cg, sizeof(cg), "%s/kst", dir);
	ASSERT_EQ(0, mkdir(cg, 0700));
	ASSERT_EQ(0, pipe(tell));
	ASSERT_EQ(0, pipe(go));
	pid = fork();
	ASSERT_LE(0, pid);
	if (pid == 0) {
		ksync_queue_t *q;
		int ret;

		if (read(go[0], &c, 1) != 1)
			_exit(1);
		ret = ksync_queue_open(&q, NULL, 0, 0600, 16 * CAP_1MIB, 8);
		if (write(tell[1], &ret, sizeof(ret)) != sizeof(ret) || read(go[0], &c, 1) != 1)
			_exit(2);
		/* now with memory.max below what a ring needs */
		ret = ksync_queue_open(&q, NULL, 0, 0600, 16 * CAP_1MIB, 8);
		if (write(tell[1], &ret, sizeof(ret)) != sizeof(ret))
			_exit(3);
		_exit(0);
	}
	close(tell[1]);
	close(go[0]);
	snprintf(pidbuf, sizeof(pidbuf), "%d", (int)pid);
	snprintf(path, sizeof(path), "%s/cgroup.procs", cg);
	ASSERT_EQ(0, write_text(path, pidbuf));
	before = cg_number(cg, "memory.current");
	ASSERT_LE(0, before);
	int ret = -1;

	ASSERT_EQ(1, write(go[1], "g", 1));
	ASSERT_EQ((ssize_t)sizeof(ret), read(tell[0], &ret, sizeof(ret)));
	ASSERT_EQ(0, ret);
	during = cg_number(cg, "memory.current");
	ASSERT_LE(before + 16 * MIB, during);
	snprintf(pidbuf, sizeof(pidbuf), "%ld", during + 4 * MIB);
	snprintf(path, sizeof(path), "%s/memory.max", cg);
	ASSERT_EQ(0, write_text(path, pidbuf));
	ASSERT_EQ(1, write(go[1], "g", 1));
	ASSERT_EQ((ssize_t)sizeof(ret), read(tell[0], &ret, sizeof(ret)));
	ASSERT_EQ(-ENOMEM, ret);
	ASSERT_EQ(0, wait_child(pid, 10000));
	ASSERT_EQ(0, rmdir(cg));
	umount2(dir, MNT_DETACH);
	rmdir(dir);
}

TEST_HARNESS_MAIN
