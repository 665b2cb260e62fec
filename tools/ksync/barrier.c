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
					      { "cancel", required_argument, NULL, 'C' },
					      { NULL, 0, NULL, 0 } };
	struct timespec deadline, *dl = NULL;
	const char *cancel = NULL;
	ksync_event_t *ev = NULL;
	bool reset = false;
	char buf[KSYNC_NAME_MAX + 2];
	ksync_barrier_t *b;
	const char *name;
	int opt, ret;

	opterr = 0;
	while ((opt = getopt_long(argc, argv, ":t:C:", opts, NULL)) != -1) {
		if (opt == 'r')
			reset = true;
		else if (opt == 'C')
			cancel = optarg;
		else if (opt == 't' && !parse_timeout(optarg, &deadline))
			dl = &deadline;
		else if (opt == 't')
			return timeout_error(&cmd_barrier, optarg);
		else
			return bad_option(&cmd_barrier, opt, argv);
	}
	if (optind != argc - 1)
		return usage_error(&cmd_barrier, "which barrier?");
	if (reset && (dl || cancel))
		return usage_error(&cmd_barrier,
				   "--reset waits for nothing: no --timeout or --cancel");
	name = object_name(argv[optind], buf, sizeof(buf));
	ret = ksync_barrier_open(&b, name, 0, 0, 0);
	if (ret)
		return fail("barrier", name, ret);
	if (cancel) {
		ret = cancel_open("barrier", cancel, &ev);
		if (ret) {
			ksync_barrier_close(b);
			return ret;
		}
	}
	/* a signal handler never runs here but --cancel's: every signal we catch ends us */
	ret = reset ? ksync_barrier_reset(b) : cancel_barrier_wait(b, ev, dl);
	ksync_barrier_close(b);
	if (ev)
		ksync_event_close(ev);
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
	.usage = "NAME [--timeout S] [--cancel EVENT]\n"
		 "       ksync barrier --reset NAME\n\n"
		 "Arrive at the barrier NAME and wait until all its parties have.  The\n"
		 "last to arrive prints \"serial\" (one per round: let it do the round's\n"
		 "one-off step).  Exit 16 if the round broke (a party timed out, was\n"
		 "killed, or the barrier was reset); a timeout (exit 15) breaks it for\n"
		 "the others too, so that nobody waits for a party that gave up.  A\n"
		 "broken barrier stays broken until --reset starts a new round (and\n"
		 "breaks the current one for whoever waits in it).  With --cancel, a set of\n"
		 "the event EVENT ends the wait as a timeout does (exit 17).\n",
};
