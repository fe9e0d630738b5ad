/*
 * broker.h: the broker's state as plain data: the namespace of queues (and
 * later pipes) and the daemon-wide limits. No I/O; the handlers in op_*.c
 * call it and turn its results into replies.
 */
#ifndef IPCD_BROKER_H
#define IPCD_BROKER_H

#include <stddef.h>
#include <stdint.h>

#include "waiter.h"

struct queue;
struct registry;
struct proto_info;

struct broker {
	struct registry *reg;
	size_t msg_max;          /* largest payload accepted */
	waiter_wake_fn wake;     /* completes parked requests (the I/O shell's) */
};

/* Set up an empty broker; 0 or IPC_ENOMEM. */
int broker_init(struct broker *b, size_t msg_max, waiter_wake_fn wake);
/* Free every queue, waking its parked requests with status, then the
 * namespace. */
void broker_fini(struct broker *b, int status);

/* Find queue name: 0 with *q, IPC_ENOENT, or IPC_EWRONGTYPE. */
int broker_queue_find(struct broker *b, const char *name, struct queue **q);
/* Open or create queue name per PROTO_OPEN_* flags; maxsize -1 accepts any
 * existing size (and creates unbounded). 0 with *q, or IPC_ENOENT,
 * IPC_EEXIST, IPC_EMISMATCH, IPC_EWRONGTYPE, IPC_EINVAL, IPC_ENOMEM. */
int broker_queue_open(struct broker *b, const char *name, int64_t maxsize,
		      uint32_t flags, struct queue **q);
/* Delete queue name, completing its parked requests with IPC_EDELETED.
 * 0, IPC_ENOENT or IPC_EWRONGTYPE. */
int broker_queue_delete(struct broker *b, const char *name);
/* Describe name into *info: 0 or IPC_ENOENT. */
int broker_info(struct broker *b, const char *name, struct proto_info *info);
/* Describe every name, sorted: *infos is malloc'd (*n entries). 0 or
 * IPC_ENOMEM. */
int broker_list(struct broker *b, struct proto_info **infos, size_t *n);

#endif
