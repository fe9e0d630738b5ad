/*
 * proto.h: the ipcd wire protocol, pure. Frames and msgpack messages are
 * built and parsed over byte buffers; nothing here touches a socket or an
 * event loop. proto/PROTOCOL.md is the normative description.
 *
 * A frame is a 4-byte big-endian payload length followed by that many bytes
 * holding exactly one msgpack array:
 *   request: [op, id, args...]     reply: [id, status, results...]
 * Every untrusted frame is bounded (length, nesting, element counts) by
 * proto_check() before msgpack-c allocates anything for it.
 */
#ifndef IPC_PROTO_H
#define IPC_PROTO_H

#include <stddef.h>
#include <stdint.h>
#include <msgpack.h>

#include "ipc_defs.h"

#define PROTO_FRAME_HDR 4u
/* The largest frame payload: room for a full batch of small messages or a
 * few large ones; a batch reply is cut to fit. */
#define PROTO_FRAME_MAX (8u << 20)
/* The deepest msgpack nesting a valid message uses is 3 (a list reply:
 * array > array of infos > info map); anything deeper is rejected. */
#define PROTO_DEPTH_MAX 3
/* Longest error detail string carried in a reply. */
#define PROTO_DETAIL_MAX 200
/* The most msgpack objects one request may hold (every request is a flat
 * array of at most 5 fields). Checked before msgpack-c allocates its
 * ~24 bytes per object, so a small frame cannot cost much memory. */
#define PROTO_REQ_ITEMS_MAX 16

/* Operation codes. Never renumber: append and bump IPC_PROTO_VERSION. */
enum proto_op {
	PROTO_OP_HELLO = 1,   /* [1, id, version]              -> [id, st, version, msg_max] */
	PROTO_OP_QOPEN = 2,   /* [2, id, name, maxsize, flags] -> [id, st, maxsize] */
	PROTO_OP_QPUT = 3,    /* [3, id, name, data, timeout]  -> [id, st] */
	PROTO_OP_QGET = 4,    /* [4, id, name, timeout]        -> [id, st, data] */
	PROTO_OP_STAT = 5,    /* [5, id, name]                 -> [id, st, info] */
	PROTO_OP_QDEL = 6,    /* [6, id, name]                 -> [id, st] */
	PROTO_OP_LIST = 7,    /* [7, id]                       -> [id, st, [info...]] */
	PROTO_OP__MAX
};

/* QOPEN flags. */
#define PROTO_OPEN_CREATE 0x1u /* create the queue when missing */
#define PROTO_OPEN_EXCL 0x2u   /* with CREATE: fail with IPC_EEXIST when it exists */

/* A growable output buffer; frames are appended to it. */
struct pbuf {
	unsigned char *data;
	size_t len;
	size_t cap;
};

/* One message payload inside a frame (points into the frame or the caller's
 * memory; never owned). */
struct proto_iov {
	const unsigned char *base;
	size_t len;
};

/* A decoded or to-be-encoded request. Which fields matter depends on op,
 * as listed in enum proto_op; the others are zero. */
struct proto_req {
	uint32_t op;
	uint32_t id;
	uint32_t version;        /* HELLO */
	char name[IPC_NAME_MAX + 1]; /* NUL-terminated, validated */
	const unsigned char *data; /* QPUT payload, points into the frame */
	size_t data_len;
	int64_t timeout_ms;      /* -1, 0 or > 0 */
	int64_t maxsize;         /* QOPEN: >= 0, or -1 for "whatever it is" */
	uint32_t flags;          /* QOPEN: PROTO_OPEN_* */
};

/* What STAT and LIST report about one queue or pipe. Encoded as a map with
 * string keys so fields can be added; unknown keys are ignored. */
struct proto_info {
	char name[IPC_NAME_MAX + 1];
	uint32_t kind;           /* enum ipc_kind */
	int64_t maxsize;         /* 0 = unbounded */
	uint64_t size;           /* messages held */
	uint64_t bytes;          /* payload bytes held */
	uint32_t getters;        /* parked get requests */
	uint32_t putters;        /* parked put requests */
	uint64_t puts;           /* messages accepted since creation */
	uint64_t gets;           /* messages delivered since creation */
};

/* A decoded or to-be-encoded reply. */
struct proto_rep {
	uint32_t op;             /* the request's op: selects the result fields (not on the wire) */
	uint32_t id;
	int32_t status;          /* 0 or an IPC_E* code */
	const char *detail;      /* optional text with a non-zero status, or NULL;
				  * decoded: a NUL-terminated copy in the zone */
	size_t detail_len;       /* encoding: 0 means strlen(detail) */
	uint32_t version;        /* HELLO */
	uint32_t msg_max;        /* HELLO */
	int64_t maxsize;         /* QOPEN */
	const unsigned char *data; /* QGET */
	size_t data_len;
	const struct proto_info *infos; /* STAT: one; LIST: ninfos */
	size_t ninfos;
};

/* Decoder state: msgpack-c's zone, reused from frame to frame, and the text
 * of the last decode error. Results point into the frame and the zone and
 * stay valid until the next decode on the same proto_dec. */
struct proto_dec {
	msgpack_zone zone;
	char err[128];
};

/* Set up an empty buffer. */
void pbuf_init(struct pbuf *b);
/* Release a buffer's memory. */
void pbuf_free(struct pbuf *b);
/* Make room for n more bytes; 0 or IPC_ENOMEM. */
int pbuf_reserve(struct pbuf *b, size_t n);
/* Drop the first n bytes (consumed), keeping the rest. */
void pbuf_consume(struct pbuf *b, size_t n);
/* Append n bytes; 0 or IPC_ENOMEM. */
int pbuf_append(struct pbuf *b, const void *p, size_t n);

/* Length of the frame at the head of buf: 0 when more bytes are needed,
 * PROTO_FRAME_HDR + payload when a whole frame is there, or IPC_EPROTO
 * (negative) when the announced payload is empty or over max. */
long proto_frame_peek(const unsigned char *buf, size_t len, size_t max);

/* Append a request frame to b; 0, IPC_EINVAL (bad field) or IPC_ENOMEM. */
int proto_enc_req(struct pbuf *b, const struct proto_req *r);
/* Append a reply frame to b; 0, IPC_EINVAL or IPC_ENOMEM. */
int proto_enc_rep(struct pbuf *b, const struct proto_rep *r);

/* Walk one msgpack object in p[0..n) without allocating: every header's
 * claim is checked against the bytes left, nesting against max_depth, and
 * the object must end exactly at n. 0 or IPC_EPROTO with err filled. */
int proto_check(const unsigned char *p, size_t n, unsigned max_depth,
		char *err, size_t errlen);
/* proto_check() that also allows at most max_items objects in all
 * (containers and scalars, the top one included). max_depth above 32 is
 * taken as 32. */
int proto_check_items(const unsigned char *p, size_t n, unsigned max_depth,
		      size_t max_items, char *err, size_t errlen);

/* Set up / tear down a decoder. 0 or IPC_ENOMEM. */
int proto_dec_init(struct proto_dec *d);
void proto_dec_fini(struct proto_dec *d);
/* Decode a request frame payload (without its 4-byte header). 0 on
 * success; IPC_EPROTO when malformed (r->id is set when it could be read,
 * else 0; d->err says why); IPC_ENAME for an invalid name, IPC_EINVAL for
 * an out-of-range argument, IPC_ETOOBIG for a payload over msg_max (these
 * three with r->op and r->id set, so they can be answered and the
 * connection kept). */
int proto_dec_req(struct proto_dec *d, const unsigned char *p, size_t n,
		  size_t msg_max, struct proto_req *r);
/* Decode a reply frame payload to a request of op `op`. 0 or IPC_EPROTO. */
int proto_dec_rep(struct proto_dec *d, const unsigned char *p, size_t n,
		  uint32_t op, struct proto_rep *r);

/* 1 when name[0..len) is a valid queue or pipe name, else 0. */
int proto_name_valid(const char *name, size_t len);
/* A short English text for an IPC_* code. */
const char *proto_strerror(int code);

#endif
