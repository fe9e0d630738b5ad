/* SPDX-License-Identifier: MIT */
/*
 * peers.c: what users would pick instead of ipcd, measured the same way:
 * a raw Unix socket stream (the floor: no broker at all), POSIX message
 * queues, and Python's multiprocessing.Queue and Pipe (run by the helper
 * bench/py_mpqueue.py, which prints one JSON line).
 */
#include <errno.h>
#include <fcntl.h>
#include <mqueue.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <sys/resource.h>
#include <sys/socket.h>

#include "bench.h"

/* Bytes a raw-socket consumer asks for per read. */
#define RAW_READ_BUF (256u << 10)

/* Message counts per size: 64 B runs move more than 64 KiB ones. */
uint64_t bench_count(const struct bench_opts *o, size_t size, int slow)
{
	uint64_t n = size <= 1024 ? 400000 : 20000;

	/* Past 64 KiB, the same bytes as 20000 x 64 KiB (at least 8). */
	if (size > 65536)
		n = n * 65536 / size > 8 ? n * 65536 / size : 8;

	if (slow)
		n /= 8;
	if (o->divide > 1)
		n = n / o->divide ? n / o->divide : 1;
	return o->quick ? (n / 3 ? n / 3 : 1) : n;
}

/* Round trips for the latency rows. */
uint64_t bench_lat_count(const struct bench_opts *o, size_t size)
{
	uint64_t n = size <= 1024 ? 20000 : 5000;

	if (o->divide > 1)
		n = n / o->divide ? n / o->divide : 1;
	return o->quick ? n / 3 : n;
}

/* --- raw Unix socket stream ------------------------------------------------ */

/* Socket pairs of a raw run: fds[i][0] producer i's end, fds[i][1] consumer i's. */
struct raw {
	int fds[BENCH_MAX_PEERS][2];
};

/* One message from producer idx: one write(). */
static int raw_send_one(struct run *r, unsigned idx, const unsigned char *msg)
{
	struct raw *raw = r->arg;

	return write_full(raw->fds[idx][0], msg, r->size);
}

/* Producer: one write() per message. */
static int raw_producer(struct run *r, unsigned idx)
{
	return run_produce(r, idx, raw_send_one, "raw write");
}

/* Consumer: big reads, counting whole messages. */
static int raw_consumer(struct run *r, unsigned idx)
{
	struct raw *raw = r->arg;
	uint64_t want = run_share(r, idx) * r->size, got = 0, counted = 0;
	unsigned char *buf;
	ssize_t k;

	/* Page-aligned: malloc's 256 KiB chunk starts 16 bytes into a
	 * page, which made the kernel's copy into it about twice as slow
	 * (14.7-17.2 us per 64 KiB read against 6.4-8.1 us aligned) and
	 * flattered every ratio against the raw socket. */
	if (posix_memalign((void **)&buf, 4096, RAW_READ_BUF) != 0)
		return run_fail(r, "out of memory");
	run_ready(r);
	while (got < want) {
		k = read(raw->fds[idx][1], buf, RAW_READ_BUF);
		if (k <= 0)
			return run_fail(r, "raw read: %s", k ? strerror(errno) : "EOF");
		got += (uint64_t)k;
		run_consumed(r, got / r->size - counted);
		counted = got / r->size;
	}
	free(buf);
	return 0;
}

/* Throughput over np socket pairs, one producer and one consumer each. */
void peer_rawsock(const struct bench_opts *o, size_t size, unsigned np,
		  struct row *row)
{
	struct raw raw;
	struct run r = { .size = size, .nprod = np, .ncons = np, .arg = &raw };
	unsigned i;

	r.total = bench_count(o, size, 0) / np * np;
	for (i = 0; i < np; i++)
		if (socketpair(AF_UNIX, SOCK_STREAM, 0, raw.fds[i]) != 0) {
			snprintf(row->note, sizeof row->note, "socketpair: %s",
				 strerror(errno));
			return;
		}
	run_throughput(&r, raw_producer, raw_consumer, row);
	for (i = 0; i < np; i++) {
		close(raw.fds[i][0]);
		close(raw.fds[i][1]);
	}
}

/* Pinger: write the message, read the echo. */
static int raw_send(struct run *r, unsigned char *msg)
{
	struct raw *raw = r->arg;

	return write_full(raw->fds[0][0], msg, r->size) ? run_fail(r, "raw write") : 0;
}

/* Pinger: wait for the echo. */
static int raw_back(struct run *r)
{
	struct raw *raw = r->arg;

	return read_full(raw->fds[0][0], r->rbuf, r->size) ? run_fail(r, "raw read") : 0;
}

/* Pinger side of the raw latency run. */
static int raw_ping(struct run *r, unsigned idx)
{
	(void)idx;
	return run_ping_loop(r, raw_send, raw_back);
}

/* Ponger: read a message. */
static int raw_pong_recv(struct run *r, unsigned char *buf)
{
	struct raw *raw = r->arg;

	return read_full(raw->fds[0][1], buf, r->size) ? run_fail(r, "raw read") : 0;
}

/* Ponger: echo it. */
static int raw_pong_send(struct run *r, const unsigned char *buf)
{
	struct raw *raw = r->arg;

	return write_full(raw->fds[0][1], buf, r->size) ? run_fail(r, "raw write") : 0;
}

/* Ponger side of the raw latency run. */
static int raw_pong(struct run *r, unsigned idx)
{
	(void)idx;
	return run_pong_loop(r, raw_pong_recv, raw_pong_send);
}

/* Latency: one-way hand-off and round trip over a socket pair. */
void peer_rawsock_lat(const struct bench_opts *o, size_t size, struct row *oneway,
		      struct row *rtt)
{
	struct raw *raw = calloc(1, sizeof *raw);
	struct run r = { .size = size, .arg = raw };

	if (raw == NULL)
		return;
	r.total = bench_lat_count(o, size);
	if (socketpair(AF_UNIX, SOCK_STREAM, 0, raw->fds[0]) != 0) {
		snprintf(oneway->note, sizeof oneway->note, "socketpair failed");
		free(raw);
		return;
	}
	run_latency_rtt(&r, raw_ping, raw_pong, oneway, rtt);
	close(raw->fds[0][0]);
	close(raw->fds[0][1]);
	free(raw);
}

/* --- POSIX message queues ---------------------------------------------------- */

/* The message queues of a run: [0] the data (or ping) queue, [1] pong. */
struct mqs {
	char name[2][64];
	mqd_t q[2];
};

/* Create (or re-open) an mq of msgsize bytes, as deep as the kernel lets us. */
static mqd_t mq_make(const char *name, size_t msgsize, long *depth)
{
	static const long depths[] = { 1024, 256, 64, 10 };
	struct mq_attr a = { .mq_msgsize = (long)msgsize };
	struct rlimit rl = { RLIM_INFINITY, RLIM_INFINITY };
	mqd_t q = (mqd_t)-1;
	size_t i;

	/* Root may lift the per-user byte cap (RLIMIT_MSGQUEUE, 800 KiB). */
	setrlimit(RLIMIT_MSGQUEUE, &rl);
	for (i = 0; i < sizeof depths / sizeof depths[0] && q == (mqd_t)-1; i++) {
		a.mq_maxmsg = depths[i];
		mq_unlink(name);
		q = mq_open(name, O_CREAT | O_EXCL | O_RDWR, 0600, &a);
		*depth = depths[i];
	}
	return q;
}

/* An absolute CLOCK_REALTIME deadline ms from now (mq_timed*). */
static struct timespec mq_deadline(int ms)
{
	struct timespec ts;

	clock_gettime(CLOCK_REALTIME, &ts);
	ts.tv_nsec += (long)(ms % 1000) * 1000000;
	ts.tv_sec += ms / 1000 + ts.tv_nsec / 1000000000;
	ts.tv_nsec %= 1000000000;
	return ts;
}

/* One message from a producer: mq_send. */
static int mq_send_one(struct run *r, unsigned idx, const unsigned char *msg)
{
	struct mqs *m = r->arg;

	(void)idx;
	return mq_send(m->q[0], (const char *)msg, r->size, 0);
}

/* Producer: mq_send each message. */
static int mq_producer(struct run *r, unsigned idx)
{
	return run_produce(r, idx, mq_send_one, "mq_send");
}

/* Consumer: mq_timedreceive until the run is complete. */
static int mq_consumer(struct run *r, unsigned idx)
{
	struct mqs *m = r->arg;
	unsigned char *buf = malloc(r->size);
	struct timespec ts;
	ssize_t k;

	(void)idx;
	if (buf == NULL)
		return run_fail(r, "out of memory");
	run_ready(r);
	for (;;) {
		ts = mq_deadline(BENCH_POLL_MS);
		k = mq_timedreceive(m->q[0], (char *)buf, r->size, NULL, &ts);
		if (k < 0 && errno == ETIMEDOUT && !run_is_done(r))
			continue;
		if (k < 0 && errno == ETIMEDOUT)
			break;
		if (k != (ssize_t)r->size)
			return run_fail(r, "mq_receive: %s", k < 0 ? strerror(errno) : "short");
		if (run_consumed(r, 1))
			break;
	}
	free(buf);
	return 0;
}

/* Why mq_open failed, in a row's note. */
static void mq_note(struct row *row, size_t size)
{
	int err = errno;
	long max = 0;
	FILE *f = fopen("/proc/sys/fs/mqueue/msgsize_max", "r");

	if (f != NULL) {
		if (fscanf(f, "%ld", &max) != 1)
			max = 0;
		fclose(f);
	}
	if (err == EINVAL && max > 0 && (long)size > max)
		snprintf(row->note, sizeof row->note, "not possible: %zu-byte messages exceed "
			 "fs.mqueue.msgsize_max (%ld)", size, max);
	else
		snprintf(row->note, sizeof row->note, "mq_open: %s", strerror(err));
}

/* Throughput: np producers and np consumers on one queue. */
void peer_mq(const struct bench_opts *o, size_t size, unsigned np, struct row *row)
{
	struct mqs m;
	struct run r = { .size = size, .nprod = np, .ncons = np, .arg = &m };
	long depth;

	r.total = bench_count(o, size, 0);
	snprintf(m.name[0], sizeof m.name[0], "/ipcbench-%ld", (long)getpid());
	m.q[0] = mq_make(m.name[0], size, &depth);
	if (m.q[0] == (mqd_t)-1) {
		mq_note(row, size);
		return;
	}
	run_throughput(&r, mq_producer, mq_consumer, row);
	mq_close(m.q[0]);
	mq_unlink(m.name[0]);
}

/* Pinger: send on the ping queue. */
static int mq_ping_send(struct run *r, unsigned char *msg)
{
	struct mqs *m = r->arg;

	return mq_send(m->q[0], (const char *)msg, r->size, 0) ? run_fail(r, "mq_send") : 0;
}

/* Pinger: wait for the answer on the pong queue. */
static int mq_ping_back(struct run *r)
{
	struct mqs *m = r->arg;

	return mq_receive(m->q[1], (char *)r->rbuf, r->size, NULL) != (ssize_t)r->size
		? run_fail(r, "mq_receive") : 0;
}

/* Pinger side of the mq latency run. */
static int mq_ping(struct run *r, unsigned idx)
{
	(void)idx;
	return run_ping_loop(r, mq_ping_send, mq_ping_back);
}

/* Ponger: receive on the ping queue (giving up after 10 s). */
static int mq_pong_recv(struct run *r, unsigned char *buf)
{
	struct mqs *m = r->arg;
	struct timespec ts = mq_deadline(10000);

	if (mq_timedreceive(m->q[0], (char *)buf, r->size, NULL, &ts) != (ssize_t)r->size)
		return run_fail(r, "mq_receive: %s", strerror(errno));
	return 0;
}

/* Ponger: answer on the pong queue. */
static int mq_pong_send(struct run *r, const unsigned char *buf)
{
	struct mqs *m = r->arg;

	if (mq_send(m->q[1], (const char *)buf, r->size, 0) != 0)
		return run_fail(r, "mq_send: %s", strerror(errno));
	return 0;
}

/* Ponger side of the mq latency run. */
static int mq_pong(struct run *r, unsigned idx)
{
	(void)idx;
	return run_pong_loop(r, mq_pong_recv, mq_pong_send);
}

/* Latency: mq_send -> mq_receive hand-off. */
void peer_mq_lat(const struct bench_opts *o, size_t size, struct row *row)
{
	struct mqs m;
	struct run r = { .size = size, .arg = &m };
	long depth;
	int i;

	r.total = bench_lat_count(o, size);
	for (i = 0; i < 2; i++) {
		snprintf(m.name[i], sizeof m.name[i], "/ipcbench-%ld-%d", (long)getpid(), i);
		m.q[i] = mq_make(m.name[i], size, &depth);
		if (m.q[i] == (mqd_t)-1) {
			mq_note(row, size);
			return;
		}
	}
	run_latency(&r, mq_ping, mq_pong, row);
	for (i = 0; i < 2; i++) {
		mq_close(m.q[i]);
		mq_unlink(m.name[i]);
	}
}

/* --- Python multiprocessing (bench/py_mpqueue.py) ------------------------------ */

/* The number after "key": in a JSON line, or -1. */
static double json_num(const char *line, const char *key)
{
	char pat[64];
	const char *p;

	snprintf(pat, sizeof pat, "\"%s\":", key);
	p = strstr(line, pat);
	return p ? strtod(p + strlen(pat), NULL) : -1;
}

/* Run the helper once for one workload; fills row or row->note. */
static void peer_python_once(const struct bench_opts *o, const char *what, size_t size,
			     unsigned np, struct row *row)
{
	char cmd[1024], line[1024] = "";
	int lat = strstr(what, "lat") != NULL;
	uint64_t n = lat ? bench_lat_count(o, size) : bench_count(o, size, 1);
	const char *e;
	FILE *f;

	snprintf(cmd, sizeof cmd, "'%s' '%s' %s %zu %u %llu", o->python, o->py_helper,
		 what, size, np, (unsigned long long)n);
	f = popen(cmd, "r");
	if (f == NULL || fgets(line, sizeof line, f) == NULL)
		snprintf(row->note, sizeof row->note, "python helper gave no result");
	if (f != NULL)
		pclose(f);
	if ((e = strstr(line, "\"error\": \"")) != NULL) {
		snprintf(row->note, sizeof row->note, "%.80s", e + 10);
		row->note[strcspn(row->note, "\"")] = '\0';
		return;
	}
	if (row->note[0])
		return;
	row->msgs_per_s = json_num(line, "msgs_per_s");
	row->mb_per_s = row->msgs_per_s * (double)size / 1e6;
	row->p50_us = json_num(line, "p50_us");
	row->p99_us = json_num(line, "p99_us");
	if (lat)
		row->msgs_per_s = row->mb_per_s = 0;
}

/* Run the helper for one workload; fills row or row->note. */
void peer_python(const struct bench_opts *o, const char *what, size_t size,
		 unsigned np, struct row *row)
{
	if (o->python == NULL || *o->python == '\0') {
		snprintf(row->note, sizeof row->note, "python3 not installed");
		return;
	}
	peer_python_once(o, what, size, np, row);
}
