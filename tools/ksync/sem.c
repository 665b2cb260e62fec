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

/* What the options asked for. */
struct sem_opts {
	unsigned int n, value, mode, max;
	bool create, max_given;
	struct timespec deadline, *dl;
	const char *cancel; /* --cancel's event */
};

static int sem_options(int *argc, char **argv, const char **arg, struct sem_opts *o)
{
	static const struct option opts[] = { { "count", required_argument, NULL, 'n' },
					      { "timeout", required_argument, NULL, 't' },
					      { "create", required_argument, NULL, 'c' },
					      { "max", required_argument, NULL, 'M' },
					      { "mode", required_argument, NULL, 'm' },
					      { "cancel", required_argument, NULL, 'C' },
					      { NULL, 0, NULL, 0 } };
	int opt;

	opterr = 0;
	while ((opt = getopt_name(argc, argv, "+:n:t:c:m:C:", opts, arg)) != -1) {
		if (opt == 'n' && (parse_uint(optarg, KSYNC_SEM_VALUE_MAX, &o->n) || !o->n))
			return usage_error(&cmd_sem, "-n %s: N is 1 to %d permits", optarg,
					   KSYNC_SEM_VALUE_MAX);
		else if (opt == 't' && parse_timeout(optarg, &o->deadline))
			return timeout_error(&cmd_sem, optarg);
		else if (opt == 'c' && parse_uint(optarg, KSYNC_SEM_VALUE_MAX, &o->value))
			return usage_error(&cmd_sem, "--create %s: VALUE is 0 to %d permits",
					   optarg, KSYNC_SEM_VALUE_MAX);
		else if (opt == 'M' && parse_max(optarg, &o->max))
			return usage_error(&cmd_sem, "--max %s: MAX is 1 to %d permits, or none",
					   optarg, KSYNC_SEM_VALUE_MAX);
		else if (opt == 'm' && parse_mode(optarg, &o->mode))
			return mode_error(&cmd_sem, optarg);
		else if (!strchr("ntcMmC", opt))
			return bad_option(&cmd_sem, opt, argv);
		o->dl = opt == 't' ? &o->deadline : o->dl;
		o->create |= opt == 'c';
		o->cancel = opt == 'C' ? optarg : o->cancel;
		o->max_given |= opt == 'M';
	}
	if (o->max_given && !o->create)
		return usage_error(&cmd_sem, "--max goes with --create");
	if (o->max_given && o->max && o->value > o->max)
		return usage_error(&cmd_sem, "--create %u is more than --max %u", o->value, o->max);
	return 0;
}

/*
 * --create: make it, with VALUE permits and at most MAX (VALUE unless
 * --max); or open the one there is, and say if it is not what --create
 * asked for, since it is left as it is.
 */
static int sem_create(ksync_sem_t **s, const char *name, const struct sem_opts *o)
{
	unsigned int max = o->max_given ? o->max : o->value;
	int ret = -ENOENT;

	/* (bounded: a name removed between the two opens is made again) */
	for (int i = 0; i < 3 && ret == -ENOENT; i++) {
		ret = ksync_sem_open_max(s, name, KSYNC_UNDO | KSYNC_CREATE | KSYNC_EXCL, o->mode,
					 o->value, max);
		if (ret != -EEXIST)
			return ret;
		ret = ksync_sem_open(s, name, KSYNC_UNDO, 0, 0);
	}
	if (ret)
		return ret;
	max = max ? max : KSYNC_SEM_VALUE_MAX;
	if ((unsigned int)ksync_sem_max(*s) == max)
		return 0;
	fprintf(stderr, "ksync sem: %s exists already, with ", name);
	if (ksync_sem_max(*s) == KSYNC_SEM_VALUE_MAX)
		fprintf(stderr, "no maximum");
	else
		fprintf(stderr, "a maximum of %d permits", ksync_sem_max(*s));
	fprintf(stderr, ": --create %u left it as it is\n", o->value);
	return 0;
}

static int sem(int argc, char **argv)
{
	struct sem_opts o = { .n = 1, .mode = 0600 };
	char buf[KSYNC_NAME_MAX + 2];
	const char *name, *arg = NULL;
	ksync_event_t *ev = NULL;
	ksync_sem_t *s;
	int ret;

	ret = sem_options(&argc, argv, &arg, &o);
	if (ret)
		return ret;
	if (!arg && optind < argc)
		arg = argv[optind++];
	if (!arg)
		return usage_error(&cmd_sem, "which semaphore?");
	name = object_name(arg, buf, sizeof(buf));
	if (optind >= argc)
		return usage_error(&cmd_sem, "which command to run?");
	if (o.cancel) {
		ret = cancel_open("sem", o.cancel, &ev);
		if (ret)
			return ret;
	}
	ret = o.create ? sem_create(&s, name, &o) : ksync_sem_open(&s, name, KSYNC_UNDO, 0, 0);
	if (ret) {
		if (ev)
			ksync_event_close(ev);
		return fail("sem", name, ret);
	}
	/* more than it ever holds would wait for ever: the module says -ERANGE */
	ret = o.n > (unsigned int)ksync_sem_max(s) ? -ERANGE : 0;
	while (!ret && (ret = cancel_acquire(s, o.n, ev, o.dl)) == -EINTR)
		ret = 0;
	if (ev)
		ksync_event_close(ev);
	if (ret == -ERANGE)
		fprintf(stderr,
			"ksync sem: %s: -n %u is more than it ever holds (its maximum is %d "
			"permits): waiting would be for ever\n",
			name, o.n, ksync_sem_max(s));
	if (ret) {
		ksync_sem_close(s);
		return ret == -ERANGE ? 1 : fail("sem", name, ret);
	}
	/* the permits go back when we end: our exit closes the fd */
	return run(argv + optind);
}

const struct command cmd_sem = {
	.name = "sem",
	.run = sem,
	.summary = "run a command while holding permits",
	.usage = "NAME [-n N] [--timeout S] [--cancel EVENT]\n"
		 "       [--create VALUE [--max MAX|none] [--mode MODE]] -- CMD [ARGS...]\n\n"
		 "Take N permits (1 unless -n) of the semaphore NAME, waiting up to S\n"
		 "seconds (forever unless --timeout, or until the event EVENT is set with\n"
		 "--cancel: exit 17, nothing taken, CMD not run), run CMD, and give them\n"
		 "back when it ends.  --create makes the semaphore with VALUE permits, and a "
		 "maximum\n"
		 "of MAX (VALUE unless --max), if it is missing; if it exists with another\n"
		 "maximum, it says so and uses it as it is.  N above the maximum fails at\n"
		 "once (exit 1).  The permits come back however CMD ends, and also if ksync\n"
		 "itself is killed: CMD is then killed too, so it never runs without them\n"
		 "(processes CMD leaves behind in the background are not).  INT, TERM,\n"
		 "HUP, QUIT, USR1 and USR2 are passed on to CMD.\n\n"
		 "Exit status: CMD's (128+N if signal N ended it), or ksync's own\n"
		 "(15 timed out, 17 cancelled, 12 no such semaphore, ...; 127 CMD not\n"
		 "found).\n",
};
