/* SPDX-License-Identifier: MIT */
/*
 * op_pipe.c: the handlers of the pipe ops (attach, send, receive, close,
 * share, join) and the pipe ends connections hold.
 *
 * An attached end is a struct pipe_grip, the end's owner as the pipe sees
 * it (pipe.c compares the pointer). A grip has one or more holds (struct
 * pipe_hold), each linked in its connection's list too: the connection
 * that attached the end, those that joined it (PJOIN), and shares (PSHARE)
 * not claimed yet, which hang on the connection that made them. Like a
 * file descriptor inherited by a child process, an end shared with
 * another process stays open until its last holder lets go: closing it
 * (PCLOSE, PDETACH) or a holder going away (EOF, kill, protocol error,
 * shutdown) drops that one hold, and only the last one closes (detaches)
 * the end, so the peer reads what was sent, then EOF. A grip names its
 * pipe rather than pointing at it: closing looks the pipe up again, so a
 * pipe freed meanwhile (shutdown) is never touched.
 */
#include <sys/random.h>
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

/* The most unclaimed shares an end may have (PSHARE: IPC_ELIMIT). */
#define PIPE_SHARES_MAX 64

/* One attached pipe end: the owner of that end (pipe_attach). */
struct pipe_grip {
	struct ilist holds;         /* its struct pipe_hold.member */
	unsigned shares;            /* how many of them are unclaimed shares */
	uint32_t end;
	char name[IPC_NAME_MAX + 1];
};

/* A connection's hold on an attached end, or a share of it. */
struct pipe_hold {
	struct ilist link;          /* in the connection's holds */
	struct ilist member;        /* in its grip's holds */
	struct conn *conn;          /* the holder; a share's maker */
	struct pipe_grip *grip;
	uint64_t token;             /* a share: its capability, never 0; a hold: 0 */
};

/* c's hold (not a share) of end of p, NULL when c does not hold it. */
static struct pipe_hold *op_pipe_hold(const struct conn *c, const struct pipe *p,
				      unsigned end)
{
	struct pipe_grip *g = (struct pipe_grip *)pipe_owner(p, end);
	struct ilist *n;

	if (g == NULL)
		return NULL;
	for (n = ilist_first(&g->holds); n != NULL; n = ilist_next(&g->holds, n)) {
		struct pipe_hold *h = ilist_entry(n, struct pipe_hold, member);

		if (h->conn == c && h->token == 0)
			return h;
	}
	return NULL;
}

/* Who c acts as on end of p: the end's grip when c holds it, or c itself
 * (never an owner: the pipe then says why c may not use the end). */
const void *op_pipe_owner(const struct conn *c, const struct pipe *p, unsigned end)
{
	const struct pipe_hold *h = op_pipe_hold(c, p, end);

	return h != NULL ? (const void *)h->grip : (const void *)c;
}

/* A new hold of g for c (token 0: a hold, else a share), linked in
 * both lists; NULL on ENOMEM. */
static struct pipe_hold *op_pipe_hold_new(struct conn *c, struct pipe_grip *g,
					  uint64_t token)
{
	struct pipe_hold *h = calloc(1, sizeof *h);

	if (h == NULL)
		return NULL;
	h->conn = c;
	h->grip = g;
	h->token = token;
	g->shares += token != 0;
	ilist_link_tail(&c->holds, &h->link);
	ilist_link_tail(&g->holds, &h->member);
	return h;
}

/* Unlink and free hold h: the grip, when h was its last hold, is
 * returned (unlinked from nothing, still the pipe's owner) for the
 * caller to close or detach and free; else NULL. */
static struct pipe_grip *op_pipe_hold_drop(struct pipe_hold *h)
{
	struct pipe_grip *g = h->grip;

	ilist_unlink(&h->link);
	ilist_unlink(&h->member);
	g->shares -= h->token != 0;
	free(h);
	return ilist_empty(&g->holds) ? g : NULL;
}

/* Let go of every pipe end c holds or shared: an end none holds any
 * more is closed, and its peer reads what was sent, then EOF. Each hold
 * is unlinked before a close wakes anyone. */
void op_pipe_release(struct conn *c)
{
	struct pipe_hold *h;
	struct pipe_grip *g;

	while ((h = ilist_first_entry(&c->holds, struct pipe_hold, link)) != NULL) {
		if ((g = op_pipe_hold_drop(h)) == NULL)
			continue;
		broker_pipe_close(&c->srv->broker, g->name, g->end, g);
		free(g);
	}
}

/* Delete pipe name for c (QDEL on a pipe; the caller checked c may):
 * 0, IPC_ENOENT or IPC_EWRONGTYPE. */
int op_pipe_delete(struct conn *c, const char *name)
{
	struct broker *b = &c->srv->broker;
	struct pipe *p;
	struct pipe_grip *g;
	struct pipe_hold *h;
	unsigned e;
	int rc = broker_pipe_find(b, name, &p);

	if (rc != 0)
		return rc;
	/* The holders lose their ends before any wake: a reply that fails
	 * may free a holder's connection, which must not close them then. */
	for (e = 0; e < 2; e++) {
		if ((g = (struct pipe_grip *)pipe_owner(p, e)) == NULL)
			continue;
		while ((h = ilist_first_entry(&g->holds, struct pipe_hold, member)) != NULL)
			op_pipe_hold_drop(h);
		free(g); /* the pipe only compares it, and forgets it */
	}
	return broker_delete(b, name, IPC_KIND_PIPE);
}

/* Answer an attach or join of r with what pipe p is. */
static void op_pipe_reply_attached(struct conn *c, const struct proto_req *r,
				   const struct pipe *p)
{
	struct proto_rep rep = { .op = r->op, .id = r->id };

	rep.flags = pipe_duplex(p) ? PROTO_PIPE_DUPLEX : PROTO_PIPE_ONEWAY;
	rep.maxmsgs = (int64_t)pipe_maxmsgs(p);
	rep.maxbytes = (int64_t)pipe_maxbytes(p);
	conn_reply(c, &rep);
}

/* PATTACH: attach to an end, creating the pipe when asked. */
void op_pattach(struct conn *c, const struct proto_req *r)
{
	struct broker_pipe_want w;
	struct pipe_grip *g = calloc(1, sizeof *g);
	struct access_cred cred;
	struct pipe *p;
	int rc;

	if (policy_open(c, r, IPC_KIND_PIPE, (r->flags & PROTO_PIPE_CREATE) != 0,
			(r->flags & PROTO_PIPE_OWNED) != 0) != 0) {
		free(g);
		return;
	}
	/* Allocated first: an end is never attached without its hold, so
	 * a connection always closes what it attached. */
	if (g != NULL)
		ilist_init(&g->holds);
	if (g == NULL || op_pipe_hold_new(c, g, 0) == NULL) {
		free(g);
		conn_reply_status(c, r->op, r->id, IPC_ENOMEM);
		return;
	}
	g->end = r->end;
	strcpy(g->name, r->name);
	wire_pipe_want(r, &w);
	conn_cred(c, &cred);
	rc = broker_pipe_attach(&c->srv->broker, r->name, &w, &cred, g, &p);
	if (rc != 0) {
		op_pipe_hold_drop(ilist_first_entry(&g->holds, struct pipe_hold, member));
		free(g);
		policy_refuse_create(c, r, rc);
		return;
	}
	op_pipe_reply_attached(c, r, p);
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
 * c holds, and reply: c's hold goes, and the end with it when that was
 * its last hold. Else others keep it open, and c's own requests parked
 * there are answered parked (status: what the end's close or detach
 * answers them). The hold is unlinked before anything wakes anyone: a
 * reply that fails closes c, whose release must not find it. */
static void op_pipe_let_go(struct conn *c, const struct proto_req *r,
			   int (*let_go)(struct broker *, const char *, unsigned,
					 const void *), int parked)
{
	struct pipe_hold *h;
	struct pipe_grip *g = NULL;
	struct pipe *p;
	int rc = 0;

	if (policy_pipe(c, r, 0, &p) != 0)
		return;
	h = op_pipe_hold(c, p, r->end);
	if (h == NULL || (g = op_pipe_hold_drop(h)) != NULL)
		rc = let_go(&c->srv->broker, r->name, r->end,
			    g != NULL ? (const void *)g : (const void *)c);
	else
		park_pipe_let_go(c, p, r->end, parked);
	free(g);
	conn_reply_status(c, r->op, r->id, rc);
}

/* PCLOSE: close an end this connection holds. */
void op_pclose(struct conn *c, const struct proto_req *r)
{
	op_pipe_let_go(c, r, broker_pipe_close, IPC_ECLOSED);
}

/* PDETACH: give up an end this connection holds without closing it: the
 * peer sees no EOF and a later attach may take the end. */
void op_pdetach(struct conn *c, const struct proto_req *r)
{
	op_pipe_let_go(c, r, broker_pipe_detach, IPC_ENOTATTACHED);
}

/* A random share token, never 0: 0, or IPC_ELIMIT without random bytes. */
static int op_pipe_token(uint64_t *t)
{
	do {
		if (getrandom(t, sizeof *t, GRND_NONBLOCK) != (ssize_t)sizeof *t)
			return IPC_ELIMIT;
	} while (*t == 0);
	return 0;
}

/* PSHARE: a share of an end c holds, for another connection to claim
 * (PJOIN) with the token in the reply; it keeps the end open meanwhile
 * and goes with c if never claimed. */
void op_pshare(struct conn *c, const struct proto_req *r)
{
	struct proto_rep rep = { .op = r->op, .id = r->id };
	struct pipe_hold *h;
	struct pipe *p;

	if (policy_pipe(c, r, 0, &p) != 0)
		return;
	if ((h = op_pipe_hold(c, p, r->end)) == NULL) {
		conn_reply_error(c, r->op, r->id, IPC_ENOTATTACHED, "pipe '%s' end %u "
				 "is not held by this connection", r->name, (unsigned)r->end);
		return;
	}
	if (h->grip->shares >= PIPE_SHARES_MAX) {
		conn_reply_error(c, r->op, r->id, IPC_ELIMIT, "pipe '%s' end %u has %d "
				 "unclaimed shares", r->name, (unsigned)r->end, PIPE_SHARES_MAX);
		return;
	}
	if ((rep.status = op_pipe_token(&rep.tag)) == 0 &&
	    op_pipe_hold_new(c, h->grip, rep.tag) == NULL)
		rep.status = IPC_ENOMEM;
	conn_reply(c, &rep);
}

/* The unclaimed share of end of p whose token is tag, or NULL. */
static struct pipe_hold *op_pipe_share(const struct pipe *p, unsigned end, uint64_t tag)
{
	struct pipe_grip *g = (struct pipe_grip *)pipe_owner(p, end);
	struct ilist *n;

	for (n = g ? ilist_first(&g->holds) : NULL; n != NULL; n = ilist_next(&g->holds, n)) {
		struct pipe_hold *h = ilist_entry(n, struct pipe_hold, member);

		if (tag != 0 && h->token == tag)
			return h;
	}
	return NULL;
}

/* PJOIN: claim a share (PSHARE's token): c holds the end from now on,
 * as its attacher does. Who may use the end is checked as for PATTACH. */
void op_pjoin(struct conn *c, const struct proto_req *r)
{
	struct access_cred cred;
	struct pipe_hold *h;
	struct pipe *p;
	int rc;

	if (policy_pipe(c, r, 0, &p) != 0)
		return;
	conn_cred(c, &cred);
	if (broker_pipe_access(&c->srv->broker, p, r->end, &cred) != 0) {
		conn_reply_error(c, r->op, r->id, IPC_EPERM, "permission denied: "
				 "pipe '%s' end %u", r->name, (unsigned)r->end);
		return;
	}
	if (op_pipe_hold(c, p, r->end) != NULL) {
		conn_reply_status(c, r->op, r->id, IPC_EBUSY);
		return;
	}
	if ((h = op_pipe_share(p, r->end, r->tag)) == NULL) {
		rc = pipe_owner(p, r->end) != NULL ? IPC_EPERM : IPC_ENOTATTACHED;
		conn_reply_error(c, r->op, r->id, rc, "pipe '%s' end %u has no share "
				 "with that token", r->name, (unsigned)r->end);
		return;
	}
	ilist_unlink(&h->link);
	ilist_link_tail(&c->holds, &h->link);
	h->conn = c;
	h->token = 0;
	h->grip->shares--;
	op_pipe_reply_attached(c, r, p);
}
