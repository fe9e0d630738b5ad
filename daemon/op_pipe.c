/*
 * op_pipe.c: the handlers of the pipe ops (attach, send, receive, close)
 * and the pipe ends a connection holds.
 *
 * The connection is the owner of the ends it attaches (pipe.c compares the
 * pointer), and it keeps a small list of them by name so that when it goes
 * away (EOF, kill, protocol error, shutdown) each end is closed and the
 * peer reads what was sent, then EOF. Deleting a pipe (QDEL) takes its
 * ends off their holders' lists. The list names pipes rather than
 * pointing at them: closing looks the pipe up again, so a pipe freed
 * meanwhile (shutdown) is never touched.
 */
#include <stdlib.h>
#include <string.h>

#include "access.h"
#include "broker.h"
#include "conn.h"
#include "dispatch.h"
#include "ipc_defs.h"
#include "park.h"
#include "pipe.h"
#include "proto.h"
#include "qmsg.h"
#include "server.h"

/* One pipe end a connection holds. */
struct pipe_hold {
	struct pipe_hold *next;
	uint32_t end;
	char name[IPC_NAME_MAX + 1];
};

/* Unlink and free c's hold of (name, end), if it has one. */
static void op_pipe_unhold(struct conn *c, const char *name, uint32_t end)
{
	struct pipe_hold **pp, *h;

	for (pp = &c->holds; (h = *pp) != NULL; pp = &h->next) {
		if (h->end == end && strcmp(h->name, name) == 0) {
			*pp = h->next;
			free(h);
			return;
		}
	}
}

/* Close every pipe end c holds: each peer reads what was sent, then EOF. */
void op_pipe_release(struct conn *c)
{
	struct pipe_hold *h;

	while ((h = c->holds) != NULL) {
		c->holds = h->next;
		broker_pipe_close(&c->srv->broker, h->name, h->end, c);
		free(h);
	}
}

/* Delete pipe name for c (QDEL on a pipe): only its owner or root may.
 * 0, IPC_ENOENT, IPC_EWRONGTYPE or IPC_EPERM. */
int op_pipe_delete(struct conn *c, const char *name)
{
	struct broker *b = &c->srv->broker;
	struct access_cred cred;
	struct pipe *p;
	struct conn *holder;
	unsigned e;
	int rc = broker_pipe_find(b, name, &p);

	conn_cred(c, &cred);
	if (rc == 0)
		rc = broker_access_owner(b, name, &cred);
	if (rc != 0)
		return rc;
	/* The holders lose their ends before any wake: a reply that fails
	 * may free a holder's connection, which must not close them then. */
	for (e = 0; e < 2; e++) {
		holder = (struct conn *)pipe_owner(p, e);
		if (holder != NULL)
			op_pipe_unhold(holder, name, e);
	}
	return broker_pipe_delete(b, name);
}

/* PATTACH: attach to an end, creating the pipe when asked. */
void op_pattach(struct conn *c, const struct proto_req *r)
{
	struct broker_pipe_want w = { .end = r->end, .flags = r->flags,
				      .maxmsgs = r->maxmsgs,
				      .maxbytes = r->maxbytes,
				      .has_mode = r->has_mode, .mode = r->mode };
	struct proto_rep rep = { .op = r->op, .id = r->id };
	struct pipe_hold *h = calloc(1, sizeof *h);
	struct access_cred cred;
	struct pipe *p;

	/* Allocated first: an end is never attached without its hold, so
	 * a connection always closes what it attached. */
	if (h == NULL) {
		conn_reply_status(c, r->op, r->id, IPC_ENOMEM);
		return;
	}
	conn_cred(c, &cred);
	rep.status = broker_pipe_attach(&c->srv->broker, r->name, &w, &cred, c, &p);
	if (rep.status != 0) {
		free(h);
		conn_reply(c, &rep);
		return;
	}
	h->end = r->end;
	strcpy(h->name, r->name);
	h->next = c->holds;
	c->holds = h;
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
	int rc = broker_pipe_find(b, r->name, &p);

	if (rc == 0)
		rc = broker_admit(b, r->data_len);
	if (rc == 0 && (m = qmsg_new(r->data, r->data_len)) == NULL)
		rc = IPC_ENOMEM;
	if (rc != 0) {
		conn_reply_status(c, r->op, r->id, rc);
		return;
	}
	rc = pipe_send(p, r->end, c, m);
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

	rep.status = broker_pipe_find(b, r->name, &p);
	if (rep.status != 0) {
		conn_reply(c, &rep);
		return;
	}
	rep.status = pipe_recv(p, r->end, c, &m);
	if (rep.status == IPC_EEMPTY && r->timeout_ms != 0) {
		op_pipe_park(c, r, p, WAITER_GET, NULL);
		return;
	}
	broker_pipe_reap(b, p);
	if (m != NULL) {
		rep.data = m->data;
		rep.data_len = m->len;
	}
	conn_reply_own(c, &rep, &m, m != NULL);
}

/* PCLOSE: close an end this connection holds. */
void op_pclose(struct conn *c, const struct proto_req *r)
{
	op_pipe_unhold(c, r->name, r->end);
	conn_reply_status(c, r->op, r->id,
			  broker_pipe_close(&c->srv->broker, r->name, r->end, c));
}
