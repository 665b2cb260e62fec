// SPDX-License-Identifier: LGPL-2.1-or-later
/*
 * --cancel EVENT: every blocking subcommand also ends when an event is
 * set, Go's ctx.Done() from a shell:
 *
 *   ksync event create stop
 *   ksync recv jobs --cancel stop | worker &   ...   ksync event set stop
 *
 * A wait on a semaphore, a queue or an event is one select with the event
 * first (ksync_wait_any()): once it is set, the call completes nothing and
 * ends, even if its operation could have completed too.  A barrier takes
 * no part in a select, so a thread waits for the event and interrupts the
 * wait with a signal, which gives the barrier up as a timeout does: the
 * round breaks for the others.  Either way, exit 17 (EXIT_CANCELLED).
 */
#include <errno.h>
#include <pthread.h>
#include <signal.h>
#include <stdatomic.h>
#include <string.h>
#include <unistd.h>

#include "cli.h"

int cancel_open(const char *cmd, const char *arg, ksync_event_t **ev)
{
	char buf[KSYNC_NAME_MAX + 2];
	const char *name = object_name(arg, buf, sizeof(buf));
	int ret = ksync_event_open(ev, name, 0, 0, 0);

	return ret ? fail(cmd, name, ret) : 0;
}

/* Select op, or the cancel event if it is set first: 0, -ECANCELED or an error. */
static int with_cancel(ksync_event_t *ev, struct ksync_op *op, const struct timespec *dl)
{
	struct ksync_op ops[2] = { { .kind = KSYNC_OP_EVENT, .event = ev }, *op };
	int i = ksync_wait_any(ops, 2, dl);

	if (i < 0)
		return i;
	if (i == 0)
		return -ECANCELED;
	op->result = ops[1].result;
	return 0;
}

int cancel_acquire(ksync_sem_t *s, unsigned int n, ksync_event_t *ev, const struct timespec *dl)
{
	struct ksync_op op = { .kind = KSYNC_OP_ACQUIRE, .sem = s, .n = n };

	return ev ? with_cancel(ev, &op, dl) : ksync_sem_acquire(s, n, dl);
}

int cancel_send(ksync_queue_t *q, const void *msg, size_t len, ksync_event_t *ev,
		const struct timespec *dl)
{
	struct ksync_op op = { .kind = KSYNC_OP_SEND, .queue = q, .buf = (void *)msg, .len = len };
	int ret;

	if (!ev)
		return ksync_queue_send(q, msg, len, dl);
	ret = with_cancel(ev, &op, dl);
	return ret ? ret : (int)op.result;
}

ssize_t cancel_recv(ksync_queue_t *q, void *buf, size_t len, ksync_event_t *ev,
		    const struct timespec *dl)
{
	struct ksync_op op = { .kind = KSYNC_OP_RECV, .queue = q, .buf = buf, .len = len };
	int ret;

	if (!ev)
		return ksync_queue_recv(q, buf, len, dl);
	ret = with_cancel(ev, &op, dl);
	return ret ? ret : op.result;
}

int cancel_event_wait(ksync_event_t *e, ksync_event_t *ev, const struct timespec *dl)
{
	struct ksync_op op = { .kind = KSYNC_OP_EVENT, .event = e };

	return ev ? with_cancel(ev, &op, dl) : ksync_event_wait(e, dl);
}

/* The barrier's canceller: the event, then SIGUSR1 until the waiter is done. */
struct canceller {
	ksync_event_t *ev;
	pthread_t waiter;
	atomic_bool fired, done;
};

static void on_cancel(int sig)
{
	(void)sig;
}

static void *cancel_thread(void *arg)
{
	struct canceller *c = arg;
	struct timespec tick = { 0, 10000000 };
	int ret;

	while ((ret = ksync_event_wait(c->ev, NULL)) == -EINTR)
		;
	if (ret)
		return NULL;
	atomic_store(&c->fired, true);
	/* again and again: the first may come before the waiter sleeps */
	while (!atomic_load(&c->done)) {
		pthread_kill(c->waiter, SIGUSR1);
		nanosleep(&tick, NULL);
	}
	return NULL;
}

int cancel_barrier_wait(ksync_barrier_t *b, ksync_event_t *ev, const struct timespec *dl)
{
	/* static: the thread may outlive the call (the command's one wait) */
	static struct canceller c;
	struct sigaction sa = { .sa_handler = on_cancel };
	pthread_t t;
	int ret;

	if (!ev)
		return ksync_barrier_wait(b, dl);
	if (ksync_event_is_set(ev) == 1)
		return -ECANCELED;
	c.ev = ev;
	c.waiter = pthread_self();
	/*
	 * No SA_RESTART: the handler's run ends the wait with -EINTR.  It
	 * stays: a last signal may come after the wait, and must not kill us.
	 */
	sigemptyset(&sa.sa_mask);
	if (sigaction(SIGUSR1, &sa, NULL))
		return -errno;
	ret = -pthread_create(&t, NULL, cancel_thread, &c);
	if (ret)
		return ret;
	ret = ksync_barrier_wait(b, dl);
	if (ret == -EINTR && atomic_load(&c.fired))
		ret = -ECANCELED;
	atomic_store(&c.done, true);
	/* one still asleep on the event ends with the process */
	pthread_detach(t);
	return ret;
}
