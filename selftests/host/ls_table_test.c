// SPDX-License-Identifier: GPL-2.0
/*
 * ksync ls natively (tools/ksync/names.c and lstable.c): the strict UTF-8
 * check against an oracle of its own, the escaping of every byte and
 * every two-byte name for terminals and for JSON, the table's columns on
 * objects no module need hold, and ls without /dev/ksync.  Linked with
 * the command's sources, its main() renamed; built with ASan and UBSan.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <ksync.h>

#include "../../tools/ksync/cli.h"
#include "../../tools/ksync/lstable.h"
#include "../../tools/ksync/names.h"
#include "kselftest_harness.h"

int ksync_main(int argc, char **argv);

/* The oracle: cp's one UTF-8 form (RFC 3629), or 0 for a surrogate or past U+10FFFF. */
static int encode(unsigned int cp, unsigned char *out)
{
	if ((cp >= 0xd800 && cp < 0xe000) || cp > 0x10ffff)
		return 0;
	if (cp < 0x80) {
		out[0] = (unsigned char)cp;
		return 1;
	}
	if (cp < 0x800) {
		out[0] = (unsigned char)(0xc0 | cp >> 6);
		out[1] = (unsigned char)(0x80 | (cp & 0x3f));
		return 2;
	}
	if (cp < 0x10000) {
		out[0] = (unsigned char)(0xe0 | cp >> 12);
		out[1] = (unsigned char)(0x80 | (cp >> 6 & 0x3f));
		out[2] = (unsigned char)(0x80 | (cp & 0x3f));
		return 3;
	}
	out[0] = (unsigned char)(0xf0 | cp >> 18);
	out[1] = (unsigned char)(0x80 | (cp >> 12 & 0x3f));
	out[2] = (unsigned char)(0x80 | (cp >> 6 & 0x3f));
	out[3] = (unsigned char)(0x80 | (cp & 0x3f));
	return 4;
}

/* Every code point's form is one sequence, of its code point. */
TEST(utf8_every_code_point)
{
	unsigned char s[8];

	for (unsigned int cp = 1; cp <= 0x10ffff; cp++) {
		unsigned int got = 0;
		int n = encode(cp, s);

		if (!n)
			continue;
		s[n] = 0;
		ASSERT_EQ((size_t)n, utf8_seq(s, &got)) TH_LOG("U+%04X", cp);
		ASSERT_EQ(cp, got);
	}
}

/* The oracle's length of the sequence at s: its lead byte's, if it is a code point's form. */
static size_t oracle_len(const unsigned char *s, unsigned int *cp)
{
	size_t k = s[0] < 0x80		   ? 1
		   : (s[0] & 0xe0) == 0xc0 ? 2
		   : (s[0] & 0xf0) == 0xe0 ? 3
		   : (s[0] & 0xf8) == 0xf0 ? 4
					   : 0;
	unsigned char form[4];

	if (!k)
		return 0;
	*cp = k == 1 ? s[0] : s[0] & (0xffu >> (k + 1));
	for (size_t i = 1; i < k; i++) {
		if ((s[i] & 0xc0) != 0x80)
			return 0;
		*cp = *cp << 6 | (s[i] & 0x3f);
	}
	return encode(*cp, form) == (int)k && !memcmp(form, s, k) ? k : 0;
}

/*
 * Nothing else is taken: every first and second byte, with the third and
 * fourth at the edges of the continuation range and beyond.
 */
TEST(utf8_nothing_else)
{
	static const unsigned char edges[] = { 0x00, 0x41, 0x7f, 0x80, 0x8f, 0x90,
					       0x9f, 0xa0, 0xbf, 0xc0, 0xff };
	unsigned char s[5] = { 0 };

	for (unsigned int i = 0; i < 0x10000 * 121; i++) {
		unsigned int cp = 0, want = 0;
		size_t n;

		s[0] = (unsigned char)(i >> 8 & 0xff);
		s[1] = (unsigned char)(i & 0xff);
		s[2] = edges[(i >> 16) % 11];
		s[3] = edges[(i >> 16) / 11];
		if (!s[0])
			continue;
		n = utf8_seq(s, &cp);
		ASSERT_EQ(oracle_len(s, &want), n)
		TH_LOG("%02x %02x %02x %02x", s[0], s[1], s[2], s[3]);
		if (n) {
			ASSERT_EQ(want, cp);
		}
	}
}

/* \xNN back to its byte: the escaping undone. */
static void unescape(const char *s, char *out)
{
	unsigned int b;

	while (*s) {
		if (s[0] == '\\' && s[1] == 'x' && sscanf(s + 2, "%2x", &b) == 1) {
			*out++ = (char)b;
			s += 4;
		} else {
			*out++ = *s++;
		}
	}
	*out = 0;
}

/* Safe on a terminal: valid UTF-8 (ASCII if ascii) with no control at all. */
static bool safe(const char *s, bool ascii)
{
	const unsigned char *p = (const unsigned char *)s;
	unsigned int cp;
	size_t n;

	for (; *p; p += n) {
		n = utf8_seq(p, &cp);
		if (!n || cp < 0x20 || (cp >= 0x7f && cp <= 0x9f) || (ascii && cp > 0x7f) ||
		    invisible(cp))
			return false;
	}
	return true;
}

/* Every name of one and two bytes, escaped, reads back as itself and is safe. */
TEST(escape_every_pair)
{
	static const unsigned int flags[] = { 0, ESC_ASCII, ESC_SPACE };
	char name[4] = "/", out[NAME_ESCAPED_MAX], back[300];

	for (unsigned int i = 0; i < 256 * 256; i++) {
		name[1] = (char)(i >> 8);
		name[2] = (char)(i & 0xff);
		if (!name[1] || name[1] == '/' || name[2] == '/')
			continue;
		for (int f = 0; f < 3; f++) {
			escape_name(name, out, sizeof(out), flags[f]);
			ASSERT_TRUE(safe(out, flags[f] == ESC_ASCII)) TH_LOG("%04x", i);
			ASSERT_TRUE(flags[f] != ESC_SPACE || !strchr(out, ' '));
			unescape(out, back);
			ASSERT_STREQ(name, back);
		}
	}
	escape_name("/\xc2\x9b[2J\\", out, sizeof(out), 0);
	ASSERT_STREQ("/\\xc2\\x9b[2J\\x5c", out);
	escape_name("/\xe2\x82\xac", out, sizeof(out), 0);
	ASSERT_STREQ("/\xe2\x82\xac", out);
	escape_name("/\xe2\x82\xac", out, sizeof(out), ESC_ASCII);
	ASSERT_STREQ("/\\xe2\\x82\\xac", out);
}

/* The longest name fits NAME_ESCAPED_MAX, escaped whole; a short buffer cuts it cleanly. */
TEST(escape_longest)
{
	char name[257], out[NAME_ESCAPED_MAX], small[10];

	name[0] = '/';
	memset(name + 1, 0x9b, 255);
	name[256] = 0;
	ASSERT_EQ((size_t)1 + 255 * 4, escape_name(name, out, sizeof(out), 0));
	ASSERT_EQ(strlen(out), (size_t)1 + 255 * 4);
	escape_name(name, small, sizeof(small), 0);
	ASSERT_STREQ("/\\x9b\\x9b", small);
}

/* Run fn with stdout into buf (a memstream's copy); what it returned. */
static char *captured(void (*fn)(const char *, FILE *), const char *s)
{
	static char *buf;
	size_t len;
	FILE *f;

	free(buf);
	buf = NULL;
	f = open_memstream(&buf, &len);
	fn(s, f);
	fclose(f);
	return buf;
}

/* A JSON string's value, for what the command writes (\", \\, \uXXXX, pairs, raw UTF-8). */
static bool json_decode(const char *s, char *out)
{
	unsigned int u, lo;

	if (*s++ != '"')
		return false;
	for (; *s != '"'; s++) {
		if (!*s || (unsigned char)*s < 0x20)
			return false;
		if (*s != '\\') {
			*out++ = *s;
			continue;
		}
		s++;
		if (*s == 'u' && sscanf(s + 1, "%4x", &u) == 1 && u >= 0xd800 && u < 0xdc00 &&
		    sscanf(s + 5, "\\u%4x", &lo) == 1 && lo >= 0xdc00 && lo < 0xe000) {
			out += encode(0x10000 + ((u - 0xd800) << 10) + (lo - 0xdc00),
				      (unsigned char *)out);
			s += 10;
		} else if (*s == 'u' && sscanf(s + 1, "%4x", &u) == 1 &&
			   encode(u, (unsigned char *)out)) {
			out += encode(u, (unsigned char *)out);
			s += 4;
		} else if (*s == '"' || *s == '\\') {
			*out++ = *s;
		} else {
			return false;
		}
	}
	*out = 0;
	return !s[1];
}

/* Every two-byte name in JSON: exact if UTF-8, else null; name_hex always exact. */
TEST(json_every_pair)
{
	char name[4] = "/", back[300];

	for (unsigned int i = 0; i < 256 * 256; i++) {
		const char *json, *hex;
		unsigned int b;

		name[1] = (char)(i >> 8);
		name[2] = (char)(i & 0xff);
		if (!name[1] || name[1] == '/' || name[2] == '/')
			continue;
		json = captured(put_json_name, name);
		ASSERT_TRUE(safe(json, false));
		if (utf8_valid(name)) {
			ASSERT_TRUE(json_decode(json, back)) TH_LOG("%s", json);
			ASSERT_STREQ(name, back);
		} else {
			ASSERT_STREQ("null", json);
		}
		hex = captured(put_json_hex, name);
		ASSERT_EQ('"', hex[0]);
		for (hex++, b = 0; *hex != '"'; hex += 2)
			ASSERT_EQ(1, sscanf(hex, "%2x", (unsigned int *)&back[b++]));
		back[b] = 0;
		for (unsigned int k = 0; k < b; k++)
			ASSERT_EQ(name[k], back[k]);
	}
}

/*
 * Every code point in a name, for a terminal and in JSON: safe, and read
 * back as itself; the characters that reorder or hide text are escaped
 * (the list in names.c is checked here by its best-known members).
 */
TEST(every_code_point_escaped)
{
	static const unsigned int hidden[] = { 0x00ad, 0x061c, 0x200b,	0x200d,	 0x200e, 0x200f,
					       0x2028, 0x2029, 0x202a,	0x202e,	 0x2060, 0x2066,
					       0x2069, 0xfeff, 0xe0001, 0xe0041, 0xe007f };
	char name[8] = "/", out[NAME_ESCAPED_MAX], back[300];

	for (unsigned int cp = 1; cp <= 0x10ffff; cp++) {
		int n = encode(cp, (unsigned char *)name + 1);
		const char *json;

		if (!n || cp == '/')
			continue;
		name[1 + n] = 'x';
		name[2 + n] = 0;
		escape_name(name, out, sizeof(out), 0);
		ASSERT_TRUE(safe(out, false)) TH_LOG("U+%04X", cp);
		unescape(out, back);
		ASSERT_STREQ(name, back);
		json = captured(put_json_name, name);
		ASSERT_TRUE(safe(json, false)) TH_LOG("U+%04X", cp);
		ASSERT_TRUE(json_decode(json, back)) TH_LOG("%s", json);
		ASSERT_STREQ(name, back);
	}
	for (size_t i = 0; i < sizeof(hidden) / sizeof(hidden[0]); i++) {
		ASSERT_TRUE(invisible(hidden[i])) TH_LOG("U+%04X", hidden[i]);
	}
	escape_name("/evil\xe2\x80\xaetxt.exe", out, sizeof(out), 0);
	ASSERT_STREQ("/evil\\xe2\\x80\\xaetxt.exe", out);
	ASSERT_STREQ("\"/evil\\u202etxt.exe\"",
		     captured(put_json_name, "/evil\xe2\x80\xaetxt.exe"));
	ASSERT_STREQ("\"/\\udb40\\udc41\"", captured(put_json_name, "/\xf3\xa0\x81\x81"));
}

static struct ksync_object object(unsigned int type, const char *name)
{
	struct ksync_object o = { .size = sizeof(o), .type = type, .mode = 0640, .handles = 3 };

	snprintf(o.name, sizeof(o.name), "%s", name);
	return o;
}

static char *table(const struct ksync_object *o, size_t n, const struct ls_format *fmt)
{
	static char *buf;
	size_t len;
	FILE *f;

	free(buf);
	buf = NULL;
	f = open_memstream(&buf, &len);
	if (ls_table(o, n, fmt, f))
		fprintf(f, "(failed)");
	fclose(f);
	return buf;
}

/* The start of each heading; how many. */
static int starts(const char *line, int *at)
{
	int n = 0;

	for (int i = 0; line[i] && line[i] != '\n'; i++)
		if (line[i] != ' ' && (i == 0 || line[i - 1] == ' '))
			at[n++] = i;
	return n;
}

/* The default table: 80 wide but the name, and no cell runs into the next. */
TEST(default_columns)
{
	struct ksync_object o[3] = { object(KSYNC_TYPE_QUEUE, "/q"), object(KSYNC_TYPE_SEM, "/s"),
				     object(KSYNC_TYPE_BARRIER, "/b") };
	struct ls_format fmt = { .ncols = 0 };
	int at[LS_COLS_MAX], n;
	char *t;

	/*
	 * the widest a queue gets but for "broken" (a ring found corrupt), an
	 * owner of 8 characters (a uid with no name)
	 */
	o[0].uid = 12345678;
	o[0].queue.capacity = KSYNC_QUEUE_CAPACITY_MAX;
	o[0].queue.length = KSYNC_QUEUE_CAPACITY_MAX;
	o[0].queue.msg_size = KSYNC_QUEUE_MSG_MAX - 512;
	o[0].queue.sleepers = 99999;
	o[0].queue.shutdown = o[0].queue.eof = 1;
	o[1].sem.value = 2147483647;
	o[2].barrier.parties = 7;
	o[2].barrier.broken = 1;
	ls_default_columns(&fmt);
	t = table(o, 3, &fmt);
	n = starts(t, at);
	ASSERT_EQ(8, n);
	ASSERT_EQ(0, strncmp(t, "TYPE", 4));
	ASSERT_EQ(0, strncmp("NAME\n", t + at[n - 1], 5));
	for (const char *p = t, *nl; (nl = strchr(p, '\n')); p = nl + 1) {
		ASSERT_GE(80, nl - p - (p == t ? 4 : 2)) TH_LOG("%.*s", (int)(nl - p), p);
		for (int i = 1; i < n; i++)
			ASSERT_EQ(' ', p[at[i] - 1]) TH_LOG("%.*s", (int)(nl - p), p);
	}
	ASSERT_NE(NULL, strstr(t, "shutdown,eof"));
	ASSERT_NE(NULL, strstr(t, "broken"));
	ASSERT_NE(NULL, strstr(t, "1048576/1048576 of 1023.5K"));
	ASSERT_NE(NULL, strstr(t, "2147483647 free"));
	ASSERT_NE(NULL, strstr(t, "0/7 in"));
}

TEST(chosen_columns)
{
	struct ksync_object o[2] = { object(KSYNC_TYPE_QUEUE, "/a b\x9b"),
				     object(KSYNC_TYPE_SEM, "/s") };
	struct ls_format fmt = { .ncols = 0 };
	char list[64];
	const char *bad;

	o[0].queue.capacity = 4;
	o[0].queue.msg_size = 4096;
	ls_default_columns(&fmt);
	snprintf(list, sizeof(list), "name,MsgSize,SIZE");
	ASSERT_EQ(0, ls_set_columns(&fmt, list, &bad));
	ASSERT_STREQ("NAME     MSGSIZE SIZE\n/a b\\x9b      4K  16K\n/s             -    -\n",
		     table(o, 2, &fmt));
	fmt.bytes = fmt.raw = fmt.noheadings = true;
	ASSERT_STREQ("/a\\x20b\\x9b 4096 16384\n/s - -\n", table(o, 2, &fmt));
	snprintf(list, sizeof(list), "+id");
	ASSERT_EQ(0, ls_set_columns(&fmt, list, &bad));
	ASSERT_EQ(4u, fmt.ncols);
	snprintf(list, sizeof(list), "NAME,NOPE");
	ASSERT_EQ(-EINVAL, ls_set_columns(&fmt, list, &bad));
	ASSERT_STREQ("NOPE", bad);
	snprintf(list, sizeof(list), ",");
	ASSERT_EQ(-EINVAL, ls_set_columns(&fmt, list, &bad));
}

/* Who made it and when (0 from a module that does not say), and a semaphore's maximum. */
TEST(creation_and_maximum)
{
	struct ksync_object o[3] = { object(KSYNC_TYPE_SEM, "/max"),
				     object(KSYNC_TYPE_SEM, "/none"),
				     object(KSYNC_TYPE_QUEUE, "/old") };
	struct ls_format fmt = { .raw = true, .noheadings = true };
	char list[64];
	const char *bad;

	setenv("TZ", "UTC", 1);
	tzset();
	o[0].sem.max = 3;
	o[0].ctime_ns = 1796664756ULL * 1000000000 + 999999999;
	o[0].creator_pid = 4242;
	o[1].sem.max = KSYNC_SEM_VALUE_MAX;
	o[1].ctime_ns = 1;
	snprintf(list, sizeof(list), "NAME,MAX,CTIME,CPID");
	ASSERT_EQ(0, ls_set_columns(&fmt, list, &bad));
	ASSERT_STREQ("/max 3 2026-12-07\\x2017:32:36 4242\n"
		     "/none - 1970-01-01\\x2000:00:00 -\n"
		     "/old - - -\n",
		     table(o, 3, &fmt));
}

/* ksync ls --help and ksync(1) name every column. */
TEST(every_column_documented)
{
	static char page[65536];
	FILE *f = fopen("docs/ksync.1", "r");
	size_t len;

	ASSERT_NE(NULL, f);
	len = fread(page, 1, sizeof(page) - 1, f);
	fclose(f);
	page[len] = 0;
	for (size_t i = 0; i < ls_ncolumns; i++) {
		char want[32];

		snprintf(want, sizeof(want), "  %s ", ls_columns[i].id);
		ASSERT_NE(NULL, strstr(cmd_ls.usage, want)) TH_LOG("%s", ls_columns[i].id);
		snprintf(want, sizeof(want), " %s ", ls_columns[i].id);
		if (!strstr(page, want))
			snprintf(want, sizeof(want), " %s\n", ls_columns[i].id);
		ASSERT_NE(NULL, strstr(page, want)) TH_LOG("%s", ls_columns[i].id);
	}
}

/* Without the module: exit 10, and nothing at all on stdout. */
TEST(nothing_on_stdout_without_module)
{
	static const char *const modes[][4] = { { "ls" },
						{ "ls", "--json" },
						{ "ls", "--watch", "0.1" } };
	char buf[256];
	int p[2], saved;

	if (access("/dev/ksync", F_OK) == 0)
		SKIP(return, "the module is loaded here (the guests' cli_ls_test covers it)");
	for (int m = 0; m < 3; m++) {
		char *argv[5] = { "ksync" };
		int argc = 1;
		ssize_t n;

		for (int a = 0; a < 3 && modes[m][a]; a++)
			argv[argc++] = (char *)modes[m][a];
		ASSERT_EQ(0, pipe(p));
		fflush(stdout);
		saved = dup(1);
		dup2(p[1], 1);
		optind = 0;
		ASSERT_EQ(10, ksync_main(argc, argv));
		fflush(stdout);
		dup2(saved, 1);
		close(saved);
		close(p[1]);
		n = read(p[0], buf, sizeof(buf));
		close(p[0]);
		ASSERT_EQ(0, n) TH_LOG("%s: %.*s", modes[m][argc - 2], (int)n, buf);
	}
}

TEST_HARNESS_MAIN
