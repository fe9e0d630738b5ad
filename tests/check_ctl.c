/* SPDX-License-Identifier: MIT */
/*
 * check_ctl.c: day-to-day operation against the real ipcd: the client's
 * connect and I/O timeouts on a daemon that stopped answering (SIGSTOP),
 * and ipcctl as a person uses it.
 */
#include <check.h>
#include <errno.h>
#include <poll.h>
#include <pty.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <sys/ioctl.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <sys/un.h>
#include <sys/wait.h>

#include "harness.h"
#include "proto.h"
#include <ipcclient/ipcclient.h>

/* Stop d's daemon (SIGSTOP) and wait until the kernel says it is stopped. */
static void daemon_freeze(const struct h_daemon *d)
{
	char path[64], buf[256], *p;
	int tries;
	FILE *f;

	ck_assert_int_eq(kill(d->pid, SIGSTOP), 0);
	snprintf(path, sizeof(path), "/proc/%d/stat", (int)d->pid);
	for (tries = 0; tries < 1000; tries++) {
		f = fopen(path, "r");
		ck_assert_ptr_nonnull(f);
		p = fgets(buf, sizeof(buf), f);
		fclose(f);
		p = p ? strrchr(buf, ')') : NULL;
		if (p && p[1] == ' ' && p[2] == 'T')
			return;
		usleep(1000);
	}
	ck_abort_msg("ipcd %d did not stop", (int)d->pid);
}

/* Let d's daemon run again. */
static void daemon_thaw(const struct h_daemon *d)
{
	ck_assert_int_eq(kill(d->pid, SIGCONT), 0);
}

/* ipcctl in a pseudo-terminal of rows x cols: stdin, stdout and stderr
 * are the terminal. */
struct pty_run {
	pid_t pid;
	int fd;               /* the terminal's master side */
	struct h_buf out;     /* everything it wrote so far */
};

/* Start `ipcctl -s SOCK args...` (NULL-terminated) in a new terminal. */
static void pty_start(struct pty_run *r, const struct h_daemon *d, int rows,
		      int cols, char *const args[])
{
	struct winsize ws = { .ws_row = (unsigned short)rows,
			      .ws_col = (unsigned short)cols };
	char *argv[16];
	int n = 0;

	argv[n++] = (char *)h_bin("IPCCTL_BIN");
	argv[n++] = "-s";
	argv[n++] = (char *)d->sock;
	while (*args && n < 15)
		argv[n++] = *args++;
	argv[n] = NULL;
	memset(r, 0, sizeof(*r));
	r->pid = forkpty(&r->fd, NULL, NULL, &ws);
	ck_assert_int_ge(r->pid, 0);
	if (r->pid == 0) {
		execv(argv[0], argv);
		_exit(127);
	}
}

/* Read what the terminal shows for up to ms, or until want appears in
 * the output (want NULL: the whole time); 1 when want appeared. */
static int pty_read(struct pty_run *r, int ms, const char *want)
{
	int64_t end = h_now_ms() + ms;
	struct pollfd pfd = { .fd = r->fd, .events = POLLIN };
	char buf[4096];
	ssize_t n;

	while (h_now_ms() < end) {
		if (want && r->out.data && strstr(r->out.data, want))
			return 1;
		if (poll(&pfd, 1, 20) <= 0)
			continue;
		n = read(r->fd, buf, sizeof(buf));
		if (n <= 0)
			break;   /* EIO: the child is gone */
		r->out.data = realloc(r->out.data, r->out.len + (size_t)n + 1);
		ck_assert_ptr_nonnull(r->out.data);
		memcpy(r->out.data + r->out.len, buf, (size_t)n);
		r->out.len += (size_t)n;
		r->out.data[r->out.len] = '\0';
	}
	return want && r->out.data && strstr(r->out.data, want);
}

/* Type s into the terminal. */
static void pty_type(struct pty_run *r, const char *s)
{
	ck_assert_int_eq(write(r->fd, s, strlen(s)), (ssize_t)strlen(s));
}

/* Wait for the child to exit, reading the rest of its output: its exit
 * status. Read until it closed the terminal (or ms): what it writes on
 * its way out (top giving the screen back) came after a fixed 300 ms
 * once on a loaded machine, and was lost. */
static int pty_wait(struct pty_run *r, int ms)
{
	int st;

	pty_read(r, ms, NULL);
	st = h_wait_child(r->pid, ms);
	close(r->fd);
	return st;
}

/* A waiting call bounds its blocking read with SO_RCVTIMEO (no poll()
 * before each read), set once for calls that wait alike: under the
 * request's timeout plus the I/O timeout, over half of it. */
START_TEST(test_rcvtimeo_bound)
{
	struct h_daemon d;
	struct timeval tv, again;
	socklen_t tl = sizeof tv;
	ipc_client *c;
	void *msg;
	size_t len;
	long ms;

	h_start(&d);
	c = h_connect(&d);
	h_create_queue(c, "q", 0);
	ck_assert_int_eq(ipc_set_io_timeout(c, 2000), 0);
	ck_assert_int_eq(ipc_queue_get(c, "q", &msg, &len, 30), IPC_EEMPTY);
	ck_assert_int_eq(getsockopt(ipc_fd(c), SOL_SOCKET, SO_RCVTIMEO, &tv, &tl), 0);
	ms = (long)tv.tv_sec * 1000 + (long)tv.tv_usec / 1000;
	ck_assert_msg(ms > 1015 && ms <= 2030, "SO_RCVTIMEO %ld ms", ms);
	ck_assert_int_eq(ipc_queue_get(c, "q", &msg, &len, 30), IPC_EEMPTY);
	ck_assert_int_eq(getsockopt(ipc_fd(c), SOL_SOCKET, SO_RCVTIMEO, &again, &tl), 0);
	ck_assert_int_eq(again.tv_sec, tv.tv_sec);
	ck_assert_int_eq(again.tv_usec, tv.tv_usec);
	ipc_close(c);
	h_stop(&d);
}
END_TEST

/* A reply that does not come within the request's own timeout plus the
 * I/O timeout fails the call with IPC_ETIMEDOUT, no sooner (and well
 * before the library's 5 s default, the time waited for a CPU aside:
 * h_own_ms), and breaks the handle; a handle that waits with no I/O
 * timeout is not touched. */
START_TEST(test_io_timeout)
{
	struct h_daemon d;
	ipc_client *c;
	void *msg;
	size_t len;
	int64_t t0, w0, el;

	h_start(&d);
	c = h_connect(&d);
	h_create_queue(c, "q", 0);
	ck_assert_int_eq(ipc_set_io_timeout(c, -2), IPC_EINVAL);
	ck_assert_int_eq(ipc_set_io_timeout(c, 300), 0);
	daemon_freeze(&d);
	w0 = h_waits_us(0);
	t0 = h_now_ms();
	ck_assert_int_eq(ipc_queue_get(c, "q", &msg, &len, 400), IPC_ETIMEDOUT);
	el = h_now_ms() - t0;
	ck_assert_msg(el >= 700, "gave up after %lld ms", (long long)el);
	el = h_own_ms(t0, w0, 0, 0);
	ck_assert_msg(el < 5000, "gave up after %lld ms of its own", (long long)el);
	ck_assert_int_eq(errno, ETIMEDOUT);
	ck_assert_ptr_nonnull(strstr(ipc_last_error(c), "did not answer"));
	ck_assert_int_eq(ipc_queue_put(c, "q", "x", 1, 0), IPC_EIO);
	ipc_close(c);
	daemon_thaw(&d);
	c = h_connect(&d);
	ck_assert_int_eq(ipc_set_io_timeout(c, 200), 0);
	daemon_freeze(&d);
	w0 = h_waits_us(0);
	t0 = h_now_ms();
	ck_assert_int_eq(ipc_queue_put(c, "q", "x", 1, 0), IPC_ETIMEDOUT);
	el = h_now_ms() - t0;
	ck_assert_msg(el >= 200, "gave up after %lld ms", (long long)el);
	el = h_own_ms(t0, w0, 0, 0);
	ck_assert_msg(el < 5000, "gave up after %lld ms of its own", (long long)el);
	ipc_close(c);
	daemon_thaw(&d);
	h_stop(&d);
}
END_TEST

/* Connecting to a stopped daemon gives up after the connect timeout
 * (before the 5 s default, as test_io_timeout measures) with
 * IPC_ETIMEDOUT and says so; ipcctl --connect-timeout does the same. */
START_TEST(test_connect_timeout)
{
	struct h_buf err = { 0 };
	struct h_daemon d;
	ipc_client *c = NULL;
	int64_t t0, w0, el;

	h_start(&d);
	daemon_freeze(&d);
	w0 = h_waits_us(0);
	t0 = h_now_ms();
	ck_assert_int_eq(ipc_connect_timeout(d.sock, 300, &c), IPC_ETIMEDOUT);
	el = h_now_ms() - t0;
	ck_assert_msg(el >= 300, "gave up after %lld ms", (long long)el);
	el = h_own_ms(t0, w0, 0, 0);
	ck_assert_msg(el < 5000, "gave up after %lld ms of its own", (long long)el);
	ck_assert_ptr_null(c);
	ck_assert_ptr_nonnull(strstr(ipc_last_error(NULL), "handshake"));
	ck_assert_int_eq(ipc_connect_timeout(d.sock, -2, &c), IPC_EINVAL);
	w0 = h_waits_us(0);
	t0 = h_now_ms();
	ck_assert_int_eq(h_run_ipcctl(&d, NULL, 0, NULL, &err, "--connect-timeout",
				      "0.3", "ls", NULL), 1);
	el = h_now_ms() - t0;
	ck_assert_msg(el >= 300, "ipcctl gave up after %lld ms", (long long)el);
	el = h_own_ms(t0, w0, 0, h_last_child_cpu_wait_us());
	ck_assert_msg(el < 5000, "ipcctl gave up after %lld ms of its own", (long long)el);
	ck_assert_msg(strstr(err.data, "did not answer in time") != NULL,
		      "ipcctl said: %s", err.data);
	h_buf_free(&err);
	daemon_thaw(&d);
	c = h_connect(&d);
	ipc_close(c);
	h_stop(&d);
}
END_TEST


/* put from a terminal ends at the first Ctrl-D, after a newline or not;
 * '-' as DATA is standard input. */
START_TEST(test_put_tty_eof)
{
	char *line[] = { "put", "q", NULL }, *dash[] = { "put", "q", "-", NULL };
	struct h_daemon d;
	struct pty_run r;
	ipc_client *c;

	h_start(&d);
	c = h_connect(&d);
	h_create_queue(c, "q", 0);
	pty_start(&r, &d, 24, 80, line);
	usleep(200000);
	pty_type(&r, "hello\n\004");
	ck_assert_int_eq(pty_wait(&r, 5000), 0);
	h_buf_free(&r.out);
	h_get_expect(c, "q", "hello\n", 0);
	pty_start(&r, &d, 24, 80, dash);
	usleep(200000);
	pty_type(&r, "no newline\004");
	ck_assert_int_eq(pty_wait(&r, 5000), 0);
	h_buf_free(&r.out);
	h_get_expect(c, "q", "no newline", 0);
	ck_assert_int_eq(h_run_ipcctl(&d, "piped", 5, NULL, NULL, "put", "q", "-",
				      NULL), 0);
	h_get_expect(c, "q", "piped", 0);
	ipc_close(c);
	h_stop(&d);
}
END_TEST

/* get --count and --all drain a queue: lines, NUL-separated, or
 * length-prefixed for binary data; --count with too few is Empty. */
START_TEST(test_drain)
{
	struct h_buf out = { 0 }, err = { 0 };
	struct h_daemon d;
	ipc_client *c;

	h_start(&d);
	c = h_connect(&d);
	h_create_queue(c, "q", 0);
	h_put_text(c, "q", "a");
	h_put_text(c, "q", "b b");
	h_put_text(c, "q", "c");
	ck_assert_int_eq(h_run_ipcctl(&d, NULL, 0, &out, NULL, "get", "q",
				      "--count", "2", NULL), 0);
	ck_assert_str_eq(out.data, "a\nb b\n");
	h_buf_free(&out);
	ck_assert_int_eq(h_run_ipcctl(&d, NULL, 0, &out, &err, "get", "q",
				      "--count", "2", "--timeout", "0.1", NULL), 3);
	ck_assert_str_eq(out.data, "c\n");
	ck_assert_ptr_nonnull(strstr(err.data, "1 of 2"));
	h_buf_free(&out);
	h_buf_free(&err);
	ck_assert_int_eq(h_run_ipcctl(&d, NULL, 0, &out, NULL, "get", "q",
				      "--all", NULL), 0);
	ck_assert_uint_eq(out.len, 0);
	h_buf_free(&out);
	ck_assert_int_eq(ipc_queue_put(c, "q", "x\0y", 3, 0), 0);
	ck_assert_int_eq(ipc_queue_put(c, "q", "", 0, 0), 0);
	ck_assert_int_eq(ipc_queue_put(c, "q", "z\n", 2, 0), 0);
	ck_assert_int_eq(h_run_ipcctl(&d, NULL, 0, &out, NULL, "get", "q",
				      "--all", "--length-prefixed", NULL), 0);
	ck_assert_uint_eq(out.len, 14);
	ck_assert_int_eq(memcmp(out.data, "3\nx\0y\n0\n\n2\nz\n\n", 14), 0);
	h_buf_free(&out);
	h_put_text(c, "q", "one");
	h_put_text(c, "q", "two");
	ck_assert_int_eq(h_run_ipcctl(&d, NULL, 0, &out, NULL, "get", "q",
				      "--all", "-0", NULL), 0);
	ck_assert_uint_eq(out.len, 8);
	ck_assert_int_eq(memcmp(out.data, "one\0two\0", 8), 0);
	h_buf_free(&out);
	ck_assert_uint_eq(h_stat(c, "q").size, 0);
	ck_assert_int_eq(h_run_ipcctl(&d, NULL, 0, NULL, NULL, "get", "q",
				      "--all", "--count", "2", NULL), 2);
	ipc_close(c);
	h_stop(&d);
}
END_TEST

/* A detached end: the peer sees no EOF, a later connection attaches it
 * and reads on; closing the connection still closes the end. */
START_TEST(test_detach_api)
{
	struct h_daemon d;
	ipc_client *a, *b;
	void *msg;
	size_t len;

	h_start(&d);
	a = h_connect(&d);
	b = h_connect(&d);
	ck_assert_int_eq(ipc_pipe_attach(a, "p", 0, IPC_PIPE_CREATE, NULL), 0);
	ck_assert_int_eq(ipc_pipe_attach(b, "p", 1, IPC_PIPE_CREATE, NULL), 0);
	ck_assert_int_eq(ipc_pipe_send(b, "p", 1, "m1", 2, 0), 0);
	ck_assert_int_eq(ipc_pipe_detach(a, "p", 0), 0);
	ck_assert_int_eq(ipc_pipe_detach(a, "p", 0), IPC_ENOTATTACHED);
	ck_assert_uint_eq(h_stat(b, "p").ends, IPC_END_ATTACHED(1));
	ck_assert_int_eq(ipc_pipe_send(b, "p", 1, "m2", 2, 0), 0);
	ipc_close(a);
	a = h_connect(&d);
	ck_assert_int_eq(ipc_pipe_attach(a, "p", 0, 0, NULL), 0);
	ck_assert_int_eq(ipc_pipe_recv(a, "p", 0, &msg, &len, 0), 0);
	ck_assert_int_eq(len, 2);
	ck_assert_int_eq(memcmp(msg, "m1", 2), 0);
	ipc_free(msg);
	ck_assert_int_eq(ipc_pipe_detach(b, "p", 1), 0);
	ck_assert_int_eq(ipc_pipe_recv(a, "p", 0, &msg, &len, 0), 0);
	ipc_free(msg);
	ck_assert_int_eq(ipc_pipe_recv(a, "p", 0, &msg, &len, 100), IPC_EEMPTY);
	ck_assert_int_eq(ipc_pipe_attach(b, "p", 1, 0, NULL), 0);
	ipc_close(b);   /* a closing connection closes its end: EOF */
	ck_assert_int_eq(ipc_pipe_recv(a, "p", 0, &msg, &len, 5000), IPC_EEOF);
	ipc_close(a);
	h_stop(&d);
}
END_TEST

/* ipcctl recv --timeout that times out detaches its end: the next recv
 * attaches it and gets the messages; send without --close lets the
 * receiver wait on; a name of the other kind is said so. */
START_TEST(test_detach_ipcctl)
{
	struct h_buf out = { 0 }, err = { 0 };
	struct h_daemon d;
	ipc_client *c;

	h_start(&d);
	c = h_connect(&d);
	ck_assert_int_eq(h_run_ipcctl(&d, NULL, 0, &out, NULL, "recv", "p",
				      "--timeout", "0.1", NULL), 3);
	h_buf_free(&out);
	ck_assert_uint_eq(h_stat(c, "p").ends, 0);
	ck_assert_int_eq(h_run_ipcctl(&d, NULL, 0, NULL, NULL, "send", "p", "one",
				      NULL), 0);
	ck_assert_int_eq(h_run_ipcctl(&d, NULL, 0, NULL, NULL, "send", "p", "two",
				      NULL), 0);
	ck_assert_uint_eq(h_stat(c, "p").ends, 0);
	ck_assert_int_eq(h_run_ipcctl(&d, NULL, 0, &out, NULL, "recv", "p",
				      "--timeout", "0.1", NULL), 3);
	ck_assert_str_eq(out.data, "one\ntwo\n");
	h_buf_free(&out);
	ck_assert_int_eq(h_run_ipcctl(&d, NULL, 0, NULL, NULL, "send", "p", "3",
				      "--close", NULL), 0);
	ck_assert_int_eq(h_run_ipcctl(&d, NULL, 0, &out, NULL, "recv", "p",
				      "--count", "1", NULL), 0);
	ck_assert_str_eq(out.data, "3\n");
	h_buf_free(&out);
	h_create_queue(c, "demo", 0);
	ck_assert_int_eq(h_run_ipcctl(&d, NULL, 0, NULL, &err, "recv", "demo",
				      "--nowait", NULL), 1);
	ck_assert_msg(strstr(err.data, "demo is a queue, not a pipe"), "%s", err.data);
	h_buf_free(&err);
	ck_assert_int_eq(h_run_ipcctl(&d, NULL, 0, NULL, &err, "get", "p",
				      "--nowait", NULL), 1);
	ck_assert_msg(strstr(err.data, "p is a pipe, not a queue"), "%s", err.data);
	h_buf_free(&err);
	ipc_close(c);
	h_stop(&d);
}
END_TEST

/* ipcctl --version names itself, its version and the library's. */
START_TEST(test_help_version)
{
	struct h_buf out = { 0 };
	struct h_daemon d;

	h_prepare(&d);
	ck_assert_int_eq(h_run_ipcctl(&d, NULL, 0, &out, NULL, "--version", NULL), 0);
	ck_assert_msg(strncmp(out.data, "ipcctl " IPC_VERSION_STRING " (libipcclient ",
			      20) == 0, "%s", out.data);
	h_buf_free(&out);
	rmdir(d.dir);
}
END_TEST

/* ipcctl help lists every command; help COMMAND and COMMAND --help show
 * that command only; help of an unknown command exits 2 saying so. */
START_TEST(test_help_commands)
{
	struct h_buf out = { 0 }, err = { 0 };
	struct h_daemon d;

	h_prepare(&d);
	ck_assert_int_eq(h_run_ipcctl(&d, NULL, 0, &out, NULL, "help", NULL), 0);
	ck_assert_ptr_nonnull(strstr(out.data, "  recv NAME"));
	ck_assert_ptr_nonnull(strstr(out.data, "  top ["));
	h_buf_free(&out);
	ck_assert_int_eq(h_run_ipcctl(&d, NULL, 0, &out, NULL, "help", "get", NULL), 0);
	ck_assert_ptr_nonnull(strstr(out.data, "usage: ipcctl [-s SOCKET] get NAME"));
	ck_assert_ptr_nonnull(strstr(out.data, "--length-prefixed"));
	ck_assert_ptr_null(strstr(out.data, "recv NAME"));
	ck_assert_ptr_null(strstr(out.data, "--interval"));
	h_buf_free(&out);
	ck_assert_int_eq(h_run_ipcctl(&d, NULL, 0, &out, NULL, "recv", "--help", NULL), 0);
	ck_assert_ptr_nonnull(strstr(out.data, "usage: ipcctl [-s SOCKET] recv NAME"));
	ck_assert_ptr_nonnull(strstr(out.data, "--close"));
	ck_assert_ptr_null(strstr(out.data, "--maxsize"));
	h_buf_free(&out);
	ck_assert_int_eq(h_run_ipcctl(&d, NULL, 0, NULL, &err, "help", "nope", NULL), 2);
	ck_assert_ptr_nonnull(strstr(err.data, "unknown command 'nope'"));
	h_buf_free(&err);
	rmdir(d.dir);
}
END_TEST

/* getopt_long's errors exit 2 with a line saying what: an unknown option,
 * a missing value, an option the command does not take. */
START_TEST(test_option_errors)
{
	struct h_buf err = { 0 };
	struct h_daemon d;

	h_prepare(&d);
	ck_assert_int_eq(h_run_ipcctl(&d, NULL, 0, NULL, &err, "ls", "--bogus", NULL), 2);
	ck_assert_ptr_nonnull(strstr(err.data, "unknown option '--bogus'"));
	h_buf_free(&err);
	ck_assert_int_eq(h_run_ipcctl(&d, NULL, 0, NULL, &err, "get", "q",
				      "--count", NULL), 2);
	ck_assert_ptr_nonnull(strstr(err.data, "needs a value"));
	h_buf_free(&err);
	ck_assert_int_eq(h_run_ipcctl(&d, NULL, 0, NULL, &err, "ls", "--count=2",
				      NULL), 2);
	ck_assert_ptr_nonnull(strstr(err.data, "ls does not take --count"));
	h_buf_free(&err);
	rmdir(d.dir);
}
END_TEST

/* Count the non-overlapping occurrences of needle in hay. */
static int count_of(const char *hay, const char *needle)
{
	int n = 0;

	while ((hay = strstr(hay, needle))) {
		n++;
		hay += strlen(needle);
	}
	return n;
}

/* top in a terminal: the first frame at once in the alternate screen,
 * busiest first, long names cut to the width, "... and N more" past the
 * height, redrawn in place; q quits and gives the screen back. */
START_TEST(test_top_tty)
{
	char *args[] = { "top", "--interval", "0.2", NULL }, name[64];
	struct h_daemon d;
	struct pty_run r;
	ipc_client *c;
	int i;

	h_start(&d);
	c = h_connect(&d);
	for (i = 0; i < 12; i++) {
		snprintf(name, sizeof(name), "q%02d", i);
		h_create_queue(c, name, 0);
	}
	h_create_queue(c, "a-very-long-queue-name-that-cannot-fit-in-the-window", 0);
	h_put_text(c, "q07", "x");
	h_put_text(c, "q07", "y");
	pty_start(&r, &d, 8, 90, args);
	/* Under valgrind ipcd answers slowly: the plain run checks "at once". */
	ck_assert_msg(pty_read(&r, h_wrapped() ? 5000 : 1000, "more"),
		      "no first frame at once: %s",
		      r.out.data ? r.out.data : "");
	ck_assert_ptr_nonnull(strstr(r.out.data, "\033[?1049h"));
	ck_assert_ptr_nonnull(strstr(r.out.data, "\033[H"));
	ck_assert_ptr_nonnull(strstr(r.out.data, "\033[K"));
	ck_assert_ptr_nonnull(strstr(r.out.data, "... and 7 more"));
	/* The deepest queue comes first, right under the header. */
	ck_assert_msg(strstr(r.out.data, "PUTTERS\033[K\r\nq07 "), "%s", r.out.data);
	ck_assert_ptr_nonnull(strstr(r.out.data, "a-very-long-queue~"));
	ck_assert_ptr_null(strstr(r.out.data, "cannot-fit"));
	ck_assert(pty_read(&r, 2000, NULL) == 0);
	ck_assert_int_ge(count_of(r.out.data, "NAME"), 3);
	ck_assert_ptr_null(strstr(r.out.data, "\033[2J\033[H\033[2J"));
	pty_type(&r, "q");
	ck_assert_int_eq(pty_wait(&r, 3000), 0);
	ck_assert_ptr_nonnull(strstr(r.out.data, "\033[?1049l"));
	h_buf_free(&r.out);
	ipc_close(c);
	h_stop(&d);
}
END_TEST

/* top when the daemon goes away: the screen is given back and one line
 * says so, exit 1; Ctrl-C quits with 0. */
START_TEST(test_top_gone)
{
	char *args[] = { "top", "--interval", "0.1", NULL };
	struct h_daemon d;
	struct pty_run r;
	char *after;

	h_start(&d);
	pty_start(&r, &d, 24, 80, args);
	ck_assert(pty_read(&r, 2000, "NAME"));
	pty_type(&r, "\003");
	ck_assert_int_eq(pty_wait(&r, 3000), 0);
	h_buf_free(&r.out);
	pty_start(&r, &d, 24, 80, args);
	ck_assert(pty_read(&r, 2000, "NAME"));
	h_stop(&d);
	ck_assert_int_eq(pty_wait(&r, 3000), 1);
	after = strstr(r.out.data, "\033[?1049l");
	ck_assert_ptr_nonnull(after);
	ck_assert_msg(strstr(after, "ipcctl: top: the daemon went away"), "%s", after);
	ck_assert_int_eq(count_of(after, "\n"), 1);
	h_buf_free(&r.out);
}
END_TEST

/* top --json: one JSON object a frame, rows with the text's columns as
 * keys; ls --json lists a pipe's keys. */
START_TEST(test_top_json)
{
	struct h_buf out = { 0 };
	struct h_daemon d;
	ipc_client *c;

	h_start(&d);
	c = h_connect(&d);
	h_create_queue(c, "jq", 0);
	h_put_text(c, "jq", "x");
	ck_assert_int_eq(ipc_pipe_attach(c, "jp", 1, IPC_PIPE_CREATE, NULL), 0);
	ck_assert_int_eq(h_run_ipcctl(&d, NULL, 0, &out, NULL, "top", "--json", "-n",
				      "2", "--interval", "0.1", NULL), 0);
	ck_assert_int_eq(count_of(out.data, "\n"), 2);
	ck_assert_int_eq(count_of(out.data, "{\"time\":"), 2);
	ck_assert_ptr_nonnull(strstr(out.data, "{\"name\":\"jq\",\"kind\":\"queue\","
				     "\"size\":1,\"maxsize\":0,\"put_rate\":0.0,"
				     "\"get_rate\":0.0,\"getters\":0,\"putters\":0}"));
	ck_assert_ptr_null(strstr(out.data, "\033"));
	h_buf_free(&out);
	ck_assert_int_eq(h_run_ipcctl(&d, NULL, 0, &out, NULL, "ls", "--json", NULL), 0);
	ck_assert_ptr_nonnull(strstr(out.data, "\"duplex\":true,\"end0\":\"free\","
				     "\"end1\":\"attached\""));
	ck_assert_ptr_nonnull(strstr(out.data, "\"getters10\":0,\"putters10\":0}"));
	ck_assert_ptr_nonnull(strstr(out.data, "\"owner\":"));
	h_buf_free(&out);
	ipc_close(c);
	h_stop(&d);
}
END_TEST


/* Complete `ipcctl -s SOCK WORDS...` (the last word being completed)
 * with the installed completion script; the candidates, one a line. */
static int complete_line(const struct h_daemon *d, const char *words,
			 struct h_buf *out)
{
	const char *src = getenv("IPCD_SRCDIR");
	char script[2048], *argv[] = { "/bin/bash", "--norc", "-c", script, NULL };

	snprintf(script, sizeof(script),
		 ". '%s/tools/bash-completion/ipcctl' || exit 9; "
		 "COMP_WORDS=('%s' -s '%s' %s); "
		 "COMP_CWORD=$((${#COMP_WORDS[@]} - 1)); _ipcctl; "
		 "printf '%%s\\n' \"${COMPREPLY[@]}\"",
		 src, h_bin("IPCCTL_BIN"), d->sock, words);
	return h_run(argv, NULL, 0, out, NULL, 15000);
}

/* Bash completion: commands, a command's options (from ipcctl help),
 * queue and pipe names from the daemon. */
START_TEST(test_completion)
{
	const char *src = getenv("IPCD_SRCDIR");
	struct h_buf out = { 0 };
	struct h_daemon d;
	ipc_client *c;

	if (!src || !*src || access("/bin/bash", X_OK) != 0)
		return;     /* only under make check, with bash */
	h_start(&d);
	c = h_connect(&d);
	h_create_queue(c, "jobs", 0);
	h_create_queue(c, "jolly", 0);
	h_create_queue(c, "other", 0);
	ck_assert_int_eq(complete_line(&d, "'g'", &out), 0);
	ck_assert_str_eq(out.data, "get\n");
	h_buf_free(&out);
	ck_assert_int_eq(complete_line(&d, "get 'jo'", &out), 0);
	ck_assert_str_eq(out.data, "jobs\njolly\n");
	h_buf_free(&out);
	ck_assert_int_eq(complete_line(&d, "get jobs '--c'", &out), 0);
	ck_assert_str_eq(out.data, "--connect-timeout\n--count\n");
	h_buf_free(&out);
	ck_assert_int_eq(complete_line(&d, "recv p '--cl'", &out), 0);
	ck_assert_str_eq(out.data, "--close\n");
	h_buf_free(&out);
	ck_assert_int_eq(complete_line(&d, "help 'to'", &out), 0);
	ck_assert_str_eq(out.data, "top\n");
	h_buf_free(&out);
	ipc_close(c);
	h_stop(&d);
}
END_TEST

/* ---- a hostile daemon ------------------------------------------------------ */

/* Read one request frame's payload from fd into buf (at most cap bytes):
 * its length, or -1 at EOF or on a frame over cap. */
static ssize_t fake_read_frame(int fd, unsigned char *buf, size_t cap)
{
	unsigned char hdr[PROTO_FRAME_HDR];
	size_t len, got;
	ssize_t n;

	for (got = 0; got < sizeof(hdr); got += (size_t)n)
		if ((n = read(fd, hdr + got, sizeof(hdr) - got)) <= 0)
			return -1;
	len = (size_t)hdr[0] << 24 | (size_t)hdr[1] << 16 | hdr[2] << 8 | hdr[3];
	if (len > cap)
		return -1;
	for (got = 0; got < len; got += (size_t)n)
		if ((n = read(fd, buf + got, len - got)) <= 0)
			return -1;
	return (ssize_t)len;
}

/* Write all of p[0..n) to fd; 0 or -1. */
static int fake_write(int fd, const void *p, size_t n)
{
	const unsigned char *b = p;
	ssize_t w;

	for (; n > 0; b += w, n -= (size_t)w)
		if ((w = write(fd, b, n)) <= 0)
			return -1;
	return 0;
}

/* The 8 MiB LIST reply a hostile daemon sends to request id: [id, 0,
 * [nil x ~8M], 0], the largest frame a client accepts, one object per
 * byte (msgpack-c allocates 24 bytes for each it unpacks). */
static int fake_send_list(int fd, uint32_t id)
{
	size_t nils = PROTO_FRAME_MAX - 13, len = PROTO_FRAME_MAX, i = 0;
	unsigned char *f = malloc(PROTO_FRAME_HDR + len);

	if (f == NULL)
		return -1;
	memset(f, 0xc0, PROTO_FRAME_HDR + len);
	f[i++] = (unsigned char)(len >> 24); f[i++] = (unsigned char)(len >> 16);
	f[i++] = (unsigned char)(len >> 8); f[i++] = (unsigned char)len;
	f[i++] = 0x94;                                   /* [ of 4 */
	f[i++] = 0xce;                                   /* uint32 id */
	f[i++] = (unsigned char)(id >> 24); f[i++] = (unsigned char)(id >> 16);
	f[i++] = (unsigned char)(id >> 8); f[i++] = (unsigned char)id;
	f[i++] = 0x00;                                   /* status 0 */
	f[i++] = 0xdd;                                   /* array32 of nils */
	f[i++] = (unsigned char)(nils >> 24); f[i++] = (unsigned char)(nils >> 16);
	f[i++] = (unsigned char)(nils >> 8); f[i++] = (unsigned char)nils;
	f[PROTO_FRAME_HDR + len - 1] = 0x00;             /* more 0 */
	i = (size_t)fake_write(fd, f, PROTO_FRAME_HDR + len);
	free(f);
	return (int)i;
}

/* A hostile daemon: its listening socket, and how it answers LIST. */
struct fake {
	int lfd;
	int pages;      /* 0: one 8 MiB reply; -1: no reply at all (a
			   stalled peer, until the client closes); else that
			   many full, valid pages (each saying more follow),
			   then it closes */
	int served;     /* LIST replies sent so far */
};

/* A valid LIST page after r->name: PROTO_LIST_PAGE names that sort after
 * every earlier page's, with more = 1. */
static int fake_send_page(int fd, const struct proto_req *r, int k)
{
	static struct proto_info infos[PROTO_LIST_PAGE];
	struct pbuf out;
	int i, rc;

	for (i = 0; i < PROTO_LIST_PAGE; i++) {
		memset(&infos[i], 0, sizeof(infos[i]));
		snprintf(infos[i].name, sizeof(infos[i].name), "p%06d.%03d", k, i);
		infos[i].kind = IPC_KIND_QUEUE;
	}
	if (strcmp(infos[0].name, r->name) <= 0)
		return -1;  /* the client's cursor went wrong */
	pbuf_init(&out);
	rc = proto_enc_rep(&out, &(struct proto_rep){ .op = r->op, .id = r->id,
		.infos = infos, .ninfos = PROTO_LIST_PAGE, .more = 1 });
	if (rc == 0)
		rc = fake_write(fd, out.data, out.len);
	pbuf_free(&out);
	return rc;
}

/* Answer one request of a client on fd the way a hostile daemon would:
 * HELLO properly, LIST as f says; 0 to go on, -1 to stop. */
static int fake_answer(int fd, struct proto_dec *dec, unsigned char *buf,
		       struct fake *f)
{
	struct proto_req r;
	struct pbuf out;
	ssize_t n = fake_read_frame(fd, buf, 4096);
	int rc;

	if (n <= 0 || proto_dec_req(dec, buf, (size_t)n, IPC_MSG_MAX, &r) != 0)
		return -1;
	if (r.op == PROTO_OP_LIST && f->pages < 0)
		return 0;   /* stalled: the next read waits for the client's close */
	if (r.op == PROTO_OP_LIST && f->pages == 0)
		return fake_send_list(fd, r.id);
	if (r.op == PROTO_OP_LIST)
		return f->served < f->pages ? fake_send_page(fd, &r, f->served++) : -1;
	if (r.op != PROTO_OP_HELLO)
		return -1;
	pbuf_init(&out);
	rc = proto_enc_rep(&out, &(struct proto_rep){ .op = r.op, .id = r.id,
		.version = IPC_PROTO_VERSION, .msg_max = IPC_MSG_MAX });
	if (rc == 0)
		rc = fake_write(fd, out.data, out.len);
	pbuf_free(&out);
	return rc;
}

/* Read fd to its end into b (NUL-terminated), then close it. */
static void read_all(int fd, struct h_buf *b)
{
	char tmp[4096];
	ssize_t n;

	b->data = calloc(1, 1);
	while (b->data != NULL && (n = read(fd, tmp, sizeof(tmp))) > 0) {
		b->data = realloc(b->data, b->len + (size_t)n + 1);
		ck_assert_ptr_nonnull(b->data);
		memcpy(b->data + b->len, tmp, (size_t)n);
		b->len += (size_t)n;
		b->data[b->len] = '\0';
	}
	close(fd);
}

/* Child: serve one client on the listening socket of struct fake arg,
 * hostilely. */
static int fake_daemon(void *arg)
{
	struct fake *f = arg;
	unsigned char buf[4096];
	struct proto_dec dec;
	int fd = accept(f->lfd, NULL, NULL);

	if (fd < 0 || proto_dec_init(&dec) != 0)
		return 1;
	while (fake_answer(fd, &dec, buf, f) == 0)
		;
	proto_dec_fini(&dec);
	close(fd);
	return 0;
}

/* Start a hostile daemon (pages: see struct fake) on a socket in a new
 * directory dir (a mkdtemp template); its pid, the path in sa. */
static pid_t fake_start(char *dir, struct sockaddr_un *sa, int pages)
{
	struct fake f = { .pages = pages };
	pid_t srv;

	ck_assert_ptr_nonnull(mkdtemp(dir));
	snprintf(sa->sun_path, sizeof(sa->sun_path), "%s/fake.sock", dir);
	f.lfd = socket(AF_UNIX, SOCK_STREAM, 0);
	ck_assert_int_eq(bind(f.lfd, (struct sockaddr *)sa, sizeof(*sa)), 0);
	ck_assert_int_eq(listen(f.lfd, 1), 0);
	srv = h_spawn(fake_daemon, &f);
	close(f.lfd);
	return srv;
}

/* Wait for the hostile daemon srv and remove its socket and directory. */
static void fake_stop(pid_t srv, const char *dir, const struct sockaddr_un *sa)
{
	ck_assert_int_eq(h_wait_child(srv, 10000), 0);
	unlink(sa->sun_path);
	rmdir(dir);
}

/* Run `ipcctl -s path ls` to its end: its exit status, its stderr in
 * err, its resource use in ru. */
static int ctl_ls_run(const char *path, struct h_buf *err, struct rusage *ru)
{
	char *argv[] = { (char *)h_bin("IPCCTL_BIN"), "-s", (char *)path, "ls", NULL };
	int st, pe[2];
	pid_t pid;

	ck_assert_int_eq(pipe(pe), 0);
	pid = fork();
	ck_assert_int_ge(pid, 0);
	if (pid == 0) {
		dup2(pe[1], 2);
		if (freopen("/dev/null", "w", stdout) == NULL)
			_exit(126);
		close(pe[0]);
		execv(argv[0], argv);
		_exit(127);
	}
	close(pe[1]);
	read_all(pe[0], err);
	ck_assert_int_eq(wait4(pid, &st, 0, ru), pid);
	return st;
}

/* A hostile daemon's LIST reply (8 MiB of one-byte objects) is refused
 * by ipcctl ls as a protocol error without decoding it: its peak RSS
 * stays near the one frame it must read (~197 MB before the client bound
 * its replies like the daemon bounds requests). */
START_TEST(test_ls_hostile_reply)
{
	char dir[] = "/tmp/ipcd-fake-XXXXXX";
	struct sockaddr_un sa = { .sun_family = AF_UNIX };
	struct h_buf err = { 0 };
	struct rusage ru;
	pid_t srv = fake_start(dir, &sa, 0);
	int st = ctl_ls_run(sa.sun_path, &err, &ru);

	fake_stop(srv, dir, &sa);
	fprintf(stderr, "ipcctl ls against an 8 MiB hostile LIST reply: "
		"peak RSS %ld kB, exit %d: %s", ru.ru_maxrss,
		WIFEXITED(st) ? WEXITSTATUS(st) : -1, err.data);
	ck_assert(WIFEXITED(st) && WEXITSTATUS(st) == 1);
	ck_assert_msg(strstr(err.data, "bad reply") != NULL, "%s", err.data);
	/* The frame (8 MiB) and the program; not a byte per decoded object. */
	ck_assert_int_lt(ru.ru_maxrss, 40 * 1024);
	h_buf_free(&err);
}
END_TEST

/* A peer that answers the handshake, then nothing: ipcctl --io-timeout
 * gives up on the request that much after its own timeout (ls has none),
 * with exit 1 and a line saying so, naming the timeout it was given (the
 * default is 5 s: the message tells the option from the default however
 * slow a loaded machine makes the run). */
START_TEST(test_ipcctl_io_timeout)
{
	char dir[] = "/tmp/ipcd-fake-XXXXXX";
	struct sockaddr_un sa = { .sun_family = AF_UNIX };
	struct h_buf err = { 0 };
	pid_t srv = fake_start(dir, &sa, -1);
	char *argv[] = { (char *)h_bin("IPCCTL_BIN"), "-s", sa.sun_path,
			 "--io-timeout", "0.3", "ls", NULL };
	int64_t t0 = h_now_ms(), el;
	int st = h_run(argv, NULL, 0, NULL, &err, 15000);

	el = h_now_ms() - t0;
	fake_stop(srv, dir, &sa);
	ck_assert_msg(st == 1, "exit %d: %s", st, err.data);
	ck_assert_msg(strstr(err.data, "did not answer within the I/O timeout "
			     "(300 ms past") != NULL, "ipcctl said: %s", err.data);
	ck_assert_msg(el >= 300, "gave up after %lld ms", (long long)el);
	h_buf_free(&err);
	argv[4] = "-1";
	ck_assert_int_eq(h_run(argv, NULL, 0, NULL, &err, 15000), 2);
	ck_assert_msg(strstr(err.data, "io-timeout") != NULL, "%s", err.data);
	h_buf_free(&err);
}
END_TEST

/* A hostile daemon that always says more pages follow: ipc_list stops
 * at IPC_LIST_MAX entries with IPC_ELIMIT (before, it held every page
 * until memory ran out), the handle still usable; ipc_list_page walks on
 * from a cursor, one page at a time. */
START_TEST(test_list_endless)
{
	char dir[] = "/tmp/ipcd-fake-XXXXXX";
	struct sockaddr_un sa = { .sun_family = AF_UNIX };
	pid_t srv = fake_start(dir, &sa, IPC_LIST_MAX / IPC_LIST_PAGE + 3);
	struct ipc_info *infos = NULL;
	ipc_client *c;
	size_t n = 7;
	int more = 0;

	ck_assert_int_eq(ipc_connect(sa.sun_path, &c), 0);
	ck_assert_int_eq(ipc_list(c, &infos, &n, sizeof(*infos)), IPC_ELIMIT);
	ck_assert_ptr_null(infos);
	ck_assert_uint_eq(n, 7);
	ck_assert_msg(strstr(ipc_last_error(c), "IPC_LIST_MAX") != NULL, "%s",
		      ipc_last_error(c));
	ck_assert_int_eq(ipc_list_page(c, "p000256.511", &infos, &n,
				       sizeof(*infos), &more), 0);
	ck_assert_uint_eq(n, IPC_LIST_PAGE);
	ck_assert_int_eq(more, 1);
	ck_assert_str_eq(infos[0].name, "p000257.000");
	ipc_free(infos);
	ck_assert_int_eq(ipc_list_page(c, "p", &infos, &n, sizeof(*infos), &more), 0);
	ipc_free(infos);
	ck_assert_int_eq(ipc_list_page(c, ".bad", &infos, &n, sizeof(*infos), &more),
			 IPC_ENAME);
	ck_assert_int_eq(ipc_list_page(c, NULL, &infos, &n, sizeof(*infos), NULL),
			 IPC_EINVAL);
	ck_assert_int_lt(ipc_list_page(c, NULL, &infos, &n, sizeof(*infos), &more), 0);
	ipc_close(c);
	fake_stop(srv, dir, &sa);
}
END_TEST

/* ipcctl ls against a daemon with 200 full pages (102,400 names, then it
 * closes) holds one page at a time: its peak RSS stays small (before it
 * held them all, ~60 MB). */
START_TEST(test_ls_many_pages)
{
	char dir[] = "/tmp/ipcd-fake-XXXXXX";
	struct sockaddr_un sa = { .sun_family = AF_UNIX };
	const char *san = getenv("IPCD_SANITIZED");
	/* ASan's shadow and quarantine roughly double a small program. */
	long cap_kb = san != NULL && strcmp(san, "yes") == 0 ? 40 * 1024 : 16 * 1024;
	struct h_buf err = { 0 };
	struct rusage ru;
	pid_t srv = fake_start(dir, &sa, 200);
	int st = ctl_ls_run(sa.sun_path, &err, &ru);

	fake_stop(srv, dir, &sa);
	fprintf(stderr, "ipcctl ls of 200 pages: peak RSS %ld kB, exit %d: %s",
		ru.ru_maxrss, WIFEXITED(st) ? WEXITSTATUS(st) : -1, err.data);
	ck_assert(WIFEXITED(st) && WEXITSTATUS(st) == 1);
	ck_assert_int_lt(ru.ru_maxrss, cap_kb);
	h_buf_free(&err);
}
END_TEST

/* The whole suite. */
static Suite *ctl_suite(void)
{
	Suite *s = suite_create("ctl");

	h_add_case(s, "io_timeout", test_io_timeout, 30);
	h_add_case(s, "rcvtimeo_bound", test_rcvtimeo_bound, 30);
	h_add_case(s, "connect_timeout", test_connect_timeout, 30);
	h_add_case(s, "put_tty_eof", test_put_tty_eof, 30);
	h_add_case(s, "drain", test_drain, 30);
	h_add_case(s, "detach_api", test_detach_api, 30);
	h_add_case(s, "detach_ipcctl", test_detach_ipcctl, 30);
	h_add_case(s, "help_version", test_help_version, 30);
	h_add_case(s, "help_commands", test_help_commands, 30);
	h_add_case(s, "option_errors", test_option_errors, 30);
	h_add_case(s, "top_tty", test_top_tty, 30);
	h_add_case(s, "top_gone", test_top_gone, 30);
	h_add_case(s, "top_json", test_top_json, 30);
	h_add_case(s, "completion", test_completion, 30);
	h_add_case(s, "ls_hostile_reply", test_ls_hostile_reply, 60);
	h_add_case(s, "list_endless", test_list_endless, 60);
	h_add_case(s, "ls_many_pages", test_ls_many_pages, 60);
	h_add_case(s, "ipcctl_io_timeout", test_ipcctl_io_timeout, 60);
	return s;
}

/* Run the suite, one forked process per test. */
int main(void)
{
	return h_run_suite(ctl_suite());
}
