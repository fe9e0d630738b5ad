/* SPDX-License-Identifier: MIT */
/*
 * util.c: ipcbench's plumbing: clocks, forked runs with a start barrier,
 * the shared counter that ends a run, latency samples, servers.
 */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <sys/mman.h>
#include <sys/resource.h>
#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <sys/wait.h>

#include "bench.h"

/* Round trips before the latency samples start counting. */
#define LAT_WARMUP 200
/* The longest a run may take before its children are killed. */
#define RUN_LIMIT_MS 180000

static int child_readied;      /* this child has passed run_ready() */
static uint64_t child_pongs;   /* this ponger's messages so far */

/* CLOCK_MONOTONIC in ns. */
int64_t now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000000000 + ts.tv_nsec;
}

/* Sleep ms milliseconds. */
void sleep_ms(int ms)
{
	struct timespec ts = { ms / 1000, (long)(ms % 1000) * 1000000 };

	while (nanosleep(&ts, &ts) != 0 && errno == EINTR)
		;
}

/* Fill a row's identity; numbers zeroed, p50/p99 -1. */
void row_init(struct row *row, const char *workload, const char *system, size_t size)
{
	memset(row, 0, sizeof *row);
	snprintf(row->workload, sizeof row->workload, "%s", workload);
	snprintf(row->system, sizeof row->system, "%s", system);
	row->size = size;
	row->p50_us = row->p99_us = -1;
	row->other_pct = -1;
	row->kern_pct = -1;
}

/* Messages each producer sends; the first takes the remainder. */
uint64_t run_share(const struct run *r, unsigned idx)
{
	uint64_t share = r->total / r->nprod;

	return idx == 0 ? share + r->total % r->nprod : share;
}

/* Child: say we are set up, then wait for the parent to open the barrier. */
void run_ready(struct run *r)
{
	char b = 'r';

	if (child_readied)
		return;
	child_readied = 1;
	if (write(r->ready_fd, &b, 1) != 1)
		_exit(3);
	while (read(r->barrier_fd, &b, 1) < 0 && errno == EINTR)
		;
}

/* Consumer: count n received messages; 1 when the run is complete. */
int run_consumed(struct run *r, uint64_t n)
{
	uint64_t before = atomic_fetch_add(&r->shm->consumed, n);

	if (before < r->total && before + n >= r->total) {
		r->shm->t_end_ns = now_ns();
		atomic_store(&r->shm->done, 1);
	}
	return atomic_load(&r->shm->done) || atomic_load(&r->shm->failed);
}

/* 1 when the run is complete or failed. */
int run_is_done(const struct run *r)
{
	return atomic_load(&r->shm->done) || atomic_load(&r->shm->failed);
}

/* Record a child's error (first one wins). */
int run_fail(struct run *r, const char *fmt, ...)
{
	va_list ap;
	int expect = 0;

	if (atomic_compare_exchange_strong(&r->shm->failed, &expect, 1)) {
		va_start(ap, fmt);
		vsnprintf(r->shm->err, sizeof r->shm->err, fmt, ap);
		va_end(ap);
	}
	return 1;
}

/* Fill a message: stamp first, then a pattern. */
void msg_fill(unsigned char *buf, size_t size, int64_t stamp)
{
	memset(buf, 0x5a, size);
	memcpy(buf, &stamp, sizeof stamp);
}

/* The stamp of a message. */
int64_t msg_stamp(const void *buf)
{
	int64_t s;

	memcpy(&s, buf, sizeof s);
	return s;
}

/* Latency: record how long the message took to arrive (after warm-up). */
void run_sample(struct run *r, const void *msg)
{
	int64_t d = now_ns() - msg_stamp(msg);
	struct run_shm *s = r->shm;

	if (child_pongs++ < LAT_WARMUP || s->nsamples >= r->total)
		return;
	s->samples[s->nsamples++] = d < 0 ? 0 : d > UINT32_MAX ? UINT32_MAX : (uint32_t)d;
}

/* Messages a ponger receives in a latency run (warm-up included). */
uint64_t run_lat_msgs(const struct run *r)
{
	return r->total + LAT_WARMUP;
}

/* Latency: the pinger records one round trip (after warm-up). */
static void run_rtt(struct run *r, uint64_t i, int64_t ns)
{
	if (i >= LAT_WARMUP && i - LAT_WARMUP < r->total)
		r->shm->samples[r->total + i - LAT_WARMUP] = (uint32_t)ns;
}

/* A shared run_shm with room for 2 * nsamples samples. */
static struct run_shm *run_shm_new(uint64_t nsamples)
{
	size_t len = sizeof(struct run_shm) + 2 * nsamples * sizeof(uint32_t);
	struct run_shm *s = mmap(NULL, len, PROT_READ | PROT_WRITE,
				 MAP_SHARED | MAP_ANONYMOUS, -1, 0);

	if (s == MAP_FAILED)
		return NULL;
	memset(s, 0, sizeof *s);
	return s;
}

/* Free a run_shm made for nsamples. */
static void run_shm_free(struct run_shm *s, uint64_t nsamples)
{
	munmap(s, sizeof(struct run_shm) + 2 * nsamples * sizeof(uint32_t));
}

/* Fork one child running fn(r, idx), wired to the barrier pipes. */
static pid_t run_fork(struct run *r, run_fn fn, unsigned idx, int ready[2],
		      int barrier[2])
{
	pid_t pid = fork();
	int rc;

	if (pid != 0)
		return pid;
	close(ready[0]);
	close(barrier[1]);
	r->ready_fd = ready[1];
	r->barrier_fd = barrier[0];
	child_readied = 0;
	child_pongs = 0;
	rc = fn(r, idx);
	run_ready(r);  /* a child that failed early must not stall the start */
	_exit(rc ? 1 : 0);
}

/* Wait for every child, killing them all when the run overstays. */
static int run_reap(pid_t *pids, unsigned n)
{
	int64_t deadline = now_ns() + (int64_t)RUN_LIMIT_MS * 1000000;
	unsigned left = n, i;
	int st, bad = 0;

	while (left > 0) {
		for (i = 0; i < n; i++) {
			if (pids[i] <= 0 || waitpid(pids[i], &st, WNOHANG) != pids[i])
				continue;
			bad |= !WIFEXITED(st) || WEXITSTATUS(st) != 0;
			pids[i] = 0;
			left--;
		}
		if (left > 0 && now_ns() > deadline) {
			for (i = 0; i < n; i++)
				if (pids[i] > 0)
					kill(pids[i], SIGKILL);
			return -2;
		}
		if (left > 0)
			sleep_ms(2);
	}
	return bad ? -1 : 0;
}

/* Fork nf children of f and ng of g, open the barrier at *t0; reap. */
static int run_children(struct run *r, run_fn f, unsigned nf, run_fn g,
			unsigned ng, int64_t *t0)
{
	pid_t pids[2 * BENCH_MAX_PEERS];
	int ready[2], barrier[2], rc;
	unsigned i, got = 0;
	char buf[2 * BENCH_MAX_PEERS];

	if (pipe(ready) != 0 || pipe(barrier) != 0)
		return -1;
	for (i = 0; i < nf + ng; i++)
		pids[i] = i < nf ? run_fork(r, f, i, ready, barrier)
				 : run_fork(r, g, i - nf, ready, barrier);
	close(ready[1]);
	close(barrier[0]);
	while (got < nf + ng) {
		ssize_t n = read(ready[0], buf, sizeof buf);

		if (n <= 0 && errno != EINTR)
			break;
		got += n > 0 ? (unsigned)n : 0;
	}
	*t0 = now_ns();
	close(barrier[1]);
	close(ready[0]);
	rc = run_reap(pids, nf + ng);
	if (rc == -2)
		run_fail(r, "timed out after %d s", RUN_LIMIT_MS / 1000);
	else if (rc == -1 && !r->shm->failed)
		run_fail(r, "a child process failed");
	return rc;
}

/* Run a throughput workload once (ipcbench's rounds keep each row's best). */
int run_throughput(struct run *r, run_fn producer, run_fn consumer, struct row *row)
{
	int64_t t0 = 0;
	double secs;

	r->shm = run_shm_new(0);
	if (r->shm == NULL)
		return -1;
	run_children(r, consumer, r->ncons, producer, r->nprod, &t0);
	if (r->shm->failed || !r->shm->done) {
		snprintf(row->note, sizeof row->note, "%s",
			 r->shm->failed ? r->shm->err : "did not finish");
		run_shm_free(r->shm, 0);
		return -1;
	}
	secs = (double)(r->shm->t_end_ns - t0) / 1e9;
	row->msgs_per_s = (double)r->total / secs;
	row->mb_per_s = row->msgs_per_s * (double)r->size / 1e6;
	run_shm_free(r->shm, 0);
	return 0;
}

/* Compare two samples for qsort. */
static int cmp_u32(const void *a, const void *b)
{
	uint32_t x = *(const uint32_t *)a, y = *(const uint32_t *)b;

	return x < y ? -1 : x > y;
}

/* The p-th percentile of n sorted samples, in µs. */
static double pct_us(const uint32_t *s, uint64_t n, double p)
{
	uint64_t i = (uint64_t)(p / 100.0 * (double)(n - 1) + 0.5);

	return s[i] / 1000.0;
}

/* Run a latency workload; fills row's p50/p99 (one-way) and rtt's (round trip). */
static int run_latency2(struct run *r, run_fn ping, run_fn pong, struct row *row,
			struct row *rtt)
{
	int64_t t0 = 0;
	uint64_t n;

	r->shm = run_shm_new(r->total);
	if (r->shm == NULL)
		return -1;
	r->nprod = r->ncons = 1;
	run_children(r, pong, 1, ping, 1, &t0);
	n = r->shm->nsamples;
	if (r->shm->failed || n < r->total) {
		snprintf(row->note, sizeof row->note, "%s",
			 r->shm->failed ? r->shm->err : "too few samples");
		run_shm_free(r->shm, r->total);
		return -1;
	}
	qsort(r->shm->samples, n, sizeof(uint32_t), cmp_u32);
	row->p50_us = pct_us(r->shm->samples, n, 50);
	row->p99_us = pct_us(r->shm->samples, n, 99);
	if (rtt != NULL) {
		qsort(r->shm->samples + r->total, r->total, sizeof(uint32_t), cmp_u32);
		rtt->p50_us = pct_us(r->shm->samples + r->total, r->total, 50);
		rtt->p99_us = pct_us(r->shm->samples + r->total, r->total, 99);
	}
	run_shm_free(r->shm, r->total);
	return 0;
}

/* Run a latency workload (one-way figures only). */
int run_latency(struct run *r, run_fn ping, run_fn pong, struct row *row)
{
	return run_latency2(r, ping, pong, row, NULL);
}

/* Run a latency workload recording round trips too (see run_ping_rtt). */
int run_latency_rtt(struct run *r, run_fn ping, run_fn pong, struct row *row,
		    struct row *rtt)
{
	return run_latency2(r, ping, pong, row, rtt);
}

/* The pinger's loop: send() then wait_back(), recording round trips. */
int run_ping_loop(struct run *r, int (*send_one)(struct run *r, unsigned char *msg),
		  int (*wait_back)(struct run *r))
{
	unsigned char *msg = malloc(r->size);
	uint64_t i, n = r->total + LAT_WARMUP;
	int64_t t;
	int rc = 0;

	r->rbuf = malloc(r->size);
	if (msg == NULL || r->rbuf == NULL) {
		free(msg);
		return run_fail(r, "out of memory");
	}
	msg_fill(msg, r->size, 0);
	run_ready(r);
	for (i = 0; i < n && rc == 0; i++) {
		t = now_ns();
		msg_fill_stamp(msg, t);
		if (send_one(r, msg) || wait_back(r))
			rc = 1;
		else
			run_rtt(r, i, now_ns() - t);
	}
	free(msg);
	free(r->rbuf);
	r->rbuf = NULL;
	return rc;
}

/* The ponger's loop: recv_one() then answer(), recording each message. */
int run_pong_loop(struct run *r, int (*recv_one)(struct run *r, unsigned char *buf),
		  int (*answer)(struct run *r, const unsigned char *buf))
{
	unsigned char *buf = malloc(r->size);
	uint64_t i, n = run_lat_msgs(r);
	int rc = 0;

	if (buf == NULL)
		return run_fail(r, "out of memory");
	run_ready(r);
	for (i = 0; i < n && rc == 0; i++) {
		rc = recv_one(r, buf);
		if (rc == 0) {
			run_sample(r, buf);
			rc = answer(r, buf);
		}
	}
	free(buf);
	return rc;
}

/* A producer's loop (bench.h). */
int run_produce(struct run *r, unsigned idx,
		int (*send_one)(struct run *r, unsigned idx, const unsigned char *msg),
		const char *what)
{
	unsigned char *msg = malloc(r->size);
	uint64_t i, n = run_share(r, idx);
	int rc = 0;

	if (msg == NULL)
		return run_fail(r, "out of memory");
	msg_fill(msg, r->size, 0);
	run_ready(r);
	for (i = 0; i < n && rc == 0; i++)
		if (send_one(r, idx, msg) != 0)
			rc = run_fail(r, "%s: %s", what, strerror(errno));
	free(msg);
	return rc;
}

/* Re-stamp a message filled by msg_fill(). */
void msg_fill_stamp(unsigned char *buf, int64_t stamp)
{
	memcpy(buf, &stamp, sizeof stamp);
}

/* Start a server with its output to logpath. */
pid_t spawn_server(char *const argv[], const char *logpath)
{
	pid_t pid = fork();
	int fd;

	if (pid != 0) {
		noise_adopt(pid);   /* its CPU is the bench's, not other processes' */
		return pid;
	}
	fd = open(logpath, O_WRONLY | O_CREAT | O_TRUNC, 0600);
	if (fd >= 0) {
		dup2(fd, 1);
		dup2(fd, 2);
	}
	fd = open("/dev/null", O_RDONLY);
	if (fd >= 0)
		dup2(fd, 0);
	execvp(argv[0], argv);
	fprintf(stderr, "exec %s: %s\n", argv[0], strerror(errno));
	_exit(127);
}

/* SIGTERM a server and reap it, SIGKILL after 5 s. */
void stop_server(pid_t pid)
{
	int64_t deadline = now_ns() + 5000000000LL;
	int st;

	if (pid <= 0)
		return;
	kill(pid, SIGTERM);
	while (waitpid(pid, &st, WNOHANG) == 0) {
		if (now_ns() > deadline) {
			kill(pid, SIGKILL);
			waitpid(pid, &st, 0);
			return;
		}
		sleep_ms(5);
	}
}

/* Connect a stream socket to a Unix path. */
int unix_connect(const char *path)
{
	struct sockaddr_un sa = { .sun_family = AF_UNIX };
	int fd;

	if (strlen(path) >= sizeof sa.sun_path)
		return -1;
	strcpy(sa.sun_path, path);
	fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (fd < 0)
		return -1;
	if (connect(fd, (struct sockaddr *)&sa, sizeof sa) != 0) {
		close(fd);
		return -1;
	}
	return fd;
}

/* Wait until the socket at path accepts connections. */
int wait_socket(const char *path, int timeout_ms)
{
	int64_t deadline = now_ns() + (int64_t)timeout_ms * 1000000;
	int fd;

	while ((fd = unix_connect(path)) < 0) {
		if (now_ns() > deadline)
			return -1;
		sleep_ms(10);
	}
	close(fd);
	return 0;
}

/* Move exactly n bytes through fd: read them into buf, or write them
 * from it. 0, or -1 at an error or EOF. */
static int io_full(int fd, char *buf, size_t n, int writing)
{
	size_t off = 0;
	ssize_t k;

	while (off < n) {
		k = writing ? write(fd, buf + off, n - off) : read(fd, buf + off, n - off);
		if (k < 0 && errno == EINTR)
			continue;
		if (k <= 0)
			return -1;
		off += (size_t)k;
	}
	return 0;
}

/* Read exactly n bytes. */
int read_full(int fd, void *buf, size_t n)
{
	return io_full(fd, buf, n, 0);
}

/* Write exactly n bytes. */
int write_full(int fd, const void *buf, size_t n)
{
	return io_full(fd, (char *)(uintptr_t)buf, n, 1);
}

/* The VmRSS of pid in KiB. */
long rss_kib(pid_t pid)
{
	char path[64], line[256];
	long kib = -1;
	FILE *f;

	snprintf(path, sizeof path, "/proc/%ld/status", (long)pid);
	f = fopen(path, "r");
	if (f == NULL)
		return -1;
	while (fgets(line, sizeof line, f) != NULL)
		if (sscanf(line, "VmRSS: %ld kB", &kib) == 1)
			break;
	fclose(f);
	return kib;
}

/* Raise RLIMIT_NOFILE's soft limit to at least want. */
void raise_nofile(long want)
{
	struct rlimit rl;

	if (getrlimit(RLIMIT_NOFILE, &rl) != 0 || rl.rlim_cur >= (rlim_t)want)
		return;
	rl.rlim_cur = rl.rlim_max < (rlim_t)want ? rl.rlim_max : (rlim_t)want;
	setrlimit(RLIMIT_NOFILE, &rl);
}

/* Remove a directory and everything in it; see bench.h. */
void rmdir_all(const char *dir)
{
	char path[512];
	struct dirent *e;
	DIR *d = opendir(dir);

	while (d != NULL && (e = readdir(d)) != NULL) {
		if (strcmp(e->d_name, ".") == 0 || strcmp(e->d_name, "..") == 0)
			continue;
		snprintf(path, sizeof path, "%s/%s", dir, e->d_name);
		if (e->d_type == DT_DIR)
			rmdir_all(path);
		else
			unlink(path);
	}
	if (d != NULL)
		closedir(d);
	rmdir(dir);
}

/* A TCP port on 127.0.0.1 nobody listens on now; see bench.h. */
int tcp_free_port(void)
{
	struct sockaddr_in sa = { .sin_family = AF_INET };
	socklen_t len = sizeof sa;
	int fd = socket(AF_INET, SOCK_STREAM, 0), port = -1;

	sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	if (fd >= 0 && bind(fd, (struct sockaddr *)&sa, sizeof sa) == 0 &&
	    getsockname(fd, (struct sockaddr *)&sa, &len) == 0)
		port = ntohs(sa.sin_port);
	if (fd >= 0)
		close(fd);
	return port;
}

/* Wait until something accepts on 127.0.0.1:port; see bench.h. */
int wait_tcp(int port, int timeout_ms)
{
	int64_t deadline = now_ns() + (int64_t)timeout_ms * 1000000;
	struct sockaddr_in sa = { .sin_family = AF_INET };
	int fd, ok;

	sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	sa.sin_port = htons((uint16_t)port);
	do {
		fd = socket(AF_INET, SOCK_STREAM, 0);
		ok = fd >= 0 && connect(fd, (struct sockaddr *)&sa, sizeof sa) == 0;
		if (fd >= 0)
			close(fd);
		if (ok)
			return 0;
		sleep_ms(20);
	} while (now_ns() < deadline);
	return -1;
}
