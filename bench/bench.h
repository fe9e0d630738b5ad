/* SPDX-License-Identifier: MIT */
/*
 * bench.h: the shared parts of ipcbench: one result row, the run of a
 * throughput or latency workload across forked processes, and the systems
 * measured (ipcd in ipcbench.c, the others in peers.c, redis.c and the
 * Python helper).
 *
 * A throughput run forks its producers and consumers; each connects, says
 * it is ready and waits at a barrier, so connecting is never timed. The
 * clock starts when the barrier opens and stops when the consumers' shared
 * counter reaches the total. A latency run forks a pinger and a ponger:
 * the pinger sends a message stamped with CLOCK_MONOTONIC, the ponger
 * records how long it took to arrive and answers, one at a time.
 */
#ifndef IPCBENCH_H
#define IPCBENCH_H

#include <stddef.h>
#include <stdint.h>
#include <stdatomic.h>
#include <sys/types.h>

#define BENCH_MAX_PEERS 8       /* producers + consumers of one run, each side */
#define BENCH_BATCH 64          /* messages per batched call */
#define BENCH_WINDOW 128        /* outstanding pipelined requests */
/* Read-ahead of batch64 consumers: with 64 per fetch, a fetch comes back
 * after the consumer sleeps, and waking it costs ~25 us on a VM (more than
 * handling the 64); 4 batches ahead keep it busy meanwhile. */
#define BENCH_READAHEAD (4 * BENCH_BATCH)
#define BENCH_POLL_MS 100       /* consumers' get timeout, to notice the end */

/* Which calls a workload uses. */
enum bench_mode {
	MODE_PLAIN = 0,   /* one message per call, waiting for each reply */
	MODE_PIPE,        /* one message per call, pipelined puts, prefetching gets */
	MODE_BATCH,       /* BENCH_BATCH messages per call */
	MODE__MAX
};

/* Whose a process is (procstat.c). */
enum proc_kind {
	PROC_OURS = 0,   /* the bench, its descendants, the daemons it started */
	PROC_KERN,       /* a kernel thread */
	PROC_OTHER,      /* any other user process */
	PROC__KINDS
};

/* One process, from its /proc/PID/stat line. */
struct proc_ent {
	long pid, ppid;
	unsigned long flags;     /* PF_* */
	char state;
	char comm[20];
	double cpu;              /* utime + stime, seconds */
	double kids;             /* cutime + cstime: its reaped children */
	enum proc_kind kind;     /* set by proc_classify() */
};

/* One process's CPU between two tables (proc_top). */
struct proc_top {
	long pid;
	enum proc_kind kind;
	char comm[20];
	double secs;
};

/* A snapshot of the machine's CPU use (noise.c). */
struct noise_snap {
	int64_t t_ns;        /* CLOCK_MONOTONIC */
	double busy, steal;  /* all CPUs' busy and steal seconds (/proc/stat) */
	struct proc_ent *tab;     /* every process then (malloc'd; noise_end
				     frees it) */
	size_t ntab;
};

/* What the rest of the machine did between two snapshots, each in % of
 * one core (noise_end); < 0: not measured. */
struct noise_fig {
	double other;        /* user processes outside the bench's tree */
	double kern;         /* kernel threads */
	double steal;        /* the hypervisor's steal time */
	double unseen;       /* /proc/stat's busy ticks less every process's
				time: tick sampling, processes that died
				unreaped, irq time on our behalf (< 0) */
	char top[112];       /* the biggest others and kernel threads, or "" */
};

/* One row of the table. */
struct row {
	char workload[32];   /* "1/1 plain", "4/4 batch64", "latency", ... */
	char system[32];     /* "ipcd", "redis", "posix-mq", ... */
	size_t size;         /* message bytes */
	double msgs_per_s;   /* 0 when not measured */
	double mb_per_s;
	double p50_us;       /* latency rows only, else < 0 */
	double p99_us;
	char note[192];      /* why a row has no numbers, or "" */
	double other_pct;    /* CPU of other user processes meanwhile, % of
				one core; < 0: not measured */
	double kern_pct;     /* CPU of kernel threads meanwhile, the same */
	struct noise_snap snap;  /* taken when the row started */
};

/* A row with other_pct above this was measured on a busy machine. */
#define BENCH_NOISY_PCT 5.0
/* A row with kern_pct above this was too. Kernel threads mostly do the
 * row's own work: the I/O of a durable row's fdatasyncs took 4-13% of a
 * core (kblockd kworkers, ksoftirqd, writeback) in the rows measured when
 * this was set, other rows 0-6% (kdamond, rcu). A fifth of a core is
 * beyond that, and on a 2-core machine it is taken from the processes
 * measured, whoever it works for (kswapd, kcompactd under another
 * process's memory pressure). */
#define BENCH_KERN_NOISY_PCT 20.0

/* Shared memory of one run (MAP_SHARED, set up by the parent). */
struct run_shm {
	atomic_uint_fast64_t consumed;   /* messages received so far */
	atomic_int done;                 /* set once consumed reached total */
	atomic_int failed;               /* a child hit an error */
	int64_t t_end_ns;                /* when consumed reached total */
	char err[160];                   /* the first child error */
	size_t nsamples;                 /* latency: recorded so far */
	uint32_t samples[];              /* latency: one-way ns per message */
};

/* One workload run as the children see it. */
struct run {
	const char *sock;    /* the system's socket or name, if any */
	char qname[64];      /* the queue, list or mq name of this run */
	size_t size;         /* message bytes (>= 16) */
	unsigned nprod, ncons;
	uint64_t total;      /* messages to move */
	enum bench_mode mode;
	struct run_shm *shm;
	int ready_fd;        /* child -> parent: one byte when set up */
	int barrier_fd;      /* parent closes its end to start everybody */
	void *arg;           /* system-specific */
	unsigned char *rbuf; /* a pinger's answers land here (r->size bytes,
				run_ping_loop's) */
};

/* What a child runs: the producer or consumer with index idx. Returns 0
 * or records an error with run_fail() and returns non-zero. */
typedef int (*run_fn)(struct run *r, unsigned idx);

/* --- util.c ------------------------------------------------------------- */

/* CLOCK_MONOTONIC in ns. */
int64_t now_ns(void);
/* Sleep ms milliseconds. */
void sleep_ms(int ms);
/* Messages each producer idx of r sends (the first takes the remainder). */
uint64_t run_share(const struct run *r, unsigned idx);
/* Child: say we are set up, then wait for the start. */
void run_ready(struct run *r);
/* Consumer: count n received messages; 1 when the run is complete. */
int run_consumed(struct run *r, uint64_t n);
/* 1 when the run is complete (a consumer's timeout poll). */
int run_is_done(const struct run *r);
/* Record a child's error (first one wins); returns 1. */
int run_fail(struct run *r, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));
/* Fill buf[0..size) with a message; the first 8 bytes hold stamp. */
void msg_fill(unsigned char *buf, size_t size, int64_t stamp);
/* The stamp of a message. */
int64_t msg_stamp(const void *buf);
/* Messages a ponger receives in a latency run (warm-up included). */
uint64_t run_lat_msgs(const struct run *r);
/* Latency: the ponger records one sample taken from a message's stamp. */
void run_sample(struct run *r, const void *msg);

/* Run a throughput workload: fork r->nprod producers and r->ncons
 * consumers, time them, fill row (msgs/s, MB/s) or row->note. 0 or -1. */
int run_throughput(struct run *r, run_fn producer, run_fn consumer,
		   struct row *row);
/* Run a latency workload of r->total round trips (after a warm-up): ping
 * is the sending side (run_ping_loop), pong the side that receives, calls
 * run_sample() and answers. Fills row's one-way p50/p99, and rtt's (NULL:
 * not wanted) with the round trips the pinger saw. 0 or -1. */
int run_latency(struct run *r, run_fn ping, run_fn pong, struct row *row);
int run_latency_rtt(struct run *r, run_fn ping, run_fn pong, struct row *row,
		    struct row *rtt);
/* The pinger's loop: a message of r->size bytes filled by msg_fill and
 * r->rbuf for the answers, run_ready(), then for each round trip stamp it, send_one() it and
 * wait_back() for the answer. 0 or 1. */
int run_ping_loop(struct run *r, int (*send_one)(struct run *r, unsigned char *msg),
		  int (*wait_back)(struct run *r));
/* The ponger's loop: a buffer of r->size bytes, run_ready(), then for
 * each of run_lat_msgs(r) messages recv_one() it into the buffer,
 * run_sample() it and answer() with it; both report their own failure
 * (run_fail). 0 or 1. */
int run_pong_loop(struct run *r, int (*recv_one)(struct run *r, unsigned char *buf),
		  int (*answer)(struct run *r, const unsigned char *buf));
/* A producer's loop: its share (run_share) of r->size-byte messages,
 * filled by msg_fill, each given to send_one(r, idx, msg) (0, or -1 with
 * errno set); the first failure is reported as "what: strerror". 0 or 1. */
int run_produce(struct run *r, unsigned idx,
		int (*send_one)(struct run *r, unsigned idx, const unsigned char *msg),
		const char *what);
/* Re-stamp a message filled by msg_fill(). */
void msg_fill_stamp(unsigned char *buf, int64_t stamp);

/* Start argv (a server) with stdout/stderr to logpath; its pid or -1. */
pid_t spawn_server(char *const argv[], const char *logpath);
/* SIGTERM pid and reap it (SIGKILL after 5 s). */
void stop_server(pid_t pid);
/* Wait until connect() to the Unix socket path works; 0 or -1. */
int wait_socket(const char *path, int timeout_ms);
/* A TCP port on 127.0.0.1 nobody listens on right now, or -1. */
int tcp_free_port(void);
/* Wait until connect() to 127.0.0.1:port works; 0 or -1. */
int wait_tcp(int port, int timeout_ms);
/* Connect a stream socket to a Unix path; fd or -1. */
int unix_connect(const char *path);
/* Read exactly n bytes; 0 or -1 (EOF or error). */
int read_full(int fd, void *buf, size_t n);
/* Write exactly n bytes; 0 or -1. */
int write_full(int fd, const void *buf, size_t n);
/* The VmRSS of pid in KiB, or -1. */
long rss_kib(pid_t pid);
/* Remove a directory and everything in it. */
void rmdir_all(const char *dir);
/* Raise RLIMIT_NOFILE's soft limit to at least want (up to the hard one). */
void raise_nofile(long want);

/* --- noise.c: what the rest of the machine did meanwhile --------------- */

/* Count pid, a daemon the bench started or measures, and its
 * descendants as the bench's own, whoever their parent is. */
void noise_adopt(long pid);
/* Take a snapshot now. */
void noise_start(struct noise_snap *s);
/* What other processes and kernel threads did since s, into *f; 0, or
 * -1 if unknown (f's figures then -1). Frees s's table. */
int noise_end(struct noise_snap *s, struct noise_fig *f);
/* 1 when a row or run with these figures was measured on a busy machine. */
int noise_is_noisy(double other_pct, double kern_pct);

/* --- procstat.c: whose CPU time it was (pure, unit-tested) -------------- */

/* Parse one /proc/PID/stat line (clock ticks of hz per second) into *e;
 * 0, or -1 if it is not one. */
int proc_parse_stat(const char *line, double hz, struct proc_ent *e);
/* Sort v by pid and set each one's kind: a kernel thread (PF_KTHREAD, or
 * a child of kthreadd), ours (one of roots or a descendant of one), or
 * another user process. */
void proc_classify(struct proc_ent *v, size_t n, const long *roots, size_t nroots);
/* The CPU seconds each kind of process used from table a to table b
 * (both classified, a's kinds those of b's pids at a), into sum: per
 * process, its own time and (user processes) its reaped children's, less
 * the earlier time of those of its children gone since a. A kernel
 * thread gone since a is not counted; one new in b counts all its time.
 * The k processes not ours that used the most, largest first, into top:
 * how many. */
size_t proc_diff(const struct proc_ent *a, size_t na, const struct proc_ent *b, size_t nb,
		 double sum[PROC__KINDS], struct proc_top *top, size_t k);
/* The 1-minute load average, or -1. */
double load_avg(void);

/* --- peers.c: what users would pick instead ------------------------------- */

/* Options every system's runner needs. */
struct bench_opts {
	int quick;
	const char *python;      /* python3 path, or NULL */
	const char *py_helper;   /* bench/py_mpqueue.py */
	const char *redis;       /* redis-server path, or NULL */
	const char *tmpdir;      /* private directory for sockets and logs */
	unsigned divide;         /* --divide N: N times fewer messages (smoke
				    tests of the bench itself); 0 or 1: none */
};

/* Message counts for one size. */
uint64_t bench_count(const struct bench_opts *o, size_t size, int slow);
/* Round trips for the latency rows. */
uint64_t bench_lat_count(const struct bench_opts *o, size_t size);

/* --- recover.c: a restarted ipcd replaying its journal ------------------ */

/* Journal n messages of size bytes in a durable queue of an ipcd (binary
 * ipcd) of its own, stop it, and time a new one on that journal until its
 * socket accepts: warm with the journal in the page cache, cold with its
 * pages dropped first. Fills each row (msgs/s: messages recovered per
 * second; MB/s: journal MB read per second) or its note. */
void bench_recovery(const struct bench_opts *o, const char *ipcd, size_t size,
		    uint64_t n, struct row *warm, struct row *cold);

/* The raw Unix socket stream: throughput (np pairs) and latency. */
void peer_rawsock(const struct bench_opts *o, size_t size, unsigned np,
		  struct row *row);
void peer_rawsock_lat(const struct bench_opts *o, size_t size, struct row *oneway,
		      struct row *rtt);
/* POSIX message queues. */
void peer_mq(const struct bench_opts *o, size_t size, unsigned np, struct row *row);
void peer_mq_lat(const struct bench_opts *o, size_t size, struct row *row);
/* Python multiprocessing: what is "queue", "queue-lat", "pipe", "pipe-lat". */
void peer_python(const struct bench_opts *o, const char *what, size_t size,
		 unsigned np, struct row *row);

/* --- redis.c ------------------------------------------------------------------ */

/* Start redis-server on a private socket; 0, or -1 with why in note. */
int redis_start(const struct bench_opts *o, char *note, size_t len);
/* The same with appendonly yes and appendfsync fsync ("always",
 * "everysec"); NULL: appendonly no (redis_start). */
int redis_start_aof(const struct bench_opts *o, const char *fsync, char *note,
		    size_t len);
/* Stop it. */
void redis_stop(void);
/* Throughput: mode PLAIN is LPUSH/BRPOP, PIPE pipelined LPUSH and RPOP
 * count, BATCH LPUSH of BENCH_BATCH values and RPOP count. */
void peer_redis(const struct bench_opts *o, size_t size, unsigned np,
		enum bench_mode mode, struct row *row);
/* Latency: LPUSH -> BRPOP hand-off. */
void peer_redis_lat(const struct bench_opts *o, size_t size, struct row *row);

/* Fill a row's identity; numbers zeroed, p50/p99 -1. */
void row_init(struct row *row, const char *workload, const char *system, size_t size);

#endif
