/* SPDX-License-Identifier: MIT */
/*
 * qmsg.c: a held message, one allocation for header and payload.
 *
 * Small messages (payload up to QMSG_SMALL bytes), the common case, come
 * from a free list of equal blocks: a put and the get that follows cost
 * no malloc/free at all once the list is warm. The list keeps at most
 * QMSG_CACHE_MAX blocks (about 1 MiB); beyond that blocks go back to
 * malloc, so a burst does not pin memory for good.
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
	if (!m)
		return NULL;
	m->next = NULL;
	m->charge = NULL;
	m->jid = 0;
	m->deliveries = 0;
	m->held_off = 0;
	m->len = len;
	m->fd = -1;
	m->lent = 0;
	m->map = NULL;
	qmsg_nbytes += len;
	qmsg_mem += qmsg_footprint(len);
	return m;
}

/* Copy len bytes into a new message; NULL when out of memory. */
struct qmsg *qmsg_new(const void *data, size_t len)
{
	struct qmsg *m = qmsg_make(len, len);

	if (m != NULL && len)
		memcpy(m->data, data, len);
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
	else if (m->map != NULL)
		free((void *)(m->map - m->held_off));
	qmsg_nbytes -= m->len;
	qmsg_mem -= qmsg_footprint(m->len);
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
