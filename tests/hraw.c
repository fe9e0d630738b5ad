/* SPDX-License-Identifier: MIT */
/* hraw.c: raw protocol connections for the integration suites (hraw.h). */
#include <check.h>
#include <errno.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>

#include "harness.h"
#include "hraw.h"

/* How long to wait for a reply (ms). */
#define H_RAW_WAIT_MS (h_wrapped() ? 60000 : 10000)

/* A raw connection to path. */
int h_raw_connect(const char *path)
{
	struct sockaddr_un sa = { .sun_family = AF_UNIX };
	int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);

	ck_assert_int_ge(fd, 0);
	snprintf(sa.sun_path, sizeof(sa.sun_path), "%s", path);
	ck_assert_msg(connect(fd, (struct sockaddr *)&sa, sizeof(sa)) == 0,
		      "connect %s: %s", path, strerror(errno));
	return fd;
}

/* Send one request (blocking). */
void h_raw_send_req(int fd, const struct proto_req *r)
{
	struct pbuf b;
	size_t off = 0;
	ssize_t n;

	pbuf_init(&b);
	ck_assert_int_eq(proto_enc_req(&b, r), 0);
	while (off < b.len) {
		n = send(fd, b.data + off, b.len - off, MSG_NOSIGNAL);
		if (n < 0 && errno == EINTR)
			continue;
		ck_assert_msg(n > 0, "send: %s", strerror(errno));
		off += (size_t)n;
	}
	pbuf_free(&b);
}

/* Read exactly n bytes within the bound; 0, or -1 at EOF before any. */
int h_raw_read(int fd, void *buf, size_t n)
{
	int64_t deadline = h_now_ms() + H_RAW_WAIT_MS;
	struct pollfd p = { .fd = fd, .events = POLLIN };
	size_t off = 0;
	ssize_t r;

	while (off < n) {
		ck_assert_msg(h_now_ms() < deadline, "no reply in time");
		if (poll(&p, 1, 100) <= 0)
			continue;
		r = recv(fd, (char *)buf + off, n - off, 0);
		if (r < 0 && errno == EINTR)
			continue;
		if (r == 0 || (r < 0 && errno == ECONNRESET)) {
			ck_assert_msg(off == 0, "closed mid-frame");
			return -1;
		}
		ck_assert_msg(r > 0, "recv: %s", strerror(errno));
		off += (size_t)r;
	}
	return 0;
}

/* Set up a reply reader. */
void h_raw_rx_init(struct h_raw_rx *rx)
{
	rx->buf = NULL;
	ck_assert_int_eq(proto_dec_init(&rx->dec), 0);
}

/* Tear down a reply reader. */
void h_raw_rx_fini(struct h_raw_rx *rx)
{
	free(rx->buf);
	proto_dec_fini(&rx->dec);
}

/* Read one reply to a request of op into *rep; -1 at EOF. */
int h_raw_reply(int fd, struct h_raw_rx *rx, uint32_t op, struct proto_rep *rep)
{
	unsigned char hdr[4];
	size_t n;

	if (h_raw_read(fd, hdr, 4) != 0)
		return -1;
	n = (size_t)hdr[0] << 24 | (size_t)hdr[1] << 16 | (size_t)hdr[2] << 8 | hdr[3];
	ck_assert_uint_le(n, PROTO_FRAME_MAX);
	rx->buf = realloc(rx->buf, n);
	ck_assert_int_eq(h_raw_read(fd, rx->buf, n), 0);
	memset(rep, 0, sizeof(*rep));
	ck_assert_msg(proto_dec_rep(&rx->dec, rx->buf, n, op, rep) == 0,
		      "bad reply: %s", rx->dec.err);
	return 0;
}

/* HELLO on a raw connection; the reply's status (msg_max in *msg_max). */
int h_raw_hello(int fd, struct h_raw_rx *rx, uint32_t *msg_max)
{
	struct proto_req r = { .op = PROTO_OP_HELLO, .id = 1,
			       .version = IPC_PROTO_VERSION };
	struct proto_rep rep;

	h_raw_send_req(fd, &r);
	ck_assert_int_eq(h_raw_reply(fd, rx, r.op, &rep), 0);
	if (msg_max)
		*msg_max = rep.msg_max;
	return rep.status;
}
