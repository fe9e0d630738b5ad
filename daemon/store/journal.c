/* SPDX-License-Identifier: MIT */
/*
 * journal.c: opening and closing the journal, appending records, writing
 * them once per loop iteration and completing the replies parked on them.
 * See journal.h for the model and journal_int.h for the format.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <sys/uio.h>
#include <unistd.h>

#include "crc32c.h"
#include "journal_int.h"

#define JOURNAL_SEGMENT_MAX (64u << 20)
#define JOURNAL_PREALLOC (1u << 20)
#define JOURNAL_RESERVE (64u << 10)
#define JOURNAL_INTERVAL_MS 100u

/* The current segment. */
static struct jseg *journal_cur(struct journal *j)
{
	return &j->segs[j->nsegs - 1];
}

/* A record is live at *at: count its bytes. */
void journal_alive(struct journal *j, const struct jloc *at)
{
	ssize_t i = jseg_find(j, at->seg);

	if (i >= 0)
		j->segs[i].live += at->len;
	j->live += at->len;
}

/* A record is no longer needed: uncount its bytes. */
void journal_dead(struct journal *j, const struct jloc *at)
{
	ssize_t i = jseg_find(j, at->seg);

	if (i >= 0)
		j->segs[i].live -= at->len;
	j->live -= at->len;
}

/* The lsn up to which waiters are complete in this sync mode. */
uint64_t journal_durable_lsn(const struct journal *j)
{
	return j->o.sync == JOURNAL_SYNC_ALWAYS ? j->lsn_synced : j->lsn_written;
}

/* Reserve disk space up to end in the current segment (fill_mu held):
 * with sync = always by writing zeros, so a record then overwrites
 * blocks the file has, within its size, and the fdatasync after it has
 * no metadata to commit (no size change, no extent to convert): one disk
 * flush rather than that plus a commit of the filesystem's journal.
 * Recovery reads the zeros after the last record as reserved space. The
 * sync thread writes them ahead (jsync_fill) so the loop seldom does;
 * the other modes fallocate. Whole chunks, or just what is needed when
 * the disk is nearly full. */
static int journal_prealloc_locked(struct journal *j, uint64_t end)
{
	uint64_t chunk = j->o.prealloc, want;

	if (end <= j->alloc_end)
		return 0;
	want = (end - j->alloc_end + chunk - 1) / chunk * chunk;
	if (j->o.sync == JOURNAL_SYNC_ALWAYS &&
	    jzero_fill(j->fd, j->alloc_end, want) == 0) {
		j->alloc_end += want;
		j->loop_fills++;
		return 0;
	}
	if (j->no_prealloc) {
		j->alloc_end = end; /* nothing to do up to here */
		return 0;
	}
	if (fallocate(j->fd, FALLOC_FL_KEEP_SIZE, (off_t)j->alloc_end,
		      (off_t)want) == 0) {
		j->alloc_end += want;
		return 0;
	}
	if (errno == EOPNOTSUPP || errno == ENOSYS) {
		j->no_prealloc = true;
		j->alloc_end = end;
		return 0;
	}
	want = (end - j->alloc_end + 4095) & ~(uint64_t)4095;
	if (fallocate(j->fd, FALLOC_FL_KEEP_SIZE, (off_t)j->alloc_end,
		      (off_t)want) == 0) {
		j->alloc_end += want;
		return 0;
	}
	return IPC_ENOSPC;
}

/* Reserve disk space up to end in the current segment: 0 or IPC_ENOSPC. */
static int journal_prealloc(struct journal *j, uint64_t end)
{
	int rc;

	if (end <= j->alloc_end)
		return 0;
	jsync_fill_lock(j);
	rc = journal_prealloc_locked(j, end);
	jsync_fill_unlock(j);
	return rc;
}

/* Cut the current segment back to off, a write having failed there (the
 * records are written again there; the reserve mark stays, so the sync
 * thread never writes zeros over them). */
static void journal_cut(struct journal *j, uint64_t off)
{
	jsync_fill_lock(j);
	if (ftruncate(j->fd, (off_t)off) != 0)
		(void)0; /* the next try rewrites it anyway */
	jsync_fill_unlock(j);
}

/* The lsn the newest parked reply waits for (0: none). */
static uint64_t journal_want(const struct journal *j)
{
	struct ilist *n = ilist_last(&j->waiters);

	return n ? container_of(n, struct journal_waiter, link)->lsn : 0;
}

/* Write buf to the current segment. On a failure the partial write is cut
 * off again and the records stay buffered for the next try; the waiters
 * for them fail. 0 or IPC_ENOSPC. */
static int journal_write(struct journal *j)
{
	uint64_t off = j->buf_off;
	size_t done = 0, len = j->blen;
	ssize_t n;

	while (done < len) {
		n = pwrite(j->fd, j->buf + done, len - done, (off_t)(off + done));
		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0) {
			if (done)
				journal_cut(j, off);
			j->write_failed = true;
			journal_fail_after(j, j->lsn_written);
			return IPC_ENOSPC;
		}
		done += (size_t)n;
	}
	j->buf_off += len;
	j->lsn_written += len;
	j->blen = 0;
	j->write_failed = false;
	jsync_written(j, j->lsn_written, journal_want(j));
	return 0;
}

/* Start a new segment after the current one (written out first). */
static int journal_rotate(struct journal *j)
{
	struct jseg *cur = journal_cur(j);
	uint32_t segno = cur->segno + 1;
	int fd, oldfd = j->fd;

	if (j->blen && journal_write(j) != 0)
		return IPC_ENOSPC;
	fd = jseg_create(j, segno);
	if (fd < 0)
		return IPC_ENOSPC;
	if (jseg_push(j, segno, JSEG_HDR) != 0) {
		close(fd);
		return IPC_ENOSPC;
	}
	/* Give back the reserved tail of the old segment, and switch while
	 * the sync thread cannot be filling either. */
	jsync_fill_lock(j);
	if (ftruncate(oldfd, (off_t)j->buf_off) != 0)
		(void)0; /* it only wastes space until compaction */
	j->fd = fd;
	j->alloc_end = JSEG_HDR;
	j->buf_off = JSEG_HDR;
	jsync_fill_unlock(j);
	jsync_rotate(j, oldfd, fd);
	jsync_dir(j);
	return 0;
}

/* Make room for a record of rec bytes: rotate past segment_max (a put
 * needs the new segment; other records may stay in the current one) and
 * reserve the space. 0 or IPC_ENOSPC. */
static int journal_room(struct journal *j, uint64_t rec, bool put)
{
	struct jseg *cur = journal_cur(j);

	if (put && j->write_failed)
		return IPC_ENOSPC;
	if (cur->size > JSEG_HDR && cur->size + rec > j->o.segment_max &&
	    journal_rotate(j) != 0 && put)
		return IPC_ENOSPC;
	cur = journal_cur(j);
	return journal_prealloc(j, cur->size + rec + (put ? j->o.reserve : 0));
}

/* Room in buf for len more bytes: 0 or -ENOMEM. */
static int journal_buf_grow(struct journal *j, size_t len)
{
	size_t cap = j->bcap ? j->bcap : 65536;
	unsigned char *nb;

	while (cap - j->blen < len)
		cap *= 2;
	if (cap == j->bcap)
		return 0;
	if (!(nb = realloc(j->buf, cap)))
		return -ENOMEM;
	j->buf = nb;
	j->bcap = cap;
	return 0;
}

/* Buffer rec bytes made by the caller at the end of the current segment. */
unsigned char *jrec_reserve(struct journal *j, size_t rec, bool put,
			    uint32_t *seg, uint64_t *off, int *rc)
{
	struct jseg *cur;
	unsigned char *p;

	if ((*rc = journal_consume_emit(j)) != 0 ||
	    (*rc = journal_room(j, rec, put)) != 0 ||
	    (*rc = journal_buf_grow(j, rec)) != 0)
		return NULL;
	cur = journal_cur(j);
	p = j->buf + j->blen;
	*seg = cur->segno;
	*off = cur->size;
	j->blen += rec;
	cur->size += rec;
	j->bytes += rec;
	j->lsn_buf += rec;
	return p;
}

/* Append a record made of parts. */
int jrec_append(struct journal *j, unsigned type, const void *const *parts,
		const size_t *lens, size_t n, bool put, uint32_t *seg,
		uint64_t *off)
{
	size_t len = 0, i, at = JREC_HDR;
	unsigned char *p;
	int rc;

	for (i = 0; i < n; i++)
		len += lens[i];
	p = jrec_reserve(j, JREC_HDR + len, put, seg, off, &rc);
	if (!p)
		return rc;
	jle32(p + 4, (uint32_t)len);
	p[8] = (unsigned char)type;
	p[9] = p[10] = p[11] = 0;
	for (i = 0; i < n; i++) {
		if (lens[i])
			memcpy(p + at, parts[i], lens[i]);
		at += lens[i];
	}
	jle32(p, crc32c(0, p + 4, JREC_HDR - 4 + len));
	return 0;
}

/* Append a record verbatim. */
int jrec_copy(struct journal *j, const unsigned char *rec, size_t len,
	      uint32_t *seg, uint64_t *off)
{
	unsigned char *p;
	int rc;

	p = jrec_reserve(j, len, true, seg, off, &rc);
	if (!p)
		return rc;
	memcpy(p, rec, len);
	return 0;
}

/* The oldest waiter, NULL when none. */
static struct journal_waiter *journal_wfirst(const struct journal *j)
{
	return ilist_first_entry(&j->waiters, struct journal_waiter, link);
}

/* Complete the waiters whose records are durable, oldest first. */
static void journal_complete_upto(struct journal *j, uint64_t lsn, int status)
{
	struct journal_waiter *w;

	while ((w = journal_wfirst(j)) != NULL && w->lsn <= lsn) {
		ilist_unlink(&w->link);
		w->done(w, status);
	}
}

/* Fail the waiters for records after lsn (they were not written). */
void journal_fail_after(struct journal *j, uint64_t lsn)
{
	struct ilist *n = ilist_last(&j->waiters), *first = NULL;
	struct journal_waiter *w;

	for (; n && container_of(n, struct journal_waiter, link)->lsn > lsn;
	     n = ilist_prev(&j->waiters, n))
		first = n;
	while (first) {
		w = container_of(first, struct journal_waiter, link);
		first = ilist_next(&j->waiters, first);
		ilist_unlink(&w->link);
		w->done(w, IPC_ENOSPC);
	}
}

/* Park w on the records appended so far. */
void journal_wait(struct journal *j, struct journal_waiter *w)
{
	if (journal_consume_emit(j) != 0)
		(void)0; /* they stay pending: w waits for what could be appended */
	w->lsn = j->lsn_buf;
	ilist_link_tail(&j->waiters, &w->link);
	/* Its records are written already: no write will say it is wanted. */
	if (j->o.sync == JOURNAL_SYNC_ALWAYS && w->lsn <= j->lsn_written &&
	    w->lsn > j->lsn_synced)
		jsync_written(j, j->lsn_written, w->lsn);
}

/* Take back a parked waiter. */
void journal_unwait(struct journal *j, struct journal_waiter *w)
{
	(void)j;
	ilist_unlink(&w->link);
}

/* Write the buffered records; complete what that makes durable. A
 * pending CONSUME record that finds no room stays pending (its messages
 * come back after a restart unless a later try fits it). */
int journal_flush(struct journal *j)
{
	int rc;

	if (journal_consume_emit(j) != 0)
		(void)0; /* tried again at the next append or flush */
	rc = j->blen ? journal_write(j) : 0;

	journal_complete_upto(j, journal_durable_lsn(j), 0);
	journal_reap(j);
	return rc;
}

/* Are records appended and not written yet? */
bool journal_buffered(const struct journal *j)
{
	return j->blen > 0;
}

/* The sync thread's descriptor. */
int journal_fd(const struct journal *j)
{
	return j->sync.efd;
}

/* The sync thread signalled: complete and reap. */
void journal_complete(struct journal *j)
{
	uint64_t v, failed;

	if (j->sync.efd >= 0 && read(j->sync.efd, &v, sizeof(v)) < 0)
		(void)0; /* nothing pending: a spurious wake-up */
	failed = jsync_poll(j);
	if (failed)
		journal_complete_upto(j, failed, IPC_ENOSPC);
	journal_complete_upto(j, journal_durable_lsn(j), 0);
	journal_reap(j);
}

/* Delete the oldest segments holding nothing live, once their copies are
 * durable (journal_reap_lsn). */
void journal_reap(struct journal *j)
{
	uint64_t lsn = journal_reap_lsn(j);
	char name[16];
	int fd;

	while (j->nsegs > 1 && j->segs[0].live == 0 &&
	       j->segs[0].copied_lsn <= lsn) {
		jcompact_forget(j, j->segs[0].segno);
		jseg_name(j->segs[0].segno, name);
		/* Held open across the unlink, so that the last close, which
		 * frees a segment's pages (10-20 ms for 64 MiB), is the sync
		 * thread's. */
		fd = openat(j->dirfd, name, O_RDONLY | O_CLOEXEC);
		if (unlinkat(j->dirfd, name, 0) != 0 && errno != ENOENT) {
			if (fd >= 0)
				close(fd);
			return;
		}
		if (fd >= 0)
			jsync_drop(j, fd);
		j->bytes -= j->segs[0].size;
		memmove(j->segs, j->segs + 1, (j->nsegs - 1) * sizeof(*j->segs));
		j->nsegs--;
		jsync_dir(j);
	}
}

/* Fill *st. */
void journal_stats(struct journal *j, struct journal_stats *st)
{
	st->bytes = j->bytes;
	st->live_bytes = j->live;
	st->segments = (unsigned)j->nsegs;
	st->syncs = j->syncs;
	st->sync_wakeups = jsync_wakeups(j, &st->fills, &st->fill_syncs, &st->spin_hits);
	st->closes_off_loop = j->sync.closes_off_loop;
	st->loop_fills = j->loop_fills;
	st->sync_ns = j->sync_ns;
	st->sync_ns_max = j->sync_ns_max;
	st->written = j->lsn_written;
	st->synced = j->lsn_synced;
}

/* The recent rounds' time (journal.h). */
unsigned journal_round_us(const struct journal *j)
{
	return j->round_us;
}

/* The sync thread's poll after a round (journal.h). */
void journal_set_spin(struct journal *j, unsigned us)
{
	jsync_set_spin(j, us);
}

/* mkdir -p with mode 0700 for what is created. */
static int journal_mkdirs(const char *dir)
{
	char *p = strdup(dir), *s;
	int rc = 0;

	if (!p)
		return -ENOMEM;
	for (s = p + 1; rc == 0; s++) {
		if (*s != '/' && *s != '\0')
			continue;
		char c = *s;
		*s = '\0';
		if (mkdir(p, 0700) != 0 && errno != EEXIST)
			rc = -errno;
		*s = c;
		if (c == '\0')
			break;
	}
	free(p);
	return rc;
}

/* Lock the directory for this process: 0, or -EBUSY when another holds it. */
static int journal_lock(struct journal *j, struct journal_report *rep)
{
	j->lockfd = openat(j->dirfd, "lock", O_RDWR | O_CREAT | O_CLOEXEC, 0600);
	if (j->lockfd < 0)
		return -errno;
	if (flock(j->lockfd, LOCK_EX | LOCK_NB) == 0)
		return 0;
	snprintf(rep->error, sizeof(rep->error),
		 "%s: in use by another process", j->dir);
	return -EBUSY;
}

/* Append to the last segment if it has room, else start a new one. */
static int journal_open_current(struct journal *j)
{
	uint32_t segno = j->nsegs ? journal_cur(j)->segno + 1 : 1;
	struct jseg *cur;
	char name[16];
	int fd;

	if (j->nsegs && journal_cur(j)->size < j->o.segment_max) {
		cur = journal_cur(j);
		jseg_name(cur->segno, name);
		j->fd = openat(j->dirfd, name, O_RDWR | O_CLOEXEC);
		if (j->fd < 0)
			return -errno;
		j->alloc_end = j->buf_off = cur->size;
		return 0;
	}
	fd = jseg_create(j, segno);
	if (fd < 0)
		return fd;
	j->fd = fd;
	if (jseg_push(j, segno, JSEG_HDR))
		return -ENOMEM;
	j->alloc_end = j->buf_off = JSEG_HDR;
	return 0;
}

/* Copy the options, filling in defaults. */
static int journal_setup(struct journal *j, const struct journal_opts *o)
{
	j->o = *o;
	if (!j->o.interval_ms)
		j->o.interval_ms = JOURNAL_INTERVAL_MS;
	if (!j->o.segment_max)
		j->o.segment_max = JOURNAL_SEGMENT_MAX;
	if (!j->o.prealloc)
		j->o.prealloc = JOURNAL_PREALLOC;
	if (!j->o.reserve)
		j->o.reserve = JOURNAL_RESERVE;
	if (!j->o.compact_min)
		j->o.compact_min = 2 * j->o.segment_max;
	j->dirfd = j->lockfd = j->fd = j->sync.efd = -1;
	j->next_mid = j->next_qid = 1;
	j->dir = strdup(o->dir);
	j->o.dir = j->dir;
	return j->dir ? 0 : -ENOMEM;
}

/* Open the directory, lock it, replay it and get ready to append. */
static int journal_start(struct journal *j, const struct journal_replay *r,
			 struct journal_report *rep)
{
	int rc;

	if ((rc = journal_mkdirs(j->dir)) != 0) {
		snprintf(rep->error, sizeof(rep->error), "%s: %s", j->dir,
			 strerror(-rc));
		return rc;
	}
	j->dirfd = open(j->dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (j->dirfd < 0) {
		rc = -errno;
		snprintf(rep->error, sizeof(rep->error), "%s: %s", j->dir,
			 strerror(errno));
		return rc;
	}
	if ((rc = journal_lock(j, rep)) != 0 ||
	    (rc = journal_replay(j, r, rep)) != 0)
		return rc;
	if ((rc = journal_open_current(j)) != 0 || (rc = jsync_start(j)) != 0) {
		snprintf(rep->error, sizeof(rep->error), "%s: %s", j->dir,
			 strerror(-rc));
		return rc;
	}
	journal_reap(j);
	return 0;
}

/* Open, replay, get ready. */
int journal_open(const struct journal_opts *o, const struct journal_replay *r,
		 struct journal **jp, struct journal_report *rep)
{
	struct journal_report spare;
	struct journal *j;
	int rc;

	if (!rep)
		rep = &spare;
	memset(rep, 0, sizeof(*rep));
	*jp = NULL;
	if (!(j = calloc(1, sizeof(*j))))
		return -ENOMEM;
	ilist_init(&j->waiters);
	rc = journal_setup(j, o);
	if (rc == 0)
		rc = journal_start(j, r, rep);
	if (rc != 0) {
		journal_close(j);
		return rc;
	}
	*jp = j;
	return 0;
}

/* Flush, last sync, fail what is left, free. */
void journal_close(struct journal *j)
{
	if (!j)
		return;
	if (j->fd >= 0 && j->nsegs) {
		journal_flush(j);
		jsync_stop(j);
		journal_complete_upto(j, journal_durable_lsn(j), 0);
		if (ftruncate(j->fd, (off_t)j->buf_off) != 0)
			(void)0; /* a preallocated tail: space, not data */
	} else {
		jsync_stop(j);
	}
	journal_fail_after(j, 0);
	jcompact_forget(j, 0);
	if (j->fd >= 0)
		close(j->fd);
	if (j->lockfd >= 0)
		close(j->lockfd);
	if (j->dirfd >= 0)
		close(j->dirfd);
	jmap_fini(&j->msgs);
	jmap_fini(&j->qmap);
	free(j->queues);
	free(j->segs);
	free(j->buf);
	free(j->dir);
	free(j);
}
