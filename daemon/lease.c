/* SPDX-License-Identifier: MIT */
/* lease.c: messages in flight, owned by a connection until acked. */
#include <stdlib.h>
#include <event2/event.h>

#include "conn.h"
#include "ipc_defs.h"
#include "lease.h"
#include "log.h"
#include "queue.h"
#include "server.h"
#include "tagmap.h"

/* What a message in flight costs on top of its own footprint, as
 * max-bytes counts it: its record with malloc's size word, rounded up to
 * 16, and up to 4 slots of its queue's tag index (at most half full). */
#define LEASE_COST (((sizeof(struct lease) + 8 + 15) & ~(size_t)15) + \
		    4 * sizeof(struct tagmap_slot))

/* Free record l and stop counting it. */
static void lease_dispose(struct lease *l)
{
	if (l->charged)
		l->srv->broker.shell_bytes -= LEASE_COST;
	free(l);
}

/* Free a record that is not in flight. */
void lease_free(struct lease *l)
{
	ptimer_del(&l->srv->timers, &l->timer);
	ilist_unlink(&l->link);
	lease_dispose(l);
}

/* The queue was deleted with l in flight: the message is gone with it. */
static void lease_drop(struct qheld *h)
{
	lease_free(container_of(h, struct lease, h));
}

/* The lease ran out before the ack: the message goes back. */
static void lease_expire(struct ptimer *t)
{
	struct lease *l = container_of(t, struct lease, timer);

	if (l->conn != NULL)
		log_debug("conn %lu: lease of tag %llu on %s ran out", l->conn->id,
			  (unsigned long long)l->h.tag, queue_name(l->h.queue));
	/* Unlinked from the connection first: the requeue may hand the
	 * message to a getter whose reply fails and closes this connection. */
	ilist_unlink(&l->link);
	queue_requeue(&l->h);
	lease_dispose(l);
}

/* Arm l's timer to put its message back in ms. */
static void lease_arm(struct lease *l, int64_t ms)
{
	if (ptimer_add(&l->srv->timers, &l->timer, ms) != 0)
		log_warn("out of memory: a lease of tag %llu will not run out",
			 (unsigned long long)l->h.tag);
}

/* A lease record for c, not in flight yet. */
struct lease *lease_new(struct conn *c, int64_t lease_ms)
{
	struct lease *l = calloc(1, sizeof *l);

	if (l == NULL)
		return NULL;
	l->srv = c->srv;
	l->conn = c;
	l->lease_ms = lease_ms;
	ptimer_setup(&l->timer, lease_expire);
	/* One counter per daemon: a tag never names another delivery, even
	 * of a queue deleted and made again under the same name. */
	l->h.tag = ++c->srv->broker.last_tag;
	l->h.owner = c;
	l->h.drop = lease_drop;
	return l;
}

/* l->h is in flight: link it to its connection, start the timer. */
void lease_start(struct lease *l)
{
	struct conn *c = l->conn;

	/* Counted while in flight only: parked acking gets are bounded as
	 * parks, and must not take the room of messages. */
	l->charged = 1;
	c->srv->broker.shell_bytes += LEASE_COST;
	ilist_link_tail(&c->leases, &l->link);
	if (l->lease_ms > 0)
		lease_arm(l, l->lease_ms);
}

/* The lease of c's delivery tag in q, its timer stopped and unlinked from
 * c's leases; NULL when c holds no such delivery. */
static struct lease *lease_take(struct conn *c, struct queue *q, uint64_t tag)
{
	struct qheld *h = queue_held_find(q, tag, c);
	struct lease *l;

	if (h == NULL)
		return NULL;
	l = container_of(h, struct lease, h);
	ptimer_del(&l->srv->timers, &l->timer);
	ilist_unlink(&l->link);
	return l;
}

/* QACK: the consumer is done with the message tagged tag. */
int lease_ack(struct conn *c, struct queue *q, uint64_t tag)
{
	struct lease *l = lease_take(c, q, tag);

	if (l == NULL)
		return IPC_ENOTHELD;
	queue_ack(&l->h);
	lease_dispose(l);
	return 0;
}

/* QRELEASE: the consumer gives the message tagged tag back, now or after
 * delay_ms. Delayed, it stays in flight but is no one's: its connection
 * may go, nobody may ack it, and the timer puts it back. */
int lease_release(struct conn *c, struct queue *q, uint64_t tag, int64_t delay_ms)
{
	struct lease *l = lease_take(c, q, tag);

	if (l == NULL)
		return IPC_ENOTHELD;
	if (delay_ms == 0) {
		queue_requeue(&l->h);
		lease_dispose(l);
		return 0;
	}
	l->h.owner = NULL;
	l->conn = NULL;
	lease_arm(l, delay_ms);
	return 0;
}

/* Stop l's timer, unlink it and put its message back. */
static void lease_return(struct lease *l)
{
	ptimer_del(&l->srv->timers, &l->timer);
	ilist_unlink(&l->link);
	queue_requeue(&l->h);
	lease_dispose(l);
}

/* Does l's queue have getters parked (so a requeue hands the message on)? */
static int lease_queue_waited_on(const struct lease *l)
{
	struct queue_stats st;

	queue_stats(l->h.queue, &st);
	return st.getters > st.stalled; /* stalled ones are handed nothing */
}

/* c is going away: every message it holds goes back. Messages that parked
 * getters will take go first, oldest first, so the longest-waiting getter
 * gets the oldest message; the rest then newest first, each to the head of
 * its queue, so the oldest ends up at the head. */
void lease_release_all(struct conn *c)
{
	struct ilist *n, *next;
	struct lease *l;

	for (n = ilist_first(&c->leases); n != NULL; n = next) {
		next = ilist_next(&c->leases, n);
		l = container_of(n, struct lease, link);
		if (lease_queue_waited_on(l))
			lease_return(l);
	}
	while ((l = ilist_last_entry(&c->leases, struct lease, link)) != NULL)
		lease_return(l);
}
