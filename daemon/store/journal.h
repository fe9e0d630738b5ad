/* SPDX-License-Identifier: MIT */
/*
 * journal.h: the durable queues' append-only journal (daemon/store/).
 *
 * The journal is a directory of segment files (NNNNNNNN.seg, 0600; the
 * directory is created 0700) holding checksummed records: a queue's
 * settings, a queue deleted, a message put, messages consumed (a plain
 * get or an ack), messages delivered for acknowledgement. Queues are named in records by a queue id (qid) and
 * messages by a message id (mid), both given out by the journal. A
 * delivery awaiting an ack is ready again after a restart (counted as a
 * redelivery).
 *
 * It does the disk I/O of durability and nothing else: it knows no
 * sockets and no broker. The event loop appends records (buffered), calls
 * journal_flush() once per loop iteration (one write for every record of
 * the iteration), and parks replies with journal_wait(). A sync thread
 * runs fdatasync off the loop (sync = always: as soon as a parked reply
 * waits for a record, so records written meanwhile share the next one;
 * records no reply waits for ride along, or are synced interval after
 * they were written; interval: at most every interval) and signals
 * journal_fd(); the loop then calls journal_complete(), which completes
 * the parked replies.
 *
 * Recovery (journal_open) replays the segments in order and hands back
 * each live queue and then each live message, oldest first. A damaged
 * record with no valid record after it in its segment is a torn tail: it
 * is cut off and counted. A damaged record followed by valid ones is
 * corruption: opening fails with the file and offset, unless salvage is
 * set, which keeps everything before it (and renames the later segments
 * to NNNNNNNN.seg.discarded).
 *
 * Space: room for records is reserved in chunks (sync = always: by
 * writing zeros, so a sync has no metadata to commit, which the sync
 * thread does ahead of the records and syncs at once, the loop only when
 * it catches up; else fallocate),
 * so a full disk shows when a record is appended (IPC_ENOSPC; nothing is
 * buffered) rather than when it is written. Puts must leave `reserve`
 * bytes free, so consumes, acks and deletes still fit on a full disk.
 * Compaction (journal_compact) rewrites the live records of the oldest
 * segment into the current one when live data is under half the journal
 * and the journal is over compact_min (two segments by default: below
 * that, consumers usually empty the oldest segment before a copy would
 * pay), a bounded amount per call, and deletes a segment once nothing in
 * it is live and its copies are durable.
 *
 * Errors: 0 success; positive codes are outcomes (IPC_ENOSPC: the record
 * could not be stored; JOURNAL_E_CORRUPT at open); negative are -errno.
 */
#ifndef IPCD_JOURNAL_H
#define IPCD_JOURNAL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "ilist.h"
#include "ipc_defs.h"

/* journal_open(): a damaged record followed by valid ones (see above). */
#define JOURNAL_E_CORRUPT 1

/* When records reach stable storage. */
enum journal_sync {
	JOURNAL_SYNC_ALWAYS,    /* fdatasync before a waiter completes */
	JOURNAL_SYNC_INTERVAL,  /* waiters complete once written; fdatasync every interval */
	JOURNAL_SYNC_NONE,      /* written to the kernel, never synced */
};

struct journal_opts {
	const char *dir;             /* created 0700 (with parents) if missing */
	enum journal_sync sync;
	unsigned interval_ms;        /* INTERVAL: 0 means 100; ALWAYS: how long
					records no reply waits for may stay
					unsynced */
	uint64_t segment_max;        /* rotate past this size; 0: 64 MiB */
	uint64_t prealloc;           /* fallocate chunk; 0: 1 MiB */
	uint64_t reserve;            /* kept free by puts; 0: 64 KiB */
	uint64_t compact_min;        /* no compaction below; 0: 2 segment_max */
	bool salvage;                /* keep the prefix of a corrupt journal */
};

/* A durable queue as journaled. */
struct journal_queue {
	uint32_t qid;                /* given by journal_queue_set() */
	uint32_t mode;
	uint32_t uid, gid;
	uint64_t maxsize;            /* 0 = unbounded */
	char name[IPC_NAME_MAX + 1];
	uint32_t max_deliveries;     /* dead-lettering: 0 = off */
	char dead_letter[IPC_NAME_MAX + 1]; /* its target, "" when off */
};

/* A live message handed back by recovery. */
struct journal_msg {
	uint32_t qid;
	uint64_t mid;
	const void *data;            /* valid during the callback only */
	size_t len;
	bool delivered;              /* it was delivered for acknowledgement
					and not acked: a redelivery now */
	uint32_t deliveries;         /* how often (up to 65535) */
};

/* What recovery hands back: every live queue, then every live message in
 * the order it was put (mid order). A nonzero return stops recovery and
 * becomes journal_open's result. */
struct journal_replay {
	int (*queue)(void *arg, const struct journal_queue *q);
	int (*message)(void *arg, const struct journal_msg *m);
	void *arg;
};

/* What recovery found; error is the reason when journal_open fails. */
struct journal_report {
	unsigned segments;           /* segment files read */
	uint64_t bytes;              /* journal bytes read */
	uint64_t records;            /* valid records replayed */
	uint64_t queues, messages;   /* live ones handed back */
	uint64_t torn_bytes;         /* cut off as torn tails */
	uint64_t salvaged_bytes;     /* dropped by salvage */
	char error[512];
};

/* Counters for stat and tests. */
struct journal_stats {
	uint64_t bytes;              /* journal size (all segments) */
	uint64_t live_bytes;         /* records still needed */
	unsigned segments;
	uint64_t syncs;              /* fdatasync rounds completed */
	uint64_t sync_wakeups;       /* times the sync thread woke up */
	uint64_t sync_ns;            /* time they took, in all (ns) */
	uint64_t sync_ns_max;        /* the longest one (ns) */
	uint64_t written;            /* bytes written since open */
	uint64_t synced;             /* of which known to be on stable storage */
	uint64_t fills;              /* chunks of zeros the sync thread wrote
					ahead (sync = always) */
	uint64_t fill_syncs;         /* of the thread's: synced at once, not
					with the next round */
	uint64_t loop_fills;         /* and the loop, when it caught up */
	uint64_t spin_hits;          /* writes a reply waits for that the
					thread caught polling after a round
					(journal_set_spin) */
	uint64_t closes_off_loop;    /* sync = none: deleted segments whose
					last close a short thread made */
};

/* A parked reply: done(w, status) is called once every record appended
 * before journal_wait() is durable as the sync mode promises (status 0),
 * or could not be stored (IPC_ENOSPC). Never called inside journal_wait. */
struct journal_waiter {
	struct ilist link;          /* in the journal's waiters, oldest first */
	uint64_t lsn;
	void (*done)(struct journal_waiter *w, int status);
};

struct journal;

/* Open (or create) the journal in o->dir, replay it through r (may be
 * NULL) and make it ready to append. 0 with *jp, JOURNAL_E_CORRUPT, or
 * -errno; rep (may be NULL) says what was found and, on failure, why. */
int journal_open(const struct journal_opts *o, const struct journal_replay *r,
		 struct journal **jp, struct journal_report *rep);
/* 1 when dir holds journal segments, else 0 (also when it is missing). */
int journal_exists(const char *dir);
/* Write and sync what is pending, stop the sync thread, complete every
 * waiter and free j (NULL is fine). */
void journal_close(struct journal *j);

/* Journal a queue's settings: a new queue when q->qid is 0 (q->qid is set),
 * else new settings of queue q->qid. 0 or IPC_ENOSPC. */
int journal_queue_set(struct journal *j, struct journal_queue *q);
/* Journal that queue qid was deleted, with all its messages. 0 or
 * IPC_ENOSPC. */
int journal_queue_delete(struct journal *j, uint32_t qid);
/* Journal a message put into queue qid: 0 with *mid, or IPC_ENOSPC
 * (nothing journaled). */
int journal_put(struct journal *j, uint32_t qid, const void *data, size_t len,
		uint64_t *mid);
/* Journal messages msgs[0..n) put into queue qid (a batch: their records
 * are built together): 0 with mids[0..n); else *done of them, a prefix,
 * were journaled (with their mids) and the rest not: IPC_ENOSPC, or
 * -EINVAL / -ENOMEM with none journaled. */
struct iovec;
int journal_put_many(struct journal *j, uint32_t qid, const struct iovec *msgs,
		     size_t n, uint64_t *mids, size_t *done);
/* Journal that messages mids[0..n) of queue qid were consumed (got or
 * acked) for good; unknown mids are skipped. 0 or IPC_ENOSPC. */
int journal_consume(struct journal *j, uint32_t qid, const uint64_t *mids,
		    size_t n);

/* Journal that message mid was consumed, whatever its queue (a put that
 * never entered its queue); unknown mids are skipped. 0 or IPC_ENOSPC. */
int journal_forget(struct journal *j, uint64_t mid);
/* Journal that messages mids[0..n) of queue qid were delivered for
 * acknowledgement (so recovery counts them as redelivered, and how often:
 * a mid may come several times, each a delivery); unknown mids are
 * skipped. 0 or IPC_ENOSPC. */
int journal_deliver(struct journal *j, uint32_t qid, const uint64_t *mids,
		    size_t n);

/* Write the buffered records (one write) and complete the waiters this
 * makes done; once per loop iteration. 0 or IPC_ENOSPC (the buffered
 * records are dropped and their waiters fail). */
int journal_flush(struct journal *j);
/* Are records appended and not written yet (journal_flush writes them)? */
bool journal_buffered(const struct journal *j);
/* Park w until the records appended so far are durable (see above). */
void journal_wait(struct journal *j, struct journal_waiter *w);
/* Take w back without completing it (its client went away). */
void journal_unwait(struct journal *j, struct journal_waiter *w);
/* The descriptor to watch for reading (an eventfd the sync thread
 * signals), or -1 with sync = none. */
int journal_fd(const struct journal *j);
/* The sync thread signalled: complete the waiters now durable, delete
 * segments whose copies are durable. */
void journal_complete(struct journal *j);
/* Do at most budget bytes of compaction; true while more is due. */
bool journal_compact(struct journal *j, size_t budget);
/* Fill *st. */
void journal_stats(struct journal *j, struct journal_stats *st);
/* How long the sync rounds that journal_complete() last saw end took, on
 * average, in microseconds (0 before any, or under a microsecond). */
unsigned journal_round_us(const struct journal *j);
/* With sync = always, after a round that synced records a reply waited
 * for, the sync thread polls up to us microseconds for the next such
 * write before it sleeps (0, the default: it sleeps at once); after 8
 * such polls in a row found nothing it polls again only once a write
 * comes that soon while it sleeps (the loop's rule, busypoll.h). */
void journal_set_spin(struct journal *j, unsigned us);

#endif
