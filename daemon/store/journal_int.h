/* SPDX-License-Identifier: MIT */
/*
 * journal_int.h: the journal's on-disk format and its private state,
 * shared by journal*.c and nothing else.
 *
 * A segment file: a 32-byte header, then records back to back.
 *   header: "IPCDJNL1", u32 version, u32 segno, u64 next mid, u32 next qid,
 *           u32 CRC-32C of the 28 bytes before it
 *   record: u32 crc, u32 len, u8 type, 3 zero bytes, then len bytes of
 *           body; crc is the CRC-32C of everything after the crc field
 *           (len, type, pad, body).
 *   bodies (all integers little-endian):
 *     QUEUE   u32 qid, u32 mode, u32 uid, u32 gid, u64 maxsize, name
 *             [, NUL, u32 max_deliveries, dead-letter name] (the part in
 *             brackets only for a queue with dead-lettering: a journal
 *             without such queues reads as before)
 *     QDEL    u32 qid
 *     PUT     u64 mid, u32 qid, payload
 *     CONSUME u32 qid, u64 mid * n (n >= 1)
 *     DELIVER u32 qid, u64 mid * n (n >= 1)
 */
#ifndef IPCD_JOURNAL_INT_H
#define IPCD_JOURNAL_INT_H

#include <pthread.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>
#include <time.h>

#include "jmap.h"
#include "journal.h"

#define JSEG_HDR 32u
#define JSEG_MAGIC "IPCDJNL1"
#define JSEG_VERSION 1u
#define JREC_HDR 12u
/* The largest body: a PUT of the largest message. */
#define JREC_BODY_MAX (IPC_MSG_MAX + 12u)
/* The most mids in one CONSUME record. */
#define JREC_CONSUME_MAX 4096u
/* Mids per CONSUME or DELIVER record the journal writes. */
#define JOURNAL_CONSUME_CHUNK 512u
#define JQUEUE_FIXED 24u
/* The most bytes a QUEUE record's dead-lettering part takes. */
#define JQUEUE_EXT_MAX (1u + 4u + IPC_NAME_MAX)
#define JPUT_FIXED 12u
/* The most bytes of PUT records a batch reserves at once. */
#define JPUT_RUN_MAX (4u << 20)

enum jrec_type {
	JREC_QUEUE = 1,
	JREC_QDEL = 2,
	JREC_PUT = 3,
	JREC_CONSUME = 4,
	JREC_DELIVER = 5,
};

/* One segment file. */
struct jseg {
	uint32_t segno;
	uint64_t size;          /* bytes in the file, plus buffered ones (current) */
	uint64_t live;          /* bytes of its records still needed */
	uint64_t copied_lsn;    /* its live records were copied up to here */
};

/* A live durable queue, and where its latest QUEUE record lies. */
struct jqueue {
	struct journal_queue q;
	struct jloc at;
	bool live;
};

/* Closer threads at once at most (sync = none, jsync_drop); past that
 * (many segments reaped at once) the loop waits for the oldest, as it
 * closed them all before. */
#define JSYNC_CLOSERS_MAX 4u

/* What the loop and the sync thread share, under mu. */
struct jsync {
	pthread_mutex_t mu;
	uint32_t seq;           /* futex word the thread sleeps on: bumped,
				   atomically, by each signal */
	pthread_t thread;
	bool inited;            /* mu exists */
	bool running;           /* the thread was started */
	bool stop;
	int efd;                /* eventfd the thread signals; -1 with none */
	int fd;                 /* the current segment (the loop owns it) */
	int *old;               /* earlier segments' fds: synced, then closed here */
	size_t nold, capold;
	int *dead;              /* deleted segments' fds: closed here, so that
				   freeing their pages does not stall the loop */
	size_t ndead, capdead;
	pthread_t closers[JSYNC_CLOSERS_MAX]; /* sync = none, where no thread
				   runs: one short thread per deleted
				   segment's last close, joined once done
				   or at stop */
	size_t nclosers;
	uint64_t closes_off_loop; /* deleted segments closed by those */
	int dirfd;              /* fsync'd when dir_dirty */
	bool dir_dirty;
	uint64_t written;       /* lsn written to the kernel */
	uint64_t synced;        /* lsn on stable storage */
	uint64_t syncs;
	uint64_t wanted;        /* lsn a reply waits for (sync = always) */
	uint64_t wakeups;       /* the thread's returns from a wait */
	bool idle;              /* it sleeps until something is written */
	bool lazy_wait;         /* it sleeps until lazy_until or a wanted write */
	bool lazy_armed;        /* lazy_until is set for the pending records */
	bool round_wanted;      /* the last round synced what a reply waited for */
	unsigned spin_us;       /* poll this long for the next such write
				   after one (atomic; 0: never) */
	uint64_t spin_hits;     /* waits that ended while it polled */
	unsigned spin_misses;   /* polls in a row that ran out */
	struct timespec lazy_until; /* when records nobody waits for are synced */
	uint64_t sync_ns;       /* time the rounds took, in all */
	uint64_t sync_ns_max;   /* and the longest one */
	pthread_mutex_t fill_mu; /* held while zeros are written ahead, by
				   either side, and for fill_fd/fill_end */
	int fill_fd;            /* the segment fill_end is for (fill_mu) */
	uint64_t fill_end;      /* zeros or records up to here in it (fill_mu) */
	uint64_t wpos;          /* the loop's write position in fd */
	uint64_t ahead;         /* the thread fills once wpos + ahead passes
				   fill_end (sync = always) */
	uint64_t chunk;         /* and then this much */
	uint64_t fills;         /* chunks the thread filled */
	uint64_t fill_syncs;    /* of which it synced at once (small rounds) */
	uint64_t round_bytes;   /* what the last round synced */
	int err;                /* errno of a failed sync, until the loop sees it */
	uint64_t err_lsn;       /* the lsn that sync was for */
	enum journal_sync mode;
	unsigned interval_ms;
};

struct journal {
	struct journal_opts o;
	char *dir;
	int dirfd, lockfd;
	struct jseg *segs;      /* oldest first; the last is the current one */
	size_t nsegs, capsegs;
	int fd;                 /* the current segment, open for writing */
	uint64_t alloc_end;     /* space reserved up to here (the loop's view:
				   the sync thread may have filled further) */
	uint64_t loop_fills;    /* chunks of zeros the loop wrote itself */
	bool no_prealloc;       /* the filesystem cannot fallocate */
	bool write_failed;      /* the last write failed: puts are refused */
	unsigned char *buf;     /* records appended, not yet written */
	size_t blen, bcap;
	uint64_t buf_off;       /* file offset of buf[0] */
	struct jmap msgs;       /* mid -> live PUT record */
	struct jmap qmap;       /* qid -> index in queues (in loc.qid) */
	struct jqueue *queues;
	size_t nqueues, capqueues;
	uint64_t next_mid;
	uint32_t next_qid;
	uint64_t bytes, live;   /* journal totals */
	uint32_t pend_qid;      /* consumed mids not yet in a record, all */
	uint32_t npend;         /* of queue pend_qid (journal_consume) */
	uint64_t pend[JOURNAL_CONSUME_CHUNK];
	uint64_t lsn_buf;       /* lsn at the end of buf */
	uint64_t lsn_written;   /* lsn written to the kernel */
	uint64_t lsn_synced;    /* as last seen from the thread */
	uint64_t syncs;
	uint64_t sync_ns, sync_ns_max; /* as last seen from the thread */
	unsigned round_us;      /* what the rounds since the look before took,
				   on average */
	struct ilist waiters;       /* struct journal_waiter, oldest first */
	struct jsync sync;
	uint32_t comp_seg;      /* compaction: segment being copied out */
	uint64_t comp_off;      /* and how far */
	unsigned char *comp_map; /* that segment, mapped */
	size_t comp_len;
};

/* Little-endian stores and loads. */
static inline void jle32(unsigned char *p, uint32_t v)
{
	p[0] = (unsigned char)v;
	p[1] = (unsigned char)(v >> 8);
	p[2] = (unsigned char)(v >> 16);
	p[3] = (unsigned char)(v >> 24);
}

static inline void jle64(unsigned char *p, uint64_t v)
{
	jle32(p, (uint32_t)v);
	jle32(p + 4, (uint32_t)(v >> 32));
}

static inline uint32_t jld32(const unsigned char *p)
{
	return (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 |
	       (uint32_t)p[3] << 24;
}

static inline uint64_t jld64(const unsigned char *p)
{
	return (uint64_t)jld32(p) | (uint64_t)jld32(p + 4) << 32;
}

/* journal_seg.c */

/* The file name of segment segno ("%08x.seg") into name[16]. */
void jseg_name(uint32_t segno, char name[16]);
/* Segment numbers of the segment files in dirfd, ascending: 0 with a
 * malloc'd *nos (*n of them), or -errno. */
int jseg_list(int dirfd, uint32_t **nos, size_t *n);
/* Fill the 32-byte header of segment segno. */
void jseg_header(unsigned char *h, uint32_t segno, uint64_t next_mid,
		 uint32_t next_qid);
/* Write len zeros to fd at from: 0, or -1 (cut back to from). */
int jzero_fill(int fd, uint64_t from, uint64_t len);
/* Check a header: 0 (next ids in *mid, *qid) or -1. */
int jseg_header_check(const unsigned char *h, uint32_t segno, uint64_t *mid,
		      uint32_t *qid);
/* Create segment segno with its header (0600, O_EXCL): the fd, or -errno. */
int jseg_create(struct journal *j, uint32_t segno);
/* The index of segment segno in j->segs, or -1. */
ssize_t jseg_find(const struct journal *j, uint32_t segno);
/* Append a segment to j->segs: 0 or -ENOMEM. */
int jseg_push(struct journal *j, uint32_t segno, uint64_t size);
/* Make room for one more element in the array *arrp points to (n in use
 * of *cap, each size bytes), doubling from first: 0, or -ENOMEM with the
 * array and *cap untouched. arrp is the address of the array pointer. */
int jgrow(void *arrp, size_t n, size_t *cap, size_t size, size_t first);
/* Is a record of len body bytes at p (avail bytes there) whole and
 * valid? Its type, or 0. */
int jrec_check(const unsigned char *p, uint64_t avail);

/* journal.c */

/* Room for rec bytes of records at the end of the current segment (they
 * are counted as buffered; the caller fills them in): where they go, or
 * NULL with *rc (IPC_ENOSPC or -ENOMEM). put: keep the reserve free. */
unsigned char *jrec_reserve(struct journal *j, size_t rec, bool put,
			    uint32_t *seg, uint64_t *off, int *rc);
/* Append one record (header made here) from parts[0..n) (total len
 * bytes); put: keep the reserve free. 0 with its offset, or IPC_ENOSPC. */
int jrec_append(struct journal *j, unsigned type, const void *const *parts,
		const size_t *lens, size_t n, bool put, uint32_t *seg,
		uint64_t *off);
/* Append an existing record verbatim (compaction). 0 or IPC_ENOSPC. */
int jrec_copy(struct journal *j, const unsigned char *rec, size_t len,
	      uint32_t *seg, uint64_t *off);
/* Append the CONSUME record of the pending consumed mids, if any (every
 * other record, a flush and a wait do this first, so records keep their
 * order and a queue's consecutive consumes share one record). 0 or
 * IPC_ENOSPC (they stay pending for the next try). */
int journal_consume_emit(struct journal *j);
/* A record became dead: take its bytes off its segment's live count. */
void journal_dead(struct journal *j, const struct jloc *at);
/* A record is live at *at: add its bytes. */
void journal_alive(struct journal *j, const struct jloc *at);
/* The queue qid, or NULL (also when deleted). */
struct jqueue *journal_queue_find(const struct journal *j, uint32_t qid);
/* Add a queue: the new entry, or NULL on ENOMEM. */
struct jqueue *journal_queue_add(struct journal *j, const struct journal_queue *q);
/* Remove queue jq from the index (the last entry takes its place). */
void journal_queue_remove(struct journal *j, struct jqueue *jq);
/* Forget every message of queue qid (0: of every queue that is gone). */
void journal_drop_queue_msgs(struct journal *j, uint32_t qid);
/* Fail the waiters for records after lsn. */
void journal_fail_after(struct journal *j, uint64_t lsn);
/* The lsn waiters of this sync mode are complete up to. */
uint64_t journal_durable_lsn(const struct journal *j);
/* The lsn a segment's compaction copies must be durable up to before it
 * goes (written, with sync = none). */
static inline uint64_t journal_reap_lsn(const struct journal *j)
{
	return j->o.sync == JOURNAL_SYNC_NONE ? j->lsn_written : j->lsn_synced;
}
/* Delete the oldest segments that are dead and whose copies are durable. */
void journal_reap(struct journal *j);

/* journal_compact.c */

/* Drop compaction's mapping of segment segno (0: whatever it maps). */
void jcompact_forget(struct journal *j, uint32_t segno);

/* journal_sync.c */

/* Set up the sync state (and start the thread unless sync = none): 0 or -errno. */
int jsync_start(struct journal *j);
/* Stop the thread after a last sync and free the sync state. */
void jsync_stop(struct journal *j);
/* Tell the thread that everything up to lsn is written (the current
 * segment up to j->buf_off), and that replies wait for it up to want (0:
 * none new). true when this woke it. */
bool jsync_written(struct journal *j, uint64_t lsn, uint64_t want);
/* Before the loop reserves space or cuts the current segment: wait for a
 * fill the thread is doing, and see how far it got (j->alloc_end). */
void jsync_fill_lock(struct journal *j);
/* After: the thread goes on from j->alloc_end of j->fd. */
void jsync_fill_unlock(struct journal *j);
/* The current segment became fd; the old one (oldfd) goes to the thread
 * to be synced and closed (closed here with sync = none). */
void jsync_rotate(struct journal *j, int oldfd, int fd);
/* Ask the thread to fsync the directory with the next sync. */
void jsync_dir(struct journal *j);
/* Hand the thread the fd of a deleted segment to close (the last
 * reference: the kernel frees the file's pages and blocks then). */
void jsync_drop(struct journal *j, int fd);
/* Read what the thread did: synced lsn into j, and a failed sync's lsn
 * (0 if none). */
uint64_t jsync_poll(struct journal *j);
/* How often the thread has woken up from waiting so far, and how many
 * chunks of zeros it wrote (*fills). */
uint64_t jsync_wakeups(struct journal *j, uint64_t *fills, uint64_t *fill_syncs,
		       uint64_t *spin_hits);
/* journal_set_spin() for the thread. */
void jsync_set_spin(struct journal *j, unsigned us);

/* journal_replay.c */

/* Replay every segment of j->dirfd through r: 0, JOURNAL_E_CORRUPT or
 * -errno; fills rep. Leaves j->segs, msgs, queues and ids as found. */
int journal_replay(struct journal *j, const struct journal_replay *r,
		   struct journal_report *rep);

#endif
