/* SPDX-License-Identifier: MIT */
/*
 * check_batch.c: batched and pipelined calls against the real ipcd:
 * ipc_queue_put_many / ipc_queue_get_many (prefix semantics, Full, Empty, timeouts,
 * the frame cut), async puts with ipc_flush reporting the first failure,
 * the async window, read-ahead and who owns messages read ahead, the
 * batch ops spoken raw, and exactly-once FIFO delivery with 4 producers
 * and 4 consumers on the pipelined and batched calls (and on pipelined
 * batches with read-ahead); pipe async sends and read-ahead receives,
 * and ipc_pipe_arm (a descriptor to poll).
 * No speed is
 * asserted here: that is `make bench`.
 */
#include <check.h>
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <sys/wait.h>

#include "harness.h"
#include <ipcclient/ipcclient.h>
#include "proto.h"

/* How long a child may take to finish its part (ms). */
#define T_CHILD_MS (h_wrapped() ? 120000 : 20000)

/* The number of messages queue q holds. */
static unsigned long long queue_size(ipc_client *c, const char *q)
{
	return h_stat(c, q).size;
}

/* Fill msgs[i] with the text "<prefix><i>" (storage in buf, 32 per message). */
static void make_msgs(struct ipc_msg *msgs, char (*buf)[32], size_t n,
		      const char *prefix, size_t first)
{
	size_t i;

	for (i = 0; i < n; i++) {
		snprintf(buf[i], sizeof(buf[i]), "%s%zu", prefix, first + i);
		msgs[i].data = buf[i];
		msgs[i].len = strlen(buf[i]);
	}
}

/* Assert m holds exactly the text want. */
static void expect_msg(const struct ipc_msg *m, const char *want)
{
	ck_assert_uint_eq(m->len, strlen(want));
	ck_assert_msg(memcmp(m->data, want, m->len) == 0, "got '%.*s', want '%s'",
		      (int)m->len, (const char *)m->data, want);
}

/* Assert that at least want ms (and not absurdly more) passed since t0. */
static void assert_elapsed(int64_t t0, int64_t want)
{
	int64_t ms = h_now_ms() - t0;

	ck_assert_msg(ms >= want, "returned after %lld ms, before %lld ms",
		      (long long)ms, (long long)want);
	ck_assert_msg(ms < want + (h_wrapped() ? 10000 : 2000),
		      "returned after %lld ms, long after %lld ms",
		      (long long)ms, (long long)want);
}

/* Reserved slots until the daemon has seen what c did (a close, a
 * kill): polled, as the daemon learns of it when it reads. */
static unsigned long long reserved_soon(ipc_client *o, const char *q, unsigned long long want)
{
	int64_t end = h_now_ms() + 10000;
	unsigned long long r;

	while ((r = h_stat(o, q).reserved) != want && h_now_ms() < end)
		usleep(2000);
	return r;
}

/* A child that reserves slots of queue "r" and is SIGKILLed holding them. */
static int job_reserve_and_die(void *arg)
{
	const struct h_daemon *d = arg;
	ipc_client *c;
	unsigned g = 0;

	if (h_ipc_connect(d->sock, &c) != 0 || ipc_queue_reserve(c, "r", 64, &g) != 0)
		return 1;
	raise(SIGKILL);
	return 2;
}

/* ipcctl ls and metrics show queue r's 25 reserved slots: r's ls row
 * says reserved=25, u's (none) says nothing, metrics has both series. */
static void reserved_shown(struct h_daemon *d)
{
	struct h_buf out;

	ck_assert_int_eq(h_run_ipcctl(d, NULL, 0, &out, NULL, "ls", NULL), 0);
	ck_assert_msg(strstr(out.data, "  reserved=25\n") &&
		      !strstr(strstr(out.data, "\nu "), "reserved="), "%s", out.data);
	h_buf_free(&out);
	ck_assert_int_eq(h_run_ipcctl(d, NULL, 0, &out, NULL, "metrics", NULL), 0);
	ck_assert_msg(strstr(out.data, "\nipcd_queue_reserved{queue=\"r\"} 25\n") &&
		      strstr(out.data, "\nipcd_queue_reserved{queue=\"u\"} 0\n"),
		      "metrics: no ipcd_queue_reserved r 25, u 0 (%zu bytes)", out.len);
	h_buf_free(&out);
}

/* Credits (ipc_queue_reserve): a quarter of the free room, counted toward
 * maxsize for every other put, spent by pipelined puts that cannot be
 * Full, IPC_ENOTHELD past them; given back by ipc_queue_unreserve, a
 * close, a SIGKILL; forgotten by a delete; none on an unbounded queue. */
START_TEST(test_reserve_credits)
{
	struct h_daemon d;
	struct h_buf out;
	ipc_client *c, *o;
	unsigned g = 99, i;
	pid_t pid;

	h_start(&d);
	c = h_connect(&d);
	o = h_connect(&d);
	h_create_queue(c, "r", 100);
	h_create_queue(c, "u", 0);
	ck_assert_int_eq(ipc_queue_reserve(c, "u", 64, &g), IPC_EFULL);
	ck_assert_uint_eq(g, 0);
	ck_assert_int_eq(ipc_queue_reserve(c, "r", 64, &g), 0);
	ck_assert_uint_eq(g, 25);
	ck_assert_uint_eq(h_stat(o, "r").reserved, 25);
	ck_assert_int_eq(h_run_ipcctl(&d, NULL, 0, &out, NULL, "stat", "r", NULL), 0);
	ck_assert_ptr_nonnull(strstr(out.data, "\nreserved: 25\n"));  /* ipcctl shows it */
	h_buf_free(&out);
	reserved_shown(&d);
	for (i = 0; i < 75; i++)
		ck_assert_int_eq(ipc_queue_put(o, "r", "o", 1, 0), 0);
	ck_assert_int_eq(ipc_queue_put(o, "r", "o", 1, 0), IPC_EFULL);   /* 75 + 25 */
	ck_assert_int_eq(ipc_queue_reserve(o, "r", 64, &g), IPC_EFULL);
	for (i = 0; i < 25; i++)
		ck_assert_int_eq(ipc_queue_put_reserved_async(c, "r", "c", 1), 0);
	ck_assert_int_eq(ipc_flush(c), 0);
	ck_assert_uint_eq(h_stat(o, "r").size, 100);
	ck_assert_uint_eq(h_stat(o, "r").reserved, 0);
	ck_assert_int_eq(ipc_queue_put_reserved_async(c, "r", "x", 1), 0);
	ck_assert_int_eq(ipc_flush(c), IPC_ENOTHELD);                    /* none left */
	ck_assert_int_eq(ipc_queue_purge(o, "r", NULL), 0);
	ck_assert_int_eq(ipc_queue_reserve(c, "r", 10, &g), 0);
	ck_assert_uint_eq(g, 10);
	ck_assert_int_eq(ipc_queue_unreserve(c, "r"), 0);
	ck_assert_uint_eq(h_stat(o, "r").reserved, 0);
	ck_assert_int_eq(ipc_queue_reserve(c, "r", 64, &g), 0);
	ipc_close(c);                                                    /* gives back */
	ck_assert_uint_eq(reserved_soon(o, "r", 0), 0);
	pid = h_spawn(job_reserve_and_die, &d);
	ck_assert_int_eq(h_wait_child(pid, 10000), 128 + SIGKILL);
	ck_assert_uint_eq(reserved_soon(o, "r", 0), 0);
	c = h_connect(&d);
	ck_assert_int_eq(ipc_queue_reserve(c, "r", 64, &g), 0);
	ck_assert_int_eq(ipc_delete(o, "r"), 0);                         /* forgets */
	h_create_queue(o, "r", 100);
	ck_assert_uint_eq(h_stat(o, "r").reserved, 0);
	ck_assert_int_eq(ipc_queue_put_reserved_async(c, "r", "x", 1), 0);
	ck_assert_int_eq(ipc_flush(c), IPC_ENOTHELD);                    /* not this queue's */
	ck_assert_uint_eq(h_stat(o, "r").size, 0);
	ck_assert_int_eq(ipc_queue_reserve(c, "r", 64, &g), 0);          /* held at shutdown */
	ipc_close(o);
	ipc_close(c);
	h_stop(&d);
}
END_TEST

/* The putters parked on queue q, once there is one (at most 10 s). */
static unsigned putters_soon(ipc_client *o, const char *q)
{
	int64_t end = h_now_ms() + 10000;
	unsigned n;

	while ((n = h_stat(o, q).putters) == 0 && h_now_ms() < end)
		usleep(2000);
	return n;
}

/* ipc_queue_reserve_idle: slots unspent idle_ms after their last use go
 * back (Full is then exact without them); a reserved put that comes
 * after that waits for room, in order, and is not lost. */
START_TEST(test_reserve_idle)
{
	struct h_daemon d;
	ipc_client *c, *o;
	unsigned g = 99, i;
	size_t len;
	void *m;

	h_start(&d);
	c = h_connect(&d);
	o = h_connect(&d);
	h_create_queue(c, "r", 100);
	ck_assert_int_eq(ipc_queue_reserve_idle(c, "r", 64, -1, &g), IPC_EINVAL);
	ck_assert_int_eq(ipc_queue_reserve_idle(c, "r", 64, 50, &g), 0);
	ck_assert_uint_eq(g, 25);
	ck_assert_uint_eq(reserved_soon(o, "r", 0), 0);                  /* idle: back */
	for (i = 0; i < 100; i++)
		ck_assert_int_eq(ipc_queue_put(o, "r", "o", 1, 0), 0);
	ck_assert_int_eq(ipc_queue_put(o, "r", "o", 1, 0), IPC_EFULL);   /* 100 exactly */
	ck_assert_int_eq(ipc_queue_put_reserved_async(c, "r", "late", 4), 0);
	ck_assert_int_eq(ipc_push(c), 0);
	ck_assert_uint_eq(putters_soon(o, "r"), 1);                       /* waits for room */
	ck_assert_uint_eq(h_stat(o, "r").size, 100);
	ck_assert_int_eq(ipc_queue_get(o, "r", &m, &len, 0), 0);
	ipc_free(m);
	ck_assert_int_eq(ipc_flush(c), 0);                               /* then in */
	ck_assert_uint_eq(h_stat(o, "r").size, 100);
	for (i = 0; i < 99; i++) {
		ck_assert_int_eq(ipc_queue_get(o, "r", &m, &len, 0), 0);
		ipc_free(m);
	}
	ck_assert_int_eq(ipc_queue_get(o, "r", &m, &len, 0), 0);
	ck_assert_uint_eq(len, 4);
	ck_assert(memcmp(m, "late", 4) == 0);                            /* at the tail */
	ipc_free(m);
	ck_assert_int_eq(ipc_queue_unreserve(c, "r"), 0);  /* forgets those taken back */
	ck_assert_int_eq(ipc_queue_put_reserved_async(c, "r", "x", 1), 0);
	ck_assert_int_eq(ipc_flush(c), IPC_ENOTHELD);
	ipc_close(o);
	ipc_close(c);
	h_stop(&d);
}
END_TEST

START_TEST(test_put_get_many)
{
	struct h_daemon d;
	struct ipc_msg in[10], out[16];
	char buf[10][32];
	size_t n = 99, i;
	ipc_client *c;

	h_start(&d);
	c = h_connect(&d);
	h_create_queue(c, "b", 0);
	make_msgs(in, buf, 10, "m", 0);
	ck_assert_int_eq(ipc_queue_put_many(c, "b", in, 10, &n, 0), 0);
	ck_assert_uint_eq(n, 10);
	ck_assert_uint_eq(queue_size(c, "b"), 10);
	/* max is honoured; the rest stay, in order. */
	ck_assert_int_eq(ipc_queue_get_many(c, "b", out, 3, &n, 0), 0);
	ck_assert_uint_eq(n, 3);
	for (i = 0; i < 3; i++)
		expect_msg(&out[i], buf[i]);
	ck_assert_int_eq(ipc_queue_get_many(c, "b", out, 16, &n, 0), 0);
	ck_assert_uint_eq(n, 7);
	for (i = 0; i < 7; i++)
		expect_msg(&out[i], buf[3 + i]);
	/* Empty: nowait. */
	ck_assert_int_eq(ipc_queue_get_many(c, "b", out, 16, &n, 0), IPC_EEMPTY);
	ck_assert_uint_eq(n, 0);
	ipc_close(c);
	h_stop(&d);
}
END_TEST

/* Zero-length messages (also with data NULL) and a batch of n == 0 are
 * fine. */
START_TEST(test_put_many_zero_length)
{
	struct h_daemon d;
	struct ipc_msg in[2], out[16];
	char buf[2][32];
	size_t n = 99;
	ipc_client *c;

	h_start(&d);
	c = h_connect(&d);
	h_create_queue(c, "b", 0);
	make_msgs(in, buf, 2, "m", 0);
	in[0].len = 0;
	in[1].data = NULL;
	in[1].len = 0;
	ck_assert_int_eq(ipc_queue_put_many(c, "b", in, 2, &n, 0), 0);
	ck_assert_int_eq(ipc_queue_put_many(c, "b", in, 0, &n, 0), 0);
	ck_assert_uint_eq(n, 0);
	ck_assert_int_eq(ipc_queue_get_many(c, "b", out, 16, &n, 0), 0);
	ck_assert_uint_eq(n, 2);
	ck_assert_uint_eq(out[0].len + out[1].len, 0);
	ipc_close(c);
	h_stop(&d);
}
END_TEST

START_TEST(test_put_many_full)
{
	struct h_daemon d;
	struct ipc_msg in[8], out[8];
	char buf[8][32];
	size_t n = 99, i;
	int64_t t0;
	ipc_client *c;

	h_start(&d);
	c = h_connect(&d);
	h_create_queue(c, "f", 5);
	make_msgs(in, buf, 8, "x", 0);
	/* As many as fit: a prefix of 5, then Full without waiting. */
	ck_assert_int_eq(ipc_queue_put_many(c, "f", in, 8, &n, 0), IPC_EFULL);
	ck_assert_uint_eq(n, 5);
	ck_assert_uint_eq(queue_size(c, "f"), 5);
	/* Still full: nothing more, after the timeout. */
	t0 = h_now_ms();
	ck_assert_int_eq(ipc_queue_put_many(c, "f", in + 5, 3, &n, 300), IPC_EFULL);
	assert_elapsed(t0, 300);
	ck_assert_uint_eq(n, 0);
	ck_assert_int_eq(ipc_queue_get_many(c, "f", out, 8, &n, 0), 0);
	ck_assert_uint_eq(n, 5);
	for (i = 0; i < 5; i++)
		expect_msg(&out[i], buf[i]);
	ipc_close(c);
	h_stop(&d);
}
END_TEST

/* Child: put 6 messages "w0".."w5" with put_many into "f" (maxsize 2),
 * waiting forever; exit 0 when all were put. */
static int job_put_six(void *arg)
{
	const struct h_daemon *d = arg;
	struct ipc_msg in[6];
	char buf[6][32];
	ipc_client *c;
	size_t n = 0;
	int rc;

	if (h_ipc_connect(d->sock, &c))
		return 120;
	make_msgs(in, buf, 6, "w", 0);
	rc = ipc_queue_put_many(c, "f", in, 6, &n, IPC_FOREVER);
	ipc_close(c);
	return rc == 0 && n == 6 ? 0 : 10;
}

START_TEST(test_put_many_blocks)
{
	struct h_daemon d;
	struct ipc_msg out[4];
	char want[32];
	size_t n, got = 0, i;
	ipc_client *c;
	pid_t pid;

	h_start(&d);
	c = h_connect(&d);
	h_create_queue(c, "f", 2);
	pid = h_spawn(job_put_six, &d);
	/* The producer fills the queue, then waits for room: parked. */
	h_wait_parked(c, "f", 'p', 1);
	while (got < 6) {
		ck_assert_int_eq(ipc_queue_get_many(c, "f", out, 4, &n, 5000), 0);
		/* Two held, and each get admits the parked putter's next. */
		ck_assert_uint_le(n, 3);
		for (i = 0; i < n; i++) {
			snprintf(want, sizeof(want), "w%zu", got + i);
			expect_msg(&out[i], want);
		}
		got += n;
	}
	ck_assert_int_eq(h_wait_child(pid, T_CHILD_MS), 0);
	ipc_close(c);
	h_stop(&d);
}
END_TEST

/* Child: sleep 200 ms, then put "late" into "e". */
static int job_put_late(void *arg)
{
	const struct h_daemon *d = arg;
	ipc_client *c;
	int rc;

	usleep(200000);
	if (h_ipc_connect(d->sock, &c))
		return 120;
	rc = ipc_queue_put(c, "e", "late", 4, 0);
	ipc_close(c);
	return rc;
}

START_TEST(test_get_many_waits)
{
	struct h_daemon d;
	struct ipc_msg out[8];
	size_t n = 99;
	int64_t t0;
	ipc_client *c;
	pid_t pid;

	h_start(&d);
	c = h_connect(&d);
	h_create_queue(c, "e", 0);
	t0 = h_now_ms();
	ck_assert_int_eq(ipc_queue_get_many(c, "e", out, 8, &n, 250), IPC_EEMPTY);
	assert_elapsed(t0, 250);
	ck_assert_uint_eq(n, 0);
	/* A parked batch get is woken by the first message, and gets it. */
	/* t0 before the fork: the child's sleep starts after it. */
	t0 = h_now_ms();
	pid = h_spawn(job_put_late, &d);
	ck_assert_int_eq(ipc_queue_get_many(c, "e", out, 8, &n, IPC_FOREVER), 0);
	assert_elapsed(t0, 150);
	ck_assert_uint_eq(n, 1);
	expect_msg(&out[0], "late");
	ck_assert_int_eq(h_wait_child(pid, T_CHILD_MS), 0);
	ipc_close(c);
	h_stop(&d);
}
END_TEST

/* Child: sleep 200 ms, then put_many "t0".."t4" into "e". */
static int job_put_many_late(void *arg)
{
	const struct h_daemon *d = arg;
	struct ipc_msg in[5];
	char buf[5][32];
	ipc_client *c;
	size_t n;
	int rc;

	usleep(200000);
	if (h_ipc_connect(d->sock, &c))
		return 120;
	make_msgs(in, buf, 5, "t", 0);
	rc = ipc_queue_put_many(c, "e", in, 5, &n, 0);
	ipc_close(c);
	return rc == 0 && n == 5 ? 0 : 10;
}

START_TEST(test_get_many_woken_by_batch)
{
	struct h_daemon d;
	struct ipc_msg out[8];
	char want[32];
	size_t n = 0, i;
	ipc_client *c;
	pid_t pid;

	h_start(&d);
	c = h_connect(&d);
	h_create_queue(c, "e", 0);
	/* A parked batch get woken by a batch put takes the whole batch in
	 * one reply, not just its first message. */
	pid = h_spawn(job_put_many_late, &d);
	ck_assert_int_eq(ipc_queue_get_many(c, "e", out, 8, &n, IPC_FOREVER), 0);
	ck_assert_int_eq(h_wait_child(pid, T_CHILD_MS), 0);
	ck_assert_uint_eq(n, 5);
	for (i = 0; i < 5; i++) {
		snprintf(want, sizeof(want), "t%zu", i);
		expect_msg(&out[i], want);
	}
	/* ... but never more than it asked for: the rest stay queued. */
	pid = h_spawn(job_put_many_late, &d);
	ck_assert_int_eq(ipc_queue_get_many(c, "e", out, 3, &n, IPC_FOREVER), 0);
	ck_assert_int_eq(h_wait_child(pid, T_CHILD_MS), 0);
	ck_assert_uint_eq(n, 3);
	expect_msg(&out[2], "t2");
	ck_assert_uint_eq(queue_size(c, "e"), 2);
	ck_assert_int_eq(ipc_queue_get_many(c, "e", out, 8, &n, 0), 0);
	ck_assert_uint_eq(n, 2);
	expect_msg(&out[0], "t3");
	ipc_close(c);
	h_stop(&d);
}
END_TEST

START_TEST(test_batch_errors)
{
	struct h_daemon d;
	struct ipc_msg in[2], out[2];
	char big_one = 'x';
	size_t n = 99;
	ipc_client *c;

	h_start(&d);
	c = h_connect(&d);
	h_create_queue(c, "q", 0);
	in[0].data = "a";
	in[0].len = 1;
	in[1].data = &big_one;
	in[1].len = (64u << 20) + 1;  /* over max-memfd-size */
	ck_assert_int_eq(ipc_queue_put_many(c, "nope", in, 1, &n, 0), IPC_ENOENT);
	ck_assert_uint_eq(n, 0);
	/* Too big: refused before anything is sent, nothing put. */
	ck_assert_int_eq(ipc_queue_put_many(c, "q", in, 2, &n, 0), IPC_ETOOBIG);
	ck_assert_uint_eq(n, 0);
	ck_assert_uint_eq(queue_size(c, "q"), 0);
	ck_assert_int_eq(ipc_queue_put_many(c, "q", in, 1, &n, -2), IPC_EINVAL);
	ck_assert_int_eq(ipc_queue_put_many(c, "bad/name", in, 1, &n, 0), IPC_ENAME);
	ck_assert_int_eq(ipc_queue_get_many(c, "q", out, 0, &n, 0), IPC_EINVAL);
	ck_assert_int_eq(ipc_queue_get_many(c, "q", out, IPC_BATCH_MAX + 1, &n, 0), IPC_EINVAL);
	ck_assert_int_eq(ipc_queue_get_many(c, "nope", out, 2, &n, 0), IPC_ENOENT);
	ck_assert_int_eq(ipc_queue_set_readahead(c, "q", IPC_BATCH_MAX + 1), IPC_EINVAL);
	ck_assert_int_eq(ipc_set_window(c, 0), IPC_EINVAL);
	/* The handle is still fine. */
	ck_assert_int_eq(ipc_queue_put_many(c, "q", in, 1, &n, 0), 0);
	ck_assert_uint_eq(queue_size(c, "q"), 1);
	ipc_close(c);
	h_stop(&d);
}
END_TEST

/* Child: get_many on "del" forever; exit with its result. */
static int job_get_many(void *arg)
{
	const struct h_daemon *d = arg;
	struct ipc_msg out[4];
	ipc_client *c;
	size_t n;
	int rc;

	if (h_ipc_connect(d->sock, &c))
		return 120;
	rc = ipc_queue_get_many(c, "del", out, 4, &n, IPC_FOREVER);
	ipc_close(c);
	return rc;
}

/* Child: put_many 3 into "del" (maxsize 1) forever; exit with its result
 * plus 50 times how many went in. */
static int job_put_many3(void *arg)
{
	const struct h_daemon *d = arg;
	struct ipc_msg in[3];
	char buf[3][32];
	ipc_client *c;
	size_t n = 0;
	int rc;

	if (h_ipc_connect(d->sock, &c))
		return 120;
	make_msgs(in, buf, 3, "p", 0);
	rc = ipc_queue_put_many(c, "del", in, 3, &n, IPC_FOREVER);
	ipc_close(c);
	return rc + 50 * (int)n;
}

START_TEST(test_batch_deleted)
{
	struct h_daemon d;
	ipc_client *c;
	pid_t pid;

	h_start(&d);
	c = h_connect(&d);
	h_create_queue(c, "del", 0);
	pid = h_spawn(job_get_many, &d);
	h_wait_parked(c, "del", 'g', 1);
	ck_assert_int_eq(ipc_delete(c, "del"), 0);
	ck_assert_int_eq(h_wait_child(pid, T_CHILD_MS), IPC_EDELETED);
	/* A batch put whose rest waits: the prefix stays counted. */
	h_create_queue(c, "del", 1);
	pid = h_spawn(job_put_many3, &d);
	h_wait_parked(c, "del", 'p', 1);
	ck_assert_int_eq(ipc_delete(c, "del"), 0);
	ck_assert_int_eq(h_wait_child(pid, T_CHILD_MS), IPC_EDELETED + 50);
	ipc_close(c);
	h_stop(&d);
}
END_TEST

START_TEST(test_get_many_cut)
{
	struct h_daemon d;
	struct ipc_msg in[10], out[10];
	size_t n, got = 0, i, max;
	unsigned char *big;
	ipc_client *c;

	/* Inline messages: memfd ones (check_memfd) do not fill frames. */
	h_prepare(&d);
	h_launch_opts(&d, &(struct h_opts){ .args = (const char *const[]){
		"--memfd-threshold", "0", NULL }, .listen_fd = -1 });
	c = h_connect(&d);
	max = ipc_msg_max(c);
	big = malloc(10 * max);
	ck_assert_ptr_nonnull(big);
	for (i = 0; i < 10; i++) {
		memset(big + i * max, 'a' + (int)i, max);
		in[i].data = big + i * max;
		in[i].len = max;
	}
	h_create_queue(c, "big", 0);
	/* 10 MiB do not fit one frame: the library sends several requests. */
	ck_assert_int_eq(ipc_queue_put_many(c, "big", in, 10, &n, 0), 0);
	ck_assert_uint_eq(n, 10);
	ck_assert_int_eq(ipc_queue_get_many(c, "big", out, 10, &n, 0), 0);
	/* A reply is cut short of the frame limit, and keeps the order. */
	ck_assert_uint_ge(n, 1);
	ck_assert_uint_lt(n, 10);
	ck_assert_uint_le(n * (max + 5), PROTO_FRAME_MAX);
	for (i = 0; i < n; i++)
		ck_assert_int_eq(((const unsigned char *)out[i].data)[max - 1], 'a' + (int)i);
	got = n;
	while (got < 10) {
		ck_assert_int_eq(ipc_queue_get_many(c, "big", out, 10, &n, 0), 0);
		for (i = 0; i < n; i++)
			ck_assert_int_eq(((const unsigned char *)out[i].data)[0],
					 'a' + (int)(got + i));
		got += n;
	}
	ck_assert_uint_eq(got, 10);
	free(big);
	ipc_close(c);
	h_stop(&d);
}
END_TEST

START_TEST(test_async_flush)
{
	struct h_daemon d;
	struct ipc_info info;
	char text[32];
	ipc_client *c;
	int i;

	h_start(&d);
	c = h_connect(&d);
	h_create_queue(c, "a", 0);
	for (i = 0; i < 500; i++) {
		snprintf(text, sizeof(text), "a%d", i);
		ck_assert_int_eq(ipc_queue_put_async(c, "a", text, strlen(text), 0), 0);
	}
	/* A blocking call in between gets its own reply, matched by id. */
	ck_assert_int_eq(ipc_stat(c, "a", &info, sizeof(info)), 0);
	ck_assert_int_eq(ipc_flush(c), 0);
	ck_assert_uint_eq(queue_size(c, "a"), 500);
	for (i = 0; i < 500; i++) {
		snprintf(text, sizeof(text), "a%d", i);
		h_get_expect(c, "a", text, 0);
	}
	/* Nothing in flight: flush is immediate and fine. */
	ck_assert_int_eq(ipc_flush(c), 0);
	ipc_close(c);
	h_stop(&d);
}
END_TEST

START_TEST(test_async_first_error)
{
	struct h_daemon d;
	ipc_client *c;

	h_start(&d);
	c = h_connect(&d);
	h_create_queue(c, "a", 0);
	h_create_queue(c, "one", 1);
	ck_assert_int_eq(ipc_queue_put_async(c, "a", "1", 1, 0), 0);
	ck_assert_int_eq(ipc_queue_put_async(c, "missing", "2", 1, 0), 0);
	ck_assert_int_eq(ipc_queue_put_async(c, "a", "3", 1, 0), 0);
	ck_assert_int_eq(ipc_queue_put_async(c, "one", "4", 1, 0), 0);
	ck_assert_int_eq(ipc_queue_put_async(c, "one", "5", 1, 0), 0);   /* Full */
	/* Argument errors come back at once and send nothing. */
	ck_assert_int_eq(ipc_queue_put_async(c, "a", NULL, 3, 0), IPC_EINVAL);
	ck_assert_int_eq(ipc_queue_put_async(c, ".bad", "x", 1, 0), IPC_ENAME);
	ck_assert_int_eq(ipc_flush(c), IPC_ENOENT);
	ck_assert_msg(strstr(ipc_last_error(c), "async put 2") != NULL,
		      "error text: %s", ipc_last_error(c));
	/* The puts after the failed one were still carried out. */
	ck_assert_uint_eq(queue_size(c, "a"), 2);
	h_get_expect(c, "a", "1", 0);
	h_get_expect(c, "a", "3", 0);
	h_get_expect(c, "one", "4", 0);
	/* Reported once: the next flush starts afresh. */
	ck_assert_int_eq(ipc_flush(c), 0);
	ck_assert_int_eq(ipc_queue_put_async(c, "one", "6", 1, 0), 0);
	ck_assert_int_eq(ipc_queue_put_async(c, "one", "7", 1, 100), 0);
	ck_assert_int_eq(ipc_flush(c), IPC_EFULL);
	ck_assert_msg(strstr(ipc_last_error(c), "async put 2") != NULL,
		      "error text: %s", ipc_last_error(c));
	ipc_close(c);
	h_stop(&d);
}
END_TEST

/* Child: sleep 300 ms, then take one message from "w". */
static int job_take_late(void *arg)
{
	const struct h_daemon *d = arg;
	ipc_client *c;
	void *data;
	size_t len;
	int rc;

	usleep(300000);
	if (h_ipc_connect(d->sock, &c))
		return 120;
	rc = ipc_queue_get(c, "w", &data, &len, 0);
	if (rc == 0)
		ipc_free(data);
	ipc_close(c);
	return rc;
}

START_TEST(test_async_window)
{
	struct h_daemon d;
	ipc_client *c, *o;
	int64_t t0;
	pid_t pid;

	h_start(&d);
	c = h_connect(&d);
	o = h_connect(&d);
	h_create_queue(o, "w", 1);
	ck_assert_int_eq(ipc_set_window(c, 2), 0);
	ck_assert_int_eq(ipc_queue_put_async(c, "w", "1", 1, IPC_FOREVER), 0);
	ck_assert_int_eq(ipc_queue_put_async(c, "w", "2", 1, IPC_FOREVER), 0);
	/* Small async puts wait in the handle for the next ones: not sent yet. */
	usleep(100000);
	ck_assert_uint_eq(queue_size(o, "w"), 0);
	/* Window full: both go out, "1" is answered, "2" parks, which leaves
	 * room (half the window) for "3", held in turn. */
	ck_assert_int_eq(ipc_queue_put_async(c, "w", "3", 1, IPC_FOREVER), 0);
	h_wait_parked(o, "w", 'p', 1);
	/* Full again, "3" goes out and parks too: this one waits until a
	 * consumer makes room. */
	/* t0 before the fork: the child's sleep starts after it. */
	t0 = h_now_ms();
	pid = h_spawn(job_take_late, &d);
	ck_assert_int_eq(ipc_queue_put_async(c, "w", "4", 1, IPC_FOREVER), 0);
	assert_elapsed(t0, 250);
	ck_assert_int_eq(h_wait_child(pid, T_CHILD_MS), 0);
	h_get_expect(o, "w", "2", 0);
	h_get_expect(o, "w", "3", 5000);
	/* "4" is still held: ipc_flush sends it and waits for its reply. */
	ck_assert_uint_eq(queue_size(o, "w"), 0);
	ck_assert_int_eq(ipc_flush(c), 0);
	h_get_expect(o, "w", "4", 0);
	/* Held ones are written at ipc_close too. */
	ck_assert_int_eq(ipc_queue_put_async(c, "w", "5", 1, IPC_FOREVER), 0);
	ipc_close(c);
	c = NULL;
	h_get_expect(o, "w", "5", 5000);
	ipc_close(c);
	ipc_close(o);
	h_stop(&d);
}
END_TEST

/* Async puts on c of "0" to a missing queue, then "1" and "2" to "w"
 * (maxsize 1): "1" goes in, "2" parks. Returns once the held puts are
 * written and the replies to "0" and "1" read (however slow the daemon),
 * with "2" still in flight. */
static void async_park_one(ipc_client *c, ipc_client *o)
{
	h_create_queue(o, "w", 1);
	ck_assert_int_eq(ipc_queue_put_async(c, "missing", "0", 1, IPC_FOREVER), 0);
	ck_assert_int_eq(ipc_queue_put_async(c, "w", "1", 1, IPC_FOREVER), 0);
	ck_assert_int_eq(ipc_queue_put_async(c, "w", "2", 1, IPC_FOREVER), 0);
	ck_assert_int_eq(ipc_async_wait(c, 1, T_CHILD_MS), 0);
}

/* ipc_async_wait waits, in slices the caller picks, for async puts parked
 * in a full queue; ipc_async_error reports a failure read meanwhile
 * without waiting, once. */
START_TEST(test_async_wait)
{
	struct h_daemon d;
	ipc_client *c, *o;
	int64_t t0;

	h_start(&d);
	c = h_connect(&d);
	o = h_connect(&d);
	ck_assert_int_eq(ipc_async_wait(c, 0, -1), 0);   /* none in flight */
	ck_assert_int_eq(ipc_async_wait(c, 0, -2), IPC_EINVAL);
	async_park_one(c, o);
	/* "2" parks: it stays in flight, even after 200 ms. */
	ck_assert_int_eq(ipc_async_wait(c, 0, 0), IPC_EFULL);
	t0 = h_now_ms();
	ck_assert_int_eq(ipc_async_wait(c, 0, 200), IPC_EFULL);
	assert_elapsed(t0, 200);
	ck_assert_int_eq(ipc_async_error(c), IPC_ENOENT);
	ck_assert_msg(strstr(ipc_last_error(c), "async put 1") != NULL,
		      "error text: %s", ipc_last_error(c));
	ck_assert_int_eq(ipc_async_error(c), 0);         /* reported once */
	ck_assert_int_eq(ipc_async_wait(c, 1, 0), 0);
	ipc_close(c);
	ipc_close(o);
	h_stop(&d);
}
END_TEST

/* An async put parked in a full queue: ipc_async_wait(-1) ends when a
 * consumer makes room and its reply comes; the failure it read was
 * reported already, so the flush has nothing more to say. */
START_TEST(test_async_wait_room)
{
	struct h_daemon d;
	ipc_client *c, *o;
	int64_t t0;
	pid_t pid;

	h_start(&d);
	c = h_connect(&d);
	o = h_connect(&d);
	async_park_one(c, o);
	ck_assert_int_eq(ipc_async_error(c), IPC_ENOENT);
	/* A consumer makes room after 300 ms: "2" goes in, its reply ends
	 * the wait. t0 before the fork: the child's sleep starts after it. */
	t0 = h_now_ms();
	pid = h_spawn(job_take_late, &d);
	ck_assert_int_eq(ipc_async_wait(c, 0, -1), 0);
	assert_elapsed(t0, 250);
	ck_assert_int_eq(h_wait_child(pid, T_CHILD_MS), 0);
	h_get_expect(o, "w", "2", 0);
	ck_assert_int_eq(ipc_flush(c), 0);
	ipc_close(c);
	ipc_close(o);
	h_stop(&d);
}
END_TEST

/* ipc_push writes held async puts at once: another connection sees them
 * without a flush, and the outcome still comes at ipc_flush. */
START_TEST(test_async_push)
{
	struct h_daemon d;
	ipc_client *c, *o;
	int i;

	h_start(&d);
	c = h_connect(&d);
	o = h_connect(&d);
	h_create_queue(o, "h", 0);
	ck_assert_int_eq(ipc_queue_put_async(c, "h", "1", 1, IPC_FOREVER), 0);
	ck_assert_int_eq(ipc_queue_put_async(c, "nope", "2", 1, IPC_FOREVER), 0);
	usleep(100000);
	ck_assert_uint_eq(queue_size(o, "h"), 0);
	ck_assert_int_eq(ipc_push(c), 0);
	for (i = 0; i < 500 && queue_size(o, "h") == 0; i++)
		usleep(10000);
	ck_assert_uint_eq(queue_size(o, "h"), 1);
	ck_assert_int_eq(ipc_push(c), 0); /* nothing held: a no-op */
	ck_assert_int_eq(ipc_flush(c), IPC_ENOENT);
	ck_assert_int_eq(ipc_push(NULL), IPC_EINVAL);
	ipc_close(c);
	ipc_close(o);
	h_stop(&d);
}
END_TEST

/* The putters parked on queue q, once there is one (at most 60 s: the
 * putting child may be slow to start on a loaded machine, and a count of
 * 0 held still for 300 ms before it did was taken for the answer) and
 * their count has held still for 300 ms (at most 10 s more). */
static unsigned settled_putters(ipc_client *o, const char *q)
{
	struct ipc_info info;
	unsigned last = ~0u;
	int still = 0, i;

	for (i = 0; i < 6000; i++) {
		ck_assert_int_eq(ipc_stat(o, q, &info, sizeof info), 0);
		if (info.putters > 0)
			break;
		usleep(10000);
	}
	for (i = 0; i < 1000 && still < 30; i++) {
		ck_assert_int_eq(ipc_stat(o, q, &info, sizeof info), 0);
		still = info.putters == last ? still + 1 : 0;
		last = info.putters;
		usleep(10000);
	}
	return last;
}

/* Async puts keep at most 8 MiB on the wire unanswered, whatever the
 * window: 20 puts of 1 MiB to a full queue parked 19 in the daemon
 * before (each holding its message), now 7 (8 in flight, one of them
 * queued), and all 20 still arrive, in order. */
START_TEST(test_async_window_bytes)
{
	enum { N = 20, BIG = 1 << 20 };
	struct h_daemon d;
	ipc_client *c, *o;
	unsigned char *m = calloc(1, BIG);
	size_t len;
	void *p;
	pid_t pid;
	int i, st;
	unsigned n;

	h_start(&d);
	o = h_connect(&d);
	h_create_queue(o, "w", 1);
	pid = fork();
	ck_assert_int_ge(pid, 0);
	if (pid == 0) {
		c = h_connect(&d);
		for (i = 0, st = 0; i < N && st == 0; i++) {
			m[0] = (unsigned char)i;
			st = ipc_queue_put_async(c, "w", m, BIG, IPC_FOREVER);
		}
		_exit(st == 0 && ipc_flush(c) == 0 ? 0 : 1);
	}
	n = settled_putters(o, "w");
	ck_assert_uint_ge(n, 1);
	ck_assert_uint_le(n, 7);
	for (i = 0; i < N; i++) {
		ck_assert_int_eq(ipc_queue_get(o, "w", &p, &len, 10000), 0);
		ck_assert_uint_eq(len, BIG);
		ck_assert_uint_eq(((unsigned char *)p)[0], i);
		ipc_free(p);
	}
	ck_assert_int_eq(waitpid(pid, &st, 0), pid);
	ck_assert(WIFEXITED(st) && WEXITSTATUS(st) == 0);
	ipc_close(o);
	h_stop(&d);
	free(m);
}
END_TEST

START_TEST(test_readahead_get)
{
	struct h_daemon d;
	struct ipc_msg in[10], out[10];
	char buf[10][32];
	ipc_client *c, *o;
	size_t n;

	h_start(&d);
	c = h_connect(&d);
	o = h_connect(&d);
	h_create_queue(c, "p", 0);
	make_msgs(in, buf, 10, "p", 0);
	ck_assert_int_eq(ipc_queue_put_many(c, "p", in, 10, &n, 0), 0);
	ck_assert_int_eq(ipc_queue_set_readahead(c, "p", 4), 0);
	h_get_expect(c, "p", "p0", 0);
	/* p1..p3 left the queue: this consumer owns them. */
	ck_assert_uint_eq(ipc_queue_buffered(c, "p"), 3);
	ck_assert_uint_eq(queue_size(o, "p"), 6);
	h_get_expect(o, "p", "p4", 0);
	/* Buffered ones come first, whatever the timeout. */
	h_get_expect(c, "p", "p1", 0);
	/* ipc_queue_get_many hands out the buffered ones first too. */
	ck_assert_int_eq(ipc_queue_get_many(c, "p", out, 10, &n, 0), 0);
	ck_assert_uint_eq(n, 2);
	expect_msg(&out[0], "p2");
	expect_msg(&out[1], "p3");
	ck_assert_uint_eq(ipc_queue_buffered(c, "p"), 0);
	h_get_expect(c, "p", "p5", 0);
	ck_assert_uint_eq(ipc_queue_buffered(c, "p"), 3);
	/* Off: the buffered ones are still served, then plain gets. */
	ck_assert_int_eq(ipc_queue_set_readahead(c, "p", 0), 0);
	h_get_expect(c, "p", "p6", 0);
	ck_assert_uint_eq(ipc_queue_buffered(c, "p"), 2);
	h_get_expect(c, "p", "p7", 0);
	h_get_expect(c, "p", "p8", 0);
	h_get_expect(c, "p", "p9", 0);
	ck_assert_uint_eq(queue_size(o, "p"), 0);
	ipc_close(c);
	ipc_close(o);
	h_stop(&d);
}
END_TEST

START_TEST(test_readahead_wait_and_close)
{
	struct h_daemon d;
	struct ipc_msg in[5];
	char buf[5][32];
	void *data;
	size_t len, n;
	int64_t t0;
	ipc_client *c, *o;
	pid_t pid;

	h_start(&d);
	c = h_connect(&d);
	o = h_connect(&d);
	h_create_queue(c, "e", 0);
	ck_assert_int_eq(ipc_queue_set_readahead(c, "e", 8), 0);
	/* Nothing there: nowait is Empty, a timeout waits for the first. */
	ck_assert_int_eq(ipc_queue_get(c, "e", &data, &len, 0), IPC_EEMPTY);
	t0 = h_now_ms();
	ck_assert_int_eq(ipc_queue_get(c, "e", &data, &len, 200), IPC_EEMPTY);
	assert_elapsed(t0, 200);
	pid = h_spawn(job_put_late, &d);
	h_get_expect(c, "e", "late", IPC_FOREVER);
	ck_assert_int_eq(h_wait_child(pid, T_CHILD_MS), 0);
	/* Closing with messages read ahead gives them back, in order, ahead
	 * of one put meanwhile. */
	make_msgs(in, buf, 5, "c", 0);
	ck_assert_int_eq(ipc_queue_put_many(o, "e", in, 5, &n, 0), 0);
	h_get_expect(c, "e", "c0", 0);
	ck_assert_uint_eq(ipc_queue_buffered(c, "e"), 4);
	h_put_text(o, "e", "newer");
	ipc_close(c);
	ck_assert_uint_eq(queue_size(o, "e"), 5);
	h_get_expect(o, "e", "c1", 0);
	h_get_expect(o, "e", "c2", 0);
	h_get_expect(o, "e", "c3", 0);
	h_get_expect(o, "e", "c4", 0);
	h_get_expect(o, "e", "newer", 0);
	ipc_close(o);
	h_stop(&d);
}
END_TEST

/* One client process of the exactly-once test. */
struct mix {
	const char *sock;
	unsigned idx;       /* producer or consumer number, 0..3 */
	unsigned per;       /* messages per producer */
	char path[160];     /* consumer: the file it records what it got in */
	int fd;
	int pipelined;      /* async batches, read-ahead gets (else the mix) */
};

/* Producer idx: per messages "idx:seq", pipelined (even idx) or batched
 * (odd idx). */
static int mix_producer(void *arg)
{
	struct mix *m = arg;
	struct ipc_msg batch[37];
	char buf[37][32];
	unsigned seq = 0, k, i;
	ipc_client *c;
	int rc = 0;

	if (h_ipc_connect(m->sock, &c))
		return 120;
	ipc_set_window(c, 16);
	while (seq < m->per && rc == 0) {
		k = m->per - seq < 37 ? m->per - seq : 37;
		for (i = 0; i < k; i++) {
			snprintf(buf[i], sizeof(buf[i]), "%u:%u", m->idx, seq + i);
			batch[i].data = buf[i];
			batch[i].len = strlen(buf[i]);
		}
		if (m->pipelined)
			rc = ipc_queue_put_many_async(c, "mix", batch, k, IPC_FOREVER);
		else if (m->idx % 2 == 0)
			for (i = 0; i < k && rc == 0; i++)
				rc = ipc_queue_put_async(c, "mix", batch[i].data, batch[i].len,
						   IPC_FOREVER);
		else
			rc = ipc_queue_put_many(c, "mix", batch, k, NULL, IPC_FOREVER);
		seq += k;
	}
	if (rc == 0)
		rc = ipc_flush(c);
	ipc_close(c);
	return rc ? 10 : 0;
}

/* Record one received message "p:seq" as two u32 on fd; checks that
 * this consumer sees each producer's messages in increasing order. */
static int mix_record(struct mix *m, const void *data, size_t len, int *last)
{
	char text[32];
	unsigned p, seq, rec[2];

	if (len == 0 || len >= sizeof(text))
		return 11;
	memcpy(text, data, len);
	text[len] = '\0';
	if (sscanf(text, "%u:%u", &p, &seq) != 2 || p > 3)
		return 12;
	if ((int)seq <= last[p])
		return 13;   /* out of order within one producer */
	last[p] = (int)seq;
	rec[0] = p;
	rec[1] = seq;
	return write(m->fd, rec, sizeof(rec)) == sizeof(rec) ? 0 : 14;
}

/* 1 once the parent said the producers are done (queue "done" exists). */
static int mix_done(ipc_client *c)
{
	struct ipc_info info;

	return ipc_stat(c, "done", &info, sizeof(info)) == 0;
}

/* Consumer idx: read-ahead gets (even idx) or get_many (odd idx) until
 * nothing is left once the producers are done. */
static int mix_consumer(void *arg)
{
	struct mix *m = arg;
	struct ipc_msg out[23];
	int last[4] = { -1, -1, -1, -1 }, rc = 0, idle = 0, fin = 0;
	ipc_client *c;
	void *data;
	size_t len, n, i;

	m->fd = open(m->path, O_WRONLY | O_CREAT | O_TRUNC, 0600);
	if (m->fd < 0 || h_ipc_connect(m->sock, &c))
		return 120;
	if (m->pipelined)
		ipc_queue_set_readahead(c, "mix", 16);
	else if (m->idx % 2 == 0)
		ipc_queue_set_readahead(c, "mix", 16);
	/* Empty although the producers had finished before the get: nothing
	 * more can come. */
	while (rc == 0 && !(idle && fin)) {
		fin = idle && mix_done(c);
		if (m->idx % 2 == 0) {
			rc = ipc_queue_get(c, "mix", &data, &len, 100);
			if (rc == 0) {
				rc = mix_record(m, data, len, last);
				ipc_free(data);
			}
		} else {
			rc = ipc_queue_get_many(c, "mix", out, 23, &n, 100);
			for (i = 0; rc == 0 && i < n; i++)
				rc = mix_record(m, out[i].data, out[i].len, last);
		}
		idle = rc == IPC_EEMPTY ? idle + 1 : 0;
		rc = rc == IPC_EEMPTY ? 0 : rc;
	}
	ipc_close(c);
	close(m->fd);
	return rc;
}

/* 4 producers and 4 consumers on "mix" (maxsize): every message exactly
 * once, each producer's in order at each consumer. */
static void exactly_once(int pipelined, long long maxsize)
{
	unsigned per = 3000 / h_scale();
	struct h_daemon d;
	struct mix prod[4], cons[4];
	pid_t pp[4], pc[4];
	int fd;
	unsigned char *seen;
	unsigned rec[2], i, total = 0;
	ipc_client *c;

	h_start(&d);
	c = h_connect(&d);
	h_create_queue(c, "mix", maxsize);
	for (i = 0; i < 4; i++) {
		cons[i] = (struct mix){ .sock = d.sock, .idx = i, .per = per, .fd = -1,
					.pipelined = pipelined };
		snprintf(cons[i].path, sizeof(cons[i].path), "%s/cons%u", d.dir, i);
		pc[i] = h_spawn(mix_consumer, &cons[i]);
	}
	for (i = 0; i < 4; i++) {
		prod[i] = (struct mix){ .sock = d.sock, .idx = i, .per = per, .fd = -1,
					.pipelined = pipelined };
		pp[i] = h_spawn(mix_producer, &prod[i]);
	}
	for (i = 0; i < 4; i++)
		ck_assert_int_eq(h_wait_child(pp[i], T_CHILD_MS * 3), 0);
	h_create_queue(c, "done", 0);
	seen = calloc(4 * per, 1);
	for (i = 0; i < 4; i++) {
		ck_assert_int_eq(h_wait_child(pc[i], T_CHILD_MS * 3), 0);
		fd = open(cons[i].path, O_RDONLY);
		ck_assert_int_ge(fd, 0);
		while (read(fd, rec, sizeof(rec)) == sizeof(rec)) {
			ck_assert_uint_lt(rec[0], 4);
			ck_assert_uint_lt(rec[1], per);
			ck_assert_msg(!seen[rec[0] * per + rec[1]],
				      "message %u:%u delivered twice", rec[0], rec[1]);
			seen[rec[0] * per + rec[1]] = 1;
			total++;
		}
		close(fd);
		unlink(cons[i].path);
	}
	/* Every message exactly once, nothing left behind. */
	ck_assert_uint_eq(total, 4 * per);
	ck_assert_uint_eq(queue_size(c, "mix"), 0);
	free(seen);
	ipc_close(c);
	h_stop(&d);
}

START_TEST(test_exactly_once_mixed)
{
	exactly_once(0, 50);
}
END_TEST

/* Pipelined batches (ipc_queue_put_many_async, an unbounded queue so no batch
 * is cut short) and read-ahead consumers (ipc_queue_get and ipc_queue_get_many). */
START_TEST(test_exactly_once_pipelined)
{
	exactly_once(1, 0);
}
END_TEST

/* A raw HELLO'd connection to d. */
static int raw_hello(const struct h_daemon *d)
{
	struct sockaddr_un sa = { .sun_family = AF_UNIX };
	struct proto_req r = { .op = PROTO_OP_HELLO, .id = 1,
			       .version = IPC_PROTO_VERSION };
	int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
	struct pbuf b;

	ck_assert_int_ge(fd, 0);
	snprintf(sa.sun_path, sizeof(sa.sun_path), "%s", d->sock);
	ck_assert_int_eq(connect(fd, (struct sockaddr *)&sa, sizeof(sa)), 0);
	pbuf_init(&b);
	ck_assert_int_eq(proto_enc_req(&b, &r), 0);
	ck_assert_int_eq(send(fd, b.data, b.len, MSG_NOSIGNAL), (ssize_t)b.len);
	pbuf_free(&b);
	return fd;
}

/* Read one reply frame from fd into b (payload at b->data + 4). */
static void raw_read(int fd, struct pbuf *b)
{
	long flen = 0;
	ssize_t r;

	b->len = 0;
	while ((flen = proto_frame_peek(b->data, b->len, PROTO_FRAME_MAX)) == 0) {
		ck_assert_int_eq(pbuf_reserve(b, 65536), 0);
		r = recv(fd, b->data + b->len, b->cap - b->len, 0);
		ck_assert_msg(r > 0, "daemon closed or failed: %s", strerror(errno));
		b->len += (size_t)r;
	}
	ck_assert_int_gt(flen, 0);
	ck_assert_int_eq((long)b->len, flen);
}

/* Send req on fd and decode the reply to it (of op) into rep. */
static void raw_call(int fd, struct proto_dec *dec, struct pbuf *b,
		     const struct proto_req *req, struct proto_rep *rep)
{
	b->len = 0;
	ck_assert_int_eq(proto_enc_req(b, req), 0);
	ck_assert_int_eq(send(fd, b->data, b->len, MSG_NOSIGNAL), (ssize_t)b->len);
	raw_read(fd, b);
	ck_assert_int_eq(proto_dec_rep(dec, b->data + 4, b->len - 4, req->op, rep), 0);
	ck_assert_uint_eq(rep->id, req->id);
}

START_TEST(test_raw_batch_ops)
{
	struct h_daemon d;
	struct proto_iov iov[3] = { { (const unsigned char *)"r0", 2, 0 },
				    { (const unsigned char *)"r1", 2, 0 },
				    { (const unsigned char *)"r2", 2, 0 } };
	struct proto_req put = { .op = PROTO_OP_QPUTN, .id = 7, .iov = iov, .niov = 3 };
	struct proto_req get = { .op = PROTO_OP_QGETN, .id = 8, .max = 2 };
	struct proto_rep rep;
	struct proto_dec dec;
	struct pbuf b;
	ipc_client *c;
	int fd;

	h_start(&d);
	c = h_connect(&d);
	h_create_queue(c, "raw", 2);
	fd = raw_hello(&d);
	pbuf_init(&b);
	ck_assert_int_eq(proto_dec_init(&dec), 0);
	raw_read(fd, &b);
	strcpy(put.name, "raw");
	strcpy(get.name, "raw");
	/* The reply says how many of the batch were taken: a prefix. */
	raw_call(fd, &dec, &b, &put, &rep);
	ck_assert_int_eq(rep.status, 0);
	ck_assert_uint_eq(rep.count, 2);
	/* Full with nothing taken: Full. */
	put.id = 9;
	raw_call(fd, &dec, &b, &put, &rep);
	ck_assert_int_eq(rep.status, IPC_EFULL);
	raw_call(fd, &dec, &b, &get, &rep);
	ck_assert_int_eq(rep.status, 0);
	ck_assert_uint_eq(rep.niov, 2);
	ck_assert_int_eq(memcmp(rep.iov[1].base, "r1", 2), 0);
	/* Bad values are answered and the connection kept. */
	get.id = 10;
	get.max = IPC_BATCH_MAX + 1;
	raw_call(fd, &dec, &b, &get, &rep);
	ck_assert_int_eq(rep.status, IPC_EINVAL);
	put.id = 11;
	put.niov = 0;
	ck_assert_int_eq(proto_enc_req(&b, &put), IPC_EINVAL);
	get.id = 12;
	get.max = 5;
	get.timeout_ms = 0;
	raw_call(fd, &dec, &b, &get, &rep);
	ck_assert_int_eq(rep.status, IPC_EEMPTY);
	proto_dec_fini(&dec);
	pbuf_free(&b);
	close(fd);
	ipc_close(c);
	h_stop(&d);
}
END_TEST

START_TEST(test_pipe_batch)
{
	struct h_daemon d;
	struct ipc_msg in[6], out[8];
	char buf[6][32];
	ipc_client *r, *w;
	size_t n = 0, i;

	h_start(&d);
	r = h_connect(&d);
	w = h_connect(&d);
	ck_assert_int_eq(ipc_pipe_attach(r, "pp", 0, IPC_PIPE_CREATE | IPC_PIPE_ONEWAY, NULL), 0);
	ck_assert_int_eq(ipc_pipe_attach(w, "pp", 1, IPC_PIPE_CREATE | IPC_PIPE_ONEWAY, NULL), 0);
	make_msgs(in, buf, 6, "s", 0);
	ck_assert_int_eq(ipc_pipe_send_many(w, "pp", 1, in, 6, &n, 0), 0);
	ck_assert_uint_eq(n, 6);
	/* The wrong direction is refused, nothing sent. */
	ck_assert_int_eq(ipc_pipe_send_many(r, "pp", 0, in, 1, &n, 0), IPC_EDIRECTION);
	ck_assert_uint_eq(n, 0);
	ck_assert_int_eq(ipc_pipe_recv_many(r, "pp", 0, out, 4, &n, 0), 0);
	ck_assert_uint_eq(n, 4);
	for (i = 0; i < 4; i++)
		expect_msg(&out[i], buf[i]);
	ck_assert_int_eq(ipc_pipe_close(w, "pp", 1), 0);
	ck_assert_int_eq(ipc_pipe_recv_many(r, "pp", 0, out, 8, &n, 0), 0);
	ck_assert_uint_eq(n, 2);
	expect_msg(&out[1], "s5");
	ck_assert_int_eq(ipc_pipe_recv_many(r, "pp", 0, out, 8, &n, 0), IPC_EEOF);
	ck_assert_int_eq(ipc_pipe_recv_many(r, "pp", 2, out, 8, &n, 0), IPC_EINVAL);
	ipc_close(r);
	ipc_close(w);
	h_stop(&d);
}
END_TEST

/* Sizes of the large batch: shared from 4 KiB up in the daemon, copied
 * below. */
static const size_t big_sizes[6] = { 20000, 100, 30000, 4096, 4095, 16384 };

/* Fill in[0..6) with messages of big_sizes, message k's byte j being
 * (k * 31 + j) % 251 (storage in buf). */
static void make_big(struct ipc_msg *in, unsigned char **buf, size_t first)
{
	size_t i, j;

	for (i = 0; i < 6; i++) {
		buf[i] = malloc(big_sizes[i]);
		ck_assert_ptr_nonnull(buf[i]);
		for (j = 0; j < big_sizes[i]; j++)
			buf[i][j] = (unsigned char)(((first + i) * 31 + j) % 251);
		in[i] = (struct ipc_msg){ buf[i], big_sizes[i] };
	}
}

/* Assert data[0..len) is message k of make_big (first 0). */
static void expect_big(const void *data, size_t len, size_t k)
{
	const unsigned char *p = data;
	size_t j;

	ck_assert_uint_eq(len, big_sizes[k % 6]);
	for (j = 0; j < len; j++)
		if (p[j] != (unsigned char)((k * 31 + j) % 251))
			ck_abort_msg("message %zu: byte %zu is %u", k, j, p[j]);
}

/* Get one message of q and check it is message k of make_big. */
static void get_big(ipc_client *c, const char *q, size_t k)
{
	void *data;
	size_t len;

	ck_assert_int_eq(ipc_queue_get(c, q, &data, &len, 0), 0);
	expect_big(data, len, k);
	ipc_free(data);
}

/* A large batch's payloads of 4 KiB and more point into the request's
 * frame in the daemon, not copies (op_batch.c), the frame freed with the
 * last of them. Every message still arrives whole and in order whichever
 * goes last: a prefix taken by a bounded queue (the rest freed at once),
 * messages got singly and in a batch with another batch behind them,
 * given back (QUNGET), sent on a pipe, and journaled for a durable queue
 * (back after a SIGKILL); and the daemon's count of what it holds comes
 * back to where it was (ASan and valgrind see the frames' frees). */
START_TEST(test_batch_large_shared)
{
	struct h_daemon d;
	struct ipc_queue_opts dq = IPC_QUEUE_OPTS_INIT;
	struct ipc_msg in[6], in2[6], out[8];
	unsigned char *buf[6], *buf2[6];
	unsigned long long held0;
	ipc_client *c, *r;
	size_t n, i;

	h_start(&d);
	c = h_connect(&d);
	r = h_connect(&d);
	make_big(in, buf, 0);
	make_big(in2, buf2, 6);
	dq.flags = IPC_QUEUE_CREATE | IPC_QUEUE_DURABLE;
	held0 = h_dinfo(c).held_bytes;
	h_create_queue(c, "bq", 3);
	ck_assert_int_eq(ipc_queue_put_many(c, "bq", in, 6, &n, 0), IPC_EFULL);
	ck_assert_uint_eq(n, 3);
	for (i = 0; i < 3; i++)
		get_big(r, "bq", i);
	h_create_queue(c, "u", 0);
	ck_assert_int_eq(ipc_queue_put_many(c, "u", in, 6, &n, 0), 0);
	ck_assert_int_eq(ipc_queue_put_many(c, "u", in2, 6, &n, 0), 0);
	/* Their buffers (two batches) count in INFO's shared_bytes while
	 * messages of them are held, and none once all are gone. */
	ck_assert_uint_gt(h_dinfo(c).shared_bytes, 2 * (20000 + 30000 + 4096 + 16384));
	get_big(r, "u", 0);
	ck_assert_int_eq(ipc_queue_get_many(r, "u", out, 4, &n, 0), 0);
	ck_assert_uint_eq(n, 4);
	for (i = 0; i < 4; i++)
		expect_big(out[i].data, out[i].len, 1 + i);
	ck_assert_int_eq(ipc_queue_unget(c, "u", in2, 6), 0);
	for (i = 0; i < 6; i++)
		get_big(r, "u", 6 + i);  /* given back: at the head */
	for (i = 5; i < 12; i++)
		get_big(r, "u", i);
	ck_assert_int_eq(ipc_pipe_attach(r, "pp", 0, IPC_PIPE_CREATE | IPC_PIPE_ONEWAY, NULL), 0);
	ck_assert_int_eq(ipc_pipe_attach(c, "pp", 1, IPC_PIPE_CREATE | IPC_PIPE_ONEWAY, NULL), 0);
	ck_assert_int_eq(ipc_pipe_send_many(c, "pp", 1, in, 6, &n, 0), 0);
	ck_assert_uint_eq(n, 6);
	ck_assert_int_eq(ipc_pipe_recv_many(r, "pp", 0, out, 8, &n, 0), 0);
	ck_assert_uint_eq(n, 6);
	for (i = 0; i < 6; i++)
		expect_big(out[i].data, out[i].len, i);
	ck_assert_uint_eq(h_dinfo(c).held_bytes, held0);
	ck_assert_uint_eq(h_dinfo(c).shared_bytes, 0);
	/* A durable queue journals them from the frame; after a SIGKILL
	 * the ones not got come back whole. */
	ck_assert_int_eq(ipc_queue_open(c, "dq", &dq, NULL), 0);
	ck_assert_int_eq(ipc_queue_put_many(c, "dq", in, 6, &n, 0), 0);
	get_big(r, "dq", 0);
	get_big(r, "dq", 1);
	ipc_close(r);
	c = h_crash_restart(&d, c);
	for (i = 2; i < 6; i++)
		get_big(c, "dq", i);
	for (i = 0; i < 6; i++) {
		free(buf[i]);
		free(buf2[i]);
	}
	ipc_close(c);
	h_stop(&d);
}
END_TEST

/* The daemon holds what it held before (INFO held_bytes) and no
 * batch's buffer (shared_bytes). */
static void settled(ipc_client *c, unsigned long long held0)
{
	struct ipc_daemon_info in = h_dinfo(c);

	ck_assert_uint_eq(in.held_bytes, held0);
	ck_assert_uint_eq(in.shared_bytes, 0);
}

/* A large batch's frame outlives the request on every path that frees
 * its messages later, and is freed with the last of them: a parked put
 * (its first message, which points into the frame) that times out, whose
 * connection goes, or that room wakes; a queue deleted or purged while it
 * holds them; a message dead-lettered; a pipe whose reader closed its
 * end; and a shutdown with some held and a put parked (ASan and valgrind
 * see a read after the free, a double free or a leak; INFO held_bytes
 * comes back to where it was, shared_bytes to 0). */
START_TEST(test_batch_shared_frees)
{
	struct h_daemon d;
	struct ipc_queue_opts dlo = IPC_QUEUE_OPTS_INIT;
	struct ipc_msg in[6];
	unsigned char *buf[6];
	unsigned long long held0;
	ipc_client *c, *r, *w;
	void *data;
	size_t n, len, i;
	uint64_t tag, dropped;

	h_start(&d);
	c = h_connect(&d);
	r = h_connect(&d);
	make_big(in, buf, 0);
	h_create_queue(c, "w", 1);
	h_put_text(c, "w", "x");
	held0 = h_dinfo(c).held_bytes;
	ck_assert_int_eq(ipc_queue_put_many(c, "w", in, 6, &n, 200), IPC_EFULL);
	ck_assert_uint_eq(n, 0);
	settled(c, held0);
	w = h_connect(&d);
	ck_assert_int_eq(ipc_queue_put_many_async(w, "w", in, 6, 20000), 0);
	ck_assert_int_eq(ipc_push(w), 0);
	h_wait_parked(c, "w", 'p', 1);
	ipc_close(w);
	h_wait_parked(c, "w", 'p', 0);
	settled(c, held0);
	w = h_connect(&d);
	ck_assert_int_eq(ipc_queue_put_many_async(w, "w", in, 6, 20000), 0);
	ck_assert_int_eq(ipc_push(w), 0);
	h_wait_parked(c, "w", 'p', 1);
	h_get_expect(r, "w", "x", 0);
	h_wait_parked(c, "w", 'p', 0);
	get_big(r, "w", 0);
	ipc_close(w);
	held0 = h_dinfo(c).held_bytes;
	h_create_queue(c, "del", 0);
	ck_assert_int_eq(ipc_queue_put_many(c, "del", in, 6, &n, 0), 0);
	ck_assert_int_eq(ipc_delete(c, "del"), 0);
	h_create_queue(c, "pu", 0);
	ck_assert_int_eq(ipc_queue_put_many(c, "pu", in, 6, &n, 0), 0);
	ck_assert_int_eq(ipc_queue_purge(c, "pu", &dropped), 0);
	ck_assert_uint_eq(dropped, 6);
	settled(c, held0);
	dlo.flags = IPC_QUEUE_CREATE;
	dlo.max_deliveries = 1;
	dlo.dead_letter = "dl";
	h_create_queue(c, "dl", 0);
	ck_assert_int_eq(ipc_queue_open(c, "dls", &dlo, NULL), 0);
	ck_assert_int_eq(ipc_queue_put_many(c, "dls", in, 6, &n, 0), 0);
	ck_assert_int_eq(ipc_queue_get_ack(r, "dls", &data, &len, &tag, 0, 0), 0);
	expect_big(data, len, 0);
	ipc_free(data);
	ck_assert_int_eq(ipc_queue_release(r, "dls", tag, 0), 0);
	get_big(r, "dl", 0);
	for (i = 1; i < 6; i++)
		get_big(r, "dls", i);
	ck_assert_int_eq(ipc_pipe_attach(r, "pp", 0, IPC_PIPE_CREATE | IPC_PIPE_ONEWAY, NULL), 0);
	ck_assert_int_eq(ipc_pipe_attach(c, "pp", 1, IPC_PIPE_CREATE | IPC_PIPE_ONEWAY, NULL), 0);
	ck_assert_int_eq(ipc_pipe_send_many(c, "pp", 1, in, 6, &n, 0), 0);
	ck_assert_int_eq(ipc_pipe_close(r, "pp", 0), 0);
	ck_assert_int_ne(ipc_pipe_send_many(c, "pp", 1, in, 6, &n, 0), 0);
	ck_assert_uint_eq(n, 0);
	settled(c, held0);
	h_create_queue(c, "keep", 2);
	ck_assert_int_eq(ipc_queue_put_many(c, "keep", in, 6, &n, 0), IPC_EFULL);
	w = h_connect(&d);
	ck_assert_int_eq(ipc_queue_put_many_async(w, "keep", in, 6, 20000), 0);
	ck_assert_int_eq(ipc_push(w), 0);
	h_wait_parked(c, "keep", 'p', 1);
	for (i = 0; i < 6; i++)
		free(buf[i]);
	ipc_close(r);
	ipc_close(c);
	h_stop(&d);
	ipc_close(w);
}
END_TEST

/* Async batch puts: argument errors at once; 200 messages in a window of
 * 2 requests arrive in order. */
START_TEST(test_put_many_async)
{
	struct h_daemon d;
	struct ipc_msg in[200], out[64];
	char (*buf)[32] = calloc(200, 32);
	ipc_client *c;
	size_t n, got = 0, i;

	h_start(&d);
	c = h_connect(&d);
	h_create_queue(c, "a", 0);
	h_create_queue(c, "five", 5);
	make_msgs(in, buf, 200, "m", 0);
	/* Argument errors come back at once and send nothing. */
	ck_assert_int_eq(ipc_queue_put_many_async(c, ".bad", in, 1, 0), IPC_ENAME);
	ck_assert_int_eq(ipc_queue_put_many_async(c, "a", NULL, 1, 0), IPC_EINVAL);
	ck_assert_int_eq(ipc_queue_put_many_async(c, "a", in, 1, -2), IPC_EINVAL);
	ck_assert_int_eq(ipc_queue_put_many_async(c, "a", in, 0, 0), 0);
	/* 200 in batches of up to IPC_BATCH_MAX, window of 2 requests. */
	ck_assert_int_eq(ipc_set_window(c, 2), 0);
	ck_assert_int_eq(ipc_queue_put_many_async(c, "a", in, 150, 0), 0);
	ck_assert_int_eq(ipc_queue_put_many_async(c, "a", in + 150, 50, 0), 0);
	ck_assert_int_eq(ipc_flush(c), 0);
	ck_assert_uint_eq(ipc_flush_notput(c), 0);
	ck_assert_uint_eq(queue_size(c, "a"), 200);
	while (got < 200) {
		ck_assert_int_eq(ipc_queue_get_many(c, "a", out, 64, &n, 0), 0);
		for (i = 0; i < n; i++)
			expect_msg(&out[i], buf[got + i]);
		got += n;
	}
	free(buf);
	ipc_close(c);
	h_stop(&d);
}
END_TEST

/* Async batch puts to a missing queue: reported at the flush, all its
 * messages not put, the others put. */
START_TEST(test_put_many_async_missing)
{
	struct h_daemon d;
	struct ipc_msg in[200];
	char (*buf)[32] = calloc(200, 32);
	ipc_client *c;

	h_start(&d);
	c = h_connect(&d);
	h_create_queue(c, "a", 0);
	make_msgs(in, buf, 200, "m", 0);
	/* A missing queue: reported at the flush, all its messages not put. */
	ck_assert_int_eq(ipc_queue_put_many_async(c, "missing", in, 3, 0), 0);
	ck_assert_int_eq(ipc_queue_put_many_async(c, "a", in, 2, 0), 0);
	ck_assert_int_eq(ipc_flush(c), IPC_ENOENT);
	ck_assert_msg(strstr(ipc_last_error(c), "async put_many 1") != NULL,
		      "error text: %s", ipc_last_error(c));
	ck_assert_uint_eq(ipc_flush_notput(c), 3);
	ck_assert_uint_eq(queue_size(c, "a"), 2);
	h_get_expect(c, "a", "m0", 0);
	h_get_expect(c, "a", "m1", 0);
	free(buf);
	ipc_close(c);
	h_stop(&d);
}
END_TEST

/* Async batch puts into a bounded queue take as many as fit: the flush
 * says how many not, once. */
START_TEST(test_put_many_async_bounded)
{
	struct h_daemon d;
	struct ipc_msg in[200];
	char (*buf)[32] = calloc(200, 32);
	ipc_client *c;
	size_t i;

	h_start(&d);
	c = h_connect(&d);
	h_create_queue(c, "five", 5);
	make_msgs(in, buf, 200, "m", 0);
	/* A bounded queue takes as many as fit: the flush says how many not. */
	ck_assert_int_eq(ipc_queue_put_many_async(c, "five", in, 8, 0), 0);
	ck_assert_int_eq(ipc_queue_put_many_async(c, "five", in + 8, 2, 0), 0);
	ck_assert_int_eq(ipc_flush(c), IPC_EFULL);
	ck_assert_msg(strstr(ipc_last_error(c), "async put_many 1: 5 of 8 messages put") != NULL,
		      "error text: %s", ipc_last_error(c));
	ck_assert_uint_eq(ipc_flush_notput(c), 5);   /* 3 of the first, 2 of the second */
	ck_assert_uint_eq(queue_size(c, "five"), 5);
	for (i = 0; i < 5; i++)
		h_get_expect(c, "five", buf[i], 0);
	/* Reported once. */
	ck_assert_int_eq(ipc_flush(c), 0);
	ck_assert_uint_eq(ipc_flush_notput(c), 0);
	free(buf);
	ipc_close(c);
	h_stop(&d);
}
END_TEST

/* Child: sleep 300 ms, then put "late" on queue "r". */
static int job_put_r_late(void *arg)
{
	const struct h_daemon *d = arg;
	ipc_client *c;
	int rc;

	usleep(300000);
	if (h_ipc_connect(d->sock, &c))
		return 120;
	rc = ipc_queue_put(c, "r", "late", 4, 0);
	ipc_close(c);
	return rc;
}

/* Read-ahead: ipc_queue_get and ipc_queue_get_many mixed get the queue's
 * order, each message once; bad arguments are refused. */
START_TEST(test_readahead)
{
	struct h_daemon d;
	struct ipc_msg in[20], out[8];
	char buf[20][32];
	ipc_client *c, *o;
	size_t n, got = 0, i;

	h_start(&d);
	c = h_connect(&d);
	o = h_connect(&d);
	h_create_queue(c, "r", 0);
	make_msgs(in, buf, 20, "r", 0);
	ck_assert_int_eq(ipc_queue_put_many(o, "r", in, 20, &n, 0), 0);
	ck_assert_int_eq(ipc_queue_set_readahead(c, "r", 4), 0);
	ck_assert_int_eq(ipc_queue_set_readahead(c, "r", IPC_BATCH_MAX + 1), IPC_EINVAL);
	ck_assert_int_eq(ipc_queue_set_readahead(c, ".x", 4), IPC_ENAME);
	/* ipc_queue_get and ipc_queue_get_many mixed: queue order, each message once. */
	while (got < 20) {
		if (got % 3 == 0) {
			h_get_expect(c, "r", buf[got], 0);
			got++;
			continue;
		}
		ck_assert_int_eq(ipc_queue_get_many(c, "r", out, 3, &n, 0), 0);
		ck_assert_uint_ge(n, 1);
		ck_assert_uint_le(n, 3);
		for (i = 0; i < n; i++)
			expect_msg(&out[i], buf[got + i]);
		got += n;
	}
	ck_assert_uint_eq(ipc_queue_buffered(c, "r"), 0);
	ck_assert_uint_eq(queue_size(o, "r"), 0);
	ipc_close(c);
	ipc_close(o);
	h_stop(&d);
}
END_TEST

/* Read-ahead on an empty queue: nowait says Empty, a timeout is waited
 * out, a message put meanwhile is handed over, and errors of the waiting
 * fetch are the call's. */
START_TEST(test_readahead_empty_wait)
{
	struct h_daemon d;
	struct ipc_msg out[8];
	ipc_client *c;
	size_t n;
	int64_t t0;
	pid_t pid;

	h_start(&d);
	c = h_connect(&d);
	h_create_queue(c, "r", 0);
	ck_assert_int_eq(ipc_queue_set_readahead(c, "r", 4), 0);
	/* Empty: nowait says so; a timeout is waited out, like a plain get. */
	ck_assert_int_eq(ipc_queue_get_many(c, "r", out, 8, &n, 0), IPC_EEMPTY);
	t0 = h_now_ms();
	ck_assert_int_eq(ipc_queue_get_many(c, "r", out, 8, &n, 200), IPC_EEMPTY);
	assert_elapsed(t0, 200);
	/* A message put while waiting is handed over. */
	pid = h_spawn(job_put_r_late, &d);
	ck_assert_int_eq(ipc_queue_get_many(c, "r", out, 8, &n, 5000), 0);
	ck_assert_uint_eq(n, 1);
	expect_msg(&out[0], "late");
	ck_assert_int_eq(h_wait_child(pid, T_CHILD_MS), 0);
	/* Errors of the waiting fetch are the call's. */
	ck_assert_int_eq(ipc_queue_set_readahead(c, "gone", 4), 0);
	ck_assert_int_eq(ipc_queue_get_many(c, "gone", out, 8, &n, 0), IPC_ENOENT);
	ipc_close(c);
	h_stop(&d);
}
END_TEST

/* Read-ahead turned off: what is on its way or buffered still comes
 * first, in order. */
START_TEST(test_readahead_off)
{
	struct h_daemon d;
	struct ipc_msg in[20], out[8];
	char buf[20][32];
	ipc_client *c, *o;
	size_t n, i;

	h_start(&d);
	c = h_connect(&d);
	o = h_connect(&d);
	h_create_queue(c, "r", 0);
	make_msgs(in, buf, 20, "r", 0);
	ck_assert_int_eq(ipc_queue_set_readahead(c, "r", 4), 0);
	/* Off: what is on its way or buffered still comes first, in order. */
	ck_assert_int_eq(ipc_queue_put_many(o, "r", in, 10, &n, 0), 0);
	h_get_expect(c, "r", "r0", 0);
	ck_assert_int_eq(ipc_queue_set_readahead(c, "r", 0), 0);
	for (i = 1; i < 10; i++)
		h_get_expect(c, "r", buf[i], 0);
	ck_assert_int_eq(ipc_queue_get_many(c, "r", out, 8, &n, 0), IPC_EEMPTY);
	ipc_close(c);
	ipc_close(o);
	h_stop(&d);
}
END_TEST

/* Fill a large message: its index in every byte, but for a tag at the
 * start, so any mix-up or stale buffer shows. */
static void big_fill(char *b, size_t len, unsigned i)
{
	memset(b, 'a' + (int)(i % 26), len);
	snprintf(b, 16, "big%u.", i);
}

/* Read-ahead with large messages mixed with small ones, through ipc_queue_get
 * and ipc_queue_get_many: queue order, every byte intact; messages still
 * buffered when the handle closes are freed (the sanitizer build checks
 * leaks). */
START_TEST(test_readahead_large)
{
	enum { N = 24, BIG = 40000 };
	static char want[N][BIG];
	struct h_daemon d;
	struct ipc_msg out[4];
	ipc_client *c, *o;
	size_t n, len, got = 0, i, sz[N];
	void *p;

	h_start(&d);
	c = h_connect(&d);
	o = h_connect(&d);
	h_create_queue(c, "L", 0);
	for (i = 0; i < N; i++) {
		sz[i] = i % 3 == 2 ? 10 : BIG - i;
		big_fill(want[i], sz[i], (unsigned)i);
		ck_assert_int_eq(ipc_queue_put(o, "L", want[i], sz[i], 0), 0);
	}
	ck_assert_int_eq(ipc_queue_set_readahead(c, "L", 5), 0);
	while (got < N - 6) {
		if (got % 2 == 0) {
			ck_assert_int_eq(ipc_queue_get(c, "L", &p, &len, 0), 0);
			ck_assert_uint_eq(len, sz[got]);
			ck_assert(memcmp(p, want[got], len) == 0);
			ipc_free(p);
			got++;
			continue;
		}
		ck_assert_int_eq(ipc_queue_get_many(c, "L", out, 4, &n, 0), 0);
		ck_assert_uint_ge(n, 1);
		for (i = 0; i < n; i++) {
			ck_assert_uint_eq(out[i].len, sz[got + i]);
			ck_assert(memcmp(out[i].data, want[got + i], out[i].len) == 0);
		}
		got += n;
	}
	/* Some are still buffered or on their way: closing frees them. */
	ck_assert_int_eq(ipc_queue_get(c, "L", &p, &len, 0), 0);
	ck_assert(memcmp(p, want[got], len) == 0);
	ipc_free(p);
	ipc_close(c);
	ipc_close(o);
	h_stop(&d);
}
END_TEST

/* Read-ahead of large messages for single gets fetches a bounded number
 * of bytes (1 MiB, sixteen of 64 KiB) once their size is known (the
 * blocks a caller frees come back through ipc_free); a batch get still
 * fetches up to n. */
START_TEST(test_readahead_large_budget)
{
	enum { N = 100, BIG = 65536, AHEAD = 32, BUDGET = 16 };
	struct ipc_info info;
	struct ipc_msg out[AHEAD];
	struct h_daemon d;
	ipc_client *c, *o;
	unsigned char *m = calloc(1, BIG);
	size_t len, i, n, got;
	void *p;

	h_start(&d);
	c = h_connect(&d);
	o = h_connect(&d);
	h_create_queue(o, "B", 0);
	for (i = 0; i < N; i++) {
		m[0] = (unsigned char)i;
		ck_assert_int_eq(ipc_queue_put(o, "B", m, BIG, 0), 0);
	}
	ck_assert_int_eq(ipc_queue_set_readahead(c, "B", AHEAD), 0);
	/* The first fetch takes AHEAD (sizes unknown); the ones after it
	 * BUDGET each, one on its way at a time: the 33rd get took one
	 * (sent when half of the first was left) and left BUDGET - 1. */
	for (i = 0; i < AHEAD + 1; i++) {
		ck_assert_int_eq(ipc_queue_get(c, "B", &p, &len, 0), 0);
		ck_assert_uint_eq(len, BIG);
		ck_assert_uint_eq(((unsigned char *)p)[0], i);
		ipc_free(p);
	}
	ck_assert_uint_le(ipc_queue_buffered(c, "B"), BUDGET);
	ck_assert_uint_ge(ipc_queue_buffered(c, "B"), BUDGET / 2);
	ck_assert_int_eq(ipc_stat(o, "B", &info, sizeof info), 0);
	ck_assert_uint_ge(info.size, N - AHEAD - 2 * BUDGET);
	/* Batch gets: back to fetches of up to AHEAD, in order. */
	for (got = AHEAD + 1; got < N; got += n) {
		ck_assert_int_eq(ipc_queue_get_many(c, "B", out, AHEAD, &n, 1000), 0);
		for (i = 0; i < n; i++)
			ck_assert_uint_eq(((unsigned char *)out[i].data)[0], got + i);
	}
	ck_assert_uint_eq(got, N);
	ipc_close(c);
	ipc_close(o);
	h_stop(&d);
	free(m);
}
END_TEST

/* Page faults of this process so far. */
static long minflt_now(void)
{
	struct rusage u;

	getrusage(RUSAGE_SELF, &u);
	return u.ru_minflt;
}

/* Batch gets of 64 KiB messages through read-ahead reuse the blocks of
 * the batch before (valid until the next call) instead of freeing and
 * allocating them again: freed all at once, malloc gave their pages back
 * and every message faulted its pages in again (7.5 faults per message
 * here before, 0 after the first rounds). Bound: one per message. */
START_TEST(test_readahead_batch_spares)
{
	enum { K = 64, BIG = 65536, WARM = 2, ROUNDS = 10 };
	static unsigned char buf[K][BIG];
	struct ipc_msg in[K], out[K];
	struct h_daemon d;
	ipc_client *c, *o;
	size_t n, got, i, r;
	long before = 0;

	h_start(&d);
	c = h_connect(&d);
	o = h_connect(&d);
	h_create_queue(o, "S", 0);
	ck_assert_int_eq(ipc_queue_set_readahead(c, "S", K), 0);
	for (i = 0; i < K; i++)
		in[i] = (struct ipc_msg){ buf[i], BIG };
	for (r = 0; r < ROUNDS; r++) {
		if (r == WARM)
			before = minflt_now();
		for (i = 0; i < K; i++)
			buf[i][0] = (unsigned char)(r + i);
		ck_assert_int_eq(ipc_queue_put_many(o, "S", in, K, &n, 0), 0);
		for (got = 0; got < K; got += n) {
			ck_assert_int_eq(ipc_queue_get_many(c, "S", out, K, &n, 1000), 0);
			for (i = 0; i < n; i++)
				ck_assert_uint_eq(((const unsigned char *)out[i].data)[0],
						  (unsigned char)(r + got + i));
		}
	}
	ck_assert_int_lt(minflt_now() - before, (ROUNDS - WARM) * K);
	ipc_close(c);
	ipc_close(o);
	h_stop(&d);
}
END_TEST

/* A plain get (no read-ahead) of a large message hands it over in a
 * block on a 64-byte line (copies into malloc's +16 were ~10% slower),
 * and a block given back with ipc_free is the next one's. */
START_TEST(test_get_large_block)
{
	enum { BIG = 65536 };
	struct h_daemon d;
	ipc_client *c;
	unsigned char *m = calloc(1, BIG);
	void *p, *q;
	size_t len;

	h_start(&d);
	c = h_connect(&d);
	h_create_queue(c, "L", 0);
	ck_assert_int_eq(ipc_queue_put(c, "L", m, BIG, 0), 0);
	ck_assert_int_eq(ipc_queue_put(c, "L", m, BIG, 0), 0);
	ck_assert_int_eq(ipc_queue_get(c, "L", &p, &len, 0), 0);
	ck_assert_uint_eq(len, BIG);
	ck_assert_uint_eq((uintptr_t)p % 64, 0);
	ipc_free(p);
	ck_assert_int_eq(ipc_queue_get(c, "L", &q, &len, 0), 0);
	ck_assert_ptr_eq(q, p);
	ipc_free(q);
	ipc_close(c);
	h_stop(&d);
	free(m);
}
END_TEST

/* ipc_free keeps only blocks the library made on a 64-byte line: other
 * large memory it returned (here ipc_list arrays of 300 entries, 139 KiB,
 * which malloc maps at a page + 16) was kept too and handed out as the
 * next large messages' blocks, off the line ipcclient.h promises. */
START_TEST(test_free_foreign_not_kept)
{
	enum { QUEUES = 300, LISTS = 4, BIG = 65536 };
	struct ipc_info *infos[LISTS];
	unsigned char *m = calloc(1, BIG);
	struct h_daemon d;
	ipc_client *c;
	void *p[LISTS];
	char name[16];
	size_t n, len;
	int i;

	h_start(&d);
	c = h_connect(&d);
	for (i = 0; i < QUEUES; i++) {
		snprintf(name, sizeof(name), "q%03d", i);
		h_create_queue(c, name, 0);
	}
	for (i = 0; i < LISTS; i++) {
		ck_assert_int_eq(ipc_list(c, &infos[i], &n, sizeof(**infos)), 0);
		ck_assert_uint_eq(n, QUEUES);
		ck_assert_int_eq(ipc_queue_put(c, "q000", m, BIG, 0), 0);
	}
	for (i = 0; i < LISTS; i++)
		ipc_free(infos[i]);
	for (i = 0; i < LISTS; i++) {
		ck_assert_int_eq(ipc_queue_get(c, "q000", &p[i], &len, 0), 0);
		ck_assert_uint_eq(len, BIG);
		ck_assert_uint_eq((uintptr_t)p[i] % 64, 0);
	}
	for (i = 0; i < LISTS; i++)
		ipc_free(p[i]);
	ipc_close(c);
	h_stop(&d);
	free(m);
}
END_TEST

/* Single gets of 64 KiB messages through read-ahead (a fetch brings
 * sixteen): the blocks the caller hands back with ipc_free are reused for
 * the next messages. Freed to malloc one by one, each fetch's worth
 * ended at the top of the heap, glibc gave it back, and every message
 * faulted its pages in again (14 faults per message before, ~0.1 after).
 * Bound: one per message. */
START_TEST(test_readahead_single_blocks)
{
	enum { K = 64, BIG = 65536, WARM = 2, ROUNDS = 10 };
	static unsigned char buf[K][BIG];
	struct ipc_msg in[K];
	struct h_daemon d;
	ipc_client *c, *o;
	size_t n, len, i, r;
	long before = 0;
	void *p;

	h_start(&d);
	c = h_connect(&d);
	o = h_connect(&d);
	h_create_queue(o, "S", 0);
	ck_assert_int_eq(ipc_queue_set_readahead(c, "S", K), 0);
	for (i = 0; i < K; i++)
		in[i] = (struct ipc_msg){ buf[i], BIG };
	for (r = 0; r < ROUNDS; r++) {
		if (r == WARM)
			before = minflt_now();
		for (i = 0; i < K; i++)
			buf[i][0] = (unsigned char)(r + i);
		ck_assert_int_eq(ipc_queue_put_many(o, "S", in, K, &n, 0), 0);
		for (i = 0; i < K; i++) {
			ck_assert_int_eq(ipc_queue_get(c, "S", &p, &len, 1000), 0);
			ck_assert_uint_eq(len, BIG);
			ck_assert_uint_eq(((const unsigned char *)p)[0],
					  (unsigned char)(r + i));
			ipc_free(p);
		}
	}
	ck_assert_int_lt(minflt_now() - before, (ROUNDS - WARM) * K);
	ipc_close(c);
	ipc_close(o);
	h_stop(&d);
}
END_TEST

/* A client must never block sending while the daemon waits for it to read:
 * with max-output at its least, a read-ahead reply of 1 MiB the client has
 * not read yet stops the daemon reading that client, and a 4 MiB batch put
 * on the same handle would then block in send for good. The library reads
 * replies aside while a send waits, so the put completes. */
START_TEST(test_send_while_unread)
{
	static const char *args[] = { "--max-output", "4096", NULL };
	struct h_opts o = { .args = args, .listen_fd = -1 };
	static char big[65536];
	struct ipc_msg batch[64];
	struct h_daemon d;
	ipc_client *c, *p;
	size_t n, len, i;
	void *data;

	h_prepare(&d);
	h_launch_opts(&d, &o);
	c = h_connect(&d);
	p = h_connect(&d);
	h_create_queue(p, "src", 0);
	h_create_queue(p, "dst", 0);
	memset(big, 's', sizeof(big));
	for (i = 0; i < 40; i++)
		ck_assert_int_eq(ipc_queue_put(p, "src", big, sizeof(big), 0), 0);
	/* The first get fetches 16 and sends the next fetch ahead: its reply
	 * (16 x 64 KiB) waits unread in the daemon. */
	ck_assert_int_eq(ipc_queue_set_readahead(c, "src", 16), 0);
	for (i = 0; i < 9; i++) {
		ck_assert_int_eq(ipc_queue_get(c, "src", &data, &len, 0), 0);
		ipc_free(data);
	}
	usleep(200000);
	for (i = 0; i < 64; i++) {
		batch[i].data = big;
		batch[i].len = sizeof(big);
	}
	ck_assert_int_eq(ipc_queue_put_many(c, "dst", batch, 64, &n, 5000), 0);
	ck_assert_uint_eq(n, 64);
	ck_assert_uint_eq(queue_size(p, "dst"), 64);
	/* What was read aside is served in order. */
	for (i = 9; i < 40; i++) {
		ck_assert_int_eq(ipc_queue_get(c, "src", &data, &len, 0), 0);
		ck_assert_uint_eq(len, sizeof(big));
		ipc_free(data);
	}
	ck_assert_int_eq(ipc_queue_get(c, "src", &data, &len, 0), IPC_EEMPTY);
	ipc_close(c);
	ipc_close(p);
	h_stop(&d);
}
END_TEST

/* A one-way pipe "pa": r holds end 0, w end 1. */
static void pa_attach(ipc_client *r, ipc_client *w)
{
	ck_assert_int_eq(ipc_pipe_attach(r, "pa", 0, IPC_PIPE_CREATE | IPC_PIPE_ONEWAY, NULL), 0);
	ck_assert_int_eq(ipc_pipe_attach(w, "pa", 1, IPC_PIPE_CREATE | IPC_PIPE_ONEWAY, NULL), 0);
}

/* Async pipe sends and pipe read-ahead refuse bad arguments at once. */
START_TEST(test_pipe_async_args)
{
	struct h_daemon d;
	ipc_client *r, *w;

	h_start(&d);
	r = h_connect(&d);
	w = h_connect(&d);
	pa_attach(r, w);
	ck_assert_int_eq(ipc_pipe_send_async(w, "pa", 2, "x", 1, 0), IPC_EINVAL);
	ck_assert_int_eq(ipc_pipe_send_async(w, ".pa", 1, "x", 1, 0), IPC_ENAME);
	ck_assert_int_eq(ipc_pipe_set_readahead(r, "pa", 2, 8), IPC_EINVAL);
	ck_assert_int_eq(ipc_pipe_set_readahead(r, "pa", 0, 8), 0);
	ipc_close(r);
	ipc_close(w);
	h_stop(&d);
}
END_TEST

/* 50 async sends, then the peer closes; read-ahead receives, single and
 * batched, get them in order, then EOF. */
START_TEST(test_pipe_async_readahead)
{
	struct h_daemon d;
	struct ipc_msg out[8];
	char text[32];
	ipc_client *r, *w;
	void *data;
	size_t len, n, i;
	unsigned got = 0;

	h_start(&d);
	r = h_connect(&d);
	w = h_connect(&d);
	pa_attach(r, w);
	ck_assert_int_eq(ipc_pipe_set_readahead(r, "pa", 0, 8), 0);
	for (i = 0; i < 50; i++) {
		snprintf(text, sizeof(text), "s%zu", i);
		ck_assert_int_eq(ipc_pipe_send_async(w, "pa", 1, text, strlen(text),
						     IPC_FOREVER), 0);
	}
	ck_assert_int_eq(ipc_flush(w), 0);
	ck_assert_int_eq(ipc_pipe_close(w, "pa", 1), 0);
	while (got < 50) {
		snprintf(text, sizeof(text), "s%u", got);
		if (got % 2 == 0) {
			ck_assert_int_eq(ipc_pipe_recv(r, "pa", 0, &data, &len, 0), 0);
			ck_assert_uint_eq(len, strlen(text));
			ck_assert(memcmp(data, text, len) == 0);
			ipc_free(data);
			got++;
			continue;
		}
		ck_assert_int_eq(ipc_pipe_recv_many(r, "pa", 0, out, 5, &n, 0), 0);
		for (i = 0; i < n; i++) {
			snprintf(text, sizeof(text), "s%zu", got + i);
			expect_msg(&out[i], text);
		}
		got += (unsigned)n;
	}
	ck_assert_int_eq(ipc_pipe_recv(r, "pa", 0, &data, &len, 0), IPC_EEOF);
	ck_assert_int_eq(ipc_pipe_recv_many(r, "pa", 0, out, 5, &n, 1000), IPC_EEOF);
	ipc_close(r);
	ipc_close(w);
	h_stop(&d);
}
END_TEST

/* Async sends after the peer closed: BrokenPipe at the flush, the later
 * ones not stopped (they fail too), each counted. */
START_TEST(test_pipe_async_brokenpipe)
{
	struct h_daemon d;
	ipc_client *r, *w;

	h_start(&d);
	r = h_connect(&d);
	w = h_connect(&d);
	ck_assert_int_eq(ipc_pipe_attach(w, "pb", 1, IPC_PIPE_CREATE, NULL), 0);
	ck_assert_int_eq(ipc_pipe_send_async(w, "pb", 1, "x", 1, 0), IPC_OK);
	ck_assert_int_eq(ipc_flush(w), 0);
	ck_assert_int_eq(ipc_pipe_attach(r, "pb", 0, 0, NULL), 0);
	ck_assert_int_eq(ipc_pipe_close(r, "pb", 0), 0);
	ck_assert_int_eq(ipc_pipe_send_async(w, "pb", 1, "y", 1, 0), 0);
	ck_assert_int_eq(ipc_pipe_send_async(w, "pb", 1, "z", 1, 0), 0);
	ck_assert_int_eq(ipc_flush(w), IPC_EPIPE);
	ck_assert_msg(strstr(ipc_last_error(w), "async send 1") != NULL,
		      "error text: %s", ipc_last_error(w));
	ck_assert_uint_eq(ipc_flush_notput(w), 2);
	ipc_close(r);
	ipc_close(w);
	h_stop(&d);
}
END_TEST

/* An async send on an end another connection held and closed: the flush
 * says it is not ours. */
START_TEST(test_pipe_async_not_attached)
{
	struct h_daemon d;
	ipc_client *r, *w;
	int rc;

	h_start(&d);
	r = h_connect(&d);
	w = h_connect(&d);
	pa_attach(r, w);
	ck_assert_int_eq(ipc_pipe_close(w, "pa", 1), 0);
	ipc_close(w);
	ck_assert_int_eq(ipc_pipe_send_async(r, "pa", 1, "q", 1, 0), 0);
	rc = ipc_flush(r);
	ck_assert_msg(rc == IPC_ENOTATTACHED || rc == IPC_ECLOSED, "flush: %d", rc);
	ck_assert_uint_eq(ipc_flush_notput(r), 1);
	ipc_close(r);
	h_stop(&d);
}
END_TEST

/* The batch and pipelining suite. */
/* A get parked on queue "u", for test_unget. */
static int job_get_u(void *arg)
{
	ipc_client *c = h_connect(arg);

	h_get_expect(c, "u", "x0", T_CHILD_MS);
	ipc_close(c);
	return 0;
}

/* Start ipcd on d with clients *c and *o, and "m0".."m5" put on "u". */
static void unget_start(struct h_daemon *d, ipc_client **c, ipc_client **o)
{
	struct ipc_msg in[6];
	char buf[6][32];
	size_t n;

	h_start(d);
	*c = h_connect(d);
	*o = h_connect(d);
	h_create_queue(*o, "u", 0);
	make_msgs(in, buf, 6, "m", 0);
	ck_assert_int_eq(ipc_queue_put_many(*o, "u", in, 6, &n, 0), 0);
}

/* ipc_queue_unread gives read-ahead messages back to the head, in order
 * (requeued counts them); with nothing read ahead it is a no-op. */
START_TEST(test_unread)
{
	struct h_daemon d;
	ipc_client *c, *o;
	char want[32];
	size_t n;

	unget_start(&d, &c, &o);
	ck_assert_int_eq(ipc_queue_set_readahead(c, "u", 4), 0);
	h_get_expect(c, "u", "m0", 0);
	ck_assert_int_eq(ipc_queue_unread(c, "u"), 0);
	ck_assert_uint_eq(ipc_queue_buffered(c, "u"), 0);
	ck_assert_uint_eq(queue_size(o, "u"), 5);
	ck_assert_uint_eq(h_stat(o, "u").requeued, 3); /* m1..m3; m4, m5 never left */
	ck_assert_int_eq(ipc_queue_unread(c, "u"), 0); /* nothing: a no-op */
	for (n = 1; n < 6; n++) {
		snprintf(want, sizeof(want), "m%zu", n);
		h_get_expect(o, "u", want, 0);
	}
	ipc_close(c);
	ipc_close(o);
	h_stop(&d);
}
END_TEST

/* ipc_queue_unget gives messages back ahead of the queue's, in order. */
START_TEST(test_unget)
{
	struct h_daemon d;
	struct ipc_msg in[2];
	char buf[2][32], want[32];
	ipc_client *c, *o;
	size_t n;

	unget_start(&d, &c, &o);
	make_msgs(in, buf, 2, "x", 0);
	ck_assert_int_eq(ipc_queue_unget(o, "u", in, 2), 0);
	h_get_expect(o, "u", "x0", 0);
	h_get_expect(o, "u", "x1", 0);
	for (n = 0; n < 6; n++) {
		snprintf(want, sizeof(want), "m%zu", n);
		h_get_expect(o, "u", want, 0);
	}
	ipc_close(c);
	ipc_close(o);
	h_stop(&d);
}
END_TEST

/* ipc_queue_unget on an empty queue with a getter parked: the first
 * message given back is the getter's. */
START_TEST(test_unget_to_getter)
{
	struct h_daemon d;
	struct ipc_msg in[2];
	char buf[2][32];
	ipc_client *o;
	pid_t pid;

	h_start(&d);
	o = h_connect(&d);
	h_create_queue(o, "u", 0);
	pid = h_spawn(job_get_u, &d);
	h_wait_parked(o, "u", 'g', 1);
	make_msgs(in, buf, 2, "x", 0);
	ck_assert_int_eq(ipc_queue_unget(o, "u", in, 2), 0);
	ck_assert_int_eq(h_wait_child(pid, T_CHILD_MS), 0);
	h_get_expect(o, "u", "x1", 0);
	ipc_close(o);
	h_stop(&d);
}
END_TEST

/* ipc_queue_unget of nothing is a no-op; a missing queue or a durable
 * one refuses it. */
START_TEST(test_unget_refused)
{
	struct ipc_queue_opts dur = IPC_QUEUE_OPTS_INIT;
	struct h_daemon d;
	struct ipc_msg in[1];
	char buf[1][32];
	ipc_client *o;

	dur.flags = IPC_QUEUE_CREATE | IPC_QUEUE_DURABLE;
	h_start(&d);
	o = h_connect(&d);
	h_create_queue(o, "u", 0);
	make_msgs(in, buf, 1, "x", 0);
	ck_assert_int_eq(ipc_queue_unget(o, "u", in, 0), 0);
	ck_assert_int_eq(ipc_queue_unget(o, "nosuch", in, 1), IPC_ENOENT);
	ck_assert_int_eq(ipc_queue_open(o, "ud", &dur, NULL), 0);
	ck_assert_int_eq(ipc_queue_unget(o, "ud", in, 1), IPC_EINVAL);
	ipc_close(o);
	h_stop(&d);
}
END_TEST

/* Whether c's descriptor is readable within ms. */
static int fd_ready(ipc_client *c, int ms)
{
	struct pollfd pfd = { .fd = ipc_fd(c), .events = POLLIN };

	return poll(&pfd, 1, ms) == 1;
}

/* Receive one message at r's end 0 of "pa" and check it is want. */
static void pa_expect(ipc_client *r, const char *want)
{
	void *data;
	size_t len;

	ck_assert_int_eq(ipc_pipe_recv(r, "pa", 0, &data, &len, 0), 0);
	ck_assert_uint_eq(len, strlen(want));
	ck_assert(memcmp(data, want, len) == 0);
	ipc_free(data);
}

/* ipc_pipe_arm: the descriptor is readable exactly when a receive would
 * not block: not while the pipe is empty, at once while messages are read
 * ahead, when a message or EOF comes. */
START_TEST(test_pipe_arm)
{
	struct h_daemon d;
	ipc_client *r, *w;
	void *data;
	size_t len;

	h_start(&d);
	r = h_connect(&d);
	w = h_connect(&d);
	pa_attach(r, w);
	ck_assert_int_eq(ipc_pipe_arm(r, "pa", 0), IPC_EINVAL); /* no read-ahead */
	ck_assert_int_eq(ipc_pipe_set_readahead(r, "pa", 0, 8), 0);
	ck_assert_int_eq(ipc_pipe_arm(r, "pa", 2), IPC_EINVAL);
	ck_assert_int_eq(ipc_pipe_arm(r, "pa", 0), 0);
	ck_assert(!fd_ready(r, 100));
	ck_assert_int_eq(ipc_pipe_send(w, "pa", 1, "a", 1, 0), 0);
	ck_assert(fd_ready(r, T_CHILD_MS));
	pa_expect(r, "a");
	ck_assert_int_eq(ipc_pipe_arm(r, "pa", 0), 0);
	ck_assert(!fd_ready(r, 100));
	ck_assert_int_eq(ipc_pipe_send(w, "pa", 1, "b", 1, 0), 0);
	ck_assert_int_eq(ipc_pipe_send(w, "pa", 1, "c", 1, 0), 0);
	ck_assert(fd_ready(r, T_CHILD_MS));
	ck_assert_int_eq(ipc_pipe_arm(r, "pa", 0), 0); /* idempotent */
	pa_expect(r, "b");
	if (ipc_pipe_buffered(r, "pa", 0) == 1) {
		/* "c" came with "b": readable while it waits here. */
		ck_assert_int_eq(ipc_pipe_arm(r, "pa", 0), 0);
		ck_assert(fd_ready(r, T_CHILD_MS));
		ck_assert_int_eq(ipc_pipe_arm(r, "pa", 0), 0);
		ck_assert(fd_ready(r, T_CHILD_MS));
	}
	pa_expect(r, "c");
	ck_assert_int_eq(ipc_pipe_arm(r, "pa", 0), 0);
	ck_assert(!fd_ready(r, 100));
	ck_assert_int_eq(ipc_pipe_close(w, "pa", 1), 0);
	ck_assert(fd_ready(r, T_CHILD_MS));
	ck_assert_int_eq(ipc_pipe_recv(r, "pa", 0, &data, &len, 0), IPC_EEOF);
	ipc_close(r);
	ipc_close(w);
	h_stop(&d);
}
END_TEST

static Suite *batch_suite(void)
{
	Suite *s = suite_create("batch");

	h_add_case(s, "put_get_many", test_put_get_many, 30);
	h_add_case(s, "reserve_credits", test_reserve_credits, 30);
	h_add_case(s, "reserve_idle", test_reserve_idle, 30);
	h_add_case(s, "put_many_zero_length", test_put_many_zero_length, 30);
	h_add_case(s, "put_many_full", test_put_many_full, 30);
	h_add_case(s, "put_many_blocks", test_put_many_blocks, 30);
	h_add_case(s, "get_many_waits", test_get_many_waits, 30);
	h_add_case(s, "get_many_woken_by_batch", test_get_many_woken_by_batch, 30);
	h_add_case(s, "batch_errors", test_batch_errors, 30);
	h_add_case(s, "batch_deleted", test_batch_deleted, 30);
	h_add_case(s, "get_many_cut", test_get_many_cut, 60);
	h_add_case(s, "async_flush", test_async_flush, 30);
	h_add_case(s, "async_first_error", test_async_first_error, 30);
	h_add_case(s, "async_window", test_async_window, 30);
	h_add_case(s, "async_push", test_async_push, 30);
	h_add_case(s, "async_window_bytes", test_async_window_bytes, 30);
	h_add_case(s, "async_wait", test_async_wait, 30);
	h_add_case(s, "async_wait_room", test_async_wait_room, 30);
	h_add_case(s, "readahead_get", test_readahead_get, 30);
	h_add_case(s, "readahead_wait_and_close", test_readahead_wait_and_close, 30);
	h_add_case(s, "exactly_once_mixed", test_exactly_once_mixed, 120);
	h_add_case(s, "exactly_once_pipelined", test_exactly_once_pipelined, 120);
	h_add_case(s, "put_many_async", test_put_many_async, 30);
	h_add_case(s, "put_many_async_missing", test_put_many_async_missing, 30);
	h_add_case(s, "put_many_async_bounded", test_put_many_async_bounded, 30);
	h_add_case(s, "readahead", test_readahead, 30);
	h_add_case(s, "readahead_empty_wait", test_readahead_empty_wait, 30);
	h_add_case(s, "readahead_off", test_readahead_off, 30);
	h_add_case(s, "readahead_large", test_readahead_large, 30);
	h_add_case(s, "readahead_large_budget", test_readahead_large_budget, 30);
	h_add_case(s, "readahead_batch_spares", test_readahead_batch_spares, 30);
	h_add_case(s, "readahead_single_blocks", test_readahead_single_blocks, 30);
	h_add_case(s, "get_large_block", test_get_large_block, 30);
	h_add_case(s, "free_foreign_not_kept", test_free_foreign_not_kept, 30);
	h_add_case(s, "send_while_unread", test_send_while_unread, 20);
	h_add_case(s, "pipe_async_args", test_pipe_async_args, 30);
	h_add_case(s, "pipe_async_readahead", test_pipe_async_readahead, 30);
	h_add_case(s, "pipe_async_brokenpipe", test_pipe_async_brokenpipe, 30);
	h_add_case(s, "pipe_async_not_attached", test_pipe_async_not_attached, 30);
	h_add_case(s, "pipe_arm", test_pipe_arm, 30);
	h_add_case(s, "unget", test_unget, 30);
	h_add_case(s, "unread", test_unread, 30);
	h_add_case(s, "unget_to_getter", test_unget_to_getter, 30);
	h_add_case(s, "unget_refused", test_unget_refused, 30);
	h_add_case(s, "raw_batch_ops", test_raw_batch_ops, 30);
	h_add_case(s, "pipe_batch", test_pipe_batch, 30);
	h_add_case(s, "batch_large_shared", test_batch_large_shared, 30);
	h_add_case(s, "batch_shared_frees", test_batch_shared_frees, 30);
	return s;
}

/* Run the suite, one forked process per test. */
int main(void)
{
	return h_run_suite(batch_suite());
}
