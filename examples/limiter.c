// SPDX-License-Identifier: MIT
/*
 * limiter [PROCS [LIMIT]]: many processes call an expensive resource, at
 * most LIMIT at a time, each call with its own deadline.
 *
 * Go's version is a weighted semaphore and a context with a timeout:
 *
 *	ctx, cancel := context.WithTimeout(ctx, 200*time.Millisecond)
 *	if err := sem.Acquire(ctx, 1); err != nil { ... gave up ... }
 *	defer sem.Release(1)
 *
 * Here the processes are unrelated except for the semaphore's name, and
 * the permits are taken with KSYNC_UNDO: a caller that dies inside the
 * resource gives its permit back.  The "resource" counts its callers in
 * shared memory, so that we can check that the limit held.
 *
 * First, while the parent holds every permit, one call must give up at its
 * deadline; then PROCS processes make CALLS calls each.  It prints
 *
 *	limit 3: most at once 3; 96 of 96 calls served, 0 gave up; deadline kept: yes
 *
 * and fails if the limit was ever passed or a call was lost.
 */
#include <errno.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <ksync.h>

#define NAME "/example-limiter"
#define CALLS 12
#define DEADLINE_MS 10000 /* per call: generous, the guest may be slow */

/* What the resource sees, in memory every process shares. */
struct resource {
	atomic_int inside; /* callers in it now */
	atomic_int most; /* the most ever in it at once */
	atomic_int served;
	atomic_int gave_up;
};

static long long now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec * 1000LL + ts.tv_nsec / 1000000;
}

/* The expensive call: count ourselves in, take a little time, leave. */
static void use(struct resource *r)
{
	struct timespec pause = { 0, 2 * 1000 * 1000 };
	int now = atomic_fetch_add(&r->inside, 1) + 1;
	int most = atomic_load(&r->most);

	while (now > most && !atomic_compare_exchange_weak(&r->most, &most, now))
		;
	nanosleep(&pause, NULL);
	atomic_fetch_sub(&r->inside, 1);
	atomic_fetch_add(&r->served, 1);
}

/* One call through the limiter, giving up at its deadline. */
static int call(ksync_sem_t *sem, struct resource *r, long deadline_ms)
{
	struct timespec deadline = ksync_deadline_ms(deadline_ms);
	int ret = ksync_sem_acquire(sem, 1, &deadline);

	if (ret == -ETIMEDOUT) {
		atomic_fetch_add(&r->gave_up, 1);
		return ret;
	}
	if (ret < 0)
		return ret;
	use(r);
	return ksync_sem_release(sem, 1);
}

static int caller(struct resource *r)
{
	ksync_sem_t *sem;
	int ret;

	/* by name, as an unrelated process would */
	ret = ksync_sem_open(&sem, NAME, KSYNC_UNDO, 0, 0);
	for (int i = 0; ret == 0 && i < CALLS; i++)
		ret = call(sem, r, DEADLINE_MS);
	if (ret < 0 && ret != -ETIMEDOUT)
		fprintf(stderr, "caller %d: %s\n", (int)getpid(), strerror(-ret));
	ksync_sem_close(sem);
	return ret < 0 && ret != -ETIMEDOUT;
}

int main(int argc, char **argv)
{
	int procs = argc > 1 ? atoi(argv[1]) : 8;
	int limit = argc > 2 ? atoi(argv[2]) : 3;
	int failed = 0, calls, kept;
	struct resource *r;
	long long start;
	ksync_sem_t *sem;
	int ret;

	if (procs < 1 || limit < 1) {
		fprintf(stderr, "usage: limiter [PROCS [LIMIT]]\n");
		return 2;
	}
	r = mmap(NULL, sizeof(*r), PROT_READ | PROT_WRITE, MAP_SHARED | MAP_ANONYMOUS, -1, 0);
	if (r == MAP_FAILED)
		return 1;
	ksync_unlink(NAME);
	ret = ksync_sem_open(&sem, NAME, KSYNC_CREATE | KSYNC_EXCL, 0600, (unsigned int)limit);
	if (ret < 0) {
		fprintf(stderr, "ksync_sem_open: %s%s\n", strerror(-ret),
			ret == -ENOENT ? " (is the ksync module loaded?)" : "");
		return 1;
	}

	/* every permit taken: a call with a 100 ms deadline gives up at it */
	ksync_sem_acquire(sem, (unsigned int)limit, NULL);
	start = now_ms();
	kept = call(sem, r, 100) == -ETIMEDOUT && now_ms() - start >= 100;
	ksync_sem_release(sem, (unsigned int)limit);
	atomic_store(&r->gave_up, 0);

	for (int i = 0; i < procs; i++) {
		pid_t pid = fork();

		if (pid == 0)
			_exit(caller(r));
		if (pid < 0)
			return 1;
	}
	for (int i = 0; i < procs; i++) {
		int status;

		if (wait(&status) < 0 || !WIFEXITED(status) || WEXITSTATUS(status))
			failed++;
	}
	calls = atomic_load(&r->served) + atomic_load(&r->gave_up);
	printf("limit %d: most at once %d; %d of %d calls served, %d gave up; deadline kept: %s\n",
	       limit, atomic_load(&r->most), atomic_load(&r->served), procs * CALLS,
	       atomic_load(&r->gave_up), kept ? "yes" : "no");
	ret = ksync_sem_value(sem);
	ksync_sem_close(sem);
	ksync_unlink(NAME);
	return failed || !kept || atomic_load(&r->most) > limit || calls != procs * CALLS ||
	       ret != limit;
}
