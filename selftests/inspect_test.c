// SPDX-License-Identifier: GPL-2.0
/*
 * The library's look at objects from outside (KSYNC_0.2): the walk, a
 * lookup by name, an object's counters and who holds or waits on it, as
 * `ksync ls` and `ksync info` use them; the size each result struct
 * starts with (smaller than the library's: -EINVAL; larger: the rest
 * zeroed); and what another user may not see.  The module's side of the
 * listing and of WHO is in list_test.c and who_test.c.
 */
#include <sys/stat.h>

#include "common.h"
#include "kselftest_harness.h"

FIXTURE(names)
{
	char prefix[32], sem[64], bar[64], q[64];
};

FIXTURE_SETUP(names)
{
	snprintf(self->prefix, sizeof(self->prefix), "/kst-insp-%d-", (int)getpid());
	snprintf(self->sem, sizeof(self->sem), "%ssem", self->prefix);
	snprintf(self->bar, sizeof(self->bar), "%sbar", self->prefix);
	snprintf(self->q, sizeof(self->q), "%sq", self->prefix);
	umask(0);
}

FIXTURE_TEARDOWN(names)
{
	ksync_unlink(self->sem);
	ksync_unlink(self->bar);
	ksync_unlink(self->q);
}

struct found {
	int n;
	struct ksync_object o[4];
};

static void note(const struct ksync_object *o, void *arg)
{
	struct found *f = arg;

	if (f->n < 4)
		f->o[f->n] = *o;
	f->n++;
}

static const struct ksync_object *named(const struct found *f, const char *name)
{
	for (int i = 0; i < f->n && i < 4; i++)
		if (!strcmp(f->o[i].name, name))
			return &f->o[i];
	return NULL;
}

TEST_F(names, walk_shows_every_type_once)
{
	const struct ksync_object *o;
	ksync_barrier_t *b;
	struct found f = { 0 };
	ksync_queue_t *q;
	ksync_sem_t *s;

	ASSERT_EQ(0, ksync_sem_open(&s, self->sem, KSYNC_CREATE, 0640, 7));
	ASSERT_EQ(0, ksync_barrier_open(&b, self->bar, KSYNC_CREATE, 0600, 3));
	ASSERT_EQ(0, ksync_barrier_arrive(b));
	ASSERT_EQ(0, ksync_queue_open(&q, self->q, KSYNC_CREATE | KSYNC_QUEUE_NOEOF, 0600, 5, 24));
	ASSERT_EQ(0, ksync_queue_send(q, "x", 1, NULL));
	ASSERT_EQ(3, list_names(self->prefix, note, &f));
	ASSERT_EQ(3, f.n);
	/* in the order of their ids */
	ASSERT_LT(f.o[0].id, f.o[1].id);
	ASSERT_LT(f.o[1].id, f.o[2].id);

	o = named(&f, self->sem);
	ASSERT_NE(NULL, o);
	ASSERT_EQ(KSYNC_TYPE_SEM, (int)o->type);
	ASSERT_EQ(sizeof(*o), o->size);
	ASSERT_EQ(getuid(), o->uid);
	ASSERT_EQ(getgid(), o->gid);
	ASSERT_EQ(0640, (int)o->mode);
	ASSERT_EQ(1, (int)o->handles);
	ASSERT_EQ(7, (int)o->sem.value);
	ASSERT_EQ(0, (int)o->sem.waiters);

	o = named(&f, self->bar);
	ASSERT_NE(NULL, o);
	ASSERT_EQ(KSYNC_TYPE_BARRIER, (int)o->type);
	ASSERT_EQ(3, (int)o->barrier.parties);
	ASSERT_EQ(1, (int)o->barrier.waiting);
	ASSERT_EQ(0, (int)o->barrier.generation);
	ASSERT_EQ(0, (int)o->barrier.broken);

	o = named(&f, self->q);
	ASSERT_NE(NULL, o);
	ASSERT_EQ(KSYNC_TYPE_QUEUE, (int)o->type);
	ASSERT_EQ(5, (int)o->queue.capacity);
	ASSERT_EQ(24, (int)o->queue.msg_size);
	ASSERT_EQ(1, (int)o->queue.length);
	ASSERT_EQ(1, (int)o->queue.noeof);
	ASSERT_EQ(0, (int)o->queue.shutdown);
	ASSERT_EQ(0, (int)o->queue.broken);
	ASSERT_EQ(0, (int)o->queue.eof);

	/* a shut-down queue says so */
	ASSERT_EQ(0, ksync_queue_shutdown(q));
	f.n = 0;
	ASSERT_EQ(1, list_names(self->q, note, &f));
	ASSERT_EQ(1, (int)f.o[0].queue.shutdown);
	ASSERT_EQ(0, ksync_sem_close(s));
	ASSERT_EQ(0, ksync_barrier_close(b));
	ASSERT_EQ(0, ksync_queue_close(q));
}

TEST_F(names, lookup)
{
	struct ksync_object o = { .size = sizeof(o) };
	ksync_sem_t *s;

	ASSERT_EQ(-ENOENT, ksync_lookup(self->sem, &o));
	ASSERT_EQ(0, ksync_sem_open(&s, self->sem, KSYNC_CREATE, 0600, 2));
	ASSERT_EQ(0, ksync_lookup(self->sem, &o));
	ASSERT_STREQ(self->sem, o.name);
	ASSERT_EQ(KSYNC_TYPE_SEM, (int)o.type);
	ASSERT_EQ(2, (int)o.sem.value);
	/* a prefix is not the name */
	ASSERT_EQ(-ENOENT, ksync_lookup(self->prefix, &o));
	ASSERT_EQ(-EINVAL, ksync_lookup(NULL, &o));
	ASSERT_EQ(-EINVAL, ksync_lookup(self->sem, NULL));
	ASSERT_EQ(0, ksync_sem_close(s));
	ASSERT_EQ(0, ksync_unlink(self->sem));
	ASSERT_EQ(-ENOENT, ksync_lookup(self->sem, &o));
}

/* A caller that knows a bigger struct: ours, then zeroes; a smaller one: -EINVAL. */
TEST_F(names, sizes)
{
	struct {
		struct ksync_object o;
		unsigned char more[40];
	} big;
	struct {
		struct ksync_counters c;
		unsigned char more[24];
	} bigc;
	/* shorter than KSYNC_0.2's struct: refused */
	struct ksync_object o = { .size = offsetof(struct ksync_object, ctime_ns) - 1 };
	struct ksync_counters c = { .size = sizeof(c) - 8 };
	struct ksync_task t[2] = { { .size = sizeof(t[0]) - 4 } };
	ksync_list_t *l;
	ksync_sem_t *s;

	ASSERT_EQ(0, ksync_sem_open(&s, self->sem, KSYNC_CREATE, 0600, 2));
	ASSERT_EQ(-EINVAL, ksync_lookup(self->sem, &o));
	ASSERT_EQ(0, ksync_list_open(&l));
	ASSERT_EQ(-EINVAL, ksync_list_next(l, &o));
	ASSERT_EQ(0, ksync_list_close(l));
	memset(&big, 0xa5, sizeof(big));
	big.o.size = sizeof(big);
	ASSERT_EQ(0, ksync_lookup(self->sem, &big.o));
	ASSERT_EQ(sizeof(big), big.o.size);
	ASSERT_EQ(2, (int)big.o.sem.value);
	for (size_t i = 0; i < sizeof(big.more); i++)
		ASSERT_EQ(0, big.more[i]);

	o.size = sizeof(o);
	ASSERT_EQ(0, ksync_lookup(self->sem, &o));
	ASSERT_EQ(-EINVAL, ksync_counters(&o, &c));
	memset(&bigc, 0xa5, sizeof(bigc));
	bigc.c.size = sizeof(bigc);
	ASSERT_EQ(0, ksync_counters(&o, &bigc.c));
	ASSERT_EQ(sizeof(bigc), bigc.c.size);
	ASSERT_EQ(KSYNC_TYPE_SEM, (int)bigc.c.type);
	for (size_t i = 0; i < sizeof(bigc.more); i++)
		ASSERT_EQ(0, bigc.more[i]);

	ASSERT_EQ(-EINVAL, ksync_who(&o, t, 2));
	ASSERT_EQ(-EINVAL, ksync_who(&o, NULL, 1));
	/* no room: just count */
	ASSERT_EQ(0, ksync_who(&o, NULL, 0));
	ASSERT_EQ(0, ksync_sem_close(s));
}

TEST_F(names, counters_of_every_type)
{
	struct ksync_object o = { .size = sizeof(o) };
	struct ksync_counters c = { .size = sizeof(c) };
	ksync_barrier_t *b;
	ksync_queue_t *q;
	ksync_sem_t *s;
	char m[8];

	ASSERT_EQ(0, ksync_sem_open(&s, self->sem, KSYNC_CREATE, 0600, 1));
	for (int i = 0; i < 3; i++) {
		ASSERT_EQ(0, ksync_sem_acquire(s, 1, NULL));
		ASSERT_EQ(0, ksync_sem_release(s, 1));
	}
	ASSERT_EQ(0, ksync_sem_acquire(s, 1, NULL));
	ASSERT_EQ(-EAGAIN, ksync_sem_try_acquire(s, 1)); /* enters the kernel */
	ASSERT_EQ(0, ksync_lookup(self->sem, &o));
	ASSERT_EQ(0, ksync_counters(&o, &c));
	ASSERT_EQ(KSYNC_TYPE_SEM, (int)c.type);
	ASSERT_EQ(1, (int)c.fast_valid);
	ASSERT_EQ(4, (int)c.sem.fast_acquires);
	ASSERT_EQ(3, (int)c.sem.fast_releases);
	ASSERT_EQ(1, (int)c.sem.kernel.wait_calls);
	ASSERT_EQ(0, (int)c.sem.kernel.wake_calls);

	ASSERT_EQ(0, ksync_barrier_open(&b, self->bar, KSYNC_CREATE, 0600, 1));
	ASSERT_EQ(1, ksync_barrier_wait(b, NULL));
	ASSERT_EQ(1, ksync_barrier_wait(b, NULL));
	ASSERT_EQ(0, ksync_lookup(self->bar, &o));
	ASSERT_EQ(0, ksync_counters(&o, &c));
	ASSERT_EQ(KSYNC_TYPE_BARRIER, (int)c.type);
	ASSERT_EQ(1, (int)c.fast_valid);
	ASSERT_EQ(2, (int)c.barrier.fast_arrivals);
	ASSERT_EQ(0, (int)c.barrier.kernel.wait_calls);
	ASSERT_EQ(1, (int)c.barrier.kernel.parties);
	ASSERT_EQ(2, (int)c.barrier.kernel.generation);

	ASSERT_EQ(0, ksync_queue_open(&q, self->q, KSYNC_CREATE, 0600, 4, 8));
	ASSERT_EQ(0, ksync_queue_send(q, "a", 1, NULL));
	ASSERT_EQ(0, ksync_queue_send(q, "b", 1, NULL));
	ASSERT_EQ(1, ksync_queue_recv(q, m, sizeof(m), NULL));
	ASSERT_EQ(0, ksync_lookup(self->q, &o));
	ASSERT_EQ(0, ksync_counters(&o, &c));
	ASSERT_EQ(KSYNC_TYPE_QUEUE, (int)c.type);
	ASSERT_EQ(1, (int)c.fast_valid);
	ASSERT_EQ(2, (int)c.queue.sent);
	ASSERT_EQ(1, (int)c.queue.received);
	ASSERT_EQ(0, (int)c.queue.kernel.send_calls);
	ASSERT_EQ(4, (int)c.queue.kernel.capacity);
	ASSERT_EQ(1, (int)c.queue.kernel.length);

	/* a type the library does not know */
	o.type = 0x7fff;
	ASSERT_EQ(-EPROTOTYPE, ksync_counters(&o, &c));
	ASSERT_EQ(0, ksync_sem_close(s));
	ASSERT_EQ(0, ksync_barrier_close(b));
	ASSERT_EQ(0, ksync_queue_close(q));
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

/* Entries as far apart as the caller's struct says, each given that size. */
TEST_F(names, who_holds_and_who_waits)
{
	struct ksync_object o = { .size = sizeof(o) };
	struct {
		struct ksync_task t;
		unsigned long long more;
	} w[3];
	const struct ksync_task *held = NULL, *asks = NULL;
	ksync_sem_t *undo, *plain;
	pid_t child;

	ASSERT_EQ(0, ksync_sem_open(&plain, self->sem, KSYNC_CREATE, 0600, 3));
	ASSERT_EQ(0, ksync_sem_open(&undo, self->sem, KSYNC_UNDO, 0, 0));
	ASSERT_EQ(0, ksync_lookup(self->sem, &o));
	memset(w, 0xa5, sizeof(w));
	w[0].t.size = sizeof(w[0]);
	ASSERT_EQ(0, ksync_who(&o, &w[0].t, 3));
	ASSERT_EQ(0, ksync_sem_acquire(undo, 2, NULL));
	child = acquirer(self->sem, 3);
	ASSERT_LT(0, child);
	ASSERT_TRUE(wait_waiters(plain, 1, 20000));
	ASSERT_EQ(2, ksync_who(&o, &w[0].t, 3));
	/* room for one: the count is still of all */
	ASSERT_EQ(2, ksync_who(&o, &w[0].t, 1));
	ASSERT_EQ(2, ksync_who(&o, &w[0].t, 3));
	for (int i = 0; i < 2; i++) {
		ASSERT_EQ(sizeof(w[0]), w[i].t.size);
		ASSERT_EQ(0ULL, w[i].more);
		if (w[i].t.what == KSYNC_WHO_HOLDS)
			held = &w[i].t;
		else if (w[i].t.what == KSYNC_WHO_ACQUIRES)
			asks = &w[i].t;
	}
	/* the third entry was not written */
	ASSERT_EQ(0xa5a5a5a5u, w[2].t.size);
	ASSERT_NE(NULL, held);
	ASSERT_EQ(getpid(), (int)held->pid);
	ASSERT_EQ(2, (int)held->count);
	ASSERT_EQ(0, (int)held->tid);
	ASSERT_NE(NULL, asks);
	ASSERT_EQ(child, (int)asks->pid);
	ASSERT_EQ(child, (int)asks->tid);
	ASSERT_EQ(3, (int)asks->count);
	ASSERT_EQ(0, ksync_sem_release(undo, 2));
	ASSERT_EQ(0, wait_child(child, 20000));
	ASSERT_EQ(0, ksync_who(&o, &w[0].t, 3));
	ASSERT_EQ(0, ksync_sem_close(undo));
	ASSERT_EQ(0, ksync_sem_close(plain));
}

static int look_as_other(void *arg)
{
	const char *name = arg;
	struct ksync_object o = { .size = sizeof(o) };
	struct ksync_counters c = { .size = sizeof(c) };
	struct ksync_task t[1] = { { .size = sizeof(t[0]) } };

	/* 0604: others may see it listed, not open it */
	if (ksync_lookup(name, &o))
		return 1;
	if (ksync_counters(&o, &c) != -EACCES)
		return 2;
	if (ksync_who(&o, t, 1) != -EACCES)
		return 3;
	return 0;
}

static int blind_as_other(void *arg)
{
	struct ksync_object o = { .size = sizeof(o) };

	return ksync_lookup(arg, &o) == -ENOENT ? 0 : 1;
}

TEST_F(names, other_users)
{
	ksync_sem_t *s;

	if (geteuid())
		SKIP(return, "needs root to become another user");
	ASSERT_EQ(0, ksync_sem_open(&s, self->sem, KSYNC_CREATE, 0604, 1));
	ASSERT_EQ(0, as_user(4242, 4242, look_as_other, self->sem));
	ASSERT_EQ(0, ksync_sem_close(s));
	ASSERT_EQ(0, ksync_sem_open(&s, self->bar, KSYNC_CREATE, 0600, 1));
	ASSERT_EQ(0, as_user(4242, 4242, blind_as_other, self->bar));
	ASSERT_EQ(0, ksync_sem_close(s));
}

TEST_HARNESS_MAIN
