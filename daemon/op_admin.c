/* SPDX-License-Identifier: MIT */
/*
 * op_admin.c: the handlers of the operator's ops on a queue or pipe:
 * QPEEK (look without taking), QPURGE (drop the ready messages), CHMOD
 * and CHOWN (who may use it).
 */
#include "access.h"
#include "broker.h"
#include "conn.h"
#include "dispatch.h"
#include "durable.h"
#include "ipc_defs.h"
#include "policy.h"
#include "proto.h"
#include "qmsg.h"
#include "queue.h"
#include "server.h"

/* QPEEK: the first r->max ready messages, left in the queue; as many as
 * fit one reply frame. */
void op_qpeek(struct conn *c, const struct proto_req *r)
{
	static const struct qmsg *msgs[IPC_BATCH_MAX];
	static struct proto_iov iov[IPC_BATCH_MAX];
	struct proto_rep rep = { .op = r->op, .id = r->id, .iov = iov };
	size_t room = PROTO_FRAME_MAX - PROTO_BATCH_REP_OVERHEAD, i, n;
	struct queue *q;

	if (policy_queue(c, r, POLICY_READ, &q) != 0)
		return;
	n = queue_peek(q, msgs, r->max);
	/* Sized by the messages, not msg_max (a reload may lower it). */
	for (i = 0; i < n && (i == 0 || proto_bin_cost(msgs[i]->len) <= room); i++) {
		iov[i].base = qmsg_bytes(msgs[i]);
		iov[i].len = msgs[i]->len;
		room -= proto_bin_cost(msgs[i]->len);
	}
	rep.niov = i;
	rep.status = i == 0 ? IPC_EEMPTY : 0;
	conn_reply(c, &rep);
}

/* QPURGE: drop every ready message of a queue; the reply says how many. */
void op_qpurge(struct conn *c, const struct proto_req *r)
{
	struct proto_rep rep = { .op = r->op, .id = r->id };
	struct queue *q;
	int kind;

	if (policy_owner(c, r, &kind) != 0)
		return;
	if (kind != IPC_KIND_QUEUE) {
		conn_reply_status(c, r->op, r->id, IPC_EWRONGTYPE);
		return;
	}
	broker_queue_find(&c->srv->broker, r->name, &q);
	rep.dropped = queue_purge(q);
	durable_reply(c, &rep, queue_durable_id(q) != 0);
}

/* Journal the new owner or mode of r->name when it is a durable queue,
 * putting *was back when that fails. */
static int op_admin_journal(struct conn *c, const struct proto_req *r,
			    const struct access_owner *was, int *durable)
{
	struct broker *b = &c->srv->broker;
	struct queue *q;
	int rc;

	*durable = broker_queue_find(b, r->name, &q) == 0 && queue_durable_id(q);
	if (!*durable || (rc = durable_settings(c->srv, q)) == 0)
		return 0;
	broker_chmod(b, r->name, was->mode);
	broker_chown(b, r->name, was->uid, was->gid);
	return rc;
}

/* CHMOD and CHOWN: set, journal when durable, reply. */
static void op_admin_set(struct conn *c, const struct proto_req *r)
{
	struct broker *b = &c->srv->broker;
	struct proto_rep rep = { .op = r->op, .id = r->id };
	struct broker_info info;
	int kind, durable;

	if (policy_owner(c, r, &kind) != 0)
		return;
	broker_info(b, r->name, &info);
	if (r->op == PROTO_OP_CHMOD)
		broker_chmod(b, r->name, r->mode);
	else if ((rep.status = broker_chown(b, r->name, r->uid, r->gid)) != 0) {
		conn_reply(c, &rep);
		return;
	}
	rep.status = op_admin_journal(c, r, &info.owner, &durable);
	durable_reply(c, &rep, durable);
}

/* CHMOD: new permissions for a queue or pipe (owner or root). */
void op_chmod(struct conn *c, const struct proto_req *r)
{
	op_admin_set(c, r);
}

/* CHOWN: new owner and/or group for a queue or pipe (root only). */
void op_chown(struct conn *c, const struct proto_req *r)
{
	op_admin_set(c, r);
}
