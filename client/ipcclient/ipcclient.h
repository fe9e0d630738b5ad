/* SPDX-License-Identifier: MIT */
/*
 * ipcclient.h: libipcclient, the C client of the ipcd message broker.
 *
 * ipcd owns named bounded FIFO queues with the semantics of Python's
 * multiprocessing.Queue, and named pipes, served over a Unix domain
 * socket. This library speaks its protocol. Include it as
 * <ipcclient/ipcclient.h> (ipc_defs.h and ipc_version.h are installed
 * beside it; `pkg-config --cflags libipcclient` also makes <ipcclient.h>
 * work) and link with `pkg-config --libs libipcclient`.
 *
 * Names: calls on a queue are ipc_queue_*, calls on a pipe end
 * ipc_pipe_*; calls on the connection or on any object are plain ipc_*
 * (ipc_connect, ipc_stat, ipc_delete, ipc_flush, ...).
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
 *
 * Compatibility within soname 0 (libipcclient.so.0): structs the caller
 * passes in or gets filled carry their size, so that fields can be added
 * without breaking programs built against older headers:
 *  - Option structs (struct ipc_queue_opts, struct ipc_pipe_opts) start
 *    with a size_t size member. Initialise them with their _INIT macro,
 *    which sets size to the sizeof of the struct the program was compiled
 *    with, then set the fields you want. The library takes the fields that
 *    size covers and uses the defaults for the others (a program built
 *    against an older header), and refuses with IPC_EINVAL a larger size
 *    whose bytes past the fields it knows are not all zero (options it
 *    cannot honour); a size too small to hold the size member itself is
 *    IPC_EINVAL too. Fields are only ever appended.
 *  - struct ipc_info is filled by ipc_stat() and ipc_list(), which take
 *    the sizeof the caller knows: the library writes that many bytes,
 *    zero past the fields it knows. New fields are only ever appended,
 *    so a program reads the fields of its own header and nothing more.
 */
#ifndef IPCCLIENT_H
#define IPCCLIENT_H

#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include "ipc_defs.h"
#include "ipc_version.h"

#ifdef __cplusplus
extern "C" {
#endif

/* An open connection to ipcd. Opaque. */
typedef struct ipc_client ipc_client;

/*
 * The version of the library the program runs with, "MAJOR.MINOR.PATCH"
 * (a static string); IPC_VERSION_STRING and IPC_VERSION_MAJOR, _MINOR,
 * _PATCH (ipc_version.h) are the version of the headers it was built
 * against.
 */
const char *ipc_version(void);

/* What ipc_stat() and ipc_list() report about one queue or pipe. Fields
 * are only ever appended (see "Compatibility" above). */
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
	unsigned long long inflight; /* delivered by ipc_queue_get_ack(), not
					yet acked */
	unsigned long long requeued; /* in-flight messages put back (consumer
					gone, lease out) */
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
	int durable;             /* queue: 1 when durable (IPC_QUEUE_DURABLE) */
	unsigned long long journal_bytes; /* ipc_stat() of a durable queue: the
					     daemon's journal size, bytes */
	unsigned long long journal_live;  /* and how much of it is live */
	/* Queues with dead-lettering (struct ipc_queue_opts), else 0 and "": */
	unsigned max_deliveries; /* deliveries before a message is dead-lettered */
	char dead_letter[IPC_NAME_MAX + 1]; /* the queue it goes to */
	unsigned long long dead_lettered; /* messages moved there so far */
	unsigned long long dead_letter_failed; /* moves refused: the dead-letter
					     queue was missing, full or not
					     writable by this queue's owner;
					     the message stayed here */
	unsigned long long memory; /* what the messages counted in bytes cost
				      the daemon, headers and rounding
				      included (176 bytes for an empty one):
				      what its max-bytes limit counts */
	unsigned long long reserved; /* queue: slots producers reserved ahead
					of their puts (ipc_queue_reserve), not
					yet spent; they count toward maxsize */
};

/*
 * The first socket path ipc_connect(NULL, ...) tries: $IPCD_SOCKET if set
 * and not empty, else $XDG_RUNTIME_DIR/ipcd.sock if XDG_RUNTIME_DIR is set,
 * else /run/ipcd/ipcd.sock. Writes it to buf (size len) and returns buf, or
 * NULL when it does not fit.
 */
char *ipc_default_socket(char *buf, size_t len);

/*
 * Connect to the daemon and check the protocol version. On success *out is
 * a new handle. The socket: path when not NULL, else $IPCD_SOCKET when set
 * and not empty, each used as given. Otherwise the user's own daemon,
 * $XDG_RUNTIME_DIR/ipcd.sock (when XDG_RUNTIME_DIR is set), then the
 * system's, /run/ipcd/ipcd.sock: the first that accepts a connection is
 * used. (IPCD_TEST_SYSTEM_SOCKET replaces the system path: it exists for
 * ipcd's test suite only.)
 * Returns 0, IPC_ECONNECT (no path accepted a connection; errno says why
 * for the last one, ipc_last_error(NULL) names every path tried and why),
 * IPC_EVERSION, IPC_EIO, IPC_EPROTO, IPC_ENOMEM, or the daemon's refusal:
 * IPC_ELIMIT (it serves its max-connections already; try again later) or
 * IPC_ESHUTDOWN.
 *
 * A path (or $IPCD_SOCKET) of the form nats://HOST:PORT[,nats://...]
 * [?replicas=N&lease=MS] connects to a NATS JetStream
 * server or cluster instead of ipcd: queues keep these semantics with the
 * differences docs/nats.md lists, pipe calls return IPC_ENOTSUP, and
 * IPC_ENOTSUP is also what a library built without NATS returns here.
 */
int ipc_connect(const char *path, ipc_client **out);

/* The connect timeout ipc_connect() uses, and the I/O grace a new handle
 * starts with (see ipc_set_io_timeout), in milliseconds. */
#define IPC_CONNECT_TIMEOUT_DEFAULT 5000
#define IPC_IO_TIMEOUT_DEFAULT 5000

/*
 * ipc_connect() that gives up on a path after timeout_ms milliseconds
 * (-1: never) of connecting and handshaking, with IPC_ETIMEDOUT: a daemon
 * that is stopped or hung accepts connections into its backlog but never
 * answers. ipc_connect() is this call with IPC_CONNECT_TIMEOUT_DEFAULT.
 */
int ipc_connect_timeout(const char *path, int timeout_ms, ipc_client **out);

/*
 * How long past a request's own timeout (0 for requests that never wait)
 * the handle waits for its reply, or for the socket to take a request,
 * before it gives up with IPC_ETIMEDOUT, a fatal code: the daemon stopped
 * answering. ms >= 0, or -1 to wait as long as it takes; a new handle has
 * IPC_IO_TIMEOUT_DEFAULT. A request with timeout IPC_FOREVER waits for its
 * reply for good whatever this says. Returns 0 or IPC_EINVAL.
 */
int ipc_set_io_timeout(ipc_client *c, int ms);

/*
 * Make the handle's waits interruptible without losing their place: while
 * a call waits for the daemon to answer a request parked there (a get on
 * an empty queue, a put on a full one, a pipe send or receive, with any
 * timeout), the library calls check(arg) every slice_ms (1..60000) and
 * when a signal interrupts its wait. Once check returns nonzero, the
 * daemon is asked to answer the request the call waits for at once, as
 * its timeout would (IPC_EFULL, IPC_EEMPTY; one that completed first
 * keeps its outcome; the handle's async requests keep waiting), and the
 * call returns that. Until then the
 * request keeps its place among the waiters, where a wait cut into short
 * timeouts would queue again behind later ones. check runs inside the
 * call and must not use the handle. check NULL turns this off. Returns
 * 0, IPC_EINVAL, or IPC_ENOTSUP on the NATS backend.
 */
int ipc_set_interrupt(ipc_client *c, int slice_ms, int (*check)(void *arg),
		      void *arg);

/* Close the connection and free the handle (NULL is fine). Async requests
 * still held in the handle are written first (their outcome is not
 * learnt). Requests still parked in the daemon for it are cancelled there
 * and lose nothing; the pipe ends it attached are closed (their peers read
 * on, then EOF). */
void ipc_close(ipc_client *c);

/* The handle's socket descriptor, for poll(); do not read or write it.
 * Its send buffer is raised to 2 MiB (bounded by net.core.wmem_max)
 * before the first write of 256 KiB or more. */
int ipc_fd(const ipc_client *c);

/* Flags of struct ipc_queue_opts. */
#define IPC_QUEUE_CREATE 0x1 /* create the queue when it does not exist */
#define IPC_QUEUE_EXCL 0x2   /* with IPC_QUEUE_CREATE: fail with IPC_EEXIST
				if it exists */
#define IPC_QUEUE_DURABLE 0x4 /* with IPC_QUEUE_CREATE: a durable queue (its
				 settings and messages survive a restart of
				 ipcd; see libipcclient(3)) */
#define IPC_QUEUE_OWNED 0x8  /* an existing queue must be owned by the
				caller's uid or by root, else IPC_EPERM (the
				detail names its owner): a service that
				creates its queue uses CREATE|EXCL, or
				CREATE|OWNED to accept its own queue of an
				earlier run, never a name another user took
				first */

/* maxsize of struct ipc_queue_opts: accept an existing queue's maxsize. */
#define IPC_MAXSIZE_ANY (-1)
/* mode of the opts structs: the daemon's default mode. */
#define IPC_MODE_DEFAULT (-1)

/* How ipc_queue_open() opens or creates a queue. Set size (and the
 * defaults) with IPC_QUEUE_OPTS_INIT; fields are only ever appended. */
struct ipc_queue_opts {
	size_t size;        /* sizeof(struct ipc_queue_opts), set by _INIT */
	long long maxsize;  /* the most messages the queue holds, 0 =
			       unbounded; IPC_MAXSIZE_ANY (default): any
			       existing queue's, and unbounded for one
			       created now */
	unsigned flags;     /* IPC_QUEUE_CREATE, IPC_QUEUE_EXCL,
			       IPC_QUEUE_DURABLE, IPC_QUEUE_OWNED;
			       default 0 */
	int mode;           /* permission bits of a queue created now, 0 to
			       0777; IPC_MODE_DEFAULT (default): the
			       daemon's default mode */
	long long max_deliveries; /* dead-lettering (poison messages): a
			       message delivered this many times with
			       ipc_queue_get_ack() and not acked moves to the
			       dead_letter queue instead of being delivered
			       again; 0 (default): off. Set both or neither */
	const char *dead_letter; /* that queue's name; NULL (default): none */
};
#define IPC_QUEUE_OPTS_INIT \
	{ sizeof(struct ipc_queue_opts), IPC_MAXSIZE_ANY, 0, IPC_MODE_DEFAULT, \
	  0, NULL }

/*
 * Open the queue `name`, creating it when opts->flags has
 * IPC_QUEUE_CREATE; opts NULL is IPC_QUEUE_OPTS_INIT (open an existing
 * queue, whatever its maxsize). Opening is optional: put and get address
 * queues by name; open to create a queue, or to check it exists with the
 * maxsize you expect. Opening an existing queue with another maxsize than
 * IPC_MAXSIZE_ANY fails with IPC_EMISMATCH. When maxsize_out is not NULL
 * it receives the queue's maxsize.
 * A queue created here is owned by the caller's uid and primary gid, with
 * opts->mode (like a file's: read permits get, write permits put; root may
 * do anything) or the daemon's default mode (0660 unless configured
 * otherwise); mode does not change an existing queue. Opening an existing
 * queue needs read or write permission on it.
 * Any user may create any free name (unless the daemon's create-prefix
 * rules say otherwise), so a name a service expects may already be
 * another user's queue, readable by its owner: a service creates its
 * queue with IPC_QUEUE_CREATE | IPC_QUEUE_EXCL (fails when the name is
 * taken) or IPC_QUEUE_CREATE | IPC_QUEUE_OWNED (also accepts a queue the
 * service's uid or root made before), and a client that must not talk to
 * an impostor opens with IPC_QUEUE_OWNED (when the service runs as root)
 * before it puts.
 * Returns 0, IPC_ENOENT (missing, no CREATE), IPC_EEXIST (CREATE|EXCL and
 * it exists), IPC_EMISMATCH (also: IPC_QUEUE_DURABLE and the existing
 * queue is not durable), IPC_ENAME, IPC_EINVAL (maxsize below -1, a
 * mode over 0777, unknown flags or options), IPC_EWRONGTYPE (the name is
 * a pipe), IPC_EPERM (no access; OWNED and another owner; a
 * create-prefix rule), IPC_ELIMIT (the daemon's max-queues),
 * IPC_ENODURABLE (IPC_QUEUE_DURABLE create, and the daemon keeps no
 * journal: state-dir empty, or the journal could not be opened;
 * ipc_last_error() says which), IPC_ENOSPC (its journal is out of space), or fatal.
 */
int ipc_queue_open(ipc_client *c, const char *name,
		   const struct ipc_queue_opts *opts, long long *maxsize_out);

/*
 * Put len bytes (0 allowed, at most the daemon's message limit) at the tail
 * of queue `name`. If the queue is full, wait per timeout_ms for room;
 * parked putters are admitted in arrival order. Returns 0, IPC_EFULL
 * (still full when the timeout ran out; nothing was enqueued), IPC_ENOENT,
 * IPC_EDELETED (deleted while waiting), IPC_ETOOBIG, IPC_ENAME, IPC_EINVAL,
 * IPC_EWRONGTYPE, IPC_ESHUTDOWN, IPC_ENOSPC (durable queue: the journal
 * could not store it; nothing was enqueued), or fatal. On a durable queue
 * 0 means the message is in the journal as the daemon's sync mode
 * promises (sync = always: on stable storage).
 */
int ipc_queue_put(ipc_client *c, const char *name, const void *data, size_t len,
		  int timeout_ms);

/*
 * Take the message at the head of queue `name`. If it is empty, wait per
 * timeout_ms; parked getters are served in arrival order. On 0, *data is
 * a malloc'd copy of the message (free it with ipc_free(); never NULL, even
 * for 0 bytes) and *len its size. Returns 0, IPC_EEMPTY (nothing arrived in
 * time), IPC_ENOENT, IPC_EDELETED, IPC_ENAME, IPC_EINVAL, IPC_EWRONGTYPE,
 * IPC_ESHUTDOWN, or fatal.
 */
int ipc_queue_get(ipc_client *c, const char *name, void **data, size_t *len,
		  int timeout_ms);

/*
 * At-least-once get. Like ipc_queue_get(), but the message is not consumed yet:
 * it stays in the daemon, *in flight*, owned by this connection, until
 * ipc_queue_ack(c, name, *tag). If this connection closes first (ipc_close, a
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
int ipc_queue_get_ack(ipc_client *c, const char *name, void **data, size_t *len,
		      uint64_t *tag, int timeout_ms, int lease_ms);

/*
 * Acknowledge the message ipc_queue_get_ack() delivered under tag: it is done
 * and leaves the queue for good, freeing its slot. Returns 0, IPC_ENOTHELD
 * (this connection holds no message of that queue under tag: acked
 * already, or its lease ran out and it went back), IPC_ENOENT (the queue
 * is gone, and the message with it), IPC_ENAME, or fatal.
 */
int ipc_queue_ack(ipc_client *c, const char *name, uint64_t tag);

/*
 * Give back (nack) the message ipc_queue_get_ack() delivered under tag,
 * instead of waiting for its lease or a disconnect: with delay_ms 0 it
 * goes back to the head of the queue at once (or straight to the
 * longest-waiting getter); with delay_ms > 0 it stays in flight, held by
 * no one (this connection may close; nobody can ack it), and goes back
 * to the head once delay_ms have passed. It counts as requeued in
 * ipc_stat(). Returns 0, IPC_ENOTHELD (as for ipc_queue_ack()), IPC_EINVAL
 * (delay_ms < 0), IPC_ENOENT, IPC_ENAME, or fatal.
 */
int ipc_queue_release(ipc_client *c, const char *name, uint64_t tag,
		      int delay_ms);

/*
 * Get from whichever of several queues has a message (Redis BLPOP with
 * several keys). names[0..n) (1 <= n <= IPC_GET_ANY_MAX) are tried in
 * order and the head of the first non-empty one is taken; *index says
 * which (names[*index]). When all are empty the request waits per
 * timeout_ms on all of them at once, as ONE parked getter in each
 * queue's FIFO of getters: it takes its turn there with the single-queue
 * getters that came before and after it, the first queue to get a
 * message for it delivers, and it leaves the others. Timing out takes
 * nothing from any of them. A queue deleted while it waits is dropped
 * from the wait: the call goes on waiting on the others and fails with
 * IPC_EDELETED only when every queue it waited on was deleted. Every
 * queue must exist and be readable when the call starts. *data (free
 * with ipc_free()) and *len as for ipc_queue_get(). Messages read ahead
 * (ipc_queue_set_readahead()) for one of the queues are not seen: they
 * have left it. Returns 0, IPC_EEMPTY, IPC_ENOENT, IPC_EDELETED,
 * IPC_ENAME, IPC_EINVAL (no names, more than IPC_GET_ANY_MAX, index NULL),
 * IPC_EWRONGTYPE, IPC_EPERM, IPC_ESHUTDOWN, IPC_ENOTSUP (NATS), or fatal.
 */
int ipc_queue_get_any(ipc_client *c, const char *const *names, size_t n,
		      size_t *index, void **data, size_t *len, int timeout_ms);

/*
 * ipc_queue_get_any(), at-least-once: the message is delivered as by
 * ipc_queue_get_ack() (in flight under *tag, lease_ms as there) and is
 * acked with ipc_queue_ack(c, names[*index], *tag). Returns what
 * ipc_queue_get_any() returns, and IPC_EINVAL for lease_ms < 0.
 */
int ipc_queue_get_any_ack(ipc_client *c, const char *const *names, size_t n,
			  size_t *index, void **data, size_t *len,
			  uint64_t *tag, int timeout_ms, int lease_ms);

/*
 * Zero-copy get: like ipc_queue_get(), but *data points at the message
 * itself, read-only, instead of a copy. A large message (one the daemon
 * passed as a sealed memfd, see ipc_msg_max()) is a read-only mapping of
 * that memfd, never copied; a small one is a copy. Either way it stays
 * valid, whatever other calls the handle makes, until
 * ipc_msg_release(c, *data) or ipc_close(c). Returns what
 * ipc_queue_get() returns.
 */
int ipc_queue_get_view(ipc_client *c, const char *name, const void **data,
		       size_t *len, int timeout_ms);

/*
 * Give back a message of ipc_queue_get_view() (unmapped or freed).
 * 0, or IPC_EINVAL when data is no such message of c.
 */
int ipc_msg_release(ipc_client *c, const void *data);

/* Free memory returned by this library (NULL is fine). Blocks of 16 KiB
 * or more on a 64-byte line (those of large messages), up to 2 MiB of
 * them in the process, are kept for the next large messages got (which
 * always start on a 64-byte line); ipc_close() frees them. */
void ipc_free(void *p);

/*
 * Fill *info for queue or pipe `name`. size is sizeof(struct ipc_info)
 * (sizeof *info) as the caller was compiled: the library writes size
 * bytes, see "Compatibility" above. 0, IPC_ENOENT, IPC_ENAME, IPC_EINVAL
 * (info NULL, or size smaller than the first struct ipc_info), or fatal.
 */
int ipc_stat(ipc_client *c, const char *name, struct ipc_info *info,
	     size_t size);

/*
 * Delete queue or pipe `name` and the messages it holds; the name is free
 * at once. Every request parked on it (a pipe's: either end, either
 * direction) completes with IPC_EDELETED. The connections that held a
 * deleted pipe's ends lose them: their later send, receive or close on
 * that name gets IPC_ENOENT, or, once a new pipe of that name exists,
 * whatever it answers a connection that has not attached it (typically
 * IPC_ENOTATTACHED). Only the owner or root may delete. 0, IPC_ENOENT,
 * IPC_EPERM, IPC_ENAME or fatal. Queues and pipes share one namespace and
 * this one call deletes either.
 */
int ipc_delete(ipc_client *c, const char *name);

/* The most entries ipc_list() returns, and the most one ipc_list_page()
 * returns: a daemon cannot make a listing hold more. */
#define IPC_LIST_MAX 131072
#define IPC_LIST_PAGE 512

/*
 * List every queue and pipe, sorted by name: *infos is a malloc'd array of
 * *n entries of size bytes each (free with ipc_free(); NULL when *n is 0).
 * size is sizeof(struct ipc_info) as the caller was compiled, as for
 * ipc_stat(), so (*infos)[i] indexes it. 0, IPC_EINVAL, IPC_ELIMIT (more
 * than IPC_LIST_MAX entries: nothing is returned, use ipc_list_page()), or
 * fatal. The daemon sends the list in pages, fetched here one after the
 * other: not a snapshot (a name created or deleted meanwhile may or may
 * not be there; every name that exists throughout is there exactly once).
 */
int ipc_list(ipc_client *c, struct ipc_info **infos, size_t *n, size_t size);
/*
 * One page of the list: up to IPC_LIST_PAGE queues and pipes whose names
 * sort after `after` (NULL or "": from the first), sorted, as ipc_list()
 * returns them (*infos malloc'd, NULL when *n is 0). *more is 1 when names
 * follow: ask again with after = the last name returned. Holds one page
 * at a time, however many the daemon has. 0, IPC_EINVAL, IPC_ENAME, or
 * fatal.
 */
int ipc_list_page(ipc_client *c, const char *after, struct ipc_info **infos,
		  size_t *n, size_t size, int *more);

/* What ipc_daemon_info() reports about the daemon as a whole. Counters
 * run since the daemon started (deleted queues and pipes included), the
 * others are what holds now. The field names are the keys of `ipcctl
 * info --json` and of the INFO reply (PROTOCOL.md). Fields are only ever
 * appended (see "Compatibility" above). */
struct ipc_daemon_info {
	char version[32];                  /* the daemon's version, "0.1.0" */
	unsigned long long pid;            /* the daemon's process id */
	unsigned long long uptime_ms;      /* time since it started */
	unsigned long long start_time;     /* when it started, Unix time (s) */
	unsigned long long msg_max;        /* largest message accepted, bytes */
	unsigned long long connections;    /* clients connected now */
	unsigned long long max_connections;    /* its max-connections */
	unsigned long long connections_total;  /* clients accepted since start */
	unsigned long long connections_refused;/* refused over max-connections */
	unsigned long long queues;         /* queues now */
	unsigned long long pipes;          /* pipes now */
	unsigned long long max_queues;     /* its max-queues (queues and pipes;
					      0 = no limit) */
	unsigned long long messages;       /* held in queues, buffered in pipes */
	unsigned long long bytes;          /* payload bytes held in all (queued,
					      in flight, of parked puts) */
	unsigned long long max_bytes;      /* its max-bytes (0 = no limit) */
	unsigned long long parked;         /* requests waiting in the daemon */
	unsigned long long inflight;       /* delivered for ack, not yet acked */
	unsigned long long requests;       /* requests served (this one too) */
	unsigned long long puts;           /* messages taken into queues */
	unsigned long long gets;           /* messages delivered from queues
					      (each redelivery too) */
	unsigned long long requeued;       /* in-flight messages put back */
	unsigned long long sends;          /* messages sent into pipes */
	unsigned long long receives;       /* messages received from pipes */
	unsigned long long gets_empty;     /* gets and receives answered
					      IPC_EEMPTY */
	unsigned long long refused_full;   /* puts and sends answered IPC_EFULL */
	unsigned long long refused_limit;  /* requests refused at a daemon
					      limit (IPC_ELIMIT; refused
					      connections' HELLO included) */
	unsigned long long refused_perm;   /* IPC_EPERM: permission denied */
	unsigned long long refused_toobig; /* IPC_ETOOBIG: over msg_max */
	unsigned long long refused_nospc;  /* IPC_ENOSPC: the journal is full */
	unsigned long long refused_other;  /* every other request answered a
					      positive IPC_E* code, save
					      IPC_EEMPTY and IPC_EEOF */
	unsigned long long errors_fatal;   /* replies with a negative code
					      (protocol errors): the
					      connection was closed */
	unsigned long long durable;        /* 1 when a journal is open (the
					      journal_* fields), else 0 */
	unsigned long long journal_bytes;  /* the journal's size, bytes */
	unsigned long long journal_live;   /* how much of it is still needed */
	unsigned long long journal_segments;   /* its segment files */
	unsigned long long journal_written;    /* bytes written since start */
	unsigned long long journal_syncs;      /* fdatasync rounds (group commits) */
	unsigned long long journal_sync_us;    /* time they took in all, us */
	unsigned long long journal_sync_max_us;/* the longest one, us */
	unsigned long long dead_lettered;  /* messages moved to a dead-letter
					      queue (max_deliveries) */
	unsigned long long held_bytes;     /* what counts against max_bytes:
					      the messages held with their
					      overhead, unwritten replies */
	unsigned long long shared_bytes;   /* buffers of batch puts their
					      messages point into, while any
					      is held (at most max_bytes/16,
					      on top of held_bytes) */
};

/*
 * Fill *info with the daemon's figures (INFO). size is sizeof(struct
 * ipc_daemon_info) as the caller was compiled: the library writes size
 * bytes, zero past the fields it knows, as for ipc_stat(). Anyone
 * connected may ask. 0, IPC_EINVAL (info NULL, or size smaller than the
 * first struct ipc_daemon_info), IPC_ENOTSUP (a NATS handle), or fatal.
 */
int ipc_daemon_info(ipc_client *c, struct ipc_daemon_info *info, size_t size);

/*
 * Administration: look into a queue, empty it, change who may use a
 * queue or pipe.
 */

struct ipc_msg;

/*
 * Look at up to max (1..IPC_BATCH_MAX) messages from the head of queue
 * `name`, oldest first, without taking them: they stay in the queue, in
 * place, for its consumers. Messages in flight (got with
 * ipc_queue_get_ack(), not yet acked) are not there to see, nor those
 * this handle has read ahead (ipc_queue_set_readahead()). Never waits. As
 * for ipc_queue_get_many(), *n is set and msgs[0..*n) point into the
 * handle's receive buffer until the next call on c; a reply holds no more
 * than one frame does, so *n may be less than max with more queued. Needs
 * read permission. Returns 0 (*n >= 1), IPC_EEMPTY (no ready message),
 * IPC_ENOENT, IPC_ENAME, IPC_EINVAL (msgs or n NULL, max out of range),
 * IPC_EWRONGTYPE, IPC_EPERM, or fatal.
 */
int ipc_queue_peek(ipc_client *c, const char *name, struct ipc_msg *msgs,
		   size_t max, size_t *n);

/*
 * Drop every ready message of queue `name`. The queue, its settings and
 * its parked requests stay: getters go on waiting, putters waiting for
 * room are let in. Messages in flight are not dropped (their ack or
 * release still works). *dropped (may be NULL) says how many went. Only
 * the owner or root may purge. Returns 0, IPC_ENOENT, IPC_ENAME,
 * IPC_EWRONGTYPE (a pipe), IPC_EPERM, or fatal.
 */
int ipc_queue_purge(ipc_client *c, const char *name, uint64_t *dropped);

/*
 * Set the permissions (the low 9 bits of a file mode, 0..0777) of queue
 * or pipe `name`; they apply to requests from then on (a pipe end
 * attached already stays attached). A durable queue keeps them across a
 * restart. Only the owner or root may. Returns 0, IPC_ENOENT, IPC_ENAME,
 * IPC_EINVAL (mode over 0777), IPC_EPERM, IPC_ENOSPC (durable: the journal
 * is full; nothing changed), or fatal.
 */
int ipc_chmod(ipc_client *c, const char *name, unsigned mode);

/*
 * Set the owner uid and group gid of queue or pipe `name`, as chown(2):
 * (uid_t)-1 or (gid_t)-1 keeps that one. Only root may (a peer with uid
 * 0). A durable queue keeps them across a restart. Returns 0, IPC_ENOENT,
 * IPC_ENAME, IPC_EPERM, IPC_ENOSPC (as for ipc_chmod()), or fatal.
 */
int ipc_chown(ipc_client *c, const char *name, uid_t uid, gid_t gid);

/*
 * Pipes: named point-to-point message channels with two ends, 0 and 1,
 * like Python's multiprocessing.Pipe between unrelated processes. Pipes
 * and queues share one namespace: a queue call on a pipe's name (or back)
 * fails with IPC_EWRONGTYPE, except ipc_delete(), which deletes
 * either.
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
#define IPC_PIPE_OWNED 0x8  /* an existing pipe must be owned by the
			       caller's uid or by root, else IPC_EPERM
			       (see IPC_QUEUE_OWNED) */

/* A pipe's buffering per direction and its mode: asked for by
 * ipc_pipe_attach(), then filled with what the pipe has. Set size (and
 * the defaults) with IPC_PIPE_OPTS_INIT; fields are only ever appended. */
struct ipc_pipe_opts {
	size_t size;             /* sizeof(struct ipc_pipe_opts), set by _INIT */
	long long maxmsgs;       /* in: 0 = the default (new pipe) or any
				    (existing one); out: the pipe's bound */
	long long maxbytes;      /* likewise, payload bytes */
	int duplex;              /* out: 1 duplex, 0 one-way */
	int mode;                /* in: permission bits of a pipe created now,
				    0 to 0777; IPC_MODE_DEFAULT (default):
				    the daemon's default mode */
};
#define IPC_PIPE_OPTS_INIT \
	{ sizeof(struct ipc_pipe_opts), 0, 0, 0, IPC_MODE_DEFAULT }

/*
 * Attach this connection to end `end` (0 or 1) of pipe `name`, creating
 * the pipe when flags has IPC_PIPE_CREATE, so that two unrelated processes
 * meet whichever comes first. opts may be NULL (IPC_PIPE_OPTS_INIT:
 * defaults, any existing bounds); else its maxmsgs (1..IPC_PIPE_MSGS_MAX)
 * and maxbytes (1..IPC_PIPE_BYTES_MAX) size a new pipe and must equal an
 * existing one's (IPC_EMISMATCH), and on success opts receives the pipe's
 * settings (the fields its size covers). A pipe created here is owned by
 * the caller's uid and primary gid, with opts->mode or the daemon's default
 * mode (mode does not change an existing pipe); attaching to an existing
 * one needs read permission to receive and write permission to send.
 * Returns 0, IPC_EBUSY (the end is attached, even by this connection),
 * IPC_ECLOSED (the end was closed before),
 * IPC_ENOENT (missing, no CREATE), IPC_EMISMATCH (another kind or bounds),
 * IPC_EWRONGTYPE (the name is a queue), IPC_EPERM (no access; OWNED and
 * another owner; a create-prefix rule), IPC_ELIMIT, IPC_ENAME,
 * IPC_EINVAL (end, flags, bounds, a mode over 0777, unknown options), or
 * fatal.
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
 * Give up the attached end `end` without closing it: the end is free
 * again and another connection (a later process) may attach it; the
 * messages buffered either way stay, and the peer sees no EOF. This
 * connection's own requests still parked on the end are answered
 * IPC_ENOTATTACHED. Closing the connection (or exiting, or dying) still
 * closes the ends it holds. Returns 0, IPC_ENOTATTACHED, IPC_ECLOSED,
 * IPC_ENOENT, IPC_EWRONGTYPE, IPC_ENAME, IPC_EINVAL, or fatal.
 */
int ipc_pipe_detach(ipc_client *c, const char *name, int end);

/*
 * Sharing an end, like a file descriptor a child process inherits: the
 * connection holding end `end` asks for a share of it, and another
 * connection (a child process's, or one the token is passed to) claims
 * that share with ipc_pipe_join() and holds the end too: both may send,
 * receive and close it, and the end stays open until its last holder
 * closes it (ipc_pipe_close, ipc_pipe_detach, or its connection closing,
 * exiting or dying); only then is the peer told EOF (ipc_pipe_detach by
 * the last holder frees the end instead). A share not claimed yet holds
 * the end open as well, and goes when the connection that made it
 * closes. The token is a one-time capability (64 random bits): only the
 * connection that presents it joins, and who may use the end is checked
 * as for ipc_pipe_attach(). A connection's requests parked on the end
 * are its own: closing (detaching) its hold while others hold the end
 * answers them IPC_ECLOSED (IPC_ENOTATTACHED), nothing sent or received,
 * and leaves the others' parked. Pipes only (IPC_ENOTSUP on NATS).
 *
 * ipc_pipe_share(): *token set; 0, IPC_ENOTATTACHED (this connection does
 * not hold the end), IPC_ELIMIT (64 shares unclaimed), the argument
 * errors, or fatal.
 * ipc_pipe_join(): opts (may be NULL) receives what ipc_pipe_attach()
 * reports; 0, IPC_EPERM (no share of the end with that token, or no
 * permission for the end), IPC_ENOTATTACHED (the end is not attached),
 * IPC_EBUSY (this connection holds the end already), the argument
 * errors, or fatal.
 */
int ipc_pipe_share(ipc_client *c, const char *name, int end, uint64_t *token);
int ipc_pipe_join(ipc_client *c, const char *name, int end, uint64_t token,
		  struct ipc_pipe_opts *opts);

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
int ipc_queue_put_many(ipc_client *c, const char *name,
		       const struct ipc_msg *msgs, size_t n, size_t *nput,
		       int timeout_ms);

/*
 * Take up to max (1..IPC_BATCH_MAX) messages from the head of queue
 * `name` in one round trip. When it is empty, wait per timeout_ms for the
 * first one (the get timeout rule), then return what is there: at least
 * one message, and no more than one reply frame holds (a reply is cut
 * short of PROTO's 8 MiB frame limit). On 0, *n >= 1 and msgs[0..*n) point
 * into the handle's receive buffer (or its read-ahead buffer): they stay
 * valid until the next call on c, so copy what you keep; nothing needs
 * freeing. Returns 0, IPC_EEMPTY, IPC_ENOENT, IPC_EDELETED, IPC_ENAME,
 * IPC_EINVAL, IPC_EWRONGTYPE, IPC_EPERM, IPC_ESHUTDOWN, or fatal.
 */
int ipc_queue_get_many(ipc_client *c, const char *name, struct ipc_msg *msgs,
		       size_t max, size_t *n, int timeout_ms);

/* ipc_queue_put_many() for the attached pipe end `end` (see ipc_pipe_send()):
 * the messages that fit are sent, a prefix, and the call waits per
 * timeout_ms for room for the rest. *nsent says how many went. */
int ipc_pipe_send_many(ipc_client *c, const char *name, int end,
		       const struct ipc_msg *msgs, size_t n, size_t *nsent,
		       int timeout_ms);

/* ipc_queue_get_many() for the attached pipe end `end` (see ipc_pipe_recv()):
 * up to max messages, waiting per timeout_ms for the first; IPC_EEOF once
 * the peer closed and everything was received. */
int ipc_pipe_recv_many(ipc_client *c, const char *name, int end,
		       struct ipc_msg *msgs, size_t max, size_t *n,
		       int timeout_ms);

/*
 * Pipelining: several requests in flight on one connection.
 *
 * ipc_queue_put_async() queues a put and returns without waiting for the reply
 * (it returns only argument errors, IPC_ENAME, IPC_EINVAL, IPC_ETOOBIG, or
 * fatal ones). Like stdio's buffering, async requests are held in the
 * handle and written together: when 64 KiB of them wait, when one carries
 * a payload of 16 KiB or more, when the window below is full, at any call
 * that waits for the daemon (ipc_flush() among them) and at ipc_close().
 * So a producer that goes quiet calls ipc_flush() to be sure its last
 * messages are in. At most a window of async puts are in flight (128 unless
 * ipc_set_window() says otherwise), and at most 8 MiB of what they put on
 * the socket (a message sent in a memfd counts as its descriptor: the
 * daemon holds what a put parked on a full queue carries): when either is
 * full, the call first reads
 * replies until at most half of it is in flight (so the daemon gets the
 * next requests in a run, not one per reply), which also makes a producer
 * wait while its puts wait for room in a full queue. Async puts are
 * carried out in the order they were sent, on this connection, with the
 * same semantics as ipc_queue_put() (timeout_ms applies to each). Their
 * replies are read whenever the handle reads; ipc_flush() waits for all
 * of them and reports the first failure. A failed put does not stop the later ones: after a
 * failure the queue may hold later messages without the failed one.
 * The other calls keep their exact semantics and may be mixed in: their
 * own replies are matched by request id. Closing the handle without
 * ipc_flush() lets the daemon carry out the puts it has read, except those
 * still waiting for room, which are cancelled; nobody learns their outcome.
 */
#define IPC_WINDOW_MAX 4096
int ipc_queue_put_async(ipc_client *c, const char *name, const void *data,
			size_t len, int timeout_ms);

/* Wait until every async put of this handle has its reply. Returns 0 when
 * all since the last ipc_flush() succeeded, else the first failure's code
 * (IPC_ENOENT, IPC_EFULL, IPC_EDELETED, ...), ipc_last_error() naming it
 * by its number since the last flush ("async put 3: ..."); or fatal. */
int ipc_flush(ipc_client *c);

/*
 * Read replies until at most max async requests (puts, put_many, sends)
 * of this handle are in flight, waiting at most timeout_ms (-1 forever,
 * 0 not at all): 0 once so; IPC_EFULL when the time ran out first, or
 * earlier when a signal interrupted the wait (so a caller with a signal
 * handler can run it; nothing is lost, the rest stay in flight); or
 * fatal. Held requests are written first. Failures among the replies
 * read are kept for ipc_async_error() and ipc_flush(). With it a
 * producer waits for its window in slices it chooses, e.g. while async
 * puts wait in the daemon for room in a full queue.
 * IPC_ENOTSUP on the NATS backend.
 */
int ipc_async_wait(ipc_client *c, unsigned max, int timeout_ms);

/* The first failure among the async replies read since the last
 * ipc_flush() or ipc_async_error(), without waiting for any (0: none so
 * far); it is then forgotten, as ipc_flush() forgets it. ipc_last_error()
 * names it. IPC_ENOTSUP on the NATS backend. */
int ipc_async_error(ipc_client *c);

/* Write the async requests held in the handle now, without waiting for
 * their replies (fflush() for the stdio-like holding above, where
 * ipc_flush() is fflush() and wait): a producer that wants each message
 * on its way at once calls it after each async request. Outcomes still
 * come at ipc_flush(). 0, or fatal. */
int ipc_push(ipc_client *c);

/* The most async puts in flight, 1..IPC_WINDOW_MAX (within 8 MiB on the
 * wire, see above). 0 or IPC_EINVAL. */
int ipc_set_window(ipc_client *c, unsigned n);

/*
 * Slot reservations (credits) in a bounded queue, so that a producer can
 * pipeline its puts and still never be told Full later: like the
 * semaphore multiprocessing.Queue.put() takes before its feeder sends.
 *
 * ipc_queue_reserve() asks the daemon for up to want (1..IPC_BATCH_MAX)
 * slots of queue `name` for this connection; *granted says how many it
 * got. The daemon grants at most a quarter of the room free at that
 * moment, and none while the queue is full, while putters wait for room,
 * or on an unbounded or durable queue: then it returns IPC_EFULL
 * (*granted 0) and the caller puts as usual. A reserved slot counts
 * toward maxsize for everyone (ipc_stat's `reserved`; a put elsewhere
 * finds the queue full when size + inflight + reserved reach maxsize)
 * until it is spent or given back.
 *
 * ipc_queue_put_reserved_async() spends one slot: an async put (the
 * window and ipc_flush() as for ipc_queue_put_async()) that the daemon
 * takes at once, with no room check, in order with this connection's
 * other requests; it fails (at ipc_flush()) with IPC_ENOTHELD when the
 * connection held no slot there (the queue was deleted meanwhile, or
 * the caller miscounted). ipc_queue_unreserve() gives back every slot
 * this connection holds in `name` (room goes to parked putters first).
 * A connection that closes, or a process that dies, gives back its
 * slots; deleting the queue forgets them.
 *
 * ipc_queue_reserve_idle() is ipc_queue_reserve() with a lease: the slots
 * this connection has not spent idle_ms (> 0; 0: no lease) after its
 * last reserve or reserved put on the queue go back to the queue (once
 * the daemon has read everything the connection sent), so a producer
 * that stops putting holds no room for long. A reserved put that arrives
 * after that (its caller should stop spending slots well before idle_ms)
 * is not refused: it waits in the daemon for room like a blocking put,
 * in order, and ipc_flush() returns once it is in. A client that never calls
 * ipc_queue_reserve() sees no change. Not supported on the NATS backend
 * (IPC_ENOTSUP). Returns 0, IPC_EFULL (reserve only), IPC_ENOENT,
 * IPC_ENAME, IPC_EWRONGTYPE, IPC_EPERM, IPC_EINVAL, or fatal.
 */
int ipc_queue_reserve(ipc_client *c, const char *name, unsigned want, unsigned *granted);
int ipc_queue_reserve_idle(ipc_client *c, const char *name, unsigned want, int idle_ms,
			   unsigned *granted);
int ipc_queue_put_reserved_async(ipc_client *c, const char *name, const void *data,
				 size_t len);
int ipc_queue_unreserve(ipc_client *c, const char *name);

/*
 * ipc_queue_put_many() without waiting: msgs[0..n) go out in as few QPUTN
 * requests as frames allow (at most IPC_BATCH_MAX messages each), each
 * one an async request of the window above (a full window is waited on
 * first), and the call returns once they are sent or copied into the
 * handle (held as ipc_queue_put_async() says): the caller may reuse msgs and
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
 * ipc_queue_put_many() to have the rest wait, or check ipc_flush(); on an
 * unbounded queue a request is only cut short by the daemon's memory
 * limit. Nothing is ever dropped without ipc_flush() saying so.
 */
int ipc_queue_put_many_async(ipc_client *c, const char *name,
			     const struct ipc_msg *msgs, size_t n,
			     int timeout_ms);

/*
 * ipc_pipe_send() without waiting, from the attached end `end`: an async
 * request of the window above (held and written as ipc_queue_put_async() says),
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
 * Read-ahead, opt-in per queue (or pipe end) and per handle: the one knob
 * that lets a consumer take messages in batches while it keeps calling
 * ipc_queue_get() or ipc_queue_get_many(). With n >= 2, for `name`:
 *  - A get that finds messages buffered in the handle is served from
 *    them, in order, without a round trip, whatever its timeout
 *    (ipc_queue_get() hands out one, ipc_queue_get_many() up to its max).
 *  - A get that finds nothing buffered first takes the reply of the fetch
 *    on its way, if any; if that brought nothing, it fetches up to n
 *    messages (one QGETN) waiting per its own timeout_ms for the first,
 *    exactly like the plain call, and keeps the rest.
 *  - After each get, when at most n/2 messages are buffered and no fetch
 *    is on its way, the call sends a QGETN for up to n messages with
 *    timeout 0 (it takes what is there, never waits in the daemon) and
 *    returns without its reply, so the next messages travel while the
 *    caller works; a later call reading replies buffers them.
 *  - Once messages of 16 KiB or more come, fetches for single gets ask
 *    for at most 1 MiB of them (at least one message; "n" above is then
 *    that many), as much as the daemon reads from a producer per turn, so
 *    the consumer keeps up with an async producer. ipc_free() keeps up to
 *    2 MiB of the blocks handed back for the next ones (freed to malloc
 *    one by one, they would be given back to the system and faulted in
 *    again). ipc_queue_get_many() fetches up to n again.
 * What this changes: messages fetched have left the queue and belong to
 * this consumer, the ones on their way included. Other consumers cannot
 * get them and ipc_stat() no longer counts them. ipc_close() gives the
 * ones not handed out back to the head of the queue (QUNGET; on a
 * durable queue, or without write permission, they are lost), as
 * ipc_queue_unread() does at any time; a process that dies first loses
 * them, as it loses a message a plain get was sending. They are always
 * handed out in
 * queue order, before anything newer. n 0 or 1 turns read-ahead off; what
 * is buffered or on its way is still handed out first. Failures of a
 * fetch that did not wait are not reported; the next fetch that waits
 * reports them. The fetch on its way is read only by the handle's next
 * call that reads: keep n times the message size under the daemon's
 * max-output (8 MiB unless configured), or the daemon stops reading this
 * connection until that reply is read. Returns 0, IPC_ENAME or IPC_EINVAL
 * (n over IPC_BATCH_MAX).
 */
int ipc_queue_set_readahead(ipc_client *c, const char *name, unsigned n);

/*
 * Held read-ahead for queue `name`: read-ahead of up to n messages per
 * fetch, as ipc_queue_set_readahead(), except that the messages read
 * ahead stay in the queue's count until a get hands them out, so Full
 * stays exact on a bounded queue. For a Python-like consumer of a
 * bounded queue, where plain read-ahead would free slots early.
 *  - A fetch (QGETH) takes up to n ready messages *in flight*, held by
 *    this handle: they count toward maxsize (a producer finds the queue
 *    full as before) and in `inflight` (ipc_stat), not in `size`. When
 *    the queue is empty it waits per the get's timeout for one message,
 *    handed over as by a plain get.
 *  - ipc_queue_get() hands out the next one and, before it returns,
 *    frees its slot: it counts the hand-out in a page of memory the
 *    handle shares with the daemon (no write; the first such call on a
 *    handle makes the page, one round trip), which
 *    the daemon reads before it answers a put Full, so a put sent after
 *    the get returned finds the room; while a put waits for room it also
 *    writes a notice (QDONE, never answered) that wakes it. Where the
 *    daemon takes no memfds (memfd-threshold 0, another daemon) every
 *    hand-out writes that notice, as do those of a batch fetched while
 *    the handle holds 511 other batches (one per queue at most) not all
 *    handed out: the page counts 511 at once.
 *  - Another consumer is not kept waiting by a consumer that stops
 *    getting: once hold_ms (0: no limit; counted from when the fetch was
 *    sent) ran out while another getter waits on the queue (checked every
 *    hold_ms), the daemon gives the messages not handed out back to the
 *    head of the queue, in order, to that getter first, once it has served
 *    everything this handle wrote. With the shared page a get finds that
 *    there (it then drops the batch and fetches again); without it, a get
 *    after hold_ms asks the daemon (one round trip): the message is
 *    handed out when it is still held (the rest then held for hold_ms
 *    again), else the batch is dropped here and fetched again. So a
 *    message is handed out by one consumer only, and a getter elsewhere
 *    waits at most about 2 * hold_ms for messages held by a consumer
 *    that stopped getting.
 *  - ipc_queue_unread(), ipc_queue_get_many() (which then gets as without
 *    read-ahead), ipc_close(), and the process dying give the held
 *    messages back to the head of the queue, in order, at once (not
 *    counted as deliveries for max_deliveries).
 *  - One batch is held at a time: the next fetch goes when it is all
 *    handed out (no fetch on its way meanwhile).
 * n 0 or 1 turns read-ahead off, as ipc_queue_set_readahead(). Returns 0,
 * IPC_ENAME, or IPC_EINVAL (n over IPC_BATCH_MAX, hold_ms negative). On
 * another backend, as ipc_queue_set_readahead().
 */
int ipc_queue_set_readahead_held(ipc_client *c, const char *name, unsigned n,
				 int hold_ms);

/*
 * Read-ahead for ipc_pipe_recv() and ipc_pipe_recv_many() at the attached
 * end `end` of pipe `name`, as ipc_queue_set_readahead() for a queue
 * (PRECVN fetches). The messages are in order, and IPC_EEOF comes once
 * the peer closed and every message, buffered ones included, was handed
 * out. After ipc_pipe_close() of the end, messages already buffered are
 * still handed out, then IPC_ECLOSED. Returns 0, IPC_ENAME or IPC_EINVAL
 * (end not 0 or 1, n over IPC_BATCH_MAX).
 */
int ipc_pipe_set_readahead(ipc_client *c, const char *name, int end,
			   unsigned n);

/*
 * Give the messages read ahead for queue `name` and not handed out (the
 * fetch on its way included) back to the head of the queue, in order,
 * ahead of everything in it (to a waiting getter first), so that another
 * consumer may get them; read-ahead stays on. 0 (also when nothing was
 * buffered), or ipc_queue_unget()'s failures (the messages stay buffered).
 */
int ipc_queue_unread(ipc_client *c, const char *name);

/*
 * Give msgs[0..n) back to the head of queue `name`, in order, ahead of
 * every message in it (to the oldest waiting getters first, like a
 * message requeued after a lost consumer; counted in requeued): for a
 * consumer that took messages with a plain get and will not handle them.
 * They may take the queue past its maxsize. Needs read and write
 * permission; refused on a durable queue (IPC_EINVAL), whose journal has
 * recorded the gets. More than a frame's worth goes in several requests,
 * the last first: a getter may take the later ones before the earlier
 * ones are back. 0, IPC_ENOENT, IPC_EPERM, IPC_EINVAL, IPC_ETOOBIG,
 * IPC_ENAME, IPC_EWRONGTYPE, IPC_ENOMEM, IPC_ENOTSUP (another backend),
 * or fatal.
 */
int ipc_queue_unget(ipc_client *c, const char *name, const struct ipc_msg *msgs,
		    size_t n);

/* Messages read ahead for queue `name` and buffered in the handle, not
 * yet handed out (a fetch still on its way is not counted). */
size_t ipc_queue_buffered(const ipc_client *c, const char *name);

/* The same for the attached end `end` of pipe `name`. */
size_t ipc_pipe_buffered(const ipc_client *c, const char *name, int end);

/*
 * Waiting on several handles with poll()/select(): arm the attached end
 * `end` of pipe `name` (read-ahead on there, n >= 2), then ipc_fd(c)
 * becomes readable as soon as a receive at that end would not block (a
 * message or EOF is there): at once when messages are read ahead
 * already, else when the daemon answers a read-ahead fetch sent now that
 * waits for a message (nothing is taken from anyone: the end has one
 * reader). Arm again after each call on the handle before polling
 * again, and have no other request of the handle in flight (ipc_flush()
 * async ones first): any reply makes the descriptor readable. A receive
 * at an armed end waits for that fetch, whatever its own timeout: poll
 * first. 0, IPC_EINVAL (read-ahead off at the end), the argument errors,
 * IPC_ENOTSUP (another backend), or fatal.
 */
int ipc_pipe_arm(ipc_client *c, const char *name, int end);

/* The daemon's size limit for a message carried in its request (1 MiB
 * unless configured lower), learnt at connect. A message from the
 * daemon's memfd-threshold (just over 1 MiB by default) up travels instead as a
 * sealed memfd passed beside the request, and may be as large as its
 * max-memfd-size (64 MiB by default); a put of a larger one gets
 * IPC_ETOOBIG. See ipcd.conf(5). */
size_t ipc_msg_max(const ipc_client *c);

/* Text of the last failure on this handle: the daemon's detail or the
 * system error. Valid until the next call on c; never NULL. With c NULL:
 * why this thread's last ipc_connect() failed ("cannot connect to PATH:
 * reason; PATH: reason" for every path tried), or "no connection". */
const char *ipc_last_error(const ipc_client *c);

/* A short English text for an IPC_* code. */
const char *ipc_strerror(int code);

#ifdef __cplusplus
}
#endif

#endif
