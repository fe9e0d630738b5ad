/* SPDX-License-Identifier: MIT */
/*
 * check_getany.c: ipc_queue_get_any() and its ack form against the real
 * ipcd: order of the queues, one parked request in every queue's FIFO of
 * getters (fair with single-queue getters), timeouts and interrupted
 * requests that take nothing, a queue deleted under a waiting request,
 * shutdown, ipcctl get with several queues, and many get_any and single
 * getters racing with producers (nothing lost, nothing twice). Each test
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

static const char *const q123[] = { "q1", "q2", "q3" };

/* What a waiting child does (set before h_spawn). */
static struct {
	const char *sock;
	const char *const *names;   /* get_any on these ... */
	size_t n;
	const char *single;         /* ... or a plain get on this one */
	int timeout_ms;
	int expect;                 /* the result it must see */
} job;

/* A child: one get (get_any or single), then the message put on queue
 * "res" as "<index>:<data>" (index of names, 0 for a single get). Exit
 * status 0 when the get returned job.expect. */
static int child_get(void *arg)
{
	char out[256];
	ipc_client *c;
	size_t len, index = 0;
	void *data;
	int rc;

	(void)arg;
	if (h_ipc_connect(job.sock, &c))
		return 120;
	if (job.single)
		rc = ipc_queue_get(c, job.single, &data, &len, job.timeout_ms);
	else
		rc = ipc_queue_get_any(c, job.names, job.n, &index, &data, &len,
				       job.timeout_ms);
	if (rc != job.expect)
		return h_job_status(rc) ? h_job_status(rc) : 99;
	if (rc == 0) {
		snprintf(out, sizeof(out), "%zu:%.*s", index, (int)len, (char *)data);
		ipc_free(data);
		if (ipc_queue_put(c, "res", out, strlen(out), 0) != 0)
			return 98;
	}
	ipc_close(c);
	return 0;
}

/* Spawn child_get on a get_any of names[0..n), or a plain get of single. */
static pid_t spawn_get(const struct h_daemon *d, const char *const *names,
		       size_t n, const char *single, int expect)
{
	job.sock = d->sock;
	job.names = names;
	job.n = n;
	job.single = single;
	job.timeout_ms = 20000;
	job.expect = expect;
	return h_spawn(child_get, NULL);
}

/* Create q1, q2, q3 and res. */
static void make_queues(ipc_client *c)
{
	h_create_queue(c, "q1", 0);
	h_create_queue(c, "q2", 0);
	h_create_queue(c, "q3", 0);
	h_create_queue(c, "res", 0);
}

/* Take from get_any and check which queue and what. */
static void expect_any(ipc_client *c, size_t n, int timeout, size_t want_index,
		       const char *want)
{
	size_t len, index = 99;
	void *data;

	ck_assert_int_eq(ipc_queue_get_any(c, q123, n, &index, &data, &len, timeout), 0);
	ck_assert_uint_eq(index, want_index);
	ck_assert_uint_eq(len, strlen(want));
	ck_assert_mem_eq(data, want, len);
	ipc_free(data);
}

/* The first non-empty queue in the order given; Empty takes nothing;
 * a timeout takes nothing and leaves no getter behind. */
START_TEST(test_any_order)
{
	struct h_daemon d;
	ipc_client *c;
	size_t len, index;
	void *data;
	int64_t t0;
	int i;

	h_start(&d);
	c = h_connect(&d);
	make_queues(c);
	ck_assert_int_eq(ipc_queue_get_any(c, q123, 3, &index, &data, &len, 0),
			 IPC_EEMPTY);
	h_put_text(c, "q3", "c1");
	h_put_text(c, "q2", "b1");
	h_put_text(c, "q3", "c2");
	expect_any(c, 3, 0, 1, "b1");
	expect_any(c, 3, 0, 2, "c1");
	ck_assert_int_eq(ipc_queue_get_any(c, q123, 2, &index, &data, &len, 0),
			 IPC_EEMPTY);
	/* A timeout takes nothing and leaves no getter behind. */
	t0 = h_now_ms();
	ck_assert_int_eq(ipc_queue_get_any(c, q123, 2, &index, &data, &len, 100),
			 IPC_EEMPTY);
	ck_assert_int_ge(h_now_ms() - t0, 90);
	for (i = 0; i < 3; i++) {
		ck_assert_uint_eq(h_stat(c, q123[i]).getters, 0);
		ck_assert_uint_eq(h_stat(c, q123[i]).gets, i == 0 ? 0 : 1);
	}
	expect_any(c, 3, 0, 2, "c2");
	ipc_close(c);
	h_stop(&d);
}
END_TEST

/* get_any refuses bad arguments (no names, more than IPC_GET_ANY_MAX, no
 * index), a bad name, a missing queue (naming it) and a pipe. */
START_TEST(test_any_refusals)
{
	const char *names[IPC_GET_ANY_MAX + 1];
	struct h_daemon d;
	ipc_client *c;
	size_t len, index;
	void *data;
	int i;

	h_start(&d);
	c = h_connect(&d);
	make_queues(c);
	ck_assert_int_eq(ipc_queue_get_any(c, q123, 0, &index, &data, &len, 0),
			 IPC_EINVAL);
	for (i = 0; i <= IPC_GET_ANY_MAX; i++)
		names[i] = "q1";
	ck_assert_int_eq(ipc_queue_get_any(c, names, IPC_GET_ANY_MAX + 1, &index,
					   &data, &len, 0), IPC_EINVAL);
	ck_assert_int_eq(ipc_queue_get_any(c, names, IPC_GET_ANY_MAX, &index,
					   &data, &len, 0), IPC_EEMPTY);
	ck_assert_int_eq(ipc_queue_get_any(c, q123, 3, NULL, &data, &len, 0),
			 IPC_EINVAL);
	names[1] = "bad name";
	ck_assert_int_eq(ipc_queue_get_any(c, names, 2, &index, &data, &len, 0),
			 IPC_ENAME);
	names[1] = "nope";
	ck_assert_int_eq(ipc_queue_get_any(c, names, 2, &index, &data, &len, 0),
			 IPC_ENOENT);
	ck_assert_ptr_nonnull(strstr(ipc_last_error(c), "'nope'"));
	ck_assert_int_eq(ipc_pipe_attach(c, "p", 0, IPC_PIPE_CREATE, NULL), 0);
	names[1] = "p";
	ck_assert_int_eq(ipc_queue_get_any(c, names, 2, &index, &data, &len, 0),
			 IPC_EWRONGTYPE);
	ipc_close(c);
	h_stop(&d);
}
END_TEST

/* Parked, a get_any waits in every queue's FIFO of getters at its
 * arrival: single getters parked before it on the queue that fills get
 * served first, those after it later; it leaves its other queues. */
START_TEST(test_any_fifo_fair)
{
	struct h_daemon d;
	ipc_client *c;
	pid_t a, b, g;
	int i;

	h_start(&d);
	c = h_connect(&d);
	make_queues(c);
	a = spawn_get(&d, NULL, 0, "q2", 0);
	h_wait_parked(c, "q2", 'g', 1);
	b = spawn_get(&d, q123, 3, NULL, 0);
	h_wait_parked(c, "q2", 'g', 2);
	h_wait_parked(c, "q1", 'g', 1);
	h_wait_parked(c, "q3", 'g', 1);
	g = spawn_get(&d, NULL, 0, "q2", 0);
	h_wait_parked(c, "q2", 'g', 3);
	h_put_text(c, "q2", "m1");
	ck_assert_int_eq(h_wait_child(a, T_CHILD_MS), 0);
	h_get_expect(c, "res", "0:m1", 5000);
	h_put_text(c, "q2", "m2");
	ck_assert_int_eq(h_wait_child(b, T_CHILD_MS), 0);
	h_get_expect(c, "res", "1:m2", 5000);
	for (i = 0; i < 3; i++)
		ck_assert_uint_eq(h_stat(c, q123[i]).getters, i == 1 ? 1 : 0);
	h_put_text(c, "q2", "m3");
	ck_assert_int_eq(h_wait_child(g, T_CHILD_MS), 0);
	h_get_expect(c, "res", "0:m3", 5000);
	/* Woken by q3, after two waits: the index names q3. */
	b = spawn_get(&d, q123, 3, NULL, 0);
	h_wait_parked(c, "q3", 'g', 1);
	h_put_text(c, "q3", "m4");
	ck_assert_int_eq(h_wait_child(b, T_CHILD_MS), 0);
	h_get_expect(c, "res", "2:m4", 5000);
	ipc_close(c);
	h_stop(&d);
}
END_TEST

/* At-least-once: acked on the queue it came from; a lease that runs out
 * or a connection that closes puts it back at the head of that queue. */
START_TEST(test_any_ack)
{
	struct h_daemon d;
	ipc_client *c, *c2;
	size_t len, index = 9;
	uint64_t tag = 0;
	void *data;

	h_start(&d);
	c = h_connect(&d);
	make_queues(c);
	h_put_text(c, "q2", "x");
	h_put_text(c, "q2", "y");
	ck_assert_int_eq(ipc_queue_get_any_ack(c, q123, 3, &index, &data, &len,
					       &tag, 0, 0), 0);
	ck_assert_uint_eq(index, 1);
	ck_assert_mem_eq(data, "x", 1);
	ipc_free(data);
	ck_assert_uint_eq(h_stat(c, "q2").inflight, 1);
	ck_assert_int_eq(ipc_queue_ack(c, "q1", tag), IPC_ENOTHELD);
	ck_assert_int_eq(ipc_queue_ack(c, "q2", tag), 0);
	ck_assert_int_eq(ipc_queue_get_any_ack(c, q123, 3, &index, &data, &len,
					       &tag, 0, -1), IPC_EINVAL);
	ck_assert_int_eq(ipc_queue_get_any_ack(c, q123, 3, &index, &data, &len,
					       NULL, 0, 0), IPC_EINVAL);
	/* Lease: back at the head of q2, ahead of nothing newer. */
	ck_assert_int_eq(ipc_queue_get_any_ack(c, q123, 3, &index, &data, &len,
					       &tag, 0, 50), 0);
	ipc_free(data);
	usleep(300 * 1000);
	ck_assert_uint_eq(h_stat(c, "q2").requeued, 1);
	/* Parked, with ack: delivered by q3, in flight there. */
	h_get_expect(c, "q2", "y", 0);
	c2 = h_connect(&d);
	ck_assert_int_eq(ipc_queue_get_any_ack(c2, q123, 2, &index, &data, &len,
					       &tag, 100, 0), IPC_EEMPTY);
	ck_assert_int_eq(ipc_queue_put(c, "q1", "z", 1, 0), 0);
	ck_assert_int_eq(ipc_queue_get_any_ack(c2, q123, 2, &index, &data, &len,
					       &tag, 1000, 0), 0);
	ck_assert_uint_eq(index, 0);
	ipc_free(data);
	ipc_close(c2);              /* unacked: back to q1 */
	h_get_expect(c, "q1", "z", 5000);
	ck_assert_uint_eq(h_stat(c, "q1").requeued, 1);
	ipc_close(c);
	h_stop(&d);
}
END_TEST

/* A parked get_any whose process is killed takes nothing; a queue
 * deleted under it is dropped from the wait; all deleted: EDELETED. */
START_TEST(test_any_kill_and_delete)
{
	struct h_daemon d;
	ipc_client *c;
	pid_t p;
	int i;

	h_start(&d);
	c = h_connect(&d);
	make_queues(c);
	p = spawn_get(&d, q123, 3, NULL, 0);
	for (i = 0; i < 3; i++)
		h_wait_parked(c, q123[i], 'g', 1);
	kill(p, SIGKILL);
	ck_assert_int_eq(h_wait_child(p, T_CHILD_MS), 128 + SIGKILL);
	for (i = 0; i < 3; i++)
		h_wait_parked(c, q123[i], 'g', 0);
	h_put_text(c, "q1", "kept");
	ck_assert_uint_eq(h_stat(c, "q1").size, 1);
	h_get_expect(c, "q1", "kept", 0);
	/* q1 deleted, then a put on q2: the wait went on. */
	p = spawn_get(&d, q123, 2, NULL, 0);
	h_wait_parked(c, "q2", 'g', 1);
	h_wait_parked(c, "q1", 'g', 1);
	ck_assert_int_eq(ipc_delete(c, "q1"), 0);
	usleep(100 * 1000);
	ck_assert_int_eq(waitpid(p, NULL, WNOHANG), 0);
	ck_assert_uint_eq(h_stat(c, "q2").getters, 1);
	h_put_text(c, "q2", "after");
	ck_assert_int_eq(h_wait_child(p, T_CHILD_MS), 0);
	h_get_expect(c, "res", "1:after", 5000);
	/* Both deleted: IPC_EDELETED. */
	h_create_queue(c, "q1", 0);
	p = spawn_get(&d, q123, 2, NULL, IPC_EDELETED);
	h_wait_parked(c, "q2", 'g', 1);
	h_wait_parked(c, "q1", 'g', 1);
	ck_assert_int_eq(ipc_delete(c, "q2"), 0);
	ck_assert_int_eq(ipc_delete(c, "q1"), 0);
	ck_assert_int_eq(h_wait_child(p, T_CHILD_MS), 0);
	ipc_close(c);
	h_stop(&d);
}
END_TEST

/* Shutdown answers a parked get_any with IPC_ESHUTDOWN (and ipcd, under
 * valgrind, frees all of it). */
START_TEST(test_any_shutdown)
{
	struct h_daemon d;
	ipc_client *c;
	pid_t p;

	h_start(&d);
	c = h_connect(&d);
	make_queues(c);
	p = spawn_get(&d, q123, 3, NULL, IPC_ESHUTDOWN);
	h_wait_parked(c, "q3", 'g', 1);
	ipc_close(c);
	h_stop(&d);
	ck_assert_int_eq(h_wait_child(p, T_CHILD_MS), 0);
}
END_TEST

/* ipcctl get with several queues: which one with --json; --all drains
 * them in order; --ack acks on the right queue. */
START_TEST(test_any_ipcctl)
{
	struct h_daemon d;
	struct h_buf out = { 0 };
	ipc_client *c;

	h_start(&d);
	c = h_connect(&d);
	make_queues(c);
	h_put_text(c, "q3", "three");
	h_put_text(c, "q2", "t\"wo\n");
	ck_assert_int_eq(h_run_ipcctl(&d, NULL, 0, &out, NULL, "get", "q1", "q2",
				      "q3", "--json", "--all", "--ack", NULL), 0);
	ck_assert_str_eq(out.data, "{\"queue\":\"q2\",\"data\":\"t\\\"wo\\u000a\"}\n"
				   "{\"queue\":\"q3\",\"data\":\"three\"}\n");
	h_buf_free(&out);
	ck_assert_uint_eq(h_stat(c, "q2").inflight + h_stat(c, "q3").inflight, 0);
	ck_assert_uint_eq(h_stat(c, "q2").size + h_stat(c, "q3").size, 0);
	ck_assert_int_eq(h_run_ipcctl(&d, NULL, 0, NULL, NULL, "get", "q1", "q2",
				      "--nowait", NULL), 3);
	ck_assert_int_eq(h_run_ipcctl(&d, NULL, 0, NULL, NULL, "get", "q1", "q2",
				      "--json", "-0", NULL), 2);
	ipc_close(c);
	h_stop(&d);
}
END_TEST

/* --- racing: get_any and single getters, producers, nothing lost ---------- */

#define R_QUEUES 3
#define R_PRODUCERS 3
#define R_ANY 3             /* get_any consumers (over all three queues) */
#define R_SINGLE 3          /* single getters, one per queue */
#define RACE_POLL_MS 100    /* a consumer's get timeout between checks */

/* Messages per producer (smaller under valgrind). */
static int race_msgs(void)
{
	return 3000 / (int)h_scale();
}

/* A producer: race_msgs() messages "P<k>-<i>" spread over the queues. */
static int race_producer(void *arg)
{
	int k = (int)(intptr_t)arg, i;
	char text[32];
	ipc_client *c;

	if (h_ipc_connect(job.sock, &c))
		return 120;
	for (i = 0; i < race_msgs(); i++) {
		snprintf(text, sizeof(text), "P%d-%d", k, i);
		if (ipc_queue_put(c, q123[(i * 7 + k) % R_QUEUES], text,
				  strlen(text), IPC_FOREVER) != 0)
			return 1;
	}
	ipc_close(c);
	return 0;
}

/* 1 when a race consumer should stop after an empty get: every message
 * reached "res", or none came for a while (*idle_ms, the bound that
 * catches a lost one). */
static int race_over(ipc_client *c, int *idle_ms)
{
	struct ipc_info in;

	if (ipc_stat(c, "res", &in, sizeof(in)) == 0 &&
	    in.size >= (size_t)(R_PRODUCERS * race_msgs()))
		return 1;
	*idle_ms += RACE_POLL_MS;
	return *idle_ms >= (h_wrapped() ? 10000 : 3000);
}

/* A consumer (arg: -1 get_any over all queues, else a single queue's
 * index): forward every message to "res" until all are there or none
 * comes for a while; get_any ones acked, half of them (alternating). */
static int race_consumer(void *arg)
{
	int which = (int)(intptr_t)arg, rc, n = 0, idle = 0;
	const int wait_ms = RACE_POLL_MS;
	size_t len, index;
	uint64_t tag;
	ipc_client *c;
	void *data;

	if (h_ipc_connect(job.sock, &c))
		return 120;
	for (;;) {
		if (which >= 0)
			rc = ipc_queue_get(c, q123[which], &data, &len, wait_ms);
		else if (n % 2)
			rc = ipc_queue_get_any_ack(c, q123, R_QUEUES, &index, &data,
						   &len, &tag, wait_ms, 0);
		else
			rc = ipc_queue_get_any(c, q123, R_QUEUES, &index, &data, &len,
					       wait_ms);
		if (rc == IPC_EEMPTY && !race_over(c, &idle))
			continue;
		if (rc != 0)
			break;
		idle = 0;
		if (ipc_queue_put(c, "res", data, len, IPC_FOREVER) != 0 ||
		    (which < 0 && ipc_queue_put(c, "byany", "", 0, IPC_FOREVER) != 0))
			return 2;
		ipc_free(data);
		if (which < 0 && n % 2 && ipc_queue_ack(c, q123[index], tag) != 0)
			return 3;
		n++;
	}
	ipc_close(c);
	return rc == IPC_EEMPTY ? 0 : 4;
}

/* Drain "res": every message of every producer exactly once; return how
 * many of them the get_any consumers took ("byany"). */
static unsigned long long race_check(ipc_client *c)
{
	int total = R_PRODUCERS * race_msgs(), k, i, n = 0;
	unsigned char *seen = calloc((size_t)total, 1);
	char text[32];
	void *data;
	size_t len;

	ck_assert_ptr_nonnull(seen);
	while (ipc_queue_get(c, "res", &data, &len, 0) == 0) {
		ck_assert_uint_lt(len, sizeof(text));
		memcpy(text, data, len);
		text[len] = '\0';
		ipc_free(data);
		ck_assert_int_eq(sscanf(text, "P%d-%d", &k, &i), 2);
		ck_assert(k >= 0 && k < R_PRODUCERS && i >= 0 && i < race_msgs());
		ck_assert_msg(!seen[k * race_msgs() + i], "%s got twice", text);
		seen[k * race_msgs() + i] = 1;
		n++;
	}
	ck_assert_int_eq(n, total);
	free(seen);
	return h_stat(c, "byany").size;
}

/* Three get_any consumers and three single getters race three producers
 * over three queues: every message is delivered exactly once. */
START_TEST(test_any_race)
{
	pid_t pids[R_PRODUCERS + R_ANY + R_SINGLE];
	struct h_daemon d;
	ipc_client *c;
	unsigned long long byany;
	int i, np = 0;
	int64_t t0;

	h_start(&d);
	c = h_connect(&d);
	make_queues(c);
	h_create_queue(c, "byany", 0);
	job.sock = d.sock;
	for (i = 0; i < R_ANY; i++)
		pids[np++] = h_spawn(race_consumer, (void *)(intptr_t)-1);
	for (i = 0; i < R_SINGLE; i++)
		pids[np++] = h_spawn(race_consumer, (void *)(intptr_t)(i % R_QUEUES));
	t0 = h_now_ms();
	for (i = 0; i < R_PRODUCERS; i++)
		pids[np++] = h_spawn(race_producer, (void *)(intptr_t)i);
	for (i = 0; i < np; i++)
		ck_assert_int_eq(h_wait_child(pids[i], T_CHILD_MS), 0);
	for (i = 0; i < R_QUEUES; i++) {
		ck_assert_uint_eq(h_stat(c, q123[i]).size, 0);
		ck_assert_uint_eq(h_stat(c, q123[i]).inflight, 0);
		ck_assert_uint_eq(h_stat(c, q123[i]).getters, 0);
	}
	byany = race_check(c);
	/* Both kinds of consumer took part. */
	ck_assert_uint_gt(byany, 0);
	ck_assert_uint_lt(byany, (unsigned long long)R_PRODUCERS * race_msgs());
	fprintf(stderr, "any_race: %d messages from %d producers, %d get_any and "
		"%d single consumers: each delivered once, %llu by get_any "
		"(%lld ms)\n", R_PRODUCERS * race_msgs(), R_PRODUCERS, R_ANY,
		R_SINGLE, byany, (long long)(h_now_ms() - t0));
	ipc_close(c);
	h_stop(&d);
}
END_TEST

/* The suite. */
static Suite *getany_suite(void)
{
	Suite *s = suite_create("getany");

	h_add_case(s, "order", test_any_order, 20);
	h_add_case(s, "refusals", test_any_refusals, 20);
	h_add_case(s, "fifo_fair", test_any_fifo_fair, 20);
	h_add_case(s, "ack", test_any_ack, 20);
	h_add_case(s, "kill_and_delete", test_any_kill_and_delete, 20);
	h_add_case(s, "shutdown", test_any_shutdown, 20);
	h_add_case(s, "ipcctl", test_any_ipcctl, 20);
	h_add_case(s, "race", test_any_race, 60);
	return s;
}

int main(void)
{
	return h_run_suite(getany_suite());
}
