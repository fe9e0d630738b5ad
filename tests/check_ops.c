/* SPDX-License-Identifier: MIT */
/*
 * check_ops.c: the ops as the table of ops (proto/ops.h) drives them,
 * against the real ipcd: LIST in pages (40,000 pipes, 37,000 queues with
 * 128-byte names, the cursor), a negative status closes the connection
 * (IPC_ENOMEM by fault injection), waiting batch gets served whole in
 * waiting order (queue and pipe), the daemon's version in the
 * IPC_EVERSION reply, the request id echoed when a frame is rejected
 * whole, PATTACH's mode, and logs that name ops. Mostly spoken raw, so
 * the bytes on the wire are what is tested.
 */
#include <check.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <sys/socket.h>
#include <sys/un.h>

#include "harness.h"
#include <ipcclient/ipcclient.h>
#include "proto.h"

/* A raw connection: its socket, a buffer and a decoder. */
struct raw {
	int fd;
	struct pbuf b;          /* bytes received; the current frame first */
	size_t cur;             /* length of the current frame (consumed next) */
	struct proto_dec dec;
};

/* Connect to d without the handshake. */
static void raw_open(struct raw *r, const struct h_daemon *d)
{
	struct sockaddr_un sa = { .sun_family = AF_UNIX };

	r->fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
	ck_assert_int_ge(r->fd, 0);
	snprintf(sa.sun_path, sizeof(sa.sun_path), "%s", d->sock);
	ck_assert_int_eq(connect(r->fd, (struct sockaddr *)&sa, sizeof(sa)), 0);
	pbuf_init(&r->b);
	r->cur = 0;
	ck_assert_int_eq(proto_dec_init(&r->dec), 0);
}

/* Close a raw connection. */
static void raw_close(struct raw *r)
{
	proto_dec_fini(&r->dec);
	pbuf_free(&r->b);
	close(r->fd);
}

/* Send the bytes p[0..n). */
static void raw_send_bytes(struct raw *r, const void *p, size_t n)
{
	ck_assert_int_eq(send(r->fd, p, n, MSG_NOSIGNAL), (ssize_t)n);
}

/* Send one request. */
static void raw_send(struct raw *r, const struct proto_req *q)
{
	struct pbuf b;

	pbuf_init(&b);
	ck_assert_int_eq(proto_enc_req(&b, q), 0);
	raw_send_bytes(r, b.data, b.len);
	pbuf_free(&b);
}

/* Read the next reply frame to the head of r->b (payload at r->b.data +
 * 4; replies pipelined after it stay buffered): 0, or -1 at EOF with
 * nothing buffered. */
static int raw_read(struct raw *r)
{
	long flen;
	ssize_t n;

	pbuf_consume(&r->b, r->cur);
	r->cur = 0;
	while ((flen = proto_frame_peek(r->b.data, r->b.len, PROTO_FRAME_MAX)) == 0) {
		ck_assert_int_eq(pbuf_reserve(&r->b, 65536), 0);
		n = recv(r->fd, r->b.data + r->b.len, r->b.cap - r->b.len, 0);
		/* Closed: EOF, or a reset when the daemon closed with our
		 * last request unread. */
		if ((n == 0 || (n < 0 && errno == ECONNRESET)) && r->b.len == 0)
			return -1;
		ck_assert_msg(n > 0, "daemon closed or failed: %s", strerror(errno));
		r->b.len += (size_t)n;
	}
	ck_assert_int_gt(flen, 0);
	r->cur = (size_t)flen;
	return 0;
}

/* Read and decode the reply to a request of op. */
static void raw_reply(struct raw *r, uint32_t op, struct proto_rep *rep)
{
	ck_assert_int_eq(raw_read(r), 0);
	ck_assert_int_eq(proto_dec_rep(&r->dec, r->b.data + 4, r->cur - 4, op, rep), 0);
}

/* Send q and decode its reply into rep. */
static void raw_call(struct raw *r, const struct proto_req *q, struct proto_rep *rep)
{
	raw_send(r, q);
	raw_reply(r, q->op, rep);
	ck_assert_uint_eq(rep->id, q->id);
}

/* A raw connection to d that has said HELLO. */
static void raw_hello(struct raw *r, const struct h_daemon *d)
{
	struct proto_req q = { .op = PROTO_OP_HELLO, .id = 1,
			       .version = IPC_PROTO_VERSION };
	struct proto_rep rep;

	raw_open(r, d);
	raw_call(r, &q, &rep);
	ck_assert_int_eq(rep.status, 0);
}

/* 1 once the daemon has closed r (EOF), after any replies left. */
static int raw_closed(struct raw *r)
{
	char c;
	ssize_t n = recv(r->fd, &c, 1, 0);

	return n == 0 || (n < 0 && errno == ECONNRESET);
}

/* Send the requests q[0..n) pipelined and assert every reply is 0. */
static void raw_pipeline(struct raw *r, const struct proto_req *q, size_t n)
{
	struct pbuf b;
	struct proto_rep rep;
	size_t i;

	pbuf_init(&b);
	for (i = 0; i < n; i++)
		ck_assert_int_eq(proto_enc_req(&b, &q[i]), 0);
	raw_send_bytes(r, b.data, b.len);
	pbuf_free(&b);
	for (i = 0; i < n; i++) {
		raw_reply(r, q[i].op, &rep);
		ck_assert_msg(rep.status == 0, "%s %s: %d", proto_op_name(q[i].op),
			      q[i].name, rep.status);
	}
}

/* Create n objects named by fmt (one %08u) with requests like proto,
 * pipelined 500 at a time on r. */
static void make_many(struct raw *r, const struct proto_req *proto,
		      const char *fmt, unsigned n)
{
	static struct proto_req q[500];
	unsigned i, k;

	for (i = 0; i < n; i += k) {
		for (k = 0; k < 500 && i + k < n; k++) {
			q[k] = *proto;
			q[k].id = i + k + 10;
			snprintf(q[k].name, sizeof(q[k].name), fmt, i + k);
		}
		raw_pipeline(r, q, k);
	}
}

/* ipc_list and `ipcctl ls` both see the n names fmt makes, in order. */
static void assert_listed(const struct h_daemon *d, const char *fmt, unsigned n)
{
	struct h_buf out = { 0 }, err = { 0 };
	struct ipc_info *infos = NULL;
	char want[IPC_NAME_MAX + 1];
	size_t got = 0, lines = 0, i;
	ipc_client *c = h_connect(d);

	ck_assert_int_eq(ipc_list(c, &infos, &got, sizeof(*infos)), 0);
	ck_assert_uint_eq(got, n);
	for (i = 0; i < got; i++) {
		snprintf(want, sizeof(want), fmt, (unsigned)i);
		ck_assert_str_eq(infos[i].name, want);
	}
	ipc_free(infos);
	ipc_close(c);
	ck_assert_int_eq(h_run_ipcctl(d, NULL, 0, &out, &err, "ls", NULL), 0);
	for (i = 0; i < out.len; i++)
		lines += out.data[i] == '\n';
	ck_assert_uint_eq(lines, (size_t)n + 1); /* the header, then one a name */
	h_buf_free(&out);
	h_buf_free(&err);
}

/* How many objects a LIST test makes: n, or under valgrind three pages
 * and one more (the paging is the same; 40,000 objects under memcheck
 * took over a minute). */
static unsigned list_count(unsigned n)
{
	return h_wrapped() ? 3 * PROTO_LIST_PAGE + 1 : n / h_scale();
}

START_TEST(test_list_many_pipes)
{
	struct proto_req q = { .op = PROTO_OP_PATTACH, .flags = PROTO_PIPE_CREATE };
	unsigned n = list_count(40000);
	struct h_daemon d;
	struct raw r;

	/* 40,000 9-byte names: one LIST reply would take ~9 MiB, over the
	 * frame: the daemon closed the connection without a reply. */
	h_start(&d);
	raw_hello(&r, &d);
	make_many(&r, &q, "p%08u", n);
	assert_listed(&d, "p%08u", n);
	raw_close(&r);
	h_stop(&d);
}
END_TEST

START_TEST(test_list_long_queue_names)
{
	struct proto_req q = { .op = PROTO_OP_QOPEN, .flags = PROTO_OPEN_CREATE };
	unsigned n = list_count(37000);
	char fmt[IPC_NAME_MAX + 8];
	struct h_daemon d;
	struct raw r;

	/* 37,000 queues (under the default max-queues) with 128-byte names. */
	memset(fmt, 'q', IPC_NAME_MAX - 8);
	strcpy(fmt + IPC_NAME_MAX - 8, "%08u");
	h_start(&d);
	raw_hello(&r, &d);
	make_many(&r, &q, fmt, n);
	assert_listed(&d, fmt, n);
	raw_close(&r);
	h_stop(&d);
}
END_TEST

/* LIST after `after` on r: the reply in rep. */
static void list_after(struct raw *r, const char *after, struct proto_rep *rep)
{
	struct proto_req q = { .op = PROTO_OP_LIST, .id = 3 };

	snprintf(q.name, sizeof(q.name), "%s", after);
	raw_call(r, &q, rep);
	ck_assert_int_eq(rep->status, 0);
}

START_TEST(test_list_cursor)
{
	struct proto_req q = { .op = PROTO_OP_QOPEN, .flags = PROTO_OPEN_CREATE };
	struct proto_rep rep;
	struct h_daemon d;
	struct raw r;

	h_start(&d);
	raw_hello(&r, &d);
	/* One more than a page: a full page that says more, then one. */
	make_many(&r, &q, "n%04u", PROTO_LIST_PAGE + 1);
	list_after(&r, "", &rep);
	ck_assert_uint_eq(rep.ninfos, PROTO_LIST_PAGE);
	ck_assert_uint_eq(rep.more, 1);
	ck_assert_str_eq(rep.infos[0].name, "n0000");
	list_after(&r, rep.infos[PROTO_LIST_PAGE - 1].name, &rep);
	ck_assert_uint_eq(rep.ninfos, 1);
	ck_assert_uint_eq(rep.more, 0);
	ck_assert_str_eq(rep.infos[0].name, "n0512");
	/* Strictly after, in byte order; the cursor need not exist. */
	list_after(&r, "n0100", &rep);
	ck_assert_str_eq(rep.infos[0].name, "n0101");
	list_after(&r, "n01005", &rep);
	ck_assert_str_eq(rep.infos[0].name, "n0101");
	ck_assert_uint_eq(rep.ninfos, PROTO_LIST_PAGE + 1 - 101);
	ck_assert_uint_eq(rep.more, 0);
	list_after(&r, "n0512", &rep);
	ck_assert_uint_eq(rep.ninfos, 0);
	ck_assert_uint_eq(rep.more, 0);
	list_after(&r, "A", &rep);
	ck_assert_str_eq(rep.infos[0].name, "n0000");
	/* A deleted name as cursor still works: the walk goes on. */
	q.op = PROTO_OP_QDEL;
	strcpy(q.name, "n0200");
	raw_call(&r, &q, &rep);
	ck_assert_int_eq(rep.status, 0);
	list_after(&r, "n0200", &rep);
	ck_assert_str_eq(rep.infos[0].name, "n0201");
	raw_close(&r);
	h_stop(&d);
}
END_TEST

START_TEST(test_enomem_closes)
{
	static const char *const env[] = { "IPCD_TEST_FAIL_QMSG=2", NULL };
	struct h_opts o = { .env = env, .listen_fd = -1 };
	struct proto_req q = { .op = PROTO_OP_QPUT, .id = 20, .data = (const unsigned char *)"x",
			       .data_len = 1 };
	struct proto_rep rep;
	struct h_daemon d;
	ipc_client *c;
	struct raw r;

	h_prepare(&d);
	h_launch_opts(&d, &o);
	c = h_connect(&d);
	h_create_queue(c, "q", 0);
	raw_hello(&r, &d);
	strcpy(q.name, "q");
	raw_call(&r, &q, &rep);
	ck_assert_int_eq(rep.status, 0);
	/* The second message cannot be allocated: IPC_ENOMEM, and since a
	 * negative status is fatal, the connection closes after that reply
	 * (it used to stay open and answer the STAT below). */
	q.id = 21;
	raw_call(&r, &q, &rep);
	ck_assert_int_eq(rep.status, IPC_ENOMEM);
	q.op = PROTO_OP_STAT;
	q.id = 22;
	{
		struct pbuf b;

		/* The daemon may have closed already: a failed send is fine. */
		pbuf_init(&b);
		ck_assert_int_eq(proto_enc_req(&b, &q), 0);
		(void)send(r.fd, b.data, b.len, MSG_NOSIGNAL);
		pbuf_free(&b);
	}
	ck_assert_int_eq(raw_read(&r), -1);
	raw_close(&r);
	/* Other connections are served as before. */
	ck_assert_int_eq(ipc_stat(c, "q", &(struct ipc_info){ 0 }, sizeof(struct ipc_info)), 0);
	ipc_close(c);
	h_stop(&d);
}
END_TEST

/* Five one-byte payloads "1".."5". */
static const struct proto_iov five[5] = {
	{ (const unsigned char *)"1", 1, 0 }, { (const unsigned char *)"2", 1, 0 },
	{ (const unsigned char *)"3", 1, 0 }, { (const unsigned char *)"4", 1, 0 },
	{ (const unsigned char *)"5", 1, 0 },
};

/* rep carries the messages of want, in order. */
static void assert_batch(const struct proto_rep *rep, const char *want)
{
	size_t i;

	ck_assert_int_eq(rep->status, 0);
	ck_assert_uint_eq(rep->niov, strlen(want));
	for (i = 0; i < rep->niov; i++) {
		ck_assert_uint_eq(rep->iov[i].len, 1);
		ck_assert_int_eq(rep->iov[i].base[0], want[i]);
	}
}

START_TEST(test_batch_gets_served_whole)
{
	struct proto_req get = { .op = PROTO_OP_QGETN, .max = 3, .timeout_ms = -1 };
	struct proto_req put = { .op = PROTO_OP_QPUTN, .id = 9, .iov = five, .niov = 5 };
	struct proto_rep rep;
	struct h_daemon d;
	struct raw a, b, p;
	ipc_client *c;

	h_start(&d);
	c = h_connect(&d);
	h_create_queue(c, "q", 0);
	strcpy(get.name, "q");
	strcpy(put.name, "q");
	raw_hello(&a, &d);
	raw_hello(&b, &d);
	raw_hello(&p, &d);
	/* A waits for up to 3, then B for up to 3; a put of 5 gives A the
	 * first three and B the other two (it gave A [1,3,4], B [2,5]). */
	get.id = 1;
	raw_send(&a, &get);
	h_wait_parked(c, "q", 'g', 1);
	get.id = 2;
	raw_send(&b, &get);
	h_wait_parked(c, "q", 'g', 2);
	raw_call(&p, &put, &rep);
	ck_assert_int_eq(rep.status, 0);
	ck_assert_uint_eq(rep.count, 5);
	raw_reply(&a, PROTO_OP_QGETN, &rep);
	assert_batch(&rep, "123");
	raw_reply(&b, PROTO_OP_QGETN, &rep);
	assert_batch(&rep, "45");
	raw_close(&a);
	raw_close(&b);
	raw_close(&p);
	ipc_close(c);
	h_stop(&d);
}
END_TEST

START_TEST(test_pipe_batch_gets_served_whole)
{
	struct proto_req att = { .op = PROTO_OP_PATTACH, .id = 1, .flags = PROTO_PIPE_CREATE };
	struct proto_req recv = { .op = PROTO_OP_PRECVN, .max = 3, .timeout_ms = -1 };
	struct proto_req send = { .op = PROTO_OP_PSENDN, .id = 9, .end = 1,
				  .iov = five, .niov = 5 };
	struct proto_rep rep;
	struct h_daemon d;
	struct raw rx, tx;
	ipc_client *c;

	h_start(&d);
	c = h_connect(&d);
	raw_hello(&rx, &d);
	raw_hello(&tx, &d);
	strcpy(att.name, "p");
	strcpy(recv.name, "p");
	strcpy(send.name, "p");
	raw_call(&rx, &att, &rep);
	ck_assert_int_eq(rep.status, 0);
	att.end = 1;
	raw_call(&tx, &att, &rep);
	ck_assert_int_eq(rep.status, 0);
	/* Two receives waiting at end 0, in order: served whole, in order. */
	recv.id = 2;
	raw_send(&rx, &recv);
	recv.id = 3;
	raw_send(&rx, &recv);
	h_wait_parked(c, "p", 'g', 2);
	raw_call(&tx, &send, &rep);
	ck_assert_int_eq(rep.status, 0);
	ck_assert_uint_eq(rep.count, 5);
	raw_reply(&rx, PROTO_OP_PRECVN, &rep);
	ck_assert_uint_eq(rep.id, 2);
	assert_batch(&rep, "123");
	raw_reply(&rx, PROTO_OP_PRECVN, &rep);
	ck_assert_uint_eq(rep.id, 3);
	assert_batch(&rep, "45");
	raw_close(&rx);
	raw_close(&tx);
	ipc_close(c);
	h_stop(&d);
}
END_TEST

START_TEST(test_version_reply_field)
{
	struct proto_req q = { .op = PROTO_OP_HELLO, .id = 41, .version = 7 };
	struct proto_rep rep;
	struct h_daemon d;
	struct raw r;

	h_start(&d);
	raw_open(&r, &d);
	/* [id, -3, detail, version]: the daemon's version as a field. */
	raw_call(&r, &q, &rep);
	ck_assert_int_eq(rep.status, IPC_EVERSION);
	ck_assert_uint_eq(rep.version, IPC_PROTO_VERSION);
	ck_assert_ptr_nonnull(strstr(rep.detail, "version"));
	ck_assert(raw_closed(&r));
	raw_close(&r);
	h_stop(&d);
}
END_TEST

START_TEST(test_id_echoed)
{
	/* A frame announcing 9 MiB, its head [3, 55, ...] already there. */
	static const unsigned char huge[] = { 0x00, 0x90, 0x00, 0x00, 0x95, 0x03, 0x37 };
	struct proto_req q = { .op = PROTO_OP_QPUTN, .id = 66 };
	struct proto_iov *iov = calloc(1035, sizeof(*iov));
	struct proto_rep rep;
	struct h_daemon d;
	struct raw r;

	ck_assert_ptr_nonnull(iov);
	h_start(&d);
	/* 1035 bins: past the pre-decode bound, so malformed, yet answered
	 * under its id (it was 0). */
	raw_hello(&r, &d);
	strcpy(q.name, "q");
	q.iov = iov;
	q.niov = 1035;
	raw_call(&r, &q, &rep);
	ck_assert_int_eq(rep.status, IPC_EPROTO);
	ck_assert(raw_closed(&r));
	raw_close(&r);
	raw_hello(&r, &d);
	raw_send_bytes(&r, huge, sizeof(huge));
	raw_reply(&r, PROTO_OP_QPUT, &rep);
	ck_assert_int_eq(rep.status, IPC_EPROTO);
	ck_assert_uint_eq(rep.id, 55);
	raw_close(&r);
	free(iov);
	h_stop(&d);
}
END_TEST

START_TEST(test_pattach_mode)
{
	struct proto_req q = { .op = PROTO_OP_PATTACH, .id = 5, .flags = PROTO_PIPE_CREATE,
			       .has_mode = 1, .mode = 0604 };
	struct ipc_info info;
	struct proto_rep rep;
	struct h_daemon d;
	ipc_client *c;
	struct raw r;

	h_start(&d);
	c = h_connect(&d);
	raw_hello(&r, &d);
	/* A pipe created by attach takes the mode asked for (it took the
	 * default); an existing one keeps its own. */
	strcpy(q.name, "pm");
	raw_call(&r, &q, &rep);
	ck_assert_int_eq(rep.status, 0);
	ck_assert_int_eq(ipc_stat(c, "pm", &info, sizeof(info)), 0);
	ck_assert_uint_eq(info.mode, 0604);
	q.end = 1;
	q.mode = 0600;
	q.id = 6;
	raw_call(&r, &q, &rep);
	ck_assert_int_eq(rep.status, 0);
	ck_assert_int_eq(ipc_stat(c, "pm", &info, sizeof(info)), 0);
	ck_assert_uint_eq(info.mode, 0604);
	raw_close(&r);
	ipc_close(c);
	h_stop(&d);
}
END_TEST

/* 1 when d's log holds s. */
static int log_has(const struct h_daemon *d, const char *s)
{
	char buf[65536];
	FILE *f = fopen(d->log, "r");
	size_t n;

	ck_assert_ptr_nonnull(f);
	n = fread(buf, 1, sizeof(buf) - 1, f);
	fclose(f);
	buf[n] = '\0';
	return strstr(buf, s) != NULL;
}

START_TEST(test_log_names_ops)
{
	struct proto_req q = { .op = PROTO_OP_QPUTN, .id = 31 };
	struct proto_rep rep;
	struct h_daemon d;
	struct raw r;

	h_start(&d);
	raw_hello(&r, &d);
	/* An empty batch is IPC_EINVAL, logged as a warning by op name. */
	strcpy(q.name, "q");
	{
		/* [12, 31, "q", [], 0] by hand: the encoder refuses it. */
		const unsigned char p[] = { 0, 0, 0, 7, 0x95, 0x0c, 0x1f, 0xa1, 'q',
					    0x90, 0x00 };

		raw_send_bytes(&r, p, sizeof(p));
	}
	raw_reply(&r, PROTO_OP_QPUTN, &rep);
	ck_assert_int_eq(rep.status, IPC_EINVAL);
	ck_assert(log_has(&d, "op QPUTN request 31"));
	ck_assert(!log_has(&d, "op 12 "));
	raw_close(&r);
	h_stop(&d);
}
END_TEST

/* The suite. */
static Suite *ops_suite(void)
{
	Suite *s = suite_create("ops");

	h_add_case(s, "list_many_pipes", test_list_many_pipes, 120);
	h_add_case(s, "list_long_queue_names", test_list_long_queue_names, 120);
	h_add_case(s, "list_cursor", test_list_cursor, 30);
	h_add_case(s, "enomem_closes", test_enomem_closes, 30);
	h_add_case(s, "batch_gets_served_whole", test_batch_gets_served_whole, 30);
	h_add_case(s, "pipe_batch_gets_served_whole", test_pipe_batch_gets_served_whole, 30);
	h_add_case(s, "version_reply_field", test_version_reply_field, 30);
	h_add_case(s, "id_echoed", test_id_echoed, 30);
	h_add_case(s, "pattach_mode", test_pattach_mode, 30);
	h_add_case(s, "log_names_ops", test_log_names_ops, 30);
	return s;
}

/* Run the suite, one forked process per test. */
int main(void)
{
	return h_run_suite(ops_suite());
}
