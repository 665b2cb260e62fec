// SPDX-License-Identifier: GPL-2.0
/*
 * The fuzzer: every ioctl and mmap of the device and of each object type,
 * with random and boundary arguments, from several threads at once.
 *
 * Arguments start sane (so that calls get past the checks and deep into
 * the module) and are then mutated: boundary words in any field, sizes too
 * small and too big, flags with unknown bits; pointers that are NULL,
 * unmapped, read-only, straddle into an unmapped page, or point into the
 * kernel; names of every length and byte; fds of the wrong type (eventfd,
 * pipe, /dev/null, the device itself).  Meanwhile other threads close and
 * unlink what is being waited on, a signaller interrupts sleepers, forked
 * children use the objects and die of SIGKILL mid-call, mappings are
 * scribbled, remapped and unmapped, and now and then one allocation in a
 * call fails (fail-nth, on kernels with fault injection).
 *
 * What must hold: no call hangs (a signal or deadline ends every sleep),
 * the kernel logs nothing (ksync-vm fails the run on any report, rmmod
 * failure or leak), and afterwards every object is gone and the device
 * works.  On a kernel with KCOV, the coverage of kmod/ is reported.
 *
 *   KSYNC_FUZZ_SECONDS  how long (default 10)
 *   KSYNC_FUZZ_SEED     replay: each thread repeats its calls (the
 *                       interleaving of threads differs run to run)
 *   KSYNC_FUZZ_THREADS  callers (default 4; 1 replays closest: the same
 *                       calls, though signals and deadlines still land
 *                       differently, and with them the coverage steering)
 *   KSYNC_FUZZ_GUIDE    0: no steering by coverage (default 1)
 *   KSYNC_FUZZ_FAULTS   0: inject no allocation failures (default 1)
 *   KSYNC_FUZZ_WITHOUT  ops left out, by name ("fork,scribble"): to narrow
 *                       a failure down
 *   KSYNC_FUZZ_REPORT   write the coverage, site by site, to this file
 *   KSYNC_MODULE        ksync.ko, for the coverage sites (ksync-vm sets it)
 */
#include <pthread.h>
#include <sched.h>
#include <stdatomic.h>
#include <sys/eventfd.h>
#include <sys/mman.h>
#include <sys/syscall.h>
#include <ucontext.h>

#include "common.h"
#include "faults.h"
#include "kcov.h"
#include "rnd.h"
#include "kselftest_harness.h"

/* Below mmap_min_addr: never mapped, now or later. */
#define UNMAPPED ((void *)0x2000)

#define SLOTS 24
#define MAPS 8
#define NAMES 8
#define MADE 16 /* names a caller remembers creating (remember_name) */
#define MAX_THREADS 16
/*
 * Each caller's scratch memory, where everything it hands the kernel
 * lives (never its stack: a struct misread as another, say as an array
 * of messages to receive into, must point the kernel at scratch only).
 * After it, inaccessible memory (arena()).
 */
#define SCRATCH (64 * 1024)
#define SCRATCH_MSGS 4096 /* a queue transfer's array of messages */
#define SCRATCH_NAME 8192 /* names */
#define NAME_ROOM (KSYNC_NAME_MAX + 16)
#define SCRATCH_DATA 16384 /* the messages */
#define SCRATCH_ENTRIES 32768 /* what LIST and WHO fill */

enum op {
	OP_OPEN,
	OP_UNLINK,
	OP_LIST,
	OP_WHO,
	OP_INFO,
	OP_SEM_ACQUIRE,
	OP_SEM_RELEASE,
	OP_BAR_WAIT,
	OP_BAR_CTL,
	OP_Q_XFER,
	OP_Q_SIMPLE,
	OP_Q_JOIN,
	OP_EV_WAIT,
	OP_EV_CTL,
	OP_RAW,
	OP_MMAP,
	OP_MAP_OP,
	OP_SCRIBBLE,
	OP_CLOSE,
	OP_DUP,
	OP_OTHER_FD,
	OP_POLL,
	OP_FDINFO,
	OP_FORK,
	OP_WAIT_ANY,
	OP_NR,
};

static const char *const op_names[OP_NR] = {
	"open",
	"unlink",
	"list",
	"who",
	"info",
	"sem acquire",
	"sem release",
	"barrier wait",
	"barrier ctl",
	"queue xfer",
	"queue wake/shutdown",
	"queue join",
	"event wait",
	"event set/reset",
	"raw ioctl",
	"mmap",
	"mremap/madvise/mprotect/munmap",
	"scribble",
	"close",
	"dup",
	"other fd",
	"poll",
	"fdinfo",
	"fork",
	"wait on several",
};

/* How often each op is picked, out of the sum. */
static const unsigned int op_weight[OP_NR] = {
	[OP_OPEN] = 14,	   [OP_UNLINK] = 4,	 [OP_LIST] = 3,	       [OP_WHO] = 3,
	[OP_INFO] = 4,	   [OP_SEM_ACQUIRE] = 8, [OP_SEM_RELEASE] = 6, [OP_BAR_WAIT] = 8,
	[OP_BAR_CTL] = 4,  [OP_Q_XFER] = 12,	 [OP_Q_SIMPLE] = 2,    [OP_Q_JOIN] = 3,
	[OP_EV_WAIT] = 6,  [OP_EV_CTL] = 6,	 [OP_RAW] = 4,	       [OP_MMAP] = 5,
	[OP_MAP_OP] = 2,   [OP_SCRIBBLE] = 6,	 [OP_CLOSE] = 6,       [OP_DUP] = 1,
	[OP_OTHER_FD] = 1, [OP_POLL] = 2,	 [OP_FDINFO] = 1,      [OP_FORK] = 1,
	[OP_WAIT_ANY] = 8,
};

struct mapping {
	void *addr;
	size_t len;
	int writable;
	int status; /* a queue's status page: never writable */
	int ksync; /* an object's pages (else some other fd's) */
};

/* What all callers share; the fd table is racy on purpose. */
struct fuzz {
	uint64_t seed;
	int64_t end;
	int threads;
	int guide; /* KCOV steers the choice of op */
	int faulty; /* the kernel has fault injection, set up */
	char off[OP_NR]; /* ops left out (KSYNC_FUZZ_WITHOUT) */
	int dev;
	char prefix[32];
	/* fd | type << 32; -1: empty.  Type 0: not a ksync object */
	_Atomic int64_t slot[SLOTS];
	pthread_mutex_t map_lock;
	struct mapping map[MAPS];
	/* [read-only][none] */
	char *bad;
	long page;
	struct pcset cov;
	atomic_long calls[OP_NR];
	atomic_long ok[OP_NR];
	atomic_long faults, forks, kills, crashed, signals, violations;
	atomic_int stop;
	pthread_t tid[MAX_THREADS];
	atomic_int done[MAX_THREADS];
};

struct caller {
	struct fuzz *f;
	int idx;
	uint64_t x;
	int failfd;
	struct kcov kcov;
	char *scratch;
	/* names its opens may have created: unlinked when pushed out, and at the end */
	char made[MADE][KSYNC_NAME_MAX + 16];
	unsigned int nmade;
	unsigned int gain[OP_NR]; /* new sites found, this window */
	int armed; /* fail-nth is armed */
	unsigned long ncalls;
	/* for the report of a caller that hangs: what it is in, where */
	_Atomic int op_now;
	_Atomic pid_t os_tid;
	_Atomic pid_t child; /* do_fork's, until reaped */
};

static void fault_done(struct caller *c);

static void on_signal(int sig)
{
	(void)sig;
}

/* What each thread was doing, for the report of a crash. */
static __thread int current_op = -1;
static __thread uint64_t current_x;

/*
 * A crash of the fuzzer itself: say in which op and with which state of
 * the thread's generator, then die of the signal as before.
 */
static void on_crash(int sig, siginfo_t *si, void *uc)
{
	const ucontext_t *u = uc;
	char msg[200];
	int n;

	n = snprintf(msg, sizeof(msg),
		     "# fuzz_test: pid %d: signal %d (code %d) at address %p, ip %#llx,"
		     " in op %d (%s), x=%llu\n",
		     (int)getpid(), sig, si->si_code, si->si_addr,
		     (unsigned long long)u->uc_mcontext.gregs[REG_RIP], current_op,
		     current_op >= 0 ? op_names[current_op] : "none",
		     (unsigned long long)current_x);
	if (write(2, msg, (size_t)n) < 0)
		n = 0;
	signal(sig, SIG_DFL);
	raise(sig);
}

/* ------------------------------------------------------------------ */
/* Arguments */

static int64_t pick_slot(struct caller *c, uint32_t want_type, uint32_t *type)
{
	struct fuzz *f = c->f;
	int64_t v = -1;

	/* mostly an fd of the wanted type, so calls get past the type check */
	for (int tries = 0; tries < 8; tries++) {
		v = atomic_load(&f->slot[rnd_below(&c->x, SLOTS)]);
		if (v >= 0 &&
		    (!want_type || (uint32_t)(v >> 32) == want_type || rnd_one_in(&c->x, 8)))
			break;
	}
	if (v < 0)
		return rnd_one_in(&c->x, 2) ? f->dev : (int)rnd_nasty(&c->x);
	if (type)
		*type = (uint32_t)(v >> 32);
	return (int)(v & 0xffffffff);
}

static int pick_fd(struct caller *c, uint32_t want_type)
{
	return (int)pick_slot(c, want_type, NULL);
}

static void put_slot(struct caller *c, int fd, uint32_t type)
{
	int64_t old, v = (int64_t)fd | (int64_t)type << 32;
	unsigned int i = rnd_below(&c->x, SLOTS);

	old = atomic_exchange(&c->f->slot[i], v);
	/* the table is full of fds: the one pushed out is closed */
	if (old >= 0)
		close((int)(old & 0xffffffff));
}

/* A pointer for the kernel to read len bytes from or write them to. */
static void *pick_ptr(struct caller *c, const void *content, size_t len)
{
	struct fuzz *f = c->f;
	char *p;

	switch (rnd_below(&c->x, 40)) {
	case 0:
		return NULL;
	case 1: /* no access */
		return f->bad + f->page;
	case 2: /* unmapped */
		return UNMAPPED;
	case 3: /* read-only: fine to read from, not to write to */
		return f->bad + (rnd_below(&c->x, (uint32_t)f->page) & ~7L);
	case 4: /* the last bytes before an inaccessible page */
		p = c->scratch + SCRATCH - (len > 64 ? 64 : len);
		memcpy(p, content, len > 64 ? 64 : len);
		return p;
	case 5:
		return (void *)0xffff888000000000UL; /* the kernel's direct map */
	case 6:
		return (void *)(uintptr_t)rnd_nasty(&c->x);
	default:
		p = c->scratch + (rnd_one_in(&c->x, 8) ? rnd_below(&c->x, 8) : 0);
		memcpy(p, content, len);
		return p;
	}
}

/* Flip a few words of a struct, or not (half of all calls stay sane). */
static void mutate(struct caller *c, void *arg, size_t len)
{
	uint32_t *w = arg;
	unsigned int n;

	if (rnd_one_in(&c->x, 2))
		return;
	n = 1 + rnd_below(&c->x, 3);
	while (n--) {
		size_t i = rnd_below(&c->x, (uint32_t)(len / 4));

		if (rnd_one_in(&c->x, 4) && i + 1 < len / 4) {
			uint64_t v = rnd_nasty(&c->x);

			memcpy(&w[i], &v, 8);
		} else {
			w[i] = (uint32_t)rnd_nasty(&c->x);
		}
	}
}

/* The size word of a sized struct: right, short, long, or absurd. */
static uint32_t pick_size(struct caller *c, uint32_t size)
{
	switch (rnd_below(&c->x, 16)) {
	case 0:
		return 0;
	case 1:
		return size - 4;
	case 2:
		return size + 8; /* a newer caller's struct: the tail must be zero */
	case 3:
		return (uint32_t)rnd_nasty(&c->x);
	default:
		return size;
	}
}

/* An absolute CLOCK_MONOTONIC deadline: soon, past, far, or nonsense. */
static uint64_t pick_deadline(struct caller *c)
{
	switch (rnd_below(&c->x, 8)) {
	case 0:
		return 0;
	case 1:
		return (uint64_t)rnd_nasty(&c->x);
	case 2:
		return ~0ULL; /* forever: the signaller ends it */
	default:
		return (uint64_t)now_ns() + rnd_below(&c->x, 3000000);
	}
}

static uint32_t pick_wait_flags(struct caller *c)
{
	if (rnd_one_in(&c->x, 16))
		return (uint32_t)rnd_nasty(&c->x);
	return rnd_one_in(&c->x, 8) ? 0 : KSYNC_WAIT_DEADLINE;
}

/*
 * A name: pooled (so that callers collide), absent, bad, or any bytes.
 * type: the type the caller will ask for.
 */
static void *pick_name(struct caller *c, char *buf, size_t room, uint32_t type)
{
	struct fuzz *f = c->f;
	size_t len;

	switch (rnd_below(&c->x, 16)) {
	case 0:
	case 6:
	case 7:
	case 8:
		return NULL; /* anonymous: a fresh object */
	case 1:
		return UNMAPPED;
	case 2: /* read-only, or running into an inaccessible page */
		if (rnd_one_in(&c->x, 2))
			return f->bad;
		return f->bad + f->page - 1 - rnd_below(&c->x, 300);
	case 3: /* any bytes, any length up to past the limit */
		len = rnd_below(&c->x, KSYNC_NAME_MAX + 8);
		if (len + 1 > room)
			len = room - 1;
		for (size_t i = 0; i < len; i++)
			buf[i] = (char)rnd(&c->x);
		buf[0] = rnd_one_in(&c->x, 4) ? buf[0] : '/';
		buf[len] = 0;
		return buf;
	case 4: /* a valid name of the maximum length, or one more */
		len = KSYNC_NAME_MAX + rnd_below(&c->x, 2);
		memset(buf, 'n', len + 1);
		buf[0] = '/';
		buf[len + 1] = 0;
		return buf;
	case 5:
		snprintf(buf, room, "%s/%u", f->prefix, rnd_below(&c->x, NAMES));
		return buf; /* a slash inside */
	default:
		/* a name per type, mostly: opens find an object they can use */
		snprintf(buf, room, "%s-%u-%u", f->prefix,
			 rnd_one_in(&c->x, 8) ? 1 + rnd_below(&c->x, 4) : type,
			 rnd_below(&c->x, NAMES));
		return buf;
	}
}

/* ------------------------------------------------------------------ */
/* The calls */

/*
 * Remember a name that an open may have created, to leave nothing behind.
 * Not only our name buffer: a mutated pointer that lands elsewhere in the
 * scratch area (its low word replaced by a small number) points at
 * whatever an earlier call left there, and that may be a valid name.
 * (The pooled names and the read-only one are unlinked at the end anyway,
 * and any other pointer cannot have been read.)
 */
static void remember_name(struct caller *c, uint64_t uptr)
{
	const char *p = (const char *)(uintptr_t)uptr;
	char *slot;

	if (p < c->scratch || p >= c->scratch + SCRATCH)
		return;
	slot = c->made[c->nmade++ % MADE];
	if (c->nmade > MADE)
		ksync_unlink(slot);
	snprintf(slot, sizeof(c->made[0]), "%.*s",
		 (int)strnlen(p, (size_t)(c->scratch + SCRATCH - p)), p);
}

static int do_open(struct caller *c)
{
	struct ksync_open_args a = { .size = sizeof(a) };
	char *name = c->scratch + SCRATCH_NAME;
	int fd;

	a.type = 1 + rnd_below(&c->x, 4);
	a.flags = rnd_below(&c->x, KSYNC_OPEN_FLAGS + 1) | KSYNC_OPEN_CLOEXEC;
	a.mode = rnd_one_in(&c->x, 4) ? (uint32_t)rnd_nasty(&c->x) : 0600;
	a.name = (uintptr_t)pick_name(c, name, NAME_ROOM, a.type);
	switch (a.type) {
	case KSYNC_TYPE_SEM:
		a.sem.value = rnd_below(&c->x, 4);
		break;
	case KSYNC_TYPE_BARRIER:
		a.barrier.parties = 1 + rnd_below(&c->x, 4);
		break;
	case KSYNC_TYPE_EVENT:
		a.event.flags = rnd_below(&c->x, 2) ? KSYNC_EVENT_FLAG_AUTO : 0;
		a.event.set = rnd_below(&c->x, 2);
		break;
	default:
		a.queue.capacity = 1 + rnd_below(&c->x, 8);
		a.queue.msg_size = rnd_below(&c->x, 200);
		break;
	}
	a.size = pick_size(c, sizeof(a));
	mutate(c, &a, sizeof(a));
	fd = ioctl(c->f->dev, KSYNC_IOC_OPEN, pick_ptr(c, &a, sizeof(a)));
	fault_done(c);
	if (fd < 0)
		return -errno;
	put_slot(c, fd, a.type);
	remember_name(c, a.name);
	return 0;
}

static int do_unlink(struct caller *c)
{
	struct ksync_unlink_args a = { .size = sizeof(a) };
	char *name = c->scratch + SCRATCH_NAME;

	a.name = (uintptr_t)pick_name(c, name, NAME_ROOM, 1 + rnd_below(&c->x, 3));
	a.size = pick_size(c, sizeof(a));
	mutate(c, &a, sizeof(a));
	return ioctl(c->f->dev, KSYNC_IOC_UNLINK, pick_ptr(c, &a, sizeof(a)));
}

/* LIST on the device, WHO on an object: cursor, buffer, count, entry size. */
static int do_listing(struct caller *c, int who)
{
	struct ksync_list_args l = { .size = sizeof(l) };
	struct ksync_who_args w = { .size = sizeof(w) };
	uint32_t count = rnd_below(&c->x, 8);
	uint32_t esize = who ? sizeof(struct ksync_who_entry) : sizeof(struct ksync_list_entry);
	void *entries;

	if (rnd_one_in(&c->x, 4))
		esize = (uint32_t)rnd_nasty(&c->x);
	else if (rnd_one_in(&c->x, 4))
		esize += 8 * rnd_below(&c->x, 4);
	if (rnd_one_in(&c->x, 8))
		count = (uint32_t)rnd_nasty(&c->x);
	/* room for what was promised, unless the pointer is a bad one */
	if ((uint64_t)count * esize <= SCRATCH - SCRATCH_ENTRIES)
		entries = rnd_one_in(&c->x, 6) ? pick_ptr(c, "", 0) : c->scratch + SCRATCH_ENTRIES;
	else
		entries = pick_ptr(c, "", 0);
	if (who) {
		w.entries = (uintptr_t)entries;
		w.count = count;
		w.entry_size = esize;
		w.size = pick_size(c, sizeof(w));
		mutate(c, &w, sizeof(w));
		return ioctl(pick_fd(c, 0), KSYNC_IOC_WHO, pick_ptr(c, &w, sizeof(w)));
	}
	l.entries = (uintptr_t)entries;
	l.count = count;
	l.entry_size = esize;
	l.cursor = rnd_one_in(&c->x, 2) ? 0 : rnd_nasty(&c->x);
	l.size = pick_size(c, sizeof(l));
	mutate(c, &l, sizeof(l));
	return ioctl(c->f->dev, KSYNC_IOC_LIST, pick_ptr(c, &l, sizeof(l)));
}

static int do_list(struct caller *c)
{
	return do_listing(c, 0);
}

static int do_who(struct caller *c)
{
	return do_listing(c, 1);
}

static int do_info(struct caller *c)
{
	static const unsigned long cmds[] = { KSYNC_IOC_INFO, KSYNC_IOC_SEM_INFO,
					      KSYNC_IOC_BARRIER_INFO, KSYNC_IOC_QUEUE_INFO,
					      KSYNC_IOC_EVENT_INFO };
	uint32_t i = rnd_below(&c->x, 5);

	return ioctl(pick_fd(c, i), cmds[i], pick_ptr(c, "", 0));
}

static int do_sem_acquire(struct caller *c)
{
	struct ksync_sem_wait w = { .size = sizeof(w) };

	w.count = rnd_one_in(&c->x, 8) ? (uint32_t)rnd_nasty(&c->x) : 1 + rnd_below(&c->x, 3);
	w.flags = pick_wait_flags(c);
	w.deadline = pick_deadline(c);
	w.size = pick_size(c, sizeof(w));
	mutate(c, &w, sizeof(w));
	return ioctl(pick_fd(c, KSYNC_TYPE_SEM), KSYNC_IOC_SEM_ACQUIRE, pick_ptr(c, &w, sizeof(w)));
}

static int do_sem_release(struct caller *c)
{
	struct ksync_sem_post p = { .size = sizeof(p) };

	p.count = rnd_one_in(&c->x, 8) ? (uint32_t)rnd_nasty(&c->x) : 1 + rnd_below(&c->x, 3);
	p.size = pick_size(c, sizeof(p));
	mutate(c, &p, sizeof(p));
	return ioctl(pick_fd(c, KSYNC_TYPE_SEM), KSYNC_IOC_SEM_RELEASE, pick_ptr(c, &p, sizeof(p)));
}

static int do_bar_wait(struct caller *c)
{
	struct ksync_barrier_wait w = { .size = sizeof(w) };

	w.flags = pick_wait_flags(c) | (rnd_below(&c->x, 4) << 1);
	w.generation = rnd_one_in(&c->x, 2) ? rnd_below(&c->x, 4) : (uint32_t)rnd_nasty(&c->x);
	w.deadline = pick_deadline(c);
	w.size = pick_size(c, sizeof(w));
	mutate(c, &w, sizeof(w));
	return ioctl(pick_fd(c, KSYNC_TYPE_BARRIER), KSYNC_IOC_BARRIER_WAIT,
		     pick_ptr(c, &w, sizeof(w)));
}

static int do_bar_ctl(struct caller *c)
{
	static const unsigned long cmds[] = { KSYNC_IOC_BARRIER_BREAK, KSYNC_IOC_BARRIER_RESET,
					      KSYNC_IOC_BARRIER_JOIN };
	struct ksync_barrier_ctl b = { .size = sizeof(b) };

	b.generation = rnd_one_in(&c->x, 2) ? rnd_below(&c->x, 4) : (uint32_t)rnd_nasty(&c->x);
	b.size = pick_size(c, sizeof(b));
	mutate(c, &b, sizeof(b));
	return ioctl(pick_fd(c, KSYNC_TYPE_BARRIER), cmds[rnd_below(&c->x, 3)],
		     pick_ptr(c, &b, sizeof(b)));
}

static int do_q_xfer(struct caller *c)
{
	struct ksync_queue_xfer x = { .size = sizeof(x) };
	/* all four set: an uninitialised one held stale stack words, a pointer
	 * into the caller table among them, which a receive then wrote over */
	struct ksync_queue_msg m[4] = { { 0, 0 } };
	uint32_t n = 1 + rnd_below(&c->x, 4);
	char *data = c->scratch + SCRATCH_DATA;

	for (uint32_t i = 0; i < n; i++) {
		m[i].base = (uintptr_t)(data + 512 * i);
		m[i].len = rnd_below(&c->x, 256);
		if (rnd_one_in(&c->x, 8))
			m[i].base = (uintptr_t)pick_ptr(c, "", 0);
		if (rnd_one_in(&c->x, 8))
			m[i].len = rnd_nasty(&c->x);
	}
	x.count = rnd_one_in(&c->x, 8) ? (uint32_t)rnd_nasty(&c->x) : n;
	x.done = rnd_one_in(&c->x, 8) ? (uint32_t)rnd_nasty(&c->x) : 0;
	x.flags = pick_wait_flags(c);
	x.deadline = pick_deadline(c);
	x.msgs = (uintptr_t)pick_ptr(c, m, sizeof(m));
	/* (the struct itself goes there next) */
	if (x.msgs >= (uintptr_t)c->scratch && x.msgs < (uintptr_t)c->scratch + 8)
		x.msgs = (uintptr_t)memcpy(c->scratch + SCRATCH_MSGS, m, sizeof(m));
	x.size = pick_size(c, sizeof(x));
	mutate(c, &x, sizeof(x));
	return ioctl(pick_fd(c, KSYNC_TYPE_QUEUE),
		     rnd_one_in(&c->x, 2) ? KSYNC_IOC_QUEUE_SEND : KSYNC_IOC_QUEUE_RECV,
		     pick_ptr(c, &x, sizeof(x)));
}

/*
 * A wait on several: sem acquires, queue sends and receives, fds of any
 * kind (an object's too), mostly sound, sometimes not at all.
 */
static int do_wait_any(struct caller *c)
{
	static const uint32_t types[] = { KSYNC_TYPE_SEM, KSYNC_TYPE_QUEUE, KSYNC_TYPE_QUEUE,
					  KSYNC_TYPE_EVENT, 0 };
	static const uint32_t kinds[] = { KSYNC_OP_ACQUIRE, KSYNC_OP_SEND, KSYNC_OP_RECV,
					  KSYNC_OP_EVENT, KSYNC_OP_FD };
	struct ksync_wait_any_args a = { .size = sizeof(a) };
	struct ksync_wait_op ops[6];
	uint32_t n = 1 + rnd_below(&c->x, 6);
	char *data = c->scratch + SCRATCH_DATA;

	memset(ops, 0, sizeof(ops));
	for (uint32_t i = 0; i < n; i++) {
		uint32_t k = rnd_below(&c->x, 5);

		ops[i].kind = kinds[k];
		ops[i].fd = pick_fd(c, rnd_one_in(&c->x, 8) ? rnd_below(&c->x, 5) : types[k]);
		if (k == 0)
			ops[i].count = 1 + rnd_below(&c->x, 2);
		if (k == 1 || k == 2) {
			ops[i].buf = (uintptr_t)(data + 512 * (i % 4));
			ops[i].len = rnd_below(&c->x, 256);
			if (rnd_one_in(&c->x, 8))
				ops[i].buf = (uintptr_t)pick_ptr(c, "", 0);
		}
		if (rnd_one_in(&c->x, 16))
			mutate(c, &ops[i], sizeof(ops[i]));
	}
	a.count = rnd_one_in(&c->x, 16) ? (uint32_t)rnd_nasty(&c->x) : n;
	a.op_size = rnd_one_in(&c->x, 16) ? pick_size(c, sizeof(ops[0])) : sizeof(ops[0]);
	a.flags = pick_wait_flags(c);
	a.deadline = pick_deadline(c);
	a.ops = (uintptr_t)pick_ptr(c, ops, sizeof(ops));
	if (a.ops >= (uintptr_t)c->scratch && a.ops < (uintptr_t)c->scratch + 8)
		a.ops = (uintptr_t)memcpy(c->scratch + SCRATCH_MSGS, ops, sizeof(ops));
	a.size = pick_size(c, sizeof(a));
	mutate(c, &a, sizeof(a));
	return ioctl(c->f->dev, KSYNC_IOC_WAIT_ANY, pick_ptr(c, &a, sizeof(a)));
}

static int do_q_simple(struct caller *c)
{
	int fd = pick_fd(c, KSYNC_TYPE_QUEUE);

	/* a shutdown is for good: rarely, or the queues would all be closed */
	if (rnd_one_in(&c->x, 8))
		return ioctl(fd, KSYNC_IOC_QUEUE_SHUTDOWN, rnd_nasty(&c->x));
	return ioctl(fd, KSYNC_IOC_QUEUE_WAKE, rnd_nasty(&c->x));
}

static int do_q_join(struct caller *c)
{
	struct ksync_queue_join j = { .size = sizeof(j) };

	j.size = pick_size(c, sizeof(j));
	mutate(c, &j, sizeof(j));
	return ioctl(pick_fd(c, KSYNC_TYPE_QUEUE), KSYNC_IOC_QUEUE_JOIN,
		     pick_ptr(c, &j, sizeof(j)));
}

static int do_ev_wait(struct caller *c)
{
	struct ksync_event_wait w = { .size = sizeof(w) };

	w.flags = pick_wait_flags(c);
	w.deadline = pick_deadline(c);
	w.size = pick_size(c, sizeof(w));
	mutate(c, &w, sizeof(w));
	return ioctl(pick_fd(c, KSYNC_TYPE_EVENT), KSYNC_IOC_EVENT_WAIT,
		     pick_ptr(c, &w, sizeof(w)));
}

static int do_ev_ctl(struct caller *c)
{
	struct ksync_event_ctl e = { .size = sizeof(e) };

	e.size = pick_size(c, sizeof(e));
	mutate(c, &e, sizeof(e));
	return ioctl(pick_fd(c, KSYNC_TYPE_EVENT),
		     rnd_one_in(&c->x, 2) ? KSYNC_IOC_EVENT_SET : KSYNC_IOC_EVENT_RESET,
		     pick_ptr(c, &e, sizeof(e)));
}

/* Any command number of ksync's, any direction and size bits. */
static int do_raw(struct caller *c)
{
	unsigned long cmd = _IOC(rnd_below(&c->x, 4), KSYNC_IOC_MAGIC, rnd_below(&c->x, 0x50),
				 rnd_below(&c->x, 256));

	static const char zeros[256];

	return ioctl(rnd_one_in(&c->x, 2) ? c->f->dev : pick_fd(c, 0), cmd,
		     pick_ptr(c, zeros, sizeof(zeros)));
}

static int do_mmap(struct caller *c)
{
	struct fuzz *f = c->f;
	static const int prots[] = { PROT_READ | PROT_WRITE, PROT_READ, PROT_WRITE, PROT_NONE,
				     PROT_READ | PROT_EXEC };
	size_t len = f->page * (rnd_one_in(&c->x, 4) ? rnd_below(&c->x, 4) : 1);
	off_t off = rnd_one_in(&c->x, 8) ? (off_t)(rnd_nasty(&c->x) & ~0xfffULL) : 0;
	int prot = prots[rnd_below(&c->x, 5)];
	int flags = rnd_one_in(&c->x, 8) ? MAP_PRIVATE : MAP_SHARED;
	struct ksync_queue_info qi;
	struct ksync_info info;
	int fd = pick_fd(c, 0);
	int ksync = ioctl(fd, KSYNC_IOC_INFO, &info) == 0;
	void *p;

	int queue = ksync && info.type == KSYNC_TYPE_QUEUE && !ioctl(fd, KSYNC_IOC_QUEUE_INFO, &qi);

	/* the right length for the type, mostly; or a queue's status page */
	if (queue && !rnd_one_in(&c->x, 4))
		len = qi.map_size;
	if (queue && rnd_one_in(&c->x, 4)) {
		off = qi.state_offset;
		len = f->page;
	}
	if (rnd_one_in(&c->x, 16))
		len = rnd_nasty(&c->x);
	p = mmap(NULL, len, prot, flags, fd, off);
	fault_done(c);
	if (p == MAP_FAILED)
		return -errno;
	/*
	 * An object's pages: shared, at 0, never executable; a queue's status
	 * page at its offset, read-only (docs/abi.md).
	 */
	if (ksync && ((prot & PROT_EXEC) || flags != MAP_SHARED ||
		      (off && !(queue && off == qi.state_offset && !(prot & PROT_WRITE)))))
		atomic_fetch_add(&f->violations, 1);
	pthread_mutex_lock(&f->map_lock);
	unsigned int i = rnd_below(&c->x, MAPS);

	if (f->map[i].addr)
		munmap(f->map[i].addr, f->map[i].len);
	f->map[i].addr = p;
	f->map[i].len = len;
	f->map[i].writable = !!(prot & PROT_WRITE);
	f->map[i].status = queue && off == qi.state_offset;
	f->map[i].ksync = ksync;
	pthread_mutex_unlock(&f->map_lock);
	return 0;
}

/* What a process may do to a mapping: all of it must be safe. */
static int do_map_op(struct caller *c)
{
	struct fuzz *f = c->f;
	struct mapping *m = &f->map[rnd_below(&c->x, MAPS)];
	int ret = 0;
	size_t len;
	void *p;

	pthread_mutex_lock(&f->map_lock);
	if (!m->addr)
		goto out;
	switch (rnd_below(&c->x, 5)) {
	case 0: /* grow (VM_DONTEXPAND says no) or shrink or move */
		len = f->page * (1 + rnd_below(&c->x, 3));
		p = mremap(m->addr, m->len, len, MREMAP_MAYMOVE);
		if (p == MAP_FAILED) {
			ret = -errno;
		} else {
			m->addr = p;
			m->len = len;
		}
		break;
	case 1:
		ret = madvise(m->addr, m->len, MADV_DONTNEED);
		break;
	case 2:
		/* never executable (a mapping of ours: an object's, or kcov's) */
		ret = mprotect(m->addr, m->len, PROT_READ | PROT_EXEC);
		if (!ret && m->ksync)
			atomic_fetch_add(&f->violations, 1);
		break;
	case 3:
		if (m->status && !mprotect(m->addr, m->len, PROT_READ | PROT_WRITE))
			atomic_fetch_add(&f->violations, 1);
		ret = mprotect(m->addr, m->len, PROT_READ);
		if (!ret)
			m->writable = 0;
		break;
	default:
		munmap(m->addr, m->len);
		m->addr = NULL;
		break;
	}
out:
	pthread_mutex_unlock(&f->map_lock);
	return ret;
}

/* Any word of a writable mapping: the shared page is user memory. */
static int do_scribble(struct caller *c)
{
	struct fuzz *f = c->f;
	struct mapping *m = &f->map[rnd_below(&c->x, MAPS)];
	int ret = -ENOENT;

	pthread_mutex_lock(&f->map_lock);
	if (m->addr && m->writable && m->len >= 8) {
		unsigned int n = 1 + rnd_below(&c->x, 8);

		while (n--) {
			size_t at = rnd_below(&c->x, (uint32_t)(m->len / 8)) * 8;

			/* mostly where the state words live */
			if (rnd_one_in(&c->x, 2))
				at = rnd_below(&c->x, 64) * 8 % m->len;
			__atomic_store_n((uint64_t *)((char *)m->addr + at), rnd_nasty(&c->x),
					 __ATOMIC_RELAXED);
		}
		ret = 0;
	}
	pthread_mutex_unlock(&f->map_lock);
	return ret;
}

static int do_close(struct caller *c)
{
	int64_t v = atomic_exchange(&c->f->slot[rnd_below(&c->x, SLOTS)], -1);

	return v < 0 ? -EBADF : close((int)(v & 0xffffffff));
}

static int do_dup(struct caller *c)
{
	uint32_t type = 0;
	int fd = dup((int)pick_slot(c, 0, &type));

	if (fd < 0)
		return -errno;
	put_slot(c, fd, type);
	return 0;
}

static int do_other_fd(struct caller *c)
{
	int fd, p[2];

	switch (rnd_below(&c->x, 4)) {
	case 0:
		fd = eventfd(0, EFD_CLOEXEC);
		break;
	case 1:
		if (pipe2(p, O_CLOEXEC))
			return -errno;
		close(p[1]);
		fd = p[0];
		break;
	case 2:
		fd = open("/dev/null", O_RDWR | O_CLOEXEC);
		break;
	default:
		fd = open("/dev/ksync", O_RDWR | O_CLOEXEC);
		break;
	}
	if (fd < 0)
		return -errno;
	put_slot(c, fd, 0);
	return 0;
}

static int do_poll(struct caller *c)
{
	struct pollfd p[3];

	for (int i = 0; i < 3; i++) {
		p[i].fd = pick_fd(c, 0);
		p[i].events = (short)rnd(&c->x);
	}
	return poll(p, 3, (int)rnd_below(&c->x, 3));
}

static int do_fdinfo(struct caller *c)
{
	char buf[512];

	return read_fdinfo(pick_fd(c, 0), buf, sizeof(buf)) < 0 ? -1 : 0;
}

/*
 * A child that uses the objects and dies: of its own accord or of SIGKILL
 * in the middle of whatever it was doing.  Only system calls in the child
 * (its parent has threads: no locks, no malloc).
 */
static int (*const ops[OP_NR])(struct caller *);

static int do_fork(struct caller *c)
{
	uint64_t budget = rnd_below(&c->x, 20000000); /* up to 20 ms */
	pid_t pid = fork();
	int status;

	if (pid < 0)
		return -errno;
	if (pid > 0)
		atomic_store(&c->child, pid);
	if (pid == 0) {
		static const enum op mid_call[] = { OP_SEM_ACQUIRE, OP_SEM_RELEASE, OP_BAR_WAIT,
						    OP_Q_JOIN,	    OP_Q_XFER,	    OP_EV_WAIT,
						    OP_EV_CTL };

		c->kcov.area = NULL; /* the buffer traces the parent only */
		for (int i = 0; i < 64; i++)
			ops[mid_call[rnd_below(&c->x, ARRAY_SIZE(mid_call))]](c);
		_exit(0);
	}
	atomic_fetch_add(&c->f->forks, 1);
	pause_us((long)(budget / 1000));
	if (kill(pid, SIGKILL) == 0)
		atomic_fetch_add(&c->f->kills, 1);
	/* SIGKILL ends any sleep in the module: waitpid cannot hang (but
	 * the signaller's SIGUSR1 interrupts it) */
	while (waitpid(pid, &status, 0) != pid)
		if (errno != EINTR)
			return -errno;
	atomic_store(&c->child, 0);
	if (WIFSIGNALED(status) && WTERMSIG(status) != SIGKILL)
		atomic_store(&c->f->crashed, WTERMSIG(status));
	return 0;
}

static int (*const ops[OP_NR])(struct caller *) = {
	[OP_OPEN] = do_open,
	[OP_UNLINK] = do_unlink,
	[OP_LIST] = do_list,
	[OP_WHO] = do_who,
	[OP_INFO] = do_info,
	[OP_SEM_ACQUIRE] = do_sem_acquire,
	[OP_SEM_RELEASE] = do_sem_release,
	[OP_BAR_WAIT] = do_bar_wait,
	[OP_BAR_CTL] = do_bar_ctl,
	[OP_Q_XFER] = do_q_xfer,
	[OP_Q_SIMPLE] = do_q_simple,
	[OP_Q_JOIN] = do_q_join,
	[OP_EV_WAIT] = do_ev_wait,
	[OP_EV_CTL] = do_ev_ctl,
	[OP_RAW] = do_raw,
	[OP_MMAP] = do_mmap,
	[OP_MAP_OP] = do_map_op,
	[OP_SCRIBBLE] = do_scribble,
	[OP_CLOSE] = do_close,
	[OP_DUP] = do_dup,
	[OP_OTHER_FD] = do_other_fd,
	[OP_POLL] = do_poll,
	[OP_FDINFO] = do_fdinfo,
	[OP_FORK] = do_fork,
	[OP_WAIT_ANY] = do_wait_any,
};

/*
 * The op to call next, by weight.  Guided by KCOV, an op's weight grows
 * with the new sites it found in the caller's last GUIDE_WINDOW calls.
 */
#define GUIDE_WINDOW 512

static enum op pick_op(struct caller *c)
{
	unsigned int w[OP_NR], total = 0, r;

	for (int i = 0; i < OP_NR; i++) {
		w[i] = c->f->off[i] ? 0 : op_weight[i];
		if (c->f->guide)
			w[i] += op_weight[i] * (c->gain[i] > 16 ? 16 : c->gain[i]);
		total += w[i];
	}
	r = rnd_below(&c->x, total);
	for (int i = 0; i < OP_NR; i++) {
		if (r < w[i])
			return (enum op)i;
		r -= w[i];
	}
	return OP_OPEN;
}

/* What may allocate on behalf of the module: where faults are worth it. */
static int allocates(enum op op)
{
	switch (op) {
	case OP_OPEN:
	case OP_LIST:
	case OP_WHO:
	case OP_MMAP:
	case OP_SEM_ACQUIRE:
	case OP_BAR_WAIT:
	case OP_BAR_CTL:
	case OP_Q_XFER:
	case OP_Q_JOIN:
	case OP_WAIT_ANY:
		return 1;
	default:
		return 0;
	}
}

/* Arm fail-nth for the next call: its n-th allocation fails. */
static void arm_fault(struct caller *c, enum op op)
{
	if (c->failfd < 0 || !allocates(op) || !rnd_one_in(&c->x, 4))
		return;
	c->armed = fault_arm(c->failfd, 1 + (int)rnd_below(&c->x, 4)) == 0;
}

/*
 * Disarm it, right after the call under test: a fault left armed would
 * land in the op's own housekeeping (a munmap of the mapping it replaces,
 * an unlink), which then fails, and the fuzzer loses track of what it
 * made.  Counts the fault if it was injected (the counter ran out).
 */
static void fault_done(struct caller *c)
{
	int left;

	if (!c->armed)
		return;
	c->armed = 0;
	left = fault_left(c->failfd);
	if (left)
		fault_arm(c->failfd, 0);
	else
		atomic_fetch_add(&c->f->faults, 1);
}

static void *caller_main(void *arg)
{
	struct caller *c = arg;
	struct fuzz *f = c->f;
	char *scratch = c->scratch;
	int idx = c->idx;

	while (!atomic_load(&f->stop) && now_ns() < f->end) {
		enum op op = pick_op(c);
		int ret;

		current_op = (int)op;
		current_x = c->x;
		atomic_store(&c->op_now, (int)op);
		/* armed around the op alone: a fault in the coverage bookkeeping
		 * (a page fault's allocation, retried) would count as injected */
		kcov_reset(&c->kcov);
		arm_fault(c, op);
		ret = ops[op](c);
		fault_done(c);
		c->gain[op] += (unsigned int)kcov_collect(&c->kcov, &f->cov);
		if (++c->ncalls % GUIDE_WINDOW == 0)
			memset(c->gain, 0, sizeof(c->gain));
		/* our own memory must be as we left it: the kernel writes only where asked */
		if (c->f != f || c->idx != idx || c->scratch != scratch) {
			fprintf(stderr,
				"# fuzz_test: caller %d's memory changed under it in or "
				"after op %d (%s), x=%llu: f %p, idx %d\n",
				idx, (int)op, op_names[op], (unsigned long long)current_x,
				(void *)c->f, c->idx);
			abort();
		}
		atomic_fetch_add(&f->calls[op], 1);
		if (ret >= 0)
			atomic_fetch_add(&f->ok[op], 1);
	}
	atomic_store(&f->done[idx], 1);
	return NULL;
}

static void *caller_start(void *arg)
{
	struct caller *c = arg;

	atomic_store(&c->os_tid, (pid_t)syscall(SYS_gettid));
	/* both per thread: fail-nth counts this thread's allocations */
	c->failfd = c->f->faulty ? fault_open() : -1;
	kcov_open(&c->kcov);
	caller_main(c);
	kcov_close(&c->kcov);
	if (c->failfd >= 0)
		close(c->failfd);
	return NULL;
}

/* Prints a file of /proc as comment lines (the kernel stack wants root). */
static void dump_proc(const char *path)
{
	char line[256];
	FILE *fp = fopen(path, "re");

	if (!fp) {
		fprintf(stderr, "#   %s: %s\n", path, strerror(errno));
		return;
	}
	fprintf(stderr, "#   %s:\n", path);
	while (fgets(line, sizeof(line), fp))
		fprintf(stderr, "#     %s", line);
	fclose(fp);
}

/* Where a caller that did not come back is: its op, its and its child's kernel stacks. */
static void report_hang(struct caller *c)
{
	pid_t tid = atomic_load(&c->os_tid), child = atomic_load(&c->child);
	int op = atomic_load(&c->op_now);
	char path[64];

	fprintf(stderr, "# caller %d (tid %d) is in %s\n", c->idx, (int)tid,
		op >= 0 && op < OP_NR ? op_names[op] : "?");
	snprintf(path, sizeof(path), "/proc/self/task/%d/stack", (int)tid);
	dump_proc(path);
	snprintf(path, sizeof(path), "/proc/self/task/%d/stat", (int)tid);
	dump_proc(path);
	if (child > 0) {
		snprintf(path, sizeof(path), "/proc/%d/stack", (int)child);
		dump_proc(path);
		snprintf(path, sizeof(path), "/proc/%d/stat", (int)child);
		dump_proc(path);
	}
}

/* Interrupts the callers' sleeps, so that waits without an end end. */
static void *signaller_main(void *arg)
{
	struct fuzz *f = arg;
	uint64_t x = f->seed ^ 0x5151;

	while (!atomic_load(&f->stop)) {
		int i = (int)rnd_below(&x, (uint32_t)f->threads);

		if (!atomic_load(&f->done[i]) && !pthread_kill(f->tid[i], SIGUSR1))
			atomic_fetch_add(&f->signals, 1);
		pause_us(1000 + rnd_below(&x, 4000));
	}
	return NULL;
}

/*
 * Memory the kernel may write to: a few pages at a 4 GiB boundary inside a
 * 2 TiB reservation that is otherwise inaccessible.  A mutated length,
 * count or entry size makes the module write past the pages, and a
 * mutated low half of a pointer moves it within 4 GiB: both must meet
 * -EFAULT, never the test's own heap or stacks.
 */
static char *arena(size_t writable)
{
	const size_t total = 2ULL << 40, four_gib = 4ULL << 30;
	char *r = mmap(NULL, total, PROT_NONE, MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);
	char *s;

	if (r == MAP_FAILED)
		return NULL;
	s = (char *)(((uintptr_t)r + 2 * four_gib - 1) & ~(four_gib - 1));
	if (mprotect(s, writable, PROT_READ | PROT_WRITE))
		return NULL;
	return s;
}

static int setup_bad_memory(struct fuzz *f)
{
	f->page = sysconf(_SC_PAGESIZE);
	f->bad = arena(2 * f->page);
	if (!f->bad)
		return -1;
	memset(f->bad, '/', f->page);
	snprintf(f->bad, f->page, "%s-ro", f->prefix);
	return mprotect(f->bad, f->page, PROT_READ) ||
	       mprotect(f->bad + f->page, f->page, PROT_NONE);
}

/* The coverage of kmod/: printed, and site by site to a file if asked. */
static void report_coverage(struct __test_metadata *_metadata, struct fuzz *f)
{
	const char *ko = getenv("KSYNC_MODULE");
	const char *out = getenv("KSYNC_FUZZ_REPORT");
	struct kcov_site *v;
	unsigned char *hit;
	long n, reached, live;

	if (!f->cov.n) {
		TH_LOG("no coverage: this kernel has no KCOV (the debug kernel has)");
		return;
	}
	n = ko ? kcov_sites(ko, &v) : -ENOENT;
	if (n <= 0) {
		TH_LOG("coverage: %zu distinct PCs (no ksync.ko to count the sites: %ld)", f->cov.n,
		       n);
		return;
	}
	hit = calloc((size_t)n, 1);
	if (!hit)
		return;
	reached = kcov_reached(v, n, &f->cov, hit, &live);
	TH_LOG("coverage of kmod/: %ld of %ld sites (%.1f%%; %ld more in init and exit code)",
	       reached, live, 100.0 * (double)reached / (double)live, n - live);
	if (out) {
		FILE *o = fopen(out, "w");

		for (long i = 0; o && i < n; i++)
			fprintf(o, "%s %s+0x%llx %s\n", v[i].section, v[i].func,
				(unsigned long long)v[i].off,
				hit[i] == 2 ? "gone"
				: hit[i]    ? "reached"
					    : "missed");
		if (o)
			fclose(o);
	}
	free(hit);
	free(v);
}

static void log_entry(const struct ksync_object *e, void *arg)
{
	struct __test_metadata *_metadata = arg;
	char shown[4 * 40 + 1], *o = shown;

	/* names may hold any byte: escape what would not show */
	for (const unsigned char *p = (const void *)e->name; *p && o - shown < 4 * 39; p++)
		o += sprintf(o, *p > ' ' && *p < 0x7f && *p != '\\' ? "%c" : "\\x%02x", *p);
	*o = 0;
	TH_LOG("left behind: type %u, %u handles, name \"%s\"", e->type, e->handles, shown);
}

/*
 * Objects left at the end: what of ours could still hold them (an fd or a
 * mapping the fuzzer lost track of), and whether they go on their own.
 */
static void report_holders(struct __test_metadata *_metadata)
{
	char path[64], link[128], line[256];
	int fds = 0, maps = 0;
	FILE *m;

	for (int fd = 0; fd < 4096; fd++) {
		ssize_t n;

		snprintf(path, sizeof(path), "/proc/self/fd/%d", fd);
		n = readlink(path, link, sizeof(link) - 1);
		if (n > 0) {
			link[n] = 0;
			fds += strstr(link, "ksync") != NULL && strcmp(link, "/dev/ksync");
		}
	}
	m = fopen("/proc/self/maps", "r");
	while (m && fgets(line, sizeof(line), m))
		if (strstr(line, "ksync") && maps++ < 6)
			TH_LOG("still mapped: %.100s", line);
	if (m)
		fclose(m);
	pause_us(1000000);
	TH_LOG("left: %d ksync fds and %d mappings still ours; %d objects after 1 s more", fds,
	       maps, ksync_objects());
}

FIXTURE(fuzz)
{
	int base;
};

FIXTURE_SETUP(fuzz)
{
	/*
	 * An IPC namespace of our own: the fuzzer unlinks any name it can
	 * find (a mutated pointer lands on what LIST wrote), and names other
	 * tests or users left in the caller's namespace are not its to
	 * remove, nor to count against it.  Without CAP_SYS_ADMIN (a user's
	 * run on the host), the caller's namespace, where such a user can
	 * remove only names that are theirs anyway.
	 */
	if (unshare(CLONE_NEWIPC))
		TH_LOG("no IPC namespace of its own (%s): fuzzing in the caller's",
		       strerror(errno));
	/* the count is the machine's: any registry call first drops the names
	 * of IPC namespaces that died since (the cleanup makes such calls too) */
	ASSERT_LE(0, list_names("", NULL, NULL));
	self->base = ksync_objects();
	ASSERT_GE(self->base, 0);
}

FIXTURE_TEARDOWN(fuzz)
{
}

TEST_F_TIMEOUT(fuzz, everything, 86400)
{
	struct caller callers[MAX_THREADS];
	long seconds = env_long("KSYNC_FUZZ_SECONDS", 10);
	struct sigaction sa = { .sa_handler = on_signal };
	pthread_t signaller;
	ksync_sem_t *s;
	struct fuzz *f;
	long total = 0, ok = 0;
	const char *without;
	int i;

	f = calloc(1, sizeof(*f));
	ASSERT_NE(NULL, f);
	f->seed = rnd_seed("KSYNC_FUZZ_SEED");
	f->threads = (int)env_long("KSYNC_FUZZ_THREADS", 4);
	f->guide = (int)env_long("KSYNC_FUZZ_GUIDE", 1);
	f->faulty = env_long("KSYNC_FUZZ_FAULTS", 1) && fault_setup() == 0;
	without = getenv("KSYNC_FUZZ_WITHOUT");
	for (i = 0; i < OP_NR; i++)
		f->off[i] = without && strstr(without, op_names[i]) != NULL;
	ASSERT_TRUE(f->threads >= 1 && f->threads <= MAX_THREADS);
	/* the seed first: whatever happens next, it can be replayed */
	TH_LOG("seed %llu (replay: KSYNC_FUZZ_SEED=%llu KSYNC_FUZZ_THREADS=%d "
	       "KSYNC_FUZZ_GUIDE=%d), %ld s",
	       (unsigned long long)f->seed, (unsigned long long)f->seed, f->threads, f->guide,
	       seconds);
	/* the harness's own timeout is a day (long runs): a hang ends here */
	alarm((unsigned int)seconds + 600);
	snprintf(f->prefix, sizeof(f->prefix), "/kst-fuzz-%d", (int)getpid());
	ASSERT_EQ(0, setup_bad_memory(f));
	ASSERT_EQ(0, pcset_init(&f->cov, 1 << 16));
	pthread_mutex_init(&f->map_lock, NULL);
	for (i = 0; i < SLOTS; i++)
		f->slot[i] = -1;
	f->dev = open("/dev/ksync", O_RDWR | O_CLOEXEC);
	ASSERT_GE(f->dev, 0);
	ASSERT_EQ(0, sigaction(SIGUSR1, &sa, NULL)); /* no SA_RESTART: sleeps end */
	sa.sa_handler = NULL;
	sa.sa_sigaction = on_crash;
	sa.sa_flags = SA_SIGINFO;
	ASSERT_EQ(0, sigaction(SIGSEGV, &sa, NULL));
	ASSERT_EQ(0, sigaction(SIGBUS, &sa, NULL));
	f->end = now_ns() + seconds * 1000000000LL;

	for (i = 0; i < f->threads; i++) {
		struct caller *c = &callers[i];

		c->f = f;
		c->idx = i;
		c->x = f->seed * (2 * (uint64_t)i + 1) + (uint64_t)i;
		c->x = c->x ? c->x : 1;
		c->scratch = arena(SCRATCH);
		ASSERT_NE(NULL, c->scratch);
		c->failfd = -1;
		c->nmade = 0;
		c->armed = 0;
		c->ncalls = 0;
		memset(c->gain, 0, sizeof(c->gain));
		c->kcov.area = NULL;
		c->kcov.fd = -1;
		atomic_store(&c->op_now, -1);
		atomic_store(&c->os_tid, 0);
		atomic_store(&c->child, 0);
	}
	for (i = 0; i < f->threads; i++)
		ASSERT_EQ(0, pthread_create(&f->tid[i], NULL, caller_start, &callers[i]));
	ASSERT_EQ(0, pthread_create(&signaller, NULL, signaller_main, f));

	/* every caller must come back soon after the end: none may hang */
	for (i = 0; i < f->threads; i++) {
		while (!atomic_load(&f->done[i]) && now_ns() < f->end + 30000000000LL)
			pause_us(20000);
		EXPECT_TRUE(atomic_load(&f->done[i]))
		{
			TH_LOG("caller %d still in a call 30 s after the end", i);
			report_hang(&callers[i]);
		}
	}
	atomic_store(&f->stop, 1);
	pthread_join(signaller, NULL);
	for (i = 0; i < f->threads; i++)
		if (atomic_load(&f->done[i]))
			pthread_join(f->tid[i], NULL);
	ASSERT_FALSE(_metadata->passed == 0);

	for (i = 0; i < OP_NR; i++) {
		total += f->calls[i];
		ok += f->ok[i];
		TH_LOG("%-32s %8ld calls, %8ld succeeded", op_names[i], (long)f->calls[i],
		       (long)f->ok[i]);
	}
	TH_LOG("%ld calls (%ld succeeded), %ld faults injected, %ld children forked,"
	       " %ld killed, %ld signals",
	       total, ok, (long)f->faults, (long)f->forks, (long)f->kills, (long)f->signals);
	report_coverage(_metadata, f);
	EXPECT_EQ(0, (long)f->violations)
	{
		TH_LOG("an object's pages were mapped or made executable, private or at an offset");
	}
	/* on a kernel with fault injection, faults were injected */
	if (f->faulty && seconds >= 5)
		EXPECT_LT(0, (long)f->faults);
	EXPECT_EQ(0, (long)f->crashed)
	{
		TH_LOG("a forked child died of signal %ld", (long)f->crashed);
	}

	/* afterwards: nothing left behind, and the device still works */
	for (i = 0; i < SLOTS; i++)
		if (f->slot[i] >= 0)
			close((int)(f->slot[i] & 0xffffffff));
	for (i = 0; i < MAPS; i++)
		if (f->map[i].addr)
			munmap(f->map[i].addr, f->map[i].len);
	for (i = 0; i < f->threads; i++)
		for (unsigned int j = 0; j < MADE && j < callers[i].nmade; j++)
			ksync_unlink(callers[i].made[j]);
	for (i = 0; i <= 3 * NAMES; i++) {
		char name[64];

		/* the pool's names, and the one in read-only memory */
		if (i < 3 * NAMES)
			snprintf(name, sizeof(name), "%s-%d-%d", f->prefix, 1 + i / NAMES,
				 i % NAMES);
		else
			snprintf(name, sizeof(name), "%s-ro", f->prefix);
		ksync_unlink(name);
	}
	EXPECT_EQ(self->base, ksync_objects())
	{
		list_names("", log_entry, _metadata);
		report_holders(_metadata);
	}
	ASSERT_EQ(0, ksync_sem_open(&s, NULL, 0, 0600, 1));
	ASSERT_EQ(0, ksync_sem_try_acquire(s, 1));
	ASSERT_EQ(-EAGAIN, ksync_sem_try_acquire(s, 1));
	ksync_sem_close(s);
	close(f->dev);
}

TEST_HARNESS_MAIN
