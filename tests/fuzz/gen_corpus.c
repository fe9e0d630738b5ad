/* SPDX-License-Identifier: MIT */
/*
 * gen_corpus.c: writes the seed corpus of the fuzz targets, real frames
 * made by the protocol encoder: tests/fuzz/corpus/proto/ (a request and
 * a reply of every op of proto/ops.h with every field set, req-NAME and
 * rep-NAME, variants, and a stream of them) and tests/fuzz/corpus/daemon/
 * (client sessions: flag byte, split offset, frames; see fuzz.h). Every
 * proto seed is checked to decode. make check builds it and
 * tests/fuzz/seeds.sh checks the committed seeds are what it writes.
 *   usage: tests/fuzz/gen_corpus DIR   (DIR/proto and DIR/daemon must exist)
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "fuzz.h"
#include "proto.h"

static const char *gen_dir;

/* Write n bytes to DIR/sub/name. */
static void gen_write(const char *sub, const char *name, const void *p, size_t n)
{
	char path[512];
	FILE *f;

	snprintf(path, sizeof(path), "%s/%s/%s", gen_dir, sub, name);
	f = fopen(path, "wb");
	if (!f || fwrite(p, 1, n, f) != n || fclose(f)) {
		perror(path);
		exit(1);
	}
}

/* Append a request frame. */
static void gen_req(struct pbuf *b, struct proto_req r)
{
	if (proto_enc_req(b, &r))
		exit(1);
}

/* Append a reply frame. */
static void gen_rep(struct pbuf *b, struct proto_rep r)
{
	if (proto_enc_rep(b, &r))
		exit(1);
}

/* Every op of the table (proto/ops.h): its number and lower-case name. */
static const struct gen_op {
	uint32_t op;
	const char *name;
} gen_ops[] = {
#define GEN_OP_ROW(N, n, num, rq, opt, rp, park) { PROTO_OP_##N, #n },
	PROTO_OPS(GEN_OP_ROW)
#undef GEN_OP_ROW
};

/* Exit unless the frame in b decodes as a request (rep_op 0) or as a
 * reply to rep_op: a seed the decoders refuse would only test rejection. */
static void gen_check(const struct pbuf *b, uint32_t rep_op, const char *name)
{
	static struct proto_dec d;
	static int ready;
	struct proto_req rq;
	struct proto_rep rp;
	const unsigned char *p = b->data + PROTO_FRAME_HDR;
	size_t n = b->len - PROTO_FRAME_HDR;

	if (!ready && proto_dec_init(&d))
		exit(1);
	ready = 1;
	d.memfd_max = 64u << 20;
	if (rep_op ? proto_dec_rep(&d, p, n, rep_op, &rp) :
		     proto_dec_req(&d, p, n, IPC_MSG_MAX, &rq)) {
		fprintf(stderr, "gen_corpus: seed %s does not decode: %s\n", name, d.err);
		exit(1);
	}
}

/* Write one request as its own proto seed and append it to all. */
static void gen_proto_req(const char *name, struct proto_req r, struct pbuf *all)
{
	struct pbuf b;

	pbuf_init(&b);
	gen_req(&b, r);
	gen_check(&b, 0, name);
	gen_write("proto", name, b.data, b.len);
	pbuf_append(all, b.data, b.len);
	pbuf_free(&b);
}

/* Write one reply as its own proto seed. */
static void gen_proto_rep(const char *name, struct proto_rep r)
{
	struct pbuf b;

	pbuf_init(&b);
	gen_rep(&b, r);
	gen_check(&b, r.op, name);
	gen_write("proto", name, b.data, b.len);
	pbuf_free(&b);
}

/* Payloads and names the seeds carry. */
static const unsigned char gen_data[] = "hello";
static const struct proto_iov gen_iov[2] = { { gen_data, 5, 0 }, { gen_data, 2, 0 } };
static const struct proto_iov gen_names[2] = { { (const unsigned char *)"jobs", 4, 0 },
					       { (const unsigned char *)"mail", 4, 0 } };

/* A request with every field set to a valid value: encoding it as op
 * sends the fields op's row lists (the flags are op's own kind). */
static struct proto_req gen_full_req(uint32_t op)
{
	struct proto_req r = {
		.op = op, .id = op, .version = IPC_PROTO_VERSION, .name = "jobs",
		.data = gen_data, .data_len = 5, .timeout_ms = 250, .maxsize = 8,
		.flags = op == PROTO_OP_PATTACH ? PROTO_PIPE_CREATE | PROTO_PIPE_DUPLEX :
						  PROTO_OPEN_CREATE,
		.end = 1, .maxmsgs = 4, .maxbytes = 4096, .lease_ms = 1000, .tag = 3,
		.delay_ms = 10, .iov = gen_iov, .niov = 2, .max = 8, .has_mode = 1,
		.mode = 0640, .names = gen_names, .nnames = 2, .ack = 1,
		.max_deliveries = 3, .dead_letter = "dead", .uid = -1, .gid = -1,
		.has_caps = 1, .caps = PROTO_CAP_MEMFD, .slot = 1,
	};
	return r;
}

/* STAT's and LIST's info maps with every field set: a durable bounded
 * queue with reservations, journal figures and dead-lettering, then a pipe. */
static const struct proto_info gen_infos[2] = {
	{ .name = "jobs", .kind = IPC_KIND_QUEUE, .maxsize = 8, .size = 1, .bytes = 5,
	  .getters = 1, .putters = 1, .puts = 3, .gets = 2, .inflight = 1,
	  .requeued = 1, .uid = 1000, .gid = 1000, .mode = 0640, .durable = 1,
	  .journal_bytes = 4096, .journal_live = 128, .max_deliveries = 3,
	  .dead_letter = "dead", .dead_lettered = 1, .dead_letter_failed = 1,
	  .memory = 128, .reserved = 2 },
	{ .name = "p", .kind = IPC_KIND_PIPE, .maxsize = 4, .size = 2, .bytes = 7,
	  .duplex = 1, .ends = 3, .maxbytes = 4096,
	  .dir = { { 1, 5, 0, 1 }, { 1, 2, 1, 0 } }, .uid = 1000, .gid = 1000,
	  .mode = 0600, .memory = 128 },
};

/* INFO's map with every figure non-zero (each the key's place + 1). */
static struct proto_dinfo gen_dinfo(void)
{
	struct proto_dinfo di = { .version = "0.1.0" };
	size_t i;

	for (i = 0; i < proto_dinfo_nkeys; i++)
		*(uint64_t *)((char *)&di + proto_dinfo_keys[i].off) = i + 1;
	return di;
}

/* A success reply to op with every field set: encoding sends op's row. */
static struct proto_rep gen_full_rep(uint32_t op, const struct proto_dinfo *di)
{
	struct proto_rep r = {
		.op = op, .id = op, .version = 1, .msg_max = IPC_MSG_MAX, .maxsize = 8,
		.flags = PROTO_PIPE_DUPLEX, .maxmsgs = 4, .maxbytes = 4096,
		.data = gen_data, .data_len = 5, .tag = 7, .count = 2, .iov = gen_iov,
		.niov = 2, .infos = gen_infos, .ninfos = 2, .more = 1, .dropped = 3,
		.has_caps = 1, .caps = PROTO_CAP_MEMFD, .memfd_max = 64u << 20,
		.memfd_min = 65536, .dinfo = di, .index = 1,
	};
	if (op == PROTO_OP_STAT)
		r.ninfos = 1;
	return r;
}

/* One request and one reply seed for every op of the table, req-NAME and
 * rep-NAME (each checked to decode), and all the requests as one stream. */
static void gen_proto_ops(void)
{
	struct proto_dinfo di = gen_dinfo();
	struct pbuf all;
	char name[64];
	size_t i;

	pbuf_init(&all);
	for (i = 0; i < sizeof(gen_ops) / sizeof(gen_ops[0]); i++) {
		snprintf(name, sizeof(name), "req-%s", gen_ops[i].name);
		gen_proto_req(name, gen_full_req(gen_ops[i].op), &all);
		snprintf(name, sizeof(name), "rep-%s", gen_ops[i].name);
		gen_proto_rep(name, gen_full_rep(gen_ops[i].op, &di));
	}
	gen_write("proto", "stream-requests", all.data, all.len);
	pbuf_free(&all);
}

/* The proto seeds: every op's, then the variants a full row does not show. */
static void gen_proto(void)
{
	struct proto_info pipe_only = gen_infos[1];
	struct pbuf all;

	gen_proto_ops();
	pbuf_init(&all);
	/* HELLO without caps, memfd markers (a payload in descriptor #k). */
	gen_proto_req("req-hello-nocaps", (struct proto_req){ .op = PROTO_OP_HELLO, .id = 1, .version = IPC_PROTO_VERSION }, &all);
	gen_proto_req("req-qput-memfd", (struct proto_req){ .op = PROTO_OP_QPUT, .id = 3, .name = "jobs", .data_len = 1u << 20, .data_memfd = 1, .timeout_ms = -1 }, &all);
	gen_proto_req("req-qholds-memfd", (struct proto_req){ .op = PROTO_OP_QHOLDS, .id = 35, .data_len = PROTO_HOLD_PAGE, .data_memfd = 1 }, &all);
	gen_proto_req("req-list-start", (struct proto_req){ .op = PROTO_OP_LIST, .id = 7 }, &all);
	/* QRESV without its optional lease (req-qresv has one). */
	gen_proto_req("req-qresv-nolease", (struct proto_req){ .op = PROTO_OP_QRESV, .id = 32, .name = "jobs", .max = 8 }, &all);
	pbuf_free(&all);
	gen_proto_rep("rep-hello-nocaps", (struct proto_rep){ .op = PROTO_OP_HELLO, .id = 1, .version = 1, .msg_max = IPC_MSG_MAX });
	gen_proto_rep("rep-qget-memfd", (struct proto_rep){ .op = PROTO_OP_QGET, .id = 4, .data_len = 1u << 20, .data_memfd = 1 });
	gen_proto_rep("rep-stat-pipe", (struct proto_rep){ .op = PROTO_OP_STAT, .id = 5, .infos = &pipe_only, .ninfos = 1 });
	gen_proto_rep("rep-list-empty", (struct proto_rep){ .op = PROTO_OP_LIST, .id = 7 });
	gen_proto_rep("rep-error", (struct proto_rep){ .op = PROTO_OP_QGET, .id = 9, .status = IPC_EPROTO, .detail = "bad frame" });
	gen_proto_rep("rep-error-version", (struct proto_rep){ .op = PROTO_OP_HELLO, .id = 1, .status = IPC_EVERSION, .detail = "version", .version = IPC_PROTO_VERSION });
}

/* A daemon seed: flags, the split offset, then a's frames and b's. */
static void gen_session(const char *name, unsigned flags, const struct pbuf *a,
			const struct pbuf *b)
{
	struct pbuf s;
	unsigned char hdr[3] = { (unsigned char)flags, (unsigned char)(a->len >> 8),
				 (unsigned char)a->len };

	pbuf_init(&s);
	pbuf_append(&s, hdr, 3);
	pbuf_append(&s, a->data, a->len);
	if (b)
		pbuf_append(&s, b->data, b->len);
	gen_write("daemon", name, s.data, s.len);
	pbuf_free(&s);
}

/* Shorthands for building sessions. */
#define OPEN(b, q, max) gen_req(b, (struct proto_req){ .op = PROTO_OP_QOPEN, .id = 2, .name = q, .maxsize = max, .flags = PROTO_OPEN_CREATE })
#define PUT(b, q, s, t) gen_req(b, (struct proto_req){ .op = PROTO_OP_QPUT, .id = 3, .name = q, .data = (const unsigned char *)s, .data_len = strlen(s), .timeout_ms = t })
#define GET(b, q, t) gen_req(b, (struct proto_req){ .op = PROTO_OP_QGET, .id = 4, .name = q, .timeout_ms = t })
#define GETA(b, q, t, l) gen_req(b, (struct proto_req){ .op = PROTO_OP_QGETA, .id = 16, .name = q, .timeout_ms = t, .lease_ms = l })
#define ACK(b, q, tg) gen_req(b, (struct proto_req){ .op = PROTO_OP_QACK, .id = 17, .name = q, .tag = tg })
#define STAT(b, q) gen_req(b, (struct proto_req){ .op = PROTO_OP_STAT, .id = 5, .name = q })
#define DEL(b, q) gen_req(b, (struct proto_req){ .op = PROTO_OP_QDEL, .id = 6, .name = q })
#define LIST(b) gen_req(b, (struct proto_req){ .op = PROTO_OP_LIST, .id = 7 })
#define GETH(b, q, n, t, l) gen_req(b, (struct proto_req){ .op = PROTO_OP_QGETH, .id = 29, .name = q, .max = n, .timeout_ms = t, .lease_ms = l })
#define DONE(b, q, tg, a) gen_req(b, (struct proto_req){ .op = PROTO_OP_QDONE, .id = 30, .name = q, .tag = tg, .ack = a })
#define EXPIRE(b, i) gen_req(b, (struct proto_req){ .op = PROTO_OP_EXPIRE, .id = 31, .tag = i })

#define RESV(b, q, n, l) gen_req(b, (struct proto_req){ .op = PROTO_OP_QRESV, .id = 32, .name = q, .max = n, .lease_ms = l })
#define PUTR(b, q, s) gen_req(b, (struct proto_req){ .op = PROTO_OP_QPUTR, .id = 33, .name = q, .data = (const unsigned char *)s, .data_len = strlen(s) })
#define UNRESV(b, q) gen_req(b, (struct proto_req){ .op = PROTO_OP_QUNRESV, .id = 34, .name = q })

#define ATTACH(b, p, e, fl, mm) gen_req(b, (struct proto_req){ .op = PROTO_OP_PATTACH, .id = 8, .name = p, .end = e, .flags = fl, .maxmsgs = mm })
#define SEND(b, p, e, s, t) gen_req(b, (struct proto_req){ .op = PROTO_OP_PSEND, .id = 9, .name = p, .end = e, .data = (const unsigned char *)s, .data_len = strlen(s), .timeout_ms = t })
#define RECV(b, p, e, t) gen_req(b, (struct proto_req){ .op = PROTO_OP_PRECV, .id = 10, .name = p, .end = e, .timeout_ms = t })
#define PCLOSE(b, p, e) gen_req(b, (struct proto_req){ .op = PROTO_OP_PCLOSE, .id = 11, .name = p, .end = e })
#define RECVN(b, p, e, n, t) gen_req(b, (struct proto_req){ .op = PROTO_OP_PRECVN, .id = 15, .name = p, .end = e, .max = n, .timeout_ms = t })
#define DETACH(b, p, e) gen_req(b, (struct proto_req){ .op = PROTO_OP_PDETACH, .id = 18, .name = p, .end = e })
#define SHARE(b, p, e) gen_req(b, (struct proto_req){ .op = PROTO_OP_PSHARE, .id = 27, .name = p, .end = e })
#define JOIN(b, p, e, tg) gen_req(b, (struct proto_req){ .op = PROTO_OP_PJOIN, .id = 28, .name = p, .end = e, .tag = tg })

/* Is op one of the pipe ops (they name a pipe, not a queue)? */
static int gen_pipe_op(uint32_t op)
{
	switch (op) {
	case PROTO_OP_PATTACH: case PROTO_OP_PSEND: case PROTO_OP_PRECV:
	case PROTO_OP_PCLOSE: case PROTO_OP_PSENDN: case PROTO_OP_PRECVN:
	case PROTO_OP_PDETACH: case PROTO_OP_PSHARE: case PROTO_OP_PJOIN:
		return 1;
	default:
		return 0;
	}
}

/* A session sending every op of the table but HELLO (a second one ends
 * the connection) once, in table order, with valid fields (pipe ops on
 * pipe "p", the rest on queue "jobs"), so each op's handler starts from a
 * seed. */
static void gen_every_op(void)
{
	struct pbuf a;
	struct proto_req r;
	size_t i;

	pbuf_init(&a);
	for (i = 1; i < sizeof(gen_ops) / sizeof(gen_ops[0]); i++) {
		r = gen_full_req(gen_ops[i].op);
		r.timeout_ms = 0;
		if (gen_pipe_op(r.op))
			strcpy(r.name, "p");
		if (r.op == PROTO_OP_PJOIN || r.op == PROTO_OP_PDETACH)
			r.end = 0;
		gen_req(&a, r);
	}
	gen_session("every-op", FUZZ_D_HELLO | FUZZ_D_WAIT, &a, NULL);
	pbuf_free(&a);
}

/* Sessions of slot reservations (QRESV, QPUTR, QUNRESV): spent, given
 * back, taken back by a lease, and returned when the holder disconnects. */
static void gen_reserve(void)
{
	struct pbuf a, b;

	pbuf_init(&a);
	pbuf_init(&b);
	OPEN(&a, "q", 64); RESV(&a, "q", 8, 0); PUTR(&a, "q", "a"); PUTR(&a, "q", "b");
	STAT(&a, "q"); UNRESV(&a, "q"); PUTR(&a, "q", "c"); RESV(&a, "q", 1000, 0);
	RESV(&a, "nope", 4, 0); GET(&a, "q", 0); LIST(&a);
	gen_session("reserve", FUZZ_D_HELLO, &a, NULL);

	a.len = 0;
	OPEN(&a, "q", 8); RESV(&a, "q", 4, 1); PUT(&a, "q", "x", 0); PUTR(&a, "q", "y");
	PUTR(&a, "q", "z"); STAT(&a, "q");
	PUT(&b, "q", "w", -1); RESV(&b, "q", 2, 0); PUTR(&b, "q", "v"); STAT(&b, "q");
	gen_session("reserve-lease", FUZZ_D_HELLO | FUZZ_D_TWO | FUZZ_D_WAIT, &a, &b);

	a.len = b.len = 0;
	OPEN(&a, "q", 8); RESV(&a, "q", 2, 0); PUTR(&a, "q", "x");
	GET(&b, "q", 0); STAT(&b, "q"); PUT(&b, "q", "y", 0); DEL(&b, "q"); PUTR(&b, "q", "z");
	gen_session("reserve-disconnect", FUZZ_D_HELLO | FUZZ_D_TWO | FUZZ_D_CLOSE_A, &a, &b);

	a.len = b.len = 0;
	OPEN(&a, "q", 8); RESV(&a, "q", 2, 0); PUTR(&a, "q", "x"); PUTR(&a, "q", "y");
	PUTR(&a, "q", "z");
	PUT(&b, "q", "w", -1); STAT(&b, "q");
	gen_session("reserve-shutdown", FUZZ_D_HELLO | FUZZ_D_TWO | FUZZ_D_SHUTDOWN, &a, &b);
	pbuf_free(&a);
	pbuf_free(&b);
}

/* Sessions of reserved slots with a lease (1 ms) that lapses: the slots
 * go back (queue_unreserve_keep), a parked putter takes the room, and a
 * QPUTR sent after that (LATE) is a put that waits for room. */
static void gen_reserve_lapse(void)
{
	struct pbuf a, b;

	pbuf_init(&a);
	pbuf_init(&b);
	OPEN(&a, "q", 4); RESV(&a, "q", 4, 1); PUT(&a, "q", "x", 0); PUT(&a, "q", "y", 0);
	PUT(&a, "q", "z", 0); STAT(&a, "q");
	PUT(&b, "q", "w", 0); PUTR(&b, "q", "late"); GET(&b, "q", 0); PUTR(&b, "q", "again");
	RESV(&b, "q", 2, 1); STAT(&b, "q"); UNRESV(&b, "q");
	gen_session("reserve-lapse", FUZZ_D_HELLO | FUZZ_D_LATE, &a, &b);

	a.len = b.len = 0;
	OPEN(&a, "q", 4); RESV(&a, "q", 4, 1); PUT(&a, "q", "x", 0); PUT(&a, "q", "y", 0);
	PUT(&a, "q", "z", 0);
	PUT(&b, "q", "w", -1); STAT(&b, "q");
	gen_session("reserve-lapse-admit", FUZZ_D_HELLO | FUZZ_D_TWO | FUZZ_D_WAIT, &a, &b);
	pbuf_free(&a);
	pbuf_free(&b);
}

/* Sessions of a pipe between two connections: both ends attached, sends
 * parked on a full direction and receives parked on an empty one, woken
 * by the peer; a share nobody claims and a join with a wrong tag; then
 * the peer closes (EOF, EPIPE) or disconnects. */
static void gen_pipes(void)
{
	struct pbuf a, b;

	pbuf_init(&a);
	pbuf_init(&b);
	ATTACH(&a, "p", 0, PROTO_PIPE_CREATE | PROTO_PIPE_DUPLEX, 2); SEND(&a, "p", 0, "a", 0);
	SEND(&a, "p", 0, "b", 0); SEND(&a, "p", 0, "c", 0); SEND(&a, "p", 0, "d", -1);
	RECV(&a, "p", 0, -1); SHARE(&a, "p", 0); STAT(&a, "p");
	ATTACH(&b, "p", 1, 0, 0); ATTACH(&b, "p", 0, 0, 0); JOIN(&b, "p", 0, 5); RECV(&b, "p", 1, 0);
	RECVN(&b, "p", 1, 8, 0); SEND(&b, "p", 1, "back", 0); RECV(&b, "p", 1, 1);
	PCLOSE(&b, "p", 1); SEND(&b, "p", 1, "gone", 0); STAT(&b, "p");
	gen_session("pipe", FUZZ_D_HELLO | FUZZ_D_TWO | FUZZ_D_WAIT, &a, &b);

	a.len = b.len = 0;
	ATTACH(&a, "p", 0, PROTO_PIPE_CREATE | PROTO_PIPE_ONEWAY, 0); RECV(&a, "p", 0, -1);
	SHARE(&a, "p", 0); SEND(&a, "p", 0, "x", 0);
	ATTACH(&b, "p", 1, PROTO_PIPE_ONEWAY, 0); SEND(&b, "p", 1, "m", 0); SEND(&b, "p", 1, "n", 0);
	RECV(&b, "p", 1, 0); DETACH(&b, "p", 1); ATTACH(&b, "p", 1, 0, 0); STAT(&b, "p");
	PCLOSE(&b, "p", 1); LIST(&b);
	gen_session("pipe-oneway", FUZZ_D_HELLO | FUZZ_D_TWO | FUZZ_D_LATE, &a, &b);

	a.len = b.len = 0;
	ATTACH(&a, "p", 1, PROTO_PIPE_CREATE, 1); SEND(&a, "p", 1, "x", 0); SEND(&a, "p", 1, "y", -1);
	RECV(&a, "p", 1, -1);
	ATTACH(&b, "p", 0, 0, 0); RECV(&b, "p", 0, 0); RECV(&b, "p", 0, 0); RECV(&b, "p", 0, -1);
	SEND(&b, "p", 0, "z", 0); STAT(&b, "p");
	gen_session("pipe-disconnect", FUZZ_D_HELLO | FUZZ_D_TWO | FUZZ_D_CLOSE_A, &a, &b);
	pbuf_free(&a);
	pbuf_free(&b);
}

/* Sessions of held deliveries (QGETH, QDONE): done, kept, given back on
 * disconnect and at shutdown. */
static void gen_held(void)
{
	struct pbuf a, b;

	pbuf_init(&a);
	pbuf_init(&b);
	OPEN(&a, "q", 3); PUT(&a, "q", "a", 0); PUT(&a, "q", "b", 0); PUT(&a, "q", "c", 0);
	GETH(&a, "q", 3, 0, 1); DONE(&a, "q", 1, 1); DONE(&a, "q", 1, 1); DONE(&a, "q", 99, 1);
	PUT(&a, "q", "d", 0); DONE(&a, "q", 2, 0); GETH(&a, "q", 8, 0, 0); ACK(&a, "q", 1);
	DONE(&a, "r", 3, 1); STAT(&a, "q");
	GET(&b, "q", 1000); PUT(&b, "q", "e", 0); PUT(&b, "q", "f", 0); STAT(&b, "q");
	gen_session("held", FUZZ_D_HELLO | FUZZ_D_TWO | FUZZ_D_WAIT, &a, &b);

	a.len = b.len = 0;
	OPEN(&a, "q", 2); PUT(&a, "q", "x", 0); PUT(&a, "q", "y", 0); GETH(&a, "q", 2, 0, 0);
	DONE(&a, "q", 1, 1); GETH(&a, "q", 1, -1, 0);
	PUT(&b, "q", "z", 0); GET(&b, "q", 1000); GETA(&b, "q", 0, 0); STAT(&b, "q");
	gen_session("held-disconnect", FUZZ_D_HELLO | FUZZ_D_TWO | FUZZ_D_CLOSE_A, &a, &b);

	a.len = b.len = 0;
	OPEN(&a, "q", 1); PUT(&a, "q", "x", 0); GETH(&a, "q", 4, 0, 1);
	PUT(&b, "q", "y", 0); PUT(&b, "q", "z", -1); GET(&b, "q", -1); DEL(&b, "q"); DONE(&a, "q", 1, 1);
	gen_session("held-shutdown", FUZZ_D_HELLO | FUZZ_D_TWO | FUZZ_D_SHUTDOWN, &a, &b);

	pbuf_free(&a);
	pbuf_free(&b);
}

/* The daemon seeds. */
static void gen_daemon(void)
{
	static const unsigned char junk[] = { 0, 0, 0, 5, 0x95, 0xc1, 0xdd, 0xff, 0x00 };
	struct pbuf a, b;

	pbuf_init(&a);
	pbuf_init(&b);
	OPEN(&a, "q", 0); PUT(&a, "q", "hello", 0); GET(&a, "q", 0); GET(&a, "q", 0);
	STAT(&a, "q"); LIST(&a); DEL(&a, "q"); GET(&a, "q", 0);
	gen_session("basic", FUZZ_D_HELLO, &a, NULL);

	a.len = 0;
	OPEN(&a, "q", 2); PUT(&a, "q", "a", 0); PUT(&a, "q", "b", 0); PUT(&a, "q", "c", 1);
	GETA(&a, "q", 0, 0); GETA(&a, "q", 0, 1); ACK(&a, "q", 1); ACK(&a, "q", 99);
	STAT(&a, "q");
	gen_session("ack", FUZZ_D_HELLO | FUZZ_D_WAIT, &a, NULL);

	a.len = 0;
	OPEN(&a, "q", 0); PUT(&a, "q", "x", 0); PUT(&a, "q", "y", 0); GETA(&a, "q", 0, 0);
	GETA(&a, "q", 0, 0);
	GET(&b, "q", 1000); GETA(&b, "q", 0, 5); STAT(&b, "q"); ACK(&b, "q", 4);
	gen_session("ack-disconnect", FUZZ_D_HELLO | FUZZ_D_TWO | FUZZ_D_CLOSE_A, &a, &b);

	a.len = b.len = 0;
	OPEN(&a, "q", 1); GETA(&a, "q", -1, 1); GET(&a, "q", -1); GETA(&a, "q", 2, 0);
	PUT(&b, "q", "x", 0); PUT(&b, "q", "y", 0); PUT(&b, "q", "z", -1); STAT(&b, "q"); LIST(&b);
	gen_session("parked", FUZZ_D_HELLO | FUZZ_D_TWO | FUZZ_D_WAIT, &a, &b);

	a.len = b.len = 0;
	OPEN(&a, "q", 1); PUT(&a, "q", "x", 0); PUT(&a, "q", "y", -1); GETA(&a, "q", 0, 0);
	OPEN(&b, "r", 0); GET(&b, "r", -1); GETA(&b, "r", -1, 0); DEL(&b, "q");
	gen_session("shutdown", FUZZ_D_HELLO | FUZZ_D_TWO | FUZZ_D_SHUTDOWN, &a, &b);

	a.len = b.len = 0;
	OPEN(&a, "q", 1); PUT(&a, "q", "x", 0); PUT(&a, "q", "y", -1); PUT(&a, "q", "z", 5000);
	OPEN(&a, "r", 0); GET(&a, "r", -1); EXPIRE(&a, 3); EXPIRE(&a, 4); EXPIRE(&a, 4); STAT(&a, "q");
	PUT(&b, "q", "w", -1); GET(&b, "q", 0); EXPIRE(&b, 3); GET(&b, "q", 0);
	gen_session("expire", FUZZ_D_HELLO | FUZZ_D_TWO | FUZZ_D_WAIT, &a, &b);

	a.len = 0;
	PUT(&a, "q", "x", 0);
	gen_session("no-hello", 0, &a, NULL);

	a.len = 0;
	OPEN(&a, "q", 0);
	pbuf_append(&a, junk, sizeof(junk));
	gen_session("malformed", FUZZ_D_HELLO, &a, NULL);

	a.len = 0;
	OPEN(&a, "q", 0); GETA(&a, "q", 0, 0);
	pbuf_append(&a, junk, 6);
	gen_session("half-open", FUZZ_D_HELLO | FUZZ_D_HALF, &a, NULL);
	pbuf_free(&a);
	pbuf_free(&b);
}

/* Write every seed under argv[1]. */
int main(int argc, char **argv)
{
	if (argc != 2) {
		fprintf(stderr, "usage: gen_corpus DIR\n");
		return 2;
	}
	gen_dir = argv[1];
	gen_proto();
	gen_daemon();
	gen_held();
	gen_every_op();
	gen_reserve();
	gen_reserve_lapse();
	gen_pipes();
	return 0;
}
