/* SPDX-License-Identifier: MIT */
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
/* The most msgpack objects one request may hold: a flat array of at most
 * 7 fields, one of which may be a batch of up to IPC_BATCH_MAX payloads
 * (QPUTN, PSENDN). Checked before msgpack-c allocates its ~24 bytes per
 * object, and every count is first checked against the bytes actually
 * received (an array of n needs n bytes), so a frame costs at most
 * ~25 KiB of decoder memory, and a small frame little. */
#define PROTO_REQ_ITEMS_MAX (IPC_BATCH_MAX + 16)
/* The most keys an info map (STAT, LIST) may carry: the daemon sends 28
 * today; the rest is room for keys a newer daemon adds (a client skips
 * the keys it does not know). */
#define PROTO_INFO_KEYS_MAX 64
/* The most keys INFO's daemon info map may carry: 41 today, the rest is
 * room for keys a newer daemon adds. */
#define PROTO_DINFO_KEYS_MAX 128
/* The most infos one LIST reply carries (a page). An info map takes at
 * most ~900 bytes (a pipe's, with a 128-byte name), so a full page stays
 * far below PROTO_FRAME_MAX; a client asks for the next page with the
 * last name it got (see PROTOCOL.md, LIST). */
#define PROTO_LIST_PAGE 512
/* Bytes a batch reply (QGETN, PRECVN) spends besides its bins: the frame
 * header, the arrays' headers, id and status. */
#define PROTO_BATCH_REP_OVERHEAD 32u

/* Operation codes (PROTO_OP_HELLO, ...) and their request and reply
 * shapes: one row per op in ops.h. */
#include "ops.h"

/* PATTACH flags. DUPLEX or ONEWAY says what the caller expects (checked
 * against an existing pipe: IPC_EMISMATCH; both at once: IPC_EINVAL);
 * neither accepts either and creates a duplex pipe. The reply's flags say
 * which one the pipe is. */
#define PROTO_PIPE_CREATE 0x1u /* create the pipe when missing */
#define PROTO_PIPE_DUPLEX 0x2u /* both ends send and receive */
#define PROTO_PIPE_ONEWAY 0x4u /* end 1 only sends, end 0 only receives */
#define PROTO_PIPE_OWNED 0x8u  /* an existing pipe must be owned by the caller
				  or root: else IPC_EPERM naming its owner */

/* QOPEN flags. */
#define PROTO_OPEN_CREATE 0x1u /* create the queue when missing */
#define PROTO_OPEN_EXCL 0x2u   /* with CREATE: fail with IPC_EEXIST when it exists */
#define PROTO_OPEN_DURABLE 0x4u /* with CREATE: a durable queue (journaled) */
#define PROTO_OPEN_OWNED 0x8u   /* an existing queue must be owned by the caller
				   or root: else IPC_EPERM naming its owner */
/* QOPEN and PATTACH may end with a mode (permission bits like a file's)
 * for the queue or pipe they create: [2, id, name, maxsize, flags, mode],
 * [8, id, name, end, flags, maxmsgs, maxbytes, mode]. QOPEN may go on
 * with max_deliveries and dead_letter; its mode is then nil when the
 * daemon's default applies: [2, id, name, maxsize, flags, nil, 5, "dlq"]. */
#define PROTO_MODE_MAX 0777u

/* HELLO capabilities (the optional trailing `caps` of the request, and
 * the reply's `caps`: what the daemon grants). */
#define PROTO_CAP_MEMFD 0x1u   /* payloads may travel as sealed memfds */
/* A memfd marker: where a payload (data, a batch element) would be a bin,
 * a msgpack fixext 8 (0xd7) of this type whose 8 bytes are the index k
 * (u32 big-endian) of the descriptor among those the frame carries (the
 * frame's markers number them 0, 1, ... in order) and the payload length
 * (u32 big-endian). See PROTOCOL.md, *Large messages*. */
#define PROTO_EXT_MEMFD 0x6d
/* The hold page (QHOLDS, PROTOCOL.md *Held read-ahead*): a memfd of
 * PROTO_HOLD_PAGE bytes, sealed against shrinking, shared by a client and
 * the daemon; word s (1..PROTO_HOLD_SLOTS-1) of it counts the messages of
 * the batch a QGETH with slot s held that the client has handed out (the
 * low 32 bits, which only the client raises, by compare-and-swap), and
 * carries two flags only the daemon sets: WANT (a put waits for room:
 * say each hand-out with a QDONE) and REVOKED (the batch's messages not
 * counted went back to the queue: hand out none of them). */
#define PROTO_HOLD_PAGE 4096u
#define PROTO_HOLD_SLOTS 512u
#define PROTO_HOLD_COUNT 0xffffffffull
#define PROTO_HOLD_WANT (1ull << 62)
#define PROTO_HOLD_REVOKED (1ull << 63)
#define PROTO_MEMFD_MARK_LEN 10u  /* 0xd7, type, 8 bytes */
/* The most descriptors one frame may carry (SCM_MAX_FD is 253). */
#define PROTO_FRAME_FDS_MAX 250u

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
	uint32_t memfd;   /* 0: inline (base); k + 1: the frame's descriptor #k
			     holds the len bytes (base unused) */
};

/* A decoded or to-be-encoded request. Which fields matter depends on op,
 * as its row in ops.h lists; the others are zero. */
struct proto_req {
	uint32_t op;
	uint32_t id;
	uint32_t version;        /* HELLO */
	char name[IPC_NAME_MAX + 1]; /* NUL-terminated, validated; LIST: the
				      * cursor, "" (from the start, and then
				      * not encoded) or a name */
	const unsigned char *data; /* QPUT payload, points into the frame */
	size_t data_len;
	int64_t timeout_ms;      /* -1, 0 or > 0 */
	int64_t maxsize;         /* QOPEN: >= 0, or -1 for "whatever it is" */
	uint32_t flags;          /* QOPEN: PROTO_OPEN_*; PATTACH: PROTO_PIPE_* */
	uint32_t end;            /* PATTACH, PSEND, PRECV, PCLOSE: 0 or 1 */
	int64_t maxmsgs;         /* PATTACH: 1..IPC_PIPE_MSGS_MAX, 0 = default/any */
	int64_t maxbytes;        /* PATTACH: 1..IPC_PIPE_BYTES_MAX, 0 = default/any */
	int64_t lease_ms;        /* QGETA: 0 = held until ack or disconnect, > 0 ms */
	uint64_t tag;            /* QACK, QRELEASE: the delivery tag QGETA returned */
	int64_t delay_ms;        /* QRELEASE: 0 = back at once, > 0 ms */
	const struct proto_iov *iov; /* QPUTN, PSENDN: the payloads, 1..IPC_BATCH_MAX */
	size_t niov;             /* (decoded: in the decoder's zone) */
	uint32_t max;            /* QGETN, PRECVN: most messages wanted, 1..IPC_BATCH_MAX */
	int has_mode;            /* QOPEN, PATTACH: the optional trailing mode is there */
	uint32_t mode;           /* QOPEN, PATTACH: permissions if it creates, <= PROTO_MODE_MAX;
				  * CHMOD: the new mode (has_mode set) */
	const struct proto_iov *names; /* QGETANY: the queues' names (not
				  * NUL-terminated), 1..IPC_GET_ANY_MAX */
	size_t nnames;           /* (decoded: in the decoder's zone) */
	uint32_t ack;            /* QGETANY: 1 = at-least-once, as QGETA */
	uint32_t slot;           /* QGETH: the word of the hold page (QHOLDS)
				  * that counts the batch handed out; 0 none */
	uint32_t max_deliveries; /* QOPEN: dead-letter after this many deliveries (0: off) */
	char dead_letter[IPC_NAME_MAX + 1]; /* QOPEN: "" or the dead-letter queue */
	int64_t uid;             /* CHOWN: the new owner, or -1 to keep it */
	int64_t gid;             /* CHOWN: the new group, or -1 to keep it */
	uint32_t data_memfd;     /* QPUT, PSEND: 0 inline, k + 1 descriptor #k */
	uint32_t nfds;           /* decoded: memfd markers in the frame */
	int has_caps;            /* HELLO: caps was sent (encoded when set) */
	uint32_t caps;           /* HELLO: PROTO_CAP_* the client asks for */
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
	/* Pipes only (sent only for kind 2; maxsize is the per-direction
	 * message bound, size/bytes/getters/putters the sums of both
	 * directions): */
	uint32_t duplex;         /* 1 duplex, 0 one-way */
	uint32_t ends;           /* IPC_END_ATTACHED(e) | IPC_END_CLOSED(e) bits */
	uint64_t maxbytes;       /* per-direction byte bound */
	struct proto_pipe_dir {
		uint64_t size;   /* messages buffered */
		uint64_t bytes;  /* payload bytes buffered */
		uint32_t getters;/* parked receives of the receiving end */
		uint32_t putters;/* parked sends of the sending end */
	} dir[2];                /* dir[i]: from end i to end 1 - i */
	uint64_t inflight;       /* delivered by QGETA, not yet acked */
	uint64_t requeued;       /* in-flight messages put back (lease, disconnect) */
	uint32_t uid;            /* owner */
	uint32_t gid;            /* group */
	uint32_t mode;           /* permissions, like a file's (0640) */
	uint32_t durable;        /* queue: 1 when journaled (survives a restart) */
	uint64_t journal_bytes;  /* STAT of a durable queue: the daemon's journal
				    size in bytes (0: not sent) */
	uint64_t journal_live;   /* and the bytes of it still needed */
	/* Queues with dead-lettering only (sent when max_deliveries > 0): */
	uint32_t max_deliveries; /* deliveries before a message is dead-lettered */
	char dead_letter[IPC_NAME_MAX + 1]; /* the dead-letter queue */
	uint64_t dead_lettered;  /* messages moved there */
	uint64_t dead_letter_failed; /* moves refused (the message stayed) */
	uint64_t memory;         /* what the messages counted in bytes cost the
				    daemon (headers, rounding): what max-bytes
				    counts (0: not sent, an older daemon) */
	uint64_t reserved;       /* queue: slots producers reserved (QRESV),
				    not yet spent; they count toward maxsize */
};

/* The numbers INFO reports about the daemon as a whole, each a u64 sent
 * under its own name as the key (PROTOCOL.md, *Daemon info*). One list
 * makes the struct, the encoder's keys and the decoder's table. */
#define PROTO_DINFO_FIELDS(X) \
	X(pid) X(uptime_ms) X(start_time) X(msg_max) \
	X(connections) X(max_connections) X(connections_total) \
	X(connections_refused) \
	X(queues) X(pipes) X(max_queues) \
	X(messages) X(bytes) X(max_bytes) X(parked) X(inflight) \
	X(requests) X(puts) X(gets) X(requeued) X(sends) X(receives) \
	X(gets_empty) X(refused_full) X(refused_limit) X(refused_perm) \
	X(refused_toobig) X(refused_nospc) X(refused_other) X(errors_fatal) \
	X(durable) X(journal_bytes) X(journal_live) X(journal_segments) \
	X(journal_written) X(journal_syncs) X(journal_sync_us) \
	X(journal_sync_max_us) X(dead_lettered) X(held_bytes) X(shared_bytes)

/* Longest daemon version string INFO carries ("0.1.0"). */
#define PROTO_DINFO_VERSION_MAX 31

/* What INFO reports: the daemon's version and PROTO_DINFO_FIELDS. */
struct proto_dinfo {
	char version[PROTO_DINFO_VERSION_MAX + 1];
#define PROTO_DINFO_MEMBER(f) uint64_t f;
	PROTO_DINFO_FIELDS(PROTO_DINFO_MEMBER)
#undef PROTO_DINFO_MEMBER
};

/* One u64 key of the daemon info map and its place in struct proto_dinfo. */
struct proto_dinfo_key {
	const char *key;
	size_t off;
};
/* Every u64 key, in PROTO_DINFO_FIELDS order; proto_dinfo_nkeys of them. */
extern const struct proto_dinfo_key proto_dinfo_keys[];
extern const size_t proto_dinfo_nkeys;

/* A decoded or to-be-encoded reply. */
struct proto_rep {
	uint32_t op;             /* the request's op: selects the result fields (not on the wire) */
	uint32_t id;
	int32_t status;          /* 0 or an IPC_E* code */
	const char *detail;      /* optional text with a non-zero status, or NULL;
				  * decoded: a NUL-terminated copy in the zone */
	size_t detail_len;       /* encoding: 0 means strlen(detail) */
	uint32_t version;        /* HELLO; an IPC_EVERSION error: the daemon's
				  * version, sent as a 4th element when not 0 */
	uint32_t msg_max;        /* HELLO */
	int64_t maxsize;         /* QOPEN */
	uint32_t flags;          /* PATTACH: PROTO_PIPE_DUPLEX or PROTO_PIPE_ONEWAY */
	int64_t maxmsgs;         /* PATTACH: the pipe's bounds */
	int64_t maxbytes;
	const unsigned char *data; /* QGET, QGETA, PRECV */
	size_t data_len;
	uint64_t tag;            /* QGETA: names the delivery in QACK */
	uint32_t count;          /* QPUTN, PSENDN: messages taken, >= 1 */
	const struct proto_iov *iov; /* QGETN, PRECVN, QPEEK: the messages, >= 1 */
	size_t niov;             /* (decoded: in the decoder's zone) */
	const struct proto_info *infos; /* STAT: one; LIST: ninfos */
	size_t ninfos;
	uint32_t more;           /* LIST: 1 when names follow the last one sent */
	uint64_t dropped;        /* QPURGE: how many messages were dropped */
	uint32_t data_memfd;     /* QGET, QGETA, PRECV: 0 inline, k + 1 descriptor #k */
	uint32_t nfds;           /* decoded: memfd markers in the frame */
	int has_caps;            /* HELLO: the optional tail is there */
	uint32_t caps;           /* HELLO: PROTO_CAP_* the daemon grants */
	uint32_t memfd_max;      /* HELLO: largest memfd payload (0: none) */
	uint32_t memfd_min;      /* HELLO: payloads from this size go by memfd */
	const struct proto_dinfo *dinfo; /* INFO: the daemon's figures */
	uint32_t index;          /* QGETANY: which of the request's names it came from */
};

/* Decoder state: msgpack-c's zone, reused from frame to frame, and the text
 * of the last decode error. Results point into the frame and the zone and
 * stay valid until the next decode on the same proto_dec. */
struct proto_dec {
	msgpack_zone zone;
	char err[128];
	/* Requests: the largest payload a memfd marker may announce; 0 (as
	 * proto_dec_init sets it) makes any marker malformed (the peer did
	 * not negotiate PROTO_CAP_MEMFD). Replies take markers always. */
	size_t memfd_max;
};

/* Set up an empty buffer. */
void pbuf_init(struct pbuf *b);
/* Release a buffer's memory. */
void pbuf_free(struct pbuf *b);
/* Make room for n more bytes; 0 or IPC_ENOMEM. */
int pbuf_reserve(struct pbuf *b, size_t n);
/* pbuf_reserve(), the capacity doubled no further than limit (when
 * limit leaves room for the n bytes): 0 or IPC_ENOMEM. */
int pbuf_reserve_upto(struct pbuf *b, size_t n, size_t limit);
/* Drop the first n bytes (consumed), keeping the rest. */
void pbuf_consume(struct pbuf *b, size_t n);
/* Append n bytes; 0 or IPC_ENOMEM. */
int pbuf_append(struct pbuf *b, const void *p, size_t n);

/* Length of the frame at the head of buf: 0 when more bytes are needed,
 * PROTO_FRAME_HDR + payload when a whole frame is there, or IPC_EPROTO
 * (negative) when the announced payload is empty or over max. */
long proto_frame_peek(const unsigned char *buf, size_t len, size_t max);
/* The id of the reply in payload p[0..n) (without its frame header), read
 * without decoding the rest, so a client with several requests in flight
 * can tell which op the reply answers before decoding it. 0, or
 * IPC_EPROTO when p does not start like [id, ...] with a uint32 id. */
int proto_rep_peek_id(const unsigned char *p, size_t n, uint32_t *id);
/* The id of the request in payload p[0..n) (or its first n bytes), read
 * the same way from [op, id, ...], so that a request the decoder rejects
 * as a whole can still be answered under its id. 0 or IPC_EPROTO. */
int proto_req_peek_id(const unsigned char *p, size_t n, uint32_t *id);

/* Append a request frame to b; 0, IPC_EINVAL (bad field) or IPC_ENOMEM. */
int proto_enc_req(struct pbuf *b, const struct proto_req *r);
/* Append a reply frame to b; 0, IPC_EINVAL or IPC_ENOMEM. */
int proto_enc_rep(struct pbuf *b, const struct proto_rep *r);
/* A payload left out of an encoded frame, to be sent from its own memory
 * (scatter/gather: one copy less for large messages). Its len bytes
 * belong at offset off of the buffer the frame was appended to, between
 * the bytes before and after off; the frame header counts them. */
struct proto_hole {
	size_t off;
	const unsigned char *base;
	size_t len;
};
/* proto_enc_req / proto_enc_rep that leave every payload (data, a batch
 * element) of at least min bytes out of b, up to maxholes of them (the
 * others are copied as usual), recording them in holes[0..*nholes) in
 * frame order. Same results; *nholes is 0 on failure. */
int proto_enc_req_holes(struct pbuf *b, const struct proto_req *r, size_t min,
			struct proto_hole *holes, size_t maxholes, size_t *nholes);
int proto_enc_rep_holes(struct pbuf *b, const struct proto_rep *r, size_t min,
			struct proto_hole *holes, size_t maxholes, size_t *nholes);
/* Where the sending of a buffer with holes stands (zero it to start). */
struct proto_sg {
	size_t pos;     /* bytes of the buffer sent */
	size_t hole;    /* holes wholly sent */
	size_t hsent;   /* bytes of holes[hole] sent */
};
struct iovec;
/* The bytes left to send of buf[0..len) with holes h[0..nh) in place, as
 * at most max iovecs: how many were filled. */
int proto_sg_iov(const struct proto_sg *sg, const unsigned char *buf, size_t len,
		 const struct proto_hole *h, size_t nh, struct iovec *iov, int max);
/* Account for n more bytes sent. */
void proto_sg_advance(struct proto_sg *sg, size_t n, size_t len,
		      const struct proto_hole *h, size_t nh);
/* Bytes left to send (0: done). */
size_t proto_sg_left(const struct proto_sg *sg, size_t len,
		     const struct proto_hole *h, size_t nh);
struct msghdr;
/* Point mh's control data at cbuf (cbuflen bytes) holding an SCM_RIGHTS
 * of fds[0..n) (nothing when n is 0 or cbuf is too small): how many it
 * carries. */
size_t proto_fds_pack(struct msghdr *mh, void *cbuf, size_t cbuflen,
		      const int *fds, size_t n);
/* The descriptors of mh's SCM_RIGHTS into fds[0..max): how many came
 * (those past max are counted, not copied: the caller cannot close
 * them, so max should be what one recvmsg's control buffer holds). */
size_t proto_fds_unpack(struct msghdr *mh, int *fds, size_t max);
/* Bytes a payload of len bytes takes inside a frame (bin header + len):
 * a batch reply holds messages while PROTO_BATCH_REP_OVERHEAD plus the
 * sum of their costs stays within PROTO_FRAME_MAX. */
size_t proto_bin_cost(size_t len);

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

/* The most msgpack objects a reply to op may hold (containers and
 * scalars, the top array included): what its row in ops.h can carry at
 * most (a LIST page of PROTO_LIST_PAGE infos of PROTO_INFO_KEYS_MAX keys,
 * a batch of IPC_BATCH_MAX bins), or an error reply's 5. A client decodes
 * a daemon's reply under this bound, as the daemon decodes a request under
 * PROTO_REQ_ITEMS_MAX, so a hostile or broken daemon cannot make it
 * allocate per object beyond that. */
size_t proto_rep_items_max(uint32_t op);

/* Set up / tear down a decoder. 0 or IPC_ENOMEM. */
int proto_dec_init(struct proto_dec *d);
void proto_dec_fini(struct proto_dec *d);
/* Decode a request frame payload (without its 4-byte header). 0 on
 * success; IPC_EPROTO when malformed (r->id is set whenever the head of
 * the payload reads as [op, id, ...], however bad the rest, else 0;
 * d->err says why); IPC_ENAME for an invalid name, IPC_EINVAL for
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
