/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * libksync: cross-process counting semaphores, cyclic barriers, bounded
 * message queues and events on /dev/ksync.
 *
 * Every function returns 0 (or a non-negative value) on success and a
 * negative errno value on failure; none of them sets errno.  Handles are
 * thread-safe: any number of threads may use one handle at once, except
 * that closing it must be the last use.  See ksync(3) and docs/.
 *
 * Every call that needs the module returns -ENODEV when it cannot reach
 * it (no /dev/ksync: the module is not loaded), so that "not loaded"
 * differs from "no such name" (-ENOENT).  A module older than a call (one
 * of version KSYNC_0.3 on a module before it) gives -ENOTTY, or -EINVAL
 * for a new argument it does not know.
 */
#ifndef KSYNC_H
#define KSYNC_H

#include <sys/types.h>
#include <sys/uio.h>
#include <time.h>

#ifdef __cplusplus
extern "C" {
#endif

typedef struct ksync_sem ksync_sem_t;
typedef struct ksync_barrier ksync_barrier_t;
typedef struct ksync_queue ksync_queue_t;
typedef struct ksync_event ksync_event_t;

/* Flags for the open functions. */
#define KSYNC_CREATE 0x1 /* create if missing */
#define KSYNC_EXCL 0x2 /* with KSYNC_CREATE: -EEXIST if it exists */
/* Permits held through this handle return when it closes or its process dies. */
#define KSYNC_UNDO 0x4

/* Largest semaphore value; a release past it fails with -EOVERFLOW. */
#define KSYNC_SEM_VALUE_MAX 0x7fffffff

/*
 * Open the semaphore called name ("/name", POSIX IPC rules) or, with a
 * NULL name, create a new anonymous one.  mode (less the umask) and value
 * matter only when the call creates the object.
 */
int ksync_sem_open(ksync_sem_t **out, const char *name, int flags, mode_t mode, unsigned int value);

/*
 * ksync_sem_open() for a semaphore that never holds more than max permits
 * (1..KSYNC_SEM_VALUE_MAX, at least value; 0: no maximum but
 * KSYNC_SEM_VALUE_MAX, as ksync_sem_open() makes): an acquire of more
 * than max fails at once with -ERANGE, a release that would pass it with
 * -EOVERFLOW (a double release), and an UNDO handle's give-back stops at
 * it.  max matters only when the call creates the semaphore: see
 * ksync_sem_max().  A release fails so even when sleepers would take the
 * permits at once: there are never more than max, and a sleeper holds
 * none.  Version KSYNC_0.3; a module before it refuses a max (-EINVAL).
 * The maximum holds while every process that uses the semaphore has a
 * libksync of KSYNC_0.3 or later (an older fast path may release past it:
 * docs/abi.md).
 */
int ksync_sem_open_max(ksync_sem_t **out, const char *name, int flags, mode_t mode,
		       unsigned int value, unsigned int max);

/* The semaphore's maximum: KSYNC_SEM_VALUE_MAX if it was made without one. */
int ksync_sem_max(ksync_sem_t *s);

/* Take n permits, sleeping in FIFO order until deadline (absolute
 * CLOCK_MONOTONIC; NULL waits forever).  -ETIMEDOUT when the deadline
 * passes, -EINTR when a signal handler runs. */
int ksync_sem_acquire(ksync_sem_t *s, unsigned int n, const struct timespec *deadline);

/* Take n permits only if that can be done now; -EAGAIN if not. */
int ksync_sem_try_acquire(ksync_sem_t *s, unsigned int n);

/* Give back n permits, waking the sleepers they satisfy. */
int ksync_sem_release(ksync_sem_t *s, unsigned int n);

/* The current value (permits free now). */
int ksync_sem_value(ksync_sem_t *s);

/* What the kernel counted for one semaphore (all its users together). */
struct ksync_sem_stats {
	unsigned long long wait_calls; /* entries into the kernel to acquire */
	unsigned long long wake_calls; /* entries into the kernel to release */
	unsigned long long woken; /* tasks woken with their permits */
	unsigned int waiters; /* tasks asleep now */
};

/* Fill *st.  Uncontended operations never enter the kernel and are not
 * counted: the counters show how often contention cost a system call. */
int ksync_sem_stats(ksync_sem_t *s, struct ksync_sem_stats *st);

/* The object fd, for poll/epoll (readable when an acquire of 1 would succeed)
 * and SCM_RIGHTS.  It stays owned by the handle. */
int ksync_sem_fd(ksync_sem_t *s);

/* Adopt an fd received from elsewhere; the handle holds a dup of it. */
int ksync_sem_from_fd(ksync_sem_t **out, int fd);

/* Close the handle (an UNDO handle gives back what it holds). */
int ksync_sem_close(ksync_sem_t *s);

/* A barrier waits for 1 to KSYNC_BARRIER_PARTIES_MAX parties. */
#define KSYNC_BARRIER_PARTIES_MAX 65535

/*
 * Open the barrier called name or, with a NULL name, create an anonymous
 * one.  parties (1..KSYNC_BARRIER_PARTIES_MAX, else -EINVAL) and mode
 * matter only to a call that may create it: without KSYNC_CREATE, parties
 * is ignored and may be 0.  Opening another type's name is -EPROTOTYPE.
 */
int ksync_barrier_open(ksync_barrier_t **out, const char *name, int flags, mode_t mode,
		       unsigned int parties);

/*
 * Arrive and wait until all parties of the round have arrived.  Returns 1
 * to exactly one party of each round (the serial party, which completed
 * it) and 0 to the others.  -ETIMEDOUT when deadline (absolute
 * CLOCK_MONOTONIC; NULL waits forever) passes, -EINTR when a signal
 * handler runs: either breaks the round.  -EPIPE while the barrier is
 * broken: by a deadline, a handler, a reset while parties waited, or the
 * death or last close of a process that had waited on it while others
 * wait in a round it has not arrived in (or the death by a signal of such
 * a process at any time), until ksync_barrier_reset().  A process holds
 * the barrier while any of its threads holds the fd, in whichever fd
 * table (unshare(CLONE_FILES)).
 */
int ksync_barrier_wait(ksync_barrier_t *b, const struct timespec *deadline);

/*
 * Arrive without waiting (always through the kernel): 1 if this completed
 * the round, 0 if not, -EPIPE if broken.  Then poll the handle's fd:
 * EPOLLIN once that round completes, EPOLLERR if it breaks (also if a
 * reset broke it, or came after the break), until the handle arrives
 * again.  Closing the handle or exiting normally after arriving breaks
 * nothing: the round completes when the others arrive.  Being killed
 * breaks it.
 */
int ksync_barrier_arrive(ksync_barrier_t *b);

/* Break the round for whoever waits (-EPIPE) and start a new, empty one. */
int ksync_barrier_reset(ksync_barrier_t *b);

/* What the kernel knows of one barrier. */
struct ksync_barrier_stats {
	unsigned int parties;
	unsigned int waiting; /* arrived in the current round */
	unsigned int generation; /* round number: +1 per round, +2 per reset */
	unsigned int broken; /* 1 while broken */
	unsigned int sleepers; /* tasks asleep in the kernel */
	unsigned long long wait_calls; /* entries into the kernel to wait */
	unsigned long long woken; /* sleepers woken by completed rounds */
	unsigned long long breaks; /* rounds broken */
	unsigned long long resets;
};

int ksync_barrier_stats(ksync_barrier_t *b, struct ksync_barrier_stats *st);

/* The longest this handle watches the shared word before sleeping (it
 * adapts below that); 0 sleeps at once.  Default 20000 ns. */
int ksync_barrier_set_spin(ksync_barrier_t *b, unsigned int max_ns);

/*
 * The object fd, for poll/epoll and SCM_RIGHTS; it stays owned by the
 * handle.  poll reports on the round this open file last arrived in
 * through the kernel, so from this call on the handle's waits go through
 * the kernel (no fast path): EPOLLIN once that round has completed,
 * EPOLLERR if it broke or the barrier is broken.  After a reset, nothing
 * until the handle arrives again if its last wait returned; a handle
 * whose last arrival was ksync_barrier_arrive() goes on reporting that
 * round.
 */
int ksync_barrier_fd(ksync_barrier_t *b);

/* Adopt an fd received from elsewhere; the handle holds a dup of it. */
int ksync_barrier_from_fd(ksync_barrier_t **out, int fd);

/* Close the handle.  If this process waited on the barrier through it and
 * holds it no other way, a round that others wait in breaks, unless the
 * process had arrived in it (ksync_barrier_arrive()). */
int ksync_barrier_close(ksync_barrier_t *b);

/* A queue holds 1 to KSYNC_QUEUE_CAPACITY_MAX messages of 0 to KSYNC_QUEUE_MSG_MAX bytes. */
#define KSYNC_QUEUE_CAPACITY_MAX 1048576
#define KSYNC_QUEUE_MSG_MAX 1048576

/* Open flags for queues. */
#define KSYNC_QUEUE_NOEOF 0x10 /* on creation: no end of input, only shutdown */
/* this handle: everything in the kernel, nothing lost to a crash */
#define KSYNC_QUEUE_KERNEL 0x20
/*
 * This handle's role, as O_WRONLY and O_RDONLY for a pipe or mq_open: a
 * SEND handle needs the mode's write bit and only sends, a RECV handle
 * needs the read bit and only receives (-EBADF otherwise); neither flag
 * is both.  A handle whose opener the mode does not allow both works
 * through the kernel alone, since the shared ring would let it do both.
 */
#define KSYNC_QUEUE_SEND 0x40
#define KSYNC_QUEUE_RECV 0x80

/*
 * Open the queue called name or, with a NULL name, create an anonymous one.
 * capacity (1..KSYNC_QUEUE_CAPACITY_MAX messages), msg_size (0..
 * KSYNC_QUEUE_MSG_MAX bytes) and mode matter only to a call that may
 * create it.  -EFBIG: the ring (capacity x slot size) is larger than the
 * module's max_queue_bytes; -EDQUOT: past the owner's max_bytes_per_user
 * or max_objects_per_user.
 */
int ksync_queue_open(ksync_queue_t **out, const char *name, int flags, mode_t mode,
		     unsigned int capacity, unsigned int msg_size);

/*
 * Send one message of len bytes (at most msg_size, else -EMSGSIZE),
 * waiting for room until deadline (absolute CLOCK_MONOTONIC; NULL waits
 * forever).  -EAGAIN if full and the deadline had passed already,
 * -ETIMEDOUT when it passes, -EINTR when a signal handler runs, -EPIPE
 * once the queue is shut down.
 */
int ksync_queue_send(ksync_queue_t *q, const void *msg, size_t len,
		     const struct timespec *deadline);
int ksync_queue_try_send(ksync_queue_t *q, const void *msg, size_t len);

/*
 * Receive one message into buf; returns its length.  -EMSGSIZE if it does
 * not fit in buf_len (it stays queued), -EPIPE once the queue is shut down
 * and drained; otherwise as ksync_queue_send.  A call that fails, with any
 * error, may still have written buf (a message another receiver took first).
 */
ssize_t ksync_queue_recv(ksync_queue_t *q, void *buf, size_t buf_len,
			 const struct timespec *deadline);
ssize_t ksync_queue_try_recv(ksync_queue_t *q, void *buf, size_t buf_len);

/*
 * Send count messages, waiting for room as needed until deadline; returns
 * how many were sent (fewer if the deadline passed, a handler ran or the
 * queue was shut down after some), or an error if none was.
 */
int ksync_queue_send_batch(ksync_queue_t *q, const struct iovec *msgs, unsigned int count,
			   const struct timespec *deadline);

/*
 * Wait until deadline for a message, then take as many as are there, up to
 * count; returns how many, each iov_len set to its message's length.
 */
int ksync_queue_recv_batch(ksync_queue_t *q, struct iovec *bufs, unsigned int count,
			   const struct timespec *deadline);

/*
 * End of input, as a pipe gives it.  The input is held open by sender
 * handles' open files: a KSYNC_QUEUE_SEND handle from its open, a two-way
 * one from its first send or ksync_queue_join(), until the open file is
 * closed in every process that inherited it (fork) or received it
 * (SCM_RIGHTS), whether they close it, exit or are killed; a mapping left
 * behind does not count.  When the last goes, receivers get what is
 * queued and then -EPIPE.  A new sender ends that state, as a new writer
 * of a FIFO does, so a named queue serves one batch of producers after
 * another.  A receiving handle sees only an end that comes after its own
 * open (or the end of the messages queued when it opened): one that comes
 * early waits for the producers.  A two-way handle that never sends
 * never holds its own input open.
 *
 * ksync_queue_shutdown() is Go's close(ch), and permanent: later sends
 * fail with -EPIPE, receivers get what is queued and then -EPIPE, every
 * sleeper wakes.  It needs the send role (-EBADF).  With
 * KSYNC_QUEUE_NOEOF at creation, only a shutdown ends the queue.
 */
int ksync_queue_shutdown(ksync_queue_t *q);

/*
 * Make this two-way handle's open file a sender from now on, as its first
 * send would: declare a producer before it starts, so that the input
 * stays open across fork until the children are done with it (open, join,
 * fork the producers, close: the pipe idiom).  -EBADF on a RECV handle.
 */
int ksync_queue_join(ksync_queue_t *q);

/*
 * A new handle (a new open file) on q's queue with some of q's roles:
 * flags is KSYNC_QUEUE_SEND, KSYNC_QUEUE_RECV or both (0: q's own), plus
 * KSYNC_QUEUE_KERNEL.  -EACCES for a role q does not have.
 */
int ksync_queue_reopen(ksync_queue_t **out, ksync_queue_t *q, int flags);

/*
 * pipe() for messages: a new anonymous queue, ends[0] its receiving handle
 * and ends[1] its sending one.  flags: KSYNC_QUEUE_KERNEL.
 */
int ksync_queue_pipe(ksync_queue_t *ends[2], unsigned int capacity, unsigned int msg_size,
		     int flags);

/* Messages queued now (and being sent). */
int ksync_queue_len(ksync_queue_t *q);

/* What the kernel knows of one queue. */
struct ksync_queue_stats {
	unsigned int capacity;
	unsigned int msg_size;
	unsigned int length;
	unsigned int senders; /* sender open files (see ksync_queue_shutdown) */
	unsigned int send_sleepers;
	unsigned int recv_sleepers;
	unsigned int shutdown; /* 1 once shut down */
	unsigned int broken; /* 1 if the ring was found corrupt */
	unsigned long long send_calls; /* entries into the kernel to send */
	unsigned long long recv_calls; /* entries into the kernel to receive */
	unsigned long long wake_calls; /* entries into the kernel to wake a sleeper */
	unsigned long long woken; /* sleepers woken to a message or a slot */
	unsigned long long tombstones; /* dead senders' claims skipped */
	unsigned int eof; /* 1 while no sender holds it, since one did */
	unsigned int roles; /* this handle's: KSYNC_QUEUE_SEND | KSYNC_QUEUE_RECV */
};

int ksync_queue_stats(ksync_queue_t *q, struct ksync_queue_stats *st);

/* The longest a blocking call watches the ring before it sleeps; 0 sleeps at
 * once.  Default 2000 ns. */
int ksync_queue_set_spin(ksync_queue_t *q, unsigned int max_ns);

/*
 * The object fd, for poll/epoll (EPOLLIN when a receive would succeed now,
 * EPOLLOUT when a send would, EPOLLHUP once shut down or, for a receiving
 * handle, at the end of input; a handle is polled for its roles only) and
 * SCM_RIGHTS; it stays owned by the handle.
 */
int ksync_queue_fd(ksync_queue_t *q);

/* Adopt an fd received from elsewhere; the handle holds a dup of it. */
int ksync_queue_from_fd(ksync_queue_t **out, int fd);

/* Close the handle; if it was the last fd of a sender open file, the input
 * ends (see ksync_queue_shutdown). */
int ksync_queue_close(ksync_queue_t *q);

/*
 * Events (version KSYNC_0.4): a flag that processes wait for, as Win32's
 * CreateEvent and Go's ctx.Done(), with a name, a mode and an fd like the
 * other objects.  A manual event, once set, lets every waiter and every
 * later wait pass until it is reset; an auto event (KSYNC_EVENT_AUTO) lets
 * exactly one wait pass per set: that wait takes the set state with it,
 * so a set with sleepers wakes one and leaves the event clear.  Sleepers
 * pass in the order they came (FIFO).  Calls that find the event as they
 * want it make no system call: ksync_event_is_set(), a wait on a set
 * manual event, and, while nobody sleeps or polls, ksync_event_set(),
 * ksync_event_reset() and an auto event's wait that finds it set.
 */

/* Open flag: on creation, an auto-reset event (fixed for its life). */
#define KSYNC_EVENT_AUTO 0x100

/*
 * Open the event called name or, with a NULL name, create an anonymous
 * one.  flags: KSYNC_CREATE, KSYNC_EXCL, KSYNC_EVENT_AUTO.  set (0 or 1,
 * else -EINVAL: the state it starts in), KSYNC_EVENT_AUTO and mode matter
 * only when the call creates the event: opening an existing one with
 * another KSYNC_EVENT_AUTO leaves it as it is (ksync_event_auto() tells).
 * Opening another type's name is -EPROTOTYPE.
 */
int ksync_event_open(ksync_event_t **out, const char *name, int flags, mode_t mode, int set);

/*
 * Set the event.  A manual event lets every sleeper and every later wait
 * pass until ksync_event_reset(); an auto event lets exactly one wait
 * pass, the longest asleep, or, with none asleep, the next to come.
 * Setting a set event changes nothing (sets do not count up).
 */
int ksync_event_set(ksync_event_t *e);

/* Clear the event: waits sleep again until the next set. */
int ksync_event_reset(ksync_event_t *e);

/*
 * Return 0 once the event is set (an auto event's wait takes the set
 * state), sleeping in FIFO order until deadline (absolute
 * CLOCK_MONOTONIC; NULL waits forever; one already past tries once).
 * -ETIMEDOUT when the deadline passes, -EINTR when a signal handler runs;
 * a stop and continue does not end the wait.  A set that comes as the
 * deadline passes or a handler runs wins: the wait returns 0 and has
 * taken it.  A waiter killed as an auto event's set reaches it passes the
 * set on to the next.
 */
int ksync_event_wait(ksync_event_t *e, const struct timespec *deadline);

/* 1 if the event is set now (a wait would pass at once), else 0. */
int ksync_event_is_set(ksync_event_t *e);

/* 1 if the event was made with KSYNC_EVENT_AUTO, else 0. */
int ksync_event_auto(ksync_event_t *e);

/* What the kernel counted for one event (all its users together). */
struct ksync_event_stats {
	unsigned int set; /* 1 while set */
	unsigned int auto_reset; /* 1 if made with KSYNC_EVENT_AUTO */
	unsigned int waiters; /* tasks asleep now */
	unsigned int pad;
	unsigned long long wait_calls; /* entries into the kernel to wait */
	unsigned long long set_calls; /* entries into the kernel to set */
	unsigned long long reset_calls; /* entries into the kernel to reset */
	unsigned long long woken; /* sleepers a set let pass */
};

int ksync_event_stats(ksync_event_t *e, struct ksync_event_stats *st);

/*
 * The object fd, for poll/epoll (EPOLLIN while set: while a wait would
 * pass at once; an auto event whose set went to a sleeper is not set) and
 * SCM_RIGHTS; it stays owned by the handle.  While a poll or an epoll set
 * watches the fd, sets and resets go through the kernel, so that it hears
 * of each.
 */
int ksync_event_fd(ksync_event_t *e);

/* Adopt an fd received from elsewhere; the handle holds a dup of it. */
int ksync_event_from_fd(ksync_event_t **out, int fd);

/* Close the handle; the event keeps its state. */
int ksync_event_close(ksync_event_t *e);

/* Remove a name; the object lives on while an fd to it is open. */
int ksync_unlink(const char *name);

/* now + ms on CLOCK_MONOTONIC, for the deadline arguments. */
struct timespec ksync_deadline_ms(long ms);

/*
 * Looking at objects from outside, as `ksync ls` and `ksync info` do
 * (version KSYNC_0.2 of the library).  Each result struct starts with its
 * size, which the caller sets to sizeof the struct it knows before the
 * call; the library fills what both know and zeroes the rest, so that a
 * program built against another version of this header works with this
 * library.  A size smaller than the struct's first version is -EINVAL.
 */

/* Object types (the module's numbers). */
#define KSYNC_TYPE_SEM 1
#define KSYNC_TYPE_BARRIER 2
#define KSYNC_TYPE_QUEUE 3
#define KSYNC_TYPE_EVENT 4 /* KSYNC_0.4 */

/* One named object of the caller's IPC namespace, as it was a moment ago. */
struct ksync_object {
	unsigned int size; /* in: sizeof(struct ksync_object) */
	unsigned int type; /* KSYNC_TYPE_*: a type this library does not know is listed too */
	unsigned long long id; /* the object's id in its namespace */
	unsigned int uid; /* owner, in the caller's user namespace */
	unsigned int gid;
	unsigned int mode;
	unsigned int handles; /* open file descriptions */
	union {
		struct {
			unsigned int value; /* permits free now */
			unsigned int waiters; /* tasks asleep in acquire */
			unsigned int max; /* the most it may hold (KSYNC_0.3) */
		} sem;
		struct {
			unsigned int parties;
			unsigned int waiting; /* arrived in this round */
			unsigned int generation; /* round number, mod 2^32 */
			unsigned int broken; /* 1 while broken */
		} barrier;
		struct {
			unsigned int capacity;
			unsigned int msg_size;
			unsigned int length; /* messages queued (or being sent) */
			unsigned int sleepers; /* senders and receivers asleep */
			unsigned int shutdown; /* 1 once shut down */
			unsigned int broken; /* 1 if the ring was found corrupt */
			unsigned int eof; /* 1 while no sender holds it, since one did */
			unsigned int noeof; /* 1 if created with KSYNC_QUEUE_NOEOF */
		} queue;
		struct {
			unsigned int set; /* 1 while set */
			unsigned int waiters; /* tasks asleep in a wait */
			unsigned int auto_reset; /* 1 if made with KSYNC_EVENT_AUTO */
		} event; /* KSYNC_0.4 */
	};
	char name[264]; /* "/name", NUL-terminated */
	/* KSYNC_0.3 (a caller's smaller struct ends before; 0 from an older module) */
	unsigned long long ctime_ns; /* created: CLOCK_REALTIME, ns since the epoch */
	unsigned int creator_pid; /* in the caller's pid namespace; 0 if not in it */
	unsigned int pad;
};

typedef struct ksync_list ksync_list_t;

/*
 * Walk the named objects the caller may see (owns, may read, or sees with
 * CAP_IPC_OWNER), in the order of their ids: ksync_list_next() fills *o
 * and returns 1, or returns 0 at the end.  An object created or removed
 * during the walk may or may not appear; any other appears once.
 */
int ksync_list_open(ksync_list_t **out);
int ksync_list_next(ksync_list_t *l, struct ksync_object *o);
int ksync_list_close(ksync_list_t *l);

/* The object called name, as the walk would show it; -ENOENT if none. */
int ksync_lookup(const char *name, struct ksync_object *o);

/*
 * What the kernel counted for the object o (from the walk or a lookup),
 * and what its users counted on its shared page: the uncontended
 * operations, which the kernel never sees.  Needs the right to open it
 * (-EACCES).
 */
struct ksync_counters {
	unsigned int size; /* in: sizeof(struct ksync_counters) */
	unsigned int type; /* KSYNC_TYPE_* */
	unsigned int fast_valid; /* 1 if the page could be read: the fast counts are valid */
	unsigned int pad;
	union {
		struct {
			struct ksync_sem_stats kernel;
			unsigned long long fast_acquires; /* on the page alone */
			unsigned long long fast_releases;
		} sem;
		struct {
			struct ksync_barrier_stats kernel;
			unsigned long long fast_arrivals; /* on the page alone */
		} barrier;
		struct {
			struct ksync_queue_stats kernel;
			unsigned long long sent; /* messages sent in all, ring and kernel */
			unsigned long long received; /* and received */
		} queue;
		struct {
			struct ksync_event_stats kernel;
			unsigned long long fast_sets; /* on the page alone */
			unsigned long long fast_resets;
			unsigned long long fast_waits; /* waits that passed on the page alone */
		} event; /* KSYNC_0.4 */
	};
};

int ksync_counters(const struct ksync_object *o, struct ksync_counters *c);

/* What a task does with an object (struct ksync_task.what). */
#define KSYNC_WHO_HOLDS 1 /* holds count permits of a semaphore (UNDO) */
#define KSYNC_WHO_ACQUIRES 2 /* asleep in an acquire of count permits */
#define KSYNC_WHO_WAITS 3 /* asleep at a barrier */
#define KSYNC_WHO_SENDS 4 /* asleep in a queue send */
#define KSYNC_WHO_RECEIVES 5 /* asleep in a queue receive */
#define KSYNC_WHO_EVENT_WAITS 6 /* asleep until an event is set (KSYNC_0.4) */

struct ksync_task {
	unsigned int size; /* in: sizeof(struct ksync_task), in tasks[0] */
	unsigned int what; /* KSYNC_WHO_* */
	unsigned int pid; /* its process; 0 if not the caller's to see */
	unsigned int tid; /* the sleeping thread; 0 for HOLDS */
	unsigned int count; /* permits held or asked for, else 1 */
	unsigned int pad;
	unsigned long long waited_ns; /* asleep this long so far; 0 for HOLDS */
};

/*
 * Who holds the object o and who waits on it: fills up to count (at most
 * 4096) entries of tasks, tasks[0].size bytes apart (each gets that
 * size), and returns how many there are in all (more than count: the rest
 * were left out).  Pids are those of the caller's pid namespace.  Needs
 * the right to open the object (-EACCES).
 */
int ksync_who(const struct ksync_object *o, struct ksync_task *tasks, unsigned int count);

/*
 * The module's limits and what one user holds of them, as `ipcs -l` and
 * `lsipc` show them (version KSYNC_0.3).  Sizes as struct ksync_object's.
 */
struct ksync_limits {
	unsigned int size; /* in: sizeof(struct ksync_limits) */
	unsigned int uid; /* whose usage user_objects and user_bytes are */
	unsigned long long max_objects; /* alive at once, all users together */
	unsigned long long objects; /* alive now, all users together */
	unsigned long long max_objects_per_user; /* -EDQUOT past it */
	unsigned long long max_bytes_per_user; /* -EDQUOT past it */
	unsigned long long max_queue_bytes; /* one queue's ring: -EFBIG past it */
	unsigned long long user_objects; /* uid's objects, now */
	unsigned long long user_bytes; /* the memory they hold, in whole pages */
};

/* ksync_limits()'s uid: the caller's effective uid. */
#define KSYNC_SELF ((uid_t)-1)

/*
 * Fill *l with the limits and uid's usage (uid of the caller's user
 * namespace, or KSYNC_SELF).  Another user's usage needs CAP_SYS_ADMIN
 * (-EPERM); -EINVAL for a uid not mapped in the caller's namespace.
 */
int ksync_limits(uid_t uid, struct ksync_limits *l);

/* One user's usage (ksync_usage()). */
struct ksync_usage {
	unsigned int size; /* in: sizeof(struct ksync_usage), in users[0] */
	unsigned int uid;
	unsigned long long objects;
	unsigned long long bytes; /* in whole pages, as charged */
};

/*
 * Every user who holds objects now, in the order of their uids on the
 * machine (a user namespace that maps them out of order shows them so): fills up
 * to count entries of users, users[0].size bytes apart, and returns how
 * many there are in all (more than count: the rest were left out).
 * Needs CAP_SYS_ADMIN (-EPERM).  A user's objects count for it and for
 * the owner of each user namespace it lives in (max_objects_per_user).
 */
int ksync_usage(struct ksync_usage *users, unsigned int count);

/*
 * Go's select across processes: wait until one of count operations can
 * complete, complete exactly that one, and leave every other untouched
 * (no permit taken, no message sent or received, no auto event's set
 * state taken).  Returns the index of the one that completed, its outcome
 * in ops[index].result (0; a RECV's length; -EPIPE for a SEND on a queue
 * that was shut down or a RECV on one whose input ended and that is
 * drained).  When several can complete at
 * once the lowest index wins (Go picks at random).  Each operation keeps
 * its place in its object's order while it waits.  An operation that can
 * complete at once completes without a system call, as the single calls
 * do, unless one before it can only be decided by the module (an FD).
 * -ETIMEDOUT at the deadline (absolute CLOCK_MONOTONIC; NULL: none),
 * -EINTR when a handler ran, -EINVAL for count 0 or above KSYNC_WAIT_MAX,
 * an object named twice or a bad operation; nothing completed then.
 * Version KSYNC_0.4; ksync_wait_any(3).
 */
#define KSYNC_OP_ACQUIRE 0 /* sem, n permits */
#define KSYNC_OP_SEND 1 /* queue, the message at buf, len bytes */
#define KSYNC_OP_RECV 2 /* queue, into buf, len bytes of room */
#define KSYNC_OP_EVENT 3 /* event: set (an auto event's set state is taken) */
#define KSYNC_OP_FD 4 /* fd readable: a pidfd, eventfd, timerfd, socket */
#define KSYNC_WAIT_MAX 64

struct ksync_op {
	int kind; /* KSYNC_OP_* */
	union {
		ksync_sem_t *sem;
		ksync_queue_t *queue;
		ksync_event_t *event;
		int fd;
	};
	unsigned int n; /* ACQUIRE: permits */
	void *buf; /* SEND: the message; RECV: the buffer */
	size_t len; /* SEND: its length; RECV: the buffer's size */
	ssize_t result; /* out, for the op that completed */
};

int ksync_wait_any(struct ksync_op *ops, unsigned int count, const struct timespec *deadline);

#ifdef __cplusplus
}
#endif

#endif /* KSYNC_H */
