// SPDX-License-Identifier: LGPL-2.1-or-later
/*
 * What the command knows of each type, in one table: its name, how to
 * create one, and how ls and info show its state and counters.  A type
 * the table does not have is an error wherever it turns up, never shown
 * as another type.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <ksync.h>

#include "cli.h"

static void json_counter(const char *key, unsigned long long v, bool *first)
{
	printf("%s\"%s\":%llu", *first ? "" : ",", key, v);
	*first = false;
}

static const char *json_bool(unsigned int v)
{
	return v ? "true" : "false";
}

/* VALUE permits, and at most VALUE unless --max says otherwise. */
static int sem_create(const char *name, const struct create_how *how, char **argv)
{
	unsigned int value, max;
	ksync_sem_t *s;
	int ret;

	if (parse_uint(argv[0], KSYNC_SEM_VALUE_MAX, &value))
		return usage_error(&cmd_create, "%s: a semaphore's VALUE (its permits) is 0 to %d",
				   argv[0], KSYNC_SEM_VALUE_MAX);
	max = how->max_given ? how->max : value;
	if (max && value > max)
		return usage_error(&cmd_create, "VALUE %u is more than --max %u", value, max);
	ret = ksync_sem_open_max(&s, name, how->flags, how->mode, value, max);
	if (!ret)
		ksync_sem_close(s);
	return ret;
}

static void sem_state(const struct ksync_object *o, char *buf, size_t len)
{
	snprintf(buf, len, "value %u, %u waiting", o->sem.value, o->sem.waiters);
}

static void sem_state_json(const struct ksync_object *o)
{
	printf("\"value\":%u,\"waiters\":%u", o->sem.value, o->sem.waiters);
}

static void sem_fast(const struct ksync_counters *c, char *buf, size_t len)
{
	snprintf(buf, len, "acq %llu rel %llu", c->sem.fast_acquires, c->sem.fast_releases);
}

static void sem_fast_json(const struct ksync_counters *c)
{
	printf("{\"acquires\":%llu,\"releases\":%llu}", c->sem.fast_acquires, c->sem.fast_releases);
}

static void sem_calls(const struct ksync_counters *c, char *buf, size_t len)
{
	snprintf(buf, len, "wait %llu wake %llu", c->sem.kernel.wait_calls,
		 c->sem.kernel.wake_calls);
}

static void sem_calls_json(const struct ksync_counters *c)
{
	bool first = true;

	json_counter("wait_calls", c->sem.kernel.wait_calls, &first);
	json_counter("wake_calls", c->sem.kernel.wake_calls, &first);
	json_counter("woken", c->sem.kernel.woken, &first);
}

static void sem_detail(const struct ksync_counters *c)
{
	if (c->fast_valid)
		printf("fast:     %llu acquires and %llu releases on the shared page alone\n",
		       c->sem.fast_acquires, c->sem.fast_releases);
	/* calls, which need not balance: an UNDO give-back makes none */
	printf("kernel:   %llu acquire calls and %llu release calls entered the kernel, "
	       "%llu sleepers woken\n"
	       "          (calls, not permits: an UNDO handle's permits come back when it\n"
	       "          is closed, with no release call; the value above is what is free)\n",
	       c->sem.kernel.wait_calls, c->sem.kernel.wake_calls, c->sem.kernel.woken);
}

static int barrier_create(const char *name, const struct create_how *how, char **argv)
{
	ksync_barrier_t *b;
	unsigned int parties;
	int ret;

	if (parse_uint(argv[0], KSYNC_BARRIER_PARTIES_MAX, &parties) || !parties)
		return usage_error(&cmd_create, "parties must be 1 to %d",
				   KSYNC_BARRIER_PARTIES_MAX);
	ret = ksync_barrier_open(&b, name, how->flags, how->mode, parties);
	if (!ret)
		ksync_barrier_close(b);
	return ret;
}

static void barrier_state(const struct ksync_object *o, char *buf, size_t len)
{
	snprintf(buf, len, "%u/%u arrived, round %u%s", o->barrier.waiting, o->barrier.parties,
		 o->barrier.generation, o->barrier.broken ? ", BROKEN" : "");
}

static void barrier_state_json(const struct ksync_object *o)
{
	printf("\"parties\":%u,\"arrived\":%u,\"round\":%u,\"broken\":%s", o->barrier.parties,
	       o->barrier.waiting, o->barrier.generation, json_bool(o->barrier.broken));
}

static void barrier_fast(const struct ksync_counters *c, char *buf, size_t len)
{
	snprintf(buf, len, "arrive %llu", c->barrier.fast_arrivals);
}

static void barrier_fast_json(const struct ksync_counters *c)
{
	printf("{\"arrivals\":%llu}", c->barrier.fast_arrivals);
}

static void barrier_calls(const struct ksync_counters *c, char *buf, size_t len)
{
	snprintf(buf, len, "wait %llu break %llu", c->barrier.kernel.wait_calls,
		 c->barrier.kernel.breaks);
}

static void barrier_calls_json(const struct ksync_counters *c)
{
	bool first = true;

	json_counter("wait_calls", c->barrier.kernel.wait_calls, &first);
	json_counter("woken", c->barrier.kernel.woken, &first);
	json_counter("breaks", c->barrier.kernel.breaks, &first);
	json_counter("resets", c->barrier.kernel.resets, &first);
	json_counter("sleepers", c->barrier.kernel.sleepers, &first);
}

static void barrier_detail(const struct ksync_counters *c)
{
	if (c->fast_valid)
		printf("fast:     %llu arrivals on the shared page alone\n",
		       c->barrier.fast_arrivals);
	printf("kernel:   %llu waits entered the kernel, %llu woken, %llu rounds broken, "
	       "%llu resets, %u asleep now\n",
	       c->barrier.kernel.wait_calls, c->barrier.kernel.woken, c->barrier.kernel.breaks,
	       c->barrier.kernel.resets, c->barrier.kernel.sleepers);
}

static int queue_create(const char *name, const struct create_how *how, char **argv)
{
	unsigned int capacity, msg_size;
	ksync_queue_t *q;
	int ret;

	if (parse_uint(argv[0], KSYNC_QUEUE_CAPACITY_MAX, &capacity) || !capacity)
		return usage_error(&cmd_create, "the capacity must be 1 to %d messages",
				   KSYNC_QUEUE_CAPACITY_MAX);
	if (parse_uint(argv[1], KSYNC_QUEUE_MSG_MAX, &msg_size))
		return usage_error(&cmd_create, "the message size must be 0 to %d bytes",
				   KSYNC_QUEUE_MSG_MAX);
	ret = ksync_queue_open(&q, name, how->flags | KSYNC_QUEUE_KERNEL, how->mode, capacity,
			       msg_size);
	if (!ret)
		ksync_queue_close(q);
	return ret;
}

static void queue_state(const struct ksync_object *o, char *buf, size_t len)
{
	snprintf(buf, len, "%u/%u msgs of %u B, %u asleep%s%s%s", o->queue.length,
		 o->queue.capacity, o->queue.msg_size, o->queue.sleepers,
		 o->queue.shutdown ? ", SHUT DOWN" : "", o->queue.broken ? ", BROKEN" : "",
		 o->queue.eof ? ", EOF" : "");
}

static void queue_state_json(const struct ksync_object *o)
{
	printf("\"capacity\":%u,\"msg_size\":%u,\"length\":%u,\"sleepers\":%u,"
	       "\"shutdown\":%s,\"broken\":%s,\"noeof\":%s,\"eof\":%s",
	       o->queue.capacity, o->queue.msg_size, o->queue.length, o->queue.sleepers,
	       json_bool(o->queue.shutdown), json_bool(o->queue.broken), json_bool(o->queue.noeof),
	       json_bool(o->queue.eof));
}

static void queue_fast(const struct ksync_counters *c, char *buf, size_t len)
{
	snprintf(buf, len, "(all) sent %llu got %llu", c->queue.sent, c->queue.received);
}

static void queue_fast_json(const struct ksync_counters *c)
{
	printf("{\"sent_all\":%llu,\"received_all\":%llu}", c->queue.sent, c->queue.received);
}

static void queue_calls(const struct ksync_counters *c, char *buf, size_t len)
{
	snprintf(buf, len, "send %llu recv %llu wake %llu", c->queue.kernel.send_calls,
		 c->queue.kernel.recv_calls, c->queue.kernel.wake_calls);
}

static void queue_calls_json(const struct ksync_counters *c)
{
	const struct ksync_queue_stats *k = &c->queue.kernel;
	bool first = true;

	json_counter("send_calls", k->send_calls, &first);
	json_counter("recv_calls", k->recv_calls, &first);
	json_counter("wake_calls", k->wake_calls, &first);
	json_counter("woken", k->woken, &first);
	json_counter("tombstones", k->tombstones, &first);
	json_counter("senders", k->senders, &first);
	json_counter("send_sleepers", k->send_sleepers, &first);
	json_counter("recv_sleepers", k->recv_sleepers, &first);
}

static void queue_detail(const struct ksync_counters *c)
{
	const struct ksync_queue_stats *k = &c->queue.kernel;

	if (c->fast_valid)
		printf("messages: %llu sent and %llu received in all\n", c->queue.sent,
		       c->queue.received);
	printf("senders:  %u processes\nasleep:   %u senders, %u receivers\n"
	       "kernel:   %llu sends, %llu receives, %llu wakes entered the kernel, "
	       "%llu woken, %llu dead senders' claims skipped\n",
	       k->senders, k->send_sleepers, k->recv_sleepers, k->send_calls, k->recv_calls,
	       k->wake_calls, k->woken, k->tombstones);
}

/* An event, clear unless --set; --auto: each set lets one wait pass. */
static int event_create(const char *name, const struct create_how *how, char **argv)
{
	ksync_event_t *e;
	int ret;

	(void)argv;
	ret = ksync_event_open(&e, name, how->flags, how->mode, how->set);
	if (!ret)
		ksync_event_close(e);
	return ret;
}

static void event_state(const struct ksync_object *o, char *buf, size_t len)
{
	snprintf(buf, len, "%s, %s, %u waiting", o->event.set ? "set" : "clear",
		 o->event.auto_reset ? "auto-reset" : "manual", o->event.waiters);
}

static void event_state_json(const struct ksync_object *o)
{
	printf("\"set\":%s,\"auto\":%s,\"waiters\":%u", json_bool(o->event.set),
	       json_bool(o->event.auto_reset), o->event.waiters);
}

static void event_fast(const struct ksync_counters *c, char *buf, size_t len)
{
	snprintf(buf, len, "set %llu reset %llu wait %llu", c->event.fast_sets,
		 c->event.fast_resets, c->event.fast_waits);
}

static void event_fast_json(const struct ksync_counters *c)
{
	printf("{\"sets\":%llu,\"resets\":%llu,\"waits\":%llu}", c->event.fast_sets,
	       c->event.fast_resets, c->event.fast_waits);
}

static void event_calls(const struct ksync_counters *c, char *buf, size_t len)
{
	snprintf(buf, len, "wait %llu set %llu reset %llu", c->event.kernel.wait_calls,
		 c->event.kernel.set_calls, c->event.kernel.reset_calls);
}

static void event_calls_json(const struct ksync_counters *c)
{
	bool first = true;

	json_counter("wait_calls", c->event.kernel.wait_calls, &first);
	json_counter("set_calls", c->event.kernel.set_calls, &first);
	json_counter("reset_calls", c->event.kernel.reset_calls, &first);
	json_counter("woken", c->event.kernel.woken, &first);
}

static void event_detail(const struct ksync_counters *c)
{
	if (c->fast_valid)
		printf("fast:     %llu sets, %llu resets and %llu waits on the shared page alone\n",
		       c->event.fast_sets, c->event.fast_resets, c->event.fast_waits);
	printf("kernel:   %llu waits, %llu sets and %llu resets entered the kernel, "
	       "%llu sleepers let pass\n",
	       c->event.kernel.wait_calls, c->event.kernel.set_calls, c->event.kernel.reset_calls,
	       c->event.kernel.woken);
}

static const struct type_view views[] = {
	{
		.type = KSYNC_TYPE_SEM,
		.name = "sem",
		.create_args = 1,
		.create = sem_create,
		.state = sem_state,
		.state_json = sem_state_json,
		.fast = sem_fast,
		.fast_json = sem_fast_json,
		.calls = sem_calls,
		.calls_json = sem_calls_json,
		.detail = sem_detail,
	},
	{
		.type = KSYNC_TYPE_BARRIER,
		.name = "barrier",
		.create_args = 1,
		.create = barrier_create,
		.state = barrier_state,
		.state_json = barrier_state_json,
		.fast = barrier_fast,
		.fast_json = barrier_fast_json,
		.calls = barrier_calls,
		.calls_json = barrier_calls_json,
		.detail = barrier_detail,
	},
	{
		.type = KSYNC_TYPE_QUEUE,
		.name = "queue",
		.create_args = 2,
		.create = queue_create,
		.state = queue_state,
		.state_json = queue_state_json,
		.fast = queue_fast,
		.fast_json = queue_fast_json,
		.calls = queue_calls,
		.calls_json = queue_calls_json,
		.detail = queue_detail,
	},
	{
		.type = KSYNC_TYPE_EVENT,
		.name = "event",
		.create_args = 0,
		.create = event_create,
		.state = event_state,
		.state_json = event_state_json,
		.fast = event_fast,
		.fast_json = event_fast_json,
		.calls = event_calls,
		.calls_json = event_calls_json,
		.detail = event_detail,
	},
};

#define NVIEWS (sizeof(views) / sizeof(views[0]))

const struct type_view *view_of(unsigned int type)
{
	for (size_t i = 0; i < NVIEWS; i++)
		if (views[i].type == type)
			return &views[i];
	return NULL;
}

const struct type_view *view_named(const char *name)
{
	for (size_t i = 0; i < NVIEWS; i++)
		if (!strcmp(name, views[i].name))
			return &views[i];
	return NULL;
}

int unknown_type(const char *cmd, const struct ksync_object *o)
{
	fprintf(stderr, "ksync %s: ", cmd);
	put_name(o->name, stderr);
	fprintf(stderr,
		": an object of type %u, which this ksync does not know (a newer module?)\n",
		o->type);
	return EXIT_FAILURE;
}
