/* SPDX-License-Identifier: MIT */
/*
 * dispatch.h: decode one request frame and hand it to the handler of its
 * op; one handler per op (op_*.c), found through the table of ops.
 */
#ifndef IPCD_DISPATCH_H
#define IPCD_DISPATCH_H

#include <stddef.h>
#include <stdint.h>

#include "proto.h"

struct conn;
struct proto_req;

/* Decode and serve one frame payload (without its 4-byte header). */
void dispatch_frame(struct conn *c, const unsigned char *p, size_t n);

/* Handlers, one per row of proto/ops.h: op_<lower>(), e.g. op_qput()
 * for QPUT. Each replies (now, or once its parked request completes). */
#define DISPATCH_DECLARE(N, n, num, rq, opt, rp, park) \
	void op_##n(struct conn *c, const struct proto_req *r);
PROTO_OPS(DISPATCH_DECLARE)
#undef DISPATCH_DECLARE
/* Answer rep with the message that has just gone in flight in l (QGETA,
 * QGETANY): start its lease and send it, a memfd as a duplicate. */
struct lease;
void op_reply_lease(struct conn *c, struct proto_rep *rep, struct lease *l);
/* Who c acts as on end of p (pipe_send, pipe_recv): the record of its
 * attachment, or c itself when it holds no such end. */
struct pipe;
const void *op_pipe_owner(const struct conn *c, const struct pipe *p, unsigned end);
/* Close every pipe end c holds (it is going away): each peer reads what
 * was sent, then EOF. Safe after broker_fini. */
void op_pipe_release(struct conn *c);
/* QDEL on a pipe (op_qdel, once policy_owner allowed it): take its ends
 * off their holders' lists and delete it (broker_delete). 0,
 * IPC_ENOENT or IPC_EWRONGTYPE. */
int op_pipe_delete(struct conn *c, const char *name);

#endif
