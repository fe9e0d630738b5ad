/* SPDX-License-Identifier: MIT */
/* park.c: requests parked until a queue satisfies them or time runs out. */
#include <assert.h>
#include <stdlib.h>
#include <string.h>
#include <event2/event.h>

#include "conn.h"
#include "dispatch.h"
#include "durable.h"
#include "ipc_defs.h"
#include "lease.h"
#include "memfd.h"
#include "park.h"
#include "pipe.h"
#include "policy.h"
#include "proto.h"
#include "qmsg.h"
#include "queue.h"
#include "server.h"

/* Unlink, stop the timer and free a park whose waiter is no longer parked. */
static void park_free(struct park *p)
{
	if (p->timed)
		event_del(&p->timer);
	conn_park_del(p);
	durable_drop(p->conn->srv, p->w.msg);
	qmsg_free(p->w.msg);
	/* An acking getter that got nothing: its lease record is unused. */
	if (p->w.held != NULL)
		lease_free(container_of(p->w.held, struct lease, h));
	free(p);
}

/* The messages a woken park's reply carries, and their payloads (one
 * reply at a time: it is encoded before park_wake returns). */
static struct qmsg *park_msgs[IPC_BATCH_MAX];
static struct proto_iov park_iov[IPC_BATCH_MAX];

/* Take a park off whatever holds its waiter: a pipe or a queue. */
static void park_unpark(struct park *p)
{
	if (p->w.holder == NULL)
		return;
	if (p->on == PARK_ON_PIPE)
		pipe_unpark(&p->w);
	else
		queue_unpark(&p->w);
}

/* Park p on queue q. */
void park_queue(struct park *p, struct queue *q)
{
	p->on = PARK_ON_QUEUE;
	p->queue = q;
	queue_park(q, &p->w);
}

/* Park p at end of pipe pp. */
void park_pipe(struct park *p, struct pipe *pp, unsigned end)
{
	p->on = PARK_ON_PIPE;
	p->end = end;
	pipe_park(pp, end, &p->w);
}

/* The timeout ran out: answer Empty or Full, nothing moved. */
static void park_timeout(evutil_socket_t fd, short what, void *arg)
{
	struct park *p = arg;
	struct conn *c = p->conn;
	uint32_t op = p->op, id = p->id;
	int status = p->w.kind == WAITER_GET ? IPC_EEMPTY : IPC_EFULL;

	(void)fd;
	(void)what;
	p->timed = 0;
	park_unpark(p);
	/* Freed before replying, as in park_wake: a reply that fails closes
	 * the connection, which must not find this park in its list. */
	park_free(p);
	conn_reply_status(c, op, id, status);
}

/* A new park for request (op, id) of c. */
struct park *park_new(struct conn *c, uint32_t op, uint32_t id,
		      enum waiter_kind kind, struct qmsg *msg, int64_t timeout_ms)
{
	struct park *p;

	if (c->nparks >= CONN_PARKS_MAX)
		return NULL;
	p = calloc(1, sizeof *p);
	if (p == NULL)
		return NULL;
	p->w.kind = kind;
	p->w.msg = msg;
	p->durable = msg != NULL && msg->jid != 0;
	p->conn = c;
	p->op = op;
	p->id = id;
	if (timeout_ms > 0) {
		struct timeval tv = { .tv_sec = timeout_ms / 1000,
				      .tv_usec = (timeout_ms % 1000) * 1000 };

		event_assign(&p->timer, c->srv->base, -1, 0, park_timeout, p);
		event_add(&p->timer, &tv);
		p->timed = 1;
	}
	conn_park_add(c, p);
	return p;
}

/* A park for request r, or NULL after freeing msg and answering r why
 * not: the refusal of policy_park (IPC_ELIMIT), else IPC_ENOMEM. */
struct park *park_request(struct conn *c, const struct proto_req *r,
			  enum waiter_kind kind, struct qmsg *msg)
{
	struct park *p = NULL;

	assert(proto_op(r->op) != NULL && proto_op(r->op)->parks == PROTO_PARKS);
	if (policy_park(c, r) == 0) {
		p = park_new(c, r->op, r->id, kind, msg, r->timeout_ms);
		if (p == NULL)
			conn_reply_status(c, r->op, r->id, IPC_ENOMEM);
	}
	if (p != NULL)
		p->w.want = r->max;
	else
		qmsg_free(msg);
	return p;
}

/* Split the chain of messages m (one, or a batch for a getter that
 * wants several) into park_msgs and park_iov: how many. */
static size_t park_split(struct qmsg *m)
{
	size_t n = 0;

	while (m != NULL && n < IPC_BATCH_MAX) {
		park_msgs[n] = m;
		park_iov[n].base = qmsg_bytes(m);
		park_iov[n].len = m->len;
		m = m->next;
		park_msgs[n++]->next = NULL;
	}
	return n;
}

/* Fill rep, the success reply of woken park p, from its op's reply fields
 * and the n messages it got (park_msgs): how many of them the reply owns. */
static size_t park_fill(struct park *p, struct proto_rep *rep, size_t n)
{
	const struct proto_op_desc *d = proto_op(p->op);
	const unsigned char *f = d->rep;
	size_t i;

	for (i = 0; i < proto_op_nrep(d); i++) {
		if (f[i] == RP_DATA && n > 0) {
			rep->data = park_iov[0].base;
			rep->data_len = park_iov[0].len;
		} else if (f[i] == RP_BINS) {
			rep->iov = park_iov;
			rep->niov = n;
		} else if (f[i] == RP_COUNT) {
			rep->count = 1; /* a batch put: its first message went in */
		}
	}
	if (p->w.held != NULL && n > 0) {
		/* An acking getter: the message is in flight, the queue's. */
		rep->tag = p->w.held->tag;
		lease_start(container_of(p->w.held, struct lease, h));
		p->w.held = NULL;
		return 0;
	}
	return n;
}

/* The broker's wake function: a parked request completed with status. */
void park_wake(struct waiter *w, int status, struct qmsg *m)
{
	struct park *p = container_of(w, struct park, w);
	struct conn *c = p->conn;
	struct proto_rep rep = { .op = p->op, .id = p->id, .status = status };
	size_t n = status == 0 ? park_split(m) : 0;
	int durable = p->durable;
	struct queue *q = p->on == PARK_ON_QUEUE ? p->queue : NULL;

	if (status == 0 && p->w.held != NULL && n > 0) {
		/* In flight, the queue's: a memfd goes as a duplicate. */
		n = park_fill(p, &rep, n);
		park_msgs[0] = memfd_lend(c, park_msgs[0]);
		n = park_msgs[0] != NULL;
	} else if (status == 0) {
		n = park_fill(p, &rep, n);
	}
	/* Freed before replying: a reply that fails closes the connection,
	 * which must not find this park still in its list. */
	park_free(p);
	if (durable && n == 0)     /* a durable put: answered once journaled */
		durable_reply(c, &rep, 1);
	else if (q != NULL)
		conn_reply_take(c, &rep, q, park_msgs, n);
	else
		conn_reply_own(c, &rep, park_msgs, n);
}

/* Set parked get p aside while its connection's output is over the bound. */
int park_stall(struct park *p)
{
	if (p->on != PARK_ON_QUEUE || p->w.kind != WAITER_GET)
		return 0;
	queue_stall(&p->w);
	return 1;
}

/* Let stalled get p be served again. */
void park_resume(struct park *p)
{
	if (p->on == PARK_ON_QUEUE)
		queue_resume(&p->w);
}

/* Drop a parked request without replying: its connection is gone. */
void park_cancel(struct park *p)
{
	park_unpark(p);
	park_free(p);
}
