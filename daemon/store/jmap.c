/* SPDX-License-Identifier: MIT */
/* jmap.c: the id -> record-location map of jmap.h. */
#include <stdlib.h>

#include "jmap.h"

/* Slots of a map's first table. */
#define JMAP_MIN_CAP 64u

/* Where key's probe starts: the key itself. Ids are the journal's own,
 * given out consecutively (no client picks them), so consecutive ids land
 * in consecutive slots: replaying a million puts walks the table in order
 * instead of missing the cache on every one. */
static size_t jmap_home(const struct jmap *m, uint64_t key)
{
	return (size_t)key & (m->cap - 1);
}

/* Free everything. */
void jmap_fini(struct jmap *m)
{
	free(m->slots);
	m->slots = NULL;
	m->cap = m->count = 0;
}

/* The slot holding key, or the empty slot where it would go. */
static struct jmap_slot *jmap_probe(const struct jmap *m, uint64_t key)
{
	size_t i = jmap_home(m, key);

	while (m->slots[i].key != 0 && m->slots[i].key != key)
		i = (i + 1) & (m->cap - 1);
	return &m->slots[i];
}

/* Move every entry into a table of cap slots: 0 or -1 (unchanged). */
static int jmap_resize(struct jmap *m, size_t cap)
{
	struct jmap old = *m;
	struct jmap_slot *s;
	size_t i;

	m->slots = calloc(cap, sizeof(*m->slots));
	if (m->slots == NULL) {
		*m = old;
		return -1;
	}
	m->cap = cap;
	for (i = 0; i < old.cap; i++)
		if (old.slots[i].key != 0) {
			s = jmap_probe(m, old.slots[i].key);
			*s = old.slots[i];
		}
	free(old.slots);
	return 0;
}

/* The value of key, or NULL. */
struct jloc *jmap_get(const struct jmap *m, uint64_t key)
{
	struct jmap_slot *s;

	if (m->count == 0)
		return NULL;
	s = jmap_probe(m, key);
	return s->key == key ? &s->loc : NULL;
}

/* Grow until more new entries fit at most half full. */
int jmap_reserve(struct jmap *m, size_t more)
{
	size_t cap = m->cap ? m->cap : JMAP_MIN_CAP;

	while ((m->count + more) * 2 > cap)
		cap *= 2;
	return cap == m->cap ? 0 : jmap_resize(m, cap);
}

/* Set or add key -> *loc. */
int jmap_set(struct jmap *m, uint64_t key, const struct jloc *loc)
{
	struct jmap_slot *s;

	if (jmap_reserve(m, 1) != 0)
		return -1;
	s = jmap_probe(m, key);
	if (s->key == 0) {
		s->key = key;
		m->count++;
	}
	s->loc = *loc;
	return 0;
}

/* Remove key, closing the gap by backward shift. */
int jmap_del(struct jmap *m, uint64_t key, struct jloc *old)
{
	struct jmap_slot *s;
	size_t i, j, h;

	if (m->count == 0 || (s = jmap_probe(m, key))->key != key)
		return 0;
	if (old)
		*old = s->loc;
	i = (size_t)(s - m->slots);
	for (j = (i + 1) & (m->cap - 1); m->slots[j].key != 0;
	     j = (j + 1) & (m->cap - 1)) {
		h = jmap_home(m, m->slots[j].key);
		/* Move j back into the hole i unless its home lies in (i, j]. */
		if (((j - h) & (m->cap - 1)) >= ((j - i) & (m->cap - 1))) {
			m->slots[i] = m->slots[j];
			i = j;
		}
	}
	m->slots[i].key = 0;
	m->count--;
	return 1;
}
