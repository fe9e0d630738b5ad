/* SPDX-License-Identifier: MIT */
/*
 * journal_ops.c: the records the broker journals (queue settings, queue
 * deleted, put, consumed) and the index of live queues and messages they
 * keep up to date.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/uio.h>

#include "crc32c.h"
#include "journal_int.h"

/* The live queue qid, or NULL. */
struct jqueue *journal_queue_find(const struct journal *j, uint32_t qid)
{
	struct jloc *l = jmap_get(&j->qmap, qid);

	return l ? &j->queues[l->qid] : NULL;
}

/* Add a queue entry (indexed by qid). */
struct jqueue *journal_queue_add(struct journal *j, const struct journal_queue *q)
{
	struct jloc idx = { .qid = (uint32_t)j->nqueues };
	struct jqueue *v;

	if (jgrow(&j->queues, j->nqueues, &j->capqueues, sizeof(*j->queues), 16) != 0)
		return NULL;
	if (jmap_set(&j->qmap, q->qid, &idx) != 0)
		return NULL;
	v = &j->queues[j->nqueues++];
	memset(v, 0, sizeof(*v));
	v->q = *q;
	v->live = true;
	return v;
}

/* Remove queue jq from the index (the last entry takes its place). */
void journal_queue_remove(struct journal *j, struct jqueue *jq)
{
	size_t i = (size_t)(jq - j->queues);
	struct jloc *l;

	jmap_del(&j->qmap, jq->q.qid, NULL);
	if (i != j->nqueues - 1) {
		*jq = j->queues[j->nqueues - 1];
		l = jmap_get(&j->qmap, jq->q.qid);
		l->qid = (uint32_t)i;
	}
	j->nqueues--;
}

/* Forget every message of queue qid (0: of every queue that is gone). */
void journal_drop_queue_msgs(struct journal *j, uint32_t qid)
{
	struct jmap_slot *s;
	struct jloc old;
	size_t i = 0;

	/* Deleting shifts later entries back into slot i: look at it again. */
	while (i < j->msgs.cap) {
		s = &j->msgs.slots[i];
		if (s->key != 0 && (qid ? s->loc.qid == qid :
				    !journal_queue_find(j, s->loc.qid))) {
			jmap_del(&j->msgs, s->key, &old);
			journal_dead(j, &old);
			continue;
		}
		i++;
	}
}

/* Encode a QUEUE record body's fixed part. */
static void journal_queue_body(unsigned char *b, const struct journal_queue *q)
{
	jle32(b, q->qid);
	jle32(b + 4, q->mode);
	jle32(b + 8, q->uid);
	jle32(b + 12, q->gid);
	jle64(b + 16, q->maxsize);
}

/* Encode a QUEUE record's dead-lettering part into x: its length (0
 * when q has none). */
static size_t journal_queue_ext(unsigned char *x, const struct journal_queue *q)
{
	size_t dlen = strnlen(q->dead_letter, IPC_NAME_MAX);

	if (q->max_deliveries == 0 || dlen == 0)
		return 0;
	x[0] = 0;
	jle32(x + 1, q->max_deliveries);
	memcpy(x + 5, q->dead_letter, dlen);
	return 5 + dlen;
}

/* Journal a queue's settings (a new queue when q->qid is 0). */
int journal_queue_set(struct journal *j, struct journal_queue *q)
{
	unsigned char b[JQUEUE_FIXED], x[JQUEUE_EXT_MAX];
	size_t nlen = strnlen(q->name, IPC_NAME_MAX + 1);
	const void *parts[3] = { b, q->name, x };
	size_t lens[3] = { sizeof(b), nlen, journal_queue_ext(x, q) };
	struct jqueue *jq = q->qid ? journal_queue_find(j, q->qid) : NULL;
	struct jloc at = { 0 };
	uint64_t off;
	int rc;

	if (nlen == 0 || nlen > IPC_NAME_MAX || (q->qid && !jq))
		return -EINVAL;
	if (!jq && (jmap_reserve(&j->qmap, 1) != 0 ||
		    !(jq = journal_queue_add(j, &(struct journal_queue){
			      .qid = j->next_qid }))))
		return -ENOMEM;
	q->qid = jq->q.qid;
	journal_queue_body(b, q);
	rc = jrec_append(j, JREC_QUEUE, parts, lens, 3, !jq->at.len, &at.seg, &off);
	if (rc != 0) {
		if (!jq->at.len)
			journal_queue_remove(j, jq);
		return rc;
	}
	if (jq->at.len)
		journal_dead(j, &jq->at);
	else if (++j->next_qid == 0)
		j->next_qid = 1;
	at.off = (uint32_t)off;
	at.len = JREC_HDR + (uint32_t)(sizeof(b) + nlen + lens[2]);
	jq->q = *q;
	jq->at = at;
	journal_alive(j, &at);
	return 0;
}

/* Journal a queue deleted. */
int journal_queue_delete(struct journal *j, uint32_t qid)
{
	struct jqueue *jq = journal_queue_find(j, qid);
	unsigned char b[4];
	const void *parts[1] = { b };
	size_t lens[1] = { sizeof(b) };
	uint32_t seg;
	uint64_t off;
	int rc;

	if (!jq)
		return -EINVAL;
	jle32(b, qid);
	if ((rc = jrec_append(j, JREC_QDEL, parts, lens, 1, false, &seg, &off)))
		return rc;
	journal_dead(j, &jq->at);
	journal_queue_remove(j, jq);
	journal_drop_queue_msgs(j, qid);
	return 0;
}

/* Fill in the PUT record of message mid (len bytes at data) at p: its
 * size. */
static size_t jput_fill(unsigned char *p, uint64_t mid, uint32_t qid,
			const void *data, size_t len)
{
	jle32(p + 4, (uint32_t)(JPUT_FIXED + len));
	p[8] = JREC_PUT;
	p[9] = p[10] = p[11] = 0;
	jle64(p + JREC_HDR, mid);
	jle32(p + JREC_HDR + 8, qid);
	if (len)
		memcpy(p + JREC_HDR + JPUT_FIXED, data, len);
	jle32(p, crc32c(0, p + 4, JREC_HDR - 4 + JPUT_FIXED + len));
	return JREC_HDR + JPUT_FIXED + len;
}

/* Journal msgs[0..n) (index room reserved) in one reservation of rec
 * bytes: 0, or IPC_ENOSPC / -ENOMEM with nothing journaled. */
static int journal_put_run(struct journal *j, uint32_t qid,
			   const struct iovec *msgs, size_t n, size_t rec,
			   uint64_t *mids)
{
	struct jloc at = { .qid = qid };
	unsigned char *p;
	uint64_t off;
	size_t i, len;
	int rc;

	if (!(p = jrec_reserve(j, rec, true, &at.seg, &off, &rc)))
		return rc;
	for (i = 0; i < n; i++, p += len, off += len) {
		len = jput_fill(p, j->next_mid, qid, msgs[i].iov_base,
				msgs[i].iov_len);
		at.off = (uint32_t)off;
		at.len = (uint32_t)len;
		jmap_add(&j->msgs, j->next_mid, &at);
		mids[i] = j->next_mid++;
	}
	at.len = (uint32_t)rec;     /* the run's bytes, all in segment at.seg */
	journal_alive(j, &at);
	return 0;
}

/* The first messages of msgs[0..n) whose PUT records take at most
 * JPUT_RUN_MAX bytes together (at least one): how many, their bytes in
 * *rec. */
static size_t journal_put_span(const struct iovec *msgs, size_t n, size_t *rec)
{
	size_t i, len;

	*rec = 0;
	for (i = 0; i < n; i++) {
		len = JREC_HDR + JPUT_FIXED + msgs[i].iov_len;
		if (i > 0 && *rec + len > JPUT_RUN_MAX)
			break;
		*rec += len;
	}
	return i;
}

/* Journal a batch of puts: runs of records in one reservation each; when
 * a run finds no room, one record at a time, so exactly the prefix that
 * fits is journaled. */
int journal_put_many(struct journal *j, uint32_t qid, const struct iovec *msgs,
		     size_t n, uint64_t *mids, size_t *done)
{
	size_t i, k, rec;
	int rc = 0;

	*done = 0;
	for (i = 0; i < n; i++)
		if (msgs[i].iov_len > IPC_MSG_MAX)
			return -EINVAL;
	if (!journal_queue_find(j, qid))
		return -EINVAL;
	if (jmap_reserve(&j->msgs, n) != 0)
		return -ENOMEM;
	for (i = 0; i < n && rc == 0; i += k) {
		k = journal_put_span(msgs + i, n - i, &rec);
		rc = journal_put_run(j, qid, msgs + i, k, rec, mids + i);
		if (rc == IPC_ENOSPC && k > 1) {
			k = journal_put_span(msgs + i, 1, &rec);
			rc = journal_put_run(j, qid, msgs + i, k, rec, mids + i);
		}
		if (rc == 0)
			*done = i + k;
	}
	return rc;
}

/* Journal a put. */
int journal_put(struct journal *j, uint32_t qid, const void *data, size_t len,
		uint64_t *mid)
{
	struct iovec v = { (void *)data, len };
	size_t done;

	return journal_put_many(j, qid, &v, 1, mid, &done);
}

/* Journal one DELIVER record of up to JOURNAL_CONSUME_CHUNK mids: those
 * in the index. Every delivery is journaled (a mid may come several
 * times), so recovery knows how often each was delivered. */
static int journal_deliver_chunk(struct journal *j, uint32_t qid,
				 const uint64_t *mids, size_t n)
{
	unsigned char b[4 + 8 * JOURNAL_CONSUME_CHUNK];
	const void *parts[1] = { b };
	size_t lens[1], i, k = 0;
	struct jloc *l;
	uint32_t seg;
	uint64_t off;
	int rc;

	for (i = 0; i < n; i++) {
		l = jmap_get(&j->msgs, mids[i]);
		if (l && l->qid == qid)
			jle64(b + 4 + 8 * k++, mids[i]);
	}
	if (k == 0)
		return 0;
	jle32(b, qid);
	lens[0] = 4 + 8 * k;
	if ((rc = jrec_append(j, JREC_DELIVER, parts, lens, 1, false, &seg, &off)))
		return rc;
	for (i = 0; i < k; i++)
		jloc_delivered(jmap_get(&j->msgs, jld64(b + 4 + 8 * i)));
	return 0;
}

/* Append the pending CONSUME record, if any. */
int journal_consume_emit(struct journal *j)
{
	unsigned char b[4 + 8 * JOURNAL_CONSUME_CHUNK];
	const void *parts[1] = { b };
	size_t lens[1], i, n = j->npend;
	uint32_t seg;
	uint64_t off;
	int rc;

	if (n == 0)
		return 0;
	jle32(b, j->pend_qid);
	for (i = 0; i < n; i++)
		jle64(b + 4 + 8 * i, j->pend[i]);
	lens[0] = 4 + 8 * n;
	j->npend = 0;      /* jrec_append would append them first */
	rc = jrec_append(j, JREC_CONSUME, parts, lens, 1, false, &seg, &off);
	if (rc != 0)
		j->npend = n;
	return rc;
}

/* Journal messages consumed for good: they leave the index now and join
 * the pending CONSUME record of their queue (a record of its own first
 * when the pending one is another queue's or full). */
int journal_consume(struct journal *j, uint32_t qid, const uint64_t *mids,
		    size_t n)
{
	struct jloc *l, old;
	size_t i;
	int rc;

	for (i = 0; i < n; i++) {
		if (j->npend && (j->pend_qid != qid ||
				 j->npend == JOURNAL_CONSUME_CHUNK) &&
		    (rc = journal_consume_emit(j)) != 0)
			return rc;
		l = jmap_get(&j->msgs, mids[i]);
		if (!l || l->qid != qid)
			continue;
		j->pend_qid = qid;
		j->pend[j->npend++] = mids[i];
		old = *l;
		jmap_remove(&j->msgs, l);   /* one lookup, not two */
		journal_dead(j, &old);
	}
	return 0;
}

/* Journal one message consumed, its queue found in the index. */
int journal_forget(struct journal *j, uint64_t mid)
{
	struct jloc *l = jmap_get(&j->msgs, mid);

	return l ? journal_consume(j, l->qid, &mid, 1) : 0;
}

/* Journal messages delivered for acknowledgement, a chunk at a time. */
int journal_deliver(struct journal *j, uint32_t qid, const uint64_t *mids,
		    size_t n)
{
	size_t k;
	int rc;

	for (; n > 0; n -= k, mids += k) {
		k = n < JOURNAL_CONSUME_CHUNK ? n : JOURNAL_CONSUME_CHUNK;
		if ((rc = journal_deliver_chunk(j, qid, mids, k)) != 0)
			return rc;
	}
	return 0;
}
