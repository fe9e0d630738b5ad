/* SPDX-License-Identifier: MIT */
/* durable.c: the journal of durable queues, driven by the event loop. */
#include <errno.h>
#include <poll.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <sys/uio.h>
#include <event2/event.h>

#include "access.h"
#include "broker.h"
#include "conn.h"
#include "deadletter.h"
#include "durable.h"
#include "ipc_defs.h"
#include "journal.h"
#include "log.h"
#include "proto.h"
#include "qmsg.h"
#include "queue.h"
#include "server.h"

/* Bytes of compaction per loop iteration (well under a millisecond). */
#define DURABLE_COMPACT_BUDGET (256u << 10)
/* The sync thread polls this many times busy-poll for the next put: the
 * loop polls busy-poll for a request, but the thread's wait also spans
 * the reply's trip to the client and the client's wake-up, and with
 * busy-poll alone its poll missed often enough on the 2-vCPU VM to turn
 * itself off. */
#define DURABLE_SPIN_FACTOR 2u
/* How long shutdown waits for the last sync. */
#define DURABLE_DRAIN_MS 10000

/* A reply held until the journal has the put it answers. */
struct dheld {
	struct journal_waiter w;
	struct ilist link;          /* in durable.held */
	struct conn *conn;
	uint32_t op, id, count;
	uint64_t dropped;           /* QPURGE's figure */
};

struct durable {
	struct server *srv;
	struct journal *j;          /* NULL until a durable queue exists */
	struct event *flush_ev;     /* writes the iteration's records */
	struct event *sync_ev;      /* the sync thread signalled */
	struct event *compact_ev;   /* more compaction next iteration */
	int flush_armed;
	struct ilist held;          /* struct dheld, oldest first */
	char why[512];              /* why the journal last failed to open */
};

/* The daemon's one journal, for the queue hooks. */
static struct durable *durable_self;

/* Records were appended: write them at the end of this loop iteration. */
static void durable_touch(struct durable *d)
{
	if (d->flush_armed)
		return;
	d->flush_armed = 1;
	event_active(d->flush_ev, EV_TIMEOUT, 0);
}

/* Compact a step; come back next iteration while there is more. When
 * it stops, the last copies are written at the end of the iteration too:
 * it may stop to wait for their sync (which calls it again), and a sync
 * covers only what is written. */
static void durable_compact(struct durable *d)
{
	const struct timeval now = { 0, 0 };

	if (journal_compact(d->j, DURABLE_COMPACT_BUDGET)) {
		evtimer_add(d->compact_ev, &now);
		durable_touch(d);
	} else if (journal_buffered(d->j)) {
		durable_touch(d);
	}
}

/* End of the loop iteration: write the records, reply what that allows. */
static void durable_on_flush(evutil_socket_t fd, short what, void *arg)
{
	struct durable *d = arg;

	(void)fd;
	(void)what;
	d->flush_armed = 0;
	if (journal_flush(d->j) != 0)
		log_warn("journal: write failed (%s); the puts waiting for it "
			 "get IPC_ENOSPC", strerror(errno));
	durable_compact(d);
}

/* Write the iteration's records ahead of the replies. */
void durable_flush(struct server *s)
{
	struct durable *d = s->durable;

	if (d && d->j && d->flush_armed)
		durable_on_flush(-1, 0, d);
}

/* The sync thread finished a round. */
static void durable_on_sync(evutil_socket_t fd, short what, void *arg)
{
	struct durable *d = arg;

	(void)fd;
	(void)what;
	journal_complete(d->j);
	durable_compact(d);
}

/* The compaction timer. */
static void durable_on_compact(evutil_socket_t fd, short what, void *arg)
{
	(void)fd;
	(void)what;
	durable_compact(arg);
}

/* Queue hook: m left q for good. */
static void durable_gone(struct queue *q, struct qmsg *m)
{
	struct durable *d = durable_self;

	if (!m->jid || !d || !d->j)
		return;
	if (journal_consume(d->j, queue_durable_id(q), &m->jid, 1) != 0)
		log_warn("journal: no room to record a get from '%s': the "
			 "message comes back after a restart", queue_name(q));
	m->jid = 0;
	durable_touch(d);
}

/* Queue hook: m was delivered for acknowledgement. */
static void durable_held(struct queue *q, struct qmsg *m)
{
	struct durable *d = durable_self;

	if (!m->jid || !d || !d->j)
		return;
	if (journal_deliver(d->j, queue_durable_id(q), &m->jid, 1) == 0)
		durable_touch(d);
}

static const struct queue_hooks durable_hooks = { durable_gone, durable_held };

/* Recovery state: the queues made so far, by qid (they come in order). */
struct drecover {
	struct server *srv;
	struct queue **queues;
	uint32_t *qids;
	size_t n, cap;
	size_t last;            /* the queue of the last message */
};

/* Recovery: make a durable queue as journaled. */
static int durable_rec_queue(void *arg, const struct journal_queue *jq)
{
	struct drecover *r = arg;
	struct access_cred cred = { .uid = jq->uid, .gid = jq->gid };
	struct queue *q = NULL;
	void *v;
	int rc;

	if (r->n == r->cap) {
		r->cap = r->cap ? r->cap * 2 : 16;
		if (!(v = realloc(r->queues, r->cap * sizeof(*r->queues))))
			return -ENOMEM;
		r->queues = v;
		if (!(v = realloc(r->qids, r->cap * sizeof(*r->qids))))
			return -ENOMEM;
		r->qids = v;
	}
	rc = broker_queue_open_as(&r->srv->broker, jq->name, (int64_t)jq->maxsize,
				  BROKER_OPEN_CREATE | BROKER_OPEN_EXCL, &cred,
				  (int)jq->mode, &q);
	if (rc != 0) {
		log_err("journal: cannot restore queue '%s': %s", jq->name,
			proto_strerror(rc));
		return -EINVAL;
	}
	queue_set_durable(q, jq->qid, &durable_hooks);
	if (jq->max_deliveries && deadletter_set(r->srv, q, jq->max_deliveries,
						 jq->dead_letter) != 0)
		return -ENOMEM;
	r->queues[r->n] = q;
	r->qids[r->n++] = jq->qid;
	return 0;
}

/* Recovery: put a message back into its queue. */
static int durable_rec_message(void *arg, const struct journal_msg *jm)
{
	struct drecover *r = arg;
	size_t lo = 0, hi = r->n, mid;
	struct qmsg *m;

	if (r->last < r->n && r->qids[r->last] == jm->qid)
		lo = hi = r->last;  /* the same queue as the last message */
	while (lo < hi) {
		mid = lo + (hi - lo) / 2;
		if (r->qids[mid] < jm->qid)
			lo = mid + 1;
		else
			hi = mid;
	}
	if (lo == r->n || r->qids[lo] != jm->qid)
		return 0;     /* cannot happen: the journal drops orphans */
	r->last = lo;
	if (!(m = qmsg_new_bulk(jm->data, jm->len)))
		return -ENOMEM;
	m->jid = jm->mid;
	m->deliveries = jm->deliveries;
	queue_recover(r->queues[lo], m, jm->delivered);
	return 0;
}

/* Seconds on the monotonic clock. */
static double durable_now(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

/* Log what recovery found. */
static void durable_log_report(const struct journal_report *rep, double dt)
{
	if (rep->torn_bytes)
		log_warn("journal: cut off a torn tail of %llu bytes (a write "
			 "interrupted by a crash)",
			 (unsigned long long)rep->torn_bytes);
	if (rep->salvaged_bytes)
		log_warn("journal: --salvage set aside %llu bytes after the "
			 "corrupt record", (unsigned long long)rep->salvaged_bytes);
	if (rep->segments)
		log_info("journal: recovered %llu queues, %llu messages from %u "
			 "segments (%.1f MB) in %.3f s (%.0f MB/s)",
			 (unsigned long long)rep->queues,
			 (unsigned long long)rep->messages, rep->segments,
			 (double)rep->bytes / 1e6, dt,
			 dt > 0 ? (double)rep->bytes / 1e6 / dt : 0.0);
}

/* The journal options of the running configuration. */
static struct journal_opts durable_opts(const struct config *cfg)
{
	static const enum journal_sync modes[] = {
		[CONFIG_SYNC_ALWAYS] = JOURNAL_SYNC_ALWAYS,
		[CONFIG_SYNC_INTERVAL] = JOURNAL_SYNC_INTERVAL,
		[CONFIG_SYNC_NONE] = JOURNAL_SYNC_NONE,
	};
	struct journal_opts o = {
		.dir = cfg->state_dir,
		.sync = modes[cfg->sync],
		.interval_ms = (unsigned)cfg->sync_interval,
		.salvage = cfg->salvage != 0,
	};

	return o;
}

/* Open (and replay) the journal and watch its sync thread: 0 or -1. */
static int durable_open(struct durable *d)
{
	struct journal_opts o = durable_opts(&d->srv->cfg);
	struct drecover r = { .srv = d->srv };
	struct journal_replay rp = { durable_rec_queue, durable_rec_message, &r };
	struct journal_report rep;
	double t0 = durable_now();
	int rc = journal_open(&o, &rp, &d->j, &rep);

	qmsg_bulk_end();
	free(r.queues);
	free(r.qids);
	if (rc != 0) {
		snprintf(d->why, sizeof(d->why), "%s", rep.error[0] ? rep.error : strerror(-rc));
		log_err("journal: %s%s", d->why,
			rc == JOURNAL_E_CORRUPT ? "; start ipcd with --salvage "
			"to keep the records before it" : "");
		return -1;
	}
	durable_log_report(&rep, durable_now() - t0);
	durable_apply(d->srv);
	if (journal_fd(d->j) >= 0) {
		d->sync_ev = event_new(d->srv->base, journal_fd(d->j),
				       EV_READ | EV_PERSIST, durable_on_sync, d);
		if (!d->sync_ev || event_add(d->sync_ev, NULL) != 0)
			return -1;
	}
	return 0;
}

/* Set up; recover when the state directory holds a journal. */
int durable_init(struct server *s)
{
	struct durable *d = calloc(1, sizeof(*d));

	if (!d)
		return -1;
	d->srv = s;
	ilist_init(&d->held);
	s->durable = d;
	durable_self = d;
	d->flush_ev = event_new(s->base, -1, 0, durable_on_flush, d);
	d->compact_ev = evtimer_new(s->base, durable_on_compact, d);
	if (!d->flush_ev || !d->compact_ev)
		return -1;
	if (s->cfg.state_dir[0] && journal_exists(s->cfg.state_dir))
		return durable_open(d);
	return 0;
}

/* Write, sync (waiting here: the loop is stopping) and answer. */
void durable_drain(struct server *s)
{
	struct durable *d = s->durable;
	struct pollfd p;
	double end = durable_now() + DURABLE_DRAIN_MS / 1000.0;

	if (!d || !d->j)
		return;
	journal_flush(d->j);
	p.fd = journal_fd(d->j);
	p.events = POLLIN;
	while (p.fd >= 0 && !ilist_empty(&d->held) && durable_now() < end) {
		if (poll(&p, 1, 100) > 0)
			journal_complete(d->j);
	}
}

/* Close the journal and free everything. */
void durable_fini(struct server *s)
{
	struct durable *d = s->durable;

	if (!d)
		return;
	if (d->j)
		journal_close(d->j);   /* completes what is still held */
	if (d->sync_ev)
		event_free(d->sync_ev);
	if (d->flush_ev)
		event_free(d->flush_ev);
	if (d->compact_ev)
		event_free(d->compact_ev);
	if (durable_self == d)
		durable_self = NULL;
	free(d);
	s->durable = NULL;
}

/* The owner and mode of q into *jq. */
static void durable_describe(struct server *s, struct queue *q,
			     struct journal_queue *jq)
{
	struct broker_info info;

	memset(jq, 0, sizeof(*jq));
	broker_info(&s->broker, queue_name(q), &info);
	jq->uid = (uint32_t)info.owner.uid;
	jq->gid = (uint32_t)info.owner.gid;
	jq->mode = info.owner.mode;
	jq->maxsize = queue_maxsize(q);
	strcpy(jq->name, queue_name(q));
	jq->max_deliveries = info.queue.max_deliveries;
	strcpy(jq->dead_letter, info.dead_letter);
}

/* Journal a new durable queue. */
int durable_create(struct server *s, struct queue *q)
{
	struct durable *d = s->durable;
	struct journal_queue jq;
	int rc;

	if (!d || !s->cfg.state_dir[0])
		return IPC_ENODURABLE;
	if (!d->j && durable_open(d) != 0)
		return IPC_ENODURABLE;
	durable_describe(s, q, &jq);
	if ((rc = journal_queue_set(d->j, &jq)) != 0)
		return rc > 0 ? rc : IPC_ENOSPC;
	queue_set_durable(q, jq.qid, &durable_hooks);
	durable_touch(d);
	return 0;
}

/* Why durable_create answered IPC_ENODURABLE, for the reply's detail. */
const char *durable_off_reason(const struct server *s)
{
	static char text[600];
	const struct durable *d = s->durable;

	if (!d || !s->cfg.state_dir[0])
		return "durability is off: state-dir is empty";
	snprintf(text, sizeof(text), "durability is off: the journal in state-dir "
		 "could not be opened: %s", d->why[0] ? d->why : "unknown error");
	return text;
}

/* Journal the new owner or mode of durable queue q. */
int durable_settings(struct server *s, struct queue *q)
{
	struct durable *d = s->durable;
	struct journal_queue jq;
	int rc;

	if (!d || !d->j)
		return IPC_ENODURABLE;
	durable_describe(s, q, &jq);
	jq.qid = queue_durable_id(q);
	if ((rc = journal_queue_set(d->j, &jq)) != 0)
		return rc > 0 ? rc : IPC_ENOSPC;
	durable_touch(d);
	return 0;
}

/* Journal a durable queue deleted. */
int durable_delete(struct server *s, struct queue *q)
{
	struct durable *d = s->durable;
	int rc;

	if (!queue_durable_id(q) || !d || !d->j)
		return 0;
	if ((rc = journal_queue_delete(d->j, queue_durable_id(q))) != 0)
		return rc > 0 ? rc : IPC_ENOSPC;
	durable_touch(d);
	return 0;
}

/* Journal the first n of msgs, up to the first message too large to
 * journal (*rc IPC_ETOOBIG): how many. */
static size_t durable_put_prefix(struct durable *d, struct queue *q,
				 struct qmsg **msgs, size_t n, int *rc)
{
	static struct iovec v[IPC_BATCH_MAX];
	static uint64_t mids[IPC_BATCH_MAX];
	size_t i, done;

	/* A memfd message is journaled from its mapping, within the
	 * journal's record bound (the inline limit). */
	for (i = 0; i < n && msgs[i]->len <= IPC_MSG_MAX; i++)
		v[i] = (struct iovec){ (void *)qmsg_bytes(msgs[i]), msgs[i]->len };
	*rc = i < n ? IPC_ETOOBIG : 0;
	if (i > 0) {
		int jrc = journal_put_many(d->j, queue_durable_id(q), v, i, mids,
					   &done);
		if (jrc != 0)
			*rc = jrc > 0 ? jrc : IPC_ENOSPC;
		i = done;
	}
	for (done = 0; done < i; done++)
		msgs[done]->jid = mids[done];
	return i;
}

/* Journal a batch put, a prefix of at most IPC_BATCH_MAX at a time. */
size_t durable_put_many(struct server *s, struct queue *q, struct qmsg **msgs,
			size_t n, int *rc)
{
	struct durable *d = s->durable;
	size_t done = 0, k;

	*rc = 0;
	if (!queue_durable_id(q) || !d || !d->j)
		return n;
	while (done < n && *rc == 0) {
		k = n - done < IPC_BATCH_MAX ? n - done : IPC_BATCH_MAX;
		done += durable_put_prefix(d, q, msgs + done, k, rc);
	}
	if (done > 0)
		durable_touch(d);
	return done;
}

/* Journal a put. */
int durable_put(struct server *s, struct queue *q, struct qmsg *m)
{
	int rc;

	durable_put_many(s, q, &m, 1, &rc);
	return rc;
}

/* A journaled message that never entered its queue. */
void durable_drop(struct server *s, struct qmsg *m)
{
	if (!m || !m->jid)
		return;
	durable_forget(s, m->jid);
	m->jid = 0;
}

/* The journaled message jid left its queue for good. */
void durable_forget(struct server *s, uint64_t jid)
{
	struct durable *d = s->durable;

	if (!jid || !d || !d->j)
		return;
	if (journal_forget(d->j, jid) != 0)
		log_warn("journal: no room to record a message gone: it comes "
			 "back after a restart");
	durable_touch(d);
}

/* A held reply's records are in the journal (or could not be). */
static void durable_held_done(struct journal_waiter *w, int status)
{
	struct dheld *h = (struct dheld *)w;
	struct proto_rep rep = { .op = h->op, .id = h->id, .status = status,
				 .count = status ? 0 : h->count,
				 .dropped = status ? 0 : h->dropped };
	struct conn *c = h->conn;

	ilist_unlink(&h->link);
	free(h);
	conn_reply(c, &rep);
}

/* Reply now, or once the journal has the put. */
void durable_reply(struct conn *c, const struct proto_rep *rep, int durable)
{
	struct durable *d = c->srv->durable;
	struct dheld *h;

	if (!durable || rep->status != 0 || !d || !d->j ||
	    !(h = calloc(1, sizeof(*h)))) {
		conn_reply(c, rep);
		return;
	}
	h->w.done = durable_held_done;
	h->conn = c;
	h->op = rep->op;
	h->id = rep->id;
	h->count = rep->count;
	h->dropped = rep->dropped;
	ilist_link_tail(&d->held, &h->link);
	journal_wait(d->j, &h->w);
	durable_touch(d);
}

/* The journal's size and live bytes. */
void durable_journal_size(struct server *s, uint64_t *bytes, uint64_t *live)
{
	struct journal_stats st = { 0 };

	if (s->durable && s->durable->j)
		journal_stats(s->durable->j, &st);
	*bytes = st.bytes;
	*live = st.live_bytes;
}

/* The journal's figures, when there is one open. */
int durable_stats(struct server *s, struct journal_stats *st)
{
	memset(st, 0, sizeof(*st));
	if (!s->durable || !s->durable->j)
		return 0;
	journal_stats(s->durable->j, st);
	return 1;
}

/* How long the recent syncs took (us, at least 1) while a reply waits
 * for one; 0 when none does. */
unsigned durable_sync_wait_us(const struct server *s)
{
	const struct durable *d = s->durable;

	return d != NULL && !ilist_empty(&d->held) ? journal_round_us(d->j) + 1 : 0;
}

/* Take the reloadable settings: the sync thread's poll (busy-poll). */
void durable_apply(struct server *s)
{
	struct durable *d = s->durable;

	if (d != NULL && d->j != NULL)
		journal_set_spin(d->j, DURABLE_SPIN_FACTOR * (unsigned)s->cfg.busy_poll);
}

/* Forget the held replies of a connection that is gone. */
void durable_conn_gone(struct server *s, struct conn *c)
{
	struct durable *d = s->durable;
	struct ilist *n, *next;
	struct dheld *h;

	if (!d)
		return;
	for (n = ilist_first(&d->held); n != NULL; n = next) {
		next = ilist_next(&d->held, n);
		h = container_of(n, struct dheld, link);
		if (h->conn != c)
			continue;
		journal_unwait(d->j, &h->w);
		ilist_unlink(&h->link);
		free(h);
	}
}
