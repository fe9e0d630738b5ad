/* SPDX-License-Identifier: MIT */
/*
 * wlist.h: a FIFO of parked waiters with its length, shared by the plain
 * data structures that park requests (queue.c, pipe.c): an ilist that
 * counts. And a wfifo: a FIFO of getters some of which may be set aside
 * (stalled) and later take their place again; a wpark holds both kinds
 * for one holder. Header-only: the helpers are tiny and static inline.
 */
#ifndef IPCD_WLIST_H
#define IPCD_WLIST_H

#include <stddef.h>

#include "ilist.h"
#include "waiter.h"

/* A FIFO of parked waiters of one kind. */
struct wlist {
	struct ilist head;
	size_t count;
};

/* Make l an empty FIFO. */
static inline void wlist_init(struct wlist *l)
{
	ilist_init(&l->head);
	l->count = 0;
}

/* Append w at the tail of l. */
static inline void wlist_append(struct wlist *l, struct waiter *w)
{
	ilist_link_tail(&l->head, &w->link);
	l->count++;
}

/* Unlink w from l, wherever it is, and mark it not parked. */
static inline void wlist_remove(struct wlist *l, struct waiter *w)
{
	ilist_unlink(&w->link);
	w->holder = NULL;
	l->count--;
}

/* The oldest waiter of l, NULL when l is empty. */
static inline struct waiter *wlist_first(const struct wlist *l)
{
	return ilist_first_entry(&l->head, struct waiter, link);
}

/* Unlink and return the oldest waiter of l, NULL when l is empty. */
static inline struct waiter *wlist_pop(struct wlist *l)
{
	struct waiter *w = wlist_first(l);

	if (w)
		wlist_remove(l, w);
	return w;
}

/*
 * A FIFO of getters (a queue's, or a pipe direction's receivers) that
 * may hold some back: w->stalled ones are handed nothing until unstalled,
 * and then take their arrival place again, ahead of those parked after
 * them. Every waiter is in `order` (w->order), oldest first; those not
 * stalled are also in `ready` (w->link), in the same order: wfifo_pop is
 * O(1), and so is everything but wfifo_unstall, whose walk to its place
 * passes only stalled waiters. w->holder is the owner's to set.
 */
struct wfifo {
	struct wlist ready;         /* not stalled, oldest first */
	struct ilist order;         /* all, oldest first */
	size_t nstalled;
};

/* Make f an empty FIFO. */
static inline void wfifo_init(struct wfifo *f)
{
	wlist_init(&f->ready);
	ilist_init(&f->order);
	f->nstalled = 0;
}

/* How many waiters f holds, stalled or not. */
static inline size_t wfifo_count(const struct wfifo *f)
{
	return f->ready.count + f->nstalled;
}

/* Append w (not stalled) at the tail of f, holder h. */
static inline void wfifo_append(struct wfifo *f, struct waiter *w, void *h)
{
	wlist_append(&f->ready, w);
	ilist_link_tail(&f->order, &w->order);
	w->holder = h;
}

/* Unlink w from f, stalled or not, and mark it not parked. */
static inline void wfifo_remove(struct wfifo *f, struct waiter *w)
{
	ilist_unlink(&w->order);
	if (w->stalled) {
		f->nstalled--;
		w->stalled = 0;
		w->holder = NULL;
		return;
	}
	wlist_remove(&f->ready, w);
}

/* Unlink and return the oldest waiter of f not stalled, or NULL. */
static inline struct waiter *wfifo_pop(struct wfifo *f)
{
	struct waiter *w = wlist_pop(&f->ready);

	if (w != NULL)
		ilist_unlink(&w->order);
	return w;
}

/* The oldest waiter of f, stalled or not, or NULL. */
static inline struct waiter *wfifo_oldest(const struct wfifo *f)
{
	return ilist_entry(ilist_first(&f->order), struct waiter, order);
}

/* Hold w (of f) back: it keeps its place in order, handed nothing. */
static inline void wfifo_stall(struct wfifo *f, struct waiter *w)
{
	void *h = w->holder;

	if (w->stalled)
		return;
	wlist_remove(&f->ready, w);
	w->holder = h;
	w->stalled = 1;
	f->nstalled++;
}

/* Put stalled w (of f) back among the ready ones at its arrival place:
 * after the nearest older waiter that is not stalled. */
static inline void wfifo_unstall(struct wfifo *f, struct waiter *w)
{
	struct ilist *n;
	struct waiter *x = NULL;

	if (!w->stalled)
		return;
	for (n = w->order.prev; n != &f->order; n = n->prev) {
		x = container_of(n, struct waiter, order);
		if (!x->stalled)
			break;
	}
	if (n != &f->order)
		ilist_link_before(x->link.next, &w->link);
	else
		ilist_link_head(&f->ready.head, &w->link);
	f->ready.count++;
	w->stalled = 0;
	f->nstalled--;
}

/* Unlink and return the oldest waiter of f, stalled or not, or NULL. */
static inline struct waiter *wfifo_shift(struct wfifo *f)
{
	struct waiter *w = wfifo_oldest(f);

	if (w != NULL)
		wfifo_remove(f, w);
	return w;
}

/*
 * The waiters parked on one holder (a queue, or one direction of a
 * pipe): its getters (receivers), some maybe stalled, and its putters
 * (senders), each kind oldest first. w->holder is the holder's address.
 */
struct wpark {
	struct wfifo get;
	struct wlist put;
};

/* Make p empty. */
static inline void wpark_init(struct wpark *p)
{
	wfifo_init(&p->get);
	wlist_init(&p->put);
}

/* Park w at the tail of p's FIFO of its kind; its holder is h. */
static inline void wpark_add(struct wpark *p, struct waiter *w, void *h)
{
	if (w->kind == WAITER_GET) {
		wfifo_append(&p->get, w, h);
		return;
	}
	wlist_append(&p->put, w);
	w->holder = h;
}

/* Unlink w, of either kind, from p and mark it not parked. */
static inline void wpark_remove(struct wpark *p, struct waiter *w)
{
	if (w->kind == WAITER_GET)
		wfifo_remove(&p->get, w);
	else
		wlist_remove(&p->put, w);
}

#endif
