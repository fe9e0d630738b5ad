/* SPDX-License-Identifier: MIT */
/*
 * ilist.h: the daemon's one intrusive doubly linked list (like c-list or
 * the Linux kernel's list_head). A record embeds a struct ilist per list
 * it can be on; every link and unlink is O(1) and needs no search.
 *
 * A list head is a struct ilist pointing at itself when empty: set it up
 * with ilist_init(). A node that is on no list has next == NULL, so a
 * zeroed (calloc'd) record is unlinked, and ilist_unlink() of an unlinked
 * node does nothing. Header-only: the helpers are tiny and static inline.
 */
#ifndef IPCD_ILIST_H
#define IPCD_ILIST_H

#include <stdbool.h>
#include <stddef.h>

/* A list head, or a link embedded in a record. */
struct ilist {
	struct ilist *next, *prev;
};

/* The record of type holding member at ptr (container_of). */
#define container_of(ptr, type, member) \
	((type *)(void *)((char *)(ptr) - offsetof(type, member)))

/* The record of type whose member n is, NULL for a NULL n. */
#define ilist_entry(n, type, member) \
	((n) != NULL ? container_of((n), type, member) : (type *)NULL)

/* Make h an empty list head. */
static inline void ilist_init(struct ilist *h)
{
	h->next = h->prev = h;
}

/* Is the list headed by h empty? */
static inline bool ilist_empty(const struct ilist *h)
{
	return h->next == h;
}

/* Is node n on a list? */
static inline bool ilist_linked(const struct ilist *n)
{
	return n->next != NULL;
}

/* Link n (not on a list) just before at (a head: at the tail). */
static inline void ilist_link_before(struct ilist *at, struct ilist *n)
{
	n->next = at;
	n->prev = at->prev;
	at->prev->next = n;
	at->prev = n;
}

/* Append n at the tail of h. */
static inline void ilist_link_tail(struct ilist *h, struct ilist *n)
{
	ilist_link_before(h, n);
}

/* Insert n at the head of h. */
static inline void ilist_link_head(struct ilist *h, struct ilist *n)
{
	ilist_link_before(h->next, n);
}

/* Take n off its list; nothing when it is on none. */
static inline void ilist_unlink(struct ilist *n)
{
	if (n->next == NULL)
		return;
	n->prev->next = n->next;
	n->next->prev = n->prev;
	n->next = n->prev = NULL;
}

/* The first node of h, NULL when empty. */
static inline struct ilist *ilist_first(const struct ilist *h)
{
	return h->next == h ? NULL : h->next;
}

/* The last node of h, NULL when empty. */
static inline struct ilist *ilist_last(const struct ilist *h)
{
	return h->prev == h ? NULL : h->prev;
}

/* The node after n on h, NULL at the end. */
static inline struct ilist *ilist_next(const struct ilist *h, const struct ilist *n)
{
	return n->next == h ? NULL : n->next;
}

/* The node before n on h, NULL at the start. */
static inline struct ilist *ilist_prev(const struct ilist *h, const struct ilist *n)
{
	return n->prev == h ? NULL : n->prev;
}

/* Unlink and return the first node of h, NULL when empty. */
static inline struct ilist *ilist_pop(struct ilist *h)
{
	struct ilist *n = ilist_first(h);

	if (n != NULL)
		ilist_unlink(n);
	return n;
}

/* The first record of h (of type, linked through member), or NULL. */
#define ilist_first_entry(h, type, member) \
	ilist_entry(ilist_first(h), type, member)

/* The last record of h, or NULL. */
#define ilist_last_entry(h, type, member) \
	ilist_entry(ilist_last(h), type, member)

#endif
