// SPDX-License-Identifier: LGPL-2.1-or-later
/*
 * ksync info NAME: one object in detail: what ls shows of it, every
 * counter the module keeps, and who holds it or waits on it.
 */
#include <errno.h>
#include <getopt.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

#include <ksync.h>

#include "cli.h"

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
	[KSYNC_WHO_EVENT_WAITS] = { "waits", "waits for the event" },
};

static bool known_what(unsigned int what)
{
	return what < sizeof(whats) / sizeof(whats[0]) && whats[what].verb;
}

static const char *who_verb(unsigned int what)
{
	return known_what(what) ? whats[what].verb : "?";
}

static void put_who_json(const struct ksync_task *who, int n)
{
	printf(",\"who\":[");
	for (int i = 0; i < n && i < WHO_MAX; i++)
		printf("%s{\"what\":\"%s\",\"pid\":%u,\"tid\":%u,\"count\":%u,\"waited_s\":%.3f}",
		       i ? "," : "", who_verb(who[i].what), who[i].pid, who[i].tid, who[i].count,
		       (double)who[i].waited_ns / 1e9);
	printf("],\"who_total\":%d", n);
}

/*
 * "pid N (comm)": the command's name from /proc, escaped as names are
 * (any process may call itself anything); the pid alone if /proc does not
 * show it (another pid namespace's /proc, or it is gone).
 */
static void put_pid(unsigned int pid)
{
	char path[64], comm[64] = "";
	FILE *f;

	printf("pid %u", pid);
	snprintf(path, sizeof(path), "/proc/%u/comm", pid);
	f = fopen(path, "r");
	if (f && fgets(comm, sizeof(comm), f)) {
		comm[strcspn(comm, "\n")] = 0;
		printf(" (");
		put_name(comm, stdout);
		printf(")");
	}
	if (f)
		fclose(f);
}

static void put_task(const struct ksync_task *w)
{
	double asleep = (double)w->waited_ns / 1e9;

	printf("  ");
	if (w->pid)
		put_pid(w->pid);
	else
		printf("(not yours to see)");
	if (w->what == KSYNC_WHO_HOLDS)
		printf(" holds %u permit%s (UNDO)\n", w->count, w->count == 1 ? "" : "s");
	else if (w->what == KSYNC_WHO_ACQUIRES)
		printf(" waits for %u permit%s, asleep %.1f s (thread %u)\n", w->count,
		       w->count == 1 ? "" : "s", asleep, w->tid);
	else if (known_what(w->what))
		printf(" %s, asleep %.1f s (thread %u)\n", whats[w->what].asleep, asleep, w->tid);
	else
		printf(" does what this ksync does not know (%u), for %.1f s (thread %u)\n",
		       w->what, asleep, w->tid);
}

/*
 * When and by whom it was made (0: a module before KSYNC_0.3 does not
 * say).  The creator's pid is shown bare: it may have exited since, and
 * the pid gone to another process whose name would mislead.
 */
static void put_created(const struct ksync_object *o)
{
	time_t t = (time_t)(o->ctime_ns / 1000000000ULL);
	char when[64];
	struct tm tm;

	if (!o->ctime_ns)
		return;
	if (!localtime_r(&t, &tm) || !strftime(when, sizeof(when), "%Y-%m-%d %H:%M:%S %Z", &tm))
		snprintf(when, sizeof(when), "%llu s after the epoch", o->ctime_ns / 1000000000ULL);
	printf("created:  %s, ", when);
	if (o->creator_pid)
		printf("by pid %u\n", o->creator_pid);
	else
		printf("by a process outside your pid namespace\n");
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
	printf("\ntype:     %s\nowner:    %s:%s, mode %04o\n", v->name,
	       owner_name(o->uid, u, sizeof(u)), group_name(o->gid, g, sizeof(g)), o->mode);
	put_created(o);
	printf("handles:  %u open\nstate:    %s\n", o->handles, st);
	if (o->type == KSYNC_TYPE_SEM && o->sem.max && o->sem.max < KSYNC_SEM_VALUE_MAX)
		printf("maximum:  %u permits: a release past it fails\n", o->sem.max);
	else if (o->type == KSYNC_TYPE_SEM && o->sem.max)
		printf("maximum:  none\n");
	if (c->valid)
		v->detail(&c->c);
	else
		printf("counters: (you may not open it)\n");
}

/*
 * The listing leaves out what the caller may not read, but opening the
 * name tells that it exists (-EACCES, or -EPROTOTYPE for another type),
 * as sem_open(3) does: answer as the other subcommands do, "permission
 * denied", rather than "no such object".
 */
static int lookup(const char *name, struct ksync_object *o)
{
	int ret = ksync_lookup(name, o);
	ksync_sem_t *s;

	if (ret != -ENOENT)
		return ret;
	ret = ksync_sem_open(&s, name, 0, 0, 0);
	if (ret == -ENOENT || ret == -EACCES)
		return ret;
	if (!ret)
		ksync_sem_close(s);
	/* it may have been made since the listing: look again */
	ret = ksync_lookup(name, o);
	return ret == -ENOENT ? -EACCES : ret;
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
	ret = lookup(name, &o);
	if (ret)
		return fail("info", name, ret);
	v = view_of(o.type);
	if (!v)
		return unknown_type("info", &o);
	counters_of(&o, &c);
	n = ksync_who(&o, who, WHO_MAX);
	if (json) {
		object_json(&o, v);
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
