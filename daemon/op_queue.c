/* SPDX-License-Identifier: MIT */
/* op_queue.c: the handlers of the queue ops (open, put, get, delete). */
#include "access.h"
#include "broker.h"
#include "conn.h"
#include "deadletter.h"
#include "dispatch.h"
#include "durable.h"
#include "ipc_defs.h"
#include "lease.h"
#include "memfd.h"
#include "park.h"
#include "policy.h"
#include "proto.h"
#include "qmsg.h"
#include "queue.h"
#include "server.h"
#include "wire.h"

/* QOPEN's settings beyond maxsize: a queue created now gets its
 * dead-lettering and, with DURABLE, is journaled (the create is undone
 * when either fails); an existing one must have what r asks. */
static int op_qopen_settings(struct conn *c, const struct proto_req *r,
			     struct queue *q, int created)
{
	int durable = (r->flags & PROTO_OPEN_DURABLE) != 0, rc = 0;

	if (!created) {
		if (durable && !queue_durable_id(q))
			return IPC_EMISMATCH;
		return deadletter_match(q, r);
	}
	if (r->max_deliveries)
		rc = deadletter_set(c->srv, q, r->max_deliveries, r->dead_letter);
	if (rc == 0 && durable)
		rc = durable_create(c->srv, q);
	if (rc != 0)
		broker_delete(&c->srv->broker, r->name, IPC_KIND_QUEUE);
	return rc;
}

/* QOPEN: open or create a queue. */
void op_qopen(struct conn *c, const struct proto_req *r)
{
	struct queue *q = NULL;
	struct proto_rep rep = { .op = r->op, .id = r->id };
	struct access_cred cred;
	int created;

	if (policy_open(c, r, IPC_KIND_QUEUE, (r->flags & PROTO_OPEN_CREATE) != 0,
			(r->flags & PROTO_OPEN_OWNED) != 0) != 0)
		return;
	conn_cred(c, &cred);
	created = broker_queue_find(&c->srv->broker, r->name, &q) == IPC_ENOENT;
	rep.status = deadletter_check(r);
	if (rep.status == 0)
		rep.status = broker_queue_open_as(&c->srv->broker, r->name,
						  r->maxsize, wire_open_flags(r->flags),
						  &cred, r->has_mode ? (int)r->mode : -1, &q);
	if (rep.status == 0)
		rep.status = op_qopen_settings(c, r, q, created);
	if (rep.status != 0) {
		policy_refuse_create(c, r, rep.status);
		return;
	}
	rep.maxsize = (int64_t)queue_maxsize(q);
	conn_reply(c, &rep);
}

/* QPUT: enqueue, or park until there is room, or report Full. */
void op_qput(struct conn *c, const struct proto_req *r)
{
	struct proto_rep rep = { .op = r->op, .id = r->id };
	struct queue *q;
	struct qmsg *m;
	struct park *p;
	int rc;

	if (policy_queue(c, r, POLICY_WRITE | POLICY_HOLD, &q) != 0)
		return;
	if (memfd_req_msg(c, r, &m) != 0)
		return;
	if ((rc = durable_put(c->srv, q, m)) != 0) {
		qmsg_free(m);
		conn_reply_status(c, r->op, r->id, rc);
		return;
	}
	/* Full: first the messages consumers' hold pages count as handed
	 * out are acked (and a put that waits asks them to say the next). */
	rc = lease_put(q, m, r->timeout_ms != 0);
	if (rc == IPC_EFULL && r->timeout_ms != 0) {
		park_request_queue(c, r, WAITER_PUT, m, q);
		return;
	}
	/* Its wait is bounded like any park's: past a limit, Full at once. */
	if (rc == IPC_EFULL && lease_holds_unsettled(q) && policy_may_park(c, 1) &&
	    (p = park_new(c, r->op, r->id, 1, WAITER_PUT, m, 0)) != NULL) {
		park_queue(p, q);   /* Full only after the QDONEs in flight */
		park_sync(p);
		return;
	}
	if (rc != 0) {
		durable_drop(c->srv, m);
		qmsg_free(m);
	}
	rep.status = rc;
	durable_reply(c, &rep, queue_durable_id(q) != 0);
}

/* QGET: dequeue, or park until a message comes, or report Empty. */
void op_qget(struct conn *c, const struct proto_req *r)
{
	struct queue *q;
	struct qmsg *m = NULL;
	struct proto_rep rep = { .op = r->op, .id = r->id };

	if (policy_queue(c, r, POLICY_READ, &q) != 0)
		return;
	if (memfd_too_big(c, queue_head(q))) {
		conn_reply_status(c, r->op, r->id, IPC_ETOOBIG);
		return;
	}
	rep.status = queue_get(q, &m);
	if (rep.status == IPC_EEMPTY && r->timeout_ms != 0) {
		park_request_queue(c, r, WAITER_GET, NULL, q);
		return;
	}
	if (m != NULL) {
		rep.data = qmsg_bytes(m);
		rep.data_len = m->len;
	}
	conn_reply_take(c, &rep, q, &m, m != NULL);
}

/* Delete queue name (journaling it first when durable). */
static int op_queue_delete(struct conn *c, const char *name)
{
	struct queue *q;
	int rc = broker_queue_find(&c->srv->broker, name, &q);

	if (rc == 0)
		rc = durable_delete(c->srv, q);
	return rc ? rc : broker_delete(&c->srv->broker, name, IPC_KIND_QUEUE);
}

/* QDEL: delete a queue or a pipe; its parked requests complete with
 * IPC_EDELETED. */
void op_qdel(struct conn *c, const struct proto_req *r)
{
	int kind, rc;

	if (policy_owner(c, r, &kind) != 0)
		return;
	if (kind == IPC_KIND_PIPE)
		rc = op_pipe_delete(c, r->name);
	else
		rc = op_queue_delete(c, r->name);
	conn_reply_status(c, r->op, r->id, rc);
}

/* EXPIRE: the request this connection parked under id r->tag times
 * out now (a client interrupted while it waits, e.g. by a signal, without
 * losing its place in the meantime). Never answered. */
void op_expire(struct conn *c, const struct proto_req *r)
{
	if (r->tag <= UINT32_MAX)   /* else no request has that id */
		park_expire(c, (uint32_t)r->tag);
}
