// SPDX-License-Identifier: GPL-2.0
/*
 * bench_names: does finding a name cost the same with 10 names as with
 * 100,000?  The registry is a seeded, resizable hash table; this measures
 * it, against glibc's sem_open (a file in /dev/shm, found through the
 * dentry cache) at the same counts, in the same run.
 *
 * For each count N the table is grown to N ksync names and N sem_open
 * names, then it times:
 *   open    KSYNC_IOC_OPEN of an existing name at random, and close
 *   miss    KSYNC_IOC_OPEN of a name that does not exist (-ENOENT)
 *   sem_open  sem_open + sem_close of an existing name at random
 * and prints ns per call and the ratio to N = 10.  Needs root (it raises
 * max_objects for the run).  Usage: bench_names [SCALE] [MAX_NAMES]
 */
#include <errno.h>
#include <fcntl.h>
#include <semaphore.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <time.h>
#include <unistd.h>

#include <linux/ksync.h>

#define PARAM "/sys/module/ksync/parameters/max_objects"

static int dev;

static double now_s(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static void name_of(char *buf, size_t len, const char *kind, long i)
{
	snprintf(buf, len, "/bench-%s-%d-%ld", kind, (int)getpid(), i);
}

/* An fd for the name, created if asked; -errno on failure. */
static int kopen(const char *name, int create)
{
	struct ksync_open_args a = {
		.size = sizeof(a),
		.type = KSYNC_TYPE_SEM,
		.flags = KSYNC_OPEN_CLOEXEC | (create ? KSYNC_OPEN_CREATE | KSYNC_OPEN_EXCL : 0),
		.mode = 0600,
		.name = (uintptr_t)name,
	};
	int fd = ioctl(dev, KSYNC_IOC_OPEN, &a);

	return fd < 0 ? -errno : fd;
}

static void grow(long from, long to)
{
	char name[64];

	for (long i = from; i < to; i++) {
		int fd;
		sem_t *s;

		name_of(name, sizeof(name), "k", i);
		fd = kopen(name, 1);
		if (fd < 0) {
			fprintf(stderr, "bench_names: create %s: %s\n", name, strerror(-fd));
			exit(1);
		}
		close(fd);
		name_of(name, sizeof(name), "p", i);
		s = sem_open(name, O_CREAT | O_EXCL, 0600, 0);
		if (s == SEM_FAILED) {
			fprintf(stderr, "bench_names: sem_open %s: %s\n", name, strerror(errno));
			exit(1);
		}
		sem_close(s);
	}
}

static void cleanup(long n)
{
	struct ksync_unlink_args u = { .size = sizeof(u) };
	char name[64];

	for (long i = 0; i < n; i++) {
		name_of(name, sizeof(name), "k", i);
		u.name = (uintptr_t)name;
		ioctl(dev, KSYNC_IOC_UNLINK, &u);
		name_of(name, sizeof(name), "p", i);
		sem_unlink(name);
	}
}

/* Each case: ns per call over iters calls on random names below n. */
static double time_open(long n, long iters, int kind)
{
	char name[64];
	double t0 = now_s();

	for (long i = 0; i < iters; i++) {
		long pick = random() % n;

		if (kind == 0) {
			name_of(name, sizeof(name), "k", pick);
			int fd = kopen(name, 0);

			if (fd < 0)
				exit(2);
			close(fd);
		} else if (kind == 1) {
			name_of(name, sizeof(name), "missing", pick);
			if (kopen(name, 0) != -ENOENT)
				exit(3);
		} else {
			sem_t *s;

			name_of(name, sizeof(name), "p", pick);
			s = sem_open(name, 0);
			if (s == SEM_FAILED)
				exit(4);
			sem_close(s);
		}
	}
	return (now_s() - t0) * 1e9 / (double)iters;
}

int main(int argc, char **argv)
{
	double scale = argc > 1 ? atof(argv[1]) : 1.0;
	long max = argc > 2 ? atol(argv[2]) : 100000;
	long counts[] = { 10, 100, 1000, 10000, 100000 };
	double base[3] = { 0 };
	long have = 0;
	char old[32] = "65536", v[32];
	FILE *f;

	if (scale <= 0)
		scale = 1.0;
	dev = open("/dev/ksync", O_RDWR | O_CLOEXEC);
	if (dev < 0) {
		perror("bench_names: /dev/ksync");
		return 1;
	}
	f = fopen(PARAM, "r");
	if (f) {
		if (!fgets(old, sizeof(old), f))
			snprintf(old, sizeof(old), "65536");
		fclose(f);
	}
	f = fopen(PARAM, "w");
	if (f) {
		fprintf(f, "%ld\n", 2 * max + 1000);
		fclose(f);
	}
	srandom(1);
	printf("\nname lookup against the number of names (ns per call; x = ratio to 10 names)\n");
	printf("%8s %10s %6s %10s %6s %10s %6s\n", "names", "ksync open", "x", "ksync miss", "x",
	       "sem_open", "x");
	for (unsigned int c = 0; c < sizeof(counts) / sizeof(counts[0]) && counts[c] <= max; c++) {
		long iters = (long)(20000 * scale) + 1;
		double t[3];

		grow(have, counts[c]);
		have = counts[c];
		for (int k = 0; k < 3; k++) {
			t[k] = time_open(have, iters, k);
			if (!base[k])
				base[k] = t[k];
		}
		printf("%8ld %10.0f %6.2f %10.0f %6.2f %10.0f %6.2f\n", have, t[0], t[0] / base[0],
		       t[1], t[1] / base[1], t[2], t[2] / base[2]);
		fflush(stdout);
	}
	cleanup(have);
	snprintf(v, sizeof(v), "%s", old);
	f = fopen(PARAM, "w");
	if (f) {
		fputs(v, f);
		fclose(f);
	}
	return 0;
}
