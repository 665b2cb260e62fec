// SPDX-License-Identifier: MIT
/*
 * workers N K: N processes share K permits of one named semaphore.
 *
 * Each worker takes a permit, does a little "work", and gives it back,
 * several times.  A counter in shared memory tracks how many are inside;
 * the program prints the most it ever saw and fails if that exceeds K.
 *
 *   $ workers 8 3
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

#define ROUNDS 20

struct shared {
	atomic_int inside;
	atomic_int most;
};

static void work(void)
{
	struct timespec ts = { 0, 2 * 1000 * 1000 };

	nanosleep(&ts, NULL);
}

static int worker(int id, struct shared *sh, int k)
{
	ksync_sem_t *sem;
	int ret, i;

	/* children open the name themselves, as unrelated processes would */
	ret = ksync_sem_open(&sem, "/workers-demo", 0, 0, 0);
	if (ret < 0) {
		fprintf(stderr, "worker %d: open: %s\n", id, strerror(-ret));
		return 1;
	}
	for (i = 0; i < ROUNDS; i++) {
		struct timespec deadline = ksync_deadline_ms(10000);
		int now, most;

		ret = ksync_sem_acquire(sem, 1, &deadline);
		if (ret < 0) {
			fprintf(stderr, "worker %d: acquire: %s\n", id, strerror(-ret));
			return 1;
		}
		now = atomic_fetch_add(&sh->inside, 1) + 1;
		most = atomic_load(&sh->most);
		while (now > most && !atomic_compare_exchange_weak(&sh->most, &most, now))
			;
		if (now > k)
			fprintf(stderr, "worker %d: %d inside, limit %d!\n", id, now, k);
		work();
		atomic_fetch_sub(&sh->inside, 1);
		ksync_sem_release(sem, 1);
	}
	ksync_sem_close(sem);
	return 0;
}

int main(int argc, char **argv)
{
	int n = argc > 1 ? atoi(argv[1]) : 8;
	int k = argc > 2 ? atoi(argv[2]) : 3;
	struct shared *sh;
	ksync_sem_t *sem;
	int i, ret, failed = 0;

	if (n < 1 || k < 1) {
		fprintf(stderr, "usage: workers N K (N workers, K permits)\n");
		return 2;
	}
	sh = mmap(NULL, sizeof(*sh), PROT_READ | PROT_WRITE, MAP_SHARED | MAP_ANONYMOUS, -1, 0);
	if (sh == MAP_FAILED)
		return 1;
	atomic_init(&sh->inside, 0);
	atomic_init(&sh->most, 0);

	ksync_unlink("/workers-demo");
	ret = ksync_sem_open(&sem, "/workers-demo", KSYNC_CREATE | KSYNC_EXCL, 0600,
			     (unsigned int)k);
	if (ret < 0) {
		fprintf(stderr, "ksync_sem_open: %s%s\n", strerror(-ret),
			ret == -ENOENT ? " (is the ksync module loaded? see README.md)" : "");
		return 1;
	}
	printf("%d workers, %d permits, %d rounds each\n", n, k, ROUNDS);
	for (i = 0; i < n; i++) {
		pid_t pid = fork();

		if (pid == 0)
			_exit(worker(i, sh, k));
		if (pid < 0)
			return 1;
	}
	for (i = 0; i < n; i++) {
		int status;

		if (wait(&status) < 0 || !WIFEXITED(status) || WEXITSTATUS(status))
			failed++;
	}
	printf("most inside at once: %d (limit %d), value now %d, %d workers failed\n",
	       atomic_load(&sh->most), k, ksync_sem_value(sem), failed);
	ksync_sem_close(sem);
	ksync_unlink("/workers-demo");
	return failed || atomic_load(&sh->most) > k ? 1 : 0;
}
