/* SPDX-License-Identifier: MIT */
/*
 * fuzz_proto.c: fuzz target of the pure wire layer. Every payload goes
 * through proto_check, proto_check_items, proto_dec_req and proto_dec_rep
 * (as a reply to every op); whatever decodes is encoded again, decoded
 * again and encoded a third time, and the two encodings must be the same
 * bytes: the decoder accepts nothing the encoder cannot say the same way.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "fuzz.h"
#include "proto.h"

/* Decoders and buffers, reused from input to input like the daemon's. */
static struct proto_dec fz_dec, fz_dec2;
static struct pbuf fz_out1, fz_out2;

/* Report a broken property and abort, so the fuzzer keeps the input. */
static void fz_fail(const char *what, unsigned op)
{
	fprintf(stderr, "fuzz_proto: %s (op %u)\n", what, op);
	abort();
}

/* Set up the decoders once. */
static void fz_init(void)
{
	static int ready;

	if (ready)
		return;
	if (proto_dec_init(&fz_dec) || proto_dec_init(&fz_dec2))
		abort();
	pbuf_init(&fz_out1);
	pbuf_init(&fz_out2);
	ready = 1;
}

/* The payload of the one whole frame in b. */
static const unsigned char *fz_payload(const struct pbuf *b, size_t *n, unsigned op)
{
	if (proto_frame_peek(b->data, b->len, PROTO_FRAME_MAX) != (long)b->len)
		fz_fail("encoder made a frame peek does not accept", op);
	*n = b->len - PROTO_FRAME_HDR;
	return b->data + PROTO_FRAME_HDR;
}

/* A decoded request must survive encode, decode, encode unchanged. */
static void fz_req_roundtrip(const struct proto_req *r)
{
	struct proto_req r2;
	const unsigned char *p;
	size_t n;

	fz_out1.len = 0;
	if (proto_enc_req(&fz_out1, r) != 0)
		fz_fail("decoded request does not encode", r->op);
	p = fz_payload(&fz_out1, &n, r->op);
	if (proto_dec_req(&fz_dec2, p, n, IPC_MSG_MAX, &r2) != 0)
		fz_fail("re-encoded request does not decode", r->op);
	if (r2.op != r->op || r2.id != r->id || strcmp(r2.name, r->name) ||
	    r2.data_len != r->data_len || r2.data_memfd != r->data_memfd ||
	    r2.nfds != r->nfds ||
	    (r->data_len && !r->data_memfd && memcmp(r2.data, r->data, r->data_len)))
		fz_fail("request changed in a round trip", r->op);
	fz_out2.len = 0;
	if (proto_enc_req(&fz_out2, &r2) != 0 || fz_out2.len != fz_out1.len ||
	    memcmp(fz_out1.data, fz_out2.data, fz_out1.len))
		fz_fail("request encodes differently after a round trip", r->op);
}

/* A decoded reply must survive encode, decode, encode unchanged. */
static void fz_rep_roundtrip(const struct proto_rep *r)
{
	struct proto_rep r2;
	const unsigned char *p;
	size_t n;

	fz_out1.len = 0;
	if (proto_enc_rep(&fz_out1, r) != 0)
		fz_fail("decoded reply does not encode", r->op);
	p = fz_payload(&fz_out1, &n, r->op);
	if (proto_dec_rep(&fz_dec2, p, n, r->op, &r2) != 0)
		fz_fail("re-encoded reply does not decode", r->op);
	if (r2.id != r->id || r2.status != r->status ||
	    r2.data_len != r->data_len || r2.ninfos != r->ninfos ||
	    r2.tag != r->tag)
		fz_fail("reply changed in a round trip", r->op);
	fz_out2.len = 0;
	if (proto_enc_rep(&fz_out2, &r2) != 0 || fz_out2.len != fz_out1.len ||
	    memcmp(fz_out1.data, fz_out2.data, fz_out1.len))
		fz_fail("reply encodes differently after a round trip", r->op);
}

/* Every decoder over one payload. */
static void fz_one_payload(const unsigned char *p, size_t n)
{
	struct proto_req req;
	struct proto_rep rep;
	char err[128];
	uint32_t op;
	int rc;

	(void)proto_check(p, n, PROTO_DEPTH_MAX, err, sizeof(err));
	(void)proto_check_items(p, n, 32, PROTO_REQ_ITEMS_MAX, err, sizeof(err));
	/* Half the payloads as from a connection granted MEMFD (markers). */
	fz_dec.memfd_max = fz_dec2.memfd_max = (n & 1) ? 64u << 20 : 0;
	rc = proto_dec_req(&fz_dec, p, n, IPC_MSG_MAX, &req);
	if (rc == 0)
		fz_req_roundtrip(&req);
	else if (rc != IPC_EPROTO && rc != IPC_ENAME && rc != IPC_EINVAL &&
		 rc != IPC_ETOOBIG && rc != IPC_ENOMEM)
		fz_fail("request decoder returned an undocumented code", req.op);
	for (op = 1; op < PROTO_OP__MAX; op++) {
		rc = proto_dec_rep(&fz_dec, p, n, op, &rep);
		if (rc == 0)
			fz_rep_roundtrip(&rep);
		else if (rc != IPC_EPROTO && rc != IPC_ENOMEM)
			fz_fail("reply decoder returned an undocumented code", op);
	}
}

/* One input: a stream of frames, or one bare payload. */
int fuzz_proto_one(const unsigned char *data, size_t n)
{
	size_t off = 0;
	long fl;

	fz_init();
	(void)proto_frame_peek(data, n, 64);
	while (n - off >= PROTO_FRAME_HDR) {
		fl = proto_frame_peek(data + off, n - off, PROTO_FRAME_MAX);
		if (fl <= 0)
			break;
		if ((size_t)fl > n - off || fl < (long)PROTO_FRAME_HDR + 1)
			fz_fail("frame peek overran the input", 0);
		fz_one_payload(data + off + PROTO_FRAME_HDR,
			       (size_t)fl - PROTO_FRAME_HDR);
		off += (size_t)fl;
	}
	if (off == 0 && n > 0)
		fz_one_payload(data, n);
	return 0;
}

#ifdef FUZZ_MAIN
int LLVMFuzzerTestOneInput(const unsigned char *data, size_t n);

/* libFuzzer's entry. */
int LLVMFuzzerTestOneInput(const unsigned char *data, size_t n)
{
	return fuzz_proto_one(data, n);
}
#endif
