/*
 * queue.h: a named bounded FIFO with parked getters and putters, no I/O.
 *
 * Invariants: getters are parked only while the queue is empty; putters
 * only while it is full. A put with getters parked hands its message to
 * the longest-parked getter; a get that frees room admits the
 * longest-parked putter's message. Timers and sockets belong to the caller.
 *
 * Re-entrancy: the queue is consistent (waiter unlinked, counters updated)
 * before it calls wake, so the callback may reply and call queue_put,
 * queue_get, queue_park or queue_unpark on this or another queue.
 */
#ifndef IPCD_QUEUE_H
#define IPCD_QUEUE_H

#include <stddef.h>
#include <stdint.h>

#include "waiter.h"

struct qmsg;
struct queue;

/* Counters a queue reports (see struct proto_info). */
struct queue_stats {
	size_t maxsize;   /* 0 = unbounded */
	size_t size;      /* messages held */
	size_t bytes;     /* payload bytes held */
	size_t getters;   /* parked getters */
	size_t putters;   /* parked putters */
	uint64_t puts;    /* messages accepted since creation */
	uint64_t gets;    /* messages delivered since creation */
};

/* A new empty queue holding at most maxsize messages (0 = unbounded);
 * wake is called for every parked waiter it completes. The name (1 to
 * IPC_NAME_MAX bytes) is copied. NULL on ENOMEM, or errno EINVAL for a
 * NULL, empty or too long name. */
struct queue *queue_new(const char *name, size_t maxsize, waiter_wake_fn wake);
/* Wake every parked waiter with status (e.g. IPC_EDELETED), getters then
 * putters, oldest first; then free all held messages and the queue itself
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
/* Take the head message without waiting: 0 with *m owned by the caller
 * (and the oldest parked putter admitted if room was made), or IPC_EEMPTY. */
int queue_get(struct queue *q, struct qmsg **m);

/* Park w (its kind and, for putters, w->msg set by the caller) at the tail
 * of the matching FIFO. Only after queue_get/queue_put said EEMPTY/EFULL
 * (asserted), never on a queue inside queue_free. */
void queue_park(struct queue *q, struct waiter *w);
/* Remove a parked waiter without completing it (timeout, disconnect); a
 * putter's message stays in w->msg for the caller. No-op if not parked.
 * Only for waiters parked by queue_park (w->holder is a struct queue). */
void queue_unpark(struct waiter *w);

/* Fill *st with the current counters. */
void queue_stats(const struct queue *q, struct queue_stats *st);

#endif
