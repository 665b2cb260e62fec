// SPDX-License-Identifier: GPL-2.0
/*
 * The module's limits and what users hold of them (ksync_limits(),
 * ksync_usage(); `ipcs -l`, `lsipc`): the limits are the module's
 * parameters, a user's usage follows what it creates and frees, another
 * user's usage is root's to see.
 */
#include <sched.h>
#include <sys/prctl.h>

#include "common.h"
#include "kselftest_harness.h"

#define USER_A 1000
#define USER_B 1001

static struct ksync_limits limits_of(uid_t uid)
{
	struct ksync_limits l = { .size = sizeof(l) };

	if (ksync_limits(uid, &l))
		memset(&l, 0xff, sizeof(l));
	return l;
}

TEST(limits_are_the_module_parameters)
{
	struct ksync_limits l = limits_of(KSYNC_SELF);

	ASSERT_EQ((unsigned int)geteuid(), l.uid);
	ASSERT_EQ(read_number(KSYNC_PARAM("max_objects")), (long)l.max_objects);
	ASSERT_EQ(read_number(KSYNC_PARAM("max_objects_per_user")), (long)l.max_objects_per_user);
	ASSERT_EQ(read_number(KSYNC_PARAM("max_bytes_per_user")), (long)l.max_bytes_per_user);
	ASSERT_EQ(read_number(KSYNC_PARAM("max_queue_bytes")), (long)l.max_queue_bytes);
	ASSERT_EQ(ksync_objects(), (int)l.objects);
}

/* What the caller creates shows in its usage, and goes with the objects. */
TEST(usage_follows_the_callers_objects)
{
	struct ksync_limits before = limits_of(KSYNC_SELF), during, after;
	unsigned long long page = (unsigned long long)sysconf(_SC_PAGESIZE);
	ksync_barrier_t *b;
	ksync_sem_t *s;

	ASSERT_EQ(0, ksync_sem_open(&s, NULL, 0, 0600, 1));
	ASSERT_EQ(0, ksync_barrier_open(&b, NULL, 0, 0600, 2));
	during = limits_of(KSYNC_SELF);
	/* a semaphore and a barrier hold a page each */
	ASSERT_EQ(before.user_objects + 2, during.user_objects);
	ASSERT_EQ(before.user_bytes + 2 * page, during.user_bytes);
	ASSERT_EQ(before.objects + 2, during.objects);
	ASSERT_EQ(0, ksync_sem_close(s));
	ASSERT_EQ(0, ksync_barrier_close(b));
	after = limits_of(KSYNC_SELF);
	ASSERT_EQ(before.user_objects, after.user_objects);
	ASSERT_EQ(before.user_bytes, after.user_bytes);
}

/* As an unprivileged user: its own usage, nobody else's. */
static int ask_as_user(void *arg)
{
	struct ksync_limits l = { .size = sizeof(l) };
	struct ksync_usage u[2] = { { .size = sizeof(u[0]) } };

	(void)arg;
	if (ksync_limits(KSYNC_SELF, &l) || l.uid != USER_A)
		return 10;
	if (ksync_limits(USER_A, &l) || l.uid != USER_A)
		return 11;
	if (ksync_limits(0, &l) != -EPERM)
		return 12;
	if (ksync_usage(u, 2) != -EPERM)
		return 13;
	return 0;
}

FIXTURE(as_root)
{
	char name[64];
};

FIXTURE_SETUP(as_root)
{
	if (geteuid() != 0)
		SKIP(return, "needs root to switch users");
	snprintf(self->name, sizeof(self->name), "%s", test_name("usage"));
}

FIXTURE_TEARDOWN(as_root)
{
	ksync_unlink(self->name);
}

TEST_F(as_root, another_users_usage_needs_privilege)
{
	ASSERT_EQ(0, as_user(USER_A, USER_A, ask_as_user, NULL));
}

/* As USER_B: leave a named semaphore behind, owned by USER_B. */
static int leave_one(void *arg)
{
	ksync_sem_t *s;

	if (ksync_sem_open(&s, arg, KSYNC_CREATE | KSYNC_EXCL, 0600, 0))
		return 10;
	return ksync_sem_close(s) ? 11 : 0;
}

static const struct ksync_usage *find_uid(const struct ksync_usage *u, int n, unsigned int uid)
{
	for (int i = 0; i < n; i++)
		if (u[i].uid == uid)
			return &u[i];
	return NULL;
}

TEST_F(as_root, root_sees_every_user)
{
	struct ksync_usage u[64], few[1] = { { .size = sizeof(few[0]) } };
	unsigned long long page = (unsigned long long)sysconf(_SC_PAGESIZE);
	struct ksync_limits b_before = limits_of(USER_B), b;
	const struct ksync_usage *mine;
	ksync_sem_t *s;
	int n;

	ASSERT_EQ(0, as_user(USER_B, USER_B, leave_one, self->name));
	b = limits_of(USER_B);
	ASSERT_EQ((unsigned int)USER_B, b.uid);
	ASSERT_EQ(b_before.user_objects + 1, b.user_objects);
	ASSERT_EQ(b_before.user_bytes + page, b.user_bytes);
	ASSERT_EQ(0, ksync_sem_open(&s, NULL, 0, 0600, 0)); /* and one of root's */
	u[0].size = sizeof(u[0]);
	n = ksync_usage(u, 64);
	ASSERT_LE(2, n);
	ASSERT_GE(64, n);
	mine = find_uid(u, n, USER_B);
	ASSERT_NE(NULL, mine);
	ASSERT_EQ(b.user_objects, mine->objects);
	ASSERT_EQ(b.user_bytes, mine->bytes);
	mine = find_uid(u, n, 0);
	ASSERT_NE(NULL, mine);
	ASSERT_EQ(limits_of(0).user_objects, mine->objects);
	/* in the order of their uids */
	for (int i = 1; i < n; i++)
		ASSERT_LT(u[i - 1].uid, u[i].uid);
	/* room for one: the count of all, the first filled */
	ASSERT_EQ(n, ksync_usage(few, 1));
	ASSERT_EQ(u[0].uid, few[0].uid);
	ASSERT_EQ(n, ksync_usage(NULL, 0));
	ASSERT_EQ(0, ksync_sem_close(s));
	ASSERT_EQ(0, ksync_unlink(self->name));
	ASSERT_EQ(b_before.user_objects, limits_of(USER_B).user_objects);
}

/* KSYNC_IOC_USAGE itself: entries filled, and the cursor it leaves. */
static int usage_ioctl(struct ksync_usage_entry *e, unsigned int count, __u64 *cursor)
{
	struct ksync_usage_args a = { .size = sizeof(a),
				      .entries = (uintptr_t)e,
				      .count = count,
				      .entry_size = sizeof(*e),
				      .cursor = *cursor };
	int dev = open("/dev/ksync", O_RDWR | O_CLOEXEC), ret;

	if (dev < 0)
		return -errno;
	ret = ioctl(dev, KSYNC_IOC_USAGE, &a);
	ret = ret < 0 ? -errno : ret;
	*cursor = a.cursor;
	close(dev);
	return ret;
}

/*
 * USER_A in a user namespace of its own, root there: USAGE shows USER_A
 * alone (as uid 0), and the cursor at the end says nothing of the users
 * it cannot see (the old cursor was the last kernel uid walked, plus one).
 */
static int ask_in_own_userns(void *arg)
{
	struct ksync_usage_entry e[4];
	__u64 cursor = 0;
	ksync_sem_t *s;
	char map[32];

	(void)arg;
	if (ksync_sem_open(&s, NULL, 0, 0600, 0)) /* held until the child exits */
		return 9;
	prctl(PR_SET_DUMPABLE, 1);
	if (unshare(CLONE_NEWUSER))
		return 10;
	snprintf(map, sizeof(map), "0 %d 1", USER_A);
	if (write_text("/proc/self/setgroups", "deny") || write_text("/proc/self/uid_map", map))
		return 11;
	if (usage_ioctl(e, 4, &cursor) != 1 || e[0].uid != 0 || e[0].objects != 1)
		return 12;
	if (cursor != (__u64)UINT32_MAX + 1)
		return 13;
	return usage_ioctl(e, 4, &cursor) == 0 ? 0 : 14;
}

TEST_F(as_root, a_user_namespace_sees_only_its_own)
{
	ksync_sem_t *s;

	/* users the namespace cannot see, on either side of USER_A */
	ASSERT_EQ(0, ksync_sem_open(&s, NULL, 0, 0600, 0));
	ASSERT_EQ(0, as_user(USER_B, USER_B, leave_one, self->name));
	ASSERT_EQ(0, as_user(USER_A, USER_A, ask_in_own_userns, NULL));
	ASSERT_EQ(0, ksync_unlink(self->name));
	ASSERT_EQ(0, ksync_sem_close(s));
}

TEST(bad_arguments)
{
	struct ksync_limits l = { .size = sizeof(l) - 8 };
	struct ksync_usage u = { .size = sizeof(u) - 8 };
	struct ksync_limits_args args = { .size = sizeof(args), .flags = 0x2 };
	int dev;

	ASSERT_EQ(-EINVAL, ksync_limits(KSYNC_SELF, &l));
	ASSERT_EQ(-EINVAL, ksync_limits(KSYNC_SELF, NULL));
	ASSERT_EQ(-EINVAL, ksync_usage(&u, 1));
	ASSERT_EQ(-EINVAL, ksync_usage(NULL, 1));
	dev = open("/dev/ksync", O_RDWR | O_CLOEXEC);
	ASSERT_LE(0, dev);
	ASSERT_EQ(-1, ioctl(dev, KSYNC_IOC_LIMITS, &args));
	ASSERT_EQ(EINVAL, errno);
	args.flags = 0;
	args.pad = 1;
	ASSERT_EQ(-1, ioctl(dev, KSYNC_IOC_LIMITS, &args));
	ASSERT_EQ(EINVAL, errno);
	/* a uid without KSYNC_LIMITS_UID would mean nothing */
	args.pad = 0;
	args.uid = 1;
	ASSERT_EQ(-1, ioctl(dev, KSYNC_IOC_LIMITS, &args));
	ASSERT_EQ(EINVAL, errno);
	close(dev);
}

TEST_HARNESS_MAIN
