/* SPDX-License-Identifier: MIT */
/*
 * check_integration.c: the real ipcd, freshly built, driven through
 * libipcclient, raw sockets, ipcctl and queue_demo. Every test starts its
 * own daemon in a private directory and stops it with a signal, asserting
 * a clean exit (under IPCD_WRAPPER=valgrind that also means no leaks).
 */
#include <check.h>
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/un.h>
#include <sys/wait.h>

#include "harness.h"
#include <ipcclient/ipcclient.h>
#include "proto.h"

/* How long a child may take to finish its part (ms). */
#define T_CHILD_MS (h_wrapped() ? 120000 : 20000)

/* What a forked client child does: one put or get on one queue. */
struct job {
	const char *sock;
	const char *queue;
	const char *data;   /* put: the payload (NUL-terminated text) */
	int timeout;
	int fd;             /* get: where to report the message, or -1 */
};

/* Child: connect, get one message, report it as [u32 len][bytes] on fd. */
static int job_get(void *arg)
{
	struct job *j = arg;
	ipc_client *c;
	void *data;
	size_t len;
	uint32_t l32;
	int rc;

	if (h_ipc_connect(j->sock, &c))
		return 120;
	rc = ipc_queue_get(c, j->queue, &data, &len, j->timeout);
	if (rc == 0 && j->fd >= 0) {
		l32 = (uint32_t)len;
		if (write(j->fd, &l32, 4) != 4 ||
		    write(j->fd, data, len) != (ssize_t)len)
			rc = 119;
		ipc_free(data);
	}
	ipc_close(c);
	return h_job_status(rc);
}

/* Child: connect and put j->data. */
static int job_put(void *arg)
{
	struct job *j = arg;
	ipc_client *c;
	int rc;

	if (h_ipc_connect(j->sock, &c))
		return 120;
	rc = ipc_queue_put(c, j->queue, j->data, strlen(j->data), j->timeout);
	ipc_close(c);
	return h_job_status(rc);
}

/* Read exactly n bytes from fd within the child bound. */
static void read_full(int fd, void *buf, size_t n)
{
	int64_t deadline = h_now_ms() + T_CHILD_MS;
	struct pollfd p = { .fd = fd, .events = POLLIN };
	size_t off = 0;
	ssize_t r;

	while (off < n) {
		ck_assert_msg(h_now_ms() < deadline, "child report timed out");
		if (poll(&p, 1, 100) <= 0)
			continue;
		r = read(fd, (char *)buf + off, n - off);
		ck_assert_msg(r > 0, "child report pipe closed early");
		off += (size_t)r;
	}
}

/* Read one [u32 len][bytes] report from a get child as a string. */
static char *read_report(int fd)
{
	uint32_t len;
	char *s;

	read_full(fd, &len, 4);
	ck_assert_uint_lt(len, 4096);
	s = calloc(1, len + 1);
	read_full(fd, s, len);
	return s;
}

/* 1: HELLO, queue open rules and name validation. */
START_TEST(test_open)
{
	struct h_daemon d;
	ipc_client *c;
	long long actual = -5;
	struct ipc_info info;

	h_start(&d);
	c = h_connect(&d);
	ck_assert_uint_gt(ipc_msg_max(c), 0);
	ck_assert_uint_le(ipc_msg_max(c), IPC_MSG_MAX);

	ck_assert_int_eq(ipc_queue_open(c, "q1", H_QOPTS(5, IPC_QUEUE_CREATE), &actual), 0);
	ck_assert_int_eq(actual, 5);
	actual = -5;
	ck_assert_int_eq(ipc_queue_open(c, "q1", H_QOPTS(5, 0), &actual), 0);
	ck_assert_int_eq(actual, 5);
	ck_assert_int_eq(ipc_queue_open(c, "q1", H_QOPTS(5, IPC_QUEUE_CREATE), NULL), 0);
	ck_assert_int_eq(ipc_queue_open(c, "q1", H_QOPTS(6, 0), NULL), IPC_EMISMATCH);
	ck_assert_int_eq(ipc_queue_open(c, "q1", H_QOPTS(0, IPC_QUEUE_CREATE), NULL),
			 IPC_EMISMATCH);
	actual = -5;
	ck_assert_int_eq(ipc_queue_open(c, "q1", H_QOPTS(IPC_MAXSIZE_ANY, 0), &actual), 0);
	ck_assert_int_eq(actual, 5);
	ck_assert_int_eq(ipc_queue_open(c, "missing", H_QOPTS(3, 0), NULL), IPC_ENOENT);
	ck_assert_int_eq(ipc_stat(c, "missing", &info, sizeof(info)), IPC_ENOENT);
	ck_assert_int_eq(ipc_queue_open(c, "q1", H_QOPTS(5, IPC_QUEUE_CREATE | IPC_QUEUE_EXCL), NULL),
			 IPC_EEXIST);
	ck_assert_int_eq(ipc_queue_open(c, "q2", H_QOPTS(0, IPC_QUEUE_CREATE | IPC_QUEUE_EXCL), &actual), 0);
	ck_assert_int_eq(actual, 0);

	info = h_stat(c, "q1");
	ck_assert_str_eq(info.name, "q1");
	ck_assert_int_eq(info.kind, IPC_KIND_QUEUE);
	ck_assert_int_eq(info.maxsize, 5);
	ck_assert_uint_eq(info.size, 0);

	ipc_close(c);
	h_stop(&d);
}
END_TEST

/* 1b: name validation everywhere, and the sorted list. */
START_TEST(test_names)
{
	struct h_daemon d;
	ipc_client *c;
	char longname[IPC_NAME_MAX + 2];
	struct ipc_info info, *infos;
	size_t n;

	h_start(&d);
	c = h_connect(&d);
	h_create_queue(c, "q1", 5);
	/* Invalid names, on open and on the by-name calls. */
	memset(longname, 'a', IPC_NAME_MAX + 1);
	longname[IPC_NAME_MAX + 1] = '\0';
	ck_assert_int_eq(ipc_queue_open(c, "", H_QOPTS(0, IPC_QUEUE_CREATE), NULL), IPC_ENAME);
	ck_assert_int_eq(ipc_queue_open(c, longname, H_QOPTS(0, IPC_QUEUE_CREATE), NULL),
			 IPC_ENAME);
	ck_assert_int_eq(ipc_queue_open(c, "a b", H_QOPTS(0, IPC_QUEUE_CREATE), NULL),
			 IPC_ENAME);
	ck_assert_int_eq(ipc_queue_open(c, ".x", H_QOPTS(0, IPC_QUEUE_CREATE), NULL),
			 IPC_ENAME);
	ck_assert_int_eq(ipc_queue_put(c, "a b", "x", 1, 0), IPC_ENAME);
	ck_assert_int_eq(ipc_stat(c, ".x", &info, sizeof(info)), IPC_ENAME);
	/* The longest name and every allowed byte class are fine. */
	longname[IPC_NAME_MAX] = '\0';
	ck_assert_int_eq(ipc_queue_open(c, longname, H_QOPTS(0, IPC_QUEUE_CREATE), NULL), 0);
	ck_assert_int_eq(ipc_queue_open(c, "Az09_.:@-", H_QOPTS(0, IPC_QUEUE_CREATE), NULL), 0);

	/* The list holds exactly what was created, sorted by name. */
	ck_assert_int_eq(ipc_list(c, &infos, &n, sizeof(*infos)), 0);
	ck_assert_uint_eq(n, 3);
	ck_assert_str_eq(infos[0].name, "Az09_.:@-");
	ck_assert_str_eq(infos[1].name, longname);
	ck_assert_str_eq(infos[2].name, "q1");
	ck_assert_int_eq(infos[2].maxsize, 5);
	ipc_free(infos);
	ipc_close(c);
	h_stop(&d);
}
END_TEST

/* The sizes of large_inline: around the size from which the daemon reads
 * a frame alone into a buffer its message takes over (16 KiB), small
 * ones between, up to the inline limit. */
static const size_t large_sizes[] = { 16383, 16384, 16385, 10, 70000,
				      1u << 20, 5, 300000, 65536, 0 };
#define LARGE_NSIZES (sizeof large_sizes / sizeof large_sizes[0])

/* The byte at i of message k. */
static unsigned char large_byte(size_t k, size_t i)
{
	return (unsigned char)(k * 7 + i * 13 + (i >> 9));
}

/* A message of large_inline: k's size and bytes, malloc'd. */
static unsigned char *large_msg(size_t k, size_t *len)
{
	unsigned char *p;
	size_t i;

	*len = large_sizes[k % LARGE_NSIZES];
	p = malloc(*len ? *len : 1);
	ck_assert_ptr_nonnull(p);
	for (i = 0; i < *len; i++)
		p[i] = large_byte(k, i);
	return p;
}

/* Large and small inline messages sent back to back (async, so frames
 * follow each other in the socket) through a queue and a pipe come out
 * whole, in order and byte-exact. */
START_TEST(test_large_inline)
{
	enum { ROUNDS = 3 };
	struct ipc_pipe_opts o = IPC_PIPE_OPTS_INIT;
	struct h_daemon d;
	ipc_client *c, *r;
	unsigned char *m;
	size_t k, len, got;
	void *data;

	h_start(&d);
	c = h_connect(&d);
	r = h_connect(&d);
	h_create_queue(c, "q", 0);
	o.maxbytes = 16u << 20;  /* every message of the test at once */
	ck_assert_int_eq(ipc_pipe_attach(r, "p", 0, IPC_PIPE_CREATE | IPC_PIPE_ONEWAY, &o), 0);
	ck_assert_int_eq(ipc_pipe_attach(c, "p", 1, IPC_PIPE_ONEWAY, NULL), 0);
	for (k = 0; k < ROUNDS * LARGE_NSIZES; k++) {
		m = large_msg(k, &len);
		ck_assert_int_eq(ipc_queue_put_async(c, "q", m, len, 0), 0);
		ck_assert_int_eq(ipc_pipe_send_async(c, "p", 1, m, len, 0), 0);
		free(m);
	}
	ck_assert_int_eq(ipc_flush(c), 0);
	for (k = 0; k < 2 * ROUNDS * LARGE_NSIZES; k++) {
		m = large_msg(k / 2, &len);
		if (k % 2)
			ck_assert_int_eq(ipc_pipe_recv(r, "p", 0, &data, &got, 5000), 0);
		else
			ck_assert_int_eq(ipc_queue_get(r, "q", &data, &got, 0), 0);
		ck_assert_uint_eq(got, len);
		ck_assert_msg(memcmp(data, m, len) == 0, "message %zu corrupted", k);
		ipc_free(data);
		free(m);
	}
	ipc_close(c);
	ipc_close(r);
	h_stop(&d);
}
END_TEST

/* The send buffer a socket of ours has (SO_SNDBUF), or -1. */
static int sndbuf_of(int fd)
{
	int v = -1;
	socklen_t n = sizeof v;

	return getsockopt(fd, SOL_SOCKET, SO_SNDBUF, &v, &n) == 0 ? v : -1;
}

/* What a raised send buffer reads back as: 1 MiB doubled by the kernel,
 * bounded by net.core.wmem_max (doubled too). */
static int sndbuf_raised(void)
{
	FILE *f = fopen("/proc/sys/net/core/wmem_max", "r");
	long max = 1L << 20;

	if (f != NULL) {
		if (fscanf(f, "%ld", &max) != 1)
			max = 1L << 20;
		fclose(f);
	}
	return 2 * (int)(max < (1L << 20) ? max : (1L << 20));
}

/* The largest send buffer among the daemon's sockets (pidfd_getfd), or
 * -1 when they cannot be reached. */
static int daemon_sndbuf_max(pid_t pid)
{
	char path[64];
	struct dirent *e;
	int pfd = (int)syscall(SYS_pidfd_open, pid, 0), best = -1, fd, v;
	DIR *d;

	snprintf(path, sizeof path, "/proc/%d/fd", (int)pid);
	if (pfd < 0 || (d = opendir(path)) == NULL) {
		if (pfd >= 0)
			close(pfd);
		return -1;
	}
	while ((e = readdir(d)) != NULL) {
		fd = (int)syscall(SYS_pidfd_getfd, pfd, atoi(e->d_name), 0);
		if (fd < 0)
			continue;
		v = sndbuf_of(fd);
		best = v > best ? v : best;
		close(fd);
	}
	closedir(d);
	close(pfd);
	return best;
}

/* Put then get one message of len bytes on q through c; the daemon's
 * largest send buffer after the get (-1 when it cannot be seen). */
static int sndbuf_after_get(struct h_daemon *d, ipc_client *c, size_t len)
{
	unsigned char *m = calloc(1, len);
	size_t got;
	void *data;

	ck_assert_int_eq(ipc_queue_put(c, "q", m, len, 0), 0);
	ck_assert_int_eq(ipc_queue_get(c, "q", &data, &got, 0), 0);
	ck_assert_uint_eq(got, len);
	ipc_free(data);
	free(m);
	return daemon_sndbuf_max(d->pid);
}

/* A large write raises the writer's send buffer, once, on both sides:
 * the client's before a put of 512 KiB (not for 1 KiB), the daemon's
 * before that message goes to its getter, unless its max-output is under
 * 1 MiB. So a 1 MiB message crosses the socket in one or two pieces, not
 * five wake-ups of 208 KiB. */
START_TEST(test_large_sndbuf)
{
	static const char *const small_out[] = { "--max-output", "512K", NULL };
	enum { BIG = 512 << 10 };
	struct h_daemon d;
	ipc_client *c;
	int before, want = sndbuf_raised(), theirs;

	h_start(&d);
	c = h_connect(&d);
	h_create_queue(c, "q", 0);
	before = sndbuf_of(ipc_fd(c));
	theirs = sndbuf_after_get(&d, c, 1024);
	ck_assert_int_eq(sndbuf_of(ipc_fd(c)), before);
	if (theirs >= 0)
		ck_assert_int_lt(theirs, want);
	theirs = sndbuf_after_get(&d, c, BIG);
	ck_assert_int_ge(sndbuf_of(ipc_fd(c)), want);
	if (theirs >= 0)
		ck_assert_int_ge(theirs, want);
	ipc_close(c);
	h_stop(&d);
	/* max-output 512K: the daemon's buffer stays as it was. */
	h_prepare(&d);
	h_launch_opts(&d, &(struct h_opts){ .args = small_out, .listen_fd = -1 });
	c = h_connect(&d);
	h_create_queue(c, "q", 0);
	theirs = sndbuf_after_get(&d, c, BIG);
	if (theirs >= 0)
		ck_assert_int_lt(theirs, want);
	ipc_close(c);
	h_stop(&d);
}
END_TEST

/* Count the lines of strace's output file path that start with what. */
static int lines_with(const char *path, const char *what)
{
	char line[512];
	int n = 0;
	FILE *f = fopen(path, "r");

	if (f == NULL)
		return -1;
	while (fgets(line, sizeof line, f) != NULL)
		n += strncmp(line, what, strlen(what)) == 0;
	fclose(f);
	return n;
}

/* The daemon reads a pipelined 64 KiB put in one recvmsg: the header of
 * the frame after a large one comes with that frame's end, not in a read
 * of its own (two recvmsg per message before). Traced with strace, which
 * slows the daemon so that the puts wait whole in its socket. */
START_TEST(test_large_put_one_read)
{
	enum { N = 40, LEN = 64 << 10 };
	unsigned char *m = calloc(1, LEN);
	char path[200], pid[16];
	struct h_daemon d;
	ipc_client *c;
	int i, st, reads;
	pid_t sp;

	if (access("/usr/bin/strace", X_OK) != 0) {
		printf("test_large_put_one_read skipped: no /usr/bin/strace\n");
		free(m);
		return;
	}
	h_start(&d);
	c = h_connect(&d);
	h_create_queue(c, "q", 0);
	snprintf(path, sizeof path, "%s/strace.out", d.dir);
	snprintf(pid, sizeof pid, "%d", (int)d.pid);
	sp = fork();
	ck_assert_int_ge(sp, 0);
	if (sp == 0) {
		execl("/usr/bin/strace", "strace", "-qq", "-o", path, "-e",
		      "trace=recvmsg", "-p", pid, (char *)NULL);
		_exit(127);
	}
	usleep(500000);    /* attached by then */
	if (waitpid(sp, &st, WNOHANG) == sp) {
		printf("test_large_put_one_read skipped: strace could not attach\n");
	} else {
		for (i = 0; i < N; i++)
			ck_assert_int_eq(ipc_queue_put_async(c, "q", m, LEN, IPC_FOREVER), 0);
		ck_assert_int_eq(ipc_flush(c), 0);
		kill(sp, SIGTERM);   /* detaches; ipcd goes on */
		waitpid(sp, &st, 0);
		reads = lines_with(path, "recvmsg(");
		ck_assert_msg(reads > 0 && reads <= N + N / 4, "%d recvmsg for %d puts",
			      reads, N);
	}
	unlink(path);
	ipc_close(c);
	h_stop(&d);
	free(m);
}
END_TEST

/* 2: FIFO order and byte-exact payloads from 0 bytes to the limit. */
START_TEST(test_putget)
{
	struct h_daemon d;
	ipc_client *c;
	size_t max, i, len;
	unsigned char *big;
	void *data;
	static const char bin[] = { 'a', 0, 'b', 0, (char)0xff, 0 };
	struct ipc_info info;

	h_start(&d);
	c = h_connect(&d);
	max = ipc_msg_max(c);
	big = malloc(max + 1);
	for (i = 0; i < max + 1; i++)
		big[i] = (unsigned char)(i * 31 + (i >> 8));
	h_create_queue(c, "q", 0);

	ck_assert_int_eq(ipc_queue_put(c, "q", "first", 5, 0), 0);
	ck_assert_int_eq(ipc_queue_put(c, "q", "", 0, 0), 0);
	ck_assert_int_eq(ipc_queue_put(c, "q", bin, sizeof(bin), 0), 0);
	ck_assert_int_eq(ipc_queue_put(c, "q", big, max, 0), 0);
	/* Over the inline limit a message goes as a memfd (check_memfd). */
	ck_assert_int_eq(ipc_queue_put(c, "q", big, (64u << 20) + 1, 0), IPC_ETOOBIG);
	ck_assert_int_eq(ipc_queue_put(c, "q", "last", 4, 0), 0);
	info = h_stat(c, "q");
	ck_assert_uint_eq(info.size, 5);
	ck_assert_uint_eq(info.bytes, 5 + 0 + sizeof(bin) + max + 4);
	ck_assert_uint_eq(info.puts, 5);

	h_get_expect(c, "q", "first", 0);
	ck_assert_int_eq(ipc_queue_get(c, "q", &data, &len, 0), 0);
	ck_assert_ptr_nonnull(data);
	ck_assert_uint_eq(len, 0);
	ipc_free(data);
	ck_assert_int_eq(ipc_queue_get(c, "q", &data, &len, 0), 0);
	ck_assert_uint_eq(len, sizeof(bin));
	ck_assert_mem_eq(data, bin, sizeof(bin));
	ipc_free(data);
	ck_assert_int_eq(ipc_queue_get(c, "q", &data, &len, 0), 0);
	ck_assert_uint_eq(len, max);
	ck_assert_int_eq(memcmp(data, big, max), 0);
	ipc_free(data);
	h_get_expect(c, "q", "last", 0);
	ck_assert_int_eq(ipc_queue_get(c, "q", &data, &len, 0), IPC_EEMPTY);
	info = h_stat(c, "q");
	ck_assert_uint_eq(info.size, 0);
	ck_assert_uint_eq(info.bytes, 0);
	ck_assert_uint_eq(info.gets, 5);
	free(big);
	ipc_close(c);
	h_stop(&d);
}
END_TEST

/* 2b: put and get on a missing queue fail at once, whatever the timeout:
 * they never create it nor wait for it. */
START_TEST(test_missing_queue)
{
	struct h_daemon d;
	ipc_client *c;
	void *data;
	size_t len;

	h_start(&d);
	c = h_connect(&d);
	ck_assert_int_eq(ipc_queue_put(c, "nope", "x", 1, 0), IPC_ENOENT);
	ck_assert_int_eq(ipc_queue_get(c, "nope", &data, &len, 0), IPC_ENOENT);
	ck_assert_int_eq(ipc_queue_put(c, "nope", "x", 1, 100), IPC_ENOENT);
	ck_assert_int_eq(ipc_queue_get(c, "nope", &data, &len, IPC_FOREVER), IPC_ENOENT);
	ipc_close(c);
	h_stop(&d);
}
END_TEST

/* Assert a timed-out call begun at t0 (ms; h_waits_us(d's ipcd) was
 * w0 then) took at least want ms and, less the time ipcd and this
 * process waited for a CPU (h_own_ms), under want + slack. */
static void assert_elapsed(const struct h_daemon *d, int64_t t0, int64_t w0,
			   int64_t want)
{
	int64_t slack = h_wrapped() ? 3000 : 800;
	int64_t ms = h_now_ms() - t0, own = h_own_ms(t0, w0, d->pid, 0);

	ck_assert_msg(ms >= want && own < want + slack,
		      "took %lld ms (%lld of its own), want [%lld, %lld)",
		      (long long)ms, (long long)own, (long long)want,
		      (long long)(want + slack));
}

/* 3: Empty and Full after the timeout, at once with nowait. */
START_TEST(test_timeouts)
{
	struct h_daemon d;
	ipc_client *c;
	void *data;
	size_t len;
	int64_t t0, w0;

	h_start(&d);
	c = h_connect(&d);
	h_create_queue(c, "e", 0);
	w0 = h_waits_us(d.pid);
	t0 = h_now_ms();
	ck_assert_int_eq(ipc_queue_get(c, "e", &data, &len, 200), IPC_EEMPTY);
	assert_elapsed(&d, t0, w0, 200);
	w0 = h_waits_us(d.pid);
	t0 = h_now_ms();
	ck_assert_int_eq(ipc_queue_get(c, "e", &data, &len, 0), IPC_EEMPTY);
	ck_assert_int_lt(h_own_ms(t0, w0, d.pid, 0), h_wrapped() ? 2000 : 100);
	ck_assert_uint_eq(h_stat(c, "e").getters, 0);

	h_create_queue(c, "f", 1);
	h_put_text(c, "f", "one");
	w0 = h_waits_us(d.pid);
	t0 = h_now_ms();
	ck_assert_int_eq(ipc_queue_put(c, "f", "two", 3, 200), IPC_EFULL);
	assert_elapsed(&d, t0, w0, 200);
	w0 = h_waits_us(d.pid);
	t0 = h_now_ms();
	ck_assert_int_eq(ipc_queue_put(c, "f", "two", 3, 0), IPC_EFULL);
	ck_assert_int_lt(h_own_ms(t0, w0, d.pid, 0), h_wrapped() ? 2000 : 100);
	ck_assert_uint_eq(h_stat(c, "f").size, 1);
	ck_assert_uint_eq(h_stat(c, "f").putters, 0);
	h_get_expect(c, "f", "one", 0);
	ck_assert_int_eq(ipc_queue_get(c, "f", &data, &len, 0), IPC_EEMPTY);
	ipc_close(c);
	h_stop(&d);
}
END_TEST

/* Microseconds on the monotonic clock. */
static int64_t now_us(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000000 + ts.tv_nsec / 1000;
}

/* Short timeouts never end early: the daemon's loop reads a coarse clock
 * (a tick of up to 4 ms behind), and pads every timeout by that tick. */
START_TEST(test_timeouts_never_early)
{
	struct h_daemon d;
	ipc_client *c;
	void *data;
	size_t len;
	int64_t t0, el;
	int i, ms;

	h_start(&d);
	c = h_connect(&d);
	h_create_queue(c, "e", 0);
	for (i = 0; i < 30; i++) {
		ms = 1 + i % 5;
		t0 = now_us();
		ck_assert_int_eq(ipc_queue_get(c, "e", &data, &len, ms), IPC_EEMPTY);
		el = now_us() - t0;
		ck_assert_msg(el >= ms * 1000, "a %d ms timeout ended after %lld us",
			      ms, (long long)el);
	}
	ipc_close(c);
	h_stop(&d);
}
END_TEST

/* Requests without a timeout leave the daemon with no timerfd: libevent's
 * precise-timer mode kept one and set it before every epoll_wait, a
 * system call per loop turn on the one-at-a-time path; the millisecond
 * timers (ptimer.h) make theirs with the first timed request. */
START_TEST(test_no_timerfd)
{
	struct h_daemon d;
	char path[320], link[128];
	struct dirent *e;
	ipc_client *c;
	ssize_t n;
	DIR *dir;
	int i;

	h_start(&d);
	c = h_connect(&d);
	h_create_queue(c, "q", 0);
	for (i = 0; i < 100; i++) {
		h_put_text(c, "q", "m");
		h_get_expect(c, "q", "m", 0);
	}
	snprintf(path, sizeof path, "/proc/%ld/fd", (long)d.pid);
	dir = opendir(path);
	ck_assert_ptr_nonnull(dir);
	while ((e = readdir(dir)) != NULL) {
		snprintf(path, sizeof path, "/proc/%ld/fd/%s", (long)d.pid, e->d_name);
		n = readlink(path, link, sizeof link - 1);
		if (n < 0)
			continue;
		link[n] = '\0';
		ck_assert_msg(strcmp(link, "anon_inode:[timerfd]") != 0,
			      "ipcd holds a timerfd (fd %s)", e->d_name);
	}
	closedir(dir);
	ipc_close(c);
	h_stop(&d);
}
END_TEST

/* 4: a parked getter is woken by a put; a parked putter by a get. */
START_TEST(test_handoff)
{
	struct h_daemon d;
	ipc_client *c;
	int p[2];
	char *got;
	pid_t pid;
	struct job j = { .timeout = IPC_FOREVER };

	h_start(&d);
	c = h_connect(&d);
	h_create_queue(c, "q", 0);
	ck_assert_int_eq(pipe(p), 0);
	j = (struct job){ d.sock, "q", NULL, IPC_FOREVER, p[1] };
	pid = h_spawn(job_get, &j);
	h_wait_parked(c, "q", 'g', 1);
	h_put_text(c, "q", "hello");
	got = read_report(p[0]);
	ck_assert_str_eq(got, "hello");
	free(got);
	ck_assert_int_eq(h_wait_child(pid, T_CHILD_MS), 0);
	ck_assert_uint_eq(h_stat(c, "q").size, 0);
	ck_assert_uint_eq(h_stat(c, "q").getters, 0);

	h_create_queue(c, "full", 1);
	h_put_text(c, "full", "first");
	j = (struct job){ d.sock, "full", "second", IPC_FOREVER, -1 };
	pid = h_spawn(job_put, &j);
	h_wait_parked(c, "full", 'p', 1);
	ck_assert_int_eq(waitpid(pid, NULL, WNOHANG), 0);
	h_get_expect(c, "full", "first", 0);
	ck_assert_int_eq(h_wait_child(pid, T_CHILD_MS), 0);
	ck_assert_uint_eq(h_stat(c, "full").putters, 0);
	h_get_expect(c, "full", "second", 0);
	close(p[0]);
	close(p[1]);
	ipc_close(c);
	h_stop(&d);
}
END_TEST

/* 5: parked getters are served in arrival order. */
START_TEST(test_getter_fifo)
{
	struct h_daemon d;
	ipc_client *c;
	struct job j[3];
	int p[3][2];
	pid_t pid[3];
	char want[2] = "0", *got;
	unsigned k;

	h_start(&d);
	c = h_connect(&d);
	h_create_queue(c, "q", 0);
	for (k = 0; k < 3; k++) {
		ck_assert_int_eq(pipe(p[k]), 0);
		j[k] = (struct job){ d.sock, "q", NULL, IPC_FOREVER, p[k][1] };
		pid[k] = h_spawn(job_get, &j[k]);
		h_wait_parked(c, "q", 'g', k + 1);
	}
	h_put_text(c, "q", "0");
	h_put_text(c, "q", "1");
	h_put_text(c, "q", "2");
	for (k = 0; k < 3; k++) {
		want[0] = (char)('0' + k);
		got = read_report(p[k][0]);
		ck_assert_str_eq(got, want);
		free(got);
		ck_assert_int_eq(h_wait_child(pid[k], T_CHILD_MS), 0);
		close(p[k][0]);
		close(p[k][1]);
	}
	ck_assert_uint_eq(h_stat(c, "q").size, 0);
	ipc_close(c);
	h_stop(&d);
}
END_TEST

/* 6: parked putters are admitted in arrival order. */
START_TEST(test_putter_fifo)
{
	static const char *msgs[3] = { "p0", "p1", "p2" };
	struct h_daemon d;
	ipc_client *c;
	struct job j[3];
	pid_t pid[3];
	unsigned k;

	h_start(&d);
	c = h_connect(&d);
	h_create_queue(c, "q", 1);
	h_put_text(c, "q", "fill");
	for (k = 0; k < 3; k++) {
		j[k] = (struct job){ d.sock, "q", msgs[k], IPC_FOREVER, -1 };
		pid[k] = h_spawn(job_put, &j[k]);
		h_wait_parked(c, "q", 'p', k + 1);
	}
	ck_assert_uint_eq(h_stat(c, "q").size, 1);
	h_get_expect(c, "q", "fill", 5000);
	h_get_expect(c, "q", "p0", 5000);
	h_get_expect(c, "q", "p1", 5000);
	h_get_expect(c, "q", "p2", 5000);
	for (k = 0; k < 3; k++)
		ck_assert_int_eq(h_wait_child(pid[k], T_CHILD_MS), 0);
	ck_assert_uint_eq(h_stat(c, "q").putters, 0);
	ck_assert_uint_eq(h_stat(c, "q").size, 0);
	ipc_close(c);
	h_stop(&d);
}
END_TEST

#define STRESS_PROD 4
#define STRESS_CONS 4

/* One producer or consumer of the stress test. */
struct stress {
	const char *sock;
	const char *dir;
	unsigned index;
	unsigned per;       /* messages per producer */
};

/* Child: put per numbered messages, ids index*per + i, in order. */
static int stress_producer(void *arg)
{
	struct stress *s = arg;
	ipc_client *c;
	uint32_t id, i;
	int rc = 0;

	if (h_ipc_connect(s->sock, &c))
		return 120;
	for (i = 0; i < s->per && rc == 0; i++) {
		id = s->index * s->per + i;
		rc = ipc_queue_put(c, "stress", &id, sizeof(id), IPC_FOREVER);
	}
	ipc_close(c);
	return h_job_status(rc);
}

/* Child: get ids until an empty poison pill, writing them to a file. */
static int stress_consumer(void *arg)
{
	struct stress *s = arg;
	char path[256];
	ipc_client *c;
	void *data;
	size_t len;
	FILE *f;
	int rc;

	snprintf(path, sizeof(path), "%s/cons-%u", s->dir, s->index);
	f = fopen(path, "wb");
	if (!f)
		return 118;
	if (h_ipc_connect(s->sock, &c))
		return 120;
	for (;;) {
		rc = ipc_queue_get(c, "stress", &data, &len, h_wrapped() ? 120000 : 30000);
		if (rc)
			break;
		if (len == 0) {
			ipc_free(data);
			break;
		}
		if (len != sizeof(uint32_t) || fwrite(data, len, 1, f) != 1)
			rc = 117;
		ipc_free(data);
		if (rc)
			break;
	}
	ipc_close(c);
	if (fclose(f))
		rc = 116;
	return h_job_status(rc);
}

/* Check one consumer's file: ids new and per producer increasing. */
static size_t stress_check_file(const char *dir, unsigned k, unsigned per,
				unsigned char *seen)
{
	int64_t last[STRESS_PROD];
	char path[256];
	uint32_t id;
	size_t count = 0;
	unsigned p;
	FILE *f;

	for (p = 0; p < STRESS_PROD; p++)
		last[p] = -1;
	snprintf(path, sizeof(path), "%s/cons-%u", dir, k);
	f = fopen(path, "rb");
	ck_assert_ptr_nonnull(f);
	while (fread(&id, sizeof(id), 1, f) == 1) {
		ck_assert_uint_lt(id, STRESS_PROD * per);
		ck_assert_msg(!seen[id], "id %u delivered twice", id);
		seen[id] = 1;
		p = id / per;
		ck_assert_msg((int64_t)id > last[p],
			      "consumer %u saw producer %u's %u after %lld",
			      k, p, id, (long long)last[p]);
		last[p] = id;
		count++;
	}
	fclose(f);
	return count;
}

/* 7: 4 producers, 4 consumers, 100,000 messages through maxsize 64. */
START_TEST(test_stress)
{
	struct h_daemon d;
	struct stress prod[STRESS_PROD], cons[STRESS_CONS];
	pid_t ppid[STRESS_PROD], cpid[STRESS_CONS];
	unsigned per = 25000 / h_scale(), k;
	unsigned char *seen;
	struct ipc_info info;
	size_t total = 0;
	ipc_client *c;
	int tmo = h_wrapped() ? 600000 : 110000;

	h_start(&d);
	c = h_connect(&d);
	h_create_queue(c, "stress", 64);
	for (k = 0; k < STRESS_CONS; k++) {
		cons[k] = (struct stress){ d.sock, d.dir, k, per };
		cpid[k] = h_spawn(stress_consumer, &cons[k]);
	}
	for (k = 0; k < STRESS_PROD; k++) {
		prod[k] = (struct stress){ d.sock, d.dir, k, per };
		ppid[k] = h_spawn(stress_producer, &prod[k]);
	}
	for (k = 0; k < STRESS_PROD; k++)
		ck_assert_int_eq(h_wait_child(ppid[k], tmo), 0);
	/* FIFO puts the pills behind every id. */
	for (k = 0; k < STRESS_CONS; k++)
		ck_assert_int_eq(ipc_queue_put(c, "stress", "", 0, IPC_FOREVER), 0);
	for (k = 0; k < STRESS_CONS; k++)
		ck_assert_int_eq(h_wait_child(cpid[k], tmo), 0);

	seen = calloc(STRESS_PROD * per, 1);
	for (k = 0; k < STRESS_CONS; k++)
		total += stress_check_file(d.dir, k, per, seen);
	ck_assert_uint_eq(total, STRESS_PROD * per);
	free(seen);
	info = h_stat(c, "stress");
	ck_assert_uint_eq(info.size, 0);
	ck_assert_uint_eq(info.puts, STRESS_PROD * per + STRESS_CONS);
	ck_assert_uint_eq(info.gets, STRESS_PROD * per + STRESS_CONS);
	ck_assert_uint_eq(info.getters, 0);
	ck_assert_uint_eq(info.putters, 0);
	ipc_close(c);
	h_stop(&d);
}
END_TEST

/* Wait until a parked field of q drops to 0 after its client died. */
static void wait_unparked(ipc_client *c, const char *q, char field)
{
	h_wait_parked(c, q, field, 0);
}

/* 8: a killed client's parked get or put is cancelled, losing nothing. */
START_TEST(test_disconnect)
{
	struct h_daemon d;
	ipc_client *c;
	struct job j;
	pid_t pid;
	void *data;
	size_t len;

	h_start(&d);
	c = h_connect(&d);
	h_create_queue(c, "e", 0);
	j = (struct job){ d.sock, "e", NULL, IPC_FOREVER, -1 };
	pid = h_spawn(job_get, &j);
	h_wait_parked(c, "e", 'g', 1);
	kill(pid, SIGKILL);
	ck_assert_int_eq(h_wait_child(pid, T_CHILD_MS), 128 + SIGKILL);
	wait_unparked(c, "e", 'g');
	h_put_text(c, "e", "kept");
	ck_assert_uint_eq(h_stat(c, "e").size, 1);
	h_get_expect(c, "e", "kept", 0);

	h_create_queue(c, "f", 1);
	h_put_text(c, "f", "fill");
	j = (struct job){ d.sock, "f", "dead", IPC_FOREVER, -1 };
	pid = h_spawn(job_put, &j);
	h_wait_parked(c, "f", 'p', 1);
	kill(pid, SIGKILL);
	ck_assert_int_eq(h_wait_child(pid, T_CHILD_MS), 128 + SIGKILL);
	wait_unparked(c, "f", 'p');
	ck_assert_uint_eq(h_stat(c, "f").size, 1);
	h_get_expect(c, "f", "fill", 0);
	ck_assert_int_eq(ipc_queue_get(c, "f", &data, &len, 300), IPC_EEMPTY);
	ck_assert_uint_eq(h_stat(c, "f").puts, 1);
	ipc_close(c);
	h_stop(&d);
}
END_TEST

/* 9: deleting a queue completes its parked requests with EDELETED. */
START_TEST(test_delete_parked)
{
	struct h_daemon d;
	ipc_client *c;
	struct job jg, jp;
	pid_t pg, pp;
	struct ipc_info info;

	h_start(&d);
	c = h_connect(&d);
	h_create_queue(c, "e", 0);
	h_create_queue(c, "f", 1);
	h_put_text(c, "f", "fill");
	jg = (struct job){ d.sock, "e", NULL, IPC_FOREVER, -1 };
	jp = (struct job){ d.sock, "f", "more", IPC_FOREVER, -1 };
	pg = h_spawn(job_get, &jg);
	pp = h_spawn(job_put, &jp);
	h_wait_parked(c, "e", 'g', 1);
	h_wait_parked(c, "f", 'p', 1);
	ck_assert_int_eq(ipc_delete(c, "e"), 0);
	ck_assert_int_eq(ipc_delete(c, "f"), 0);
	ck_assert_int_eq(h_wait_child(pg, T_CHILD_MS), IPC_EDELETED);
	ck_assert_int_eq(h_wait_child(pp, T_CHILD_MS), IPC_EDELETED);
	ck_assert_int_eq(ipc_stat(c, "e", &info, sizeof(info)), IPC_ENOENT);
	ck_assert_int_eq(ipc_stat(c, "f", &info, sizeof(info)), IPC_ENOENT);
	ck_assert_int_eq(ipc_delete(c, "f"), IPC_ENOENT);
	/* The name is free again, and the new queue starts empty. */
	h_create_queue(c, "f", 1);
	ck_assert_uint_eq(h_stat(c, "f").size, 0);
	ipc_close(c);
	h_stop(&d);
}
END_TEST

/* A raw connection to the daemon, bypassing libipcclient. */
static int raw_connect(const struct h_daemon *d)
{
	struct sockaddr_un sa = { .sun_family = AF_UNIX };
	int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);

	ck_assert_int_ge(fd, 0);
	snprintf(sa.sun_path, sizeof(sa.sun_path), "%s", d->sock);
	ck_assert_int_eq(connect(fd, (struct sockaddr *)&sa, sizeof(sa)), 0);
	return fd;
}

/* Send bytes; the daemon may already have closed, which is not an error. */
static void raw_send(int fd, const void *p, size_t n)
{
	size_t off = 0;
	ssize_t r;

	while (off < n) {
		r = send(fd, (const char *)p + off, n - off, MSG_NOSIGNAL);
		if (r < 0 && errno == EINTR)
			continue;
		if (r <= 0)
			return;
		off += (size_t)r;
	}
}

/* Send a frame: 4-byte big-endian length then the payload. */
static void raw_send_frame(int fd, const void *p, size_t n)
{
	unsigned char hdr[4] = { (unsigned char)(n >> 24), (unsigned char)(n >> 16),
				 (unsigned char)(n >> 8), (unsigned char)n };

	raw_send(fd, hdr, 4);
	raw_send(fd, p, n);
}

/* Send one encoded request. */
static void raw_send_req(int fd, const struct proto_req *r)
{
	struct pbuf b;

	pbuf_init(&b);
	ck_assert_int_eq(proto_enc_req(&b, r), 0);
	raw_send(fd, b.data, b.len);
	pbuf_free(&b);
}

/* Read one frame payload into *out (malloc'd): its length, or -1 at EOF
 * or connection reset (the daemon closed). Asserts on a timeout. */
static long raw_read_frame(int fd, unsigned char **out)
{
	int64_t deadline = h_now_ms() + (h_wrapped() ? 60000 : 10000);
	struct pollfd p = { .fd = fd, .events = POLLIN };
	unsigned char *buf = NULL;
	size_t have = 0, want = 4;
	ssize_t r;

	for (;;) {
		if (have == 4 && want == 4) {
			want = 4 + ((size_t)buf[0] << 24 | (size_t)buf[1] << 16 |
				    (size_t)buf[2] << 8 | buf[3]);
			ck_assert_uint_le(want, 4 + PROTO_FRAME_MAX);
		}
		if (have == want && want > 4)
			break;
		ck_assert_msg(h_now_ms() < deadline,
			      "daemon neither replied nor closed");
		if (poll(&p, 1, 100) <= 0)
			continue;
		buf = realloc(buf, want);
		r = recv(fd, buf + have, want - have, 0);
		if (r < 0 && errno == EINTR)
			continue;
		if (r == 0 || (r < 0 && errno == ECONNRESET)) {
			ck_assert_msg(have == 0, "daemon closed mid-frame");
			free(buf);
			return -1;
		}
		ck_assert_msg(r > 0, "recv: %s", strerror(errno));
		have += (size_t)r;
	}
	memmove(buf, buf + 4, want - 4);
	*out = buf;
	return (long)want - 4;
}

/* The status field of a reply payload [id, status, ...]. */
static long long raw_status(const unsigned char *p, long n)
{
	msgpack_unpacked u;
	msgpack_object o;
	long long st;

	msgpack_unpacked_init(&u);
	ck_assert_int_eq(msgpack_unpack_next(&u, (const char *)p, (size_t)n, NULL),
			 MSGPACK_UNPACK_SUCCESS);
	o = u.data;
	ck_assert_int_eq(o.type, MSGPACK_OBJECT_ARRAY);
	ck_assert_uint_ge(o.via.array.size, 2);
	o = o.via.array.ptr[1];
	ck_assert(o.type == MSGPACK_OBJECT_POSITIVE_INTEGER ||
		  o.type == MSGPACK_OBJECT_NEGATIVE_INTEGER);
	st = o.type == MSGPACK_OBJECT_POSITIVE_INTEGER ?
	     (long long)o.via.u64 : (long long)o.via.i64;
	msgpack_unpacked_destroy(&u);
	return st;
}

/* Read one reply and return its status. */
static long long raw_reply_status(int fd)
{
	unsigned char *p = NULL;
	long n = raw_read_frame(fd, &p);
	long long st;

	ck_assert_msg(n >= 0, "daemon closed instead of replying");
	st = raw_status(p, n);
	free(p);
	return st;
}

/* A raw connection that has done its HELLO. */
static int raw_hello(const struct h_daemon *d)
{
	struct proto_req r = { .op = PROTO_OP_HELLO, .id = 1,
			       .version = IPC_PROTO_VERSION };
	int fd = raw_connect(d);

	raw_send_req(fd, &r);
	ck_assert_int_eq(raw_reply_status(fd), 0);
	return fd;
}

/* Expect the daemon to close (EOF), perhaps after EPROTO replies. */
static void raw_expect_close(int fd)
{
	unsigned char *p = NULL;
	long n;

	while ((n = raw_read_frame(fd, &p)) >= 0) {
		ck_assert_int_eq(raw_status(p, n), IPC_EPROTO);
		free(p);
		p = NULL;
	}
	close(fd);
}

/* Expect one EPROTO reply, then the daemon closing the connection. */
static void raw_expect_eproto(int fd)
{
	ck_assert_int_eq(raw_reply_status(fd), IPC_EPROTO);
	raw_expect_close(fd);
}

/* After an attack: a normal client still works and "keep" is intact. */
static void raw_check_alive(const struct h_daemon *d)
{
	ipc_client *c = h_connect(d);

	h_put_text(c, "probe", "ping");
	h_get_expect(c, "probe", "ping", 0);
	ck_assert_uint_eq(h_stat(c, "keep").size, 10);
	ipc_close(c);
}

/* A client that pipelines blocking gets can park at most CONN_PARKS_MAX
 * (4096) of them; the next is refused with IPC_ELIMIT, nothing else
 * changes, and closing the connection unparks them all. */
START_TEST(test_parks_bound)
{
	struct h_daemon d;
	ipc_client *c;
	struct proto_req r = { .op = PROTO_OP_QGET, .timeout_ms = -1 };
	int fd;

	h_start(&d);
	c = h_connect(&d);
	h_create_queue(c, "pk", 0);
	fd = raw_hello(&d);
	strcpy(r.name, "pk");
	for (uint32_t i = 1; i <= 4096; i++) {
		r.id = 1 + i;
		raw_send_req(fd, &r);
	}
	r.id = 1 + 4097;
	raw_send_req(fd, &r);
	/* Parked requests send nothing: the first reply is the refusal. */
	ck_assert_int_eq(raw_reply_status(fd), IPC_ELIMIT);
	ck_assert_uint_eq(h_stat(c, "pk").getters, 4096);
	close(fd);
	h_wait_parked(c, "pk", 'g', 0);
	h_put_text(c, "pk", "after");
	h_get_expect(c, "pk", "after", 0);
	ipc_close(c);
	h_stop(&d);
}
END_TEST

/* (a) a header announcing 16 MiB, over the frame limit. */
static void attack_huge_header(const struct h_daemon *d)
{
	static const unsigned char hdr[4] = { 0x01, 0x00, 0x00, 0x00 };
	int fd = raw_hello(d);

	raw_send(fd, hdr, 4);
	raw_expect_eproto(fd);
}

/* (b) a valid frame whose msgpack claims a 4-billion-element array. */
static void attack_array32(const struct h_daemon *d)
{
	static const unsigned char body[5] = { 0xdd, 0xff, 0xff, 0xff, 0xff };
	int fd = raw_hello(d);

	raw_send_frame(fd, body, sizeof(body));
	raw_expect_eproto(fd);
}

/* (c) arrays nested 100 deep. */
static void attack_deep(const struct h_daemon *d)
{
	unsigned char body[100];
	int fd = raw_hello(d);

	memset(body, 0x91, sizeof(body));
	body[99] = 0x90;
	raw_send_frame(fd, body, sizeof(body));
	raw_expect_eproto(fd);
}

/* (d) op 99, unknown. */
static void attack_unknown_op(const struct h_daemon *d)
{
	static const unsigned char body[] = { 0x92, 99, 7 };
	int fd = raw_hello(d);

	raw_send_frame(fd, body, sizeof(body));
	raw_expect_eproto(fd);
}

/* (e) QOPEN with the name as an integer. */
static void attack_wrong_type(const struct h_daemon *d)
{
	/* [2, 7, 5, 0, 1] */
	static const unsigned char body[] = { 0x95, 2, 7, 5, 0, 1 };
	int fd = raw_hello(d);

	raw_send_frame(fd, body, sizeof(body));
	raw_expect_eproto(fd);
}

/* (f) half a frame, then the client goes away. */
static void attack_truncated(const struct h_daemon *d)
{
	static const unsigned char part[] = { 0, 0, 0, 100, 0x95, 3, 7, 0xa4 };
	int fd = raw_hello(d);

	raw_send(fd, part, sizeof(part));
	shutdown(fd, SHUT_WR);
	raw_expect_close(fd);
	/* And once more with a plain close and nobody reading. */
	fd = raw_hello(d);
	raw_send(fd, part, sizeof(part));
	close(fd);
}

/* (g) a put before HELLO: refused, and nothing is enqueued. */
static void attack_no_hello(const struct h_daemon *d)
{
	struct proto_req r = { .op = PROTO_OP_QPUT, .id = 3, .data =
			       (const unsigned char *)"x", .data_len = 1 };
	int fd = raw_connect(d);

	snprintf(r.name, sizeof(r.name), "keep");
	raw_send_req(fd, &r);
	raw_expect_eproto(fd);
}

/* (h) seeded random bytes, with and without HELLO first. */
static void attack_random(const struct h_daemon *d, unsigned seed)
{
	unsigned char buf[4096];
	size_t i, n;
	int fd;

	srand(seed);
	n = 1 + (size_t)rand() % sizeof(buf);
	for (i = 0; i < n; i++)
		buf[i] = (unsigned char)rand();
	fd = seed % 2 ? raw_hello(d) : raw_connect(d);
	raw_send(fd, buf, n);
	shutdown(fd, SHUT_WR);
	raw_expect_close(fd);
}

/* (i) an oversize put is answered ETOOBIG and the connection stays. */
static void attack_too_big(const struct h_daemon *d, size_t msg_max)
{
	struct proto_req r = { .op = PROTO_OP_QPUT, .id = 5 };
	unsigned char *big = calloc(1, msg_max + 1);
	int fd = raw_hello(d);

	snprintf(r.name, sizeof(r.name), "probe");
	r.data = big;
	r.data_len = msg_max + 1;
	raw_send_req(fd, &r);
	ck_assert_int_eq(raw_reply_status(fd), IPC_ETOOBIG);
	r = (struct proto_req){ .op = PROTO_OP_STAT, .id = 6 };
	snprintf(r.name, sizeof(r.name), "keep");
	raw_send_req(fd, &r);
	ck_assert_int_eq(raw_reply_status(fd), 0);
	close(fd);
	free(big);
}

/* Send QOPEN [2, 9, name, 0, CREATE] with the name as raw str bytes. */
static void raw_send_open(int fd, const char *name, size_t len)
{
	unsigned char body[8 + IPC_NAME_MAX * 2];
	size_t n = 0;

	ck_assert_uint_lt(len, 256);
	body[n++] = 0x95;
	body[n++] = PROTO_OP_QOPEN;
	body[n++] = 9;
	body[n++] = 0xd9;           /* str 8 */
	body[n++] = (unsigned char)len;
	memcpy(body + n, name, len);
	n += len;
	body[n++] = 0;
	body[n++] = PROTO_OPEN_CREATE;
	raw_send_frame(fd, body, n);
}

/* (j) invalid names reach the daemon itself: ENAME, connection kept. */
static void attack_bad_names(const struct h_daemon *d)
{
	char longname[IPC_NAME_MAX + 1];
	struct proto_req r = { .op = PROTO_OP_STAT, .id = 6 };
	int fd = raw_hello(d);

	memset(longname, 'a', sizeof(longname));
	raw_send_open(fd, "", 0);
	ck_assert_int_eq(raw_reply_status(fd), IPC_ENAME);
	raw_send_open(fd, longname, sizeof(longname));
	ck_assert_int_eq(raw_reply_status(fd), IPC_ENAME);
	raw_send_open(fd, "a b", 3);
	ck_assert_int_eq(raw_reply_status(fd), IPC_ENAME);
	raw_send_open(fd, ".x", 2);
	ck_assert_int_eq(raw_reply_status(fd), IPC_ENAME);
	raw_send_open(fd, "a\0b", 3);
	ck_assert_int_eq(raw_reply_status(fd), IPC_ENAME);
	raw_send_open(fd, "fine", 4);
	ck_assert_int_eq(raw_reply_status(fd), 0);
	snprintf(r.name, sizeof(r.name), "keep");
	raw_send_req(fd, &r);
	ck_assert_int_eq(raw_reply_status(fd), 0);
	close(fd);
}

/* 10: malformed input gets EPROTO and a closed connection, nothing else. */
START_TEST(test_malformed)
{
	struct h_daemon d;
	ipc_client *c;
	char msg[16];
	size_t msg_max;
	unsigned i;

	h_start(&d);
	c = h_connect(&d);
	msg_max = ipc_msg_max(c);
	h_create_queue(c, "keep", 0);
	h_create_queue(c, "probe", 0);
	for (i = 0; i < 10; i++) {
		snprintf(msg, sizeof(msg), "m%u", i);
		h_put_text(c, "keep", msg);
	}
	attack_huge_header(&d);
	raw_check_alive(&d);
	attack_array32(&d);
	raw_check_alive(&d);
	attack_deep(&d);
	raw_check_alive(&d);
	attack_unknown_op(&d);
	raw_check_alive(&d);
	attack_wrong_type(&d);
	raw_check_alive(&d);
	attack_truncated(&d);
	raw_check_alive(&d);
	attack_no_hello(&d);
	raw_check_alive(&d);
	for (i = 1; i <= 20; i++)
		attack_random(&d, i);
	raw_check_alive(&d);
	attack_too_big(&d, msg_max);
	raw_check_alive(&d);
	attack_bad_names(&d);
	raw_check_alive(&d);

	/* The first connection was never disturbed. */
	for (i = 0; i < 10; i++) {
		snprintf(msg, sizeof(msg), "m%u", i);
		h_get_expect(c, "keep", msg, 0);
	}
	ipc_close(c);
	h_stop(&d);
}
END_TEST

/* --- abuse: more bad input, half-open and slow clients, while a producer
 * and a consumer elsewhere keep moving messages ------------------------- */

/* (k) huge map, array16, str32 and bin32 headers, and nested maps. */
static void attack_headers(const struct h_daemon *d)
{
	static const unsigned char map32[] = { 0xdf, 0xff, 0xff, 0xff, 0xff };
	static const unsigned char arr16[] = { 0xdc, 0xff, 0xff, 0x01 };
	static const unsigned char str32[] = { 0x93, 0x05, 0x01, 0xdb, 0xff,
					       0xff, 0xff, 0xff, 0x61 };
	static const unsigned char bin32[] = { 0x95, 0x03, 0x01, 0xa1, 0x71, 0xc6,
					       0x7f, 0xff, 0xff, 0xff, 0x00 };
	unsigned char maps[101];
	int fd, i;

	fd = raw_hello(d);
	raw_send_frame(fd, map32, sizeof(map32));
	raw_expect_eproto(fd);
	fd = raw_hello(d);
	raw_send_frame(fd, arr16, sizeof(arr16));
	raw_expect_eproto(fd);
	fd = raw_hello(d);
	raw_send_frame(fd, str32, sizeof(str32));
	raw_expect_eproto(fd);
	fd = raw_hello(d);
	raw_send_frame(fd, bin32, sizeof(bin32));
	raw_expect_eproto(fd);
	/* {1: {1: {1: ... 50 deep */
	for (i = 0; i < 50; i++) {
		maps[2 * i] = 0x81;
		maps[2 * i + 1] = 0x01;
	}
	maps[100] = 0xc0;
	fd = raw_hello(d);
	raw_send_frame(fd, maps, sizeof(maps));
	raw_expect_eproto(fd);
}

/* (l) frame lengths of 0, PROTO_FRAME_MAX + 1 and 2^32 - 1. */
static void attack_lengths(const struct h_daemon *d)
{
	static const uint32_t lens[] = { 0, PROTO_FRAME_MAX + 1, 0xffffffffu };
	unsigned char hdr[4];
	size_t i;
	int fd;

	for (i = 0; i < sizeof(lens) / sizeof(lens[0]); i++) {
		hdr[0] = (unsigned char)(lens[i] >> 24);
		hdr[1] = (unsigned char)(lens[i] >> 16);
		hdr[2] = (unsigned char)(lens[i] >> 8);
		hdr[3] = (unsigned char)lens[i];
		fd = raw_hello(d);
		raw_send(fd, hdr, 4);
		raw_expect_eproto(fd);
	}
}

/* (m) names that are not ASCII: invalid UTF-8, and valid but foreign. */
static void attack_utf8_names(const struct h_daemon *d)
{
	static const char *const bad[] = { "\xc3\x28", "\xff\xfe", "caf\xc3\xa9",
					   "\xed\xa0\x80", "q\xc0\x80" };
	size_t i;
	int fd = raw_hello(d);

	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		raw_send_open(fd, bad[i], strlen(bad[i]));
		ck_assert_int_eq(raw_reply_status(fd), IPC_ENAME);
	}
	raw_send_open(fd, "utf8-ok", 7);
	ck_assert_int_eq(raw_reply_status(fd), 0);
	close(fd);
}

/* (n) half-open with requests parked, and with a message in flight: the
 * daemon drops the client, cancels its parks and gives the message back. */
static void attack_half_open(const struct h_daemon *d, ipc_client *c)
{
	struct proto_req get = { .op = PROTO_OP_QGET, .id = 2, .name = "probe",
				 .timeout_ms = -1 };
	struct proto_req geta = { .op = PROTO_OP_QGETA, .id = 3, .name = "probe",
				  .timeout_ms = -1 };
	int fd = raw_hello(d);

	raw_send_req(fd, &get);
	raw_send_req(fd, &geta);
	h_wait_parked(c, "probe", 'g', 2);
	shutdown(fd, SHUT_WR);
	raw_expect_close(fd);
	h_wait_parked(c, "probe", 'g', 0);
	/* Now one taken with ack, then the half-close. */
	h_put_text(c, "inflight", "held");
	fd = raw_hello(d);
	snprintf(geta.name, sizeof(geta.name), "inflight");
	geta.timeout_ms = 0;
	raw_send_req(fd, &geta);
	ck_assert_int_eq(raw_reply_status(fd), 0);
	ck_assert_uint_eq(h_stat(c, "inflight").inflight, 1);
	shutdown(fd, SHUT_WR);
	raw_expect_close(fd);
	h_get_expect(c, "inflight", "held", 5000);
}

/* (o) bad at-least-once fields: a lease below 0 is answered, a tag that is
 * not an unsigned integer breaks the connection. */
static void attack_ack_fields(const struct h_daemon *d)
{
	struct proto_req geta = { .op = PROTO_OP_QGETA, .id = 4, .name = "probe",
				  .lease_ms = -5 };
	/* [17, 5, "probe", -1] */
	static const unsigned char ack[] = { 0x94, 0x11, 0x05, 0xa5, 'p', 'r',
					     'o', 'b', 'e', 0xff };
	int fd = raw_hello(d);

	raw_send_req(fd, &geta);
	ck_assert_int_eq(raw_reply_status(fd), IPC_EINVAL);
	raw_send_frame(fd, ack, sizeof(ack));
	raw_expect_eproto(fd);
}

/* (p) a client that sends one byte per second: the daemon serves everyone
 * else meanwhile and answers it once its frame is whole. */
static void attack_slow(const struct h_daemon *d, ipc_client *c)
{
	struct proto_req r = { .op = PROTO_OP_HELLO, .id = 1,
			       .version = IPC_PROTO_VERSION };
	struct proto_req st = { .op = PROTO_OP_STAT, .id = 2, .name = "keep" };
	struct pbuf b;
	size_t i;
	int fd = raw_connect(d);

	pbuf_init(&b);
	ck_assert_int_eq(proto_enc_req(&b, &r), 0);
	for (i = 0; i < 3; i++) {
		raw_send(fd, b.data + i, 1);
		h_put_text(c, "probe", "between");
		h_get_expect(c, "probe", "between", 0);
		sleep(1);
	}
	raw_send(fd, b.data + 3, b.len - 3);
	ck_assert_int_eq(raw_reply_status(fd), 0);
	raw_send_req(fd, &st);
	ck_assert_int_eq(raw_reply_status(fd), 0);
	close(fd);
	pbuf_free(&b);
}

#define ABUSE_FLOW 3000

/* Child: put ABUSE_FLOW numbered messages on "flow". */
static int abuse_put(void *arg)
{
	const struct h_daemon *d = arg;
	ipc_client *c;
	uint32_t i;

	if (h_ipc_connect(d->sock, &c))
		return 120;
	for (i = 0; i < ABUSE_FLOW; i++) {
		if (ipc_queue_put(c, "flow", &i, sizeof(i), IPC_FOREVER))
			return 10;
		if (i % 100 == 0)
			usleep(10000);
	}
	ipc_close(c);
	return 0;
}

/* Child: get them all, in order, none missing. */
static int abuse_get(void *arg)
{
	const struct h_daemon *d = arg;
	ipc_client *c;
	uint32_t i, v;
	void *data;
	size_t len;

	if (h_ipc_connect(d->sock, &c))
		return 120;
	for (i = 0; i < ABUSE_FLOW; i++) {
		if (ipc_queue_get(c, "flow", &data, &len, 30000) || len != sizeof(v))
			return 11;
		memcpy(&v, data, sizeof(v));
		ipc_free(data);
		if (v != i)
			return 12;
	}
	ipc_close(c);
	return 0;
}

/* 10b: more abuse, while a producer and a consumer keep moving messages. */
START_TEST(test_abuse)
{
	struct h_daemon d;
	ipc_client *c;
	char msg[16];
	pid_t pp, pg;
	unsigned i;

	h_start(&d);
	c = h_connect(&d);
	h_create_queue(c, "keep", 0);
	h_create_queue(c, "probe", 0);
	h_create_queue(c, "inflight", 0);
	h_create_queue(c, "flow", 10);
	for (i = 0; i < 10; i++) {
		snprintf(msg, sizeof(msg), "m%u", i);
		h_put_text(c, "keep", msg);
	}
	pg = h_spawn(abuse_get, &d);
	pp = h_spawn(abuse_put, &d);
	attack_headers(&d);
	raw_check_alive(&d);
	attack_lengths(&d);
	raw_check_alive(&d);
	attack_utf8_names(&d);
	raw_check_alive(&d);
	attack_half_open(&d, c);
	raw_check_alive(&d);
	attack_ack_fields(&d);
	raw_check_alive(&d);
	attack_slow(&d, c);
	raw_check_alive(&d);
	for (i = 100; i < 120; i++)
		attack_random(&d, i);
	raw_check_alive(&d);
	ck_assert_int_eq(h_wait_child(pp, T_CHILD_MS), 0);
	ck_assert_int_eq(h_wait_child(pg, T_CHILD_MS), 0);
	for (i = 0; i < 10; i++) {
		snprintf(msg, sizeof(msg), "m%u", i);
		h_get_expect(c, "keep", msg, 0);
	}
	ck_assert_uint_eq(h_stat(c, "inflight").inflight, 0);
	ipc_close(c);
	h_stop(&d);
}
END_TEST

/* The binary message ipcctl put reads from stdin in the ipcctl tests. */
static const char ctl_bin[] = "a\0b\n\0\xff";

/* Start ipcd on d and, through ipcctl, create "jobs" (maxsize 2) and fill
 * it with "hello" (an argument) and ctl_bin (stdin); a put on the full
 * queue with --nowait exits 4 saying why in one line. */
static void ctl_jobs(struct h_daemon *d)
{
	struct h_buf err;

	h_start(d);
	ck_assert_int_eq(h_run_ipcctl(d, NULL, 0, NULL, NULL, "create", "jobs",
				      "--maxsize", "2", NULL), 0);
	ck_assert_int_eq(h_run_ipcctl(d, NULL, 0, NULL, NULL, "put", "jobs",
				      "hello", NULL), 0);
	ck_assert_int_eq(h_run_ipcctl(d, ctl_bin, sizeof(ctl_bin), NULL, NULL, "put",
				      "jobs", NULL), 0);
	ck_assert_int_eq(h_run_ipcctl(d, NULL, 0, NULL, &err, "put", "jobs",
				      "x", "--nowait", NULL), 4);
	ck_assert_uint_eq(h_count_lines(err.data), 1);
	h_buf_free(&err);
}

/* 11a: ipcctl create of an existing queue exits 1 with one line; ls and
 * stat show the queue, its size and maxsize. */
START_TEST(test_ipcctl_create_ls_stat)
{
	struct h_daemon d;
	struct h_buf out, err;

	ctl_jobs(&d);
	ck_assert_int_eq(h_run_ipcctl(&d, NULL, 0, NULL, &err, "create", "jobs",
				      NULL), 1);
	ck_assert_uint_eq(h_count_lines(err.data), 1);
	h_buf_free(&err);
	ck_assert_int_eq(h_run_ipcctl(&d, NULL, 0, &out, NULL, "ls", NULL), 0);
	ck_assert_uint_eq(h_count_lines(out.data), 2);
	ck_assert_ptr_nonnull(strstr(out.data, "jobs"));
	h_buf_free(&out);
	ck_assert_int_eq(h_run_ipcctl(&d, NULL, 0, &out, NULL, "stat", "jobs",
				      NULL), 0);
	ck_assert_ptr_nonnull(strstr(out.data, "name: jobs\n"));
	ck_assert_ptr_nonnull(strstr(out.data, "size: 2\n"));
	ck_assert_ptr_nonnull(strstr(out.data, "maxsize: 2\n"));
	h_buf_free(&out);
	h_stop(&d);
}
END_TEST

/* 11a: ipcctl get prints the messages byte for byte, in order; on an
 * empty queue with --nowait it prints nothing and exits 3. */
START_TEST(test_ipcctl_get)
{
	struct h_daemon d;
	struct h_buf out;

	ctl_jobs(&d);
	ck_assert_int_eq(h_run_ipcctl(&d, NULL, 0, &out, NULL, "get", "jobs",
				      NULL), 0);
	ck_assert_uint_eq(out.len, 5);
	ck_assert_mem_eq(out.data, "hello", 5);
	h_buf_free(&out);
	ck_assert_int_eq(h_run_ipcctl(&d, NULL, 0, &out, NULL, "get", "jobs",
				      "--timeout", "1", NULL), 0);
	ck_assert_uint_eq(out.len, sizeof(ctl_bin));
	ck_assert_mem_eq(out.data, ctl_bin, sizeof(ctl_bin));
	h_buf_free(&out);
	ck_assert_int_eq(h_run_ipcctl(&d, NULL, 0, &out, NULL, "get", "jobs",
				      "--nowait", NULL), 3);
	ck_assert_uint_eq(out.len, 0);
	h_buf_free(&out);
	h_stop(&d);
}
END_TEST

/* 11a: ipcctl rm deletes the queue (with its messages); rm of a missing
 * one exits 1 with one line on stderr and nothing on stdout. */
START_TEST(test_ipcctl_rm)
{
	struct h_daemon d;
	struct h_buf out, err;

	ctl_jobs(&d);
	ck_assert_int_eq(h_run_ipcctl(&d, NULL, 0, NULL, NULL, "rm", "jobs",
				      NULL), 0);
	ck_assert_int_eq(h_run_ipcctl(&d, NULL, 0, &out, &err, "rm", "jobs",
				      NULL), 1);
	ck_assert_uint_eq(h_count_lines(err.data), 1);
	ck_assert_uint_eq(out.len, 0);
	h_buf_free(&out);
	h_buf_free(&err);
	ck_assert_int_eq(h_run_ipcctl(&d, NULL, 0, &out, NULL, "ls", NULL), 0);
	ck_assert_uint_eq(h_count_lines(out.data), 1);
	h_buf_free(&out);
	h_stop(&d);
}
END_TEST

/* 11b: ipcctl usage errors exit 2 (an unknown command says so), a
 * missing queue exits 1 with one line. */
START_TEST(test_ipcctl_usage_errors)
{
	struct h_daemon d;
	struct h_buf err;

	h_start(&d);
	ck_assert_int_eq(h_run_ipcctl(&d, NULL, 0, NULL, &err, "frobnicate",
				      NULL), 2);
	ck_assert_uint_ge(h_count_lines(err.data), 1);
	h_buf_free(&err);
	ck_assert_int_eq(h_run_ipcctl(&d, NULL, 0, NULL, NULL, "create", "q",
				      NULL), 0);
	ck_assert_int_eq(h_run_ipcctl(&d, NULL, 0, NULL, NULL, "get", "q",
				      "--timeout", "soon", NULL), 2);
	ck_assert_int_eq(h_run_ipcctl(&d, NULL, 0, NULL, NULL, "get", "q",
				      "--timeout", "-1", NULL), 2);
	ck_assert_int_eq(h_run_ipcctl(&d, NULL, 0, NULL, NULL, "get", NULL), 2);
	ck_assert_int_eq(h_run_ipcctl(&d, NULL, 0, NULL, &err, "get", "nope",
				      "--nowait", NULL), 1);
	ck_assert_uint_eq(h_count_lines(err.data), 1);
	h_buf_free(&err);
	h_stop(&d);
}
END_TEST

/* 11b: ipcctl get --timeout 0.2 on an empty queue waits that long, then
 * exits 3. */
START_TEST(test_ipcctl_get_timeout)
{
	struct h_daemon d;
	int64_t t0, ms;

	h_start(&d);
	ck_assert_int_eq(h_run_ipcctl(&d, NULL, 0, NULL, NULL, "create", "q",
				      NULL), 0);
	t0 = h_now_ms();
	ck_assert_int_eq(h_run_ipcctl(&d, NULL, 0, NULL, NULL, "get", "q",
				      "--timeout", "0.2", NULL), 3);
	ms = h_now_ms() - t0;
	ck_assert_msg(ms >= 200, "get --timeout 0.2 returned after %lld ms",
		      (long long)ms);
	h_stop(&d);
}
END_TEST

/* 11b: without -s, ipcctl takes the socket from IPCD_SOCKET. */
START_TEST(test_ipcctl_socket_env)
{
	struct h_daemon d;
	struct h_buf out;
	char *argv[5];

	h_start(&d);
	ck_assert_int_eq(h_run_ipcctl(&d, NULL, 0, NULL, NULL, "create", "q",
				      NULL), 0);
	ck_assert_int_eq(setenv("IPCD_SOCKET", d.sock, 1), 0);
	argv[0] = (char *)h_bin("IPCCTL_BIN");
	argv[1] = "put";
	argv[2] = "q";
	argv[3] = "via-env";
	argv[4] = NULL;
	ck_assert_int_eq(h_run(argv, NULL, 0, NULL, NULL, 15000), 0);
	argv[1] = "get";
	argv[3] = NULL;
	ck_assert_int_eq(h_run(argv, NULL, 0, &out, NULL, 15000), 0);
	ck_assert_str_eq(out.data, "via-env");
	h_buf_free(&out);
	unsetenv("IPCD_SOCKET");
	h_stop(&d);
}
END_TEST

/* The values after "WORD value " in dir/NAME-ROLE.out, one per line,
 * joined with spaces; their count in *n. */
static char *demo_values(const struct h_daemon *d, const char *role,
			 const char *name, const char *word, unsigned *n)
{
	char path[256], line[256], key[32], *p, *res = calloc(1, 4096);
	FILE *f;

	snprintf(path, sizeof(path), "%s/%s-%s.out", d->dir, name, role);
	snprintf(key, sizeof(key), "%s value ", word);
	f = fopen(path, "r");
	ck_assert_ptr_nonnull(f);
	*n = 0;
	while (fgets(line, sizeof(line), f)) {
		p = strstr(line, key);
		if (!p)
			continue;
		p += strlen(key);
		p[strcspn(p, "\r\n")] = '\0';
		strcat(res, p);
		strcat(res, " ");
		(*n)++;
	}
	fclose(f);
	return res;
}

/* Check one run: the getter printed the putter's 5 values in order. */
static void demo_check(const struct h_daemon *d, const char *name)
{
	unsigned np, ng;
	char *put = demo_values(d, "putter", name, "put", &np);
	char *got = demo_values(d, "getter", name, "get", &ng);

	ck_assert_uint_eq(np, 5);
	ck_assert_uint_eq(ng, 5);
	ck_assert_str_eq(got, put);
	free(put);
	free(got);
}

/* Wait until the demo created queue q and one request parks on it. */
static void demo_wait_parked(ipc_client *c, const char *q, char field)
{
	int64_t end = h_now_ms() + (h_wrapped() ? 60000 : 10000);
	struct ipc_info info;

	while (ipc_stat(c, q, &info, sizeof(info)) != 0) {
		ck_assert_msg(h_now_ms() < end, "queue_demo never created %s", q);
		usleep(5000);
	}
	h_wait_parked(c, q, field, 1);
}

/* 12: queue_demo in both start orders, in parallel. The getters stop
 * once nothing came for `idle` ms: enough for the putter to start (the
 * gfirst getter waits for it), far less than the demo's default 10 s. */
START_TEST(test_queue_demo)
{
	struct h_daemon d;
	ipc_client *c;
	pid_t g1, p1, g2, p2;
	int tmo = h_wrapped() ? 120000 : 40000;
	int idle = h_wrapped() ? 6000 : 2000;

	h_start(&d);
	c = h_connect(&d);
	/* Getter first: it creates the queue and parks. */
	g1 = h_spawn_demo(&d, "QUEUE_DEMO_BIN", "getter", "gfirst", idle);
	demo_wait_parked(c, "gfirst", 'g');
	p1 = h_spawn_demo(&d, "QUEUE_DEMO_BIN", "putter", "gfirst", tmo);
	/* Putter first: it fills the queue (maxsize 2) and parks. */
	p2 = h_spawn_demo(&d, "QUEUE_DEMO_BIN", "putter", "pfirst", tmo);
	demo_wait_parked(c, "pfirst", 'p');
	ck_assert_uint_eq(h_stat(c, "pfirst").size, 2);
	g2 = h_spawn_demo(&d, "QUEUE_DEMO_BIN", "getter", "pfirst", idle);

	ck_assert_int_eq(h_wait_child(p1, tmo), 0);
	ck_assert_int_eq(h_wait_child(p2, tmo), 0);
	ck_assert_int_eq(h_wait_child(g1, tmo), 0);
	ck_assert_int_eq(h_wait_child(g2, tmo), 0);
	demo_check(&d, "gfirst");
	demo_check(&d, "pfirst");
	ipc_close(c);
	h_stop(&d);
}
END_TEST

/* Run example env (QUEUE_DEMO_BIN, PIPE_DEMO_BIN) on d with arguments
 * a1..a4 (a NULL ends them), capturing out and err; its exit status. */
static int demo_run(const struct h_daemon *d, const char *env, struct h_buf *out,
		    struct h_buf *err, const char *a1, const char *a2,
		    const char *a3, const char *a4)
{
	char *argv[] = { (char *)h_bin(env), "-s", (char *)d->sock, (char *)a1,
			 (char *)a2, (char *)a3, (char *)a4, NULL };

	return h_run(argv, NULL, 0, out, err, 20000);
}

/* 12b: the demos' --help and --timeout: a getter on an empty queue stops
 * after the timeout, a receiver with no sender fails after it. */
START_TEST(test_demo_options)
{
	struct h_buf out, err;
	struct h_daemon d;
	int64_t t0;

	h_start(&d);
	ck_assert_int_eq(demo_run(&d, "QUEUE_DEMO_BIN", &out, NULL, "--help", NULL,
				  NULL, NULL), 0);
	ck_assert_ptr_nonnull(strstr(out.data, "--timeout MS"));
	h_buf_free(&out);
	ck_assert_int_eq(demo_run(&d, "PIPE_DEMO_BIN", &out, NULL, "-h", NULL,
				  NULL, NULL), 0);
	ck_assert_ptr_nonnull(strstr(out.data, "--timeout MS"));
	h_buf_free(&out);
	ck_assert_int_eq(demo_run(&d, "QUEUE_DEMO_BIN", NULL, NULL, "--timeout", "-3",
				  "getter", "q"), 2);
	t0 = h_now_ms();
	ck_assert_int_eq(demo_run(&d, "QUEUE_DEMO_BIN", &out, NULL, "--timeout", "300",
				  "getter", "q"), 0);
	ck_assert_int_ge(h_now_ms() - t0, 300);
	ck_assert_ptr_null(strstr(out.data, "get value"));
	h_buf_free(&out);
	ck_assert_int_eq(demo_run(&d, "PIPE_DEMO_BIN", NULL, &err, "-t", "300",
				  "receiver", "p"), 1);
	ck_assert_ptr_nonnull(strstr(err.data, "pipe_demo: recv:"));
	h_buf_free(&err);
	h_stop(&d);
}
END_TEST

/* 13a: a second ipcd on a live socket refuses; the first keeps serving. */
START_TEST(test_second_daemon)
{
	struct h_daemon d;
	struct h_buf err;
	ipc_client *c;
	char *argv[4];
	int rc;

	h_start(&d);
	c = h_connect(&d);
	h_create_queue(c, "q", 0);
	h_put_text(c, "q", "before");
	argv[0] = (char *)h_bin("IPCD_BIN");
	argv[1] = "-s";
	argv[2] = d.sock;
	argv[3] = NULL;
	rc = h_run(argv, NULL, 0, NULL, &err, 10000);
	ck_assert_msg(rc != 0 && rc < 128,
		      "second ipcd: status %d, stderr: %s", rc, err.data);
	h_buf_free(&err);
	ck_assert_int_eq(access(d.sock, F_OK), 0);
	ipc_close(c);
	c = h_connect(&d);
	h_put_text(c, "q", "after");
	h_get_expect(c, "q", "before", 0);
	h_get_expect(c, "q", "after", 0);
	ipc_close(c);
	h_stop(&d);
}
END_TEST

/* 13b: a stale socket file is replaced. */
START_TEST(test_stale_socket)
{
	struct sockaddr_un sa = { .sun_family = AF_UNIX };
	struct h_daemon d;
	ipc_client *c;
	int fd;

	h_prepare(&d);
	fd = socket(AF_UNIX, SOCK_STREAM, 0);
	ck_assert_int_ge(fd, 0);
	snprintf(sa.sun_path, sizeof(sa.sun_path), "%s", d.sock);
	ck_assert_int_eq(bind(fd, (struct sockaddr *)&sa, sizeof(sa)), 0);
	close(fd);
	ck_assert_int_eq(access(d.sock, F_OK), 0);
	h_launch(&d);
	c = h_connect(&d);
	h_create_queue(c, "q", 0);
	h_put_text(c, "q", "x");
	h_get_expect(c, "q", "x", 0);
	ipc_close(c);
	h_stop(&d);
}
END_TEST

/* 14: SIGINT stops ipcd cleanly too, with clients and data around. */
START_TEST(test_sigint)
{
	struct h_daemon d;
	ipc_client *c;

	h_start(&d);
	c = h_connect(&d);
	h_create_queue(c, "q", 0);
	h_put_text(c, "q", "left behind");
	h_stop_sig(&d, SIGINT);
	ipc_close(c);
}
END_TEST

/* 14b: SIGTERM with a parked getter: it is released, ipcd exits 0. */
START_TEST(test_stop_parked)
{
	struct h_daemon d;
	ipc_client *c;
	struct job j;
	pid_t pid;
	int st;

	h_start(&d);
	c = h_connect(&d);
	h_create_queue(c, "e", 0);
	h_create_queue(c, "f", 1);
	h_put_text(c, "f", "fill");
	j = (struct job){ d.sock, "e", NULL, IPC_FOREVER, -1 };
	pid = h_spawn(job_get, &j);
	h_wait_parked(c, "e", 'g', 1);
	h_stop(&d);
	st = h_wait_child(pid, T_CHILD_MS);
	ck_assert_msg(st == IPC_ESHUTDOWN || st == h_job_status(IPC_EIO),
		      "parked getter ended with %d", st);
	ipc_close(c);
}
END_TEST

#define MANY 300

/* 15: 300 connections at once, each a put then a get. */
START_TEST(test_many_clients)
{
	struct h_daemon d;
	ipc_client *c[MANY];
	struct rlimit rl;
	char msg[32];
	unsigned i;

	ck_assert_int_eq(getrlimit(RLIMIT_NOFILE, &rl), 0);
	if (rl.rlim_cur < 2 * MANY + 64) {
		rl.rlim_cur = rl.rlim_max;
		ck_assert_int_eq(setrlimit(RLIMIT_NOFILE, &rl), 0);
	}
	h_start(&d);
	for (i = 0; i < MANY; i++)
		c[i] = h_connect(&d);
	h_create_queue(c[0], "many", 0);
	for (i = 0; i < MANY; i++) {
		snprintf(msg, sizeof(msg), "client-%u", i);
		h_put_text(c[i], "many", msg);
	}
	ck_assert_uint_eq(h_stat(c[MANY - 1], "many").size, MANY);
	for (i = 0; i < MANY; i++) {
		snprintf(msg, sizeof(msg), "client-%u", i);
		h_get_expect(c[i], "many", msg, 0);
	}
	for (i = 0; i < MANY; i++)
		ipc_close(c[i]);
	h_stop(&d);
}
END_TEST

/* The whole integration suite. */
static Suite *integration_suite(void)
{
	Suite *s = suite_create("integration");

	h_add_case(s, "open", test_open, 30);
	h_add_case(s, "names", test_names, 30);
	h_add_case(s, "putget", test_putget, 30);
	h_add_case(s, "large_inline", test_large_inline, 60);
	h_add_case(s, "large_sndbuf", test_large_sndbuf, 30);
	h_add_case(s, "large_put_one_read", test_large_put_one_read, 30);
	h_add_case(s, "missing_queue", test_missing_queue, 30);
	h_add_case(s, "timeouts", test_timeouts, 30);
	h_add_case(s, "timeouts_never_early", test_timeouts_never_early, 30);
	h_add_case(s, "no_timerfd", test_no_timerfd, 30);
	h_add_case(s, "handoff", test_handoff, 30);
	h_add_case(s, "getter_fifo", test_getter_fifo, 30);
	h_add_case(s, "putter_fifo", test_putter_fifo, 30);
	h_add_case(s, "stress", test_stress, 120);
	h_add_case(s, "disconnect", test_disconnect, 30);
	h_add_case(s, "delete_parked", test_delete_parked, 30);
	h_add_case(s, "malformed", test_malformed, 60);
	h_add_case(s, "abuse", test_abuse, 60);
	h_add_case(s, "parks_bound", test_parks_bound, 60);
	h_add_case(s, "ipcctl_create_ls_stat", test_ipcctl_create_ls_stat, 60);
	h_add_case(s, "ipcctl_get", test_ipcctl_get, 60);
	h_add_case(s, "ipcctl_rm", test_ipcctl_rm, 60);
	h_add_case(s, "ipcctl_usage_errors", test_ipcctl_usage_errors, 60);
	h_add_case(s, "ipcctl_get_timeout", test_ipcctl_get_timeout, 60);
	h_add_case(s, "ipcctl_socket_env", test_ipcctl_socket_env, 60);
	h_add_case(s, "queue_demo", test_queue_demo, 60);
	h_add_case(s, "demo_options", test_demo_options, 60);
	h_add_case(s, "second_daemon", test_second_daemon, 30);
	h_add_case(s, "stale_socket", test_stale_socket, 30);
	h_add_case(s, "sigint", test_sigint, 30);
	h_add_case(s, "stop_parked", test_stop_parked, 30);
	h_add_case(s, "many_clients", test_many_clients, 60);
	return s;
}

/* Run the suite, one forked process per test. */
int main(void)
{
	return h_run_suite(integration_suite());
}
