// SPDX-License-Identifier: GPL-2.0
/*
 * Names, lifetimes and permissions, as POSIX IPC defines them.
 */
#include <grp.h>
#include <sys/stat.h>

#include "common.h"
#include <pthread.h>

#include "kselftest_harness.h"

static struct ksync_info info_of(ksync_sem_t *s)
{
	struct ksync_info info;

	memset(&info, 0xff, sizeof(info));
	ioctl(ksync_sem_fd(s), KSYNC_IOC_INFO, &info);
	return info;
}

TEST(create_open_excl_unlink)
{
	const char *name = test_name("reg");
	ksync_sem_t *a, *b, *c;

	ASSERT_EQ(-ENOENT, ksync_sem_open(&a, name, 0, 0, 0));
	ASSERT_EQ(0, ksync_sem_open(&a, name, KSYNC_CREATE | KSYNC_EXCL, 0600, 2));
	ASSERT_EQ(-EEXIST, ksync_sem_open(&b, name, KSYNC_CREATE | KSYNC_EXCL, 0600, 0));
	/* existing object: creation parameters are ignored */
	ASSERT_EQ(0, ksync_sem_open(&b, name, KSYNC_CREATE, 0600, 9));
	ASSERT_EQ(0, ksync_sem_open(&c, name, 0, 0, 0));
	ASSERT_EQ(2, ksync_sem_value(b));
	ASSERT_EQ(0, ksync_sem_try_acquire(c, 1));
	ASSERT_EQ(1, ksync_sem_value(a));

	ASSERT_EQ(0, ksync_unlink(name));
	ASSERT_EQ(-ENOENT, ksync_unlink(name));
	ASSERT_EQ(-ENOENT, ksync_sem_open(&b, name, 0, 0, 0));
	/* open fds keep the unlinked object alive and shared */
	ASSERT_EQ(0, ksync_sem_release(a, 1));
	ASSERT_EQ(2, ksync_sem_value(c));
	/* the name can be reused for a new, distinct object */
	ASSERT_EQ(0, ksync_sem_open(&b, name, KSYNC_CREATE | KSYNC_EXCL, 0600, 7));
	ASSERT_EQ(7, ksync_sem_value(b));
	ASSERT_EQ(2, ksync_sem_value(a));
	ASSERT_EQ(0, ksync_unlink(name));
	ksync_sem_close(a);
	ksync_sem_close(b);
	ksync_sem_close(c);
}

/* A named object outlives its fds until it is unlinked. */
TEST(named_persists_until_unlinked)
{
	const char *name = test_name("persist");
	int base = ksync_objects();
	ksync_sem_t *s;

	ASSERT_GE(base, 0);
	ASSERT_EQ(0, ksync_sem_open(&s, name, KSYNC_CREATE | KSYNC_EXCL, 0600, 5));
	ASSERT_EQ(0, ksync_sem_try_acquire(s, 2));
	ksync_sem_close(s);
	ASSERT_EQ(base + 1, ksync_objects());

	ASSERT_EQ(0, ksync_sem_open(&s, name, 0, 0, 0));
	ASSERT_EQ(3, ksync_sem_value(s));
	ASSERT_EQ(0, ksync_unlink(name));
	ASSERT_EQ(base + 1, ksync_objects());
	ksync_sem_close(s);
	ASSERT_EQ(base, ksync_objects());
}

/* An anonymous object lives while some fd to it is open, then it is freed. */
TEST(anonymous_lives_while_open)
{
	int base = ksync_objects();
	ksync_sem_t *s, *t;
	int fd;

	ASSERT_EQ(0, ksync_sem_open(&s, NULL, 0, 0600, 1));
	ASSERT_EQ(base + 1, ksync_objects());
	fd = dup(ksync_sem_fd(s));
	ASSERT_GE(fd, 0);
	ksync_sem_close(s);
	ASSERT_EQ(base + 1, ksync_objects());
	ASSERT_EQ(0, ksync_sem_from_fd(&t, fd));
	close(fd);
	ASSERT_EQ(1, ksync_sem_value(t));
	ksync_sem_close(t);
	ASSERT_EQ(base, ksync_objects());

	/* KSYNC_CREATE and KSYNC_EXCL are implied and may be passed */
	ASSERT_EQ(0, ksync_sem_open(&s, NULL, KSYNC_CREATE | KSYNC_EXCL, 0600, 0));
	ksync_sem_close(s);
	ASSERT_EQ(base, ksync_objects());
}

/* Failures come back as return values; errno is the caller's alone. */
TEST(errno_left_alone)
{
	ksync_sem_t *s;
	int p[2];

	ASSERT_EQ(0, pipe(p));
	errno = 4242;
	ASSERT_EQ(-ENOENT, ksync_sem_open(&s, test_name("none"), 0, 0, 0));
	ASSERT_EQ(-EINVAL, ksync_sem_open(&s, "bad", KSYNC_CREATE, 0600, 0));
	ASSERT_EQ(-EBADF, ksync_sem_from_fd(&s, -1));
	ASSERT_EQ(-EPROTOTYPE, ksync_sem_from_fd(&s, p[0]));
	ASSERT_EQ(-ENOENT, ksync_unlink(test_name("none")));
	ASSERT_EQ(0, ksync_sem_open(&s, NULL, 0, 0600, 0));
	ASSERT_EQ(-EAGAIN, ksync_sem_try_acquire(s, 1));
	struct timespec past = ksync_deadline_ms(-1);
	ASSERT_EQ(-ETIMEDOUT, ksync_sem_acquire(s, 1, &past));
	ASSERT_EQ(-EOVERFLOW, ksync_sem_release(s, KSYNC_SEM_VALUE_MAX + 0u) == 0
				      ? ksync_sem_release(s, 1)
				      : -1);
	ASSERT_EQ(0, ksync_sem_close(s));
	ASSERT_EQ(4242, errno);
	close(p[0]);
	close(p[1]);
}

TEST(names_follow_posix)
{
	char longname[KSYNC_NAME_MAX + 3];
	ksync_sem_t *s;

	ASSERT_EQ(-EINVAL, ksync_sem_open(&s, "", KSYNC_CREATE, 0600, 0));
	ASSERT_EQ(-EINVAL, ksync_sem_open(&s, "/", KSYNC_CREATE, 0600, 0));
	ASSERT_EQ(-EINVAL, ksync_sem_open(&s, "noslash", KSYNC_CREATE, 0600, 0));
	ASSERT_EQ(-EINVAL, ksync_sem_open(&s, "/a/b", KSYNC_CREATE, 0600, 0));
	ASSERT_EQ(-EINVAL, ksync_unlink("/a/b"));
	ASSERT_EQ(-EINVAL, ksync_unlink(NULL));

	longname[0] = '/';
	memset(longname + 1, 'n', KSYNC_NAME_MAX + 1);
	longname[KSYNC_NAME_MAX + 2] = 0;
	ASSERT_EQ(-ENAMETOOLONG, ksync_sem_open(&s, longname, KSYNC_CREATE, 0600, 0));
	longname[KSYNC_NAME_MAX + 1] = 0;
	ASSERT_EQ(0, ksync_sem_open(&s, longname, KSYNC_CREATE | KSYNC_EXCL, 0600, 0));
	ksync_sem_close(s);
	ASSERT_EQ(0, ksync_unlink(longname));
	ASSERT_EQ(0, ksync_sem_open(&s, "/x", KSYNC_CREATE | KSYNC_EXCL, 0600, 0));
	ksync_sem_close(s);
	ASSERT_EQ(0, ksync_unlink("/x"));
}

TEST(mode_less_umask_and_owner)
{
	const char *name = test_name("umask");
	mode_t old = umask(027);
	struct ksync_info info;
	ksync_sem_t *s;

	ASSERT_EQ(0, ksync_sem_open(&s, name, KSYNC_CREATE | KSYNC_EXCL, 0666, 0));
	umask(old);
	info = info_of(s);
	ASSERT_EQ((unsigned int)KSYNC_TYPE_SEM, info.type);
	ASSERT_EQ(0640u, info.mode);
	ASSERT_EQ(geteuid(), info.uid);
	ASSERT_EQ(getegid(), info.gid);
	ASSERT_EQ(0u, info.flags);
	ksync_sem_close(s);
	ASSERT_EQ(0, ksync_unlink(name));
}

#define OTHER_UID 65534
#define OTHER_GID 65534

static int try_open(void *name)
{
	ksync_sem_t *s;
	int ret = ksync_sem_open(&s, name, 0, 0, 0);

	if (ret == 0) {
		ret = ksync_sem_release(s, 1);
		ksync_sem_close(s);
	}
	return ret == 0 ? 0 : ret == -EACCES ? 1 : 2;
}

static int try_unlink(void *name)
{
	int ret = ksync_unlink(name);

	return ret == 0 ? 0 : ret == -EACCES ? 1 : 2;
}

static int try_create_excl(void *name)
{
	ksync_sem_t *s;
	int ret = ksync_sem_open(&s, name, KSYNC_CREATE | KSYNC_EXCL, 0600, 0);

	if (ret == 0)
		ksync_sem_close(s);
	return ret == 0 ? 0 : ret == -EEXIST ? 1 : 2;
}

/* Permissions between two uids: the test forks and setuid()s. */
TEST(permissions_between_users)
{
	const char *name = test_name("perm");
	ksync_sem_t *s;

	if (geteuid() != 0)
		SKIP(return, "needs root to switch users");
	umask(0);
	ASSERT_EQ(0, ksync_sem_open(&s, name, KSYNC_CREATE | KSYNC_EXCL, 0600, 0));
	ASSERT_EQ(1, as_user(OTHER_UID, OTHER_GID, try_open, (void *)name));
	ASSERT_EQ(1, as_user(OTHER_UID, OTHER_GID, try_unlink, (void *)name));
	/* EXCL reports existence before permission, as sem_open does */
	ASSERT_EQ(1, as_user(OTHER_UID, OTHER_GID, try_create_excl, (void *)name));
	ASSERT_EQ(0, ksync_sem_value(s));
	ksync_sem_close(s);
	ASSERT_EQ(0, ksync_unlink(name));

	/* read and write for others: they may use it, but not unlink it */
	ASSERT_EQ(0, ksync_sem_open(&s, name, KSYNC_CREATE | KSYNC_EXCL, 0606, 0));
	ASSERT_EQ(0, as_user(OTHER_UID, OTHER_GID, try_open, (void *)name));
	ASSERT_EQ(1, ksync_sem_value(s));
	ASSERT_EQ(1, as_user(OTHER_UID, OTHER_GID, try_unlink, (void *)name));
	ksync_sem_close(s);
	ASSERT_EQ(0, ksync_unlink(name));

	/* read alone is not enough */
	ASSERT_EQ(0, ksync_sem_open(&s, name, KSYNC_CREATE | KSYNC_EXCL, 0604, 0));
	ASSERT_EQ(1, as_user(OTHER_UID, OTHER_GID, try_open, (void *)name));
	ksync_sem_close(s);
	ASSERT_EQ(0, ksync_unlink(name));

	/* group bits apply to members of the object's group */
	ASSERT_EQ(0, ksync_sem_open(&s, name, KSYNC_CREATE | KSYNC_EXCL, 0660, 0));
	ASSERT_EQ(0, as_user(OTHER_UID, getegid(), try_open, (void *)name));
	ASSERT_EQ(1, as_user(OTHER_UID, OTHER_GID, try_open, (void *)name));
	ksync_sem_close(s);
	ASSERT_EQ(0, ksync_unlink(name));
}

/* The owner may unlink even after dropping privileges; root may always. */
TEST(owner_unlinks)
{
	const char *name = test_name("own");
	pid_t pid;

	if (geteuid() != 0)
		SKIP(return, "needs root to switch users");
	pid = fork();
	ASSERT_GE(pid, 0);
	if (pid == 0) {
		ksync_sem_t *s;

		if (setgroups(0, NULL) || setgid(OTHER_GID) || setuid(OTHER_UID))
			_exit(100);
		if (ksync_sem_open(&s, name, KSYNC_CREATE | KSYNC_EXCL, 0600, 0))
			_exit(1);
		ksync_sem_close(s);
		_exit(ksync_unlink(name) ? 2 : 0);
	}
	ASSERT_EQ(0, wait_child(pid, 10000));

	ASSERT_EQ(-ENOENT, ksync_unlink(name));

	/* root (CAP_IPC_OWNER) opens and unlinks another user's object */
	ASSERT_EQ(0, as_user(OTHER_UID, OTHER_GID, try_create_excl, (void *)name));
	ASSERT_EQ(0, try_open((void *)name));
	ASSERT_EQ(0, ksync_unlink(name));
}

/*
 * Creators racing for one name: the module makes each new object before it
 * takes the registry lock, then looks again.  Exactly one EXCL creator
 * wins; without EXCL every one of them opens the same queue; and what the
 * losers made is freed (the object count comes back).
 */
#define RACERS 8

static struct {
	pthread_barrier_t go;
	const char *name;
	int excl;
	int ret[RACERS];
	ksync_queue_t *q[RACERS];
} race;

static void *racer(void *arg)
{
	long i = (long)arg;

	pthread_barrier_wait(&race.go);
	race.ret[i] =
		ksync_queue_open(&race.q[i], race.name, KSYNC_CREATE | (race.excl ? KSYNC_EXCL : 0),
				 0600, 1024, 4096);
	return NULL;
}

TEST(creators_race_for_one_name)
{
	int before = ksync_objects();
	pthread_t t[RACERS];
	int round, won, i;

	for (round = 0; round < 20; round++) {
		race.name = test_name("race");
		race.excl = round % 2;
		ASSERT_EQ(0, pthread_barrier_init(&race.go, NULL, RACERS));
		for (i = 0; i < RACERS; i++)
			ASSERT_EQ(0, pthread_create(&t[i], NULL, racer, (void *)(long)i));
		for (i = 0; i < RACERS; i++)
			ASSERT_EQ(0, pthread_join(t[i], NULL));
		pthread_barrier_destroy(&race.go);
		for (won = 0, i = 0; i < RACERS; i++) {
			if (race.ret[i] == 0)
				won++;
			else
				EXPECT_EQ(-EEXIST, race.ret[i]);
		}
		EXPECT_EQ(race.excl ? 1 : RACERS, won) TH_LOG("round %d", round);
		/* one queue: what one sends, another receives */
		if (won > 1) {
			char c = 0;

			ASSERT_EQ(0, ksync_queue_try_send(race.q[0], "r", 1));
			EXPECT_EQ(1, ksync_queue_try_recv(race.q[RACERS - 1], &c, 1));
			EXPECT_EQ('r', c);
		}
		for (i = 0; i < RACERS; i++)
			if (race.ret[i] == 0)
				ksync_queue_close(race.q[i]);
		EXPECT_EQ(before + 1, ksync_objects());
		ASSERT_EQ(0, ksync_unlink(race.name));
		EXPECT_EQ(before, ksync_objects());
	}
}

TEST_HARNESS_MAIN
