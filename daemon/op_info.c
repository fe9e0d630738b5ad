/* SPDX-License-Identifier: MIT */
/* op_info.c: the handlers of STAT and LIST, which describe queues and
 * pipes, and of INFO, which describes the daemon as a whole. */
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "broker.h"
#include "conn.h"
#include "dispatch.h"
#include "durable.h"
#include "ipc_defs.h"
#include "journal.h"
#include "lease.h"
#include "proto.h"
#include "qmsg.h"
#include "server.h"
#include "wire.h"

/* STAT: describe one queue or pipe. */
void op_stat(struct conn *c, const struct proto_req *r)
{
	struct broker_info bi;
	struct proto_info info;
	struct proto_rep rep = { .op = r->op, .id = r->id, .infos = &info, .ninfos = 1 };
	struct queue *q;

	/* In flight counts what consumers' hold pages say is not handed out. */
	if (broker_queue_find(&c->srv->broker, r->name, &q) == 0)
		lease_settle(q, 0);
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

/* INFO: the connections, the limits and the time since the start. */
static void op_info_server(const struct server *s, struct proto_dinfo *d)
{
	snprintf(d->version, sizeof(d->version), "%s", PACKAGE_VERSION);
	d->pid = (uint64_t)getpid();
	d->uptime_ms = (server_now_ns() - s->stats.started_ns) / 1000000u;
	d->start_time = s->stats.start_time;
	d->msg_max = s->broker.msg_max;
	d->connections = s->nconns - s->nrefused;
	d->max_connections = s->cfg.max_connections;
	d->connections_total = s->stats.conns_total;
	d->connections_refused = s->stats.conns_refused;
	d->max_queues = s->broker.max_objects;
	d->bytes = qmsg_live_bytes();
	d->held_bytes = broker_held(&s->broker);
	d->shared_bytes = qframe_live_bytes();
	d->max_bytes = s->broker.max_bytes;
	d->parked = s->stats.parked;
	d->requests = s->stats.requests;
}

/* INFO: what the namespace holds and has moved. */
static void op_info_broker(const struct broker *b, struct proto_dinfo *d)
{
	struct broker_totals t;

	broker_totals(b, &t);
	d->queues = t.queues;
	d->pipes = t.pipes;
	d->messages = t.messages;
	d->inflight = t.inflight;
	d->puts = t.puts;
	d->gets = t.gets;
	d->requeued = t.requeued;
	d->dead_lettered = t.dead_lettered;
	d->sends = t.sends;
	d->receives = t.receives;
}

/* INFO: the replies by outcome; refused_other is every positive status
 * not counted on its own, Empty and EOF (ordinary ends) left out. */
static void op_info_replies(const struct server_stats *st, struct proto_dinfo *d)
{
	static const int own[] = { IPC_EEMPTY, IPC_EEOF, IPC_EFULL, IPC_ELIMIT,
				   IPC_EPERM, IPC_ETOOBIG, IPC_ENOSPC };
	size_t i;

	d->gets_empty = st->status[IPC_EEMPTY];
	d->refused_full = st->status[IPC_EFULL];
	d->refused_limit = st->status[IPC_ELIMIT];
	d->refused_perm = st->status[IPC_EPERM];
	d->refused_toobig = st->status[IPC_ETOOBIG];
	d->refused_nospc = st->status[IPC_ENOSPC];
	for (i = 1; i < SERVER_STATUS_MAX; i++)
		d->refused_other += st->status[i];
	for (i = 0; i < sizeof(own) / sizeof(own[0]); i++)
		d->refused_other -= st->status[own[i]];
	d->errors_fatal = st->fatal;
}

/* INFO: the journal of durable queues, when there is one. */
static void op_info_journal(struct server *s, struct proto_dinfo *d)
{
	struct journal_stats js;

	d->durable = (uint64_t)durable_stats(s, &js);
	d->journal_bytes = js.bytes;
	d->journal_live = js.live_bytes;
	d->journal_segments = js.segments;
	d->journal_written = js.written;
	d->journal_syncs = js.syncs;
	d->journal_sync_us = js.sync_ns / 1000u;
	d->journal_sync_max_us = js.sync_ns_max / 1000u;
}

/* INFO: describe the daemon as a whole. */
void op_info(struct conn *c, const struct proto_req *r)
{
	struct proto_dinfo d;
	struct proto_rep rep = { .op = r->op, .id = r->id, .dinfo = &d };

	memset(&d, 0, sizeof(d));
	op_info_server(c->srv, &d);
	op_info_broker(&c->srv->broker, &d);
	op_info_replies(&c->srv->stats, &d);
	op_info_journal(c->srv, &d);
	conn_reply(c, &rep);
}
