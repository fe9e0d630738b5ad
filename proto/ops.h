/* SPDX-License-Identifier: MIT */
/*
 * ops.h: every operation of the wire protocol, one row each. The row is
 * the whole description of an op: its number, its name (for logs and
 * errors), the fields of its request after [op, id] (the last `opt` of
 * them may be left out), the fields of its success reply after [id, 0],
 * and whether it can park (wait in the daemon). proto/encode.c and
 * proto/decode.c pack and check the fields listed here, the daemon's
 * dispatch calls op_<lower>() for each row (daemon/dispatch.h), and
 * daemon/park.c fills a woken request's reply from the reply fields.
 *
 * Adding an op: append a row (numbers are never reused or reordered, the
 * last row has the highest number), write op_<lower>() in daemon/op_*.c,
 * and describe it in proto/PROTOCOL.md. A new kind of field is one
 * enum value below plus its case in encode.c and decode.c.
 */
#ifndef IPC_PROTO_OPS_H
#define IPC_PROTO_OPS_H

#include <stdint.h>

/* Request fields: which proto_req member each carries and how. */
enum proto_req_field {
	RQ_NONE = 0,     /* ends a list */
	RQ_VERSION,      /* uint32 version */
	RQ_NAME,         /* str name, a valid name */
	RQ_AFTER,        /* str name: "" or a valid name (LIST's cursor) */
	RQ_MAXSIZE,      /* int maxsize >= -1 */
	RQ_OPEN_FLAGS,   /* uint flags, PROTO_OPEN_* bits */
	RQ_PIPE_FLAGS,   /* uint flags, PROTO_PIPE_* bits, not DUPLEX|ONEWAY */
	RQ_MODE,         /* uint mode <= PROTO_MODE_MAX (sets has_mode) */
	RQ_DATA,         /* bin data, at most msg_max bytes */
	RQ_DATAS,        /* array of 1..IPC_BATCH_MAX bins: iov, niov */
	RQ_TIMEOUT,      /* int timeout_ms >= -1 */
	RQ_LEASE,        /* int lease_ms >= 0 */
	RQ_TAG,          /* uint64 tag */
	RQ_END,          /* uint end, 0 or 1 */
	RQ_MAXMSGS,      /* int maxmsgs, 0..IPC_PIPE_MSGS_MAX */
	RQ_MAXBYTES,     /* int maxbytes, 0..IPC_PIPE_BYTES_MAX */
	RQ_MAX,          /* uint max, 1..IPC_BATCH_MAX */
	RQ_UID,          /* int uid, -1 (unchanged) or 0..UINT32_MAX-1 */
	RQ_GID,          /* int gid, -1 (unchanged) or 0..UINT32_MAX-1 */
	RQ_DELAY,        /* int delay_ms >= 0 */
	RQ_CAPS,         /* uint caps, PROTO_CAP_* bits (sets has_caps) */
	RQ_MAX_DELIVERIES, /* uint max_deliveries (0: no dead-lettering) */
	RQ_DEAD_LETTER,  /* str dead_letter: "" or a valid name */
	RQ_NAMES,        /* array of 1..IPC_GET_ANY_MAX valid names: names, nnames */
	RQ_ACK,          /* uint ack, 0 or 1 */
	RQ_SLOT,         /* uint slot, 0..PROTO_HOLD_SLOTS-1 (0: none) */
};

/* Success reply fields: which proto_rep member each carries. */
enum proto_rep_field {
	RP_NONE = 0,     /* ends a list */
	RP_VERSION,      /* uint32 version */
	RP_MSG_MAX,      /* uint32 msg_max */
	RP_MAXSIZE,      /* int64 maxsize */
	RP_DATA,         /* bin data */
	RP_TAG,          /* uint64 tag */
	RP_FLAGS,        /* uint32 flags */
	RP_MAXMSGS,      /* int64 maxmsgs >= 0 */
	RP_MAXBYTES,     /* int64 maxbytes >= 0 */
	RP_COUNT,        /* uint32 count, 1..IPC_BATCH_MAX */
	RP_BINS,         /* non-empty array of bins: iov, niov */
	RP_INFO,         /* one info map: infos[0] */
	RP_INFOS,        /* array of info maps: infos, ninfos */
	RP_MORE,         /* uint32 more, 0 or 1 */
	RP_DROPPED,      /* uint64 dropped: how many messages an op dropped */
	RP_DINFO,        /* the daemon info map: dinfo */
	/* RP_CAPS and the fields after it in a row are an optional tail:
	 * sent only when has_caps (HELLO answered a request with caps). */
	RP_CAPS,         /* uint32 caps the daemon grants, PROTO_CAP_* bits */
	RP_MEMFD_MAX,    /* uint32 memfd_max: the largest memfd payload */
	RP_MEMFD_MIN,    /* uint32 memfd_min: payloads from this size go by memfd */
	RP_INDEX,        /* uint32 index: which of the request's names */
	RP_GRANTED,      /* uint32 count: slots QRESV reserved, 0 or more */
};

/* Can a request of the op park? */
#define PROTO_NOPARK 0
#define PROTO_PARKS 1

/*
 * X(NAME, lower, number, (request fields), optional, (reply fields), park)
 */
#define PROTO_OPS(X) \
	X(HELLO, hello, 1, (RQ_VERSION, RQ_CAPS), 1, \
	  (RP_VERSION, RP_MSG_MAX, RP_CAPS, RP_MEMFD_MAX, RP_MEMFD_MIN), \
	  PROTO_NOPARK) \
	X(QOPEN, qopen, 2, (RQ_NAME, RQ_MAXSIZE, RQ_OPEN_FLAGS, RQ_MODE, \
			    RQ_MAX_DELIVERIES, RQ_DEAD_LETTER), 3, \
	  (RP_MAXSIZE), PROTO_NOPARK) \
	X(QPUT, qput, 3, (RQ_NAME, RQ_DATA, RQ_TIMEOUT), 0, \
	  (RP_NONE), PROTO_PARKS) \
	X(QGET, qget, 4, (RQ_NAME, RQ_TIMEOUT), 0, \
	  (RP_DATA), PROTO_PARKS) \
	X(STAT, stat, 5, (RQ_NAME), 0, \
	  (RP_INFO), PROTO_NOPARK) \
	X(QDEL, qdel, 6, (RQ_NAME), 0, \
	  (RP_NONE), PROTO_NOPARK) \
	X(LIST, list, 7, (RQ_AFTER), 1, \
	  (RP_INFOS, RP_MORE), PROTO_NOPARK) \
	X(PATTACH, pattach, 8, (RQ_NAME, RQ_END, RQ_PIPE_FLAGS, RQ_MAXMSGS, \
				RQ_MAXBYTES, RQ_MODE), 1, \
	  (RP_FLAGS, RP_MAXMSGS, RP_MAXBYTES), PROTO_NOPARK) \
	X(PSEND, psend, 9, (RQ_NAME, RQ_END, RQ_DATA, RQ_TIMEOUT), 0, \
	  (RP_NONE), PROTO_PARKS) \
	X(PRECV, precv, 10, (RQ_NAME, RQ_END, RQ_TIMEOUT), 0, \
	  (RP_DATA), PROTO_PARKS) \
	X(PCLOSE, pclose, 11, (RQ_NAME, RQ_END), 0, \
	  (RP_NONE), PROTO_NOPARK) \
	X(QPUTN, qputn, 12, (RQ_NAME, RQ_DATAS, RQ_TIMEOUT), 0, \
	  (RP_COUNT), PROTO_PARKS) \
	X(QGETN, qgetn, 13, (RQ_NAME, RQ_MAX, RQ_TIMEOUT), 0, \
	  (RP_BINS), PROTO_PARKS) \
	X(PSENDN, psendn, 14, (RQ_NAME, RQ_END, RQ_DATAS, RQ_TIMEOUT), 0, \
	  (RP_COUNT), PROTO_PARKS) \
	X(PRECVN, precvn, 15, (RQ_NAME, RQ_END, RQ_MAX, RQ_TIMEOUT), 0, \
	  (RP_BINS), PROTO_PARKS) \
	X(QGETA, qgeta, 16, (RQ_NAME, RQ_TIMEOUT, RQ_LEASE), 0, \
	  (RP_DATA, RP_TAG), PROTO_PARKS) \
	X(QACK, qack, 17, (RQ_NAME, RQ_TAG), 0, \
	  (RP_NONE), PROTO_NOPARK) \
	X(PDETACH, pdetach, 18, (RQ_NAME, RQ_END), 0, \
	  (RP_NONE), PROTO_NOPARK) \
	X(QPEEK, qpeek, 19, (RQ_NAME, RQ_MAX), 0, \
	  (RP_BINS), PROTO_NOPARK) \
	X(QPURGE, qpurge, 20, (RQ_NAME), 0, \
	  (RP_DROPPED), PROTO_NOPARK) \
	X(CHMOD, chmod, 21, (RQ_NAME, RQ_MODE), 0, \
	  (RP_NONE), PROTO_NOPARK) \
	X(CHOWN, chown, 22, (RQ_NAME, RQ_UID, RQ_GID), 0, \
	  (RP_NONE), PROTO_NOPARK) \
	X(QRELEASE, qrelease, 23, (RQ_NAME, RQ_TAG, RQ_DELAY), 0, \
	  (RP_NONE), PROTO_NOPARK) \
	X(INFO, info, 24, (RQ_NONE), 0, \
	  (RP_DINFO), PROTO_NOPARK) \
	X(QUNGET, qunget, 25, (RQ_NAME, RQ_DATAS), 0, \
	  (RP_NONE), PROTO_NOPARK) \
	X(QGETANY, qgetany, 26, (RQ_NAMES, RQ_TIMEOUT, RQ_ACK, RQ_LEASE), 0, \
	  (RP_INDEX, RP_DATA, RP_TAG), PROTO_PARKS) \
	X(PSHARE, pshare, 27, (RQ_NAME, RQ_END), 0, \
	  (RP_TAG), PROTO_NOPARK) \
	X(PJOIN, pjoin, 28, (RQ_NAME, RQ_END, RQ_TAG), 0, \
	  (RP_FLAGS, RP_MAXMSGS, RP_MAXBYTES), PROTO_NOPARK) \
	X(QGETH, qgeth, 29, (RQ_NAME, RQ_MAX, RQ_TIMEOUT, RQ_LEASE, RQ_SLOT), 1, \
	  (RP_BINS, RP_TAG), PROTO_PARKS) \
	/* QDONE is never answered: its reply row is unused. */ \
	X(QDONE, qdone, 30, (RQ_NAME, RQ_TAG, RQ_ACK), 0, \
	  (RP_NONE), PROTO_NOPARK) \
	/* EXPIRE is never answered either. */ \
	X(EXPIRE, expire, 31, (RQ_TAG), 0, \
	  (RP_NONE), PROTO_NOPARK) \
	X(QRESV, qresv, 32, (RQ_NAME, RQ_MAX, RQ_LEASE), 1, \
	  (RP_GRANTED), PROTO_NOPARK) \
	/* A QPUTR into a slot taken back (QRESV's lease) waits for room. */ \
	X(QPUTR, qputr, 33, (RQ_NAME, RQ_DATA), 0, \
	  (RP_NONE), PROTO_PARKS) \
	X(QUNRESV, qunresv, 34, (RQ_NAME), 0, \
	  (RP_NONE), PROTO_NOPARK) \
	/* The connection's hold page: a memfd marker of PROTO_HOLD_PAGE. */ \
	X(QHOLDS, qholds, 35, (RQ_DATA), 0, \
	  (RP_NONE), PROTO_NOPARK)

/* Operation codes, from the rows. Never renumber: append and document. */
enum proto_op {
#define PROTO_OP_ENUM(N, n, num, rq, opt, rp, park) PROTO_OP_##N = num,
	PROTO_OPS(PROTO_OP_ENUM)
#undef PROTO_OP_ENUM
	PROTO_OP__MAX    /* one past the highest: the last row's number + 1 */
};

/* The most fields a request or reply lists, with its RQ_NONE/RP_NONE. */
#define PROTO_FIELDS_MAX 8

/* One row of the table, as data. */
struct proto_op_desc {
	const char *name;                        /* "QPUT" */
	unsigned char req[PROTO_FIELDS_MAX];     /* RQ_NONE-terminated */
	unsigned char req_optional;              /* trailing req fields that may be left out */
	unsigned char rep[PROTO_FIELDS_MAX];     /* RP_NONE-terminated */
	unsigned char parks;                     /* PROTO_PARKS or PROTO_NOPARK */
};

/* The row of op, or NULL for an unknown op. */
const struct proto_op_desc *proto_op(uint32_t op);
/* The name of op ("QPUT"), or "?" for an unknown one. */
const char *proto_op_name(uint32_t op);
/* How many request fields d lists, the optional ones included. */
unsigned proto_op_nreq(const struct proto_op_desc *d);
/* How many success reply fields d lists. */
unsigned proto_op_nrep(const struct proto_op_desc *d);
/* How many of them come before the optional tail (RP_CAPS on). */
unsigned proto_op_nrep_required(const struct proto_op_desc *d);

#endif
