/* SPDX-License-Identifier: GPL-2.0 */
/*
 * Running the ksync command from a test: its output, its exit status, a
 * deadline on each run (a hang fails the test, it never stalls it).
 */
#ifndef KSYNC_SELFTEST_CLI_H
#define KSYNC_SELFTEST_CLI_H

#include <limits.h>
#include <stdbool.h>
#include <libgen.h>

#include "common.h"

/* What one run printed and how it ended (wait_child's code; -1: hung). */
struct run {
	int status;
	char out[16384];
	char err[4096];
};

/* build/SUB, beside this test's build/selftests (e.g. "tools/ksync"). */
static inline const char *build_path(const char *sub, char *path, size_t len)
{
	char exe[PATH_MAX];
	ssize_t n = readlink("/proc/self/exe", exe, sizeof(exe) - 1);

	if (n < 0)
		return sub;
	exe[n] = 0;
	snprintf(path, len, "%s/../%s", dirname(exe), sub);
	return path;
}

static inline const char *ksync_bin(void)
{
	static char path[PATH_MAX];

	return path[0] ? path : build_path("tools/ksync", path, sizeof(path));
}

/*
 * The command, opened when the test starts, as root: a test that drops to
 * another uid runs it through this descriptor, because that uid may not
 * be able to reach the checkout (a clone in a 0700 home directory).
 */
static int ksync_exe = -1;

static void __attribute__((constructor)) open_ksync_exe(void)
{
	ksync_exe = open(ksync_bin(), O_PATH | O_CLOEXEC);
}

/*
 * Start exe (an O_PATH descriptor), or path if exe is -1, with args; its
 * stdin, stdout and stderr on *in, *out, *err.
 */
static inline pid_t spawn_exe(int exe, const char *path, const char *const args[], int *in,
			      int *out, int *err)
{
	int pi[2], po[2], pe[2];
	pid_t pid;

	if (pipe2(pi, O_CLOEXEC) || pipe2(po, O_CLOEXEC) || pipe2(pe, O_CLOEXEC))
		return -1;
	pid = fork();
	if (pid == 0) {
		dup2(pi[0], 0);
		dup2(po[1], 1);
		dup2(pe[1], 2);
		if (exe >= 0)
			fexecve(exe, (char *const *)args, environ);
		else
			execvp(path, (char *const *)args);
		_exit(99);
	}
	close(pi[0]);
	close(po[1]);
	close(pe[1]);
	*in = pi[1];
	*out = po[0];
	*err = pe[0];
	return pid;
}

static inline pid_t spawn(const char *path, const char *const args[], int *in, int *out, int *err)
{
	return spawn_exe(-1, path, args, in, out, err);
}

static inline pid_t ksync_start(const char *const args[], int *in, int *out, int *err)
{
	return spawn_exe(ksync_exe, ksync_bin(), args, in, out, err);
}

/* Read fd into buf (NUL-terminated) until EOF or the deadline. */
static inline void drain(int fd, char *buf, size_t len, int64_t end)
{
	size_t got = 0;

	while (got < len - 1) {
		struct pollfd p = { .fd = fd, .events = POLLIN };
		int64_t left = (end - now_ns()) / 1000000;
		ssize_t n;

		if (left <= 0 || poll(&p, 1, (int)left) != 1)
			break;
		n = read(fd, buf + got, len - 1 - got);
		if (n <= 0)
			break;
		got += (size_t)n;
	}
	buf[got] = 0;
}

/* Read one line from fd into buf (newline dropped) until the deadline. */
static inline void drain_line(int fd, char *buf, size_t len, int64_t end)
{
	size_t got = 0;

	while (got < len - 1) {
		struct pollfd p = { .fd = fd, .events = POLLIN };
		int64_t left = (end - now_ns()) / 1000000;

		if (left <= 0 || poll(&p, 1, (int)left) != 1 || read(fd, buf + got, 1) != 1 ||
		    buf[got] == '\n')
			break;
		got++;
	}
	buf[got] = 0;
}

/*
 * Run exe (or path: spawn_exe) with args, len bytes of input on stdin,
 * within ms; fills r and returns r->status (as wait_child: -1 if it hung).
 */
static inline int run_exe(struct run *r, int exe, const char *path, const void *input, size_t len,
			  int ms, const char *const args[])
{
	int64_t end = now_ns() + (int64_t)ms * 1000000;
	int in, out, err;
	pid_t pid = spawn_exe(exe, path, args, &in, &out, &err);

	if (pid < 0)
		return r->status = -1;
	/* input is small: it fits the pipe (a short write fails the run) */
	bool lost = len && write(in, input, len) != (ssize_t)len;

	close(in);
	/* stderr is short: read stdout to its end first, then stderr */
	drain(out, r->out, sizeof(r->out), end);
	drain(err, r->err, sizeof(r->err), end);
	close(out);
	close(err);
	r->status = wait_child(pid, (int)((end - now_ns()) / 1000000) + 1);
	if (lost)
		r->status = -1;
	return r->status;
}

static inline int run_cmd(struct run *r, const char *path, const void *input, size_t len, int ms,
			  const char *const args[])
{
	return run_exe(r, -1, path, input, len, ms, args);
}

static inline int ksync_run(struct run *r, const char *input, int ms, const char *const args[])
{
	return run_exe(r, ksync_exe, ksync_bin(), input, input ? strlen(input) : 0, ms, args);
}

#define KSYNC(r, ...) ksync_run(r, NULL, 20000, (const char *const[]){ "ksync", __VA_ARGS__, NULL })
#define KSYNC_IN(r, input, ...) \
	ksync_run(r, input, 20000, (const char *const[]){ "ksync", __VA_ARGS__, NULL })

#endif
