// SPDX-License-Identifier: GPL-2.0
/*
 * The ioctl ABI under bad input: wrong numbers, bad pointers, bad sizes,
 * unknown flags.  Each gets a clear error, and afterwards every object
 * and the kernel are as they were.  On a kernel with fault injection,
 * every allocation on the open path is made to fail in turn.
 */
#include <sys/mman.h>

#include "common.h"
#include "kselftest_harness.h"

#define KERNEL_PTR ((void *)0xffff888000000000UL)

/* An ioctl on /dev/ksync; a new object fd it returns is closed at once. */
static int dev_ioctl(unsigned long cmd, void *arg)
{
	int ret = ksync_dev_ioctl(cmd, arg);

	if (ret > 0)
		close(ret);
	return ret < 0 ? ret : 0;
}

static int obj_ioctl(int fd, unsigned long cmd, void *arg)
{
	return ioctl(fd, cmd, arg) < 0 ? -errno : 0;
}

static struct ksync_open_args sem_args(void)
{
	struct ksync_open_args a;

	memset(&a, 0, sizeof(a));
	a.size = sizeof(a);
	a.type = KSYNC_TYPE_SEM;
	a.flags = KSYNC_OPEN_CREATE | KSYNC_OPEN_CLOEXEC;
	a.mode = 0600;
	return a;
}

/* A page that is not mapped any more. */
static void *unmapped(void)
{
	void *p = mmap(NULL, 4096, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);

	munmap(p, 4096);
	return p;
}

FIXTURE(abi)
{
	int base;
	ksync_sem_t *s;
	int fd;
};

FIXTURE_SETUP(abi)
{
	self->base = ksync_objects();
	ASSERT_GE(self->base, 0);
	ASSERT_EQ(0, ksync_sem_open(&self->s, NULL, 0, 0600, 3));
	self->fd = ksync_sem_fd(self->s);
}

/*
 * Whatever a test did, the kernel and the object are healthy afterwards.
 * (EXPECT, not ASSERT: an ASSERT in a teardown jumps back into it.)
 */
FIXTURE_TEARDOWN(abi)
{
	EXPECT_EQ(3, ksync_sem_value(self->s));
	EXPECT_EQ(0, ksync_sem_try_acquire(self->s, 3));
	EXPECT_EQ(0, ksync_sem_release(self->s, 3));
	EXPECT_EQ(0, sem_waiters(self->s));
	ksync_sem_close(self->s);
	EXPECT_EQ(self->base, ksync_objects());
}

TEST_F(abi, unknown_ioctls)
{
	struct ksync_sem_info info;

	ASSERT_EQ(-ENOTTY, dev_ioctl(_IO(KSYNC_IOC_MAGIC, 0x7f), NULL));
	ASSERT_EQ(-ENOTTY, dev_ioctl(KSYNC_IOC_SEM_INFO, &info));
	ASSERT_EQ(-ENOTTY, dev_ioctl(0, NULL));
	ASSERT_EQ(-ENOTTY, obj_ioctl(self->fd, _IO(KSYNC_IOC_MAGIC, 0x7f), NULL));
	ASSERT_EQ(-ENOTTY, obj_ioctl(self->fd, KSYNC_IOC_OPEN, NULL));
	ASSERT_EQ(-ENOTTY, obj_ioctl(self->fd, KSYNC_IOC_SEM_INFO + 1, &info));
	/* acquire and release before their structs had a size */
	ASSERT_EQ(-ENOTTY, obj_ioctl(self->fd, _IOW(KSYNC_IOC_MAGIC, 0x10, uint64_t[2]), &info));
	ASSERT_EQ(-ENOTTY, obj_ioctl(self->fd, _IOW(KSYNC_IOC_MAGIC, 0x11, uint64_t), &info));
	/* an output struct has one size: a wrong one in the number is refused */
	ASSERT_EQ(-ENOTTY, obj_ioctl(self->fd, _IOR(KSYNC_IOC_MAGIC, 0x12, uint32_t), &info));
}

TEST_F(abi, bad_pointers)
{
	struct ksync_open_args a = sem_args();
	struct ksync_unlink_args u = { .size = sizeof(u) };
	void *bad[] = { NULL, unmapped(), KERNEL_PTR };
	unsigned int i;

	for (i = 0; i < 3; i++) {
		ASSERT_EQ(-EFAULT, dev_ioctl(KSYNC_IOC_OPEN, bad[i]));
		ASSERT_EQ(-EFAULT, dev_ioctl(KSYNC_IOC_UNLINK, bad[i]));
		ASSERT_EQ(-EFAULT, obj_ioctl(self->fd, KSYNC_IOC_SEM_ACQUIRE, bad[i]));
		ASSERT_EQ(-EFAULT, obj_ioctl(self->fd, KSYNC_IOC_SEM_RELEASE, bad[i]));
		ASSERT_EQ(-EFAULT, obj_ioctl(self->fd, KSYNC_IOC_SEM_INFO, bad[i]));
		ASSERT_EQ(-EFAULT, obj_ioctl(self->fd, KSYNC_IOC_INFO, bad[i]));
		if (bad[i]) {
			a.name = (uintptr_t)bad[i];
			ASSERT_EQ(-EFAULT, dev_ioctl(KSYNC_IOC_OPEN, &a));
			u.name = (uintptr_t)bad[i];
			ASSERT_EQ(-EFAULT, dev_ioctl(KSYNC_IOC_UNLINK, &u));
		}
	}
	/* a struct that ends in an unmapped page */
	{
		char *two = mmap(NULL, 8192, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS,
				 -1, 0);
		struct ksync_open_args *edge;

		ASSERT_NE(MAP_FAILED, two);
		munmap(two + 4096, 4096);
		edge = (void *)(two + 4096 - 8);
		edge->size = sizeof(*edge);
		ASSERT_EQ(-EFAULT, dev_ioctl(KSYNC_IOC_OPEN, edge));
		munmap(two, 4096);
	}
}

TEST_F(abi, bad_sizes)
{
	struct {
		struct ksync_open_args a;
		char tail[64];
	} big;

	big.a = sem_args();
	big.a.size = 0;
	ASSERT_EQ(-EINVAL, dev_ioctl(KSYNC_IOC_OPEN, &big));
	big.a.size = sizeof(big.a) - 8;
	ASSERT_EQ(-EINVAL, dev_ioctl(KSYNC_IOC_OPEN, &big));
	big.a.size = 1 << 20;
	ASSERT_EQ(-EINVAL, dev_ioctl(KSYNC_IOC_OPEN, &big));
	/* a newer, larger struct is fine while what we do not know is zero */
	memset(big.tail, 0, sizeof(big.tail));
	big.a.size = sizeof(big);
	ASSERT_EQ(0, dev_ioctl(KSYNC_IOC_OPEN, &big));
	/* the size bits of the ioctl number may say so too */
	ASSERT_EQ(0, dev_ioctl(_IOC(_IOC_WRITE, KSYNC_IOC_MAGIC, 0, sizeof(big)), &big));
	big.tail[63] = 1;
	ASSERT_EQ(-EINVAL, dev_ioctl(KSYNC_IOC_OPEN, &big));
	ASSERT_EQ(self->base + 1, ksync_objects());
}

/* The blocking calls' structs grow as the open struct does. */
TEST_F(abi, wait_structs_can_grow)
{
	struct {
		struct ksync_sem_wait w;
		uint64_t tail[4];
	} bw = { .w = { .count = 1, .flags = KSYNC_WAIT_DEADLINE } };
	struct {
		struct ksync_sem_post p;
		uint64_t tail[4];
	} bp = { .p = { .count = 1 } };

	bp.p.size = 0;
	ASSERT_EQ(-EINVAL, obj_ioctl(self->fd, KSYNC_IOC_SEM_RELEASE, &bp));
	bp.p.size = sizeof(bp.p) - 4;
	ASSERT_EQ(-EINVAL, obj_ioctl(self->fd, KSYNC_IOC_SEM_RELEASE, &bp));
	bp.p.size = sizeof(bp);
	ASSERT_EQ(0, obj_ioctl(self->fd, KSYNC_IOC_SEM_RELEASE, &bp));
	ASSERT_EQ(0, obj_ioctl(self->fd, _IOC(_IOC_WRITE, KSYNC_IOC_MAGIC, 0x14, sizeof(bp)), &bp));
	bp.tail[3] = 1;
	ASSERT_EQ(-EINVAL, obj_ioctl(self->fd, KSYNC_IOC_SEM_RELEASE, &bp));
	ASSERT_EQ(5, ksync_sem_value(self->s));

	bw.w.size = 8;
	ASSERT_EQ(-EINVAL, obj_ioctl(self->fd, KSYNC_IOC_SEM_ACQUIRE, &bw));
	bw.w.size = 1 << 20;
	ASSERT_EQ(-EINVAL, obj_ioctl(self->fd, KSYNC_IOC_SEM_ACQUIRE, &bw));
	bw.w.size = sizeof(bw);
	ASSERT_EQ(0, obj_ioctl(self->fd, KSYNC_IOC_SEM_ACQUIRE, &bw));
	bw.tail[0] = 1;
	ASSERT_EQ(-EINVAL, obj_ioctl(self->fd, KSYNC_IOC_SEM_ACQUIRE, &bw));
	ASSERT_EQ(4, ksync_sem_value(self->s));
	ASSERT_EQ(0, ksync_sem_try_acquire(self->s, 1)); /* as the teardown expects */
}

TEST_F(abi, unknown_flags_and_reserved)
{
	struct ksync_open_args a = sem_args();
	struct ksync_unlink_args u = { .size = sizeof(u), .name = (uintptr_t) "/x" };
	struct ksync_sem_wait w = { .size = sizeof(w), .count = 1 };
	struct ksync_sem_post p = { .size = sizeof(p), .count = 1 };

	a.flags |= 0x100;
	ASSERT_EQ(-EINVAL, dev_ioctl(KSYNC_IOC_OPEN, &a));
	a = sem_args();
	a.mode = 01777;
	ASSERT_EQ(-EINVAL, dev_ioctl(KSYNC_IOC_OPEN, &a));
	a = sem_args();
	a.type = 0;
	ASSERT_EQ(-EINVAL, dev_ioctl(KSYNC_IOC_OPEN, &a));
	a.type = 1000;
	ASSERT_EQ(-EINVAL, dev_ioctl(KSYNC_IOC_OPEN, &a));
	a = sem_args();
	a.reserved[3] = 1;
	ASSERT_EQ(-EINVAL, dev_ioctl(KSYNC_IOC_OPEN, &a));
	a = sem_args();
	a.sem.pad = 1;
	ASSERT_EQ(-EINVAL, dev_ioctl(KSYNC_IOC_OPEN, &a));
	a = sem_args();
	a.sem.value = KSYNC_SEM_VALUE_MAX + 1u;
	ASSERT_EQ(-EINVAL, dev_ioctl(KSYNC_IOC_OPEN, &a));

	u.flags = 1;
	ASSERT_EQ(-EINVAL, dev_ioctl(KSYNC_IOC_UNLINK, &u));

	w.flags = 0x80;
	ASSERT_EQ(-EINVAL, obj_ioctl(self->fd, KSYNC_IOC_SEM_ACQUIRE, &w));
	w.flags = 0;
	w.count = KSYNC_SEM_VALUE_MAX + 1u;
	ASSERT_EQ(-EINVAL, obj_ioctl(self->fd, KSYNC_IOC_SEM_ACQUIRE, &w));
	p.flags = 1;
	ASSERT_EQ(-EINVAL, obj_ioctl(self->fd, KSYNC_IOC_SEM_RELEASE, &p));
	p.flags = 0;
	p.count = 0xffffffffu;
	ASSERT_EQ(-EINVAL, obj_ioctl(self->fd, KSYNC_IOC_SEM_RELEASE, &p));
	w.count = 1;
	w.pad = 1;
	ASSERT_EQ(-EINVAL, obj_ioctl(self->fd, KSYNC_IOC_SEM_ACQUIRE, &w));
	p.count = 1;
	p.pad = 1;
	ASSERT_EQ(-EINVAL, obj_ioctl(self->fd, KSYNC_IOC_SEM_RELEASE, &p));
	ASSERT_EQ(self->base + 1, ksync_objects());
}

/* Deadlines at the ends of the range neither hang nor wrap. */
TEST_F(abi, extreme_deadlines)
{
	struct ksync_sem_wait w = { .size = sizeof(w), .count = 4, .flags = KSYNC_WAIT_DEADLINE };

	w.deadline = 0;
	ASSERT_EQ(-ETIMEDOUT, obj_ioctl(self->fd, KSYNC_IOC_SEM_ACQUIRE, &w));
	w.deadline = 1;
	ASSERT_EQ(-ETIMEDOUT, obj_ioctl(self->fd, KSYNC_IOC_SEM_ACQUIRE, &w));
	w.deadline = (uint64_t)now_ns() + 1000000;
	ASSERT_EQ(-ETIMEDOUT, obj_ioctl(self->fd, KSYNC_IOC_SEM_ACQUIRE, &w));
}

/* Random garbage through every ioctl: errors only, nothing changes. */
TEST_F(abi, garbage)
{
	unsigned long cmds[] = {
		KSYNC_IOC_OPEN,	       KSYNC_IOC_UNLINK,   KSYNC_IOC_INFO, KSYNC_IOC_SEM_ACQUIRE,
		KSYNC_IOC_SEM_RELEASE, KSYNC_IOC_SEM_INFO, KSYNC_IOC_LIST,
	};
	uint64_t buf[16];
	unsigned int i, j;

	srand(1);
	for (i = 0; i < 20000; i++) {
		unsigned long cmd = cmds[rand() % 7];
		struct ksync_sem_wait *w = (void *)buf;

		for (j = 0; j < 16; j++)
			buf[j] = ((uint64_t)rand() << 33) ^ ((uint64_t)rand() << 11) ^
				 (uint64_t)rand();
		if (cmd == KSYNC_IOC_SEM_ACQUIRE) {
			/* garbage may ask for permits that exist: never wait */
			w->flags = KSYNC_WAIT_DEADLINE;
			w->deadline = 0;
			if (i & 2) /* and get past the size check now and then */
				w->size = sizeof(*w);
		}
		if (cmd == KSYNC_IOC_SEM_RELEASE)
			continue; /* a random release would legitimately add */
		if (i & 1)
			dev_ioctl(cmd, buf);
		else if (obj_ioctl(self->fd, cmd, buf) == 0 && cmd == KSYNC_IOC_SEM_ACQUIRE)
			ASSERT_EQ(0, ksync_sem_release(self->s, w->count));
	}
	ASSERT_EQ(self->base + 1, ksync_objects());
}

static int fail_nth_left(void)
{
	char buf[32] = "";
	int fd = open("/proc/thread-self/fail-nth", O_RDONLY | O_CLOEXEC);

	if (fd < 0)
		return -1;
	if (read(fd, buf, sizeof(buf) - 1) < 0)
		buf[0] = 0;
	close(fd);
	return atoi(buf);
}

/* Arm fault injection so that the n-th allocation of this thread fails. */
static int fail_nth(int n)
{
	char v[16];

	snprintf(v, sizeof(v), "%d", n);
	return write_text("/proc/thread-self/fail-nth", v);
}

static int setup_fault_injection(void)
{
	const char *knobs[][2] = {
		{ "/sys/kernel/debug/failslab/ignore-gfp-wait", "N" },
		{ "/sys/kernel/debug/fail_page_alloc/ignore-gfp-wait", "N" },
		{ "/sys/kernel/debug/fail_page_alloc/min-order", "0" },
		{ "/sys/kernel/debug/failslab/verbose", "0" },
		{ "/sys/kernel/debug/fail_page_alloc/verbose", "0" },
	};
	unsigned int i;

	if (access("/proc/thread-self/fail-nth", W_OK))
		return -1;
	for (i = 0; i < sizeof(knobs) / sizeof(knobs[0]); i++)
		if (write_text(knobs[i][0], knobs[i][1]))
			return -1;
	return 0;
}

/* What the allocation-failure test drives, one call each. */
static int op_open_named(const char *name)
{
	ksync_sem_t *s;
	int ret = ksync_sem_open(&s, name, KSYNC_CREATE, 0600, 1);

	if (ret == 0) {
		ret = ksync_sem_value(s) == 1 ? 0 : -EBADMSG;
		ksync_sem_close(s);
	}
	return ret; /* the caller unlinks, with fault injection off */
}

static int op_open_anon(const char *name)
{
	ksync_sem_t *s;
	int ret = ksync_sem_open(&s, NULL, KSYNC_UNDO, 0600, 1);

	(void)name;
	if (ret == 0) {
		ret = ksync_sem_acquire(s, 1, NULL);
		ksync_sem_close(s);
	}
	return ret;
}

static int op_list(const char *name)
{
	struct ksync_list_entry e[4];
	struct ksync_list_args a = {
		.size = sizeof(a), .entries = (uintptr_t)e, .count = 4, .entry_size = sizeof(e[0])
	};
	int ret = dev_ioctl(KSYNC_IOC_LIST, &a);

	(void)name;
	return ret < 0 ? ret : 0;
}

/* A barrier: open (page, file, map file), join (a party entry), a round. */
static int op_barrier(const char *name)
{
	ksync_barrier_t *b;
	int ret = ksync_barrier_open(&b, name, KSYNC_CREATE, 0600, 2);

	if (ret == 0) {
		ret = ksync_barrier_arrive(b);
		if (ret == 0)
			ret = ksync_barrier_wait(b, NULL) == 1 ? 0 : -EBADMSG;
		ksync_barrier_close(b);
	}
	return ret;
}

/*
 * A queue: open (object, ring, file, map file), a send on the ring (a
 * party entry, a claim token), a send through the kernel, receives.
 */
static int op_queue(const char *name)
{
	ksync_queue_t *q, *k = NULL;
	char buf[8];
	int ret = ksync_queue_open(&q, name, KSYNC_CREATE, 0600, 4, 8);

	if (ret)
		return ret;
	ret = ksync_queue_send(q, "a", 1, NULL);
	if (!ret)
		ret = ksync_queue_open(&k, name, KSYNC_QUEUE_KERNEL, 0, 0, 0);
	if (!ret)
		ret = ksync_queue_send(k, "b", 1, NULL);
	if (!ret)
		ret = ksync_queue_recv(k, buf, sizeof(buf), NULL) == 1 ? 0 : -EBADMSG;
	if (!ret)
		ret = ksync_queue_recv(q, buf, sizeof(buf), NULL) == 1 ? 0 : -EBADMSG;
	if (k)
		ksync_queue_close(k);
	ksync_queue_close(q);
	return ret;
}

/* KSYNC_IOC_WHO: an UNDO holder (its pid reference), then the buffer. */
static int op_who(const char *name)
{
	struct ksync_who_entry e[2];
	struct ksync_who_args a = {
		.size = sizeof(a), .entries = (uintptr_t)e, .count = 2, .entry_size = sizeof(e[0])
	};
	ksync_sem_t *s;
	int ret = ksync_sem_open(&s, name, KSYNC_CREATE | KSYNC_UNDO, 0600, 1);

	if (ret)
		return ret;
	ret = ksync_sem_acquire(s, 1, NULL);
	if (!ret) {
		ret = ioctl(ksync_sem_fd(s), KSYNC_IOC_WHO, &a);
		ret = ret < 0 ? -errno : ret == 1 && e[0].what == KSYNC_WHO_HOLDS ? 0 : -EBADMSG;
	}
	ksync_sem_close(s);
	return ret;
}

/*
 * Every allocation on each path fails in turn: each call fails cleanly
 * (-ENOMEM, or whatever the failing layer reports) or succeeds, nothing
 * leaks (the object count; kmemleak checks the rest after rmmod), and the
 * objects that existed are still usable.
 */
TEST_F_TIMEOUT(abi, allocation_failures, 180)
{
	int (*ops[])(const char *) = { op_open_named, op_open_anon, op_list,
				       op_barrier,    op_queue,	    op_who };
	const char *opnames[] = { "open named", "open anonymous with UNDO",
				  "list",	"barrier",
				  "queue",	"who" };
	char name[64], keepname[64];
	ksync_sem_t *keep;

	if (setup_fault_injection())
		SKIP(return, "this kernel has no fault injection (the debug kernel has)");
	snprintf(name, sizeof(name), "%s", test_name("fail"));
	snprintf(keepname, sizeof(keepname), "%s", test_name("keep"));
	/* one named object the list finds, and that must survive it all */
	ASSERT_EQ(0, ksync_sem_open(&keep, keepname, KSYNC_CREATE, 0600, 2));
	for (unsigned int o = 0; o < sizeof(ops) / sizeof(ops[0]); o++) {
		int n, ret, failed = 0;

		for (n = 1; n < 200; n++) {
			ASSERT_EQ(0, fail_nth(n));
			ret = ops[o](name);
			if (fail_nth_left() > 0) {
				/* fewer than n fault sites: we have been through them all */
				fail_nth(0);
				ksync_unlink(name);
				break;
			}
			fail_nth(0);
			ksync_unlink(name);
			if (ret) {
				ASSERT_TRUE(ret == -ENOMEM || ret == -ENFILE || ret == -EMFILE ||
					    ret == -ENOSPC)
				{
					TH_LOG("%s: %d", opnames[o], ret);
				}
				failed++;
			}
			ASSERT_EQ(self->base + 2, ksync_objects());
		}
		TH_LOG("%s: %d allocation sites, %d calls failed cleanly", opnames[o], n - 1,
		       failed);
		ASSERT_GT(failed, 0);
		ASSERT_LT(n, 200);
	}
	ASSERT_EQ(0, ksync_sem_try_acquire(keep, 2));
	ASSERT_EQ(0, ksync_sem_release(keep, 2));
	ASSERT_EQ(0, ksync_unlink(keepname));
	ksync_sem_close(keep);
}

TEST_HARNESS_MAIN
