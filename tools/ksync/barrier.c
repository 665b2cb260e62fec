// SPDX-License-Identifier: LGPL-2.1-or-later
/* ksync barrier NAME: wait at a barrier from a shell script. */
#include <errno.h>
#include <getopt.h>
#include <stdio.h>

#include <ksync.h>

#include "cli.h"

static int barrier(int argc, char **argv)
{
	static const struct option opts[] = { { "timeout", required_argument, NULL, 't' },
					      { "reset", no_argument, NULL, 'r' },
					      { NULL, 0, NULL, 0 } };
	struct timespec deadline, *dl = NULL;
	bool reset = false;
	char buf[KSYNC_NAME_MAX + 2];
	ksync_barrier_t *b;
	const char *name;
	int opt, ret;

	opterr = 0;
	while ((opt = getopt_long(argc, argv, ":t:", opts, NULL)) != -1) {
		if (opt == 'r')
			reset = true;
		else if (opt == 't' && !parse_timeout(optarg, &deadline))
			dl = &deadline;
		else if (opt == 't')
			return timeout_error(&cmd_barrier, optarg);
		else
			return bad_option(&cmd_barrier, opt, argv);
	}
	if (optind != argc - 1)
		return usage_error(&cmd_barrier, "which barrier?");
	name = object_name(argv[optind], buf, sizeof(buf));
	ret = ksync_barrier_open(&b, name, 0, 0, 0);
	if (ret)
		return fail("barrier", name, ret);
	/* a signal handler never runs here: every signal we catch ends us */
	ret = reset ? ksync_barrier_reset(b) : ksync_barrier_wait(b, dl);
	ksync_barrier_close(b);
	if (ret < 0)
		return fail("barrier", name, ret);
	if (ret == 1)
		printf("serial\n");
	return 0;
}

const struct command cmd_barrier = {
	.name = "barrier",
	.run = barrier,
	.summary = "wait at a barrier",
	.usage = "NAME [--timeout S]\n"
		 "       ksync barrier --reset NAME\n\n"
		 "Arrive at the barrier NAME and wait until all its parties have.  The\n"
		 "last to arrive prints \"serial\" (one per round: let it do the round's\n"
		 "one-off step).  Exit 16 if the round broke (a party timed out, was\n"
		 "killed, or the barrier was reset); a timeout (exit 15) breaks it for\n"
		 "the others too, so that nobody waits for a party that gave up.  A\n"
		 "broken barrier stays broken until --reset starts a new round (and\n"
		 "breaks the current one for whoever waits in it).\n",
};
