/* SPDX-License-Identifier: MIT */
/*
 * recover.c: how fast a restarted ipcd gets its durable queues back.
 *
 * An ipcd journals n messages of one size into a durable queue (sync =
 * none: the journal is the same, only written sooner) and is stopped; a
 * new ipcd on the same state directory is timed from its start until its
 * socket accepts a connection (ipcd replays the journal before it
 * listens), and must then hold all n messages. The figure is journal
 * bytes read per second. Warm: the journal is in the page cache, as after
 * a restart or a crash; cold: its pages (these files only) were dropped
 * first, as after a reboot, so the disk's read speed counts too.
 */
#include <dirent.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "bench.h"
#include <ipcclient/ipcclient.h>

#define REC_QUEUE "recover"
#define REC_START_MS 600000     /* the longest a recovery may take */

/* Where one recovery run keeps its daemon's files. */
struct rec {
	const char *ipcd;
	char sock[160], state[160], log[160], maxbytes[32];
	size_t size;
	uint64_t n;
};

/* Start an ipcd on r's socket and state directory (not waiting for it). */
static pid_t rec_spawn(const struct rec *r)
{
	char *argv[] = { (char *)r->ipcd, "-s", (char *)r->sock, "--state-dir",
			 (char *)r->state, "--sync", "none", "--max-bytes",
			 (char *)r->maxbytes, NULL };

	return spawn_server(argv, r->log);
}

/* Wait until the socket accepts, looking every millisecond: 0 or -1. */
static int rec_wait(const struct rec *r, pid_t pid)
{
	int64_t deadline = now_ns() + (int64_t)REC_START_MS * 1000000;
	int fd;

	while ((fd = unix_connect(r->sock)) < 0) {
		if (now_ns() > deadline || kill(pid, 0) != 0)
			return -1;
		sleep_ms(1);
	}
	close(fd);
	return 0;
}

/* Put r->n messages into a new durable queue, batched: 0 or -1 (note). */
static int rec_fill(const struct rec *r, char *note, size_t notesz)
{
	struct ipc_queue_opts o = IPC_QUEUE_OPTS_INIT;
	size_t per = r->size >= (1u << 20) / BENCH_BATCH ? (1u << 20) / r->size : BENCH_BATCH;
	struct ipc_msg batch[BENCH_BATCH];
	unsigned char *msg = malloc(r->size ? r->size : 1);
	uint64_t left = r->n;
	ipc_client *c = NULL;
	size_t i, k;
	int rc = msg ? ipc_connect(r->sock, &c) : IPC_ENOMEM;

	o.flags = IPC_QUEUE_CREATE | IPC_QUEUE_DURABLE;
	if (rc == 0)
		rc = ipc_queue_open(c, REC_QUEUE, &o, NULL);
	for (i = 0; msg && i < BENCH_BATCH; i++)
		batch[i] = (struct ipc_msg){ msg, r->size };
	if (msg)
		msg_fill(msg, r->size, 0);
	for (; rc == 0 && left > 0; left -= k) {
		k = left < per ? (size_t)left : (per ? per : 1);
		rc = ipc_queue_put_many_async(c, REC_QUEUE, batch, k, IPC_FOREVER);
	}
	if (rc == 0)
		rc = ipc_flush(c);
	if (rc != 0)
		snprintf(note, notesz, "filling the journal: %s",
			 c ? ipc_last_error(c) : ipc_strerror(rc));
	ipc_close(c);
	free(msg);
	return rc ? -1 : 0;
}

/* The bytes of the journal's segment files; with evict, their pages are
 * written out and dropped from the page cache. */
static double rec_journal_bytes(const struct rec *r, int evict)
{
	DIR *d = opendir(r->state);
	struct dirent *e;
	char path[512];
	struct stat st;
	double bytes = 0;
	int fd;

	while (d != NULL && (e = readdir(d)) != NULL) {
		if (!strstr(e->d_name, ".seg"))
			continue;
		snprintf(path, sizeof path, "%s/%s", r->state, e->d_name);
		if (stat(path, &st) == 0)
			bytes += (double)st.st_size;
		if (evict && (fd = open(path, O_RDONLY)) >= 0) {
			if (fdatasync(fd) != 0 ||
			    posix_fadvise(fd, 0, 0, POSIX_FADV_DONTNEED) != 0)
				(void)0; /* the figure is then a warm one */
			close(fd);
		}
	}
	if (d != NULL)
		closedir(d);
	return bytes;
}

/* How many messages the recovered queue holds, or -1. */
static long long rec_count(const struct rec *r)
{
	struct ipc_info in;
	ipc_client *c;
	long long n = -1;

	if (ipc_connect(r->sock, &c) != 0)
		return -1;
	if (ipc_stat(c, REC_QUEUE, &in, sizeof in) == 0)
		n = (long long)in.size;
	ipc_close(c);
	return n;
}

/* Restart on the journal, timed; fill row (msgs/s recovered, journal
 * MB/s) or its note. */
static void rec_restart(const struct rec *r, int cold, struct row *row)
{
	double bytes = rec_journal_bytes(r, cold), secs;
	int64_t t0 = now_ns();
	pid_t pid = rec_spawn(r);
	long long got;

	if (pid < 0 || rec_wait(r, pid) != 0) {
		snprintf(row->note, sizeof row->note, "did not start (see %s)", r->log);
		stop_server(pid);
		return;
	}
	secs = (double)(now_ns() - t0) / 1e9;
	got = rec_count(r);
	stop_server(pid);
	if (got != (long long)r->n) {
		snprintf(row->note, sizeof row->note, "recovered %lld of %llu messages",
			 got, (unsigned long long)r->n);
		return;
	}
	row->msgs_per_s = (double)r->n / secs;
	row->mb_per_s = bytes / 1e6 / secs;
}

/* See bench.h. */
void bench_recovery(const struct bench_opts *o, const char *ipcd, size_t size,
		    uint64_t n, struct row *warm, struct row *cold)
{
	struct rec r = { .ipcd = ipcd, .size = size, .n = n };
	pid_t pid;

	snprintf(r.sock, sizeof r.sock, "%s/recover.sock", o->tmpdir);
	snprintf(r.state, sizeof r.state, "%s/state-recover", o->tmpdir);
	snprintf(r.log, sizeof r.log, "%s/ipcd-recover.log", o->tmpdir);
	/* Room for every message and the daemon's own bookkeeping. */
	snprintf(r.maxbytes, sizeof r.maxbytes, "%llu",
		 (unsigned long long)(2 * n * (size + 64) + (64u << 20)));
	pid = rec_spawn(&r);
	if (pid < 0 || wait_socket(r.sock, 10000) != 0) {
		snprintf(warm->note, sizeof warm->note, "did not start (see %s)", r.log);
		snprintf(cold->note, sizeof cold->note, "%s", warm->note);
		stop_server(pid);
		return;
	}
	if (rec_fill(&r, warm->note, sizeof warm->note) != 0) {
		snprintf(cold->note, sizeof cold->note, "%s", warm->note);
		stop_server(pid);
		rmdir_all(r.state);
		return;
	}
	stop_server(pid);
	rec_restart(&r, 0, warm);
	rec_restart(&r, 1, cold);
	rmdir_all(r.state);
}
