/* SPDX-License-Identifier: MIT */
/*
 * waiter.h: a parked request, as the plain data structures (queue, pipe)
 * see it. The I/O shell embeds a struct waiter in its own record (with the
 * connection, request id and timer) and gets it back with container_of.
 */
#ifndef IPCD_WAITER_H
#define IPCD_WAITER_H

#include <stddef.h>
#include <stdint.h>

#include "ilist.h"

struct qmsg;
struct qheld;

enum waiter_kind {
	WAITER_GET = 1, /* waits for a message */
	WAITER_PUT = 2, /* waits for room for w->msg */
};

/* Packed so that a park (daemon/park.h) stays in the same malloc size
 * class as before the order link came: ipcd(8)'s memory bound counts it. */
struct waiter {
	struct ilist link;          /* in the holder's FIFO of this kind */
	struct ilist order;         /* WAITER_GET on a queue: in its arrival
				     * order of getters, stalled or not (a
				     * resumed one keeps its place) */
	void *holder;               /* the queue (or pipe) it is parked on; NULL when not parked */
	struct qmsg *msg;           /* WAITER_PUT: the message to admit (owned while parked) */
	struct qheld *held;         /* WAITER_GET on a queue, or NULL: an acking getter;
				     * a message handed to it goes in flight here */
	uint32_t want;              /* WAITER_GET without held: the most messages one
				     * hand-over may bring it (0 means 1) */
	uint16_t any;               /* the I/O shell's, unused here: a request that
				     * waits on several queues at once (get_any)
				     * parks one waiter on each, this one on its
				     * any'th; 0 for the first or only one */
	uint8_t kind;               /* enum waiter_kind */
	uint8_t stalled;            /* WAITER_GET set aside by its holder's
				     * *_stall: parked, handed nothing until
				     * *_resume */
};

/*
 * Called by a holder when it completes a parked waiter; the waiter is
 * already unlinked (w->holder == NULL) when this runs.
 *  - WAITER_GET, status 0: m is the message, now owned by the callee;
 *    unless w->held is set: then m is in flight in *w->held, still
 *    owned by the queue until acked or requeued. A batch put
 *    (queue_put_batch, pipe_send_batch) hands a getter with w->want > 1
 *    up to w->want messages at once: m is the first, linked by m->next
 *    (NULL after the last), all the callee's.
 *  - WAITER_PUT, status 0: w->msg was admitted (w->msg is NULL, m NULL).
 *  - any kind, status != 0 (IPC_EDELETED, IPC_ESHUTDOWN, ...): nothing was
 *    moved; a putter's message is still in w->msg, owned by the callee.
 */
typedef void (*waiter_wake_fn)(struct waiter *w, int status, struct qmsg *m);

#endif
