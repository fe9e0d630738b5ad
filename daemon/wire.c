/* SPDX-License-Identifier: MIT */
/* wire.c: from the wire's types to the core's and back (see wire.h). */
#include <string.h>

#include "broker.h"
#include "ipc_defs.h"
#include "proto.h"
#include "wire.h"

/* The BROKER_OPEN_* flags of PROTO_OPEN_* flags. */
uint32_t wire_open_flags(uint32_t proto_flags)
{
	return ((proto_flags & PROTO_OPEN_CREATE) ? BROKER_OPEN_CREATE : 0) |
	       ((proto_flags & PROTO_OPEN_EXCL) ? BROKER_OPEN_EXCL : 0);
}

/* What PATTACH request r asks of the broker. */
void wire_pipe_want(const struct proto_req *r, struct broker_pipe_want *w)
{
	w->end = r->end;
	w->flags = ((r->flags & PROTO_PIPE_CREATE) ? BROKER_PIPE_CREATE : 0) |
		   ((r->flags & PROTO_PIPE_DUPLEX) ? BROKER_PIPE_DUPLEX : 0) |
		   ((r->flags & PROTO_PIPE_ONEWAY) ? BROKER_PIPE_ONEWAY : 0);
	w->maxmsgs = r->maxmsgs;
	w->maxbytes = r->maxbytes;
	w->has_mode = r->has_mode;
	w->mode = r->mode;
}

/* The queue counters that struct queue_stats and struct proto_info
 * both name alike: they go on the wire as they are (getters and putters
 * narrowed to the wire's uint32). */
#define WIRE_QUEUE_COUNTERS(X) \
	X(size) X(bytes) X(memory) X(getters) X(putters) X(puts) X(gets) \
	X(inflight) X(requeued) X(max_deliveries) X(dead_lettered) \
	X(dead_letter_failed) X(reserved)

/* A queue's counters on the wire. */
static void wire_queue_info(const struct queue_stats *st, struct proto_info *out)
{
#define WIRE_COPY(f) out->f = st->f;
	WIRE_QUEUE_COUNTERS(WIRE_COPY)
#undef WIRE_COPY
	out->maxsize = (int64_t)st->maxsize;
	out->durable = st->durable != 0;
}

/* The ends of a pipe as IPC_END_* bits. */
static uint32_t wire_pipe_ends(const struct pipe_stats *st)
{
	uint32_t bits = 0;
	unsigned e;

	for (e = 0; e < 2; e++) {
		if (st->end[e] == PIPE_END_ATTACHED)
			bits |= IPC_END_ATTACHED(e);
		else if (st->end[e] == PIPE_END_CLOSED)
			bits |= IPC_END_CLOSED(e);
	}
	return bits;
}

/* A pipe's counters on the wire: per direction, and summed. */
static void wire_pipe_info(const struct pipe_stats *st, struct proto_info *out)
{
	int i;

	out->maxsize = (int64_t)st->maxmsgs;
	out->maxbytes = st->maxbytes;
	out->duplex = st->duplex;
	out->ends = wire_pipe_ends(st);
	for (i = 0; i < 2; i++) {
		const struct pipe_dir_stats *d = &st->dir[i];

		out->dir[i].size = d->msgs;
		out->dir[i].bytes = d->bytes;
		out->dir[i].getters = (uint32_t)d->receivers;
		out->dir[i].putters = (uint32_t)d->senders;
		out->size += d->msgs;
		out->bytes += d->bytes;
		out->memory += d->memory;
		out->getters += (uint32_t)d->receivers;
		out->putters += (uint32_t)d->senders;
		out->puts += d->sent;
		out->gets += d->received;
	}
}

/* The wire's description of a queue or pipe. */
void wire_info(const struct broker_info *in, struct proto_info *out)
{
	memset(out, 0, sizeof *out);
	memcpy(out->name, in->name, sizeof out->name);
	out->kind = in->kind;
	if (in->kind == IPC_KIND_PIPE)
		wire_pipe_info(&in->pipe, out);
	else
		wire_queue_info(&in->queue, out);
	memcpy(out->dead_letter, in->dead_letter, sizeof out->dead_letter);
	out->uid = (uint32_t)in->owner.uid;
	out->gid = (uint32_t)in->owner.gid;
	out->mode = in->owner.mode;
}
