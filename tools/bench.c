// SPDX-License-Identifier: GPL-2.0
/*
 * bench: ksync semaphores against what users would otherwise pick, in one
 * run on one machine: glibc sem_t (process-shared), SysV semop, eventfd
 * with EFD_SEMAPHORE, a pipe used as a token pool, and ksync with
 * KSYNC_UNDO.  Three cases:
 *
 *   uncontended  acquire+release pairs in one process, ns per pair
 *   ping-pong    two processes hand a token back and forth through two
 *                semaphores, round trips per second
 *   contended    4 processes share 2 permits, acquire+release pairs per s
 *
 * Absolute numbers depend on the machine (and mean little under
 * emulation); the ratios against glibc sem_t are the result.
 */
#include <errno.h>
#include <fcntl.h>
#include <semaphore.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/eventfd.h>
#include <sys/ipc.h>
#include <sys/mman.h>
#include <sys/sem.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <ksync.h>

/* One semaphore of some kind, usable from any process after fork. */
struct bsem {
	int kind;
	ksync_sem_t *k;
	sem_t *p;
	int sysv;
	int efd;
	int pipefd[2];
};

enum { KSYNC, KSYNC_UNDO_, GLIBC, SYSV, EVENTFD, PIPE, NKINDS };
static const char *const names[NKINDS] = {
	"ksync", "ksync UNDO", "glibc sem_t", "SysV semop", "eventfd", "pipe",
};

static void die(const char *what, int err)
{
	fprintf(stderr, "bench: %s: %s\n", what, strerror(err));
	exit(1);
}

static void bsem_init(struct bsem *b, int kind, unsigned int value)
{
	unsigned int i;
	int ret;

	memset(b, 0, sizeof(*b));
	b->kind = kind;
	switch (kind) {
	case KSYNC:
	case KSYNC_UNDO_:
		ret = ksync_sem_open(&b->k, NULL, kind == KSYNC_UNDO_ ? KSYNC_UNDO : 0, 0600,
				     value);
		if (ret)
			die("ksync_sem_open", -ret);
		break;
	case GLIBC:
		b->p = mmap(NULL, sizeof(sem_t), PROT_READ | PROT_WRITE, MAP_SHARED | MAP_ANONYMOUS,
			    -1, 0);
		if (b->p == MAP_FAILED || sem_init(b->p, 1, value))
			die("sem_init", errno);
		break;
	case SYSV:
		b->sysv = semget(IPC_PRIVATE, 1, 0600);
		if (b->sysv < 0 || semctl(b->sysv, 0, SETVAL, (int)value) < 0)
			die("semget", errno);
		break;
	case EVENTFD:
		b->efd = eventfd(value, EFD_SEMAPHORE);
		if (b->efd < 0)
			die("eventfd", errno);
		break;
	case PIPE:
		if (pipe(b->pipefd))
			die("pipe", errno);
		for (i = 0; i < value; i++)
			if (write(b->pipefd[1], "t", 1) != 1)
				die("pipe write", errno);
		break;
	}
}

static void bsem_destroy(struct bsem *b)
{
	switch (b->kind) {
	case KSYNC:
	case KSYNC_UNDO_:
		ksync_sem_close(b->k);
		break;
	case GLIBC:
		sem_destroy(b->p);
		munmap(b->p, sizeof(sem_t));
		break;
	case SYSV:
		semctl(b->sysv, 0, IPC_RMID);
		break;
	case EVENTFD:
		close(b->efd);
		break;
	case PIPE:
		close(b->pipefd[0]);
		close(b->pipefd[1]);
		break;
	}
}

static void down(struct bsem *b)
{
	struct sembuf op = { 0, -1, 0 };
	uint64_t v;
	char c;
	int ret = 0;

	switch (b->kind) {
	case KSYNC:
	case KSYNC_UNDO_:
		ret = ksync_sem_acquire(b->k, 1, NULL);
		break;
	case GLIBC:
		while (sem_wait(b->p) && errno == EINTR)
			;
		break;
	case SYSV:
		ret = semop(b->sysv, &op, 1);
		break;
	case EVENTFD:
		ret = read(b->efd, &v, 8) == 8 ? 0 : -1;
		break;
	case PIPE:
		ret = read(b->pipefd[0], &c, 1) == 1 ? 0 : -1;
		break;
	}
	if (ret)
		die("acquire", ret < -1 ? -ret : errno);
}

static void up(struct bsem *b)
{
	struct sembuf op = { 0, 1, 0 };
	uint64_t one = 1;
	int ret = 0;

	switch (b->kind) {
	case KSYNC:
	case KSYNC_UNDO_:
		ret = ksync_sem_release(b->k, 1);
		break;
	case GLIBC:
		ret = sem_post(b->p);
		break;
	case SYSV:
		ret = semop(b->sysv, &op, 1);
		break;
	case EVENTFD:
		ret = write(b->efd, &one, 8) == 8 ? 0 : -1;
		break;
	case PIPE:
		ret = write(b->pipefd[1], "t", 1) == 1 ? 0 : -1;
		break;
	}
	if (ret)
		die("release", ret < -1 ? -ret : errno);
}

static double now_s(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static int wait_all(int n)
{
	int status, bad = 0;

	while (n--)
		if (wait(&status) < 0 || !WIFEXITED(status) || WEXITSTATUS(status))
			bad++;
	return bad;
}

/* ns per acquire+release pair, best of three runs */
static double uncontended(int kind, long iters)
{
	double best = 1e30;
	struct bsem b;
	int run;

	bsem_init(&b, kind, 1);
	for (run = 0; run < 3; run++) {
		double t0 = now_s(), t;
		long i;

		for (i = 0; i < iters; i++) {
			down(&b);
			up(&b);
		}
		t = (now_s() - t0) * 1e9 / (double)iters;
		if (t < best)
			best = t;
	}
	bsem_destroy(&b);
	return best;
}

/* round trips per second between two processes */
static double pingpong(int kind, long trips)
{
	struct bsem ping, pong;
	double t0, t;
	long i;
	pid_t pid;

	bsem_init(&ping, kind, 0);
	bsem_init(&pong, kind, 0);
	pid = fork();
	if (pid < 0)
		die("fork", errno);
	if (pid == 0) {
		for (i = 0; i < trips; i++) {
			down(&ping);
			up(&pong);
		}
		_exit(0);
	}
	t0 = now_s();
	for (i = 0; i < trips; i++) {
		up(&ping);
		down(&pong);
	}
	t = now_s() - t0;
	if (wait_all(1))
		die("ping-pong child", EIO);
	bsem_destroy(&ping);
	bsem_destroy(&pong);
	return (double)trips / t;
}

/* pairs per second, 4 processes sharing 2 permits for a fixed time */
static double contended(int kind, double seconds)
{
	long *counts = mmap(NULL, 4096, PROT_READ | PROT_WRITE, MAP_SHARED | MAP_ANONYMOUS, -1, 0);
	double total = 0, t0;
	struct bsem b;
	int p;

	bsem_init(&b, kind, 2);
	t0 = now_s();
	for (p = 0; p < 4; p++) {
		pid_t pid = fork();

		if (pid < 0)
			die("fork", errno);
		if (pid == 0) {
			long n = 0;

			while (now_s() - t0 < seconds) {
				down(&b);
				n++;
				up(&b);
			}
			counts[p] = n;
			_exit(0);
		}
	}
	if (wait_all(4))
		die("contended child", EIO);
	for (p = 0; p < 4; p++)
		total += (double)counts[p];
	bsem_destroy(&b);
	munmap(counts, 4096);
	return total / (now_s() - t0);
}

int main(int argc, char **argv)
{
	double scale = argc > 1 ? atof(argv[1]) : 1.0;
	double un[NKINDS], pp[NKINDS], ct[NKINDS];
	int k;

	if (scale <= 0)
		scale = 1.0;
	printf("ksync bench (scale %.2f): one run, same machine, ratios against glibc sem_t\n\n",
	       scale);
	for (k = 0; k < NKINDS; k++) {
		long iters = (long)((k == KSYNC || k == GLIBC ? 1000000 : 50000) * scale);

		un[k] = uncontended(k, iters > 0 ? iters : 1);
		pp[k] = pingpong(k, (long)(20000 * scale) + 1);
		ct[k] = contended(k, 2.0 * scale);
	}
	printf("%-12s %14s %8s %16s %8s %16s %8s\n", "", "uncontended", "", "ping-pong", "",
	       "contended 4/2", "");
	printf("%-12s %14s %8s %16s %8s %16s %8s\n", "facility", "ns/pair", "x glibc",
	       "round trips/s", "x glibc", "pairs/s", "x glibc");
	for (k = 0; k < NKINDS; k++)
		printf("%-12s %14.1f %8.2f %16.0f %8.2f %16.0f %8.2f\n", names[k], un[k],
		       un[k] / un[GLIBC], pp[k], pp[GLIBC] / pp[k], ct[k], ct[GLIBC] / ct[k]);
	printf("\n\"x glibc\" is cost relative to glibc sem_t: below 1 is faster.\n");
	printf("ksync uncontended vs SysV: %.1fx faster, vs eventfd: %.1fx faster\n",
	       un[SYSV] / un[KSYNC], un[EVENTFD] / un[KSYNC]);
	return 0;
}
