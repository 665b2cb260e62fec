// SPDX-License-Identifier: MIT
/*
 * phases [PROCS [PHASES]]: work in phases, synchronised by a cyclic barrier.
 *
 * PROCS processes share an array.  In each phase every process sums its
 * own slice into partial[me]; then all wait at the barrier.  The barrier
 * returns 1 to exactly one of them, the serial party (Java's
 * CyclicBarrier runs its barrier action there; in Go one would close a
 * channel or use a sync.WaitGroup per phase): it adds up the partials,
 * records the phase's total, and doubles every element for the next
 * phase.  A second wait keeps the others from starting the next phase
 * before the serial step is done.  The barrier is cyclic: the same one
 * serves every round.
 *
 * It checks each phase's total (the first phase's sum times 2^phase) and
 * that each phase had exactly one serial party.
 */
#include <errno.h>
#include <stdatomic.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/wait.h>
#include <unistd.h>

#include <ksync.h>

#define NAME "/example-phases"
#define SIZE 4096
#define MAX_PROCS 64
#define MAX_PHASES 32

struct work {
	uint64_t data[SIZE];
	uint64_t partial[MAX_PROCS];
	uint64_t total[MAX_PHASES];
	atomic_int serial[MAX_PHASES]; /* serial parties seen per phase */
};

static int party(struct work *w, int me, int procs, int phases)
{
	int lo = SIZE * me / procs, hi = SIZE * (me + 1) / procs;
	ksync_barrier_t *b;
	int ret;

	if (ksync_barrier_open(&b, NAME, 0, 0, 0))
		return 1;
	for (int p = 0; p < phases; p++) {
		struct timespec dl = ksync_deadline_ms(20000);
		uint64_t sum = 0;

		for (int i = lo; i < hi; i++)
			sum += w->data[i];
		w->partial[me] = sum;
		/* everyone's partial is written: one of us does the phase's step */
		ret = ksync_barrier_wait(b, &dl);
		if (ret < 0)
			return 1;
		if (ret == 1) {
			atomic_fetch_add(&w->serial[p], 1);
			for (int i = 0; i < procs; i++)
				w->total[p] += w->partial[i];
			for (int i = 0; i < SIZE; i++)
				w->data[i] *= 2;
		}
		/* the step is done: the next phase may read the data */
		if (ksync_barrier_wait(b, &dl) < 0)
			return 1;
	}
	ksync_barrier_close(b);
	return 0;
}

int main(int argc, char **argv)
{
	int procs = argc > 1 ? atoi(argv[1]) : 4;
	int phases = argc > 2 ? atoi(argv[2]) : 10;
	int status, failed = 0, wrong = 0, ret;
	uint64_t first = 0;
	ksync_barrier_t *b;
	struct work *w;

	if (procs < 1 || procs > MAX_PROCS || phases < 1 || phases > MAX_PHASES) {
		fprintf(stderr, "usage: phases [PROCS (1..%d) [PHASES (1..%d)]]\n", MAX_PROCS,
			MAX_PHASES);
		return 2;
	}
	w = mmap(NULL, sizeof(*w), PROT_READ | PROT_WRITE, MAP_SHARED | MAP_ANONYMOUS, -1, 0);
	if (w == MAP_FAILED)
		return 1;
	for (int i = 0; i < SIZE; i++) {
		w->data[i] = (uint64_t)i + 1;
		first += (uint64_t)i + 1;
	}
	ksync_unlink(NAME);
	ret = ksync_barrier_open(&b, NAME, KSYNC_CREATE | KSYNC_EXCL, 0600, (unsigned int)procs);
	if (ret) {
		fprintf(stderr, "phases: %s%s\n", strerror(-ret),
			ret == -ENOENT ? " (is the ksync module loaded?)" : "");
		return 1;
	}
	for (int i = 0; i < procs; i++)
		if (fork() == 0)
			_exit(party(w, i, procs, phases));
	while (wait(&status) > 0)
		failed += !WIFEXITED(status) || WEXITSTATUS(status);
	for (int p = 0; p < phases; p++)
		wrong += w->total[p] != first << p || atomic_load(&w->serial[p]) != 1;
	printf("%d processes, %d phases: totals %llu .. %llu, %d phases wrong, %d processes "
	       "failed\n",
	       procs, phases, (unsigned long long)w->total[0],
	       (unsigned long long)w->total[phases - 1], wrong, failed);
	ksync_barrier_close(b);
	ksync_unlink(NAME);
	return wrong || failed;
}
