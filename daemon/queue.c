/*
 * queue.c: a named bounded FIFO of messages with FIFOs of parked getters
 * and putters. No I/O, no timers: the caller parks a waiter after a
 * nowait put/get failed and is called back (q->wake) when it completes.
 *
 * Re-entrancy: wake may reply, then call queue_put, queue_get, queue_park
 * or queue_unpark on this or any other queue. So every waiter is unlinked
 * and every counter updated before wake runs, and nothing about the queue
 * is read from local variables after it returns.
 */
#include <assert.h>
#include <errno.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

#include "ipc_defs.h"
#include "qmsg.h"
#include "queue.h"

/* A doubly linked FIFO of parked waiters of one kind. */
struct wlist {
	struct waiter *head, *tail;
	size_t count;
};

struct queue {
	char name[IPC_NAME_MAX + 1];
	size_t maxsize;             /* 0 = unbounded */
	waiter_wake_fn wake;
	struct qmsg *head, *tail;   /* held messages, oldest first */
	size_t size;
	size_t bytes;
	struct wlist getters;       /* non-empty only while size == 0 */
	struct wlist putters;       /* non-empty only while full */
	uint64_t puts;
	uint64_t gets;
	bool dying;                 /* inside queue_free: no parking, no hand-over */
};

/* Append w at the tail of l. */
static void wlist_append(struct wlist *l, struct waiter *w)
{
	w->next = NULL;
	w->prev = l->tail;
	if (l->tail)
		l->tail->next = w;
	else
		l->head = w;
	l->tail = w;
	l->count++;
}

/* Unlink w from l, wherever it is. */
static void wlist_remove(struct wlist *l, struct waiter *w)
{
	if (w->prev)
		w->prev->next = w->next;
	else
		l->head = w->next;
	if (w->next)
		w->next->prev = w->prev;
	else
		l->tail = w->prev;
	w->next = w->prev = NULL;
	w->holder = NULL;
	l->count--;
}

/* Unlink and return the oldest waiter of l, NULL when l is empty. */
static struct waiter *wlist_pop(struct wlist *l)
{
	struct waiter *w = l->head;

	if (w)
		wlist_remove(l, w);
	return w;
}

/* Is the queue at its bound? */
static bool queue_full(const struct queue *q)
{
	return q->maxsize && q->size >= q->maxsize;
}

/* Append m to the held messages, counting it as put. */
static void queue_append(struct queue *q, struct qmsg *m)
{
	m->next = NULL;
	if (q->tail)
		q->tail->next = m;
	else
		q->head = m;
	q->tail = m;
	q->size++;
	q->bytes += m->len;
	q->puts++;
}

/* Unlink the head message, counting it as got; the queue must not be empty. */
static struct qmsg *queue_shift(struct queue *q)
{
	struct qmsg *m = q->head;

	q->head = m->next;
	if (!q->head)
		q->tail = NULL;
	m->next = NULL;
	q->size--;
	q->bytes -= m->len;
	q->gets++;
	return m;
}

/* A new empty queue; NULL (errno set) on ENOMEM or a bad name. */
struct queue *queue_new(const char *name, size_t maxsize, waiter_wake_fn wake)
{
	struct queue *q;
	size_t len;

	assert(wake);
	len = name ? strnlen(name, IPC_NAME_MAX + 1) : 0;
	if (len == 0 || len > IPC_NAME_MAX) {
		errno = EINVAL;
		return NULL;
	}
	q = calloc(1, sizeof(*q));
	if (!q)
		return NULL;
	memcpy(q->name, name, len);
	q->name[len] = '\0';
	q->maxsize = maxsize;
	q->wake = wake;
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

/* Wake every parked waiter with status, free held messages and the queue. */
void queue_free(struct queue *q, int status)
{
	struct qmsg *m;

	if (!q)
		return;
	/* While dying, wake callbacks may not park here (asserted) and a put
	 * or get from a callback never completes a waiter that is about to be
	 * failed with status. */
	q->dying = true;
	queue_fail_all(q, &q->getters, status);
	queue_fail_all(q, &q->putters, status);
	while ((m = q->head)) {
		q->head = m->next;
		qmsg_free(m);
	}
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

/* Offer m without waiting: hand it to the oldest getter, append it, or EFULL. */
int queue_put(struct queue *q, struct qmsg *m)
{
	struct waiter *w;

	if (!q->dying && (w = wlist_pop(&q->getters))) {
		assert(q->size == 0);
		q->puts++;
		q->gets++;
		m->next = NULL;
		q->wake(w, 0, m);
		return 0;
	}
	if (queue_full(q))
		return IPC_EFULL;
	queue_append(q, m);
	return 0;
}

/* Take the head message without waiting, then admit the oldest putter. */
int queue_get(struct queue *q, struct qmsg **m)
{
	struct waiter *w;
	struct qmsg *pm;

	if (!q->head)
		return IPC_EEMPTY;
	*m = queue_shift(q);
	if (q->dying || queue_full(q) || !(w = wlist_pop(&q->putters)))
		return 0;
	pm = w->msg;
	w->msg = NULL;
	queue_append(q, pm);
	q->wake(w, 0, NULL);
	return 0;
}

/* Park w at the tail of its FIFO; only after EEMPTY (getter) or EFULL (putter). */
void queue_park(struct queue *q, struct waiter *w)
{
	/* Parking on a queue inside its queue_free is a caller bug. */
	assert(!q->dying);
	assert(!w->holder);
	if (w->kind == WAITER_GET) {
		assert(q->size == 0);
		wlist_append(&q->getters, w);
	} else {
		assert(w->kind == WAITER_PUT && w->msg);
		assert(queue_full(q));
		wlist_append(&q->putters, w);
	}
	w->holder = q;
}

/* Remove a parked waiter (of a queue) without completing it; no-op if not parked. */
void queue_unpark(struct waiter *w)
{
	struct queue *q = w->holder;

	if (!q)
		return;
	wlist_remove(w->kind == WAITER_GET ? &q->getters : &q->putters, w);
}

/* Fill *st with the current counters. */
void queue_stats(const struct queue *q, struct queue_stats *st)
{
	st->maxsize = q->maxsize;
	st->size = q->size;
	st->bytes = q->bytes;
	st->getters = q->getters.count;
	st->putters = q->putters.count;
	st->puts = q->puts;
	st->gets = q->gets;
}
