// SPDX-License-Identifier: GPL-2.0
/*
 * The edges of a queue's end of input, found by a review of the change
 * that gave the role to open files: edge-triggered pollers across an end
 * and the next input (receive side, and a two-way fd's send side), claims
 * of a process killed mid-send after one of its threads with a fd table
 * of its own closed or exited, no claim token for a sender that may not
 * map the ring, the ring's mapping split, moved, forked and partly
 * unmapped (every piece's close settles), creators racing for one name
 * within a byte quota, REOPEN with each allocation failing, and receivers
 * of different inputs asleep in one line.
 */
#include <pthread.h>
#include <sched.h>
#include <stdatomic.h>
#include <sys/epoll.h>
#include <sys/mman.h>

#include "kselftest_harness.h"
#include "common.h"
#include "faults.h"

#define WAIT_MS 3000
#define OTHER 65534 /* nobody */

/* An edge-triggered epoll instance watching fd for want; -errno on failure. */
static int watch_et(int fd, uint32_t want)
{
	struct epoll_event ev = { .events = want | EPOLLET };
	int ep = epoll_create1(EPOLL_CLOEXEC);

	if (ep < 0 || epoll_ctl(ep, EPOLL_CTL_ADD, fd, &ev))
		return -errno;
	return ep;
}

/* The events epoll reports within ms (0 if none). */
static int epoll_events(int ep, int ms)
{
	struct epoll_event ev;
	int n = epoll_wait(ep, &ev, 1, ms);

	return n < 0 ? -errno : n ? (int)ev.events : 0;
}

/*
 * An edge-triggered receiver that read a queue to its end of input keeps
 * its fd, as a FIFO's reader may, for the next input.  The next sender's
 * message must reach it: a FIFO's reader in the same place is woken by the
 * next writer's data.  (Its last poll saw EPOLLIN | EPOLLHUP and its last
 * receive -EPIPE, and neither armed the receive side, so the new sender's
 * open and send wake nobody.)
 */
TEST(edge_triggered_receiver_learns_of_the_next_input)
{
	ksync_queue_t *q, *rx, *tx;
	long v = 1;
	int ep;

	ASSERT_EQ(0, ksync_queue_open(&q, NULL, 0, 0600, 4, sizeof(long)));
	ASSERT_EQ(0, ksync_queue_reopen(&rx, q, KSYNC_QUEUE_RECV));
	ep = watch_et(ksync_queue_fd(rx), EPOLLIN);
	ASSERT_LE(0, ep);
	ASSERT_EQ(0, epoll_events(ep, 0));

	/* the first input: one message, then its sender goes */
	ASSERT_EQ(0, ksync_queue_reopen(&tx, q, KSYNC_QUEUE_SEND));
	ASSERT_EQ(0, ksync_queue_try_send(tx, &v, sizeof(v)));
	ASSERT_EQ(0, ksync_queue_close(tx));
	ASSERT_EQ(EPOLLIN | EPOLLHUP, epoll_events(ep, WAIT_MS));
	ASSERT_EQ((ssize_t)sizeof(v), ksync_queue_try_recv(rx, &v, sizeof(v)));
	ASSERT_EQ(-EPIPE, ksync_queue_try_recv(rx, &v, sizeof(v)));
	epoll_events(ep, 0); /* whatever edge is left */

	/* the next sender, and its message */
	ASSERT_EQ(0, ksync_queue_reopen(&tx, q, KSYNC_QUEUE_SEND));
	ASSERT_EQ(0, ksync_queue_try_send(tx, &v, sizeof(v)));
	EXPECT_EQ(EPOLLIN, epoll_events(ep, WAIT_MS) & EPOLLIN);
	EXPECT_EQ((ssize_t)sizeof(v), ksync_queue_try_recv(rx, &v, sizeof(v)));
	close(ep);
	ksync_queue_close(tx);
	ksync_queue_close(rx);
	ksync_queue_close(q);
}

/*
 * A two-way handle (ksync_queue_open's default) that is about to start
 * the next input of a queue waits, edge-triggered, for room: the previous
 * input ended with the ring full.  When a receiver frees a slot it must be
 * told EPOLLOUT.  Here it tries a send first (the edge-triggered drain
 * idiom), which arms; the next test only waits.
 */
TEST(edge_triggered_two_way_sender_learns_of_room_after_an_end)
{
	ksync_queue_t *q, *rx, *tx;
	long v = 1;
	int ep, ev;

	ASSERT_EQ(0, ksync_queue_open(&q, NULL, 0, 0600, 1, sizeof(long)));
	ASSERT_EQ(0, ksync_queue_reopen(&rx, q, KSYNC_QUEUE_RECV));
	/* the previous input: it filled the ring, and its sender went */
	ASSERT_EQ(0, ksync_queue_reopen(&tx, q, KSYNC_QUEUE_SEND));
	ASSERT_EQ(0, ksync_queue_try_send(tx, &v, sizeof(v)));
	ASSERT_EQ(0, ksync_queue_close(tx));

	ep = watch_et(ksync_queue_fd(q), EPOLLOUT);
	ASSERT_LE(0, ep);
	ev = epoll_events(ep, 0);
	EXPECT_EQ(0, ev & EPOLLOUT) TH_LOG("ring full, yet %#x", ev);
	/* the edge-triggered drain idiom: try until it would block */
	ASSERT_EQ(-EAGAIN, ksync_queue_try_send(q, &v, sizeof(v)));
	/* a slot frees */
	ASSERT_EQ((ssize_t)sizeof(v), ksync_queue_try_recv(rx, &v, sizeof(v)));
	ev = epoll_events(ep, WAIT_MS);
	EXPECT_EQ(EPOLLOUT, ev & EPOLLOUT) TH_LOG("events %#x", ev);
	close(ep);
	ksync_queue_close(rx);
	ksync_queue_close(q);
}

/*
 * The same, without a try in between: the edge-triggered poller only
 * waits, as an event loop waits to write.  (The receive role's EPOLLHUP,
 * for the old end, keeps q_poll from arming the send side, so the freed
 * slot wakes nobody.)
 */
TEST(edge_triggered_two_way_sender_waits_for_room_after_an_end)
{
	ksync_queue_t *q, *rx, *tx;
	long v = 1;
	int ep, ev;

	ASSERT_EQ(0, ksync_queue_open(&q, NULL, 0, 0600, 1, sizeof(long)));
	ASSERT_EQ(0, ksync_queue_reopen(&rx, q, KSYNC_QUEUE_RECV));
	ASSERT_EQ(0, ksync_queue_reopen(&tx, q, KSYNC_QUEUE_SEND));
	ASSERT_EQ(0, ksync_queue_try_send(tx, &v, sizeof(v)));
	ASSERT_EQ(0, ksync_queue_close(tx));

	ep = watch_et(ksync_queue_fd(q), EPOLLOUT);
	ASSERT_LE(0, ep);
	ev = epoll_events(ep, 0);
	TH_LOG("ring full, first report %#x", ev);
	EXPECT_EQ(0, ev & EPOLLOUT);
	ASSERT_EQ((ssize_t)sizeof(v), ksync_queue_try_recv(rx, &v, sizeof(v)));
	ev = epoll_events(ep, WAIT_MS);
	EXPECT_EQ(EPOLLOUT, ev & EPOLLOUT) TH_LOG("events %#x", ev);
	close(ep);
	ksync_queue_close(rx);
	ksync_queue_close(q);
}

/*
 * A sender process killed between claiming a slot and publishing it must
 * not make the receiver hang (ksync_queue(3): "A process killed while
 * sending or receiving never makes others hang"): its claim becomes a
 * tombstone and the receiver gets the end of input.  Here one of the
 * sender's threads has its own fd table (unshare(CLONE_FILES)) and closes
 * its copy of the fd before the claim, as queue_eof_test's
 * thread_with_own_fd_table does: that must not count as the process
 * letting go of the file, or its token is freed while it still uses it,
 * and its claim is never repaired.
 *
 * The claim is made as libksync's ksync_ring_send() makes it, by hand, so that
 * the process can die at exactly that point.
 */
static int claim_fd;

static void *own_table_and_close(void *arg)
{
	(void)arg;
	if (unshare(CLONE_FILES) || close(claim_fd))
		return (void *)1;
	return NULL;
}

/* The same thread, but it only exits: its fd table goes with current->files NULL. */
static atomic_int helper_tid;

static void *own_table_and_exit(void *arg)
{
	(void)arg;
	atomic_store(&helper_tid, (int)syscall(SYS_gettid));
	return (void *)(intptr_t)unshare(CLONE_FILES);
}

/* Until the thread is reaped, after it closed its fds (exit_files). */
static int thread_gone(int tid)
{
	int64_t end = now_ns() + WAIT_MS * 1000000LL;
	char path[64];

	snprintf(path, sizeof(path), "/proc/self/task/%d", tid);
	while (access(path, F_OK) == 0) {
		if (now_ns() > end)
			return 0;
		pause_us(200);
	}
	return 1;
}

enum { NO_HELPER, HELPER_CLOSES, HELPER_EXITS };

static void die_holding_a_claim(int fd, int helper)
{
	struct ksync_queue_join join = { .size = sizeof(join) };
	struct ksync_queue_info info;
	struct ksync_queue_shared *hdr;
	struct ksync_queue_slot *slot;
	uint64_t t, free_t;
	pthread_t th;
	void *res;
	char *mem;

	if (ioctl(fd, KSYNC_IOC_QUEUE_INFO, &info) || ioctl(fd, KSYNC_IOC_QUEUE_JOIN, &join) ||
	    !join.token)
		_exit(10);
	mem = mmap(NULL, info.map_size, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
	if (mem == MAP_FAILED)
		_exit(11);
	hdr = (void *)mem;
	/* as libksync does before its first claim */
	atomic_store((_Atomic uint32_t *)&hdr->claimed[join.token], 1);
	if (helper) {
		claim_fd = fd;
		if (pthread_create(&th, NULL,
				   helper == HELPER_CLOSES ? own_table_and_close
							   : own_table_and_exit,
				   NULL) ||
		    pthread_join(th, &res) || res)
			_exit(12);
		if (helper == HELPER_EXITS && !thread_gone(atomic_load(&helper_tid)))
			_exit(15);
	}
	t = atomic_load((_Atomic uint64_t *)&hdr->tail);
	slot = (void *)(mem + info.ring_offset + (t % info.capacity) * info.slot_size);
	free_t = (t << 1) & KSYNC_QUEUE_SEQ_POS;
	if (!atomic_compare_exchange_strong((_Atomic uint64_t *)&slot->seq, &free_t,
					    free_t | KSYNC_QUEUE_SEQ_BUSY |
						    (uint64_t)join.token
							    << KSYNC_QUEUE_TOKEN_SHIFT))
		_exit(13);
	atomic_compare_exchange_strong((_Atomic uint64_t *)&hdr->tail, &t, t + 1);
	raise(SIGKILL);
	_exit(14);
}

static void killed_mid_claim(struct __test_metadata *_metadata, int helper)
{
	ksync_queue_t *q, *rx, *tx;
	struct timespec dl;
	pid_t pid;
	long v;

	ASSERT_EQ(0, ksync_queue_open(&q, NULL, 0, 0600, 4, sizeof(long)));
	ASSERT_EQ(0, ksync_queue_reopen(&rx, q, KSYNC_QUEUE_RECV));
	ASSERT_EQ(0, ksync_queue_reopen(&tx, q, KSYNC_QUEUE_SEND));
	ksync_queue_close(q);
	pid = fork();
	ASSERT_LE(0, pid);
	if (pid == 0) {
		ksync_queue_close(rx);
		die_holding_a_claim(ksync_queue_fd(tx), helper);
	}
	ksync_queue_close(tx);
	ASSERT_EQ(128 + SIGKILL, wait_child(pid, WAIT_MS));
	dl = ksync_deadline_ms(WAIT_MS);
	EXPECT_EQ(-EPIPE, ksync_queue_recv(rx, &v, sizeof(v), &dl));
	ksync_queue_close(rx);
}

TEST(sender_killed_mid_claim)
{
	killed_mid_claim(_metadata, NO_HELPER);
}

TEST(sender_killed_mid_claim_after_a_thread_with_its_own_fd_table_closed_it)
{
	killed_mid_claim(_metadata, HELPER_CLOSES);
}

TEST(sender_killed_mid_claim_after_a_thread_with_its_own_fd_table_exited)
{
	killed_mid_claim(_metadata, HELPER_EXITS);
}

/*
 * Another user that may only send (a log queue at 0622) cannot map the
 * ring, so a claim token is of no use to it; yet each JOIN of each of its
 * open files takes one of the queue's 959, and once they are gone every
 * honest sender goes through the module for every message.
 */
static const char *token_queue;

static int join_unmappable(void *arg)
{
	struct ksync_queue_join join = { .size = sizeof(join) };
	ksync_queue_t *s;

	(void)arg;
	if (ksync_queue_open(&s, token_queue, KSYNC_QUEUE_SEND, 0, 0, 0))
		return 3;
	if (ioctl(ksync_queue_fd(s), KSYNC_IOC_QUEUE_JOIN, &join))
		return 4;
	return join.token ? 1 : 0;
}

TEST(unmappable_sender_takes_no_claim_token)
{
	ksync_queue_t *q;

	if (geteuid())
		SKIP(return, "needs root to act as another user");
	token_queue = test_name("revtok");
	umask(0);
	ASSERT_EQ(0, ksync_queue_open(&q, token_queue, KSYNC_CREATE | KSYNC_EXCL, 0622, 4, 8));
	EXPECT_EQ(0, as_user(OTHER, OTHER, join_unmappable, NULL));
	ksync_queue_close(q);
	ksync_unlink(token_queue);
}

/* How many vmas /proc/self/maps shows in [lo, lo + len). */
static int vmas_in(char *lo, size_t len)
{
	FILE *f = fopen("/proc/self/maps", "r");
	unsigned long a, b;
	char line[512];
	int n = 0;

	while (f && fgets(line, sizeof(line), f))
		if (sscanf(line, "%lx-%lx", &a, &b) == 2 && a >= (unsigned long)lo &&
		    b <= (unsigned long)lo + len)
			n++;
	if (f)
		fclose(f);
	return n;
}

/*
 * vm_ops->close (the settle on unmapping) against what the mm does to a
 * vma without an .open: split by mprotect and by a partial munmap, moved
 * by mremap, copied by fork and dropped by the child's exit, zapped by
 * MADV_DONTNEED.  The queue must keep working through every one, and the
 * guest log stay clean (the debug kernel's lockdep sees mmap_lock ->
 * q->lock here).  What it costs: vmas with a .close are never merged
 * again, so a split stays split (logged, not asserted).
 */
TEST(ring_mapping_split_moved_forked_and_partly_unmapped)
{
	size_t page = (size_t)sysconf(_SC_PAGESIZE);
	struct ksync_queue_info info;
	ksync_queue_t *q;
	char *m, *dst, *moved;
	long v = 7, got;
	pid_t pid;
	int fd;

	ASSERT_EQ(0, ksync_queue_open(&q, NULL, 0, 0600, 256, sizeof(long)));
	fd = ksync_queue_fd(q);
	ASSERT_EQ(0, ioctl(fd, KSYNC_IOC_QUEUE_INFO, &info));
	ASSERT_LE(4 * page, (size_t)info.map_size);
	m = mmap(NULL, info.map_size, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
	ASSERT_NE(MAP_FAILED, m);
	ASSERT_EQ(1, vmas_in(m, info.map_size));
	/* split in three, then back */
	ASSERT_EQ(0, mprotect(m + page, page, PROT_READ));
	ASSERT_EQ(0, mprotect(m + page, page, PROT_READ | PROT_WRITE));
	TH_LOG("after mprotect and back: %d vmas", vmas_in(m, info.map_size));
	ASSERT_EQ(0, madvise(m, info.map_size, MADV_DONTNEED));
	/* a child inherits the vmas, touches them, and exits */
	pid = fork();
	ASSERT_LE(0, pid);
	if (pid == 0) {
		(void)((volatile char *)m)[0];
		(void)((volatile char *)m)[info.map_size - 1];
		_exit(0);
	}
	ASSERT_EQ(0, wait_child(pid, WAIT_MS));
	/* the header page's vma moved elsewhere */
	dst = mmap(NULL, page, PROT_NONE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	ASSERT_NE(MAP_FAILED, dst);
	moved = mremap(m, page, page, MREMAP_MAYMOVE | MREMAP_FIXED, dst);
	ASSERT_EQ(dst, moved);
	ASSERT_EQ(0, ksync_queue_try_send(q, &v, sizeof(v)));
	/* the tail, seen through the moved page */
	EXPECT_NE(0, (int)(((volatile uint64_t *)moved)[8] != 0));
	/* the tail's last page goes, then the rest */
	ASSERT_EQ(0, munmap(m + info.map_size - page, page));
	ASSERT_EQ(0, munmap(m + page, info.map_size - 2 * page));
	ASSERT_EQ((ssize_t)sizeof(got), ksync_queue_try_recv(q, &got, sizeof(got)));
	EXPECT_EQ(v, got);
	ASSERT_EQ(0, munmap(moved, page));
	/* the library's own mapping still works */
	ASSERT_EQ(0, ksync_queue_try_send(q, &v, sizeof(v)));
	ASSERT_EQ((ssize_t)sizeof(got), ksync_queue_try_recv(q, &got, sizeof(got)));
	ksync_queue_close(q);
}

/*
 * "Open or create" (KSYNC_CREATE without EXCL) by workers that start
 * together, as another user, within that user's byte limit: one of them
 * creates the queue and the others open it.  Since cee78f3 every racer
 * that finds no name makes (and is charged for) a queue of its own before
 * it looks again, so with room for two such queues in the limit the
 * others fail with -EDQUOT instead of opening the one that exists.
 */
#define RACERS 8
#define RACE_ROUNDS 10

static struct {
	pthread_barrier_t go;
	const char *name;
	int ret[RACERS];
} race;

static void *open_or_create(void *arg)
{
	long i = (long)arg;
	ksync_queue_t *q;

	pthread_barrier_wait(&race.go);
	race.ret[i] = ksync_queue_open(&q, race.name, KSYNC_CREATE, 0600, 131072, 0);
	if (!race.ret[i])
		ksync_queue_close(q);
	return NULL;
}

static int racers_as_other(void *arg)
{
	pthread_t t[RACERS];
	int round, i, failed = 0;

	(void)arg;
	for (round = 0; round < RACE_ROUNDS; round++) {
		race.name = test_name("revrace");
		if (pthread_barrier_init(&race.go, NULL, RACERS))
			return 100;
		for (i = 0; i < RACERS; i++)
			if (pthread_create(&t[i], NULL, open_or_create, (void *)(long)i))
				return 101;
		for (i = 0; i < RACERS; i++)
			pthread_join(t[i], NULL);
		pthread_barrier_destroy(&race.go);
		for (i = 0; i < RACERS; i++)
			if (race.ret[i]) {
				printf("# round %d racer %d: %s\n", round, i,
				       strerror(-race.ret[i]));
				failed++;
			}
		ksync_unlink(race.name);
	}
	return failed ? 1 : 0;
}

TEST(open_or_create_racers_within_the_byte_limit)
{
	char old[64] = "", v[32];
	int fd, n;

	if (geteuid())
		SKIP(return, "needs root to set the limit and act as another user");
	fd = open(KSYNC_PARAM("max_bytes_per_user"), O_RDONLY | O_CLOEXEC);
	ASSERT_LE(0, fd);
	n = (int)read(fd, old, sizeof(old) - 1);
	close(fd);
	ASSERT_LT(0, n);
	old[n] = 0;
	/* room for two 8 MiB rings (and their header pages), not three */
	snprintf(v, sizeof(v), "%lu", 20UL << 20);
	ASSERT_EQ(0, write_text(KSYNC_PARAM("max_bytes_per_user"), v));
	EXPECT_EQ(0, as_user(OTHER, OTHER, racers_as_other, NULL));
	EXPECT_EQ(0, write_text(KSYNC_PARAM("max_bytes_per_user"), old));
}

/*
 * KSYNC_IOC_QUEUE_REOPEN (new, and in neither faults_test nor fuzz_test)
 * with each of its allocations failing in turn, on the debug kernel: it
 * fails cleanly or succeeds; a failed reopen of a send end leaves no
 * sender behind (the input can still end) and no object; a successful
 * one holds the input until it is closed.
 */
static unsigned int senders_of(ksync_queue_t *q)
{
	struct ksync_queue_info info;

	return ioctl(ksync_queue_fd(q), KSYNC_IOC_QUEUE_INFO, &info) ? ~0U : info.senders;
}

TEST(reopen_with_each_allocation_failing)
{
	ksync_queue_t *q, *rx, *tx;
	int failfd, n, ret, injected, spare = 0, failed = 0, base;
	long v = 1;

	if (fault_setup() || (failfd = fault_open()) < 0)
		SKIP(return, "this kernel has no fault injection (the debug kernel has)");
	ASSERT_EQ(0, ksync_queue_open(&q, NULL, 0, 0600, 4, sizeof(long)));
	ASSERT_EQ(0, ksync_queue_reopen(&rx, q, KSYNC_QUEUE_RECV));
	base = ksync_objects();
	for (n = 1; n < 200 && spare < 3; n++) {
		tx = NULL;
		ASSERT_EQ(0, fault_arm(failfd, n));
		ret = ksync_queue_reopen(&tx, q,
					 KSYNC_QUEUE_SEND | (n % 2 ? KSYNC_QUEUE_KERNEL : 0));
		injected = fault_left(failfd) == 0;
		fault_arm(failfd, 0);
		spare = injected ? 0 : spare + 1;
		if (ret) {
			ASSERT_TRUE(ret == -ENOMEM || ret == -ENFILE || ret == -EMFILE)
			TH_LOG("allocation %d failing: %d", n, ret);
			failed++;
			EXPECT_EQ(0U, senders_of(q)) TH_LOG("allocation %d", n);
		} else {
			EXPECT_EQ(1U, senders_of(q)) TH_LOG("allocation %d", n);
			ASSERT_EQ(0, ksync_queue_try_send(tx, &v, sizeof(v)));
			ASSERT_EQ(0, ksync_queue_close(tx));
			ASSERT_EQ((ssize_t)sizeof(v), ksync_queue_try_recv(rx, &v, sizeof(v)));
			/* that input has ended: the receive end sees it */
			ASSERT_EQ(-EPIPE, ksync_queue_try_recv(rx, &v, sizeof(v)));
		}
		ASSERT_EQ(base, ksync_objects());
	}
	TH_LOG("%d allocations, %d reopens failed cleanly", n - 3, failed);
	EXPECT_LT(0, failed);
	close(failfd);
	ksync_queue_close(rx);
	ksync_queue_close(q);
}

/*
 * Receivers of different inputs in one line (checked: passes).  L opened
 * after the first input ended (it waits for the next), E before it (it
 * must see that end): L sleeps first, E behind it.  E gets -EPIPE at
 * once, although L, ahead of it, waits on; then the next input reaches L.
 */
struct receiver {
	ksync_queue_t *q;
	ssize_t ret;
	long v;
};

static void *receive_one(void *arg)
{
	struct receiver *r = arg;
	struct timespec dl = ksync_deadline_ms(WAIT_MS);

	r->ret = ksync_queue_recv(r->q, &r->v, sizeof(r->v), &dl);
	return NULL;
}

static int recv_sleepers(ksync_queue_t *q)
{
	struct ksync_queue_info info;

	return ioctl(ksync_queue_fd(q), KSYNC_IOC_QUEUE_INFO, &info) ? -1 : (int)info.recv_sleepers;
}

TEST(receivers_of_different_inputs_in_one_line)
{
	struct receiver early = { 0 }, late = { 0 };
	ksync_queue_t *q, *tx;
	pthread_t te, tl;
	int64_t end;
	long v = 42;

	ASSERT_EQ(0, ksync_queue_open(&q, NULL, 0, 0600, 4, sizeof(long)));
	ASSERT_EQ(0, ksync_queue_reopen(&early.q, q, KSYNC_QUEUE_RECV));
	/* the first input: a sender that sends nothing */
	ASSERT_EQ(0, ksync_queue_reopen(&tx, q, KSYNC_QUEUE_SEND));
	ASSERT_EQ(0, ksync_queue_close(tx));
	ASSERT_EQ(0, ksync_queue_reopen(&late.q, q, KSYNC_QUEUE_RECV));
	ASSERT_EQ(0, pthread_create(&tl, NULL, receive_one, &late));
	for (end = now_ns() + WAIT_MS * 1000000LL; recv_sleepers(q) < 1 && now_ns() < end;)
		pause_us(200);
	ASSERT_EQ(1, recv_sleepers(q));
	ASSERT_EQ(0, pthread_create(&te, NULL, receive_one, &early));
	ASSERT_EQ(0, pthread_join(te, NULL));
	EXPECT_EQ(-EPIPE, early.ret);
	EXPECT_EQ(1, recv_sleepers(q));
	/* the next input reaches the late receiver */
	ASSERT_EQ(0, ksync_queue_reopen(&tx, q, KSYNC_QUEUE_SEND));
	ASSERT_EQ(0, ksync_queue_try_send(tx, &v, sizeof(v)));
	ASSERT_EQ(0, pthread_join(tl, NULL));
	EXPECT_EQ((ssize_t)sizeof(v), late.ret);
	EXPECT_EQ(v, late.v);
	ksync_queue_close(tx);
	EXPECT_EQ(-EPIPE, ksync_queue_try_recv(late.q, &v, sizeof(v)));
	ksync_queue_close(early.q);
	ksync_queue_close(late.q);
	ksync_queue_close(q);
}

TEST_HARNESS_MAIN
