/* SPDX-License-Identifier: MIT */
/*
 * queue.h: a named bounded FIFO with parked getters and putters, no I/O.
 *
 * Invariants: getters are parked only while the queue is empty (except
 * those set aside by queue_stall); putters only while it is full. A put with getters parked hands its message to
 * the longest-parked getter (a batch put: as many as that getter wants); a get that frees room admits the
 * longest-parked putter's message. Timers and sockets belong to the caller.
 *
 * Re-entrancy: the queue is consistent (waiter unlinked, counters updated)
 * before it calls wake, so the callback may reply and call queue_put,
 * queue_get, queue_park or queue_unpark on this or another queue.
 *
 * At-least-once delivery: queue_get_held() (or a parked getter with
 * w->held set) puts the message *in flight* in a struct qheld the caller
 * owns: the queue keeps the message, under a tag, until queue_ack() drops
 * it or queue_requeue() puts it back at the head, ahead of newer messages
 * (or straight to the oldest parked getter). In-flight messages count
 * toward maxsize: a put is taken only while size + inflight < maxsize, so
 * getters and putters may both be parked while every slot is in flight;
 * an ack, like a get, admits parked putters. The tag that names an
 * in-flight message is the caller's (set before queue_get_held or parking;
 * the daemon never reuses one). queue_ack, queue_requeue and
 * queue_get_held follow the same re-entrancy rule as put and get.
 */
#ifndef IPCD_QUEUE_H
#define IPCD_QUEUE_H

#include <stddef.h>
#include <stdint.h>

#include "ilist.h"
#include "waiter.h"

struct qmsg;
struct queue;

/* Counters a queue reports (STAT and LIST show them). */
struct queue_stats {
	size_t maxsize;   /* 0 = unbounded */
	size_t size;      /* messages held */
	size_t bytes;     /* payload bytes held */
	size_t memory;    /* their footprint (qmsg_footprint): what they cost */
	size_t getters;   /* parked getters */
	size_t putters;   /* parked putters */
	size_t stalled;   /* of the getters, those set aside (queue_stall) */
	uint64_t puts;    /* messages accepted since creation */
	uint64_t gets;    /* messages delivered since creation (each redelivery too) */
	size_t inflight;  /* delivered with ack, not yet acked or requeued */
	uint64_t requeued; /* in-flight messages put back since creation */
	int durable;      /* 1 when journaled (queue_set_durable) */
	uint32_t max_deliveries;     /* dead-lettering: 0 = off */
	uint64_t dead_lettered;      /* messages moved to the dead-letter queue */
	uint64_t dead_letter_failed; /* moves refused (the message went back) */
	size_t reserved;  /* slots reserved by producers (queue_reserve), not yet spent */
};

/*
 * Slots of a bounded queue a producer reserved ahead of its puts (QRESV
 * credits), like the semaphore multiprocessing.Queue's put takes before
 * its feeder sends: they count toward maxsize (a put elsewhere finds the
 * queue full when size + inflight + reserved reach it) until spent by
 * queue_put_reserved or given back by queue_unreserve. The I/O shell owns
 * the record (zeroed before first use); while it holds slots the queue
 * links it, and queue_free forgets it (queue NULL, n 0).
 */
struct qresv {
	struct ilist link;          /* in the queue's reservations */
	struct queue *queue;        /* whose slots; NULL when it holds none */
	size_t n;                   /* slots held */
};

/*
 * A message delivered for acknowledgement, as the queue sees it. The I/O
 * shell embeds it in its own record (connection, lease timer) like struct
 * waiter. While in flight (queue != NULL) the queue links it and owns msg.
 */
struct qheld {
	struct ilist link;          /* in the queue's in-flight list, oldest first */
	struct queue *queue;        /* holding queue; NULL when not in flight */
	struct qmsg *msg;           /* the message, owned by the queue */
	uint64_t tag;               /* names it in queue_held_find(); the caller's:
				       never 0, unique among q's in flight */
	const void *owner;          /* who may ack it (the caller's; compared only) */
	bool ahead;                 /* read ahead (QGETH), not handed out: no
				       delivery for the journal (hooks->held) */
	struct ilist ahead_link;    /* when ahead: in the queue's list of them */
	/* Called when the queue is freed with h in flight: h is unlinked and
	 * its message freed; the callee releases its record. May be NULL. */
	void (*drop)(struct qheld *h);
};

/*
 * Durability (the I/O shell's journal; the queue does no I/O): a durable
 * queue calls hooks->gone for every message that leaves it for good (a
 * plain get, a hand-over to a plain getter, an ack) and hooks->held for
 * every message put in flight (but those read ahead, h->ahead), before
 * anything else sees it. Both may be NULL.
 */
struct queue_hooks {
	void (*gone)(struct queue *q, struct qmsg *m);
	void (*held)(struct queue *q, struct qmsg *m);
};

/* A new empty queue holding at most maxsize messages (0 = unbounded);
 * wake is called for every parked waiter it completes. The name (1 to
 * IPC_NAME_MAX bytes) is copied. NULL on ENOMEM, or errno EINVAL for a
 * NULL, empty or too long name. */
struct queue *queue_new(const char *name, size_t maxsize, waiter_wake_fn wake);
/* Wake every parked waiter with status (e.g. IPC_EDELETED), getters then
 * putters, oldest first; then drop every in-flight message (h->drop is
 * called with h unlinked); then free all held messages and the queue itself
 * (NULL is fine). While this runs the queue is dying: a wake callback may
 * unpark other waiters of it or put/get on it (no waiter is completed by
 * that), but queue_park on it is a caller bug (asserted). */
void queue_free(struct queue *q, int status);

/* The queue's name (as given to queue_new). */
const char *queue_name(const struct queue *q);
/* The queue's maxsize (0 = unbounded). */
size_t queue_maxsize(const struct queue *q);

/* Offer m without waiting: 0 when taken (handed to a parked getter or
 * appended; ownership passes to the queue), IPC_EFULL when there is no
 * room (m stays the caller's). */
int queue_put(struct queue *q, struct qmsg *m);
/* Offer msgs[0..n) in order without waiting, as n queue_put calls would,
 * except that a parked getter that wants several (w->want) takes up to
 * that many consecutive messages in one hand-over before the next getter
 * gets any: getters are served whole, in the order they parked. *taken
 * says how many were taken (a prefix; they are the queue's now); 0 when
 * all were, else IPC_EFULL. */
int queue_put_batch(struct queue *q, struct qmsg **msgs, size_t n, size_t *taken);
/* Take the head message without waiting: 0 with *m owned by the caller
 * (and the oldest parked putter admitted if room was made), or IPC_EEMPTY. */
int queue_get(struct queue *q, struct qmsg **m);
/* The head message, left in place, or NULL when q is empty. */
const struct qmsg *queue_head(const struct queue *q);

/* Park w (its kind and, for putters, w->msg set by the caller) at the tail
 * of the matching FIFO. Only after queue_get/queue_put said EEMPTY/EFULL
 * (asserted), never on a queue inside queue_free. */
void queue_park(struct queue *q, struct waiter *w);
/* Remove a parked waiter without completing it (timeout, disconnect); a
 * putter's message stays in w->msg for the caller. No-op if not parked.
 * Only for waiters parked by queue_park (w->holder is a struct queue). */
void queue_unpark(struct waiter *w);

/* Set parked getter w aside, for a connection that leaves its replies
 * unread: it stays parked (counted in getters, woken by queue_free and
 * timed out like any) but is handed no message, which stays for other
 * getters, until queue_resume. No-op for a putter or a stalled getter. */
void queue_stall(struct waiter *w);
/* Take stalled getter w back: when messages wait it gets the head one at
 * once (wake, as a get would: one message, in flight for an acking
 * getter), else it waits again at its arrival place, ahead of the
 * getters parked after it. No-op unless w is stalled. */
void queue_resume(struct waiter *w);
/* queue_resume without the hand-over: w is back at its place among the
 * getters, handed nothing yet even when messages wait, until queue_kick
 * (a get on several queues puts every waiter back, then kicks one). */
void queue_unstall(struct waiter *w);
/* Hand waiting messages to the oldest getters, one each, while there
 * are both (after queue_unstall). */
void queue_kick(struct queue *q);

/* Take the head message without waiting and put it in flight in h (not
 * in flight; tag, owner and drop set by the caller): 0 with h->msg set, or
 * IPC_EEMPTY. Makes no room: no putter is admitted. */
int queue_get_held(struct queue *q, struct qheld *h);
/* Up to max ready messages from the head into out, oldest first, without
 * taking them (in-flight ones are not ready): how many. The pointers are
 * valid until the queue next changes. */
size_t queue_peek(const struct queue *q, const struct qmsg **out, size_t max);
/* Drop every ready message (in-flight ones stay, parked getters stay
 * parked), admitting parked putters into the room: how many were dropped.
 * Dropped messages are not counted as gets; a durable queue's hooks->gone
 * is called for each. */
size_t queue_purge(struct queue *q);
/* The in-flight message of q with this tag held for owner, or NULL: O(1),
 * by a hash of the tags in flight (tags are never 0 and unique in q). */
struct qheld *queue_held_find(struct queue *q, uint64_t tag, const void *owner);
/* Whether fn(h, arg) holds for some message of q read ahead (in flight
 * with h->ahead; tried oldest first, up to the first that does): O(those),
 * whatever else is in flight. */
int queue_ahead_any(const struct queue *q,
		    int (*fn)(const struct qheld *h, void *arg), void *arg);
/* The consumer is done with h: free its message, unlink h (h->queue NULL)
 * and admit parked putters into the room made. */
void queue_ack(struct qheld *h);
/* The consumer is gone or its lease ran out: unlink h and give its message
 * to the oldest parked getter, else put it back at the head of the queue. */
void queue_requeue(struct qheld *h);
/* Give msgs[0..n) (taken by a plain get and read ahead, or for a reply
 * that could not be sent) back to the head of q, in order: to the oldest getters first, like a requeued message,
 * the rest ahead of every message held. Counted as requeued; maxsize is
 * not checked (they had room when they were put). q takes the messages. */
void queue_unget(struct queue *q, struct qmsg **msgs, size_t n);

/*
 * Dead-lettering (poison messages). A message of a queue with
 * max_deliveries N counts its deliveries for acknowledgement (m->deliveries);
 * when one of them comes back unacked (queue_requeue: lease out, consumer
 * gone, released) and it was delivered N times, it is offered to
 * dead(q, m, arg) instead of going back: 0 when the callee took it (m is
 * the callee's from then on, counted in dead_lettered, and its slot admits
 * parked putters), non-zero when it could not (m untouched: it goes back
 * to the queue as without dead-lettering, counted in dead_letter_failed).
 * The callee may put, get, park and unpark on other queues, like wake.
 */
typedef int (*queue_dead_fn)(struct queue *q, struct qmsg *m, void *arg);
/* Turn dead-lettering on for q: after max (>= 1) deliveries, messages go
 * to the queue named target (copied; 1 to IPC_NAME_MAX bytes) through
 * dead. 0, or IPC_ENOMEM. */
int queue_set_dead_letter(struct queue *q, uint32_t max, const char *target,
			  queue_dead_fn dead, void *arg);
/* The dead-letter queue's name, or "" when dead-lettering is off. */
const char *queue_dead_letter(const struct queue *q);

/* Make q durable under journal id (not 0) with hooks (static storage). */
void queue_set_durable(struct queue *q, uint32_t id,
		       const struct queue_hooks *hooks);
/* The journal id of a durable queue, or 0. */
uint32_t queue_durable_id(const struct queue *q);
/* Recovery: append m at the tail whatever maxsize says, counting it as
 * requeued when it had been delivered for acknowledgement before (its
 * m->deliveries, as the journal knows them, count on). */
void queue_recover(struct queue *q, struct qmsg *m, int redelivered);

/* Fill *st with the current counters. */
void queue_stats(const struct queue *q, struct queue_stats *st);

/* Reserve up to want more slots of q in r (r holds none, or holds q's):
 * at most a quarter of the room free, and none on an unbounded or
 * durable queue, while putters are parked, or when full. How many. */
size_t queue_reserve(struct queue *q, struct qresv *r, size_t want);
/* Spend one of r's slots on m: taken at once, with no room check (handed
 * to the oldest getter or appended; 0), or IPC_ENOTHELD when r holds no
 * slot (m stays the caller's). */
int queue_put_reserved(struct qresv *r, struct qmsg *m);
/* Give back every slot r holds (no-op when none): the room goes to
 * parked putters first, oldest first. */
void queue_unreserve(struct qresv *r);
/* The same, r staying linked to its queue (queue_free still forgets it):
 * its holder keeps a record of the queue to check later requests by. */
void queue_unreserve_keep(struct qresv *r);

#endif
