// SPDX-License-Identifier: GPL-2.0
/*
 * Cyclic barriers: parameters, rounds across processes, the serial party,
 * breaking by deadline, reset, and what the kernel reports about rounds.
 * Party death and signals are in barrier_death_test.c, poll in
 * barrier_poll_test.c.
 */
#include <stdatomic.h>
#include <sys/mman.h>

#include "barrier.h"
#include "raw.h"
#include "stepper.h"
#include "kselftest_harness.h"

TEST(bad_parameters)
{
	const char *name = test_name("bar-params");
	struct timespec bad = { .tv_sec = 1, .tv_nsec = 1000000000 };
	ksync_barrier_t *b = NULL, *c = NULL;

	ASSERT_EQ(-EINVAL, ksync_barrier_open(&b, NULL, 0, 0600, 0));
	ASSERT_EQ(-EINVAL, ksync_barrier_open(&b, NULL, 0, 0600, KSYNC_BARRIER_PARTIES_MAX + 1));
	ASSERT_EQ(-EINVAL, ksync_barrier_open(&b, name, KSYNC_CREATE, 0600, 0));
	ASSERT_EQ(-EINVAL, ksync_barrier_open(&b, NULL, KSYNC_UNDO, 0600, 2));
	ASSERT_EQ(-EINVAL, ksync_barrier_open(NULL, NULL, 0, 0600, 2));
	ASSERT_EQ(-ENOENT, ksync_barrier_open(&b, name, 0, 0, 0));
	ASSERT_EQ(0, ksync_barrier_open(&b, NULL, 0, 0600, KSYNC_BARRIER_PARTIES_MAX));
	ASSERT_EQ(KSYNC_BARRIER_PARTIES_MAX, barrier_stats(b).parties);
	ASSERT_EQ(-EINVAL, ksync_barrier_wait(b, &bad));
	ASSERT_EQ(0, barrier_stats(b).waiting);
	ASSERT_EQ(0, ksync_barrier_close(b));

	/* the module checks as much, whatever the library does */
	struct ksync_open_args oa = { .size = sizeof(oa),
				      .type = KSYNC_TYPE_BARRIER,
				      .flags = KSYNC_OPEN_CREATE };
	ASSERT_EQ(-EINVAL, ksync_dev_ioctl(KSYNC_IOC_OPEN, &oa));
	oa.barrier.parties = 2;
	oa.barrier.pad = 1;
	ASSERT_EQ(-EINVAL, ksync_dev_ioctl(KSYNC_IOC_OPEN, &oa));
	oa.barrier.pad = 0;
	oa.flags |= KSYNC_OPEN_UNDO;
	ASSERT_EQ(-EINVAL, ksync_dev_ioctl(KSYNC_IOC_OPEN, &oa));

	/* a barrier that exists keeps its parties; without CREATE they are ignored */
	ASSERT_EQ(0, ksync_barrier_open(&b, name, KSYNC_CREATE, 0600, 3));
	ASSERT_EQ(0, ksync_barrier_open(&c, name, KSYNC_CREATE, 0600, 5));
	ASSERT_EQ(3, barrier_stats(c).parties);
	ASSERT_EQ(0, ksync_barrier_close(c));
	ASSERT_EQ(0, ksync_barrier_open(&c, name, 0, 0, 0));
	ASSERT_EQ(3, barrier_stats(c).parties);
	ASSERT_EQ(-EEXIST, ksync_barrier_open(&c, name, KSYNC_CREATE | KSYNC_EXCL, 0600, 3));
	ASSERT_EQ(0, ksync_unlink(name));
	ASSERT_EQ(0, ksync_barrier_close(c));
	ASSERT_EQ(0, ksync_barrier_close(b));
}

TEST(bad_ioctls)
{
	ksync_barrier_t *b;
	int fd;

	ASSERT_EQ(0, ksync_barrier_open(&b, NULL, 0, 0600, 2));
	fd = ksync_barrier_fd(b);
	struct ksync_barrier_wait w = { .size = sizeof(w), .flags = 0x80 };
	ASSERT_EQ(-1, ioctl(fd, KSYNC_IOC_BARRIER_WAIT, &w));
	ASSERT_EQ(EINVAL, errno);
	w.flags = KSYNC_BARRIER_ARRIVED | KSYNC_BARRIER_NOWAIT;
	ASSERT_EQ(-1, ioctl(fd, KSYNC_IOC_BARRIER_WAIT, &w));
	ASSERT_EQ(EINVAL, errno);
	w.flags = KSYNC_BARRIER_NOWAIT;
	w.pad = 1;
	ASSERT_EQ(-1, ioctl(fd, KSYNC_IOC_BARRIER_WAIT, &w));
	ASSERT_EQ(EINVAL, errno);
	w.size = 8;
	ASSERT_EQ(-1, ioctl(fd, KSYNC_IOC_BARRIER_WAIT, &w));
	ASSERT_EQ(EINVAL, errno);
	ASSERT_EQ(-1, ioctl(fd, KSYNC_IOC_BARRIER_WAIT, (void *)8));
	ASSERT_EQ(EFAULT, errno);

	struct ksync_barrier_ctl c = { .size = sizeof(c), .flags = 1 };
	ASSERT_EQ(-1, ioctl(fd, KSYNC_IOC_BARRIER_RESET, &c));
	ASSERT_EQ(EINVAL, errno);
	c.flags = 0;
	c.generation = 7;
	ASSERT_EQ(-1, ioctl(fd, KSYNC_IOC_BARRIER_JOIN, &c));
	ASSERT_EQ(EINVAL, errno);
	/* a round that never was counts as broken: nobody passes early */
	ASSERT_EQ(-1, ioctl(fd, KSYNC_IOC_BARRIER_BREAK, &c));
	ASSERT_EQ(EPIPE, errno);
	w = (struct ksync_barrier_wait){ .size = sizeof(w),
					 .flags = KSYNC_BARRIER_ARRIVED,
					 .generation = 5 };
	ASSERT_EQ(-1, ioctl(fd, KSYNC_IOC_BARRIER_WAIT, &w));
	ASSERT_EQ(EPIPE, errno);

	/* semaphore ioctls on a barrier, and an output struct of another size */
	struct ksync_sem_wait sw = { .size = sizeof(sw), .count = 1 };
	ASSERT_EQ(-1, ioctl(fd, KSYNC_IOC_SEM_ACQUIRE, &sw));
	ASSERT_EQ(ENOTTY, errno);
	ASSERT_EQ(-1, ioctl(fd, _IOR(KSYNC_IOC_MAGIC, 0x24, struct ksync_sem_info), &sw));
	ASSERT_EQ(ENOTTY, errno);

	/* none of it changed the barrier */
	struct bstats st = barrier_stats(b);
	ASSERT_EQ(0, st.waiting);
	ASSERT_EQ(0, st.broken);
	ASSERT_EQ(0, st.generation);
	ASSERT_EQ(0, ksync_barrier_close(b));
}

/*
 * A wait struct in read-only memory: a NOWAIT arrival, which writes its
 * round back, fails before arriving; a wait that need not write anything
 * back (it completes the round) just works.
 */
TEST(read_only_wait_struct)
{
	struct ksync_barrier_wait *w =
		mmap(NULL, 4096, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	ksync_barrier_t *b;
	int fd;

	ASSERT_NE(MAP_FAILED, w);
	ASSERT_EQ(0, ksync_barrier_open(&b, NULL, 0, 0600, 1));
	fd = ksync_barrier_fd(b);
	*w = (struct ksync_barrier_wait){ .size = sizeof(*w), .flags = KSYNC_BARRIER_NOWAIT };
	ASSERT_EQ(0, mprotect(w, 4096, PROT_READ));
	ASSERT_EQ(-1, ioctl(fd, KSYNC_IOC_BARRIER_WAIT, w));
	ASSERT_EQ(EFAULT, errno);
	ASSERT_EQ(0, barrier_stats(b).generation);
	ASSERT_EQ(0, mprotect(w, 4096, PROT_READ | PROT_WRITE));
	w->flags = 0;
	ASSERT_EQ(0, mprotect(w, 4096, PROT_READ));
	ASSERT_EQ(1, ioctl(fd, KSYNC_IOC_BARRIER_WAIT, w));
	ASSERT_EQ(1, barrier_stats(b).generation);
	munmap(w, 4096);
	ASSERT_EQ(0, ksync_barrier_close(b));
}

/* Opening one type's name as another is -EPROTOTYPE, every way round. */
TEST(wrong_type)
{
	const char *sname = strdup(test_name("bar-type-sem"));
	const char *bname = strdup(test_name("bar-type-bar"));
	ksync_barrier_t *b, *b2;
	ksync_sem_t *s, *s2;

	ASSERT_EQ(0, ksync_sem_open(&s, sname, KSYNC_CREATE, 0600, 1));
	ASSERT_EQ(0, ksync_barrier_open(&b, bname, KSYNC_CREATE, 0600, 2));
	ASSERT_EQ(-EPROTOTYPE, ksync_barrier_open(&b2, sname, 0, 0, 0));
	ASSERT_EQ(-EPROTOTYPE, ksync_barrier_open(&b2, sname, KSYNC_CREATE, 0600, 2));
	ASSERT_EQ(-EPROTOTYPE, ksync_sem_open(&s2, bname, 0, 0, 0));
	ASSERT_EQ(-EPROTOTYPE, ksync_sem_open(&s2, bname, KSYNC_CREATE, 0600, 1));
	ASSERT_EQ(-EPROTOTYPE, ksync_barrier_from_fd(&b2, ksync_sem_fd(s)));
	ASSERT_EQ(-EPROTOTYPE, ksync_sem_from_fd(&s2, ksync_barrier_fd(b)));
	ASSERT_EQ(-EPROTOTYPE, ksync_barrier_from_fd(&b2, STDIN_FILENO));
	ASSERT_EQ(-EBADF, ksync_barrier_from_fd(&b2, -1));
	ASSERT_EQ(0, ksync_unlink(sname));
	ASSERT_EQ(0, ksync_unlink(bname));
	ASSERT_EQ(0, ksync_sem_close(s));
	ASSERT_EQ(0, ksync_barrier_close(b));
}

static int open_as_other(void *name)
{
	ksync_barrier_t *b;
	int ret = ksync_barrier_open(&b, name, 0, 0, 0);

	if (ret == 0)
		ksync_barrier_close(b);
	return ret == -EACCES ? 0 : 1;
}

/* Names and modes follow the semaphore's rules: 0600 keeps others out. */
TEST(mode_keeps_others_out)
{
	const char *name = test_name("bar-mode");
	ksync_barrier_t *b;

	if (geteuid() != 0)
		SKIP(return, "needs root to switch users");
	ASSERT_EQ(0, ksync_barrier_open(&b, name, KSYNC_CREATE, 0600, 2));
	ASSERT_EQ(0, as_user(65534, 65534, open_as_other, (void *)name));
	ASSERT_EQ(0, ksync_unlink(name));
	ASSERT_EQ(0, ksync_barrier_close(b));
}

TEST(one_party_is_always_serial)
{
	ksync_barrier_t *b;

	ASSERT_EQ(0, ksync_barrier_open(&b, NULL, 0, 0600, 1));
	for (int i = 0; i < 100; i++)
		ASSERT_EQ(1, ksync_barrier_wait(b, NULL));
	ASSERT_EQ(100, barrier_stats(b).generation);
	ASSERT_EQ(1, ksync_barrier_arrive(b));
	ASSERT_EQ(101, barrier_stats(b).generation);
	ASSERT_EQ(0, ksync_barrier_close(b));
}

/*
 * Many processes, many rounds.  Before round r each party writes r into
 * its slot; after passing it checks that every slot says at least r
 * (nobody passed before all arrived) and at most r + 1 (nobody got two
 * rounds ahead), and the serial party of round r counts itself.  Half the
 * parties never spin, so both paths meet in every round.
 */
struct rounds {
	_Atomic unsigned int slot[64];
	_Atomic unsigned int serial[4097];
	_Atomic unsigned int bad;
};

static int run_party(ksync_barrier_t *b, struct rounds *sh, int me, int parties, int rounds)
{
	struct timespec dl = ksync_deadline_ms(60000);

	if (me & 1)
		ksync_barrier_set_spin(b, 0);
	for (int r = 1; r <= rounds; r++) {
		int ret;

		sh->slot[me] = r;
		ret = ksync_barrier_wait(b, &dl);
		if (ret < 0)
			return 100 - ret;
		if (ret == 1)
			sh->serial[r]++;
		for (int j = 0; j < parties; j++) {
			unsigned int s = sh->slot[j];

			if (s < (unsigned int)r || s > (unsigned int)r + 1)
				sh->bad++;
		}
	}
	return 0;
}

static void rounds_across_processes(struct __test_metadata *_metadata, int parties, int rounds)
{
	struct rounds *sh =
		mmap(NULL, sizeof(*sh), PROT_READ | PROT_WRITE, MAP_SHARED | MAP_ANONYMOUS, -1, 0);
	const char *name = test_name("bar-rounds");
	pid_t pid[64];
	ksync_barrier_t *b;
	int i;

	ASSERT_NE(MAP_FAILED, sh);
	ASSERT_LE(rounds, 4096);
	ASSERT_EQ(0, ksync_barrier_open(&b, name, KSYNC_CREATE | KSYNC_EXCL, 0600, parties));
	ASSERT_EQ(0, ksync_barrier_close(b));
	for (i = 0; i < parties; i++) {
		pid[i] = fork();
		if (pid[i] == 0) {
			/* each process opens by name: its own file, its own party */
			if (ksync_barrier_open(&b, name, 0, 0, 0))
				_exit(99);
			_exit(run_party(b, sh, i, parties, rounds));
		}
		ASSERT_GT(pid[i], 0);
	}
	for (i = 0; i < parties; i++)
		EXPECT_EQ(0, wait_child(pid[i], 120000));
	EXPECT_EQ(0, (int)sh->bad);
	for (i = 1; i <= rounds; i++)
		if (sh->serial[i] != 1)
			break;
	EXPECT_EQ(rounds + 1, i);
	ASSERT_EQ(0, ksync_barrier_open(&b, name, 0, 0, 0));
	EXPECT_EQ(rounds, barrier_stats(b).generation);
	EXPECT_EQ(0, barrier_stats(b).broken);
	ASSERT_EQ(0, ksync_unlink(name));
	ASSERT_EQ(0, ksync_barrier_close(b));
	munmap(sh, sizeof(*sh));
}

/* Rounds take long on a slow or busy machine: each child has 120 s. */
FIXTURE(rounds){};
FIXTURE_SETUP(rounds)
{
}
FIXTURE_TEARDOWN(rounds)
{
}

TEST_F_TIMEOUT(rounds, serial_party_once_per_round_4_processes, 300)
{
	rounds_across_processes(_metadata, 4, 3000);
}

TEST_F_TIMEOUT(rounds, serial_party_once_per_round_2_processes, 300)
{
	rounds_across_processes(_metadata, 2, 3000);
}

TEST_F_TIMEOUT(rounds, sixty_four_parties, 300)
{
	rounds_across_processes(_metadata, 64, 100);
}

TEST(forked_child_shares_the_handle)
{
	ksync_barrier_t *b;
	pid_t pid;

	ASSERT_EQ(0, ksync_barrier_open(&b, NULL, 0, 0600, 2));
	pid = barrier_child(b, 10000);
	ASSERT_GT(pid, 0);
	int ret = ksync_barrier_wait(b, NULL);
	int code = wait_child(pid, 15000);

	ASSERT_TRUE(ret == 0 || ret == 1);
	ASSERT_EQ(ret == 1 ? W_PASSED : W_SERIAL, code);
	ASSERT_EQ(1, barrier_stats(b).generation);
	ASSERT_EQ(0, ksync_barrier_close(b));
}

TEST(deadline_breaks_the_round)
{
	ksync_barrier_t *b;
	struct timespec dl;
	pid_t pid;

	ASSERT_EQ(0, ksync_barrier_open(&b, NULL, 0, 0600, 3));
	pid = barrier_child(b, 30000);
	ASSERT_GT(pid, 0);
	ASSERT_TRUE(wait_arrived(b, 1, 10000));
	dl = ksync_deadline_ms(100);
	ASSERT_EQ(-ETIMEDOUT, ksync_barrier_wait(b, &dl));
	/* returns no earlier than its deadline */
	ASSERT_GE(now_ns(), ts_ns(&dl));
	ASSERT_EQ(W_EPIPE, wait_child(pid, 10000));
	ASSERT_EQ(1, barrier_stats(b).broken);
	ASSERT_EQ(1, barrier_stats(b).breaks);
	ASSERT_EQ(0, barrier_stats(b).waiting);
	/* later arrivals fail at once until a reset */
	ASSERT_EQ(-EPIPE, ksync_barrier_wait(b, NULL));
	ASSERT_EQ(-EPIPE, ksync_barrier_arrive(b));
	ASSERT_EQ(0, ksync_barrier_reset(b));
	ASSERT_EQ(0, barrier_stats(b).broken);
	ASSERT_EQ(2, barrier_stats(b).generation);
	ASSERT_EQ(0, ksync_barrier_arrive(b));
	ASSERT_EQ(0, ksync_barrier_arrive(b));
	ASSERT_EQ(1, ksync_barrier_wait(b, NULL));
	ASSERT_EQ(3, barrier_stats(b).generation);
	ASSERT_EQ(0, ksync_barrier_close(b));
}

TEST(past_deadline_breaks_unless_last)
{
	struct timespec past = { 0, 0 };
	ksync_barrier_t *b;

	ASSERT_EQ(0, ksync_barrier_open(&b, NULL, 0, 0600, 2));
	ASSERT_EQ(0, ksync_barrier_arrive(b));
	/* the last party needs no time */
	ASSERT_EQ(1, ksync_barrier_wait(b, &past));
	ASSERT_EQ(-ETIMEDOUT, ksync_barrier_wait(b, &past));
	ASSERT_EQ(1, barrier_stats(b).broken);
	ASSERT_EQ(0, ksync_barrier_close(b));
}

TEST(reset_breaks_waiters_and_starts_afresh)
{
	ksync_barrier_t *b;
	pid_t pid[2];

	ASSERT_EQ(0, ksync_barrier_open(&b, NULL, 0, 0600, 3));
	ASSERT_EQ(0, ksync_barrier_reset(b)); /* nobody there: harmless */
	ASSERT_EQ(0, barrier_stats(b).broken);
	ASSERT_EQ(0, barrier_stats(b).breaks);
	for (int i = 0; i < 2; i++) {
		pid[i] = barrier_child(b, 30000);
		ASSERT_GT(pid[i], 0);
	}
	ASSERT_TRUE(wait_arrived(b, 2, 10000));
	ASSERT_EQ(0, ksync_barrier_reset(b));
	ASSERT_EQ(W_EPIPE, wait_child(pid[0], 10000));
	ASSERT_EQ(W_EPIPE, wait_child(pid[1], 10000));
	struct bstats st = barrier_stats(b);
	ASSERT_EQ(0, st.broken);
	ASSERT_EQ(0, st.waiting);
	ASSERT_EQ(1, st.breaks);
	ASSERT_EQ(2, st.resets);
	/* a full round works at once */
	for (int i = 0; i < 2; i++) {
		pid[i] = barrier_child(b, 30000);
		ASSERT_GT(pid[i], 0);
	}
	ASSERT_TRUE(wait_arrived(b, 2, 10000));
	ASSERT_EQ(1, ksync_barrier_wait(b, NULL));
	ASSERT_EQ(W_PASSED, wait_child(pid[0], 10000));
	ASSERT_EQ(W_PASSED, wait_child(pid[1], 10000));
	ASSERT_EQ(0, ksync_barrier_close(b));
}

/* A party that watched the word through a reset must not take it for a round. */
TEST(watcher_sees_reset_not_completion)
{
	ksync_barrier_t *b;
	pid_t pid;

	ASSERT_EQ(0, ksync_barrier_open(&b, NULL, 0, 0600, 2));
	pid = fork();
	ASSERT_GE(pid, 0);
	if (pid == 0) {
		struct timespec dl = ksync_deadline_ms(30000);

		/* watch for a long time, so the reset happens while it watches */
		ksync_barrier_set_spin(b, 2000000000u);
		_exit(wait_code(ksync_barrier_wait(b, &dl)));
	}
	ASSERT_TRUE(wait_arrived(b, 1, 10000));
	ASSERT_EQ(0, ksync_barrier_reset(b));
	ASSERT_EQ(W_EPIPE, wait_child(pid, 10000));
	ASSERT_EQ(0, ksync_barrier_close(b));
}

TEST(fd_passing_and_from_fd)
{
	ksync_barrier_t *b, *c;
	int sv[2];
	pid_t pid;

	ASSERT_EQ(0, socketpair(AF_UNIX, SOCK_STREAM, 0, sv));
	pid = fork();
	ASSERT_GE(pid, 0);
	if (pid == 0) {
		struct timespec dl = ksync_deadline_ms(20000);
		int fd = recv_fd(sv[1]);

		if (fd < 0 || ksync_barrier_from_fd(&c, fd))
			_exit(99);
		close(fd);
		_exit(wait_code(ksync_barrier_wait(c, &dl)));
	}
	ASSERT_EQ(0, ksync_barrier_open(&b, NULL, 0, 0600, 2));
	ASSERT_EQ(0, send_fd(sv[0], ksync_barrier_fd(b)));
	int ret = ksync_barrier_wait(b, NULL);

	ASSERT_TRUE(ret == 0 || ret == 1);
	ASSERT_EQ(ret ? W_PASSED : W_SERIAL, wait_child(pid, 20000));
	/* closing the received fd after from_fd broke nothing */
	ASSERT_EQ(0, barrier_stats(b).broken);
	ASSERT_EQ(0, ksync_barrier_close(b));
	close(sv[0]);
	close(sv[1]);
}

TEST(rounds_show_in_fdinfo_and_listing)
{
	const char *name = test_name("bar-show");
	struct ksync_object e = { .size = sizeof(e) };
	ksync_barrier_t *b;
	char buf[2048];

	ASSERT_EQ(0, ksync_barrier_open(&b, name, KSYNC_CREATE, 0600, 3));
	ASSERT_EQ(0, ksync_barrier_arrive(b));
	ASSERT_EQ(0, ksync_barrier_arrive(b));
	ASSERT_EQ(1, ksync_barrier_arrive(b));
	ASSERT_EQ(0, ksync_barrier_arrive(b));
	ASSERT_EQ(1, list_names(name, keep_entry, &e));
	ASSERT_EQ(KSYNC_TYPE_BARRIER, (int)e.type);
	ASSERT_EQ(3, (int)e.barrier.parties);
	ASSERT_EQ(1, (int)e.barrier.waiting);
	ASSERT_EQ(1, (int)e.barrier.generation);
	ASSERT_EQ(0, (int)e.barrier.broken);
	ASSERT_LT(0, read_fdinfo(ksync_barrier_fd(b), buf, sizeof(buf)));
	ASSERT_NE(NULL, strstr(buf, "ksync-type:\tbarrier\n"));
	ASSERT_NE(NULL, strstr(buf, "ksync-parties:\t3\n"));
	ASSERT_NE(NULL, strstr(buf, "ksync-waiting:\t1\n"));
	ASSERT_NE(NULL, strstr(buf, "ksync-generation:\t1\n"));
	ASSERT_NE(NULL, strstr(buf, "ksync-broken:\t0\n"));
	ASSERT_EQ(0, ksync_unlink(name));
	ASSERT_EQ(0, ksync_barrier_close(b));
}

/*
 * Garbage in the shared word spoils that barrier only: every wait ends
 * (by its deadline at worst), the module's own state stays sane, and a
 * reset makes the barrier work again.
 */
TEST(scribbled_word)
{
	static const uint64_t junk[] = { ~0ULL,
					 KSYNC_BARRIER_STATE_ARRIVED,
					 KSYNC_BARRIER_STATE_KWAKE,
					 0x5555555555555555ULL,
					 KSYNC_BARRIER_STATE_GEN,
					 0 };
	ksync_barrier_t *b, *other;
	volatile uint64_t *word;
	int fd;

	ASSERT_EQ(0, ksync_barrier_open(&b, NULL, 0, 0600, 2));
	ASSERT_EQ(0, ksync_barrier_open(&other, NULL, 0, 0600, 1));
	fd = ksync_barrier_fd(b);
	word = mmap(NULL, 4096, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
	ASSERT_NE(MAP_FAILED, word);
	for (unsigned int i = 0; i < sizeof(junk) / sizeof(junk[0]); i++) {
		struct timespec dl = ksync_deadline_ms(50);
		pid_t pid;
		int ret;

		*word = junk[i];
		pid = barrier_child(b, 500);
		ASSERT_GT(pid, 0);
		ret = ksync_barrier_wait(b, &dl);
		ASSERT_TRUE(ret == 0 || ret == 1 || ret == -EPIPE || ret == -ETIMEDOUT);
		/* the child ends too, one way or another, within its deadline */
		ASSERT_GE(wait_child(pid, 10000), W_PASSED);
		ASSERT_LE(barrier_stats(b).waiting, 1);
		ASSERT_EQ(0, ksync_barrier_reset(b));
		ASSERT_EQ(0, ksync_barrier_arrive(b));
		ASSERT_EQ(1, ksync_barrier_arrive(b));
		ASSERT_EQ(1, ksync_barrier_wait(other, NULL));
	}
	munmap((void *)word, 4096);
	ASSERT_EQ(0, ksync_barrier_close(b));
	ASSERT_EQ(0, ksync_barrier_close(other));
}

/*
 * A peer that rewrites the word between every two instructions of ours
 * (stepper.h) wins every compare-and-swap of the arrival: it must give
 * up and arrive through the kernel, which bounds its own retries.  That
 * took about 1,600 instructions; an arrival that retried until it won
 * would never return.
 */
static void rewrite_generation(void *word, long n)
{
	/* KWAKE and BROKEN clear, never twice the same */
	atomic_store_explicit((_Atomic uint64_t *)word,
			      (uint64_t)(n & 0xffff) << KSYNC_BARRIER_GEN_SHIFT,
			      memory_order_relaxed);
}

/* read before stepping: see stepper.h */
static struct timespec far_deadline;

static int wait_alone(void *arg)
{
	return wait_code(ksync_barrier_wait(arg, &far_deadline));
}

/* Stepping is slow on a debugging kernel (milliseconds a step). */
FIXTURE(stepped)
{
	long steps;
};

FIXTURE_SETUP(stepped)
{
	self->steps = 0;
}

FIXTURE_TEARDOWN(stepped)
{
}

TEST_F_TIMEOUT(stepped, a_peer_that_wins_every_race, 180)
{
	const char *name = test_name("race");
	ksync_barrier_t *b, *peer, *warm;
	void *word;

	/* one party: every wait completes a round, on the page or in the kernel */
	ASSERT_EQ(0, ksync_barrier_open(&b, name, KSYNC_CREATE, 0600, 1));
	ASSERT_EQ(0, ksync_barrier_open(&warm, NULL, 0, 0600, 1));
	/* the peer's own handle: asking b for its fd would keep b off the page */
	ASSERT_EQ(0, ksync_barrier_open(&peer, name, 0, 0, 0));
	ASSERT_EQ(0, ksync_unlink(name));
	word = mmap(NULL, 4096, PROT_READ | PROT_WRITE, MAP_SHARED, ksync_barrier_fd(peer), 0);
	ASSERT_NE(MAP_FAILED, word);
	far_deadline = ksync_deadline_ms(600000);
	ASSERT_EQ(W_SERIAL,
		  run_stepped(wait_alone, b, warm, rewrite_generation, word, 20000, &self->steps));
	TH_LOG("a wait in %ld instructions", self->steps);
	/* the kernel did it: the fast path lost every race */
	ASSERT_EQ(1, barrier_stats(b).wait_calls);
	munmap(word, 4096);
	ASSERT_EQ(0, ksync_barrier_close(b));
	ASSERT_EQ(0, ksync_barrier_close(peer));
	ASSERT_EQ(0, ksync_barrier_close(warm));
}

TEST_HARNESS_MAIN
