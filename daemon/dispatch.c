/* dispatch.c: decode a request and call the handler for its op. */
#include <stdio.h>
#include <stdlib.h>

#include "broker.h"
#include "conn.h"
#include "dispatch.h"
#include "ipc_defs.h"
#include "proto.h"
#include "server.h"
#include "wire.h"

/* Decode and serve one frame payload. */
void dispatch_frame(struct conn *c, const unsigned char *p, size_t n)
{
	struct server *s = c->srv;
	struct proto_req r;
	int rc = proto_dec_req(&s->dec, p, n, s->broker.msg_max, &r);

	if (rc < 0) {
		conn_fail(c, r.id, rc, s->dec.err);
		return;
	}
	if (c->state == CONN_HELLO && r.op != PROTO_OP_HELLO) {
		conn_fail(c, r.id, IPC_EPROTO, "the first request must be HELLO");
		return;
	}
	if (rc > 0) {
		/* A well-formed request with a bad argument: answer, keep going. */
		conn_reply_status(c, r.op, r.id, rc);
		return;
	}
	switch (r.op) {
	case PROTO_OP_HELLO: op_hello(c, &r); break;
	case PROTO_OP_QOPEN: op_qopen(c, &r); break;
	case PROTO_OP_QPUT: op_qput(c, &r); break;
	case PROTO_OP_QGET: op_qget(c, &r); break;
	case PROTO_OP_STAT: op_stat(c, &r); break;
	case PROTO_OP_QDEL: op_qdel(c, &r); break;
	case PROTO_OP_LIST: op_list(c, &r); break;
	case PROTO_OP_QGETA: op_qgeta(c, &r); break;
	case PROTO_OP_QACK: op_qack(c, &r); break;
	case PROTO_OP_PATTACH: op_pattach(c, &r); break;
	case PROTO_OP_PSEND: op_psend(c, &r); break;
	case PROTO_OP_PRECV: op_precv(c, &r); break;
	case PROTO_OP_PCLOSE: op_pclose(c, &r); break;
	case PROTO_OP_QPUTN: op_qputn(c, &r); break;
	case PROTO_OP_QGETN: op_qgetn(c, &r); break;
	case PROTO_OP_PSENDN: op_psendn(c, &r); break;
	case PROTO_OP_PRECVN: op_precvn(c, &r); break;
	default: conn_fail(c, r.id, IPC_EPROTO, "unknown op"); break;
	}
}

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
		snprintf(detail, sizeof detail, "too many connections (max-connections %zu)",
			 c->srv->cfg.max_connections);
		conn_fail(c, r->id, IPC_ELIMIT, detail);
		return;
	}
	if (r->version != IPC_PROTO_VERSION) {
		snprintf(detail, sizeof detail, "daemon speaks protocol version %d, client %u",
			 IPC_PROTO_VERSION, r->version);
		conn_fail(c, r->id, IPC_EVERSION, detail);
		return;
	}
	c->state = CONN_READY;
	conn_reply(c, &rep);
}

/* STAT: describe one queue or pipe. */
void op_stat(struct conn *c, const struct proto_req *r)
{
	struct broker_info bi;
	struct proto_info info;
	struct proto_rep rep = { .op = r->op, .id = r->id, .infos = &info, .ninfos = 1 };

	rep.status = broker_info(&c->srv->broker, r->name, &bi);
	if (rep.status == 0)
		wire_info(&bi, &info);
	conn_reply(c, &rep);
}

/* LIST: describe every queue and pipe, sorted by name. */
void op_list(struct conn *c, const struct proto_req *r)
{
	struct broker_info *bis = NULL;
	struct proto_info *infos = NULL;
	struct proto_rep rep = { .op = r->op, .id = r->id };
	size_t i;

	rep.status = broker_list(&c->srv->broker, &bis, &rep.ninfos);
	if (rep.status == 0 &&
	    (infos = calloc(rep.ninfos ? rep.ninfos : 1, sizeof *infos)) == NULL)
		rep.status = IPC_ENOMEM;
	for (i = 0; infos != NULL && i < rep.ninfos; i++)
		wire_info(&bis[i], &infos[i]);
	rep.infos = infos;
	if (rep.status != 0)
		rep.ninfos = 0;
	conn_reply(c, &rep);
	free(infos);
	free(bis);
}
