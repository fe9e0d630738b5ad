/* SPDX-License-Identifier: MIT */
/*
 * client_int.h: libipcclient internals, shared by the files of client/ and
 * never installed. The library is built with -fvisibility=hidden; only the
 * functions marked IPC_EXPORT (the ones of ipcclient/ipcclient.h) leave the .so.
 */
#ifndef IPC_CLIENT_INT_H
#define IPC_CLIENT_INT_H

#include <stddef.h>
#include <stdint.h>

#include "ipcclient/ipcclient.h"
#include "proto.h"

#define IPC_EXPORT __attribute__((visibility("default")))

/* The system daemon's socket, which ipc_connect(NULL) tries last. */
#define CLIENT_SYSTEM_SOCKET "/run/ipcd/ipcd.sock"
/* Room for a socket path with its NUL (sun_path). */
#define CLIENT_PATH_MAX 108
/* The most paths one ipc_connect() tries. */
#define CLIENT_PATHS_MAX 2

/* The socket paths one ipc_connect() tries, in order (discover.c). */
struct client_paths {
	char path[CLIENT_PATHS_MAX][CLIENT_PATH_MAX];
	int toolong[CLIENT_PATHS_MAX];   /* did not fit: cut short, not tried */
	size_t n;
};

/* How much room a read asks for when no frame header says more. */
#define CLIENT_READ_CHUNK 65536u

/* Payloads of at least this many bytes are sent from the caller's memory
 * (scatter/gather) instead of being copied into the request; at most
 * CLIENT_HOLES_MAX of them per request, the others are copied. */
#define CLIENT_HOLE_MIN (16u << 10)
#define CLIENT_HOLES_MAX 64u

/* Async requests wait in tx, unsent, until this many bytes do (or the
 * handle waits for a reply, or closes): one write then carries many. */
#define CLIENT_CORK_MAX (64u << 10)

/* sizeof(struct ipc_info) in soname 0's first release: the least
 * ipc_stat() and ipc_list() accept. Never changes. */
#define CLIENT_INFO_SIZE_0 280u
/* The size of the first struct ipc_daemon_info: the least
 * ipc_daemon_info() accepts. */
#define CLIENT_DINFO_SIZE_0 352u

/* The async window when ipc_set_window() was not called. */
#define CLIENT_WINDOW_DEFAULT 128u
/* The most bytes async requests in flight may put on the wire (whatever
 * the window): the daemon holds what each put waiting for room carries,
 * and 128 puts of 1 MiB to a full queue made it fault 128 MiB of fresh
 * heap in (68 page faults per message; 11 at this bound). */
#define CLIENT_WINDOW_BYTES (8u << 20)

/* One request sent whose reply has not been read yet. */
struct client_pending {
	uint32_t id;             /* 0: a slot whose reply came (a tombstone) */
	uint32_t op;
	uint64_t seq;            /* async: its number since the last flush (from 1) */
	int async;               /* ipc_queue_put_async: the status goes to async_rc */
	uint32_t nmsgs;          /* QPUTN, PSENDN: messages it carries, else 0 */
	size_t bytes;            /* async: the bytes it put on the wire, else 0 */
	int timeout_ms;          /* its own timeout (0 for ops that never wait) */
	void *ctx;               /* a read-ahead fetch: its read-ahead record */
};

struct client_readahead;

struct backend_ops;

struct ipc_client {
	const struct backend_ops *ops; /* the backend serving this handle
					  (backend.h) */
	void *bstate;            /* that backend's own state (nats.c's);
				    the ipcd backend keeps its state below */
	int fd;
	int sndbuf_raised;       /* its send buffer was raised (sock_sndbuf_fit) */
	struct pbuf tx;          /* the request being sent */
	struct pbuf rx;          /* bytes received; frames not yet consumed
				    start at rx_off */
	struct pbuf aside;       /* received while a send waited, not yet
				    in rx (rx may be pointed into then) */
	size_t rx_off;
	size_t rx_done;          /* length of the last decoded frame (at
				    rx_off), dropped at the next read: its
				    reply points into it */
	uint32_t next_id;        /* request ids: 1, 2, ... skipping 0 */
	/* Requests in flight: a ring, oldest first, searched by id from the
	 * oldest (replies mostly come in order). pend_len slots from
	 * pend_head are used, npend of them live. */
	struct client_pending *pend;
	size_t pend_cap, pend_head, pend_len, npend;
	size_t nasync;           /* async requests in flight */
	size_t window;           /* the most of them (ipc_set_window) */
	size_t async_bytes;      /* their bytes on the wire (CLIENT_WINDOW_BYTES) */
	uint64_t async_seq;      /* async requests sent since the last flush */
	int async_rc;            /* the first failure among their replies */
	char async_err[256];     /* its text, for ipc_flush() */
	unsigned long long async_notput; /* messages of async requests not put */
	unsigned long long flush_notput; /* the same, as of the last ipc_flush() */
	struct client_readahead *readahead; /* queues and pipe ends with read-ahead (readahead.c) */
	uint64_t *hold_page;     /* the hold page shared with the daemon
				    (QHOLDS, readahead.c), or NULL */
	int hold_page_tried;     /* made or refused once: not again */
	uint64_t hold_used[PROTO_HOLD_SLOTS / 64]; /* its slots holding a
				    batch (bit s: slot s; slot 0 is none) */
	struct proto_dec dec;
	int dec_ready;           /* dec was initialised */
	size_t msg_max;          /* the daemon's message limit (HELLO) */
	size_t memfd_min;        /* payloads from this size go as sealed
				    memfds (HELLO; 0: never) */
	size_t memfd_max;        /* the largest of them (HELLO) */
	int no_caps;             /* HELLO without caps (an older daemon) */
	int *rxfds;              /* descriptors received, not yet claimed by
				    a reply (nrxfds of rxfds_cap), oldest first */
	size_t nrxfds, rxfds_cap;
	int txfds[PROTO_FRAME_FDS_MAX]; /* memfds sent with the next write */
	size_t ntxfds;
	struct client_map *maps; /* mappings of the last reply's memfd
				    payloads, unmapped at the next read */
	size_t nmaps, maps_cap;
	struct client_map *views; /* messages held by ipc_queue_get_view() */
	size_t nviews, views_cap;
	struct proto_iov *memfd_iov; /* a batch's payloads with markers */
	int broken;              /* a fatal error happened: refuse every call */
	int io_timeout_ms;       /* ipc_set_io_timeout(), -1: none */
	int64_t deadline_ms;     /* the wait in progress gives up then
				    (monotonic ms), -1: never */
	int64_t rcvtimeo_ms;     /* the socket's SO_RCVTIMEO, 0: none
				    (client_recv_bound) */
	int (*check)(void *);    /* ipc_set_interrupt(), NULL: off */
	void *check_arg;
	int check_ms;            /* how often check runs while a reply waits */
	uint32_t wait_id;        /* the request client_wait waits for, 0: any */
	int expired;             /* this wait sent EXPIRE already */
	char err[256];           /* ipc_last_error() */
};

/* Shared by the files of client/ (client.c, async.c, batch.c, ...): */

/* Serve a public call with the handle's backend when it is not ipcd's
 * protocol (backend.h): `if (c->ops) return CLIENT_BACKEND(c, put, ...)`;
 * an entry the backend leaves NULL is IPC_ENOTSUP. */
#define CLIENT_BACKEND(c, entry, ...) \
	((c)->ops->entry ? (c)->ops->entry((c), __VA_ARGS__) \
			 : client_notsup((c), #entry))
/* The call `what` is not supported by c's backend: IPC_ENOTSUP. */
int client_notsup(struct ipc_client *c, const char *what);
/* Copy a struct ipc_info into the caller's one of size bytes. */
void client_info_out(void *dst, size_t size, const struct ipc_info *info);

/* Fill p with the paths ipc_connect(path) tries (discover.c). */
void client_paths(const char *path, struct client_paths *p);
/* This thread's ipc_connect() failure text: clear it, add one path that
 * refused (with its errno), set it after a refused handshake (the code's
 * text and the daemon's detail), read it
 * (NULL when none). */
void client_connect_err_clear(void);
void client_connect_err_add(const char *path, int err);
void client_connect_err_set(const char *path, const char *what,
			    const char *detail);
const char *client_connect_err(void);

/* Record the text ipc_last_error() returns. */
void client_seterr(struct ipc_client *c, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));
/* Mark the handle broken after a fatal error; returns code. */
int client_fail(struct ipc_client *c, int code);
/* client_fail() with IPC_EIO, the text saying what failed and why (err). */
int client_fail_errno(struct ipc_client *c, const char *what, int err);
/* Refuse a call on a broken handle; 0 when the handle is usable. */
int client_check(struct ipc_client *c);
/* Check a name before any round trip: 0 or IPC_ENAME. */
int client_check_name(struct ipc_client *c, const char *name);
/* Check a timeout in milliseconds: 0 or IPC_EINVAL. */
int client_check_timeout(struct ipc_client *c, int timeout_ms);
/* Send req (id assigned here) and wait for its reply in *rep (valid until
 * the next call). 0 when a reply arrived whatever its status; IPC_EINVAL
 * when req cannot be encoded; else fatal. */
int client_call(struct ipc_client *c, struct proto_req *req, struct proto_rep *rep);
/* Check a message to send and point req at it: 0, IPC_ETOOBIG, IPC_EINVAL. */
int client_check_payload(struct ipc_client *c, const void *data, size_t len,
			 struct proto_req *req);
/* A block for a large message read ahead, and freeing those kept
 * (blocks.c). */
void *client_block_new(size_t len);
void client_blocks_drop(void);
/* Hand n bytes of a message to the caller as a malloc'd copy (from
 * CLIENT_HOLE_MIN bytes up a block of blocks.c: a kept one, or on a cache
 * line); out of memory is fatal (IPC_ENOMEM, the handle breaks). */
int client_copy_out(struct ipc_client *c, const void *p, size_t n, void **data,
		    size_t *len);
/* Check where a got message goes (data, len not NULL): 0 or IPC_EINVAL. */
int client_check_place(struct ipc_client *c, void **data, size_t *len);
/* Check a pipe end number (0 or 1): 0 or IPC_EINVAL. */
int client_check_end(struct ipc_client *c, int end);
/* What client_prep() checks besides the handle and the name. */
#define CLIENT_PREP_TIMEOUT 0x1u /* req->timeout_ms */
#define CLIENT_PREP_END 0x2u     /* req->end */
#define CLIENT_PREP_DATA 0x4u    /* the payload req->data[0..data_len) */
/* The checks of a request naming an object, in the order every call
 * makes them (handle, name, then what flags asks for), then name copied
 * into req: 0 or the first refusal (the handle's error text says why). */
int client_prep(struct ipc_client *c, const char *name, struct proto_req *req,
		unsigned flags);
/* Check the size of a caller's options struct (see "Compatibility" in
 * ipcclient.h) that this library knows `known` bytes of: 0, or IPC_EINVAL
 * when it is too small or has nonzero bytes past the known fields. */
int client_check_opts(struct ipc_client *c, const void *opts, size_t size,
		      size_t known);
/* Whether an options struct of the caller's `size` holds field of type
 * whole (an older caller's does not: the default applies). */
#define CLIENT_OPT_HAS(size, type, field) \
	((size) >= offsetof(type, field) + sizeof(((type *)0)->field))
/* Check a mode of the opts structs: IPC_MODE_DEFAULT or 0..0777. */
#define CLIENT_MODE_OK(m) ((m) == IPC_MODE_DEFAULT || ((m) >= 0 && (m) <= 0777))
/* client_request, then the reply's message to the caller (client_copy_out). */
int client_request_payload(struct ipc_client *c, struct proto_req *req,
			   struct proto_rep *rep, void **data, size_t *len);
/* client_call, then the reply's status (with its detail recorded). */
int client_request(struct ipc_client *c, struct proto_req *req, struct proto_rep *rep);
/* Send batch get req (QGETN, PRECVN, QPEEK) for up to max messages:
 * 0 with msgs[0..*n) pointing into the receive buffer, or its status. */
struct ipc_msg;
int client_batch_get(struct ipc_client *c, struct proto_req *req,
		     struct ipc_msg *msgs, size_t max, size_t *n);
/* Give msgs[0..n) (n >= 1, checked) back to the head of queue name,
 * in order (QUNGET, one request per frame's worth): 0 or the first
 * failure. */
int client_unget(struct ipc_client *c, const char *name, const struct ipc_msg *msgs,
		 size_t n);
/* Send req (id assigned here) without waiting for its reply. An async one
 * is settled whenever its reply is read: a failure is kept for
 * ipc_flush(). 0, IPC_EINVAL (cannot be encoded) or fatal. */
int client_send(struct ipc_client *c, struct proto_req *req, int async);
/* client_send() of a read-ahead fetch: its reply goes to
 * client_readahead_settle(c, ctx, rep) when read by another call. */
int client_send_ctx(struct ipc_client *c, struct proto_req *req, void *ctx);
/* Send req, which the daemon never answers (QDONE), with what waits in
 * tx, all written before it returns: 0 or fatal. */
int client_send_noreply(struct ipc_client *c, struct proto_req *req);
/* Read replies until the one to request id is in *rep (valid until the
 * next read), settling the async replies read on the way; id 0 settles
 * the next reply, whichever it is. 0 or fatal. */
int client_wait(struct ipc_client *c, uint32_t id, struct proto_rep *rep);
/* Settle every reply already taken from the socket (read with another
 * one, or aside), so that what is left to read is on the socket: 0 or
 * fatal. A reply only partly read is waited for. */
int client_settle_read(struct ipc_client *c);
/* Write what async requests wait in tx (they are held until CLIENT_CORK_MAX
 * bytes are, or the handle waits for a reply, or closes): 0 or fatal. */
int client_push(struct ipc_client *c);
/* Milliseconds on the monotonic clock. */
int64_t client_now_ms(void);
/* Whether bytes already taken from the socket (in rx past the frame last
 * handed out, or aside) hold the start of a reply. */
int client_has_input(const struct ipc_client *c);
/* Before an async request: wait for room in the window (async.c). */
int client_window_room(struct ipc_client *c);
/* Turn a reply's status into a call's result, recording its text. */
int client_status(struct ipc_client *c, const struct proto_rep *rep);

/* Large messages as sealed memfds (memfd.c): */

/* A read-only mapping of a received memfd payload (or, for a view of an
 * inline message, a malloc'd copy: len 0 then means not mapped). */
struct client_map {
	void *base;
	size_t len;
	int mapped;
};
/* Does a payload of len bytes go as a memfd on this handle? */
int client_memfd_fits(const struct ipc_client *c, size_t len);
/* The most bytes a payload of len bytes may have: the memfd limit when
 * it would go as one, else the daemon's inline limit. */
size_t client_payload_max(const struct ipc_client *c, size_t len);
/* recv() keeping the descriptors sent along in c->rxfds: bytes, or -1
 * (errno; EPROTO when descriptors were cut off). */
long client_memfd_recv(struct ipc_client *c, void *buf, size_t len, int flags);
/* Will client_memfd_prepare() make memfds for req? */
int client_memfd_wanted(const struct ipc_client *c, const struct proto_req *req);
/* Turn req's payloads of at least memfd_min bytes into sealed memfds
 * (marked in req, their descriptors in c->txfds): 0 or fatal. */
int client_memfd_prepare(struct ipc_client *c, struct proto_req *req);
/* Attach c->txfds to mh (cbuf of cbuflen bytes): how many. */
size_t client_memfd_attach(struct ipc_client *c, void *mh, void *cbuf,
			   size_t cbuflen);
/* The descriptors attached were sent (or the send failed): close them. */
void client_memfd_sent(struct ipc_client *c);
/* Map the memfd payloads a decoded reply marks (its descriptors are the
 * oldest rep->nfds of c->rxfds) and point rep at them: 0 or fatal. */
int client_memfd_claim(struct ipc_client *c, struct proto_rep *rep);
/* Unmap the mappings of the last reply (at the next read). */
void client_memfd_release(struct ipc_client *c);
/* Free everything memfd.c holds for c (ipc_close). */
void client_memfd_free(struct ipc_client *c);

/* Read-ahead (readahead.c), hooks for the get calls: */

/* ipc_queue_get() on a queue with read-ahead: serve from the local buffer or
 * fetch a batch. The result of the get, or CLIENT_NO_READAHEAD when name
 * has no read-ahead (then ipc_queue_get does a plain get). */
#define CLIENT_NO_READAHEAD 1000
int client_readahead_get(struct ipc_client *c, const char *name, void **data,
			 size_t *len, int timeout_ms);
/* ipc_pipe_recv() at an end with read-ahead: like client_readahead_get. */
int client_readahead_recv(struct ipc_client *c, const char *name, int end,
			  void **data, size_t *len, int timeout_ms);
/* ipc_queue_get_many() / ipc_pipe_recv_many() (end -1: the queue) with
 * read-ahead: hand out buffered messages, fetching first when read-ahead
 * is on. The result, or CLIENT_NO_READAHEAD for the plain batch get. */
int client_readahead_many(struct ipc_client *c, const char *name, int end,
			  struct ipc_msg *msgs, size_t max, size_t *n, int timeout_ms);
/* The reply to a read-ahead fetch, read while waiting for another one:
 * buffer its messages. 0 or fatal. */
int client_readahead_settle(struct ipc_client *c, void *ctx,
			    const struct proto_rep *rep);
/* Give the messages read ahead for every queue back to its head
 * (ipc_close); failures are not reported. */
void client_readahead_return(struct ipc_client *c);
/* Free every read-ahead buffer (ipc_close). */
void client_readahead_free(struct ipc_client *c);

#endif
