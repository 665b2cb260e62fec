// SPDX-License-Identifier: LGPL-2.1-or-later
/*
 * ksync: semaphores, barriers, queues and events of /dev/ksync from a shell.
 *
 *   ksync ls | info | create | rm | sem | barrier | event | send | recv ...
 *
 * This file dispatches, parses what several subcommands share and turns
 * errors into messages and exit codes; each subcommand has its own file.
 * See ksync(1).
 */
#include <errno.h>
#include <getopt.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "cli.h"
#include "names.h"

/* Only to tell a missing module from a missing name: the library opens it. */
#define DEVICE "/dev/ksync"

/* The Makefile's VERSION, the one place the project's version is written. */
#ifndef KSYNC_VERSION
#error "build with -DKSYNC_VERSION (the Makefile does)"
#endif

static const struct command *const commands[] = {
	&cmd_ls,    &cmd_info, &cmd_create, &cmd_rm,   &cmd_sem,      &cmd_barrier,
	&cmd_event, &cmd_send, &cmd_recv,   &cmd_hold, &cmd_shutdown, &cmd_limits,
};
#define NCOMMANDS (sizeof(commands) / sizeof(commands[0]))

static void overview(FILE *f)
{
	fprintf(f, "usage: ksync COMMAND [ARGS...]   (ksync COMMAND --help for one)\n"
		   "       ksync --version\n\n");
	for (size_t i = 0; i < NCOMMANDS; i++)
		fprintf(f, "  %-8s %s\n", commands[i]->name, commands[i]->summary);
	fprintf(f, "\nExit status: 0 done; 1 other error; 2 usage; 10 module not loaded;\n"
		   "11 permission denied; 12 no such object; 13 wrong type; 14 exists;\n"
		   "15 timed out; 16 shut down or broken.  See ksync(1).\n");
}

void help(const struct command *c)
{
	printf("usage: ksync %s %s", c->name, c->usage);
}

int usage_error(const struct command *c, const char *fmt, ...)
{
	va_list ap;

	fprintf(stderr, "ksync %s: ", c->name);
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fprintf(stderr, "\n(ksync %s --help shows how it is called)\n", c->name);
	return EXIT_USAGE;
}

int bad_option(const struct command *c, int opt, char **argv)
{
	const char *arg = optind > 0 ? argv[optind - 1] : "";

	if (opt == ':')
		return usage_error(c, "%s needs a value", arg);
	if (optopt >= '0' && optopt <= '9')
		return usage_error(
			c, "%s: a negative number: counts, sizes and seconds are 0 or more", arg);
	if (optopt == '-' && argv[optind]) /* a long option where none is taken */
		return usage_error(c, "no option %s", argv[optind]);
	if (optopt && strncmp(arg, "--", 2))
		return usage_error(c, "no option -%c", optopt);
	return usage_error(c, "no option %s", arg);
}

int mode_error(const struct command *c, const char *arg)
{
	return usage_error(c, "--mode %s: MODE is octal, 0 to 0777, as chmod's (0600, 0660, 0644)",
			   arg);
}

int timeout_error(const struct command *c, const char *arg)
{
	return usage_error(c, "--timeout %s: S is seconds, as 2 or 0.5", arg);
}

bool module_missing(void)
{
	return access(DEVICE, F_OK) != 0;
}

int fail(const char *cmd, const char *what, int err)
{
	char name[NAME_ESCAPED_MAX];
	int code;

	/* what is often a name, maybe another user's: never raw to a terminal */
	escape_name(what, name, sizeof(name), term_flags());
	what = name;
	code = limit_error(cmd, what, err);
	if (code)
		return code;
	code = 1;
	if (err == -ENODEV || (err == -ENOENT && module_missing())) {
		fprintf(stderr,
			"ksync %s: %s is missing: the ksync module is not loaded\n"
			"  load it with: sudo modprobe ksync   (or: sudo insmod ksync.ko)\n",
			cmd, DEVICE);
		return EXIT_NOMODULE;
	}
	switch (err) {
	case -EACCES:
	case -EPERM:
		code = EXIT_DENIED;
		break;
	case -ENOENT:
		code = EXIT_NOENT;
		break;
	case -EPROTOTYPE:
		fprintf(stderr, "ksync %s: %s: the name belongs to an object of another type\n",
			cmd, what);
		return EXIT_TYPE;
	case -EEXIST:
		code = EXIT_EXISTS;
		break;
	case -ETIMEDOUT:
	case -EAGAIN:
		fprintf(stderr, "ksync %s: %s: timed out\n", cmd, what);
		return EXIT_TIMEOUT;
	case -ECANCELED:
		fprintf(stderr, "ksync %s: %s: cancelled\n", cmd, what);
		return EXIT_CANCELLED;
	case -EPIPE:
		fprintf(stderr, "ksync %s: %s: %s\n", cmd, what,
			strcmp(cmd, "barrier") ? "the queue is shut down"
					       : "the barrier is broken");
		return EXIT_CLOSED;
	}
	fprintf(stderr, "ksync %s: %s: %s\n", cmd, what, strerror(-err));
	return code;
}

int parse_uint(const char *s, unsigned long max, unsigned int *out)
{
	char *end;
	unsigned long v;

	if (!s || *s < '0' || *s > '9')
		return -EINVAL;
	errno = 0;
	v = strtoul(s, &end, 10);
	if (errno || *end || v > max)
		return -EINVAL;
	*out = (unsigned int)v;
	return 0;
}

int parse_timeout(const char *s, struct timespec *deadline)
{
	char *end;
	double sec;
	long long ns;

	if (!s || ((*s < '0' || *s > '9') && *s != '.'))
		return -EINVAL;
	errno = 0;
	sec = strtod(s, &end);
	if (errno || *end || sec < 0 || sec > 1e9)
		return -EINVAL;
	ns = (long long)(sec * 1e9);
	clock_gettime(CLOCK_MONOTONIC, deadline);
	deadline->tv_sec += (time_t)(ns / 1000000000);
	deadline->tv_nsec += (long)(ns % 1000000000);
	if (deadline->tv_nsec >= 1000000000) {
		deadline->tv_sec++;
		deadline->tv_nsec -= 1000000000;
	}
	return 0;
}

int parse_max(const char *s, unsigned int *max)
{
	if (s && !strcmp(s, "none")) {
		*max = 0;
		return 0;
	}
	return parse_uint(s, KSYNC_SEM_VALUE_MAX, max) || !*max ? -EINVAL : 0;
}

int parse_mode(const char *s, unsigned int *mode)
{
	char *end;
	unsigned long v;

	if (!s || *s < '0' || *s > '7')
		return -EINVAL;
	v = strtoul(s, &end, 8);
	if (*end || v > 0777)
		return -EINVAL;
	*mode = (unsigned int)v;
	return 0;
}

int getopt_name(int *argc, char **argv, const char *optstring, const struct option *opts,
		const char **name)
{
	for (;;) {
		int opt = getopt_long(*argc, argv, optstring, opts, NULL);

		if (opt != -1 || *name || optind >= *argc || !strcmp(argv[optind - 1], "--"))
			return opt;
		/* NAME: take it out, and go on parsing what follows it */
		*name = argv[optind];
		memmove(&argv[optind], &argv[optind + 1], (size_t)(*argc - optind) * sizeof(*argv));
		(*argc)--;
	}
}

const char *object_name(const char *arg, char *buf, size_t len)
{
	if (arg[0] == '/')
		return arg;
	if ((size_t)snprintf(buf, len, "/%s", arg) >= len)
		return arg; /* the module refuses it with ENAMETOOLONG */
	return buf;
}

int main(int argc, char **argv)
{
	if (argc < 2 || !strcmp(argv[1], "--help") || !strcmp(argv[1], "-h") ||
	    !strcmp(argv[1], "help")) {
		if (argc > 2 && !strcmp(argv[1], "help")) {
			for (size_t i = 0; i < NCOMMANDS; i++)
				if (!strcmp(argv[2], commands[i]->name)) {
					help(commands[i]);
					return 0;
				}
		}
		overview(argc < 2 ? stderr : stdout);
		return argc < 2 ? EXIT_USAGE : 0;
	}
	if (!strcmp(argv[1], "--version") || !strcmp(argv[1], "-V")) {
		printf("ksync %s\n", KSYNC_VERSION);
		return 0;
	}
	for (size_t i = 0; i < NCOMMANDS; i++) {
		if (strcmp(argv[1], commands[i]->name))
			continue;
		for (int a = 2; a < argc && strcmp(argv[a], "--"); a++)
			if (!strcmp(argv[a], "--help") || !strcmp(argv[a], "-h")) {
				help(commands[i]);
				return 0;
			}
		return commands[i]->run(argc - 1, argv + 1);
	}
	fprintf(stderr, "ksync: no command '%s'\n\n", argv[1]);
	overview(stderr);
	return EXIT_USAGE;
}
