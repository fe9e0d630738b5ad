/* SPDX-License-Identifier: MIT */
/*
 * durable.h: durable queues in the daemon: the journal (daemon/store/)
 * tied to the broker and the event loop. Non-durable queues never reach
 * this code's disk I/O: each call below returns at once for them.
 *
 * - A durable put is journaled before its message enters the queue (a
 *   full disk refuses it with IPC_ENOSPC, nothing enqueued); a journaled
 *   message that then does not enter (Full, a parked put that times out or
 *   is cancelled) is journaled as consumed again (durable_drop).
 * - The queue's hooks journal every message leaving it for good (get, ack)
 *   and every delivery for acknowledgement.
 * - The reply to a durable put is held (durable_reply) until its record is
 *   written (sync = interval, none) or synced (always); the records of one
 *   loop iteration are written together at its end, and one fdatasync of
 *   the sync thread covers all written meanwhile.
 */
#ifndef IPCD_DURABLE_H
#define IPCD_DURABLE_H

#include <stdint.h>

struct conn;
struct proto_rep;
struct qmsg;
struct queue;
struct server;

/* Recover the journal in the state directory into the broker when there
 * is one (a corrupt one refuses, naming file and offset). 0 or -1
 * (logged). */
int durable_init(struct server *s);
/* Shutting down: write and sync the journal, answer every held reply. */
void durable_drain(struct server *s);
/* Close the journal (after the broker is gone). */
void durable_fini(struct server *s);

/* q was just created by a QOPEN with DURABLE: journal it (opening the
 * journal on first use). 0, IPC_ENODURABLE or IPC_ENOSPC. */
int durable_create(struct server *s, struct queue *q);
/* The detail text of durable_create's IPC_ENODURABLE: state-dir empty,
 * or the journal's open error (a static buffer, valid until the next call). */
const char *durable_off_reason(const struct server *s);
/* Journal the new owner and mode (CHMOD, CHOWN) of durable queue q: 0,
 * IPC_ENODURABLE or IPC_ENOSPC. */
int durable_settings(struct server *s, struct queue *q);
/* q is about to be deleted: 0 (also when not durable) or IPC_ENOSPC. */
int durable_delete(struct server *s, struct queue *q);
/* m is about to be put into q: journal it (m->jid). 0 (also when q is
 * not durable) or IPC_ENOSPC. */
int durable_put(struct server *s, struct queue *q, struct qmsg *m);
/* msgs[0..n) are about to be put into q: journal them (their jid) up to
 * the first that cannot be (*rc IPC_ENOSPC or IPC_ETOOBIG; else 0): how
 * many were (all when q is not durable). */
size_t durable_put_many(struct server *s, struct queue *q, struct qmsg **msgs,
			size_t n, int *rc);
/* A journaled message did not enter its queue after all (NULL is fine). */
void durable_drop(struct server *s, struct qmsg *m);
/* The journaled message of id jid (its m->jid; 0 is fine) left its queue
 * for good: a message moved to a dead-letter queue. */
void durable_forget(struct server *s, uint64_t jid);
/* Write the records of this loop iteration now (conn.c calls it before
 * writing replies, so no reply ever goes out ahead of the records it
 * reports: a get or an ack is never lost to a kill -9 once answered). */
void durable_flush(struct server *s);
/* Reply rep to c, held until the journal has what came before when
 * durable is set and rep succeeded; else now. */
void durable_reply(struct conn *c, const struct proto_rep *rep, int durable);
/* The journal's size and live bytes (0 and 0 without one). */
void durable_journal_size(struct server *s, uint64_t *bytes, uint64_t *live);
/* The journal's figures into *st: 1 with a journal open, else 0 (st
 * zeroed). */
struct journal_stats;
int durable_stats(struct server *s, struct journal_stats *st);
/* 0 when no reply waits for a sync, else about how many microseconds
 * the recent syncs took (at least 1). */
unsigned durable_sync_wait_us(const struct server *s);
/* Take the reloadable settings of s->cfg (busy-poll). */
void durable_apply(struct server *s);
/* c is gone: forget its held replies. */
void durable_conn_gone(struct server *s, struct conn *c);

#endif
