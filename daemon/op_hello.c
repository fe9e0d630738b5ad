/* SPDX-License-Identifier: MIT */
/* op_hello.c: the handler of HELLO, the version handshake. */
#include <stdio.h>

#include "conn.h"
#include "dispatch.h"
#include "ipc_defs.h"
#include "policy.h"
#include "proto.h"
#include "server.h"

/* HELLO: check the version and say ours. */
void op_hello(struct conn *c, const struct proto_req *r)
{
	struct proto_rep rep = { .op = r->op, .id = r->id,
				 .version = IPC_PROTO_VERSION,
				 .msg_max = (uint32_t)c->srv->broker.msg_max };
	char detail[64];

	if (c->state != CONN_HELLO) {
		conn_fail(c, r->id, IPC_EPROTO, "HELLO sent twice");
		return;
	}
	if (c->refused) {
		policy_refuse_hello(c, r);
		return;
	}
	if (r->version != IPC_PROTO_VERSION) {
		/* The version goes in a field too, for a client to act on;
		 * the status is fatal: the connection closes once it is sent. */
		snprintf(detail, sizeof detail, "daemon speaks protocol version %d, client %u",
			 IPC_PROTO_VERSION, r->version);
		rep.status = IPC_EVERSION;
		rep.detail = detail;
		conn_reply(c, &rep);
		return;
	}
	c->state = CONN_READY;
	if (r->has_caps) {
		/* Capabilities are granted only to a client that asks. */
		c->memfd = (r->caps & PROTO_CAP_MEMFD) && c->srv->cfg.memfd_threshold;
		rep.has_caps = 1;
		rep.caps = c->memfd ? PROTO_CAP_MEMFD : 0;
		rep.memfd_max = c->memfd ? (uint32_t)c->srv->cfg.max_memfd_size : 0;
		rep.memfd_min = c->memfd ? (uint32_t)c->srv->cfg.memfd_threshold : 0;
	}
	conn_reply(c, &rep);
}
