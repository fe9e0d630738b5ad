/* SPDX-License-Identifier: MIT */
/*
 * op_resv.c: slot reservations (credits) of bounded queues: QRESV
 * reserves slots for this connection, QPUTR puts into one with no room
 * check (so a client may pipeline it and still know it is not Full),
 * QUNRESV gives them back. A connection that closes or dies gives back
 * what it holds (conn_release); a deleted queue forgets them (queue_free).
 */
#include <stdlib.h>

#include "conn.h"
#include "dispatch.h"
#include "ipc_defs.h"
#include "memfd.h"
#include "policy.h"
#include "proto.h"
#include "qmsg.h"
#include "queue.h"
#include "resv.h"

/* A connection's reservations in one queue (in c->resvs). */
struct conn_resv {
	struct ilist link;          /* in the connection's list */
	struct qresv r;             /* the slots, as the queue sees them */
};

/* Give back cr's slots and free it. */
static void resv_drop(struct conn_resv *cr)
{
	ilist_unlink(&cr->link);
	queue_unreserve(&cr->r);
	free(cr);
}

/* c's record for q, or NULL; records whose queue went away are freed on
 * the way. */
static struct conn_resv *resv_find(struct conn *c, const struct queue *q)
{
	struct ilist *n = ilist_first(&c->resvs), *next;
	struct conn_resv *cr;

	for (; n; n = next) {
		next = ilist_next(&c->resvs, n);
		cr = ilist_entry(n, struct conn_resv, link);
		if (cr->r.queue == q)
			return cr;
		if (!cr->r.queue)
			resv_drop(cr);   /* its queue went away */
	}
	return NULL;
}

/* Give back every slot c holds (it closes or drains). */
void resv_release_all(struct conn *c)
{
	struct conn_resv *cr;

	while ((cr = ilist_first_entry(&c->resvs, struct conn_resv, link)))
		resv_drop(cr);
}

/* QRESV: reserve up to r->max slots; how many (0: none). */
void op_qresv(struct conn *c, const struct proto_req *r)
{
	struct proto_rep rep = { .op = r->op, .id = r->id };
	struct conn_resv *cr;
	struct queue *q;

	if (policy_queue(c, r, POLICY_WRITE, &q) != 0)
		return;
	if (!(cr = resv_find(c, q))) {
		if (!(cr = calloc(1, sizeof(*cr)))) {
			conn_reply_status(c, r->op, r->id, IPC_ENOMEM);
			return;
		}
		ilist_link_tail(&c->resvs, &cr->link);
	}
	rep.count = (uint32_t)queue_reserve(q, &cr->r, r->max);
	if (!cr->r.queue)   /* none granted, none held */
		resv_drop(cr);
	conn_reply(c, &rep);
}

/* QPUTR: put into a slot this connection reserved, or IPC_ENOTHELD. */
void op_qputr(struct conn *c, const struct proto_req *r)
{
	struct conn_resv *cr;
	struct queue *q;
	struct qmsg *m;
	int rc;

	if (policy_queue(c, r, POLICY_WRITE | POLICY_HOLD, &q) != 0)
		return;
	if (memfd_req_msg(c, r, &m) != 0)
		return;
	cr = resv_find(c, q);
	rc = cr ? queue_put_reserved(&cr->r, m) : IPC_ENOTHELD;
	if (rc != 0)
		qmsg_free(m);
	conn_reply_status(c, r->op, r->id, rc);
}

/* QUNRESV: give back every slot this connection holds in the queue. */
void op_qunresv(struct conn *c, const struct proto_req *r)
{
	struct conn_resv *cr;
	struct queue *q;

	if (policy_queue(c, r, POLICY_WRITE, &q) != 0)
		return;
	if ((cr = resv_find(c, q)) != NULL)
		resv_drop(cr);
	conn_reply_status(c, r->op, r->id, 0);
}
