// SPDX-License-Identifier: MIT
/*
 * pipeline [N [CANCEL_AT]]: three stages connected by two queues,
 *
 *	gen --numbers--> square --squares--> sum
 *
 * and cancelled midway: once sum has seen CANCEL_AT squares it shuts the
 * first queue down, as cancelling a Go context would stop the generator.
 *
 *	ctx, cancel := context.WithCancel(ctx)
 *	go gen(ctx, numbers); go square(numbers, squares)
 *	for s := range squares { ...; if n == cancelAt { cancel() } }
 *
 * Each stage then ends by itself, in order, and nothing is lost:
 *   - gen's next send fails with -EPIPE: it stops and exits;
 *   - square drains what gen had sent, gets -EPIPE, exits; its handle was
 *     the second queue's only sender, so its exit ends that queue's input;
 *   - sum drains the rest and gets -EPIPE.
 * Every stage reports how much it handled; they must agree.
 */
#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/wait.h>
#include <unistd.h>

#include <ksync.h>

#define NUMBERS "/example-pipeline-numbers"
#define SQUARES "/example-pipeline-squares"

struct report {
	uint64_t gen_sent, square_done, sum_got, sum;
};

static int gen(struct report *rep, uint64_t n)
{
	ksync_queue_t *out;
	int ret = ksync_queue_open(&out, NUMBERS, 0, 0, 0, 0);

	for (uint64_t i = 1; !ret && i <= n; i++) {
		ret = ksync_queue_send(out, &i, sizeof(i), NULL);
		if (!ret)
			rep->gen_sent++;
	}
	/* -EPIPE: cancelled downstream, the normal way for gen to end early */
	return ret && ret != -EPIPE;
}

static int square(struct report *rep)
{
	ksync_queue_t *in, *out;
	uint64_t x;
	ssize_t n;

	if (ksync_queue_open(&in, NUMBERS, 0, 0, 0, 0) ||
	    ksync_queue_open(&out, SQUARES, 0, 0, 0, 0))
		return 1;
	while ((n = ksync_queue_recv(in, &x, sizeof(x), NULL)) == sizeof(x)) {
		x *= x;
		if (ksync_queue_send(out, &x, sizeof(x), NULL))
			return 1;
		rep->square_done++;
	}
	return n != -EPIPE; /* exiting ends the squares */
}

int main(int argc, char **argv)
{
	uint64_t n = argc > 1 ? strtoull(argv[1], NULL, 10) : 100000;
	uint64_t cancel_at = argc > 2 ? strtoull(argv[2], NULL, 10) : 100;
	ksync_queue_t *numbers, *squares;
	struct report *rep;
	int status, failed = 0, ret;
	uint64_t x, want = 0;
	ssize_t got;

	if (!n || !cancel_at || cancel_at > n) {
		fprintf(stderr, "usage: pipeline [N [CANCEL_AT <= N]]\n");
		return 2;
	}
	rep = mmap(NULL, sizeof(*rep), PROT_READ | PROT_WRITE, MAP_SHARED | MAP_ANONYMOUS, -1, 0);
	if (rep == MAP_FAILED)
		return 1;
	ksync_unlink(NUMBERS);
	ksync_unlink(SQUARES);
	ret = ksync_queue_open(&numbers, NUMBERS, KSYNC_CREATE, 0600, 4, sizeof(uint64_t));
	if (!ret)
		ret = ksync_queue_open(&squares, SQUARES, KSYNC_CREATE, 0600, 4, sizeof(uint64_t));
	if (ret) {
		fprintf(stderr, "pipeline: %s%s\n", strerror(-ret),
			ret == -ENOENT ? " (is the ksync module loaded?)" : "");
		return 1;
	}
	if (fork() == 0)
		_exit(gen(rep, n));
	if (fork() == 0)
		_exit(square(rep));

	/* the sum stage, here: it cancels the pipeline at cancel_at */
	while ((got = ksync_queue_recv(squares, &x, sizeof(x), NULL)) == sizeof(x)) {
		rep->sum += x;
		if (++rep->sum_got == cancel_at)
			ksync_queue_shutdown(numbers);
	}
	while (wait(&status) > 0)
		failed += !WIFEXITED(status) || WEXITSTATUS(status);
	for (uint64_t i = 1; i <= rep->gen_sent; i++)
		want += i * i;
	printf("gen sent %llu of %llu, square did %llu, sum got %llu (cancelled at %llu), "
	       "sum %llu (%s), end: %s\n",
	       (unsigned long long)rep->gen_sent, (unsigned long long)n,
	       (unsigned long long)rep->square_done, (unsigned long long)rep->sum_got,
	       (unsigned long long)cancel_at, (unsigned long long)rep->sum,
	       rep->sum == want ? "right" : "WRONG", got == -EPIPE ? "EOF" : strerror((int)-got));
	ksync_queue_close(numbers);
	ksync_queue_close(squares);
	ksync_unlink(NUMBERS);
	ksync_unlink(SQUARES);
	/*
	 * gen stops within a few messages of the cancel: those that were in
	 * the two queues (4 each) and in the stages' hands when it came.
	 */
	return failed || got != -EPIPE || rep->sum != want || rep->square_done != rep->gen_sent ||
	       rep->sum_got != rep->square_done || rep->gen_sent < cancel_at ||
	       rep->gen_sent > cancel_at + 16;
}
