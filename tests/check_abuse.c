/* SPDX-License-Identifier: MIT */
/*
 * check_abuse.c: the abuse suite (issue 11). A private ipcd with small
 * limits; one unprivileged uid (65534, a forked child that drops root)
 * drives one hardening path per case: unfinished frames, many
 * connections, many queues and pipes, parked requests, hash-colliding
 * names, pipe-end churn, LIST, a flood of pipelined requests, many
 * empty messages, a client that never reads, and every per-uid quota
 * held at once (connections, queues and pipes, bytes, parked requests)
 * while root and uid 4301 connect, create, put and get. Throughout, root
 * keeps a STAT/put/get loop going on its own queue, every request
 * answered, and at the end the daemon's peak RSS (VmHWM) must be under
 * abuse_bound_kb(): the memory bound ipcd(8) states, for these limits.
 *
 * Needs root (to be another uid); as another user the suite says why
 * and is skipped (77). Under valgrind or a sanitizer the RSS bound is
 * not checked (h_rss_kb), the rest is.
 */
#include <check.h>
#include <errno.h>
#include <grp.h>
#include <inttypes.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <sys/wait.h>

#include "harness.h"
#include "proto.h"
#include <ipcclient/ipcclient.h>

/* The daemon's limits, small so that a bound is quickly reached. */
#define A_MAX_BYTES (2L << 20)
#define A_MAX_QUEUES 256L
#define A_MAX_CONNS 8L
#define A_MAX_OUTPUT (64L << 10)
#define A_MAX_PARTIAL (1L << 20)
#define A_FRAME_TIMEOUT "2"
#define A_MSG_MAX (64L << 10)

/* The terms of the memory bound in ipcd(8) (The memory bound): the
 * program and its static buffers; per connection its record, kept
 * output buffer and hold page; each parked request (bytes); per queue or
 * pipe; the largest frame. */
#define A_BASE_KB (6L << 10)
#define A_CONN_KB 84L
#define A_PARK_BYTES 448L
#define A_OBJ_KB 1L
#define A_FRAME_KB (8L << 10)
/* Requests one connection may park (CONN_PARKS_MAX), and all together
 * (max-parked). */
#define A_PARKS_PER_CONN 4096L
#define A_MAX_PARKED 4096L
/* What uid 65534 gets: uid-max-*, by default a quarter of each global
 * limit (root keeps its own connections, and 3 more are reserved). */
#define A_UID_CONNS (A_MAX_CONNS / 4)
#define A_UID_OBJS (A_MAX_QUEUES / 4)
#define A_UID_BYTES (A_MAX_BYTES / 4)
#define A_UID_PARKED (A_MAX_PARKED / 4)
/* Another unprivileged uid, served while 65534 holds its quotas. */
#define A_OTHER_UID 4301

/* How long root's one request may take while under attack (ms): served,
 * on a machine that may be loaded. */
#define A_SERVED_MS (h_wrapped() ? 20000 : 3000)
/* How long an attack may take to build up (ms). */
#define A_ATTACK_MS (h_wrapped() ? 300000 : 60000)
/* The uid and gid that attack. */
#define A_UID 65534

/* One daemon under attack, root's connection to it and its RSS at rest. */
struct abuse {
	struct h_daemon d;
	ipc_client *root;
	long rss0;
};

/* What an attack run measured. */
struct outcome {
	long count;         /* what the attacker reported (its own measure) */
	long vals[4];       /* all it reported (count is vals[0]) */
	long hwm_kb;        /* the daemon's peak RSS (VmHWM), -1 under a wrapper */
	long bound_kb;      /* abuse_bound_kb() */
	int64_t worst_ms;   /* root's slowest round */
	long rounds;        /* root's STAT/put/get rounds during the attack */
	long refused;       /* root's puts refused by a daemon-wide limit */
};

/* One value (kB) of /proc/PID/status, or -1 where RSS means nothing. */
static long status_kb(pid_t pid, const char *field)
{
	char path[64], line[256];
	long kb = -1;
	size_t n = strlen(field);
	FILE *f;

	if (h_rss_kb(pid) < 0)
		return -1;
	snprintf(path, sizeof(path), "/proc/%d/status", (int)pid);
	f = fopen(path, "r");
	while (f && fgets(line, sizeof(line), f))
		if (strncmp(line, field, n) == 0 && line[n] == ':')
			kb = strtol(line + n + 1, NULL, 10);
	if (f)
		fclose(f);
	return kb;
}

/* The bound on the daemon's peak RSS under any attack (KiB), as ipcd(8)
 * states it: 6 MiB + max-bytes + max-partial-bytes + max-connections x
 * (84 KiB + max-output + R) + P x 448 B + max-queues x 1 KiB, where R =
 * min(8 MiB, max-bytes + 512 KiB), one reply past max-output, and P =
 * min(max-parked, 4096 x max-connections). */
static long abuse_bound_kb(void)
{
	long r = A_MAX_BYTES / 1024 + 512;
	long p = A_PARKS_PER_CONN * A_MAX_CONNS;

	if (r > A_FRAME_KB)
		r = A_FRAME_KB;
	if (p > A_MAX_PARKED)
		p = A_MAX_PARKED;
	return A_BASE_KB + (A_MAX_BYTES + A_MAX_PARTIAL) / 1024 +
	       A_MAX_CONNS * (A_CONN_KB + A_MAX_OUTPUT / 1024 + r) +
	       p * A_PARK_BYTES / 1024 + A_MAX_QUEUES * A_OBJ_KB;
}

/* Root's round: STAT, put and get on its own queue, all answered: the
 * put taken, or refused by a daemon-wide limit the attacker filled
 * (counted in *refused). The time it took (ms). */
static int64_t root_round(struct abuse *a, long *refused)
{
	int64_t t0 = h_now_ms();
	struct ipc_info in;
	void *data;
	size_t len;
	int rc;

	ck_assert_int_eq(ipc_stat(a->root, "root.q", &in, sizeof(in)), 0);
	rc = ipc_queue_put(a->root, "root.q", "r", 1, 0);
	ck_assert_msg(rc == 0 || rc == IPC_ELIMIT, "root's put: %d (%s)", rc,
		      ipc_last_error(a->root));
	*refused += rc != 0;
	rc = ipc_queue_get(a->root, "root.q", &data, &len, 0);
	ck_assert_int_eq(rc, *refused && rc ? IPC_EEMPTY : 0);
	if (rc == 0) {
		ck_assert_uint_eq(len, 1);
		ipc_free(data);
	}
	return h_now_ms() - t0;
}

/* Start a daemon every uid can reach, with the small limits and extra
 * arguments (NULL-terminated, or NULL); root connects and makes its queue. */
static void abuse_start(struct abuse *a, const char *const *extra)
{
	const char *args[32] = {
		"--socket-mode", "0666", "--max-bytes", "2M", "--max-queues", "256",
		"--max-connections", "8", "--max-output", "64K",
		"--max-partial-bytes", "1M", "--frame-timeout", A_FRAME_TIMEOUT,
		"--max-message-size", "64K", "--max-parked", "4096" };
	struct h_opts o = { .args = args, .listen_fd = -1 };
	long refused = 0;
	int n = 0;

	while (args[n] != NULL)
		n++;
	while (extra && *extra && n < 31)
		args[n++] = *extra++;
	h_prepare(&a->d);
	ck_assert_int_eq(chmod(a->d.dir, 0755), 0);
	h_launch_opts(&a->d, &o);
	a->root = h_connect(&a->d);
	ck_assert_int_eq(ipc_queue_open(a->root, "root.q",
					H_QOPTS(0, IPC_QUEUE_CREATE | IPC_QUEUE_EXCL), NULL), 0);
	for (n = 0; n < 100; n++)
		root_round(a, &refused);
	ck_assert_int_eq(refused, 0);
	a->rss0 = h_rss_kb(a->d.pid);
}

/* Stop the daemon (it must exit 0) and close root's connection. */
static void abuse_stop(struct abuse *a)
{
	ipc_close(a->root);
	h_stop(&a->d);
}

/* ---- the attacker's side (a child, uid 65534) ------------------------------ */

/* An attack: it runs in a child as A_UID, does its worst on sock, then
 * calls attack_ready() with what it achieved and keeps it all until the
 * test lets go. Returns 0, or a code saying what went wrong. */
typedef int (*attack_fn)(const char *sock);

/* The child's ends of the two pipes: ready (written), hold (read). */
static int atk_ready_fd = -1, atk_hold_fd = -1;

/* Tell the test the attack is in place (vals[0..n): its measures, n <=
 * 4), then hold everything until the test closes the hold pipe. */
static void attack_ready_n(const long *vals, int n)
{
	char line[96], c;
	int len = 0, i;

	for (i = 0; i < n && i < 4; i++)
		len += snprintf(line + len, sizeof(line) - (size_t)len, "%ld ", vals[i]);
	line[len - 1] = '\n';
	if (write(atk_ready_fd, line, (size_t)len) != len)
		_exit(90);
	while (read(atk_hold_fd, &c, 1) > 0)
		;
}

/* attack_ready_n with one measure, count. */
static void attack_ready(long count)
{
	attack_ready_n(&count, 1);
}

/* A raw connection that said HELLO (its reply is never read): fd or -1. */
static int raw_hello(const char *sock)
{
	struct proto_req r = { .op = PROTO_OP_HELLO, .id = 1,
			       .version = IPC_PROTO_VERSION };
	struct sockaddr_un sa = { .sun_family = AF_UNIX };
	int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
	struct pbuf b;

	snprintf(sa.sun_path, sizeof(sa.sun_path), "%s", sock);
	if (fd < 0 || connect(fd, (struct sockaddr *)&sa, sizeof(sa)) != 0) {
		if (fd >= 0)
			close(fd);
		return -1;
	}
	pbuf_init(&b);
	if (proto_enc_req(&b, &r) != 0 ||
	    send(fd, b.data, b.len, MSG_NOSIGNAL) != (ssize_t)b.len) {
		close(fd);
		fd = -1;
	}
	pbuf_free(&b);
	return fd;
}

/* Read the HELLO reply on a raw connection: 1 when the daemon took the
 * connection (status 0), 0 when it refused it or said nothing in 5 s. */
static int raw_accepted(int fd)
{
	unsigned char buf[512];
	struct pollfd p = { .fd = fd, .events = POLLIN };
	struct proto_rep rep;
	struct proto_dec dec;
	size_t got = 0;
	long flen = 0;
	ssize_t n;
	int ok = 0;

	while (flen == 0 && got < sizeof(buf) && poll(&p, 1, 5000) == 1 &&
	       (n = read(fd, buf + got, sizeof(buf) - got)) > 0) {
		got += (size_t)n;
		flen = proto_frame_peek(buf, got, sizeof(buf));
	}
	if (flen <= 0 || proto_dec_init(&dec) != 0)
		return 0;
	ok = proto_dec_rep(&dec, buf + PROTO_FRAME_HDR, (size_t)flen - PROTO_FRAME_HDR,
			   PROTO_OP_HELLO, &rep) == 0 && rep.status == 0;
	proto_dec_fini(&dec);
	return ok;
}

/* Wait until the daemon closes fd (EOF), at most ms: 1 if it did. */
static int raw_closed_within(int fd, int ms)
{
	struct pollfd p = { .fd = fd, .events = POLLIN };
	int64_t end = h_now_ms() + ms;
	char buf[4096];

	while (h_now_ms() < end && poll(&p, 1, 100) >= 0) {
		if (p.revents == 0)
			continue;
		if (read(fd, buf, sizeof(buf)) <= 0)
			return 1;
	}
	return 0;
}

/* Send n copies of request r (ids from id0) on fd, for as long as the
 * daemon takes them (until it has not read for 1 s): how many whole
 * frames went out. */
static long raw_pipeline(int fd, struct proto_req *r, uint32_t id0, long n)
{
	struct pollfd p = { .fd = fd, .events = POLLOUT };
	size_t off = 0, *ends = calloc((size_t)n, sizeof(*ends));
	struct pbuf b;
	ssize_t w;
	long i, whole = 0;

	pbuf_init(&b);
	for (i = 0; ends != NULL && i < n; i++) {
		r->id = id0 + (uint32_t)i;
		if (proto_enc_req(&b, r) != 0)
			break;
		ends[i] = b.len;
	}
	while (off < b.len && poll(&p, 1, 1000) == 1) {
		w = send(fd, b.data + off, b.len - off, MSG_NOSIGNAL | MSG_DONTWAIT);
		if (w < 0 && errno != EAGAIN)
			break;
		off += w > 0 ? (size_t)w : 0;
	}
	while (ends != NULL && whole < i && ends[whole] <= off)
		whole++;
	free(ends);
	pbuf_free(&b);
	return whole;
}

/* Connect through the library as the attacker, or NULL. */
static ipc_client *atk_connect(const char *sock)
{
	ipc_client *c = NULL;

	return ipc_connect(sock, &c) == 0 ? c : NULL;
}

/* Child: drop to A_UID and run the attack. */
static int attack_child(attack_fn fn, const char *sock, int ready[2], int hold[2])
{
	const gid_t none[1] = { A_UID };

	prctl(PR_SET_PDEATHSIG, SIGKILL);
	signal(SIGPIPE, SIG_IGN);
	close(ready[0]);
	close(hold[1]);
	atk_ready_fd = ready[1];
	atk_hold_fd = hold[0];
	if (setgroups(1, none) != 0 || setgid(A_UID) != 0 || setuid(A_UID) != 0 ||
	    getuid() != A_UID)
		return 91;
	return fn(sock);
}

/* ---- the test's side -------------------------------------------------------- */

/* What a case looks at while the attack is in place (or NULL). */
typedef void (*during_fn)(struct abuse *a, struct outcome *o);

/* Run attack fn against a as A_UID while root's rounds go on; once the
 * attack is in place, a few more rounds, during(), and the daemon's
 * peak RSS. */
static struct outcome abuse_run(struct abuse *a, attack_fn fn, during_fn during)
{
	struct outcome o = { .count = -1 };
	int ready[2], hold[2], st, i;
	struct pollfd p;
	char line[96] = "", *at, *end;
	int64_t ms, deadline = h_now_ms() + A_ATTACK_MS;
	ssize_t n;
	pid_t pid;

	ck_assert_int_eq(pipe(ready), 0);
	ck_assert_int_eq(pipe(hold), 0);
	pid = fork();
	ck_assert_int_ge(pid, 0);
	if (pid == 0)
		_exit(attack_child(fn, a->d.sock, ready, hold));
	close(ready[1]);
	close(hold[0]);
	p = (struct pollfd){ .fd = ready[0], .events = POLLIN };
	while (poll(&p, 1, 5) == 0) {
		ms = root_round(a, &o.refused);
		o.worst_ms = ms > o.worst_ms ? ms : o.worst_ms;
		o.rounds++;
		ck_assert_msg(h_now_ms() < deadline, "the attack never got in place");
	}
	n = read(ready[0], line, sizeof(line) - 1);
	ck_assert_msg(n > 0, "the attacker died: status %d",
		      h_wait_child(pid, 10000));
	for (at = line, i = 0; i < 4; i++, at = end)
		o.vals[i] = strtol(at, &end, 10);
	o.count = o.vals[0];
	for (i = 0; i < 50; i++, o.rounds++) {
		ms = root_round(a, &o.refused);
		o.worst_ms = ms > o.worst_ms ? ms : o.worst_ms;
	}
	if (during != NULL)
		during(a, &o);
	o.hwm_kb = status_kb(a->d.pid, "VmHWM");
	o.bound_kb = abuse_bound_kb();
	close(hold[1]);
	st = h_wait_child(pid, 30000);
	close(ready[0]);
	ck_assert_msg(st == 0, "the attacker failed: status %d", st);
	return o;
}

/* Print what a case measured and check the two promises: root was
 * served throughout, the daemon's peak RSS stayed under the bound. */
static void abuse_check(const char *what, const struct abuse *a,
			const struct outcome *o)
{
	printf("abuse %s: attacker %ld; daemon VmHWM %ld KiB (at rest %ld, "
	       "bound %ld); root: %ld rounds, slowest %" PRId64 " ms, %ld puts "
	       "refused\n", what, o->count, o->hwm_kb, a->rss0, o->bound_kb,
	       o->rounds, o->worst_ms, o->refused);
	fflush(stdout);
	ck_assert_msg(o->worst_ms < A_SERVED_MS, "%s: root waited %" PRId64 " ms",
		      what, o->worst_ms);
	if (o->hwm_kb >= 0)
		ck_assert_msg(o->hwm_kb < o->bound_kb, "%s: daemon peak RSS %ld KiB "
			      "over the bound %ld KiB", what, o->hwm_kb, o->bound_kb);
}

/* Run one attack on a fresh daemon started with extra arguments (NULL-
 * terminated, or NULL) and check it. */
static struct outcome abuse_case_args(const char *what, const char *const *extra,
				      attack_fn fn, during_fn during)
{
	struct abuse a;
	struct outcome o;

	abuse_start(&a, extra);
	o = abuse_run(&a, fn, during);
	abuse_check(what, &a, &o);
	abuse_stop(&a);
	return o;
}

/* Run one attack on a fresh daemon with the suite's limits and check it. */
static struct outcome abuse_case(const char *what, attack_fn fn, during_fn during)
{
	return abuse_case_args(what, NULL, fn, during);
}

/* ---- the attacks ------------------------------------------------------------- */

/* Unfinished frames: every connection it gets announces an 8 MiB request
 * and sends 64 KiB of it; none completes, and each must be closed once
 * frame-timeout (2 s) has passed. Reports the connections closed so. */
static int atk_frames(const char *sock)
{
	static unsigned char part[PROTO_FRAME_HDR + (64 << 10)];
	int fds[A_MAX_CONNS], n = 0, closed = 0;

	part[1] = 0x80;             /* 8 MiB, big-endian */
	memset(part + PROTO_FRAME_HDR, 0x94, sizeof(part) - PROTO_FRAME_HDR);
	while (n < A_MAX_CONNS && (fds[n] = raw_hello(sock)) >= 0) {
		if (!raw_accepted(fds[n]))
			break;
		if (send(fds[n], part, sizeof(part), MSG_NOSIGNAL) != sizeof(part))
			return 4;
		n++;
	}
	for (int i = 0; i < n; i++)
		closed += raw_closed_within(fds[i], h_wrapped() ? 60000 : 10000);
	attack_ready(closed);
	return closed == n && n > 0 ? 0 : 3;
}

START_TEST(test_unfinished_frames)
{
	struct outcome o = abuse_case("unfinished_frames", atk_frames, NULL);

	/* Every connection its uid may have, each closed by frame-timeout. */
	ck_assert_int_eq(o.count, A_UID_CONNS);
}
END_TEST

/* Many connections: as many as the daemon takes, each said HELLO; the
 * ones refused are counted out. Reports how many it holds. */
static int atk_connections(const char *sock)
{
	long held = 0;
	int fd;

	for (int i = 0; i < A_MAX_CONNS + 8; i++) {
		fd = raw_hello(sock);
		if (fd < 0)
			break;
		if (raw_accepted(fd))
			held++;
		else
			close(fd);
	}
	attack_ready(held);
	return 0;
}

START_TEST(test_many_connections)
{
	struct outcome o = abuse_case("many_connections", atk_connections, NULL);

	ck_assert_int_eq(o.count, A_UID_CONNS);
}
END_TEST

/* Many queues and pipes, with 128-byte names, until max-queues. */
static int atk_objects(const char *sock)
{
	ipc_client *c = atk_connect(sock);
	char name[IPC_NAME_MAX + 1];
	long n = 0;
	int rc = 0;

	if (c == NULL)
		return 2;
	while (rc == 0 && n < 4 * A_MAX_QUEUES) {
		snprintf(name, sizeof(name), "a.%06ld.%0*d", n, IPC_NAME_MAX - 9, 0);
		if (n % 2)
			rc = ipc_pipe_attach(c, name, 0, IPC_PIPE_CREATE, NULL);
		else
			rc = ipc_queue_open(c, name, H_QOPTS(0, IPC_QUEUE_CREATE), NULL);
		n += rc == 0;
	}
	attack_ready(n);
	ipc_close(c);
	return rc == IPC_ELIMIT ? 0 : 3;
}

START_TEST(test_many_objects)
{
	struct outcome o = abuse_case("many_objects", atk_objects, NULL);

	ck_assert_int_le(o.count, A_MAX_QUEUES);
}
END_TEST

/* Parked requests: on every connection it gets, as many gets waiting
 * forever on an empty queue as the daemon parks (and a few more). */
static int atk_parked(const char *sock)
{
	struct proto_req r = { .op = PROTO_OP_QGET, .timeout_ms = -1 };
	ipc_client *c = atk_connect(sock);
	long sent = 0, n;
	int fd;

	if (c == NULL || ipc_queue_open(c, "a.park", H_QOPTS(0, IPC_QUEUE_CREATE),
					NULL) != 0)
		return 2;
	strcpy(r.name, "a.park");
	for (int i = 0; i < A_MAX_CONNS; i++) {
		fd = raw_hello(sock);
		if (fd < 0)
			break;
		n = raw_pipeline(fd, &r, 2, A_PARKS_PER_CONN + 16);
		sent += n > 0 ? n : 0;
	}
	/* Let the daemon read them all before the test looks. */
	usleep(500000);
	attack_ready(sent);
	ipc_close(c);
	return 0;
}

/* How many requests are parked on a.park (root's STAT). */
static void count_parked(struct abuse *a, struct outcome *o)
{
	struct ipc_info in;

	ck_assert_int_eq(ipc_stat(a->root, "a.park", &in, sizeof(in)), 0);
	printf("abuse parked_requests: %u gets parked on a.park\n", in.getters);
	o->count = in.getters;
}

START_TEST(test_parked_requests)
{
	struct outcome o = abuse_case("parked_requests", atk_parked, count_parked);

	ck_assert_int_le(o.count, (A_MAX_CONNS - 1) * A_PARKS_PER_CONN);
}
END_TEST

/* Hash-colliding names: names whose unkeyed FNV-1a hash (what ipcd used
 * before SipHash) ends in 12 zero bits, all in one bucket of 4096. */
static int atk_collide(const char *sock)
{
	ipc_client *c = atk_connect(sock);
	char name[32];
	long made = 0;
	struct ipc_info in;

	if (c == NULL)
		return 2;
	for (uint32_t k = 0; made < A_MAX_QUEUES - 8 && k < (1u << 26); k++) {
		uint32_t h = 2166136261u;

		snprintf(name, sizeof(name), "c.%08" PRIx32, k);
		for (const char *p = name; *p; p++)
			h = (h ^ (unsigned char)*p) * 16777619u;
		if ((h & 0xfff) != 0)
			continue;
		if (ipc_queue_open(c, name, H_QOPTS(0, IPC_QUEUE_CREATE), NULL) != 0)
			break;
		made++;
	}
	/* A missing name walks the whole chain, if there is one. */
	for (int i = 0; i < 2000; i++)
		if (ipc_stat(c, "c.missing", &in, sizeof(in)) != IPC_ENOENT)
			return 3;
	attack_ready(made);
	ipc_close(c);
	return 0;
}

START_TEST(test_colliding_names)
{
	abuse_case("colliding_names", atk_collide, NULL);
}
END_TEST

/* Pipe-end churn: 64 pipes, both ends attached, detached and closed
 * over and over (the ends of closed pipes are gone, so new ones come). */
static int atk_pipe_churn(const char *sock)
{
	ipc_client *c = atk_connect(sock);
	char name[32];
	long ops = 0;

	if (c == NULL)
		return 2;
	for (int round = 0; round < 40; round++) {
		for (int i = 0; i < 64; i++) {
			snprintf(name, sizeof(name), "p.%d.%d", round, i);
			for (int e = 0; e < 2; e++)
				ops += ipc_pipe_attach(c, name, e, IPC_PIPE_CREATE, NULL) == 0;
		}
		for (int i = 0; i < 64; i++) {
			snprintf(name, sizeof(name), "p.%d.%d", round, i);
			ops += ipc_pipe_detach(c, name, 0) == 0;
			ops += ipc_pipe_attach(c, name, 0, 0, NULL) == 0;
			ops += ipc_pipe_close(c, name, 0) == 0;
			ops += ipc_pipe_close(c, name, 1) == 0;
		}
	}
	attack_ready(ops);
	ipc_close(c);
	return ops == 40 * 64 * 6 ? 0 : 3;
}

START_TEST(test_pipe_churn)
{
	abuse_case("pipe_churn", atk_pipe_churn, NULL);
}
END_TEST

/* LIST: fill the namespace with long names, then pipeline LISTs (each
 * answered with a full page) and never read. */
static int atk_list(const char *sock)
{
	struct proto_req r = { .op = PROTO_OP_LIST };
	ipc_client *c = atk_connect(sock);
	char name[IPC_NAME_MAX + 1];
	long n = 0, sent;
	int fd;

	if (c == NULL)
		return 2;
	while (n < A_MAX_QUEUES - 8) {
		snprintf(name, sizeof(name), "l.%06ld.%0*d", n, IPC_NAME_MAX - 9, 0);
		if (ipc_queue_open(c, name, H_QOPTS(0, IPC_QUEUE_CREATE), NULL) != 0)
			break;
		n++;
	}
	fd = raw_hello(sock);
	sent = fd >= 0 ? raw_pipeline(fd, &r, 2, 2000) : -1;
	attack_ready(sent);
	ipc_close(c);
	return 0;
}

START_TEST(test_list)
{
	abuse_case("list", atk_list, NULL);
}
END_TEST

/* Flooding: two connections pipeline STATs as fast as the daemon answers
 * them (reading every reply) for 3 s; root's rounds go on meanwhile
 * (abuse_check bounds the slowest by A_SERVED_MS; on a quiet machine it
 * is well under 100 ms, loaded or not the same before and after the
 * round-robin turns, so no tighter bound is asserted). */
static int atk_flood(const char *sock)
{
	struct proto_req r = { .op = PROTO_OP_STAT };
	static char sink[1 << 16];
	int fds[2];
	long sent = 0;
	int64_t end = h_now_ms() + 3000;

	strcpy(r.name, "f.missing");
	for (int i = 0; i < 2; i++)
		if ((fds[i] = raw_hello(sock)) < 0 || !raw_accepted(fds[i]))
			return 2;
	while (h_now_ms() < end) {
		for (int i = 0; i < 2; i++) {
			sent += raw_pipeline(fds[i], &r, (uint32_t)sent + 2, 256);
			while (recv(fds[i], sink, sizeof(sink), MSG_DONTWAIT) > 0)
				;
		}
	}
	attack_ready(sent);
	return 0;
}

START_TEST(test_flood)
{
	struct outcome o = abuse_case("flood", atk_flood, NULL);

	ck_assert_int_gt(o.count, 10000);
}
END_TEST

/* Many empty messages: batches of 1024 empty puts until the daemon
 * refuses (max-bytes) or A_EMPTY_CAP went in. */
#define A_EMPTY_CAP 600000L
static int atk_empty(const char *sock)
{
	static struct ipc_msg batch[IPC_BATCH_MAX];
	ipc_client *c = atk_connect(sock);
	long total = 0;
	size_t n = 0;
	int rc = 0;

	if (c == NULL || ipc_queue_open(c, "a.empty", H_QOPTS(0, IPC_QUEUE_CREATE),
					NULL) != 0)
		return 2;
	for (int i = 0; i < IPC_BATCH_MAX; i++)
		batch[i] = (struct ipc_msg){ "", 0 };
	while (rc == 0 && total < A_EMPTY_CAP) {
		rc = ipc_queue_put_many(c, "a.empty", batch, IPC_BATCH_MAX, &n, 0);
		total += (long)n;
	}
	attack_ready(total);
	ipc_close(c);
	return rc == 0 || rc == IPC_ELIMIT ? 0 : 3;
}

START_TEST(test_empty_messages)
{
	struct outcome o = abuse_case("empty_messages", atk_empty, NULL);

	ck_assert_msg(o.count < A_EMPTY_CAP, "%ld empty messages taken under "
		      "max-bytes 2M", o.count);
}
END_TEST

/* A client that never reads: 36 batch gets parked on a connection it
 * never reads, then batches of 64 messages of 15 KiB put for them: the
 * messages moved into the unread output must still count against
 * max-bytes, and gets past max-output must not be served (issue 11 item
 * 2: +275 MB). At most A_NONREADER_ROUNDS batches (120 MB). */
#define A_NONREADER_ROUNDS 128
#define A_NONREADER_MSG (15 << 10)
static int atk_nonreader(const char *sock)
{
	struct proto_req r = { .op = PROTO_OP_QGETN, .max = IPC_BATCH_MAX,
			       .timeout_ms = -1 };
	static char body[A_NONREADER_MSG];
	struct ipc_msg batch[64];
	ipc_client *c = atk_connect(sock);
	int fd = raw_hello(sock), rc = 0, refusals = 0;
	long total = 0;
	size_t n;

	if (c == NULL || fd < 0 ||
	    ipc_queue_open(c, "a.out", H_QOPTS(0, IPC_QUEUE_CREATE), NULL) != 0)
		return 2;
	strcpy(r.name, "a.out");
	if (raw_pipeline(fd, &r, 2, 36) != 36)
		return 3;
	usleep(200000);
	for (int i = 0; i < 64; i++)
		batch[i] = (struct ipc_msg){ body, sizeof(body) };
	for (int round = 0; round < A_NONREADER_ROUNDS && refusals < 3; round++) {
		n = 0;
		rc = ipc_queue_put_many(c, "a.out", batch, 64, &n, 0);
		if (rc != 0 && rc != IPC_ELIMIT)
			return 4;
		total += (long)n;
		refusals += rc == IPC_ELIMIT;
	}
	attack_ready(total);
	ipc_close(c);
	return 0;
}

START_TEST(test_nonreading_client)
{
	/* Its uid may take all of max-bytes: max-output is what holds it. */
	static const char *const extra[] = { "--uid-max-bytes", "100%", NULL };
	struct outcome o = abuse_case_args("nonreading_client", extra,
					   atk_nonreader, NULL);

	/* What max-bytes holds, queued or in the output, plus one batch. */
	ck_assert_int_le(o.count, A_MAX_BYTES / A_NONREADER_MSG + 64);
}
END_TEST

/* Every per-uid quota at once: the uid holds all the connections it may
 * have (a library one and a raw one; the next is refused), as many
 * queues and pipes as it may own (long names), messages of 1 KiB filling
 * its byte quota, and on its raw connection as many gets parked as it
 * may have (and 64 more, refused). Reports connections, objects,
 * messages, gets sent. */
static int atk_quota(const char *sock)
{
	struct proto_req get = { .op = PROTO_OP_QGET, .timeout_ms = -1 };
	static char body[1024];
	char name[IPC_NAME_MAX + 1];
	ipc_client *c = atk_connect(sock), *x = NULL;
	long v[4] = { 1, 0, 0, 0 };
	int raw = c != NULL ? raw_hello(sock) : -1, rc = 0;

	if (raw < 0 || !raw_accepted(raw))
		return 2;
	v[0]++;
	if (ipc_connect(sock, &x) != IPC_ELIMIT)
		return 3;
	while (rc == 0) {
		snprintf(name, sizeof(name), "u.%06ld.%0*d", v[1], IPC_NAME_MAX - 9, 0);
		rc = v[1] % 2 ? ipc_pipe_attach(c, name, 0, IPC_PIPE_CREATE, NULL)
			      : ipc_queue_open(c, name, H_QOPTS(0, IPC_QUEUE_CREATE), NULL);
		v[1] += rc == 0;
	}
	snprintf(name, sizeof(name), "u.%06d.%0*d", 0, IPC_NAME_MAX - 9, 0);
	if (rc != IPC_ELIMIT)
		return 4;
	while ((rc = ipc_queue_put(c, name, body, sizeof(body), 0)) == 0)
		v[2]++;
	/* The parks go on its second queue, empty. */
	snprintf(get.name, sizeof(get.name), "u.%06d.%0*d", 2, IPC_NAME_MAX - 9, 0);
	v[3] = raw_pipeline(raw, &get, 2, A_UID_PARKED + 64);
	usleep(300000);
	attack_ready_n(v, 4);
	ipc_close(c);
	return rc == IPC_ELIMIT ? 0 : 5;
}

/* Another uid (A_OTHER_UID), while 65534 holds its quotas: connects
 * twice, creates a queue, puts, gets; 0 or the step that failed. */
static int other_uid_run(void *arg)
{
	const gid_t g[1] = { A_OTHER_UID };
	ipc_client *c[2] = { NULL, NULL };
	void *data = NULL;
	size_t len;

	if (setgroups(1, g) != 0 || setgid(A_OTHER_UID) != 0 ||
	    setuid(A_OTHER_UID) != 0)
		return 91;
	if (ipc_connect(arg, &c[0]) != 0 || ipc_connect(arg, &c[1]) != 0)
		return 1;
	if (ipc_queue_open(c[0], "o.q", H_QOPTS(0, IPC_QUEUE_CREATE), NULL) != 0 ||
	    ipc_queue_put(c[0], "o.q", "other", 5, 0) != 0)
		return 2;
	if (ipc_queue_get(c[1], "o.q", &data, &len, 0) != 0 || len != 5)
		return 3;
	ipc_free(data);
	ipc_close(c[0]);
	ipc_close(c[1]);
	return 0;
}

/* While the quotas are held: root connects anew, creates, puts, gets;
 * uid 4301 does the same in a child; root counts the parked gets. */
static void quota_served(struct abuse *a, struct outcome *o)
{
	char name[IPC_NAME_MAX + 1];
	ipc_client *c = h_connect(&a->d);
	struct ipc_info in;

	h_create_queue(c, "root.new", 0);
	h_put_text(c, "root.new", "served");
	h_get_expect(c, "root.new", "served", 0);
	ipc_close(c);
	ck_assert_int_eq(h_wait_child(h_spawn(other_uid_run, a->d.sock),
				      A_SERVED_MS), 0);
	snprintf(name, sizeof(name), "u.%06d.%0*d", 2, IPC_NAME_MAX - 9, 0);
	ck_assert_int_eq(ipc_stat(a->root, name, &in, sizeof(in)), 0);
	o->vals[3] = in.getters;
}

START_TEST(test_uid_quotas)
{
	struct outcome o = abuse_case("uid_quotas", atk_quota, quota_served);
	long fp = ((1024 + 56) + 15) / 16 * 16;    /* a 1 KiB message's footprint */

	printf("abuse uid_quotas: %ld connections, %ld queues and pipes, %ld "
	       "messages of 1 KiB, %ld gets parked\n", o.vals[0], o.vals[1],
	       o.vals[2], o.vals[3]);
	ck_assert_int_eq(o.vals[0], A_UID_CONNS);
	ck_assert_int_eq(o.vals[1], A_UID_OBJS);
	ck_assert_int_le(o.vals[2] * fp, A_UID_BYTES);
	ck_assert_int_gt((o.vals[2] + 1) * fp, A_UID_BYTES);
	ck_assert_int_eq(o.vals[3], A_UID_PARKED);
	ck_assert_int_eq(o.refused, 0);     /* root never met a global limit */
}
END_TEST

/* The whole suite: one case per path. */
static Suite *abuse_suite(void)
{
	Suite *s = suite_create("abuse");

	h_add_case(s, "unfinished_frames", test_unfinished_frames, 90);
	h_add_case(s, "many_connections", test_many_connections, 90);
	h_add_case(s, "many_objects", test_many_objects, 90);
	h_add_case(s, "parked_requests", test_parked_requests, 90);
	h_add_case(s, "colliding_names", test_colliding_names, 90);
	h_add_case(s, "pipe_churn", test_pipe_churn, 90);
	h_add_case(s, "list", test_list, 90);
	h_add_case(s, "flood", test_flood, 90);
	h_add_case(s, "empty_messages", test_empty_messages, 90);
	h_add_case(s, "nonreading_client", test_nonreading_client, 90);
	h_add_case(s, "uid_quotas", test_uid_quotas, 90);
	return s;
}

/* Run the suite, one forked process per test. */
int main(void)
{
	if (geteuid() != 0) {
		fprintf(stderr, "SKIP: check_abuse: the attacker is uid %d, and "
			"becoming it needs root\n", A_UID);
		return 77;
	}
	return h_run_suite(abuse_suite());
}
