// SPDX-License-Identifier: LGPL-2.1-or-later
/*
 * The module's limits: ksync limits shows them with what users hold of
 * them (as ipcs -l and lsipc do), and an error names the one it reached.
 * An administrator changes them as module parameters in sysfs, so that is
 * where errors send people.
 */
#include <errno.h>
#include <getopt.h>
#include <pwd.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <ksync.h>

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

/*
 * -EDQUOT: which of the caller's two limits it reached, as its usage
 * shows it; -1 if the module cannot say (older than KSYNC_0.3).
 */
static int quota_error(const char *cmd, const char *what)
{
	struct ksync_limits l = { .size = sizeof(l) };

	if (ksync_limits(KSYNC_SELF, &l))
		return -1;
	if (l.user_objects >= l.max_objects_per_user) {
		fprintf(stderr,
			"ksync %s: %s: you own %llu objects, as many as "
			"max_objects_per_user = %llu objects allows: remove some (ksync ls, "
			"ksync rm), or have root raise it in " PARAMS "\n",
			cmd, what, l.user_objects, l.max_objects_per_user);
		return 0;
	}
	fprintf(stderr,
		"ksync %s: %s: your objects hold %llu bytes, and this one would pass "
		"max_bytes_per_user = %llu bytes (unless the owner of a user namespace you run in, "
		"who pays for your objects too, is at a limit): remove some (ksync ls, ksync rm), "
		"or have root raise it in " PARAMS "\n",
		cmd, what, l.user_bytes, l.max_bytes_per_user);
	return 0;
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
		if (!quota_error(cmd, what))
			return 1;
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

/* A size for people (64M), or exact with --bytes. */
static const char *size_text(unsigned long long v, bool bytes, char *buf, size_t len)
{
	static const char units[] = "KMGT";
	int u = -1;

	while (!bytes && v >= 1024 && !(v % 1024) && u < 3) {
		v /= 1024;
		u++;
	}
	snprintf(buf, len, "%llu%.*s", v, u >= 0 ? 1 : 0, u >= 0 ? &units[u] : "");
	return buf;
}

static void limits_json(const struct ksync_limits *l)
{
	printf("{\"max_objects\":%llu,\"objects\":%llu,\"max_objects_per_user\":%llu,"
	       "\"max_bytes_per_user\":%llu,\"max_queue_bytes\":%llu,\"uid\":%u,"
	       "\"user_objects\":%llu,\"user_bytes\":%llu",
	       l->max_objects, l->objects, l->max_objects_per_user, l->max_bytes_per_user,
	       l->max_queue_bytes, l->uid, l->user_objects, l->user_bytes);
}

static void limits_table(const struct ksync_limits *l, bool bytes)
{
	char a[32], b[32], u[16];

	/* 80 columns, as lsipc */
	printf("%-21s %10s %10s  %s\n", "LIMIT", "VALUE", "USED", "OF WHAT");
	printf("%-21s %10llu %10llu  %s\n", "max_objects", l->max_objects, l->objects,
	       "objects, all users");
	printf("%-21s %10llu %10llu  objects, user %s\n", "max_objects_per_user",
	       l->max_objects_per_user, l->user_objects, owner_name(l->uid, u, sizeof(u)));
	printf("%-21s %10s %10s  their memory, user %s\n", "max_bytes_per_user",
	       size_text(l->max_bytes_per_user, bytes, a, sizeof(a)),
	       size_text(l->user_bytes, bytes, b, sizeof(b)), owner_name(l->uid, u, sizeof(u)));
	printf("%-21s %10s %10s  %s\n", "max_queue_bytes",
	       size_text(l->max_queue_bytes, bytes, a, sizeof(a)), "-", "one queue's ring");
}

/* --users: every user's share, as root sees it; 0 or the exit code. */
static int users_table(bool json, bool bytes)
{
	struct ksync_usage *users = NULL;
	int n = 0, ret;

	do {
		free(users);
		ret = n;
		users = calloc((size_t)ret + 1, sizeof(*users));
		if (!users)
			return fail("limits", "memory", -ENOMEM);
		users[0].size = sizeof(*users);
		n = ksync_usage(users, (unsigned int)ret + 1);
	} while (n > ret + 1);
	if (n < 0) {
		free(users);
		return fail("limits", "--users", n);
	}
	if (!json)
		printf("\n%-16s %10s %10s\n", "USER", "OBJECTS", "BYTES");
	for (int i = 0; i < n; i++) {
		char u[16], b[32];

		if (json)
			printf("%s{\"uid\":%u,\"objects\":%llu,\"bytes\":%llu}", i ? "," : "",
			       users[i].uid, users[i].objects, users[i].bytes);
		else
			printf("%-16s %10llu %10s\n", owner_name(users[i].uid, u, sizeof(u)),
			       users[i].objects, size_text(users[i].bytes, bytes, b, sizeof(b)));
	}
	free(users);
	return 0;
}

static int uid_arg(const char *s, uid_t *uid)
{
	struct passwd *pw = getpwnam(s);
	unsigned int v;

	if (pw) {
		*uid = pw->pw_uid;
		return 0;
	}
	if (parse_uint(s, ~0U - 1, &v))
		return -EINVAL;
	*uid = (uid_t)v;
	return 0;
}

static int limits(int argc, char **argv)
{
	static const struct option opts[] = { { "json", no_argument, NULL, 'J' },
					      { "bytes", no_argument, NULL, 'b' },
					      { "user", required_argument, NULL, 'u' },
					      { "users", no_argument, NULL, 'U' },
					      { NULL, 0, NULL, 0 } };
	struct ksync_limits l = { .size = sizeof(l) };
	bool json = false, bytes = false, users = false;
	uid_t uid = KSYNC_SELF;
	int opt, ret;

	opterr = 0;
	while ((opt = getopt_long(argc, argv, ":bu:", opts, NULL)) != -1) {
		if (opt == 'u' && uid_arg(optarg, &uid))
			return usage_error(&cmd_limits, "--user %s: no such user", optarg);
		json |= opt == 'J';
		bytes |= opt == 'b';
		users |= opt == 'U';
		if (!strchr("JbuU", opt))
			return bad_option(&cmd_limits, opt, argv);
	}
	if (optind != argc)
		return usage_error(&cmd_limits, "no arguments expected");
	ret = ksync_limits(uid, &l);
	if (ret == -ENOTTY)
		fprintf(stderr, "ksync limits: the module is older than this ksync: its limits are "
				"in " PARAMS "\n");
	if (ret)
		return ret == -ENOTTY ? 1 : fail("limits", "/dev/ksync", ret);
	if (json)
		limits_json(&l);
	else
		limits_table(&l, bytes);
	if (users && json)
		printf(",\"users\":[");
	ret = users ? users_table(json, bytes) : 0;
	if (json)
		printf("%s}\n", users ? "]" : "");
	return ret;
}

const struct command cmd_limits = {
	.name = "limits",
	.run = limits,
	.summary = "show the module's limits and what users hold",
	.usage = "[--user USER] [--users] [--bytes] [--json]\n\n"
		 "Show the module's limits, as ipcs -l does, with what is used of each: by\n"
		 "all users together, and by you (or USER, a name or uid: root only).\n"
		 "--users adds what every user holds (root only).  Sizes are rounded to\n"
		 "K, M, G unless --bytes.  Root changes the limits in\n"
		 "" PARAMS ".\n",
};
