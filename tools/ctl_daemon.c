/* SPDX-License-Identifier: MIT */
/*
 * ctl_daemon.c: ipcctl's reports on the daemon as a whole: info (text or
 * JSON, the same keys) and metrics (the Prometheus text exposition
 * format, for node_exporter's textfile collector). One table of the
 * daemon's figures drives all three outputs.
 */
#include <stddef.h>
#include <stdio.h>
#include <string.h>

#include "ctl.h"

/* Kinds of figures, as Prometheus types them. */
#define CTL_GAUGE 0
#define CTL_COUNTER 1

/* One figure of struct ipc_daemon_info: its key (the struct field, the
 * JSON key), its metric (after "ipcd_", "_total" added to a counter;
 * NULL: info only), the label that sets it apart from the other rows of
 * that metric (rows of one metric are adjacent), the divisor to the
 * metric's unit (1000 for ms to seconds), and what it means. */
struct ctl_dfield {
	const char *key;
	size_t off;
	int type;
	const char *metric;
	const char *label;
	unsigned scale;
	int journal;            /* shown only when a journal is open */
	const char *help;
};

#define CTL_DF(f, type, metric, label, scale, journal, help) \
	{ #f, offsetof(struct ipc_daemon_info, f), type, metric, label, \
	  scale, journal, help }

static const struct ctl_dfield ctl_dfields[] = {
	CTL_DF(pid, CTL_GAUGE, NULL, NULL, 1, 0, NULL),
	CTL_DF(uptime_ms, CTL_GAUGE, "uptime_seconds", NULL, 1000, 0,
	       "Time since the daemon started."),
	CTL_DF(start_time, CTL_GAUGE, "start_time_seconds", NULL, 1, 0,
	       "When the daemon started, Unix time."),
	CTL_DF(msg_max, CTL_GAUGE, "message_max_bytes", NULL, 1, 0,
	       "Largest message the daemon accepts."),
	CTL_DF(connections, CTL_GAUGE, "connections", NULL, 1, 0,
	       "Clients connected now."),
	CTL_DF(max_connections, CTL_GAUGE, "connections_max", NULL, 1, 0,
	       "The max-connections limit."),
	CTL_DF(connections_total, CTL_COUNTER, "connections_accepted", NULL, 1, 0,
	       "Clients accepted."),
	CTL_DF(connections_refused, CTL_COUNTER, "connections_refused", NULL, 1, 0,
	       "Clients refused over max-connections."),
	CTL_DF(queues, CTL_GAUGE, "queues", NULL, 1, 0, "Queues now."),
	CTL_DF(pipes, CTL_GAUGE, "pipes", NULL, 1, 0, "Pipes now."),
	CTL_DF(max_queues, CTL_GAUGE, "queues_max", NULL, 1, 0,
	       "The max-queues limit on queues and pipes (0: none)."),
	CTL_DF(messages, CTL_GAUGE, "messages", NULL, 1, 0,
	       "Messages held in queues and buffered in pipes."),
	CTL_DF(bytes, CTL_GAUGE, "bytes", NULL, 1, 0,
	       "Payload bytes held in all."),
	CTL_DF(held_bytes, CTL_GAUGE, "held_bytes", NULL, 1, 0,
	       "What counts against max-bytes: messages with their overhead, unwritten replies."),
	CTL_DF(shared_bytes, CTL_GAUGE, "shared_bytes", NULL, 1, 0,
	       "Buffers of batch puts their held messages point into (at most max-bytes/16, besides held_bytes)."),
	CTL_DF(max_bytes, CTL_GAUGE, "bytes_max", NULL, 1, 0,
	       "The max-bytes limit (0: none)."),
	CTL_DF(parked, CTL_GAUGE, "parked_requests", NULL, 1, 0,
	       "Requests waiting in the daemon."),
	CTL_DF(inflight, CTL_GAUGE, "inflight_messages", NULL, 1, 0,
	       "Messages delivered for ack and not yet acked."),
	CTL_DF(requests, CTL_COUNTER, "requests", NULL, 1, 0,
	       "Requests served."),
	CTL_DF(puts, CTL_COUNTER, "puts", NULL, 1, 0,
	       "Messages taken into queues."),
	CTL_DF(gets, CTL_COUNTER, "gets", NULL, 1, 0,
	       "Messages delivered from queues, redeliveries included."),
	CTL_DF(requeued, CTL_COUNTER, "requeued", NULL, 1, 0,
	       "In-flight messages put back into their queue."),
	CTL_DF(dead_lettered, CTL_COUNTER, "dead_lettered", NULL, 1, 0,
	       "Messages moved to a dead-letter queue after max-deliveries."),
	CTL_DF(sends, CTL_COUNTER, "sends", NULL, 1, 0,
	       "Messages sent into pipes."),
	CTL_DF(receives, CTL_COUNTER, "receives", NULL, 1, 0,
	       "Messages received from pipes."),
	CTL_DF(gets_empty, CTL_COUNTER, "gets_empty", NULL, 1, 0,
	       "Gets and receives answered Empty."),
	CTL_DF(refused_full, CTL_COUNTER, "refused", "reason=\"full\"", 1, 0,
	       "Requests refused, by reason."),
	CTL_DF(refused_limit, CTL_COUNTER, "refused", "reason=\"limit\"", 1, 0, NULL),
	CTL_DF(refused_perm, CTL_COUNTER, "refused", "reason=\"perm\"", 1, 0, NULL),
	CTL_DF(refused_toobig, CTL_COUNTER, "refused", "reason=\"toobig\"", 1, 0, NULL),
	CTL_DF(refused_nospc, CTL_COUNTER, "refused", "reason=\"nospc\"", 1, 0, NULL),
	CTL_DF(refused_other, CTL_COUNTER, "refused", "reason=\"other\"", 1, 0, NULL),
	CTL_DF(errors_fatal, CTL_COUNTER, "errors_fatal", NULL, 1, 0,
	       "Protocol errors that closed a connection."),
	CTL_DF(durable, CTL_GAUGE, "journal_enabled", NULL, 1, 0,
	       "1 when the journal of durable queues is open."),
	CTL_DF(journal_bytes, CTL_GAUGE, "journal_bytes", NULL, 1, 1,
	       "Size of the journal."),
	CTL_DF(journal_live, CTL_GAUGE, "journal_live_bytes", NULL, 1, 1,
	       "Bytes of the journal still needed."),
	CTL_DF(journal_segments, CTL_GAUGE, "journal_segments", NULL, 1, 1,
	       "Segment files of the journal."),
	CTL_DF(journal_written, CTL_COUNTER, "journal_written_bytes", NULL, 1, 1,
	       "Bytes written to the journal."),
	CTL_DF(journal_syncs, CTL_COUNTER, "journal_syncs", NULL, 1, 1,
	       "fdatasync rounds of the journal (group commits)."),
	CTL_DF(journal_sync_us, CTL_COUNTER, "journal_sync_seconds", NULL, 1000000, 1,
	       "Time the journal's fdatasync rounds took."),
	CTL_DF(journal_sync_max_us, CTL_GAUGE, "journal_sync_max_seconds", NULL,
	       1000000, 1, "The longest fdatasync round of the journal."),
};

#define CTL_NDFIELDS (sizeof(ctl_dfields) / sizeof(ctl_dfields[0]))

/* The value of field f in d. */
static unsigned long long ctl_dvalue(const struct ipc_daemon_info *d,
				     const struct ctl_dfield *f)
{
	unsigned long long v;

	memcpy(&v, (const char *)d + f->off, sizeof(v));
	return v;
}

/* Is field f shown for d? (the journal's only with a journal) */
static int ctl_dshown(const struct ipc_daemon_info *d, const struct ctl_dfield *f)
{
	return !f->journal || d->durable;
}

/* info as "key: value" lines. */
static void ctl_info_text(const struct ipc_daemon_info *d)
{
	size_t i;

	printf("version: %s\n", d->version);
	for (i = 0; i < CTL_NDFIELDS; i++)
		if (ctl_dshown(d, &ctl_dfields[i]))
			printf("%s: %llu\n", ctl_dfields[i].key,
			       ctl_dvalue(d, &ctl_dfields[i]));
}

/* info as one JSON object with the same keys. */
static void ctl_info_json(const struct ipc_daemon_info *d)
{
	size_t i;

	printf("{\"version\":");
	ctl_json_str(d->version);
	for (i = 0; i < CTL_NDFIELDS; i++)
		if (ctl_dshown(d, &ctl_dfields[i]))
			printf(",\"%s\":%llu", ctl_dfields[i].key,
			       ctl_dvalue(d, &ctl_dfields[i]));
	printf("}\n");
}

/* info: the daemon's figures as key: value lines or JSON. */
int cmd_info(ipc_client *c, const struct ctl_args *a)
{
	struct ipc_daemon_info d;
	int rc = ipc_daemon_info(c, &d, sizeof(d));

	if (rc)
		return ctl_fail(c, rc, "info", NULL);
	if (a->seen & OPT_JSON)
		ctl_info_json(&d);
	else
		ctl_info_text(&d);
	return 0;
}

/* Print v / scale in decimal, exactly (scale a power of ten). */
static void ctl_prom_value(unsigned long long v, unsigned scale)
{
	int digits = 0;
	unsigned s;

	if (scale <= 1) {
		printf("%llu\n", v);
		return;
	}
	for (s = scale; s > 1; s /= 10)
		digits++;
	printf("%llu.%0*llu\n", v / scale, digits, v % scale);
}

/* Print a family's HELP and TYPE lines. */
static void ctl_prom_family(const char *name, int type, const char *help)
{
	printf("# HELP ipcd_%s%s %s\n# TYPE ipcd_%s%s %s\n", name,
	       type == CTL_COUNTER ? "_total" : "", help, name,
	       type == CTL_COUNTER ? "_total" : "",
	       type == CTL_COUNTER ? "counter" : "gauge");
}

/* Print s as a label value: backslash, double quote and newline escaped
 * as the exposition format says. */
static void ctl_prom_label(const char *s)
{
	for (; *s; s++) {
		if (*s == '\\' || *s == '"')
			printf("\\%c", *s);
		else if (*s == '\n')
			fputs("\\n", stdout);
		else
			putchar(*s);
	}
}

/* Print the daemon-wide series, a family's rows together. */
static void ctl_prom_daemon(const struct ipc_daemon_info *d)
{
	const struct ctl_dfield *f;
	size_t i;

	ctl_prom_family("build_info", CTL_GAUGE, "The daemon's version, "
			"in the label; the value is always 1.");
	printf("ipcd_build_info{version=\"");
	ctl_prom_label(d->version);
	printf("\"} 1\n");
	for (i = 0; i < CTL_NDFIELDS; i++) {
		f = &ctl_dfields[i];
		if (!f->metric || !ctl_dshown(d, f))
			continue;
		if (f->help)
			ctl_prom_family(f->metric, f->type, f->help);
		printf("ipcd_%s%s", f->metric, f->type == CTL_COUNTER ? "_total" : "");
		if (f->label)
			printf("{%s}", f->label);
		putchar(' ');
		ctl_prom_value(ctl_dvalue(d, f), f->scale);
	}
}

/* One per-queue or per-pipe family: a field of struct ipc_info. */
struct ctl_ofield {
	int kind;               /* IPC_KIND_QUEUE or IPC_KIND_PIPE */
	const char *metric;     /* after "ipcd_queue_" or "ipcd_pipe_" */
	int type;
	size_t off, size;       /* where in struct ipc_info, and its width */
	const char *help;
};

#define CTL_OF(kind, metric, type, f, help) \
	{ kind, metric, type, offsetof(struct ipc_info, f), \
	  sizeof(((struct ipc_info *)0)->f), help }

static const struct ctl_ofield ctl_ofields[] = {
	CTL_OF(IPC_KIND_QUEUE, "messages", CTL_GAUGE, size, "Messages held by the queue."),
	CTL_OF(IPC_KIND_QUEUE, "bytes", CTL_GAUGE, bytes, "Payload bytes held by the queue."),
	CTL_OF(IPC_KIND_QUEUE, "maxsize", CTL_GAUGE, maxsize,
	       "The most messages the queue holds (0: unbounded)."),
	CTL_OF(IPC_KIND_QUEUE, "inflight", CTL_GAUGE, inflight,
	       "Messages of the queue delivered for ack, not yet acked."),
	CTL_OF(IPC_KIND_QUEUE, "getters", CTL_GAUGE, getters, "Gets waiting on the queue."),
	CTL_OF(IPC_KIND_QUEUE, "putters", CTL_GAUGE, putters, "Puts waiting on the queue."),
	CTL_OF(IPC_KIND_QUEUE, "reserved", CTL_GAUGE, reserved,
	       "Slots producers reserved ahead of their puts, not yet spent "
	       "(they count toward maxsize)."),
	CTL_OF(IPC_KIND_QUEUE, "puts", CTL_COUNTER, puts, "Messages taken into the queue."),
	CTL_OF(IPC_KIND_QUEUE, "gets", CTL_COUNTER, gets,
	       "Messages delivered from the queue, redeliveries included."),
	CTL_OF(IPC_KIND_QUEUE, "requeued", CTL_COUNTER, requeued,
	       "In-flight messages put back into the queue."),
	CTL_OF(IPC_KIND_QUEUE, "dead_lettered", CTL_COUNTER, dead_lettered,
	       "Messages of the queue moved to its dead-letter queue."),
	CTL_OF(IPC_KIND_PIPE, "messages", CTL_GAUGE, size,
	       "Messages buffered in the pipe, both ways."),
	CTL_OF(IPC_KIND_PIPE, "bytes", CTL_GAUGE, bytes,
	       "Payload bytes buffered in the pipe, both ways."),
	CTL_OF(IPC_KIND_PIPE, "sends", CTL_COUNTER, puts, "Messages sent into the pipe."),
	CTL_OF(IPC_KIND_PIPE, "receives", CTL_COUNTER, gets,
	       "Messages received from the pipe."),
};

#define CTL_NOFIELDS (sizeof(ctl_ofields) / sizeof(ctl_ofields[0]))

/* The value of field f of in, whatever its width. */
static unsigned long long ctl_ovalue(const struct ipc_info *in,
				     const struct ctl_ofield *f)
{
	unsigned long long v8;
	unsigned v4;

	if (f->size == sizeof(v4)) {
		memcpy(&v4, (const char *)in + f->off, sizeof(v4));
		return v4;
	}
	memcpy(&v8, (const char *)in + f->off, sizeof(v8));
	return v8;
}

/* Print one per-object family: its HELP and TYPE, and a series per
 * queue (or pipe). */
static void ctl_prom_objects(const struct ctl_ofield *f,
			     const struct ipc_info *infos, size_t n)
{
	const char *kind = f->kind == IPC_KIND_QUEUE ? "queue" : "pipe";
	const char *total = f->type == CTL_COUNTER ? "_total" : "";
	char family[64];
	size_t i;

	snprintf(family, sizeof(family), "%s_%s", kind, f->metric);
	ctl_prom_family(family, f->type, f->help);
	for (i = 0; i < n; i++) {
		if (infos[i].kind != f->kind)
			continue;
		printf("ipcd_%s%s{%s=\"", family, total, kind);
		ctl_prom_label(infos[i].name);
		printf("\"} %llu\n", ctl_ovalue(&infos[i], f));
	}
}

/* metrics: the daemon's figures and every queue's and pipe's, in the
 * Prometheus text exposition format. */
int cmd_metrics(ipc_client *c, const struct ctl_args *a)
{
	struct ipc_daemon_info d;
	struct ipc_info *infos;
	size_t n, i;
	int rc;

	(void)a;
	if ((rc = ipc_daemon_info(c, &d, sizeof(d))))
		return ctl_fail(c, rc, "metrics", NULL);
	if ((rc = ipc_list(c, &infos, &n, sizeof(*infos))))
		return ctl_fail(c, rc, "metrics", NULL);
	ctl_prom_daemon(&d);
	for (i = 0; i < CTL_NOFIELDS; i++)
		ctl_prom_objects(&ctl_ofields[i], infos, n);
	ipc_free(infos);
	return fflush(stdout) == 0 && !ferror(stdout) ? 0 : EXIT_ERR;
}
