/* SPDX-License-Identifier: MIT */
/*
 * op_ack.c: the handlers of at-least-once delivery: QGETA (get with
 * acknowledgement) and QACK. The message a QGETA delivers stays in flight,
 * owned by the connection (lease.c), until QACK; a disconnect or an
 * expired lease puts it back at the head of its queue, and so does
 * QRELEASE (nack), at once or after a delay.
 */
#include "access.h"
#include "broker.h"
#include "conn.h"
#include "dispatch.h"
#include "ipc_defs.h"
#include "memfd.h"
#include "lease.h"
#include "park.h"
#include "policy.h"
#include "proto.h"
#include "qmsg.h"
#include "queue.h"
#include "server.h"

/* Park an acking get on q; l goes with it (freed when park_request
 * answers a refusal). */
static void op_qgeta_park(struct conn *c, const struct proto_req *r,
			  struct queue *q, struct lease *l)
{
	struct park *p = park_request(c, r, WAITER_GET, NULL);

	if (p == NULL) {
		lease_free(l);
		return;
	}
	p->w.held = &l->h;
	park_queue(p, q);
}

/* Answer rep with the message that has just gone in flight in l (QGETA,
 * QGETANY): start its lease and send it, a memfd as a duplicate. */
void op_reply_lease(struct conn *c, struct proto_rep *rep, struct lease *l)
{
	struct qmsg *lent;

	lease_start(l);
	rep->data = qmsg_bytes(l->h.msg);
	rep->data_len = l->h.msg->len;
	rep->tag = l->h.tag;
	/* The message stays in flight: the queue's, so never given back. */
	lent = memfd_lend(c, l->h.msg);
	conn_reply_own(c, rep, &lent, lent != NULL);
}

/* QGETA: take the head message into flight, or park, or report Empty. */
void op_qgeta(struct conn *c, const struct proto_req *r)
{
	struct proto_rep rep = { .op = r->op, .id = r->id };
	struct queue *q;
	struct lease *l;

	if (policy_queue(c, r, POLICY_READ, &q) != 0)
		return;
	if (memfd_too_big(c, queue_head(q))) {
		conn_reply_status(c, r->op, r->id, IPC_ETOOBIG);
		return;
	}
	l = lease_new(c, r->lease_ms);
	if (l == NULL) {
		conn_reply_status(c, r->op, r->id, IPC_ENOMEM);
		return;
	}
	rep.status = queue_get_held(q, &l->h);
	if (rep.status == 0) {
		op_reply_lease(c, &rep, l);
		return;
	}
	if (r->timeout_ms != 0) {
		op_qgeta_park(c, r, q, l);
		return;
	}
	lease_free(l);
	conn_reply(c, &rep);
}

/* QACK: the message delivered under tag is done with. */
void op_qack(struct conn *c, const struct proto_req *r)
{
	struct queue *q;

	if (policy_queue(c, r, POLICY_READ, &q) != 0)
		return;
	conn_reply_status(c, r->op, r->id, lease_ack(c, q, r->tag));
}

/* QRELEASE: the consumer gives a message back (nack), now or later. */
void op_qrelease(struct conn *c, const struct proto_req *r)
{
	struct queue *q;

	if (policy_queue(c, r, POLICY_READ, &q) != 0)
		return;
	conn_reply_status(c, r->op, r->id, lease_release(c, q, r->tag, r->delay_ms));
}
