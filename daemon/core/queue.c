/* SPDX-License-Identifier: MIT */
/*
 * queue.c: a named bounded FIFO of messages with FIFOs of parked getters
 * and putters. No I/O, no timers: the caller parks a waiter after a
 * nowait put/get failed and is called back (q->wake) when it completes.
 *
 * Re-entrancy: wake may reply, then call queue_put, queue_get, queue_park
 * or queue_unpark on this or any other queue. So every waiter is unlinked
 * and every counter updated before wake runs, and nothing about the queue
 * is read from local variables after it returns. (A wake callback never
 * frees the queue, so q itself stays valid.)
 *
 * In flight (at-least-once): a message delivered with acknowledgement
 * leaves the FIFO but stays the queue's, linked in the in-flight list
 * through the caller's struct qheld, until acked (freed) or requeued (back
 * at the head, or to the oldest parked getter). Invariants, with
 * held = size + inflight:
 *  - held <= maxsize (when bounded): a put or admitted putter needs
 *    held < maxsize; requeue and get-with-ack leave held unchanged;
 *  - getters are parked only while size == 0 (stalled ones, set aside
 *    by queue_stall, excepted); putters only while held >= maxsize.
 *    Both at once happens when every slot is in flight. The getters are
 *    a wfifo (wlist.h): a getter resumed goes back to its arrival place,
 *    ahead of those parked after it;
 *  - whatever frees a slot (get, ack, requeue to a plain getter) admits
 *    putters while there is room.
 */
#include <assert.h>
#include <errno.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

#include "ipc_defs.h"
#include "qmsg.h"
#include "queue.h"
#include "ilist.h"
#include "named.h"
#include "tagmap.h"
#include "wlist.h"

struct queue {
	char name[IPC_NAME_MAX + 1];
	size_t maxsize;             /* 0 = unbounded */
	waiter_wake_fn wake;
	struct qmsg_fifo ready;     /* held messages, not in flight */
	struct wpark parked;        /* getters (not stalled: only while size
				     * == 0); putters (only while full) */
	uint64_t puts;
	uint64_t gets;
	struct ilist held;          /* in flight (struct qheld), oldest first */
	struct ilist ahead;         /* those of them read ahead (h->ahead) */
	struct tagmap held_tags;    /* tag -> in-flight qheld, for acks */
	bool held_scan;             /* held_tags lacks some (ENOMEM): scan */
	size_t inflight;
	uint64_t requeued;
	bool dying;                 /* inside queue_free: no parking, no hand-over */
	uint32_t durable_id;        /* the journal's id; 0: not durable */
	const struct queue_hooks *hooks;
	uint32_t max_deliveries;    /* dead-lettering: 0 = off */
	char *dead_letter;          /* its target's name (malloc'd), or NULL */
	queue_dead_fn dead;
	void *dead_arg;
	uint64_t dead_lettered;
	uint64_t dead_failed;
	struct ilist resvs;         /* slot reservations (struct qresv) */
	size_t reserved;            /* their slots, not yet spent */
};

/* The slots of q taken: messages ready, in flight, and reserved. */
static size_t queue_taken(const struct queue *q)
{
	return q->ready.n + q->inflight + q->reserved;
}

/* Is the queue at its bound? In-flight messages and reserved slots
 * take room too. */
static bool queue_full(const struct queue *q)
{
	return q->maxsize && queue_taken(q) >= q->maxsize;
}

/* Put m in flight in h (its tag set by the caller), newest at the tail. */
static void queue_hold(struct queue *q, struct qheld *h, struct qmsg *m)
{
	assert(!h->queue);
	m->next = NULL;
	if (m->deliveries < UINT32_MAX)
		m->deliveries++;
	h->msg = m;
	h->queue = q;
	ilist_link_tail(&q->held, &h->link);
	if (h->ahead)
		ilist_link_tail(&q->ahead, &h->ahead_link);
	q->inflight++;
	if (q->hooks && q->hooks->held && !h->ahead)
		q->hooks->held(q, m);
	/* Out of memory for the index, acks fall back to scanning the list
	 * until nothing is in flight. */
	if (!q->held_scan && tagmap_put(&q->held_tags, h->tag, h) != 0)
		q->held_scan = true;
}

/* Take h out of the in-flight list; its message stays in h->msg. */
static void queue_unhold(struct queue *q, struct qheld *h)
{
	ilist_unlink(&h->link);
	ilist_unlink(&h->ahead_link);   /* a no-op unless ahead */
	h->queue = NULL;
	q->inflight--;
	tagmap_del(&q->held_tags, h->tag);
	if (q->inflight == 0 && q->held_scan) {
		tagmap_fini(&q->held_tags);
		q->held_scan = false;
	}
}

/* m leaves a durable q for good: tell the journal. */
static void queue_gone(struct queue *q, struct qmsg *m)
{
	if (q->hooks && q->hooks->gone)
		q->hooks->gone(q, m);
}

/* Deliver m to w, a getter just unlinked: in flight when it acks. True
 * when a slot was freed (a plain getter took it for good). */
static bool queue_hand(struct queue *q, struct waiter *w, struct qmsg *m)
{
	bool plain = w->held == NULL;

	m->next = NULL;
	q->gets++;
	if (!plain)
		queue_hold(q, w->held, m);
	else
		queue_gone(q, m);
	q->wake(w, 0, m);
	return plain;
}

/* Admit parked putters, oldest first, while there is room; a getter
 * parked meanwhile (every slot was in flight) takes the message. */
static void queue_admit(struct queue *q)
{
	struct waiter *w, *g;
	struct qmsg *pm;

	while (!q->dying && !queue_full(q) && (w = wlist_pop(&q->parked.put))) {
		pm = w->msg;
		w->msg = NULL;
		g = wfifo_pop(&q->parked.get);
		if (g) {
			q->puts++;
			queue_hand(q, g, pm);
		} else {
			qmsg_fifo_put(&q->ready, pm, &q->puts);
		}
		q->wake(w, 0, NULL);
	}
}

/* A new empty queue; NULL (errno set) on ENOMEM or a bad name. */
struct queue *queue_new(const char *name, size_t maxsize, waiter_wake_fn wake)
{
	struct queue *q;

	assert(wake);
	q = named_new(sizeof(*q), offsetof(struct queue, name), name);
	if (!q)
		return NULL;
	q->maxsize = maxsize;
	q->wake = wake;
	wpark_init(&q->parked);
	ilist_init(&q->held);
	ilist_init(&q->ahead);
	ilist_init(&q->resvs);
	return q;
}

/* Complete every waiter of l with status, oldest first. */
static void queue_fail_all(struct queue *q, struct wlist *l, int status)
{
	struct waiter *w;

	/* Pop one at a time from the live list rather than from a private
	 * copy: a callback that unparks another waiter of this queue (its
	 * connection died) then unlinks it here, and it is never woken. */
	while ((w = wlist_pop(l)))
		q->wake(w, status, NULL);
}

/* Complete every parked getter, stalled or not, with status, oldest first. */
static void queue_fail_getters(struct queue *q, int status)
{
	struct waiter *w;

	/* One at a time from the live list, as queue_fail_all. */
	while ((w = wfifo_shift(&q->parked.get)))
		q->wake(w, status, NULL);
}

/* Forget every reservation: their holders keep records of no queue. */
static void queue_drop_resvs(struct queue *q)
{
	struct qresv *r;

	while ((r = ilist_first_entry(&q->resvs, struct qresv, link))) {
		ilist_unlink(&r->link);
		r->queue = NULL;
		r->n = 0;
	}
	q->reserved = 0;
}

/* Wake every parked waiter with status, free held messages and the queue. */
void queue_free(struct queue *q, int status)
{
	struct qheld *h;
	struct qmsg *m;

	if (!q)
		return;
	/* While dying, wake callbacks may not park here (asserted) and a put
	 * or get from a callback never completes a waiter that is about to be
	 * failed with status. */
	q->dying = true;
	queue_drop_resvs(q);
	queue_fail_getters(q, status);
	queue_fail_all(q, &q->parked.put, status);
	while ((h = ilist_first_entry(&q->held, struct qheld, link))) {
		queue_unhold(q, h);
		qmsg_free(h->msg);
		h->msg = NULL;
		if (h->drop)
			h->drop(h);
	}
	while ((m = qmsg_fifo_shift(&q->ready)))
		qmsg_free(m);
	tagmap_fini(&q->held_tags);
	free(q->dead_letter);
	free(q);
}

/* The queue's name. */
const char *queue_name(const struct queue *q)
{
	return q->name;
}

/* The queue's maxsize (0 = unbounded). */
size_t queue_maxsize(const struct queue *q)
{
	return q->maxsize;
}

/* Hand msgs[0..n) (n >= 1) to w, a plain getter just unlinked, as many
 * as it wants, chained: how many it took. */
static size_t queue_hand_run(struct queue *q, struct waiter *w,
			     struct qmsg **msgs, size_t n)
{
	size_t k = w->want < n ? w->want : n, i;

	if (k == 0)
		k = 1;
	for (i = 0; i < k; i++) {
		msgs[i]->next = i + 1 < k ? msgs[i + 1] : NULL;
		queue_gone(q, msgs[i]);
	}
	q->puts += k;
	q->gets += k;
	q->wake(w, 0, msgs[0]);
	return k;
}

/* Offer msgs[0..n) in order: to the oldest getters (each as many as it
 * wants), else appended, until the queue is full. */
int queue_put_batch(struct queue *q, struct qmsg **msgs, size_t n, size_t *taken)
{
	struct waiter *w;
	size_t i = 0;

	/* Fullness is checked first: with every slot in flight, getters may
	 * be parked and the queue still full. */
	while (i < n && !queue_full(q)) {
		if (q->dying || !(w = wfifo_pop(&q->parked.get))) {
			qmsg_fifo_put(&q->ready, msgs[i++], &q->puts);
			continue;
		}
		assert(q->ready.n == 0);
		if (w->held != NULL) {
			q->puts++;
			queue_hand(q, w, msgs[i++]);
		} else {
			i += queue_hand_run(q, w, msgs + i, n - i);
		}
	}
	*taken = i;
	return i == n ? 0 : IPC_EFULL;
}

/* Offer m without waiting: EFULL, or hand it to the oldest getter, or append it. */
int queue_put(struct queue *q, struct qmsg *m)
{
	size_t taken;

	return queue_put_batch(q, &m, 1, &taken);
}

/* Take the head message without waiting, then admit a putter into the room. */
int queue_get(struct queue *q, struct qmsg **m)
{
	if (!q->ready.head)
		return IPC_EEMPTY;
	*m = qmsg_fifo_get(&q->ready, &q->gets);
	queue_gone(q, *m);
	queue_admit(q);
	return 0;
}

/* The head message without taking it (batch gets size their reply by it). */
const struct qmsg *queue_head(const struct queue *q)
{
	return q->ready.head;
}

/* Up to max ready messages from the head into out, oldest first, left in
 * the queue: how many. */
size_t queue_peek(const struct queue *q, const struct qmsg **out, size_t max)
{
	const struct qmsg *m;
	size_t n = 0;

	for (m = q->ready.head; m != NULL && n < max; m = m->next)
		out[n++] = m;
	return n;
}

/* Drop every ready message, then admit putters into the room: how many
 * were dropped. */
size_t queue_purge(struct queue *q)
{
	struct qmsg *m;
	size_t n = 0;

	while ((m = qmsg_fifo_shift(&q->ready)) != NULL) {
		queue_gone(q, m);
		qmsg_free(m);
		n++;
	}
	queue_admit(q);
	return n;
}

/* Give stalled getter w the head message now (only one: it fits any
 * reply), as a get would, then admit putters into the room made. */
static void queue_serve(struct queue *q, struct waiter *w)
{
	struct qmsg *m = qmsg_fifo_get(&q->ready, &q->gets);

	if (w->held != NULL) {
		queue_hold(q, w->held, m);
		q->wake(w, 0, m);
		return;
	}
	queue_gone(q, m);
	q->wake(w, 0, m);
	queue_admit(q);
}

/* Take the head message into flight in h; no room is made. */
int queue_get_held(struct queue *q, struct qheld *h)
{
	if (!q->ready.head)
		return IPC_EEMPTY;
	queue_hold(q, h, qmsg_fifo_get(&q->ready, &q->gets));
	return 0;
}

/* The in-flight message with this tag, if owner holds it. */
struct qheld *queue_held_find(struct queue *q, uint64_t tag, const void *owner)
{
	struct qheld *h;
	struct ilist *n;

	if (!q->held_scan) {
		h = tagmap_get(&q->held_tags, tag);
		return h != NULL && h->owner == owner ? h : NULL;
	}
	for (n = ilist_first(&q->held); n; n = ilist_next(&q->held, n)) {
		h = container_of(n, struct qheld, link);
		if (h->tag == tag)
			return h->owner == owner ? h : NULL;
	}
	return NULL;
}

/* Does fn(h, arg) hold for some message of q read ahead? */
int queue_ahead_any(const struct queue *q,
		    int (*fn)(const struct qheld *h, void *arg), void *arg)
{
	const struct ilist *n;

	for (n = ilist_first(&q->ahead); n; n = ilist_next(&q->ahead, n))
		if (fn(container_of(n, struct qheld, ahead_link), arg))
			return 1;
	return 0;
}

/* Free an acked message and admit putters; see queue.h. */
void queue_ack(struct qheld *h)
{
	struct queue *q = h->queue;

	assert(q);
	queue_unhold(q, h);
	queue_gone(q, h->msg);
	qmsg_free(h->msg);
	h->msg = NULL;
	queue_admit(q);
}

/* m came back unacked after its last allowed delivery: offer it to the
 * dead-letter queue. True when it went there (a slot is free). */
static bool queue_dead_letter_move(struct queue *q, struct qmsg *m)
{
	uint32_t n = m->deliveries;

	if (!q->max_deliveries || n < q->max_deliveries)
		return false;
	m->deliveries = 0;          /* a fresh count in its new queue */
	if (q->dead(q, m, q->dead_arg) != 0) {
		m->deliveries = n;
		q->dead_failed++;
		return false;
	}
	q->dead_lettered++;
	return true;
}

/* Back to the oldest parked getter, else to the head of the queue; or,
 * delivered max_deliveries times, to the dead-letter queue. */
void queue_requeue(struct qheld *h)
{
	struct queue *q = h->queue;
	struct qmsg *m = h->msg;
	struct waiter *w;

	assert(q);
	queue_unhold(q, h);
	h->msg = NULL;
	if (queue_dead_letter_move(q, m)) {
		queue_admit(q);
		return;
	}
	q->requeued++;
	if (!q->dying && (w = wfifo_pop(&q->parked.get))) {
		if (queue_hand(q, w, m))
			queue_admit(q);
		return;
	}
	qmsg_fifo_unshift(&q->ready, m);
}

/* Give read-ahead messages back to the head, in order; see queue.h. */
void queue_unget(struct queue *q, struct qmsg **msgs, size_t n)
{
	struct waiter *w;
	size_t i = 0, k;

	q->requeued += n;
	while (i < n && !q->dying && (w = wfifo_pop(&q->parked.get))) {
		if (w->held != NULL) {
			queue_hand(q, w, msgs[i++]);
			continue;
		}
		k = queue_hand_run(q, w, msgs + i, n - i);
		q->puts -= k; /* not put again: only got again */
		i += k;
	}
	for (k = n; k > i; k--)
		qmsg_fifo_unshift(&q->ready, msgs[k - 1]);
}

/* Park w at the tail of its FIFO; only after EEMPTY (getter) or EFULL (putter). */
void queue_park(struct queue *q, struct waiter *w)
{
	/* Parking on a queue inside its queue_free is a caller bug. */
	assert(!q->dying);
	assert(!w->holder);
	if (w->kind == WAITER_GET) {
		assert(q->ready.n == 0);
		assert(!w->held || !w->held->queue);
	} else {
		assert(w->kind == WAITER_PUT && w->msg);
		assert(queue_full(q));
	}
	wpark_add(&q->parked, w, q);
}

/* Remove a parked waiter (of a queue) without completing it; no-op if not parked. */
void queue_unpark(struct waiter *w)
{
	struct queue *q = w->holder;

	if (q != NULL)
		wpark_remove(&q->parked, w);
}

/* Set parked getter w aside: no message is handed to it until resumed. */
void queue_stall(struct waiter *w)
{
	struct queue *q = w->holder;

	if (q && w->kind == WAITER_GET)
		wfifo_stall(&q->parked.get, w);
}

/* Put stalled getter w back among the getters at its arrival place. */
void queue_unstall(struct waiter *w)
{
	struct queue *q = w->holder;

	if (q)
		wfifo_unstall(&q->parked.get, w);
}

/* Hand each waiting message to the oldest getter (one each: a message
 * fits any reply) while there are both. */
void queue_kick(struct queue *q)
{
	struct waiter *w;

	while (!q->dying && q->ready.head != NULL && (w = wfifo_pop(&q->parked.get)))
		queue_serve(q, w);
}

/* Take stalled getter w back: served at once when messages wait, else
 * parked again at its place among the getters. */
void queue_resume(struct waiter *w)
{
	struct queue *q = w->holder;

	if (!q || !w->stalled)
		return;
	queue_unstall(w);
	queue_kick(q);
}

/* Turn dead-lettering on: after max deliveries, to target through dead. */
int queue_set_dead_letter(struct queue *q, uint32_t max, const char *target,
			  queue_dead_fn dead, void *arg)
{
	char *copy = strndup(target, IPC_NAME_MAX);

	assert(max > 0 && dead);
	if (copy == NULL)
		return IPC_ENOMEM;
	free(q->dead_letter);
	q->dead_letter = copy;
	q->max_deliveries = max;
	q->dead = dead;
	q->dead_arg = arg;
	return 0;
}

/* The dead-letter queue's name, or "". */
const char *queue_dead_letter(const struct queue *q)
{
	return q->dead_letter ? q->dead_letter : "";
}

/* Make q durable. */
void queue_set_durable(struct queue *q, uint32_t id,
		       const struct queue_hooks *hooks)
{
	q->durable_id = id;
	q->hooks = hooks;
}

/* The journal id, or 0. */
uint32_t queue_durable_id(const struct queue *q)
{
	return q->durable_id;
}

/* Recovery: append m past maxsize if need be. */
void queue_recover(struct queue *q, struct qmsg *m, int redelivered)
{
	qmsg_fifo_push(&q->ready, m);   /* not a put of this run: not counted */
	if (redelivered)
		q->requeued++;
}

/* Fill *st with the current counters. */
void queue_stats(const struct queue *q, struct queue_stats *st)
{
	st->maxsize = q->maxsize;
	st->size = q->ready.n;
	st->bytes = q->ready.bytes;
	st->memory = q->ready.mem;
	st->getters = wfifo_count(&q->parked.get);
	st->putters = q->parked.put.count;
	st->stalled = q->parked.get.nstalled;
	st->puts = q->puts;
	st->gets = q->gets;
	st->inflight = q->inflight;
	st->requeued = q->requeued;
	st->durable = q->durable_id != 0;
	st->max_deliveries = q->max_deliveries;
	st->dead_lettered = q->dead_lettered;
	st->dead_letter_failed = q->dead_failed;
	st->reserved = q->reserved;
}

/* Reserve up to want more slots of q in r: a quarter of the free room at
 * most, none while putters wait or on an unbounded, durable or dying
 * queue. How many were reserved. */
size_t queue_reserve(struct queue *q, struct qresv *r, size_t want)
{
	size_t held = queue_taken(q), k;

	assert(!r->queue || r->queue == q);
	if (!q->maxsize || q->durable_id || q->dying || held >= q->maxsize ||
	    q->parked.put.count)
		return 0;
	k = (q->maxsize - held) / 4;
	if (k > want)
		k = want;
	if (k && !r->queue) {
		r->queue = q;
		ilist_link_tail(&q->resvs, &r->link);
	}
	r->n += k;
	q->reserved += k;
	return k;
}

/* Put m into r's queue in one of r's slots: no room check, it is taken
 * (0), or IPC_ENOTHELD when r holds no slot (m stays the caller's). */
int queue_put_reserved(struct qresv *r, struct qmsg *m)
{
	struct queue *q = r->queue;
	size_t taken;
	int rc;

	if (!q || !r->n)
		return IPC_ENOTHELD;
	r->n--;
	q->reserved--;
	rc = queue_put_batch(q, &m, 1, &taken);
	assert(rc == 0);  /* the slot was free: held < maxsize without it */
	return rc;
}

/* Give back r's slots in q; parked putters take the room. */
static void queue_resv_give(struct queue *q, struct qresv *r)
{
	q->reserved -= r->n;
	r->n = 0;
	queue_admit(q);
}

/* Give back every slot r holds, r staying linked to its queue. */
void queue_unreserve_keep(struct qresv *r)
{
	if (r->queue)
		queue_resv_give(r->queue, r);
}

/* Give back every slot r holds and unlink it. */
void queue_unreserve(struct qresv *r)
{
	struct queue *q = r->queue;

	if (!q)
		return;
	ilist_unlink(&r->link);
	r->queue = NULL;
	queue_resv_give(q, r);
}
