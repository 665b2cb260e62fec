/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * libksync: cross-process counting semaphores on /dev/ksync.
 *
 * Every function returns 0 (or a non-negative value) on success and a
 * negative errno value on failure; none of them sets errno.  Handles are
 * thread-safe: any number of threads may use one handle at once, except
 * that closing it must be the last use.  See ksync(3) and docs/.
 */
#ifndef KSYNC_H
#define KSYNC_H

#include <sys/types.h>
#include <time.h>

#ifdef __cplusplus
extern "C" {
#endif

typedef struct ksync_sem ksync_sem_t;

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

/* Remove a name; the object lives on while an fd to it is open. */
int ksync_unlink(const char *name);

/* now + ms on CLOCK_MONOTONIC, for the deadline arguments. */
struct timespec ksync_deadline_ms(long ms);

#ifdef __cplusplus
}
#endif

#endif /* KSYNC_H */
