/* SPDX-License-Identifier: MIT */
/* broker.c: the namespace of queues (pipes: broker_pipe.c) and the
 * limits, as plain data. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "access.h"
#include "broker.h"
#include "ipc_defs.h"
#include "pipe.h"
#include "qmsg.h"
#include "queue.h"
#include "registry.h"

/* Who acts when a caller names no one: root, admitted everywhere. */
static const struct access_cred broker_root;

/* Set up an empty broker. */
int broker_init(struct broker *b, size_t msg_max, waiter_wake_fn wake)
{
	memset(b, 0, sizeof *b);
	b->reg = registry_new();
	if (b->reg == NULL)
		return IPC_ENOMEM;
	b->msg_max = msg_max;
	b->wake = wake;
	b->default_mode = ACCESS_MODE_DEFAULT;
	quota_init(&b->quota, 0);
	return 0;
}

/* One object of the namespace, collected by broker_fini. */
struct broker_obj {
	int kind;
	void *obj;
	uid_t owner;
};

/* What broker_collect fills: the objects, and the registry they are in. */
struct broker_collect_ctx {
	struct broker_obj *cursor;
	const struct registry *reg;
};

/* Collect one registry entry for broker_fini (cannot free while walking). */
static void broker_collect(const char *name, int kind, void *obj, void *arg)
{
	struct broker_collect_ctx *ctx = arg;

	*ctx->cursor++ = (struct broker_obj){ kind, obj,
					      registry_owner(ctx->reg, name)->uid };
}

/* Free queue or pipe obj (kind IPC_KIND_*), completing its waiters
 * with status; NULL is a no-op. */
static void broker_free_obj(int kind, void *obj, int status)
{
	if (kind == IPC_KIND_PIPE)
		pipe_free(obj, status);
	else
		queue_free(obj, status);
}

/* Free every queue and pipe, waking its parked requests with status. */
void broker_fini(struct broker *b, int status)
{
	size_t n = registry_count(b->reg);
	struct broker_obj *objs = calloc(n ? n : 1, sizeof *objs);
	struct broker_collect_ctx ctx = { objs, b->reg };
	int ok = objs != NULL && registry_walk(b->reg, broker_collect, &ctx) == 0;

	/* The namespace goes first: a wake callback below that closes a
	 * connection (and its pipe ends) then finds no object to touch. */
	registry_free(b->reg);
	b->reg = NULL;
	for (size_t i = 0; ok && i < n; i++) {
		quota_uncharge(quota_find(&b->quota, objs[i].owner), QUOTA_OBJECTS, 1);
		broker_free_obj(objs[i].kind, objs[i].obj, status);
	}
	free(objs);
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

/* Find queue name and check cred may do want on it, in one lookup. */
int broker_queue_access(struct broker *b, const char *name,
			const struct access_cred *cred, unsigned want,
			struct queue **q)
{
	struct access_owner *o = NULL;
	int kind = 0;
	void *obj = registry_find_owned(b->reg, name, &kind, &o);

	if (obj == NULL)
		return IPC_ENOENT;
	if (kind != IPC_KIND_QUEUE)
		return IPC_EWRONGTYPE;
	*q = obj;
	return want != 0 ? access_check(o, cred, want) : 0;
}

/* Check an existing queue against an open request. */
static int broker_queue_match(struct queue *q, int64_t maxsize, uint32_t flags)
{
	if ((flags & BROKER_OPEN_CREATE) && (flags & BROKER_OPEN_EXCL))
		return IPC_EEXIST;
	if (maxsize >= 0 && (size_t)maxsize != queue_maxsize(q))
		return IPC_EMISMATCH;
	return 0;
}

/* Open or create queue name (as root). */
int broker_queue_open(struct broker *b, const char *name, int64_t maxsize,
		      uint32_t flags, struct queue **q)
{
	return broker_queue_open_as(b, name, maxsize, flags, &broker_root, -1, q);
}

/* May cred create one more queue or pipe? */
int broker_may_create(const struct broker *b, const struct access_cred *cred)
{
	const struct quota_user *u = quota_find(&b->quota, cred->uid);

	if (b->max_objects && registry_count(b->reg) >= b->max_objects)
		return IPC_ELIMIT;
	if (u != NULL)
		return quota_admit(u, QUOTA_OBJECTS, 1);
	/* No record yet: it owns nothing, so one is within any limit. */
	return 0;
}

/* Name a new queue or pipe, owned by cred (broker.h). */
int broker_register(struct broker *b, const char *name, int kind, void *obj,
		    const struct access_cred *cred, int mode)
{
	int rc = obj != NULL ? registry_add(b->reg, name, kind, obj) : IPC_ENOMEM;
	struct access_owner *o;

	if (rc != 0) {
		broker_free_obj(kind, obj, IPC_EDELETED);
		return rc;
	}
	if ((o = registry_owner(b->reg, name)) == NULL)
		return 0;
	access_owner_init(o, cred, mode < 0 ? b->default_mode : (unsigned)mode);
	/* Out of memory for the record: the object goes uncounted. */
	quota_charge(quota_user(&b->quota, cred->uid), QUOTA_OBJECTS, 1);
	return 0;
}

/* Remove name and give its object back to its owner's quota. */
void broker_unregister(struct broker *b, const char *name)
{
	const struct access_owner *o = registry_owner(b->reg, name);

	if (o == NULL)
		return;
	quota_uncharge(quota_find(&b->quota, o->uid), QUOTA_OBJECTS, 1);
	registry_remove(b->reg, name);
}

/* name's owner and kind, or NULL when there is no such name. */
const struct access_owner *broker_owner(const struct broker *b, const char *name,
					int *kind)
{
	*kind = 0;
	if (registry_find(b->reg, name, kind) == NULL)
		return NULL;
	return registry_owner(b->reg, name);
}

/* May cred do want on name? */
int broker_access(const struct broker *b, const char *name,
		  const struct access_cred *cred, unsigned want)
{
	const struct access_owner *o = registry_owner(b->reg, name);

	return o == NULL ? IPC_ENOENT : access_check(o, cred, want);
}

/* May cred delete name? */
int broker_access_owner(const struct broker *b, const char *name,
			const struct access_cred *cred)
{
	const struct access_owner *o = registry_owner(b->reg, name);

	return o == NULL ? IPC_ENOENT : access_check_owner(o, cred);
}

/* Set name's mode (ACCESS_MODE_MASK bits). */
int broker_chmod(struct broker *b, const char *name, unsigned mode)
{
	struct access_owner *o = registry_owner(b->reg, name);

	if (o == NULL)
		return IPC_ENOENT;
	o->mode = mode & ACCESS_MODE_MASK;
	return 0;
}

/* Set name's owner and group; -1 keeps one. */
int broker_chown(struct broker *b, const char *name, int64_t uid, int64_t gid)
{
	struct access_owner *o = registry_owner(b->reg, name);

	if (o == NULL)
		return IPC_ENOENT;
	if (uid >= 0 && quota_move_object(&b->quota, o->uid, (uid_t)uid) != 0)
		return IPC_ENOMEM;
	if (uid >= 0)
		o->uid = (uid_t)uid;
	if (gid >= 0)
		o->gid = (gid_t)gid;
	return 0;
}

/* What counts against max_bytes now. */
size_t broker_held(const struct broker *b)
{
	size_t held = qmsg_live_mem();

	return held > SIZE_MAX - b->shell_bytes ? SIZE_MAX : held + b->shell_bytes;
}

/* May new messages of footprint mem be held? */
int broker_admit(const struct broker *b, size_t mem)
{
	size_t held = broker_held(b);

	if (b->max_bytes && (held > b->max_bytes || mem > b->max_bytes - held))
		return IPC_ELIMIT;
	return 0;
}

/* Open or create queue name on behalf of cred. */
int broker_queue_open_as(struct broker *b, const char *name, int64_t maxsize,
			 uint32_t flags, const struct access_cred *cred,
			 int mode, struct queue **q)
{
	int rc = broker_queue_find(b, name, q);

	if (rc == 0) {
		rc = access_check_any(registry_owner(b->reg, name), cred);
		return rc ? rc : broker_queue_match(*q, maxsize, flags);
	}
	if (rc != IPC_ENOENT || !(flags & BROKER_OPEN_CREATE))
		return rc;
	if (maxsize < -1 || (uint64_t)maxsize > SIZE_MAX / 2)
		return IPC_EINVAL;
	if ((rc = broker_may_create(b, cred)) != 0)
		return rc;
	*q = queue_new(name, maxsize < 0 ? 0 : (size_t)maxsize, b->wake);
	rc = broker_register(b, name, IPC_KIND_QUEUE, *q, cred, mode);
	if (rc != 0)
		*q = NULL;
	return rc;
}

/* Delete name, a queue or a pipe as kind says (broker.h). */
int broker_delete(struct broker *b, const char *name, int kind)
{
	int found = 0;
	void *obj = b->reg != NULL ? registry_find(b->reg, name, &found) : NULL;

	if (obj == NULL)
		return IPC_ENOENT;
	if (found != kind)
		return IPC_EWRONGTYPE;
	broker_unregister(b, name);
	if (kind == IPC_KIND_PIPE) {
		pipe_kill(obj, IPC_EDELETED);
		broker_pipe_reap(b, obj);
	} else {
		broker_count_gone(b, IPC_KIND_QUEUE, obj);
		queue_free(obj, IPC_EDELETED);
	}
	return 0;
}

/* Add one queue's or pipe's figures to t: the gauges too when now. */
static void broker_add(struct broker_totals *t, int kind, const void *obj,
		       int now)
{
	struct queue_stats qs;
	struct pipe_stats ps;
	int i;

	if (kind == IPC_KIND_QUEUE) {
		queue_stats(obj, &qs);
		t->puts += qs.puts;
		t->gets += qs.gets;
		t->requeued += qs.requeued;
		t->dead_lettered += qs.dead_lettered;
		if (now) {
			t->queues++;
			t->messages += qs.size;
			t->inflight += qs.inflight;
		}
		return;
	}
	pipe_stats(obj, &ps);
	for (i = 0; i < 2; i++) {
		t->sends += ps.dir[i].sent;
		t->receives += ps.dir[i].received;
		t->messages += now ? ps.dir[i].msgs : 0;
	}
	t->pipes += now != 0;
}

/* Add the counters of a queue or pipe about to be freed to b->gone. */
void broker_count_gone(struct broker *b, int kind, const void *obj)
{
	broker_add(&b->gone, kind, obj, 0);
}

/* broker_totals' walk: add one entry. */
static void broker_total_one(const char *name, int kind, void *obj, void *arg)
{
	(void)name;
	broker_add(arg, kind, obj, 1);
}

/* The daemon-wide figures: the freed ones' counters plus every live one. */
void broker_totals(const struct broker *b, struct broker_totals *t)
{
	*t = b->gone;
	if (b->reg != NULL)
		registry_walk(b->reg, broker_total_one, t);
}

/* Describe name, of kind and object obj, into *info. */
static void broker_describe(const struct broker *b, const char *name, int kind,
			    void *obj, struct broker_info *info)
{
	const struct access_owner *o = registry_owner(b->reg, name);

	memset(info, 0, sizeof *info);
	snprintf(info->name, sizeof info->name, "%s", name);
	info->kind = kind;
	if (kind == IPC_KIND_PIPE)
		pipe_stats(obj, &info->pipe);
	else {
		queue_stats(obj, &info->queue);
		snprintf(info->dead_letter, sizeof info->dead_letter, "%s",
			 queue_dead_letter(obj));
	}
	if (o != NULL)
		info->owner = *o;
}

/* Describe name into *info. */
int broker_info(struct broker *b, const char *name, struct broker_info *info)
{
	int kind = 0;
	void *obj = registry_find(b->reg, name, &kind);

	if (obj == NULL)
		return IPC_ENOENT;
	broker_describe(b, name, kind, obj, info);
	return 0;
}

/* One LIST page being filled (registry_walk_after callback state). */
struct broker_page {
	const struct broker *b;
	struct broker_info *next;
};

/* Describe one entry into the page (registry_walk_after callback). */
static void broker_list_one(const char *name, int kind, void *obj, void *arg)
{
	struct broker_page *pg = arg;

	broker_describe(pg->b, name, kind, obj, pg->next++);
}

/* Describe the names after `after`, at most max of them, in order. */
size_t broker_list_page(struct broker *b, const char *after,
			struct broker_info *infos, size_t max, int *more)
{
	struct broker_page pg = { b, infos };

	return registry_walk_after(b->reg, after, max, broker_list_one, &pg, more);
}
