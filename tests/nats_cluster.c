/* SPDX-License-Identifier: MIT */
/*
 * nats_cluster.c: libipcclient on a 3-node NATS JetStream cluster
 * (make check-nats). Producers on node 1 put CL_TOTAL numbered messages
 * into a durable queue (file storage) with 3 replicas; consumers on nodes 2 and 3
 * take them with ipc_queue_get_ack() and ack each one. The node leading
 * the stream (asked through libnats) is SIGKILLed once a third of the
 * messages are in, and restarted 2 s later: every run goes through a
 * leader election, in which publishes find no responders for a while.
 *
 * It passes when every message put is acked at least once (nothing
 * acked is lost) and a message comes again only after a delivery whose
 * ack did not succeed (duplicates only for unacked deliveries); it
 * prints the counts either way. Exit 77 (skip) without nats-server.
 */
#include <errno.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
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
#define CL_QUEUE "cluster"
#define CL_STREAM "IPCQ_cluster"  /* the queue's stream (docs/nats.md) */
#define CL_LEASE_MS 5000

/* One delivery as a consumer logs it. */
struct cl_rec {
	uint32_t num;
	int32_t ackrc;           /* ipc_queue_ack()'s result */
};

static struct natsd cl_nodes[3];
static char cl_dir[64];

/* Milliseconds on the monotonic clock. */
static int64_t cl_now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
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

/* Consumer k: get_ack and ack until the producers are done and the queue
 * stays empty, logging every delivery and its ack to its own file. */
static int cl_consumer(int k)
{
	ipc_client *c = cl_connect(1 + k % 2);
	char path[96], done[96];
	struct cl_rec r;
	uint64_t tag;
	void *m;
	size_t len;
	int rc;
	FILE *f;

	snprintf(path, sizeof path, "%s/consumer%d", cl_dir, k);
	snprintf(done, sizeof done, "%s/done", cl_dir);
	if (!(f = fopen(path, "w")))
		return 1;
	for (;;) {
		rc = ipc_queue_get_ack(c, CL_QUEUE, &m, &len, &tag, 3000, CL_LEASE_MS);
		if (rc == IPC_EEMPTY && access(done, F_OK) == 0)
			break;
		if (rc != 0 || len != sizeof r.num) {
			if (rc != IPC_EEMPTY)
				fprintf(stderr, "cluster: get: %s\n", ipc_last_error(c));
			if (rc < 0)
				return 1;
			continue;
		}
		memcpy(&r.num, m, sizeof r.num);
		ipc_free(m);
		r.ackrc = ipc_queue_ack(c, CL_QUEUE, tag);
		fwrite(&r, sizeof r, 1, f);
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

/* The index of the node leading the queue's stream (1 if unknown). */
static int cl_leader(void)
{
	natsConnection *nc = NULL;
	jsCtx *js = NULL;
	jsStreamInfo *si = NULL;
	int i, k = 1;

	if (natsConnection_ConnectTo(&nc, cl_nodes[0].url) == NATS_OK &&
	    natsConnection_JetStream(&js, nc, NULL) == NATS_OK &&
	    js_GetStreamInfo(&si, js, CL_STREAM, NULL, NULL) == NATS_OK &&
	    si->Cluster && si->Cluster->Leader)
		for (i = 0; i < 3; i++)
			if (strcmp(si->Cluster->Leader, cl_nodes[i].name) == 0)
				k = i;
	jsStreamInfo_Destroy(si);
	jsCtx_Destroy(js);
	natsConnection_Destroy(nc);
	return k;
}

/* Wait until the queue has taken `puts` messages; then SIGKILL the node
 * leading its stream, and restart it 2 s later. The handle is closed
 * before returning; *node says which node it was. */
static unsigned long long cl_kill_midway(unsigned long long puts, int *node)
{
	struct ipc_info in = { 0 };
	ipc_client *c = cl_connect(0);

	while (ipc_stat(c, CL_QUEUE, &in, sizeof in) == 0 && in.puts < puts)
		usleep(100 * 1000);
	ipc_close(c);
	*node = cl_leader();
	n_kill(&cl_nodes[*node], SIGKILL);
	sleep(2);
	n_restart(&cl_nodes[*node]);
	return in.puts;
}

/* Count the logged deliveries; 0 when the run kept its promises. */
static int cl_check(int64_t ms, unsigned long long killed_at, int node)
{
	static uint8_t seen[CL_TOTAL], acked[CL_TOTAL];
	unsigned long long deliveries = 0, dup_unacked = 0, dup_acked = 0, lost = 0;
	struct cl_rec r;
	char path[96];
	uint32_t i;
	int k;

	for (k = 0; k < CL_CONSUMERS; k++) {
		FILE *f;

		snprintf(path, sizeof path, "%s/consumer%d", cl_dir, k);
		if (!(f = fopen(path, "r")))
			return 1;
		while (fread(&r, sizeof r, 1, f) == 1 && r.num < CL_TOTAL) {
			deliveries++;
			if (seen[r.num]++)
				*(acked[r.num] ? &dup_acked : &dup_unacked) += 1;
			acked[r.num] |= r.ackrc == 0;
		}
		fclose(f);
	}
	for (i = 0; i < CL_TOTAL; i++)
		lost += !acked[i];
	printf("cluster: %d messages put on node 1 by %d producers, node %d (the "
	       "stream's leader) SIGKILLed at %llu puts and restarted; %d consumers on "
	       "nodes 2 and 3: %llu deliveries, %llu acked, %llu lost, %llu duplicates "
	       "(%llu after an unacked delivery, %llu after an acked one); %.1f s\n",
	       CL_TOTAL, CL_PRODUCERS, node + 1, killed_at, CL_CONSUMERS, deliveries,
	       (unsigned long long)CL_TOTAL - lost, lost, dup_unacked + dup_acked,
	       dup_unacked, dup_acked, ms / 1000.0);
	return lost || dup_acked;
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

int main(void)
{
	pid_t pids[CL_PRODUCERS + CL_CONSUMERS];
	unsigned long long killed_at;
	int64_t t0;
	int i, node, bad = 0;
	char done[96];

	if (!n_bin()) {
		printf("SKIP: no nats-server (NATS_SERVER_BIN)\n");
		return 77;
	}
	snprintf(cl_dir, sizeof cl_dir, "/tmp/ipcd-cluster-XXXXXX");
	if (!mkdtemp(cl_dir))
		return 1;
	n_cluster_start(cl_nodes);
	atexit(cl_cleanup);
	cl_create_queue();
	t0 = cl_now_ms();
	for (i = 0; i < CL_CONSUMERS; i++)
		pids[i] = cl_fork(cl_consumer, i);
	for (i = 0; i < CL_PRODUCERS; i++)
		pids[CL_CONSUMERS + i] = cl_fork(cl_producer, i);
	killed_at = cl_kill_midway(CL_TOTAL / 3, &node);
	for (i = 0; i < CL_PRODUCERS; i++)
		bad |= cl_wait(pids[CL_CONSUMERS + i]) != 0;
	snprintf(done, sizeof done, "%s/done", cl_dir);
	fclose(fopen(done, "w"));
	for (i = 0; i < CL_CONSUMERS; i++)
		bad |= cl_wait(pids[i]) != 0;
	bad |= cl_check(cl_now_ms() - t0, killed_at, node);
	return bad;
}
