// SPDX-License-Identifier: GPL-2.0
/*
 * The ksync command's table of types (tools/ksync/types.c), natively: every
 * type the library knows has one entry, found by number and by name, and
 * a type the table lacks is found by neither and reported as an error,
 * never shown as another type.  No module can list a type it does not
 * have, so this is where the unknown type is tested.  Linked with the
 * command's sources, its main() renamed.
 */
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include <ksync.h>

#include "../../tools/ksync/cli.h"
#include "kselftest_harness.h"

TEST(every_type_once)
{
	static const unsigned int types[] = { KSYNC_TYPE_SEM, KSYNC_TYPE_BARRIER, KSYNC_TYPE_QUEUE,
					      KSYNC_TYPE_EVENT };

	for (size_t i = 0; i < sizeof(types) / sizeof(types[0]); i++) {
		const struct type_view *v = view_of(types[i]);

		ASSERT_NE(NULL, v);
		ASSERT_EQ(types[i], v->type);
		ASSERT_EQ(v, view_named(v->name));
		ASSERT_NE(NULL, v->create);
		ASSERT_NE(NULL, v->state);
		ASSERT_NE(NULL, v->state_json);
		ASSERT_NE(NULL, v->fast);
		ASSERT_NE(NULL, v->fast_json);
		ASSERT_NE(NULL, v->calls);
		ASSERT_NE(NULL, v->calls_json);
		ASSERT_NE(NULL, v->detail);
	}
	ASSERT_STREQ("sem", view_of(KSYNC_TYPE_SEM)->name);
	ASSERT_STREQ("barrier", view_of(KSYNC_TYPE_BARRIER)->name);
	ASSERT_STREQ("queue", view_of(KSYNC_TYPE_QUEUE)->name);
	ASSERT_STREQ("event", view_of(KSYNC_TYPE_EVENT)->name);
}

TEST(unknown_type_is_no_type)
{
	ASSERT_EQ(NULL, view_of(0));
	ASSERT_EQ(NULL, view_of(5));
	ASSERT_EQ(NULL, view_of(0xffffffffu));
	ASSERT_EQ(NULL, view_named("mutex"));
	ASSERT_EQ(NULL, view_named(""));
	ASSERT_EQ(NULL, view_named("?"));
}

/* The message names the object (escaped) and the number, and the exit code is not 0. */
TEST(unknown_type_is_an_error)
{
	struct ksync_object o = { .size = sizeof(o), .type = 5 };
	char text[512];
	int p[2], saved;
	ssize_t n;

	snprintf(o.name, sizeof(o.name), "/new\nthing");
	ASSERT_EQ(0, pipe(p));
	saved = dup(2);
	ASSERT_LE(0, saved);
	fflush(stderr);
	ASSERT_LE(0, dup2(p[1], 2));
	ASSERT_NE(0, unknown_type("ls", &o));
	fflush(stderr);
	ASSERT_LE(0, dup2(saved, 2));
	close(saved);
	close(p[1]);
	n = read(p[0], text, sizeof(text) - 1);
	close(p[0]);
	ASSERT_LT(0, n);
	text[n] = 0;
	ASSERT_NE(NULL, strstr(text, "ksync ls: /new\\x0athing: an object of type 5"));
	ASSERT_NE(NULL, strstr(text, "does not know"));
}

TEST_HARNESS_MAIN
