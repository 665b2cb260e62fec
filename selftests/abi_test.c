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

static int dev_ioctl(unsigned long cmd, void *arg)
{
	int fd = open("/dev/ksync", O_RDWR | O_CLOEXEC);
	int ret;

	if (fd < 0)
		return -errno;
	ret = ioctl(fd, cmd, arg);
	if (ret < 0)
		ret = -errno;
	else if (ret > 0)
		close(ret); /* a new object fd */
	close(fd);
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

TEST_F(abi, unknown_flags_and_reserved)
{
	struct ksync_open_args a = sem_args();
	struct ksync_unlink_args u = { .size = sizeof(u), .name = (uintptr_t) "/x" };
	struct ksync_sem_wait w = { .count = 1 };
	struct ksync_sem_post p = { .count = 1 };

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
	ASSERT_EQ(self->base + 1, ksync_objects());
}

/* Deadlines at the ends of the range neither hang nor wrap. */
TEST_F(abi, extreme_deadlines)
{
	struct ksync_sem_wait w = { .count = 4, .flags = KSYNC_WAIT_DEADLINE };

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
		KSYNC_IOC_OPEN,	       KSYNC_IOC_UNLINK,      KSYNC_IOC_INFO,
		KSYNC_IOC_SEM_ACQUIRE, KSYNC_IOC_SEM_RELEASE, KSYNC_IOC_SEM_INFO,
	};
	uint64_t buf[16];
	unsigned int i, j;

	srand(1);
	for (i = 0; i < 20000; i++) {
		unsigned long cmd = cmds[rand() % 6];
		struct ksync_sem_wait *w = (void *)buf;

		for (j = 0; j < 16; j++)
			buf[j] = ((uint64_t)rand() << 33) ^ ((uint64_t)rand() << 11) ^
				 (uint64_t)rand();
		if (cmd == KSYNC_IOC_SEM_ACQUIRE) {
			/* garbage may ask for permits that exist: never wait */
			w->flags = KSYNC_WAIT_DEADLINE;
			w->deadline = 0;
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

static int write_file(const char *path, const char *val)
{
	int fd = open(path, O_WRONLY | O_CLOEXEC);
	ssize_t n;

	if (fd < 0)
		return -errno;
	n = write(fd, val, strlen(val));
	close(fd);
	return n == (ssize_t)strlen(val) ? 0 : -EIO;
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
	return write_file("/proc/thread-self/fail-nth", v);
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
		if (write_file(knobs[i][0], knobs[i][1]))
			return -1;
	return 0;
}

/*
 * Every allocation on the open path fails in turn: each open fails cleanly
 * (-ENOMEM, or whatever the failing layer reports) or succeeds, and
 * nothing leaks; kmemleak checks the rest after rmmod.
 */
TEST_F(abi, allocation_failures)
{
	const char *name = test_name("fail");
	int n, ret, failed = 0;

	if (setup_fault_injection())
		SKIP(return, "this kernel has no fault injection (the debug kernel has)");
	for (n = 1; n < 200; n++) {
		ksync_sem_t *s;

		ASSERT_EQ(0, fail_nth(n));
		ret = ksync_sem_open(&s, n & 1 ? name : NULL, KSYNC_CREATE, 0600, 1);
		if (fail_nth_left() > 0) {
			/* fewer than n fault sites: we have been through them all */
			fail_nth(0);
			if (ret == 0)
				ksync_sem_close(s);
			break;
		}
		fail_nth(0);
		if (ret == 0) {
			ASSERT_EQ(1, ksync_sem_value(s));
			ksync_sem_close(s);
		} else {
			ASSERT_TRUE(ret == -ENOMEM || ret == -ENFILE || ret == -EMFILE);
			failed++;
		}
		ksync_unlink(name);
		ASSERT_EQ(self->base + 1, ksync_objects());
	}
	TH_LOG("%d allocation sites, %d opens failed cleanly", n - 1, failed);
	ASSERT_GT(failed, 2);
	ASSERT_LT(n, 200);
}

TEST_HARNESS_MAIN
