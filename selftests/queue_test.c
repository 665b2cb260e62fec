// SPDX-License-Identifier: GPL-2.0
/*
 * Bounded message queues in one process: parameters, sizes, full and
 * empty, deadlines, batches, shutdown, kernel-only handles, fd passing,
 * and that the uncontended path never enters the kernel.  Several
 * processes, EOF and death are in queue_mp_test.c, poll in
 * queue_poll_test.c.
 */
#include <sys/mman.h>

#include "queue.h"
#include "raw.h"
#include "kselftest_harness.h"

TEST(bad_parameters)
{
	const char *name = test_name("q-params");
	ksync_queue_t *q = NULL, *r = NULL;
	int base = ksync_objects();
	struct ksync_queue_stats st;

	ASSERT_EQ(-EINVAL, ksync_queue_open(&q, NULL, 0, 0600, 0, 8));
	ASSERT_EQ(-EINVAL, ksync_queue_open(&q, NULL, 0, 0600, KSYNC_QUEUE_CAPACITY_MAX + 1, 8));
	ASSERT_EQ(-EINVAL, ksync_queue_open(&q, NULL, 0, 0600, 4, KSYNC_QUEUE_MSG_MAX + 1));
	ASSERT_EQ(-EINVAL, ksync_queue_open(&q, NULL, KSYNC_UNDO, 0600, 4, 8));
	ASSERT_EQ(-EINVAL, ksync_queue_open(NULL, NULL, 0, 0600, 4, 8));
	ASSERT_EQ(-ENOENT, ksync_queue_open(&q, name, 0, 0, 0, 0));
	/* 1 MiB slots times a million: far past the 64 MiB default */
	ASSERT_EQ(-EFBIG, ksync_queue_open(&q, NULL, 0, 0600, KSYNC_QUEUE_CAPACITY_MAX,
					   KSYNC_QUEUE_MSG_MAX));
	ASSERT_EQ(base, ksync_objects());

	/* the module checks as much, whatever the library does */
	struct ksync_open_args oa = { .size = sizeof(oa),
				      .type = KSYNC_TYPE_QUEUE,
				      .flags = KSYNC_OPEN_CREATE };
	ASSERT_EQ(-EINVAL, ksync_dev_ioctl(KSYNC_IOC_OPEN, &oa));
	oa.queue.capacity = 2;
	oa.flags |= KSYNC_OPEN_UNDO;
	ASSERT_EQ(-EINVAL, ksync_dev_ioctl(KSYNC_IOC_OPEN, &oa));
	oa.flags &= ~KSYNC_OPEN_UNDO;
	oa.reserved[2] = 1;
	ASSERT_EQ(-EINVAL, ksync_dev_ioctl(KSYNC_IOC_OPEN, &oa));
	/* an anonymous open creates, CREATE or not: the shape is checked */
	struct ksync_open_args an = { .size = sizeof(an), .type = KSYNC_TYPE_QUEUE };
	ASSERT_EQ(-EINVAL, ksync_dev_ioctl(KSYNC_IOC_OPEN, &an));
	an.queue.capacity = 1;
	an.queue.msg_size = 100 << 20;
	ASSERT_EQ(-EINVAL, ksync_dev_ioctl(KSYNC_IOC_OPEN, &an));
	an.queue.capacity = KSYNC_QUEUE_CAPACITY_MAX;
	an.queue.msg_size = 4096;
	ASSERT_EQ(-EFBIG, ksync_dev_ioctl(KSYNC_IOC_OPEN, &an));
	an.type = KSYNC_TYPE_BARRIER;
	an.reserved[0] = 0;
	ASSERT_EQ(-EINVAL, ksync_dev_ioctl(KSYNC_IOC_OPEN, &an));
	ASSERT_EQ(base, ksync_objects());
	/* the queue's flags belong to queues */
	struct ksync_open_args sa = { .size = sizeof(sa),
				      .type = KSYNC_TYPE_SEM,
				      .flags = KSYNC_OPEN_CREATE | KSYNC_OPEN_KERNEL };
	ASSERT_EQ(-EINVAL, ksync_dev_ioctl(KSYNC_IOC_OPEN, &sa));
	sa.type = KSYNC_TYPE_BARRIER;
	sa.barrier.parties = 2;
	sa.flags = KSYNC_OPEN_CREATE | KSYNC_OPEN_NOEOF;
	ASSERT_EQ(-EINVAL, ksync_dev_ioctl(KSYNC_IOC_OPEN, &sa));

	/* a queue that exists keeps its shape; without CREATE it is ignored */
	ASSERT_EQ(0, ksync_queue_open(&q, name, KSYNC_CREATE, 0600, 3, 100));
	ASSERT_EQ(0, ksync_queue_open(&r, name, KSYNC_CREATE, 0600, 5, 7));
	st = queue_stats(r);
	ASSERT_EQ(3, (int)st.capacity);
	ASSERT_EQ(100, (int)st.msg_size);
	ASSERT_EQ(0, ksync_queue_close(r));
	ASSERT_EQ(0, ksync_queue_open(&r, name, 0, 0, 0, 0));
	ASSERT_EQ(3, (int)queue_stats(r).capacity);
	ASSERT_EQ(-EEXIST, ksync_queue_open(&r, name, KSYNC_CREATE | KSYNC_EXCL, 0600, 3, 1));
	ASSERT_EQ(0, ksync_unlink(name));
	ASSERT_EQ(0, ksync_queue_close(r));
	ASSERT_EQ(0, ksync_queue_close(q));
	ASSERT_EQ(base, ksync_objects());
}

TEST(bad_ioctls)
{
	struct ksync_queue_xfer x = { .size = sizeof(x) };
	struct ksync_queue_join j = { .size = sizeof(j) };
	ksync_queue_t *q;
	int fd;

	ASSERT_EQ(0, ksync_queue_open(&q, NULL, 0, 0600, 2, 8));
	fd = ksync_queue_fd(q);
	x.flags = 0x80;
	ASSERT_EQ(-1, ioctl(fd, KSYNC_IOC_QUEUE_SEND, &x));
	ASSERT_EQ(EINVAL, errno);
	x.flags = 0;
	x.count = 1025;
	ASSERT_EQ(-1, ioctl(fd, KSYNC_IOC_QUEUE_RECV, &x));
	ASSERT_EQ(EINVAL, errno);
	x.count = 1;
	x.done = 2;
	ASSERT_EQ(-1, ioctl(fd, KSYNC_IOC_QUEUE_SEND, &x));
	ASSERT_EQ(EINVAL, errno);
	x.done = 0;
	x.msgs = 16; /* unmapped */
	ASSERT_EQ(-1, ioctl(fd, KSYNC_IOC_QUEUE_SEND, &x));
	ASSERT_EQ(EFAULT, errno);
	j.pad = 1;
	ASSERT_EQ(-1, ioctl(fd, KSYNC_IOC_QUEUE_JOIN, &j));
	ASSERT_EQ(EINVAL, errno);
	ASSERT_EQ(-1, ioctl(fd, KSYNC_IOC_SEM_ACQUIRE, &x));
	ASSERT_EQ(ENOTTY, errno);
	ASSERT_EQ(-1, ioctl(fd, KSYNC_IOC_BARRIER_WAIT, &x));
	ASSERT_EQ(ENOTTY, errno);
	/* nothing moved, nothing broke */
	ASSERT_EQ(0, ksync_queue_len(q));
	ASSERT_EQ(0, ksync_queue_try_send(q, "x", 1));
	ASSERT_EQ(1, ksync_queue_len(q));
	ASSERT_EQ(0, ksync_queue_close(q));
}

/* Each kind of handle, through each path. */
FIXTURE(mode)
{
	ksync_queue_t *q;
	int kernel;
};

FIXTURE_VARIANT(mode)
{
	int kernel;
};

FIXTURE_VARIANT_ADD(mode, ring){
	.kernel = 0,
};

FIXTURE_VARIANT_ADD(mode, kernel_only){
	.kernel = 1,
};

FIXTURE_SETUP(mode)
{
	self->kernel = variant->kernel;
	ASSERT_EQ(0, ksync_queue_open(&self->q, NULL, variant->kernel ? KSYNC_QUEUE_KERNEL : 0,
				      0600, 4, 16));
}

FIXTURE_TEARDOWN(mode)
{
	ASSERT_EQ(0, ksync_queue_close(self->q));
}

TEST_F(mode, order_and_lengths)
{
	char buf[16];
	int i;

	for (i = 0; i < 4; i++) {
		memset(buf, 'a' + i, sizeof(buf));
		ASSERT_EQ(0, ksync_queue_send(self->q, buf, (size_t)i * 5, NULL));
		ASSERT_EQ(i + 1, ksync_queue_len(self->q));
	}
	for (i = 0; i < 4; i++) {
		memset(buf, 0, sizeof(buf));
		ASSERT_EQ(i * 5, ksync_queue_recv(self->q, buf, sizeof(buf), NULL));
		if (i)
			ASSERT_EQ('a' + i, buf[i * 5 - 1]);
	}
	ASSERT_EQ(0, ksync_queue_len(self->q));
}

TEST_F(mode, full_and_empty)
{
	struct timespec past = { 0, 0 }, dl;
	char buf[16] = "m";
	int64_t t0;
	int i;

	ASSERT_EQ(-EAGAIN, ksync_queue_try_recv(self->q, buf, sizeof(buf)));
	ASSERT_EQ(-EAGAIN, ksync_queue_recv(self->q, buf, sizeof(buf), &past));
	for (i = 0; i < 4; i++)
		ASSERT_EQ(0, ksync_queue_try_send(self->q, buf, 1));
	ASSERT_EQ(-EAGAIN, ksync_queue_try_send(self->q, buf, 1));
	ASSERT_EQ(-EAGAIN, ksync_queue_send(self->q, buf, 1, &past));
	dl = in_ms(50);
	ASSERT_EQ(-ETIMEDOUT, ksync_queue_send(self->q, buf, 1, &dl));
	ASSERT_LE(ts_ns(&dl), now_ns());
	ASSERT_EQ(4, ksync_queue_len(self->q));
	for (i = 0; i < 4; i++)
		ASSERT_EQ(1, ksync_queue_try_recv(self->q, buf, sizeof(buf)));
	dl = in_ms(50);
	t0 = now_ns();
	ASSERT_EQ(-ETIMEDOUT, ksync_queue_recv(self->q, buf, sizeof(buf), &dl));
	ASSERT_LE(ts_ns(&dl), now_ns());
	ASSERT_LE(t0, ts_ns(&dl));
	/* nobody is left counted as asleep */
	ASSERT_EQ(0, (int)queue_stats(self->q).recv_sleepers);
	ASSERT_EQ(0, (int)queue_stats(self->q).send_sleepers);
}

TEST_F(mode, message_sizes)
{
	char big[17] = "0123456789abcdef", buf[16];
	struct timespec bad = { .tv_sec = 1, .tv_nsec = 1000000000 };

	ASSERT_EQ(-EMSGSIZE, ksync_queue_send(self->q, big, 17, NULL));
	ASSERT_EQ(-EMSGSIZE, ksync_queue_try_send(self->q, big, 17));
	ASSERT_EQ(-EINVAL, ksync_queue_send(self->q, NULL, 3, NULL));
	ASSERT_EQ(-EINVAL, ksync_queue_send(self->q, big, 3, &bad));
	ASSERT_EQ(0, ksync_queue_len(self->q));
	ASSERT_EQ(0, ksync_queue_send(self->q, big, 16, NULL));
	/* too small a buffer: the message stays, whole */
	ASSERT_EQ(-EMSGSIZE, ksync_queue_recv(self->q, buf, 15, NULL));
	ASSERT_EQ(-EMSGSIZE, ksync_queue_try_recv(self->q, buf, 0));
	ASSERT_EQ(1, ksync_queue_len(self->q));
	ASSERT_EQ(16, ksync_queue_recv(self->q, buf, 16, NULL));
	ASSERT_EQ(0, memcmp(buf, big, 16));
}

TEST_F(mode, batches)
{
	char out[6][16], in[8][16];
	struct iovec msgs[6], bufs[8];
	struct timespec past = { 0, 0 }, dl;
	int i;

	for (i = 0; i < 6; i++) {
		snprintf(out[i], sizeof(out[i]), "msg %d", i);
		msgs[i].iov_base = out[i];
		msgs[i].iov_len = strlen(out[i]) + 1;
	}
	for (i = 0; i < 8; i++) {
		bufs[i].iov_base = in[i];
		bufs[i].iov_len = sizeof(in[i]);
	}
	/* all or some: as many as there is room for, never a torn one */
	ASSERT_EQ(4, ksync_queue_send_batch(self->q, msgs, 6, &past));
	dl = in_ms(30);
	ASSERT_EQ(-ETIMEDOUT, ksync_queue_send_batch(self->q, msgs + 4, 2, &dl));
	ASSERT_EQ(4, ksync_queue_recv_batch(self->q, bufs, 8, NULL));
	for (i = 0; i < 4; i++) {
		ASSERT_EQ(strlen(out[i]) + 1, bufs[i].iov_len);
		ASSERT_STREQ(out[i], in[i]);
	}
	ASSERT_EQ(-EAGAIN, ksync_queue_recv_batch(self->q, bufs, 8, &past));
	ASSERT_EQ(2, ksync_queue_send_batch(self->q, msgs + 4, 2, NULL));
	for (i = 0; i < 8; i++)
		bufs[i].iov_len = sizeof(in[i]);
	/* a short buffer ends the batch before that message, which stays */
	bufs[1].iov_len = 2;
	ASSERT_EQ(1, ksync_queue_recv_batch(self->q, bufs, 8, NULL));
	ASSERT_STREQ("msg 4", in[0]);
	ASSERT_EQ(-EMSGSIZE, ksync_queue_recv_batch(self->q, bufs + 1, 1, NULL));
	ASSERT_EQ(1, ksync_queue_recv_batch(self->q, bufs + 2, 6, NULL));
	ASSERT_STREQ("msg 5", in[2]);
	/* too long a message is refused before anything is sent */
	msgs[1].iov_len = 17;
	ASSERT_EQ(-EMSGSIZE, ksync_queue_send_batch(self->q, msgs, 3, NULL));
	ASSERT_EQ(0, ksync_queue_len(self->q));
	ASSERT_EQ(0, ksync_queue_send_batch(self->q, msgs, 0, NULL));
	ASSERT_EQ(0, ksync_queue_recv_batch(self->q, bufs, 0, NULL));
}

TEST_F(mode, shutdown_drains_then_fails)
{
	char buf[16];

	ASSERT_EQ(0, ksync_queue_send(self->q, "one", 4, NULL));
	ASSERT_EQ(0, ksync_queue_send(self->q, "two", 4, NULL));
	ASSERT_EQ(0, ksync_queue_shutdown(self->q));
	ASSERT_EQ(0, ksync_queue_shutdown(self->q));
	ASSERT_EQ(1, (int)queue_stats(self->q).shutdown);
	ASSERT_EQ(-EPIPE, ksync_queue_send(self->q, "three", 6, NULL));
	ASSERT_EQ(-EPIPE, ksync_queue_try_send(self->q, "three", 6));
	ASSERT_EQ(4, ksync_queue_recv(self->q, buf, sizeof(buf), NULL));
	ASSERT_STREQ("one", buf);
	ASSERT_EQ(4, ksync_queue_try_recv(self->q, buf, sizeof(buf)));
	ASSERT_STREQ("two", buf);
	ASSERT_EQ(-EPIPE, ksync_queue_recv(self->q, buf, sizeof(buf), NULL));
	ASSERT_EQ(-EPIPE, ksync_queue_try_recv(self->q, buf, sizeof(buf)));
}

TEST_F(mode, kernel_path_counts)
{
	struct ksync_queue_stats st;
	char buf[16];
	void *p;

	ASSERT_EQ(0, ksync_queue_send(self->q, "a", 1, NULL));
	ASSERT_EQ(1, ksync_queue_recv(self->q, buf, sizeof(buf), NULL));
	st = queue_stats(self->q);
	p = mmap(NULL, 4096, PROT_READ, MAP_SHARED, ksync_queue_fd(self->q), 0);
	if (self->kernel) {
		/* everything went through the module, and the ring is not to be had */
		ASSERT_EQ(1, (int)st.send_calls);
		ASSERT_EQ(1, (int)st.recv_calls);
		ASSERT_EQ(MAP_FAILED, p);
		ASSERT_EQ(EPERM, errno);
		/* and the generic INFO says so */
		struct ksync_info gi;
		ASSERT_EQ(0, ioctl(ksync_queue_fd(self->q), KSYNC_IOC_INFO, &gi));
		ASSERT_EQ(KSYNC_OPEN_KERNEL | KSYNC_OPEN_SEND | KSYNC_OPEN_RECV, (int)gi.flags);
	} else {
		/* uncontended: no system call at all */
		ASSERT_EQ(0, (int)st.send_calls);
		ASSERT_EQ(0, (int)st.recv_calls);
		ASSERT_EQ(0, (int)st.wake_calls);
		ASSERT_EQ(MAP_FAILED, p); /* only the whole of it maps */
		ASSERT_EQ(EINVAL, errno);
	}
}

TEST(zero_size_messages)
{
	struct iovec v[3] = { { NULL, 0 }, { NULL, 0 }, { NULL, 0 } };
	ksync_queue_t *q;
	char c;

	ASSERT_EQ(0, ksync_queue_open(&q, NULL, 0, 0600, 2, 0));
	ASSERT_EQ(0, ksync_queue_send(q, NULL, 0, NULL));
	ASSERT_EQ(-EMSGSIZE, ksync_queue_send(q, &c, 1, NULL));
	ASSERT_EQ(0, ksync_queue_try_send(q, NULL, 0));
	ASSERT_EQ(-EAGAIN, ksync_queue_try_send(q, NULL, 0));
	ASSERT_EQ(2, ksync_queue_len(q));
	ASSERT_EQ(0, ksync_queue_recv(q, NULL, 0, NULL));
	ASSERT_EQ(0, ksync_queue_recv(q, &c, 1, NULL));
	ASSERT_EQ(-EAGAIN, ksync_queue_try_recv(q, NULL, 0));
	ASSERT_EQ(2, ksync_queue_send_batch(q, v, 3, &(struct timespec){ 0, 0 }));
	ASSERT_EQ(2, ksync_queue_recv_batch(q, v, 3, NULL));
	ASSERT_EQ(0, ksync_queue_close(q));
}

TEST(wraps_many_times)
{
	ksync_queue_t *q;
	uint32_t i, v;

	/* capacity 3: positions wrap the ring thousands of times */
	ASSERT_EQ(0, ksync_queue_open(&q, NULL, 0, 0600, 3, sizeof(v)));
	for (i = 0; i < 30000; i++) {
		ASSERT_EQ(0, ksync_queue_send(q, &i, sizeof(i), NULL));
		if (i % 3 == 2) {
			for (uint32_t k = i - 2; k <= i; k++) {
				ASSERT_EQ((ssize_t)sizeof(v),
					  ksync_queue_recv(q, &v, sizeof(v), NULL));
				ASSERT_EQ(k, v);
			}
		}
	}
	ASSERT_EQ(0, ksync_queue_len(q));
	ASSERT_EQ(0, (int)queue_stats(q).send_calls);
	ASSERT_EQ(0, ksync_queue_close(q));
}

TEST(types_and_fds)
{
	const char *name = test_name("q-types");
	int base = ksync_objects();
	ksync_queue_t *q, *r;
	ksync_sem_t *s;
	char buf[8];

	ASSERT_EQ(0, ksync_sem_open(&s, name, KSYNC_CREATE, 0600, 1));
	ASSERT_EQ(-EPROTOTYPE, ksync_queue_open(&q, name, 0, 0, 0, 0));
	ASSERT_EQ(-EPROTOTYPE, ksync_queue_from_fd(&q, ksync_sem_fd(s)));
	ASSERT_EQ(0, ksync_unlink(name));
	ASSERT_EQ(0, ksync_sem_close(s));
	ASSERT_EQ(-EBADF, ksync_queue_from_fd(&q, -1));

	ASSERT_EQ(0, ksync_queue_open(&q, name, KSYNC_CREATE, 0600, 2, 8));
	ASSERT_EQ(-EPROTOTYPE, ksync_sem_open(&s, name, 0, 0, 0));
	ASSERT_EQ(0, ksync_queue_from_fd(&r, ksync_queue_fd(q)));
	ASSERT_EQ(0, ksync_queue_send(q, "hi", 3, NULL));
	ASSERT_EQ(3, ksync_queue_recv(r, buf, sizeof(buf), NULL));
	ASSERT_STREQ("hi", buf);
	ASSERT_EQ(0, ksync_queue_close(r));
	ASSERT_EQ(0, ksync_unlink(name));
	ASSERT_EQ(0, ksync_queue_close(q));
	ASSERT_EQ(base, ksync_objects());
}

TEST(permissions)
{
	const char *name = test_name("q-perm");
	ksync_queue_t *q;

	ASSERT_EQ(0, ksync_queue_open(&q, name, KSYNC_CREATE, 0600, 2, 8));
	pid_t pid = fork();

	ASSERT_LE(0, pid);
	if (pid == 0) {
		ksync_queue_t *r;

		if (setresgid(65534, 65534, 65534) || setresuid(65534, 65534, 65534))
			_exit(2);
		_exit(ksync_queue_open(&r, name, 0, 0, 0, 0) == -EACCES ? 0 : 1);
	}
	ASSERT_EQ(0, wait_child(pid, 10000));
	ASSERT_EQ(0, ksync_unlink(name));
	ASSERT_EQ(0, ksync_queue_close(q));
}

TEST(listing_and_fdinfo)
{
	const char *name = test_name("q-list");
	struct ksync_object e = { .size = sizeof(e) };
	ksync_queue_t *q;
	char text[2048];

	ASSERT_EQ(0, ksync_queue_open(&q, name, KSYNC_CREATE | KSYNC_QUEUE_NOEOF, 0600, 5, 24));
	ASSERT_EQ(0, ksync_queue_send(q, "x", 1, NULL));
	ASSERT_EQ(1, list_names(name, keep_entry, &e));
	ASSERT_EQ(KSYNC_TYPE_QUEUE, (int)e.type);
	ASSERT_EQ(5, (int)e.queue.capacity);
	ASSERT_EQ(24, (int)e.queue.msg_size);
	ASSERT_EQ(1, (int)e.queue.length);
	/* the state: NOEOF, and nothing else */
	ASSERT_EQ(1, (int)e.queue.noeof);
	ASSERT_EQ(0, (int)e.queue.shutdown);
	ASSERT_EQ(0, (int)e.queue.broken);
	ASSERT_EQ(0, (int)e.queue.eof);
	ASSERT_LT(0, read_fdinfo(ksync_queue_fd(q), text, sizeof(text)));
	ASSERT_NE(NULL, strstr(text, "ksync-type:\tqueue\n"));
	ASSERT_NE(NULL, strstr(text, "ksync-capacity:\t5\n"));
	ASSERT_NE(NULL, strstr(text, "ksync-length:\t1\n"));
	ASSERT_NE(NULL, strstr(text, "ksync-state:\topen noeof\n"));
	ASSERT_NE(NULL, strstr(text, "ksync-senders:\t1\n"));
	ASSERT_EQ(0, ksync_unlink(name));
	ASSERT_EQ(0, ksync_queue_close(q));
}

TEST_HARNESS_MAIN
