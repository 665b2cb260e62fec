// SPDX-License-Identifier: LGPL-2.1-or-later
/*
 * ksync send and ksync recv: a queue as a shell's work list.
 *
 *   ksync send jobs a b c          three messages
 *   find . -name '*.c' | ksync send jobs
 *   ksync recv jobs | while read -r j; do ...; done
 *
 * Both use a kernel-only handle (KSYNC_QUEUE_KERNEL): a ksync killed
 * mid-call loses no message it had not yet handed over.  When the last
 * sender is done, a queue made without --noeof shuts down, and a receiver
 * drains what is left and exits 0: the end of input, as a closed Go
 * channel gives it.
 */
#include <errno.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <ksync.h>

#include "cli.h"

static int open_queue(const char *cmd, const char *arg, ksync_queue_t **q, unsigned int *msg_size)
{
	char buf[KSYNC_NAME_MAX + 2];
	const char *name = object_name(arg, buf, sizeof(buf));
	struct ksync_queue_stats st;
	int ret = ksync_queue_open(q, name, KSYNC_QUEUE_KERNEL, 0, 0, 0);

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

static int send_one(ksync_queue_t *q, const char *msg, size_t len, unsigned int max,
		    const struct timespec *dl)
{
	int ret;

	if (len > max) {
		fprintf(stderr, "ksync send: a message of %zu bytes: the queue takes at most %u\n",
			len, max);
		return 1;
	}
	do
		ret = ksync_queue_send(q, msg, len, dl);
	while (ret == -EINTR);
	return ret ? fail("send", "send", ret) : 0;
}

/* Everything on stdin, as one message. */
static int send_whole(ksync_queue_t *q, unsigned int max, const struct timespec *dl)
{
	size_t len = 0, room = (size_t)max + 1;
	char *buf = malloc(room ? room : 1);
	int ret;

	if (!buf)
		return fail("send", "memory", -ENOMEM);
	while (!feof(stdin) && len < room) {
		len += fread(buf + len, 1, room - len, stdin);
		if (ferror(stdin)) {
			free(buf);
			return fail("send", "stdin", -EIO);
		}
	}
	ret = send_one(q, buf, len, max, dl);
	free(buf);
	return ret;
}

static int msg_send(int argc, char **argv)
{
	static const struct option opts[] = { { "whole", no_argument, NULL, 'w' },
					      { "null", no_argument, NULL, '0' },
					      { "timeout", required_argument, NULL, 't' },
					      { NULL, 0, NULL, 0 } };
	struct timespec deadline, *dl = NULL;
	bool whole = false;
	int delim = '\n', opt, ret = 0;
	const char *name = NULL;
	unsigned int max;
	ksync_queue_t *q;

	while ((opt = getopt_name(&argc, argv, "+w0t:", opts, &name)) != -1) {
		if (opt == 'w')
			whole = true;
		else if (opt == '0')
			delim = 0;
		else if (opt == 't' && !parse_timeout(optarg, &deadline))
			dl = &deadline;
		else
			return usage_error(&cmd_send, "bad option");
	}
	if (!name && optind < argc)
		name = argv[optind++];
	if (!name)
		return usage_error(&cmd_send, "which queue?");
	if (whole && optind < argc)
		return usage_error(&cmd_send, "--whole reads standard input: no messages here");
	ret = open_queue("send", name, &q, &max);
	if (ret)
		return ret;
	if (whole) {
		ret = send_whole(q, max, dl);
	} else if (optind < argc) {
		for (; optind < argc && !ret; optind++)
			ret = send_one(q, argv[optind], strlen(argv[optind]), max, dl);
	} else {
		char *line = NULL;
		size_t cap = 0;
		ssize_t len;

		while (!ret && (len = getdelim(&line, &cap, delim, stdin)) >= 0) {
			if (len > 0 && line[len - 1] == delim)
				len--;
			ret = send_one(q, line, (size_t)len, max, dl);
		}
		free(line);
	}
	ksync_queue_close(q);
	return ret;
}

const struct command cmd_send = {
	.name = "send",
	.run = msg_send,
	.summary = "send messages to a queue",
	.usage =
		"NAME [--timeout S] [MSG...]\n"
		"       ksync send NAME [--timeout S] [-0]      (messages from standard input)\n"
		"       ksync send NAME [--timeout S] --whole   (standard input is one message)\n\n"
		"Send each MSG, or each line of standard input (NUL-separated with -0),\n"
		"waiting for room up to S seconds in all.  Unless the queue was made with\n"
		"--noeof, it shuts down when its last sender is done: receivers then\n"
		"drain it and see the end, and later sends fail (exit 16).\n",
};

static int msg_recv(int argc, char **argv)
{
	static const struct option opts[] = { { "count", required_argument, NULL, 'n' },
					      { "null", no_argument, NULL, '0' },
					      { "timeout", required_argument, NULL, 't' },
					      { NULL, 0, NULL, 0 } };
	struct timespec deadline, *dl = NULL;
	unsigned int count = 0, max, got = 0;
	int delim = '\n', opt, ret;
	ksync_queue_t *q;
	char *buf;

	while ((opt = getopt_long(argc, argv, "n:0t:", opts, NULL)) != -1) {
		if (opt == 'n' && !parse_uint(optarg, ~0U, &count) && count)
			continue;
		if (opt == '0')
			delim = 0;
		else if (opt == 't' && !parse_timeout(optarg, &deadline))
			dl = &deadline;
		else
			return usage_error(&cmd_recv, "bad option");
	}
	if (optind != argc - 1)
		return usage_error(&cmd_recv, "which queue?");
	ret = open_queue("recv", argv[optind], &q, &max);
	if (ret)
		return ret;
	buf = malloc(max ? max : 1);
	if (!buf) {
		ksync_queue_close(q);
		return fail("recv", "memory", -ENOMEM);
	}
	while (!count || got < count) {
		ssize_t n = ksync_queue_recv(q, buf, max, dl);

		if (n == -EINTR)
			continue;
		if (n == -EPIPE) { /* shut down and drained: the end */
			n = 0;
			break;
		}
		if (n < 0) {
			ret = fail("recv", argv[optind], (int)n);
			break;
		}
		fwrite(buf, 1, (size_t)n, stdout);
		putchar(delim);
		/* a consumer reading line by line sees each message as it comes */
		fflush(stdout);
		got++;
	}
	free(buf);
	ksync_queue_close(q);
	return ret;
}

const struct command cmd_recv = {
	.name = "recv",
	.run = msg_recv,
	.summary = "receive messages from a queue",
	.usage = "NAME [-n COUNT] [--timeout S] [-0]\n\n"
		 "Print each message received, one per line (NUL-terminated with -0), until\n"
		 "COUNT were received or the queue is shut down and empty (exit 0 either\n"
		 "way), or S seconds passed (exit 15).\n",
};
