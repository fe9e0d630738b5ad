/*
 * async.c: pipelining on one connection. Async puts go out without
 * waiting for their replies, at most a window of them in flight; their
 * replies are read whenever the handle reads (the window is full, a
 * blocking call waits for its own reply, ipc_flush) and the first failure
 * is kept for ipc_flush(). Prefetching makes ipc_get() on a queue fetch
 * up to N messages in one QGETN and serve the next calls from a local
 * buffer.
 */
#include <stdlib.h>
#include <string.h>

#include "client_int.h"

/* Buffers of more than this are freed once emptied. */
#define PREFETCH_KEEP_MAX (256u << 10)

/* One queue with prefetching: its messages, taken from the daemon and
 * not yet handed out, as [size_t len][bytes] records from off on. */
struct client_prefetch {
	struct client_prefetch *next;
	char name[IPC_NAME_MAX + 1];
	unsigned max;            /* messages per fetch; 0: off (kept until drained) */
	struct pbuf buf;
	size_t off;
	size_t count;            /* messages buffered */
};

/* Put one message without waiting for the reply; see ipcclient.h. */
IPC_EXPORT int ipc_put_async(ipc_client *c, const char *name, const void *data,
			     size_t len, int timeout_ms)
{
	struct proto_req req = { .op = PROTO_OP_QPUT, .data = data,
				 .data_len = len, .timeout_ms = timeout_ms };
	struct proto_rep rep;
	int rc;

	if ((rc = client_check(c)) || (rc = client_check_name(c, name)) ||
	    (rc = client_check_timeout(c, timeout_ms)))
		return rc;
	if ((rc = client_check_payload(c, data, len, &req)))
		return rc;
	while (c->nasync >= c->window)
		if ((rc = client_wait(c, 0, &rep)))
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
	while (c->nasync > 0)
		if ((rc = client_wait(c, 0, &rep)))
			return rc;
	rc = c->async_rc;
	if (rc)
		client_seterr(c, "%s", c->async_err);
	c->async_rc = 0;
	c->async_seq = 0;
	return rc;
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

/* The prefetch record of queue name, or NULL. */
static struct client_prefetch *prefetch_find(struct ipc_client *c, const char *name)
{
	struct client_prefetch *pf;

	for (pf = c->prefetch; pf; pf = pf->next)
		if (strcmp(pf->name, name) == 0)
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

/* Turn prefetching on or off for a queue; see ipcclient.h. */
IPC_EXPORT int ipc_set_prefetch(ipc_client *c, const char *name, unsigned n)
{
	struct client_prefetch *pf;
	int rc;

	if ((rc = client_check(c)) || (rc = client_check_name(c, name)))
		return rc;
	if (n > IPC_BATCH_MAX) {
		client_seterr(c, "prefetch must be 0..%d", IPC_BATCH_MAX);
		return IPC_EINVAL;
	}
	pf = prefetch_find(c, name);
	if (n <= 1) {
		/* Off: what is buffered is still served first. */
		if (pf && pf->count == 0)
			prefetch_drop(c, pf);
		else if (pf)
			pf->max = 0;
		return 0;
	}
	if (!pf) {
		pf = calloc(1, sizeof(*pf));
		if (!pf) {
			client_seterr(c, "out of memory");
			return IPC_ENOMEM;
		}
		strcpy(pf->name, name);
		pbuf_init(&pf->buf);
		pf->next = c->prefetch;
		c->prefetch = pf;
	}
	pf->max = n;
	return 0;
}

/* Messages prefetched and not yet handed out; see ipcclient.h. */
IPC_EXPORT size_t ipc_prefetched(const ipc_client *c, const char *name)
{
	struct client_prefetch *pf;

	if (!c || !name)
		return 0;
	for (pf = c->prefetch; pf; pf = pf->next)
		if (strcmp(pf->name, name) == 0)
			return pf->count;
	return 0;
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

/* Copy a message into a new malloc'd block for the caller. */
static int prefetch_copy(struct ipc_client *c, const void *p, size_t len,
			 void **data, size_t *lenp)
{
	void *copy = malloc(len ? len : 1);

	if (!copy) {
		/* The message left the queue: losing it breaks the contract. */
		client_seterr(c, "out of memory for a %zu-byte message", len);
		return client_fail(c, IPC_ENOMEM);
	}
	if (len)
		memcpy(copy, p, len);
	*data = copy;
	*lenp = len;
	return 0;
}

/* Fetch up to pf->max messages in one QGETN: hand out the first, buffer
 * the rest. The get's result. */
static int prefetch_fetch(struct ipc_client *c, struct client_prefetch *pf,
			  void **data, size_t *len, int timeout_ms)
{
	struct proto_req req = { .op = PROTO_OP_QGETN, .max = pf->max,
				 .timeout_ms = timeout_ms };
	struct proto_rep rep;
	size_t i;
	int rc;

	strcpy(req.name, pf->name);
	rc = client_request(c, &req, &rep);
	if (rc)
		return rc;
	if (rep.niov > pf->max) {
		client_seterr(c, "batch reply of %zu messages, %u asked for",
			      rep.niov, pf->max);
		return client_fail(c, IPC_EPROTO);
	}
	for (i = 1; i < rep.niov; i++)
		if (prefetch_push(pf, &rep.iov[i])) {
			client_seterr(c, "out of memory buffering prefetched messages");
			return client_fail(c, IPC_ENOMEM);
		}
	return prefetch_copy(c, rep.iov[0].base, rep.iov[0].len, data, len);
}

/* ipc_get() on a queue that may have prefetching. */
int client_prefetch_get(struct ipc_client *c, const char *name, void **data,
			size_t *len, int timeout_ms)
{
	struct client_prefetch *pf = prefetch_find(c, name);
	struct ipc_msg m;
	int rc;

	if (!pf)
		return CLIENT_NO_PREFETCH;
	if (pf->count > 0) {
		prefetch_pop(pf, &m);
		rc = prefetch_copy(c, m.data, m.len, data, len);
		if (pf->count == 0 && pf->max == 0)
			prefetch_drop(c, pf);   /* turned off and drained */
		return rc;
	}
	return pf->max > 1 ? prefetch_fetch(c, pf, data, len, timeout_ms)
			   : CLIENT_NO_PREFETCH;
}

/* Hand out up to max buffered messages of name (ipc_get_many): how many;
 * they point into the buffer until the next call on c. */
size_t client_prefetch_take(struct ipc_client *c, const char *name,
			    struct ipc_msg *msgs, size_t max)
{
	struct client_prefetch *pf = c->prefetch ? prefetch_find(c, name) : NULL;
	size_t n = 0;

	while (pf && pf->count > 0 && n < max)
		prefetch_pop(pf, &msgs[n++]);
	return n;
}

/* Free every prefetch buffer. */
void client_prefetch_free(struct ipc_client *c)
{
	while (c->prefetch)
		prefetch_drop(c, c->prefetch);
}
