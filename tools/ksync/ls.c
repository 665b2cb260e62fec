// SPDX-License-Identifier: LGPL-2.1-or-later
/*
 * ksync ls and ksync info: what the module lists, plus the counters of
 * each object the caller may open.  A table for people, --json for scripts,
 * --watch to refresh in place.
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

/* The counters of one object, if the caller may open it. */
struct counters {
	bool valid;
	struct ksync_counters c;
};

static void counters_of(const struct ksync_object *o, struct counters *c)
{
	memset(c, 0, sizeof(*c));
	c->c.size = sizeof(c->c);
	c->valid = ksync_counters(o, &c->c) == 0;
}

#define WHO_MAX 64

/* What a task does: its JSON verb, and what info says of a sleeper. */
static const struct {
	const char *verb;
	const char *asleep; /* NULL: a line of its own (permits) */
} whats[] = {
	[KSYNC_WHO_HOLDS] = { "holds", NULL },
	[KSYNC_WHO_ACQUIRES] = { "acquires", NULL },
	[KSYNC_WHO_WAITS] = { "waits", "waits at the barrier" },
	[KSYNC_WHO_SENDS] = { "sends", "waits to send" },
	[KSYNC_WHO_RECEIVES] = { "receives", "waits to receive" },
};

static bool known_what(unsigned int what)
{
	return what < sizeof(whats) / sizeof(whats[0]) && whats[what].verb;
}

static const char *who_verb(unsigned int what)
{
	return known_what(what) ? whats[what].verb : "?";
}

static const char *user(unsigned int uid, char *buf, size_t len)
{
	struct passwd *pw = getpwuid(uid);

	if (pw)
		return pw->pw_name;
	snprintf(buf, len, "%u", uid);
	return buf;
}

static const char *group(unsigned int gid, char *buf, size_t len)
{
	struct group *gr = getgrgid(gid);

	if (gr)
		return gr->gr_name;
	snprintf(buf, len, "%u", gid);
	return buf;
}

static bool valid_utf8(const unsigned char *s)
{
	while (*s) {
		int n = *s < 0x80	      ? 0
			: (*s & 0xe0) == 0xc0 ? 1
			: (*s & 0xf0) == 0xe0 ? 2
			: (*s & 0xf8) == 0xf0 ? 3
					      : -1;

		if (n < 0 || (n == 1 && *s < 0xc2))
			return false;
		s++;
		for (; n > 0; n--, s++)
			if ((*s & 0xc0) != 0x80)
				return false;
	}
	return true;
}

/* A JSON string; bytes of names that are not UTF-8 become \u00XX. */
static void put_json_string(const char *s, FILE *f)
{
	bool utf8 = valid_utf8((const unsigned char *)s);

	fputc('"', f);
	for (; *s; s++) {
		unsigned char c = (unsigned char)*s;

		if (c == '"' || c == '\\')
			fprintf(f, "\\%c", c);
		else if (c < 0x20 || c == 0x7f || (c >= 0x80 && !utf8))
			fprintf(f, "\\u%04x", c);
		else
			fputc(c, f);
	}
	fputc('"', f);
}

struct listing {
	bool json;
	int shown;
	int unknown; /* objects of a type the command does not know */
};

static void show_row(const struct ksync_object *o, const struct type_view *v)
{
	struct counters c;
	char u[16], st[96], ct[96], ft[96];

	counters_of(o, &c);
	v->state(o, st, sizeof(st));
	if (c.valid && c.c.fast_valid)
		v->fast(&c.c, ft, sizeof(ft));
	else
		snprintf(ft, sizeof(ft), "-");
	if (c.valid)
		v->calls(&c.c, ct, sizeof(ct));
	else
		snprintf(ct, sizeof(ct), "-");
	printf("%-7s %-10s %04o %7u  %-36s %-28s %-28s ", v->name, user(o->uid, u, sizeof(u)),
	       o->mode, o->handles, st, ft, ct);
	put_name(o->name, stdout);
	putchar('\n');
}

/* One object as a JSON object, but for its closing brace. */
static void put_json(const struct ksync_object *o, const struct type_view *v,
		     const struct counters *c)
{
	char u[16], g[16];

	printf("{\"name\":");
	put_json_string(o->name, stdout);
	printf(",\"type\":\"%s\",\"owner\":", v->name);
	put_json_string(user(o->uid, u, sizeof(u)), stdout);
	printf(",\"uid\":%u,\"group\":", o->uid);
	put_json_string(group(o->gid, g, sizeof(g)), stdout);
	printf(",\"gid\":%u,\"mode\":\"%04o\",\"handles\":%u,", o->gid, o->mode, o->handles);
	v->state_json(o);
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

static void show_json(const struct ksync_object *o, const struct type_view *v, struct listing *l)
{
	struct counters c;

	counters_of(o, &c);
	printf("%s\n  ", l->shown ? "," : "");
	put_json(o, v, &c);
	putchar('}');
}

/* Every object through show_row or show_json; 0 or negative errno. */
static int walk(struct listing *l)
{
	struct ksync_object o = { .size = sizeof(o) };
	const struct type_view *v;
	ksync_list_t *list;
	int ret;

	ret = ksync_list_open(&list);
	if (ret)
		return ret;
	while ((ret = ksync_list_next(list, &o)) == 1) {
		v = view_of(o.type);
		if (!v) {
			unknown_type("ls", &o);
			l->unknown++;
			continue;
		}
		if (l->json)
			show_json(&o, v, l);
		else
			show_row(&o, v);
		l->shown++;
	}
	ksync_list_close(list);
	return ret;
}

/* One listing: 0, a negative errno, or 1 if it met a type it does not know. */
static int list_once(bool json)
{
	struct listing l = { .json = json };
	int ret;

	if (json) {
		printf("[");
		ret = walk(&l);
		printf("%s]\n", l.shown ? "\n" : "");
	} else {
		printf("%-7s %-10s %-4s %7s  %-36s %-28s %-28s %s\n", "TYPE", "OWNER", "MODE",
		       "HANDLES", "STATE", "FAST PATH", "KERNEL CALLS", "NAME");
		ret = walk(&l);
	}
	fflush(stdout);
	return ret ? ret : l.unknown > 0;
}

static volatile sig_atomic_t stop;

static void on_signal(int sig)
{
	(void)sig;
	stop = 1;
}

static int ls(int argc, char **argv)
{
	static const struct option opts[] = { { "json", no_argument, NULL, 'j' },
					      { "watch", required_argument, NULL, 'w' },
					      { NULL, 0, NULL, 0 } };
	bool json = false;
	double every = 0;
	int opt, ret;

	while ((opt = getopt_long(argc, argv, "jw:", opts, NULL)) != -1) {
		char *end;

		if (opt == 'j') {
			json = true;
		} else if (opt == 'w') {
			every = strtod(optarg, &end);
			if (*end || !(every >= 0.1 && every <= 86400))
				return usage_error(&cmd_ls, "--watch takes 0.1 to 86400 seconds");
		} else {
			return usage_error(&cmd_ls, "bad option");
		}
	}
	if (optind != argc)
		return usage_error(&cmd_ls, "no arguments expected");
	if (!every) {
		ret = list_once(json);
		return ret < 0 ? fail("ls", "/dev/ksync", ret) : ret;
	}
	signal(SIGINT, on_signal);
	signal(SIGTERM, on_signal);
	while (!stop) {
		struct timespec ts = { (time_t)every, (long)((every - (time_t)every) * 1e9) };

		/* as top does: home, draw, clear what the last frame left below */
		if (!json)
			printf("\033[H");
		ret = list_once(json);
		if (!json)
			printf("\033[J");
		fflush(stdout);
		if (ret)
			return ret < 0 ? fail("ls", "/dev/ksync", ret) : ret;
		nanosleep(&ts, NULL);
	}
	return 0;
}

const struct command cmd_ls = {
	.name = "ls",
	.run = ls,
	.summary = "list the objects you can see",
	.usage = "[--json] [--watch SECONDS]\n\n"
		 "List the named objects of this IPC namespace that you own, may read, or\n"
		 "see with CAP_IPC_OWNER: type, owner, mode, open handles, state, and the\n"
		 "times their users entered the kernel (contended calls: uncontended ones\n"
		 "never do; '-' if you may not open it).  --json prints an array of objects\n"
		 "for scripts; --watch redraws every SECONDS until interrupted.\n",
};

static void put_who_json(const struct ksync_task *who, int n)
{
	printf(",\"who\":[");
	for (int i = 0; i < n && i < WHO_MAX; i++)
		printf("%s{\"what\":\"%s\",\"pid\":%u,\"tid\":%u,\"count\":%u,\"waited_s\":%.3f}",
		       i ? "," : "", who_verb(who[i].what), who[i].pid, who[i].tid, who[i].count,
		       (double)who[i].waited_ns / 1e9);
	printf("],\"who_total\":%d", n);
}

static void put_task(const struct ksync_task *w)
{
	double asleep = (double)w->waited_ns / 1e9;
	char pid[32];

	if (w->pid)
		snprintf(pid, sizeof(pid), "pid %u", w->pid);
	else
		snprintf(pid, sizeof(pid), "(not yours to see)");
	if (w->what == KSYNC_WHO_HOLDS)
		printf("  %-20s holds %u permit%s (UNDO)\n", pid, w->count,
		       w->count == 1 ? "" : "s");
	else if (w->what == KSYNC_WHO_ACQUIRES)
		printf("  %-20s waits for %u permit%s, asleep %.1f s (thread %u)\n", pid, w->count,
		       w->count == 1 ? "" : "s", asleep, w->tid);
	else if (known_what(w->what))
		printf("  %-20s %s, asleep %.1f s (thread %u)\n", pid, whats[w->what].asleep,
		       asleep, w->tid);
	else
		printf("  %-20s does what this ksync does not know (%u), for %.1f s (thread %u)\n",
		       pid, w->what, asleep, w->tid);
}

static void put_who_text(const struct ksync_task *who, int n)
{
	if (n < 0) {
		printf("who:      (you may not open it)\n");
		return;
	}
	printf("who:      %s\n", n ? "" : "nobody holds or waits");
	for (int i = 0; i < n && i < WHO_MAX; i++)
		put_task(&who[i]);
	if (n > WHO_MAX)
		printf("  ... and %d more\n", n - WHO_MAX);
}

static void put_info_text(const struct ksync_object *o, const struct type_view *v,
			  const struct counters *c)
{
	char u[16], g[16], st[96];

	v->state(o, st, sizeof(st));
	printf("name:     ");
	put_name(o->name, stdout);
	printf("\ntype:     %s\nowner:    %s:%s, mode %04o\nhandles:  %u open\nstate:    %s\n",
	       v->name, user(o->uid, u, sizeof(u)), group(o->gid, g, sizeof(g)), o->mode,
	       o->handles, st);
	if (c->valid)
		v->detail(&c->c);
	else
		printf("counters: (you may not open it)\n");
}

static int info(int argc, char **argv)
{
	static const struct option opts[] = { { "json", no_argument, NULL, 'j' },
					      { NULL, 0, NULL, 0 } };
	static struct ksync_task who[WHO_MAX] = { { .size = sizeof(who[0]) } };
	struct ksync_object o = { .size = sizeof(o) };
	const struct type_view *v;
	struct counters c;
	char buf[KSYNC_NAME_MAX + 2];
	const char *name;
	bool json = false;
	int opt, ret, n;

	while ((opt = getopt_long(argc, argv, "j", opts, NULL)) != -1) {
		if (opt != 'j')
			return usage_error(&cmd_info, "bad option");
		json = true;
	}
	if (optind != argc - 1)
		return usage_error(&cmd_info, "which name?");
	name = object_name(argv[optind], buf, sizeof(buf));
	ret = ksync_lookup(name, &o);
	if (ret)
		return fail("info", name, ret);
	v = view_of(o.type);
	if (!v)
		return unknown_type("info", &o);
	counters_of(&o, &c);
	n = ksync_who(&o, who, WHO_MAX);
	if (json) {
		put_json(&o, v, &c);
		if (n >= 0)
			put_who_json(who, n);
		printf("}\n");
		return 0;
	}
	put_info_text(&o, v, &c);
	if (c.valid)
		put_who_text(who, n);
	return 0;
}

const struct command cmd_info = {
	.name = "info",
	.run = info,
	.summary = "show one object in detail",
	.usage = "[--json] NAME\n\n"
		 "Show one object: what ls shows, with every counter the module keeps.\n",
};
