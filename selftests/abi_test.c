// SPDX-License-Identifier: GPL-2.0
/*
 * The ioctl ABI under bad input: wrong numbers, bad pointers, bad sizes,
 * unknown flags.  Each gets a clear error, and afterwards every object
 * and the kernel are as they were.  (Allocation failures: faults_test.c;
 * random input from many threads: fuzz_test.c.)
 */
#include <sys/mman.h>

#include "common.h"
#include "raw.h"
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

/*
 * A program built when the queue's state word was in the header page
 * asked for the queue's layout with 0x35: it must fail, not read a word
 * the module no longer writes.
 */
TEST_F(abi, old_queue_layout_is_refused)
{
	struct ksync_queue_info qi;
	ksync_queue_t *q;

	ASSERT_EQ(0, ksync_queue_open(&q, NULL, 0, 0600, 4, 8));
	EXPECT_EQ(-ENOTTY, obj_ioctl(ksync_queue_fd(q),
				     _IOR(KSYNC_IOC_MAGIC, 0x35, struct ksync_queue_info), &qi));
	EXPECT_EQ(0, obj_ioctl(ksync_queue_fd(q), KSYNC_IOC_QUEUE_INFO, &qi));
	EXPECT_EQ(qi.map_size, qi.state_offset);
	ksync_queue_close(q);
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
	a.sem.max = KSYNC_SEM_VALUE_MAX + 1u;
	ASSERT_EQ(-EINVAL, dev_ioctl(KSYNC_IOC_OPEN, &a));
	a = sem_args();
	a.sem.value = 2;
	a.sem.max = 1; /* a maximum below the initial value */
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

TEST_HARNESS_MAIN
