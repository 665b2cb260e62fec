// SPDX-License-Identifier: GPL-2.0
/*
 * Names belong to the caller's IPC namespace, as POSIX message queues' do:
 * invisible from another namespace, free to exist in both, freed when the
 * namespace dies.  CAP_IPC_OWNER counts in the user namespace that owns
 * the IPC namespace: root in a container manages its own names only.
 */
#include <sched.h>
#include <sys/socket.h>

#include "common.h"
#include "kselftest_harness.h"

#define USER_A 1000

static int try_open(const char *name, unsigned int *value)
{
	ksync_sem_t *s;
	int ret = ksync_sem_open(&s, name, 0, 0, 0);

	if (ret == 0) {
		if (value)
			*value = (unsigned int)ksync_sem_value(s);
		ksync_sem_close(s);
	}
	return ret;
}

static int create(const char *name, unsigned int value)
{
	ksync_sem_t *s;
	int ret = ksync_sem_open(&s, name, KSYNC_CREATE | KSYNC_EXCL, 0600, value);

	if (ret == 0)
		ksync_sem_close(s);
	return ret;
}

FIXTURE(ns)
{
	char name[64];
};

FIXTURE_SETUP(ns)
{
	if (geteuid() != 0)
		SKIP(return, "needs root for unshare(CLONE_NEWIPC)");
	snprintf(self->name, sizeof(self->name), "%s", test_name("ns"));
	ASSERT_EQ(0, create(self->name, 3));
}

FIXTURE_TEARDOWN(ns)
{
	ksync_unlink(self->name);
}

/* In a new namespace: not there; the same name again, a different object. */
TEST_F(ns, names_stay_in_their_namespace)
{
	unsigned int v = 0;
	pid_t pid = fork();

	ASSERT_GE(pid, 0);
	if (pid == 0) {
		unsigned int v = 0;

		if (unshare(CLONE_NEWIPC))
			_exit(10);
		if (try_open(self->name, NULL) != -ENOENT)
			_exit(11);
		if (ksync_unlink(self->name) != -ENOENT)
			_exit(12);
		/* EXCL creation succeeds: the outer name leaks nothing in */
		if (create(self->name, 5))
			_exit(13);
		if (try_open(self->name, &v) || v != 5)
			_exit(14);
		if (list_names(self->name, NULL, NULL) != 1)
			_exit(15);
		_exit(ksync_unlink(self->name) ? 16 : 0);
	}
	ASSERT_EQ(0, wait_child(pid, 10000));
	ASSERT_EQ(0, try_open(self->name, &v));
	ASSERT_EQ(3u, v);
}

/* A namespace's names go when it dies, by the next registry call. */
TEST_F(ns, names_freed_when_the_namespace_dies)
{
	int base = ksync_objects();
	pid_t pid = fork();

	ASSERT_GE(pid, 0);
	if (pid == 0) {
		char name[64];

		if (unshare(CLONE_NEWIPC))
			_exit(10);
		for (int i = 0; i < 10; i++) {
			snprintf(name, sizeof(name), "/dying-%d", i);
			if (create(name, 1))
				_exit(11);
		}
		_exit(0);
	}
	ASSERT_EQ(0, wait_child(pid, 10000));
	/* the namespace is dead: any registry call frees its names */
	ASSERT_EQ(-ENOENT, try_open("/dying-0", NULL));
	ASSERT_EQ(base, ksync_objects());
}

/*
 * Nor does it wait for somebody's registry call: the module looks for dead
 * namespaces every second while any holds names.  (The deadline is not a
 * measurement: it only stops a test that would hang.)
 */
TEST_F(ns, names_freed_with_no_registry_call)
{
	int64_t end = now_ns() + 20 * 1000000000LL;
	int base = ksync_objects();
	pid_t pid = fork();

	ASSERT_GE(pid, 0);
	if (pid == 0) {
		if (unshare(CLONE_NEWIPC) || create("/dying", 1))
			_exit(10);
		_exit(0);
	}
	ASSERT_EQ(0, wait_child(pid, 10000));
	while (ksync_objects() != base && now_ns() < end)
		pause_us(20000);
	ASSERT_EQ(base, ksync_objects());
}

/* Open fds outlive their namespace's names, as they outlive an unlink. */
TEST_F(ns, fds_outlive_the_namespace)
{
	int sv[2], fd, base = ksync_objects();
	ksync_sem_t *s;
	pid_t pid;

	ASSERT_EQ(0, socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sv));
	pid = fork();
	ASSERT_GE(pid, 0);
	if (pid == 0) {
		ksync_sem_t *c;

		if (unshare(CLONE_NEWIPC) ||
		    ksync_sem_open(&c, "/kept", KSYNC_CREATE | KSYNC_EXCL, 0600, 4))
			_exit(10);
		_exit(send_fd(sv[1], ksync_sem_fd(c)) ? 11 : 0);
	}
	fd = recv_fd(sv[0]);
	ASSERT_LE(0, fd);
	ASSERT_EQ(0, wait_child(pid, 10000));
	ASSERT_EQ(0, ksync_sem_from_fd(&s, fd));
	close(fd);
	ASSERT_EQ(-ENOENT, try_open("/kept", NULL)); /* reaps the dead namespace */
	ASSERT_EQ(base + 1, ksync_objects()); /* the object lives on */
	ASSERT_EQ(0, ksync_sem_try_acquire(s, 4));
	ksync_sem_close(s);
	ASSERT_EQ(base, ksync_objects());
	close(sv[0]);
	close(sv[1]);
}

/*
 * Root in a user namespace: CAP_IPC_OWNER there covers the IPC namespace
 * that user namespace owns, and nothing outside it.
 */
static int create_one(void *name)
{
	return create(name, 1) ? 1 : 0;
}

static int create_as_a(const char *name)
{
	return as_user(USER_A, USER_A, create_one, (void *)name);
}

/* The same ids inside as outside: only the capabilities differ. */
static int map_ids(pid_t pid)
{
	char path[64];

	snprintf(path, sizeof(path), "/proc/%d/uid_map", (int)pid);
	if (write_text(path, "0 0 4294967295"))
		return -1;
	snprintf(path, sizeof(path), "/proc/%d/gid_map", (int)pid);
	return write_text(path, "0 0 4294967295");
}

static int container_root(const char *outer, int ready, int go)
{
	char c = 0;

	if (unshare(CLONE_NEWUSER) || write(ready, "u", 1) != 1 || read(go, &c, 1) != 1)
		return 10;
	/* still in the machine's IPC namespace: not ours to manage */
	if (try_open(outer, NULL) != -EACCES || ksync_unlink(outer) != -EACCES)
		return 11;
	if (list_names(outer, NULL, NULL) != 0)
		return 12;
	/* an IPC namespace of our own: its names are ours, whoever made them */
	if (unshare(CLONE_NEWIPC) || create_as_a("/inner"))
		return 13;
	if (try_open("/inner", NULL) || list_names("/inner", NULL, NULL) != 1)
		return 14;
	return ksync_unlink("/inner") ? 15 : 0;
}

TEST_F(ns, container_root_manages_only_its_own)
{
	int ready[2], go[2];
	char outer[64], c;
	pid_t pid;

	snprintf(outer, sizeof(outer), "%s", test_name("outer"));
	ASSERT_EQ(0, create_as_a(outer));
	ASSERT_EQ(0, pipe(ready));
	ASSERT_EQ(0, pipe(go));
	pid = fork();
	ASSERT_GE(pid, 0);
	if (pid == 0)
		_exit(container_root(outer, ready[1], go[0]));
	ASSERT_EQ(1, read(ready[0], &c, 1));
	ASSERT_EQ(0, map_ids(pid));
	ASSERT_EQ(1, write(go[1], "g", 1));
	ASSERT_EQ(0, wait_child(pid, 20000));
	ASSERT_EQ(0, ksync_unlink(outer));
	close(ready[0]);
	close(ready[1]);
	close(go[0]);
	close(go[1]);
}

TEST_HARNESS_MAIN
