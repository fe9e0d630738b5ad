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
#include <string.h>

#include "qmsg.h"
#include "quota.h"

/* Payloads up to this many bytes get a block from the free list. */
#define QMSG_SMALL 112u
/* The most free blocks kept. */
#define QMSG_CACHE_MAX 8192u

/* Payload bytes of every message alive in the process (the daemon's
 * total, checked against its max-bytes limit). */
static size_t qmsg_bytes;
/* Free small blocks, linked through next, and how many. */
static struct qmsg *qmsg_cache;
static size_t qmsg_ncache;
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

/* Copy len bytes into a new message; NULL when out of memory. */
struct qmsg *qmsg_new(const void *data, size_t len)
{
	struct qmsg *m;

	if (len > SIZE_MAX - sizeof(*m))
		return NULL;
	if (qmsg_fail_in > 0 && --qmsg_fail_in == 0) {
		qmsg_fail_in = 1; /* and every one after */
		return NULL;
	}
	m = qmsg_alloc(len);
	if (!m)
		return NULL;
	m->next = NULL;
	m->charge = NULL;
	m->jid = 0;
	m->deliveries = 0;
	m->len = len;
	qmsg_bytes += len;
	if (len)
		memcpy(m->data, data, len);
	return m;
}

/* Charge m's footprint to u until m is freed. */
void qmsg_charge(struct qmsg *m, struct quota_user *u)
{
	quota_charge(u, QUOTA_BYTES, qmsg_footprint(m->len));
	m->charge = u;
}

/* Free a message (NULL is fine), giving back its charge. */
void qmsg_free(struct qmsg *m)
{
	if (!m)
		return;
	quota_uncharge(m->charge, QUOTA_BYTES, qmsg_footprint(m->len));
	qmsg_bytes -= m->len;
	if (m->len <= QMSG_SMALL && qmsg_ncache < QMSG_CACHE_MAX) {
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
	return qmsg_bytes;
}

/* Make every qmsg_new() from the nth on fail (0: none). */
void qmsg_fail_from(unsigned long n)
{
	qmsg_fail_in = n;
}

/* Bytes the daemon spends on a message of len payload bytes. */
size_t qmsg_footprint(size_t len)
{
	return sizeof(struct qmsg) + (len < QMSG_SMALL ? QMSG_SMALL : len);
}
