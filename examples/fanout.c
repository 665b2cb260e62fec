// SPDX-License-Identifier: MIT
/*
 * fanout [WORKERS [ITEMS]]: fan-out and fan-in.  One queue of items is
 * shared by WORKERS processes (fan-out: each item goes to exactly one of
 * them, whichever is free); each sends its results into one merged queue
 * (fan-in), which a single reader drains.
 *
 * Go's version:
 *
 *	for w := 0; w < workers; w++ { go func() { for it := range items { merged <- f(it) } }() }
 *
 * Here the items move in batches (ksync_queue_send_batch/recv_batch: one
 * call, and at most one system call, for many messages), and the merged
 * queue keeps each worker's results in the order that worker sent them:
 * the reader checks that, and that every item came back exactly once.
 */
#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/uio.h>
#include <sys/wait.h>
#include <unistd.h>

#include <ksync.h>

#define ITEMS_Q "/example-fanout-items"
#define MERGED_Q "/example-fanout-merged"
#define START "/example-fanout-start"
#define BATCH 8

struct result {
	uint32_t item, worker, seq; /* seq: this worker's count so far */
	uint32_t value;
};

static int worker(uint32_t id)
{
	ksync_queue_t *items, *merged;
	ksync_barrier_t *start;
	uint32_t it[BATCH], seq = 0;
	struct iovec in[BATCH], out[BATCH];
	struct result r[BATCH];
	int n;

	if (ksync_queue_open(&items, ITEMS_Q, 0, 0, 0, 0) ||
	    ksync_queue_open(&merged, MERGED_Q, 0, 0, 0, 0) ||
	    ksync_barrier_open(&start, START, 0, 0, 0))
		return 1;
	/* a sender before anyone can finish: see pool.c */
	if (ksync_queue_join(merged) || ksync_barrier_wait(start, NULL) < 0)
		return 1;
	for (;;) {
		for (int i = 0; i < BATCH; i++)
			in[i] = (struct iovec){ &it[i], sizeof(it[i]) };
		/* waits for one, then takes up to BATCH that are there */
		n = ksync_queue_recv_batch(items, in, BATCH, NULL);
		if (n <= 0)
			return n != -EPIPE;
		for (int i = 0; i < n; i++) {
			r[i] = (struct result){ it[i], id, seq++, it[i] * 3 + 1 };
			out[i] = (struct iovec){ &r[i], sizeof(r[i]) };
		}
		if (ksync_queue_send_batch(merged, out, (unsigned int)n, NULL) != n)
			return 1;
	}
}

int main(int argc, char **argv)
{
	int workers = argc > 1 ? atoi(argv[1]) : 4;
	int nitems = argc > 2 ? atoi(argv[2]) : 2000;
	uint32_t *next_seq, *per_worker, bad = 0, got = 0;
	ksync_queue_t *items, *merged;
	ksync_barrier_t *start;
	unsigned char *seen;
	struct result r;
	int status, failed = 0, ret;
	ssize_t n;

	if (workers < 1 || workers > 1000 || nitems < 1) {
		fprintf(stderr, "usage: fanout [WORKERS [ITEMS]]\n");
		return 2;
	}
	seen = calloc((size_t)nitems, 1);
	next_seq = calloc((size_t)workers, sizeof(*next_seq));
	per_worker = calloc((size_t)workers, sizeof(*per_worker));
	if (!seen || !next_seq || !per_worker)
		return 1;
	ksync_unlink(ITEMS_Q);
	ksync_unlink(MERGED_Q);
	ksync_unlink(START);
	ret = ksync_queue_open(&items, ITEMS_Q, KSYNC_CREATE, 0600, 64, sizeof(uint32_t));
	if (!ret)
		ret = ksync_queue_open(&merged, MERGED_Q, KSYNC_CREATE, 0600, 64, sizeof(r));
	if (!ret)
		ret = ksync_barrier_open(&start, START, KSYNC_CREATE, 0600,
					 (unsigned int)workers + 1);
	if (ret) {
		fprintf(stderr, "fanout: %s%s\n", strerror(-ret),
			ret == -ENOENT ? " (is the ksync module loaded?)" : "");
		return 1;
	}
	for (int w = 0; w < workers; w++)
		if (fork() == 0)
			_exit(worker((uint32_t)w));
	if (fork() == 0) { /* the source: its exit ends the items */
		ksync_queue_t *out;

		/*
		 * A send handle of its own: sending through the parent's,
		 * which fork shares, would make the parent hold the input
		 * open (a pipe's reader keeping the write end).
		 */
		if (ksync_queue_open(&out, ITEMS_Q, KSYNC_QUEUE_SEND, 0, 0, 0) ||
		    ksync_barrier_wait(start, NULL) < 0)
			_exit(1);
		for (uint32_t i = 0; i < (uint32_t)nitems; i++)
			if (ksync_queue_send(out, &i, sizeof(i), NULL))
				_exit(1);
		_exit(0);
	}

	while ((n = ksync_queue_recv(merged, &r, sizeof(r), NULL)) == sizeof(r)) {
		/* exactly once, and in each worker's own order */
		if (r.item >= (uint32_t)nitems || r.worker >= (uint32_t)workers || seen[r.item]++ ||
		    r.value != r.item * 3 + 1 || r.seq != next_seq[r.worker]++) {
			bad++;
			continue;
		}
		per_worker[r.worker]++;
		got++;
	}
	while (wait(&status) > 0)
		failed += !WIFEXITED(status) || WEXITSTATUS(status);
	printf("%d workers took", workers);
	for (int w = 0; w < workers; w++)
		printf(" %u", per_worker[w]);
	printf("; merged %u of %d, %u out of order or twice, %d processes failed, end: %s\n", got,
	       nitems, bad, failed, n == -EPIPE ? "EOF" : strerror((int)-n));
	ksync_queue_close(items);
	ksync_queue_close(merged);
	ksync_barrier_close(start);
	ksync_unlink(ITEMS_Q);
	ksync_unlink(MERGED_Q);
	ksync_unlink(START);
	free(seen);
	free(next_seq);
	free(per_worker);
	return got != (uint32_t)nitems || bad || failed || n != -EPIPE;
}
