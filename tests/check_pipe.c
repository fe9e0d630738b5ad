/* SPDX-License-Identifier: MIT */
/*
 * check_pipe.c: unit tests of daemon/pipe.c, the two-ended message pipe
 * with parked receivers and senders, and of the pipes of the broker's
 * namespace (broker_pipe.c). No socket: owners are plain pointers and
 * parked requests are test records woken through a callback.
 */
#include <check.h>
#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "access.h"
#include "broker.h"
#include "ipc_defs.h"
#include "pipe.h"
#include "qmsg.h"

/* Two owners (connections, in the daemon) and a stranger. */
static int owner_a, owner_b, stranger;
#define A (&owner_a)
#define B (&owner_b)

/* A test's parked request: a waiter plus what its wake callback saw. */
struct tw {
	struct waiter w;
	int woken;                 /* times wake ran for it */
	int status;
	struct qmsg *got;          /* receiver: the message handed over */
	int seq;                   /* order in which it was woken (1-based) */
	struct pipe *p;            /* for hooks */
	void (*hook)(struct tw *t);
	void *arg;                 /* for hooks */
	int done_in_hook;          /* pipe_done() seen from inside the hook */
};

static int wake_seq;

/* The wake callback of every test pipe: checks, records, runs t->hook. */
static void test_wake(struct waiter *w, int status, struct qmsg *m)
{
	struct tw *t = container_of(w, struct tw, w);

	ck_assert_ptr_null(w->holder);
	ck_assert(!ilist_linked(&w->link));
	if (w->kind == WAITER_PUT && status == 0)
		ck_assert_ptr_null(w->msg);
	if (w->kind == WAITER_PUT && status != 0)
		ck_assert_ptr_nonnull(w->msg);
	if (w->kind == WAITER_PUT || status != 0)
		ck_assert_ptr_null(m);
	t->woken++;
	t->status = status;
	t->got = m;
	t->seq = ++wake_seq;
	if (t->hook)
		t->hook(t);
	if (w->kind == WAITER_PUT && status != 0) {
		qmsg_free(w->msg);  /* the callee owns a refused message */
		w->msg = NULL;
	}
}

/* A message holding the bytes of s (no NUL). */
static struct qmsg *msg(const char *s)
{
	struct qmsg *m = qmsg_new(s, strlen(s));

	ck_assert_ptr_nonnull(m);
	return m;
}

/* A message of n bytes of 'x'. */
static struct qmsg *msg_n(size_t n)
{
	char *buf = malloc(n);
	struct qmsg *m;

	ck_assert_ptr_nonnull(buf);
	memset(buf, 'x', n);
	m = qmsg_new(buf, n);
	free(buf);
	ck_assert_ptr_nonnull(m);
	return m;
}

/* Assert m holds exactly the bytes of s, then free it. */
static void expect_msg(struct qmsg *m, const char *s)
{
	ck_assert_ptr_nonnull(m);
	ck_assert_uint_eq(m->len, strlen(s));
	ck_assert_mem_eq(m->data, s, m->len);
	qmsg_free(m);
}

/* Send text s from end, asserting result rc (freeing m when refused). */
static void send_rc(struct pipe *p, unsigned end, const void *who,
		    const char *s, int rc)
{
	struct qmsg *m = msg(s);
	int got = pipe_send(p, end, who, m);

	ck_assert_int_eq(got, rc);
	if (got)
		qmsg_free(m);
}

/* Receive at end and assert the message is s. */
static void expect_recv(struct pipe *p, unsigned end, const void *who,
			const char *s)
{
	struct qmsg *m = NULL;

	ck_assert_int_eq(pipe_recv(p, end, who, &m), 0);
	expect_msg(m, s);
}

/* Receive at end and assert the result rc (not 0). */
static void recv_rc(struct pipe *p, unsigned end, const void *who, int rc)
{
	struct qmsg *m = NULL;

	ck_assert_int_eq(pipe_recv(p, end, who, &m), rc);
	ck_assert_ptr_null(m);
}

/* Set up t as a waiter of kind (with m for senders) for p. */
static void tw_init(struct tw *t, struct pipe *p, enum waiter_kind kind,
		    struct qmsg *m)
{
	memset(t, 0, sizeof(*t));
	t->w.kind = kind;
	t->w.msg = m;
	t->p = p;
}

/* A fresh pipe with the test callback. */
static struct pipe *newp(bool duplex, size_t maxmsgs, size_t maxbytes)
{
	struct pipe *p = pipe_new("pp", duplex, maxmsgs, maxbytes, test_wake);

	ck_assert_ptr_nonnull(p);
	wake_seq = 0;
	return p;
}

/* A fresh pipe with end 0 attached by A and end 1 by B. */
static struct pipe *newp_ab(bool duplex, size_t maxmsgs, size_t maxbytes)
{
	struct pipe *p = newp(duplex, maxmsgs, maxbytes);

	ck_assert_int_eq(pipe_attach(p, 0, A), 0);
	ck_assert_int_eq(pipe_attach(p, 1, B), 0);
	return p;
}

/* The current stats of p. */
static struct pipe_stats stats(const struct pipe *p)
{
	struct pipe_stats st;

	memset(&st, 0xa5, sizeof(st));
	pipe_stats(p, &st);
	return st;
}

/* Close both ends (A on 0, B on 1) and free the pipe, which must be done. */
static void close_free(struct pipe *p)
{
	ck_assert_int_eq(pipe_close(p, 0, A), 0);
	ck_assert_int_eq(pipe_close(p, 1, B), 0);
	ck_assert(pipe_done(p));
	pipe_free(p, IPC_ESHUTDOWN);
}

START_TEST(test_pipe_new)
{
	char name[IPC_NAME_MAX + 2];
	struct pipe_stats st;
	struct pipe *p;
	int i;

	strcpy(name, "chat");
	p = pipe_new(name, true, 3, 100, test_wake);
	ck_assert_ptr_nonnull(p);
	name[0] = 'X';
	ck_assert_str_eq(pipe_name(p), "chat");
	ck_assert(pipe_duplex(p));
	ck_assert_uint_eq(pipe_maxmsgs(p), 3);
	ck_assert_uint_eq(pipe_maxbytes(p), 100);
	st = stats(p);
	ck_assert(st.duplex);
	ck_assert_uint_eq(st.maxmsgs, 3);
	ck_assert_uint_eq(st.maxbytes, 100);
	for (i = 0; i < 2; i++) {
		ck_assert_int_eq(st.end[i], PIPE_END_FREE);
		ck_assert_uint_eq(st.dir[i].msgs, 0);
		ck_assert_uint_eq(st.dir[i].bytes, 0);
		ck_assert_uint_eq(st.dir[i].receivers, 0);
		ck_assert_uint_eq(st.dir[i].senders, 0);
		ck_assert_uint_eq(st.dir[i].sent, 0);
		ck_assert_uint_eq(st.dir[i].received, 0);
		ck_assert_uint_eq(st.dir[i].dropped, 0);
	}
	ck_assert(!pipe_done(p));
	pipe_free(p, IPC_ESHUTDOWN);

	p = pipe_new("oneway", false, 1, 1, test_wake);
	ck_assert_ptr_nonnull(p);
	ck_assert(!pipe_duplex(p));
	ck_assert(!stats(p).duplex);
	pipe_free(p, IPC_ESHUTDOWN);

	memset(name, 'a', IPC_NAME_MAX + 1);
	name[IPC_NAME_MAX + 1] = '\0';
	errno = 0;
	ck_assert_ptr_null(pipe_new(name, true, 1, 1, test_wake));
	ck_assert_int_eq(errno, EINVAL);
	ck_assert_ptr_null(pipe_new("", true, 1, 1, test_wake));
	ck_assert_ptr_null(pipe_new(NULL, true, 1, 1, test_wake));
	ck_assert_ptr_null(pipe_new("x", true, 0, 1, test_wake));
	ck_assert_ptr_null(pipe_new("x", true, 1, 0, test_wake));
	pipe_free(NULL, IPC_ESHUTDOWN);
}
END_TEST

START_TEST(test_pipe_attach_rules)
{
	struct pipe *p = newp(true, 4, 100);

	ck_assert_int_eq(pipe_attach(p, 2, A), IPC_EINVAL);
	ck_assert_int_eq(pipe_attach(p, 0, NULL), IPC_EINVAL);
	ck_assert_int_eq(pipe_attach(p, 0, A), 0);
	ck_assert_int_eq(stats(p).end[0], PIPE_END_ATTACHED);
	ck_assert_int_eq(stats(p).end[1], PIPE_END_FREE);
	/* Held: Busy for anyone, the holder included. */
	ck_assert_int_eq(pipe_attach(p, 0, B), IPC_EBUSY);
	ck_assert_int_eq(pipe_attach(p, 0, A), IPC_EBUSY);
	/* One owner may hold both ends. */
	ck_assert_int_eq(pipe_attach(p, 1, A), 0);
	ck_assert_int_eq(pipe_attach(p, 1, B), IPC_EBUSY);
	send_rc(p, 0, A, "to-self", 0);
	expect_recv(p, 1, A, "to-self");
	/* A closed end is never attached again. */
	ck_assert_int_eq(pipe_close(p, 0, A), 0);
	ck_assert_int_eq(stats(p).end[0], PIPE_END_CLOSED);
	ck_assert_int_eq(pipe_attach(p, 0, A), IPC_ECLOSED);
	ck_assert_int_eq(pipe_attach(p, 0, B), IPC_ECLOSED);
	ck_assert(!pipe_done(p));
	ck_assert_int_eq(pipe_close(p, 1, A), 0);
	ck_assert(pipe_done(p));
	pipe_free(p, IPC_ESHUTDOWN);
}
END_TEST

START_TEST(test_pipe_ownership)
{
	struct pipe *p = newp(true, 4, 100);

	/* Nothing attached: nobody may use either end. */
	send_rc(p, 0, A, "x", IPC_ENOTATTACHED);
	recv_rc(p, 0, A, IPC_ENOTATTACHED);
	ck_assert_int_eq(pipe_close(p, 0, A), IPC_ENOTATTACHED);
	ck_assert_int_eq(pipe_attach(p, 0, A), 0);
	/* Only the holder. */
	send_rc(p, 0, &stranger, "x", IPC_ENOTATTACHED);
	recv_rc(p, 0, &stranger, IPC_ENOTATTACHED);
	ck_assert_int_eq(pipe_close(p, 0, &stranger), IPC_ENOTATTACHED);
	send_rc(p, 1, A, "x", IPC_ENOTATTACHED);
	send_rc(p, 2, A, "x", IPC_EINVAL);
	recv_rc(p, 2, A, IPC_EINVAL);
	ck_assert_int_eq(pipe_close(p, 2, A), IPC_EINVAL);
	ck_assert_int_eq(stats(p).end[0], PIPE_END_ATTACHED);
	/* After close: the end is closed, for its old holder too. */
	ck_assert_int_eq(pipe_close(p, 0, A), 0);
	send_rc(p, 0, A, "x", IPC_ECLOSED);
	recv_rc(p, 0, A, IPC_ECLOSED);
	ck_assert_int_eq(pipe_close(p, 0, A), IPC_ECLOSED);
	ck_assert_int_eq(pipe_attach(p, 1, B), 0);
	ck_assert_int_eq(pipe_close(p, 1, B), 0);
	ck_assert(pipe_done(p));
	pipe_free(p, IPC_ESHUTDOWN);
}
END_TEST

/* Detach: the end is free again with what each way holds kept, the
 * peer's receive sees no EOF, the detaching owner's own parked receive
 * ends with IPC_ENOTATTACHED, and another owner attaches and reads on. */
START_TEST(test_pipe_detach)
{
	struct pipe *p = newp_ab(true, 8, 1024);
	struct tw t;

	send_rc(p, 1, B, "to-0", 0);
	send_rc(p, 0, A, "to-1", 0);
	expect_recv(p, 1, B, "to-1");   /* 0->1 is empty again */
	tw_init(&t, p, WAITER_GET, NULL);
	pipe_park(p, 1, &t.w);
	ck_assert_int_eq(pipe_detach(p, 1, A), IPC_ENOTATTACHED);
	ck_assert_int_eq(pipe_detach(p, 1, B), 0);
	ck_assert_int_eq(t.woken, 1);
	ck_assert_int_eq(t.status, IPC_ENOTATTACHED);
	ck_assert_int_eq(stats(p).end[1], PIPE_END_FREE);
	ck_assert_uint_eq(stats(p).dir[1].msgs, 1);
	recv_rc(p, 1, B, IPC_ENOTATTACHED);
	send_rc(p, 0, A, "kept", 0);   /* the peer may still send: no EPIPE */
	ck_assert_int_eq(pipe_attach(p, 1, &stranger), 0);
	expect_recv(p, 1, &stranger, "kept");
	expect_recv(p, 0, A, "to-0");
	recv_rc(p, 0, A, IPC_EEMPTY);  /* not EOF: the end was only detached */
	ck_assert_int_eq(pipe_close(p, 0, A), 0);
	ck_assert_int_eq(pipe_detach(p, 0, A), IPC_ECLOSED);
	ck_assert_int_eq(pipe_close(p, 1, &stranger), 0);
	ck_assert(pipe_done(p));
	pipe_free(p, IPC_ESHUTDOWN);
}
END_TEST

START_TEST(test_pipe_duplex_both_ways)
{
	struct pipe *p = newp_ab(true, 8, 1000);
	struct pipe_stats st;

	send_rc(p, 0, A, "a1", 0);
	send_rc(p, 1, B, "b1", 0);
	send_rc(p, 0, A, "a2", 0);
	send_rc(p, 0, A, "", 0);           /* 0 bytes is a message */
	send_rc(p, 1, B, "b22", 0);
	st = stats(p);
	ck_assert_uint_eq(st.dir[0].msgs, 3);
	ck_assert_uint_eq(st.dir[0].bytes, 4);
	ck_assert_uint_eq(st.dir[1].msgs, 2);
	ck_assert_uint_eq(st.dir[1].bytes, 5);
	expect_recv(p, 1, B, "a1");
	expect_recv(p, 0, A, "b1");
	expect_recv(p, 1, B, "a2");
	expect_recv(p, 1, B, "");
	expect_recv(p, 0, A, "b22");
	recv_rc(p, 0, A, IPC_EEMPTY);
	recv_rc(p, 1, B, IPC_EEMPTY);
	st = stats(p);
	ck_assert_uint_eq(st.dir[0].sent, 3);
	ck_assert_uint_eq(st.dir[0].received, 3);
	ck_assert_uint_eq(st.dir[1].sent, 2);
	ck_assert_uint_eq(st.dir[1].received, 2);
	ck_assert_uint_eq(st.dir[0].bytes + st.dir[1].bytes, 0);
	close_free(p);
}
END_TEST

START_TEST(test_pipe_oneway_direction)
{
	struct pipe *p = newp_ab(false, 8, 1000);
	struct tw t;

	/* r, w = Pipe(duplex=False): end 0 only receives, end 1 only sends. */
	send_rc(p, 0, A, "x", IPC_EDIRECTION);
	recv_rc(p, 1, B, IPC_EDIRECTION);
	send_rc(p, 1, B, "w", 0);
	expect_recv(p, 0, A, "w");
	recv_rc(p, 0, A, IPC_EEMPTY);
	/* Direction is checked before the peer's state. */
	tw_init(&t, p, WAITER_GET, NULL);
	pipe_park(p, 0, &t.w);
	ck_assert_uint_eq(stats(p).dir[1].receivers, 1);
	ck_assert_uint_eq(stats(p).dir[0].receivers, 0);
	send_rc(p, 1, B, "handed", 0);
	ck_assert_int_eq(t.woken, 1);
	expect_msg(t.got, "handed");
	ck_assert_int_eq(pipe_close(p, 1, B), 0);
	send_rc(p, 0, A, "x", IPC_EDIRECTION);
	recv_rc(p, 0, A, IPC_EEOF);
	ck_assert_int_eq(pipe_close(p, 0, A), 0);
	ck_assert(pipe_done(p));
	pipe_free(p, IPC_ESHUTDOWN);
}
END_TEST

START_TEST(test_pipe_before_attach)
{
	struct pipe *p = newp(false, 8, 1000);
	int i;
	char buf[8];

	/* The writer comes first, sends, closes and goes. */
	ck_assert_int_eq(pipe_attach(p, 1, B), 0);
	for (i = 0; i < 5; i++) {
		snprintf(buf, sizeof(buf), "%d", i);
		send_rc(p, 1, B, buf, 0);
	}
	ck_assert_int_eq(pipe_close(p, 1, B), 0);
	ck_assert_uint_eq(stats(p).dir[1].msgs, 5);
	ck_assert(!pipe_done(p));
	/* The reader attaches later: gets all of it, then EOF, for good. */
	ck_assert_int_eq(pipe_attach(p, 0, A), 0);
	for (i = 0; i < 5; i++) {
		snprintf(buf, sizeof(buf), "%d", i);
		expect_recv(p, 0, A, buf);
	}
	recv_rc(p, 0, A, IPC_EEOF);
	recv_rc(p, 0, A, IPC_EEOF);
	ck_assert_int_eq(pipe_close(p, 0, A), 0);
	ck_assert(pipe_done(p));
	pipe_free(p, IPC_ESHUTDOWN);
}
END_TEST

START_TEST(test_pipe_bound_msgs)
{
	struct pipe *p = newp_ab(true, 3, 1000);

	send_rc(p, 0, A, "1", 0);
	send_rc(p, 0, A, "2", 0);
	send_rc(p, 0, A, "3", 0);
	send_rc(p, 0, A, "4", IPC_EFULL);
	send_rc(p, 0, A, "", IPC_EFULL);
	/* The other direction has its own bound. */
	send_rc(p, 1, B, "b", 0);
	ck_assert_uint_eq(stats(p).dir[0].msgs, 3);
	expect_recv(p, 1, B, "1");
	send_rc(p, 0, A, "4", 0);
	send_rc(p, 0, A, "5", IPC_EFULL);
	ck_assert_uint_eq(stats(p).dir[0].sent, 4);
	close_free(p);
}
END_TEST

START_TEST(test_pipe_bound_bytes)
{
	struct pipe *p = newp_ab(true, 100, 10);
	struct pipe_stats st;

	send_rc(p, 0, A, "abcd", 0);
	send_rc(p, 0, A, "efgh", 0);
	send_rc(p, 0, A, "ijk", IPC_EFULL);     /* 11 > 10 */
	send_rc(p, 0, A, "ij", 0);              /* exactly 10 */
	send_rc(p, 0, A, "", 0);                /* 0 bytes still fit at the bound */
	send_rc(p, 0, A, "k", IPC_EFULL);
	ck_assert_uint_eq(stats(p).dir[0].bytes, 10);
	expect_recv(p, 1, B, "abcd");
	expect_recv(p, 1, B, "efgh");
	expect_recv(p, 1, B, "ij");
	expect_recv(p, 1, B, "");
	/* One message larger than maxbytes fits into an empty direction... */
	ck_assert_int_eq(pipe_send(p, 0, A, msg_n(50)), 0);
	st = stats(p);
	ck_assert_uint_eq(st.dir[0].msgs, 1);
	ck_assert_uint_eq(st.dir[0].bytes, 50);
	/* ...and nothing more until it is read, not even 0 bytes. */
	send_rc(p, 0, A, "", IPC_EFULL);
	send_rc(p, 0, A, "z", IPC_EFULL);
	recv_rc(p, 0, A, IPC_EEMPTY);
	{
		struct qmsg *m = NULL;

		ck_assert_int_eq(pipe_recv(p, 1, B, &m), 0);
		ck_assert_uint_eq(m->len, 50);
		qmsg_free(m);
	}
	send_rc(p, 0, A, "z", 0);
	close_free(p);
}
END_TEST

START_TEST(test_pipe_receivers_fifo)
{
	struct pipe *p = newp_ab(true, 4, 100);
	struct tw r[3];
	int i;

	for (i = 0; i < 3; i++) {
		recv_rc(p, 1, B, IPC_EEMPTY);
		tw_init(&r[i], p, WAITER_GET, NULL);
		pipe_park(p, 1, &r[i].w);
		ck_assert_ptr_nonnull(r[i].w.holder);
	}
	ck_assert_uint_eq(stats(p).dir[0].receivers, 3);
	send_rc(p, 0, A, "first", 0);
	send_rc(p, 0, A, "second", 0);
	ck_assert_int_eq(r[0].seq, 1);
	ck_assert_int_eq(r[1].seq, 2);
	ck_assert_int_eq(r[2].woken, 0);
	ck_assert_int_eq(r[0].status, 0);
	expect_msg(r[0].got, "first");
	expect_msg(r[1].got, "second");
	/* Handed over directly: nothing was buffered on the way. */
	ck_assert_uint_eq(stats(p).dir[0].msgs, 0);
	ck_assert_uint_eq(stats(p).dir[0].sent, 2);
	ck_assert_uint_eq(stats(p).dir[0].received, 2);
	ck_assert_uint_eq(stats(p).dir[0].receivers, 1);
	/* Timeout: unparked without a wake. */
	pipe_unpark(&r[2].w);
	pipe_unpark(&r[2].w);
	ck_assert_ptr_null(r[2].w.holder);
	ck_assert_uint_eq(stats(p).dir[0].receivers, 0);
	send_rc(p, 0, A, "kept", 0);
	ck_assert_int_eq(r[2].woken, 0);
	expect_recv(p, 1, B, "kept");
	close_free(p);
}
END_TEST

/* A stalled receiver (its client reads nothing; an end may be held by
 * several connections) is handed nothing: the others take what is sent,
 * the rest stays in the pipe, counted. Resumed, it is served from the
 * buffer, one message, or waits at its arrival place, ahead of receivers
 * parked after it; once the buffer is empty and the sender closed, the
 * rest see EOF. Before, a stalled connection's receivers were handed
 * every message. */
START_TEST(test_pipe_stall_resume)
{
	struct pipe *p = newp_ab(true, 8, 100);
	struct tw r[5];
	int i;

	for (i = 0; i < 3; i++) {
		tw_init(&r[i], p, WAITER_GET, NULL);
		pipe_park(p, 1, &r[i].w);
	}
	pipe_stall(&r[0].w);
	pipe_stall(&r[1].w);
	pipe_stall(&r[0].w);                      /* again: no-op */
	send_rc(p, 0, A, "one", 0);
	expect_msg(r[2].got, "one");
	send_rc(p, 0, A, "two", 0);
	ck_assert_int_eq(r[0].woken + r[1].woken, 0);
	ck_assert_uint_eq(stats(p).dir[0].msgs, 1);
	ck_assert_uint_eq(stats(p).dir[0].memory, qmsg_footprint(3));
	ck_assert_uint_eq(stats(p).dir[0].receivers, 2);
	ck_assert_ptr_eq(pipe_resume(&r[1].w), p);  /* served from the buffer */
	expect_msg(r[1].got, "two");
	ck_assert_ptr_null(pipe_resume(&r[1].w)); /* not stalled: no-op */
	tw_init(&r[3], p, WAITER_GET, NULL);
	pipe_park(p, 1, &r[3].w);                 /* parked meanwhile */
	ck_assert_ptr_eq(pipe_resume(&r[0].w), p);  /* nothing waits */
	ck_assert_int_eq(r[0].woken, 0);
	send_rc(p, 0, A, "three", 0);
	expect_msg(r[0].got, "three");            /* not r[3] */
	/* Held back at close: the buffer first, then EOF. */
	tw_init(&r[4], p, WAITER_GET, NULL);
	pipe_park(p, 1, &r[4].w);
	pipe_stall(&r[3].w);
	pipe_stall(&r[4].w);
	send_rc(p, 0, A, "last", 0);
	ck_assert_int_eq(pipe_close(p, 0, A), 0);
	ck_assert_int_eq(r[3].woken + r[4].woken, 0);
	ck_assert_ptr_eq(pipe_resume(&r[4].w), p);
	expect_msg(r[4].got, "last");
	ck_assert_int_eq(r[3].status, IPC_EEOF);
	ck_assert_int_eq(pipe_close(p, 1, B), 0);
	ck_assert(pipe_done(p));
	pipe_free(p, IPC_ESHUTDOWN);
}
END_TEST

START_TEST(test_pipe_senders_fifo)
{
	struct pipe *p = newp_ab(true, 2, 100);
	struct tw s[3];
	const char *names[] = { "C", "D", "E" };
	int i;

	send_rc(p, 0, A, "A", 0);
	send_rc(p, 0, A, "B", 0);
	for (i = 0; i < 3; i++) {
		tw_init(&s[i], p, WAITER_PUT, msg(names[i]));
		ck_assert_int_eq(pipe_send(p, 0, A, s[i].w.msg), IPC_EFULL);
		pipe_park(p, 0, &s[i].w);
	}
	ck_assert_uint_eq(stats(p).dir[0].senders, 3);
	/* Each read admits the oldest parked sender. */
	expect_recv(p, 1, B, "A");
	ck_assert_int_eq(s[0].woken, 1);
	ck_assert_int_eq(s[0].status, 0);
	ck_assert_int_eq(s[1].woken, 0);
	/* A new send may not overtake the parked ones. */
	expect_recv(p, 1, B, "B");
	ck_assert_int_eq(s[1].woken, 1);
	ck_assert_uint_eq(stats(p).dir[0].senders, 1);
	send_rc(p, 0, A, "late", IPC_EFULL);
	/* Timeout of the last one: its message comes back to the caller. */
	pipe_unpark(&s[2].w);
	ck_assert_ptr_nonnull(s[2].w.msg);
	qmsg_free(s[2].w.msg);
	expect_recv(p, 1, B, "C");
	expect_recv(p, 1, B, "D");
	recv_rc(p, 1, B, IPC_EEMPTY);
	ck_assert_int_eq(s[2].woken, 0);
	ck_assert_uint_eq(stats(p).dir[0].sent, 4);
	close_free(p);
}
END_TEST

START_TEST(test_pipe_senders_bytes)
{
	struct pipe *p = newp_ab(true, 100, 10);
	struct tw s[2];

	send_rc(p, 0, A, "12345678", 0);
	tw_init(&s[0], p, WAITER_PUT, msg("abcdef"));       /* 8 + 6 > 10 */
	ck_assert_int_eq(pipe_send(p, 0, A, s[0].w.msg), IPC_EFULL);
	pipe_park(p, 0, &s[0].w);
	tw_init(&s[1], p, WAITER_PUT, msg("g"));
	ck_assert_int_eq(pipe_send(p, 0, A, s[1].w.msg), IPC_EFULL);
	pipe_park(p, 0, &s[1].w);
	/* Reading the 8 bytes admits both, in order (6 + 1 <= 10). */
	expect_recv(p, 1, B, "12345678");
	ck_assert_int_eq(s[0].seq, 1);
	ck_assert_int_eq(s[1].seq, 2);
	ck_assert_uint_eq(stats(p).dir[0].bytes, 7);
	expect_recv(p, 1, B, "abcdef");
	expect_recv(p, 1, B, "g");
	close_free(p);
}
END_TEST

START_TEST(test_pipe_close_eof_after_drain)
{
	struct pipe *p = newp_ab(true, 8, 100);
	struct pipe_stats st;

	send_rc(p, 1, B, "one", 0);
	send_rc(p, 1, B, "two", 0);
	send_rc(p, 0, A, "lost", 0);   /* towards B, who closes: dropped */
	ck_assert_int_eq(pipe_close(p, 1, B), 0);
	st = stats(p);
	ck_assert_int_eq(st.end[1], PIPE_END_CLOSED);
	ck_assert_uint_eq(st.dir[0].msgs, 0);
	ck_assert_uint_eq(st.dir[0].dropped, 1);
	ck_assert_uint_eq(st.dir[1].msgs, 2);
	/* The survivor drains, then EOF; its sends are refused. */
	send_rc(p, 0, A, "x", IPC_EPIPE);
	expect_recv(p, 0, A, "one");
	expect_recv(p, 0, A, "two");
	recv_rc(p, 0, A, IPC_EEOF);
	ck_assert(!pipe_done(p));
	ck_assert_int_eq(pipe_close(p, 0, A), 0);
	ck_assert(pipe_done(p));
	pipe_free(p, IPC_ESHUTDOWN);
}
END_TEST

START_TEST(test_pipe_close_wakes)
{
	struct pipe *p = newp_ab(true, 1, 100);
	struct tw peer_recv, peer_send;
	struct pipe_stats st;

	/* B waits for A on end 1, and has filled the way back to A (a
	 * buffered message plus a blocked send). Then A closes end 0. */
	tw_init(&peer_recv, p, WAITER_GET, NULL);
	pipe_park(p, 1, &peer_recv.w);
	send_rc(p, 1, B, "b-buffered", 0);
	tw_init(&peer_send, p, WAITER_PUT, msg("b-blocked"));
	ck_assert_int_eq(pipe_send(p, 1, B, peer_send.w.msg), IPC_EFULL);
	pipe_park(p, 1, &peer_send.w);
	ck_assert_int_eq(pipe_close(p, 0, A), 0);
	/* B's blocked send towards A: broken pipe, message not delivered. */
	ck_assert_int_eq(peer_send.woken, 1);
	ck_assert_int_eq(peer_send.status, IPC_EPIPE);
	/* B's parked receive: A sent nothing more, so EOF. */
	ck_assert_int_eq(peer_recv.woken, 1);
	ck_assert_int_eq(peer_recv.status, IPC_EEOF);
	ck_assert_ptr_null(peer_recv.got);
	/* What B had buffered for A is dropped: A can never read it. */
	st = stats(p);
	ck_assert_uint_eq(st.dir[1].msgs, 0);
	ck_assert_uint_eq(st.dir[1].bytes, 0);
	ck_assert_uint_eq(st.dir[1].dropped, 1);
	ck_assert_uint_eq(st.dir[1].senders, 0);
	ck_assert_uint_eq(st.dir[0].receivers, 0);
	send_rc(p, 1, B, "more", IPC_EPIPE);
	recv_rc(p, 1, B, IPC_EEOF);
	ck_assert_int_eq(pipe_close(p, 1, B), 0);
	ck_assert(pipe_done(p));
	pipe_free(p, IPC_ESHUTDOWN);
}
END_TEST

START_TEST(test_pipe_close_own_parked)
{
	struct pipe *p = newp_ab(true, 1, 100);
	struct tw rcv, snd;

	/* A's own requests on end 0 when A closes end 0: ECLOSED. */
	tw_init(&rcv, p, WAITER_GET, NULL);
	pipe_park(p, 0, &rcv.w);
	send_rc(p, 0, A, "fill", 0);
	tw_init(&snd, p, WAITER_PUT, msg("blocked"));
	pipe_park(p, 0, &snd.w);
	ck_assert_int_eq(pipe_close(p, 0, A), 0);
	ck_assert_int_eq(rcv.woken, 1);
	ck_assert_int_eq(rcv.status, IPC_ECLOSED);
	ck_assert_int_eq(snd.woken, 1);
	ck_assert_int_eq(snd.status, IPC_ECLOSED);
	ck_assert_int_lt(rcv.seq, snd.seq);
	/* What A sent before closing is still B's to read, then EOF. */
	expect_recv(p, 1, B, "fill");
	recv_rc(p, 1, B, IPC_EEOF);
	ck_assert_int_eq(pipe_close(p, 1, B), 0);
	ck_assert(pipe_done(p));
	pipe_free(p, IPC_ESHUTDOWN);
}
END_TEST

START_TEST(test_pipe_close_parked_receiver_waits_for_drain)
{
	struct pipe *p = newp_ab(false, 4, 100);
	struct tw r;

	/* The reader is parked: the writer sends (handed over) and closes. */
	tw_init(&r, p, WAITER_GET, NULL);
	pipe_park(p, 0, &r.w);
	send_rc(p, 1, B, "last", 0);
	expect_msg(r.got, "last");
	tw_init(&r, p, WAITER_GET, NULL);
	pipe_park(p, 0, &r.w);
	ck_assert_int_eq(pipe_close(p, 1, B), 0);
	ck_assert_int_eq(r.woken, 1);
	ck_assert_int_eq(r.status, IPC_EEOF);
	ck_assert_ptr_null(r.got);
	ck_assert_int_eq(pipe_close(p, 0, A), 0);
	ck_assert(pipe_done(p));
	pipe_free(p, IPC_ESHUTDOWN);
}
END_TEST

START_TEST(test_pipe_free_wakes_all)
{
	struct pipe *p = newp_ab(true, 1, 100);
	struct tw r, s;

	tw_init(&r, p, WAITER_GET, NULL);
	pipe_park(p, 0, &r.w);
	send_rc(p, 0, A, "fill", 0);
	tw_init(&s, p, WAITER_PUT, msg("blocked"));
	pipe_park(p, 0, &s.w);
	pipe_free(p, IPC_ESHUTDOWN);
	ck_assert_int_eq(r.woken, 1);
	ck_assert_int_eq(r.status, IPC_ESHUTDOWN);
	ck_assert_int_eq(s.woken, 1);
	ck_assert_int_eq(s.status, IPC_ESHUTDOWN);
}
END_TEST

/* Receiver hook: B closes end 1 from inside the wake (both ends closed). */
static void hook_close_b(struct tw *t)
{
	ck_assert_int_eq(pipe_close(t->p, 1, B), 0);
	t->done_in_hook = pipe_done(t->p);
}

START_TEST(test_pipe_reenter_close_in_wake)
{
	struct pipe *p = newp_ab(true, 4, 100);
	struct tw r;

	/* B parks a receive; A closes; the EOF callback closes end 1: the
	 * pipe is finished, but not done while the outer close is waking. */
	tw_init(&r, p, WAITER_GET, NULL);
	pipe_park(p, 1, &r.w);
	r.hook = hook_close_b;
	ck_assert_int_eq(pipe_close(p, 0, A), 0);
	ck_assert_int_eq(r.status, IPC_EEOF);
	ck_assert_int_eq(r.done_in_hook, 0);
	ck_assert(pipe_done(p));
	pipe_free(p, IPC_ESHUTDOWN);
}
END_TEST

/* Sender hook: the owner of both ends closes both from inside the wake. */
static void hook_close_both(struct tw *t)
{
	ck_assert_int_eq(pipe_close(t->p, 0, A), 0);
	ck_assert_int_eq(pipe_close(t->p, 1, A), 0);
	t->done_in_hook = pipe_done(t->p);
}

START_TEST(test_pipe_reenter_close_in_admit)
{
	struct pipe *p = newp(true, 1, 100);
	struct qmsg *m = NULL;
	struct tw s;

	ck_assert_int_eq(pipe_attach(p, 0, A), 0);
	ck_assert_int_eq(pipe_attach(p, 1, A), 0);
	send_rc(p, 0, A, "first", 0);
	tw_init(&s, p, WAITER_PUT, msg("second"));
	pipe_park(p, 0, &s.w);
	s.hook = hook_close_both;
	/* The receive admits "second"; its wake closes both ends, which
	 * drops "second" again. recv still returns its message. */
	ck_assert_int_eq(pipe_recv(p, 1, A, &m), 0);
	expect_msg(m, "first");
	ck_assert_int_eq(s.status, 0);
	ck_assert_int_eq(s.done_in_hook, 0);
	ck_assert_uint_eq(stats(p).dir[0].dropped, 1);
	ck_assert(pipe_done(p));
	pipe_free(p, IPC_ESHUTDOWN);
}
END_TEST

/* Receiver hook: B answers A straight from its wake (the other way). */
static void hook_send_back(struct tw *t)
{
	send_rc(t->p, 1, B, "pong", 0);
}

START_TEST(test_pipe_reenter_send)
{
	struct pipe *p = newp_ab(true, 4, 100);
	struct tw rb, ra;

	tw_init(&ra, p, WAITER_GET, NULL);
	pipe_park(p, 0, &ra.w);
	tw_init(&rb, p, WAITER_GET, NULL);
	pipe_park(p, 1, &rb.w);
	rb.hook = hook_send_back;
	send_rc(p, 0, A, "ping", 0);
	expect_msg(rb.got, "ping");
	ck_assert_int_eq(ra.woken, 1);
	expect_msg(ra.got, "pong");
	ck_assert_int_lt(rb.seq, ra.seq);
	close_free(p);
}
END_TEST

/* Free hook: unpark the waiter in t->arg (its connection died). */
static void hook_unpark_other(struct tw *t)
{
	struct tw *other = t->arg;

	pipe_unpark(&other->w);
	if (other->w.msg) {
		qmsg_free(other->w.msg);
		other->w.msg = NULL;
	}
}

START_TEST(test_pipe_free_reenter)
{
	struct pipe *p = newp_ab(true, 1, 100);
	struct tw r, s;

	tw_init(&r, p, WAITER_GET, NULL);
	pipe_park(p, 0, &r.w);
	send_rc(p, 0, A, "fill", 0);
	tw_init(&s, p, WAITER_PUT, msg("blocked"));
	pipe_park(p, 0, &s.w);
	r.hook = hook_unpark_other;
	r.arg = &s;
	pipe_free(p, IPC_ESHUTDOWN);
	ck_assert_int_eq(r.woken, 1);
	ck_assert_int_eq(s.woken, 0);
}
END_TEST

START_TEST(test_pipe_kill)
{
	struct pipe *p = newp_ab(true, 1, 100);
	struct tw rcv, snd;
	struct pipe_stats st;

	/* B waits for A (end 1 receive) and is blocked sending to A behind
	 * a buffered message: both directions have someone parked. */
	tw_init(&rcv, p, WAITER_GET, NULL);
	pipe_park(p, 1, &rcv.w);
	send_rc(p, 1, B, "buffered", 0);
	tw_init(&snd, p, WAITER_PUT, msg("blocked"));
	ck_assert_int_eq(pipe_send(p, 1, B, snd.w.msg), IPC_EFULL);
	pipe_park(p, 1, &snd.w);
	ck_assert_ptr_eq(pipe_owner(p, 0), A);
	ck_assert_ptr_eq(pipe_owner(p, 1), B);
	pipe_kill(p, IPC_EDELETED);
	ck_assert_int_eq(rcv.woken, 1);
	ck_assert_int_eq(rcv.status, IPC_EDELETED);
	ck_assert_ptr_null(rcv.got);
	ck_assert_int_eq(snd.woken, 1);
	ck_assert_int_eq(snd.status, IPC_EDELETED);
	ck_assert_int_lt(rcv.seq, snd.seq);
	/* Nothing buffered, nobody parked, both ends closed and forgotten. */
	st = stats(p);
	for (int i = 0; i < 2; i++) {
		ck_assert_int_eq(st.end[i], PIPE_END_CLOSED);
		ck_assert_uint_eq(st.dir[i].msgs, 0);
		ck_assert_uint_eq(st.dir[i].bytes, 0);
		ck_assert_uint_eq(st.dir[i].receivers, 0);
		ck_assert_uint_eq(st.dir[i].senders, 0);
	}
	ck_assert_uint_eq(st.dir[1].dropped, 1);
	ck_assert_ptr_null(pipe_owner(p, 0));
	ck_assert_ptr_null(pipe_owner(p, 1));
	/* The old holders can do nothing with it any more. */
	send_rc(p, 0, A, "late", IPC_ECLOSED);
	recv_rc(p, 1, B, IPC_ECLOSED);
	ck_assert_int_eq(pipe_close(p, 0, A), IPC_ECLOSED);
	ck_assert_int_eq(pipe_attach(p, 1, B), IPC_ECLOSED);
	ck_assert(pipe_done(p));
	pipe_free(p, IPC_ESHUTDOWN);
	ck_assert_int_eq(rcv.woken, 1);
	ck_assert_int_eq(snd.woken, 1);
}
END_TEST

/* Receiver hook: the pipe is deleted from inside a wake of it. */
static void hook_kill(struct tw *t)
{
	pipe_kill(t->p, IPC_EDELETED);
	t->done_in_hook = pipe_done(t->p);
}

START_TEST(test_pipe_kill_in_wake)
{
	struct pipe *p = newp_ab(true, 4, 100);
	struct tw r, other;

	/* A's receive is woken by B's send; its wake deletes the pipe, which
	 * answers B's own parked receive. The send still succeeded, and the
	 * pipe is done only once the outer send returned. */
	tw_init(&r, p, WAITER_GET, NULL);
	pipe_park(p, 0, &r.w);
	tw_init(&other, p, WAITER_GET, NULL);
	pipe_park(p, 1, &other.w);
	r.hook = hook_kill;
	send_rc(p, 1, B, "m", 0);
	expect_msg(r.got, "m");
	ck_assert_int_eq(r.done_in_hook, 0);
	ck_assert_int_eq(other.woken, 1);
	ck_assert_int_eq(other.status, IPC_EDELETED);
	ck_assert(pipe_done(p));
	pipe_free(p, IPC_ESHUTDOWN);
}
END_TEST

/* --- the broker's pipes ------------------------------------------------- */

static const struct access_cred root;

/* Attach owner to end of name in b with flags (and 0 bounds). */
static int battach(struct broker *b, const char *name, unsigned end,
		   uint32_t flags, void *owner, struct pipe **p)
{
	struct broker_pipe_want w = { .end = end, .flags = flags };

	return broker_pipe_attach(b, name, &w, &root, owner, p);
}

/* End a test's broker: the namespace, then the per-uid records that
 * broker_init started (the daemon frees those last, in server_fini, once
 * its connections have given their charges back). */
static void bfini(struct broker *b)
{
	broker_fini(b, IPC_ESHUTDOWN);
	quota_fini(&b->quota);
}

/* A broker with pipe "p" (5 messages, 50 bytes each way) whose end 0 A
 * holds; with both, B holds end 1 too. */
static struct pipe *ns_setup(struct broker *b, int both)
{
	struct broker_pipe_want w = { .end = 0, .flags = BROKER_PIPE_CREATE,
				      .maxmsgs = 5, .maxbytes = 50 };
	struct pipe *p, *p2;

	ck_assert_int_eq(broker_init(b, IPC_MSG_MAX, test_wake), 0);
	ck_assert_int_eq(battach(b, "p", 0, 0, A, &p), IPC_ENOENT);
	ck_assert_int_eq(broker_pipe_attach(b, "p", &w, &root, A, &p), 0);
	if (both) {
		w = (struct broker_pipe_want){ .end = 1, .maxmsgs = 5, .maxbytes = 50,
					       .flags = BROKER_PIPE_DUPLEX };
		ck_assert_int_eq(broker_pipe_attach(b, "p", &w, &root, B, &p2), 0);
		ck_assert_ptr_eq(p2, p);
	}
	return p;
}

/* A pipe is made with the bounds asked for, in one namespace with
 * queues: a queue call on it, or a pipe call on a queue, is the wrong
 * kind. */
START_TEST(test_broker_pipe_namespace)
{
	struct broker b;
	struct queue *q;
	struct pipe *p = ns_setup(&b, 0), *p2;

	ck_assert_uint_eq(pipe_maxmsgs(p), 5);
	ck_assert_uint_eq(pipe_maxbytes(p), 50);
	ck_assert(pipe_duplex(p));
	ck_assert_int_eq(broker_queue_find(&b, "p", &q), IPC_EWRONGTYPE);
	ck_assert_int_eq(broker_queue_open(&b, "p", 0, BROKER_OPEN_CREATE, &q),
			 IPC_EWRONGTYPE);
	ck_assert_int_eq(broker_delete(&b, "p", IPC_KIND_QUEUE), IPC_EWRONGTYPE);
	ck_assert_int_eq(broker_delete(&b, "q", IPC_KIND_PIPE), IPC_ENOENT);
	ck_assert_int_eq(broker_queue_open(&b, "q", 0, BROKER_OPEN_CREATE, &q), 0);
	ck_assert_int_eq(battach(&b, "q", 0, BROKER_PIPE_CREATE, A, &p2),
			 IPC_EWRONGTYPE);
	ck_assert_int_eq(broker_pipe_close(&b, "q", 0, A), IPC_EWRONGTYPE);
	bfini(&b);
}
END_TEST

/* broker_queue_access finds a queue and checks access in one lookup, with
 * the outcomes of broker_queue_find then broker_access. */
START_TEST(test_broker_queue_access)
{
	const struct access_cred alice = { .uid = 1000, .gid = 1000 };
	const struct access_cred bob = { .uid = 2000, .gid = 2000 };
	struct broker b;
	struct queue *q = NULL, *q2 = NULL;

	ns_setup(&b, 0);
	ck_assert_int_eq(broker_queue_open_as(&b, "q", 0, BROKER_OPEN_CREATE, &alice,
					      0600, &q), 0);
	ck_assert_int_eq(broker_queue_access(&b, "q", &alice,
					     ACCESS_READ | ACCESS_WRITE, &q2), 0);
	ck_assert_ptr_eq(q2, q);
	ck_assert_int_eq(broker_queue_access(&b, "q", &bob, ACCESS_READ, &q2), IPC_EPERM);
	ck_assert_int_eq(broker_access(&b, "q", &bob, ACCESS_READ), IPC_EPERM);
	ck_assert_int_eq(broker_queue_access(&b, "q", &bob, 0, &q2), 0);
	ck_assert_int_eq(broker_queue_access(&b, "q", &root, ACCESS_WRITE, &q2), 0);
	ck_assert_int_eq(broker_queue_access(&b, "p", &root, ACCESS_READ, &q2),
			 IPC_EWRONGTYPE);
	ck_assert_int_eq(broker_queue_access(&b, "nope", &root, ACCESS_READ, &q2),
			 IPC_ENOENT);
	bfini(&b);
}
END_TEST

/* Attaching an existing pipe: Busy for a held end; an explicit kind or
 * bounds must match; bad ends and flags are refused; a matching attach
 * gets the same pipe. */
START_TEST(test_broker_pipe_attach_existing)
{
	struct broker_pipe_want w;
	struct broker b;
	struct pipe *p = ns_setup(&b, 0), *p2;

	ck_assert_int_eq(battach(&b, "p", 0, 0, B, &p2), IPC_EBUSY);
	ck_assert_int_eq(battach(&b, "p", 1, BROKER_PIPE_ONEWAY, B, &p2),
			 IPC_EMISMATCH);
	w = (struct broker_pipe_want){ .end = 1, .maxmsgs = 6 };
	ck_assert_int_eq(broker_pipe_attach(&b, "p", &w, &root, B, &p2),
			 IPC_EMISMATCH);
	w = (struct broker_pipe_want){ .end = 1, .maxbytes = 51 };
	ck_assert_int_eq(broker_pipe_attach(&b, "p", &w, &root, B, &p2),
			 IPC_EMISMATCH);
	ck_assert_int_eq(battach(&b, "p", 2, 0, B, &p2), IPC_EINVAL);
	ck_assert_int_eq(battach(&b, "p", 0, BROKER_PIPE_DUPLEX |
				 BROKER_PIPE_ONEWAY, B, &p2), IPC_EINVAL);
	w = (struct broker_pipe_want){ .end = 1, .maxmsgs = 5, .maxbytes = 50,
				       .flags = BROKER_PIPE_DUPLEX };
	ck_assert_int_eq(broker_pipe_attach(&b, "p", &w, &root, B, &p2), 0);
	ck_assert_ptr_eq(p2, p);
	bfini(&b);
}
END_TEST

/* A pipe is described like a queue, with the pipe's own fields, and
 * listed beside the queues in name order. */
START_TEST(test_broker_pipe_info_list)
{
	struct broker_info info, infos[4];
	struct broker b;
	struct queue *q;
	struct pipe *p = ns_setup(&b, 1);
	int more = 0;

	ck_assert_int_eq(broker_queue_open(&b, "q", 0, BROKER_OPEN_CREATE, &q), 0);
	send_rc(p, 0, A, "abc", 0);
	ck_assert_int_eq(broker_info(&b, "p", &info), 0);
	ck_assert_str_eq(info.name, "p");
	ck_assert_uint_eq(info.kind, IPC_KIND_PIPE);
	ck_assert_uint_eq(info.pipe.maxmsgs, 5);
	ck_assert_uint_eq(info.pipe.maxbytes, 50);
	ck_assert(info.pipe.duplex);
	ck_assert_int_eq(info.pipe.end[0], PIPE_END_ATTACHED);
	ck_assert_int_eq(info.pipe.end[1], PIPE_END_ATTACHED);
	ck_assert_uint_eq(info.pipe.dir[0].msgs, 1);
	ck_assert_uint_eq(info.pipe.dir[0].bytes, 3);
	ck_assert_uint_eq(info.pipe.dir[1].msgs, 0);
	ck_assert_uint_eq(info.pipe.dir[0].sent, 1);
	ck_assert_uint_eq(broker_list_page(&b, "", infos, 4, &more), 2);
	ck_assert_int_eq(more, 0);
	ck_assert_uint_eq(infos[0].kind, IPC_KIND_PIPE);
	ck_assert_str_eq(infos[0].name, "p");
	ck_assert_uint_eq(infos[1].kind, IPC_KIND_QUEUE);
	ck_assert_str_eq(infos[1].name, "q");
	bfini(&b);
}
END_TEST

/* One end closed: the pipe stays, its peer may still read; both closed:
 * gone and the name free again; after fini (shutdown), a closing
 * connection finds nothing. */
START_TEST(test_broker_pipe_close_gone)
{
	struct broker_info info;
	struct broker b;
	struct pipe *p = ns_setup(&b, 1), *p2;

	send_rc(p, 0, A, "abc", 0);
	ck_assert_int_eq(broker_pipe_close(&b, "p", 0, B), IPC_ENOTATTACHED);
	ck_assert_int_eq(broker_pipe_close(&b, "p", 0, A), 0);
	ck_assert_int_eq(broker_info(&b, "p", &info), 0);
	ck_assert_int_eq(info.pipe.end[0], PIPE_END_CLOSED);
	ck_assert_int_eq(info.pipe.end[1], PIPE_END_ATTACHED);
	ck_assert_uint_eq(info.pipe.dir[0].msgs, 1);  /* B may still read it */
	ck_assert_int_eq(broker_pipe_close(&b, "p", 1, B), 0);
	ck_assert_int_eq(broker_pipe_find(&b, "p", &p2), IPC_ENOENT);
	ck_assert_int_eq(broker_info(&b, "p", &info), IPC_ENOENT);
	ck_assert_int_eq(battach(&b, "p", 0, BROKER_PIPE_CREATE, A, &p2), 0);
	ck_assert_int_eq(broker_info(&b, "p", &info), 0);
	ck_assert_uint_eq(info.pipe.dir[0].sent, 0);
	bfini(&b);
	ck_assert_ptr_null(b.reg);
	ck_assert_int_eq(broker_pipe_find(&b, "p", &p2), IPC_ENOENT);
	ck_assert_int_eq(broker_pipe_close(&b, "p", 0, A), IPC_ENOENT);
}
END_TEST

static struct broker *hook_broker;

/* Shutdown hook: the woken request's connection closes its other pipe. */
static void hook_close_other(struct tw *t)
{
	ck_assert_int_eq(t->status, IPC_ESHUTDOWN);
	ck_assert_int_eq(broker_pipe_close(hook_broker, "other", 0, A),
			 IPC_ENOENT);
}

START_TEST(test_broker_pipe_fini)
{
	struct broker b;
	struct pipe *p, *o;
	struct tw r, s;

	ck_assert_int_eq(broker_init(&b, IPC_MSG_MAX, test_wake), 0);
	hook_broker = &b;
	ck_assert_int_eq(battach(&b, "one", 0, BROKER_PIPE_CREATE, A, &p), 0);
	ck_assert_int_eq(battach(&b, "other", 0, BROKER_PIPE_CREATE, A, &o), 0);
	ck_assert_int_eq(battach(&b, "other", 1, 0, B, &o), 0);
	tw_init(&r, p, WAITER_GET, NULL);
	pipe_park(p, 0, &r.w);
	r.hook = hook_close_other;
	send_rc(o, 1, B, "held", 0);
	tw_init(&s, o, WAITER_GET, NULL);
	pipe_park(o, 1, &s.w);
	/* Every pipe is freed once, its parked requests answered. */
	bfini(&b);
	ck_assert_int_eq(r.woken, 1);
	ck_assert_int_eq(s.woken, 1);
	ck_assert_int_eq(s.status, IPC_ESHUTDOWN);
}
END_TEST

/* Receiver hook: close both ends through the broker from inside the wake
 * of a send; the outer call reaps the pipe afterwards. */
static void hook_broker_close_both(struct tw *t)
{
	ck_assert_int_eq(broker_pipe_close(hook_broker, "x", 0, A), 0);
	ck_assert_int_eq(broker_pipe_close(hook_broker, "x", 1, A), 0);
	/* Not freed under the running send. */
	ck_assert_int_eq(broker_pipe_find(hook_broker, "x", &t->p), 0);
}

START_TEST(test_broker_pipe_reap_nested)
{
	struct broker b;
	struct pipe *p, *p2;
	struct tw r;

	ck_assert_int_eq(broker_init(&b, IPC_MSG_MAX, test_wake), 0);
	hook_broker = &b;
	ck_assert_int_eq(battach(&b, "x", 0, BROKER_PIPE_CREATE, A, &p), 0);
	ck_assert_int_eq(battach(&b, "x", 1, 0, A, &p), 0);
	tw_init(&r, p, WAITER_GET, NULL);
	pipe_park(p, 1, &r.w);
	r.hook = hook_broker_close_both;
	send_rc(p, 0, A, "m", 0);
	expect_msg(r.got, "m");
	ck_assert_int_eq(broker_pipe_find(&b, "x", &p2), 0);
	broker_pipe_reap(&b, p);
	ck_assert_int_eq(broker_pipe_find(&b, "x", &p2), IPC_ENOENT);
	bfini(&b);
}
END_TEST

START_TEST(test_broker_pipe_delete)
{
	struct broker b;
	struct pipe *p, *p2;
	struct queue *q;
	struct tw r;

	ck_assert_int_eq(broker_init(&b, IPC_MSG_MAX, test_wake), 0);
	b.max_objects = 1;
	ck_assert_int_eq(battach(&b, "d", 1, BROKER_PIPE_CREATE, B, &p), 0);
	ck_assert_int_eq(battach(&b, "d", 0, 0, A, &p), 0);
	send_rc(p, 0, A, "to-b", 0);
	tw_init(&r, p, WAITER_GET, NULL);
	pipe_park(p, 0, &r.w);
	ck_assert_int_eq(battach(&b, "e", 0, BROKER_PIPE_CREATE, A, &p2),
			 IPC_ELIMIT);
	ck_assert_int_eq(broker_delete(&b, "d", IPC_KIND_PIPE), 0);
	ck_assert_int_eq(r.woken, 1);
	ck_assert_int_eq(r.status, IPC_EDELETED);
	/* Gone at once: not found, not closable, the slot is free. */
	ck_assert_int_eq(broker_pipe_find(&b, "d", &p2), IPC_ENOENT);
	ck_assert_int_eq(broker_delete(&b, "d", IPC_KIND_PIPE), IPC_ENOENT);
	ck_assert_int_eq(broker_pipe_close(&b, "d", 0, A), IPC_ENOENT);
	/* A new pipe of the name is a fresh one: the old holders have
	 * nothing on it. */
	ck_assert_int_eq(battach(&b, "d", 0, BROKER_PIPE_CREATE, B, &p2), 0);
	ck_assert_uint_eq(stats(p2).dir[0].sent, 0);
	ck_assert_uint_eq(stats(p2).dir[1].msgs, 0);
	send_rc(p2, 0, A, "x", IPC_ENOTATTACHED);
	ck_assert_int_eq(broker_pipe_close(&b, "d", 0, A), IPC_ENOTATTACHED);
	ck_assert_int_eq(broker_delete(&b, "d", IPC_KIND_PIPE), 0);
	/* A queue is not a pipe. */
	ck_assert_int_eq(broker_queue_open(&b, "q", 0, BROKER_OPEN_CREATE, &q), 0);
	ck_assert_int_eq(broker_delete(&b, "q", IPC_KIND_PIPE), IPC_EWRONGTYPE);
	ck_assert_int_eq(broker_queue_find(&b, "q", &q), 0);
	bfini(&b);
}
END_TEST

/* Receiver hook: delete pipe "x" from inside its wake, then create a new
 * "x" at once; t->arg receives the new pipe. */
static void hook_broker_delete(struct tw *t)
{
	struct pipe **np = t->arg;

	ck_assert_int_eq(broker_delete(hook_broker, "x", IPC_KIND_PIPE), 0);
	ck_assert_int_eq(broker_pipe_find(hook_broker, "x", np), IPC_ENOENT);
	ck_assert_int_eq(battach(hook_broker, "x", 0, BROKER_PIPE_CREATE, B, np), 0);
}

START_TEST(test_broker_pipe_delete_nested)
{
	struct broker b;
	struct pipe *p, *np = NULL, *found;
	struct tw r;

	ck_assert_int_eq(broker_init(&b, IPC_MSG_MAX, test_wake), 0);
	hook_broker = &b;
	ck_assert_int_eq(battach(&b, "x", 0, BROKER_PIPE_CREATE, A, &p), 0);
	ck_assert_int_eq(battach(&b, "x", 1, 0, A, &p), 0);
	tw_init(&r, p, WAITER_GET, NULL);
	pipe_park(p, 1, &r.w);
	r.hook = hook_broker_delete;
	r.arg = &np;
	send_rc(p, 0, A, "m", 0);
	expect_msg(r.got, "m");
	ck_assert_ptr_nonnull(np);
	ck_assert_ptr_ne(np, p);
	/* The outer caller frees the old pipe, and leaves the new one be. */
	ck_assert(pipe_done(p));
	broker_pipe_reap(&b, p);
	ck_assert_int_eq(broker_pipe_find(&b, "x", &found), 0);
	ck_assert_ptr_eq(found, np);
	bfini(&b);
}
END_TEST

/* The suite. */
START_TEST(test_pipe_send_batch_whole)
{
	struct pipe *p = newp_ab(true, 2, 100);
	struct qmsg *in[6], *m;
	struct tw r[2];
	size_t taken = 0, i;
	char s[2] = "1";

	/* Two receives at end 0 wanting 3 each: a batch of 6 from end 1
	 * gives the first 1-3, the second 4-6, each in one hand-over. */
	for (i = 0; i < 2; i++) {
		tw_init(&r[i], p, WAITER_GET, NULL);
		r[i].w.want = 3;
		pipe_park(p, 0, &r[i].w);
	}
	for (i = 0; i < 6; i++, s[0]++)
		in[i] = msg(s);
	ck_assert_int_eq(pipe_send_batch(p, 1, B, in, 6, &taken), 0);
	ck_assert_uint_eq(taken, 6);
	for (i = 0; i < 2; i++) {
		ck_assert_int_eq(r[i].woken, 1);
		for (m = r[i].got, s[0] = (char)('1' + 3 * i); m != NULL; s[0]++) {
			struct qmsg *next = m->next;

			m->next = NULL;
			expect_msg(m, s);
			m = next;
		}
		ck_assert_int_eq(s[0], '1' + 3 * (int)i + 3);
	}
	/* No receiver: buffered up to the bound (2 messages), then Full. */
	for (i = 0; i < 3; i++)
		in[i] = msg("x");
	ck_assert_int_eq(pipe_send_batch(p, 1, B, in, 3, &taken), IPC_EFULL);
	ck_assert_uint_eq(taken, 2);
	qmsg_free(in[2]);
	/* Not the holder: refused, nothing taken. */
	in[0] = msg("y");
	ck_assert_int_eq(pipe_send_batch(p, 1, A, in, 1, &taken), IPC_ENOTATTACHED);
	ck_assert_uint_eq(taken, 0);
	qmsg_free(in[0]);
	pipe_free(p, IPC_EDELETED);
}
END_TEST

static Suite *pipe_suite(void)
{
	Suite *s = suite_create("pipe");
	TCase *tc = tcase_create("pipe");
	TCase *tb = tcase_create("broker");

	tcase_add_test(tc, test_pipe_new);
	tcase_add_test(tc, test_pipe_send_batch_whole);
	tcase_add_test(tc, test_pipe_attach_rules);
	tcase_add_test(tc, test_pipe_ownership);
	tcase_add_test(tc, test_pipe_detach);
	tcase_add_test(tc, test_pipe_duplex_both_ways);
	tcase_add_test(tc, test_pipe_oneway_direction);
	tcase_add_test(tc, test_pipe_before_attach);
	tcase_add_test(tc, test_pipe_bound_msgs);
	tcase_add_test(tc, test_pipe_bound_bytes);
	tcase_add_test(tc, test_pipe_receivers_fifo);
	tcase_add_test(tc, test_pipe_senders_fifo);
	tcase_add_test(tc, test_pipe_stall_resume);
	tcase_add_test(tc, test_pipe_senders_bytes);
	tcase_add_test(tc, test_pipe_close_eof_after_drain);
	tcase_add_test(tc, test_pipe_close_wakes);
	tcase_add_test(tc, test_pipe_close_own_parked);
	tcase_add_test(tc, test_pipe_close_parked_receiver_waits_for_drain);
	tcase_add_test(tc, test_pipe_free_wakes_all);
	tcase_add_test(tc, test_pipe_reenter_close_in_wake);
	tcase_add_test(tc, test_pipe_reenter_close_in_admit);
	tcase_add_test(tc, test_pipe_reenter_send);
	tcase_add_test(tc, test_pipe_free_reenter);
	tcase_add_test(tc, test_pipe_kill);
	tcase_add_test(tc, test_pipe_kill_in_wake);
	tcase_add_test(tb, test_broker_pipe_namespace);
	tcase_add_test(tb, test_broker_queue_access);
	tcase_add_test(tb, test_broker_pipe_attach_existing);
	tcase_add_test(tb, test_broker_pipe_info_list);
	tcase_add_test(tb, test_broker_pipe_close_gone);
	tcase_add_test(tb, test_broker_pipe_fini);
	tcase_add_test(tb, test_broker_pipe_reap_nested);
	tcase_add_test(tb, test_broker_pipe_delete);
	tcase_add_test(tb, test_broker_pipe_delete_nested);
	suite_add_tcase(s, tc);
	suite_add_tcase(s, tb);
	return s;
}

/* Run the suite; exit status 0 when every case passed. */
int main(void)
{
	SRunner *sr = srunner_create(pipe_suite());
	int failed;

	srunner_run_all(sr, CK_NORMAL);
	failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}
