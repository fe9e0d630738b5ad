/* SPDX-License-Identifier: MIT */
/*
 * check_ack.c: at-least-once delivery against the real ipcd: get with
 * acknowledgement, ack, redelivery after a disconnect, a SIGKILL or an
 * expired lease, in-flight messages counting toward maxsize, ipcctl
 * get --ack and stat. Each test starts its own daemon (harness.h).
 */
#include <check.h>
#include <errno.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>
#include <grp.h>
#include <sys/stat.h>

#include "harness.h"
#include <ipcclient/ipcclient.h>

/* How long a child may take to finish its part (ms). */
#define T_CHILD_MS (h_wrapped() ? 120000 : 20000)

/* Get one message with ack and assert its text; returns its tag. */
static uint64_t geta_expect(ipc_client *c, const char *q, const char *want,
			    int timeout, int lease)
{
	void *data = NULL;
	size_t len = 0;
	uint64_t tag = 0;
	int rc = ipc_queue_get_ack(c, q, &data, &len, &tag, timeout, lease);

	ck_assert_msg(rc == 0, "get_ack %s: %d (%s)", q, rc, ipc_last_error(c));
	ck_assert_uint_eq(len, strlen(want));
	ck_assert_mem_eq(data, want, len);
	ipc_free(data);
	return tag;
}

/* Poll until q has no message in flight; asserts it happens in time. */
static void wait_inflight(ipc_client *c, const char *q, unsigned long long want)
{
	int64_t deadline = h_now_ms() + T_CHILD_MS;

	while (h_stat(c, q).inflight != want) {
		ck_assert_msg(h_now_ms() < deadline, "%s: inflight stays at %llu, want %llu",
			      q, h_stat(c, q).inflight, want);
		usleep(5000);
	}
}

/* Start ipcd on d with clients *c and *other, put "a" and "b" on "q" and
 * get both with ack on c: their tags in t[0], t[1] (distinct); the queue
 * is then empty with both in flight. */
static void ack_two(struct h_daemon *d, ipc_client **c, ipc_client **other,
		    uint64_t t[2])
{
	struct ipc_info in;

	h_start(d);
	*c = h_connect(d);
	*other = h_connect(d);
	h_create_queue(*c, "q", 0);
	h_put_text(*c, "q", "a");
	h_put_text(*c, "q", "b");
	t[0] = geta_expect(*c, "q", "a", 0, 0);
	t[1] = geta_expect(*c, "q", "b", 0, 0);
	ck_assert_uint_ne(t[0], t[1]);
	in = h_stat(*c, "q");
	ck_assert_uint_eq(in.size, 0);
	ck_assert_uint_eq(in.inflight, 2);
	ck_assert_uint_eq(in.gets, 2);
}

/* get with ack takes messages in flight; on an empty queue it says
 * Empty; an ack settles one (no requeue), and later tags are higher. */
START_TEST(test_ack_basic)
{
	struct h_daemon d;
	ipc_client *c, *other;
	struct ipc_info in;
	uint64_t t[2], t3;
	void *data;
	size_t len;

	ack_two(&d, &c, &other, t);
	/* Empty now: get_nowait with ack says Empty. */
	ck_assert_int_eq(ipc_queue_get_ack(c, "q", &data, &len, &t3, 0, 0), IPC_EEMPTY);
	ck_assert_int_eq(ipc_queue_ack(c, "q", t[1]), 0);
	in = h_stat(c, "q");
	ck_assert_uint_eq(in.inflight, 1);
	h_put_text(other, "q", "c");
	t3 = geta_expect(c, "q", "c", 0, 0);
	ck_assert_uint_gt(t3, t[1]);
	ck_assert_int_eq(ipc_queue_ack(c, "q", t3), 0);
	in = h_stat(c, "q");
	ck_assert_uint_eq(in.inflight, 1);
	ck_assert_uint_eq(in.requeued, 0);
	ipc_close(other);
	ipc_close(c);
	h_stop(&d);
}
END_TEST

/* Every ack error: only the holder may ack, only once, only a tag it
 * got; a missing queue, a bad name, a bad lease; the connection survives
 * every refusal. */
START_TEST(test_ack_errors)
{
	struct h_daemon d;
	ipc_client *c, *other;
	struct ipc_info in;
	uint64_t t[2], t3;
	void *data;
	size_t len;

	ack_two(&d, &c, &other, t);
	ck_assert_int_eq(ipc_queue_ack(other, "q", t[1]), IPC_ENOTHELD);
	ck_assert_int_eq(ipc_queue_ack(c, "q", t[1]), 0);
	ck_assert_int_eq(ipc_queue_ack(c, "q", t[1]), IPC_ENOTHELD);
	ck_assert_int_eq(ipc_queue_ack(c, "q", t[1] + 1000), IPC_ENOTHELD);
	ck_assert_int_eq(ipc_queue_ack(c, "nosuch", t[1]), IPC_ENOENT);
	ck_assert_int_eq(ipc_queue_ack(c, "bad name", t[1]), IPC_ENAME);
	ck_assert_int_eq(ipc_queue_get_ack(c, "q", &data, &len, &t3, 0, -1), IPC_EINVAL);
	ck_assert_int_eq(ipc_queue_get_ack(c, "nosuch", &data, &len, &t3, 0, 0), IPC_ENOENT);
	in = h_stat(c, "q");
	ck_assert_uint_eq(in.inflight, 1);
	/* The connection survived every refusal. */
	h_put_text(other, "q", "c");
	t3 = geta_expect(c, "q", "c", 0, 0);
	ck_assert_int_eq(ipc_queue_ack(c, "q", t3), 0);
	ipc_close(other);
	ipc_close(c);
	h_stop(&d);
}
END_TEST

/* A consumer that closes without acking gives its messages back, in order,
 * ahead of newer ones. */
START_TEST(test_ack_disconnect)
{
	struct h_daemon d;
	ipc_client *c, *p;
	struct ipc_info in;

	h_start(&d);
	p = h_connect(&d);
	c = h_connect(&d);
	h_create_queue(p, "q", 0);
	h_put_text(p, "q", "1");
	h_put_text(p, "q", "2");
	h_put_text(p, "q", "3");
	geta_expect(c, "q", "1", 0, 0);
	geta_expect(c, "q", "2", 0, 0);
	h_put_text(p, "q", "4");
	ck_assert_uint_eq(h_stat(p, "q").inflight, 2);
	ipc_close(c);
	wait_inflight(p, "q", 0);
	in = h_stat(p, "q");
	ck_assert_uint_eq(in.size, 4);
	ck_assert_uint_eq(in.requeued, 2);
	h_get_expect(p, "q", "1", 0);
	h_get_expect(p, "q", "2", 0);
	h_get_expect(p, "q", "3", 0);
	h_get_expect(p, "q", "4", 0);
	ipc_close(p);
	h_stop(&d);
}
END_TEST

/* Child: take one message with ack, say so on fd, then wait to be killed. */
static int child_geta_and_hang(void *arg)
{
	const char **a = arg;
	ipc_client *c;
	void *data;
	size_t len;
	uint64_t tag;
	int fd = atoi(a[2]);

	if (h_ipc_connect(a[0], &c))
		return 120;
	if (ipc_queue_get_ack(c, a[1], &data, &len, &tag, 10000, 0))
		return 121;
	if (write(fd, data, len) != (ssize_t)len)
		return 122;
	for (;;)
		pause();
}

/* A consumer SIGKILLed while holding a message: it is redelivered, first. */
START_TEST(test_ack_kill)
{
	struct h_daemon d;
	ipc_client *p;
	char fdtext[16], got[8] = "";
	const char *args[3];
	int fds[2];
	pid_t pid;

	h_start(&d);
	p = h_connect(&d);
	h_create_queue(p, "k", 0);
	ck_assert_int_eq(pipe(fds), 0);
	snprintf(fdtext, sizeof(fdtext), "%d", fds[1]);
	args[0] = d.sock;
	args[1] = "k";
	args[2] = fdtext;
	/* The child parks first; the put goes to it in flight. */
	pid = h_spawn(child_geta_and_hang, args);
	h_wait_parked(p, "k", 'g', 1);
	h_put_text(p, "k", "m1");
	h_put_text(p, "k", "m2");
	ck_assert_int_eq(read(fds[0], got, 2), 2);
	ck_assert_str_eq(got, "m1");
	ck_assert_uint_eq(h_stat(p, "k").inflight, 1);
	ck_assert_uint_eq(h_stat(p, "k").size, 1);
	kill(pid, SIGKILL);
	ck_assert_int_eq(h_wait_child(pid, T_CHILD_MS), 128 + SIGKILL);
	wait_inflight(p, "k", 0);
	ck_assert_uint_eq(h_stat(p, "k").requeued, 1);
	h_get_expect(p, "k", "m1", 0);
	h_get_expect(p, "k", "m2", 0);
	close(fds[0]);
	close(fds[1]);
	ipc_close(p);
	h_stop(&d);
}
END_TEST

/* Child: a plain get of up to 10 s; the message is written to fd. */
static int child_get(void *arg)
{
	const char **a = arg;
	ipc_client *c;
	void *data;
	size_t len;
	int rc;

	if (h_ipc_connect(a[0], &c))
		return 120;
	rc = ipc_queue_get(c, a[1], &data, &len, 10000);
	if (rc == 0 && write(atoi(a[2]), data, len) != (ssize_t)len)
		rc = 119;
	ipc_close(c);
	return rc;
}

/* A consumer that closes while getters wait hands its messages to them in
 * order: the longest-waiting getter gets the oldest message. */
START_TEST(test_ack_disconnect_to_getters)
{
	struct h_daemon d;
	ipc_client *c, *p;
	char fdtext[2][16], got[2][8] = { "", "" };
	const char *args[2][3];
	int fds[2][2];
	pid_t pid[2];

	h_start(&d);
	p = h_connect(&d);
	c = h_connect(&d);
	h_create_queue(p, "g", 0);
	h_put_text(p, "g", "1");
	h_put_text(p, "g", "2");
	geta_expect(c, "g", "1", 0, 0);
	geta_expect(c, "g", "2", 0, 0);
	for (int i = 0; i < 2; i++) {
		ck_assert_int_eq(pipe(fds[i]), 0);
		snprintf(fdtext[i], sizeof(fdtext[i]), "%d", fds[i][1]);
		args[i][0] = d.sock;
		args[i][1] = "g";
		args[i][2] = fdtext[i];
		pid[i] = h_spawn(child_get, args[i]);
		h_wait_parked(p, "g", 'g', (unsigned)i + 1);
	}
	/* The children inherited c's socket: shut it down, not just close. */
	shutdown(ipc_fd(c), SHUT_RDWR);
	ipc_close(c);
	for (int i = 0; i < 2; i++) {
		ck_assert_int_eq(h_wait_child(pid[i], T_CHILD_MS), 0);
		ck_assert_int_eq(read(fds[i][0], got[i], 1), 1);
		close(fds[i][0]);
		close(fds[i][1]);
	}
	ck_assert_str_eq(got[0], "1");
	ck_assert_str_eq(got[1], "2");
	ck_assert_uint_eq(h_stat(p, "g").requeued, 2);
	ck_assert_uint_eq(h_stat(p, "g").size, 0);
	ipc_close(p);
	h_stop(&d);
}
END_TEST

/* An expired lease puts the message back: to a parked getter first. */
START_TEST(test_ack_lease)
{
	struct h_daemon d;
	ipc_client *c, *p;
	char fdtext[16], got[8] = "";
	const char *args[3];
	uint64_t tag;
	int64_t t0, w0, el;
	int fds[2];
	pid_t pid;

	h_start(&d);
	c = h_connect(&d);
	p = h_connect(&d);
	h_create_queue(p, "l", 0);
	h_put_text(p, "l", "x");
	/* Lease of 300 ms, nobody waiting: back at the head. */
	w0 = h_waits_us(d.pid);
	t0 = h_now_ms();
	tag = geta_expect(c, "l", "x", 0, 300);
	h_put_text(p, "l", "y");
	wait_inflight(p, "l", 0);
	el = h_now_ms() - t0;
	ck_assert_msg(el >= 290, "lease ran out after %lld ms", (long long)el);
	el = h_own_ms(t0, w0, d.pid, 0);   /* less the CPU waits (load) */
	ck_assert_msg(h_wrapped() || el < 3000, "lease took %lld ms", (long long)el);
	ck_assert_int_eq(ipc_queue_ack(c, "l", tag), IPC_ENOTHELD);
	ck_assert_uint_eq(h_stat(p, "l").requeued, 1);
	/* A lease acked in time is done for good. */
	tag = geta_expect(c, "l", "x", 0, 60000);
	ck_assert_int_eq(ipc_queue_ack(c, "l", tag), 0);
	h_get_expect(p, "l", "y", 0);
	/* A parked getter takes the expired message directly. */
	h_put_text(p, "l", "z");
	geta_expect(c, "l", "z", 0, 200);
	ck_assert_int_eq(pipe(fds), 0);
	snprintf(fdtext, sizeof(fdtext), "%d", fds[1]);
	args[0] = d.sock;
	args[1] = "l";
	args[2] = fdtext;
	pid = h_spawn(child_get, args);
	ck_assert_int_eq(h_wait_child(pid, T_CHILD_MS), 0);
	ck_assert_int_eq(read(fds[0], got, 1), 1);
	ck_assert_str_eq(got, "z");
	ck_assert_uint_eq(h_stat(p, "l").inflight, 0);
	ck_assert_uint_eq(h_stat(p, "l").size, 0);
	ck_assert_uint_eq(h_stat(p, "l").requeued, 2);
	close(fds[0]);
	close(fds[1]);
	ipc_close(p);
	ipc_close(c);
	h_stop(&d);
}
END_TEST

/* In-flight messages take room: maxsize counts them until acked. */
START_TEST(test_ack_maxsize)
{
	struct h_daemon d;
	ipc_client *c;
	struct ipc_info in;
	uint64_t tag;

	h_start(&d);
	c = h_connect(&d);
	h_create_queue(c, "m", 2);
	h_put_text(c, "m", "a");
	h_put_text(c, "m", "b");
	tag = geta_expect(c, "m", "a", 0, 0);
	ck_assert_int_eq(ipc_queue_put(c, "m", "c", 1, 0), IPC_EFULL);
	ck_assert_int_eq(ipc_queue_put(c, "m", "c", 1, 100), IPC_EFULL);
	in = h_stat(c, "m");
	ck_assert_uint_eq(in.size, 1);
	ck_assert_uint_eq(in.inflight, 1);
	ck_assert_int_eq(ipc_queue_ack(c, "m", tag), 0);
	h_put_text(c, "m", "c");
	h_get_expect(c, "m", "b", 0);
	h_get_expect(c, "m", "c", 0);
	ipc_close(c);
	h_stop(&d);
}
END_TEST

/* Deleting a queue drops its in-flight messages; tags stay unique. */
START_TEST(test_ack_delete)
{
	struct h_daemon d;
	ipc_client *c, *p;
	uint64_t t1, t2;

	h_start(&d);
	c = h_connect(&d);
	p = h_connect(&d);
	h_create_queue(p, "del", 0);
	h_put_text(p, "del", "a");
	t1 = geta_expect(c, "del", "a", 0, 5000);
	ck_assert_int_eq(ipc_delete(p, "del"), 0);
	ck_assert_int_eq(ipc_queue_ack(c, "del", t1), IPC_ENOENT);
	h_create_queue(p, "del", 0);
	h_put_text(p, "del", "b");
	t2 = geta_expect(c, "del", "b", 0, 0);
	ck_assert_uint_ne(t1, t2);
	ck_assert_int_eq(ipc_queue_ack(c, "del", t1), IPC_ENOTHELD);
	ck_assert_uint_eq(h_stat(p, "del").inflight, 1);
	ck_assert_int_eq(ipc_queue_ack(c, "del", t2), 0);
	/* Stopping the daemon with a message in flight is clean too. */
	h_put_text(p, "del", "c");
	geta_expect(c, "del", "c", 0, 0);
	ipc_close(p);
	ipc_close(c);
	h_stop(&d);
}
END_TEST

/* ipcctl get --ack acks only what it wrote; stat shows inflight. */
START_TEST(test_ack_ipcctl)
{
	struct h_daemon d;
	struct h_buf out = { 0 }, err = { 0 };
	char cmd[512];
	char *sh[] = { "/bin/sh", "-c", cmd, NULL };
	ipc_client *c;
	uint64_t tag;
	int st;

	h_start(&d);
	c = h_connect(&d);
	h_create_queue(c, "cq", 0);
	h_put_text(c, "cq", "one");
	h_put_text(c, "cq", "two");
	st = h_run_ipcctl(&d, NULL, 0, &out, NULL, "get", "cq", "--ack", "--nowait", NULL);
	ck_assert_int_eq(st, 0);
	ck_assert_uint_eq(out.len, 3);
	ck_assert_mem_eq(out.data, "one", 3);
	h_buf_free(&out);
	ck_assert_uint_eq(h_stat(c, "cq").inflight, 0);
	ck_assert_uint_eq(h_stat(c, "cq").size, 1);
	/* Writing fails (stdout is /dev/full): not acked, still at the head. */
	snprintf(cmd, sizeof(cmd), "exec '%s' -s '%s' get cq --ack > /dev/full",
		 h_bin("IPCCTL_BIN"), d.sock);
	st = h_run(sh, NULL, 0, NULL, &err, 10000);
	ck_assert_int_eq(st, 1);
	ck_assert_msg(strstr(err.data, "not acked") != NULL, "stderr: %s", err.data);
	h_buf_free(&err);
	wait_inflight(c, "cq", 0);
	ck_assert_uint_eq(h_stat(c, "cq").size, 1);
	ck_assert_uint_eq(h_stat(c, "cq").requeued, 1);
	/* stat shows the in-flight count. */
	tag = geta_expect(c, "cq", "two", 0, 0);
	st = h_run_ipcctl(&d, NULL, 0, &out, NULL, "stat", "cq", NULL);
	ck_assert_int_eq(st, 0);
	ck_assert_msg(strstr(out.data, "inflight: 1\n") != NULL, "stat: %s", out.data);
	ck_assert_msg(strstr(out.data, "requeued: 1\n") != NULL, "stat: %s", out.data);
	h_buf_free(&out);
	ck_assert_int_eq(ipc_queue_ack(c, "cq", tag), 0);
	/* --ack is for get only. */
	st = h_run_ipcctl(&d, NULL, 0, NULL, NULL, "put", "cq", "x", "--ack", NULL);
	ck_assert_int_eq(st, 2);
	ipc_close(c);
	h_stop(&d);
}
END_TEST

/* Child: as uid 4211 (neither owner nor in the group), get with ack and
 * ack on "secret": exit with both results (ok when both are EPERM). */
static int child_stranger(void *arg)
{
	const char *sock = arg;
	ipc_client *c;
	void *data;
	size_t len;
	uint64_t tag;

	if (setgroups(0, NULL) != 0 || setgid(4211) != 0 || setuid(4211) != 0)
		return 125;
	if (h_ipc_connect(sock, &c))
		return 120;
	if (ipc_queue_get_ack(c, "secret", &data, &len, &tag, 0, 0) != IPC_EPERM)
		return 1;
	if (ipc_queue_get_ack(c, "secret", &data, &len, &tag, 1000, 0) != IPC_EPERM)
		return 2;
	if (ipc_queue_ack(c, "secret", 1) != IPC_EPERM)
		return 3;
	ipc_close(c);
	return 0;
}

/* Get with ack and ack need read permission; a denial takes nothing. */
START_TEST(test_ack_perm)
{
	static const char *const args[] = { "--socket-mode", "0666", NULL };
	struct h_opts o = { .args = args, .listen_fd = -1 };
	struct h_daemon d;
	struct ipc_info in;
	ipc_client *c;

	if (geteuid() != 0) {
		/* Another uid is needed to be denied anything. */
		fprintf(stderr, "ack_perm: not root, permissions not tested\n");
		return;
	}
	h_prepare(&d);
	ck_assert_int_eq(chmod(d.dir, 0755), 0);
	h_launch_opts(&d, &o);
	c = h_connect(&d);
	ck_assert_int_eq(ipc_queue_open(c, "secret", H_QOPTS_MODE(0, IPC_QUEUE_CREATE, 0600), NULL), 0);
	h_put_text(c, "secret", "s");
	ck_assert_int_eq(h_wait_child(h_spawn(child_stranger, d.sock), T_CHILD_MS), 0);
	in = h_stat(c, "secret");
	ck_assert_uint_eq(in.size, 1);
	ck_assert_uint_eq(in.inflight, 0);
	ck_assert_uint_eq(in.getters, 0);
	ck_assert_uint_eq(in.gets, 0);
	ipc_close(c);
	h_stop(&d);
}
END_TEST

/* Get "a" from q, waiting for it (a parked getter for test_ack_release). */
static int child_get_a(void *arg)
{
	ipc_client *c;
	void *data = NULL;
	size_t len = 0;
	int rc;

	if (h_ipc_connect(arg, &c))
		return 120;
	rc = ipc_queue_get(c, "q", &data, &len, T_CHILD_MS);
	rc = rc != 0 ? 1 : len != 1 || memcmp(data, "a", 1) ? 2 : 0;
	ipc_free(data);
	ipc_close(c);
	return rc;
}

/* Release (nack) at once: back to the head of the queue (requeued), once
 * (a second release is ENOTHELD); a negative delay is invalid. */
START_TEST(test_ack_release)
{
	struct h_daemon d;
	ipc_client *c;
	uint64_t t;

	h_start(&d);
	c = h_connect(&d);
	h_create_queue(c, "q", 0);
	h_put_text(c, "q", "a");
	h_put_text(c, "q", "b");
	t = geta_expect(c, "q", "a", 0, 0);
	ck_assert_int_eq(ipc_queue_release(c, "q", t, -1), IPC_EINVAL);
	ck_assert_int_eq(ipc_queue_release(c, "q", t, 0), 0);
	ck_assert_int_eq(ipc_queue_release(c, "q", t, 0), IPC_ENOTHELD);
	ck_assert_uint_eq(h_stat(c, "q").inflight, 0);
	ck_assert_uint_eq(h_stat(c, "q").requeued, 1);
	h_get_expect(c, "q", "a", 0);
	h_get_expect(c, "q", "b", 0);
	ipc_close(c);
	h_stop(&d);
}
END_TEST

/* Release to a getter parked meanwhile on the empty queue: it gets the
 * message. */
START_TEST(test_ack_release_to_getter)
{
	struct h_daemon d;
	ipc_client *c;
	uint64_t t;
	pid_t child;

	h_start(&d);
	c = h_connect(&d);
	h_create_queue(c, "q", 0);
	h_put_text(c, "q", "a");
	t = geta_expect(c, "q", "a", 0, 0);
	child = h_spawn(child_get_a, d.sock);
	h_wait_parked(c, "q", 'g', 1);
	ck_assert_int_eq(ipc_queue_release(c, "q", t, 0), 0);
	ck_assert_int_eq(h_wait_child(child, T_CHILD_MS), 0);
	ipc_close(c);
	h_stop(&d);
}
END_TEST

/* Release with a delay, from a connection that then closes: during the
 * delay no one holds it (nobody may ack it, it stays in flight, later
 * messages go first); then it is back. */
START_TEST(test_ack_release_delayed)
{
	struct h_daemon d;
	ipc_client *c, *o;
	uint64_t t;
	int64_t t0;

	h_start(&d);
	c = h_connect(&d);
	h_create_queue(c, "q", 0);
	h_put_text(c, "q", "a");
	h_put_text(c, "q", "b");
	o = h_connect(&d);
	t = geta_expect(o, "q", "a", 0, 0);
	t0 = h_now_ms();
	ck_assert_int_eq(ipc_queue_release(o, "q", t, 300), 0);
	ck_assert_int_eq(ipc_queue_ack(o, "q", t), IPC_ENOTHELD);
	ipc_close(o);
	ck_assert_uint_eq(h_stat(c, "q").inflight, 1);
	h_get_expect(c, "q", "b", 0);
	h_get_expect(c, "q", "a", T_CHILD_MS);
	ck_assert_int_ge(h_now_ms() - t0, 290);
	ck_assert_uint_eq(h_stat(c, "q").inflight, 0);
	ipc_close(c);
	h_stop(&d);
}
END_TEST

/* The at-least-once suite. */
static Suite *ack_suite(void)
{
	Suite *s = suite_create("ack");

	h_add_case(s, "basic", test_ack_basic, 30);
	h_add_case(s, "errors", test_ack_errors, 30);
	h_add_case(s, "disconnect", test_ack_disconnect, 30);
	h_add_case(s, "disconnect_to_getters", test_ack_disconnect_to_getters, 30);
	h_add_case(s, "kill", test_ack_kill, 30);
	h_add_case(s, "lease", test_ack_lease, 30);
	h_add_case(s, "maxsize", test_ack_maxsize, 30);
	h_add_case(s, "delete", test_ack_delete, 30);
	h_add_case(s, "ipcctl", test_ack_ipcctl, 30);
	h_add_case(s, "perm", test_ack_perm, 30);
	h_add_case(s, "release", test_ack_release, 30);
	h_add_case(s, "release_to_getter", test_ack_release_to_getter, 30);
	h_add_case(s, "release_delayed", test_ack_release_delayed, 30);
	return s;
}

/* Run the suite, one forked process per test. */
int main(void)
{
	return h_run_suite(ack_suite());
}
