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
#include <stdatomic.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <unistd.h>

#include "cli.h"

/*
 * The counters of one object, if the caller may open it: the kernel's,
 * and those on the shared page (fast[]: the semaphore's fast acquires and
 * releases, the barrier's fast arrivals, the queue's positions: messages
 * sent and received in all).
 */
struct counters {
	bool fast_valid;
	unsigned long long fast[2];
	bool valid;
	union {
		struct ksync_sem_info sem;
		struct ksync_barrier_info bar;
		struct ksync_queue_info q;
	};
};

/* A handle on the object for reading: opening joins nothing. */
static int open_object(const struct ksync_list_entry *e)
{
	struct ksync_open_args a = {
		.size = sizeof(a),
		.type = e->type,
		.flags = KSYNC_OPEN_CLOEXEC,
		.name = (uintptr_t)e->name,
	};

	return dev_ioctl(KSYNC_IOC_OPEN, &a);
}

/* A 64-bit field of a page others write: one relaxed atomic load. */
static unsigned long long peek(const void *page, size_t offset)
{
	return atomic_load_explicit((_Atomic uint64_t *)((const char *)page + offset),
				    memory_order_relaxed);
}

/* The counters on the shared page, mapped read-only for a moment. */
static void read_fast(int fd, const struct ksync_list_entry *e, struct counters *c)
{
	size_t len = e->type == KSYNC_TYPE_QUEUE ? c->q.map_size : (size_t)sysconf(_SC_PAGESIZE);
	void *p = mmap(NULL, len, PROT_READ, MAP_SHARED, fd, 0);

	if (p == MAP_FAILED)
		return;
	if (e->type == KSYNC_TYPE_SEM) {
		c->fast[0] = peek(p, offsetof(struct ksync_sem_shared, fast_acquires));
		c->fast[1] = peek(p, offsetof(struct ksync_sem_shared, fast_releases));
	} else if (e->type == KSYNC_TYPE_BARRIER) {
		c->fast[0] = peek(p, offsetof(struct ksync_barrier_shared, fast_arrivals));
	} else {
		c->fast[0] = peek(p, offsetof(struct ksync_queue_shared, tail));
		c->fast[1] = peek(p, offsetof(struct ksync_queue_shared, head));
	}
	c->fast_valid = true;
	munmap(p, len);
}

static void read_counters(int fd, const struct ksync_list_entry *e, struct counters *c)
{
	unsigned long cmd = e->type == KSYNC_TYPE_SEM	    ? KSYNC_IOC_SEM_INFO
			    : e->type == KSYNC_TYPE_BARRIER ? KSYNC_IOC_BARRIER_INFO
							    : KSYNC_IOC_QUEUE_INFO;

	memset(c, 0, sizeof(*c));
	c->valid = fd >= 0 && ioctl(fd, cmd, &c->sem) == 0;
	if (c->valid)
		read_fast(fd, e, c);
}

static void counters_of(const struct ksync_list_entry *e, struct counters *c)
{
	int fd = open_object(e);

	read_counters(fd, e, c);
	if (fd >= 0)
		close(fd);
}

#define WHO_MAX 64

/* Who holds and who waits; how many in all (entries: the first WHO_MAX). */
static int read_who(int fd, struct ksync_who_entry *who)
{
	struct ksync_who_args a = {
		.size = sizeof(a),
		.entries = (uintptr_t)who,
		.count = WHO_MAX,
		.entry_size = sizeof(*who),
	};
	int n = fd < 0 ? -1 : ioctl(fd, KSYNC_IOC_WHO, &a);

	return n < 0 ? -1 : n;
}

static const char *const who_verbs[] = {
	[KSYNC_WHO_HOLDS] = "holds", [KSYNC_WHO_ACQUIRES] = "acquires", [KSYNC_WHO_WAITS] = "waits",
	[KSYNC_WHO_SENDS] = "sends", [KSYNC_WHO_RECEIVES] = "receives",
};

static const char *who_verb(unsigned int what)
{
	return what < sizeof(who_verbs) / sizeof(who_verbs[0]) && who_verbs[what] ? who_verbs[what]
										  : "?";
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

/* Names may hold any byte but '/' and NUL: never send raw control bytes
 * to a terminal. */
static void put_name(const char *s, FILE *f)
{
	for (; *s; s++) {
		unsigned char c = (unsigned char)*s;

		if (c < 0x20 || c == 0x7f || c == '\\')
			fprintf(f, "\\x%02x", c);
		else
			fputc(c, f);
	}
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

static void state_text(const struct ksync_list_entry *e, char *buf, size_t len)
{
	switch (e->type) {
	case KSYNC_TYPE_SEM:
		snprintf(buf, len, "value %u, %u waiting", e->sem.value, e->sem.waiters);
		break;
	case KSYNC_TYPE_BARRIER:
		snprintf(buf, len, "%u/%u arrived, round %u%s", e->barrier.waiting,
			 e->barrier.parties, e->barrier.generation,
			 e->barrier.broken ? ", BROKEN" : "");
		break;
	case KSYNC_TYPE_QUEUE:
		snprintf(buf, len, "%u/%u msgs of %u B, %u asleep%s%s%s", e->queue.length,
			 e->queue.capacity, e->queue.msg_size, e->queue.sleepers,
			 e->queue.state & KSYNC_QUEUE_STATE_SHUTDOWN ? ", SHUT DOWN" : "",
			 e->queue.state & KSYNC_QUEUE_STATE_BROKEN ? ", BROKEN" : "",
			 e->queue.state & KSYNC_QUEUE_STATE_EOF ? ", EOF" : "");
		break;
	default:
		snprintf(buf, len, "?");
	}
}

static void fast_text(const struct ksync_list_entry *e, const struct counters *c, char *buf,
		      size_t len)
{
	if (!c->fast_valid)
		snprintf(buf, len, "-");
	else if (e->type == KSYNC_TYPE_SEM)
		snprintf(buf, len, "acq %llu rel %llu", c->fast[0], c->fast[1]);
	else if (e->type == KSYNC_TYPE_BARRIER)
		snprintf(buf, len, "arrive %llu", c->fast[0]);
	else
		snprintf(buf, len, "(all) sent %llu got %llu", c->fast[0], c->fast[1]);
}

static void counters_text(const struct ksync_list_entry *e, const struct counters *c, char *buf,
			  size_t len)
{
	if (!c->valid)
		snprintf(buf, len, "-");
	else if (e->type == KSYNC_TYPE_SEM)
		snprintf(buf, len, "wait %llu wake %llu", (unsigned long long)c->sem.wait_calls,
			 (unsigned long long)c->sem.wake_calls);
	else if (e->type == KSYNC_TYPE_BARRIER)
		snprintf(buf, len, "wait %llu break %llu", (unsigned long long)c->bar.wait_calls,
			 (unsigned long long)c->bar.breaks);
	else
		snprintf(buf, len, "send %llu recv %llu wake %llu",
			 (unsigned long long)c->q.send_calls, (unsigned long long)c->q.recv_calls,
			 (unsigned long long)c->q.wake_calls);
}

struct listing {
	bool json;
	int shown;
};

static int show_row(const struct ksync_list_entry *e, void *arg)
{
	struct listing *l = arg;
	struct counters c;
	char u[16], st[96], ct[96], ft[96];

	counters_of(e, &c);
	if (l->json)
		return 0;
	state_text(e, st, sizeof(st));
	fast_text(e, &c, ft, sizeof(ft));
	counters_text(e, &c, ct, sizeof(ct));
	printf("%-7s %-10s %04o %7u  %-36s %-28s %-28s ", type_name(e->type),
	       user(e->uid, u, sizeof(u)), e->mode, e->handles, st, ft, ct);
	put_name(e->name, stdout);
	putchar('\n');
	l->shown++;
	return 0;
}

static void json_counter(const char *key, unsigned long long v, bool *first)
{
	printf("%s\"%s\":%llu", *first ? "" : ",", key, v);
	*first = false;
}

/* One object as a JSON object, but for its closing brace. */
static void put_json(const struct ksync_list_entry *e, const struct counters *c)
{
	char u[16], g[16];
	bool first = true;

	printf("{\"name\":");
	put_json_string(e->name, stdout);
	printf(",\"type\":\"%s\",\"owner\":", type_name(e->type));
	put_json_string(user(e->uid, u, sizeof(u)), stdout);
	printf(",\"uid\":%u,\"group\":", e->uid);
	put_json_string(group(e->gid, g, sizeof(g)), stdout);
	printf(",\"gid\":%u,\"mode\":\"%04o\",\"handles\":%u,", e->gid, e->mode, e->handles);
	switch (e->type) {
	case KSYNC_TYPE_SEM:
		printf("\"value\":%u,\"waiters\":%u", e->sem.value, e->sem.waiters);
		break;
	case KSYNC_TYPE_BARRIER:
		printf("\"parties\":%u,\"arrived\":%u,\"round\":%u,\"broken\":%s",
		       e->barrier.parties, e->barrier.waiting, e->barrier.generation,
		       e->barrier.broken ? "true" : "false");
		break;
	default:
		printf("\"capacity\":%u,\"msg_size\":%u,\"length\":%u,\"sleepers\":%u,"
		       "\"shutdown\":%s,\"broken\":%s,\"noeof\":%s,\"eof\":%s",
		       e->queue.capacity, e->queue.msg_size, e->queue.length, e->queue.sleepers,
		       e->queue.state & KSYNC_QUEUE_STATE_SHUTDOWN ? "true" : "false",
		       e->queue.state & KSYNC_QUEUE_STATE_BROKEN ? "true" : "false",
		       e->queue.state & KSYNC_QUEUE_STATE_NOEOF ? "true" : "false",
		       e->queue.state & KSYNC_QUEUE_STATE_EOF ? "true" : "false");
	}
	printf(",\"fast_counters\":");
	if (!c->fast_valid)
		printf("null");
	else if (e->type == KSYNC_TYPE_SEM)
		printf("{\"acquires\":%llu,\"releases\":%llu}", c->fast[0], c->fast[1]);
	else if (e->type == KSYNC_TYPE_BARRIER)
		printf("{\"arrivals\":%llu}", c->fast[0]);
	else
		printf("{\"sent_all\":%llu,\"received_all\":%llu}", c->fast[0], c->fast[1]);
	printf(",\"kernel_counters\":");
	if (!c->valid) {
		printf("null");
		return;
	}
	putchar('{');
	if (e->type == KSYNC_TYPE_SEM) {
		json_counter("wait_calls", c->sem.wait_calls, &first);
		json_counter("wake_calls", c->sem.wake_calls, &first);
		json_counter("woken", c->sem.woken, &first);
	} else if (e->type == KSYNC_TYPE_BARRIER) {
		json_counter("wait_calls", c->bar.wait_calls, &first);
		json_counter("woken", c->bar.woken, &first);
		json_counter("breaks", c->bar.breaks, &first);
		json_counter("resets", c->bar.resets, &first);
		json_counter("sleepers", c->bar.sleepers, &first);
	} else {
		json_counter("send_calls", c->q.send_calls, &first);
		json_counter("recv_calls", c->q.recv_calls, &first);
		json_counter("wake_calls", c->q.wake_calls, &first);
		json_counter("woken", c->q.woken, &first);
		json_counter("tombstones", c->q.tombstones, &first);
		json_counter("senders", c->q.senders, &first);
		json_counter("send_sleepers", c->q.send_sleepers, &first);
		json_counter("recv_sleepers", c->q.recv_sleepers, &first);
	}
	putchar('}');
}

static int show_json(const struct ksync_list_entry *e, void *arg)
{
	struct listing *l = arg;
	struct counters c;

	counters_of(e, &c);
	printf("%s\n  ", l->shown ? "," : "");
	put_json(e, &c);
	putchar('}');
	l->shown++;
	return 0;
}

static int list_once(bool json)
{
	struct listing l = { .json = json };
	int ret;

	if (json) {
		printf("[");
		ret = for_each_object(show_json, &l);
		printf("%s]\n", l.shown ? "\n" : "");
	} else {
		printf("%-7s %-10s %-4s %7s  %-36s %-28s %-28s %s\n", "TYPE", "OWNER", "MODE",
		       "HANDLES", "STATE", "FAST PATH", "KERNEL CALLS", "NAME");
		ret = for_each_object(show_row, &l);
	}
	fflush(stdout);
	return ret;
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
		return ret ? fail("ls", "/dev/ksync", ret) : 0;
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
			return fail("ls", "/dev/ksync", ret);
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

static void put_who_json(const struct ksync_who_entry *who, int n)
{
	printf(",\"who\":[");
	for (int i = 0; i < n && i < WHO_MAX; i++)
		printf("%s{\"what\":\"%s\",\"pid\":%u,\"tid\":%u,\"count\":%u,\"waited_s\":%.3f}",
		       i ? "," : "", who_verb(who[i].what), who[i].pid, who[i].tid, who[i].count,
		       (double)who[i].waited_ns / 1e9);
	printf("],\"who_total\":%d", n);
}

static void put_who_text(const struct ksync_who_entry *who, int n)
{
	if (n < 0) {
		printf("who:      (you may not open it)\n");
		return;
	}
	printf("who:      %s\n", n ? "" : "nobody holds or waits");
	for (int i = 0; i < n && i < WHO_MAX; i++) {
		const struct ksync_who_entry *w = &who[i];
		char pid[32];

		if (w->pid)
			snprintf(pid, sizeof(pid), "pid %u", w->pid);
		else
			snprintf(pid, sizeof(pid), "(not yours to see)");
		if (w->what == KSYNC_WHO_HOLDS)
			printf("  %-20s holds %u permit%s (UNDO)\n", pid, w->count,
			       w->count == 1 ? "" : "s");
		else if (w->what == KSYNC_WHO_ACQUIRES)
			printf("  %-20s waits for %u permit%s, asleep %.1f s (thread %u)\n", pid,
			       w->count, w->count == 1 ? "" : "s", (double)w->waited_ns / 1e9,
			       w->tid);
		else
			printf("  %-20s %s, asleep %.1f s (thread %u)\n", pid,
			       w->what == KSYNC_WHO_SENDS      ? "waits to send"
			       : w->what == KSYNC_WHO_RECEIVES ? "waits to receive"
							       : "waits at the barrier",
			       (double)w->waited_ns / 1e9, w->tid);
	}
	if (n > WHO_MAX)
		printf("  ... and %d more\n", n - WHO_MAX);
}

static int info(int argc, char **argv)
{
	static const struct option opts[] = { { "json", no_argument, NULL, 'j' },
					      { NULL, 0, NULL, 0 } };
	static struct ksync_who_entry who[WHO_MAX];
	struct ksync_list_entry e;
	struct counters c;
	char buf[KSYNC_NAME_MAX + 2], u[16], g[16], st[96];
	const char *name;
	bool json = false;
	int opt, ret, fd, n;

	while ((opt = getopt_long(argc, argv, "j", opts, NULL)) != -1) {
		if (opt != 'j')
			return usage_error(&cmd_info, "bad option");
		json = true;
	}
	if (optind != argc - 1)
		return usage_error(&cmd_info, "which name?");
	name = object_name(argv[optind], buf, sizeof(buf));
	ret = find_object(name, &e);
	if (ret)
		return fail("info", name, ret);
	fd = open_object(&e);
	read_counters(fd, &e, &c);
	n = read_who(fd, who);
	if (fd >= 0)
		close(fd);
	if (json) {
		put_json(&e, &c);
		if (n >= 0)
			put_who_json(who, n);
		printf("}\n");
		return 0;
	}
	state_text(&e, st, sizeof(st));
	printf("name:     ");
	put_name(e.name, stdout);
	printf("\ntype:     %s\nowner:    %s:%s, mode %04o\nhandles:  %u open\nstate:    %s\n",
	       type_name(e.type), user(e.uid, u, sizeof(u)), group(e.gid, g, sizeof(g)), e.mode,
	       e.handles, st);
	if (!c.valid) {
		printf("counters: (you may not open it)\n");
		return 0;
	}
	if (c.fast_valid && e.type == KSYNC_TYPE_SEM)
		printf("fast:     %llu acquires and %llu releases on the shared page alone\n",
		       c.fast[0], c.fast[1]);
	else if (c.fast_valid && e.type == KSYNC_TYPE_BARRIER)
		printf("fast:     %llu arrivals on the shared page alone\n", c.fast[0]);
	else if (c.fast_valid)
		printf("messages: %llu sent and %llu received in all\n", c.fast[0], c.fast[1]);
	if (e.type == KSYNC_TYPE_SEM)
		printf("kernel:   %llu acquires and %llu releases entered the kernel, %llu woken\n",
		       (unsigned long long)c.sem.wait_calls, (unsigned long long)c.sem.wake_calls,
		       (unsigned long long)c.sem.woken);
	else if (e.type == KSYNC_TYPE_BARRIER)
		printf("kernel:   %llu waits entered the kernel, %llu woken, %llu rounds broken, "
		       "%llu resets, %u asleep now\n",
		       (unsigned long long)c.bar.wait_calls, (unsigned long long)c.bar.woken,
		       (unsigned long long)c.bar.breaks, (unsigned long long)c.bar.resets,
		       c.bar.sleepers);
	else
		printf("senders:  %u processes\nasleep:   %u senders, %u receivers\n"
		       "kernel:   %llu sends, %llu receives, %llu wakes entered the kernel, "
		       "%llu woken, %llu dead senders' claims skipped\n",
		       c.q.senders, c.q.send_sleepers, c.q.recv_sleepers,
		       (unsigned long long)c.q.send_calls, (unsigned long long)c.q.recv_calls,
		       (unsigned long long)c.q.wake_calls, (unsigned long long)c.q.woken,
		       (unsigned long long)c.q.tombstones);
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
