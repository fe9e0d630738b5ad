/* SPDX-License-Identifier: MIT */
/*
 * client.c: libipcclient, one connection to ipcd.
 *
 * Every call encodes one request, sends it whole (large payloads straight
 * from the caller's memory) and reads frames until the reply carrying its
 * id arrives. Requests sent without waiting (async.c) stay in a table of
 * requests in flight; a reply is matched to its request by id, read
 * before the rest of it is decoded, and the replies of async requests
 * read on the way are settled. A fatal error (I/O, protocol) breaks the
 * handle for good: the byte stream can no longer be trusted.
 */
#include <errno.h>
#include <stddef.h>
#include <poll.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <sys/socket.h>
#include <sys/uio.h>
#include <sys/un.h>
#include <time.h>

#include "backend.h"
#include "client_int.h"
#include "sock.h"

/* Set the handle's last-error text, printf style. */
__attribute__((format(printf, 2, 3)))
void client_seterr(struct ipc_client *c, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(c->err, sizeof(c->err), fmt, ap);
	va_end(ap);
}

/* Record a fatal error: the handle refuses every later call. */
int client_fail(struct ipc_client *c, int code)
{
	c->broken = 1;
	return code;
}

/* Record a fatal I/O error with the system's reason. */
int client_fail_errno(struct ipc_client *c, const char *what, int err)
{
	client_seterr(c, "%s: %s", what, strerror(err));
	errno = err;
	return client_fail(c, IPC_EIO);
}

/* Refuse a call on a broken handle; 0 when the handle is usable. */
int client_check(struct ipc_client *c)
{
	if (!c)
		return IPC_EINVAL;
	if (c->broken)
		return IPC_EIO;
	return 0;
}

/* Check a queue name before any round trip: 0 or IPC_ENAME. */
int client_check_name(struct ipc_client *c, const char *name)
{
	if (name && proto_name_valid(name, strnlen(name, IPC_NAME_MAX + 1)))
		return 0;
	client_seterr(c, "invalid name: 1-%d bytes of [A-Za-z0-9_.:@-], "
		      "not starting with '.'", IPC_NAME_MAX);
	return IPC_ENAME;
}

/* Check a timeout in milliseconds: 0 or IPC_EINVAL. */
int client_check_timeout(struct ipc_client *c, int timeout_ms)
{
	if (timeout_ms >= IPC_FOREVER)
		return 0;
	client_seterr(c, "invalid timeout %d ms", timeout_ms);
	return IPC_EINVAL;
}

/* Milliseconds on the monotonic clock. */
int64_t client_now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* The daemon did not answer in time: IPC_ETIMEDOUT, the handle breaks
 * (a late reply would be taken for the next request's). */
static int client_fail_timeout(struct ipc_client *c)
{
	client_seterr(c, "the daemon did not answer within the I/O timeout "
		      "(%d ms past the request's own)", c->io_timeout_ms);
	errno = ETIMEDOUT;
	return client_fail(c, IPC_ETIMEDOUT);
}

/* Wait until the socket is ready for events, at most until deadline
 * (monotonic ms, -1: no bound): 0 with the ready events in *revents
 * (0 after EINTR: the caller looks again), or fatal. */
static int client_poll(struct ipc_client *c, short events, int64_t deadline,
		       short *revents)
{
	struct pollfd pfd = { .fd = c->fd, .events = events };
	int64_t left = deadline < 0 ? -1 : deadline - client_now_ms();
	int n;

	*revents = 0;
	if (deadline >= 0 && left <= 0)
		return client_fail_timeout(c);
	n = poll(&pfd, 1, left > INT32_MAX ? INT32_MAX : (int)left);
	if (n < 0)
		return errno == EINTR ? 0 : client_fail_errno(c, "poll", errno);
	if (n == 0)
		return deadline >= 0 && client_now_ms() >= deadline ?
		       client_fail_timeout(c) : 0;
	*revents = pfd.revents;
	return 0;
}

/* Bound the blocking recv that follows by the handle's deadline with
 * SO_RCVTIMEO, instead of a poll() before it: one system call less per
 * request that waits for its reply. The option is set again only when
 * it would let a recv wait past the deadline or is under half of what
 * is left, so requests that wait alike set it once. 0, or fatal (the
 * deadline passed). */
static int client_recv_bound(struct ipc_client *c)
{
	int64_t left, ms;
	struct timeval tv;

	if (c->deadline_ms < 0 && (c->check == NULL || c->expired))
		return 0;	/* an older bound only wakes the recv now and then */
	left = c->deadline_ms < 0 ? INT64_MAX : c->deadline_ms - client_now_ms();
	if (left <= 0)
		return client_fail_timeout(c);
	if (c->check != NULL && !c->expired && left > c->check_ms)
		left = c->check_ms;	/* wake for check (client_recv_checked) */
	if (c->rcvtimeo_ms > 0 && c->rcvtimeo_ms <= left && 2 * c->rcvtimeo_ms >= left)
		return 0;
	ms = left - left / 8;
	tv.tv_sec = (time_t)(ms / 1000);
	tv.tv_usec = (suseconds_t)(ms % 1000) * 1000;
	if (setsockopt(c->fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv) != 0)
		return client_fail_errno(c, "setsockopt", errno);
	c->rcvtimeo_ms = ms;
	return 0;
}

/* A wait for a reply woke with nothing (SO_RCVTIMEO ran out, or a
 * signal): when the caller's check says so, ask the daemon to time out
 * the request waited for now, if it is parked (EXPIRE, never answered;
 * once per wait). 0, or fatal. */
static int client_recv_checked(struct ipc_client *c)
{
	struct proto_req req = { .op = PROTO_OP_EXPIRE, .tag = c->wait_id };

	if (c->wait_id == 0 || !c->check(c->check_arg))
		return 0;
	c->expired = 1;
	return client_send_noreply(c, &req);
}

/* recv into b's free room (flags: 0 waits, until the handle's deadline;
 * MSG_DONTWAIT does not): 0 once bytes came or, without waiting, none
 * were there; fatal on EOF, error or timeout. */
static int client_recv(struct ipc_client *c, struct pbuf *b, int flags)
{
	int wait = !(flags & MSG_DONTWAIT);
	ssize_t n;
	int rc;

	for (;;) {
		if (wait && (rc = client_recv_bound(c)) != 0)
			return rc;
		n = client_memfd_recv(c, b->data + b->len, b->cap - b->len, flags);
		/* EAGAIN while waiting: SO_RCVTIMEO ran out, look again. */
		if (n >= 0 || (errno != EINTR &&
			       (!wait || (errno != EAGAIN && errno != EWOULDBLOCK))))
			break;
		/* EXPIRE went through tx: replies a full socket made it read
		 * aside come before anything recv'd now (client_read_more). */
		if (wait && c->check != NULL && !c->expired)
			return client_recv_checked(c);
	}
	if (n < 0)
		return !wait && (errno == EAGAIN || errno == EWOULDBLOCK) ?
			0 : client_fail_errno(c, "recv", errno);
	if (n == 0) {
		client_seterr(c, "connection closed by the daemon");
		errno = ECONNRESET;
		return client_fail(c, IPC_EIO);
	}
	b->len += (size_t)n;
	return 0;
}

/* Take what the daemon sent without waiting, into aside (rx itself may
 * be pointed into by the reply the caller works on): 0, or fatal. */
static int client_read_aside(struct ipc_client *c)
{
	if (pbuf_reserve(&c->aside, CLIENT_READ_CHUNK))
		return client_fail(c, IPC_ENOMEM);
	return client_recv(c, &c->aside, MSG_DONTWAIT);
}

/* The socket is full: wait until it takes more, reading replies aside
 * meanwhile. The daemon stops reading a client that leaves too many
 * replies unread (max-output), so a send that only waited could wait
 * for good. 0, or fatal. */
static int client_wait_writable(struct ipc_client *c)
{
	int64_t deadline = c->io_timeout_ms < 0 ? -1 :
			   client_now_ms() + c->io_timeout_ms;
	short ev;
	int rc;

	if ((rc = client_poll(c, POLLOUT | POLLIN, deadline, &ev)))
		return rc;
	if (ev & POLLIN)
		return client_read_aside(c);
	return 0;
}

/* Send the whole tx buffer with the payloads left out of it (holes) in
 * place, from the caller's memory: scatter/gather, riding out EINTR and
 * short writes. */
static int client_send_all(struct ipc_client *c, const struct proto_hole *h,
			   size_t nh)
{
	struct iovec iov[2 * CLIENT_HOLES_MAX + 2];
	struct msghdr mh = { .msg_iov = iov };
	struct proto_sg sg = { 0, 0, 0 };
	union {
		struct cmsghdr h;
		char b[CMSG_SPACE(sizeof(int) * PROTO_FRAME_FDS_MAX)];
	} cm;
	ssize_t n;

	sock_sndbuf_fit(c->fd, proto_sg_left(&sg, c->tx.len, h, nh), SOCK_SNDBUF_BIG,
			&c->sndbuf_raised);
	while (proto_sg_left(&sg, c->tx.len, h, nh) > 0) {
		mh.msg_iovlen = (size_t)proto_sg_iov(&sg, c->tx.data, c->tx.len, h, nh,
						     iov, 2 * CLIENT_HOLES_MAX + 2);
		/* Memfds go with the first byte of their frame (tx starts
		 * with it: client_send_pend). */
		client_memfd_attach(c, &mh, cm.b, sizeof cm.b);
		n = sendmsg(c->fd, &mh, MSG_NOSIGNAL | MSG_DONTWAIT);
		if (n > 0 || (n < 0 && errno != EINTR && errno != EAGAIN &&
			      errno != EWOULDBLOCK))
			client_memfd_sent(c);
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK)) {
			int rc = client_wait_writable(c);

			if (rc)
				return rc;
			continue;
		}
		if (n < 0)
			return client_fail_errno(c, "send", errno);
		proto_sg_advance(&sg, (size_t)n, c->tx.len, h, nh);
	}
	c->tx.len = 0;
	return 0;
}

/* How many more bytes to ask for so the frame at the head of rx fits. */
static size_t client_read_want(const struct ipc_client *c)
{
	const unsigned char *p = c->rx.data + c->rx_off;
	size_t have = c->rx.len - c->rx_off, total;

	if (have < PROTO_FRAME_HDR)
		return CLIENT_READ_CHUNK;
	/* proto_frame_peek() already bounded this length by PROTO_FRAME_MAX. */
	total = PROTO_FRAME_HDR + ((size_t)p[0] << 24 | (size_t)p[1] << 16 |
				   (size_t)p[2] << 8 | (size_t)p[3]);
	if (total - have > CLIENT_READ_CHUNK)
		return total - have;
	return CLIENT_READ_CHUNK;
}

/* Read more bytes into rx (moving the unread part to the front first):
 * 0, or fatal on EOF, error or ENOMEM. */
static int client_read_more(struct ipc_client *c)
{
	if (c->rx_off > 0) {
		pbuf_consume(&c->rx, c->rx_off);
		c->rx_off = 0;
	}
	if (c->aside.len > 0) {
		/* Replies read while a send waited come first. */
		if (pbuf_append(&c->rx, c->aside.data, c->aside.len))
			return client_fail(c, IPC_ENOMEM);
		c->aside.len = 0;
		if (c->aside.cap > CLIENT_READ_CHUNK)
			pbuf_free(&c->aside);
		return 0;
	}
	if (pbuf_reserve(&c->rx, client_read_want(c)))
		return client_fail(c, IPC_ENOMEM);
	return client_recv(c, &c->rx, 0);
}

/* Wait for one whole frame at rx_off; its length, or fatal. */
static long client_read_frame(struct ipc_client *c)
{
	long flen;
	int rc;

	c->rx_off += c->rx_done;
	c->rx_done = 0;
	if (c->rx_off == c->rx.len)
		c->rx_off = c->rx.len = 0;
	for (;;) {
		flen = proto_frame_peek(c->rx.data + c->rx_off, c->rx.len - c->rx_off,
					PROTO_FRAME_MAX);
		if (flen < 0) {
			client_seterr(c, "bad frame length from the daemon");
			return client_fail(c, IPC_EPROTO);
		}
		if (flen > 0)
			return flen;
		rc = client_read_more(c);
		if (rc)
			return rc;
	}
}

/* The pending slot of request id, or NULL when none waits for it. */
static struct client_pending *client_pend_find(struct ipc_client *c, uint32_t id)
{
	size_t i, mask = c->pend_cap - 1;
	struct client_pending *pe;

	for (i = 0; id != 0 && i < c->pend_len; i++) {
		pe = &c->pend[(c->pend_head + i) & mask];
		if (pe->id == id)
			return pe;
	}
	return NULL;
}

/* Rebuild the ring into cap slots, dropping tombstones. 0 or ENOMEM. */
static int client_pend_resize(struct ipc_client *c, size_t cap)
{
	struct client_pending *np = malloc(cap * sizeof(*np));
	size_t i, n = 0;

	if (!np)
		return IPC_ENOMEM;
	for (i = 0; i < c->pend_len; i++) {
		struct client_pending *pe = &c->pend[(c->pend_head + i) & (c->pend_cap - 1)];

		if (pe->id != 0)
			np[n++] = *pe;
	}
	free(c->pend);
	c->pend = np;
	c->pend_cap = cap;
	c->pend_head = 0;
	c->pend_len = n;
	return 0;
}

/* Record request req, of bytes on the wire, as in flight. 0 or
 * IPC_ENOMEM. */
static int client_pend_add(struct ipc_client *c, const struct proto_req *req,
			   int async, void *ctx, size_t bytes)
{
	struct client_pending *pe;
	size_t cap = c->pend_cap ? c->pend_cap : 16;

	/* Tombstones left behind a long-parked request are squeezed out. */
	if (c->pend_len == c->pend_cap || c->pend_len > 2 * c->npend + 16) {
		while (cap < 2 * (c->npend + 1))
			cap *= 2;
		if (client_pend_resize(c, cap))
			return IPC_ENOMEM;
	}
	pe = &c->pend[(c->pend_head + c->pend_len++) & (c->pend_cap - 1)];
	pe->id = req->id;
	pe->op = req->op;
	pe->async = async;
	pe->seq = async ? ++c->async_seq : 0;
	pe->nmsgs = req->op == PROTO_OP_QPUTN || req->op == PROTO_OP_PSENDN ?
		    (uint32_t)req->niov : 0;
	pe->ctx = ctx;
	pe->timeout_ms = (int)req->timeout_ms;
	pe->bytes = async ? bytes : 0;
	c->npend++;
	c->nasync += async != 0;
	c->async_bytes += pe->bytes;
	return 0;
}

/* The reply to pe came: free its slot. */
static void client_pend_del(struct ipc_client *c, struct client_pending *pe)
{
	c->nasync -= pe->async != 0;
	c->async_bytes -= pe->bytes;
	c->npend--;
	pe->id = 0;
	while (c->pend_len > 0 && c->pend[c->pend_head].id == 0) {
		c->pend_head = (c->pend_head + 1) & (c->pend_cap - 1);
		c->pend_len--;
	}
}

/* Turn a reply's status into the call's result, keeping its text. */
int client_status(struct ipc_client *c, const struct proto_rep *rep)
{
	if (rep->status == 0)
		return 0;
	if (rep->detail && rep->detail_len)
		client_seterr(c, "%.*s", (int)rep->detail_len, rep->detail);
	else
		client_seterr(c, "%s", proto_strerror(rep->status));
	if (rep->status < 0)
		return client_fail(c, rep->status);
	return rep->status;
}

/* Decode the frame of length flen at rx_off as a reply to a pending
 * request, found by its id: 0 with *pe set, or fatal. */
static int client_decode(struct ipc_client *c, long flen, struct proto_rep *rep,
			 struct client_pending **pe)
{
	const unsigned char *p = c->rx.data + c->rx_off + PROTO_FRAME_HDR;
	size_t n = (size_t)flen - PROTO_FRAME_HDR;
	uint32_t id = 0;

	c->rx_done = (size_t)flen;
	memset(rep, 0, sizeof(*rep));
	/* The last reply's memfd payloads were valid until now. */
	client_memfd_release(c);
	if (proto_rep_peek_id(p, n, &id)) {
		client_seterr(c, "bad reply: no request id");
		return client_fail(c, IPC_EPROTO);
	}
	*pe = client_pend_find(c, id);
	/* A reply to no request may still be a fatal notice the daemon could
	 * not tie to one (id 0, after a frame it could not parse): decoded
	 * as an error reply (any op will do), it closes next. */
	if (proto_dec_rep(&c->dec, p, n, *pe ? (*pe)->op : PROTO_OP_HELLO, rep)) {
		client_seterr(c, "bad reply: %s", c->dec.err);
		return client_fail(c, IPC_EPROTO);
	}
	if (client_memfd_claim(c, rep) != 0)
		return IPC_EPROTO;
	if (*pe == NULL && rep->status < 0) {
		client_status(c, rep);
		return client_fail(c, rep->status);
	}
	if (*pe == NULL) {
		client_seterr(c, "reply to unknown request id %u", (unsigned)id);
		return client_fail(c, IPC_EPROTO);
	}
	return 0;
}

/* The name of an async request in ipc_flush()'s text. */
static const char *client_async_what(uint32_t op)
{
	return op == PROTO_OP_QPUTN ? "async put_many" :
	       op == PROTO_OP_PSEND ? "async send" : "async put";
}

/* An async batch put took only count of its messages (as many as fit):
 * the rest were not put, a failure (IPC_EFULL) kept for ipc_flush(). */
static int client_settle_partial(struct ipc_client *c, const struct client_pending *pe,
				 uint32_t count)
{
	if (count > pe->nmsgs) {
		client_seterr(c, "daemon took %u of %u messages", count, pe->nmsgs);
		return client_fail(c, IPC_EPROTO);
	}
	c->async_notput += pe->nmsgs - count;
	if (c->async_rc == 0) {
		c->async_rc = IPC_EFULL;
		snprintf(c->async_err, sizeof(c->async_err),
			 "%s %llu: %u of %u messages put, the last %u were not (%s)",
			 client_async_what(pe->op), (unsigned long long)pe->seq, count,
			 pe->nmsgs, pe->nmsgs - count, proto_strerror(IPC_EFULL));
	}
	return 0;
}

/* An async request's reply: keep the first failure for ipc_flush(). */
static int client_settle(struct ipc_client *c, const struct client_pending *pe,
			 const struct proto_rep *rep)
{
	if (pe->ctx)
		return client_readahead_settle(c, pe->ctx, rep);
	if (rep->status == 0 && pe->async && pe->nmsgs && rep->count != pe->nmsgs)
		return client_settle_partial(c, pe, rep->count);
	if (rep->status == 0 || !pe->async) {
		if (rep->status == 0)
			return 0;
		client_seterr(c, "reply to request %u nobody waits for", (unsigned)pe->id);
		return client_fail(c, IPC_EPROTO);
	}
	c->async_notput += pe->nmsgs ? pe->nmsgs : 1;
	if (c->async_rc == 0) {
		c->async_rc = rep->status;
		snprintf(c->async_err, sizeof(c->async_err), "%s %llu: %.*s",
			 client_async_what(pe->op), (unsigned long long)pe->seq,
			 (int)(rep->detail ? rep->detail_len : strlen(proto_strerror(rep->status))),
			 rep->detail ? rep->detail : proto_strerror(rep->status));
	}
	if (rep->status < 0) {
		client_status(c, rep);
		return client_fail(c, rep->status);
	}
	return 0;
}

/* When a wait for the reply to id (0: to any pending request) gives up:
 * the longest own timeout among them plus the I/O timeout from now, or
 * -1 (never) when one waits forever or the handle has no I/O timeout. */
static int64_t client_deadline(struct ipc_client *c, uint32_t id)
{
	struct client_pending *pe;
	int64_t longest = 0;
	size_t i;

	if (c->io_timeout_ms < 0)
		return -1;
	for (i = 0; i < c->pend_len; i++) {
		pe = &c->pend[(c->pend_head + i) & (c->pend_cap - 1)];
		if (pe->id == 0 || (id != 0 && pe->id != id))
			continue;
		if (pe->timeout_ms < 0)
			return -1;
		if (pe->timeout_ms > longest)
			longest = pe->timeout_ms;
	}
	return client_now_ms() + longest + c->io_timeout_ms;
}

/* Read replies until the one to id is in *rep (id 0: settle one reply). */
int client_wait(struct ipc_client *c, uint32_t id, struct proto_rep *rep)
{
	struct client_pending *pe;
	long flen;
	int rc;

	if ((rc = client_push(c)))
		return rc;
	c->deadline_ms = client_deadline(c, id);
	c->wait_id = id;
	c->expired = 0;
	for (;;) {
		flen = client_read_frame(c);
		if (flen < 0)
			return (int)flen;
		rc = client_decode(c, flen, rep, &pe);
		if (rc)
			return rc;
		if (id != 0 && pe->id == id) {
			client_pend_del(c, pe);
			return 0;
		}
		rc = client_settle(c, pe, rep);
		client_pend_del(c, pe);
		if (rc || id == 0)
			return rc;
	}
}

/* Whether bytes already taken from the socket (in rx past the frame
 * last handed out, or aside) hold the start of a reply. */
int client_has_input(const struct ipc_client *c)
{
	return c->rx.len > c->rx_off + c->rx_done || c->aside.len > 0;
}

/* Settle the replies already taken from the socket; see client_int.h. */
int client_settle_read(struct ipc_client *c)
{
	struct proto_rep rep;
	int rc;

	while (client_has_input(c))
		if ((rc = client_wait(c, 0, &rep)))
			return rc;
	return 0;
}

/* Next request id, never 0. */
static uint32_t client_next_id(struct ipc_client *c)
{
	if (c->next_id == 0)
		c->next_id = 1;
	return c->next_id++;
}

/* Send req without waiting for its reply (ctx: a read-ahead fetch's
 * read-ahead record). Large payloads are sent from the caller's memory
 * rather than copied into tx. */
static int client_send_pend(struct ipc_client *c, struct proto_req *req, int async,
			    void *ctx)
{
	struct proto_hole holes[CLIENT_HOLES_MAX];
	struct proto_req wire = *req;
	size_t nh = 0, bytes, i;
	int rc;

	/* A request with memfds starts its write: they go with its first
	 * byte, so what waits in tx goes first. */
	if (client_memfd_wanted(c, req) && (rc = client_push(c)))
		return rc;
	if ((rc = client_memfd_prepare(c, &wire)))
		return rc;
	req->id = wire.id = client_next_id(c);
	bytes = c->tx.len;
	rc = proto_enc_req_holes(&c->tx, &wire, CLIENT_HOLE_MIN, holes,
				 CLIENT_HOLES_MAX, &nh);
	if (rc == IPC_EINVAL) {
		client_memfd_sent(c);
		client_seterr(c, "request cannot be encoded");
		return rc;
	}
	bytes = c->tx.len - bytes;
	for (i = 0; i < nh; i++)
		bytes += holes[i].len;
	if (rc || (rc = client_pend_add(c, req, async, ctx, bytes)))
		return client_fail(c, rc);
	/* An async request held whole in tx may wait there for the next
	 * ones (see client_push): one write then carries many. */
	if (async && nh == 0 && c->ntxfds == 0 && c->tx.len < CLIENT_CORK_MAX)
		return 0;
	return client_send_all(c, holes, nh);
}

/* Write the async requests waiting in tx; see client_int.h. */
int client_push(struct ipc_client *c)
{
	return c->tx.len > 0 ? client_send_all(c, NULL, 0) : 0;
}

/* Send req without waiting for its reply; see client_int.h. */
int client_send(struct ipc_client *c, struct proto_req *req, int async)
{
	return client_send_pend(c, req, async, NULL);
}

/* Send a read-ahead fetch; see client_int.h. */
int client_send_ctx(struct ipc_client *c, struct proto_req *req, void *ctx)
{
	return client_send_pend(c, req, 0, ctx);
}

/* Send req, a request the daemon never answers (QDONE), now; see
 * client_int.h. */
int client_send_noreply(struct ipc_client *c, struct proto_req *req)
{
	int rc;

	req->id = client_next_id(c);
	if ((rc = proto_enc_req(&c->tx, req)))
		return client_fail(c, rc);
	return client_send_all(c, NULL, 0);
}

/* Send req and wait for its reply in *rep (valid until the next call).
 * 0 when a reply arrived, whatever its status; IPC_EINVAL when req cannot
 * be encoded; else fatal. */
int client_call(struct ipc_client *c, struct proto_req *req,
		struct proto_rep *rep)
{
	int rc = client_send(c, req, 0);

	return rc ? rc : client_wait(c, req->id, rep);
}

/* Round trip then status: what most calls want. */
int client_request(struct ipc_client *c, struct proto_req *req,
		   struct proto_rep *rep)
{
	int rc = client_call(c, req, rep);

	return rc ? rc : client_status(c, rep);
}

/* A fresh handle with no socket yet, or NULL on ENOMEM. */
static struct ipc_client *client_new(void)
{
	struct ipc_client *c = calloc(1, sizeof(*c));

	if (!c)
		return NULL;
	c->fd = -1;
	c->next_id = 1;
	c->window = CLIENT_WINDOW_DEFAULT;
	c->io_timeout_ms = IPC_IO_TIMEOUT_DEFAULT;
	c->deadline_ms = -1;
	pbuf_init(&c->tx);
	pbuf_init(&c->rx);
	pbuf_init(&c->aside);
	if (proto_dec_init(&c->dec)) {
		free(c);
		return NULL;
	}
	c->dec_ready = 1;
	return c;
}

/* Bound a blocking connect() (a listener whose backlog is full makes it
 * wait) to timeout_ms (-1: no bound), or lift the bound (timeout_ms 0). */
static void client_connect_bound(int fd, int timeout_ms)
{
	struct timeval tv = { 0, 0 };

	if (timeout_ms < 0)
		return;
	tv.tv_sec = timeout_ms / 1000;
	tv.tv_usec = (timeout_ms % 1000) * 1000;
	if (timeout_ms > 0 && tv.tv_sec == 0 && tv.tv_usec == 0)
		tv.tv_usec = 1;
	setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof(tv));
}

/* Open the Unix socket and connect it to path within timeout_ms (-1: no
 * bound): 0, IPC_ETIMEDOUT, or IPC_ECONNECT. */
static int client_open_socket(struct ipc_client *c, const char *path,
			      int timeout_ms)
{
	struct sockaddr_un sa;
	int rc;

	memset(&sa, 0, sizeof(sa));
	sa.sun_family = AF_UNIX;
	if (strlen(path) >= sizeof(sa.sun_path)) {
		errno = ENAMETOOLONG;
		return IPC_ECONNECT;
	}
	strcpy(sa.sun_path, path);
	c->fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
	c->rcvtimeo_ms = 0;
	if (c->fd < 0)
		return IPC_ECONNECT;
	client_connect_bound(c->fd, timeout_ms);
	do {
		rc = connect(c->fd, (struct sockaddr *)&sa, sizeof(sa));
	} while (rc < 0 && errno == EINTR);
	if (rc < 0 && (errno == EAGAIN || errno == EINPROGRESS)) {
		client_seterr(c, "connecting took over %d ms", timeout_ms);
		errno = ETIMEDOUT;
		return IPC_ETIMEDOUT;
	}
	client_connect_bound(c->fd, 0);
	return rc < 0 ? IPC_ECONNECT : 0;
}

/* Say HELLO and learn the daemon's message limit: 0 or fatal. */
static int client_hello(struct ipc_client *c)
{
	struct proto_req req = { .op = PROTO_OP_HELLO,
				 .version = IPC_PROTO_VERSION,
				 .has_caps = !c->no_caps, .caps = PROTO_CAP_MEMFD };
	struct proto_rep rep;
	int rc;

	rc = client_call(c, &req, &rep);
	if (rc)
		return rc;
	if (rep.status == IPC_EVERSION ||
	    (rep.status == 0 && rep.version != IPC_PROTO_VERSION)) {
		client_seterr(c, "daemon speaks protocol %u, we speak %d",
			      (unsigned)rep.version, IPC_PROTO_VERSION);
		return client_fail(c, IPC_EVERSION);
	}
	if (rep.status < 0)
		return client_status(c, &rep);
	if (rep.status) {
		/* Refused (too many clients, shutting down): not connected. */
		client_status(c, &rep);
		errno = ECONNREFUSED;
		return client_fail(c, rep.status == IPC_ELIMIT ||
				   rep.status == IPC_ESHUTDOWN ?
				   rep.status : IPC_ECONNECT);
	}
	if (rep.msg_max == 0 || rep.msg_max > IPC_MSG_MAX) {
		client_seterr(c, "bad message limit %u", (unsigned)rep.msg_max);
		return client_fail(c, IPC_EPROTO);
	}
	c->msg_max = rep.msg_max;
	if (rep.has_caps && (rep.caps & PROTO_CAP_MEMFD) && rep.memfd_min > 0 &&
	    rep.memfd_max >= rep.memfd_min) {
		c->memfd_min = rep.memfd_min;
		c->memfd_max = rep.memfd_max;
	}
	return 0;
}

/* Say HELLO within what is left of timeout_ms since start (-1: no
 * bound): 0 or fatal. */
static int client_hello_within(struct ipc_client *c, int timeout_ms, int64_t start)
{
	int64_t left = timeout_ms - (client_now_ms() - start);
	int rc;

	if (timeout_ms >= 0)
		c->io_timeout_ms = left > 0 ? (int)left : 0;
	else
		c->io_timeout_ms = -1;
	rc = client_hello(c);
	if (rc == IPC_ETIMEDOUT)
		client_seterr(c, "no answer to the handshake within %d ms",
			      timeout_ms);
	c->io_timeout_ms = IPC_IO_TIMEOUT_DEFAULT;
	return rc;
}

/* A daemon older than HELLO's caps refuses them as malformed: a new
 * handle on path that will say HELLO without them, or NULL. */
static struct ipc_client *client_reconnect_plain(struct ipc_client *old,
						 const char *path)
{
	struct ipc_client *c = client_new();

	ipc_close(old);
	if (c == NULL)
		return NULL;
	c->no_caps = 1;
	if (client_open_socket(c, path, -1) != 0) {
		ipc_close(c);
		return NULL;
	}
	return c;
}

/* Connect to one path and handshake within timeout_ms: 0 with *out set,
 * or the failure, with *next set when nothing accepted the connection
 * there (errno says why) and the next path may be tried. */
static int client_connect_one(const char *path, int timeout_ms, ipc_client **out,
			      int *next)
{
	struct ipc_client *c = client_new();
	int64_t start = client_now_ms();
	int rc, err;

	*next = 0;
	if (!c)
		return IPC_ENOMEM;
	rc = client_open_socket(c, path, timeout_ms);
	*next = rc == IPC_ECONNECT;
	if (!rc)
		rc = client_hello_within(c, timeout_ms, start);
	if (rc == IPC_EPROTO && !c->no_caps && (c = client_reconnect_plain(c, path)))
		rc = client_hello_within(c, timeout_ms, start);
	if (!c)
		return IPC_ECONNECT;
	if (!rc) {
		*out = c;
		return 0;
	}
	err = errno;
	if (!*next)
		client_connect_err_set(path, ipc_strerror(rc), c->err);
	ipc_close(c);
	errno = err;
	return rc;
}

/* 1 when target names a NATS server; see backend.h. */
int backend_is_nats(const char *target)
{
	return target && strncmp(target, "nats://", 7) == 0;
}

/* Connect to a backend's URL (nats://...): 0 with *out set, or the
 * failure (IPC_ENOTSUP when this library was built without it). */
static int client_connect_url(const char *url, ipc_client **out)
{
	struct ipc_client *c;
	int rc;

#ifdef HAVE_NATS
	if (!(c = client_new()))
		return IPC_ENOMEM;
	c->ops = &nats_backend;
	rc = c->ops->connect(c, url);
	if (rc == 0) {
		*out = c;
		return 0;
	}
	client_connect_err_set(url, ipc_strerror(rc), c->err);
	ipc_close(c);
#else
	(void)c;
	rc = IPC_ENOTSUP;
	client_connect_err_set(url, ipc_strerror(rc),
			       "libipcclient was built without NATS (configure --with-nats)");
#endif
	return rc;
}

/* Connect and handshake, trying the paths in order, each within
 * timeout_ms; see ipcclient.h. */
IPC_EXPORT int ipc_connect_timeout(const char *path, int timeout_ms,
				   ipc_client **out)
{
	struct client_paths p;
	size_t i;
	int rc = IPC_ECONNECT, next = 1;

	if (!out || timeout_ms < -1)
		return IPC_EINVAL;
	*out = NULL;
	client_connect_err_clear();
	client_paths(path, &p);
	if (p.n == 1 && backend_is_nats(p.path[0]))
		return client_connect_url(p.path[0], out);
	for (i = 0; i < p.n && next; i++) {
		if (p.toolong[i])
			errno = ENAMETOOLONG;
		else
			rc = client_connect_one(p.path[i], timeout_ms, out, &next);
		if (next)
			client_connect_err_add(p.path[i], errno);
	}
	return rc;
}

/* Connect with the default connect timeout; see ipcclient.h. */
IPC_EXPORT int ipc_connect(const char *path, ipc_client **out)
{
	return ipc_connect_timeout(path, IPC_CONNECT_TIMEOUT_DEFAULT, out);
}

/* Set the handle's I/O timeout; see ipcclient.h. */
IPC_EXPORT int ipc_set_io_timeout(ipc_client *c, int ms)
{
	int rc;

	if ((rc = client_check(c)))
		return rc;
	if (ms < -1) {
		client_seterr(c, "invalid I/O timeout %d ms", ms);
		return IPC_EINVAL;
	}
	c->io_timeout_ms = ms;
	return 0;
}

/* Set the handle's check for waits; see ipcclient.h. */
IPC_EXPORT int ipc_set_interrupt(ipc_client *c, int slice_ms, int (*check)(void *arg),
				 void *arg)
{
	int rc;

	if ((rc = client_check(c)))
		return rc;
	if (c->ops)
		return client_notsup(c, "ipc_set_interrupt");
	if (check != NULL && (slice_ms < 1 || slice_ms > 60000)) {
		client_seterr(c, "invalid check interval %d ms", slice_ms);
		return IPC_EINVAL;
	}
	c->check = check;
	c->check_arg = arg;
	c->check_ms = slice_ms;
	return 0;
}

/* Close and free a handle; see ipcclient.h. */
IPC_EXPORT void ipc_close(ipc_client *c)
{
	if (!c)
		return;
	if (c->ops)
		c->ops->close(c);
	if (c->fd >= 0 && !c->broken && !c->ops)
		client_readahead_return(c); /* messages read ahead go back */
	if (c->fd >= 0 && !c->broken)
		client_push(c);   /* async requests still held: the daemon gets them */
	if (c->fd >= 0)
		close(c->fd);
	pbuf_free(&c->tx);
	pbuf_free(&c->rx);
	pbuf_free(&c->aside);
	client_memfd_free(c);
	free(c->pend);
	client_readahead_free(c);
	client_blocks_drop();
	if (c->dec_ready)
		proto_dec_fini(&c->dec);
	free(c);
}

/* The handle's socket; see ipcclient.h. */
IPC_EXPORT int ipc_fd(const ipc_client *c)
{
	if (c && c->ops)
		return c->ops->fd(c);
	return c ? c->fd : -1;
}

/* A call the handle's backend does not support; see client_int.h. */
int client_notsup(struct ipc_client *c, const char *what)
{
	client_seterr(c, "%s: not supported by the %s backend (docs/nats.md)",
		      what, c->ops->name);
	return IPC_ENOTSUP;
}

/* The tail check of client_check_opts() starts at sizeof: structs the
 * library checks that way must end without padding a newer field could
 * sit in. And struct ipc_info only ever grows. */
_Static_assert(sizeof(struct ipc_queue_opts) ==
	       offsetof(struct ipc_queue_opts, dead_letter) + sizeof(char *),
	       "struct ipc_queue_opts ends in padding");
_Static_assert(sizeof(struct ipc_pipe_opts) ==
	       offsetof(struct ipc_pipe_opts, mode) + sizeof(int),
	       "struct ipc_pipe_opts ends in padding");
_Static_assert(sizeof(struct ipc_info) >= CLIENT_INFO_SIZE_0,
	       "struct ipc_info shrank");

/* Check the size of a caller's options struct; see client_int.h. */
int client_check_opts(struct ipc_client *c, const void *opts, size_t size,
		      size_t known)
{
	const unsigned char *p = opts;
	size_t i;

	if (size < sizeof(size_t)) {
		client_seterr(c, "options struct of %zu bytes: set its size "
			      "with the _INIT macro", size);
		return IPC_EINVAL;
	}
	for (i = known; i < size; i++)
		if (p[i] != 0) {
			client_seterr(c, "options unknown to libipcclient %s set "
				      "(byte %zu of %zu)", PACKAGE_VERSION, i, size);
			return IPC_EINVAL;
		}
	return 0;
}

/* Check the dead-lettering options: both or neither, a valid name.
 * 0, IPC_EINVAL or IPC_ENAME. */
static int client_dead_letter_opts(struct ipc_client *c,
				   const struct ipc_queue_opts *o)
{
	if (o->max_deliveries < 0 || o->max_deliveries > UINT32_MAX ||
	    (o->max_deliveries == 0) != (o->dead_letter == NULL)) {
		client_seterr(c, "max_deliveries (1..%lu) and dead_letter go "
			      "together", (unsigned long)UINT32_MAX);
		return IPC_EINVAL;
	}
	return o->dead_letter ? client_check_name(c, o->dead_letter) : 0;
}

/* The caller's queue options in this library's struct: the fields its
 * size covers, defaults for the rest. 0 or IPC_EINVAL. */
static int client_queue_opts(struct ipc_client *c, const struct ipc_queue_opts *in,
			     struct ipc_queue_opts *o)
{
	const struct ipc_queue_opts def = IPC_QUEUE_OPTS_INIT;

	*o = def;
	if (!in)
		return 0;
	if (client_check_opts(c, in, in->size, sizeof(*o)))
		return IPC_EINVAL;
	if (CLIENT_OPT_HAS(in->size, struct ipc_queue_opts, maxsize))
		o->maxsize = in->maxsize;
	if (CLIENT_OPT_HAS(in->size, struct ipc_queue_opts, flags))
		o->flags = in->flags;
	if (CLIENT_OPT_HAS(in->size, struct ipc_queue_opts, mode))
		o->mode = in->mode;
	if (CLIENT_OPT_HAS(in->size, struct ipc_queue_opts, dead_letter)) {
		o->max_deliveries = in->max_deliveries;
		o->dead_letter = in->dead_letter;
	}
	if (o->maxsize < IPC_MAXSIZE_ANY || !CLIENT_MODE_OK(o->mode) ||
	    (o->flags & ~(unsigned)(IPC_QUEUE_CREATE | IPC_QUEUE_EXCL |
				   IPC_QUEUE_DURABLE | IPC_QUEUE_OWNED))) {
		client_seterr(c, "invalid maxsize, flags or mode");
		return IPC_EINVAL;
	}
	return client_dead_letter_opts(c, o);
}

/* One QOPEN request on name with maxsize, flags and o's other settings;
 * *maxsize_out (may be NULL) the queue's. */
static int client_qopen(ipc_client *c, const char *name,
			const struct ipc_queue_opts *o, long long maxsize,
			unsigned flags, long long *maxsize_out)
{
	struct proto_req req = { .op = PROTO_OP_QOPEN, .maxsize = maxsize,
				 .has_mode = o->mode != IPC_MODE_DEFAULT,
				 .mode = o->mode != IPC_MODE_DEFAULT ? (unsigned)o->mode : 0,
				 .max_deliveries = (uint32_t)o->max_deliveries };
	struct proto_rep rep;
	int rc;

	if (o->dead_letter)
		strcpy(req.dead_letter, o->dead_letter);
	if (flags & IPC_QUEUE_CREATE)
		req.flags |= PROTO_OPEN_CREATE;
	if (flags & IPC_QUEUE_EXCL)
		req.flags |= PROTO_OPEN_EXCL;
	if (flags & IPC_QUEUE_DURABLE)
		req.flags |= PROTO_OPEN_DURABLE;
	if (flags & IPC_QUEUE_OWNED)
		req.flags |= PROTO_OPEN_OWNED;
	strcpy(req.name, name);
	rc = client_request(c, &req, &rep);
	if (!rc && maxsize_out)
		*maxsize_out = rep.maxsize;
	return rc;
}

/* Open or create a queue; see ipcclient.h. The daemon creates no queue of
 * maxsize "any", so for CREATE with IPC_MAXSIZE_ANY the library opens an
 * existing queue first and creates an unbounded one when there is none;
 * should another client create it in between, it opens that one. */
IPC_EXPORT int ipc_queue_open(ipc_client *c, const char *name,
			      const struct ipc_queue_opts *opts, long long *maxsize_out)
{
	struct ipc_queue_opts o;
	int rc, tries;

	if ((rc = client_check(c)) || (rc = client_check_name(c, name)) ||
	    (rc = client_queue_opts(c, opts, &o)))
		return rc;
	if (c->ops)
		return CLIENT_BACKEND(c, queue_open, name, &o, maxsize_out);
	if (o.maxsize != IPC_MAXSIZE_ANY || !(o.flags & IPC_QUEUE_CREATE))
		return client_qopen(c, name, &o, o.maxsize, o.flags, maxsize_out);
	if (o.flags & IPC_QUEUE_EXCL)
		return client_qopen(c, name, &o, 0, o.flags, maxsize_out);
	for (tries = 0; tries < 2; tries++) {
		rc = client_qopen(c, name, &o, IPC_MAXSIZE_ANY, o.flags &
				  (IPC_QUEUE_DURABLE | IPC_QUEUE_OWNED), maxsize_out);
		if (rc != IPC_ENOENT)
			return rc;
		rc = client_qopen(c, name, &o, 0, o.flags | IPC_QUEUE_EXCL,
				  maxsize_out);
		if (rc != IPC_EEXIST)
			return rc;
	}
	return rc;
}

/* Check a message to send and point req at it: 0, IPC_ETOOBIG or
 * IPC_EINVAL (NULL data with a length). */
int client_check_payload(struct ipc_client *c, const void *data, size_t len,
			 struct proto_req *req)
{
	if (len > client_payload_max(c, len)) {
		client_seterr(c, "message of %zu bytes over the limit of %zu",
			      len, client_payload_max(c, len));
		return IPC_ETOOBIG;
	}
	if (!data && len) {
		client_seterr(c, "no data");
		return IPC_EINVAL;
	}
	req->data = data ? data : (const unsigned char *)"";
	req->data_len = len;
	return 0;
}

/* Check a request naming an object and copy its name in. */
int client_prep(struct ipc_client *c, const char *name, struct proto_req *req,
		unsigned flags)
{
	int rc;

	if ((rc = client_check(c)) || (rc = client_check_name(c, name)))
		return rc;
	if ((flags & CLIENT_PREP_TIMEOUT) &&
	    (rc = client_check_timeout(c, (int)req->timeout_ms)))
		return rc;
	if ((flags & CLIENT_PREP_END) && (rc = client_check_end(c, (int)req->end)))
		return rc;
	if ((flags & CLIENT_PREP_DATA) &&
	    (rc = client_check_payload(c, req->data, req->data_len, req)))
		return rc;
	strcpy(req->name, name);
	return 0;
}

/* Hand n bytes of a message to the caller as a malloc'd copy (never NULL).
 * Out of memory breaks the handle: the message already left the daemon
 * (for a get with ack, closing the connection makes it come back). */
int client_copy_out(struct ipc_client *c, const void *p, size_t n, void **data,
		    size_t *len)
{
	void *copy = n >= CLIENT_HOLE_MIN ? client_block_new(n) : malloc(n ? n : 1);

	if (!copy) {
		client_seterr(c, "out of memory for a %zu-byte message", n);
		return client_fail(c, IPC_ENOMEM);
	}
	if (n)
		memcpy(copy, p, n);
	*data = copy;
	*len = n;
	return 0;
}

/* Check where a got message goes: 0, or IPC_EINVAL. */
int client_check_place(struct ipc_client *c, void **data, size_t *len)
{
	if (data && len)
		return 0;
	client_seterr(c, "no place for the message");
	return IPC_EINVAL;
}

/* Check a pipe end number: 0, or IPC_EINVAL. */
int client_check_end(struct ipc_client *c, int end)
{
	if (end == 0 || end == 1)
		return 0;
	client_seterr(c, "invalid pipe end %d: 0 or 1", end);
	return IPC_EINVAL;
}

/* A round trip whose reply carries one message, handed to the caller. */
int client_request_payload(struct ipc_client *c, struct proto_req *req,
			   struct proto_rep *rep, void **data, size_t *len)
{
	int rc = client_request(c, req, rep);

	return rc ? rc : client_copy_out(c, rep->data, rep->data_len, data, len);
}

/* Put one message; see ipcclient.h. */
IPC_EXPORT int ipc_queue_put(ipc_client *c, const char *name, const void *data,
			     size_t len, int timeout_ms)
{
	struct proto_req req = { .op = PROTO_OP_QPUT, .data = data,
				 .data_len = len, .timeout_ms = timeout_ms };
	struct proto_rep rep;
	int rc;

	if ((rc = client_prep(c, name, &req, CLIENT_PREP_TIMEOUT | CLIENT_PREP_DATA)))
		return rc;
	if (c->ops)
		return CLIENT_BACKEND(c, put, name, data, len, timeout_ms);
	return client_request(c, &req, &rep);
}

/* Get one message; see ipcclient.h. */
IPC_EXPORT int ipc_queue_get(ipc_client *c, const char *name, void **data,
			     size_t *len, int timeout_ms)
{
	struct proto_req req = { .op = PROTO_OP_QGET, .timeout_ms = timeout_ms };
	struct proto_rep rep;
	int rc;

	if ((rc = client_prep(c, name, &req, CLIENT_PREP_TIMEOUT)) ||
	    (rc = client_check_place(c, data, len)))
		return rc;
	if (c->ops)
		return CLIENT_BACKEND(c, get, name, data, len, timeout_ms);
	if (c->readahead &&
	    (rc = client_readahead_get(c, name, data, len, timeout_ms)) != CLIENT_NO_READAHEAD)
		return rc;
	return client_request_payload(c, &req, &rep, data, len);
}

/* The fields of struct ipc_info that take the wire's value as it is
 * (kind, durable and duplex narrow from uint32_t to int); the names are
 * copied apart. */
#define CLIENT_INFO_FIELDS(X) \
	X(kind) X(maxsize) X(size) X(bytes) X(getters) X(putters) X(puts) \
	X(gets) X(inflight) X(requeued) X(uid) X(gid) X(mode) X(durable) \
	X(journal_bytes) X(journal_live) X(max_deliveries) X(dead_lettered) \
	X(dead_letter_failed) X(memory) X(duplex) X(ends) X(maxbytes) X(reserved)
/* Those of each direction of a pipe, dir[0] and dir[1]. */
#define CLIENT_INFO_DIR_FIELDS(X) X(size) X(bytes) X(getters) X(putters)

/* Copy a wire info into the public struct. */
static void client_info_copy(struct ipc_info *dst, const struct proto_info *src)
{
	memset(dst, 0, sizeof(*dst));
	snprintf(dst->name, sizeof(dst->name), "%s", src->name);
	snprintf(dst->dead_letter, sizeof(dst->dead_letter), "%s", src->dead_letter);
#define CLIENT_INFO_COPY(f) dst->f = src->f;
	CLIENT_INFO_FIELDS(CLIENT_INFO_COPY)
#undef CLIENT_INFO_COPY
	for (int i = 0; i < 2; i++) {
#define CLIENT_INFO_COPY(f) dst->dir[i].f = src->dir[i].f;
		CLIENT_INFO_DIR_FIELDS(CLIENT_INFO_COPY)
#undef CLIENT_INFO_COPY
	}
}

/* Check where an info goes: the caller's sizeof(struct ipc_info) must
 * hold at least the first version's fields. 0 or IPC_EINVAL. */
static int client_check_info(struct ipc_client *c, const void *where, size_t size)
{
	if (!where) {
		client_seterr(c, "no place for the info");
		return IPC_EINVAL;
	}
	if (size < CLIENT_INFO_SIZE_0) {
		client_seterr(c, "struct ipc_info of %zu bytes, at least %zu expected",
			      size, (size_t)CLIENT_INFO_SIZE_0);
		return IPC_EINVAL;
	}
	return 0;
}

/* Copy an info into the caller's struct ipc_info of size bytes: the
 * fields both know, zero past them. */
void client_info_out(void *dst, size_t size, const struct ipc_info *info)
{
	if (size <= sizeof(*info)) {
		memcpy(dst, info, size);
		return;
	}
	memcpy(dst, info, sizeof(*info));
	memset((char *)dst + sizeof(*info), 0, size - sizeof(*info));
}

/* client_info_out() of a wire info. */
static void client_info_wire_out(void *dst, size_t size, const struct proto_info *src)
{
	struct ipc_info info;

	client_info_copy(&info, src);
	client_info_out(dst, size, &info);
}

/* ipc_stat() by the handle's backend. */
static int client_backend_stat(struct ipc_client *c, const char *name,
			       struct ipc_info *info, size_t size)
{
	struct ipc_info all;
	int rc = CLIENT_BACKEND(c, stat, name, &all);

	if (rc == 0)
		client_info_out(info, size, &all);
	return rc;
}

/* ipc_list() by the handle's backend: its infos at the caller's size. */
static int client_backend_list(struct ipc_client *c, struct ipc_info **infos,
			       size_t *n, size_t size)
{
	struct ipc_info *all = NULL;
	unsigned char *arr = NULL;
	size_t i, k = 0;
	int rc = CLIENT_BACKEND(c, list, &all, &k);

	if (rc == 0 && k > 0 && !(arr = calloc(k, size))) {
		client_seterr(c, "out of memory for %zu entries", k);
		rc = client_fail(c, IPC_ENOMEM);
	}
	for (i = 0; rc == 0 && i < k; i++)
		client_info_out(arr + i * size, size, &all[i]);
	free(all);
	if (rc == 0) {
		*infos = (struct ipc_info *)(void *)arr;
		*n = k;
	}
	return rc;
}

/* Describe one queue or pipe; see ipcclient.h. */
IPC_EXPORT int ipc_stat(ipc_client *c, const char *name, struct ipc_info *info,
			size_t size)
{
	struct proto_req req = { .op = PROTO_OP_STAT };
	struct proto_rep rep;
	int rc;

	if ((rc = client_prep(c, name, &req, 0)) ||
	    (rc = client_check_info(c, info, size)))
		return rc;
	if (c->ops)
		return client_backend_stat(c, name, info, size);
	rc = client_request(c, &req, &rep);
	if (rc)
		return rc;
	if (rep.ninfos != 1 || !rep.infos) {
		client_seterr(c, "stat reply without one info");
		return client_fail(c, IPC_EPROTO);
	}
	client_info_wire_out(info, size, &rep.infos[0]);
	return 0;
}

/* Delete a queue or a pipe; see ipcclient.h. */
IPC_EXPORT int ipc_delete(ipc_client *c, const char *name)
{
	struct proto_req req = { .op = PROTO_OP_QDEL };
	struct proto_rep rep;
	int rc = client_prep(c, name, &req, 0);

	if (rc)
		return rc;
	if (c->ops)
		return CLIENT_BACKEND(c, del, name);
	return client_request(c, &req, &rep);
}

/* A listing past IPC_LIST_MAX entries: IPC_ELIMIT, saying why. */
static int client_list_over(ipc_client *c)
{
	client_seterr(c, "more than %d queues and pipes to list (IPC_LIST_MAX): "
		      "list them page by page (ipc_list_page)", IPC_LIST_MAX);
	return IPC_ELIMIT;
}

/* Append one LIST page (rep) to *arr (*n entries of size bytes), moving
 * the cursor to its last name: 0, IPC_ELIMIT (past IPC_LIST_MAX entries,
 * the handle still usable), IPC_ENOMEM or IPC_EPROTO (a page that does
 * not move forward, which would loop). */
static int client_list_page(ipc_client *c, const struct proto_rep *rep,
			    unsigned char **arr, size_t *n, size_t size, char *cursor)
{
	unsigned char *grown;
	size_t i;

	if ((rep->ninfos == 0 && rep->more) ||
	    (rep->ninfos > 0 && strcmp(rep->infos[rep->ninfos - 1].name, cursor) <= 0)) {
		client_seterr(c, "a LIST page did not move past '%s'", cursor);
		return IPC_EPROTO;
	}
	if (rep->ninfos == 0)
		return 0;
	if (*n + rep->ninfos > IPC_LIST_MAX)
		return client_list_over(c);
	grown = realloc(*arr, (*n + rep->ninfos) * size);
	if (!grown) {
		client_seterr(c, "out of memory for %zu entries", *n + rep->ninfos);
		return IPC_ENOMEM;
	}
	*arr = grown;
	for (i = 0; i < rep->ninfos; i++)
		client_info_wire_out(grown + (*n + i) * size, size, &rep->infos[i]);
	*n += rep->ninfos;
	strcpy(cursor, rep->infos[rep->ninfos - 1].name);
	return 0;
}

/* Check ipc_list's and ipc_list_page's output arguments: 0 or IPC_EINVAL. */
static int client_check_list(ipc_client *c, struct ipc_info **infos,
			     size_t *n, size_t size)
{
	int rc = client_check(c);

	if (rc)
		return rc;
	if (!infos || !n) {
		client_seterr(c, "no place for the list");
		return IPC_EINVAL;
	}
	return client_check_info(c, infos, size);
}

/* Ask for the LIST page after req->name and append it to *arr (*got
 * entries): 0 with *more set, or the failure (fatal ones recorded). */
static int client_list_next(ipc_client *c, struct proto_req *req,
			    unsigned char **arr, size_t *got, size_t size, int *more)
{
	struct proto_rep rep;
	int rc = client_request(c, req, &rep);

	if (rc)
		return rc;
	rc = client_list_page(c, &rep, arr, got, size, req->name);
	if (rc < 0)
		return client_fail(c, rc);
	*more = rc == 0 && rep.more;
	return rc;
}

_Static_assert(IPC_LIST_PAGE == PROTO_LIST_PAGE, "a LIST page is what ipc_list_page returns");

/* List every queue and pipe, page by page (LIST with a cursor), at most
 * IPC_LIST_MAX of them; see ipcclient.h. */
IPC_EXPORT int ipc_list(ipc_client *c, struct ipc_info **infos, size_t *n,
			size_t size)
{
	struct proto_req req = { .op = PROTO_OP_LIST };
	unsigned char *arr = NULL;
	size_t got = 0;
	int rc, more = 1;

	if ((rc = client_check_list(c, infos, n, size)))
		return rc;
	if (c->ops && (rc = client_backend_list(c, infos, n, size)) == 0 &&
	    *n > IPC_LIST_MAX) {
		ipc_free(*infos);
		return client_list_over(c);
	}
	if (c->ops)
		return rc;
	while (rc == 0 && more)
		rc = client_list_next(c, &req, &arr, &got, size, &more);
	if (rc) {
		free(arr);
		return rc;
	}
	*infos = (struct ipc_info *)(void *)arr;
	*n = got;
	return 0;
}

/* The entries of a backend's whole list (k of size bytes at all) named
 * after `after`, at most IPC_LIST_PAGE, into a new array. */
static int client_backend_slice(ipc_client *c, unsigned char *all, size_t k,
				size_t size, const char *after,
				struct ipc_info **infos, size_t *n, int *more)
{
	size_t i = 0, m;

	while (i < k && strcmp(((struct ipc_info *)(void *)(all + i * size))->name,
			       after) <= 0)
		i++;
	m = k - i < IPC_LIST_PAGE ? k - i : IPC_LIST_PAGE;
	*more = i + m < k;
	*n = m;
	*infos = NULL;
	if (m == 0)
		return 0;
	if ((*infos = malloc(m * size)) == NULL) {
		client_seterr(c, "out of memory for %zu entries", m);
		return IPC_ENOMEM;
	}
	memcpy(*infos, all + i * size, m * size);
	return 0;
}

/* One page of the list: the queues and pipes named after `after`; see
 * ipcclient.h. */
IPC_EXPORT int ipc_list_page(ipc_client *c, const char *after,
			     struct ipc_info **infos, size_t *n, size_t size,
			     int *more)
{
	struct proto_req req = { .op = PROTO_OP_LIST };
	struct ipc_info *all = NULL;
	unsigned char *arr = NULL;
	size_t got = 0, k = 0;
	int rc;

	if ((rc = client_check_list(c, infos, n, size)))
		return rc;
	if (!more) {
		client_seterr(c, "no place for more");
		return IPC_EINVAL;
	}
	if (after && *after && (rc = client_check_name(c, after)))
		return rc;
	if (after)
		strcpy(req.name, after);
	if (c->ops) {
		if ((rc = client_backend_list(c, &all, &k, size)) == 0)
			rc = client_backend_slice(c, (unsigned char *)all, k, size,
						  req.name, infos, n, more);
		free(all);
		return rc;
	}
	if ((rc = client_list_next(c, &req, &arr, &got, size, more))) {
		free(arr);
		return rc;
	}
	*infos = (struct ipc_info *)(void *)arr;
	*n = got;
	return 0;
}

/* The daemon's message limit; see ipcclient.h. */
IPC_EXPORT size_t ipc_msg_max(const ipc_client *c)
{
	return c ? c->msg_max : 0;
}

/* The last failure's text; see ipcclient.h. */
IPC_EXPORT const char *ipc_last_error(const ipc_client *c)
{
	if (!c)
		return client_connect_err() ? client_connect_err() : "no connection";
	return c->err;
}

/* The library's version; see ipcclient.h. */
IPC_EXPORT const char *ipc_version(void)
{
	return PACKAGE_VERSION;
}

/* Text for a result code; see ipcclient.h. */
IPC_EXPORT const char *ipc_strerror(int code)
{
	return proto_strerror(code);
}
