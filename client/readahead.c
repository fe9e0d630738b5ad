/* SPDX-License-Identifier: MIT */
/*
 * readahead.c: read-ahead on one connection. With it on for a queue (or
 * a pipe end), gets fetch up to N messages in one QGETN (PRECVN), serve
 * the next calls from a local buffer, and keep the next fetch, one that
 * does not wait in the daemon, on its way while the caller works.
 *
 * Held read-ahead (a queue, ipc_queue_set_readahead_held): a fetch is a
 * QGETH, whose messages stay in flight, counted toward maxsize, until a
 * get hands one out and says so (QDONE, not answered: one write). Only
 * one batch is held at a time, fetched when none is buffered. A hold
 * with a time limit is used only while the limit, counted from before
 * the fetch was sent, has not passed once the QDONE is written; a get
 * later than that asks the daemon (QACK) whether the message is still
 * this consumer's, and when its hold ran out drops the batch, which the
 * daemon has given back to the queue.
 *
 * With a hold page (QHOLDS: a memfd this handle shares with the daemon,
 * made at the first held read-ahead), a batch is held in a slot of the
 * page (taken when it is fetched, free again once nothing of it is
 * buffered, for the next batch of any queue: up to 511 batches at once
 * per handle, more hand out by QDONE), and a get counts its hand-out in
 * the slot's word (one
 * compare-and-swap) instead of writing a QDONE: the daemon reads the word
 * whenever it needs the room (a put that finds the queue full, STAT) and
 * when the hold runs out, when it takes back what was not handed out
 * (REVOKED: the get finds it and fetches again, no clock involved). A
 * QDONE is still written while the word says WANT: a put waits for room
 * and the daemon must hear of the slot freed.
 */
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#include "backend.h"
#include "client_int.h"

/* Buffers of more than this are freed once emptied. */
#define READAHEAD_KEEP_MAX (256u << 10)
/* Messages from this size up are kept in a malloc'd block of their own,
 * which a get hands to the caller as it is (one copy, not two). */
#define READAHEAD_OWN_MIN CLIENT_HOLE_MIN
/* Bytes of such messages one fetch asks for (at least one message) for
 * single gets: as much as the daemon reads from a producer per turn
 * (CONN_TURN_BYTES), so a consumer fetching ahead keeps up with a
 * producer sending async. At 128 KiB (two 64 KiB messages per round
 * trip) the queue grew by ~14 messages per daemon turn, and ipcd faulted
 * fresh heap in for nearly every message (14 faults, a third of its
 * CPU). The blocks handed out come back through ipc_free (blocks.c). */
#define READAHEAD_BIG_BYTES (1024u << 10)

/* A message block of READAHEAD_OWN_MIN bytes or more, and the length of
 * the message it held. */
struct ra_block {
	void *data;
	size_t len;
};

/* One queue (or pipe end) with read-ahead: its messages, taken from the
 * daemon and not yet handed out, as [size_t len][bytes] records from off
 * on, or [size_t len][void *block] from READAHEAD_OWN_MIN bytes up. */
struct client_readahead {
	struct client_readahead *next;
	char name[IPC_NAME_MAX + 1];
	int end;                 /* -1: a queue; 0 or 1: a pipe end */
	unsigned max;            /* messages per fetch; 0: off (kept until drained) */
	uint32_t inflight;       /* the read-ahead fetch in flight, or 0 */
	uint32_t inflight_max;   /* what it asked for */
	int inflight_waits;      /* it waits in the daemon for a message */
	struct pbuf buf;
	size_t off;
	size_t count;            /* messages buffered */
	size_t big;              /* last message's size if READAHEAD_OWN_MIN up, else 0 */
	int many;                /* the last call on it was a batch get */
	struct ra_block *lent;   /* blocks a batch get pointed the caller at, */
	size_t nlent, lent_cap;  /* spares from the next call on this record */
	struct ra_block *spare;  /* blocks of the batch before, reused for the */
	size_t nspare, spare_cap; /* next messages, freed at the next call */
	int hold;                /* fetch with QGETH (held read-ahead) */
	int hold_ms;             /* its time limit; 0: none */
	uint64_t tag;            /* the buffered batch is held: the tag of its
				    next message (the others follow); else 0 */
	int64_t due_ms;          /* when its hold runs out (client_now_ms) */
	uint32_t slot;           /* the word of the hold page counting the
				    held batch (buffered or fetched), or 0 */
	uint64_t tag0;           /* the held batch's first tag */
	int64_t sent_ms;         /* when the fetch on its way was sent */
};

/* The read-ahead record of queue name (end -1) or pipe end, or NULL. */
static struct client_readahead *ra_find(struct ipc_client *c, const char *name,
					int end)
{
	struct client_readahead *pf;

	for (pf = c->readahead; pf; pf = pf->next)
		if (pf->end == end && strcmp(pf->name, name) == 0)
			return pf;
	return NULL;
}

/* The record at off of pf's buffer: its message in *m (pointing into the
 * buffer, or at its own block, then also in *own, else *own is NULL);
 * the offset of the next record. */
static size_t ra_rec(const struct client_readahead *pf, size_t off,
		     struct ipc_msg *m, void **own)
{
	const unsigned char *p = pf->buf.data + off + sizeof(size_t);

	memcpy(&m->len, pf->buf.data + off, sizeof(size_t));
	*own = NULL;
	if (m->len < READAHEAD_OWN_MIN) {
		m->data = (void *)p;
		return off + sizeof(size_t) + m->len;
	}
	memcpy(own, p, sizeof(void *));
	m->data = *own;
	return off + sizeof(size_t) + sizeof(void *);
}

/* Free the own blocks of the messages buffered in pf. */
static void ra_free_blocks(struct client_readahead *pf)
{
	struct ipc_msg m;
	size_t off = pf->off, i;
	void *own;

	for (i = 0; i < pf->count; i++) {
		off = ra_rec(pf, off, &m, &own);
		free(own);
	}
}

/* Free the spare blocks. */
static void ra_spare_free(struct client_readahead *pf)
{
	while (pf->nspare > 0)
		free(pf->spare[--pf->nspare].data);
}

/* The blocks a batch get handed out are done with: they become the
 * spares the next messages are copied into (the spares left unused are
 * freed). Freeing a batch of blocks at once would give their pages back
 * to the system, to be faulted in again for the next batch: 16 page
 * faults per 64 KiB message. */
static void ra_lent_free(struct client_readahead *pf)
{
	struct ra_block *a = pf->spare;
	size_t cap = pf->spare_cap;

	ra_spare_free(pf);
	pf->spare = pf->lent;
	pf->spare_cap = pf->lent_cap;
	pf->nspare = pf->nlent;
	pf->lent = a;
	pf->lent_cap = cap;
	pf->nlent = 0;
}

/* A block for a message of len bytes: the last spare when it is large
 * enough, else a new one (NULL on ENOMEM). */
static void *ra_block(struct client_readahead *pf, size_t len)
{
	if (pf->nspare > 0 && pf->spare[pf->nspare - 1].len >= len)
		return pf->spare[--pf->nspare].data;
	return client_block_new(len);
}

/* A free slot of c's hold page for a batch, now taken; 0 when all
 * PROTO_HOLD_SLOTS - 1 hold one (its hand-outs are then QDONEs). The
 * lowest: a queue fetching again mostly takes the slot it had. */
static uint32_t ra_slot_take(struct ipc_client *c)
{
	uint64_t avail;
	uint32_t i, s;

	for (i = 0; i < PROTO_HOLD_SLOTS / 64; i++) {
		avail = ~c->hold_used[i] & (i == 0 ? ~1ull : ~0ull);
		if (avail != 0) {
			s = i * 64 + (uint32_t)__builtin_ctzll(avail);
			c->hold_used[i] |= 1ull << (s % 64);
			return s;
		}
	}
	return 0;
}

/* Free pf's slot once it holds no batch (none buffered, no fetch on its
 * way): all of its batch was handed out (counted in the word) or taken
 * back. The daemon acks what the word counts before it counts a new
 * batch there, of whatever queue (QGETH: lease_slot_begin), so the
 * slot's next batch is never mixed with this one. */
static void ra_slot_free(struct ipc_client *c, struct client_readahead *pf)
{
	if (pf->slot == 0 || pf->tag != 0 || pf->inflight != 0)
		return;
	c->hold_used[pf->slot / 64] &= ~(1ull << (pf->slot % 64));
	pf->slot = 0;
}

/* Unlink and free a read-ahead record. */
static void ra_drop(struct ipc_client *c, struct client_readahead *pf)
{
	struct client_readahead **pp;

	ra_slot_free(c, pf);
	for (pp = &c->readahead; *pp; pp = &(*pp)->next)
		if (*pp == pf) {
			*pp = pf->next;
			break;
		}
	ra_free_blocks(pf);
	ra_lent_free(pf);
	ra_spare_free(pf);
	free(pf->lent);
	free(pf->spare);
	pbuf_free(&pf->buf);
	free(pf);
}

/* Free pf's slot once it holds no batch, and pf, turned off, once
 * nothing is buffered or on its way. */
static void ra_gc(struct ipc_client *c, struct client_readahead *pf)
{
	ra_slot_free(c, pf);
	if (pf->max == 0 && pf->count == 0 && pf->inflight == 0)
		ra_drop(c, pf);
}

/* The hold page of c, made and handed to the daemon (QHOLDS) at the
 * first call; NULL when the handle or the daemon shares none (then each
 * hand-out is a QDONE). *rc: 0, or fatal. */
static uint64_t *ra_page(struct ipc_client *c, int *rc)
{
	struct proto_req req = { .op = PROTO_OP_QHOLDS, .data_len = PROTO_HOLD_PAGE,
				 .data_memfd = 1 };
	struct proto_rep rep;
	void *p = MAP_FAILED;
	int fd = -1;

	*rc = 0;
	if (c->hold_page != NULL || c->hold_page_tried)
		return c->hold_page;
	c->hold_page_tried = 1;
	/* Only a daemon that takes memfds (HELLO) takes one. */
	if (c->memfd_min == 0 || (*rc = client_push(c)) != 0 || c->ntxfds != 0)
		return NULL;
	fd = memfd_create("ipcd-holds", MFD_CLOEXEC | MFD_ALLOW_SEALING);
	if (fd >= 0 && ftruncate(fd, PROTO_HOLD_PAGE) == 0 &&
	    fcntl(fd, F_ADD_SEALS, F_SEAL_SHRINK | F_SEAL_GROW | F_SEAL_SEAL) == 0)
		p = mmap(NULL, PROTO_HOLD_PAGE, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
	if (p == MAP_FAILED) {
		if (fd >= 0)
			close(fd);
		return NULL;
	}
	c->txfds[c->ntxfds++] = fd;   /* sent with the request, then closed */
	if ((*rc = client_call(c, &req, &rep)) != 0 || rep.status != 0) {
		munmap(p, PROTO_HOLD_PAGE);
		return NULL;   /* refused (an older daemon): QDONEs then */
	}
	c->hold_page = p;
	return c->hold_page;
}

/* Set read-ahead of up to n per fetch on a queue (end -1) or pipe end,
 * held (QGETH) with hold_ms as its time limit, or not (hold_ms < 0). */
static int ra_set(struct ipc_client *c, const char *name, int end,
		  unsigned n, int hold_ms)
{
	struct client_readahead *pf;
	int rc;

	if ((rc = client_check(c)) || (rc = client_check_name(c, name)))
		return rc;
	if (n > IPC_BATCH_MAX) {
		client_seterr(c, "read-ahead must be 0..%d", IPC_BATCH_MAX);
		return IPC_EINVAL;
	}
	if (c->ops && end < 0)
		return CLIENT_BACKEND(c, set_readahead, name, n);
	if (c->ops)
		return CLIENT_BACKEND(c, pipe_set_readahead, name, end, n);
	pf = ra_find(c, name, end);
	if (n <= 1) {
		/* Off: what is buffered (or on its way) is still served first. */
		if (pf) {
			pf->max = 0;
			ra_gc(c, pf);
		}
		return 0;
	}
	if (!pf) {
		pf = calloc(1, sizeof(*pf));
		if (!pf) {
			client_seterr(c, "out of memory");
			return IPC_ENOMEM;
		}
		strcpy(pf->name, name);
		pf->end = end;
		pbuf_init(&pf->buf);
		pf->next = c->readahead;
		c->readahead = pf;
	}
	pf->max = n;
	pf->hold = hold_ms >= 0;
	pf->hold_ms = hold_ms >= 0 ? hold_ms : 0;
	if (pf->hold && ra_page(c, &rc) == NULL && rc != 0)
		return rc;
	return 0;
}

/* Turn read-ahead on or off for a queue; see ipcclient.h. */
IPC_EXPORT int ipc_queue_set_readahead(ipc_client *c, const char *name, unsigned n)
{
	return ra_set(c, name, -1, n, -1);
}

/* Turn held read-ahead on or off for a queue; see ipcclient.h. */
IPC_EXPORT int ipc_queue_set_readahead_held(ipc_client *c, const char *name,
					    unsigned n, int hold_ms)
{
	if (c && hold_ms < 0) {
		client_seterr(c, "hold_ms must be >= 0");
		return IPC_EINVAL;
	}
	return ra_set(c, name, -1, n, hold_ms);
}

/* Turn read-ahead on or off for a pipe end; see ipcclient.h. */
IPC_EXPORT int ipc_pipe_set_readahead(ipc_client *c, const char *name, int end,
				      unsigned n)
{
	int rc;

	if (c && (rc = client_check_end(c, end)))
		return rc;
	return ra_set(c, name, end, n, -1);
}

/* Messages buffered for a queue (end -1) or pipe end, not handed out. */
static size_t ra_count(const ipc_client *c, const char *name, int end)
{
	struct client_readahead *pf;

	if (!c || !name)
		return 0;
	for (pf = c->readahead; pf; pf = pf->next)
		if (pf->end == end && strcmp(pf->name, name) == 0)
			return pf->count;
	return 0;
}

/* Messages read ahead for a queue, not yet handed out; see ipcclient.h. */
IPC_EXPORT size_t ipc_queue_buffered(const ipc_client *c, const char *name)
{
	return ra_count(c, name, -1);
}

/* Messages read ahead at a pipe end, not yet handed out; see ipcclient.h. */
IPC_EXPORT size_t ipc_pipe_buffered(const ipc_client *c, const char *name, int end)
{
	return ra_count(c, name, end);
}

/* Append one message to a read-ahead buffer: 0 or IPC_ENOMEM. */
static int ra_push(struct client_readahead *pf, const struct proto_iov *m)
{
	int own = m->len >= READAHEAD_OWN_MIN;
	size_t n = own ? sizeof(void *) : m->len;
	void *block = NULL;

	if (pf->count == 0 && pf->buf.cap > READAHEAD_KEEP_MAX)
		pbuf_free(&pf->buf);
	if (pbuf_reserve(&pf->buf, sizeof(size_t) + n) ||
	    (own && (block = ra_block(pf, m->len)) == NULL))
		return IPC_ENOMEM;
	memcpy(pf->buf.data + pf->buf.len, &m->len, sizeof(size_t));
	if (own) {
		memcpy(block, m->base, m->len);
		memcpy(pf->buf.data + pf->buf.len + sizeof(size_t), &block, n);
	} else if (n) {
		memcpy(pf->buf.data + pf->buf.len + sizeof(size_t), m->base, n);
	}
	pf->buf.len += sizeof(size_t) + n;
	pf->count++;
	pf->big = own ? m->len : 0;
	return 0;
}

/* Take the oldest buffered message, pointing into the buffer (valid until
 * the buffer is next appended to) or at its own block, then also in *own
 * (the caller's to free), else *own is NULL. Its hold tag, or 0 when it
 * is not held. */
static uint64_t ra_pop(struct client_readahead *pf, struct ipc_msg *m, void **own)
{
	uint64_t tag = pf->tag;

	pf->off = ra_rec(pf, pf->off, m, own);
	if (pf->tag)
		pf->tag++;
	if (--pf->count == 0) {
		pf->buf.len = pf->off = 0;
		pf->tag = 0;
	}
	return tag;
}

/* Drop every buffered message (a held batch the daemon took back). */
static void ra_discard(struct client_readahead *pf)
{
	ra_free_blocks(pf);
	pf->count = pf->buf.len = pf->off = 0;
	pf->tag = 0;
}

/* Buffer the messages of a successful fetch reply that asked for max. */
static int ra_absorb(struct ipc_client *c, struct client_readahead *pf,
		     const struct proto_rep *rep, uint32_t max)
{
	size_t i;

	if (pf->count == 0 && rep->tag != 0) { /* a held batch (QGETH) */
		pf->tag = pf->tag0 = rep->tag;
		pf->due_ms = pf->hold_ms > 0 ? pf->sent_ms + pf->hold_ms : INT64_MAX;
	}
	if (rep->niov > max) {
		client_seterr(c, "batch reply of %zu messages, %u asked for",
			      rep->niov, (unsigned)max);
		return client_fail(c, IPC_EPROTO);
	}
	for (i = 0; i < rep->niov; i++)
		if (ra_push(pf, &rep->iov[i])) {
			client_seterr(c, "out of memory buffering messages read ahead");
			return client_fail(c, IPC_ENOMEM);
		}
	return 0;
}

/* The reply to a read-ahead fetch: its messages are buffered; a
 * non-fatal failure (Empty, EOF, ...) is dropped, the next fetch that
 * waits learns it again. 0 or fatal. */
static int ra_ahead_reply(struct ipc_client *c, struct client_readahead *pf,
			  const struct proto_rep *rep)
{
	uint32_t max = pf->inflight_max;

	pf->inflight = 0;
	if (rep->status < 0)
		return client_status(c, rep);
	return rep->status ? 0 : ra_absorb(c, pf, rep, max);
}

/* A read-ahead reply read by another call; see client_int.h. */
int client_readahead_settle(struct ipc_client *c, void *ctx, const struct proto_rep *rep)
{
	return ra_ahead_reply(c, ctx, rep);
}

/* Messages per fetch: pf->max, fewer while messages are large and
 * handed to the caller one by one (at most READAHEAD_BIG_BYTES of them,
 * at least one); a batch get's blocks are freed here, all at once. */
static unsigned ra_want(const struct client_readahead *pf)
{
	size_t n = pf->big && !pf->many ? READAHEAD_BIG_BYTES / pf->big : pf->max;

	return n < 1 ? 1 : n < pf->max ? (unsigned)n : pf->max;
}

/* Send a fetch of up to ra_want() messages (QGETN or PRECVN) waiting per
 * timeout_ms; its id is pf->inflight. */
static int ra_send(struct ipc_client *c, struct client_readahead *pf, int timeout_ms)
{
	struct proto_req req = { .max = ra_want(pf), .timeout_ms = timeout_ms };
	int rc;

	req.op = pf->end >= 0 ? PROTO_OP_PRECVN :
		 pf->hold ? PROTO_OP_QGETH : PROTO_OP_QGETN;
	req.end = pf->end < 0 ? 0 : (uint32_t)pf->end;
	req.lease_ms = pf->hold_ms;
	if (pf->hold && pf->slot == 0 && c->hold_page != NULL)
		pf->slot = ra_slot_take(c);
	req.slot = pf->hold ? pf->slot : 0;
	strcpy(req.name, pf->name);
	pf->sent_ms = client_now_ms();
	rc = client_send_ctx(c, &req, pf);
	if (rc == 0) {
		pf->inflight = req.id;
		pf->inflight_max = req.max;
		pf->inflight_waits = timeout_ms != 0;
	}
	return rc;
}

/* Send a fetch that does not wait (timeout 0) when at most half a
 * fetch is buffered and none is on its way, so the next messages travel
 * while the caller works on these. */
static int ra_ahead(struct ipc_client *c, struct client_readahead *pf)
{
	if (pf->max < 2 || pf->inflight || pf->count > ra_want(pf) / 2 ||
	    pf->hold || pf->tag)
		return 0;
	return ra_send(c, pf, 0);
}

/* Wait for the read-ahead fetch on its way and buffer its messages. */
static int ra_take(struct ipc_client *c, struct client_readahead *pf)
{
	struct proto_rep rep;
	int rc = client_wait(c, pf->inflight, &rep);

	return rc ? rc : ra_ahead_reply(c, pf, &rep);
}

/* Make sure a message is buffered: take the read-ahead reply on its way,
 * then, if still nothing, fetch waiting per timeout_ms. 0, the fetch's
 * result, or CLIENT_NO_READAHEAD when read-ahead is off. */
static int ra_fill(struct ipc_client *c, struct client_readahead *pf,
		   int timeout_ms)
{
	struct proto_rep rep;
	uint32_t id;
	int rc;

	if (pf->count == 0 && pf->inflight != 0 && (rc = ra_take(c, pf)))
		return rc;
	if (pf->count > 0)
		return 0;
	if (pf->max < 2)
		return CLIENT_NO_READAHEAD;
	if ((rc = ra_send(c, pf, timeout_ms)))
		return rc;
	id = pf->inflight;
	pf->inflight = 0;
	if ((rc = client_wait(c, id, &rep)) || (rc = client_status(c, &rep)))
		return rc;
	return ra_absorb(c, pf, &rep, pf->inflight_max);
}

/* Make ipc_fd(c) readable once a receive at a pipe end would not block;
 * see ipcclient.h. What was read already is settled first, and a fetch
 * that does not wait is taken whole (the daemon answers it at once), so
 * that the only reply left to come is a fetch that waits for a message,
 * or one that does not wait, sent because messages are buffered. */
IPC_EXPORT int ipc_pipe_arm(ipc_client *c, const char *name, int end)
{
	struct client_readahead *pf;
	int rc;

	if ((rc = client_check(c)) || (rc = client_check_end(c, end)) ||
	    (rc = client_check_name(c, name)))
		return rc;
	if (c->ops)
		return client_notsup(c, "ipc_pipe_arm");
	pf = ra_find(c, name, end);
	if (!pf || pf->max < 2) {
		client_seterr(c, "pipe_arm: read-ahead is off at that end");
		return IPC_EINVAL;
	}
	if ((rc = client_settle_read(c)))
		return rc;
	if (pf->inflight && !pf->inflight_waits && (rc = ra_take(c, pf)))
		return rc;
	if (pf->inflight)
		return 0;
	return ra_send(c, pf, pf->count > 0 ? 0 : IPC_FOREVER);
}

/* Count held message tag as handed out in the word of pf's slot: 0 when
 * it is this consumer's, IPC_ENOTHELD when the daemon took what was not
 * handed out of the batch back first (REVOKED), or fatal. While the word
 * says WANT the hand-out is also written (QDONE): a put waits for room. */
static int ra_hand_out_page(struct ipc_client *c, struct client_readahead *pf,
			    uint64_t tag)
{
	struct proto_req req = { .op = PROTO_OP_QDONE, .tag = tag, .ack = 1 };
	uint64_t *w = &c->hold_page[pf->slot];
	uint64_t v = __atomic_load_n(w, __ATOMIC_SEQ_CST);

	do {
		if ((v & PROTO_HOLD_REVOKED) || (v & PROTO_HOLD_COUNT) != tag - pf->tag0)
			return IPC_ENOTHELD;
	} while (!__atomic_compare_exchange_n(w, &v, v + 1, 0, __ATOMIC_SEQ_CST,
					      __ATOMIC_SEQ_CST));
	if (!(v & PROTO_HOLD_WANT))
		return 0;
	strcpy(req.name, pf->name);
	return client_send_noreply(c, &req);
}

/* Say that held message tag is handed out (QDONE): 0 when it is this
 * consumer's, IPC_ENOTHELD when its hold ran out first (the daemon gave
 * it and the rest of its batch back), or fatal. */
static int ra_hand_out(struct ipc_client *c, struct client_readahead *pf,
		       uint64_t tag)
{
	struct proto_req req = { .op = PROTO_OP_QDONE, .tag = tag, .ack = 1 };
	struct proto_rep rep;
	int64_t sent;
	int rc;

	if (pf->slot != 0 && c->hold_page != NULL)
		return ra_hand_out_page(c, pf, tag);
	strcpy(req.name, pf->name);
	if (client_now_ms() < pf->due_ms) {
		if ((rc = client_send_noreply(c, &req)))
			return rc;
		/* Written before the hold ran out: the daemon serves it first. */
		if (client_now_ms() < pf->due_ms)
			return 0;
	}
	/* Late: a QACK answers 0 when the QDONE, or it, took the message,
	 * and then the rest of the batch is held for hold_ms again. */
	req.op = PROTO_OP_QACK;
	sent = client_now_ms();
	if ((rc = client_call(c, &req, &rep)))
		return rc;
	if (rep.status == IPC_ENOTHELD || rep.status < 0)
		return client_status(c, &rep);
	pf->due_ms = sent + pf->hold_ms;
	return 0; /* (a queue deleted meanwhile: the message is ours) */
}

/* Take the next buffered message, fetching per timeout_ms when none is,
 * and hand it out (a held one said so): into *data, *len, or own. */
static int ra_next(struct ipc_client *c, struct client_readahead *pf,
		   struct ipc_msg *m, void **own, int timeout_ms)
{
	uint64_t tag;
	int rc;

	while ((rc = ra_fill(c, pf, timeout_ms)) == 0) {
		tag = ra_pop(pf, m, own);
		if (tag == 0 || (rc = ra_hand_out(c, pf, tag)) == 0)
			return 0;
		free(*own);
		*own = NULL;
		if (rc != IPC_ENOTHELD)
			return rc;
		ra_discard(pf);
	}
	return rc;
}

/* ipc_queue_get() or ipc_pipe_recv() on a queue or end with read-ahead. */
static int ra_get(struct ipc_client *c, struct client_readahead *pf, void **data,
		  size_t *len, int timeout_ms)
{
	struct ipc_msg m;
	void *own = NULL;
	int rc;

	ra_lent_free(pf);
	pf->many = 0;
	rc = ra_next(c, pf, &m, &own, timeout_ms);
	if (rc == 0) {
		if (own == NULL) {
			rc = client_copy_out(c, m.data, m.len, data, len);
		} else {
			*data = own;    /* its own block: the caller's now */
			*len = m.len;
		}
	}
	if (rc == 0)
		rc = ra_ahead(c, pf);
	if (rc >= 0)
		ra_gc(c, pf);
	return rc;
}

static int ra_return(struct ipc_client *c, struct client_readahead *pf);

/* ipc_queue_get() on a queue that may have read-ahead. */
int client_readahead_get(struct ipc_client *c, const char *name, void **data,
			 size_t *len, int timeout_ms)
{
	struct client_readahead *pf = ra_find(c, name, -1);

	return pf ? ra_get(c, pf, data, len, timeout_ms) : CLIENT_NO_READAHEAD;
}

/* ipc_pipe_recv() at an end that may have read-ahead. */
int client_readahead_recv(struct ipc_client *c, const char *name, int end,
			  void **data, size_t *len, int timeout_ms)
{
	struct client_readahead *pf = c->readahead ? ra_find(c, name, end) : NULL;

	return pf ? ra_get(c, pf, data, len, timeout_ms) : CLIENT_NO_READAHEAD;
}

/* Room in pf->lent for n more blocks: 0 or IPC_ENOMEM. */
static int ra_lent_reserve(struct client_readahead *pf, size_t n)
{
	struct ra_block *p;

	if (pf->nlent + n <= pf->lent_cap)
		return 0;
	p = realloc(pf->lent, (pf->nlent + n) * sizeof(*p));
	if (p == NULL)
		return IPC_ENOMEM;
	pf->lent = p;
	pf->lent_cap = pf->nlent + n;
	return 0;
}

/* Batch get with read-ahead; see client_int.h. The messages point into
 * the buffer, which nothing appends to before the next call on c (a
 * read-ahead fetch sent here is read by a later call). */
int client_readahead_many(struct ipc_client *c, const char *name, int end,
			  struct ipc_msg *msgs, size_t max, size_t *n, int timeout_ms)
{
	struct client_readahead *pf = c->readahead ? ra_find(c, name, end) : NULL;
	void *own;
	int rc;

	if (!pf)
		return CLIENT_NO_READAHEAD;
	ra_lent_free(pf);
	pf->many = 1;
	if (pf->hold || pf->tag) {
		/* Held: what is buffered goes back first, then a plain QGETN. */
		if ((rc = ra_return(c, pf)) == 0)
			ra_slot_free(c, pf);
		return rc ? rc : CLIENT_NO_READAHEAD;
	}
	if ((rc = ra_fill(c, pf, timeout_ms)))
		return rc;
	if (ra_lent_reserve(pf, max < pf->count ? max : pf->count)) {
		client_seterr(c, "out of memory");
		return IPC_ENOMEM;
	}
	*n = 0;
	while (pf->count > 0 && *n < max) {
		ra_pop(pf, &msgs[*n], &own);
		if (own)
			pf->lent[pf->nlent++] = (struct ra_block){ own, msgs[*n].len };
		(*n)++;
	}
	return ra_ahead(c, pf);
}

/* The messages buffered in pf, as a malloc'd array pointing into its
 * buffer (pf->count of them): 0 or IPC_ENOMEM. */
static int ra_msgs(struct client_readahead *pf, struct ipc_msg **out)
{
	struct ipc_msg *m = malloc(pf->count * sizeof(*m));
	size_t off = pf->off, i;
	void *own;

	if (!m)
		return IPC_ENOMEM;
	for (i = 0; i < pf->count; i++)
		off = ra_rec(pf, off, &m[i], &own);
	*out = m;
	return 0;
}

/* Give what a queue's record holds (and the fetch on its way brings)
 * back to the head of the queue: 0 or the failure (then it stays). */
static int ra_return(struct ipc_client *c, struct client_readahead *pf)
{
	struct proto_req req = { .op = PROTO_OP_QDONE };
	struct ipc_msg *msgs;
	int rc;

	if (pf->inflight && (rc = ra_take(c, pf)))
		return rc;
	if (pf->count == 0)
		return 0;
	if (pf->tag) {       /* held: the daemon puts them back (QDONE ack 0) */
		req.tag = pf->tag;
		strcpy(req.name, pf->name);
		if ((rc = client_send_noreply(c, &req)) == 0)
			ra_discard(pf);
		return rc;
	}
	if (ra_msgs(pf, &msgs)) {
		client_seterr(c, "out of memory");
		return IPC_ENOMEM;
	}
	rc = client_unget(c, pf->name, msgs, pf->count);
	free(msgs);
	if (rc == 0) {
		ra_free_blocks(pf);
		pf->count = pf->buf.len = pf->off = 0;
	}
	return rc;
}

/* Give a queue's read-ahead messages back; see ipcclient.h. */
IPC_EXPORT int ipc_queue_unread(ipc_client *c, const char *name)
{
	struct client_readahead *pf;
	int rc;

	if ((rc = client_check(c)) || (rc = client_check_name(c, name)))
		return rc;
	if (c->ops || !(pf = ra_find(c, name, -1)))
		return 0; /* nothing read ahead (another backend reads none) */
	rc = ra_return(c, pf);
	if (rc >= 0)
		ra_gc(c, pf);
	return rc;
}

/* Give back what every queue read ahead (ipc_close); see client_int.h. */
void client_readahead_return(struct ipc_client *c)
{
	struct client_readahead *pf;

	for (pf = c->readahead; pf && !c->broken; pf = pf->next)
		if (pf->end < 0)
			ra_return(c, pf);
}

/* Free every read-ahead buffer. */
void client_readahead_free(struct ipc_client *c)
{
	while (c->readahead)
		ra_drop(c, c->readahead);
	if (c->hold_page != NULL)
		munmap(c->hold_page, PROTO_HOLD_PAGE);
	c->hold_page = NULL;
}
