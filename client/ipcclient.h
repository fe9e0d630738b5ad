/*
 * ipcclient.h: libipcclient, the C client of the ipcd message broker.
 *
 * ipcd owns named bounded FIFO queues with the semantics of Python's
 * multiprocessing.Queue, served over a Unix domain socket. This library
 * speaks its protocol. Link with `pkg-config --libs libipcclient`.
 *
 * Conventions, for every call:
 *  - Results are int: 0 success; a positive IPC_E* code (ipc_defs.h) is the
 *    documented outcome of that request (Empty, Full, not found, ...) and the
 *    handle stays usable; a negative code (IPC_EIO, IPC_EPROTO, ...) means
 *    the connection is broken: ipc_close() it and connect again.
 *  - Timeouts are milliseconds: -1 (IPC_FOREVER) blocks until the request
 *    can complete, 0 never blocks (put_nowait / get_nowait), > 0 waits at
 *    most that long. Waiting happens in the daemon, on its monotonic clock.
 *  - A handle is one connection. It is not thread-safe: use one handle per
 *    thread, or lock around calls.
 *  - The library never exits the process and never changes signal handling
 *    (it writes with MSG_NOSIGNAL).
 */
#ifndef IPCCLIENT_H
#define IPCCLIENT_H

#include <stddef.h>
#include <stdint.h>

#include "ipc_defs.h"

#ifdef __cplusplus
extern "C" {
#endif

/* An open connection to ipcd. Opaque. */
typedef struct ipc_client ipc_client;

/* Flags for ipc_queue_open(). */
#define IPC_OPEN_CREATE 0x1 /* create the queue when it does not exist */
#define IPC_OPEN_EXCL 0x2   /* with IPC_OPEN_CREATE: fail with IPC_EEXIST if it does */

/* Pass as maxsize to ipc_queue_open() to accept any existing maxsize. */
#define IPC_MAXSIZE_ANY (-1)

/* What ipc_stat() and ipc_list() report about one queue or pipe. */
struct ipc_info {
	char name[IPC_NAME_MAX + 1];
	int kind;                /* IPC_KIND_QUEUE or IPC_KIND_PIPE */
	long long maxsize;       /* queue: most messages held; 0 = unbounded */
	unsigned long long size; /* messages held now */
	unsigned long long bytes;/* payload bytes held now */
	unsigned getters;        /* get requests parked (waiting) */
	unsigned putters;        /* put requests parked (waiting) */
	unsigned long long puts; /* messages accepted since creation */
	unsigned long long gets; /* messages delivered since creation */
};

/*
 * The socket path used when none is given: $IPCD_SOCKET if set and not
 * empty, else $XDG_RUNTIME_DIR/ipcd.sock if XDG_RUNTIME_DIR is set, else
 * /run/ipcd/ipcd.sock. Writes it to buf (size len) and returns buf, or NULL
 * when it does not fit.
 */
char *ipc_default_socket(char *buf, size_t len);

/*
 * Connect to the daemon listening on path (NULL: ipc_default_socket()) and
 * check the protocol version. On success *out is a new handle.
 * Returns 0, IPC_ECONNECT (errno says why), IPC_EVERSION, IPC_EIO,
 * IPC_EPROTO or IPC_ENOMEM.
 */
int ipc_connect(const char *path, ipc_client **out);

/* Close the connection and free the handle (NULL is fine). Requests still
 * parked in the daemon for it are cancelled there and lose nothing. */
void ipc_close(ipc_client *c);

/* The handle's socket descriptor, for poll(); do not read or write it. */
int ipc_fd(const ipc_client *c);

/*
 * Open the queue `name`, creating it when flags has IPC_OPEN_CREATE.
 * maxsize is the most messages it holds (0 = unbounded, Python's default);
 * opening an existing queue with another maxsize fails with IPC_EMISMATCH,
 * unless maxsize is IPC_MAXSIZE_ANY. Opening is optional: put and get
 * address queues by name. Returns 0, IPC_ENOENT (missing, no CREATE),
 * IPC_EEXIST (CREATE|EXCL and it exists), IPC_EMISMATCH, IPC_ENAME,
 * IPC_EINVAL, IPC_EWRONGTYPE (the name is a pipe), IPC_ELIMIT, or fatal.
 * When actual is not NULL it receives the queue's maxsize.
 */
int ipc_queue_open(ipc_client *c, const char *name, long long maxsize,
		   int flags, long long *actual);

/*
 * Put len bytes (0 allowed, at most the daemon's message limit) at the tail
 * of queue `name`. If the queue is full, wait per timeout_ms for room;
 * parked putters are admitted in arrival order. Returns 0, IPC_EFULL
 * (still full when the timeout ran out; nothing was enqueued), IPC_ENOENT,
 * IPC_EDELETED (deleted while waiting), IPC_ETOOBIG, IPC_ENAME, IPC_EINVAL,
 * IPC_EWRONGTYPE, IPC_ESHUTDOWN, or fatal.
 */
int ipc_put(ipc_client *c, const char *name, const void *data, size_t len,
	    int timeout_ms);

/*
 * Take the message at the head of queue `name`. If it is empty, wait per
 * timeout_ms; parked getters are served in arrival order. On 0, *data is
 * a malloc'd copy of the message (free it with ipc_free(); never NULL, even
 * for 0 bytes) and *len its size. Returns 0, IPC_EEMPTY (nothing arrived in
 * time), IPC_ENOENT, IPC_EDELETED, IPC_ENAME, IPC_EINVAL, IPC_EWRONGTYPE,
 * IPC_ESHUTDOWN, or fatal.
 */
int ipc_get(ipc_client *c, const char *name, void **data, size_t *len,
	    int timeout_ms);

/* Free memory returned by this library (NULL is fine). */
void ipc_free(void *p);

/* Fill *info for queue or pipe `name`. 0, IPC_ENOENT, IPC_ENAME or fatal. */
int ipc_stat(ipc_client *c, const char *name, struct ipc_info *info);

/*
 * Delete queue `name` and the messages it holds. Every request parked on it
 * completes with IPC_EDELETED. 0, IPC_ENOENT, IPC_ENAME, IPC_EWRONGTYPE or
 * fatal.
 */
int ipc_queue_delete(ipc_client *c, const char *name);

/* List every queue and pipe, sorted by name: *infos is a malloc'd array of
 * *n entries (free with ipc_free(); NULL when *n is 0). 0 or fatal. */
int ipc_list(ipc_client *c, struct ipc_info **infos, size_t *n);

/* The daemon's message size limit, learnt at connect. */
size_t ipc_msg_max(const ipc_client *c);

/* Text of the last failure on this handle: the daemon's detail or the
 * system error. Valid until the next call on c; never NULL. */
const char *ipc_last_error(const ipc_client *c);

/* A short English text for an IPC_* code. */
const char *ipc_strerror(int code);

#ifdef __cplusplus
}
#endif

#endif
