// SPDX-License-Identifier: LGPL-2.1-or-later
/* ksync create and ksync rm: names come and go. */
#include <errno.h>
#include <getopt.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include <ksync.h>

#include "cli.h"

/* "-1" after the type: getopt takes it for an option; name what it was. */
static int create_option_error(int opt, int argc, char **argv)
{
	const struct type_view *v = NULL;

	if (opt != '?' || optopt < '0' || optopt > '9')
		return bad_option(&cmd_create, opt, argv);
	for (int i = 1; i < argc && !v; i++)
		v = view_named(argv[i]);
	if (v && v->type == KSYNC_TYPE_SEM)
		return usage_error(&cmd_create,
				   "%s: a semaphore's VALUE (its permits) is 0 to %d, not negative",
				   argv[optind - 1], KSYNC_SEM_VALUE_MAX);
	if (v && v->type == KSYNC_TYPE_BARRIER)
		return usage_error(&cmd_create, "%s: a barrier's PARTIES is 1 to %d, not negative",
				   argv[optind - 1], KSYNC_BARRIER_PARTIES_MAX);
	if (v && v->type == KSYNC_TYPE_QUEUE)
		return usage_error(&cmd_create,
				   "%s: a queue's CAPACITY is 1 to %d messages and MSGSIZE 0 to %d "
				   "bytes, not negative",
				   argv[optind - 1], KSYNC_QUEUE_CAPACITY_MAX, KSYNC_QUEUE_MSG_MAX);
	return bad_option(&cmd_create, opt, argv);
}

static int create(int argc, char **argv)
{
	static const struct option opts[] = {
		{ "mode", required_argument, NULL, 'm' }, { "noeof", no_argument, NULL, 'E' },
		{ "max", required_argument, NULL, 'M' },  { "auto", no_argument, NULL, 'A' },
		{ "set", no_argument, NULL, 'S' },	  { NULL, 0, NULL, 0 }
	};
	struct create_how how = { .flags = KSYNC_CREATE | KSYNC_EXCL, .mode = 0600 };
	const struct type_view *v;
	const char *name;
	char buf[KSYNC_NAME_MAX + 2];
	int opt, ret;

	opterr = 0;
	while ((opt = getopt_long(argc, argv, ":m:", opts, NULL)) != -1) {
		if (opt == 'm' && parse_mode(optarg, &how.mode))
			return mode_error(&cmd_create, optarg);
		if (opt == 'M' && parse_max(optarg, &how.max))
			return usage_error(&cmd_create, "--max %s: MAX is 1 to %d permits, or none",
					   optarg, KSYNC_SEM_VALUE_MAX);
		if (opt == 'E')
			how.flags |= KSYNC_QUEUE_NOEOF;
		else if (opt == 'A')
			how.flags |= KSYNC_EVENT_AUTO;
		else if (opt == 'S')
			how.set = true;
		else if (opt == 'M')
			how.max_given = true;
		else if (opt != 'm')
			return create_option_error(opt, argc, argv);
	}
	argv += optind;
	argc -= optind;
	v = argc > 0 ? view_named(argv[0]) : NULL;
	if (!v)
		return usage_error(&cmd_create, "which type: sem, barrier, queue or event?");
	if (argc != 2 + v->create_args)
		return usage_error(&cmd_create, "wrong number of arguments for a %s", argv[0]);
	name = object_name(argv[1], buf, sizeof(buf));
	if (how.max_given && v->type != KSYNC_TYPE_SEM)
		return usage_error(&cmd_create, "--max is a semaphore's");
	if ((how.flags & KSYNC_EVENT_AUTO || how.set) && v->type != KSYNC_TYPE_EVENT)
		return usage_error(&cmd_create, "--auto and --set are an event's");
	ret = v->create(name, &how, argv + 2);
	if (ret == -EEXIST) {
		fprintf(stderr, "ksync create: %s exists already\n", name);
		return EXIT_EXISTS;
	}
	if (ret > 0)
		return ret; /* a usage error, said */
	return ret ? fail("create", name, ret) : 0;
}

const struct command cmd_create = {
	.name = "create",
	.run = create,
	.summary = "create a semaphore, barrier, queue or event",
	.usage = "[--mode MODE] [--max MAX|none] sem NAME VALUE\n"
		 "       ksync create [--mode MODE] barrier NAME PARTIES\n"
		 "       ksync create [--mode MODE] [--noeof] queue NAME CAPACITY MSGSIZE\n"
		 "       ksync create [--mode MODE] [--auto] [--set] event NAME\n\n"
		 "Create a named object; fails (exit 14) if the name is taken.  NAME is\n"
		 "\"/name\" or \"name\".  MODE is octal, 0600 unless given, less the umask.\n"
		 "A semaphore holds VALUE permits, and never more than MAX (VALUE unless\n"
		 "--max; none: no maximum, as VALUE 0 has): releasing one more fails.\n"
		 "A queue holds CAPACITY messages of up to MSGSIZE bytes; its input ends,\n"
		 "as a pipe's, when its last sender is done, unless --noeof (then only\n"
		 "ksync shutdown ends it).  An event starts clear unless --set; --auto\n"
		 "makes it auto-reset: each set lets exactly one wait pass.\n",
};

/* rm --all: every name the caller owns, or, for root, every one it sees. */
static int rm_all(void)
{
	struct ksync_object o = { .size = sizeof(o) };
	bool everyone = geteuid() == 0;
	ksync_list_t *list;
	int ret, status = 0;

	ret = ksync_list_open(&list);
	if (ret)
		return fail("rm", "/dev/ksync", ret);
	while ((ret = ksync_list_next(list, &o)) == 1) {
		if (!everyone && o.uid != geteuid())
			continue;
		ret = ksync_unlink(o.name);
		/* (another rm may have been quicker: that is no failure) */
		if (ret && ret != -ENOENT)
			status = fail("rm", o.name, ret);
	}
	ksync_list_close(list);
	if (ret < 0)
		status = fail("rm", "/dev/ksync", ret);
	return status;
}

static int rm(int argc, char **argv)
{
	static const struct option opts[] = { { "force", no_argument, NULL, 'f' },
					      { "all", no_argument, NULL, 'a' },
					      { NULL, 0, NULL, 0 } };
	char buf[KSYNC_NAME_MAX + 2];
	bool force = false, all = false;
	int opt, status = 0;

	opterr = 0;
	while ((opt = getopt_long(argc, argv, ":fa", opts, NULL)) != -1) {
		if (opt == 'f')
			force = true;
		else if (opt == 'a')
			all = true;
		else
			return bad_option(&cmd_rm, opt, argv);
	}
	if (all && optind < argc)
		return usage_error(&cmd_rm, "--all or names, not both");
	if (all)
		return rm_all();
	if (optind >= argc && !force)
		return usage_error(&cmd_rm, "which name?");
	for (int i = optind; i < argc; i++) {
		const char *name = object_name(argv[i], buf, sizeof(buf));
		int ret = ksync_unlink(name);

		/* as rm -f: a name that is not there is already removed */
		if (ret == -ENOENT && force && !module_missing())
			continue;
		if (ret)
			status = fail("rm", name, ret);
	}
	return status;
}

const struct command cmd_rm = {
	.name = "rm",
	.run = rm,
	.summary = "remove names",
	.usage = "[-f] NAME...\n"
		 "       ksync rm --all\n\n"
		 "Remove each name.  An object lives on, nameless, while anyone has it open.\n"
		 "Only its owner (or CAP_IPC_OWNER) may remove a name.  -f/--force: a name\n"
		 "that does not exist is no error (as rm -f).  --all removes every name you\n"
		 "own; run by root, every name of this IPC namespace.\n",
};
