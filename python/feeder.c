/* SPDX-License-Identifier: MIT */
/*
 * feeder.c: ipcd._ipcd.Feeder, the background sender behind the puts of
 * an unbounded ipcd.Queue (multiprocessing.Queue's feeder thread, in C)
 * and behind the sends of an ipcd.Connection's pipe end.
 *
 * The caller serialises and feed() copies the bytes into the Feeder's
 * buffer and returns. A thread of the Feeder's own, which never takes
 * the GIL and has every signal blocked, sends whatever has accumulated
 * as one batch on a connection of its own (QPUTN requests, one write),
 * waits for their answers and goes again: under load many puts share one
 * system call and one daemon request. A lone put (the thread idle with
 * nothing to send, the last put 0.1 ms ago or more) is written by the
 * caller itself on that connection, with no hand-off or wakeup; the
 * thread reads its answer with its next batch, or when sync() or
 * close() wants it (urge).
 *
 * Counting: fed counts the messages fed, acked those whose answers came
 * (all of a batch at once). sync() waits until acked reaches what fed
 * was when it was called, so a get after a put in this process finds it
 * there. The first failure an answer reports is kept, with how many
 * messages were left out, until a caller takes it: feed() (which then
 * feeds nothing), sync(), close().
 *
 * Fork: a child never touches its parent's feeder: the thread is not in
 * the child and the lock may be held there. _after_fork() (the package's
 * at-fork hook), or the next use in the child, closes the inherited
 * socket and forgets the state (leaked, not freed: the
 * parent's thread may have been inside the library or the buffers when
 * the process forked); the buffered messages are the parent's to send.
 *
 * Pipe ends (end >= 0): the thread's connection holds the end too,
 * joined with a share token of the Connection's own connection (once:
 * a thread that ended is not started again), and sends PSEND requests,
 * written in runs. Closing the feeder closes that connection, which lets
 * go of its hold, so the peer sees EOF once the Connection closed as
 * well. window bounds the sends not answered yet, so a send to a closed
 * peer raises BrokenPipeError within window sends, and a producer waits
 * while its sends wait in the daemon for room, as a sender waits on a
 * full socket.
 *
 * Bounded queues (bounded): the thread's connection reserves slots
 * (reserve(): QRESV, made by the caller on that connection while the
 * thread keeps off it, once everything fed is answered) and the thread
 * puts into them (QPUTR, written in runs like a pipe's sends). feed()
 * buffers a message only when it can take one of those credits. The
 * daemon holds the slots until they are given back (no lease): the
 * thread itself gives back the ones left (QUNRESV, after the QPUTRs of
 * every credit taken) hold_ns after the last reserve or run of puts,
 * when nothing is left to send, and no put can take one after that; so
 * a reserved put never comes late, however long the thread is held off.
 * Otherwise feed() buffers nothing and the caller syncs, reserves anew,
 * or puts itself (waiting for room). A failure forgets the credits (the
 * next reserve gives back what the daemon may still hold first).
 */
#include "_ipcd.h"

#include <errno.h>
#include <pthread.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <ipcclient/ipcclient.h>

/* A feed waits while this much is buffered and not yet taken by the
 * thread: memory stays bounded when the daemon is slower than the
 * producer (multiprocessing's buffer has no bound). */
#define FEED_BYTES_MAX (4u << 20)
#define FEED_MSGS_MAX 16384u

/* A message this large goes in a put of its own (QPUT), not in a batch
 * (QPUTN): the daemon copies a batch's payloads once more, which costs
 * more than the request saved for a message of this size. */
#define FEED_ALONE 16384u

/* What feed_one did with a message (0: nothing, retry; -1: failed). */
enum { FEED_FED = 1, FEED_NOCREDIT = 2 };

/* A put this long after the previous one is a lone put (feeder_lone). */
#define FEED_QUIET_NS 100000LL

/* Messages one after another in one allocation. */
struct fbuf {
	char *data;
	size_t used, cap;
	size_t *lens;            /* each message's length, in order */
	size_t n, ncap;
};

/* The state the Python object and its thread share (mu guards it). */
struct feeder {
	pthread_mutex_t mu;
	pthread_cond_t wake;     /* to the thread: messages came, or stop */
	pthread_cond_t moved;    /* to callers: acked grew, in was taken, ended */
	struct fbuf in;          /* callers add here (with the GIL) */
	struct fbuf out;         /* the batch the thread sends (no lock) */
	struct ipc_msg *msgs;    /* out as messages (thread only) */
	size_t msgs_cap;
	uint64_t fed, acked;     /* messages fed; answered (atomic reads) */
	int idle;                /* the thread waits on wake */
	int direct;              /* a caller writes on c (feed_direct) */
	int unread;              /* callers wrote: answers not read yet */
	int urge;                /* sync() waits: read them now */
	long long last_put;      /* when the last message was fed (ns) */
	int stop;                /* send what is there, then end */
	int ended;               /* the thread returned (or will at once) */
	int err;                 /* the first failure not taken yet, or 0 */
	unsigned long long lost; /* messages left out since it was taken */
	char errtext[256];
	int refs;                /* the object and the running thread */
	ipc_client *c;           /* the thread's own connection */
	size_t msg_max;          /* larger messages the caller puts itself */
	int end;                 /* the pipe end sent from, or -1: a queue */
	int bounded;             /* puts into slots c reserved (QPUTR) */
	long credits;            /* bounded: slots reserved, not spent yet */
	int give_back;           /* bounded: slots may be held still: QUNRESV first */
	long long used_ns;       /* bounded: the last QRESV/QPUTR taken to write */
	long long hold_ns;       /* bounded: give unspent slots back this long after */
	int giving;              /* bounded, thread only: this turn gives them back */
	uint64_t window;         /* most messages fed and not answered (0: any) */
	char name[IPC_NAME_MAX + 1];
	pthread_t tid;
};

/* Feeder(socket, name): a queue's feeder in one process. */
typedef struct FeederObject {
	PyObject_HEAD
	struct feeder *f;        /* NULL until the first feed (in pid) */
	pid_t pid;               /* the process that started f */
	char *sock;              /* the socket asked for, or NULL */
	char name[IPC_NAME_MAX + 1];
	int end;                 /* the pipe end, or -1: a queue */
	int bounded;             /* struct feeder's */
	unsigned window;         /* struct feeder's */
	unsigned long long token; /* a pipe end's share, spent by the start */
	int detach;              /* cancel_join(): closing does not wait */
	PyObject *on_start;      /* called with self when a thread starts */
	PyObject *weakrefs;
} FeederObject;

/* ---- the buffer ------------------------------------------------------ */

/* Grow *p (of *cap elements of size sz) to hold need: 0 or -1. */
static int grow(void **p, size_t *cap, size_t need, size_t sz)
{
	size_t n = *cap ? *cap : 64;
	void *q;

	if (need <= *cap)
		return 0;
	while (n < need)
		n *= 2;
	if (!(q = realloc(*p, n * sz)))
		return -1;
	*p = q;
	*cap = n;
	return 0;
}

/* Append message mp to b: 0, or -1 out of memory. */
static int fbuf_add(struct fbuf *b, const struct msg_parts *mp)
{
	size_t len = msg_parts_len(mp);

	if (grow((void **)&b->data, &b->cap, b->used + len, 1) ||
	    grow((void **)&b->lens, &b->ncap, b->n + 1, sizeof(*b->lens)))
		return -1;
	msg_parts_copy(b->data + b->used, mp);
	b->used += len;
	b->lens[b->n++] = len;
	return 0;
}

/* Free b's memory. */
static void fbuf_free(struct fbuf *b)
{
	free(b->data);
	free(b->lens);
	memset(b, 0, sizeof(*b));
}

/* ---- the thread ------------------------------------------------------ */

/* With mu held, bounded, nothing to send and no caller writing: whether
 * the unspent slots are to go back now (hold_ns after the last reserve
 * or run of puts); then no put may spend them any more (credits 0). */
static int feeder_hold_over(struct feeder *f)
{
	if (!f->bounded || f->credits <= 0 || f->in.n || now_ns() - f->used_ns < f->hold_ns)
		return 0;
	f->credits = 0;
	return 1;
}

/* With mu held: wait for a wakeup; while slots are held (bounded), at
 * most until they are to go back. */
static void feeder_sleep(struct feeder *f)
{
	long long due = f->used_ns + f->hold_ns;
	struct timespec ts = { due / 1000000000LL, due % 1000000000LL };

	if (f->bounded && f->credits > 0)
		pthread_cond_timedwait(&f->wake, &f->mu, &ts);
	else
		pthread_cond_wait(&f->wake, &f->mu);
}

/* With mu held: wait until there is something to send or answers to
 * read (and no caller writes on c), then take it (in becomes out) and
 * say in *upto what fed then was. 0 when stopping with nothing left. */
static int feeder_take(struct feeder *f, uint64_t *upto)
{
	struct fbuf t;

	f->giving = 0;
	while ((f->in.n == 0 && !f->stop && !(f->unread && f->urge)) || f->direct) {
		if (!f->direct && (f->giving = feeder_hold_over(f)))
			break;
		f->idle = 1;
		feeder_sleep(f);
		f->idle = 0;
	}
	if (f->in.n == 0 && !f->unread && !f->giving)
		return 0;
	t = f->out;
	f->out = f->in;
	f->in = t;
	*upto = f->fed;
	if (f->bounded && f->out.n)
		f->used_ns = now_ns();
	f->unread = 0;
	f->urge = 0;
	pthread_cond_broadcast(&f->moved); /* room for a feed that waits */
	return 1;
}

/* Write one message without waiting: a send from the pipe end, a put
 * into a reserved slot (bounded) or a plain put. 0 or the library's code. */
static int feeder_write_one(struct feeder *f, const void *data, size_t len)
{
	if (f->end >= 0)
		return ipc_pipe_send_async(f->c, f->name, f->end, data, len, IPC_FOREVER);
	if (f->bounded)
		return ipc_queue_put_reserved_async(f->c, f->name, data, len);
	return ipc_queue_put_async(f->c, f->name, data, len, IPC_FOREVER);
}

/* Write msgs[0..n) in order without waiting: to a pipe end or into
 * reserved slots, a request each; to an unbounded queue, runs of small messages as batches, each large one
 * (FEED_ALONE) as a put of its own. 0 or the library's code. */
static int feeder_write(struct feeder *f, const struct ipc_msg *msgs, size_t n)
{
	size_t i, j;
	int rc = 0;

	if (f->end >= 0 || f->bounded) {
		for (i = 0; i < n && rc == 0; i++)
			rc = feeder_write_one(f, msgs[i].data, msgs[i].len);
		return rc;
	}
	for (i = 0; i < n && rc == 0; i = j) {
		for (j = i; j < n && msgs[j].len < FEED_ALONE; j++)
			;
		if (j > i) {
			rc = ipc_queue_put_many_async(f->c, f->name, msgs + i, j - i, IPC_FOREVER);
		} else {
			rc = ipc_queue_put_async(f->c, f->name, msgs[i].data, msgs[i].len,
						 IPC_FOREVER);
			j = i + 1;
		}
	}
	return rc;
}

/* Send the batch out and wait for its answers (mu not held): 0, the
 * first failure, or fatal; *notput counts the messages left out. */
static int feeder_send(struct feeder *f, unsigned long long *notput)
{
	struct fbuf *b = &f->out;
	size_t i, off = 0;
	int rc, frc;

	*notput = b->n;
	if (grow((void **)&f->msgs, &f->msgs_cap, b->n, sizeof(*f->msgs)))
		return IPC_ENOMEM;
	for (i = 0; i < b->n; off += b->lens[i++]) {
		f->msgs[i].data = b->data + off;
		f->msgs[i].len = b->lens[i];
	}
	rc = feeder_write(f, f->msgs, b->n);
	/* After every put into them (never ENOTHELD); a queue gone since
	 * holds none: only a lost connection is a failure. */
	if (rc == 0 && f->giving && (rc = ipc_queue_unreserve(f->c, f->name)) > 0)
		rc = 0;
	frc = rc < 0 ? rc : ipc_flush(f->c);
	if (rc == 0) {
		rc = frc;
		*notput = ipc_flush_notput(f->c);
	}
	b->used = b->n = 0;
	return rc;
}

/* With mu held: failure rc left notput messages out; keep it if it is
 * the first one not taken yet. */
static void feeder_fail(struct feeder *f, int rc, unsigned long long notput)
{
	if (!f->err) {
		/* A batch cut short on an unbounded queue: a daemon limit. */
		f->err = rc == IPC_EFULL && f->end < 0 && !f->bounded ? IPC_ELIMIT : rc;
		snprintf(f->errtext, sizeof(f->errtext), "%s", ipc_last_error(f->c));
	}
	f->lost += notput;
	if (f->bounded) { /* the slots the daemon still holds are not known */
		f->credits = 0;
		f->give_back = 1;
	}
}

/* With mu held: the answers to what was sent up to upto came with rc.
 * A fatal failure ends the thread and drops what is buffered (counted
 * as left out). */
static void feeder_note(struct feeder *f, int rc, uint64_t upto, unsigned long long notput)
{
	if (rc)
		feeder_fail(f, rc, notput);
	if (rc < 0) {
		f->lost += f->in.n;
		f->in.used = f->in.n = 0;
		upto = f->fed;
	}
	__atomic_store_n(&f->acked, upto, __ATOMIC_RELEASE);
	pthread_cond_broadcast(&f->moved);
}

/* Close f's connection and free it. */
static void feeder_free(struct feeder *f)
{
	ipc_close(f->c);
	fbuf_free(&f->in);
	fbuf_free(&f->out);
	free(f->msgs);
	pthread_cond_destroy(&f->wake);
	pthread_cond_destroy(&f->moved);
	pthread_mutex_destroy(&f->mu);
	free(f);
}

/* Drop one reference to f (mu not held); the last frees it. */
static void feeder_unref(struct feeder *f)
{
	int last;

	pthread_mutex_lock(&f->mu);
	last = --f->refs == 0;
	pthread_mutex_unlock(&f->mu);
	if (last)
		feeder_free(f);
}

/* The thread: take, send, note, until stopped or a fatal failure. */
static void *feeder_main(void *arg)
{
	struct feeder *f = arg;
	unsigned long long notput;
	uint64_t upto;
	int rc = 0;

	pthread_mutex_lock(&f->mu);
	while (rc >= 0 && feeder_take(f, &upto)) {
		pthread_mutex_unlock(&f->mu);
		rc = feeder_send(f, &notput);
		pthread_mutex_lock(&f->mu);
		feeder_note(f, rc, upto, notput);
	}
	f->ended = 1;
	pthread_cond_broadcast(&f->moved);
	pthread_mutex_unlock(&f->mu);
	feeder_unref(f);
	return NULL;
}

/* ---- waiting (GIL released, Ctrl-C between slices) -------------------- */

/* With mu held: wake the thread if it waits. */
static void feeder_kick(struct feeder *f)
{
	if (f->idle)
		pthread_cond_signal(&f->wake);
}

/* What a caller waits for, with mu held. */
typedef int (*feed_pred)(const struct feeder *f, uint64_t arg);

/* Every message fed up to arg answered (or the thread ended). */
static int pred_acked(const struct feeder *f, uint64_t arg)
{
	return f->acked >= arg || f->ended;
}

/* Room in the buffer and the window (or the thread ended). */
static int pred_room(const struct feeder *f, uint64_t arg)
{
	(void)arg;
	return (f->in.n < FEED_MSGS_MAX && f->in.used < FEED_BYTES_MAX &&
		(!f->window || f->fed - f->acked < f->window)) || f->ended;
}

/* The thread ended. */
static int pred_ended(const struct feeder *f, uint64_t arg)
{
	(void)arg;
	return f->ended;
}

/* What a feeder_wait waits for: pred(f, arg). */
struct feed_wait {
	struct feeder *f;
	feed_pred pred;
	uint64_t arg;
};

/* Wait at most one slice of slice_ms for the feed_wait at arg: whether
 * its pred holds. */
static int wait_slice(void *arg, int slice_ms)
{
	struct feed_wait *w = arg;
	struct feeder *f = w->f;
	struct timespec ts;
	int ok;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	ts.tv_nsec += slice_ms * 1000000L;
	ts.tv_sec += ts.tv_nsec / 1000000000L;
	ts.tv_nsec %= 1000000000L;
	pthread_mutex_lock(&f->mu);
	while (!(ok = w->pred(f, w->arg))) {
		/* Whoever waits wants the answers of callers' writes read: say
		 * so at every turn (a lone write may come after the thread
		 * took the last urge, and nobody else wakes it for that). */
		f->urge = 1;
		feeder_kick(f);
		if (pthread_cond_timedwait(&f->moved, &f->mu, &ts) == ETIMEDOUT) {
			ok = w->pred(f, w->arg);
			break;
		}
	}
	pthread_mutex_unlock(&f->mu);
	return ok;
}

/* Wait for pred with the GIL released: 0, or -1 when a signal handler
 * raised (KeyboardInterrupt) with nothing changed. */
static int feeder_wait(struct feeder *f, feed_pred pred, uint64_t arg)
{
	struct feed_wait w = { f, pred, arg };

	return sliced_wait(wait_slice, &w, -1) < 0 ? -1 : 0;
}

/* ---- starting and stopping ------------------------------------------ */

/* Connect f for self (GIL released), joining self's pipe end with its
 * share token (spent): 0, or a code with the exception raised. */
static int feeder_connect(FeederObject *self, struct feeder *f)
{
	unsigned long long token = self->token;
	int rc;

	if (self->end >= 0 && !token) {
		raise_code(IPC_ECLOSED, "this pipe end's sender ended (its connection was "
			   "lost); close the Connection");
		return IPC_ECLOSED;
	}
	self->token = 0;
	Py_BEGIN_ALLOW_THREADS
	errno = 0;
	rc = ipc_connect(self->sock, &f->c);
	if (rc == 0 && self->end >= 0 &&
	    (rc = ipc_pipe_join(f->c, self->name, self->end, token, NULL)) != 0) {
		snprintf(f->errtext, sizeof(f->errtext), "%s", ipc_last_error(f->c));
		ipc_close(f->c);
	}
	Py_END_ALLOW_THREADS
	if (rc)
		raise_code(rc, f->errtext[0] ? f->errtext : NULL);
	return rc;
}

/* Make the state and the connection of a new thread (not started). */
static struct feeder *feeder_new(FeederObject *self)
{
	struct feeder *f = calloc(1, sizeof(*f));
	pthread_condattr_t ca;

	if (!f) {
		PyErr_NoMemory();
		return NULL;
	}
	if (feeder_connect(self, f)) {
		free(f);
		return NULL;
	}
	pthread_mutex_init(&f->mu, NULL);
	pthread_condattr_init(&ca);
	pthread_condattr_setclock(&ca, CLOCK_MONOTONIC);
	pthread_cond_init(&f->moved, &ca);
	pthread_cond_init(&f->wake, &ca);
	pthread_condattr_destroy(&ca);
	f->msg_max = ipc_msg_max(f->c);
	f->end = self->end;
	f->bounded = self->bounded;
	f->window = self->window;
	memcpy(f->name, self->name, sizeof(f->name));
	f->refs = 2;
	return f;
}

/* Start self's thread in this process: 0, or -1 with an exception. */
static int feeder_start(FeederObject *self)
{
	struct feeder *f = feeder_new(self);
	sigset_t all, old;
	int rc;

	if (!f)
		return -1;
	/* Signals go to the Python threads, whose waits check for them. */
	sigfillset(&all);
	pthread_sigmask(SIG_BLOCK, &all, &old);
	rc = pthread_create(&f->tid, NULL, feeder_main, f);
	pthread_sigmask(SIG_SETMASK, &old, NULL);
	if (rc) {
		f->refs = 1;
		feeder_unref(f);
		errno = rc;
		PyErr_SetFromErrno(PyExc_OSError);
		return -1;
	}
	self->f = f;
	self->pid = this_pid;
	if (self->on_start && self->on_start != Py_None) {
		PyObject *r = PyObject_CallOneArg(self->on_start, (PyObject *)self);

		Py_XDECREF(r);
		return r ? 0 : -1;
	}
	return 0;
}

/* Tell the thread to end once everything fed is sent. */
static void feeder_tell_stop(struct feeder *f)
{
	pthread_mutex_lock(&f->mu);
	f->stop = 1;
	pthread_cond_signal(&f->wake);
	pthread_mutex_unlock(&f->mu);
}

/* Let go of self's state, whose thread ended or will end on its own. */
static void feeder_let_go(FeederObject *self, int join)
{
	struct feeder *f = self->f;

	self->f = NULL;
	if (join) {
		Py_BEGIN_ALLOW_THREADS
		pthread_join(f->tid, NULL);
		Py_END_ALLOW_THREADS
	} else {
		pthread_detach(f->tid);
	}
	feeder_unref(f);
}

/* In a forked child: forget the parent's state (see the top). */
static void feeder_forget(FeederObject *self)
{
	int fd = self->f ? ipc_fd(self->f->c) : -1;

	if (fd >= 0)
		close(fd);
	self->f = NULL;
}

/* Take the failure kept, if any, and raise it: -1, else 0. */
static int feeder_raise(FeederObject *self)
{
	struct feeder *f = self->f;
	char detail[sizeof(f->errtext) + 96];
	unsigned long long lost;
	int err;

	if (!f || !__atomic_load_n(&f->err, __ATOMIC_ACQUIRE))
		return 0;
	pthread_mutex_lock(&f->mu);
	err = f->err;
	lost = f->lost;
	snprintf(detail, sizeof(detail), "an earlier %s failed (%llu message%s not %s): %s",
		 f->end < 0 ? "put" : "send", lost, lost == 1 ? "" : "s",
		 f->end < 0 ? "put" : "sent", f->errtext);
	f->err = 0;
	f->lost = 0;
	pthread_mutex_unlock(&f->mu);
	raise_code(err, detail);
	return -1;
}

/* A running thread of this process for a feed: 0, or -1 with an
 * exception. A failure kept is raised first when check is set, and
 * always before a thread that ended (a fatal failure) is replaced. */
static int feeder_ready(FeederObject *self, int check)
{
	int ended;

	if (self->f && self->pid != this_pid)
		feeder_forget(self);
	ended = self->f && __atomic_load_n(&self->f->ended, __ATOMIC_ACQUIRE);
	if ((check || ended) && feeder_raise(self))
		return -1;
	if (ended)
		feeder_let_go(self, 1); /* anew */
	return self->f ? 0 : feeder_start(self);
}

/* ---- the methods ----------------------------------------------------- */

/* Write one message from the calling thread while f->direct keeps the
 * feeder's thread off the connection, then wake the thread to read the
 * answer (a failure to write is kept as the thread keeps its own). */
static void feed_direct(struct feeder *f, const struct msg_parts *mp)
{
	size_t len = msg_parts_len(mp);
	/* The library writes one piece: a message in parts is joined. */
	void *joined = len == mp->len[0] ? NULL : malloc(len);
	int rc;

	Py_BEGIN_ALLOW_THREADS
	if (len != mp->len[0] && joined == NULL)
		rc = IPC_ENOMEM;
	else
		rc = feeder_write_one(f, joined ? msg_parts_copy(joined, mp) : mp->base[0], len);
	free(joined);
	if (rc == 0)
		rc = ipc_push(f->c);
	pthread_mutex_lock(&f->mu);
	if (rc)
		feeder_fail(f, rc, 1);
	f->direct = 0;
	f->unread = 1;
	/* A sync() or reserve() that urged the thread meanwhile found it kept
	 * off by direct, and its kick is spent: wake it for them too. */
	if (f->in.n || f->urge)
		pthread_cond_signal(&f->wake);
	pthread_cond_broadcast(&f->moved); /* a reserve waits for the connection */
	pthread_mutex_unlock(&f->mu);
	Py_END_ALLOW_THREADS
}

/* With mu held: whether the caller may write a message itself
 * (feed_direct): the thread waits with nothing to send, and either no
 * answer is unread or the last put was FEED_QUIET_NS ago (a lone put,
 * not one of a stream, which the thread batches). The answers of such
 * writes are read by the thread with its next batch, or when sync()
 * or close() wants them, so a lone put costs no thread wakeup. */
static int feeder_lone(const struct feeder *f, long long now)
{
	return f->idle && f->in.n == 0 && !f->direct && !f->stop &&
	       (!f->unread || now - f->last_put >= FEED_QUIET_NS);
}

/* With mu held: wait (GIL and mu released) until the buffer has room:
 * 0, or -1 with the exception (mu not held then). */
static int feeder_room(struct feeder *f)
{
	while (!pred_room(f, 0)) {
		pthread_mutex_unlock(&f->mu);
		if (feeder_wait(f, pred_room, 0))
			return -1;
		pthread_mutex_lock(&f->mu);
	}
	return 0;
}

/* With mu held, bounded: take a credit for a put: FEED_FED, or
 * FEED_NOCREDIT when none is left (or the thread gave them back). */
static int feeder_credit(struct feeder *f)
{
	if (f->credits <= 0)
		return FEED_NOCREDIT;
	f->credits--;
	return FEED_FED;
}

/* Append one message, waiting for room: FEED_FED (or, bounded,
 * FEED_NOCREDIT: see feeder_credit), 0 the thread ended
 * or (with check) a failure came while waiting (retry: it is raised),
 * -1 with an exception. A single put (one) wakes the thread, or writes
 * the message itself when it is a lone one; feed_many wakes the thread
 * once, after its last message. */
static int feed_one(FeederObject *self, const struct msg_parts *mp, int one, int check)
{
	struct feeder *f = self->f;
	long long now = now_ns();
	int rc = FEED_FED, direct = 0;

	pthread_mutex_lock(&f->mu);
	if (feeder_room(f))
		return -1;
	if (f->ended || (check && f->err))
		rc = 0;
	else if (f->bounded)
		rc = feeder_credit(f);
	if (rc == FEED_NOCREDIT || rc == 0)
		;
	else if (one && feeder_lone(f, now))
		direct = f->direct = 1;
	else if (fbuf_add(&f->in, mp))
		rc = -1;
	if (direct && f->bounded)
		f->used_ns = now;
	if (rc > 0 && rc != FEED_NOCREDIT) {
		f->fed++;
		f->last_put = now;
	}
	if (rc > 0 && rc != FEED_NOCREDIT && one && !direct)
		feeder_kick(f);
	pthread_mutex_unlock(&f->mu);
	if (direct)
		feed_direct(f, mp);
	if (rc < 0)
		PyErr_NoMemory();
	return rc;
}

/* Feed message mp (see feed_one; check: see feeder_ready): FEED_FED, 0
 * too large for the feeder or (bounded) no credit, -1 with an exception. */
static int feed_buf(FeederObject *self, const struct msg_parts *mp, int one, int check)
{
	int rc;

	do {
		if (feeder_ready(self, check))
			return -1;
		if (msg_parts_len(mp) > self->f->msg_max)
			return 0;
		rc = feed_one(self, mp, one, check);
	} while (rc == 0);
	return rc == FEED_NOCREDIT ? 0 : rc;
}

PyDoc_STRVAR(feed_doc, "feed(data) -> int\n--\n\n"
	     "Buffer data (bytes-like) for the thread to put, starting the thread "
	     "(and its connection) on first use in this process; 1 (True). 0 "
	     "(False), with nothing buffered, when data is over the daemon's "
	     "msg_max: the caller puts it itself, after sync(). Raises a failure "
	     "kept from earlier puts first (nothing buffered then). Waits (Ctrl-C "
	     "interrupts it) while 4 MiB or 16384 messages are buffered. A bounded "
	     "Feeder buffers data only into a slot its connection reserved "
	     "(reserve()): 0 when none is left.");
/* Feeder.feed(). */
static PyObject *feeder_feed(FeederObject *self, PyObject *arg)
{
	struct msg_parts mp;
	Py_buffer buf;
	int rc;

	if (PyObject_GetBuffer(arg, &buf, PyBUF_SIMPLE) < 0)
		return NULL;
	mp = msg_parts_of(&buf);
	rc = feed_buf(self, &mp, 1, 1);
	PyBuffer_Release(&buf);
	if (rc < 0)
		return NULL;
	return PyBool_FromLong(rc);
}

PyDoc_STRVAR(feed_obj_doc, "feed_obj(obj) -> bool\n--\n\n"
	     "feed(pickle_dumps(obj)) for an int, bytes or str, whose pickle goes "
	     "straight into the buffer (no bytes object of it is made: one copy of "
	     "the payload less). False, with nothing buffered, for any other object "
	     "or a pickle over msg_max: the caller pickles it and goes on as after "
	     "feed(). Raises as feed() does.");
/* Feeder.feed_obj(). */
static PyObject *feeder_feed_obj(FeederObject *self, PyObject *obj)
{
	unsigned char ops[PICKLE5_PARTS_BUF];
	struct msg_parts mp;
	int rc;

	if (!pickle5_parts(obj, ops, &mp))
		Py_RETURN_FALSE;
	if ((rc = feed_buf(self, &mp, 1, 1)) < 0)
		return NULL;
	return PyBool_FromLong(rc);
}

/* Wake the thread for what feed_many or feed_many_obj buffered. */
static void feed_many_kick(FeederObject *self)
{
	if (self->f && self->pid == this_pid) {
		pthread_mutex_lock(&self->f->mu);
		feeder_kick(self->f);
		pthread_mutex_unlock(&self->f->mu);
	}
}

PyDoc_STRVAR(feed_many_doc, "feed_many(datas) -> int\n--\n\n"
	     "feed() each bytes-like object of the sequence datas in order, until "
	     "one is over msg_max: how many were buffered. A failure kept is raised "
	     "before the first one only (then nothing is buffered), never half-way.");
/* Feeder.feed_many(). */
static PyObject *feeder_feed_many(FeederObject *self, PyObject *arg)
{
	PyObject *seq = PySequence_Fast(arg, "feed_many() takes a sequence of bytes");
	Py_ssize_t i, n;
	int rc = 1;

	if (!seq)
		return NULL;
	n = PySequence_Fast_GET_SIZE(seq);
	for (i = 0; i < n && rc > 0; i += rc > 0) {
		struct msg_parts mp;
		Py_buffer buf;

		if (PyObject_GetBuffer(PySequence_Fast_GET_ITEM(seq, i), &buf, PyBUF_SIMPLE) < 0) {
			rc = -1;
			break;
		}
		/* One batch for all; a failure kept is raised before the
		 * first only, never half-way. */
		mp = msg_parts_of(&buf);
		rc = feed_buf(self, &mp, 0, i == 0);
		PyBuffer_Release(&buf);
	}
	Py_DECREF(seq);
	feed_many_kick(self);
	return rc < 0 ? NULL : PyLong_FromSsize_t(i);
}

PyDoc_STRVAR(feed_many_obj_doc, "feed_many_obj(objs) -> int or None\n--\n\n"
	     "feed_many([pickle_dumps(o) for o in objs]) when every item of the "
	     "sequence objs is an int, bytes or str (their pickles go straight into "
	     "the buffer, as feed_obj() writes them): how many were buffered. None, "
	     "with nothing buffered, when one is of another type.");
/* Feeder.feed_many_obj(). */
static PyObject *feeder_feed_many_obj(FeederObject *self, PyObject *arg)
{
	/* A tuple of the items: the parts point into them, and a feed may
	 * wait with the GIL released (or run a signal handler) while
	 * another thread changes a list passed in. */
	PyObject *seq = PySequence_Tuple(arg);
	unsigned char (*ops)[PICKLE5_PARTS_BUF] = NULL;
	struct msg_parts *mps = NULL;
	Py_ssize_t i = 0, n;
	int rc = 1, fast = 1;

	if (!seq)
		return NULL;
	n = PyTuple_GET_SIZE(seq);
	if (n > 0 && (!(ops = PyMem_Malloc((size_t)n * sizeof(*ops))) ||
		      !(mps = PyMem_Malloc((size_t)n * sizeof(*mps))))) {
		PyErr_NoMemory();
		rc = -1;
	}
	/* All or none go this way, so that the caller's own pickling of
	 * the others fails, if it does, before anything is buffered. */
	for (i = 0; rc > 0 && fast && i < n; i++)
		fast = pickle5_parts(PyTuple_GET_ITEM(seq, i), ops[i], &mps[i]);
	for (i = 0; rc > 0 && fast && i < n; i += rc > 0)
		rc = feed_buf(self, &mps[i], 0, i == 0);
	PyMem_Free(ops);
	PyMem_Free(mps);
	Py_DECREF(seq);
	if (i > 0)  /* also when a later one failed, as feed_many does */
		feed_many_kick(self);
	if (rc < 0)
		return NULL;
	if (!fast)
		Py_RETURN_NONE;
	return PyLong_FromSsize_t(i);
}

PyDoc_STRVAR(sync_doc, "sync(raise_failure=True)\n--\n\n"
	     "Wait until every message fed so far in this process is answered by "
	     "the daemon (Ctrl-C interrupts the wait), then raise a failure kept "
	     "(unless raise_failure is false: it stays for the next call). "
	     "Returns at once when nothing is unanswered.");
/* Feeder.sync(). */
static PyObject *feeder_sync(FeederObject *self, PyObject *const *args, Py_ssize_t nargs)
{
	struct feeder *f = self->f;
	int raise = nargs < 1 || PyObject_IsTrue(args[0]);
	uint64_t target;

	if (!f || self->pid != this_pid)
		Py_RETURN_NONE;
	target = f->fed; /* only callers (with the GIL) change it */
	if (__atomic_load_n(&f->acked, __ATOMIC_ACQUIRE) < target &&
	    feeder_wait(f, pred_acked, target))
		return NULL;
	if (raise && feeder_raise(self))
		return NULL;
	Py_RETURN_NONE;
}

/* Nothing fed is unanswered or buffered and no caller writes on the
 * connection (the thread waits in feeder_take), or the thread ended. */
static int pred_quiet(const struct feeder *f, uint64_t arg)
{
	(void)arg;
	return (f->acked >= f->fed && f->in.n == 0 && !f->direct) || f->ended;
}

/* With mu held: wait (GIL and mu released) until pred_quiet holds, then
 * keep the thread off the connection (direct): 0, or -1 with the
 * exception (mu not held then). */
static int feeder_quiet(struct feeder *f)
{
	while (!pred_quiet(f, 0)) {
		pthread_mutex_unlock(&f->mu);
		if (feeder_wait(f, pred_quiet, 0))
			return -1;
		pthread_mutex_lock(&f->mu);
	}
	f->direct = 1;
	return 0;
}

/* What a reserve asks: up to want slots, given back hold_s after the
 * last reserve or run of puts into them with nothing left to send. */
struct reserve_req {
	unsigned want;
	double hold_s;
};

/* Reserve slots on f's connection for self's thread's feeds (see the
 * reserve doc): how many, or -1 with an exception. */
static long feeder_do_reserve(FeederObject *self, const struct reserve_req *q)
{
	struct feeder *f = self->f;
	unsigned granted = 0;
	long long t0;
	int rc = 0, back;

	pthread_mutex_lock(&f->mu);
	if (feeder_quiet(f))
		return -1;
	back = f->credits > 0 || f->give_back;
	f->credits = 0;
	pthread_mutex_unlock(&f->mu);
	Py_BEGIN_ALLOW_THREADS
	t0 = now_ns();
	if (back)
		rc = ipc_queue_unreserve(f->c, f->name);
	if (rc == 0)
		rc = ipc_queue_reserve(f->c, f->name, q->want, &granted);
	pthread_mutex_lock(&f->mu);
	f->direct = 0;
	f->give_back = rc != 0 && rc != IPC_EFULL;
	f->credits = granted;
	f->used_ns = t0;
	f->hold_ns = (long long)(q->hold_s * 1e9);
	feeder_kick(f);
	pthread_cond_broadcast(&f->moved); /* another reserve may wait */
	pthread_mutex_unlock(&f->mu);
	Py_END_ALLOW_THREADS
	if (rc < 0)
		feeder_tell_stop(f); /* the connection is lost: the next use starts anew */
	if (rc && rc != IPC_EFULL) {
		raise_code(rc, ipc_last_error(f->c));
		return -1;
	}
	return granted;
}

PyDoc_STRVAR(reserve_doc, "reserve(want, hold_s) -> int\n--\n\n"
	     "Bounded Feeder: once everything fed is answered (a failure kept is "
	     "raised first), give back the slots its connection may still hold "
	     "and reserve up to want anew (ipc_queue_reserve): how many were "
	     "granted (0 when none). feed() spends them; the thread gives back "
	     "those left hold_s after the last reserve or run of puts into them, "
	     "when nothing is left to send (then feed() finds none).");
/* Feeder.reserve(). */
static PyObject *feeder_reserve(FeederObject *self, PyObject *args)
{
	struct reserve_req q;
	long n;

	if (!PyArg_ParseTuple(args, "Id:reserve", &q.want, &q.hold_s))
		return NULL;
	if (!self->bounded) {
		raise_code(IPC_EINVAL, "reserve() is for a bounded Feeder");
		return NULL;
	}
	if (feeder_ready(self, 1))
		return NULL;
	n = feeder_do_reserve(self, &q);
	return n < 0 ? NULL : PyLong_FromLong(n);
}

PyDoc_STRVAR(check_doc, "check()\n--\n\n"
	     "Raise a failure kept (one whose answer the thread has read), without "
	     "waiting for any answer.");
/* Feeder.check(). */
static PyObject *feeder_check(FeederObject *self, PyObject *unused)
{
	if (self->pid == this_pid && feeder_raise(self))
		return NULL;
	Py_RETURN_NONE;
}

PyDoc_STRVAR(feeder_close_doc, "close()\n--\n\n"
	     "End the thread once it has sent everything fed, wait for it (Ctrl-C "
	     "interrupts the wait; the thread goes on) and raise a failure kept. "
	     "After cancel_join(), end it without waiting. A later feed starts a "
	     "new thread.");
/* Feeder.close(). */
static PyObject *feeder_close(FeederObject *self, PyObject *unused)
{
	struct feeder *f = self->f;

	if (!f || self->pid != this_pid)
		Py_RETURN_NONE;
	feeder_tell_stop(f);
	if (self->detach) {
		feeder_let_go(self, 0);
		Py_RETURN_NONE;
	}
	if (feeder_wait(f, pred_ended, 0))
		return NULL;
	if (feeder_raise(self)) {
		feeder_let_go(self, 1);
		return NULL;
	}
	feeder_let_go(self, 1);
	Py_RETURN_NONE;
}

PyDoc_STRVAR(cancel_join_doc, "cancel_join()\n--\n\n"
	     "From now on close() (and collecting this object) ends the thread "
	     "without waiting for it: what it has not sent when the process "
	     "exits is lost.");
/* Feeder.cancel_join(). */
static PyObject *feeder_cancel_join(FeederObject *self, PyObject *unused)
{
	self->detach = 1;
	Py_RETURN_NONE;
}

/* Feeder.pending: messages fed in this process and not answered yet. */
static PyObject *feeder_get_pending(FeederObject *self, void *unused)
{
	struct feeder *f = self->f;

	if (!f || self->pid != this_pid)
		return PyLong_FromLong(0);
	return PyLong_FromUnsignedLongLong(f->fed - __atomic_load_n(&f->acked, __ATOMIC_ACQUIRE));
}

/* Feeder.bounded: puts go into reserved slots. */
static PyObject *feeder_get_bounded(FeederObject *self, void *unused)
{
	return PyBool_FromLong(self->bounded);
}

/* Feeder.running: a thread of this process is there. */
static PyObject *feeder_get_running(FeederObject *self, void *unused)
{
	return PyBool_FromLong(self->f && self->pid == this_pid &&
			       !__atomic_load_n(&self->f->ended, __ATOMIC_ACQUIRE));
}

/* ---- the type -------------------------------------------------------- */

/* Feeder(socket, name, on_start=None, end=-1, token=0, window=0,
 * bounded=False): nothing is connected before the first feed. */
static int feeder_init(FeederObject *self, PyObject *args, PyObject *kw)
{
	static char *kwlist[] = { "socket", "name", "on_start", "end", "token", "window",
				  "bounded", NULL };
	PyObject *on_start = NULL;
	const char *sock, *name;
	Py_ssize_t len;

	self->end = -1;
	if (!PyArg_ParseTupleAndKeywords(args, kw, "zs#|OiKIp:Feeder", kwlist, &sock, &name,
					 &len, &on_start, &self->end, &self->token,
					 &self->window, &self->bounded))
		return -1;
	if (self->end > 1 || (self->end >= 0 && (!self->token || self->bounded))) {
		raise_code(IPC_EINVAL, "a pipe Feeder needs end 0 or 1 and a share token "
			   "(and is not bounded)");
		return -1;
	}
	if (self->f || self->name[0]) {
		PyErr_SetString(PyExc_RuntimeError, "Feeder is already set up");
		return -1;
	}
	if (len < 1 || len > IPC_NAME_MAX) {
		raise_code(IPC_ENAME, "name must be 1-128 bytes");
		return -1;
	}
	memcpy(self->name, name, (size_t)len);
	Py_XINCREF(on_start);
	self->on_start = on_start;
	if (sock && !(self->sock = strdup(sock))) {
		PyErr_NoMemory();
		return -1;
	}
	return 0;
}

/* End the thread (waiting for it to send what is buffered, unless
 * cancel_join() was called; Ctrl-C gives up the wait), free. */
static void feeder_dealloc(FeederObject *self)
{
	PyObject *type, *value, *tb;

	if (self->weakrefs)
		PyObject_ClearWeakRefs((PyObject *)self);
	if (self->f && self->pid != this_pid) {
		feeder_forget(self);
	} else if (self->f) {
		feeder_tell_stop(self->f);
		PyErr_Fetch(&type, &value, &tb);
		if (!self->detach && feeder_wait(self->f, pred_ended, 0) < 0)
			PyErr_WriteUnraisable((PyObject *)self);
		feeder_let_go(self, __atomic_load_n(&self->f->ended, __ATOMIC_ACQUIRE));
		PyErr_Restore(type, value, tb);
	}
	free(self->sock);
	Py_CLEAR(self->on_start);
	Py_TYPE(self)->tp_free((PyObject *)self);
}

PyDoc_STRVAR(after_fork_doc, "_after_fork()\n--\n\n"
	     "In a forked child: close the connection inherited from the parent's "
	     "thread and forget its state (its messages are the parent's). Done "
	     "lazily at the next use otherwise; ipcd calls it for every Feeder "
	     "at fork, so the parent's connection is not held open by the child.");
/* Feeder._after_fork(). */
static PyObject *feeder_after_fork(FeederObject *self, PyObject *unused)
{
	if (self->f && self->pid != this_pid)
		feeder_forget(self);
	Py_RETURN_NONE;
}

static PyMethodDef feeder_methods[] = {
	{ "feed", (PyCFunction)feeder_feed, METH_O, feed_doc },
	{ "feed_obj", (PyCFunction)feeder_feed_obj, METH_O, feed_obj_doc },
	{ "feed_many", (PyCFunction)feeder_feed_many, METH_O, feed_many_doc },
	{ "feed_many_obj", (PyCFunction)feeder_feed_many_obj, METH_O, feed_many_obj_doc },
	{ "sync", (PyCFunction)(void (*)(void))feeder_sync, METH_FASTCALL, sync_doc },
	{ "check", (PyCFunction)feeder_check, METH_NOARGS, check_doc },
	{ "reserve", (PyCFunction)feeder_reserve, METH_VARARGS, reserve_doc },
	{ "close", (PyCFunction)feeder_close, METH_NOARGS, feeder_close_doc },
	{ "cancel_join", (PyCFunction)feeder_cancel_join, METH_NOARGS, cancel_join_doc },
	{ "_after_fork", (PyCFunction)feeder_after_fork, METH_NOARGS, after_fork_doc },
	{ NULL, NULL, 0, NULL },
};

static PyGetSetDef feeder_getset[] = {
	{ "pending", (getter)feeder_get_pending, NULL,
	  "Messages fed in this process whose answers have not come yet.", NULL },
	{ "running", (getter)feeder_get_running, NULL,
	  "True while this process has the Feeder's thread.", NULL },
	{ "bounded", (getter)feeder_get_bounded, NULL,
	  "True when its puts go into slots reserved with reserve().", NULL },
	{ NULL, NULL, NULL, NULL, NULL },
};

PyDoc_STRVAR(feeder_doc, "Feeder(socket, name, on_start=None, end=-1, token=0, window=0, "
	     "bounded=False)\n--\n\n"
	     "The background sender of queue name's pipelined puts in this process "
	     "(low level: ipcd.Queue makes one per queue name and socket). feed() "
	     "buffers, a C thread with a connection of its own sends the buffer as "
	     "batches and waits for their answers; sync() waits for them. The "
	     "thread starts at the first feed in a process, which then calls "
	     "on_start(feeder) (e.g. to close() it at exit); a forked child never "
	     "uses its parent's (its buffered messages stay the parent's). With end "
	     "0 or 1 it sends from that end of pipe name instead, its connection "
	     "joining the end with token (Client.pipe_share()), once: a thread that "
	     "ended is not started again (ClosedError). window > 0: feed() waits "
	     "while that many messages are not answered. bounded: a bounded queue's "
	     "feeder, whose puts go into slots its connection reserved (reserve(); "
	     "QPUTR requests): feed() buffers only into such a slot.");

static PyTypeObject FeederType = {
	PyVarObject_HEAD_INIT(NULL, 0)
	.tp_name = "ipcd._ipcd.Feeder",
	.tp_basicsize = sizeof(FeederObject),
	.tp_dealloc = (destructor)feeder_dealloc,
	.tp_flags = Py_TPFLAGS_DEFAULT,
	.tp_doc = feeder_doc,
	.tp_methods = feeder_methods,
	.tp_getset = feeder_getset,
	.tp_init = (initproc)feeder_init,
	.tp_new = PyType_GenericNew,
	.tp_weaklistoffset = offsetof(FeederObject, weakrefs),
};

/* Ready the type and add it to m. */
int feeder_init_type(PyObject *m)
{
	if (PyType_Ready(&FeederType) < 0)
		return -1;
	return PyModule_AddObjectRef(m, "Feeder", (PyObject *)&FeederType);
}
