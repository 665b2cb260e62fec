// SPDX-License-Identifier: LGPL-2.1-or-later
/* ksync event set|reset|wait NAME: an event from a shell script. */
#include <errno.h>
#include <getopt.h>
#include <stdio.h>
#include <string.h>

#include <ksync.h>

#include "cli.h"

static int event(int argc, char **argv)
{
	static const struct option opts[] = { { "timeout", required_argument, NULL, 't' },
					      { NULL, 0, NULL, 0 } };
	struct timespec deadline, *dl = NULL;
	char buf[KSYNC_NAME_MAX + 2];
	const char *name, *what;
	ksync_event_t *e;
	int opt, ret;

	opterr = 0;
	while ((opt = getopt_long(argc, argv, ":t:", opts, NULL)) != -1) {
		if (opt == 't' && !parse_timeout(optarg, &deadline))
			dl = &deadline;
		else if (opt == 't')
			return timeout_error(&cmd_event, optarg);
		else
			return bad_option(&cmd_event, opt, argv);
	}
	if (optind >= argc)
		return usage_error(&cmd_event, "set, reset or wait?");
	what = argv[optind++];
	if (strcmp(what, "set") && strcmp(what, "reset") && strcmp(what, "wait"))
		return usage_error(&cmd_event, "%s: set, reset or wait?", what);
	if (dl && strcmp(what, "wait"))
		return usage_error(&cmd_event, "--timeout goes with wait");
	if (optind != argc - 1)
		return usage_error(&cmd_event, "which event?");
	name = object_name(argv[optind], buf, sizeof(buf));
	ret = ksync_event_open(&e, name, 0, 0, 0);
	if (ret)
		return fail("event", name, ret);
	/* a signal handler never runs here: every signal we catch ends us */
	if (!strcmp(what, "set"))
		ret = ksync_event_set(e);
	else if (!strcmp(what, "reset"))
		ret = ksync_event_reset(e);
	else
		ret = ksync_event_wait(e, dl);
	ksync_event_close(e);
	return ret ? fail("event", name, ret) : 0;
}

const struct command cmd_event = {
	.name = "event",
	.run = event,
	.summary = "set, reset or wait for an event",
	.usage = "set NAME\n"
		 "       ksync event reset NAME\n"
		 "       ksync event wait [--timeout S] NAME\n\n"
		 "set: let the waiters of the event NAME pass (a manual event: all of them,\n"
		 "and every later wait until a reset; an auto-reset one: exactly one, the\n"
		 "longest asleep, or the next to come).  reset: clear it.  wait: return\n"
		 "once it is set, waiting up to S seconds (forever unless --timeout); an\n"
		 "auto-reset event's wait takes the set with it.\n\n"
		 "Exit status: 0 done (wait: the event was set); 15 timed out; 12 no\n"
		 "such event; 13 the name is another type's.\n",
};
