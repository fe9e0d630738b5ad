/* SPDX-License-Identifier: MIT */
/* op_info.c: the handlers of STAT and LIST, which describe queues and pipes. */
#include "broker.h"
#include "conn.h"
#include "dispatch.h"
#include "durable.h"
#include "ipc_defs.h"
#include "proto.h"
#include "server.h"
#include "wire.h"

/* STAT: describe one queue or pipe. */
void op_stat(struct conn *c, const struct proto_req *r)
{
	struct broker_info bi;
	struct proto_info info;
	struct proto_rep rep = { .op = r->op, .id = r->id, .infos = &info, .ninfos = 1 };

	rep.status = broker_info(&c->srv->broker, r->name, &bi);
	if (rep.status == 0)
		wire_info(&bi, &info);
	if (rep.status == 0 && info.durable)
		durable_journal_size(c->srv, &info.journal_bytes,
				     &info.journal_live);
	conn_reply(c, &rep);
}

/* One LIST page as the broker describes it, and on the wire (one at a
 * time: the daemon is single-threaded and a reply is encoded before the
 * handler returns). */
static struct broker_info op_list_found[PROTO_LIST_PAGE];
static struct proto_info op_list_page[PROTO_LIST_PAGE];

/* LIST: describe the next PROTO_LIST_PAGE names after r->name, in byte
 * order, and say whether more follow. */
void op_list(struct conn *c, const struct proto_req *r)
{
	struct proto_rep rep = { .op = r->op, .id = r->id, .infos = op_list_page };
	int more = 0;
	size_t i;

	rep.ninfos = broker_list_page(&c->srv->broker, r->name, op_list_found,
				      PROTO_LIST_PAGE, &more);
	for (i = 0; i < rep.ninfos; i++)
		wire_info(&op_list_found[i], &op_list_page[i]);
	rep.more = more != 0;
	conn_reply(c, &rep);
}
