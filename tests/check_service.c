/* SPDX-License-Identifier: MIT */
/*
 * check_service.c: ipcd as a system service, end to end: socket activation,
 * readiness notification, the socket's mode and group, per-queue
 * permissions with other uids, every limit, graceful shutdown with parked
 * clients, SIGHUP reload, config errors, ipcctl --json and top, and --help
 * against the man pages. Each test starts its own daemon (tests/harness.c).
 *
 * The tests that switch uid need root; as another user they are left out
 * (and said so) and the rest runs.
 */
#include <check.h>
#include <errno.h>
#include <fcntl.h>
#include <grp.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <sys/wait.h>

#include "harness.h"
#include "hraw.h"
#include <ipcclient/ipcclient.h>
#include "proto.h"

/* How long a child may take (ms). */
#define T_CHILD_MS (h_wrapped() ? 120000 : 20000)
/* How long to wait for a log line or a datagram (ms). */
#define T_WAIT_MS (h_wrapped() ? 60000 : 10000)

/* ---- small helpers ------------------------------------------------------ */

/* Read a whole file into a malloc'd NUL-terminated string ("" if absent). */
static char *slurp(const char *path)
{
	FILE *f = fopen(path, "r");
	char *buf = calloc(1, 1);
	size_t len = 0, n;
	char tmp[4096];

	ck_assert_ptr_nonnull(buf);
	if (!f)
		return buf;
	while ((n = fread(tmp, 1, sizeof(tmp), f)) > 0) {
		buf = realloc(buf, len + n + 1);
		ck_assert_ptr_nonnull(buf);
		memcpy(buf + len, tmp, n);
		len += n;
		buf[len] = '\0';
	}
	fclose(f);
	return buf;
}

/* 1 when ipcd's log has needle. */
static int log_has(const struct h_daemon *d, const char *needle)
{
	char *log = slurp(d->log);
	int found = strstr(log, needle) != NULL;

	free(log);
	return found;
}

/* Wait until ipcd's log has needle; asserts within a bound. */
static void log_wait(const struct h_daemon *d, const char *needle)
{
	int64_t deadline = h_now_ms() + T_WAIT_MS;

	while (!log_has(d, needle)) {
		if (h_now_ms() > deadline) {
			h_dump_log(d);
			ck_abort_msg("ipcd never logged '%s'", needle);
		}
		usleep(5000);
	}
}

/* Write text to path. */
static void write_file(const char *path, const char *text)
{
	FILE *f = fopen(path, "w");

	ck_assert_msg(f != NULL, "%s: %s", path, strerror(errno));
	fputs(text, f);
	ck_assert_int_eq(fclose(f), 0);
}

/* Start ipcd on a prepared d with extra arguments (NULL-terminated). */
static void launch_args(struct h_daemon *d, const char *const *args)
{
	struct h_opts o = { .args = args, .listen_fd = -1 };

	h_launch_opts(d, &o);
}

/* Put len bytes of byte b on q without waiting; the result. */
static int put_bytes(ipc_client *c, const char *q, size_t len, int b)
{
	char *p = malloc(len ? len : 1);
	int rc;

	ck_assert_ptr_nonnull(p);
	memset(p, b, len);
	rc = ipc_queue_put(c, q, p, len, 0);
	free(p);
	return rc;
}

/* Get one message from q without waiting; asserts it is len bytes. */
static void get_len(ipc_client *c, const char *q, size_t want)
{
	void *data = NULL;
	size_t len = 0;
	int rc = ipc_queue_get(c, q, &data, &len, 0);

	ck_assert_msg(rc == 0, "get %s: %d", q, rc);
	ck_assert_uint_eq(len, want);
	ipc_free(data);
}

/* ---- children that act as another user ------------------------------------ */

/* A uid with its primary gid and supplementary groups. */
struct user {
	uid_t uid;
	gid_t gid;
	gid_t groups[4];
	int ngroups;
};

static const struct user user_a = { 4201, 4300, { 0 }, 0 };
static const struct user user_b = { 4202, 4202, { 4300 }, 1 };  /* in A's group */
static const struct user user_c = { 4203, 4203, { 0 }, 0 };     /* a stranger */

/* In a child: become u for good, or _exit(125). */
static void become(const struct user *u)
{
	if (setgroups((size_t)u->ngroups, u->groups) != 0 || setgid(u->gid) != 0 ||
	    setuid(u->uid) != 0 || getuid() != u->uid)
		_exit(125);
}

/* One step of a permission script. */
struct step {
	char op;            /* c create+mode, C create (default mode), o open,
			       p put, g get, G get waiting, d delete, s stat;
			       pipes: a attach end `mode` (one-way, create),
			       S send from end 1, R receive at end 0 */
	const char *q;
	int want;           /* the expected result */
	const char *data;   /* put: payload; get: expected payload (or NULL) */
	unsigned mode;      /* c: mode; s: expected mode */
	unsigned uid;       /* s: expected owner */
};

/* A script run by a child as one user. */
struct script {
	const char *sock;
	const struct user *user;
	const struct step *steps;
};

/* Run one step on c; its result, or 200 when a stat/get returned other data. */
static int step_run(ipc_client *c, const struct step *s)
{
	struct ipc_info in;
	void *data = NULL;
	size_t len = 0;
	int rc;

	switch (s->op) {
	case 'c':
		return ipc_queue_open(c, s->q, H_QOPTS_MODE(0, IPC_QUEUE_CREATE |
							     IPC_QUEUE_EXCL, (int)s->mode),
				      NULL);
	case 'C':
		return ipc_queue_open(c, s->q, H_QOPTS(0, IPC_QUEUE_CREATE | IPC_QUEUE_EXCL), NULL);
	case 'o':
		return ipc_queue_open(c, s->q, H_QOPTS(IPC_MAXSIZE_ANY, 0), NULL);
	case 'p':
		return ipc_queue_put(c, s->q, s->data, strlen(s->data), 0);
	case 'g':
	case 'G':
		rc = ipc_queue_get(c, s->q, &data, &len, s->op == 'g' ? 0 : 5000);
		if (rc == 0 && s->data && (len != strlen(s->data) ||
					   memcmp(data, s->data, len) != 0))
			rc = 200;
		ipc_free(data);
		return rc;
	case 'd':
		return ipc_delete(c, s->q);
	case 'a':
		return ipc_pipe_attach(c, s->q, (int)s->mode,
				       IPC_PIPE_CREATE | IPC_PIPE_ONEWAY, NULL);
	case 'S':
		return ipc_pipe_send(c, s->q, 1, s->data, strlen(s->data), 0);
	case 'R':
		rc = ipc_pipe_recv(c, s->q, 0, &data, &len, 2000);
		if (rc == 0 && s->data && (len != strlen(s->data) ||
					   memcmp(data, s->data, len) != 0))
			rc = 200;
		ipc_free(data);
		return rc;
	default:
		rc = ipc_stat(c, s->q, &in, sizeof(in));
		if (rc == 0 && (in.mode != s->mode || in.uid != s->uid))
			rc = 200;
		return rc;
	}
}

/* Child: become the script's user and run its steps; 0, or 100 + the index
 * of the first step that did not give the expected result. */
static int script_run(void *arg)
{
	const struct script *sc = arg;
	ipc_client *c;
	int i, rc;

	become(sc->user);
	if (h_ipc_connect(sc->sock, &c) != 0)
		return 99;
	for (i = 0; sc->steps[i].op; i++) {
		rc = step_run(c, &sc->steps[i]);
		if (rc != sc->steps[i].want) {
			fprintf(stderr, "uid %u step %d (%c %s): got %d, want %d\n",
				(unsigned)sc->user->uid, i, sc->steps[i].op,
				sc->steps[i].q, rc, sc->steps[i].want);
			ipc_close(c);
			return 100 + i;
		}
	}
	ipc_close(c);
	return 0;
}

/* Run a script as its user and assert every step went as expected. */
static void script_check(const struct h_daemon *d, const struct user *u,
			 const struct step *steps)
{
	struct script sc = { d->sock, u, steps };
	int st = h_wait_child(h_spawn(script_run, &sc), T_CHILD_MS);

	ck_assert_msg(st == 0, "script as uid %u: status %d (step %d)",
		      (unsigned)u->uid, st, st >= 100 ? st - 100 : -1);
}

/* Run argv as user u, capturing stdout and stderr; its exit status. */
static int run_as(const struct user *u, char *const argv[], struct h_buf *out,
		  struct h_buf *err)
{
	int po[2], pe[2], st;
	pid_t pid;

	ck_assert_int_eq(pipe(po), 0);
	ck_assert_int_eq(pipe(pe), 0);
	pid = fork();
	ck_assert_int_ge(pid, 0);
	if (pid == 0) {
		dup2(po[1], 1);
		dup2(pe[1], 2);
		close_range(3, ~0u, 0);
		become(u);
		execv(argv[0], argv);
		_exit(127);
	}
	close(po[1]);
	close(pe[1]);
	*out = (struct h_buf){ 0 };
	*err = (struct h_buf){ 0 };
	for (int i = 0; i < 2; i++) {
		struct h_buf *b = i ? err : out;
		int fd = i ? pe[0] : po[0];
		char tmp[4096];
		ssize_t n;

		while ((n = read(fd, tmp, sizeof(tmp))) > 0) {
			b->data = realloc(b->data, b->len + (size_t)n + 1);
			memcpy(b->data + b->len, tmp, (size_t)n);
			b->len += (size_t)n;
			b->data[b->len] = '\0';
		}
		close(fd);
		if (!b->data)
			b->data = calloc(1, 1);
	}
	st = h_wait_child(pid, T_CHILD_MS);
	return st;
}

/* ---- socket activation ------------------------------------------------------ */

/* A listening Unix socket at path, as systemd would make it. */
static int listen_at(const char *path)
{
	struct sockaddr_un sa = { .sun_family = AF_UNIX };
	int fd = socket(AF_UNIX, SOCK_STREAM, 0);

	ck_assert_int_ge(fd, 0);
	snprintf(sa.sun_path, sizeof(sa.sun_path), "%s", path);
	ck_assert_int_eq(bind(fd, (struct sockaddr *)&sa, sizeof(sa)), 0);
	ck_assert_int_eq(listen(fd, 16), 0);
	return fd;
}

/* ipcd adopts the socket passed as fd 3 (LISTEN_FDS=1, LISTEN_PID=its pid),
 * serves it, creates no socket of its own, and leaves it in place on exit. */
START_TEST(test_activation)
{
	struct h_daemon d;
	char other[128];
	const char *args[] = { "-s", other, NULL };
	struct h_opts o = { .args = args, .listen_fd = -1 };
	ipc_client *c;

	h_prepare(&d);
	/* -s names another path: it must stay unused. The harness passes
	 * -s d.sock first; the later -s wins, like any repeated flag. */
	snprintf(other, sizeof(other), "%s/unused.sock", d.dir);
	o.listen_fd = listen_at(d.sock);
	h_launch_opts(&d, &o);
	c = h_connect(&d);
	h_create_queue(c, "act", 0);
	ck_assert_int_eq(put_bytes(c, "act", 3, 'x'), 0);
	get_len(c, "act", 3);
	ipc_close(c);
	ck_assert_int_eq(access(other, F_OK), -1);
	ck_assert(log_has(&d, "passed by the service manager"));
	h_stop_opts(&d, SIGTERM, 1);
}
END_TEST

/* Activation variables meant for another process are ignored; a passed
 * fd that is not a listening socket is refused with a clear error. */
START_TEST(test_activation_foreign)
{
	static const char *env_other[] = { "LISTEN_PID=1", "LISTEN_FDS=1", NULL };
	struct h_opts o = { .env = env_other, .listen_fd = -1 };
	struct h_daemon d;
	struct h_buf log;
	char path[128];
	int fd;

	h_prepare(&d);
	h_launch_opts(&d, &o);      /* LISTEN_PID is not ipcd: it makes its own */
	ck_assert(!log_has(&d, "passed by the service manager"));
	h_stop_opts(&d, SIGTERM, 0);

	h_prepare(&d);
	snprintf(path, sizeof(path), "%s/not-a-socket", d.dir);
	fd = open(path, O_RDWR | O_CREAT, 0600);
	ck_assert_int_ge(fd, 0);
	o = (struct h_opts){ .listen_fd = fd, .no_wait = 1 };
	h_launch_opts(&d, &o);
	ck_assert_int_eq(h_wait_exit(&d, T_WAIT_MS, &log), 1);
	ck_assert_msg(strstr(log.data, "not a listening Unix stream socket"),
		      "log: %s", log.data);
	h_buf_free(&log);
}
END_TEST

/* ---- readiness ---------------------------------------------------------------- */

/* A datagram socket bound at path (a leading '@': abstract). */
static int notify_bind(const char *path)
{
	struct sockaddr_un sa = { .sun_family = AF_UNIX };
	socklen_t len = (socklen_t)(offsetof(struct sockaddr_un, sun_path) + strlen(path));
	int fd = socket(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC, 0);

	ck_assert_int_ge(fd, 0);
	memcpy(sa.sun_path, path, strlen(path));
	if (path[0] == '@')
		sa.sun_path[0] = '\0';
	ck_assert_int_eq(bind(fd, (struct sockaddr *)&sa, len), 0);
	return fd;
}

/* Wait for a datagram containing want; asserts within the bound. */
static void notify_expect(int fd, const char *want)
{
	int64_t deadline = h_now_ms() + T_WAIT_MS;
	struct pollfd p = { .fd = fd, .events = POLLIN };
	char buf[512];
	ssize_t n;

	for (;;) {
		ck_assert_msg(h_now_ms() < deadline, "no '%s' notification", want);
		if (poll(&p, 1, 100) <= 0)
			continue;
		n = recv(fd, buf, sizeof(buf) - 1, 0);
		ck_assert_int_gt(n, 0);
		buf[n] = '\0';
		if (strstr(buf, want))
			return;
	}
}

/* Start ipcd with NOTIFY_SOCKET=name and check the whole notify cycle. */
static void notify_cycle(const char *name, const char *bind_path)
{
	char env[160];
	const char *envv[] = { env, NULL };
	struct h_opts o = { .env = envv, .listen_fd = -1, .no_wait = 1 };
	struct h_daemon d;
	ipc_client *c;
	int fd;

	h_prepare(&d);
	snprintf(env, sizeof(env), "NOTIFY_SOCKET=%s", name);
	fd = notify_bind(bind_path);
	h_launch_opts(&d, &o);
	notify_expect(fd, "READY=1");
	/* READY means accepting: the first connect works. */
	c = h_connect(&d);
	ipc_close(c);
	kill(d.pid, SIGHUP);
	notify_expect(fd, "RELOADING=1");
	notify_expect(fd, "READY=1");
	kill(d.pid, SIGTERM);
	notify_expect(fd, "STOPPING=1");
	ck_assert_int_eq(h_wait_exit(&d, T_WAIT_MS, NULL), 0);
	close(fd);
}

/* READY=1 once it accepts, RELOADING=1 + READY=1 on SIGHUP, STOPPING=1 on
 * SIGTERM, to a path and to an abstract NOTIFY_SOCKET. */
START_TEST(test_notify)
{
	char path[128], abs_name[64];

	snprintf(path, sizeof(path), "/tmp/ipcd-notify.%ld", (long)getpid());
	unlink(path);
	notify_cycle(path, path);
	unlink(path);
	snprintf(abs_name, sizeof(abs_name), "@ipcd-notify-test.%ld", (long)getpid());
	notify_cycle(abs_name, abs_name);
}
END_TEST

/* ---- socket mode and group ---------------------------------------------------- */

/* The socket file is 0600 by default, --socket-mode and --socket-group
 * set it; an unknown group is a clear startup error. */
START_TEST(test_socket_mode)
{
	static const char *args[] = { "--socket-mode", "0660",
				      "--socket-group", "nogroup", NULL };
	static const char *bad[] = { "--socket-group", "no-such-group-xyz", NULL };
	struct h_opts o = { .args = bad, .listen_fd = -1, .no_wait = 1 };
	struct group *gr = getgrnam("nogroup");
	struct h_daemon d;
	struct h_buf log;
	struct stat st;

	h_start(&d);
	ck_assert_int_eq(stat(d.sock, &st), 0);
	ck_assert(S_ISSOCK(st.st_mode));
	ck_assert_uint_eq(st.st_mode & 07777, 0600);
	h_stop(&d);

	if (gr != NULL) {
		h_prepare(&d);
		launch_args(&d, args);
		ck_assert_int_eq(stat(d.sock, &st), 0);
		ck_assert_uint_eq(st.st_mode & 07777, 0660);
		ck_assert_uint_eq(st.st_gid, gr->gr_gid);
		h_stop(&d);
	}

	h_prepare(&d);
	h_launch_opts(&d, &o);
	ck_assert_int_eq(h_wait_exit(&d, T_WAIT_MS, &log), 1);
	ck_assert_msg(strstr(log.data, "no group 'no-such-group-xyz'"), "log: %s",
		      log.data);
	h_buf_free(&log);
}
END_TEST

/* As another uid: the default 0600 socket refuses the connection, 0666
 * admits it. */
START_TEST(test_socket_mode_uid)
{
	static const char *open_args[] = { "--socket-mode", "0666", NULL };
	static const struct step nothing[] = { { 0 } };
	struct script sc;
	struct h_daemon d;
	int st;

	h_prepare(&d);
	ck_assert_int_eq(chmod(d.dir, 0755), 0);
	h_launch(&d);
	sc = (struct script){ d.sock, &user_c, nothing };
	st = h_wait_child(h_spawn(script_run, &sc), T_CHILD_MS);
	ck_assert_int_eq(st, 99);           /* could not connect */
	h_stop(&d);

	h_prepare(&d);
	ck_assert_int_eq(chmod(d.dir, 0755), 0);
	launch_args(&d, open_args);
	script_check(&d, &user_c, nothing);
	h_stop(&d);
}
END_TEST

/* ---- permissions ------------------------------------------------------------- */

/* Start a daemon every uid can reach. */
static void start_open(struct h_daemon *d)
{
	static const char *args[] = { "--socket-mode", "0666", NULL };

	h_prepare(d);
	ck_assert_int_eq(chmod(d->dir, 0755), 0);
	launch_args(d, args);
}

/* The steps of test_permissions: what user a, b and c try, in turn, and
 * what a does at the end. */
static const struct step perm_a_steps[] = {
	{ 'c', "priv", 0, NULL, 0600, 0 },
	{ 'p', "priv", 0, "secret", 0, 0 },
	{ 'c', "shared", 0, NULL, 0640, 0 },
	{ 'p', "shared", 0, "s1", 0, 0 },
	{ 'p', "shared", 0, "s2", 0, 0 },
	{ 'c', "drop", 0, NULL, 0622, 0 },
	{ 'C', "dflt", 0, NULL, 0, 0 },
	{ 's', "dflt", 0, NULL, 0660, 4201 },
	{ 'c', "nobody", 0, NULL, 0, 0 },
	{ 'p', "nobody", IPC_EPERM, "x", 0, 0 },   /* the owner too */
	{ 0 },
};
static const struct step perm_b_steps[] = {
	{ 'p', "priv", IPC_EPERM, "intrusion", 0, 0 },
	{ 'g', "priv", IPC_EPERM, NULL, 0, 0 },
	{ 'G', "priv", IPC_EPERM, NULL, 0, 0 },    /* denied, not parked */
	{ 'o', "priv", IPC_EPERM, NULL, 0, 0 },
	{ 'd', "priv", IPC_EPERM, NULL, 0, 0 },
	{ 's', "priv", 0, NULL, 0600, 4201 },      /* stat is for all */
	{ 'g', "shared", 0, "s1", 0, 0 },          /* group may read */
	{ 'p', "shared", IPC_EPERM, "no", 0, 0 },  /* ... not write */
	{ 'o', "shared", 0, NULL, 0, 0 },
	{ 'p', "drop", 0, "dropped", 0, 0 },       /* others: write only */
	{ 'g', "drop", IPC_EPERM, NULL, 0, 0 },
	{ 'p', "dflt", 0, "d1", 0, 0 },            /* default 0660, group rw */
	{ 'g', "dflt", 0, "d1", 0, 0 },
	{ 'd', "dflt", IPC_EPERM, NULL, 0, 0 },    /* only the owner deletes */
	{ 'c', "bobs", 0, NULL, 0600, 0 },
	{ 0 },
};
static const struct step perm_c_steps[] = {
	{ 'g', "shared", IPC_EPERM, NULL, 0, 0 },
	{ 'p', "dflt", IPC_EPERM, "x", 0, 0 },
	{ 'g', "drop", IPC_EPERM, NULL, 0, 0 },
	{ 'p', "drop", 0, "c-was-here", 0, 0 },
	{ 'p', "bobs", IPC_EPERM, "x", 0, 0 },
	{ 0 },
};
static const struct step perm_a_end[] = {
	{ 'g', "bobs", IPC_EPERM, NULL, 0, 0 },    /* bob's own queue */
	{ 'd', "priv", 0, NULL, 0, 0 },            /* the owner deletes */
	{ 'd', "dflt", 0, NULL, 0, 0 },
	{ 0 },
};

/* Queues carry owner and mode like files: read permits get, write permits
 * put; owner bits, then group bits (supplementary groups too), then
 * others; the owner deletes; root passes; a denial changes nothing. */
START_TEST(test_permissions)
{
	struct h_daemon d;
	struct ipc_info in;
	ipc_client *c;
	void *data;
	size_t len;

	start_open(&d);
	script_check(&d, &user_a, perm_a_steps);
	script_check(&d, &user_b, perm_b_steps);
	script_check(&d, &user_c, perm_c_steps);

	/* Nothing changed by the denials; root reads everything. */
	c = h_connect(&d);
	in = h_stat(c, "priv");
	ck_assert_uint_eq(in.size, 1);
	ck_assert_uint_eq(in.puts, 1);
	ck_assert_uint_eq(in.gets, 0);
	ck_assert_uint_eq(in.getters, 0);
	ck_assert_uint_eq(in.uid, 4201);
	ck_assert_uint_eq(in.gid, 4300);
	ck_assert_uint_eq(in.mode, 0600);
	in = h_stat(c, "shared");
	ck_assert_uint_eq(in.size, 1);
	in = h_stat(c, "drop");
	ck_assert_uint_eq(in.size, 2);
	in = h_stat(c, "bobs");
	ck_assert_uint_eq(in.uid, 4202);
	ck_assert_uint_eq(in.gid, 4202);
	ck_assert_int_eq(ipc_queue_get(c, "priv", &data, &len, 0), 0);
	ck_assert_uint_eq(len, 6);
	ck_assert_mem_eq(data, "secret", 6);
	ipc_free(data);
	ck_assert_int_eq(ipc_queue_put(c, "nobody", "r", 1, 0), 0);
	get_len(c, "nobody", 1);

	script_check(&d, &user_a, perm_a_end);
	ck_assert_int_eq(ipc_stat(c, "priv", &in, sizeof(in)), IPC_ENOENT);
	ck_assert_int_eq(ipc_delete(c, "bobs"), 0);   /* root deletes */
	ipc_close(c);
	log_wait(&d, "permission denied");
	h_stop(&d);
}
END_TEST

/* Pipes carry owner and mode too: attaching an end needs read to receive
 * and write to send; a denied attach changes nothing. */
START_TEST(test_permissions_pipe)
{
	static const struct step a_steps[] = {
		{ 'a', "pp", 0, NULL, 1, 0 },              /* creates it, 0660 */
		{ 'S', "pp", 0, "m1", 0, 0 },
		{ 's', "pp", 0, NULL, 0660, 4201 },
		{ 0 },                                     /* exit: end 1 closes */
	};
	static const struct step c_steps[] = {
		{ 'a', "pp", IPC_EPERM, NULL, 0, 0 },      /* a stranger */
		{ 0 },
	};
	static const struct step b_steps[] = {
		{ 'a', "pp", 0, NULL, 0, 0 },              /* in the group */
		{ 'R', "pp", 0, "m1", 0, 0 },
		{ 'R', "pp", IPC_EEOF, NULL, 0, 0 },
		{ 0 },
	};
	struct h_daemon d;
	ipc_client *c;

	start_open(&d);
	script_check(&d, &user_a, a_steps);
	script_check(&d, &user_c, c_steps);
	c = h_connect(&d);
	ck_assert_uint_eq(h_stat(c, "pp").kind, IPC_KIND_PIPE);
	script_check(&d, &user_b, b_steps);
	ipc_close(c);
	h_stop(&d);
}
END_TEST

/* Can user u execute path (every directory above it traversable)? A
 * clone in a 0700 directory (mktemp -d) keeps other uids out. */
static int user_can_exec(const struct user *u, const char *path)
{
	pid_t pid = fork();

	ck_assert_int_ge(pid, 0);
	if (pid == 0) {
		become(u);
		_exit(access(path, X_OK) == 0 ? 0 : 1);
	}
	return h_wait_child(pid, T_CHILD_MS) == 0;
}

/* 1 when user_a can run ipcctl (else the test is skipped, saying so). */
static int perm_ctl_usable(const char *ctl)
{
	if (user_can_exec(&user_a, ctl))
		return 1;
	fprintf(stderr, "SKIP permissions_ipcctl: uid %ld cannot execute %s "
		"(a directory above it is closed to other users)\n",
		(long)user_a.uid, ctl);
	return 0;
}

/* Run argv (its [2] set to d's socket) as user u, expecting exit status
 * rc; out and err are left for the caller to check and free. */
static void perm_ctl(const struct h_daemon *d, const struct user *u, char **argv,
		     int rc, struct h_buf *out, struct h_buf *err)
{
	argv[2] = (char *)d->sock;
	ck_assert_int_eq(run_as(u, argv, out, err), rc);
}

/* Start a daemon where user_a made queue "jobs" (mode 0640) with
 * ipcctl and put one message in it. */
static void perm_ctl_start(struct h_daemon *d, char *ctl)
{
	char *create[] = { ctl, "-s", NULL, "create", "jobs", "--mode", "0640", NULL };
	char *put[] = { ctl, "-s", NULL, "put", "jobs", "payload", NULL };
	struct h_buf out, err;

	start_open(d);
	perm_ctl(d, &user_a, create, 0, &out, &err);
	h_buf_free(&out);
	h_buf_free(&err);
	perm_ctl(d, &user_a, put, 0, &out, &err);
	h_buf_free(&out);
	h_buf_free(&err);
}

/* ipcctl as another user: a denied put, get or rm exits 1 saying
 * "permission denied". */
START_TEST(test_permissions_ipcctl_denied)
{
	struct h_daemon d;
	struct h_buf out, err;
	char *ctl = (char *)h_bin("IPCCTL_BIN");
	char *put[] = { ctl, "-s", NULL, "put", "jobs", "payload", NULL };
	char *get[] = { ctl, "-s", NULL, "get", "jobs", "--nowait", NULL };
	char *rm[] = { ctl, "-s", NULL, "rm", "jobs", NULL };

	if (!perm_ctl_usable(ctl))
		return;
	perm_ctl_start(&d, ctl);
	perm_ctl(&d, &user_b, put, 1, &out, &err);
	ck_assert_msg(strstr(err.data, "put jobs: permission denied"), "stderr: %s",
		      err.data);
	h_buf_free(&out);
	h_buf_free(&err);
	perm_ctl(&d, &user_c, get, 1, &out, &err);
	ck_assert_msg(strstr(err.data, "permission denied"), "stderr: %s", err.data);
	ck_assert_uint_eq(out.len, 0);
	h_buf_free(&out);
	h_buf_free(&err);
	perm_ctl(&d, &user_b, rm, 1, &out, &err);
	ck_assert_msg(strstr(err.data, "permission denied"), "stderr: %s", err.data);
	h_buf_free(&out);
	h_buf_free(&err);
	h_stop(&d);
}
END_TEST

/* ipcctl as another user: stat and ls show owner and mode (create --mode
 * set it); the group may read; the owner removes. */
START_TEST(test_permissions_ipcctl_shown)
{
	struct h_daemon d;
	struct h_buf out, err;
	char *ctl = (char *)h_bin("IPCCTL_BIN");
	char *get[] = { ctl, "-s", NULL, "get", "jobs", "--nowait", NULL };
	char *rm[] = { ctl, "-s", NULL, "rm", "jobs", NULL };
	char *stat_[] = { ctl, "-s", NULL, "stat", "jobs", NULL };
	char *ls[] = { ctl, "-s", NULL, "ls", NULL };

	if (!perm_ctl_usable(ctl))
		return;
	perm_ctl_start(&d, ctl);
	perm_ctl(&d, &user_c, stat_, 0, &out, &err);
	ck_assert_msg(strstr(out.data, "owner: 4201"), "stat: %s", out.data);
	ck_assert_msg(strstr(out.data, "group: 4300"), "stat: %s", out.data);
	ck_assert_msg(strstr(out.data, "mode: 0640\n"), "stat: %s", out.data);
	ck_assert_msg(strstr(out.data, "size: 1\n"), "stat: %s", out.data);
	h_buf_free(&out);
	h_buf_free(&err);
	perm_ctl(&d, &user_b, get, 0, &out, &err);   /* group read */
	ck_assert_str_eq(out.data, "payload");
	h_buf_free(&out);
	h_buf_free(&err);
	perm_ctl(&d, &user_a, ls, 0, &out, &err);
	ck_assert_msg(strstr(out.data, "0640"), "ls: %s", out.data);
	ck_assert_msg(strstr(out.data, "OWNER"), "ls: %s", out.data);
	h_buf_free(&out);
	h_buf_free(&err);
	perm_ctl(&d, &user_a, rm, 0, &out, &err);
	h_buf_free(&out);
	h_buf_free(&err);
	h_stop(&d);
}
END_TEST

/* ---- limits ----------------------------------------------------------------- */

/* max-message-size: HELLO says it; a larger put is refused by the daemon
 * (even from a client that skips its own check) and nothing is lost. */
START_TEST(test_limit_message)
{
	static const char *args[] = { "--max-message-size", "1000", NULL };
	struct h_daemon d;
	struct h_raw_rx rx;
	struct proto_rep rep;
	struct proto_req put = { .op = PROTO_OP_QPUT, .id = 2, .name = "m",
				 .timeout_ms = 0 };
	char big[1001];
	uint32_t msg_max = 0;
	ipc_client *c;
	int fd;

	h_prepare(&d);
	launch_args(&d, args);
	c = h_connect(&d);
	ck_assert_uint_eq(ipc_msg_max(c), 1000);
	h_create_queue(c, "m", 0);
	ck_assert_int_eq(put_bytes(c, "m", 1000, 'a'), 0);
	ck_assert_int_eq(put_bytes(c, "m", 1001, 'b'), IPC_ETOOBIG);

	h_raw_rx_init(&rx);
	fd = h_raw_connect(d.sock);
	ck_assert_int_eq(h_raw_hello(fd, &rx, &msg_max), 0);
	ck_assert_uint_eq(msg_max, 1000);
	memset(big, 'c', sizeof(big));
	put.data = (const unsigned char *)big;
	put.data_len = sizeof(big);
	h_raw_send_req(fd, &put);
	ck_assert_int_eq(h_raw_reply(fd, &rx, put.op, &rep), 0);
	ck_assert_int_eq(rep.status, IPC_ETOOBIG);
	/* The connection is kept: a fitting put still works. */
	put.id = 3;
	put.data_len = 10;
	h_raw_send_req(fd, &put);
	ck_assert_int_eq(h_raw_reply(fd, &rx, put.op, &rep), 0);
	ck_assert_int_eq(rep.status, 0);
	close(fd);
	h_raw_rx_fini(&rx);

	ck_assert_uint_eq(h_stat(c, "m").size, 2);
	get_len(c, "m", 1000);
	get_len(c, "m", 10);
	ipc_close(c);
	log_wait(&d, "message too big");
	h_stop(&d);
}
END_TEST

/* A putter parked with a message of len bytes on q (child). */
struct parked_put {
	const char *sock;
	const char *q;
	size_t len;
};

/* Child: put p->len bytes on p->q, waiting forever; its result. */
static int parked_put_run(void *arg)
{
	const struct parked_put *p = arg;
	ipc_client *c;
	char *buf = calloc(1, p->len);
	int rc;

	if (!buf || h_ipc_connect(p->sock, &c) != 0)
		return 99;
	rc = ipc_queue_put(c, p->q, buf, p->len, IPC_FOREVER);
	ipc_close(c);
	free(buf);
	return rc >= 0 ? rc : 100 - rc;
}

/* What the daemon counts on top of the payload of a message of 4096 bytes
 * (or any size 16 apart: header, malloc's word and rounding), as the
 * STAT of q says after putting one there (q must be empty; it is again). */
static size_t msg_overhead(ipc_client *c, const char *q)
{
	size_t o;

	ck_assert_int_eq(put_bytes(c, q, 4096, 'o'), 0);
	o = (size_t)h_stat(c, q).memory - 4096;
	get_len(c, q, 4096);
	ck_assert_uint_gt(o, 0);
	return o;
}

/* max-bytes: the bytes held in all queues (parked putters' messages
 * included), each message counted with its overhead o (the STAT key
 * memory: header, malloc's word, rounding). A put past it gets IPC_ELIMIT
 * at once, nothing is lost, and room made by a get is usable again. */
START_TEST(test_limit_bytes)
{
	static const char *args[] = { "--max-bytes", "10K", NULL };
	struct h_daemon d;
	struct parked_put pp;
	struct h_buf err;
	ipc_client *c;
	pid_t pid;
	size_t o;

	h_prepare(&d);
	launch_args(&d, args);
	c = h_connect(&d);
	h_create_queue(c, "a", 1);
	h_create_queue(c, "b", 0);
	o = msg_overhead(c, "a");
	ck_assert_int_eq(put_bytes(c, "a", 4096, 'a'), 0);
	/* A parked putter's message counts: 2 x (4096 + o) held. */
	pp = (struct parked_put){ d.sock, "a", 4096 };
	pid = h_spawn(parked_put_run, &pp);
	h_wait_parked(c, "a", 'p', 1);
	ck_assert_int_eq(put_bytes(c, "b", 10240 - 2 * (4096 + o) - o, 'b'), 0); /* 10K */
	ck_assert_int_eq(put_bytes(c, "b", 1, 'x'), IPC_ELIMIT);
	ck_assert_int_eq(ipc_queue_put(c, "b", "y", 1, 5000), IPC_ELIMIT); /* not parked */
	ck_assert_ptr_nonnull(strstr(ipc_last_error(c), "limit"));
	ck_assert_uint_eq(h_stat(c, "b").size, 1);
	ck_assert_int_eq(h_run_ipcctl(&d, NULL, 0, NULL, &err, "put", "b", "z",
				      "--nowait", NULL), 1);
	ck_assert_msg(strstr(err.data, "limit"), "stderr: %s", err.data);
	h_buf_free(&err);
	/* A get takes 4096 + o out and admits the parked putter's, so 4096
	 * more fit exactly, and not one byte past that. */
	get_len(c, "a", 4096);
	ck_assert_int_eq(h_wait_child(pid, T_CHILD_MS), 0);
	ck_assert_int_eq(put_bytes(c, "b", 4096, 'c'), 0);
	ck_assert_int_eq(put_bytes(c, "b", 1, 'x'), IPC_ELIMIT);
	ck_assert_uint_eq(h_stat(c, "a").size, 1);
	ck_assert_uint_eq(h_stat(c, "b").size, 2);
	get_len(c, "a", 4096);
	get_len(c, "b", 10240 - 2 * (4096 + o) - o);
	get_len(c, "b", 4096);
	ck_assert_int_eq(put_bytes(c, "b", 10240 - o, 'd'), 0);
	get_len(c, "b", 10240 - o);
	ipc_close(c);
	log_wait(&d, "daemon limit reached");
	h_stop(&d);
}
END_TEST

/* Put one byte to q by each of QPUT and QPUTN, and send one from pipe
 * end 0 by each of PSEND and PSENDN (pipe NULL: not those): 0 when each
 * is refused with want and the same detail text (left in text, 256
 * bytes), else 1 + the index of the first that is not (said on stderr). */
static int refused_alike(ipc_client *c, const char *q, const char *pipe,
			 int want, char *text)
{
	struct ipc_msg one = { "x", 1 };
	size_t n = 9;
	int i, rc = 0;

	for (i = 0; i < (pipe != NULL ? 4 : 2); i++) {
		if (i == 0)
			rc = ipc_queue_put(c, q, "x", 1, 0);
		else if (i == 1)
			rc = ipc_queue_put_many(c, q, &one, 1, &n, 0);
		else if (i == 2)
			rc = ipc_pipe_send(c, pipe, 0, "x", 1, 0);
		else
			rc = ipc_pipe_send_many(c, pipe, 0, &one, 1, &n, 0);
		if (i == 0)
			snprintf(text, 256, "%s", ipc_last_error(c));
		if (rc != want || strcmp(ipc_last_error(c), text) != 0) {
			fprintf(stderr, "put %d: %d '%s', want %d '%s'\n", i, rc,
				ipc_last_error(c), want, text);
			return 1 + i;
		}
	}
	return 0;
}

/* One request-policy path: QPUT, QPUTN, PSEND and PSENDN over max-bytes
 * are refused alike, IPC_ELIMIT with the same detail naming the limit. */
START_TEST(test_limit_bytes_every_op)
{
	static const char *args[] = { "--max-bytes", "10K", NULL };
	struct h_daemon d;
	char text[256];
	ipc_client *c;

	h_prepare(&d);
	launch_args(&d, args);
	c = h_connect(&d);
	h_create_queue(c, "full", 0);
	ck_assert_int_eq(ipc_pipe_attach(c, "p", 0, IPC_PIPE_CREATE, NULL), 0);
	ck_assert_int_eq(ipc_pipe_attach(c, "p", 1, 0, NULL), 0);
	ck_assert_int_eq(put_bytes(c, "full", 10240 - msg_overhead(c, "full"), 'f'),
			 0); /* 10K held */
	ck_assert_int_eq(refused_alike(c, "full", "p", IPC_ELIMIT, text), 0);
	ck_assert_msg(strstr(text, "max-bytes 10240"), "detail: %s", text);
	ck_assert_uint_eq(h_stat(c, "full").size, 1);
	ck_assert_uint_eq(h_stat(c, "p").size, 0);
	ipc_close(c);
	h_stop(&d);
}
END_TEST

/* In a child: as a uid that is not root (user_a when we are root), make
 * a queue of mode 0, which denies even its owner, then check that every
 * write op and every read op is refused alike. 0, or the failed step. */
static int denied_run(void *arg)
{
	const char *sock = arg;
	struct ipc_msg m[2];
	char text[256], rtext[256];
	uint64_t tag;
	ipc_client *c;
	void *data;
	size_t len, n;

	if (geteuid() == 0)
		become(&user_a);
	if (h_ipc_connect(sock, &c) != 0 ||
	    ipc_queue_open(c, "shut", H_QOPTS_MODE(0, IPC_QUEUE_CREATE, 0), NULL) != 0)
		return 1;
	if (refused_alike(c, "shut", NULL, IPC_EPERM, text) != 0 ||
	    !strstr(text, "permission denied") || !strstr(text, "write"))
		return 2;
	if (ipc_queue_get(c, "shut", &data, &len, 0) != IPC_EPERM)
		return 3;
	snprintf(rtext, sizeof(rtext), "%s", ipc_last_error(c));
	if (!strstr(rtext, "read") ||
	    ipc_queue_get_many(c, "shut", m, 2, &n, 0) != IPC_EPERM ||
	    strcmp(ipc_last_error(c), rtext) != 0 ||
	    ipc_queue_get_ack(c, "shut", &data, &len, &tag, 0, 0) != IPC_EPERM ||
	    strcmp(ipc_last_error(c), rtext) != 0)
		return 4;
	ipc_close(c);
	return 0;
}

/* One request-policy path: an access refusal reads the same whichever op
 * hits it (QPUT and QPUTN; QGET, QGETN and QGETA). */
START_TEST(test_denied_every_op)
{
	struct h_daemon d;

	start_open(&d);
	ck_assert_int_eq(h_wait_child(h_spawn(denied_run, d.sock), T_CHILD_MS), 0);
	h_stop(&d);
}
END_TEST

/* max-queues: creating past it is IPC_ELIMIT (ipcctl: exit 1); deleting
 * makes room. */
START_TEST(test_limit_queues)
{
	static const char *args[] = { "--max-queues", "3", NULL };
	struct h_daemon d;
	struct h_buf err;
	ipc_client *c;

	h_prepare(&d);
	launch_args(&d, args);
	c = h_connect(&d);
	h_create_queue(c, "q1", 0);
	h_create_queue(c, "q2", 0);
	h_create_queue(c, "q3", 0);
	ck_assert_int_eq(ipc_queue_open(c, "q4", H_QOPTS(0, IPC_QUEUE_CREATE), NULL), IPC_ELIMIT);
	ck_assert_int_eq(ipc_stat(c, "q4", &(struct ipc_info){ 0 }, sizeof(struct ipc_info)), IPC_ENOENT);
	/* Opening an existing one is not creating. */
	ck_assert_int_eq(ipc_queue_open(c, "q3", H_QOPTS(-1, IPC_QUEUE_CREATE), NULL), 0);
	ck_assert_int_eq(h_run_ipcctl(&d, NULL, 0, NULL, &err, "create", "q5", NULL), 1);
	ck_assert_msg(strstr(err.data, "create q5: daemon limit reached"), "stderr: %s",
		      err.data);
	h_buf_free(&err);
	ck_assert_int_eq(ipc_delete(c, "q1"), 0);
	h_create_queue(c, "q4", 0);
	ipc_close(c);
	h_stop(&d);
}
END_TEST

/* The daemon's log so far (static buffer, the first 64 KiB). */
static const char *read_log(const struct h_daemon *d)
{
	static char buf[65536];
	FILE *f = fopen(d->log, "r");
	size_t n;

	ck_assert_ptr_nonnull(f);
	n = fread(buf, 1, sizeof(buf) - 1, f);
	buf[n] = '\0';
	fclose(f);
	return buf;
}

/* CPU seconds (user + system) pid has used, from /proc/pid/stat. */
static double proc_cpu_seconds(pid_t pid)
{
	char path[64], buf[1024], *p;
	unsigned long long ut = 0, st = 0;
	FILE *f;

	snprintf(path, sizeof(path), "/proc/%ld/stat", (long)pid);
	f = fopen(path, "r");
	ck_assert_ptr_nonnull(f);
	ck_assert_ptr_nonnull(fgets(buf, sizeof(buf), f));
	fclose(f);
	/* Fields after the command name "(...)": state is field 3, utime
	 * field 14, stime field 15. */
	p = strrchr(buf, ')');
	ck_assert_ptr_nonnull(p);
	ck_assert_int_eq(sscanf(p + 2, "%*c %*d %*d %*d %*d %*d %*u %*u %*u %*u %*u %llu %llu",
				&ut, &st), 2);
	return (double)(ut + st) / (double)sysconf(_SC_CLK_TCK);
}

/* busy-poll: ipcd polls for the next request only while requests come
 * close together. With the widest window (1000 us), requests 2 ms apart
 * must not keep it polling (each poll would waste 1 ms: half a core), and
 * once traffic stops it sleeps. */
START_TEST(test_busy_poll_sparse)
{
	static const char *args[] = { "--busy-poll", "1000", NULL };
	struct h_daemon d;
	ipc_client *c;
	double cpu0, cpu1;
	int64_t end;
	int i, n = 0;

	if (h_wrapped()) {
		fprintf(stderr, "SKIP busy_poll_sparse under IPCD_WRAPPER\n");
		return;
	}
	h_prepare(&d);
	launch_args(&d, args);
	c = h_connect(&d);
	h_create_queue(c, "bp", 0);
	/* Back to back: polling is on. */
	for (i = 0; i < 2000; i++) {
		ck_assert_int_eq(put_bytes(c, "bp", 8, 'x'), 0);
		h_get_expect(c, "bp", "xxxxxxxx", 0);
	}
	/* 2 ms apart, for a second. */
	cpu0 = proc_cpu_seconds(d.pid);
	end = h_now_ms() + 1000;
	while (h_now_ms() < end) {
		ck_assert_int_eq(put_bytes(c, "bp", 8, 'y'), 0);
		usleep(2000);
		n++;
	}
	cpu1 = proc_cpu_seconds(d.pid);
	ck_assert_msg(cpu1 - cpu0 < 0.2, "ipcd used %.2f s of CPU for %d puts 2 ms apart",
		      cpu1 - cpu0, n);
	ck_assert_uint_eq(h_stat(c, "bp").size, (size_t)n);
	/* Idle: no CPU at all (one tick of slack). */
	cpu0 = proc_cpu_seconds(d.pid);
	usleep(1000000);
	cpu1 = proc_cpu_seconds(d.pid);
	ck_assert_msg(cpu1 - cpu0 < 0.05, "idle ipcd used %.2f s of CPU in 1 s", cpu1 - cpu0);
	ipc_close(c);
	h_stop(&d);
}
END_TEST

/* ipcd keeps freed heap memory while it works (no page faults per large
 * message) but gives it back once idle for a second: after 16 MiB went
 * through a queue and out again, its RSS comes back down. */
START_TEST(test_idle_trim)
{
	static char big[65536];
	struct h_daemon d;
	ipc_client *c;
	long rss0, rss1, rss2 = -1;
	int64_t deadline;
	void *p;
	size_t len;
	int i;

	h_start(&d);
	c = h_connect(&d);
	h_create_queue(c, "big", 0);
	rss0 = h_rss_kb(d.pid);
	if (rss0 < 0) {
		fprintf(stderr, "SKIP idle_trim: RSS means nothing here\n");
		ipc_close(c);
		h_stop(&d);
		return;
	}
	memset(big, 'b', sizeof(big));
	for (i = 0; i < 256; i++)
		ck_assert_int_eq(ipc_queue_put(c, "big", big, sizeof(big), 0), 0);
	for (i = 0; i < 256; i++) {
		ck_assert_int_eq(ipc_queue_get(c, "big", &p, &len, 0), 0);
		ck_assert_uint_eq(len, sizeof(big));
		ipc_free(p);
	}
	rss1 = h_rss_kb(d.pid);
	deadline = h_now_ms() + 5000;
	while (h_now_ms() < deadline) {
		rss2 = h_rss_kb(d.pid);
		if (rss2 < rss0 + 4096)
			break;
		usleep(100000);
	}
	ck_assert_msg(rss2 < rss0 + 4096, "RSS %ld kB at start, %ld after 16 MiB went "
		      "through, still %ld 5 s later", rss0, rss1, rss2);
	ipc_close(c);
	h_stop(&d);
}
END_TEST

/* 1 when the daemon closed fd (EOF, perhaps after an error reply) within
 * ms milliseconds. */
static int closed_within(int fd, int ms)
{
	int64_t deadline = h_now_ms() + ms;
	struct pollfd p = { .fd = fd, .events = POLLIN };
	char buf[4096];
	ssize_t r;

	while (h_now_ms() < deadline) {
		if (poll(&p, 1, 50) != 1)
			continue;
		r = recv(fd, buf, sizeof buf, MSG_DONTWAIT);
		if (r == 0 || (r < 0 && errno != EAGAIN && errno != EINTR))
			return 1;
	}
	return 0;
}

/* Out of file descriptors (EMFILE), ipcd neither spins on the listening
 * socket nor leaves clients hanging in the backlog: each new connection
 * is accepted on a spare descriptor and closed at once, with one log line
 * (rate-limited, never "pausing new connections"); the connections it
 * has are served, and it accepts again once descriptors are free. */
START_TEST(test_emfile_no_spin)
{
	struct rlimit lim = { 16, 16 };
	struct h_daemon d;
	ipc_client *c;
	int fds[40], i, closed = 0;
	double cpu0, cpu1;
	int64_t deadline;
	const char *log, *p;
	unsigned lines = 0;

	if (h_wrapped()) {
		/* valgrind keeps descriptors of its own under the limit. */
		fprintf(stderr, "SKIP emfile_no_spin under IPCD_WRAPPER\n");
		return;
	}
	h_start(&d);
	c = h_connect(&d);
	h_create_queue(c, "em", 0);
	ck_assert_int_eq(prlimit(d.pid, RLIMIT_NOFILE, &lim, NULL), 0);
	/* More connections than descriptors: accept4 fails with EMFILE. */
	for (i = 0; i < 40; i++)
		fds[i] = h_raw_connect(d.sock);
	usleep(200000);
	cpu0 = proc_cpu_seconds(d.pid);
	usleep(1000000);
	cpu1 = proc_cpu_seconds(d.pid);
	ck_assert_msg(cpu1 - cpu0 < 0.3, "ipcd used %.2f s of CPU in 1 s at EMFILE",
		      cpu1 - cpu0);
	/* Those past the limit were closed, not left waiting. */
	for (i = 0; i < 40; i++)
		closed += closed_within(fds[i], 20);
	ck_assert_msg(closed >= 20, "only %d of 40 connections past the "
		      "descriptor limit were closed", closed);
	/* The connection it has is still served. */
	ck_assert_int_eq(put_bytes(c, "em", 1, 'x'), 0);
	ck_assert_uint_eq(h_stat(c, "em").size, 1);
	for (i = 0; i < 40; i++)
		close(fds[i]);
	ipc_close(c);
	/* Descriptors free again: new clients get in. */
	c = NULL;
	deadline = h_now_ms() + T_WAIT_MS;
	while (ipc_connect(d.sock, &c) != 0) {
		ck_assert_msg(h_now_ms() < deadline, "ipcd never accepted again");
		usleep(20000);
	}
	ck_assert_uint_eq(h_stat(c, "em").size, 1);
	ipc_close(c);
	log = read_log(&d);
	ck_assert_ptr_null(strstr(log, "pausing new connections"));
	for (p = log; (p = strstr(p, "no file descriptor left")) != NULL; p++)
		lines++;
	ck_assert_msg(lines == 1, "%u log lines about descriptors", lines);
	h_stop(&d);
}
END_TEST

/* max-connections: past it a client's HELLO is answered IPC_ELIMIT and it
 * is closed; the others go on being served; a slot freed is reusable;
 * connections that never say HELLO cannot pile up. */
START_TEST(test_limit_connections)
{
	static const char *args[] = { "--max-connections", "3", NULL };
	struct h_daemon d;
	struct h_raw_rx rx;
	struct proto_rep rep;
	struct proto_req hello = { .op = PROTO_OP_HELLO, .id = 7,
				   .version = IPC_PROTO_VERSION };
	struct h_buf err;
	ipc_client *c[3], *extra = NULL;
	int fd, silent[40], i;

	h_prepare(&d);
	launch_args(&d, args);
	for (i = 0; i < 3; i++)
		c[i] = h_connect(&d);
	h_create_queue(c[0], "cq", 0);
	ck_assert_int_eq(ipc_connect(d.sock, &extra), IPC_ELIMIT);
	ck_assert_ptr_null(extra);
	/* Raw: the refusal is a reply to the HELLO, then EOF. */
	h_raw_rx_init(&rx);
	fd = h_raw_connect(d.sock);
	h_raw_send_req(fd, &hello);
	ck_assert_int_eq(h_raw_reply(fd, &rx, hello.op, &rep), 0);
	ck_assert_int_eq(rep.id, 7);
	ck_assert_int_eq(rep.status, IPC_ELIMIT);
	ck_assert_ptr_nonnull(strstr(rep.detail, "too many connections"));
	ck_assert_int_eq(h_raw_reply(fd, &rx, hello.op, &rep), -1);
	close(fd);
	h_raw_rx_fini(&rx);
	ck_assert_int_eq(h_run_ipcctl(&d, NULL, 0, NULL, &err, "ls", NULL), 1);
	ck_assert_msg(strstr(err.data, "limit"), "stderr: %s", err.data);
	h_buf_free(&err);
	/* Many silent connections over the limit: the served ones go on. */
	for (i = 0; i < 40; i++)
		silent[i] = h_raw_connect(d.sock);
	for (i = 0; i < 3; i++)
		ck_assert_int_eq(put_bytes(c[i], "cq", 1, 'a' + i), 0);
	ck_assert_uint_eq(h_stat(c[2], "cq").size, 3);
	for (i = 0; i < 40; i++)
		close(silent[i]);
	/* A freed slot is reusable. */
	ipc_close(c[1]);
	c[1] = NULL;
	{
		int64_t deadline = h_now_ms() + T_WAIT_MS;

		while (ipc_connect(d.sock, &c[1]) != 0) {
			ck_assert_msg(h_now_ms() < deadline, "slot never freed");
			usleep(10000);
		}
	}
	get_len(c[1], "cq", 1);
	for (i = 0; i < 3; i++)
		ipc_close(c[i]);
	log_wait(&d, "refused (max-connections");
	h_stop(&d);
}
END_TEST

/* max-output: a client that sends requests but never reads the replies
 * stops being read once its unsent replies pass the bound; the rest of
 * its requests wait (the messages stay queued), others are served; when
 * it reads, it gets every reply in order and nothing is lost. */
START_TEST(test_limit_output)
{
	static const char *args[] = { "--max-output", "64K", NULL };
	enum { N = 200, SZ = 32768 };
	struct h_daemon d;
	struct h_raw_rx rx;
	struct proto_rep rep;
	struct proto_req get = { .op = PROTO_OP_QGET, .name = "big", .timeout_ms = 0 };
	ipc_client *c;
	unsigned char *p = malloc(SZ);
	size_t size, prev;
	int fd, i, stable;

	h_prepare(&d);
	launch_args(&d, args);
	c = h_connect(&d);
	h_create_queue(c, "big", 0);
	for (i = 0; i < N; i++) {
		memset(p, i & 0xff, SZ);
		ck_assert_int_eq(ipc_queue_put(c, "big", p, SZ, 0), 0);
	}
	h_raw_rx_init(&rx);
	fd = h_raw_connect(d.sock);
	ck_assert_int_eq(h_raw_hello(fd, &rx, NULL), 0);
	for (i = 0; i < N; i++) {
		get.id = 100 + (uint32_t)i;
		h_raw_send_req(fd, &get);
	}
	/* Wait until the daemon stops taking messages for it. */
	prev = N + 1;
	for (stable = 0; stable < 20; ) {
		size = h_stat(c, "big").size;
		stable = size == prev ? stable + 1 : 0;
		prev = size;
		usleep(20000);
	}
	/* 64K of output plus what the socket buffers hold: far from N*32K. */
	ck_assert_msg(size > N / 2, "the daemon took %zu of %d messages for a "
		      "client that reads nothing", (size_t)(N - size), N);
	/* Others are still served meanwhile. */
	h_create_queue(c, "other", 0);
	ck_assert_int_eq(put_bytes(c, "other", 5, 'o'), 0);
	get_len(c, "other", 5);
	/* Reading resumes it: every reply, in order, with its message. */
	for (i = 0; i < N; i++) {
		ck_assert_int_eq(h_raw_reply(fd, &rx, PROTO_OP_QGET, &rep), 0);
		ck_assert_int_eq(rep.id, 100 + i);
		ck_assert_int_eq(rep.status, 0);
		ck_assert_uint_eq(rep.data_len, SZ);
		ck_assert_uint_eq(rep.data[0], i & 0xff);
		ck_assert_uint_eq(rep.data[SZ - 1], i & 0xff);
	}
	ck_assert_uint_eq(h_stat(c, "big").size, 0);
	close(fd);
	h_raw_rx_fini(&rx);
	ipc_close(c);
	free(p);
	h_stop(&d);
}
END_TEST

/* Send what the socket takes of n bytes of junk without waiting long:
 * the daemon may stop reading (or close) at any point. */
static void send_some(int fd, size_t n)
{
	static char junk[64 << 10];
	struct pollfd p = { .fd = fd, .events = POLLOUT };
	size_t off = 0;
	ssize_t r;

	while (off < n && poll(&p, 1, 200) == 1 && !(p.revents & (POLLERR | POLLHUP))) {
		r = send(fd, junk, n - off < sizeof junk ? n - off : sizeof junk,
			 MSG_NOSIGNAL | MSG_DONTWAIT);
		if (r <= 0)
			break;
		off += (size_t)r;
	}
}

/* Unfinished frames: a header announcing 8 MiB reserves nothing by
 * itself; what clients send of unfinished frames is held up to
 * max-partial-bytes daemon-wide (the ones past it are refused and
 * closed), and a frame not whole within frame-timeout is closed while
 * other clients are served. */
START_TEST(test_partial_frames)
{
	static const char *args[] = { "--max-partial-bytes", "1M",
				      "--frame-timeout", "2", NULL };
	enum { N = 64, SENT = 512 << 10 };
	unsigned char hdr[4] = { 0x00, 0x7f, 0xff, 0xf0 }; /* ~8 MiB */
	struct h_daemon d;
	struct h_raw_rx rx;
	ipc_client *c;
	int fds[N], i, closed = 0;
	long rss0, rss1;
	int64_t t0;

	h_prepare(&d);
	launch_args(&d, args);
	c = h_connect(&d);
	h_create_queue(c, "q", 0);
	h_raw_rx_init(&rx);
	rss0 = h_rss_kb(d.pid);
	for (i = 0; i < N; i++) {
		fds[i] = h_raw_connect(d.sock);
		ck_assert_int_eq(h_raw_hello(fds[i], &rx, NULL), 0);
		ck_assert_int_eq(send(fds[i], hdr, 4, MSG_NOSIGNAL), 4);
		send_some(fds[i], SENT);
	}
	/* Another client is served meanwhile. */
	h_put_text(c, "q", "served");
	h_get_expect(c, "q", "served", 0);
	rss1 = h_rss_kb(d.pid);
	if (rss0 >= 0)
		ck_assert_msg(rss1 - rss0 < 12 * 1024, "unfinished frames of %d "
			      "clients grew ipcd from %ld to %ld kB", N, rss0, rss1);
	fprintf(stderr, "partial_frames: RSS %ld -> %ld kB with %d clients "
		"sending %d KiB of an 8 MiB frame each\n", rss0, rss1, N, SENT >> 10);
	for (i = 0; i < N; i++)
		closed += closed_within(fds[i], 200);
	/* 1M holds two clients' 512K at most: the others were refused. */
	ck_assert_msg(closed >= N - 4, "only %d of %d clients over "
		      "max-partial-bytes were closed", closed, N);
	log_wait(&d, "max-partial-bytes");
	/* The ones held are closed when frame-timeout is up. */
	t0 = h_now_ms();
	for (i = 0; i < N; i++) {
		ck_assert_msg(closed_within(fds[i], h_wrapped() ? 30000 : 8000),
			      "client %d with an unfinished frame not closed", i);
		close(fds[i]);
	}
	log_wait(&d, "frame-timeout");
	fprintf(stderr, "partial_frames: the last held frame closed after "
		"%lld ms more\n", (long long)(h_now_ms() - t0));
	h_put_text(c, "q", "still");
	h_get_expect(c, "q", "still", 0);
	h_raw_rx_fini(&rx);
	ipc_close(c);
	h_stop(&d);
}
END_TEST

/* ---- shutdown ------------------------------------------------------------------ */

/* What a parked child does. */
struct parked {
	const char *sock;
	const char *q;
	char op;            /* 'g' get or 'p' put, waiting forever */
};

/* Child: one waiting get or put; the result as exit status. */
static int parked_run(void *arg)
{
	const struct parked *p = arg;
	ipc_client *c;
	void *data;
	size_t len;
	int rc;

	if (h_ipc_connect(p->sock, &c) != 0)
		return 99;
	if (p->op == 'g')
		rc = ipc_queue_get(c, p->q, &data, &len, IPC_FOREVER);
	else
		rc = ipc_queue_put(c, p->q, "late", 4, IPC_FOREVER);
	ipc_close(c);
	return rc >= 0 ? rc : 100 - rc;
}

/* SIGTERM with parked getters and putters: each gets IPC_ESHUTDOWN,
 * ipcd exits 0 and removes its socket; nothing new is accepted. */
START_TEST(test_shutdown_parked)
{
	struct h_daemon d;
	struct parked g1, g2, p1;
	pid_t pg1, pg2, pp1;
	ipc_client *c;

	h_start(&d);
	c = h_connect(&d);
	h_create_queue(c, "empty", 0);
	h_create_queue(c, "full", 1);
	ck_assert_int_eq(put_bytes(c, "full", 1, 'f'), 0);
	g1 = (struct parked){ d.sock, "empty", 'g' };
	g2 = g1;
	p1 = (struct parked){ d.sock, "full", 'p' };
	pg1 = h_spawn(parked_run, &g1);
	pg2 = h_spawn(parked_run, &g2);
	pp1 = h_spawn(parked_run, &p1);
	h_wait_parked(c, "empty", 'g', 2);
	h_wait_parked(c, "full", 'p', 1);
	h_stop(&d);
	ck_assert_int_eq(h_wait_child(pg1, T_CHILD_MS), IPC_ESHUTDOWN);
	ck_assert_int_eq(h_wait_child(pg2, T_CHILD_MS), IPC_ESHUTDOWN);
	ck_assert_int_eq(h_wait_child(pp1, T_CHILD_MS), IPC_ESHUTDOWN);
	/* The idle client sees the connection closed. */
	ck_assert_int_lt(ipc_stat(c, "empty", &(struct ipc_info){ 0 }, sizeof(struct ipc_info)), 0);
	ipc_close(c);
	ck_assert_int_eq(ipc_connect(d.sock, &c), IPC_ECONNECT);
}
END_TEST

/* ---- reload ------------------------------------------------------------------- */

/* Start ipcd on d with the config file conf (in d's directory) holding
 * text: max-message-size 1000, max-queues 2, log-level info, and make the
 * two queues r1, r2 that max-queues allows. */
static void reload_start(struct h_daemon *d, char *conf, size_t len)
{
	const char *args[] = { "-c", conf, NULL };
	ipc_client *c;

	h_prepare(d);
	snprintf(conf, len, "%s/ipcd.conf", d->dir);
	write_file(conf, "# test\nmax-message-size = 1000\nmax-queues = 2\n"
		   "log-level = info\n");
	launch_args(d, args);
	c = h_connect(d);
	ck_assert_uint_eq(ipc_msg_max(c), 1000);
	h_create_queue(c, "r1", 0);
	h_create_queue(c, "r2", 0);
	ck_assert_int_eq(ipc_queue_open(c, "r3", H_QOPTS(0, IPC_QUEUE_CREATE), NULL), IPC_ELIMIT);
	ipc_close(c);
}

/* SIGHUP re-reads the config file: limits and log level change and are
 * logged, socket settings wait for a restart. */
START_TEST(test_reload)
{
	struct h_daemon d;
	char conf[128];
	ipc_client *c;
	struct stat st;

	reload_start(&d, conf, sizeof(conf));
	ck_assert(!log_has(&d, "opened by pid"));    /* not at debug level */
	write_file(conf, "max-message-size = 2000\nmax-queues = 4\n"
		   "log-level = debug\nsocket-mode = 0666\n");
	ck_assert_int_eq(kill(d.pid, SIGHUP), 0);
	log_wait(&d, "reload: done");
	ck_assert(log_has(&d, "reload: max-message-size: 1000 -> 2000"));
	ck_assert(log_has(&d, "reload: max-queues: 2 -> 4"));
	ck_assert(log_has(&d, "reload: log-level: info -> debug"));
	ck_assert(log_has(&d, "reload: socket-mode: 0600 -> 0666 needs a restart"));
	c = h_connect(&d);
	ck_assert_uint_eq(ipc_msg_max(c), 2000);
	ck_assert_int_eq(put_bytes(c, "r1", 1500, 'r'), 0);
	h_create_queue(c, "r3", 0);
	h_create_queue(c, "r4", 0);
	ck_assert_int_eq(ipc_queue_open(c, "r5", H_QOPTS(0, IPC_QUEUE_CREATE), NULL), IPC_ELIMIT);
	log_wait(&d, "opened by pid");              /* debug level now */
	ck_assert_int_eq(stat(d.sock, &st), 0);
	ck_assert_uint_eq(st.st_mode & 0777, 0600);  /* unchanged */
	ipc_close(c);
	h_stop(&d);
}
END_TEST

/* SIGHUP with a broken file: logged (line and key), the running
 * configuration stays, whole (not the file's valid lines either). */
START_TEST(test_reload_broken)
{
	struct h_daemon d;
	char conf[128];
	ipc_client *c;

	reload_start(&d, conf, sizeof(conf));
	write_file(conf, "max-queues = 10\nmax-message-size = huge\n");
	ck_assert_int_eq(kill(d.pid, SIGHUP), 0);
	log_wait(&d, "keeping the running configuration");
	ck_assert(log_has(&d, "line 2: max-message-size: 'huge'"));
	c = h_connect(&d);
	ck_assert_int_eq(ipc_queue_open(c, "r3", H_QOPTS(0, IPC_QUEUE_CREATE), NULL), IPC_ELIMIT);
	ck_assert_int_eq(put_bytes(c, "r1", 1000, 'r'), 0);
	ck_assert_int_eq(put_bytes(c, "r1", 1001, 'r'), IPC_ETOOBIG);
	ipc_close(c);
	h_stop(&d);
}
END_TEST

/* SIGHUP with a file that matches what runs says so. */
START_TEST(test_reload_unchanged)
{
	struct h_daemon d;
	char conf[128];

	reload_start(&d, conf, sizeof(conf));
	write_file(conf, "max-message-size = 1000\nmax-queues = 2\n"
		   "log-level = info\n");
	ck_assert_int_eq(kill(d.pid, SIGHUP), 0);
	log_wait(&d, "reload: configuration unchanged");
	h_stop(&d);
}
END_TEST

/* Get up to max (<= 64) messages of q by QGETN, checking each is RS_LEN
 * bytes of the byte its rank says (*seen came before): how many came. */
#define RS_LEN (512u << 10)
static size_t reload_getn(ipc_client *c, const char *q, size_t max, size_t *seen)
{
	struct ipc_msg msgs[64];
	size_t n = 0, i, j;

	ck_assert_int_eq(ipc_queue_get_many(c, q, msgs, max, &n, 0), 0);
	for (i = 0; i < n; i++, (*seen)++) {
		const unsigned char *b = msgs[i].data;

		ck_assert_uint_eq(msgs[i].len, RS_LEN);
		for (j = 0; j < RS_LEN && b[j] == 'a' + *seen % 26; j++)
			;
		ck_assert_uint_eq(j, RS_LEN);
	}
	return n;
}

/* Lowering max-message-size under messages already queued: they stay
 * visible to QPEEK and deliverable, whole, by QGETN (replies sized by the messages, so several
 * of them), QGET and QGETA; the connection stays open; only new puts meet
 * the new limit. */
START_TEST(test_reload_shrink)
{
	struct h_daemon d;
	char conf[128];
	const char *args[] = { "-c", conf, NULL };
	size_t i, first, seen = 0, len = 0;
	struct ipc_msg peek[64];
	void *data = NULL;
	uint64_t tag = 0;
	ipc_client *c;

	h_prepare(&d);
	snprintf(conf, sizeof(conf), "%s/ipcd.conf", d.dir);
	/* Inline messages: memfd ones do not fill frames. */
	write_file(conf, "max-message-size = 1M\nmemfd-threshold = 0\n");
	launch_args(&d, args);
	c = h_connect(&d);
	h_create_queue(c, "big", 0);
	for (i = 0; i < 26; i++)
		ck_assert_int_eq(put_bytes(c, "big", RS_LEN, 'a' + (int)i), 0);
	write_file(conf, "max-message-size = 1K\nmemfd-threshold = 0\n");
	ck_assert_int_eq(kill(d.pid, SIGHUP), 0);
	log_wait(&d, "reload: done");
	/* 13 MiB are more than one frame holds: the reply stops at the
	 * frame, the rest stay queued. */
	/* QPEEK, sized the same way, shows the head whole and takes nothing. */
	ck_assert_int_eq(ipc_queue_peek(c, "big", peek, 64, &first), 0);
	ck_assert_uint_lt(first, 24);
	ck_assert_uint_eq(peek[0].len, RS_LEN);
	ck_assert_int_eq(((const unsigned char *)peek[0].data)[RS_LEN - 1], 'a');
	first = reload_getn(c, "big", 64, &seen);
	ck_assert_uint_lt(first, 24);
	ck_assert_uint_eq(reload_getn(c, "big", 24 - first, &seen), 24 - first);
	ck_assert_uint_eq(seen, 24);
	ck_assert_int_eq(ipc_queue_get(c, "big", &data, &len, 0), 0);
	ck_assert_uint_eq(len, RS_LEN);
	ck_assert_int_eq(((unsigned char *)data)[RS_LEN - 1], 'y');
	ipc_free(data);
	data = NULL;
	ck_assert_int_eq(ipc_queue_get_ack(c, "big", &data, &len, &tag, 0, 0), 0);
	ck_assert_uint_eq(len, RS_LEN);
	ck_assert_int_eq(((unsigned char *)data)[0], 'z');
	ipc_free(data);
	ck_assert_int_eq(ipc_queue_ack(c, "big", tag), 0);
	ck_assert_int_eq(ipc_queue_get(c, "big", &data, &len, 0), IPC_EEMPTY);
	ipc_close(c);
	c = h_connect(&d);             /* new puts meet the new limit */
	ck_assert_int_eq(put_bytes(c, "big", 1024, 'n'), 0);
	ck_assert_int_eq(put_bytes(c, "big", 1025, 'n'), IPC_ETOOBIG);
	ipc_close(c);
	h_stop(&d);
}
END_TEST

/* ---- configuration errors ------------------------------------------------------- */

/* Run ipcd with args (NULL-terminated, no -s); its exit status, output. */
static int run_ipcd(char **args, struct h_buf *out, struct h_buf *err)
{
	char *argv[16];
	int n = 0;

	argv[n++] = (char *)h_bin("IPCD_BIN");
	while (*args && n < 15)
		argv[n++] = *args++;
	argv[n] = NULL;
	return h_run(argv, NULL, 0, out, err, 15000);
}

/* The output of --check-config, written to conf, is a config file that
 * gives the same output; takes out. An unknown socket-group fails the
 * check as it fails the start. */
static void check_config_reads_back(const char *conf, struct h_buf *out)
{
	char *again[] = { "-c", (char *)conf, "--check-config", NULL };
	char *nogroup[] = { "-c", (char *)conf, "--socket-group",
			    "no-such-group-ipcd", "--check-config", NULL };
	struct h_buf out2, err;

	ck_assert_ptr_nonnull(strstr(out->data, "socket-group = \n"));
	write_file(conf, out->data);
	ck_assert_int_eq(run_ipcd(again, &out2, &err), 0);
	ck_assert_str_eq(out2.data, out->data);
	h_buf_free(&out2);
	h_buf_free(&err);
	h_buf_free(out);
	ck_assert_int_eq(run_ipcd(nogroup, &out2, &err), 1);
	ck_assert_msg(strstr(err.data, "socket-group: no group 'no-such-group-ipcd'"),
		      "stderr: %s", err.data);
	ck_assert_str_eq(out2.data, "");
	h_buf_free(&out2);
	h_buf_free(&err);
}

/* A private directory for a config file and a socket path no daemon
 * serves (the config-error tests start none). */
struct confdir {
	char dir[32];
	char conf[128];
	char sock[128];
};

/* Make c's directory and paths. */
static void confdir_make(struct confdir *c)
{
	snprintf(c->dir, sizeof(c->dir), "/tmp/ipcd-conf.XXXXXX");
	ck_assert_ptr_nonnull(mkdtemp(c->dir));
	snprintf(c->conf, sizeof(c->conf), "%s/ipcd.conf", c->dir);
	snprintf(c->sock, sizeof(c->sock), "%s/ipcd.sock", c->dir);
}

/* Remove c's directory and config file. */
static void confdir_remove(struct confdir *c)
{
	unlink(c->conf);
	rmdir(c->dir);
}

/* A bad config file: a clear message naming the file, line and key,
 * exit 1, no socket made. */
START_TEST(test_config_file_errors)
{
	struct confdir cd;
	char *bad_file[] = { "-c", cd.conf, "-s", cd.sock, NULL };
	struct h_buf out, err;

	confdir_make(&cd);
	write_file(cd.conf, "max-queues = 5\nmax-qeueus = 6\n");
	ck_assert_int_eq(run_ipcd(bad_file, &out, &err), 1);
	ck_assert_msg(strstr(err.data, cd.conf) && strstr(err.data,
		      "line 2: unknown key 'max-qeueus'"), "stderr: %s", err.data);
	h_buf_free(&out);
	h_buf_free(&err);
	write_file(cd.conf, "socket-mode = 0999\n");
	ck_assert_int_eq(run_ipcd(bad_file, &out, &err), 1);
	ck_assert_msg(strstr(err.data, "line 1: socket-mode: '0999' is not an octal mode"),
		      "stderr: %s", err.data);
	h_buf_free(&out);
	h_buf_free(&err);
	write_file(cd.conf, "max-bytes\n");
	ck_assert_int_eq(run_ipcd(bad_file, &out, &err), 1);
	ck_assert_msg(strstr(err.data, "line 1: expected 'key = value'"), "stderr: %s",
		      err.data);
	h_buf_free(&out);
	h_buf_free(&err);
	ck_assert_int_eq(access(cd.sock, F_OK), -1);
	confdir_remove(&cd);
}
END_TEST

/* A missing config file or a bad flag: exit 1 saying which (2 for an
 * unknown option), no socket made. */
START_TEST(test_config_flag_errors)
{
	struct confdir cd;
	char *missing[] = { "-c", "/nonexistent/ipcd.conf", "-s", cd.sock, NULL };
	char *bad_flag[] = { "--max-connections", "many", "-s", cd.sock, NULL };
	char *bad_opt[] = { "--frobnicate", NULL };
	struct h_buf out, err;

	confdir_make(&cd);
	ck_assert_int_eq(run_ipcd(missing, &out, &err), 1);
	ck_assert_msg(strstr(err.data, "/nonexistent/ipcd.conf: No such file"),
		      "stderr: %s", err.data);
	h_buf_free(&out);
	h_buf_free(&err);
	ck_assert_int_eq(run_ipcd(bad_flag, &out, &err), 1);
	ck_assert_msg(strstr(err.data, "max-connections: 'many' is not a number"),
		      "stderr: %s", err.data);
	h_buf_free(&out);
	h_buf_free(&err);
	ck_assert_int_eq(run_ipcd(bad_opt, &out, &err), 2);
	h_buf_free(&out);
	h_buf_free(&err);
	ck_assert_int_eq(access(cd.sock, F_OK), -1);
	confdir_remove(&cd);
}
END_TEST

/* --check-config prints the settings (flags over the file over the
 * defaults), in a form that reads back. */
START_TEST(test_check_config)
{
	struct confdir cd;
	char *check[] = { "-c", cd.conf, "--max-queues", "7", "--check-config", NULL };
	struct h_buf out, err;

	confdir_make(&cd);
	write_file(cd.conf, "max-queues = 5\nlog-level = warning\n");
	ck_assert_int_eq(run_ipcd(check, &out, &err), 0);
	ck_assert_msg(strstr(out.data, "max-queues = 7\n"), "out: %s", out.data);
	ck_assert_msg(strstr(out.data, "log-level = warning\n"), "out: %s", out.data);
	ck_assert_msg(strstr(out.data, "max-connections = 1024\n"), "out: %s", out.data);
	h_buf_free(&err);
	check_config_reads_back(cd.conf, &out);
	confdir_remove(&cd);
}
END_TEST

/* The default config file is configure's --sysconfdir/ipcd.conf (the
 * Makefile exports it as IPCD_SYSCONFDIR), not a fixed /etc. */
START_TEST(test_config_sysconfdir)
{
	char *help[] = { "--help", NULL }, want[512];
	const char *dir = getenv("IPCD_SYSCONFDIR");
	struct h_buf out;

	if (!dir || !*dir)
		return;     /* only under make check */
	snprintf(want, sizeof(want), "(default: %s/ipcd.conf,", dir);
	ck_assert_int_eq(run_ipcd(help, &out, NULL), 0);
	ck_assert_msg(strstr(out.data, want), "no '%s' in:\n%s", want, out.data);
	h_buf_free(&out);
}
END_TEST

/* ---- ipcctl --json and top -------------------------------------------------------- */

/* Child: put 1-byte messages on q for about ms milliseconds. */
struct feeder {
	const char *sock;
	const char *q;
	int ms;
};

static int feeder_run(void *arg)
{
	const struct feeder *f = arg;
	int64_t end = h_now_ms() + f->ms;
	ipc_client *c;
	void *data;
	size_t len;

	if (h_ipc_connect(f->sock, &c) != 0)
		return 99;
	while (h_now_ms() < end) {
		if (ipc_queue_put(c, f->q, "x", 1, 0) != 0)
			return 98;
		if (ipc_queue_get(c, f->q, &data, &len, 0) != 0)
			return 97;
		ipc_free(data);
		usleep(2000);
	}
	ipc_close(c);
	return 0;
}

/* ls --json and stat --json give one document with the stable keys; a
 * command without a --json form refuses it. */
START_TEST(test_ipcctl_json)
{
	static const char *keys[] = { "\"name\":", "\"kind\":", "\"maxsize\":",
		"\"size\":", "\"bytes\":", "\"getters\":", "\"putters\":",
		"\"puts\":", "\"gets\":", "\"uid\":", "\"gid\":", "\"mode\":", NULL };
	struct h_daemon d;
	struct h_buf out, err;
	ipc_client *c;
	int i;

	h_start(&d);
	ck_assert_int_eq(h_run_ipcctl(&d, NULL, 0, &out, NULL, "ls", "--json", NULL), 0);
	ck_assert_str_eq(out.data, "[]\n");
	h_buf_free(&out);
	ck_assert_int_eq(h_run_ipcctl(&d, NULL, 0, NULL, NULL, "create", "j1",
				      "--maxsize", "5", "--mode", "0640", NULL), 0);
	c = h_connect(&d);
	h_create_queue(c, "j2", 0);
	ck_assert_int_eq(put_bytes(c, "j1", 3, 'z'), 0);
	ck_assert_int_eq(h_run_ipcctl(&d, NULL, 0, &out, NULL, "stat", "j1",
				      "--json", NULL), 0);
	ck_assert_msg(strncmp(out.data, "{\"name\":\"j1\",\"kind\":\"queue\","
			      "\"maxsize\":5,\"size\":1,\"bytes\":3,", 52) == 0,
		      "stat --json: %s", out.data);
	ck_assert_ptr_nonnull(strstr(out.data, "\"uid\":0,\"gid\":0,\"mode\":\"0640\",\"durable\":false}\n"));
	for (i = 0; keys[i]; i++)
		ck_assert_msg(strstr(out.data, keys[i]), "no %s in %s", keys[i], out.data);
	ck_assert_uint_eq(strchr(out.data, '\n') - out.data, out.len - 1);
	h_buf_free(&out);
	ck_assert_int_eq(h_run_ipcctl(&d, NULL, 0, &out, NULL, "ls", "--json", NULL), 0);
	ck_assert(out.data[0] == '[');
	ck_assert_ptr_nonnull(strstr(out.data, "{\"name\":\"j1\""));
	ck_assert_ptr_nonnull(strstr(out.data, "},{\"name\":\"j2\""));
	ck_assert_ptr_nonnull(strstr(out.data, "\"mode\":\"0660\",\"durable\":false}]\n"));
	h_buf_free(&out);
	ck_assert_int_eq(h_run_ipcctl(&d, NULL, 0, NULL, &err, "put", "j1", "x",
				      "--json", NULL), 2);
	h_buf_free(&err);
	ipc_close(c);
	h_stop(&d);
}
END_TEST

/* 1 when some line of top's output shows queue name with non-zero put and
 * get rates. */
static int top_shows_moving(const char *text, const char *name)
{
	char *line, *save = NULL, *copy = strdup(text);
	int seen = 0;

	for (line = strtok_r(copy, "\n", &save); line;
	     line = strtok_r(NULL, "\n", &save)) {
		char qname[64], kind[16];
		unsigned long long size;
		long long maxsize;
		double put, get;

		if (sscanf(line, "%63s %15s %llu %lld %lf %lf", qname, kind,
			   &size, &maxsize, &put, &get) == 6 &&
		    strcmp(qname, name) == 0 && put > 0 && get > 0)
			seen = 1;
	}
	free(copy);
	return seen;
}

/* top -n N refreshes N times showing rates from the counters; a bad
 * count or interval is a usage error. */
START_TEST(test_ipcctl_top)
{
	struct h_daemon d;
	struct h_buf out, err;
	struct feeder f;
	ipc_client *c;
	const char *p;
	pid_t pid;
	int blocks = 0;

	h_start(&d);
	c = h_connect(&d);
	h_create_queue(c, "j2", 0);
	f = (struct feeder){ d.sock, "j2", 3000 };
	pid = h_spawn(feeder_run, &f);
	ck_assert_int_eq(h_run_ipcctl(&d, NULL, 0, &out, &err, "top", "-n", "3",
				      "--interval", "0.3", NULL), 0);
	for (p = out.data; (p = strstr(p, "PUT_RATE")); p++)
		blocks++;
	ck_assert_int_eq(blocks, 3);
	ck_assert_ptr_nonnull(strstr(out.data, "GET_RATE"));
	/* The feeder's queue shows a non-zero rate in some refresh. */
	ck_assert_msg(top_shows_moving(out.data, "j2"), "top never showed j2 "
		      "moving:\n%s", out.data);
	h_buf_free(&out);
	h_buf_free(&err);
	ck_assert_int_eq(h_wait_child(pid, T_CHILD_MS), 0);
	ck_assert_int_eq(h_run_ipcctl(&d, NULL, 0, NULL, NULL, "top", "-n", "0", NULL), 2);
	ck_assert_int_eq(h_run_ipcctl(&d, NULL, 0, NULL, NULL, "top", "--interval",
				      "0", NULL), 2);
	ipc_close(c);
	h_stop(&d);
}
END_TEST

/* ---- --help against the man pages -------------------------------------------------- */

/* A man page's text with roff's "\-" turned into "-". */
static char *slurp_man(const char *path)
{
	char *page = slurp(path), *r, *w;

	for (r = w = page; *r; r++) {
		if (r[0] == '\\' && r[1] == '-')
			continue;
		*w++ = *r;
	}
	*w = '\0';
	return page;
}

/* Every "--option" word in text, checked against the man page at path. */
static void options_documented(const char *text, const char *path)
{
	char *page = slurp_man(path), word[64], roff[80];
	const char *p = text;
	size_t n;

	ck_assert_msg(page[0], "cannot read %s", path);
	while ((p = strstr(p, "--"))) {
		p += 2;
		n = strspn(p, "abcdefghijklmnopqrstuvwxyz-");
		if (n == 0 || n >= sizeof(word))
			continue;
		memcpy(word, p, n);
		word[n] = '\0';
		snprintf(roff, sizeof(roff), "--%s", word);
		ck_assert_msg(strstr(page, roff), "%s does not document --%s", path, word);
	}
	free(page);
}

/* The --help of ipcd and ipcctl and the man pages agree: every option in
 * --help is in the page, and every command of ipcctl too. */
START_TEST(test_help_man)
{
	const char *src = getenv("IPCD_SRCDIR");
	char path[512], *args[] = { "--help", NULL }, *argv[3];
	static const char *cmds[] = { "ls", "stat", "create", "rm", "put", "get",
				      "top", NULL };
	struct h_buf out;
	char *page;
	int i;

	if (!src || !*src)
		return;     /* only under make check */
	ck_assert_int_eq(run_ipcd(args, &out, NULL), 0);
	snprintf(path, sizeof(path), "%s/man/ipcd.8", src);
	options_documented(out.data, path);
	h_buf_free(&out);
	argv[0] = (char *)h_bin("IPCCTL_BIN");
	argv[1] = "--help";
	argv[2] = NULL;
	ck_assert_int_eq(h_run(argv, NULL, 0, &out, NULL, 15000), 0);
	snprintf(path, sizeof(path), "%s/man/ipcctl.1", src);
	options_documented(out.data, path);
	page = slurp_man(path);
	for (i = 0; cmds[i]; i++) {
		char want[32];

		snprintf(want, sizeof(want), ".B %s", cmds[i]);
		ck_assert_msg(strstr(page, want), "ipcctl.1 lacks command %s", cmds[i]);
	}
	free(page);
	h_buf_free(&out);
	snprintf(path, sizeof(path), "%s/man/ipcd.conf.5", src);
	page = slurp_man(path);
	args[0] = "--check-config";
	ck_assert_int_eq(run_ipcd(args, &out, NULL), 0);
	/* Every key --check-config prints is in ipcd.conf(5). */
	{
		char *line, *save = NULL;

		for (line = strtok_r(out.data, "\n", &save); line;
		     line = strtok_r(NULL, "\n", &save)) {
			char key[64], roff[80];

			ck_assert_int_eq(sscanf(line, "%63s", key), 1);
			snprintf(roff, sizeof(roff), ".B %s", key);
			ck_assert_msg(strstr(page, roff), "ipcd.conf.5 lacks key %s", key);
		}
	}
	free(page);
	h_buf_free(&out);
}
END_TEST

/* A FIFO in place of the config file: ipcd refuses to start with it, and a
 * SIGHUP that finds one keeps the running configuration instead of
 * blocking the loop (SIGTERM still stops ipcd at once). */
START_TEST(test_config_fifo)
{
	struct h_daemon d;
	char conf[128];
	const char *args[] = { "-c", conf, NULL };
	char *argv[] = { "-c", conf, "--check-config", NULL };
	struct h_buf err = { 0 };

	h_prepare(&d);
	snprintf(conf, sizeof(conf), "%s/ipcd.conf", d.dir);
	ck_assert_int_eq(mkfifo(conf, 0600), 0);
	ck_assert_int_eq(run_ipcd(argv, NULL, &err), 1);
	ck_assert_ptr_nonnull(strstr(err.data, "not a regular file"));
	h_buf_free(&err);
	ck_assert_int_eq(unlink(conf), 0);
	write_file(conf, "max-queues = 3\n");
	launch_args(&d, args);
	ck_assert_int_eq(unlink(conf), 0);
	ck_assert_int_eq(mkfifo(conf, 0600), 0);
	ck_assert_int_eq(kill(d.pid, SIGHUP), 0);
	log_wait(&d, "keeping the running configuration");
	ck_assert(log_has(&d, "not a regular file"));
	h_stop(&d);
}
END_TEST

/* An ipcd whose socket file was removed and taken by a second ipcd on the
 * same path leaves the second one's socket alone when it exits. */
START_TEST(test_socket_not_ours)
{
	struct h_daemon d1, d2;
	ipc_client *c;

	h_prepare(&d2);
	h_prepare(&d1);     /* on d2's path: d1's cleanup must not remove it */
	snprintf(d1.sock, sizeof(d1.sock), "%s", d2.sock);
	h_launch(&d1);
	ck_assert_int_eq(unlink(d1.sock), 0);
	h_launch(&d2);
	h_stop_opts(&d1, SIGTERM, 1);
	c = h_connect(&d2);
	h_create_queue(c, "still", 0);
	ipc_close(c);
	h_stop(&d2);
}
END_TEST

/* The whole suite; the uid tests only as root. */
static Suite *service_suite(void)
{
	Suite *s = suite_create("service");

	h_add_case(s, "activation", test_activation, 30);
	h_add_case(s, "activation_foreign", test_activation_foreign, 30);
	h_add_case(s, "notify", test_notify, 30);
	h_add_case(s, "socket_mode", test_socket_mode, 30);
	h_add_case(s, "limit_message", test_limit_message, 30);
	h_add_case(s, "limit_bytes", test_limit_bytes, 30);
	h_add_case(s, "limit_bytes_every_op", test_limit_bytes_every_op, 30);
	h_add_case(s, "denied_every_op", test_denied_every_op, 30);
	h_add_case(s, "limit_queues", test_limit_queues, 30);
	h_add_case(s, "limit_connections", test_limit_connections, 30);
	h_add_case(s, "emfile_no_spin", test_emfile_no_spin, 60);
	h_add_case(s, "busy_poll_sparse", test_busy_poll_sparse, 60);
	h_add_case(s, "idle_trim", test_idle_trim, 60);
	h_add_case(s, "limit_output", test_limit_output, 60);
	h_add_case(s, "partial_frames", test_partial_frames, 60);
	h_add_case(s, "shutdown_parked", test_shutdown_parked, 30);
	h_add_case(s, "reload", test_reload, 30);
	h_add_case(s, "reload_broken", test_reload_broken, 30);
	h_add_case(s, "reload_unchanged", test_reload_unchanged, 30);
	h_add_case(s, "reload_shrink", test_reload_shrink, 60);
	h_add_case(s, "config_file_errors", test_config_file_errors, 30);
	h_add_case(s, "config_flag_errors", test_config_flag_errors, 30);
	h_add_case(s, "check_config", test_check_config, 30);
	h_add_case(s, "config_sysconfdir", test_config_sysconfdir, 30);
	h_add_case(s, "config_fifo", test_config_fifo, 30);
	h_add_case(s, "socket_not_ours", test_socket_not_ours, 30);
	h_add_case(s, "ipcctl_json", test_ipcctl_json, 30);
	h_add_case(s, "ipcctl_top", test_ipcctl_top, 30);
	h_add_case(s, "help_man", test_help_man, 30);
	if (geteuid() == 0) {
		h_add_case(s, "socket_mode_uid", test_socket_mode_uid, 30);
		h_add_case(s, "permissions", test_permissions, 30);
		h_add_case(s, "permissions_ipcctl_denied", test_permissions_ipcctl_denied, 30);
		h_add_case(s, "permissions_ipcctl_shown", test_permissions_ipcctl_shown, 30);
		h_add_case(s, "permissions_pipe", test_permissions_pipe, 30);
	} else {
		fprintf(stderr, "SKIP: permission tests with other uids need root\n");
	}
	return s;
}

/* Run the suite, one forked process per test. */
int main(void)
{
	return h_run_suite(service_suite());
}
