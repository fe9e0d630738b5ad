/*
 * wlist.h: a doubly linked FIFO of parked waiters, shared by the plain
 * data structures that park requests (queue.c, pipe.c). Header-only: the helpers
 * are tiny and static inline.
 */
#ifndef IPCD_WLIST_H
#define IPCD_WLIST_H

#include <stddef.h>

#include "waiter.h"

/* A FIFO of parked waiters of one kind. */
struct wlist {
	struct waiter *head, *tail;
	size_t count;
};

/* Append w at the tail of l. */
static inline void wlist_append(struct wlist *l, struct waiter *w)
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

/* Unlink w from l, wherever it is, and mark it not parked. */
static inline void wlist_remove(struct wlist *l, struct waiter *w)
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
static inline struct waiter *wlist_pop(struct wlist *l)
{
	struct waiter *w = l->head;

	if (w)
		wlist_remove(l, w);
	return w;
}

#endif
