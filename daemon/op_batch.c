/* SPDX-License-Identifier: MIT */
/*
 * op_batch.c: the batch ops, several messages per request.
 *
 * QPUTN / PSENDN take as many messages of the batch as fit, in order (a
 * prefix), and reply how many. Only when not even the first fits does the
 * request wait (per its timeout, like a single put) for room for that
 * first message, and then replies 1: the caller sends the rest again. So
 * a batch never holds a slot or a parked putter's turn it cannot use, and
 * a full queue behaves for a batch exactly as for one message.
 *
 * QGETN / PRECVN take up to max messages, at least one: when none is
 * there the request waits per its timeout for one and replies with it.
 * A reply stops growing before the first message that would not fit the
 * room left in the frame (sized by the messages taken, never by msg_max,
 * which a reload may lower under messages already queued), so it always
 * fits PROTO_FRAME_MAX.
 *
 * A batch put hands its messages to parked batch gets whole, in the order
 * they waited: the first takes as many consecutive messages of the batch
 * as it asked for (up to its max) before the next takes any
 * (queue_put_batch, pipe_send_batch). The messages of one put always fit
 * one reply, whose framing is smaller than the request's.
 */
#include "access.h"
#include "broker.h"
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

/* The messages of the batch reply being built (one at a time: the daemon
 * is single-threaded and a reply is encoded before the handler returns). */
static struct qmsg *batch_msgs[IPC_BATCH_MAX];
static struct proto_iov batch_iov[IPC_BATCH_MAX];

/* The messages of the batch put being offered (one put at a time). */
static struct qmsg *batch_put_msgs[IPC_BATCH_MAX];
/* Its frame, taken from the connection: shared by its messages, or
 * only copied from (batch_copy), until batch_let_go. */
static struct qframe *batch_shared;
static void *batch_block;

/* Park r for a message or for room on q (or pipe p's end); park_request
 * answers a refusal (m freed). */
static void batch_park(struct conn *c, const struct proto_req *r, struct queue *q,
		       struct pipe *p, enum waiter_kind kind, struct qmsg *m)
{
	struct park *pk = park_request(c, r, kind, m);

	if (pk == NULL)
		return;
	if (q != NULL)
		park_queue(pk, q);
	else
		park_pipe(pk, p, r->end);
}

/* The frame of batch r, taken from c to be shared by the messages of
 * its large payloads (qframe_new), or NULL: they are copied. *block is
 * the frame's buffer when taken (the caller frees it if the frame could
 * not be made). */
static struct qframe *batch_frame(struct conn *c, const struct proto_req *r,
				  void **block)
{
	const struct proto_iov *last = &r->iov[r->niov - 1];
	size_t i, size, big = 0, limit = c->srv->cfg.max_bytes / QFRAME_SHARE_DIV;

	*block = NULL;
	for (i = 0; i < r->niov; i++) {
		if (r->iov[i].memfd)
			return NULL;
		big += r->iov[i].len >= QFRAME_SHARE_MIN;
	}
	if (big == 0 || qframe_live_bytes() >= limit)
		return NULL;
	*block = conn_take_frame(c, r->iov[0].base,
				 (size_t)(last->base + last->len - r->iov[0].base),
				 &size);
	return *block != NULL ? qframe_new(*block, size, limit) : NULL;
}

/* Make the batch's payloads messages in batch_put_msgs: how many
 * (fewer than r->niov when one could not be: *rc says why). Large
 * payloads of a large frame point into it (batch_frame), the others are
 * copies. The frame stays the request's (r points into it) until
 * batch_let_go. */
static size_t batch_copy(struct conn *c, const struct proto_req *r, int *rc)
{
	struct qframe *f = r->niov > 0 ? batch_frame(c, r, &batch_block) : NULL;
	size_t i;

	batch_shared = f;
	*rc = 0;
	for (i = 0; i < r->niov; i++) {
		if (f != NULL && r->iov[i].len >= QFRAME_SHARE_MIN) {
			batch_put_msgs[i] = qmsg_new_shared(f, r->iov[i].base,
							    r->iov[i].len);
			*rc = memfd_charge(c, batch_put_msgs[i]);
		} else {
			*rc = memfd_msg_new(c, r->iov[i].base, r->iov[i].len,
					    r->iov[i].memfd, &batch_put_msgs[i]);
		}
		if (*rc != 0)
			break;
	}
	return i;
}

/* The request is answered or parked: let go of its frame if batch_copy
 * took it (freed now unless messages share it). */
static void batch_let_go(void)
{
	if (batch_shared != NULL)
		qframe_put(batch_shared);
	else
		free(batch_block);   /* taken, but not shared: copied from */
	batch_shared = NULL;
	batch_block = NULL;
}

/* Journal the first made messages of batch_put_msgs for durable queue q,
 * until one cannot be: how many were (the rest are freed); *rc is
 * IPC_ENOSPC when not all were, else 0. */
static size_t batch_journal(struct conn *c, struct queue *q, size_t made, int *rc)
{
	size_t i = durable_put_many(c->srv, q, batch_put_msgs, made, rc), k;

	for (k = i; k < made; k++)
		qmsg_free(batch_put_msgs[k]);
	return i;
}

/* Offer the batch's messages to q (or p's end) in order, until one does
 * not fit: how many were taken; *rc says why the next was not (0 when
 * all were). When none was taken, *first is the first message (for the
 * caller to park or free), else NULL; the others not taken are freed. */
static size_t batch_offer(struct conn *c, const struct proto_req *r,
			  struct queue *q, struct pipe *p, struct qmsg **first, int *rc)
{
	int short_rc;   /* why fewer than r->niov are offered */
	size_t made = batch_copy(c, r, &short_rc), taken = 0, i;

	*first = NULL;
	if (q != NULL && queue_durable_id(q) && made > 0) {
		i = made;
		made = batch_journal(c, q, made, rc);
		if (made < i)
			short_rc = *rc;
	}
	*rc = short_rc;
	if (made > 0 && q != NULL) {
		/* Room freed by hand-outs counts (op_qput). */
		*rc = lease_put_batch(q, batch_put_msgs, made, &taken,
				      r->timeout_ms != 0);
	} else if (made > 0)
		*rc = pipe_send_batch(p, r->end, op_pipe_owner(c, p, r->end),
				      batch_put_msgs, made, &taken);
	if (*rc == 0 && made < r->niov)
		*rc = short_rc;
	i = taken;
	if (taken == 0 && made > 0)
		*first = batch_put_msgs[i++];
	for (; i < made; i++) {
		durable_drop(c->srv, batch_put_msgs[i]);
		qmsg_free(batch_put_msgs[i]);
	}
	return taken;
}

/* 1 when a batch put took nothing for want of room and may wait. */
static int batch_put_waits(const struct proto_req *r, size_t taken, int rc)
{
	return taken == 0 && rc == IPC_EFULL && r->timeout_ms != 0;
}

/* Reply to a batch put: how many were taken, or why none was; held
 * until the journal has them when they went into a durable queue. */
static void batch_put_reply(struct conn *c, const struct proto_req *r, size_t taken,
			    struct qmsg *first, int rc, int durable)
{
	struct proto_rep rep = { .op = r->op, .id = r->id, .count = (uint32_t)taken };

	durable_drop(c->srv, first);
	qmsg_free(first);
	rep.status = taken > 0 ? 0 : rc;
	durable_reply(c, &rep, durable);
}

/* QPUTN on q or PSENDN on p: offer the batch, then park for the rest or
 * answer how many went in. */
static void batch_put_on(struct conn *c, const struct proto_req *r,
			 struct queue *q, struct pipe *p)
{
	struct qmsg *first;
	int rc;
	size_t taken = batch_offer(c, r, q, p, &first, &rc);

	if (batch_put_waits(r, taken, rc)) {
		batch_park(c, r, q, p, WAITER_PUT, first);
	} else {
		if (p != NULL)
			broker_pipe_reap(&c->srv->broker, p);
		batch_put_reply(c, r, taken, first, rc,
				q != NULL && queue_durable_id(q) != 0);
	}
	batch_let_go();
}

/* QPUTN: put a prefix of the batch, as much as fits; see the top. */
void op_qputn(struct conn *c, const struct proto_req *r)
{
	struct queue *q;

	if (policy_queue(c, r, POLICY_WRITE | POLICY_HOLD, &q) == 0)
		batch_put_on(c, r, q, NULL);
}

/* PSENDN: send a prefix of the batch from an end, as much as fits. */
void op_psendn(struct conn *c, const struct proto_req *r)
{
	struct pipe *p;

	if (policy_pipe(c, r, POLICY_WRITE | POLICY_HOLD, &p) == 0)
		batch_put_on(c, r, NULL, p);
}

/* Reply to batch get (op, id) with the n messages in batch_msgs, handing
 * them to the connection (large ones are written from where they are);
 * taken from queue q (NULL: a pipe), they go back there if not sent. */
static void batch_get_reply(struct conn *c, uint32_t op, uint32_t id,
			    struct queue *q, size_t n)
{
	struct proto_rep rep = { .op = op, .id = id, .iov = batch_iov, .niov = n };
	size_t i;

	for (i = 0; i < n; i++) {
		batch_iov[i].base = qmsg_bytes(batch_msgs[i]);
		batch_iov[i].len = batch_msgs[i]->len;
	}
	if (q != NULL)
		conn_reply_take(c, &rep, q, batch_msgs, n);
	else
		conn_reply_own(c, &rep, batch_msgs, n);
}

/* 1 when the next message of q (or p's end) fits the room left in the
 * reply: the first always does (IPC_MSG_MAX is far below PROTO_FRAME_MAX),
 * so an empty head says yes and lets the take report why. */
static int batch_next_fits(const struct conn *c, size_t n, size_t room,
			   struct queue *q, struct pipe *p, unsigned end)
{
	const struct qmsg *m = q != NULL ? queue_head(q) : pipe_head(p, end);

	if (n == 0)
		return 1;
	return m == NULL || memfd_cost(c, m) <= room;
}

/* Take messages from q (or p's end, for c) into batch_msgs[n..max) while
 * each fits the room left in the frame: how many there are then; *rc
 * says why the next was not taken (0: it did not fit). The reply is sized
 * by the messages it carries, not by msg_max, which a reload may have
 * lowered below the size of messages already queued. */
static size_t batch_take_more(struct conn *c, size_t n, size_t max, struct queue *q,
			      struct pipe *p, unsigned end, int *rc)
{
	size_t room = PROTO_FRAME_MAX - PROTO_BATCH_REP_OVERHEAD, i, fds = 0;

	for (i = 0; i < n; i++) {
		room -= memfd_cost(c, batch_msgs[i]);
		fds += c->memfd && batch_msgs[i]->fd >= 0;
	}
	*rc = 0;
	if (n == 0 && memfd_too_big(c, q != NULL ? queue_head(q) : pipe_head(p, end)))
		*rc = IPC_ETOOBIG;
	while (*rc == 0 && n < max && fds < PROTO_FRAME_FDS_MAX &&
	       batch_next_fits(c, n, room, q, p, end)) {
		*rc = q != NULL ? queue_get(q, &batch_msgs[n])
				: pipe_recv(p, end, op_pipe_owner(c, p, end),
					    &batch_msgs[n]);
		if (*rc != 0)
			break;
		room -= memfd_cost(c, batch_msgs[n]);
		fds += c->memfd && batch_msgs[n]->fd >= 0;
		n++;
	}
	return n;
}

/* Take up to r->max messages from q (or p's end) into batch_msgs: how
 * many; *rc says why the first was not taken. */
static size_t batch_take(struct conn *c, const struct proto_req *r, struct queue *q,
			 struct pipe *p, int *rc)
{
	return batch_take_more(c, 0, r->max, q, p, r->end, rc);
}

/* QGETN on q or PRECVN on p: take up to max messages, or park for the
 * first, or answer why there is none. */
static void batch_get_on(struct conn *c, const struct proto_req *r,
			 struct queue *q, struct pipe *p)
{
	int rc;
	size_t n = batch_take(c, r, q, p, &rc);

	if (n == 0 && rc == IPC_EEMPTY && r->timeout_ms != 0) {
		batch_park(c, r, q, p, WAITER_GET, NULL);
		return;
	}
	if (p != NULL)
		broker_pipe_reap(&c->srv->broker, p);
	if (n > 0)
		batch_get_reply(c, r->op, r->id, q, n);
	else
		conn_reply_status(c, r->op, r->id, rc);
}

/* QGETN: take up to max messages, waiting per timeout for the first. */
void op_qgetn(struct conn *c, const struct proto_req *r)
{
	struct queue *q;

	if (policy_queue(c, r, POLICY_READ, &q) == 0)
		batch_get_on(c, r, q, NULL);
}

/* PRECVN: receive up to max messages at an end, waiting for the first. */
void op_precvn(struct conn *c, const struct proto_req *r)
{
	struct pipe *p;

	if (policy_pipe(c, r, POLICY_READ, &p) == 0)
		batch_get_on(c, r, NULL, p);
}

/* QUNGET: a consumer gives messages it read ahead with a plain get back to
 * the head of the queue, in order (read and write permission: it takes
 * and places messages). Not for durable queues, whose journal has
 * recorded the gets. */
void op_qunget(struct conn *c, const struct proto_req *r)
{
	struct queue *q;
	size_t made, i;
	int rc;

	if (policy_queue(c, r, POLICY_READ | POLICY_WRITE | POLICY_HOLD, &q) != 0)
		return;
	if (queue_durable_id(q)) {
		conn_reply_error(c, r->op, r->id, IPC_EINVAL,
				 "messages cannot be given back to a durable queue");
		return;
	}
	made = batch_copy(c, r, &rc);
	if (made < r->niov) {
		for (i = 0; i < made; i++)
			qmsg_free(batch_put_msgs[i]);
		conn_reply_status(c, r->op, r->id, rc ? rc : IPC_ENOMEM);
	} else {
		queue_unget(q, batch_put_msgs, made);
		conn_reply_status(c, r->op, r->id, 0);
	}
	batch_let_go();
}
