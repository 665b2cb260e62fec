/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* The ksync command: what its subcommands share. */
#ifndef KSYNC_CLI_H
#define KSYNC_CLI_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <time.h>

#include <ksync.h>
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
	EXIT_CANCELLED = 17, /* --cancel: the event was set */
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
	cmd_recv, cmd_hold, cmd_shutdown, cmd_limits, cmd_event;

/*
 * --cancel EVENT (cancel.c): open the event (the exit code if that fails),
 * and each blocking call with it, which returns -ECANCELED once the event
 * is set first (ev NULL: the plain call).
 */
int cancel_open(const char *cmd, const char *arg, ksync_event_t **ev);
int cancel_acquire(ksync_sem_t *s, unsigned int n, ksync_event_t *ev, const struct timespec *dl);
int cancel_send(ksync_queue_t *q, const void *msg, size_t len, ksync_event_t *ev,
		const struct timespec *dl);
ssize_t cancel_recv(ksync_queue_t *q, void *buf, size_t len, ksync_event_t *ev,
		    const struct timespec *dl);
int cancel_event_wait(ksync_event_t *e, ksync_event_t *ev, const struct timespec *dl);
int cancel_barrier_wait(ksync_barrier_t *b, ksync_event_t *ev, const struct timespec *dl);

/* /dev/ksync is missing: the module is not loaded. */
bool module_missing(void);
/* Print "ksync CMD: WHAT: reason" for a negative errno; the exit code. */
int fail(const char *cmd, const char *what, int err);
/*
 * If err is a limit of the module's (-EFBIG, -EDQUOT, -ENOSPC), say which
 * limit, its value and what to do, and return the exit code; else 0.
 */
int limit_error(const char *cmd, const char *what, int err);
/* Print "ksync CMD: message" and the usage hint; EXIT_USAGE. */
int usage_error(const struct command *c, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));
/*
 * After getopt_long() (opterr 0, optstring "+:..." or ":...") returned opt
 * for an option it does not take: say which and how; EXIT_USAGE.
 */
int bad_option(const struct command *c, int opt, char **argv);
/* Say that arg is not a mode --mode takes; EXIT_USAGE. */
int mode_error(const struct command *c, const char *arg);
/* Say that arg is not a --timeout; EXIT_USAGE. */
int timeout_error(const struct command *c, const char *arg);
/* Print c's --help text to stdout. */
void help(const struct command *c);

/* Parse a count or size: 0 and a value above max fail. */
int parse_uint(const char *s, unsigned long max, unsigned int *out);
/* Parse seconds ("2", "0.5") into an absolute CLOCK_MONOTONIC deadline. */
int parse_timeout(const char *s, struct timespec *deadline);
/* Parse a semaphore's --max: 1 to KSYNC_SEM_VALUE_MAX, or "none" (0). */
int parse_max(const char *s, unsigned int *max);
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

/* A name for a terminal: control bytes and backslashes as \xNN. */
void put_name(const char *s, FILE *f);

/* How ksync create makes an object (its options). */
struct create_how {
	int flags; /* KSYNC_CREATE | KSYNC_EXCL, and the type's */
	unsigned int mode;
	bool max_given; /* --max: a semaphore's maximum, 0 for none */
	unsigned int max;
	bool set; /* --set: an event that starts set */
};

/* What the command knows of one type (types.c has the table). */
struct type_view {
	unsigned int type; /* KSYNC_TYPE_* */
	const char *name; /* "sem", as the command line and the output name it */
	/* ksync create: create_args arguments after NAME (argv), then create */
	int create_args;
	int (*create)(const char *name, const struct create_how *how, char **argv);
	/* ls and info: the listed state, as text and as JSON members */
	void (*state)(const struct ksync_object *o, char *buf, size_t len);
	void (*state_json)(const struct ksync_object *o);
	/* the counts on the shared page, and the calls that entered the kernel */
	void (*fast)(const struct ksync_counters *c, char *buf, size_t len);
	void (*fast_json)(const struct ksync_counters *c);
	void (*calls)(const struct ksync_counters *c, char *buf, size_t len);
	void (*calls_json)(const struct ksync_counters *c);
	/* info: the counters' lines */
	void (*detail)(const struct ksync_counters *c);
};

/* From ls.c, for info: an object shown as ls shows it. */
/* The names of an object's owner and group, or their numbers. */
const char *owner_name(unsigned int uid, char *buf, size_t len);
const char *group_name(unsigned int gid, char *buf, size_t len);
/* The counters of one object, if the caller may open it. */
struct counters {
	bool valid;
	struct ksync_counters c;
};

void counters_of(const struct ksync_object *o, struct counters *c);
/* its JSON object, without the closing brace */
void object_json(const struct ksync_object *o, const struct type_view *v);

/* The type's view, by number or by name; NULL for a type the command does not know. */
const struct type_view *view_of(unsigned int type);
const struct type_view *view_named(const char *name);

/* Say that cmd met o, of a type it does not know; the exit code. */
int unknown_type(const char *cmd, const struct ksync_object *o);

#endif
