// SPDX-License-Identifier: MIT
/*
 * pool [WORKERS [JOBS]]: a worker pool.  A producer feeds a job queue,
 * WORKERS processes take jobs from it and send results to a second queue,
 * and the parent collects them.
 *
 * Go's version:
 *
 *	for w := 0; w < workers; w++ {
 *		go func() { for j := range jobs { results <- j * j } }()
 *	}
 *	go func() { for i := 1; i <= n; i++ { jobs <- i }; close(jobs) }()
 *
 * Nobody closes anything here: a queue's input ends, as a pipe's, when the
 * last sender handle is closed (its process exits, is killed, or closes
 * it), and a receiver drains what is left and then gets -EPIPE, as a Go
 * receiver sees a closed channel.  So the producer's exit ends the jobs,
 * and the last worker's exit ends the results.  One catch: a worker's
 * two-way handle counts as a sender from its first send (or
 * ksync_queue_join()), and the results must not end because the first
 * worker finished before the last one started.  So each worker joins
 * first and then waits at a start barrier.  (A coordinator that forks its
 * workers would open a send handle, fork, and close it: ksync_queue(3).)
 *
 * It prints how many jobs each worker did and checks that every job's
 * result came back exactly once.
 */
#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include <ksync.h>

#define JOBS_Q "/example-pool-jobs"
#define RESULTS_Q "/example-pool-results"
#define START "/example-pool-start"

struct result {
	uint32_t job;
	uint32_t worker;
	uint64_t square;
};

static int worker(uint32_t id)
{
	ksync_queue_t *jobs, *results;
	ksync_barrier_t *start;
	uint32_t job;
	ssize_t n;

	if (ksync_queue_open(&jobs, JOBS_Q, 0, 0, 0, 0) ||
	    ksync_queue_open(&results, RESULTS_Q, 0, 0, 0, 0) ||
	    ksync_barrier_open(&start, START, 0, 0, 0))
		return 1;
	/* a sender of results from now on, then wait for the others to be */
	if (ksync_queue_join(results) || ksync_barrier_wait(start, NULL) < 0)
		return 1;
	while ((n = ksync_queue_recv(jobs, &job, sizeof(job), NULL)) == sizeof(job)) {
		struct result r = { job, id, (uint64_t)job * job };

		if (ksync_queue_send(results, &r, sizeof(r), NULL))
			return 1;
	}
	/* -EPIPE: the producer is gone and the queue is drained */
	return n == -EPIPE ? 0 : 1;
}

static int producer(uint32_t njobs)
{
	ksync_queue_t *jobs;
	ksync_barrier_t *start;

	if (ksync_queue_open(&jobs, JOBS_Q, 0, 0, 0, 0) ||
	    ksync_barrier_open(&start, START, 0, 0, 0) || ksync_barrier_wait(start, NULL) < 0)
		return 1;
	for (uint32_t j = 1; j <= njobs; j++)
		if (ksync_queue_send(jobs, &j, sizeof(j), NULL))
			return 1;
	return 0; /* exiting ends the jobs */
}

static pid_t spawn(int (*fn)(uint32_t), uint32_t arg)
{
	pid_t pid = fork();

	if (pid == 0)
		_exit(fn(arg));
	return pid;
}

int main(int argc, char **argv)
{
	int workers = argc > 1 ? atoi(argv[1]) : 4;
	int njobs = argc > 2 ? atoi(argv[2]) : 1000;
	unsigned int *done_by, failed = 0, got = 0, twice = 0;
	unsigned char *seen;
	uint64_t sum = 0, want = 0;
	ksync_queue_t *jobs, *results;
	ksync_barrier_t *start;
	struct result r;
	ssize_t n;
	int ret;

	if (workers < 1 || workers > 1000 || njobs < 1) {
		fprintf(stderr, "usage: pool [WORKERS [JOBS]]\n");
		return 2;
	}
	seen = calloc((size_t)njobs + 1, 1);
	done_by = calloc((size_t)workers, sizeof(*done_by));
	if (!seen || !done_by)
		return 1;
	ksync_unlink(JOBS_Q);
	ksync_unlink(RESULTS_Q);
	ksync_unlink(START);
	ret = ksync_queue_open(&jobs, JOBS_Q, KSYNC_CREATE, 0600, 16, sizeof(uint32_t));
	if (!ret)
		ret = ksync_queue_open(&results, RESULTS_Q, KSYNC_CREATE, 0600, 16, sizeof(r));
	if (!ret)
		ret = ksync_barrier_open(&start, START, KSYNC_CREATE, 0600,
					 (unsigned int)workers + 1);
	if (ret) {
		fprintf(stderr, "pool: %s%s\n", strerror(-ret),
			ret == -ENOENT ? " (is the ksync module loaded?)" : "");
		return 1;
	}
	for (int w = 0; w < workers; w++)
		if (spawn(worker, (uint32_t)w) < 0)
			return 1;
	if (spawn(producer, (uint32_t)njobs) < 0)
		return 1;

	/* collect until the last worker has gone and the results are drained */
	while ((n = ksync_queue_recv(results, &r, sizeof(r), NULL)) == sizeof(r)) {
		if (r.job < 1 || r.job > (uint32_t)njobs || r.worker >= (uint32_t)workers ||
		    r.square != (uint64_t)r.job * r.job || seen[r.job]++) {
			twice++;
			continue;
		}
		done_by[r.worker]++;
		sum += r.square;
		got++;
	}
	while (wait(&ret) > 0)
		failed += !WIFEXITED(ret) || WEXITSTATUS(ret);
	for (uint64_t j = 1; j <= (uint64_t)njobs; j++)
		want += j * j;
	printf("%d workers:", workers);
	for (int w = 0; w < workers; w++)
		printf(" %u", done_by[w]);
	printf(" jobs each\n%u of %d results, sum of squares %llu (%s), %u bad or twice, %u "
	       "processes failed; results ended with %s\n",
	       got, njobs, (unsigned long long)sum, sum == want ? "right" : "WRONG", twice, failed,
	       n == -EPIPE ? "EOF" : strerror((int)-n));
	ksync_queue_close(jobs);
	ksync_queue_close(results);
	ksync_barrier_close(start);
	ksync_unlink(JOBS_Q);
	ksync_unlink(RESULTS_Q);
	ksync_unlink(START);
	free(seen);
	free(done_by);
	return got != (unsigned int)njobs || sum != want || twice || failed || n != -EPIPE;
}
