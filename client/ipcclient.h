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
	unsigned long long inflight; /* delivered by ipc_get_ack(), not yet acked */
	unsigned long long requeued; /* in-flight messages put back (consumer gone, lease out) */
	unsigned uid;            /* owner (the creator's uid) */
	unsigned gid;            /* group (the creator's primary gid) */
	unsigned mode;           /* permissions like a file's: 0640 = owner rw,
				    group r; read permits get, write put */
	/* Pipes only (0 for a queue). For a pipe, maxsize is the per-direction
	 * message bound and size, bytes, getters, putters, puts, gets add up
	 * both directions. */
	int duplex;              /* 1 duplex, 0 one-way (end 1 -> end 0) */
	unsigned ends;           /* IPC_END_ATTACHED(e) | IPC_END_CLOSED(e) bits,
				    e = 0, 1; neither: never attached yet */
	unsigned long long maxbytes; /* per-direction payload byte bound */
	struct ipc_pipe_dir {
		unsigned long long size;  /* messages buffered */
		unsigned long long bytes; /* payload bytes buffered */
		unsigned getters;         /* receives parked at the receiving end */
		unsigned putters;         /* sends parked at the sending end */
	} dir[2];                /* dir[i]: from end i to end 1 - i */
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
 * IPC_EPROTO, IPC_ENOMEM, or the daemon's refusal: IPC_ELIMIT (it serves
 * its max-connections already; try again later) or IPC_ESHUTDOWN.
 */
int ipc_connect(const char *path, ipc_client **out);

/* Close the connection and free the handle (NULL is fine). Async requests
 * still held in the handle are written first (their outcome is not
 * learnt). Requests still parked in the daemon for it are cancelled there
 * and lose nothing; the pipe ends it attached are closed (their peers read
 * on, then EOF). */
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
 * A queue created here is owned by the caller's uid and primary gid, with
 * the daemon's default mode (0660 unless configured otherwise). Opening an
 * existing queue needs read or write permission on it (IPC_EPERM); creating
 * one past the daemon's max-queues fails with IPC_ELIMIT.
 */
int ipc_queue_open(ipc_client *c, const char *name, long long maxsize,
		   int flags, long long *actual);

/*
 * ipc_queue_open() that gives a queue it creates the permission bits mode
 * (0 to 0777, like a file's: read permits get, write permits put; root may
 * do anything). mode does not change an existing queue. IPC_EINVAL for a
 * mode over 0777.
 */
int ipc_queue_open_mode(ipc_client *c, const char *name, long long maxsize,
			int flags, unsigned mode, long long *actual);

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

/*
 * At-least-once get. Like ipc_get(), but the message is not consumed yet:
 * it stays in the daemon, *in flight*, owned by this connection, until
 * ipc_ack(c, name, *tag). If this connection closes first (ipc_close, a
 * crash, SIGKILL) or, with lease_ms > 0, that many milliseconds pass
 * without the ack, the message goes back to the head of the queue, ahead
 * of newer messages, and is delivered again (to this or another consumer).
 * lease_ms 0 means no time limit. In-flight messages count toward the
 * queue's maxsize. Process the message, then ack it: a consumer that dies
 * in between gets it redelivered, so it may see a message twice, never
 * lose one. On 0, *data (free with ipc_free(), never NULL), *len and *tag
 * are set. Returns 0, IPC_EEMPTY, IPC_ENOENT, IPC_EDELETED, IPC_ENAME,
 * IPC_EINVAL (lease_ms < 0), IPC_EWRONGTYPE, IPC_EPERM, IPC_ESHUTDOWN, or
 * fatal.
 */
int ipc_get_ack(ipc_client *c, const char *name, void **data, size_t *len,
		uint64_t *tag, int timeout_ms, int lease_ms);

/*
 * Acknowledge the message ipc_get_ack() delivered under tag: it is done
 * and leaves the queue for good, freeing its slot. Returns 0, IPC_ENOTHELD
 * (this connection holds no message of that queue under tag: acked
 * already, or its lease ran out and it went back), IPC_ENOENT (the queue
 * is gone, and the message with it), IPC_ENAME, or fatal.
 */
int ipc_ack(ipc_client *c, const char *name, uint64_t tag);

/* Free memory returned by this library (NULL is fine). */
void ipc_free(void *p);

/* Fill *info for queue or pipe `name`. 0, IPC_ENOENT, IPC_ENAME or fatal. */
int ipc_stat(ipc_client *c, const char *name, struct ipc_info *info);

/*
 * Delete queue or pipe `name` and the messages it holds; the name is free
 * at once. Every request parked on it (a pipe's: either end, either
 * direction) completes with IPC_EDELETED. The connections that held a
 * deleted pipe's ends lose them: their later send, receive or close on
 * that name gets IPC_ENOENT, or, once a new pipe of that name exists,
 * whatever it answers a connection that has not attached it (typically
 * IPC_ENOTATTACHED). Only the owner or root may delete. 0, IPC_ENOENT,
 * IPC_EPERM, IPC_ENAME or fatal.
 */
int ipc_queue_delete(ipc_client *c, const char *name);

/* List every queue and pipe, sorted by name: *infos is a malloc'd array of
 * *n entries (free with ipc_free(); NULL when *n is 0). 0 or fatal. The
 * daemon sends the list in pages, fetched here one after the other: not
 * a snapshot (a name created or deleted meanwhile may or may not be
 * there; every name that exists throughout is there exactly once). */
int ipc_list(ipc_client *c, struct ipc_info **infos, size_t *n);

/*
 * Pipes: named point-to-point message channels with two ends, 0 and 1,
 * like Python's multiprocessing.Pipe between unrelated processes. Pipes
 * and queues share one namespace: a queue call on a pipe's name (or back)
 * fails with IPC_EWRONGTYPE, except ipc_queue_delete(), which deletes
 * either (ipc_pipe_delete() is the same call).
 *
 * A connection attaches to an end by name, then sends and receives whole
 * messages on it (boundaries kept, 0 bytes allowed). Only the connection
 * that attached an end may use it (IPC_ENOTATTACHED otherwise). A duplex
 * pipe carries messages both ways; a one-way pipe only from end 1 to end 0
 * (`r, w = Pipe(duplex=False)`: end 0 is r, end 1 is w), and the wrong
 * direction fails with IPC_EDIRECTION.
 *
 * Each direction buffers at most maxmsgs messages and maxbytes payload
 * bytes, fixed when the pipe is created (defaults IPC_PIPE_DEFAULT_MSGS = 64
 * and IPC_PIPE_DEFAULT_BYTES = 1 MiB); one message larger than maxbytes is
 * still taken when the direction is empty. A sender past the bound waits,
 * or gets IPC_EFULL when its timeout runs out, like a writer on a full OS
 * pipe; the daemon never holds more. Messages sent before the peer
 * attached are kept for it.
 *
 * Closing an end (ipc_pipe_close, or the connection closing, exiting or
 * dying) lets the peer receive everything already sent, then IPC_EEOF
 * (Python's EOFError) for good; the peer's sends fail with IPC_EPIPE
 * (BrokenPipeError); messages still buffered towards the closed end are
 * dropped, since nobody can read them. A closed end cannot be attached
 * again (IPC_ECLOSED). Once both ends are closed the pipe is gone. A send
 * still waiting for room when its connection dies is not delivered.
 */

/* Flags for ipc_pipe_attach(). Without DUPLEX or ONEWAY an existing pipe
 * of either kind is accepted and a new one is duplex. */
#define IPC_PIPE_CREATE 0x1 /* create the pipe when it does not exist */
#define IPC_PIPE_DUPLEX 0x2 /* the pipe is (or is created) duplex */
#define IPC_PIPE_ONEWAY 0x4 /* the pipe is (or is created) one-way */

/* A pipe's buffering, per direction: asked for by ipc_pipe_attach(), then
 * filled with what the pipe has. */
struct ipc_pipe_opts {
	long long maxmsgs;       /* in: 0 = the default (new pipe) or any
				    (existing one); out: the pipe's bound */
	long long maxbytes;      /* likewise, payload bytes */
	int duplex;              /* out: 1 duplex, 0 one-way */
};

/*
 * Attach this connection to end `end` (0 or 1) of pipe `name`, creating
 * the pipe when flags has IPC_PIPE_CREATE, so that two unrelated processes
 * meet whichever comes first. opts may be NULL (defaults, any existing
 * bounds); else its maxmsgs (1..IPC_PIPE_MSGS_MAX) and maxbytes
 * (1..IPC_PIPE_BYTES_MAX) size a new pipe and must equal an existing one's
 * (IPC_EMISMATCH), and on success opts receives the pipe's settings. A
 * pipe created here is owned by the caller's uid with the daemon's default
 * mode; attaching to an existing one needs read permission to receive and
 * write permission to send. Returns 0, IPC_EBUSY (the end is attached,
 * even by this connection), IPC_ECLOSED (the end was closed before),
 * IPC_ENOENT (missing, no CREATE), IPC_EMISMATCH (another kind or bounds),
 * IPC_EWRONGTYPE (the name is a queue), IPC_EPERM, IPC_ELIMIT, IPC_ENAME,
 * IPC_EINVAL, or fatal.
 */
int ipc_pipe_attach(ipc_client *c, const char *name, int end, int flags,
		    struct ipc_pipe_opts *opts);

/*
 * Send len bytes (0 allowed, at most the daemon's message limit) from the
 * attached end `end` to the other end. When the direction is full, wait
 * per timeout_ms for room; waiting senders go in arrival order. Returns 0
 * (the daemon holds the message, or the peer has it), IPC_EFULL (no room in
 * time; nothing was sent), IPC_EPIPE (the peer closed), IPC_EDIRECTION
 * (end 0 of a one-way pipe), IPC_ENOTATTACHED, IPC_ECLOSED (this end was
 * closed), IPC_ENOENT, IPC_EWRONGTYPE, IPC_ETOOBIG, IPC_ENAME, IPC_EINVAL,
 * IPC_ELIMIT, IPC_ESHUTDOWN, or fatal.
 */
int ipc_pipe_send(ipc_client *c, const char *name, int end, const void *data,
		  size_t len, int timeout_ms);

/*
 * Receive the next message sent to the attached end `end`, waiting per
 * timeout_ms. On 0, *data is a malloc'd copy (free with ipc_free(); never
 * NULL, even for 0 bytes) and *len its size. Returns 0, IPC_EEMPTY
 * (nothing arrived in time), IPC_EEOF (the peer closed and everything it
 * sent has been received; every later receive says so too),
 * IPC_EDIRECTION (end 1 of a one-way pipe), IPC_ENOTATTACHED, IPC_ECLOSED,
 * IPC_ENOENT, IPC_EWRONGTYPE, IPC_ENAME, IPC_EINVAL, IPC_ESHUTDOWN, or
 * fatal.
 */
int ipc_pipe_recv(ipc_client *c, const char *name, int end, void **data,
		  size_t *len, int timeout_ms);

/*
 * Close the attached end `end`: the peer receives what was sent, then
 * IPC_EEOF; the end can never be attached again. Requests of this
 * connection still waiting on the end complete with IPC_ECLOSED.
 * ipc_close() closes every end the connection holds. Returns 0,
 * IPC_ENOTATTACHED, IPC_ECLOSED, IPC_ENOENT, IPC_EWRONGTYPE, IPC_ENAME,
 * IPC_EINVAL, or fatal.
 */
int ipc_pipe_close(ipc_client *c, const char *name, int end);

/*
 * Delete pipe `name`: the same request as ipc_queue_delete() (which
 * deletes a queue or a pipe), under a name that reads better for pipes.
 * Requests parked on either end complete with IPC_EDELETED, buffered
 * messages are freed, the holders of its ends lose them, and the name is
 * free at once. Only the owner or root may. 0, IPC_ENOENT, IPC_EPERM,
 * IPC_ENAME or fatal.
 */
int ipc_pipe_delete(ipc_client *c, const char *name);

/*
 * Batches: several messages per request, one round trip for all of them.
 */

/* One message of a batch. */
struct ipc_msg {
	const void *data;
	size_t len;
};

/*
 * Put msgs[0..n) at the tail of queue `name`, in order. Each request
 * carries as many messages as one frame holds (at most IPC_BATCH_MAX) and
 * the daemon takes *as many as fit*, a prefix; the library goes on with
 * the rest until all are in. The put is NOT all-or-nothing: when the queue
 * fills up, the messages that fit stay in, and the call waits per
 * timeout_ms (measured over the whole call) for room for the next ones.
 * Other producers' messages may come between two requests of one call,
 * never between the messages one request took. On return *nput (may be
 * NULL) says how many were put: msgs[0..*nput) are in the queue, the rest
 * are not. Returns 0 (all n put), IPC_EFULL (the timeout ran out; with
 * timeout 0, the queue was full), or the first request's failure:
 * IPC_ENOENT, IPC_EDELETED, IPC_ETOOBIG and IPC_EINVAL (checked before
 * anything is sent), IPC_ENAME, IPC_EWRONGTYPE, IPC_EPERM, IPC_ELIMIT,
 * IPC_ESHUTDOWN, or fatal.
 */
int ipc_put_many(ipc_client *c, const char *name, const struct ipc_msg *msgs,
		 size_t n, size_t *nput, int timeout_ms);

/*
 * Take up to max (1..IPC_BATCH_MAX) messages from the head of queue
 * `name` in one round trip. When it is empty, wait per timeout_ms for the
 * first one (the get timeout rule), then return what is there: at least
 * one message, and no more than one reply frame holds (a reply is cut
 * short of PROTO's 8 MiB frame limit). On 0, *n >= 1 and msgs[0..*n) point
 * into the handle's receive buffer (or its prefetch buffer): they stay
 * valid until the next call on c, so copy what you keep; nothing needs
 * freeing. Returns 0, IPC_EEMPTY, IPC_ENOENT, IPC_EDELETED, IPC_ENAME,
 * IPC_EINVAL, IPC_EWRONGTYPE, IPC_EPERM, IPC_ESHUTDOWN, or fatal.
 */
int ipc_get_many(ipc_client *c, const char *name, struct ipc_msg *msgs,
		 size_t max, size_t *n, int timeout_ms);

/* ipc_put_many() for the attached pipe end `end` (see ipc_pipe_send()):
 * the messages that fit are sent, a prefix, and the call waits per
 * timeout_ms for room for the rest. *nsent says how many went. */
int ipc_pipe_send_many(ipc_client *c, const char *name, int end,
		       const struct ipc_msg *msgs, size_t n, size_t *nsent,
		       int timeout_ms);

/* ipc_get_many() for the attached pipe end `end` (see ipc_pipe_recv()):
 * up to max messages, waiting per timeout_ms for the first; IPC_EEOF once
 * the peer closed and everything was received. */
int ipc_pipe_recv_many(ipc_client *c, const char *name, int end,
		       struct ipc_msg *msgs, size_t max, size_t *n, int timeout_ms);

/*
 * Pipelining: several requests in flight on one connection.
 *
 * ipc_put_async() queues a put and returns without waiting for the reply
 * (it returns only argument errors, IPC_ENAME, IPC_EINVAL, IPC_ETOOBIG, or
 * fatal ones). Like stdio's buffering, async requests are held in the
 * handle and written together: when 64 KiB of them wait, when one carries
 * a payload of 16 KiB or more, when the window below is full, at any call
 * that waits for the daemon (ipc_flush() among them) and at ipc_close().
 * So a producer that goes quiet calls ipc_flush() to be sure its last
 * messages are in. At most a window of async puts are in flight (128 unless
 * ipc_set_window() says otherwise): when it is full, the call first reads
 * replies until at most half of it is in flight (so the daemon gets the
 * next requests in a run, not one per reply), which also makes a producer
 * wait while its puts wait for room in a full queue. Async puts are carried out in the
 * order they were sent, on this connection, with the same semantics as
 * ipc_put() (timeout_ms applies to each). Their replies are read whenever
 * the handle reads; ipc_flush() waits for all of them and reports the
 * first failure. A failed put does not stop the later ones: after a
 * failure the queue may hold later messages without the failed one.
 * The other calls keep their exact semantics and may be mixed in: their
 * own replies are matched by request id. Closing the handle without
 * ipc_flush() lets the daemon carry out the puts it has read, except those
 * still waiting for room, which are cancelled; nobody learns their outcome.
 */
#define IPC_WINDOW_MAX 4096
int ipc_put_async(ipc_client *c, const char *name, const void *data, size_t len,
		  int timeout_ms);

/* Wait until every async put of this handle has its reply. Returns 0 when
 * all since the last ipc_flush() succeeded, else the first failure's code
 * (IPC_ENOENT, IPC_EFULL, IPC_EDELETED, ...), ipc_last_error() naming it
 * by its number since the last flush ("async put 3: ..."); or fatal. */
int ipc_flush(ipc_client *c);

/* The most async puts in flight, 1..IPC_WINDOW_MAX. 0 or IPC_EINVAL. */
int ipc_set_window(ipc_client *c, unsigned n);

/*
 * ipc_put_many() without waiting: msgs[0..n) go out in as few QPUTN
 * requests as frames allow (at most IPC_BATCH_MAX messages each), each
 * one an async request of the window above (a full window is waited on
 * first), and the call returns once they are sent or copied into the
 * handle (held as ipc_put_async() says): the caller may reuse msgs and
 * their data at once. It returns only argument errors
 * (IPC_ENAME, IPC_EINVAL, IPC_ETOOBIG: nothing sent) or fatal ones; the
 * outcome comes at ipc_flush(), with the async puts' rules (carried out
 * in order; a failure does not stop later requests).
 * A request is not all-or-nothing: the daemon takes as many of its
 * messages as fit, a prefix, waiting per timeout_ms (for each request)
 * only while not even the first fits. A request cut short this way is
 * NOT completed later (that would put its rest behind the next
 * requests' messages): ipc_flush() reports IPC_EFULL, its text names the
 * request and how many of its messages were put ("async put_many 2: 40
 * of 64 messages put, the last 24 were not"), and ipc_flush_notput()
 * counts the messages left out. So on a bounded queue that fills up, use
 * ipc_put_many() to have the rest wait, or check ipc_flush(); on an
 * unbounded queue a request is only cut short by the daemon's memory
 * limit. Nothing is ever dropped without ipc_flush() saying so.
 */
int ipc_put_many_async(ipc_client *c, const char *name, const struct ipc_msg *msgs,
		       size_t n, int timeout_ms);

/*
 * ipc_pipe_send() without waiting, from the attached end `end`: an async
 * request of the window above (held and written as ipc_put_async() says),
 * carried out in order with ipc_pipe_send()'s
 * semantics (timeout_ms applies to each). Returns only argument errors
 * (IPC_ENAME, IPC_EINVAL, IPC_ETOOBIG) or fatal ones; ipc_flush() reports
 * the first failure ("async send 7: ...": IPC_EPIPE once the peer
 * closed, IPC_ENOTATTACHED, IPC_EFULL, ...). Sends after a failed one are
 * still carried out; once the peer closed they all fail with IPC_EPIPE.
 */
int ipc_pipe_send_async(ipc_client *c, const char *name, int end,
			const void *data, size_t len, int timeout_ms);

/* How many messages of the async requests the last ipc_flush() covered
 * were not put or sent (a failed request counts all its messages, a
 * batch cut short those it left out); 0 when it returned 0. */
unsigned long long ipc_flush_notput(const ipc_client *c);

/*
 * Prefetching, opt-in per queue and per handle: with n >= 2, an ipc_get()
 * on `name` that finds nothing buffered asks the daemon for up to n
 * messages in one request (QGETN: it waits per the call's timeout_ms for
 * the first one, exactly like a plain get, then takes what is there), returns the
 * first and keeps the others in the handle; the next calls of ipc_get()
 * (and ipc_get_many()) on `name` return them without a round trip,
 * whatever their timeout. What this changes: prefetched messages have left
 * the queue and are owned by this consumer. Other consumers cannot get
 * them, ipc_stat() no longer counts them, and they are lost if the handle
 * is closed before they are handed out. They are always handed out in
 * queue order, before anything newer. n 0 or 1 turns prefetching off;
 * messages already buffered are still handed out first. 0, IPC_ENAME or
 * IPC_EINVAL (n over IPC_BATCH_MAX).
 */
int ipc_set_prefetch(ipc_client *c, const char *name, unsigned n);

/*
 * Read-ahead: ipc_set_prefetch() that also keeps the next fetch on its
 * way, for ipc_get() AND ipc_get_many() on `name`. Whenever fewer than
 * n/2 messages are buffered after a call and no fetch is in flight, the
 * call sends a QGETN for up to n messages with timeout 0 (it never waits
 * in the daemon: it takes what is there) and returns without its reply;
 * the next call on `name` (or any call reading replies) buffers what it
 * brought. A call that finds nothing buffered first takes that reply,
 * then, if it brought nothing, fetches up to n waiting per its own
 * timeout_ms, exactly like the plain call. ipc_get_many() hands out up to
 * its max buffered messages (pointing into the handle's buffer until the
 * next call on c). Ownership is as for ipc_set_prefetch(): messages
 * fetched have left the queue and belong to this consumer, including the
 * ones on their way (not counted by ipc_prefetched()); closing the handle
 * loses them. Order: always queue order. n 0 or 1 turns it off; what is
 * buffered or on its way is still handed out first. The fetch on its way
 * is read only by the handle's next call that reads: keep n times the
 * message size under the daemon's max-output (8 MiB unless configured),
 * or the daemon stops reading this connection until that reply is read.
 * 0, IPC_ENAME or IPC_EINVAL (n over IPC_BATCH_MAX).
 */
int ipc_set_readahead(ipc_client *c, const char *name, unsigned n);

/*
 * Read-ahead for ipc_pipe_recv() and ipc_pipe_recv_many() at the attached
 * end `end` of pipe `name`, as ipc_set_readahead() for a queue (PRECVN
 * fetches). The messages are in order, and IPC_EEOF comes once the peer
 * closed and every message, buffered ones included, was handed out.
 * After ipc_pipe_close() of the end, messages already buffered are still
 * handed out, then IPC_ECLOSED. Failures of a fetch that did not wait
 * are not reported; the next fetch that waits reports them. 0, IPC_ENAME
 * or IPC_EINVAL (end not 0 or 1, n over IPC_BATCH_MAX).
 */
int ipc_pipe_set_readahead(ipc_client *c, const char *name, int end, unsigned n);

/* Messages prefetched for `name` and not yet handed out. */
size_t ipc_prefetched(const ipc_client *c, const char *name);

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
