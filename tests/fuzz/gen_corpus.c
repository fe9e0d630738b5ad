/* SPDX-License-Identifier: MIT */
/*
 * gen_corpus.c: writes the seed corpus of the fuzz targets, real frames
 * made by the protocol encoder: tests/fuzz/corpus/proto/ (one request or
 * reply of every op, and a stream of them) and tests/fuzz/corpus/daemon/
 * (client sessions: flag byte, split offset, frames; see fuzz.h).
 *   usage: gen_corpus DIR     (DIR/proto and DIR/daemon must exist)
 */
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

/* Write one request as its own proto seed and append it to all. */
static void gen_proto_req(const char *name, struct proto_req r, struct pbuf *all)
{
	struct pbuf b;

	pbuf_init(&b);
	gen_req(&b, r);
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
	gen_write("proto", name, b.data, b.len);
	pbuf_free(&b);
}

/* The proto seeds. */
static void gen_proto(void)
{
	static const unsigned char data[] = "hello";
	struct proto_info in[2] = { { .name = "jobs", .kind = IPC_KIND_QUEUE,
				      .maxsize = 2, .size = 1, .bytes = 5,
				      .puts = 3, .gets = 2, .inflight = 1 },
				    { .name = "p", .kind = IPC_KIND_PIPE } };
	const struct proto_iov iov[2] = { { data, 5, 0 }, { data, 2, 0 } };
	struct pbuf all;

	pbuf_init(&all);
	gen_proto_req("req-hello", (struct proto_req){ .op = PROTO_OP_HELLO, .id = 1, .version = IPC_PROTO_VERSION }, &all);
	gen_proto_req("req-qopen", (struct proto_req){ .op = PROTO_OP_QOPEN, .id = 2, .name = "jobs", .maxsize = 2, .flags = PROTO_OPEN_CREATE }, &all);
	gen_proto_req("req-qput", (struct proto_req){ .op = PROTO_OP_QPUT, .id = 3, .name = "jobs", .data = data, .data_len = 5, .timeout_ms = -1 }, &all);
	gen_proto_req("req-qget", (struct proto_req){ .op = PROTO_OP_QGET, .id = 4, .name = "jobs", .timeout_ms = 250 }, &all);
	gen_proto_req("req-stat", (struct proto_req){ .op = PROTO_OP_STAT, .id = 5, .name = "jobs" }, &all);
	gen_proto_req("req-qdel", (struct proto_req){ .op = PROTO_OP_QDEL, .id = 6, .name = "jobs" }, &all);
	gen_proto_req("req-list", (struct proto_req){ .op = PROTO_OP_LIST, .id = 7 }, &all);
	gen_proto_req("req-qgeta", (struct proto_req){ .op = PROTO_OP_QGETA, .id = 16, .name = "jobs", .timeout_ms = 0, .lease_ms = 1000 }, &all);
	gen_proto_req("req-qack", (struct proto_req){ .op = PROTO_OP_QACK, .id = 17, .name = "jobs", .tag = 1 }, &all);
	gen_proto_req("req-qgeth", (struct proto_req){ .op = PROTO_OP_QGETH, .id = 29, .name = "jobs", .max = 8, .timeout_ms = 0, .lease_ms = 10 }, &all);
	gen_proto_req("req-qdone", (struct proto_req){ .op = PROTO_OP_QDONE, .id = 30, .name = "jobs", .tag = 1, .ack = 1 }, &all);
	gen_proto_req("req-expire", (struct proto_req){ .op = PROTO_OP_EXPIRE, .id = 31, .tag = 3 }, &all);
	gen_write("proto", "stream-requests", all.data, all.len);
	all.len = 0;
	/* HELLO with caps, memfd markers (a payload in descriptor #k). */
	gen_proto_req("req-hello-caps", (struct proto_req){ .op = PROTO_OP_HELLO, .id = 1, .version = IPC_PROTO_VERSION, .has_caps = 1, .caps = PROTO_CAP_MEMFD }, &all);
	gen_proto_req("req-qput-memfd", (struct proto_req){ .op = PROTO_OP_QPUT, .id = 3, .name = "jobs", .data_len = 1u << 20, .data_memfd = 1, .timeout_ms = -1 }, &all);
	pbuf_free(&all);
	gen_proto_rep("rep-hello-caps", (struct proto_rep){ .op = PROTO_OP_HELLO, .id = 1, .version = 1, .msg_max = IPC_MSG_MAX, .has_caps = 1, .caps = PROTO_CAP_MEMFD, .memfd_max = 64u << 20, .memfd_min = 65536 });
	gen_proto_rep("rep-qget-memfd", (struct proto_rep){ .op = PROTO_OP_QGET, .id = 4, .data_len = 1u << 20, .data_memfd = 1 });
	gen_proto_rep("rep-hello", (struct proto_rep){ .op = PROTO_OP_HELLO, .id = 1, .version = 1, .msg_max = IPC_MSG_MAX });
	gen_proto_rep("rep-qopen", (struct proto_rep){ .op = PROTO_OP_QOPEN, .id = 2, .maxsize = 2 });
	gen_proto_rep("rep-qget", (struct proto_rep){ .op = PROTO_OP_QGET, .id = 4, .data = data, .data_len = 5 });
	gen_proto_rep("rep-qgeta", (struct proto_rep){ .op = PROTO_OP_QGETA, .id = 16, .data = data, .data_len = 5, .tag = 7 });
	gen_proto_rep("rep-qgeth", (struct proto_rep){ .op = PROTO_OP_QGETH, .id = 29, .iov = iov, .niov = 2, .tag = 7 });
	gen_proto_rep("rep-stat", (struct proto_rep){ .op = PROTO_OP_STAT, .id = 5, .infos = in, .ninfos = 1 });
	gen_proto_rep("rep-list", (struct proto_rep){ .op = PROTO_OP_LIST, .id = 7, .infos = in, .ninfos = 2 });
	gen_proto_rep("rep-error", (struct proto_rep){ .op = PROTO_OP_QGET, .id = 9, .status = IPC_EPROTO, .detail = "bad frame" });
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
	return 0;
}
