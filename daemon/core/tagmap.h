/* SPDX-License-Identifier: MIT */
/*
 * tagmap.h: a hash map from a 64-bit tag (never 0) to a pointer, so an ack
 * finds its in-flight message in O(1) however many are in flight. Open
 * addressing with linear probing, at most half full, deletion by backward
 * shift (no tombstones). Plain C: no daemon state.
 */
#ifndef IPCD_TAGMAP_H
#define IPCD_TAGMAP_H

#include <stddef.h>
#include <stdint.h>

struct tagmap_slot {
	uint64_t tag;   /* 0: empty */
	void *val;
};

struct tagmap {
	struct tagmap_slot *slots;
	size_t cap;     /* 0 or a power of two */
	size_t count;
};

/* An empty map (allocates nothing). */
void tagmap_init(struct tagmap *m);
/* Free the slots; the map is empty again. */
void tagmap_fini(struct tagmap *m);
/* Add tag -> val (tag not 0 and not in the map): 0, or -1 on ENOMEM (the
 * map is unchanged). */
int tagmap_put(struct tagmap *m, uint64_t tag, void *val);
/* The value of tag, or NULL. */
void *tagmap_get(const struct tagmap *m, uint64_t tag);
/* Remove tag: its value, or NULL when absent. An emptied map frees its
 * slots. */
void *tagmap_del(struct tagmap *m, uint64_t tag);

#endif
