// SPDX-License-Identifier: LGPL-2.1-or-later
/*
 * ksync send, recv, hold and shutdown: a queue as a shell's work list.
 *
 *   ksync send jobs a b c          three messages
 *   find . -name '*.c' | ksync send jobs
 *   ksync recv jobs | while read -r j; do ...; done
 *   ksync hold jobs -- sh -c 'p1 & p2 & wait'    two producers, one input
 *   ksync shutdown jobs            for good: later sends fail
 *
 * send and recv use kernel-only handles (KSYNC_QUEUE_KERNEL): a ksync
 * killed mid-call loses no message it had not yet handed over.  A send
 * handle holds the queue's input open from its open to its close, as a
 * pipe's write end does; when the last one is closed, a receiver drains
 * what is left and exits 0.  The next sender opens the input again, as the
 * next writer of a FIFO does.
 */
#include <errno.h>
#include <getopt.h>
#include <stdio.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <ksync.h>

#include "cli.h"

static int open_queue(const char *cmd, const char *arg, int role, ksync_queue_t **q,
		      unsigned int *msg_size)
{
	char buf[KSYNC_NAME_MAX + 2];
	const char *name = object_name(arg, buf, sizeof(buf));
	struct ksync_queue_stats st;
	int ret = ksync_queue_open(q, name, KSYNC_QUEUE_KERNEL | role, 0, 0, 0);

	if (ret)
		return fail(cmd, name, ret);
	ret = ksync_queue_stats(*q, &st);
	if (ret) {
		ksync_queue_close(*q);
		return fail(cmd, name, ret);
	}
	*msg_size = st.msg_size;
	return 0;
}

/* A send's queue, its limit, its deadline and its --cancel event (or NULL). */
struct sender {
	ksync_queue_t *q;
	unsigned int max;
	const struct timespec *dl;
	ksync_event_t *ev;
};

static int send_one(const struct sender *s, const char *msg, size_t len)
{
	int ret;

	if (len > s->max) {
		fprintf(stderr, "ksync send: a message of %zu bytes: the queue takes at most %u\n",
			len, s->max);
		return 1;
	}
	do
		ret = cancel_send(s->q, msg, len, s->ev, s->dl);
	while (ret == -EINTR);
	return ret ? fail("send", "send", ret) : 0;
}

/* Everything on stdin, as one message. */
static int send_whole(const struct sender *s)
{
	size_t len = 0, room = (size_t)s->max + 1;
	char *buf = malloc(room ? room : 1);
	int ret;

	if (!buf)
		return fail("send", "memory", -ENOMEM);
	while (!feof(stdin) && len < room) {
		len += fread(buf + len, 1, room - len, stdin);
		if (ferror(stdin)) {
			free(buf);
			return fail("send", "standard input", -(errno ? errno : EIO));
		}
	}
	ret = send_one(s, buf, len);
	free(buf);
	return ret;
}

static int msg_send(int argc, char **argv)
{
	static const struct option opts[] = { { "whole", no_argument, NULL, 'w' },
					      { "null", no_argument, NULL, '0' },
					      { "timeout", required_argument, NULL, 't' },
					      { "cancel", required_argument, NULL, 'C' },
					      { NULL, 0, NULL, 0 } };
	struct timespec deadline;
	struct sender s = { 0 };
	bool whole = false;
	int delim = '\n', opt, ret = 0;
	const char *name = NULL, *cancel = NULL;

	opterr = 0;
	while ((opt = getopt_name(&argc, argv, "+:w0t:C:", opts, &name)) != -1) {
		if (opt == 'w')
			whole = true;
		else if (opt == 'C')
			cancel = optarg;
		else if (opt == '0')
			delim = 0;
		else if (opt == 't' && !parse_timeout(optarg, &deadline))
			s.dl = &deadline;
		else if (opt == 't')
			return timeout_error(&cmd_send, optarg);
		else
			return bad_option(&cmd_send, opt, argv);
	}
	if (!name && optind < argc)
		name = argv[optind++];
	if (!name)
		return usage_error(&cmd_send, "which queue?");
	if (whole && optind < argc)
		return usage_error(&cmd_send, "--whole reads standard input: no messages here");
	if (cancel) {
		ret = cancel_open("send", cancel, &s.ev);
		if (ret)
			return ret;
	}
	ret = open_queue("send", name, KSYNC_QUEUE_SEND, &s.q, &s.max);
	if (ret)
		goto out;
	if (whole) {
		ret = send_whole(&s);
	} else if (optind < argc) {
		for (; optind < argc && !ret; optind++)
			ret = send_one(&s, argv[optind], strlen(argv[optind]));
	} else {
		char *line = NULL;
		size_t cap = 0;
		ssize_t len;

		errno = 0;
		while (!ret && (len = getdelim(&line, &cap, delim, stdin)) >= 0) {
			if (len > 0 && line[len - 1] == delim)
				len--;
			ret = send_one(&s, line, (size_t)len);
		}
		/* a read error is not the end of the input: the list was cut short */
		if (!ret && ferror(stdin))
			ret = fail("send", "standard input", -(errno ? errno : EIO));
		free(line);
	}
	ksync_queue_close(s.q);
out:
	if (s.ev)
		ksync_event_close(s.ev);
	return ret;
}

const struct command cmd_send = {
	.name = "send",
	.run = msg_send,
	.summary = "send messages to a queue",
	.usage = "NAME [--timeout S] [--cancel EVENT] [MSG...]\n"
		 "       ksync send NAME [--timeout S] [--cancel EVENT] [-0]      (from standard "
		 "input)\n"
		 "       ksync send NAME [--timeout S] [--cancel EVENT] --whole   (standard input "
		 "is one "
		 "message)\n\n"
		 "Send each MSG, or each line of standard input (NUL-separated with -0),\n"
		 "waiting for room up to S seconds in all.  While it runs it holds the\n"
		 "queue's input open, as a pipe's writer does: when the last sender is\n"
		 "done (see ksync hold), receivers drain the queue and see the end, and\n"
		 "the next sender starts a new input.  Fails (exit 16) once the queue is\n"
		 "shut down (ksync shutdown).  With --cancel, a set of the event EVENT\n"
		 "ends it (exit 17): the message it was sending is not sent.\n",
};

static bool shut_down(ksync_queue_t *q)
{
	struct ksync_queue_stats st;

	return ksync_queue_stats(q, &st) || st.shutdown || st.broken;
}

static int follow_on(ksync_queue_t **q, const char *name)
{
	ksync_queue_t *next;
	int ret = ksync_queue_reopen(&next, *q, KSYNC_QUEUE_RECV);

	if (ret)
		return fail("recv", name, ret);
	ksync_queue_close(*q);
	*q = next;
	return 0;
}

/*
 * Print one message taken off the queue.  It is ours alone now: if it
 * cannot be written it is lost, so stop at once and say so rather than
 * take the next one.
 */
static int deliver(const char *msg, size_t len, int delim)
{
	int err;

	errno = 0;
	/* a consumer reading line by line sees each message as it comes */
	if (fwrite(msg, 1, len, stdout) == len && putchar(delim) != EOF && fflush(stdout) == 0)
		return 0;
	err = errno ? errno : EIO;
	clearerr(stdout);
	fprintf(stderr,
		"ksync recv: standard output: %s: a message was taken off the queue but not "
		"delivered, and is lost\n",
		strerror(err));
	return 1;
}

/* What recv's options asked for. */
struct recv_opts {
	unsigned int count; /* 0: until the input ends */
	int delim;
	bool follow;
	struct timespec deadline, *dl;
	const char *cancel; /* --cancel's event */
};

static int recv_options(int argc, char **argv, struct recv_opts *o)
{
	static const struct option opts[] = {
		{ "count", required_argument, NULL, 'n' },   { "null", no_argument, NULL, '0' },
		{ "timeout", required_argument, NULL, 't' }, { "follow", no_argument, NULL, 'f' },
		{ "cancel", required_argument, NULL, 'C' },  { NULL, 0, NULL, 0 }
	};
	int opt;

	opterr = 0;
	while ((opt = getopt_long(argc, argv, ":n:0t:fC:", opts, NULL)) != -1) {
		if (opt == 'n' && (parse_uint(optarg, ~0U, &o->count) || !o->count))
			return usage_error(&cmd_recv,
					   "-n %s: COUNT is 1 to %u (leave -n out to receive until "
					   "the input ends)",
					   optarg, ~0U);
		if (opt == 'f')
			o->follow = true;
		else if (opt == 'C')
			o->cancel = optarg;
		else if (opt == '0')
			o->delim = 0;
		else if (opt == 't' && !parse_timeout(optarg, &o->deadline))
			o->dl = &o->deadline;
		else if (opt == 't')
			return timeout_error(&cmd_recv, optarg);
		else if (opt != 'n')
			return bad_option(&cmd_recv, opt, argv);
	}
	return optind != argc - 1 ? usage_error(&cmd_recv, "which queue?") : 0;
}

static int msg_recv(int argc, char **argv)
{
	struct recv_opts o = { .delim = '\n' };
	unsigned int max, got = 0;
	ksync_event_t *ev = NULL;
	ksync_queue_t *q;
	char *buf;
	int ret;

	ret = recv_options(argc, argv, &o);
	if (ret)
		return ret;
	if (o.cancel) {
		ret = cancel_open("recv", o.cancel, &ev);
		if (ret)
			return ret;
	}
	ret = open_queue("recv", argv[optind], KSYNC_QUEUE_RECV, &q, &max);
	if (ret) {
		if (ev)
			ksync_event_close(ev);
		return ret;
	}
	buf = malloc(max ? max : 1);
	if (!buf) {
		ksync_queue_close(q);
		return fail("recv", "memory", -ENOMEM);
	}
	while (!o.count || got < o.count) {
		ssize_t n = cancel_recv(q, buf, max, ev, o.dl);

		if (n == -EINTR)
			continue;
		if (n == -EPIPE && o.follow && !shut_down(q)) {
			/* a new handle waits for the next sender, as tail -f */
			ret = follow_on(&q, argv[optind]);
			if (ret)
				break;
			continue;
		}
		if (n == -EPIPE) /* the end of input, all of it received */
			break;
		if (n < 0) {
			ret = fail("recv", argv[optind], (int)n);
			break;
		}
		got++;
		ret = deliver(buf, (size_t)n, o.delim);
		if (ret)
			break;
	}
	free(buf);
	ksync_queue_close(q);
	if (ev)
		ksync_event_close(ev);
	return ret;
}

const struct command cmd_recv = {
	.name = "recv",
	.run = msg_recv,
	.summary = "receive messages from a queue",
	.usage = "NAME [-n COUNT] [--timeout S] [--cancel EVENT] [-0] [--follow]\n\n"
		 "Print each message received, one per line (NUL-terminated with -0), until\n"
		 "COUNT were received or the input ended: its last sender is done (or the\n"
		 "queue was shut down) and it is empty (exit 0 either way), or S seconds\n"
		 "passed (exit 15).  If no sender has come yet, it waits for one.  With\n"
		 "--follow, an end of input is not the end: it waits for the next sender,\n"
		 "until the queue is shut down (ksync shutdown).  With --cancel, a set of\n"
		 "the event EVENT ends it (exit 17), with no message taken that was not\n"
		 "printed.\n",
};

/* ksync hold NAME -- CMD: CMD and all it starts hold the input open. */
static int msg_hold(int argc, char **argv)
{
	const char *name = NULL;
	unsigned int max;
	ksync_queue_t *q;
	int fd, opt, ret;

	opterr = 0;
	opt = getopt_name(&argc, argv, "+:", NULL, &name);
	if (opt != -1)
		return bad_option(&cmd_hold, opt, argv);
	if (!name && optind < argc)
		name = argv[optind++];
	if (!name)
		return usage_error(&cmd_hold, "which queue?");
	if (optind < argc && !strcmp(argv[optind], "--"))
		optind++;
	if (optind >= argc)
		return usage_error(&cmd_hold, "which command?");
	ret = open_queue("hold", name, KSYNC_QUEUE_SEND, &q, &max);
	if (ret)
		return ret;
	/* the send handle's fd goes with CMD across exec, and to its children */
	fd = ksync_queue_fd(q);
	if (fcntl(fd, F_SETFD, 0) < 0)
		return fail("hold", name, -errno);
	execvp(argv[optind], argv + optind);
	ret = errno == ENOENT ? EXIT_NOTFOUND : EXIT_NOEXEC;
	fprintf(stderr, "ksync hold: %s: %s\n", argv[optind], strerror(errno));
	ksync_queue_close(q);
	return ret;
}

const struct command cmd_hold = {
	.name = "hold",
	.run = msg_hold,
	.summary = "run a command as a sender of a queue",
	.usage = "NAME [--] CMD [ARGS...]\n\n"
		 "Run CMD holding the queue's input open, as a pipe's write end: every\n"
		 "process CMD starts inherits it, and receivers see the end of input only\n"
		 "when the last of them has exited (and every other sender is done).\n"
		 "Declares producers before they start, so that one that finishes early\n"
		 "does not end the input for those still to come.  Exits with CMD's status.\n",
};

/* ksync shutdown NAME: Go's close(ch), for good. */
static int msg_shutdown(int argc, char **argv)
{
	const char *name = NULL;
	unsigned int max;
	ksync_queue_t *q;
	int opt, ret;

	opterr = 0;
	opt = getopt_name(&argc, argv, "+:", NULL, &name);
	if (opt != -1)
		return bad_option(&cmd_shutdown, opt, argv);
	if (!name && optind < argc)
		name = argv[optind++];
	if (!name || optind != argc)
		return usage_error(&cmd_shutdown, "one queue, please");
	ret = open_queue("shutdown", name, KSYNC_QUEUE_SEND, &q, &max);
	if (ret)
		return ret;
	ret = ksync_queue_shutdown(q);
	ksync_queue_close(q);
	return ret ? fail("shutdown", name, ret) : 0;
}

const struct command cmd_shutdown = {
	.name = "shutdown",
	.run = msg_shutdown,
	.summary = "shut a queue down for good",
	.usage = "NAME\n\n"
		 "Shut the queue down, as Go's close(ch): receivers drain it and see the\n"
		 "end, every later send fails (exit 16), whoever holds it open.  Needs\n"
		 "the mode's write and read permission.\n",
};
