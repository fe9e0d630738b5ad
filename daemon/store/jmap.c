/* SPDX-License-Identifier: MIT */
/* jmap.c: the id -> record-location map of jmap.h. */
#include <stddef.h>
#include <stdlib.h>
#include <sys/mman.h>

#include "jmap.h"

/* Slots of a map's first table. */
#define JMAP_MIN_CAP 64u
/* Tables from this size are mapped directly, on small pages (huge ones
 * cost recovery more than they save when the kernel must find fresh
 * ones: see qchunk_new in qmsg.c). */
#define JMAP_MAP_MIN (2u << 20)

/* A zeroed table of cap slots, or NULL. */
static struct jmap_slot *jmap_alloc(size_t cap)
{
	size_t len = cap * sizeof(struct jmap_slot);
	void *p;

	if (len < JMAP_MAP_MIN)
		return calloc(cap, sizeof(struct jmap_slot));
	p = mmap(NULL, len, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS,
		 -1, 0);
	if (p == MAP_FAILED)
		return NULL;
	if (madvise(p, len, MADV_NOHUGEPAGE) != 0)
		(void)0; /* the system's default then */
	return p;
}

/* Free a table of cap slots made by jmap_alloc. */
static void jmap_release(struct jmap_slot *slots, size_t cap)
{
	size_t len = cap * sizeof(struct jmap_slot);

	if (len < JMAP_MAP_MIN)
		free(slots);
	else if (slots != NULL)
		munmap(slots, len);
}

/* Where key's probe starts: the key itself. Ids are the journal's own,
 * given out consecutively (no client picks them), so consecutive ids land
 * in consecutive slots: replaying a million puts walks the table in order
 * instead of missing the cache on every one. */
static size_t jmap_home(const struct jmap *m, uint64_t key)
{
	return (size_t)key & (m->cap - 1);
}

/* How far slot i lies from the home of the key it holds. */
static size_t jmap_dist(const struct jmap *m, size_t i)
{
	return (i - jmap_home(m, m->slots[i].key)) & (m->cap - 1);
}

/* The slot whose value l is. */
static struct jmap_slot *container_of_slot(struct jloc *l)
{
	return (struct jmap_slot *)((unsigned char *)l -
				    offsetof(struct jmap_slot, loc));
}

/* Free everything. */
void jmap_fini(struct jmap *m)
{
	jmap_release(m->slots, m->cap);
	m->slots = NULL;
	m->cap = m->count = 0;
}

/* The slot holding key, or NULL; *steps += the slots looked at. Robin
 * Hood order: the keys of a run lie by distance from home, so the search
 * stops at the first key closer to its home than key would be (a live
 * run of consecutive ids is all at home: a miss costs one slot, not the
 * run). */
static struct jmap_slot *jmap_find(const struct jmap *m, uint64_t key,
				   uint64_t *steps)
{
	size_t i = jmap_home(m, key), d = 0;

	for (;; i = (i + 1) & (m->cap - 1), d++) {
		++*steps;
		if (m->slots[i].key == key)
			return &m->slots[i];
		if (m->slots[i].key == 0 || jmap_dist(m, i) < d)
			return NULL;
	}
}

/* Add s (its key absent) where Robin Hood order puts it, moving the keys
 * closer to their home one slot on. There is an empty slot. */
static void jmap_insert(struct jmap *m, struct jmap_slot s)
{
	size_t i = jmap_home(m, s.key), d = 0, e;
	struct jmap_slot t;

	for (;; i = (i + 1) & (m->cap - 1), d++) {
		m->probes++;
		if (m->slots[i].key == 0) {
			m->slots[i] = s;
			return;
		}
		if ((e = jmap_dist(m, i)) < d) {
			t = m->slots[i];
			m->slots[i] = s;
			s = t;
			d = e;
		}
	}
}

/* Move every entry into a table of cap slots: 0 or -1 (unchanged). */
static int jmap_resize(struct jmap *m, size_t cap)
{
	struct jmap old = *m;
	size_t i;

	m->slots = jmap_alloc(cap);
	if (m->slots == NULL) {
		*m = old;
		return -1;
	}
	m->cap = cap;
	for (i = 0; i < old.cap; i++)
		if (old.slots[i].key != 0)
			jmap_insert(m, old.slots[i]);
	jmap_release(old.slots, old.cap);
	return 0;
}

/* The value of key, or NULL. */
struct jloc *jmap_get(const struct jmap *m, uint64_t key)
{
	struct jmap_slot *s;
	uint64_t steps = 0;

	if (m->count == 0)
		return NULL;
	s = jmap_find(m, key, &steps);
	return s ? &s->loc : NULL;
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
	struct jmap_slot *s = m->count ? jmap_find(m, key, &m->probes) : NULL;

	if (s) {
		s->loc = *loc;
		return 0;
	}
	if (jmap_reserve(m, 1) != 0)
		return -1;
	jmap_insert(m, (struct jmap_slot){ key, *loc });
	m->count++;
	return 0;
}

/* Add key, known absent, with room made by jmap_reserve. */
void jmap_add(struct jmap *m, uint64_t key, const struct jloc *loc)
{
	struct jmap_slot *home = &m->slots[jmap_home(m, key)];

	if (home->key == 0) {       /* the usual case: consecutive new ids */
		home->key = key;
		home->loc = *loc;
		m->probes++;
	} else {
		jmap_insert(m, (struct jmap_slot){ key, *loc });
	}
	m->count++;
}

/* Remove the entry whose value l is, closing the gap by backward shift:
 * the keys after it move back one slot up to the first empty slot or key
 * at its home (Robin Hood order makes that the end of what may move). */
void jmap_remove(struct jmap *m, struct jloc *l)
{
	size_t i = (size_t)(container_of_slot(l) - m->slots), j;

	for (j = (i + 1) & (m->cap - 1);
	     m->slots[j].key != 0 && jmap_dist(m, j) > 0;
	     i = j, j = (j + 1) & (m->cap - 1)) {
		m->probes++;
		m->slots[i] = m->slots[j];
	}
	m->slots[i].key = 0;
	m->count--;
}

/* Remove key. */
int jmap_del(struct jmap *m, uint64_t key, struct jloc *old)
{
	struct jmap_slot *s;

	if (m->count == 0 || (s = jmap_find(m, key, &m->probes)) == NULL)
		return 0;
	if (old)
		*old = s->loc;
	jmap_remove(m, &s->loc);
	return 1;
}
