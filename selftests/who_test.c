// SPDX-License-Identifier: GPL-2.0
/*
 * KSYNC_IOC_WHO: who holds a semaphore's permits (UNDO) and who sleeps on
 * any object, with pids as the caller's pid namespace numbers them, hidden
 * from callers who could not see those processes, and bad arguments
 * refused.
 */
#include <sched.h>
#include <sys/prctl.h>

#include "common.h"
#include "kselftest_harness.h"

#define ROOM 16

struct who {
	int n; /* in all, or -errno */
	struct ksync_who_entry e[ROOM];
};

static struct who who(int fd)
{
	struct who w = { 0 };
	struct ksync_who_args a = {
		.size = sizeof(a),
		.entries = (uintptr_t)w.e,
		.count = ROOM,
		.entry_size = sizeof(w.e[0]),
	};

	w.n = ioctl(fd, KSYNC_IOC_WHO, &a);
	if (w.n < 0)
		w.n = -errno;
	return w;
}

/* The entry for (pid, what), or NULL. */
static const struct ksync_who_entry *find(const struct who *w, int pid, unsigned int what)
{
	for (int i = 0; i < w->n && i < ROOM; i++)
		if ((int)w->e[i].pid == pid && w->e[i].what == what)
			return &w->e[i];
	return NULL;
}

/* Wait until fd's object reports n entries; false after ms. */
static int wait_who(int fd, int n, int ms)
{
	int64_t end = now_ns() + (int64_t)ms * 1000000;

	while (who(fd).n != n) {
		if (now_ns() > end)
			return 0;
		pause_us(500);
	}
	return 1;
}

/* A child that takes n permits of name with a deadline of 20 s, then exits. */
static pid_t acquirer(const char *name, unsigned int n)
{
	pid_t pid = fork();

	if (pid == 0) {
		struct timespec dl = ksync_deadline_ms(20000);
		ksync_sem_t *s;

		if (ksync_sem_open(&s, name, 0, 0, 0))
			_exit(1);
		_exit(ksync_sem_acquire(s, n, &dl) ? 2 : 0);
	}
	return pid;
}

TEST(semaphore_holders_and_sleepers)
{
	const char *name = test_name("who");
	const struct ksync_who_entry *e;
	ksync_sem_t *undo, *plain;
	struct who w;
	pid_t child;
	int64_t slept;

	ASSERT_EQ(0, ksync_sem_open(&plain, name, KSYNC_CREATE, 0600, 3));
	ASSERT_EQ(0, ksync_sem_open(&undo, name, KSYNC_UNDO, 0, 0));
	/* nobody yet; then permits held through an UNDO fd, and only those */
	ASSERT_EQ(0, who(ksync_sem_fd(plain)).n);
	ASSERT_EQ(0, ksync_sem_acquire(undo, 2, NULL));
	ASSERT_EQ(0, ksync_sem_acquire(plain, 1, NULL));
	w = who(ksync_sem_fd(plain));
	ASSERT_EQ(1, w.n);
	e = find(&w, getpid(), KSYNC_WHO_HOLDS);
	ASSERT_NE(NULL, e);
	ASSERT_EQ(2, (int)e->count);
	ASSERT_EQ(0, (int)e->tid);
	ASSERT_EQ(0, (int)e->waited_ns);

	/* a sleeper: its pid, thread, what it asks for, and for how long */
	child = acquirer(name, 3);
	ASSERT_LT(0, child);
	ASSERT_TRUE(wait_waiters(plain, 1, 20000));
	w = who(ksync_sem_fd(plain));
	ASSERT_EQ(2, w.n);
	e = find(&w, child, KSYNC_WHO_ACQUIRES);
	ASSERT_NE(NULL, e);
	ASSERT_EQ(child, (int)e->tid);
	ASSERT_EQ(3, (int)e->count);
	slept = (int64_t)e->waited_ns;
	pause_us(20000);
	w = who(ksync_sem_fd(plain));
	e = find(&w, child, KSYNC_WHO_ACQUIRES);
	ASSERT_NE(NULL, e);
	ASSERT_LE(slept + 20000000, (int64_t)e->waited_ns);

	/* handing over: the sleeper goes; giving back all: the holder goes */
	ASSERT_EQ(0, ksync_sem_release(undo, 2));
	ASSERT_EQ(1, who(ksync_sem_fd(plain)).n);
	ASSERT_EQ(0, ksync_sem_release(plain, 1));
	ASSERT_EQ(0, wait_child(child, 20000));
	w = who(ksync_sem_fd(plain));
	ASSERT_EQ(0, w.n);
	ksync_sem_close(undo);
	ksync_sem_close(plain);
	ksync_unlink(name);
}

/* A holder that dies is no holder: its permits and its entry are gone. */
TEST(dead_holder_disappears)
{
	const char *name = test_name("whod");
	int fds[2];
	ksync_sem_t *s;
	pid_t pid;
	char c;

	ASSERT_EQ(0, ksync_sem_open(&s, name, KSYNC_CREATE, 0600, 2));
	ASSERT_EQ(0, pipe(fds));
	pid = fork();
	if (pid == 0) {
		ksync_sem_t *u;

		if (ksync_sem_open(&u, name, KSYNC_UNDO, 0, 0) || ksync_sem_acquire(u, 1, NULL))
			_exit(1);
		if (write(fds[1], "x", 1) != 1)
			_exit(2);
		pause();
		_exit(0);
	}
	ASSERT_EQ(1, read(fds[0], &c, 1));
	ASSERT_EQ(1, who(ksync_sem_fd(s)).n);
	ASSERT_EQ((int)KSYNC_WHO_HOLDS, (int)who(ksync_sem_fd(s)).e[0].what);
	ASSERT_EQ(pid, (int)who(ksync_sem_fd(s)).e[0].pid);
	ASSERT_EQ(0, kill(pid, SIGKILL));
	ASSERT_EQ(128 + SIGKILL, wait_child(pid, 20000));
	ASSERT_EQ(0, who(ksync_sem_fd(s)).n);
	ASSERT_EQ(2, ksync_sem_value(s));
	ksync_sem_close(s);
	ksync_unlink(name);
	close(fds[0]);
	close(fds[1]);
}

TEST(barrier_and_queue_sleepers)
{
	char bname[64], qname[64];
	const struct ksync_who_entry *e;
	ksync_barrier_t *b;
	ksync_queue_t *q;
	pid_t waiter, receiver, sender;
	struct who w;

	snprintf(bname, sizeof(bname), "%s", test_name("whob"));
	snprintf(qname, sizeof(qname), "%s", test_name("whoq"));
	ASSERT_EQ(0, ksync_barrier_open(&b, bname, KSYNC_CREATE, 0600, 2));
	ASSERT_EQ(0, ksync_barrier_set_spin(b, 0));
	ASSERT_EQ(0, ksync_queue_open(&q, qname, KSYNC_CREATE | KSYNC_QUEUE_NOEOF, 0600, 1, 8));
	waiter = fork();
	if (waiter == 0) {
		struct timespec dl = ksync_deadline_ms(20000);

		_exit(ksync_barrier_wait(b, &dl) < 0);
	}
	receiver = fork();
	if (receiver == 0) {
		struct timespec dl = ksync_deadline_ms(20000);
		char m[8];

		_exit(ksync_queue_recv(q, m, sizeof(m), &dl) != 1);
	}
	ASSERT_TRUE(wait_who(ksync_barrier_fd(b), 1, 20000));
	w = who(ksync_barrier_fd(b));
	e = find(&w, waiter, KSYNC_WHO_WAITS);
	ASSERT_NE(NULL, e);
	ASSERT_EQ(waiter, (int)e->tid);
	ASSERT_TRUE(wait_who(ksync_queue_fd(q), 1, 20000));
	w = who(ksync_queue_fd(q));
	ASSERT_NE(NULL, find(&w, receiver, KSYNC_WHO_RECEIVES));

	/* a message for the receiver, one to fill the queue, and a sender that waits */
	ASSERT_EQ(0, ksync_queue_send(q, "a", 1, NULL));
	ASSERT_EQ(0, wait_child(receiver, 20000));
	ASSERT_EQ(0, ksync_queue_send(q, "b", 1, NULL));
	sender = fork();
	if (sender == 0) {
		struct timespec dl = ksync_deadline_ms(20000);

		_exit(ksync_queue_send(q, "c", 1, &dl) != 0);
	}
	ASSERT_TRUE(wait_who(ksync_queue_fd(q), 1, 20000));
	w = who(ksync_queue_fd(q));
	ASSERT_NE(NULL, find(&w, sender, KSYNC_WHO_SENDS));
	ASSERT_EQ(1, ksync_queue_try_recv(q, (char[8]){ 0 }, 8));
	ASSERT_EQ(0, wait_child(sender, 20000));
	ASSERT_EQ(0, ksync_barrier_wait(b, NULL) < 0);
	ASSERT_EQ(0, wait_child(waiter, 20000));
	ASSERT_EQ(0, who(ksync_barrier_fd(b)).n);
	ASSERT_EQ(0, who(ksync_queue_fd(q)).n);
	ksync_barrier_close(b);
	ksync_queue_close(q);
	ksync_unlink(bname);
	ksync_unlink(qname);
}

/* Counting only, a short buffer, and what is refused. */
TEST(arguments)
{
	const char *name = test_name("whoa");
	struct ksync_who_entry e[2];
	struct ksync_who_args a = { .size = sizeof(a), .entries = (uintptr_t)e, .count = 1 };
	ksync_sem_t *s, *u1, *u2;
	int fd;

	ASSERT_EQ(0, ksync_sem_open(&s, name, KSYNC_CREATE, 0600, 2));
	ASSERT_EQ(0, ksync_sem_open(&u1, name, KSYNC_UNDO, 0, 0));
	ASSERT_EQ(0, ksync_sem_open(&u2, name, KSYNC_UNDO, 0, 0));
	ASSERT_EQ(0, ksync_sem_acquire(u1, 1, NULL));
	ASSERT_EQ(0, ksync_sem_acquire(u2, 1, NULL));
	fd = ksync_sem_fd(s);
	/* two holders, room for one: one filled, two counted */
	a.entry_size = sizeof(e[0]);
	memset(e, 0xff, sizeof(e));
	ASSERT_EQ(2, ioctl(fd, KSYNC_IOC_WHO, &a));
	ASSERT_EQ((int)KSYNC_WHO_HOLDS, (int)e[0].what);
	ASSERT_EQ(0xffffffffu, e[1].what);
	a.count = 0;
	ASSERT_EQ(2, ioctl(fd, KSYNC_IOC_WHO, &a));
	/* a larger entry from a newer caller: the rest is zeroed */
	a.count = 1;
	a.entry_size = sizeof(e);
	memset(e, 0xff, sizeof(e));
	ASSERT_EQ(2, ioctl(fd, KSYNC_IOC_WHO, &a));
	ASSERT_EQ(0u, e[1].what);
	/* refused: more room than one call fills, a short entry, flags */
	a.entry_size = sizeof(e[0]);
	a.count = KSYNC_WHO_MAX + 1;
	ASSERT_EQ(-1, ioctl(fd, KSYNC_IOC_WHO, &a));
	ASSERT_EQ(EINVAL, errno);
	a.count = 1;
	a.entry_size = sizeof(e[0]) - 1;
	ASSERT_EQ(-1, ioctl(fd, KSYNC_IOC_WHO, &a));
	ASSERT_EQ(EINVAL, errno);
	a.entry_size = sizeof(e[0]);
	a.flags = 1;
	ASSERT_EQ(-1, ioctl(fd, KSYNC_IOC_WHO, &a));
	ASSERT_EQ(EINVAL, errno);
	a.flags = 0;
	a.entries = 8;
	ASSERT_EQ(-1, ioctl(fd, KSYNC_IOC_WHO, &a));
	ASSERT_EQ(EFAULT, errno);
	ASSERT_EQ(-1, ioctl(fd, KSYNC_IOC_WHO, NULL));
	ASSERT_EQ(EFAULT, errno);
	ksync_sem_close(u1);
	ksync_sem_close(u2);
	ksync_sem_close(s);
	ksync_unlink(name);
}

/* Another user, or another pid namespace, sees that someone holds: not who. */
static int look_as_other(void *arg)
{
	struct who w = who(*(int *)arg);

	return w.n == 1 && w.e[0].what == KSYNC_WHO_HOLDS && w.e[0].count == 1 && !w.e[0].pid ? 0
											      : 1;
}

/* CAP_SYS_PTRACE in a user namespace of one's own sees no more (it did). */
static int look_from_own_userns(void *arg)
{
	if (look_as_other(arg))
		return 1;
	if (unshare(CLONE_NEWUSER))
		return 2;
	return look_as_other(arg) ? 3 : 0;
}

static int look_from_new_pidns(void *arg)
{
	pid_t pid;

	if (unshare(CLONE_NEWPID))
		return 3;
	pid = fork();
	if (pid == 0)
		_exit(look_as_other(arg));
	return wait_child(pid, 20000);
}

TEST(pids_only_for_those_who_may_see_them)
{
	const char *name = test_name("whop");
	ksync_sem_t *s, *u;
	int fd;

	ASSERT_EQ(0, ksync_sem_open(&s, name, KSYNC_CREATE, 0666, 1));
	ASSERT_EQ(0, ksync_sem_open(&u, name, KSYNC_UNDO, 0, 0));
	ASSERT_EQ(0, ksync_sem_acquire(u, 1, NULL));
	fd = ksync_sem_fd(s);
	ASSERT_EQ(getpid(), (int)who(fd).e[0].pid);
	ASSERT_EQ(0, as_user(4242, 4242, look_as_other, &fd));
	ASSERT_EQ(0, as_user(4242, 4242, look_from_own_userns, &fd));
	ASSERT_EQ(0, as_user(0, 0, look_from_new_pidns, &fd));
	ksync_sem_close(u);
	ksync_sem_close(s);
	ksync_unlink(name);
}

/*
 * A sleeper of the caller's uid but another gid (as a setgid program
 * runs): /proc hides it from the caller under hidepid, and so must WHO
 * (it showed the pid).
 */
static int look_at_other_gid(void *arg)
{
	struct who w = who(*(int *)arg);

	return w.n == 1 && w.e[0].what == KSYNC_WHO_ACQUIRES && !w.e[0].pid ? 0 : 1;
}

TEST(another_gid_is_hidden_too)
{
	ksync_sem_t *s;
	pid_t sleeper;
	int fd;

	ASSERT_EQ(0, ksync_sem_open(&s, NULL, 0, 0666, 0));
	fd = ksync_sem_fd(s);
	sleeper = fork();
	if (sleeper == 0) {
		struct timespec dl = ksync_deadline_ms(20000);

		if (setgroups(0, NULL) || setresgid(4243, 4243, 4243) ||
		    setresuid(4242, 4242, 4242))
			_exit(99);
		/* dumpable, so that only the gid differs */
		prctl(PR_SET_DUMPABLE, 1);
		_exit(ksync_sem_acquire(s, 1, &dl) ? 2 : 0);
	}
	ASSERT_TRUE(wait_waiters(s, 1, 20000));
	ASSERT_EQ(sleeper, (int)who(fd).e[0].pid);
	ASSERT_EQ(0, as_user(4242, 4242, look_at_other_gid, &fd));
	ASSERT_EQ(0, ksync_sem_release(s, 1));
	ASSERT_EQ(0, wait_child(sleeper, 20000));
	ksync_sem_close(s);
}

TEST_HARNESS_MAIN
