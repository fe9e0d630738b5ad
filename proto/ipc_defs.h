/* SPDX-License-Identifier: MIT */
/*
 * ipc_defs.h: result codes and limits shared by the ipcd wire protocol, the
 * daemon and libipcclient. Installed next to ipcclient.h.
 *
 * The one convention: 0 is success. A positive code is the documented
 * outcome of one request (Empty, Full, EOF, ...): the connection stays
 * usable. A negative code is fatal for the connection (I/O error, protocol
 * violation): close the handle and connect again.
 */
#ifndef IPC_DEFS_H
#define IPC_DEFS_H

#ifdef __cplusplus
extern "C" {
#endif

/* Wire protocol version; bump on any incompatible change of proto/PROTOCOL.md. */
#define IPC_PROTO_VERSION 1

/* A queue or pipe name: 1..IPC_NAME_MAX bytes of [A-Za-z0-9_.:@-], not
 * starting with '.' (so names are safe in file paths and shell words). */
#define IPC_NAME_MAX 128

/* The largest message payload (bytes) any daemon accepts; a daemon may be
 * configured lower and says its own limit in the handshake reply. */
#define IPC_MSG_MAX (1u << 20)

/* The most messages one batched put or get may carry. */
#define IPC_BATCH_MAX 1024
/* The most queues one ipc_queue_get_any() waits on (QGETANY). */
#define IPC_GET_ANY_MAX 64

/* Timeouts are in milliseconds: -1 waits forever, 0 never waits, > 0 waits
 * at most that long, measured on the daemon's monotonic clock. */
#define IPC_FOREVER (-1)

/* Pipe buffering, per direction: the defaults when attach asks for 0,
 * and the largest values accepted (IPC_EINVAL beyond). One message larger
 * than maxbytes still fits when the direction is empty. */
#define IPC_PIPE_DEFAULT_MSGS 64
#define IPC_PIPE_DEFAULT_BYTES (1u << 20)
#define IPC_PIPE_MSGS_MAX 65536
#define IPC_PIPE_BYTES_MAX (64u << 20)

/* A pipe's two ends as reported by stat: bit set when end e (0 or 1) is
 * attached, or closed for good. An end with neither bit was never
 * attached. */
#define IPC_END_ATTACHED(e) (1u << (e))
#define IPC_END_CLOSED(e) (4u << (e))

/* What a name refers to. */
enum ipc_kind {
	IPC_KIND_QUEUE = 1,
	IPC_KIND_PIPE = 2,
};

enum ipc_result {
	IPC_OK = 0,
	IPC_EEMPTY = 1,      /* get/recv: nothing arrived before the timeout */
	IPC_EFULL = 2,       /* put/send: no room before the timeout */
	IPC_ENOENT = 3,      /* no queue or pipe of that name */
	IPC_EEXIST = 4,      /* exclusive create: the name is taken */
	IPC_EDELETED = 5,    /* the queue was deleted while the request waited */
	IPC_EMISMATCH = 6,   /* open: exists with another maxsize or kind */
	IPC_ENAME = 7,       /* name empty, too long or with a forbidden byte */
	IPC_ETOOBIG = 8,     /* payload over the message size limit */
	IPC_EINVAL = 9,      /* an argument out of range */
	IPC_EEOF = 10,       /* pipe: the peer closed and all it sent was read */
	IPC_EBUSY = 11,      /* pipe: that end is attached by someone else */
	IPC_EPIPE = 12,      /* pipe: send after the peer closed (BrokenPipe) */
	IPC_EPERM = 13,      /* permission denied */
	IPC_ESHUTDOWN = 14,  /* the daemon is shutting down */
	IPC_ELIMIT = 15,     /* a daemon-wide limit was reached */
	IPC_EWRONGTYPE = 16, /* the name is a pipe where a queue was meant, or back */
	IPC_EDIRECTION = 17, /* pipe: this end may not send (or receive) */
	IPC_ECLOSED = 18,    /* pipe: the end was closed and cannot be reused */
	IPC_ENOTATTACHED = 19, /* pipe: this connection holds no such end */
	IPC_ENOTHELD = 20,   /* ack: no message in flight with that tag for this
				connection (acked already, or its lease ran out) */
	IPC_ENOSPC = 21,     /* durable queue: the journal could not store the
				record (disk full or write error); nothing was
				put, retry once there is room */
	IPC_ENODURABLE = 22, /* durable create: the daemon keeps no journal
				(state-dir empty, or it could not be opened) */
	IPC_ENOTSUP = 23,    /* this backend cannot keep the call's semantics
				(pipes on NATS JetStream, docs/nats.md); never
				sent by ipcd itself */

	IPC_EIO = -1,        /* socket error or connection lost (errno kept) */
	IPC_EPROTO = -2,     /* malformed or unexpected frame */
	IPC_EVERSION = -3,   /* the peer speaks another protocol version */
	IPC_ENOMEM = -4,     /* out of memory */
	IPC_ECONNECT = -5,   /* could not connect to the socket */
	IPC_ETIMEDOUT = -6,  /* the daemon did not answer in time (connect
				timeout, or a reply later than the request's
				timeout plus the I/O timeout) */
};

#ifdef __cplusplus
}
#endif

#endif
