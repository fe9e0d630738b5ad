/* SPDX-License-Identifier: MIT */
/*
 * qmsg.h: one message held by the daemon: a payload copied out of a frame,
 * linked into at most one queue or pipe at a time.
 */
#ifndef IPCD_QMSG_H
#define IPCD_QMSG_H

#include <stddef.h>
#include <stdint.h>

struct quota_user;

struct qmsg {
	struct qmsg *next;  /* next in the holder's FIFO */
	struct quota_user *charge; /* the putter's uid, charged with its
				      footprint until it is freed, or NULL */
	uint64_t jid;       /* its id in the journal (durable queues), else 0 */
	uint32_t deliveries; /* times delivered for acknowledgement in its
				current queue (dead-lettering counts them) */
	size_t len;
	unsigned char data[];
};

/* Copy len bytes into a new message; NULL when out of memory. */
struct qmsg *qmsg_new(const void *data, size_t len);
/* Charge m's footprint to u (the putter's uid) until m is freed. */
void qmsg_charge(struct qmsg *m, struct quota_user *u);
/* Free a message (NULL is fine), giving back its charge. */
void qmsg_free(struct qmsg *m);
/* Payload bytes of all messages created and not yet freed (queued,
 * parked, in flight): what the max-bytes limit bounds. */
size_t qmsg_live_bytes(void);
/* Give the blocks kept for reuse back to malloc (at exit; harmless any
 * time). */
void qmsg_cache_drain(void);
/* Bytes the daemon spends on a message of len payload bytes. */
size_t qmsg_footprint(size_t len);
/* Fault injection for tests: from the nth qmsg_new() on (1: the next
 * one), every qmsg_new() fails as if memory ran out; 0 turns it off.
 * ipcd sets it from $IPCD_TEST_FAIL_QMSG (ipcd(8)). */
void qmsg_fail_from(unsigned long n);

#endif
