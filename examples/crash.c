// SPDX-License-Identifier: MIT
/*
 * crash [WORKERS [JOBS]]: a worker pool that loses two workers to SIGKILL
 * and still finishes.  `make demo` runs it in a guest.
 *
 * The pool is pool.c's, plus two things a crash could wedge:
 *   - a semaphore with 2 permits that each job needs (a scarce resource),
 *     taken with KSYNC_UNDO;
 *   - a barrier where the workers meet halfway through (a phase change).
 * One worker is killed while it holds a permit: the module gives the
 * permit back.  Another is killed while it waits at the barrier: the round
 * breaks, so that the others get -EPIPE instead of waiting for ever for a
 * party that cannot come.  The queues need nothing: the results end when
 * the last worker is gone, dead or not.
 *
 * Everything that waits here has a deadline: if the module failed to do
 * its part, this program would say so and fail instead of hanging.
 */
#include <errno.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <ksync.h>

#define JOBS_Q "/example-crash-jobs"
#define RESULTS_Q "/example-crash-results"
#define PERMITS "/example-crash-permits"
#define START "/example-crash-start"
#define HALFWAY "/example-crash-halfway"
#define WAIT_MS 20000 /* the most any step may take, even in a slow guest */

enum { RUNNING, HOLD_ON, HOLDING, GO_TO_BARRIER, AT_BARRIER };

/* What the parent and the workers share. */
struct board {
	atomic_int order[64]; /* per worker: what the parent asks of it */
	atomic_uint job[64]; /* the job each worker has in hand, 0 if none */
	atomic_int meet_now; /* everyone: go to the halfway barrier */
};

static struct board *board;
static long long t0;

static long long ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec * 1000LL + ts.tv_nsec / 1000000;
}

/* A line of the story, with the time since the start. */
#define say(...)                                                    \
	do {                                                        \
		printf("[%6.3f s] ", (double)(ms() - t0) / 1000.0); \
		printf(__VA_ARGS__);                                \
		putchar('\n');                                      \
		fflush(stdout);                                     \
	} while (0)

static void nap(void)
{
	struct timespec ts = { 0, 1000 * 1000 };

	nanosleep(&ts, NULL);
}

static int failed_at(int id, const char *what, int err)
{
	say("worker %d: %s: %s", id, what, strerror(-err));
	return 1;
}

/* One job: under a permit, as the scarce resource demands. */
static int do_job(int id, uint32_t job, ksync_sem_t *permits, ksync_queue_t *results)
{
	struct timespec dl = ksync_deadline_ms(WAIT_MS);
	uint64_t r[2] = { job, (uint64_t)job * job };

	int ret;

	atomic_store(&board->job[id], job);
	ret = ksync_sem_acquire(permits, 1, &dl);
	if (ret)
		return failed_at(id, "acquire", ret);
	/* asked to: stay inside, holding the permit, until killed */
	if (atomic_load(&board->order[id]) == HOLD_ON) {
		atomic_store(&board->order[id], HOLDING);
		for (;;)
			pause();
	}
	nap();
	ksync_sem_release(permits, 1);
	ret = ksync_queue_send(results, r, sizeof(r), NULL);
	if (ret)
		return failed_at(id, "send", ret);
	atomic_store(&board->job[id], 0);
	return 0;
}

static bool time_to_meet(int id)
{
	return atomic_load(&board->order[id]) == GO_TO_BARRIER || atomic_load(&board->meet_now);
}

static int meet(int id, ksync_barrier_t *half)
{
	struct timespec dl = ksync_deadline_ms(WAIT_MS);
	int ret;

	if (atomic_load(&board->order[id]) == GO_TO_BARRIER)
		atomic_store(&board->order[id], AT_BARRIER);
	ret = ksync_barrier_wait(half, &dl);
	if (ret == -EPIPE)
		say("worker %d: the halfway barrier is broken (a party died): going on", id);
	else if (ret < 0)
		return failed_at(id, "halfway barrier", ret);
	return 0;
}

static int worker(int id)
{
	struct timespec dl = ksync_deadline_ms(WAIT_MS);
	ksync_queue_t *jobs, *results;
	ksync_barrier_t *start, *half;
	ksync_sem_t *permits;
	bool met = false;
	uint32_t job;
	int ret;

	if (ksync_queue_open(&jobs, JOBS_Q, 0, 0, 0, 0) ||
	    ksync_queue_open(&results, RESULTS_Q, 0, 0, 0, 0) ||
	    ksync_sem_open(&permits, PERMITS, KSYNC_UNDO, 0, 0) ||
	    ksync_barrier_open(&start, START, 0, 0, 0) ||
	    ksync_barrier_open(&half, HALFWAY, 0, 0, 0) || ksync_queue_join(results))
		return failed_at(id, "open", -EIO);
	ret = ksync_barrier_wait(start, &dl);
	if (ret < 0)
		return failed_at(id, "start barrier", ret);
	for (;;) {
		if (!met && time_to_meet(id)) {
			met = true;
			if (meet(id, half))
				return 1;
		}
		if (ksync_queue_recv(jobs, &job, sizeof(job), NULL) != sizeof(job))
			break; /* the producer is gone and the jobs are drained */
		if (do_job(id, job, permits, results))
			return 1;
	}
	/* out of jobs before the parent's word: wait for it, and meet */
	for (long long end = ms() + WAIT_MS; !met && !time_to_meet(id) && ms() < end;)
		nap();
	return met ? 0 : meet(id, half);
}

/* Wait until cond(arg) holds, at most WAIT_MS; false if it never did. */
static bool await(bool (*cond)(void *), void *arg)
{
	long long end = ms() + WAIT_MS;

	while (!cond(arg))
		if (ms() > end)
			return false;
		else
			nap();
	return true;
}

static bool is_holding(void *arg)
{
	return atomic_load(&board->order[*(int *)arg]) == HOLDING;
}

static bool all_permits_back(void *arg)
{
	return ksync_sem_value(arg) == 2;
}

static bool asleep_at_barrier(void *arg)
{
	struct ksync_barrier_stats st;

	return !ksync_barrier_stats(arg, &st) && st.sleepers == 1;
}

static bool broken(void *arg)
{
	struct ksync_barrier_stats st;

	return !ksync_barrier_stats(arg, &st) && st.broken;
}

/* Something the module should have done did not happen: say so, end it all. */
static int give_up(const pid_t *pid, int n, const char *why)
{
	say("FAIL: %s", why);
	for (int i = 0; i < n; i++)
		kill(pid[i], SIGKILL);
	return 1;
}

int main(int argc, char **argv)
{
	int workers = argc > 1 ? atoi(argv[1]) : 4;
	int njobs = argc > 2 ? atoi(argv[2]) : 400;
	unsigned int got = 0, lost = 0, bad = 0;
	ksync_queue_t *jobs, *results;
	ksync_barrier_t *start, *half;
	ksync_sem_t *permits;
	pid_t pid[65], producer;
	int victim[2] = { 0, 1 };
	unsigned char *seen;
	uint64_t r[2];
	ssize_t n;
	int ret, status, failed = 0;

	if (workers < 3 || workers > 64 || njobs < 100) {
		fprintf(stderr, "usage: crash [WORKERS (3..64) [JOBS (100..)]]\n");
		return 2;
	}
	t0 = ms();
	board = mmap(NULL, sizeof(*board), PROT_READ | PROT_WRITE, MAP_SHARED | MAP_ANONYMOUS, -1,
		     0);
	seen = calloc((size_t)njobs + 1, 1);
	if (board == MAP_FAILED || !seen)
		return 1;
	for (const char *const *name =
		     (const char *const[]){ JOBS_Q, RESULTS_Q, PERMITS, START, HALFWAY, NULL };
	     *name; name++)
		ksync_unlink(*name);
	ret = ksync_queue_open(&jobs, JOBS_Q, KSYNC_CREATE, 0600, 16, sizeof(uint32_t));
	if (!ret)
		/* room for every result: the workers must not wait for the
		 * parent to collect, it is busy killing them first */
		ret = ksync_queue_open(&results, RESULTS_Q, KSYNC_CREATE, 0600, (unsigned int)njobs,
				       16);
	if (!ret)
		ret = ksync_sem_open(&permits, PERMITS, KSYNC_CREATE, 0600, 2);
	if (!ret)
		ret = ksync_barrier_open(&start, START, KSYNC_CREATE, 0600, (unsigned)workers + 1);
	/* the halfway barrier counts the workers still alive by then */
	if (!ret)
		ret = ksync_barrier_open(&half, HALFWAY, KSYNC_CREATE, 0600, (unsigned)workers - 1);
	if (ret) {
		fprintf(stderr, "crash: %s%s\n", strerror(-ret),
			ret == -ENOENT ? " (is the ksync module loaded?)" : "");
		return 1;
	}
	say("%d workers, %d jobs, 2 permits (UNDO), a halfway barrier of %d", workers, njobs,
	    workers - 1);
	/* worker 0 is to hold on to its permit at its next job */
	atomic_store(&board->order[victim[0]], HOLD_ON);
	for (int w = 0; w < workers; w++) {
		pid[w] = fork();
		if (pid[w] == 0)
			_exit(worker(w));
	}
	producer = pid[workers] = fork();
	if (producer == 0) {
		struct timespec dl = ksync_deadline_ms(WAIT_MS);
		ksync_queue_t *out;

		/* its own send handle, not the parent's: see fanout.c */
		if (ksync_queue_open(&out, JOBS_Q, KSYNC_QUEUE_SEND, 0, 0, 0) ||
		    ksync_barrier_wait(start, &dl) < 0)
			_exit(1);
		for (uint32_t j = 1; j <= (uint32_t)njobs; j++)
			if (ksync_queue_send(out, &j, sizeof(j), NULL))
				_exit(1);
		_exit(0);
	}

	/* 1: SIGKILL a worker inside, holding a permit */
	if (!await(is_holding, &victim[0]))
		return give_up(pid, workers + 1, "worker never took its permit");
	say("killing worker %d (pid %d): it holds a permit, job %u in hand", victim[0],
	    (int)pid[victim[0]], atomic_load(&board->job[victim[0]]));
	kill(pid[victim[0]], SIGKILL);
	if (!await(all_permits_back, permits))
		return give_up(pid, workers + 1, "the dead worker's permit never came back");
	say("its permit came back: %d of 2 free", ksync_sem_value(permits));

	/* 2: SIGKILL a worker asleep at the halfway barrier, before the others come */
	atomic_store(&board->order[victim[1]], GO_TO_BARRIER);
	if (!await(asleep_at_barrier, half))
		return give_up(pid, workers + 1, "the worker never slept at the barrier");
	say("killing worker %d (pid %d): it waits at the halfway barrier", victim[1],
	    (int)pid[victim[1]]);
	kill(pid[victim[1]], SIGKILL);
	if (!await(broken, half))
		return give_up(pid, workers + 1, "the barrier did not break: the rest would hang");
	say("the barrier broke instead of waiting for a dead party");
	/* the others meet there now, and find it broken */
	atomic_store(&board->meet_now, 1);

	/* 3: the rest of the pool finishes; the results end with the last worker */
	while ((n = ksync_queue_recv(results, r, sizeof(r), NULL)) == sizeof(r)) {
		if (!r[0] || r[0] > (uint64_t)njobs || r[1] != r[0] * r[0] || seen[r[0]]++)
			bad++;
		else
			got++;
	}
	for (int i = 0; i < 2; i++)
		lost += atomic_load(&board->job[victim[i]]) != 0;
	for (int w = 0; w < workers; w++) {
		waitpid(pid[w], &status, 0);
		if (w != victim[0] && w != victim[1])
			failed += !WIFEXITED(status) || WEXITSTATUS(status);
	}
	waitpid(producer, &status, 0);
	failed += !WIFEXITED(status) || WEXITSTATUS(status);
	say("pool finished: %u of %d results, %u jobs died with their workers, %u bad; "
	    "permits %d of 2; %d survivors failed",
	    got, njobs, lost, bad, ksync_sem_value(permits), failed);
	ret = got + lost != (unsigned int)njobs || bad || failed || ksync_sem_value(permits) != 2 ||
	      n != -EPIPE;
	ksync_queue_close(jobs);
	ksync_queue_close(results);
	ksync_sem_close(permits);
	ksync_barrier_close(start);
	ksync_barrier_close(half);
	for (const char *const *name =
		     (const char *const[]){ JOBS_Q, RESULTS_Q, PERMITS, START, HALFWAY, NULL };
	     *name; name++)
		ksync_unlink(*name);
	free(seen);
	return ret;
}
