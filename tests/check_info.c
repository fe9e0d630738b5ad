/* SPDX-License-Identifier: MIT */
/*
 * check_info.c: the daemon's figures (INFO, ipc_daemon_info) against the
 * real ipcd: each counter driven by the event it counts and checked
 * exactly (puts, gets, Full, Empty, limits, permissions, too big, fatal
 * errors, connections, parked and in-flight requests, pipes, deleted
 * queues, dead-lettering), the journal's figures, `ipcctl info` (text and --json, the
 * same keys, each in ipcctl(1)) and `ipcctl metrics`, checked line by
 * line against the Prometheus text exposition format.
 */
#include <check.h>
#include <errno.h>
#include <grp.h>
#include <regex.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

#include "harness.h"
#include <ipcclient/ipcclient.h>
#include "proto.h"

/* How long a child may take to finish its part (ms). */
#define T_CHILD_MS (h_wrapped() ? 120000 : 20000)

/* The uid and gid the permission test's child switches to. */
#define T_STRANGER 4217

/* The daemon's figures now, asserting success. */
static struct ipc_daemon_info info_now(ipc_client *c)
{
	struct ipc_daemon_info d;

	memset(&d, 0xa5, sizeof(d));
	ck_assert_int_eq(ipc_daemon_info(c, &d, sizeof(d)), 0);
	return d;
}

/* Wait until the daemon serves exactly n clients (a close it has not
 * read yet still counts). */
static void wait_connections(ipc_client *c, unsigned long long n)
{
	int64_t until = h_now_ms() + T_CHILD_MS;

	while (info_now(c).connections != n) {
		ck_assert_msg(h_now_ms() < until, "never %llu connections", n);
		usleep(2000);
	}
}

/* A raw connection that said HELLO: the socket. */
static int raw_hello(const struct h_daemon *d)
{
	struct proto_req q = { .op = PROTO_OP_HELLO, .id = 1,
			       .version = IPC_PROTO_VERSION };
	struct sockaddr_un sa = { .sun_family = AF_UNIX };
	unsigned char buf[256];
	struct pbuf b;
	int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);

	ck_assert_int_ge(fd, 0);
	snprintf(sa.sun_path, sizeof(sa.sun_path), "%s", d->sock);
	ck_assert_int_eq(connect(fd, (struct sockaddr *)&sa, sizeof(sa)), 0);
	pbuf_init(&b);
	ck_assert_int_eq(proto_enc_req(&b, &q), 0);
	ck_assert_int_eq(send(fd, b.data, b.len, MSG_NOSIGNAL), (ssize_t)b.len);
	pbuf_free(&b);
	ck_assert_int_gt(recv(fd, buf, sizeof(buf), 0), 4);
	return fd;
}

/* Send request q on raw connection fd and return its reply's status. */
static int raw_status(int fd, const struct proto_req *q)
{
	unsigned char buf[512];
	struct proto_dec dec;
	struct proto_rep rep;
	struct pbuf b;
	ssize_t n;

	pbuf_init(&b);
	ck_assert_int_eq(proto_enc_req(&b, q), 0);
	ck_assert_int_eq(send(fd, b.data, b.len, MSG_NOSIGNAL), (ssize_t)b.len);
	pbuf_free(&b);
	n = recv(fd, buf, sizeof(buf), 0);
	ck_assert_int_gt(n, 4);
	ck_assert_int_eq(proto_dec_init(&dec), 0);
	ck_assert_int_eq(proto_dec_rep(&dec, buf + 4, (size_t)n - 4, q->op, &rep), 0);
	proto_dec_fini(&dec);
	return rep.status;
}

/* The daemon refuses a put over its message size (the library would not
 * send one), then a frame that is not msgpack at all (fatal). */
static void raw_refusals(const struct h_daemon *d)
{
	static unsigned char big[2048];
	static const unsigned char junk[] = { 0, 0, 0, 1, 0xc1 };
	struct proto_req q = { .op = PROTO_OP_QPUT, .id = 2, .name = "q",
			       .data = big, .data_len = sizeof(big) };
	char c;
	int fd = raw_hello(d);

	ck_assert_int_eq(raw_status(fd, &q), IPC_ETOOBIG);
	ck_assert_int_eq(send(fd, junk, sizeof(junk), MSG_NOSIGNAL), (ssize_t)sizeof(junk));
	while (recv(fd, &c, 1, 0) > 0)
		;     /* the -2 reply, then EOF */
	close(fd);
}

/* As uid T_STRANGER: a put and a get on root's 0600 queue "q", both
 * refused. */
static int child_stranger(void *arg)
{
	ipc_client *c;
	void *m;
	size_t len;

	if (setgroups(0, NULL) != 0 || setgid(T_STRANGER) != 0 ||
	    setuid(T_STRANGER) != 0)
		return 125;
	if (h_ipc_connect(arg, &c))
		return 120;
	if (ipc_queue_put(c, "q", "x", 1, 0) != IPC_EPERM)
		return 1;
	if (ipc_queue_get(c, "q", &m, &len, 0) != IPC_EPERM)
		return 2;
	ipc_close(c);
	return 0;
}

/* The figures of a fresh daemon with one client: nothing moved yet
 * (the harness's readiness check connected once, and said HELLO). */
static void expect_fresh(const struct ipc_daemon_info *i)
{
	ck_assert_str_eq(i->version, IPC_VERSION_STRING);
	ck_assert_uint_gt(i->pid, 1);
	ck_assert_uint_eq(i->connections, 1);
	ck_assert_uint_eq(i->connections_total, 2);
	ck_assert_uint_eq(i->max_connections, 3);
	ck_assert_uint_eq(i->max_bytes, 5000);
	ck_assert_uint_eq(i->msg_max, 1024);
	ck_assert_uint_eq(i->max_queues, 65536);
	ck_assert_uint_eq(i->requests, 3);      /* 2 HELLOs and this INFO */
	ck_assert_uint_eq(i->queues + i->pipes + i->messages + i->bytes, 0);
	ck_assert_uint_eq(i->puts + i->gets + i->refused_full + i->refused_other, 0);
	ck_assert_uint_eq(i->durable, 0);
	ck_assert_uint_eq(i->journal_syncs + i->journal_bytes, 0);
}

/* Puts, gets, Full, Empty, a get for ack and its release: the queue
 * counters and the daemon-wide ones agree. */
static void drive_queue(ipc_client *c)
{
	struct ipc_daemon_info i;
	void *m;
	size_t len;
	uint64_t tag;

	ck_assert_int_eq(ipc_queue_open(c, "q", H_QOPTS_MODE(2, IPC_QUEUE_CREATE, 0600), NULL), 0);
	h_put_text(c, "q", "aaa");
	h_put_text(c, "q", "bb");
	ck_assert_int_eq(ipc_queue_put(c, "q", "c", 1, 0), IPC_EFULL);
	ck_assert_int_eq(ipc_queue_put(c, "q", "c", 1, 20), IPC_EFULL);
	h_get_expect(c, "q", "aaa", 0);
	ck_assert_int_eq(ipc_queue_get_ack(c, "q", &m, &len, &tag, 0, 0), 0);
	ipc_free(m);
	ck_assert_int_eq(ipc_queue_get(c, "q", &m, &len, 0), IPC_EEMPTY);
	i = info_now(c);
	ck_assert_uint_eq(i.queues, 1);
	ck_assert_uint_eq(i.puts, 2);
	ck_assert_uint_eq(i.gets, 2);
	ck_assert_uint_eq(i.inflight, 1);
	ck_assert_uint_eq(i.messages, 0);
	ck_assert_uint_eq(i.bytes, 2);          /* "bb", in flight */
	ck_assert_uint_eq(i.refused_full, 2);
	ck_assert_uint_eq(i.gets_empty, 1);
	ck_assert_int_eq(ipc_queue_release(c, "q", tag, 0), 0);
	i = info_now(c);
	ck_assert_uint_eq(i.inflight, 0);
	ck_assert_uint_eq(i.requeued, 1);
	ck_assert_uint_eq(i.messages, 1);
}

/* A client that waits for one message on "idle" (parked meanwhile). */
static int child_getter(void *arg)
{
	ipc_client *c;
	void *m;
	size_t len;
	int rc;

	if (h_ipc_connect(arg, &c))
		return 120;
	rc = ipc_queue_get(c, "idle", &m, &len, 60000);
	if (rc == 0)
		ipc_free(m);
	ipc_close(c);
	return rc;
}

/* A parked get counts while it waits; a pipe's messages count as sends
 * and receives. */
static void drive_parked_and_pipe(ipc_client *c, ipc_client *c2,
				  const struct h_daemon *d)
{
	struct ipc_daemon_info i;
	pid_t getter;
	void *m;
	size_t len;

	h_create_queue(c, "idle", 0);
	getter = h_spawn(child_getter, (void *)d->sock);
	h_wait_parked(c, "idle", 'g', 1);
	ck_assert_uint_eq(info_now(c).parked, 1);
	h_put_text(c, "idle", "w");
	ck_assert_int_eq(h_wait_child(getter, T_CHILD_MS), 0);
	ck_assert_uint_eq(info_now(c).parked, 0);
	wait_connections(c, 2);
	ck_assert_int_eq(ipc_pipe_attach(c, "p", 1, IPC_PIPE_CREATE, NULL), 0);
	ck_assert_int_eq(ipc_pipe_attach(c2, "p", 0, IPC_PIPE_CREATE, NULL), 0);
	ck_assert_int_eq(ipc_pipe_send(c, "p", 1, "s1", 2, 0), 0);
	ck_assert_int_eq(ipc_pipe_send(c, "p", 1, "s2", 2, 0), 0);
	ck_assert_int_eq(ipc_pipe_recv(c2, "p", 0, &m, &len, 0), 0);
	ipc_free(m);
	i = info_now(c);
	ck_assert_uint_eq(i.pipes, 1);
	ck_assert_uint_eq(i.queues, 2);
	ck_assert_uint_eq(i.sends, 2);
	ck_assert_uint_eq(i.receives, 1);
	ck_assert_uint_eq(i.messages, 2);       /* "bb" back in q, "s2" */
	ck_assert_uint_eq(i.bytes, 4);
	ck_assert_uint_eq(i.puts, 3);
	ck_assert_uint_eq(i.gets, 3);
}

/* max-bytes and max-connections refuse, and are counted: a put past
 * 5000 bytes held (each message counts its overhead too: 4 of 1000 bytes
 * fit, not 5), a fourth client (three are connected). */
static void drive_limits(ipc_client *c, const struct h_daemon *d)
{
	static char kb[1000];
	struct ipc_daemon_info i;
	ipc_client *c3, *c4;
	int k;

	h_create_queue(c, "big", 0);
	for (k = 0; k < 4; k++)
		ck_assert_int_eq(ipc_queue_put(c, "big", kb, sizeof(kb), 0), 0);
	ck_assert_int_eq(ipc_queue_put(c, "big", kb, sizeof(kb), 0), IPC_ELIMIT);
	c3 = h_connect(d);
	ck_assert_int_eq(ipc_connect(d->sock, &c4), IPC_ELIMIT);
	i = info_now(c);
	ck_assert_uint_eq(i.connections, 3);
	ck_assert_uint_eq(i.connections_refused, 1);
	ck_assert_uint_eq(i.refused_limit, 2);  /* the put, the HELLO */
	ck_assert_uint_eq(i.bytes, 4004);
	ck_assert_uint_gt(i.held_bytes, i.bytes);   /* overhead counts */
	ck_assert_uint_le(i.held_bytes, i.max_bytes);
	ck_assert_uint_eq(i.puts, 7);
	ipc_close(c3);
	wait_connections(c, 2);
}

/* Every counter, driven by the event it counts, exactly; deleting a
 * queue or pipe keeps what it counted in the daemon's totals. */
START_TEST(test_counters)
{
	/* No connection reserved for root: the stranger takes the third. */
	static const char *const args[] = { "--socket-mode", "0666",
		"--max-connections", "3", "--max-bytes", "5000",
		"--max-message-size", "1024", "--reserved-connections", "0", NULL };
	struct h_opts o = { .args = args, .listen_fd = -1 };
	int root = geteuid() == 0;
	struct ipc_daemon_info i;
	struct h_daemon d;
	ipc_client *c, *c2;

	h_prepare(&d);
	ck_assert_int_eq(chmod(d.dir, 0755), 0);
	h_launch_opts(&d, &o);
	c = h_connect(&d);
	i = info_now(c);
	expect_fresh(&i);
	drive_queue(c);
	c2 = h_connect(&d);
	drive_parked_and_pipe(c, c2, &d);
	drive_limits(c, &d);
	if (root)
		ck_assert_int_eq(h_wait_child(h_spawn(child_stranger, (void *)d.sock),
					      T_CHILD_MS), 0);
	wait_connections(c, 2);
	raw_refusals(&d);
	wait_connections(c, 2);
	ck_assert_int_eq(ipc_queue_put(c, "nope", "x", 1, 0), IPC_ENOENT);
	ck_assert_int_eq(ipc_delete(c, "q"), 0);
	ck_assert_int_eq(ipc_delete(c, "p"), 0);
	i = info_now(c);
	ck_assert_uint_eq(i.queues, 2);
	ck_assert_uint_eq(i.pipes, 0);
	ck_assert_uint_eq(i.messages, 4);
	ck_assert_uint_eq(i.puts, 7);
	ck_assert_uint_eq(i.gets, 3);
	ck_assert_uint_eq(i.requeued, 1);
	ck_assert_uint_eq(i.sends, 2);
	ck_assert_uint_eq(i.receives, 1);
	ck_assert_uint_eq(i.refused_perm, root ? 2 : 0);
	ck_assert_uint_eq(i.refused_toobig, 1);
	ck_assert_uint_eq(i.refused_other, 1);
	ck_assert_uint_eq(i.refused_nospc, 0);
	ck_assert_uint_eq(i.errors_fatal, 1);
	ck_assert_uint_eq(i.connections, 2);
	ck_assert_uint_eq(i.connections_total, root ? 7 : 6);
	ck_assert_uint_eq(i.connections_refused, 1);
	ck_assert_uint_ge(i.uptime_ms, 1);
	ipc_close(c2);
	ipc_close(c);
	h_stop(&d);
}
END_TEST

/* A journal shows in the figures once a durable queue opens it; every
 * durable put is answered after a sync, so each one is a sync round. */
START_TEST(test_journal)
{
	struct ipc_daemon_info i;
	struct h_daemon d;
	ipc_client *c;

	h_start(&d);
	c = h_connect(&d);
	i = info_now(c);
	ck_assert_uint_eq(i.durable, 0);
	ck_assert_uint_eq(i.journal_bytes + i.journal_syncs + i.journal_segments, 0);
	ck_assert_int_eq(ipc_queue_open(c, "dq", H_QOPTS(0, IPC_QUEUE_CREATE |
							 IPC_QUEUE_DURABLE), NULL), 0);
	h_put_text(c, "dq", "one");
	h_put_text(c, "dq", "two");
	h_put_text(c, "dq", "three");
	i = info_now(c);
	ck_assert_uint_eq(i.durable, 1);
	ck_assert_uint_ge(i.journal_segments, 1);
	ck_assert_uint_gt(i.journal_written, 0);
	ck_assert_uint_gt(i.journal_live, 0);
	ck_assert_uint_le(i.journal_live, i.journal_bytes);
	ck_assert_uint_ge(i.journal_syncs, 3);
	ck_assert_uint_le(i.journal_sync_max_us, i.journal_sync_us);
	ck_assert_uint_eq(i.puts, 3);
	ipc_close(c);
	h_stop(&d);
}
END_TEST

/* A smaller struct (a program built against an older header) gets its
 * bytes and no more; one too small for the first version is refused. */
START_TEST(test_sizes)
{
	unsigned char buf[sizeof(struct ipc_daemon_info) + 16];
	struct h_daemon d;
	ipc_client *c;

	h_start(&d);
	c = h_connect(&d);
	memset(buf, 0x5a, sizeof(buf));
	ck_assert_int_eq(ipc_daemon_info(c, (void *)buf, sizeof(buf)), 0);
	ck_assert_uint_eq(buf[sizeof(buf) - 1], 0);   /* zeroed past the fields */
	ck_assert_uint_eq(((struct ipc_daemon_info *)(void *)buf)->connections, 1);
	ck_assert_int_eq(ipc_daemon_info(c, (void *)buf, 100), IPC_EINVAL);
	ck_assert_int_eq(ipc_daemon_info(c, NULL, sizeof(buf)), IPC_EINVAL);
	ipc_close(c);
	h_stop(&d);
}
END_TEST

/* The keys of `ipcctl info` text ("key: value" lines) into keys[], in
 * order; how many. */
static size_t text_keys(char *text, char keys[][32], size_t max)
{
	char *line, *save = NULL, *colon;
	size_t n = 0;

	for (line = strtok_r(text, "\n", &save); line && n < max;
	     line = strtok_r(NULL, "\n", &save)) {
		colon = strstr(line, ": ");
		ck_assert_msg(colon, "not a key: value line: %s", line);
		snprintf(keys[n++], 32, "%.*s", (int)(colon - line), line);
	}
	return n;
}

/* The keys of the one flat JSON object of `ipcctl info --json` into
 * keys[], in order; how many. */
static size_t json_keys(const char *json, char keys[][32], size_t max)
{
	const char *p = json, *end;
	size_t n = 0;

	ck_assert_int_eq(json[0], '{');
	while (n < max && (p = strchr(p, '"')) && (end = strstr(p + 1, "\":"))) {
		snprintf(keys[n++], 32, "%.*s", (int)(end - p - 1), p + 1);
		p = end + 2;
		if (*p == '"')          /* a string value: skip it */
			p = strchr(p + 1, '"') + 1;
	}
	return n;
}

/* The man page's text (malloc'd), or NULL outside make check. */
static char *man_page(const char *name)
{
	const char *src = getenv("IPCD_SRCDIR");
	char path[512], *page;
	FILE *f;
	long len;

	if (!src || !*src)
		return NULL;
	snprintf(path, sizeof(path), "%s/man/%s", src, name);
	f = fopen(path, "r");
	ck_assert_ptr_nonnull(f);
	ck_assert_int_eq(fseek(f, 0, SEEK_END), 0);
	len = ftell(f);
	rewind(f);
	page = calloc(1, (size_t)len + 1);
	ck_assert_ptr_nonnull(page);
	ck_assert_uint_eq(fread(page, 1, (size_t)len, f), (size_t)len);
	fclose(f);
	return page;
}

/* Is key named in the JSON KEYS section of ipcctl(1)? */
static int man_has_key(const char *page, const char *key)
{
	const char *sec = strstr(page, "\n.SH JSON KEYS");
	char a[64], b[64];

	ck_assert_ptr_nonnull(sec);
	snprintf(a, sizeof(a), "\n.B %s\n", key);
	snprintf(b, sizeof(b), "\n.BR %s ", key);
	return strstr(sec, a) || strstr(sec, b);
}

/* Run ipcctl info, text and --json: the same keys in the same order,
 * each documented; the journal's only once there is one. */
static size_t info_both(const struct h_daemon *d, const char *page,
			char keys[][32], size_t max)
{
	char jkeys[64][32];
	struct h_buf out = { 0 }, js = { 0 };
	size_t n, nj, k;

	ck_assert_int_eq(h_run_ipcctl(d, NULL, 0, &out, NULL, "info", NULL), 0);
	ck_assert_int_eq(h_run_ipcctl(d, NULL, 0, &js, NULL, "info", "--json", NULL), 0);
	ck_assert_ptr_nonnull(strstr(out.data, "\nputs: 1\n"));
	ck_assert_ptr_nonnull(strstr(js.data, ",\"puts\":1,"));
	n = text_keys(out.data, keys, max);
	nj = json_keys(js.data, jkeys, 64);
	ck_assert_uint_eq(n, nj);
	for (k = 0; k < n; k++) {
		ck_assert_str_eq(keys[k], jkeys[k]);
		ck_assert_msg(!page || man_has_key(page, keys[k]),
			      "ipcctl.1 does not list info key %s", keys[k]);
	}
	h_buf_free(&out);
	h_buf_free(&js);
	return n;
}

/* Is key among keys[0..n)? */
static int has_key(char keys[][32], size_t n, const char *key)
{
	while (n-- > 0)
		if (strcmp(keys[n], key) == 0)
			return 1;
	return 0;
}

/* ipcctl info: text and JSON with the same keys, every one in ipcctl(1). */
START_TEST(test_ipcctl_info)
{
	char keys[64][32];
	struct h_daemon d;
	ipc_client *c;
	char *page = man_page("ipcctl.1");
	size_t n;

	h_start(&d);
	c = h_connect(&d);
	h_create_queue(c, "jobs", 0);
	h_put_text(c, "jobs", "x");
	n = info_both(&d, page, keys, 64);
	ck_assert(has_key(keys, n, "version") && has_key(keys, n, "refused_full"));
	ck_assert(!has_key(keys, n, "journal_bytes"));
	ck_assert_int_eq(ipc_queue_open(c, "dq", H_QOPTS(0, IPC_QUEUE_CREATE |
							 IPC_QUEUE_DURABLE), NULL), 0);
	n = info_both(&d, page, keys, 64);
	ck_assert(has_key(keys, n, "journal_bytes") && has_key(keys, n, "journal_sync_us"));
	free(page);
	ipc_close(c);
	h_stop(&d);
}
END_TEST

/* One family seen by prom_check: its name and type. */
struct prom_family {
	char name[128];
	int counter;
};

/* State of prom_check over one text. */
struct prom_state {
	regex_t metric, label;
	struct prom_family fam[256];
	size_t nfam;
	char err[256];
};

/* Fail the check with a reason; returns 1. */
static int prom_fail(struct prom_state *st, const char *why, const char *line)
{
	snprintf(st->err, sizeof(st->err), "%s: '%s'", why, line);
	return 1;
}

/* Does the token s[0..n) match regex re wholly? */
static int prom_match(const regex_t *re, const char *s, size_t n)
{
	char tok[256];

	if (n == 0 || n >= sizeof(tok))
		return 0;
	memcpy(tok, s, n);
	tok[n] = '\0';
	return regexec(re, tok, 0, NULL, 0) == 0;
}

/* "# HELP name text" or "# TYPE name counter|gauge". 0 or 1 (failed). */
static int prom_comment(struct prom_state *st, const char *line)
{
	const char *name = line + 7, *sp = strchr(name, ' ');
	struct prom_family *f;
	size_t i, n;

	if (strncmp(line, "# HELP ", 7) && strncmp(line, "# TYPE ", 7))
		return prom_fail(st, "a comment that is neither HELP nor TYPE", line);
	if (!sp || !prom_match(&st->metric, name, (size_t)(sp - name)))
		return prom_fail(st, "bad metric name", line);
	if (line[2] == 'H')
		return 0;
	n = (size_t)(sp - name);
	for (i = 0; i < st->nfam; i++)
		if (strlen(st->fam[i].name) == n && !strncmp(st->fam[i].name, name, n))
			return prom_fail(st, "a second TYPE line", line);
	if (strcmp(sp + 1, "counter") && strcmp(sp + 1, "gauge"))
		return prom_fail(st, "a type other than counter or gauge", line);
	if (st->nfam == 256 || n >= sizeof(st->fam[0].name))
		return prom_fail(st, "too many families", line);
	f = &st->fam[st->nfam++];
	snprintf(f->name, sizeof(f->name), "%.*s", (int)n, name);
	f->counter = strcmp(sp + 1, "counter") == 0;
	if (f->counter && (n < 6 || strcmp(f->name + n - 6, "_total")))
		return prom_fail(st, "a counter not named *_total", line);
	return 0;
}

/* The labels of a sample from p (after '{') to its '}': *end after it.
 * 0 or 1 (failed). */
static int prom_labels(struct prom_state *st, const char *line, const char *p,
		       const char **end)
{
	const char *eq;

	for (;;) {
		eq = strchr(p, '=');
		if (!eq || !prom_match(&st->label, p, (size_t)(eq - p)) || eq[1] != '"')
			return prom_fail(st, "bad label", line);
		for (p = eq + 2; *p != '"'; p++) {
			if (*p == '\0' || *p == '\n')
				return prom_fail(st, "unterminated label value", line);
			if (*p == '\\' && (p[1] == '\\' || p[1] == '"' || p[1] == 'n'))
				p++;
			else if (*p == '\\')
				return prom_fail(st, "bad escape in a label value", line);
		}
		p++;
		if (*p == '}') {
			*end = p + 1;
			return 0;
		}
		if (*p++ != ',')
			return prom_fail(st, "labels not separated by ','", line);
	}
}

/* "name{labels} value": the family's TYPE came last, the value is a
 * number. 0 or 1 (failed). */
static int prom_sample(struct prom_state *st, const char *line)
{
	size_t n = strcspn(line, "{ ");
	const char *p = line + n;
	char *end;

	if (!prom_match(&st->metric, line, n))
		return prom_fail(st, "bad metric name", line);
	if (st->nfam == 0 || strlen(st->fam[st->nfam - 1].name) != n ||
	    strncmp(st->fam[st->nfam - 1].name, line, n))
		return prom_fail(st, "a sample not under its family's TYPE", line);
	if (*p == '{' && prom_labels(st, line, p + 1, &p))
		return 1;
	if (*p != ' ')
		return prom_fail(st, "no value", line);
	(void)strtod(p + 1, &end);
	if (end == p + 1 || *end != '\0')
		return prom_fail(st, "a value that is not a number", line);
	return 0;
}

/* Check text against the Prometheus text exposition format (0.0.4) as
 * ipcctl writes it: every line a "# HELP", a "# TYPE" (counter or gauge,
 * once per family) or a sample of the family TYPE'd last; metric and
 * label names match the format's regexes, label values are quoted with
 * \\ \" \n the only escapes, a counter is named *_total. NULL when text
 * passes, else why not (static). */
static const char *prom_check(const char *text)
{
	static struct prom_state st;
	char *copy = strdup(text), *line, *save = NULL;
	int bad = 0;

	memset(&st, 0, sizeof(st));
	ck_assert_int_eq(regcomp(&st.metric, "^[a-zA-Z_:][a-zA-Z0-9_:]*$",
				 REG_EXTENDED | REG_NOSUB), 0);
	ck_assert_int_eq(regcomp(&st.label, "^[a-zA-Z_][a-zA-Z0-9_]*$",
				 REG_EXTENDED | REG_NOSUB), 0);
	if (text[0] == '\0' || text[strlen(text) - 1] != '\n')
		bad = prom_fail(&st, "not lines ending in a newline", "");
	for (line = strtok_r(copy, "\n", &save); line && !bad;
	     line = strtok_r(NULL, "\n", &save))
		bad = line[0] == '#' ? prom_comment(&st, line) : prom_sample(&st, line);
	regfree(&st.metric);
	regfree(&st.label);
	free(copy);
	return bad ? st.err : NULL;
}

/* The checker itself refuses what the format does not allow. */
START_TEST(test_prom_checker)
{
	static const char *const bad[] = {
		"x 1\n",                                     /* no TYPE */
		"# TYPE 1x gauge\n1x 1\n",                   /* bad name */
		"# TYPE x_total counter\nx_total{a=\"b} 1\n",/* open value */
		"# TYPE x_total counter\nx_total{a=\"\\t\"} 1\n", /* bad escape */
		"# TYPE x_total counter\nx_total{1a=\"b\"} 1\n",  /* label name */
		"# TYPE x counter\nx 1\n",                   /* counter named x */
		"# TYPE x gauge\n# TYPE y gauge\nx 1\n",     /* not under its TYPE */
		"# TYPE x gauge\nx 1\n# TYPE x gauge\n",     /* TYPE twice */
		"# TYPE x gauge\nx\n",                       /* no value */
		"# TYPE x gauge\nx one\n",                   /* not a number */
		"# TYPE x summary\nx 1\n",                   /* not ours */
		"# TYPE x gauge\nx 1",                       /* no newline */
	};
	size_t i;

	ck_assert_ptr_null(prom_check("# HELP x_total A \\\\ help.\n"
				      "# TYPE x_total counter\n"
				      "x_total{q=\"a\\\"b\\\\c\\n\",r=\"\"} 1.5\n"
				      "# TYPE y gauge\ny 0\n"));
	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
		ck_assert_msg(prom_check(bad[i]) != NULL, "accepted: %s", bad[i]);
}
END_TEST

/* Every family ipcctl metrics prints is named in ipcctl(1). */
static void metrics_documented(const char *text, const char *page)
{
	const char *p = text;
	char name[128];

	while ((p = strstr(p, "# TYPE "))) {
		p += 7;
		snprintf(name, sizeof(name), "%.*s", (int)strcspn(p, " "), p);
		ck_assert_msg(strstr(page, name), "ipcctl.1 does not name %s", name);
	}
}

/* ipcctl metrics: valid exposition format, the daemon's and every
 * queue's and pipe's series with their exact values. */
START_TEST(test_metrics)
{
	static const char *const want[] = {
		"\nipcd_queues 2\n", "\nipcd_pipes 1\n", "\nipcd_puts_total 4\n",
		"\nipcd_gets_total 1\n", "\nipcd_refused_total{reason=\"full\"} 1\n",
		"\nipcd_gets_empty_total 0\n", "\nipcd_journal_enabled 0\n",
		"\nipcd_build_info{version=\"" IPC_VERSION_STRING "\"} 1\n",
		"\nipcd_queue_messages{queue=\"jobs\"} 2\n",
		"\nipcd_queue_messages{queue=\"tiny\"} 1\n",
		"\nipcd_queue_maxsize{queue=\"tiny\"} 1\n",
		"\nipcd_queue_puts_total{queue=\"jobs\"} 3\n",
		"\nipcd_pipe_sends_total{pipe=\"p\"} 1\n",
		"\nipcd_pipe_messages{pipe=\"p\"} 1\n",
	};
	struct h_buf out = { 0 };
	struct h_daemon d;
	ipc_client *c;
	char *page = man_page("ipcctl.1");
	const char *why;
	size_t i;

	h_start(&d);
	c = h_connect(&d);
	h_create_queue(c, "jobs", 0);
	h_create_queue(c, "tiny", 1);
	h_put_text(c, "jobs", "1");
	h_put_text(c, "jobs", "2");
	h_put_text(c, "jobs", "3");
	h_get_expect(c, "jobs", "1", 0);
	h_put_text(c, "tiny", "t");
	ck_assert_int_eq(ipc_queue_put(c, "tiny", "u", 1, 0), IPC_EFULL);
	ck_assert_int_eq(ipc_pipe_attach(c, "p", 1, IPC_PIPE_CREATE, NULL), 0);
	ck_assert_int_eq(ipc_pipe_send(c, "p", 1, "s", 1, 0), 0);
	ck_assert_int_eq(h_run_ipcctl(&d, NULL, 0, &out, NULL, "metrics", NULL), 0);
	why = prom_check(out.data);
	ck_assert_msg(why == NULL, "%s", why);
	for (i = 0; i < sizeof(want) / sizeof(want[0]); i++)
		ck_assert_msg(strstr(out.data, want[i]), "no %s in:\n%s", want[i], out.data);
	if (page)
		metrics_documented(out.data, page);
	free(page);
	h_buf_free(&out);
	ipc_close(c);
	h_stop(&d);
}
END_TEST

/* A message dead-lettered after its max-deliveries counts in the
 * daemon's figures, in its queue's metrics, and in the daemon's still
 * once that queue is deleted. */
START_TEST(test_dead_lettered)
{
	struct ipc_queue_opts o = IPC_QUEUE_OPTS_INIT;
	struct h_buf out = { 0 };
	struct h_daemon d;
	ipc_client *c;
	uint64_t tag;
	size_t len;
	void *m;

	h_start(&d);
	c = h_connect(&d);
	h_create_queue(c, "dlq", 0);
	o.flags = IPC_QUEUE_CREATE;
	o.max_deliveries = 1;
	o.dead_letter = "dlq";
	ck_assert_int_eq(ipc_queue_open(c, "work", &o, NULL), 0);
	h_put_text(c, "work", "poison");
	ck_assert_int_eq(ipc_queue_get_ack(c, "work", &m, &len, &tag, 0, 0), 0);
	ipc_free(m);
	ck_assert_int_eq(ipc_queue_release(c, "work", tag, 0), 0);
	h_get_expect(c, "dlq", "poison", 0);
	ck_assert_uint_eq(info_now(c).dead_lettered, 1);
	ck_assert_int_eq(h_run_ipcctl(&d, NULL, 0, &out, NULL, "metrics", NULL), 0);
	ck_assert_ptr_null(prom_check(out.data));
	ck_assert_ptr_nonnull(strstr(out.data, "\nipcd_dead_lettered_total 1\n"));
	ck_assert_ptr_nonnull(strstr(out.data,
		"\nipcd_queue_dead_lettered_total{queue=\"work\"} 1\n"));
	h_buf_free(&out);
	ck_assert_int_eq(ipc_delete(c, "work"), 0);
	ck_assert_uint_eq(info_now(c).dead_lettered, 1);
	ipc_close(c);
	h_stop(&d);
}
END_TEST

/* The whole suite. */
static Suite *info_suite(void)
{
	Suite *s = suite_create("info");

	h_add_case(s, "counters", test_counters, 60);
	h_add_case(s, "journal", test_journal, 30);
	h_add_case(s, "sizes", test_sizes, 30);
	h_add_case(s, "ipcctl_info", test_ipcctl_info, 30);
	h_add_case(s, "prom_checker", test_prom_checker, 30);
	h_add_case(s, "metrics", test_metrics, 30);
	h_add_case(s, "dead_lettered", test_dead_lettered, 30);
	return s;
}

int main(void)
{
	return h_run_suite(info_suite());
}
