/* SPDX-License-Identifier: MIT */
/*
 * check_pshare.c: pipe ends shared like file descriptors (PSHARE, PJOIN)
 * against the real ipcd: a share claimed with its token makes a second
 * holder; a wrong, reused or other end's token is refused; the peer sees
 * EOF only after the last holder closed, exited or was killed; an
 * unclaimed share keeps the end open until its maker goes; access is
 * checked as for an attach. Each test starts its own daemon (harness.h).
 */
#include <check.h>
#include <grp.h>
#include <signal.h>
#include <stdint.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "harness.h"
#include <ipcclient/ipcclient.h>

/* How long a child may take to finish its part (ms). */
#define T_CHILD_MS (h_wrapped() ? 240000 : 30000)

/* Send text s from end of pipe name, asserting rc. */
static void send_rc(ipc_client *c, const char *name, int end, const char *s, int rc)
{
	int got = ipc_pipe_send(c, name, end, s, strlen(s), 0);

	ck_assert_msg(got == rc, "send '%s' from end %d: %d (%s), want %d", s, end,
		      got, ipc_last_error(c), rc);
}

/* Receive at end, asserting the text want (NULL: asserting result rc). */
static void recv_is(ipc_client *c, const char *name, int end, const char *want,
		    int rc, int timeout)
{
	void *data = NULL;
	size_t len = 0;
	int got = ipc_pipe_recv(c, name, end, &data, &len, timeout);

	ck_assert_msg(got == (want ? 0 : rc), "recv at end %d: %d (%s), want %d", end,
		      got, ipc_last_error(c), want ? 0 : rc);
	if (want) {
		ck_assert_uint_eq(len, strlen(want));
		ck_assert_mem_eq(data, want, len);
	}
	if (got == 0)
		ipc_free(data);
}

/* A new connection attached to end of pipe name (created, duplex). */
static ipc_client *attached(const struct h_daemon *d, const char *name, int end)
{
	ipc_client *c = h_connect(d);
	int rc = ipc_pipe_attach(c, name, end, IPC_PIPE_CREATE | IPC_PIPE_DUPLEX, NULL);

	ck_assert_msg(rc == 0, "attach end %d: %d (%s)", end, rc, ipc_last_error(c));
	return c;
}

/* A share of the end c holds: its token. */
static uint64_t share(ipc_client *c, const char *name, int end)
{
	uint64_t t = 0;
	int rc = ipc_pipe_share(c, name, end, &t);

	ck_assert_msg(rc == 0, "share end %d: %d (%s)", end, rc, ipc_last_error(c));
	ck_assert_uint_ne(t, 0);
	return t;
}

/* A new connection holding end of name through the share token t. */
static ipc_client *joined(const struct h_daemon *d, const char *name, int end, uint64_t t)
{
	struct ipc_pipe_opts o = IPC_PIPE_OPTS_INIT;
	ipc_client *c = h_connect(d);
	int rc = ipc_pipe_join(c, name, end, t, &o);

	ck_assert_msg(rc == 0, "join end %d: %d (%s)", end, rc, ipc_last_error(c));
	ck_assert_int_eq(o.duplex, 1);
	return c;
}

/* Both holders send and receive; EOF at the peer only after the last
 * holder's close; a token is used once and only for its end. */
START_TEST(test_join_eof_after_last)
{
	struct h_daemon d;
	ipc_client *r, *w1, *w2, *x;
	uint64_t t;

	h_start(&d);
	r = attached(&d, "p", 0);
	w1 = attached(&d, "p", 1);
	t = share(w1, "p", 1);
	x = h_connect(&d);
	ck_assert_int_eq(ipc_pipe_join(x, "p", 1, t ^ 1, NULL), IPC_EPERM);
	ck_assert_int_eq(ipc_pipe_join(x, "p", 0, t, NULL), IPC_EPERM);
	ck_assert_int_eq(ipc_pipe_join(x, "p", 1, 0, NULL), IPC_EPERM);
	/* By name alone the end stays taken. */
	ck_assert_int_eq(ipc_pipe_attach(x, "p", 1, 0, NULL), IPC_EBUSY);
	w2 = joined(&d, "p", 1, t);
	ck_assert_int_eq(ipc_pipe_join(x, "p", 1, t, NULL), IPC_EPERM); /* used */
	ck_assert_int_eq(ipc_pipe_join(w2, "p", 1, share(w1, "p", 1), NULL), IPC_EBUSY);
	ck_assert_int_eq(ipc_pipe_share(x, "p", 1, &t), IPC_ENOTATTACHED);
	send_rc(w1, "p", 1, "one", 0);
	send_rc(w2, "p", 1, "two", 0);
	recv_is(r, "p", 0, "one", 0, 0);
	recv_is(r, "p", 0, "two", 0, 0);
	send_rc(r, "p", 0, "back", 0);
	recv_is(w2, "p", 1, "back", 0, 0);
	ck_assert_int_eq(ipc_pipe_close(w1, "p", 1), 0);
	ck_assert_int_eq(ipc_pipe_send(w1, "p", 1, "x", 1, 0), IPC_ENOTATTACHED);
	recv_is(r, "p", 0, NULL, IPC_EEMPTY, 50); /* w2 (and x's unclaimed share) hold it */
	ipc_close(x);                               /* the share made by w1 is w1's: stays */
	send_rc(w2, "p", 1, "three", 0);
	ck_assert_int_eq(ipc_pipe_close(w2, "p", 1), 0);
	recv_is(r, "p", 0, "three", 0, 0);
	recv_is(r, "p", 0, NULL, IPC_EEMPTY, 0);    /* w1's unclaimed share still holds */
	ipc_close(w1);                              /* its maker goes: so does the share */
	recv_is(r, "p", 0, NULL, IPC_EEOF, 2000);
	send_rc(r, "p", 0, "late", IPC_EPIPE);
	ipc_close(w2);
	ipc_close(r);
	h_stop(&d);
}
END_TEST

/* What a child does: join end 1 of "k" with the token and send, then
 * wait to be killed (or exit at once with exit_now). */
static struct {
	const char *sock;
	uint64_t token;
	int exit_now;
	int expect;     /* child_nobody_join: the join's result it expects */
} job;

/* Child: join, send "child", then exit or sleep until killed. */
static int child_join(void *arg)
{
	ipc_client *c;

	(void)arg;
	if (h_ipc_connect(job.sock, &c) || ipc_pipe_join(c, "k", 1, job.token, NULL) ||
	    ipc_pipe_send(c, "k", 1, "child", 5, IPC_FOREVER))
		return 99;
	if (job.exit_now)
		return 0; /* exits without closing: the daemon sees EOF */
	pause();
	return 98;
}

/* A holder that exits or is SIGKILLed drops its hold: the reader sees
 * EOF once the last of the parent and its children is gone. */
START_TEST(test_holder_exits_or_killed)
{
	struct h_daemon d;
	ipc_client *r, *w;
	pid_t killed, exited;

	h_start(&d);
	r = attached(&d, "k", 0);
	w = attached(&d, "k", 1);
	job.sock = d.sock;
	job.token = share(w, "k", 1);
	killed = h_spawn(child_join, NULL);
	recv_is(r, "k", 0, "child", 0, T_CHILD_MS);
	job.token = share(w, "k", 1);
	job.exit_now = 1;
	exited = h_spawn(child_join, NULL);
	recv_is(r, "k", 0, "child", 0, T_CHILD_MS);
	ck_assert_int_eq(h_wait_child(exited, T_CHILD_MS), 0);
	ck_assert_int_eq(ipc_pipe_close(w, "k", 1), 0);
	recv_is(r, "k", 0, NULL, IPC_EEMPTY, 100);  /* the killed-to-be child holds it */
	kill(killed, SIGKILL);
	ck_assert_int_eq(h_wait_child(killed, T_CHILD_MS), 128 + SIGKILL);
	recv_is(r, "k", 0, NULL, IPC_EEOF, T_CHILD_MS);
	ipc_close(w);
	ipc_close(r);
	h_stop(&d);
}
END_TEST

/* Detach by one of two holders drops only its hold; by the last, frees
 * the end for a new attach (no EOF). Delete forgets every holder. */
START_TEST(test_detach_and_delete)
{
	struct h_daemon d;
	ipc_client *r, *w1, *w2, *w3;

	h_start(&d);
	r = attached(&d, "q", 0);
	w1 = attached(&d, "q", 1);
	w2 = joined(&d, "q", 1, share(w1, "q", 1));
	ck_assert_int_eq(ipc_pipe_detach(w1, "q", 1), 0);
	ck_assert_uint_eq(h_stat(r, "q").ends & IPC_END_ATTACHED(1), IPC_END_ATTACHED(1));
	send_rc(w2, "q", 1, "still", 0);
	ck_assert_int_eq(ipc_pipe_detach(w2, "q", 1), 0);
	ck_assert_uint_eq(h_stat(r, "q").ends & IPC_END_ATTACHED(1), 0);
	recv_is(r, "q", 0, "still", 0, 0);
	recv_is(r, "q", 0, NULL, IPC_EEMPTY, 0);
	w3 = attached(&d, "q", 1);
	(void)share(w3, "q", 1);
	w1 = (ipc_close(w1), joined(&d, "q", 1, share(w3, "q", 1)));
	ck_assert_int_eq(ipc_delete(r, "q"), 0);
	ck_assert_int_eq(ipc_pipe_send(w1, "q", 1, "x", 1, 0), IPC_ENOENT);
	ipc_close(w1);
	ipc_close(w2);
	ipc_close(w3);
	ipc_close(r);
	h_stop(&d);
}
END_TEST

/* A holder letting go of an end under its own parked send while another
 * holds it on: the send is answered as the end's close (detach) would
 * answer it, and sends nothing; one that disconnects sends nothing. */
START_TEST(test_let_go_under_parked)
{
	static const int want[3] = { IPC_ECLOSED, IPC_ENOTATTACHED, 0 };
	struct ipc_pipe_opts o = IPC_PIPE_OPTS_INIT;
	struct h_daemon d;
	ipc_client *r, *a, *b;
	int i;

	h_start(&d);
	r = h_connect(&d);
	o.maxmsgs = 1;
	ck_assert_int_eq(ipc_pipe_attach(r, "f", 0, IPC_PIPE_CREATE | IPC_PIPE_DUPLEX, &o), 0);
	b = attached(&d, "f", 1);
	for (i = 0; i < 3; i++) {
		a = joined(&d, "f", 1, share(b, "f", 1));
		send_rc(b, "f", 1, "fill", 0);
		ck_assert_int_eq(ipc_pipe_send_async(a, "f", 1, "lost", 4, IPC_FOREVER), 0);
		ck_assert_int_eq(ipc_push(a), 0);
		h_wait_parked(r, "f", 'p', 1);
		if (i == 0)
			ck_assert_int_eq(ipc_pipe_close(a, "f", 1), 0);
		else if (i == 1)
			ck_assert_int_eq(ipc_pipe_detach(a, "f", 1), 0);
		else
			ipc_close(a);               /* cancelled: valgrind sees no leak */
		h_wait_parked(r, "f", 'p', 0);
		recv_is(r, "f", 0, "fill", 0, 0);
		recv_is(r, "f", 0, NULL, IPC_EEMPTY, 0);
		if (i < 2) {
			ck_assert_int_eq(ipc_flush(a), want[i]);
			ipc_close(a);
		}
	}
	send_rc(b, "f", 1, "last", 0);              /* b holds the end on */
	recv_is(r, "f", 0, "last", 0, 0);
	ipc_close(b);
	ipc_close(r);
	h_stop(&d);
}
END_TEST

/* Child: as uid 65534, join end 1 of "l" with the token: refused while
 * the pipe is 0600 (status 0 for IPC_EPERM), then, once the parent made
 * it 0666, joined (job.expect says which; status 0 when so). */
static int child_nobody_join(void *arg)
{
	ipc_client *c;
	int rc;

	(void)arg;
	if (setgroups(0, NULL) != 0 || setgid(65534) != 0 || setuid(65534) != 0)
		return 98;
	if (h_ipc_connect(job.sock, &c))
		return 97;
	rc = ipc_pipe_join(c, "l", 1, job.token, NULL);
	ipc_close(c);
	return rc == job.expect ? 0 : 100 + rc;
}

/* 64 unclaimed shares at most; a joiner needs the end's permission. */
START_TEST(test_limit_and_access)
{
	struct h_daemon d;
	ipc_client *w;
	uint64_t t, first = 0;
	int i;

	h_prepare(&d);
	if (geteuid() == 0) {
		const char *args[] = { "--socket-mode", "0666", NULL };
		struct h_opts o = { .args = args, .listen_fd = -1 };

		ck_assert_int_eq(chmod(d.dir, 0755), 0);
		h_launch_opts(&d, &o);
	} else {
		h_launch(&d);
	}
	w = attached(&d, "l", 1);
	for (i = 0; i < 64; i++) {
		t = share(w, "l", 1);
		ck_assert_uint_ne(t, first);
		first = first ? first : t;
	}
	ck_assert_int_eq(ipc_pipe_share(w, "l", 1, &t), IPC_ELIMIT);
	ipc_close(joined(&d, "l", 1, first)); /* one claimed (and let go): room again */
	t = share(w, "l", 1);
	if (geteuid() == 0) {
		/* uid 65534 may not write a 0600 pipe: the token is not
		 * enough; at 0666 it joins with the same token. */
		ck_assert_int_eq(ipc_chmod(w, "l", 0600), 0);
		job.sock = d.sock;
		job.token = t;
		job.expect = IPC_EPERM;
		ck_assert_int_eq(h_wait_child(h_spawn(child_nobody_join, NULL), T_CHILD_MS), 0);
		ck_assert_int_eq(ipc_chmod(w, "l", 0666), 0);
		job.expect = 0;
		ck_assert_int_eq(h_wait_child(h_spawn(child_nobody_join, NULL), T_CHILD_MS), 0);
	}
	ipc_close(w);
	h_stop(&d);
}
END_TEST

/* Test suite. */
static Suite *pshare_suite(void)
{
	Suite *s = suite_create("pshare");

	h_add_case(s, "join_eof_after_last", test_join_eof_after_last, 20);
	h_add_case(s, "holder_exits_or_killed", test_holder_exits_or_killed, 20);
	h_add_case(s, "detach_and_delete", test_detach_and_delete, 20);
	h_add_case(s, "limit_and_access", test_limit_and_access, 20);
	h_add_case(s, "let_go_under_parked", test_let_go_under_parked, 20);
	return s;
}

int main(void)
{
	return h_run_suite(pshare_suite());
}
