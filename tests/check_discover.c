/* SPDX-License-Identifier: MIT */
/*
 * check_discover.c: which daemon a client reaches with no socket given.
 * $IPCD_SOCKET is used as given; otherwise $XDG_RUNTIME_DIR/ipcd.sock and
 * then the system path, the first that accepts a connection; the error
 * names every path tried. The system path is IPCD_TEST_SYSTEM_SOCKET here
 * (the tests cannot own /run/ipcd). And scripts/quickstart.sh starts its
 * daemon where a bare `ipcctl ls` finds it, once.
 */
#include <check.h>
#include <errno.h>
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
#include <ipcclient/ipcclient.h>

/* How long a child may take (ms). */
#define T_CHILD_MS (h_wrapped() ? 120000 : 20000)

/* The environment of a logged-in user whose runtime directory is xdg (NULL:
 * none) and whose system daemon listens on sys. */
static void env_user(const char *xdg, const char *sys)
{
	unsetenv("IPCD_SOCKET");
	if (xdg)
		setenv("XDG_RUNTIME_DIR", xdg, 1);
	else
		unsetenv("XDG_RUNTIME_DIR");
	setenv("IPCD_TEST_SYSTEM_SOCKET", sys, 1);
}

/* Connect with no path; the handle, asserting success. */
static ipc_client *connect_default(void)
{
	ipc_client *c = NULL;
	int rc = ipc_connect(NULL, &c);

	ck_assert_msg(rc == 0, "ipc_connect(NULL): %d (%s)", rc,
		      ipc_last_error(NULL));
	return c;
}

/* Run `ipcctl ARG` with no -s; its exit status, stdout and stderr. */
static int run_bare_ipcctl(const char *arg, struct h_buf *out, struct h_buf *err)
{
	char *argv[] = { (char *)h_bin("IPCCTL_BIN"), (char *)arg, NULL };

	return h_run(argv, NULL, 0, out, err, T_CHILD_MS);
}

/* Leave a socket file at path that nobody listens on (a daemon killed
 * with SIGKILL leaves one). */
static void make_stale_socket(const char *path)
{
	struct sockaddr_un sa = { .sun_family = AF_UNIX };
	int fd = socket(AF_UNIX, SOCK_STREAM, 0);

	ck_assert_int_ge(fd, 0);
	snprintf(sa.sun_path, sizeof(sa.sun_path), "%s", path);
	ck_assert_int_eq(bind(fd, (struct sockaddr *)&sa, sizeof(sa)), 0);
	close(fd);
}

/* A logged-in user (XDG_RUNTIME_DIR set, no daemon of their own) reaches
 * the system daemon with no environment change: library and ipcctl. */
START_TEST(test_user_reaches_system)
{
	struct h_daemon sys, user;
	struct h_buf out = { 0 };
	ipc_client *c;

	h_start(&sys);
	h_prepare(&user);
	env_user(user.dir, sys.sock);
	c = connect_default();
	h_create_queue(c, "sysq", 0);
	ipc_close(c);
	ck_assert_int_eq(run_bare_ipcctl("ls", &out, NULL), 0);
	ck_assert_ptr_nonnull(strstr(out.data, "sysq"));
	h_buf_free(&out);
	/* A stale socket of an exited user daemon is passed over too. */
	make_stale_socket(user.sock);
	c = connect_default();
	h_stat(c, "sysq");
	ipc_close(c);
	unlink(user.sock);
	rmdir(user.dir);
	h_stop(&sys);
}
END_TEST

/* With both running, the user's own daemon wins. */
START_TEST(test_user_daemon_first)
{
	struct h_daemon sys, user;
	ipc_client *c;

	h_start(&sys);
	h_start(&user);
	c = h_connect(&user);
	h_create_queue(c, "mine", 0);
	ipc_close(c);
	env_user(user.dir, sys.sock);
	c = connect_default();
	h_stat(c, "mine");
	ipc_close(c);
	h_stop(&user);
	h_stop(&sys);
}
END_TEST

/* No daemon anywhere: IPC_ECONNECT, and the text names both paths. */
START_TEST(test_none_names_every_path)
{
	struct h_daemon sys, user;
	struct h_buf err = { 0 };
	ipc_client *c = NULL;

	h_prepare(&sys);
	h_prepare(&user);
	env_user(user.dir, sys.sock);
	ck_assert_int_eq(ipc_connect(NULL, &c), IPC_ECONNECT);
	ck_assert_ptr_null(c);
	ck_assert_int_eq(errno, ENOENT);
	ck_assert_ptr_nonnull(strstr(ipc_last_error(NULL), user.sock));
	ck_assert_ptr_nonnull(strstr(ipc_last_error(NULL), sys.sock));
	ck_assert_int_eq(run_bare_ipcctl("ls", NULL, &err), 1);
	ck_assert_msg(strstr(err.data, user.sock) && strstr(err.data, sys.sock),
		      "ipcctl said: %s", err.data);
	h_buf_free(&err);
	/* Without XDG_RUNTIME_DIR only the system path is tried. */
	env_user(NULL, sys.sock);
	ck_assert_int_eq(ipc_connect(NULL, &c), IPC_ECONNECT);
	ck_assert_ptr_null(strstr(ipc_last_error(NULL), user.sock));
	ck_assert_ptr_nonnull(strstr(ipc_last_error(NULL), sys.sock));
	rmdir(user.dir);
	rmdir(sys.dir);
}
END_TEST

/* $IPCD_SOCKET and an explicit path are used as given: no fallback. */
START_TEST(test_env_and_path_as_given)
{
	struct h_daemon sys, user;
	char missing[160];
	ipc_client *c = NULL;

	h_start(&sys);
	h_prepare(&user);
	env_user(user.dir, sys.sock);
	snprintf(missing, sizeof(missing), "%s/nothing.sock", user.dir);
	setenv("IPCD_SOCKET", missing, 1);
	ck_assert_int_eq(ipc_connect(NULL, &c), IPC_ECONNECT);
	ck_assert_ptr_nonnull(strstr(ipc_last_error(NULL), missing));
	ck_assert_ptr_null(strstr(ipc_last_error(NULL), sys.sock));
	unsetenv("IPCD_SOCKET");
	ck_assert_int_eq(ipc_connect(missing, &c), IPC_ECONNECT);
	ck_assert_ptr_nonnull(strstr(ipc_last_error(NULL), missing));
	ck_assert_ptr_null(strstr(ipc_last_error(NULL), sys.sock));
	rmdir(user.dir);
	h_stop(&sys);
}
END_TEST

/* Write DIR/NAME: a script that runs the binary named by env. */
static void write_wrapper(const char *dir, const char *name, const char *env)
{
	char path[256];
	FILE *f;

	snprintf(path, sizeof(path), "%s/%s", dir, name);
	f = fopen(path, "w");
	ck_assert_ptr_nonnull(f);
	fprintf(f, "#!/bin/sh\nexec '%s' \"$@\"\n", h_bin(env));
	ck_assert_int_eq(fclose(f), 0);
	ck_assert_int_eq(chmod(path, 0755), 0);
}

/* Run scripts/quickstart.sh on the binaries wrapped in dir; its status,
 * with its stdout in out. */
static int run_quickstart(const char *dir, struct h_buf *out)
{
	char script[512];
	char *argv[] = { "/bin/sh", script, NULL };

	snprintf(script, sizeof(script), "%s/scripts/quickstart.sh",
		 h_bin("IPCD_SRCDIR"));
	setenv("QUICKSTART_BUILT", dir, 1);
	return h_run(argv, NULL, 0, out, NULL, T_CHILD_MS);
}

/* Size of the file dir/name, -1 when absent. */
static long file_size(const char *dir, const char *name)
{
	char path[256];
	struct stat st;

	snprintf(path, sizeof(path), "%s/%s", dir, name);
	return stat(path, &st) == 0 ? (long)st.st_size : -1;
}

/* The pid in dir/ipcd.pid, 0 when none. */
static pid_t read_pid(const char *dir)
{
	char path[256];
	long pid = 0;
	FILE *f;

	snprintf(path, sizeof(path), "%s/ipcd.pid", dir);
	f = fopen(path, "r");
	if (f) {
		if (fscanf(f, "%ld", &pid) != 1)
			pid = 0;
		fclose(f);
	}
	return (pid_t)pid;
}

/* Stop the daemon the quickstart left (our child: we are its subreaper)
 * and remove dir; its exit status. */
static int stop_quickstart(const char *dir, pid_t pid)
{
	char *argv[] = { "/bin/rm", "-rf", (char *)dir, NULL };
	int st = -1;

	if (pid > 0 && kill(pid, SIGTERM) == 0)
		waitpid(pid, &st, 0);
	h_run(argv, NULL, 0, NULL, NULL, T_CHILD_MS);
	return st;
}

/* Run the quickstart twice, and a bare ipcctl ls; results in r[]. */
static void quickstart_twice(const char *dir, int r[3], long sizes[2],
			     struct h_buf out[3])
{
	r[0] = run_quickstart(dir, &out[0]);
	sizes[0] = file_size(dir, "ipcd.log");
	r[1] = run_quickstart(dir, &out[1]);
	sizes[1] = file_size(dir, "ipcd.log");
	unsetenv("QUICKSTART_BUILT");
	r[2] = run_bare_ipcctl("ls", &out[2], NULL);
}

/* Check one quickstart round: started once, found by a bare ipcctl. */
static void quickstart_check(const char *xdg, const char *sys)
{
	struct h_daemon work;
	struct h_buf out[3] = { { 0 } };
	long sizes[2];
	int r[3], st, i;
	pid_t pid;

	ck_assert_int_eq(prctl(PR_SET_CHILD_SUBREAPER, 1), 0);
	h_prepare(&work);
	write_wrapper(work.dir, "ipcd", "IPCD_BIN");
	write_wrapper(work.dir, "ipcctl", "IPCCTL_BIN");
	env_user(xdg, sys);
	quickstart_twice(work.dir, r, sizes, out);
	pid = read_pid(work.dir);
	st = stop_quickstart(work.dir, pid);
	ck_assert_msg(r[0] == 0 && strstr(out[0].data, "ipcd started"),
		      "first run %d: %s", r[0], out[0].data);
	ck_assert_msg(r[1] == 0 && strstr(out[1].data, "already running (pid"),
		      "second run %d: %s", r[1], out[1].data);
	ck_assert_ptr_null(strstr(out[1].data, "ipcd started"));
	ck_assert_int_gt(sizes[0], 0);
	ck_assert_int_ge(sizes[1], sizes[0]);
	ck_assert_msg(r[2] == 0 && strstr(out[2].data, "demo"),
		      "bare ipcctl ls %d: %s", r[2], out[2].data);
	ck_assert_msg(WIFEXITED(st) && WEXITSTATUS(st) == 0, "ipcd status %d", st);
	for (i = 0; i < 3; i++)
		h_buf_free(&out[i]);
}

/* The quickstart of a logged-in user: $XDG_RUNTIME_DIR/ipcd.sock. */
START_TEST(test_quickstart_xdg)
{
	struct h_daemon run;

	h_prepare(&run);
	quickstart_check(run.dir, "/nonexistent/ipcd-test/ipcd.sock");
	unlink(run.sock);
	rmdir(run.dir);
}
END_TEST

/* The quickstart of root with no XDG_RUNTIME_DIR: the system path
 * (another user gets /tmp and is told to export IPCD_SOCKET). */
START_TEST(test_quickstart_system)
{
	struct h_daemon sys;

	h_prepare(&sys);
	quickstart_check(NULL, sys.sock);
	unlink(sys.sock);
	rmdir(sys.dir);
}
END_TEST

/* The whole suite. */
static Suite *discover_suite(void)
{
	Suite *s = suite_create("discover");

	h_add_case(s, "user_reaches_system", test_user_reaches_system, 30);
	h_add_case(s, "user_daemon_first", test_user_daemon_first, 30);
	h_add_case(s, "none_names_every_path", test_none_names_every_path, 30);
	h_add_case(s, "env_and_path_as_given", test_env_and_path_as_given, 30);
	h_add_case(s, "quickstart_xdg", test_quickstart_xdg, 60);
	if (geteuid() == 0)
		h_add_case(s, "quickstart_system", test_quickstart_system, 60);
	else
		fprintf(stderr, "SKIP: quickstart on the system path needs root\n");
	return s;
}

/* Run the suite, one forked process per test. */
int main(void)
{
	return h_run_suite(discover_suite());
}
