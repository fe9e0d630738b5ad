/* SPDX-License-Identifier: MIT */
/*
 * decode.c: strict, typed decoding of request and reply payloads.
 *
 * Every payload is first bounded by proto_check_items(), then unpacked by
 * msgpack-c into the decoder's reused zone (str and bin objects point into
 * the payload, nothing is copied), then each field is checked for its type
 * and range. Type and shape errors are IPC_EPROTO; a well-formed request
 * with a bad value (name, range, size) gets the value's own code so the
 * daemon can answer it and keep the connection.
 */
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <string.h>

#include "proto.h"

enum dec_int_result { DEC_INT_OK, DEC_INT_TYPE, DEC_INT_RANGE };

/* A request being decoded. */
struct rctx {
	struct proto_dec *d;
	struct proto_req *r;
	const msgpack_object *a;  /* the request array's elements */
	size_t msg_max;
	int soft;                 /* first value error (IPC_ENAME, ...), or 0 */
	size_t n;                 /* how many elements the request array has */
};

/* A reply being decoded. */
struct pctx {
	struct proto_dec *d;
	struct proto_rep *r;
	const msgpack_object *a;  /* the reply array's elements */
};

/* Set up a decoder. */
int proto_dec_init(struct proto_dec *d)
{
	d->err[0] = '\0';
	d->memfd_max = 0;
	return msgpack_zone_init(&d->zone, 4096) ? 0 : IPC_ENOMEM;
}

/* Tear down a decoder. */
void proto_dec_fini(struct proto_dec *d)
{
	msgpack_zone_destroy(&d->zone);
}

/* Say why decoding failed; returns code. */
static int dec_fail(struct proto_dec *d, int code, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(d->err, sizeof(d->err), fmt, ap);
	va_end(ap);
	return code;
}

/* Note a value error (the first one wins) and let type checking go on. */
static void dec_soft(struct rctx *c, int code, const char *fmt, ...)
{
	va_list ap;

	if (c->soft)
		return;
	c->soft = code;
	va_start(ap, fmt);
	vsnprintf(c->d->err, sizeof(c->d->err), fmt, ap);
	va_end(ap);
}

/* A signed integer object within [min, max] (max >= 0). */
static int dec_int(const msgpack_object *o, int64_t min, int64_t max,
		   int64_t *out)
{
	if (o->type == MSGPACK_OBJECT_POSITIVE_INTEGER) {
		if (o->via.u64 > (uint64_t)max)
			return DEC_INT_RANGE;
		*out = (int64_t)o->via.u64;
		return DEC_INT_OK;
	}
	if (o->type == MSGPACK_OBJECT_NEGATIVE_INTEGER) {
		if (o->via.i64 < min)
			return DEC_INT_RANGE;
		*out = o->via.i64;
		return DEC_INT_OK;
	}
	return DEC_INT_TYPE;
}

/* An unsigned integer object at most max. */
static int dec_uint(const msgpack_object *o, uint64_t max, uint64_t *out)
{
	if (o->type == MSGPACK_OBJECT_NEGATIVE_INTEGER)
		return DEC_INT_RANGE;
	if (o->type != MSGPACK_OBJECT_POSITIVE_INTEGER)
		return DEC_INT_TYPE;
	if (o->via.u64 > max)
		return DEC_INT_RANGE;
	*out = o->via.u64;
	return DEC_INT_OK;
}

/* Bound, then unpack one payload into the zone. */
static int dec_unpack(struct proto_dec *d, const unsigned char *p, size_t n,
		      size_t max_items, msgpack_object *top)
{
	msgpack_unpack_return ret;
	size_t off = 0;

	d->err[0] = '\0';
	if (proto_check_items(p, n, PROTO_DEPTH_MAX, max_items, d->err,
			      sizeof(d->err)))
		return IPC_EPROTO;
	msgpack_zone_clear(&d->zone);
	ret = msgpack_unpack((const char *)p, n, &off, &d->zone, top);
	if (ret == MSGPACK_UNPACK_NOMEM_ERROR)
		return dec_fail(d, IPC_ENOMEM, "out of memory decoding a frame");
	if (ret != MSGPACK_UNPACK_SUCCESS || off != n)
		return dec_fail(d, IPC_EPROTO, "msgpack-c rejected the frame (%d)",
				(int)ret);
	return 0;
}

/* --- requests ------------------------------------------------------------ */

/* Element i: the queue name, a valid str copied into r->name. */
static int req_name(struct rctx *c, unsigned i)
{
	const msgpack_object *o = &c->a[i];

	if (o->type != MSGPACK_OBJECT_STR)
		return dec_fail(c->d, IPC_EPROTO, "field 'name' must be a str");
	if (!proto_name_valid(o->via.str.ptr, o->via.str.size)) {
		dec_soft(c, IPC_ENAME, "invalid name (%lu bytes)",
			 (unsigned long)o->via.str.size);
		return 0;
	}
	memcpy(c->r->name, o->via.str.ptr, o->via.str.size);
	c->r->name[o->via.str.size] = '\0';
	return 0;
}

/* Element i: an integer in min..max into *out (min is -1 for a timeout
 * or a maxsize, 0 for a lease, a delay or a pipe bound). */
static int req_int_range(struct rctx *c, unsigned i, const char *what,
			 int64_t min, int64_t max, int64_t *out)
{
	int64_t v = 0;
	int rc = dec_int(&c->a[i], INT64_MIN, INT64_MAX, &v);

	if (rc == DEC_INT_TYPE)
		return dec_fail(c->d, IPC_EPROTO, "field '%s' must be an integer",
				what);
	if (rc == DEC_INT_OK && v >= min && v <= max)
		*out = v;
	else if (max == INT64_MAX)
		dec_soft(c, IPC_EINVAL, "%s out of range (must be >= %lld)", what,
			 (long long)min);
	else
		dec_soft(c, IPC_EINVAL, "%s out of range (%lld..%lld)", what,
			 (long long)min, (long long)max);
	return 0;
}

/* Element i: an integer >= -1 (timeout or maxsize). */
static int req_int(struct rctx *c, unsigned i, const char *what, int64_t *out)
{
	return req_int_range(c, i, what, -1, INT64_MAX, out);
}

/* Element i: an unsigned 32-bit integer with no bit outside mask. */
static int req_u32(struct rctx *c, unsigned i, const char *what,
		   uint32_t mask, uint32_t *out)
{
	uint64_t v = 0;
	int rc = dec_uint(&c->a[i], UINT32_MAX, &v);

	if (rc == DEC_INT_TYPE)
		return dec_fail(c->d, IPC_EPROTO,
				"field '%s' must be an unsigned integer", what);
	if (rc != DEC_INT_OK || (v & ~(uint64_t)mask))
		dec_soft(c, IPC_EINVAL, "%s out of range", what);
	else
		*out = (uint32_t)v;
	return 0;
}

/* o, a memfd marker, is the frame's next one (*nfds of them so far):
 * its length into *len, *memfd = k + 1, ++*nfds. 0 or IPC_EPROTO. */
static int dec_marker(struct proto_dec *d, const msgpack_object *o,
		      uint32_t *nfds, size_t *len, uint32_t *memfd)
{
	const unsigned char *b = (const unsigned char *)o->via.ext.ptr;
	uint32_t k, n;

	if (o->via.ext.type != PROTO_EXT_MEMFD || o->via.ext.size != 8)
		return dec_fail(d, IPC_EPROTO, "ext type %d is no memfd marker",
				(int)o->via.ext.type);
	k = (uint32_t)b[0] << 24 | (uint32_t)b[1] << 16 | (uint32_t)b[2] << 8 | b[3];
	n = (uint32_t)b[4] << 24 | (uint32_t)b[5] << 16 | (uint32_t)b[6] << 8 | b[7];
	if (k != *nfds || k >= PROTO_FRAME_FDS_MAX)
		return dec_fail(d, IPC_EPROTO, "memfd marker #%lu names descriptor "
				"%lu", (unsigned long)*nfds, (unsigned long)k);
	*len = n;
	*memfd = k + 1;
	++*nfds;
	return 0;
}

/* Request element o, a payload: a bin of at most msg_max bytes, or a
 * memfd marker (when the connection may send them) of at most memfd_max. */
static int req_payload(struct rctx *c, const msgpack_object *o,
		       const unsigned char **base, size_t *len, uint32_t *memfd)
{
	size_t max = c->msg_max;
	int rc;

	if (o->type == MSGPACK_OBJECT_EXT) {
		if (c->d->memfd_max == 0)
			return dec_fail(c->d, IPC_EPROTO, "memfd marker without "
					"the MEMFD capability");
		if ((rc = dec_marker(c->d, o, &c->r->nfds, len, memfd)) != 0)
			return rc;
		max = c->d->memfd_max;
	} else if (o->type == MSGPACK_OBJECT_BIN) {
		*base = (const unsigned char *)o->via.bin.ptr;
		*len = o->via.bin.size;
	} else {
		return dec_fail(c->d, IPC_EPROTO, "field 'data' must be a bin");
	}
	if (*len > max)
		dec_soft(c, IPC_ETOOBIG, "payload of %lu bytes over the %lu byte limit",
			 (unsigned long)*len, (unsigned long)max);
	return 0;
}

/* Element i: the message payload (req_payload). */
static int req_data(struct rctx *c, unsigned i)
{
	return req_payload(c, &c->a[i], &c->r->data, &c->r->data_len,
			   &c->r->data_memfd);
}

/* Element i: a signed integer >= 0 (a lease, a delay) into *out. */
static int req_nonneg(struct rctx *c, unsigned i, const char *what, int64_t *out)
{
	return req_int_range(c, i, what, 0, INT64_MAX, out);
}

/* Element i: QGETA's lease in milliseconds, >= 0 (0: none). */
static int req_lease(struct rctx *c, unsigned i)
{
	return req_nonneg(c, i, "lease", &c->r->lease_ms);
}

/* Element i: QACK's delivery tag, any uint64. */
static int req_tag(struct rctx *c, unsigned i)
{
	if (c->a[i].type != MSGPACK_OBJECT_POSITIVE_INTEGER)
		return dec_fail(c->d, IPC_EPROTO,
				"field 'tag' must be an unsigned integer");
	c->r->tag = c->a[i].via.u64;
	return 0;
}

/* Element i: CHOWN's uid or gid, -1 (keep it) or 0..UINT32_MAX-1 (the
 * all-ones id means "no id" to the kernel, so it is refused). */
static int req_id(struct rctx *c, unsigned i, const char *what, int64_t *out)
{
	int rc = req_int(c, i, what, out);

	if (rc == 0 && *out >= (int64_t)UINT32_MAX) {
		dec_soft(c, IPC_EINVAL, "%s out of range (-1 or 0..%lu)", what,
			 (unsigned long)UINT32_MAX - 1);
		*out = 0;
	}
	return rc;
}

/* Element i: a pipe end, 0 or 1. */
static int req_end(struct rctx *c, unsigned i)
{
	return req_u32(c, i, "end", 1, &c->r->end);
}

/* Element i: PATTACH's flags, not duplex and one-way at once. */
static int req_pipe_flags(struct rctx *c, unsigned i)
{
	const uint32_t both = PROTO_PIPE_DUPLEX | PROTO_PIPE_ONEWAY;

	if (req_u32(c, i, "flags", PROTO_PIPE_CREATE | PROTO_PIPE_OWNED | both,
		    &c->r->flags))
		return IPC_EPROTO;
	if ((c->r->flags & both) == both)
		dec_soft(c, IPC_EINVAL, "flags: duplex and one-way at once");
	return 0;
}

/* Element i: LIST's cursor, "" or a valid name, into r->name. */
static int req_after(struct rctx *c, unsigned i)
{
	const msgpack_object *o = &c->a[i];

	if (o->type == MSGPACK_OBJECT_STR && o->via.str.size == 0)
		return 0;
	return req_name(c, i);
}

/* Element i: QOPEN's dead-letter queue, "" or a valid name. */
static int req_dead_letter(struct rctx *c, unsigned i)
{
	const msgpack_object *o = &c->a[i];

	if (o->type != MSGPACK_OBJECT_STR)
		return dec_fail(c->d, IPC_EPROTO, "field 'dead_letter' must be a str");
	if (o->via.str.size == 0)
		return 0;
	if (!proto_name_valid(o->via.str.ptr, o->via.str.size)) {
		dec_soft(c, IPC_ENAME, "invalid dead-letter queue name");
		return 0;
	}
	memcpy(c->r->dead_letter, o->via.str.ptr, o->via.str.size);
	c->r->dead_letter[o->via.str.size] = '\0';
	return 0;
}

/* Element i: the optional mode of a queue or pipe the request creates
 * (QOPEN's may be nil: the default, when later fields follow). */
static int req_mode(struct rctx *c, unsigned i)
{
	if (c->a[i].type == MSGPACK_OBJECT_NIL && c->r->op == PROTO_OP_QOPEN)
		return 0;
	c->r->has_mode = 1;
	return req_u32(c, i, "mode", PROTO_MODE_MAX, &c->r->mode);
}

/* What an array request field must hold: elements of type t (or t2),
 * 1..max of them, each read into an iov by each(); and the texts of its
 * errors: not an array of t (IPC_EPROTO), a count out of range ("%d" the
 * max, "%lu" the count: IPC_EINVAL), out of memory. */
struct req_array {
	msgpack_object_type t, t2;
	uint32_t max;
	int (*each)(struct rctx *c, const msgpack_object *el, struct proto_iov *v,
		    uint32_t k);
	const char *bad_type, *no_mem, *bad_count;
};

/* Element i, an array per a, as iovs in the zone: *out and *nout set
 * once every element was read (a count out of range is noted with
 * dec_soft and sets nothing). 0, or IPC_EPROTO / IPC_ENOMEM. */
static int req_array(struct rctx *c, unsigned i, const struct req_array *a,
		     const struct proto_iov **out, size_t *nout)
{
	const msgpack_object *o = &c->a[i];
	struct proto_iov *iov;
	uint32_t k, n;
	int rc;

	if (o->type != MSGPACK_OBJECT_ARRAY)
		return dec_fail(c->d, IPC_EPROTO, "%s", a->bad_type);
	n = o->via.array.size;
	for (k = 0; k < n; k++)
		if (o->via.array.ptr[k].type != a->t && o->via.array.ptr[k].type != a->t2)
			return dec_fail(c->d, IPC_EPROTO, "%s", a->bad_type);
	if (n == 0 || n > a->max) {
		dec_soft(c, IPC_EINVAL, a->bad_count, (int)a->max, (unsigned long)n);
		return 0;
	}
	/* n is bounded by PROTO_REQ_ITEMS_MAX: a small allocation. */
	iov = msgpack_zone_malloc(&c->d->zone, n * sizeof(*iov));
	if (iov == NULL)
		return dec_fail(c->d, IPC_ENOMEM, "%s", a->no_mem);
	memset(iov, 0, n * sizeof(*iov));
	for (k = 0; k < n; k++)
		if ((rc = a->each(c, &o->via.array.ptr[k], &iov[k], k)) != 0)
			return rc;
	*out = iov;
	*nout = n;
	return 0;
}

/* One payload of a batch: a bin of at most msg_max bytes, or a memfd. */
static int req_data_el(struct rctx *c, const msgpack_object *el,
		       struct proto_iov *v, uint32_t k)
{
	(void)k;
	return req_payload(c, el, &v->base, &v->len, &v->memfd);
}

/* One of QGETANY's queue names (an invalid one is noted with dec_soft). */
static int req_name_el(struct rctx *c, const msgpack_object *el,
		       struct proto_iov *v, uint32_t k)
{
	v->base = (const unsigned char *)el->via.str.ptr;
	v->len = el->via.str.size;
	if (!proto_name_valid((const char *)v->base, v->len))
		dec_soft(c, IPC_ENAME, "names: name %lu is not valid", (unsigned long)k);
	return 0;
}

static const struct req_array req_datas_array = {
	MSGPACK_OBJECT_BIN, MSGPACK_OBJECT_EXT, IPC_BATCH_MAX, req_data_el,
	"field 'data' must be an array of bin", "out of memory decoding a batch",
	"a batch holds 1..%d messages, not %lu" };
static const struct req_array req_names_array = {
	MSGPACK_OBJECT_STR, MSGPACK_OBJECT_STR, IPC_GET_ANY_MAX, req_name_el,
	"field 'names' must be an array of str", "out of memory decoding names",
	"names: 1..%d queues, not %lu" };

/* Element i: a batch of payloads (QPUTN, PSENDN), 1..IPC_BATCH_MAX. */
static int req_datas(struct rctx *c, unsigned i)
{
	return req_array(c, i, &req_datas_array, &c->r->iov, &c->r->niov);
}

/* Element i: QGETANY's queues, 1..IPC_GET_ANY_MAX valid names. */
static int req_names(struct rctx *c, unsigned i)
{
	return req_array(c, i, &req_names_array, &c->r->names, &c->r->nnames);
}

/* Element i: how many messages a batch get wants, 1..IPC_BATCH_MAX. */
static int req_max(struct rctx *c, unsigned i)
{
	uint64_t v = 0;
	int rc = dec_uint(&c->a[i], UINT32_MAX, &v);

	if (rc == DEC_INT_TYPE)
		return dec_fail(c->d, IPC_EPROTO,
				"field 'max' must be an unsigned integer");
	if (rc != DEC_INT_OK || v == 0 || v > IPC_BATCH_MAX)
		dec_soft(c, IPC_EINVAL, "max out of range (1..%d)", IPC_BATCH_MAX);
	else
		c->r->max = (uint32_t)v;
	return 0;
}

/* Element i: request field f (ops.h); 0 or IPC_EPROTO (or IPC_ENOMEM),
 * value errors noted with dec_soft. */
static int req_field(struct rctx *c, unsigned char f, unsigned i)
{
	struct proto_req *r = c->r;

	switch (f) {
	case RQ_VERSION: return req_u32(c, i, "version", UINT32_MAX, &r->version);
	case RQ_NAME: return req_name(c, i);
	case RQ_AFTER: return req_after(c, i);
	case RQ_MAXSIZE: return req_int(c, i, "maxsize", &r->maxsize);
	case RQ_OPEN_FLAGS:
		return req_u32(c, i, "flags", PROTO_OPEN_CREATE | PROTO_OPEN_EXCL |
			       PROTO_OPEN_DURABLE | PROTO_OPEN_OWNED, &r->flags);
	case RQ_PIPE_FLAGS: return req_pipe_flags(c, i);
	case RQ_MODE: return req_mode(c, i);
	case RQ_DATA: return req_data(c, i);
	case RQ_DATAS: return req_datas(c, i);
	case RQ_TIMEOUT: return req_int(c, i, "timeout", &r->timeout_ms);
	case RQ_LEASE: return req_lease(c, i);
	case RQ_TAG: return req_tag(c, i);
	case RQ_END: return req_end(c, i);
	case RQ_MAXMSGS:
		return req_int_range(c, i, "maxmsgs", 0, IPC_PIPE_MSGS_MAX,
				     &r->maxmsgs);
	case RQ_MAXBYTES:
		return req_int_range(c, i, "maxbytes", 0, IPC_PIPE_BYTES_MAX,
				     &r->maxbytes);
	case RQ_MAX: return req_max(c, i);
	case RQ_UID: return req_id(c, i, "uid", &r->uid);
	case RQ_GID: return req_id(c, i, "gid", &r->gid);
	case RQ_DELAY: return req_nonneg(c, i, "delay", &r->delay_ms);
	case RQ_CAPS:
		r->has_caps = 1;
		return req_u32(c, i, "caps", UINT32_MAX, &r->caps);
	case RQ_MAX_DELIVERIES:
		return req_u32(c, i, "max_deliveries", UINT32_MAX, &r->max_deliveries);
	case RQ_DEAD_LETTER: return req_dead_letter(c, i);
	case RQ_NAMES: return req_names(c, i);
	case RQ_ACK: return req_u32(c, i, "ack", 1, &r->ack);
	case RQ_SLOT:
		return req_u32(c, i, "slot", PROTO_HOLD_SLOTS - 1, &r->slot);
	default: return dec_fail(c->d, IPC_EPROTO, "unknown field kind %u", f);
	}
}

/* The fields of the request, elements 2.. of its array, per its op's row. */
static int req_fields(struct rctx *c)
{
	const struct proto_op_desc *d = proto_op(c->r->op);
	unsigned i;
	int rc;

	for (i = 2; i < c->n; i++) {
		rc = req_field(c, d->req[i - 2], i);
		if (rc)
			return rc;
	}
	return 0;
}

/* Does the request array's length (c->n) fit op d's row? 0 or IPC_EPROTO. */
static int req_count(struct rctx *c, const struct proto_op_desc *d)
{
	unsigned want = 2 + proto_op_nreq(d);

	if (c->n <= want && c->n >= want - d->req_optional)
		return 0;
	if (d->req_optional)
		return dec_fail(c->d, IPC_EPROTO, "%s request has %lu elements, "
				"%u to %u expected", d->name, (unsigned long)c->n,
				want - d->req_optional, want);
	return dec_fail(c->d, IPC_EPROTO, "%s request has %lu elements, %u expected",
			d->name, (unsigned long)c->n, want);
}

/* The request array, its id (read first, for the error reply) and op. */
static int req_head(struct rctx *c, const msgpack_object *top)
{
	const msgpack_object *op;
	uint64_t v = 0;
	uint32_t n;

	if (top->type != MSGPACK_OBJECT_ARRAY)
		return dec_fail(c->d, IPC_EPROTO, "request is not an array");
	n = top->via.array.size;
	c->a = top->via.array.ptr;
	if (n < 2)
		return dec_fail(c->d, IPC_EPROTO,
				"request has %lu elements, at least 2 needed",
				(unsigned long)n);
	if (dec_uint(&c->a[1], UINT32_MAX, &v) != DEC_INT_OK)
		return dec_fail(c->d, IPC_EPROTO,
				"id must be an unsigned 32-bit integer");
	c->r->id = (uint32_t)v;
	op = &c->a[0];
	if (op->type == MSGPACK_OBJECT_NEGATIVE_INTEGER)
		return dec_fail(c->d, IPC_EPROTO, "unknown op %lld",
				(long long)op->via.i64);
	if (op->type != MSGPACK_OBJECT_POSITIVE_INTEGER)
		return dec_fail(c->d, IPC_EPROTO, "op must be an integer");
	if (proto_op(op->via.u64 > UINT32_MAX ? 0 : (uint32_t)op->via.u64) == NULL)
		return dec_fail(c->d, IPC_EPROTO, "unknown op %llu",
				(unsigned long long)op->via.u64);
	c->r->op = (uint32_t)op->via.u64;
	c->n = n;
	return req_count(c, proto_op(c->r->op));
}

/* Decode a request payload. */
int proto_dec_req(struct proto_dec *d, const unsigned char *p, size_t n,
		  size_t msg_max, struct proto_req *r)
{
	struct rctx c = { d, r, NULL, msg_max, 0, 0 };
	msgpack_object top;
	int rc;

	memset(r, 0, sizeof(*r));
	rc = dec_unpack(d, p, n, PROTO_REQ_ITEMS_MAX, &top);
	if (rc != 0 && proto_req_peek_id(p, n, &r->id) != 0)
		r->id = 0;
	if (rc == 0)
		rc = req_head(&c, &top);
	if (rc == 0)
		rc = req_fields(&c);
	return rc ? rc : c.soft;
}

/* --- replies ------------------------------------------------------------- */

/* A reply integer in [min, max] (max >= 0), or IPC_EPROTO naming it. */
static int rep_int(struct pctx *c, const msgpack_object *o, const char *what,
		   int64_t min, int64_t max, int64_t *out)
{
	if (dec_int(o, min, max, out) != DEC_INT_OK)
		return dec_fail(c->d, IPC_EPROTO, "reply field '%s' is not a "
				"valid integer", what);
	return 0;
}

/* A reply unsigned integer at most max, or IPC_EPROTO naming it. */
static int rep_uint(struct pctx *c, const msgpack_object *o, const char *what,
		    uint64_t max, uint64_t *out)
{
	if (dec_uint(o, max, out) != DEC_INT_OK)
		return dec_fail(c->d, IPC_EPROTO, "reply field '%s' is not a "
				"valid unsigned integer", what);
	return 0;
}

enum info_type { INFO_NAME, INFO_U32, INFO_I64, INFO_U64 };

/* The known keys of an info map and where they go. */
static const struct info_field {
	const char *key;
	unsigned char type;
	size_t off;
} info_fields[] = {
	{ "name", INFO_NAME, offsetof(struct proto_info, name) },
	{ "kind", INFO_U32, offsetof(struct proto_info, kind) },
	{ "maxsize", INFO_I64, offsetof(struct proto_info, maxsize) },
	{ "size", INFO_U64, offsetof(struct proto_info, size) },
	{ "bytes", INFO_U64, offsetof(struct proto_info, bytes) },
	{ "memory", INFO_U64, offsetof(struct proto_info, memory) },
	{ "getters", INFO_U32, offsetof(struct proto_info, getters) },
	{ "putters", INFO_U32, offsetof(struct proto_info, putters) },
	{ "puts", INFO_U64, offsetof(struct proto_info, puts) },
	{ "gets", INFO_U64, offsetof(struct proto_info, gets) },
	{ "inflight", INFO_U64, offsetof(struct proto_info, inflight) },
	{ "requeued", INFO_U64, offsetof(struct proto_info, requeued) },
	{ "reserved", INFO_U64, offsetof(struct proto_info, reserved) },
	{ "uid", INFO_U32, offsetof(struct proto_info, uid) },
	{ "gid", INFO_U32, offsetof(struct proto_info, gid) },
	{ "mode", INFO_U32, offsetof(struct proto_info, mode) },
	{ "durable", INFO_U32, offsetof(struct proto_info, durable) },
	{ "journal_bytes", INFO_U64, offsetof(struct proto_info, journal_bytes) },
	{ "journal_live", INFO_U64, offsetof(struct proto_info, journal_live) },
	{ "max_deliveries", INFO_U32, offsetof(struct proto_info, max_deliveries) },
	{ "dead_letter", INFO_NAME, offsetof(struct proto_info, dead_letter) },
	{ "dead_lettered", INFO_U64, offsetof(struct proto_info, dead_lettered) },
	{ "dead_letter_failed", INFO_U64,
	  offsetof(struct proto_info, dead_letter_failed) },
	{ "duplex", INFO_U32, offsetof(struct proto_info, duplex) },
	{ "ends", INFO_U32, offsetof(struct proto_info, ends) },
	{ "maxbytes", INFO_U64, offsetof(struct proto_info, maxbytes) },
	{ "size01", INFO_U64, offsetof(struct proto_info, dir[0].size) },
	{ "bytes01", INFO_U64, offsetof(struct proto_info, dir[0].bytes) },
	{ "getters01", INFO_U32, offsetof(struct proto_info, dir[0].getters) },
	{ "putters01", INFO_U32, offsetof(struct proto_info, dir[0].putters) },
	{ "size10", INFO_U64, offsetof(struct proto_info, dir[1].size) },
	{ "bytes10", INFO_U64, offsetof(struct proto_info, dir[1].bytes) },
	{ "getters10", INFO_U32, offsetof(struct proto_info, dir[1].getters) },
	{ "putters10", INFO_U32, offsetof(struct proto_info, dir[1].putters) },
};

/* The known field named by a str key, or NULL. */
static const struct info_field *info_find(const msgpack_object_str *k)
{
	size_t i;

	for (i = 0; i < sizeof(info_fields) / sizeof(info_fields[0]); i++)
		if (strlen(info_fields[i].key) == k->size &&
		    memcmp(info_fields[i].key, k->ptr, k->size) == 0)
			return &info_fields[i];
	return NULL;
}

/* Store the value of one known info field. */
static int info_value(struct pctx *c, const struct info_field *f,
		      const msgpack_object *o, struct proto_info *in)
{
	char *dst = (char *)in + f->off;
	uint64_t u = 0;
	int64_t i = 0;

	switch (f->type) {
	case INFO_NAME:
		if (o->type != MSGPACK_OBJECT_STR ||
		    !proto_name_valid(o->via.str.ptr, o->via.str.size))
			return dec_fail(c->d, IPC_EPROTO, "info has an invalid name");
		memcpy(dst, o->via.str.ptr, o->via.str.size);
		dst[o->via.str.size] = '\0';
		return 0;
	case INFO_U32:
		if (rep_uint(c, o, f->key, UINT32_MAX, &u))
			return IPC_EPROTO;
		*(uint32_t *)dst = (uint32_t)u;
		return 0;
	case INFO_I64:
		if (rep_int(c, o, f->key, INT64_MIN, INT64_MAX, &i))
			return IPC_EPROTO;
		*(int64_t *)dst = i;
		return 0;
	default:
		if (rep_uint(c, o, f->key, UINT64_MAX, &u))
			return IPC_EPROTO;
		*(uint64_t *)dst = u;
		return 0;
	}
}

/* One info map; unknown keys are skipped, missing ones stay 0, except
 * the name: an info that names nothing is malformed. */
static int rep_info(struct pctx *c, const msgpack_object *o,
		    struct proto_info *in)
{
	const msgpack_object_kv *kv;
	const struct info_field *f;
	uint32_t i;

	memset(in, 0, sizeof(*in));
	if (o->type != MSGPACK_OBJECT_MAP ||
	    o->via.map.size > PROTO_INFO_KEYS_MAX)
		return dec_fail(c->d, IPC_EPROTO, "info is not a map of at "
				"most %d keys", PROTO_INFO_KEYS_MAX);
	for (i = 0; i < o->via.map.size; i++) {
		kv = &o->via.map.ptr[i];
		if (kv->key.type != MSGPACK_OBJECT_STR)
			return dec_fail(c->d, IPC_EPROTO, "info key is not a str");
		f = info_find(&kv->key.via.str);
		if (f != NULL && info_value(c, f, &kv->val, in))
			return IPC_EPROTO;
	}
	/* Found by fuzzing: without this an info with no name decoded as
	 * "", which no encoder can send back. */
	if (in->name[0] == '\0')
		return dec_fail(c->d, IPC_EPROTO, "info has no name");
	/* Found by fuzzing too: max_deliveries without its dead_letter
	 * decoded, and encoded back as an empty (invalid) dead_letter. */
	if (in->max_deliveries && in->dead_letter[0] == '\0')
		return dec_fail(c->d, IPC_EPROTO, "info has max_deliveries "
				"but no dead_letter");
	return 0;
}

/* n infos allocated from the zone (NULL for none). */
static int rep_alloc_infos(struct pctx *c, size_t n)
{
	struct proto_info *in;

	c->r->ninfos = n;
	if (n == 0)
		return 0;
	if (n > SIZE_MAX / sizeof(*in))
		return dec_fail(c->d, IPC_EPROTO, "too many infos");
	in = msgpack_zone_malloc(&c->d->zone, n * sizeof(*in));
	if (in == NULL)
		return dec_fail(c->d, IPC_ENOMEM, "out of memory decoding infos");
	c->r->infos = in;
	return 0;
}

/* Element i: a reply uint32 field into *out. */
static int rep_u32(struct pctx *c, unsigned i, const char *what, uint32_t *out)
{
	uint64_t v = 0;

	if (rep_uint(c, &c->a[i], what, UINT32_MAX, &v))
		return IPC_EPROTO;
	*out = (uint32_t)v;
	return 0;
}

/* Element i: LIST's more flag, 0 or 1. */
static int rep_more(struct pctx *c, unsigned i)
{
	uint64_t v = 0;

	if (rep_uint(c, &c->a[i], "more", 1, &v))
		return IPC_EPROTO;
	c->r->more = (uint32_t)v;
	return 0;
}

/* Reply element o, a payload: a bin or a memfd marker. */
static int rep_payload(struct pctx *c, const msgpack_object *o,
		       const unsigned char **base, size_t *len, uint32_t *memfd)
{
	if (o->type == MSGPACK_OBJECT_EXT)
		return dec_marker(c->d, o, &c->r->nfds, len, memfd);
	if (o->type != MSGPACK_OBJECT_BIN)
		return dec_fail(c->d, IPC_EPROTO, "reply field 'data' is not a bin");
	*base = (const unsigned char *)o->via.bin.ptr;
	*len = o->via.bin.size;
	return 0;
}

/* Element i: a message payload. */
static int rep_data(struct pctx *c, unsigned i)
{
	return rep_payload(c, &c->a[i], &c->r->data, &c->r->data_len,
			   &c->r->data_memfd);
}

/* Element i: how many messages a batch put took, >= 1. */
static int rep_count(struct pctx *c, unsigned i)
{
	uint64_t v = 0;

	if (rep_uint(c, &c->a[i], "count", IPC_BATCH_MAX, &v) || v == 0)
		return dec_fail(c->d, IPC_EPROTO, "reply field 'count' out of range");
	c->r->count = (uint32_t)v;
	return 0;
}

/* Element i: the messages of a batch get, at least one. */
static int rep_bins(struct pctx *c, unsigned i)
{
	const msgpack_object *o = &c->a[i];
	struct proto_iov *iov;
	uint32_t k, n;

	if (o->type != MSGPACK_OBJECT_ARRAY || o->via.array.size == 0 ||
	    o->via.array.size > IPC_BATCH_MAX)
		return dec_fail(c->d, IPC_EPROTO, "reply field 'data' is not an "
				"array of 1 to %d bins", IPC_BATCH_MAX);
	n = o->via.array.size;
	iov = msgpack_zone_malloc(&c->d->zone, n * sizeof(*iov));
	if (iov == NULL)
		return dec_fail(c->d, IPC_ENOMEM, "out of memory decoding a batch");
	memset(iov, 0, n * sizeof(*iov));
	for (k = 0; k < n; k++)
		if (rep_payload(c, &o->via.array.ptr[k], &iov[k].base, &iov[k].len,
				&iov[k].memfd) != 0)
			return IPC_EPROTO;
	c->r->iov = iov;
	c->r->niov = n;
	return 0;
}

/* Element i: one info map (STAT). */
static int rep_stat(struct pctx *c, unsigned i)
{
	int rc = rep_alloc_infos(c, 1);

	return rc ? rc : rep_info(c, &c->a[i], (struct proto_info *)c->r->infos);
}

/* Element i: an array of info maps (LIST). */
static int rep_list(struct pctx *c, unsigned i)
{
	const msgpack_object *o = &c->a[i];
	struct proto_info *in;
	uint32_t k;
	int rc;

	if (o->type != MSGPACK_OBJECT_ARRAY ||
	    o->via.array.size > PROTO_LIST_PAGE)
		return dec_fail(c->d, IPC_EPROTO, "list reply is not an array "
				"of at most %d infos", PROTO_LIST_PAGE);
	rc = rep_alloc_infos(c, o->via.array.size);
	in = (struct proto_info *)c->r->infos;
	for (k = 0; rc == 0 && k < o->via.array.size; k++)
		rc = rep_info(c, &o->via.array.ptr[k], &in[k]);
	return rc;
}

/* The version string of a daemon info map into di->version. */
static int dinfo_version(struct pctx *c, const msgpack_object *o,
			 struct proto_dinfo *di)
{
	if (o->type != MSGPACK_OBJECT_STR ||
	    o->via.str.size > PROTO_DINFO_VERSION_MAX)
		return dec_fail(c->d, IPC_EPROTO, "daemon info 'version' is "
				"not a str of at most %d bytes",
				PROTO_DINFO_VERSION_MAX);
	if (o->via.str.size > 0) /* msgpack-c gives an empty str a NULL ptr */
		memcpy(di->version, o->via.str.ptr, o->via.str.size);
	di->version[o->via.str.size] = '\0';
	return 0;
}

/* One key/value of a daemon info map; an unknown key is skipped. */
static int dinfo_pair(struct pctx *c, const msgpack_object_kv *kv,
		      struct proto_dinfo *di)
{
	const msgpack_object_str *k = &kv->key.via.str;
	size_t i;

	if (kv->key.type != MSGPACK_OBJECT_STR)
		return dec_fail(c->d, IPC_EPROTO, "daemon info key is not a str");
	if (k->size == 7 && memcmp(k->ptr, "version", 7) == 0)
		return dinfo_version(c, &kv->val, di);
	for (i = 0; i < proto_dinfo_nkeys; i++)
		if (strlen(proto_dinfo_keys[i].key) == k->size &&
		    memcmp(proto_dinfo_keys[i].key, k->ptr, k->size) == 0)
			return rep_uint(c, &kv->val, proto_dinfo_keys[i].key,
					UINT64_MAX, (uint64_t *)(void *)
					((char *)di + proto_dinfo_keys[i].off));
	return 0;
}

/* Element i: the daemon info map (INFO); missing keys stay 0. */
static int rep_dinfo(struct pctx *c, unsigned i)
{
	const msgpack_object *o = &c->a[i];
	struct proto_dinfo *di;
	uint32_t k;
	int rc = 0;

	if (o->type != MSGPACK_OBJECT_MAP || o->via.map.size > PROTO_DINFO_KEYS_MAX)
		return dec_fail(c->d, IPC_EPROTO, "daemon info is not a map of at "
				"most %d keys", PROTO_DINFO_KEYS_MAX);
	di = msgpack_zone_malloc(&c->d->zone, sizeof(*di));
	if (di == NULL)
		return dec_fail(c->d, IPC_ENOMEM, "out of memory decoding info");
	memset(di, 0, sizeof(*di));
	for (k = 0; rc == 0 && k < o->via.map.size; k++)
		rc = dinfo_pair(c, &o->via.map.ptr[k], di);
	c->r->dinfo = di;
	return rc;
}

/* Element i: success reply field f (ops.h); 0 or IPC_EPROTO (or ENOMEM). */
static int rep_field(struct pctx *c, unsigned char f, unsigned i)
{
	struct proto_rep *r = c->r;

	switch (f) {
	case RP_VERSION: return rep_u32(c, i, "version", &r->version);
	case RP_MSG_MAX: return rep_u32(c, i, "msg_max", &r->msg_max);
	case RP_MAXSIZE:
		return rep_int(c, &c->a[i], "maxsize", INT64_MIN, INT64_MAX, &r->maxsize);
	case RP_DATA: return rep_data(c, i);
	case RP_TAG: return rep_uint(c, &c->a[i], "tag", UINT64_MAX, &r->tag);
	case RP_FLAGS: return rep_u32(c, i, "flags", &r->flags);
	case RP_MAXMSGS:
		return rep_int(c, &c->a[i], "maxmsgs", 0, INT64_MAX, &r->maxmsgs);
	case RP_MAXBYTES:
		return rep_int(c, &c->a[i], "maxbytes", 0, INT64_MAX, &r->maxbytes);
	case RP_COUNT: return rep_count(c, i);
	case RP_BINS: return rep_bins(c, i);
	case RP_INFO: return rep_stat(c, i);
	case RP_INFOS: return rep_list(c, i);
	case RP_MORE: return rep_more(c, i);
	case RP_DROPPED:
		return rep_uint(c, &c->a[i], "dropped", UINT64_MAX, &r->dropped);
	case RP_CAPS:
		r->has_caps = 1;
		return rep_u32(c, i, "caps", &r->caps);
	case RP_MEMFD_MAX: return rep_u32(c, i, "memfd_max", &r->memfd_max);
	case RP_MEMFD_MIN: return rep_u32(c, i, "memfd_min", &r->memfd_min);
	case RP_DINFO: return rep_dinfo(c, i);
	case RP_INDEX: return rep_u32(c, i, "index", &r->index);
	case RP_GRANTED: return rep_u32(c, i, "count", &r->count);
	default: return dec_fail(c->d, IPC_EPROTO, "unknown field kind %u", f);
	}
}

/* The results of a success reply, elements 2.., per its op's row. */
static int rep_fields(struct pctx *c, uint32_t n)
{
	const struct proto_op_desc *d = proto_op(c->r->op);
	uint32_t want = 2 + proto_op_nrep(d), i;
	int rc;

	if (n != want && n != 2 + proto_op_nrep_required(d))
		return dec_fail(c->d, IPC_EPROTO, "%s reply has %lu elements, "
				"%lu expected", d->name, (unsigned long)n,
				(unsigned long)want);
	for (i = 2, rc = 0; i < n && rc == 0; i++)
		rc = rep_field(c, d->rep[i - 2], i);
	return rc;
}

/* [id, status], [id, status, detail] or, for IPC_EVERSION, [id, status,
 * detail, version]: copy the detail, NUL-terminated. */
static int rep_error(struct pctx *c, uint32_t n)
{
	const msgpack_object *o = &c->a[2];
	size_t len;
	char *s;

	if (n == 2)
		return 0;
	if (n == 4 && c->r->status == IPC_EVERSION &&
	    rep_u32(c, 3, "version", &c->r->version))
		return IPC_EPROTO;
	if ((n != 3 && !(n == 4 && c->r->status == IPC_EVERSION)) ||
	    o->type != MSGPACK_OBJECT_STR)
		return dec_fail(c->d, IPC_EPROTO,
				"error reply is not [id, status, detail]");
	len = o->via.str.size;
	if (len > PROTO_DETAIL_MAX)
		len = PROTO_DETAIL_MAX;
	s = msgpack_zone_malloc(&c->d->zone, len + 1);
	if (s == NULL)
		return dec_fail(c->d, IPC_ENOMEM, "out of memory decoding a reply");
	if (len > 0) /* msgpack-c gives an empty str a NULL ptr */
		memcpy(s, o->via.str.ptr, len);
	s[len] = '\0';
	c->r->detail = s;
	c->r->detail_len = len;
	return 0;
}

/* The reply array, its id and status, then error detail or results. */
static int rep_body(struct pctx *c, const msgpack_object *top)
{
	uint64_t id = 0;
	int64_t st = 0;
	uint32_t n;

	if (top->type != MSGPACK_OBJECT_ARRAY || top->via.array.size < 2)
		return dec_fail(c->d, IPC_EPROTO, "reply is not [id, status, ...]");
	c->a = top->via.array.ptr;
	n = top->via.array.size;
	if (rep_uint(c, &c->a[0], "id", UINT32_MAX, &id) ||
	    rep_int(c, &c->a[1], "status", INT32_MIN, INT32_MAX, &st))
		return IPC_EPROTO;
	c->r->id = (uint32_t)id;
	c->r->status = (int32_t)st;
	if (st != 0)
		return rep_error(c, n);
	return rep_fields(c, n);
}

/* The most objects one reply field of kind f holds. */
static size_t rep_field_items(unsigned char f)
{
	/* An info: its map and at most PROTO_INFO_KEYS_MAX keys and values. */
	const size_t info = 1 + 2 * (size_t)PROTO_INFO_KEYS_MAX;

	switch (f) {
	case RP_BINS: return 1 + IPC_BATCH_MAX;
	case RP_INFO: return info;
	case RP_INFOS: return 1 + PROTO_LIST_PAGE * info;
	case RP_DINFO: return 1 + 2 * (size_t)PROTO_DINFO_KEYS_MAX;
	default: return 1;
	}
}

/* The most objects a reply to op may hold (proto.h). */
size_t proto_rep_items_max(uint32_t op)
{
	const struct proto_op_desc *d = proto_op(op);
	size_t n = 3, i; /* the array, id and status */

	for (i = 0; d != NULL && i < proto_op_nrep(d); i++)
		n += rep_field_items(d->rep[i]);
	/* An error reply: [id, status, detail] or, IPC_EVERSION, one more. */
	return n < 5 ? 5 : n;
}

/* Decode a reply payload to a request of op `op`. */
int proto_dec_rep(struct proto_dec *d, const unsigned char *p, size_t n,
		  uint32_t op, struct proto_rep *r)
{
	struct pctx c = { d, r, NULL };
	msgpack_object top;
	int rc;

	memset(r, 0, sizeof(*r));
	r->op = op;
	if (proto_op(op) == NULL)
		return dec_fail(d, IPC_EPROTO, "unknown op %lu", (unsigned long)op);
	rc = dec_unpack(d, p, n, proto_rep_items_max(op), &top);
	return rc ? rc : rep_body(&c, &top);
}
