/* SPDX-License-Identifier: MIT */
/*
 * journal_compact.c: keeping the journal within about twice its live
 * data. Only the oldest segment is ever deleted: its CONSUME and QDEL
 * records can only cancel records in it or in segments deleted before it,
 * so deleting it never brings a consumed message back. When live data is
 * under half the journal, the live records (puts and queue settings) of
 * the oldest segment that has any are copied verbatim (same mid, same
 * CRC) to the end of the current segment, a budget of bytes per call;
 * once nothing in the oldest segment is live and its copies are durable,
 * journal_reap() deletes it. On replay a second copy of a mid
 * simply moves the message.
 */
#include <fcntl.h>
#include <sys/mman.h>
#include <unistd.h>

#include "journal_int.h"

/* The segment to copy out next: the oldest one, not the current one,
 * with live records left (those before it wait to be reaped); or -1 when
 * live data is not under half of the journal, or a segment before it
 * waits for its copies to be durable. Those copies may be in the very
 * segments after it (when they filled the current one and it rotated):
 * going on would copy the copies again while nothing is reaped, and the
 * journal only grew (8 GB in seconds, the loop too busy to answer, with
 * more live data than a segment and sync = always). The sync that makes
 * them durable calls compaction again (durable.c). With sync = none they
 * are durable once written, at the loop's next flush, before it calls
 * compaction again. */
static ssize_t jcompact_target(const struct journal *j)
{
	uint64_t durable = journal_reap_lsn(j);
	size_t i;

	if (j->bytes <= j->o.compact_min || j->bytes <= 2 * j->live)
		return -1;
	for (i = 0; i + 1 < j->nsegs; i++) {
		if (j->segs[i].live > 0)
			return (ssize_t)i;
		if (j->o.sync != JOURNAL_SYNC_NONE && j->segs[i].copied_lsn > durable)
			return -1;
	}
	return -1;
}

/* Drop the mapping of segment segno (0: any). */
void jcompact_forget(struct journal *j, uint32_t segno)
{
	if (!j->comp_map || (segno && segno != j->comp_seg))
		return;
	munmap(j->comp_map, j->comp_len);
	j->comp_map = NULL;
	j->comp_len = 0;
	j->comp_seg = 0;
}

/* Map segment g for copying: 0 or -1. */
static int jcompact_map(struct journal *j, const struct jseg *g)
{
	char name[16];
	void *p;
	int fd;

	if (j->comp_map && j->comp_seg == g->segno)
		return 0;
	jcompact_forget(j, 0);
	jseg_name(g->segno, name);
	fd = openat(j->dirfd, name, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return -1;
	p = mmap(NULL, g->size, PROT_READ, MAP_SHARED, fd, 0);
	close(fd);
	if (p == MAP_FAILED)
		return -1;
	j->comp_map = p;
	j->comp_len = g->size;
	j->comp_seg = g->segno;
	j->comp_off = JSEG_HDR;
	return 0;
}

/* The location the index holds for the record at p, if it is the live
 * copy of its message or queue settings; else NULL. */
static struct jloc *jcompact_live(struct journal *j, const unsigned char *p,
				  uint64_t off)
{
	const unsigned char *b = p + JREC_HDR;
	struct jqueue *jq;
	struct jloc *l = NULL;

	if (p[8] == JREC_PUT)
		l = jmap_get(&j->msgs, jld64(b));
	else if (p[8] == JREC_QUEUE && (jq = journal_queue_find(j, jld32(b))))
		l = &jq->at;
	return l && l->seg == j->comp_seg && l->off == off ? l : NULL;
}

/* Journal n deliveries of message mid of queue qid again (a compaction
 * copy of its PUT): 0 or IPC_ENOSPC. */
static int jcompact_deliveries(struct journal *j, uint32_t qid, uint64_t mid,
			       uint32_t n)
{
	uint64_t mids[64];
	uint32_t i, k;
	int rc = 0;

	for (i = 0; i < 64; i++)
		mids[i] = mid;
	for (; n > 0 && rc == 0; n -= k) {
		k = n < 64 ? n : 64;
		rc = journal_deliver(j, qid, mids, k);
	}
	return rc;
}

/* Copy the record at comp_off if it is live: 0 or IPC_ENOSPC. */
static int jcompact_record(struct journal *j, uint32_t len)
{
	const unsigned char *p = j->comp_map + j->comp_off;
	struct jloc *l = jcompact_live(j, p, j->comp_off), to;
	uint64_t off;
	int rc;

	if (!l)
		return 0;
	to = *l;
	if ((rc = jrec_copy(j, p, len, &to.seg, &off)) != 0)
		return rc;
	to.off = (uint32_t)off;
	/* jrec_copy touches neither index: l is still valid. */
	journal_dead(j, l);
	*l = to;
	journal_alive(j, &to);
	/* The source may go only once this copy is durable (jrec_copy may
	 * have rotated: find it again). */
	j->segs[jseg_find(j, j->comp_seg)].copied_lsn = j->lsn_buf;
	/* The copy's DELIVER records, if any, stay behind: journal them again. */
	if (p[8] == JREC_PUT && (to.flags & JLOC_DELIVERED)) {
		l->flags = 0;
		return jcompact_deliveries(j, to.qid, jld64(p + JREC_HDR),
					   jloc_deliveries(&to));
	}
	return 0;
}

/* Copy live records of the oldest live segment, at most budget bytes. */
bool journal_compact(struct journal *j, size_t budget)
{
	ssize_t t;
	uint32_t len;
	size_t done = 0;

	journal_reap(j);
	if ((t = jcompact_target(j)) < 0 || jcompact_map(j, &j->segs[t]) != 0)
		return false;
	while (done < budget && j->comp_off < j->comp_len) {
		if (!jrec_check(j->comp_map + j->comp_off,
				j->comp_len - j->comp_off))
			return false; /* damaged on disk since replay: leave it */
		len = JREC_HDR + jld32(j->comp_map + j->comp_off + 4);
		if (jcompact_record(j, len) != 0)
			return false;
		j->comp_off += len;
		done += len;
	}
	if (j->comp_off < j->comp_len)
		return true;
	jcompact_forget(j, 0);
	journal_reap(j);
	return jcompact_target(j) >= 0;
}
