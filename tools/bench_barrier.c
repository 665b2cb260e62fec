// SPDX-License-Identifier: GPL-2.0
/*
 * bench_barrier: ksync barriers against pthread_barrier_t
 * (PTHREAD_PROCESS_SHARED, in shared memory), in one run on one machine.
 * P processes go through R rounds; the result is rounds per second (the
 * median of 5 runs, the kinds interleaved), and the ratio of pthread's
 * rounds per second to ksync's (below 1: ksync is faster).  ksync runs with its default (adaptive
 * watching of the word, only when there are no more parties than CPUs) and with watching forced off
 * and on, which is how the default was chosen.  Kernel entries per round come from
 * ksync_barrier_stats().
 */
#include <errno.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <ksync.h>

enum { PTHREAD, KSYNC_DEFAULT, KSYNC_NOSPIN, KSYNC_SPIN, NKINDS };
static const char *const names[NKINDS] = {
	"pthread_barrier_t",
	"ksync",
	"ksync, no watching",
	"ksync, watch 50us",
};

static void die(const char *what, int err)
{
	fprintf(stderr, "bench_barrier: %s: %s\n", what, strerror(err));
	exit(1);
}

static double now_s(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

struct result {
	double rounds_per_s;
	double kernel_per_round; /* ksync: wait calls per round, all parties */
};

static int party(int kind, pthread_barrier_t *pb, ksync_barrier_t *kb, long rounds)
{
	long r;
	int ret;

	if (kind == KSYNC_NOSPIN)
		ksync_barrier_set_spin(kb, 0);
	else if (kind == KSYNC_SPIN)
		ksync_barrier_set_spin(kb, 50000);
	for (r = 0; r < rounds; r++) {
		if (kind == PTHREAD)
			ret = pthread_barrier_wait(pb) == PTHREAD_BARRIER_SERIAL_THREAD ? 1 : 0;
		else
			ret = ksync_barrier_wait(kb, NULL);
		if (ret < 0)
			return 1;
	}
	return 0;
}

static struct result run(int kind, int parties, long rounds)
{
	pthread_barrier_t *pb =
		mmap(NULL, sizeof(*pb), PROT_READ | PROT_WRITE, MAP_SHARED | MAP_ANONYMOUS, -1, 0);
	struct ksync_barrier_stats st;
	struct result res = { 0, 0 };
	pthread_barrierattr_t attr;
	ksync_barrier_t *kb = NULL;
	int i, status, bad = 0;
	double t0;

	if (pb == MAP_FAILED)
		die("mmap", errno);
	pthread_barrierattr_init(&attr);
	pthread_barrierattr_setpshared(&attr, PTHREAD_PROCESS_SHARED);
	if (pthread_barrier_init(pb, &attr, (unsigned int)parties))
		die("pthread_barrier_init", EINVAL);
	i = ksync_barrier_open(&kb, NULL, 0, 0600, (unsigned int)parties);
	if (i)
		die("ksync_barrier_open", -i);
	t0 = now_s();
	for (i = 0; i < parties; i++) {
		pid_t pid = fork();

		if (pid < 0)
			die("fork", errno);
		if (pid == 0)
			_exit(party(kind, pb, kb, rounds));
	}
	for (i = 0; i < parties; i++)
		if (wait(&status) < 0 || !WIFEXITED(status) || WEXITSTATUS(status))
			bad++;
	if (bad)
		die("party", EIO);
	res.rounds_per_s = (double)rounds / (now_s() - t0);
	if (kind != PTHREAD && ksync_barrier_stats(kb, &st) == 0)
		res.kernel_per_round = (double)st.wait_calls / (double)rounds;
	ksync_barrier_close(kb);
	pthread_barrier_destroy(pb);
	munmap(pb, sizeof(*pb));
	return res;
}

#define RUNS 5

static int by_speed(const void *a, const void *b)
{
	double x = ((const struct result *)a)->rounds_per_s;
	double y = ((const struct result *)b)->rounds_per_s;

	return (x > y) - (x < y);
}

int main(int argc, char **argv)
{
	static const int sizes[] = { 2, 4, 16 };
	double scale = argc > 1 ? atof(argv[1]) : 1.0;
	struct result r[3][NKINDS];
	int s, k;

	if (scale <= 0)
		scale = 1.0;
	printf("ksync barrier bench (scale %.2f, %ld CPUs): rounds per second, P processes\n\n",
	       scale, sysconf(_SC_NPROCESSORS_ONLN));
	for (s = 0; s < 3; s++) {
		long rounds = (long)((sizes[s] > 4 ? 1000 : 10000) * scale) + 1;

		/* interleave the kinds, RUNS times, and keep each one's median:
		 * under emulation one run can be 15% off either way */
		struct result runs[NKINDS][RUNS];

		for (int n = 0; n < RUNS; n++)
			for (k = 0; k < NKINDS; k++)
				runs[k][n] = run(k, sizes[s], rounds);
		for (k = 0; k < NKINDS; k++) {
			qsort(runs[k], RUNS, sizeof(runs[k][0]), by_speed);
			r[s][k] = runs[k][RUNS / 2];
		}
	}
	printf("%-20s", "parties");
	for (s = 0; s < 3; s++)
		printf(" %12d %7s %6s", sizes[s], "x pth", "sys/r");
	printf("\n");
	for (k = 0; k < NKINDS; k++) {
		printf("%-20s", names[k]);
		for (s = 0; s < 3; s++)
			printf(" %12.0f %7.2f %6.2f", r[s][k].rounds_per_s,
			       r[s][PTHREAD].rounds_per_s / r[s][k].rounds_per_s,
			       r[s][k].kernel_per_round);
		printf("\n");
	}
	printf("\n\"x pth\" is time per round relative to pthread_barrier_t: below 1 is faster.\n"
	       "\"sys/r\" is ksync's entries into the kernel to wait, per round, all parties.\n");
	return 0;
}
