/* SPDX-License-Identifier: MIT */
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

/* Start a frame: reserve its header and set up the packer; payloads of at
 * least min_hole bytes are left out into holes[0..maxholes). */
static int enc_begin(struct enc *e, struct pbuf *b, struct proto_hole *holes,
		     size_t maxholes, size_t min_hole)
{
	static const unsigned char hdr[PROTO_FRAME_HDR];

	e->b = b;
	e->start = b->len;
	e->holes = holes;
	e->maxholes = maxholes;
	e->min_hole = min_hole;
	e->nholes = e->hole_bytes = 0;
	e->rc = pbuf_append(b, hdr, sizeof(hdr));
	msgpack_packer_init(&e->pk, e, enc_write);
	return e->rc;
}

/* Finish a frame: patch its length, or undo it on any failure. */
static int enc_end(struct enc *e, size_t *nholes)
{
	unsigned char *h;
	size_t plen;

	*nholes = 0;
	if (e->rc) {
		e->b->len = e->start;
		return e->rc;
	}
	*nholes = e->nholes;
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

/* Pack a memfd marker for the frame's descriptor #k holding len bytes. */
static void enc_marker(struct enc *e, uint32_t k, size_t len)
{
	unsigned char body[8];
	unsigned i;

	if (len > UINT32_MAX) {
		e->rc = e->rc ? e->rc : IPC_EINVAL;
		return;
	}
	for (i = 0; i < 4; i++) {
		body[i] = (unsigned char)(k >> (24 - 8 * i));
		body[4 + i] = (unsigned char)(len >> (24 - 8 * i));
	}
	msgpack_pack_ext(&e->pk, sizeof body, PROTO_EXT_MEMFD);
	msgpack_pack_ext_body(&e->pk, body, sizeof body);
}

/* Pack a payload: a bin, or with memfd (k + 1) a marker for it. */
static void enc_payload(struct enc *e, const unsigned char *p, size_t len,
			uint32_t memfd)
{
	if (memfd != 0)
		enc_marker(e, memfd - 1, len);
	else
		enc_bin(e, p, len);
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
		enc_payload(e, iov[i].base, iov[i].len, iov[i].memfd);
}

/* Pack a list of names as an array of str; it may not be empty. */
static void enc_names(struct enc *e, const struct proto_iov *names, size_t n)
{
	size_t i;

	if (n == 0 || n > UINT32_MAX || names == NULL) {
		e->rc = e->rc ? e->rc : IPC_EINVAL;
		return;
	}
	msgpack_pack_array(&e->pk, n);
	for (i = 0; i < n && !e->rc; i++) {
		if (names[i].len > IPC_NAME_MAX || names[i].base == NULL) {
			e->rc = IPC_EINVAL;
			return;
		}
		msgpack_pack_str_with_body(&e->pk, names[i].base, names[i].len);
	}
}

/* Is request field f of r there to send? Only optional trailing fields
 * may be absent: the mode unless has_mode, LIST's cursor when "". */
static int enc_req_present(unsigned char f, const struct proto_req *r)
{
	if (f == RQ_MODE)
		return r->has_mode || r->max_deliveries || r->dead_letter[0];
	if (f == RQ_MAX_DELIVERIES || f == RQ_DEAD_LETTER)
		return r->max_deliveries || r->dead_letter[0];
	if (f == RQ_AFTER)
		return r->name[0] != '\0';
	if (f == RQ_CAPS)
		return r->has_caps;
	if (f == RQ_LEASE)   /* optional in QRESV only */
		return r->lease_ms != 0;
	if (f == RQ_SLOT)
		return r->slot != 0;
	return 1;
}

/* Pack one request field of r. */
static void enc_req_field(struct enc *e, unsigned char f, const struct proto_req *r)
{
	msgpack_packer *pk = &e->pk;

	switch (f) {
	case RQ_VERSION: msgpack_pack_uint32(pk, r->version); break;
	case RQ_NAME:
	case RQ_AFTER: enc_str(e, r->name, IPC_NAME_MAX); break;
	case RQ_MAXSIZE: msgpack_pack_int64(pk, r->maxsize); break;
	case RQ_OPEN_FLAGS:
	case RQ_PIPE_FLAGS: msgpack_pack_uint32(pk, r->flags); break;
	case RQ_MODE:
		if (!r->has_mode && (r->max_deliveries || r->dead_letter[0]))
			msgpack_pack_nil(pk);  /* no mode, and QOPEN goes on */
		else
			msgpack_pack_uint32(pk, r->mode);
		break;
	case RQ_MAX_DELIVERIES: msgpack_pack_uint32(pk, r->max_deliveries); break;
	case RQ_DEAD_LETTER: enc_str(e, r->dead_letter, IPC_NAME_MAX); break;
	case RQ_NAMES: enc_names(e, r->names, r->nnames); break;
	case RQ_ACK: msgpack_pack_uint32(pk, r->ack); break;
	case RQ_SLOT: msgpack_pack_uint32(pk, r->slot); break;
	case RQ_DATA: enc_payload(e, r->data, r->data_len, r->data_memfd); break;
	case RQ_DATAS: enc_bins(e, r->iov, r->niov); break;
	case RQ_TIMEOUT: msgpack_pack_int64(pk, r->timeout_ms); break;
	case RQ_LEASE: msgpack_pack_int64(pk, r->lease_ms); break;
	case RQ_TAG: msgpack_pack_uint64(pk, r->tag); break;
	case RQ_END: msgpack_pack_uint32(pk, r->end); break;
	case RQ_MAXMSGS: msgpack_pack_int64(pk, r->maxmsgs); break;
	case RQ_MAXBYTES: msgpack_pack_int64(pk, r->maxbytes); break;
	case RQ_MAX: msgpack_pack_uint32(pk, r->max); break;
	case RQ_UID: msgpack_pack_int64(pk, r->uid); break;
	case RQ_GID: msgpack_pack_int64(pk, r->gid); break;
	case RQ_DELAY: msgpack_pack_int64(pk, r->delay_ms); break;
	case RQ_CAPS: msgpack_pack_uint32(pk, r->caps); break;
	default: e->rc = e->rc ? e->rc : IPC_EINVAL; break;
	}
}

/* How many of op d's request fields r sends: the required ones, then the
 * optional ones up to the first absent one. */
static size_t enc_req_nfields(const struct proto_op_desc *d, const struct proto_req *r)
{
	size_t n = proto_op_nreq(d), opt;

	opt = n - d->req_optional;
	while (opt < n && enc_req_present(d->req[opt], r))
		opt++;
	return opt;
}

/* Append a request frame to b. */
int proto_enc_req(struct pbuf *b, const struct proto_req *r)
{
	size_t n;

	return proto_enc_req_holes(b, r, 0, NULL, 0, &n);
}

/* Append a request frame to b, leaving large payloads out. */
int proto_enc_req_holes(struct pbuf *b, const struct proto_req *r, size_t min,
			struct proto_hole *holes, size_t maxholes, size_t *nholes)
{
	const struct proto_op_desc *d = proto_op(r->op);
	struct enc e;
	size_t i, n;

	*nholes = 0;
	if (d == NULL)
		return IPC_EINVAL;
	if (enc_begin(&e, b, holes, maxholes, min) == 0) {
		n = enc_req_nfields(d, r);
		msgpack_pack_array(&e.pk, 2 + n);
		msgpack_pack_uint32(&e.pk, r->op);
		msgpack_pack_uint32(&e.pk, r->id);
		for (i = 0; i < n; i++)
			enc_req_field(&e, d->req[i], r);
	}
	return enc_end(&e, nholes);
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

/* The keys only a queue with dead-lettering carries. */
#define ENC_DLQ_KEYS 4

/* Pack the dead-lettering keys of an info map (ENC_DLQ_KEYS of them). */
static void enc_dlq_info(struct enc *e, const struct proto_info *in)
{
	enc_key(e, "max_deliveries");
	msgpack_pack_uint32(&e->pk, in->max_deliveries);
	enc_key(e, "dead_letter");
	enc_str(e, in->dead_letter, IPC_NAME_MAX);
	enc_key(e, "dead_lettered");
	msgpack_pack_uint64(&e->pk, in->dead_lettered);
	enc_key(e, "dead_letter_failed");
	msgpack_pack_uint64(&e->pk, in->dead_letter_failed);
}

/* Pack one info map; every field is written (a pipe's has more). */
static void enc_info(struct enc *e, const struct proto_info *in)
{
	msgpack_packer *pk = &e->pk;
	int pipe = in->kind == IPC_KIND_PIPE;

	int journal = in->journal_bytes != 0;
	int dlq = !pipe && in->max_deliveries != 0;

	msgpack_pack_map(pk, 17 + (pipe ? ENC_PIPE_KEYS : 0) + (journal ? 2 : 0) +
			 (dlq ? ENC_DLQ_KEYS : 0));
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
	enc_key(e, "memory");
	msgpack_pack_uint64(pk, in->memory);
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
	enc_key(e, "reserved");
	msgpack_pack_uint64(pk, in->reserved);
	enc_key(e, "uid");
	msgpack_pack_uint32(pk, in->uid);
	enc_key(e, "gid");
	msgpack_pack_uint32(pk, in->gid);
	enc_key(e, "mode");
	msgpack_pack_uint32(pk, in->mode);
	enc_key(e, "durable");
	msgpack_pack_uint32(pk, in->durable);
	if (journal) {
		enc_key(e, "journal_bytes");
		msgpack_pack_uint64(pk, in->journal_bytes);
		enc_key(e, "journal_live");
		msgpack_pack_uint64(pk, in->journal_live);
	}
	if (pipe)
		enc_pipe_info(e, in);
	if (dlq)
		enc_dlq_info(e, in);
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

/* Pack the daemon info map of an INFO reply: version, then every u64. */
static void enc_dinfo(struct enc *e, const struct proto_dinfo *di)
{
	size_t i;

	if (di == NULL) {
		e->rc = e->rc ? e->rc : IPC_EINVAL;
		return;
	}
	msgpack_pack_map(&e->pk, 1 + proto_dinfo_nkeys);
	enc_key(e, "version");
	enc_str(e, di->version, PROTO_DINFO_VERSION_MAX);
	for (i = 0; i < proto_dinfo_nkeys; i++) {
		enc_key(e, proto_dinfo_keys[i].key);
		msgpack_pack_uint64(&e->pk, *(const uint64_t *)(const void *)
				    ((const char *)di + proto_dinfo_keys[i].off));
	}
}

/* Pack one success reply field of r. */
static void enc_rep_field(struct enc *e, unsigned char f, const struct proto_rep *r)
{
	msgpack_packer *pk = &e->pk;

	switch (f) {
	case RP_VERSION: msgpack_pack_uint32(pk, r->version); break;
	case RP_MSG_MAX: msgpack_pack_uint32(pk, r->msg_max); break;
	case RP_MAXSIZE: msgpack_pack_int64(pk, r->maxsize); break;
	case RP_DATA: enc_payload(e, r->data, r->data_len, r->data_memfd); break;
	case RP_TAG: msgpack_pack_uint64(pk, r->tag); break;
	case RP_FLAGS: msgpack_pack_uint32(pk, r->flags); break;
	case RP_MAXMSGS: msgpack_pack_int64(pk, r->maxmsgs); break;
	case RP_MAXBYTES: msgpack_pack_int64(pk, r->maxbytes); break;
	case RP_COUNT: msgpack_pack_uint32(pk, r->count); break;
	case RP_BINS: enc_bins(e, r->iov, r->niov); break;
	case RP_INFO:
		if (r->infos == NULL)
			e->rc = e->rc ? e->rc : IPC_EINVAL;
		else
			enc_info(e, r->infos);
		break;
	case RP_INFOS: enc_infos(e, r->infos, r->ninfos); break;
	case RP_MORE: msgpack_pack_uint32(pk, r->more); break;
	case RP_DROPPED: msgpack_pack_uint64(pk, r->dropped); break;
	case RP_CAPS: msgpack_pack_uint32(pk, r->caps); break;
	case RP_MEMFD_MAX: msgpack_pack_uint32(pk, r->memfd_max); break;
	case RP_MEMFD_MIN: msgpack_pack_uint32(pk, r->memfd_min); break;
	case RP_DINFO: enc_dinfo(e, r->dinfo); break;
	case RP_INDEX: msgpack_pack_uint32(pk, r->index); break;
	case RP_GRANTED: msgpack_pack_uint32(pk, r->count); break;
	default: e->rc = e->rc ? e->rc : IPC_EINVAL; break;
	}
}

/* Pack a success reply: [id, 0, fields of its op...]. */
static void enc_rep_ok(struct enc *e, const struct proto_op_desc *d,
		       const struct proto_rep *r)
{
	size_t i, n = r->has_caps ? proto_op_nrep(d) : proto_op_nrep_required(d);

	msgpack_pack_array(&e->pk, 2 + n);
	msgpack_pack_uint32(&e->pk, r->id);
	msgpack_pack_int32(&e->pk, r->status);
	for (i = 0; i < n; i++)
		enc_rep_field(e, d->rep[i], r);
}

/* Pack an error reply: [id, status], [id, status, detail], or for
 * IPC_EVERSION with a version [id, status, detail, version]. */
static void enc_rep_error(struct enc *e, const struct proto_rep *r)
{
	int version = r->status == IPC_EVERSION && r->version != 0;
	const char *detail = r->detail != NULL ? r->detail : "";
	size_t len;

	msgpack_pack_array(&e->pk, version ? 4 : r->detail != NULL ? 3 : 2);
	msgpack_pack_uint32(&e->pk, r->id);
	msgpack_pack_int32(&e->pk, r->status);
	if (r->detail == NULL && !version)
		return;
	len = r->detail_len ? r->detail_len : strlen(detail);
	if (len > PROTO_DETAIL_MAX)
		len = PROTO_DETAIL_MAX;
	msgpack_pack_str_with_body(&e->pk, detail, len);
	if (version)
		msgpack_pack_uint32(&e->pk, r->version);
}

/* Append a reply frame to b. */
int proto_enc_rep(struct pbuf *b, const struct proto_rep *r)
{
	size_t n;

	return proto_enc_rep_holes(b, r, 0, NULL, 0, &n);
}

/* Append a reply frame to b, leaving large payloads out. */
int proto_enc_rep_holes(struct pbuf *b, const struct proto_rep *r, size_t min,
			struct proto_hole *holes, size_t maxholes, size_t *nholes)
{
	const struct proto_op_desc *d = proto_op(r->op);
	struct enc e;

	*nholes = 0;
	if (r->status == 0 && d == NULL)
		return IPC_EINVAL;
	if (enc_begin(&e, b, holes, maxholes, min) == 0) {
		if (r->status != 0)
			enc_rep_error(&e, r);
		else
			enc_rep_ok(&e, d, r);
	}
	return enc_end(&e, nholes);
}
