// SPDX-License-Identifier: GPL-2.0
/*
 * A queue's ring is user memory: any process that has the queue open may
 * write anything there.  A corrupt slot breaks that queue, with a clear
 * error, for its users only.  While workers send, receive and poll, a
 * scribbler writes random words over the header and the slots: the kernel
 * must not crash, hang, loop or leak (ksync-vm checks its log, rmmod and
 * kmemleak), every call returns within its deadline with an error a user
 * can expect, and another queue used meanwhile delivers every message.
 */
#include <stdatomic.h>
#include <sys/epoll.h>
#include <sys/mman.h>

#include "queue.h"
#include "rnd.h"
#include "kselftest_harness.h"

#define WORKERS 6
#define SECONDS 5
#define CAP 8
#define MSG 24

static void *map_ring(ksync_queue_t *q, struct ksync_queue_info *info)
{
	if (ioctl(ksync_queue_fd(q), KSYNC_IOC_QUEUE_INFO, info))
		return MAP_FAILED;
	return mmap(NULL, info->map_size, PROT_READ | PROT_WRITE, MAP_SHARED, ksync_queue_fd(q), 0);
}

TEST(corrupt_length_breaks_the_queue)
{
	struct ksync_queue_info info;
	struct ksync_queue_slot *slot;
	ksync_queue_t *q, *k, *other;
	int base = ksync_objects();
	char *ring, buf[MSG];

	ASSERT_EQ(0, ksync_queue_open(&q, NULL, KSYNC_QUEUE_NOEOF, 0600, CAP, MSG));
	ASSERT_EQ(0, ksync_queue_open(&other, NULL, KSYNC_QUEUE_NOEOF, 0600, CAP, MSG));
	ring = map_ring(q, &info);
	ASSERT_NE(MAP_FAILED, ring);
	ASSERT_EQ(0, ksync_queue_send(q, "hello", 6, NULL));
	slot = (void *)(ring + info.ring_offset);
	slot->len = MSG + 1; /* longer than any message may be */
	ASSERT_EQ(-ENOTRECOVERABLE, ksync_queue_recv(q, buf, sizeof(buf), NULL));
	ASSERT_EQ(1, (int)queue_stats(q).broken);
	/* broken for every user of it, by any path, until it is gone */
	ASSERT_EQ(-ENOTRECOVERABLE, ksync_queue_try_send(q, "x", 1));
	ASSERT_EQ(-ENOTRECOVERABLE, ksync_queue_try_recv(q, buf, sizeof(buf)));
	struct pollfd p = { .fd = ksync_queue_fd(q), .events = POLLIN };
	ASSERT_EQ(1, poll(&p, 1, 0));
	ASSERT_EQ(POLLERR | POLLHUP, p.revents);
	ASSERT_EQ(0, ksync_queue_from_fd(&k, ksync_queue_fd(q)));
	ASSERT_EQ(-ENOTRECOVERABLE, ksync_queue_send(k, "x", 1, NULL));
	ASSERT_EQ(0, ksync_queue_close(k));
	/* another queue never noticed */
	ASSERT_EQ(0, ksync_queue_send(other, "fine", 5, NULL));
	ASSERT_EQ(5, ksync_queue_recv(other, buf, sizeof(buf), NULL));
	munmap(ring, info.map_size);
	ASSERT_EQ(0, ksync_queue_close(q));
	ASSERT_EQ(0, ksync_queue_close(other));
	ASSERT_EQ(base, ksync_objects());
}

static int allowed(long ret)
{
	return ret >= 0 || ret == -EAGAIN || ret == -ETIMEDOUT || ret == -EMSGSIZE ||
	       ret == -ENOTRECOVERABLE || ret == -EPIPE;
}

static int worker(ksync_queue_t *q, uint64_t seed, int64_t end)
{
	char buf[MSG];

	memset(buf, 'w', sizeof(buf));
	while (now_ns() < end) {
		struct timespec dl = ksync_deadline_ms((long)(rnd(&seed) % 20));
		struct pollfd p = { .fd = ksync_queue_fd(q), .events = POLLIN | POLLOUT };
		struct iovec v[4];
		int64_t before = now_ns();
		long ret;

		for (int i = 0; i < 4; i++)
			v[i] = (struct iovec){ buf, rnd(&seed) % (MSG + 1) };
		switch (rnd(&seed) % 6) {
		case 0:
			ret = ksync_queue_send(q, buf, rnd(&seed) % (MSG + 1), &dl);
			break;
		case 1:
			ret = ksync_queue_recv(q, buf, rnd(&seed) % (MSG + 1), &dl);
			break;
		case 2:
			ret = ksync_queue_send_batch(q, v, 4, &dl);
			break;
		case 3:
			ret = ksync_queue_recv_batch(q, v, 4, &dl);
			break;
		case 4:
			ret = ksync_queue_try_recv(q, buf, sizeof(buf));
			break;
		default:
			ret = poll(&p, 1, 5) < 0 ? -errno : 0;
			break;
		}
		if (!allowed(ret))
			return 1;
		/* the deadline holds, whatever the ring says (slack for a busy guest) */
		if (now_ns() - before > 5000000000LL)
			return 2;
		if (ksync_queue_len(q) < 0)
			return 3;
	}
	return 0;
}

TEST(scribbled_ring_hurts_nobody_else)
{
	struct ksync_queue_info info;
	ksync_queue_t *victim, *bystander;
	pid_t pid[WORKERS], scribbler;
	int base = ksync_objects();
	uint64_t *words;
	char *mem;
	int i;

	ASSERT_EQ(0, ksync_queue_open(&victim, NULL, KSYNC_QUEUE_NOEOF, 0600, CAP, MSG));
	ASSERT_EQ(0, ksync_queue_open(&bystander, NULL, KSYNC_QUEUE_NOEOF, 0600, 64, 8));
	mem = map_ring(victim, &info);
	ASSERT_NE(MAP_FAILED, mem);
	words = (uint64_t *)mem;

	int64_t end = now_ns() + SECONDS * 1000000000LL;

	for (i = 0; i < WORKERS; i++) {
		pid[i] = fork();
		ASSERT_GE(pid[i], 0);
		if (pid[i] == 0)
			_exit(worker(victim, 0x9e3779b97f4a7c15ULL * (i + 1), end));
	}
	scribbler = fork();
	ASSERT_GE(scribbler, 0);
	if (scribbler == 0) {
		size_t nwords = info.map_size / 8;
		uint64_t x = 42;

		while (now_ns() < end) {
			uint64_t r = rnd(&x);
			/* aim at the header's words and the slots' heads */
			size_t at =
				r & 1 ? (r >> 1) % 64
				      : (info.ring_offset + ((r >> 1) % CAP) * info.slot_size) / 8 +
						(r >> 8) % 2;

			__atomic_store_n(&words[at % nwords], rnd(&x) >> (r % 64),
					 __ATOMIC_RELAXED);
			if (rnd(&x) % 8 == 0)
				pause_us(100);
		}
		_exit(0);
	}
	/* the bystander delivers every message meanwhile */
	for (uint64_t n = 0; now_ns() < end; n++) {
		uint64_t got;

		ASSERT_EQ(0, ksync_queue_send(bystander, &n, sizeof(n), NULL));
		ASSERT_EQ(8, ksync_queue_recv(bystander, &got, sizeof(got), NULL));
		ASSERT_EQ(n, got);
	}
	ASSERT_EQ(0, wait_child(scribbler, 60000));
	for (i = 0; i < WORKERS; i++)
		ASSERT_EQ(0, wait_child(pid[i], 60000));
	TH_LOG("victim: %s", queue_stats(victim).broken ? "broken" : "not broken");
	munmap(mem, info.map_size);
	ASSERT_EQ(0, ksync_queue_close(victim));
	ASSERT_EQ(0, ksync_queue_close(bystander));
	ASSERT_EQ(base, ksync_objects());
}

TEST_HARNESS_MAIN
