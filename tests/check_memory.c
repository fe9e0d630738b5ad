/* SPDX-License-Identifier: MIT */
/*
 * check_memory.c: what bounds the daemon's memory (issue 11), each with a
 * private daemon and small limits: every message counts its footprint
 * against max-bytes (millions of empty messages cannot grow it), a client
 * that never reads its replies cannot make the daemon hold more than
 * max-output for it, a reply that cannot be encoded gives its messages
 * back, and the measured RSS stays under the bound ipcd(8) states.
 */
#include <check.h>
#include <errno.h>
#include <limits.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <sys/socket.h>

#include "harness.h"
#include "hraw.h"
#include <ipcclient/ipcclient.h>
#include "proto.h"

/* How long to wait for a reply or a state (ms). */
#define T_WAIT_MS (h_wrapped() ? 60000 : 10000)

/* Start d with ipcd arguments args (NULL-terminated) and environment env
 * (NULL: none). */
static void launch(struct h_daemon *d, const char *const *args,
		   const char *const *env)
{
	struct h_opts o = { .args = args, .env = env, .listen_fd = -1 };

	h_prepare(d);
	h_launch_opts(d, &o);
}

/* ---- raw protocol: a client that sends requests and reads nothing ------- */

/* A raw connection to d that said HELLO. */
static int raw_open(const struct h_daemon *d, struct h_raw_rx *rx)
{
	int fd = h_raw_connect(d->sock);

	ck_assert_int_eq(h_raw_hello(fd, rx, NULL), 0);
	return fd;
}

/* ---- item 1: every message counts its footprint ------------------------- */

/* Put empty messages on q, in batches then one by one, until refused:
 * how many were taken (at most cap); the refusal's status in *rc. */
static size_t put_empty_until_refused(ipc_client *c, const char *q,
				      size_t cap, int *rc)
{
	static struct ipc_msg batch[IPC_BATCH_MAX];
	size_t total = 0, n;

	*rc = 0;
	while (total < cap && *rc == 0) {
		n = 0;
		*rc = ipc_queue_put_many(c, q, batch, IPC_BATCH_MAX, &n, 0);
		total += n;
	}
	while (total < cap && (*rc = ipc_queue_put(c, q, "", 0, 0)) == 0)
		total++;
	return total;
}

/* max-bytes 1M: empty messages are refused, like any put past the
 * limit, once their footprint fills it, and the daemon's RSS stays
 * bounded. Before every message counted its footprint, 2.2 million empty
 * messages were taken under max-bytes 1M (RSS 2 MB -> 308 MB). */
START_TEST(test_empty_messages)
{
	static const char *const args[] = { "--max-bytes", "1M", NULL };
	const size_t cap = 400000; /* ~56 MB of them, were there no bound */
	struct h_daemon d;
	struct ipc_info in;
	ipc_client *c;
	long rss0, rss1;
	size_t n;
	int rc;

	launch(&d, args, NULL);
	c = h_connect(&d);
	h_create_queue(c, "empty", 0);
	rss0 = h_rss_kb(d.pid);
	n = put_empty_until_refused(c, "empty", cap, &rc);
	rss1 = h_rss_kb(d.pid);
	fprintf(stderr, "empty_messages: %zu empty messages taken under "
		"max-bytes 1M; RSS %ld -> %ld kB\n", n, rss0, rss1);
	ck_assert_msg(rc == IPC_ELIMIT, "%zu empty messages taken, never "
		      "refused (rc %d)", n, rc);
	ck_assert_str_eq(ipc_last_error(c), "daemon limit reached: max-bytes 1048576");
	in = h_stat(c, "empty");
	ck_assert_uint_eq(in.size, n);
	ck_assert_uint_eq(in.bytes, 0);
	/* Each costs its header and a small block: the same for all. */
	ck_assert_uint_eq(in.memory % n, 0);
	ck_assert_uint_ge(in.memory / n, 32);
	ck_assert_uint_le(in.memory, 1 << 20);
	ck_assert_uint_ge(in.memory, (1 << 20) - in.memory / n);
	ck_assert_uint_le(n, (1u << 20) / (in.memory / n));
	if (rss0 >= 0)
		ck_assert_msg(rss1 - rss0 < 4096, "RSS grew from %ld to %ld kB",
			      rss0, rss1);
	/* Room made by a get is usable again. */
	ck_assert_int_eq(ipc_queue_get_many(c, "empty", (struct ipc_msg[4]){ 0 },
					    4, &n, 0), 0);
	ck_assert_int_eq(ipc_queue_put(c, "empty", "", 0, 0), 0);
	ipc_close(c);
	h_stop(&d);
}
END_TEST

/* ---- item 2: max-output bounds what the daemon holds for a client ------ */

/* What a non-reading client's parks wait on. */
enum idle_on {
	IDLE_QUEUE,         /* queue "q" */
	IDLE_ANY,           /* queues "q0" and "q" at once (QGETANY): the
			       messages come on the second */
	IDLE_PIPE,          /* end 0 of pipe "q", the producer at end 1 */
};

/* One run of the non-reading client test. */
struct idle_run {
	uint32_t op;        /* PROTO_OP_QGET, QGETN, QGETANY or PRECVN */
	unsigned nparks;    /* requests it parks */
	uint32_t max;       /* QGETN, PRECVN: messages each wants */
	unsigned total;     /* messages the producer puts */
	enum idle_on on;
};

/* Messages of the test: 1 KiB, numbered in their first 4 bytes. */
#define IDLE_MSG 1024
#define IDLE_BATCH 256

/* Put (or send, to a pipe) messages first..first+n-1 on q in batches (no
 * waiting): how many were taken before a refusal (*rc). */
static unsigned put_numbered(ipc_client *c, const char *q, int pipe_end,
			     unsigned first, unsigned n, int *rc)
{
	static unsigned char buf[IDLE_BATCH][IDLE_MSG];
	struct ipc_msg m[IDLE_BATCH];
	unsigned done = 0, i, k;
	size_t taken;

	*rc = 0;
	while (done < n && *rc == 0) {
		k = n - done < IDLE_BATCH ? n - done : IDLE_BATCH;
		for (i = 0; i < k; i++) {
			uint32_t v = first + done + i;

			memcpy(buf[i], &v, sizeof v);
			m[i] = (struct ipc_msg){ buf[i], IDLE_MSG };
		}
		taken = 0;
		*rc = pipe_end >= 0
			? ipc_pipe_send_many(c, q, pipe_end, m, k, &taken, 0)
			: ipc_queue_put_many(c, q, m, k, &taken, 0);
		done += (unsigned)taken;
	}
	return done;
}

/* Mark message number v of msg as seen in seen[], asserting once only. */
static void idle_seen(unsigned char *seen, unsigned total, const unsigned char *msg,
		      size_t len)
{
	uint32_t v;

	ck_assert_uint_eq(len, IDLE_MSG);
	memcpy(&v, msg, sizeof v);
	ck_assert_uint_lt(v, total);
	ck_assert_msg(!seen[v], "message %u delivered twice", v);
	seen[v] = 1;
}

/* Read replies on fd until none comes for quiet_ms, every park was
 * answered or want messages came: how many messages they carried
 * (marked in seen). */
static unsigned idle_read(int fd, struct h_raw_rx *rx, const struct idle_run *r,
			  unsigned char *seen, unsigned *replies, int quiet_ms,
			  unsigned want)
{
	struct pollfd p = { .fd = fd, .events = POLLIN };
	struct proto_rep rep;
	unsigned got = 0;
	size_t i;

	while (*replies < r->nparks && got < want && poll(&p, 1, quiet_ms) == 1) {
		ck_assert_int_eq(h_raw_reply(fd, rx, r->op, &rep), 0);
		ck_assert_int_eq(rep.status, 0);
		(*replies)++;
		if (r->op == PROTO_OP_QGET || r->op == PROTO_OP_QGETANY) {
			ck_assert_uint_eq(rep.index, r->on == IDLE_ANY);
			idle_seen(seen, r->total, rep.data, rep.data_len);
			got++;
			continue;
		}
		for (i = 0; i < rep.niov; i++)
			idle_seen(seen, r->total, rep.iov[i].base, rep.iov[i].len);
		got += (unsigned)rep.niov;
	}
	return got;
}

/* Drain q through the library: how many messages (marked in seen). */
static unsigned idle_drain(ipc_client *c, const char *q, const struct idle_run *r,
			   unsigned char *seen)
{
	struct ipc_msg m[64];
	unsigned got = 0;
	size_t n, i;

	while (ipc_queue_get_many(c, q, m, 64, &n, 0) == 0) {
		for (i = 0; i < n; i++)
			idle_seen(seen, r->total, m[i].data, m[i].len);
		got += (unsigned)n;
	}
	return got;
}

/* The raw client takes the rest of pipe q (end 0) with nowait PRECVN:
 * how many messages (marked in seen). */
static unsigned idle_pipe_drain(int fd, struct h_raw_rx *rx, const struct idle_run *r,
				unsigned char *seen)
{
	struct proto_req get = { .op = PROTO_OP_PRECVN, .id = 9, .name = "q",
				 .max = 64 };
	struct proto_rep rep;
	unsigned got = 0;
	size_t i;

	for (;;) {
		h_raw_send_req(fd, &get);
		ck_assert_int_eq(h_raw_reply(fd, rx, get.op, &rep), 0);
		if (rep.status == IPC_EEMPTY)
			return got;
		ck_assert_int_eq(rep.status, 0);
		for (i = 0; i < rep.niov; i++)
			idle_seen(seen, r->total, rep.iov[i].base, rep.iov[i].len);
		got += (unsigned)rep.niov;
	}
}

/* Make what r's parks wait on: the queues, or the pipe with the producer
 * c at end 1 and the raw client fd at end 0. */
static void idle_setup(ipc_client *c, int fd, struct h_raw_rx *rx,
		       const struct idle_run *r)
{
	struct ipc_pipe_opts po = IPC_PIPE_OPTS_INIT;
	struct proto_req at = { .op = PROTO_OP_PATTACH, .id = 2, .name = "q" };
	struct proto_rep rep;

	if (r->on != IDLE_PIPE) {
		h_create_queue(c, "q", 0);
		if (r->on == IDLE_ANY)
			h_create_queue(c, "q0", 0);
		return;
	}
	po.maxmsgs = IPC_PIPE_MSGS_MAX;
	po.maxbytes = 16 << 20;     /* max-bytes bounds it first */
	ck_assert_int_eq(ipc_pipe_attach(c, "q", 1, IPC_PIPE_CREATE, &po), 0);
	h_raw_send_req(fd, &at);
	ck_assert_int_eq(h_raw_reply(fd, rx, at.op, &rep), 0);
	ck_assert_int_eq(rep.status, 0);
}

/* A client parks r->nparks gets (forever) on a queue, or receives on a
 * pipe, and reads nothing while a producer puts r->total messages of
 * 1 KiB under max-bytes 4M and max-output 64K. The daemon must not keep
 * moving messages into its output: past max-output its parks are not
 * woken, the messages stay in the queue (counted, so the producer meets
 * max-bytes) and another consumer gets them, or stay in the pipe. Once
 * the client reads, its parks are served again, from the pipe or with
 * what is put next. Every message is delivered exactly once. */
static void idle_client(const struct idle_run *r)
{
	static const char *const args[] = { "--max-output", "64K",
					    "--max-bytes", "4M", NULL };
	static const struct proto_iov any[2] = {
		{ .base = (const unsigned char *)"q0", .len = 2 },
		{ .base = (const unsigned char *)"q", .len = 1 } };
	unsigned char *seen = calloc(r->total, 1);
	struct proto_req get = { .op = r->op, .name = "q", .timeout_ms = -1,
				 .max = r->max, .names = any, .nnames = 2 };
	unsigned put, kept, drained, idle, later, replies = 0, i;
	int pend = r->on == IDLE_PIPE ? 1 : -1;
	struct h_daemon d;
	struct h_raw_rx rx;
	ipc_client *c;
	long rss0, rss1;
	int fd, rc;

	ck_assert_ptr_nonnull(seen);
	launch(&d, args, NULL);
	c = h_connect(&d);
	h_raw_rx_init(&rx);
	fd = raw_open(&d, &rx);
	idle_setup(c, fd, &rx, r);
	for (i = 0; i < r->nparks; i++) {
		get.id = 100 + i;
		h_raw_send_req(fd, &get);
	}
	h_wait_parked(c, "q", 'g', r->nparks);
	rss0 = h_rss_kb(d.pid);
	put = put_numbered(c, "q", pend, 0, r->total - IDLE_BATCH, &rc);
	usleep(200000); /* let the daemon write what the socket takes */
	rss1 = h_rss_kb(d.pid);
	kept = (unsigned)h_stat(c, "q").size;
	fprintf(stderr, "idle_client %s x %u: %u of %u messages put (rc %d), "
		"%u moved towards the client that reads nothing; RSS %ld -> %ld kB\n",
		proto_op_name(r->op), r->nparks, put, r->total - IDLE_BATCH, rc,
		put - kept, rss0, rss1);
	/* It holds max-output, the socket's buffers and one reply at most. */
	ck_assert_msg(put - kept <= 1536 + r->max, "%u messages moved to a "
		      "client that reads nothing", put - kept);
	ck_assert_msg(rc == IPC_ELIMIT || put == r->total - IDLE_BATCH, "rc %d", rc);
	if (rss0 >= 0)
		ck_assert_msg(rss1 - rss0 < 12 * 1024, "RSS %ld -> %ld kB", rss0, rss1);
	/* Another consumer gets what stayed queued; the parks stay. */
	drained = r->on == IDLE_PIPE ? 0 : idle_drain(c, "q", r, seen);
	ck_assert_uint_eq(drained, r->on == IDLE_PIPE ? 0 : kept);
	ck_assert_uint_gt(h_stat(c, "q").getters, 0);
	/* Reading, the client gets what was moved towards it, then its
	 * parks are served again: from the pipe, or with what is put next. */
	idle = idle_read(fd, &rx, r, seen, &replies, 300, UINT_MAX);
	if (r->on == IDLE_PIPE)
		ck_assert_uint_ge(idle, put - kept);
	else
		ck_assert_uint_eq(idle, put - kept);
	later = put_numbered(c, "q", pend, put, IDLE_BATCH, &rc);
	ck_assert_int_eq(rc, 0);
	/* Numbered and marked once each: reading stops at the count, not
	 * after T_WAIT_MS of silence on the parks still left. */
	while (replies < r->nparks && idle + drained < put + later)
		idle += idle_read(fd, &rx, r, seen, &replies, T_WAIT_MS,
				  put + later - drained - idle);
	if (r->on == IDLE_PIPE)
		idle += idle_pipe_drain(fd, &rx, r, seen);
	ck_assert_uint_eq(idle + drained, put + later);
	ck_assert_uint_eq(h_stat(c, "q").size, 0);
	close(fd);
	h_raw_rx_fini(&rx);
	ipc_close(c);
	free(seen);
	h_stop(&d);
}

/* 36 parked QGETN of 1024 messages each (the issue: +275 MB). */
START_TEST(test_idle_qgetn)
{
	struct idle_run r = { PROTO_OP_QGETN, 36, 1024, 36 * 1024, IDLE_QUEUE };

	idle_client(&r);
}
END_TEST

/* 4000 parked QGET (the issue: +61 MB); a quarter under valgrind. */
START_TEST(test_idle_qget)
{
	unsigned n = 4000 / h_scale();
	struct idle_run r = { PROTO_OP_QGET, n, 0, n + IDLE_BATCH, IDLE_QUEUE };

	idle_client(&r);
}
END_TEST

/* 2000 parked QGETANY on two queues (4000 parked requests: a get_any
 * counts once per queue), the messages put on the second: held back on
 * every queue they wait on (before, only on the first: all were moved). */
START_TEST(test_idle_qgetany)
{
	/* Half under valgrind: still more than move before max-output, so
	 * that parks are left for the messages put later. */
	unsigned n = h_scale() > 1 ? 1000 : 2000;
	struct idle_run r = { PROTO_OP_QGETANY, n, 0, n + IDLE_BATCH, IDLE_ANY };

	idle_client(&r);
}
END_TEST

/* 36 parked PRECVN of 1024 messages each on a pipe: the messages sent
 * stay in the pipe (before, every one the producer got in was moved to
 * the client). */
START_TEST(test_idle_precvn)
{
	struct idle_run r = { PROTO_OP_PRECVN, 36, 1024, 36 * 1024, IDLE_PIPE };

	idle_client(&r);
}
END_TEST

/* Read the next reply on fd (to a request of op): its id, after
 * asserting it carries message text. */
static uint32_t raw_expect_text(int fd, struct h_raw_rx *rx, uint32_t op,
				const char *text)
{
	struct proto_rep rep;

	ck_assert_int_eq(h_raw_reply(fd, rx, op, &rep), 0);
	ck_assert_int_eq(rep.status, 0);
	ck_assert_uint_eq(rep.data_len, strlen(text));
	ck_assert_int_eq(memcmp(rep.data, text, rep.data_len), 0);
	return rep.id;
}

/* Two consumers of q: A parks a get, then leaves 960 KiB of replies unread
 * (its get is held back); B parks a get meanwhile. Once A has read, its
 * get is back at its place, ahead of B's: the next message is A's.
 * Before, a resumed get went behind B's. */
START_TEST(test_resume_keeps_place)
{
	static const char *const args[] = { "--max-output", "64K", NULL };
	struct proto_req get = { .op = PROTO_OP_QGET, .id = 10, .name = "q",
				 .timeout_ms = -1 };
	struct proto_req fill = { .op = PROTO_OP_QGETN, .id = 11, .name = "fill",
				  .timeout_ms = -1, .max = 16 };
	struct proto_req st = { .op = PROTO_OP_STAT, .id = 12, .name = "q" };
	static char big[60 << 10];
	struct ipc_msg m[16];
	struct pollfd pb;
	struct h_raw_rx rx;
	struct proto_rep rep;
	struct h_daemon d;
	ipc_client *c;
	size_t n = 0;
	int a, b, i;

	launch(&d, args, NULL);
	c = h_connect(&d);
	h_create_queue(c, "q", 0);
	h_create_queue(c, "fill", 0);
	h_raw_rx_init(&rx);
	a = raw_open(&d, &rx);
	h_raw_send_req(a, &get);
	h_raw_send_req(a, &fill);
	h_wait_parked(c, "fill", 'g', 1);
	for (i = 0; i < 16; i++)
		m[i] = (struct ipc_msg){ big, sizeof(big) };
	ck_assert_int_eq(ipc_queue_put_many(c, "fill", m, 16, &n, 0), 0);
	/* A's get is held back: a message put now stays queued. */
	h_put_text(c, "q", "probe");
	ck_assert_uint_eq(h_stat(c, "q").size, 1);
	h_get_expect(c, "q", "probe", 0);
	b = raw_open(&d, &rx);
	get.id = 20;
	h_raw_send_req(b, &get);
	h_wait_parked(c, "q", 'g', 2);
	/* A reads its 960 KiB, and is answered a STAT: it is served again. */
	ck_assert_int_eq(h_raw_reply(a, &rx, fill.op, &rep), 0);
	ck_assert_uint_eq(rep.niov, 16);
	h_raw_send_req(a, &st);
	ck_assert_int_eq(h_raw_reply(a, &rx, st.op, &rep), 0);
	ck_assert_int_eq(rep.status, 0);
	h_put_text(c, "q", "x");
	ck_assert_uint_eq(raw_expect_text(a, &rx, PROTO_OP_QGET, "x"), 10);
	pb = (struct pollfd){ .fd = b, .events = POLLIN };
	ck_assert_int_eq(poll(&pb, 1, 100), 0);
	h_put_text(c, "q", "y");
	ck_assert_uint_eq(raw_expect_text(b, &rx, PROTO_OP_QGET, "y"), 20);
	close(a);
	close(b);
	h_raw_rx_fini(&rx);
	ipc_close(c);
	h_stop(&d);
}
END_TEST

/* ---- a reply that cannot be encoded gives its messages back ------------- */

/* Assert q holds exactly the one-letter messages of want, in order. */
static void expect_queue(ipc_client *c, const char *q, const char *want)
{
	struct ipc_msg m[8];
	size_t n = 0, i;

	if (*want == '\0') {
		ck_assert_int_eq(ipc_queue_peek(c, q, m, 8, &n), IPC_EEMPTY);
		return;
	}
	ck_assert_int_eq(ipc_queue_peek(c, q, m, 8, &n), 0);
	ck_assert_uint_eq(n, strlen(want));
	for (i = 0; i < n; i++) {
		ck_assert_uint_eq(m[i].len, 1);
		ck_assert_int_eq(*(const char *)m[i].data, want[i]);
	}
	ck_assert_uint_eq(h_stat(c, q).size, n);
}

/* Put each letter of s on q as a message of its own, in one batch. */
static void put_letters(ipc_client *c, const char *q, const char *s)
{
	struct ipc_msg m[8];
	size_t i, n = strlen(s), taken = 0;

	for (i = 0; i < n; i++)
		m[i] = (struct ipc_msg){ s + i, 1 };
	ck_assert_int_eq(ipc_queue_put_many(c, q, m, n, &taken, 0), 0);
	ck_assert_uint_eq(taken, n);
}

/* A raw client parks req on its queue, then letters are put there; the
 * reply fails to encode (the hook), the client is closed, and the
 * letters are back in q in order. */
static void park_then_fail(const struct h_daemon *d, ipc_client *c,
			   struct proto_req *req, const char *letters)
{
	struct h_raw_rx rx;
	struct proto_rep rep;
	int fd;

	h_raw_rx_init(&rx);
	fd = raw_open(d, &rx);
	h_raw_send_req(fd, req);
	h_wait_parked(c, req->name, 'g', 1);
	put_letters(c, req->name, letters);
	ck_assert_int_eq(h_raw_reply(fd, &rx, req->op, &rep), -1); /* closed */
	close(fd);
	h_raw_rx_fini(&rx);
	expect_queue(c, req->name, letters);
	ck_assert_uint_eq(h_stat(c, req->name).getters, 0);
}

/* With every reply that carries messages failing to encode
 * (IPCD_TEST_FAIL_REPLY=1), QGET, QGETN and parked QGET and QGETN
 * (woken by a put and by a batch put) close their connection and every
 * message they took is back at the head of its queue, in order: before,
 * they were freed (lost). */
START_TEST(test_encode_fail_gives_back)
{
	static const char *const env[] = { "IPCD_TEST_FAIL_REPLY=1", NULL };
	struct proto_req get = { .op = PROTO_OP_QGET, .id = 5, .name = "w1",
				 .timeout_ms = -1 };
	struct proto_req getn = { .op = PROTO_OP_QGETN, .id = 6, .name = "w2",
				  .timeout_ms = -1, .max = 3 };
	struct ipc_msg m[4];
	struct h_daemon d;
	ipc_client *c, *g;
	size_t n;

	launch(&d, NULL, env);
	c = h_connect(&d);
	h_create_queue(c, "q", 0);
	h_create_queue(c, "w1", 0);
	h_create_queue(c, "w2", 0);
	put_letters(c, "q", "ABC");
	g = h_connect(&d);
	ck_assert_int_lt(ipc_queue_get_many(g, "q", m, 2, &n, 0), 0);
	ipc_close(g);
	expect_queue(c, "q", "ABC");
	g = h_connect(&d);
	ck_assert_int_lt(ipc_queue_get(g, "q", &(void *){ NULL }, &n, 0), 0);
	ipc_close(g);
	expect_queue(c, "q", "ABC");
	ck_assert_uint_eq(h_stat(c, "q").requeued, 3); /* 2 + 1 given back */
	park_then_fail(&d, c, &get, "X");
	park_then_fail(&d, c, &getn, "XYZ");
	ipc_close(c);
	h_stop(&d);
}
END_TEST

/* ---- the numbers of ipcd(8)'s bound -------------------------------------- */

/* The per-message and per-connection numbers of ipcd(8)'s bound, as the
 * page states them (read from the source tree). */
struct man_bound {
	long conn_kb;      /* max-connections x (this KiB + max-output + R) */
	long park_b;       /* P x this B */
	long inflight_b;   /* max-bytes: plus this many bytes per message in flight */
};

/* The number of ipcd(8) that ends right before tail (its first
 * occurrence), or -1. */
static long man_number(const char *text, const char *tail)
{
	const char *t = strstr(text, tail), *p = t;

	if (t == NULL)
		return -1;
	while (p > text && p[-1] >= '0' && p[-1] <= '9')
		p--;
	return p == t ? -1 : strtol(p, NULL, 10);
}

/* Read the bound's numbers from ipcd(8). */
static struct man_bound man_bound(void)
{
	struct man_bound mb;
	char path[PATH_MAX], *text;
	FILE *f;
	long n;

	snprintf(path, sizeof path, "%s/man/ipcd.8", h_bin("IPCD_SRCDIR"));
	f = fopen(path, "r");
	ck_assert_msg(f != NULL, "%s: %s", path, strerror(errno));
	text = calloc(1, 1 << 20);
	ck_assert_ptr_nonnull(text);
	n = (long)fread(text, 1, (1 << 20) - 1, f);
	fclose(f);
	ck_assert_int_gt(n, 0);
	mb.conn_kb = man_number(text, " KiB + max\\-output + R)");
	mb.park_b = man_number(text, " B\n     + max\\-queues");
	mb.inflight_b = man_number(text, " bytes per message in flight");
	free(text);
	ck_assert_msg(mb.conn_kb > 0 && mb.park_b > 0 && mb.inflight_b > 0,
		      "ipcd(8): the bound's numbers not found (%ld %ld %ld)",
		      mb.conn_kb, mb.park_b, mb.inflight_b);
	return mb;
}

/* ipcd(8)'s numbers are the daemon's: a message in flight (by QGETA or
 * held by QGETH) costs max-bytes what the page says (LEASE_COST: the
 * lease record, 184 bytes as malloc rounds it to 192, and 4 slots of 16
 * bytes in the tag index); a parked acking get 176 (park) + 16 (timer)
 * + that record + 64 (its reply); a connection 72 KiB (record, output
 * buffer kept) plus, with a hold page (QHOLDS), its 4 KiB mapping and
 * 16 bytes of slot list per word. Before, the page said 208, 400 and 72
 * KiB (the lease was 136 bytes when it was written; no hold pages). */
START_TEST(test_bound_numbers)
{
	struct man_bound mb = man_bound();
	struct h_daemon d;
	ipc_client *c;
	unsigned long long h0, h1, h2;
	uint64_t tag;
	void *data;
	size_t len;
	long record;

	h_start(&d);
	c = h_connect(&d);
	h_create_queue(c, "f", 0);
	h_create_queue(c, "h", 0);
	h_put_text(c, "f", "m");
	h_put_text(c, "h", "m");
	h_put_text(c, "h", "n");
	h0 = h_dinfo(c).held_bytes;
	ck_assert_int_eq(ipc_queue_get_ack(c, "f", &data, &len, &tag, 0, 0), 0);
	ipc_free(data);
	h1 = h_dinfo(c).held_bytes;
	ck_assert_int_eq(ipc_queue_set_readahead_held(c, "h", 2, 0), 0);
	h_get_expect(c, "h", "m", 0);              /* "n" held, "m" in the page */
	h2 = h_dinfo(c).held_bytes;
	ck_assert_msg((long)(h1 - h0) == mb.inflight_b,
		      "a message in flight costs %llu bytes, ipcd(8) says %ld",
		      h1 - h0, mb.inflight_b);
	ck_assert_msg((long)(h2 - h1) == 2 * mb.inflight_b,
		      "two held cost %llu bytes, ipcd(8) says 2 x %ld",
		      h2 - h1, mb.inflight_b);
	record = mb.inflight_b - 4 * 16;
	ck_assert_int_eq(mb.park_b, 176 + 16 + record + 64);
	ck_assert_int_eq(mb.conn_kb * 1024, (72 << 10) + PROTO_HOLD_PAGE +
			 PROTO_HOLD_SLOTS * 2 * sizeof(void *));
	ipc_close(c);
	h_stop(&d);
}
END_TEST

/* ---- the memory bound of ipcd(8) ---------------------------------------- */

/* The limits of the memory_bound test; the bound ipcd(8) states for them
 * is 6 MiB + max-bytes x 17/16 + max-partial-bytes + max-connections x (C KiB +
 * max-output + min(8 MiB, max-bytes + 512 KiB) + 4096 x P B) + max-queues
 * x 1 KiB, with C and P as the page says (man_bound). */
enum {
	MB_CONNS = 8, MB_OUTPUT = 64 << 10, MB_BYTES = 4 << 20,
	MB_PARTIAL = 1 << 20, MB_QUEUES = 64,
};

/* ipcd(8)'s bound for the limits above, in kB. */
static long bound_kb(void)
{
	struct man_bound mb = man_bound();
	long reply = MB_BYTES + (512 << 10) < (8 << 20) ? MB_BYTES + (512 << 10)
							 : (8 << 20);
	long per_conn = (mb.conn_kb << 10) + MB_OUTPUT + reply + 4096L * mb.park_b;

	return ((6L << 20) + MB_BYTES / 16 * 17 + MB_PARTIAL + MB_CONNS * per_conn +
		MB_QUEUES * 1024L) / 1024;
}

/* A raw client parks n requests req (ids from 1000) and reads nothing. */
static int raw_park_many(const struct h_daemon *d, struct h_raw_rx *rx,
			 struct proto_req *req, unsigned n)
{
	int fd = raw_open(d, rx);
	unsigned i;

	for (i = 0; i < n; i++) {
		req->id = 1000 + i;
		h_raw_send_req(fd, req);
	}
	return fd;
}

/* Put messages of len bytes on q, nowait, until refused or max: how many. */
static unsigned put_sized(ipc_client *c, const char *q, size_t len, unsigned max)
{
	char *p = calloc(1, len ? len : 1);
	unsigned n = 0;

	ck_assert_ptr_nonnull(p);
	while (n < max && ipc_queue_put(c, q, p, len, 0) == 0)
		n++;
	free(p);
	return n;
}

/* Every term of the bound driven at once with small limits: names of
 * the most queues, a hold page, 3 clients with 4096 acking gets parked
 * each (one woken by a put, reading nothing), 3 clients peeking 1 MiB
 * and reading nothing, an unfinished 8 MiB request, and empty messages
 * filling max-bytes. The RSS stays under ipcd(8)'s bound; before messages counted
 * their footprint the empty ones alone took it past. */
START_TEST(test_memory_bound)
{
	static const char *const args[] = { "--max-connections", "8",
		"--max-output", "64K", "--max-bytes", "4M",
		"--max-partial-bytes", "1M", "--max-queues", "64",
		"--memfd-threshold", "64K", NULL };  /* "big" by memfd */
	struct proto_req geta = { .op = PROTO_OP_QGETA, .name = "p", .timeout_ms = -1 };
	struct proto_req peek = { .op = PROTO_OP_QPEEK, .name = "big", .max = 4 };
	unsigned char hdr[4] = { 0x00, 0x7f, 0xff, 0xf0 }; /* ~8 MiB announced */
	static char junk[(1 << 20) - 4096];
	struct h_raw_rx rx;
	struct h_daemon d;
	char name[IPC_NAME_MAX + 1];
	ipc_client *c;
	int fds[7], i, rc;
	unsigned taken, empties, parks = 4096 / h_scale();
	long rss;

	launch(&d, args, NULL);
	c = h_connect(&d);
	h_raw_rx_init(&rx);
	h_create_queue(c, "p", 0);
	h_create_queue(c, "big", 0);
	h_create_queue(c, "e", 0);
	for (i = 0; i < MB_QUEUES - 3; i++) {
		memset(name, 'a' + i % 26, IPC_NAME_MAX);
		snprintf(name, 8, "%07d", i);
		name[7] = 'x';
		name[IPC_NAME_MAX] = '\0';
		h_create_queue(c, name, 0);
	}
	/* c shares a hold page (never filled: c gets nothing from "big"). */
	ck_assert_int_eq(ipc_queue_set_readahead_held(c, "big", 2, 0), 0);
	for (i = 0; i < 3; i++)
		fds[i] = raw_park_many(&d, &rx, &geta, parks);
	h_wait_parked(c, "p", 'g', 3 * parks);
	taken = put_sized(c, "p", 4096, 300);
	ck_assert_uint_eq(put_sized(c, "big", 512 << 10, 2), 2);
	for (i = 3; i < 6; i++)
		fds[i] = raw_park_many(&d, &rx, &peek, 50);
	fds[6] = raw_open(&d, &rx);
	ck_assert_int_eq(send(fds[6], hdr, 4, MSG_NOSIGNAL), 4);
	(void)send(fds[6], junk, sizeof junk, MSG_NOSIGNAL | MSG_DONTWAIT);
	empties = (unsigned)put_empty_until_refused(c, "e", 400000, &rc);
	usleep(300000);
	rss = h_rss_kb(d.pid);
	fprintf(stderr, "memory_bound: %u of 300 4 KiB messages put for "
		"acking gets that read nothing, %u empty messages; RSS %ld kB, "
		"bound %ld kB\n", taken, empties, rss, bound_kb());
	ck_assert_msg(rc == IPC_ELIMIT, "%u empty messages taken (rc %d)", empties, rc);
	if (rss >= 0)
		ck_assert_msg(rss <= bound_kb(), "RSS %ld kB over the bound %ld kB",
			      rss, bound_kb());
	/* Still serving. */
	ck_assert_int_eq(h_stat(c, "e").size, empties);
	for (i = 0; i < 7; i++)
		close(fds[i]);
	h_raw_rx_fini(&rx);
	ipc_close(c);
	h_stop(&d);
}
END_TEST

/* The suite. */
static Suite *memory_suite(void)
{
	Suite *s = suite_create("memory");

	h_add_case(s, "empty_messages", test_empty_messages, 60);
	h_add_case(s, "idle_qgetn", test_idle_qgetn, 60);
	h_add_case(s, "idle_qget", test_idle_qget, 60);
	h_add_case(s, "idle_qgetany", test_idle_qgetany, 60);
	h_add_case(s, "idle_precvn", test_idle_precvn, 60);
	h_add_case(s, "resume_keeps_place", test_resume_keeps_place, 60);
	h_add_case(s, "encode_fail_gives_back", test_encode_fail_gives_back, 30);
	h_add_case(s, "bound_numbers", test_bound_numbers, 30);
	h_add_case(s, "memory_bound", test_memory_bound, 120);
	return s;
}

/* Run the suite, one forked process per test. */
int main(void)
{
	return h_run_suite(memory_suite());
}
