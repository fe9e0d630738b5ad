/* SPDX-License-Identifier: MIT */
/*
 * ipcbench.c: ipcd against what users would pick instead, in one run.
 *
 * Starts a fresh ipcd (and redis-server, and nats-server -js for the same
 * library calls on NATS JetStream) on private sockets, measures
 * every workload of issue 5 for 64-byte and 64 KiB messages, and prints
 * one table with ipcd's ratio to each other system, then the targets.
 * `--json` prints the rows as JSON lines; `--quick` makes it short.
 * Run by `make bench`, never by make check.
 */
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <time.h>
#include <sys/utsname.h>

#include "bench.h"
#include <ipcclient/ipcclient.h>

#define MAX_ROWS 320
#define IDLE_QUEUES 10000
#define IDLE_CLIENTS 1000
#define IDLE_PAIRS 3            /* +idle/-idle pairs per mode and round */
#define DUR_PAIRS 5             /* pairs per durability target and round */
#define NONDUR_PAIRS 15         /* and for non-durable with vs without a
				   journal: a 5% target, where one pair of
				   these short runs spreads 0.6..1.4x */
#define PAIRS_MAX 64
#define NATS_DIVIDE 32          /* NATS rows move 1/32 of the messages */

/* The ratios of a target measured in back-to-back pairs of runs (one
 * side over its reference), one per pair. */
struct pairs {
	double r[PAIRS_MAX];
	unsigned n;
};

/* The whole benchmark's state. */
struct bench {
	struct bench_opts o;
	int json;
	const char *ipcd_bin;
	const char *only;        /* comma-separated sections/systems, or NULL */
	const char *attach;      /* --socket: use this running ipcd, start none */
	unsigned repeat;         /* --repeat: rounds, each row's best kept */
	unsigned rounds;         /* how many rounds (--repeat, or the default) */
	pid_t attach_pid;        /* --pid: its pid (for RSS) */
	char tmpdir[64];
	char sock[128];
	pid_t ipcd_pid;
	int redis_up;
	char redis_note[96];
	const char *nats_bin;    /* --nats: nats-server ('' : skip NATS) */
	char nats_url[96];       /* its URL, memory storage */
	pid_t nats_pid;
	int nats_up;
	char nats_note[96];
	struct row rows[MAX_ROWS];
	size_t nrows;
	long rss_conn_b, rss_queue_b;  /* the idle workload's findings, or -1 */
	struct pairs idle[MODE__MAX];  /* +idle/-idle of each pair */
	struct pairs nondur;     /* non-durable 1/1 plain: journal/no journal */
	struct pairs dur_disk;   /* durable 1/1 plain sync=always / fdatasync */
	struct pairs dur_interval;  /* 4/4 batch64 durable sync=interval / no journal */
	ipc_client **ab_idle[2]; /* --ab: the idle clients held on each side */
	size_t ab_idle_nc[2];
	const char *sysname;     /* the system name of ipcd rows ("ipcd") */
	unsigned qflags;         /* extra flags of the queues runs create */
	const char *commit;      /* --commit: what was measured */
	const char *ab[2];       /* --ab OLD NEW: the two ipcd binaries, or NULL */
	char date[32];           /* when the run started (UTC) */
	double load_start;       /* 1-minute load average at start and end */
	double load_end;
	struct noise_snap run_snap;  /* the whole run's noise */
	double run_other;        /* other processes' CPU over the run, % of a core */
	double run_kern;         /* kernel threads' CPU over the run, the same */
	double run_steal;
};

static void print_dur_targets(const struct bench *b);

static const char *const mode_name[MODE__MAX] = { "plain", "pipelined", "batch64" };

/* Messages from this size (1 MiB, 16 MiB: the "large" rows past 64 KiB)
 * run 1/1 plain and pipelined only, on a queue of BIG_QUEUE_MAX. */
#define BIG_SIZE (1u << 20)
#define BIG_QUEUE_MAX 8

static const char *const sections[] = { "tput", "pipe", "lat", "idle", "dur", "recover",
					 NULL };
static const char *const sizes[] = { "small", "large", NULL };
static const char *const systems[] = { "ipcd", "redis", "mq", "python", "raw", "nats", NULL };
static const char *const modes[] = { "plain", "pipelined", "batch64", NULL };
static const char *const peers[] = { "1/1", "4/4", NULL };
static const char *const *const kinds[] = { sections, sizes, systems, modes, peers };

/* 1 when word is an item of the comma-separated list. */
static int in_list(const char *list, const char *word)
{
	size_t n = strlen(word);
	const char *p;

	for (p = list; (p = strstr(p, word)) != NULL; p += n)
		if ((p == list || p[-1] == ',') && (p[n] == ',' || p[n] == '\0'))
			return 1;
	return 0;
}

/* 1 when `what` (a section, size or system) was asked for: --only names
 * none of its kind, or names it. */
static int wanted(const struct bench *b, const char *what)
{
	const char *const *kind = sections;
	size_t i, k;
	int any = 0;

	if (b->only == NULL)
		return 1;
	for (k = 0; k < sizeof(kinds) / sizeof(kinds[0]); k++)
		for (i = 0; kinds[k][i] != NULL; i++)
			if (strcmp(kinds[k][i], what) == 0)
				kind = kinds[k];
	for (i = 0; kind[i] != NULL; i++)
		any |= in_list(b->only, kind[i]);
	return !any || in_list(b->only, what);
}

/* A new row in the table. */
static struct row *add_row(struct bench *b, const char *workload, const char *system,
			   size_t size)
{
	struct row *row = &b->rows[b->nrows < MAX_ROWS - 1 ? b->nrows++ : b->nrows];

	row_init(row, workload, system, size);
	noise_start(&row->snap);
	return row;
}

/* A new row repeating src, measured already: no noise snapshot of its own
 * (one taken and then overwritten would leak its process table). */
static struct row *add_row_copy(struct bench *b, const struct row *src)
{
	struct row *row = &b->rows[b->nrows < MAX_ROWS - 1 ? b->nrows++ : b->nrows];

	*row = *src;
	return row;
}

/* The row of (workload, system, size), or NULL. */
static const struct row *find_row(const struct bench *b, const char *workload,
				  const char *system, size_t size)
{
	size_t i;

	/* Newest first: within a round, the row that round measured. */
	for (i = b->nrows; i-- > 0;)
		if (b->rows[i].size == size && strcmp(b->rows[i].workload, workload) == 0 &&
		    strcmp(b->rows[i].system, system) == 0)
			return &b->rows[i];
	return NULL;
}

/* Is a better than old, a run of the same workload? A run with numbers
 * beats one without; then lower p50 for latency rows, more msgs/s for the
 * rest. Load from elsewhere only makes a run worse. */
static int row_better(const struct row *a, const struct row *old)
{
	if (old->note[0])
		return 1;
	if (a->note[0])
		return 0;
	if (a->p50_us > 0 || old->p50_us > 0)
		return a->p50_us > 0 && (old->p50_us <= 0 || a->p50_us < old->p50_us);
	return a->msgs_per_s > old->msgs_per_s;
}

/* Fold the rows of the round that started at row base into the earlier
 * rounds' rows: each (workload, system, size) keeps its best run. */
static void merge_round(struct bench *b, size_t base)
{
	size_t i, j, n = base;

	for (i = base; i < b->nrows; i++) {
		const struct row *a = &b->rows[i];

		for (j = 0; j < base; j++)
			if (b->rows[j].size == a->size &&
			    strcmp(b->rows[j].workload, a->workload) == 0 &&
			    strcmp(b->rows[j].system, a->system) == 0)
				break;
		if (j < base) {
			if (row_better(a, &b->rows[j]))
				b->rows[j] = *a;
		} else {
			b->rows[n++] = *a;
		}
	}
	b->nrows = n;
}

/* qsort order of doubles. */
static int dbl_cmp(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;

	return (x > y) - (x < y);
}

/* The median of n values (sorted in place). */
static double median(double *v, unsigned n)
{
	qsort(v, n, sizeof *v, dbl_cmp);
	return n == 0 ? 0 : n % 2 ? v[n / 2] : (v[n / 2 - 1] + v[n / 2]) / 2;
}

/* A row is done: note what the rest of the machine did meanwhile, and
 * show progress on stderr, so stdout holds only the table (or JSON). */
static void progress(struct row *row)
{
	struct noise_fig f;

	noise_end(&row->snap, &f);
	row->other_pct = f.other;
	row->kern_pct = f.kern;
	if (noise_is_noisy(f.other, f.kern))
		fprintf(stderr, "  (noisy: other processes took %.0f%% of a core, kernel "
			"threads %.0f%%; most: %s)\n", f.other, f.kern, f.top);
	if (getenv("IPCBENCH_NOISE_TRACE") != NULL)
		fprintf(stderr, "  [noise] other %.1f kern %.1f steal %.1f unseen %.1f: %s\n",
			f.other, f.kern, f.steal, f.unseen, f.top);
	if (row->note[0])
		fprintf(stderr, "  %-22s %-6zu %-13s %s\n", row->workload, row->size,
			row->system, row->note);
	else if (row->p50_us >= 0)
		fprintf(stderr, "  %-22s %-6zu %-13s p50 %.1f us p99 %.1f us\n", row->workload,
			row->size, row->system, row->p50_us, row->p99_us);
	else
		fprintf(stderr, "  %-22s %-6zu %-13s %.0f msg/s %.1f MB/s\n", row->workload,
			row->size, row->system, row->msgs_per_s, row->mb_per_s);
}

/* --- ipcd ---------------------------------------------------------------------- */

/* Connect to the daemon under test, or record why not. */
static ipc_client *ipcd_connect(struct run *r)
{
	ipc_client *c = NULL;
	int rc = ipc_connect(r->sock, &c);

	if (rc != 0)
		run_fail(r, "ipc_connect: %s", ipc_strerror(rc));
	return c;
}

/* Put n messages of r->size bytes one call each, waiting (PLAIN) or not
 * (PIPE: async puts, then a flush). */
static int ipcd_put_each(struct run *r, ipc_client *c, const unsigned char *msg,
			 uint64_t n)
{
	uint64_t i;
	int rc = 0;

	for (i = 0; i < n && rc == 0; i++)
		rc = r->mode == MODE_PIPE
			? ipc_queue_put_async(c, r->qname, msg, r->size, IPC_FOREVER)
			: ipc_queue_put(c, r->qname, msg, r->size, IPC_FOREVER);
	if (rc == 0 && r->mode == MODE_PIPE)
		rc = ipc_flush(c);
	return rc ? run_fail(r, "put: %s", ipc_last_error(c)) : 0;
}

/* Put n messages BENCH_BATCH per call, pipelined: ipc_queue_put_many_async
 * keeps up to BENCH_WINDOW batch requests in flight; one flush at the end
 * reports whatever was not put. */
static int ipcd_put_batches(struct run *r, ipc_client *c, const unsigned char *msg,
			    uint64_t n)
{
	struct ipc_msg batch[BENCH_BATCH];
	uint64_t left = n;
	size_t i, k;
	int rc;

	for (i = 0; i < BENCH_BATCH; i++) {
		batch[i].data = msg;
		batch[i].len = r->size;
	}
	while (left > 0) {
		k = left < BENCH_BATCH ? (size_t)left : BENCH_BATCH;
		rc = ipc_queue_put_many_async(c, r->qname, batch, k, IPC_FOREVER);
		if (rc != 0)
			return run_fail(r, "ipc_queue_put_many_async: %s", ipc_last_error(c));
		left -= k;
	}
	if (ipc_flush(c) != 0)
		return run_fail(r, "ipc_flush: %s (%llu not put)", ipc_last_error(c),
				ipc_flush_notput(c));
	return 0;
}

/* Producer: put its share in the run's mode. */
static int ipcd_producer(struct run *r, unsigned idx)
{
	unsigned char *msg = malloc(r->size);
	uint64_t n = run_share(r, idx);
	ipc_client *c = ipcd_connect(r);
	int rc;

	if (c == NULL || msg == NULL)
		return 1;
	msg_fill(msg, r->size, 0);
	run_ready(r);
	rc = r->mode == MODE_BATCH ? ipcd_put_batches(r, c, msg, n)
				   : ipcd_put_each(r, c, msg, n);
	ipc_close(c);
	free(msg);
	return rc;
}

/* Get one message (PLAIN, or PIPE with read-ahead): 1 received, 0 timed
 * out, -1 failed. */
static int ipcd_get_one(struct run *r, ipc_client *c)
{
	void *data;
	size_t len;
	int rc = ipc_queue_get(c, r->qname, &data, &len, BENCH_POLL_MS);

	if (rc == IPC_EEMPTY)
		return 0;
	if (rc != 0 || len != r->size)
		return run_fail(r, "ipc_queue_get: %s", rc ? ipc_last_error(c) : "wrong size"), -1;
	ipc_free(data);
	return 1;
}

/* Get up to BENCH_BATCH messages: how many, 0 timed out, -1 failed. */
static int ipcd_get_batch(struct run *r, ipc_client *c)
{
	struct ipc_msg m[BENCH_BATCH];
	size_t n, i;
	int rc = ipc_queue_get_many(c, r->qname, m, BENCH_BATCH, &n, BENCH_POLL_MS);

	if (rc == IPC_EEMPTY)
		return 0;
	if (rc != 0)
		return run_fail(r, "ipc_queue_get_many: %s", ipc_last_error(c)), -1;
	for (i = 0; i < n; i++)
		if (m[i].len != r->size)
			return run_fail(r, "ipc_queue_get_many: wrong size"), -1;
	return (int)n;
}

/* Consumer: get until every message of the run has been received. */
static int ipcd_consumer(struct run *r, unsigned idx)
{
	ipc_client *c = ipcd_connect(r);
	int got;

	(void)idx;
	if (c == NULL)
		return 1;
	if (r->mode == MODE_PIPE)
		ipc_queue_set_readahead(c, r->qname, BENCH_BATCH);
	if (r->mode == MODE_BATCH)
		ipc_queue_set_readahead(c, r->qname, BENCH_READAHEAD);
	run_ready(r);
	for (;;) {
		got = r->mode == MODE_BATCH ? ipcd_get_batch(r, c) : ipcd_get_one(r, c);
		if (got < 0)
			return 1;
		if (got == 0 ? run_is_done(r) : run_consumed(r, (uint64_t)got))
			break;
	}
	ipc_close(c);
	return 0;
}

/* Options that create an unbounded queue with the default mode. */
static struct ipc_queue_opts unbounded_create(void)
{
	struct ipc_queue_opts o = IPC_QUEUE_OPTS_INIT;

	o.maxsize = 0;
	o.flags = IPC_QUEUE_CREATE;
	return o;
}

/* Create (or empty) a queue for a run on target (ipcd's socket or a
 * NATS URL), of maxsize (0: unbounded). The handle is closed before the
 * run forks: libnats's threads do not survive fork. */
static int queue_create(const struct bench *b, const char *target, const char *name,
			long long maxsize)
{
	struct ipc_queue_opts o = unbounded_create();
	ipc_client *c;
	int rc = ipc_connect(target, &c);

	o.flags |= b->qflags;
	o.maxsize = maxsize;
	if (rc != 0)
		return rc;
	ipc_delete(c, name);
	rc = ipc_queue_open(c, name, &o, NULL);
	ipc_close(c);
	return rc;
}

/* Throughput of libipcclient on system ("ipcd", or "nats" at a NATS URL)
 * with np producers and np consumers in mode. */
static void lib_throughput(struct bench *b, const char *system, const char *target,
			   size_t size, unsigned np, enum bench_mode mode,
			   const char *suffix)
{
	char wl[32];
	struct row *row;
	struct run r = { .sock = target, .size = size, .nprod = np, .ncons = np,
			 .mode = mode };

	snprintf(wl, sizeof wl, "%u/%u %s%s", np, np, mode_name[mode], suffix);
	row = add_row(b, wl, system, size);
	r.total = bench_count(&b->o, size, mode == MODE_PLAIN);
	snprintf(r.qname, sizeof r.qname, "bench-%zu-%u-%d", size, np, (int)mode);
	/* Messages of MiBs: a bounded queue, so a producer ahead of its
	 * consumer does not pile up gigabytes. */
	if (queue_create(b, target, r.qname, size >= BIG_SIZE ? BIG_QUEUE_MAX : 0) != 0)
		snprintf(row->note, sizeof row->note, "cannot create the queue");
	else
		run_throughput(&r, ipcd_producer, ipcd_consumer, row);
	progress(row);
}

/* Throughput of ipcd with np producers and np consumers in mode. */
static void ipcd_throughput(struct bench *b, size_t size, unsigned np,
			    enum bench_mode mode, const char *suffix)
{
	lib_throughput(b, b->sysname ? b->sysname : "ipcd", b->sock, size, np, mode,
		       suffix);
}

/* The pipe bounds of the pipe runs: room for bursts of either size. */
static struct ipc_pipe_opts pipe_opts(void)
{
	struct ipc_pipe_opts o = IPC_PIPE_OPTS_INIT;

	o.maxmsgs = 4096;
	o.maxbytes = 8 << 20;
	return o;
}

/* Pipe sender (end 1 of a one-way pipe): one call per message (PLAIN
 * waits for each reply, PIPE sends async and flushes at the end) or per
 * batch (BATCH). */
static int ipcd_pipe_sender(struct run *r, unsigned idx)
{
	struct ipc_pipe_opts o = pipe_opts();
	unsigned char *msg = malloc(r->size);
	struct ipc_msg batch[BENCH_BATCH];
	uint64_t left = run_share(r, idx);
	ipc_client *c = ipcd_connect(r);
	size_t k, i;
	int rc = 0;

	if (c == NULL || msg == NULL)
		return 1;
	msg_fill(msg, r->size, 0);
	for (i = 0; i < BENCH_BATCH; i++)
		batch[i] = (struct ipc_msg){ msg, r->size };
	if (ipc_pipe_attach(c, r->qname, 1, IPC_PIPE_CREATE | IPC_PIPE_ONEWAY, &o) != 0)
		return run_fail(r, "ipc_pipe_attach: %s", ipc_last_error(c));
	run_ready(r);
	while (left > 0 && rc == 0) {
		k = r->mode == MODE_BATCH ? (left < BENCH_BATCH ? (size_t)left : BENCH_BATCH) : 1;
		if (k > 1)
			rc = ipc_pipe_send_many(c, r->qname, 1, batch, k, NULL, IPC_FOREVER);
		else if (r->mode == MODE_PIPE)
			rc = ipc_pipe_send_async(c, r->qname, 1, msg, r->size, IPC_FOREVER);
		else
			rc = ipc_pipe_send(c, r->qname, 1, msg, r->size, IPC_FOREVER);
		left -= k;
	}
	if (rc == 0 && r->mode == MODE_PIPE)
		rc = ipc_flush(c);
	if (rc != 0)
		return run_fail(r, "pipe send: %s", ipc_last_error(c));
	ipc_close(c);
	free(msg);
	return 0;
}

/* Pipe receiver (end 0): until every message of the run has come. */
static int ipcd_pipe_receiver(struct run *r, unsigned idx)
{
	struct ipc_pipe_opts o = pipe_opts();
	struct ipc_msg m[BENCH_BATCH];
	ipc_client *c = ipcd_connect(r);
	void *data;
	size_t len, n;
	int rc;

	(void)idx;
	if (c == NULL)
		return 1;
	if (ipc_pipe_attach(c, r->qname, 0, IPC_PIPE_CREATE | IPC_PIPE_ONEWAY, &o) != 0)
		return run_fail(r, "ipc_pipe_attach: %s", ipc_last_error(c));
	if (r->mode != MODE_PLAIN)
		ipc_pipe_set_readahead(c, r->qname, 0, BENCH_BATCH);
	run_ready(r);
	for (;;) {
		n = 1;
		if (r->mode == MODE_BATCH) {
			rc = ipc_pipe_recv_many(c, r->qname, 0, m, BENCH_BATCH, &n, BENCH_POLL_MS);
		} else {
			rc = ipc_pipe_recv(c, r->qname, 0, &data, &len, BENCH_POLL_MS);
			if (rc == 0)
				ipc_free(data);
		}
		if (rc == IPC_EEMPTY && !run_is_done(r))
			continue;
		if (rc == IPC_EEMPTY)
			break;
		if (rc != 0)
			return run_fail(r, "pipe recv: %s", ipc_last_error(c));
		if (run_consumed(r, n))
			break;
	}
	ipc_close(c);
	return 0;
}

/* Pipe throughput of ipcd, 1/1, in mode. */
static void ipcd_pipe(struct bench *b, size_t size, enum bench_mode mode)
{
	char wl[32];
	struct row *row;
	struct run r = { .sock = b->sock, .size = size, .nprod = 1, .ncons = 1,
			 .mode = mode };

	snprintf(wl, sizeof wl, "pipe 1/1 %s", mode_name[mode]);
	row = add_row(b, wl, "ipcd", size);
	r.total = bench_count(&b->o, size, mode == MODE_PLAIN);
	snprintf(r.qname, sizeof r.qname, "pipe-%zu-%d", size, (int)mode);
	run_throughput(&r, ipcd_pipe_sender, ipcd_pipe_receiver, row);
	progress(row);
}

/* Latency pinger's handle (one per pinger process). */
static ipc_client *lat_client;

/* Pinger: put the stamped message. */
static int ipcd_ping_send(struct run *r, unsigned char *msg)
{
	int rc = ipc_queue_put(lat_client, r->qname, msg, r->size, IPC_FOREVER);

	return rc ? run_fail(r, "ipc_queue_put: %s", ipc_last_error(lat_client)) : 0;
}

/* Pinger: get the answer from the pong queue. */
static int ipcd_ping_back(struct run *r)
{
	char pong[80];
	void *data;
	size_t len;
	int rc;

	snprintf(pong, sizeof pong, "%s-pong", r->qname);
	rc = ipc_queue_get(lat_client, pong, &data, &len, IPC_FOREVER);
	if (rc != 0)
		return run_fail(r, "ipc_queue_get: %s", ipc_last_error(lat_client));
	ipc_free(data);
	return 0;
}

/* Pinger side of the ipcd latency run. */
static int ipcd_ping(struct run *r, unsigned idx)
{
	(void)idx;
	lat_client = ipcd_connect(r);
	if (lat_client == NULL)
		return 1;
	return run_ping_loop(r, ipcd_ping_send, ipcd_ping_back);
}

/* Ponger: a parked get takes each message; record it, answer on pong. */
static int ipcd_pong(struct run *r, unsigned idx)
{
	ipc_client *c = ipcd_connect(r);
	char pong[80];
	void *data;
	size_t len;
	uint64_t i;

	(void)idx;
	if (c == NULL)
		return 1;
	snprintf(pong, sizeof pong, "%s-pong", r->qname);
	run_ready(r);
	for (i = 0; i < run_lat_msgs(r); i++) {
		if (ipc_queue_get(c, r->qname, &data, &len, IPC_FOREVER) != 0 || len != r->size)
			return run_fail(r, "ipc_queue_get: %s", ipc_last_error(c));
		run_sample(r, data);
		if (ipc_queue_put(c, pong, data, len, IPC_FOREVER) != 0)
			return run_fail(r, "ipc_queue_put: %s", ipc_last_error(c));
		ipc_free(data);
	}
	ipc_close(c);
	return 0;
}

/* Hand-off latency through libipcclient on system (at target): one-way
 * and round trip rows. */
static void lib_latency(struct bench *b, const char *system, const char *target,
			size_t size)
{
	struct row *row = add_row(b, "latency", system, size);
	struct row *rtt = add_row(b, "round trip", system, size);
	struct run r = { .sock = target, .size = size };
	char pong[80];

	r.total = bench_lat_count(&b->o, size);
	snprintf(r.qname, sizeof r.qname, "lat-%zu", size);
	snprintf(pong, sizeof pong, "%s-pong", r.qname);
	if (queue_create(b, target, r.qname, 0) != 0 || queue_create(b, target, pong, 0) != 0)
		snprintf(row->note, sizeof row->note, "cannot create the queues");
	else
		run_latency_rtt(&r, ipcd_ping, ipcd_pong, row, rtt);
	progress(row);
	progress(rtt);
}

/* Start an ipcd serving sock, logging to logname in the temporary
 * directory, its journal in state ("": none) synced per sync, and wait
 * until it answers: its pid, or -1 (said on stderr). */
static pid_t ipcd_spawn_state(const struct bench *b, const char *sock,
			      const char *logname, const char *state,
			      const char *sync)
{
	char log[128];
	char *argv[] = { (char *)b->ipcd_bin, "-s", (char *)sock, "--state-dir",
			 (char *)state, "--sync", (char *)sync, NULL };
	pid_t pid;

	snprintf(log, sizeof log, "%s/%s", b->tmpdir, logname);
	pid = spawn_server(argv, log);
	if (pid > 0 && wait_socket(sock, 10000) != 0) {
		stop_server(pid);
		pid = -1;
	}
	if (pid < 0)
		fprintf(stderr, "ipcbench: %s did not start (see %s)\n", b->ipcd_bin, log);
	return pid;
}

/* An ipcd without a journal (durable queues off): no state directory is
 * ever touched, whatever the machine's own ipcd keeps. */
static pid_t ipcd_spawn(const struct bench *b, const char *sock, const char *logname)
{
	return ipcd_spawn_state(b, sock, logname, "", "always");
}

/* Start a fresh ipcd on the private socket (or use the --socket one). */
static int ipcd_start(struct bench *b)
{
	if (b->attach != NULL) {
		snprintf(b->sock, sizeof b->sock, "%s", b->attach);
		b->ipcd_pid = b->attach_pid;
		noise_adopt(b->attach_pid);   /* the daemon measured is not noise */
		return 0;
	}
	snprintf(b->sock, sizeof b->sock, "%s/ipcd.sock", b->tmpdir);
	b->ipcd_pid = ipcd_spawn(b, b->sock, "ipcd.log");
	return b->ipcd_pid < 0 ? -1 : 0;
}

/* Stop the daemon under test. */
static void ipcd_stop(struct bench *b)
{
	if (b->attach != NULL)
		return;
	stop_server(b->ipcd_pid);
	b->ipcd_pid = 0;
}

/* --- NATS JetStream: the same library calls on a local nats-server ------------- */

/* Start nats-server -js on a free port, memory storage for the queues
 * (like ipcd's); otherwise say why not in nats_note. */
static void nats_start(struct bench *b)
{
	char port[16], dir[96], log[96];
	char *argv[] = { (char *)b->nats_bin, "-js", "-a", "127.0.0.1", "-p", port,
			 "-sd", dir, NULL };
	ipc_client *c;
	int p = tcp_free_port();

	snprintf(b->nats_note, sizeof b->nats_note, "no nats-server (--nats)");
	if (!b->nats_bin || !*b->nats_bin || p < 0)
		return;
	snprintf(port, sizeof port, "%d", p);
	snprintf(dir, sizeof dir, "%s/nats", b->tmpdir);
	snprintf(log, sizeof log, "%s/nats.log", b->tmpdir);
	b->nats_pid = spawn_server(argv, log);
	snprintf(b->nats_url, sizeof b->nats_url, "nats://127.0.0.1:%d", p);
	if (b->nats_pid > 0 && wait_tcp(p, 10000) == 0 && ipc_connect(b->nats_url, &c) == 0) {
		ipc_close(c);
		b->nats_up = 1;
		return;
	}
	snprintf(b->nats_note, sizeof b->nats_note, "nats-server did not start "
		 "(or libipcclient lacks NATS)");
}

/* Stop the nats-server and remove its store. */
static void nats_stop(struct bench *b)
{
	char dir[96];

	if (b->nats_pid > 0)
		stop_server(b->nats_pid);
	b->nats_pid = 0;
	snprintf(dir, sizeof dir, "%s/nats", b->tmpdir);
	rmdir_all(dir);
}

/* Make runs move div times fewer messages; the old divisor, for
 * restoring b->o.divide after. */
static unsigned divide_more(struct bench *b, unsigned div)
{
	unsigned old = b->o.divide;

	b->o.divide = (old > 1 ? old : 1) * div;
	return old;
}

/* NATS throughput in mode, or a row saying why not. */
static void nats_throughput(struct bench *b, size_t size, unsigned np,
			    enum bench_mode mode)
{
	char wl[32];
	struct row *row;
	unsigned old;

	if (b->nats_up) {
		/* A get is a pull request and a confirmed ack (~1 ms): the
		 * full counts would take minutes per row. */
		old = divide_more(b, NATS_DIVIDE);
		lib_throughput(b, "nats", b->nats_url, size, np, mode, "");
		b->o.divide = old;
		return;
	}
	snprintf(wl, sizeof wl, "%u/%u %s", np, np, mode_name[mode]);
	row = add_row(b, wl, "nats", size);
	snprintf(row->note, sizeof row->note, "%s", b->nats_note);
	progress(row);
}

/* NATS hand-off latency, or a row saying why not. */
static void nats_latency(struct bench *b, size_t size)
{
	struct row *row;
	unsigned old;

	if (b->nats_up) {
		old = divide_more(b, NATS_DIVIDE);
		lib_latency(b, "nats", b->nats_url, size);
		b->o.divide = old;
		return;
	}
	row = add_row(b, "latency", "nats", size);
	snprintf(row->note, sizeof row->note, "%s", b->nats_note);
	progress(row);
}

/* --- the sections -------------------------------------------------------------- */

/* Every throughput workload for one size and one np. */
static void section_throughput(struct bench *b, size_t size, unsigned np)
{
	char wl[32];
	struct row *row;
	int m;

	for (m = 0; m < MODE__MAX && wanted(b, "ipcd"); m++)
		if (wanted(b, mode_name[m]))
			ipcd_throughput(b, size, np, (enum bench_mode)m, "");
	for (m = 0; m < MODE__MAX && wanted(b, "nats"); m++)
		if (wanted(b, mode_name[m]))
			nats_throughput(b, size, np, (enum bench_mode)m);
	for (m = 0; m < MODE__MAX && wanted(b, "redis"); m++) {
		if (!wanted(b, mode_name[m]))
			continue;
		snprintf(wl, sizeof wl, "%u/%u %s", np, np, mode_name[m]);
		row = add_row(b, wl, "redis", size);
		if (!b->redis_up)
			snprintf(row->note, sizeof row->note, "%s", b->redis_note);
		else
			peer_redis(&b->o, size, np, (enum bench_mode)m, row);
		progress(row);
	}
	snprintf(wl, sizeof wl, "%u/%u", np, np);
	if (wanted(b, "mq")) {
		row = add_row(b, wl, "posix-mq", size);
		peer_mq(&b->o, size, np, row);
		progress(row);
	}
	if (wanted(b, "python")) {
		row = add_row(b, wl, "python-queue", size);
		peer_python(&b->o, "queue", size, np, row);
		progress(row);
	}
	if (wanted(b, "raw")) {
		row = add_row(b, wl, "raw-socket", size);
		peer_rawsock(&b->o, size, np, row);
		progress(row);
	}
}

/* Pipe send/recv throughput, 1/1. */
static void section_pipe(struct bench *b, size_t size)
{
	const struct row *raw = find_row(b, "1/1", "raw-socket", size);
	struct row *row;

	if (wanted(b, "ipcd")) {
		ipcd_pipe(b, size, MODE_PLAIN);
		ipcd_pipe(b, size, MODE_PIPE);
		ipcd_pipe(b, size, MODE_BATCH);
	}
	if (wanted(b, "python")) {
		row = add_row(b, "pipe 1/1", "python-pipe", size);
		peer_python(&b->o, "pipe", size, 1, row);
		progress(row);
	}
	if (raw != NULL) {
		row = add_row_copy(b, raw);
		snprintf(row->workload, sizeof row->workload, "pipe 1/1");
	}
}

/* Hand-off latency of every system for one size. */
static void section_latency(struct bench *b, size_t size)
{
	struct row *row, *rtt;

	if (wanted(b, "ipcd"))
		lib_latency(b, "ipcd", b->sock, size);
	if (wanted(b, "nats"))
		nats_latency(b, size);
	if (wanted(b, "redis")) {
		row = add_row(b, "latency", "redis", size);
		if (!b->redis_up)
			snprintf(row->note, sizeof row->note, "%s", b->redis_note);
		else
			peer_redis_lat(&b->o, size, row);
		progress(row);
	}
	if (wanted(b, "mq")) {
		row = add_row(b, "latency", "posix-mq", size);
		peer_mq_lat(&b->o, size, row);
		progress(row);
	}
	if (wanted(b, "python")) {
		row = add_row(b, "latency", "python-queue", size);
		peer_python(&b->o, "queue-lat", size, 1, row);
		progress(row);
		row = add_row(b, "latency", "python-pipe", size);
		peer_python(&b->o, "pipe-lat", size, 1, row);
		progress(row);
	}
	if (wanted(b, "raw")) {
		row = add_row(b, "latency", "raw-socket", size);
		rtt = add_row(b, "round trip", "raw-socket", size);
		peer_rawsock_lat(&b->o, size, row, rtt);
		progress(row);
		progress(rtt);
	}
}

/* Open n idle connections to the daemon at sock; how many made it. */
static size_t idle_connect(const char *sock, ipc_client **cs, size_t n)
{
	size_t i;

	for (i = 0; i < n; i++)
		if (ipc_connect(sock, &cs[i]) != 0)
			break;
	return i;
}

/* Create n empty queues on the daemon at sock; how many made it. */
static size_t idle_queues(const char *sock, size_t n)
{
	struct ipc_queue_opts o = unbounded_create();
	ipc_client *c;
	char name[32];
	size_t i;

	if (ipc_connect(sock, &c) != 0)
		return 0;
	for (i = 0; i < n; i++) {
		snprintf(name, sizeof name, "idle-%05zu", i);
		if (ipc_queue_open(c, name, &o, NULL) != 0)
			break;
	}
	ipc_close(c);
	return i;
}

/* Delete the n queues idle_queues() made. */
static void idle_delete(struct bench *b, size_t n)
{
	ipc_client *c;
	char name[32];
	size_t i;

	if (ipc_connect(b->sock, &c) != 0)
		return;
	for (i = 0; i < n; i++) {
		snprintf(name, sizeof name, "idle-%05zu", i);
		ipc_delete(c, name);
	}
	ipc_close(c);
}

/* One side of a pair of runs: 64 B messages through the daemon at sock,
 * its rows named by system sys (NULL: "ipcd") and workload suffix; or,
 * with run set, what run measures instead (one row: the disk). */
struct pair_side {
	const char *sock;
	const char *sys;
	const char *suffix;
	unsigned np;         /* producers and consumers; 0: 1 */
	unsigned qflags;     /* flags of the queue (IPC_QUEUE_DURABLE) */
	unsigned div;        /* times fewer messages (a sync per put); 0: 1 */
	void (*run)(struct bench *b);
};

/* Side s's workload once in mode (a new row). */
static void side_run(struct bench *b, const struct pair_side *s, enum bench_mode mode)
{
	char saved[sizeof b->sock];
	const char *sys = b->sysname;
	unsigned odiv = b->o.divide;

	if (s->run != NULL) {
		s->run(b);
		return;
	}
	snprintf(saved, sizeof saved, "%s", b->sock);
	snprintf(b->sock, sizeof b->sock, "%s", s->sock == b->sock ? saved : s->sock);
	b->sysname = s->sys;
	b->qflags = s->qflags;
	b->o.divide = (odiv ? odiv : 1) * (s->div ? s->div : 1);
	ipcd_throughput(b, 64, s->np ? s->np : 1, mode, s->suffix);
	b->o.divide = odiv;
	b->qflags = 0;
	b->sysname = sys;
	snprintf(b->sock, sizeof b->sock, "%s", saved);
}

/* Warm both sides up in mode (the heap grows to hold a run's messages,
 * free lists fill): else whichever runs first pays for that. */
static void pair_warm(struct bench *b, const struct pair_side *x,
		      const struct pair_side *ref, enum bench_mode mode)
{
	side_run(b, x, mode);
	side_run(b, ref, mode);
	b->nrows -= 2;   /* not rows of the table */
}

/* One pair of runs in mode, back to back: on side x and on its
 * reference ref, ref first when ref_first. Each run folds into its row
 * (the best run is kept); the pair's ratio x/ref joins p. */
static void pair_run(struct bench *b, const struct pair_side *x, const struct pair_side *ref,
		     enum bench_mode mode, int ref_first, struct pairs *p)
{
	size_t base = b->nrows;
	const struct row *rx, *rref;

	side_run(b, ref_first ? ref : x, mode);
	side_run(b, ref_first ? x : ref, mode);
	if (b->nrows != base + 2)
		return;
	rx = &b->rows[base + (ref_first ? 1 : 0)];
	rref = &b->rows[base + (ref_first ? 0 : 1)];
	if (!rx->note[0] && !rref->note[0] && rref->msgs_per_s > 0 && p->n < PAIRS_MAX)
		p->r[p->n++] = rx->msgs_per_s / rref->msgs_per_s;
	merge_round(b, base);
}

/* The median of p's ratios (0: none), their range in *lo and *hi. */
static double pairs_median(const struct pairs *p, double *lo, double *hi)
{
	double v[PAIRS_MAX], r;

	memcpy(v, p->r, p->n * sizeof v[0]);
	r = median(v, p->n);     /* sorts v */
	*lo = p->n ? v[0] : 0;
	*hi = p->n ? v[p->n - 1] : 0;
	return r;
}

/* Open 10,000 empty queues and 1,000 idle connections on the daemon at
 * sock, held in *cs (IDLE_CLIENTS of room); the counts in *nq and *nc. */
static void idle_load(const char *sock, ipc_client **cs, size_t *nq, size_t *nc)
{
	*nq = idle_queues(sock, IDLE_QUEUES);
	*nc = idle_connect(sock, cs, IDLE_CLIENTS);
}

/* The RSS row: what the loaded daemon grew by per queue and per client. */
static void idle_rss(struct bench *b, ipc_client **cs, size_t *nq, size_t *nc)
{
	long rss0 = rss_kib(b->ipcd_pid), rss1, rss2;
	struct row *row;

	*nq = idle_queues(b->sock, IDLE_QUEUES);
	rss1 = rss_kib(b->ipcd_pid);
	*nc = idle_connect(b->sock, cs, IDLE_CLIENTS);
	rss2 = rss_kib(b->ipcd_pid);
	row = add_row(b, "rss 10k q/1k idle", "ipcd", 0);
	b->rss_queue_b = *nq ? (rss1 - rss0) * 1024 / (long)*nq : -1;
	b->rss_conn_b = *nc ? (rss2 - rss1) * 1024 / (long)*nc : -1;
	snprintf(row->note, sizeof row->note, "%zu queues, %zu clients: %ld B/queue, %ld B/conn",
		 *nq, *nc, b->rss_queue_b, b->rss_conn_b);
	progress(row);
}

/* 10,000 queues and 1,000 idle clients on a fresh daemon: RSS per queue
 * and per connection, then the 64 B 1/1 throughput with them ("+idle")
 * against a twin daemon without them ("-idle"), both warmed up. Each mode
 * runs IDLE_PAIRS pairs back to back, which of the two goes first
 * alternating: the target is the median of the pairs' ratios, so a drift
 * of the machine or one slow run does not decide it (a run of 133,333
 * pipelined messages lasts 0.2 s: one hiccup of the VM is 10%). */
static void section_idle(struct bench *b)
{
	ipc_client **cs = calloc(IDLE_CLIENTS, sizeof *cs);
	char ref[sizeof b->sock];
	const struct pair_side plus = { .sock = b->sock, .suffix = " +idle" },
			       minus = { .sock = ref, .suffix = " -idle" };
	size_t nq = 0, nc = 0, i, k;
	pid_t ref_pid = -1;

	ipcd_stop(b);
	snprintf(ref, sizeof ref, "%s/ipcd-ref.sock", b->tmpdir);
	if (cs == NULL || ipcd_start(b) != 0 || (ref_pid = ipcd_spawn(b, ref, "ipcd-ref.log")) < 0) {
		fprintf(stderr, "ipcbench: cannot start the daemons of the idle section\n");
		free(cs);
		return;
	}
	queue_create(b, b->sock, "warm-up", 0);
	idle_rss(b, cs, &nq, &nc);
	for (i = 0; i < MODE__MAX; i++)
		pair_warm(b, &plus, &minus, (enum bench_mode)i);
	for (i = 0; i < MODE__MAX; i++)
		for (k = 0; k < IDLE_PAIRS; k++)
			pair_run(b, &plus, &minus, (enum bench_mode)i, (int)(k % 2), &b->idle[i]);
	stop_server(ref_pid);
	for (i = 0; i < nc; i++)
		ipc_close(cs[i]);
	free(cs);
	idle_delete(b, nq);
}

/* --- output -------------------------------------------------------------------- */

/* ipcd's throughput for (np, mode, size), or 0. */
static double ipcd_tput(const struct bench *b, const char *np, int mode, size_t size)
{
	char wl[32];
	const struct row *r;

	snprintf(wl, sizeof wl, "%s %s", np, mode_name[mode]);
	r = find_row(b, wl, "ipcd", size);
	return r && !r->note[0] ? r->msgs_per_s : 0;
}

/* The mode of an idle section row ("1/1 plain +idle"), or -1. */
static int idle_mode(const char *workload)
{
	char wl[32];
	int m;

	for (m = 0; m < MODE__MAX; m++) {
		snprintf(wl, sizeof wl, "1/1 %s +idle", mode_name[m]);
		if (strcmp(wl, workload) == 0)
			return m;
	}
	return -1;
}

/* For an ipcd row measured among idle queues and clients: the median
 * ratio of its pairs with the same workload on a quiet twin daemon. */
static void ratio_idle(const struct bench *b, const struct row *row, char *buf,
		       size_t len)
{
	int m = idle_mode(row->workload);
	double lo, hi, r;

	if (m < 0 || (r = pairs_median(&b->idle[m], &lo, &hi)) <= 0)
		return;
	snprintf(buf, len, "%.2fx of a twin without them (median of %u pairs, %.2f..%.2f)",
		 r, b->idle[m].n, lo, hi);
}

/* The "ipcd vs this row" text. */
static void ratio_text(const struct bench *b, const struct row *row, char *buf, size_t len)
{
	const struct row *ref;
	char np[8];
	int m;
	size_t off = 0;

	buf[0] = '\0';
	if (row->note[0])
		return;
	if (strcmp(row->system, "ipcd") == 0) {
		ratio_idle(b, row, buf, len);
		return;
	}
	if (row->p50_us > 0) {
		ref = find_row(b, "latency", "ipcd", row->size);
		if (ref && ref->p50_us > 0)
			snprintf(buf, len, "p50 %.2fx p99 %.2fx", ref->p50_us / row->p50_us,
				 ref->p99_us / row->p99_us);
		return;
	}
	if (strncmp(row->workload, "pipe", 4) == 0) {
		for (m = 0; m < MODE__MAX; m++) {
			char wl[32];

			snprintf(wl, sizeof wl, "pipe 1/1 %s", mode_name[m]);
			ref = find_row(b, wl, "ipcd", row->size);
			if (ref && !ref->note[0] && ref->msgs_per_s > 0 && off < len)
				off += (size_t)snprintf(buf + off, len - off, "%s%s %.2fx",
							off ? " " : "", mode_name[m],
							ref->msgs_per_s / row->msgs_per_s);
		}
		return;
	}
	snprintf(np, sizeof np, "%.3s", row->workload);
	for (m = 0; m < MODE__MAX; m++) {
		double v = ipcd_tput(b, np, m, row->size);

		if ((strcmp(row->system, "redis") == 0 || strcmp(row->system, "nats") == 0) &&
		    strstr(row->workload, mode_name[m]) == NULL)
			continue;
		if (v > 0 && off < len)
			off += (size_t)snprintf(buf + off, len - off, "%s%s %.2fx",
						off ? " " : "", mode_name[m], v / row->msgs_per_s);
	}
}

/* Print the size as 64 B, 64 KiB or 16 MiB. */
static const char *size_text(size_t size, char *buf, size_t len)
{
	if (size == 0)
		snprintf(buf, len, "-");
	else if (size % (1024 * 1024) == 0)
		snprintf(buf, len, "%zu MiB", size / (1024 * 1024));
	else if (size % 1024 == 0)
		snprintf(buf, len, "%zu KiB", size / 1024);
	else
		snprintf(buf, len, "%zu B", size);
	return buf;
}

/* A number column, or "-" when absent. */
static const char *num_text(double v, int prec, char *buf, size_t len)
{
	if (v <= 0)
		snprintf(buf, len, "-");
	else
		snprintf(buf, len, "%.*f", prec, v);
	return buf;
}

/* "N x CPU model, kernel" into buf. */
static const char *machine_text(char *buf, size_t len)
{
	struct utsname u;
	char model[128] = "unknown CPU", line[256];
	FILE *f = fopen("/proc/cpuinfo", "r");

	while (f != NULL && fgets(line, sizeof line, f) != NULL)
		if (sscanf(line, "model name : %127[^\n]", model) == 1)
			break;
	if (f != NULL)
		fclose(f);
	uname(&u);
	snprintf(buf, len, "%ld x %s, %s %s", sysconf(_SC_NPROCESSORS_ONLN), model,
		 u.sysname, u.release);
	return buf;
}

/* Is the run as a whole, or any row of it, noisy? */
static int run_noisy(const struct bench *b)
{
	size_t i;

	for (i = 0; i < b->nrows; i++)
		if (noise_is_noisy(b->rows[i].other_pct, b->rows[i].kern_pct))
			return 1;
	return noise_is_noisy(b->run_other, b->run_kern);
}

/* The machine, the commit, the load, for the table's header. */
static void print_machine(const struct bench *b)
{
	char m[256];

	printf("ipcbench: %s; %s mode: %llu msgs of 64 B, %llu of 64 KiB per run\n"
	       "(runs that wait for each reply: an eighth of that); %u rounds, each running\n"
	       "every workload once; each row is its best round (so a slow spell of the\n"
	       "machine hits both sides of a ratio alike)\n",
	       machine_text(m, sizeof m), b->o.quick ? "quick" : "full",
	       (unsigned long long)bench_count(&b->o, 64, 0),
	       (unsigned long long)bench_count(&b->o, 65536, 0), b->rounds);
	printf("commit %s, started %s; load average %.2f at start, %.2f at end;\n"
	       "other processes used %.1f%% of a core over the run, kernel threads %.1f%%\n"
	       "(steal %.1f%%): %s\n",
	       b->commit, b->date, b->load_start, b->load_end, b->run_other, b->run_kern,
	       b->run_steal,
	       run_noisy(b) ? "NOISY, figures not comparable (rows marked !)" : "quiet");
}

/* A noise figure (other processes' or kernel threads': pct) of a row,
 * "!" appended when it is over its limit. */
static const char *noise_text(double pct, double limit, char *buf, size_t len)
{
	if (pct < 0)
		snprintf(buf, len, "-");
	else
		snprintf(buf, len, "%.1f%s", pct, pct > limit ? "!" : "");
	return buf;
}

/* The table. */
static void print_table(const struct bench *b)
{
	char s[32], m1[32], m2[32], p1[32], p2[32], o[16], k[16], ratio[96];
	size_t i;

	print_machine(b);
	printf("ratio = ipcd / that system for msgs/s (higher is better for ipcd), for\n"
	       "latency ipcd's p50 (p99) / that system's (lower is better for ipcd)\n"
	       "ipcd modes: plain = ipc_queue_put/ipc_queue_get, each waits for its reply;\n"
	       "  pipelined = ipc_queue_put_async (window %d, one ipc_flush at the end) and\n"
	       "  ipc_queue_get with ipc_queue_set_readahead(%d); pipes: ipc_pipe_send_async and\n"
	       "  ipc_pipe_recv with ipc_pipe_set_readahead(%d);\n"
	       "  batch64 = ipc_queue_put_many_async of %d (window %d batches, one flush) and\n"
	       "  ipc_queue_get_many(%d) with ipc_queue_set_readahead(%d); pipes: ipc_pipe_send_many\n"
	       "  (waits for each reply) and ipc_pipe_recv_many with read-ahead.\n"
	       "redis pipelined = pipelined LPUSH + RPOP count; posix-mq = mq_send/mq_receive\n"
	       "nats = the same libipcclient calls on a local nats-server -js (memory storage,\n"
	       "  docs/nats.md): the cost of going distributed; 1/%d of the messages\n\n",
	       BENCH_WINDOW, BENCH_BATCH, BENCH_BATCH, BENCH_BATCH, BENCH_WINDOW,
	       BENCH_BATCH, BENCH_READAHEAD, NATS_DIVIDE);
	printf("other = CPU %% of one core used during the row by user processes outside\n"
	       "  the bench (the daemons it started are its own, whatever their parent);\n"
	       "kern = the same for kernel threads (jbd2, kworkers, ksoftirqd: mostly work\n"
	       "  the row asked for, such as the I/O of its fdatasyncs);\n"
	       "  ! = other over %.0f%% or kern over %.0f%%: noisy\n\n", BENCH_NOISY_PCT,
	       BENCH_KERN_NOISY_PCT);
	printf("%-20s %-7s %-13s %11s %9s %9s %9s %6s %6s  %s\n", "workload", "size", "system",
	       "msgs/s", "MB/s", "p50 us", "p99 us", "other", "kern", "ipcd ratio");
	for (i = 0; i < b->nrows; i++) {
		const struct row *r = &b->rows[i];

		if (i > 0 && strcmp(r->workload, b->rows[i - 1].workload) != 0)
			printf("\n");
		size_text(r->size, s, sizeof s);
		if (r->note[0]) {
			printf("%-20s %-7s %-13s %s\n", r->workload, s, r->system, r->note);
			continue;
		}
		ratio_text(b, r, ratio, sizeof ratio);
		printf("%-20s %-7s %-13s %11s %9s %9s %9s %6s %6s  %s\n", r->workload, s,
		       r->system, num_text(r->msgs_per_s, 0, m1, sizeof m1),
		       num_text(r->mb_per_s, 1, m2, sizeof m2),
		       num_text(r->p50_us, 1, p1, sizeof p1), num_text(r->p99_us, 1, p2, sizeof p2),
		       noise_text(r->other_pct, BENCH_NOISY_PCT, o, sizeof o),
		       noise_text(r->kern_pct, BENCH_KERN_NOISY_PCT, k, sizeof k), ratio);
	}
}

/* One number of a JSON row; null when not measured (<= 0). */
static void json_num_field(const char *key, double v, int prec)
{
	if (v > 0)
		printf(", \"%s\": %.*f", key, prec, v);
	else
		printf(", \"%s\": null", key);
}

/* A noise figure of a JSON row; null when not measured (< 0). */
static void json_pct_field(const char *key, double v)
{
	if (v >= 0)
		printf(", \"%s\": %.1f", key, v);
	else
		printf(", \"%s\": null", key);
}

/* The rows as JSON lines (absent numbers are null). */
static void print_json(const struct bench *b)
{
	char m[256];
	size_t i;

	machine_text(m, sizeof m);
	for (i = 0; i < b->nrows; i++) {
		const struct row *r = &b->rows[i];

		printf("{\"machine\": \"%s\", \"commit\": \"%s\", \"date\": \"%s\", "
		       "\"load_start\": %.2f, \"load_end\": %.2f, \"run_other_pct\": %.1f, "
		       "\"run_kern_pct\": %.1f", m, b->commit, b->date, b->load_start, b->load_end,
		       b->run_other, b->run_kern);
		printf(", \"workload\": \"%s\", \"system\": \"%s\", \"size\": %zu",
		       r->workload, r->system, r->size);
		json_pct_field("other_pct", r->other_pct);
		json_pct_field("kern_pct", r->kern_pct);
		printf(", \"noisy\": %s",
		       noise_is_noisy(r->other_pct, r->kern_pct) ? "true" : "false");
		json_num_field("msgs_per_s", r->msgs_per_s, 1);
		json_num_field("mb_per_s", r->mb_per_s, 2);
		json_num_field("p50_us", r->p50_us, 2);
		json_num_field("p99_us", r->p99_us, 2);
		if (strncmp(r->workload, "rss", 3) == 0)
			printf(", \"rss_per_queue_b\": %ld, \"rss_per_conn_b\": %ld",
			       b->rss_queue_b, b->rss_conn_b);
		if (r->note[0])
			printf(", \"note\": \"%s\"", r->note);
		printf("}\n");
	}
}

/* One target line: have vs need. */
static void target(const char *what, double have, double need, int lower_is_better)
{
	const char *verdict;

	if (have <= 0)
		verdict = "not measured";
	else if (lower_is_better)
		verdict = have <= need ? "MET" : "NOT MET";
	else
		verdict = have >= need ? "MET" : "NOT MET";
	/* 0.95 as 0.95, 1.5 as 1.5 */
	printf("  %-62s %6.2fx (need %s %.*fx)  %s\n", what, have,
	       lower_is_better ? "<=" : ">=", need * 10 == (int)(need * 10) ? 1 : 2, need,
	       verdict);
}

/* v(a) / v(b), or 0 when either is missing. */
static double ratio_of(const struct row *a, const struct row *b, int lat, int p99)
{
	double x, y;

	if (a == NULL || b == NULL || a->note[0] || b->note[0])
		return 0;
	x = lat ? (p99 ? a->p99_us : a->p50_us) : a->msgs_per_s;
	y = lat ? (p99 ? b->p99_us : b->p50_us) : b->msgs_per_s;
	return x > 0 && y > 0 ? x / y : 0;
}

/* A target: row a (workload, system) against row b, both of size bytes:
 * their rates, or with lat their p50 (p99) latencies, lower is better;
 * need 0 prints the ratio as no target. */
struct ratio_target {
	const char *what;
	const char *a_work, *a_sys, *b_work, *b_sys;
	size_t size;
	int lat, p99;
	double need;
};

/* The targets, in the order they print. */
static const struct ratio_target ratio_targets[] = {
	{ "plain put/get 1/1 vs redis LPUSH/BRPOP",
	  "1/1 plain", "ipcd", "1/1 plain", "redis", 64, 0, 0, 1.5 },
	{ "pipelined put + read-ahead get 1/1 vs python mp.Queue",
	  "1/1 pipelined", "ipcd", "1/1", "python-queue", 64, 0, 0, 1.5 },
	{ "batch64 1/1 vs pipelined redis (LPUSH pipelined, RPOP count)",
	  "1/1 batch64", "ipcd", "1/1 pipelined", "redis", 64, 0, 0, 2.0 },
	{ "batch64 1/1 vs POSIX mq",
	  "1/1 batch64", "ipcd", "1/1", "posix-mq", 64, 0, 0, 1.5 },
	{ "64 KiB pipe send/recv (batch64) MB/s vs raw socket",
	  "pipe 1/1 batch64", "ipcd", "pipe 1/1", "raw-socket", 65536, 0, 0, 0.5 },
	{ "64 KiB pipe send/recv (pipelined, 1 msg/call) MB/s vs raw socket",
	  "pipe 1/1 pipelined", "ipcd", "pipe 1/1", "raw-socket", 65536, 0, 0, 0.5 },
	{ "64 KiB put/get 1/1 (pipelined) vs python mp.Pipe",
	  "1/1 pipelined", "ipcd", "pipe 1/1", "python-pipe", 65536, 0, 0, 1.0 },
	{ "64 KiB put/get 1/1 (pipelined) MB/s vs raw socket",
	  "1/1 pipelined", "ipcd", "1/1", "raw-socket", 65536, 0, 0, 0.5 },
	{ "  (plain, each send and recv waits for its reply)",
	  "pipe 1/1 plain", "ipcd", "pipe 1/1", "raw-socket", 65536, 0, 0, 0 },
	{ "1 MiB put/get 1/1 (plain) MB/s vs raw socket",
	  "1/1 plain", "ipcd", "1/1", "raw-socket", BIG_SIZE, 0, 0, 1.0 },
	{ "1 MiB put/get 1/1 (pipelined) MB/s vs raw socket",
	  "1/1 pipelined", "ipcd", "1/1", "raw-socket", BIG_SIZE, 0, 0, 1.0 },
	{ "hand-off latency p50 vs raw socket round trip p50",
	  "latency", "ipcd", "round trip", "raw-socket", 64, 1, 0, 1.2 },
	{ "hand-off latency p99 vs raw socket round trip p99",
	  "latency", "ipcd", "round trip", "raw-socket", 64, 1, 1, 4.0 },
	{ "1/1 plain, 10k queues + 1k idle clients vs without them",
	  "1/1 plain +idle", "ipcd", "1/1 plain -idle", "ipcd", 64, 0, 0, 0.9 },
	{ "  (same, pipelined)",
	  "1/1 pipelined +idle", "ipcd", "1/1 pipelined -idle", "ipcd", 64, 0, 0, 0.9 },
	{ "  (same, batch64)",
	  "1/1 batch64 +idle", "ipcd", "1/1 batch64 -idle", "ipcd", 64, 0, 0, 0.9 },
};

/* Print target t's measured ratio and verdict. */
static void ratio_target_print(const struct bench *b, const struct ratio_target *t)
{
	double have = ratio_of(find_row(b, t->a_work, t->a_sys, t->size),
			       find_row(b, t->b_work, t->b_sys, t->size), t->lat, t->p99);
	int m = idle_mode(t->a_work);
	double lo, hi;

	if (m >= 0)
		have = pairs_median(&b->idle[m], &lo, &hi);

	if (t->need > 0)
		target(t->what, have, t->need, t->lat);
	else
		printf("  %-62s %6.2fx (not a target: a round trip per message)\n",
		       t->what, have);
}

/* The targets, each with its measured ratio. */
static void print_targets(const struct bench *b)
{
	size_t i;

	printf("\ntargets (64 B unless said):\n");
	for (i = 0; i < sizeof ratio_targets / sizeof ratio_targets[0]; i++)
		ratio_target_print(b, &ratio_targets[i]);
	if (b->rss_conn_b >= 0)
		printf("  daemon RSS: %ld B per idle connection, %ld B per empty queue\n",
		       b->rss_conn_b, b->rss_queue_b);
	print_dur_targets(b);
}

/* --- durability ----------------------------------------------------------------- */

/* The disk's own fdatasync rate (64-byte appends, one sync each) under
 * the temporary directory, where the journals go too: the physical limit
 * of one sync per put. */
static void dur_disk(struct bench *b)
{
	struct row *row = add_row(b, "fdatasync 64 B", "disk", 64);
	uint64_t n = bench_count(&b->o, 64, 1) / 25, i;
	unsigned char buf[64] = { 0 };
	char path[160];
	int64_t t0;
	int fd;

	snprintf(path, sizeof path, "%s/fdatasync-probe", b->tmpdir);
	fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_APPEND, 0600);
	if (fd < 0) {
		snprintf(row->note, sizeof row->note, "open: %s", strerror(errno));
		progress(row);
		return;
	}
	t0 = now_ns();
	for (i = 0; i < n; i++)
		if (write(fd, buf, sizeof buf) != (ssize_t)sizeof buf || fdatasync(fd) != 0)
			break;
	row->msgs_per_s = (double)i * 1e9 / (double)(now_ns() - t0);
	close(fd);
	unlink(path);
	progress(row);
}

/* Side s's workloads of the rounds: 4/4 pipelined and batch64, and
 * before them with plain11 the 1/1 plain (with s->div fewer messages). */
static void dur_runs(struct bench *b, struct pair_side s, int plain11)
{
	if (plain11)
		side_run(b, &s, MODE_PLAIN);
	s.np = 4;
	s.div = 1;
	side_run(b, &s, MODE_PIPE);
	side_run(b, &s, MODE_BATCH);
}

/* Warm x and ref up in mode, then run npairs pairs of them back to back,
 * which goes first alternating; each pair's ratio x/ref joins p. */
static void dur_pairs(struct bench *b, const struct pair_side *x, const struct pair_side *ref,
		      enum bench_mode mode, unsigned npairs, struct pairs *p)
{
	unsigned k;

	pair_warm(b, x, ref, mode);
	for (k = 0; k < npairs; k++)
		pair_run(b, x, ref, mode, (int)(k % 2), p);
}

/* A fresh ipcd journaling to its own state directory with sync, measured
 * round after round like the main rows, each row keeping its best: 4/4
 * pipelined and batch64 on durable queues, then the targets' ratios as
 * the idle rows are, in warmed pairs of runs back to back (dur_pairs;
 * the target is the median of the pairs' ratios, so the disk's speed
 * drifting between the two sides of a ratio does not decide it). With
 * always: 1/1 plain durable against the disk's fdatasync rate (DUR_PAIRS
 * a round), and non-durable 1/1 plain on this daemon against the daemon
 * without a journal (NONDUR_PAIRS), after the same daemon's 4/4 rows on
 * plain queues. With interval: 4/4 batch64 durable against the daemon
 * without a journal (DUR_PAIRS), after its 1/1 plain durable row. */
static void dur_ipcd(struct bench *b, const char *sync)
{
	char sock[160], state[160], log[64], sys[32];
	int always = strcmp(sync, "always") == 0;
	const struct pair_side dur = { .sock = sock, .sys = sys, .suffix = " durable",
				       .qflags = IPC_QUEUE_DURABLE, .div = always ? 25 : 1 },
			       dur4 = { .sock = sock, .sys = sys, .suffix = " durable", .np = 4,
					.qflags = IPC_QUEUE_DURABLE },
			       nondur = { .sock = sock, .sys = sys, .suffix = " non-durable" },
			       twin = { .sock = b->sock, .sys = "ipcd no journal", .suffix = "" },
			       twin4 = { .sock = b->sock, .sys = "ipcd no journal", .suffix = "",
					 .np = 4 },
			       disk = { .run = dur_disk };
	unsigned round;
	size_t base;
	pid_t pid;

	snprintf(sock, sizeof sock, "%s/dur-%s.sock", b->tmpdir, sync);
	snprintf(state, sizeof state, "%s/state-%s", b->tmpdir, sync);
	snprintf(log, sizeof log, "ipcd-%s.log", sync);
	snprintf(sys, sizeof sys, "ipcd sync=%s", sync);
	if ((pid = ipcd_spawn_state(b, sock, log, state, sync)) < 0)
		return;
	for (round = 0; round < b->rounds; round++) {
		base = b->nrows;
		dur_runs(b, dur, !always);
		if (always)
			dur_runs(b, nondur, 0);
		merge_round(b, base);
		if (always) {
			dur_pairs(b, &dur, &disk, MODE_PLAIN, DUR_PAIRS, &b->dur_disk);
			dur_pairs(b, &nondur, &twin, MODE_PLAIN, NONDUR_PAIRS, &b->nondur);
		} else {
			dur_pairs(b, &dur4, &twin4, MODE_BATCH, DUR_PAIRS, &b->dur_interval);
		}
	}
	stop_server(pid);
	rmdir_all(state);
}

/* Redis with appendonly yes and appendfsync fsync: plain and batch64. */
static void dur_redis(struct bench *b, const char *fsync)
{
	char sys[40], note[96], aof[160];
	unsigned odiv = b->o.divide ? b->o.divide : 1;
	struct row *row[2];
	int up;

	snprintf(sys, sizeof sys, "redis aof=%s", fsync);
	row[0] = add_row(b, "1/1 plain", sys, 64);
	row[1] = add_row(b, "4/4 batch64", sys, 64);
	up = redis_start_aof(&b->o, fsync, note, sizeof note) == 0;
	if (up) {
		b->o.divide = odiv * (strcmp(fsync, "always") == 0 ? 25 : 1);
		peer_redis(&b->o, 64, 1, MODE_PLAIN, row[0]);
		b->o.divide = odiv == 1 ? 0 : odiv;
		peer_redis(&b->o, 64, 4, MODE_BATCH, row[1]);
		redis_stop();
		snprintf(aof, sizeof aof, "%s/appendonlydir", b->tmpdir);
		rmdir_all(aof);
	} else {
		snprintf(row[0]->note, sizeof row[0]->note, "%s", note);
		snprintf(row[1]->note, sizeof row[1]->note, "%s", note);
	}
	progress(row[0]);
	progress(row[1]);
}

/* The durability section (after the main rounds): durable queues per
 * sync mode with the disk and the same daemon's plain queues, Redis AOF. */
static void section_durable(struct bench *b)
{
	if (b->attach != NULL)
		return;    /* it starts daemons of its own */
	dur_ipcd(b, "always");
	dur_ipcd(b, "interval");
	if (!wanted(b, "redis") || !b->o.redis || !*b->o.redis)
		return;
	if (b->redis_up) {
		redis_stop();
		b->redis_up = 0;
	}
	dur_redis(b, "always");
	dur_redis(b, "everysec");
}

/* Recovery: 1,000,000 messages of 64 B and 1 GiB of 64 KiB messages
 * (fewer with --quick, --divide), warm and cold (bench_recovery). */
static void section_recovery(struct bench *b)
{
	static const size_t size[2] = { 64, 65536 };
	static const uint64_t total[2] = { 1000000, (1u << 30) / 65536 };
	unsigned div = (b->o.divide > 1 ? b->o.divide : 1) * (b->o.quick ? 4 : 1);
	struct row *warm, *cold;
	char wl[32];
	uint64_t n;
	int i;

	if (b->attach != NULL)
		return;    /* it starts daemons of its own */
	for (i = 0; i < 2; i++) {
		if (!wanted(b, size[i] == 64 ? "small" : "large"))
			continue;
		n = total[i] / div ? total[i] / div : 1;
		snprintf(wl, sizeof wl, "recover %llu", (unsigned long long)n);
		warm = add_row(b, wl, "ipcd warm", size[i]);
		cold = add_row(b, wl, "ipcd cold", size[i]);
		bench_recovery(&b->o, b->ipcd_bin, size[i], n, warm, cold);
		progress(warm);
		progress(cold);
	}
}

/* A recovery row's journal MB/s against the goal, and what it moved. */
static void recovery_target(const struct row *r, double need)
{
	char what[80];
	double secs = r && r->msgs_per_s > 0 ? (double)strtoull(r->workload + 8, NULL, 10) /
						r->msgs_per_s : 0;

	if (r == NULL)
		return;
	snprintf(what, sizeof what, "recovery, %s of %zu B, %s: journal MB/s",
		 r->workload + 8, r->size, r->system + 5);
	if (r->note[0] || secs <= 0)
		printf("  %-62s %6s  not measured\n", what, "-");
	else if (need <= 0)
		printf("  %-62s %6.0f  (not a target: the disk's read speed counts; "
		       "%.1f MB in %.3f s)\n", what, r->mb_per_s, r->mb_per_s * secs, secs);
	else
		printf("  %-62s %6.0f  (need >= %.0f)  %s (%.1f MB in %.3f s)\n", what,
		       r->mb_per_s, need, r->mb_per_s >= need ? "MET" : "NOT MET",
		       r->mb_per_s * secs, secs);
}

/* The recovery rows, warm as the target (the replay's own speed), cold
 * shown too (a reboot: the disk's read speed counts as well). */
static void print_recovery_targets(const struct bench *b)
{
	size_t i;

	for (i = 0; i < b->nrows; i++)
		if (strncmp(b->rows[i].workload, "recover ", 8) == 0 &&
		    strncmp(b->rows[i].system, "ipcd ", 5) == 0)
			recovery_target(&b->rows[i],
					strcmp(b->rows[i].system, "ipcd warm") == 0 ? 300 : 0);
}

/* A target measured in pairs: the median of p's ratios against need,
 * then their count and range. */
static void pairs_target(const char *what, const struct pairs *p, double need)
{
	double lo, hi, r = pairs_median(p, &lo, &hi);

	target(what, r, need, 0);
	if (r > 0)
		printf("  %-62s (median of %u pairs, %.2f..%.2f)\n", "", p->n, lo, hi);
}

/* The durability targets of issue 12 (64 B), and recovery. */
static void print_dur_targets(const struct bench *b)
{
	const struct row *disk = find_row(b, "fdatasync 64 B", "disk", 64);
	const struct row *b4 = find_row(b, "4/4 batch64 durable", "ipcd sync=always", 64);

	print_recovery_targets(b);
	if (!disk)
		return;
	pairs_target("durable 1/1 plain, sync=always vs the disk's fdatasync rate",
		     &b->dur_disk, 0.8);
	target("durable 4/4 batch64, sync=always vs redis appendfsync always",
	       ratio_of(b4, find_row(b, "4/4 batch64", "redis aof=always", 64), 0, 0), 3.0, 0);
	target("durable 4/4 batch64, sync=always msgs/s vs fdatasync rate",
	       ratio_of(b4, disk, 0, 0), 20.0, 0);
	pairs_target("durable 4/4 batch64, sync=interval vs a non-durable queue",
		     &b->dur_interval, 0.7);
	pairs_target("non-durable 1/1 plain, daemon with a journal vs without",
		     &b->nondur, 0.95);
}

/* --- main ---------------------------------------------------------------------- */

/* Print usage to f. */
static void usage(FILE *f)
{
	fprintf(f,
		"Usage: ipcbench [--quick] [--json] [--ipcd PATH] [--redis PATH|''] [--python PATH|'']\n"
		"       ipcbench --ab OLD_IPCD NEW_IPCD [--repeat N] [--quick] [--only LIST]\n"
		"                [--helper PATH] [--only LIST]\n"
		"Measure ipcd against Redis, POSIX mq, Python multiprocessing and a raw socket.\n"
		"  --quick        a third of the messages, 2 rounds (under a minute)\n"
		"  --repeat N     N rounds, each running every workload once; each row keeps\n"
		"                 its best round (default 3; 2 with --quick): load from\n"
		"                 elsewhere only slows runs down\n"
		"  --json         print the rows as JSON lines instead of the table\n"
		"  --ipcd PATH    the ipcd to start (default ./ipcd)\n"
		"  --redis PATH   redis-server to start ('' : skip Redis)\n"
		"  --python PATH  python3 for bench/py_mpqueue.py ('' : skip Python)\n"
		"  --helper PATH  bench/py_mpqueue.py\n"
		"  --socket PATH  use the ipcd already serving PATH (start none; with\n"
		"                 --pid PID for the RSS figures, and so that its CPU\n"
		"                 counts as the bench's, not as other processes')\n"
		"  --nats PATH    nats-server to start for the NATS rows ('' : skip NATS)\n"
		"  --divide N     N times fewer messages everywhere (to smoke-test the bench)\n"
		"  --commit TEXT  what is measured, for the header and JSON (make bench\n"
		"                 passes git describe)\n"
		"  --ab OLD NEW   A/B: run the ipcd workloads (1 producer, 1 consumer; dur:\n"
		"                 also 4/4 batch64, durable per sync mode and plain; recover:\n"
		"                 warm MB/s; idle: 1/1 with 10,000 empty queues and 1,000\n"
		"                 idle clients on both) on two daemons, alternately, --repeat rounds\n"
		"                 (default 5); print NEW/OLD with its spread. --only picks\n"
		"                 sections and sizes.\n"
		"  --only LIST    comma-separated: sections (tput, pipe, lat, idle, dur,\n"
		"                 recover: restart on a journal of 1,000,000 x 64 B and\n"
		"                 1 GiB of 64 KiB messages, a quarter with --quick), sizes\n"
		"                 (small, large), systems (ipcd, redis, mq, python, raw, nats)\n"
		"                 ipcd/redis call modes (plain, pipelined, batch64) and\n"
		"                 producers/consumers of tput (1/1, 4/4)\n"
		"With IPCBENCH_NOISE_TRACE=1 in the environment, each row's noise figures go\n"
		"to stderr, with the busy time of /proc/stat no process accounts for.\n");
}

/* Parse the command line into b; 0, or the exit status. */
static int parse_args(struct bench *b, int argc, char **argv)
{
	static const struct option opts[] = {
		{ "quick", no_argument, NULL, 'q' }, { "json", no_argument, NULL, 'j' },
		{ "ipcd", required_argument, NULL, 'i' }, { "redis", required_argument, NULL, 'r' },
		{ "python", required_argument, NULL, 'p' }, { "helper", required_argument, NULL, 'H' },
		{ "only", required_argument, NULL, 'o' }, { "help", no_argument, NULL, 'h' },
		{ "socket", required_argument, NULL, 's' }, { "pid", required_argument, NULL, 'P' },
		{ "repeat", required_argument, NULL, 'R' },
		{ "divide", required_argument, NULL, 'D' },
		{ "nats", required_argument, NULL, 'N' },
		{ "commit", required_argument, NULL, 'C' },
		{ "ab", required_argument, NULL, 'A' },
		{ NULL, 0, NULL, 0 },
	};
	int opt;

	while ((opt = getopt_long(argc, argv, "qji:r:p:H:o:hs:P:R:D:N:C:A:", opts, NULL)) != -1) {
		switch (opt) {
		case 'q': b->o.quick = 1; break;
		case 'j': b->json = 1; break;
		case 'i': b->ipcd_bin = optarg; break;
		case 'r': b->o.redis = optarg; break;
		case 'p': b->o.python = optarg; break;
		case 'H': b->o.py_helper = optarg; break;
		case 'o': b->only = optarg; break;
		case 's': b->attach = optarg; break;
		case 'P': b->attach_pid = (pid_t)atol(optarg); break;
		case 'R': b->repeat = (unsigned)atoi(optarg); break;
		case 'D': b->o.divide = (unsigned)atoi(optarg); break;
		case 'N': b->nats_bin = optarg; break;
		case 'C': b->commit = optarg; break;
		case 'A': b->ab[0] = optarg; break;
		case 'h': usage(stdout); return 1;
		default: usage(stderr); return 2;
		}
	}
	if (b->ab[0] != NULL && optind < argc)    /* --ab OLD NEW */
		b->ab[1] = argv[optind++];
	return optind == argc && (b->ab[0] == NULL) == (b->ab[1] == NULL) ? 0 :
	       (usage(stderr), 2);
}

/* Every section for one message size. */
static void run_size(struct bench *b, size_t size)
{
	if (wanted(b, "tput")) {
		if (wanted(b, "1/1"))
			section_throughput(b, size, 1);
		if (wanted(b, "4/4"))
			section_throughput(b, size, 4);
	}
	if (wanted(b, "pipe"))
		section_pipe(b, size);
	if (wanted(b, "lat"))
		section_latency(b, size);
}

/* The rows of messages of MiBs: 1/1 plain and pipelined, pipe 1/1
 * plain, and the raw socket. 16 MiB travel as memfds; 1 MiB inline
 * through the socket, unless the daemon's memfd-threshold is lowered
 * (by hand, or by default where shmem gets large folios: shmem.h). The
 * consumers get copies (ipc_queue_get), not views. */
static void run_big(struct bench *b, size_t size)
{
	struct row *row;

	if (wanted(b, "tput") && wanted(b, "1/1") && wanted(b, "ipcd")) {
		if (wanted(b, "plain"))
			ipcd_throughput(b, size, 1, MODE_PLAIN, "");
		if (wanted(b, "pipelined"))
			ipcd_throughput(b, size, 1, MODE_PIPE, "");
	}
	if (wanted(b, "pipe") && wanted(b, "ipcd"))
		ipcd_pipe(b, size, MODE_PLAIN);
	if (wanted(b, "raw")) {
		row = add_row(b, "1/1", "raw-socket", size);
		peer_rawsock(&b->o, size, 1, row);
		progress(row);
	}
}

/* --- A/B: the same workloads on two daemons, alternately ----------------------- */

#define AB_MAX_ROUNDS 50

/* One A/B workload. */
struct ab_load {
	const char *section;  /* "tput", "pipe", "lat", "dur" or "recover" (for --only) */
	enum bench_mode mode;
	size_t size;
	unsigned np;          /* dur: producers and consumers (else 1) */
	int sync;             /* dur: which journaling daemon (AB_ALWAYS...) */
	unsigned qflags;      /* dur: IPC_QUEUE_DURABLE, or 0 for a plain queue */
	unsigned div;         /* dur: times fewer messages (one sync per put) */
};

/* The daemons of each side: without a journal, and journaling with sync
 * = always and interval (started only when "dur" is wanted). */
enum { AB_PLAIN, AB_ALWAYS, AB_INTERVAL, AB_NDAEMONS };
static const char *const ab_sync[AB_NDAEMONS] = { "", "always", "interval" };

static const struct ab_load ab_loads[] = {
	{ "tput", MODE_PLAIN, 64, 1, AB_PLAIN, 0, 1 },
	{ "tput", MODE_PIPE, 64, 1, AB_PLAIN, 0, 1 },
	{ "tput", MODE_BATCH, 64, 1, AB_PLAIN, 0, 1 },
	{ "pipe", MODE_PIPE, 64, 1, AB_PLAIN, 0, 1 },
	{ "lat", MODE_PLAIN, 64, 1, AB_PLAIN, 0, 1 },
	{ "dur", MODE_PLAIN, 64, 1, AB_ALWAYS, IPC_QUEUE_DURABLE, 25 },
	{ "dur", MODE_BATCH, 64, 4, AB_ALWAYS, IPC_QUEUE_DURABLE, 1 },
	{ "dur", MODE_BATCH, 64, 4, AB_INTERVAL, IPC_QUEUE_DURABLE, 1 },
	{ "dur", MODE_BATCH, 64, 4, AB_INTERVAL, 0, 1 },
	{ "dur", MODE_PLAIN, 64, 1, AB_ALWAYS, 0, 1 },
	{ "recover", MODE_PLAIN, 64, 1, AB_PLAIN, 0, 1 },
	{ "tput", MODE_PLAIN, 65536, 1, AB_PLAIN, 0, 1 },
	{ "tput", MODE_PIPE, 65536, 1, AB_PLAIN, 0, 1 },
	{ "tput", MODE_BATCH, 65536, 1, AB_PLAIN, 0, 1 },
	{ "pipe", MODE_PIPE, 65536, 1, AB_PLAIN, 0, 1 },
	{ "lat", MODE_PLAIN, 65536, 1, AB_PLAIN, 0, 1 },
	{ "recover", MODE_PLAIN, 65536, 1, AB_PLAIN, 0, 1 },
	{ "tput", MODE_PLAIN, BIG_SIZE, 1, AB_PLAIN, 0, 1 },
	{ "tput", MODE_PIPE, BIG_SIZE, 1, AB_PLAIN, 0, 1 },
	/* last: they load the plain daemons for good (ab_idle_setup) */
	{ "idle", MODE_PLAIN, 64, 1, AB_PLAIN, 0, 1 },
	{ "idle", MODE_PIPE, 64, 1, AB_PLAIN, 0, 1 },
	{ "idle", MODE_BATCH, 64, 1, AB_PLAIN, 0, 1 },
};
#define AB_NLOADS (sizeof ab_loads / sizeof ab_loads[0])

/* A durable workload once on the daemon at sock: msgs/s, 0 if it failed
 * (the row is dropped, its noise figures in *seen). */
static double ab_dur_once(struct bench *b, const struct ab_load *w, const char *sock,
			  struct row *seen)
{
	unsigned odiv = b->o.divide ? b->o.divide : 1;
	size_t base = b->nrows;

	b->qflags = w->qflags;
	b->o.divide = odiv * w->div;
	lib_throughput(b, "ipcd", sock, w->size, w->np, w->mode, "");
	b->o.divide = odiv == 1 ? 0 : odiv;
	b->qflags = 0;
	*seen = b->rows[base];
	b->nrows = base;
	return b->rows[base].note[0] ? 0 : b->rows[base].msgs_per_s;
}

/* Recovery once with the ipcd binary bin: warm journal MB/s, 0 if it
 * failed (bench_recovery's own daemons; the rows are dropped). */
static double ab_recover_once(struct bench *b, const struct ab_load *w, const char *bin,
			      struct row *seen)
{
	unsigned div = (b->o.divide > 1 ? b->o.divide : 1) * (b->o.quick ? 4 : 1);
	uint64_t n = (w->size == 64 ? 1000000 : (1u << 30) / w->size) / div;
	size_t base = b->nrows;
	struct row *warm = add_row(b, "recover", "ipcd", w->size);
	struct row *cold = add_row(b, "recover cold", "ipcd", w->size);

	bench_recovery(&b->o, bin, w->size, n, warm, cold);
	progress(warm);
	progress(cold);
	*seen = *warm;
	b->nrows = base;
	return warm->note[0] ? 0 : warm->mb_per_s;
}

/* Run workload w once on side (0: A, 1: B), whose daemons serve socks:
 * msgs/s (latency: p50 us, recovery: MB/s), 0 if it failed; *seen gets
 * the row (its noise figures). The row is not kept: A/B prints its own table. */
static double ab_once(struct bench *b, const struct ab_load *w, int side,
		      char socks[][AB_NDAEMONS][128], struct row *seen)
{
	const char *sock = socks[side][w->section[0] == 'd' ? w->sync : AB_PLAIN];
	size_t base = b->nrows;
	double v;

	snprintf(b->sock, sizeof b->sock, "%s", sock);
	if (strcmp(w->section, "recover") == 0)
		return ab_recover_once(b, w, b->ab[side], seen);
	if (strcmp(w->section, "dur") == 0)
		return ab_dur_once(b, w, sock, seen);
	if (strcmp(w->section, "lat") == 0)
		lib_latency(b, "ipcd", sock, w->size);
	else if (strcmp(w->section, "pipe") == 0)
		ipcd_pipe(b, w->size, w->mode);
	else
		lib_throughput(b, "ipcd", sock, w->size, 1, w->mode, "");
	v = b->rows[base].note[0] ? 0 :
	    strcmp(w->section, "lat") == 0 ? b->rows[base].p50_us : b->rows[base].msgs_per_s;
	*seen = b->rows[base];
	b->nrows = base;
	return v;
}

/* The name of workload w in the A/B table into name. */
static void ab_name(const struct ab_load *w, char *name, size_t n)
{
	if (strcmp(w->section, "dur") == 0)
		snprintf(name, n, "%u/%u %s %s %s", w->np, w->np, mode_name[w->mode],
			 w->qflags ? "dur" : "plain", ab_sync[w->sync]);
	else if (strcmp(w->section, "recover") == 0)
		snprintf(name, n, "recover warm MB/s");
	else if (strcmp(w->section, "lat") == 0)
		snprintf(name, n, "latency p50");
	else
		snprintf(name, n, "%s 1/1 %s", w->section, mode_name[w->mode]);
}

/* One workload over all rounds, A first in odd rounds and B first in
 * even ones, so a drift of the machine hits both; prints its line. */
static void ab_load_run(struct bench *b, const struct ab_load *w,
			char socks[][AB_NDAEMONS][128])
{
	double va[AB_MAX_ROUNDS], vb[AB_MAX_ROUNDS], r[AB_MAX_ROUNDS], omax = 0, kmax = 0;
	double ma, mb, mr;
	unsigned i, n = 0, j;
	char name[40], sz[16], o[16], k[16];
	struct row seen;

	for (i = 0; i < b->rounds; i++) {
		int bfirst = i % 2, side;
		double v[2];

		for (j = 0; j < 2; j++) {
			side = j ? !bfirst : bfirst;
			v[side] = ab_once(b, w, side, socks, &seen);
			omax = seen.other_pct > omax ? seen.other_pct : omax;
			kmax = seen.kern_pct > kmax ? seen.kern_pct : kmax;
		}
		va[n] = v[0];
		vb[n] = v[1];
		if (va[n] > 0 && vb[n] > 0) {
			r[n] = vb[n] / va[n];
			n++;
		}
	}
	ab_name(w, name, sizeof name);
	if (n == 0) {
		printf("%-26s %-7s  failed (see the progress above)\n", name,
		       size_text(w->size, sz, sizeof sz));
		return;
	}
	ma = median(va, n);
	mb = median(vb, n);
	mr = median(r, n);       /* sorts r: r[0] and r[n - 1] are the range */
	printf("%-26s %-7s %11.1f %11.1f %8.3fx  %.3f..%.3f %6s %6s\n", name,
	       size_text(w->size, sz, sizeof sz), ma, mb, mr, r[0], r[n - 1],
	       noise_text(omax, BENCH_NOISY_PCT, o, sizeof o),
	       noise_text(kmax, BENCH_KERN_NOISY_PCT, k, sizeof k));
}

/* Start side's daemons (the journaling ones only when dur is wanted):
 * 0, or -1 if one did not start. */
static int ab_spawn(struct bench *b, int side, char socks[][AB_NDAEMONS][128],
		    pid_t pids[][AB_NDAEMONS])
{
	char log[32], state[160];
	int k;

	b->ipcd_bin = b->ab[side];
	for (k = 0; k < AB_NDAEMONS; k++) {
		if (k != AB_PLAIN && !wanted(b, "dur"))
			continue;
		snprintf(socks[side][k], sizeof socks[side][k], "%s/%c%s.sock", b->tmpdir,
			 "ab"[side], ab_sync[k]);
		snprintf(log, sizeof log, "%c%s.log", "ab"[side], ab_sync[k]);
		snprintf(state, sizeof state, "%s/%c-state-%s", b->tmpdir, "ab"[side],
			 ab_sync[k]);
		pids[side][k] = ipcd_spawn_state(b, socks[side][k], log,
						 k == AB_PLAIN ? "" : state,
						 k == AB_PLAIN ? "always" : ab_sync[k]);
		if (pids[side][k] < 0)
			return -1;
	}
	return 0;
}

/* --ab: 10,000 empty queues and 1,000 idle clients on each side's plain
 * daemon, as the idle section makes them (once, before the first idle
 * row; they stay until ab_stop). */
static void ab_idle_setup(struct bench *b, char socks[][AB_NDAEMONS][128])
{
	size_t nq;
	int side;

	for (side = 0; side < 2; side++) {
		if (b->ab_idle[side] != NULL)
			continue;
		b->ab_idle[side] = calloc(IDLE_CLIENTS, sizeof(ipc_client *));
		if (b->ab_idle[side] == NULL)
			continue;
		idle_load(socks[side][AB_PLAIN], b->ab_idle[side], &nq, &b->ab_idle_nc[side]);
		fprintf(stderr, "ipcbench: %c: %zu empty queues, %zu idle clients\n", "AB"[side],
			nq, b->ab_idle_nc[side]);
	}
}

/* Stop every daemon A/B started and remove their journals. */
static void ab_stop(struct bench *b, pid_t pids[][AB_NDAEMONS])
{
	char state[160];
	size_t i;
	int side, k;

	for (side = 0; side < 2; side++) {
		for (i = 0; b->ab_idle[side] != NULL && i < b->ab_idle_nc[side]; i++)
			ipc_close(b->ab_idle[side][i]);
		free(b->ab_idle[side]);
		b->ab_idle[side] = NULL;
	}
	for (side = 0; side < 2; side++)
		for (k = 0; k < AB_NDAEMONS; k++) {
			if (pids[side][k] > 0)
				stop_server(pids[side][k]);
			snprintf(state, sizeof state, "%s/%c-state-%s", b->tmpdir,
				 "ab"[side], ab_sync[k]);
			if (k != AB_PLAIN)
				rmdir_all(state);
		}
}

/* --ab OLD NEW: start both daemons, run every wanted workload on each,
 * alternately, and print B/A with its spread. 0, or 1 if a daemon did
 * not start. */
static int run_ab(struct bench *b)
{
	char socks[2][AB_NDAEMONS][128];
	pid_t pids[2][AB_NDAEMONS] = { { 0 } };
	size_t i;

	if (ab_spawn(b, 0, socks, pids) != 0 || ab_spawn(b, 1, socks, pids) != 0) {
		ab_stop(b, pids);
		return 1;
	}
	if (b->rounds > AB_MAX_ROUNDS)
		b->rounds = AB_MAX_ROUNDS;
	printf("A = %s, B = %s; %u rounds, alternating which goes first\n"
	       "msgs/s (latency: p50 us, lower is better; recovery: MB/s); B/A: the\n"
	       "median of the rounds' ratios and their range; other, kern: the most CPU\n"
	       "%% of a core user processes outside the bench, and kernel threads, took\n"
	       "during any of its runs (! = noisy, as in the table of a full run)\n\n"
	       "%-26s %-7s %11s %11s %9s  %-12s %6s %6s\n", b->ab[0], b->ab[1], b->rounds,
	       "workload", "size", "A", "B", "B/A", "range", "other", "kern");
	for (i = 0; i < AB_NLOADS; i++) {
		if (!wanted(b, ab_loads[i].section) ||
		    !wanted(b, ab_loads[i].size == 64 ? "small" : "large"))
			continue;
		if (strcmp(ab_loads[i].section, "idle") == 0)
			ab_idle_setup(b, socks);
		ab_load_run(b, &ab_loads[i], socks);
	}
	ab_stop(b, pids);
	return 0;
}

/* Note the date, the load and the CPU snapshot a run starts with. */
static void run_begin(struct bench *b)
{
	time_t t = time(NULL);
	struct tm tm;

	gmtime_r(&t, &tm);
	strftime(b->date, sizeof b->date, "%Y-%m-%dT%H:%M:%SZ", &tm);
	b->load_start = load_avg();
	noise_start(&b->run_snap);
}

/* Note what the rest of the machine did over the whole run. */
static void run_end(struct bench *b)
{
	struct noise_fig f;

	noise_end(&b->run_snap, &f);
	b->run_other = f.other;
	b->run_kern = f.kern;
	b->run_steal = f.steal;
	b->load_end = load_avg();
}

static int run_all(struct bench *b);

/* Run everything (or the A/B comparison) and print. */
int main(int argc, char **argv)
{
	static struct bench b = {
		.ipcd_bin = "./ipcd", .o = { .redis = "/usr/bin/redis-server",
					     .python = "python3",
					     .py_helper = "bench/py_mpqueue.py" },
		.rss_conn_b = -1, .rss_queue_b = -1, .commit = "unknown",
	};
	int rc = parse_args(&b, argc, argv);

	if (rc != 0)
		return rc == 1 ? 0 : rc;
	b.rounds = b.repeat ? b.repeat : b.ab[0] ? 5 : b.o.quick ? 2 : 3;
	run_begin(&b);
	snprintf(b.tmpdir, sizeof b.tmpdir, "/tmp/ipcbench.XXXXXX");
	if (mkdtemp(b.tmpdir) == NULL) {
		perror("ipcbench: mkdtemp");
		return 1;
	}
	b.o.tmpdir = b.tmpdir;
	raise_nofile(2 * IDLE_CLIENTS + 256);   /* --ab: idle clients on both sides */
	rc = b.ab[0] ? run_ab(&b) : run_all(&b);
	rmdir_all(b.tmpdir);
	return rc;
}

/* The whole benchmark: every wanted section, then the table. 0 or 1. */
static int run_all(struct bench *b)
{
	unsigned round;

	if (ipcd_start(b) != 0)
		return 1;
	if (wanted(b, "redis"))
		b->redis_up = redis_start(&b->o, b->redis_note, sizeof b->redis_note) == 0;
	if (wanted(b, "nats"))
		nats_start(b);
	fprintf(stderr, "ipcbench: running (progress below, table at the end)\n");
	for (round = 1; round <= b->rounds; round++) {
		size_t base = b->nrows;

		fprintf(stderr, "ipcbench: round %u of %u\n", round, b->rounds);
		if (wanted(b, "small"))
			run_size(b, 64);
		if (wanted(b, "large")) {
			run_size(b, 65536);
			run_big(b, BIG_SIZE);
			run_big(b, 16 * BIG_SIZE);
		}
		if (wanted(b, "idle"))
			section_idle(b);
		merge_round(b, base);
	}
	if (wanted(b, "dur"))
		section_durable(b);
	if (wanted(b, "recover"))
		section_recovery(b);
	if (b->redis_up)
		redis_stop();
	nats_stop(b);
	ipcd_stop(b);
	run_end(b);
	if (b->json) {
		print_json(b);
	} else {
		print_table(b);
		print_targets(b);
	}
	return 0;
}
