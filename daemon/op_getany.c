/* SPDX-License-Identifier: MIT */
/*
 * op_getany.c: QGETANY, a get from the first non-empty of several queues
 * (Redis's BLPOP with several keys). When none has a message, ONE park
 * waits on all of them at once, a waiter in each queue's FIFO of getters,
 * so it takes its turn with the single-queue getters of every queue; the
 * first queue to get a message hands it over and the park leaves the
 * others (park.c, park_queues). With ack the message goes in flight as
 * with QGETA, acked by QACK on the queue it came from.
 */
#include <string.h>

#include "broker.h"
#include "conn.h"
#include "dispatch.h"
#include "ipc_defs.h"
#include "lease.h"
#include "memfd.h"
#include "park.h"
#include "policy.h"
#include "proto.h"
#include "qmsg.h"
#include "queue.h"
#include "server.h"

/* The queues r names, in order, each found and readable by c: 0 with
 * qs[0..r->nnames), or non-zero once r is answered with the first
 * refusal (naming that queue). */
static int op_qgetany_queues(struct conn *c, const struct proto_req *r,
			     struct queue **qs)
{
	struct proto_req one;
	size_t i;
	int rc;

	one = *r;
	for (i = 0; i < r->nnames; i++) {
		memcpy(one.name, r->names[i].base, r->names[i].len);
		one.name[r->names[i].len] = '\0';
		/* Say which of the names is missing or a pipe. */
		rc = broker_queue_find(&c->srv->broker, one.name, &qs[i]);
		if (rc != 0) {
			conn_reply_error(c, r->op, r->id, rc, "%s: '%s'",
					 proto_strerror(rc), one.name);
			return rc;
		}
		if (policy_queue(c, &one, POLICY_READ, &qs[i]) != 0)
			return -1;
	}
	return 0;
}

/* Take the head of q without waiting, into flight in l when acking:
 * answer r with it as coming from r's name index (or with IPC_ETOOBIG
 * when it is a memfd c cannot take) and return 0, or return IPC_EEMPTY. */
static int op_qgetany_take(struct conn *c, const struct proto_req *r,
			   struct queue *q, uint32_t index, struct lease *l)
{
	struct proto_rep rep = { .op = r->op, .id = r->id, .index = index };
	struct qmsg *m = NULL;

	if (queue_head(q) != NULL && memfd_too_big(c, queue_head(q))) {
		if (l != NULL)
			lease_free(l);
		conn_reply_status(c, r->op, r->id, IPC_ETOOBIG);
		return 0;
	}
	if (l == NULL) {
		if (queue_get(q, &m) != 0)
			return IPC_EEMPTY;
		rep.data = qmsg_bytes(m);
		rep.data_len = m->len;
		conn_reply_take(c, &rep, q, &m, 1);
		return 0;
	}
	if (queue_get_held(q, &l->h) != 0)
		return IPC_EEMPTY;
	op_reply_lease(c, &rep, l);
	return 0;
}

/* Park r on every queue of qs at once; l (or NULL) goes with it. */
static void op_qgetany_park(struct conn *c, const struct proto_req *r,
			    struct queue **qs, struct lease *l)
{
	struct park *p = park_request(c, r, WAITER_GET, NULL);

	if (p == NULL) {
		if (l != NULL)
			lease_free(l);
		return;
	}
	p->w.held = l != NULL ? &l->h : NULL;
	if (park_queues(p, qs, r->nnames) != 0) {
		park_cancel(p);             /* nothing parked; frees l */
		conn_reply_status(c, r->op, r->id, IPC_ENOMEM);
	}
}

/* QGETANY: the head of the first non-empty queue of r's list, or park on
 * all of them, or report Empty. */
void op_qgetany(struct conn *c, const struct proto_req *r)
{
	struct queue *qs[IPC_GET_ANY_MAX];
	struct lease *l = NULL;
	size_t i;

	if (op_qgetany_queues(c, r, qs) != 0)
		return;
	if (r->ack && (l = lease_new(c, r->lease_ms)) == NULL) {
		conn_reply_status(c, r->op, r->id, IPC_ENOMEM);
		return;
	}
	for (i = 0; i < r->nnames; i++)
		if (op_qgetany_take(c, r, qs[i], (uint32_t)i, l) == 0)
			return;
	if (r->timeout_ms != 0) {
		op_qgetany_park(c, r, qs, l);
		return;
	}
	if (l != NULL)
		lease_free(l);
	conn_reply_status(c, r->op, r->id, IPC_EEMPTY);
}
