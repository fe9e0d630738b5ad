/*
 * park.h: a request parked in the daemon until a queue or pipe can satisfy
 * it, its timeout runs out, its connection goes away, or the queue is
 * deleted (the pipe end closed). Every path that parks a request also
 * unparks it: park_wake (completed by the queue or pipe), the timer
 * (Empty/Full), park_cancel (disconnect). A park's op says what holds it:
 * PSEND, PRECV, PSENDN and PRECVN wait on a pipe (pipe_unpark), the rest
 * on a queue.
 */
#ifndef IPCD_PARK_H
#define IPCD_PARK_H

#include <stdint.h>
#include <event2/event_struct.h>

#include "waiter.h"

struct conn;
struct qmsg;

struct park {
	struct waiter w;            /* what the queue links */
	struct ilist link;          /* in the connection's list */
	struct conn *conn;
	uint32_t op;                /* the request's op */
	uint32_t id;                /* the request's id */
	uint32_t max;               /* QGETN, PRECVN: most messages its reply takes */
	struct event timer;         /* armed when the timeout is > 0 */
	int timed;
};

/* A new park for request (op, id) of c, waiting at most timeout_ms (-1:
 * forever; the caller never parks with 0); msg is a putter's message,
 * owned by the park from now on. NULL on ENOMEM or when c already has
 * CONN_PARKS_MAX parked (msg still the caller's; see park_request). */
struct park *park_new(struct conn *c, uint32_t op, uint32_t id,
		      enum waiter_kind kind, struct qmsg *msg, int64_t timeout_ms);
/* park_new() for request r (its op, id and timeout), or NULL once msg is
 * freed and r answered why not: IPC_ELIMIT (CONN_PARKS_MAX reached) or
 * IPC_ENOMEM. */
struct park *park_request(struct conn *c, const struct proto_req *r,
			  enum waiter_kind kind, struct qmsg *msg);
/* The broker's wake function: a parked request completed with status. */
void park_wake(struct waiter *w, int status, struct qmsg *m);
/* Drop a parked request without replying (its connection is gone):
 * unparks it, frees its message, frees it. */
void park_cancel(struct park *p);

#endif
