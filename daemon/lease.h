/* SPDX-License-Identifier: MIT */
/*
 * lease.h: a message delivered with acknowledgement (QGETA), in flight and
 * owned by the connection that took it until that connection acks it
 * (QACK). If the connection goes away first, or the optional lease time
 * runs out, the message goes back to the head of its queue and is
 * delivered again. Every path that starts a lease also ends it: ack, the
 * lease timer, disconnect (lease_release_all) and the queue's deletion
 * (the queue calls h.drop).
 */
#ifndef IPCD_LEASE_H
#define IPCD_LEASE_H

#include <stdint.h>
#include "ptimer.h"

#include "queue.h"

struct conn;

struct lease {
	struct qheld h;             /* what the queue links while in flight */
	struct ilist link;          /* in the connection's list, oldest first */
	struct conn *conn;
	struct server *srv;         /* whose max-bytes counts it (LEASE_COST) */
	int64_t lease_ms;           /* 0: until ack or disconnect */
	struct ptimer timer;        /* pending while in flight with lease_ms > 0 */
	uint64_t hold_due;          /* when its hold ran out (ns), once armed */
	struct ilist slot_link;     /* a hold counted in a word of its
				       connection's hold page: in its
				       slot_holds[slot], in batch order */
	/* The small fields last, packed: 184 bytes in all, which LEASE_COST
	 * rounds to 192 as before the hold page. */
	int charged;                /* counted: it went in flight */
	int hold;                   /* read ahead (QGETH): not handed out yet */
	int hold_paused;            /* its hold ran out while ipcd did not read
				       the holder (paused): looked at again
				       when it reads it (lease_resume) */
	uint16_t slot;              /* that word (< PROTO_HOLD_SLOTS; 0: none) */
	uint16_t idx;               /* its place in that batch (< IPC_BATCH_MAX) */
};

/* A lease record for c, not in flight yet (give &l->h to queue_get_held
 * or to a parked getter's w.held). NULL on ENOMEM, or when c is closed
 * (an ack made while serving its request may close it). */
struct lease *lease_new(struct conn *c, int64_t lease_ms);
/* l->h has just gone in flight: link it to its connection and start the
 * lease timer. */
void lease_start(struct lease *l);
/* Free a record that is not in flight (a get that found nothing, a parked
 * get that timed out or was cancelled). */
void lease_free(struct lease *l);
/* QACK tag on queue q for c: 0 (the message is done), or IPC_ENOTHELD when
 * c holds no message of q under that tag. */
int lease_ack(struct conn *c, struct queue *q, uint64_t tag);
/* QRELEASE tag on queue q for c: the message goes back to the head of q
 * now (delay_ms 0) or once delay_ms ran out, meanwhile in flight and held
 * by no connection. 0, or IPC_ENOTHELD when c holds no message of q under
 * that tag. */
int lease_release(struct conn *c, struct queue *q, uint64_t tag, int64_t delay_ms);
/* c is going away: every message it holds goes back to its queue. */
void lease_release_all(struct conn *c);
/* Does c hold messages read ahead by QGETH (not handed out yet)? */
int lease_holds_read_ahead(const struct conn *c);

/*
 * Read-ahead that still counts toward maxsize (QGETH, QDONE): each
 * message a QGETH takes is in flight under a hold lease (l->hold) until
 * QDONE says the consumer handed it out (then it is acked and gone) or
 * gives it back. A hold with a time limit (lease_ms > 0) runs out only
 * once the connection's input is all served, so a QDONE written before
 * the time is up is never overtaken; then the connection's holds on that
 * queue that are due go back to the head, in order, not counted as
 * deliveries.
 */
/* Has a connection that holds messages of q read ahead (QGETH) input
 * not served yet, which may be the QDONE that frees a slot? */
int lease_holds_unsettled(const struct queue *q);
/* ipcd reads c again (it was paused): holds that ran out meanwhile are
 * looked at (given back once its input is served). */
void lease_resume(struct conn *c);
/* QDONE with ack: the consumer handed the message tagged tag out; it is
 * done with (ignored when c holds no such message by QGETH: a QGETA
 * delivery is acked by QACK only). */
void lease_done(struct conn *c, struct queue *q, uint64_t tag);
/* QDONE without ack: the messages c holds on q by QGETH under tag and
 * later ones go back to the head of q, in order. */
void lease_give_back(struct conn *c, struct queue *q, uint64_t tag);

/*
 * The hold page (QHOLDS): a client that shares one counts what it hands
 * out of a batch held in slot s in word s of the page, with no QDONE
 * unless the word says WANT. Its holds stay in flight here until the
 * daemon looks (lease_settle, the next QGETH in that slot, a give-back,
 * the hold running out, the connection closing); whoever needs the room
 * of a full queue looks first, so Full stays exact.
 */
/* Take fd, a memfd of PROTO_HOLD_PAGE bytes sealed against shrinking, as
 * c's hold page (closed here in any case): 0, IPC_EINVAL (not such a
 * memfd, or c has one) or IPC_ENOMEM. */
int lease_page_take(struct conn *c, int fd);
/* Unmap c's hold page (c is freed). */
void lease_page_free(struct conn *c);
/* A QGETH of c in slot s takes a new batch on q: the one held there
 * before is settled (what was not handed out of it stays held as plain
 * holds, given back by QDONE, the hold running out or the close; a
 * client fetches only once it handed out or dropped the batch), and the
 * word starts again, with WANT when putters wait on q. */
void lease_slot_begin(struct conn *c, struct queue *q, uint32_t s);
/* Ack the holds on q that their clients' pages say were handed out; with
 * want, also ask those clients to say each further hand-out (a put is
 * about to wait for room). How many were acked. */
size_t lease_settle(struct queue *q, int want);
/* Offer msgs[0..n) to q as queue_put_batch does; when q is full, once
 * more for the rest after lease_settle(q, want) acked some: the one way
 * a put, and a message moved to a dead-letter queue, find room. 0 or
 * IPC_EFULL, with *taken as there. */
int lease_put_batch(struct queue *q, struct qmsg **msgs, size_t n,
		    size_t *taken, int want);
/* lease_put_batch of one message: 0 or IPC_EFULL (m is still the
 * caller's). */
int lease_put(struct queue *q, struct qmsg *m, int want);

#endif
