/* SPDX-License-Identifier: MIT */
/* tagmap.c: the tag -> pointer map of tagmap.h. */
#include <stdlib.h>

#include "tagmap.h"

/* Slots of a map's first table. */
#define TAGMAP_MIN_CAP 16u

/* Where tag's probe starts (Fibonacci hashing: tags are consecutive). */
static size_t tagmap_home(const struct tagmap *m, uint64_t tag)
{
	return (size_t)((tag * 0x9E3779B97F4A7C15ull) >> 32) & (m->cap - 1);
}

/* Empty map. */
void tagmap_init(struct tagmap *m)
{
	m->slots = NULL;
	m->cap = m->count = 0;
}

/* Free everything. */
void tagmap_fini(struct tagmap *m)
{
	free(m->slots);
	tagmap_init(m);
}

/* Insert into a table known to have room. */
static void tagmap_insert(struct tagmap *m, uint64_t tag, void *val)
{
	size_t i = tagmap_home(m, tag);

	while (m->slots[i].tag != 0)
		i = (i + 1) & (m->cap - 1);
	m->slots[i].tag = tag;
	m->slots[i].val = val;
	m->count++;
}

/* Move every entry into a table of cap slots: 0 or -1 (unchanged). */
static int tagmap_resize(struct tagmap *m, size_t cap)
{
	struct tagmap old = *m;
	size_t i;

	m->slots = calloc(cap, sizeof(*m->slots));
	if (m->slots == NULL) {
		*m = old;
		return -1;
	}
	m->cap = cap;
	m->count = 0;
	for (i = 0; i < old.cap; i++)
		if (old.slots[i].tag != 0)
			tagmap_insert(m, old.slots[i].tag, old.slots[i].val);
	free(old.slots);
	return 0;
}

/* Add, growing to stay at most half full. */
int tagmap_put(struct tagmap *m, uint64_t tag, void *val)
{
	if ((m->count + 1) * 2 > m->cap &&
	    tagmap_resize(m, m->cap ? m->cap * 2 : TAGMAP_MIN_CAP) != 0)
		return -1;
	tagmap_insert(m, tag, val);
	return 0;
}

/* The slot of tag, or cap when absent. */
static size_t tagmap_find(const struct tagmap *m, uint64_t tag)
{
	size_t i;

	if (m->cap == 0 || tag == 0)
		return m->cap;
	for (i = tagmap_home(m, tag); m->slots[i].tag != 0; i = (i + 1) & (m->cap - 1))
		if (m->slots[i].tag == tag)
			return i;
	return m->cap;
}

/* Look up. */
void *tagmap_get(const struct tagmap *m, uint64_t tag)
{
	size_t i = tagmap_find(m, tag);

	return i < m->cap ? m->slots[i].val : NULL;
}

/* Remove, then shift back the entries after it whose probe passed it, so
 * lookups never need tombstones. */
void *tagmap_del(struct tagmap *m, uint64_t tag)
{
	size_t i = tagmap_find(m, tag), j, home, mask = m->cap - 1;
	void *val;

	if (i >= m->cap)
		return NULL;
	val = m->slots[i].val;
	for (j = (i + 1) & mask; m->slots[j].tag != 0; j = (j + 1) & mask) {
		home = tagmap_home(m, m->slots[j].tag);
		/* Entry j may move to i when i lies cyclically in [home, j). */
		if (((j - home) & mask) >= ((j - i) & mask)) {
			m->slots[i] = m->slots[j];
			i = j;
		}
	}
	m->slots[i].tag = 0;
	m->slots[i].val = NULL;
	if (--m->count == 0)
		tagmap_fini(m);
	return val;
}
