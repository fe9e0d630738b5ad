/* SPDX-License-Identifier: MIT */
/*
 * park.h: a request parked in the daemon until a queue or pipe can satisfy
 * it, its timeout runs out, its connection goes away, or the queue is
 * deleted (the pipe end closed). Every path that parks a request also
 * unparks it: park_wake (completed by the queue or pipe), the timer
 * (Empty/Full), park_cancel (disconnect). A park records what holds it
 * (park_queue, park_pipe, park_queues), and its reply is filled from its
 * op's reply fields (proto/ops.h): no code here knows one op from another.
 *
 * A get on several queues at once (QGETANY, park_queues) is one park with
 * one waiter in each queue's FIFO of getters: p->w on the first, the
 * others in p->more. The first queue to hand it a message wakes it, and
 * every other waiter leaves its queue before the reply (park_wake); so do
 * all of them on timeout, disconnect and shutdown. A queue deleted under
 * it drops only its own waiter: the park completes with IPC_EDELETED once
 * none is left.
 */
#ifndef IPCD_PARK_H
#define IPCD_PARK_H

#include <stddef.h>
#include <stdint.h>
#include "ptimer.h"

#include "waiter.h"

struct conn;
struct qmsg;
struct queue;
struct pipe;
struct proto_req;

/* What a park waits on. */
enum park_on {
	PARK_ON_NOTHING = 0,        /* not parked yet */
	PARK_ON_QUEUE,              /* a queue (queue_park) */
	PARK_ON_PIPE,               /* an end of a pipe (pipe_park) */
};

struct park;

/* One more queue a get_any park waits on. */
struct park_more {
	struct waiter w;            /* what that queue links (w.any >= 1) */
	struct park *park;
	struct queue *queue;        /* that queue */
};

struct park {
	struct waiter w;            /* what the queue or pipe links (the first
				       queue's, for a get_any) */
	struct ilist link;          /* in the connection's list */
	struct conn *conn;
	uint32_t op;                /* the request's op: selects the reply fields */
	uint32_t id;                /* the request's id */
	uint8_t on;                 /* enum park_on: what holds w */
	uint8_t end;                /* PARK_ON_PIPE: the end it waits at */
	uint16_t weight;            /* the parked requests it counts as, in
				       every limit: 1, or a get_any's queues
				       (a waiter on each) */
	struct queue *queue;        /* PARK_ON_QUEUE: the queue (kept when woken,
				       for giving messages back) */
	struct ptimer timer;        /* pending when the timeout is > 0 */
	int durable;                /* a put journaled for a durable queue */
	struct park_more *more;     /* get_any: the waiters on its other queues */
	unsigned nmore;
	uint32_t index;             /* get_any: the w.any of the waiter woken */
	unsigned sync_left;         /* a put that does not wait: checks left
				       for QDONEs in flight (park_sync) */
};

/* A new park for request (op, id) of c, counting as weight parked
 * requests, waiting at most timeout_ms (-1: forever; 0: no timer, for
 * park_sync to arm); msg is a putter's message, owned by the park from now
 * on. NULL on ENOMEM, when c would pass CONN_PARKS_MAX parked, or when c
 * is closed (msg still the caller's; see park_request). */
struct park *park_new(struct conn *c, uint32_t op, uint32_t id, unsigned weight,
		      enum waiter_kind kind, struct qmsg *msg, int64_t timeout_ms);
/* park_new() for request r (its op, id and timeout; a getter wants up
 * to r->max messages), or NULL once msg is freed and r answered why not:
 * IPC_ELIMIT (policy_park: per connection, max-parked, uid-max-parked)
 * or IPC_ENOMEM. Then park it with park_queue or park_pipe. */
struct park *park_request(struct conn *c, const struct proto_req *r,
			  enum waiter_kind kind, struct qmsg *msg);
/* Park p on queue q (queue_park), recording it. */
void park_queue(struct park *p, struct queue *q);
/* park_request() then park_queue() on q: request r waits there for a
 * message or for room (a refusal answered, msg freed). */
void park_request_queue(struct conn *c, const struct proto_req *r,
			enum waiter_kind kind, struct qmsg *msg, struct queue *q);
/* Park getter p on queues qs[0..n) at once (n >= 1; all empty): 0, or
 * IPC_ENOMEM with nothing parked. */
int park_queues(struct park *p, struct queue *const *qs, size_t n);
/* Park p at end of pipe pp (pipe_park), recording it. */
void park_pipe(struct park *p, struct pipe *pp, unsigned end);
/* Answer with status (IPC_ECLOSED, IPC_ENOTATTACHED) every request c
 * has parked at end of pipe pp, nothing sent or received for them: c
 * let go of that end while other holders keep it open. */
void park_pipe_let_go(struct conn *c, const struct pipe *pp, unsigned end,
		      int status);
/* The broker's wake function: a parked request completed with status. */
void park_wake(struct waiter *w, int status, struct qmsg *m);
/* Hand parked get or receive p nothing until park_resume (its
 * connection's unread replies are over max-output): the messages stay
 * in the queue for other getters, or in the pipe, counted. A get on
 * several queues is held back on each of them. 1 when p was set aside;
 * 0 (nothing done) for puts and sends, whose replies are a status. */
int park_stall(struct park *p);
/* Let stalled p be served again, at its arrival place among the waiters:
 * at once (its reply queued) when a message waits, else when one comes.
 * p may be freed when it returns. */
void park_resume(struct park *p);
/* Put p, a put that does not wait parked on a full queue whose slots
 * read-ahead holds (QGETH) of connections with unserved input take, in
 * the order of those QDONEs: it is answered Full only once they have
 * been served (within PARK_SYNC_MS), unless a slot freed meanwhile
 * admitted it. So a put sent after a get handed a message out finds
 * its slot. */
void park_sync(struct park *p);
/* Answer the requests c has parked under id (park_sync's excepted) as
 * their timeout would, at once (EXPIRE). */
void park_expire(struct conn *c, uint32_t id);
/* Drop a parked request without replying (its connection is gone):
 * unparks it, frees its message, frees it. */
void park_cancel(struct park *p);

#endif
