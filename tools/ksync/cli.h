/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* The ksync command: what its subcommands share. */
#ifndef KSYNC_CLI_H
#define KSYNC_CLI_H

#include <stdbool.h>
#include <stdint.h>
#include <time.h>

#include <linux/ksync.h>

/*
 * Exit codes, one per kind of failure, so that scripts can tell them apart
 * (ksync(1) lists them).  `ksync sem -- CMD` passes CMD's own status
 * through instead, once CMD runs.
 */
enum {
	EXIT_USAGE = 2, /* bad arguments */
	EXIT_NOMODULE = 10, /* /dev/ksync is missing: the module is not loaded */
	EXIT_DENIED = 11, /* permission denied */
	EXIT_NOENT = 12, /* no such object */
	EXIT_TYPE = 13, /* the name is an object of another type */
	EXIT_EXISTS = 14, /* create: the name is taken */
	EXIT_TIMEOUT = 15, /* the deadline passed */
	EXIT_CLOSED = 16, /* the queue is shut down or the barrier broken */
	EXIT_NOEXEC = 126, /* sem: CMD could not be run */
	EXIT_NOTFOUND = 127, /* sem: CMD was not found */
};

/* One subcommand: its name, what it does and how it is called. */
struct command {
	const char *name;
	int (*run)(int argc, char **argv);
	const char *summary;
	const char *usage; /* the --help text after "usage: ksync NAME " */
};

extern const struct command cmd_ls, cmd_info, cmd_create, cmd_rm, cmd_sem, cmd_barrier, cmd_send,
	cmd_recv, cmd_hold, cmd_shutdown;

/* Print "ksync CMD: WHAT: reason" for a negative errno; the exit code. */
int fail(const char *cmd, const char *what, int err);
/* Print "ksync CMD: message" and the usage hint; EXIT_USAGE. */
int usage_error(const struct command *c, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));
/* Print c's --help text to stdout. */
void help(const struct command *c);

/* Parse a count or size: 0 and a value above max fail. */
int parse_uint(const char *s, unsigned long max, unsigned int *out);
/* Parse seconds ("2", "0.5") into an absolute CLOCK_MONOTONIC deadline. */
int parse_timeout(const char *s, struct timespec *deadline);
/* Parse an octal mode such as 0600. */
int parse_mode(const char *s, unsigned int *mode);

struct option;
/*
 * getopt_long() for "ksync CMD [OPTIONS] NAME [OPTIONS] [--] [ARGS...]"
 * (optstring starts with '+'): options may come before and after NAME,
 * which lands in *name; they end at "--" or at the first argument after
 * NAME, so that nothing in ARGS is ever taken for ours.
 */
int getopt_name(int *argc, char **argv, const char *optstring, const struct option *opts,
		const char **name);

/* A name as the module wants it: "/name"; "jobs" becomes "/jobs". */
const char *object_name(const char *arg, char *buf, size_t len);

/* One KSYNC_IOC_* on /dev/ksync: result or negative errno. */
int dev_ioctl(unsigned long cmd, void *arg);
/* The named object's listing entry, 0 or negative errno (-ENOENT). */
int find_object(const char *name, struct ksync_list_entry *out);
/* Every visible object, in id order, through fn; 0 or negative errno. */
int for_each_object(int (*fn)(const struct ksync_list_entry *e, void *arg), void *arg);
/* "sem", "barrier", "queue" and back; 0 if unknown. */
const char *type_name(unsigned int type);
unsigned int type_of(const char *name);

#endif
