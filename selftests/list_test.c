// SPDX-License-Identifier: GPL-2.0
/*
 * KSYNC_IOC_LIST: the names of the caller's IPC namespace that it may see,
 * paged with a cursor, with owner, mode and the semaphore's state; and what
 * an administrator does with it when one user has left names behind.
 */
#include <sys/stat.h>

#include "common.h"
#include "raw.h"
#include "kselftest_harness.h"

#define USER_A 1000
#define USER_B 1001

/*
 * Walk the listing through the ioctl, batch entries at a time, calling fn
 * on every entry whose name starts with prefix: the paging is what these
 * tests test.  Returns how many matched, or -errno.
 */
static long page_names(const char *prefix, unsigned int batch,
		       void (*fn)(const struct ksync_list_entry *e, void *arg), void *arg)
{
	struct ksync_list_entry e[64];
	struct ksync_list_args a = { .size = sizeof(a),
				     .entries = (uintptr_t)e,
				     .entry_size = sizeof(e[0]) };
	long found = 0;
	int n;

	if (batch > 64)
		batch = 64;
	for (;;) {
		a.count = batch;
		n = ksync_dev_ioctl(KSYNC_IOC_LIST, &a);
		if (n < 0)
			return n;
		if (n == 0)
			return found;
		for (int i = 0; i < n; i++) {
			if (strncmp(e[i].name, prefix, strlen(prefix)))
				continue;
			found++;
			if (fn)
				fn(&e[i], arg);
		}
	}
}

struct seen {
	char names[8][KSYNC_LIST_NAME_LEN];
	struct ksync_list_entry e[8];
	int n;
};

static void collect(const struct ksync_list_entry *e, void *arg)
{
	struct seen *s = arg;

	if (s->n < 8) {
		snprintf(s->names[s->n], sizeof(s->names[0]), "%s", e->name);
		s->e[s->n++] = *e;
	}
}

static const struct ksync_list_entry *find(struct seen *s, const char *name)
{
	for (int i = 0; i < s->n; i++)
		if (!strcmp(s->names[i], name))
			return &s->e[i];
	return NULL;
}

TEST(lists_names_with_their_state)
{
	char prefix[32], n1[64], n2[64];
	ksync_sem_t *a, *b, *b2;
	const struct ksync_list_entry *e;
	struct seen seen = { .n = 0 };
	pid_t pid;

	umask(0);
	snprintf(prefix, sizeof(prefix), "/lst%d-", (int)getpid());
	snprintf(n1, sizeof(n1), "%sone", prefix);
	snprintf(n2, sizeof(n2), "%stwo", prefix);
	ASSERT_EQ(0, ksync_sem_open(&a, n1, KSYNC_CREATE | KSYNC_EXCL, 0640, 7));
	ASSERT_EQ(0, ksync_sem_open(&b, n2, KSYNC_CREATE | KSYNC_EXCL, 0600, 0));
	ASSERT_EQ(0, ksync_sem_open(&b2, n2, 0, 0, 0));
	pid = fork();
	ASSERT_GE(pid, 0);
	if (pid == 0) {
		struct timespec dl = ksync_deadline_ms(20000);

		_exit(ksync_sem_acquire(b, 1, &dl) ? 1 : 0);
	}
	ASSERT_TRUE(wait_waiters(b, 1, 10000));

	/* one entry per call: the cursor carries the walk */
	ASSERT_EQ(2, page_names(prefix, 1, collect, &seen));
	e = find(&seen, n1);
	ASSERT_NE(NULL, e);
	ASSERT_EQ((unsigned int)KSYNC_TYPE_SEM, e->type);
	ASSERT_EQ(geteuid(), e->uid);
	ASSERT_EQ(getegid(), e->gid);
	ASSERT_EQ(0640u, e->mode);
	ASSERT_EQ(7u, e->sem.value);
	ASSERT_EQ(0u, e->sem.waiters);
	ASSERT_EQ(1u, e->handles);
	e = find(&seen, n2);
	ASSERT_NE(NULL, e);
	ASSERT_EQ(1u, e->sem.waiters);
	ASSERT_EQ(2u, e->handles); /* b and b2: the child shares b's */

	ASSERT_EQ(0, ksync_sem_release(b, 1));
	ASSERT_EQ(0, wait_child(pid, 10000));
	ASSERT_EQ(0, ksync_unlink(n1));
	ASSERT_EQ(1, page_names(prefix, 64, NULL, NULL));
	ASSERT_EQ(0, ksync_unlink(n2));
	ASSERT_EQ(0, page_names(prefix, 64, NULL, NULL));
	ksync_sem_close(a);
	ksync_sem_close(b);
	ksync_sem_close(b2);
}

/* A larger entry from a newer caller: the module zeroes what it lacks. */
static int larger_entries(struct __test_metadata *_metadata)
{
	struct {
		struct ksync_list_entry e;
		char tail[40];
	} big[2];
	struct ksync_list_args a = { .size = sizeof(a),
				     .entries = (uintptr_t)big,
				     .count = 2,
				     .entry_size = sizeof(big[0]) };

	memset(big, 0xa5, sizeof(big));
	ASSERT_LT(0, ksync_dev_ioctl(KSYNC_IOC_LIST, &a));
	for (unsigned int i = 0; i < sizeof(big[0].tail); i++) {
		ASSERT_EQ(0, big[0].tail[i]);
	}
	ASSERT_EQ('/', big[0].e.name[0]);
	return 0;
}

TEST(bad_arguments)
{
	struct ksync_list_entry e[2];
	struct ksync_list_args a = {
		.size = sizeof(a), .entries = (uintptr_t)e, .count = 2, .entry_size = sizeof(e[0])
	};
	ksync_sem_t *s;
	char name[64];

	snprintf(name, sizeof(name), "%s", test_name("lbad"));
	ASSERT_EQ(0, ksync_sem_open(&s, name, KSYNC_CREATE | KSYNC_EXCL, 0600, 0));
	a.flags = 1;
	ASSERT_EQ(-EINVAL, ksync_dev_ioctl(KSYNC_IOC_LIST, &a));
	a.flags = 0;
	/* shorter than the first entry (an older caller's size is taken: created_test) */
	a.entry_size = KSYNC_LIST_ENTRY_SIZE_V1 - 8;
	ASSERT_EQ(-EINVAL, ksync_dev_ioctl(KSYNC_IOC_LIST, &a));
	a.entry_size = sizeof(e[0]);
	a.entries = 8; /* unmapped */
	ASSERT_EQ(-EFAULT, ksync_dev_ioctl(KSYNC_IOC_LIST, &a));
	a.entries = (uintptr_t)e;
	a.count = 0; /* room for nothing would look like the end */
	ASSERT_EQ(-EINVAL, ksync_dev_ioctl(KSYNC_IOC_LIST, &a));
	a.count = 2;
	a.cursor = 1ULL << 40; /* past every id */
	ASSERT_EQ(0, ksync_dev_ioctl(KSYNC_IOC_LIST, &a));
	ASSERT_EQ(0, larger_entries(_metadata));
	ksync_sem_close(s);
	ksync_unlink(name);
}

/* What a user may not read is not listed to it; its owner and root see it. */
static int count_visible(void *prefix)
{
	long n = page_names(prefix, 64, NULL, NULL);

	return n < 0 ? 100 : (int)n;
}

static int create_named(void *name)
{
	ksync_sem_t *s;

	if (ksync_sem_open(&s, name, KSYNC_CREATE | KSYNC_EXCL, 0600, 0))
		return 1;
	ksync_sem_close(s);
	return 0;
}

TEST(lists_only_what_the_caller_may_see)
{
	char prefix[32], priv[64], pub[64];
	ksync_sem_t *s;

	if (geteuid() != 0)
		SKIP(return, "needs root to switch users");
	umask(0);
	snprintf(prefix, sizeof(prefix), "/vis%d-", (int)getpid());
	snprintf(priv, sizeof(priv), "%spriv", prefix);
	snprintf(pub, sizeof(pub), "%spub", prefix);
	ASSERT_EQ(0, as_user(USER_A, USER_A, create_named, priv));
	ASSERT_EQ(0, ksync_sem_open(&s, pub, KSYNC_CREATE | KSYNC_EXCL, 0644, 0));
	ASSERT_EQ(2, as_user(USER_A, USER_A, count_visible, prefix)); /* owner + readable */
	ASSERT_EQ(1, as_user(USER_B, USER_B, count_visible, prefix)); /* readable only */
	ASSERT_EQ(2, count_visible(prefix)); /* CAP_IPC_OWNER */
	ksync_sem_close(s);
	ASSERT_EQ(0, ksync_unlink(pub));
	ASSERT_EQ(0, ksync_unlink(priv));
}

/*
 * One user leaves names behind and goes; root finds every one of them,
 * with its owner, and removes them: nothing stays pinned.
 */
struct leave {
	const char *prefix;
	int count;
};

static int leave_names(void *arg)
{
	struct leave *l = arg;
	char name[64];

	for (int i = 0; i < l->count; i++) {
		snprintf(name, sizeof(name), "%s%d", l->prefix, i);
		if (create_named(name))
			return 1;
	}
	return 0;
}

struct sweep {
	int owned_by_a;
	char names[64][KSYNC_LIST_NAME_LEN];
	int n;
};

static void note(const struct ksync_list_entry *e, void *arg)
{
	struct sweep *s = arg;

	if (e->uid == USER_A)
		s->owned_by_a++;
	if (s->n < 64)
		snprintf(s->names[s->n++], sizeof(s->names[0]), "%s", e->name);
}

TEST(root_finds_and_removes_what_a_user_left)
{
	struct leave l = { .count = 40 };
	struct sweep sw = { 0 };
	char prefix[32];
	int base = ksync_objects();

	if (geteuid() != 0)
		SKIP(return, "needs root to switch users");
	snprintf(prefix, sizeof(prefix), "/left%d-", (int)getpid());
	l.prefix = prefix;
	ASSERT_EQ(0, as_user(USER_A, USER_A, leave_names, &l));
	ASSERT_EQ(base + 40, ksync_objects());
	ASSERT_EQ(40, page_names(prefix, 7, note, &sw));
	ASSERT_EQ(40, sw.owned_by_a);
	for (int i = 0; i < sw.n; i++) {
		ASSERT_EQ(0, ksync_unlink(sw.names[i]));
	}
	ASSERT_EQ(base, ksync_objects());
}

/*
 * Many names: every one is listed exactly once.  More than 64 * 64, so
 * that the ids fill a third level of the registry's xarray and the name
 * table resizes several times; not many more, since each open costs the
 * debug kernel about 10 ms.
 */
#define MANY 4500

static int open_raw(const char *name)
{
	struct ksync_open_args a = {
		.size = sizeof(a),
		.type = KSYNC_TYPE_SEM,
		.flags = KSYNC_OPEN_CREATE | KSYNC_OPEN_EXCL | KSYNC_OPEN_CLOEXEC,
		.mode = 0600,
		.name = (uintptr_t)name,
	};

	return ksync_dev_ioctl(KSYNC_IOC_OPEN, &a);
}

struct tally {
	const char *prefix;
	unsigned char seen[MANY];
	int dup;
};

static void mark(const struct ksync_list_entry *e, void *arg)
{
	struct tally *t = arg;
	int i = atoi(e->name + strlen(t->prefix));

	if (i >= 0 && i < MANY && t->seen[i]++)
		t->dup++;
}

FIXTURE(many)
{
	char prefix[32];
};

FIXTURE_SETUP(many)
{
	snprintf(self->prefix, sizeof(self->prefix), "/many%d-", (int)getpid());
}

FIXTURE_TEARDOWN(many)
{
	char name[64];

	for (int i = 0; i < MANY; i++) {
		snprintf(name, sizeof(name), "%s%d", self->prefix, i);
		ksync_unlink(name);
	}
}

TEST_F_TIMEOUT(many, every_name_once, 300)
{
	static struct tally t;
	char name[64];
	int base = ksync_objects();

	for (int i = 0; i < MANY; i++) {
		int fd;

		snprintf(name, sizeof(name), "%s%d", self->prefix, i);
		fd = open_raw(name);
		ASSERT_LE(0, fd);
		close(fd);
	}
	t.prefix = self->prefix;
	ASSERT_EQ(MANY, page_names(self->prefix, 64, mark, &t));
	ASSERT_EQ(0, t.dup);
	for (int i = 0; i < MANY; i++) {
		ASSERT_EQ(1, t.seen[i]);
	}
	ASSERT_EQ(base + MANY, ksync_objects());
}

TEST_HARNESS_MAIN
