/* SPDX-License-Identifier: MIT */
/*
 * conn.c: one client connection on a non-blocking Unix socket.
 *
 * Reading: each readable event reads as much as one call gives into a
 * shared buffer and serves the whole frames in place, at most
 * CONN_TURN_FRAMES of them per loop iteration (a turn); only a partial
 * frame (or, while paused, the frames not yet served) is copied into the
 * connection's own buffer, so an idle connection holds no buffer at all.
 * That buffer grows with the bytes that arrive, not with the length a
 * frame announces; all of them together stay under max-partial-bytes,
 * and a frame must arrive whole within frame-timeout seconds. A large
 * frame (CONN_TAKE_MIN) is read into a buffer of its own size and no
 * further, so that a put's message can take the buffer over instead of
 * copying its payload (conn_take_frame).
 * Writing: replies are encoded straight into the connection's output
 * buffer and written once per loop iteration by conn_flush_all(), every
 * reply of the iteration in one write; a write event is armed only when
 * the socket does not take everything.
 */
#include <assert.h>
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <sys/uio.h>
#include <unistd.h>
#include <event2/event.h>

#include "access.h"
#include "conn.h"
#include "durable.h"
#include "dispatch.h"
#include "lease.h"
#include "resv.h"
#include "ipc_defs.h"
#include "log.h"
#include "memfd.h"
#include "park.h"
#include "policy.h"
#include "proto.h"
#include "qmsg.h"
#include "queue.h"
#include "quota.h"
#include "server.h"
#include "sock.h"

/* How long a closing connection may take to read its last replies. */
#define CONN_LINGER_SEC 5
/* How long a connection over max-connections may take to say HELLO. */
#define CONN_REFUSE_SEC 2
/* The most supplementary groups recorded for a peer (NGROUPS_MAX). */
#define CONN_GROUPS_MAX 65536
/* The shared read buffer: what one read() may bring in. */
#define CONN_READ_MAX (256u << 10)
/* A connection's own buffers are freed when emptied above this size, so
 * one large message leaves no large buffer behind. */
#define CONN_KEEP_MAX (64u << 10)
/* Payloads of at least this size are written from their message, not
 * copied into the output buffer (conn_reply_own). */
#define CONN_HOLE_MIN (16u << 10)
/* Frames from this size up are read alone into c->in, whose buffer a
 * QPUT's or PSEND's message takes over. */
#define CONN_TAKE_MIN CONN_HOLE_MIN
/* The least a partial frame's buffer grows by. */
#define CONN_IN_GROW_MIN 4096u
/* The most iovecs one write gathers. */
#define CONN_IOV_MAX 64
/* Requests one connection may have served per loop iteration: with more
 * waiting it comes back in the next iteration, after every other
 * connection had its turn (round robin), so a flooding client gets its
 * share and no more. */
#define CONN_TURN_FRAMES 64
/* Bytes one connection may read per loop iteration (a large request
 * arrives in several reads). */
#define CONN_TURN_BYTES (1u << 20)
/* What a connection whose last turn did not run out reads at once: the
 * requests past its turn's in there are kept in its buffer (counted in
 * max-partial-bytes) until its next turn, so this bounds what a
 * connection keeps so: max-connections x 16 KiB in all at worst. */
#define CONN_COLD_READ (16u << 10)

/* Where every connection reads (one thread: served before the next read). */
static unsigned char conn_rbuf[CONN_READ_MAX];
/* Fault injection (conn_fail_replies_from): replies carrying messages
 * left before every one fails to encode, or 0. */
static unsigned long conn_fail_in;

static void conn_serve_kept(struct conn *c);
static void conn_on_flush(evutil_socket_t fd, short what, void *arg);

/* Free the struct once the callback that closed it has returned. */
static void conn_free_deferred(evutil_socket_t fd, short what, void *arg)
{
	struct conn *c = arg;

	(void)fd;
	(void)what;
	pbuf_free(&c->in);
	pbuf_free(&c->out);
	while (c->holes_done < c->nholes)
		qmsg_free(c->hole_msgs[c->holes_done++]);
	free(c->holes);
	free(c->hole_msgs);
	memfd_conn_free(c);
	lease_page_free(c);
	free(c->groups);
	free(c);
}

/* Link p into c's parked requests, counting it (as p->weight) for c,
 * its uid and the daemon. */
void conn_park_add(struct conn *c, struct park *p)
{
	ilist_link_tail(&c->parks, &p->link);
	c->nparks += p->weight;
	c->srv->stats.parked += p->weight;
	quota_charge(c->user, QUOTA_PARKS, p->weight);
}

/* Unlink p from its connection's parked requests. */
void conn_park_del(struct park *p)
{
	struct conn *c = p->conn;

	ilist_unlink(&p->link);
	c->nparks -= p->weight;
	c->srv->stats.parked -= p->weight;
	quota_uncharge(c->user, QUOTA_PARKS, p->weight);
}

/* Cancel every request c has parked: nothing is consumed or enqueued. */
static void conn_cancel_parks(struct conn *c)
{
	struct park *p;

	while ((p = ilist_first_entry(&c->parks, struct park, link)) != NULL ||
	       (p = ilist_first_entry(&c->stalled_parks, struct park, link)) != NULL)
		park_cancel(p);
}

/* Stop counting c's output against max-bytes (written, or closed). */
static void conn_out_uncharge(struct conn *c)
{
	c->srv->broker.shell_bytes -= c->out_charged;
	c->out_charged = 0;
}

/* Drop c from the server's list of connections with output to write. */
static void conn_undirty(struct conn *c)
{
	ilist_unlink(&c->dirty);
}

/* Watch c's socket for requests (once: re-adding an added event costs
 * libevent a hundred instructions per turn). */
static void conn_rev_on(struct conn *c)
{
	if (!c->rev_on)
		event_add(&c->rev, NULL);
	c->rev_on = 1;
}

/* Stop watching c's socket for requests. */
static void conn_rev_off(struct conn *c)
{
	if (c->rev_on)
		event_del(&c->rev);
	c->rev_on = 0;
}

/* Watch c's socket for room to write (on) or not. */
static void conn_wev_set(struct conn *c, int on)
{
	if (on && !c->wev_on)
		event_add(&c->wev, NULL);
	else if (!on && c->wev_on)
		event_del(&c->wev);
	c->wev_on = on;
}

/* Stop every event of c and close its socket. */
static void conn_io_close(struct conn *c)
{
	conn_rev_off(c);
	conn_wev_set(c, 0);
	event_del(&c->turn);
	if (c->deadline != NULL)
		event_free(c->deadline);
	c->deadline = NULL;
	if (c->frame_ev != NULL)
		event_free(c->frame_ev);
	c->frame_ev = NULL;
	conn_undirty(c);
	close(c->fd);
	c->fd = -1;
	memfd_conn_free(c);
}

/* Give back all c holds in the broker, before it closes or drains: its
 * parked requests are cancelled, the messages it has in flight go back
 * to their queues, its pipe ends close (each peer reads what was sent,
 * then EOF). Idempotent: a drained connection that closes has nothing
 * left to release. */
static void conn_release(struct conn *c)
{
	conn_cancel_parks(c);
	/* After the parks: a message given back must not go to a getter of
	 * this very connection. */
	lease_release_all(c);
	op_pipe_release(c);
	resv_release_all(c);
}

/* Close now; the struct is freed out of the current callback. */
void conn_close(struct conn *c)
{
	if (c->state == CONN_DEAD)
		return;
	log_debug("conn %lu: closed", c->id);
	conn_release(c);
	c->state = CONN_DEAD;
	/* The buffer itself goes once the callback that may read it is over. */
	c->srv->in_bytes -= c->in_charged;
	c->in_charged = 0;
	conn_out_uncharge(c);
	conn_io_close(c);
	/* Messages it put stay charged to its uid until they are freed. */
	quota_uncharge(c->user, QUOTA_CONNS, 1);
	c->user = NULL;
	server_conn_gone(c->srv, c);
	event_base_once(c->srv->base, -1, EV_TIMEOUT, conn_free_deferred, c, NULL);
}

/* Note that c has output to write at the end of this loop iteration: the
 * flush event (made with the first connection) is made active behind the
 * callbacks already due, so it runs once they all have, whoever drives
 * the loop. Connections are written in the order they got output: a
 * getter woken by a put hears before the putter. */
static void conn_mark_dirty(struct conn *c)
{
	struct server *s = c->srv;

	if (ilist_linked(&c->dirty))
		return;
	if (ilist_empty(&s->dirty))
		event_active(s->flush_ev, EV_TIMEOUT, 0);
	ilist_link_tail(&s->dirty, &c->dirty);
}

/* Bytes of replies not yet written. */
static size_t conn_out_pending(const struct conn *c)
{
	return c->out_total - c->out_sent;
}

/* Room for n more holes: 0 or IPC_ENOMEM. */
static int conn_holes_reserve(struct conn *c, size_t n)
{
	size_t cap = c->holes_cap ? c->holes_cap : 16;
	struct proto_hole *h;
	struct qmsg **m;

	if (c->nholes + n <= c->holes_cap)
		return 0;
	while (cap < c->nholes + n)
		cap *= 2;
	h = realloc(c->holes, cap * sizeof(*h));
	if (h != NULL)
		c->holes = h;
	m = realloc(c->hole_msgs, cap * sizeof(*m));
	if (m != NULL)
		c->hole_msgs = m;
	if (h == NULL || m == NULL)
		return IPC_ENOMEM;
	c->holes_cap = cap;
	return 0;
}

/* Log a request that failed: refusals an operator should see (denied,
 * over a limit, invalid) and fatal outcomes at warning, ordinary ones
 * (Empty, Full, no such queue, ...) at debug. */
static void conn_log_status(const struct conn *c, const struct proto_rep *r)
{
	int warn = r->status < 0 || r->status == IPC_EPERM ||
		   r->status == IPC_ELIMIT || r->status == IPC_ETOOBIG ||
		   r->status == IPC_EINVAL || r->status == IPC_ENAME;

	/* A refused handshake was logged when the connection came. */
	if (c->refused)
		warn = 0;
	const char *text = r->detail ? r->detail : proto_strerror(r->status);
	int len = r->detail && r->detail_len ? (int)r->detail_len : (int)strlen(text);

	log_msg(warn ? LOG_WARN : LOG_DEBUG, "conn %lu (pid %ld uid %ld): "
		"%s%s%srequest %u: %.*s", c->id, (long)c->pid, (long)c->uid,
		r->op ? "op " : "", r->op ? proto_op_name(r->op) : "",
		r->op ? " " : "", r->id, len, text);
}

/* Undo memfd_rep after a failed encode: the messages it queued as
 * descriptors since fdo go back to the slots of msgs it emptied, in
 * order, the caller's again. */
static void conn_memfd_undo(struct conn *c, struct qmsg **msgs, size_t n,
			    size_t fdo)
{
	size_t i, k = fdo;

	for (i = 0; i < n && k < c->nfd_out; i++)
		if (msgs[i] == NULL)
			msgs[i] = c->fd_out[k++];
	c->nfd_out = fdo;
}

/* Make every reply carrying messages fail to encode from the nth on. */
void conn_fail_replies_from(unsigned long n)
{
	conn_fail_in = n;
}

/* Encode r into the output buffer, leaving payloads of msgs[0..n) of at
 * least CONN_HOLE_MIN bytes out (sent from the messages, which are kept
 * for it; the others are freed). 0, or the encoder's error: then msgs are
 * left as they were, the caller's. */
static int conn_encode(struct conn *c, const struct proto_rep *r,
		       struct qmsg **msgs, size_t n)
{
	size_t before = c->out.len, nh = 0, i, j = 0, holes = 0, fdo = c->nfd_out;
	struct proto_rep mr;
	int rc = 0;

	if (n > 0 && conn_fail_in > 0 && --conn_fail_in == 0) {
		conn_fail_in = 1; /* and every one after */
		return IPC_ENOMEM;
	}
	/* Memfd messages to a MEMFD peer go as markers (msgs[j] NULL). */
	r = memfd_rep(c, r, msgs, n, &mr);
	if (n > 0 && conn_holes_reserve(c, n) == 0)
		rc = proto_enc_rep_holes(&c->out, r, CONN_HOLE_MIN, c->holes + c->nholes,
					 n, &nh);
	else
		rc = proto_enc_rep(&c->out, r);
	if (rc != 0) {
		conn_memfd_undo(c, msgs, n, fdo);
		return rc;
	}
	/* Holes come in frame order, as the messages do. */
	for (i = 0; rc == 0 && i < nh; i++, j++) {
		while (j < n && (msgs[j] == NULL ||
				 qmsg_bytes(msgs[j]) != c->holes[c->nholes + i].base))
			qmsg_free(msgs[j++]);
		assert(j < n); /* every payload left out is one of msgs */
		c->hole_msgs[c->nholes + i] = msgs[j];
		holes += msgs[j]->len;
	}
	for (; j < n; j++)
		qmsg_free(msgs[j]);
	/* Messages copied into the buffer still take their bytes (against
	 * max-bytes) until written; the ones left out are still counted. */
	if (n > 0) {
		c->out_charged += c->out.len - before;
		c->srv->broker.shell_bytes += c->out.len - before;
	}
	c->nholes += nh;
	c->out_total += c->out.len - before + holes;
	return 0;
}

/* Bytes of replies not yet written past max-output: its parked gets and
 * receives are set aside (their messages stay queued for other
 * consumers, or in the pipe) until the output drains below it
 * (conn_unstall). */
static void conn_stall_if_full(struct conn *c)
{
	struct ilist *n, *next, *at;

	if (c->stalled || conn_out_pending(c) <= c->srv->cfg.max_output)
		return;
	log_debug("conn %lu: %zu bytes of replies unread; its parked gets "
		  "wait", c->id, conn_out_pending(c));
	c->stalled = 1;
	/* Stalled again before conn_unstall went through them all: the
	 * ones it resumed are older than the ones left, and go first. */
	at = ilist_first(&c->stalled_parks);
	if (at == NULL)
		at = &c->stalled_parks;
	for (n = ilist_first(&c->parks); n != NULL; n = next) {
		next = ilist_next(&c->parks, n);
		if (park_stall(container_of(n, struct park, link))) {
			ilist_unlink(n);
			ilist_link_before(at, n);
		}
	}
}

/* c's output drained below max-output: its stalled gets and receives
 * are served again, oldest first, until its output passes the bound
 * again. */
static void conn_unstall(struct conn *c)
{
	struct park *p;

	if (!c->stalled || c->state == CONN_DEAD ||
	    conn_out_pending(c) > c->srv->cfg.max_output)
		return;
	c->stalled = 0;
	/* One at a time from the head: a wake may free any park of c. */
	while (!c->stalled && c->state != CONN_DEAD &&
	       (p = ilist_first_entry(&c->stalled_parks, struct park, link))) {
		ilist_unlink(&p->link);
		ilist_link_tail(&c->parks, &p->link);
		park_resume(p);
	}
}

/* Encode and queue a reply owning msgs[0..n): 0, or -1 when it was not
 * (c closed, now or before, or answered IPC_ETOOBIG instead), msgs still
 * the caller's. */
static int conn_reply_msgs(struct conn *c, const struct proto_rep *r,
			   struct qmsg **msgs, size_t n)
{
	int rc;

	if (c->state == CONN_DEAD)
		return -1;
	if (r->status != 0)
		conn_log_status(c, r);
	if (r->status >= 0 && r->status < SERVER_STATUS_MAX)
		c->srv->stats.status[r->status]++;
	else if (r->status < 0)
		c->srv->stats.fatal++;
	rc = conn_encode(c, r, msgs, n);
	if (rc == IPC_EINVAL && r->status == 0 && n > 0) {
		/* Only a memfd message sent inline (to a client without
		 * MEMFD, in a hand-over) can be too large for a frame: c
		 * stays, the messages go back to the caller (a queue's to
		 * its head, conn_reply_take). */
		log_warn("conn %lu: a message too large for a frame to a client "
			 "without memfd", c->id);
		conn_reply_error(c, r->op, r->id, IPC_ETOOBIG, "message too large "
				 "for a client without memfd");
		return -1;
	}
	if (rc != 0) {
		log_warn("conn %lu: cannot encode reply to %s request %u: %s",
			 c->id, proto_op_name(r->op), r->id, proto_strerror(rc));
		conn_close(c);
		return -1;
	}
	conn_stall_if_full(c);
	conn_mark_dirty(c);
	/* A negative status is fatal (PROTOCOL.md): once it is sent, the
	 * connection closes, whichever request it answers. */
	if (r->status < 0)
		conn_drain(c);
	return 0;
}

/* Encode and queue a reply owning msgs[0..n) (see conn.h); those it
 * could not send are freed (a pipe's: its end closes with c anyway). */
void conn_reply_own(struct conn *c, const struct proto_rep *r,
		    struct qmsg **msgs, size_t n)
{
	size_t i;

	if (conn_reply_msgs(c, r, msgs, n) != 0)
		for (i = 0; i < n; i++)
			qmsg_free(msgs[i]);
}

/* Put msgs[0..n), taken from q for a reply that was not sent, back at
 * its head in order. A durable queue journaled them as got: they are
 * journaled again (after a restart they come back at its tail). */
static void conn_give_back(struct conn *c, struct queue *q, struct qmsg **msgs,
			   size_t n)
{
	size_t i;

	for (i = 0; i < n; i++)
		if (durable_put(c->srv, q, msgs[i]) != 0)
			log_warn("journal: no room to record a message given back "
				 "to '%s': lost after a restart", queue_name(q));
	log_warn("%zu message(s) given back to the head of '%s'", n, queue_name(q));
	queue_unget(q, msgs, n);
}

/* Encode and queue a reply owning msgs[0..n) taken from q (see conn.h). */
void conn_reply_take(struct conn *c, const struct proto_rep *r,
		     struct queue *q, struct qmsg **msgs, size_t n)
{
	if (conn_reply_msgs(c, r, msgs, n) != 0 && n > 0)
		conn_give_back(c, q, msgs, n);
}

/* Queue a reply for sending: encoded straight into the output buffer. */
void conn_reply(struct conn *c, const struct proto_rep *r)
{
	conn_reply_own(c, r, NULL, 0);
}

/* Queue a status-only reply to request (op, id). */
void conn_reply_status(struct conn *c, uint32_t op, uint32_t id, int status)
{
	struct proto_rep rep = { .op = op, .id = id, .status = status };

	conn_reply(c, &rep);
}

/* Time is up for a closing or refused connection. */
static void conn_on_deadline(evutil_socket_t fd, short what, void *arg)
{
	struct conn *c = arg;

	(void)fd;
	(void)what;
	log_debug("conn %lu: timed out", c->id);
	conn_close(c);
}

/* Close c in sec seconds unless it is gone by then. */
static void conn_set_deadline(struct conn *c, int sec)
{
	struct timeval tv = { sec, 0 };

	if (c->deadline == NULL)
		c->deadline = evtimer_new(c->srv->base, conn_on_deadline, c);
	if (c->deadline != NULL)
		evtimer_add(c->deadline, &tv);
}

/* Queue a failure reply with a detail text. */
void conn_reply_error(struct conn *c, uint32_t op, uint32_t id, int status,
		      const char *fmt, ...)
{
	struct proto_rep rep = { .op = op, .id = id, .status = status };
	char detail[PROTO_DETAIL_MAX + 1];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(detail, sizeof(detail), fmt, ap);
	va_end(ap);
	rep.detail = detail;
	conn_reply(c, &rep);
}

/* Stop reading and close once the pending replies are flushed. */
void conn_drain(struct conn *c)
{
	if (c->state == CONN_DEAD || c->state == CONN_CLOSING)
		return;
	/* A closing connection reads no more requests (acks, closes): what
	 * it holds goes back now. */
	conn_release(c);
	c->state = CONN_CLOSING;
	conn_rev_off(c);
	if (conn_out_pending(c) == 0 || c->peer_gone) {
		conn_close(c);
		return;
	}
	/* A peer that never reads cannot hold us: closed when time is up. */
	conn_set_deadline(c, CONN_LINGER_SEC);
}

/* Reply status to id, then close once flushed (conn_reply logs it). */
void conn_fail(struct conn *c, uint32_t id, int status, const char *detail)
{
	struct proto_rep rep = { .id = id, .status = status, .detail = detail,
				 .detail_len = detail ? strlen(detail) : 0 };

	conn_reply(c, &rep);
	conn_drain(c);
}

/* Stop reading from a peer that leaves more than max-output bytes of
 * replies unread: it cannot make the daemon buffer more for it. Reading
 * resumes once its output has drained (conn_writecb). 1 when paused. */
static int conn_pause_if_full(struct conn *c)
{
	size_t out = conn_out_pending(c);

	if (out <= c->srv->cfg.max_output || c->peer_gone)
		return 0;
	if (!c->paused) {
		log_debug("conn %lu: %zu bytes of replies unread; not reading "
			  "until they drain", c->id, out);
		c->paused = 1;
		conn_rev_off(c);
	}
	return 1;
}

/* The whole frame at the head of p[0..n): its length, 0 when incomplete,
 * or -1 after failing the connection for a bad length. */
static long conn_frame(struct conn *c, const unsigned char *p, size_t n)
{
	long flen = proto_frame_peek(p, n, PROTO_FRAME_MAX);
	uint32_t id = 0;

	if (flen >= 0)
		return flen;
	/* Answered under the request's id when its head is there to read. */
	if (proto_req_peek_id(p + PROTO_FRAME_HDR, n - PROTO_FRAME_HDR, &id) != 0)
		id = 0;
	conn_fail(c, id, IPC_EPROTO, "frame length out of range");
	return flen;
}

/* Serve the whole frames at the head of p[0..n) while c reads and its
 * turn lasts; the bytes consumed (the rest is a partial frame, or is
 * left for the next turn or while paused). */
static size_t conn_serve(struct conn *c, const unsigned char *p, size_t n)
{
	size_t off = 0;
	long flen;

	while (c->turn_left > 0 && (c->state == CONN_HELLO || c->state == CONN_READY) &&
	       !conn_pause_if_full(c)) {
		flen = conn_frame(c, p + off, n - off);
		if (flen <= 0)
			break;
		c->nframes++;
		c->turn_left--;
		c->take_ok = p == c->in.data && (size_t)flen == n &&
			     (size_t)flen >= CONN_TAKE_MIN;
		dispatch_frame(c, p + off + PROTO_FRAME_HDR,
			       (size_t)flen - PROTO_FRAME_HDR);
		c->take_ok = 0;
		off += (size_t)flen;
	}
	return off;
}

/* 1 while c may read and serve. */
static int conn_reading(const struct conn *c)
{
	return (c->state == CONN_HELLO || c->state == CONN_READY) && !c->paused;
}

/* Count c's input buffer, as it is now, in the daemon-wide total. */
static void conn_in_charge(struct conn *c)
{
	if (c->state == CONN_DEAD)
		return;
	c->srv->in_bytes -= c->in_charged;
	c->srv->in_bytes += c->in.cap;
	c->in_charged = c->in.cap;
}

/* Free c's input buffer and stop counting it. */
static void conn_in_drop(struct conn *c)
{
	pbuf_free(&c->in);
	conn_in_charge(c);
}

/* The length of the frame whose first have bytes are at p (a checked
 * header), or 0 when its header is not all there. */
static size_t conn_frame_total(const unsigned char *p, size_t have)
{
	if (have < PROTO_FRAME_HDR)
		return 0;
	return PROTO_FRAME_HDR + ((size_t)p[0] << 24 | (size_t)p[1] << 16 |
				  (size_t)p[2] << 8 | (size_t)p[3]);
}

/* The length of the large frame (CONN_TAKE_MIN) whose first have bytes
 * are at p, not all there; else SIZE_MAX. A buffer for it grows no
 * further than that. */
static size_t conn_large_frame(const unsigned char *p, size_t have)
{
	size_t total = conn_frame_total(p, have);

	return total >= CONN_TAKE_MIN && total > have ? total : SIZE_MAX;
}

/* conn_large_frame() of what c->in holds. */
static size_t conn_in_frame(const struct conn *c)
{
	return conn_large_frame(c->in.data, c->in.len);
}

/* Bytes waiting in c's socket, 0 if unknown. */
static size_t conn_arrived(const struct conn *c)
{
	int n = 0;

	return ioctl(c->fd, FIONREAD, &n) == 0 && n > 0 ? (size_t)n : 0;
}

/* The capacity c->in would take to hold n more bytes (as
 * pbuf_reserve_upto grows it, up to limit). */
static size_t conn_in_cap_for(const struct conn *c, size_t n, size_t limit)
{
	size_t cap = c->in.cap ? c->in.cap : CONN_IN_GROW_MIN;

	while (cap < c->in.len + n)
		cap *= 2;
	return cap > limit && limit >= c->in.len + n ? limit : cap;
}

/* The buffer of the frame being served, if it holds that frame alone and
 * data[0..len) lies in it: c lets go of it (the caller frees it); else
 * NULL. */
void *conn_take_frame(struct conn *c, const unsigned char *data, size_t len,
		      size_t *size)
{
	void *b = c->in.data;

	if (!c->take_ok || data < c->in.data || data + len > c->in.data + c->in.len)
		return NULL;
	if (size != NULL)
		*size = c->in.cap;
	c->take_ok = 0;
	c->took = 1;
	pbuf_init(&c->in);
	conn_in_charge(c);
	return b;
}

/* Room for n more bytes in c->in (its capacity doubled, but no further
 * than limit) within max-partial-bytes: 0, or -1 once
 * c is failed (over the limit) or closed (out of memory). */
static int conn_in_reserve(struct conn *c, size_t n, size_t limit)
{
	struct server *s = c->srv;
	size_t cap = conn_in_cap_for(c, n, limit);

	if (cap > c->in.cap &&
	    s->in_bytes - c->in_charged + cap > s->cfg.max_partial) {
		log_warn("conn %lu (pid %ld uid %ld): unfinished requests of all "
			 "clients would pass max-partial-bytes (%zu); closing",
			 c->id, (long)c->pid, (long)c->uid, s->cfg.max_partial);
		conn_in_drop(c);
		conn_fail(c, 0, IPC_ELIMIT, "too many bytes of unfinished requests");
		return -1;
	}
	if (cap > c->in.cap && pbuf_reserve_upto(&c->in, cap - c->in.len, limit) != 0) {
		log_warn("conn %lu: out of memory buffering a request", c->id);
		conn_close(c);
		return -1;
	}
	conn_in_charge(c);
	return 0;
}

/* Drop n served bytes from c->in, freeing a large emptied buffer. */
static void conn_in_consume(struct conn *c, size_t n)
{
	pbuf_consume(&c->in, n);
	if (c->in.len == 0 && c->in.cap > CONN_KEEP_MAX)
		conn_in_drop(c);
}

/* c->in is empty: the next frame's first bytes, read along with the
 * large frame before it, go in, its buffer made to measure as
 * conn_read_shared makes it (so its header is not read alone). */
static void conn_ahead_in(struct conn *c)
{
	size_t n = c->nahead, limit = conn_large_frame(c->ahead, n);
	size_t want = limit == SIZE_MAX ? n : n + conn_arrived(c);

	c->nahead = 0;
	if (conn_in_reserve(c, want < limit ? want : limit, limit) != 0)
		return;
	memcpy(c->in.data, c->ahead, n);
	c->in.len = n;
	c->took = 0;
}

/* Serve what c->in holds (a frame completed, or reading resumed). */
static void conn_serve_kept(struct conn *c)
{
	size_t used = conn_serve(c, c->in.data, c->in.len);

	if (c->state == CONN_DEAD)
		return;
	conn_in_consume(c, used);
	if (c->in.len == 0 && c->nahead > 0)
		conn_ahead_in(c);
}

/* How much a connection whose last turn ran out should read now: only
 * the frames its turn has room for, found by peeking, so the rest waits
 * in the socket (not in a buffer of ours) for its next turn. The bytes,
 * or what recv returned (0 at EOF, -1). */
static ssize_t conn_turn_peek(struct conn *c)
{
	ssize_t n = recv(c->fd, conn_rbuf, sizeof conn_rbuf, MSG_PEEK);
	size_t off = 0, frames = 0;
	long flen;

	while (n > 0 && frames < c->turn_left) {
		flen = proto_frame_peek(conn_rbuf + off, (size_t)n - off, PROTO_FRAME_MAX);
		if (flen <= 0)
			return n;
		off += (size_t)flen;
		frames++;
	}
	return n > 0 ? (ssize_t)off : n;
}

/* Read into the shared buffer and serve in place, keeping what is left:
 * the bytes read (*asked: how many it asked for), 0 on EOF, -1 on error
 * (errno). */
static ssize_t conn_read_shared(struct conn *c, size_t *asked)
{
	/* After a large frame, another may follow: its header alone, so that
	 * its buffer is made to measure before any of it is read. */
	ssize_t n = c->hot ? conn_turn_peek(c) :
		    c->took ? PROTO_FRAME_HDR : (ssize_t)CONN_COLD_READ;
	size_t used, left, limit, want;

	c->took = 0;
	*asked = n > 0 ? (size_t)n : 0;
	if (n > 0)
		n = memfd_read(c, conn_rbuf, (size_t)n);
	if (n <= 0)
		return n;
	used = conn_serve(c, conn_rbuf, (size_t)n);
	if (c->state == CONN_DEAD || used == (size_t)n)
		return n;
	/* A large frame's buffer takes what of it is in the socket too. */
	left = (size_t)n - used;
	limit = conn_large_frame(conn_rbuf + used, left);
	want = limit == SIZE_MAX ? left : left + conn_arrived(c);
	if (conn_in_reserve(c, want < limit ? want : limit, limit) == 0) {
		memcpy(c->in.data + c->in.len, conn_rbuf + used, left);
		c->in.len += left;
	}
	return n;
}

/* How many more bytes c->in should make room for: the rest of the frame
 * it holds, but no more than it holds already or, for a large frame,
 * than the socket holds (at least CONN_IN_GROW_MIN), so the buffer grows
 * with what arrives. */
static size_t conn_in_want(const struct conn *c)
{
	size_t want = CONN_READ_MAX, total = conn_frame_total(c->in.data, c->in.len);
	size_t room = c->in.len, arrived;

	if (total > c->in.len)
		want = total - c->in.len;
	if (want > room && c->in.cap < total && conn_in_frame(c) != SIZE_MAX &&
	    (arrived = conn_arrived(c)) > room)
		room = arrived;
	if (want > room)
		want = room;
	return want < CONN_IN_GROW_MIN ? CONN_IN_GROW_MIN : want;
}

/* Read into c->in's free room, up to the end of the large frame it
 * holds (alone, for conn_take_frame); when this read may end that frame,
 * the next frame's header comes along into c->ahead, which saves reading
 * it alone (a system call per large message). The bytes read (*asked:
 * how many it asked for), 0 on EOF, -1 on error (errno). */
static ssize_t conn_read_in(struct conn *c, size_t *asked)
{
	size_t room = c->in.cap - c->in.len, rest = conn_in_frame(c) - c->in.len;
	struct iovec iov[2] = { { c->in.data + c->in.len, room },
				{ c->ahead, sizeof c->ahead } };
	size_t ahead;
	ssize_t n;

	if (rest > room || c->nahead > 0) {
		*asked = rest < room ? rest : room;
		n = memfd_read(c, iov[0].iov_base, *asked);
		ahead = 0;
	} else {
		iov[0].iov_len = rest;
		*asked = rest + sizeof c->ahead;
		n = memfd_readv(c, iov, 2);
		ahead = n > 0 && (size_t)n > rest ? (size_t)n - rest : 0;
	}
	if (n > 0) {
		c->in.len += (size_t)n - ahead;
		c->nahead = ahead ? ahead : c->nahead;
	}
	return n;
}

/* Read more of the partial frame in c->in (and what follows), then
 * serve: the bytes read (*asked: how many it asked for), 0 on EOF, -1 on
 * error (errno, or EAGAIN once c was failed or closed). */
static ssize_t conn_read_kept(struct conn *c, size_t *asked)
{
	ssize_t n;

	*asked = 0;
	if (conn_in_reserve(c, conn_in_want(c), conn_in_frame(c)) != 0) {
		errno = EAGAIN;
		return -1;
	}
	n = conn_read_in(c, asked);
	if (n > 0)
		conn_serve_kept(c);
	return n;
}

/* Time is up for the request c has been sending. */
static void conn_on_frame_timeout(evutil_socket_t fd, short what, void *arg)
{
	struct conn *c = arg;

	(void)fd;
	(void)what;
	log_warn("conn %lu (pid %ld uid %ld): a request still not whole after "
		 "%zu s (frame-timeout); closing", c->id, (long)c->pid,
		 (long)c->uid, c->srv->cfg.frame_timeout);
	conn_in_drop(c);
	conn_fail(c, 0, IPC_ELIMIT, "request not whole within frame-timeout");
}

/* Keep c's frame timer in step with its input: armed while it holds a
 * partial request and reads, afresh when a request was served since
 * (progress), off otherwise. */
static void conn_frame_timer(struct conn *c, int progress)
{
	struct timeval tv = { (time_t)c->srv->cfg.frame_timeout, 0 };

	if (c->in.len == 0 || !conn_reading(c)) {
		if (c->frame_ev != NULL)
			evtimer_del(c->frame_ev);
		return;
	}
	if (c->frame_ev == NULL)
		c->frame_ev = evtimer_new(c->srv->base, conn_on_frame_timeout, c);
	if (c->frame_ev != NULL &&
	    (progress || !evtimer_pending(c->frame_ev, NULL)))
		evtimer_add(c->frame_ev, &tv);
}

/* 1 when c->in holds a whole request not yet served. */
static int conn_has_frame(const struct conn *c)
{
	return proto_frame_peek(c->in.data, c->in.len, PROTO_FRAME_MAX) > 0;
}

/* Start a turn of c: how many requests it may have served now. */
static void conn_turn_begin(struct conn *c)
{
	c->srv->nreads++;
	c->turn_left = CONN_TURN_FRAMES;
}

/* End c's turn: with whole requests left in c->in it comes back in the
 * next loop iteration (a zero timer: after the other connections' turns
 * and a look at every socket), not reading meanwhile; else it waits for
 * its socket. */
static void conn_turn_end(struct conn *c)
{
	static const struct timeval now = { 0, 0 };

	c->hot = c->turn_left == 0;
	if (!conn_reading(c))
		return;
	if (conn_has_frame(c)) {
		conn_rev_off(c);
		evtimer_add(&c->turn, &now);
	} else {
		conn_rev_on(c);
	}
}

/* c's next turn came: serve what it keeps, then go on as conn_turn_end
 * says. */
static void conn_on_turn(evutil_socket_t fd, short what, void *arg)
{
	struct conn *c = arg;
	unsigned long served = c->nframes;

	(void)fd;
	(void)what;
	conn_turn_begin(c);
	conn_serve_kept(c);
	if (c->state == CONN_DEAD)
		return;
	conn_turn_end(c);
	conn_frame_timer(c, c->nframes != served);
}

/* Whether c has input not served yet; see conn.h. */
int conn_input_pending(const struct conn *c)
{
	int n = 0;

	if (c->state != CONN_READY || c->paused || c->in.len > 0)
		return 1;
	return ioctl(c->fd, FIONREAD, &n) != 0 || n > 0;
}

/* The socket is readable: read and serve, for one turn. */
static void conn_on_read(evutil_socket_t fd, short what, void *arg)
{
	struct conn *c = arg;
	unsigned long served = c->nframes;
	size_t got = 0, asked;
	ssize_t n;

	(void)fd;
	(void)what;
	conn_turn_begin(c);
	/* Again while a read got all it asked for: more may be there. */
	do {
		n = c->in.len ? conn_read_kept(c, &asked) : conn_read_shared(c, &asked);
		got += n > 0 ? (size_t)n : 0;
	} while (n > 0 && (size_t)n == asked && conn_reading(c) &&
		 c->turn_left > 0 && got < CONN_TURN_BYTES);
	if (c->state == CONN_DEAD)
		return;
	if (c->nfdq > 0 && c->in.len == 0 && conn_reading(c) &&
	    memfd_check_idle(c) != 0)
		return;
	if (n != 0)
		conn_turn_end(c);
	conn_frame_timer(c, c->nframes != served);
	if (n == 0) {
		log_debug("conn %lu: EOF", c->id);
		conn_close(c);
	} else if (n < 0 && errno != EAGAIN && errno != EINTR) {
		log_debug("conn %lu: read: %s", c->id, strerror(errno));
		conn_close(c);
	}
}

/* The output drained: a closing connection can go now; a paused one is
 * read again, starting with the frames already buffered. */
static void conn_drained(struct conn *c)
{
	if (c->out.cap > CONN_KEEP_MAX)
		pbuf_free(&c->out);
	c->out.len = 0;
	conn_out_uncharge(c);
	c->out_total = c->out_sent = 0;
	memset(&c->sg, 0, sizeof(c->sg));
	c->nholes = c->holes_done = 0;
	if (c->state == CONN_CLOSING) {
		conn_close(c);
		return;
	}
	if (c->paused && c->state != CONN_DEAD) {
		log_debug("conn %lu: replies drained; reading again", c->id);
		c->paused = 0;
		lease_resume(c);
		conn_on_turn(-1, 0, c);
	}
}

/* Free the messages whose bytes were all written. */
static void conn_holes_release(struct conn *c)
{
	while (c->holes_done < c->sg.hole)
		qmsg_free(c->hole_msgs[c->holes_done++]);
}

/* A write to c failed: its peer is gone (or reads no more). One that
 * holds read-ahead (QGETH) may have written QDONEs not read yet (it was
 * paused, or they came after the loop looked): its input is read to the
 * end first, serving only them, as EOF would have, so no message its
 * get handed out comes back. Its parked requests go at once: they would
 * take messages nobody receives. Others close now. */
static void conn_write_failed(struct conn *c)
{
	if (c->state != CONN_READY || !lease_holds_read_ahead(c)) {
		conn_close(c);
		return;
	}
	c->peer_gone = 1;
	conn_cancel_parks(c);
	conn_wev_set(c, 0);
	c->paused = 0;
	lease_resume(c);
	conn_on_turn(-1, 0, c);
}

/* Write what the socket takes of c's output, gathering the output buffer
 * and the messages' payloads: 0, or -1 when c was closed or its peer is
 * gone (peer_gone: nothing more is written). */
static int conn_write_out(struct conn *c)
{
	struct iovec iov[CONN_IOV_MAX];
	struct msghdr mh = { .msg_iov = iov };
	union {
		struct cmsghdr h;
		char b[CMSG_SPACE(sizeof(int) * PROTO_FRAME_FDS_MAX)];
	} cm;
	size_t nfds;
	ssize_t n;

	if (c->peer_gone)
		return -1;
	/* The kernel may hold up to 2 MiB more than max-output, unless
	 * max-output is set under 1 MiB. */
	sock_sndbuf_fit(c->fd, conn_out_pending(c), c->srv->cfg.max_output,
			&c->sndbuf_raised);
	while (conn_out_pending(c) > 0) {
		mh.msg_iovlen = (size_t)proto_sg_iov(&c->sg, c->out.data, c->out.len,
						     c->holes, c->nholes, iov, CONN_IOV_MAX);
		/* Descriptors go no later than the first byte of their frame. */
		nfds = memfd_out_attach(c, &mh, cm.b, sizeof cm.b);
		n = sendmsg(c->fd, &mh, MSG_NOSIGNAL | MSG_DONTWAIT);
		if (n > 0)
			memfd_out_sent(c, nfds);
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0 && errno == EAGAIN)
			break;
		if (n < 0) {
			log_debug("conn %lu: write: %s", c->id, strerror(errno));
			conn_write_failed(c);
			return -1;
		}
		proto_sg_advance(&c->sg, (size_t)n, c->out.len, c->holes, c->nholes);
		c->out_sent += (size_t)n;
		conn_holes_release(c);
	}
	if (conn_out_pending(c) == 0) {
		conn_wev_set(c, 0);
		conn_drained(c);
	} else {
		conn_wev_set(c, 1);
	}
	conn_unstall(c);
	return 0;
}

/* The socket takes more output. */
static void conn_on_write(evutil_socket_t fd, short what, void *arg)
{
	(void)fd;
	(void)what;
	conn_write_out(arg);
}

/* Write the replies every connection got during this loop iteration. */
static void conn_on_flush(evutil_socket_t fd, short what, void *arg)
{
	struct server *s = arg;
	struct ilist *n;
	struct conn *c;

	(void)fd;
	(void)what;
	durable_flush(s);
	/* A drained connection may serve kept frames and queue more output
	 * (its own or others'): they are on the list again, and written. */
	while ((n = ilist_pop(&s->dirty)) != NULL) {
		c = container_of(n, struct conn, dirty);
		if (c->state != CONN_DEAD)
			conn_write_out(c);
	}
}

/* Record the peer's supplementary groups (as they were at connect). */
static void conn_peergroups(struct conn *c, int fd)
{
	socklen_t len = 16 * sizeof(gid_t);
	gid_t *g = NULL, *ng;

	for (;;) {
		ng = realloc(g, len ? len : sizeof(gid_t));
		if (ng == NULL)
			break;
		g = ng;
		if (getsockopt(fd, SOL_SOCKET, SO_PEERGROUPS, g, &len) == 0) {
			c->groups = g;
			c->ngroups = len / sizeof(gid_t);
			return;
		}
		/* ERANGE: len now says how much room the list needs. */
		if (errno != ERANGE || len > CONN_GROUPS_MAX * sizeof(gid_t))
			break;
	}
	free(g);
}

/* Record the peer's credentials for logs and access checks. */
static void conn_peercred(struct conn *c, int fd)
{
	struct ucred cred;
	socklen_t len = sizeof cred;

	c->pid = -1;
	c->uid = (uid_t)-1;
	c->gid = (gid_t)-1;
	if (getsockopt(fd, SOL_SOCKET, SO_PEERCRED, &cred, &len) == 0) {
		c->pid = cred.pid;
		c->uid = cred.uid;
		c->gid = cred.gid;
	}
	conn_peergroups(c, fd);
}

/* The peer's credentials for access checks. */
void conn_cred(const struct conn *c, struct access_cred *cred)
{
	cred->uid = c->uid;
	cred->gid = c->gid;
	cred->groups = c->groups;
	cred->ngroups = c->ngroups;
}

/* Serve c, charging it to its uid, or refuse it (policy_connect): its
 * HELLO gets the refusal, or, past SERVER_REFUSED_MAX refusals waiting
 * at once, it is closed at once. 0, or -1 to close it now. */
static int conn_admit(struct conn *c)
{
	struct server *s = c->srv;

	c->refused = policy_connect(c);
	if (c->refused == 0) {
		c->user = quota_user(&s->broker.quota, c->uid);
		if (c->user == NULL)
			return -1;
		quota_charge(c->user, QUOTA_CONNS, 1);
		s->stats.conns_total++;
		return 0;
	}
	s->stats.conns_refused++;
	/* A storm of refusals must not flood the log: one line in a while. */
	log_msg(server_log_due(&s->refuse_logged) ? LOG_WARN : LOG_DEBUG,
		"conn %lu (pid %ld uid %ld): refused (%s; %lu connections "
		"refused so far)", c->id, (long)c->pid, (long)c->uid,
		policy_connect_name(c->refused),
		(unsigned long)s->stats.conns_refused);
	if (s->nrefused >= SERVER_REFUSED_MAX)
		return -1;
	s->nrefused++;
	conn_set_deadline(c, CONN_REFUSE_SEC);
	return 0;
}

/* Wrap an accepted socket: served, or refused (conn_admit). */
struct conn *conn_new(struct server *s, int fd)
{
	struct conn *c = calloc(1, sizeof *c);

	if (c == NULL || (s->flush_ev == NULL &&
	    (s->flush_ev = event_new(s->base, -1, 0, conn_on_flush, s)) == NULL)) {
		log_warn("cannot set up a connection: out of memory");
		close(fd);
		free(c);
		return NULL;
	}
	c->fd = fd;
	c->srv = s;
	c->id = ++s->next_conn_id;
	conn_peercred(c, fd);
	if (conn_admit(c) != 0) {
		close(fd);
		free(c->groups);
		free(c);
		return NULL;
	}
	pbuf_init(&c->in);
	pbuf_init(&c->out);
	event_assign(&c->rev, s->base, fd, EV_READ | EV_PERSIST, conn_on_read, c);
	event_assign(&c->wev, s->base, fd, EV_WRITE | EV_PERSIST, conn_on_write, c);
	evtimer_assign(&c->turn, s->base, conn_on_turn, c);
	c->state = CONN_HELLO;
	ilist_init(&c->parks);
	ilist_init(&c->stalled_parks);
	ilist_init(&c->leases);
	ilist_init(&c->holds);
	ilist_init(&c->resvs);
	conn_rev_on(c);
	server_conn_add(s, c);
	log_debug("conn %lu: opened by pid %ld uid %ld", c->id, (long)c->pid, (long)c->uid);
	return c;
}
