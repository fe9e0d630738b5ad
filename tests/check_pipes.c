/* SPDX-License-Identifier: MIT */
/*
 * check_pipes.c: named pipes end to end: the real ipcd, freshly built,
 * driven through libipcclient from this process and from forked children,
 * and through ipcctl and pipe_demo. Every test starts its own daemon in a
 * private directory and stops it with SIGTERM, asserting a clean exit
 * (under IPCD_WRAPPER=valgrind that also means no leaks).
 */
#include <check.h>
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <grp.h>
#include <unistd.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <sys/wait.h>

#include "harness.h"
#include <ipcclient/ipcclient.h>
#include "proto.h"

/* How long a child may take to finish its part (ms). */
#define T_CHILD_MS (h_wrapped() ? 120000 : 20000)

/* Pipe options with these bounds (0: the default or any) and the
 * default mode. */
static struct ipc_pipe_opts popts(long long maxmsgs, long long maxbytes)
{
	struct ipc_pipe_opts o = IPC_PIPE_OPTS_INIT;

	o.maxmsgs = maxmsgs;
	o.maxbytes = maxbytes;
	return o;
}

/* Attach c to end of pipe name with flags and opts, asserting success. */
static void attach(ipc_client *c, const char *name, int end, int flags,
		   struct ipc_pipe_opts *opts)
{
	int rc = ipc_pipe_attach(c, name, end, flags, opts);

	ck_assert_msg(rc == 0, "attach %s end %d: %d (%s)", name, end, rc,
		      ipc_last_error(c));
}

/* A new connection attached to end of pipe name (created if missing). */
static ipc_client *attach_new(const struct h_daemon *d, const char *name,
			      int end, int flags)
{
	ipc_client *c = h_connect(d);

	attach(c, name, end, flags | IPC_PIPE_CREATE, NULL);
	return c;
}

/* Send a text message from end, asserting result rc. */
static void send_rc(ipc_client *c, const char *name, int end, const char *s,
		    int timeout, int rc)
{
	int got = ipc_pipe_send(c, name, end, s, strlen(s), timeout);

	ck_assert_msg(got == rc, "send '%s' on %s end %d: %d (%s), want %d",
		      s, name, end, got, ipc_last_error(c), rc);
}

/* Receive at end and assert the message is the text want. */
static void recv_expect(ipc_client *c, const char *name, int end,
			const char *want, int timeout)
{
	void *data = NULL;
	size_t len = 0;
	int rc = ipc_pipe_recv(c, name, end, &data, &len, timeout);

	ck_assert_msg(rc == 0, "recv on %s end %d: %d (%s), want '%s'", name,
		      end, rc, ipc_last_error(c), want);
	ck_assert_uint_eq(len, strlen(want));
	ck_assert_mem_eq(data, want, len);
	ipc_free(data);
}

/* Receive at end and assert the result rc (not 0). */
static void recv_rc(ipc_client *c, const char *name, int end, int timeout,
		    int rc)
{
	void *data = NULL;
	size_t len = 0;
	int got = ipc_pipe_recv(c, name, end, &data, &len, timeout);

	if (got == 0)
		ipc_free(data);
	ck_assert_msg(got == rc, "recv on %s end %d: %d (%s), want %d", name,
		      end, got, ipc_last_error(c), rc);
}

/* Poll stat until pipe name's ends bits equal want; asserts a bound. */
static void wait_ends(ipc_client *c, const char *name, unsigned want)
{
	int64_t deadline = h_now_ms() + (h_wrapped() ? 60000 : 10000);
	struct ipc_info info;

	for (;;) {
		ck_assert_int_eq(ipc_stat(c, name, &info, sizeof(info)), 0);
		if (info.ends == want)
			return;
		ck_assert_msg(h_now_ms() < deadline, "%s: ends 0x%x, want 0x%x",
			      name, info.ends, want);
		usleep(2000);
	}
}

/* Poll until name exists, then until `want` requests of kind field ('g'
 * receives, 'p' sends) are parked on it; asserts a bound. */
static void wait_parked(ipc_client *c, const char *name, char field,
			unsigned want)
{
	int64_t deadline = h_now_ms() + (h_wrapped() ? 60000 : 10000);
	struct ipc_info info;

	while (ipc_stat(c, name, &info, sizeof(info)) != 0) {
		ck_assert_msg(h_now_ms() < deadline, "%s never created", name);
		usleep(2000);
	}
	h_wait_parked(c, name, field, want);
}

/* Poll until name is gone from the namespace; asserts a bound. */
static void wait_gone(ipc_client *c, const char *name)
{
	int64_t deadline = h_now_ms() + (h_wrapped() ? 60000 : 10000);
	struct ipc_info info;

	while (ipc_stat(c, name, &info, sizeof(info)) != IPC_ENOENT) {
		ck_assert_msg(h_now_ms() < deadline, "%s still exists", name);
		usleep(2000);
	}
}

/* What a forked pipe child does. */
struct pjob {
	const char *sock;
	const char *name;
	int end;
	int flags;           /* attach flags (CREATE is added) */
	const char *data;    /* send: the text */
	int count;           /* how many messages */
	int timeout;
	int fd;              /* report pipe, or -1 */
};

/* Child: attach, send j->data j->count times, then just exit (the
 * connection closing closes the end). */
static int pjob_send(void *arg)
{
	struct pjob *j = arg;
	ipc_client *c;
	int rc, i;

	if (h_ipc_connect(j->sock, &c))
		return 120;
	rc = ipc_pipe_attach(c, j->name, j->end, j->flags | IPC_PIPE_CREATE, NULL);
	for (i = 0; rc == 0 && i < j->count; i++)
		rc = ipc_pipe_send(c, j->name, j->end, j->data, strlen(j->data),
				   j->timeout);
	ipc_close(c);
	return h_job_status(rc);
}

/* Child: attach and receive once; report "[u32 len][bytes]" on j->fd. */
static int pjob_recv(void *arg)
{
	struct pjob *j = arg;
	ipc_client *c;
	void *data;
	size_t len;
	uint32_t l32;
	int rc;

	if (h_ipc_connect(j->sock, &c))
		return 120;
	rc = ipc_pipe_attach(c, j->name, j->end, j->flags | IPC_PIPE_CREATE, NULL);
	if (rc == 0)
		rc = ipc_pipe_recv(c, j->name, j->end, &data, &len, j->timeout);
	if (rc == 0) {
		l32 = (uint32_t)len;
		if (j->fd >= 0 && (write(j->fd, &l32, 4) != 4 ||
				   write(j->fd, data, len) != (ssize_t)len))
			rc = 119;
		ipc_free(data);
	}
	ipc_close(c);
	return h_job_status(rc);
}

/* 1: rendezvous by name: the first attach creates, the other end needs no
 * CREATE, and a third attach is Busy. */
START_TEST(test_attach_rendezvous_busy)
{
	struct h_daemon d;
	struct ipc_pipe_opts o = IPC_PIPE_OPTS_INIT;
	struct ipc_info info;
	ipc_client *a, *b, *x;

	h_start(&d);
	a = h_connect(&d);
	b = h_connect(&d);
	x = h_connect(&d);
	/* Not there, no CREATE. */
	ck_assert_int_eq(ipc_pipe_attach(a, "p", 0, 0, NULL), IPC_ENOENT);
	/* The first attach creates it (duplex by default) and says so. */
	o.maxmsgs = 0;
	o.maxbytes = 0;
	attach(a, "p", 0, IPC_PIPE_CREATE, &o);
	ck_assert_int_eq(o.duplex, 1);
	ck_assert_int_eq(o.maxmsgs, IPC_PIPE_DEFAULT_MSGS);
	ck_assert_int_eq(o.maxbytes, IPC_PIPE_DEFAULT_BYTES);
	info = h_stat(a, "p");
	ck_assert_int_eq(info.kind, IPC_KIND_PIPE);
	ck_assert_uint_eq(info.ends, IPC_END_ATTACHED(0));
	ck_assert_int_eq(info.duplex, 1);
	ck_assert_int_eq(info.maxsize, IPC_PIPE_DEFAULT_MSGS);
	ck_assert_uint_eq(info.maxbytes, IPC_PIPE_DEFAULT_BYTES);
	/* The other end, by another process: no CREATE needed now. */
	attach(b, "p", 1, 0, NULL);
	ck_assert_uint_eq(h_stat(x, "p").ends,
			  IPC_END_ATTACHED(0) | IPC_END_ATTACHED(1));
	/* A third attach: Busy, for either end, and for the holder too. */
	ck_assert_int_eq(ipc_pipe_attach(x, "p", 0, IPC_PIPE_CREATE, NULL), IPC_EBUSY);
	ck_assert_int_eq(ipc_pipe_attach(x, "p", 1, IPC_PIPE_CREATE, NULL), IPC_EBUSY);
	ck_assert_int_eq(ipc_pipe_attach(a, "p", 0, 0, NULL), IPC_EBUSY);
	ck_assert_ptr_nonnull(strstr(ipc_last_error(a), "attached"));
	ipc_close(a);
	ipc_close(b);
	ipc_close(x);
	h_stop(&d);
}
END_TEST

/* 1b: an attach whose explicit kind or bounds differ from the pipe's is
 * Mismatch; bad arguments are refused, by the library or the daemon. */
START_TEST(test_attach_mismatch_bad_args)
{
	struct h_daemon d;
	struct ipc_pipe_opts o;
	struct ipc_info info;
	ipc_client *a, *x;

	h_start(&d);
	a = h_connect(&d);
	x = h_connect(&d);
	attach(a, "p", 0, IPC_PIPE_CREATE, NULL);
	/* Explicit expectations must match the pipe. */
	ck_assert_int_eq(ipc_pipe_attach(x, "p", 0, IPC_PIPE_ONEWAY, NULL),
			 IPC_EMISMATCH);
	o = popts(7, 0);
	ck_assert_int_eq(ipc_pipe_attach(x, "p", 0, 0, &o), IPC_EMISMATCH);
	o = popts(0, 7);
	ck_assert_int_eq(ipc_pipe_attach(x, "p", 0, 0, &o), IPC_EMISMATCH);
	/* Bad arguments, refused before any round trip or by the daemon. */
	ck_assert_int_eq(ipc_pipe_attach(x, "p", 2, 0, NULL), IPC_EINVAL);
	ck_assert_int_eq(ipc_pipe_attach(x, "p", -1, 0, NULL), IPC_EINVAL);
	ck_assert_int_eq(ipc_pipe_attach(x, "q", 0, IPC_PIPE_CREATE |
					 IPC_PIPE_DUPLEX | IPC_PIPE_ONEWAY, NULL),
			 IPC_EINVAL);
	o = popts(IPC_PIPE_MSGS_MAX + 1, 0);
	ck_assert_int_eq(ipc_pipe_attach(x, "q", 0, IPC_PIPE_CREATE, &o), IPC_EINVAL);
	ck_assert_int_eq(ipc_pipe_attach(x, "a b", 0, IPC_PIPE_CREATE, NULL), IPC_ENAME);
	ck_assert_int_eq(ipc_stat(x, "q", &info, sizeof(info)), IPC_ENOENT);
	ipc_close(a);
	ipc_close(x);
	h_stop(&d);
}
END_TEST

/* 1c: one namespace: a queue call on a pipe's name and a pipe call on a
 * queue's are the wrong kind. */
START_TEST(test_attach_namespace)
{
	struct h_daemon d;
	ipc_client *a, *x;
	void *data;
	size_t len;

	h_start(&d);
	a = h_connect(&d);
	x = h_connect(&d);
	attach(a, "p", 0, IPC_PIPE_CREATE, NULL);
	ck_assert_int_eq(ipc_queue_put(x, "p", "x", 1, 0), IPC_EWRONGTYPE);
	ck_assert_int_eq(ipc_queue_get(x, "p", &data, &len, 0), IPC_EWRONGTYPE);
	ck_assert_int_eq(ipc_queue_open(x, "p", H_QOPTS(0, IPC_QUEUE_CREATE), NULL),
			 IPC_EWRONGTYPE);
	ck_assert_int_eq(ipc_queue_open(x, "jobs", H_QOPTS(0, IPC_QUEUE_CREATE), NULL), 0);
	ck_assert_int_eq(ipc_pipe_attach(x, "jobs", 0, IPC_PIPE_CREATE, NULL),
			 IPC_EWRONGTYPE);
	ck_assert_int_eq(ipc_pipe_close(x, "jobs", 0), IPC_EWRONGTYPE);
	ipc_close(a);
	ipc_close(x);
	h_stop(&d);
}
END_TEST

/* 1d: explicit bounds and kind are kept and reported to the other end. */
START_TEST(test_attach_explicit_bounds)
{
	struct h_daemon d;
	struct ipc_pipe_opts o = popts(3, 100);
	ipc_client *a, *x;

	h_start(&d);
	a = h_connect(&d);
	x = h_connect(&d);
	attach(x, "small", 1, IPC_PIPE_CREATE | IPC_PIPE_ONEWAY, &o);
	ck_assert_int_eq(o.maxmsgs, 3);
	ck_assert_int_eq(o.maxbytes, 100);
	ck_assert_int_eq(o.duplex, 0);
	o = (struct ipc_pipe_opts)IPC_PIPE_OPTS_INIT;
	attach(a, "small", 0, IPC_PIPE_ONEWAY, &o);
	ck_assert_int_eq(o.maxmsgs, 3);
	ck_assert_int_eq(o.duplex, 0);
	ipc_close(a);
	ipc_close(x);
	h_stop(&d);
}
END_TEST

/* Start ipcd on d with a pipe "p" (capacity 4 MiB): end 0 attached by
 * *a (which creates it), end 1 by *b. */
static void pipe_pair(struct h_daemon *d, ipc_client **a, ipc_client **b)
{
	struct ipc_pipe_opts o = popts(0, 4 << 20);

	h_start(d);
	*a = h_connect(d);
	attach(*a, "p", 0, IPC_PIPE_CREATE, &o);
	*b = attach_new(d, "p", 1, 0);
}

/* 2: whole messages both ways, 0 bytes to the limit, counted. */
START_TEST(test_send_recv)
{
	static const char bin[] = { 'a', 0, '\n', (char)0xff, 0 };
	struct h_daemon d;
	ipc_client *a, *b;
	unsigned char *big;
	size_t max, i, len;
	void *data;

	pipe_pair(&d, &a, &b);
	max = ipc_msg_max(a);
	big = malloc(max);
	for (i = 0; i < max; i++)
		big[i] = (unsigned char)(i * 13 + (i >> 9));
	send_rc(a, "p", 0, "hello", 0, 0);
	send_rc(a, "p", 0, "", 0, 0);
	ck_assert_int_eq(ipc_pipe_send(a, "p", 0, bin, sizeof(bin), 0), 0);
	ck_assert_int_eq(ipc_pipe_send(a, "p", 0, big, max, IPC_FOREVER), 0);
	/* Over max-memfd-size (over max, the message would go as a memfd). */
	ck_assert_int_eq(ipc_pipe_send(a, "p", 0, big, (64u << 20) + 1, 0), IPC_ETOOBIG);
	recv_expect(b, "p", 1, "hello", 0);
	recv_expect(b, "p", 1, "", 0);
	ck_assert_int_eq(ipc_pipe_recv(b, "p", 1, &data, &len, 0), 0);
	ck_assert_uint_eq(len, sizeof(bin));
	ck_assert_mem_eq(data, bin, sizeof(bin));
	ipc_free(data);
	ck_assert_int_eq(ipc_pipe_recv(b, "p", 1, &data, &len, IPC_FOREVER), 0);
	ck_assert_uint_eq(len, max);
	ck_assert_mem_eq(data, big, max);
	ipc_free(data);
	/* The other way. */
	send_rc(b, "p", 1, "back", 0, 0);
	recv_expect(a, "p", 0, "back", IPC_FOREVER);
	ck_assert_uint_eq(h_stat(a, "p").puts, 5);
	ck_assert_uint_eq(h_stat(a, "p").gets, 5);
	free(big);
	ipc_close(a);
	ipc_close(b);
	h_stop(&d);
}
END_TEST

/* 2b: a recv with nothing there: timeout 0 never waits, > 0 waits that
 * long, < -1 is invalid. */
START_TEST(test_recv_timeouts)
{
	struct h_daemon d;
	ipc_client *a, *b;
	size_t len;
	void *data;
	int64_t t0, ms;

	pipe_pair(&d, &a, &b);
	t0 = h_now_ms();
	recv_rc(a, "p", 0, 0, IPC_EEMPTY);
	ms = h_now_ms() - t0;
	ck_assert_msg(ms < 1000, "recv nowait took %lld ms", (long long)ms);
	t0 = h_now_ms();
	recv_rc(b, "p", 1, 300, IPC_EEMPTY);
	ms = h_now_ms() - t0;
	ck_assert_msg(ms >= 300 && ms < (h_wrapped() ? 30000 : 5000),
		      "recv 300 ms returned after %lld ms", (long long)ms);
	ck_assert_int_eq(ipc_pipe_recv(b, "p", 1, &data, &len, -2), IPC_EINVAL);
	ipc_close(a);
	ipc_close(b);
	h_stop(&d);
}
END_TEST

/* 3: only the attaching connection may use its end; closed ends stay so. */
START_TEST(test_ownership)
{
	struct h_daemon d;
	ipc_client *a, *b, *x;

	h_start(&d);
	a = attach_new(&d, "p", 0, 0);
	b = h_connect(&d);
	x = h_connect(&d);
	/* End 1 is free: nobody may use it before attaching. */
	send_rc(x, "p", 1, "x", 0, IPC_ENOTATTACHED);
	recv_rc(x, "p", 1, 0, IPC_ENOTATTACHED);
	ck_assert_int_eq(ipc_pipe_close(x, "p", 1), IPC_ENOTATTACHED);
	/* End 0 is a's. */
	send_rc(x, "p", 0, "x", 0, IPC_ENOTATTACHED);
	recv_rc(x, "p", 0, 0, IPC_ENOTATTACHED);
	ck_assert_int_eq(ipc_pipe_close(x, "p", 0), IPC_ENOTATTACHED);
	send_rc(a, "p", 1, "x", 0, IPC_ENOTATTACHED);
	send_rc(x, "nope", 0, "x", 0, IPC_ENOENT);
	/* a closes end 0: a may not use it, nobody may attach it again. */
	attach(b, "p", 1, 0, NULL);
	ck_assert_int_eq(ipc_pipe_close(a, "p", 0), 0);
	send_rc(a, "p", 0, "x", 0, IPC_ECLOSED);
	recv_rc(a, "p", 0, 0, IPC_ECLOSED);
	ck_assert_int_eq(ipc_pipe_close(a, "p", 0), IPC_ECLOSED);
	ck_assert_int_eq(ipc_pipe_attach(a, "p", 0, IPC_PIPE_CREATE, NULL), IPC_ECLOSED);
	ck_assert_int_eq(ipc_pipe_attach(x, "p", 0, IPC_PIPE_CREATE, NULL), IPC_ECLOSED);
	ck_assert_uint_eq(h_stat(x, "p").ends,
			  IPC_END_CLOSED(0) | IPC_END_ATTACHED(1));
	/* A connection may hold both ends of a pipe. */
	attach(x, "self", 0, IPC_PIPE_CREATE, NULL);
	attach(x, "self", 1, 0, NULL);
	send_rc(x, "self", 1, "to me", 0, 0);
	recv_expect(x, "self", 0, "to me", 0);
	ipc_close(a);
	ipc_close(b);
	ipc_close(x);
	h_stop(&d);
}
END_TEST

/* 4: one-way pipes: end 0 only receives, end 1 only sends. */
START_TEST(test_oneway)
{
	struct h_daemon d;
	ipc_client *r, *w;

	h_start(&d);
	r = attach_new(&d, "ow", 0, IPC_PIPE_ONEWAY);
	w = attach_new(&d, "ow", 1, 0);   /* accepts the existing kind */
	ck_assert_int_eq(h_stat(r, "ow").duplex, 0);
	send_rc(r, "ow", 0, "wrong way", 0, IPC_EDIRECTION);
	recv_rc(w, "ow", 1, 0, IPC_EDIRECTION);
	recv_rc(w, "ow", 1, IPC_FOREVER, IPC_EDIRECTION);
	send_rc(w, "ow", 1, "right way", 0, 0);
	recv_expect(r, "ow", 0, "right way", 0);
	/* Still refused after the peer closed: direction comes first. */
	ck_assert_int_eq(ipc_pipe_close(w, "ow", 1), 0);
	send_rc(r, "ow", 0, "x", 0, IPC_EDIRECTION);
	recv_rc(r, "ow", 0, 0, IPC_EEOF);
	ipc_close(r);
	ipc_close(w);
	h_stop(&d);
}
END_TEST

/* 5: messages sent before the receiver attached are kept for it, even
 * when the sender is long gone. */
START_TEST(test_before_attach)
{
	struct h_daemon d;
	struct pjob j;
	struct ipc_info info;
	ipc_client *c, *r;
	pid_t pid;
	int i;

	h_start(&d);
	c = h_connect(&d);
	j = (struct pjob){ d.sock, "early", 1, IPC_PIPE_ONEWAY, "msg", 5,
			   IPC_FOREVER, -1 };
	pid = h_spawn(pjob_send, &j);
	ck_assert_int_eq(h_wait_child(pid, T_CHILD_MS), 0);
	/* The sender exited without ipc_pipe_close: its end is closed. */
	wait_ends(c, "early", IPC_END_CLOSED(1));
	info = h_stat(c, "early");
	ck_assert_uint_eq(info.dir[1].size, 5);
	ck_assert_uint_eq(info.dir[1].bytes, 15);
	ck_assert_uint_eq(info.size, 5);
	r = attach_new(&d, "early", 0, IPC_PIPE_ONEWAY);
	for (i = 0; i < 5; i++)
		recv_expect(r, "early", 0, "msg", 0);
	recv_rc(r, "early", 0, IPC_FOREVER, IPC_EEOF);
	recv_rc(r, "early", 0, 0, IPC_EEOF);
	ipc_close(r);
	wait_gone(c, "early");
	ipc_close(c);
	h_stop(&d);
}
END_TEST

/* 6: close: the peer drains, then EOF for good; BrokenPipe the other way;
 * both closed, the pipe is gone. */
START_TEST(test_close_eof_brokenpipe)
{
	struct h_daemon d;
	struct ipc_info info;
	ipc_client *a, *b, *c;

	h_start(&d);
	c = h_connect(&d);
	a = attach_new(&d, "p", 0, 0);
	b = attach_new(&d, "p", 1, 0);
	send_rc(b, "p", 1, "one", 0, 0);
	send_rc(b, "p", 1, "two", 0, 0);
	send_rc(a, "p", 0, "to-b", 0, 0);   /* dropped when b closes */
	ck_assert_int_eq(ipc_pipe_close(b, "p", 1), 0);
	info = h_stat(c, "p");
	ck_assert_uint_eq(info.ends, IPC_END_ATTACHED(0) | IPC_END_CLOSED(1));
	ck_assert_uint_eq(info.dir[0].size, 0);
	ck_assert_uint_eq(info.dir[1].size, 2);
	/* BrokenPipe: a's peer is gone. */
	send_rc(a, "p", 0, "x", 0, IPC_EPIPE);
	send_rc(a, "p", 0, "x", IPC_FOREVER, IPC_EPIPE);
	recv_expect(a, "p", 0, "one", 0);
	recv_expect(a, "p", 0, "two", 0);
	recv_rc(a, "p", 0, IPC_FOREVER, IPC_EEOF);
	recv_rc(a, "p", 0, 500, IPC_EEOF);
	ck_assert_int_eq(ipc_pipe_close(a, "p", 0), 0);
	/* Both ends closed: gone, and the name is free for a new pipe. */
	ck_assert_int_eq(ipc_stat(c, "p", &info, sizeof(info)), IPC_ENOENT);
	ipc_close(a);
	a = attach_new(&d, "p", 0, 0);
	ipc_close(a);
	ipc_close(b);
	ipc_close(c);
	h_stop(&d);
}
END_TEST

/* 6b: a receive parked in another process sees EOF when the peer closes
 * with nothing more to read. */
START_TEST(test_close_wakes_parked_recv)
{
	struct h_daemon d;
	struct pjob j;
	ipc_client *a, *c;
	pid_t pid;

	h_start(&d);
	c = h_connect(&d);
	a = attach_new(&d, "p", 0, 0);
	j = (struct pjob){ d.sock, "p", 1, 0, NULL, 0, IPC_FOREVER, -1 };
	pid = h_spawn(pjob_recv, &j);
	wait_parked(c, "p", 'g', 1);
	ck_assert_uint_eq(h_stat(c, "p").dir[0].getters, 1);
	ck_assert_int_eq(ipc_pipe_close(a, "p", 0), 0);
	ck_assert_int_eq(h_wait_child(pid, T_CHILD_MS), IPC_EEOF);
	wait_gone(c, "p");
	ipc_close(a);
	ipc_close(c);
	h_stop(&d);
}
END_TEST

/* 6c: a send parked on a full pipe gets BrokenPipe when the receiver
 * closes instead of reading. */
START_TEST(test_close_wakes_parked_send)
{
	struct h_daemon d;
	struct ipc_pipe_opts o = popts(1, 0);
	struct pjob j;
	ipc_client *a, *c;
	pid_t pid;

	h_start(&d);
	c = h_connect(&d);
	a = h_connect(&d);
	attach(a, "q", 0, IPC_PIPE_CREATE | IPC_PIPE_ONEWAY, &o);
	j = (struct pjob){ d.sock, "q", 1, IPC_PIPE_ONEWAY, "m", 2,
			   IPC_FOREVER, -1 };
	pid = h_spawn(pjob_send, &j);
	h_wait_parked(c, "q", 'p', 1);
	ck_assert_int_eq(ipc_pipe_close(a, "q", 0), 0);
	ck_assert_int_eq(h_wait_child(pid, T_CHILD_MS), IPC_EPIPE);
	wait_gone(c, "q");
	ipc_close(a);
	ipc_close(c);
	h_stop(&d);
}
END_TEST

/* 7: a sender parked on a full pipe is woken when the receiver reads,
 * and parked senders go in arrival order. */
START_TEST(test_parked_sender)
{
	struct h_daemon d;
	struct ipc_pipe_opts o = popts(2, 0);
	struct pjob j;
	ipc_client *r, *c;
	pid_t pid;
	int64_t t0;

	h_start(&d);
	c = h_connect(&d);
	r = h_connect(&d);
	attach(r, "p", 0, IPC_PIPE_CREATE | IPC_PIPE_ONEWAY, &o);
	j = (struct pjob){ d.sock, "p", 1, 0, "m", 3, IPC_FOREVER, -1 };
	pid = h_spawn(pjob_send, &j);
	h_wait_parked(c, "p", 'p', 1);
	ck_assert_uint_eq(h_stat(c, "p").dir[1].size, 2);
	ck_assert_uint_eq(h_stat(c, "p").dir[1].putters, 1);
	/* The child stays parked while nobody reads. */
	usleep(200000);
	ck_assert_int_eq(waitpid(pid, NULL, WNOHANG), 0);
	t0 = h_now_ms();
	recv_expect(r, "p", 0, "m", 0);
	ck_assert_int_eq(h_wait_child(pid, T_CHILD_MS), 0);
	ck_assert_msg(h_now_ms() - t0 < (h_wrapped() ? 60000 : 5000),
		      "parked sender not woken");
	recv_expect(r, "p", 0, "m", 0);
	recv_expect(r, "p", 0, "m", 0);
	recv_rc(r, "p", 0, IPC_FOREVER, IPC_EEOF);
	ipc_close(r);
	ipc_close(c);
	h_stop(&d);
}
END_TEST

/* A one-way pipe "b" of 1000 messages and 64 KiB, filled by w with 4 KiB
 * messages until Full: 16 of them, exactly maxbytes held. */
static void bound_fill(ipc_client *r, ipc_client *w, const char *chunk)
{
	struct ipc_pipe_opts o = popts(1000, 65536);
	struct ipc_info info;
	int rc, sent = 0;

	attach(r, "b", 0, IPC_PIPE_CREATE | IPC_PIPE_ONEWAY, &o);
	attach(w, "b", 1, 0, NULL);
	while ((rc = ipc_pipe_send(w, "b", 1, chunk, 4096, 0)) == 0)
		sent++;
	ck_assert_int_eq(rc, IPC_EFULL);
	ck_assert_int_eq(sent, 16);
	info = h_stat(r, "b");
	ck_assert_uint_eq(info.dir[1].bytes, 65536);
	ck_assert_uint_le(info.dir[1].bytes, info.maxbytes);
	ck_assert_uint_eq(info.dir[1].size, 16);
}

/* 8: the bound: a sender past it reports Full when its timeout runs out,
 * and leaves nothing parked. */
START_TEST(test_bound_full_on_timeout)
{
	struct h_daemon d;
	ipc_client *r, *w;
	char *chunk = calloc(1, 4096);
	int64_t t0, ms;

	h_start(&d);
	r = h_connect(&d);
	w = h_connect(&d);
	bound_fill(r, w, chunk);
	t0 = h_now_ms();
	ck_assert_int_eq(ipc_pipe_send(w, "b", 1, chunk, 1, 300), IPC_EFULL);
	ms = h_now_ms() - t0;
	ck_assert_msg(ms >= 300 && ms < (h_wrapped() ? 30000 : 5000),
		      "send 300 ms returned after %lld ms", (long long)ms);
	ck_assert_uint_eq(h_stat(r, "b").dir[1].putters, 0);
	free(chunk);
	ipc_close(r);
	ipc_close(w);
	h_stop(&d);
}
END_TEST

/* 8b: however fast and big the offers past the bound, the daemon holds
 * nothing more and its memory does not grow. */
START_TEST(test_bound_holds_nothing_more)
{
	struct h_daemon d;
	struct ipc_info info;
	ipc_client *r, *w;
	char *chunk = calloc(1, 4096), *big;
	long rss0, rss1;
	size_t max;
	int i;

	h_start(&d);
	r = h_connect(&d);
	w = h_connect(&d);
	bound_fill(r, w, chunk);
	max = ipc_msg_max(w);
	big = calloc(1, max);
	rss0 = h_rss_kb(d.pid);
	for (i = 0; i < 300; i++)
		ck_assert_int_eq(ipc_pipe_send(w, "b", 1, big, max, 0), IPC_EFULL);
	info = h_stat(r, "b");
	ck_assert_uint_eq(info.dir[1].bytes, 65536);
	ck_assert_uint_eq(info.dir[1].size, 16);
	rss1 = h_rss_kb(d.pid);
	if (rss0 > 0 && rss1 > 0)
		ck_assert_msg(rss1 - rss0 < 32 * 1024,
			      "ipcd grew from %ld to %ld kB on refused sends",
			      rss0, rss1);
	free(big);
	free(chunk);
	ipc_close(r);
	ipc_close(w);
	h_stop(&d);
}
END_TEST

/* 8c: once drained, one message over maxbytes fits into the empty
 * direction, and then nothing more. */
START_TEST(test_bound_big_into_empty)
{
	struct h_daemon d;
	ipc_client *r, *w;
	char *chunk = calloc(1, 4096), *big;
	size_t max, len;
	void *data;
	int i;

	h_start(&d);
	r = h_connect(&d);
	w = h_connect(&d);
	bound_fill(r, w, chunk);
	max = ipc_msg_max(w);
	big = calloc(1, max);
	for (i = 0; i < 16; i++) {
		ck_assert_int_eq(ipc_pipe_recv(r, "b", 0, &data, &len, 0), 0);
		ck_assert_uint_eq(len, 4096);
		ipc_free(data);
	}
	ck_assert_int_eq(ipc_pipe_send(w, "b", 1, big, max, 0), 0);
	ck_assert_int_eq(ipc_pipe_send(w, "b", 1, "", 0, 0), IPC_EFULL);
	ck_assert_uint_eq(h_stat(r, "b").dir[1].bytes, max);
	free(big);
	free(chunk);
	ipc_close(r);
	ipc_close(w);
	h_stop(&d);
}
END_TEST

#define ECHO_ROUNDS 2000
#define ECHO_WINDOW 24

/* Child: hold end 1, echo every message back with "re:" until EOF. */
static int echo_child(void *arg)
{
	struct pjob *j = arg;
	char out[64];
	ipc_client *c;
	void *data;
	size_t len;
	int rc, n;

	if (h_ipc_connect(j->sock, &c))
		return 120;
	rc = ipc_pipe_attach(c, j->name, 1, IPC_PIPE_CREATE, NULL);
	while (rc == 0) {
		rc = ipc_pipe_recv(c, j->name, 1, &data, &len, IPC_FOREVER);
		if (rc)
			break;
		n = snprintf(out, sizeof(out), "re:%.*s", (int)len, (char *)data);
		ipc_free(data);
		rc = ipc_pipe_send(c, j->name, 1, out, (size_t)n, IPC_FOREVER);
	}
	if (rc == IPC_EEOF)
		rc = ipc_pipe_close(c, j->name, 1);
	ipc_close(c);
	return h_job_status(rc);
}

/* 9: interleaved duplex traffic: a window of requests in flight one way
 * while the replies flow back the other way, all in order. */
START_TEST(test_duplex_interleaved)
{
	struct h_daemon d;
	struct pjob j;
	char msg[32], want[40];
	ipc_client *a;
	int sent = 0, got = 0, i, rounds = ECHO_ROUNDS / (int)h_scale();
	pid_t pid;

	h_start(&d);
	a = attach_new(&d, "duo", 0, IPC_PIPE_DUPLEX);
	j = (struct pjob){ d.sock, "duo", 1, 0, NULL, 0, IPC_FOREVER, -1 };
	pid = h_spawn(echo_child, &j);
	while (got < rounds) {
		while (sent < rounds && sent - got < ECHO_WINDOW) {
			snprintf(msg, sizeof(msg), "%d", sent++);
			send_rc(a, "duo", 0, msg, IPC_FOREVER, 0);
		}
		snprintf(want, sizeof(want), "re:%d", got++);
		recv_expect(a, "duo", 0, want, IPC_FOREVER);
	}
	/* Both ways at once, without reading: each way buffers its own. */
	for (i = 0; i < 20; i++) {
		snprintf(msg, sizeof(msg), "b%d", i);
		send_rc(a, "duo", 0, msg, IPC_FOREVER, 0);
	}
	for (i = 0; i < 20; i++) {
		snprintf(want, sizeof(want), "re:b%d", i);
		recv_expect(a, "duo", 0, want, IPC_FOREVER);
	}
	ck_assert_int_eq(ipc_pipe_close(a, "duo", 0), 0);
	ck_assert_int_eq(h_wait_child(pid, T_CHILD_MS), 0);
	ipc_close(a);
	h_stop(&d);
}
END_TEST

#define KILL_MSG 512

/* Child: send numbered messages of KILL_MSG bytes for ever, reporting
 * each index on j->fd once the daemon said it took it. */
static int numbered_sender(void *arg)
{
	struct pjob *j = arg;
	char msg[KILL_MSG];
	ipc_client *c;
	uint32_t i;
	int rc;

	if (h_ipc_connect(j->sock, &c))
		return 120;
	rc = ipc_pipe_attach(c, j->name, 1, IPC_PIPE_CREATE | IPC_PIPE_ONEWAY, NULL);
	for (i = 0; rc == 0; i++) {
		memset(msg, 'a' + (int)(i % 26), sizeof(msg));
		memcpy(msg, &i, sizeof(i));
		rc = ipc_pipe_send(c, j->name, 1, msg, sizeof(msg), IPC_FOREVER);
		if (rc == 0 && write(j->fd, &i, sizeof(i)) != sizeof(i))
			rc = 119;
	}
	ipc_close(c);
	return h_job_status(rc);
}

/* Receive one numbered message at end 0 of name: its index, or -1 at EOF. */
static int64_t recv_numbered(ipc_client *c, const char *name)
{
	void *data;
	size_t len, k;
	uint32_t i;
	int rc = ipc_pipe_recv(c, name, 0, &data, &len, IPC_FOREVER);

	if (rc == IPC_EEOF)
		return -1;
	ck_assert_msg(rc == 0, "recv: %d (%s)", rc, ipc_last_error(c));
	ck_assert_uint_eq(len, KILL_MSG);
	memcpy(&i, data, sizeof(i));
	for (k = sizeof(i); k < len; k++)
		ck_assert_int_eq(((char *)data)[k], 'a' + (int)(i % 26));
	ipc_free(data);
	return i;
}

/* The highest index the killed sender reported (reports are in order),
 * or -1; reads the report pipe to its end. */
static int64_t last_acked(int fd)
{
	int64_t last = -1;
	uint32_t i;

	while (read(fd, &i, sizeof(i)) == sizeof(i)) {
		ck_assert_int_eq((int64_t)i, last + 1);
		last = i;
	}
	return last;
}

/* 10: a sender SIGKILLed mid-stream: the survivor gets every message the
 * daemon took, once each and in order, then EOF. */
START_TEST(test_sigkill_sender)
{
	struct h_daemon d;
	struct pjob j;
	ipc_client *r, *c;
	int64_t i, n = 0, acked;
	int fds[2];
	pid_t pid;

	h_start(&d);
	c = h_connect(&d);
	r = attach_new(&d, "k", 0, IPC_PIPE_ONEWAY);
	ck_assert_int_eq(pipe(fds), 0);
	j = (struct pjob){ d.sock, "k", 1, 0, NULL, 0, IPC_FOREVER, fds[1] };
	pid = h_spawn(numbered_sender, &j);
	close(fds[1]);
	/* Read a good part of the stream while the sender keeps the pipe
	 * full, then kill it in the middle of it. */
	for (n = 0; n < 3000 / (int)h_scale(); n++)
		ck_assert_int_eq(recv_numbered(r, "k"), n);
	h_wait_parked(c, "k", 'p', 1);
	kill(pid, SIGKILL);
	ck_assert_int_eq(h_wait_child(pid, T_CHILD_MS), 128 + SIGKILL);
	acked = last_acked(fds[0]);
	close(fds[0]);
	while ((i = recv_numbered(r, "k")) >= 0) {
		ck_assert_int_eq(i, n);
		n++;
	}
	/* Everything the daemon acknowledged arrived; at most the one send
	 * in flight at the kill came on top (the reply died with it). */
	ck_assert_msg(n - 1 >= acked && n - 1 <= acked + 1,
		      "got 0..%lld, the sender had %lld acknowledged",
		      (long long)n - 1, (long long)acked);
	recv_rc(r, "k", 0, 0, IPC_EEOF);
	ipc_close(r);
	wait_gone(c, "k");
	ipc_close(c);
	h_stop(&d);
}
END_TEST

/* Child: attach end 0 and read one message a while, never closing. */
static int slow_receiver(void *arg)
{
	struct pjob *j = arg;
	ipc_client *c;
	void *data;
	size_t len;
	int rc;

	if (h_ipc_connect(j->sock, &c))
		return 120;
	rc = ipc_pipe_attach(c, j->name, 0, IPC_PIPE_CREATE, NULL);
	while (rc == 0) {
		rc = ipc_pipe_recv(c, j->name, 0, &data, &len, IPC_FOREVER);
		if (rc == 0)
			ipc_free(data);
		usleep(1000);
	}
	ipc_close(c);
	return h_job_status(rc);
}

/* 11: a receiver SIGKILLed mid-stream: the sender's parked send and every
 * later one report BrokenPipe. */
START_TEST(test_sigkill_receiver)
{
	struct h_daemon d;
	struct pjob j;
	ipc_client *w, *c;
	pid_t pid;
	int rc, i;

	h_start(&d);
	c = h_connect(&d);
	w = attach_new(&d, "k", 1, 0);
	j = (struct pjob){ d.sock, "k", 0, 0, NULL, 0, IPC_FOREVER, -1 };
	pid = h_spawn(slow_receiver, &j);
	wait_ends(c, "k", IPC_END_ATTACHED(0) | IPC_END_ATTACHED(1));
	for (i = 0; i < 200; i++)
		send_rc(w, "k", 1, "data", IPC_FOREVER, 0);
	kill(pid, SIGKILL);
	ck_assert_int_eq(h_wait_child(pid, T_CHILD_MS), 128 + SIGKILL);
	/* Sends still accepted before the daemon saw the death are fine;
	 * from then on every send is a broken pipe, none waits. */
	do {
		rc = ipc_pipe_send(w, "k", 1, "data", 4, IPC_FOREVER);
	} while (rc == 0);
	ck_assert_int_eq(rc, IPC_EPIPE);
	send_rc(w, "k", 1, "data", IPC_FOREVER, IPC_EPIPE);
	ck_assert_uint_eq(h_stat(c, "k").ends,
			  IPC_END_CLOSED(0) | IPC_END_ATTACHED(1));
	ck_assert_uint_eq(h_stat(c, "k").dir[1].size, 0);
	ipc_close(w);
	wait_gone(c, "k");
	ipc_close(c);
	h_stop(&d);
}
END_TEST

/* 12: SIGTERM with requests parked on a pipe: they are answered (or their
 * connections closed), and ipcd exits 0 without leaks. */
START_TEST(test_shutdown_parked)
{
	struct h_daemon d;
	struct ipc_pipe_opts o = popts(1, 0);
	struct pjob jr, js;
	ipc_client *c, *r;
	pid_t pr, ps;
	int st;

	h_start(&d);
	c = h_connect(&d);
	r = h_connect(&d);
	attach(r, "full", 0, IPC_PIPE_CREATE | IPC_PIPE_ONEWAY, &o);
	jr = (struct pjob){ d.sock, "empty", 0, 0, NULL, 0, IPC_FOREVER, -1 };
	pr = h_spawn(pjob_recv, &jr);
	js = (struct pjob){ d.sock, "full", 1, 0, "m", 2, IPC_FOREVER, -1 };
	ps = h_spawn(pjob_send, &js);
	wait_parked(c, "empty", 'g', 1);
	h_wait_parked(c, "full", 'p', 1);
	h_stop(&d);
	st = h_wait_child(pr, T_CHILD_MS);
	ck_assert_msg(st == IPC_ESHUTDOWN || st == h_job_status(IPC_EIO),
		      "parked receiver ended with %d", st);
	st = h_wait_child(ps, T_CHILD_MS);
	ck_assert_msg(st == IPC_ESHUTDOWN || st == h_job_status(IPC_EIO),
		      "parked sender ended with %d", st);
	ipc_close(r);
	ipc_close(c);
}
END_TEST

/* 13: STAT and LIST report pipes: ends, both directions, parked counts. */
START_TEST(test_stat_list)
{
	struct h_daemon d;
	struct ipc_info *infos, info;
	struct pjob j;
	ipc_client *a, *c;
	pid_t pid;
	size_t n;

	h_start(&d);
	c = h_connect(&d);
	ck_assert_int_eq(ipc_queue_open(c, "a-queue", H_QOPTS(4, IPC_QUEUE_CREATE), NULL), 0);
	a = attach_new(&d, "b-pipe", 0, 0);
	send_rc(a, "b-pipe", 0, "12345", 0, 0);
	send_rc(a, "b-pipe", 0, "678", 0, 0);
	j = (struct pjob){ d.sock, "c-pipe", 1, 0, NULL, 0, IPC_FOREVER, -1 };
	pid = h_spawn(pjob_recv, &j);
	wait_parked(c, "c-pipe", 'g', 1);
	ck_assert_int_eq(ipc_list(c, &infos, &n, sizeof(*infos)), 0);
	ck_assert_uint_eq(n, 3);
	ck_assert_str_eq(infos[0].name, "a-queue");
	ck_assert_int_eq(infos[0].kind, IPC_KIND_QUEUE);
	ck_assert_uint_eq(infos[0].ends, 0);
	ck_assert_str_eq(infos[1].name, "b-pipe");
	ck_assert_int_eq(infos[1].kind, IPC_KIND_PIPE);
	ck_assert_uint_eq(infos[1].ends, IPC_END_ATTACHED(0));
	ck_assert_uint_eq(infos[1].dir[0].size, 2);
	ck_assert_uint_eq(infos[1].dir[0].bytes, 8);
	ck_assert_uint_eq(infos[1].dir[1].size, 0);
	ck_assert_uint_eq(infos[1].size, 2);
	ck_assert_uint_eq(infos[1].bytes, 8);
	ck_assert_uint_eq(infos[1].puts, 2);
	ck_assert_str_eq(infos[2].name, "c-pipe");
	ck_assert_uint_eq(infos[2].ends, IPC_END_ATTACHED(1));
	ck_assert_uint_eq(infos[2].dir[0].getters, 1);
	ck_assert_uint_eq(infos[2].getters, 1);
	ipc_free(infos);
	/* The parked receiver gets what end 0 sends. */
	attach(a, "c-pipe", 0, 0, NULL);
	send_rc(a, "c-pipe", 0, "hi", 0, 0);
	ck_assert_int_eq(h_wait_child(pid, T_CHILD_MS), 0);
	wait_ends(c, "c-pipe", IPC_END_ATTACHED(0) | IPC_END_CLOSED(1));
	info = h_stat(c, "c-pipe");
	ck_assert_uint_eq(info.puts, 1);
	ck_assert_uint_eq(info.gets, 1);
	ck_assert_uint_eq(info.getters, 0);
	ipc_close(a);
	wait_gone(c, "c-pipe");
	ipc_close(c);
	h_stop(&d);
}
END_TEST

/* 14: ipcctl send with arguments before any receiver; ls and stat show
 * the pipe; recv prints each message on its own line until EOF. */
START_TEST(test_ipcctl_send_ls_stat_recv)
{
	struct h_daemon d;
	struct h_buf out;
	ipc_client *c;

	h_start(&d);
	c = h_connect(&d);
	ck_assert_int_eq(h_run_ipcctl(&d, NULL, 0, NULL, NULL, "send", "p", "a",
				      "", "b c", "--close", NULL), 0);
	ck_assert_int_eq(h_run_ipcctl(&d, NULL, 0, &out, NULL, "ls", NULL), 0);
	ck_assert_uint_eq(h_count_lines(out.data), 2);
	ck_assert_ptr_nonnull(strstr(out.data, "pipe"));
	ck_assert_ptr_nonnull(strstr(out.data, "end0=free end1=closed"));
	ck_assert_ptr_nonnull(strstr(out.data, "size10=3 bytes10=4"));
	h_buf_free(&out);
	ck_assert_int_eq(h_run_ipcctl(&d, NULL, 0, &out, NULL, "stat", "p", NULL), 0);
	ck_assert_ptr_nonnull(strstr(out.data, "kind: pipe\n"));
	ck_assert_ptr_nonnull(strstr(out.data, "end0: free\n"));
	ck_assert_ptr_nonnull(strstr(out.data, "end1: closed\n"));
	ck_assert_ptr_nonnull(strstr(out.data, "size10: 3\n"));
	ck_assert_ptr_nonnull(strstr(out.data, "bytes10: 4\n"));
	ck_assert_ptr_nonnull(strstr(out.data, "size01: 0\n"));
	h_buf_free(&out);
	ck_assert_int_eq(h_run_ipcctl(&d, NULL, 0, &out, NULL, "stat", "p",
				      "--json", NULL), 0);
	ck_assert_ptr_nonnull(strstr(out.data, "\"end0\":\"free\",\"end1\":\"closed\""));
	ck_assert_ptr_nonnull(strstr(out.data, "\"size10\":3,\"bytes10\":4"));
	h_buf_free(&out);
	/* recv prints each on its own line until EOF, exit 0. */
	ck_assert_int_eq(h_run_ipcctl(&d, NULL, 0, &out, NULL, "recv", "p",
				      "--close", NULL), 0);
	ck_assert_str_eq(out.data, "a\n\nb c\n");
	h_buf_free(&out);
	wait_gone(c, "p");
	ipc_close(c);
	h_stop(&d);
}
END_TEST

/* 14b: ipcctl send from standard input, one message a line; recv --count
 * stops early (exit 0), or exits 5 when EOF comes first. */
START_TEST(test_ipcctl_stdin_count)
{
	struct h_daemon d;
	struct h_buf out, err;
	ipc_client *c;

	h_start(&d);
	c = h_connect(&d);
	ck_assert_int_eq(h_run_ipcctl(&d, "x\ny\n\nlast", 9, NULL, NULL, "send",
				      "s", "--close", NULL), 0);
	ck_assert_uint_eq(h_stat(c, "s").dir[1].size, 4);
	ck_assert_int_eq(h_run_ipcctl(&d, NULL, 0, &out, NULL, "recv", "s",
				      "--count", "2", "--close", NULL), 0);
	ck_assert_str_eq(out.data, "x\ny\n");
	h_buf_free(&out);
	wait_gone(c, "s");
	/* EOF first: exit 5, after printing them all. */
	ck_assert_int_eq(h_run_ipcctl(&d, "1\n2\n", 4, NULL, NULL, "send", "t",
				      "--close", NULL), 0);
	ck_assert_int_eq(h_run_ipcctl(&d, NULL, 0, &out, &err, "recv", "t",
				      "--count", "3", NULL), 5);
	ck_assert_str_eq(out.data, "1\n2\n");
	ck_assert_uint_eq(h_count_lines(err.data), 1);
	h_buf_free(&out);
	h_buf_free(&err);
	ipc_close(c);
	h_stop(&d);
}
END_TEST

/* 14c: ipcctl send: exit 6 on a closed receiver, --end on a duplex pipe,
 * exit 1 for the wrong direction and for a busy end. */
START_TEST(test_ipcctl_send_ends)
{
	struct h_daemon d;
	struct h_buf out, err;
	ipc_client *c;

	h_start(&d);
	c = h_connect(&d);
	attach(c, "gone", 0, IPC_PIPE_CREATE, NULL);
	ck_assert_int_eq(ipc_pipe_close(c, "gone", 0), 0);
	ck_assert_int_eq(h_run_ipcctl(&d, NULL, 0, NULL, &err, "send", "gone",
				      "x", "--close", NULL), 6);
	ck_assert_uint_eq(h_count_lines(err.data), 1);
	h_buf_free(&err);
	wait_gone(c, "gone");
	/* --end on a duplex pipe: end 0 sends, end 1 receives. */
	attach(c, "d", 1, IPC_PIPE_CREATE | IPC_PIPE_DUPLEX, NULL);
	send_rc(c, "d", 1, "to-0", 0, 0);
	ck_assert_int_eq(h_run_ipcctl(&d, NULL, 0, &out, NULL, "send", "d",
				      "--end", "0", "to-1", "--close", NULL), 0);
	h_buf_free(&out);
	recv_expect(c, "d", 1, "to-1", 0);
	recv_rc(c, "d", 1, 0, IPC_EEOF);
	ck_assert_int_eq(ipc_pipe_close(c, "d", 1), 0);
	/* --end 1 on a one-way pipe: the wrong direction, exit 1. */
	attach(c, "ow", 1, IPC_PIPE_CREATE | IPC_PIPE_ONEWAY, NULL);
	ck_assert_int_eq(h_run_ipcctl(&d, NULL, 0, NULL, &err, "send", "ow",
				      "--end", "0", "x", NULL), 1);
	ck_assert_ptr_nonnull(strstr(err.data, "direction"));
	h_buf_free(&err);
	/* A busy end: exit 1. */
	ck_assert_int_eq(h_run_ipcctl(&d, NULL, 0, NULL, &err, "send", "ow",
				      "x", NULL), 1);
	ck_assert_ptr_nonnull(strstr(err.data, "attached"));
	h_buf_free(&err);
	ipc_close(c);
	h_stop(&d);
}
END_TEST

/* 14d: ipcctl recv --timeout: Empty, exit 3; send --nowait into a full
 * pipe: Full, exit 4; usage errors: exit 2. */
START_TEST(test_ipcctl_empty_full_usage)
{
	struct h_daemon d;
	struct h_buf out;
	struct ipc_pipe_opts o = popts(1, 0);
	ipc_client *c;

	h_start(&d);
	c = h_connect(&d);
	ck_assert_int_eq(h_run_ipcctl(&d, NULL, 0, &out, NULL, "recv", "e",
				      "--timeout", "0.2", NULL), 3);
	ck_assert_uint_eq(out.len, 0);
	h_buf_free(&out);
	attach(c, "f", 0, IPC_PIPE_CREATE, &o);
	ck_assert_int_eq(h_run_ipcctl(&d, NULL, 0, NULL, NULL, "send", "f", "1",
				      "2", "--nowait", NULL), 4);
	ck_assert_uint_eq(h_stat(c, "f").dir[1].size, 1);
	ck_assert_int_eq(h_run_ipcctl(&d, NULL, 0, NULL, NULL, "recv", "f",
				      "--end", "2", NULL), 2);
	ck_assert_int_eq(h_run_ipcctl(&d, NULL, 0, NULL, NULL, "recv", "f",
				      "--count", "0", NULL), 2);
	ck_assert_int_eq(h_run_ipcctl(&d, NULL, 0, NULL, NULL, "send", "f",
				      "--count", "1", NULL), 2);
	ck_assert_int_eq(h_run_ipcctl(&d, NULL, 0, NULL, NULL, "get", "f",
				      "--end", "1", NULL), 2);
	ipc_close(c);
	h_stop(&d);
}
END_TEST

/* Launch d with max-queues 2 (the delete tests fill it). */
static void delete_launch(struct h_daemon *d)
{
	static const char *args[] = { "--max-queues", "2", NULL };
	struct h_opts ho = { .args = args, .listen_fd = -1 };

	h_prepare(d);
	h_launch_opts(d, &ho);
}

/* 16: QDEL deletes a pipe: requests parked on it (receive and send) get
 * IPC_EDELETED, buffered messages go, the holders lose their ends. */
START_TEST(test_delete_parked)
{
	struct ipc_pipe_opts o = popts(1, 0);
	struct h_daemon d;
	struct pjob jr, js;
	ipc_client *c, *holder;
	struct ipc_info info;
	pid_t pr, ps;

	delete_launch(&d);
	c = h_connect(&d);
	holder = h_connect(&d);
	/* A receive parked on "pr" (a child holding end 0) ... */
	jr = (struct pjob){ d.sock, "pr", 0, IPC_PIPE_ONEWAY, NULL, 1,
			    IPC_FOREVER, -1 };
	pr = h_spawn(pjob_recv, &jr);
	wait_parked(c, "pr", 'g', 1);
	/* ... and a send parked on "ps" behind a buffered message, the
	 * receiving end held by `holder`. */
	attach(holder, "ps", 0, IPC_PIPE_CREATE | IPC_PIPE_ONEWAY, &o);
	js = (struct pjob){ d.sock, "ps", 1, IPC_PIPE_ONEWAY, "m", 2,
			    IPC_FOREVER, -1 };
	ps = h_spawn(pjob_send, &js);
	wait_parked(c, "ps", 'p', 1);
	ck_assert_uint_eq(h_stat(c, "ps").dir[1].size, 1);
	/* Deleting answers both parked requests with IPC_EDELETED. */
	ck_assert_int_eq(ipc_delete(c, "pr"), 0);
	ck_assert_int_eq(h_wait_child(pr, T_CHILD_MS), IPC_EDELETED);
	ck_assert_int_eq(ipc_delete(c, "ps"), 0);
	ck_assert_int_eq(h_wait_child(ps, T_CHILD_MS), IPC_EDELETED);
	/* Gone at once, buffered message and all. */
	ck_assert_int_eq(ipc_stat(c, "pr", &info, sizeof(info)), IPC_ENOENT);
	ck_assert_int_eq(ipc_stat(c, "ps", &info, sizeof(info)), IPC_ENOENT);
	ck_assert_int_eq(ipc_delete(c, "ps"), IPC_ENOENT);
	/* The holder lost its end: IPC_ENOENT for anything on the name. */
	recv_rc(holder, "ps", 0, 0, IPC_ENOENT);
	send_rc(holder, "ps", 0, "x", 0, IPC_ENOENT);
	ck_assert_int_eq(ipc_pipe_close(holder, "ps", 0), IPC_ENOENT);
	ipc_close(holder);
	ipc_close(c);
	h_stop(&d);
}
END_TEST

/* 16b: the name (and its max-queues slot) is free at once: a new pipe of
 * that name is empty, works, and the old holder is a stranger to it. */
START_TEST(test_delete_frees_name)
{
	struct h_daemon d;
	ipc_client *c, *holder, *n;
	struct ipc_info info;

	delete_launch(&d);
	c = h_connect(&d);
	holder = h_connect(&d);
	attach(holder, "ps", 0, IPC_PIPE_CREATE | IPC_PIPE_ONEWAY, NULL);
	attach(c, "pr", 0, IPC_PIPE_CREATE, NULL);
	/* max-queues 2 is reached. */
	ck_assert_int_eq(ipc_pipe_attach(c, "third", 0, IPC_PIPE_CREATE, NULL),
			 IPC_ELIMIT);
	ck_assert_int_eq(ipc_delete(c, "pr"), 0);
	ck_assert_int_eq(ipc_delete(c, "ps"), 0);
	n = h_connect(&d);
	attach(n, "ps", 0, IPC_PIPE_CREATE | IPC_PIPE_ONEWAY, NULL);
	attach(c, "third", 0, IPC_PIPE_CREATE, NULL);
	info = h_stat(c, "ps");
	ck_assert_uint_eq(info.ends, IPC_END_ATTACHED(0));
	ck_assert_uint_eq(info.size, 0);
	ck_assert_uint_eq(info.puts, 0);
	recv_rc(holder, "ps", 0, 0, IPC_ENOTATTACHED);
	ck_assert_int_eq(ipc_pipe_close(holder, "ps", 0), IPC_ENOTATTACHED);
	ipc_close(holder);
	ck_assert_uint_eq(h_stat(c, "ps").ends, IPC_END_ATTACHED(0));
	send_rc(c, "ps", 0, "x", 0, IPC_ENOTATTACHED);
	/* The new pipe works: a sender attaches end 1, n receives. */
	attach(c, "ps", 1, 0, NULL);
	send_rc(c, "ps", 1, "fresh", 0, 0);
	recv_expect(n, "ps", 0, "fresh", 0);
	ck_assert_int_eq(ipc_delete(c, "ps"), 0);
	recv_rc(n, "ps", 0, 0, IPC_ENOENT);
	ipc_close(n);
	ipc_close(c);
	h_stop(&d);
}
END_TEST

/* 16c: deleting a pipe with both ends held by one connection. */
START_TEST(test_delete_both_ends_held)
{
	struct h_daemon d;
	ipc_client *c;

	h_start(&d);
	c = h_connect(&d);
	attach(c, "third", 0, IPC_PIPE_CREATE, NULL);
	attach(c, "third", 1, 0, NULL);
	send_rc(c, "third", 1, "t", 0, 0);
	ck_assert_int_eq(ipc_delete(c, "third"), 0);
	recv_rc(c, "third", 0, 0, IPC_ENOENT);
	ipc_close(c);
	h_stop(&d);
}
END_TEST

/* 16d: ipcctl rm deletes a pipe whose writer closed before any reader
 * came; queues are deleted as before. */
START_TEST(test_delete_ipcctl_rm)
{
	struct h_daemon d;
	struct ipc_info info;
	ipc_client *c;

	h_start(&d);
	c = h_connect(&d);
	ck_assert_int_eq(h_run_ipcctl(&d, NULL, 0, NULL, NULL, "send", "lone",
				      "x", "--close", NULL), 0);
	ck_assert_uint_eq(h_stat(c, "lone").ends, IPC_END_CLOSED(1));
	ck_assert_int_eq(h_run_ipcctl(&d, NULL, 0, NULL, NULL, "rm", "lone",
				      NULL), 0);
	ck_assert_int_eq(ipc_stat(c, "lone", &info, sizeof(info)), IPC_ENOENT);
	ck_assert_int_eq(h_run_ipcctl(&d, NULL, 0, NULL, NULL, "rm", "lone",
				      NULL), 1);
	h_create_queue(c, "q", 0);
	ck_assert_int_eq(ipc_delete(c, "q"), 0);
	ck_assert_int_eq(ipc_stat(c, "q", &info, sizeof(info)), IPC_ENOENT);
	ipc_close(c);
	h_stop(&d);
}
END_TEST

/* What a child acting as another uid does to pipe name. */
struct deljob {
	const char *sock;
	const char *name;
};

/* Child: become uid 4203 (a stranger), try to delete j->name (both
 * calls), then create and delete a pipe of its own. 0 when the deletes
 * were refused with IPC_EPERM and its own went; else which step failed. */
static int deljob_run(void *arg)
{
	const struct deljob *j = arg;
	ipc_client *c;

	if (setgroups(0, NULL) != 0 || setgid(4203) != 0 || setuid(4203) != 0 ||
	    getuid() != 4203)
		return 125;
	if (h_ipc_connect(j->sock, &c) != 0)
		return 99;
	if (ipc_delete(c, j->name) != IPC_EPERM)
		return 1;
	if (ipc_delete(c, j->name) != IPC_EPERM)
		return 2;
	if (ipc_pipe_attach(c, "mine", 0, IPC_PIPE_CREATE, NULL) != 0)
		return 3;
	if (ipc_delete(c, "mine") != 0)
		return 4;
	ipc_close(c);
	return 0;
}

/* 17: only the owner (or root) deletes a pipe; a refusal changes nothing. */
START_TEST(test_delete_perm)
{
	static const char *args[] = { "--socket-mode", "0666", NULL };
	struct h_opts ho = { .args = args, .listen_fd = -1 };
	struct h_daemon d;
	struct deljob j;
	ipc_client *a, *b;
	struct ipc_info info;

	h_prepare(&d);
	ck_assert_int_eq(chmod(d.dir, 0755), 0);
	h_launch_opts(&d, &ho);
	a = h_connect(&d);
	b = h_connect(&d);
	attach(a, "p", 0, IPC_PIPE_CREATE, NULL);
	attach(b, "p", 1, 0, NULL);
	send_rc(a, "p", 0, "kept", 0, 0);
	j = (struct deljob){ d.sock, "p" };
	ck_assert_int_eq(h_wait_child(h_spawn(deljob_run, &j), T_CHILD_MS), 0);
	/* Nothing changed: both ends held, the message still there. */
	info = h_stat(a, "p");
	ck_assert_uint_eq(info.ends, IPC_END_ATTACHED(0) | IPC_END_ATTACHED(1));
	ck_assert_uint_eq(info.dir[0].size, 1);
	ck_assert_int_eq(ipc_stat(a, "mine", &info, sizeof(info)), IPC_ENOENT);
	recv_expect(b, "p", 1, "kept", 0);
	send_rc(b, "p", 1, "back", 0, 0);
	recv_expect(a, "p", 0, "back", 0);
	/* Its owner (root here) may. */
	ck_assert_int_eq(ipc_delete(a, "p"), 0);
	recv_rc(b, "p", 1, 0, IPC_ENOENT);
	ipc_close(a);
	ipc_close(b);
	h_stop(&d);
}
END_TEST

/* The receiver printed exactly "out pipe : 0" .. "out pipe : 9". */
static void demo_check(const struct h_daemon *d, const char *name)
{
	char path[256], want[256] = "", *got;
	FILE *f;
	long n;
	int i;

	for (i = 0; i < 10; i++)
		snprintf(want + strlen(want), sizeof(want) - strlen(want),
			 "out pipe : %d\n", i);
	snprintf(path, sizeof(path), "%s/%s-receiver.out", d->dir, name);
	f = fopen(path, "r");
	ck_assert_ptr_nonnull(f);
	got = calloc(1, 4096);
	n = (long)fread(got, 1, 4095, f);
	fclose(f);
	ck_assert_int_ge(n, 0);
	ck_assert_str_eq(got, want);
	free(got);
}

/* 15: pipe_demo in both start orders. */
START_TEST(test_pipe_demo)
{
	struct h_daemon d;
	ipc_client *c;
	struct ipc_info info;
	pid_t r1, s1, r2, s2;
	int64_t end;
	int tmo = h_wrapped() ? 120000 : 20000;

	h_start(&d);
	c = h_connect(&d);
	/* Receiver first: it creates the pipe and waits. */
	r1 = h_spawn_demo(&d, "PIPE_DEMO_BIN", "receiver", "rfirst", tmo);
	end = h_now_ms() + tmo;
	while (ipc_stat(c, "rfirst", &info, sizeof(info)) != 0) {
		ck_assert_msg(h_now_ms() < end, "receiver never attached");
		usleep(5000);
	}
	h_wait_parked(c, "rfirst", 'g', 1);
	s1 = h_spawn_demo(&d, "PIPE_DEMO_BIN", "sender", "rfirst", tmo);
	/* Sender first: it sends everything and is gone before the
	 * receiver starts. */
	s2 = h_spawn_demo(&d, "PIPE_DEMO_BIN", "sender", "sfirst", tmo);
	ck_assert_int_eq(h_wait_child(s2, tmo), 0);
	info = h_stat(c, "sfirst");
	ck_assert_uint_eq(info.ends, IPC_END_CLOSED(1));
	ck_assert_uint_eq(info.dir[1].size, 10);
	ck_assert_int_eq(info.duplex, 0);
	r2 = h_spawn_demo(&d, "PIPE_DEMO_BIN", "receiver", "sfirst", tmo);

	ck_assert_int_eq(h_wait_child(s1, tmo), 0);
	ck_assert_int_eq(h_wait_child(r1, tmo), 0);
	ck_assert_int_eq(h_wait_child(r2, tmo), 0);
	demo_check(&d, "rfirst");
	demo_check(&d, "sfirst");
	wait_gone(c, "rfirst");
	wait_gone(c, "sfirst");
	ipc_close(c);
	h_stop(&d);
}
END_TEST

/* The CPU time ipcd has used so far, in ms (utime + stime). */
static long daemon_cpu_ms(pid_t pid)
{
	char path[64], buf[1024], *p;
	unsigned long ut = 0, st = 0;
	FILE *f;
	size_t n;

	snprintf(path, sizeof(path), "/proc/%ld/stat", (long)pid);
	f = fopen(path, "r");
	ck_assert_ptr_nonnull(f);
	n = fread(buf, 1, sizeof(buf) - 1, f);
	fclose(f);
	buf[n] = '\0';
	/* Fields after the command name (which may hold spaces): the 12th
	 * and 13th of them are utime and stime. */
	p = strrchr(buf, ')');
	ck_assert_ptr_nonnull(p);
	ck_assert_int_eq(sscanf(p + 2, "%*c %*d %*d %*d %*d %*d %*u %*u %*u %*u %*u %lu %lu",
				&ut, &st), 2);
	return (long)((ut + st) * 1000 / (unsigned long)sysconf(_SC_CLK_TCK));
}

/* A raw connection to d that has said HELLO (its reply read). */
static int raw_hello(const struct h_daemon *d, struct pbuf *b)
{
	struct sockaddr_un sa = { .sun_family = AF_UNIX };
	struct proto_req r = { .op = PROTO_OP_HELLO, .id = 1,
			       .version = IPC_PROTO_VERSION };
	int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
	long flen;
	ssize_t got;

	ck_assert_int_ge(fd, 0);
	snprintf(sa.sun_path, sizeof(sa.sun_path), "%s", d->sock);
	ck_assert_int_eq(connect(fd, (struct sockaddr *)&sa, sizeof(sa)), 0);
	b->len = 0;
	ck_assert_int_eq(proto_enc_req(b, &r), 0);
	ck_assert_int_eq(send(fd, b->data, b->len, MSG_NOSIGNAL), (ssize_t)b->len);
	b->len = 0;
	while ((flen = proto_frame_peek(b->data, b->len, PROTO_FRAME_MAX)) == 0) {
		ck_assert_int_eq(pbuf_reserve(b, 4096), 0);
		got = recv(fd, b->data + b->len, b->cap - b->len, 0);
		ck_assert_int_gt(got, 0);
		b->len += (size_t)got;
	}
	ck_assert_int_eq((long)b->len, flen);
	return fd;
}

/* Send n requests of op on fd in one go, request i on pipe "<prefix><i>"
 * end 0 (PATTACH creates it), then read the n replies, each 0. */
static void raw_pipeline(int fd, uint32_t op, const char *prefix, unsigned n,
			 struct pbuf *b)
{
	struct proto_req r = { .op = op, .end = 0 };
	struct proto_rep rep;
	struct proto_dec dec;
	unsigned i, done = 0;
	size_t off = 0;
	long flen;
	ssize_t got;

	if (op == PROTO_OP_PATTACH)
		r.flags = PROTO_PIPE_CREATE;
	b->len = 0;
	for (i = 0; i < n; i++) {
		r.id = i + 2;
		snprintf(r.name, sizeof(r.name), "%s%u", prefix, i);
		ck_assert_int_eq(proto_enc_req(b, &r), 0);
	}
	for (off = 0; off < b->len; off += (size_t)got) {
		got = send(fd, b->data + off, b->len - off, MSG_NOSIGNAL);
		ck_assert_int_gt(got, 0);
	}
	ck_assert_int_eq(proto_dec_init(&dec), 0);
	b->len = 0;
	while (done < n) {
		flen = proto_frame_peek(b->data, b->len, PROTO_FRAME_MAX);
		if (flen == 0) {
			ck_assert_int_eq(pbuf_reserve(b, 65536), 0);
			got = recv(fd, b->data + b->len, b->cap - b->len, 0);
			ck_assert_msg(got > 0, "daemon closed or failed");
			b->len += (size_t)got;
			continue;
		}
		ck_assert_int_gt(flen, 0);
		ck_assert_int_eq(proto_dec_rep(&dec, b->data + 4, (size_t)flen - 4, op,
					       &rep), 0);
		ck_assert_int_eq(rep.status, 0);
		done++;
		pbuf_consume(b, (size_t)flen);
	}
	proto_dec_fini(&dec);
}

/* How long (ms) another client's STAT takes to be answered now. */
static int64_t stat_latency(ipc_client *c, const char *name)
{
	int64_t t0 = h_now_ms();

	h_stat(c, name);
	return h_now_ms() - t0;
}

/*
 * 16: one connection holds many pipe ends (issue 11, item 8). Closing
 * them one by one, in the order they were attached (pipelined PCLOSEs),
 * and then going away holding as many costs O(1) per end: about the CPU
 * attaching them took, while another client's STAT is answered at once.
 * When each close searched the connection's list of ends (newest first),
 * closing 20,000 cost ~1.5 s of CPU here (41.8 s in an ASan build).
 */
START_TEST(test_many_ends_close)
{
	unsigned n = 20000 / (h_wrapped() ? 5 : 1) / h_scale();
	int64_t bound = h_wrapped() ? 10000 : 1000;
	long cpu0, attach_ms, close_ms, gone_ms;
	struct h_daemon d;
	ipc_client *other;
	struct pbuf b;
	int fd;

	h_start(&d);
	other = h_connect(&d);
	pbuf_init(&b);
	fd = raw_hello(&d, &b);
	cpu0 = daemon_cpu_ms(d.pid);
	raw_pipeline(fd, PROTO_OP_PATTACH, "m", n, &b);
	attach_ms = daemon_cpu_ms(d.pid) - cpu0;
	cpu0 = daemon_cpu_ms(d.pid);
	raw_pipeline(fd, PROTO_OP_PCLOSE, "m", n, &b);
	close_ms = daemon_cpu_ms(d.pid) - cpu0;
	ck_assert_uint_eq(h_stat(other, "m0").ends, IPC_END_CLOSED(0));
	/* Then as many ends again, and the connection goes away. */
	raw_pipeline(fd, PROTO_OP_PATTACH, "g", n, &b);
	cpu0 = daemon_cpu_ms(d.pid);
	close(fd);
	ck_assert_int_lt(stat_latency(other, "g0"), bound);
	while (h_stat(other, "g0").ends != IPC_END_CLOSED(0))
		usleep(1000);
	gone_ms = daemon_cpu_ms(d.pid) - cpu0;
	fprintf(stderr, "many_ends_close: %u ends: attach %ld ms, close %ld ms, "
		"disconnect %ld ms of daemon CPU\n", n, attach_ms, close_ms, gone_ms);
	ck_assert_msg(close_ms <= 3 * attach_ms + 300, "closing %u ends took "
		      "%ld ms of CPU, attaching them %ld ms", n, close_ms, attach_ms);
	ck_assert_msg(gone_ms <= 3 * attach_ms + 300, "releasing %u ends took "
		      "%ld ms of CPU, attaching them %ld ms", n, gone_ms, attach_ms);
	pbuf_free(&b);
	ipc_close(other);
	h_stop(&d);
}
END_TEST

/* The whole pipes suite. */
static Suite *pipes_suite(void)
{
	Suite *s = suite_create("pipes");

	h_add_case(s, "attach_rendezvous_busy", test_attach_rendezvous_busy, 30);
	h_add_case(s, "attach_mismatch_bad_args", test_attach_mismatch_bad_args, 30);
	h_add_case(s, "attach_namespace", test_attach_namespace, 30);
	h_add_case(s, "attach_explicit_bounds", test_attach_explicit_bounds, 30);
	h_add_case(s, "send_recv", test_send_recv, 30);
	h_add_case(s, "recv_timeouts", test_recv_timeouts, 30);
	h_add_case(s, "ownership", test_ownership, 30);
	h_add_case(s, "oneway", test_oneway, 30);
	h_add_case(s, "before_attach", test_before_attach, 30);
	h_add_case(s, "close_eof_brokenpipe", test_close_eof_brokenpipe, 30);
	h_add_case(s, "close_wakes_parked_recv", test_close_wakes_parked_recv, 30);
	h_add_case(s, "close_wakes_parked_send", test_close_wakes_parked_send, 30);
	h_add_case(s, "parked_sender", test_parked_sender, 30);
	h_add_case(s, "bound_full_on_timeout", test_bound_full_on_timeout, 60);
	h_add_case(s, "bound_holds_nothing_more", test_bound_holds_nothing_more, 60);
	h_add_case(s, "bound_big_into_empty", test_bound_big_into_empty, 60);
	h_add_case(s, "duplex_interleaved", test_duplex_interleaved, 60);
	h_add_case(s, "sigkill_sender", test_sigkill_sender, 60);
	h_add_case(s, "sigkill_receiver", test_sigkill_receiver, 60);
	h_add_case(s, "shutdown_parked", test_shutdown_parked, 30);
	h_add_case(s, "stat_list", test_stat_list, 30);
	h_add_case(s, "ipcctl_send_ls_stat_recv", test_ipcctl_send_ls_stat_recv, 60);
	h_add_case(s, "ipcctl_stdin_count", test_ipcctl_stdin_count, 60);
	h_add_case(s, "ipcctl_send_ends", test_ipcctl_send_ends, 60);
	h_add_case(s, "ipcctl_empty_full_usage", test_ipcctl_empty_full_usage, 60);
	h_add_case(s, "pipe_demo", test_pipe_demo, 60);
	h_add_case(s, "delete_parked", test_delete_parked, 60);
	h_add_case(s, "delete_frees_name", test_delete_frees_name, 30);
	h_add_case(s, "delete_both_ends_held", test_delete_both_ends_held, 30);
	h_add_case(s, "delete_ipcctl_rm", test_delete_ipcctl_rm, 30);
	h_add_case(s, "many_ends_close", test_many_ends_close, 60);
	if (geteuid() == 0)
		h_add_case(s, "delete_perm", test_delete_perm, 30);
	else
		fprintf(stderr, "SKIP: delete_perm needs root (uid switch)\n");
	return s;
}

/* Run the suite, one forked process per test. */
int main(void)
{
	return h_run_suite(pipes_suite());
}
