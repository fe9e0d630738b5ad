/* SPDX-License-Identifier: MIT */
/*
 * op_resv.c: slot reservations (credits) of bounded queues: QRESV
 * reserves slots for this connection, QPUTR puts into one with no room
 * check (so a client may pipeline it and still know it is not Full),
 * QUNRESV gives them back. A connection that closes or dies gives back
 * what it holds (conn_release); a deleted queue forgets them (queue_free).
 *
 * A QRESV with a lease (ms) makes the slots idle-limited: the slots the
 * connection has not spent lease ms after its last QRESV or QPUTR on the
 * queue go back (when nothing it sent waits to be read), so a producer
 * that stops putting holds no room for long. Its client stops using them
 * before that; a QPUTR that still comes (the client stalled between its
 * check and its write) is a put that waits for room, never lost.
 */
#include <stdlib.h>

#include "conn.h"
#include "dispatch.h"
#include "ipc_defs.h"
#include "log.h"
#include "lease.h"
#include "memfd.h"
#include "policy.h"
#include "proto.h"
#include "qmsg.h"
#include "queue.h"
#include "park.h"
#include "resv.h"
#include "server.h"

/* A connection's reservations in one queue (in c->resvs). */
struct conn_resv {
	struct ilist link;          /* in the connection's list */
	struct qresv r;             /* the slots, as the queue sees them */
	struct conn *conn;          /* whose */
	struct ptimer idle;         /* lease: due lease_ms after used_ns */
	int64_t lease_ms;           /* 0: held until given back */
	uint64_t used_ns;           /* the last QRESV or QPUTR on the queue */
	uint32_t lost;              /* slots taken back idle, maybe still put to */
};

/* Give back cr's slots and free it. */
static void resv_drop(struct conn_resv *cr)
{
	ptimer_del(&cr->conn->srv->timers, &cr->idle);
	ilist_unlink(&cr->link);
	queue_unreserve(&cr->r);
	free(cr);
}

/* Check cr's lease again in ms. */
static void resv_arm(struct conn_resv *cr, int64_t ms)
{
	if (ptimer_add(&cr->conn->srv->timers, &cr->idle, ms) != 0)
		log_warn("out of memory: reserved slots will not be taken back idle");
}

/* cr's lease is due: its unspent slots go back once lease_ms passed
 * since it was last used and nothing its connection sent waits unread
 * (a QPUTR written before the client saw the time run out). */
static void resv_idle(struct ptimer *t)
{
	struct conn_resv *cr = container_of(t, struct conn_resv, idle);
	uint64_t due = cr->used_ns + (uint64_t)cr->lease_ms * 1000000u;
	uint64_t now = server_now_ns();

	if (!cr->r.queue || !cr->r.n)
		return;
	if (now < due) {
		resv_arm(cr, (int64_t)((due - now + 999999u) / 1000000u));
		return;
	}
	if (conn_input_pending(cr->conn)) {
		resv_arm(cr, cr->lease_ms);
		return;
	}
	cr->lost += (uint32_t)cr->r.n;
	queue_unreserve_keep(&cr->r);
}

/* cr was used now: its lease starts again. */
static void resv_used(struct conn_resv *cr)
{
	if (!cr->lease_ms)
		return;
	cr->used_ns = server_now_ns();
	if (cr->r.n && !ptimer_pending(&cr->idle))
		resv_arm(cr, cr->lease_ms);
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
		cr->conn = c;
		ptimer_setup(&cr->idle, resv_idle);
		ilist_link_tail(&c->resvs, &cr->link);
	}
	cr->lost = 0;   /* this connection's QPUTRs before it were served */
	cr->lease_ms = r->lease_ms;
	rep.count = (uint32_t)queue_reserve(q, &cr->r, r->max);
	if (!cr->r.queue || !cr->r.n)   /* none held */
		resv_drop(cr);
	else
		resv_used(cr);
	conn_reply(c, &rep);
}

/* A QPUTR into a slot taken back idle: a put that waits for room. */
static void resv_put_lost(struct conn *c, const struct proto_req *r, struct queue *q,
			  struct qmsg *m)
{
	struct proto_req w = *r;
	int rc = lease_put(q, m, 1);   /* see op_qput */

	if (rc == IPC_EFULL) {
		w.timeout_ms = -1;
		park_request_queue(c, &w, WAITER_PUT, m, q);
		return;
	}
	if (rc != 0)
		qmsg_free(m);
	conn_reply_status(c, r->op, r->id, rc);
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
	if (cr && !cr->r.n && cr->lost) {
		cr->lost--;
		resv_put_lost(c, r, q, m);
		return;
	}
	rc = cr ? queue_put_reserved(&cr->r, m) : IPC_ENOTHELD;
	if (rc != 0)
		qmsg_free(m);
	else
		resv_used(cr);
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
