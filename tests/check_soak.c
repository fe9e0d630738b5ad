/* SPDX-License-Identifier: MIT */
/*
 * check_soak.c: fault and load tests against the real ipcd, on its
 * loopback Unix socket only, each bounded in time and size.
 *
 * soak: 200 client processes (producers, plain consumers, acking
 * consumers) move numbered messages through six queues while a chaos loop
 * SIGKILLs random producers and acking consumers and starts new ones. At
 * the end every number a producer saw accepted was acked (or, on the plain
 * queues, received) exactly once: none lost, none twice. Redeliveries are
 * counted (the daemon's "requeued") and reported. SOAK_MESSAGES sets how
 * many numbers (make check: 250,000; make soak: 1,000,000).
 *
 * rss: slow consumers, parked producers and clients that pipeline requests
 * with huge replies but never read them, against a daemon started with
 * --max-output 256K: its RSS stays under a stated bound while a producer
 * and a consumer elsewhere still move every message, in order.
 *
 * Children report through a shared mapping and exit codes, never through
 * Check's assertions (those belong to the test process).
 */
#include <check.h>
#include <errno.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <sys/mman.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <sys/wait.h>

#include "harness.h"
#include <ipcclient/ipcclient.h>
#include "proto.h"

#define SOAK_PRODUCERS 50
#define SOAK_PLAIN 50
#define SOAK_ACKERS 100
#define SOAK_CLIENTS (SOAK_PRODUCERS + SOAK_PLAIN + SOAK_ACKERS)
#define SOAK_QA 4             /* queues read by acking consumers */
#define SOAK_QP 2             /* queues read by plain consumers */
#define SOAK_MAXSIZE 256      /* per queue: producers often wait */
#define SOAK_PAYLOAD 24       /* bytes per message: the number, then filler */
#define SOAK_CHAOS_MS 20      /* one SIGKILL every that often */
#define SOAK_DEFAULT 250000
#define SOAK_LEASE_MS 1000    /* the lease of every 5th acking consumer */

/* What the processes share: counters, then three arrays indexed by number. */
struct soak {
	uint64_t n;                     /* numbers to move */
	uint64_t next;                  /* next number to claim (producers) */
	int stop;                       /* consumers: leave once empty */
	uint64_t notheld;               /* acks refused: the lease had run out */
	uint64_t deliveries;            /* messages acking consumers received */
	uint64_t cur[SOAK_CLIENTS];     /* number + 1 a slot is putting or acking */
	uint8_t *accepted;              /* [n] 1: a producer's put returned 0 */
	uint32_t *done;                 /* [n] acks that returned 0, or plain gets */
	uint32_t *intent;               /* [n] acks started */
};

static struct soak *sk;

/* The role of client slot i. */
static int soak_is_producer(int i)
{
	return i < SOAK_PRODUCERS;
}

/* 1 for the acking consumers' slots. */
static int soak_is_acker(int i)
{
	return i >= SOAK_PRODUCERS + SOAK_PLAIN;
}

/* The queue number num travels through. */
static void soak_queue_of(uint64_t num, char *name, size_t len)
{
	unsigned k = (unsigned)(num % (SOAK_QA + SOAK_QP));

	if (k < SOAK_QA)
		snprintf(name, len, "soak.a%u", k);
	else
		snprintf(name, len, "soak.p%u", k - SOAK_QA);
}

/* Map the shared state for n numbers. */
static void soak_map(uint64_t n)
{
	size_t size = sizeof(*sk) + n * (1 + 4 + 4) + 16;
	unsigned char *p = mmap(NULL, size, PROT_READ | PROT_WRITE,
				MAP_SHARED | MAP_ANONYMOUS, -1, 0);

	ck_assert(p != MAP_FAILED);
	sk = (struct soak *)p;
	sk->n = n;
	sk->done = (uint32_t *)(p + sizeof(*sk));
	sk->intent = sk->done + n;
	sk->accepted = (uint8_t *)(sk->intent + n);
}

/* Connect, retrying while the daemon is busy: a handle or NULL. */
static ipc_client *soak_connect(const char *sock)
{
	ipc_client *c;
	int i;

	for (i = 0; i < 100; i++) {
		if (ipc_connect(sock, &c) == 0)
			return c;
		usleep(20000);
	}
	return NULL;
}

/* Producer: claim numbers and put each until accepted. */
static int soak_producer(const char *sock, int slot)
{
	unsigned char msg[SOAK_PAYLOAD];
	char q[32];
	ipc_client *c = soak_connect(sock);
	uint64_t num;
	int rc;

	if (!c)
		return 10;
	memset(msg, 'p', sizeof(msg));
	while ((num = __atomic_fetch_add(&sk->next, 1, __ATOMIC_SEQ_CST)) < sk->n) {
		soak_queue_of(num, q, sizeof(q));
		memcpy(msg, &num, sizeof(num));
		__atomic_store_n(&sk->cur[slot], num + 1, __ATOMIC_SEQ_CST);
		do
			rc = ipc_queue_put(c, q, msg, sizeof(msg), 5000);
		while (rc == IPC_EFULL);
		if (rc != 0)
			return 11;
		__atomic_store_n(&sk->accepted[num], 1, __ATOMIC_SEQ_CST);
		__atomic_store_n(&sk->cur[slot], 0, __ATOMIC_SEQ_CST);
	}
	ipc_close(c);
	return 0;
}

/* The number a message carries, or n when it is not one of ours. */
static uint64_t soak_number(const void *data, size_t len)
{
	uint64_t num;

	if (len != SOAK_PAYLOAD)
		return sk->n;
	memcpy(&num, data, sizeof(num));
	return num < sk->n ? num : sk->n;
}

/* Plain consumer: get, count, until told to stop and the queue is empty. */
static int soak_plain(const char *sock, int slot)
{
	char q[32];
	ipc_client *c = soak_connect(sock);
	uint64_t num;
	void *data;
	size_t len;
	int rc;

	if (!c)
		return 20;
	snprintf(q, sizeof(q), "soak.p%d", slot % SOAK_QP);
	for (;;) {
		rc = ipc_queue_get(c, q, &data, &len, 200);
		if (rc == IPC_EEMPTY) {
			if (__atomic_load_n(&sk->stop, __ATOMIC_SEQ_CST))
				break;
			continue;
		}
		if (rc != 0)
			return 21;
		num = soak_number(data, len);
		ipc_free(data);
		if (num >= sk->n)
			return 22;
		__atomic_fetch_add(&sk->done[num], 1, __ATOMIC_SEQ_CST);
	}
	ipc_close(c);
	return 0;
}

/* Acking consumer: get with ack, then ack; every 5th has a lease and now
 * and then sleeps past it, so the message is redelivered and its late
 * ack refused. */
static int soak_acker(const char *sock, int slot)
{
	int lease = slot % 5 == 0 ? SOAK_LEASE_MS : 0;
	ipc_client *c = soak_connect(sock);
	unsigned count = 0;
	uint64_t num, tag;
	char q[32];
	void *data;
	size_t len;
	int rc;

	if (!c)
		return 30;
	snprintf(q, sizeof(q), "soak.a%d", slot % SOAK_QA);
	for (;;) {
		rc = ipc_queue_get_ack(c, q, &data, &len, &tag, 200, lease);
		if (rc == IPC_EEMPTY) {
			if (__atomic_load_n(&sk->stop, __ATOMIC_SEQ_CST))
				break;
			continue;
		}
		if (rc != 0)
			return 31;
		num = soak_number(data, len);
		ipc_free(data);
		if (num >= sk->n)
			return 32;
		__atomic_fetch_add(&sk->deliveries, 1, __ATOMIC_SEQ_CST);
		if (lease && ++count % 64 == 0)
			usleep((SOAK_LEASE_MS + 300) * 1000);
		__atomic_store_n(&sk->cur[slot], num + 1, __ATOMIC_SEQ_CST);
		__atomic_fetch_add(&sk->intent[num], 1, __ATOMIC_SEQ_CST);
		rc = ipc_queue_ack(c, q, tag);
		if (rc == 0)
			__atomic_fetch_add(&sk->done[num], 1, __ATOMIC_SEQ_CST);
		else if (rc == IPC_ENOTHELD)
			__atomic_fetch_add(&sk->notheld, 1, __ATOMIC_SEQ_CST);
		else
			return 33;
		__atomic_store_n(&sk->cur[slot], 0, __ATOMIC_SEQ_CST);
	}
	ipc_close(c);
	return 0;
}

/* Fork the client of slot i; it dies with the test process. */
static pid_t soak_spawn(const char *sock, int i)
{
	pid_t pid = fork();

	ck_assert_int_ge(pid, 0);
	if (pid == 0) {
		prctl(PR_SET_PDEATHSIG, SIGKILL);
		signal(SIGPIPE, SIG_IGN);
		if (soak_is_producer(i))
			_exit(soak_producer(sock, i));
		if (soak_is_acker(i))
			_exit(soak_acker(sock, i));
		_exit(soak_plain(sock, i));
	}
	return pid;
}

/* Raise the open-file limit so 200+ clients and the daemon fit. */
static void soak_raise_nofile(void)
{
	struct rlimit rl;

	ck_assert_int_eq(getrlimit(RLIMIT_NOFILE, &rl), 0);
	if (rl.rlim_cur < 4096 && rl.rlim_max > rl.rlim_cur) {
		rl.rlim_cur = rl.rlim_max < 4096 ? rl.rlim_max : 4096;
		ck_assert_int_eq(setrlimit(RLIMIT_NOFILE, &rl), 0);
	}
}

/* A field of /proc/PID/status in KiB (VmRSS, VmHWM), or 0. */
static long soak_status_kib(pid_t pid, const char *field)
{
	char path[64], line[256];
	size_t flen = strlen(field);
	long v = 0;
	FILE *f;

	snprintf(path, sizeof(path), "/proc/%ld/status", (long)pid);
	f = fopen(path, "r");
	if (!f)
		return 0;
	while (fgets(line, sizeof(line), f))
		if (strncmp(line, field, flen) == 0 && line[flen] == ':')
			v = strtol(line + flen + 1, NULL, 10);
	fclose(f);
	return v;
}

/* Sum a counter over the six soak queues. */
static unsigned long long soak_sum(ipc_client *c, char what)
{
	unsigned long long sum = 0;
	struct ipc_info in;
	char q[32];
	unsigned k;

	for (k = 0; k < SOAK_QA + SOAK_QP; k++) {
		soak_queue_of(k, q, sizeof(q));
		ck_assert_int_eq(ipc_stat(c, q, &in, sizeof(in)), 0);
		sum += what == 's' ? in.size : what == 'i' ? in.inflight :
		       what == 'p' ? in.puts : in.requeued;
	}
	return sum;
}

/* The chaos run's tallies, kept by the test process. */
struct soak_tally {
	pid_t pid[SOAK_CLIENTS];
	uint8_t *doubt;            /* [n] an ack was cut short by SIGKILL */
	unsigned long kills_prod, kills_ack, uncertain_puts;
};

/* Reap clients that left by themselves; a failed one fails the test. */
static void soak_reap(struct soak_tally *t)
{
	int i, st;

	for (i = 0; i < SOAK_CLIENTS; i++) {
		if (!t->pid[i] || waitpid(t->pid[i], &st, WNOHANG) != t->pid[i])
			continue;
		ck_assert_msg(WIFEXITED(st) && WEXITSTATUS(st) == 0,
			      "client %d ended with status 0x%x", i, st);
		t->pid[i] = 0;
	}
}

/* SIGKILL one random live producer or acking consumer; start another. */
static void soak_kill_one(struct soak_tally *t, const char *sock, unsigned *seed)
{
	int i, tries, st;
	uint64_t cur;

	for (tries = 0; tries < 50; tries++) {
		i = rand_r(seed) % 2 ? rand_r(seed) % SOAK_PRODUCERS :
		    SOAK_PRODUCERS + SOAK_PLAIN + rand_r(seed) % SOAK_ACKERS;
		if (t->pid[i])
			break;
	}
	if (!t->pid[i])
		return;
	kill(t->pid[i], SIGKILL);
	ck_assert_int_eq(waitpid(t->pid[i], &st, 0), t->pid[i]);
	cur = __atomic_exchange_n(&sk->cur[i], 0, __ATOMIC_SEQ_CST);
	if (soak_is_producer(i)) {
		t->kills_prod++;
		t->uncertain_puts += cur != 0;
	} else {
		t->kills_ack++;
		if (cur)
			t->doubt[cur - 1] = 1;
	}
	t->pid[i] = 0;
	if (!soak_is_producer(i) ||
	    __atomic_load_n(&sk->next, __ATOMIC_SEQ_CST) < sk->n)
		t->pid[i] = soak_spawn(sock, i);
}

/* How many producers still run. */
static int soak_producers_live(const struct soak_tally *t)
{
	int i, n = 0;

	for (i = 0; i < SOAK_PRODUCERS; i++)
		n += t->pid[i] != 0;
	return n;
}

/* Poll until every queue is empty with nothing in flight. */
static void soak_wait_drained(struct soak_tally *t, ipc_client *c, int64_t deadline)
{
	while (soak_sum(c, 's') + soak_sum(c, 'i') != 0) {
		soak_reap(t);
		ck_assert_msg(h_now_ms() < deadline, "queues never drained: "
			      "%llu held, %llu in flight", soak_sum(c, 's'),
			      soak_sum(c, 'i'));
		usleep(20000);
	}
}

/* Messages from SOAK_MESSAGES, else the make check size. */
static uint64_t soak_messages(void)
{
	const char *s = getenv("SOAK_MESSAGES");
	long long v = s && *s ? atoll(s) : 0;

	return v > 0 ? (uint64_t)v : SOAK_DEFAULT;
}

/* What became of every number, counted at the end. */
struct soak_count {
	unsigned long moved;       /* acked or received exactly once */
	unsigned long dup;         /* more than once: a bug */
	unsigned long lost;        /* accepted, never consumed: a bug */
	unsigned long doubt_acked; /* acked by a consumer killed right after */
	unsigned long never;       /* claimed by a producer killed before its put */
};

/* Chaos while producers still have numbers to put, then let them finish. */
static void soak_chaos(struct soak_tally *t, const char *sock)
{
	unsigned seed = 12345;
	int64_t deadline;

	while (__atomic_load_n(&sk->next, __ATOMIC_SEQ_CST) < sk->n) {
		usleep(SOAK_CHAOS_MS * 1000);
		soak_reap(t);
		soak_kill_one(t, sock, &seed);
	}
	deadline = h_now_ms() + 120000;
	while (soak_producers_live(t)) {
		soak_reap(t);
		ck_assert_msg(h_now_ms() < deadline, "producers never finished");
		usleep(10000);
	}
}

/* Wait for the queues to drain, then stop the consumers; all exit 0. */
static void soak_finish(struct soak_tally *t, ipc_client *c)
{
	int i, st;

	soak_wait_drained(t, c, h_now_ms() + 120000);
	__atomic_store_n(&sk->stop, 1, __ATOMIC_SEQ_CST);
	for (i = 0; i < SOAK_CLIENTS; i++) {
		if (!t->pid[i])
			continue;
		st = h_wait_child(t->pid[i], 30000);
		ck_assert_msg(st == 0, "client %d ended with %d", i, st);
	}
}

/* Every number: exactly once, or never put (its producer was killed
 * before the put), or acked by a consumer killed right after the ack. */
static struct soak_count soak_tally_numbers(const struct soak_tally *t)
{
	struct soak_count k = { 0 };
	uint64_t num;

	for (num = 0; num < sk->n; num++) {
		uint32_t done = sk->done[num];

		if (done > 1)
			k.dup++;
		if (done == 1)
			k.moved++;
		else if (done == 0 && t->doubt[num])
			k.doubt_acked++;
		else if (done == 0 && sk->accepted[num])
			k.lost++;
		else if (done == 0)
			k.never++;
	}
	return k;
}

START_TEST(test_soak)
{
	struct soak_tally t = { 0 };
	struct soak_count k;
	struct h_daemon d;
	ipc_client *c;
	unsigned long long puts, requeued;
	int64_t t0 = h_now_ms();
	char q[32];
	int i;

	soak_raise_nofile();
	soak_map(soak_messages());
	t.doubt = calloc(sk->n, 1);
	h_start(&d);
	c = h_connect(&d);
	for (i = 0; i < SOAK_QA + SOAK_QP; i++) {
		soak_queue_of((uint64_t)i, q, sizeof(q));
		ck_assert_int_eq(ipc_queue_open(c, q, H_QOPTS(SOAK_MAXSIZE, IPC_QUEUE_CREATE), NULL), 0);
	}
	for (i = 0; i < SOAK_CLIENTS; i++)
		t.pid[i] = soak_spawn(d.sock, i);
	soak_chaos(&t, d.sock);
	soak_finish(&t, c);
	k = soak_tally_numbers(&t);
	puts = soak_sum(c, 'p');
	requeued = soak_sum(c, 'r');
	printf("soak: %llu numbers, %lu moved exactly once, lost %lu, duplicated %lu; "
	       "clients killed %lu (%lu producers, %lu acking consumers); "
	       "redelivered %llu (daemon requeued; %llu acks refused after a lease ran out); "
	       "%lu acks cut short by SIGKILL, %lu numbers never put; "
	       "daemon peak RSS %ld KiB; %.1f s\n",
	       (unsigned long long)sk->n, k.moved, k.lost, k.dup,
	       t.kills_prod + t.kills_ack, t.kills_prod, t.kills_ack, requeued,
	       (unsigned long long)sk->notheld, k.doubt_acked, k.never,
	       soak_status_kib(d.pid, "VmHWM"), (h_now_ms() - t0) / 1000.0);
	ck_assert_uint_eq(k.lost, 0);
	ck_assert_uint_eq(k.dup, 0);
	/* The daemon took exactly the messages that were consumed. */
	ck_assert_uint_eq(puts, k.moved + k.doubt_acked);
	/* A killed producer loses at most the one number it had claimed. */
	ck_assert_uint_le(k.never, t.kills_prod);
	ck_assert_uint_gt(t.kills_prod + t.kills_ack, 0);
	ipc_close(c);
	h_stop(&d);
	free(t.doubt);
}
END_TEST

/* --- RSS under abuse ----------------------------------------------------- */

#define RSS_NONREADERS 20
#define RSS_PADQUEUES 100
#define RSS_SLOW 10
#define RSS_FLOODERS 10
#define RSS_WORK 20000
#define RSS_MAX_OUTPUT "256K"

/* A raw connection that said HELLO and never reads: -1 on failure. */
static int rss_raw_hello(const char *sock)
{
	struct proto_req r = { .op = PROTO_OP_HELLO, .id = 1,
			       .version = IPC_PROTO_VERSION };
	struct sockaddr_un sa = { .sun_family = AF_UNIX };
	struct pbuf b;
	int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);

	snprintf(sa.sun_path, sizeof(sa.sun_path), "%s", sock);
	if (fd < 0 || connect(fd, (struct sockaddr *)&sa, sizeof(sa)) != 0)
		return -1;
	pbuf_init(&b);
	if (proto_enc_req(&b, &r) || send(fd, b.data, b.len, MSG_NOSIGNAL) != (ssize_t)b.len)
		fd = -1;
	pbuf_free(&b);
	return fd;
}

/* Non-reader: pipeline LIST requests (each answered by ~20 KB) and never
 * read a reply, until the daemon stops reading or stop is set. */
static int rss_nonreader(const char *sock)
{
	struct proto_req r = { .op = PROTO_OP_LIST };
	struct pollfd p = { .events = POLLOUT };
	struct pbuf b;
	size_t off = 0;
	ssize_t w;
	int i;

	p.fd = rss_raw_hello(sock);
	if (p.fd < 0)
		return 40;
	pbuf_init(&b);
	for (i = 0; i < 4096; i++) {
		r.id = (uint32_t)i + 2;
		proto_enc_req(&b, &r);
	}
	/* The buffer holds whole frames: sent round and round, the stream
	 * stays well-formed however the sends are cut. */
	while (!__atomic_load_n(&sk->stop, __ATOMIC_SEQ_CST)) {
		if (poll(&p, 1, 100) != 1)
			continue;
		w = send(p.fd, b.data + off, b.len - off, MSG_NOSIGNAL | MSG_DONTWAIT);
		if (w < 0 && errno != EAGAIN)
			break;
		if (w > 0 && (off += (size_t)w) == b.len)
			off = 0;
	}
	pbuf_free(&b);
	close(p.fd);
	return 0;
}

/* Flooder: put 1 KiB messages on the bounded queue, parked while full. */
static int rss_flooder(const char *sock)
{
	ipc_client *c = soak_connect(sock);
	char msg[1024];
	int rc;

	if (!c)
		return 41;
	memset(msg, 'f', sizeof(msg));
	while (!__atomic_load_n(&sk->stop, __ATOMIC_SEQ_CST)) {
		rc = ipc_queue_put(c, "flood", msg, sizeof(msg), 200);
		if (rc != 0 && rc != IPC_EFULL)
			return 42;
	}
	ipc_close(c);
	return 0;
}

/* Slow consumer: one message every 20 ms. */
static int rss_slow(const char *sock)
{
	ipc_client *c = soak_connect(sock);
	void *data;
	size_t len;
	int rc;

	if (!c)
		return 43;
	while (!__atomic_load_n(&sk->stop, __ATOMIC_SEQ_CST)) {
		rc = ipc_queue_get(c, "flood", &data, &len, 200);
		if (rc == 0)
			ipc_free(data);
		else if (rc != IPC_EEMPTY)
			return 44;
		usleep(20000);
	}
	ipc_close(c);
	return 0;
}

/* The well-behaved pair: a producer of RSS_WORK numbered messages... */
static int rss_work_put(const char *sock)
{
	ipc_client *c = soak_connect(sock);
	uint32_t i;

	if (!c)
		return 45;
	for (i = 0; i < RSS_WORK; i++)
		if (ipc_queue_put(c, "work", &i, sizeof(i), IPC_FOREVER))
			return 46;
	ipc_close(c);
	return 0;
}

/* ...and its consumer, which checks they all come, in order. */
static int rss_work_get(const char *sock)
{
	ipc_client *c = soak_connect(sock);
	uint32_t i, v;
	void *data;
	size_t len;

	if (!c)
		return 47;
	for (i = 0; i < RSS_WORK; i++) {
		if (ipc_queue_get(c, "work", &data, &len, 30000) || len != sizeof(v))
			return 48;
		memcpy(&v, data, sizeof(v));
		ipc_free(data);
		if (v != i)
			return 49;
	}
	ipc_close(c);
	return 0;
}

/* Fork fn(sock) as a client that dies with the test process. */
static pid_t rss_spawn(int (*fn)(const char *), const char *sock)
{
	pid_t pid = fork();

	ck_assert_int_ge(pid, 0);
	if (pid == 0) {
		prctl(PR_SET_PDEATHSIG, SIGKILL);
		signal(SIGPIPE, SIG_IGN);
		_exit(fn(sock));
	}
	return pid;
}

/* The stated bound on the daemon's RSS under this abuse, in KiB: 64 MiB;
 * 256 MiB in a sanitizer build (ASan's shadow memory and its quarantine,
 * which make check keeps at 16 MB). 20 clients x 256 KiB of unread
 * replies is 5 MiB; without that limit the replies to their pipelined
 * LISTs (7 bytes asked, ~20 KB answered) grow without bound. */
static long rss_bound_kib(void)
{
	const char *san = getenv("IPCD_SANITIZED");

	return san && strcmp(san, "yes") == 0 ? 256L * 1024 : 64L * 1024;
}

START_TEST(test_rss)
{
	static const char *const args[] = { "--max-output", RSS_MAX_OUTPUT, NULL };
	struct h_opts o = { .args = args, .listen_fd = -1 };
	pid_t abusers[RSS_NONREADERS + RSS_SLOW + RSS_FLOODERS], wp, wg;
	long peak = 0, rss, bound = rss_bound_kib();
	struct h_daemon d;
	ipc_client *c;
	char q[IPC_NAME_MAX + 1];
	int i, na = 0, stg = -1, stp = -1, st;
	int64_t deadline;

	soak_raise_nofile();
	soak_map(1);
	h_prepare(&d);
	h_launch_opts(&d, &o);
	c = h_connect(&d);
	ck_assert_int_eq(ipc_queue_open(c, "flood", H_QOPTS(1000, IPC_QUEUE_CREATE), NULL), 0);
	ck_assert_int_eq(ipc_queue_open(c, "work", H_QOPTS(100, IPC_QUEUE_CREATE), NULL), 0);
	for (i = 0; i < RSS_PADQUEUES; i++) {
		snprintf(q, sizeof(q), "pad.%03d.with.a.long.name.for.bigger.listings", i);
		ck_assert_int_eq(ipc_queue_open(c, q, H_QOPTS(0, IPC_QUEUE_CREATE), NULL), 0);
	}
	for (i = 0; i < RSS_NONREADERS; i++)
		abusers[na++] = rss_spawn(rss_nonreader, d.sock);
	for (i = 0; i < RSS_FLOODERS; i++)
		abusers[na++] = rss_spawn(rss_flooder, d.sock);
	for (i = 0; i < RSS_SLOW; i++)
		abusers[na++] = rss_spawn(rss_slow, d.sock);
	/* Let the abuse build up, then move the work through it. */
	usleep(500000);
	wg = rss_spawn(rss_work_get, d.sock);
	wp = rss_spawn(rss_work_put, d.sock);
	deadline = h_now_ms() + 120000;
	while (stg < 0 || stp < 0) {
		rss = soak_status_kib(d.pid, "VmRSS");
		peak = rss > peak ? rss : peak;
		ck_assert_msg(rss < bound, "daemon RSS %ld KiB over %ld KiB", rss, bound);
		if (stg < 0 && waitpid(wg, &st, WNOHANG) == wg)
			stg = st;
		if (stp < 0 && waitpid(wp, &st, WNOHANG) == wp)
			stp = st;
		ck_assert_msg(h_now_ms() < deadline, "the work pair never finished");
		usleep(50000);
	}
	rss = soak_status_kib(d.pid, "VmHWM");
	printf("rss: %d clients that never read, %d slow consumers, %d parked producers; "
	       "daemon VmRSS peak sampled %ld KiB, VmHWM %ld KiB, bound %ld KiB; "
	       "%d messages moved past them\n", RSS_NONREADERS, RSS_SLOW,
	       RSS_FLOODERS, peak, rss, bound, RSS_WORK);
	ck_assert_msg(stg == 0 && stp == 0, "work pair: get 0x%x, put 0x%x", stg, stp);
	ck_assert_msg(rss < bound, "daemon peak RSS %ld KiB over %ld KiB", rss, bound);
	__atomic_store_n(&sk->stop, 1, __ATOMIC_SEQ_CST);
	for (i = 0; i < na; i++)
		ck_assert_int_eq(h_wait_child(abusers[i], 30000), 0);
	ipc_close(c);
	h_stop(&d);
}
END_TEST

/* The suite: sizes scale with SOAK_MESSAGES, so do the bounds. */
static Suite *soak_suite(void)
{
	Suite *s = suite_create("soak");
	TCase *tc = tcase_create("soak");
	TCase *tr = tcase_create("rss");

	tcase_set_timeout(tc, 120 + (double)soak_messages() / 250);
	tcase_add_unchecked_fixture(tc, NULL, h_cleanup);
	tcase_add_test(tc, test_soak);
	tcase_set_timeout(tr, 240);
	tcase_add_unchecked_fixture(tr, NULL, h_cleanup);
	tcase_add_test(tr, test_rss);
	suite_add_tcase(s, tc);
	suite_add_tcase(s, tr);
	return s;
}

/* Run the suite (not under IPCD_WRAPPER: valgrind would take hours). */
int main(void)
{
	if (h_wrapped()) {
		printf("check_soak: skipped under IPCD_WRAPPER\n");
		return 77;
	}
	return h_run_suite(soak_suite());
}
