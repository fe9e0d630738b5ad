/* SPDX-License-Identifier: MIT */
/*
 * check_api.c: the conventions of libipcclient's public header, against
 * the real ipcd: option structs of any size (older and newer callers),
 * struct ipc_info filled to the caller's size, queue creation with
 * maxsize "any", one delete for both kinds, read-ahead counts, the
 * version calls, and waits that ipc_set_interrupt() makes interruptible.
 */
#include <check.h>
#include <stddef.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "harness.h"
#include <ipcclient/ipcclient.h>

/* A caller built against a newer header: one more option after ours. */
struct newer_queue_opts {
	struct ipc_queue_opts o;
	long long extra;
};

/* struct ipc_info as a newer header might have it: more fields after. */
struct newer_info {
	struct ipc_info i;
	unsigned long long extra[3];
};

/* The mode the daemon gives a queue created without one. */
static unsigned default_mode(ipc_client *c)
{
	struct ipc_info in;

	ck_assert_int_eq(ipc_queue_open(c, "dflt", H_QOPTS(0, IPC_QUEUE_CREATE), NULL), 0);
	in = h_stat(c, "dflt");
	return in.mode;
}

/* NULL options, and IPC_MAXSIZE_ANY with CREATE: open what is there,
 * create an unbounded queue when nothing is. */
START_TEST(test_queue_open_any)
{
	struct ipc_queue_opts o = IPC_QUEUE_OPTS_INIT;
	struct h_daemon d;
	long long max = -5;
	ipc_client *c;

	h_start(&d);
	c = h_connect(&d);
	ck_assert_int_eq(ipc_queue_open(c, "a", NULL, NULL), IPC_ENOENT);
	o.flags = IPC_QUEUE_CREATE;
	ck_assert_int_eq(ipc_queue_open(c, "a", &o, &max), 0);
	ck_assert_int_eq(max, 0);
	ck_assert_int_eq(h_stat(c, "a").maxsize, 0);
	h_create_queue(c, "five", 5);
	max = -5;
	ck_assert_int_eq(ipc_queue_open(c, "five", &o, &max), 0);
	ck_assert_int_eq(max, 5);
	max = -5;
	ck_assert_int_eq(ipc_queue_open(c, "five", NULL, &max), 0);
	ck_assert_int_eq(max, 5);
	o.flags = IPC_QUEUE_CREATE | IPC_QUEUE_EXCL;
	ck_assert_int_eq(ipc_queue_open(c, "five", &o, NULL), IPC_EEXIST);
	ck_assert_int_eq(ipc_queue_open(c, "b", &o, &max), 0);
	ck_assert_int_eq(max, 0);
	ipc_close(c);
	h_stop(&d);
}
END_TEST

/* Options out of range are refused before any request. */
START_TEST(test_queue_opts_invalid)
{
	struct h_daemon d;
	ipc_client *c;

	h_start(&d);
	c = h_connect(&d);
	ck_assert_int_eq(ipc_queue_open(c, "q", H_QOPTS(-2, IPC_QUEUE_CREATE), NULL),
			 IPC_EINVAL);
	ck_assert_int_eq(ipc_queue_open(c, "q", H_QOPTS(0, 0x10), NULL), IPC_EINVAL);
	ck_assert_int_eq(ipc_queue_open(c, "q", H_QOPTS_MODE(0, IPC_QUEUE_CREATE, 01000),
					NULL), IPC_EINVAL);
	ck_assert_int_eq(ipc_queue_open(c, "q", H_QOPTS_MODE(0, IPC_QUEUE_CREATE, -2),
					NULL), IPC_EINVAL);
	ck_assert_int_eq(ipc_stat(c, "q", &(struct ipc_info){ 0 }, sizeof(struct ipc_info)),
			 IPC_ENOENT);
	ck_assert_int_eq(ipc_queue_open(c, "q", H_QOPTS_MODE(0, IPC_QUEUE_CREATE, 0604),
					NULL), 0);
	ck_assert_uint_eq(h_stat(c, "q").mode, 0604);
	ipc_close(c);
	h_stop(&d);
}
END_TEST

/* An older caller's smaller struct: the fields its size covers count,
 * the others take their defaults whatever the memory past size holds. */
START_TEST(test_queue_opts_older)
{
	struct ipc_queue_opts o = IPC_QUEUE_OPTS_INIT;
	struct h_daemon d;
	unsigned dmode;
	ipc_client *c;

	h_start(&d);
	c = h_connect(&d);
	dmode = default_mode(c);
	/* Without mode: a mode past size (even an invalid one) is not read. */
	o.size = offsetof(struct ipc_queue_opts, mode);
	o.maxsize = 3;
	o.flags = IPC_QUEUE_CREATE;
	o.mode = 077777;
	ck_assert_int_eq(ipc_queue_open(c, "old", &o, NULL), 0);
	ck_assert_uint_eq(h_stat(c, "old").mode, dmode);
	ck_assert_int_eq(h_stat(c, "old").maxsize, 3);
	/* Without flags either: no CREATE, so a missing queue stays missing. */
	o.size = offsetof(struct ipc_queue_opts, flags);
	ck_assert_int_eq(ipc_queue_open(c, "older", &o, NULL), IPC_ENOENT);
	/* Too small to hold size itself: not an options struct. */
	o.size = 0;
	ck_assert_int_eq(ipc_queue_open(c, "old", &o, NULL), IPC_EINVAL);
	o.size = sizeof(o.size) - 1;
	ck_assert_int_eq(ipc_queue_open(c, "old", &o, NULL), IPC_EINVAL);
	ipc_close(c);
	h_stop(&d);
}
END_TEST

/* A newer caller's larger struct: fine while what this library does not
 * know is zero, IPC_EINVAL once it asks for more. */
START_TEST(test_queue_opts_newer)
{
	struct newer_queue_opts n;
	struct h_daemon d;
	ipc_client *c;

	h_start(&d);
	c = h_connect(&d);
	memset(&n, 0, sizeof(n));
	n.o.size = sizeof(n);
	n.o.maxsize = 4;
	n.o.flags = IPC_QUEUE_CREATE;
	n.o.mode = IPC_MODE_DEFAULT;
	n.extra = 1;
	ck_assert_int_eq(ipc_queue_open(c, "new", &n.o, NULL), IPC_EINVAL);
	ck_assert_ptr_nonnull(strstr(ipc_last_error(c), "unknown"));
	n.extra = 0;
	ck_assert_int_eq(ipc_queue_open(c, "new", &n.o, NULL), 0);
	ck_assert_int_eq(h_stat(c, "new").maxsize, 4);
	ipc_close(c);
	h_stop(&d);
}
END_TEST

/* Pipe options: the size rules, and out fields only where size reaches. */
START_TEST(test_pipe_opts_size)
{
	struct ipc_pipe_opts o = IPC_PIPE_OPTS_INIT;
	struct h_daemon d;
	ipc_client *c;

	h_start(&d);
	c = h_connect(&d);
	o.mode = 01000;
	ck_assert_int_eq(ipc_pipe_attach(c, "p", 0, IPC_PIPE_CREATE, &o), IPC_EINVAL);
	o.mode = IPC_MODE_DEFAULT;
	o.size = 0;
	ck_assert_int_eq(ipc_pipe_attach(c, "p", 0, IPC_PIPE_CREATE, &o), IPC_EINVAL);
	/* An older caller that knows maxmsgs only: maxbytes past its size
	 * is neither read (the default bound applies) nor written. */
	o.size = offsetof(struct ipc_pipe_opts, maxbytes);
	o.maxmsgs = 7;
	o.maxbytes = -99;
	o.duplex = -1;
	ck_assert_int_eq(ipc_pipe_attach(c, "p", 0, IPC_PIPE_CREATE, &o), 0);
	ck_assert_int_eq(o.maxmsgs, 7);
	ck_assert_int_eq(o.maxbytes, -99);
	ck_assert_int_eq(o.duplex, -1);
	ck_assert_uint_eq(h_stat(c, "p").maxbytes, IPC_PIPE_DEFAULT_BYTES);
	/* The whole struct: every out field filled. */
	o = (struct ipc_pipe_opts)IPC_PIPE_OPTS_INIT;
	ck_assert_int_eq(ipc_pipe_attach(c, "p", 1, 0, &o), 0);
	ck_assert_int_eq(o.maxmsgs, 7);
	ck_assert_int_eq(o.maxbytes, IPC_PIPE_DEFAULT_BYTES);
	ck_assert_int_eq(o.duplex, 1);
	ipc_close(c);
	h_stop(&d);
}
END_TEST

/* A pipe's mode: given at creation (PATTACH's trailing mode), the
 * daemon's default without one (an older caller's struct has no mode),
 * and never changed by a later attach. */
START_TEST(test_pipe_mode)
{
	struct ipc_pipe_opts o = IPC_PIPE_OPTS_INIT;
	struct h_daemon d;
	unsigned dmode;
	ipc_client *c;

	h_start(&d);
	c = h_connect(&d);
	dmode = default_mode(c);
	ck_assert_uint_ne(dmode, 0604);
	o.mode = 0604;
	ck_assert_int_eq(ipc_pipe_attach(c, "p", 0, IPC_PIPE_CREATE, &o), 0);
	ck_assert_uint_eq(h_stat(c, "p").mode, 0604);
	o.mode = 0640;
	ck_assert_int_eq(ipc_pipe_attach(c, "p", 1, IPC_PIPE_CREATE, &o), 0);
	ck_assert_uint_eq(h_stat(c, "p").mode, 0604);
	o = (struct ipc_pipe_opts)IPC_PIPE_OPTS_INIT;
	o.size = offsetof(struct ipc_pipe_opts, mode);
	o.mode = 0604;
	ck_assert_int_eq(ipc_pipe_attach(c, "old", 0, IPC_PIPE_CREATE, &o), 0);
	ck_assert_uint_eq(h_stat(c, "old").mode, dmode);
	ipc_close(c);
	h_stop(&d);
}
END_TEST

/* struct ipc_info: written to the caller's size, zero past what the
 * library knows; too small a size is refused. */
START_TEST(test_info_size)
{
	struct newer_info big;
	struct h_daemon d;
	struct ipc_info in;
	ipc_client *c;

	h_start(&d);
	c = h_connect(&d);
	h_create_queue(c, "q", 9);
	memset(&big, 0xa5, sizeof(big));
	ck_assert_int_eq(ipc_stat(c, "q", &big.i, sizeof(big)), 0);
	ck_assert_str_eq(big.i.name, "q");
	ck_assert_int_eq(big.i.maxsize, 9);
	ck_assert_uint_eq(big.extra[0], 0);
	ck_assert_uint_eq(big.extra[2], 0);
	ck_assert_int_eq(ipc_stat(c, "q", &in, offsetof(struct ipc_info, maxsize)),
			 IPC_EINVAL);
	ck_assert_int_eq(ipc_stat(c, "q", NULL, sizeof(in)), IPC_EINVAL);
	ipc_close(c);
	h_stop(&d);
}
END_TEST

/* ipc_list: entries of the caller's size, indexed with its own type. */
START_TEST(test_list_stride)
{
	struct newer_info *big;
	struct ipc_info *infos;
	struct h_daemon d;
	ipc_client *c;
	size_t n = 99;

	h_start(&d);
	c = h_connect(&d);
	h_create_queue(c, "b", 2);
	h_create_queue(c, "a", 1);
	ck_assert_int_eq(ipc_pipe_attach(c, "c", 0, IPC_PIPE_CREATE, NULL), 0);
	ck_assert_int_eq(ipc_list(c, &infos, &n, sizeof(*big)), 0);
	ck_assert_uint_eq(n, 3);
	big = (struct newer_info *)(void *)infos;
	ck_assert_str_eq(big[0].i.name, "a");
	ck_assert_int_eq(big[1].i.maxsize, 2);
	ck_assert_str_eq(big[2].i.name, "c");
	ck_assert_int_eq(big[2].i.kind, IPC_KIND_PIPE);
	ck_assert_uint_eq(big[1].extra[1], 0);
	ipc_free(infos);
	ck_assert_int_eq(ipc_list(c, &infos, &n, 8), IPC_EINVAL);
	ipc_close(c);
	h_stop(&d);
}
END_TEST

/* ipc_delete deletes either kind. */
START_TEST(test_delete_both)
{
	struct h_daemon d;
	struct ipc_info in;
	ipc_client *c;

	h_start(&d);
	c = h_connect(&d);
	h_create_queue(c, "q", 0);
	ck_assert_int_eq(ipc_pipe_attach(c, "p", 0, IPC_PIPE_CREATE, NULL), 0);
	ck_assert_int_eq(ipc_delete(c, "q"), 0);
	ck_assert_int_eq(ipc_delete(c, "p"), 0);
	ck_assert_int_eq(ipc_stat(c, "q", &in, sizeof(in)), IPC_ENOENT);
	ck_assert_int_eq(ipc_stat(c, "p", &in, sizeof(in)), IPC_ENOENT);
	ck_assert_int_eq(ipc_delete(c, "q"), IPC_ENOENT);
	ipc_close(c);
	h_stop(&d);
}
END_TEST

/* ipc_pipe_buffered counts what read-ahead holds at one end. */
START_TEST(test_pipe_buffered)
{
	struct h_daemon d;
	ipc_client *c;
	void *data;
	size_t len;
	int i;

	h_start(&d);
	c = h_connect(&d);
	ck_assert_int_eq(ipc_pipe_attach(c, "p", 0, IPC_PIPE_CREATE, NULL), 0);
	ck_assert_int_eq(ipc_pipe_attach(c, "p", 1, 0, NULL), 0);
	for (i = 0; i < 5; i++)
		ck_assert_int_eq(ipc_pipe_send(c, "p", 1, "m", 1, 0), 0);
	ck_assert_int_eq(ipc_pipe_set_readahead(c, "p", 0, 4), 0);
	ck_assert_uint_eq(ipc_pipe_buffered(c, "p", 0), 0);
	ck_assert_int_eq(ipc_pipe_recv(c, "p", 0, &data, &len, 0), 0);
	ipc_free(data);
	ck_assert_uint_eq(ipc_pipe_buffered(c, "p", 0), 3);
	ck_assert_uint_eq(ipc_pipe_buffered(c, "p", 1), 0);
	ck_assert_uint_eq(ipc_queue_buffered(c, "p"), 0);
	ipc_close(c);
	h_stop(&d);
}
END_TEST

/* The version: the library's, the headers', and configure's agree. */
START_TEST(test_version)
{
	char triple[32];

	snprintf(triple, sizeof(triple), "%d.%d.%d", IPC_VERSION_MAJOR,
		 IPC_VERSION_MINOR, IPC_VERSION_PATCH);
	ck_assert_str_eq(IPC_VERSION_STRING, triple);
	ck_assert_str_eq(ipc_version(), PACKAGE_VERSION);
	ck_assert_str_eq(ipc_version(), IPC_VERSION_STRING);
	ck_assert_int_eq(IPC_VERSION_NUMBER, IPC_VERSION_MAJOR * 10000 +
			 IPC_VERSION_MINOR * 100 + IPC_VERSION_PATCH);
}
END_TEST

/* A NULL handle is IPC_EINVAL for every call checked before its other
 * arguments (the pipe share and join calls crashed on one with a bad
 * token pointer or options). */
START_TEST(test_null_handle)
{
	struct ipc_pipe_opts po = IPC_PIPE_OPTS_INIT;
	uint64_t token;

	ck_assert_int_eq(ipc_pipe_share(NULL, "p", 0, NULL), IPC_EINVAL);
	ck_assert_int_eq(ipc_pipe_share(NULL, "p", 0, &token), IPC_EINVAL);
	po.size = 1;
	ck_assert_int_eq(ipc_pipe_join(NULL, "p", 0, 1, &po), IPC_EINVAL);
	ck_assert_int_eq(ipc_pipe_join(NULL, "p", 0, 1, NULL), IPC_EINVAL);
	ck_assert_int_eq(ipc_queue_set_readahead_held(NULL, "q", 2, -1), IPC_EINVAL);
}
END_TEST

/* What interrupt_check sees and does, called inside a put of handle
 * "a" that waits for room in queue "q" (maxsize 1, holding "a"). */
struct icheck {
	ipc_client *b, *g;  /* two other handles */
	int calls;
	int get_at;         /* the call that takes "a" (room for the put) */
	int stop_at;        /* the call that says stop */
	unsigned own;       /* a parks an async put of "p" first */
};

/* ipc_set_interrupt()'s check: at its first call, b's put of "c" parks
 * behind the waiting one; later, g makes room or it says stop. */
static int interrupt_check(void *arg)
{
	struct icheck *x = arg;
	void *data;
	size_t len;

	if (++x->calls == 1) {
		ck_assert_int_eq(ipc_queue_put_async(x->b, "q", "c", 1, IPC_FOREVER), 0);
		ck_assert_int_eq(ipc_push(x->b), 0);
		while (h_stat(x->g, "q").putters != 2u + x->own)
			usleep(1000);
	}
	if (x->calls == x->get_at) {
		ck_assert_int_eq(ipc_queue_get(x->g, "q", &data, &len, 0), 0);
		ck_assert_int_eq(len, 1);
		ck_assert_int_eq(*(char *)data, 'a');
		ipc_free(data);
	}
	return x->calls == x->stop_at;
}

/* The next message of q through c, as a char. */
static char get_char(ipc_client *c)
{
	void *data;
	size_t len;
	char ch;

	ck_assert_int_eq(ipc_queue_get(c, "q", &data, &len, 5000), 0);
	ck_assert_int_eq(len, 1);
	ch = *(char *)data;
	ipc_free(data);
	return ch;
}

/* Run one put of "b" through a (checked every 5 ms by interrupt_check
 * with x) into q, full with "a": its result. */
static int interrupted_put(struct h_daemon *d, ipc_client **a, struct icheck *x)
{
	h_start(d);
	*a = h_connect(d);
	x->b = h_connect(d);
	x->g = h_connect(d);
	h_create_queue(*a, "q", 1);
	ck_assert_int_eq(ipc_queue_put(*a, "q", "a", 1, 0), 0);
	ck_assert_int_eq(ipc_set_interrupt(*a, 5, interrupt_check, x), 0);
	if (x->own)
		ck_assert_int_eq(ipc_queue_put_async(*a, "q", "p", 1, IPC_FOREVER), 0);
	return ipc_queue_put(*a, "q", "b", 1, 60000);
}

/* A put checked every 5 ms keeps its place in the daemon: "c", parked
 * after it, stays behind it however many checks pass. */
START_TEST(test_interrupt_keeps_place)
{
	struct icheck x = { .get_at = 4, .stop_at = -1 };
	struct h_daemon d;
	ipc_client *a;

	ck_assert_int_eq(interrupted_put(&d, &a, &x), 0);
	ck_assert_int_ge(x.calls, 4);
	ck_assert_int_eq(get_char(x.g), 'b');
	ck_assert_int_eq(get_char(x.g), 'c');
	ck_assert_int_eq(ipc_flush(x.b), 0);
	ipc_close(a);
	ipc_close(x.b);
	ipc_close(x.g);
	h_stop(&d);
}
END_TEST

/* Once the check says stop, the daemon times the put waited for out at
 * once (IPC_EFULL, nothing put) and leaves the handle's async put and
 * other handles' be; the arguments are checked. */
START_TEST(test_interrupt_expires)
{
	struct icheck x = { .get_at = -1, .stop_at = 3, .own = 1 };
	struct h_daemon d;
	struct ipc_info in;
	ipc_client *a;

	ck_assert_int_eq(interrupted_put(&d, &a, &x), IPC_EFULL);
	ck_assert_int_eq(x.calls, 3);
	in = h_stat(x.g, "q");
	ck_assert_uint_eq(in.size, 1);
	ck_assert_uint_eq(in.putters, 2);   /* a's "p" and b's "c" still wait */
	ck_assert_int_eq(get_char(x.g), 'a');
	ck_assert_int_eq(get_char(x.g), 'p');
	ck_assert_int_eq(get_char(x.g), 'c');
	ck_assert_int_eq(ipc_flush(a), 0);
	ck_assert_int_eq(ipc_queue_put(a, "q", "d", 1, 0), 0); /* a goes on */
	ck_assert_int_eq(get_char(x.g), 'd');
	ck_assert_int_eq(ipc_set_interrupt(a, 0, interrupt_check, &x), IPC_EINVAL);
	ck_assert_int_eq(ipc_set_interrupt(a, 60001, interrupt_check, &x), IPC_EINVAL);
	ck_assert_int_eq(ipc_set_interrupt(a, 0, NULL, NULL), 0);
	ck_assert_int_eq(ipc_set_interrupt(NULL, 5, interrupt_check, &x), IPC_EINVAL);
	ck_assert_int_eq(ipc_flush(x.b), 0);
	ipc_close(a);
	ipc_close(x.b);
	ipc_close(x.g);
	h_stop(&d);
}
END_TEST

/* The whole API conventions suite. */
static Suite *api_suite(void)
{
	Suite *s = suite_create("api");

	h_add_case(s, "queue_open_any", test_queue_open_any, 30);
	h_add_case(s, "null_handle", test_null_handle, 30);
	h_add_case(s, "queue_opts_invalid", test_queue_opts_invalid, 30);
	h_add_case(s, "queue_opts_older", test_queue_opts_older, 30);
	h_add_case(s, "queue_opts_newer", test_queue_opts_newer, 30);
	h_add_case(s, "pipe_opts_size", test_pipe_opts_size, 30);
	h_add_case(s, "pipe_mode", test_pipe_mode, 30);
	h_add_case(s, "info_size", test_info_size, 30);
	h_add_case(s, "list_stride", test_list_stride, 30);
	h_add_case(s, "delete_both", test_delete_both, 30);
	h_add_case(s, "pipe_buffered", test_pipe_buffered, 30);
	h_add_case(s, "version", test_version, 10);
	h_add_case(s, "interrupt_keeps_place", test_interrupt_keeps_place, 30);
	h_add_case(s, "interrupt_expires", test_interrupt_expires, 30);
	return s;
}

/* Run the suite, one forked process per test. */
int main(void)
{
	return h_run_suite(api_suite());
}
