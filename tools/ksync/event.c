// SPDX-License-Identifier: LGPL-2.1-or-later
/* ksync event set|reset|wait NAME: an event from a shell script. */
#include <errno.h>
#include <getopt.h>
#include <stdio.h>
#include <string.h>

#include <ksync.h>

#include "cli.h"

/* ksync event create ... NAME: ksync create event ... NAME, said the other way round. */
static int event_create(int argc, char **argv)
{
	char *args[argc + 1];

	args[0] = (char *)"create";
	args[1] = (char *)"event";
	for (int i = 2; i < argc; i++)
		args[i] = argv[i];
	args[argc] = NULL;
	return cmd_create.run(argc, args);
}

static int event(int argc, char **argv)
{
	static const struct option opts[] = { { "timeout", required_argument, NULL, 't' },
					      { "cancel", required_argument, NULL, 'C' },
					      { NULL, 0, NULL, 0 } };
	const char *cancel = NULL;
	ksync_event_t *ev = NULL;
	struct timespec deadline, *dl = NULL;
	char buf[KSYNC_NAME_MAX + 2];
	const char *name, *what;
	ksync_event_t *e;
	int opt, ret;

	if (argc > 1 && !strcmp(argv[1], "create"))
		return event_create(argc, argv);
	opterr = 0;
	while ((opt = getopt_long(argc, argv, ":t:C:", opts, NULL)) != -1) {
		if (opt == 'C')
			cancel = optarg;
		else if (opt == 't' && !parse_timeout(optarg, &deadline))
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
	if ((dl || cancel) && strcmp(what, "wait"))
		return usage_error(&cmd_event, "--timeout and --cancel go with wait");
	if (optind != argc - 1)
		return usage_error(&cmd_event, "which event?");
	name = object_name(argv[optind], buf, sizeof(buf));
	ret = ksync_event_open(&e, name, 0, 0, 0);
	if (ret)
		return fail("event", name, ret);
	if (cancel) {
		ret = cancel_open("event", cancel, &ev);
		if (ret) {
			ksync_event_close(e);
			return ret;
		}
	}
	/* a signal handler never runs here: every signal we catch ends us */
	if (!strcmp(what, "set"))
		ret = ksync_event_set(e);
	else if (!strcmp(what, "reset"))
		ret = ksync_event_reset(e);
	else
		ret = cancel_event_wait(e, ev, dl);
	ksync_event_close(e);
	if (ev)
		ksync_event_close(ev);
	return ret ? fail("event", name, ret) : 0;
}

const struct command cmd_event = {
	.name = "event",
	.run = event,
	.summary = "set, reset or wait for an event",
	.usage = "create [--mode MODE] [--auto] [--set] NAME   (as ksync create event)\n"
		 "       ksync event set NAME\n"
		 "       ksync event reset NAME\n"
		 "       ksync event wait [--timeout S] [--cancel EVENT] NAME\n\n"
		 "set: let the waiters of the event NAME pass (a manual event: all of them,\n"
		 "and every later wait until a reset; an auto-reset one: exactly one, the\n"
		 "longest asleep, or the next to come).  reset: clear it.  wait: return\n"
		 "once it is set, waiting up to S seconds (forever unless --timeout); an\n"
		 "auto-reset event's wait takes the set with it.  With --cancel, a set of\n"
		 "the event EVENT ends the wait first (exit 17).\n\n"
		 "Exit status: 0 done (wait: the event was set); 15 timed out; 17\n"
		 "cancelled; 12 no such event; 13 the name is another type's.\n",
};
