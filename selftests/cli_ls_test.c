// SPDX-License-Identifier: GPL-2.0
/*
 * ksync ls as scripts and terminals meet it: every byte a name may hold
 * escaped in the table and exact in the JSON, nothing on stdout without
 * the module, --watch in a pipe and on a terminal, and the columns of
 * -o, --noheadings, --raw and --bytes.
 */
#include <pty.h>
#include <sched.h>

#include "cli.h"
#include "kselftest_harness.h"

FIXTURE(ls)
{
	int unused;
};

FIXTURE_SETUP(ls)
{
	setenv("LC_ALL", "C.UTF-8", 1);
}

FIXTURE_TEARDOWN(ls)
{
	unlink_own_names();
}

/* \xNN back to its byte, anything else as it is: the table's escaping undone. */
static size_t unescape(const char *s, size_t len, char *out)
{
	size_t n = 0;

	for (size_t i = 0; i < len; i++) {
		unsigned int b;

		if (s[i] == '\\' && i + 3 < len && s[i + 1] == 'x' &&
		    sscanf(s + i + 2, "%2x", &b) == 1) {
			out[n++] = (char)b;
			i += 3;
		} else {
			out[n++] = s[i];
		}
	}
	out[n] = 0;
	return n;
}

/* RFC 3629, written apart from the command's: the length of the sequence at s, or 0. */
static int utf8_at(const unsigned char *s, unsigned int *cp)
{
	static const unsigned int min[] = { 0, 0, 0x80, 0x800, 0x10000 };
	int n = s[0] < 0x80		      ? 1
		: s[0] >= 0xc0 && s[0] < 0xe0 ? 2
		: s[0] >= 0xe0 && s[0] < 0xf0 ? 3
		: s[0] >= 0xf0 && s[0] < 0xf8 ? 4
					      : 0;
	unsigned int c = n == 1 ? s[0] : n ? s[0] & (0x7f >> n) : 0;

	for (int i = 1; i < n; i++) {
		if ((s[i] & 0xc0) != 0x80)
			return 0;
		c = c << 6 | (s[i] & 0x3f);
	}
	if (!n || c < min[n] || c > 0x10ffff || (c >= 0xd800 && c < 0xe000))
		return 0;
	*cp = c;
	return n;
}

static bool utf8_ok(const char *s)
{
	const unsigned char *p = (const unsigned char *)s;
	unsigned int cp;
	int n;

	for (; *p; p += n)
		if (!(n = utf8_at(p, &cp)))
			return false;
	return true;
}

/* Text safe for a terminal: strict UTF-8 with no control but newline. */
static bool terminal_safe(const char *s)
{
	const unsigned char *p = (const unsigned char *)s;
	unsigned int cp;
	int n;

	for (; *p; p += n) {
		n = utf8_at(p, &cp);
		if (!n || (cp < 0x20 && cp != '\n') || (cp >= 0x7f && cp <= 0x9f))
			return false;
	}
	return true;
}

/* A JSON string at s (after its opening quote) into out; its length, or -1. */
static int json_string(const char *s, char *out, size_t len, const char **end)
{
	size_t n = 0;

	for (; *s != '"'; s++) {
		unsigned int u;
		char c = *s;

		if (!c || n + 4 >= len)
			return -1;
		if (c == '\\') {
			c = *++s;
			if (c == 'u' && sscanf(s + 1, "%4x", &u) == 1 && u < 0x800 && u >= 0x80) {
				out[n++] = (char)(0xc0 | u >> 6);
				out[n++] = (char)(0x80 | (u & 0x3f));
				s += 4;
				continue;
			}
			if (c == 'u' && sscanf(s + 1, "%4x", &u) == 1 && u < 0x80) {
				out[n++] = (char)u;
				s += 4;
				continue;
			}
			if (c != '"' && c != '\\')
				return -1;
		}
		out[n++] = c;
	}
	out[n] = 0;
	*end = s + 1;
	return (int)n;
}

static void from_hex(const char *hex, char *out)
{
	unsigned int b;

	for (; sscanf(hex, "%2x", &b) == 1 && hex[0] != '"'; hex += 2)
		*out++ = (char)b;
	*out = 0;
}

/* The JSON entry of name: its "name" (NULL if null) and "name_hex" decoded. */
static bool json_entry(const char *json, const char *hex, char *name, bool *null, char *bytes)
{
	char key[600];
	const char *at, *start, *end;

	snprintf(key, sizeof(key), "\"name_hex\":\"%s\"", hex);
	at = strstr(json, key);
	if (!at)
		return false;
	from_hex(at + strlen("\"name_hex\":\""), bytes);
	/* "name" opens the same object */
	for (start = at; start > json && strncmp(start, "{\"name\":", 8); start--)
		;
	start += 8;
	*null = !strncmp(start, "null", 4);
	return *null || (*start == '"' && json_string(start + 1, name, 300, &end) >= 0);
}

static void hex_of(const char *s, char *hex)
{
	for (; *s; s++, hex += 2)
		sprintf(hex, "%02x", (unsigned char)*s);
	*hex = 0;
}

/* ksync ARGS' stdout, however long, into out; its exit status (-1: it hung). */
static int ksync_long(char *out, size_t len, const char *const args[])
{
	int64_t end = now_ns() + 120000000000LL;
	char err[4096];
	int in, o, e, status;
	pid_t pid = ksync_start(args, &in, &o, &e);

	if (pid < 0)
		return -1;
	close(in);
	drain(o, out, len, end);
	drain(e, err, sizeof(err), end);
	close(o);
	close(e);
	status = wait_child(pid, (int)((end - now_ns()) / 1000000) + 1);
	return strlen(out) + 1 >= len ? -1 : status;
}

/* Whether the table lists name: a line that reads as it once \xNN is undone. */
static bool in_table(const char *table, const char *name)
{
	char line[1100], got[300];

	for (const char *p = table, *nl; (nl = strchr(p, '\n')); p = nl + 1) {
		if (nl - p >= (long)sizeof(line))
			continue;
		snprintf(line, sizeof(line), "%.*s", (int)(nl - p), p);
		unescape(line, strlen(line), got);
		if (!strcmp(got, name))
			return true;
	}
	return false;
}

#define MANY 300

/*
 * Each name through the table (escaped: reading \xNN back gives the name)
 * in a UTF-8 locale and in C (ASCII alone there), and through the JSON
 * (exact, or null if not UTF-8, with name_hex exact).
 */
static int check_names(char names[][64], int n)
{
	static const char *const locales[] = { "C.UTF-8", "C" };
	static char out[MANY * 1024];
	char hex[600], got[300], bytes[300];
	bool null;

	for (int l = 0; l < 2; l++) {
		setenv("LC_ALL", locales[l], 1);
		if (ksync_long(out, sizeof(out),
			       (const char *const[]){ "ksync", "ls", "-o", "NAME", "-n", NULL }) ||
		    !terminal_safe(out))
			return 1;
		for (const char *p = out; l && *p; p++)
			if ((unsigned char)*p >= 0x80)
				return 2;
		for (int i = 0; i < n; i++)
			if (!in_table(out, names[i]))
				return 3;
	}
	if (ksync_long(out, sizeof(out), (const char *const[]){ "ksync", "ls", "--json", NULL }) ||
	    !terminal_safe(out))
		return 4;
	for (int i = 0; i < n; i++) {
		hex_of(names[i], hex);
		if (!json_entry(out, hex, got, &null, bytes) || strcmp(bytes, names[i]))
			return 5;
		if (null != !utf8_ok(names[i]))
			return 6;
		if (!null && strcmp(got, names[i]))
			return 7;
	}
	return 0;
}

/* Names holding byte b, for every b a name may hold, and UTF-8 sequences good and bad. */
/* (some 270 names, listed four times: slow in an emulated guest) */
TEST_F_TIMEOUT(ls, every_byte_in_table_and_json, 300)
{
	static const char *const seqs[] = {
		"\xc2\x9b",
		"\xc2\x85",
		"\xc2\xa0",
		"\xe2\x82\xac",
		"\xf0\x9f\x98\x80",
		"\xf4\x8f\xbf\xbf",
		"\xed\xa0\x80", /* a surrogate */
		"\xc0\xaf",
		"\xe0\x80\xaf", /* overlong */
		"\xf4\x90\x80\x80", /* past U+10FFFF */
		"\xf5\x80\x80\x80",
		"\xf8\x88\x80\x80\x80",
		"\xff",
		"\xe2\x82",
	};
	static char names[MANY][64];
	int n = 0;

	for (int b = 1; b < 256; b++) {
		char tag[8] = { 'b', (char)b, 'x', 0 };

		if (b == '/')
			continue; /* the module refuses it: registry_test */
		snprintf(names[n++], sizeof(names[0]), "%s", test_name(tag));
	}
	for (size_t i = 0; i < sizeof(seqs) / sizeof(seqs[0]); i++) {
		char tag[16];

		snprintf(tag, sizeof(tag), "s%sx", seqs[i]);
		snprintf(names[n++], sizeof(names[0]), "%s", test_name(tag));
	}
	for (int i = 0; i < n; i++) {
		ksync_sem_t *sem;

		ASSERT_EQ(0, ksync_sem_open(&sem, names[i], KSYNC_CREATE, 0600, 1));
		ksync_sem_close(sem);
	}
	ASSERT_EQ(0, check_names(names, n));
	for (int i = 0; i < n; i++)
		ASSERT_EQ(0, ksync_unlink(names[i]));
}

/* name_hex, decoded, is what ksync rm takes; "name" removes a UTF-8 name. */
TEST_F(ls, json_names_remove_what_they_list)
{
	char bad[64], good[64], hex[600], got[300], bytes[300];
	static char json[sizeof(((struct run *)0)->out)];
	static struct run r;
	ksync_sem_t *s;
	bool null;

	snprintf(bad, sizeof(bad), "%s", test_name("bad\xff\x9b utf8"));
	snprintf(good, sizeof(good), "%s", test_name("good \xe2\x82\xac \"q\" \\ \xc2\x9b"));
	ASSERT_EQ(0, ksync_sem_open(&s, bad, KSYNC_CREATE, 0600, 1));
	ksync_sem_close(s);
	ASSERT_EQ(0, ksync_sem_open(&s, good, KSYNC_CREATE, 0600, 1));
	ksync_sem_close(s);
	ASSERT_EQ(0, KSYNC(&r, "ls", "--json"));
	memcpy(json, r.out, sizeof(json));
	hex_of(bad, hex);
	ASSERT_TRUE(json_entry(json, hex, got, &null, bytes));
	ASSERT_TRUE(null);
	ASSERT_EQ(0, KSYNC(&r, "rm", bytes));
	hex_of(good, hex);
	ASSERT_TRUE(json_entry(json, hex, got, &null, bytes));
	ASSERT_FALSE(null);
	ASSERT_STREQ(good, got);
	ASSERT_EQ(0, KSYNC(&r, "rm", got));
	ASSERT_EQ(-ENOENT,
		  ksync_lookup(bad, &(struct ksync_object){ .size = sizeof(struct ksync_object) }));
	ASSERT_EQ(-ENOENT, ksync_lookup(good, &(struct ksync_object){
						      .size = sizeof(struct ksync_object) }));
}

/* info escapes the name as ls does: no C1 control reaches the terminal. */
TEST_F(ls, info_escapes_c1)
{
	char name[64];
	static struct run r;
	ksync_sem_t *s;

	snprintf(name, sizeof(name), "%s", test_name("c1\xc2\x9b\x9b"));
	ASSERT_EQ(0, ksync_sem_open(&s, name, KSYNC_CREATE, 0600, 1));
	ksync_sem_close(s);
	ASSERT_EQ(0, KSYNC(&r, "info", name));
	ASSERT_TRUE(terminal_safe(r.out));
	ASSERT_NE(NULL, strstr(r.out, "c1\\xc2\\x9b\\x9b-"));
}

/* Without /dev/ksync: exit 10, the reason on stderr, and stdout empty. */
static int without_device(void *arg)
{
	static struct run r;

	(void)arg;
	if (unshare(CLONE_NEWNS) || mount(NULL, "/", NULL, MS_REC | MS_PRIVATE, NULL) ||
	    mount("none", "/dev", "tmpfs", 0, NULL))
		return 1;
	if (KSYNC(&r, "ls") != 10 || r.out[0] || !strstr(r.err, "not loaded"))
		return 2;
	if (KSYNC(&r, "ls", "--json") != 10 || r.out[0])
		return 3;
	if (KSYNC(&r, "ls", "--watch", "0.1") != 10 || r.out[0])
		return 4;
	return 0;
}

TEST_F(ls, nothing_on_stdout_without_module)
{
	ASSERT_EQ(0, as_user(0, 0, without_device, NULL));
}

/* Read fd until want has been seen times times (or the deadline); what came. */
static size_t read_until(int fd, char *buf, size_t len, const char *want, int times)
{
	int64_t end = now_ns() + 20000000000LL;
	size_t got = 0;

	for (;;) {
		int seen = 0;

		for (const char *p = buf; got && (p = strstr(p, want)); p++)
			seen++;
		if (seen >= times || now_ns() > end || got + 1 >= len)
			return got;
		drain(fd, buf + got, len - got, now_ns() + 200000000);
		got += strlen(buf + got);
	}
}

static void stop_watch(struct __test_metadata *_metadata, pid_t pid, int out, int err)
{
	ASSERT_EQ(0, kill(pid, SIGTERM));
	ASSERT_EQ(0, wait_child(pid, 20000));
	close(out);
	close(err);
}

/* In a pipe, --watch prints one table after another, with no terminal escapes. */
TEST_F(ls, watch_in_a_pipe)
{
	const char *name = test_name("wpipe");
	static char buf[16384];
	int in, out, err;
	ksync_sem_t *s;
	pid_t pid;

	ASSERT_EQ(0, ksync_sem_open(&s, name, KSYNC_CREATE, 0600, 5));
	pid = ksync_start(
		(const char *const[]){ "ksync", "ls", "--watch", "0.1", "-o", "TYPE,NAME", NULL },
		&in, &out, &err);
	ASSERT_LT(0, pid);
	close(in);
	read_until(out, buf, sizeof(buf), "TYPE", 3);
	stop_watch(_metadata, pid, out, err);
	ASSERT_EQ(NULL, strchr(buf, '\033'));
	/* the second table follows the first after a blank line */
	ASSERT_EQ(0, strncmp(buf, "TYPE NAME\n", 10));
	ASSERT_NE(NULL, strstr(buf, name));
	ASSERT_NE(NULL, strstr(buf, "\n\nTYPE NAME\n"));

	pid = ksync_start((const char *const[]){ "ksync", "ls", "--watch", "0.1", "--json", NULL },
			  &in, &out, &err);
	ASSERT_LT(0, pid);
	close(in);
	read_until(out, buf, sizeof(buf), "]\n", 2);
	stop_watch(_metadata, pid, out, err);
	/* one document a line */
	ASSERT_EQ('[', buf[0]);
	ASSERT_NE(NULL, strstr(buf, "]\n["));
	ASSERT_NE(NULL, strstr(strchr(buf, '\n'), name));
	ASSERT_EQ(NULL, memchr(buf, '\n', (size_t)(strstr(buf, "]\n") - buf)));
	ksync_sem_close(s);
}

/* ksync ls --watch 0.1 [--json] on a terminal: what it drew, until want came times times. */
static void on_terminal(struct __test_metadata *_metadata, bool json, char *buf, size_t len,
			const char *want, int times)
{
	int master, slave, err[2];
	pid_t pid;

	ASSERT_EQ(0, openpty(&master, &slave, NULL, NULL, NULL));
	ASSERT_EQ(0, pipe(err));
	pid = fork();
	ASSERT_LE(0, pid);
	if (pid == 0) {
		dup2(slave, 1);
		dup2(err[1], 2);
		fexecve(ksync_exe,
			(char *const[]){ "ksync", "ls", "--watch", "0.1", json ? "--json" : NULL,
					 NULL },
			environ);
		_exit(99);
	}
	close(slave);
	close(err[1]);
	read_until(master, buf, len, want, times);
	stop_watch(_metadata, pid, master, err[0]);
}

/* On a terminal, --watch draws each table over the last; JSON stays one document a line. */
TEST_F(ls, watch_on_a_terminal)
{
	static char buf[16384];

	on_terminal(_metadata, false, buf, sizeof(buf), "\033[H", 3);
	ASSERT_NE(NULL, strstr(buf, "\033[H\033[2J"));
	ASSERT_NE(NULL, strstr(strstr(buf, "\033[2J"), "\033[H"));
	ASSERT_NE(NULL, strstr(buf, "\033[J"));
	on_terminal(_metadata, true, buf, sizeof(buf), "]\r\n", 2);
	ASSERT_EQ(NULL, strchr(buf, '\033'));
	ASSERT_EQ('[', buf[0]);
	ASSERT_NE(NULL, strstr(buf, "]\r\n["));
}

/* The start of each heading in the heading line. */
static int heading_starts(const char *line, int *at, int max)
{
	int n = 0;

	for (int i = 0; line[i] && line[i] != '\n' && n < max; i++)
		if (line[i] != ' ' && (i == 0 || line[i - 1] == ' '))
			at[n++] = i;
	return n;
}

/* Default columns: 80 wide, and a queue's flags never run into the name. */
TEST_F(ls, default_fits_80_columns)
{
	const char *name = test_name("w80");
	static struct run r;
	int at[16], n;
	ksync_queue_t *q;

	ASSERT_EQ(0, ksync_queue_open(&q, name, KSYNC_CREATE | KSYNC_QUEUE_NOEOF, 0600, 64, 4096));
	ASSERT_EQ(0, ksync_queue_shutdown(q));
	ASSERT_EQ(0, KSYNC(&r, "ls"));
	n = heading_starts(r.out, at, 16);
	ASSERT_EQ(8, n);
	for (const char *p = r.out, *nl; (nl = strchr(p, '\n')); p = nl + 1) {
		const char *ours = strstr(p, name);

		/* (others' names may be long: the heading's line and ours) */
		if (p == r.out || (ours && ours < nl)) {
			ASSERT_GE(80, nl - p);
		}
		/* each cell ends before the next column starts */
		for (int i = 1; i < n; i++)
			ASSERT_EQ(' ', p[at[i] - 1]);
	}
	ASSERT_NE(NULL, strstr(r.out, "shutdown,noeof"));
	ASSERT_NE(NULL, strstr(r.out, "0/64 of 4K"));
	ksync_queue_close(q);
}

TEST_F(ls, output_columns_and_sizes)
{
	const char *name = test_name("cols");
	char want[128];
	static struct run r;
	ksync_queue_t *q;

	ASSERT_EQ(0, ksync_queue_open(&q, name, KSYNC_CREATE, 0600, 4, 4096));
	ASSERT_EQ(0, KSYNC(&r, "ls", "-o", "NAME,MSGSIZE,SIZE,TYPE"));
	ASSERT_EQ(0, strncmp(r.out, "NAME", 4));
	ASSERT_EQ(0, KSYNC(&r, "ls", "--raw", "-o", "NAME,MSGSIZE,SIZE,TYPE"));
	snprintf(want, sizeof(want), "\n%s 4K 16K queue\n", name);
	ASSERT_NE(NULL, strstr(r.out, want));
	ASSERT_EQ(0, KSYNC(&r, "ls", "--bytes", "--noheadings", "-o", "msgsize,size,name"));
	snprintf(want, sizeof(want), "4096 16384 %s\n", name);
	ASSERT_NE(NULL, strstr(r.out, want));
	ASSERT_EQ(NULL, strstr(r.out, "MSGSIZE"));
	/* +LIST adds to the default */
	ASSERT_EQ(0, KSYNC(&r, "ls", "--raw", "-o", "+ID"));
	ASSERT_EQ(0, strncmp(r.out, "TYPE OWNER MODE HANDLES ASLEEP STATE FLAGS NAME ID\n", 51));
	ASSERT_EQ(2, KSYNC(&r, "ls", "-o", "NAME,BOGUS"));
	ASSERT_NE(NULL, strstr(r.err, "'BOGUS'"));
	ASSERT_EQ('\0', r.out[0]);
	ksync_queue_close(q);
}

/* --raw: one space between fields, and a space in a name as \x20. */
TEST_F(ls, raw_fields)
{
	char name[64], want[128];
	static struct run r;
	ksync_sem_t *s;

	snprintf(name, sizeof(name), "%s", test_name("a b"));
	ASSERT_EQ(0, ksync_sem_open(&s, name, KSYNC_CREATE, 0640, 3));
	ASSERT_EQ(0, KSYNC(&r, "ls", "--raw", "-o", "MODE,NAME,STATE"));
	ASSERT_EQ(0, strncmp(r.out, "MODE NAME STATE\n", 16));
	snprintf(want, sizeof(want), "\n0640 %.*s\\x20%s 3\\x20free\n",
		 (int)(strchr(name, ' ') - name), name, strchr(name, ' ') + 1);
	ASSERT_NE(NULL, strstr(r.out, want));
	ksync_sem_close(s);
}

/* Who made it and when (ipcs -t, -p), and a semaphore's maximum. */
TEST_F(ls, creator_time_and_maximum)
{
	char max[64], none[64], want[160];
	static struct run r;
	unsigned long long ctime;
	struct timespec t0, t1;
	ksync_sem_t *a, *b;
	const char *at;

	snprintf(max, sizeof(max), "%s", test_name("max"));
	snprintf(none, sizeof(none), "%s", test_name("none"));
	ASSERT_EQ(0, clock_gettime(CLOCK_REALTIME, &t0));
	ASSERT_EQ(0, ksync_sem_open_max(&a, max, KSYNC_CREATE, 0600, 1, 3));
	ASSERT_EQ(0, clock_gettime(CLOCK_REALTIME, &t1));
	ASSERT_EQ(0, ksync_sem_open(&b, none, KSYNC_CREATE, 0600, 1));
	ASSERT_EQ(0, KSYNC(&r, "ls", "--raw", "-n", "-o", "NAME,MAX,CPID"));
	snprintf(want, sizeof(want), "%s 3 %d\n", max, (int)getpid());
	ASSERT_NE(NULL, strstr(r.out, want));
	snprintf(want, sizeof(want), "%s - %d\n", none, (int)getpid());
	ASSERT_NE(NULL, strstr(r.out, want));
	ASSERT_EQ(0, KSYNC(&r, "ls", "--json"));
	snprintf(want, sizeof(want), "{\"name\":\"%s\"", max);
	at = strstr(r.out, want);
	ASSERT_NE(NULL, at);
	ASSERT_NE(NULL, strstr(at, "\"max\":3,"));
	at = strstr(at, "\"ctime_ns\":");
	ASSERT_NE(NULL, at);
	ctime = strtoull(at + strlen("\"ctime_ns\":"), NULL, 10);
	/* (a coarse clock may read up to a tick behind ours, never ahead) */
	ASSERT_LE((unsigned long long)ts_ns(&t0) - 1000000000ULL, ctime);
	ASSERT_GE((unsigned long long)ts_ns(&t1), ctime);
	snprintf(want, sizeof(want), "\"creator_pid\":%d", (int)getpid());
	ASSERT_NE(NULL, strstr(at, want));
	ksync_sem_close(a);
	ksync_sem_close(b);
}

TEST_HARNESS_MAIN
