/*
 * async.c: pipelining on one connection. Async puts go out without
 * waiting for their replies (held in tx and written in runs: client.c),
 * at most a window of them in flight; their
 * replies are read whenever the handle reads (the window is full, a
 * blocking call waits for its own reply, ipc_flush) and the first failure
 * is kept for ipc_flush(). Read-ahead makes gets on a queue (or pipe
 * end) fetch up to N messages in one QGETN (PRECVN), serve the next calls
 * from a local buffer and keep the next fetch on its way.
 */
#include <stdlib.h>
#include <string.h>

#include "backend.h"
#include "client_int.h"

/* Buffers of more than this are freed once emptied. */
#define PREFETCH_KEEP_MAX (256u << 10)

/* One queue (or pipe end) with read-ahead: its messages, taken from the
 * daemon and not yet handed out, as [size_t len][bytes] records from off
 * on. */
struct client_prefetch {
	struct client_prefetch *next;
	char name[IPC_NAME_MAX + 1];
	int end;                 /* -1: a queue; 0 or 1: a pipe end */
	unsigned max;            /* messages per fetch; 0: off (kept until drained) */
	uint32_t inflight;       /* the read-ahead fetch in flight, or 0 */
	uint32_t inflight_max;   /* what it asked for */
	struct pbuf buf;
	size_t off;
	size_t count;            /* messages buffered */
};

/* Make room for one more async request: with the window full, settle
 * replies until at most half of it is in flight. Waiting for half rather
 * than one slot lets the daemon read a run of requests per wakeup and
 * answer them in one write, instead of one request per round trip. */
int client_window_room(struct ipc_client *c)
{
	struct proto_rep rep;
	int rc;

	if (c->nasync < c->window)
		return 0;
	while (c->nasync > c->window / 2)
		if ((rc = client_wait(c, 0, &rep)))
			return rc;
	return 0;
}

/* Put one message without waiting for the reply; see ipcclient.h. */
IPC_EXPORT int ipc_queue_put_async(ipc_client *c, const char *name, const void *data,
			     size_t len, int timeout_ms)
{
	struct proto_req req = { .op = PROTO_OP_QPUT, .data = data,
				 .data_len = len, .timeout_ms = timeout_ms };
	int rc;

	if ((rc = client_check(c)) || (rc = client_check_name(c, name)) ||
	    (rc = client_check_timeout(c, timeout_ms)))
		return rc;
	if ((rc = client_check_payload(c, data, len, &req)))
		return rc;
	if (c->ops)
		return CLIENT_BACKEND(c, put_async, name, data, len, timeout_ms);
	if ((rc = client_window_room(c)))
		return rc;
	strcpy(req.name, name);
	return client_send(c, &req, 1);
}

/* Wait for every async reply; the first failure; see ipcclient.h. */
IPC_EXPORT int ipc_flush(ipc_client *c)
{
	struct proto_rep rep;
	int rc;

	if ((rc = client_check(c)))
		return rc;
	if (c->ops)
		return c->ops->flush ? c->ops->flush(c) : client_notsup(c, "flush");
	while (c->nasync > 0)
		if ((rc = client_wait(c, 0, &rep)))
			return rc;
	rc = c->async_rc;
	if (rc)
		client_seterr(c, "%s", c->async_err);
	c->async_rc = 0;
	c->async_seq = 0;
	c->flush_notput = c->async_notput;
	c->async_notput = 0;
	return rc;
}

/* Write held async requests, waiting for no reply; see ipcclient.h. */
IPC_EXPORT int ipc_push(ipc_client *c)
{
	int rc = client_check(c);

	if (!rc && c->ops)
		return c->ops->push ? c->ops->push(c) : client_notsup(c, "push");
	return rc ? rc : client_push(c);
}

/* Messages the last flush found not put; see ipcclient.h. */
IPC_EXPORT unsigned long long ipc_flush_notput(const ipc_client *c)
{
	return c ? c->flush_notput : 0;
}

/* Send one message from a pipe end without waiting; see ipcclient.h. */
IPC_EXPORT int ipc_pipe_send_async(ipc_client *c, const char *name, int end,
				   const void *data, size_t len, int timeout_ms)
{
	struct proto_req req = { .op = PROTO_OP_PSEND, .data = data,
				 .data_len = len, .timeout_ms = timeout_ms,
				 .end = (uint32_t)end };
	int rc;

	if ((rc = client_check(c)) || (rc = client_check_name(c, name)) ||
	    (rc = client_check_timeout(c, timeout_ms)) || (rc = client_check_end(c, end)))
		return rc;
	if ((rc = client_check_payload(c, data, len, &req)))
		return rc;
	if (c->ops)
		return CLIENT_BACKEND(c, pipe_send_async, name, end, data, len, timeout_ms);
	if ((rc = client_window_room(c)))
		return rc;
	strcpy(req.name, name);
	return client_send(c, &req, 1);
}

/* Bound the async requests in flight; see ipcclient.h. */
IPC_EXPORT int ipc_set_window(ipc_client *c, unsigned n)
{
	int rc;

	if ((rc = client_check(c)))
		return rc;
	if (n < 1 || n > IPC_WINDOW_MAX) {
		client_seterr(c, "window must be 1..%d", IPC_WINDOW_MAX);
		return IPC_EINVAL;
	}
	c->window = n;
	return 0;
}

/* The prefetch record of queue name (end -1) or pipe end, or NULL. */
static struct client_prefetch *prefetch_find(struct ipc_client *c, const char *name,
					     int end)
{
	struct client_prefetch *pf;

	for (pf = c->prefetch; pf; pf = pf->next)
		if (pf->end == end && strcmp(pf->name, name) == 0)
			return pf;
	return NULL;
}

/* Unlink and free a prefetch record. */
static void prefetch_drop(struct ipc_client *c, struct client_prefetch *pf)
{
	struct client_prefetch **pp;

	for (pp = &c->prefetch; *pp; pp = &(*pp)->next)
		if (*pp == pf) {
			*pp = pf->next;
			break;
		}
	pbuf_free(&pf->buf);
	free(pf);
}

/* Free a record turned off once nothing is buffered or on its way. */
static void prefetch_gc(struct ipc_client *c, struct client_prefetch *pf)
{
	if (pf->max == 0 && pf->count == 0 && pf->inflight == 0)
		prefetch_drop(c, pf);
}

/* Set read-ahead of up to n per fetch on a queue (end -1) or pipe end. */
static int prefetch_set(struct ipc_client *c, const char *name, int end,
			unsigned n)
{
	struct client_prefetch *pf;
	int rc;

	if ((rc = client_check(c)) || (rc = client_check_name(c, name)))
		return rc;
	if (n > IPC_BATCH_MAX) {
		client_seterr(c, "read-ahead must be 0..%d", IPC_BATCH_MAX);
		return IPC_EINVAL;
	}
	if (c->ops && end < 0)
		return CLIENT_BACKEND(c, set_readahead, name, n);
	if (c->ops)
		return CLIENT_BACKEND(c, pipe_set_readahead, name, end, n);
	pf = prefetch_find(c, name, end);
	if (n <= 1) {
		/* Off: what is buffered (or on its way) is still served first. */
		if (pf) {
			pf->max = 0;
			prefetch_gc(c, pf);
		}
		return 0;
	}
	if (!pf) {
		pf = calloc(1, sizeof(*pf));
		if (!pf) {
			client_seterr(c, "out of memory");
			return IPC_ENOMEM;
		}
		strcpy(pf->name, name);
		pf->end = end;
		pbuf_init(&pf->buf);
		pf->next = c->prefetch;
		c->prefetch = pf;
	}
	pf->max = n;
	return 0;
}

/* Turn read-ahead on or off for a queue; see ipcclient.h. */
IPC_EXPORT int ipc_queue_set_readahead(ipc_client *c, const char *name, unsigned n)
{
	return prefetch_set(c, name, -1, n);
}

/* Turn read-ahead on or off for a pipe end; see ipcclient.h. */
IPC_EXPORT int ipc_pipe_set_readahead(ipc_client *c, const char *name, int end,
				      unsigned n)
{
	int rc;

	if (c && (rc = client_check_end(c, end)))
		return rc;
	return prefetch_set(c, name, end, n);
}

/* Messages buffered for a queue (end -1) or pipe end, not handed out. */
static size_t prefetch_count(const ipc_client *c, const char *name, int end)
{
	struct client_prefetch *pf;

	if (!c || !name)
		return 0;
	for (pf = c->prefetch; pf; pf = pf->next)
		if (pf->end == end && strcmp(pf->name, name) == 0)
			return pf->count;
	return 0;
}

/* Messages read ahead for a queue, not yet handed out; see ipcclient.h. */
IPC_EXPORT size_t ipc_queue_buffered(const ipc_client *c, const char *name)
{
	return prefetch_count(c, name, -1);
}

/* Messages read ahead at a pipe end, not yet handed out; see ipcclient.h. */
IPC_EXPORT size_t ipc_pipe_buffered(const ipc_client *c, const char *name, int end)
{
	return prefetch_count(c, name, end);
}

/* Append one message to a prefetch buffer: 0 or IPC_ENOMEM. */
static int prefetch_push(struct client_prefetch *pf, const struct proto_iov *m)
{
	if (pf->count == 0 && pf->buf.cap > PREFETCH_KEEP_MAX)
		pbuf_free(&pf->buf);
	if (pbuf_reserve(&pf->buf, sizeof(size_t) + m->len))
		return IPC_ENOMEM;
	memcpy(pf->buf.data + pf->buf.len, &m->len, sizeof(size_t));
	if (m->len)
		memcpy(pf->buf.data + pf->buf.len + sizeof(size_t), m->base, m->len);
	pf->buf.len += sizeof(size_t) + m->len;
	pf->count++;
	return 0;
}

/* Take the oldest buffered message, pointing into the buffer (valid until
 * the buffer is next appended to). */
static void prefetch_pop(struct client_prefetch *pf, struct ipc_msg *m)
{
	size_t len;

	memcpy(&len, pf->buf.data + pf->off, sizeof(size_t));
	m->data = pf->buf.data + pf->off + sizeof(size_t);
	m->len = len;
	pf->off += sizeof(size_t) + len;
	if (--pf->count == 0)
		pf->buf.len = pf->off = 0;
}

/* Buffer the messages of a successful fetch reply that asked for max. */
static int prefetch_absorb(struct ipc_client *c, struct client_prefetch *pf,
			   const struct proto_rep *rep, uint32_t max)
{
	size_t i;

	if (rep->niov > max) {
		client_seterr(c, "batch reply of %zu messages, %u asked for",
			      rep->niov, (unsigned)max);
		return client_fail(c, IPC_EPROTO);
	}
	for (i = 0; i < rep->niov; i++)
		if (prefetch_push(pf, &rep->iov[i])) {
			client_seterr(c, "out of memory buffering prefetched messages");
			return client_fail(c, IPC_ENOMEM);
		}
	return 0;
}

/* The reply to a read-ahead fetch: its messages are buffered; a
 * non-fatal failure (Empty, EOF, ...) is dropped, the next fetch that
 * waits learns it again. 0 or fatal. */
static int prefetch_ahead_reply(struct ipc_client *c, struct client_prefetch *pf,
				const struct proto_rep *rep)
{
	uint32_t max = pf->inflight_max;

	pf->inflight = 0;
	if (rep->status < 0)
		return client_status(c, rep);
	return rep->status ? 0 : prefetch_absorb(c, pf, rep, max);
}

/* A read-ahead reply read by another call; see client_int.h. */
int client_prefetch_settle(struct ipc_client *c, void *ctx, const struct proto_rep *rep)
{
	return prefetch_ahead_reply(c, ctx, rep);
}

/* Send a fetch of up to pf->max messages (QGETN or PRECVN) waiting per
 * timeout_ms; its id is pf->inflight. */
static int prefetch_send(struct ipc_client *c, struct client_prefetch *pf, int timeout_ms)
{
	struct proto_req req = { .max = pf->max, .timeout_ms = timeout_ms };
	int rc;

	req.op = pf->end < 0 ? PROTO_OP_QGETN : PROTO_OP_PRECVN;
	req.end = pf->end < 0 ? 0 : (uint32_t)pf->end;
	strcpy(req.name, pf->name);
	rc = client_send_ctx(c, &req, pf);
	if (rc == 0) {
		pf->inflight = req.id;
		pf->inflight_max = pf->max;
	}
	return rc;
}

/* Send a fetch that does not wait (timeout 0) when at most half a
 * fetch is buffered and none is on its way, so the next messages travel
 * while the caller works on these. */
static int prefetch_ahead(struct ipc_client *c, struct client_prefetch *pf)
{
	if (pf->max < 2 || pf->inflight || pf->count > pf->max / 2)
		return 0;
	return prefetch_send(c, pf, 0);
}

/* Make sure a message is buffered: take the read-ahead reply on its way,
 * then, if still nothing, fetch waiting per timeout_ms. 0, the fetch's
 * result, or CLIENT_NO_PREFETCH when prefetching is off. */
static int prefetch_fill(struct ipc_client *c, struct client_prefetch *pf,
			 int timeout_ms)
{
	struct proto_rep rep;
	uint32_t id = pf->inflight;
	int rc;

	if (pf->count == 0 && id != 0) {
		if ((rc = client_wait(c, id, &rep)) ||
		    (rc = prefetch_ahead_reply(c, pf, &rep)))
			return rc;
	}
	if (pf->count > 0)
		return 0;
	if (pf->max < 2)
		return CLIENT_NO_PREFETCH;
	if ((rc = prefetch_send(c, pf, timeout_ms)))
		return rc;
	id = pf->inflight;
	pf->inflight = 0;
	if ((rc = client_wait(c, id, &rep)) || (rc = client_status(c, &rep)))
		return rc;
	return prefetch_absorb(c, pf, &rep, pf->inflight_max);
}

/* ipc_queue_get() or ipc_pipe_recv() on a queue or end with read-ahead. */
static int prefetch_get(struct ipc_client *c, struct client_prefetch *pf, void **data,
			size_t *len, int timeout_ms)
{
	struct ipc_msg m;
	int rc = prefetch_fill(c, pf, timeout_ms);

	if (rc == 0) {
		prefetch_pop(pf, &m);
		rc = client_copy_out(c, m.data, m.len, data, len);
	}
	if (rc == 0)
		rc = prefetch_ahead(c, pf);
	if (rc >= 0)
		prefetch_gc(c, pf);
	return rc;
}

/* ipc_queue_get() on a queue that may have read-ahead. */
int client_prefetch_get(struct ipc_client *c, const char *name, void **data,
			size_t *len, int timeout_ms)
{
	struct client_prefetch *pf = prefetch_find(c, name, -1);

	return pf ? prefetch_get(c, pf, data, len, timeout_ms) : CLIENT_NO_PREFETCH;
}

/* ipc_pipe_recv() at an end that may have read-ahead. */
int client_prefetch_recv(struct ipc_client *c, const char *name, int end,
			 void **data, size_t *len, int timeout_ms)
{
	struct client_prefetch *pf = c->prefetch ? prefetch_find(c, name, end) : NULL;

	return pf ? prefetch_get(c, pf, data, len, timeout_ms) : CLIENT_NO_PREFETCH;
}

/* Batch get with read-ahead; see client_int.h. The messages point into
 * the buffer, which nothing appends to before the next call on c (a
 * read-ahead fetch sent here is read by a later call). */
int client_prefetch_many(struct ipc_client *c, const char *name, int end,
			 struct ipc_msg *msgs, size_t max, size_t *n, int timeout_ms)
{
	struct client_prefetch *pf = c->prefetch ? prefetch_find(c, name, end) : NULL;
	int rc;

	if (!pf)
		return CLIENT_NO_PREFETCH;
	if ((rc = prefetch_fill(c, pf, timeout_ms)))
		return rc;
	*n = 0;
	while (pf->count > 0 && *n < max)
		prefetch_pop(pf, &msgs[(*n)++]);
	return prefetch_ahead(c, pf);
}

/* Free every prefetch buffer. */
void client_prefetch_free(struct ipc_client *c)
{
	while (c->prefetch)
		prefetch_drop(c, c->prefetch);
}
