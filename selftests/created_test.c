// SPDX-License-Identifier: GPL-2.0
/*
 * When and by whom an object was made (ipcs -t, -p): KSYNC_IOC_INFO, the
 * listing and fdinfo tell the creation time (CLOCK_REALTIME) and the
 * creator's process id as the reader's pid namespace numbers it, also
 * after the creator has exited, and 0 where the reader cannot see it.
 */
#include <sched.h>

#include "common.h"
#include "kselftest_harness.h"

static uint64_t realtime_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_REALTIME, &ts);
	return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}

static struct ksync_info fd_info(int fd)
{
	struct ksync_info info;

	memset(&info, 0xff, sizeof(info));
	if (ioctl(fd, KSYNC_IOC_INFO, &info))
		memset(&info, 0xff, sizeof(info));
	return info;
}

/* The fdinfo line "key:\t<value>" as a string in out (empty if none). */
static void fdinfo_field(int fd, const char *key, char *out, size_t len)
{
	char buf[4096], *p, *end;

	out[0] = 0;
	if (read_fdinfo(fd, buf, sizeof(buf)) <= 0)
		return;
	p = strstr(buf, key);
	if (!p)
		return;
	p += strlen(key);
	end = strchr(p, '\n');
	snprintf(out, len, "%.*s", end ? (int)(end - p) : (int)strlen(p), p);
}

TEST(info_listing_and_fdinfo_tell_when_and_who)
{
	struct ksync_object o = { .size = sizeof(o) };
	const char *name = test_name("made");
	uint64_t before, after;
	struct ksync_info info;
	char text[64], want[64];
	ksync_queue_t *q;

	before = realtime_ns();
	ASSERT_EQ(0, ksync_queue_open(&q, name, KSYNC_CREATE | KSYNC_EXCL, 0600, 4, 8));
	after = realtime_ns();
	info = fd_info(ksync_queue_fd(q));
	ASSERT_LE(before, info.ctime);
	ASSERT_GE(after, info.ctime);
	ASSERT_EQ((__u32)getpid(), info.cpid);
	ASSERT_EQ(0, ksync_lookup(name, &o));
	ASSERT_EQ(info.ctime, o.ctime_ns);
	ASSERT_EQ((unsigned int)getpid(), o.creator_pid);
	fdinfo_field(ksync_queue_fd(q), "ksync-cpid:\t", text, sizeof(text));
	snprintf(want, sizeof(want), "%d", (int)getpid());
	ASSERT_STREQ(want, text);
	fdinfo_field(ksync_queue_fd(q), "ksync-ctime:\t", text, sizeof(text));
	snprintf(want, sizeof(want), "%llu.%09llu", (unsigned long long)info.ctime / 1000000000u,
		 (unsigned long long)info.ctime % 1000000000u);
	ASSERT_STREQ(want, text);
	ASSERT_EQ(0, ksync_queue_close(q));
	ASSERT_EQ(0, ksync_unlink(name));
}

/* The creator is the process that made it, not whoever opens it later. */
TEST(creator_is_kept_after_it_exits)
{
	struct ksync_object o = { .size = sizeof(o) };
	const char *name = test_name("child");
	ksync_sem_t *s;
	pid_t pid;

	pid = fork();
	ASSERT_LE(0, pid);
	if (pid == 0)
		_exit(ksync_sem_open(&s, name, KSYNC_CREATE | KSYNC_EXCL, 0600, 1) ? 1 : 0);
	ASSERT_EQ(0, wait_child(pid, 10000));
	ASSERT_EQ(0, ksync_sem_open(&s, name, 0, 0, 0));
	ASSERT_EQ((__u32)pid, fd_info(ksync_sem_fd(s)).cpid);
	ASSERT_EQ(0, ksync_lookup(name, &o));
	ASSERT_EQ((unsigned int)pid, o.creator_pid);
	ASSERT_EQ(0, ksync_sem_close(s));
	ASSERT_EQ(0, ksync_unlink(name));
}

/*
 * In a new pid namespace: the inner creator's pid as each side numbers
 * it, and 0 for an outer creator, which the inner side cannot see.
 */
static int inner(const char *outer_name, const char *inner_name)
{
	struct ksync_object o = { .size = sizeof(o) };
	ksync_barrier_t *b;

	if (getpid() != 1)
		return 10;
	if (ksync_lookup(outer_name, &o) || o.creator_pid != 0)
		return 11;
	if (ksync_barrier_open(&b, outer_name, 0, 0, 0))
		return 12;
	if (fd_info(ksync_barrier_fd(b)).cpid != 0)
		return 13;
	ksync_barrier_close(b);
	if (ksync_barrier_open(&b, inner_name, KSYNC_CREATE | KSYNC_EXCL, 0600, 2))
		return 14;
	if (fd_info(ksync_barrier_fd(b)).cpid != 1)
		return 15;
	/* the object outlives this namespace's last process: the parent looks */
	return 0;
}

TEST(pid_namespaces)
{
	struct ksync_object o = { .size = sizeof(o) };
	char outer_name[64], inner_name[64];
	ksync_barrier_t *b;
	pid_t pid;

	if (geteuid() != 0)
		SKIP(return, "needs root for a pid namespace");
	snprintf(outer_name, sizeof(outer_name), "%s", test_name("outer"));
	snprintf(inner_name, sizeof(inner_name), "%s", test_name("inner"));
	ASSERT_EQ(0, ksync_barrier_open(&b, outer_name, KSYNC_CREATE | KSYNC_EXCL, 0600, 2));
	pid = fork();
	ASSERT_LE(0, pid);
	if (pid == 0) {
		pid_t child;

		if (unshare(CLONE_NEWPID))
			_exit(2);
		child = fork();
		if (child < 0)
			_exit(3);
		if (child == 0)
			_exit(inner(outer_name, inner_name));
		_exit(wait_child(child, 10000) == 0 ? 0 : 4);
	}
	ASSERT_EQ(0, wait_child(pid, 20000));
	ASSERT_EQ(0, ksync_lookup(inner_name, &o));
	/* the inner creator was pid 1 there, another number here */
	ASSERT_NE(0u, o.creator_pid);
	ASSERT_NE(1u, o.creator_pid);
	ASSERT_NE((unsigned int)pid, o.creator_pid);
	ASSERT_EQ(0, ksync_unlink(inner_name));
	ASSERT_EQ(0, ksync_barrier_close(b));
	ASSERT_EQ(0, ksync_unlink(outer_name));
}

/*
 * Two fds of one object have one serial, fds of two objects two, whatever
 * way the fd came (the name opened twice, a dup, fork): what the library
 * tells one object through two handles by.  fdinfo says it too; a program
 * built before 0.4 asks with the struct's first size and gets only it.
 */
TEST(serial_tells_one_object_from_two)
{
	const char *name = test_name("serial");
	ksync_sem_t *a, *a2, *b;
	struct ksync_info ia, ia2, ib, idup;
	unsigned char old[KSYNC_INFO_SIZE_V0 + 8];
	char text[64], want[64];
	int dup_fd;

	ASSERT_EQ(0, ksync_sem_open(&a, name, KSYNC_CREATE | KSYNC_EXCL, 0600, 1));
	ASSERT_EQ(0, ksync_sem_open(&a2, name, 0, 0, 0));
	ASSERT_EQ(0, ksync_sem_open(&b, NULL, 0, 0600, 1));
	dup_fd = dup(ksync_sem_fd(a));
	ASSERT_LE(0, dup_fd);
	ia = fd_info(ksync_sem_fd(a));
	ia2 = fd_info(ksync_sem_fd(a2));
	ib = fd_info(ksync_sem_fd(b));
	idup = fd_info(dup_fd);
	ASSERT_NE(0u, ia.serial);
	ASSERT_NE(~0ULL, ia.serial);
	EXPECT_EQ(ia.serial, ia2.serial);
	EXPECT_EQ(ia.serial, idup.serial);
	EXPECT_NE(ia.serial, ib.serial);
	ASSERT_NE(0u, ib.serial);

	snprintf(want, sizeof(want), "%llu", (unsigned long long)ia.serial);
	fdinfo_field(ksync_sem_fd(a2), "ksync-serial:\t", text, sizeof(text));
	EXPECT_STREQ(want, text);

	memset(old, 0xa5, sizeof(old));
	ASSERT_EQ(0, ioctl(ksync_sem_fd(a), KSYNC_IOC_INFO_V0, old));
	EXPECT_EQ(0, memcmp(old, &ia, KSYNC_INFO_SIZE_V0));
	for (size_t i = KSYNC_INFO_SIZE_V0; i < sizeof(old); i++)
		ASSERT_EQ(0xa5, old[i]);

	close(dup_fd);
	ASSERT_EQ(0, ksync_sem_close(a));
	ASSERT_EQ(0, ksync_sem_close(a2));
	ASSERT_EQ(0, ksync_sem_close(b));
	ASSERT_EQ(0, ksync_unlink(name));
}

/*
 * A program built for KSYNC_0.2 passes the struct ksync_object it knew
 * (328 bytes): it gets what it knows and nothing past it.  The module
 * still takes the first listing's entry size.
 */
TEST(older_callers_still_served)
{
	struct {
		struct ksync_object o;
		unsigned char more[8];
	} big;
	struct ksync_list_entry e[2];
	struct ksync_list_args args = {
		.size = sizeof(args),
		.entries = (uintptr_t)e,
		.count = 1,
		.entry_size = KSYNC_LIST_ENTRY_SIZE_V1,
	};
	const char *name = test_name("old");
	const size_t v2 = offsetof(struct ksync_object, ctime_ns);
	ksync_sem_t *s;
	int dev;

	ASSERT_EQ(328u, v2);
	ASSERT_EQ(0, ksync_sem_open(&s, name, KSYNC_CREATE | KSYNC_EXCL, 0600, 2));
	memset(&big, 0xa5, sizeof(big));
	big.o.size = (unsigned int)v2;
	ASSERT_EQ(0, ksync_lookup(name, &big.o));
	ASSERT_EQ(2u, big.o.sem.value);
	ASSERT_STREQ(name, big.o.name);
	for (size_t i = v2; i < sizeof(big); i++)
		ASSERT_EQ(0xa5, ((unsigned char *)&big)[i]);
	big.o.size = (unsigned int)v2 - 1;
	ASSERT_EQ(-EINVAL, ksync_lookup(name, &big.o));

	dev = open("/dev/ksync", O_RDWR | O_CLOEXEC);
	ASSERT_LE(0, dev);
	memset(e, 0xa5, sizeof(e));
	ASSERT_EQ(1, ioctl(dev, KSYNC_IOC_LIST, &args));
	/* the module wrote one old-sized entry and nothing after it */
	for (size_t i = KSYNC_LIST_ENTRY_SIZE_V1; i < sizeof(e); i++)
		ASSERT_EQ(0xa5, ((unsigned char *)e)[i]);
	args.entry_size = KSYNC_LIST_ENTRY_SIZE_V1 - 8;
	args.cursor = 0;
	ASSERT_EQ(-1, ioctl(dev, KSYNC_IOC_LIST, &args));
	ASSERT_EQ(EINVAL, errno);
	close(dev);
	ASSERT_EQ(0, ksync_sem_close(s));
	ASSERT_EQ(0, ksync_unlink(name));
}

TEST_HARNESS_MAIN
