/* SPDX-License-Identifier: MIT */
/*
 * qmsg.c: a held message, one allocation for header and payload.
 *
 * Small messages (payload up to QMSG_SMALL bytes), the common case, come
 * from a free list of equal blocks: a put and the get that follows cost
 * no malloc/free at all once the list is warm. The list keeps at most
 * QMSG_CACHE_MAX blocks (about 1 MiB); beyond that blocks go back to
 * malloc, so a burst does not pin memory for good.
 *
 * Recovery makes up to millions of small messages at once: those come
 * from 2 MiB chunks (qmsg_new_bulk). Each chunk counts its live blocks
 * and is unmapped when the last one is freed; its blocks never enter the
 * free list (that would pin the chunk).
 */
#include <stdint.h>
#include <stdlib.h>
#include <fcntl.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#include "qmsg.h"
#include "quota.h"

/* The most free blocks kept. */
#define QMSG_CACHE_MAX 8192u

/* Payload bytes of every message alive in the process (the daemon's
 * total, checked against its max-bytes limit). */
static size_t qmsg_nbytes;
/* Memfd descriptors held by live messages. */
static size_t qmsg_nfds;
/* And their footprint (qmsg_footprint): what max-bytes bounds. */
static size_t qmsg_mem;
/* Free small blocks, linked through next, and how many. */
static struct qmsg *qmsg_cache;
static size_t qmsg_ncache;
/* Every message pays for its header (qmsg_footprint, ipcd(8)): a field
 * added there costs every message; say so in ipcd(8) when it grows. */
/* (Seven words: one is the putter's charge, for per-uid quotas.) */
_Static_assert(sizeof(struct qmsg) <= 7 * sizeof(uint64_t),
	       "struct qmsg grew: every message pays for it (max-bytes)");
/* Fault injection (qmsg_fail_from): allocations left before failing, or 0. */
static unsigned long qmsg_fail_in;

#ifndef MADV_POPULATE_WRITE
#define MADV_POPULATE_WRITE 23   /* Linux 5.14; older headers lack it */
#endif

/* A chunk of qmsg_new_bulk, aligned to its size (a block finds its chunk
 * by masking its address); the header fills the first cache line. */
#define QMSG_CHUNK (2u << 20)
#define QMSG_CHUNK_HDR 64u
/* A carved block's alignment: the header's own (its widest fields are
 * pointers and 64-bit ids). */
#define QMSG_BULK_ALIGN _Alignof(struct qmsg)
struct qchunk {
	size_t live;        /* blocks carved and not yet freed */
	size_t used;        /* bytes carved so far, header included */
	size_t mapped;      /* bytes still mapped: qmsg_bulk_end trims the
			     * tail, and the kernel may reuse it at once */
};
/* The chunk being carved, or NULL; and how many chunks are mapped. */
static struct qchunk *qmsg_chunk;
static size_t qmsg_nchunks;

/* A block for a message of len payload bytes, or NULL. */
static struct qmsg *qmsg_alloc(size_t len)
{
	struct qmsg *m = qmsg_cache;

	if (len > QMSG_SMALL)
		return malloc(sizeof(*m) + len);
	if (m == NULL)
		return malloc(sizeof(*m) + QMSG_SMALL);
	qmsg_cache = m->next;
	qmsg_ncache--;
	return m;
}

/* Fill the header of a new message of len bytes (slab: its block is in
 * a chunk) and count it; the payload is the caller's to set. */
static struct qmsg *qmsg_init(struct qmsg *m, size_t len, uint8_t slab)
{
	m->next = NULL;
	m->charge = NULL;
	m->jid = 0;
	m->deliveries = 0;
	m->held_off = 0;
	m->len = len;
	m->fd = -1;
	m->lent = 0;
	m->slab = slab;
	m->shared = 0;
	m->map = NULL;
	qmsg_nbytes += len;
	qmsg_mem += qmsg_footprint(len);
	return m;
}

/* A new message of len bytes with room for size payload bytes in its
 * block (counted as len), its payload not yet set; NULL when out of
 * memory. */
static struct qmsg *qmsg_make(size_t size, size_t len)
{
	struct qmsg *m;

	if (size > SIZE_MAX - sizeof(*m))
		return NULL;
	if (qmsg_fail_in > 0 && --qmsg_fail_in == 0) {
		qmsg_fail_in = 1; /* and every one after */
		return NULL;
	}
	m = qmsg_alloc(size);
	return m ? qmsg_init(m, len, 0) : NULL;
}

/* Copy len bytes into a new message; NULL when out of memory. */
struct qmsg *qmsg_new(const void *data, size_t len)
{
	struct qmsg *m = qmsg_make(len, len);

	if (m != NULL && len)
		memcpy(m->data, data, len);
	return m;
}

/* A shared frame: its buffer, size, and references (one per message
 * made from it, and the maker's until it calls qframe_put). It sits in
 * qframes[] at the index its messages keep in held_off. */
struct qframe {
	void *block;
	size_t size;
	size_t refs;
	uint32_t idx;
};
/* The frames alive, by index: qframes[0..qframes_n) (a free slot is
 * NULL), the free indices a stack in qframes_free (both qframes_cap
 * long): qframes_n - qframes_nfree are alive. */
static struct qframe **qframes;
static uint32_t *qframes_free;
static uint32_t qframes_n, qframes_cap, qframes_nfree;
static size_t qframe_bytes;

/* Room for one more index: 0, or -1 out of memory. */
static int qframe_grow(void)
{
	uint32_t cap = qframes_cap ? 2 * qframes_cap : 16;
	struct qframe **t;
	uint32_t *u;

	if (qframes_nfree > 0 || qframes_n < qframes_cap)
		return 0;
	t = realloc(qframes, cap * sizeof(*t));
	if (t == NULL)
		return -1;
	qframes = t;
	u = realloc(qframes_free, cap * sizeof(*u));
	if (u == NULL)
		return -1;
	qframes_free = u;
	qframes_cap = cap;
	return 0;
}

/* Share block among messages: see qmsg.h. */
struct qframe *qframe_new(void *block, size_t size, size_t limit)
{
	struct qframe *f;
	uint32_t i;

	if (qframe_bytes > limit || size > limit - qframe_bytes || qframe_grow() != 0 ||
	    (f = malloc(sizeof(*f))) == NULL)
		return NULL;
	i = qframes_nfree > 0 ? qframes_free[--qframes_nfree] : qframes_n++;
	*f = (struct qframe){ .block = block, .size = size, .refs = 1, .idx = i };
	qframes[i] = f;
	qframe_bytes += size;
	return f;
}

/* Drop a reference to f; see qmsg.h. The index arrays go with the last
 * frame. */
void qframe_put(struct qframe *f)
{
	if (--f->refs > 0)
		return;
	qframe_bytes -= f->size;
	qframes[f->idx] = NULL;
	qframes_free[qframes_nfree++] = f->idx;
	if (qframes_nfree == qframes_n) {
		free(qframes);
		free(qframes_free);
		qframes = NULL;
		qframes_free = NULL;
		qframes_n = qframes_cap = qframes_nfree = 0;
	}
	free(f->block);
	free(f);
}

/* Bytes of shared frames not yet freed. */
size_t qframe_live_bytes(void)
{
	return qframe_bytes;
}

/* A message whose payload lies in shared frame f. */
struct qmsg *qmsg_new_shared(struct qframe *f, const unsigned char *data, size_t len)
{
	struct qmsg *m = qmsg_make(0, len);

	if (m != NULL) {
		m->shared = 1;
		m->held_off = f->idx;
		m->map = data;
		f->refs++;
	}
	return m;
}

/* A message taking over the buffer holding its payload. */
struct qmsg *qmsg_new_held(void *block, const unsigned char *data, size_t len)
{
	struct qmsg *m = qmsg_make(0, len);

	if (m != NULL) {
		m->held_off = (uint32_t)(data - (const unsigned char *)block);
		m->map = data;
	}
	return m;
}

/* Map a new chunk aligned to its size, its pages filled in at once:
 * NULL when out of memory. */
static struct qchunk *qchunk_new(void)
{
	size_t len = 2 * (size_t)QMSG_CHUNK;
	unsigned char *p = mmap(NULL, len, PROT_READ | PROT_WRITE,
				MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	uintptr_t a, end;
	struct qchunk *c;

	if (p == MAP_FAILED)
		return NULL;
	a = ((uintptr_t)p + QMSG_CHUNK - 1) & ~(uintptr_t)(QMSG_CHUNK - 1);
	end = (uintptr_t)p + len;
	if (a > (uintptr_t)p)
		munmap(p, a - (uintptr_t)p);
	munmap((void *)(a + QMSG_CHUNK), end - a - QMSG_CHUNK);
	/* Small pages, all faulted in by one call. A huge page is cheaper to
	 * fault in only when the kernel has one at hand: after a few idle
	 * seconds (a VM giving its free memory back to the host), zeroing
	 * fresh huge pages made recovery 3x slower (1,000,000 x 64 B: 450-660
	 * ms of CPU on huge pages, 160-200 ms on small ones; right after
	 * another restart, 80-90 ms against 160-200). The worst case wins. */
	(void)madvise((void *)a, QMSG_CHUNK, MADV_NOHUGEPAGE);
	/* Before Linux 5.14 this fails: a fault per page then. */
	(void)madvise((void *)a, QMSG_CHUNK, MADV_POPULATE_WRITE);
	c = (struct qchunk *)a;
	c->live = 0;
	c->used = QMSG_CHUNK_HDR;
	c->mapped = QMSG_CHUNK;
	qmsg_nchunks++;
	return c;
}

/* The chunk block m was carved from. */
static struct qchunk *qchunk_of(const struct qmsg *m)
{
	return (struct qchunk *)((uintptr_t)m & ~(uintptr_t)(QMSG_CHUNK - 1));
}

/* A block freed: unmap its chunk once it holds none and is not carved. */
static void qchunk_put(struct qchunk *c)
{
	if (--c->live == 0 && c != qmsg_chunk) {
		munmap(c, c->mapped);
		qmsg_nchunks--;
	}
}

/* A small message from the chunk being carved (a new one when full). */
struct qmsg *qmsg_new_bulk(const void *data, size_t len)
{
	struct qchunk *c = qmsg_chunk;
	struct qmsg *m;

	/* Carved to its own size, rounded to a pointer's alignment only: a
	 * chunk's blocks never go to the free list, and recovery's time is
	 * mostly the kernel zeroing the pages it touches (a 64 B message
	 * takes 120 B here, 176 B from malloc). */
	size_t blk = (sizeof(*m) + len + QMSG_BULK_ALIGN - 1) &
		     ~(size_t)(QMSG_BULK_ALIGN - 1);

	if (len > QMSG_SMALL || qmsg_fail_in > 0)
		return qmsg_new(data, len);
	if (c == NULL || c->used + blk > QMSG_CHUNK) {
		qmsg_bulk_end();    /* the full one goes when it holds nothing */
		if ((c = qchunk_new()) == NULL)
			return NULL;
		qmsg_chunk = c;
	}
	m = qmsg_init((struct qmsg *)((unsigned char *)c + c->used), len, 1);
	c->used += blk;
	c->live++;
	if (len)
		memcpy(m->data, data, len);
	return m;
}

/* End of a bulk run: give back the untouched pages of the last chunk. */
void qmsg_bulk_end(void)
{
	struct qchunk *c = qmsg_chunk;
	size_t page = (size_t)sysconf(_SC_PAGESIZE), keep;

	if (c == NULL)
		return;
	qmsg_chunk = NULL;
	/* A tail not on a page boundary would not be unmapped, and mapped
	 * would then be wrong (16 or 64 KiB pages on some arm64 and ppc64). */
	keep = (c->used + page - 1) & ~(page - 1);
	if (keep < QMSG_CHUNK) {
		munmap((unsigned char *)c + keep, QMSG_CHUNK - keep);
		c->mapped = keep;
	}
	c->live++;          /* unmapped here when it holds nothing */
	qchunk_put(c);
}

/* Chunks still mapped. */
size_t qmsg_bulk_chunks(void)
{
	return qmsg_nchunks;
}

/* Charge m's footprint to u until m is freed. */
void qmsg_charge(struct qmsg *m, struct quota_user *u)
{
	quota_charge(u, QUOTA_BYTES, qmsg_footprint(m->len));
	m->charge = u;
}

/* A message held in the sealed memfd fd (taken over). */
struct qmsg *qmsg_new_fd(int fd, size_t len)
{
	struct qmsg *m = qmsg_new(NULL, 0);
	void *map = MAP_FAILED;

	if (m != NULL && len > 0)
		map = mmap(NULL, len, PROT_READ, MAP_SHARED, fd, 0);
	if (m == NULL || (len > 0 && map == MAP_FAILED)) {
		qmsg_free(m);
		close(fd);
		return NULL;
	}
	m->fd = fd;
	m->map = len > 0 ? map : NULL;
	m->len = len;
	qmsg_nbytes += len;
	qmsg_mem += len;   /* its pages, on top of the block (max-bytes) */
	qmsg_nfds++;
	return m;
}

/* A stand-in sending m's descriptor while m stays held. */
struct qmsg *qmsg_lend(const struct qmsg *m)
{
	struct qmsg *l = qmsg_new(NULL, 0);
	int fd = l != NULL ? fcntl(m->fd, F_DUPFD_CLOEXEC, 0) : -1;

	if (fd < 0) {
		qmsg_free(l);
		return NULL;
	}
	l->fd = fd;
	l->lent = 1;
	l->map = m->map;
	l->len = m->len;
	qmsg_nfds++;
	return l;
}

/* Memfd descriptors held by live messages. */
size_t qmsg_live_fds(void)
{
	return qmsg_nfds;
}

/* Unmap and close m's memfd; m becomes an empty inline message. */
static void qmsg_drop_fd(struct qmsg *m)
{
	if (m->map != NULL && !m->lent)
		munmap((void *)m->map, m->len);
	close(m->fd);
	qmsg_nfds--;
	if (!m->lent) {
		qmsg_nbytes -= m->len;
		qmsg_mem -= m->len;
	}
	m->lent = 0;
	m->fd = -1;
	m->map = NULL;
	m->len = 0;
}

/* Free a message (NULL is fine), giving back its charge. */
void qmsg_free(struct qmsg *m)
{
	size_t len;

	if (!m)
		return;
	len = m->len;
	quota_uncharge(m->charge, QUOTA_BYTES, qmsg_footprint(len));
	if (m->fd >= 0)
		qmsg_drop_fd(m);    /* len is 0 now: its block is a small one */
	else if (m->shared)
		qframe_put(qframes[m->held_off]);
	else if (m->map != NULL)
		free((void *)(m->map - m->held_off));
	qmsg_nbytes -= m->len;
	qmsg_mem -= qmsg_footprint(m->len);
	if (m->slab) {
		qchunk_put(qchunk_of(m));
		return;
	}
	if ((m->len <= QMSG_SMALL || m->map != NULL) && qmsg_ncache < QMSG_CACHE_MAX) {
		m->next = qmsg_cache;
		qmsg_cache = m;
		qmsg_ncache++;
		return;
	}
	free(m);
}

/* Give the free list's blocks back to malloc. */
void qmsg_cache_drain(void)
{
	struct qmsg *m;

	while ((m = qmsg_cache) != NULL) {
		qmsg_cache = m->next;
		free(m);
	}
	qmsg_ncache = 0;
}

/* Payload bytes of all messages not yet freed. */
size_t qmsg_live_bytes(void)
{
	return qmsg_nbytes;
}

/* Footprint of all messages not yet freed. */
size_t qmsg_live_mem(void)
{
	return qmsg_mem;
}

/* Make every qmsg_new() from the nth on fail (0: none). */
void qmsg_fail_from(unsigned long n)
{
	qmsg_fail_in = n;
}
