/* SPDX-License-Identifier: MIT */
/* lease.c: messages in flight, owned by a connection until acked. */
#include <fcntl.h>
#include <stdlib.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>
#include <event2/event.h>

#include "conn.h"
#include "ipc_defs.h"
#include "lease.h"
#include "log.h"
#include "proto.h"
#include "qmsg.h"
#include "queue.h"
#include "server.h"
#include "tagmap.h"

/* What a message in flight costs on top of its own footprint, as
 * max-bytes counts it: its record with malloc's size word, rounded up to
 * 16, and up to 4 slots of its queue's tag index (at most half full). */
#define LEASE_COST (((sizeof(struct lease) + 8 + 15) & ~(size_t)15) + \
		    4 * sizeof(struct tagmap_slot))

/* Free record l and stop counting it. */
static void lease_dispose(struct lease *l)
{
	if (l->charged)
		l->srv->broker.shell_bytes -= LEASE_COST;
	free(l);
}

/* Stop l's timer and unlink it from its connection's leases (and its
 * slot's holds): l. */
static struct lease *lease_detach(struct lease *l)
{
	ptimer_del(&l->srv->timers, &l->timer);
	ilist_unlink(&l->link);
	ilist_unlink(&l->slot_link);
	return l;
}

/* Free a record that is not in flight. */
void lease_free(struct lease *l)
{
	lease_dispose(lease_detach(l));
}

/* The queue was deleted with l in flight: the message is gone with it. */
static void lease_drop(struct qheld *h)
{
	lease_free(container_of(h, struct lease, h));
}

static void lease_hold_expire(struct lease *l);

/* The lease ran out before the ack: the message goes back. */
static void lease_expire(struct ptimer *t)
{
	struct lease *l = container_of(t, struct lease, timer);

	if (l->hold && l->conn != NULL) {
		lease_hold_expire(l);
		return;
	}
	if (l->conn != NULL)
		log_debug("conn %lu: lease of tag %llu on %s ran out", l->conn->id,
			  (unsigned long long)l->h.tag, queue_name(l->h.queue));
	/* Unlinked from the connection first: the requeue may hand the
	 * message to a getter whose reply fails and closes this connection. */
	ilist_unlink(&l->link);
	ilist_unlink(&l->slot_link);
	queue_requeue(&l->h);
	lease_dispose(l);
}

/* Arm l's timer to put its message back in ms. */
static void lease_arm(struct lease *l, int64_t ms)
{
	if (ptimer_add(&l->srv->timers, &l->timer, ms) != 0)
		log_warn("out of memory: a lease of tag %llu will not run out",
			 (unsigned long long)l->h.tag);
}

/* A lease record for c, not in flight yet. */
struct lease *lease_new(struct conn *c, int64_t lease_ms)
{
	struct lease *l;

	/* c closed while its request was served (an ack it made admitted a
	 * putter whose reply failed, its own): nothing would give it back. */
	if (c->state == CONN_DEAD)
		return NULL;
	if ((l = calloc(1, sizeof *l)) == NULL)
		return NULL;
	l->srv = c->srv;
	l->conn = c;
	l->lease_ms = lease_ms;
	ptimer_setup(&l->timer, lease_expire);
	/* One counter per daemon: a tag never names another delivery, even
	 * of a queue deleted and made again under the same name. */
	l->h.tag = ++c->srv->broker.last_tag;
	l->h.owner = c;
	l->h.drop = lease_drop;
	return l;
}

/* l->h is in flight: link it to its connection, start the timer. */
void lease_start(struct lease *l)
{
	struct conn *c = l->conn;

	/* Counted while in flight only: parked acking gets are bounded as
	 * parks, and must not take the room of messages. */
	l->charged = 1;
	c->srv->broker.shell_bytes += LEASE_COST;
	ilist_link_tail(&c->leases, &l->link);
	if (l->slot != 0)   /* in batch order: started in it (qgeth_reply) */
		ilist_link_tail(&c->slot_holds[l->slot], &l->slot_link);
	if (l->lease_ms > 0)
		lease_arm(l, l->lease_ms);
	l->hold_due = l->timer.due_ns;
}

/* The lease of c's delivery tag in q, or NULL. */
static struct lease *lease_find(struct conn *c, struct queue *q, uint64_t tag)
{
	struct qheld *h = queue_held_find(q, tag, c);

	return h ? container_of(h, struct lease, h) : NULL;
}

/* The lease of c's delivery tag in q, its timer stopped and unlinked from
 * c's leases; NULL when c holds no such delivery. */
static struct lease *lease_take(struct conn *c, struct queue *q, uint64_t tag)
{
	struct lease *l = lease_find(c, q, tag);

	return l ? lease_detach(l) : NULL;
}

/* A late consumer asked (QACK) for a held message: the holds c has left
 * on q (one batch) run from now again. */
static void lease_hold_renew(struct conn *c, struct queue *q)
{
	struct ilist *n;
	struct lease *l;
	uint64_t due = 0;

	for (n = ilist_first(&c->leases); n != NULL; n = ilist_next(&c->leases, n)) {
		l = container_of(n, struct lease, link);
		if (l->hold && l->h.queue == q && ptimer_pending(&l->timer)) {
			lease_arm(l, l->lease_ms);
			due = l->timer.due_ns;
		}
	}
	for (n = ilist_first(&c->leases); due != 0 && n != NULL; n = ilist_next(&c->leases, n)) {
		l = container_of(n, struct lease, link);
		if (l->hold && l->h.queue == q)
			l->hold_due = due;
	}
}

/* QACK: the consumer is done with the message tagged tag. */
int lease_ack(struct conn *c, struct queue *q, uint64_t tag)
{
	struct lease *l = lease_take(c, q, tag);

	if (l == NULL) { /* a QDONE may have acked it: a client unsure asks */
		if (tag == 0 || tag != c->done_tag)
			return IPC_ENOTHELD;
		lease_hold_renew(c, q);
		return 0;
	}
	queue_ack(&l->h);
	if (l->hold)
		lease_hold_renew(c, q);
	lease_dispose(l);
	return 0;
}

/* Word s of c's hold page, or NULL (no page, or no such slot). */
static uint64_t *lease_word(const struct conn *c, uint32_t s)
{
	if (c == NULL || c->hold_page == NULL || s == 0 || s >= PROTO_HOLD_SLOTS)
		return NULL;
	return &c->hold_page[s];
}

/* Read word w, setting bits in it (an atomic or, only when some are not
 * set yet): the word as it was. */
static uint64_t lease_word_get(uint64_t *w, uint64_t bits)
{
	uint64_t v = __atomic_load_n(w, __ATOMIC_SEQ_CST);

	if ((v & bits) != bits)
		v = __atomic_fetch_or(w, bits, __ATOMIC_SEQ_CST);
	return v;
}

/* Does word value v count hold l (place l->idx of its batch) as handed
 * out? */
static int lease_counted(const struct lease *l, uint64_t v)
{
	return (v & PROTO_HOLD_COUNT) > l->idx;
}

/* Move hold l, counted as handed out, from its connection onto done. */
static void lease_due(struct ilist *done, struct lease *l)
{
	lease_detach(l);
	ilist_link_tail(done, &l->link);
}

/* Ack the holds on done (lease_due): each was handed out. How many.
 * Taken off done one at a time: an ack may admit a putter whose reply
 * fails and closes a connection (whose lease_release_all does not see
 * done), and a hold whose queue went meanwhile left done (lease_drop). */
static size_t lease_ack_due(struct ilist *done)
{
	struct ilist *n;
	struct lease *l;
	size_t acked = 0;

	while ((n = ilist_pop(done)) != NULL) {
		l = container_of(n, struct lease, link);
		l->conn->done_tag = l->h.tag;
		queue_ack(&l->h);
		lease_dispose(l);
		acked++;
	}
	return acked;
}

/* Read word s of c's hold page, setting bits in it, and ack the holds of
 * the slot it counts as handed out; with REVOKED in bits, the slot's
 * holds left become plain ones (to be given back). The word as it was
 * (0 without a page). O(the slot's holds): they are on c->slot_holds[s],
 * in their batch's order. */
static uint64_t lease_slot_settle(struct conn *c, uint32_t s, uint64_t bits)
{
	uint64_t *w = lease_word(c, s), v;
	struct ilist done, *n;
	struct lease *l;

	if (w == NULL)
		return 0;
	ilist_init(&done);
	v = lease_word_get(w, bits);
	while ((n = ilist_first(&c->slot_holds[s])) != NULL) {
		l = container_of(n, struct lease, slot_link);
		if (lease_counted(l, v)) {
			lease_due(&done, l);
		} else if (bits & PROTO_HOLD_REVOKED) {
			ilist_unlink(&l->slot_link);
			l->slot = 0;
		} else {
			break;
		}
	}
	lease_ack_due(&done);
	return v;
}

/* Close slot s of c: what it handed out is acked, and the client hands
 * out nothing more of the batch (REVOKED); the holds left are plain
 * ones, to be given back. */
static void lease_slot_close(struct conn *c, uint32_t s)
{
	lease_slot_settle(c, s, PROTO_HOLD_REVOKED);
}

/* Close every slot of c holding messages of q (NULL: of any queue).
 * O(the slots, PROTO_HOLD_SLOTS, and their holds). */
static void lease_slots_close(struct conn *c, const struct queue *q)
{
	struct lease *l;
	uint32_t s;

	for (s = 1; c->hold_page != NULL && s < PROTO_HOLD_SLOTS; s++) {
		l = ilist_first_entry(&c->slot_holds[s], struct lease, slot_link);
		if (l != NULL && (q == NULL || l->h.queue == q))
			lease_slot_close(c, s);
	}
}

/* Take c's hold page; see lease.h. */
int lease_page_take(struct conn *c, int fd)
{
	struct stat st;
	int seals = fd >= 0 ? fcntl(fd, F_GET_SEALS) : -1;
	void *p = MAP_FAILED;
	uint32_t s;

	/* Sealed against shrinking: the client can never cut the page from
	 * under the daemon's mapping (SIGBUS). */
	if (c->hold_page == NULL && seals >= 0 && (seals & F_SEAL_SHRINK) &&
	    fstat(fd, &st) == 0 && S_ISREG(st.st_mode) &&
	    st.st_size == (off_t)PROTO_HOLD_PAGE)
		p = mmap(NULL, PROTO_HOLD_PAGE, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
	if (fd >= 0)
		close(fd);
	if (p == MAP_FAILED)
		return IPC_EINVAL;
	c->slot_holds = malloc(PROTO_HOLD_SLOTS * sizeof *c->slot_holds);
	if (c->slot_holds == NULL) {
		munmap(p, PROTO_HOLD_PAGE);
		return IPC_ENOMEM;
	}
	for (s = 0; s < PROTO_HOLD_SLOTS; s++)
		ilist_init(&c->slot_holds[s]);
	c->hold_page = p;
	return 0;
}

/* Unmap c's hold page. */
void lease_page_free(struct conn *c)
{
	if (c->hold_page != NULL)
		munmap(c->hold_page, PROTO_HOLD_PAGE);
	c->hold_page = NULL;
	free(c->slot_holds);
	c->slot_holds = NULL;
}

/* A QGETH of c in slot s begins a batch on q; see lease.h. */
void lease_slot_begin(struct conn *c, struct queue *q, uint32_t s)
{
	uint64_t *w = lease_word(c, s);
	struct queue_stats st;

	if (w == NULL)
		return;
	lease_slot_close(c, s);
	queue_stats(q, &st);
	__atomic_store_n(w, st.putters ? PROTO_HOLD_WANT : 0, __ATOMIC_SEQ_CST);
}

/* What lease_settle gathers: the holds counted as handed out, and the
 * bits to set in the words it reads. */
struct lease_sweep {
	struct ilist done;
	uint64_t bits;
};

/* Hold h's word, read (setting the sweep's bits), counts it as handed
 * out: it goes on the sweep's done list. Never stops the walk. */
static int lease_sweep_one(const struct qheld *h, void *arg)
{
	struct lease *l = container_of(h, struct lease, h);
	struct lease_sweep *sw = arg;
	uint64_t *w = l->hold ? lease_word(l->conn, l->slot) : NULL;

	if (w != NULL && lease_counted(l, lease_word_get(w, sw->bits)))
		lease_due(&sw->done, l);
	return 0;
}

/* Ack what the hold pages say was handed out of q; see lease.h. One walk
 * of q's holds, each word read per hold (a batch's later holds see the
 * bits its first set): O(the holds of q), whatever the clients write in
 * their pages meanwhile. The holds are acked after the walk, which
 * unlinks nothing from q. */
size_t lease_settle(struct queue *q, int want)
{
	struct lease_sweep sw = { .bits = want ? PROTO_HOLD_WANT : 0 };

	ilist_init(&sw.done);
	queue_ahead_any(q, lease_sweep_one, &sw);
	return lease_ack_due(&sw.done);
}

/* Offer msgs to q, settling its hold pages when it is full; see
 * lease.h. */
int lease_put_batch(struct queue *q, struct qmsg **msgs, size_t n,
		    size_t *taken, int want)
{
	int rc = queue_put_batch(q, msgs, n, taken);
	size_t more;

	if (rc == IPC_EFULL && lease_settle(q, want) > 0) {
		rc = queue_put_batch(q, msgs + *taken, n - *taken, &more);
		*taken += more;
	}
	return rc;
}

/* Offer m to q, settling its hold pages when it is full. */
int lease_put(struct queue *q, struct qmsg *m, int want)
{
	size_t taken;

	return lease_put_batch(q, &m, 1, &taken, want);
}

/* QRELEASE: the consumer gives the message tagged tag back, now or after
 * delay_ms. Delayed, it stays in flight but is no one's: its connection
 * may go, nobody may ack it, and the timer puts it back. */
int lease_release(struct conn *c, struct queue *q, uint64_t tag, int64_t delay_ms)
{
	struct lease *l = lease_take(c, q, tag);

	if (l == NULL)
		return IPC_ENOTHELD;
	l->hold = 0; /* handed out or not, given back by the consumer */
	l->slot = 0; /* (off its slot's holds: lease_take) */
	if (delay_ms == 0) {
		queue_requeue(&l->h);
		lease_dispose(l);
		return 0;
	}
	l->h.owner = NULL;
	l->conn = NULL;
	lease_arm(l, delay_ms);
	return 0;
}

/* Stop l's timer, unlink it and put its message back. One read ahead
 * and never handed out was not delivered: its count goes back. */
static void lease_return(struct lease *l)
{
	lease_detach(l);
	if (l->hold && l->h.msg->deliveries > 0)
		l->h.msg->deliveries--;
	queue_requeue(&l->h);
	lease_dispose(l);
}

/* Does l's queue have getters parked (so a requeue hands the message on)? */
static int lease_queue_waited_on(const struct lease *l)
{
	struct queue_stats st;

	queue_stats(l->h.queue, &st);
	return st.getters > st.stalled; /* stalled ones are handed nothing */
}

/* Which leases lease_return_some gives back: every one (q NULL), or the
 * holds on q from tag_min on that are due by due_max (0: any). */
struct lease_sel {
	struct queue *q;
	uint64_t tag_min;
	uint64_t due_max;
};

/* Is l one of those s selects? */
static int lease_selected(const struct lease *l, const struct lease_sel *s)
{
	if (s->q == NULL)
		return 1;
	return l->hold && l->h.queue == s->q && l->h.tag >= s->tag_min &&
	       (s->due_max == 0 || l->hold_due <= s->due_max);
}

/* The oldest (newest, when last) lease of c that s selects and, when
 * waited, whose queue has getters parked; or NULL. Searched afresh each
 * time: a message handed on may close a connection, c included. */
static struct lease *lease_pick(struct conn *c, const struct lease_sel *s,
				int last, int waited)
{
	struct ilist *n;
	struct lease *l;

	n = last ? ilist_last(&c->leases) : ilist_first(&c->leases);
	for (; n != NULL; n = last ? ilist_prev(&c->leases, n) : ilist_next(&c->leases, n)) {
		l = container_of(n, struct lease, link);
		if (lease_selected(l, s) && (!waited || lease_queue_waited_on(l)))
			return l;
	}
	return NULL;
}

/* Give back the messages c holds that s selects. Messages that parked
 * getters will take go first, oldest first, so the longest-waiting getter
 * gets the oldest message; the rest then newest first, each to the head of
 * its queue, so the oldest ends up at the head. */
static void lease_return_some(struct conn *c, const struct lease_sel *s)
{
	struct lease *l;

	while ((l = lease_pick(c, s, 0, 1)) != NULL)
		lease_return(l);
	while ((l = lease_pick(c, s, 1, 0)) != NULL)
		lease_return(l);
}

/* c is going away: every message it holds goes back. */
void lease_release_all(struct conn *c)
{
	struct lease_sel all = { NULL, 0, 0 };

	/* What its page counts as handed out is delivered, not given back. */
	lease_slots_close(c, NULL);

	lease_return_some(c, &all);
}

/* Does c hold messages read ahead by QGETH? */
int lease_holds_read_ahead(const struct conn *c)
{
	const struct ilist *n;

	for (n = ilist_first(&c->leases); n != NULL; n = ilist_next(&c->leases, n))
		if (container_of(n, const struct lease, link)->hold)
			return 1;
	return 0;
}

/* A hold ran out: while no getter waits on the queue it is kept (checked
 * again a hold later); else once c's input is all served (a QDONE
 * written in time is then seen), c's holds on that queue due by now go
 * back. A holder ipcd does not read (paused) serves nothing until it
 * reads its replies: looked at again then (lease_resume), not polled. */
static void lease_hold_expire(struct lease *l)
{
	struct lease_sel due = { l->h.queue, 0, l->hold_due };
	struct conn *c = l->conn;
	uint32_t s = l->slot, idx = l->idx;

	/* l, the batch's last, counted as handed out: the batch is done.
	 * Else l is freed only if an ack closed c (a reply of its own
	 * failed): its leases went back. */
	if (s && (lease_slot_settle(c, s, 0) & PROTO_HOLD_COUNT) > idx)
		return;
	if (c->state == CONN_DEAD || c->state == CONN_CLOSING)
		return;
	if (!lease_queue_waited_on(l)) {
		lease_arm(l, l->lease_ms);
		return;
	}
	if (l->conn->paused) {
		l->hold_paused = 1;
		return;
	}
	if (conn_input_pending(l->conn)) {
		lease_arm(l, 1);
		return;
	}
	if (s)   /* may ack l: only c and due are used after it */
		lease_slot_close(c, s);
	lease_return_some(c, &due);
}

/* ipcd reads c again; see lease.h. */
void lease_resume(struct conn *c)
{
	struct ilist *n;
	struct lease *l;

	for (n = ilist_first(&c->leases); n != NULL; n = ilist_next(&c->leases, n)) {
		l = container_of(n, struct lease, link);
		if (l->hold_paused && !ptimer_pending(&l->timer)) {
			l->hold_paused = 0;
			lease_arm(l, 1);
		}
	}
}

/* Is h held by QGETH for a connection with input not served yet, that
 * ipcd reads (a paused one serves nothing until it reads its replies,
 * which may be never)? *last is the connection checked last (its holds
 * come in runs): skipped. */
static int lease_hold_unsettled(const struct qheld *h, void *last)
{
	const struct lease *l = container_of(h, struct lease, h);
	const struct conn **seen = last;

	if (!l->hold || l->conn == NULL || l->conn == *seen)
		return 0;
	*seen = l->conn;
	return !l->conn->paused && conn_input_pending(l->conn);
}

/* Does a holder of q's read-ahead have input not served yet? */
int lease_holds_unsettled(const struct queue *q)
{
	const struct conn *seen = NULL;

	return queue_ahead_any(q, lease_hold_unsettled, &seen);
}

/* QDONE with ack: the consumer handed the held message out. A QGETA
 * delivery of c is no hold: only its QACK acks it. */
void lease_done(struct conn *c, struct queue *q, uint64_t tag)
{
	struct lease *l = lease_find(c, q, tag);

	if (l == NULL || !l->hold)
		return;
	lease_detach(l);
	c->done_tag = tag;
	queue_ack(&l->h);
	lease_dispose(l);
}

/* QDONE without ack: holds on q from tag on go back, in order. */
void lease_give_back(struct conn *c, struct queue *q, uint64_t tag)
{
	struct lease_sel from = { q, tag, 0 };

	lease_slots_close(c, q);
	lease_return_some(c, &from);
}
