/* SPDX-License-Identifier: MIT */
/*
 * check_memfd.c: large messages as sealed memfds against a real ipcd:
 * round trips around the threshold and far past the inline limit, the
 * zero-copy view, batches, pipes, async and read-ahead, durable queues,
 * the descriptor budget, refused memfds (unsealed, resizable, of another
 * length), unsolicited descriptors, killed producers and consumers, and
 * after each the daemon's descriptor count (/proc/PID/fd) back where it
 * started.
 */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include "harness.h"
#include "proto.h"

/* The memfd-threshold these tests set (the default is past the inline
 * limit: test_default_threshold). */
#define T_THRESHOLD (64u << 10)
#define T_THRESHOLD_ARG "64K"
/* The most extra ipcd arguments a test passes. */
#define T_ARGS_MAX 8

/* Descriptors ipcd (pid) has open. */
static int fd_count(pid_t pid)
{
	char path[64];
	struct dirent *e;
	DIR *dir;
	int n = 0;

	snprintf(path, sizeof path, "/proc/%ld/fd", (long)pid);
	dir = opendir(path);
	ck_assert_ptr_nonnull(dir);
	while ((e = readdir(dir)) != NULL)
		n += e->d_name[0] != '.';
	closedir(dir);
	return n;
}

/* Wait (bounded) until ipcd has want descriptors open. */
static void fd_wait(const struct h_daemon *d, int want)
{
	int64_t end = h_now_ms() + (h_wrapped() ? 20000 : 5000);
	int n;

	while ((n = fd_count(d->pid)) != want && h_now_ms() < end)
		usleep(10000);
	ck_assert_msg(n == want, "ipcd holds %d descriptors, %d expected", n, want);
}

/* A message of len bytes, its bytes a function of seed. */
static unsigned char *pattern(size_t len, unsigned seed)
{
	unsigned char *p = malloc(len ? len : 1);
	size_t i;

	ck_assert_ptr_nonnull(p);
	for (i = 0; i < len; i++)
		p[i] = (unsigned char)(i * 31 + seed + (i >> 12));
	return p;
}

/* Does data[0..len) hold pattern(len, seed)? */
static int is_pattern(const void *data, size_t len, unsigned seed)
{
	unsigned char *want = pattern(len, seed);
	int ok = memcmp(data, want, len) == 0;

	free(want);
	return ok;
}

/* Put pattern(len, seed) on q. */
static int put_pattern(ipc_client *c, const char *q, size_t len, unsigned seed)
{
	unsigned char *p = pattern(len, seed);
	int rc = ipc_queue_put(c, q, p, len, 0);

	free(p);
	return rc;
}

/* Get from q and check it is pattern(len, seed). */
static void get_pattern(ipc_client *c, const char *q, size_t len, unsigned seed)
{
	void *m;
	size_t n;

	ck_assert_int_eq(ipc_queue_get(c, q, &m, &n, 5000), 0);
	ck_assert_uint_eq(n, len);
	ck_assert_msg(is_pattern(m, n, seed), "message of %zu bytes corrupted", len);
	ipc_free(m);
}

/* Launch ipcd on d's prepared socket with memfd-threshold T_THRESHOLD and
 * extra arguments (NULL-terminated, or NULL; they may set it again). */
static void launch_with(struct h_daemon *d, const char *const *args)
{
	const char *all[T_ARGS_MAX + 3] = { "--memfd-threshold", T_THRESHOLD_ARG };
	struct h_opts o = { .args = all, .listen_fd = -1 };
	size_t n = 2;

	while (args && *args) {
		ck_assert_uint_lt(n, T_ARGS_MAX + 2);
		all[n++] = *args++;
	}
	h_launch_opts(d, &o);
}

/* Prepare d and launch_with() args. */
static void start_with(struct h_daemon *d, const char *const *args)
{
	h_prepare(d);
	launch_with(d, args);
}

/* Start ipcd with memfd-threshold T_THRESHOLD. */
static void start_memfd(struct h_daemon *d)
{
	start_with(d, NULL);
}

/* Around threshold on d: one byte under goes inline (no descriptor held),
 * the threshold and one over go as memfds (one held each); all round-trip
 * intact and every descriptor is closed once they are got. Stops d. */
static void check_boundary(struct h_daemon *d, size_t threshold)
{
	const size_t sizes[] = { threshold - 1, threshold, threshold + 1 };
	ipc_client *c;
	int base, i;

	c = h_connect(d);
	ck_assert_int_eq(ipc_queue_open(c, "q", H_QOPTS(0, IPC_QUEUE_CREATE), NULL), 0);
	base = fd_count(d->pid);
	for (i = 0; i < 3; i++) {
		ck_assert_int_eq(put_pattern(c, "q", sizes[i], (unsigned)i), 0);
		fd_wait(d, base + (sizes[i] >= threshold));
		get_pattern(c, "q", sizes[i], (unsigned)i);
		fd_wait(d, base);
	}
	ipc_close(c);
	h_stop(d);
}

/* The boundary of memfd-threshold T_THRESHOLD. */
START_TEST(test_threshold_boundary)
{
	struct h_daemon d;

	start_memfd(&d);
	check_boundary(&d, T_THRESHOLD);
}
END_TEST

/* Start a memfd-enabled ipcd on d, connect *c (inline limit 1 MiB) and
 * create queue "q"; the daemon's descriptor count then. */
static int large_start(struct h_daemon *d, ipc_client **c)
{
	start_memfd(d);
	*c = h_connect(d);
	ck_assert_uint_eq(ipc_msg_max(*c), 1u << 20);
	ck_assert_int_eq(ipc_queue_open(*c, "q", H_QOPTS(0, IPC_QUEUE_CREATE), NULL), 0);
	return fd_count(d->pid);
}

/* 1 MiB and 16 MiB, far past the inline limit, through a queue, byte for
 * byte; the daemon keeps no descriptor after. */
START_TEST(test_large_round_trip)
{
	static const size_t sizes[] = { 1u << 20, 16u << 20 };
	struct h_daemon d;
	ipc_client *c;
	int i, base;

	base = large_start(&d, &c);
	for (i = 0; i < 2; i++) {
		ck_assert_int_eq(put_pattern(c, "q", sizes[i], 7u + (unsigned)i), 0);
		get_pattern(c, "q", sizes[i], 7u + (unsigned)i);
	}
	fd_wait(&d, base);
	ipc_close(c);
	h_stop(&d);
}
END_TEST

/* A zero-copy view of a 16 MiB message outlives other gets until it is
 * released, once. */
START_TEST(test_large_view)
{
	struct h_daemon d;
	const void *view;
	ipc_client *c;
	size_t len;
	int base;

	base = large_start(&d, &c);
	ck_assert_int_eq(put_pattern(c, "q", 16u << 20, 3), 0);
	ck_assert_int_eq(put_pattern(c, "q", 100, 4), 0);
	ck_assert_int_eq(ipc_queue_get_view(c, "q", &view, &len, 1000), 0);
	ck_assert_uint_eq(len, 16u << 20);
	get_pattern(c, "q", 100, 4);
	ck_assert(is_pattern(view, len, 3));
	ck_assert_int_eq(ipc_msg_release(c, view), 0);
	ck_assert_int_eq(ipc_msg_release(c, view), IPC_EINVAL);
	fd_wait(&d, base);
	ipc_close(c);
	h_stop(&d);
}
END_TEST

/* A batch mixing 2 MiB and small messages, byte for byte. */
START_TEST(test_large_batch)
{
	struct ipc_msg batch[3], got[3];
	unsigned char *big[3];
	struct h_daemon d;
	ipc_client *c;
	size_t n;
	int i, base;

	base = large_start(&d, &c);
	for (i = 0; i < 3; i++) {
		big[i] = pattern(i == 1 ? 10 : (2u << 20), 20u + (unsigned)i);
		batch[i].data = big[i];
		batch[i].len = i == 1 ? 10 : (2u << 20);
	}
	ck_assert_int_eq(ipc_queue_put_many(c, "q", batch, 3, &n, 0), 0);
	ck_assert_uint_eq(n, 3);
	ck_assert_int_eq(ipc_queue_get_many(c, "q", got, 3, &n, 1000), 0);
	ck_assert_uint_eq(n, 3);
	for (i = 0; i < 3; i++) {
		ck_assert_uint_eq(got[i].len, batch[i].len);
		ck_assert(memcmp(got[i].data, big[i], got[i].len) == 0);
		free(big[i]);
	}
	fd_wait(&d, base);
	ipc_close(c);
	h_stop(&d);
}
END_TEST

/* 16 MiB through a pipe, byte for byte. */
START_TEST(test_large_pipe)
{
	struct h_daemon d;
	unsigned char *big;
	ipc_client *c;
	size_t len;
	void *m;
	int base;

	base = large_start(&d, &c);
	ck_assert_int_eq(ipc_pipe_attach(c, "p", 0, IPC_PIPE_CREATE, NULL), 0);
	ck_assert_int_eq(ipc_pipe_attach(c, "p", 1, 0, NULL), 0);
	big = pattern(16u << 20, 9);
	ck_assert_int_eq(ipc_pipe_send(c, "p", 1, big, 16u << 20, 0), 0);
	ck_assert_int_eq(ipc_pipe_recv(c, "p", 0, &m, &len, 1000), 0);
	ck_assert_uint_eq(len, 16u << 20);
	ck_assert(memcmp(m, big, len) == 0);
	ipc_free(m);
	free(big);
	fd_wait(&d, base);
	ipc_close(c);
	h_stop(&d);
}
END_TEST

/* Pipelined puts and read-ahead gets of large messages. */
START_TEST(test_async_readahead)
{
	struct h_daemon d;
	unsigned char *p = pattern(200000, 5);
	ipc_client *c;
	int i, base;

	start_memfd(&d);
	c = h_connect(&d);
	ck_assert_int_eq(ipc_queue_open(c, "q", H_QOPTS(0, IPC_QUEUE_CREATE), NULL), 0);
	base = fd_count(d.pid);
	for (i = 0; i < 50; i++)
		ck_assert_int_eq(ipc_queue_put_async(c, "q", p, 200000, 0), 0);
	ck_assert_int_eq(ipc_flush(c), 0);
	fd_wait(&d, base + 50);
	ck_assert_int_eq(ipc_queue_set_readahead(c, "q", 16), 0);
	for (i = 0; i < 50; i++)
		get_pattern(c, "q", 200000, 5);
	fd_wait(&d, base);
	free(p);
	ipc_close(c);
	h_stop(&d);
}
END_TEST

/* Messages over max-memfd-size are refused before anything is sent;
 * with memfd-threshold 0 the inline limit holds for every message. */
START_TEST(test_size_limits)
{
	static const char *const args[] = { "--max-memfd-size", "2M", NULL };
	static const char *const off[] = { "--memfd-threshold", "0", NULL };
	struct h_daemon d;
	ipc_client *c;

	start_with(&d, args);
	c = h_connect(&d);
	ck_assert_int_eq(ipc_queue_open(c, "q", H_QOPTS(0, IPC_QUEUE_CREATE), NULL), 0);
	ck_assert_int_eq(put_pattern(c, "q", 2u << 20, 1), 0);
	ck_assert_int_eq(put_pattern(c, "q", (2u << 20) + 1, 1), IPC_ETOOBIG);
	get_pattern(c, "q", 2u << 20, 1);
	ipc_close(c);
	h_stop(&d);

	start_with(&d, off);
	c = h_connect(&d);
	ck_assert_int_eq(ipc_queue_open(c, "q", H_QOPTS(0, IPC_QUEUE_CREATE), NULL), 0);
	ck_assert_int_eq(put_pattern(c, "q", (1u << 20) + 1, 1), IPC_ETOOBIG);
	ck_assert_int_eq(put_pattern(c, "q", 1u << 20, 2), 0);
	get_pattern(c, "q", 1u << 20, 2);
	ipc_close(c);
	h_stop(&d);
}
END_TEST

/* The descriptor budget: past max-memfds a large put gets IPC_ELIMIT
 * (small ones still go), and room comes back as messages are got. */
START_TEST(test_budget)
{
	static const char *const args[] = { "--max-memfds", "2", NULL };
	struct h_daemon d;
	ipc_client *c;

	start_with(&d, args);
	c = h_connect(&d);
	ck_assert_int_eq(ipc_queue_open(c, "q", H_QOPTS(0, IPC_QUEUE_CREATE), NULL), 0);
	ck_assert_int_eq(put_pattern(c, "q", 1u << 20, 1), 0);
	ck_assert_int_eq(put_pattern(c, "q", 1u << 20, 2), 0);
	ck_assert_int_eq(put_pattern(c, "q", 1u << 20, 3), IPC_ELIMIT);
	ck_assert_ptr_nonnull(strstr(ipc_last_error(c), "max-memfds 2"));
	ck_assert_int_eq(put_pattern(c, "q", 100, 4), 0);
	get_pattern(c, "q", 1u << 20, 1);
	ck_assert_int_eq(put_pattern(c, "q", 1u << 20, 5), 0);
	get_pattern(c, "q", 1u << 20, 2);
	get_pattern(c, "q", 100, 4);
	get_pattern(c, "q", 1u << 20, 5);
	ipc_close(c);
	h_stop(&d);
}
END_TEST

/* Bytes read on the raw connection past the last reply. */
static struct pbuf raw_left;

/* A raw connection to d (not HELLO'd yet). */
static int raw_connect(const struct h_daemon *d)
{
	struct sockaddr_un sa = { .sun_family = AF_UNIX };
	int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);

	ck_assert_int_ge(fd, 0);
	snprintf(sa.sun_path, sizeof(sa.sun_path), "%s", d->sock);
	ck_assert_int_eq(connect(fd, (struct sockaddr *)&sa, sizeof(sa)), 0);
	raw_left.len = 0;
	return fd;
}

/* Send the first len bytes (0: all) of req's frame on fd, with
 * descriptors fds[0..nfds) beside them. */
static void raw_send_part(int fd, const struct proto_req *req, const int *fds,
			  size_t nfds, size_t len)
{
	union {
		struct cmsghdr h;
		char b[CMSG_SPACE(sizeof(int) * 4)];
	} cm;
	struct iovec iov;
	struct msghdr mh = { .msg_iov = &iov, .msg_iovlen = 1 };
	struct pbuf b;

	pbuf_init(&b);
	ck_assert_int_eq(proto_enc_req(&b, req), 0);
	iov.iov_base = b.data;
	iov.iov_len = len ? len : b.len;
	ck_assert_uint_eq(proto_fds_pack(&mh, cm.b, sizeof cm.b, fds, nfds), nfds);
	ck_assert_int_eq(sendmsg(fd, &mh, MSG_NOSIGNAL), (ssize_t)iov.iov_len);
	pbuf_free(&b);
}

/* Send req on fd with descriptors fds[0..nfds) beside it. */
static void raw_send(int fd, const struct proto_req *req, const int *fds, size_t nfds)
{
	raw_send_part(fd, req, fds, nfds, 0);
}

/* Read the reply to a request of op on fd into rep (its memory in b);
 * descriptors that come along are counted in *nfds (closed). 0, or -1
 * when the daemon closed the connection. */
static int raw_reply(int fd, uint32_t op, struct pbuf *b, struct proto_dec *dec,
		     struct proto_rep *rep, int *nfds)
{
	union {
		struct cmsghdr h;
		char b[CMSG_SPACE(sizeof(int) * 8)];
	} cm;
	struct iovec iov;
	struct msghdr mh = { .msg_iov = &iov, .msg_iovlen = 1 };
	struct cmsghdr *h;
	long flen;
	ssize_t r;
	size_t i;

	b->len = 0;
	ck_assert_int_eq(pbuf_append(b, raw_left.data, raw_left.len), 0);
	raw_left.len = 0;
	while ((flen = proto_frame_peek(b->data, b->len, PROTO_FRAME_MAX)) == 0) {
		ck_assert_int_eq(pbuf_reserve(b, 65536), 0);
		iov.iov_base = b->data + b->len;
		iov.iov_len = b->cap - b->len;
		mh.msg_control = cm.b;
		mh.msg_controllen = sizeof cm.b;
		r = recvmsg(fd, &mh, MSG_CMSG_CLOEXEC);
		if (r <= 0)
			return -1;
		for (h = CMSG_FIRSTHDR(&mh); h != NULL; h = CMSG_NXTHDR(&mh, h))
			for (i = 0; i < (h->cmsg_len - CMSG_LEN(0)) / sizeof(int); i++) {
				close(((int *)(void *)CMSG_DATA(h))[i]);
				++*nfds;
			}
		b->len += (size_t)r;
	}
	ck_assert_int_eq(pbuf_append(&raw_left, b->data + flen, b->len - (size_t)flen), 0);
	ck_assert_int_eq(proto_dec_rep(dec, b->data + 4, (size_t)flen - 4, op, rep), 0);
	return 0;
}

/* One request and its reply's status on a raw connection (-100: closed). */
static int raw_call(int fd, const struct proto_req *req, const int *fds,
		    size_t nfds, struct proto_rep *rep, int *got_fds)
{
	struct proto_dec dec;
	struct pbuf b;
	int rc, dummy = 0;

	pbuf_init(&b);
	ck_assert_int_eq(proto_dec_init(&dec), 0);
	raw_send(fd, req, fds, nfds);
	rc = raw_reply(fd, req->op, &b, &dec, rep, got_fds ? got_fds : &dummy);
	if (rc == 0)
		rc = rep->status;
	else
		rc = -100;
	proto_dec_fini(&dec);
	pbuf_free(&b);
	return rc;
}

/* The status of the next reply on fd (any op), -100 once it is closed. */
static int raw_next_status(int fd)
{
	struct proto_dec dec;
	struct proto_rep rep;
	struct pbuf b;
	int rc, nfds = 0;

	pbuf_init(&b);
	ck_assert_int_eq(proto_dec_init(&dec), 0);
	rc = raw_reply(fd, PROTO_OP_STAT, &b, &dec, &rep, &nfds);
	proto_dec_fini(&dec);
	pbuf_free(&b);
	return rc == 0 ? rep.status : -100;
}

/* A memfd of len bytes with the given seals (0: none). */
static int make_memfd(size_t len, int seals)
{
	int fd = memfd_create("t", MFD_CLOEXEC | MFD_ALLOW_SEALING);
	unsigned char *p = pattern(len, 1);

	ck_assert_int_ge(fd, 0);
	ck_assert_int_eq(write(fd, p, len), (ssize_t)len);
	free(p);
	if (seals)
		ck_assert_int_eq(fcntl(fd, F_ADD_SEALS, seals), 0);
	return fd;
}

/* HELLO with caps on a raw connection; the reply grants MEMFD from
 * want_min bytes up. */
static void raw_hello_min(int fd, uint32_t want_min)
{
	struct proto_req r = { .op = PROTO_OP_HELLO, .id = 1,
			       .version = IPC_PROTO_VERSION, .has_caps = 1,
			       .caps = PROTO_CAP_MEMFD };
	struct proto_rep rep;

	ck_assert_int_eq(raw_call(fd, &r, NULL, 0, &rep, NULL), 0);
	ck_assert_int_eq(rep.has_caps, 1);
	ck_assert_uint_eq(rep.caps, PROTO_CAP_MEMFD);
	ck_assert_uint_eq(rep.memfd_min, want_min);
	ck_assert_uint_eq(rep.memfd_max, 64u << 20);
}

/* raw_hello_min() for a daemon with memfd-threshold T_THRESHOLD. */
static void raw_hello_caps(int fd)
{
	raw_hello_min(fd, T_THRESHOLD);
}

/* By default every payload the inline path can carry (up to 1 MiB) goes
 * inline and only larger ones as memfds. */
START_TEST(test_default_threshold)
{
	struct h_daemon d;
	int s;

	h_start(&d);
	s = raw_connect(&d);
	raw_hello_min(s, IPC_MSG_MAX + 1);
	close(s);
	check_boundary(&d, IPC_MSG_MAX + 1);
}
END_TEST

/* A QPUT of a memfd marker for len bytes with descriptor fd: its status. */
static int raw_put_memfd(int s, int fd, size_t len)
{
	struct proto_req r = { .op = PROTO_OP_QPUT, .id = 2, .name = "q",
			       .data_len = len, .data_memfd = 1 };
	struct proto_rep rep;

	return raw_call(s, &r, &fd, 1, &rep, NULL);
}

/* A raw connection to d with MEMFD and a hold page (QHOLDS), mapped at
 * *page. */
static int raw_with_page(const struct h_daemon *d, uint64_t **page)
{
	struct proto_req r = { .op = PROTO_OP_QHOLDS, .id = 2,
			       .data_len = PROTO_HOLD_PAGE, .data_memfd = 1 };
	struct proto_rep rep;
	int s = raw_connect(d), fd = memfd_create("holds", MFD_CLOEXEC | MFD_ALLOW_SEALING);

	raw_hello_caps(s);
	ck_assert_int_ge(fd, 0);
	ck_assert_int_eq(ftruncate(fd, PROTO_HOLD_PAGE), 0);
	ck_assert_int_eq(fcntl(fd, F_ADD_SEALS, F_SEAL_SHRINK), 0);
	*page = mmap(NULL, PROTO_HOLD_PAGE, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
	ck_assert_ptr_ne(*page, MAP_FAILED);
	ck_assert_int_eq(raw_call(s, &r, &fd, 1, &rep, NULL), 0);
	close(fd);
	return s;
}

/* QHOLDS of fd announced as len bytes on raw connection s: its status. */
static int raw_holds(int s, int fd, size_t len)
{
	struct proto_req r = { .op = PROTO_OP_QHOLDS, .id = 2, .data_len = len,
			       .data_memfd = 1 };
	struct proto_rep rep;

	return raw_call(s, &r, &fd, 1, &rep, NULL);
}

/* Hold pages the daemon must refuse (IPC_EINVAL, the connection stays,
 * no descriptor kept): not sealed against shrinking, too large, too
 * small, sealed against writing, opened read-only, not a memfd, inline,
 * announced with another length, a second one. A page taken whose
 * memory the client punches out and grows is read as zeros, no SIGBUS
 * (it cannot shrink it: sealed). */
START_TEST(test_hold_page_refused)
{
	static const unsigned char zeros[PROTO_HOLD_PAGE];
	struct proto_req geth = { .op = PROTO_OP_QGETH, .id = 3, .name = "q",
				  .max = 2, .slot = 1 };
	struct proto_req inl = { .op = PROTO_OP_QHOLDS, .id = 4, .data = zeros,
				 .data_len = PROTO_HOLD_PAGE };
	struct proto_rep rep;
	struct h_daemon d;
	struct ipc_info in;
	uint64_t *page;
	ipc_client *c;
	int s, fd, ro, base, pfd[2];
	char path[64];

	start_memfd(&d);
	c = h_connect(&d);
	h_create_queue(c, "q", 2);
	base = fd_count(d.pid);
	s = raw_connect(&d);
	raw_hello_caps(s);
	fd = make_memfd(PROTO_HOLD_PAGE, 0);
	ck_assert_int_eq(raw_holds(s, fd, PROTO_HOLD_PAGE), IPC_EINVAL);
	close(fd);
	fd = make_memfd(2 * PROTO_HOLD_PAGE, F_SEAL_SHRINK);
	ck_assert_int_eq(raw_holds(s, fd, PROTO_HOLD_PAGE), IPC_EINVAL);
	close(fd);
	fd = make_memfd(100, F_SEAL_SHRINK);
	ck_assert_int_eq(raw_holds(s, fd, PROTO_HOLD_PAGE), IPC_EINVAL);
	close(fd);
	fd = make_memfd(PROTO_HOLD_PAGE, F_SEAL_SHRINK | F_SEAL_WRITE);
	ck_assert_int_eq(raw_holds(s, fd, PROTO_HOLD_PAGE), IPC_EINVAL);
	close(fd);
	ck_assert_int_eq(pipe(pfd), 0);
	ck_assert_int_eq(raw_holds(s, pfd[0], PROTO_HOLD_PAGE), IPC_EINVAL);
	close(pfd[0]);
	close(pfd[1]);
	ck_assert_int_eq(raw_call(s, &inl, NULL, 0, &rep, NULL), IPC_EINVAL);
	fd = make_memfd(PROTO_HOLD_PAGE, F_SEAL_SHRINK);
	snprintf(path, sizeof path, "/proc/self/fd/%d", fd);
	ro = open(path, O_RDONLY | O_CLOEXEC);
	ck_assert_int_ge(ro, 0);
	ck_assert_int_eq(raw_holds(s, ro, PROTO_HOLD_PAGE), IPC_EINVAL);
	close(ro);
	ck_assert_int_eq(raw_holds(s, fd, PROTO_HOLD_PAGE - 1), IPC_EINVAL);
	page = mmap(NULL, PROTO_HOLD_PAGE, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
	ck_assert_ptr_ne(page, MAP_FAILED);
	memset(page, 0, PROTO_HOLD_PAGE);
	ck_assert_int_eq(raw_holds(s, fd, PROTO_HOLD_PAGE), 0);
	ck_assert_int_eq(raw_holds(s, fd, PROTO_HOLD_PAGE), IPC_EINVAL);
	fd_wait(&d, base + 1);  /* the raw connection: no page descriptor */
	h_put_text(c, "q", "a");
	h_put_text(c, "q", "b");
	ck_assert_int_eq(raw_call(s, &geth, NULL, 0, &rep, NULL), 0);
	ck_assert_uint_eq(rep.niov, 2);
	__atomic_store_n(&page[1], 1, __ATOMIC_SEQ_CST);
	ck_assert_int_eq(fallocate(fd, FALLOC_FL_PUNCH_HOLE | FALLOC_FL_KEEP_SIZE,
				   0, PROTO_HOLD_PAGE), 0);
	ck_assert_int_eq(ftruncate(fd, 4 * PROTO_HOLD_PAGE), 0);
	ck_assert_int_ne(ftruncate(fd, 0), 0);
	in = h_stat(c, "q");               /* the word reads 0 now */
	ck_assert_uint_eq(in.inflight, 2);
	__atomic_store_n(&page[1], 2, __ATOMIC_SEQ_CST);
	in = h_stat(c, "q");
	ck_assert_uint_eq(in.inflight, 0);
	close(s);
	fd_wait(&d, base);
	munmap(page, PROTO_HOLD_PAGE);
	close(fd);
	ipc_close(c);
	h_stop(&d);
}
END_TEST

/* The ack that a hold running out makes (its page counts a message
 * handed out) may close the holder itself: the putter it admits hands
 * its message to a get the holder parked, whose reply fails
 * (IPCD_TEST_FAIL_REPLY=1: every reply carrying a message). The
 * holder's leases go back then, the one whose timer ran out included,
 * which lease_hold_expire went on using (heap-use-after-free under
 * ASan). Now the daemon stays up: "b" (not handed out) and "c" (the
 * reply that failed) are back at the head. */
START_TEST(test_page_ack_closes_holder)
{
	static const char *const env[] = { "IPCD_TEST_FAIL_REPLY=1", NULL };
	static const char *const args[] = { "--memfd-threshold", T_THRESHOLD_ARG, NULL };
	struct h_opts o = { .args = args, .env = env, .listen_fd = -1 };
	struct proto_req hello = { .op = PROTO_OP_HELLO, .id = 1,
				   .version = IPC_PROTO_VERSION };
	struct proto_req geth = { .op = PROTO_OP_QGETH, .id = 3, .name = "q",
				  .max = 2, .lease_ms = 1000, .slot = 1 };
	struct proto_req get = { .op = PROTO_OP_QGET, .id = 4, .name = "q",
				 .timeout_ms = -1 };
	struct proto_req put = { .op = PROTO_OP_QPUT, .id = 2, .name = "q",
				 .data = (const unsigned char *)"c", .data_len = 1,
				 .timeout_ms = -1 };
	struct proto_rep rep;
	struct ipc_info in;
	struct proto_dec dec;
	struct h_daemon d;
	struct pbuf b;
	uint64_t *page;
	ipc_client *p;
	int s, w, nfds = 0;

	h_prepare(&d);
	h_launch_opts(&d, &o);
	p = h_connect(&d);
	h_create_queue(p, "q", 2);
	h_put_text(p, "q", "a");
	h_put_text(p, "q", "b");
	s = raw_with_page(&d, &page);
	ck_assert_int_eq(raw_call(s, &geth, NULL, 0, &rep, NULL), 0);
	ck_assert_uint_eq(rep.niov, 2);            /* held in slot 1 */
	raw_send(s, &get, NULL, 0);                /* and a get parked */
	h_wait_parked(p, "q", 'g', 1);
	w = raw_connect(&d);
	ck_assert_int_eq(raw_call(w, &hello, NULL, 0, &rep, NULL), 0);
	raw_send(w, &put, NULL, 0);                /* a put waits for room */
	h_wait_parked(p, "q", 'p', 1);
	/* "a" handed out, said in the page only (no QDONE despite WANT);
	 * no STAT from here on: the hold running out reads it. */
	__atomic_fetch_add(&page[1], 1, __ATOMIC_SEQ_CST);
	usleep(1500 * 1000);
	ck_assert_int_eq(proto_dec_init(&dec), 0);
	pbuf_init(&b);
	ck_assert_int_eq(raw_reply(w, PROTO_OP_QPUT, &b, &dec, &rep, &nfds), 0);
	ck_assert_int_eq(rep.status, 0);           /* "c" was put */
	proto_dec_fini(&dec);
	pbuf_free(&b);
	ck_assert_int_eq(raw_next_status(s), -100); /* the holder closed */
	in = h_stat(p, "q");
	ck_assert_uint_eq(in.size, 2);
	ck_assert_uint_eq(in.inflight, 0);
	close(w);
	close(s);
	munmap(page, PROTO_HOLD_PAGE);
	ipc_close(p);
	h_stop(&d);
}
END_TEST

/* Memfds the daemon must refuse: unsealed, sealed but resizable, of
 * another length than announced, not a memfd at all; each is IPC_EINVAL,
 * the connection stays, and no descriptor is kept. */
START_TEST(test_refused_memfds)
{
	static const int all = F_SEAL_WRITE | F_SEAL_SHRINK | F_SEAL_GROW;
	struct h_daemon d;
	ipc_client *c;
	int s, fd, base, pfd[2];

	start_memfd(&d);
	c = h_connect(&d);
	ck_assert_int_eq(ipc_queue_open(c, "q", H_QOPTS(0, IPC_QUEUE_CREATE), NULL), 0);
	base = fd_count(d.pid);
	s = raw_connect(&d);
	raw_hello_caps(s);
	fd = make_memfd(100000, 0);
	ck_assert_int_eq(raw_put_memfd(s, fd, 100000), IPC_EINVAL);
	close(fd);
	fd = make_memfd(100000, F_SEAL_WRITE | F_SEAL_SHRINK);
	ck_assert_int_eq(raw_put_memfd(s, fd, 100000), IPC_EINVAL);
	close(fd);
	fd = make_memfd(100000, all);
	ck_assert_int_eq(raw_put_memfd(s, fd, 99999), IPC_EINVAL);
	ck_assert_int_eq(raw_put_memfd(s, fd, 100000), 0);
	close(fd);
	ck_assert_int_eq(pipe(pfd), 0);
	ck_assert_int_eq(raw_put_memfd(s, pfd[0], 10), IPC_EINVAL);
	close(pfd[0]);
	close(pfd[1]);
	/* Only the good one was taken. */
	get_pattern(c, "q", 100000, 1);
	fd_wait(&d, base + 1);  /* the raw connection */
	close(s);
	fd_wait(&d, base);
	ipc_close(c);
	h_stop(&d);
}
END_TEST

/* Descriptors a client may not send: before a HELLO with caps, beside
 * a frame that names none, or more than its frame names: each closes
 * the connection with IPC_EPROTO, and none stays in the daemon. */
START_TEST(test_unsolicited_fds)
{
	struct proto_req hello = { .op = PROTO_OP_HELLO, .id = 1,
				   .version = IPC_PROTO_VERSION };
	struct proto_req stat = { .op = PROTO_OP_STAT, .id = 3, .name = "q" };
	struct h_daemon d;
	struct proto_rep rep;
	ipc_client *c;
	int s, fd, base, fds[2];

	start_memfd(&d);
	c = h_connect(&d);
	ck_assert_int_eq(ipc_queue_open(c, "q", H_QOPTS(0, IPC_QUEUE_CREATE), NULL), 0);
	base = fd_count(d.pid);
	fd = make_memfd(100, F_SEAL_WRITE | F_SEAL_SHRINK | F_SEAL_GROW);
	/* With a plain HELLO. */
	s = raw_connect(&d);
	ck_assert_int_eq(raw_call(s, &hello, &fd, 1, &rep, NULL), IPC_EPROTO);
	close(s);
	/* With a frame naming none: served, then the connection fails. */
	s = raw_connect(&d);
	raw_hello_caps(s);
	ck_assert_int_eq(raw_call(s, &stat, &fd, 1, &rep, NULL), 0);
	ck_assert_int_eq(raw_next_status(s), IPC_EPROTO);
	ck_assert_int_eq(raw_next_status(s), -100);
	close(s);
	/* Two beside a frame naming one. */
	s = raw_connect(&d);
	raw_hello_caps(s);
	fds[0] = fds[1] = fd;
	ck_assert_int_eq(raw_call(s, &(struct proto_req){ .op = PROTO_OP_QPUT,
		.id = 2, .name = "q", .data_len = 100, .data_memfd = 1 },
		fds, 2, &rep, NULL), 0);
	ck_assert_int_eq(raw_next_status(s), IPC_EPROTO);
	ck_assert_int_eq(raw_next_status(s), -100);
	close(s);
	/* A producer gone mid-frame: its descriptor came with the first
	 * half of a QPUT, the rest never does. */
	s = raw_connect(&d);
	raw_hello_caps(s);
	raw_send_part(s, &(struct proto_req){ .op = PROTO_OP_QPUT, .id = 5,
		.name = "q", .data_len = 100, .data_memfd = 1 }, &fd, 1, 12);
	fd_wait(&d, base + 3);  /* the connection, its descriptor, the message */
	close(s);
	close(fd);
	fd_wait(&d, base + 1);  /* the one message taken */
	/* The queue still serves; that message is whole. */
	get_pattern(c, "q", 100, 1);
	fd_wait(&d, base);
	ipc_close(c);
	h_stop(&d);
}
END_TEST

/* A client without MEMFD (an older library) gets memfd messages inline;
 * one over what a frame can carry is answered IPC_ETOOBIG and stays for
 * a client that can take it. */
START_TEST(test_legacy_consumer)
{
	struct proto_req hello = { .op = PROTO_OP_HELLO, .id = 1,
				   .version = IPC_PROTO_VERSION };
	struct proto_req get = { .op = PROTO_OP_QGET, .id = 5, .name = "q" };
	struct proto_dec dec;
	struct proto_rep rep;
	struct h_daemon d;
	struct pbuf b;
	ipc_client *c;
	int s, nfds = 0;

	start_memfd(&d);
	c = h_connect(&d);
	ck_assert_int_eq(ipc_queue_open(c, "q", H_QOPTS(0, IPC_QUEUE_CREATE), NULL), 0);
	ck_assert_int_eq(put_pattern(c, "q", 1u << 20, 6), 0);
	ck_assert_int_eq(put_pattern(c, "q", 16u << 20, 7), 0);
	s = raw_connect(&d);
	ck_assert_int_eq(raw_call(s, &hello, NULL, 0, &rep, NULL), 0);
	ck_assert_int_eq(rep.has_caps, 0);
	pbuf_init(&b);
	ck_assert_int_eq(proto_dec_init(&dec), 0);
	raw_send(s, &get, NULL, 0);
	ck_assert_int_eq(raw_reply(s, get.op, &b, &dec, &rep, &nfds), 0);
	ck_assert_int_eq(rep.status, 0);
	ck_assert_int_eq(nfds, 0);
	ck_assert_uint_eq(rep.data_memfd, 0);
	ck_assert_uint_eq(rep.data_len, 1u << 20);
	ck_assert(is_pattern(rep.data, rep.data_len, 6));
	raw_send(s, &get, NULL, 0);
	ck_assert_int_eq(raw_reply(s, get.op, &b, &dec, &rep, &nfds), 0);
	ck_assert_int_eq(rep.status, IPC_ETOOBIG);
	get_pattern(c, "q", 16u << 20, 7);
	/* Parked, and handed the message by a put: it goes back. */
	get.timeout_ms = 10000;
	raw_send(s, &get, NULL, 0);
	h_wait_parked(c, "q", 'g', 1);
	ck_assert_int_eq(put_pattern(c, "q", 16u << 20, 8), 0);
	ck_assert_int_eq(raw_reply(s, get.op, &b, &dec, &rep, &nfds), 0);
	ck_assert_int_eq(rep.status, IPC_ETOOBIG);
	proto_dec_fini(&dec);
	pbuf_free(&b);
	close(s);
	get_pattern(c, "q", 16u << 20, 8);
	ipc_close(c);
	h_stop(&d);
}
END_TEST

/* Put large messages on q until killed. */
static int producer(void *arg)
{
	const struct h_daemon *d = arg;
	unsigned char *p = pattern(300000, 11);
	ipc_client *c;

	if (h_ipc_connect(d->sock, &c) != 0)
		return 1;
	for (;;)
		if (ipc_queue_put(c, "q", p, 300000, IPC_FOREVER) != 0)
			return 2;
}

/* Hold a view of a large message of q until killed. */
static int viewer(void *arg)
{
	const struct h_daemon *d = arg;
	const void *v;
	ipc_client *c;
	size_t len;

	if (h_ipc_connect(d->sock, &c) != 0 ||
	    ipc_queue_get_view(c, "q", &v, &len, 5000) != 0)
		return 1;
	write(1, "", 0);
	for (;;)
		pause();
}

/* Producers SIGKILLed mid-put (some parked on a full queue) and a
 * consumer SIGKILLed holding a mapping: every message left is whole, and
 * once the queue is emptied, purged and deleted, the daemon holds no
 * descriptor more than before. */
START_TEST(test_chaos_kills)
{
	struct h_daemon d;
	ipc_client *c;
	struct ipc_info info;
	pid_t kids[4];
	int base, i;
	void *m;
	size_t len;

	start_memfd(&d);
	c = h_connect(&d);
	ck_assert_int_eq(ipc_queue_open(c, "q", H_QOPTS(8, IPC_QUEUE_CREATE), NULL), 0);
	base = fd_count(d.pid);
	for (i = 0; i < 4; i++)
		kids[i] = h_spawn(producer, &d);
	h_wait_parked(c, "q", 'p', 4);
	for (i = 0; i < 4; i++) {
		kill(kids[i], SIGKILL);
		h_wait_child(kids[i], 5000);
	}
	/* A viewer takes one and dies holding its mapping. */
	kids[0] = h_spawn(viewer, &d);
	for (i = 0; i < 500; i++) {
		ck_assert_int_eq(ipc_stat(c, "q", &info, sizeof info), 0);
		if (info.size == 7)
			break;
		usleep(10000);
	}
	ck_assert_uint_eq(info.size, 7);
	kill(kids[0], SIGKILL);
	h_wait_child(kids[0], 5000);
	fd_wait(&d, base + 7);
	for (i = 0; i < 3; i++) {
		ck_assert_int_eq(ipc_queue_get(c, "q", &m, &len, 0), 0);
		ck_assert_uint_eq(len, 300000);
		ck_assert(is_pattern(m, len, 11));
		ipc_free(m);
	}
	fd_wait(&d, base + 4);
	ck_assert_int_eq(ipc_queue_purge(c, "q", NULL), 0);
	fd_wait(&d, base);
	for (i = 0; i < 5; i++)
		ck_assert_int_eq(put_pattern(c, "q", 300000, 11), 0);
	fd_wait(&d, base + 5);
	ck_assert_int_eq(ipc_delete(c, "q"), 0);
	fd_wait(&d, base);
	/* A pipe with memfd messages buffered, deleted. */
	ck_assert_int_eq(ipc_pipe_attach(c, "p", 1, IPC_PIPE_CREATE, NULL), 0);
	m = pattern(300000, 2);
	for (i = 0; i < 3; i++)
		ck_assert_int_eq(ipc_pipe_send(c, "p", 1, m, 300000, 0), 0);
	free(m);
	fd_wait(&d, base + 3);
	ck_assert_int_eq(ipc_delete(c, "p"), 0);
	fd_wait(&d, base);
	ipc_close(c);
	h_stop(&d);
}
END_TEST

/* Durable queues journal memfd messages up to the inline limit (they
 * come back after a restart); larger ones are refused IPC_ETOOBIG. */
START_TEST(test_durable)
{
	struct h_daemon d;
	ipc_client *c;

	start_memfd(&d);
	c = h_connect(&d);
	ck_assert_int_eq(ipc_queue_open(c, "dq", H_QOPTS(0, IPC_QUEUE_CREATE |
							 IPC_QUEUE_DURABLE), NULL), 0);
	ck_assert_int_eq(put_pattern(c, "dq", 300000, 8), 0);
	ck_assert_int_eq(put_pattern(c, "dq", 2u << 20, 9), IPC_ETOOBIG);
	ipc_close(c);
	ck_assert_int_eq(h_kill_keep(&d, SIGTERM), 0);
	launch_with(&d, NULL);
	c = h_connect(&d);
	get_pattern(c, "dq", 300000, 8);
	ck_assert_int_eq(ipc_queue_get(c, "dq", &(void *){ NULL }, &(size_t){ 0 }, 0),
			 IPC_EEMPTY);
	ipc_close(c);
	h_stop(&d);
}
END_TEST

/* The suite. */
static Suite *memfd_suite(void)
{
	Suite *s = suite_create("memfd");

	h_add_case(s, "threshold_boundary", test_threshold_boundary, 30);
	h_add_case(s, "default_threshold", test_default_threshold, 30);
	h_add_case(s, "large_round_trip", test_large_round_trip, 60);
	h_add_case(s, "large_view", test_large_view, 60);
	h_add_case(s, "large_batch", test_large_batch, 60);
	h_add_case(s, "large_pipe", test_large_pipe, 60);
	h_add_case(s, "async_readahead", test_async_readahead, 30);
	h_add_case(s, "size_limits", test_size_limits, 30);
	h_add_case(s, "budget", test_budget, 30);
	h_add_case(s, "refused_memfds", test_refused_memfds, 30);
	h_add_case(s, "unsolicited_fds", test_unsolicited_fds, 30);
	h_add_case(s, "legacy_consumer", test_legacy_consumer, 30);
	h_add_case(s, "chaos_kills", test_chaos_kills, 60);
	h_add_case(s, "durable", test_durable, 30);
	h_add_case(s, "page_ack_closes_holder", test_page_ack_closes_holder, 30);
	h_add_case(s, "hold_page_refused", test_hold_page_refused, 30);
	return s;
}

/* Run the suite, one forked process per test. */
int main(void)
{
	return h_run_suite(memfd_suite());
}
