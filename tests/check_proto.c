/* SPDX-License-Identifier: MIT */
/*
 * check_proto.c: unit tests of the pure wire layer (proto/): framing,
 * round trips of every request and reply, the bounded walk, strict request
 * and reply decoding, and a fixed-seed fuzz of the untrusted paths.
 */
#include <check.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "proto.h"

/* --- helpers ------------------------------------------------------------- */

/* A raw msgpack payload built by hand, for frames the encoder won't make. */
struct raw {
	msgpack_sbuffer sb;
	msgpack_packer pk;
};

/* Start an empty raw payload. */
static void raw_init(struct raw *w)
{
	msgpack_sbuffer_init(&w->sb);
	msgpack_packer_init(&w->pk, &w->sb, msgpack_sbuffer_write);
}

/* Free a raw payload. */
static void raw_fini(struct raw *w)
{
	msgpack_sbuffer_destroy(&w->sb);
}

/* Pack a str from a C string. */
static void raw_str(struct raw *w, const char *s)
{
	msgpack_pack_str_with_body(&w->pk, s, strlen(s));
}

/* Decode the raw payload as a request. */
static int raw_dec_req(struct raw *w, struct proto_dec *d, size_t msg_max,
		       struct proto_req *r)
{
	return proto_dec_req(d, (const unsigned char *)w->sb.data, w->sb.size,
			     msg_max, r);
}

/* Start a raw reply in w: [id, status 0, ...], the body to be packed next. */
static void raw_rep_ok(struct raw *w, uint32_t id)
{
	raw_init(w);
	msgpack_pack_array(&w->pk, 3);
	msgpack_pack_uint32(&w->pk, id);
	msgpack_pack_int32(&w->pk, 0);
}

/* Decode the raw payload as a reply to op. */
static int raw_dec_rep(struct raw *w, struct proto_dec *d, uint32_t op,
		       struct proto_rep *r)
{
	return proto_dec_rep(d, (const unsigned char *)w->sb.data, w->sb.size,
			     op, r);
}

/* The one whole frame in b: checks the peek, returns the payload. */
static const unsigned char *frame_payload(const struct pbuf *b, size_t *n)
{
	long fl = proto_frame_peek(b->data, b->len, PROTO_FRAME_MAX);

	ck_assert_int_eq(fl, (long)b->len);
	*n = b->len - PROTO_FRAME_HDR;
	return b->data + PROTO_FRAME_HDR;
}

/* Encode r, peek the frame, decode it into out; returns the decode code. */
static int req_roundtrip(struct proto_dec *d, struct pbuf *b,
			 const struct proto_req *r, struct proto_req *out)
{
	const unsigned char *p;
	size_t n;

	b->len = 0;
	ck_assert_int_eq(proto_enc_req(b, r), 0);
	p = frame_payload(b, &n);
	return proto_dec_req(d, p, n, IPC_MSG_MAX, out);
}

/* Every field of two requests is equal (payload bytes compared). */
static void req_assert_equal(const struct proto_req *a, const struct proto_req *b)
{
	ck_assert_uint_eq(a->op, b->op);
	ck_assert_uint_eq(a->id, b->id);
	ck_assert_uint_eq(a->version, b->version);
	ck_assert_str_eq(a->name, b->name);
	ck_assert_uint_eq(a->data_len, b->data_len);
	if (a->data_len)
		ck_assert_mem_eq(a->data, b->data, a->data_len);
	ck_assert_int_eq(a->timeout_ms, b->timeout_ms);
	ck_assert_int_eq(a->maxsize, b->maxsize);
	ck_assert_uint_eq(a->flags, b->flags);
	ck_assert_int_eq(a->has_mode, b->has_mode);
	ck_assert_uint_eq(a->mode, b->mode);
}

/* Encode r, peek, decode as a reply to r->op into out; returns the code. */
static int rep_roundtrip(struct proto_dec *d, struct pbuf *b,
			 const struct proto_rep *r, struct proto_rep *out)
{
	const unsigned char *p;
	size_t n;

	b->len = 0;
	ck_assert_int_eq(proto_enc_rep(b, r), 0);
	p = frame_payload(b, &n);
	return proto_dec_rep(d, p, n, r->op, out);
}

/* Every field of two infos is equal. */
static void info_assert_equal(const struct proto_info *a,
			      const struct proto_info *b)
{
	ck_assert_str_eq(a->name, b->name);
	ck_assert_uint_eq(a->kind, b->kind);
	ck_assert_int_eq(a->maxsize, b->maxsize);
	ck_assert_uint_eq(a->size, b->size);
	ck_assert_uint_eq(a->bytes, b->bytes);
	ck_assert_uint_eq(a->getters, b->getters);
	ck_assert_uint_eq(a->putters, b->putters);
	ck_assert_uint_eq(a->puts, b->puts);
	ck_assert_uint_eq(a->gets, b->gets);
	ck_assert_uint_eq(a->uid, b->uid);
	ck_assert_uint_eq(a->gid, b->gid);
	ck_assert_uint_eq(a->mode, b->mode);
	ck_assert_uint_eq(a->durable, b->durable);
	ck_assert_uint_eq(a->journal_bytes, b->journal_bytes);
	ck_assert_uint_eq(a->journal_live, b->journal_live);
}

/* A filled-in info whose fields all differ. */
static struct proto_info info_sample(const char *name, uint64_t seed)
{
	struct proto_info in;

	memset(&in, 0, sizeof(in));
	strcpy(in.name, name);
	in.kind = IPC_KIND_QUEUE;
	in.maxsize = (int64_t)seed + 10;
	in.size = seed + 3;
	in.bytes = UINT64_MAX - seed;
	in.getters = UINT32_MAX;
	in.putters = 7;
	in.puts = (uint64_t)1 << 40;
	in.gets = seed;
	in.uid = 1000 + (uint32_t)seed;
	in.gid = UINT32_MAX - (uint32_t)seed;
	in.mode = 0640;
	in.durable = 1;
	in.journal_bytes = 1u << 20;
	in.journal_live = 4096;
	return in;
}

static struct proto_dec dec;
static struct pbuf buf;

/* Fixture: a decoder and an empty buffer per test. */
static void setup(void)
{
	ck_assert_int_eq(proto_dec_init(&dec), 0);
	pbuf_init(&buf);
}

/* Fixture teardown. */
static void teardown(void)
{
	proto_dec_fini(&dec);
	pbuf_free(&buf);
}

/* --- pbuf and framing ---------------------------------------------------- */

START_TEST(test_pbuf_grow_consume)
{
	unsigned char chunk[1000];
	size_t i;

	for (i = 0; i < sizeof(chunk); i++)
		chunk[i] = (unsigned char)i;
	for (i = 0; i < 100; i++)
		ck_assert_int_eq(pbuf_append(&buf, chunk, sizeof(chunk)), 0);
	ck_assert_uint_eq(buf.len, 100000);
	ck_assert_uint_ge(buf.cap, buf.len);
	pbuf_consume(&buf, 1500);
	ck_assert_uint_eq(buf.len, 98500);
	ck_assert_mem_eq(buf.data, chunk + 500, 500);
	ck_assert_int_eq(pbuf_append(&buf, NULL, 0), 0);
	pbuf_consume(&buf, buf.len + 5);
	ck_assert_uint_eq(buf.len, 0);
	/* a size overflow is refused before any allocation */
	ck_assert_int_eq(pbuf_append(&buf, "x", 1), 0);
	ck_assert_int_eq(pbuf_reserve(&buf, SIZE_MAX), IPC_ENOMEM);
	ck_assert_uint_eq(buf.len, 1);
}
END_TEST

/* pbuf_reserve_upto doubles no further than its limit (when the limit
 * holds the bytes asked for), and ignores a limit that does not. */
START_TEST(test_pbuf_reserve_upto)
{
	ck_assert_int_eq(pbuf_append(&buf, "abcd", 4), 0);
	ck_assert_int_eq(pbuf_reserve_upto(&buf, 70000, 70004), 0);
	ck_assert_uint_eq(buf.cap, 70004);
	ck_assert_mem_eq(buf.data, "abcd", 4);
	ck_assert_int_eq(pbuf_reserve_upto(&buf, 70000, 70004), 0);
	ck_assert_uint_eq(buf.cap, 70004);
	/* A limit under what is asked: doubled as pbuf_reserve does. */
	ck_assert_int_eq(pbuf_reserve_upto(&buf, 80000, 100), 0);
	ck_assert_uint_eq(buf.cap, 140008);
}
END_TEST

START_TEST(test_peek_partial_header)
{
	const unsigned char h[4] = { 0, 0, 0, 5 };
	size_t i;

	for (i = 0; i < 4; i++)
		ck_assert_int_eq(proto_frame_peek(h, i, 100), 0);
}
END_TEST

START_TEST(test_peek_partial_payload)
{
	unsigned char f[20] = { 0, 0, 0, 10 };
	size_t i;

	for (i = 4; i < 14; i++)
		ck_assert_int_eq(proto_frame_peek(f, i, 100), 0);
	ck_assert_int_eq(proto_frame_peek(f, 14, 100), 14);
	ck_assert_int_eq(proto_frame_peek(f, 20, 100), 14);
}
END_TEST

START_TEST(test_peek_bad_length)
{
	const unsigned char zero[4] = { 0, 0, 0, 0 };
	const unsigned char big[4] = { 0, 0, 0, 101 };
	const unsigned char huge[4] = { 0xff, 0xff, 0xff, 0xff };
	const unsigned char fmax[4] = { 0x00, 0x80, 0x00, 0x00 };
	const unsigned char fover[4] = { 0x00, 0x80, 0x00, 0x01 };

	ck_assert_int_eq(proto_frame_peek(zero, 4, 100), IPC_EPROTO);
	/* decided from the header alone, before the payload arrives */
	ck_assert_int_eq(proto_frame_peek(big, 4, 100), IPC_EPROTO);
	ck_assert_int_eq(proto_frame_peek(huge, 4, PROTO_FRAME_MAX), IPC_EPROTO);
	ck_assert_int_eq(proto_frame_peek(fmax, 4, PROTO_FRAME_MAX), 0);
	ck_assert_int_eq(proto_frame_peek(fover, 4, PROTO_FRAME_MAX), IPC_EPROTO);
}
END_TEST

START_TEST(test_peek_exactly_max)
{
	unsigned char f[4 + 100] = { 0, 0, 0, 100 };

	ck_assert_int_eq(proto_frame_peek(f, 103, 100), 0);
	ck_assert_int_eq(proto_frame_peek(f, 104, 100), 104);
	ck_assert_int_eq(proto_frame_peek(f, 104, 99), IPC_EPROTO);
}
END_TEST

START_TEST(test_peek_stream_of_frames)
{
	struct proto_req r = { .op = PROTO_OP_LIST }, out;
	size_t i;
	long fl;

	for (i = 0; i < 5; i++) {
		r.id = (uint32_t)i + 1;
		ck_assert_int_eq(proto_enc_req(&buf, &r), 0);
	}
	for (i = 0; i < 5; i++) {
		fl = proto_frame_peek(buf.data, buf.len, PROTO_FRAME_MAX);
		ck_assert_int_gt(fl, (long)PROTO_FRAME_HDR);
		ck_assert_int_eq(proto_dec_req(&dec, buf.data + PROTO_FRAME_HDR,
					       (size_t)fl - PROTO_FRAME_HDR,
					       IPC_MSG_MAX, &out), 0);
		ck_assert_uint_eq(out.id, i + 1);
		pbuf_consume(&buf, (size_t)fl);
	}
	ck_assert_uint_eq(buf.len, 0);
}
END_TEST

/* --- request round trips ------------------------------------------------- */

START_TEST(test_req_hello)
{
	struct proto_req r = { .op = PROTO_OP_HELLO, .id = 1,
			       .version = IPC_PROTO_VERSION }, out;

	ck_assert_int_eq(req_roundtrip(&dec, &buf, &r, &out), 0);
	req_assert_equal(&r, &out);
	r.version = UINT32_MAX;
	r.id = UINT32_MAX;
	ck_assert_int_eq(req_roundtrip(&dec, &buf, &r, &out), 0);
	req_assert_equal(&r, &out);
}
END_TEST

START_TEST(test_req_qopen)
{
	struct proto_req r = { .op = PROTO_OP_QOPEN, .id = 77, .maxsize = 1000,
			       .flags = PROTO_OPEN_CREATE | PROTO_OPEN_EXCL }, out;

	strcpy(r.name, "jobs:high@host-1_a.b");
	ck_assert_int_eq(req_roundtrip(&dec, &buf, &r, &out), 0);
	req_assert_equal(&r, &out);
	r.maxsize = -1;
	r.flags = 0;
	ck_assert_int_eq(req_roundtrip(&dec, &buf, &r, &out), 0);
	req_assert_equal(&r, &out);
	r.maxsize = INT64_MAX;
	ck_assert_int_eq(req_roundtrip(&dec, &buf, &r, &out), 0);
	req_assert_equal(&r, &out);
	ck_assert_int_eq(out.has_mode, 0);
	/* The optional trailing mode: 6 elements. */
	r.has_mode = 1;
	r.mode = 0640;
	ck_assert_int_eq(req_roundtrip(&dec, &buf, &r, &out), 0);
	req_assert_equal(&r, &out);
	r.mode = 0;
	ck_assert_int_eq(req_roundtrip(&dec, &buf, &r, &out), 0);
	req_assert_equal(&r, &out);
	ck_assert_int_eq(out.has_mode, 1);
	r.mode = PROTO_MODE_MAX;
	ck_assert_int_eq(req_roundtrip(&dec, &buf, &r, &out), 0);
	req_assert_equal(&r, &out);
}
END_TEST

START_TEST(test_req_qput)
{
	static unsigned char data[70000];
	struct proto_req r = { .op = PROTO_OP_QPUT, .id = 3, .data = data,
			       .data_len = sizeof(data), .timeout_ms = -1 }, out;
	size_t i;

	for (i = 0; i < sizeof(data); i++)
		data[i] = (unsigned char)(i * 7);
	memset(r.name, 'q', IPC_NAME_MAX); /* longest valid name */
	ck_assert_int_eq(req_roundtrip(&dec, &buf, &r, &out), 0);
	req_assert_equal(&r, &out);
	/* the payload is referenced in the frame, not copied */
	ck_assert(out.data > buf.data && out.data < buf.data + buf.len);
	r.timeout_ms = 1500;
	r.data_len = 1;
	ck_assert_int_eq(req_roundtrip(&dec, &buf, &r, &out), 0);
	req_assert_equal(&r, &out);
}
END_TEST

START_TEST(test_req_qput_empty_payload)
{
	struct proto_req r = { .op = PROTO_OP_QPUT, .id = 4, .data = NULL,
			       .data_len = 0, .timeout_ms = 0 }, out;

	strcpy(r.name, "q");
	ck_assert_int_eq(req_roundtrip(&dec, &buf, &r, &out), 0);
	req_assert_equal(&r, &out);
	ck_assert_uint_eq(out.data_len, 0);
}
END_TEST

START_TEST(test_req_qget_stat_qdel_list)
{
	struct proto_req r = { .op = PROTO_OP_QGET, .id = 5, .timeout_ms = 250 };
	struct proto_req out;
	uint32_t ops[] = { PROTO_OP_STAT, PROTO_OP_QDEL, PROTO_OP_LIST };
	size_t i;

	strcpy(r.name, "Q9");
	ck_assert_int_eq(req_roundtrip(&dec, &buf, &r, &out), 0);
	req_assert_equal(&r, &out);
	r.timeout_ms = 0;
	for (i = 0; i < 3; i++) {
		r.op = ops[i];
		r.id = (uint32_t)(100 + i);
		if (r.op == PROTO_OP_LIST)
			r.name[0] = '\0';
		ck_assert_int_eq(req_roundtrip(&dec, &buf, &r, &out), 0);
		req_assert_equal(&r, &out);
	}
}
END_TEST

START_TEST(test_enc_req_invalid)
{
	struct proto_req r = { .op = 99, .id = 1 };

	ck_assert_int_eq(proto_enc_req(&buf, &r), 0 + IPC_EINVAL);
	ck_assert_uint_eq(buf.len, 0);
	r.op = PROTO_OP_QGET;
	memset(r.name, 'a', sizeof(r.name)); /* no NUL in the array */
	ck_assert_int_eq(proto_enc_req(&buf, &r), IPC_EINVAL);
	ck_assert_uint_eq(buf.len, 0);
	r.op = PROTO_OP_QPUT;
	strcpy(r.name, "q");
	r.data = NULL;
	r.data_len = 3;
	ck_assert_int_eq(proto_enc_req(&buf, &r), IPC_EINVAL);
	ck_assert_uint_eq(buf.len, 0);
}
END_TEST

START_TEST(test_enc_req_frame_too_big)
{
	struct proto_req r = { .op = PROTO_OP_LIST, .id = 1 };
	size_t before;
	unsigned char *big = calloc(1, PROTO_FRAME_MAX);

	ck_assert_ptr_nonnull(big);
	ck_assert_int_eq(proto_enc_req(&buf, &r), 0);
	before = buf.len;
	r.op = PROTO_OP_QPUT;
	strcpy(r.name, "q");
	r.data = big;
	r.data_len = PROTO_FRAME_MAX;
	ck_assert_int_eq(proto_enc_req(&buf, &r), IPC_EINVAL);
	ck_assert_uint_eq(buf.len, before); /* undone, earlier frame kept */
	/* the largest payload that fits is accepted */
	r.data_len = PROTO_FRAME_MAX - 20;
	ck_assert_int_eq(proto_enc_req(&buf, &r), 0);
	ck_assert_int_eq(proto_frame_peek(buf.data + before, buf.len - before,
					  PROTO_FRAME_MAX),
			 (long)(buf.len - before));
	free(big);
}
END_TEST

/* --- reply round trips --------------------------------------------------- */

START_TEST(test_rep_hello_qopen)
{
	struct proto_rep r = { .op = PROTO_OP_HELLO, .id = 1,
			       .version = IPC_PROTO_VERSION,
			       .msg_max = IPC_MSG_MAX }, out;

	ck_assert_int_eq(rep_roundtrip(&dec, &buf, &r, &out), 0);
	ck_assert_uint_eq(out.id, 1);
	ck_assert_int_eq(out.status, 0);
	ck_assert_uint_eq(out.version, IPC_PROTO_VERSION);
	ck_assert_uint_eq(out.msg_max, IPC_MSG_MAX);
	ck_assert_ptr_null(out.detail);
	r = (struct proto_rep){ .op = PROTO_OP_QOPEN, .id = 9, .maxsize = 0 };
	ck_assert_int_eq(rep_roundtrip(&dec, &buf, &r, &out), 0);
	ck_assert_uint_eq(out.id, 9);
	ck_assert_int_eq(out.maxsize, 0);
	r.maxsize = 123456789012LL;
	ck_assert_int_eq(rep_roundtrip(&dec, &buf, &r, &out), 0);
	ck_assert_int_eq(out.maxsize, 123456789012LL);
}
END_TEST

START_TEST(test_rep_qput_qget_qdel)
{
	const unsigned char msg[] = { 0, 1, 2, 0xff, 'x' };
	struct proto_rep r = { .op = PROTO_OP_QPUT, .id = 2 }, out;

	ck_assert_int_eq(rep_roundtrip(&dec, &buf, &r, &out), 0);
	ck_assert_uint_eq(out.id, 2);
	ck_assert_int_eq(out.status, 0);
	r.op = PROTO_OP_QDEL;
	ck_assert_int_eq(rep_roundtrip(&dec, &buf, &r, &out), 0);
	ck_assert_uint_eq(out.op, PROTO_OP_QDEL);
	r = (struct proto_rep){ .op = PROTO_OP_QGET, .id = 3, .data = msg,
				.data_len = sizeof(msg) };
	ck_assert_int_eq(rep_roundtrip(&dec, &buf, &r, &out), 0);
	ck_assert_uint_eq(out.data_len, sizeof(msg));
	ck_assert_mem_eq(out.data, msg, sizeof(msg));
	r.data = NULL;
	r.data_len = 0;
	ck_assert_int_eq(rep_roundtrip(&dec, &buf, &r, &out), 0);
	ck_assert_uint_eq(out.data_len, 0);
}
END_TEST

START_TEST(test_rep_stat_list)
{
	struct proto_info in[3] = { info_sample("a", 1), info_sample("b.c", 2),
				    info_sample("zz:top@x", 3) };
	struct proto_rep r = { .op = PROTO_OP_STAT, .id = 4, .infos = in,
			       .ninfos = 1 }, out;
	size_t i;

	in[1].kind = IPC_KIND_PIPE;
	in[2].maxsize = -1;
	ck_assert_int_eq(rep_roundtrip(&dec, &buf, &r, &out), 0);
	ck_assert_uint_eq(out.ninfos, 1);
	info_assert_equal(&in[0], &out.infos[0]);
	r.op = PROTO_OP_LIST;
	r.ninfos = 3;
	ck_assert_int_eq(rep_roundtrip(&dec, &buf, &r, &out), 0);
	ck_assert_uint_eq(out.ninfos, 3);
	for (i = 0; i < 3; i++)
		info_assert_equal(&in[i], &out.infos[i]);
	r.infos = NULL;
	r.ninfos = 0;
	ck_assert_int_eq(rep_roundtrip(&dec, &buf, &r, &out), 0);
	ck_assert_uint_eq(out.ninfos, 0);
	ck_assert_ptr_null(out.infos);
}
END_TEST

START_TEST(test_rep_error_detail)
{
	char longtext[400];
	struct proto_rep r = { .op = PROTO_OP_QGET, .id = 8,
			       .status = IPC_EEMPTY }, out;

	ck_assert_int_eq(rep_roundtrip(&dec, &buf, &r, &out), 0);
	ck_assert_int_eq(out.status, IPC_EEMPTY);
	ck_assert_ptr_null(out.detail);
	r.status = IPC_ENOENT;
	r.detail = "no queue named 'x'";
	ck_assert_int_eq(rep_roundtrip(&dec, &buf, &r, &out), 0);
	ck_assert_uint_eq(out.id, 8);
	ck_assert_int_eq(out.status, IPC_ENOENT);
	ck_assert_str_eq(out.detail, "no queue named 'x'");
	ck_assert_uint_eq(out.detail_len, strlen(r.detail));
	/* detail_len given explicitly: only that much is sent */
	r.detail_len = 8;
	ck_assert_int_eq(rep_roundtrip(&dec, &buf, &r, &out), 0);
	ck_assert_str_eq(out.detail, "no queue");
	/* an empty detail is still a detail */
	r.detail = "";
	r.detail_len = 0;
	ck_assert_int_eq(rep_roundtrip(&dec, &buf, &r, &out), 0);
	ck_assert_ptr_nonnull(out.detail);
	ck_assert_str_eq(out.detail, "");
	/* truncated to PROTO_DETAIL_MAX */
	memset(longtext, 'e', sizeof(longtext) - 1);
	longtext[sizeof(longtext) - 1] = '\0';
	r.detail = longtext;
	r.detail_len = 0;
	r.status = IPC_EPROTO;
	r.id = 0;
	ck_assert_int_eq(rep_roundtrip(&dec, &buf, &r, &out), 0);
	ck_assert_int_eq(out.status, IPC_EPROTO);
	ck_assert_uint_eq(out.detail_len, PROTO_DETAIL_MAX);
	ck_assert_uint_eq(strlen(out.detail), PROTO_DETAIL_MAX);
	/* an error reply to an op with results carries none */
	r = (struct proto_rep){ .op = PROTO_OP_STAT, .id = 1,
				.status = IPC_ENAME, .detail = "bad" };
	ck_assert_int_eq(rep_roundtrip(&dec, &buf, &r, &out), 0);
	ck_assert_ptr_null(out.infos);
	ck_assert_str_eq(out.detail, "bad");
}
END_TEST

START_TEST(test_enc_rep_invalid)
{
	struct proto_rep r = { .op = 0, .id = 1 };

	ck_assert_int_eq(proto_enc_rep(&buf, &r), IPC_EINVAL);
	r.op = PROTO_OP_STAT; /* infos missing */
	ck_assert_int_eq(proto_enc_rep(&buf, &r), IPC_EINVAL);
	r.op = PROTO_OP_LIST;
	r.ninfos = 2;
	ck_assert_int_eq(proto_enc_rep(&buf, &r), IPC_EINVAL);
	ck_assert_uint_eq(buf.len, 0);
	/* an error reply needs no op */
	r = (struct proto_rep){ .op = 0, .id = 0, .status = IPC_EPROTO };
	ck_assert_int_eq(proto_enc_rep(&buf, &r), 0);
}
END_TEST

/* --- proto_check ----------------------------------------------------------- */

/* proto_check at depth 3 of a byte literal. */
static int check_bytes(const unsigned char *p, size_t n, char *err, size_t errlen)
{
	return proto_check(p, n, PROTO_DEPTH_MAX, err, errlen);
}

START_TEST(test_check_array32_huge)
{
	const unsigned char p[] = { 0xdd, 0xff, 0xff, 0xff, 0xff };
	const unsigned char q[] = { 0xdd, 0xff, 0xff, 0xff, 0xff, 1, 2, 3 };
	char err[128];

	ck_assert_int_eq(check_bytes(p, sizeof(p), err, sizeof(err)), IPC_EPROTO);
	ck_assert_ptr_nonnull(strstr(err, "4294967295"));
	ck_assert_int_eq(check_bytes(q, sizeof(q), err, sizeof(err)), IPC_EPROTO);
	ck_assert_str_eq(err, "array header claims 4294967295 elements, 3 bytes left");
}
END_TEST

START_TEST(test_check_map32_huge)
{
	const unsigned char p[] = { 0xdf, 0x7f, 0xff, 0xff, 0xff, 1, 2 };
	/* 2 pairs need 4 objects, only 3 bytes */
	const unsigned char q[] = { 0x82, 1, 2, 3 };
	char err[128];

	ck_assert_int_eq(check_bytes(p, sizeof(p), err, sizeof(err)), IPC_EPROTO);
	ck_assert_ptr_nonnull(strstr(err, "map"));
	ck_assert_int_eq(check_bytes(q, sizeof(q), err, sizeof(err)), IPC_EPROTO);
}
END_TEST

START_TEST(test_check_str_bin_past_end)
{
	const unsigned char s32[] = { 0xdb, 0x00, 0x00, 0x01, 0x00, 'a', 'b' };
	const unsigned char b32[] = { 0xc6, 0xff, 0xff, 0xff, 0xff, 0 };
	const unsigned char s8[] = { 0x91, 0xd9, 0x03, 'a', 'b' };
	const unsigned char fix[] = { 0xa5, 'a' };
	const unsigned char hdr[] = { 0xc5, 0x01 }; /* bin16 header cut */
	char err[128];

	ck_assert_int_eq(check_bytes(s32, sizeof(s32), err, sizeof(err)), IPC_EPROTO);
	ck_assert_ptr_nonnull(strstr(err, "str"));
	ck_assert_int_eq(check_bytes(b32, sizeof(b32), err, sizeof(err)), IPC_EPROTO);
	ck_assert_ptr_nonnull(strstr(err, "bin"));
	ck_assert_int_eq(check_bytes(s8, sizeof(s8), err, sizeof(err)), IPC_EPROTO);
	ck_assert_int_eq(check_bytes(fix, sizeof(fix), err, sizeof(err)), IPC_EPROTO);
	ck_assert_int_eq(check_bytes(hdr, sizeof(hdr), err, sizeof(err)), IPC_EPROTO);
}
END_TEST

START_TEST(test_check_depth)
{
	unsigned char p[101];
	char err[128];

	memset(p, 0x91, 100);
	p[100] = 0xc0;
	ck_assert_int_eq(check_bytes(p, sizeof(p), err, sizeof(err)), IPC_EPROTO);
	ck_assert_ptr_nonnull(strstr(err, "deeper"));
	/* max_depth over the cap is capped, still rejected */
	ck_assert_int_eq(proto_check(p, sizeof(p), 1000, err, sizeof(err)),
			 IPC_EPROTO);
	/* exactly 3 levels pass at depth 3, 4 do not */
	ck_assert_int_eq(check_bytes(p + 97, 4, err, sizeof(err)), 0);
	ck_assert_int_eq(check_bytes(p + 96, 5, err, sizeof(err)), IPC_EPROTO);
	/* an empty container counts as a level too */
	p[100] = 0x90;
	ck_assert_int_eq(check_bytes(p + 98, 3, err, sizeof(err)), 0);
	ck_assert_int_eq(check_bytes(p + 97, 4, err, sizeof(err)), IPC_EPROTO);
	/* maps nest too */
	{
		const unsigned char m[] = { 0x91, 0x81, 0xa1, 'k', 0x81, 0x01,
					    0x91, 0xc0 };

		ck_assert_int_eq(check_bytes(m, sizeof(m), err, sizeof(err)),
				 IPC_EPROTO);
		ck_assert_int_eq(proto_check(m, sizeof(m), 4, err, sizeof(err)), 0);
	}
}
END_TEST

START_TEST(test_check_trailing)
{
	const unsigned char p[] = { 0x92, 0x01, 0x02, 0x03 };
	char err[128];

	ck_assert_int_eq(check_bytes(p, sizeof(p), err, sizeof(err)), IPC_EPROTO);
	ck_assert_str_eq(err, "1 trailing bytes after the object");
	ck_assert_int_eq(check_bytes(p, 3, err, sizeof(err)), 0);
	ck_assert_int_eq(check_bytes(p, 0, err, sizeof(err)), IPC_EPROTO);
}
END_TEST

START_TEST(test_check_truncated_everywhere)
{
	struct proto_info in[2] = { info_sample("alpha", 5), info_sample("beta", 6) };
	struct proto_rep rep = { .op = PROTO_OP_LIST, .id = 3, .infos = in,
				 .ninfos = 2 };
	unsigned char data[300];
	struct proto_req req = { .op = PROTO_OP_QPUT, .id = 70000,
				 .data = data, .data_len = sizeof(data),
				 .timeout_ms = 123456 };
	const unsigned char *p;
	struct proto_req r;
	char err[128];
	size_t n, k;
	int pass;

	memset(data, 0xab, sizeof(data));
	strcpy(req.name, "trunc");
	for (pass = 0; pass < 2; pass++) {
		buf.len = 0;
		if (pass == 0)
			ck_assert_int_eq(proto_enc_req(&buf, &req), 0);
		else
			ck_assert_int_eq(proto_enc_rep(&buf, &rep), 0);
		p = frame_payload(&buf, &n);
		ck_assert_int_eq(check_bytes(p, n, err, sizeof(err)), 0);
		for (k = 0; k < n; k++) {
			ck_assert_int_eq(check_bytes(p, k, err, sizeof(err)),
					 IPC_EPROTO);
			ck_assert_int_eq(proto_dec_req(&dec, p, k, IPC_MSG_MAX, &r),
					 IPC_EPROTO);
		}
		for (k = 0; k < buf.len; k++)
			ck_assert_int_eq(proto_frame_peek(buf.data, k,
							  PROTO_FRAME_MAX), 0);
	}
}
END_TEST

START_TEST(test_check_ext_rejected)
{
	static const unsigned char exts[][20] = {
		{ 0x91, 0xd4, 0x01, 0x00 },
		{ 0x91, 0xd5, 0x01, 0x00, 0x00 },
		{ 0x91, 0xd6, 0x01, 0, 0, 0, 0 },
		{ 0x91, 0xd7, 0x01, 0, 0, 0, 0, 0, 0, 0, 0 },
		{ 0x91, 0xd8, 0x01, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0 },
		{ 0x91, 0xc7, 0x01, 0x05, 0xaa },
		{ 0x91, 0xc8, 0x00, 0x01, 0x05, 0xaa },
		{ 0x91, 0xc9, 0x00, 0x00, 0x00, 0x01, 0x05, 0xaa },
	};
	static const size_t lens[] = { 4, 5, 7, 11, 19, 5, 6, 8 };
	const unsigned char c1[] = { 0x91, 0xc1 };
	char err[128];
	size_t i;

	for (i = 0; i < sizeof(lens) / sizeof(lens[0]); i++) {
		ck_assert_int_eq(check_bytes(exts[i], lens[i], err, sizeof(err)),
				 IPC_EPROTO);
		ck_assert_ptr_nonnull(strstr(err, "ext"));
	}
	ck_assert_int_eq(check_bytes(c1, sizeof(c1), err, sizeof(err)), IPC_EPROTO);
	ck_assert_ptr_nonnull(strstr(err, "reserved"));
}
END_TEST

START_TEST(test_check_accepts_every_type)
{
	struct raw w;
	msgpack_zone z;
	msgpack_object o;
	size_t off = 0;
	char err[128];

	raw_init(&w);
	msgpack_pack_array(&w.pk, 20);
	msgpack_pack_nil(&w.pk);
	msgpack_pack_true(&w.pk);
	msgpack_pack_false(&w.pk);
	msgpack_pack_uint8(&w.pk, 200);
	msgpack_pack_uint16(&w.pk, 60000);
	msgpack_pack_uint32(&w.pk, 4000000000u);
	msgpack_pack_uint64(&w.pk, UINT64_MAX);
	msgpack_pack_int8(&w.pk, -100);
	msgpack_pack_int16(&w.pk, -30000);
	msgpack_pack_int32(&w.pk, -2000000000);
	msgpack_pack_int64(&w.pk, INT64_MIN);
	msgpack_pack_fix_int8(&w.pk, -1);
	msgpack_pack_float(&w.pk, 1.5f);
	msgpack_pack_double(&w.pk, 2.25);
	raw_str(&w, "a str of more than thirty one bytes");
	msgpack_pack_bin_with_body(&w.pk, "\0\1", 2);
	msgpack_pack_map(&w.pk, 1);
	raw_str(&w, "k");
	msgpack_pack_array(&w.pk, 0);
	msgpack_pack_map(&w.pk, 0);
	msgpack_pack_str(&w.pk, 70000);
	{
		static char big[70000];

		msgpack_pack_str_body(&w.pk, big, sizeof(big));
	}
	msgpack_pack_array(&w.pk, 1);
	msgpack_pack_array(&w.pk, 0);
	ck_assert_int_eq(check_bytes((const unsigned char *)w.sb.data,
				     w.sb.size, err, sizeof(err)), 0);
	/* msgpack-c agrees: one whole object */
	ck_assert(msgpack_zone_init(&z, 1024));
	ck_assert_int_eq(msgpack_unpack(w.sb.data, w.sb.size, &off, &z, &o),
			 MSGPACK_UNPACK_SUCCESS);
	ck_assert_uint_eq(off, w.sb.size);
	ck_assert_uint_eq(o.via.array.size, 20);
	msgpack_zone_destroy(&z);
	raw_fini(&w);
}
END_TEST

START_TEST(test_check_items_limit)
{
	const unsigned char p[] = { 0x93, 1, 2, 3 };
	char err[128];

	ck_assert_int_eq(proto_check_items(p, sizeof(p), 3, 3, err, sizeof(err)),
			 IPC_EPROTO);
	ck_assert_int_eq(proto_check_items(p, sizeof(p), 3, 4, err, sizeof(err)), 0);
	ck_assert_int_eq(proto_check_items(p + 1, 1, 3, 1, err, sizeof(err)), 0);
	ck_assert_int_eq(proto_check_items(p + 1, 1, 3, 0, err, sizeof(err)),
			 IPC_EPROTO);
	/* err may be absent */
	ck_assert_int_eq(proto_check(p, 2, 3, NULL, 0), IPC_EPROTO);
}
END_TEST

/* --- request decoding ---------------------------------------------------- */

/* Pack [op, id] as the head of an n-element request. */
static void raw_head(struct raw *w, uint32_t n, uint64_t op, uint64_t id)
{
	msgpack_pack_array(&w->pk, n);
	msgpack_pack_uint64(&w->pk, op);
	msgpack_pack_uint64(&w->pk, id);
}

/* Decode a raw [QOPEN, 8, "q", 0, 1, mode...] with extra elements packed
 * by pack (called with the packer). */
static int qopen_mode_raw(void (*pack)(msgpack_packer *pk), unsigned extra,
			  struct proto_req *r)
{
	struct raw w;
	int rc;

	raw_init(&w);
	raw_head(&w, 5 + extra, PROTO_OP_QOPEN, 8);
	raw_str(&w, "q");
	msgpack_pack_int32(&w.pk, 0);
	msgpack_pack_uint32(&w.pk, PROTO_OPEN_CREATE);
	pack(&w.pk);
	rc = raw_dec_req(&w, &dec, IPC_MSG_MAX, r);
	raw_fini(&w);
	return rc;
}

/* A mode over 0777. */
static void pack_mode_over(msgpack_packer *pk)
{
	msgpack_pack_uint32(pk, 01000);
}

/* A negative mode. */
static void pack_mode_neg(msgpack_packer *pk)
{
	msgpack_pack_int32(pk, -1);
}

/* A mode as a str. */
static void pack_mode_str(msgpack_packer *pk)
{
	msgpack_pack_str_with_body(pk, "0640", 4);
}

/* A mode, dead-lettering and one element too many. */
static void pack_mode_too_many(msgpack_packer *pk)
{
	msgpack_pack_uint32(pk, 0640);
	msgpack_pack_uint32(pk, 3);
	msgpack_pack_str_with_body(pk, "dlq", 3);
	msgpack_pack_uint32(pk, 0640);
}

/* No mode (nil), then dead-lettering after 5 deliveries to "dlq". */
static void pack_mode_nil_dlq(msgpack_packer *pk)
{
	msgpack_pack_nil(pk);
	msgpack_pack_uint32(pk, 5);
	msgpack_pack_str_with_body(pk, "dlq", 3);
}

/* A dead-letter queue name that is not valid. */
static void pack_dlq_bad_name(msgpack_packer *pk)
{
	msgpack_pack_uint32(pk, 0600);
	msgpack_pack_uint32(pk, 5);
	msgpack_pack_str_with_body(pk, ".x", 2);
}

/* A valid mode in the smallest encoding. */
static void pack_mode_ok(msgpack_packer *pk)
{
	msgpack_pack_uint16(pk, 0604);
}

START_TEST(test_req_qopen_mode)
{
	struct proto_req r;

	ck_assert_int_eq(qopen_mode_raw(pack_mode_ok, 1, &r), 0);
	ck_assert_int_eq(r.has_mode, 1);
	ck_assert_uint_eq(r.mode, 0604);
	ck_assert_uint_eq(r.flags, PROTO_OPEN_CREATE);
	/* Over 0777 or negative: a value error, the request is answered. */
	ck_assert_int_eq(qopen_mode_raw(pack_mode_over, 1, &r), IPC_EINVAL);
	ck_assert_uint_eq(r.op, PROTO_OP_QOPEN);
	ck_assert_uint_eq(r.id, 8);
	ck_assert_ptr_nonnull(strstr(dec.err, "mode"));
	ck_assert_int_eq(qopen_mode_raw(pack_mode_neg, 1, &r), IPC_EINVAL);
	/* Not an integer, or one element too many: malformed. */
	ck_assert_int_eq(qopen_mode_raw(pack_mode_str, 1, &r), IPC_EPROTO);
	ck_assert_ptr_nonnull(strstr(dec.err, "mode"));
	ck_assert_int_eq(qopen_mode_raw(pack_mode_too_many, 4, &r), IPC_EPROTO);
	ck_assert_ptr_nonnull(strstr(dec.err, "elements"));
	/* Dead-lettering after a nil mode (the default). */
	ck_assert_int_eq(qopen_mode_raw(pack_mode_nil_dlq, 3, &r), 0);
	ck_assert_int_eq(r.has_mode, 0);
	ck_assert_uint_eq(r.max_deliveries, 5);
	ck_assert_str_eq(r.dead_letter, "dlq");
	ck_assert_int_eq(qopen_mode_raw(pack_dlq_bad_name, 3, &r), IPC_ENAME);
}
END_TEST

/* QOPEN with dead-lettering encodes a nil mode when it has none, and
 * decodes back to the same request; without it, nothing changes. */
START_TEST(test_req_qopen_dead_letter_roundtrip)
{
	struct proto_req r = { .op = PROTO_OP_QOPEN, .id = 4, .maxsize = 10,
			       .flags = PROTO_OPEN_CREATE, .max_deliveries = 3 };
	struct proto_req out;
	struct pbuf b;

	strcpy(r.name, "jobs");
	strcpy(r.dead_letter, "jobs.dead");
	pbuf_init(&b);
	ck_assert_int_eq(proto_enc_req(&b, &r), 0);
	ck_assert_int_eq(proto_dec_req(&dec, b.data + PROTO_FRAME_HDR,
				       b.len - PROTO_FRAME_HDR, IPC_MSG_MAX, &out), 0);
	ck_assert_int_eq(out.has_mode, 0);
	ck_assert_uint_eq(out.max_deliveries, 3);
	ck_assert_str_eq(out.dead_letter, "jobs.dead");
	ck_assert_str_eq(out.name, "jobs");
	r.has_mode = 1;
	r.mode = 0640;
	b.len = 0;
	ck_assert_int_eq(proto_enc_req(&b, &r), 0);
	ck_assert_int_eq(proto_dec_req(&dec, b.data + PROTO_FRAME_HDR,
				       b.len - PROTO_FRAME_HDR, IPC_MSG_MAX, &out), 0);
	ck_assert_int_eq(out.has_mode, 1);
	ck_assert_uint_eq(out.mode, 0640);
	ck_assert_uint_eq(out.max_deliveries, 3);
	pbuf_free(&b);
}
END_TEST

START_TEST(test_req_unknown_op)
{
	struct proto_req r;
	struct raw w;

	raw_init(&w);
	raw_head(&w, 2, 99, 12);
	ck_assert_int_eq(raw_dec_req(&w, &dec, IPC_MSG_MAX, &r), IPC_EPROTO);
	ck_assert_str_eq(dec.err, "unknown op 99");
	ck_assert_uint_eq(r.id, 12);
	raw_fini(&w);

	raw_init(&w);
	raw_head(&w, 2, 0, 13);
	ck_assert_int_eq(raw_dec_req(&w, &dec, IPC_MSG_MAX, &r), IPC_EPROTO);
	ck_assert_uint_eq(r.id, 13);
	raw_fini(&w);

	raw_init(&w);
	raw_head(&w, 2, (uint64_t)1 << 32 | PROTO_OP_LIST, 14);
	ck_assert_int_eq(raw_dec_req(&w, &dec, IPC_MSG_MAX, &r), IPC_EPROTO);
	raw_fini(&w);

	raw_init(&w);
	msgpack_pack_array(&w.pk, 2);
	msgpack_pack_int64(&w.pk, -7);
	msgpack_pack_uint32(&w.pk, 15);
	ck_assert_int_eq(raw_dec_req(&w, &dec, IPC_MSG_MAX, &r), IPC_EPROTO);
	ck_assert_str_eq(dec.err, "unknown op -7");
	raw_fini(&w);

	raw_init(&w);
	msgpack_pack_array(&w.pk, 2);
	raw_str(&w, "7");
	msgpack_pack_uint32(&w.pk, 16);
	ck_assert_int_eq(raw_dec_req(&w, &dec, IPC_MSG_MAX, &r), IPC_EPROTO);
	raw_fini(&w);
}
END_TEST

START_TEST(test_req_bad_id)
{
	struct proto_req r;
	struct raw w;

	raw_init(&w);
	raw_head(&w, 2, PROTO_OP_LIST, (uint64_t)UINT32_MAX + 1);
	ck_assert_int_eq(raw_dec_req(&w, &dec, IPC_MSG_MAX, &r), IPC_EPROTO);
	ck_assert_uint_eq(r.id, 0);
	raw_fini(&w);

	raw_init(&w);
	msgpack_pack_array(&w.pk, 2);
	msgpack_pack_uint32(&w.pk, PROTO_OP_LIST);
	msgpack_pack_int32(&w.pk, -1);
	ck_assert_int_eq(raw_dec_req(&w, &dec, IPC_MSG_MAX, &r), IPC_EPROTO);
	ck_assert_uint_eq(r.id, 0);
	raw_fini(&w);

	raw_init(&w);
	msgpack_pack_array(&w.pk, 2);
	msgpack_pack_uint32(&w.pk, PROTO_OP_LIST);
	msgpack_pack_nil(&w.pk);
	ck_assert_int_eq(raw_dec_req(&w, &dec, IPC_MSG_MAX, &r), IPC_EPROTO);
	raw_fini(&w);

	/* uint32 max is a fine id */
	raw_init(&w);
	raw_head(&w, 2, PROTO_OP_LIST, UINT32_MAX);
	ck_assert_int_eq(raw_dec_req(&w, &dec, IPC_MSG_MAX, &r), 0);
	ck_assert_uint_eq(r.id, UINT32_MAX);
	ck_assert_uint_eq(r.op, PROTO_OP_LIST);
	raw_fini(&w);
}
END_TEST

START_TEST(test_req_bad_shape)
{
	struct proto_req r;
	struct raw w;
	int i;

	/* not an array */
	raw_init(&w);
	msgpack_pack_uint32(&w.pk, 7);
	ck_assert_int_eq(raw_dec_req(&w, &dec, IPC_MSG_MAX, &r), IPC_EPROTO);
	raw_fini(&w);
	raw_init(&w);
	msgpack_pack_map(&w.pk, 1);
	msgpack_pack_uint32(&w.pk, 1);
	msgpack_pack_uint32(&w.pk, 1);
	ck_assert_int_eq(raw_dec_req(&w, &dec, IPC_MSG_MAX, &r), IPC_EPROTO);
	raw_fini(&w);
	/* too short */
	raw_init(&w);
	msgpack_pack_array(&w.pk, 1);
	msgpack_pack_uint32(&w.pk, PROTO_OP_LIST);
	ck_assert_int_eq(raw_dec_req(&w, &dec, IPC_MSG_MAX, &r), IPC_EPROTO);
	raw_fini(&w);
	/* QGET with one element too many, and one too few */
	raw_init(&w);
	raw_head(&w, 5, PROTO_OP_QGET, 2);
	raw_str(&w, "q");
	msgpack_pack_int32(&w.pk, 0);
	msgpack_pack_int32(&w.pk, 0);
	ck_assert_int_eq(raw_dec_req(&w, &dec, IPC_MSG_MAX, &r), IPC_EPROTO);
	ck_assert_uint_eq(r.id, 2);
	ck_assert_ptr_nonnull(strstr(dec.err, "elements"));
	raw_fini(&w);
	raw_init(&w);
	raw_head(&w, 3, PROTO_OP_QGET, 2);
	raw_str(&w, "q");
	ck_assert_int_eq(raw_dec_req(&w, &dec, IPC_MSG_MAX, &r), IPC_EPROTO);
	raw_fini(&w);
	/* LIST padded with many elements: over the item limit */
	raw_init(&w);
	raw_head(&w, PROTO_REQ_ITEMS_MAX + 2, PROTO_OP_LIST, 2);
	for (i = 0; i < PROTO_REQ_ITEMS_MAX; i++)
		msgpack_pack_nil(&w.pk);
	ck_assert_int_eq(raw_dec_req(&w, &dec, IPC_MSG_MAX, &r), IPC_EPROTO);
	ck_assert_ptr_nonnull(strstr(dec.err, "objects"));
	raw_fini(&w);
	/* a nested container where a name belongs */
	raw_init(&w);
	raw_head(&w, 3, PROTO_OP_STAT, 2);
	msgpack_pack_array(&w.pk, 1);
	raw_str(&w, "q");
	ck_assert_int_eq(raw_dec_req(&w, &dec, IPC_MSG_MAX, &r), IPC_EPROTO);
	raw_fini(&w);
}
END_TEST

/* A field of the wrong type is malformed, and the error names the field. */
START_TEST(test_req_wrong_field_types)
{
	struct proto_req r;
	struct raw w;

	/* name as bin */
	raw_init(&w);
	raw_head(&w, 3, PROTO_OP_STAT, 5);
	msgpack_pack_bin_with_body(&w.pk, "q", 1);
	ck_assert_int_eq(raw_dec_req(&w, &dec, IPC_MSG_MAX, &r), IPC_EPROTO);
	ck_assert_ptr_nonnull(strstr(dec.err, "name"));
	ck_assert_uint_eq(r.id, 5);
	ck_assert_uint_eq(r.op, PROTO_OP_STAT);
	raw_fini(&w);
	/* data as str */
	raw_init(&w);
	raw_head(&w, 5, PROTO_OP_QPUT, 5);
	raw_str(&w, "q");
	raw_str(&w, "payload");
	msgpack_pack_int32(&w.pk, 0);
	ck_assert_int_eq(raw_dec_req(&w, &dec, IPC_MSG_MAX, &r), IPC_EPROTO);
	ck_assert_ptr_nonnull(strstr(dec.err, "data"));
	raw_fini(&w);
	/* timeout as float */
	raw_init(&w);
	raw_head(&w, 4, PROTO_OP_QGET, 5);
	raw_str(&w, "q");
	msgpack_pack_double(&w.pk, 1.0);
	ck_assert_int_eq(raw_dec_req(&w, &dec, IPC_MSG_MAX, &r), IPC_EPROTO);
	ck_assert_ptr_nonnull(strstr(dec.err, "timeout"));
	raw_fini(&w);
	/* maxsize as nil, flags as str */
	raw_init(&w);
	raw_head(&w, 5, PROTO_OP_QOPEN, 5);
	raw_str(&w, "q");
	msgpack_pack_nil(&w.pk);
	msgpack_pack_uint32(&w.pk, 0);
	ck_assert_int_eq(raw_dec_req(&w, &dec, IPC_MSG_MAX, &r), IPC_EPROTO);
	ck_assert_ptr_nonnull(strstr(dec.err, "maxsize"));
	raw_fini(&w);
	raw_init(&w);
	raw_head(&w, 5, PROTO_OP_QOPEN, 5);
	raw_str(&w, "q");
	msgpack_pack_int32(&w.pk, 0);
	raw_str(&w, "1");
	ck_assert_int_eq(raw_dec_req(&w, &dec, IPC_MSG_MAX, &r), IPC_EPROTO);
	ck_assert_ptr_nonnull(strstr(dec.err, "flags"));
	raw_fini(&w);
}
END_TEST

/* HELLO's version as a bool is malformed; a type error outranks an earlier value error. */
START_TEST(test_req_wrong_type_outranks)
{
	struct proto_req r;
	struct raw w;

	/* version as bool */
	raw_init(&w);
	raw_head(&w, 3, PROTO_OP_HELLO, 5);
	msgpack_pack_true(&w.pk);
	ck_assert_int_eq(raw_dec_req(&w, &dec, IPC_MSG_MAX, &r), IPC_EPROTO);
	raw_fini(&w);
	/* a type error outranks an earlier value error */
	raw_init(&w);
	raw_head(&w, 4, PROTO_OP_QGET, 5);
	raw_str(&w, ".bad");
	raw_str(&w, "soon");
	ck_assert_int_eq(raw_dec_req(&w, &dec, IPC_MSG_MAX, &r), IPC_EPROTO);
	ck_assert_ptr_nonnull(strstr(dec.err, "timeout"));
	raw_fini(&w);
}
END_TEST

/* Decode [QOPEN, 6, "q", maxsize, flags] as raw integers. */
static int qopen_with(int64_t maxsize, uint64_t flags, struct proto_req *r)
{
	struct raw w;
	int rc;

	raw_init(&w);
	raw_head(&w, 5, PROTO_OP_QOPEN, 6);
	raw_str(&w, "q");
	msgpack_pack_int64(&w.pk, maxsize);
	msgpack_pack_uint64(&w.pk, flags);
	rc = raw_dec_req(&w, &dec, IPC_MSG_MAX, r);
	raw_fini(&w);
	return rc;
}

/* Decode [QGET, 6, "q", timeout]. */
static int qget_with(int64_t timeout, struct proto_req *r)
{
	struct raw w;
	int rc;

	raw_init(&w);
	raw_head(&w, 4, PROTO_OP_QGET, 6);
	raw_str(&w, "q");
	msgpack_pack_int64(&w.pk, timeout);
	rc = raw_dec_req(&w, &dec, IPC_MSG_MAX, r);
	raw_fini(&w);
	return rc;
}

START_TEST(test_req_ranges)
{
	struct proto_req r;
	struct raw w;

	ck_assert_int_eq(qget_with(-2, &r), IPC_EINVAL);
	ck_assert_uint_eq(r.op, PROTO_OP_QGET);
	ck_assert_uint_eq(r.id, 6);
	ck_assert_ptr_nonnull(strstr(dec.err, "timeout"));
	ck_assert_int_eq(qget_with(INT64_MIN, &r), IPC_EINVAL);
	ck_assert_int_eq(qget_with(-1, &r), 0);
	ck_assert_int_eq(r.timeout_ms, -1);
	ck_assert_int_eq(qget_with(0, &r), 0);
	ck_assert_int_eq(qget_with(INT64_MAX, &r), 0);
	ck_assert_int_eq(r.timeout_ms, INT64_MAX);
	ck_assert_str_eq(r.name, "q");

	ck_assert_int_eq(qopen_with(-2, 0, &r), IPC_EINVAL);
	ck_assert_ptr_nonnull(strstr(dec.err, "maxsize"));
	ck_assert_int_eq(qopen_with(-1, PROTO_OPEN_CREATE, &r), 0);
	ck_assert_int_eq(r.maxsize, -1);
	ck_assert_uint_eq(r.flags, PROTO_OPEN_CREATE);
	ck_assert_int_eq(qopen_with(5, 0x10, &r), IPC_EINVAL);
	ck_assert_ptr_nonnull(strstr(dec.err, "flags"));
	ck_assert_int_eq(qopen_with(5, (uint64_t)1 << 32, &r), IPC_EINVAL);
	ck_assert_int_eq(qopen_with(5, 7, &r), 0);
	ck_assert_uint_eq(r.flags, PROTO_OPEN_CREATE | PROTO_OPEN_EXCL | PROTO_OPEN_DURABLE);
	ck_assert_int_eq(qopen_with(5, PROTO_OPEN_OWNED, &r), 0);
	ck_assert_uint_eq(r.flags, PROTO_OPEN_OWNED);

	/* timeout over int64 */
	raw_init(&w);
	raw_head(&w, 4, PROTO_OP_QGET, 6);
	raw_str(&w, "q");
	msgpack_pack_uint64(&w.pk, UINT64_MAX);
	ck_assert_int_eq(raw_dec_req(&w, &dec, IPC_MSG_MAX, &r), IPC_EINVAL);
	raw_fini(&w);
	/* negative and huge version */
	raw_init(&w);
	raw_head(&w, 3, PROTO_OP_HELLO, 6);
	msgpack_pack_int32(&w.pk, -1);
	ck_assert_int_eq(raw_dec_req(&w, &dec, IPC_MSG_MAX, &r), IPC_EINVAL);
	ck_assert_uint_eq(r.op, PROTO_OP_HELLO);
	raw_fini(&w);
	raw_init(&w);
	raw_head(&w, 3, PROTO_OP_HELLO, 6);
	msgpack_pack_uint64(&w.pk, (uint64_t)UINT32_MAX + 1);
	ck_assert_int_eq(raw_dec_req(&w, &dec, IPC_MSG_MAX, &r), IPC_EINVAL);
	raw_fini(&w);
}
END_TEST

/* Decode [STAT, 21, <str of len bytes>]. */
static int stat_with(const char *name, size_t len, struct proto_req *r)
{
	struct raw w;
	int rc;

	raw_init(&w);
	raw_head(&w, 3, PROTO_OP_STAT, 21);
	msgpack_pack_str_with_body(&w.pk, name, len);
	rc = raw_dec_req(&w, &dec, IPC_MSG_MAX, r);
	raw_fini(&w);
	return rc;
}

START_TEST(test_req_names)
{
	static const char *bad[] = { ".start", "a b", "a/b", "caf\xc3\xa9",
				     "\xff", "x\ty", "a*", "..", "semi;" };
	char longname[IPC_NAME_MAX + 2];
	struct proto_req r;
	size_t i;

	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		ck_assert_int_eq(stat_with(bad[i], strlen(bad[i]), &r), IPC_ENAME);
		ck_assert_uint_eq(r.op, PROTO_OP_STAT);
		ck_assert_uint_eq(r.id, 21);
		ck_assert_str_eq(r.name, "");
	}
	ck_assert_int_eq(stat_with("", 0, &r), IPC_ENAME);
	ck_assert_int_eq(stat_with("a\0b", 3, &r), IPC_ENAME);
	ck_assert_int_eq(stat_with("ab\0", 3, &r), IPC_ENAME);
	memset(longname, 'n', sizeof(longname));
	ck_assert_int_eq(stat_with(longname, IPC_NAME_MAX + 1, &r), IPC_ENAME);
	ck_assert_int_eq(stat_with(longname, IPC_NAME_MAX, &r), 0);
	ck_assert_uint_eq(strlen(r.name), IPC_NAME_MAX);
	ck_assert_int_eq(stat_with("a.b:c@d-e_F9", 12, &r), 0);
	ck_assert_str_eq(r.name, "a.b:c@d-e_F9");
	ck_assert_int_eq(stat_with("x.", 2, &r), 0);

	ck_assert_int_eq(proto_name_valid(NULL, 0), 0);
	ck_assert_int_eq(proto_name_valid("-", 1), 1);
	ck_assert_int_eq(proto_name_valid("abc", 2), 1); /* only len bytes count */
}
END_TEST

START_TEST(test_req_too_big)
{
	static unsigned char data[1001];
	struct proto_req r = { .op = PROTO_OP_QPUT, .id = 31, .data = data,
			       .data_len = 1001, .timeout_ms = 0 }, out;
	const unsigned char *p;
	size_t n;

	strcpy(r.name, "big");
	ck_assert_int_eq(proto_enc_req(&buf, &r), 0);
	p = frame_payload(&buf, &n);
	ck_assert_int_eq(proto_dec_req(&dec, p, n, 1000, &out), IPC_ETOOBIG);
	ck_assert_uint_eq(out.op, PROTO_OP_QPUT);
	ck_assert_uint_eq(out.id, 31);
	ck_assert_uint_eq(out.data_len, 1001);
	ck_assert_int_eq(proto_dec_req(&dec, p, n, 1001, &out), 0);
	ck_assert_int_eq(proto_dec_req(&dec, p, n, 0, &out), IPC_ETOOBIG);
	ck_assert_ptr_nonnull(strstr(dec.err, "1001"));
	/* with several bad values, the first field's error is reported */
	strcpy(r.name, "bad name");
	r.timeout_ms = -5;
	buf.len = 0;
	ck_assert_int_eq(proto_enc_req(&buf, &r), 0);
	p = frame_payload(&buf, &n);
	ck_assert_int_eq(proto_dec_req(&dec, p, n, 1000, &out), IPC_ENAME);
	ck_assert_ptr_nonnull(strstr(dec.err, "name"));
	strcpy(r.name, "big");
	buf.len = 0;
	ck_assert_int_eq(proto_enc_req(&buf, &r), 0);
	p = frame_payload(&buf, &n);
	ck_assert_int_eq(proto_dec_req(&dec, p, n, 1000, &out), IPC_ETOOBIG);
	r.timeout_ms = 0;
	/* 0 bytes fits any limit */
	r.data_len = 0;
	buf.len = 0;
	ck_assert_int_eq(proto_enc_req(&buf, &r), 0);
	p = frame_payload(&buf, &n);
	ck_assert_int_eq(proto_dec_req(&dec, p, n, 0, &out), 0);
	ck_assert_uint_eq(out.data_len, 0);
}
END_TEST

/* --- reply decoding ------------------------------------------------------ */

START_TEST(test_rep_error_shapes)
{
	struct proto_rep r;
	struct raw w;

	/* detail that is not a str */
	raw_init(&w);
	msgpack_pack_array(&w.pk, 3);
	msgpack_pack_uint32(&w.pk, 1);
	msgpack_pack_int32(&w.pk, IPC_ENOENT);
	msgpack_pack_uint32(&w.pk, 5);
	ck_assert_int_eq(raw_dec_rep(&w, &dec, PROTO_OP_QGET, &r), IPC_EPROTO);
	raw_fini(&w);
	/* status over int32 */
	raw_init(&w);
	msgpack_pack_array(&w.pk, 2);
	msgpack_pack_uint32(&w.pk, 1);
	msgpack_pack_int64(&w.pk, (int64_t)INT32_MIN - 1);
	ck_assert_int_eq(raw_dec_rep(&w, &dec, PROTO_OP_QGET, &r), IPC_EPROTO);
	raw_fini(&w);
	/* success without its results */
	raw_init(&w);
	msgpack_pack_array(&w.pk, 2);
	msgpack_pack_uint32(&w.pk, 1);
	msgpack_pack_int32(&w.pk, 0);
	ck_assert_int_eq(raw_dec_rep(&w, &dec, PROTO_OP_QGET, &r), IPC_EPROTO);
	ck_assert_int_eq(raw_dec_rep(&w, &dec, PROTO_OP_QDEL, &r), 0);
	ck_assert_int_eq(raw_dec_rep(&w, &dec, 42, &r), IPC_EPROTO);
	raw_fini(&w);
	/* an error reply with four elements */
	raw_init(&w);
	msgpack_pack_array(&w.pk, 4);
	msgpack_pack_uint32(&w.pk, 1);
	msgpack_pack_int32(&w.pk, IPC_EFULL);
	raw_str(&w, "full");
	raw_str(&w, "more");
	ck_assert_int_eq(raw_dec_rep(&w, &dec, PROTO_OP_QPUT, &r), IPC_EPROTO);
	raw_fini(&w);
	/* QGET data as str */
	raw_init(&w);
	msgpack_pack_array(&w.pk, 3);
	msgpack_pack_uint32(&w.pk, 1);
	msgpack_pack_int32(&w.pk, 0);
	raw_str(&w, "x");
	ck_assert_int_eq(raw_dec_rep(&w, &dec, PROTO_OP_QGET, &r), IPC_EPROTO);
	raw_fini(&w);
}
END_TEST

/* A STAT reply from a newer daemon: unknown keys of any type are
 * skipped, missing ones stay 0. */
START_TEST(test_rep_info_forward_compat)
{
	struct proto_rep r;
	struct raw w;

	raw_rep_ok(&w, 44);
	msgpack_pack_map(&w.pk, 5);
	raw_str(&w, "owner");          /* unknown: ignored */
	raw_str(&w, "alice");
	raw_str(&w, "name");
	raw_str(&w, "q1");
	raw_str(&w, "not_yet_known");  /* unknown, any type */
	msgpack_pack_array(&w.pk, 0);
	raw_str(&w, "size");
	msgpack_pack_uint32(&w.pk, 12);
	raw_str(&w, "maxsize");
	msgpack_pack_int32(&w.pk, -1);
	ck_assert_int_eq(raw_dec_rep(&w, &dec, PROTO_OP_STAT, &r), 0);
	ck_assert_uint_eq(r.id, 44);
	ck_assert_uint_eq(r.ninfos, 1);
	ck_assert_str_eq(r.infos[0].name, "q1");
	ck_assert_uint_eq(r.infos[0].size, 12);
	ck_assert_int_eq(r.infos[0].maxsize, -1);
	ck_assert_uint_eq(r.infos[0].kind, 0);   /* missing keys stay 0 */
	ck_assert_uint_eq(r.infos[0].gets, 0);
	raw_fini(&w);
}
END_TEST

/* Info maps that are malformed: a known key with the wrong type (STAT),
 * a key that is not a str, an element that is not a map (LIST). */
START_TEST(test_rep_info_malformed)
{
	struct proto_rep r;
	struct raw w;

	raw_rep_ok(&w, 44);
	msgpack_pack_map(&w.pk, 1);
	raw_str(&w, "getters");
	msgpack_pack_int32(&w.pk, -3);
	ck_assert_int_eq(raw_dec_rep(&w, &dec, PROTO_OP_STAT, &r), IPC_EPROTO);
	raw_fini(&w);
	raw_rep_ok(&w, 44);
	msgpack_pack_array(&w.pk, 1);
	msgpack_pack_map(&w.pk, 1);
	msgpack_pack_uint32(&w.pk, 1);
	msgpack_pack_uint32(&w.pk, 1);
	ck_assert_int_eq(raw_dec_rep(&w, &dec, PROTO_OP_LIST, &r), IPC_EPROTO);
	raw_fini(&w);
	raw_rep_ok(&w, 44);
	msgpack_pack_array(&w.pk, 1);
	msgpack_pack_nil(&w.pk);
	ck_assert_int_eq(raw_dec_rep(&w, &dec, PROTO_OP_LIST, &r), IPC_EPROTO);
	raw_fini(&w);
}
END_TEST

/* --- pipe ops (8-11) --------------------------------------------------------- */

/* The pipe fields of two requests are equal, besides req_assert_equal's. */
static void preq_assert_equal(const struct proto_req *a, const struct proto_req *b)
{
	req_assert_equal(a, b);
	ck_assert_uint_eq(a->end, b->end);
	ck_assert_int_eq(a->maxmsgs, b->maxmsgs);
	ck_assert_int_eq(a->maxbytes, b->maxbytes);
}

START_TEST(test_req_pipe_roundtrip)
{
	static const unsigned char data[] = { 'h', 0, 'i', 0xff };
	struct proto_req r = { .op = PROTO_OP_PATTACH, .id = 80, .end = 1,
			       .flags = PROTO_PIPE_CREATE | PROTO_PIPE_ONEWAY,
			       .maxmsgs = IPC_PIPE_MSGS_MAX,
			       .maxbytes = IPC_PIPE_BYTES_MAX }, out;

	strcpy(r.name, "chat.1");
	ck_assert_int_eq(req_roundtrip(&dec, &buf, &r, &out), 0);
	preq_assert_equal(&r, &out);
	r.end = 0;
	r.flags = PROTO_PIPE_DUPLEX;
	r.maxmsgs = 0;
	r.maxbytes = 0;
	ck_assert_int_eq(req_roundtrip(&dec, &buf, &r, &out), 0);
	preq_assert_equal(&r, &out);

	r = (struct proto_req){ .op = PROTO_OP_PSEND, .id = 81, .end = 1,
				.data = data, .data_len = sizeof(data),
				.timeout_ms = -1 };
	strcpy(r.name, "chat.1");
	ck_assert_int_eq(req_roundtrip(&dec, &buf, &r, &out), 0);
	preq_assert_equal(&r, &out);
	r.data = NULL;            /* a 0-byte message */
	r.data_len = 0;
	r.timeout_ms = 2500;
	r.end = 0;
	ck_assert_int_eq(req_roundtrip(&dec, &buf, &r, &out), 0);
	preq_assert_equal(&r, &out);
	ck_assert_uint_eq(out.data_len, 0);

	r = (struct proto_req){ .op = PROTO_OP_PRECV, .id = 82, .end = 1,
				.timeout_ms = 0 };
	strcpy(r.name, "p");
	ck_assert_int_eq(req_roundtrip(&dec, &buf, &r, &out), 0);
	preq_assert_equal(&r, &out);
	r.timeout_ms = INT64_MAX;
	ck_assert_int_eq(req_roundtrip(&dec, &buf, &r, &out), 0);
	preq_assert_equal(&r, &out);

	r = (struct proto_req){ .op = PROTO_OP_PCLOSE, .id = 83, .end = 1 };
	strcpy(r.name, "p");
	ck_assert_int_eq(req_roundtrip(&dec, &buf, &r, &out), 0);
	preq_assert_equal(&r, &out);
}
END_TEST

/* A pipe info whose fields all differ. */
static struct proto_info pipe_info_sample(void)
{
	struct proto_info in = info_sample("p", 5);

	in.kind = IPC_KIND_PIPE;
	in.duplex = 1;
	in.ends = IPC_END_ATTACHED(0) | IPC_END_CLOSED(1);
	in.maxbytes = IPC_PIPE_BYTES_MAX;
	in.dir[0] = (struct proto_pipe_dir){ 1, 2, 3, 4 };
	in.dir[1] = (struct proto_pipe_dir){ UINT64_MAX, 6, UINT32_MAX, 8 };
	return in;
}

/* 1 when the n bytes at p contain the text s. */
static int mem_has(const unsigned char *p, size_t n, const char *s)
{
	size_t k = strlen(s), i;

	for (i = 0; i + k <= n; i++)
		if (memcmp(p + i, s, k) == 0)
			return 1;
	return 0;
}

START_TEST(test_rep_pipe_roundtrip)
{
	const unsigned char msg[] = { 0, 'x', 0xfe };
	struct proto_info in[2] = { pipe_info_sample(), info_sample("q", 9) };
	struct proto_rep r = { .op = PROTO_OP_PATTACH, .id = 90,
			       .flags = PROTO_PIPE_ONEWAY, .maxmsgs = 64,
			       .maxbytes = 1 << 20 }, out;
	int i;

	ck_assert_int_eq(rep_roundtrip(&dec, &buf, &r, &out), 0);
	ck_assert_uint_eq(out.id, 90);
	ck_assert_uint_eq(out.flags, PROTO_PIPE_ONEWAY);
	ck_assert_int_eq(out.maxmsgs, 64);
	ck_assert_int_eq(out.maxbytes, 1 << 20);
	r = (struct proto_rep){ .op = PROTO_OP_PSEND, .id = 91 };
	ck_assert_int_eq(rep_roundtrip(&dec, &buf, &r, &out), 0);
	ck_assert_uint_eq(out.id, 91);
	r.op = PROTO_OP_PCLOSE;
	ck_assert_int_eq(rep_roundtrip(&dec, &buf, &r, &out), 0);
	r = (struct proto_rep){ .op = PROTO_OP_PRECV, .id = 92, .data = msg,
				.data_len = sizeof(msg) };
	ck_assert_int_eq(rep_roundtrip(&dec, &buf, &r, &out), 0);
	ck_assert_uint_eq(out.data_len, sizeof(msg));
	ck_assert_mem_eq(out.data, msg, sizeof(msg));
	r = (struct proto_rep){ .op = PROTO_OP_PRECV, .id = 93,
				.status = IPC_EEOF };
	ck_assert_int_eq(rep_roundtrip(&dec, &buf, &r, &out), 0);
	ck_assert_int_eq(out.status, IPC_EEOF);

	/* A pipe's info carries its own keys; a queue's does not. */
	r = (struct proto_rep){ .op = PROTO_OP_LIST, .id = 94, .infos = in,
				.ninfos = 2 };
	ck_assert_int_eq(rep_roundtrip(&dec, &buf, &r, &out), 0);
	ck_assert_uint_eq(out.ninfos, 2);
	for (i = 0; i < 2; i++) {
		info_assert_equal(&in[i], &out.infos[i]);
		ck_assert_uint_eq(out.infos[i].duplex, in[i].duplex);
		ck_assert_uint_eq(out.infos[i].ends, in[i].ends);
		ck_assert_uint_eq(out.infos[i].maxbytes, in[i].maxbytes);
		ck_assert_mem_eq(&out.infos[i].dir, &in[i].dir, sizeof(in[i].dir));
	}
	r = (struct proto_rep){ .op = PROTO_OP_STAT, .id = 95, .infos = &in[1],
				.ninfos = 1 };
	buf.len = 0;
	ck_assert_int_eq(proto_enc_rep(&buf, &r), 0);
	ck_assert(!mem_has(buf.data, buf.len, "size01"));
	ck_assert(!mem_has(buf.data, buf.len, "ends"));
	r.infos = &in[0];
	buf.len = 0;
	ck_assert_int_eq(proto_enc_rep(&buf, &r), 0);
	ck_assert(mem_has(buf.data, buf.len, "putters10"));
}
END_TEST

/* Decode [PATTACH, 30, name, end, flags, maxmsgs, maxbytes] with the
 * given values; the caller packs nothing. */
static int pattach_with(uint64_t end, uint64_t flags, int64_t maxmsgs,
			int64_t maxbytes, struct proto_req *r)
{
	struct raw w;
	int rc;

	raw_init(&w);
	raw_head(&w, 7, PROTO_OP_PATTACH, 30);
	raw_str(&w, "p");
	msgpack_pack_uint64(&w.pk, end);
	msgpack_pack_uint64(&w.pk, flags);
	msgpack_pack_int64(&w.pk, maxmsgs);
	msgpack_pack_int64(&w.pk, maxbytes);
	rc = raw_dec_req(&w, &dec, IPC_MSG_MAX, r);
	raw_fini(&w);
	return rc;
}

START_TEST(test_req_pipe_ranges)
{
	struct proto_req r;

	ck_assert_int_eq(pattach_with(1, PROTO_PIPE_CREATE, 0, 0, &r), 0);
	ck_assert_uint_eq(r.end, 1);
	ck_assert_int_eq(pattach_with(2, 0, 0, 0, &r), IPC_EINVAL);
	ck_assert_uint_eq(r.op, PROTO_OP_PATTACH);
	ck_assert_uint_eq(r.id, 30);
	ck_assert_ptr_nonnull(strstr(dec.err, "end"));
	ck_assert_int_eq(pattach_with((uint64_t)1 << 32, 0, 0, 0, &r), IPC_EINVAL);
	ck_assert_int_eq(pattach_with(0, 0x10, 0, 0, &r), IPC_EINVAL);
	ck_assert_ptr_nonnull(strstr(dec.err, "flags"));
	ck_assert_int_eq(pattach_with(0, PROTO_PIPE_DUPLEX | PROTO_PIPE_ONEWAY,
				      0, 0, &r), IPC_EINVAL);
	ck_assert_ptr_nonnull(strstr(dec.err, "duplex"));
	ck_assert_int_eq(pattach_with(0, 0, -1, 0, &r), IPC_EINVAL);
	ck_assert_ptr_nonnull(strstr(dec.err, "maxmsgs"));
	ck_assert_int_eq(pattach_with(0, 0, IPC_PIPE_MSGS_MAX + 1, 0, &r),
			 IPC_EINVAL);
	ck_assert_int_eq(pattach_with(0, 0, IPC_PIPE_MSGS_MAX, 0, &r), 0);
	ck_assert_int_eq(pattach_with(0, 0, 0, -5, &r), IPC_EINVAL);
	ck_assert_ptr_nonnull(strstr(dec.err, "maxbytes"));
	ck_assert_int_eq(pattach_with(0, 0, 0, (int64_t)IPC_PIPE_BYTES_MAX + 1, &r),
			 IPC_EINVAL);
	ck_assert_int_eq(pattach_with(0, 0, 0, IPC_PIPE_BYTES_MAX, &r), 0);
	ck_assert_int_eq(r.maxbytes, IPC_PIPE_BYTES_MAX);
	/* The first bad field is the one reported. */
	ck_assert_int_eq(pattach_with(5, 0x8, -1, -1, &r), IPC_EINVAL);
	ck_assert_ptr_nonnull(strstr(dec.err, "end"));
}
END_TEST

/* A pipe end that is not an integer is malformed, a negative one EINVAL. */
START_TEST(test_req_pipe_bad_end)
{
	struct proto_req r;
	struct raw w;

	/* end as a str: malformed */
	raw_init(&w);
	raw_head(&w, 4, PROTO_OP_PCLOSE, 31);
	raw_str(&w, "p");
	raw_str(&w, "1");
	ck_assert_int_eq(raw_dec_req(&w, &dec, IPC_MSG_MAX, &r), IPC_EPROTO);
	ck_assert_uint_eq(r.id, 31);
	raw_fini(&w);
	/* negative end: out of range */
	raw_init(&w);
	raw_head(&w, 4, PROTO_OP_PCLOSE, 31);
	raw_str(&w, "p");
	msgpack_pack_int32(&w.pk, -1);
	ck_assert_int_eq(raw_dec_req(&w, &dec, IPC_MSG_MAX, &r), IPC_EINVAL);
	raw_fini(&w);
}
END_TEST

/* Pipe requests of the wrong length are malformed. */
START_TEST(test_req_pipe_wrong_length)
{
	struct proto_req r;
	struct raw w;

	/* PCLOSE one element short, PRECV one too many */
	raw_init(&w);
	raw_head(&w, 3, PROTO_OP_PCLOSE, 31);
	raw_str(&w, "p");
	ck_assert_int_eq(raw_dec_req(&w, &dec, IPC_MSG_MAX, &r), IPC_EPROTO);
	raw_fini(&w);
	raw_init(&w);
	raw_head(&w, 6, PROTO_OP_PRECV, 32);
	raw_str(&w, "p");
	msgpack_pack_uint32(&w.pk, 0);
	msgpack_pack_int32(&w.pk, -1);
	msgpack_pack_int32(&w.pk, -1);
	ck_assert_int_eq(raw_dec_req(&w, &dec, IPC_MSG_MAX, &r), IPC_EPROTO);
	raw_fini(&w);
}
END_TEST

/* PRECV's timeout below -1 is EINVAL; PSEND data as a str is malformed, over msg_max too big. */
START_TEST(test_req_pipe_bad_timeout_data)
{
	static unsigned char big[101];
	struct proto_req r;
	struct raw w;

	/* PRECV timeout below -1 */
	raw_init(&w);
	raw_head(&w, 5, PROTO_OP_PRECV, 32);
	raw_str(&w, "p");
	msgpack_pack_uint32(&w.pk, 0);
	msgpack_pack_int32(&w.pk, -2);
	ck_assert_int_eq(raw_dec_req(&w, &dec, IPC_MSG_MAX, &r), IPC_EINVAL);
	ck_assert_ptr_nonnull(strstr(dec.err, "timeout"));
	raw_fini(&w);
	/* PSEND data as a str: malformed; over msg_max: too big */
	raw_init(&w);
	raw_head(&w, 6, PROTO_OP_PSEND, 33);
	raw_str(&w, "p");
	msgpack_pack_uint32(&w.pk, 1);
	raw_str(&w, "text");
	msgpack_pack_int32(&w.pk, 0);
	ck_assert_int_eq(raw_dec_req(&w, &dec, IPC_MSG_MAX, &r), IPC_EPROTO);
	raw_fini(&w);
	raw_init(&w);
	raw_head(&w, 6, PROTO_OP_PSEND, 33);
	raw_str(&w, "p");
	msgpack_pack_uint32(&w.pk, 1);
	msgpack_pack_bin(&w.pk, sizeof(big));
	msgpack_pack_bin_body(&w.pk, big, sizeof(big));
	msgpack_pack_int32(&w.pk, 0);
	ck_assert_int_eq(raw_dec_req(&w, &dec, 100, &r), IPC_ETOOBIG);
	ck_assert_uint_eq(r.op, PROTO_OP_PSEND);
	ck_assert_uint_eq(r.id, 33);
	ck_assert_int_eq(raw_dec_req(&w, &dec, 101, &r), 0);
	raw_fini(&w);
}
END_TEST

/* PATTACH: maxmsgs of the wrong type is malformed, a bad name ENAME. */
START_TEST(test_req_pattach_bad_fields)
{
	struct proto_req r;
	struct raw w;

	/* PATTACH maxmsgs as nil: malformed; a bad name: ENAME */
	raw_init(&w);
	raw_head(&w, 7, PROTO_OP_PATTACH, 34);
	raw_str(&w, "p");
	msgpack_pack_uint32(&w.pk, 0);
	msgpack_pack_uint32(&w.pk, 0);
	msgpack_pack_nil(&w.pk);
	msgpack_pack_int32(&w.pk, 0);
	ck_assert_int_eq(raw_dec_req(&w, &dec, IPC_MSG_MAX, &r), IPC_EPROTO);
	raw_fini(&w);
	raw_init(&w);
	raw_head(&w, 7, PROTO_OP_PATTACH, 34);
	raw_str(&w, "../etc");
	msgpack_pack_uint32(&w.pk, 0);
	msgpack_pack_uint32(&w.pk, 0);
	msgpack_pack_int32(&w.pk, 0);
	msgpack_pack_int32(&w.pk, 0);
	ck_assert_int_eq(raw_dec_req(&w, &dec, IPC_MSG_MAX, &r), IPC_ENAME);
	ck_assert_uint_eq(r.op, PROTO_OP_PATTACH);
	ck_assert_uint_eq(r.id, 34);
	raw_fini(&w);
}
END_TEST

START_TEST(test_rep_pipe_bad)
{
	struct proto_rep r;
	struct raw w;

	/* PATTACH reply one result short */
	raw_init(&w);
	msgpack_pack_array(&w.pk, 4);
	msgpack_pack_uint32(&w.pk, 1);
	msgpack_pack_int32(&w.pk, 0);
	msgpack_pack_uint32(&w.pk, PROTO_PIPE_DUPLEX);
	msgpack_pack_int32(&w.pk, 64);
	ck_assert_int_eq(raw_dec_rep(&w, &dec, PROTO_OP_PATTACH, &r), IPC_EPROTO);
	raw_fini(&w);
	/* negative bound */
	raw_init(&w);
	msgpack_pack_array(&w.pk, 5);
	msgpack_pack_uint32(&w.pk, 1);
	msgpack_pack_int32(&w.pk, 0);
	msgpack_pack_uint32(&w.pk, PROTO_PIPE_DUPLEX);
	msgpack_pack_int32(&w.pk, -64);
	msgpack_pack_int32(&w.pk, 100);
	ck_assert_int_eq(raw_dec_rep(&w, &dec, PROTO_OP_PATTACH, &r), IPC_EPROTO);
	raw_fini(&w);
	/* PRECV data as a str */
	raw_init(&w);
	msgpack_pack_array(&w.pk, 3);
	msgpack_pack_uint32(&w.pk, 1);
	msgpack_pack_int32(&w.pk, 0);
	raw_str(&w, "data");
	ck_assert_int_eq(raw_dec_rep(&w, &dec, PROTO_OP_PRECV, &r), IPC_EPROTO);
	raw_fini(&w);
	/* PSEND success with a stray result */
	raw_init(&w);
	msgpack_pack_array(&w.pk, 3);
	msgpack_pack_uint32(&w.pk, 1);
	msgpack_pack_int32(&w.pk, 0);
	msgpack_pack_nil(&w.pk);
	ck_assert_int_eq(raw_dec_rep(&w, &dec, PROTO_OP_PSEND, &r), IPC_EPROTO);
	raw_fini(&w);
	/* a pipe info key with the wrong type */
	raw_init(&w);
	msgpack_pack_array(&w.pk, 3);
	msgpack_pack_uint32(&w.pk, 1);
	msgpack_pack_int32(&w.pk, 0);
	msgpack_pack_map(&w.pk, 1);
	raw_str(&w, "bytes10");
	raw_str(&w, "many");
	ck_assert_int_eq(raw_dec_rep(&w, &dec, PROTO_OP_STAT, &r), IPC_EPROTO);
	raw_fini(&w);
}
END_TEST

/* --- strerror -------------------------------------------------------------- */

START_TEST(test_strerror_all)
{
	const char *seen[40];
	size_t nseen = 0, i;
	int code;

	for (code = IPC_ETIMEDOUT; code <= IPC_ENOTSUP; code++) {
		const char *s = proto_strerror(code);

		ck_assert_ptr_nonnull(s);
		ck_assert_str_ne(s, "unknown error");
		for (i = 0; i < nseen; i++)
			ck_assert_str_ne(s, seen[i]);
		seen[nseen++] = s;
	}
	ck_assert_str_eq(proto_strerror(IPC_ENOTSUP + 1), "unknown error");
	ck_assert_str_eq(proto_strerror(IPC_ETIMEDOUT - 1), "unknown error");
	ck_assert_str_eq(proto_strerror(12345), "unknown error");
}
END_TEST

/* --- fixed-seed fuzz ------------------------------------------------------- */

static uint64_t rng_state = 0x9e3779b97f4a7c15ull;

/* xorshift64*: a fixed, portable pseudo-random sequence. */
static uint32_t rng(void)
{
	rng_state ^= rng_state >> 12;
	rng_state ^= rng_state << 25;
	rng_state ^= rng_state >> 27;
	return (uint32_t)((rng_state * 0x2545f4914f6cdd1dull) >> 32);
}

/* 1 when rc is a code a request decode may return. */
static int req_code_ok(int rc)
{
	return rc == 0 || rc == IPC_EPROTO || rc == IPC_ENAME ||
	       rc == IPC_EINVAL || rc == IPC_ETOOBIG;
}

/* How often each outcome was reached, to show the fuzz gets deep. */
static struct {
	unsigned checked, decoded, soft;
} fuzz_seen;

/* Run one buffer through every untrusted path and check the outcomes. */
static void fuzz_one(const unsigned char *p, size_t n)
{
	struct proto_req r, r2;
	struct proto_rep rep;
	msgpack_object o;
	size_t off = 0;
	char err[128];
	int rc;

	rc = proto_check(p, n, PROTO_DEPTH_MAX, err, sizeof(err));
	ck_assert(rc == 0 || rc == IPC_EPROTO);
	if (rc == 0) {
		/* what proto_check accepts, msgpack-c parses exactly */
		msgpack_zone_clear(&dec.zone);
		ck_assert_int_eq(msgpack_unpack((const char *)p, n, &off,
						&dec.zone, &o),
				 MSGPACK_UNPACK_SUCCESS);
		ck_assert_uint_eq(off, n);
		fuzz_seen.checked++;
	}
	rc = proto_dec_req(&dec, p, n, 16, &r);
	ck_assert(req_code_ok(rc));
	if (rc > 0)
		fuzz_seen.soft++;
	if (rc == 0) {
		fuzz_seen.decoded++;
		/* what decodes re-encodes to the same request */
		buf.len = 0;
		ck_assert_int_eq(req_roundtrip(&dec, &buf, &r, &r2), 0);
		req_assert_equal(&r, &r2);
	}
	rc = proto_dec_rep(&dec, p, n, 1 + rng() % (PROTO_OP__MAX - 1), &rep);
	ck_assert(rc == 0 || rc == IPC_EPROTO);
	rc = (int)proto_frame_peek(p, n, 64);
	ck_assert(rc >= 0 || rc == IPC_EPROTO);
}

START_TEST(test_fuzz_random_bytes)
{
	/* biased bytes so many buffers start like a message */
	static const unsigned char seeds[] = { 0x92, 0x93, 0x94, 0x95, 0x01,
					       0x03, 0xa1, 'q', 0xc4, 0x00,
					       0xdd, 0xdf, 0xcf, 0xd3, 0xff };
	unsigned char p[64];
	size_t n, i;
	int k;

	for (k = 0; k < 20000; k++) {
		n = rng() % 65;
		for (i = 0; i < n; i++)
			p[i] = (rng() & 1) ? seeds[rng() % sizeof(seeds)]
					   : (unsigned char)rng();
		fuzz_one(p, n);
	}
	ck_assert_uint_gt(fuzz_seen.checked, 100);
}
END_TEST

START_TEST(test_fuzz_mutated_frames)
{
	unsigned char data[5] = { 1, 2, 3, 4, 5 };
	struct proto_req reqs[] = {
		{ .op = PROTO_OP_HELLO, .id = 1, .version = 1 },
		{ .op = PROTO_OP_QOPEN, .id = 2, .name = "q", .maxsize = 3,
		  .flags = 1 },
		{ .op = PROTO_OP_QPUT, .id = 3, .name = "q", .data = data,
		  .data_len = 5, .timeout_ms = -1 },
		{ .op = PROTO_OP_QGET, .id = 4, .name = "q", .timeout_ms = 10 },
		{ .op = PROTO_OP_STAT, .id = 5, .name = "queue" },
		{ .op = PROTO_OP_LIST, .id = 6 },
	};
	struct proto_info in = info_sample("i", 1);
	struct proto_rep rep = { .op = PROTO_OP_LIST, .id = 7, .infos = &in,
				 .ninfos = 1 };
	unsigned char frames[8][512], p[512];
	size_t lens[8], nframes = 0, n, i, j;
	int k;

	for (i = 0; i <= sizeof(reqs) / sizeof(reqs[0]); i++) {
		buf.len = 0;
		if (i < sizeof(reqs) / sizeof(reqs[0]))
			ck_assert_int_eq(proto_enc_req(&buf, &reqs[i]), 0);
		else
			ck_assert_int_eq(proto_enc_rep(&buf, &rep), 0);
		lens[nframes] = buf.len - PROTO_FRAME_HDR;
		ck_assert_uint_le(lens[nframes], sizeof(frames[0]));
		memcpy(frames[nframes], buf.data + PROTO_FRAME_HDR, lens[nframes]);
		nframes++;
	}
	for (k = 0; k < 20000; k++) {
		i = rng() % nframes;
		n = lens[i];
		memcpy(p, frames[i], n);
		for (j = 1 + rng() % 3; j > 0; j--)
			p[rng() % n] = (unsigned char)rng();
		if (rng() % 4 == 0)
			n = rng() % (n + 1);
		fuzz_one(p, n);
	}
	ck_assert_uint_gt(fuzz_seen.checked, 1000);
	ck_assert_uint_gt(fuzz_seen.decoded, 100);
	ck_assert_uint_gt(fuzz_seen.soft, 100);
}
END_TEST

/* --- at-least-once: QGETA and QACK ---------------------------------------- */

START_TEST(test_ack_req_roundtrip)
{
	struct proto_req r = { .op = PROTO_OP_QGETA, .id = 41, .name = "jobs",
			       .timeout_ms = 250, .lease_ms = 1500 }, out;

	ck_assert_int_eq(req_roundtrip(&dec, &buf, &r, &out), 0);
	req_assert_equal(&r, &out);
	ck_assert_int_eq(out.lease_ms, 1500);
	r.lease_ms = 0;
	r.timeout_ms = -1;
	ck_assert_int_eq(req_roundtrip(&dec, &buf, &r, &out), 0);
	ck_assert_int_eq(out.lease_ms, 0);
	ck_assert_int_eq(out.timeout_ms, -1);
	r = (struct proto_req){ .op = PROTO_OP_QACK, .id = 42, .name = "jobs",
				.tag = UINT64_MAX };
	ck_assert_int_eq(req_roundtrip(&dec, &buf, &r, &out), 0);
	req_assert_equal(&r, &out);
	ck_assert_uint_eq(out.tag, UINT64_MAX);
	r.tag = 0;
	ck_assert_int_eq(req_roundtrip(&dec, &buf, &r, &out), 0);
	ck_assert_uint_eq(out.tag, 0);
}
END_TEST

/* Decode [QGETA, 8, "q", 0, lease] with lease packed as an int64. */
static int qgeta_with(int64_t lease, struct proto_req *r)
{
	struct raw w;
	int rc;

	raw_init(&w);
	raw_head(&w, 5, PROTO_OP_QGETA, 8);
	raw_str(&w, "q");
	msgpack_pack_int64(&w.pk, 0);
	msgpack_pack_int64(&w.pk, lease);
	rc = raw_dec_req(&w, &dec, IPC_MSG_MAX, r);
	raw_fini(&w);
	return rc;
}

/* QGETA's lease: a negative one is a bad value (answered, connection
 * kept), one that is not an integer or missing is malformed. */
START_TEST(test_qgeta_req_bad)
{
	struct proto_req r;
	struct raw w;

	/* A negative lease is a bad value: answered, connection kept. */
	ck_assert_int_eq(qgeta_with(-1, &r), IPC_EINVAL);
	ck_assert_uint_eq(r.op, PROTO_OP_QGETA);
	ck_assert_uint_eq(r.id, 8);
	ck_assert_ptr_nonnull(strstr(dec.err, "lease"));
	ck_assert_int_eq(qgeta_with(INT64_MIN, &r), IPC_EINVAL);
	ck_assert_int_eq(qgeta_with(INT64_MAX, &r), 0);
	ck_assert_int_eq(r.lease_ms, INT64_MAX);
	/* A lease that is not an integer is malformed. */
	raw_init(&w);
	raw_head(&w, 5, PROTO_OP_QGETA, 8);
	raw_str(&w, "q");
	msgpack_pack_int64(&w.pk, 0);
	raw_str(&w, "10");
	ck_assert_int_eq(raw_dec_req(&w, &dec, IPC_MSG_MAX, &r), IPC_EPROTO);
	raw_fini(&w);
	/* QGETA without its lease: wrong length. */
	raw_init(&w);
	raw_head(&w, 4, PROTO_OP_QGETA, 8);
	raw_str(&w, "q");
	msgpack_pack_int64(&w.pk, 0);
	ck_assert_int_eq(raw_dec_req(&w, &dec, IPC_MSG_MAX, &r), IPC_EPROTO);
	raw_fini(&w);
}
END_TEST

/* QACK: a tag must be an unsigned integer (malformed otherwise, the id
 * still read); a bad name is a value error like anywhere else; a trailing
 * extra element is malformed. */
START_TEST(test_qack_req_bad)
{
	struct proto_req r;
	struct raw w;

	raw_init(&w);
	raw_head(&w, 4, PROTO_OP_QACK, 9);
	raw_str(&w, "q");
	msgpack_pack_int64(&w.pk, -3);
	ck_assert_int_eq(raw_dec_req(&w, &dec, IPC_MSG_MAX, &r), IPC_EPROTO);
	ck_assert_uint_eq(r.id, 9);
	raw_fini(&w);
	raw_init(&w);
	raw_head(&w, 4, PROTO_OP_QACK, 9);
	raw_str(&w, "q");
	msgpack_pack_bin(&w.pk, 0);
	ck_assert_int_eq(raw_dec_req(&w, &dec, IPC_MSG_MAX, &r), IPC_EPROTO);
	raw_fini(&w);
	/* A bad name in QACK is a value error like anywhere else. */
	raw_init(&w);
	raw_head(&w, 4, PROTO_OP_QACK, 9);
	raw_str(&w, "no space");
	msgpack_pack_uint64(&w.pk, 5);
	ck_assert_int_eq(raw_dec_req(&w, &dec, IPC_MSG_MAX, &r), IPC_ENAME);
	raw_fini(&w);
	/* QACK with a trailing extra element. */
	raw_init(&w);
	raw_head(&w, 5, PROTO_OP_QACK, 9);
	raw_str(&w, "q");
	msgpack_pack_uint64(&w.pk, 5);
	msgpack_pack_uint64(&w.pk, 5);
	ck_assert_int_eq(raw_dec_req(&w, &dec, IPC_MSG_MAX, &r), IPC_EPROTO);
	raw_fini(&w);
}
END_TEST

/* --- admin: QPEEK, QPURGE, CHMOD, CHOWN ------------------------------------ */

/* Decode [CHOWN, 6, "q", uid, gid] with both packed as int64. */
static int chown_with(int64_t uid, int64_t gid, struct proto_req *r)
{
	struct raw w;
	int rc;

	raw_init(&w);
	raw_head(&w, 5, PROTO_OP_CHOWN, 6);
	raw_str(&w, "q");
	msgpack_pack_int64(&w.pk, uid);
	msgpack_pack_int64(&w.pk, gid);
	rc = raw_dec_req(&w, &dec, IPC_MSG_MAX, r);
	raw_fini(&w);
	return rc;
}

/* The admin ops' requests and replies survive a round trip; CHOWN's ids
 * are -1 or 0..UINT32_MAX-1, CHMOD's mode at most 0777. */
START_TEST(test_admin_roundtrip)
{
	struct proto_req r = { .op = PROTO_OP_QPEEK, .id = 1, .name = "q",
			       .max = 7 }, out;
	struct proto_iov iov[1] = { { (const unsigned char *)"ab", 2, 0 } };
	struct proto_rep rep = { .op = PROTO_OP_QPURGE, .id = 2,
				 .dropped = (uint64_t)1 << 40 }, rout;

	ck_assert_int_eq(req_roundtrip(&dec, &buf, &r, &out), 0);
	ck_assert_uint_eq(out.max, 7);
	r = (struct proto_req){ .op = PROTO_OP_CHMOD, .id = 3, .name = "q",
				.has_mode = 1, .mode = 0640 };
	ck_assert_int_eq(req_roundtrip(&dec, &buf, &r, &out), 0);
	ck_assert_uint_eq(out.mode, 0640);
	r.mode = 01000;
	ck_assert_int_eq(req_roundtrip(&dec, &buf, &r, &out), IPC_EINVAL);
	r = (struct proto_req){ .op = PROTO_OP_CHOWN, .id = 4, .name = "q",
				.uid = -1, .gid = 4211 };
	ck_assert_int_eq(req_roundtrip(&dec, &buf, &r, &out), 0);
	ck_assert_int_eq(out.uid, -1);
	ck_assert_int_eq(out.gid, 4211);
	ck_assert_int_eq(chown_with(0, (int64_t)UINT32_MAX - 1, &out), 0);
	ck_assert_int_eq(out.gid, (int64_t)UINT32_MAX - 1);
	ck_assert_int_eq(chown_with(UINT32_MAX, 0, &out), IPC_EINVAL);
	ck_assert_ptr_nonnull(strstr(dec.err, "uid"));
	ck_assert_int_eq(chown_with(0, -2, &out), IPC_EINVAL);
	ck_assert_ptr_nonnull(strstr(dec.err, "gid"));
	ck_assert_int_eq(rep_roundtrip(&dec, &buf, &rep, &rout), 0);
	ck_assert_uint_eq(rout.dropped, (uint64_t)1 << 40);
	rep = (struct proto_rep){ .op = PROTO_OP_QPEEK, .id = 5, .iov = iov,
				  .niov = 1 };
	ck_assert_int_eq(rep_roundtrip(&dec, &buf, &rep, &rout), 0);
	ck_assert_uint_eq(rout.niov, 1);
	ck_assert_mem_eq(rout.iov[0].base, "ab", 2);
	r = (struct proto_req){ .op = PROTO_OP_QRELEASE, .id = 6, .name = "q",
				.tag = 9, .delay_ms = 1500 };
	ck_assert_int_eq(req_roundtrip(&dec, &buf, &r, &out), 0);
	ck_assert_uint_eq(out.tag, 9);
	ck_assert_int_eq(out.delay_ms, 1500);
	r.delay_ms = -1;
	ck_assert_int_eq(req_roundtrip(&dec, &buf, &r, &out), IPC_EINVAL);
	ck_assert_ptr_nonnull(strstr(dec.err, "delay"));
}
END_TEST

/* INFO: an empty request; the daemon info map round-trips every key;
 * a reply without its info map is refused. */
START_TEST(test_dinfo_roundtrip)
{
	struct proto_req r = { .op = PROTO_OP_INFO, .id = 7 }, rout;
	struct proto_dinfo di;
	struct proto_rep rep = { .op = PROTO_OP_INFO, .id = 7, .dinfo = &di }, out;
	size_t i;

	ck_assert_int_eq(req_roundtrip(&dec, &buf, &r, &rout), 0);
	ck_assert_uint_eq(rout.op, PROTO_OP_INFO);
	memset(&di, 0, sizeof(di));
	strcpy(di.version, "1.2.3");
	for (i = 0; i < proto_dinfo_nkeys; i++)
		*(uint64_t *)(void *)((char *)&di + proto_dinfo_keys[i].off) =
			((uint64_t)1 << 40) + i;
	ck_assert_int_eq(rep_roundtrip(&dec, &buf, &rep, &out), 0);
	ck_assert_ptr_nonnull(out.dinfo);
	ck_assert_mem_eq(out.dinfo, &di, sizeof(di));
	ck_assert_uint_eq(out.dinfo->pid, (uint64_t)1 << 40);
	ck_assert_uint_eq(proto_dinfo_keys[proto_dinfo_nkeys - 1].off,
			  offsetof(struct proto_dinfo, shared_bytes));
	ck_assert_uint_eq(out.dinfo->shared_bytes, ((uint64_t)1 << 40) +
			  proto_dinfo_nkeys - 1);
	rep.dinfo = NULL;
	ck_assert_int_eq(proto_enc_rep(&buf, &rep), IPC_EINVAL);
}
END_TEST

/* The INFO map from a newer daemon: {"puts": 5, "later": "x"}: puts read,
 * the unknown key skipped, the missing ones 0. */
START_TEST(test_dinfo_unknown_keys)
{
	struct proto_rep out;
	struct raw w;

	raw_rep_ok(&w, 7);
	msgpack_pack_map(&w.pk, 2);
	msgpack_pack_str_with_body(&w.pk, "puts", 4);
	msgpack_pack_uint64(&w.pk, 5);
	msgpack_pack_str_with_body(&w.pk, "later", 5);
	msgpack_pack_str_with_body(&w.pk, "x", 1);
	ck_assert_int_eq(raw_dec_rep(&w, &dec, PROTO_OP_INFO, &out), 0);
	ck_assert_uint_eq(out.dinfo->puts, 5);
	ck_assert_uint_eq(out.dinfo->gets, 0);
	ck_assert_str_eq(out.dinfo->version, "");
	raw_fini(&w);
}
END_TEST

/* An INFO map of PROTO_DINFO_KEYS_MAX keys decodes, one more does not. */
START_TEST(test_dinfo_keys_max)
{
	struct proto_rep out;
	struct raw w;
	size_t i;

	for (i = 0; i < 2; i++) {
		size_t k, n = PROTO_DINFO_KEYS_MAX + i;

		raw_rep_ok(&w, 7);
		msgpack_pack_map(&w.pk, n);
		for (k = 0; k < n; k++) {
			char key[16];

			snprintf(key, sizeof(key), "k%zu", k);
			msgpack_pack_str_with_body(&w.pk, key, strlen(key));
			msgpack_pack_uint32(&w.pk, 1);
		}
		ck_assert_int_eq(raw_dec_rep(&w, &dec, PROTO_OP_INFO, &out),
				 i ? IPC_EPROTO : 0);
		raw_fini(&w);
	}
}
END_TEST

/* INFO maps that are malformed: a version of 32 bytes (not a short str),
 * a negative count, an array instead of the map. */
START_TEST(test_dinfo_malformed)
{
	struct proto_rep out;
	struct raw w;
	size_t i;

	for (i = 0; i < 3; i++) {
		raw_rep_ok(&w, 7);
		if (i == 2) {
			msgpack_pack_array(&w.pk, 0);
		} else {
			msgpack_pack_map(&w.pk, 1);
			msgpack_pack_str_with_body(&w.pk, i ? "gets" : "version",
						   i ? 4 : 7);
			if (i)
				msgpack_pack_int64(&w.pk, -1);
			else
				msgpack_pack_str_with_body(&w.pk, "0123456789abcdef"
							   "0123456789abcdef", 32);
		}
		ck_assert_int_eq(raw_dec_rep(&w, &dec, PROTO_OP_INFO, &out), IPC_EPROTO);
		raw_fini(&w);
	}
}
END_TEST

START_TEST(test_ack_rep)
{
	static const unsigned char payload[] = { 0, 1, 2, 0xff };
	struct proto_info in = info_sample("q", 5);
	struct proto_rep r = { .op = PROTO_OP_QGETA, .id = 3, .data = payload,
			       .data_len = sizeof(payload),
			       .tag = (uint64_t)1 << 60 }, out;
	struct raw w;

	ck_assert_int_eq(rep_roundtrip(&dec, &buf, &r, &out), 0);
	ck_assert_uint_eq(out.data_len, sizeof(payload));
	ck_assert_mem_eq(out.data, payload, sizeof(payload));
	ck_assert_uint_eq(out.tag, (uint64_t)1 << 60);
	r = (struct proto_rep){ .op = PROTO_OP_QACK, .id = 4 };
	ck_assert_int_eq(rep_roundtrip(&dec, &buf, &r, &out), 0);
	r.status = IPC_ENOTHELD;
	ck_assert_int_eq(rep_roundtrip(&dec, &buf, &r, &out), 0);
	ck_assert_int_eq(out.status, IPC_ENOTHELD);
	/* A QGETA reply without its tag, or with a negative one. */
	raw_init(&w);
	msgpack_pack_array(&w.pk, 3);
	msgpack_pack_uint32(&w.pk, 3);
	msgpack_pack_int32(&w.pk, 0);
	msgpack_pack_bin(&w.pk, 0);
	ck_assert_int_eq(raw_dec_rep(&w, &dec, PROTO_OP_QGETA, &out), IPC_EPROTO);
	raw_fini(&w);
	raw_init(&w);
	msgpack_pack_array(&w.pk, 4);
	msgpack_pack_uint32(&w.pk, 3);
	msgpack_pack_int32(&w.pk, 0);
	msgpack_pack_bin(&w.pk, 0);
	msgpack_pack_int64(&w.pk, -1);
	ck_assert_int_eq(raw_dec_rep(&w, &dec, PROTO_OP_QGETA, &out), IPC_EPROTO);
	raw_fini(&w);
	/* The info keys inflight and requeued travel. */
	in.inflight = 77;
	in.requeued = (uint64_t)1 << 50;
	r = (struct proto_rep){ .op = PROTO_OP_STAT, .id = 5, .infos = &in,
				.ninfos = 1 };
	ck_assert_int_eq(rep_roundtrip(&dec, &buf, &r, &out), 0);
	ck_assert_uint_eq(out.infos[0].inflight, 77);
	ck_assert_uint_eq(out.infos[0].requeued, (uint64_t)1 << 50);
}
END_TEST

/* Found by fuzz_proto: an info without a name decoded as "", which the
 * encoder cannot send back. It is malformed now. */
START_TEST(test_rep_info_needs_name)
{
	struct proto_rep r;
	struct raw w;

	raw_init(&w);
	msgpack_pack_array(&w.pk, 3);
	msgpack_pack_uint32(&w.pk, 44);
	msgpack_pack_int32(&w.pk, 0);
	msgpack_pack_map(&w.pk, 1);
	raw_str(&w, "size");
	msgpack_pack_uint32(&w.pk, 1);
	ck_assert_int_eq(raw_dec_rep(&w, &dec, PROTO_OP_STAT, &r), IPC_EPROTO);
	ck_assert_str_eq(dec.err, "info has no name");
	raw_fini(&w);
	raw_init(&w);
	msgpack_pack_array(&w.pk, 3);
	msgpack_pack_uint32(&w.pk, 44);
	msgpack_pack_int32(&w.pk, 0);
	msgpack_pack_array(&w.pk, 1);
	msgpack_pack_map(&w.pk, 0);
	ck_assert_int_eq(raw_dec_rep(&w, &dec, PROTO_OP_LIST, &r), IPC_EPROTO);
	raw_fini(&w);
}
END_TEST

/* Found by fuzz_proto: an info with max_deliveries but no dead_letter
 * decoded, and the encoder sent it back with an empty dead_letter, which
 * no decoder takes. It is malformed now; with the name it decodes. */
START_TEST(test_rep_info_dlq_needs_name)
{
	struct proto_rep r;
	struct raw w;
	int with;

	for (with = 0; with < 2; with++) {
		raw_init(&w);
		msgpack_pack_array(&w.pk, 3);
		msgpack_pack_uint32(&w.pk, 44);
		msgpack_pack_int32(&w.pk, 0);
		msgpack_pack_map(&w.pk, 2 + with);
		raw_str(&w, "name");
		raw_str(&w, "jobs");
		raw_str(&w, "max_deliveries");
		msgpack_pack_uint32(&w.pk, 3);
		if (with) {
			raw_str(&w, "dead_letter");
			raw_str(&w, "dead");
		}
		ck_assert_int_eq(raw_dec_rep(&w, &dec, PROTO_OP_STAT, &r),
				 with ? 0 : IPC_EPROTO);
		if (!with)
			ck_assert_str_eq(dec.err, "info has max_deliveries but no dead_letter");
		else
			ck_assert_str_eq(r.infos[0].dead_letter, "dead");
		raw_fini(&w);
	}
}
END_TEST

/* --- batch ops (QPUTN, QGETN, PSENDN, PRECVN) ------------------------------ */

/* Two iov arrays hold the same payloads. */
static void iov_assert_equal(const struct proto_iov *a, size_t na,
			     const struct proto_iov *b, size_t nb)
{
	size_t i;

	ck_assert_uint_eq(na, nb);
	for (i = 0; i < na; i++) {
		ck_assert_uint_eq(a[i].len, b[i].len);
		if (a[i].len)
			ck_assert_mem_eq(a[i].base, b[i].base, a[i].len);
	}
}

START_TEST(test_req_batch_roundtrip)
{
	struct proto_iov iov[3] = { { (const unsigned char *)"one", 3, 0 },
				    { (const unsigned char *)"", 0, 0 },
				    { (const unsigned char *)"three", 5, 0 } };
	struct proto_req r = { .op = PROTO_OP_QPUTN, .id = 77, .iov = iov, .niov = 3,
			       .timeout_ms = 1500 };
	struct proto_req out;

	strcpy(r.name, "jobs");
	ck_assert_int_eq(req_roundtrip(&dec, &buf, &r, &out), 0);
	req_assert_equal(&r, &out);
	iov_assert_equal(iov, 3, out.iov, out.niov);
	r = (struct proto_req){ .op = PROTO_OP_QGETN, .id = 78, .max = IPC_BATCH_MAX,
				.timeout_ms = -1 };
	strcpy(r.name, "jobs");
	ck_assert_int_eq(req_roundtrip(&dec, &buf, &r, &out), 0);
	req_assert_equal(&r, &out);
	ck_assert_uint_eq(out.max, IPC_BATCH_MAX);
	r = (struct proto_req){ .op = PROTO_OP_PSENDN, .id = 79, .end = 1, .iov = iov,
				.niov = 2, .timeout_ms = 0 };
	strcpy(r.name, "p");
	ck_assert_int_eq(req_roundtrip(&dec, &buf, &r, &out), 0);
	ck_assert_uint_eq(out.end, 1);
	iov_assert_equal(iov, 2, out.iov, out.niov);
	r = (struct proto_req){ .op = PROTO_OP_PRECVN, .id = 80, .end = 0, .max = 5,
				.timeout_ms = 10 };
	strcpy(r.name, "p");
	ck_assert_int_eq(req_roundtrip(&dec, &buf, &r, &out), 0);
	ck_assert_uint_eq(out.max, 5);
	ck_assert_int_eq(out.timeout_ms, 10);
	/* The encoder refuses an empty batch. */
	r = (struct proto_req){ .op = PROTO_OP_QPUTN, .id = 81, .iov = iov, .niov = 0 };
	strcpy(r.name, "jobs");
	buf.len = 0;
	ck_assert_int_eq(proto_enc_req(&buf, &r), IPC_EINVAL);
	ck_assert_uint_eq(buf.len, 0);
}
END_TEST

/* Decode a raw [12, 3, "q", [n bins of len bytes], 0]. */
static int qputn_raw(unsigned n, size_t len, size_t msg_max, struct proto_req *r)
{
	static const unsigned char zero[64];
	struct raw w;
	unsigned i;
	int rc;

	raw_init(&w);
	raw_head(&w, 5, PROTO_OP_QPUTN, 3);
	raw_str(&w, "q");
	msgpack_pack_array(&w.pk, n);
	for (i = 0; i < n; i++) {
		msgpack_pack_bin(&w.pk, len);
		msgpack_pack_bin_body(&w.pk, zero, len);
	}
	msgpack_pack_int32(&w.pk, 0);
	rc = raw_dec_req(&w, &dec, msg_max, r);
	raw_fini(&w);
	return rc;
}

/* Decode a raw [13, 4, "q", max, 0] with max packed by pack. */
static int qgetn_raw(int64_t max, int as_str, struct proto_req *r)
{
	struct raw w;
	int rc;

	raw_init(&w);
	raw_head(&w, 5, PROTO_OP_QGETN, 4);
	raw_str(&w, "q");
	if (as_str)
		raw_str(&w, "5");
	else
		msgpack_pack_int64(&w.pk, max);
	msgpack_pack_int32(&w.pk, 0);
	rc = raw_dec_req(&w, &dec, IPC_MSG_MAX, r);
	raw_fini(&w);
	return rc;
}

START_TEST(test_req_batch_bad)
{
	static const unsigned char huge[] = { 0x95, 0x0c, 0x03, 0xa1, 'q',
					      0xdd, 0x00, 0x0f, 0x42, 0x40, 0x00 };
	struct proto_req r;
	struct raw w;

	ck_assert_int_eq(qputn_raw(IPC_BATCH_MAX, 1, 16, &r), 0);
	ck_assert_uint_eq(r.niov, IPC_BATCH_MAX);
	/* Out of range counts are answered, not fatal. */
	ck_assert_int_eq(qputn_raw(0, 1, 16, &r), IPC_EINVAL);
	ck_assert_uint_eq(r.id, 3);
	ck_assert_int_eq(qputn_raw(IPC_BATCH_MAX + 1, 1, 16, &r), IPC_EINVAL);
	/* Past the object limit: refused before msgpack-c allocates. */
	ck_assert_int_eq(qputn_raw(PROTO_REQ_ITEMS_MAX, 1, 16, &r), IPC_EPROTO);
	ck_assert_ptr_nonnull(strstr(dec.err, "objects"));
	/* An array count no frame bytes back: refused by the bound check. */
	ck_assert_int_eq(proto_dec_req(&dec, huge, sizeof(huge), 16, &r), IPC_EPROTO);
	/* One message over msg_max: the whole batch is too big. */
	ck_assert_int_eq(qputn_raw(3, 17, 16, &r), IPC_ETOOBIG);
	ck_assert_int_eq(qputn_raw(3, 16, 16, &r), 0);
	/* A batch holding a non-bin, or not an array: malformed. */
	raw_init(&w);
	raw_head(&w, 5, PROTO_OP_QPUTN, 3);
	raw_str(&w, "q");
	msgpack_pack_array(&w.pk, 2);
	msgpack_pack_bin(&w.pk, 0);
	raw_str(&w, "x");
	msgpack_pack_int32(&w.pk, 0);
	ck_assert_int_eq(raw_dec_req(&w, &dec, 16, &r), IPC_EPROTO);
	raw_fini(&w);
	raw_init(&w);
	raw_head(&w, 5, PROTO_OP_QPUTN, 3);
	raw_str(&w, "q");
	msgpack_pack_bin(&w.pk, 0);
	msgpack_pack_int32(&w.pk, 0);
	ck_assert_int_eq(raw_dec_req(&w, &dec, 16, &r), IPC_EPROTO);
	raw_fini(&w);
	/* QGETN's max: 1..IPC_BATCH_MAX, an unsigned integer. */
	ck_assert_int_eq(qgetn_raw(1, 0, &r), 0);
	ck_assert_int_eq(qgetn_raw(0, 0, &r), IPC_EINVAL);
	ck_assert_int_eq(qgetn_raw(IPC_BATCH_MAX + 1, 0, &r), IPC_EINVAL);
	ck_assert_int_eq(qgetn_raw(-1, 0, &r), IPC_EINVAL);
	ck_assert_int_eq(qgetn_raw(5, 1, &r), IPC_EPROTO);
}
END_TEST

START_TEST(test_rep_batch)
{
	struct proto_iov iov[2] = { { (const unsigned char *)"a", 1, 0 },
				    { (const unsigned char *)"bb", 2, 0 } };
	struct proto_rep r = { .op = PROTO_OP_QPUTN, .id = 5, .count = 7 };
	struct proto_rep out;
	struct raw w;

	ck_assert_int_eq(rep_roundtrip(&dec, &buf, &r, &out), 0);
	ck_assert_uint_eq(out.count, 7);
	r = (struct proto_rep){ .op = PROTO_OP_QGETN, .id = 6, .iov = iov, .niov = 2 };
	ck_assert_int_eq(rep_roundtrip(&dec, &buf, &r, &out), 0);
	iov_assert_equal(iov, 2, out.iov, out.niov);
	r.op = PROTO_OP_PRECVN;
	ck_assert_int_eq(rep_roundtrip(&dec, &buf, &r, &out), 0);
	iov_assert_equal(iov, 2, out.iov, out.niov);
	/* A batch get reply is never empty; the encoder refuses one. */
	r.niov = 0;
	buf.len = 0;
	ck_assert_int_eq(proto_enc_rep(&buf, &r), IPC_EINVAL);
	/* Malformed replies: count 0, an empty or non-bin batch. */
	raw_init(&w);
	msgpack_pack_array(&w.pk, 3);
	msgpack_pack_uint32(&w.pk, 5);
	msgpack_pack_int32(&w.pk, 0);
	msgpack_pack_uint32(&w.pk, 0);
	ck_assert_int_eq(raw_dec_rep(&w, &dec, PROTO_OP_QPUTN, &out), IPC_EPROTO);
	raw_fini(&w);
	raw_init(&w);
	msgpack_pack_array(&w.pk, 3);
	msgpack_pack_uint32(&w.pk, 6);
	msgpack_pack_int32(&w.pk, 0);
	msgpack_pack_array(&w.pk, 0);
	ck_assert_int_eq(raw_dec_rep(&w, &dec, PROTO_OP_QGETN, &out), IPC_EPROTO);
	raw_fini(&w);
	raw_init(&w);
	msgpack_pack_array(&w.pk, 3);
	msgpack_pack_uint32(&w.pk, 6);
	msgpack_pack_int32(&w.pk, 0);
	msgpack_pack_array(&w.pk, 1);
	raw_str(&w, "x");
	ck_assert_int_eq(raw_dec_rep(&w, &dec, PROTO_OP_QGETN, &out), IPC_EPROTO);
	raw_fini(&w);
}
END_TEST

START_TEST(test_bin_cost)
{
	static const size_t lens[] = { 0, 1, 255, 256, 65535, 65536, 100000 };
	static unsigned char zero[100000];
	struct proto_rep r = { .op = PROTO_OP_QGET, .id = 1, .data = zero };
	size_t i, base;

	/* The cost is what encoding really adds, at every size class. */
	buf.len = 0;
	r.data_len = 0;
	ck_assert_int_eq(proto_enc_rep(&buf, &r), 0);
	base = buf.len - proto_bin_cost(0);
	for (i = 0; i < sizeof(lens) / sizeof(lens[0]); i++) {
		buf.len = 0;
		r.data_len = lens[i];
		ck_assert_int_eq(proto_enc_rep(&buf, &r), 0);
		ck_assert_uint_eq(buf.len, base + proto_bin_cost(lens[i]));
	}
	ck_assert_uint_le(base, PROTO_BATCH_REP_OVERHEAD);
}
END_TEST

START_TEST(test_rep_peek_id)
{
	static const uint32_t ids[] = { 0, 1, 127, 128, 255, 256, 65535, 65536, UINT32_MAX };
	static const unsigned char bad[][6] = {
		{ 0x81, 0x01, 0x02 },             /* a map */
		{ 0x92, 0xff, 0x00 },             /* negative id */
		{ 0x92, 0xa1, 'x' },              /* str id */
		{ 0x92, 0xcd, 0x01 },             /* truncated uint16 */
		{ 0x91 },                         /* array of 1, no id */
	};
	struct proto_rep r = { .op = PROTO_OP_QPUT, .status = 0 };
	static const unsigned char big[] = { 0x92, 0xcf, 0, 0, 0, 1, 0, 0, 0, 0, 0 };
	uint32_t id;
	size_t i, n;

	for (i = 0; i < sizeof(ids) / sizeof(ids[0]); i++) {
		const unsigned char *pl;

		r.id = ids[i];
		r.status = i % 2 ? IPC_EFULL : 0;
		buf.len = 0;
		ck_assert_int_eq(proto_enc_rep(&buf, &r), 0);
		pl = frame_payload(&buf, &n);
		id = 12345;
		ck_assert_int_eq(proto_rep_peek_id(pl, n, &id), 0);
		ck_assert_uint_eq(id, ids[i]);
	}
	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
		ck_assert_int_eq(proto_rep_peek_id(bad[i], bad[i][0] == 0x91 ? 1 : 3, &id),
				 IPC_EPROTO);
	ck_assert_int_eq(proto_rep_peek_id(big, sizeof(big), &id), IPC_EPROTO);
	ck_assert_int_eq(proto_rep_peek_id(big, 0, &id), IPC_EPROTO);
}
END_TEST

/* --- suite ----------------------------------------------------------------- */

/* Add a fixture-backed TCase holding the given tests. */
static TCase *tcase(const char *name)
{
	TCase *tc = tcase_create(name);

	tcase_add_checked_fixture(tc, setup, teardown);
	return tc;
}

/* Every test of proto/. */
/* --- the table of ops (ops.h) -------------------------------------------- */

/* Encode QGETANY r into b (emptied first) and decode it back into *out
 * (pointing into b): the decoder's result. */
static int qgetany_roundtrip(struct pbuf *b, const struct proto_req *r,
			     struct proto_req *out)
{
	int rc;

	b->len = 0;
	rc = proto_enc_req(b, r);
	if (rc == 0)
		rc = proto_dec_req(&dec, b->data + PROTO_FRAME_HDR,
				   b->len - PROTO_FRAME_HDR, IPC_MSG_MAX, out);
	return rc;
}

/* QGETANY: its names, ack and lease go through; 1..IPC_GET_ANY_MAX valid
 * names or the request is answered with a value error; the reply's index
 * comes back. */
START_TEST(test_qgetany_fields)
{
	struct proto_iov names[IPC_GET_ANY_MAX + 1];
	struct proto_req r = { .op = PROTO_OP_QGETANY, .id = 7, .timeout_ms = -1,
			       .ack = 1, .lease_ms = 500, .names = names,
			       .nnames = 2 };
	struct proto_rep rep = { .op = PROTO_OP_QGETANY, .id = 7, .index = 1,
				 .data = (const unsigned char *)"m", .data_len = 1,
				 .tag = 42 }, back;
	struct proto_req out;
	struct pbuf b;
	size_t i;

	pbuf_init(&b);
	for (i = 0; i <= IPC_GET_ANY_MAX; i++)
		names[i] = (struct proto_iov){ .base = (const unsigned char *)"jobs", .len = 4 };
	names[1] = (struct proto_iov){ .base = (const unsigned char *)"urgent", .len = 6 };
	ck_assert_int_eq(qgetany_roundtrip(&b, &r, &out), 0);
	ck_assert_uint_eq(out.nnames, 2);
	ck_assert_mem_eq(out.names[1].base, "urgent", 6);
	ck_assert_uint_eq(out.names[1].len, 6);
	ck_assert_uint_eq(out.ack, 1);
	ck_assert_int_eq(out.lease_ms, 500);
	ck_assert_int_eq(out.timeout_ms, -1);
	r.nnames = IPC_GET_ANY_MAX;
	ck_assert_int_eq(qgetany_roundtrip(&b, &r, &out), 0);
	r.nnames = IPC_GET_ANY_MAX + 1;
	ck_assert_int_eq(qgetany_roundtrip(&b, &r, &out), IPC_EINVAL);
	ck_assert_uint_eq(out.id, 7);
	r.nnames = 2;
	names[1] = (struct proto_iov){ .base = (const unsigned char *)".x", .len = 2 };
	ck_assert_int_eq(qgetany_roundtrip(&b, &r, &out), IPC_ENAME);
	r.ack = 2;
	names[1] = names[0];
	ck_assert_int_eq(qgetany_roundtrip(&b, &r, &out), IPC_EINVAL);
	r.nnames = 0;
	b.len = 0;
	ck_assert_int_eq(proto_enc_req(&b, &r), IPC_EINVAL);
	ck_assert_int_eq(proto_enc_rep(&b, &rep), 0);
	ck_assert_int_eq(proto_dec_rep(&dec, b.data + PROTO_FRAME_HDR,
				       b.len - PROTO_FRAME_HDR, PROTO_OP_QGETANY,
				       &back), 0);
	ck_assert_uint_eq(back.index, 1);
	ck_assert_uint_eq(back.tag, 42);
	ck_assert_uint_eq(back.data_len, 1);
	pbuf_free(&b);
}
END_TEST

/* The op numbers of the rows of ops.h, in row order. */
static const uint32_t op_rows[] = {
#define T_OP_ROW(N, n, num, rq, opt, rp, park) num,
	PROTO_OPS(T_OP_ROW)
#undef T_OP_ROW
};

START_TEST(test_op_table)
{
	const size_t nrows = sizeof(op_rows) / sizeof(op_rows[0]);
	const struct proto_op_desc *d;
	uint32_t op;
	unsigned i, n;
	size_t k;

	/* Rows are in ascending order, the last one the highest. */
	for (k = 1; k < nrows; k++)
		ck_assert_uint_gt(op_rows[k], op_rows[k - 1]);
	ck_assert_uint_eq(op_rows[nrows - 1], PROTO_OP__MAX - 1);
	/* A number with no row (kept for an op landing from another branch)
	 * names nothing. */
	for (op = 1; op < PROTO_OP__MAX; op++)
		if (proto_op(op) == NULL)
			ck_assert_str_eq(proto_op_name(op), "?");
	/* Every row is found by its number and its field lists end within
	 * the row; logs and errors name ops, never numbers. */
	for (k = 0; k < nrows; k++) {
		op = op_rows[k];
		d = proto_op(op);
		ck_assert_ptr_nonnull(d);
		ck_assert_str_eq(proto_op_name(op), d->name);
		n = proto_op_nreq(d);
		ck_assert_uint_lt(n, PROTO_FIELDS_MAX);
		ck_assert_uint_eq(d->req[n], RQ_NONE);
		ck_assert_uint_le(d->req_optional, n);
		i = proto_op_nrep(d);
		ck_assert_uint_lt(i, PROTO_FIELDS_MAX);
		ck_assert_uint_eq(d->rep[i], RP_NONE);
	}
	ck_assert_str_eq(proto_op_name(PROTO_OP_QPUT), "QPUT");
	ck_assert_str_eq(proto_op_name(PROTO_OP_QACK), "QACK");
	ck_assert_int_eq(proto_op(PROTO_OP_QGETN)->parks, PROTO_PARKS);
	ck_assert_int_eq(proto_op(PROTO_OP_LIST)->parks, PROTO_NOPARK);
	ck_assert_ptr_null(proto_op(0));
	ck_assert_ptr_null(proto_op(PROTO_OP__MAX));
	ck_assert_str_eq(proto_op_name(PROTO_OP__MAX), "?");
}
END_TEST

/* Elements of the request array r encodes to. */
static unsigned req_elements(const struct proto_req *r)
{
	buf.len = 0;
	ck_assert_int_eq(proto_enc_req(&buf, r), 0);
	ck_assert_uint_ge(buf.data[4], 0x92);
	ck_assert_uint_le(buf.data[4], 0x9f);
	return buf.data[4] & 0x0f;
}

START_TEST(test_req_list_cursor)
{
	struct proto_req r = { .op = PROTO_OP_LIST, .id = 5 }, out;
	struct raw w;

	/* No cursor: [7, id], as before paging. */
	ck_assert_uint_eq(req_elements(&r), 2);
	ck_assert_int_eq(req_roundtrip(&dec, &buf, &r, &out), 0);
	ck_assert_str_eq(out.name, "");
	/* A cursor: [7, id, after]. */
	strcpy(r.name, "jobs.b");
	ck_assert_uint_eq(req_elements(&r), 3);
	ck_assert_int_eq(req_roundtrip(&dec, &buf, &r, &out), 0);
	req_assert_equal(&r, &out);
	/* An explicit "" is the start too; a bad name is IPC_ENAME. */
	raw_init(&w);
	raw_head(&w, 3, PROTO_OP_LIST, 6);
	raw_str(&w, "");
	ck_assert_int_eq(raw_dec_req(&w, &dec, IPC_MSG_MAX, &out), 0);
	ck_assert_str_eq(out.name, "");
	raw_fini(&w);
	raw_init(&w);
	raw_head(&w, 3, PROTO_OP_LIST, 6);
	raw_str(&w, "bad name");
	ck_assert_int_eq(raw_dec_req(&w, &dec, IPC_MSG_MAX, &out), IPC_ENAME);
	ck_assert_uint_eq(out.id, 6);
	raw_fini(&w);
	/* Not a str, or a fourth element: malformed. */
	raw_init(&w);
	raw_head(&w, 3, PROTO_OP_LIST, 6);
	msgpack_pack_uint32(&w.pk, 1);
	ck_assert_int_eq(raw_dec_req(&w, &dec, IPC_MSG_MAX, &out), IPC_EPROTO);
	raw_fini(&w);
	raw_init(&w);
	raw_head(&w, 4, PROTO_OP_LIST, 6);
	raw_str(&w, "a");
	raw_str(&w, "b");
	ck_assert_int_eq(raw_dec_req(&w, &dec, IPC_MSG_MAX, &out), IPC_EPROTO);
	ck_assert_ptr_nonnull(strstr(dec.err, "LIST request has 4 elements"));
	raw_fini(&w);
}
END_TEST

START_TEST(test_rep_list_more)
{
	struct proto_info in[2] = { info_sample("a", 1), info_sample("b", 2) };
	struct proto_rep r = { .op = PROTO_OP_LIST, .id = 4, .infos = in,
			       .ninfos = 2, .more = 1 }, out;
	struct raw w;

	ck_assert_int_eq(rep_roundtrip(&dec, &buf, &r, &out), 0);
	ck_assert_uint_eq(out.more, 1);
	ck_assert_uint_eq(out.ninfos, 2);
	r.more = 0;
	ck_assert_int_eq(rep_roundtrip(&dec, &buf, &r, &out), 0);
	ck_assert_uint_eq(out.more, 0);
	/* more is 0 or 1; the page holds at most PROTO_LIST_PAGE infos; the
	 * reply has exactly 4 elements. */
	raw_init(&w);
	msgpack_pack_array(&w.pk, 4);
	msgpack_pack_uint32(&w.pk, 4);
	msgpack_pack_int32(&w.pk, 0);
	msgpack_pack_array(&w.pk, 0);
	msgpack_pack_uint32(&w.pk, 2);
	ck_assert_int_eq(raw_dec_rep(&w, &dec, PROTO_OP_LIST, &out), IPC_EPROTO);
	raw_fini(&w);
	raw_init(&w);
	msgpack_pack_array(&w.pk, 4);
	msgpack_pack_uint32(&w.pk, 4);
	msgpack_pack_int32(&w.pk, 0);
	msgpack_pack_array(&w.pk, PROTO_LIST_PAGE + 1);
	for (unsigned i = 0; i <= PROTO_LIST_PAGE; i++) {
		msgpack_pack_map(&w.pk, 1);
		raw_str(&w, "name");
		raw_str(&w, "x");
	}
	msgpack_pack_uint32(&w.pk, 0);
	ck_assert_int_eq(raw_dec_rep(&w, &dec, PROTO_OP_LIST, &out), IPC_EPROTO);
	raw_fini(&w);
	raw_init(&w);
	msgpack_pack_array(&w.pk, 3);
	msgpack_pack_uint32(&w.pk, 4);
	msgpack_pack_int32(&w.pk, 0);
	msgpack_pack_array(&w.pk, 0);
	ck_assert_int_eq(raw_dec_rep(&w, &dec, PROTO_OP_LIST, &out), IPC_EPROTO);
	ck_assert_ptr_nonnull(strstr(dec.err, "LIST reply has 3 elements"));
	raw_fini(&w);
}
END_TEST

/* A LIST reply of [id, 0, infos, 0] whose infos array holds n nils. */
static void raw_list_of_nils(struct raw *w, uint32_t n)
{
	raw_init(w);
	msgpack_pack_array(&w->pk, 4);
	msgpack_pack_uint32(&w->pk, 4);
	msgpack_pack_int32(&w->pk, 0);
	msgpack_pack_array(&w->pk, n);
	for (uint32_t i = 0; i < n; i++)
		msgpack_pack_nil(&w->pk);
	msgpack_pack_uint32(&w->pk, 0);
}

/* An info map named name with nkeys keys: the known ones first, then
 * unknown ones a newer daemon might send. */
static void raw_info_keys(struct raw *w, const char *name, unsigned nkeys)
{
	static const char *const known[] = { "name", "kind", "size", "bytes" };
	char key[16];

	msgpack_pack_map(&w->pk, nkeys);
	for (unsigned k = 0; k < nkeys; k++) {
		if (k < 4) {
			raw_str(w, known[k]);
		} else {
			snprintf(key, sizeof(key), "future%u", k);
			raw_str(w, key);
		}
		if (k == 0)
			raw_str(w, name);
		else
			msgpack_pack_uint32(&w->pk, k);
	}
}

/* A reply is bounded per op before msgpack-c allocates for it, as a
 * request is: a hostile daemon's LIST page of a million objects is
 * refused by the bounds check (not decoded, then refused), a batch of
 * more than IPC_BATCH_MAX bins and an info of more than
 * PROTO_INFO_KEYS_MAX keys are malformed, and the largest legitimate
 * page still decodes. */
START_TEST(test_rep_items_bounded)
{
	struct proto_rep out;
	struct raw w;
	char name[16];

	raw_list_of_nils(&w, 1000000);
	ck_assert_int_eq(raw_dec_rep(&w, &dec, PROTO_OP_LIST, &out), IPC_EPROTO);
	ck_assert_msg(strstr(dec.err, "more than") != NULL, "%s", dec.err);
	raw_fini(&w);
	/* A batch reply with one bin too many. */
	raw_init(&w);
	msgpack_pack_array(&w.pk, 3);
	msgpack_pack_uint32(&w.pk, 5);
	msgpack_pack_int32(&w.pk, 0);
	msgpack_pack_array(&w.pk, IPC_BATCH_MAX + 1);
	for (unsigned i = 0; i <= IPC_BATCH_MAX; i++)
		msgpack_pack_bin_with_body(&w.pk, "", 0);
	ck_assert_int_eq(raw_dec_rep(&w, &dec, PROTO_OP_QGETN, &out), IPC_EPROTO);
	raw_fini(&w);
	/* A STAT info of PROTO_INFO_KEYS_MAX keys decodes, one more does not. */
	for (unsigned extra = 0; extra < 2; extra++) {
		raw_init(&w);
		msgpack_pack_array(&w.pk, 3);
		msgpack_pack_uint32(&w.pk, 6);
		msgpack_pack_int32(&w.pk, 0);
		raw_info_keys(&w, "q", PROTO_INFO_KEYS_MAX + extra);
		ck_assert_int_eq(raw_dec_rep(&w, &dec, PROTO_OP_STAT, &out),
				 extra ? IPC_EPROTO : 0);
		raw_fini(&w);
	}
	/* The fullest page a daemon may send: every info at the key bound. */
	raw_init(&w);
	msgpack_pack_array(&w.pk, 4);
	msgpack_pack_uint32(&w.pk, 4);
	msgpack_pack_int32(&w.pk, 0);
	msgpack_pack_array(&w.pk, PROTO_LIST_PAGE);
	for (unsigned i = 0; i < PROTO_LIST_PAGE; i++) {
		snprintf(name, sizeof(name), "q%04u", i);
		raw_info_keys(&w, name, PROTO_INFO_KEYS_MAX);
	}
	msgpack_pack_uint32(&w.pk, 1);
	ck_assert_int_eq(raw_dec_rep(&w, &dec, PROTO_OP_LIST, &out), 0);
	ck_assert_uint_eq(out.ninfos, PROTO_LIST_PAGE);
	ck_assert_str_eq(out.infos[PROTO_LIST_PAGE - 1].name, "q0511");
	raw_fini(&w);
	/* The bounds PROTOCOL.md states. */
	ck_assert_uint_eq(proto_rep_items_max(PROTO_OP_QPUT), 5);
	ck_assert_uint_eq(proto_rep_items_max(PROTO_OP_QGETN), IPC_BATCH_MAX + 4);
	ck_assert_uint_eq(proto_rep_items_max(PROTO_OP_STAT), 132);
	ck_assert_uint_eq(proto_rep_items_max(PROTO_OP_LIST), 66053);
}
END_TEST

START_TEST(test_req_pattach_mode)
{
	struct proto_req r = { .op = PROTO_OP_PATTACH, .id = 9, .end = 1,
			       .flags = PROTO_PIPE_CREATE, .has_mode = 1,
			       .mode = 0600 }, out;
	struct raw w;

	strcpy(r.name, "p");
	/* The mode is an eighth element, sent only with has_mode. */
	ck_assert_uint_eq(req_elements(&r), 8);
	ck_assert_int_eq(req_roundtrip(&dec, &buf, &r, &out), 0);
	ck_assert_int_eq(out.has_mode, 1);
	ck_assert_uint_eq(out.mode, 0600);
	ck_assert_uint_eq(out.end, 1);
	r.has_mode = 0;
	ck_assert_uint_eq(req_elements(&r), 7);
	ck_assert_int_eq(req_roundtrip(&dec, &buf, &r, &out), 0);
	ck_assert_int_eq(out.has_mode, 0);
	raw_init(&w);
	raw_head(&w, 8, PROTO_OP_PATTACH, 9);
	raw_str(&w, "p");
	msgpack_pack_uint32(&w.pk, 0);
	msgpack_pack_uint32(&w.pk, PROTO_PIPE_CREATE);
	msgpack_pack_int32(&w.pk, 0);
	msgpack_pack_int32(&w.pk, 0);
	msgpack_pack_uint32(&w.pk, 01000);
	ck_assert_int_eq(raw_dec_req(&w, &dec, IPC_MSG_MAX, &out), IPC_EINVAL);
	ck_assert_ptr_nonnull(strstr(dec.err, "mode"));
	raw_fini(&w);
}
END_TEST

START_TEST(test_rep_version_field)
{
	struct proto_rep r = { .op = PROTO_OP_HELLO, .id = 3,
			       .status = IPC_EVERSION, .detail = "speak 1",
			       .version = IPC_PROTO_VERSION }, out;

	/* [id, -3, detail, version]: the daemon's version as a field. */
	ck_assert_int_eq(rep_roundtrip(&dec, &buf, &r, &out), 0);
	ck_assert_int_eq(out.status, IPC_EVERSION);
	ck_assert_str_eq(out.detail, "speak 1");
	ck_assert_uint_eq(out.version, IPC_PROTO_VERSION);
	ck_assert_uint_eq(buf.data[4], 0x94);
	/* Without a detail it still has one (empty) to keep the position. */
	r.detail = NULL;
	ck_assert_int_eq(rep_roundtrip(&dec, &buf, &r, &out), 0);
	ck_assert_str_eq(out.detail, "");
	ck_assert_uint_eq(out.version, IPC_PROTO_VERSION);
	/* Other statuses never take a fourth element. */
	r.status = IPC_EPROTO;
	r.detail = "x";
	ck_assert_int_eq(rep_roundtrip(&dec, &buf, &r, &out), 0);
	ck_assert_uint_eq(buf.data[4], 0x93);
	ck_assert_uint_eq(out.version, 0);
}
END_TEST

START_TEST(test_req_id_echo)
{
	struct proto_req r;
	struct raw w;
	uint32_t id = 0;
	unsigned i;

	/* A 1035-bin QPUTN fails the pre-decode bound, yet its id is read. */
	raw_init(&w);
	raw_head(&w, 5, PROTO_OP_QPUTN, 77);
	raw_str(&w, "q");
	msgpack_pack_array(&w.pk, 1035);
	for (i = 0; i < 1035; i++)
		msgpack_pack_bin(&w.pk, 0);
	msgpack_pack_int32(&w.pk, 0);
	ck_assert_int_eq(raw_dec_req(&w, &dec, IPC_MSG_MAX, &r), IPC_EPROTO);
	ck_assert_uint_eq(r.id, 77);
	raw_fini(&w);
	/* Bad msgpack after a readable head, any width of op and id. */
	{
		const unsigned char bad[] = { 0x93, 0xd0, 0xff, 0xce, 0, 1, 0, 0, 0xc1 };
		const unsigned char noid[] = { 0x93, 0x03, 0xa1, 'x', 0xc1 };

		ck_assert_int_eq(proto_req_peek_id(bad, sizeof(bad), &id), 0);
		ck_assert_uint_eq(id, 65536);
		ck_assert_int_eq(proto_dec_req(&dec, bad, sizeof(bad), IPC_MSG_MAX, &r),
				 IPC_EPROTO);
		ck_assert_uint_eq(r.id, 65536);
		ck_assert_int_eq(proto_req_peek_id(noid, sizeof(noid), &id), IPC_EPROTO);
		ck_assert_int_eq(proto_dec_req(&dec, noid, sizeof(noid), IPC_MSG_MAX, &r),
				 IPC_EPROTO);
		ck_assert_uint_eq(r.id, 0);
		ck_assert_int_eq(proto_req_peek_id(bad, 4, &id), IPC_EPROTO);
	}
}
END_TEST

/* HELLO's caps: absent, the request and reply keep their old shape;
 * present, the reply carries the optional tail; a reply with or without
 * it decodes. */
START_TEST(test_hello_caps)
{
	struct proto_req r = { .op = PROTO_OP_HELLO, .id = 1, .version = 1 }, out;
	struct proto_rep rep = { .op = PROTO_OP_HELLO, .id = 1, .version = 1,
				 .msg_max = 100 }, rout;

	ck_assert_int_eq(req_roundtrip(&dec, &buf, &r, &out), 0);
	ck_assert_int_eq(out.has_caps, 0);
	ck_assert_uint_eq(buf.data[PROTO_FRAME_HDR], 0x93);  /* [1, id, 1] */
	r.has_caps = 1;
	r.caps = PROTO_CAP_MEMFD | 0x80;
	ck_assert_int_eq(req_roundtrip(&dec, &buf, &r, &out), 0);
	ck_assert_int_eq(out.has_caps, 1);
	ck_assert_uint_eq(out.caps, PROTO_CAP_MEMFD | 0x80);
	ck_assert_int_eq(rep_roundtrip(&dec, &buf, &rep, &rout), 0);
	ck_assert_int_eq(rout.has_caps, 0);
	ck_assert_uint_eq(buf.data[PROTO_FRAME_HDR], 0x94);
	rep.has_caps = 1;
	rep.caps = PROTO_CAP_MEMFD;
	rep.memfd_max = 64u << 20;
	rep.memfd_min = 65536;
	ck_assert_int_eq(rep_roundtrip(&dec, &buf, &rep, &rout), 0);
	ck_assert_uint_eq(buf.data[PROTO_FRAME_HDR], 0x97);
	ck_assert_int_eq(rout.has_caps, 1);
	ck_assert_uint_eq(rout.caps, PROTO_CAP_MEMFD);
	ck_assert_uint_eq(rout.memfd_max, 64u << 20);
	ck_assert_uint_eq(rout.memfd_min, 65536);
}
END_TEST

/* Memfd markers: a QPUT's and a batch's payloads round-trip as markers
 * (descriptor numbers in frame order, lengths over msg_max allowed up to
 * memfd_max), refused without the capability or out of order; a reply's
 * markers decode the same way. */
START_TEST(test_memfd_markers)
{
	struct proto_iov iov[3] = { { NULL, 200000, 1 },
				    { (const unsigned char *)"ab", 2, 0 },
				    { NULL, 5u << 20, 2 } };
	struct proto_req r = { .op = PROTO_OP_QPUT, .id = 2, .name = "q",
			       .data_len = 3u << 20, .data_memfd = 1 }, out;
	struct proto_rep rep = { .op = PROTO_OP_QGETN, .id = 3, .iov = iov,
				 .niov = 3 }, rout;

	/* Without the capability, a marker is malformed. */
	ck_assert_int_eq(req_roundtrip(&dec, &buf, &r, &out), IPC_EPROTO);
	dec.memfd_max = 4u << 20;
	ck_assert_int_eq(req_roundtrip(&dec, &buf, &r, &out), 0);
	ck_assert_uint_eq(out.data_memfd, 1);
	ck_assert_uint_eq(out.data_len, 3u << 20);
	ck_assert_uint_eq(out.nfds, 1);
	r.data_len = (4u << 20) + 1;
	ck_assert_int_eq(req_roundtrip(&dec, &buf, &r, &out), IPC_ETOOBIG);
	/* The second marker of a frame must name descriptor 1. */
	r = (struct proto_req){ .op = PROTO_OP_QPUTN, .id = 4, .name = "q",
				.iov = iov, .niov = 3 };
	iov[2].len = 100;
	ck_assert_int_eq(req_roundtrip(&dec, &buf, &r, &out), 0);
	ck_assert_uint_eq(out.nfds, 2);
	ck_assert_uint_eq(out.iov[0].memfd, 1);
	ck_assert_uint_eq(out.iov[1].memfd, 0);
	ck_assert_uint_eq(out.iov[2].memfd, 2);
	ck_assert_uint_eq(out.iov[2].len, 100);
	iov[2].memfd = 1;
	ck_assert_int_eq(req_roundtrip(&dec, &buf, &r, &out), IPC_EPROTO);
	iov[2].memfd = 2;
	dec.memfd_max = 0;
	ck_assert_int_eq(rep_roundtrip(&dec, &buf, &rep, &rout), 0);
	ck_assert_uint_eq(rout.nfds, 2);
	ck_assert_uint_eq(rout.iov[0].memfd, 1);
	ck_assert_uint_eq(rout.iov[0].len, 200000);
	ck_assert_uint_eq(rout.iov[1].len, 2);
	ck_assert(memcmp(rout.iov[1].base, "ab", 2) == 0);
	ck_assert_uint_eq(rout.iov[2].memfd, 2);
	/* Another ext type stays malformed. */
	buf.len = 0;
	ck_assert_int_eq(proto_enc_rep(&buf, &rep), 0);
	buf.data[PROTO_FRAME_HDR + 5] = 0x6c;  /* [id, 0, [fixext8 type ...: */
	ck_assert_uint_eq(buf.data[PROTO_FRAME_HDR + 4], 0xd7);
	ck_assert_int_eq(proto_dec_rep(&dec, buf.data + PROTO_FRAME_HDR,
				       buf.len - PROTO_FRAME_HDR, rep.op, &rout), IPC_EPROTO);
}
END_TEST

/* Add the cases of reply decoding, pipe, ack, batch, ops and fuzz to s. */
static void proto_suite_ops(Suite *s);

/* The suite: framing, round trips, checks and request decoding here, the
 * rest in proto_suite_ops. */
static Suite *proto_suite(void)
{
	Suite *s = suite_create("proto");
	TCase *tc;

	tc = tcase("frame");
	tcase_add_test(tc, test_pbuf_grow_consume);
	tcase_add_test(tc, test_pbuf_reserve_upto);
	tcase_add_test(tc, test_peek_partial_header);
	tcase_add_test(tc, test_peek_partial_payload);
	tcase_add_test(tc, test_peek_bad_length);
	tcase_add_test(tc, test_peek_exactly_max);
	tcase_add_test(tc, test_peek_stream_of_frames);
	suite_add_tcase(s, tc);

	tc = tcase("roundtrip");
	tcase_add_test(tc, test_req_hello);
	tcase_add_test(tc, test_req_qopen);
	tcase_add_test(tc, test_req_qopen_mode);
	tcase_add_test(tc, test_req_qopen_dead_letter_roundtrip);
	tcase_add_test(tc, test_qgetany_fields);
	tcase_add_test(tc, test_req_qput);
	tcase_add_test(tc, test_req_qput_empty_payload);
	tcase_add_test(tc, test_req_qget_stat_qdel_list);
	tcase_add_test(tc, test_enc_req_invalid);
	tcase_add_test(tc, test_enc_req_frame_too_big);
	tcase_add_test(tc, test_rep_hello_qopen);
	tcase_add_test(tc, test_rep_qput_qget_qdel);
	tcase_add_test(tc, test_rep_stat_list);
	tcase_add_test(tc, test_rep_error_detail);
	tcase_add_test(tc, test_enc_rep_invalid);
	suite_add_tcase(s, tc);

	tc = tcase("check");
	tcase_add_test(tc, test_check_array32_huge);
	tcase_add_test(tc, test_check_map32_huge);
	tcase_add_test(tc, test_check_str_bin_past_end);
	tcase_add_test(tc, test_check_depth);
	tcase_add_test(tc, test_check_trailing);
	tcase_add_test(tc, test_check_truncated_everywhere);
	tcase_add_test(tc, test_check_ext_rejected);
	tcase_add_test(tc, test_check_accepts_every_type);
	tcase_add_test(tc, test_check_items_limit);
	suite_add_tcase(s, tc);

	tc = tcase("dec_req");
	tcase_add_test(tc, test_req_unknown_op);
	tcase_add_test(tc, test_req_bad_id);
	tcase_add_test(tc, test_req_bad_shape);
	tcase_add_test(tc, test_req_wrong_field_types);
	tcase_add_test(tc, test_req_wrong_type_outranks);
	tcase_add_test(tc, test_req_ranges);
	tcase_add_test(tc, test_req_names);
	tcase_add_test(tc, test_req_too_big);
	suite_add_tcase(s, tc);

	proto_suite_ops(s);
	return s;
}

/* Add the cases of reply decoding, pipe, ack, batch, ops and fuzz to s. */
static void proto_suite_ops(Suite *s)
{
	TCase *tc;

	tc = tcase("dec_rep");
	tcase_add_test(tc, test_rep_error_shapes);
	tcase_add_test(tc, test_rep_info_forward_compat);
	tcase_add_test(tc, test_rep_info_malformed);
	tcase_add_test(tc, test_strerror_all);
	suite_add_tcase(s, tc);

	tc = tcase("pipe");
	tcase_add_test(tc, test_req_pipe_roundtrip);
	tcase_add_test(tc, test_rep_pipe_roundtrip);
	tcase_add_test(tc, test_req_pipe_ranges);
	tcase_add_test(tc, test_req_pipe_bad_end);
	tcase_add_test(tc, test_req_pipe_wrong_length);
	tcase_add_test(tc, test_req_pipe_bad_timeout_data);
	tcase_add_test(tc, test_req_pattach_bad_fields);
	tcase_add_test(tc, test_rep_pipe_bad);
	suite_add_tcase(s, tc);

	tc = tcase("ack");
	tcase_add_test(tc, test_ack_req_roundtrip);
	tcase_add_test(tc, test_qgeta_req_bad);
	tcase_add_test(tc, test_qack_req_bad);
	tcase_add_test(tc, test_ack_rep);
	tcase_add_test(tc, test_admin_roundtrip);
	tcase_add_test(tc, test_rep_info_needs_name);
	tcase_add_test(tc, test_rep_info_dlq_needs_name);
	tcase_add_test(tc, test_dinfo_roundtrip);
	tcase_add_test(tc, test_dinfo_unknown_keys);
	tcase_add_test(tc, test_dinfo_keys_max);
	tcase_add_test(tc, test_dinfo_malformed);
	suite_add_tcase(s, tc);

	tc = tcase("batch");
	tcase_add_test(tc, test_req_batch_roundtrip);
	tcase_add_test(tc, test_req_batch_bad);
	tcase_add_test(tc, test_rep_batch);
	tcase_add_test(tc, test_bin_cost);
	tcase_add_test(tc, test_rep_peek_id);
	suite_add_tcase(s, tc);

	tc = tcase("ops");
	tcase_add_test(tc, test_op_table);
	tcase_add_test(tc, test_req_list_cursor);
	tcase_add_test(tc, test_rep_list_more);
	tcase_add_test(tc, test_rep_items_bounded);
	tcase_add_test(tc, test_req_pattach_mode);
	tcase_add_test(tc, test_rep_version_field);
	tcase_add_test(tc, test_req_id_echo);
	tcase_add_test(tc, test_hello_caps);
	tcase_add_test(tc, test_memfd_markers);
	suite_add_tcase(s, tc);

	tc = tcase("fuzz");
	tcase_set_timeout(tc, 600);
	tcase_add_test(tc, test_fuzz_random_bytes);
	tcase_add_test(tc, test_fuzz_mutated_frames);
	suite_add_tcase(s, tc);
}

/* Run the suite; the exit status is the number of failures (capped). */
int main(void)
{
	SRunner *sr = srunner_create(proto_suite());
	int failed;

	srunner_run_all(sr, CK_NORMAL);
	failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}
