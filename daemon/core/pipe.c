/* SPDX-License-Identifier: MIT */
/*
 * pipe.c: a two-ended message pipe: per direction a bounded FIFO of
 * messages with FIFOs of parked receivers and senders. No I/O, no timers;
 * see pipe.h for the rules.
 *
 * Re-entrancy: a wake callback may reply, then call any pipe function on
 * this or another pipe, including pipe_close. So every waiter is unlinked
 * and every counter and end state updated before wake runs, waiters are
 * popped one at a time from the live lists, and p->depth counts the wake
 * callbacks running so that pipe_done() never lets a caller free a pipe
 * an outer call is still walking.
 */
#include <assert.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "ipc_defs.h"
#include "named.h"
#include "pipe.h"
#include "qmsg.h"
#include "wlist.h"

/* One direction: messages from one end to the other. */
struct pipe_dir {
	struct pipe *pipe;
	struct qmsg_fifo buf;       /* buffered messages, oldest first */
	struct wpark parked;        /* receivers (not stalled: only while
				     * buf.n == 0); senders (only while the
				     * head one does not fit) */
	uint64_t sent;
	uint64_t received;
	uint64_t dropped;
};

struct pipe {
	char name[IPC_NAME_MAX + 1];
	bool duplex;
	bool dying;                 /* inside pipe_free */
	size_t maxmsgs, maxbytes;
	waiter_wake_fn wake;
	enum pipe_end_state state[2];
	const void *owner[2];       /* who holds each attached end */
	struct pipe_dir dir[2];     /* dir[i]: from end i to end 1 - i */
	unsigned depth;             /* wake callbacks running */
};

/* Complete w through the pipe's callback, counting the nesting. */
static void pipe_wake(struct pipe *p, struct waiter *w, int status, struct qmsg *m)
{
	p->depth++;
	p->wake(w, status, m);
	p->depth--;
}

/* Would a message of len bytes not fit into d now? */
static bool pipe_dir_full(const struct pipe_dir *d, size_t len)
{
	const struct pipe *p = d->pipe;

	if (d->buf.n == 0)
		return false; /* one message of any size fits when empty */
	return d->buf.n >= p->maxmsgs || d->buf.bytes > p->maxbytes ||
	       len > p->maxbytes - d->buf.bytes;
}

/* Free every buffered message of d, counting them as dropped. */
static void pipe_dir_drop(struct pipe_dir *d)
{
	struct qmsg *m;

	while ((m = qmsg_fifo_shift(&d->buf))) {
		qmsg_free(m);
		d->dropped++;
	}
}

/* Complete every waiter of l with status, oldest first. */
static void pipe_fail_all(struct pipe *p, struct wlist *l, int status)
{
	struct waiter *w;

	/* Pop from the live list: a callback that unparks another waiter
	 * of it (its connection died) unlinks it here, and it is skipped. */
	while ((w = wlist_pop(l)))
		pipe_wake(p, w, status, NULL);
}

/* Complete every receiver of d, stalled or not, with status, oldest
 * first (from the live FIFO, as pipe_fail_all). */
static void pipe_fail_receivers(struct pipe_dir *d, int status)
{
	struct waiter *w;

	while ((w = wfifo_shift(&d->parked.get)))
		pipe_wake(d->pipe, w, status, NULL);
}

/* A new pipe with both ends free. */
struct pipe *pipe_new(const char *name, bool duplex, size_t maxmsgs,
		      size_t maxbytes, waiter_wake_fn wake)
{
	struct pipe *p;
	int i;

	assert(wake);
	if (maxmsgs == 0 || maxbytes == 0) {
		errno = EINVAL;
		return NULL;
	}
	p = named_new(sizeof(*p), offsetof(struct pipe, name), name);
	if (!p)
		return NULL;
	p->duplex = duplex;
	p->maxmsgs = maxmsgs;
	p->maxbytes = maxbytes;
	p->wake = wake;
	for (i = 0; i < 2; i++) {
		p->dir[i].pipe = p;
		wpark_init(&p->dir[i].parked);
	}
	return p;
}

/* Wake every parked waiter with status (receivers, then senders), free
 * the messages and the pipe. */
void pipe_free(struct pipe *p, int status)
{
	int i;

	if (!p)
		return;
	assert(p->depth == 0);
	p->dying = true;
	for (i = 0; i < 2; i++)
		pipe_fail_receivers(&p->dir[i], status);
	for (i = 0; i < 2; i++)
		pipe_fail_all(p, &p->dir[i].parked.put, status);
	for (i = 0; i < 2; i++)
		pipe_dir_drop(&p->dir[i]);
	free(p);
}

/* The pipe's name. */
const char *pipe_name(const struct pipe *p)
{
	return p->name;
}

/* true for a duplex pipe. */
bool pipe_duplex(const struct pipe *p)
{
	return p->duplex;
}

/* The per-direction message bound. */
size_t pipe_maxmsgs(const struct pipe *p)
{
	return p->maxmsgs;
}

/* The per-direction byte bound. */
size_t pipe_maxbytes(const struct pipe *p)
{
	return p->maxbytes;
}

/* Attach owner to a free end. */
int pipe_attach(struct pipe *p, unsigned end, void *owner)
{
	if (end > 1 || !owner)
		return IPC_EINVAL;
	if (p->state[end] == PIPE_END_ATTACHED)
		return IPC_EBUSY;
	if (p->state[end] == PIPE_END_CLOSED)
		return IPC_ECLOSED;
	p->state[end] = PIPE_END_ATTACHED;
	p->owner[end] = owner;
	return 0;
}

/* May owner use end? 0, IPC_EINVAL, IPC_ECLOSED or IPC_ENOTATTACHED. */
static int pipe_check_owner(const struct pipe *p, unsigned end, const void *owner)
{
	if (end > 1)
		return IPC_EINVAL;
	if (p->state[end] == PIPE_END_CLOSED)
		return IPC_ECLOSED;
	if (p->state[end] != PIPE_END_ATTACHED || p->owner[end] != owner)
		return IPC_ENOTATTACHED;
	return 0;
}

/* May owner send from end now? 0, or pipe_send's refusal. */
static int pipe_send_check(const struct pipe *p, unsigned end, const void *owner)
{
	int rc = pipe_check_owner(p, end, owner);

	if (rc)
		return rc;
	if (!p->duplex && end == 0)
		return IPC_EDIRECTION;
	if (p->state[1 - end] == PIPE_END_CLOSED)
		return IPC_EPIPE;
	return 0;
}

/* Hand msgs[0..n) (n >= 1) to w, a receiver of d just unlinked, as many
 * as it wants, chained: how many it took. */
static size_t pipe_hand_run(struct pipe_dir *d, struct waiter *w,
			    struct qmsg **msgs, size_t n)
{
	size_t k = w->want < n ? w->want : n, i;

	if (k == 0)
		k = 1;
	assert(d->buf.n == 0);
	for (i = 0; i < k; i++)
		msgs[i]->next = i + 1 < k ? msgs[i + 1] : NULL;
	d->sent += k;
	d->received += k;
	pipe_wake(d->pipe, w, 0, msgs[0]);
	return k;
}

/* Send msgs[0..n) from end: hand them to parked receivers (each as many
 * as it wants), buffer them, or stop at the first refused. The checks are
 * made again for every message: a wake callback may close an end. */
int pipe_send_batch(struct pipe *p, unsigned end, const void *owner,
		    struct qmsg **msgs, size_t n, size_t *taken)
{
	struct pipe_dir *d = &p->dir[end > 1 ? 0 : end];
	struct waiter *w;
	size_t i = 0;
	int rc = 0;

	while (i < n && (rc = pipe_send_check(p, end, owner)) == 0) {
		if (!p->dying && (w = wfifo_pop(&d->parked.get))) {
			i += pipe_hand_run(d, w, msgs + i, n - i);
			continue;
		}
		if (d->parked.put.count || pipe_dir_full(d, msgs[i]->len)) {
			rc = IPC_EFULL;
			break;
		}
		qmsg_fifo_put(&d->buf, msgs[i++], &d->sent);
	}
	*taken = i;
	return rc;
}

/* Send m from end: hand it to a parked receiver, buffer it, or refuse. */
int pipe_send(struct pipe *p, unsigned end, const void *owner, struct qmsg *m)
{
	size_t taken;

	return pipe_send_batch(p, end, owner, &m, 1, &taken);
}

/* Admit d's parked senders, oldest first, while their messages fit. */
static void pipe_admit(struct pipe_dir *d)
{
	struct pipe *p = d->pipe;
	struct waiter *w;
	struct qmsg *m;

	while (!p->dying && (w = wlist_first(&d->parked.put)) && !pipe_dir_full(d, w->msg->len)) {
		wlist_remove(&d->parked.put, w);
		m = w->msg;
		w->msg = NULL;
		qmsg_fifo_put(&d->buf, m, &d->sent);
		pipe_wake(p, w, 0, NULL);
	}
}

/* Receive at end: the oldest message, EOF once the peer closed, or Empty. */
int pipe_recv(struct pipe *p, unsigned end, const void *owner, struct qmsg **m)
{
	struct pipe_dir *d;
	int rc = pipe_check_owner(p, end, owner);

	if (rc)
		return rc;
	if (!p->duplex && end == 1)
		return IPC_EDIRECTION;
	d = &p->dir[1 - end];
	if (d->buf.head) {
		*m = qmsg_fifo_get(&d->buf, &d->received);
		pipe_admit(d);
		return 0;
	}
	return p->state[1 - end] == PIPE_END_CLOSED ? IPC_EEOF : IPC_EEMPTY;
}

/* The oldest message buffered for end, without taking it. */
const struct qmsg *pipe_head(const struct pipe *p, unsigned end)
{
	return p->dir[1 - end].buf.head;
}

/* Park w for end after Empty (receiver) or Full (sender). */
void pipe_park(struct pipe *p, unsigned end, struct waiter *w)
{
	struct pipe_dir *d;

	assert(!p->dying && end <= 1 && !w->holder);
	assert(p->state[end] == PIPE_END_ATTACHED);
	if (w->kind == WAITER_GET) {
		d = &p->dir[1 - end];
		assert(d->buf.n == 0 && p->state[1 - end] != PIPE_END_CLOSED);
	} else {
		d = &p->dir[end];
		assert(w->kind == WAITER_PUT && w->msg);
		assert(d->parked.put.count || pipe_dir_full(d, w->msg->len));
	}
	wpark_add(&d->parked, w, d);
}

/* Remove a parked waiter without completing it; no-op if not parked. */
void pipe_unpark(struct waiter *w)
{
	struct pipe_dir *d = w->holder;

	if (d != NULL)
		wpark_remove(&d->parked, w);
}

/* Is w parked at end of p (a receiver there, or a sender from there)? */
bool pipe_parked_at(const struct pipe *p, unsigned end, const struct waiter *w)
{
	if (w->holder == NULL || end > 1)
		return false;
	if (w->kind == WAITER_GET)
		return w->holder == &p->dir[1 - end];
	return w->holder == &p->dir[end];
}

/* Hold back parked receiver w: it keeps its place, handed nothing. */
void pipe_stall(struct waiter *w)
{
	struct pipe_dir *d = w->holder;

	if (d != NULL && w->kind == WAITER_GET)
		wfifo_stall(&d->parked.get, w);
}

/* Serve d's receivers that are not stalled from its buffer, oldest
 * first and one message each; once d is empty and its sender closed,
 * the rest see the end of the pipe. */
static void pipe_kick(struct pipe_dir *d)
{
	struct pipe *p = d->pipe;
	struct waiter *w;
	struct qmsg *m;

	while (!p->dying && d->buf.head != NULL && (w = wfifo_pop(&d->parked.get))) {
		m = qmsg_fifo_get(&d->buf, &d->received);
		pipe_wake(p, w, 0, m);
		pipe_admit(d);
	}
	if (!p->dying && d->buf.head == NULL &&
	    p->state[d - p->dir] == PIPE_END_CLOSED)
		pipe_fail_receivers(d, IPC_EEOF);
}

/* Let stalled receiver w be served again; its pipe, or NULL. */
struct pipe *pipe_resume(struct waiter *w)
{
	struct pipe_dir *d = w->holder;

	if (d == NULL || !w->stalled)
		return NULL;
	wfifo_unstall(&d->parked.get, w);
	pipe_kick(d);
	return d->pipe;
}

/* Close end: update the state and drop what nobody can read, then wake. */
int pipe_close(struct pipe *p, unsigned end, const void *owner)
{
	struct pipe_dir *out, *in;
	int rc = pipe_check_owner(p, end, owner);

	if (rc)
		return rc;
	out = &p->dir[end];     /* what end sent: the peer may drain it */
	in = &p->dir[1 - end];  /* what was sent to end: nobody reads it now */
	p->state[end] = PIPE_END_CLOSED;
	p->owner[end] = NULL;
	pipe_dir_drop(in);
	/* The peer's blocked sends are refused, end's own requests end. */
	pipe_fail_all(p, &in->parked.put, IPC_EPIPE);
	pipe_fail_receivers(in, IPC_ECLOSED);
	pipe_fail_all(p, &out->parked.put, IPC_ECLOSED);
	/* Receivers are parked on a non-empty direction only while held
	 * back (pipe_stall): they drain it first (pipe_kick). Otherwise
	 * nothing is left for the peer: its receives see the end. */
	if (!out->buf.head)
		pipe_fail_receivers(out, IPC_EEOF);
	return 0;
}

/* Detach end: free again, with what each way holds kept; end's own parked
 * requests end with IPC_ENOTATTACHED. The peer notices nothing. */
int pipe_detach(struct pipe *p, unsigned end, const void *owner)
{
	int rc = pipe_check_owner(p, end, owner);

	if (rc)
		return rc;
	p->state[end] = PIPE_END_FREE;
	p->owner[end] = NULL;
	pipe_fail_receivers(&p->dir[1 - end], IPC_ENOTATTACHED);
	pipe_fail_all(p, &p->dir[end].parked.put, IPC_ENOTATTACHED);
	return 0;
}

/* Delete the pipe: close both ends, drop every message, then fail every
 * parked request with status. */
void pipe_kill(struct pipe *p, int status)
{
	int i;

	for (i = 0; i < 2; i++) {
		p->state[i] = PIPE_END_CLOSED;
		p->owner[i] = NULL;
		pipe_dir_drop(&p->dir[i]);
	}
	/* Both ends are closed now: a callback's send, receive or close on
	 * this pipe is refused (IPC_ECLOSED), and nothing can park on it. */
	for (i = 0; i < 2; i++)
		pipe_fail_receivers(&p->dir[i], status);
	for (i = 0; i < 2; i++)
		pipe_fail_all(p, &p->dir[i].parked.put, status);
}

/* Who holds end (NULL when it is not attached). */
const void *pipe_owner(const struct pipe *p, unsigned end)
{
	if (end > 1 || p->state[end] != PIPE_END_ATTACHED)
		return NULL;
	return p->owner[end];
}

/* Both ends closed and nobody walking the pipe: time to free it. */
bool pipe_done(const struct pipe *p)
{
	return p->state[0] == PIPE_END_CLOSED &&
	       p->state[1] == PIPE_END_CLOSED && p->depth == 0;
}

/* Fill *st with the current state and counters. */
void pipe_stats(const struct pipe *p, struct pipe_stats *st)
{
	int i;

	st->duplex = p->duplex;
	st->maxmsgs = p->maxmsgs;
	st->maxbytes = p->maxbytes;
	for (i = 0; i < 2; i++) {
		const struct pipe_dir *d = &p->dir[i];

		st->end[i] = p->state[i];
		st->dir[i] = (struct pipe_dir_stats){
			.msgs = d->buf.n, .bytes = d->buf.bytes, .memory = d->buf.mem,
			.receivers = wfifo_count(&d->parked.get),
			.senders = d->parked.put.count, .sent = d->sent,
			.received = d->received, .dropped = d->dropped,
		};
	}
}
