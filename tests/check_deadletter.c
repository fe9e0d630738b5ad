/* SPDX-License-Identifier: MIT */
/*
 * check_deadletter.c: poison messages against the real ipcd. A queue
 * created with max_deliveries and a dead-letter queue moves a message
 * delivered that many times without an ack there: released, lease run
 * out, consumer gone (crashed, killed). Refused moves (no dead-letter
 * queue, full, not writable by the owner) keep the message; the settings
 * and delivery counts of durable queues survive a restart. Each test
 * starts its own daemon (harness.h).
 */
#include <check.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "harness.h"
#include <ipcclient/ipcclient.h>

/* How long a child may take to finish its part (ms). */
#define T_CHILD_MS (h_wrapped() ? 240000 : 30000)

/* Open queue name (created, exclusive) with dead-lettering after max
 * deliveries to dlq; flags adds IPC_QUEUE_DURABLE. */
static int open_dlq(ipc_client *c, const char *name, long long maxsize,
		    unsigned flags, long long max, const char *dlq)
{
	struct ipc_queue_opts o = IPC_QUEUE_OPTS_INIT;

	o.maxsize = maxsize;
	o.flags = IPC_QUEUE_CREATE | IPC_QUEUE_EXCL | flags;
	o.max_deliveries = max;
	o.dead_letter = dlq;
	return ipc_queue_open(c, name, &o, NULL);
}

/* Take the head of q for ack, check its text, give it back (nack). */
static void deliver_release(ipc_client *c, const char *q, const char *text)
{
	void *data;
	size_t len;
	uint64_t tag;

	ck_assert_int_eq(ipc_queue_get_ack(c, q, &data, &len, &tag, 0, 0), 0);
	ck_assert_uint_eq(len, strlen(text));
	ck_assert_mem_eq(data, text, len);
	ipc_free(data);
	ck_assert_int_eq(ipc_queue_release(c, q, tag, 0), 0);
}

/* Poll until q has put back want messages (a lease ran out). */
static void wait_requeued(ipc_client *c, const char *q, unsigned long long want)
{
	int64_t end = h_now_ms() + T_CHILD_MS;

	while (h_stat(c, q).requeued < want && h_now_ms() < end)
		usleep(10 * 1000);
	ck_assert_uint_eq(h_stat(c, q).requeued, want);
	ck_assert_uint_eq(h_stat(c, q).inflight, 0);
}

/* After max deliveries released, lease run out or connection closed, the
 * message moves to the dead-letter queue; others stay in order. */
START_TEST(test_dlq_moves_after_max)
{
	struct h_daemon d;
	struct ipc_info in;
	ipc_client *c, *c2;
	void *data;
	size_t len;
	uint64_t tag;

	h_start(&d);
	c = h_connect(&d);
	h_create_queue(c, "dead", 0);
	ck_assert_int_eq(open_dlq(c, "jobs", 0, 0, 3, "dead"), 0);
	h_put_text(c, "jobs", "poison");
	h_put_text(c, "jobs", "good");
	/* 1: released. 2: its lease runs out. 3: its connection closes. */
	deliver_release(c, "jobs", "poison");
	ck_assert_int_eq(ipc_queue_get_ack(c, "jobs", &data, &len, &tag, 0, 50), 0);
	ipc_free(data);
	wait_requeued(c, "jobs", 2);
	c2 = h_connect(&d);
	ck_assert_int_eq(ipc_queue_get_ack(c2, "jobs", &data, &len, &tag, 0, 0), 0);
	ck_assert_mem_eq(data, "poison", 6);
	ipc_free(data);
	ipc_close(c2);
	in = h_stat(c, "jobs");
	ck_assert_uint_eq(in.max_deliveries, 3);
	ck_assert_str_eq(in.dead_letter, "dead");
	ck_assert_uint_eq(in.dead_lettered, 1);
	ck_assert_uint_eq(in.dead_letter_failed, 0);
	ck_assert_uint_eq(in.requeued, 2);
	ck_assert_uint_eq(in.size, 1);
	ck_assert_uint_eq(h_stat(c, "dead").size, 1);
	ck_assert_uint_eq(h_stat(c, "dead").max_deliveries, 0);
	h_get_expect(c, "jobs", "good", 0);
	h_get_expect(c, "dead", "poison", 0);
	ipc_close(c);
	h_stop(&d);
}
END_TEST

/* Opening a queue with a dead-letter queue again: the same settings
 * match (EEXIST with EXCL), others (max deliveries, dead-letter name) do
 * not. */
START_TEST(test_dlq_reopen_settings)
{
	struct h_daemon d;
	ipc_client *c;

	h_start(&d);
	c = h_connect(&d);
	h_create_queue(c, "dead", 0);
	ck_assert_int_eq(open_dlq(c, "jobs", 0, 0, 3, "dead"), 0);
	ck_assert_int_eq(open_dlq(c, "jobs", 0, 0, 3, "dead"), IPC_EEXIST);
	{
		struct ipc_queue_opts o = IPC_QUEUE_OPTS_INIT;

		o.flags = IPC_QUEUE_CREATE;
		o.max_deliveries = 3;
		o.dead_letter = "dead";
		ck_assert_int_eq(ipc_queue_open(c, "jobs", &o, NULL), 0);
		o.max_deliveries = 4;
		ck_assert_int_eq(ipc_queue_open(c, "jobs", &o, NULL), IPC_EMISMATCH);
		o.max_deliveries = 3;
		o.dead_letter = "dead2";
		ck_assert_int_eq(ipc_queue_open(c, "jobs", &o, NULL), IPC_EMISMATCH);
	}
	ipc_close(c);
	h_stop(&d);
}
END_TEST

/* Bad settings are refused before anything is created. */
START_TEST(test_dlq_settings_refused)
{
	struct h_daemon d;
	ipc_client *c;

	h_start(&d);
	c = h_connect(&d);
	ck_assert_int_eq(open_dlq(c, "q", 0, 0, 3, NULL), IPC_EINVAL);
	ck_assert_int_eq(open_dlq(c, "q", 0, 0, 0, "dead"), IPC_EINVAL);
	ck_assert_int_eq(open_dlq(c, "q", 0, 0, -1, "dead"), IPC_EINVAL);
	ck_assert_int_eq(open_dlq(c, "q", 0, 0, 1, "bad name"), IPC_ENAME);
	ck_assert_int_eq(open_dlq(c, "q", 0, 0, 1, "q"), IPC_EINVAL);
	ck_assert_int_eq(ipc_stat(c, "q", &(struct ipc_info){ 0 },
				  sizeof(struct ipc_info)), IPC_ENOENT);
	ipc_close(c);
	h_stop(&d);
}
END_TEST

/* A move the dead-letter queue cannot take (missing, full, not writable
 * by the source queue's owner) keeps the message and counts it; once the
 * dead-letter queue can take it, the next unacked delivery moves it. */
START_TEST(test_dlq_refused_keeps)
{
	struct h_daemon d;
	struct ipc_info in;
	ipc_client *c;
	int root = geteuid() == 0;

	h_start(&d);
	c = h_connect(&d);
	ck_assert_int_eq(open_dlq(c, "jobs", 0, 0, 1, "dead"), 0);
	h_put_text(c, "jobs", "p");
	deliver_release(c, "jobs", "p");            /* no "dead" */
	in = h_stat(c, "jobs");
	ck_assert_uint_eq(in.dead_letter_failed, 1);
	ck_assert_uint_eq(in.dead_lettered, 0);
	ck_assert_uint_eq(in.size, 1);
	h_create_queue(c, "dead", 1);
	h_put_text(c, "dead", "x");
	deliver_release(c, "jobs", "p");            /* "dead" is full */
	ck_assert_uint_eq(h_stat(c, "jobs").dead_letter_failed, 2);
	h_get_expect(c, "dead", "x", 0);
	if (root) {
		/* jobs now belongs to a stranger, who may not write "dead". */
		ck_assert_int_eq(ipc_chmod(c, "dead", 0600), 0);
		ck_assert_int_eq(ipc_chown(c, "jobs", 4211, 4211), 0);
		deliver_release(c, "jobs", "p");
		ck_assert_uint_eq(h_stat(c, "jobs").dead_letter_failed, 3);
		ck_assert_uint_eq(h_stat(c, "dead").size, 0);
		ck_assert_int_eq(ipc_chmod(c, "dead", 0622), 0);
	}
	deliver_release(c, "jobs", "p");
	in = h_stat(c, "jobs");
	ck_assert_uint_eq(in.dead_lettered, 1);
	ck_assert_uint_eq(in.size, 0);
	h_get_expect(c, "dead", "p", 0);
	ipc_close(c);
	h_stop(&d);
}
END_TEST

/* A full dead-letter queue is full as a put finds it: a message its
 * held read-ahead consumer handed out, counted only in the hold page,
 * frees its slot for a move (the move reads the page first, like a put
 * that finds the queue full), and the move takes that one slot only. */
START_TEST(test_dlq_full_settles_page)
{
	struct h_daemon d;
	struct ipc_info in;
	ipc_client *c, *h;

	h_start(&d);
	c = h_connect(&d);
	h = h_connect(&d);
	h_create_queue(c, "dead", 2);
	ck_assert_int_eq(open_dlq(c, "jobs", 0, 0, 1, "dead"), 0);
	h_put_text(c, "dead", "a");
	h_put_text(c, "dead", "b");
	ck_assert_int_eq(ipc_queue_set_readahead_held(h, "dead", 2, 0), 0);
	h_get_expect(h, "dead", "a", 0);            /* holds "b"; "a" in the page */
	h_put_text(c, "jobs", "p");
	deliver_release(c, "jobs", "p");            /* to "dead", into the slot of "a" */
	in = h_stat(c, "jobs");
	ck_assert_uint_eq(in.dead_lettered, 1);
	ck_assert_uint_eq(in.dead_letter_failed, 0);
	ck_assert_uint_eq(in.size, 0);
	in = h_stat(c, "dead");
	ck_assert_uint_eq(in.size, 1);
	ck_assert_uint_eq(in.inflight, 1);
	ck_assert_int_eq(ipc_queue_put(c, "dead", "x", 1, 0), IPC_EFULL);
	h_get_expect(h, "dead", "b", 0);
	h_get_expect(h, "dead", "p", 0);
	ipc_close(h);
	ipc_close(c);
	h_stop(&d);
}
END_TEST

/* Slots reserved by a producer (QRESV) take room in the dead-letter
 * queue as for a put: a move there is refused and the message kept
 * while size + reserved reach maxsize, and moves once they are given
 * back. */
START_TEST(test_dlq_full_of_reserved)
{
	struct h_daemon d;
	struct ipc_info in;
	ipc_client *c, *r;
	unsigned granted = 0;
	int i;

	h_start(&d);
	c = h_connect(&d);
	r = h_connect(&d);
	h_create_queue(c, "dead", 8);
	ck_assert_int_eq(open_dlq(c, "jobs", 0, 0, 1, "dead"), 0);
	ck_assert_int_eq(ipc_queue_reserve(r, "dead", 2, &granted), 0);
	ck_assert_uint_eq(granted, 2);
	for (i = 0; i < 6; i++)
		h_put_text(c, "dead", "d");
	ck_assert_int_eq(ipc_queue_put(c, "dead", "x", 1, 0), IPC_EFULL);
	h_put_text(c, "jobs", "p");
	deliver_release(c, "jobs", "p");            /* "dead" is full */
	in = h_stat(c, "jobs");
	ck_assert_uint_eq(in.dead_letter_failed, 1);
	ck_assert_uint_eq(in.dead_lettered, 0);
	ck_assert_uint_eq(in.size, 1);
	in = h_stat(c, "dead");
	ck_assert_uint_eq(in.size, 6);
	ck_assert_uint_eq(in.reserved, 2);
	ck_assert_int_eq(ipc_queue_unreserve(r, "dead"), 0);
	deliver_release(c, "jobs", "p");
	in = h_stat(c, "jobs");
	ck_assert_uint_eq(in.dead_lettered, 1);
	ck_assert_uint_eq(in.size, 0);
	ck_assert_uint_eq(h_stat(c, "dead").size, 7);
	ipc_close(r);
	ipc_close(c);
	h_stop(&d);
}
END_TEST

/* A move refused by a full durable dead-letter queue leaves neither
 * journal changed: after a restart the message is in its queue once and
 * the dead-letter queue holds what it held. */
START_TEST(test_dlq_full_durable_kept)
{
	struct h_daemon d;
	ipc_client *c;

	h_start(&d);
	c = h_connect(&d);
	ck_assert_int_eq(open_dlq(c, "dead", 1, IPC_QUEUE_DURABLE, 0, NULL), 0);
	ck_assert_int_eq(open_dlq(c, "jobs", 0, IPC_QUEUE_DURABLE, 1, "dead"), 0);
	h_put_text(c, "dead", "x");
	h_put_text(c, "jobs", "p");
	deliver_release(c, "jobs", "p");            /* "dead" is full */
	ck_assert_uint_eq(h_stat(c, "jobs").dead_letter_failed, 1);
	c = h_crash_restart(&d, c);
	ck_assert_uint_eq(h_stat(c, "jobs").size, 1);
	ck_assert_uint_eq(h_stat(c, "dead").size, 1);
	h_get_expect(c, "dead", "x", 0);
	deliver_release(c, "jobs", "p");            /* room now: moved */
	ck_assert_uint_eq(h_stat(c, "jobs").dead_lettered, 1);
	c = h_crash_restart(&d, c);
	ck_assert_uint_eq(h_stat(c, "jobs").size, 0);
	ck_assert_uint_eq(h_stat(c, "dead").size, 1);
	h_get_expect(c, "dead", "p", 0);
	ipc_close(c);
	h_stop(&d);
}
END_TEST

/* A durable queue keeps its dead-lettering settings and its delivery
 * counts across a SIGKILL and restart; a moved message stays moved. */
START_TEST(test_dlq_durable_restart)
{
	struct h_daemon d;
	struct ipc_info in;
	ipc_client *c;

	h_start(&d);
	c = h_connect(&d);
	ck_assert_int_eq(open_dlq(c, "dead", 0, IPC_QUEUE_DURABLE, 0, NULL), 0);
	ck_assert_int_eq(open_dlq(c, "jobs", 0, IPC_QUEUE_DURABLE, 3, "dead"), 0);
	h_put_text(c, "jobs", "poison");
	h_put_text(c, "jobs", "good");
	deliver_release(c, "jobs", "poison");
	deliver_release(c, "jobs", "poison");
	c = h_crash_restart(&d, c);
	in = h_stat(c, "jobs");
	ck_assert_uint_eq(in.max_deliveries, 3);
	ck_assert_str_eq(in.dead_letter, "dead");
	ck_assert_uint_eq(in.size, 2);
	/* Two deliveries are journaled: the third is the last. */
	deliver_release(c, "jobs", "poison");
	in = h_stat(c, "jobs");
	ck_assert_uint_eq(in.dead_lettered, 1);
	ck_assert_uint_eq(in.size, 1);
	ck_assert_uint_eq(h_stat(c, "dead").size, 1);
	c = h_crash_restart(&d, c);
	ck_assert_uint_eq(h_stat(c, "jobs").size, 1);
	ck_assert_uint_eq(h_stat(c, "dead").size, 1);
	h_get_expect(c, "jobs", "good", 0);
	h_get_expect(c, "dead", "poison", 0);
	ipc_close(c);
	h_stop(&d);
}
END_TEST

/* --- four consumers crashing on one poison message ---------------------- */

/* The crash test's figures. */
#define T_GOOD 400          /* good messages, the poison one in the middle */
#define T_MAXDEL 5          /* max deliveries */
#define T_CONSUMERS 4

/* A consumer: take messages with ack until none comes for a while; a good
 * one is "processed" (its text put on queue "done") and acked; on the
 * poison one it dies without an ack, a different way each time (exit
 * status 42, SIGKILL, or a release then exit 42). */
static int consumer(void *arg)
{
	const char *sock = arg;
	ipc_client *c;
	void *data;
	size_t len;
	uint64_t tag;
	int rc, wait_ms = h_wrapped() ? 3000 : 1000;

	if (h_ipc_connect(sock, &c))
		return 120;
	while ((rc = ipc_queue_get_ack(c, "jobs", &data, &len, &tag, wait_ms, 0)) == 0) {
		if (len == 6 && memcmp(data, "poison", 6) == 0) {
			switch (getpid() % 3) {
			case 0: raise(SIGKILL); break;
			case 1: ipc_queue_release(c, "jobs", tag, 0); break;
			default: break;
			}
			_exit(42);
		}
		if (ipc_queue_put(c, "done", data, len, 0) != 0)
			return 2;
		ipc_free(data);
		if (ipc_queue_ack(c, "jobs", tag) != 0)
			return 3;
	}
	ipc_close(c);
	return rc == IPC_EEMPTY ? 0 : 4;
}

/* Wait for any of the consumers pids[0..n) to end: its index, and its
 * status in *st (exit status, or 128 + signal). */
static int reap_one(pid_t *pids, int n, int *st)
{
	int64_t end = h_now_ms() + T_CHILD_MS;
	int i, ws;
	pid_t p;

	while (h_now_ms() < end) {
		p = waitpid(-1, &ws, 0);
		for (i = 0; p > 0 && i < n; i++)
			if (pids[i] == p) {
				*st = WIFEXITED(ws) ? WEXITSTATUS(ws) : 128 + WTERMSIG(ws);
				pids[i] = 0;
				return i;
			}
	}
	ck_abort_msg("consumers did not finish");
	return -1;
}

/* Drain "done" and check every good message came exactly once. */
static void expect_done_once(ipc_client *c)
{
	static unsigned char seen[T_GOOD];
	char want[32];
	void *data;
	size_t len;
	unsigned i, n = 0;

	while (ipc_queue_get(c, "done", &data, &len, 0) == 0) {
		ck_assert_int_eq(sscanf(data, "good-%u", &i), 1);
		ck_assert_uint_lt(i, T_GOOD);
		snprintf(want, sizeof(want), "good-%u", i);
		ck_assert_uint_eq(len, strlen(want));
		ck_assert_msg(seen[i] == 0, "good-%u processed twice", i);
		seen[i] = 1;
		ipc_free(data);
		n++;
	}
	ck_assert_uint_eq(n, T_GOOD);
}

/* Four consumer processes take messages with ack; each that meets the
 * poison message crashes (killed, exits, or releases and exits) and is
 * replaced. The poison message is delivered exactly T_MAXDEL times and
 * then sits in the dead-letter queue; every good message is processed
 * exactly once. */
START_TEST(test_dlq_crashing_consumers)
{
	struct h_daemon d;
	struct ipc_info in;
	pid_t pids[T_CONSUMERS];
	char text[32];
	ipc_client *c;
	int i, st, crashes = 0, running = T_CONSUMERS;

	h_start(&d);
	c = h_connect(&d);
	h_create_queue(c, "dead", 0);
	h_create_queue(c, "done", 0);
	ck_assert_int_eq(open_dlq(c, "jobs", 0, 0, T_MAXDEL, "dead"), 0);
	for (i = 0; i < T_GOOD; i++) {
		if (i == T_GOOD / 2)
			h_put_text(c, "jobs", "poison");
		snprintf(text, sizeof(text), "good-%d", i);
		h_put_text(c, "jobs", text);
	}
	for (i = 0; i < T_CONSUMERS; i++)
		pids[i] = h_spawn(consumer, d.sock);
	while (running > 0) {
		i = reap_one(pids, T_CONSUMERS, &st);
		running--;
		if (st == 0)
			continue;
		ck_assert_msg(st == 42 || st == 128 + SIGKILL,
			      "a consumer failed with %d", st);
		crashes++;
		ck_assert_int_le(crashes, T_MAXDEL);
		pids[i] = h_spawn(consumer, d.sock);
		running++;
	}
	ck_assert_int_eq(crashes, T_MAXDEL);
	in = h_stat(c, "jobs");
	ck_assert_uint_eq(in.size, 0);
	ck_assert_uint_eq(in.inflight, 0);
	ck_assert_uint_eq(in.dead_lettered, 1);
	ck_assert_uint_eq(in.requeued, T_MAXDEL - 1);
	ck_assert_uint_eq(in.gets, T_GOOD + T_MAXDEL);
	ck_assert_uint_eq(h_stat(c, "dead").size, 1);
	h_get_expect(c, "dead", "poison", 0);
	expect_done_once(c);
	fprintf(stderr, "dlq_crashing_consumers: %d consumers, %d good messages "
		"processed once each, poison delivered %d times then "
		"dead-lettered\n", T_CONSUMERS, T_GOOD, crashes);
	ipc_close(c);
	h_stop(&d);
}
END_TEST

/* The suite. */
static Suite *deadletter_suite(void)
{
	Suite *s = suite_create("deadletter");

	h_add_case(s, "moves_after_max", test_dlq_moves_after_max, 20);
	h_add_case(s, "reopen_settings", test_dlq_reopen_settings, 20);
	h_add_case(s, "settings_refused", test_dlq_settings_refused, 20);
	h_add_case(s, "refused_keeps", test_dlq_refused_keeps, 20);
	h_add_case(s, "full_settles_page", test_dlq_full_settles_page, 20);
	h_add_case(s, "full_of_reserved", test_dlq_full_of_reserved, 20);
	h_add_case(s, "full_durable_kept", test_dlq_full_durable_kept, 30);
	h_add_case(s, "durable_restart", test_dlq_durable_restart, 30);
	h_add_case(s, "crashing_consumers", test_dlq_crashing_consumers, 60);
	return s;
}

int main(void)
{
	return h_run_suite(deadletter_suite());
}
