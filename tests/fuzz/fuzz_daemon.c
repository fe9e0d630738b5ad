/* SPDX-License-Identifier: MIT */
/*
 * fuzz_daemon.c: fuzz target of the daemon's request path. Each input gets
 * a fresh in-process ipcd (server_init on a private socket, never
 * accepted on): one or two clients are socketpairs wrapped by conn_new()
 * exactly as accepted ones are, so the bytes go through conn.c's framing,
 * dispatch, every op handler, park, lease, the broker and the queues. The
 * loop is run without blocking (or for 3 ms, for timers) until nothing
 * moves; part of the input may come after such 3 ms (FUZZ_D_LATE), so a
 * session can send after a timeout or lease ran out. Every reply must be
 * a well-formed frame. No process is forked.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <sys/socket.h>
#include <event2/event.h>

#include "conf.h"
#include "conn.h"
#include "fuzz.h"
#include "log.h"
#include "proto.h"
#include "server.h"

/* One fake client: the socket it writes, what came back not yet framed. */
struct fz_client {
	int fd;
	struct pbuf rx;
};

/* The configuration of every daemon: a private socket, quiet logs. */
static void fz_config(struct config *cfg, char *dir, size_t dirlen)
{
	snprintf(dir, dirlen, "/tmp/ipcd-fuzz.XXXXXX");
	if (mkdtemp(dir) == NULL)
		abort();
	config_defaults(cfg);
	cfg->state_dir[0] = '\0';   /* durable queues off: no disk */
	snprintf(cfg->socket_path, sizeof(cfg->socket_path), "%s/ipcd.sock", dir);
	cfg->log_level = LOG_ERR;
	log_set_level(LOG_ERR);
}

/* Every whole reply frame in c->rx must be well-formed; drop them. */
static void fz_check_replies(struct fz_client *c)
{
	char err[128];
	long fl;

	for (;;) {
		fl = proto_frame_peek(c->rx.data, c->rx.len, PROTO_FRAME_MAX);
		if (fl < 0) {
			fprintf(stderr, "fuzz_daemon: reply with a bad frame length\n");
			abort();
		}
		if (fl == 0)
			return;
		if (proto_check(c->rx.data + PROTO_FRAME_HDR,
				(size_t)fl - PROTO_FRAME_HDR, PROTO_DEPTH_MAX,
				err, sizeof(err)) != 0) {
			fprintf(stderr, "fuzz_daemon: malformed reply: %s\n", err);
			abort();
		}
		pbuf_consume(&c->rx, (size_t)fl);
	}
}

/* Read whatever the daemon sent c; the number of bytes. */
static size_t fz_read(struct fz_client *c)
{
	size_t total = 0;
	ssize_t r;

	if (c->fd < 0)
		return 0;
	for (;;) {
		if (pbuf_reserve(&c->rx, 65536))
			abort();
		r = recv(c->fd, c->rx.data + c->rx.len, c->rx.cap - c->rx.len,
			 MSG_DONTWAIT);
		if (r <= 0)
			break;
		c->rx.len += (size_t)r;
		total += (size_t)r;
		fz_check_replies(c);
	}
	return total;
}

/* Run the loop until a few rounds move nothing; with ms > 0, first let
 * that much time pass so timers fire. */
static void fz_pump(struct server *s, struct fz_client *cl, int ms)
{
	int i, idle = 0;

	if (ms > 0) {
		struct timeval tv = { 0, ms * 1000 };

		event_base_loopexit(s->base, &tv);
		event_base_dispatch(s->base);
	}
	for (i = 0; i < 200 && idle < 3; i++) {
		event_base_loop(s->base, EVLOOP_NONBLOCK);
		if (fz_read(&cl[0]) + fz_read(&cl[1]) == 0)
			idle++;
		else
			idle = 0;
	}
}

/* Send n bytes from client c, pumping the daemon when the socket is full. */
static void fz_send(struct server *s, struct fz_client *cl, int c,
		    const unsigned char *p, size_t n)
{
	size_t off = 0;
	ssize_t r;
	int stuck = 0;

	while (off < n && cl[c].fd >= 0 && stuck < 100) {
		r = send(cl[c].fd, p + off, n - off, MSG_DONTWAIT | MSG_NOSIGNAL);
		if (r > 0) {
			off += (size_t)r;
			stuck = 0;
		} else if (r < 0 && (errno == EAGAIN || errno == EINTR)) {
			fz_pump(s, cl, 0);
			stuck++;
		} else {
			return; /* the daemon closed this connection */
		}
	}
	fz_pump(s, cl, 0);
}

/* A client connected to s as an accepted one would be. */
static void fz_connect(struct server *s, struct fz_client *c, int hello)
{
	struct proto_req r = { .op = PROTO_OP_HELLO, .id = 1,
			       .version = IPC_PROTO_VERSION };
	struct conn *conn;
	struct pbuf b;
	int sv[2];

	pbuf_init(&c->rx);
	c->fd = -1;
	if (socketpair(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0, sv))
		abort();
	conn = conn_new(s, sv[0]);
	if (conn == NULL)
		abort();
	c->fd = sv[1];
	if (hello) {
		pbuf_init(&b);
		if (proto_enc_req(&b, &r) || send(c->fd, b.data, b.len, MSG_NOSIGNAL) != (ssize_t)b.len)
			abort();
		pbuf_free(&b);
	}
}

/* The client goes away (close) or stops writing (shutdown). */
static void fz_hangup(struct fz_client *c, int half)
{
	if (c->fd < 0)
		return;
	if (half) {
		shutdown(c->fd, SHUT_WR);
		return;
	}
	close(c->fd);
	c->fd = -1;
}

/* Send the part after the split: 3 ms later with LATE, by the second
 * client with TWO, else by the first (nothing without either). */
static void fz_send_rest(struct server *s, struct fz_client *cl, unsigned flags,
			 const unsigned char *p, size_t n)
{
	if (flags & FUZZ_D_LATE)
		fz_pump(s, cl, 3);
	if (flags & (FUZZ_D_TWO | FUZZ_D_LATE))
		fz_send(s, cl, (flags & FUZZ_D_TWO) ? 1 : 0, p, n);
}

/* One input through a fresh daemon. */
int fuzz_daemon_one(const unsigned char *data, size_t n)
{
	struct fz_client cl[2] = { { .fd = -1 }, { .fd = -1 } };
	struct config cfg;
	char dir[64];
	unsigned flags;
	size_t split;
	struct server s;

	if (n < 3)
		return 0;
	fz_config(&cfg, dir, sizeof(dir));
	flags = data[0];
	split = (size_t)data[1] << 8 | data[2];
	data += 3;
	n -= 3;
	if (!(flags & (FUZZ_D_TWO | FUZZ_D_LATE)) || split > n)
		split = n;
	if (server_init(&s, &cfg) != 0)
		abort();
	fz_connect(&s, &cl[0], flags & FUZZ_D_HELLO);
	if (flags & FUZZ_D_TWO)
		fz_connect(&s, &cl[1], flags & FUZZ_D_HELLO);
	fz_send(&s, cl, 0, data, split);
	if (flags & FUZZ_D_CLOSE_A) {
		fz_hangup(&cl[0], 0);
		fz_pump(&s, cl, 0);
	}
	fz_send_rest(&s, cl, flags, data + split, n - split);
	if (flags & FUZZ_D_HALF) {
		fz_hangup(&cl[(flags & FUZZ_D_TWO) ? 1 : 0], 1);
		fz_pump(&s, cl, 0);
	}
	if (flags & FUZZ_D_WAIT)
		fz_pump(&s, cl, 3);
	if (flags & FUZZ_D_SHUTDOWN) {
		server_shutdown(&s);
		fz_pump(&s, cl, 0);
	}
	server_fini(&s);
	rmdir(dir);
	fz_hangup(&cl[0], 0);
	fz_hangup(&cl[1], 0);
	pbuf_free(&cl[0].rx);
	pbuf_free(&cl[1].rx);
	return 0;
}

#ifdef FUZZ_MAIN
int LLVMFuzzerTestOneInput(const unsigned char *data, size_t n);

/* libFuzzer's entry. */
int LLVMFuzzerTestOneInput(const unsigned char *data, size_t n)
{
	return fuzz_daemon_one(data, n);
}
#endif
