/* SPDX-License-Identifier: MIT */
/*
 * op_pipe.c: the handlers of the pipe ops (attach, send, receive, close)
 * and the pipe ends a connection holds.
 *
 * Each end a connection attaches gets a struct pipe_hold, linked in the
 * connection's list, and that hold is the end's owner as the pipe sees it
 * (pipe.c compares the pointer). So the pipe leads to the hold and
 * closing or deleting an end unlinks it in O(1), however many ends the
 * connection holds; when the connection goes away (EOF, kill, protocol
 * error, shutdown) each end it holds is closed and the peer reads what
 * was sent, then EOF. A hold names its pipe rather than pointing at it:
 * closing looks the pipe up again, so a pipe freed meanwhile (shutdown)
 * is never touched.
 */
#include <stdlib.h>
#include <string.h>

#include "access.h"
#include "broker.h"
#include "conn.h"
#include "dispatch.h"
#include "ipc_defs.h"
#include "memfd.h"
#include "park.h"
#include "pipe.h"
#include "policy.h"
#include "proto.h"
#include "qmsg.h"
#include "server.h"
#include "wire.h"

/* One pipe end a connection holds: the owner of that end (pipe_attach). */
struct pipe_hold {
	struct ilist link;          /* in the connection's holds */
	struct conn *conn;
	uint32_t end;
	char name[IPC_NAME_MAX + 1];
};

/* c's hold of end of p, NULL when c does not hold that end. */
static struct pipe_hold *op_pipe_hold(const struct conn *c, const struct pipe *p,
				      unsigned end)
{
	struct pipe_hold *h = (struct pipe_hold *)pipe_owner(p, end);

	return h != NULL && h->conn == c ? h : NULL;
}

/* Who c acts as on end of p: its hold, or c itself when it holds none
 * (never an owner: the pipe then says why c may not use the end). */
const void *op_pipe_owner(const struct conn *c, const struct pipe *p, unsigned end)
{
	const struct pipe_hold *h = op_pipe_hold(c, p, end);

	return h != NULL ? (const void *)h : (const void *)c;
}

/* Close every pipe end c holds: each peer reads what was sent, then EOF.
 * Each hold is unlinked before its close wakes anyone. */
void op_pipe_release(struct conn *c)
{
	struct pipe_hold *h;

	while ((h = ilist_first_entry(&c->holds, struct pipe_hold, link)) != NULL) {
		ilist_unlink(&h->link);
		broker_pipe_close(&c->srv->broker, h->name, h->end, h);
		free(h);
	}
}

/* Delete pipe name for c (QDEL on a pipe; the caller checked c may):
 * 0, IPC_ENOENT or IPC_EWRONGTYPE. */
int op_pipe_delete(struct conn *c, const char *name)
{
	struct broker *b = &c->srv->broker;
	struct pipe *p;
	struct pipe_hold *h;
	unsigned e;
	int rc = broker_pipe_find(b, name, &p);

	if (rc != 0)
		return rc;
	/* The holders lose their ends before any wake: a reply that fails
	 * may free a holder's connection, which must not close them then. */
	for (e = 0; e < 2; e++) {
		h = (struct pipe_hold *)pipe_owner(p, e);
		if (h != NULL) {
			ilist_unlink(&h->link);
			free(h); /* the pipe only compares it, and forgets it */
		}
	}
	return broker_pipe_delete(b, name);
}

/* PATTACH: attach to an end, creating the pipe when asked. */
void op_pattach(struct conn *c, const struct proto_req *r)
{
	struct broker_pipe_want w;
	struct proto_rep rep = { .op = r->op, .id = r->id };
	struct pipe_hold *h = calloc(1, sizeof *h);
	struct access_cred cred;
	struct pipe *p;

	if (policy_open(c, r, IPC_KIND_PIPE, (r->flags & PROTO_PIPE_CREATE) != 0,
			(r->flags & PROTO_PIPE_OWNED) != 0) != 0) {
		free(h);
		return;
	}
	/* Allocated first: an end is never attached without its hold, so
	 * a connection always closes what it attached. */
	if (h == NULL) {
		conn_reply_status(c, r->op, r->id, IPC_ENOMEM);
		return;
	}
	h->conn = c;
	h->end = r->end;
	strcpy(h->name, r->name);
	wire_pipe_want(r, &w);
	conn_cred(c, &cred);
	rep.status = broker_pipe_attach(&c->srv->broker, r->name, &w, &cred, h, &p);
	if (rep.status != 0) {
		free(h);
		policy_refuse_create(c, r, rep.status);
		return;
	}
	ilist_link_tail(&c->holds, &h->link);
	rep.flags = pipe_duplex(p) ? PROTO_PIPE_DUPLEX : PROTO_PIPE_ONEWAY;
	rep.maxmsgs = (int64_t)pipe_maxmsgs(p);
	rep.maxbytes = (int64_t)pipe_maxbytes(p);
	conn_reply(c, &rep);
}

/* Park request r on p's end for a message or for room (park_request
 * answers a refusal). */
static void op_pipe_park(struct conn *c, const struct proto_req *r,
			 struct pipe *p, enum waiter_kind kind, struct qmsg *m)
{
	struct park *pk = park_request(c, r, kind, m);

	if (pk != NULL)
		park_pipe(pk, p, r->end);
}

/* PSEND: hand over or buffer, or park until there is room, or Full. */
void op_psend(struct conn *c, const struct proto_req *r)
{
	struct broker *b = &c->srv->broker;
	struct pipe *p;
	struct qmsg *m;
	int rc;

	if (policy_pipe(c, r, POLICY_WRITE | POLICY_HOLD, &p) != 0)
		return;
	if (memfd_req_msg(c, r, &m) != 0)
		return;
	rc = pipe_send(p, r->end, op_pipe_owner(c, p, r->end), m);
	if (rc == IPC_EFULL && r->timeout_ms != 0) {
		op_pipe_park(c, r, p, WAITER_PUT, m);
		return;
	}
	if (rc != 0)
		qmsg_free(m);
	broker_pipe_reap(b, p);
	conn_reply_status(c, r->op, r->id, rc);
}

/* PRECV: take a message, or park until one comes, or Empty, or EOF. */
void op_precv(struct conn *c, const struct proto_req *r)
{
	struct broker *b = &c->srv->broker;
	struct proto_rep rep = { .op = r->op, .id = r->id };
	struct qmsg *m = NULL;
	struct pipe *p;

	if (policy_pipe(c, r, POLICY_READ, &p) != 0)
		return;
	if (memfd_too_big(c, pipe_head(p, r->end))) {
		conn_reply_status(c, r->op, r->id, IPC_ETOOBIG);
		return;
	}
	rep.status = pipe_recv(p, r->end, op_pipe_owner(c, p, r->end), &m);
	if (rep.status == IPC_EEMPTY && r->timeout_ms != 0) {
		op_pipe_park(c, r, p, WAITER_GET, NULL);
		return;
	}
	broker_pipe_reap(b, p);
	if (m != NULL) {
		rep.data = qmsg_bytes(m);
		rep.data_len = m->len;
	}
	conn_reply_own(c, &rep, &m, m != NULL);
}

/* Close or detach (let_go: broker_pipe_close, broker_pipe_detach) an end
 * c holds, and reply. Its hold is unlinked before anything wakes anyone:
 * a reply that fails closes c, whose release must not find it. */
static void op_pipe_let_go(struct conn *c, const struct proto_req *r,
			   int (*let_go)(struct broker *, const char *, unsigned,
					 const void *))
{
	struct pipe_hold *h;
	struct pipe *p;
	int rc;

	if (policy_pipe(c, r, 0, &p) != 0)
		return;
	h = op_pipe_hold(c, p, r->end);
	if (h != NULL)
		ilist_unlink(&h->link);
	rc = let_go(&c->srv->broker, r->name, r->end,
		    h != NULL ? (const void *)h : (const void *)c);
	free(h);
	conn_reply_status(c, r->op, r->id, rc);
}

/* PCLOSE: close an end this connection holds. */
void op_pclose(struct conn *c, const struct proto_req *r)
{
	op_pipe_let_go(c, r, broker_pipe_close);
}

/* PDETACH: give up an end this connection holds without closing it: the
 * peer sees no EOF and a later attach may take the end. */
void op_pdetach(struct conn *c, const struct proto_req *r)
{
	op_pipe_let_go(c, r, broker_pipe_detach);
}
