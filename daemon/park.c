/* SPDX-License-Identifier: MIT */
/* park.c: requests parked until a queue satisfies them or time runs out. */
#include <assert.h>
#include <stdlib.h>
#include <string.h>
#include <event2/event.h>

#include "conn.h"
#include "dispatch.h"
#include "durable.h"
#include "ipc_defs.h"
#include "lease.h"
#include "memfd.h"
#include "park.h"
#include "pipe.h"
#include "policy.h"
#include "proto.h"
#include "qmsg.h"
#include "queue.h"
#include "server.h"

/* Unlink, stop the timer and free a park whose waiter is no longer parked. */
static void park_free(struct park *p)
{
	ptimer_del(&p->conn->srv->timers, &p->timer);
	conn_park_del(p);
	durable_drop(p->conn->srv, p->w.msg);
	qmsg_free(p->w.msg);
	/* An acking getter that got nothing: its lease record is unused. */
	if (p->w.held != NULL)
		lease_free(container_of(p->w.held, struct lease, h));
	free(p->more);
	free(p);
}

/* The messages a woken park's reply carries, and their payloads (one
 * reply at a time: it is encoded before park_wake returns). */
static struct qmsg *park_msgs[IPC_BATCH_MAX];
static struct proto_iov park_iov[IPC_BATCH_MAX];

/* Take a park off whatever holds its waiters: a pipe, or its queues. */
static void park_unpark(struct park *p)
{
	unsigned i;

	if (p->on == PARK_ON_PIPE) {
		if (p->w.holder != NULL)
			pipe_unpark(&p->w);
		return;
	}
	queue_unpark(&p->w);        /* each a no-op when not parked */
	for (i = 0; i < p->nmore; i++)
		queue_unpark(&p->more[i].w);
}

/* The park a woken waiter belongs to. */
static struct park *park_of(struct waiter *w)
{
	if (w->any == 0)
		return container_of(w, struct park, w);
	return container_of(w, struct park_more, w)->park;
}

/* Is any waiter of get_any park p still parked? */
static int park_waiting(const struct park *p)
{
	unsigned i;

	if (p->w.holder != NULL)
		return 1;
	for (i = 0; i < p->nmore; i++)
		if (p->more[i].w.holder != NULL)
			return 1;
	return 0;
}

/* Park p on queue q. */
void park_queue(struct park *p, struct queue *q)
{
	p->on = PARK_ON_QUEUE;
	p->queue = q;
	queue_park(q, &p->w);
}

/* Park request r on q, or nothing once park_request answered why not. */
void park_request_queue(struct conn *c, const struct proto_req *r,
			enum waiter_kind kind, struct qmsg *msg, struct queue *q)
{
	struct park *p = park_request(c, r, kind, msg);

	if (p != NULL)
		park_queue(p, q);
}

/* Park getter p on every queue of qs[0..n) at once. */
int park_queues(struct park *p, struct queue *const *qs, size_t n)
{
	struct park_more *x;
	size_t i;

	if (n > 1 && (p->more = calloc(n - 1, sizeof *p->more)) == NULL)
		return IPC_ENOMEM;
	p->nmore = n > 1 ? (unsigned)(n - 1) : 0;
	p->on = PARK_ON_QUEUE;
	p->queue = qs[0];
	queue_park(qs[0], &p->w);
	for (i = 1; i < n; i++) {
		x = &p->more[i - 1];
		x->park = p;
		x->queue = qs[i];
		x->w.kind = (uint8_t)WAITER_GET;
		x->w.held = p->w.held;    /* one lease, whichever queue delivers */
		x->w.want = p->w.want;
		x->w.any = (uint16_t)i;
		queue_park(qs[i], &x->w);
	}
	return 0;
}

/* Park p at end of pipe pp. */
void park_pipe(struct park *p, struct pipe *pp, unsigned end)
{
	p->on = PARK_ON_PIPE;
	p->end = end;
	pipe_park(pp, end, &p->w);
}

/* The first request of c, set aside or not, for which match(p, arg)
 * holds, or NULL. */
static struct park *park_find(struct conn *c, int (*match)(const struct park *p,
							    const void *arg),
			      const void *arg)
{
	struct ilist *lists[2] = { &c->parks, &c->stalled_parks };
	struct ilist *n;
	unsigned i;

	for (i = 0; i < 2; i++)
		for (n = ilist_first(lists[i]); n != NULL; n = ilist_next(lists[i], n)) {
			struct park *p = ilist_entry(n, struct park, link);

			if (match(p, arg))
				return p;
		}
	return NULL;
}

/* A pipe end: where park_at_end looks. */
struct park_end {
	const struct pipe *pp;
	unsigned end;
};

/* Is p parked at the end of the park_end at arg? */
static int park_at_end(const struct park *p, const void *arg)
{
	const struct park_end *e = arg;

	return p->on == PARK_ON_PIPE && pipe_parked_at(e->pp, e->end, &p->w);
}

/* Answer c's requests parked at end of pp with status. Looked up afresh
 * after each reply: one that fails closes c, cancelling the rest (and
 * maybe freeing pp, then never touched: c has no park left). */
void park_pipe_let_go(struct conn *c, const struct pipe *pp, unsigned end,
		      int status)
{
	const struct park_end at = { pp, end };
	struct park *p;

	while ((p = park_find(c, park_at_end, &at)) != NULL) {
		pipe_unpark(&p->w);
		park_wake(&p->w, status, NULL);
	}
}

/* The most park_sync waits for QDONEs in flight, in 1 ms steps. */
#define PARK_SYNC_MS 100

/* The timeout ran out: answer Empty or Full, nothing moved. A put that
 * does not wait first waits for the QDONEs in flight (park_sync). */
static void park_timeout(struct ptimer *t)
{
	struct park *p = container_of(t, struct park, timer);
	struct conn *c = p->conn;
	uint32_t op = p->op, id = p->id;
	int status = p->w.kind == WAITER_GET ? IPC_EEMPTY : IPC_EFULL;

	if (p->sync_left > 0 && lease_holds_unsettled(p->queue)) {
		p->sync_left--;
		if (ptimer_add(&c->srv->timers, &p->timer, 1) == 0)
			return;
	}
	park_unpark(p);
	/* Freed before replying, as in park_wake: a reply that fails closes
	 * the connection, which must not find this park in its list. */
	park_free(p);
	conn_reply_status(c, op, id, status);
}

/* Is p the request with the id at arg, waiting on its own timeout
 * (park_sync's do not: they end within PARK_SYNC_MS)? */
static int park_timed_id(const struct park *p, const void *arg)
{
	return p->id == *(const uint32_t *)arg && p->sync_left == 0;
}

/* EXPIRE: c's requests parked under id time out now. Looked up afresh
 * after each reply, as in park_pipe_let_go. */
void park_expire(struct conn *c, uint32_t id)
{
	struct park *p;

	while ((p = park_find(c, park_timed_id, &id)) != NULL) {
		ptimer_del(&c->srv->timers, &p->timer);
		park_timeout(&p->timer);
	}
}

/* A new park for request (op, id) of c. */
struct park *park_new(struct conn *c, uint32_t op, uint32_t id, unsigned weight,
		      enum waiter_kind kind, struct qmsg *msg, int64_t timeout_ms)
{
	struct park *p;

	/* c closed while its request was served (lease_new): nothing would
	 * cancel the park. */
	if (c->state == CONN_DEAD || c->nparks + weight > CONN_PARKS_MAX)
		return NULL;
	p = calloc(1, sizeof *p);
	if (p == NULL)
		return NULL;
	p->weight = (uint16_t)weight;
	p->w.kind = (uint8_t)kind;
	p->w.msg = msg;
	p->durable = msg != NULL && msg->jid != 0;
	p->conn = c;
	p->op = op;
	p->id = id;
	ptimer_setup(&p->timer, park_timeout);
	if (timeout_ms > 0 && ptimer_add(&c->srv->timers, &p->timer, timeout_ms) != 0) {
		free(p);
		return NULL;
	}
	conn_park_add(c, p);
	return p;
}

/* How many parked requests r counts as: a get on several queues waits
 * on each (a waiter in each queue's FIFO), so it counts one per queue. */
static unsigned park_weight(const struct proto_req *r)
{
	return r->op == PROTO_OP_QGETANY && r->nnames > 1 ? (unsigned)r->nnames : 1;
}

/* A park for request r, or NULL after dropping msg (from the journal
 * too) and answering r why not: the refusal of policy_park
 * (IPC_ELIMIT), else IPC_ENOMEM. */
struct park *park_request(struct conn *c, const struct proto_req *r,
			  enum waiter_kind kind, struct qmsg *msg)
{
	unsigned weight = park_weight(r);
	struct park *p = NULL;

	assert(proto_op(r->op) != NULL && proto_op(r->op)->parks == PROTO_PARKS);
	if (policy_park(c, r, weight) == 0) {
		p = park_new(c, r->op, r->id, weight, kind, msg, r->timeout_ms);
		if (p == NULL)
			conn_reply_status(c, r->op, r->id, IPC_ENOMEM);
	}
	if (p != NULL) {
		p->w.want = r->max;
	} else {
		durable_drop(c->srv, msg);
		qmsg_free(msg);
	}
	return p;
}

/* Split the chain of messages m (one, or a batch for a getter that
 * wants several) into park_msgs and park_iov: how many. */
static size_t park_split(struct qmsg *m)
{
	size_t n = 0;

	while (m != NULL && n < IPC_BATCH_MAX) {
		park_msgs[n] = m;
		park_iov[n].base = qmsg_bytes(m);
		park_iov[n].len = m->len;
		m = m->next;
		park_msgs[n++]->next = NULL;
	}
	return n;
}

/* Fill rep, the success reply of woken park p, from its op's reply fields
 * and the n messages it got (park_msgs): how many of them the reply owns. */
static size_t park_fill(struct park *p, struct proto_rep *rep, size_t n)
{
	const struct proto_op_desc *d = proto_op(p->op);
	const unsigned char *f = d->rep;
	size_t i;

	for (i = 0; i < proto_op_nrep(d); i++) {
		if (f[i] == RP_DATA && n > 0) {
			rep->data = park_iov[0].base;
			rep->data_len = park_iov[0].len;
		} else if (f[i] == RP_BINS) {
			rep->iov = park_iov;
			rep->niov = n;
		} else if (f[i] == RP_COUNT) {
			rep->count = 1; /* a batch put: its first message went in */
		} else if (f[i] == RP_INDEX) {
			rep->index = p->index;
		}
	}
	if (p->w.held != NULL && n > 0) {
		/* An acking getter: the message is in flight, the queue's. */
		rep->tag = p->w.held->tag;
		lease_start(container_of(p->w.held, struct lease, h));
		p->w.held = NULL;
		return 0;
	}
	return n;
}

/* A waiter of get_any park p was woken with status: false when the park
 * waits on (its queue was deleted, others are left), else true once every
 * other waiter left its queue. */
static int park_any_done(struct park *p, struct waiter *w, int status)
{
	if (status == IPC_EDELETED && park_waiting(p))
		return 0;
	p->index = w->any;
	if (w->any > 0)      /* the queue a failed reply gives it back to */
		p->queue = p->more[w->any - 1].queue;
	park_unpark(p);
	return 1;
}

/* The broker's wake function: a parked request completed with status. */
void park_wake(struct waiter *w, int status, struct qmsg *m)
{
	struct park *p = park_of(w);
	struct conn *c = p->conn;
	struct proto_rep rep = { .op = p->op, .id = p->id, .status = status };
	size_t n;
	int durable = p->durable;
	struct queue *q;

	if (p->nmore > 0 && !park_any_done(p, w, status))
		return;
	q = p->on == PARK_ON_QUEUE ? p->queue : NULL;
	n = status == 0 ? park_split(m) : 0;
	if (status == 0 && p->w.held != NULL && n > 0) {
		/* In flight, the queue's: a memfd goes as a duplicate. */
		n = park_fill(p, &rep, n);
		park_msgs[0] = memfd_lend(c, park_msgs[0]);
		n = park_msgs[0] != NULL;
		q = NULL;  /* a stand-in, never given back */
	} else if (status == 0) {
		n = park_fill(p, &rep, n);
	}
	/* Freed before replying: a reply that fails closes the connection,
	 * which must not find this park still in its list. */
	park_free(p);
	if (durable && n == 0)     /* a durable put: answered once journaled */
		durable_reply(c, &rep, 1);
	else if (q != NULL)
		conn_reply_take(c, &rep, q, park_msgs, n);
	else
		conn_reply_own(c, &rep, park_msgs, n);
}

/* Set parked get p aside while its connection's output is over the
 * bound: on a pipe, or on each of its queues. */
int park_stall(struct park *p)
{
	unsigned i;

	if (p->w.kind != WAITER_GET)
		return 0;
	if (p->on == PARK_ON_PIPE) {
		pipe_stall(&p->w);
		return 1;
	}
	queue_stall(&p->w);
	for (i = 0; i < p->nmore; i++)
		queue_stall(&p->more[i].w);
	return 1;
}

/* Let stalled get p be served again: every waiter back at its place,
 * then the first of its queues that has a message hands it one (which
 * completes p: nothing of it is touched after). */
void park_resume(struct park *p)
{
	struct server *s = p->conn->srv;
	struct pipe *pp;
	struct queue *q = NULL;
	unsigned i;

	if (p->on == PARK_ON_PIPE) {
		if ((pp = pipe_resume(&p->w)) != NULL)
			broker_pipe_reap(&s->broker, pp);
		return;
	}
	queue_unstall(&p->w);
	for (i = 0; i < p->nmore; i++)
		queue_unstall(&p->more[i].w);
	if (p->w.holder != NULL && queue_head(p->queue) != NULL)
		q = p->queue;
	for (i = 0; q == NULL && i < p->nmore; i++)
		if (p->more[i].w.holder != NULL &&
		    queue_head(p->more[i].queue) != NULL)
			q = p->more[i].queue;
	if (q != NULL)
		queue_kick(q);
}

/* Answer parked put p Full once the QDONEs in flight are served. */
void park_sync(struct park *p)
{
	p->sync_left = PARK_SYNC_MS;
	if (ptimer_add(&p->conn->srv->timers, &p->timer, 0) != 0) {
		p->sync_left = 0;
		park_timeout(&p->timer);
	}
}

/* Drop a parked request without replying: its connection is gone. */
void park_cancel(struct park *p)
{
	park_unpark(p);
	park_free(p);
}
