// SPDX-License-Identifier: GPL-2.0
/*
 * Isolation, for every type: what another user, another IPC namespace, a
 * user namespace's root and a time namespace may and may not do with an
 * object.  Nobody opens, unlinks, maps or lists an object its mode or its
 * namespace keeps from it; nobody holds more than its limit; and a
 * deadline means the caller's own clock.  (registry_test, namespace_test,
 * limits_test and list_test go deeper with the semaphore; the rules live
 * in the registry, which every type shares, and this checks they hold for
 * each.)
 */
#include <sched.h>
#include <sys/mman.h>

#include "common.h"
#include "raw.h"
#include "kselftest_harness.h"

#define USER_A 1000
#define USER_B 1001
#define LIMIT 4

/* The arguments to open or create an object of a type, a small one. */
static struct ksync_open_args obj_args(unsigned int type, const char *name, unsigned int flags,
				       unsigned int mode)
{
	struct ksync_open_args a = {
		.size = sizeof(a),
		.type = type,
		.flags = flags | KSYNC_OPEN_CLOEXEC,
		.mode = mode,
		.name = (uintptr_t)name,
	};

	switch (type) {
	case KSYNC_TYPE_SEM:
		a.sem.value = 1;
		break;
	case KSYNC_TYPE_BARRIER:
		a.barrier.parties = 1;
		break;
	case KSYNC_TYPE_EVENT:
		a.event.flags = KSYNC_EVENT_FLAG_AUTO;
		break;
	default:
		a.queue.capacity = 2;
		a.queue.msg_size = 8;
		break;
	}
	return a;
}

/* Open or create an object of a type through the raw ioctl; fd or -errno. */
static int open_obj(unsigned int type, const char *name, unsigned int flags, unsigned int mode)
{
	struct ksync_open_args a = obj_args(type, name, flags, mode);

	return ksync_dev_ioctl(KSYNC_IOC_OPEN, &a);
}

/* What a refused unlink says: not allowed (mode), or not permitted. */
static int refused(int ret)
{
	return ret == -EACCES || ret == -EPERM;
}

/*
 * One use of the object through its fd, which leaves it as it was: 0 if
 * it worked.  deadline_ns > 0: a wait that cannot succeed (on a barrier,
 * one of two parties), until then (the caller's CLOCK_MONOTONIC);
 * -ETIMEDOUT is the right answer.
 */
static int use_obj(unsigned int type, int fd, int64_t deadline_ns)
{
	struct timespec dl = { deadline_ns / 1000000000, deadline_ns % 1000000000 };
	int ret;

	if (type == KSYNC_TYPE_SEM) {
		ksync_sem_t *s;

		if (ksync_sem_from_fd(&s, fd))
			return -EBADF;
		ret = ksync_sem_acquire(s, deadline_ns ? 2 : 1, deadline_ns ? &dl : NULL);
		if (!ret)
			ret = ksync_sem_release(s, 1);
		ksync_sem_close(s);
	} else if (type == KSYNC_TYPE_BARRIER) {
		struct ksync_barrier_wait w = { .size = sizeof(w), .flags = KSYNC_WAIT_DEADLINE };

		/* (of one party: every wait completes a round at once) */
		w.deadline = (uint64_t)(deadline_ns ?: now_ns() + 1000000000);
		ret = ioctl(fd, KSYNC_IOC_BARRIER_WAIT, &w) < 0 ? -errno : 0;
	} else if (type == KSYNC_TYPE_EVENT) {
		ksync_event_t *e;

		/* (an auto event: a set and the wait that takes it) */
		if (ksync_event_from_fd(&e, fd))
			return -EBADF;
		ret = deadline_ns ? 0 : ksync_event_set(e);
		if (!ret)
			ret = ksync_event_wait(e, deadline_ns ? &dl : NULL);
		if (!ret && ksync_event_is_set(e))
			ret = -EBADMSG;
		ksync_event_close(e);
	} else {
		ksync_queue_t *q;
		char buf[8];

		if (ksync_queue_from_fd(&q, fd))
			return -EBADF;
		if (deadline_ns)
			ret = (int)ksync_queue_recv(q, buf, sizeof(buf), &dl);
		else
			ret = ksync_queue_try_send(q, "i", 1)
				      ?: ksync_queue_try_recv(q, buf, sizeof(buf)) == 1 ? 0
											: -EBADMSG;
		ksync_queue_close(q);
	}
	return ret;
}

/* Map the object's pages; 0 if that worked. */
static int map_obj(unsigned int type, int fd)
{
	struct ksync_queue_info qi;
	size_t len = 4096;
	void *p;

	if (type == KSYNC_TYPE_QUEUE) {
		if (ioctl(fd, KSYNC_IOC_QUEUE_INFO, &qi))
			return -errno;
		len = qi.map_size;
	}
	p = mmap(NULL, len, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
	if (p == MAP_FAILED)
		return -errno;
	munmap(p, len);
	return 0;
}

static long visible(const char *name)
{
	return list_names(name, NULL, NULL);
}

FIXTURE(iso)
{
	char name[64];
	int base;
	long quota; /* max_objects_per_user to put back, or 0 */
};

FIXTURE_VARIANT(iso)
{
	unsigned int type;
};

FIXTURE_VARIANT_ADD(iso, sem){
	.type = KSYNC_TYPE_SEM,
};

FIXTURE_VARIANT_ADD(iso, barrier){
	.type = KSYNC_TYPE_BARRIER,
};

FIXTURE_VARIANT_ADD(iso, queue){
	.type = KSYNC_TYPE_QUEUE,
};

FIXTURE_VARIANT_ADD(iso, event){
	.type = KSYNC_TYPE_EVENT,
};

FIXTURE_SETUP(iso)
{
	umask(0);
	snprintf(self->name, sizeof(self->name), "%s", test_name("iso"));
	self->base = ksync_objects();
}

FIXTURE_TEARDOWN(iso)
{
	char v[32];

	ksync_unlink(self->name);
	if (self->quota > 0) {
		snprintf(v, sizeof(v), "%ld", self->quota);
		write_text(KSYNC_PARAM("max_objects_per_user"), v);
	}
}

/* (in the test: a SKIP in the setup does not keep 6.1's harness from running it) */
#define NEED_ROOT()                                                                \
	do {                                                                       \
		if (geteuid() != 0)                                                \
			SKIP(return, "needs root to switch users and namespaces"); \
	} while (0)

/* What a child reports: which step failed, 0 if none. */
#define STEP(n, cond)             \
	do {                      \
		if (!(cond))      \
			_exit(n); \
	} while (0)

/* Another user: no open, unlink or listing of a 0600 object; EXCL says it exists. */
TEST_F(iso, other_user_is_kept_out)
{
	NEED_ROOT();
	int fd = open_obj(variant->type, self->name, KSYNC_OPEN_CREATE | KSYNC_OPEN_EXCL, 0600);
	pid_t pid;

	ASSERT_LE(0, fd);
	pid = fork();
	ASSERT_LE(0, pid);
	if (pid == 0) {
		STEP(1, become(USER_A, USER_A) == 0);
		STEP(2, open_obj(variant->type, self->name, 0, 0) == -EACCES);
		STEP(3, open_obj(variant->type, self->name, KSYNC_OPEN_CREATE, 0600) == -EACCES);
		STEP(4, open_obj(variant->type, self->name, KSYNC_OPEN_CREATE | KSYNC_OPEN_EXCL,
				 0600) == -EEXIST);
		STEP(5, refused(ksync_unlink(self->name)));
		STEP(6, visible(self->name) == 0);
		_exit(0);
	}
	ASSERT_EQ(0, wait_child(pid, 20000));
	/* and nothing changed for the owner */
	ASSERT_EQ(0, use_obj(variant->type, fd, 0));
	ASSERT_EQ(1, visible(self->name));
	close(fd);
}

/* Read and write for others: they may open, use and map it; not unlink it. */
TEST_F(iso, mode_grants_use_not_removal)
{
	NEED_ROOT();
	int fd = open_obj(variant->type, self->name, KSYNC_OPEN_CREATE | KSYNC_OPEN_EXCL, 0606);
	pid_t pid;

	ASSERT_LE(0, fd);
	pid = fork();
	ASSERT_LE(0, pid);
	if (pid == 0) {
		int ofd;

		STEP(1, become(USER_A, USER_A) == 0);
		ofd = open_obj(variant->type, self->name, 0, 0);
		STEP(2, ofd >= 0);
		STEP(3, use_obj(variant->type, ofd, 0) == 0);
		STEP(4, map_obj(variant->type, ofd) == 0);
		STEP(5, ksync_unlink(self->name) != 0);
		STEP(6, visible(self->name) == 1);
		_exit(0);
	}
	ASSERT_EQ(0, wait_child(pid, 20000));
	close(fd);
	ASSERT_EQ(0, ksync_unlink(self->name));

	/* read alone: listed (its mode lets others see it), not opened */
	fd = open_obj(variant->type, self->name, KSYNC_OPEN_CREATE | KSYNC_OPEN_EXCL, 0604);
	ASSERT_LE(0, fd);
	pid = fork();
	ASSERT_LE(0, pid);
	if (pid == 0) {
		STEP(1, become(USER_B, USER_B) == 0);
		STEP(2, open_obj(variant->type, self->name, 0, 0) == -EACCES);
		STEP(3, visible(self->name) == 1);
		_exit(0);
	}
	ASSERT_EQ(0, wait_child(pid, 20000));
	close(fd);
}

/* Opening the name as any other type is -EPROTOTYPE, with or without CREATE. */
TEST_F(iso, other_types_are_refused)
{
	int fd = open_obj(variant->type, self->name, KSYNC_OPEN_CREATE | KSYNC_OPEN_EXCL, 0600);

	ASSERT_LE(0, fd);
	for (unsigned int t = KSYNC_TYPE_SEM; t <= KSYNC_TYPE_EVENT; t++) {
		int other;

		if (t == variant->type)
			continue;
		ASSERT_EQ(-EPROTOTYPE, open_obj(t, self->name, 0, 0));
		ASSERT_EQ(-EPROTOTYPE, open_obj(t, self->name, KSYNC_OPEN_CREATE, 0600));
		/* and the other type's own name is its, not ours */
		other = open_obj(t, NULL, 0, 0600);
		ASSERT_LE(0, other);
		ASSERT_EQ(0, use_obj(t, other, 0));
		close(other);
	}
	ASSERT_EQ(-EEXIST, open_obj(variant->type % KSYNC_TYPE_EVENT + 1, self->name,
				    KSYNC_OPEN_CREATE | KSYNC_OPEN_EXCL, 0600));
	ASSERT_EQ(0, use_obj(variant->type, fd, 0));
	close(fd);
}

/*
 * Another IPC namespace sees none of ours, and ours none of its: the
 * same name is a different object there, freed with the namespace.
 */
TEST_F(iso, ipc_namespace_is_a_world_apart)
{
	NEED_ROOT();
	int fd = open_obj(variant->type, self->name, KSYNC_OPEN_CREATE | KSYNC_OPEN_EXCL, 0666);
	pid_t pid;

	ASSERT_LE(0, fd);
	pid = fork();
	ASSERT_LE(0, pid);
	if (pid == 0) {
		int ifd;

		STEP(1, unshare(CLONE_NEWIPC) == 0);
		STEP(2, open_obj(variant->type, self->name, 0, 0) == -ENOENT);
		STEP(3, ksync_unlink(self->name) == -ENOENT);
		STEP(4, visible(self->name) == 0);
		ifd = open_obj(variant->type, self->name, KSYNC_OPEN_CREATE | KSYNC_OPEN_EXCL,
			       0600);
		STEP(5, ifd >= 0);
		STEP(6, use_obj(variant->type, ifd, 0) == 0);
		STEP(7, visible(self->name) == 1);
		_exit(0); /* the namespace dies, and its name with it */
	}
	ASSERT_EQ(0, wait_child(pid, 20000));
	ASSERT_EQ(1, visible(self->name));
	ASSERT_EQ(self->base + 1, ksync_objects());
	ASSERT_EQ(0, use_obj(variant->type, fd, 0));
	close(fd);
}

/*
 * Root of a user namespace is not root of the IPC namespace, which
 * belongs to the initial user namespace: another user's 0600 object stays
 * closed to it, even with every capability in its own namespace.
 */
TEST_F(iso, user_namespace_root_is_not_root)
{
	NEED_ROOT();
	pid_t pid = fork();
	int fd;

	ASSERT_LE(0, pid);
	if (pid == 0) {
		STEP(1, become(USER_B, USER_B) == 0);
		fd = open_obj(variant->type, self->name, KSYNC_OPEN_CREATE | KSYNC_OPEN_EXCL, 0600);
		_exit(fd >= 0 ? 0 : 9);
	}
	ASSERT_EQ(0, wait_child(pid, 20000));
	pid = fork();
	ASSERT_LE(0, pid);
	if (pid == 0) {
		/* still uid 0 outside, mapped to 0 inside: only the capability is gone */
		STEP(1, unshare(CLONE_NEWUSER) == 0);
		STEP(2, write_text("/proc/self/setgroups", "deny") == 0);
		STEP(3, write_text("/proc/self/uid_map", "0 0 1") == 0);
		STEP(4, write_text("/proc/self/gid_map", "0 0 1") == 0);
		STEP(5, open_obj(variant->type, self->name, 0, 0) == -EACCES);
		STEP(6, refused(ksync_unlink(self->name)));
		STEP(7, visible(self->name) == 0);
		_exit(0);
	}
	ASSERT_EQ(0, wait_child(pid, 20000));
	/* while in the initial namespace, root may (CAP_IPC_OWNER) */
	fd = open_obj(variant->type, self->name, 0, 0);
	ASSERT_LE(0, fd);
	close(fd);
	ASSERT_EQ(1, visible(self->name));
}

/*
 * In a time namespace a day ahead, a deadline 50 ms ahead on the caller's
 * clock ends the wait in 50 ms: -ETIMEDOUT, no earlier than the deadline
 * (and not a day later: the child has 20 s).
 */
TEST_F(iso, deadlines_follow_the_time_namespace)
{
	struct ksync_open_args a = obj_args(variant->type, NULL, 0, 0600);
	pid_t pid;
	int fd;

	NEED_ROOT();
	if (variant->type == KSYNC_TYPE_BARRIER)
		a.barrier.parties = 2; /* so that one waits */
	fd = ksync_dev_ioctl(KSYNC_IOC_OPEN, &a);
	ASSERT_LE(0, fd);
	if (unshare(CLONE_NEWTIME))
		SKIP(return, "no time namespaces here: %s", strerror(errno));
	ASSERT_EQ(0, write_text("/proc/self/timens_offsets", "monotonic 86400 0"));
	pid = fork(); /* the child is in the new time namespace */
	ASSERT_LE(0, pid);
	if (pid == 0) {
		int64_t dl = now_ns() + 50000000;

		STEP(1, use_obj(variant->type, fd, dl) == -ETIMEDOUT);
		STEP(2, now_ns() >= dl);
		_exit(0);
	}
	ASSERT_EQ(0, wait_child(pid, 20000));
	close(fd);
}

static int create_one(void *type)
{
	int fd = open_obj((unsigned int)(uintptr_t)type, NULL, 0, 0600);

	return fd >= 0 ? 0 : 1;
}

/* A user's objects of any type count against one quota; others' do not. */
TEST_F(iso, the_quota_holds_for_every_type)
{
	int ready[2], go[2];
	char v[32];
	pid_t pid;

	NEED_ROOT();
	ASSERT_EQ(0, pipe(ready));
	ASSERT_EQ(0, pipe(go));
	self->quota = read_number(KSYNC_PARAM("max_objects_per_user"));
	ASSERT_LT(0, self->quota);
	snprintf(v, sizeof(v), "%d", LIMIT);
	ASSERT_EQ(0, write_text(KSYNC_PARAM("max_objects_per_user"), v));
	pid = fork();
	ASSERT_LE(0, pid);
	if (pid == 0) {
		STEP(1, become(USER_A, USER_A) == 0);
		for (int i = 0; i < LIMIT; i++)
			STEP(2, open_obj(variant->type, NULL, 0, 0600) >= 0);
		STEP(3, open_obj(variant->type, NULL, 0, 0600) == -EDQUOT);
		STEP(4, open_obj(variant->type, self->name, KSYNC_OPEN_CREATE, 0600) == -EDQUOT);
		/* whatever the type: one quota */
		STEP(5, open_obj(variant->type % KSYNC_TYPE_EVENT + 1, NULL, 0, 0600) == -EDQUOT);
		/* hold them while another user tries */
		STEP(6, write(ready[1], "r", 1) == 1 && read(go[0], v, 1) == 1);
		_exit(0);
	}
	/* our ends closed: a child that dies early is an EOF, not a hang */
	close(ready[1]);
	close(go[0]);
	ASSERT_EQ(1, read(ready[0], v, 1));
	/* another user, meanwhile, has a quota of its own */
	ASSERT_EQ(0, as_user(USER_B, USER_B, create_one, (void *)(uintptr_t)variant->type));
	ASSERT_EQ(1, write(go[1], "g", 1));
	ASSERT_EQ(0, wait_child(pid, 20000));
	close(ready[0]);
	close(go[1]);
	/* the user's objects went with it */
	ASSERT_EQ(self->base, ksync_objects());
}

TEST_HARNESS_MAIN
