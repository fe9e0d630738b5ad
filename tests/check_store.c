/* SPDX-License-Identifier: MIT */
/*
 * check_store.c: unit tests of the durable queues' journal (daemon/store/):
 * CRC-32C, the id map, records and recovery, group commit and the sync
 * modes, torn tails at every byte of the last record, corruption and
 * salvage, compaction, a full disk (a 2 MiB tmpfs, as root) and the speed
 * of recovering a large journal.
 */
#include <check.h>
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <sys/uio.h>
#include <time.h>
#include <unistd.h>

#include "crc32c.h"
#include "jmap.h"
#include "journal.h"

/* --- helpers ---------------------------------------------------------------- */

/* What a replay handed back. */
struct seen {
	struct journal_queue q[8];
	size_t nq;
	uint64_t *mids;
	uint32_t *qids;
	char **data;        /* NUL-terminated copies */
	size_t n, cap;
	size_t bytes;
	size_t delivered;   /* how many came back marked delivered */
	size_t deliveries;  /* their deliveries, summed */
	int copy;           /* 0: count only (the speed test) */
};

/* Replay callback: a queue. */
static int seen_queue(void *arg, const struct journal_queue *q)
{
	struct seen *s = arg;

	ck_assert_uint_lt(s->nq, 8);
	s->q[s->nq++] = *q;
	return 0;
}

/* Replay callback: a message. */
static int seen_message(void *arg, const struct journal_msg *m)
{
	struct seen *s = arg;
	uint32_t qid = m->qid;
	uint64_t mid = m->mid;
	size_t len = m->len;
	const void *data = m->data;

	if (s->n && mid <= s->mids[s->n - 1])
		ck_abort_msg("mid %" PRIu64 " after %" PRIu64, mid,
			     s->mids[s->n - 1]);
	/* No ck_assert per message: in fork mode each one writes to a pipe. */
	if (s->n == s->cap) {
		s->cap = s->cap ? s->cap * 2 : 64;
		s->mids = realloc(s->mids, s->cap * sizeof(*s->mids));
		s->qids = realloc(s->qids, s->cap * sizeof(*s->qids));
		if (s->copy)
			s->data = realloc(s->data, s->cap * sizeof(*s->data));
		if (!s->mids || !s->qids || (s->copy && !s->data))
			ck_abort_msg("out of memory");
	}
	s->mids[s->n] = mid;
	s->qids[s->n] = qid;
	s->delivered += m->delivered;
	s->deliveries += m->deliveries;
	if (s->copy) {
		s->data[s->n] = malloc(len + 1);
		memcpy(s->data[s->n], data, len);
		s->data[s->n][len] = '\0';
	}
	s->n++;
	s->bytes += len;
	return 0;
}

/* Forget what a replay handed back. */
static void seen_free(struct seen *s)
{
	size_t i;

	for (i = 0; s->copy && i < s->n; i++)
		free(s->data[i]);
	free(s->data);
	free(s->mids);
	free(s->qids);
	memset(s, 0, sizeof(*s));
}

/* A fresh scratch directory; its journal lives in DIR/j (made by the
 * journal itself). */
static void scratch(char dir[64], char jdir[80])
{
	strcpy(dir, "/tmp/check_store.XXXXXX");
	ck_assert_ptr_nonnull(mkdtemp(dir));
	snprintf(jdir, 80, "%s/j", dir);
}

/* rm -r a scratch directory. */
static void scratch_rm(const char *dir)
{
	char cmd[128];

	snprintf(cmd, sizeof(cmd), "rm -rf '%s'", dir);
	ck_assert_int_eq(system(cmd), 0);
}

/* Options with sync = none and small sizes unless set. */
static struct journal_opts opts(const char *jdir, enum journal_sync sync)
{
	struct journal_opts o = { .dir = jdir, .sync = sync };

	return o;
}

/* Open jdir replaying into s (copying payloads); asserts success. */
static struct journal *reopen(const struct journal_opts *o, struct seen *s,
			      struct journal_report *rep)
{
	struct journal_replay r = { seen_queue, seen_message, s };
	struct journal *j = NULL;
	int rc;

	memset(s, 0, sizeof(*s));
	s->copy = 1;
	rc = journal_open(o, &r, &j, rep);
	ck_assert_msg(rc == 0, "journal_open: %d (%s)", rc, rep->error);
	return j;
}

/* A new queue named name with some settings; its qid. */
static uint32_t mkqueue(struct journal *j, const char *name, uint64_t maxsize)
{
	struct journal_queue q = { .mode = 0640, .uid = 1000, .gid = 100,
				   .maxsize = maxsize };

	snprintf(q.name, sizeof(q.name), "%s", name);
	ck_assert_int_eq(journal_queue_set(j, &q), 0);
	ck_assert_uint_ne(q.qid, 0);
	return q.qid;
}

/* Put the string s into qid; its mid. */
static uint64_t put(struct journal *j, uint32_t qid, const char *s)
{
	uint64_t mid = 0;

	ck_assert_int_eq(journal_put(j, qid, s, strlen(s), &mid), 0);
	return mid;
}

/* A queue's dead-lettering settings ride in its QUEUE record (after a
 * NUL, so a record without them reads as before) and come back, also
 * after a settings change; a queue without them has none. */
START_TEST(test_queue_dead_letter_settings)
{
	char dir[64], jdir[80];
	struct journal_opts o;
	struct journal_report rep;
	struct journal_queue q = { .mode = 0600, .maxsize = 9,
				   .max_deliveries = 4 };
	struct journal *j;
	struct seen s;
	uint32_t plain;

	scratch(dir, jdir);
	o = opts(jdir, JOURNAL_SYNC_NONE);
	j = reopen(&o, &s, &rep);
	plain = mkqueue(j, "plain", 0);
	snprintf(q.name, sizeof(q.name), "jobs");
	snprintf(q.dead_letter, sizeof(q.dead_letter), "jobs.dead");
	ck_assert_int_eq(journal_queue_set(j, &q), 0);
	q.mode = 0640;                        /* a chmod rewrites the record */
	ck_assert_int_eq(journal_queue_set(j, &q), 0);
	journal_close(j);
	j = reopen(&o, &s, &rep);
	ck_assert_uint_eq(s.nq, 2);
	ck_assert_uint_eq(s.q[0].qid, plain);
	ck_assert_uint_eq(s.q[0].max_deliveries, 0);
	ck_assert_str_eq(s.q[0].dead_letter, "");
	ck_assert_str_eq(s.q[1].name, "jobs");
	ck_assert_uint_eq(s.q[1].mode, 0640);
	ck_assert_uint_eq(s.q[1].maxsize, 9);
	ck_assert_uint_eq(s.q[1].max_deliveries, 4);
	ck_assert_str_eq(s.q[1].dead_letter, "jobs.dead");
	journal_close(j);
	seen_free(&s);
	scratch_rm(dir);
}
END_TEST

/* The size of a file. */
static off_t fsize(const char *path)
{
	struct stat sb;

	ck_assert_int_eq(stat(path, &sb), 0);
	return sb.st_size;
}

/* Read a whole file into a malloc'd buffer. */
static unsigned char *slurp(const char *path, size_t *len)
{
	FILE *f = fopen(path, "rb");
	unsigned char *b;

	ck_assert_ptr_nonnull(f);
	*len = (size_t)fsize(path);
	b = malloc(*len ? *len : 1);
	ck_assert_uint_eq(fread(b, 1, *len, f), *len);
	fclose(f);
	return b;
}

/* Write len bytes of b as the whole file path. */
static void spill(const char *path, const unsigned char *b, size_t len)
{
	FILE *f = fopen(path, "wb");

	ck_assert_ptr_nonnull(f);
	ck_assert_uint_eq(fwrite(b, 1, len, f), len);
	ck_assert_int_eq(fclose(f), 0);
}

/* --- CRC-32C ---------------------------------------------------------------- */

START_TEST(test_crc32c_vectors)
{
	unsigned char b[32];
	unsigned i;

	ck_assert_uint_eq(crc32c(0, "123456789", 9), 0xE3069283u);
	ck_assert_uint_eq(crc32c_sw(0, "123456789", 9), 0xE3069283u);
	/* RFC 3720, B.4. */
	memset(b, 0, sizeof(b));
	ck_assert_uint_eq(crc32c(0, b, 32), 0x8A9136AAu);
	memset(b, 0xFF, sizeof(b));
	ck_assert_uint_eq(crc32c(0, b, 32), 0x62A8AB43u);
	for (i = 0; i < 32; i++)
		b[i] = (unsigned char)i;
	ck_assert_uint_eq(crc32c(0, b, 32), 0x46DD794Eu);
	ck_assert_uint_eq(crc32c_sw(0, b, 32), 0x46DD794Eu);
	for (i = 0; i < 32; i++)
		b[i] = (unsigned char)(31 - i);
	ck_assert_uint_eq(crc32c(0, b, 32), 0x113FDB5Cu);
	ck_assert_uint_eq(crc32c(0, b, 0), 0);
}
END_TEST

/* Hardware and table agree at every length and alignment; a CRC continues. */
START_TEST(test_crc32c_sw_hw_split)
{
	unsigned char b[1100];
	size_t len, off, cut;

	srand(7);
	for (len = 0; len < sizeof(b); len++)
		b[len] = (unsigned char)rand();
	for (off = 0; off < 8; off++)
		for (len = 0; len + off <= 1024; len += 1 + len / 16)
			ck_assert_uint_eq(crc32c(0, b + off, len),
					  crc32c_sw(0, b + off, len));
	for (cut = 0; cut <= 100; cut++)
		ck_assert_uint_eq(crc32c(crc32c(0, b, cut), b + cut, 1000 - cut),
				  crc32c(0, b, 1000));
	printf("crc32c: %s\n", crc32c_hw() ? "SSE4.2" : "table");
}
END_TEST

/* --- jmap ------------------------------------------------------------------- */

/* The key of reference index k: k, or shifted so that many keys share a
 * home slot (runs of many keys, displaced and shifted back by deletes). */
static uint64_t jmap_key(unsigned k, unsigned shift)
{
	return shift ? ((uint64_t)k << shift) | 1 : k;
}

/* The map agrees with a plain array through random sets and deletes, with
 * consecutive keys and with keys crowding few home slots. */
START_TEST(test_jmap_random)
{
	enum { N = 5000 };
	static uint32_t ref[N + 1];      /* 0: absent, else loc.off */
	struct jmap m = { 0 };
	struct jloc l = { 1, 2, 0, 4, 0 }, *g, old;
	unsigned i, k, shift = _i == 0 ? 0 : 6;

	memset(ref, 0, sizeof(ref));
	srand(3);
	for (i = 0; i < 60000; i++) {
		k = 1 + (unsigned)rand() % N;
		if (rand() % 3) {
			l.off = i + 1;
			ck_assert_int_eq(jmap_set(&m, jmap_key(k, shift), &l), 0);
			ref[k] = i + 1;
		} else {
			ck_assert_int_eq(jmap_del(&m, jmap_key(k, shift), &old),
					 ref[k] != 0);
			if (ref[k])
				ck_assert_uint_eq(old.off, ref[k]);
			ref[k] = 0;
		}
	}
	for (k = 1, i = 0; k <= N; k++) {
		g = jmap_get(&m, jmap_key(k, shift));
		ck_assert_int_eq(g != NULL, ref[k] != 0);
		if (g) {
			ck_assert_uint_eq(g->off, ref[k]);
			i++;
		}
	}
	ck_assert_uint_eq(m.count, i);
	jmap_fini(&m);
}
END_TEST

/* A deep durable queue is a FIFO of consecutive mids: 100,000 live, each
 * new put adds the next and each get deletes the oldest, and ids long
 * consumed are looked up (compaction, a late ack). Every operation must
 * look at O(1) slots, not walk the run of live ids behind it (it did:
 * a durable queue 100k deep drained at a few thousand gets/s). */
START_TEST(test_jmap_fifo_cost)
{
	enum { DEPTH = 100000, OPS = 200000 };
	struct jmap m = { 0 };
	struct jloc l = { 1, 2, 3, 4, 0 };
	uint64_t k, probes;

	for (k = 1; k <= DEPTH; k++)
		ck_assert_int_eq(jmap_set(&m, k, &l), 0);
	probes = m.probes;
	for (k = 1; k <= OPS; k++) {
		ck_assert_int_eq(jmap_del(&m, k, NULL), 1);
		ck_assert_int_eq(jmap_del(&m, k, NULL), 0);   /* gone: a miss */
		ck_assert_int_eq(jmap_set(&m, DEPTH + k, &l), 0);
	}
	ck_assert_uint_eq(m.count, DEPTH);
	probes = m.probes - probes;
	printf("jmap: %llu slots looked at for %u FIFO deletes, misses and "
	       "sets at depth %u (%.2f per operation)\n",
	       (unsigned long long)probes, 3 * OPS, DEPTH,
	       (double)probes / (3.0 * OPS));
	ck_assert_msg(probes < 3ull * OPS * 4, "%llu slots for %u operations",
		      (unsigned long long)probes, 3 * OPS);
	jmap_fini(&m);
}
END_TEST

/* --- records and recovery ------------------------------------------------------ */

/* The journal the round-trip tests recover, in a new scratch dir (dir,
 * jdir): queues alpha (maxsize 10) and beta; a1 b1 a2 a3 b2 a4 put (ids
 * in m[0..5]); a2, b1, b2 consumed (a2 flushed first), a3 delivered twice,
 * a1 delivered and consumed; then closed. Its options in *o. */
static void roundtrip_fill(char *dir, char *jdir, struct journal_opts *o,
			   uint64_t m[6], uint32_t *qa, uint32_t *qb)
{
	struct journal_report rep;
	struct journal *j;
	struct seen s;

	scratch(dir, jdir);
	*o = opts(jdir, JOURNAL_SYNC_NONE);
	j = reopen(o, &s, &rep);
	ck_assert_uint_eq(s.nq + s.n, 0);
	*qa = mkqueue(j, "alpha", 10);
	*qb = mkqueue(j, "beta", 0);
	m[0] = put(j, *qa, "a1");
	m[1] = put(j, *qb, "b1");
	m[2] = put(j, *qa, "a2");
	m[3] = put(j, *qa, "a3");
	m[4] = put(j, *qb, "b2");
	ck_assert_int_eq(journal_consume(j, *qa, &m[2], 1), 0);
	ck_assert_int_eq(journal_flush(j), 0);
	m[5] = put(j, *qa, "a4");
	ck_assert_int_eq(journal_consume(j, *qb, m, 2), 0); /* m[0] is qa's: skipped */
	/* Delivered for ack: a3 (twice), and a1, which is then acked. */
	ck_assert_int_eq(journal_deliver(j, *qa, &m[3], 1), 0);
	ck_assert_int_eq(journal_deliver(j, *qa, &m[3], 1), 0);
	ck_assert_int_eq(journal_deliver(j, *qa, &m[0], 1), 0);
	ck_assert_int_eq(journal_consume(j, *qa, &m[0], 1), 0);
	journal_close(j);
	seen_free(&s);
}

/* Queues, puts, consumes and deliveries come back as they were, in
 * order. */
START_TEST(test_roundtrip)
{
	char dir[64], jdir[80];
	struct journal_opts o;
	struct journal_report rep;
	struct journal *j;
	struct seen s;
	uint32_t qa, qb;
	uint64_t m[6];

	roundtrip_fill(dir, jdir, &o, m, &qa, &qb);
	j = reopen(&o, &s, &rep);
	ck_assert_uint_eq(s.nq, 2);
	ck_assert_str_eq(s.q[0].name, "alpha");
	ck_assert_uint_eq(s.q[0].qid, qa);
	ck_assert_uint_eq(s.q[0].maxsize, 10);
	ck_assert_uint_eq(s.q[0].mode, 0640);
	ck_assert_uint_eq(s.q[0].uid, 1000);
	ck_assert_uint_eq(s.q[0].gid, 100);
	ck_assert_str_eq(s.q[1].name, "beta");
	ck_assert_uint_eq(s.n, 3);
	ck_assert_str_eq(s.data[0], "a3");
	ck_assert_str_eq(s.data[1], "b2");
	ck_assert_str_eq(s.data[2], "a4");
	ck_assert_uint_eq(s.mids[2], m[5]);
	ck_assert_uint_eq(s.qids[1], qb);
	ck_assert_uint_eq(s.delivered, 1);
	ck_assert_uint_eq(s.deliveries, 2);           /* a3's two deliveries */
	ck_assert_uint_eq(rep.torn_bytes, 0);
	journal_close(j);
	seen_free(&s);
	scratch_rm(dir);
}
END_TEST

/* The journal's directory is 0700 and its segment files 0600. */
START_TEST(test_roundtrip_modes)
{
	char dir[64], jdir[80], path[128];
	struct journal_opts o;
	uint32_t qa, qb;
	uint64_t m[6];
	struct stat sb;

	roundtrip_fill(dir, jdir, &o, m, &qa, &qb);
	ck_assert_int_eq(stat(jdir, &sb), 0);
	ck_assert_uint_eq(sb.st_mode & 0777, 0700);
	snprintf(path, sizeof(path), "%s/00000001.seg", jdir);
	ck_assert_int_eq(stat(path, &sb), 0);
	ck_assert_uint_eq(sb.st_mode & 0777, 0600);
	scratch_rm(dir);
}
END_TEST

/* After recovery, new message and queue ids continue after the
 * recovered ones. */
START_TEST(test_roundtrip_ids_continue)
{
	char dir[64], jdir[80];
	struct journal_opts o;
	struct journal_report rep;
	struct journal *j;
	struct seen s;
	uint32_t qa, qb;
	uint64_t m[6];

	roundtrip_fill(dir, jdir, &o, m, &qa, &qb);
	j = reopen(&o, &s, &rep);
	ck_assert_uint_gt(put(j, qa, "a5"), m[5]);
	ck_assert_uint_gt(mkqueue(j, "gamma", 0), qb);
	journal_close(j);
	seen_free(&s);
	scratch_rm(dir);
}
END_TEST

/* A batch of puts (journal_put_many) is one run of PUT records: each
 * message comes back, in order, with the mid it was given, also when the
 * batch takes a segment past its size and interleaves with single puts. */
START_TEST(test_put_many)
{
	char dir[64], jdir[80], text[300][8];
	struct iovec v[300];
	uint64_t mids[300], one;
	struct journal_opts o;
	struct journal_report rep;
	struct journal *j;
	struct seen s;
	size_t i, done;
	uint32_t q;

	scratch(dir, jdir);
	o = opts(jdir, JOURNAL_SYNC_NONE);
	o.segment_max = 4096;
	j = reopen(&o, &s, &rep);
	q = mkqueue(j, "q", 0);
	for (i = 0; i < 300; i++) {
		snprintf(text[i], sizeof(text[i]), "m%zu", i);
		v[i] = (struct iovec){ text[i], strlen(text[i]) };
	}
	one = put(j, q, "first");
	ck_assert_int_eq(journal_put_many(j, q, v, 300, mids, &done), 0);
	ck_assert_uint_eq(done, 300);
	for (i = 0; i < 300; i++)
		ck_assert_uint_eq(mids[i], one + 1 + i);
	ck_assert_uint_eq(put(j, q, "last"), one + 301);
	ck_assert_int_eq(journal_consume(j, q, &mids[1], 1), 0);
	/* Unknown queue, too large a message: nothing journaled. */
	ck_assert_int_eq(journal_put_many(j, q + 7, v, 2, mids, &done), -EINVAL);
	v[0].iov_len = IPC_MSG_MAX + 1;
	ck_assert_int_eq(journal_put_many(j, q, v, 2, mids, &done), -EINVAL);
	ck_assert_uint_eq(done, 0);
	journal_close(j);
	j = reopen(&o, &s, &rep);
	ck_assert_uint_eq(s.n, 301);
	ck_assert_str_eq(s.data[0], "first");
	ck_assert_str_eq(s.data[1], "m0");
	ck_assert_str_eq(s.data[2], "m2");
	ck_assert_str_eq(s.data[299], "m299");
	ck_assert_str_eq(s.data[300], "last");
	ck_assert_uint_eq(s.mids[2], one + 3);
	ck_assert_uint_eq(rep.torn_bytes, 0);
	journal_close(j);
	seen_free(&s);
	scratch_rm(dir);
}
END_TEST

/* New settings replace old ones; a deleted queue and its messages stay
 * gone; a second process cannot open the same journal. */
START_TEST(test_settings_delete_lock)
{
	char dir[64], jdir[80];
	struct journal_opts o;
	struct journal_report rep;
	struct journal *j, *j2 = NULL;
	struct journal_queue q = { .mode = 0600, .maxsize = 5 };
	struct seen s;
	uint32_t qb;

	scratch(dir, jdir);
	o = opts(jdir, JOURNAL_SYNC_NONE);
	j = reopen(&o, &s, &rep);
	strcpy(q.name, "a");
	ck_assert_int_eq(journal_queue_set(j, &q), 0);
	qb = mkqueue(j, "b", 0);
	put(j, q.qid, "x");
	put(j, qb, "y");
	q.maxsize = 7;
	q.mode = 0666;
	ck_assert_int_eq(journal_queue_set(j, &q), 0);
	ck_assert_int_eq(journal_queue_delete(j, qb), 0);
	ck_assert_int_eq(journal_open(&o, NULL, &j2, &rep), -EBUSY);
	ck_assert_ptr_null(j2);
	ck_assert_ptr_nonnull(strstr(rep.error, "in use"));
	journal_close(j);

	j = reopen(&o, &s, &rep);
	ck_assert_uint_eq(s.nq, 1);
	ck_assert_uint_eq(s.q[0].maxsize, 7);
	ck_assert_uint_eq(s.q[0].mode, 0666);
	ck_assert_uint_eq(s.n, 1);
	ck_assert_str_eq(s.data[0], "x");
	journal_close(j);
	seen_free(&s);
	scratch_rm(dir);
}
END_TEST

/* --- waiters and sync modes ------------------------------------------------------ */

/* A test waiter. */
struct tw {
	struct journal_waiter w;
	int done, status;
};

/* Waiter callback. */
static void tw_done(struct journal_waiter *w, int status)
{
	struct tw *t = (struct tw *)w;

	t->done++;
	t->status = status;
}

/* Wait for the sync thread's signal and let the journal complete. */
static void await_sync(struct journal *j)
{
	struct pollfd p = { .fd = journal_fd(j), .events = POLLIN };

	ck_assert_int_ge(p.fd, 0);
	ck_assert_int_eq(poll(&p, 1, 10000), 1);
	journal_complete(j);
}

/* sync = always: a waiter completes only after the fdatasync that covers
 * it, and a burst of puts written together shares one fdatasync. */
START_TEST(test_group_commit)
{
	char dir[64], jdir[80];
	struct journal_opts o;
	struct journal_report rep;
	struct journal_stats st0, st;
	struct journal *j;
	struct seen s;
	struct tw t[500];
	uint32_t q;
	int i;

	scratch(dir, jdir);
	o = opts(jdir, JOURNAL_SYNC_ALWAYS);
	j = reopen(&o, &s, &rep);
	q = mkqueue(j, "q", 0);
	ck_assert_int_eq(journal_flush(j), 0);
	while (journal_stats(j, &st0), st0.synced < st0.written)
		await_sync(j);
	for (i = 0; i < 500; i++) {
		put(j, q, "payload");
		t[i].done = 0;
		t[i].w.done = tw_done;
		journal_wait(j, &t[i].w);
	}
	ck_assert_int_eq(journal_flush(j), 0);
	ck_assert_int_eq(t[0].done, 0);    /* written, not yet synced */
	while (!t[499].done)
		await_sync(j);
	journal_stats(j, &st);
	for (i = 0; i < 500; i++) {
		ck_assert_int_eq(t[i].done, 1);
		ck_assert_int_eq(t[i].status, 0);
	}
	ck_assert_uint_ge(st.synced, st.written);
	/* One round covers the burst (a second only if it raced the first). */
	ck_assert_uint_le(st.syncs - st0.syncs, 2);
	/* A waiter taken back is never completed. */
	put(j, q, "gone");
	t[0].done = 0;
	journal_wait(j, &t[0].w);
	journal_unwait(j, &t[0].w);
	ck_assert_int_eq(journal_flush(j), 0);
	journal_close(j);
	ck_assert_int_eq(t[0].done, 0);
	seen_free(&s);
	scratch_rm(dir);
}
END_TEST

/* sync = interval and none: a waiter completes once its record is written
 * (at the flush); interval still syncs in the background. */
START_TEST(test_sync_written_modes)
{
	char dir[64], jdir[80];
	struct journal_opts o;
	struct journal_report rep;
	struct journal_stats st;
	struct journal *j;
	struct seen s;
	struct tw t = { .w.done = tw_done };
	uint32_t q;

	scratch(dir, jdir);
	o = opts(jdir, JOURNAL_SYNC_INTERVAL);
	o.interval_ms = 20;
	j = reopen(&o, &s, &rep);
	q = mkqueue(j, "q", 0);
	put(j, q, "x");
	journal_wait(j, &t.w);
	ck_assert_int_eq(t.done, 0);
	ck_assert_int_eq(journal_flush(j), 0);
	ck_assert_int_eq(t.done, 1);
	do
		await_sync(j);
	while (journal_stats(j, &st), st.synced < st.written);
	ck_assert_uint_ge(st.syncs, 1);
	journal_close(j);
	seen_free(&s);

	o.sync = JOURNAL_SYNC_NONE;
	j = reopen(&o, &s, &rep);
	ck_assert_int_eq(journal_fd(j), -1);
	put(j, q, "y");
	t.done = 0;
	journal_wait(j, &t.w);
	ck_assert_int_eq(journal_flush(j), 0);
	ck_assert_int_eq(t.done, 1);
	journal_stats(j, &st);
	ck_assert_uint_eq(st.syncs, 0);
	journal_close(j);
	seen_free(&s);
	scratch_rm(dir);
}
END_TEST

/* sync = interval: while the sync thread waits out the interval, the
 * loop's writes do not wake it (they did, once per write: a futex round
 * trip and a context switch per loop iteration). 200 writes a
 * millisecond apart within a 2 s interval wake it at most twice per sync
 * round, and each waiter completes at its write, not at the sync. */
START_TEST(test_interval_writes_quiet)
{
	char dir[64], jdir[80];
	struct journal_opts o;
	struct journal_report rep;
	struct journal_stats a, b;
	struct journal *j;
	struct seen s;
	struct tw t = { .w.done = tw_done };
	uint32_t q;
	int i;

	scratch(dir, jdir);
	o = opts(jdir, JOURNAL_SYNC_INTERVAL);
	o.interval_ms = 2000;
	j = reopen(&o, &s, &rep);
	q = mkqueue(j, "q", 0);
	ck_assert_int_eq(journal_flush(j), 0);
	await_sync(j);     /* the first round: now the thread paces */
	put(j, q, "start");
	ck_assert_int_eq(journal_flush(j), 0);
	usleep(50000);     /* it woke for that write and waits out the interval */
	journal_stats(j, &a);
	for (i = 0; i < 200; i++) {
		put(j, q, "payload");
		t.done = 0;
		journal_wait(j, &t.w);
		ck_assert_int_eq(journal_flush(j), 0);
		ck_assert_int_eq(t.done, 1);
		usleep(1000);   /* as loop iterations come: the thread waits again */
	}
	usleep(50000);
	journal_stats(j, &b);
	printf("interval: %llu sync-thread wake-ups and %llu syncs for 200 writes\n",
	       (unsigned long long)(b.sync_wakeups - a.sync_wakeups),
	       (unsigned long long)(b.syncs - a.syncs));
	ck_assert_uint_le(b.sync_wakeups - a.sync_wakeups, 2 + 2 * (b.syncs - a.syncs));
	journal_close(j);
	seen_free(&s);
	scratch_rm(dir);
}
END_TEST

/* A queue's consecutive consumes share one CONSUME record (they had one
 * each: 24 bytes a message); another record in between keeps the order,
 * and a reopened journal has exactly the messages not consumed. */
START_TEST(test_consumes_share_a_record)
{
	char dir[64], jdir[80];
	struct journal_opts o;
	struct journal_report rep;
	struct journal_stats a, b;
	struct journal *j;
	struct seen s;
	uint64_t mids[64], last;
	uint32_t q;
	int i;

	scratch(dir, jdir);
	o = opts(jdir, JOURNAL_SYNC_NONE);
	j = reopen(&o, &s, &rep);
	q = mkqueue(j, "q", 0);
	for (i = 0; i < 64; i++)
		mids[i] = put(j, q, "payload");
	ck_assert_int_eq(journal_flush(j), 0);
	journal_stats(j, &a);
	for (i = 0; i < 40; i++)   /* one get each, as the queue hook does */
		ck_assert_int_eq(journal_consume(j, q, &mids[i], 1), 0);
	ck_assert_int_eq(journal_flush(j), 0);
	journal_stats(j, &b);
	ck_assert_uint_eq(b.written - a.written, 12 + 4 + 8 * 40);
	for (i = 40; i < 50; i++)
		ck_assert_int_eq(journal_consume(j, q, &mids[i], 1), 0);
	last = put(j, q, "after");     /* the 10 consumes go first */
	for (i = 50; i < 64; i++)
		ck_assert_int_eq(journal_consume(j, q, &mids[i], 1), 0);
	journal_close(j);
	seen_free(&s);
	j = reopen(&o, &s, &rep);
	ck_assert_uint_eq(s.n, 1);
	ck_assert_uint_eq(s.mids[0], last);
	ck_assert_str_eq(s.data[0], "after");
	journal_close(j);
	seen_free(&s);
	scratch_rm(dir);
}
END_TEST

/* sync = always: records no reply waits for (a consume) start no sync of
 * their own; they ride on the next sync a put waits for, or are synced
 * sync-interval after the thread saw them. */
START_TEST(test_lazy_sync)
{
	char dir[64], jdir[80];
	struct journal_opts o;
	struct journal_report rep;
	struct journal_stats st0, st;
	struct journal *j;
	struct seen s;
	struct tw t = { .w.done = tw_done };
	struct pollfd p;
	uint64_t mid;
	uint32_t q;

	scratch(dir, jdir);
	o = opts(jdir, JOURNAL_SYNC_ALWAYS);
	o.interval_ms = 300;
	j = reopen(&o, &s, &rep);
	q = mkqueue(j, "q", 0);
	mid = put(j, q, "a");
	journal_wait(j, &t.w);
	ck_assert_int_eq(journal_flush(j), 0);
	while (!t.done)
		await_sync(j);
	journal_stats(j, &st0);
	ck_assert_uint_eq(st0.synced, st0.written);
	/* A consume alone: written, not synced within the next 100 ms
	 * (its deadline is 300 ms away: a loaded machine only delays it). */
	ck_assert_int_eq(journal_consume(j, q, &mid, 1), 0);
	ck_assert_int_eq(journal_flush(j), 0);
	p = (struct pollfd){ .fd = journal_fd(j), .events = POLLIN };
	ck_assert_int_eq(poll(&p, 1, 100), 0);
	journal_stats(j, &st);
	ck_assert_uint_gt(st.written, st0.written);
	ck_assert_uint_eq(st.syncs, st0.syncs);
	/* A put someone waits for takes it along in one sync. */
	put(j, q, "b");
	t.done = 0;
	journal_wait(j, &t.w);
	ck_assert_int_eq(journal_flush(j), 0);
	while (!t.done)
		await_sync(j);
	journal_stats(j, &st);
	ck_assert_uint_eq(st.syncs, st0.syncs + 1);
	ck_assert_uint_eq(st.synced, st.written);
	/* With no put after it, a consume is synced by its deadline. */
	mid = put(j, q, "c");
	ck_assert_int_eq(journal_consume(j, q, &mid, 1), 0);
	ck_assert_int_eq(journal_flush(j), 0);
	do
		await_sync(j);
	while (journal_stats(j, &st), st.synced < st.written);
	ck_assert_uint_eq(st.syncs, st0.syncs + 2);
	journal_close(j);
	seen_free(&s);
	scratch_rm(dir);
}
END_TEST

/* sync = always: after a round the sync thread sleeps out sync-interval
 * and a record nobody waits for (a get's CONSUME) does not wake it (it
 * woke the idle thread, a futex call ahead of the get's reply, only for
 * the thread to sleep again); the record is synced by that deadline. */
START_TEST(test_quiet_after_round)
{
	char dir[64], jdir[80];
	struct journal_opts o;
	struct journal_report rep;
	struct journal_stats a, b;
	struct journal *j;
	struct seen s;
	struct tw t = { .w.done = tw_done };
	uint64_t mid;
	uint32_t q;

	scratch(dir, jdir);
	o = opts(jdir, JOURNAL_SYNC_ALWAYS);
	o.interval_ms = 1000;
	j = reopen(&o, &s, &rep);
	q = mkqueue(j, "q", 0);
	mid = put(j, q, "a");
	journal_wait(j, &t.w);
	ck_assert_int_eq(journal_flush(j), 0);
	while (!t.done)
		await_sync(j);
	usleep(50000);     /* the thread sleeps again after its round */
	journal_stats(j, &a);
	ck_assert_int_eq(journal_consume(j, q, &mid, 1), 0);
	ck_assert_int_eq(journal_flush(j), 0);
	usleep(50000);
	journal_stats(j, &b);
	ck_assert_uint_gt(b.written, a.written);
	ck_assert_uint_eq(b.sync_wakeups, a.sync_wakeups);
	ck_assert_uint_eq(b.syncs, a.syncs);
	do
		await_sync(j);
	while (journal_stats(j, &b), b.synced < b.written);
	ck_assert_uint_eq(b.syncs, a.syncs + 1);
	journal_close(j);
	seen_free(&s);
	scratch_rm(dir);
}
END_TEST

/* One put a reply waits for: written, flushed, its round awaited. */
static void put_synced(struct journal *j, uint32_t q, const char *data)
{
	struct tw t = { .w.done = tw_done };

	put(j, q, data);
	journal_wait(j, &t.w);
	ck_assert_int_eq(journal_flush(j), 0);
	while (!t.done)
		await_sync(j);
	ck_assert_int_eq(t.status, 0);
}

/* journal_set_spin: after a round a reply waited for, the sync thread
 * polls for the next such write instead of sleeping, so a client that
 * puts again at once is caught polling (spin_hits); with 0 it never
 * polls, and a write nobody waits for ends no poll either. */
START_TEST(test_spin_after_round)
{
	char dir[64], jdir[80];
	struct journal_opts o;
	struct journal_report rep;
	struct journal_stats a, b;
	struct journal *j;
	struct seen s;
	uint64_t mid;
	uint32_t q;

	scratch(dir, jdir);
	o = opts(jdir, JOURNAL_SYNC_ALWAYS);
	o.interval_ms = 1000;
	j = reopen(&o, &s, &rep);
	q = mkqueue(j, "q", 0);
	put_synced(j, q, "warm");
	journal_set_spin(j, 0);
	put_synced(j, q, "a");
	put_synced(j, q, "b");
	journal_stats(j, &a);
	ck_assert_uint_eq(a.spin_hits, 0);
	journal_set_spin(j, 2000000);   /* 2 s: wide enough under valgrind */
	put_synced(j, q, "c");
	usleep(50000);                  /* the thread is past its round */
	put_synced(j, q, "d");          /* within the poll: caught */
	journal_stats(j, &b);
	ck_assert_uint_eq(b.spin_hits, 1);
	ck_assert_uint_eq(b.syncs, a.syncs + 2);
	/* A get's record nobody waits for does not end the poll. */
	mid = put(j, q, "e");
	ck_assert_int_eq(journal_consume(j, q, &mid, 1), 0);
	ck_assert_int_eq(journal_flush(j), 0);
	usleep(100000);
	journal_stats(j, &a);
	ck_assert_uint_eq(a.spin_hits, 1);
	ck_assert_uint_eq(a.syncs, b.syncs);
	journal_set_spin(j, 0);
	journal_close(j);
	seen_free(&s);
	scratch_rm(dir);
}
END_TEST

/* The thread's poll adapts as the loop's window does (busypoll.h): after
 * 8 polls in a row ran out it polls no more, so puts further apart than
 * the poll cost it no CPU; a put that comes within the poll's time while
 * it sleeps turns polling back on, and the next one is caught polling. */
START_TEST(test_spin_adapts)
{
	char dir[64], jdir[80];
	struct journal_opts o;
	struct journal_report rep;
	struct journal_stats st;
	struct journal *j;
	struct seen s;
	uint32_t q;
	int i;

	scratch(dir, jdir);
	o = opts(jdir, JOURNAL_SYNC_ALWAYS);
	o.interval_ms = 1000;
	j = reopen(&o, &s, &rep);
	q = mkqueue(j, "q", 0);
	put_synced(j, q, "warm");
	journal_set_spin(j, 150000);    /* 150 ms */
	for (i = 0; i < 9; i++) {       /* 8 misses, then no poll */
		put_synced(j, q, "sparse");
		usleep(400000);
	}
	put_synced(j, q, "first");
	usleep(50000);                  /* the thread sleeps: not caught */
	put_synced(j, q, "quick");      /* but it polls again after it */
	journal_stats(j, &st);
	ck_assert_uint_eq(st.spin_hits, 0);
	usleep(50000);
	put_synced(j, q, "caught");
	journal_stats(j, &st);
	ck_assert_uint_eq(st.spin_hits, 1);
	journal_set_spin(j, 0);
	journal_close(j);
	seen_free(&s);
	scratch_rm(dir);
}
END_TEST

/* Copy the file from to the file to (a crash's image of a live journal). */
static void copy_file(const char *from, const char *to)
{
	size_t len;
	unsigned char *b = slurp(from, &len);

	spill(to, b, len);
	free(b);
}

/* sync = always reserves space by writing zeros (the file is longer than
 * its records, so a sync commits no size change); recovery reads the
 * zeros after the last record as reserved space, not as a torn tail,
 * and counts only a torn record's own bytes. */
START_TEST(test_zero_reserve)
{
	char dir[64], jdir[80], seg[128], cdir[96], cseg[128];
	struct journal_opts o, co;
	struct journal_report rep;
	struct journal_stats st;
	struct journal *j, *c;
	struct seen s, cs;
	unsigned char *img;
	size_t len;
	uint32_t q;

	scratch(dir, jdir);
	o = opts(jdir, JOURNAL_SYNC_ALWAYS);
	j = reopen(&o, &s, &rep);
	q = mkqueue(j, "q", 0);
	put(j, q, "m0");
	put(j, q, "m1");
	ck_assert_int_eq(journal_flush(j), 0);
	journal_stats(j, &st);
	snprintf(seg, sizeof(seg), "%s/00000001.seg", jdir);
	ck_assert_int_ge(fsize(seg), (off_t)(st.written + (1u << 20) - 4096));
	/* The image a kill -9 leaves: records, then zeros. */
	snprintf(cdir, sizeof(cdir), "%s/crash", dir);
	snprintf(cseg, sizeof(cseg), "%s/00000001.seg", cdir);
	ck_assert_int_eq(mkdir(cdir, 0700), 0);
	copy_file(seg, cseg);
	co = opts(cdir, JOURNAL_SYNC_NONE);
	c = reopen(&co, &cs, &rep);
	ck_assert_uint_eq(cs.n, 2);
	ck_assert_str_eq(cs.data[1], "m1");
	ck_assert_uint_eq(rep.torn_bytes, 0);
	ck_assert_int_eq(fsize(cseg), (off_t)(32 + st.written));
	journal_close(c);
	seen_free(&cs);
	/* Its last record torn (its last byte lost): only it is torn. */
	copy_file(seg, cseg);
	img = slurp(cseg, &len);
	img[32 + st.written - 1] ^= 0xff;
	spill(cseg, img, len);
	c = reopen(&co, &cs, &rep);
	ck_assert_uint_eq(cs.n, 1);
	ck_assert_uint_eq(rep.torn_bytes, 12 + 12 + 2);
	journal_close(c);
	seen_free(&cs);
	free(img);
	journal_close(j);
	ck_assert_int_eq(fsize(seg), (off_t)(32 + st.written)); /* given back */
	seen_free(&s);
	scratch_rm(dir);
}
END_TEST

/* sync = always, 400 puts of ~1 KiB in rounds of per_round awaited
 * together: the sync thread writes the zeros ahead of the records (after
 * its rounds) and the loop no longer has to, once the first chunk is
 * there; no record is overwritten by them: a crash image of the live
 * journal recovers every message, with no torn bytes. The stats in *st. */
static void fill_run(int per_round, struct journal_stats *st)
{
	char dir[64], jdir[80], seg[128], cdir[96], cseg[128], msg[1024];
	struct journal_opts o, co;
	struct journal_report rep;
	struct journal *j, *c;
	struct seen s, cs;
	struct tw t = { .w.done = tw_done };
	uint32_t q;
	int i;

	scratch(dir, jdir);
	o = opts(jdir, JOURNAL_SYNC_ALWAYS);
	o.prealloc = 64 * 1024;
	o.reserve = 16 * 1024;
	j = reopen(&o, &s, &rep);
	q = mkqueue(j, "q", 0);
	for (i = 0; i < 400; i++) {
		snprintf(msg, sizeof(msg), "%d-%0900d", i, i);
		put(j, q, msg);
		if ((i + 1) % per_round)
			continue;
		t.done = 0;
		journal_wait(j, &t.w);
		ck_assert_int_eq(journal_flush(j), 0);
		while (!t.done)
			await_sync(j);
	}
	journal_stats(j, st);
	printf("fill, rounds of %d: %llu chunks filled by the sync thread (%llu synced "
	       "at once), %llu by the loop\n", per_round, (unsigned long long)st->fills,
	       (unsigned long long)st->fill_syncs, (unsigned long long)st->loop_fills);
	snprintf(seg, sizeof(seg), "%s/00000001.seg", jdir);
	ck_assert_int_ge(fsize(seg), (off_t)(32 + st->written + o.reserve));
	snprintf(cdir, sizeof(cdir), "%s/crash", dir);
	snprintf(cseg, sizeof(cseg), "%s/00000001.seg", cdir);
	ck_assert_int_eq(mkdir(cdir, 0700), 0);
	copy_file(seg, cseg);
	co = opts(cdir, JOURNAL_SYNC_NONE);
	c = reopen(&co, &cs, &rep);
	ck_assert_uint_eq(cs.n, 400);
	snprintf(msg, sizeof(msg), "%d-%0900d", 399, 399);
	ck_assert_str_eq(cs.data[399], msg);
	ck_assert_uint_eq(rep.torn_bytes, 0);
	journal_close(c);
	seen_free(&cs);
	journal_close(j);
	seen_free(&s);
	scratch_rm(dir);
}

/* Single awaited puts: every chunk the thread fills is synced at once, so
 * no put's sync carries new blocks. */
START_TEST(test_fill_ahead)
{
	struct journal_stats st;

	fill_run(1, &st);
	ck_assert_uint_ge(st.fills, 4);        /* 400 x ~1 KiB: over 6 chunks */
	ck_assert_uint_le(st.loop_fills, 1);   /* the first one */
	ck_assert_uint_eq(st.fill_syncs, st.fills);
}
END_TEST

/* Rounds of 8 KiB (an eighth of the 64 KiB chunk): the thread still fills
 * ahead, but leaves the zeros to the next round's sync instead of making
 * the records written meanwhile wait behind a chunk's write-out. */
START_TEST(test_fill_big_rounds)
{
	struct journal_stats st;

	fill_run(8, &st);
	ck_assert_uint_ge(st.fills, 4);
	ck_assert_uint_le(st.loop_fills, 1);
	ck_assert_uint_eq(st.fill_syncs, 0);
}
END_TEST

/* --- torn tails and corruption ----------------------------------------------------- */

/* A journal of one queue and n puts "m0".."m{n-1}" (the last one longer);
 * the segment's path, and the offset of the last record. */
static off_t build(const char *jdir, int n, char seg[128])
{
	struct journal_opts o = opts(jdir, JOURNAL_SYNC_NONE);
	struct journal_report rep;
	struct journal *j;
	struct seen s;
	char msg[64];
	off_t last = 0;
	uint32_t q;
	int i;

	j = reopen(&o, &s, &rep);
	q = mkqueue(j, "q", 0);
	snprintf(seg, 128, "%s/00000001.seg", jdir);
	for (i = 0; i < n; i++) {
		ck_assert_int_eq(journal_flush(j), 0);
		last = fsize(seg);
		snprintf(msg, sizeof(msg), i == n - 1 ? "m%d-the-last-one" : "m%d", i);
		put(j, q, msg);
	}
	journal_close(j);
	seen_free(&s);
	return last;
}

/* Cutting the segment anywhere inside its last record loses that record
 * only: the rest is recovered, the tail is cut off and counted, and the
 * journal goes on cleanly after it. */
START_TEST(test_torn_tail_every_offset)
{
	char dir[64], jdir[80], seg[128];
	struct journal_opts o;
	struct journal_report rep;
	struct journal *j;
	unsigned char *img;
	struct seen s;
	size_t len, cut, end;
	off_t last;

	scratch(dir, jdir);
	last = build(jdir, 5, seg);
	img = slurp(seg, &len);
	o = opts(jdir, JOURNAL_SYNC_NONE);
	for (cut = (size_t)last; cut < len; cut++) {
		spill(seg, img, cut);
		j = reopen(&o, &s, &rep);
		ck_assert_uint_eq(s.n, 4);
		ck_assert_str_eq(s.data[3], "m3");
		/* Trailing zeros read as reserved space, not torn bytes. */
		for (end = cut; end > (size_t)last && img[end - 1] == 0; end--)
			;
		ck_assert_uint_eq(rep.torn_bytes, end - (size_t)last);
		ck_assert_int_eq(fsize(seg), last);
		journal_close(j);
		seen_free(&s);
	}
	/* After a cut, appends continue at the good end. */
	spill(seg, img, len - 3);
	j = reopen(&o, &s, &rep);
	put(j, 1, "after");
	journal_close(j);
	seen_free(&s);
	j = reopen(&o, &s, &rep);
	ck_assert_uint_eq(s.n, 5);
	ck_assert_str_eq(s.data[4], "after");
	ck_assert_uint_eq(rep.torn_bytes, 0);
	journal_close(j);
	seen_free(&s);
	free(img);
	scratch_rm(dir);
}
END_TEST

/* Offset of record k (0: the QUEUE record) in a segment image. */
static size_t rec_off(const unsigned char *img, int k)
{
	size_t off = 32;

	while (k-- > 0)
		off += 12 + (img[off + 4] | img[off + 5] << 8 |
			     img[off + 6] << 16 | (size_t)img[off + 7] << 24);
	return off;
}

/* A flipped byte in a record followed by good ones: open refuses, naming
 * the file and the record's offset; salvage keeps the records before it. */
START_TEST(test_corrupt_middle)
{
	/* Where in record 4 (put "m3") the byte flips: crc, len, type, body. */
	static const size_t where[] = { 0, 5, 8, 14, 22 };
	char dir[64], jdir[80], seg[128], want[256];
	struct journal_opts o;
	struct journal_report rep;
	struct journal *j = NULL;
	unsigned char *img;
	struct seen s;
	size_t len, at, w;

	scratch(dir, jdir);
	build(jdir, 10, seg);
	img = slurp(seg, &len);
	at = rec_off(img, 4);
	o = opts(jdir, JOURNAL_SYNC_NONE);
	snprintf(want, sizeof(want), "%s: corrupt record at offset %zu", seg, at);
	for (w = 0; w < sizeof(where) / sizeof(where[0]); w++) {
		img[at + where[w]] ^= 0x40;
		spill(seg, img, len);
		img[at + where[w]] ^= 0x40;
		ck_assert_int_eq(journal_open(&o, NULL, &j, &rep), JOURNAL_E_CORRUPT);
		ck_assert_ptr_null(j);
		ck_assert_msg(strstr(rep.error, want), "%s", rep.error);
		ck_assert_int_eq(fsize(seg), (off_t)len);   /* untouched */
	}
	o.salvage = true;
	j = reopen(&o, &s, &rep);
	ck_assert_uint_eq(s.n, 3);
	ck_assert_str_eq(s.data[2], "m2");
	ck_assert_uint_eq(rep.salvaged_bytes, len - at);
	journal_close(j);
	seen_free(&s);
	o.salvage = false;
	j = reopen(&o, &s, &rep);
	ck_assert_uint_eq(s.n, 3);
	journal_close(j);
	seen_free(&s);
	free(img);
	scratch_rm(dir);
}
END_TEST

/* The image a kill -9 leaves of a sync = always journal of n puts
 * "m0".."m{n-1}": records, then the zeros reserved ahead. Its length in
 * *len and the end of its records in *end. */
static unsigned char *zero_image(const char *jdir, int n, size_t *len,
				 size_t *end)
{
	struct journal_opts o = opts(jdir, JOURNAL_SYNC_ALWAYS);
	struct journal_report rep;
	struct journal_stats st;
	struct journal *j;
	struct seen s;
	char seg[128], msg[16];
	unsigned char *img;
	uint32_t q;
	int i;

	j = reopen(&o, &s, &rep);
	q = mkqueue(j, "q", 0);
	for (i = 0; i < n; i++) {
		snprintf(msg, sizeof(msg), "m%d", i);
		put(j, q, msg);
	}
	ck_assert_int_eq(journal_flush(j), 0);
	journal_stats(j, &st);
	snprintf(seg, sizeof(seg), "%s/00000001.seg", jdir);
	img = slurp(seg, len);
	*end = 32 + st.written;
	ck_assert_uint_ge(*len, *end + 4096);
	journal_close(j);
	seen_free(&s);
	return img;
}

/* Garbage after the last record, then the reserved zeros: a torn tail of
 * the garbage's length (not corruption, the zeros not counted); the
 * journal is reopened for writing at the end of its records, not of the
 * file, so the next record follows them and is recovered. */
START_TEST(test_zero_tail_garbage)
{
	char dir[64], jdir[80], seg[128];
	struct journal_opts o;
	struct journal_report rep;
	struct journal *j;
	struct seen s;
	unsigned char *img;
	size_t len, end;
	uint32_t q;

	scratch(dir, jdir);
	img = zero_image(jdir, 5, &len, &end);
	memset(img + end, 0xa5, 100);
	snprintf(seg, sizeof(seg), "%s/00000001.seg", jdir);
	spill(seg, img, len);
	o = opts(jdir, JOURNAL_SYNC_ALWAYS);
	j = reopen(&o, &s, &rep);
	ck_assert_uint_eq(s.n, 5);
	ck_assert_str_eq(s.data[4], "m4");
	ck_assert_uint_eq(rep.torn_bytes, 100);
	q = s.q[0].qid;
	seen_free(&s);
	put(j, q, "after");
	ck_assert_int_eq(journal_flush(j), 0);
	journal_close(j);
	ck_assert_int_eq(fsize(seg), (off_t)(end + 12 + 12 + 5));
	j = reopen(&o, &s, &rep);
	ck_assert_uint_eq(s.n, 6);
	ck_assert_str_eq(s.data[5], "after");
	ck_assert_uint_eq(rep.torn_bytes, 0);
	journal_close(j);
	seen_free(&s);
	free(img);
	scratch_rm(dir);
}
END_TEST

/* A flipped byte in a record followed by good records and then the
 * reserved zeros is still corruption: open refuses, naming the file and
 * offset; salvage keeps the records before it. */
START_TEST(test_zero_tail_corrupt_middle)
{
	char dir[64], jdir[80], seg[128], want[256];
	struct journal_opts o;
	struct journal_report rep;
	struct journal *j = NULL;
	struct seen s;
	unsigned char *img;
	size_t len, end, at;

	scratch(dir, jdir);
	img = zero_image(jdir, 10, &len, &end);
	at = rec_off(img, 4);
	img[at + 14] ^= 0x40;
	snprintf(seg, sizeof(seg), "%s/00000001.seg", jdir);
	spill(seg, img, len);
	o = opts(jdir, JOURNAL_SYNC_ALWAYS);
	snprintf(want, sizeof(want), "%s: corrupt record at offset %zu", seg, at);
	ck_assert_int_eq(journal_open(&o, NULL, &j, &rep), JOURNAL_E_CORRUPT);
	ck_assert_ptr_null(j);
	ck_assert_msg(strstr(rep.error, want), "%s", rep.error);
	o.salvage = true;
	j = reopen(&o, &s, &rep);
	ck_assert_uint_eq(s.n, 3);
	ck_assert_str_eq(s.data[2], "m2");
	journal_close(j);
	seen_free(&s);
	free(img);
	scratch_rm(dir);
}
END_TEST

/* --- compaction ---------------------------------------------------------------------- */

/* With most messages consumed, compaction rewrites the few live ones and
 * deletes the old segments: the journal stays near twice its live data,
 * and recovery still gives every live message, in put order. */
START_TEST(test_compaction)
{
	char dir[64], jdir[80], msg[64];
	struct journal_opts o;
	struct journal_report rep;
	struct journal_stats st, st0;
	struct journal *j;
	struct seen s;
	uint64_t mid;
	uint32_t q;
	int i, n = 0, steps = 0;

	scratch(dir, jdir);
	o = opts(jdir, JOURNAL_SYNC_NONE);
	o.segment_max = 8192;
	o.compact_min = 1;
	j = reopen(&o, &s, &rep);
	q = mkqueue(j, "q", 0);
	for (i = 0; i < 3000; i++) {
		snprintf(msg, sizeof(msg), "message %05d", i);
		mid = put(j, q, msg);
		if (i % 100 != 7)
			ck_assert_int_eq(journal_consume(j, q, &mid, 1), 0);
		else if (i == 7) { /* in flight: its 3 deliveries survive the copy */
			ck_assert_int_eq(journal_deliver(j, q, &mid, 1), 0);
			ck_assert_int_eq(journal_deliver(j, q, &mid, 1), 0);
			ck_assert_int_eq(journal_deliver(j, q, &mid, 1), 0);
		}
		if (i % 50 == 0)
			ck_assert_int_eq(journal_flush(j), 0);
	}
	ck_assert_int_eq(journal_flush(j), 0);
	journal_stats(j, &st0);
	ck_assert_uint_gt(st0.segments, 10);
	while (journal_compact(j, 1024)) {
		ck_assert_int_eq(journal_flush(j), 0);
		steps++;
	}
	ck_assert_int_eq(journal_flush(j), 0);
	journal_stats(j, &st);
	ck_assert_uint_gt(steps, 0);
	ck_assert_uint_lt(st.segments, st0.segments);
	ck_assert_uint_le(st.bytes, 2 * st.live_bytes + 2 * o.segment_max);
	journal_close(j);
	j = reopen(&o, &s, &rep);
	for (i = 0; i < 3000; i++)
		if (i % 100 == 7) {
			snprintf(msg, sizeof(msg), "message %05d", i);
			ck_assert_str_eq(s.data[n++], msg);
		}
	ck_assert_uint_eq(s.n, (size_t)n);
	ck_assert_uint_eq(s.nq, 1);
	ck_assert_uint_eq(s.delivered, 1);
	ck_assert_uint_eq(s.deliveries, 3);
	journal_close(j);
	seen_free(&s);
	scratch_rm(dir);
}
END_TEST

/* Descriptors this process holds on deleted segment files. */
static int deleted_segment_fds(void)
{
	char path[300], target[300];
	struct dirent *e;
	DIR *d = opendir("/proc/self/fd");
	ssize_t n;
	int count = 0;

	ck_assert_ptr_nonnull(d);
	while ((e = readdir(d)) != NULL) {
		snprintf(path, sizeof(path), "/proc/self/fd/%s", e->d_name);
		n = readlink(path, target, sizeof(target) - 1);
		if (n <= 0)
			continue;
		target[n] = '\0';
		count += strstr(target, ".seg (deleted)") != NULL;
	}
	closedir(d);
	return count;
}

/* Let j complete: after the sync thread's signal, or at once with sync =
 * none (no thread). */
static void settle(struct journal *j)
{
	if (journal_fd(j) >= 0)
		await_sync(j);
	else
		journal_complete(j);
}

/* A new journal in a scratch dir with the sync mode (sync-interval 500
 * ms) and 8 KiB segments, for reap_churn. */
static struct journal *reap_open(char *dir, char *jdir, enum journal_sync sync,
				 struct seen *s)
{
	struct journal_report rep;
	struct journal_opts o;

	scratch(dir, jdir);
	o = opts(jdir, sync);
	o.interval_ms = 500;
	o.segment_max = 8192;
	return reopen(&o, s, &rep);
}

/* Churn through j (8 KiB segments) until compaction has reaped all but
 * the last two segments. */
static void reap_churn(struct journal *j)
{
	struct journal_stats st;
	char msg[64];
	uint64_t mid;
	uint32_t q;
	int i;

	q = mkqueue(j, "q", 0);
	ck_assert_int_eq(journal_flush(j), 0);
	settle(j);
	for (i = 0; i < 600; i++) {
		snprintf(msg, sizeof(msg), "churn %05d", i);
		mid = put(j, q, msg);
		ck_assert_int_eq(journal_consume(j, q, &mid, 1), 0);
	}
	ck_assert_int_eq(journal_flush(j), 0);
	journal_stats(j, &st);
	ck_assert_uint_gt(st.segments, 2);
	/* The queue's record is copied out of the first segment; once the
	 * copy is synced, journal_complete reaps the dead segments. */
	for (i = 0; i < 10 && st.segments > 2; i++) {
		while (journal_compact(j, 1u << 20))
			ck_assert_int_eq(journal_flush(j), 0);
		ck_assert_int_eq(journal_flush(j), 0);
		settle(j);
		journal_stats(j, &st);
	}
	ck_assert_uint_le(st.segments, 2);
}

/* Wait up to 5 s for the last deleted segment's fd to be closed. */
static void await_no_deleted_fds(void)
{
	int i;

	for (i = 0; i < 5000 && deleted_segment_fds() > 0; i++)
		usleep(1000);
	ck_assert_int_eq(deleted_segment_fds(), 0);
}

/* The oldest segments, dead, are deleted by the loop but closed for the
 * last time by the sync thread after its next round (freeing a large
 * file's pages takes milliseconds): right after the reap their fds are
 * still open (that round waits out the interval), and after it none is. */
START_TEST(test_reap_closes_in_thread)
{
	char dir[64], jdir[80];
	struct seen s;
	struct journal *j = reap_open(dir, jdir, JOURNAL_SYNC_INTERVAL, &s);

	reap_churn(j);
	ck_assert_int_gt(deleted_segment_fds(), 0);
	await_sync(j);
	/* It closes them right after signalling that round. */
	await_no_deleted_fds();
	journal_close(j);
	seen_free(&s);
	scratch_rm(dir);
}
END_TEST

/* With sync = none there is no sync thread: each deleted segment's last
 * close is made by a short thread of its own, not by the loop, and
 * journal_close joins those still running. */
START_TEST(test_reap_closes_off_loop_none)
{
	char dir[64], jdir[80];
	struct journal_stats st;
	struct seen s;
	struct journal *j = reap_open(dir, jdir, JOURNAL_SYNC_NONE, &s);

	reap_churn(j);
	journal_stats(j, &st);
	ck_assert_uint_gt(st.closes_off_loop, 0);
	await_no_deleted_fds();
	reap_churn(j);     /* a second round: the first closers are joined */
	journal_close(j);
	ck_assert_int_eq(deleted_segment_fds(), 0);
	seen_free(&s);
	scratch_rm(dir);
}
END_TEST

/* By default compaction waits until the journal holds more than two
 * segments: a message stuck at the head keeps the oldest segment while
 * the journal stays within two of them (copying it forward would be
 * wasted on a queue that streams: its consumers reach it soon), and is
 * copied once the journal grows past them. */
START_TEST(test_compaction_floor)
{
	char dir[64], jdir[80], msg[64];
	struct journal_opts o;
	struct journal_report rep;
	struct journal_stats st;
	struct journal *j;
	struct seen s;
	uint64_t mid;
	uint32_t q;
	int i = 0;

	scratch(dir, jdir);
	o = opts(jdir, JOURNAL_SYNC_NONE);
	o.segment_max = 8192;
	j = reopen(&o, &s, &rep);
	q = mkqueue(j, "q", 0);
	put(j, q, "head");
	for (;; i++) {
		snprintf(msg, sizeof(msg), "churn %05d", i);
		mid = put(j, q, msg);
		ck_assert_int_eq(journal_consume(j, q, &mid, 1), 0);
		ck_assert_int_eq(journal_flush(j), 0);
		journal_stats(j, &st);
		if (st.bytes > 2 * o.segment_max)
			break;
		ck_assert(!journal_compact(j, 1u << 20));
	}
	ck_assert_uint_ge(st.segments, 2);
	while (journal_compact(j, 1u << 20))
		ck_assert_int_eq(journal_flush(j), 0);
	ck_assert_int_eq(journal_flush(j), 0);
	journal_compact(j, 1u << 20); /* reaps what the copy freed */
	journal_stats(j, &st);
	ck_assert_uint_le(st.bytes, 2 * o.segment_max);
	journal_close(j);
	j = reopen(&o, &s, &rep);
	ck_assert_uint_eq(s.n, 1);
	ck_assert_str_eq(s.data[0], "head");
	journal_close(j);
	seen_free(&s);
	scratch_rm(dir);
}
END_TEST

/* Old segments full of live messages (400 kept in "a", then churn in
 * "b"): each compaction call copies at most its budget and one record
 * more, so the loop's work per iteration is bounded however much is
 * live; many calls finish the job within about twice the live data, and
 * the kept messages come back in order. */
START_TEST(test_compaction_bounded)
{
	char dir[64], jdir[80], msg[128];
	struct journal_opts o;
	struct journal_report rep;
	struct journal_stats st;
	struct journal *j;
	struct seen s;
	uint64_t mid, before, first;
	uint32_t qa, qb;
	int i, calls = 0;
	bool more = true;

	scratch(dir, jdir);
	o = opts(jdir, JOURNAL_SYNC_NONE);
	o.segment_max = 16384;
	o.compact_min = 1;
	j = reopen(&o, &s, &rep);
	qa = mkqueue(j, "a", 0);
	qb = mkqueue(j, "b", 0);
	for (i = 0; i < 400; i++) {
		snprintf(msg, sizeof(msg), "kept %05d %080d", i, i);
		put(j, qa, msg);
	}
	for (i = 0; i < 6000; i++) {
		snprintf(msg, sizeof(msg), "churn %05d", i);
		mid = put(j, qb, msg);
		ck_assert_int_eq(journal_consume(j, qb, &mid, 1), 0);
	}
	ck_assert_int_eq(journal_flush(j), 0);
	journal_stats(j, &st);
	first = st.written;
	while (more) {
		before = st.written;
		more = journal_compact(j, 1024);
		ck_assert_int_eq(journal_flush(j), 0);
		journal_stats(j, &st);
		ck_assert_uint_le(st.written - before, 1024 + 256);
		calls++;
	}
	ck_assert_uint_gt(st.written - first, 32 * 1024);
	ck_assert_int_gt(calls, 32);
	ck_assert_uint_le(st.bytes, 2 * st.live_bytes + 2 * o.segment_max);
	journal_close(j);
	j = reopen(&o, &s, &rep);
	ck_assert_uint_eq(s.n, 400);
	for (i = 0; i < 400; i++) {
		snprintf(msg, sizeof(msg), "kept %05d %080d", i, i);
		ck_assert_str_eq(s.data[i], msg);
	}
	journal_close(j);
	seen_free(&s);
	scratch_rm(dir);
}
END_TEST

/* A journal (sync = always, 8 KiB segments) of 300 messages kept in
 * queue "a" (over 3 segments) among 3000 put and consumed in "b". */
static struct journal *kept_among_churn(const char *jdir, struct journal_opts *o,
					struct seen *s)
{
	struct journal_report rep;
	struct journal *j;
	char msg[128];
	uint64_t mid;
	uint32_t qa, qb;
	int i;

	*o = opts(jdir, JOURNAL_SYNC_ALWAYS);
	o->segment_max = 8192;
	o->compact_min = 1;
	j = reopen(o, s, &rep);
	qa = mkqueue(j, "a", 0);
	qb = mkqueue(j, "b", 0);
	for (i = 0; i < 3000; i++) {
		snprintf(msg, sizeof(msg), "churn %05d", i);
		mid = put(j, qb, msg);
		ck_assert_int_eq(journal_consume(j, qb, &mid, 1), 0);
		if (i % 10 == 0) {
			snprintf(msg, sizeof(msg), "kept %05d %060d", i / 10, i);
			put(j, qa, msg);
		}
	}
	ck_assert_int_eq(journal_flush(j), 0);
	return j;
}

/* sync = always, more live data than a segment: compaction copies the
 * oldest segment's live messages and then waits until the sync makes
 * those copies durable and the segment goes, rather than go on to the
 * segments its copies filled and copy them again (the journal grew by
 * gigabytes that way while nothing was reaped). Once the syncs come, it
 * finishes, within about twice the live data, and every message comes
 * back in order. */
START_TEST(test_compaction_waits_for_sync)
{
	char dir[64], jdir[80], msg[128];
	struct journal_opts o;
	struct journal_report rep;
	struct journal_stats st, st0;
	struct journal *j;
	struct seen s;
	int i, steps = 0;

	scratch(dir, jdir);
	j = kept_among_churn(jdir, &o, &s);
	journal_stats(j, &st0);
	ck_assert_uint_gt(st0.live_bytes, 3 * o.segment_max);
	/* No sync completes meanwhile (journal_complete is not called). */
	while (steps < 2000 && journal_compact(j, 1024)) {
		ck_assert_int_eq(journal_flush(j), 0);
		steps++;
	}
	ck_assert_int_eq(journal_flush(j), 0);
	journal_stats(j, &st);
	ck_assert_int_lt(steps, 2000);
	ck_assert_uint_le(st.written - st0.written, o.segment_max);
	for (steps = 0; steps < 100000; steps++) {
		while (journal_compact(j, 1024))
			ck_assert_int_eq(journal_flush(j), 0);
		ck_assert_int_eq(journal_flush(j), 0);
		journal_stats(j, &st);
		if (st.bytes <= 2 * st.live_bytes + 2 * o.segment_max)
			break;
		await_sync(j);
	}
	ck_assert_uint_le(st.bytes, 2 * st.live_bytes + 2 * o.segment_max);
	journal_close(j);
	j = reopen(&o, &s, &rep);
	ck_assert_uint_eq(s.n, 300);
	for (i = 0; i < 300; i++) {
		snprintf(msg, sizeof(msg), "kept %05d %060d", i, i * 10);
		ck_assert_str_eq(s.data[i], msg);
	}
	journal_close(j);
	seen_free(&s);
	scratch_rm(dir);
}
END_TEST

/* Compaction copies the queue's record and an old live message past a
 * newer message of the queue, into the one segment left: recovery keeps
 * that message (its queue's record comes after it) and hands both back
 * in put order (the file order is not). */
START_TEST(test_compaction_order)
{
	char dir[64], jdir[80], msg[64];
	struct journal_opts o;
	struct journal_report rep;
	struct journal *j;
	struct seen s;
	uint64_t mid;
	uint32_t q;
	int i, steps = 0;

	scratch(dir, jdir);
	o = opts(jdir, JOURNAL_SYNC_NONE);
	o.segment_max = 8192;
	o.compact_min = 1;
	j = reopen(&o, &s, &rep);
	q = mkqueue(j, "q", 0);
	put(j, q, "first");
	for (i = 0; i < 1000; i++) {
		snprintf(msg, sizeof(msg), "message %05d", i);
		mid = put(j, q, msg);
		ck_assert_int_eq(journal_consume(j, q, &mid, 1), 0);
	}
	put(j, q, "last");
	ck_assert_int_eq(journal_flush(j), 0);
	while (journal_compact(j, 1024)) {
		ck_assert_int_eq(journal_flush(j), 0);
		steps++;
	}
	ck_assert_int_eq(journal_flush(j), 0);
	ck_assert_uint_gt(steps, 0);
	journal_close(j);
	j = reopen(&o, &s, &rep);
	ck_assert_uint_eq(s.n, 2);
	ck_assert_str_eq(s.data[0], "first");
	ck_assert_str_eq(s.data[1], "last");
	journal_close(j);
	seen_free(&s);
	scratch_rm(dir);
}
END_TEST

/* --- a full disk ---------------------------------------------------------------------- */

/* The tmpfs test_enospc mounted, for the exit of a failed test. */
static char enospc_mount[64];

/* Detach the tmpfs when a failed assertion ends the test first. */
static void enospc_unmount(void)
{
	if (enospc_mount[0])
		umount2(enospc_mount, MNT_DETACH);
}

/* On a 2 MiB tmpfs nearly filled by another file: puts fail with
 * IPC_ENOSPC once the disk is full while consumes still fit (the
 * reserve); everything put before is recovered; puts work again once
 * space is freed. */
/* journal_put_many of 4096 copies of msg (len bytes) into q. */
static int put_many_fill(struct journal *j, uint32_t q, const char *msg,
			 size_t len, size_t *done)
{
	static struct iovec v[4096];
	static uint64_t mids[4096];
	size_t i;

	for (i = 0; i < 4096; i++)
		v[i] = (struct iovec){ (void *)msg, len };
	return journal_put_many(j, q, v, 4096, mids, done);
}

START_TEST(test_enospc)
{
	size_t done;
	char dir[64], jdir[80], fill[96], msg[1024];
	struct journal_opts o;
	struct journal_report rep;
	struct journal *j;
	struct seen s;
	uint64_t mid, first = 0;
	uint32_t q;
	int ok = 0, rc = 0;
	FILE *f;

	if (geteuid() != 0) {
		printf("test_enospc skipped: mounting a tmpfs needs root\n");
		return;
	}
	scratch(dir, jdir);
	if (mount("tmpfs", dir, "tmpfs", 0, "size=2m") != 0) {
		printf("test_enospc skipped: mount tmpfs: %s\n", strerror(errno));
		scratch_rm(dir);
		return;
	}
	snprintf(enospc_mount, sizeof(enospc_mount), "%s", dir);
	atexit(enospc_unmount);
	snprintf(fill, sizeof(fill), "%s/filler", dir);
	f = fopen(fill, "wb");
	memset(msg, 'x', sizeof(msg));
	while (ftell(f) < 1600 * 1024 && fwrite(msg, 1, sizeof(msg), f) == sizeof(msg))
		;
	ck_assert_int_eq(fclose(f), 0);
	o = opts(jdir, JOURNAL_SYNC_ALWAYS);
	o.prealloc = 64 * 1024;
	o.reserve = 16 * 1024;
	j = reopen(&o, &s, &rep);
	q = mkqueue(j, "q", 0);
	while ((rc = journal_put(j, q, msg, sizeof(msg), &mid)) == 0) {
		first = first ? first : mid;
		ok++;
		ck_assert_int_eq(journal_flush(j), 0);
	}
	ck_assert_int_eq(rc, IPC_ENOSPC);
	ck_assert_int_gt(ok, 50);
	ck_assert_int_eq(journal_consume(j, q, &first, 1), 0);  /* the reserve */
	ck_assert_int_eq(journal_flush(j), 0);
	journal_close(j);
	j = reopen(&o, &s, &rep);
	ck_assert_uint_eq(s.n, (size_t)ok - 1);
	/* Closing gave back the preallocated tail: fill that up again. */
	while ((rc = journal_put(j, q, msg, sizeof(msg), &mid)) == 0) {
		ok++;
		ck_assert_int_eq(journal_flush(j), 0);
	}
	ck_assert_int_eq(rc, IPC_ENOSPC);
	ck_assert_int_eq(unlink(fill), 0);
	ck_assert_int_eq(journal_put(j, q, msg, sizeof(msg), &mid), 0);
	ck_assert_int_eq(journal_flush(j), 0);
	journal_close(j);
	seen_free(&s);
	j = reopen(&o, &s, &rep);
	ck_assert_uint_eq(s.n, (size_t)ok);
	/* A batch larger than the room left: exactly the prefix that fits. */
	ck_assert_int_eq(put_many_fill(j, q, msg, sizeof(msg), &done), IPC_ENOSPC);
	ck_assert_uint_gt(done, 0);
	ck_assert_uint_lt(done, 4096);
	ck_assert_int_eq(journal_flush(j), 0);
	journal_close(j);
	seen_free(&s);
	j = reopen(&o, &s, &rep);
	ck_assert_uint_eq(s.n, (size_t)ok + done);
	journal_close(j);
	seen_free(&s);
	ck_assert_int_eq(umount(dir), 0);
	enospc_mount[0] = '\0';
	scratch_rm(dir);
}
END_TEST

/* --- recovery speed ---------------------------------------------------------------------- */

/* Seconds on clock id. */
static double clock_s(clockid_t id)
{
	struct timespec ts;

	clock_gettime(id, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

/* STORE_RECOVERY_MSGS messages of 64 bytes (default 1,000,000) are all
 * recovered, in order; prints the journal read rate. */
START_TEST(test_recovery_large)
{
	const char *env = getenv("STORE_RECOVERY_MSGS");
	size_t n = env ? strtoul(env, NULL, 10) : 1000000, i;
	char dir[64], jdir[80], msg[64];
	struct journal_replay r;
	struct journal_opts o;
	struct journal_report rep;
	struct journal *j;
	struct seen s;
	double t0, c0, dt, dc;
	uint64_t mid;
	uint32_t q;

	scratch(dir, jdir);
	o = opts(jdir, JOURNAL_SYNC_NONE);
	o.segment_max = 16u << 20;
	j = reopen(&o, &s, &rep);
	q = mkqueue(j, "big", 0);
	memset(msg, 'm', sizeof(msg));
	for (i = 0; i < n; i++) {
		memcpy(msg, &i, sizeof(i));
		if (journal_put(j, q, msg, sizeof(msg), &mid) != 0 ||
		    (i % 1024 == 0 && journal_flush(j) != 0))
			ck_abort_msg("put %zu failed", i);
	}
	journal_close(j);
	seen_free(&s);

	memset(&s, 0, sizeof(s));
	r = (struct journal_replay){ seen_queue, seen_message, &s };
	t0 = clock_s(CLOCK_MONOTONIC);
	c0 = clock_s(CLOCK_PROCESS_CPUTIME_ID);
	ck_assert_int_eq(journal_open(&o, &r, &j, &rep), 0);
	dt = clock_s(CLOCK_MONOTONIC) - t0;
	dc = clock_s(CLOCK_PROCESS_CPUTIME_ID) - c0;
	ck_assert_uint_eq(s.n, n);
	ck_assert_uint_eq(rep.messages, n);
	ck_assert_uint_eq(s.bytes, n * sizeof(msg));
	/* CPU time too: on a loaded machine the wall clock mostly waits. */
	printf("recovery: %zu messages of %zu B, %.1f MB of journal in %u "
	       "segments, %.3f s: %.0f MB/s (%.3f s of CPU: %.0f MB/s)\n", n,
	       sizeof(msg), (double)rep.bytes / 1e6, rep.segments, dt,
	       (double)rep.bytes / 1e6 / (dt > 0 ? dt : 1e-9), dc,
	       (double)rep.bytes / 1e6 / (dc > 0 ? dc : 1e-9));
	journal_close(j);
	seen_free(&s);
	scratch_rm(dir);
}
END_TEST

/* The suite. */
static Suite *store_suite(void)
{
	Suite *s = suite_create("store");
	TCase *tc = tcase_create("journal");

	tcase_set_timeout(tc, 300);
	tcase_add_test(tc, test_crc32c_vectors);
	tcase_add_test(tc, test_crc32c_sw_hw_split);
	tcase_add_loop_test(tc, test_jmap_random, 0, 2);
	tcase_add_test(tc, test_jmap_fifo_cost);
	tcase_add_test(tc, test_roundtrip);
	tcase_add_test(tc, test_roundtrip_modes);
	tcase_add_test(tc, test_roundtrip_ids_continue);
	tcase_add_test(tc, test_put_many);
	tcase_add_test(tc, test_queue_dead_letter_settings);
	tcase_add_test(tc, test_settings_delete_lock);
	tcase_add_test(tc, test_group_commit);
	tcase_add_test(tc, test_sync_written_modes);
	tcase_add_test(tc, test_interval_writes_quiet);
	tcase_add_test(tc, test_consumes_share_a_record);
	tcase_add_test(tc, test_lazy_sync);
	tcase_add_test(tc, test_quiet_after_round);
	tcase_add_test(tc, test_zero_reserve);
	tcase_add_test(tc, test_spin_after_round);
	tcase_add_test(tc, test_spin_adapts);
	tcase_add_test(tc, test_fill_ahead);
	tcase_add_test(tc, test_fill_big_rounds);
	tcase_add_test(tc, test_torn_tail_every_offset);
	tcase_add_test(tc, test_corrupt_middle);
	tcase_add_test(tc, test_zero_tail_garbage);
	tcase_add_test(tc, test_zero_tail_corrupt_middle);
	tcase_add_test(tc, test_compaction);
	tcase_add_test(tc, test_compaction_floor);
	tcase_add_test(tc, test_reap_closes_in_thread);
	tcase_add_test(tc, test_reap_closes_off_loop_none);
	tcase_add_test(tc, test_compaction_bounded);
	tcase_add_test(tc, test_compaction_waits_for_sync);
	tcase_add_test(tc, test_compaction_order);
	tcase_add_test(tc, test_enospc);
	tcase_add_test(tc, test_recovery_large);
	suite_add_tcase(s, tc);
	return s;
}

/* Run the suite. */
int main(void)
{
	SRunner *sr = srunner_create(store_suite());
	int failed;

	srunner_run_all(sr, CK_NORMAL);
	failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}
