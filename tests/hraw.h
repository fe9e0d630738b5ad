/* SPDX-License-Identifier: MIT */
/*
 * hraw.h: raw protocol connections for the integration suites, bypassing
 * the library's own checks: send encoded requests, read and decode
 * replies, with the harness's bounds (asserting on anything unexpected).
 */
#ifndef IPCD_TEST_HRAW_H
#define IPCD_TEST_HRAW_H

#include <stddef.h>
#include <stdint.h>

#include "proto.h"

/* A raw reply reader: the frame bytes and the decoder its results point into. */
struct h_raw_rx {
	unsigned char *buf;
	struct proto_dec dec;
};

/* A raw connection to the socket at path. */
int h_raw_connect(const char *path);
/* Send one request (blocking). */
void h_raw_send_req(int fd, const struct proto_req *r);
/* Read exactly n bytes within the bound (10 s, 60 s under a wrapper); 0,
 * or -1 at EOF before any. */
int h_raw_read(int fd, void *buf, size_t n);
/* Set up a reply reader. */
void h_raw_rx_init(struct h_raw_rx *rx);
/* Tear down a reply reader. */
void h_raw_rx_fini(struct h_raw_rx *rx);
/* Read one reply to a request of op into *rep (pointing into rx); -1 at EOF. */
int h_raw_reply(int fd, struct h_raw_rx *rx, uint32_t op, struct proto_rep *rep);
/* HELLO on a raw connection: the reply's status (msg_max in *msg_max
 * unless NULL). */
int h_raw_hello(int fd, struct h_raw_rx *rx, uint32_t *msg_max);

#endif
