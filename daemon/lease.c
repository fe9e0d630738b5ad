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

/* Stop l's timer and unlink it from its connection's leases: l. */
static struct lease *lease_detach(struct lease *l)
{
	ptimer_del(&l->srv->timers, &l->timer);
	ilist_unlink(&l->link);
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
	struct lease *l = calloc(1, sizeof *l);

	if (l == NULL)
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

/* The first hold of c in slot s placed below count in its batch, or
 * NULL. Searched afresh each time: an ack may admit a putter whose
 * reply fails and closes a connection, c included. */
static struct lease *lease_slot_pick(struct conn *c, uint32_t s, uint64_t count)
{
	struct ilist *n;
	struct lease *l;

	for (n = ilist_first(&c->leases); n != NULL; n = ilist_next(&c->leases, n)) {
		l = container_of(n, struct lease, link);
		if (l->hold && l->slot == s && l->idx < count)
			return l;
	}
	return NULL;
}

/* Held message l was handed out: it is done with. */
static void lease_hold_ack(struct lease *l)
{
	lease_detach(l);
	l->conn->done_tag = l->h.tag;
	queue_ack(&l->h);
	lease_dispose(l);
}

/* Read word s of c's hold page, setting bits in it, and ack the holds of
 * the slot it counts as handed out (*acked more of them): the word as it
 * was (0 without a page). */
static uint64_t lease_slot_settle(struct conn *c, uint32_t s, uint64_t bits,
				  size_t *acked)
{
	uint64_t *w = lease_word(c, s), v;
	struct lease *l;

	if (w == NULL)
		return 0;
	v = bits ? __atomic_fetch_or(w, bits, __ATOMIC_SEQ_CST) :
		   __atomic_load_n(w, __ATOMIC_SEQ_CST);
	while ((l = lease_slot_pick(c, s, v & PROTO_HOLD_COUNT)) != NULL) {
		lease_hold_ack(l);
		(*acked)++;
	}
	return v;
}

/* Close slot s of c: what it handed out is acked, and the client hands
 * out nothing more of the batch (REVOKED); the holds left are plain
 * ones, to be given back. */
static void lease_slot_close(struct conn *c, uint32_t s)
{
	struct ilist *n;
	size_t acked = 0;

	lease_slot_settle(c, s, PROTO_HOLD_REVOKED, &acked);
	for (n = ilist_first(&c->leases); n != NULL; n = ilist_next(&c->leases, n))
		if (container_of(n, struct lease, link)->slot == s)
			container_of(n, struct lease, link)->slot = 0;
}

/* The slot of c's holds on q (NULL: on any queue), or 0. */
static uint32_t lease_slot_of(const struct conn *c, const struct queue *q)
{
	const struct ilist *n;
	const struct lease *l;

	for (n = ilist_first(&c->leases); n != NULL; n = ilist_next(&c->leases, n)) {
		l = container_of(n, const struct lease, link);
		if (l->hold && l->slot && (q == NULL || l->h.queue == q))
			return l->slot;
	}
	return 0;
}

/* Take c's hold page; see lease.h. */
int lease_page_take(struct conn *c, int fd)
{
	struct stat st;
	int seals = fd >= 0 ? fcntl(fd, F_GET_SEALS) : -1;
	void *p = MAP_FAILED;

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
	c->hold_page = p;
	return 0;
}

/* Unmap c's hold page. */
void lease_page_free(struct conn *c)
{
	if (c->hold_page != NULL)
		munmap(c->hold_page, PROTO_HOLD_PAGE);
	c->hold_page = NULL;
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

/* A slot lease_settle has to look at: its connection and number, and
 * whether WANT is to be set. */
struct lease_due {
	struct conn *c;
	uint32_t s;
	int want;
};

/* Does h's slot count h as handed out, or lack the WANT d asks for?
 * Then d names it. */
static int lease_slot_due(const struct qheld *h, void *arg)
{
	const struct lease *l = container_of(h, struct lease, h);
	struct lease_due *d = arg;
	const uint64_t *w = l->hold ? lease_word(l->conn, l->slot) : NULL;
	uint64_t v;

	if (w == NULL)
		return 0;
	v = __atomic_load_n(w, __ATOMIC_SEQ_CST);
	if ((v & PROTO_HOLD_COUNT) <= l->idx && (!d->want || (v & PROTO_HOLD_WANT)))
		return 0;
	d->c = l->conn;
	d->s = l->slot;
	return 1;
}

/* Count the holds of q (queue_ahead_any never stops on it). */
static int lease_count_ahead(const struct qheld *h, void *arg)
{
	(void)h;
	(*(size_t *)arg)++;
	return 0;
}

/* Ack what the hold pages say was handed out of q; see lease.h. */
size_t lease_settle(struct queue *q, int want)
{
	struct lease_due d = { NULL, 0, want };
	size_t acked = 0, turns = 0;

	/* Each turn acks a hold or sets a WANT, so as many turns as holds
	 * do; a client that clears WANT in its page must not keep ipcd
	 * here, so that is all it gets. */
	queue_ahead_any(q, lease_count_ahead, &turns);
	while (turns-- > 0 && queue_ahead_any(q, lease_slot_due, &d))
		lease_slot_settle(d.c, d.s, want ? PROTO_HOLD_WANT : 0, &acked);
	return acked;
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
	l->slot = 0;
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
	uint32_t s;

	/* What its page counts as handed out is delivered, not given back. */
	while ((s = lease_slot_of(c, NULL)) != 0)
		lease_slot_close(c, s);

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
	size_t acked = 0;

	/* l, the batch's last, counted as handed out: the batch is done. */
	if (s && (lease_slot_settle(c, s, 0, &acked) & PROTO_HOLD_COUNT) > idx)
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
	uint32_t s = lease_slot_of(c, q);

	if (s)
		lease_slot_close(c, s);

	lease_return_some(c, &from);
}
