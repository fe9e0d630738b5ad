/* SPDX-License-Identifier: MIT */
/* dispatch.c: decode a request and call the handler of its op. */
#include "conn.h"
#include "dispatch.h"
#include "ipc_defs.h"
#include "memfd.h"
#include "proto.h"
#include "server.h"

/* A request handler (dispatch.h). */
typedef void dispatch_fn(struct conn *c, const struct proto_req *r);

/* The handler of each op, from the rows of proto/ops.h. */
static dispatch_fn *const dispatch_ops[PROTO_OP__MAX] = {
#define DISPATCH_ROW(N, n, num, rq, opt, rp, park) [num] = op_##n,
	PROTO_OPS(DISPATCH_ROW)
#undef DISPATCH_ROW
};

/* Decode and serve one frame payload. */
void dispatch_frame(struct conn *c, const unsigned char *p, size_t n)
{
	struct server *s = c->srv;
	struct proto_req r;
	int rc;

	s->dec.memfd_max = c->memfd ? s->cfg.max_memfd_size : 0;
	rc = proto_dec_req(&s->dec, p, n, s->broker.msg_max, &r);
	s->stats.requests++;
	if (rc < 0) {
		conn_fail(c, r.id, rc, s->dec.err);
		return;
	}
	if (c->state == CONN_HELLO && r.op != PROTO_OP_HELLO) {
		conn_fail(c, r.id, IPC_EPROTO, "the first request must be HELLO");
		return;
	}
	if (r.nfds > 0 && memfd_frame_begin(c, r.id, r.nfds) != 0)
		return;
	if (c->peer_gone && (rc > 0 || r.op != PROTO_OP_QDONE))
		; /* nobody reads the answer: only its QDONEs count (conn.h) */
	else if (rc > 0)
		/* A well-formed request with a bad argument: answer, keep going. */
		conn_reply_status(c, r.op, r.id, rc);
	else
		dispatch_ops[r.op](c, &r);
	/* The descriptors no message took are closed. */
	if (r.nfds > 0)
		memfd_frame_done(c, r.nfds);
}
