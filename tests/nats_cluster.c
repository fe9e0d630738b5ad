/* SPDX-License-Identifier: MIT */
/*
 * nats_cluster.c: libipcclient on a 3-node NATS JetStream cluster
 * (make check-nats). Producers on node 1 put CL_TOTAL numbered messages
 * into a durable queue (file storage) with 3 replicas; consumers on nodes 2 and 3
 * take them with ipc_queue_get_ack() and ack each one.
 *
 * CL_KILLS times (at 1/4, 2/4 and 3/4 of the puts) a node is SIGKILLed
 * and restarted 2 s later: the node leading the queue's consumer (where
 * deliveries and acks are decided), then the one leading its stream
 * (where puts go), then the consumer's leader again. Each kill is sent
 * by a consumer: the first right after a message was delivered to it (a
 * leader that dies before replicating a delivery leaves a successor that
 * does not know of it), the others right after one of its acks was
 * confirmed (the leader answers an ack before its followers have it).
 * Those are the windows in which a failover can bring an acked message
 * back. The next kill waits until every replica is current again.
 *
 * It passes when every message put is acked at least once (nothing
 * acked is lost) and no message is delivered again after one of its
 * acks was confirmed (duplicates only for unacked deliveries). Every
 * delivery is logged with the times of its get and its ack, so that a
 * message that comes again is told apart: after failed acks only, asked
 * for while an earlier ack was still waiting for its answer (the lease
 * ran out, or a failover: allowed), or asked for after an earlier ack was
 * confirmed (the failure). It prints the counts, each kill and each
 * duplicate with its times. Exit 77 (skip) without nats-server.
 *
 * Before that, a quick check acks messages one by one and asks whether
 * each is still in the stream once its ack was confirmed (cl_ack_check);
 * `nats_cluster --ack-check` runs only that.
 */
#include <errno.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <nats/nats.h>

#include "ipcclient/ipcclient.h"
#include "natsd.h"

#define CL_TOTAL 100000
#define CL_PRODUCERS 2
#define CL_CONSUMERS 2
#define CL_KILLS 3
#define CL_QUEUE "cluster"
#define CL_STREAM "IPCQ_cluster"  /* the queue's stream (docs/nats.md) */
#define CL_CONSUMER "ipcd"        /* its consumer */
#define CL_LEASE_MS 5000
#define CL_SHOW 20                /* duplicates printed one by one */
#define CL_ACKQ "acks"            /* the queue of the ack check */
#define CL_ACKQ_STREAM "IPCQ_acks"
#define CL_ACKQ_N 300             /* messages the ack check acks */

/* One delivery as a consumer logs it; times in µs on the monotonic
 * clock, which all the test's processes share. */
struct cl_rec {
	uint32_t num;
	int32_t ackrc;           /* ipc_queue_ack()'s result */
	int32_t consumer;
	int32_t pad;
	int64_t asked;           /* ipc_queue_get_ack() called */
	int64_t got;             /* it returned the message */
	int64_t acked;           /* ipc_queue_ack() returned */
};

/* When a consumer sends an armed kill. */
enum cl_when { CL_AFTER_GET = 1, CL_AFTER_ACK = 2 };

/* Shared by the test and its consumers (MAP_SHARED): the node to kill
 * right after the next delivery or confirmed ack, and which it was. */
struct cl_shared {
	pid_t target;            /* 0: none armed */
	int when;                /* enum cl_when */
	uint32_t after;          /* the message got or acked just before */
	int64_t at;              /* when the kill was sent */
};

/* One failover as the test made it. */
struct cl_kill {
	int node;                /* index of the node killed */
	int stream_leader, consumer_leader;
	unsigned long long puts;
	int when;                /* enum cl_when: what came right before */
	int by_consumer;         /* sent by a consumer (else by the test) */
	uint32_t after;
	int64_t at;              /* µs */
	int settled;             /* every replica current again before the next */
};

/* The ways a message can come again, worst last. */
enum cl_dup { DUP_FAILED, DUP_INFLIGHT, DUP_CONFIRMED, DUP_KINDS };

static const char *const cl_dup_text[DUP_KINDS] = {
	"after a failed ack",
	"asked for while an ack was waiting for its answer",
	"ASKED FOR AFTER AN ACK WAS CONFIRMED",
};

static struct natsd cl_nodes[3];
static char cl_dir[64];
static struct cl_shared *cl_sh;
static int64_t cl_t0;

/* Microseconds on the monotonic clock. */
static int64_t cl_now_us(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000000 + ts.tv_nsec / 1000;
}

/* Seconds since the start of the run, for printing. */
static double cl_rel(int64_t us)
{
	return (double)(us - cl_t0) / 1e6;
}

/* The URL of the cluster with node `home` first (it is tried first). */
static void cl_url(char *buf, size_t len, int home)
{
	snprintf(buf, len, "%s,%s,%s?replicas=3&lease=%d",
		 cl_nodes[home].url, cl_nodes[(home + 1) % 3].url,
		 cl_nodes[(home + 2) % 3].url, CL_LEASE_MS);
}

/* Connect with node home first, retrying while the cluster settles. */
static ipc_client *cl_connect(int home)
{
	char url[256];
	ipc_client *c = NULL;
	int i;

	cl_url(url, sizeof url, home);
	for (i = 0; i < 300 && ipc_connect(url, &c) != 0; i++)
		usleep(100 * 1000);
	if (!c) {
		fprintf(stderr, "cluster: connect %s: %s\n", url, ipc_last_error(NULL));
		exit(2);
	}
	return c;
}

/* Producer k: put its share of the numbers, in order. */
static int cl_producer(int k)
{
	ipc_client *c = cl_connect(0);
	uint32_t n, from = (uint32_t)(k * (CL_TOTAL / CL_PRODUCERS));
	int rc, fails = 0;

	for (n = from; n < from + CL_TOTAL / CL_PRODUCERS; n++) {
		while ((rc = ipc_queue_put(c, CL_QUEUE, &n, sizeof n, IPC_FOREVER)) != 0) {
			fprintf(stderr, "cluster: put %u: %s (retrying)\n", n, ipc_last_error(c));
			if (++fails > 100 || rc < 0)
				return 1;
		}
	}
	ipc_close(c);
	return 0;
}

/* Right after a delivery or a confirmed ack (when) of num: send the
 * kill armed for that, if any. */
static void cl_trigger(uint32_t num, int when)
{
	pid_t p;

	if (__atomic_load_n(&cl_sh->when, __ATOMIC_SEQ_CST) != when ||
	    (p = __atomic_exchange_n(&cl_sh->target, 0, __ATOMIC_SEQ_CST)) <= 0)
		return;
	kill(p, SIGKILL);
	__atomic_store_n(&cl_sh->after, num, __ATOMIC_SEQ_CST);
	__atomic_store_n(&cl_sh->at, cl_now_us(), __ATOMIC_SEQ_CST);
}

/* 1 once the producers are done and the queue holds nothing, in flight
 * included (a message whose ack was lost comes back after the lease), or
 * nothing came for 60 s since `last` (nats-server 2.9 can strand
 * messages after failovers: in the stream, never delivered; they count
 * as lost). */
static int cl_drained(ipc_client *c, int64_t last)
{
	struct ipc_info in = { 0 };
	char done[96];

	snprintf(done, sizeof done, "%s/done", cl_dir);
	if (access(done, F_OK) != 0)
		return 0;
	return (ipc_stat(c, CL_QUEUE, &in, sizeof in) == 0 && in.size == 0 &&
		in.inflight == 0) || cl_now_us() - last > 60 * 1000000LL;
}

/* Take one message and ack it, timing both, into *r: 0, 1 for nothing
 * there, -1 when the handle broke. */
static int cl_take(ipc_client *c, struct cl_rec *r)
{
	uint64_t tag;
	void *m;
	size_t len;
	int rc;

	r->asked = cl_now_us();
	rc = ipc_queue_get_ack(c, CL_QUEUE, &m, &len, &tag, 3000, CL_LEASE_MS);
	if (rc != 0 || len != sizeof r->num) {
		if (rc != IPC_EEMPTY)
			fprintf(stderr, "cluster: get: %s\n", ipc_last_error(c));
		if (rc == 0)
			ipc_free(m);
		return rc < 0 ? -1 : 1;
	}
	r->got = cl_now_us();
	memcpy(&r->num, m, sizeof r->num);
	ipc_free(m);
	cl_trigger(r->num, CL_AFTER_GET);
	r->ackrc = ipc_queue_ack(c, CL_QUEUE, tag);
	r->acked = cl_now_us();
	if (r->ackrc == 0)
		cl_trigger(r->num, CL_AFTER_ACK);
	else
		fprintf(stderr, "cluster: consumer %d: ack of %u failed at +%.3f s after "
			"%.3f s: %s\n", r->consumer, r->num, cl_rel(r->acked),
			(double)(r->acked - r->got) / 1e6, ipc_last_error(c));
	return 0;
}

/* Consumer k: get_ack and ack until the queue is drained, logging every
 * delivery and its ack to its own file. */
static int cl_consumer(int k)
{
	ipc_client *c = cl_connect(1 + k % 2);
	struct cl_rec r = { .consumer = k };
	char path[96];
	int rc;
	FILE *f;

	snprintf(path, sizeof path, "%s/consumer%d", cl_dir, k);
	if (!(f = fopen(path, "w")))
		return 1;
	r.got = cl_now_us();
	for (;;) {
		rc = cl_take(c, &r);
		if (rc < 0)
			return 1;
		if (rc == 0)
			fwrite(&r, sizeof r, 1, f);
		else if (cl_drained(c, r.got))
			break;
	}
	fclose(f);
	ipc_close(c);
	return 0;
}

/* Fork a child running fn(k). */
static pid_t cl_fork(int (*fn)(int), int k)
{
	pid_t pid = fork();

	if (pid == 0)
		_exit(fn(k));
	return pid;
}

/* Wait for pid; its exit status (or 128 + signal). */
static int cl_wait(pid_t pid)
{
	int st;

	while (waitpid(pid, &st, 0) < 0)
		if (errno != EINTR)
			return -1;
	return WIFEXITED(st) ? WEXITSTATUS(st) : 128 + WTERMSIG(st);
}

/* Create the queue (3 replicas) once the cluster's JetStream is up. */
static void cl_create_queue(void)
{
	struct ipc_queue_opts o = IPC_QUEUE_OPTS_INIT;
	ipc_client *c = cl_connect(0);
	int i, rc = -1;

	o.maxsize = 0;
	o.flags = IPC_QUEUE_CREATE | IPC_QUEUE_DURABLE;
	for (i = 0; i < 300 && (rc = ipc_queue_open(c, CL_QUEUE, &o, NULL)) != 0; i++)
		usleep(100 * 1000);
	if (rc != 0) {
		fprintf(stderr, "cluster: create: %s\n", ipc_last_error(c));
		exit(1);
	}
	ipc_close(c);
}

/* Open the JetStream context of a connection to node k: 0 or -1. */
static int cl_js(int k, natsConnection **nc, jsCtx **js)
{
	*nc = NULL;
	*js = NULL;
	return natsConnection_ConnectTo(nc, cl_nodes[k].url) == NATS_OK &&
	       natsConnection_JetStream(js, *nc, NULL) == NATS_OK ? 0 : -1;
}

/* 1 when the stream still holds the message at seq (asked of its leader). */
static int cl_in_stream(jsCtx *js, const char *stream, uint64_t seq)
{
	natsMsg *m = NULL;
	jsErrCode ec = 0;
	natsStatus s = js_GetMsg(&m, js, stream, seq, NULL, &ec);

	natsMsg_Destroy(m);
	return s == NATS_OK;
}

/*
 * The ack check, in a child (libnats runs threads): put, get_ack and ack
 * CL_ACKQ_N messages one by one on a queue with 3 replicas, and right
 * after each ipc_queue_ack() returned 0 ask the stream's leader for the
 * message: it must be gone (a confirmed ack is committed, so no failover
 * can bring the message back). nats-server answers an ack before its
 * followers have it, so without waiting for the commit some are found.
 */
static int cl_ack_check(int unused)
{
	struct ipc_queue_opts o = IPC_QUEUE_OPTS_INIT;
	ipc_client *c = cl_connect(1);
	natsConnection *nc;
	jsCtx *js;
	uint32_t i;
	uint64_t tag;
	int64_t t, acking = 0;
	void *m;
	size_t len;
	int still = 0, failed = 0;

	(void)unused;
	o.flags = IPC_QUEUE_CREATE;
	if (cl_js(1, &nc, &js) != 0 || ipc_queue_open(c, CL_ACKQ, &o, NULL) != 0)
		return 2;
	for (i = 0; i < CL_ACKQ_N; i++) {
		if (ipc_queue_put(c, CL_ACKQ, &i, sizeof i, 10000) != 0 ||
		    ipc_queue_get_ack(c, CL_ACKQ, &m, &len, &tag, 10000, 0) != 0) {
			failed++;
			continue;
		}
		ipc_free(m);
		t = cl_now_us();
		if (ipc_queue_ack(c, CL_ACKQ, tag) != 0)
			failed++;
		else if ((acking += cl_now_us() - t) >= 0)
			still += cl_in_stream(js, CL_ACKQ_STREAM, tag);
	}
	printf("cluster: ack check: %d messages acked one by one on a queue with 3 "
	       "replicas, %d still in the stream once ipc_queue_ack() returned 0, "
	       "%d failed; %.2f ms per ack\n", CL_ACKQ_N, still, failed,
	       (double)acking / 1000 / CL_ACKQ_N);
	ipc_delete(c, CL_ACKQ);
	ipc_close(c);
	jsCtx_Destroy(js);
	natsConnection_Destroy(nc);
	return still || failed;
}

/* The index of the node named by a cluster info's leader (-1: none), and
 * whether its followers are all current (*current cleared if not). */
static int cl_group(const jsClusterInfo *ci, int *current)
{
	int i, k = -1;

	if (!ci || !ci->Leader) {
		*current = 0;
		return -1;
	}
	for (i = 0; i < 3; i++)
		if (strcmp(ci->Leader, cl_nodes[i].name) == 0)
			k = i;
	for (i = 0; i < ci->ReplicasLen; i++)
		if (!ci->Replicas[i]->Current || ci->Replicas[i]->Offline)
			*current = 0;
	*current &= ci->ReplicasLen == 2;
	return k;
}

/* Ask a running node who leads the queue's stream and its consumer
 * (-1: unknown); 1 when both groups have every replica current. */
static int cl_leaders(int *stream, int *consumer)
{
	natsConnection *nc = NULL;
	jsCtx *js = NULL;
	jsStreamInfo *si = NULL;
	jsConsumerInfo *ci = NULL;
	int i, current = 1;

	*stream = *consumer = -1;
	for (i = 0; i < 3 && !nc; i++)
		if (cl_nodes[i].pid > 0 &&
		    natsConnection_ConnectTo(&nc, cl_nodes[i].url) != NATS_OK)
			nc = NULL;
	if (nc && natsConnection_JetStream(&js, nc, NULL) == NATS_OK &&
	    js_GetStreamInfo(&si, js, CL_STREAM, NULL, NULL) == NATS_OK &&
	    js_GetConsumerInfo(&ci, js, CL_STREAM, CL_CONSUMER, NULL, NULL) == NATS_OK) {
		*stream = cl_group(si->Cluster, &current);
		*consumer = cl_group(ci->Cluster, &current);
	} else
		current = 0;
	jsConsumerInfo_Destroy(ci);
	jsStreamInfo_Destroy(si);
	jsCtx_Destroy(js);
	natsConnection_Destroy(nc);
	return current;
}

/* Wait (up to 60 s) until both groups have a leader and every replica is
 * current again; 1 if they did. */
static int cl_settle(void)
{
	int i, s, c;

	for (i = 0; i < 600; i++) {
		if (cl_leaders(&s, &c) && s >= 0 && c >= 0)
			return 1;
		usleep(100 * 1000);
	}
	return 0;
}

/* Arm the kill of node for the next delivery or confirmed ack (k->when);
 * if none comes within 3 s, kill it here. Then reap it and restart it
 * 2 s later. */
static void cl_kill_node(struct cl_kill *k)
{
	int64_t end = cl_now_us() + 3000000;
	pid_t pid = cl_nodes[k->node].pid;

	__atomic_store_n(&cl_sh->at, 0, __ATOMIC_SEQ_CST);
	__atomic_store_n(&cl_sh->when, k->when, __ATOMIC_SEQ_CST);
	__atomic_store_n(&cl_sh->target, pid, __ATOMIC_SEQ_CST);
	while (__atomic_load_n(&cl_sh->target, __ATOMIC_SEQ_CST) != 0 && cl_now_us() < end)
		usleep(1000);
	k->by_consumer = __atomic_exchange_n(&cl_sh->target, 0, __ATOMIC_SEQ_CST) == 0;
	while (k->by_consumer && __atomic_load_n(&cl_sh->at, __ATOMIC_SEQ_CST) == 0)
		usleep(1000);
	k->after = cl_sh->after;
	k->at = k->by_consumer ? cl_sh->at : cl_now_us();
	n_kill(&cl_nodes[k->node], SIGKILL);
	sleep(2);
	n_restart(&cl_nodes[k->node]);
	k->settled = cl_settle();
}

/* Failover i: once the queue has taken its share of the puts, kill the
 * consumer's leader (i even) or the stream's (i odd); the first right
 * after a delivery (its delivered state may die with the leader), the
 * others right after a confirmed ack (which may die with it). */
static void cl_failover(int i, struct cl_kill *k)
{
	unsigned long long at = (unsigned long long)CL_TOTAL * (i + 1) / (CL_KILLS + 1);
	struct ipc_info in = { 0 };
	ipc_client *c = cl_connect(0);

	while (ipc_stat(c, CL_QUEUE, &in, sizeof in) == 0 && in.puts < at)
		usleep(20 * 1000);
	ipc_close(c);
	cl_leaders(&k->stream_leader, &k->consumer_leader);
	k->node = i % 2 ? k->stream_leader : k->consumer_leader;
	if (k->node < 0)
		k->node = 1;
	k->puts = in.puts;
	k->when = i == 0 ? CL_AFTER_GET : CL_AFTER_ACK;
	cl_kill_node(k);
}

/* Order deliveries by message, then by when they were got. */
static int cl_rec_cmp(const void *a, const void *b)
{
	const struct cl_rec *x = a, *y = b;

	if (x->num != y->num)
		return x->num < y->num ? -1 : 1;
	return (x->got > y->got) - (x->got < y->got);
}

/* Read every consumer's log into one array sorted by cl_rec_cmp. */
static struct cl_rec *cl_load(size_t *n)
{
	struct cl_rec *v = NULL, r;
	size_t cap = 0;
	char path[96];
	int k;

	*n = 0;
	for (k = 0; k < CL_CONSUMERS; k++) {
		FILE *f;

		snprintf(path, sizeof path, "%s/consumer%d", cl_dir, k);
		if (!(f = fopen(path, "r")))
			continue;
		while (fread(&r, sizeof r, 1, f) == 1 && r.num < CL_TOTAL) {
			if (*n == cap && !(v = realloc(v, (cap = cap ? 2 * cap : 65536) * sizeof *v)))
				exit(1);
			v[(*n)++] = r;
		}
		fclose(f);
	}
	qsort(v, *n, sizeof *v, cl_rec_cmp);
	return v;
}

/* Why d came again, given the earlier deliveries e[0..n) of its message:
 * the worst reason any of them gives. */
static enum cl_dup cl_classify(const struct cl_rec *e, size_t n, const struct cl_rec *d)
{
	enum cl_dup worst = DUP_FAILED, why;
	size_t i;

	for (i = 0; i < n; i++) {
		if (e[i].ackrc != 0)
			continue;
		why = e[i].acked > d->asked ? DUP_INFLIGHT : DUP_CONFIRMED;
		worst = why > worst ? why : worst;
	}
	return worst;
}

/* Print one delivery of a duplicated message. */
static void cl_show_rec(const char *what, const struct cl_rec *r)
{
	printf("    %s: consumer %d asked +%.3f s, got +%.3f s, ack %d at +%.3f s "
	       "(%.3f s after the get)\n", what, r->consumer, cl_rel(r->asked),
	       cl_rel(r->got), r->ackrc, cl_rel(r->acked),
	       (double)(r->acked - r->got) / 1e6);
}

/* Count the duplicates of v (sorted) by kind, printing the first ones;
 * the number of messages never acked. */
static unsigned long long cl_dups(const struct cl_rec *v, size_t n,
				  unsigned long long dups[DUP_KINDS])
{
	unsigned long long lost = CL_TOTAL, shown = 0;
	size_t i, j, first = 0;
	int acked = 0;

	for (i = 0; i < n; i++) {
		if (i == 0 || v[i].num != v[i - 1].num) {
			lost -= acked;
			first = i;
			acked = 0;
		} else {
			enum cl_dup why = cl_classify(v + first, i - first, v + i);

			dups[why]++;
			if (shown++ < CL_SHOW) {
				printf("cluster: message %u delivered again, %s:\n",
				       v[i].num, cl_dup_text[why]);
				for (j = first; j <= i; j++)
					cl_show_rec(j < i ? "before" : "again ", v + j);
			}
		}
		acked |= v[i].ackrc == 0;
	}
	return lost - acked;
}

/* Print the failovers. */
static void cl_show_kills(const struct cl_kill *k)
{
	int i;

	for (i = 0; i < CL_KILLS; i++)
		printf("cluster: kill %d: node %d (stream leader node %d, consumer leader "
		       "node %d) at %llu puts, +%.3f s, %s %u; %s\n", i + 1,
		       k[i].node + 1, k[i].stream_leader + 1, k[i].consumer_leader + 1,
		       k[i].puts, cl_rel(k[i].at),
		       !k[i].by_consumer ? "by the test (no consumer within 3 s), message" :
		       k[i].when == CL_AFTER_GET ? "right after the delivery of message" :
		       "right after the confirmed ack of message", k[i].after,
		       k[i].settled ? "all replicas current again" :
		       "REPLICAS NOT CURRENT within 60 s");
}

/* Count the logged deliveries; 0 when the run kept its promises. */
static int cl_check(const struct cl_kill *kills)
{
	unsigned long long dups[DUP_KINDS] = { 0 }, lost, all = 0;
	size_t n;
	struct cl_rec *v = cl_load(&n);
	int i;

	cl_show_kills(kills);
	lost = cl_dups(v, n, dups);
	for (i = 0; i < DUP_KINDS; i++)
		all += dups[i];
	printf("cluster: %d messages put on node 1 by %d producers, %d failovers; "
	       "%d consumers on nodes 2 and 3: %zu deliveries, %llu acked, %llu lost, "
	       "%llu duplicates (%llu %s, %llu %s, %llu %s); %.1f s\n",
	       CL_TOTAL, CL_PRODUCERS, CL_KILLS, CL_CONSUMERS, n,
	       (unsigned long long)CL_TOTAL - lost, lost, all,
	       dups[DUP_FAILED], cl_dup_text[DUP_FAILED],
	       dups[DUP_INFLIGHT], cl_dup_text[DUP_INFLIGHT],
	       dups[DUP_CONFIRMED], cl_dup_text[DUP_CONFIRMED], cl_rel(cl_now_us()));
	free(v);
	return lost || dups[DUP_CONFIRMED];
}

/* Stop the cluster and remove the logs (atexit). */
static void cl_cleanup(void)
{
	char cmd[96];
	int i;

	for (i = 0; i < 3; i++)
		n_stop(&cl_nodes[i]);
	snprintf(cmd, sizeof cmd, "rm -rf '%s'", cl_dir);
	if (cl_dir[0] && system(cmd) != 0)
		fprintf(stderr, "cluster: could not remove %s\n", cl_dir);
}

/* Start the cluster, the queue and the memory the consumers share. */
static void cl_setup(void)
{
	snprintf(cl_dir, sizeof cl_dir, "/tmp/ipcd-cluster-XXXXXX");
	if (!mkdtemp(cl_dir))
		exit(1);
	cl_sh = mmap(NULL, sizeof *cl_sh, PROT_READ | PROT_WRITE,
		     MAP_SHARED | MAP_ANONYMOUS, -1, 0);
	if (cl_sh == MAP_FAILED)
		exit(1);
	memset(cl_sh, 0, sizeof *cl_sh);
	n_cluster_start(cl_nodes);
	atexit(cl_cleanup);
	cl_create_queue();
}

int main(int argc, char **argv)
{
	pid_t pids[CL_PRODUCERS + CL_CONSUMERS];
	struct cl_kill kills[CL_KILLS];
	int i, bad = 0;
	char done[96];

	setvbuf(stdout, NULL, _IOLBF, 0);
	if (!n_bin()) {
		printf("SKIP: no nats-server (NATS_SERVER_BIN)\n");
		return 77;
	}
	cl_setup();
	bad |= cl_wait(cl_fork(cl_ack_check, 0)) != 0;
	if (argc > 1 && strcmp(argv[1], "--ack-check") == 0)
		return bad;
	cl_t0 = cl_now_us();
	for (i = 0; i < CL_CONSUMERS; i++)
		pids[i] = cl_fork(cl_consumer, i);
	for (i = 0; i < CL_PRODUCERS; i++)
		pids[CL_CONSUMERS + i] = cl_fork(cl_producer, i);
	for (i = 0; i < CL_KILLS; i++)
		cl_failover(i, &kills[i]);
	for (i = 0; i < CL_PRODUCERS; i++)
		bad |= cl_wait(pids[CL_CONSUMERS + i]) != 0;
	snprintf(done, sizeof done, "%s/done", cl_dir);
	fclose(fopen(done, "w"));
	for (i = 0; i < CL_CONSUMERS; i++)
		bad |= cl_wait(pids[i]) != 0;
	bad |= cl_check(kills);
	return bad;
}
