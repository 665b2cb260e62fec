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

/*
 * What info shows as ls does: the names of an object's owner and group,
 * and its JSON object, but for the closing brace (info adds members).
 */
const char *owner_name(unsigned int uid, char *buf, size_t len)
{
	return user(uid, buf, len);
}

const char *group_name(unsigned int gid, char *buf, size_t len)
{
	return group(gid, buf, len);
}

void object_json(const struct ksync_object *o, const struct type_view *v)
{
	struct counters c;

	counters_of(o, &c);
	put_json(o, v, &c);
}
