/* SPDX-License-Identifier: MIT */
/*
 * jmap.h: the journal's hash map from a 64-bit id (never 0) to a small
 * fixed record (where a live message or queue record lies). Open
 * addressing keyed by the id itself, linear probing in Robin Hood order
 * (the keys of a run sorted by distance from home), at most half full,
 * deletion by backward shift. Every operation costs O(1) slots on
 * average, also for a FIFO of a million consecutive live ids (deleting
 * the oldest does not walk the run behind it). Values are stored in the
 * table, so a million messages cost one allocation.
 */
#ifndef IPCD_JMAP_H
#define IPCD_JMAP_H

#include <stddef.h>
#include <stdint.h>

/* Where a journaled record lies, and what it belongs to. */
struct jloc {
	uint32_t qid;   /* the queue (messages), or an index (queues) */
	uint32_t seg;   /* segment number */
	uint32_t off;   /* offset of the record in the segment file */
	uint32_t len;   /* bytes of the whole record, header included */
	uint32_t flags; /* JLOC_* */
};

/* A message delivered for acknowledgement (DELIVER record seen). */
#define JLOC_DELIVERED 0x1u
/* The flags' bits from this one up count its DELIVER records, up to
 * JLOC_COUNT_MAX (dead-lettering needs the count after a restart). */
#define JLOC_COUNT_SHIFT 8
#define JLOC_COUNT_MAX 0xffffu

/* How many DELIVER records l's message has. */
static inline uint32_t jloc_deliveries(const struct jloc *l)
{
	return l->flags >> JLOC_COUNT_SHIFT;
}

/* One more DELIVER record for l's message. */
static inline void jloc_delivered(struct jloc *l)
{
	uint32_t n = jloc_deliveries(l);

	if (n < JLOC_COUNT_MAX)
		n++;
	l->flags = JLOC_DELIVERED | n << JLOC_COUNT_SHIFT;
}

struct jmap_slot {
	uint64_t key;   /* 0: empty */
	struct jloc loc;
};

struct jmap {
	struct jmap_slot *slots;
	size_t cap;     /* 0 or a power of two */
	size_t count;
	uint64_t probes; /* slots looked at by jmap_set and jmap_del (tests) */
};

/* Free the slots; the map is empty again (a zeroed map is empty). */
void jmap_fini(struct jmap *m);
/* The value of key, or NULL; valid until the next jmap_set or jmap_del
 * (either may move any entry). */
struct jloc *jmap_get(const struct jmap *m, uint64_t key);
/* Set key (not 0) to *loc, adding it when absent: 0 or -1 on ENOMEM. */
int jmap_set(struct jmap *m, uint64_t key, const struct jloc *loc);
/* Add key (not 0), known to be absent, after jmap_reserve made room for
 * it (recovery: no lookup, no growth check). */
void jmap_add(struct jmap *m, uint64_t key, const struct jloc *loc);
/* Make room for more entries, so the next that many jmap_set of new keys
 * cannot fail: 0 or -1 on ENOMEM. */
int jmap_reserve(struct jmap *m, size_t more);
/* Remove the entry whose value l is (from jmap_get, with no jmap_set or
 * jmap_del since). */
void jmap_remove(struct jmap *m, struct jloc *l);
/* Remove key; 1 if it was there (its value copied to *old if not NULL). */
int jmap_del(struct jmap *m, uint64_t key, struct jloc *old);

#endif
