// SPDX-License-Identifier: LGPL-2.1-or-later
/*
 * The module's limits: what an error names when one is reached.  The
 * module parameters are world-readable in sysfs (kmod/limits.c), and an
 * administrator changes them there, so that is where we read them and
 * where we send people.
 */
#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "cli.h"

#define PARAMS "/sys/module/ksync/parameters/"

/* A module parameter's value, as text ("?" if unreadable), in buf. */
static const char *param(const char *name, char *buf, size_t len)
{
	char path[128];
	FILE *f;

	snprintf(path, sizeof(path), PARAMS "%s", name);
	f = fopen(path, "r");
	if (!f || !fgets(buf, (int)len, f))
		snprintf(buf, len, "?");
	else
		buf[strcspn(buf, "\n")] = 0;
	if (f)
		fclose(f);
	return buf;
}

int limit_error(const char *cmd, const char *what, int err)
{
	char a[32], b[32];

	switch (err) {
	case -EFBIG:
		fprintf(stderr,
			"ksync %s: %s: a queue's ring (CAPACITY slots, each MSGSIZE bytes and a "
			"header) "
			"may hold at most max_queue_bytes = %s bytes: make it smaller, or have "
			"root "
			"raise " PARAMS "max_queue_bytes\n",
			cmd, what, param("max_queue_bytes", a, sizeof(a)));
		return 1;
	case -EDQUOT:
		fprintf(stderr,
			"ksync %s: %s: over a per-user limit: max_objects_per_user = %s objects, "
			"max_bytes_per_user = %s bytes (the owners of your user namespaces pay "
			"too): remove some (ksync ls, ksync rm), or have root raise them in " PARAMS
			"\n",
			cmd, what, param("max_objects_per_user", a, sizeof(a)),
			param("max_bytes_per_user", b, sizeof(b)));
		return 1;
	case -ENOSPC:
		fprintf(stderr,
			"ksync %s: %s: the module holds max_objects = %s objects, its limit for "
			"all "
			"users together: have root raise " PARAMS "max_objects\n",
			cmd, what, param("max_objects", a, sizeof(a)));
		return 1;
	}
	return 0;
}
