/* SPDX-License-Identifier: MIT */
/*
 * check_qgeth.c: held read-ahead (QGETH, QDONE; ipc_queue_set_readahead_held)
 * against the real ipcd: messages read ahead keep counting toward maxsize
 * until a get hands them out, so Full is exact at the boundary; a second
 * consumer gets them once the hold runs out; a consumer that gives them
 * back, closes or is SIGKILLed returns them to the head in order; plain
 * consumers (ipc_queue_get) mix with a held one. Each test starts its own
 * daemon (harness.h).
 */
#include <check.h>
#include <grp.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <sys/stat.h>

#include "harness.h"
#include "hraw.h"
#include <ipcclient/ipcclient.h>
#include "proto.h"

/* How long a child may take to finish its part (ms). */
#define T_CHILD_MS (h_wrapped() ? 240000 : 30000)

/* Put "0".."n-1" on q. */
static void put_numbers(ipc_client *c, const char *q, int from, int n)
{
	char b[16];
	int i;

	for (i = from; i < from + n; i++) {
		snprintf(b, sizeof b, "%d", i);
		h_put_text(c, q, b);
	}
}

/* Get from q and assert the number i came. */
static void get_number(ipc_client *c, const char *q, int i, int timeout)
{
	char b[16];

	snprintf(b, sizeof b, "%d", i);
	h_get_expect(c, q, b, timeout);
}

/* Assert q's ready messages and those in flight. */
static void counts_are(ipc_client *c, const char *q, unsigned long long size,
		       unsigned long long inflight)
{
	struct ipc_info st = h_stat(c, q);

	ck_assert_msg(st.size == size && st.inflight == inflight,
		      "%s: size %llu inflight %llu, want %llu %llu", q,
		      (unsigned long long)st.size, (unsigned long long)st.inflight,
		      size, inflight);
}

/* A new connection with held read-ahead of n on q (hold_ms its limit). */
static ipc_client *held(const struct h_daemon *d, const char *q, unsigned n, int hold_ms)
{
	ipc_client *c = h_connect(d);

	ck_assert_int_eq(ipc_queue_set_readahead_held(c, q, n, hold_ms), 0);
	return c;
}

/* What a child does (test_parked_and_empty, test_killed_consumer,
 * test_page_put_waits_for_hand_out). */
static struct {
	const char *sock;
	int fd;
} job;

/* Full is exact with maxsize N while a consumer holds read-ahead: each
 * get frees one slot as it returns, not before; Empty once all are out. */
static void full_exact(struct h_daemon *d)
{
	ipc_client *p, *c;
	int round, i;

	p = h_connect(d);
	h_create_queue(p, "b", 4);
	c = held(d, "b", 64, 0);
	put_numbers(p, "b", 0, 4);
	ck_assert_int_eq(ipc_queue_put(p, "b", "x", 1, 0), IPC_EFULL);
	for (round = 0; round < 200; round++) {
		get_number(c, "b", round, 0);
		if (round == 0) {
			counts_are(p, "b", 0, 3);  /* read ahead: held, still counted */
			ck_assert_uint_eq(ipc_queue_buffered(c, "b"), 3);
		}
		/* The get returned: exactly one slot is free, at once. */
		put_numbers(p, "b", round + 4, 1);
		ck_assert_int_eq(ipc_queue_put(p, "b", "x", 1, 0), IPC_EFULL);
	}
	for (i = 200; i < 204; i++)
		get_number(c, "b", i, 0);
	void *m;
	size_t len;
	ck_assert_int_eq(ipc_queue_get(c, "b", &m, &len, 0), IPC_EEMPTY);
	counts_are(p, "b", 0, 0);
	ipc_close(c);
	ipc_close(p);
}

/* With the hold page (a daemon that takes memfds): gets count their
 * hand-outs there, and a put that finds the queue full reads it. */
START_TEST(test_full_exact)
{
	struct h_daemon d;

	h_start(&d);
	full_exact(&d);
	h_stop(&d);
}
END_TEST

/* Without it (memfds off): each get writes a QDONE. */
START_TEST(test_full_exact_no_page)
{
	static const char *args[] = { "--memfd-threshold", "0", NULL };
	struct h_opts o = { .args = args, .listen_fd = -1 };
	struct h_daemon d;

	h_prepare(&d);
	h_launch_opts(&d, &o);
	full_exact(&d);
	h_stop(&d);
}
END_TEST

/* Child: a put of "5" on "w" that waits for room. */
static int child_put_waiting(void *arg)
{
	ipc_client *c;

	(void)arg;
	if (h_ipc_connect(job.sock, &c))
		return 99;
	return ipc_queue_put(c, "w", "5", 1, T_CHILD_MS);
}

/* The hold page at the boundary: a get's hand-out is counted there only,
 * yet a put_nowait after it finds its slot; a put that waits for room
 * (no hold limit, so nothing is ever taken back) is admitted by the next
 * hand-out, which the daemon asked to hear of (WANT: a QDONE). */
START_TEST(test_page_put_waits_for_hand_out)
{
	struct h_daemon d;
	ipc_client *p, *c;
	pid_t pid;
	int i;

	h_start(&d);
	p = h_connect(&d);
	h_create_queue(p, "w", 4);
	c = held(&d, "w", 64, 0);
	put_numbers(p, "w", 0, 4);
	get_number(c, "w", 0, 0);                  /* holds 1..3, page: 1 out */
	put_numbers(p, "w", 4, 1);                 /* the slot of "0" */
	ck_assert_int_eq(ipc_queue_put(p, "w", "x", 1, 0), IPC_EFULL);
	counts_are(p, "w", 1, 3);
	job.sock = d.sock;
	pid = h_spawn(child_put_waiting, NULL);
	h_wait_parked(p, "w", 'p', 1);
	get_number(c, "w", 1, 0);                  /* frees a slot: "5" goes in */
	ck_assert_int_eq(h_wait_child(pid, T_CHILD_MS), 0);
	for (i = 2; i < 6; i++)
		get_number(c, "w", i, 0);
	counts_are(p, "w", 0, 0);
	ipc_close(c);
	ipc_close(p);
	h_stop(&d);
}
END_TEST

/* Child: once a getter waits on "e", put "7". */
static int child_put_when_parked(void *arg)
{
	ipc_client *c;

	(void)arg;
	if (h_ipc_connect(job.sock, &c))
		return 99;
	h_wait_parked(c, "e", 'g', 1);
	return ipc_queue_put(c, "e", "7", 1, 0);
}

/* An empty queue: the get waits for one message, handed over as by a
 * plain get (nothing stays held), and times out with Empty. */
START_TEST(test_parked_and_empty)
{
	struct h_daemon d;
	ipc_client *p, *c;
	void *m;
	size_t len;
	int64_t t0;
	pid_t pid;

	h_start(&d);
	p = h_connect(&d);
	h_create_queue(p, "e", 2);
	c = held(&d, "e", 8, 0);
	t0 = h_now_ms();
	ck_assert_int_eq(ipc_queue_get(c, "e", &m, &len, 100), IPC_EEMPTY);
	ck_assert_int_ge(h_now_ms() - t0, 100);
	job.sock = d.sock;
	pid = h_spawn(child_put_when_parked, NULL);
	ck_assert_int_eq(ipc_queue_get(c, "e", &m, &len, T_CHILD_MS), 0);
	ck_assert_int_eq(h_wait_child(pid, T_CHILD_MS), 0);
	ck_assert_mem_eq(m, "7", 1);
	ipc_free(m);
	ck_assert_uint_eq(ipc_queue_buffered(c, "e"), 0);
	counts_are(p, "e", 0, 0);
	ipc_close(c);
	ipc_close(p);
	h_stop(&d);
}
END_TEST

/* A second consumer is not starved: with a hold limit, messages another
 * consumer read ahead and sits on go back to the head, in order, and to
 * a waiting getter; the first consumer then finds its hold gone and
 * fetches anew. Without a limit they wait for that consumer. */
START_TEST(test_second_consumer)
{
	struct h_daemon d;
	ipc_client *p, *a, *b, *a0;
	struct ipc_info st;
	void *m;
	size_t len;
	int i;

	h_start(&d);
	p = h_connect(&d);
	h_create_queue(p, "s", 100);
	a = held(&d, "s", 64, 50);
	b = h_connect(&d);
	put_numbers(p, "s", 0, 10);
	get_number(a, "s", 0, 0);               /* a holds 1..9 */
	ck_assert_int_eq(ipc_queue_get(b, "s", &m, &len, 0), IPC_EEMPTY);
	get_number(b, "s", 1, 5000);            /* back within the hold limit */
	for (i = 2; i < 6; i++)
		get_number(b, "s", i, 0);
	st = h_stat(p, "s");
	ck_assert_uint_eq(st.requeued, 9);
	get_number(a, "s", 6, 0);               /* a's batch went back: it fetches */
	ck_assert_int_eq(ipc_queue_get(b, "s", &m, &len, 0), IPC_EEMPTY);
	ipc_close(a);                           /* a held 7..9: they go back */
	/* ipc_close does not wait: b's get may be served before a's close. */
	get_number(b, "s", 7, 5000);
	get_number(b, "s", 8, 0);
	get_number(b, "s", 9, 0);
	/* No limit: the held ones wait for their consumer. */
	a0 = held(&d, "s", 64, 0);
	put_numbers(p, "s", 10, 3);
	get_number(a0, "s", 10, 0);
	ck_assert_int_eq(ipc_queue_get(b, "s", &m, &len, 150), IPC_EEMPTY);
	ck_assert_int_eq(ipc_queue_unread(a0, "s"), 0);
	get_number(b, "s", 11, 0);
	get_number(a0, "s", 12, 0);
	counts_are(p, "s", 0, 0);
	ipc_close(a0);
	ipc_close(b);
	ipc_close(p);
	h_stop(&d);
}
END_TEST

/* While nobody else waits, a hold past its limit is kept: the late get
 * asks (QACK), which holds the rest for another limit; nothing went back. */
START_TEST(test_late_kept_when_nobody_waits)
{
	struct h_daemon d;
	ipc_client *p, *a;
	int i;

	h_start(&d);
	p = h_connect(&d);
	h_create_queue(p, "l", 10);
	a = held(&d, "l", 8, 20);
	put_numbers(p, "l", 0, 8);
	get_number(a, "l", 0, 0);
	usleep(100 * 1000);                     /* five limits, nobody waiting */
	for (i = 1; i < 8; i++)
		get_number(a, "l", i, 0);
	ck_assert_uint_eq(h_stat(p, "l").requeued, 0);
	counts_are(p, "l", 0, 0);
	ipc_close(a);
	ipc_close(p);
	h_stop(&d);
}
END_TEST

/* Child: get one message with held read-ahead, report it on the pipe,
 * then wait to be killed. */
static int child_get_one(void *arg)
{
	ipc_client *c;
	void *m;
	size_t len;

	(void)arg;
	if (h_ipc_connect(job.sock, &c) || ipc_queue_set_readahead_held(c, "k", 64, 0) ||
	    ipc_queue_get(c, "k", &m, &len, 10000) || write(job.fd, m, len) != (ssize_t)len)
		return 99;
	pause();
	return 98;
}

/* A consumer SIGKILLed with held messages: the one it handed out is gone,
 * the others come back in order, counted as requeued, not as deliveries
 * (a max_deliveries queue does not dead-letter them). */
START_TEST(test_killed_consumer)
{
	struct h_daemon d;
	struct ipc_queue_opts o = IPC_QUEUE_OPTS_INIT;
	ipc_client *p;
	struct ipc_info st;
	char got[8] = "";
	int fds[2], i;
	pid_t pid;

	h_start(&d);
	p = h_connect(&d);
	o.maxsize = 20;
	o.flags = IPC_QUEUE_CREATE;
	o.max_deliveries = 1;
	o.dead_letter = "k.dead";
	ck_assert_int_eq(ipc_queue_open(p, "k", &o, NULL), 0);
	h_create_queue(p, "k.dead", 0);
	put_numbers(p, "k", 0, 20);
	ck_assert_int_eq(pipe(fds), 0);
	job.sock = d.sock;
	job.fd = fds[1];
	pid = h_spawn(child_get_one, NULL);
	ck_assert_int_eq(read(fds[0], got, sizeof got - 1), 1);
	ck_assert_str_eq(got, "0");
	counts_are(p, "k", 0, 19);
	kill(pid, SIGKILL);
	ck_assert_int_eq(h_wait_child(pid, T_CHILD_MS), 128 + SIGKILL);
	for (i = 1; i < 20; i++)
		get_number(p, "k", i, T_CHILD_MS);
	st = h_stat(p, "k");
	ck_assert_uint_eq(st.requeued, 19);
	ck_assert_uint_eq(st.dead_lettered, 0);
	counts_are(p, "k", 0, 0);
	close(fds[0]);
	close(fds[1]);
	ipc_close(p);
	h_stop(&d);
}
END_TEST

/* Plain consumers (ipc_queue_get, ipc_queue_get_many) and a held one on
 * one queue: every message once, in order; a batch get on the held
 * handle gives its read-ahead back first. */
START_TEST(test_mixed_with_plain)
{
	struct h_daemon d;
	ipc_client *p, *h, *c;
	struct ipc_msg msgs[8];
	size_t n;

	h_start(&d);
	p = h_connect(&d);
	h_create_queue(p, "m", 10);
	h = held(&d, "m", 4, 0);
	c = h_connect(&d);
	put_numbers(p, "m", 0, 10);
	get_number(h, "m", 0, 0);            /* holds 1..3 */
	get_number(c, "m", 4, 0);            /* the plain get takes the next ready */
	get_number(h, "m", 1, 0);
	ck_assert_int_eq(ipc_queue_get_many(h, "m", msgs, 8, &n, 0), 0);
	ck_assert_uint_eq(n, 7);             /* 2, 3 came back: 2 3 5 6 7 8 9 */
	ck_assert_mem_eq(msgs[0].data, "2", 1);
	ck_assert_mem_eq(msgs[1].data, "3", 1);
	ck_assert_mem_eq(msgs[2].data, "5", 1);
	ck_assert_mem_eq(msgs[6].data, "9", 1);
	counts_are(p, "m", 0, 0);
	ipc_close(c);
	ipc_close(h);
	ipc_close(p);
	h_stop(&d);
}
END_TEST

/* A message that travels as a memfd is held alone (a batch of one, its
 * descriptor a duplicate): read ahead between small ones, in order. */
START_TEST(test_memfd_message_alone)
{
	struct h_daemon d;
	ipc_client *p, *c;
	size_t big = 2u << 20, len;
	char *buf = malloc(big);
	void *m;

	ck_assert_ptr_nonnull(buf);
	memset(buf, 'b', big);
	h_start(&d);
	p = h_connect(&d);
	h_create_queue(p, "f", 10);
	c = held(&d, "f", 8, 0);
	put_numbers(p, "f", 0, 2);
	ck_assert_int_eq(ipc_queue_put(p, "f", buf, big, 0), 0);
	put_numbers(p, "f", 3, 2);
	get_number(c, "f", 0, 0);
	get_number(c, "f", 1, 0);               /* the batch stopped before it */
	counts_are(p, "f", 3, 0);
	ck_assert_int_eq(ipc_queue_get(c, "f", &m, &len, 0), 0);
	ck_assert_uint_eq(len, big);
	ck_assert_mem_eq(m, buf, big);
	ipc_free(m);
	counts_are(p, "f", 2, 0);
	get_number(c, "f", 3, 0);
	get_number(c, "f", 4, 0);
	counts_are(p, "f", 0, 0);
	free(buf);
	ipc_close(c);
	ipc_close(p);
	h_stop(&d);
}
END_TEST

/* Send request r on raw connection fd. */
static void raw_send(int fd, uint32_t op, uint32_t id, const char *q,
		     uint32_t max, uint64_t tag, int ack)
{
	struct proto_req r = { .op = op, .id = id, .max = max, .tag = tag,
			       .ack = (uint32_t)ack };

	snprintf(r.name, sizeof r.name, "%s", q);
	h_raw_send_req(fd, &r);
}

/* A consumer gone while the daemon cannot read it yet (its replies
 * unread past max-output) must not get back the message it handed out:
 * the QDONE it wrote before it went is served although the write to it
 * fails (EPIPE/ECONNRESET), as EOF would have served it. */
START_TEST(test_done_served_after_failed_write)
{
	static const char *args[] = { "--max-output", "4096", NULL };
	struct h_opts o = { .args = args, .listen_fd = -1 };
	static char big[1000 * 1024];  /* past any default socket buffer */
	struct h_daemon d;
	struct h_raw_rx rx;
	struct proto_rep rep;
	struct pollfd pfd;
	ipc_client *p;
	uint64_t tag;
	int fd;

	h_prepare(&d);
	h_launch_opts(&d, &o);
	p = h_connect(&d);
	h_create_queue(p, "r", 4);
	h_create_queue(p, "big", 0);
	put_numbers(p, "r", 0, 2);
	ck_assert_int_eq(ipc_queue_put(p, "big", big, sizeof big, 0), 0);
	fd = h_raw_connect(d.sock);
	h_raw_rx_init(&rx);
	ck_assert_int_eq(h_raw_hello(fd, &rx, NULL), 0);
	raw_send(fd, PROTO_OP_QGETH, 2, "r", 2, 0, 0);
	ck_assert_int_eq(h_raw_reply(fd, &rx, PROTO_OP_QGETH, &rep), 0);
	ck_assert_int_eq(rep.status, 0);
	tag = rep.tag;                          /* holds "0" (tag), "1" */
	counts_are(p, "r", 0, 2);
	/* A reply past max-output stops the daemon reading this client: the
	 * QDONE of "0" waits unread behind it. */
	raw_send(fd, PROTO_OP_QGET, 3, "big", 0, 0, 0);
	raw_send(fd, PROTO_OP_QDONE, 4, "r", 0, tag, 1);
	pfd.fd = fd;
	pfd.events = POLLIN;
	ck_assert_int_eq(poll(&pfd, 1, 10000), 1);
	usleep(50000);
	counts_are(p, "r", 0, 2);               /* the QDONE is not read yet */
	close(fd);                              /* the consumer is gone */
	get_number(p, "r", 1, 5000);            /* "0" was handed out */
	counts_are(p, "r", 0, 0);
	h_raw_rx_fini(&rx);
	ipc_close(p);
	h_stop(&d);
}
END_TEST

/* A raw connection to d that holds both messages of q (maxsize 2) by
 * QGETH, hold limit hold_ms. */
static int raw_holder(const struct h_daemon *d, struct h_raw_rx *rx, const char *q,
		      int hold_ms)
{
	struct proto_req r = { .op = PROTO_OP_QGETH, .id = 2, .max = 2, .lease_ms = hold_ms };
	struct proto_rep rep;
	int fd = h_raw_connect(d->sock);

	h_raw_rx_init(rx);
	ck_assert_int_eq(h_raw_hello(fd, rx, NULL), 0);
	snprintf(r.name, sizeof r.name, "%s", q);
	h_raw_send_req(fd, &r);
	ck_assert_int_eq(h_raw_reply(fd, rx, PROTO_OP_QGETH, &rep), 0);
	ck_assert_int_eq(rep.status, 0);
	ck_assert_uint_eq(rep.niov, 2);
	return fd;
}

/* A raw connection to d with a get parked on q for good. */
static int raw_parked_get(const struct h_daemon *d, struct h_raw_rx *rx, const char *q)
{
	struct proto_req r = { .op = PROTO_OP_QGET, .id = 3, .timeout_ms = -1 };
	int fd = h_raw_connect(d->sock);

	h_raw_rx_init(rx);
	ck_assert_int_eq(h_raw_hello(fd, rx, NULL), 0);
	snprintf(r.name, sizeof r.name, "%s", q);
	h_raw_send_req(fd, &r);
	return fd;
}

/* A put of "x" on q that does not wait, through p: the putters STAT
 * counts in the same turn (1 while the put waits for QDONEs in flight),
 * then its outcome. */
static int put_nowait_putters(ipc_client *p, const char *q, unsigned long long *putters)
{
	ck_assert_int_eq(ipc_queue_put_async(p, q, "x", 1, 0), 0);
	*putters = h_stat(p, q).putters;   /* sent with the put, served after it */
	return ipc_flush(p);
}

/* The voluntary context switches of process pid so far. */
static long ctxt_switches(pid_t pid)
{
	char path[64], line[128];
	long n = -1;
	FILE *f;

	snprintf(path, sizeof path, "/proc/%d/status", (int)pid);
	f = fopen(path, "r");
	ck_assert_ptr_nonnull(f);
	while (fgets(line, sizeof line, f) != NULL)
		if (sscanf(line, "voluntary_ctxt_switches: %ld", &n) == 1)
			break;
	fclose(f);
	return n;
}

/* A holder ipcd has stopped reading (its replies unread past max-output)
 * serves nothing until it reads them, maybe never: its holds that ran
 * out while a getter waits are not polled every 1 ms meanwhile (the
 * daemon sleeps), and a put that does not wait is Full at once rather
 * than after 100 ms of looking for QDONEs it cannot read. */
START_TEST(test_paused_holder)
{
	static const char *args[] = { "--max-output", "4096", NULL };
	struct h_opts o = { .args = args, .listen_fd = -1 };
	static char big[1000 * 1024];  /* past any default socket buffer */
	struct h_raw_rx rx, rx2;
	struct h_daemon d;
	struct pollfd pfd;
	unsigned long long putters;
	ipc_client *p;
	long before;
	int fd, fd2;

	h_prepare(&d);
	h_launch_opts(&d, &o);
	p = h_connect(&d);
	h_create_queue(p, "r", 2);
	h_create_queue(p, "big", 0);
	put_numbers(p, "r", 0, 2);
	ck_assert_int_eq(ipc_queue_put(p, "big", big, sizeof big, 0), 0);
	fd = raw_holder(&d, &rx, "r", 10);
	raw_send(fd, PROTO_OP_QGET, 4, "big", 0, 0, 0);   /* pauses it */
	pfd.fd = fd;
	pfd.events = POLLIN;
	ck_assert_int_eq(poll(&pfd, 1, 10000), 1);
	fd2 = raw_parked_get(&d, &rx2, "r");
	h_wait_parked(p, "r", 'g', 1);
	usleep(50000);                     /* the holds ran out (10 ms) */
	before = ctxt_switches(d.pid);
	usleep(300000);
	/* Polled, about 300; asleep, none but the STATs' few. */
	ck_assert_int_lt(ctxt_switches(d.pid) - before, 20);
	ck_assert_int_eq(put_nowait_putters(p, "r", &putters), IPC_EFULL);
	ck_assert_uint_eq(putters, 0);
	counts_are(p, "r", 0, 2);          /* still held */
	close(fd);                         /* gone: they go back, "0" to fd2 */
	get_number(p, "r", 1, 5000);
	close(fd2);
	h_raw_rx_fini(&rx);
	h_raw_rx_fini(&rx2);
	ipc_close(p);
	h_stop(&d);
}
END_TEST

/* A put that would wait for a holder's QDONEs counts as a parked request:
 * past max-parked it is Full at once, not parked beyond the limit. */
START_TEST(test_put_nowait_limited)
{
	static const char *args[] = { "--max-parked", "1", NULL };
	struct h_opts o = { .args = args, .listen_fd = -1 };
	struct h_raw_rx rx, rx2;
	struct h_daemon d;
	unsigned long long putters;
	ipc_client *p;
	int fd, fd2;

	h_prepare(&d);
	h_launch_opts(&d, &o);
	p = h_connect(&d);
	h_create_queue(p, "r", 2);
	h_create_queue(p, "e", 0);
	put_numbers(p, "r", 0, 2);
	fd = raw_holder(&d, &rx, "r", 0);
	/* Half a frame: input the holder wrote, not served (ever). */
	ck_assert_int_eq(write(fd, "\0\0", 2), 2);
	/* Without the park limit the put waits for it (100 ms). */
	ck_assert_int_eq(put_nowait_putters(p, "r", &putters), IPC_EFULL);
	ck_assert_uint_eq(putters, 1);
	fd2 = raw_parked_get(&d, &rx2, "e");   /* the one park allowed */
	h_wait_parked(p, "e", 'g', 1);
	ck_assert_int_eq(put_nowait_putters(p, "r", &putters), IPC_EFULL);
	ck_assert_uint_eq(putters, 0);
	close(fd);
	close(fd2);
	h_raw_rx_fini(&rx);
	h_raw_rx_fini(&rx2);
	ipc_close(p);
	h_stop(&d);
}
END_TEST

/* A QDONE concerns a QGETH hold only: with ack 1 or 0 on the tag of the
 * connection's QGETA delivery it changes nothing (ack 1 acked it), and
 * that delivery is still the consumer's to release or ack. */
START_TEST(test_done_ignores_qgeta)
{
	struct h_daemon d;
	struct h_raw_rx rx;
	struct proto_rep rep;
	ipc_client *p;
	uint64_t tag;
	int fd;

	h_start(&d);
	p = h_connect(&d);
	h_create_queue(p, "a", 0);
	put_numbers(p, "a", 0, 1);
	fd = h_raw_connect(d.sock);
	h_raw_rx_init(&rx);
	ck_assert_int_eq(h_raw_hello(fd, &rx, NULL), 0);
	raw_send(fd, PROTO_OP_QGETA, 2, "a", 0, 0, 0);
	ck_assert_int_eq(h_raw_reply(fd, &rx, PROTO_OP_QGETA, &rep), 0);
	ck_assert_int_eq(rep.status, 0);
	tag = rep.tag;
	raw_send(fd, PROTO_OP_QDONE, 3, "a", 0, tag, 1);
	raw_send(fd, PROTO_OP_QDONE, 4, "a", 0, tag, 0);
	raw_send(fd, PROTO_OP_STAT, 5, "a", 0, 0, 0); /* the QDONEs are served */
	ck_assert_int_eq(h_raw_reply(fd, &rx, PROTO_OP_STAT, &rep), 0);
	ck_assert_int_eq(rep.id, 5);
	counts_are(p, "a", 0, 1);
	raw_send(fd, PROTO_OP_QRELEASE, 6, "a", 0, tag, 0);
	ck_assert_int_eq(h_raw_reply(fd, &rx, PROTO_OP_QRELEASE, &rep), 0);
	ck_assert_int_eq(rep.status, 0);
	get_number(p, "a", 0, 0);
	h_raw_rx_fini(&rx);
	close(fd);
	ipc_close(p);
	h_stop(&d);
}
END_TEST

/* What the unprivileged child of test_other_uid gets: the socket and the
 * tag of a message root holds. */
struct other_arg {
	const char *sock;
	uint64_t tag;
};

/* Child of test_other_uid: as nobody, QGETH on root's 0600 queue is
 * refused; QDONEs for root's holds (ack 1, ack 0), twice, for tags never
 * given and for a queue that is not there change nothing and are not
 * answered, a malformed one is; the connection stays. 0 when all went
 * so, else the step that did not. */
static int other_run(void *arg)
{
	const struct other_arg *a = arg;
	struct h_raw_rx rx;
	struct proto_rep rep;
	int fd;

	if (setgroups(0, NULL) != 0 || setgid(65534) != 0 || setuid(65534) != 0)
		return 98;
	fd = h_raw_connect(a->sock);
	h_raw_rx_init(&rx);
	if (h_raw_hello(fd, &rx, NULL) != 0)
		return 99;
	raw_send(fd, PROTO_OP_QGETH, 2, "priv", 8, 0, 0);
	if (h_raw_reply(fd, &rx, PROTO_OP_QGETH, &rep) != 0 || rep.id != 2 ||
	    rep.status != IPC_EPERM)
		return 1;
	raw_send(fd, PROTO_OP_QDONE, 3, "priv", 0, a->tag, 1);
	raw_send(fd, PROTO_OP_QDONE, 4, "priv", 0, a->tag, 1);
	raw_send(fd, PROTO_OP_QDONE, 5, "priv", 0, a->tag, 0);
	raw_send(fd, PROTO_OP_QDONE, 6, "priv", 0, 0, 0);
	raw_send(fd, PROTO_OP_QDONE, 7, "priv", 0, UINT64_MAX, 1);
	raw_send(fd, PROTO_OP_QDONE, 8, "none", 0, a->tag, 1);
	raw_send(fd, PROTO_OP_QDONE, 9, ".bad", 0, a->tag, 1);
	if (h_raw_reply(fd, &rx, PROTO_OP_QDONE, &rep) != 0 || rep.id != 9 ||
	    rep.status != IPC_ENAME)
		return 2;
	raw_send(fd, PROTO_OP_STAT, 10, "none", 0, 0, 0);
	if (h_raw_reply(fd, &rx, PROTO_OP_STAT, &rep) != 0 || rep.id != 10 ||
	    rep.status != IPC_ENOENT)
		return 3;
	h_raw_rx_fini(&rx);
	close(fd);
	return 0;
}

/* Another uid can neither read a queue ahead nor touch what root holds
 * (the refusal paths of QGETH and QDONE; needs root, else skipped). */
START_TEST(test_other_uid)
{
	static const char *args[] = { "--socket-mode", "0666", NULL };
	struct h_opts o = { .args = args, .listen_fd = -1 };
	struct other_arg a;
	struct h_daemon d;
	ipc_client *p, *h;

	if (geteuid() != 0)
		return;
	h_prepare(&d);
	ck_assert_int_eq(chmod(d.dir, 0755), 0);
	h_launch_opts(&d, &o);
	p = h_connect(&d);
	ck_assert_int_eq(ipc_queue_open(p, "priv", H_QOPTS_MODE(4, IPC_QUEUE_CREATE, 0600),
					NULL), 0);
	put_numbers(p, "priv", 0, 3);
	h = held(&d, "priv", 8, 0);
	get_number(h, "priv", 0, 0);            /* holds "1", "2" */
	counts_are(h, "priv", 0, 2);   /* after its QDONE */
	a.sock = d.sock;
	a.tag = 0;
	/* Every tag root's held batch may have (tags are small and serial). */
	for (a.tag = 1; a.tag <= 8; a.tag++) {
		int st = h_wait_child(h_spawn(other_run, &a), T_CHILD_MS);

		ck_assert_msg(st == 0, "tag %llu: step %d", (unsigned long long)a.tag, st);
		counts_are(h, "priv", 0, 2);
	}
	get_number(h, "priv", 1, 0);
	get_number(h, "priv", 2, 0);
	counts_are(h, "priv", 0, 0);
	ipc_close(h);
	ipc_close(p);
	h_stop(&d);
}
END_TEST

/* Queues and their size in test_page_settle_linear: one handle holds
 * S_QUEUES x S_BATCH messages read ahead before the batch it settles. */
#define S_QUEUES 200
#define S_BATCH 1024

/* Put S_BATCH small messages on q. */
static void put_batch(ipc_client *p, const char *q)
{
	static struct ipc_msg m[S_BATCH];
	size_t i;

	for (i = 0; i < S_BATCH; i++)
		m[i] = (struct ipc_msg){ "m", 1 };
	ck_assert_int_eq(ipc_queue_put_many(p, q, m, S_BATCH, NULL, 0), 0);
}

/* Settling a slot's batch costs the batch, not the handle's other holds:
 * a handle holding 200 x 1024 messages read ahead on other queues hands
 * out a whole batch of 1024 on "t" in its page; the STAT that acks them
 * took 1024 walks of the handle's 200k holds before (lease_slot_pick,
 * one per ack: 3.7 s here), now a walk of the slot's (0.2-0.3 ms). */
START_TEST(test_page_settle_linear)
{
	struct h_daemon d;
	ipc_client *p, *c;
	char q[16];
	int64_t t0, us;
	void *m;
	size_t len;
	int i;

	h_start(&d);
	p = h_connect(&d);
	c = h_connect(&d);
	for (i = 0; i < S_QUEUES; i++) {
		snprintf(q, sizeof q, "f%d", i);
		h_create_queue(p, q, S_BATCH);
		put_batch(p, q);
		ck_assert_int_eq(ipc_queue_set_readahead_held(c, q, S_BATCH, 0), 0);
		ck_assert_int_eq(ipc_queue_get(c, q, &m, &len, 0), 0);
		ipc_free(m);
	}
	h_create_queue(p, "t", S_BATCH);
	put_batch(p, "t");
	ck_assert_int_eq(ipc_queue_set_readahead_held(c, "t", S_BATCH, 0), 0);
	for (i = 0; i < S_BATCH; i++) {
		ck_assert_int_eq(ipc_queue_get(c, "t", &m, &len, 0), 0);
		ipc_free(m);
	}
	t0 = h_now_us();
	counts_are(p, "t", 0, 0);                 /* all 1024 acked */
	us = h_now_us() - t0;
	ck_assert_msg(h_wrapped() || us < 200000, "STAT took %lld us",
		      (long long)us);
	counts_are(p, "f0", 0, S_BATCH - 1);      /* the others still held */
	put_batch(p, "t");                        /* and "t" has its room */
	ipc_close(c);
	ipc_close(p);
	h_stop(&d);
}
END_TEST

/* More queues than the hold page has slots (PROTO_HOLD_SLOTS - 1) in
 * test_page_slots_reused. */
#define R_QUEUES 600

/* One handle reads 600 queues in turn with held read-ahead, more than
 * the page has slots (511): a queue's batch is counted in the page, so a
 * get from it writes nothing (the daemon served only the INFO after it),
 * whether read-ahead is then turned off, left on, or the queue deleted
 * after. A slot freed by one queue's batch holds the next one's without
 * mixing the two: the queue before is settled whole, the new batch
 * counted from 0 (1 out, 2 held). Before the client freed slots, the
 * 512th queue on wrote a QDONE per get (2 requests served). */
START_TEST(test_page_slots_reused)
{
	struct h_daemon d;
	ipc_client *p, *c;
	unsigned long long r0, r1;
	char q[16], prev[16] = "";
	void *m;
	size_t len;
	int i;

	h_start(&d);
	p = h_connect(&d);
	c = h_connect(&d);
	for (i = 0; i < R_QUEUES; i++) {
		snprintf(q, sizeof q, "r%d", i);
		h_create_queue(p, q, 3);
		put_numbers(p, q, 0, 3);
		ck_assert_int_eq(ipc_queue_set_readahead_held(c, q, 3, 0), 0);
		get_number(c, q, 0, 0);                 /* holds 1, 2 */
		if (prev[0] != '\0')
			counts_are(p, prev, 0, 0);      /* all 3 handed out */
		counts_are(p, q, 0, 2);
		if (i % 3 == 0)                         /* off once drained */
			ck_assert_int_eq(ipc_queue_set_readahead(c, q, 0), 0);
		r0 = h_dinfo(c).requests;
		get_number(c, q, 1, 0);
		r1 = h_dinfo(c).requests;
		ck_assert_msg(r1 - r0 == 1, "%s: the get wrote %llu requests",
			      q, r1 - r0 - 1);
		get_number(c, q, 2, 0);
		ck_assert_uint_eq(ipc_queue_buffered(c, q), 0);
		if (i % 3 == 2) {                       /* gone, still on here */
			ck_assert_int_eq(ipc_delete(p, q), 0);
			ck_assert_int_eq(ipc_queue_get(c, q, &m, &len, 0), IPC_ENOENT);
			prev[0] = '\0';
		} else {
			strcpy(prev, q);
		}
	}
	ipc_close(c);
	for (i = 0; i < R_QUEUES; i += 3) {
		snprintf(q, sizeof q, "r%d", i);
		counts_are(p, q, 0, 0);
	}
	ipc_close(p);
	h_stop(&d);
}
END_TEST

/* Test suite. */
static Suite *qgeth_suite(void)
{
	Suite *s = suite_create("qgeth");

	h_add_case(s, "full_exact", test_full_exact, 20);
	h_add_case(s, "full_exact_no_page", test_full_exact_no_page, 20);
	h_add_case(s, "page_put_waits_for_hand_out", test_page_put_waits_for_hand_out, 20);
	h_add_case(s, "page_settle_linear", test_page_settle_linear, 60);
	h_add_case(s, "page_slots_reused", test_page_slots_reused, 60);
	h_add_case(s, "parked_and_empty", test_parked_and_empty, 20);
	h_add_case(s, "second_consumer", test_second_consumer, 20);
	h_add_case(s, "late_kept_when_nobody_waits", test_late_kept_when_nobody_waits, 20);
	h_add_case(s, "killed_consumer", test_killed_consumer, 20);
	h_add_case(s, "mixed_with_plain", test_mixed_with_plain, 20);
	h_add_case(s, "memfd_message_alone", test_memfd_message_alone, 20);
	h_add_case(s, "done_served_after_failed_write",
		   test_done_served_after_failed_write, 20);
	h_add_case(s, "done_ignores_qgeta", test_done_ignores_qgeta, 20);
	h_add_case(s, "other_uid", test_other_uid, 60);
	h_add_case(s, "paused_holder", test_paused_holder, 30);
	h_add_case(s, "put_nowait_limited", test_put_nowait_limited, 30);
	return s;
}

int main(void)
{
	return h_run_suite(qgeth_suite());
}
