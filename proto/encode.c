/*
 * encode.c: building request and reply frames with msgpack-c's packer.
 *
 * The encoder checks structure only (known op, fields that fit); whether a
 * name, timeout or flag is acceptable is the daemon's decoder's call, so
 * there is one judge of it.
 */
#include <string.h>

#include "proto.h"

/* One frame being appended to a pbuf. */
struct enc {
	msgpack_packer pk;
	struct pbuf *b;
	size_t start;   /* offset of the frame header in b */
	int rc;         /* first failure; later writes are refused */
	/* Payloads left out of b (proto_enc_*_holes), or holes NULL. */
	struct proto_hole *holes;
	size_t nholes, maxholes, min_hole;
	size_t hole_bytes;  /* their bytes, part of the frame */
};

/* msgpack-c write callback: append, refusing past PROTO_FRAME_MAX. */
static int enc_write(void *data, const char *buf, size_t len)
{
	struct enc *e = data;
	size_t used = e->b->len - e->start - PROTO_FRAME_HDR + e->hole_bytes;

	if (e->rc)
		return -1;
	if (len > PROTO_FRAME_MAX - used) {
		e->rc = IPC_EINVAL;
		return -1;
	}
	if (pbuf_append(e->b, buf, len)) {
		e->rc = IPC_ENOMEM;
		return -1;
	}
	return 0;
}

/* Start a frame: reserve its header and set up the packer. */
static int enc_begin(struct enc *e, struct pbuf *b)
{
	static const unsigned char hdr[PROTO_FRAME_HDR];

	e->b = b;
	e->start = b->len;
	e->holes = NULL;
	e->nholes = e->maxholes = e->min_hole = e->hole_bytes = 0;
	e->rc = pbuf_append(b, hdr, sizeof(hdr));
	msgpack_packer_init(&e->pk, e, enc_write);
	return e->rc;
}

/* Finish a frame: patch its length, or undo it on any failure. */
static int enc_end(struct enc *e)
{
	unsigned char *h;
	size_t plen;

	if (e->rc) {
		e->b->len = e->start;
		e->nholes = 0;
		return e->rc;
	}
	h = e->b->data + e->start;
	plen = e->b->len - e->start - PROTO_FRAME_HDR + e->hole_bytes;
	h[0] = (unsigned char)(plen >> 24);
	h[1] = (unsigned char)(plen >> 16);
	h[2] = (unsigned char)(plen >> 8);
	h[3] = (unsigned char)plen;
	return 0;
}

/* Pack a NUL-terminated string of at most max bytes. */
static void enc_str(struct enc *e, const char *s, size_t max)
{
	size_t len = s ? strnlen(s, max + 1) : max + 1;

	if (len > max) {
		e->rc = e->rc ? e->rc : IPC_EINVAL;
		return;
	}
	msgpack_pack_str_with_body(&e->pk, s, len);
}

/* Pack a bin; NULL is only allowed for 0 bytes. */
static void enc_bin(struct enc *e, const unsigned char *p, size_t len)
{
	if (p == NULL && len > 0) {
		e->rc = e->rc ? e->rc : IPC_EINVAL;
		return;
	}
	msgpack_pack_bin(&e->pk, len);
	if (len > 0 && e->holes && len >= e->min_hole && e->nholes < e->maxholes &&
	    !e->rc) {
		/* Left out: the caller sends these bytes from p itself. */
		if (len > PROTO_FRAME_MAX - (e->b->len - e->start - PROTO_FRAME_HDR +
					     e->hole_bytes)) {
			e->rc = IPC_EINVAL;
			return;
		}
		e->holes[e->nholes].off = e->b->len;
		e->holes[e->nholes].base = p;
		e->holes[e->nholes].len = len;
		e->nholes++;
		e->hole_bytes += len;
		return;
	}
	if (len > 0)
		msgpack_pack_bin_body(&e->pk, p, len);
}

/* Bytes a payload of len bytes takes inside a frame. */
size_t proto_bin_cost(size_t len)
{
	return len + (len < 256 ? 2 : len < 65536 ? 3 : 5);
}

/* Pack a batch of payloads as an array of bins; it may not be empty. */
static void enc_bins(struct enc *e, const struct proto_iov *iov, size_t n)
{
	size_t i;

	if (n == 0 || n > UINT32_MAX || iov == NULL) {
		e->rc = e->rc ? e->rc : IPC_EINVAL;
		return;
	}
	msgpack_pack_array(&e->pk, n);
	for (i = 0; i < n && !e->rc; i++)
		enc_bin(e, iov[i].base, iov[i].len);
}

/* Pack the op-specific part of a request (after op and id). */
static void enc_req_args(struct enc *e, const struct proto_req *r)
{
	msgpack_packer *pk = &e->pk;

	switch (r->op) {
	case PROTO_OP_HELLO:
		msgpack_pack_uint32(pk, r->version);
		break;
	case PROTO_OP_QOPEN:
		enc_str(e, r->name, IPC_NAME_MAX);
		msgpack_pack_int64(pk, r->maxsize);
		msgpack_pack_uint32(pk, r->flags);
		if (r->has_mode)
			msgpack_pack_uint32(pk, r->mode);
		break;
	case PROTO_OP_QPUT:
		enc_str(e, r->name, IPC_NAME_MAX);
		enc_bin(e, r->data, r->data_len);
		msgpack_pack_int64(pk, r->timeout_ms);
		break;
	case PROTO_OP_QGET:
		enc_str(e, r->name, IPC_NAME_MAX);
		msgpack_pack_int64(pk, r->timeout_ms);
		break;
	case PROTO_OP_STAT:
	case PROTO_OP_QDEL:
		enc_str(e, r->name, IPC_NAME_MAX);
		break;
	case PROTO_OP_QGETA:
		enc_str(e, r->name, IPC_NAME_MAX);
		msgpack_pack_int64(pk, r->timeout_ms);
		msgpack_pack_int64(pk, r->lease_ms);
		break;
	case PROTO_OP_QACK:
		enc_str(e, r->name, IPC_NAME_MAX);
		msgpack_pack_uint64(pk, r->tag);
		break;
	case PROTO_OP_PATTACH:
		enc_str(e, r->name, IPC_NAME_MAX);
		msgpack_pack_uint32(pk, r->end);
		msgpack_pack_uint32(pk, r->flags);
		msgpack_pack_int64(pk, r->maxmsgs);
		msgpack_pack_int64(pk, r->maxbytes);
		break;
	case PROTO_OP_PSEND:
		enc_str(e, r->name, IPC_NAME_MAX);
		msgpack_pack_uint32(pk, r->end);
		enc_bin(e, r->data, r->data_len);
		msgpack_pack_int64(pk, r->timeout_ms);
		break;
	case PROTO_OP_PRECV:
		enc_str(e, r->name, IPC_NAME_MAX);
		msgpack_pack_uint32(pk, r->end);
		msgpack_pack_int64(pk, r->timeout_ms);
		break;
	case PROTO_OP_PCLOSE:
		enc_str(e, r->name, IPC_NAME_MAX);
		msgpack_pack_uint32(pk, r->end);
		break;
	case PROTO_OP_QPUTN:
		enc_str(e, r->name, IPC_NAME_MAX);
		enc_bins(e, r->iov, r->niov);
		msgpack_pack_int64(pk, r->timeout_ms);
		break;
	case PROTO_OP_QGETN:
		enc_str(e, r->name, IPC_NAME_MAX);
		msgpack_pack_uint32(pk, r->max);
		msgpack_pack_int64(pk, r->timeout_ms);
		break;
	case PROTO_OP_PSENDN:
		enc_str(e, r->name, IPC_NAME_MAX);
		msgpack_pack_uint32(pk, r->end);
		enc_bins(e, r->iov, r->niov);
		msgpack_pack_int64(pk, r->timeout_ms);
		break;
	case PROTO_OP_PRECVN:
		enc_str(e, r->name, IPC_NAME_MAX);
		msgpack_pack_uint32(pk, r->end);
		msgpack_pack_uint32(pk, r->max);
		msgpack_pack_int64(pk, r->timeout_ms);
		break;
	default: /* LIST */
		break;
	}
}

/* Elements of each request array, by op. */
static const unsigned enc_req_count[PROTO_OP__MAX] = {
	[PROTO_OP_HELLO] = 3, [PROTO_OP_QOPEN] = 5, [PROTO_OP_QPUT] = 5,
	[PROTO_OP_QGET] = 4, [PROTO_OP_STAT] = 3, [PROTO_OP_QDEL] = 3,
	[PROTO_OP_LIST] = 2,
	[PROTO_OP_PATTACH] = 7, [PROTO_OP_PSEND] = 6, [PROTO_OP_PRECV] = 5,
	[PROTO_OP_PCLOSE] = 4,
	[PROTO_OP_QPUTN] = 5, [PROTO_OP_QGETN] = 5, [PROTO_OP_PSENDN] = 6,
	[PROTO_OP_PRECVN] = 6,
	[PROTO_OP_QGETA] = 5, [PROTO_OP_QACK] = 4,
};

/* Encode a request frame into b; holes (maxholes of them) receive the
 * payloads of at least min bytes left out, when holes is not NULL. */
static int enc_req(struct enc *e, struct pbuf *b, const struct proto_req *r,
		   struct proto_hole *holes, size_t maxholes, size_t min)
{
	if (r->op == 0 || r->op >= PROTO_OP__MAX)
		return IPC_EINVAL;
	if (enc_begin(e, b) == 0) {
		e->holes = holes;
		e->maxholes = maxholes;
		e->min_hole = min;
		msgpack_pack_array(&e->pk, enc_req_count[r->op] +
				   (r->op == PROTO_OP_QOPEN && r->has_mode));
		msgpack_pack_uint32(&e->pk, r->op);
		msgpack_pack_uint32(&e->pk, r->id);
		enc_req_args(e, r);
	}
	return enc_end(e);
}

/* Append a request frame to b. */
int proto_enc_req(struct pbuf *b, const struct proto_req *r)
{
	struct enc e;

	return enc_req(&e, b, r, NULL, 0, 0);
}

/* Append a request frame to b, leaving large payloads out. */
int proto_enc_req_holes(struct pbuf *b, const struct proto_req *r, size_t min,
			struct proto_hole *holes, size_t maxholes, size_t *nholes)
{
	struct enc e;
	int rc = enc_req(&e, b, r, holes, maxholes, min);

	*nholes = e.nholes;
	return rc;
}

/* Pack one key of an info map. */
static void enc_key(struct enc *e, const char *key)
{
	msgpack_pack_str_with_body(&e->pk, key, strlen(key));
}

/* The keys only a pipe's info carries. */
#define ENC_PIPE_KEYS 11

/* Pack the pipe-only keys of an info map (ENC_PIPE_KEYS of them). */
static void enc_pipe_info(struct enc *e, const struct proto_info *in)
{
	static const char *const keys[2][4] = {
		{ "size01", "bytes01", "getters01", "putters01" },
		{ "size10", "bytes10", "getters10", "putters10" },
	};
	msgpack_packer *pk = &e->pk;
	int i;

	enc_key(e, "duplex");
	msgpack_pack_uint32(pk, in->duplex);
	enc_key(e, "ends");
	msgpack_pack_uint32(pk, in->ends);
	enc_key(e, "maxbytes");
	msgpack_pack_uint64(pk, in->maxbytes);
	for (i = 0; i < 2; i++) {
		enc_key(e, keys[i][0]);
		msgpack_pack_uint64(pk, in->dir[i].size);
		enc_key(e, keys[i][1]);
		msgpack_pack_uint64(pk, in->dir[i].bytes);
		enc_key(e, keys[i][2]);
		msgpack_pack_uint32(pk, in->dir[i].getters);
		enc_key(e, keys[i][3]);
		msgpack_pack_uint32(pk, in->dir[i].putters);
	}
}

/* Pack one info map; every field is written (a pipe's has more). */
static void enc_info(struct enc *e, const struct proto_info *in)
{
	msgpack_packer *pk = &e->pk;
	int pipe = in->kind == IPC_KIND_PIPE;

	msgpack_pack_map(pk, 15 + (pipe ? ENC_PIPE_KEYS : 0));
	enc_key(e, "name");
	enc_str(e, in->name, IPC_NAME_MAX);
	enc_key(e, "kind");
	msgpack_pack_uint32(pk, in->kind);
	enc_key(e, "maxsize");
	msgpack_pack_int64(pk, in->maxsize);
	enc_key(e, "size");
	msgpack_pack_uint64(pk, in->size);
	enc_key(e, "bytes");
	msgpack_pack_uint64(pk, in->bytes);
	enc_key(e, "getters");
	msgpack_pack_uint32(pk, in->getters);
	enc_key(e, "putters");
	msgpack_pack_uint32(pk, in->putters);
	enc_key(e, "puts");
	msgpack_pack_uint64(pk, in->puts);
	enc_key(e, "gets");
	msgpack_pack_uint64(pk, in->gets);
	enc_key(e, "inflight");
	msgpack_pack_uint64(pk, in->inflight);
	enc_key(e, "requeued");
	msgpack_pack_uint64(pk, in->requeued);
	enc_key(e, "uid");
	msgpack_pack_uint32(pk, in->uid);
	enc_key(e, "gid");
	msgpack_pack_uint32(pk, in->gid);
	enc_key(e, "mode");
	msgpack_pack_uint32(pk, in->mode);
	enc_key(e, "durable");
	msgpack_pack_uint32(pk, in->durable);
	if (pipe)
		enc_pipe_info(e, in);
}

/* Pack the array of infos of a LIST reply. */
static void enc_infos(struct enc *e, const struct proto_info *in, size_t n)
{
	size_t i;

	if (in == NULL && n > 0) {
		e->rc = e->rc ? e->rc : IPC_EINVAL;
		return;
	}
	msgpack_pack_array(&e->pk, n);
	for (i = 0; i < n && !e->rc; i++)
		enc_info(e, &in[i]);
}

/* Results carried by a success reply, by op (after id and status). */
static const unsigned enc_rep_results[PROTO_OP__MAX] = {
	[PROTO_OP_HELLO] = 2, [PROTO_OP_QOPEN] = 1, [PROTO_OP_QPUT] = 0,
	[PROTO_OP_QGET] = 1, [PROTO_OP_STAT] = 1, [PROTO_OP_QDEL] = 0,
	[PROTO_OP_LIST] = 1,
	[PROTO_OP_PATTACH] = 3, [PROTO_OP_PSEND] = 0, [PROTO_OP_PRECV] = 1,
	[PROTO_OP_PCLOSE] = 0,
	[PROTO_OP_QPUTN] = 1, [PROTO_OP_QGETN] = 1, [PROTO_OP_PSENDN] = 1,
	[PROTO_OP_PRECVN] = 1,
	[PROTO_OP_QGETA] = 2, [PROTO_OP_QACK] = 0,
};

/* Pack the results of a success reply. */
static void enc_rep_results_of(struct enc *e, const struct proto_rep *r)
{
	switch (r->op) {
	case PROTO_OP_HELLO:
		msgpack_pack_uint32(&e->pk, r->version);
		msgpack_pack_uint32(&e->pk, r->msg_max);
		break;
	case PROTO_OP_QOPEN:
		msgpack_pack_int64(&e->pk, r->maxsize);
		break;
	case PROTO_OP_QGET:
		enc_bin(e, r->data, r->data_len);
		break;
	case PROTO_OP_QGETA:
		enc_bin(e, r->data, r->data_len);
		msgpack_pack_uint64(&e->pk, r->tag);
		break;
	case PROTO_OP_PATTACH:
		msgpack_pack_uint32(&e->pk, r->flags);
		msgpack_pack_int64(&e->pk, r->maxmsgs);
		msgpack_pack_int64(&e->pk, r->maxbytes);
		break;
	case PROTO_OP_PRECV:
		enc_bin(e, r->data, r->data_len);
		break;
	case PROTO_OP_QPUTN:
	case PROTO_OP_PSENDN:
		msgpack_pack_uint32(&e->pk, r->count);
		break;
	case PROTO_OP_QGETN:
	case PROTO_OP_PRECVN:
		enc_bins(e, r->iov, r->niov);
		break;
	case PROTO_OP_STAT:
		if (r->infos == NULL)
			e->rc = e->rc ? e->rc : IPC_EINVAL;
		else
			enc_info(e, r->infos);
		break;
	case PROTO_OP_LIST:
		enc_infos(e, r->infos, r->ninfos);
		break;
	default: /* QPUT, QDEL */
		break;
	}
}

/* Pack an error reply: [id, status] or [id, status, detail]. */
static void enc_rep_error(struct enc *e, const struct proto_rep *r)
{
	size_t len;

	msgpack_pack_array(&e->pk, r->detail != NULL ? 3 : 2);
	msgpack_pack_uint32(&e->pk, r->id);
	msgpack_pack_int32(&e->pk, r->status);
	if (r->detail == NULL)
		return;
	len = r->detail_len ? r->detail_len : strlen(r->detail);
	if (len > PROTO_DETAIL_MAX)
		len = PROTO_DETAIL_MAX;
	msgpack_pack_str_with_body(&e->pk, r->detail, len);
}

/* Encode a reply frame into b, leaving payloads out as enc_req does. */
static int enc_rep(struct enc *e, struct pbuf *b, const struct proto_rep *r,
		   struct proto_hole *holes, size_t maxholes, size_t min)
{
	if (r->status == 0 && (r->op == 0 || r->op >= PROTO_OP__MAX))
		return IPC_EINVAL;
	if (enc_begin(e, b) == 0) {
		e->holes = holes;
		e->maxholes = maxholes;
		e->min_hole = min;
		if (r->status != 0) {
			enc_rep_error(e, r);
		} else {
			msgpack_pack_array(&e->pk, 2 + enc_rep_results[r->op]);
			msgpack_pack_uint32(&e->pk, r->id);
			msgpack_pack_int32(&e->pk, r->status);
			enc_rep_results_of(e, r);
		}
	}
	return enc_end(e);
}

/* Append a reply frame to b. */
int proto_enc_rep(struct pbuf *b, const struct proto_rep *r)
{
	struct enc e;

	return enc_rep(&e, b, r, NULL, 0, 0);
}

/* Append a reply frame to b, leaving large payloads out. */
int proto_enc_rep_holes(struct pbuf *b, const struct proto_rep *r, size_t min,
			struct proto_hole *holes, size_t maxholes, size_t *nholes)
{
	struct enc e;
	int rc = enc_rep(&e, b, r, holes, maxholes, min);

	*nholes = e.nholes;
	return rc;
}
