/* SPDX-License-Identifier: MIT */
/*
 * nameidx.h: names kept in byte order (a skip list), so that a walk can
 * start after any name in O(log n) and go on in O(1) per name. The
 * registry keeps one beside its hash table for LIST's pages. Keys are
 * NUL-terminated strings the caller keeps alive while they are indexed.
 */
#ifndef IPCD_NAMEIDX_H
#define IPCD_NAMEIDX_H

#include <stddef.h>
#include <stdint.h>

/* The most levels a node can have: ample for 4^16 names. */
#define NAMEIDX_LEVELS 16

struct nameidx_node {
	const char *key;            /* not owned */
	void *val;
	unsigned height;            /* levels it is linked at, 1..NAMEIDX_LEVELS */
	struct nameidx_node *next[]; /* next[i]: the next node at level i */
};

struct nameidx {
	struct nameidx_node *head[NAMEIDX_LEVELS];
	uint64_t rng;               /* picks node heights */
};

/* Set up an empty index. */
void nameidx_init(struct nameidx *x);
/* Free every node (not the keys or values). */
void nameidx_fini(struct nameidx *x);
/* Index key -> val (key not indexed yet): 0 or IPC_ENOMEM. */
int nameidx_insert(struct nameidx *x, const char *key, void *val);
/* Drop key from the index (no-op when absent). */
void nameidx_remove(struct nameidx *x, const char *key);
/* The first node whose key is strictly greater than after in byte order
 * ("" or NULL: the first node), or NULL. Follow next[0] for the rest. */
struct nameidx_node *nameidx_after(const struct nameidx *x, const char *after);

#endif
