/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* ksync ls: its columns, and the table they make (lstable.c). */
#ifndef KSYNC_LSTABLE_H
#define KSYNC_LSTABLE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdio.h>

struct ksync_object;
struct ls_row;

/* One column: its name for -o and the heading, and what it shows (ls --help says). */
struct ls_column {
	const char *id;
	bool right; /* a number: aligned right */
	bool counters; /* needs the object opened for its counters */
	void (*cell)(const struct ls_row *r, char *buf, size_t len);
};

extern const struct ls_column ls_columns[];
extern const size_t ls_ncolumns;

#define LS_COLS_MAX 32

struct ls_format {
	const struct ls_column *cols[LS_COLS_MAX];
	size_t ncols;
	bool bytes; /* sizes in bytes, not 4K */
	bool raw; /* one space between fields, spaces in them as \x20 */
	bool noheadings;
};

/* The default columns. */
void ls_default_columns(struct ls_format *fmt);
/*
 * -o LIST: "A,B" replaces the columns, "+A,B" adds to them; 0, or -EINVAL
 * with the column it does not know in *bad (a pointer into list).
 */
int ls_set_columns(struct ls_format *fmt, char *list, const char **bad);
/* The table of n objects, as fmt says, to f; 0 or -ENOMEM. */
int ls_table(const struct ksync_object *objs, size_t n, const struct ls_format *fmt, FILE *f);

#endif
