/* broker.c: the namespace of queues and the limits, as plain data. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "broker.h"
#include "ipc_defs.h"
#include "proto.h"
#include "queue.h"
#include "registry.h"

/* Set up an empty broker. */
int broker_init(struct broker *b, size_t msg_max, waiter_wake_fn wake)
{
	memset(b, 0, sizeof *b);
	b->reg = registry_new();
	if (b->reg == NULL)
		return IPC_ENOMEM;
	b->msg_max = msg_max;
	b->wake = wake;
	return 0;
}

/* Collect one registry entry for broker_fini (cannot free while walking). */
static void broker_collect(const char *name, int kind, void *obj, void *arg)
{
	void ***cursor = arg;

	(void)name;
	(void)kind;
	*(*cursor)++ = obj;
}

/* Free every queue, waking its parked requests with status. */
void broker_fini(struct broker *b, int status)
{
	size_t n = registry_count(b->reg);
	void **objs = calloc(n ? n : 1, sizeof *objs);
	void **cursor = objs;

	if (objs != NULL && registry_walk(b->reg, broker_collect, &cursor) == 0) {
		for (size_t i = 0; i < n; i++) {
			registry_remove(b->reg, queue_name(objs[i]));
			queue_free(objs[i], status);
		}
	}
	free(objs);
	registry_free(b->reg);
	b->reg = NULL;
}

/* Find queue name. */
int broker_queue_find(struct broker *b, const char *name, struct queue **q)
{
	int kind = 0;
	void *obj = registry_find(b->reg, name, &kind);

	if (obj == NULL)
		return IPC_ENOENT;
	if (kind != IPC_KIND_QUEUE)
		return IPC_EWRONGTYPE;
	*q = obj;
	return 0;
}

/* Check an existing queue against an open request. */
static int broker_queue_match(struct queue *q, int64_t maxsize, uint32_t flags)
{
	if ((flags & PROTO_OPEN_CREATE) && (flags & PROTO_OPEN_EXCL))
		return IPC_EEXIST;
	if (maxsize >= 0 && (size_t)maxsize != queue_maxsize(q))
		return IPC_EMISMATCH;
	return 0;
}

/* Open or create queue name. */
int broker_queue_open(struct broker *b, const char *name, int64_t maxsize,
		      uint32_t flags, struct queue **q)
{
	int rc = broker_queue_find(b, name, q);

	if (rc == 0)
		return broker_queue_match(*q, maxsize, flags);
	if (rc != IPC_ENOENT || !(flags & PROTO_OPEN_CREATE))
		return rc;
	if (maxsize < -1 || (uint64_t)maxsize > SIZE_MAX / 2)
		return IPC_EINVAL;
	*q = queue_new(name, maxsize < 0 ? 0 : (size_t)maxsize, b->wake);
	if (*q == NULL)
		return IPC_ENOMEM;
	rc = registry_add(b->reg, name, IPC_KIND_QUEUE, *q);
	if (rc != 0) {
		queue_free(*q, IPC_EDELETED);
		*q = NULL;
	}
	return rc;
}

/* Delete queue name. */
int broker_queue_delete(struct broker *b, const char *name)
{
	struct queue *q;
	int rc = broker_queue_find(b, name, &q);

	if (rc != 0)
		return rc;
	registry_remove(b->reg, name);
	queue_free(q, IPC_EDELETED);
	return 0;
}

/* Fill *info from a queue. */
static void broker_queue_info(struct queue *q, struct proto_info *info)
{
	struct queue_stats st;

	queue_stats(q, &st);
	memset(info, 0, sizeof *info);
	snprintf(info->name, sizeof info->name, "%s", queue_name(q));
	info->kind = IPC_KIND_QUEUE;
	info->maxsize = (int64_t)st.maxsize;
	info->size = st.size;
	info->bytes = st.bytes;
	info->getters = (uint32_t)st.getters;
	info->putters = (uint32_t)st.putters;
	info->puts = st.puts;
	info->gets = st.gets;
}

/* Describe name into *info. */
int broker_info(struct broker *b, const char *name, struct proto_info *info)
{
	int kind = 0;
	void *obj = registry_find(b->reg, name, &kind);

	if (obj == NULL)
		return IPC_ENOENT;
	broker_queue_info(obj, info);
	return 0;
}

/* Append one entry's description (registry_walk callback). */
static void broker_list_one(const char *name, int kind, void *obj, void *arg)
{
	struct proto_info **cursor = arg;

	(void)name;
	(void)kind;
	broker_queue_info(obj, (*cursor)++);
}

/* Describe every name, sorted. */
int broker_list(struct broker *b, struct proto_info **infos, size_t *n)
{
	struct proto_info *cursor;

	*n = registry_count(b->reg);
	*infos = calloc(*n ? *n : 1, sizeof **infos);
	if (*infos == NULL)
		return IPC_ENOMEM;
	cursor = *infos;
	if (registry_walk(b->reg, broker_list_one, &cursor) != 0) {
		free(*infos);
		*infos = NULL;
		return IPC_ENOMEM;
	}
	return 0;
}
