// SPDX-License-Identifier: MIT
/*
 * merge [SOURCES [ITEMS]]: fan-in with a select.  SOURCES processes each
 * send ITEMS numbers on a queue of their own; one reader waits on all the
 * queues at once with ksync_wait_any() and takes whichever message comes
 * first, until every source's input has ended.  A source's end shows as a
 * receive that completes with -EPIPE, as Go's select picks a closed
 * channel; the reader then stops selecting on it.
 *
 * Go's version, with reflect.Select over a slice of channels:
 *
 *	for len(cases) > 0 {
 *		i, v, ok := reflect.Select(cases)
 *		if !ok { cases = append(cases[:i], cases[i+1:]...); continue }
 *		use(v)
 *	}
 *
 * The reader checks that every item of every source came once, in the
 * order its source sent it.
 */
#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include <ksync.h>

#define MAX_SOURCES KSYNC_WAIT_MAX

struct item {
	uint32_t source, seq;
};

static int source(ksync_queue_t *out, uint32_t id, uint32_t items)
{
	for (uint32_t seq = 0; seq < items; seq++) {
		struct item it = { id, seq };

		if (ksync_queue_send(out, &it, sizeof(it), NULL))
			return 1;
	}
	return 0; /* its exit ends its input, as a pipe's writer's */
}

int main(int argc, char **argv)
{
	int sources = argc > 1 ? atoi(argv[1]) : 4;
	int items = argc > 2 ? atoi(argv[2]) : 1000;
	struct ksync_op ops[MAX_SOURCES];
	ksync_queue_t *ends[MAX_SOURCES][2];
	uint32_t next[MAX_SOURCES] = { 0 }, got = 0, bad = 0;
	struct item buf[MAX_SOURCES];
	int open, status, failed = 0;

	if (sources < 1 || sources > MAX_SOURCES || items < 1) {
		fprintf(stderr, "usage: merge [SOURCES (1-%d) [ITEMS]]\n", MAX_SOURCES);
		return 2;
	}
	for (int s = 0; s < sources; s++) {
		int ret = ksync_queue_pipe(ends[s], 16, sizeof(struct item), 0);

		if (ret) {
			fprintf(stderr, "merge: %s%s\n", strerror(-ret),
				ret == -ENODEV ? " (is the ksync module loaded?)" : "");
			return 1;
		}
		if (fork() == 0) {
			/* no receive ends here (the parent closed the send ends before) */
			for (int o = 0; o <= s; o++)
				ksync_queue_close(ends[o][0]);
			_exit(source(ends[s][1], (uint32_t)s, (uint32_t)items));
		}
		ksync_queue_close(ends[s][1]);
		ops[s] = (struct ksync_op){ .kind = KSYNC_OP_RECV,
					    .queue = ends[s][0],
					    .buf = &buf[s],
					    .len = sizeof(buf[s]) };
	}
	/* ops[0..open) are the sources still open; ended ones are moved out */
	for (open = sources; open > 0;) {
		int i = ksync_wait_any(ops, (unsigned int)open, NULL);
		struct item *it;

		if (i < 0) {
			fprintf(stderr, "merge: %s\n", strerror(-i));
			return 1;
		}
		if (ops[i].result == -EPIPE) {
			ops[i] = ops[--open];
			continue;
		}
		it = ops[i].buf;
		if (ops[i].result != sizeof(*it) || it->source >= (uint32_t)sources ||
		    it->seq != next[it->source]++)
			bad++;
		got++;
	}
	while (wait(&status) > 0)
		failed += !WIFEXITED(status) || WEXITSTATUS(status);
	printf("%d sources sent %d each; merged %u, %u out of order or twice, "
	       "%d processes failed, end: EOF\n",
	       sources, items, got, bad, failed);
	return bad || failed || got != (uint32_t)(sources * items);
}
