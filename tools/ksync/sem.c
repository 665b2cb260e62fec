// SPDX-License-Identifier: LGPL-2.1-or-later
/*
 * ksync sem NAME -- CMD: run CMD while holding permits, as GNU parallel's
 * `sem` does, but crash-safe.
 *
 * We take the permits with KSYNC_UNDO through a close-on-exec fd, so that
 * only this process holds them and the module gives them back when it
 * ends, however it ends.  CMD runs in a child that dies with us
 * (PR_SET_PDEATHSIG): if we are SIGKILLed, the permits come back and CMD
 * does not run on without them.  Signals that would end us are passed on
 * to CMD instead, and we end when it does, with its status.
 */
#include <errno.h>
#include <getopt.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/wait.h>
#include <unistd.h>

#include <ksync.h>

#include "cli.h"

static volatile pid_t child;

static void forward(int sig)
{
	if (child > 0)
		kill(child, sig);
}

/* In the child, before exec: die with the parent, even if it already has. */
static void die_with(pid_t parent)
{
	prctl(PR_SET_PDEATHSIG, SIGKILL);
	if (getppid() != parent)
		_exit(EXIT_NOEXEC);
}

static int run(char **cmd)
{
	static const int passed[] = { SIGINT, SIGTERM, SIGHUP, SIGQUIT, SIGUSR1, SIGUSR2 };
	struct sigaction sa = { .sa_handler = forward };
	pid_t parent = getpid();
	int status;

	sigemptyset(&sa.sa_mask);
	for (size_t i = 0; i < sizeof(passed) / sizeof(passed[0]); i++)
		sigaddset(&sa.sa_mask, passed[i]);
	sigprocmask(SIG_BLOCK, &sa.sa_mask, NULL);
	child = fork();
	if (child < 0) {
		sigprocmask(SIG_UNBLOCK, &sa.sa_mask, NULL);
		return fail("sem", "fork", -errno);
	}
	if (child == 0) {
		sigprocmask(SIG_UNBLOCK, &sa.sa_mask, NULL);
		die_with(parent);
		execvp(cmd[0], cmd);
		fprintf(stderr, "ksync sem: %s: %s\n", cmd[0], strerror(errno));
		_exit(errno == ENOENT ? EXIT_NOTFOUND : EXIT_NOEXEC);
	}
	for (size_t i = 0; i < sizeof(passed) / sizeof(passed[0]); i++)
		sigaction(passed[i], &sa, NULL);
	sigprocmask(SIG_UNBLOCK, &sa.sa_mask, NULL);
	while (waitpid(child, &status, 0) < 0)
		if (errno != EINTR)
			return fail("sem", "waitpid", -errno);
	if (WIFSIGNALED(status))
		return 128 + WTERMSIG(status);
	return WEXITSTATUS(status);
}

static int sem(int argc, char **argv)
{
	static const struct option opts[] = { { "count", required_argument, NULL, 'n' },
					      { "timeout", required_argument, NULL, 't' },
					      { "create", required_argument, NULL, 'c' },
					      { "mode", required_argument, NULL, 'm' },
					      { NULL, 0, NULL, 0 } };
	unsigned int n = 1, value = 0, mode = 0600;
	struct timespec deadline, *dl = NULL;
	int flags = KSYNC_UNDO, opt, ret;
	char buf[KSYNC_NAME_MAX + 2];
	const char *name, *arg = NULL;
	ksync_sem_t *s;

	opterr = 0;
	while ((opt = getopt_name(&argc, argv, "+:n:t:c:m:", opts, &arg)) != -1) {
		switch (opt) {
		case 'n':
			if (parse_uint(optarg, KSYNC_SEM_VALUE_MAX, &n) || !n)
				return usage_error(&cmd_sem, "-n %s: N is 1 to %d permits", optarg,
						   KSYNC_SEM_VALUE_MAX);
			break;
		case 't':
			if (parse_timeout(optarg, &deadline))
				return timeout_error(&cmd_sem, optarg);
			dl = &deadline;
			break;
		case 'c':
			if (parse_uint(optarg, KSYNC_SEM_VALUE_MAX, &value))
				return usage_error(&cmd_sem,
						   "--create %s: VALUE is 0 to %d permits", optarg,
						   KSYNC_SEM_VALUE_MAX);
			flags |= KSYNC_CREATE;
			break;
		case 'm':
			if (parse_mode(optarg, &mode))
				return mode_error(&cmd_sem, optarg);
			break;
		default:
			return bad_option(&cmd_sem, opt, argv);
		}
	}
	if (!arg && optind < argc)
		arg = argv[optind++];
	if (!arg)
		return usage_error(&cmd_sem, "which semaphore?");
	name = object_name(arg, buf, sizeof(buf));
	if (optind >= argc)
		return usage_error(&cmd_sem, "which command to run?");
	ret = ksync_sem_open(&s, name, flags, mode, value);
	if (ret)
		return fail("sem", name, ret);
	do
		ret = ksync_sem_acquire(s, n, dl);
	while (ret == -EINTR);
	if (ret) {
		ksync_sem_close(s);
		return fail("sem", name, ret);
	}
	/* the permits go back when we end: our exit closes the fd */
	return run(argv + optind);
}

const struct command cmd_sem = {
	.name = "sem",
	.run = sem,
	.summary = "run a command while holding permits",
	.usage = "NAME [-n N] [--timeout S] [--create VALUE [--mode MODE]] -- CMD [ARGS...]\n\n"
		 "Take N permits (1 unless -n) of the semaphore NAME, waiting up to S\n"
		 "seconds (forever unless --timeout), run CMD, and give them back when\n"
		 "it ends.  --create makes the semaphore with VALUE permits if it is\n"
		 "missing.  The permits come back however CMD ends, and also if ksync\n"
		 "itself is killed: CMD is then killed too, so it never runs without them\n"
		 "(processes CMD leaves behind in the background are not).  INT, TERM,\n"
		 "HUP, QUIT, USR1 and USR2 are passed on to CMD.\n\n"
		 "Exit status: CMD's (128+N if signal N ended it), or ksync's own\n"
		 "(15 timed out, 12 no such semaphore, ...; 127 CMD not found).\n",
};
