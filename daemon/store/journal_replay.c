/* SPDX-License-Identifier: MIT */
/*
 * journal_replay.c: recovery. Every segment is mapped and its records
 * applied in order to the index of live queues and messages; then the
 * live queues and messages are handed back, messages in mid order (the
 * order they were put), payloads straight from the mapping. The live
 * puts are found again by walking the mappings: no list of every put is
 * kept (recovery is bound by the memory it touches). Only when the file
 * order is not mid order (compaction copied records forward) is a list
 * of the live ones made and sorted.
 *
 * A record that fails its checks ends its segment: when no valid record
 * follows it in the segment, it is a torn tail (a write cut short by a
 * crash) and is cut off; otherwise the journal is corrupt. Zeros after
 * the last record are space reserved ahead (journal.c writes zeros with
 * sync = always): cut off too, not counted as torn.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include "journal_int.h"

/* A live PUT record, when they must be sorted by mid. */
struct jput {
	uint64_t mid;
	uint32_t flags;         /* its index entry's */
	const unsigned char *rec;
};

/* A mapped segment file, and its records kept (JSEG_HDR..end). */
struct jmapped {
	void *p;
	size_t len;
	uint32_t segno;
	uint64_t end;           /* 0: none (header bad or missing) */
};

/* Replay state. */
struct jrep {
	struct jmapped *maps;
	size_t nmaps;
	bool stop;              /* salvage cut the journal short */
	bool orphans;           /* a queue was deleted, or a PUT came before its
				   queue's record: messages of queues not
				   there at the end are dropped then */
	bool unsorted;          /* a PUT's mid is not above every earlier one's */
	uint32_t live_qid;      /* the queue of the last PUT, known live (or 0) */
	uint64_t max_mid;       /* the highest of the PUTs applied */
	size_t nputs;           /* live ones handed back */
};

/* Where a record being applied lies. */
struct jat {
	uint32_t seg;
	uint64_t off;
	uint32_t len;           /* whole record */
};

/* The name of a QUEUE record (its body after the fixed part, n bytes at
 * s) and its dead-lettering part, when it has one, into q. */
static void jrep_queue_names(struct journal_queue *q, const unsigned char *s,
			     size_t n)
{
	const unsigned char *nul = memchr(s, 0, n);
	size_t nlen = nul ? (size_t)(nul - s) : n;

	memcpy(q->name, s, nlen > IPC_NAME_MAX ? IPC_NAME_MAX : nlen);
	if (!nul || n - nlen < 6 || n - nlen - 5 > IPC_NAME_MAX)
		return;
	q->max_deliveries = jld32(nul + 1);
	memcpy(q->dead_letter, nul + 5, n - nlen - 5);
}

/* Apply a QUEUE record. */
static int jrep_queue(struct journal *j, const unsigned char *b, uint32_t len,
		      const struct jat *at)
{
	struct journal_queue q = { .qid = jld32(b) };
	struct jloc loc = { 0, at->seg, (uint32_t)at->off, at->len, 0 };
	struct jqueue *jq = journal_queue_find(j, q.qid);

	q.mode = jld32(b + 4);
	q.uid = jld32(b + 8);
	q.gid = jld32(b + 12);
	q.maxsize = jld64(b + 16);
	jrep_queue_names(&q, b + JQUEUE_FIXED, len - JQUEUE_FIXED);
	if (q.qid >= j->next_qid)
		j->next_qid = q.qid + 1;
	if (jq)
		journal_dead(j, &jq->at);
	else if (!(jq = journal_queue_add(j, &q)))
		return -ENOMEM;
	jq->q = q;
	jq->at = loc;
	journal_alive(j, &loc);
	return 0;
}

/* Apply a QDEL record: the queue goes; its messages are dropped at the end. */
static void jrep_qdel(struct journal *j, struct jrep *st, const unsigned char *b)
{
	struct jqueue *jq = journal_queue_find(j, jld32(b));

	st->live_qid = 0;
	if (!jq)
		return;
	st->orphans = true;
	journal_dead(j, &jq->at);
	journal_queue_remove(j, jq);
}

/* Apply a PUT record (a second copy of a mid, from compaction, moves it).
 * Its queue may not be known yet: compaction copies a queue's record
 * forward, past the queue's newer puts; jrep_emit drops the puts of the
 * queues still unknown at the end. */
static void jrep_put(struct journal *j, struct jrep *st,
		     const unsigned char *b, const struct jat *at)
{
	uint64_t mid = jld64(b);
	struct jloc loc = { jld32(b + 8), at->seg, (uint32_t)at->off, at->len, 0 };
	struct jloc *old;

	if (mid >= j->next_mid)
		j->next_mid = mid + 1;
	if (loc.qid != st->live_qid) {
		if (journal_queue_find(j, loc.qid))
			st->live_qid = loc.qid;
		else
			st->orphans = true;
	}
	/* Above every mid so far: new (no lookup). Else out of file order,
	 * perhaps a compaction copy, which moves the message. */
	if (mid <= st->max_mid)
		st->unsorted = true;
	if (mid <= st->max_mid && (old = jmap_get(&j->msgs, mid)) != NULL) {
		journal_dead(j, old);
		loc.flags = old->flags;
		*old = loc;
	} else {
		/* Room made for every PUT of the segment by jrep_walk. */
		jmap_add(&j->msgs, mid, &loc);
	}
	if (mid > st->max_mid)
		st->max_mid = mid;
	/* The segment being walked is the last one (journal_alive, without
	 * looking for it). */
	j->segs[j->nsegs - 1].live += loc.len;
	j->live += loc.len;
}

/* Apply a CONSUME or DELIVER record. */
static void jrep_mids(struct journal *j, unsigned type, const unsigned char *b,
		      uint32_t len)
{
	uint32_t i, n = (len - 4) / 8;
	struct jloc old, *l;
	uint64_t mid;

	for (i = 0; i < n; i++) {
		mid = jld64(b + 4 + 8 * i);
		if (mid >= j->next_mid)
			j->next_mid = mid + 1;
		if (type == JREC_DELIVER && (l = jmap_get(&j->msgs, mid)))
			jloc_delivered(l);
		else if (type == JREC_CONSUME && jmap_del(&j->msgs, mid, &old))
			journal_dead(j, &old);
	}
}

/* Apply one valid record. */
static int jrep_apply(struct journal *j, struct jrep *st, const unsigned char *p,
		      const struct jat *at)
{
	const unsigned char *b = p + JREC_HDR;
	uint32_t len = at->len - JREC_HDR;

	switch (p[8]) {
	case JREC_QUEUE:
		return jrep_queue(j, b, len, at);
	case JREC_QDEL:
		jrep_qdel(j, st, b);
		return 0;
	case JREC_PUT:
		jrep_put(j, st, b, at);
		return 0;
	default:
		jrep_mids(j, p[8], b, len);
		return 0;
	}
}

/* Does a valid record start anywhere in p[from..to) (size bytes mapped)? */
static bool jrep_valid_after(const unsigned char *p, uint64_t from,
			     uint64_t to, uint64_t size)
{
	uint64_t q;

	for (q = from; q < to && q + JREC_HDR <= size; q++)
		if (jrec_check(p + q, size - q))
			return true;
	return false;
}

/* The end of p[from..size) without its trailing zeros: space reserved
 * ahead by writing zeros (sync = always), not records. */
static uint64_t jrep_data_end(const unsigned char *p, uint64_t from,
			      uint64_t size)
{
	while (size > from && p[size - 1] == 0)
		size--;
	return size;
}

/* Rename segment segno to NAME.discarded (salvage). */
static void jrep_discard(struct journal *j, uint32_t segno)
{
	char name[16], to[32];

	jseg_name(segno, name);
	snprintf(to, sizeof(to), "%s.discarded", name);
	if (renameat(j->dirfd, name, j->dirfd, to) != 0)
		(void)0; /* replay stopped before it anyway */
}

/* A bad record at off of segment segno (path for messages): torn tail,
 * corruption, or salvage. The valid end of the segment, or -1. */
static int64_t jrep_bad(struct journal *j, struct jrep *st, const char *name,
			const unsigned char *p, uint64_t off, uint64_t size,
			struct journal_report *rep)
{
	uint64_t end = jrep_data_end(p, off, size);

	if (!jrep_valid_after(p, off + 1, end, size)) {
		rep->torn_bytes += end - off;   /* reserved zeros not counted */
		return (int64_t)off;
	}
	if (j->o.salvage) {
		rep->salvaged_bytes += size - off;
		st->stop = true;
		return (int64_t)off;
	}
	snprintf(rep->error, sizeof(rep->error),
		 "%s/%s: corrupt record at offset %llu, followed by valid records",
		 j->dir, name, (unsigned long long)off);
	return -1;
}

/* How many PUT records p[JSEG_HDR..size) holds at most (their headers
 * only, unchecked), to size the index once. */
static size_t jrep_count_puts(const unsigned char *p, uint64_t size)
{
	uint64_t off = JSEG_HDR, len;
	size_t n = 0;

	while (off + JREC_HDR <= size) {
		len = jld32(p + off + 4);
		if (len > JREC_BODY_MAX)
			break;
		n += p[off + 8] == JREC_PUT;
		off += JREC_HDR + len;
	}
	return n;
}

/* Walk the records of a mapped segment; the valid end, or -1 (error set)
 * or below (-errno - 1). */
static int64_t jrep_walk(struct journal *j, struct jrep *st, const char *name,
			 const unsigned char *p, uint64_t size, uint32_t segno,
			 struct journal_report *rep)
{
	struct jat at = { .seg = segno, .off = JSEG_HDR };
	int rc;

	if (jmap_reserve(&j->msgs, jrep_count_puts(p, size)) != 0)
		return -ENOMEM - 1;
	while (at.off < size) {
		if (!jrec_check(p + at.off, size - at.off))
			return jrep_bad(j, st, name, p, at.off, size, rep);
		at.len = JREC_HDR + jld32(p + at.off + 4);
		if ((rc = jrep_apply(j, st, p + at.off, &at)) != 0)
			return rc - 1;
		rep->records++;
		at.off += at.len;
	}
	return (int64_t)at.off;
}

/* Map segment segno's file, keeping the mapping for the hand-back. */
static const unsigned char *jrep_map(struct jrep *st, int fd, size_t size,
				     uint32_t segno)
{
	void *p, *v;

	v = realloc(st->maps, (st->nmaps + 1) * sizeof(*st->maps));
	if (!v)
		return NULL;
	st->maps = v;
	/* Populated at once: one call maps every page instead of a fault
	 * per 64 KiB (the file is read in order, with readahead, when cold). */
	p = mmap(NULL, size, PROT_READ, MAP_SHARED | MAP_POPULATE, fd, 0);
	if (p == MAP_FAILED)
		return NULL;
	st->maps[st->nmaps++] = (struct jmapped){ p, size, segno, 0 };
	return p;
}

/* A segment whose header is missing (a crash right after creating it) or
 * bad: dropped when torn, else corruption. 0 or -1 (error set). */
static int jrep_bad_header(struct journal *j, struct jrep *st, uint32_t segno,
			   uint64_t size, struct journal_report *rep)
{
	char name[16];

	jseg_name(segno, name);
	if (size < JSEG_HDR) {
		rep->torn_bytes += size;
		unlinkat(j->dirfd, name, 0);
		return 0;
	}
	if (j->o.salvage) {
		rep->salvaged_bytes += size;
		st->stop = true;
		jrep_discard(j, segno);
		return 0;
	}
	snprintf(rep->error, sizeof(rep->error),
		 "%s/%s: bad segment header at offset 0", j->dir, name);
	return -1;
}

/* Replay one segment file (the fd is open). */
static int jrep_segment(struct journal *j, struct jrep *st, uint32_t segno,
			int fd, struct journal_report *rep)
{
	const unsigned char *p;
	struct stat sb;
	uint64_t mid;
	uint32_t qid;
	char name[16];
	int64_t end;

	if (fstat(fd, &sb) != 0)
		return -errno;
	if ((uint64_t)sb.st_size < JSEG_HDR)
		return jrep_bad_header(j, st, segno, (uint64_t)sb.st_size, rep) ?
		       JOURNAL_E_CORRUPT : 0;
	if (!(p = jrep_map(st, fd, (size_t)sb.st_size, segno)))
		return -ENOMEM;
	if (jseg_header_check(p, segno, &mid, &qid) != 0)
		return jrep_bad_header(j, st, segno, (uint64_t)sb.st_size, rep) ?
		       JOURNAL_E_CORRUPT : 0;
	if (mid > j->next_mid)
		j->next_mid = mid;
	if (qid > j->next_qid)
		j->next_qid = qid;
	if (jseg_push(j, segno, 0) != 0)
		return -ENOMEM;
	jseg_name(segno, name);
	end = jrep_walk(j, st, name, p, (uint64_t)sb.st_size, segno, rep);
	if (end == -1)
		return JOURNAL_E_CORRUPT;
	if (end < -1)
		return (int)(end + 1);
	rep->bytes += (uint64_t)sb.st_size;
	st->maps[st->nmaps - 1].end = (uint64_t)end;
	j->segs[j->nsegs - 1].size = (uint64_t)end;
	j->bytes += (uint64_t)end;
	if ((uint64_t)end < (uint64_t)sb.st_size && ftruncate(fd, end) != 0)
		return -errno;
	return 0;
}

/* qsort order of queues by qid and of puts by mid. */
static int jrep_qcmp(const void *a, const void *b)
{
	uint32_t x = ((const struct jqueue *)a)->q.qid;
	uint32_t y = ((const struct jqueue *)b)->q.qid;

	return x < y ? -1 : x > y;
}

static int jrep_pcmp(const void *a, const void *b)
{
	uint64_t x = ((const struct jput *)a)->mid, y = ((const struct jput *)b)->mid;

	return x < y ? -1 : x > y;
}

/* A live put being handed back (jrep_live calls it): 0 or stop with rc. */
typedef int (*jrep_fn)(void *arg, const unsigned char *rec, uint64_t mid,
		       uint32_t flags);

/* Call fn for every live PUT record (the copy the index points at), in
 * file order: the mappings are walked again, their records valid already. */
static int jrep_live(struct journal *j, const struct jrep *st, jrep_fn fn,
		     void *arg)
{
	const unsigned char *p;
	const struct jloc *l;
	uint64_t off, mid;
	size_t i;
	int rc;

	for (i = 0; i < st->nmaps; i++) {
		p = st->maps[i].p;
		for (off = JSEG_HDR; off < st->maps[i].end;
		     off += JREC_HDR + jld32(p + off + 4)) {
			if (p[off + 8] != JREC_PUT)
				continue;
			mid = jld64(p + off + JREC_HDR);
			l = jmap_get(&j->msgs, mid);
			if (!l || l->seg != st->maps[i].segno || l->off != off)
				continue;
			if ((rc = fn(arg, p + off, mid, l->flags)) != 0)
				return rc;
		}
	}
	return 0;
}

/* Where jrep_emit_one hands messages, and how many it handed. */
struct jrep_out {
	const struct journal_replay *r;
	size_t n;
};

/* Hand back one live message (or only count it, with no callback). */
static int jrep_emit_one(void *arg, const unsigned char *rec, uint64_t mid,
			 uint32_t flags)
{
	struct jrep_out *o = arg;
	const unsigned char *b = rec + JREC_HDR;
	struct jloc l = { .flags = flags };
	struct journal_msg m = { jld32(b + 8), mid, b + JPUT_FIXED,
				 jld32(rec + 4) - JPUT_FIXED,
				 (flags & JLOC_DELIVERED) != 0,
				 jloc_deliveries(&l) };

	o->n++;
	return o->r && o->r->message ? o->r->message(o->r->arg, &m) : 0;
}

/* A list of live puts, to be sorted. */
struct jrep_list {
	struct jput *v;
	size_t n, cap;
};

/* Append one live put to a jrep_list: 0 or -ENOMEM. */
static int jrep_list_add(void *arg, const unsigned char *rec, uint64_t mid,
			 uint32_t flags)
{
	struct jrep_list *ls = arg;

	if (jgrow(&ls->v, ls->n, &ls->cap, sizeof(*ls->v), 4096) != 0)
		return -ENOMEM;
	ls->v[ls->n++] = (struct jput){ mid, flags, rec };
	return 0;
}

/* Hand back the live messages in mid order: straight from the walk when
 * the file order is mid order, else through a sorted list. */
static int jrep_messages(struct journal *j, struct jrep *st,
			 const struct journal_replay *r)
{
	struct jrep_out o = { r, 0 };
	struct jrep_list ls = { 0 };
	size_t k;
	int rc;

	if (!st->unsorted) {
		rc = jrep_live(j, st, jrep_emit_one, &o);
	} else if ((rc = jrep_live(j, st, jrep_list_add, &ls)) == 0) {
		qsort(ls.v, ls.n, sizeof(*ls.v), jrep_pcmp);
		for (k = 0; k < ls.n && rc == 0; k++)
			rc = jrep_emit_one(&o, ls.v[k].rec, ls.v[k].mid,
					   ls.v[k].flags);
	}
	free(ls.v);
	st->nputs = o.n;
	return rc;
}

/* Hand back the live queues (by qid) and messages (by mid). */
static int jrep_emit(struct journal *j, struct jrep *st,
		     const struct journal_replay *r, struct journal_report *rep)
{
	size_t i;
	int rc;

	if (st->orphans)
		journal_drop_queue_msgs(j, 0);
	if (j->nqueues)
		qsort(j->queues, j->nqueues, sizeof(*j->queues), jrep_qcmp);
	for (i = 0; i < j->nqueues; i++) {
		jmap_get(&j->qmap, j->queues[i].q.qid)->qid = (uint32_t)i;
		if (r && r->queue && (rc = r->queue(r->arg, &j->queues[i].q)))
			return rc;
	}
	rep->queues = j->nqueues;
	rc = jrep_messages(j, st, r);
	rep->messages = st->nputs;
	return rc;
}

/* Open and replay segment nos[i]; salvage discards the ones after a stop. */
static int jrep_one(struct journal *j, struct jrep *st, uint32_t segno,
		    struct journal_report *rep)
{
	char name[16];
	int fd, rc;

	jseg_name(segno, name);
	if (st->stop) {
		jrep_discard(j, segno);
		return 0;
	}
	fd = openat(j->dirfd, name, O_RDWR | O_CLOEXEC);
	if (fd < 0) {
		snprintf(rep->error, sizeof(rep->error), "%s/%s: %s", j->dir,
			 name, strerror(errno));
		return -errno;
	}
	rc = jrep_segment(j, st, segno, fd, rep);
	close(fd);
	if (rc < 0 && !rep->error[0])
		snprintf(rep->error, sizeof(rep->error), "%s/%s: %s", j->dir,
			 name, strerror(-rc));
	rep->segments++;
	return rc;
}

/* Replay the whole journal. */
int journal_replay(struct journal *j, const struct journal_replay *r,
		   struct journal_report *rep)
{
	struct jrep st = { 0 };
	uint32_t *nos = NULL;
	size_t n = 0, i;
	int rc;

	if ((rc = jseg_list(j->dirfd, &nos, &n)) != 0) {
		snprintf(rep->error, sizeof(rep->error), "%s: %s", j->dir,
			 strerror(-rc));
		return rc;
	}
	for (i = 0; i < n && rc == 0; i++)
		rc = jrep_one(j, &st, nos[i], rep);
	if (rc == 0)
		rc = jrep_emit(j, &st, r, rep);
	for (i = 0; i < st.nmaps; i++)
		munmap(st.maps[i].p, st.maps[i].len);
	free(st.maps);
	free(nos);
	return rc;
}
