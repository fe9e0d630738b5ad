/* SPDX-License-Identifier: MIT */
/*
 * broker.h: the broker's state as plain data: the namespace of queues and
 * pipes (one namespace: a name is either) and the daemon-wide limits. No
 * I/O and no wire types: the handlers in op_*.c turn requests into these
 * calls and their results into replies.
 */
#ifndef IPCD_BROKER_H
#define IPCD_BROKER_H

#include <stddef.h>
#include <stdint.h>

#include "access.h"
#include "ipc_defs.h"
#include "pipe.h"
#include "queue.h"
#include "quota.h"
#include "waiter.h"

struct registry;

/* broker_queue_open flags. */
#define BROKER_OPEN_CREATE 0x1u /* create the queue when missing */
#define BROKER_OPEN_EXCL 0x2u   /* with CREATE: IPC_EEXIST when it exists */

/* struct broker_pipe_want flags. */
#define BROKER_PIPE_CREATE 0x1u /* create the pipe when missing */
#define BROKER_PIPE_DUPLEX 0x2u /* both ends send and receive */
#define BROKER_PIPE_ONEWAY 0x4u /* end 1 only sends, end 0 only receives */

/* What the broker reports about one queue or pipe (STAT, LIST): its
 * counters as the queue or pipe keeps them, and its owner. */
struct broker_info {
	char name[IPC_NAME_MAX + 1];
	enum ipc_kind kind;
	struct queue_stats queue;  /* kind IPC_KIND_QUEUE */
	struct pipe_stats pipe;    /* kind IPC_KIND_PIPE */
	struct access_owner owner;
	char dead_letter[IPC_NAME_MAX + 1]; /* queue: its dead-letter queue, or "" */
};

/* Daemon-wide figures of the namespace (INFO): the gauges sum the queues
 * and pipes there now; the counters run since the broker started, those
 * of queues and pipes deleted since included. */
struct broker_totals {
	size_t queues, pipes;
	uint64_t messages;       /* held in queues and buffered in pipes */
	uint64_t inflight;       /* delivered for ack, not yet acked */
	uint64_t puts, gets, requeued;  /* queues */
	uint64_t dead_lettered;         /* moved to a dead-letter queue */
	uint64_t sends, receives;       /* pipes */
};

struct broker {
	struct registry *reg;
	size_t msg_max;          /* largest payload accepted */
	waiter_wake_fn wake;     /* completes parked requests (the I/O shell's) */
	uint64_t last_tag;       /* the last delivery tag given (QGETA) */
	size_t max_bytes;        /* bytes held in all (broker_held); 0 = no limit */
	size_t shell_bytes;      /* bytes the I/O shell holds for messages
				    beyond their footprint (it keeps the
				    count): replies in output buffers, the
				    records of deliveries in flight. They
				    count against max_bytes too */
	size_t max_objects;      /* queues + pipes; 0 = no limit */
	unsigned default_mode;   /* of a queue or pipe created without a mode */
	struct quota quota;      /* per uid: owned objects here, the rest by
				    the shell (connections, parks, bytes) */
	struct broker_totals gone; /* counters of the queues and pipes freed */
};

/* Set up an empty broker; 0 or IPC_ENOMEM. */
int broker_init(struct broker *b, size_t msg_max, waiter_wake_fn wake);
/* Empty the namespace (b->reg is NULL afterwards), then free every queue
 * and pipe, waking its parked requests with status. */
void broker_fini(struct broker *b, int status);

/* Find queue name: 0 with *q, IPC_ENOENT, or IPC_EWRONGTYPE. */
int broker_queue_find(struct broker *b, const char *name, struct queue **q);
/* broker_queue_find(), then broker_access() for want (0: none) with the
 * same lookup (every request on a queue does both): 0 with *q,
 * IPC_ENOENT, IPC_EWRONGTYPE or IPC_EPERM. */
int broker_queue_access(struct broker *b, const char *name,
			const struct access_cred *cred, unsigned want,
			struct queue **q);
/* Open or create queue name per BROKER_OPEN_* flags; maxsize -1 accepts any
 * existing size (and creates unbounded). 0 with *q, or IPC_ENOENT,
 * IPC_EEXIST, IPC_EMISMATCH, IPC_EWRONGTYPE, IPC_EINVAL, IPC_ENOMEM. */
int broker_queue_open(struct broker *b, const char *name, int64_t maxsize,
		      uint32_t flags, struct queue **q);
/* broker_queue_open on behalf of cred: opening an existing queue needs
 * read or write permission (IPC_EPERM), creating one needs room under
 * max_objects (IPC_ELIMIT) and makes cred its owner with mode (-1: the
 * default mode). */
int broker_queue_open_as(struct broker *b, const char *name, int64_t maxsize,
			 uint32_t flags, const struct access_cred *cred,
			 int mode, struct queue **q);
/* May cred create one more queue or pipe (max_objects, and cred's
 * uid's QUOTA_OBJECTS)? 0 or IPC_ELIMIT. */
int broker_may_create(const struct broker *b, const struct access_cred *cred);
/* Name obj, a new queue or pipe (kind IPC_KIND_*, NULL: its allocation
 * failed), and record cred as its owner with mode (-1: the default mode),
 * charged to cred's uid: 0, or IPC_ENOMEM or the registry's refusal
 * (registry_add) with obj freed. */
int broker_register(struct broker *b, const char *name, int kind, void *obj,
		    const struct access_cred *cred, int mode);
/* The owner of queue or pipe name with its kind (enum ipc_kind) in
 * *kind, or NULL when name does not exist. */
const struct access_owner *broker_owner(const struct broker *b, const char *name,
					int *kind);
/* May cred do want (ACCESS_READ/ACCESS_WRITE) on name? 0, IPC_ENOENT or
 * IPC_EPERM. */
int broker_access(const struct broker *b, const char *name,
		  const struct access_cred *cred, unsigned want);
/* May cred delete name (it owns it or is root)? 0, IPC_ENOENT, IPC_EPERM. */
int broker_access_owner(const struct broker *b, const char *name,
			const struct access_cred *cred);
/* Set the mode of queue or pipe name (its ACCESS_MODE_MASK bits; no
 * access check here): 0 or IPC_ENOENT. */
int broker_chmod(struct broker *b, const char *name, unsigned mode);
/* Set the owner uid and group gid of name, each kept when -1 (no access
 * check here; the object moves to the new owner's quota): 0, IPC_ENOENT
 * or IPC_ENOMEM. */
int broker_chown(struct broker *b, const char *name, int64_t uid, int64_t gid);
/* The bytes max_bytes bounds: the footprint of every message alive
 * (qmsg_live_mem: queued, parked, in flight, in replies) plus shell_bytes. */
size_t broker_held(const struct broker *b);
/* May new messages of footprint mem (the sum of their qmsg_footprint)
 * be held under max_bytes? 0 or IPC_ELIMIT. */
int broker_admit(const struct broker *b, size_t mem);
/* Remove name from the namespace and give its object back to its owner's
 * quota (the object itself is the caller's to free). */
void broker_unregister(struct broker *b, const char *name);
/* Delete name, a queue or a pipe as kind (IPC_KIND_*) says; every request
 * parked on it completes with IPC_EDELETED. 0, IPC_ENOENT or
 * IPC_EWRONGTYPE. A queue is freed at once. A pipe (QDEL; the caller
 * checked ownership) leaves the namespace at once (the name may be
 * reused), its buffered messages are freed and its ends are closed and
 * forgotten (pipe_kill); it is freed here, or by the outermost
 * broker_pipe_reap when called from a wake callback of it. */
int broker_delete(struct broker *b, const char *name, int kind);
/* Fill *t (see struct broker_totals). O(number of queues and pipes). */
void broker_totals(const struct broker *b, struct broker_totals *t);
/* Add the counters of queue or pipe obj (kind IPC_KIND_*), about to be
 * freed, to b->gone (broker.c, broker_pipe.c). */
void broker_count_gone(struct broker *b, int kind, const void *obj);

/* Describe name into *info: 0 or IPC_ENOENT. */
int broker_info(struct broker *b, const char *name, struct broker_info *info);
/* Describe the names strictly greater than after in byte order ("": from
 * the first), at most max of them, in order, into infos: how many; *more
 * is 1 when further names follow. O(log n + max). */
size_t broker_list_page(struct broker *b, const char *after,
			struct broker_info *infos, size_t max, int *more);

/* Pipes (broker_pipe.c). */

/* What an attach asks for (PATTACH). */
struct broker_pipe_want {
	uint32_t end;            /* 0 or 1 */
	uint32_t flags;          /* BROKER_PIPE_CREATE, _DUPLEX, _ONEWAY */
	int64_t maxmsgs;         /* 0: the default (create) or any (existing) */
	int64_t maxbytes;        /* likewise */
	int has_mode;            /* create with mode, not the default mode */
	unsigned mode;           /* permissions of a pipe it creates */
};

/* Find pipe name: 0 with *p, IPC_ENOENT (also after broker_fini) or
 * IPC_EWRONGTYPE. */
int broker_pipe_find(struct broker *b, const char *name, struct pipe **p);
/* Attach owner to end w->end of pipe name on behalf of cred. A missing
 * pipe is created with BROKER_PIPE_CREATE (duplex unless ONEWAY, bounds
 * IPC_PIPE_DEFAULT_* for 0), owned by cred with w->mode when has_mode,
 * else the default mode. An
 * existing one needs cred's permission for that end (read to receive,
 * write to send) and must match an explicit DUPLEX/ONEWAY, maxmsgs and
 * maxbytes. 0 with *p, or IPC_ENOENT, IPC_EWRONGTYPE, IPC_EPERM,
 * IPC_EMISMATCH, IPC_ELIMIT, IPC_EBUSY, IPC_ECLOSED, IPC_EINVAL,
 * IPC_ENOMEM. */
int broker_pipe_attach(struct broker *b, const char *name,
		       const struct broker_pipe_want *w,
		       const struct access_cred *cred, void *owner,
		       struct pipe **p);
/* May cred use end of pipe p, as broker_pipe_attach checks for an
 * existing pipe? 0 or IPC_EPERM. */
int broker_pipe_access(const struct broker *b, const struct pipe *p, unsigned end,
		       const struct access_cred *cred);
/* Close end of pipe name held by owner (pipe_close), freeing the pipe
 * once both ends are closed. 0, IPC_ENOENT, IPC_EWRONGTYPE,
 * IPC_ENOTATTACHED, IPC_ECLOSED or IPC_EINVAL. */
int broker_pipe_close(struct broker *b, const char *name, unsigned end,
		      const void *owner);
/* Detach end of pipe name held by owner (pipe_detach): the end is free
 * for another attach, nothing is dropped. 0, IPC_ENOENT, IPC_EWRONGTYPE,
 * IPC_ENOTATTACHED, IPC_ECLOSED or IPC_EINVAL. */
int broker_pipe_detach(struct broker *b, const char *name, unsigned end,
		       const void *owner);
/* Remove p from the namespace and free it when pipe_done(p). Call after
 * every pipe_send and pipe_recv made outside a wake callback, before
 * anything that may reply: p may be gone afterwards. */
void broker_pipe_reap(struct broker *b, struct pipe *p);

#endif
