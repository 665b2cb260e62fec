// SPDX-License-Identifier: GPL-2.0
/*
 * The fast path as users rely on it: uncontended operations never enter
 * the kernel, contended ones wake exactly whom they must, pollers are not
 * forgotten, and the shared page can only be mapped the one safe way.
 */
#include <pthread.h>
#include <stdatomic.h>
#include <sys/epoll.h>
#include <sys/mman.h>

#include "common.h"
#include "kselftest_harness.h"

static struct ksync_sem_stats stats_of(ksync_sem_t *s)
{
	struct ksync_sem_stats st;

	memset(&st, 0xff, sizeof(st));
	ksync_sem_stats(s, &st);
	return st;
}

FIXTURE(fast)
{
	ksync_sem_t *s;
};

FIXTURE_SETUP(fast)
{
	ASSERT_EQ(0, ksync_sem_open(&self->s, NULL, 0, 0600, 1));
}

FIXTURE_TEARDOWN(fast)
{
	ksync_sem_close(self->s);
}

TEST_F_TIMEOUT(fast, uncontended_pairs_make_no_kernel_entries, 120)
{
	struct ksync_sem_stats st;
	int i;

	for (i = 0; i < 1000000; i++) {
		ASSERT_EQ(0, ksync_sem_acquire(self->s, 1, NULL));
		ASSERT_EQ(0, ksync_sem_release(self->s, 1));
	}
	for (i = 0; i < 1000; i++) {
		ASSERT_EQ(0, ksync_sem_try_acquire(self->s, 1));
		ASSERT_EQ(0, ksync_sem_release(self->s, 1));
	}
	st = stats_of(self->s);
	ASSERT_EQ(0ULL, st.wait_calls);
	ASSERT_EQ(0ULL, st.wake_calls);
	ASSERT_EQ(0ULL, st.woken);
	ASSERT_EQ(1, ksync_sem_value(self->s));
}

/* The other half of the bargain: UNDO handles always ask the kernel. */
TEST(undo_handles_enter_the_kernel)
{
	struct ksync_sem_stats st;
	ksync_sem_t *u;

	ASSERT_EQ(0, ksync_sem_open(&u, NULL, KSYNC_UNDO, 0600, 1));
	ASSERT_EQ(0, ksync_sem_acquire(u, 1, NULL));
	ASSERT_EQ(0, ksync_sem_release(u, 1));
	st = stats_of(u);
	ASSERT_EQ(1ULL, st.wait_calls);
	ASSERT_EQ(1ULL, st.wake_calls);
	ksync_sem_close(u);
}

#define SLEEPERS 100

struct sleepers {
	ksync_sem_t *s;
	atomic_int returned;
};

static void *sleeper(void *arg)
{
	struct sleepers *sl = arg;
	struct timespec dl = ksync_deadline_ms(60000);

	if (ksync_sem_acquire(sl->s, 1, &dl) == 0)
		atomic_fetch_add(&sl->returned, 1);
	return NULL;
}

/* A release of 1 with 100 sleepers wakes exactly one, by the kernel's count. */
TEST_F_TIMEOUT(fast, release_of_one_wakes_one, 120)
{
	static struct sleepers sl;
	pthread_t th[SLEEPERS];
	struct ksync_sem_stats st;
	int i;

	ASSERT_EQ(0, ksync_sem_try_acquire(self->s, 1));
	sl.s = self->s;
	for (i = 0; i < SLEEPERS; i++)
		ASSERT_EQ(0, pthread_create(&th[i], NULL, sleeper, &sl));
	ASSERT_TRUE(wait_waiters(self->s, SLEEPERS, 60000));
	ASSERT_EQ(0ULL, stats_of(self->s).woken);

	ASSERT_EQ(0, ksync_sem_release(self->s, 1));
	st = stats_of(self->s);
	ASSERT_EQ(1ULL, st.woken);
	ASSERT_EQ(SLEEPERS - 1u, st.waiters);
	ASSERT_EQ(0, ksync_sem_value(self->s));

	/* while they sleep, the fast path must not take what they wait for */
	ASSERT_EQ(-EAGAIN, ksync_sem_try_acquire(self->s, 1));
	ASSERT_EQ(0, ksync_sem_release(self->s, SLEEPERS - 1));
	for (i = 0; i < SLEEPERS; i++)
		pthread_join(th[i], NULL);
	ASSERT_EQ(SLEEPERS, atomic_load(&sl.returned));
	ASSERT_EQ((unsigned long long)SLEEPERS, stats_of(self->s).woken);
	ASSERT_EQ(0, ksync_sem_value(self->s));

	/* with everyone gone the fast path is back */
	st = stats_of(self->s);
	ASSERT_EQ(0, ksync_sem_release(self->s, 1));
	ASSERT_EQ(0, ksync_sem_acquire(self->s, 1, NULL));
	ASSERT_EQ(st.wait_calls, stats_of(self->s).wait_calls);
	ASSERT_EQ(st.wake_calls, stats_of(self->s).wake_calls);
}

/*
 * A process blocked in epoll_wait wakes when another releases through
 * the library, though no task sleeps in acquire.
 */
static void epoll_case(struct __test_metadata *_metadata, ksync_sem_t *s, uint32_t flags)
{
	int ep = epoll_create1(EPOLL_CLOEXEC);
	struct epoll_event ev = { .events = EPOLLIN | flags };
	int go[2];
	pid_t pid;
	char c;

	ASSERT_GE(ep, 0);
	ASSERT_EQ(0, pipe(go));
	ASSERT_EQ(0, ksync_sem_try_acquire(s, 1));
	ASSERT_EQ(0, epoll_ctl(ep, EPOLL_CTL_ADD, ksync_sem_fd(s), &ev));
	pid = fork();
	ASSERT_GE(pid, 0);
	if (pid == 0) {
		/* two rounds: release once the parent sleeps in epoll_wait */
		for (int i = 0; i < 2; i++) {
			if (read(go[0], &c, 1) != 1 || !wait_sleeping(getppid(), 10000) ||
			    ksync_sem_release(s, 1))
				_exit(1);
		}
		_exit(0);
	}
	for (int i = 0; i < 2; i++) {
		ASSERT_EQ(0, epoll_wait(ep, &ev, 1, 0));
		ASSERT_EQ(1, write(go[1], "x", 1));
		ASSERT_EQ(1, epoll_wait(ep, &ev, 1, 10000));
		/* drain, as an edge-triggered user must */
		ASSERT_EQ(0, ksync_sem_try_acquire(s, 1));
		ASSERT_EQ(-EAGAIN, ksync_sem_try_acquire(s, 1));
	}
	ASSERT_EQ(0, wait_child(pid, 10000));
	close(ep);
	close(go[0]);
	close(go[1]);
}

TEST_F(fast, epoll_level_triggered_wakes_on_release)
{
	epoll_case(_metadata, self->s, 0);
}

TEST_F(fast, epoll_edge_triggered_wakes_on_release)
{
	epoll_case(_metadata, self->s, EPOLLET);
}

/* poll() asleep in one thread wakes on a release from another. */
struct poller {
	ksync_sem_t *s;
	pid_t tid;
	int asleep;
};

static void *release_when_asleep(void *arg)
{
	struct poller *p = arg;

	p->asleep = wait_sleeping(p->tid, 10000);
	ksync_sem_release(p->s, 1);
	return NULL;
}

TEST_F(fast, poll_sees_fast_release)
{
	struct pollfd pfd = { .fd = ksync_sem_fd(self->s), .events = POLLIN };
	struct poller p = { .s = self->s, .tid = (pid_t)syscall(SYS_gettid) };
	pthread_t th;

	ASSERT_EQ(0, ksync_sem_try_acquire(self->s, 1));
	ASSERT_EQ(0, poll(&pfd, 1, 0));
	ASSERT_EQ(0, pthread_create(&th, NULL, release_when_asleep, &p));
	ASSERT_EQ(1, poll(&pfd, 1, 20000));
	pthread_join(th, NULL);
	ASSERT_TRUE(p.asleep);
	ASSERT_EQ(1, ksync_sem_value(self->s));
}

/* The page maps one way only: one page, shared, at offset 0, never exec. */
TEST_F(fast, mmap_rules)
{
	long pg = sysconf(_SC_PAGESIZE);
	int fd = ksync_sem_fd(self->s);
	ksync_sem_t *other;
	void *p;

	p = mmap(NULL, pg, PROT_READ | PROT_WRITE, MAP_PRIVATE, fd, 0);
	ASSERT_EQ(MAP_FAILED, p);
	ASSERT_EQ(EINVAL, errno);
	p = mmap(NULL, 2 * pg, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
	ASSERT_EQ(MAP_FAILED, p);
	ASSERT_EQ(EINVAL, errno);
	p = mmap(NULL, pg, PROT_READ | PROT_WRITE, MAP_SHARED, fd, pg);
	ASSERT_EQ(MAP_FAILED, p);
	ASSERT_EQ(EINVAL, errno);
	p = mmap(NULL, pg, PROT_READ | PROT_EXEC, MAP_SHARED, fd, 0);
	ASSERT_EQ(MAP_FAILED, p);
	ASSERT_EQ(EPERM, errno);

	p = mmap(NULL, pg, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
	ASSERT_NE(MAP_FAILED, p);
	ASSERT_NE(0, mprotect(p, pg, PROT_READ | PROT_EXEC));
	ASSERT_EQ(EACCES, errno);
	/* it cannot grow past its one page */
	ASSERT_EQ(MAP_FAILED, mremap(p, pg, 2 * pg, MREMAP_MAYMOVE));
	/* the same word the library uses */
	ASSERT_EQ(1u, (uint32_t)((struct ksync_sem_shared *)p)->state);
	ASSERT_EQ(0, ksync_sem_from_fd(&other, fd));
	ASSERT_EQ(0, ksync_sem_try_acquire(other, 1));
	ASSERT_EQ(0u, (uint32_t)((struct ksync_sem_shared *)p)->state);
	ksync_sem_close(other);
	munmap(p, pg);

	/* a mapping outlives the fds: it keeps the object, and the page, alive */
	{
		int base = ksync_objects();
		ksync_sem_t *t;
		struct ksync_sem_shared *sh;

		ASSERT_EQ(0, ksync_sem_open(&t, NULL, 0, 0600, 5));
		sh = mmap(NULL, pg, PROT_READ | PROT_WRITE, MAP_SHARED, ksync_sem_fd(t), 0);
		ASSERT_NE(MAP_FAILED, sh);
		ksync_sem_close(t);
		ASSERT_EQ(base + 1, ksync_objects());
		ASSERT_EQ(5u, (uint32_t)sh->state);
		munmap(sh, pg);
		ASSERT_EQ(base, ksync_objects());
	}
}

/*
 * Every mapping of an object shares one file: mmap cannot be used to pile
 * up struct files that no fd limit counts.  fs.file-nr's first field is
 * a per-CPU counter read without folding (off by up to 32 per CPU), so
 * the margin below is wide; a file per mapping would add about N.
 */
static long files_allocated(void)
{
	return read_number("/proc/sys/fs/file-nr");
}

/* 2000 mappings made and unmade: on the loaded debug kernel, over 30 s */
TEST_F_TIMEOUT(fast, mappings_share_one_file, 240)
{
	long pg = sysconf(_SC_PAGESIZE), before;
	enum { N = 2000 };
	static void *maps[N];

	before = files_allocated();
	ASSERT_LE(0, before);
	for (int i = 0; i < N; i++) {
		maps[i] = mmap(NULL, pg, PROT_READ, MAP_SHARED, ksync_sem_fd(self->s), 0);
		ASSERT_NE(MAP_FAILED, maps[i]);
	}
	ASSERT_GT(before + N / 10, files_allocated());
	for (int i = 0; i < N; i++)
		munmap(maps[i], pg);
}

/* A mapping zapped by MADV_DONTNEED faults the same page back in. */
TEST_F(fast, madv_dontneed_keeps_the_page)
{
	long pg = sysconf(_SC_PAGESIZE);
	struct ksync_sem_shared *sh;

	sh = mmap(NULL, pg, PROT_READ | PROT_WRITE, MAP_SHARED, ksync_sem_fd(self->s), 0);
	ASSERT_NE(MAP_FAILED, sh);
	ASSERT_EQ(1u, (uint32_t)sh->state);
	ASSERT_EQ(0, madvise(sh, pg, MADV_DONTNEED));
	ASSERT_EQ(1u, (uint32_t)sh->state);
	ASSERT_EQ(0, ksync_sem_release(self->s, 2));
	ASSERT_EQ(3u, (uint32_t)sh->state);
	ASSERT_EQ(0, madvise(sh, pg, MADV_DONTNEED));
	ASSERT_EQ(3u, (uint32_t)sh->state);
	munmap(sh, pg);
}

/*
 * Permits carry data: a producer fills a slot, then releases a "full"
 * permit; a consumer that takes it, on the fast path or from the kernel,
 * must see the slot's contents.  (x86 cannot reorder these; on a weakly
 * ordered CPU this is the test of the kernel's release store.)
 */
#define RING 8
#define ITEMS 20000

struct ring {
	volatile uint64_t slot[RING];
};

TEST_F_TIMEOUT(fast, permits_carry_data, 240)
{
	struct ring *r =
		mmap(NULL, sizeof(*r), PROT_READ | PROT_WRITE, MAP_SHARED | MAP_ANONYMOUS, -1, 0);
	ksync_sem_t *full, *empty;
	pid_t pid;

	ASSERT_NE(MAP_FAILED, r);
	ASSERT_EQ(0, ksync_sem_open(&full, NULL, 0, 0600, 0));
	ASSERT_EQ(0, ksync_sem_open(&empty, NULL, 0, 0600, RING));
	pid = fork();
	ASSERT_GE(pid, 0);
	if (pid == 0) {
		for (uint64_t i = 1; i <= ITEMS; i++) {
			struct timespec dl = ksync_deadline_ms(20000);

			if (ksync_sem_acquire(empty, 1, &dl))
				_exit(1);
			r->slot[i % RING] = i;
			if (ksync_sem_release(full, 1))
				_exit(1);
		}
		_exit(0);
	}
	for (uint64_t i = 1; i <= ITEMS; i++) {
		struct timespec dl = ksync_deadline_ms(20000);

		ASSERT_EQ(0, ksync_sem_acquire(full, 1, &dl));
		ASSERT_EQ(i, r->slot[i % RING]);
		ASSERT_EQ(0, ksync_sem_release(empty, 1));
	}
	ASSERT_EQ(0, wait_child(pid, 20000));
	ksync_sem_close(full);
	ksync_sem_close(empty);
	munmap(r, sizeof(*r));
}

TEST_HARNESS_MAIN
