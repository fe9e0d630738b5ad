/* SPDX-License-Identifier: MIT */
/*
 * redis.c: Redis as a queue (a list: LPUSH at the head, BRPOP/RPOP at the
 * tail), spoken in RESP over redis-server's Unix socket, started here on
 * a private socket with persistence off.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "bench.h"

#define RESP_BUF_MIN (256u << 10)

static pid_t redis_pid;
static char redis_sock[256];

/* One RESP connection with its buffers. */
struct resp {
	int fd;
	unsigned char *in;     /* received, parsed from off */
	size_t len, off, cap;
	char *out;             /* commands being built */
	size_t olen, ocap;
	size_t msgsize;        /* bulks of this length count as messages */
};

/* What one reply said. */
struct resp_rep {
	char type;             /* '+', '-', ':', '$', '*' */
	long long num;         /* integer, bulk length or array count (-1 nil) */
	unsigned nmsgs;        /* bulks of msgsize bytes in it */
};

/* Start redis-server on a private socket. */
int redis_start(const struct bench_opts *o, char *note, size_t len)
{
	return redis_start_aof(o, NULL, note, len);
}

/* Start redis-server, with its append-only file synced per fsync (NULL:
 * no AOF). */
int redis_start_aof(const struct bench_opts *o, const char *fsync, char *note,
		    size_t len)
{
	char log[256];
	char *argv[] = { (char *)o->redis, "--port", "0", "--unixsocket", redis_sock,
			 "--unixsocketperm", "700", "--save", "",
			 "--appendonly", fsync ? "yes" : "no",
			 "--appendfsync", fsync ? (char *)fsync : "everysec",
			 "--dir", (char *)o->tmpdir, "--daemonize", "no", NULL };

	if (o->redis == NULL || *o->redis == '\0' || access(o->redis, X_OK) != 0) {
		snprintf(note, len, "redis-server not installed");
		return -1;
	}
	snprintf(redis_sock, sizeof redis_sock, "%s/redis.sock", o->tmpdir);
	snprintf(log, sizeof log, "%s/redis.log", o->tmpdir);
	redis_pid = spawn_server(argv, log);
	if (redis_pid < 0 || wait_socket(redis_sock, 10000) != 0) {
		snprintf(note, len, "redis-server did not start (see %s)", log);
		stop_server(redis_pid);
		redis_pid = 0;
		return -1;
	}
	return 0;
}

/* Stop redis-server. */
void redis_stop(void)
{
	stop_server(redis_pid);
	redis_pid = 0;
}

/* Connect to our redis-server. */
static int resp_open(struct resp *c, size_t msgsize)
{
	memset(c, 0, sizeof *c);
	c->msgsize = msgsize;
	c->fd = unix_connect(redis_sock);
	c->cap = RESP_BUF_MIN + msgsize * (BENCH_BATCH + 1);
	c->in = malloc(c->cap);
	c->ocap = c->cap;
	c->out = malloc(c->ocap);
	return c->fd >= 0 && c->in && c->out ? 0 : -1;
}

/* Append bytes to the command buffer, growing it. */
static void resp_put(struct resp *c, const void *p, size_t n)
{
	if (c->olen + n > c->ocap) {
		c->ocap = (c->olen + n) * 2;
		c->out = realloc(c->out, c->ocap);
		if (c->out == NULL)
			abort();
	}
	memcpy(c->out + c->olen, p, n);
	c->olen += n;
}

/* Append one bulk string. */
static void resp_bulk(struct resp *c, const void *p, size_t n)
{
	char hdr[32];

	resp_put(c, hdr, (size_t)snprintf(hdr, sizeof hdr, "$%zu\r\n", n));
	resp_put(c, p, n);
	resp_put(c, "\r\n", 2);
}

/* Append a command: argc bulk strings, argv[i] NUL-terminated. */
static void resp_cmd(struct resp *c, int argc, const char *const *argv)
{
	char hdr[32];
	int i;

	resp_put(c, hdr, (size_t)snprintf(hdr, sizeof hdr, "*%d\r\n", argc));
	for (i = 0; i < argc; i++)
		resp_bulk(c, argv[i], strlen(argv[i]));
}

/* Append LPUSH key with n values of msg. */
static void resp_lpush(struct resp *c, const char *key, const unsigned char *msg,
		       size_t size, unsigned n)
{
	char hdr[32];
	unsigned i;

	resp_put(c, hdr, (size_t)snprintf(hdr, sizeof hdr, "*%u\r\n", n + 2));
	resp_bulk(c, "LPUSH", 5);
	resp_bulk(c, key, strlen(key));
	for (i = 0; i < n; i++)
		resp_bulk(c, msg, size);
}

/* Send the command buffer. */
static int resp_flush(struct resp *c)
{
	int rc = write_full(c->fd, c->out, c->olen);

	c->olen = 0;
	return rc;
}

/* The line at p (up to CRLF) within n bytes: its length, or -1 if incomplete. */
static long resp_line(const unsigned char *p, size_t n)
{
	const unsigned char *e = memchr(p, '\r', n);

	if (e == NULL || (size_t)(e - p) + 1 >= n)
		return -1;
	return e - p;
}

/* Parse one reply at p[0..n): bytes used, 0 when incomplete, -1 malformed. */
static long resp_parse(const struct resp *c, const unsigned char *p, size_t n,
		       struct resp_rep *rep, int top)
{
	long l = resp_line(p, n), used, sub;
	long long i;

	if (l < 0)
		return 0;
	used = l + 2;
	rep->num = strtoll((const char *)p + 1, NULL, 10);
	if (top)
		rep->type = (char)p[0];
	switch (p[0]) {
	case '$':
		if (rep->num < 0)
			return used;
		if ((size_t)used + (size_t)rep->num + 2 > n)
			return 0;
		rep->nmsgs += (size_t)rep->num == c->msgsize;
		return used + rep->num + 2;
	case '*':
		for (i = 0; i < rep->num; i++) {
			struct resp_rep el = { 0 };

			sub = resp_parse(c, p + used, n - (size_t)used, &el, 0);
			if (sub <= 0)
				return sub;
			rep->nmsgs += el.nmsgs;
			used += sub;
		}
		return used;
	case '+': case '-': case ':':
		return used;
	default:
		return -1;
	}
}

/* Read one whole reply. 0, or -1 on error (and on a '-' reply). */
static int resp_read(struct resp *c, struct resp_rep *rep)
{
	long used;
	ssize_t k;

	for (;;) {
		memset(rep, 0, sizeof *rep);
		used = c->len > c->off ? resp_parse(c, c->in + c->off, c->len - c->off, rep, 1) : 0;
		if (used < 0)
			return -1;
		if (used > 0) {
			c->off += (size_t)used;
			return rep->type == '-' ? -1 : 0;
		}
		if (c->off > 0) {
			memmove(c->in, c->in + c->off, c->len - c->off);
			c->len -= c->off;
			c->off = 0;
		}
		if (c->len == c->cap) {
			c->cap *= 2;
			c->in = realloc(c->in, c->cap);
			if (c->in == NULL)
				return -1;
		}
		k = read(c->fd, c->in + c->len, c->cap - c->len);
		if (k <= 0)
			return -1;
		c->len += (size_t)k;
	}
}

/* Send the built commands and read n replies; messages seen in *nmsgs. */
static int resp_roundtrip(struct resp *c, unsigned n, unsigned *nmsgs)
{
	struct resp_rep rep;

	if (resp_flush(c) != 0)
		return -1;
	if (nmsgs)
		*nmsgs = 0;
	while (n-- > 0) {
		if (resp_read(c, &rep) != 0)
			return -1;
		if (nmsgs)
			*nmsgs += rep.nmsgs;
	}
	return 0;
}

/* Free a connection. */
static void resp_close(struct resp *c)
{
	if (c->fd >= 0)
		close(c->fd);
	free(c->in);
	free(c->out);
}

/* Producer: LPUSH one at a time (PLAIN), BENCH_WINDOW pipelined (PIPE) or
 * BENCH_BATCH values per LPUSH (BATCH). */
static int redis_producer(struct run *r, unsigned idx)
{
	unsigned char *msg = malloc(r->size);
	uint64_t left = run_share(r, idx);
	struct resp c;
	unsigned k, i;

	if (msg == NULL || resp_open(&c, r->size) != 0)
		return run_fail(r, "redis connect: %s", strerror(errno));
	msg_fill(msg, r->size, 0);
	run_ready(r);
	while (left > 0) {
		k = r->mode == MODE_PLAIN ? 1 : (unsigned)(left < BENCH_BATCH ? left : BENCH_BATCH);
		if (r->mode == MODE_BATCH) {
			resp_lpush(&c, r->qname, msg, r->size, k);
		} else {
			for (i = 0; i < k; i++)
				resp_lpush(&c, r->qname, msg, r->size, 1);
		}
		if (resp_roundtrip(&c, r->mode == MODE_PIPE ? k : 1, NULL) != 0)
			return run_fail(r, "redis LPUSH failed");
		left -= k;
	}
	resp_close(&c);
	free(msg);
	return 0;
}

/* Consumer: BRPOP one at a time (PLAIN), or RPOP count with a BRPOP to
 * wait when the list is empty. */
static int redis_consumer(struct run *r, unsigned idx)
{
	static const char *tmo = "0.1";
	char count[16];
	struct resp c;
	unsigned got;
	int batch = r->mode != MODE_PLAIN;

	(void)idx;
	if (resp_open(&c, r->size) != 0)
		return run_fail(r, "redis connect: %s", strerror(errno));
	snprintf(count, sizeof count, "%d", BENCH_BATCH);
	run_ready(r);
	for (;;) {
		const char *rpop[] = { "RPOP", r->qname, count };
		const char *brpop[] = { "BRPOP", r->qname, tmo };

		got = 0;
		if (batch) {
			resp_cmd(&c, 3, rpop);
			if (resp_roundtrip(&c, 1, &got) != 0)
				return run_fail(r, "redis RPOP failed");
		}
		if (got == 0) {
			resp_cmd(&c, 3, brpop);
			if (resp_roundtrip(&c, 1, &got) != 0)
				return run_fail(r, "redis BRPOP failed");
		}
		if (got == 0 ? run_is_done(r) : run_consumed(r, got))
			break;
	}
	resp_close(&c);
	return 0;
}

/* Delete the run's list. */
static void redis_del(const char *key)
{
	const char *del[] = { "DEL", key };
	struct resp c;

	if (resp_open(&c, 0) == 0) {
		resp_cmd(&c, 2, del);
		resp_roundtrip(&c, 1, NULL);
	}
	resp_close(&c);
}

/* Throughput with np producers and np consumers on one list. */
void peer_redis(const struct bench_opts *o, size_t size, unsigned np,
		enum bench_mode mode, struct row *row)
{
	struct run r = { .size = size, .nprod = np, .ncons = np, .mode = mode };

	if (redis_pid <= 0) {
		snprintf(row->note, sizeof row->note, "redis-server not running");
		return;
	}
	r.total = bench_count(o, size, mode == MODE_PLAIN);
	snprintf(r.qname, sizeof r.qname, "ipcbench:%zu:%u:%d", size, np, (int)mode);
	redis_del(r.qname);
	run_throughput(&r, redis_producer, redis_consumer, row);
	redis_del(r.qname);
}

/* Latency pinger: LPUSH to ping, BRPOP from pong. */
static struct resp lat_c;

/* Pinger: LPUSH the stamped message. */
static int redis_ping_send(struct run *r, unsigned char *msg)
{
	resp_lpush(&lat_c, r->qname, msg, r->size, 1);
	return resp_roundtrip(&lat_c, 1, NULL) ? run_fail(r, "redis LPUSH failed") : 0;
}

/* Pinger: BRPOP the answer. */
static int redis_ping_back(struct run *r)
{
	char key[80];
	const char *brpop[] = { "BRPOP", key, "0" };
	unsigned got;

	snprintf(key, sizeof key, "%s:pong", r->qname);
	resp_cmd(&lat_c, 3, brpop);
	return resp_roundtrip(&lat_c, 1, &got) || got != 1 ? run_fail(r, "redis BRPOP failed") : 0;
}

/* Pinger side of the redis latency run. */
static int redis_ping(struct run *r, unsigned idx)
{
	(void)idx;
	if (resp_open(&lat_c, r->size) != 0)
		return run_fail(r, "redis connect failed");
	return run_ping_loop(r, redis_ping_send, redis_ping_back);
}

/* Ponger: BRPOP from ping, record, LPUSH the same bytes to pong. */
static int redis_pong(struct run *r, unsigned idx)
{
	const char *brpop[] = { "BRPOP", r->qname, "10" };
	char key[80];
	struct resp c;
	struct resp_rep rep;
	const unsigned char *msg;

	(void)idx;
	snprintf(key, sizeof key, "%s:pong", r->qname);
	if (resp_open(&c, r->size) != 0)
		return run_fail(r, "redis connect failed");
	run_ready(r);
	for (uint64_t i = 0; i < run_lat_msgs(r); i++) {
		resp_cmd(&c, 3, brpop);
		if (resp_flush(&c) != 0 || resp_read(&c, &rep) != 0 || rep.nmsgs != 1)
			return run_fail(r, "redis BRPOP failed");
		/* The value is the last r->size bytes before the final CRLF. */
		msg = c.in + c.off - 2 - r->size;
		run_sample(r, msg);
		resp_lpush(&c, key, msg, r->size, 1);
		if (resp_roundtrip(&c, 1, NULL) != 0)
			return run_fail(r, "redis LPUSH failed");
	}
	resp_close(&c);
	return 0;
}

/* Latency: LPUSH -> BRPOP hand-off. */
void peer_redis_lat(const struct bench_opts *o, size_t size, struct row *row)
{
	struct run r = { .size = size };
	char key[80];

	if (redis_pid <= 0) {
		snprintf(row->note, sizeof row->note, "redis-server not running");
		return;
	}
	r.total = bench_lat_count(o, size);
	snprintf(r.qname, sizeof r.qname, "ipcbench:lat:%zu", size);
	snprintf(key, sizeof key, "%s:pong", r.qname);
	redis_del(r.qname);
	redis_del(key);
	run_latency(&r, redis_ping, redis_pong, row);
	redis_del(r.qname);
	redis_del(key);
}
