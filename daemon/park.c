/* park.c: requests parked until a queue satisfies them or time runs out. */
#include <stdlib.h>
#include <string.h>
#include <event2/event.h>

#include "conn.h"
#include "dispatch.h"
#include "durable.h"
#include "ipc_defs.h"
#include "lease.h"
#include "park.h"
#include "pipe.h"
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

/* Does a request of op park on a pipe (rather than on a queue)? */
static int park_on_pipe(uint32_t op)
{
	return op == PROTO_OP_PSEND || op == PROTO_OP_PRECV ||
	       op == PROTO_OP_PSENDN || op == PROTO_OP_PRECVN;
}

/* Take a park off whatever holds its waiter: a pipe or a queue. */
static void park_unpark(struct park *p)
{
	if (p->w.holder == NULL)
		return;
	if (park_on_pipe(p->op))
		pipe_unpark(&p->w);
	else
		queue_unpark(&p->w);
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
 * not: IPC_ELIMIT when c already has CONN_PARKS_MAX requests parked,
 * else IPC_ENOMEM. */
struct park *park_request(struct conn *c, const struct proto_req *r,
			  enum waiter_kind kind, struct qmsg *msg)
{
	struct park *p = park_new(c, r->op, r->id, kind, msg, r->timeout_ms);

	if (p == NULL) {
		qmsg_free(msg);
		conn_reply_status(c, r->op, r->id,
				  c->nparks >= CONN_PARKS_MAX ? IPC_ELIMIT : IPC_ENOMEM);
	}
	return p;
}

/* The broker's wake function: a parked request completed with status. */
void park_wake(struct waiter *w, int status, struct qmsg *m)
{
	struct park *p = container_of(w, struct park, w);
	struct conn *c = p->conn;
	struct proto_rep rep = { .op = p->op, .id = p->id, .status = status };
	struct proto_iov one;
	int durable;

	if (status == 0 && m != NULL) {
		rep.data = m->data;
		rep.data_len = m->len;
	}
	/* A parked batch request (op_batch.c) completes with one message:
	 * a batch get receives it (or, woken by a batch put, what else it can
	 * take once that put is done), a batch put had its first one taken. */
	if (status == 0 && m != NULL &&
	    (p->op == PROTO_OP_QGETN || p->op == PROTO_OP_PRECVN) &&
	    batch_defer(c, p->op, p->id, p->max, m)) {
		park_free(p);
		return;
	}
	if (status == 0 && m != NULL &&
	    (p->op == PROTO_OP_QGETN || p->op == PROTO_OP_PRECVN)) {
		one.base = m->data;
		one.len = m->len;
		rep.iov = &one;
		rep.niov = 1;
	}
	if (status == 0 && (p->op == PROTO_OP_QPUTN || p->op == PROTO_OP_PSENDN))
		rep.count = 1;
	if (status == 0 && p->w.held != NULL) {
		/* An acking getter: m is in flight, the connection's now. */
		rep.tag = p->w.held->tag;
		lease_start(container_of(p->w.held, struct lease, h));
		p->w.held = NULL;
		m = NULL;
	}
	/* Freed before replying: a reply that fails closes the connection,
	 * which must not find this park still in its list. */
	durable = p->durable;
	park_free(p);
	if (durable && m == NULL)
		durable_reply(c, &rep, 1);
	else
		conn_reply_own(c, &rep, &m, m != NULL);
}

/* Drop a parked request without replying: its connection is gone. */
void park_cancel(struct park *p)
{
	park_unpark(p);
	park_free(p);
}
