/* SPDX-License-Identifier: MIT */
/*
 * nats.c: the NATS JetStream backend of libipcclient. A queue NAME is the
 * stream IPCQ_<NAME> on the subject ipcd.q.<NAME> (NAME escaped, see
 * nats_encode) with work-queue retention, discard-new at max_msgs and one
 * shared durable pull consumer "ipcd" with explicit acks. docs/nats.md
 * says, row by row, which semantics of ipcclient.h hold exactly, which
 * with a difference and which are refused (pipes: IPC_ENOTSUP).
 *
 * Waiting happens here, not in a daemon: a get fetches in slices of at
 * most NATS_SLICE_MS (learning between slices whether the queue was
 * deleted), a put into a full stream retries with a backoff up to
 * NATS_BACKOFF_MAX_MS. Every put carries a Nats-Msg-Id, so that a publish
 * retried after a lost PubAck (a node failing over) is stored once.
 */
#include "config.h"

#include <errno.h>
#include <inttypes.h>
#include <nats/nats.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "backend.h"
#include "client_int.h"

#define NATS_STREAM_PREFIX "IPCQ_"
#define NATS_SUBJECT_PREFIX "ipcd.q."
#define NATS_CONSUMER "ipcd"
#define NATS_STREAM_MAX 255      /* longest stream name (a file name) */
#define NATS_HDR_ROOM 256        /* max_payload kept for the put headers */
#define NATS_SLICE_MS 1000       /* longest single fetch wait */
#define NATS_BACKOFF_MAX_MS 50   /* longest sleep of a put waiting for room */
#define NATS_RETRY_MS 20000      /* how long a call rides out a failover */
#define NATS_ELECTION_MS 100     /* pause between tries while leaders change */
#define NATS_LEASE_DEFAULT_MS 30000
#define NATS_COMMIT_MS 2000      /* how long an answered ack may take to commit */

/* A message delivered to this handle for a fetch that had ended (its
 * answer came late): handed out by the next fetch on its queue. */
struct nats_stash {
	struct nats_stash *next;
	natsMsg *msg;
};

/* A stream this handle saw exist: fetches on it skip the lookup (a pull
 * request to a missing consumer gets no answer at all). */
struct nats_known {
	struct nats_known *next;
	int replicated;          /* a work queue with replicas: an ack is
				    confirmed once the message left it */
	char stream[NATS_STREAM_MAX + 1];
};

/* One request of a round (nats_round), answered on the handle's ack inbox. */
struct nats_req {
	const char *subj;
	char body[48];
	int want;                /* send it in this round */
	natsMsg *answer;         /* NULL: no answer (yet) */
};

/* A message delivered by ipc_get_ack(), held until ipc_ack(). */
struct nats_held {
	struct nats_held *next;
	natsMsg *msg;
	uint64_t tag;            /* its stream sequence */
	char name[IPC_NAME_MAX + 1];
};

/* The backend's part of a handle (c->bstate). */
struct nats_state {
	natsConnection *nc;
	jsCtx *js;
	natsSubscription *inbox; /* answers to this handle's pull requests */
	char inbox_name[64];
	uint64_t reqid;          /* the last pull request, inbox_name.<reqid> */
	natsSubscription *acks;  /* answers to its acks and their checks */
	char acks_name[64];
	uint64_t ackid;          /* the last of those, acks_name.<ackid> */
	struct nats_stash *stash;
	struct nats_known *known;
	struct nats_held *held;
	natsMsg **kept;          /* the last ipc_get_many()'s messages */
	size_t nkept;
	int replicas;            /* of the queues this handle creates */
	int64_t lease_ms;        /* their consumer's AckWait */
	char idbase[48];         /* Nats-Msg-Id prefix, unique per handle */
	uint64_t idseq;
	pthread_mutex_t lock;    /* guards the async fields: libnats calls
				    nats_async_err from its own thread */
	uint64_t async_seq;      /* async messages published since the flush */
	int async_rc;
	unsigned long long async_notput;
	char async_err[256];
};

/* libnats is opened once per process; the last handle closes it. */
static pthread_mutex_t nats_lib_lock = PTHREAD_MUTEX_INITIALIZER;
static unsigned nats_lib_users;

/* The backend state of c. */
static struct nats_state *nats_st(struct ipc_client *c)
{
	return c->bstate;
}

/* Milliseconds on the monotonic clock. */
static int64_t nats_now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* The deadline of a timeout (-1: none, INT64_MAX). */
static int64_t nats_deadline(int timeout_ms)
{
	return timeout_ms < 0 ? INT64_MAX : nats_now_ms() + timeout_ms;
}

/* Sleep ms milliseconds. */
static void nats_sleep_ms(int64_t ms)
{
	struct timespec ts = { ms / 1000, (long)(ms % 1000) * 1000000L };

	while (nanosleep(&ts, &ts) != 0 && errno == EINTR)
		;
}

/*
 * Escape a queue name for a stream name and a subject token: letters,
 * digits and '-' stay, every other byte becomes _XX (hex), so the mapping
 * is reversible and no '.' splits the subject. 0 or IPC_ENAME when the
 * stream name would pass NATS_STREAM_MAX.
 */
static int nats_encode(const char *prefix, const char *name, char *out, size_t cap)
{
	size_t o = strlen(prefix);
	const unsigned char *p;

	if (o >= cap)
		return IPC_ENAME;
	memcpy(out, prefix, o);
	for (p = (const unsigned char *)name; *p; p++) {
		if (o + 4 > cap || o + 3 > NATS_STREAM_MAX + strlen(prefix) - 5)
			return IPC_ENAME;
		if ((*p >= 'a' && *p <= 'z') || (*p >= 'A' && *p <= 'Z') ||
		    (*p >= '0' && *p <= '9') || *p == '-')
			out[o++] = (char)*p;
		else
			o += (size_t)snprintf(out + o, cap - o, "_%02X", *p);
	}
	out[o] = '\0';
	return 0;
}

/* Undo nats_encode on a stream name: 0, or -1 when it is not a queue's. */
static int nats_decode(const char *stream, char *name, size_t cap)
{
	size_t pl = strlen(NATS_STREAM_PREFIX), o = 0;
	const char *p;
	unsigned v;

	if (strncmp(stream, NATS_STREAM_PREFIX, pl) != 0)
		return -1;
	for (p = stream + pl; *p && o + 1 < cap; p++) {
		if (*p != '_') {
			name[o++] = *p;
			continue;
		}
		if (sscanf(p + 1, "%2x", &v) != 1 || !p[1] || !p[2])
			return -1;
		name[o++] = (char)v;
		p += 2;
	}
	name[o] = '\0';
	return *p || o == 0 ? -1 : 0;
}

/* The stream and subject of queue name. 0 or IPC_ENAME. */
static int nats_names(struct ipc_client *c, const char *name, char *stream,
		      char *subject)
{
	if (nats_encode(NATS_STREAM_PREFIX, name, stream, NATS_STREAM_MAX + 1) != 0 ||
	    nats_encode(NATS_SUBJECT_PREFIX, name, subject, NATS_STREAM_MAX + 8) != 0) {
		client_seterr(c, "name too long for a NATS stream once escaped");
		return IPC_ENAME;
	}
	return 0;
}

/* Turn a libnats failure into a result, recording what failed. */
static int nats_fail(struct ipc_client *c, natsStatus s, jsErrCode ec,
		     const char *what)
{
	const char *detail = nats_GetLastError(NULL);

	client_seterr(c, "nats: %s: %s%s%s", what, natsStatus_GetText(s),
		      detail && *detail ? ": " : "", detail ? detail : "");
	if (s == NATS_NO_MEMORY)
		return client_fail(c, IPC_ENOMEM);
	if (s == NATS_NOT_FOUND || ec == JSStreamNotFoundErr ||
	    ec == JSConsumerNotFoundErr || s == NATS_NO_RESPONDERS)
		return IPC_ENOENT;
	if (ec != 0)
		return IPC_EINVAL; /* the server refused the request: its text says why */
	return client_fail(c, IPC_EIO);
}

/* 1 for a failure a node failing over explains: worth retrying. */
static int nats_transient(natsStatus s)
{
	return s == NATS_TIMEOUT || s == NATS_CONNECTION_DISCONNECTED ||
	       s == NATS_NO_RESPONDERS || s == NATS_NO_SERVER;
}

/* 1 for a JetStream API refusal that a leader election explains. */
static int nats_js_transient(jsErrCode ec)
{
	return ec == JSClusterNotAvailErr || ec == JSClusterNotLeaderErr ||
	       ec == JSStreamOfflineErr || ec == JSConsumerOfflineErr;
}

/* Parse the ?key=value&... options of a URL into st (they size the
 * queues this handle creates). 0 or IPC_EINVAL. */
static int nats_parse_opts(struct ipc_client *c, struct nats_state *st,
			   const char *q)
{
	char key[32];
	long long v;
	char val[32];
	int n;

	while (q && *q) {
		if (sscanf(q, "%31[^=&]=%31[^&]%n", key, val, &n) != 2)
			goto bad;
		if (strcmp(key, "replicas") == 0 && sscanf(val, "%lld", &v) == 1 && v >= 1 && v <= 5)
			st->replicas = (int)v;
		else if (strcmp(key, "lease") == 0 && sscanf(val, "%lld", &v) == 1 && v >= 1)
			st->lease_ms = v;
		else
			goto bad;
		q += n;
		q += *q == '&';
	}
	return 0;
bad:
	client_seterr(c, "nats URL: bad option near \"%s\" (replicas=1..5, lease=MS)", q);
	return IPC_EINVAL;
}

/* The error handler of async publishes (a libnats thread): keep the first
 * failure and count every message not put. */
static void nats_async_err(jsCtx *js, jsPubAckErr *pae, void *closure)
{
	struct nats_state *st = closure;
	const char *id = NULL;
	const char *dash;

	(void)js;
	pthread_mutex_lock(&st->lock);
	st->async_notput++;
	if (st->async_rc == 0) {
		natsMsgHeader_Get(pae->Msg, "Nats-Msg-Id", &id);
		dash = id ? strrchr(id, '-') : NULL;
		st->async_rc = pae->ErrCode == JSStreamStoreFailedErr ? IPC_EFULL :
			       pae->Err == NATS_NO_RESPONDERS ? IPC_ENOENT : IPC_EIO;
		snprintf(st->async_err, sizeof st->async_err, "async put %s: %s",
			 dash ? dash + 1 : "?", pae->ErrText ? pae->ErrText :
			 natsStatus_GetText(pae->Err));
	}
	pthread_mutex_unlock(&st->lock);
}

/* Split the comma-separated server list urls (modified) into srv[]. */
static int nats_split(char *urls, const char **srv, int max)
{
	char *save = NULL, *tok;
	int n = 0;

	for (tok = strtok_r(urls, ",", &save); tok && n < max;
	     tok = strtok_r(NULL, ",", &save))
		srv[n++] = tok;
	return n;
}

/* Open the connection and the JetStream context of st to urls (a
 * comma-separated list, tried in order). */
static int nats_open_conn(struct ipc_client *c, struct nats_state *st,
			  char *urls)
{
	const char *srv[16];
	natsOptions *o = NULL;
	jsOptions jo;
	natsStatus s;
	int n = nats_split(urls, srv, 16);

	s = natsOptions_Create(&o);
	if (s == NATS_OK)
		s = natsOptions_SetServers(o, srv, n);
	/* The servers in the order given: the first is the home node. */
	if (s == NATS_OK)
		s = natsOptions_SetNoRandomize(o, true);
	if (s == NATS_OK)
		s = natsOptions_SetMaxReconnect(o, -1);
	if (s == NATS_OK)
		s = natsOptions_SetReconnectWait(o, 100);
	if (s == NATS_OK)
		s = natsOptions_SetName(o, "libipcclient");
	if (s == NATS_OK)
		s = natsConnection_Connect(&st->nc, o);
	natsOptions_Destroy(o);
	if (s != NATS_OK) {
		nats_fail(c, s, 0, "connect");
		return IPC_ECONNECT;
	}
	jsOptions_Init(&jo);
	jo.PublishAsync.ErrHandler = nats_async_err;
	jo.PublishAsync.ErrHandlerClosure = st;
	jo.PublishAsync.MaxPending = IPC_WINDOW_MAX;
	s = natsConnection_JetStream(&st->js, st->nc, &jo);
	return s == NATS_OK ? 0 : nats_fail(c, s, 0, "JetStream context");
}

/* Check that the server runs JetStream: 0 or IPC_ECONNECT. */
static int nats_check_js(struct ipc_client *c, struct nats_state *st)
{
	jsAccountInfo *ai = NULL;
	jsErrCode ec = 0;
	natsStatus s = js_GetAccountInfo(&ai, st->js, NULL, &ec);

	jsAccountInfo_Destroy(ai);
	if (s == NATS_OK)
		return 0;
	client_seterr(c, "nats: JetStream not available on the server (start it with -js): %s",
		      natsStatus_GetText(s));
	return IPC_ECONNECT;
}

/* backend connect: target is nats://host:port[,nats://...][?options]. */
static int nats_connect(struct ipc_client *c, const char *target)
{
	struct nats_state *st = calloc(1, sizeof *st);
	char *urls = strdup(target), *q;
	int rc;

	if (!st || !urls) {
		free(st);
		free(urls);
		return IPC_ENOMEM;
	}
	pthread_mutex_init(&st->lock, NULL);
	st->replicas = 1;
	st->lease_ms = NATS_LEASE_DEFAULT_MS;
	snprintf(st->idbase, sizeof st->idbase, "%ld-%lld-%p", (long)getpid(),
		 (long long)nats_now_ms(), (void *)st);
	c->bstate = st;
	pthread_mutex_lock(&nats_lib_lock);
	nats_lib_users++;
	pthread_mutex_unlock(&nats_lib_lock);
	q = strchr(urls, '?');
	if (q)
		*q++ = '\0';
	rc = nats_parse_opts(c, st, q);
	if (rc == 0)
		rc = nats_open_conn(c, st, urls);
	if (rc == 0)
		rc = nats_check_js(c, st);
	free(urls);
	if (rc == 0) {
		int64_t mp = natsConnection_GetMaxPayload(st->nc) - NATS_HDR_ROOM;

		c->msg_max = mp < (int64_t)IPC_MSG_MAX ? (size_t)(mp > 0 ? mp : 0) : IPC_MSG_MAX;
	}
	return rc;
}

/* Parse the ack subject of a delivered message ($JS.ACK.<stream>.<consumer>.
 * <delivered>.<sseq>... or, from servers 2.10 on, $JS.ACK.<domain>.<hash>.
 * <stream>...): copy the stream name, return the stream sequence (0 when
 * it is no JetStream delivery). */
static uint64_t nats_ack_info(natsMsg *m, char *stream, size_t cap)
{
	const char *r = natsMsg_GetReply(m), *tok[12];
	unsigned long long seq;
	int n = 0, s0;

	if (!r || strncmp(r, "$JS.ACK.", 8) != 0)
		return 0;
	for (tok[n++] = r + 8; n < 12 && (r = strchr(tok[n - 1], '.')); )
		tok[n++] = r + 1;
	s0 = n >= 11 ? 2 : 0;
	if (n < 7 || sscanf(tok[s0 + 3], "%llu", &seq) != 1)
		return 0;
	snprintf(stream, cap, "%.*s", (int)(tok[s0 + 1] - tok[s0] - 1), tok[s0]);
	return seq;
}

/* Ack (+ACK) or give back (-NAK) a delivered message, not waiting. */
static void nats_ack_send(struct nats_state *st, natsMsg *m, const char *what)
{
	if (natsMsg_GetReply(m))
		natsConnection_PublishString(st->nc, natsMsg_GetReply(m), what);
}

/* Forget (gone 1) or remember (gone 0) that stream exists; with gone -1
 * only look it up. Its entry, or NULL (not remembered, or forgotten). */
static struct nats_known *nats_known(struct nats_state *st, const char *stream,
				     int gone)
{
	struct nats_known **pp, *k;

	for (pp = &st->known; (k = *pp); pp = &k->next)
		if (strcmp(k->stream, stream) == 0)
			break;
	if (gone == 1 && k) {
		*pp = k->next;
		free(k);
		return NULL;
	}
	if (gone == 0 && !k && (k = calloc(1, sizeof *k))) {
		snprintf(k->stream, sizeof k->stream, "%s", stream);
		k->replicated = 1;
		k->next = st->known;
		st->known = k;
	}
	return k;
}

/* Give back (nak) and forget every held message of name (NULL: all). */
static void nats_release_held(struct nats_state *st, const char *name, int nak)
{
	struct nats_held **pp = &st->held, *h;

	while ((h = *pp)) {
		if (name && strcmp(h->name, name) != 0) {
			pp = &h->next;
			continue;
		}
		*pp = h->next;
		if (nak)
			nats_ack_send(st, h->msg, "-NAK");
		natsMsg_Destroy(h->msg);
		free(h);
	}
}

/* Free the messages the last get_many handed out. */
static void nats_release_kept(struct nats_state *st)
{
	size_t i;

	for (i = 0; i < st->nkept; i++)
		natsMsg_Destroy(st->kept[i]);
	st->nkept = 0;
}

/* Give back every stashed message (closing). */
static void nats_release_stash(struct nats_state *st)
{
	struct nats_stash *x;

	while ((x = st->stash)) {
		st->stash = x->next;
		nats_ack_send(st, x->msg, "-NAK");
		natsMsg_Destroy(x->msg);
		free(x);
	}
}

/* backend close: give back held messages at once (like ipcd when a
 * consumer disconnects), wait a while for async puts, free everything. */
static void nats_close(struct ipc_client *c)
{
	struct nats_state *st = nats_st(c);
	jsPubOptions po;

	if (!st)
		return;
	nats_release_held(st, NULL, 1);
	nats_release_kept(st);
	free(st->kept);
	if (st->inbox)
		natsSubscription_Unsubscribe(st->inbox);
	if (st->acks)
		natsSubscription_Unsubscribe(st->acks);
	nats_release_stash(st);
	natsSubscription_Destroy(st->inbox);
	natsSubscription_Destroy(st->acks);
	while (st->known)
		nats_known(st, st->known->stream, 1);
	if (st->js) {
		jsPubOptions_Init(&po);
		po.MaxWait = NATS_RETRY_MS;
		js_PublishAsyncComplete(st->js, &po);
		jsCtx_Destroy(st->js);
	}
	if (st->nc) {
		natsConnection_Flush(st->nc);
		natsConnection_Destroy(st->nc);
	}
	pthread_mutex_destroy(&st->lock);
	free(st);
	c->bstate = NULL;
	pthread_mutex_lock(&nats_lib_lock);
	if (--nats_lib_users == 0)
		nats_CloseAndWait(NATS_RETRY_MS);
	pthread_mutex_unlock(&nats_lib_lock);
}

/* The info of stream (NULL when missing: *rc IPC_ENOENT, or failed).
 * While a node fails over the request can time out or be refused as
 * "temporarily unavailable": that is retried for NATS_RETRY_MS, since
 * only the server saying "stream not found" means the queue is gone. */
static jsStreamInfo *nats_stream_info(struct ipc_client *c, const char *stream,
				      int *rc)
{
	int64_t end = nats_now_ms() + NATS_RETRY_MS;
	jsStreamInfo *si = NULL;
	jsErrCode ec;
	natsStatus s;

	for (;;) {
		ec = 0;
		s = js_GetStreamInfo(&si, nats_st(c)->js, stream, NULL, &ec);
		if (s == NATS_OK || nats_now_ms() >= end ||
		    !(ec == 0 ? nats_transient(s) : nats_js_transient(ec)))
			break;
		nats_sleep_ms(NATS_ELECTION_MS);
	}
	*rc = s == NATS_OK ? 0 : nats_fail(c, s, ec, "stream info");
	if (*rc == IPC_ENOENT)
		client_seterr(c, "no such queue");
	return si;
}

/* Add the queue's consumer: the one shared durable pull consumer. */
static int nats_add_consumer(struct ipc_client *c, const char *stream)
{
	struct nats_state *st = nats_st(c);
	jsConsumerConfig cc;
	jsErrCode ec = 0;
	natsStatus s;

	jsConsumerConfig_Init(&cc);
	cc.Durable = NATS_CONSUMER;
	cc.AckPolicy = js_AckExplicit;
	cc.AckWait = st->lease_ms * 1000000LL;
	cc.MaxAckPending = -1;
	cc.MaxWaiting = 4096;
	s = js_AddConsumer(NULL, st->js, stream, &cc, NULL, &ec);
	return s == NATS_OK ? 0 : nats_fail(c, s, ec, "add consumer");
}

/* Create the stream of a queue (and its consumer): file storage for a
 * durable queue, memory otherwise. 0, IPC_EEXIST (it appeared meanwhile
 * with other settings) or a failure. */
static int nats_create(struct ipc_client *c, const char *stream,
		       const char *subject, long long maxsize, int durable)
{
	struct nats_state *st = nats_st(c);
	const char *subjects[1] = { subject };
	jsStreamConfig cfg;
	jsErrCode ec = 0;
	natsStatus s;

	jsStreamConfig_Init(&cfg);
	cfg.Name = stream;
	cfg.Subjects = subjects;
	cfg.SubjectsLen = 1;
	cfg.Retention = js_WorkQueuePolicy;
	cfg.MaxMsgs = maxsize > 0 ? maxsize : -1;
	cfg.Discard = js_DiscardNew;
	cfg.MaxMsgSize = (int32_t)(IPC_MSG_MAX + NATS_HDR_ROOM);
	cfg.Storage = durable ? js_FileStorage : js_MemoryStorage;
	cfg.Replicas = st->replicas;
	s = js_AddStream(NULL, st->js, &cfg, NULL, &ec);
	if (ec == JSStreamNameExistErr)
		return IPC_EEXIST;
	if (s != NATS_OK)
		return nats_fail(c, s, ec, "add stream");
	return nats_add_consumer(c, stream);
}

/* backend queue_open: look the stream up, create it when asked. */
static int nats_queue_open(struct ipc_client *c, const char *name,
			   const struct ipc_queue_opts *o, long long *actual)
{
	char stream[NATS_STREAM_MAX + 1], subject[NATS_STREAM_MAX + 8];
	jsStreamInfo *si;
	long long have;
	int durable, rc = nats_names(c, name, stream, subject);

	if (rc != 0)
		return rc;
	/* Streams have no owner here: NATS's own authorization decides. */
	if (o->flags & IPC_QUEUE_OWNED)
		return client_notsup(c, "IPC_QUEUE_OWNED (streams have no owner)");
	if (o->max_deliveries)
		return client_notsup(c, "dead-lettering (max_deliveries)");
	si = nats_stream_info(c, stream, &rc);
	if (rc == IPC_ENOENT && (o->flags & IPC_QUEUE_CREATE)) {
		rc = nats_create(c, stream, subject, o->maxsize > 0 ? o->maxsize : 0,
				 (o->flags & IPC_QUEUE_DURABLE) != 0);
		if (rc == 0 && actual)
			*actual = o->maxsize > 0 ? o->maxsize : 0;
		if (rc != IPC_EEXIST || (o->flags & IPC_QUEUE_EXCL))
			return rc;
		si = nats_stream_info(c, stream, &rc);
	}
	if (rc != 0)
		return rc;
	have = si->Config->MaxMsgs > 0 ? si->Config->MaxMsgs : 0;
	durable = si->Config->Storage == js_FileStorage;
	jsStreamInfo_Destroy(si);
	if ((o->flags & (IPC_QUEUE_CREATE | IPC_QUEUE_EXCL)) ==
	    (IPC_QUEUE_CREATE | IPC_QUEUE_EXCL)) {
		client_seterr(c, "queue exists");
		return IPC_EEXIST;
	}
	if (actual)
		*actual = have;
	if (o->maxsize != IPC_MAXSIZE_ANY && o->maxsize != have) {
		client_seterr(c, "queue exists with maxsize %lld", have);
		return IPC_EMISMATCH;
	}
	if ((o->flags & IPC_QUEUE_DURABLE) && !durable) {
		client_seterr(c, "queue exists and is not durable");
		return IPC_EMISMATCH;
	}
	return 0;
}

/* After a fetch found nothing: IPC_EEMPTY while the queue exists, else
 * IPC_EDELETED (it went away while this call waited) or IPC_ENOENT. */
static int nats_empty_or_gone(struct ipc_client *c, const char *stream, int waited)
{
	struct nats_known *k;
	jsStreamInfo *si;
	int rc;

	si = nats_stream_info(c, stream, &rc);
	k = nats_known(nats_st(c), stream, rc == 0 ? 0 : 1);
	if (k)
		k->replicated = si->Config->Replicas > 1 &&
				si->Config->Retention == js_WorkQueuePolicy;
	jsStreamInfo_Destroy(si);
	if (rc == 0) {
		client_seterr(c, "empty");
		return IPC_EEMPTY;
	}
	if (rc == IPC_ENOENT && waited) {
		client_seterr(c, "queue deleted while waiting");
		return IPC_EDELETED;
	}
	return rc;
}

/* Take stashed messages of stream into out[*n..cap). */
static void nats_unstash(struct nats_state *st, const char *stream,
			 natsMsg **out, size_t cap, size_t *n)
{
	struct nats_stash **pp = &st->stash, *x;
	char s2[NATS_STREAM_MAX + 1];

	while ((x = *pp) && *n < cap) {
		nats_ack_info(x->msg, s2, sizeof s2);
		if (strcmp(s2, stream) != 0) {
			pp = &x->next;
			continue;
		}
		*pp = x->next;
		out[(*n)++] = x->msg;
		free(x);
	}
}

/* Keep a late delivery for the next fetch on its queue (or give it
 * back when out of memory). */
static void nats_stash_msg(struct nats_state *st, natsMsg *m)
{
	struct nats_stash *x = calloc(1, sizeof *x), **pp = &st->stash;

	if (!x) {
		nats_ack_send(st, m, "-NAK");
		natsMsg_Destroy(m);
		return;
	}
	while (*pp)
		pp = &(*pp)->next;
	x->msg = m;
	*pp = x;
}

/* Outcomes of one pull request. */
enum { PULL_DONE, PULL_GONE, PULL_LOST };

/* Send a pull request for up to cap - *n messages of stream (wait_ms 0:
 * no_wait) and read its answers into out until it ends: a status for it
 * (404, 408: done; 409, 503: the consumer is gone) or cap messages.
 * Answers of earlier requests are stashed (messages) or dropped. */
static int nats_pull(struct nats_state *st, const char *stream, natsMsg **out,
		     size_t cap, size_t *n, int64_t wait_ms)
{
	char subj[NATS_STREAM_MAX + 64], reply[96], body[96], mine[NATS_STREAM_MAX + 1];
	int64_t end = nats_now_ms() + wait_ms + NATS_SLICE_MS;
	const char *status;
	natsMsg *m;

	snprintf(subj, sizeof subj, "$JS.API.CONSUMER.MSG.NEXT.%s.%s", stream, NATS_CONSUMER);
	snprintf(reply, sizeof reply, "%s.%" PRIu64, st->inbox_name, ++st->reqid);
	if (wait_ms > 0)
		snprintf(body, sizeof body, "{\"batch\":%zu,\"expires\":%" PRId64 "}",
			 cap - *n, wait_ms * 1000000);
	else
		snprintf(body, sizeof body, "{\"batch\":%zu,\"no_wait\":true}", cap - *n);
	if (natsConnection_PublishRequestString(st->nc, subj, reply, body) != NATS_OK)
		return PULL_LOST;
	while (*n < cap) {
		if (natsSubscription_NextMsg(&m, st->inbox, end - nats_now_ms()) != NATS_OK)
			return PULL_LOST;
		status = NULL;
		natsMsgHeader_Get(m, "Status", &status);
		if (!status && nats_ack_info(m, mine, sizeof mine) && strcmp(mine, stream) == 0)
			out[(*n)++] = m;
		else if (!status)
			nats_stash_msg(st, m);
		else if (strcmp(natsMsg_GetSubject(m), reply) != 0)
			natsMsg_Destroy(m);
		else {
			int gone = strcmp(status, "409") == 0 || strcmp(status, "503") == 0;

			natsMsg_Destroy(m);
			return gone ? PULL_GONE : PULL_DONE;
		}
	}
	return PULL_DONE;
}

/* One try at up to cap messages: what is there (stashed first), or else
 * wait up to wait_ms for the first one and then take what is there. */
static int nats_fetch_try(struct nats_state *st, const char *stream,
			  natsMsg **out, size_t cap, size_t *n, int64_t wait_ms)
{
	int r = PULL_DONE;

	nats_unstash(st, stream, out, cap, n);
	if (*n == 0 && (cap > 1 || wait_ms <= 0))
		r = nats_pull(st, stream, out, cap, n, 0);
	if (*n == 0 && wait_ms > 0 && r == PULL_DONE)
		r = nats_pull(st, stream, out, 1, n, wait_ms);
	if (*n == 1 && cap > 1 && wait_ms > 0 && r == PULL_DONE)
		r = nats_pull(st, stream, out, cap, n, 0);
	return *n > 0 ? PULL_DONE : r;
}

/* Subscribe *sub to a new inbox (its name in name[64]) and everything
 * under it, on first use. */
static int nats_open_inbox(struct ipc_client *c, natsSubscription **sub, char *name)
{
	natsInbox *ib = NULL;
	char subj[80];
	natsStatus s;

	if (*sub)
		return 0;
	s = natsInbox_Create(&ib);
	if (s == NATS_OK) {
		snprintf(name, 64, "%s", (const char *)ib);
		snprintf(subj, sizeof subj, "%s.*", name);
		s = natsConnection_SubscribeSync(sub, nats_st(c)->nc, subj);
	}
	natsInbox_Destroy(ib);
	if (s == NATS_OK)
		s = natsSubscription_SetPendingLimits(*sub, -1, -1);
	return s == NATS_OK ? 0 : nats_fail(c, s, 0, "inbox");
}

/* Open the handle's inbox for pull answers, on first use. */
static int nats_inbox(struct ipc_client *c, struct nats_state *st)
{
	return nats_open_inbox(c, &st->inbox, st->inbox_name);
}

/*
 * Fetch up to cap messages of name into out (unacked), waiting per
 * timeout_ms for the first one, in slices of at most NATS_SLICE_MS (the
 * queue's existence is checked between them), then taking what is there.
 * On 0, *n >= 1.
 */
static int nats_fetch_wait(struct ipc_client *c, const char *name, natsMsg **out,
			   size_t cap, size_t *n, int timeout_ms)
{
	struct nats_state *st = nats_st(c);
	char stream[NATS_STREAM_MAX + 1], subject[NATS_STREAM_MAX + 8];
	int64_t end = nats_deadline(timeout_ms), left;
	int rc, r;

	*n = 0;
	if ((rc = nats_names(c, name, stream, subject)) != 0 || (rc = nats_inbox(c, st)) != 0)
		return rc;
	if (!nats_known(st, stream, -1) &&
	    (rc = nats_empty_or_gone(c, stream, 0)) != IPC_EEMPTY)
		return rc;
	for (;;) {
		left = end == INT64_MAX ? NATS_SLICE_MS : end - nats_now_ms();
		r = nats_fetch_try(st, stream, out, cap, n, left < NATS_SLICE_MS ? left : NATS_SLICE_MS);
		if (*n > 0)
			return 0;
		if (r == PULL_LOST && natsConnection_IsClosed(st->nc))
			return nats_fail(c, NATS_CONNECTION_CLOSED, 0, "fetch");
		if (r == PULL_GONE || (end != INT64_MAX && nats_now_ms() >= end))
			return nats_empty_or_gone(c, stream, timeout_ms != 0);
		if ((rc = nats_empty_or_gone(c, stream, 1)) != IPC_EEMPTY)
			return rc;
	}
}

/* Answer msg with body ("+ACK", "-NAK ...") and wait for the server to
 * confirm, retrying across a failover (both are idempotent). 0, or
 * IPC_ENOTHELD when it could not be confirmed. */
static int nats_reply_sync(struct ipc_client *c, natsMsg *msg, const char *body)
{
	struct nats_state *st = nats_st(c);
	int64_t end = nats_now_ms() + NATS_RETRY_MS;
	natsMsg *r = NULL;
	natsStatus s;

	while ((s = natsConnection_RequestString(&r, st->nc, natsMsg_GetReply(msg),
						 body, NATS_SLICE_MS)) != NATS_OK &&
	       nats_transient(s) && nats_now_ms() < end)
		;
	natsMsg_Destroy(r);
	if (s == NATS_OK)
		return 0;
	client_seterr(c, "nats: %s not confirmed (%s): the message may be delivered again",
		      body, natsStatus_GetText(s));
	return IPC_ENOTHELD;
}

/*
 * Send every wanted request of r[0..k) and wait up to NATS_SLICE_MS for
 * the answers: r[i].answer is set for each one answered. All but the
 * last go out as publishes answered on the ack inbox, the last as a
 * request, which sends everything at once (a publish waits ~1 ms for
 * libnats's flusher) and waits for its answer; answers come in order. A
 * "no responders" status (a leader is being elected) is no answer;
 * answers to an earlier round are dropped.
 */
static void nats_round(struct nats_state *st, struct nats_req *r, size_t k)
{
	int64_t end = nats_now_ms() + NATS_SLICE_MS;
	uint64_t base = st->ackid + 1, id;
	const char *dot, *status;
	char reply[96];
	size_t i, last = k, left = 0;
	natsMsg *m;

	for (i = 0; i < k; i++) {
		r[i].answer = NULL;
		last = r[i].want ? i : last;
	}
	st->ackid += k;
	for (i = 0; i < last; i++) {
		snprintf(reply, sizeof reply, "%s.%" PRIu64, st->acks_name, base + i);
		left += r[i].want && natsConnection_PublishRequestString(
			st->nc, r[i].subj, reply, r[i].body) == NATS_OK;
	}
	if (last < k && natsConnection_RequestString(&r[last].answer, st->nc, r[last].subj,
						     r[last].body, NATS_SLICE_MS) != NATS_OK)
		r[last].answer = NULL;
	while (left > 0 && natsSubscription_NextMsg(&m, st->acks, end > nats_now_ms() ?
						    end - nats_now_ms() : 1) == NATS_OK) {
		dot = strrchr(natsMsg_GetSubject(m), '.');
		id = dot ? strtoull(dot + 1, NULL, 10) : 0;
		status = NULL;
		natsMsgHeader_Get(m, "Status", &status);
		if (id >= base && id - base < last && r[id - base].want &&
		    !r[id - base].answer && !status) {
			r[id - base].answer = m;
			left--;
		} else
			natsMsg_Destroy(m);
	}
}

/* Free the answers of a round; how many requests were answered (and,
 * unless answered is NULL, which: answered[i]). */
static size_t nats_round_done(struct nats_req *r, size_t k, unsigned char *answered)
{
	size_t i, n = 0;

	for (i = 0; i < k; i++) {
		if (answered)
			answered[i] = r[i].answer != NULL;
		n += r[i].answer != NULL;
		natsMsg_Destroy(r[i].answer);
		r[i].answer = NULL;
	}
	return n;
}

/* What a STREAM.MSG.GET answer says: 1 the message is gone (or the
 * stream), 0 it is still there, -1 no telling (a leader is elected). */
static int nats_msg_gone(natsMsg *answer)
{
	char buf[256];
	int len = natsMsg_GetDataLength(answer);

	snprintf(buf, sizeof buf, "%.*s", len, natsMsg_GetData(answer));
	if (strstr(buf, "\"err_code\":10037") || strstr(buf, "\"err_code\":10059"))
		return 1;
	return strstr(buf, "\"message\":") ? 0 : -1;
}

/*
 * Wait up to NATS_COMMIT_MS until every message msgs[i] with want[i] set
 * has left stream, asking the stream's leader by sequence; set ok[i] for
 * each that did. The number that did.
 */
static size_t nats_wait_gone(struct nats_state *st, const char *stream,
			     natsMsg **msgs, struct nats_req *r, const unsigned char *want,
			     unsigned char *ok, size_t k)
{
	char subj[NATS_STREAM_MAX + 32], name[NATS_STREAM_MAX + 1];
	int64_t end = nats_now_ms() + NATS_COMMIT_MS, pause = 1;
	size_t i, gone = 0, left = 0;

	snprintf(subj, sizeof subj, "$JS.API.STREAM.MSG.GET.%s", stream);
	for (i = 0; i < k; i++) {
		r[i].want = want[i];
		r[i].subj = subj;
		snprintf(r[i].body, sizeof r[i].body, "{\"seq\":%" PRIu64 "}",
			 nats_ack_info(msgs[i], name, sizeof name));
		left += want[i];
	}
	while (left > 0) {
		nats_round(st, r, k);
		for (i = 0; i < k; i++)
			if (r[i].answer && nats_msg_gone(r[i].answer) == 1) {
				ok[i] = 1;
				r[i].want = 0;
				gone++;
				left--;
			}
		nats_round_done(r, k, NULL);
		if (left == 0 || nats_now_ms() + pause >= end)
			break;
		nats_sleep_ms(pause);
		pause = pause * 2 < 64 ? pause * 2 : 64;
	}
	return gone;
}

/*
 * Ack msgs[0..k) of stream and wait until each ack is confirmed (ok[i]):
 * answered by the consumer's leader and, on a replicated work queue, the
 * message gone from the stream. A leader answers an ack before its
 * followers have it (nats-server 2.9), so an answered ack can die with
 * it in a failover and the message come again; once the message has
 * left the stream, a majority of the consumer's replicas took the ack.
 * Acks not confirmed are sent again (an ack is idempotent) for up to
 * NATS_RETRY_MS. All requests of a step are in flight together. The
 * number confirmed.
 */
static size_t nats_confirm(struct ipc_client *c, const char *stream,
			   natsMsg **msgs, size_t k, unsigned char *ok)
{
	struct nats_state *st = nats_st(c);
	struct nats_known *kn = nats_known(st, stream, -1);
	int64_t end = nats_now_ms() + NATS_RETRY_MS;
	unsigned char *answered;
	struct nats_req *r;
	size_t i, done = 0;

	memset(ok, 0, k);
	if (nats_open_inbox(c, &st->acks, st->acks_name) != 0 ||
	    !(r = calloc(k, sizeof *r + 1)))
		return 0;
	answered = (unsigned char *)(r + k);
	while (done < k && nats_now_ms() < end) {
		for (i = 0; i < k; i++) {
			r[i].want = !ok[i];
			r[i].subj = natsMsg_GetReply(msgs[i]);
			snprintf(r[i].body, sizeof r[i].body, "+ACK");
		}
		nats_round(st, r, k);
		if (nats_round_done(r, k, answered) == 0)
			nats_sleep_ms(NATS_ELECTION_MS);
		else if (kn && !kn->replicated)
			for (i = 0; i < k; i++) {
				done += answered[i] && !ok[i];
				ok[i] |= answered[i];
			}
		else
			done += nats_wait_gone(st, stream, msgs, r, answered, ok, k);
	}
	free(r);
	return done;
}

/* Ack msg, confirmed (nats_confirm): 0, or IPC_ENOTHELD when that could
 * not be done (it may be delivered again). */
static int nats_ack_confirmed(struct ipc_client *c, natsMsg *msg)
{
	char stream[NATS_STREAM_MAX + 1];
	unsigned char ok;

	nats_ack_info(msg, stream, sizeof stream);
	if (nats_confirm(c, stream, &msg, 1, &ok) == 1)
		return 0;
	client_seterr(c, "nats: +ACK not confirmed: the message may be delivered again");
	return IPC_ENOTHELD;
}
/* backend get: fetch one, ack it and wait for the server to confirm
 * (at-most-once: it has left the queue when the call returns). */
static int nats_get(struct ipc_client *c, const char *name, void **data,
		    size_t *len, int timeout_ms)
{
	natsMsg *m;
	size_t n;
	int rc = nats_fetch_wait(c, name, &m, 1, &n, timeout_ms);

	if (rc != 0)
		return rc;
	nats_ack_confirmed(c, m);
	rc = client_copy_out(c, natsMsg_GetData(m), (size_t)natsMsg_GetDataLength(m),
			     data, len);
	natsMsg_Destroy(m);
	return rc;
}

/* backend get_ack: fetch one without acking; hold it under its stream
 * sequence as the tag. lease_ms: the queue's AckWait rules (docs). */
static int nats_get_ack(struct ipc_client *c, const char *name, void **data,
			size_t *len, uint64_t *tag, int timeout_ms, int lease_ms)
{
	struct nats_state *st = nats_st(c);
	char stream[NATS_STREAM_MAX + 1];
	struct nats_held *h;
	natsMsg *m;
	size_t n;
	int rc = nats_fetch_wait(c, name, &m, 1, &n, timeout_ms);

	(void)lease_ms;
	if (rc != 0)
		return rc;
	if (!(h = calloc(1, sizeof *h))) {
		nats_ack_send(st, m, "-NAK");
		natsMsg_Destroy(m);
		return client_fail(c, IPC_ENOMEM);
	}
	h->msg = m;
	h->tag = nats_ack_info(m, stream, sizeof stream);
	snprintf(h->name, sizeof h->name, "%s", name);
	h->next = st->held;
	st->held = h;
	*tag = h->tag;
	return client_copy_out(c, natsMsg_GetData(m), (size_t)natsMsg_GetDataLength(m),
			       data, len);
}

/* Take the message held under tag of name off the held list and answer
 * it with body, confirmed: 0, or IPC_ENOTHELD. */
static int nats_answer(struct ipc_client *c, const char *name, uint64_t tag,
		       const char *body)
{
	struct nats_state *st = nats_st(c);
	struct nats_held **pp, *h;
	int rc;

	for (pp = &st->held; (h = *pp); pp = &h->next)
		if (h->tag == tag && strcmp(h->name, name) == 0)
			break;
	if (!h) {
		client_seterr(c, "no message in flight under that tag");
		return IPC_ENOTHELD;
	}
	*pp = h->next;
	rc = strcmp(body, "+ACK") == 0 ? nats_ack_confirmed(c, h->msg) :
					 nats_reply_sync(c, h->msg, body);
	natsMsg_Destroy(h->msg);
	free(h);
	return rc;
}

/* backend ack: the held message of name under tag is done. */
static int nats_ack(struct ipc_client *c, const char *name, uint64_t tag)
{
	return nats_answer(c, name, tag, "+ACK");
}

/* backend release: a -NAK the server confirms; with a delay it
 * redelivers the message once delay_ms have passed. */
static int nats_release(struct ipc_client *c, const char *name, uint64_t tag,
			int delay_ms)
{
	char body[64];

	if (delay_ms > 0)
		snprintf(body, sizeof body, "-NAK {\"delay\": %lld}",
			 (long long)delay_ms * 1000000);
	else
		snprintf(body, sizeof body, "-NAK");
	return nats_answer(c, name, tag, body);
}

/* Publish one message with the Nats-Msg-Id id, synchronously. */
static natsStatus nats_publish(struct nats_state *st, const char *subject,
			       const char *id, const void *data, size_t len,
			       jsErrCode *ec)
{
	natsMsg *m = NULL;
	jsPubAck *pa = NULL;
	natsStatus s = natsMsg_Create(&m, subject, NULL, data, (int)len);

	if (s == NATS_OK)
		s = natsMsgHeader_Set(m, "Nats-Msg-Id", id);
	if (s == NATS_OK)
		s = js_PublishMsg(&pa, st->js, m, NULL, ec);
	jsPubAck_Destroy(pa);
	natsMsg_Destroy(m);
	return s;
}

/* After a publish found no responders: 1 if the stream still exists
 * (its leader is being elected: no one answers meanwhile), 0 if the
 * server says it is gone or cannot say within NATS_RETRY_MS. */
static int nats_stream_alive(struct ipc_client *c, const char *subject)
{
	char stream[NATS_STREAM_MAX + 16];
	jsStreamInfo *si;
	int rc;

	/* Subject and stream share the encoded name after their prefixes. */
	snprintf(stream, sizeof stream, "%s%s", NATS_STREAM_PREFIX,
		 subject + strlen(NATS_SUBJECT_PREFIX));
	si = nats_stream_info(c, stream, &rc);
	jsStreamInfo_Destroy(si);
	return rc == 0;
}

/* Put one message until end (INT64_MAX: forever): retried with a
 * backoff while the stream is full, and across a failover with the same
 * Msg-Id (a publish with no responders is retried while the stream
 * exists: its leader is being elected). */
static int nats_put_until(struct ipc_client *c, const char *subject,
			  const void *data, size_t len, int64_t end)
{
	struct nats_state *st = nats_st(c);
	int64_t backoff = 1, grace = nats_now_ms() + NATS_RETRY_MS, now;
	jsErrCode ec = 0;
	natsStatus s;
	char id[80];

	snprintf(id, sizeof id, "%s-%" PRIu64, st->idbase, ++st->idseq);
	for (;;) {
		ec = 0;
		s = nats_publish(st, subject, id, data, len, &ec);
		if (s == NATS_OK)
			return 0;
		now = nats_now_ms();
		if (ec == JSStreamStoreFailedErr && now < end) {
			nats_sleep_ms(backoff < end - now ? backoff : end - now);
			backoff = backoff * 2 < NATS_BACKOFF_MAX_MS ? backoff * 2 : NATS_BACKOFF_MAX_MS;
		} else if (ec == 0 && nats_transient(s) && s != NATS_NO_RESPONDERS && now < grace) {
			continue;
		} else if (s == NATS_NO_RESPONDERS && now < grace && nats_stream_alive(c, subject)) {
			nats_sleep_ms(NATS_ELECTION_MS);
		} else if (ec != 0 && nats_js_transient(ec) && now < grace) {
			nats_sleep_ms(NATS_ELECTION_MS);
		} else
			break;
	}
	if (ec == JSStreamStoreFailedErr) {
		client_seterr(c, "full");
		return IPC_EFULL;
	}
	if (ec == JSStreamMessageExceedsMaximumErr || s == NATS_MAX_PAYLOAD) {
		client_seterr(c, "message too big for the NATS server");
		return IPC_ETOOBIG;
	}
	if (s == NATS_NO_RESPONDERS) {
		client_seterr(c, "no such queue");
		return IPC_ENOENT;
	}
	return nats_fail(c, s, ec, "publish");
}

/* backend put. */
static int nats_put(struct ipc_client *c, const char *name, const void *data,
		    size_t len, int timeout_ms)
{
	char stream[NATS_STREAM_MAX + 1], subject[NATS_STREAM_MAX + 8];
	int rc = nats_names(c, name, stream, subject);

	return rc ? rc : nats_put_until(c, subject, data, len, nats_deadline(timeout_ms));
}

/* backend put_many: one publish after the other (so what is in is a
 * prefix), the timeout over the whole call. */
static int nats_put_many(struct ipc_client *c, const char *name,
			 const struct ipc_msg *msgs, size_t n, size_t *nput,
			 int timeout_ms)
{
	char stream[NATS_STREAM_MAX + 1], subject[NATS_STREAM_MAX + 8];
	int64_t end = nats_deadline(timeout_ms);
	size_t i = 0;
	int rc = nats_names(c, name, stream, subject);

	while (rc == 0 && i < n) {
		rc = nats_put_until(c, subject, msgs[i].data, msgs[i].len, end);
		i += rc == 0;
	}
	if (nput)
		*nput = i;
	return rc;
}

/* backend get_many: wait for the first message, take what is there
 * (up to max), ack them all; they stay valid until the next get_many. */
static int nats_get_many(struct ipc_client *c, const char *name,
			 struct ipc_msg *msgs, size_t max, size_t *n, int timeout_ms)
{
	struct nats_state *st = nats_st(c);
	char stream[NATS_STREAM_MAX + 1];
	unsigned char ok[IPC_BATCH_MAX];
	size_t i;
	int rc;

	nats_release_kept(st);
	if (!st->kept && !(st->kept = calloc(IPC_BATCH_MAX, sizeof *st->kept)))
		return client_fail(c, IPC_ENOMEM);
	rc = nats_fetch_wait(c, name, st->kept, max, &st->nkept, timeout_ms);
	if (rc != 0)
		return rc;
	nats_ack_info(st->kept[0], stream, sizeof stream);
	nats_confirm(c, stream, st->kept, st->nkept, ok);
	for (i = 0; i < st->nkept; i++) {
		msgs[i].data = natsMsg_GetData(st->kept[i]);
		msgs[i].len = (size_t)natsMsg_GetDataLength(st->kept[i]);
	}
	*n = st->nkept;
	return 0;
}

/* backend put_async: publish without waiting for the PubAck; failures
 * come at flush (nats_async_err). */
static int nats_put_async(struct ipc_client *c, const char *name, const void *data,
			  size_t len, int timeout_ms)
{
	struct nats_state *st = nats_st(c);
	char stream[NATS_STREAM_MAX + 1], subject[NATS_STREAM_MAX + 8], id[80];
	natsMsg *m = NULL;
	natsStatus s;
	int rc = nats_names(c, name, stream, subject);

	(void)timeout_ms;
	if (rc != 0)
		return rc;
	pthread_mutex_lock(&st->lock);
	snprintf(id, sizeof id, "%s-%" PRIu64, st->idbase, ++st->async_seq);
	pthread_mutex_unlock(&st->lock);
	s = natsMsg_Create(&m, subject, NULL, data, (int)len);
	if (s == NATS_OK)
		s = natsMsgHeader_Set(m, "Nats-Msg-Id", id);
	if (s == NATS_OK)
		s = js_PublishMsgAsync(st->js, &m, NULL);
	natsMsg_Destroy(m);
	return s == NATS_OK ? 0 : nats_fail(c, s, 0, "async publish");
}

/* backend put_many_async: each message an async put. */
static int nats_put_many_async(struct ipc_client *c, const char *name,
			       const struct ipc_msg *msgs, size_t n, int timeout_ms)
{
	size_t i;
	int rc = 0;

	for (i = 0; i < n && rc == 0; i++)
		rc = nats_put_async(c, name, msgs[i].data, msgs[i].len, timeout_ms);
	return rc;
}

/* backend flush: wait for every PubAck; the first failure, if any. */
static int nats_flush(struct ipc_client *c)
{
	struct nats_state *st = nats_st(c);
	natsStatus s = js_PublishAsyncComplete(st->js, NULL);
	int rc;

	if (s != NATS_OK)
		return nats_fail(c, s, 0, "waiting for async puts");
	pthread_mutex_lock(&st->lock);
	rc = st->async_rc;
	c->flush_notput = st->async_notput;
	if (rc != 0)
		client_seterr(c, "%s", st->async_err);
	st->async_rc = 0;
	st->async_notput = 0;
	st->async_seq = 0;
	pthread_mutex_unlock(&st->lock);
	return rc;
}

/* backend push: libnats writes in the background; nothing is held. */
static int nats_push(struct ipc_client *c)
{
	natsStatus s = natsConnection_FlushTimeout(nats_st(c)->nc, NATS_RETRY_MS);

	return s == NATS_OK ? 0 : nats_fail(c, s, 0, "flush");
}

/* backend set_readahead: accepted, no effect (docs/nats.md). */
static int nats_set_readahead(struct ipc_client *c, const char *name, unsigned n)
{
	(void)c;
	(void)name;
	(void)n;
	return 0;
}

/* backend fd: no descriptor to poll. */
static int nats_fd(const struct ipc_client *c)
{
	(void)c;
	return -1;
}

/* Fill *info from a queue's stream and consumer info (ci may be NULL). */
static void nats_fill_info(struct ipc_info *info, const char *name,
			   const jsStreamInfo *si, const jsConsumerInfo *ci)
{
	uint64_t pending = ci && ci->NumAckPending > 0 ? (uint64_t)ci->NumAckPending : 0;

	memset(info, 0, sizeof *info);
	snprintf(info->name, sizeof info->name, "%s", name);
	info->kind = IPC_KIND_QUEUE;
	info->maxsize = si->Config->MaxMsgs > 0 ? si->Config->MaxMsgs : 0;
	info->size = si->State.Msgs > pending ? si->State.Msgs - pending : 0;
	info->bytes = si->State.Bytes;
	info->puts = si->State.LastSeq;
	info->inflight = pending;
	info->durable = si->Config->Storage == js_FileStorage;
	if (ci) {
		info->getters = ci->NumWaiting > 0 ? (unsigned)ci->NumWaiting : 0;
		info->gets = ci->Delivered.Consumer;
		info->requeued = ci->NumRedelivered > 0 ? (uint64_t)ci->NumRedelivered : 0;
	}
}

/* The stat of one stream, given its info. */
static int nats_stat_si(struct ipc_client *c, const char *name,
			const jsStreamInfo *si, struct ipc_info *info)
{
	jsConsumerInfo *ci = NULL;
	jsErrCode ec = 0;
	natsStatus s = js_GetConsumerInfo(&ci, nats_st(c)->js, si->Config->Name,
					  NATS_CONSUMER, NULL, &ec);

	if (s != NATS_OK && s != NATS_NOT_FOUND)
		return nats_fail(c, s, ec, "consumer info");
	nats_fill_info(info, name, si, ci);
	jsConsumerInfo_Destroy(ci);
	return 0;
}

/* backend stat. */
static int nats_stat(struct ipc_client *c, const char *name, struct ipc_info *info)
{
	char stream[NATS_STREAM_MAX + 1], subject[NATS_STREAM_MAX + 8];
	jsStreamInfo *si;
	int rc = nats_names(c, name, stream, subject);

	if (rc != 0)
		return rc;
	si = nats_stream_info(c, stream, &rc);
	if (rc == 0)
		rc = nats_stat_si(c, name, si, info);
	jsStreamInfo_Destroy(si);
	return rc;
}

/* backend del: delete the stream (its consumer goes with it). */
static int nats_del(struct ipc_client *c, const char *name)
{
	struct nats_state *st = nats_st(c);
	char stream[NATS_STREAM_MAX + 1], subject[NATS_STREAM_MAX + 8];
	jsErrCode ec = 0;
	natsStatus s;
	int rc = nats_names(c, name, stream, subject);

	if (rc != 0)
		return rc;
	nats_release_held(st, name, 0);
	nats_known(st, stream, 1);
	s = js_DeleteStream(st->js, stream, NULL, &ec);
	if (s == NATS_OK)
		return 0;
	rc = nats_fail(c, s, ec, "delete stream");
	if (rc == IPC_ENOENT)
		client_seterr(c, "no such queue");
	return rc;
}

/* qsort order of ipc_info by name. */
static int nats_info_cmp(const void *a, const void *b)
{
	return strcmp(((const struct ipc_info *)a)->name,
		      ((const struct ipc_info *)b)->name);
}

/* backend list: every IPCQ_ stream, sorted by queue name. */
static int nats_list(struct ipc_client *c, struct ipc_info **infos, size_t *n)
{
	jsStreamInfoList *l = NULL;
	jsErrCode ec = 0;
	char name[IPC_NAME_MAX + 1];
	natsStatus s = js_Streams(&l, nats_st(c)->js, NULL, &ec);
	int i, rc = 0;

	*infos = NULL;
	*n = 0;
	if (s == NATS_NOT_FOUND)
		return 0;
	if (s != NATS_OK)
		return nats_fail(c, s, ec, "stream list");
	if (l->Count > 0 && !(*infos = calloc((size_t)l->Count, sizeof **infos)))
		rc = client_fail(c, IPC_ENOMEM);
	for (i = 0; rc == 0 && i < l->Count; i++)
		if (nats_decode(l->List[i]->Config->Name, name, sizeof name) == 0)
			rc = nats_stat_si(c, name, l->List[i], &(*infos)[(*n)++]);
	jsStreamInfoList_Destroy(l);
	if (rc != 0) {
		free(*infos);
		*infos = NULL;
		*n = 0;
		return rc;
	}
	qsort(*infos, *n, sizeof **infos, nats_info_cmp);
	return 0;
}

/* backend purge: the stream's purge request, whose answer says how many
 * messages went ("purged"). Unlike ipcd's, it drops messages in flight
 * too (docs/nats.md). */
static int nats_purge(struct ipc_client *c, const char *name, uint64_t *dropped)
{
	struct nats_state *st = nats_st(c);
	char stream[NATS_STREAM_MAX + 1], subject[NATS_STREAM_MAX + 8];
	char api[NATS_STREAM_MAX + 32];
	unsigned long long n = 0;
	const char *body, *p;
	natsMsg *r = NULL;
	natsStatus s;
	int rc = nats_names(c, name, stream, subject);

	if (rc != 0)
		return rc;
	snprintf(api, sizeof api, "$JS.API.STREAM.PURGE.%s", stream);
	s = natsConnection_RequestString(&r, st->nc, api, "", NATS_RETRY_MS);
	if (s != NATS_OK)
		return nats_fail(c, s, 0, "purge");
	body = natsMsg_GetData(r);
	p = body && !strstr(body, "\"error\"") ? strstr(body, "\"purged\":") : NULL;
	if (p == NULL || sscanf(p + 9, "%llu", &n) != 1) {
		rc = body && strstr(body, "10059") ? IPC_ENOENT : IPC_EIO;
		client_seterr(c, rc == IPC_ENOENT ? "no such queue" : "nats: purge: %s",
			      body ? body : "no answer");
	}
	natsMsg_Destroy(r);
	if (rc == 0 && dropped)
		*dropped = n;
	return rc == IPC_EIO ? client_fail(c, rc) : rc;
}

/* The sequence after the last one the queue's consumer delivered, and
 * the stream's last sequence: the messages in between were never
 * delivered. 0 or a failure. */
static int nats_undelivered(struct ipc_client *c, const char *stream,
			    uint64_t *first, uint64_t *last)
{
	jsConsumerInfo *ci = NULL;
	jsStreamInfo *si;
	jsErrCode ec = 0;
	natsStatus s;
	int rc;

	si = nats_stream_info(c, stream, &rc);
	if (rc != 0)
		return rc;
	*last = si->State.LastSeq;
	*first = si->State.FirstSeq;     /* after a purge, past what went */
	jsStreamInfo_Destroy(si);
	s = js_GetConsumerInfo(&ci, nats_st(c)->js, stream, NATS_CONSUMER, NULL, &ec);
	if (s != NATS_OK)
		return nats_fail(c, s, ec, "consumer info");
	if (ci->Delivered.Stream + 1 > *first)
		*first = ci->Delivered.Stream + 1;
	jsConsumerInfo_Destroy(ci);
	return 0;
}

/* backend peek: the stream's messages after the last one delivered, read
 * by sequence (a sequence purged or deleted is skipped), kept until the
 * handle's next batch call as get_many's are. Messages given back and
 * not yet redelivered are not seen (docs/nats.md). */
static int nats_peek(struct ipc_client *c, const char *name, struct ipc_msg *msgs,
		     size_t max, size_t *n)
{
	struct nats_state *st = nats_st(c);
	char stream[NATS_STREAM_MAX + 1], subject[NATS_STREAM_MAX + 8];
	uint64_t seq = 1, last = 0;
	jsErrCode ec;
	natsStatus s;
	int rc = nats_names(c, name, stream, subject);

	nats_release_kept(st);
	if (rc != 0 || (rc = nats_undelivered(c, stream, &seq, &last)) != 0)
		return rc;
	if (!st->kept && !(st->kept = calloc(IPC_BATCH_MAX, sizeof *st->kept)))
		return client_fail(c, IPC_ENOMEM);
	for (; seq <= last && st->nkept < max; seq++) {
		ec = 0;
		s = js_GetMsg(&st->kept[st->nkept], st->js, stream, seq, NULL, &ec);
		if (s == NATS_NOT_FOUND || ec == JSNoMessageFoundErr)
			continue;
		if (s != NATS_OK)
			return nats_fail(c, s, ec, "get message");
		msgs[st->nkept].data = natsMsg_GetData(st->kept[st->nkept]);
		msgs[st->nkept].len = (size_t)natsMsg_GetDataLength(st->kept[st->nkept]);
		st->nkept++;
	}
	*n = st->nkept;
	if (*n == 0)
		client_seterr(c, "empty");
	return *n ? 0 : IPC_EEMPTY;
}

/* The NATS JetStream backend: pipes, chmod and chown are refused
 * (IPC_ENOTSUP). */
const struct backend_ops nats_backend = {
	.name = "nats",
	.connect = nats_connect,
	.close = nats_close,
	.queue_open = nats_queue_open,
	.put = nats_put,
	.get = nats_get,
	.get_ack = nats_get_ack,
	.ack = nats_ack,
	.release = nats_release,
	.peek = nats_peek,
	.purge = nats_purge,
	.stat = nats_stat,
	.del = nats_del,
	.list = nats_list,
	.put_many = nats_put_many,
	.get_many = nats_get_many,
	.put_async = nats_put_async,
	.put_many_async = nats_put_many_async,
	.flush = nats_flush,
	.push = nats_push,
	.set_readahead = nats_set_readahead,
	.fd = nats_fd,
};
