/* SPDX-License-Identifier: MIT */
/*
 * check_admin.c: the operator's ops against the real ipcd: peek, purge,
 * chmod and chown, who may do each, and what each leaves alone (parked
 * requests, messages in flight). Each test starts its own daemon
 * (harness.h).
 */
#include <check.h>
#include <grp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "harness.h"
#include <ipcclient/ipcclient.h>

/* How long a child may take to finish its part (ms). */
#define T_CHILD_MS (h_wrapped() ? 120000 : 20000)

/* The uid and gid the permission tests' children switch to. */
#define T_STRANGER 4211

/* Assert msgs[0..n) are the texts want[0..n). */
static void msgs_expect(const struct ipc_msg *msgs, size_t n,
			const char *const *want, size_t nwant)
{
	size_t i;

	ck_assert_uint_eq(n, nwant);
	for (i = 0; i < n; i++) {
		ck_assert_uint_eq(msgs[i].len, strlen(want[i]));
		ck_assert_mem_eq(msgs[i].data, want[i], msgs[i].len);
	}
}

/* Peek shows the first ready messages, oldest first, and takes none. */
START_TEST(test_peek)
{
	static const char *const abc[] = { "a", "b", "c" };
	struct ipc_msg msgs[4];
	struct h_daemon d;
	ipc_client *c;
	uint64_t tag;
	size_t n = 9;
	void *data;
	size_t len;

	h_start(&d);
	c = h_connect(&d);
	h_create_queue(c, "q", 0);
	ck_assert_int_eq(ipc_queue_peek(c, "q", msgs, 4, &n), IPC_EEMPTY);
	ck_assert_uint_eq(n, 0);
	h_put_text(c, "q", "a");
	h_put_text(c, "q", "b");
	h_put_text(c, "q", "c");
	ck_assert_int_eq(ipc_queue_peek(c, "q", msgs, 2, &n), 0);
	msgs_expect(msgs, n, abc, 2);
	ck_assert_int_eq(ipc_queue_peek(c, "q", msgs, 4, &n), 0);
	msgs_expect(msgs, n, abc, 3);
	ck_assert_uint_eq(h_stat(c, "q").size, 3);
	ck_assert_uint_eq(h_stat(c, "q").gets, 0);
	/* A message in flight is not ready: peek skips it. */
	ck_assert_int_eq(ipc_queue_get_ack(c, "q", &data, &len, &tag, 0, 0), 0);
	ipc_free(data);
	ck_assert_int_eq(ipc_queue_peek(c, "q", msgs, 4, &n), 0);
	msgs_expect(msgs, n, abc + 1, 2);
	h_get_expect(c, "q", "b", 0);
	ck_assert_int_eq(ipc_queue_peek(c, "q", msgs, 0, &n), IPC_EINVAL);
	ck_assert_int_eq(ipc_queue_peek(c, "q", msgs, IPC_BATCH_MAX + 1, &n),
			 IPC_EINVAL);
	ck_assert_int_eq(ipc_queue_peek(c, "nope", msgs, 1, &n), IPC_ENOENT);
	ck_assert_int_eq(ipc_pipe_attach(c, "p", 0, IPC_PIPE_CREATE, NULL), 0);
	ck_assert_int_eq(ipc_queue_peek(c, "p", msgs, 1, &n), IPC_EWRONGTYPE);
	ipc_close(c);
	h_stop(&d);
}
END_TEST

/* Put "c" into q, waiting for room (the child of test_purge). */
static int child_put_c(void *arg)
{
	ipc_client *c;
	int rc;

	if (h_ipc_connect(arg, &c))
		return 120;
	rc = ipc_queue_put(c, "q", "c", 1, T_CHILD_MS);
	ipc_close(c);
	return rc == 0 ? 0 : 1;
}

/* Purge drops the ready messages only: the message in flight stays
 * ackable, a parked putter gets in, a parked getter stays parked. */
START_TEST(test_purge)
{
	struct h_daemon d;
	ipc_client *c;
	uint64_t tag, dropped = 9;
	pid_t child;
	void *data;
	size_t len;

	h_start(&d);
	c = h_connect(&d);
	h_create_queue(c, "q", 2);
	h_put_text(c, "q", "a");
	h_put_text(c, "q", "b");
	ck_assert_int_eq(ipc_queue_get_ack(c, "q", &data, &len, &tag, 0, 0), 0);
	ipc_free(data);
	child = h_spawn(child_put_c, d.sock);
	h_wait_parked(c, "q", 'p', 1);
	ck_assert_int_eq(ipc_queue_purge(c, "q", &dropped), 0);
	ck_assert_uint_eq(dropped, 1);
	ck_assert_int_eq(h_wait_child(child, T_CHILD_MS), 0);
	ck_assert_uint_eq(h_stat(c, "q").size, 1);
	ck_assert_uint_eq(h_stat(c, "q").inflight, 1);
	ck_assert_int_eq(ipc_queue_ack(c, "q", tag), 0);
	h_get_expect(c, "q", "c", 0);
	/* Empty: nothing to drop, and a parked getter waits on. */
	ck_assert_int_eq(ipc_queue_purge(c, "q", NULL), 0);
	ck_assert_int_eq(ipc_queue_purge(c, "q", &dropped), 0);
	ck_assert_uint_eq(dropped, 0);
	ck_assert_uint_eq(h_stat(c, "q").maxsize, 2);
	ck_assert_uint_eq(h_stat(c, "q").gets, 2);
	ck_assert_int_eq(ipc_queue_purge(c, "nope", NULL), IPC_ENOENT);
	ck_assert_int_eq(ipc_pipe_attach(c, "p", 0, IPC_PIPE_CREATE, NULL), 0);
	ck_assert_int_eq(ipc_queue_purge(c, "p", NULL), IPC_EWRONGTYPE);
	ipc_close(c);
	h_stop(&d);
}
END_TEST

/* Get "y" from q, waiting for it (the child of test_purge_getter). */
static int child_get_y(void *arg)
{
	ipc_client *c;
	void *data = NULL;
	size_t len = 0;
	int rc;

	if (h_ipc_connect(arg, &c))
		return 120;
	rc = ipc_queue_get(c, "q", &data, &len, T_CHILD_MS);
	rc = rc != 0 ? 1 : len != 1 || memcmp(data, "y", 1) ? 2 : 0;
	ipc_free(data);
	ipc_close(c);
	return rc;
}

/* A getter parked on an empty queue is still parked after a purge and
 * gets the next message. */
START_TEST(test_purge_getter)
{
	struct h_daemon d;
	ipc_client *c;
	pid_t child;

	h_start(&d);
	c = h_connect(&d);
	h_create_queue(c, "q", 0);
	child = h_spawn(child_get_y, d.sock);
	h_wait_parked(c, "q", 'g', 1);
	ck_assert_int_eq(ipc_queue_purge(c, "q", NULL), 0);
	ck_assert_uint_eq(h_stat(c, "q").getters, 1);
	h_put_text(c, "q", "y");
	ck_assert_int_eq(h_wait_child(child, T_CHILD_MS), 0);
	ipc_close(c);
	h_stop(&d);
}
END_TEST

/* Which phase of test_admin_perm a child runs. */
static int perm_phase;

/* As uid T_STRANGER, try the admin ops on "q" as perm_phase expects:
 * 1: mode 0600 root's, all refused; 2: mode 0644, peek only; 3: owned by
 * the stranger, all but chown. */
static int child_stranger(void *arg)
{
	struct ipc_msg msgs[2];
	uint64_t dropped = 0;
	ipc_client *c;
	size_t n;
	int want = perm_phase == 3 ? 0 : IPC_EPERM;

	if (setgroups(0, NULL) != 0 || setgid(T_STRANGER) != 0 ||
	    setuid(T_STRANGER) != 0)
		return 125;
	if (h_ipc_connect(arg, &c))
		return 120;
	if (ipc_queue_peek(c, "q", msgs, 2, &n) != (perm_phase == 1 ? IPC_EPERM : 0))
		return 1;
	if (ipc_queue_purge(c, "q", &dropped) != want || dropped != (want ? 0 : 1))
		return 2;
	if (want && !strstr(ipc_last_error(c), "may not purge 'q'"))
		return 3;
	if (ipc_chmod(c, "q", 0600) != want)
		return 4;
	if (ipc_chown(c, "q", T_STRANGER, (gid_t)-1) != IPC_EPERM)
		return 5;
	if (!strstr(ipc_last_error(c), "may not chown 'q'"))
		return 6;
	ipc_close(c);
	return 0;
}

/* Run child_stranger in phase and assert it saw what it expects. */
static void stranger_phase(const struct h_daemon *d, int phase)
{
	perm_phase = phase;
	ck_assert_int_eq(h_wait_child(h_spawn(child_stranger, (void *)d->sock),
				      T_CHILD_MS), 0);
}

/* Peek needs read permission; purge and chmod the owner or root; chown
 * root; chmod and chown take effect for the next request. */
START_TEST(test_admin_perm)
{
	static const char *const args[] = { "--socket-mode", "0666", NULL };
	struct h_opts o = { .args = args, .listen_fd = -1 };
	struct h_daemon d;
	struct ipc_info in;
	ipc_client *c;

	if (geteuid() != 0) {
		fprintf(stderr, "admin_perm: not root, permissions not tested\n");
		return;
	}
	h_prepare(&d);
	ck_assert_int_eq(chmod(d.dir, 0755), 0);
	h_launch_opts(&d, &o);
	c = h_connect(&d);
	ck_assert_int_eq(ipc_queue_open(c, "q", H_QOPTS_MODE(0, IPC_QUEUE_CREATE, 0600), NULL), 0);
	h_put_text(c, "q", "s");
	stranger_phase(&d, 1);
	ck_assert_int_eq(ipc_chmod(c, "q", 0644), 0);
	ck_assert_uint_eq(h_stat(c, "q").mode, 0644);
	stranger_phase(&d, 2);
	ck_assert_uint_eq(h_stat(c, "q").size, 1);
	ck_assert_int_eq(ipc_chown(c, "q", T_STRANGER, (gid_t)-1), 0);
	in = h_stat(c, "q");
	ck_assert_uint_eq(in.uid, T_STRANGER);
	ck_assert_uint_eq(in.gid, getegid());
	stranger_phase(&d, 3);
	in = h_stat(c, "q");
	ck_assert_uint_eq(in.size, 0);
	ck_assert_uint_eq(in.mode, 0600);
	ck_assert_int_eq(ipc_chown(c, "q", (uid_t)-1, 77), 0);
	in = h_stat(c, "q");
	ck_assert_uint_eq(in.uid, T_STRANGER);
	ck_assert_uint_eq(in.gid, 77);
	ck_assert_int_eq(ipc_chmod(c, "q", 01000), IPC_EINVAL);
	ck_assert_int_eq(ipc_chmod(c, "nope", 0600), IPC_ENOENT);
	ipc_close(c);
	h_stop(&d);
}
END_TEST

/* chmod and chown work on a pipe too. */
START_TEST(test_admin_pipe)
{
	struct h_daemon d;
	ipc_client *c;

	h_start(&d);
	c = h_connect(&d);
	ck_assert_int_eq(ipc_pipe_attach(c, "p", 0, IPC_PIPE_CREATE, NULL), 0);
	ck_assert_int_eq(ipc_chmod(c, "p", 0640), 0);
	ck_assert_uint_eq(h_stat(c, "p").mode, 0640);
	if (geteuid() == 0) {
		ck_assert_int_eq(ipc_chown(c, "p", 12, 34), 0);
		ck_assert_uint_eq(h_stat(c, "p").uid, 12);
		ck_assert_uint_eq(h_stat(c, "p").gid, 34);
	} else {
		ck_assert_int_eq(ipc_chown(c, "p", 12, 34), IPC_EPERM);
	}
	ipc_close(c);
	h_stop(&d);
}
END_TEST

/* Run ipcctl with args (NULL-terminated) on d; assert its exit status
 * and, when want is not NULL, its exact standard output. */
#define CTL_EXPECT(d, st, want, ...) do { \
	struct h_buf out_ = { 0 }; \
	ck_assert_int_eq(h_run_ipcctl((d), NULL, 0, &out_, NULL, __VA_ARGS__, \
				      NULL), (st)); \
	if ((want) != NULL) { \
		ck_assert_uint_eq(out_.len, strlen(want)); \
		ck_assert_mem_eq(out_.data, (want), out_.len); \
	} \
	h_buf_free(&out_); \
} while (0)

/* ipcctl peek, purge, chmod and chown drive the ops. */
START_TEST(test_admin_ipcctl)
{
	struct h_daemon d;
	struct ipc_info in;
	ipc_client *c;

	h_start(&d);
	c = h_connect(&d);
	h_create_queue(c, "q", 0);
	CTL_EXPECT(&d, 3, "", "peek", "q");
	h_put_text(c, "q", "one");
	h_put_text(c, "q", "two");
	CTL_EXPECT(&d, 0, "one\n", "peek", "q");
	CTL_EXPECT(&d, 0, "one\ntwo\n", "peek", "q", "--count", "5");
	CTL_EXPECT(&d, 0, "2\n", "purge", "q");
	ck_assert_uint_eq(h_stat(c, "q").size, 0);
	CTL_EXPECT(&d, 0, "", "chmod", "q", "0604");
	ck_assert_uint_eq(h_stat(c, "q").mode, 0604);
	CTL_EXPECT(&d, 2, "", "chmod", "q", "0800");
	CTL_EXPECT(&d, 1, "", "purge", "nope");
	CTL_EXPECT(&d, 2, "", "chown", "q", "no-such-user-here");
	if (geteuid() == 0) {
		CTL_EXPECT(&d, 0, "", "chown", "q", "12:34");
		in = h_stat(c, "q");
		ck_assert_uint_eq(in.uid, 12);
		ck_assert_uint_eq(in.gid, 34);
		CTL_EXPECT(&d, 0, "", "chown", "q", "root");
		in = h_stat(c, "q");
		ck_assert_uint_eq(in.uid, 0);
		ck_assert_uint_eq(in.gid, 34);
		CTL_EXPECT(&d, 0, "", "chown", "q", ":0");
		ck_assert_uint_eq(h_stat(c, "q").gid, 0);
	}
	ipc_close(c);
	h_stop(&d);
}
END_TEST

/* The admin suite. */
static Suite *admin_suite(void)
{
	Suite *s = suite_create("admin");

	h_add_case(s, "peek", test_peek, 30);
	h_add_case(s, "purge", test_purge, 30);
	h_add_case(s, "purge_getter", test_purge_getter, 30);
	h_add_case(s, "perm", test_admin_perm, 30);
	h_add_case(s, "pipe", test_admin_pipe, 30);
	h_add_case(s, "ipcctl", test_admin_ipcctl, 30);
	return s;
}

/* Run the suite, one forked process per test. */
int main(void)
{
	return h_run_suite(admin_suite());
}
