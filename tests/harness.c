/* SPDX-License-Identifier: MIT */
/*
 * harness.c: a private ipcd per test, and child processes with bounds.
 *
 * Every daemon started here is also recorded in a table in shared memory,
 * so that when a test fails half-way (Check's fork mode _exit()s the test
 * process, skipping atexit) the runner process can still show the daemon's
 * log, kill it and remove its directory: h_cleanup() is the unchecked
 * teardown of every test case. The daemon also gets PR_SET_PDEATHSIG so it
 * does not outlive a test process killed by Check's timeout.
 */
#include <check.h>
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <sys/mman.h>
#include <sys/prctl.h>
#include <sys/stat.h>
#include <sys/wait.h>

#include "harness.h"

#define H_MAX_LIVE 8
#define H_MAX_ARGS 64

/* What h_cleanup() needs to clean up after a failed test. */
struct h_live {
	pid_t pid;
	char dir[64];
	char log[128];
};

static struct h_live h_live_local[H_MAX_LIVE];
static struct h_live *h_live = h_live_local;

/* Milliseconds on the monotonic clock. */
int64_t h_now_ms(void)
{
	return h_now_us() / 1000;
}

/* Microseconds on the monotonic clock. */
int64_t h_now_us(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000000 + ts.tv_nsec / 1000;
}

/* 1 when ipcd runs under IPCD_WRAPPER (slow): tests relax their bounds. */
int h_wrapped(void)
{
	const char *w = getenv("IPCD_WRAPPER");

	return w && *w;
}

/* A divisor for the heavy tests' sizes, from IPCD_TEST_SCALE (>= 1). */
unsigned h_scale(void)
{
	const char *s = getenv("IPCD_TEST_SCALE");
	long v;

	if (!s || !*s)
		return 1;
	v = strtol(s, NULL, 10);
	return v >= 1 ? (unsigned)v : 1;
}

/* A binary named by an environment variable; asserts it is set. */
const char *h_bin(const char *env)
{
	const char *p = getenv(env);

	ck_assert_msg(p && *p, "%s is not set (run through make check)", env);
	return p;
}

/* Copy a file's contents to stderr. */
static void h_cat(const char *path)
{
	char buf[4096];
	size_t n;
	FILE *f = fopen(path, "r");

	if (!f)
		return;
	while ((n = fread(buf, 1, sizeof(buf), f)) > 0)
		fwrite(buf, 1, n, stderr);
	fclose(f);
}

/* Print ipcd's log to stderr (on failure). */
void h_dump_log(const struct h_daemon *d)
{
	fprintf(stderr, "----- ipcd log %s -----\n", d->log);
	h_cat(d->log);
	fprintf(stderr, "----- end of ipcd log -----\n");
}

/* Remove dir and everything in it (a daemon's state directory too). */
static void h_rmdir(const char *dir)
{
	char path[512];
	struct dirent *e;
	DIR *dp = opendir(dir);

	if (dp) {
		while ((e = readdir(dp))) {
			if (!strcmp(e->d_name, ".") || !strcmp(e->d_name, ".."))
				continue;
			snprintf(path, sizeof(path), "%s/%s", dir, e->d_name);
			if (unlink(path) != 0 && errno == EISDIR)
				h_rmdir(path);
		}
		closedir(dp);
	}
	rmdir(dir);
}

/* Share the daemon table with the test processes forked later. */
void h_init(void)
{
	void *p = mmap(NULL, sizeof(h_live_local), PROT_READ | PROT_WRITE,
		       MAP_SHARED | MAP_ANONYMOUS, -1, 0);

	if (p != MAP_FAILED)
		h_live = p;
}

/* Wait up to 2 s for a process that is not our child to be gone. */
static void h_wait_gone(pid_t pid)
{
	int i;

	for (i = 0; i < 200 && kill(pid, 0) == 0; i++)
		usleep(10000);
}

/* Unchecked teardown: kill and clean up the daemons a failed test left. */
void h_cleanup(void)
{
	int i;

	for (i = 0; i < H_MAX_LIVE; i++) {
		struct h_live *l = &h_live[i];

		if (!l->pid)
			continue;
		fprintf(stderr, "----- ipcd log %s (test failed) -----\n", l->log);
		h_cat(l->log);
		fprintf(stderr, "----- end of ipcd log -----\n");
		kill(l->pid, SIGKILL);
		h_wait_gone(l->pid);
		h_rmdir(l->dir);
		l->pid = 0;
	}
}

/* Record a running daemon for h_cleanup(). */
static void h_live_add(const struct h_daemon *d)
{
	int i;

	for (i = 0; i < H_MAX_LIVE; i++) {
		if (h_live[i].pid)
			continue;
		h_live[i].pid = d->pid;
		snprintf(h_live[i].dir, sizeof(h_live[i].dir), "%s", d->dir);
		snprintf(h_live[i].log, sizeof(h_live[i].log), "%s", d->log);
		return;
	}
}

/* Forget a daemon that was stopped properly. */
static void h_live_del(pid_t pid)
{
	int i;

	for (i = 0; i < H_MAX_LIVE; i++)
		if (h_live[i].pid == pid)
			h_live[i].pid = 0;
}

/* Make the private directory and the paths of d, without starting ipcd. */
void h_prepare(struct h_daemon *d)
{
	memset(d, 0, sizeof(*d));
	snprintf(d->dir, sizeof(d->dir), "/tmp/ipcd-itest.XXXXXX");
	ck_assert_msg(mkdtemp(d->dir) != NULL, "mkdtemp: %s", strerror(errno));
	snprintf(d->sock, sizeof(d->sock), "%s/ipcd.sock", d->dir);
	snprintf(d->log, sizeof(d->log), "%s/ipcd.log", d->dir);
	snprintf(d->state, sizeof(d->state), "%s/state", d->dir);
}

/* In a freshly forked child: default signals and an empty mask, so the
 * program under test starts like from a shell. */
static void h_child_signals(void)
{
	sigset_t none;

	sigemptyset(&none);
	sigprocmask(SIG_SETMASK, &none, NULL);
	signal(SIGPIPE, SIG_DFL);
	signal(SIGALRM, SIG_DFL);
}

/* h_child_signals(), and no stray fds beyond 0-2. */
static void h_child_reset(void)
{
	h_child_signals();
	close_range(3, ~0u, 0);
}

/* Split IPCD_WRAPPER on spaces into argv, then append ipcd -s sock
 * --state-dir (private: no test daemon shares a journal). */
static void h_daemon_argv(const struct h_daemon *d, char *buf, size_t buflen,
			  char *argv[H_MAX_ARGS])
{
	const char *w = getenv("IPCD_WRAPPER");
	int n = 0;
	char *tok, *save = NULL;

	snprintf(buf, buflen, "%s", w ? w : "");
	for (tok = strtok_r(buf, " ", &save); tok && n < H_MAX_ARGS - 6;
	     tok = strtok_r(NULL, " ", &save))
		argv[n++] = tok;
	argv[n++] = (char *)h_bin("IPCD_BIN");
	argv[n++] = "-s";
	argv[n++] = (char *)d->sock;
	argv[n++] = "--state-dir";
	argv[n++] = (char *)d->state;
	argv[n] = NULL;
}

/* Fail the test when the daemon already died, showing why. */
static void h_check_alive(struct h_daemon *d)
{
	int st;

	if (waitpid(d->pid, &st, WNOHANG) != d->pid)
		return;
	h_live_del(d->pid);
	d->pid = 0;
	h_dump_log(d);
	h_rmdir(d->dir);
	ck_abort_msg("ipcd died during startup (status 0x%x)", st);
}

/* Start ipcd on d's prepared socket and wait until it answers. */
void h_launch(struct h_daemon *d)
{
	const struct h_opts none = { .listen_fd = -1 };

	h_launch_opts(d, &none);
}

/* h_prepare() then h_launch(). */
void h_start(struct h_daemon *d)
{
	h_prepare(d);
	h_launch(d);
}

/* What the child h_wait_child reaped last waited for a CPU (us). */
static int64_t h_child_wait_us;

/* Wait for pid with a bound; its exit status, 128 + signal, or asserts. */
int h_wait_child(pid_t pid, int timeout_ms)
{
	int64_t deadline = h_now_ms() + timeout_ms;
	siginfo_t si;
	int st;

	for (;;) {
		si.si_pid = 0;
		/* WNOWAIT: ended but not reaped, its schedstat is still there. */
		ck_assert_msg(waitid(P_PID, (id_t)pid, &si, WEXITED | WNOHANG | WNOWAIT) == 0,
			      "waitid %d: %s", (int)pid, strerror(errno));
		if (si.si_pid == pid)
			break;
		if (h_now_ms() > deadline) {
			kill(pid, SIGKILL);
			waitpid(pid, &st, 0);
			ck_abort_msg("child %d did not exit within %d ms",
				     (int)pid, timeout_ms);
		}
		usleep(2000);
	}
	h_child_wait_us = h_cpu_wait_us(pid);
	ck_assert_int_eq(waitpid(pid, &st, 0), pid);
	if (WIFEXITED(st))
		return WEXITSTATUS(st);
	return 128 + WTERMSIG(st);
}

/* What the child h_wait_child reaped last waited for a CPU; harness.h. */
int64_t h_last_child_cpu_wait_us(void)
{
	return h_child_wait_us;
}

/* Stop ipcd with sig; assert it exited 0, removed its socket; clean up. */
void h_stop_sig(struct h_daemon *d, int sig)
{
	int64_t deadline = h_now_ms() + 30000;
	int st = 0;
	pid_t r;

	ck_assert_int_gt(d->pid, 0);
	ck_assert_int_eq(kill(d->pid, sig), 0);
	while ((r = waitpid(d->pid, &st, WNOHANG)) == 0) {
		if (h_now_ms() > deadline) {
			kill(d->pid, SIGKILL);
			waitpid(d->pid, &st, 0);
			h_live_del(d->pid);
			h_dump_log(d);
			h_rmdir(d->dir);
			ck_abort_msg("ipcd ignored signal %d for 30 s", sig);
		}
		usleep(5000);
	}
	ck_assert_msg(r == d->pid, "waitpid ipcd: %s", strerror(errno));
	h_live_del(d->pid);
	d->pid = 0;
	if (!WIFEXITED(st) || WEXITSTATUS(st) != 0) {
		h_dump_log(d);
		h_rmdir(d->dir);
		ck_abort_msg("ipcd ended badly after signal %d: %s %d%s", sig,
			     WIFEXITED(st) ? "exit" : "signal",
			     WIFEXITED(st) ? WEXITSTATUS(st) : WTERMSIG(st),
			     WIFEXITED(st) && WEXITSTATUS(st) == 99 ?
			     " (wrapper found errors or leaks)" : "");
	}
	if (access(d->sock, F_OK) == 0) {
		h_dump_log(d);
		h_rmdir(d->dir);
		ck_abort_msg("ipcd left its socket behind");
	}
	h_rmdir(d->dir);
}

/* Stop ipcd with sig, keeping its directory. */
int h_kill_keep(struct h_daemon *d, int sig)
{
	int st = 0;

	ck_assert_int_eq(kill(d->pid, sig), 0);
	ck_assert_int_eq(waitpid(d->pid, &st, 0), d->pid);
	h_live_del(d->pid);
	d->pid = 0;
	return st;
}

/* Close c, SIGKILL ipcd and start it again; see harness.h. */
ipc_client *h_crash_restart(struct h_daemon *d, ipc_client *c)
{
	ipc_close(c);
	h_kill_keep(d, SIGKILL);
	h_launch(d);
	return h_connect(d);
}

/* Stop ipcd with SIGTERM; assert it exited 0, removed its socket; clean up. */
void h_stop(struct h_daemon *d)
{
	h_stop_sig(d, SIGTERM);
}

/* ipc_connect(), under a wrapper with H_IO_WRAPPED_MS as the connect and
 * I/O timeouts; see harness.h. */
int h_ipc_connect(const char *path, ipc_client **c)
{
	int rc;

	if (!h_wrapped())
		return ipc_connect(path, c);
	rc = ipc_connect_timeout(path, H_IO_WRAPPED_MS, c);
	if (rc == 0)
		ipc_set_io_timeout(*c, H_IO_WRAPPED_MS);
	return rc;
}

/* Connect to d, asserting success. */
ipc_client *h_connect(const struct h_daemon *d)
{
	ipc_client *c = NULL;
	int rc = h_ipc_connect(d->sock, &c);

	ck_assert_msg(rc == 0, "ipc_connect %s: %d (%s)", d->sock, rc,
		      ipc_strerror(rc));
	return c;
}

/* Poll ipc_stat() on `name` until its parked getters (field 'g') or putters
 * ('p') equal want; asserts it happens within a bound. */
void h_wait_parked(ipc_client *c, const char *name, char field, unsigned want)
{
	int64_t deadline = h_now_ms() + (h_wrapped() ? 60000 : 10000);
	struct ipc_info info;
	unsigned have;
	int rc;

	for (;;) {
		rc = ipc_stat(c, name, &info, sizeof(info));
		ck_assert_msg(rc == 0, "stat %s: %d", name, rc);
		have = field == 'g' ? info.getters : info.putters;
		if (have == want)
			return;
		ck_assert_msg(h_now_ms() < deadline,
			      "%s: %s stayed %u, want %u", name,
			      field == 'g' ? "getters" : "putters", have, want);
		usleep(2000);
	}
}

/* Append what is readable on fd to b; 1 at EOF, else 0. */
static int h_drain(int fd, struct h_buf *b)
{
	char tmp[65536];
	ssize_t n = read(fd, tmp, sizeof(tmp));

	if (n < 0 && (errno == EINTR || errno == EAGAIN))
		return 0;
	if (n <= 0)
		return 1;
	b->data = realloc(b->data, b->len + (size_t)n + 1);
	ck_assert_ptr_nonnull(b->data);
	memcpy(b->data + b->len, tmp, (size_t)n);
	b->len += (size_t)n;
	b->data[b->len] = '\0';
	return 0;
}

/* The child side of h_run(): wire up the pipes and exec. */
static void h_run_exec(char *const argv[], int pin[2], int pout[2], int perr[2])
{
	dup2(pin[0], 0);
	dup2(pout[1], 1);
	dup2(perr[1], 2);
	h_child_reset();
	execv(argv[0], argv);
	fprintf(stderr, "exec %s: %s\n", argv[0], strerror(errno));
	_exit(127);
}

/* Feed stdin, collect stdout/stderr until both close or the deadline. */
static void h_run_io(int fin, int fout, int ferr, const void *in, size_t inlen,
		     struct h_buf *out, struct h_buf *err, int64_t deadline)
{
	struct pollfd p[3];
	size_t off = 0;
	ssize_t n;

	if (inlen == 0) {
		close(fin);
		fin = -1;
	}
	while (fout >= 0 || ferr >= 0) {
		p[0] = (struct pollfd){ .fd = fin, .events = POLLOUT };
		p[1] = (struct pollfd){ .fd = fout, .events = POLLIN };
		p[2] = (struct pollfd){ .fd = ferr, .events = POLLIN };
		if (h_now_ms() > deadline || poll(p, 3, 50) < 0)
			break;
		if (fin >= 0 && (p[0].revents & (POLLOUT | POLLERR | POLLHUP))) {
			n = write(fin, (const char *)in + off, inlen - off);
			if (n > 0)
				off += (size_t)n;
			if (n < 0 || off == inlen) {
				close(fin);
				fin = -1;
			}
		}
		if (fout >= 0 && p[1].revents && h_drain(fout, out)) {
			close(fout);
			fout = -1;
		}
		if (ferr >= 0 && p[2].revents && h_drain(ferr, err)) {
			close(ferr);
			ferr = -1;
		}
	}
	if (fin >= 0)
		close(fin);
	if (fout >= 0)
		close(fout);
	if (ferr >= 0)
		close(ferr);
}

/* Run argv with stdin from in, capturing stdout/stderr; see harness.h. */
int h_run(char *const argv[], const void *in, size_t inlen,
	  struct h_buf *out, struct h_buf *err, int timeout_ms)
{
	struct h_buf dummy_out = { 0 }, dummy_err = { 0 };
	int pin[2], pout[2], perr[2];
	int64_t start = h_now_ms();
	pid_t pid;
	int rc;

	ck_assert_int_eq(pipe2(pin, O_CLOEXEC), 0);
	ck_assert_int_eq(pipe2(pout, O_CLOEXEC), 0);
	ck_assert_int_eq(pipe2(perr, O_CLOEXEC), 0);
	pid = fork();
	ck_assert_int_ge(pid, 0);
	if (pid == 0)
		h_run_exec(argv, pin, pout, perr);
	close(pin[0]);
	close(pout[1]);
	close(perr[1]);
	if (out)
		*out = (struct h_buf){ 0 };
	if (err)
		*err = (struct h_buf){ 0 };
	h_run_io(pin[1], pout[0], perr[0], in, inlen, out ? out : &dummy_out,
		 err ? err : &dummy_err, start + timeout_ms);
	h_buf_free(&dummy_out);
	h_buf_free(&dummy_err);
	rc = h_wait_child(pid, timeout_ms - (int)(h_now_ms() - start) + 1000);
	if (out && !out->data)
		out->data = calloc(1, 1);
	if (err && !err->data)
		err->data = calloc(1, 1);
	return rc;
}

/* Run `ipcctl -s SOCK args...` (NULL-terminated) like h_run(). */
int h_run_ipcctl(const struct h_daemon *d, const void *in, size_t inlen,
		 struct h_buf *out, struct h_buf *err, ...)
{
	char *argv[H_MAX_ARGS];
	va_list ap;
	int n = 0;
	char *a;

	argv[n++] = (char *)h_bin("IPCCTL_BIN");
	argv[n++] = "-s";
	argv[n++] = (char *)d->sock;
	if (h_wrapped()) {
		/* As h_ipc_connect(); a test's own later one wins. */
		argv[n++] = "--connect-timeout";
		argv[n++] = H_IO_WRAPPED_S;
		argv[n++] = "--io-timeout";
		argv[n++] = H_IO_WRAPPED_S;
	}
	va_start(ap, err);
	while ((a = va_arg(ap, char *)) && n < H_MAX_ARGS - 1)
		argv[n++] = a;
	va_end(ap);
	argv[n] = NULL;
	return h_run(argv, in, inlen, out, err, h_wrapped() ? 60000 : 15000);
}

/* Release a captured buffer. */
void h_buf_free(struct h_buf *b)
{
	free(b->data);
	b->data = NULL;
	b->len = 0;
}

/* Fork a child that runs fn(arg) and _exit()s with its result. */
pid_t h_spawn(int (*fn)(void *), void *arg)
{
	pid_t pid = fork();

	ck_assert_int_ge(pid, 0);
	if (pid == 0) {
		/* Bound a child whose parent test failed and forgot it. */
		alarm(h_wrapped() ? 600 : 120);
		_exit(fn(arg));
	}
	return pid;
}

/* The child side of h_launch_opts(): redirect to the log and exec ipcd
 * with o's arguments, environment and passed socket. */
static void h_daemon_exec_opts(const struct h_daemon *d, pid_t parent,
			       const struct h_opts *o)
{
	static char buf[4096];
	char *argv[H_MAX_ARGS], pidstr[32];
	int fd, n = 0, i;

	prctl(PR_SET_PDEATHSIG, SIGTERM);
	if (getppid() != parent)
		_exit(126);
	fd = open(d->log, O_WRONLY | O_CREAT | O_APPEND, 0600);
	if (fd < 0)
		_exit(126);
	dup2(fd, 1);
	dup2(fd, 2);
	fd = open("/dev/null", O_RDONLY);
	dup2(fd, 0);
	h_child_signals();
	if (o->listen_fd >= 0) {
		/* As systemd does: fd 3, inheritable, for this pid only. */
		if (o->listen_fd != 3 && dup2(o->listen_fd, 3) != 3)
			_exit(126);
		fcntl(3, F_SETFD, 0);
		close_range(4, ~0u, 0);
		snprintf(pidstr, sizeof(pidstr), "%ld", (long)getpid());
		setenv("LISTEN_PID", pidstr, 1);
		setenv("LISTEN_FDS", "1", 1);
	} else {
		close_range(3, ~0u, 0);
	}
	for (i = 0; o->env && o->env[i]; i++)
		putenv((char *)o->env[i]);
	h_daemon_argv(d, buf, sizeof(buf), argv);
	while (argv[n])
		n++;
	for (i = 0; o->args && o->args[i] && n < H_MAX_ARGS - 1; i++)
		argv[n++] = (char *)o->args[i];
	argv[n] = NULL;
	execvp(argv[0], argv);
	fprintf(stderr, "exec %s: %s\n", argv[0], strerror(errno));
	_exit(127);
}

/* Start ipcd with o's extras; see harness.h. */
void h_launch_opts(struct h_daemon *d, const struct h_opts *o)
{
	pid_t parent = getpid();
	int64_t deadline = h_now_ms() + (h_wrapped() ? H_IO_WRAPPED_MS : 10000);
	ipc_client *c = NULL;

	d->pid = fork();
	ck_assert_msg(d->pid >= 0, "fork: %s", strerror(errno));
	if (d->pid == 0)
		h_daemon_exec_opts(d, parent, o);
	/* Only ipcd holds the passed socket now: if it dies, connecting
	 * fails instead of waiting in the backlog for ever. */
	if (o->listen_fd >= 0)
		close(o->listen_fd);
	h_live_add(d);
	if (o->no_wait)
		return;
	while (ipc_connect(d->sock, &c) != 0) {
		h_check_alive(d);
		if (h_now_ms() > deadline) {
			h_dump_log(d);
			ck_abort_msg("ipcd not ready on %s in time", d->sock);
		}
		usleep(10000);
	}
	ipc_close(c);
}

/* Wait for pid (ipcd) to exit within timeout_ms; its raw wait status. */
static int h_reap(struct h_daemon *d, int timeout_ms)
{
	int64_t deadline = h_now_ms() + timeout_ms;
	int st = 0;
	pid_t r;

	while ((r = waitpid(d->pid, &st, WNOHANG)) == 0) {
		if (h_now_ms() > deadline) {
			kill(d->pid, SIGKILL);
			waitpid(d->pid, &st, 0);
			h_live_del(d->pid);
			d->pid = 0;
			h_dump_log(d);
			h_rmdir(d->dir);
			ck_abort_msg("ipcd did not exit within %d ms", timeout_ms);
		}
		usleep(5000);
	}
	ck_assert_msg(r == d->pid, "waitpid ipcd: %s", strerror(errno));
	h_live_del(d->pid);
	d->pid = 0;
	return st;
}

/* Stop ipcd with sig and check its socket; see harness.h. */
void h_stop_opts(struct h_daemon *d, int sig, int sock_kept)
{
	int st;

	ck_assert_int_gt(d->pid, 0);
	ck_assert_int_eq(kill(d->pid, sig), 0);
	/* Under valgrind the exit runs the leak check: a minute without
	 * the CPU on a loaded machine is not a hang. */
	st = h_reap(d, h_wrapped() ? 2 * H_IO_WRAPPED_MS : 30000);
	if (!WIFEXITED(st) || WEXITSTATUS(st) != 0) {
		h_dump_log(d);
		h_rmdir(d->dir);
		ck_abort_msg("ipcd ended badly after signal %d: status 0x%x", sig, st);
	}
	if ((access(d->sock, F_OK) == 0) != !!sock_kept) {
		h_dump_log(d);
		h_rmdir(d->dir);
		ck_abort_msg(sock_kept ? "ipcd removed a socket it did not create" :
			     "ipcd left its socket behind");
	}
	h_rmdir(d->dir);
}

/* Wait for ipcd to exit by itself; see harness.h. */
int h_wait_exit(struct h_daemon *d, int timeout_ms, struct h_buf *log)
{
	int st = h_reap(d, timeout_ms);
	char *argv[] = { "/bin/cat", d->log, NULL };

	if (log)
		h_run(argv, NULL, 0, log, NULL, 10000);
	h_rmdir(d->dir);
	if (WIFEXITED(st))
		return WEXITSTATUS(st);
	return 128 + WTERMSIG(st);
}

/* Add a test case of one test with a time bound scaled for the wrapper. */
void h_add_case(Suite *s, const char *name, const TTest *t, int secs)
{
	TCase *tc = tcase_create(name);

	tcase_set_timeout(tc, h_wrapped() ? secs * 5 : secs);
	tcase_add_unchecked_fixture(tc, NULL, h_cleanup);
	tcase_add_test(tc, t);
	suite_add_tcase(s, tc);
}

/* Run the suite, one forked process per test; main()'s exit status. */
int h_run_suite(Suite *s)
{
	SRunner *sr;
	int failed;

	h_init();
	sr = srunner_create(s);
	/* A daemon that closed on us must fail a write, not kill the test. */
	signal(SIGPIPE, SIG_IGN);
	srunner_run_all(sr, CK_NORMAL);
	failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed ? 1 : 0;
}

/* Put a text message, asserting success. */
void h_put_text(ipc_client *c, const char *q, const char *text)
{
	int rc = ipc_queue_put(c, q, text, strlen(text), 0);

	ck_assert_msg(rc == 0, "put %s: %d (%s)", q, rc, ipc_last_error(c));
}

/* Get one message and assert it is exactly the text want. */
void h_get_expect(ipc_client *c, const char *q, const char *want, int timeout)
{
	void *data = NULL;
	size_t len = 0;
	int rc = ipc_queue_get(c, q, &data, &len, timeout);

	ck_assert_msg(rc == 0, "get %s: %d (%s)", q, rc, ipc_last_error(c));
	ck_assert_uint_eq(len, strlen(want));
	ck_assert_msg(memcmp(data, want, len) == 0, "got '%.*s', want '%s'",
		      (int)len, (char *)data, want);
	ipc_free(data);
}

/* Create queue q with maxsize, asserting success. */
void h_create_queue(ipc_client *c, const char *q, long long maxsize)
{
	int rc = ipc_queue_open(c, q, H_QOPTS(maxsize, IPC_QUEUE_CREATE), NULL);

	ck_assert_msg(rc == 0, "create %s: %d (%s)", q, rc, ipc_last_error(c));
}

/* stat name, asserting success. */
struct ipc_info h_stat(ipc_client *c, const char *name)
{
	struct ipc_info info;
	int rc = ipc_stat(c, name, &info, sizeof(info));

	ck_assert_msg(rc == 0, "stat %s: %d", name, rc);
	return info;
}

/* ipc_daemon_info(), asserting success. */
struct ipc_daemon_info h_dinfo(ipc_client *c)
{
	struct ipc_daemon_info in;
	int rc = ipc_daemon_info(c, &in, sizeof(in));

	ck_assert_msg(rc == 0, "daemon info: %d", rc);
	return in;
}

/* Map a library result to a child exit status: 0..99 as is, fatal 100+. */
int h_job_status(int rc)
{
	return rc >= 0 ? rc : 100 - rc;
}

/* Lines in a NUL-terminated text (0 for NULL). */
unsigned h_count_lines(const char *s)
{
	unsigned n = 0;

	for (; s && *s; s++)
		n += *s == '\n';
	return n;
}

/* Run the example named by env as PROG -s SOCK ROLE NAME, stdout to a file. */
pid_t h_spawn_demo(const struct h_daemon *d, const char *env, const char *role,
		   const char *name, int timeout_ms)
{
	const char *bin = h_bin(env);
	const char *base = strrchr(bin, '/');
	char path[256], tmo[16];
	pid_t pid;
	int fd;

	snprintf(path, sizeof(path), "%s/%s-%s.out", d->dir, name, role);
	pid = fork();
	ck_assert_int_ge(pid, 0);
	if (pid)
		return pid;
	fd = open(path, O_WRONLY | O_CREAT | O_TRUNC, 0600);
	if (fd < 0)
		_exit(126);
	dup2(fd, 1);
	close(fd);
	signal(SIGPIPE, SIG_DFL);
	snprintf(tmo, sizeof(tmo), "%d", timeout_ms);
	execl(bin, base ? base + 1 : bin, "-s", d->sock, "--timeout", tmo, role,
	      name, (char *)NULL);
	_exit(127);
}

/* ipcd's resident memory from /proc/PID/status "VmRSS: N kB": N, or -1
 * when it means nothing: under a wrapper (valgrind) or a sanitizer, whose
 * quarantine keeps freed memory on purpose. */
long h_rss_kb(pid_t pid)
{
	const char *san = getenv("IPCD_SANITIZED");
	char path[64], line[256];
	long kb = -1;
	FILE *f;

	if (h_wrapped() || (san && strcmp(san, "yes") == 0))
		return -1;

	snprintf(path, sizeof(path), "/proc/%d/status", (int)pid);
	f = fopen(path, "r");
	if (!f)
		return -1;
	while (fgets(line, sizeof(line), f))
		if (sscanf(line, "VmRSS: %ld kB", &kb) == 1)
			break;
	fclose(f);
	return kb;
}

/* Nanoseconds the thread in /proc/PID/task/TID/schedstat at path waited
 * runnable for a CPU (its second field), or 0. */
static int64_t h_run_delay_ns(const char *path)
{
	long long run = 0, wait = 0;
	FILE *f = fopen(path, "r");

	if (!f)
		return 0;  /* the thread ended meanwhile */
	if (fscanf(f, "%lld %lld", &run, &wait) != 2)
		wait = 0;
	fclose(f);
	return wait;
}

/* Microseconds the threads of pid have waited for a CPU so far; see
 * harness.h. */
int64_t h_cpu_wait_us(pid_t pid)
{
	char path[96];
	struct dirent *e;
	int64_t ns = 0;
	DIR *dir;

	snprintf(path, sizeof(path), "/proc/%d/task", (int)pid);
	if (!(dir = opendir(path)))
		return 0;
	while ((e = readdir(dir)) != NULL) {
		if (e->d_name[0] == '.')
			continue;
		snprintf(path, sizeof(path), "/proc/%d/task/%.20s/schedstat",
			 (int)pid, e->d_name);
		ns += h_run_delay_ns(path);
	}
	closedir(dir);
	return ns / 1000;
}

/* This process's CPU wait plus pid's; see harness.h. */
int64_t h_waits_us(pid_t pid)
{
	return h_cpu_wait_us(getpid()) + (pid > 0 ? h_cpu_wait_us(pid) : 0);
}

/* A wait's own milliseconds; see harness.h. */
int64_t h_own_ms(int64_t t0_ms, int64_t waits0_us, pid_t pid, int64_t extra_us)
{
	int64_t waited = h_waits_us(pid) - waits0_us + extra_us;

	return h_now_ms() - t0_ms - waited / 1000;
}
