// SPDX-License-Identifier: LGPL-2.1-or-later
/*
 * ksync ls and ksync info: what the module lists, plus the counters of
 * each object the caller may open.  A table for people (lstable.c), --json
 * for scripts, --watch to list again and again.
 */
#include <errno.h>
#include <getopt.h>
#include <pwd.h>
#include <grp.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <ksync.h>

#include "cli.h"
#include "lstable.h"
#include "names.h"

void counters_of(const struct ksync_object *o, struct counters *c)
{
	memset(c, 0, sizeof(*c));
	c->c.size = sizeof(c->c);
	c->valid = ksync_counters(o, &c->c) == 0;
}

/* The names of an object's owner and group, or their numbers. */
const char *owner_name(unsigned int uid, char *buf, size_t len)
{
	struct passwd *pw = getpwuid(uid);

	if (pw)
		return pw->pw_name;
	snprintf(buf, len, "%u", uid);
	return buf;
}

const char *group_name(unsigned int gid, char *buf, size_t len)
{
	struct group *gr = getgrgid(gid);

	if (gr)
		return gr->gr_name;
	snprintf(buf, len, "%u", gid);
	return buf;
}

/* One object as a JSON object, but for its closing brace. */
static void put_json(const struct ksync_object *o, const struct type_view *v,
		     const struct counters *c)
{
	char u[16], g[16];

	printf("{\"name\":");
	put_json_name(o->name, stdout);
	printf(",\"type\":\"%s\",\"name_hex\":", v->name);
	put_json_hex(o->name, stdout);
	printf(",\"owner\":");
	put_json_string(owner_name(o->uid, u, sizeof(u)), stdout);
	printf(",\"uid\":%u,\"group\":", o->uid);
	put_json_string(group_name(o->gid, g, sizeof(g)), stdout);
	printf(",\"gid\":%u,\"mode\":\"%04o\",\"handles\":%u,", o->gid, o->mode, o->handles);
	v->state_json(o);
	if (o->type == KSYNC_TYPE_SEM && o->sem.max && o->sem.max < KSYNC_SEM_VALUE_MAX)
		printf(",\"max\":%u", o->sem.max);
	else if (o->type == KSYNC_TYPE_SEM)
		printf(",\"max\":null");
	/* 0 for either: a module that does not say, or a creator outside our pid namespace */
	printf(",\"ctime_ns\":%llu,\"creator_pid\":%u", o->ctime_ns, o->creator_pid);
	printf(",\"fast_counters\":");
	if (c->valid && c->c.fast_valid)
		v->fast_json(&c->c);
	else
		printf("null");
	printf(",\"kernel_counters\":");
	if (!c->valid) {
		printf("null");
		return;
	}
	putchar('{');
	v->calls_json(&c->c);
	putchar('}');
}

/* The objects of one walk, of the types this ksync knows. */
struct snapshot {
	struct ksync_object *objs;
	size_t n, cap;
	int unknown; /* reported on stderr, left out */
};

/* 0 or a negative errno; nothing is printed on stdout either way. */
static int take_snapshot(struct snapshot *s)
{
	struct ksync_object o = { .size = sizeof(o) };
	ksync_list_t *list;
	int ret;

	s->n = 0;
	s->unknown = 0;
	ret = ksync_list_open(&list);
	if (ret)
		return ret;
	while ((ret = ksync_list_next(list, &o)) == 1) {
		if (!view_of(o.type)) {
			unknown_type("ls", &o);
			s->unknown++;
			continue;
		}
		if (s->n == s->cap) {
			size_t cap = s->cap ? 2 * s->cap : 64;
			void *objs = realloc(s->objs, cap * sizeof(*s->objs));

			if (!objs) {
				ret = -ENOMEM;
				break;
			}
			s->objs = objs;
			s->cap = cap;
		}
		s->objs[s->n++] = o;
	}
	ksync_list_close(list);
	return ret;
}

/* A JSON array; on one line (--watch: one document a line) if oneline. */
static void put_json_list(const struct snapshot *s, bool oneline)
{
	struct counters c;

	putchar('[');
	for (size_t i = 0; i < s->n; i++) {
		const struct ksync_object *o = &s->objs[i];

		counters_of(o, &c);
		printf("%s%s", i ? "," : "", oneline ? "" : "\n  ");
		put_json(o, view_of(o->type), &c);
		putchar('}');
	}
	printf("%s]\n", s->n && !oneline ? "\n" : "");
}

struct ls_opts {
	struct ls_format fmt;
	bool json;
	double every; /* --watch, 0 if not */
};

/*
 * On a terminal, --watch draws over the last frame as top does: home,
 * each line cleared to its end, and what the last frame left below.
 */
static void put_frame(const char *text, size_t len)
{
	fputs("\033[H", stdout);
	for (size_t i = 0; i < len; i++) {
		if (text[i] == '\n')
			fputs("\033[K", stdout);
		putchar(text[i]);
	}
	fputs("\033[J", stdout);
}

/* Print the snapshot: a table, a frame of one, or JSON; 0 or -ENOMEM. */
static int put_listing(const struct snapshot *s, const struct ls_opts *o, bool redraw)
{
	char *text = NULL;
	size_t len = 0;
	FILE *f;
	int ret;

	if (o->json) {
		put_json_list(s, o->every > 0);
		return 0;
	}
	if (!redraw)
		return ls_table(s->objs, s->n, &o->fmt, stdout);
	f = open_memstream(&text, &len);
	if (!f)
		return -ENOMEM;
	ret = ls_table(s->objs, s->n, &o->fmt, f);
	if (fclose(f))
		ret = -ENOMEM;
	if (!ret)
		put_frame(text, len);
	free(text);
	return ret;
}

/* stdout's fate: 0, or 1 with a message if the listing could not be written. */
static int flushed(void)
{
	if (fflush(stdout) == 0 && !ferror(stdout))
		return 0;
	fprintf(stderr, "ksync ls: cannot write the listing: %s\n", strerror(errno));
	return EXIT_FAILURE;
}

/*
 * One listing, after a blank line if blank: 0, an exit code, or 1 if it
 * met a type it does not know.
 */
static int list_once(struct snapshot *s, const struct ls_opts *o, bool redraw, bool blank)
{
	int ret = take_snapshot(s);

	if (!ret && blank)
		putchar('\n');
	if (!ret)
		ret = put_listing(s, o, redraw);
	if (ret)
		return fail("ls", "/dev/ksync", ret);
	ret = flushed();
	return ret ? ret : s->unknown > 0;
}

static volatile sig_atomic_t stop;

static void on_signal(int sig)
{
	(void)sig;
	stop = 1;
}

/*
 * --watch: redraw on a terminal; anywhere else one table after another,
 * a blank line between them, or one JSON document a line, for a reader
 * that takes them as they come.
 */
static int watch(const struct ls_opts *o)
{
	bool redraw = !o->json && isatty(STDOUT_FILENO);
	struct snapshot s = { 0 };
	struct timespec ts = { (time_t)o->every, (long)((o->every - (time_t)o->every) * 1e9) };
	int ret = 0;

	signal(SIGINT, on_signal);
	signal(SIGTERM, on_signal);
	if (redraw)
		fputs("\033[H\033[2J", stdout);
	for (bool first = true; !stop; first = false) {
		ret = list_once(&s, o, redraw, !redraw && !o->json && !first);
		if (ret)
			break;
		nanosleep(&ts, NULL);
	}
	free(s.objs);
	return ret;
}

static int ls_option(int opt, struct ls_opts *o)
{
	const char *bad;
	char *end;

	switch (opt) {
	case 'J':
	case 'j':
		o->json = true;
		return 0;
	case 'w':
		o->every = strtod(optarg, &end);
		if (*end || !(o->every >= 0.1 && o->every <= 86400))
			return usage_error(&cmd_ls, "--watch takes 0.1 to 86400 seconds");
		return 0;
	case 'o':
		if (!ls_set_columns(&o->fmt, optarg, &bad))
			return 0;
		return usage_error(&cmd_ls, "-o: no column '%s' (ksync ls --help lists them)", bad);
	case 'n':
		o->fmt.noheadings = true;
		return 0;
	case 'r':
		o->fmt.raw = true;
		return 0;
	case 'b':
		o->fmt.bytes = true;
		return 0;
	}
	return usage_error(&cmd_ls, "bad option");
}

static int ls(int argc, char **argv)
{
	static const struct option opts[] = { { "json", no_argument, NULL, 'J' },
					      { "watch", required_argument, NULL, 'w' },
					      { "output", required_argument, NULL, 'o' },
					      { "noheadings", no_argument, NULL, 'n' },
					      { "raw", no_argument, NULL, 'r' },
					      { "bytes", no_argument, NULL, 'b' },
					      { NULL, 0, NULL, 0 } };
	struct ls_opts o = { .json = false };
	struct snapshot s = { 0 };
	int opt, ret;

	ls_default_columns(&o.fmt);
	while ((opt = getopt_long(argc, argv, "Jjw:o:nrb", opts, NULL)) != -1)
		if ((ret = ls_option(opt, &o)))
			return ret;
	if (optind != argc)
		return usage_error(&cmd_ls, "no arguments expected");
	if (o.every)
		return watch(&o);
	ret = list_once(&s, &o, false, false);
	free(s.objs);
	return ret;
}

const struct command cmd_ls = {
	.name = "ls",
	.run = ls,
	.summary = "list the objects you can see",
	.usage = "[-o LIST] [-n] [-r] [-b] [-J] [-w SECONDS]\n\n"
		 "List the named objects of this IPC namespace that you own, may read, or\n"
		 "see with CAP_IPC_OWNER.\n\n"
		 "  -o, --output LIST   the columns, comma-separated; +LIST adds to the default\n"
		 "  -n, --noheadings    no heading line\n"
		 "  -r, --raw           fields one space apart, a space in one as \\x20\n"
		 "  -b, --bytes         sizes in bytes (4096, not 4K)\n"
		 "  -J, --json          a JSON array for scripts (\"name_hex\" is exact)\n"
		 "  -w, --watch SECS    list again every SECS: on a terminal in place, else\n"
		 "                      one table after another (with -J, one array a line)\n\n"
		 "Columns (the first eight are the default):\n"
		 "  TYPE     sem, barrier, queue or event\n"
		 "  OWNER    the owner's user name\n"
		 "  MODE     permissions, octal\n"
		 "  HANDLES  open file descriptions\n"
		 "  ASLEEP   tasks waiting: to acquire, at the barrier, to send or receive,\n"
		 "           for the event\n"
		 "  STATE    permits free; parties arrived; messages queued, of what size;\n"
		 "           set or clear\n"
		 "  FLAGS    shutdown, broken, eof, noeof, auto; - if none\n"
		 "  NAME     the name, controls and backslashes as \\xNN (ksync(1): NAMES)\n"
		 "  ID       the object's number in its namespace\n"
		 "  UID      the owner's user id\n"
		 "  GROUP    the group's name\n"
		 "  GID      the group id\n"
		 "  ROUND    a barrier's round, mod 2^32\n"
		 "  MSGSIZE  a queue's largest message\n"
		 "  SIZE     a queue's capacity times its message size\n"
		 "  MAX      a semaphore's maximum ('-': none)\n"
		 "  CTIME    when it was created (local time)\n"
		 "  CPID     the pid that created it ('-': outside your pid namespace)\n"
		 "  FAST     operations on the shared page alone (as libksync counts them)\n"
		 "  CALLS    calls that entered the kernel ('-': you may not open it)\n",
};

/* What info shows as ls does: the JSON object, but for the closing brace. */
void object_json(const struct ksync_object *o, const struct type_view *v)
{
	struct counters c;

	counters_of(o, &c);
	put_json(o, v, &c);
}
