/* SPDX-License-Identifier: MIT */
/*
 * check_conform.c: the conformance suite of libipcclient's queue
 * semantics (put/get, timeouts, Empty and Full, FIFO, many producers and
 * consumers, ack and redelivery, batches, async puts, ipcctl), run on one
 * backend per run: IPC_CONFORM_BACKEND=ipcd (a private ipcd) or nats (a
 * private nats-server -js). The Makefile runs it once per backend.
 *
 * A test that cannot hold on NATS carries the reason and is left out of
 * the NATS run, which prints the list; docs/nats.md gives the same list.
 *
 * On NATS a process must not fork while it has a handle open (libnats's
 * threads do not survive fork; docs/nats.md): the tests close theirs
 * before h_spawn() and connect again after.
 */
#include <check.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "harness.h"
#include "natsd.h"

#ifndef CONFORM_DEFAULT_BACKEND
#define CONFORM_DEFAULT_BACKEND "ipcd"
#endif

/* The lease (ms) of get_ack in these tests; on NATS the queue's AckWait,
 * given by the URL's lease= option. */
#define C_LEASE_MS 1000

/* Whether this run is on NATS, and the server of the running test:
 * each test starts its own (c_setup), in its own process. */
static int c_nats;
static char c_target[160];
static struct h_daemon c_ipcd;
static struct natsd c_natsd;

/* Checked fixture: start this test's server. */
static void c_setup(void)
{
	if (c_nats) {
		n_start(&c_natsd);
		snprintf(c_target, sizeof c_target, "%s?lease=%d", c_natsd.url,
			 C_LEASE_MS);
	} else {
		h_start(&c_ipcd);
		snprintf(c_target, sizeof c_target, "%s", c_ipcd.sock);
	}
}

/* Checked fixture: stop this test's server. */
static void c_teardown(void)
{
	if (c_nats)
		n_stop(&c_natsd);
	else
		h_stop(&c_ipcd);
}

/* Connect to this run's server, asserting success. */
static ipc_client *c_connect(void)
{
	ipc_client *c = NULL;
	int rc = ipc_connect(c_target, &c);

	ck_assert_msg(rc == 0, "connect %s: %s", c_target, ipc_last_error(NULL));
	return c;
}

/* Create queue q (a fresh one: deleted first) with maxsize. */
static void c_mkq(ipc_client *c, const char *q, long long maxsize)
{
	struct ipc_queue_opts o = IPC_QUEUE_OPTS_INIT;

	ipc_delete(c, q);
	o.maxsize = maxsize;
	o.flags = IPC_QUEUE_CREATE;
	ck_assert_int_eq(ipc_queue_open(c, q, &o, NULL), 0);
}

/* Get one message and check it is the text want. */
static void c_expect(ipc_client *c, const char *q, const char *want, int timeout)
{
	void *m = NULL;
	size_t len = 0;
	int rc = ipc_queue_get(c, q, &m, &len, timeout);

	ck_assert_msg(rc == 0, "get %s: %d %s", q, rc, ipc_last_error(c));
	ck_assert_uint_eq(len, strlen(want));
	ck_assert(memcmp(m, want, len) == 0);
	ipc_free(m);
}

/* Put the text msg with timeout 0, asserting success. */
static void c_put(ipc_client *c, const char *q, const char *msg)
{
	int rc = ipc_queue_put(c, q, msg, strlen(msg), 0);

	ck_assert_msg(rc == 0, "put %s: %d %s", q, rc, ipc_last_error(c));
}

START_TEST(test_put_get)
{
	ipc_client *c = c_connect();
	void *m;
	size_t len = 7;

	c_mkq(c, "cf.putget", 0);
	c_put(c, "cf.putget", "hello");
	ck_assert_int_eq(ipc_queue_put(c, "cf.putget", "", 0, 0), 0);
	c_expect(c, "cf.putget", "hello", 0);
	ck_assert_int_eq(ipc_queue_get(c, "cf.putget", &m, &len, 0), 0);
	ck_assert_ptr_nonnull(m);
	ck_assert_uint_eq(len, 0);
	ipc_free(m);
	ipc_close(c);
}
END_TEST

/* The running test's server. */
static pid_t c_server_pid(void)
{
	return c_nats ? c_natsd.pid : c_ipcd.pid;
}

/* A get that does not wait answers Empty at once, and one with a timeout
 * after it: no sooner, and not much later (the time waited for a CPU
 * aside). */
START_TEST(test_empty_nowait_and_timeout)
{
	ipc_client *c = c_connect();
	void *m;
	size_t len;
	int64_t t0, w0;

	c_mkq(c, "cf.empty", 0);
	w0 = h_waits_us(c_server_pid());
	t0 = h_now_ms();
	ck_assert_int_eq(ipc_queue_get(c, "cf.empty", &m, &len, 0), IPC_EEMPTY);
	ck_assert_int_lt(h_own_ms(t0, w0, c_server_pid(), 0), 500);
	w0 = h_waits_us(c_server_pid());
	t0 = h_now_ms();
	ck_assert_int_eq(ipc_queue_get(c, "cf.empty", &m, &len, 300), IPC_EEMPTY);
	ck_assert_int_ge(h_now_ms() - t0, 280);
	ck_assert_int_lt(h_own_ms(t0, w0, c_server_pid(), 0), 2000);
	ipc_close(c);
}
END_TEST

/* Gets that found nothing leave no request behind that would take a
 * later message from the others (as libnats's own fetch did). */
START_TEST(test_empty_gets_leave_nothing)
{
	ipc_client *a = c_connect(), *b = c_connect();
	struct ipc_info in;
	void *m;
	size_t len;

	c_mkq(a, "cf.stale", 0);
	ck_assert_int_eq(ipc_queue_get(a, "cf.stale", &m, &len, 0), IPC_EEMPTY);
	ck_assert_int_eq(ipc_queue_get(a, "cf.stale", &m, &len, 200), IPC_EEMPTY);
	ck_assert_int_eq(ipc_queue_get(a, "cf.stale", &m, &len, 0), IPC_EEMPTY);
	c_put(b, "cf.stale", "a");
	c_put(b, "cf.stale", "b");
	ck_assert_int_eq(ipc_stat(b, "cf.stale", &in, sizeof in), 0);
	ck_assert_uint_eq(in.size, 2);
	ck_assert_uint_eq(in.inflight, 0);
	c_expect(b, "cf.stale", "a", 0);
	c_expect(b, "cf.stale", "b", 0);
	ipc_close(a);
	ipc_close(b);
}
END_TEST

START_TEST(test_full_nowait_and_timeout)
{
	ipc_client *c = c_connect();
	long long max = -5;
	int64_t t0;

	c_mkq(c, "cf.full", 2);
	ck_assert_int_eq(ipc_queue_open(c, "cf.full", NULL, &max), 0);
	ck_assert_int_eq(max, 2);
	c_put(c, "cf.full", "a");
	c_put(c, "cf.full", "b");
	ck_assert_int_eq(ipc_queue_put(c, "cf.full", "c", 1, 0), IPC_EFULL);
	t0 = h_now_ms();
	ck_assert_int_eq(ipc_queue_put(c, "cf.full", "c", 1, 300), IPC_EFULL);
	ck_assert_int_ge(h_now_ms() - t0, 280);
	c_expect(c, "cf.full", "a", 0);
	c_put(c, "cf.full", "c");
	ipc_close(c);
}
END_TEST

/* How long the c_child_* children pause before they act (ms): so that
 * the parent is most likely waiting by then; a test that asserts on it
 * measures from before the fork, so that its bound holds however late
 * the parent runs. */
#define C_CHILD_PAUSE_MS 300

/* Child: after a pause, take one message of the queue named by arg. */
static int c_child_get(void *arg)
{
	ipc_client *c;
	void *m;
	size_t len;
	int rc;

	usleep(C_CHILD_PAUSE_MS * 1000);
	if (ipc_connect(c_target, &c) != 0)
		return 100;
	rc = ipc_queue_get(c, arg, &m, &len, 5000);
	if (rc == 0)
		ipc_free(m);
	ipc_close(c);
	return h_job_status(rc);
}

/* Child: after a pause, put one message on the queue named by arg. */
static int c_child_put(void *arg)
{
	ipc_client *c;
	int rc;

	usleep(C_CHILD_PAUSE_MS * 1000);
	if (ipc_connect(c_target, &c) != 0)
		return 100;
	rc = ipc_queue_put(c, arg, "late", 4, 5000);
	ipc_close(c);
	return h_job_status(rc);
}

/* A put on a full queue waits until a get makes room. The child's get
 * comes C_CHILD_PAUSE_MS after the fork at the earliest, so a put that
 * waited for it returns no sooner after t0, taken before the fork (taken
 * after it, a parent that ran late saw the pause partly gone). A put
 * that did not wait returns at once. */
START_TEST(test_put_waits_for_room)
{
	ipc_client *c = c_connect();
	pid_t pid;
	int64_t t0;

	c_mkq(c, "cf.room", 1);
	c_put(c, "cf.room", "first");
	ipc_close(c);
	t0 = h_now_ms();
	pid = h_spawn(c_child_get, "cf.room");
	c = c_connect();
	ck_assert_int_eq(ipc_queue_put(c, "cf.room", "second", 6, 10000), 0);
	/* Less 1: h_now_ms() truncates to whole milliseconds. */
	ck_assert_int_ge(h_now_ms() - t0, C_CHILD_PAUSE_MS - 1);
	ck_assert_int_eq(h_wait_child(pid, 10000), 0);
	c_expect(c, "cf.room", "second", 0);
	ipc_close(c);
}
END_TEST

START_TEST(test_get_waits_for_put)
{
	ipc_client *c = c_connect();
	pid_t pid;

	c_mkq(c, "cf.wait", 0);
	ipc_close(c);
	pid = h_spawn(c_child_put, "cf.wait");
	c = c_connect();
	c_expect(c, "cf.wait", "late", IPC_FOREVER);
	ck_assert_int_eq(h_wait_child(pid, 10000), 0);
	ipc_close(c);
}
END_TEST

START_TEST(test_fifo)
{
	ipc_client *c = c_connect();
	char buf[16];
	int i;

	c_mkq(c, "cf.fifo", 0);
	for (i = 0; i < 200; i++) {
		snprintf(buf, sizeof buf, "m%d", i);
		c_put(c, "cf.fifo", buf);
	}
	/* Waiting gets: this test checks the order. On NATS a no_wait pull
	 * can answer 404 while messages are stored (the consumer learns of
	 * new ones asynchronously; seen once on a loaded machine). */
	for (i = 0; i < 200; i++) {
		snprintf(buf, sizeof buf, "m%d", i);
		c_expect(c, "cf.fifo", buf, 5000);
	}
	ipc_close(c);
}
END_TEST

#define C_PRODUCERS 3
#define C_CONSUMERS 3
#define C_PER_PRODUCER 300

/* Producer k: put C_PER_PRODUCER numbered messages. */
static int c_producer(void *arg)
{
	int k = (int)(intptr_t)arg, i, rc = 0;
	ipc_client *c;
	char buf[32];

	if (ipc_connect(c_target, &c) != 0)
		return 100;
	for (i = 0; i < C_PER_PRODUCER && rc == 0; i++) {
		snprintf(buf, sizeof buf, "%d", k * C_PER_PRODUCER + i);
		rc = ipc_queue_put(c, "cf.many", buf, strlen(buf), IPC_FOREVER);
	}
	ipc_close(c);
	return h_job_status(rc);
}

/* Consumer: take messages until 2 s of nothing, marking each number
 * seen in the shared file named by arg (one byte per number). */
static int c_consumer(void *arg)
{
	ipc_client *c;
	FILE *f = fopen(arg, "r+");
	void *m;
	size_t len;
	char buf[32];
	int rc;

	if (!f || ipc_connect(c_target, &c) != 0)
		return 100;
	while ((rc = ipc_queue_get(c, "cf.many", &m, &len, 2000)) == 0) {
		snprintf(buf, sizeof buf, "%.*s", (int)len, (char *)m);
		ipc_free(m);
		fseek(f, atol(buf), SEEK_SET);
		fputc('x', f);
		fflush(f);
	}
	fclose(f);
	ipc_close(c);
	return rc == IPC_EEMPTY ? 0 : h_job_status(rc);
}

START_TEST(test_many_producers_consumers)
{
	const int total = C_PRODUCERS * C_PER_PRODUCER;
	char path[] = "/tmp/ipcd-conform-XXXXXX", seen[C_PRODUCERS * C_PER_PRODUCER];
	ipc_client *c = c_connect();
	pid_t pids[C_PRODUCERS + C_CONSUMERS];
	int fd = mkstemp(path), i;

	ck_assert_int_ge(fd, 0);
	ck_assert_int_eq(ftruncate(fd, total), 0);
	c_mkq(c, "cf.many", 16);
	ipc_close(c);
	for (i = 0; i < C_CONSUMERS; i++)
		pids[i] = h_spawn(c_consumer, path);
	for (i = 0; i < C_PRODUCERS; i++)
		pids[C_CONSUMERS + i] = h_spawn(c_producer, (void *)(intptr_t)i);
	for (i = 0; i < C_PRODUCERS + C_CONSUMERS; i++)
		ck_assert_int_eq(h_wait_child(pids[i], 60000), 0);
	ck_assert_int_eq(pread(fd, seen, (size_t)total, 0), total);
	for (i = 0; i < total; i++)
		ck_assert_msg(seen[i] == 'x', "message %d never got", i);
	close(fd);
	unlink(path);
}
END_TEST

START_TEST(test_open_rules)
{
	ipc_client *c = c_connect();
	struct ipc_queue_opts o = IPC_QUEUE_OPTS_INIT;
	long long max = -5;

	ipc_delete(c, "cf.open");
	ck_assert_int_eq(ipc_queue_open(c, "cf.open", NULL, NULL), IPC_ENOENT);
	o.flags = IPC_QUEUE_CREATE;
	o.maxsize = 5;
	ck_assert_int_eq(ipc_queue_open(c, "cf.open", &o, &max), 0);
	ck_assert_int_eq(max, 5);
	o.maxsize = 6;
	ck_assert_int_eq(ipc_queue_open(c, "cf.open", &o, NULL), IPC_EMISMATCH);
	o.maxsize = IPC_MAXSIZE_ANY;
	ck_assert_int_eq(ipc_queue_open(c, "cf.open", &o, &max), 0);
	ck_assert_int_eq(max, 5);
	o.flags = IPC_QUEUE_CREATE | IPC_QUEUE_EXCL;
	ck_assert_int_eq(ipc_queue_open(c, "cf.open", &o, NULL), IPC_EEXIST);
	ck_assert_int_eq(ipc_queue_open(c, "bad name", NULL, NULL), IPC_ENAME);
	ipc_close(c);
}
END_TEST

START_TEST(test_delete)
{
	ipc_client *c = c_connect();
	void *m;
	size_t len;

	c_mkq(c, "cf.del", 0);
	c_put(c, "cf.del", "gone");
	ck_assert_int_eq(ipc_delete(c, "cf.del"), 0);
	ck_assert_int_eq(ipc_delete(c, "cf.del"), IPC_ENOENT);
	ck_assert_int_eq(ipc_queue_put(c, "cf.del", "x", 1, 0), IPC_ENOENT);
	ck_assert_int_eq(ipc_queue_get(c, "cf.del", &m, &len, 0), IPC_ENOENT);
	ipc_close(c);
}
END_TEST

/* Child: delete the queue named by arg after a pause. */
static int c_child_delete(void *arg)
{
	ipc_client *c;
	int rc;

	usleep(C_CHILD_PAUSE_MS * 1000);
	if (ipc_connect(c_target, &c) != 0)
		return 100;
	rc = ipc_delete(c, arg);
	ipc_close(c);
	return h_job_status(rc);
}

START_TEST(test_delete_wakes_getter)
{
	ipc_client *c = c_connect();
	void *m;
	size_t len;
	pid_t pid;

	c_mkq(c, "cf.delwait", 0);
	ipc_close(c);
	pid = h_spawn(c_child_delete, "cf.delwait");
	c = c_connect();
	ck_assert_int_eq(ipc_queue_get(c, "cf.delwait", &m, &len, 20000), IPC_EDELETED);
	ck_assert_int_eq(h_wait_child(pid, 10000), 0);
	ipc_close(c);
}
END_TEST

START_TEST(test_ack)
{
	ipc_client *c = c_connect();
	struct ipc_info in;
	uint64_t tag;
	void *m;
	size_t len;

	c_mkq(c, "cf.ack", 0);
	c_put(c, "cf.ack", "job");
	ck_assert_int_eq(ipc_queue_get_ack(c, "cf.ack", &m, &len, &tag, 0, C_LEASE_MS), 0);
	ipc_free(m);
	ck_assert_int_eq(ipc_stat(c, "cf.ack", &in, sizeof in), 0);
	ck_assert_uint_eq(in.inflight, 1);
	ck_assert_uint_eq(in.size, 0);
	ck_assert_int_eq(ipc_queue_ack(c, "cf.ack", tag), 0);
	ck_assert_int_eq(ipc_queue_ack(c, "cf.ack", tag), IPC_ENOTHELD);
	ck_assert_int_eq(ipc_stat(c, "cf.ack", &in, sizeof in), 0);
	ck_assert_uint_eq(in.inflight, 0);
	ck_assert_int_eq(ipc_queue_get(c, "cf.ack", &m, &len, 0), IPC_EEMPTY);
	ipc_close(c);
}
END_TEST

START_TEST(test_redelivered_on_close)
{
	ipc_client *a = c_connect(), *b = c_connect();
	uint64_t tag;
	void *m;
	size_t len;

	c_mkq(a, "cf.close", 0);
	c_put(a, "cf.close", "one");
	c_put(a, "cf.close", "two");
	ck_assert_int_eq(ipc_queue_get_ack(a, "cf.close", &m, &len, &tag, 0, 0), 0);
	ipc_free(m);
	ipc_close(a);
	/* Back at the head, ahead of "two", at once. */
	c_expect(b, "cf.close", "one", 2000);
	c_expect(b, "cf.close", "two", 0);
	ipc_close(b);
}
END_TEST

/* Child: take one message with ack and die without acking. */
static int c_child_take_and_die(void *arg)
{
	ipc_client *c;
	uint64_t tag;
	void *m;
	size_t len;

	if (ipc_connect(c_target, &c) != 0)
		return 100;
	if (ipc_queue_get_ack(c, arg, &m, &len, &tag, 5000, C_LEASE_MS) != 0)
		return 101;
	kill(getpid(), SIGKILL);
	return 102;
}

START_TEST(test_redelivered_after_kill)
{
	ipc_client *c = c_connect();
	pid_t pid;

	c_mkq(c, "cf.kill", 0);
	c_put(c, "cf.kill", "work");
	ipc_close(c);
	pid = h_spawn(c_child_take_and_die, "cf.kill");
	ck_assert_int_eq(h_wait_child(pid, 10000), 128 + SIGKILL);
	c = c_connect();
	/* ipcd: at once; NATS: once the AckWait (C_LEASE_MS) ran out. */
	c_expect(c, "cf.kill", "work", 5 * C_LEASE_MS);
	ipc_close(c);
}
END_TEST

START_TEST(test_lease_expiry_redelivers)
{
	ipc_client *a = c_connect(), *b = c_connect();
	uint64_t tag, tag2;
	void *m;
	size_t len;
	int64_t t0 = h_now_ms();

	c_mkq(a, "cf.lease", 0);
	c_put(a, "cf.lease", "slow");
	ck_assert_int_eq(ipc_queue_get_ack(a, "cf.lease", &m, &len, &tag, 0, C_LEASE_MS), 0);
	ipc_free(m);
	ck_assert_int_eq(ipc_queue_get_ack(b, "cf.lease", &m, &len, &tag2, 5 * C_LEASE_MS,
					   C_LEASE_MS), 0);
	ck_assert_int_ge(h_now_ms() - t0, C_LEASE_MS - 100);
	ck_assert_uint_eq(len, 4);
	ipc_free(m);
	ck_assert_int_eq(ipc_queue_ack(b, "cf.lease", tag2), 0);
	ipc_close(a);
	ipc_close(b);
}
END_TEST

START_TEST(test_late_ack_refused)
{
	ipc_client *c = c_connect();
	uint64_t tag;
	void *m;
	size_t len;

	c_mkq(c, "cf.late", 0);
	c_put(c, "cf.late", "x");
	ck_assert_int_eq(ipc_queue_get_ack(c, "cf.late", &m, &len, &tag, 0, 200), 0);
	ipc_free(m);
	usleep(600 * 1000);
	ck_assert_int_eq(ipc_queue_ack(c, "cf.late", tag), IPC_ENOTHELD);
	ipc_close(c);
}
END_TEST

START_TEST(test_inflight_counts_toward_maxsize)
{
	ipc_client *c = c_connect();
	uint64_t tag;
	void *m;
	size_t len;

	c_mkq(c, "cf.infl", 1);
	c_put(c, "cf.infl", "a");
	ck_assert_int_eq(ipc_queue_get_ack(c, "cf.infl", &m, &len, &tag, 0, 0), 0);
	ipc_free(m);
	ck_assert_int_eq(ipc_queue_put(c, "cf.infl", "b", 1, 0), IPC_EFULL);
	ck_assert_int_eq(ipc_queue_ack(c, "cf.infl", tag), 0);
	c_put(c, "cf.infl", "b");
	ipc_close(c);
}
END_TEST

START_TEST(test_batch)
{
	ipc_client *c = c_connect();
	struct ipc_msg in[5] = { { "0", 1 }, { "1", 1 }, { "2", 1 }, { "3", 1 }, { "4", 1 } };
	struct ipc_msg out[8];
	size_t n = 0, i;

	c_mkq(c, "cf.batch", 3);
	ck_assert_int_eq(ipc_queue_put_many(c, "cf.batch", in, 5, &n, 0), IPC_EFULL);
	ck_assert_uint_eq(n, 3);
	ck_assert_int_eq(ipc_queue_get_many(c, "cf.batch", out, 2, &n, 0), 0);
	ck_assert_uint_eq(n, 2);
	ck_assert(out[0].len == 1 && memcmp(out[0].data, "0", 1) == 0);
	ck_assert(out[1].len == 1 && memcmp(out[1].data, "1", 1) == 0);
	ck_assert_int_eq(ipc_queue_put_many(c, "cf.batch", in + 3, 2, &n, 1000), 0);
	ck_assert_int_eq(ipc_queue_get_many(c, "cf.batch", out, 8, &n, 0), 0);
	ck_assert_uint_eq(n, 3);
	for (i = 0; i < n; i++)
		ck_assert(out[i].len == 1 && ((const char *)out[i].data)[0] == (char)('2' + i));
	ck_assert_int_eq(ipc_queue_get_many(c, "cf.batch", out, 8, &n, 0), IPC_EEMPTY);
	ipc_close(c);
}
END_TEST

START_TEST(test_get_many_waits_for_first)
{
	ipc_client *c = c_connect();
	struct ipc_msg out[8];
	size_t n = 0;
	pid_t pid;

	c_mkq(c, "cf.gmwait", 0);
	ipc_close(c);
	pid = h_spawn(c_child_put, "cf.gmwait");
	c = c_connect();
	ck_assert_int_eq(ipc_queue_get_many(c, "cf.gmwait", out, 8, &n, 10000), 0);
	ck_assert_uint_eq(n, 1);
	ck_assert(out[0].len == 4 && memcmp(out[0].data, "late", 4) == 0);
	ck_assert_int_eq(h_wait_child(pid, 10000), 0);
	ipc_close(c);
}
END_TEST

START_TEST(test_async_puts)
{
	ipc_client *c = c_connect();
	char buf[16];
	int i;

	c_mkq(c, "cf.async", 0);
	for (i = 0; i < 100; i++) {
		snprintf(buf, sizeof buf, "a%d", i);
		ck_assert_int_eq(ipc_queue_put_async(c, "cf.async", buf, strlen(buf), 0), 0);
	}
	ck_assert_int_eq(ipc_flush(c), 0);
	for (i = 0; i < 100; i++) {
		snprintf(buf, sizeof buf, "a%d", i);
		c_expect(c, "cf.async", buf, 0);
	}
	c_mkq(c, "cf.async2", 2);
	for (i = 0; i < 3; i++)
		ck_assert_int_eq(ipc_queue_put_async(c, "cf.async2", "x", 1, 0), 0);
	ck_assert_int_eq(ipc_flush(c), IPC_EFULL);
	ck_assert_uint_eq(ipc_flush_notput(c), 1);
	ipc_close(c);
}
END_TEST

START_TEST(test_too_big)
{
	ipc_client *c = c_connect();
	size_t max = ipc_msg_max(c);
	char *big = calloc(1, max + 1);

	ck_assert_uint_gt(max, 60000);
	c_mkq(c, "cf.big", 0);
	/* ipcd takes max + 1 as a memfd, up to its max-memfd-size. */
	ck_assert_int_eq(ipc_queue_put(c, "cf.big", big, c_nats ? max + 1 : (64u << 20) + 1, 0),
			 IPC_ETOOBIG);
	ck_assert_int_eq(ipc_queue_put(c, "cf.big", big, max, 0), 0);
	free(big);
	ipc_close(c);
}
END_TEST

START_TEST(test_stat_and_list)
{
	ipc_client *c = c_connect();
	struct ipc_info in, *all = NULL;
	size_t n = 0, i;
	int found = 0;

	c_mkq(c, "cf.stat", 7);
	c_put(c, "cf.stat", "a");
	c_put(c, "cf.stat", "b");
	ck_assert_int_eq(ipc_stat(c, "cf.stat", &in, sizeof in), 0);
	ck_assert_str_eq(in.name, "cf.stat");
	ck_assert_int_eq(in.kind, IPC_KIND_QUEUE);
	ck_assert_int_eq(in.maxsize, 7);
	ck_assert_uint_eq(in.size, 2);
	ck_assert_uint_eq(in.puts, 2);
	ck_assert_int_eq(ipc_list(c, &all, &n, sizeof *all), 0);
	for (i = 0; i < n; i++)
		found += strcmp(all[i].name, "cf.stat") == 0 && all[i].size == 2;
	ck_assert_int_eq(found, 1);
	ipc_free(all);
	ck_assert_int_eq(ipc_stat(c, "cf.nope", &in, sizeof in), IPC_ENOENT);
	ipc_close(c);
}
END_TEST

/* Run `ipcctl -s TARGET args...` and return its exit status; stdout in out. */
static int c_ipcctl(struct h_buf *out, const char *in, const char *a1,
		    const char *a2, const char *a3, const char *a4)
{
	char *argv[] = { (char *)h_bin("IPCCTL_BIN"), "-s", c_target, (char *)a1,
			 (char *)a2, (char *)a3, (char *)a4, NULL };

	return h_run(argv, in, in ? strlen(in) : 0, out, NULL, 10000);
}

START_TEST(test_ipcctl)
{
	struct h_buf out = { 0 };

	ipc_client *c = c_connect();
	ipc_delete(c, "cf.ctl");
	ipc_close(c);
	ck_assert_int_eq(c_ipcctl(NULL, NULL, "create", "cf.ctl", "--maxsize", "3"), 0);
	ck_assert_int_eq(c_ipcctl(NULL, NULL, "put", "cf.ctl", "hello", NULL), 0);
	ck_assert_int_eq(c_ipcctl(NULL, "from stdin", "put", "cf.ctl", NULL, NULL), 0);
	ck_assert_int_eq(c_ipcctl(&out, NULL, "stat", "cf.ctl", NULL, NULL), 0);
	ck_assert_ptr_nonnull(strstr(out.data, "size: 2"));
	ck_assert_ptr_nonnull(strstr(out.data, "maxsize: 3"));
	h_buf_free(&out);
	ck_assert_int_eq(c_ipcctl(&out, NULL, "ls", NULL, NULL, NULL), 0);
	ck_assert_ptr_nonnull(strstr(out.data, "cf.ctl"));
	h_buf_free(&out);
	ck_assert_int_eq(c_ipcctl(&out, NULL, "get", "cf.ctl", NULL, NULL), 0);
	ck_assert_str_eq(out.data, "hello");
	h_buf_free(&out);
	ck_assert_int_eq(c_ipcctl(&out, NULL, "get", "cf.ctl", "--ack", NULL), 0);
	ck_assert_str_eq(out.data, "from stdin");
	h_buf_free(&out);
	ck_assert_int_ne(c_ipcctl(NULL, NULL, "get", "cf.ctl", "--nowait", NULL), 0);
	ck_assert_int_eq(c_ipcctl(NULL, NULL, "rm", "cf.ctl", NULL, NULL), 0);
	ck_assert_int_ne(c_ipcctl(NULL, NULL, "stat", "cf.ctl", NULL, NULL), 0);
}
END_TEST

/* Start the C example examples/queue_demo as role on this run's server,
 * its stdout into the file out: its pid. */
static pid_t c_demo(const char *role, const char *out)
{
	pid_t pid = fork();
	int fd;

	ck_assert_int_ge(pid, 0);
	if (pid == 0) {
		fd = open(out, O_WRONLY | O_CREAT | O_TRUNC, 0600);
		if (fd < 0 || dup2(fd, 1) < 0)
			_exit(126);
		/* The putter waits for room as long as it takes; the getter
		 * stops once nothing came for 2 s (it starts after the putter). */
		if (strcmp(role, "getter") == 0)
			execl(h_bin("QUEUE_DEMO_BIN"), "queue_demo", "-s", c_target,
			      "-t", "2000", role, "cf.demo", (char *)NULL);
		else
			execl(h_bin("QUEUE_DEMO_BIN"), "queue_demo", "-s", c_target,
			      role, "cf.demo", (char *)NULL);
		_exit(127);
	}
	return pid;
}

/* What follows verb (" put value ", " get value ") on the lines of file
 * path that have it, in order, into buf. */
static void c_demo_values(const char *path, const char *verb, char *buf, size_t len)
{
	char line[256], *v;
	FILE *f = fopen(path, "r");

	ck_assert_ptr_nonnull(f);
	buf[0] = '\0';
	while (fgets(line, sizeof line, f))
		if ((v = strstr(line, verb)))
			strncat(buf, v + strlen(verb), len - strlen(buf) - 1);
	fclose(f);
}

/* The seed's Queue example in C runs unchanged: only the target differs.
 * The getter gets the putter's five values in order through the
 * maxsize-2 queue, then stops after 2 s with nothing. */
START_TEST(test_queue_demo)
{
	char gout[] = "/tmp/cf-demo-get-XXXXXX", pout[] = "/tmp/cf-demo-put-XXXXXX";
	char put[512], got[512];
	pid_t g, p;
	int prc, grc;

	close(mkstemp(gout));
	close(mkstemp(pout));
	p = c_demo("putter", pout);
	g = c_demo("getter", gout);
	prc = h_wait_child(p, 20000);
	grc = h_wait_child(g, 20000);
	c_demo_values(pout, " put value ", put, sizeof put);
	c_demo_values(gout, " get value ", got, sizeof got);
	unlink(gout);
	unlink(pout);
	ck_assert_int_eq(prc, 0);
	ck_assert_int_eq(grc, 0);
	ck_assert_uint_gt(strlen(put), 0);
	ck_assert_str_eq(got, put);
}
END_TEST

/* On NATS a durable queue is a stream on file storage, another one on
 * memory; stat says which. */
START_TEST(test_durable_on_nats)
{
	ipc_client *c = c_connect();
	struct ipc_queue_opts o = IPC_QUEUE_OPTS_INIT;
	struct ipc_info in;

	o.flags = IPC_QUEUE_CREATE | IPC_QUEUE_DURABLE;
	ck_assert_int_eq(ipc_queue_open(c, "cf.dur", &o, NULL), 0);
	ck_assert_int_eq(ipc_stat(c, "cf.dur", &in, sizeof in), 0);
	ck_assert_int_eq(in.durable, 1);
	c_mkq(c, "cf.mem", 0);
	ck_assert_int_eq(ipc_stat(c, "cf.mem", &in, sizeof in), 0);
	ck_assert_int_eq(in.durable, 0);
	ck_assert_int_eq(ipc_queue_open(c, "cf.mem", &o, NULL), IPC_EMISMATCH);
	ipc_close(c);
}
END_TEST

START_TEST(test_pipes_refused_on_nats)
{
	ipc_client *c = c_connect();

	ck_assert_int_eq(ipc_pipe_attach(c, "cf.pipe", 0, IPC_PIPE_CREATE, NULL), IPC_ENOTSUP);
	ck_assert_int_eq(ipc_pipe_send(c, "cf.pipe", 1, "x", 1, 0), IPC_ENOTSUP);
	ck_assert_int_eq(ipc_pipe_detach(c, "cf.pipe", 1), IPC_ENOTSUP);
	ck_assert_ptr_nonnull(strstr(ipc_last_error(c), "pipe_detach"));
	ck_assert_ptr_nonnull(strstr(ipc_last_error(c), "nats"));
	ipc_close(c);
}
END_TEST

/* A released message comes back first, at once; with a delay, not
 * before it; an unknown tag is not held. */
START_TEST(test_release)
{
	ipc_client *c = c_connect();
	uint64_t tag;
	void *m;
	size_t len;

	c_mkq(c, "cf.rel", 0);
	c_put(c, "cf.rel", "a");
	c_put(c, "cf.rel", "b");
	ck_assert_int_eq(ipc_queue_get_ack(c, "cf.rel", &m, &len, &tag, 0, 30000), 0);
	ipc_free(m);
	ck_assert_int_eq(ipc_queue_release(c, "cf.rel", tag, 0), 0);
	ck_assert_int_eq(ipc_queue_release(c, "cf.rel", tag, 0), IPC_ENOTHELD);
	c_expect(c, "cf.rel", "a", 5000);
	ck_assert_int_eq(ipc_queue_get_ack(c, "cf.rel", &m, &len, &tag, 0, 30000), 0);
	ck_assert_uint_eq(len, 1);
	ck_assert(memcmp(m, "b", 1) == 0);
	ipc_free(m);
	ck_assert_int_eq(ipc_queue_release(c, "cf.rel", tag, 1500), 0);
	ck_assert_int_eq(ipc_queue_get(c, "cf.rel", &m, &len, 0), IPC_EEMPTY);
	c_expect(c, "cf.rel", "b", 10000);
	ipc_close(c);
}
END_TEST

/* Peek shows the head without taking it; an empty queue is Empty. */
START_TEST(test_peek)
{
	ipc_client *c = c_connect();
	struct ipc_msg ms[10];
	size_t n;

	c_mkq(c, "cf.peek", 0);
	ck_assert_int_eq(ipc_queue_peek(c, "cf.peek", ms, 10, &n), IPC_EEMPTY);
	c_put(c, "cf.peek", "x");
	c_put(c, "cf.peek", "y");
	c_put(c, "cf.peek", "z");
	ck_assert_int_eq(ipc_queue_peek(c, "cf.peek", ms, 2, &n), 0);
	ck_assert_uint_eq(n, 2);
	ck_assert(ms[0].len == 1 && memcmp(ms[0].data, "x", 1) == 0);
	ck_assert(ms[1].len == 1 && memcmp(ms[1].data, "y", 1) == 0);
	c_expect(c, "cf.peek", "x", 0);
	ck_assert_int_eq(ipc_queue_peek(c, "cf.peek", ms, 10, &n), 0);
	ck_assert_uint_eq(n, 2);
	ck_assert(ms[0].len == 1 && memcmp(ms[0].data, "y", 1) == 0);
	ck_assert(ms[1].len == 1 && memcmp(ms[1].data, "z", 1) == 0);
	ck_assert_int_eq(ipc_queue_peek(c, "cf.nope", ms, 10, &n), IPC_ENOENT);
	ipc_close(c);
}
END_TEST

/* Purge drops the ready messages, says how many, keeps the queue. */
START_TEST(test_purge)
{
	ipc_client *c = c_connect();
	uint64_t dropped = 99;
	void *m;
	size_t len;

	c_mkq(c, "cf.purge", 0);
	c_put(c, "cf.purge", "1");
	c_put(c, "cf.purge", "2");
	c_put(c, "cf.purge", "3");
	ck_assert_int_eq(ipc_queue_purge(c, "cf.purge", &dropped), 0);
	ck_assert_uint_eq(dropped, 3);
	ck_assert_int_eq(ipc_queue_get(c, "cf.purge", &m, &len, 0), IPC_EEMPTY);
	c_put(c, "cf.purge", "4");
	c_expect(c, "cf.purge", "4", 5000);
	ck_assert_int_eq(ipc_queue_purge(c, "cf.nope", &dropped), IPC_ENOENT);
	ipc_close(c);
}
END_TEST

/* NATS has no owners or modes: chmod and chown are refused. */
START_TEST(test_chmod_refused_on_nats)
{
	ipc_client *c = c_connect();

	c_mkq(c, "cf.mode", 0);
	ck_assert_int_eq(ipc_chmod(c, "cf.mode", 0600), IPC_ENOTSUP);
	ck_assert_int_eq(ipc_chown(c, "cf.mode", 0, 0), IPC_ENOTSUP);
	ck_assert_ptr_nonnull(strstr(ipc_last_error(c), "nats"));
	ipc_close(c);
}
END_TEST

/* Dead-lettering and get_any are refused on NATS (docs/nats.md). */
START_TEST(test_dlq_get_any_refused_on_nats)
{
	static const char *const names[] = { "cf.any1", "cf.any2" };
	struct ipc_queue_opts o = IPC_QUEUE_OPTS_INIT;
	ipc_client *c = c_connect();
	size_t len, index;
	uint64_t tag;
	void *m;

	o.flags = IPC_QUEUE_CREATE;
	o.max_deliveries = 3;
	o.dead_letter = "cf.dead";
	ck_assert_int_eq(ipc_queue_open(c, "cf.poison", &o, NULL), IPC_ENOTSUP);
	ck_assert_ptr_nonnull(strstr(ipc_last_error(c), "dead-lettering"));
	c_mkq(c, "cf.any1", 0);
	c_mkq(c, "cf.any2", 0);
	ck_assert_int_eq(ipc_queue_get_any(c, names, 2, &index, &m, &len, 0),
			 IPC_ENOTSUP);
	ck_assert_int_eq(ipc_queue_get_any_ack(c, names, 2, &index, &m, &len,
					       &tag, 0, 0), IPC_ENOTSUP);
	ck_assert_ptr_nonnull(strstr(ipc_last_error(c), "nats"));
	ipc_close(c);
}
END_TEST

/* One test of the suite: where it runs and why not on NATS. */
struct c_case {
	const char *name;
	const TTest *const *test;
	int secs;
	const char *nats_skip;   /* NULL: runs on NATS too */
	int nats_only;
};

static const struct c_case *c_case_list(size_t *n);

/* docs/nats.md lists exactly the tests this suite leaves out on NATS. */
START_TEST(test_doc_lists_the_skips)
{
	char path[512], *doc = calloc(1, 1 << 16), *from, *to, *p;
	const struct c_case *k;
	size_t n, i, rows = 0, skips = 0;
	FILE *f;

	snprintf(path, sizeof path, "%s/docs/nats.md", h_bin("IPCD_SRCDIR"));
	ck_assert_ptr_nonnull(f = fopen(path, "r"));
	ck_assert_uint_gt(fread(doc, 1, (1 << 16) - 1, f), 0);
	fclose(f);
	ck_assert_ptr_nonnull(from = strstr(doc, "The NATS run leaves out"));
	ck_assert_ptr_nonnull(to = strstr(from, "and runs tests of its own"));
	for (p = from; (p = strstr(p, "\n| `")) && p < to; p++)
		rows++;
	k = c_case_list(&n);
	for (i = 0; i < n; i++) {
		char row[128];

		if (!k[i].nats_skip)
			continue;
		skips++;
		snprintf(row, sizeof row, "| `%s` | %s |", k[i].name, k[i].nats_skip);
		ck_assert_msg((p = strstr(from, row)) && p < to, "docs/nats.md lacks %s", row);
	}
	ck_assert_uint_eq(rows, skips);
	free(doc);
}
END_TEST

static const struct c_case c_cases[] = {
	{ "put_get", &test_put_get, 10, NULL, 0 },
	{ "empty_nowait_and_timeout", &test_empty_nowait_and_timeout, 10, NULL, 0 },
	{ "empty_gets_leave_nothing", &test_empty_gets_leave_nothing, 10, NULL, 0 },
	{ "full_nowait_and_timeout", &test_full_nowait_and_timeout, 10, NULL, 0 },
	{ "put_waits_for_room", &test_put_waits_for_room, 20, NULL, 0 },
	{ "get_waits_for_put", &test_get_waits_for_put, 20, NULL, 0 },
	{ "fifo", &test_fifo, 20, NULL, 0 },
	{ "many_producers_consumers", &test_many_producers_consumers, 90, NULL, 0 },
	{ "open_rules", &test_open_rules, 10, NULL, 0 },
	{ "delete", &test_delete, 10, NULL, 0 },
	{ "delete_wakes_getter", &test_delete_wakes_getter, 20, NULL, 0 },
	{ "ack", &test_ack, 10, NULL, 0 },
	{ "redelivered_on_close", &test_redelivered_on_close, 10, NULL, 0 },
	{ "redelivered_after_kill", &test_redelivered_after_kill, 20, NULL, 0 },
	{ "lease_expiry_redelivers", &test_lease_expiry_redelivers, 20, NULL, 0 },
	{ "late_ack_refused", &test_late_ack_refused, 10,
	  "per-call leases: the lease is the queue's AckWait, and an ack after it "
	  "is still taken", 0 },
	{ "inflight_counts_toward_maxsize", &test_inflight_counts_toward_maxsize, 10, NULL, 0 },
	{ "batch", &test_batch, 10, NULL, 0 },
	{ "get_many_waits_for_first", &test_get_many_waits_for_first, 20, NULL, 0 },
	{ "async_puts", &test_async_puts, 20, NULL, 0 },
	{ "too_big", &test_too_big, 10, NULL, 0 },
	{ "stat_and_list", &test_stat_and_list, 10, NULL, 0 },
	{ "ipcctl", &test_ipcctl, 30, NULL, 0 },
	{ "queue_demo", &test_queue_demo, 40, NULL, 0 },
	{ "release", &test_release, 20, NULL, 0 },
	{ "peek", &test_peek, 10, NULL, 0 },
	{ "purge", &test_purge, 10, NULL, 0 },
	{ "pipes_refused_on_nats", &test_pipes_refused_on_nats, 10, NULL, 1 },
	{ "chmod_refused_on_nats", &test_chmod_refused_on_nats, 10, NULL, 1 },
	{ "durable_on_nats", &test_durable_on_nats, 10, NULL, 1 },
	{ "dlq_get_any_refused_on_nats", &test_dlq_get_any_refused_on_nats, 10, NULL, 1 },
	{ "doc_lists_the_skips", &test_doc_lists_the_skips, 10, NULL, 1 },
};

/* The cases above, for the test that reads docs/nats.md. */
static const struct c_case *c_case_list(size_t *n)
{
	*n = sizeof c_cases / sizeof c_cases[0];
	return c_cases;
}

/* The suite for this run's backend, printing what it leaves out. */
static Suite *c_suite(void)
{
	Suite *s = suite_create(c_nats ? "conform-nats" : "conform-ipcd");
	TCase *tc;
	size_t i;

	for (i = 0; i < sizeof c_cases / sizeof c_cases[0]; i++) {
		const struct c_case *k = &c_cases[i];

		if (c_nats && k->nats_skip) {
			printf("SKIP on nats: %s: %s\n", k->name, k->nats_skip);
			continue;
		}
		if (!c_nats && k->nats_only)
			continue;
		tc = tcase_create(k->name);
		tcase_set_timeout(tc, h_wrapped() ? k->secs * 5 : k->secs);
		tcase_add_unchecked_fixture(tc, NULL, h_cleanup);
		tcase_add_checked_fixture(tc, c_setup, c_teardown);
		tcase_add_test(tc, *k->test);
		suite_add_tcase(s, tc);
	}
	return s;
}

int main(void)
{
	const char *b = getenv("IPC_CONFORM_BACKEND");

	c_nats = strcmp(b && *b ? b : CONFORM_DEFAULT_BACKEND, "nats") == 0;
	if (c_nats && !n_bin()) {
		printf("SKIP: no nats-server (NATS_SERVER_BIN)\n");
		return 77;
	}
	return h_run_suite(c_suite());
}
