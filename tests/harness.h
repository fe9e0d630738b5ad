/* SPDX-License-Identifier: MIT */
/*
 * harness.h: start a private, freshly built ipcd for one integration test,
 * stop it and check how it ended, and run the tools (ipcctl, queue_demo)
 * against it.
 *
 * The binaries come from the environment the Makefile exports: IPCD_BIN,
 * IPCCTL_BIN, QUEUE_DEMO_BIN. When IPCD_WRAPPER is set (for instance a
 * valgrind command line) ipcd runs under it and must still exit 0.
 */
#ifndef IPC_TEST_HARNESS_H
#define IPC_TEST_HARNESS_H

#include <check.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include <ipcclient/ipcclient.h>

/* One daemon under test: its private directory, socket and log. */
struct h_daemon {
	char dir[64];       /* mkdtemp'd directory holding the socket and log */
	char sock[108];     /* the socket path ipcd serves (fits sun_path) */
	char log[128];      /* ipcd's stderr */
	char state[128];    /* its --state-dir (made by ipcd on first use) */
	pid_t pid;          /* ipcd (or its wrapper); 0 when not running */
};

/* Captured output of a child process. */
struct h_buf {
	char *data;         /* malloc'd, NUL-terminated for convenience */
	size_t len;         /* bytes captured, not counting that NUL */
};

/* Call once in main() before running the suite: lets h_cleanup() see the
 * daemons started in Check's forked test processes. */
void h_init(void);

/* Unchecked teardown for every TCase: show the log of, kill and clean up
 * any daemon a failed test left running. */
void h_cleanup(void);

/* Milliseconds on the monotonic clock. */
int64_t h_now_ms(void);

/* Microseconds on the monotonic clock. */
int64_t h_now_us(void);

/* 1 when ipcd runs under IPCD_WRAPPER (slow): tests relax their bounds. */
int h_wrapped(void);

/* A divisor for the heavy tests' sizes, from IPCD_TEST_SCALE (>= 1). */
unsigned h_scale(void);

/* Make the private directory and the paths of d, without starting ipcd. */
void h_prepare(struct h_daemon *d);

/* Start ipcd on d's prepared socket and wait until it answers. */
void h_launch(struct h_daemon *d);

/* h_prepare() then h_launch(). */
void h_start(struct h_daemon *d);

/* Stop ipcd with sig and reap it, keeping its directory and state for
 * h_launch() again (a restart); its wait status. */
int h_kill_keep(struct h_daemon *d, int sig);

/* Close c, SIGKILL ipcd keeping its state, start it again and connect:
 * the new handle (a crash and restart). */
ipc_client *h_crash_restart(struct h_daemon *d, ipc_client *c);

/* Stop ipcd with SIGTERM; assert it exited 0, removed its socket; clean up. */
void h_stop(struct h_daemon *d);

/* Like h_stop() with another signal (SIGINT). */
void h_stop_sig(struct h_daemon *d, int sig);

/* Print ipcd's log to stderr (on failure). */
void h_dump_log(const struct h_daemon *d);

/* ipcd's resident memory in kB (VmRSS), or -1 when it means nothing:
 * under a wrapper (valgrind) or a sanitizer, whose quarantine keeps freed
 * memory on purpose. */
long h_rss_kb(pid_t pid);

/* Microseconds the threads of process pid have spent runnable but
 * waiting for a CPU so far (the kernel's run_delay, /proc/PID/task/
 * TID/schedstat; 0 where it says nothing). A test that bounds how long
 * the daemon takes to answer takes the growth of this (the daemon's and
 * its own) out of the time it measured: on a loaded machine a process can
 * wait tens of milliseconds or more for its turn, which says nothing of
 * ipcd; time a process spent running or asleep still counts. */
int64_t h_cpu_wait_us(pid_t pid);
/* h_cpu_wait_us of this process plus that of pid (none when 0). */
int64_t h_waits_us(pid_t pid);
/* Milliseconds since t0_ms less the CPU waits of this process and of pid
 * since h_waits_us(pid) was waits0_us, and less extra_us (a child's,
 * h_last_child_cpu_wait_us): the part of a wait the code under test
 * answers for, for an upper bound that load on the machine cannot break.
 * Lower bounds keep the wall clock. */
int64_t h_own_ms(int64_t t0_ms, int64_t waits0_us, pid_t pid, int64_t extra_us);

/* A connection's connect and I/O timeouts under IPCD_WRAPPER, instead of
 * the library's 5 s defaults: a daemon under valgrind on a loaded
 * machine can go that long without a turn of the CPU (first runs of a code
 * path are translated), and a test must not read that as a hung daemon. */
#define H_IO_WRAPPED_MS 60000
#define H_IO_WRAPPED_S "60"  /* the same for ipcctl --connect-timeout
				and --io-timeout */

/* ipc_connect(path, c) (its result); under IPCD_WRAPPER with
 * H_IO_WRAPPED_MS as its connect timeout and the new handle's I/O timeout.
 * For tests and their children. */
int h_ipc_connect(const char *path, ipc_client **c);

/* Connect to d (h_ipc_connect), asserting success. */
ipc_client *h_connect(const struct h_daemon *d);

/* Options for ipc_queue_open(): maxsize and flags, with mode (the default
 * mode: IPC_MODE_DEFAULT) for H_QOPTS_MODE. A compound literal, valid in
 * the enclosing block. */
#define H_QOPTS_MODE(max, fl, md) (&(struct ipc_queue_opts){ \
	.size = sizeof(struct ipc_queue_opts), .maxsize = (max), \
	.flags = (unsigned)(fl), .mode = (md) })
#define H_QOPTS(max, fl) H_QOPTS_MODE(max, fl, IPC_MODE_DEFAULT)

/* Poll ipc_stat() on `name` until its parked getters (field 'g') or putters
 * ('p') equal want; asserts it happens within a bound. */
void h_wait_parked(ipc_client *c, const char *name, char field, unsigned want);

/* Run argv (NULL-terminated; argv[0] a path) with stdin fed from in[0..inlen)
 * (in may be NULL: empty stdin), capturing stdout and stderr into out and err
 * (either may be NULL: discarded). Asserts (killing the child) when it runs
 * much longer than timeout_ms. Returns its exit status (0..255), or
 * 128 + signal number. */
int h_run(char *const argv[], const void *in, size_t inlen,
	  struct h_buf *out, struct h_buf *err, int timeout_ms);

/* Run `ipcctl -s SOCK args...` (NULL-terminated) like h_run(); under
 * IPCD_WRAPPER with --connect-timeout and --io-timeout H_IO_WRAPPED_S
 * first. */
int h_run_ipcctl(const struct h_daemon *d, const void *in, size_t inlen,
		 struct h_buf *out, struct h_buf *err, ...);

/* Release a captured buffer. */
void h_buf_free(struct h_buf *b);

/* Fork a child that runs fn(arg) and _exit()s with its result; the child
 * never returns into the test. Returns the child's pid. */
pid_t h_spawn(int (*fn)(void *), void *arg);

/* Wait for pid with a bound; its exit status, 128 + signal, or asserts. */
int h_wait_child(pid_t pid, int timeout_ms);
/* Microseconds the child h_wait_child (so h_run, h_run_ipcctl) reaped
 * last spent waiting for a CPU in its life (h_cpu_wait_us, read before
 * it was reaped). */
int64_t h_last_child_cpu_wait_us(void);

/* A binary named by an environment variable; asserts it is set. */
const char *h_bin(const char *env);

/* How h_launch_opts() starts ipcd, beyond h_launch(). */
struct h_opts {
	const char *const *args; /* more ipcd arguments (NULL-terminated) or NULL */
	const char *const *env;  /* more NAME=value for ipcd (NULL-terminated) or NULL */
	int listen_fd;           /* >= 0: passed as fd 3 the way systemd does
				    (LISTEN_FDS=1, LISTEN_PID=ipcd's pid), and
				    closed in the caller; -1: none */
	int no_wait;             /* do not wait until it answers on d->sock */
};

/* Start ipcd on d's prepared socket (-s d->sock) with o's extras and, unless
 * o->no_wait, wait until it answers. */
void h_launch_opts(struct h_daemon *d, const struct h_opts *o);

/* Stop ipcd with sig; assert it exited 0 and that its socket file is
 * still there when sock_kept (a socket it did not create), else gone;
 * clean up. */
void h_stop_opts(struct h_daemon *d, int sig, int sock_kept);

/* Wait for a daemon started with o->no_wait to exit by itself; its exit
 * status (128 + signal when killed). Its log goes to *log (NULL: dropped);
 * cleans up. */
int h_wait_exit(struct h_daemon *d, int timeout_ms, struct h_buf *log);

/* Add a test case of the one test t to s, with h_cleanup() as its unchecked
 * teardown and a time bound of secs (five times that under IPCD_WRAPPER). */
void h_add_case(Suite *s, const char *name, const TTest *t, int secs);

/* Run s, one forked process per test, with SIGPIPE ignored (a daemon that
 * closed on us must fail a write, not kill the test); calls h_init() first.
 * Returns the exit status for main(): 0 when every test passed, else 1. */
int h_run_suite(Suite *s);

/* Put the text message text on q without waiting, asserting success. */
void h_put_text(ipc_client *c, const char *q, const char *text);

/* Get one message from q (ipc_queue_get with timeout) and assert it is exactly
 * the text want. */
void h_get_expect(ipc_client *c, const char *q, const char *want, int timeout);

/* Create queue q with maxsize (default mode), asserting success. */
void h_create_queue(ipc_client *c, const char *q, long long maxsize);

/* ipc_stat() name (a queue or a pipe), asserting success. */
struct ipc_info h_stat(ipc_client *c, const char *name);

/* ipc_daemon_info(), asserting success. */
struct ipc_daemon_info h_dinfo(ipc_client *c);

/* Map a library result to a child exit status: 0..99 as is, fatal 100+. */
int h_job_status(int rc);
/* Lines in a NUL-terminated text (0 for NULL). */
unsigned h_count_lines(const char *s);
/* Fork and exec the example named by environment variable env (e.g.
 * QUEUE_DEMO_BIN) as `PROG -s SOCK --timeout MS ROLE NAME`, stdout to
 * dir/NAME-ROLE.out. */
pid_t h_spawn_demo(const struct h_daemon *d, const char *env, const char *role,
		   const char *name, int timeout_ms);

#endif
