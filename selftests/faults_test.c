// SPDX-License-Identifier: GPL-2.0
/*
 * Every operation of every type, with each of its allocations failing in
 * turn (fail-nth: the n-th slab or page allocation of this thread fails,
 * failslab and fail_page_alloc alike; the debug kernel has it).
 *
 * For each operation and each n: the call fails cleanly (an allocation
 * error, nothing else) or succeeds; no object is left behind (the module's
 * count; kmemleak checks the memory after rmmod); and the objects that
 * existed before still work, every one of them, with their state intact.
 * The sweep ends when an operation runs with fewer than n allocations.
 */
#include <sys/eventfd.h>
#include <sys/mman.h>

#include "common.h"
#include "raw.h"
#include "faults.h"
#include "kselftest_harness.h"

/* Every wait has one: a module bug must fail the test, not hang it. */
#define DEADLINE_MS 5000

/* Objects that live through the whole sweep: each op may use them. */
struct world {
	const char *name; /* for ops that create, open and unlink */
	ksync_sem_t *sem; /* value 2, UNDO */
	ksync_barrier_t *bar; /* 1 party: every wait is a round */
	ksync_queue_t *q; /* on the ring, empty */
	ksync_queue_t *qk; /* the same queue, kernel-only */
	ksync_event_t *ev; /* manual, set */
	char keepname[64]; /* the queue's name */
};

static int ok_or(int ret)
{
	return ret < 0 ? ret : 0;
}

static int op_sem_create(struct world *w)
{
	ksync_sem_t *s;
	int ret = ksync_sem_open(&s, w->name, KSYNC_CREATE, 0600, 1);

	if (ret == 0) {
		ret = ksync_sem_value(s) == 1 ? 0 : -EBADMSG;
		ksync_sem_close(s);
	}
	return ret; /* the caller unlinks, with fault injection off */
}

/* A semaphore with a maximum, and the maximum read back. */
static int op_sem_create_max(struct world *w)
{
	ksync_sem_t *s;
	int ret = ksync_sem_open_max(&s, NULL, 0, 0600, 1, 2);

	(void)w;
	if (ret == 0) {
		ret = ksync_sem_max(s) == 2 ? 0 : -EBADMSG;
		ksync_sem_close(s);
	}
	return ret;
}

/* The limits, one user's usage and every user's (the tests run as root). */
static int op_limits_usage(struct world *w)
{
	struct ksync_limits l = { .size = sizeof(l) };
	struct ksync_usage u[2] = { { .size = sizeof(u[0]) } };
	int ret = ksync_limits(KSYNC_SELF, &l);

	(void)w;
	if (ret == 0)
		ret = l.user_objects ? 0 : -EBADMSG; /* the world's objects are ours */
	if (ret == 0)
		ret = ok_or(ksync_usage(u, 2));
	return ret;
}

static int op_sem_open_existing(struct world *w)
{
	ksync_sem_t *s;
	int ret = ksync_sem_open(&s, w->keepname, 0, 0, 0);

	if (ret == 0)
		ksync_sem_close(s);
	/* the name is the queue's: the type check must still come first */
	return ret == -EPROTOTYPE ? 0 : ret ? ret : -EBADMSG;
}

static int op_sem_anon_undo(struct world *w)
{
	struct timespec dl = ksync_deadline_ms(DEADLINE_MS);
	ksync_sem_t *s;
	int ret = ksync_sem_open(&s, NULL, KSYNC_UNDO, 0600, 1);

	(void)w;
	if (ret == 0) {
		ret = ksync_sem_acquire(s, 1, &dl);
		ksync_sem_close(s);
	}
	return ret;
}

/* An UNDO holder's record is allocated on its first acquire. */
static int op_sem_acquire_release(struct world *w)
{
	struct timespec dl = ksync_deadline_ms(1000);
	int ret = ksync_sem_acquire(w->sem, 2, &dl);

	if (ret == 0)
		ret = ksync_sem_release(w->sem, 2);
	return ret;
}

/* The sleeping paths: waits that end at their deadline. */
static int op_sleeps(struct world *w)
{
	struct timespec dl = ksync_deadline_ms(5);
	struct ksync_barrier_stats bs;
	ksync_barrier_t *b;
	char buf[8];
	int ret;

	ret = ksync_sem_acquire(w->sem, 3, &dl); /* it has 2 */
	if (ret != -ETIMEDOUT)
		return ret ? ret : -EBADMSG;
	dl = ksync_deadline_ms(5);
	ret = (int)ksync_queue_recv(w->qk, buf, sizeof(buf), &dl);
	if (ret != -ETIMEDOUT)
		return ret < 0 ? ret : -EBADMSG;
	ret = ksync_barrier_open(&b, NULL, 0, 0600, 2);
	if (ret)
		return ret;
	dl = ksync_deadline_ms(5);
	ret = ksync_barrier_wait(b, &dl);
	if (ret == -ETIMEDOUT)
		ret = ksync_barrier_stats(b, &bs) || !bs.broken ? -EBADMSG : 0;
	else if (!ret)
		ret = -EBADMSG;
	ksync_barrier_close(b);
	return ret;
}

static int op_sem_info(struct world *w)
{
	struct ksync_sem_stats st;

	return ksync_sem_stats(w->sem, &st);
}

static int op_unlink(struct world *w)
{
	ksync_sem_t *s;
	int ret = ksync_sem_open(&s, w->name, KSYNC_CREATE, 0600, 1);

	if (ret)
		return ret;
	ksync_sem_close(s);
	return ksync_unlink(w->name);
}

static int op_barrier_create_round(struct world *w)
{
	struct timespec dl = ksync_deadline_ms(DEADLINE_MS);
	ksync_barrier_t *b;
	int ret = ksync_barrier_open(&b, w->name, KSYNC_CREATE, 0600, 2);

	if (ret == 0) {
		ret = ksync_barrier_arrive(b);
		if (ret == 0)
			ret = ksync_barrier_wait(b, &dl) == 1 ? 0 : -EBADMSG;
		ksync_barrier_close(b);
	}
	return ret;
}

static int op_barrier_round(struct world *w)
{
	struct timespec dl = ksync_deadline_ms(1000);
	int ret = ksync_barrier_wait(w->bar, &dl);

	return ret == 1 ? 0 : ret;
}

static int bar_ctl(struct world *w, unsigned long cmd)
{
	struct ksync_barrier_ctl c = { .size = sizeof(c) };

	return ioctl(ksync_barrier_fd(w->bar), cmd, &c) < 0 ? -errno : 0;
}

static int op_barrier_break_reset(struct world *w)
{
	int ret = bar_ctl(w, KSYNC_IOC_BARRIER_BREAK);

	/* a barrier of one party has no round in progress to break */
	if (ret && ret != -EPIPE && ret != -EAGAIN && ret != -ENOENT)
		return ret;
	return ksync_barrier_reset(w->bar);
}

static int op_barrier_join_info(struct world *w)
{
	struct ksync_barrier_stats st;
	int ret = bar_ctl(w, KSYNC_IOC_BARRIER_JOIN);

	return ret ? ret : ksync_barrier_stats(w->bar, &st);
}

/* An auto event made by name, set and taken, on the page and through the kernel. */
static int op_event_create(struct world *w)
{
	struct ksync_event_ctl ctl = { .size = sizeof(ctl) };
	ksync_event_t *e;
	int ret = ksync_event_open(&e, w->name, KSYNC_CREATE | KSYNC_EVENT_AUTO, 0600, 1);

	if (ret)
		return ret;
	ret = ksync_event_auto(e) == 1 ? ksync_event_wait(e, NULL) : -EBADMSG;
	if (!ret)
		ret = ioctl(ksync_event_fd(e), KSYNC_IOC_EVENT_SET, &ctl) ? -errno : 0;
	if (!ret)
		ret = ksync_event_wait(e, NULL);
	if (!ret)
		ret = ksync_event_is_set(e) ? -EBADMSG : 0;
	ksync_event_close(e);
	return ret;
}

/* The world's event: reset and set through the kernel, its info and a wait. */
static int op_event_ops(struct world *w)
{
	struct ksync_event_ctl ctl = { .size = sizeof(ctl) };
	struct timespec dl = ksync_deadline_ms(5);
	struct ksync_event_stats st;
	int fd = ksync_event_fd(w->ev), ret;

	if (ioctl(fd, KSYNC_IOC_EVENT_RESET, &ctl))
		return -errno;
	ret = ksync_event_wait(w->ev, &dl);
	if (ret != -ETIMEDOUT)
		ret = ret ? ret : -EBADMSG;
	else if (ioctl(fd, KSYNC_IOC_EVENT_SET, &ctl))
		ret = -errno;
	else
		ret = ksync_event_stats(w->ev, &st);
	/* (set again whatever happened: healthy() wants it set) */
	ksync_event_set(w->ev);
	return ret;
}

static int op_queue_create(struct world *w)
{
	ksync_queue_t *q;
	int ret = ksync_queue_open(&q, w->name, KSYNC_CREATE, 0600, 4, 8);

	if (ret == 0)
		ksync_queue_close(q);
	return ret;
}

/* Through the ring (a party entry, a claim token), then the kernel. */
static int op_queue_send_recv(struct world *w)
{
	char buf[8];
	struct timespec dl = ksync_deadline_ms(DEADLINE_MS);
	int ret = ksync_queue_send(w->q, "a", 1, &dl);

	if (!ret)
		ret = ksync_queue_send(w->qk, "b", 1, &dl);
	if (!ret)
		ret = ksync_queue_recv(w->qk, buf, sizeof(buf), &dl) == 1 ? 0 : -EBADMSG;
	if (!ret)
		ret = ksync_queue_recv(w->q, buf, sizeof(buf), &dl) == 1 ? 0 : -EBADMSG;
	return ret;
}

static int op_queue_join_wake_info(struct world *w)
{
	struct ksync_queue_stats st;
	int ret = ksync_queue_join(w->q);

	if (!ret)
		ret = ok_or(ioctl(ksync_queue_fd(w->qk), KSYNC_IOC_QUEUE_WAKE, 0) < 0 ? -errno : 0);
	return ret ? ret : ksync_queue_stats(w->q, &st);
}

static int op_queue_shutdown(struct world *w)
{
	ksync_queue_t *q;
	int ret = ksync_queue_open(&q, NULL, 0, 0600, 2, 8);

	(void)w;
	if (ret)
		return ret;
	ret = ksync_queue_shutdown(q);
	if (!ret) {
		/* the send's own allocations come before its check */
		ret = ksync_queue_try_send(q, "x", 1);
		ret = ret == -EPIPE ? 0 : ret == -ENOMEM ? ret : -EBADMSG;
	}
	ksync_queue_close(q);
	return ret;
}

/* A fresh mapping of each type's pages (the library maps at open). */
static int op_mmap(struct world *w)
{
	int fds[4] = { ksync_sem_fd(w->sem), ksync_barrier_fd(w->bar), ksync_event_fd(w->ev),
		       ksync_queue_fd(w->q) };
	struct ksync_queue_info qi;
	size_t len[4] = { 4096, 4096, 4096, 0 };

	if (ioctl(fds[3], KSYNC_IOC_QUEUE_INFO, &qi))
		return -errno;
	len[3] = qi.map_size;
	for (int i = 0; i < 4; i++) {
		volatile uint64_t *p =
			mmap(NULL, len[i], PROT_READ | PROT_WRITE, MAP_SHARED, fds[i], 0);

		if (p == MAP_FAILED)
			return -errno;
		(void)p[0]; /* the page is inserted on the first touch */
		munmap((void *)p, len[i]);
	}
	return 0;
}

static int op_list(struct world *w)
{
	struct ksync_list_entry e[4];
	struct ksync_list_args a = {
		.size = sizeof(a), .entries = (uintptr_t)e, .count = 4, .entry_size = sizeof(e[0])
	};

	(void)w;
	return ok_or(ksync_dev_ioctl(KSYNC_IOC_LIST, &a));
}

static int op_who(struct world *w)
{
	struct ksync_who_entry e[2];
	struct ksync_who_args a = {
		.size = sizeof(a), .entries = (uintptr_t)e, .count = 2, .entry_size = sizeof(e[0])
	};
	struct timespec dl = ksync_deadline_ms(DEADLINE_MS);
	int ret = ksync_sem_acquire(w->sem, 1, &dl);

	if (ret)
		return ret;
	ret = ioctl(ksync_sem_fd(w->sem), KSYNC_IOC_WHO, &a);
	ret = ret < 0 ? -errno : ret == 1 && e[0].what == KSYNC_WHO_HOLDS ? 0 : -EBADMSG;
	ksync_sem_release(w->sem, 1);
	return ret;
}

/* What the system calls every fd gets do: poll, fdinfo, dup and close. */
static int op_poll_fdinfo_dup(struct world *w)
{
	struct pollfd p[4] = { { .fd = ksync_sem_fd(w->sem), .events = POLLIN },
			       { .fd = ksync_barrier_fd(w->bar), .events = POLLIN },
			       { .fd = ksync_queue_fd(w->q), .events = POLLIN | POLLOUT },
			       { .fd = ksync_event_fd(w->ev), .events = POLLIN } };
	char buf[512];

	if (poll(p, 4, 0) < 0)
		return -errno;
	for (int i = 0; i < 4; i++) {
		int fd = dup(p[i].fd);

		if (fd < 0)
			return -errno;
		if (read_fdinfo(fd, buf, sizeof(buf)) < 0) {
			close(fd);
			return -ENOMEM; /* seq_file's buffer */
		}
		close(fd);
	}
	return 0;
}

/*
 * The persistent objects must all still work, their state intact.  An op
 * that failed half-way may have left its messages in the queue: they are
 * taken out first, and must be the op's.
 */
static int healthy(struct world *w)
{
	struct timespec dl = ksync_deadline_ms(DEADLINE_MS);
	struct ksync_barrier_stats bs;
	struct ksync_sem_info si;
	char buf[8], got[8] = "";
	unsigned int ngot = 0;
	ssize_t n;

	/* what an op that failed half-way left in the queue: its own, in order */
	while ((n = ksync_queue_try_recv(w->qk, buf, sizeof(buf))) > 0)
		if (n != 1 || ngot + 1 >= sizeof(got))
			return 6;
		else
			got[ngot++] = buf[0];
	if (n != -EAGAIN)
		return 7;
	if (strcmp(got, "") && strcmp(got, "a") && strcmp(got, "ab") && strcmp(got, "b"))
		return 8;
	/* the semaphore: its permits, none held by the UNDO handle */
	if (ksync_sem_value(w->sem) != 2 || ioctl(ksync_sem_fd(w->sem), KSYNC_IOC_SEM_INFO, &si) ||
	    si.held)
		return 1;
	if (ksync_sem_try_acquire(w->sem, 2) || ksync_sem_release(w->sem, 2))
		return 2;
	/* the barrier: not broken (nothing here is allowed to), and a round */
	if (ksync_barrier_stats(w->bar, &bs) || bs.broken)
		return 3;
	if (ksync_barrier_wait(w->bar, &dl) != 1)
		return 4;
	if (ksync_queue_len(w->q) != 0 || ksync_queue_try_send(w->q, "h", 1))
		return 5;
	if (ksync_queue_try_recv(w->qk, buf, sizeof(buf)) != 1 || buf[0] != 'h')
		return 9;
	/* the event: set, and nobody asleep on it */
	if (ksync_event_is_set(w->ev) != 1 || ksync_event_wait(w->ev, &dl))
		return 10;
	return 0;
}

/*
 * A select the module decides (an fd first): an ACQUIRE completes, given
 * back; then one that finds nothing before its past deadline; then the
 * world's event, set (manual: it stays set).
 */
static int op_wait_any(struct world *w)
{
	struct timespec dl = ksync_deadline_ms(DEADLINE_MS), past = ksync_deadline_ms(0);
	int efd = eventfd(0, EFD_CLOEXEC);
	char buf[8];
	struct ksync_op ops[3] = {
		{ .kind = KSYNC_OP_FD, .fd = efd },
		{ .kind = KSYNC_OP_ACQUIRE, .sem = w->sem, .n = 1 },
		{ .kind = KSYNC_OP_RECV, .queue = w->qk, .buf = buf, .len = sizeof(buf) },
	};
	int ret;

	if (efd < 0)
		return -errno;
	ret = ksync_wait_any(ops, 3, &dl);
	if (ret == 1)
		ret = ksync_sem_release(w->sem, 1);
	else if (ret >= 0)
		ret = -EBADMSG;
	if (ret == 0) {
		ops[1] = ops[2];
		ret = ksync_wait_any(ops, 2, &past);
		ret = ret == -ETIMEDOUT ? 0 : ret < 0 ? ret : -EBADMSG;
	}
	if (ret == 0) {
		ops[1] = (struct ksync_op){ .kind = KSYNC_OP_EVENT, .event = w->ev };
		ret = ksync_wait_any(ops, 2, &past);
		ret = ret == 1 ? 0 : ret < 0 ? ret : -EBADMSG;
	}
	close(efd);
	return ret;
}

/* This thread's fail-nth, open all along: opening it allocates. */
static int failfd = -1;

static const struct {
	const char *name;
	int (*fn)(struct world *w);
} ops[] = {
	{ "sem: create", op_sem_create },
	{ "sem: open, wrong type", op_sem_open_existing },
	{ "sem: anonymous, with a maximum", op_sem_create_max },
	{ "limits and usage", op_limits_usage },
	{ "sem: anonymous, UNDO, acquire", op_sem_anon_undo },
	{ "sem: acquire and release (UNDO)", op_sem_acquire_release },
	{ "sem: info", op_sem_info },
	{ "waits until their deadlines (sem, queue, barrier)", op_sleeps },
	{ "unlink", op_unlink },
	{ "barrier: create and a round", op_barrier_create_round },
	{ "barrier: a round", op_barrier_round },
	{ "barrier: break and reset", op_barrier_break_reset },
	{ "barrier: join and info", op_barrier_join_info },
	{ "event: create, set and take", op_event_create },
	{ "event: reset, wait, set, info", op_event_ops },
	{ "queue: create", op_queue_create },
	{ "queue: send and receive, ring and kernel", op_queue_send_recv },
	{ "queue: join, wake, info", op_queue_join_wake_info },
	{ "queue: shutdown", op_queue_shutdown },
	{ "mmap of each type", op_mmap },
	{ "list", op_list },
	{ "who", op_who },
	{ "poll, fdinfo, dup and close", op_poll_fdinfo_dup },
	{ "wait on several: an fd, a semaphore, a queue, an event", op_wait_any },
};

FIXTURE(faults)
{
	struct world w;
	int base;
};

FIXTURE_SETUP(faults)
{
	struct world *w = &self->w;

	if (fault_setup() || (failfd < 0 && (failfd = fault_open()) < 0))
		SKIP(return, "this kernel has no fault injection (the debug kernel has)");
	w->name = strdup(test_name("fault"));
	snprintf(w->keepname, sizeof(w->keepname), "%s", test_name("fault-keep"));
	ASSERT_EQ(0, ksync_sem_open(&w->sem, NULL, KSYNC_UNDO, 0600, 2));
	ASSERT_EQ(0, ksync_barrier_open(&w->bar, NULL, 0, 0600, 1));
	ASSERT_EQ(0, ksync_queue_open(&w->q, w->keepname, KSYNC_CREATE | KSYNC_EXCL, 0600, 4, 8));
	ASSERT_EQ(0, ksync_queue_open(&w->qk, w->keepname, KSYNC_QUEUE_KERNEL, 0, 0, 0));
	ASSERT_EQ(0, ksync_event_open(&w->ev, NULL, 0, 0600, 1));
	self->base = ksync_objects();
}

FIXTURE_TEARDOWN(faults)
{
	struct world *w = &self->w;

	if (!w->sem)
		return;
	fault_arm(failfd, 0);
	ksync_unlink(w->keepname);
	ksync_event_close(w->ev);
	ksync_queue_close(w->qk);
	ksync_queue_close(w->q);
	ksync_barrier_close(w->bar);
	ksync_sem_close(w->sem);
}

TEST_F_TIMEOUT(faults, every_allocation_of_every_op, 600)
{
	struct world *w = &self->w;
	int sites_total = 0, failed_total = 0;

	/* (a SKIP in the setup does not keep the harness from running this) */
	if (failfd < 0)
		SKIP(return, "this kernel has no fault injection (the debug kernel has)");

	for (unsigned int o = 0; o < sizeof(ops) / sizeof(ops[0]); o++) {
		int n, ret, injected, failed = 0, spare = 0;

		for (n = 1; n < 200; n++) {
			ASSERT_EQ(0, fault_arm(failfd, n));
			ret = ops[o].fn(w);
			injected = fault_left(failfd) == 0;
			fault_arm(failfd, 0);
			ksync_unlink(w->name);
			/*
			 * Fewer than n allocations: we have been through them
			 * all.  (Three times running: the debug kernel's own
			 * bookkeeping allocates more on some calls than others.)
			 */
			spare = injected ? 0 : spare + 1;
			if (spare == 3)
				break;
			if (ret) {
				ASSERT_TRUE(ret == -ENOMEM || ret == -ENFILE || ret == -EMFILE ||
					    ret == -ENOSPC || ret == -EAGAIN)
				{
					TH_LOG("%s, allocation %d failing: %d", ops[o].name, n,
					       ret);
				}
				failed++;
			}
			ASSERT_EQ(self->base, ksync_objects())
			{
				TH_LOG("%s, allocation %d failing: objects left", ops[o].name, n);
			}
			ASSERT_EQ(0, healthy(w))
			{
				TH_LOG("%s, allocation %d failing: the objects broke", ops[o].name,
				       n);
			}
		}
		ASSERT_LT(n, 200);
		TH_LOG("%-42s %3d allocations, %3d calls failed cleanly", ops[o].name, n - 3,
		       failed);
		sites_total += n - 3;
		failed_total += failed;
	}
	TH_LOG("%d allocations failed in turn, %d calls failed cleanly, the rest recovered",
	       sites_total, failed_total);
	/* (a sweep that failed nothing would test nothing) */
	ASSERT_GT(failed_total, 0);
}

TEST_HARNESS_MAIN
