/* SPDX-License-Identifier: MIT */
/*
 * op_ack.c: the handlers of at-least-once delivery: QGETA (get with
 * acknowledgement) and QACK. The message a QGETA delivers stays in flight,
 * owned by the connection (lease.c), until QACK; a disconnect or an
 * expired lease puts it back at the head of its queue, and so does
 * QRELEASE (nack), at once or after a delay. QGETH and QDONE are read-ahead
 * on the same records (hold leases, see lease.h).
 */
#include <unistd.h>

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

/* The holds a QGETH takes and their payloads (one request at a time:
 * its reply is encoded before op_qgeth returns). */
static struct lease *qgeth_leases[IPC_BATCH_MAX];
static struct proto_iov qgeth_iov[IPC_BATCH_MAX];

/* Does m travel as a memfd to c (then alone in a QGETH reply)? */
static int qgeth_memfd(const struct conn *c, const struct qmsg *m)
{
	return c->memfd && m->fd >= 0;
}

/* Put up to r->max head messages of q in flight under hold leases of c,
 * into qgeth_leases while they fit one reply: how many (0: *rc says why). */
static size_t qgeth_take(struct conn *c, const struct proto_req *r,
			 struct queue *q, int *rc)
{
	size_t room = PROTO_FRAME_MAX - PROTO_BATCH_REP_OVERHEAD, n = 0;
	const struct qmsg *m;
	struct lease *l;

	*rc = IPC_EEMPTY;
	while (n < r->max && (m = queue_head(q)) != NULL) {
		if (n > 0 && (qgeth_memfd(c, m) || memfd_cost(c, m) > room))
			break;
		if ((l = lease_new(c, r->lease_ms)) == NULL) {
			*rc = IPC_ENOMEM;
			break;
		}
		l->hold = 1;
		l->h.ahead = true;   /* not a delivery unless handed out */
		if (c->hold_page != NULL && r->slot != 0) {
			l->slot = (uint16_t)r->slot;   /* counted in the page when handed out */
			l->idx = (uint16_t)n;
		}
		if ((*rc = queue_get_held(q, &l->h)) != 0) {
			lease_free(l);
			break;
		}
		room -= memfd_cost(c, l->h.msg);
		qgeth_leases[n++] = l;
		if (qgeth_memfd(c, l->h.msg))
			break;
	}
	return n;
}

/* Answer QGETH r with the n holds taken: their payloads, and the tag of
 * the first (the others' follow it: tags are handed out in sequence). */
static void qgeth_reply(struct conn *c, const struct proto_req *r, size_t n)
{
	struct proto_rep rep = { .op = r->op, .id = r->id, .iov = qgeth_iov, .niov = n };
	struct qmsg *lent;
	size_t i;

	for (i = 0; i < n; i++) {
		/* One timer per batch, on its last hold (handed out last). */
		if (i + 1 < n)
			qgeth_leases[i]->lease_ms = 0;
		lease_start(qgeth_leases[i]);
		qgeth_iov[i].base = qmsg_bytes(qgeth_leases[i]->h.msg);
		qgeth_iov[i].len = qgeth_leases[i]->h.msg->len;
	}
	/* One batch, one due time (not earlier than the client counts, from
	 * before it sent r): its holds run out together. */
	for (i = 0; i + 1 < n; i++)
		qgeth_leases[i]->hold_due = qgeth_leases[n - 1]->hold_due;
	rep.tag = qgeth_leases[0]->h.tag;
	/* The messages stay in flight, the queue's: a memfd goes as a duplicate. */
	lent = memfd_lend(c, qgeth_leases[0]->h.msg);
	conn_reply_own(c, &rep, &lent, lent != NULL);
}

/* QGETH: read ahead up to max messages that stay counted in the queue
 * (held by c until QDONE), or, when it is empty, park for one, which is
 * handed over as by QGET (tag 0: not held), or report Empty. */
void op_qgeth(struct conn *c, const struct proto_req *r)
{
	struct queue *q;
	struct park *p;
	size_t n;
	int rc;

	if (policy_queue(c, r, POLICY_READ, &q) != 0)
		return;
	if (memfd_too_big(c, queue_head(q))) {
		conn_reply_status(c, r->op, r->id, IPC_ETOOBIG);
		return;
	}
	lease_slot_begin(c, q, r->slot);
	n = qgeth_take(c, r, q, &rc);
	if (n > 0) {
		qgeth_reply(c, r, n);
	} else if (rc == IPC_EEMPTY && r->timeout_ms != 0) {
		if ((p = park_request(c, r, WAITER_GET, NULL)) != NULL) {
			p->w.want = 1;
			park_queue(p, q);
		}
	} else {
		conn_reply_status(c, r->op, r->id, rc);
	}
}

/* QDONE: a message held by QGETH was handed out (ack 1), or the holds
 * from tag on are given back (ack 0). Never answered: a queue that is
 * gone, or a tag not held, is ignored. */
void op_qdone(struct conn *c, const struct proto_req *r)
{
	struct queue *q;

	if (broker_queue_find(&c->srv->broker, r->name, &q) != 0)
		return;
	if (r->ack)
		lease_done(c, q, r->tag);
	else
		lease_give_back(c, q, r->tag);
}

/* QHOLDS: the connection's hold page, a memfd (lease.h). */
void op_qholds(struct conn *c, const struct proto_req *r)
{
	int fd = -1;

	if (r->data_memfd != 0) {
		fd = c->fdq[r->data_memfd - 1];
		c->fdq[r->data_memfd - 1] = -1;
	}
	if (r->data_len != PROTO_HOLD_PAGE) {
		if (fd >= 0)
			close(fd);
		fd = -1;
	}
	conn_reply_status(c, r->op, r->id, lease_page_take(c, fd));
}
