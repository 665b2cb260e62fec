/* SPDX-License-Identifier: GPL-2.0 WITH Linux-syscall-note */
/*
 * ksync: cross-process semaphores, barriers, queues and events.
 *
 * The ioctl ABI shared by the module (kmod/) and libksync (ulib/).
 * Every struct has a fixed size, explicit padding and a field that lets
 * it grow; unknown flags and non-zero reserved fields are rejected with
 * -EINVAL so that they can be given a meaning later.
 */
#ifndef _UAPI_LINUX_KSYNC_H
#define _UAPI_LINUX_KSYNC_H

#include <linux/types.h>
#include <linux/ioctl.h>

#define KSYNC_NAME_MAX		255	/* bytes after the leading '/' */

/* Object types. */
#define KSYNC_TYPE_SEM		1
#define KSYNC_TYPE_BARRIER	2
#define KSYNC_TYPE_QUEUE	3
#define KSYNC_TYPE_EVENT	4

/* ksync_open_args.flags */
#define KSYNC_OPEN_CREATE	0x1	/* create if missing */
#define KSYNC_OPEN_EXCL		0x2	/* with CREATE: -EEXIST if it exists */
#define KSYNC_OPEN_UNDO		0x4	/* give back held permits on close */
#define KSYNC_OPEN_CLOEXEC	0x8	/* the new fd gets FD_CLOEXEC */
/* queues only */
#define KSYNC_OPEN_NOEOF	0x10	/* on creation: no end of input, only shutdown */
#define KSYNC_OPEN_KERNEL	0x20	/* this fd: every operation in the module */
/*
 * A queue fd's roles, as O_WRONLY and O_RDONLY for mq_open: SEND needs the
 * mode's write bit, RECV its read bit; neither is both (two-way).  Only an
 * opener whom the mode allows both may map the ring (else -EACCES from
 * mmap: such an fd goes through the module for everything).
 */
#define KSYNC_OPEN_SEND		0x40
#define KSYNC_OPEN_RECV		0x80
#define KSYNC_OPEN_FLAGS	0xff

/* Largest semaphore value and maximum; a release beyond it fails with -EOVERFLOW. */
#define KSYNC_SEM_VALUE_MAX	0x7fffffff

/* A barrier waits for 1 to KSYNC_BARRIER_PARTIES_MAX parties. */
#define KSYNC_BARRIER_PARTIES_MAX	65535

/*
 * A queue holds 1 to KSYNC_QUEUE_CAPACITY_MAX messages of 0 to
 * KSYNC_QUEUE_MSG_MAX bytes each.  Its ring (capacity times
 * KSYNC_QUEUE_SLOT_SIZE(msg_size)) must also fit the module's
 * max_queue_bytes parameter (-EFBIG) and the owner's share
 * (max_bytes_per_user, -EDQUOT).
 */
#define KSYNC_QUEUE_CAPACITY_MAX	1048576
#define KSYNC_QUEUE_MSG_MAX		1048576

/*
 * KSYNC_IOC_OPEN on /dev/ksync: open or create an object and return a new
 * fd for it as the ioctl's result.  A zero name creates an anonymous object.
 */
struct ksync_open_args {
	__u32 size;		/* sizeof(struct ksync_open_args) */
	__u32 type;		/* KSYNC_TYPE_* */
	__u32 flags;		/* KSYNC_OPEN_* */
	__u32 mode;		/* permission bits, less the umask */
	__aligned_u64 name;	/* user pointer to "/name", or 0 */
	union {
		struct {
			__u32 value;	/* initial permits */
			__u32 max;	/* the most it may hold; 0: KSYNC_SEM_VALUE_MAX */
		} sem;
		struct {
			__u32 parties;	/* 1..KSYNC_BARRIER_PARTIES_MAX */
			__u32 pad;
		} barrier;
		struct {
			__u32 capacity;	/* messages */
			__u32 msg_size;	/* bytes, the most one message holds */
		} queue;
		struct {
			__u32 flags;	/* KSYNC_EVENT_FLAG_AUTO; fixed at creation */
			__u32 set;	/* 0 or 1: the state it starts in */
		} event;
		__aligned_u64 reserved[4];	/* must be zero */
	};
};

/* KSYNC_IOC_UNLINK on /dev/ksync: remove a name. */
struct ksync_unlink_args {
	__u32 size;		/* sizeof(struct ksync_unlink_args) */
	__u32 flags;		/* none defined: must be zero */
	__aligned_u64 name;	/* user pointer to "/name" */
};

/*
 * KSYNC_IOC_INFO on any object fd.  ctime and cpid say when and by whom
 * the object was made (ipcs -t, -p): the creator's process id as the
 * caller's pid namespace numbers it, for as long as the object lives,
 * even once that process is gone; 0 if the creator is not in the
 * caller's pid namespace.  serial tells two fds of one object from fds
 * of two (as kcmp(2) tells files apart): equal serials, one object.  The
 * struct grew in 0.4: KSYNC_IOC_INFO_V0 is its first size's number, which
 * the module still answers.
 */
struct ksync_info {
	__u32 type;		/* KSYNC_TYPE_* */
	__u32 flags;		/* KSYNC_OPEN_UNDO, _KERNEL, _SEND, _RECV: this fd's */
	__u32 uid;		/* owner, in the caller's user namespace */
	__u32 gid;
	__u32 mode;
	__u32 pad;
	__aligned_u64 ctime;	/* creation: CLOCK_REALTIME, ns since the epoch */
	__u32 cpid;		/* creator's process in the caller's pid namespace, or 0 */
	__u32 reserved;
	/* since 0.4 (KSYNC_INFO_SIZE_V0 bytes before) */
	__aligned_u64 serial;	/* no other object has had it since boot */
};

#define KSYNC_INFO_SIZE_V0	40	/* the struct of KSYNC_IOC_INFO_V0 */

/*
 * KSYNC_IOC_LIST on /dev/ksync: the named objects of the caller's IPC
 * namespace that it may see, in the order of their ids, a batch per call.
 * Returns how many entries it filled (0 at the end) and sets cursor to the
 * last one's id; pass it back to go on.  Objects created or removed during
 * a listing may or may not appear; any other appears exactly once.
 */
struct ksync_list_args {
	__u32 size;		/* sizeof(struct ksync_list_args) */
	__u32 flags;		/* none defined: must be zero */
	__aligned_u64 cursor;	/* in: 0 or the last id seen; out: the last id */
	__aligned_u64 entries;	/* user pointer to count entries of entry_size */
	__u32 count;		/* room for this many (the module may fill fewer) */
	__u32 entry_size;	/* sizeof(struct ksync_list_entry) */
};

#define KSYNC_LIST_NAME_LEN	264	/* "/name", NUL, padding */

struct ksync_list_entry {
	__aligned_u64 id;	/* the object's id in its namespace */
	__u32 type;		/* KSYNC_TYPE_* */
	__u32 uid;		/* owner, in the caller's user namespace */
	__u32 gid;
	__u32 mode;
	__u32 handles;		/* open file descriptions */
	__u32 pad;
	union {
		struct {
			__u32 value;	/* permits free now */
			__u32 waiters;	/* tasks asleep in acquire */
			__u32 max;	/* the most it may hold (0: module before 0.3) */
		} sem;
		struct {
			__u32 parties;
			__u32 waiting;		/* arrived in this round */
			__u32 generation;	/* rounds completed, mod 2^32 */
			__u32 broken;		/* 1 while broken */
		} barrier;
		struct {
			__u32 capacity;
			__u32 msg_size;
			__u32 length;		/* messages queued (or being sent) */
			__u32 sleepers;		/* senders and receivers asleep */
			__u32 state;		/* KSYNC_QUEUE_STATE_* */
			__u32 pad;
		} queue;
		struct {
			__u32 set;		/* 1 while set */
			__u32 waiters;		/* tasks asleep in a wait */
			__u32 flags;		/* KSYNC_EVENT_FLAG_AUTO */
		} event;
		__aligned_u64 reserved[4];
	};
	char name[KSYNC_LIST_NAME_LEN];	/* NUL-terminated */
	/* from here on: not filled for an entry_size that ends before */
	__aligned_u64 ctime;	/* as in struct ksync_info */
	__u32 cpid;
	__u32 pad2;
};

/* The entry as the first listing knew it: the least entry_size taken. */
#define KSYNC_LIST_ENTRY_SIZE_V1	328

/*
 * KSYNC_IOC_LIMITS on /dev/ksync: the module's limits (its parameters, as
 * /sys/module/ksync/parameters shows them) and what one user holds of the
 * per-user ones now: the caller's effective uid, or with
 * KSYNC_LIMITS_UID the given uid of the caller's user namespace, which
 * needs CAP_SYS_ADMIN there unless it is the caller's own (-EPERM;
 * -EINVAL for a uid not mapped there).  A user's bytes are counted in
 * whole pages, as they are charged.
 */
#define KSYNC_LIMITS_UID	0x1

struct ksync_limits_args {
	__u32 size;		/* sizeof(struct ksync_limits_args) */
	__u32 flags;		/* KSYNC_LIMITS_UID */
	__u32 uid;		/* in with KSYNC_LIMITS_UID; out: whose usage */
	__u32 pad;		/* must be zero */
	__aligned_u64 max_objects;		/* alive at once, all users */
	__aligned_u64 objects;			/* alive now, all users */
	__aligned_u64 max_objects_per_user;
	__aligned_u64 max_bytes_per_user;
	__aligned_u64 max_queue_bytes;		/* one queue's ring */
	__aligned_u64 user_objects;		/* the user's, now */
	__aligned_u64 user_bytes;
};

/*
 * KSYNC_IOC_USAGE on /dev/ksync: every user that holds objects now, as a
 * listing does (cursor: 0, then what the last call left there), with
 * users not mapped into the caller's user namespace left out.  Needs
 * CAP_SYS_ADMIN in it (-EPERM).  A user's objects count once for it and
 * once for the owner of each user namespace between it and the machine's
 * (see max_objects_per_user).
 */
struct ksync_usage_args {
	__u32 size;		/* sizeof(struct ksync_usage_args) */
	__u32 flags;		/* none defined: must be zero */
	__aligned_u64 cursor;	/* in: 0 or what the last call left; out: where to go on */
	__aligned_u64 entries;	/* user pointer to count entries of entry_size */
	__u32 count;
	__u32 entry_size;	/* sizeof(struct ksync_usage_entry) */
};

struct ksync_usage_entry {
	__u32 uid;		/* in the caller's user namespace */
	__u32 pad;
	__aligned_u64 objects;
	__aligned_u64 bytes;
};

/*
 * KSYNC_IOC_WHO on any object fd: who holds and who waits, as the module
 * knows it: semaphore permits held through KSYNC_OPEN_UNDO fds (by the
 * process that last took some), and every task asleep in an acquire, a
 * barrier wait, a queue send or receive, an event wait.  Fills at most count entries
 * (count at most KSYNC_WHO_MAX, else -EINVAL), in no particular order,
 * and returns how many there are in all (more than count: the rest were
 * left out).  A task's pid and tid are those of the caller's pid
 * namespace, and 0 when it is not in it or is not the caller's to see
 * (its uids and gids are not all the caller's euid and egid, and the
 * caller lacks CAP_SYS_PTRACE over the task's user namespace).
 */
struct ksync_who_args {
	__u32 size;		/* sizeof(struct ksync_who_args) */
	__u32 flags;		/* none defined: must be zero */
	__aligned_u64 entries;	/* user pointer to count entries of entry_size */
	__u32 count;		/* room for this many; 0: just count */
	__u32 entry_size;	/* sizeof(struct ksync_who_entry) */
};

#define KSYNC_WHO_MAX		4096	/* the most entries one call fills */

#define KSYNC_WHO_HOLDS		1	/* sem: count permits held (UNDO) */
#define KSYNC_WHO_ACQUIRES	2	/* sem: asleep, asking for count permits */
#define KSYNC_WHO_WAITS		3	/* barrier: asleep in its round */
#define KSYNC_WHO_SENDS		4	/* queue: asleep in a send */
#define KSYNC_WHO_RECEIVES	5	/* queue: asleep in a receive */
#define KSYNC_WHO_EVENT_WAITS	6	/* event: asleep until it is set */

struct ksync_who_entry {
	__u32 pid;		/* the process (thread group) */
	__u32 tid;		/* the sleeping thread; 0 for HOLDS */
	__u32 what;		/* KSYNC_WHO_* */
	__u32 count;		/* permits held or asked for, else 1 */
	__aligned_u64 waited_ns;	/* asleep this long so far; 0 for HOLDS */
};

/* ksync_sem_wait.flags */
#define KSYNC_WAIT_DEADLINE	0x1	/* deadline is valid; else wait forever */
#define KSYNC_WAIT_FLAGS	0x1

/*
 * KSYNC_IOC_SEM_ACQUIRE: take count permits, sleeping in FIFO order.  The
 * deadline is absolute CLOCK_MONOTONIC in ns, in the caller's time
 * namespace; one already past means "try once".  A wait that ends at its
 * deadline fails with -ETIMEDOUT, one ended by a signal handler with
 * -EINTR; other signals restart it.  size lets the struct grow (a
 * cancellation fd is planned) under the same ioctl number.
 */
struct ksync_sem_wait {
	__u32 size;		/* sizeof(struct ksync_sem_wait) */
	__u32 count;
	__u32 flags;		/* KSYNC_WAIT_* */
	__u32 pad;		/* must be zero */
	__aligned_u64 deadline;
};

/*
 * A semaphore's maximum ('max' at creation, else KSYNC_SEM_VALUE_MAX) is
 * the most permits it may hold: an acquire of more fails at once with
 * -ERANGE, a release past it with -EOVERFLOW, and what an UNDO file gives
 * back on its release is cut at it.
 */

/* KSYNC_IOC_SEM_RELEASE: give back count permits. */
struct ksync_sem_post {
	__u32 size;		/* sizeof(struct ksync_sem_post) */
	__u32 count;
	__u32 flags;		/* none defined: must be zero */
	__u32 pad;		/* must be zero */
};

/* KSYNC_IOC_SEM_INFO: a snapshot of the semaphore and its counters. */
struct ksync_sem_info {
	__u32 value;
	__u32 waiters;		/* tasks asleep in acquire */
	__aligned_u64 held;	/* permits this fd would give back (UNDO) */
	__aligned_u64 wait_calls;	/* KSYNC_IOC_SEM_ACQUIRE calls */
	__aligned_u64 wake_calls;	/* KSYNC_IOC_SEM_RELEASE calls */
	__aligned_u64 woken;	/* tasks woken with their permits */
	__u32 max;		/* the most it may hold (0: module before 0.3) */
	__u32 pad;
	__aligned_u64 reserved[2];
};

/*
 * The semaphore's shared page: mmap(NULL, page size, PROT_READ | PROT_WRITE,
 * MAP_SHARED, fd, 0; PROT_READ alone to watch).  Every process that maps it
 * sees one 64-bit state word, then the fast counters below:
 *
 *   bits  0..31  the value: permits free now (at most KSYNC_SEM_VALUE_MAX)
 *   bits 32..63  the kernel's bits: while any is set, somebody sleeps or
 *                polls, and every operation must go through the ioctls.
 *
 * While the kernel's bits are clear, a process may take n permits with a
 * compare-and-swap of the whole word from s to s - n when the value is at
 * least n, and give n back with a compare-and-swap from s to s + n when the
 * result stays within the semaphore's maximum (KSYNC_IOC_SEM_INFO's max,
 * which never changes: the page holds no copy of it, since the module
 * could not trust one).  Nothing else may be written to
 * the word; the counters are statistics only.
 * The module never trusts the word: garbage there harms only the processes
 * that share this semaphore.  docs/design.md describes the protocol.
 */
struct ksync_sem_shared {
	__aligned_u64 state;
	/*
	 * Counters for people (`ksync ls`): acquires and releases done on the
	 * word alone.  libksync adds to them without atomicity, so increments
	 * of racing processes may be lost; the module never reads them.
	 */
	__aligned_u64 fast_acquires;
	__aligned_u64 fast_releases;
};

#define KSYNC_SEM_STATE_VALUE	0x00000000ffffffffULL
#define KSYNC_SEM_STATE_KERNEL	0xffffffff00000000ULL

/* ksync_barrier_wait.flags (with KSYNC_WAIT_DEADLINE) */
#define KSYNC_BARRIER_ARRIVED	0x2	/* already arrived in round 'generation' */
#define KSYNC_BARRIER_NOWAIT	0x4	/* arrive and return at once */
#define KSYNC_BARRIER_WAIT_FLAGS 0x7

/*
 * KSYNC_IOC_BARRIER_WAIT: arrive and wait for the round to complete.
 * Returns 1 to the party that completed the round (the serial party), 0 to
 * the others, -EPIPE if the round is or gets broken, -ETIMEDOUT (the round
 * is then broken), or -EINTR when a signal handler ran (the library then
 * calls KSYNC_IOC_BARRIER_BREAK).  When a signal interrupts the sleep the
 * module writes the round back into 'generation' and sets
 * KSYNC_BARRIER_ARRIVED, so that a restarted call waits for the same round
 * instead of arriving twice; a caller that arrived on the shared page
 * passes the same itself.  A NOWAIT arrival writes 'generation' back (its
 * struct must be writable: -EFAULT, before arriving).
 */
struct ksync_barrier_wait {
	__u32 size;		/* sizeof(struct ksync_barrier_wait) */
	__u32 flags;		/* KSYNC_WAIT_DEADLINE | KSYNC_BARRIER_* */
	__u32 generation;	/* with ARRIVED: the round arrived in */
	__u32 pad;		/* must be zero */
	__aligned_u64 deadline;	/* as for ksync_sem_wait */
};

/*
 * KSYNC_IOC_BARRIER_BREAK: break round 'generation' if it is still the
 * current one (0).  Returns 1 if it had completed instead, -EPIPE if it
 * was already broken.  KSYNC_IOC_BARRIER_RESET (generation 0): break
 * the round if parties wait, then start a new, empty one (generation + 2).
 * KSYNC_IOC_BARRIER_JOIN: make the calling process a party of this open
 * file (generation 0), so that its death or its last close of the file
 * breaks a round that others wait in; libksync joins before a process's
 * first wait.
 */
struct ksync_barrier_ctl {
	__u32 size;		/* sizeof(struct ksync_barrier_ctl) */
	__u32 flags;		/* none defined: must be zero */
	__u32 generation;
	__u32 pad;		/* must be zero */
};

/* KSYNC_IOC_BARRIER_INFO: a snapshot of the barrier and its counters. */
struct ksync_barrier_info {
	__u32 parties;
	__u32 waiting;		/* arrived in this round */
	__u32 generation;	/* rounds completed (resets add 2), mod 2^32 */
	__u32 broken;		/* 1 while broken */
	__u32 sleepers;		/* tasks asleep in the module */
	__u32 pad;
	__aligned_u64 wait_calls;	/* KSYNC_IOC_BARRIER_WAIT calls */
	__aligned_u64 woken;	/* sleepers woken by a completed round */
	__aligned_u64 breaks;	/* rounds broken (deadline, signal, death, reset) */
	__aligned_u64 resets;
	__aligned_u64 reserved[3];
};

/*
 * The barrier's shared page holds one 64-bit state word (then fast_arrivals):
 *
 *   bits  0..15  arrived: parties in the current round (< parties)
 *   bits 16..47  generation: the current round's number, mod 2^32
 *   bit  62      KWAKE: somebody sleeps or polls; arrive through the ioctl
 *   bit  63      BROKEN: the round is broken; arrive through the ioctl
 *
 * While both high bits are clear a process may arrive with one
 * compare-and-swap: to arrived + 1, or, as the last of the parties, to
 * generation + 1 with arrived 0.  Having arrived it may watch the word:
 * a generation one higher means its round completed.  Anything else
 * (BROKEN, a larger step, or tiring of watching) goes to the module with
 * KSYNC_BARRIER_ARRIVED.  Resets add 2 to the generation, never 1.
 * fast_arrivals counts arrivals on the word alone, as the semaphore's
 * fast counters do (approximately; the module never reads it).
 */
struct ksync_barrier_shared {
	__aligned_u64 state;
	__aligned_u64 fast_arrivals;
};

#define KSYNC_BARRIER_STATE_ARRIVED	0x000000000000ffffULL
#define KSYNC_BARRIER_STATE_GEN		0x0000ffffffff0000ULL
#define KSYNC_BARRIER_GEN_SHIFT		16
#define KSYNC_BARRIER_STATE_KWAKE	(1ULL << 62)
#define KSYNC_BARRIER_STATE_BROKEN	(1ULL << 63)

/* The generation in a barrier's state word, and a word with it alone. */
static __inline__ __u32 ksync_barrier_gen(__u64 state)
{
	return (__u32)(state >> KSYNC_BARRIER_GEN_SHIFT);
}

static __inline__ __u64 ksync_barrier_gen_word(__u32 gen)
{
	return (__u64)gen << KSYNC_BARRIER_GEN_SHIFT;
}

/*
 * KSYNC_IOC_QUEUE_SEND and KSYNC_IOC_QUEUE_RECV move messages through the
 * module: count messages described by msgs, an array of struct
 * ksync_queue_msg (on 64-bit, the layout of struct iovec).  A send waits
 * until all are sent; a receive waits for the first, then takes what is
 * there, up to count, and sets each len to the message's length.  Both
 * return how many they moved.  'done' says how many the call has moved so
 * far: 0 on the first call; when a signal interrupts the wait the module
 * writes it back, so that a restart goes on from there, and a caller that
 * sees -EINTR learns from it how many moved.  Errors (only when none moved,
 * else the count): -ETIMEDOUT (the deadline passed, or had on entry), -EINTR,
 * -EMSGSIZE, -EPIPE (shut down; a receive first drains), -EFAULT,
 * -ENOTRECOVERABLE (the ring was found corrupt).
 */
struct ksync_queue_msg {
	__aligned_u64 base;	/* user pointer */
	__aligned_u64 len;	/* send: the length; recv: room, then the length */
};

struct ksync_queue_xfer {
	__u32 size;		/* sizeof(struct ksync_queue_xfer) */
	__u32 flags;		/* KSYNC_WAIT_DEADLINE */
	__u32 count;		/* messages in msgs */
	__u32 done;		/* in/out: how many moved already */
	__aligned_u64 msgs;	/* user pointer to count struct ksync_queue_msg */
	__aligned_u64 deadline;	/* as for ksync_sem_wait */
};

/*
 * End of input, as a pipe's reader sees it.  A queue's input is held open
 * by its sender files: an fd opened with KSYNC_OPEN_SEND from its open, a
 * two-way fd from its first send or KSYNC_IOC_QUEUE_JOIN, until the open
 * file is released (its last fd closed, in every process that inherited
 * or received it; a mapping does not hold it).  When the last sender file
 * goes, receivers drain the queue and then get -EPIPE: the end of input.
 * A new sender file ends that state again, as a new writer of a FIFO does.
 * A receiving fd sees only an end that came after it was opened (or the
 * one that ended the messages still queued when it was opened), so a
 * receiver that comes early waits for the next sender instead of ending
 * at once.  KSYNC_IOC_QUEUE_SHUTDOWN is permanent: sends fail with -EPIPE;
 * it needs the send role (-EBADF) and an opener the mode allows both roles
 * (-EACCES).  KSYNC_OPEN_NOEOF at creation: only
 * a shutdown ends the queue.
 *
 * KSYNC_IOC_QUEUE_JOIN: this (two-way or send) file becomes a sender file,
 * and the calling process a sender of it.  'token' comes back non-zero
 * when the process may send through the shared ring, stamping its claims
 * with it (0: send through the ioctls); what it claimed and never
 * published becomes a tombstone when the process no longer holds the file.
 * A send through the module joins by itself.  -EBADF: a RECV-only fd, or
 * another thread closed the process's last fd of the file meanwhile.
 */
struct ksync_queue_join {
	__u32 size;		/* sizeof(struct ksync_queue_join) */
	__u32 flags;		/* none defined: must be zero */
	__u32 token;		/* out */
	__u32 pad;		/* must be zero */
};

/*
 * KSYNC_IOC_QUEUE_REOPEN: a new fd for the same queue, a new open file
 * with flags' roles (KSYNC_OPEN_SEND, _RECV; both or neither: two-way),
 * which must be among this fd's (else -EACCES), and KSYNC_OPEN_KERNEL,
 * KSYNC_OPEN_CLOEXEC.  The ends of a pipe, for an anonymous queue too.
 * Returns the new fd.
 */
struct ksync_queue_reopen {
	__u32 size;		/* sizeof(struct ksync_queue_reopen) */
	__u32 flags;
	__aligned_u64 reserved;	/* must be zero */
};

/* KSYNC_IOC_QUEUE_INFO: what the module knows of a queue. */
struct ksync_queue_info {
	__u32 capacity;
	__u32 msg_size;
	__u32 slot_size;	/* KSYNC_QUEUE_SLOT_SIZE(msg_size) */
	__u32 ring_offset;	/* where slot 0 starts in the mapping */
	__u32 map_size;		/* bytes to map */
	__u32 length;		/* messages queued (or being sent) */
	__u32 state;		/* KSYNC_QUEUE_STATE_SHUTDOWN, _BROKEN, _NOEOF, _EOF */
	__u32 flags;		/* this fd's KSYNC_OPEN_KERNEL, _SEND, _RECV */
	__u32 senders;		/* sender files, now */
	__u32 send_sleepers;
	__u32 recv_sleepers;
	__u32 state_offset;	/* where the read-only status page is mapped */
	__aligned_u64 send_calls;	/* KSYNC_IOC_QUEUE_SEND calls */
	__aligned_u64 recv_calls;	/* KSYNC_IOC_QUEUE_RECV calls */
	__aligned_u64 wake_calls;	/* KSYNC_IOC_QUEUE_WAKE calls */
	__aligned_u64 woken;		/* sleepers woken to a message or slot */
	__aligned_u64 tombstones;	/* dead senders' claims turned into skips */
	__aligned_u64 reserved[3];
};

/*
 * The queue's shared memory (not for KSYNC_OPEN_KERNEL fds): one header
 * page, then the ring of 'capacity' slots, each KSYNC_QUEUE_SLOT_SIZE
 * bytes, map_size bytes at offset 0 in all; and the status page (struct
 * ksync_queue_status), which only the module writes, one page at
 * state_offset, which may be mapped read-only only.  Positions count
 * messages from 0; position p lives in slot p % capacity, whose 'seq' says
 * where it stands:
 *
 *   FREE(p)          2p            a sender may claim position p
 *   WRITING(p, tok)  2p | BUSY | tok << 48   claimed by token tok's process
 *   FULL(p)          2p + 1        the message at p may be received
 *
 * (2p taken mod 2^48).  A sender at tail t claims with a compare-and-swap
 * of the seq from FREE(t) to WRITING(t, token), moves tail on, writes len
 * and the payload and stores FULL(t) with release.  A receiver at head h
 * reads FULL(h) with acquire, copies the message out, and then takes it
 * with a compare-and-swap from FULL(h) to FREE(h + capacity); if that
 * fails, another receiver had it.  Anyone who finds a slot already past
 * the index it read moves the index on (compare-and-swap, t to t + 1).
 * A FULL slot whose len is KSYNC_QUEUE_TOMBSTONE is taken and skipped: the
 * module put it there for a sender that died holding a claim.  After a
 * send on the ring a process issues a full fence and reads the status
 * page's 'state': if RECV_WAIT is set (receivers sleep or poll), it calls
 * KSYNC_IOC_QUEUE_WAKE; after a receive, likewise for SEND_WAIT.  While
 * SHUTDOWN or BROKEN is set, sends go to the module, and so does a
 * receive that finds the ring empty.  A sending process sets
 * claimed[token] before its first claim.  docs/design.md has the protocol
 * and its orderings.
 */
struct ksync_queue_shared {
	__aligned_u64 pad0[8];
	__aligned_u64 tail;	/* next position to send */
	__aligned_u64 pad1[7];
	__aligned_u64 head;	/* next position to receive */
	__aligned_u64 pad2[7];
	__aligned_u64 reserved[8];
	__u32 claimed[];	/* by token, to the page's end: it may hold claims */
};

struct ksync_queue_status {
	__aligned_u64 state;	/* KSYNC_QUEUE_STATE_*: the module's */
};

struct ksync_queue_slot {
	__aligned_u64 seq;
	__u32 len;
	__u32 pad;
	__u8 data[];
};

#define KSYNC_QUEUE_STATE_RECV_WAIT	(1ULL << 0)	/* wake after a send */
#define KSYNC_QUEUE_STATE_SHUTDOWN	(1ULL << 1)
#define KSYNC_QUEUE_STATE_BROKEN	(1ULL << 2)	/* the ring was found corrupt */
#define KSYNC_QUEUE_STATE_NOEOF	(1ULL << 3)	/* info and listing only */
#define KSYNC_QUEUE_STATE_SEND_WAIT	(1ULL << 4)	/* wake after a receive */
#define KSYNC_QUEUE_STATE_EOF	(1ULL << 5)	/* info and listing: no sender since one left */

#define KSYNC_QUEUE_SEQ_POS	0x0000ffffffffffffULL
#define KSYNC_QUEUE_SEQ_TOKEN	0x7fff000000000000ULL
#define KSYNC_QUEUE_TOKEN_SHIFT	48
#define KSYNC_QUEUE_SEQ_BUSY	(1ULL << 63)
#define KSYNC_QUEUE_TOMBSTONE	0xffffffffU
/* Slots are 64-byte aligned, so that neighbours share no cache line. */
#define KSYNC_QUEUE_SLOT_SIZE(msg_size) \
	((((__u64)(msg_size) + 16 + 63) / 64) * 64)

/* The most messages one KSYNC_IOC_QUEUE_SEND or _RECV call moves. */
#define KSYNC_QUEUE_BATCH_MAX		1024

/* A slot's seq as FREE(pos) and FULL(pos) above. */
static __inline__ __u64 ksync_queue_seq_free(__u64 pos)
{
	return (pos << 1) & KSYNC_QUEUE_SEQ_POS;
}

static __inline__ __u64 ksync_queue_seq_full(__u64 pos)
{
	return ksync_queue_seq_free(pos) | 1;
}

/*
 * a - b for two seqs' KSYNC_QUEUE_SEQ_POS bits, as a signed 48-bit number:
 * above 0 when the slot's seq a is ahead of the b an index leads to expect.
 */
static __inline__ __s64 ksync_queue_seq_diff(__u64 a, __u64 b)
{
	return (__s64)((a - b) << 16) >> 16;
}

/*
 * Messages queued or being sent (tombstones too), from a head and a tail
 * read apart: a head read past the tail counts none, and no more than
 * capacity are counted whatever the indices say.
 */
static __inline__ __u32 ksync_queue_length(__u64 head, __u64 tail,
					   __u32 capacity)
{
	if (tail < head)
		return 0;
	return tail - head > capacity ? capacity : (__u32)(tail - head);
}

/*
 * Events: a flag that processes wait for, set and reset (Win32's
 * CreateEvent, a cross-process ctx.Done()).  A manual event, once set, lets
 * every waiter and every later wait pass until it is reset; an auto event
 * (KSYNC_EVENT_FLAG_AUTO at creation) lets exactly one wait pass per set,
 * and that wait takes the set state with it.
 */
#define KSYNC_EVENT_FLAG_AUTO	0x1	/* ksync_open_args.event.flags */
#define KSYNC_EVENT_FLAGS	0x1

/* KSYNC_IOC_EVENT_SET and KSYNC_IOC_EVENT_RESET. */
struct ksync_event_ctl {
	__u32 size;		/* sizeof(struct ksync_event_ctl) */
	__u32 flags;		/* none defined: must be zero */
};

/*
 * KSYNC_IOC_EVENT_WAIT: return 0 once the event is set (an auto event's
 * wait takes the set state), sleeping in FIFO order until then; the
 * deadline, -ETIMEDOUT, -EINTR and restarts as for ksync_sem_wait.
 */
struct ksync_event_wait {
	__u32 size;		/* sizeof(struct ksync_event_wait) */
	__u32 flags;		/* KSYNC_WAIT_DEADLINE */
	__aligned_u64 deadline;	/* as for ksync_sem_wait */
};

/* KSYNC_IOC_EVENT_INFO: a snapshot of the event and its counters. */
struct ksync_event_info {
	__u32 set;		/* 1 while set */
	__u32 flags;		/* KSYNC_EVENT_FLAG_AUTO */
	__u32 waiters;		/* tasks asleep in a wait */
	__u32 pad;
	__aligned_u64 wait_calls;	/* KSYNC_IOC_EVENT_WAIT calls */
	__aligned_u64 set_calls;	/* KSYNC_IOC_EVENT_SET calls */
	__aligned_u64 reset_calls;	/* KSYNC_IOC_EVENT_RESET calls */
	__aligned_u64 woken;	/* sleepers a set let pass */
	__aligned_u64 reserved[4];
};

/*
 * The event's shared page, mapped as the semaphore's: one 64-bit state
 * word, then the fast counters.
 *
 *   bit   0      SET: the event is set
 *   bits  1..31  always zero
 *   bits 32..63  the kernel's bits: while any is set, somebody sleeps or
 *                polls, and set, reset and an auto event's wait must go
 *                through the ioctls.
 *
 * While the kernel's bits are clear, a process may compare-and-swap the
 * whole word from 0 to 1 (set) and from 1 to 0 (reset, or an auto event's
 * wait taking the set state).  Anyone may read bit 0 at any time: a
 * manual event's wait that finds it set has succeeded.  Nothing else may
 * be written; the counters are statistics only, as the semaphore's.  The
 * module never trusts the word: garbage there harms only the processes
 * that share this event.  docs/design.md describes the protocol.
 */
struct ksync_event_shared {
	__aligned_u64 state;
	__aligned_u64 fast_sets;	/* sets done on the word alone */
	__aligned_u64 fast_resets;	/* resets done on the word alone */
	__aligned_u64 fast_waits;	/* waits that passed on the word alone */
};

#define KSYNC_EVENT_STATE_SET		0x0000000000000001ULL
#define KSYNC_EVENT_STATE_KERNEL	0xffffffff00000000ULL

/*
 * KSYNC_IOC_WAIT_ANY on /dev/ksync: wait until one of count operations
 * can complete, complete exactly that one and leave every other as it was
 * (Go's select).  Returns the index of the one that completed; when
 * several can complete at once, the lowest index.  Each operation names
 * an object by its fd and keeps its place in that object's order (FIFO)
 * while it waits.
 *
 *   ACQUIRE  fd: a semaphore; count permits (1 or more).
 *   SEND     fd: a queue, opened to send; the message at buf, len bytes.
 *   RECV     fd: a queue, opened to receive; room at buf, len bytes; on
 *            completion len is the message's length.
 *   EVENT    fd: an event; completes when it is set, as KSYNC_IOC_EVENT_WAIT
 *            does (an auto event's set state is taken, and only by the
 *            operation that completes).
 *   FD       fd: any file that can be polled; completes when it is
 *            readable (EPOLLIN, or EPOLLHUP or EPOLLERR), taking nothing.
 *
 * result, out for the operation that completed: 0, or the error it
 * completed with: -EPIPE for a SEND on a queue that was shut down or a
 * RECV on one whose input ended and that is drained, -ENOTRECOVERABLE for
 * a broken queue.  The call fails (and nothing completed) with -EINVAL for
 * count 0 or above KSYNC_WAIT_MAX, an unknown kind or flag, non-zero pads,
 * an object named twice, a barrier, an op whose kind is not its object's,
 * or an ACQUIRE of 0; -EBADF for an fd that is not open or, for SEND and
 * RECV, not opened for it; -ERANGE for
 * an ACQUIRE of more than the semaphore's maximum; -EMSGSIZE for a SEND
 * longer than the queue's messages; -ETIMEDOUT at the deadline (absolute
 * CLOCK_MONOTONIC; a past one tries each once); -EINTR when a handler ran.
 */
#define KSYNC_OP_ACQUIRE	0
#define KSYNC_OP_SEND		1
#define KSYNC_OP_RECV		2
#define KSYNC_OP_EVENT		3
#define KSYNC_OP_FD		4

#define KSYNC_WAIT_MAX		64

struct ksync_wait_op {
	__u32 kind;		/* KSYNC_OP_* */
	__s32 fd;
	__u32 count;		/* ACQUIRE: permits; else zero */
	__u32 flags;		/* none defined: must be zero */
	__aligned_u64 buf;	/* SEND, RECV: user pointer; else zero */
	__aligned_u64 len;	/* SEND, RECV; RECV: out, the message's length */
	__s64 result;		/* out */
};

struct ksync_wait_any_args {
	__u32 size;		/* sizeof(struct ksync_wait_any_args) */
	__u32 flags;		/* KSYNC_WAIT_DEADLINE */
	__aligned_u64 deadline;
	__aligned_u64 ops;	/* user pointer to count ops of op_size bytes */
	__u32 count;
	__u32 op_size;		/* sizeof(struct ksync_wait_op) */
};

#define KSYNC_IOC_MAGIC		0xB9

#define KSYNC_IOC_OPEN		_IOW(KSYNC_IOC_MAGIC, 0x00, struct ksync_open_args)
#define KSYNC_IOC_UNLINK	_IOW(KSYNC_IOC_MAGIC, 0x01, struct ksync_unlink_args)
#define KSYNC_IOC_INFO		_IOR(KSYNC_IOC_MAGIC, 0x02, struct ksync_info)
#define KSYNC_IOC_INFO_V0	_IOC(_IOC_READ, KSYNC_IOC_MAGIC, 0x02, KSYNC_INFO_SIZE_V0)
#define KSYNC_IOC_LIST		_IOWR(KSYNC_IOC_MAGIC, 0x03, struct ksync_list_args)
#define KSYNC_IOC_WHO		_IOW(KSYNC_IOC_MAGIC, 0x04, struct ksync_who_args)
#define KSYNC_IOC_LIMITS	_IOWR(KSYNC_IOC_MAGIC, 0x05, struct ksync_limits_args)
#define KSYNC_IOC_USAGE		_IOWR(KSYNC_IOC_MAGIC, 0x06, struct ksync_usage_args)
#define KSYNC_IOC_WAIT_ANY	_IOW(KSYNC_IOC_MAGIC, 0x07, struct ksync_wait_any_args)
#define KSYNC_IOC_SEM_INFO	_IOR(KSYNC_IOC_MAGIC, 0x12, struct ksync_sem_info)
/* 0x10 and 0x11 were acquire and release before their structs had a size */
#define KSYNC_IOC_SEM_ACQUIRE	_IOW(KSYNC_IOC_MAGIC, 0x13, struct ksync_sem_wait)
#define KSYNC_IOC_SEM_RELEASE	_IOW(KSYNC_IOC_MAGIC, 0x14, struct ksync_sem_post)
#define KSYNC_IOC_BARRIER_WAIT	_IOWR(KSYNC_IOC_MAGIC, 0x20, struct ksync_barrier_wait)
#define KSYNC_IOC_BARRIER_BREAK	_IOW(KSYNC_IOC_MAGIC, 0x21, struct ksync_barrier_ctl)
#define KSYNC_IOC_BARRIER_RESET	_IOW(KSYNC_IOC_MAGIC, 0x22, struct ksync_barrier_ctl)
#define KSYNC_IOC_BARRIER_JOIN	_IOW(KSYNC_IOC_MAGIC, 0x23, struct ksync_barrier_ctl)
#define KSYNC_IOC_BARRIER_INFO	_IOR(KSYNC_IOC_MAGIC, 0x24, struct ksync_barrier_info)
#define KSYNC_IOC_QUEUE_SEND	_IOWR(KSYNC_IOC_MAGIC, 0x30, struct ksync_queue_xfer)
#define KSYNC_IOC_QUEUE_RECV	_IOWR(KSYNC_IOC_MAGIC, 0x31, struct ksync_queue_xfer)
#define KSYNC_IOC_QUEUE_WAKE	_IO(KSYNC_IOC_MAGIC, 0x32)
#define KSYNC_IOC_QUEUE_SHUTDOWN _IO(KSYNC_IOC_MAGIC, 0x33)
#define KSYNC_IOC_QUEUE_JOIN	_IOWR(KSYNC_IOC_MAGIC, 0x34, struct ksync_queue_join)
/* 0x35 was QUEUE_INFO while the state word was in the header page */
#define KSYNC_IOC_QUEUE_INFO	_IOR(KSYNC_IOC_MAGIC, 0x37, struct ksync_queue_info)
#define KSYNC_IOC_QUEUE_REOPEN	_IOW(KSYNC_IOC_MAGIC, 0x36, struct ksync_queue_reopen)
#define KSYNC_IOC_EVENT_SET	_IOW(KSYNC_IOC_MAGIC, 0x40, struct ksync_event_ctl)
#define KSYNC_IOC_EVENT_RESET	_IOW(KSYNC_IOC_MAGIC, 0x41, struct ksync_event_ctl)
#define KSYNC_IOC_EVENT_WAIT	_IOW(KSYNC_IOC_MAGIC, 0x42, struct ksync_event_wait)
#define KSYNC_IOC_EVENT_INFO	_IOR(KSYNC_IOC_MAGIC, 0x43, struct ksync_event_info)

#endif /* _UAPI_LINUX_KSYNC_H */
