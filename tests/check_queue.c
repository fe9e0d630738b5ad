/* SPDX-License-Identifier: MIT */
/*
 * check_queue.c: unit tests of the daemon's plain data structures: qmsg,
 * queue (with parked getters and putters, and messages in flight for
 * at-least-once delivery) and registry. No socket.
 */
#include <check.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#include "ilist.h"
#include "ipc_defs.h"
#include "qmsg.h"
#include "queue.h"
#include "quota.h"
#include "registry.h"
#include "siphash.h"
#include "tagmap.h"

/* A test's parked request: a waiter plus what its wake callback saw. */
struct tw {
	struct waiter w;
	int woken;                 /* times wake ran for it */
	int status;
	struct qmsg *got;          /* getter: the message handed over */
	int seq;                   /* order in which it was woken (1-based) */
	struct queue *q;           /* for hooks */
	void (*hook)(struct tw *t);
	void *arg;                 /* for hooks */
};

static int wake_seq;

/* The wake callback every test queue uses: records and runs t->hook. */
static void test_wake(struct waiter *w, int status, struct qmsg *m)
{
	struct tw *t = container_of(w, struct tw, w);

	ck_assert_ptr_null(w->holder);
	ck_assert(!ilist_linked(&w->link));
	if (w->kind == WAITER_PUT && status == 0)
		ck_assert_ptr_null(w->msg);
	if (w->kind == WAITER_PUT)
		ck_assert_ptr_null(m);
	if (status != 0)
		ck_assert_ptr_null(m);
	t->woken++;
	t->status = status;
	t->got = m;
	t->seq = ++wake_seq;
	if (t->hook)
		t->hook(t);
}

/* A message holding the bytes of s (no NUL). */
static struct qmsg *msg(const char *s)
{
	struct qmsg *m = qmsg_new(s, strlen(s));

	ck_assert_ptr_nonnull(m);
	return m;
}

/* Assert m holds exactly the bytes of s, then free it. */
static void expect_msg(struct qmsg *m, const char *s)
{
	ck_assert_ptr_nonnull(m);
	ck_assert_uint_eq(m->len, strlen(s));
	ck_assert_mem_eq(m->data, s, m->len);
	qmsg_free(m);
}

/* Get one message and assert its contents. */
static void expect_get(struct queue *q, const char *s)
{
	struct qmsg *m = NULL;

	ck_assert_int_eq(queue_get(q, &m), 0);
	expect_msg(m, s);
}

/* Set up t as a waiter of kind (with m for putters) for q. */
static void tw_init(struct tw *t, struct queue *q, enum waiter_kind kind,
		    struct qmsg *m)
{
	memset(t, 0, sizeof(*t));
	t->w.kind = kind;
	t->w.msg = m;
	t->q = q;
}

/* A fresh queue with the test callback. */
static struct queue *newq(const char *name, size_t maxsize)
{
	struct queue *q = queue_new(name, maxsize, test_wake);

	ck_assert_ptr_nonnull(q);
	wake_seq = 0;
	return q;
}

/* The current stats of q. */
static struct queue_stats stats(const struct queue *q)
{
	struct queue_stats st;

	memset(&st, 0xa5, sizeof(st));
	queue_stats(q, &st);
	return st;
}

/* The kB of transparent huge pages in the mapping holding addr
 * (/proc/self/smaps), or -1 when it is not found. */
static long anon_huge_kb(const void *addr)
{
	FILE *f = fopen("/proc/self/smaps", "r");
	unsigned long lo, hi;
	long kb = -1;
	bool in = false;
	char line[512];

	while (f && fgets(line, sizeof(line), f)) {
		if (sscanf(line, "%lx-%lx ", &lo, &hi) == 2 && strchr(line, '-') <
		    strchr(line, ' '))
			in = lo <= (uintptr_t)addr && (uintptr_t)addr < hi;
		else if (in && sscanf(line, "AnonHugePages: %ld kB", &kb) == 1)
			break;
	}
	if (f)
		fclose(f);
	return kb;
}

/* The chunk of m, its first message: every page of it was filled in at
 * once, small ones (a fresh huge page costs recovery more than it saves). */
static void bulk_chunk_check(const struct qmsg *m)
{
	static unsigned char resident[(2 << 20) / 4096];
	void *chunk = (void *)((uintptr_t)m & ~(uintptr_t)((2 << 20) - 1));
	size_t i, pages = (2 << 20) / (size_t)sysconf(_SC_PAGESIZE);

	ck_assert_int_eq(mincore(chunk, 2 << 20, resident), 0);
	for (i = 0; i < pages; i++)
		ck_assert_msg(resident[i] & 1, "page %zu of the chunk not resident", i);
	ck_assert_int_eq(anon_huge_kb(chunk), 0);
}

/* Recovery's bulk messages: carved from 2 MiB chunks, each chunk unmapped
 * once its last message is freed, the byte totals as for qmsg_new. */
START_TEST(test_qmsg_bulk)
{
	/* 64 B payloads take blocks of the header plus 64 B, nothing more
	 * (120 B on x86-64): 17,475 fill a chunk after its 64 B header. */
	enum { BLK = sizeof(struct qmsg) + 64, N = 20000,
	       PER_CHUNK = ((2 << 20) - 64) / BLK };
	static struct qmsg *v[N];
	size_t bytes0 = qmsg_live_bytes(), mem0 = qmsg_live_mem(), i;
	char p[64];

	for (i = 0; i < N; i++) {
		memset(p, 'x', sizeof(p));
		snprintf(p, sizeof(p), "m%zu", i);
		v[i] = qmsg_new_bulk(p, sizeof(p));
		ck_assert_ptr_nonnull(v[i]);
		if (i == 0)
			bulk_chunk_check(v[0]);
	}
	qmsg_bulk_end();
	ck_assert_uint_eq(qmsg_bulk_chunks(), 2);
	ck_assert_uint_eq(qmsg_live_mem() - mem0, N * qmsg_footprint(64));
	for (i = 0; i < N; i++) {
		memset(p, 'x', sizeof(p));
		snprintf(p, sizeof(p), "m%zu", i);
		ck_assert_uint_eq(v[i]->len, sizeof(p));
		ck_assert_int_eq(memcmp(qmsg_bytes(v[i]), p, sizeof(p)), 0);
	}
	/* Blocks of their own size: the next one starts right after. */
	ck_assert_ptr_eq((char *)v[1], (char *)v[0] + BLK);
	for (i = 0; i < PER_CHUNK; i++)
		qmsg_free(v[i]);
	ck_assert_uint_eq(qmsg_bulk_chunks(), 1);   /* the first one is empty */
	for (; i < N; i++)
		qmsg_free(v[i]);
	ck_assert_uint_eq(qmsg_bulk_chunks(), 0);
	ck_assert_uint_eq(qmsg_live_bytes(), bytes0);
	ck_assert_uint_eq(qmsg_live_mem(), mem0);
	/* A large one is an ordinary message. */
	v[0] = qmsg_new_bulk(v, 200);
	ck_assert_uint_eq(v[0]->slab, 0);
	ck_assert_uint_eq(qmsg_bulk_chunks(), 0);
	qmsg_free(v[0]);
	ck_assert_uint_eq(qmsg_live_mem(), mem0);
}
END_TEST

/* A chunk's trimmed tail is not its own any more: freeing the chunk's
 * last message must not unmap whatever the kernel has put there since. */
START_TEST(test_qmsg_bulk_tail)
{
	size_t page = (size_t)sysconf(_SC_PAGESIZE);
	unsigned char resident[1];
	struct qmsg *m = qmsg_new_bulk("x", 1);
	unsigned char *chunk, *tail;

	ck_assert_ptr_nonnull(m);
	chunk = (unsigned char *)((uintptr_t)m & ~(uintptr_t)((2 << 20) - 1));
	qmsg_bulk_end();                      /* keeps the first page only */
	tail = mmap(chunk + page, page, PROT_READ | PROT_WRITE,
		    MAP_PRIVATE | MAP_ANONYMOUS | MAP_FIXED_NOREPLACE, -1, 0);
	ck_assert_ptr_eq(tail, chunk + page);
	tail[0] = 1;
	qmsg_free(m);
	ck_assert_uint_eq(qmsg_bulk_chunks(), 0);
	ck_assert_msg(mincore(tail, page, resident) == 0,
		      "the page after a freed chunk's kept part was unmapped");
	ck_assert_int_eq(tail[0], 1);
	munmap(tail, page);
}
END_TEST

START_TEST(test_qmsg_basic)
{
	struct qmsg *m = qmsg_new("hello", 5);
	struct qmsg *z = qmsg_new(NULL, 0);

	ck_assert_ptr_nonnull(m);
	ck_assert_ptr_null(m->next);
	ck_assert_uint_eq(m->len, 5);
	ck_assert_mem_eq(m->data, "hello", 5);
	ck_assert_ptr_nonnull(z);
	ck_assert_uint_eq(z->len, 0);
	/* Small payloads share one block size (the free list's). */
	ck_assert_uint_ge(qmsg_footprint(0), sizeof(struct qmsg));
	ck_assert_uint_eq(qmsg_footprint(0), qmsg_footprint(1));
	/* Header, payload and malloc's size word, rounded up to 16. */
	ck_assert_uint_ge(qmsg_footprint(4096), sizeof(struct qmsg) + 4096 + 8);
	ck_assert_uint_lt(qmsg_footprint(4096), sizeof(struct qmsg) + 4096 + 8 + 16);
	ck_assert_uint_eq(qmsg_footprint(4096) % 16, 0);
	ck_assert_uint_ge(qmsg_footprint(0), sizeof(struct qmsg) + 8);
	ck_assert_ptr_null(qmsg_new("x", SIZE_MAX));
	qmsg_free(m);
	qmsg_free(z);
	qmsg_free(NULL);
}
END_TEST

/* A memfd message counts its pages against max-bytes (qmsg_live_mem) on
 * top of its block, until freed. */
START_TEST(test_qmsg_fd_counts)
{
	int fd = memfd_create("qmsg", MFD_CLOEXEC);
	size_t mem = qmsg_live_mem();
	struct qmsg *m;

	ck_assert_int_ge(fd, 0);
	ck_assert_int_eq(ftruncate(fd, 8192), 0);
	m = qmsg_new_fd(fd, 8192);
	ck_assert_ptr_nonnull(m);
	ck_assert_uint_eq(qmsg_live_mem(), mem + qmsg_footprint(0) + 8192);
	qmsg_free(m);
	ck_assert_uint_eq(qmsg_live_mem(), mem);
}
END_TEST

/* A message taking over a frame's buffer: its bytes are the buffer's (no
 * copy), it counts like a copied one, and freeing it frees the buffer
 * (valgrind and ASan see a leak or a bad free) and keeps its header. */
START_TEST(test_qmsg_held)
{
	size_t live = qmsg_live_bytes(), mem = qmsg_live_mem();
	unsigned char *block = malloc(20000);
	struct qmsg *m, *n;

	ck_assert_ptr_nonnull(block);
	memset(block, 'h', 20000);
	m = qmsg_new_held(block, block + 37, 19000);
	ck_assert_ptr_nonnull(m);
	ck_assert_ptr_eq(qmsg_bytes(m), block + 37);
	ck_assert_int_eq(m->fd, -1);
	ck_assert_uint_eq(m->len, 19000);
	ck_assert_uint_eq(qmsg_live_bytes(), live + 19000);
	ck_assert_uint_eq(qmsg_live_mem(), mem + qmsg_footprint(19000));
	qmsg_free(m);
	ck_assert_uint_eq(qmsg_live_bytes(), live);
	ck_assert_uint_eq(qmsg_live_mem(), mem);
	/* Its header is a small block, back on the free list. */
	n = qmsg_new("ab", 2);
	ck_assert_ptr_eq(n, m);
	ck_assert_ptr_eq(qmsg_bytes(n), n->data);
	qmsg_free(n);
	/* Out of memory: the buffer stays the caller's. */
	block = malloc(100);
	qmsg_fail_from(1);
	ck_assert_ptr_null(qmsg_new_held(block, block, 100));
	qmsg_fail_from(0);
	free(block);
	qmsg_cache_drain();
}
END_TEST

/* Messages sharing a frame: each points into it and counts its own
 * bytes; the frame is freed with the last of them, whichever goes last
 * (valgrind and ASan see a leak, a bad free or a read after it). */
START_TEST(test_qmsg_shared)
{
	size_t live = qmsg_live_bytes(), mem = qmsg_live_mem(), i;
	unsigned char *block = malloc(60000);
	struct qmsg *m[3];
	struct qframe *f;

	ck_assert_ptr_nonnull(block);
	for (i = 0; i < 60000; i++)
		block[i] = (unsigned char)(i % 251);
	f = qframe_new(block, 60000, 60000);
	ck_assert_ptr_nonnull(f);
	ck_assert_uint_eq(qframe_live_bytes(), 60000);
	for (i = 0; i < 3; i++) {
		m[i] = qmsg_new_shared(f, block + 10 + 20000 * i, 19000);
		ck_assert_ptr_nonnull(m[i]);
		ck_assert_ptr_eq(qmsg_bytes(m[i]), block + 10 + 20000 * i);
		ck_assert_int_eq(m[i]->fd, -1);
	}
	qframe_put(f);         /* the maker lets go: the messages keep it */
	ck_assert_uint_eq(qframe_live_bytes(), 60000);
	ck_assert_uint_eq(qmsg_live_bytes(), live + 3 * 19000);
	ck_assert_uint_eq(qmsg_live_mem(), mem + 3 * qmsg_footprint(19000));
	qmsg_free(m[1]);
	qmsg_free(m[0]);
	/* The last one still reads its bytes. */
	ck_assert_uint_eq(qmsg_bytes(m[2])[18999], (10 + 40000 + 18999) % 251);
	ck_assert_uint_eq(qframe_live_bytes(), 60000);
	qmsg_free(m[2]);
	ck_assert_uint_eq(qframe_live_bytes(), 0);
	ck_assert_uint_eq(qmsg_live_bytes(), live);
	ck_assert_uint_eq(qmsg_live_mem(), mem);
	/* A frame no message took is freed by qframe_put. */
	f = qframe_new(malloc(100), 100, 100);
	ck_assert_ptr_nonnull(f);
	qframe_put(f);
	ck_assert_uint_eq(qframe_live_bytes(), 0);
	qmsg_cache_drain();
}
END_TEST

/* Shared frames hold at most the limit given in all: past it qframe_new
 * refuses (the block stays the caller's, who copies), and takes frames
 * again once one is freed. */
START_TEST(test_qframe_limit)
{
	struct qframe *f[9];
	unsigned char *spare = malloc(16);
	size_t i, each = 1000, limit = 8 * each;

	ck_assert_ptr_nonnull(spare);
	for (i = 0; i < 8; i++) {
		f[i] = qframe_new(malloc(16), each, limit);   /* size as counted */
		ck_assert_ptr_nonnull(f[i]);
	}
	ck_assert_uint_eq(qframe_live_bytes(), limit);
	ck_assert_ptr_null(qframe_new(spare, 1, limit));
	qframe_put(f[3]);
	f[8] = qframe_new(spare, each, limit);
	ck_assert_ptr_nonnull(f[8]);
	ck_assert_ptr_null(qframe_new(spare, 1, limit));
	/* A lower limit (a reload) refuses while more than it is shared. */
	ck_assert_ptr_null(qframe_new(spare, 1, each));
	for (i = 0; i < 9; i++)
		if (i != 3)
			qframe_put(f[i]);
	ck_assert_uint_eq(qframe_live_bytes(), 0);
}
END_TEST

/* Small blocks are reused from the free list; the byte count stays right. */
START_TEST(test_qmsg_reuse)
{
	struct qmsg *a = qmsg_new("abc", 3), *b;
	size_t live = qmsg_live_bytes(), mem = qmsg_live_mem();

	ck_assert_ptr_nonnull(a);
	qmsg_free(a);
	ck_assert_uint_eq(qmsg_live_bytes(), live - 3);
	/* Every message counts its footprint, an empty one too. */
	ck_assert_uint_eq(qmsg_live_mem(), mem - qmsg_footprint(3));
	a = qmsg_new(NULL, 0);
	ck_assert_uint_eq(qmsg_live_mem(), mem - qmsg_footprint(3) + qmsg_footprint(0));
	qmsg_free(a);
	b = qmsg_new("wxyz", 4);
	ck_assert_ptr_eq(b, a);
	ck_assert_uint_eq(b->len, 4);
	ck_assert_mem_eq(b->data, "wxyz", 4);
	ck_assert_ptr_null(b->next);
	ck_assert_uint_eq(qmsg_live_bytes(), live + 1);
	qmsg_free(b);
	qmsg_cache_drain();
	ck_assert_uint_eq(qmsg_live_bytes(), live - 3);
}
END_TEST

START_TEST(test_queue_new_name)
{
	char name[IPC_NAME_MAX + 2];
	struct queue *q;

	strcpy(name, "jobs");
	q = newq(name, 7);
	name[0] = 'X';
	ck_assert_str_eq(queue_name(q), "jobs");
	ck_assert_uint_eq(queue_maxsize(q), 7);
	ck_assert_uint_eq(stats(q).maxsize, 7);
	queue_free(q, IPC_EDELETED);

	memset(name, 'a', IPC_NAME_MAX);
	name[IPC_NAME_MAX] = '\0';
	q = newq(name, 0);
	ck_assert_str_eq(queue_name(q), name);
	queue_free(q, IPC_EDELETED);
	name[IPC_NAME_MAX] = 'a';
	name[IPC_NAME_MAX + 1] = '\0';
	ck_assert_ptr_null(queue_new(name, 0, test_wake));
	ck_assert_ptr_null(queue_new("", 0, test_wake));
	ck_assert_ptr_null(queue_new(NULL, 0, test_wake));
	queue_free(NULL, IPC_EDELETED);
}
END_TEST

START_TEST(test_queue_fifo_order)
{
	struct queue *q = newq("fifo", 0);
	char buf[16];
	int i;

	for (i = 0; i < 10; i++) {
		snprintf(buf, sizeof(buf), "m%d", i);
		ck_assert_int_eq(queue_put(q, msg(buf)), 0);
	}
	ck_assert_uint_eq(stats(q).size, 10);
	for (i = 0; i < 10; i++) {
		snprintf(buf, sizeof(buf), "m%d", i);
		expect_get(q, buf);
	}
	ck_assert_uint_eq(stats(q).size, 0);
	queue_free(q, IPC_EDELETED);
}
END_TEST

START_TEST(test_queue_unbounded)
{
	struct queue *q = newq("big", 0);
	struct queue_stats st;
	struct qmsg *m;
	uint32_t i, v;

	for (i = 0; i < 100000; i++)
		ck_assert_int_eq(queue_put(q, qmsg_new(&i, sizeof(i))), 0);
	st = stats(q);
	ck_assert_uint_eq(st.size, 100000);
	ck_assert_uint_eq(st.bytes, 100000 * sizeof(i));
	ck_assert_uint_eq(st.puts, 100000);
	ck_assert_uint_eq(st.gets, 0);
	for (i = 0; i < 50000; i++) {
		ck_assert_int_eq(queue_get(q, &m), 0);
		memcpy(&v, m->data, sizeof(v));
		ck_assert_uint_eq(v, i);
		qmsg_free(m);
	}
	st = stats(q);
	ck_assert_uint_eq(st.size, 50000);
	ck_assert_uint_eq(st.gets, 50000);
	/* The other half is freed by queue_free (valgrind checks). */
	queue_free(q, IPC_EDELETED);
}
END_TEST

START_TEST(test_queue_bounded_full)
{
	struct queue *q = newq("bounded", 3);
	struct qmsg *extra = msg("d");

	ck_assert_int_eq(queue_put(q, msg("a")), 0);
	ck_assert_int_eq(queue_put(q, msg("b")), 0);
	ck_assert_int_eq(queue_put(q, msg("c")), 0);
	ck_assert_int_eq(queue_put(q, extra), IPC_EFULL);
	ck_assert_int_eq(queue_put(q, extra), IPC_EFULL);
	ck_assert_uint_eq(stats(q).size, 3);
	ck_assert_uint_eq(stats(q).puts, 3);
	expect_get(q, "a");
	ck_assert_int_eq(queue_put(q, extra), 0);
	ck_assert_uint_eq(stats(q).size, 3);
	expect_get(q, "b");
	expect_get(q, "c");
	expect_get(q, "d");
	queue_free(q, IPC_EDELETED);
}
END_TEST

/* Reserved slots (credits): at most a quarter of the free room, counted
 * toward maxsize for other puts, spent with no room check, given back
 * (admitting a parked putter); none while putters wait, on an unbounded
 * queue, or on a queue too small; forgotten when the queue is freed. */
START_TEST(test_queue_reserve)
{
	struct queue *q = newq("resv", 12), *u = newq("unb", 0), *small = newq("two", 2);
	struct qresv r = { 0 }, r2 = { 0 }, none = { 0 };
	struct qmsg *m;
	struct tw p;
	int i;

	ck_assert_uint_eq(queue_reserve(u, &none, 64), 0);
	ck_assert_uint_eq(queue_reserve(small, &none, 64), 0);  /* 2 / 4 = 0 */
	ck_assert_uint_eq(queue_reserve(q, &r, 64), 3);         /* 12 / 4 */
	ck_assert_uint_eq(queue_reserve(q, &r, 1), 1);          /* capped by want */
	ck_assert_uint_eq(stats(q).reserved, 4);
	m = msg("x");
	ck_assert_int_eq(queue_put_reserved(&none, m), IPC_ENOTHELD);  /* m stays ours */
	qmsg_free(m);
	for (i = 0; i < 8; i++)                                 /* 8 free, not 12 */
		ck_assert_int_eq(queue_put(q, msg("p")), 0);
	m = msg("full");
	ck_assert_int_eq(queue_put(q, m), IPC_EFULL);           /* 8 + 4 reserved */
	ck_assert_uint_eq(queue_reserve(q, &r2, 64), 0);        /* no room to grant */
	tw_init(&p, q, WAITER_PUT, m);
	queue_park(q, &p.w);
	ck_assert_int_eq(queue_put_reserved(&r, msg("r1")), 0);  /* no room check */
	ck_assert_uint_eq(stats(q).size, 9);
	ck_assert_uint_eq(stats(q).reserved, 3);
	ck_assert_int_eq(p.woken, 0);
	queue_unreserve(&r);                                    /* 3 back: admits */
	ck_assert_int_eq(p.woken, 1);
	ck_assert_ptr_null(r.queue);
	ck_assert_uint_eq(stats(q).reserved, 0);
	ck_assert_uint_eq(stats(q).size, 10);
	m = msg("x");
	ck_assert_int_eq(queue_put_reserved(&r, m), IPC_ENOTHELD);
	qmsg_free(m);
	queue_unreserve(&r);                                    /* no-op */
	for (i = 0; i < 8; i++)
		expect_get(q, "p");
	expect_get(q, "r1");
	expect_get(q, "full");
	ck_assert_uint_eq(queue_reserve(q, &r2, 64), 3);
	queue_free(q, IPC_EDELETED);                            /* forgets r2 */
	ck_assert_ptr_null(r2.queue);
	ck_assert_uint_eq(r2.n, 0);
	queue_unreserve(&r2);                                   /* no-op */
	queue_free(u, IPC_EDELETED);
	queue_free(small, IPC_EDELETED);
}
END_TEST

START_TEST(test_queue_get_empty)
{
	struct queue *q = newq("empty", 2);
	struct qmsg *m = NULL;

	ck_assert_int_eq(queue_get(q, &m), IPC_EEMPTY);
	ck_assert_int_eq(queue_put(q, msg("x")), 0);
	expect_get(q, "x");
	ck_assert_int_eq(queue_get(q, &m), IPC_EEMPTY);
	ck_assert_uint_eq(stats(q).gets, 1);
	queue_free(q, IPC_EDELETED);
}
END_TEST

START_TEST(test_queue_getters_fifo)
{
	struct queue *q = newq("getters", 5);
	struct queue_stats st;
	struct tw g[3];
	struct qmsg *m;
	int i;

	for (i = 0; i < 3; i++) {
		ck_assert_int_eq(queue_get(q, &m), IPC_EEMPTY);
		tw_init(&g[i], q, WAITER_GET, NULL);
		queue_park(q, &g[i].w);
		ck_assert_ptr_eq(g[i].w.holder, q);
	}
	ck_assert_uint_eq(stats(q).getters, 3);
	ck_assert_int_eq(queue_put(q, msg("A")), 0);
	ck_assert_int_eq(g[0].woken, 1);
	ck_assert_int_eq(g[1].woken, 0);
	ck_assert_uint_eq(stats(q).size, 0);
	ck_assert_int_eq(queue_put(q, msg("B")), 0);
	ck_assert_int_eq(queue_put(q, msg("C")), 0);
	for (i = 0; i < 3; i++) {
		ck_assert_int_eq(g[i].woken, 1);
		ck_assert_int_eq(g[i].status, 0);
		ck_assert_int_eq(g[i].seq, i + 1);
		ck_assert_ptr_null(g[i].w.holder);
	}
	expect_msg(g[0].got, "A");
	expect_msg(g[1].got, "B");
	expect_msg(g[2].got, "C");
	st = stats(q);
	ck_assert_uint_eq(st.size, 0);
	ck_assert_uint_eq(st.bytes, 0);
	ck_assert_uint_eq(st.getters, 0);
	ck_assert_uint_eq(st.puts, 3);
	ck_assert_uint_eq(st.gets, 3);
	/* No getter left: the next put is held. */
	ck_assert_int_eq(queue_put(q, msg("D")), 0);
	ck_assert_uint_eq(stats(q).size, 1);
	queue_free(q, IPC_EDELETED);
}
END_TEST

START_TEST(test_queue_putters_fifo)
{
	struct queue *q = newq("putters", 2);
	const char *names[] = { "C", "D", "E" };
	struct queue_stats st;
	struct tw p[3];
	int i;

	ck_assert_int_eq(queue_put(q, msg("A")), 0);
	ck_assert_int_eq(queue_put(q, msg("B")), 0);
	for (i = 0; i < 3; i++) {
		struct qmsg *m = msg(names[i]);

		ck_assert_int_eq(queue_put(q, m), IPC_EFULL);
		tw_init(&p[i], q, WAITER_PUT, m);
		queue_park(q, &p[i].w);
	}
	st = stats(q);
	ck_assert_uint_eq(st.putters, 3);
	ck_assert_uint_eq(st.size, 2);
	ck_assert_uint_eq(st.puts, 2);

	expect_get(q, "A");
	ck_assert_int_eq(p[0].woken, 1);
	ck_assert_int_eq(p[0].status, 0);
	ck_assert_ptr_null(p[0].w.msg);
	ck_assert_int_eq(p[1].woken, 0);
	ck_assert_uint_eq(stats(q).size, 2);
	ck_assert_uint_eq(stats(q).putters, 2);
	expect_get(q, "B");
	ck_assert_int_eq(p[1].woken, 1);
	ck_assert_uint_eq(stats(q).size, 2);
	expect_get(q, "C");
	ck_assert_int_eq(p[2].woken, 1);
	for (i = 0; i < 3; i++)
		ck_assert_int_eq(p[i].seq, i + 1);
	st = stats(q);
	ck_assert_uint_eq(st.size, 2);
	ck_assert_uint_eq(st.putters, 0);
	ck_assert_uint_eq(st.puts, 5);
	ck_assert_uint_eq(st.gets, 3);
	expect_get(q, "D");
	expect_get(q, "E");
	st = stats(q);
	ck_assert_uint_eq(st.size, 0);
	ck_assert_uint_eq(st.gets, 5);
	queue_free(q, IPC_EDELETED);
}
END_TEST

/* A stalled getter (its client reads nothing) is handed nothing: puts go
 * to the next getter or stay queued for other consumers; resumed, it gets
 * the head message at once, or waits again at its place; it is still
 * counted, unparked and failed like any. */
START_TEST(test_queue_stall_resume)
{
	struct queue *q = newq("stall", 0);
	struct queue_stats st;
	struct tw g[3];
	int i;

	for (i = 0; i < 3; i++) {
		tw_init(&g[i], q, WAITER_GET, NULL);
		queue_park(q, &g[i].w);
	}
	queue_stall(&g[0].w);
	ck_assert_int_eq(queue_put(q, msg("A")), 0);
	ck_assert_int_eq(g[0].woken, 0);
	expect_msg(g[1].got, "A");
	queue_stall(&g[2].w);
	ck_assert_int_eq(queue_put(q, msg("B")), 0);
	ck_assert_int_eq(queue_put(q, msg("C")), 0);
	st = stats(q);
	ck_assert_uint_eq(st.size, 2);
	ck_assert_uint_eq(st.getters, 2);
	ck_assert_uint_eq(st.memory, 2 * qmsg_footprint(1));
	queue_resume(&g[2].w);                 /* served at once, one message */
	expect_msg(g[2].got, "B");
	expect_get(q, "C");                    /* another consumer meanwhile */
	queue_resume(&g[0].w);                 /* nothing waits: parked again */
	ck_assert_int_eq(g[0].woken, 0);
	ck_assert_ptr_eq(g[0].w.holder, q);
	ck_assert_int_eq(queue_put(q, msg("D")), 0);
	expect_msg(g[0].got, "D");
	tw_init(&g[1], q, WAITER_GET, NULL);
	queue_park(q, &g[1].w);
	queue_stall(&g[1].w);
	queue_unpark(&g[1].w);
	ck_assert_uint_eq(stats(q).getters, 0);
	queue_park(q, &g[1].w);
	queue_stall(&g[1].w);
	queue_free(q, IPC_EDELETED);
	ck_assert_int_eq(g[1].status, IPC_EDELETED);
}
END_TEST

/* A getter resumed on an empty queue keeps its arrival place: ahead of
 * the getters parked while it was stalled, behind older ones (stalled or
 * not); one on several queues at once is put back on each, then served
 * by the first kicked. Before, it went behind every getter parked
 * meanwhile. */
START_TEST(test_queue_resume_keeps_place)
{
	struct queue *q = newq("place", 0);
	struct tw g[5];
	int i;

	for (i = 0; i < 3; i++) {
		tw_init(&g[i], q, WAITER_GET, NULL);
		queue_park(q, &g[i].w);
	}
	queue_stall(&g[0].w);
	queue_stall(&g[1].w);
	for (i = 3; i < 5; i++) {
		tw_init(&g[i], q, WAITER_GET, NULL);
		queue_park(q, &g[i].w);                 /* parked meanwhile */
	}
	ck_assert_uint_eq(stats(q).stalled, 2);
	queue_resume(&g[1].w);                          /* nothing waits */
	ck_assert_uint_eq(stats(q).stalled, 1);
	ck_assert_uint_eq(stats(q).getters, 5);
	ck_assert_int_eq(queue_put(q, msg("A")), 0);
	expect_msg(g[1].got, "A");                      /* not g[3] */
	queue_unstall(&g[0].w);
	ck_assert_int_eq(queue_put(q, msg("B")), 0);
	expect_msg(g[0].got, "B");
	ck_assert_int_eq(queue_put(q, msg("C")), 0);
	expect_msg(g[2].got, "C");
	/* Back with a message waiting: served by the kick, not before. */
	queue_stall(&g[3].w);
	ck_assert_int_eq(queue_put(q, msg("D")), 0);
	expect_msg(g[4].got, "D");
	ck_assert_int_eq(queue_put(q, msg("E")), 0);
	ck_assert_int_eq(g[3].woken, 0);
	queue_unstall(&g[3].w);
	ck_assert_int_eq(g[3].woken, 0);
	queue_kick(q);
	expect_msg(g[3].got, "E");
	ck_assert_uint_eq(stats(q).getters, 0);
	ck_assert_uint_eq(stats(q).stalled, 0);
	queue_free(q, IPC_EDELETED);
}
END_TEST

START_TEST(test_queue_unpark_getter)
{
	struct queue *q = newq("ug", 0);
	struct tw g[3];
	int i;

	for (i = 0; i < 3; i++) {
		tw_init(&g[i], q, WAITER_GET, NULL);
		queue_park(q, &g[i].w);
	}
	queue_unpark(&g[1].w);         /* middle */
	ck_assert_ptr_null(g[1].w.holder);
	ck_assert_uint_eq(stats(q).getters, 2);
	queue_unpark(&g[0].w);         /* head */
	queue_unpark(&g[0].w);         /* not parked: no-op */
	ck_assert_uint_eq(stats(q).getters, 1);
	ck_assert_int_eq(queue_put(q, msg("x")), 0);
	ck_assert_int_eq(g[0].woken, 0);
	ck_assert_int_eq(g[1].woken, 0);
	ck_assert_int_eq(g[2].woken, 1);
	expect_msg(g[2].got, "x");
	ck_assert_uint_eq(stats(q).getters, 0);
	/* Re-park an unparked waiter, then unpark the only (head and tail). */
	queue_park(q, &g[0].w);
	queue_unpark(&g[0].w);
	ck_assert_uint_eq(stats(q).getters, 0);
	ck_assert_uint_eq(stats(q).gets, 1);
	ck_assert_uint_eq(stats(q).puts, 1);
	queue_free(q, IPC_EDELETED);
	ck_assert_int_eq(g[0].woken, 0);
}
END_TEST

START_TEST(test_queue_unpark_putter)
{
	struct queue *q = newq("up", 1);
	struct qmsg *mx = msg("xx"), *my = msg("yyy");
	struct queue_stats st;
	struct tw p[2];

	ck_assert_int_eq(queue_put(q, msg("a")), 0);
	tw_init(&p[0], q, WAITER_PUT, mx);
	tw_init(&p[1], q, WAITER_PUT, my);
	queue_park(q, &p[0].w);
	queue_park(q, &p[1].w);
	queue_unpark(&p[0].w);
	ck_assert_ptr_eq(p[0].w.msg, mx);
	ck_assert_ptr_null(p[0].w.holder);
	st = stats(q);
	ck_assert_uint_eq(st.size, 1);
	ck_assert_uint_eq(st.bytes, 1);
	ck_assert_uint_eq(st.putters, 1);
	ck_assert_uint_eq(st.puts, 1);
	expect_get(q, "a");
	ck_assert_int_eq(p[0].woken, 0);
	ck_assert_int_eq(p[1].woken, 1);
	expect_get(q, "yyy");
	st = stats(q);
	ck_assert_uint_eq(st.puts, 2);
	ck_assert_uint_eq(st.gets, 2);
	ck_assert_uint_eq(st.size, 0);
	qmsg_free(p[0].w.msg);
	queue_free(q, IPC_EDELETED);
}
END_TEST

START_TEST(test_queue_free_wakes_all)
{
	struct queue *qg = newq("g", 0), *qp = newq("p", 1);
	struct tw g[3], p[2];
	int i;

	for (i = 0; i < 3; i++) {
		tw_init(&g[i], qg, WAITER_GET, NULL);
		queue_park(qg, &g[i].w);
	}
	ck_assert_int_eq(queue_put(qp, msg("held")), 0);
	tw_init(&p[0], qp, WAITER_PUT, msg("p0"));
	tw_init(&p[1], qp, WAITER_PUT, msg("p1"));
	queue_park(qp, &p[0].w);
	queue_park(qp, &p[1].w);

	wake_seq = 0;
	queue_free(qg, IPC_EDELETED);
	for (i = 0; i < 3; i++) {
		ck_assert_int_eq(g[i].woken, 1);
		ck_assert_int_eq(g[i].status, IPC_EDELETED);
		ck_assert_ptr_null(g[i].got);
		ck_assert_int_eq(g[i].seq, i + 1);
	}
	wake_seq = 0;
	queue_free(qp, IPC_ESHUTDOWN);
	for (i = 0; i < 2; i++) {
		ck_assert_int_eq(p[i].woken, 1);
		ck_assert_int_eq(p[i].status, IPC_ESHUTDOWN);
		ck_assert_int_eq(p[i].seq, i + 1);
		ck_assert_ptr_nonnull(p[i].w.msg);
	}
	/* Putters' messages are handed back; "held" was freed by queue_free. */
	expect_msg(p[0].w.msg, "p0");
	expect_msg(p[1].w.msg, "p1");
}
END_TEST

/* Getter hook: put "B" on the same queue from inside wake. */
static void hook_put_b(struct tw *t)
{
	ck_assert_int_eq(queue_put(t->q, msg("B")), 0);
}

/* Getter hook: park this waiter again (the queue is empty). */
static void hook_repark(struct tw *t)
{
	expect_msg(t->got, "C");
	t->got = NULL;
	t->hook = NULL;
	queue_park(t->q, &t->w);
}

START_TEST(test_queue_reenter_put)
{
	struct queue *q = newq("rp", 4);
	struct queue_stats st;
	struct tw g[3];
	int i;

	for (i = 0; i < 3; i++) {
		tw_init(&g[i], q, WAITER_GET, NULL);
		queue_park(q, &g[i].w);
	}
	g[0].hook = hook_put_b;
	ck_assert_int_eq(queue_put(q, msg("A")), 0);
	ck_assert_int_eq(g[0].seq, 1);
	ck_assert_int_eq(g[1].seq, 2);
	ck_assert_int_eq(g[2].woken, 0);
	expect_msg(g[0].got, "A");
	expect_msg(g[1].got, "B");
	st = stats(q);
	ck_assert_uint_eq(st.size, 0);
	ck_assert_uint_eq(st.getters, 1);
	ck_assert_uint_eq(st.puts, 2);
	ck_assert_uint_eq(st.gets, 2);

	/* g[2] re-parks itself from its own wake: it lands behind nobody. */
	g[2].hook = hook_repark;
	ck_assert_int_eq(queue_put(q, msg("C")), 0);
	ck_assert_ptr_eq(g[2].w.holder, q);
	ck_assert_uint_eq(stats(q).getters, 1);
	ck_assert_int_eq(queue_put(q, msg("D")), 0);
	ck_assert_int_eq(g[2].woken, 2);
	expect_msg(g[2].got, "D");
	st = stats(q);
	ck_assert_uint_eq(st.getters, 0);
	ck_assert_uint_eq(st.size, 0);
	ck_assert_uint_eq(st.puts, 4);
	ck_assert_uint_eq(st.gets, 4);
	queue_free(q, IPC_EDELETED);
}
END_TEST

/* Putter hook: get from the same queue inside wake, keeping the message. */
static void hook_get(struct tw *t)
{
	struct qmsg **out = t->arg;

	ck_assert_int_eq(queue_get(t->q, out), 0);
}

START_TEST(test_queue_reenter_get)
{
	struct queue *q = newq("rg", 2);
	const char *names[] = { "C", "D", "E" };
	struct qmsg *inner = NULL;
	struct queue_stats st;
	struct tw p[3];
	int i;

	ck_assert_int_eq(queue_put(q, msg("A")), 0);
	ck_assert_int_eq(queue_put(q, msg("B")), 0);
	for (i = 0; i < 3; i++) {
		tw_init(&p[i], q, WAITER_PUT, msg(names[i]));
		queue_park(q, &p[i].w);
	}
	p[0].hook = hook_get;
	p[0].arg = &inner;
	expect_get(q, "A");            /* admits C; the hook gets B, admits D */
	expect_msg(inner, "B");
	ck_assert_int_eq(p[0].seq, 1);
	ck_assert_int_eq(p[1].seq, 2);
	ck_assert_int_eq(p[2].woken, 0);
	st = stats(q);
	ck_assert_uint_eq(st.size, 2);
	ck_assert_uint_eq(st.bytes, 2);
	ck_assert_uint_eq(st.putters, 1);
	ck_assert_uint_eq(st.puts, 4);
	ck_assert_uint_eq(st.gets, 2);
	expect_get(q, "C");
	ck_assert_int_eq(p[2].woken, 1);
	expect_get(q, "D");
	expect_get(q, "E");
	st = stats(q);
	ck_assert_uint_eq(st.size, 0);
	ck_assert_uint_eq(st.puts, 5);
	ck_assert_uint_eq(st.gets, 5);
	queue_free(q, IPC_EDELETED);
}
END_TEST

/* Free hook: unpark the waiter in t->arg and put on the dying queue. */
static void hook_free_reenter(struct tw *t)
{
	struct tw *other = t->arg;

	queue_unpark(&other->w);
	ck_assert_int_eq(queue_put(t->q, msg("late")), 0);
}

START_TEST(test_queue_free_reenter)
{
	struct queue *q = newq("fr", 0);
	struct tw g[3];
	int i;

	for (i = 0; i < 3; i++) {
		tw_init(&g[i], q, WAITER_GET, NULL);
		queue_park(q, &g[i].w);
	}
	g[0].hook = hook_free_reenter;
	g[0].arg = &g[2];
	queue_free(q, IPC_EDELETED);
	ck_assert_int_eq(g[0].woken, 1);
	ck_assert_int_eq(g[0].status, IPC_EDELETED);
	/* The late put is not handed to g[1]: it is failed like the rest. */
	ck_assert_int_eq(g[1].woken, 1);
	ck_assert_int_eq(g[1].status, IPC_EDELETED);
	ck_assert_ptr_null(g[1].got);
	/* Unparked from a callback: never woken. */
	ck_assert_int_eq(g[2].woken, 0);
	ck_assert_ptr_null(g[2].w.holder);
}
END_TEST

START_TEST(test_queue_stats_bytes)
{
	struct queue *q = newq("stats", 0);
	struct queue_stats st;
	struct tw g;

	st = stats(q);
	ck_assert_uint_eq(st.maxsize, 0);
	ck_assert_uint_eq(st.size, 0);
	ck_assert_uint_eq(st.bytes, 0);
	ck_assert_uint_eq(st.getters, 0);
	ck_assert_uint_eq(st.putters, 0);
	ck_assert_uint_eq(st.puts, 0);
	ck_assert_uint_eq(st.gets, 0);
	ck_assert_int_eq(queue_put(q, msg("abc")), 0);
	ck_assert_int_eq(queue_put(q, msg("defgh")), 0);
	ck_assert_int_eq(queue_put(q, msg("")), 0);
	st = stats(q);
	ck_assert_uint_eq(st.size, 3);
	ck_assert_uint_eq(st.bytes, 8);
	expect_get(q, "abc");
	st = stats(q);
	ck_assert_uint_eq(st.size, 2);
	ck_assert_uint_eq(st.bytes, 5);
	ck_assert_uint_eq(st.puts, 3);
	ck_assert_uint_eq(st.gets, 1);
	expect_get(q, "defgh");
	expect_get(q, "");
	tw_init(&g, q, WAITER_GET, NULL);
	queue_park(q, &g.w);
	st = stats(q);
	ck_assert_uint_eq(st.getters, 1);
	ck_assert_uint_eq(st.bytes, 0);
	queue_unpark(&g.w);
	ck_assert_uint_eq(stats(q).getters, 0);
	queue_free(q, IPC_EDELETED);
	ck_assert_int_eq(g.woken, 0);
}
END_TEST

START_TEST(test_queue_zero_byte)
{
	struct queue *q = newq("zero", 1);
	struct qmsg *m = NULL;
	struct tw g, p;

	ck_assert_int_eq(queue_put(q, qmsg_new(NULL, 0)), 0);
	ck_assert_uint_eq(stats(q).size, 1);
	ck_assert_uint_eq(stats(q).bytes, 0);
	tw_init(&p, q, WAITER_PUT, qmsg_new(NULL, 0));
	ck_assert_int_eq(queue_put(q, p.w.msg), IPC_EFULL);
	queue_park(q, &p.w);
	ck_assert_int_eq(queue_get(q, &m), 0);
	ck_assert_uint_eq(m->len, 0);
	qmsg_free(m);
	ck_assert_int_eq(p.woken, 1);
	ck_assert_int_eq(queue_get(q, &m), 0);
	ck_assert_uint_eq(m->len, 0);
	qmsg_free(m);
	tw_init(&g, q, WAITER_GET, NULL);
	queue_park(q, &g.w);
	ck_assert_int_eq(queue_put(q, qmsg_new(NULL, 0)), 0);
	ck_assert_int_eq(g.woken, 1);
	ck_assert_uint_eq(g.got->len, 0);
	qmsg_free(g.got);
	ck_assert_uint_eq(stats(q).puts, 3);
	ck_assert_uint_eq(stats(q).gets, 3);
	queue_free(q, IPC_EDELETED);
}
END_TEST

/* SipHash-1-3 of bytes 0, 1, ... under the all-zero key: the reference
 * implementation's first vectors. */
START_TEST(test_siphash13_vectors)
{
	static const uint64_t want[3] = { 0xd1fba762150c532cULL,
					   0x68a914128e01e473ULL,
					   0x010bac45c41e3669ULL };
	const uint64_t key[2] = { 0, 0 };
	const unsigned char m[3] = { 0, 1, 2 };
	size_t n;

	for (n = 0; n < 3; n++)
		ck_assert_uint_eq(siphash13(key, m, n), want[n]);
}
END_TEST

/* FNV-1a, 64 bits: the unkeyed hash the registry used before. */
static uint64_t fnv1a(const char *s)
{
	uint64_t h = 14695981039346656037ULL;

	for (; *s; s++)
		h = (h ^ (unsigned char)*s) * 1099511628211ULL;
	return h;
}

/* Names a client could pick to flood one bucket of an unkeyed FNV-1a
 * table (their low 12 bits are all 0) spread over a keyed registry's
 * buckets like any names; and two registries hash alike names apart. */
START_TEST(test_registry_keyed_hash)
{
	enum { NAMES = 500, BITS = 12 };
	struct registry *r = registry_new(), *r2 = registry_new();
	static unsigned short bucket[1u << BITS];
	unsigned found = 0, i, worst = 0, differ = 0;
	char name[32];

	for (i = 0; found < NAMES; i++) {
		snprintf(name, sizeof(name), "k%08x", i);
		if ((fnv1a(name) & ((1u << BITS) - 1)) != 0)
			continue;
		found++;
		uint64_t h = registry_hash(r, name) & ((1u << BITS) - 1);
		if (++bucket[h] > worst)
			worst = bucket[h];
		differ += registry_hash(r, name) != registry_hash(r2, name);
	}
	/* 500 names in 4096 buckets: a few share one by chance, never 500. */
	ck_assert_uint_le(worst, 8);
	ck_assert_uint_ge(differ, NAMES - 1);
	registry_free(r);
	registry_free(r2);
}
END_TEST

START_TEST(test_registry_basic)
{
	struct registry *r = registry_new();
	char name[IPC_NAME_MAX + 2];
	int a, b, kind = 0;

	ck_assert_ptr_nonnull(r);
	ck_assert_uint_eq(registry_count(r), 0);
	ck_assert_ptr_null(registry_find(r, "jobs", &kind));
	strcpy(name, "jobs");
	ck_assert_int_eq(registry_add(r, name, IPC_KIND_QUEUE, &a), 0);
	name[0] = 'X';                 /* the registry holds a copy */
	ck_assert_int_eq(registry_add(r, "jobs", IPC_KIND_PIPE, &b), IPC_EEXIST);
	ck_assert_int_eq(registry_add(r, "pipe1", IPC_KIND_PIPE, &b), 0);
	ck_assert_uint_eq(registry_count(r), 2);
	ck_assert_ptr_eq(registry_find(r, "jobs", &kind), &a);
	ck_assert_int_eq(kind, IPC_KIND_QUEUE);
	ck_assert_ptr_eq(registry_find(r, "pipe1", &kind), &b);
	ck_assert_int_eq(kind, IPC_KIND_PIPE);
	ck_assert_ptr_eq(registry_find(r, "pipe1", NULL), &b);
	ck_assert_ptr_null(registry_find(r, "Xobs", NULL));
	ck_assert_ptr_null(registry_find(r, "job", NULL));
	ck_assert_ptr_eq(registry_remove(r, "jobs"), &a);
	ck_assert_ptr_null(registry_remove(r, "jobs"));
	ck_assert_ptr_null(registry_find(r, "jobs", NULL));
	ck_assert_uint_eq(registry_count(r), 1);
	ck_assert_int_eq(registry_add(r, "jobs", IPC_KIND_PIPE, &b), 0);
	ck_assert_ptr_eq(registry_find(r, "jobs", &kind), &b);
	ck_assert_int_eq(kind, IPC_KIND_PIPE);

	ck_assert_int_eq(registry_add(r, "", IPC_KIND_QUEUE, &a), IPC_ENAME);
	memset(name, 'n', IPC_NAME_MAX + 1);
	name[IPC_NAME_MAX + 1] = '\0';
	ck_assert_int_eq(registry_add(r, name, IPC_KIND_QUEUE, &a), IPC_ENAME);
	name[IPC_NAME_MAX] = '\0';
	ck_assert_int_eq(registry_add(r, name, IPC_KIND_QUEUE, &a), 0);
	ck_assert_ptr_eq(registry_find(r, name, NULL), &a);
	ck_assert_uint_eq(registry_count(r), 3);
	registry_free(r);              /* entries left: freed, objects not */
	registry_free(NULL);
}
END_TEST

/* The object stored for name number i (never NULL). */
static void *obj_of(size_t i)
{
	return (void *)(uintptr_t)(i + 1);
}

START_TEST(test_registry_many)
{
	struct registry *r = registry_new();
	char name[32];
	size_t i, n = 20000;
	int kind;

	for (i = 0; i < n; i++) {
		snprintf(name, sizeof(name), "q.%zu", i);
		ck_assert_int_eq(registry_add(r, name, 1 + (int)(i % 2), obj_of(i)), 0);
	}
	ck_assert_uint_eq(registry_count(r), n);
	for (i = 0; i < n; i++) {
		snprintf(name, sizeof(name), "q.%zu", i);
		ck_assert_ptr_eq(registry_find(r, name, &kind), obj_of(i));
		ck_assert_int_eq(kind, 1 + (int)(i % 2));
		ck_assert_int_eq(registry_add(r, name, 1, NULL), IPC_EEXIST);
	}
	for (i = 0; i < n; i += 2) {
		snprintf(name, sizeof(name), "q.%zu", i);
		ck_assert_ptr_eq(registry_remove(r, name), obj_of(i));
	}
	ck_assert_uint_eq(registry_count(r), n / 2);
	for (i = 0; i < n; i++) {
		snprintf(name, sizeof(name), "q.%zu", i);
		if (i % 2)
			ck_assert_ptr_eq(registry_find(r, name, NULL), obj_of(i));
		else
			ck_assert_ptr_null(registry_find(r, name, NULL));
	}
	ck_assert_ptr_null(registry_find(r, "q.20000", NULL));
	registry_free(r);
}
END_TEST

/* What a walk saw. */
struct walk_log {
	char names[64][16];
	int kinds[64];
	void *objs[64];
	size_t n;
};

/* registry_walk callback: append the entry to the log. */
static void walk_collect(const char *name, int kind, void *obj, void *arg)
{
	struct walk_log *log = arg;

	ck_assert_uint_lt(log->n, 64);
	ck_assert_uint_lt(strlen(name), sizeof(log->names[0]));
	strcpy(log->names[log->n], name);
	log->kinds[log->n] = kind;
	log->objs[log->n] = obj;
	log->n++;
}

START_TEST(test_registry_walk)
{
	const char *in[] = { "pear", "apple", "zeta", "Alpha", "b", "apples",
			     "a.1", "a-1", "m@x" };
	const char *sorted[] = { "Alpha", "a-1", "a.1", "apple", "apples",
				 "b", "m@x", "pear", "zeta" };
	size_t n = sizeof(in) / sizeof(in[0]), i, j;
	struct registry *r = registry_new();
	struct walk_log log;

	memset(&log, 0, sizeof(log));
	ck_assert_int_eq(registry_walk(r, walk_collect, &log), 0);
	ck_assert_uint_eq(log.n, 0);
	for (i = 0; i < n; i++)
		ck_assert_int_eq(registry_add(r, in[i], 1 + (int)(i % 2),
					      obj_of(i)), 0);
	ck_assert_int_eq(registry_walk(r, walk_collect, &log), 0);
	ck_assert_uint_eq(log.n, n);
	ck_assert_uint_eq(registry_count(r), n);
	for (i = 0; i < n; i++) {
		ck_assert_str_eq(log.names[i], sorted[i]);
		for (j = 0; strcmp(in[j], sorted[i]); j++)
			;
		ck_assert_int_eq(log.kinds[i], 1 + (int)(j % 2));
		ck_assert_ptr_eq(log.objs[i], obj_of(j));
	}
	registry_free(r);
}
END_TEST

/* --- in flight: get with ack, ack, requeue ------------------------------- */

static int drops;

/* drop callback of the in-flight tests: the queue died with h in flight. */
static void test_drop(struct qheld *h)
{
	ck_assert_ptr_null(h->queue);
	ck_assert_ptr_null(h->msg);
	drops++;
}

/* A record not in flight, held for owner, with a fresh tag. */
static void held_init(struct qheld *h, const void *owner)
{
	static uint64_t last_tag;

	memset(h, 0, sizeof(*h));
	h->tag = ++last_tag;
	h->owner = owner;
	h->drop = test_drop;
}

/* Get the head of q into flight in h and assert its bytes. */
static void expect_get_held(struct queue *q, struct qheld *h, const char *s)
{
	ck_assert_int_eq(queue_get_held(q, h), 0);
	ck_assert_ptr_eq(h->queue, q);
	ck_assert_uint_eq(h->msg->len, strlen(s));
	ck_assert_mem_eq(h->msg->data, s, h->msg->len);
}

/* queue_ahead_any's fn: counts the holds it is shown, all read ahead. */
static int count_ahead(const struct qheld *h, void *arg)
{
	ck_assert(h->ahead);
	++*(int *)arg;
	return 0;
}

/* How many holds queue_ahead_any shows of q. */
static int ahead_seen(const struct queue *q)
{
	int n = 0;

	ck_assert_int_eq(queue_ahead_any(q, count_ahead, &n), 0);
	return n;
}

/* The Full-put check walks only the messages read ahead, not everything
 * in flight (at-least-once gets may be most of it). */
START_TEST(test_ahead_any_only_read_ahead)
{
	struct queue *q = newq("ahead", 0);
	struct qheld h[5];
	int me, i;

	for (i = 0; i < 5; i++) {
		ck_assert_int_eq(queue_put(q, msg("m")), 0);
		held_init(&h[i], &me);
		h[i].ahead = i == 1 || i == 3;
		expect_get_held(q, &h[i], "m");
	}
	ck_assert_int_eq(ahead_seen(q), 2);
	queue_requeue(&h[1]);
	ck_assert_int_eq(ahead_seen(q), 1);
	queue_ack(&h[3]);
	ck_assert_int_eq(ahead_seen(q), 0);
	h[1].ahead = true;
	expect_get_held(q, &h[1], "m");
	ck_assert_int_eq(ahead_seen(q), 1);
	queue_free(q, IPC_EDELETED);
}
END_TEST

START_TEST(test_held_get_ack)
{
	struct queue *q = newq("held", 0);
	struct qheld h1, h2, h3;
	int me, other;

	held_init(&h1, &me);
	held_init(&h2, &me);
	held_init(&h3, &me);
	ck_assert_int_eq(queue_get_held(q, &h1), IPC_EEMPTY);
	ck_assert_ptr_null(h1.queue);
	ck_assert_int_eq(queue_put(q, msg("a")), 0);
	ck_assert_int_eq(queue_put(q, msg("b")), 0);
	expect_get_held(q, &h1, "a");
	expect_get_held(q, &h2, "b");
	ck_assert_uint_ne(h1.tag, h2.tag);
	ck_assert_uint_eq(stats(q).size, 0);
	ck_assert_uint_eq(stats(q).inflight, 2);
	ck_assert_uint_eq(stats(q).gets, 2);
	/* Only the owner finds its tag; unknown tags are not found. */
	ck_assert_ptr_eq(queue_held_find(q, h1.tag, &me), &h1);
	ck_assert_ptr_eq(queue_held_find(q, h2.tag, &me), &h2);
	ck_assert_ptr_null(queue_held_find(q, h1.tag, &other));
	ck_assert_ptr_null(queue_held_find(q, h2.tag + 100, &me));
	queue_ack(&h1);
	ck_assert_ptr_null(h1.queue);
	ck_assert_ptr_null(h1.msg);
	ck_assert_ptr_null(queue_held_find(q, h1.tag, &me));
	ck_assert_uint_eq(stats(q).inflight, 1);
	queue_ack(&h2);
	ck_assert_uint_eq(stats(q).inflight, 0);
	ck_assert_uint_eq(stats(q).requeued, 0);
	/* Tags are never reused. */
	ck_assert_int_eq(queue_put(q, msg("c")), 0);
	expect_get_held(q, &h3, "c");
	ck_assert_uint_gt(h3.tag, h2.tag);
	queue_ack(&h3);
	ck_assert_int_eq(drops, 0);
	queue_free(q, IPC_EDELETED);
	ck_assert_int_eq(drops, 0);
}
END_TEST

START_TEST(test_held_requeue_head)
{
	struct queue *q = newq("rq", 0);
	struct qheld h1, h2;
	int me;

	held_init(&h1, &me);
	held_init(&h2, &me);
	ck_assert_int_eq(queue_put(q, msg("a")), 0);
	ck_assert_int_eq(queue_put(q, msg("b")), 0);
	ck_assert_int_eq(queue_put(q, msg("c")), 0);
	expect_get_held(q, &h1, "a");
	expect_get_held(q, &h2, "b");
	ck_assert_uint_eq(stats(q).bytes, 1);
	/* Newest first, as a closing connection gives them back: the oldest
	 * ends up at the head, ahead of the newer "c". */
	queue_requeue(&h2);
	queue_requeue(&h1);
	ck_assert_ptr_null(h1.queue);
	ck_assert_ptr_null(h1.msg);
	ck_assert_ptr_null(queue_held_find(q, h1.tag, &me));
	ck_assert_uint_eq(stats(q).size, 3);
	ck_assert_uint_eq(stats(q).bytes, 3);
	ck_assert_uint_eq(stats(q).inflight, 0);
	ck_assert_uint_eq(stats(q).requeued, 2);
	expect_get(q, "a");
	expect_get(q, "b");
	expect_get(q, "c");
	/* Every delivery counts: 2 in flight, then 3 gets. */
	ck_assert_uint_eq(stats(q).gets, 5);
	ck_assert_uint_eq(stats(q).puts, 3);
	/* A requeued message into an otherwise empty queue is its tail too. */
	ck_assert_int_eq(queue_put(q, msg("d")), 0);
	expect_get_held(q, &h1, "d");
	queue_requeue(&h1);
	ck_assert_int_eq(queue_put(q, msg("e")), 0);
	expect_get(q, "d");
	expect_get(q, "e");
	queue_free(q, IPC_EDELETED);
}
END_TEST

START_TEST(test_held_counts_maxsize)
{
	struct queue *q = newq("cap", 2);
	struct qheld h;
	struct tw p;
	int me;

	held_init(&h, &me);
	ck_assert_int_eq(queue_put(q, msg("a")), 0);
	expect_get_held(q, &h, "a");
	ck_assert_int_eq(queue_put(q, msg("b")), 0);
	/* size 1 + inflight 1 = maxsize 2: full. */
	tw_init(&p, q, WAITER_PUT, msg("c"));
	ck_assert_int_eq(queue_put(q, p.w.msg), IPC_EFULL);
	queue_park(q, &p.w);
	ck_assert_uint_eq(stats(q).putters, 1);
	/* A requeue keeps the slot taken: the putter still waits. */
	queue_requeue(&h);
	ck_assert_int_eq(p.woken, 0);
	ck_assert_uint_eq(stats(q).size, 2);
	expect_get_held(q, &h, "a");
	ck_assert_int_eq(p.woken, 0);
	/* The ack frees the slot: the putter is admitted behind "b". */
	queue_ack(&h);
	ck_assert_int_eq(p.woken, 1);
	ck_assert_int_eq(p.status, 0);
	ck_assert_uint_eq(stats(q).putters, 0);
	ck_assert_uint_eq(stats(q).size, 2);
	expect_get(q, "b");
	expect_get(q, "c");
	queue_free(q, IPC_EDELETED);
}
END_TEST

START_TEST(test_held_parked_getter)
{
	struct queue *q = newq("pg", 0);
	struct tw ga, gp;
	struct qheld h;
	int me;

	held_init(&h, &me);
	tw_init(&ga, q, WAITER_GET, NULL);
	ga.w.held = &h;
	tw_init(&gp, q, WAITER_GET, NULL);
	queue_park(q, &ga.w);
	queue_park(q, &gp.w);
	/* The acking getter is oldest: the put goes in flight in h. */
	ck_assert_int_eq(queue_put(q, msg("a")), 0);
	ck_assert_int_eq(ga.woken, 1);
	ck_assert_int_eq(ga.status, 0);
	ck_assert_ptr_eq(ga.got, h.msg);
	ck_assert_ptr_eq(h.queue, q);
	ck_assert_uint_ne(h.tag, 0);
	ck_assert_ptr_eq(queue_held_find(q, h.tag, &me), &h);
	ck_assert_uint_eq(stats(q).inflight, 1);
	ck_assert_uint_eq(stats(q).getters, 1);
	/* Requeued with a getter parked: it goes straight to that getter. */
	queue_requeue(&h);
	ck_assert_int_eq(gp.woken, 1);
	ck_assert_int_eq(gp.status, 0);
	expect_msg(gp.got, "a");
	ck_assert_uint_eq(stats(q).size, 0);
	ck_assert_uint_eq(stats(q).inflight, 0);
	ck_assert_uint_eq(stats(q).getters, 0);
	ck_assert_uint_eq(stats(q).requeued, 1);
	ck_assert_uint_eq(stats(q).gets, 2);
	queue_free(q, IPC_EDELETED);
}
END_TEST

START_TEST(test_held_full_with_getters)
{
	struct queue *q = newq("fg", 1);
	struct tw g, p;
	struct qheld h;
	int me;

	held_init(&h, &me);
	ck_assert_int_eq(queue_put(q, msg("a")), 0);
	expect_get_held(q, &h, "a");
	/* Empty, yet full: a getter and a putter are both parked. */
	tw_init(&g, q, WAITER_GET, NULL);
	queue_park(q, &g.w);
	tw_init(&p, q, WAITER_PUT, msg("b"));
	ck_assert_int_eq(queue_put(q, p.w.msg), IPC_EFULL);
	queue_park(q, &p.w);
	ck_assert_uint_eq(stats(q).getters, 1);
	ck_assert_uint_eq(stats(q).putters, 1);
	/* The ack admits the putter, whose message goes to the getter. */
	queue_ack(&h);
	ck_assert_int_eq(p.woken, 1);
	ck_assert_int_eq(p.status, 0);
	ck_assert_int_eq(g.woken, 1);
	expect_msg(g.got, "b");
	ck_assert_uint_eq(stats(q).size, 0);
	ck_assert_uint_eq(stats(q).getters, 0);
	ck_assert_uint_eq(stats(q).putters, 0);
	ck_assert_uint_eq(stats(q).puts, 2);
	ck_assert_uint_eq(stats(q).gets, 2);
	queue_free(q, IPC_EDELETED);
}
END_TEST

START_TEST(test_held_requeue_admits)
{
	struct queue *q = newq("ra", 1);
	struct tw g, p;
	struct qheld h;
	int me;

	held_init(&h, &me);
	ck_assert_int_eq(queue_put(q, msg("a")), 0);
	expect_get_held(q, &h, "a");
	tw_init(&g, q, WAITER_GET, NULL);
	queue_park(q, &g.w);
	tw_init(&p, q, WAITER_PUT, msg("b"));
	queue_park(q, &p.w);
	/* "a" goes back to the plain getter for good: the slot is free and
	 * the putter's "b" is queued. */
	queue_requeue(&h);
	expect_msg(g.got, "a");
	ck_assert_int_eq(p.woken, 1);
	ck_assert_int_eq(p.status, 0);
	ck_assert_uint_eq(stats(q).size, 1);
	expect_get(q, "b");
	queue_free(q, IPC_EDELETED);
}
END_TEST

/* Acking getter hook: its consumer "dies" at once, giving the message back. */
static void hook_requeue(struct tw *t)
{
	ck_assert_ptr_nonnull(t->w.held);
	ck_assert_ptr_eq(t->w.held->queue, t->q);
	queue_requeue(t->w.held);
}

START_TEST(test_held_reenter)
{
	struct queue *q = newq("re", 0);
	struct tw g1, g2;
	struct qheld h;
	int me;

	held_init(&h, &me);
	tw_init(&g1, q, WAITER_GET, NULL);
	g1.w.held = &h;
	g1.hook = hook_requeue;
	tw_init(&g2, q, WAITER_GET, NULL);
	queue_park(q, &g1.w);
	queue_park(q, &g2.w);
	ck_assert_int_eq(queue_put(q, msg("x")), 0);
	ck_assert_int_eq(g1.woken, 1);
	ck_assert_int_eq(g1.seq, 1);
	ck_assert_int_eq(g2.woken, 1);
	ck_assert_int_eq(g2.seq, 2);
	ck_assert_ptr_null(h.queue);
	expect_msg(g2.got, "x");
	ck_assert_uint_eq(stats(q).inflight, 0);
	ck_assert_uint_eq(stats(q).requeued, 1);
	ck_assert_uint_eq(stats(q).size, 0);
	queue_free(q, IPC_EDELETED);
}
END_TEST

START_TEST(test_held_free_drops)
{
	struct queue *q = newq("fd", 0);
	struct qheld h1, h2;
	struct tw g;
	int me;

	drops = 0;
	held_init(&h1, &me);
	held_init(&h2, &me);
	ck_assert_int_eq(queue_put(q, msg("a")), 0);
	ck_assert_int_eq(queue_put(q, msg("b")), 0);
	ck_assert_int_eq(queue_put(q, msg("c")), 0);
	expect_get_held(q, &h1, "a");
	expect_get_held(q, &h2, "b");
	tw_init(&g, q, WAITER_GET, NULL);
	/* Deleting the queue drops both (messages freed by the queue). */
	queue_free(q, IPC_EDELETED);
	ck_assert_int_eq(drops, 2);
	ck_assert_ptr_null(h1.queue);
	ck_assert_ptr_null(h2.queue);
	/* A parked acking getter is failed, its record left untouched. */
	q = newq("fd2", 0);
	held_init(&h1, &me);
	g.w.held = &h1;
	queue_park(q, &g.w);
	queue_free(q, IPC_ESHUTDOWN);
	ck_assert_int_eq(g.status, IPC_ESHUTDOWN);
	ck_assert_ptr_null(g.got);
	ck_assert_ptr_null(h1.queue);
	ck_assert_int_eq(drops, 2);
}
END_TEST

/* Many in flight, acked and requeued in a scattered order: every ack
 * finds exactly its message, by the tag index (not a list scan). */
START_TEST(test_held_many)
{
	enum { N = 5000 };
	static struct qheld h[N];
	struct queue *q = newq("many", 0);
	char buf[16];
	size_t i, k;
	int me, other;

	for (i = 0; i < N; i++) {
		snprintf(buf, sizeof(buf), "m%zu", i);
		ck_assert_int_eq(queue_put(q, msg(buf)), 0);
	}
	for (i = 0; i < N; i++) {
		held_init(&h[i], &me);
		ck_assert_int_eq(queue_get_held(q, &h[i]), 0);
	}
	ck_assert_uint_eq(stats(q).inflight, N);
	/* 3001 is prime to N: i * 3001 % N visits every index once. */
	for (i = 0; i < N; i++) {
		k = i * 3001 % N;
		ck_assert_ptr_null(queue_held_find(q, h[k].tag, &other));
		ck_assert_ptr_eq(queue_held_find(q, h[k].tag, &me), &h[k]);
		if (k % 10 == 0) {
			queue_requeue(&h[k]);
		} else {
			queue_ack(&h[k]);
		}
		ck_assert_ptr_null(queue_held_find(q, h[k].tag, &me));
	}
	ck_assert_uint_eq(stats(q).inflight, 0);
	ck_assert_uint_eq(stats(q).size, N / 10);
	/* The requeued ones come back under new tags. */
	for (i = 0; i < N / 10; i++) {
		held_init(&h[i], &me);
		ck_assert_int_eq(queue_get_held(q, &h[i]), 0);
		ck_assert_ptr_eq(queue_held_find(q, h[i].tag, &me), &h[i]);
	}
	for (i = N / 10; i-- > 0;)
		queue_ack(&h[i]);
	ck_assert_uint_eq(stats(q).inflight, 0);
	queue_free(q, IPC_EDELETED);
}
END_TEST

/* The tag map against a plain array: random puts and deletes, lookups of
 * present and absent tags, growth, and deletion's backward shift. */
/* What a durable queue's hooks saw: messages gone for good, put in flight. */
static int hook_gone, hook_held;
static char hook_last[8];

/* Hook: m left q for good. */
static void hook_on_gone(struct queue *q, struct qmsg *m)
{
	ck_assert_uint_eq(queue_durable_id(q), 7);
	hook_gone++;
	snprintf(hook_last, sizeof(hook_last), "%.*s", (int)m->len, m->data);
}

/* Hook: m was delivered for acknowledgement. */
static void hook_on_held(struct queue *q, struct qmsg *m)
{
	(void)q;
	(void)m;
	hook_held++;
}

static const struct queue_hooks test_hooks = { hook_on_gone, hook_on_held };

/* A durable queue reports every message leaving for good (get, hand-over
 * to a plain getter, ack) and every delivery for ack, never a requeue or
 * a free; recovery appends past maxsize and counts redeliveries. */
START_TEST(test_durable_hooks)
{
	struct queue *q = newq("d", 2);
	struct qheld h;
	struct tw g;
	int me;

	hook_gone = hook_held = 0;
	ck_assert_uint_eq(queue_durable_id(q), 0);
	queue_set_durable(q, 7, &test_hooks);
	ck_assert_uint_eq(queue_durable_id(q), 7);
	ck_assert_int_eq(stats(q).durable, 1);
	ck_assert_int_eq(queue_put(q, msg("a")), 0);
	ck_assert_int_eq(queue_put(q, msg("b")), 0);
	expect_get(q, "a");
	ck_assert_int_eq(hook_gone, 1);
	ck_assert_str_eq(hook_last, "a");
	held_init(&h, &me);
	expect_get_held(q, &h, "b");
	ck_assert_int_eq(hook_held, 1);
	queue_requeue(&h);
	ck_assert_int_eq(hook_gone, 1);
	held_init(&h, &me);
	expect_get_held(q, &h, "b");
	queue_ack(&h);
	ck_assert_int_eq(hook_gone, 2);
	ck_assert_int_eq(hook_held, 2);
	tw_init(&g, q, WAITER_GET, NULL);
	queue_park(q, &g.w);
	ck_assert_int_eq(queue_put(q, msg("c")), 0);   /* handed over */
	ck_assert_int_eq(hook_gone, 3);
	expect_msg(g.got, "c");
	queue_recover(q, msg("r1"), 1);
	queue_recover(q, msg("r2"), 0);
	queue_recover(q, msg("r3"), 1);                 /* past maxsize 2 */
	ck_assert_uint_eq(stats(q).size, 3);
	ck_assert_uint_eq(stats(q).requeued, 3);        /* 1 before, 2 now */
	queue_free(q, IPC_EDELETED);
	ck_assert_int_eq(hook_gone, 3);
}
END_TEST

/* Peek shows the ready messages oldest first and changes nothing. */
START_TEST(test_queue_peek)
{
	struct queue *q = newq("pk", 0);
	const struct qmsg *out[4];
	struct qheld h;
	int me;

	ck_assert_uint_eq(queue_peek(q, out, 4), 0);
	ck_assert_int_eq(queue_put(q, msg("a")), 0);
	ck_assert_int_eq(queue_put(q, msg("bb")), 0);
	ck_assert_int_eq(queue_put(q, msg("c")), 0);
	ck_assert_uint_eq(queue_peek(q, out, 2), 2);
	ck_assert_mem_eq(out[0]->data, "a", 1);
	ck_assert_mem_eq(out[1]->data, "bb", 2);
	ck_assert_uint_eq(stats(q).size, 3);
	ck_assert_uint_eq(stats(q).gets, 0);
	held_init(&h, &me);
	expect_get_held(q, &h, "a");
	ck_assert_uint_eq(queue_peek(q, out, 4), 2);
	ck_assert_mem_eq(out[0]->data, "bb", 2);
	ck_assert_mem_eq(out[1]->data, "c", 1);
	queue_free(q, IPC_EDELETED);
}
END_TEST

/* Purge drops the ready messages (each through the gone hook), keeps the
 * one in flight and the parked getter, admits a parked putter. */
START_TEST(test_queue_purge)
{
	struct queue *q = newq("pg", 2);
	struct qheld h;
	struct tw p, g;
	int me;

	hook_gone = hook_held = 0;
	queue_set_durable(q, 7, &test_hooks);
	ck_assert_int_eq(queue_put(q, msg("a")), 0);
	ck_assert_int_eq(queue_put(q, msg("b")), 0);
	held_init(&h, &me);
	expect_get_held(q, &h, "a");
	tw_init(&p, q, WAITER_PUT, msg("c"));
	queue_park(q, &p.w);
	ck_assert_uint_eq(queue_purge(q), 1);
	ck_assert_int_eq(hook_gone, 1);
	ck_assert_str_eq(hook_last, "b");
	ck_assert_int_eq(p.woken, 1);
	ck_assert_int_eq(p.status, 0);
	ck_assert_uint_eq(stats(q).size, 1);
	ck_assert_uint_eq(stats(q).bytes, 1);
	ck_assert_uint_eq(stats(q).inflight, 1);
	ck_assert_uint_eq(stats(q).gets, 1);
	queue_ack(&h);
	expect_get(q, "c");
	tw_init(&g, q, WAITER_GET, NULL);
	queue_park(q, &g.w);
	ck_assert_uint_eq(queue_purge(q), 0);
	ck_assert_int_eq(g.woken, 0);
	ck_assert_uint_eq(stats(q).getters, 1);
	ck_assert_int_eq(queue_put(q, msg("d")), 0);
	expect_msg(g.got, "d");
	queue_free(q, IPC_EDELETED);
}
END_TEST

START_TEST(test_tagmap)
{
	enum { N = 4096 };
	static void *ref[N + 1];
	struct tagmap m;
	unsigned seed = 12345;
	size_t i, present = 0, round;
	uint64_t t;

	tagmap_init(&m);
	ck_assert_ptr_null(tagmap_get(&m, 1));
	ck_assert_ptr_null(tagmap_del(&m, 1));
	for (round = 0; round < 200000; round++) {
		seed = seed * 1103515245u + 12345u;
		t = 1 + (seed >> 8) % N;
		/* Asserts only on a mismatch: each ck_assert call is a write to
		 * Check's runner, and these are a million (seconds under load,
		 * past Check's default 4 s timeout when run by hand). */
		if (ref[t] == NULL && (seed & 1)) {
			if (tagmap_put(&m, t, &ref[t]) != 0)
				ck_abort_msg("tagmap_put %llu failed", (unsigned long long)t);
			ref[t] = &ref[t];
			present++;
		} else if (ref[t] != NULL && !(seed & 1)) {
			void *got = tagmap_del(&m, t);

			if (got != &ref[t])
				ck_assert_ptr_eq(got, &ref[t]);
			ref[t] = NULL;
			present--;
		}
		if (m.count != present)
			ck_assert_uint_eq(m.count, present);
		if (round % 1000 == 0)
			for (i = 1; i <= N; i++)
				if (tagmap_get(&m, i) != ref[i])
					ck_assert_ptr_eq(tagmap_get(&m, i), ref[i]);
	}
	ck_assert_ptr_null(tagmap_get(&m, N + 7));
	for (i = 1; i <= N; i++)
		if (ref[i] != NULL)
			ck_assert_ptr_eq(tagmap_del(&m, i), &ref[i]);
	/* Emptied: the slots are gone. */
	ck_assert_uint_eq(m.count, 0);
	ck_assert_ptr_null(m.slots);
	tagmap_fini(&m);
}
END_TEST

/* An ilist record for the list tests. */
struct inode {
	int v;
	struct ilist link;
};

/* The values of h's records in order, as a string of digits. */
static const char *ilist_str(const struct ilist *h, char *buf)
{
	const struct ilist *n;
	char *p = buf;

	for (n = ilist_first(h); n != NULL; n = ilist_next(h, n))
		*p++ = (char)('0' + container_of(n, struct inode, link)->v);
	*p = '\0';
	return buf;
}

/* The one intrusive list: link at either end, unlink from anywhere in
 * O(1) (twice is harmless), walk both ways, pop. */
START_TEST(test_ilist)
{
	struct inode r[5] = { { 0, { 0 } }, { 1, { 0 } }, { 2, { 0 } },
			      { 3, { 0 } }, { 4, { 0 } } };
	struct ilist h;
	char buf[8];
	int k;

	ilist_init(&h);
	ck_assert(ilist_empty(&h));
	ck_assert_ptr_null(ilist_first(&h));
	ck_assert_ptr_null(ilist_pop(&h));
	ck_assert(!ilist_linked(&r[0].link));   /* zeroed: on no list */
	for (k = 1; k < 4; k++)
		ilist_link_tail(&h, &r[k].link);
	ilist_link_head(&h, &r[0].link);
	ilist_link_tail(&h, &r[4].link);
	ck_assert_str_eq(ilist_str(&h, buf), "01234");
	ilist_unlink(&r[2].link);                /* the middle */
	ilist_unlink(&r[2].link);                /* again: nothing */
	ck_assert(!ilist_linked(&r[2].link));
	ilist_unlink(&r[4].link);                /* the tail */
	ck_assert_str_eq(ilist_str(&h, buf), "013");
	ck_assert_ptr_eq(ilist_last_entry(&h, struct inode, link), &r[3]);
	ck_assert_ptr_eq(ilist_prev(&h, &r[3].link), &r[1].link);
	ck_assert_ptr_null(ilist_prev(&h, &r[0].link));
	ck_assert_ptr_null(ilist_next(&h, &r[3].link));
	ck_assert_ptr_eq(ilist_first_entry(&h, struct inode, link), &r[0]);
	ck_assert_ptr_eq(ilist_pop(&h), &r[0].link);
	ck_assert(!ilist_linked(&r[0].link));
	ilist_link_before(&r[3].link, &r[2].link);
	ck_assert_str_eq(ilist_str(&h, buf), "123");
	while (ilist_pop(&h) != NULL)
		;
	ck_assert(ilist_empty(&h));
	ck_assert_ptr_null(ilist_last_entry(&h, struct inode, link));
}
END_TEST

/* Assert the chain m (linked by next) holds the one-byte messages of s,
 * in order, then free it. */
static void expect_chain(struct qmsg *m, const char *s)
{
	struct qmsg *next;

	for (; *s; s++, m = next) {
		ck_assert_ptr_nonnull(m);
		next = m->next;
		m->next = NULL;
		expect_msg(m, (char[]){ *s, '\0' });
	}
	ck_assert_ptr_null(m);
}

START_TEST(test_queue_put_batch_whole)
{
	struct queue *q = newq("batch", 2);
	struct qmsg *in[8];
	struct tw g[3];
	size_t taken = 0, i;
	char s[2] = "1";

	/* A and B want 3 each, C one: a batch of 8 gives A 1-3 and B 4-6
	 * (each in one hand-over), C 7, and stores 8; handed-over messages
	 * never count against maxsize 2. */
	for (i = 0; i < 3; i++) {
		tw_init(&g[i], q, WAITER_GET, NULL);
		g[i].w.want = i < 2 ? 3 : 0;
		queue_park(q, &g[i].w);
	}
	for (i = 0; i < 8; i++, s[0]++)
		in[i] = msg(s);
	ck_assert_int_eq(queue_put_batch(q, in, 8, &taken), 0);
	ck_assert_uint_eq(taken, 8);
	for (i = 0; i < 3; i++) {
		ck_assert_int_eq(g[i].woken, 1);
		ck_assert_int_eq(g[i].seq, (int)i + 1);
	}
	expect_chain(g[0].got, "123");
	expect_chain(g[1].got, "456");
	expect_chain(g[2].got, "7");
	ck_assert_uint_eq(stats(q).size, 1);
	ck_assert_uint_eq(stats(q).puts, 8);
	ck_assert_uint_eq(stats(q).gets, 7);
	/* No getter: stored up to the bound, then a prefix is all it takes. */
	for (i = 0; i < 3; i++, s[0]++)
		in[i] = msg(s);
	ck_assert_int_eq(queue_put_batch(q, in, 3, &taken), IPC_EFULL);
	ck_assert_uint_eq(taken, 1);
	qmsg_free(in[1]);
	qmsg_free(in[2]);
	expect_get(q, "8");
	expect_get(q, "9");
	queue_free(q, IPC_EDELETED);
}
END_TEST

/* registry_walk_after callback: append the name to a list of names. */
static void walk_names(const char *name, int kind, void *obj, void *arg)
{
	char (*names)[8] = arg;
	size_t i = 0;

	(void)kind;
	(void)obj;
	while (names[i][0] != '\0')
		i++;
	snprintf(names[i], sizeof(names[i]), "%s", name);
}

START_TEST(test_registry_walk_after)
{
	static char got[1001][8], want[1001][8];
	struct registry *r = registry_new();
	char name[8], after[8] = "";
	size_t i, k, n = 0, total = 0;
	unsigned x;
	int more = 1;

	/* 1000 names added in a scrambled order, every third removed. */
	for (i = 0; i < 1000; i++) {
		x = (unsigned)(i * 617 % 1000);
		snprintf(name, sizeof(name), "n%04u", x);
		ck_assert_int_eq(registry_add(r, name, 1, obj_of(i)), 0);
	}
	for (x = 0; x < 1000; x++) {
		snprintf(name, sizeof(name), "n%04u", x);
		if (x % 3 == 0)
			ck_assert_ptr_nonnull(registry_remove(r, name));
		else
			snprintf(want[n++], sizeof(want[0]), "%s", name);
	}
	/* Pages of 7 from the start, each after the last name of the one
	 * before: every name once, in order; more until the last page. */
	memset(got, 0, sizeof(got));
	while (more) {
		k = registry_walk_after(r, after, 7, walk_names, got, &more);
		total += k;
		ck_assert_uint_le(k, 7);
		ck_assert(more ? k == 7 : total == n);
		if (k > 0)
			snprintf(after, sizeof(after), "%s", got[total - 1]);
	}
	for (i = 0; i < n; i++)
		ck_assert_str_eq(got[i], want[i]);
	/* A cursor that names nothing starts after where it would be. */
	memset(got, 0, sizeof(got));
	ck_assert_uint_eq(registry_walk_after(r, "n0500x", 2, walk_names, got, &more), 2);
	ck_assert_str_eq(got[0], "n0502");
	ck_assert_str_eq(got[1], "n0503");
	ck_assert_int_eq(more, 1);
	ck_assert_uint_eq(registry_walk_after(r, "n0998", 5, walk_names, got, &more), 0);
	ck_assert_int_eq(more, 0);
	registry_free(r);
}
END_TEST

/* The per-uid table: a record per uid that holds anything, limits for
 * all but root and the daemon's own uid. */
START_TEST(test_quota_table)
{
	struct quota q;
	struct quota_user *u, *root, *me;

	quota_init(&q, 1000);
	q.limit[QUOTA_CONNS] = 2;
	u = quota_user(&q, 65534);
	ck_assert_ptr_nonnull(u);
	ck_assert_ptr_eq(quota_user(&q, 65534), u);
	ck_assert_ptr_null(quota_find(&q, 4301));
	quota_charge(u, QUOTA_CONNS, 2);
	ck_assert_int_eq(quota_admit(u, QUOTA_CONNS, 1), IPC_ELIMIT);
	ck_assert_int_eq(quota_admit(u, QUOTA_OBJECTS, 1000000), 0); /* no limit */
	root = quota_user(&q, 0);
	me = quota_user(&q, 1000);
	quota_charge(root, QUOTA_CONNS, 5);
	quota_charge(me, QUOTA_CONNS, 5);
	ck_assert_int_eq(quota_admit(root, QUOTA_CONNS, 1), 0);
	ck_assert_int_eq(quota_admit(me, QUOTA_CONNS, 1), 0);
	quota_uncharge(u, QUOTA_CONNS, 2);
	quota_uncharge(root, QUOTA_CONNS, 5);
	quota_uncharge(me, QUOTA_CONNS, 5);
	quota_fini(&q);
}
END_TEST

/* A message's footprint is charged to its putter until it is freed; a
 * record lives on (disconnected) while a message it put does, and is
 * gone once it holds nothing. */
START_TEST(test_quota_bytes_charged)
{
	struct quota q;
	struct quota_user *u, *root;
	struct qmsg *m[3];
	int i;

	quota_init(&q, 1000);
	q.limit[QUOTA_BYTES] = 2 * qmsg_footprint(5);
	u = quota_user(&q, 65534);
	root = quota_user(&q, 0);
	quota_charge(u, QUOTA_CONNS, 2);
	quota_charge(root, QUOTA_CONNS, 5);
	for (i = 0; i < 3; i++) {
		ck_assert_int_eq(quota_admit(u, QUOTA_BYTES, qmsg_footprint(5)),
				 i < 2 ? 0 : IPC_ELIMIT);
		m[i] = qmsg_new("hello", 5);
		qmsg_charge(m[i], i < 2 ? u : root);
	}
	ck_assert_uint_eq(u->used[QUOTA_BYTES], 2 * qmsg_footprint(5));
	qmsg_free(m[0]);
	ck_assert_int_eq(quota_admit(u, QUOTA_BYTES, qmsg_footprint(5)), 0);
	/* Disconnected, it lives on while a message it put does. */
	quota_uncharge(u, QUOTA_CONNS, 2);
	ck_assert_ptr_eq(quota_find(&q, 65534), u);
	qmsg_free(m[1]);
	ck_assert_ptr_null(quota_find(&q, 65534));
	qmsg_free(m[2]);
	quota_uncharge(root, QUOTA_CONNS, 5);
	quota_fini(&q);
}
END_TEST

/* A chown moves an owned object to the new owner's record; many uids
 * grow the table, and it shrinks back as they let go. */
START_TEST(test_quota_move_and_grow)
{
	struct quota q;
	uid_t uid;

	quota_init(&q, 1000);
	quota_charge(quota_user(&q, 0), QUOTA_CONNS, 5);
	quota_charge(quota_user(&q, 1000), QUOTA_CONNS, 5);
	ck_assert_int_eq(quota_move_object(&q, 0, 4301), 0);
	ck_assert_uint_eq(quota_find(&q, 4301)->used[QUOTA_OBJECTS], 1);
	for (uid = 2000; uid < 2100; uid++)
		quota_charge(quota_user(&q, uid), QUOTA_PARKS, 1);
	for (uid = 2000; uid < 2100; uid++)
		ck_assert_uint_eq(quota_find(&q, uid)->uid, uid);
	ck_assert_uint_eq(q.count, 103);
	for (uid = 2000; uid < 2100; uid++)
		quota_uncharge(quota_find(&q, uid), QUOTA_PARKS, 1);
	ck_assert_uint_eq(q.count, 3);
	quota_fini(&q);
}
END_TEST

/* A dead-letter callback's state: the target queue (NULL refuses), and
 * what it was offered. */
struct tdead {
	struct queue *target;
	int calls;
	uint32_t deliveries;       /* m->deliveries when offered */
};

/* queue_dead_fn of the tests: put m on the target, or refuse. */
static int test_dead(struct queue *q, struct qmsg *m, void *arg)
{
	struct tdead *d = arg;

	ck_assert_ptr_nonnull(q);
	d->calls++;
	d->deliveries = m->deliveries;
	if (d->target == NULL)
		return IPC_ENOENT;
	return queue_put(d->target, m);
}

/* Deliver the head of q for ack into h and give it back (unacked). */
static void deliver_and_requeue(struct queue *q, struct qheld *h, const char *s)
{
	expect_get_held(q, h, s);
	queue_requeue(h);
}

START_TEST(test_dead_letter_after_max)
{
	struct queue *q = newq("jobs", 0), *dlq = newq("dlq", 0);
	struct tdead d = { .target = dlq };
	struct qheld h;
	int me;

	ck_assert_str_eq(queue_dead_letter(q), "");
	ck_assert_int_eq(queue_set_dead_letter(q, 3, "dlq", test_dead, &d), 0);
	ck_assert_str_eq(queue_dead_letter(q), "dlq");
	ck_assert_uint_eq(stats(q).max_deliveries, 3);
	held_init(&h, &me);
	ck_assert_int_eq(queue_put(q, msg("poison")), 0);
	ck_assert_int_eq(queue_put(q, msg("good")), 0);
	/* Two deliveries come back: redelivered from the head as before. */
	deliver_and_requeue(q, &h, "poison");
	held_init(&h, &me);
	deliver_and_requeue(q, &h, "poison");
	ck_assert_int_eq(d.calls, 0);
	ck_assert_uint_eq(stats(q).requeued, 2);
	/* The third comes back: it moves, with a fresh count. */
	held_init(&h, &me);
	deliver_and_requeue(q, &h, "poison");
	ck_assert_int_eq(d.calls, 1);
	ck_assert_uint_eq(d.deliveries, 0);
	ck_assert_uint_eq(stats(q).requeued, 2);
	ck_assert_uint_eq(stats(q).dead_lettered, 1);
	ck_assert_uint_eq(stats(q).dead_letter_failed, 0);
	ck_assert_uint_eq(stats(q).size, 1);
	ck_assert_uint_eq(stats(q).inflight, 0);
	ck_assert_uint_eq(stats(dlq).size, 1);
	expect_get(q, "good");
	expect_get(dlq, "poison");
	/* An acked message is never offered; a plain get does not count. */
	ck_assert_int_eq(queue_put(q, msg("x")), 0);
	held_init(&h, &me);
	expect_get_held(q, &h, "x");
	queue_ack(&h);
	ck_assert_int_eq(d.calls, 1);
	queue_free(q, IPC_EDELETED);
	queue_free(dlq, IPC_EDELETED);
}
END_TEST

START_TEST(test_dead_letter_refused_stays)
{
	struct queue *q = newq("jobs", 0), *dlq = newq("dlq", 1);
	struct tdead d = { .target = NULL };
	struct tw g;
	struct qheld h;
	int me;

	ck_assert_int_eq(queue_set_dead_letter(q, 1, "dlq", test_dead, &d), 0);
	ck_assert_int_eq(queue_put(q, msg("p")), 0);
	/* Refused (no target): back at the head, counted, count kept. */
	held_init(&h, &me);
	deliver_and_requeue(q, &h, "p");
	ck_assert_int_eq(d.calls, 1);
	ck_assert_uint_eq(stats(q).dead_letter_failed, 1);
	ck_assert_uint_eq(stats(q).requeued, 1);
	ck_assert_uint_eq(stats(q).size, 1);
	/* Refused with a getter parked: the getter gets it. */
	held_init(&h, &me);
	expect_get_held(q, &h, "p");
	ck_assert_uint_eq(h.msg->deliveries, 2);
	tw_init(&g, q, WAITER_GET, NULL);
	queue_park(q, &g.w);
	d.target = dlq;
	ck_assert_int_eq(queue_put(dlq, msg("full")), 0);  /* target full */
	queue_requeue(&h);
	ck_assert_int_eq(d.calls, 2);
	ck_assert_uint_eq(stats(q).dead_letter_failed, 2);
	ck_assert_int_eq(g.woken, 1);
	expect_msg(g.got, "p");
	ck_assert_uint_eq(stats(q).dead_lettered, 0);
	queue_free(q, IPC_EDELETED);
	queue_free(dlq, IPC_EDELETED);
}
END_TEST

START_TEST(test_dead_letter_admits_putter)
{
	struct queue *q = newq("jobs", 1), *dlq = newq("dlq", 0);
	struct tdead d = { .target = dlq };
	struct tw p;
	struct qheld h;
	int me;

	ck_assert_int_eq(queue_set_dead_letter(q, 1, "dlq", test_dead, &d), 0);
	ck_assert_int_eq(queue_put(q, msg("p")), 0);
	held_init(&h, &me);
	expect_get_held(q, &h, "p");
	/* The slot is in flight: a putter waits. */
	tw_init(&p, q, WAITER_PUT, msg("next"));
	ck_assert_int_eq(queue_put(q, p.w.msg), IPC_EFULL);
	queue_park(q, &p.w);
	/* The move frees the slot: the putter is admitted. */
	queue_requeue(&h);
	ck_assert_int_eq(p.woken, 1);
	ck_assert_int_eq(p.status, 0);
	ck_assert_uint_eq(stats(q).putters, 0);
	expect_get(q, "next");
	expect_get(dlq, "p");
	queue_free(q, IPC_EDELETED);
	queue_free(dlq, IPC_EDELETED);
}
END_TEST

/* get_any in the core: one request, a waiter parked on each of several
 * queues; woken by one, it takes the others off their queues (as
 * daemon/park.c does). */
struct tany {
	struct tw w[3];
	struct queue *qs[3];
	size_t n;
	int woken;                 /* index of the waiter that delivered, or -1 */
};

/* Wake hook of a get_any waiter: unpark its siblings, unless it was a
 * deletion and some are still parked. */
static void hook_any(struct tw *t)
{
	struct tany *a = t->arg;
	size_t i, left = 0;

	for (i = 0; i < a->n; i++)
		left += a->w[i].w.holder != NULL;
	if (t->status == IPC_EDELETED && left > 0)
		return;
	a->woken = (int)(t - a->w);
	for (i = 0; i < a->n; i++)
		queue_unpark(&a->w[i].w);
}

/* Park get_any a on qs[0..n). */
static void any_park(struct tany *a, struct queue **qs, size_t n)
{
	size_t i;

	memset(a, 0, sizeof(*a));
	a->n = n;
	a->woken = -1;
	for (i = 0; i < n; i++) {
		tw_init(&a->w[i], qs[i], WAITER_GET, NULL);
		a->w[i].hook = hook_any;
		a->w[i].arg = a;
		a->qs[i] = qs[i];
		queue_park(qs[i], &a->w[i].w);
	}
}

START_TEST(test_any_fifo_with_single_getters)
{
	struct queue *q1 = newq("q1", 0), *q2 = newq("q2", 0);
	struct queue *qs[2] = { q1, q2 };
	struct tw g1, g2, g3;
	struct tany a;

	/* g1 on q2, then the get_any on q1 and q2, then g2 on q2, g3 on q1. */
	tw_init(&g1, q2, WAITER_GET, NULL);
	queue_park(q2, &g1.w);
	any_park(&a, qs, 2);
	tw_init(&g2, q2, WAITER_GET, NULL);
	queue_park(q2, &g2.w);
	tw_init(&g3, q1, WAITER_GET, NULL);
	queue_park(q1, &g3.w);
	ck_assert_uint_eq(stats(q1).getters, 2);
	ck_assert_uint_eq(stats(q2).getters, 3);
	/* q2's first message: g1's, who came first. */
	ck_assert_int_eq(queue_put(q2, msg("m1")), 0);
	expect_msg(g1.got, "m1");
	ck_assert_int_eq(a.woken, -1);
	/* Its second: the get_any's turn; it leaves q1 (g3 stays). */
	ck_assert_int_eq(queue_put(q2, msg("m2")), 0);
	ck_assert_int_eq(a.woken, 1);
	expect_msg(a.w[1].got, "m2");
	ck_assert_int_eq(a.w[0].woken, 0);
	ck_assert_uint_eq(stats(q1).getters, 1);
	ck_assert_uint_eq(stats(q2).getters, 1);
	/* Then g2 on q2 and g3 on q1: nobody else is woken twice. */
	ck_assert_int_eq(queue_put(q2, msg("m3")), 0);
	expect_msg(g2.got, "m3");
	ck_assert_int_eq(queue_put(q1, msg("m4")), 0);
	expect_msg(g3.got, "m4");
	ck_assert_int_eq(a.w[1].woken, 1);
	ck_assert_uint_eq(stats(q1).size + stats(q2).size, 0);
	queue_free(q1, IPC_EDELETED);
	queue_free(q2, IPC_EDELETED);
}
END_TEST

START_TEST(test_any_batch_put_and_duplicates)
{
	struct queue *q1 = newq("q1", 0), *q2 = newq("q2", 0);
	struct queue *qs[3] = { q1, q2, q1 };
	struct qmsg *batch[3];
	struct tany a;
	size_t taken;

	/* The same queue twice: one delivery, both waiters gone. */
	any_park(&a, qs, 3);
	ck_assert_uint_eq(stats(q1).getters, 2);
	batch[0] = msg("b1");
	batch[1] = msg("b2");
	batch[2] = msg("b3");
	ck_assert_int_eq(queue_put_batch(q1, batch, 3, &taken), 0);
	ck_assert_uint_eq(taken, 3);
	ck_assert_int_eq(a.woken, 0);
	expect_msg(a.w[0].got, "b1");
	ck_assert_int_eq(a.w[2].woken, 0);
	ck_assert_uint_eq(stats(q1).getters, 0);
	ck_assert_uint_eq(stats(q2).getters, 0);
	ck_assert_uint_eq(stats(q1).size, 2);
	expect_get(q1, "b2");
	expect_get(q1, "b3");
	queue_free(q1, IPC_EDELETED);
	queue_free(q2, IPC_EDELETED);
}
END_TEST

START_TEST(test_any_queue_freed)
{
	struct queue *q1 = newq("q1", 0), *q2 = newq("q2", 0);
	struct queue *qs[2] = { q1, q2 };
	struct tany a;

	/* One queue deleted: only its waiter is told; the other waits on. */
	any_park(&a, qs, 2);
	queue_free(q1, IPC_EDELETED);
	ck_assert_int_eq(a.w[0].woken, 1);
	ck_assert_int_eq(a.w[0].status, IPC_EDELETED);
	ck_assert_int_eq(a.woken, -1);
	ck_assert_uint_eq(stats(q2).getters, 1);
	ck_assert_int_eq(queue_put(q2, msg("x")), 0);
	ck_assert_int_eq(a.woken, 1);
	expect_msg(a.w[1].got, "x");
	/* Both deleted: the last one completes it. */
	q1 = newq("q1", 0);
	qs[0] = q1;
	any_park(&a, qs, 2);
	queue_free(q1, IPC_EDELETED);
	ck_assert_int_eq(a.woken, -1);
	queue_free(q2, IPC_EDELETED);
	ck_assert_int_eq(a.woken, 1);
	ck_assert_int_eq(a.w[1].status, IPC_EDELETED);
}
END_TEST

/* The suite: qmsg, queue and registry cases. */
static Suite *queue_suite(void)
{
	Suite *s = suite_create("queue");
	TCase *tq = tcase_create("queue");
	TCase *tr = tcase_create("registry");
	TCase *th = tcase_create("inflight");

	tcase_add_test(tq, test_qmsg_basic);
	tcase_add_test(tq, test_qmsg_bulk);
	tcase_add_test(tq, test_qmsg_bulk_tail);
	tcase_add_test(tq, test_qmsg_reuse);
	tcase_add_test(tq, test_qmsg_held);
	tcase_add_test(tq, test_qmsg_shared);
	tcase_add_test(tq, test_qframe_limit);
	tcase_add_test(tq, test_qmsg_fd_counts);
	tcase_add_test(tq, test_queue_new_name);
	tcase_add_test(tq, test_queue_fifo_order);
	tcase_add_test(tq, test_queue_unbounded);
	tcase_add_test(tq, test_queue_bounded_full);
	tcase_add_test(tq, test_queue_reserve);
	tcase_add_test(tq, test_queue_get_empty);
	tcase_add_test(tq, test_queue_getters_fifo);
	tcase_add_test(tq, test_queue_put_batch_whole);
	tcase_add_test(tq, test_queue_putters_fifo);
	tcase_add_test(tq, test_queue_unpark_getter);
	tcase_add_test(tq, test_queue_unpark_putter);
	tcase_add_test(tq, test_queue_free_wakes_all);
	tcase_add_test(tq, test_queue_reenter_put);
	tcase_add_test(tq, test_queue_reenter_get);
	tcase_add_test(tq, test_queue_free_reenter);
	tcase_add_test(tq, test_queue_stats_bytes);
	tcase_add_test(tq, test_queue_zero_byte);
	tcase_add_test(tq, test_queue_stall_resume);
	tcase_add_test(tq, test_queue_resume_keeps_place);
	tcase_add_test(tr, test_registry_basic);
	tcase_add_test(tr, test_registry_many);
	tcase_add_test(tr, test_registry_walk);
	tcase_add_test(tr, test_registry_walk_after);
	tcase_add_test(tr, test_siphash13_vectors);
	tcase_add_test(tr, test_registry_keyed_hash);
	tcase_add_test(th, test_held_get_ack);
	tcase_add_test(th, test_ahead_any_only_read_ahead);
	tcase_add_test(th, test_held_requeue_head);
	tcase_add_test(th, test_held_counts_maxsize);
	tcase_add_test(th, test_held_parked_getter);
	tcase_add_test(th, test_held_full_with_getters);
	tcase_add_test(th, test_held_requeue_admits);
	tcase_add_test(th, test_held_reenter);
	tcase_add_test(th, test_held_free_drops);
	tcase_add_test(th, test_held_many);
	tcase_add_test(th, test_tagmap);
	tcase_add_test(th, test_durable_hooks);
	tcase_add_test(th, test_queue_peek);
	tcase_add_test(th, test_queue_purge);
	tcase_add_test(th, test_dead_letter_after_max);
	tcase_add_test(th, test_dead_letter_refused_stays);
	tcase_add_test(th, test_dead_letter_admits_putter);
	tcase_add_test(tq, test_any_fifo_with_single_getters);
	tcase_add_test(tq, test_any_batch_put_and_duplicates);
	tcase_add_test(tq, test_any_queue_freed);
	tcase_add_test(tq, test_ilist);
	tcase_add_test(tq, test_quota_table);
	tcase_add_test(tq, test_quota_bytes_charged);
	tcase_add_test(tq, test_quota_move_and_grow);
	suite_add_tcase(s, tq);
	suite_add_tcase(s, th);
	suite_add_tcase(s, tr);
	return s;
}

/* Run the suite; exit status 0 when every case passed. */
int main(void)
{
	SRunner *sr = srunner_create(queue_suite());
	int failed;

	srunner_run_all(sr, CK_NORMAL);
	failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}
