// SPDX-License-Identifier: LGPL-2.1-or-later
/* ksync create and ksync rm: names come and go. */
#include <errno.h>
#include <getopt.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include <ksync.h>

#include "cli.h"

static int create(int argc, char **argv)
{
	static const struct option opts[] = { { "mode", required_argument, NULL, 'm' },
					      { "noeof", no_argument, NULL, 'E' },
					      { NULL, 0, NULL, 0 } };
	int flags = KSYNC_CREATE | KSYNC_EXCL;
	const struct type_view *v;
	unsigned int mode = 0600;
	const char *name;
	char buf[KSYNC_NAME_MAX + 2];
	int opt, ret;

	while ((opt = getopt_long(argc, argv, "m:", opts, NULL)) != -1) {
		if (opt == 'm' && parse_mode(optarg, &mode) == 0)
			continue;
		if (opt == 'E') {
			flags |= KSYNC_QUEUE_NOEOF;
			continue;
		}
		return usage_error(&cmd_create, "bad option");
	}
	argv += optind;
	argc -= optind;
	v = argc > 0 ? view_named(argv[0]) : NULL;
	if (!v)
		return usage_error(&cmd_create, "which type: sem, barrier or queue?");
	if (argc != 2 + v->create_args)
		return usage_error(&cmd_create, "wrong number of arguments for a %s", argv[0]);
	name = object_name(argv[1], buf, sizeof(buf));
	ret = v->create(name, flags, mode, argv + 2);
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
	.summary = "create a semaphore, barrier or queue",
	.usage = "[--mode MODE] sem NAME VALUE\n"
		 "       ksync create [--mode MODE] barrier NAME PARTIES\n"
		 "       ksync create [--mode MODE] [--noeof] queue NAME CAPACITY MSGSIZE\n\n"
		 "Create a named object; fails (exit 14) if the name is taken.  NAME is\n"
		 "\"/name\" or \"name\".  MODE is octal, 0600 unless given, less the umask.\n"
		 "A queue holds CAPACITY messages of up to MSGSIZE bytes; its input ends,\n"
		 "as a pipe's, when its last sender is done, unless --noeof (then only\n"
		 "ksync shutdown ends it).\n",
};

static int rm(int argc, char **argv)
{
	char buf[KSYNC_NAME_MAX + 2];
	int status = 0;

	if (argc < 2)
		return usage_error(&cmd_rm, "which name?");
	for (int i = 1; i < argc; i++) {
		const char *name = object_name(argv[i], buf, sizeof(buf));
		int ret = ksync_unlink(name);

		if (ret)
			status = fail("rm", name, ret);
	}
	return status;
}

const struct command cmd_rm = {
	.name = "rm",
	.run = rm,
	.summary = "remove names",
	.usage = "NAME...\n\n"
		 "Remove each name.  An object lives on, nameless, while anyone has it open.\n"
		 "Only its owner (or CAP_IPC_OWNER) may remove a name.\n",
};
