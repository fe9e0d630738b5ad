/* SPDX-License-Identifier: MIT */
/*
 * pipe.h: a named point-to-point message pipe with two ends, 0 and 1, like
 * Python's multiprocessing.Pipe between unrelated processes. No I/O.
 *
 * Each direction (0->1 and 1->0) is a bounded FIFO of whole messages with
 * FIFOs of parked receivers and parked senders. A one-way pipe uses only
 * 1->0: end 0 only receives, end 1 only sends (Python's
 * `r, w = Pipe(duplex=False)`).
 *
 * Bound: a direction holds at most maxmsgs messages and maxbytes payload
 * bytes, except that one message of any size fits into an empty direction
 * (so a message larger than maxbytes is not refused for ever). A send that
 * does not fit, or that would overtake a parked sender, is IPC_EFULL.
 *
 * Ends: each end is free (never attached, or detached), attached by one owner (an opaque
 * pointer: the daemon's record of that attachment) or closed. Only the owner may send,
 * receive or close on its end. A closed end is never attached again.
 *  - Messages sent before the peer attached are kept for it.
 *  - close(e): the peer drains what e sent, then receives IPC_EEOF; the
 *    peer's sends get IPC_EPIPE; messages buffered towards e are dropped
 *    (nobody can read them any more); e's own parked requests complete
 *    with IPC_ECLOSED.
 *  - Once both ends are closed nothing can be read or sent: pipe_done()
 *    says so, and the caller removes the pipe from its namespace and frees
 *    it.
 *
 * Re-entrancy: as in queue.c, the pipe is consistent (waiter unlinked,
 * counters and end states updated) before every wake callback, which may
 * reply and call any pipe function, on this pipe or another. A callback
 * may even close this pipe's ends: pipe_done() stays false while a pipe
 * function is still waking waiters of it, so whoever made the outermost
 * call frees it afterwards (see pipe_done()).
 */
#ifndef IPCD_PIPE_H
#define IPCD_PIPE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "waiter.h"

struct qmsg;
struct pipe;

enum pipe_end_state {
	PIPE_END_FREE = 0,     /* not attached: never yet, or detached */
	PIPE_END_ATTACHED = 1, /* held by an owner */
	PIPE_END_CLOSED = 2,   /* closed; cannot be attached again */
};

/* Counters of one direction. */
struct pipe_dir_stats {
	size_t msgs;        /* messages buffered */
	size_t bytes;       /* payload bytes buffered */
	size_t memory;      /* their footprint (qmsg_footprint) */
	size_t receivers;   /* parked receive requests (of the receiving end) */
	size_t senders;     /* parked send requests (of the sending end) */
	uint64_t sent;      /* messages accepted since creation */
	uint64_t received;  /* messages delivered since creation */
	uint64_t dropped;   /* messages dropped because their receiver closed */
};

/* What a pipe reports (STAT and LIST show it). */
struct pipe_stats {
	bool duplex;
	size_t maxmsgs, maxbytes;          /* per direction */
	enum pipe_end_state end[2];
	struct pipe_dir_stats dir[2];      /* dir[i]: from end i to end 1 - i */
};

/* A new pipe with both ends free; maxmsgs >= 1 and maxbytes >= 1 bound
 * each direction. The name (1 to IPC_NAME_MAX bytes) is copied. NULL on
 * ENOMEM, or errno EINVAL for a bad name or bound. */
struct pipe *pipe_new(const char *name, bool duplex, size_t maxmsgs,
		      size_t maxbytes, waiter_wake_fn wake);
/* Wake every parked waiter with status (e.g. IPC_ESHUTDOWN), free the
 * buffered messages and the pipe (NULL is fine). Never while a pipe call
 * on p is waking waiters (asserted). Wake callbacks may unpark other
 * waiters of p; parking on p is a caller bug (asserted). */
void pipe_free(struct pipe *p, int status);

/* The pipe's name. */
const char *pipe_name(const struct pipe *p);
/* true for a duplex pipe, false for one-way (end 1 -> end 0). */
bool pipe_duplex(const struct pipe *p);
/* The per-direction bounds. */
size_t pipe_maxmsgs(const struct pipe *p);
size_t pipe_maxbytes(const struct pipe *p);

/* Attach owner (not NULL) to end (0 or 1): 0, IPC_EBUSY (held, even by
 * owner itself), IPC_ECLOSED (closed before) or IPC_EINVAL (bad end). */
int pipe_attach(struct pipe *p, unsigned end, void *owner);

/* Send m from end without waiting: 0 when taken (handed to the peer's
 * oldest parked receiver, or buffered; the pipe owns m), else m stays the
 * caller's and the result is IPC_ENOTATTACHED (owner does not hold end),
 * IPC_ECLOSED (end was closed), IPC_EDIRECTION (end 0 of a one-way pipe),
 * IPC_EPIPE (the peer closed) or IPC_EFULL (no room, or senders parked). */
int pipe_send(struct pipe *p, unsigned end, const void *owner, struct qmsg *m);
/* Send msgs[0..n) from end in order without waiting, as n pipe_send
 * calls would, except that a parked receiver that wants several
 * (w->want) takes up to that many consecutive messages in one hand-over
 * before the next receiver gets any. *taken says how many were taken (a
 * prefix; the pipe's now); the result is 0 when all were, else why the
 * next was not (pipe_send's codes). */
int pipe_send_batch(struct pipe *p, unsigned end, const void *owner,
		    struct qmsg **msgs, size_t n, size_t *taken);
/* Receive at end without waiting: 0 with *m owned by the caller (parked
 * senders that now fit are admitted, oldest first), IPC_EEMPTY (nothing
 * buffered, the peer may still send), IPC_EEOF (nothing buffered and the
 * peer closed), IPC_ENOTATTACHED, IPC_ECLOSED or IPC_EDIRECTION (end 1 of
 * a one-way pipe). */
int pipe_recv(struct pipe *p, unsigned end, const void *owner, struct qmsg **m);
/* The oldest message buffered for end (end <= 1), left in place, or NULL;
 * no check of owner or direction (pipe_recv makes them). */
const struct qmsg *pipe_head(const struct pipe *p, unsigned end);

/* Park w for end: a WAITER_GET after pipe_recv said IPC_EEMPTY, or a
 * WAITER_PUT (w->msg set) after pipe_send said IPC_EFULL (asserted). */
void pipe_park(struct pipe *p, unsigned end, struct waiter *w);
/* Remove a parked waiter without completing it (timeout, disconnect); a
 * sender's message stays in w->msg for the caller. No-op if not parked.
 * Only for waiters parked by pipe_park. */
void pipe_unpark(struct waiter *w);

/* true when w is parked at end of p: a receiver there, or a sender
 * from there (a waiter's holder alone does not say which end). */
bool pipe_parked_at(const struct pipe *p, unsigned end, const struct waiter *w);

/* Hold back parked receiver w (its connection leaves its replies
 * unread): it keeps its place, stays counted and is woken on close,
 * detach and delete like any, but is handed no message: what is sent
 * meanwhile goes to the receivers not held back (an end may be held by
 * several connections), else is buffered, within the pipe's bounds.
 * No-op unless w is a parked receiver. */
void pipe_stall(struct waiter *w);
/* Let stalled receiver w be served again, at its arrival place among the
 * receivers: while messages are buffered, each receiver not held back
 * gets one (as a pipe_recv would), and once none is left and the sender
 * closed, the rest get IPC_EEOF. The pipe, for the caller to reap
 * (pipe_done), or NULL when w was not a stalled receiver. */
struct pipe *pipe_resume(struct waiter *w);

/* Close end, held by owner: 0, IPC_ENOTATTACHED, IPC_ECLOSED or
 * IPC_EINVAL. Completes parked requests as the header comment says. */
int pipe_close(struct pipe *p, unsigned end, const void *owner);
/* Detach end, held by owner, without closing it: the end is free again
 * (another owner may attach it), the messages buffered either way stay,
 * the peer sees no EOF; owner's own parked requests on end complete with
 * IPC_ENOTATTACHED. 0, IPC_ENOTATTACHED, IPC_ECLOSED or IPC_EINVAL. */
int pipe_detach(struct pipe *p, unsigned end, const void *owner);
/* Delete the pipe (the broker's QDEL): both ends become closed (owners
 * forgotten, never attached again), every buffered message is freed
 * (counted as dropped), then every parked request of either end and
 * direction completes with status (e.g. IPC_EDELETED), receivers first.
 * May be called from a wake callback of p; afterwards pipe_done(p) is
 * true once no pipe call is waking waiters of p, and the outermost caller
 * frees it. */
void pipe_kill(struct pipe *p, int status);
/* The owner holding end (0 or 1), or NULL when it is not attached. */
const void *pipe_owner(const struct pipe *p, unsigned end);

/* true when both ends are closed and no pipe call is waking waiters of p:
 * the pipe is finished and must be removed and freed by the caller. Check
 * it after every pipe_send, pipe_recv and pipe_close made outside a wake
 * callback. */
bool pipe_done(const struct pipe *p);

/* Fill *st with the current state and counters. */
void pipe_stats(const struct pipe *p, struct pipe_stats *st);

#endif
