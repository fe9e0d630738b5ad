/* SPDX-License-Identifier: MIT */
/*
 * wlist.h: a FIFO of parked waiters with its length, shared by the plain
 * data structures that park requests (queue.c, pipe.c): an ilist that
 * counts. Header-only: the helpers are tiny and static inline.
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

#endif
