// SPDX-License-Identifier: LGPL-2.1-or-later
/*
 * The table of ksync ls, as lsipc and lsblk make theirs: columns chosen
 * with -o, each as wide as its widest cell, so that no cell runs into the
 * next; the defaults fit 80 columns but for the name, which comes last.
 * Every cell goes through escape_name(): a name, or an owner's, can hold
 * anything.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>

#include <ksync.h>

#include "cli.h"
#include "lstable.h"
#include "names.h"

struct ls_row {
	const struct ksync_object *o;
	const struct type_view *v;
	bool bytes;
	bool counted; /* c is valid */
	struct ksync_counters c;
};

static void size_text(unsigned long long v, bool bytes, char *buf, size_t len)
{
	static const char units[] = "BKMGT";
	double d = (double)v;
	int u = 0;

	if (bytes) {
		snprintf(buf, len, "%llu", v);
		return;
	}
	while (d >= 1024 && units[u + 1]) {
		d /= 1024;
		u++;
	}
	/* as lsipc: 4K, 1.5K, 100B */
	if (d == (double)(unsigned long long)d)
		snprintf(buf, len, "%llu%c", (unsigned long long)d, units[u]);
	else
		snprintf(buf, len, "%.1f%c", d, units[u]);
}

static void c_name(const struct ls_row *r, char *buf, size_t len)
{
	snprintf(buf, len, "%s", r->o->name);
}

static void c_type(const struct ls_row *r, char *buf, size_t len)
{
	snprintf(buf, len, "%s", r->v->name);
}

static void c_id(const struct ls_row *r, char *buf, size_t len)
{
	snprintf(buf, len, "%llu", r->o->id);
}

static void c_owner(const struct ls_row *r, char *buf, size_t len)
{
	char n[16];

	snprintf(buf, len, "%s", owner_name(r->o->uid, n, sizeof(n)));
}

static void c_uid(const struct ls_row *r, char *buf, size_t len)
{
	snprintf(buf, len, "%u", r->o->uid);
}

static void c_group(const struct ls_row *r, char *buf, size_t len)
{
	char n[16];

	snprintf(buf, len, "%s", group_name(r->o->gid, n, sizeof(n)));
}

static void c_gid(const struct ls_row *r, char *buf, size_t len)
{
	snprintf(buf, len, "%u", r->o->gid);
}

static void c_mode(const struct ls_row *r, char *buf, size_t len)
{
	snprintf(buf, len, "%04o", r->o->mode);
}

static void c_handles(const struct ls_row *r, char *buf, size_t len)
{
	snprintf(buf, len, "%u", r->o->handles);
}

static void c_state(const struct ls_row *r, char *buf, size_t len)
{
	const struct ksync_object *o = r->o;
	char size[32];

	switch (o->type) {
	case KSYNC_TYPE_SEM:
		snprintf(buf, len, "%u free", o->sem.value);
		break;
	case KSYNC_TYPE_BARRIER:
		snprintf(buf, len, "%u/%u in", o->barrier.waiting, o->barrier.parties);
		break;
	case KSYNC_TYPE_EVENT:
		snprintf(buf, len, "%s", o->event.set ? "set" : "clear");
		break;
	default:
		size_text(o->queue.msg_size, r->bytes, size, sizeof(size));
		snprintf(buf, len, "%u/%u of %s", o->queue.length, o->queue.capacity, size);
		break;
	}
}

static void c_asleep(const struct ls_row *r, char *buf, size_t len)
{
	const struct ksync_object *o = r->o;

	snprintf(buf, len, "%u",
		 o->type == KSYNC_TYPE_SEM	 ? o->sem.waiters
		 : o->type == KSYNC_TYPE_BARRIER ? o->barrier.waiting
		 : o->type == KSYNC_TYPE_EVENT	 ? o->event.waiters
						 : o->queue.sleepers);
}

static void c_flags(const struct ls_row *r, char *buf, size_t len)
{
	const struct ksync_object *o = r->o;
	bool q = o->type == KSYNC_TYPE_QUEUE;

	snprintf(buf, len, "%s%s%s%s%s", q && o->queue.shutdown ? ",shutdown" : "",
		 (q && o->queue.broken) || (o->type == KSYNC_TYPE_BARRIER && o->barrier.broken)
			 ? ",broken"
			 : "",
		 q && o->queue.eof ? ",eof" : "", q && o->queue.noeof ? ",noeof" : "",
		 o->type == KSYNC_TYPE_EVENT && o->event.auto_reset ? ",auto" : "");
	if (!buf[0])
		snprintf(buf, len, "-");
	else
		memmove(buf, buf + 1, strlen(buf)); /* the leading comma */
}

static void c_round(const struct ls_row *r, char *buf, size_t len)
{
	if (r->o->type == KSYNC_TYPE_BARRIER)
		snprintf(buf, len, "%u", r->o->barrier.generation);
	else
		snprintf(buf, len, "-");
}

static void c_msgsize(const struct ls_row *r, char *buf, size_t len)
{
	if (r->o->type == KSYNC_TYPE_QUEUE)
		size_text(r->o->queue.msg_size, r->bytes, buf, len);
	else
		snprintf(buf, len, "-");
}

/* What the queue's ring may hold: capacity times message size. */
static void c_size(const struct ls_row *r, char *buf, size_t len)
{
	if (r->o->type == KSYNC_TYPE_QUEUE)
		size_text((unsigned long long)r->o->queue.capacity * r->o->queue.msg_size, r->bytes,
			  buf, len);
	else
		snprintf(buf, len, "-");
}

/* A semaphore's maximum; '-' for none (or a module that has none). */
static void c_max(const struct ls_row *r, char *buf, size_t len)
{
	unsigned int max = r->o->sem.max;

	if (r->o->type == KSYNC_TYPE_SEM && max && max < KSYNC_SEM_VALUE_MAX)
		snprintf(buf, len, "%u", max);
	else
		snprintf(buf, len, "-");
}

/* As ipcs -t, in local time; '-' from a module that does not say. */
static void c_ctime(const struct ls_row *r, char *buf, size_t len)
{
	time_t t = (time_t)(r->o->ctime_ns / 1000000000ULL);
	struct tm tm;

	if (!r->o->ctime_ns || !localtime_r(&t, &tm) ||
	    !strftime(buf, len, "%Y-%m-%d %H:%M:%S", &tm))
		snprintf(buf, len, "-");
}

/* 0: the creator is outside the caller's pid namespace, or the module does not say. */
static void c_cpid(const struct ls_row *r, char *buf, size_t len)
{
	if (r->o->creator_pid)
		snprintf(buf, len, "%u", r->o->creator_pid);
	else
		snprintf(buf, len, "-");
}

static void c_fast(const struct ls_row *r, char *buf, size_t len)
{
	if (r->counted && r->c.fast_valid)
		r->v->fast(&r->c, buf, len);
	else
		snprintf(buf, len, "-");
}

static void c_calls(const struct ls_row *r, char *buf, size_t len)
{
	if (r->counted)
		r->v->calls(&r->c, buf, len);
	else
		snprintf(buf, len, "-");
}

const struct ls_column ls_columns[] = {
	{ "TYPE", false, false, c_type },    { "OWNER", false, false, c_owner },
	{ "MODE", false, false, c_mode },    { "HANDLES", true, false, c_handles },
	{ "ASLEEP", true, false, c_asleep }, { "STATE", false, false, c_state },
	{ "FLAGS", false, false, c_flags },  { "NAME", false, false, c_name },
	{ "ID", true, false, c_id },	     { "UID", true, false, c_uid },
	{ "GROUP", false, false, c_group },  { "GID", true, false, c_gid },
	{ "ROUND", true, false, c_round },   { "MSGSIZE", true, false, c_msgsize },
	{ "SIZE", true, false, c_size },     { "MAX", true, false, c_max },
	{ "CTIME", false, false, c_ctime },  { "CPID", true, false, c_cpid },
	{ "FAST", false, true, c_fast },     { "CALLS", false, true, c_calls },
};

const size_t ls_ncolumns = sizeof(ls_columns) / sizeof(ls_columns[0]);

/* The columns up to NAME are the defaults. */
void ls_default_columns(struct ls_format *fmt)
{
	fmt->ncols = 0;
	for (size_t i = 0; i < ls_ncolumns; i++) {
		fmt->cols[fmt->ncols++] = &ls_columns[i];
		if (!strcmp(ls_columns[i].id, "NAME"))
			break;
	}
}

static const struct ls_column *column_named(const char *id)
{
	for (size_t i = 0; i < ls_ncolumns; i++)
		if (!strcasecmp(id, ls_columns[i].id))
			return &ls_columns[i];
	return NULL;
}

int ls_set_columns(struct ls_format *fmt, char *list, const char **bad)
{
	char *save = NULL, *id;

	if (*list == '+')
		list++;
	else
		fmt->ncols = 0;
	for (id = strtok_r(list, ",", &save); id; id = strtok_r(NULL, ",", &save)) {
		const struct ls_column *c = column_named(id);

		if (!c || fmt->ncols == LS_COLS_MAX) {
			*bad = id;
			return -EINVAL;
		}
		fmt->cols[fmt->ncols++] = c;
	}
	if (!fmt->ncols) {
		*bad = "";
		return -EINVAL;
	}
	return 0;
}

/* Characters on a terminal: UTF-8 continuation bytes take no room. */
static size_t width(const char *s)
{
	size_t w = 0;

	for (; *s; s++)
		w += ((unsigned char)*s & 0xc0) != 0x80;
	return w;
}

static bool needs_counters(const struct ls_format *fmt)
{
	for (size_t i = 0; i < fmt->ncols; i++)
		if (fmt->cols[i]->counters)
			return true;
	return false;
}

/* Row r's cells (r 0 is the heading) into cells[r * ncols ...]; 0 or -ENOMEM. */
static int fill_row(char **cells, const struct ksync_object *o, const struct ls_format *fmt,
		    unsigned int flags)
{
	struct ls_row r = { .o = o, .v = o ? view_of(o->type) : NULL, .bytes = fmt->bytes };
	char raw[NAME_ESCAPED_MAX], esc[NAME_ESCAPED_MAX];

	if (o && needs_counters(fmt)) {
		r.c.size = sizeof(r.c);
		r.counted = ksync_counters(o, &r.c) == 0;
	}
	for (size_t i = 0; i < fmt->ncols; i++) {
		if (o)
			fmt->cols[i]->cell(&r, raw, sizeof(raw));
		escape_name(o ? raw : fmt->cols[i]->id, esc, sizeof(esc), flags);
		cells[i] = strdup(esc);
		if (!cells[i])
			return -ENOMEM;
	}
	return 0;
}

static void put_row(char **cells, const size_t *w, const struct ls_format *fmt, FILE *f)
{
	for (size_t i = 0; i < fmt->ncols; i++) {
		bool last = i + 1 == fmt->ncols, right = fmt->cols[i]->right;
		/* (no trailing blanks: the last column is padded only on its left) */
		size_t pad = fmt->raw || (last && !right) ? 0 : w[i] - width(cells[i]);

		if (right)
			fprintf(f, "%*s%s", (int)pad, "", cells[i]);
		else
			fprintf(f, "%s%*s", cells[i], (int)pad, "");
		fputc(last ? '\n' : ' ', f);
	}
}

int ls_table(const struct ksync_object *objs, size_t n, const struct ls_format *fmt, FILE *f)
{
	unsigned int flags = term_flags() | (fmt->raw ? ESC_SPACE : 0);
	size_t first = fmt->noheadings ? 1 : 0, rows = n + 1, w[LS_COLS_MAX] = { 0 };
	char **cells = calloc(rows * fmt->ncols, sizeof(*cells));
	int ret = cells ? 0 : -ENOMEM;

	for (size_t r = 0; r < rows && !ret; r++)
		ret = fill_row(cells + r * fmt->ncols, r ? &objs[r - 1] : NULL, fmt, flags);
	for (size_t r = first; r < rows && !ret; r++)
		for (size_t i = 0; i < fmt->ncols; i++)
			if (width(cells[r * fmt->ncols + i]) > w[i])
				w[i] = width(cells[r * fmt->ncols + i]);
	for (size_t r = first; r < rows && !ret; r++)
		put_row(cells + r * fmt->ncols, w, fmt, f);
	for (size_t i = 0; cells && i < rows * fmt->ncols; i++)
		free(cells[i]);
	free(cells);
	return ret;
}
