/* conn.c: one client connection over a libevent bufferevent. */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>
#include <event2/buffer.h>
#include <event2/bufferevent.h>
#include <event2/event.h>

#include "conn.h"
#include "dispatch.h"
#include "ipc_defs.h"
#include "log.h"
#include "park.h"
#include "proto.h"
#include "server.h"

/* How long a closing connection may take to read its last replies. */
#define CONN_LINGER_SEC 5

/* Free the struct once the callback that closed it has returned. */
static void conn_free_deferred(evutil_socket_t fd, short what, void *arg)
{
	(void)fd;
	(void)what;
	free(arg);
}

/* Link p into c's parked requests. */
void conn_park_add(struct conn *c, struct park *p)
{
	p->prev = NULL;
	p->next = c->parks;
	if (c->parks != NULL)
		c->parks->prev = p;
	c->parks = p;
}

/* Unlink p from its connection's parked requests. */
void conn_park_del(struct park *p)
{
	if (p->prev != NULL)
		p->prev->next = p->next;
	else
		p->conn->parks = p->next;
	if (p->next != NULL)
		p->next->prev = p->prev;
	p->next = p->prev = NULL;
}

/* Cancel every request c has parked: nothing is consumed or enqueued. */
static void conn_cancel_parks(struct conn *c)
{
	while (c->parks != NULL)
		park_cancel(c->parks);
}

/* Close now; the struct is freed out of the current callback. */
void conn_close(struct conn *c)
{
	if (c->state == CONN_DEAD)
		return;
	log_debug("conn %lu: closed", c->id);
	conn_cancel_parks(c);
	c->state = CONN_DEAD;
	bufferevent_free(c->bev);
	c->bev = NULL;
	server_conn_gone(c->srv, c);
	event_base_once(c->srv->base, -1, EV_TIMEOUT, conn_free_deferred, c, NULL);
}

/* Append an encoded frame to the output, or give up on the peer. */
static void conn_write(struct conn *c, const struct pbuf *b)
{
	if (bufferevent_write(c->bev, b->data, b->len) != 0) {
		log_warn("conn %lu: out of memory queueing a reply", c->id);
		conn_close(c);
	}
}

/* Queue a reply for sending. */
void conn_reply(struct conn *c, const struct proto_rep *r)
{
	struct pbuf *out = &c->srv->out;
	int rc;

	if (c->state == CONN_DEAD)
		return;
	out->len = 0;
	rc = proto_enc_rep(out, r);
	if (rc != 0) {
		log_warn("conn %lu: cannot encode reply to request %u: %s",
			 c->id, r->id, proto_strerror(rc));
		conn_close(c);
		return;
	}
	conn_write(c, out);
}

/* Queue a status-only reply to request (op, id). */
void conn_reply_status(struct conn *c, uint32_t op, uint32_t id, int status)
{
	struct proto_rep rep = { .op = op, .id = id, .status = status };

	conn_reply(c, &rep);
}

/* Stop reading and close once the pending replies are flushed. */
void conn_drain(struct conn *c)
{
	struct timeval linger = { CONN_LINGER_SEC, 0 };

	if (c->state == CONN_DEAD || c->state == CONN_CLOSING)
		return;
	conn_cancel_parks(c);
	c->state = CONN_CLOSING;
	bufferevent_disable(c->bev, EV_READ);
	if (evbuffer_get_length(bufferevent_get_output(c->bev)) == 0) {
		conn_close(c);
		return;
	}
	/* A peer that never reads cannot hold us: the write times out. */
	bufferevent_set_timeouts(c->bev, NULL, &linger);
}

/* Reply status to id, then close once flushed. */
void conn_fail(struct conn *c, uint32_t id, int status, const char *detail)
{
	struct proto_rep rep = { .id = id, .status = status, .detail = detail,
				 .detail_len = detail ? strlen(detail) : 0 };

	log_warn("conn %lu (pid %ld uid %ld): %s%s%s", c->id, (long)c->pid,
		 (long)c->uid, proto_strerror(status), detail ? ": " : "",
		 detail ? detail : "");
	conn_reply(c, &rep);
	conn_drain(c);
}

/* Serve every whole frame waiting in the input buffer. */
static void conn_readcb(struct bufferevent *bev, void *arg)
{
	struct conn *c = arg;
	struct evbuffer *in = bufferevent_get_input(bev);

	while (c->state == CONN_HELLO || c->state == CONN_READY) {
		unsigned char hdr[PROTO_FRAME_HDR];
		size_t avail = evbuffer_get_length(in);
		long flen;

		if (avail < PROTO_FRAME_HDR)
			break;
		evbuffer_copyout(in, hdr, sizeof hdr);
		flen = proto_frame_peek(hdr, sizeof hdr, PROTO_FRAME_MAX);
		if (flen < 0) {
			conn_fail(c, 0, IPC_EPROTO, "frame length out of range");
			break;
		}
		flen = PROTO_FRAME_HDR + (long)((uint32_t)hdr[0] << 24 | (uint32_t)hdr[1] << 16 |
						(uint32_t)hdr[2] << 8 | hdr[3]);
		if (avail < (size_t)flen)
			break;
		dispatch_frame(c, evbuffer_pullup(in, flen) + PROTO_FRAME_HDR,
			       (size_t)flen - PROTO_FRAME_HDR);
		if (c->state == CONN_DEAD)
			return;
		evbuffer_drain(in, (size_t)flen);
	}
}

/* The output drained: a closing connection can go now. */
static void conn_writecb(struct bufferevent *bev, void *arg)
{
	struct conn *c = arg;

	(void)bev;
	if (c->state == CONN_CLOSING)
		conn_close(c);
}

/* EOF, error or linger timeout on the socket. */
static void conn_eventcb(struct bufferevent *bev, short what, void *arg)
{
	struct conn *c = arg;

	(void)bev;
	if (what & BEV_EVENT_ERROR)
		log_debug("conn %lu: %s", c->id, strerror(errno));
	if (what & (BEV_EVENT_EOF | BEV_EVENT_ERROR | BEV_EVENT_TIMEOUT))
		conn_close(c);
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
}

/* Wrap an accepted socket. */
struct conn *conn_new(struct server *s, int fd)
{
	struct conn *c = calloc(1, sizeof *c);

	if (c == NULL) {
		close(fd);
		return NULL;
	}
	c->bev = bufferevent_socket_new(s->base, fd, BEV_OPT_CLOSE_ON_FREE);
	if (c->bev == NULL) {
		close(fd);
		free(c);
		return NULL;
	}
	c->srv = s;
	c->state = CONN_HELLO;
	c->id = ++s->next_conn_id;
	conn_peercred(c, fd);
	/* Stop reading while a whole maximal frame is already buffered. */
	bufferevent_setwatermark(c->bev, EV_READ, 0, PROTO_FRAME_HDR + PROTO_FRAME_MAX);
	bufferevent_setcb(c->bev, conn_readcb, conn_writecb, conn_eventcb, c);
	bufferevent_enable(c->bev, EV_READ);
	log_debug("conn %lu: opened by pid %ld uid %ld", c->id, (long)c->pid, (long)c->uid);
	return c;
}
