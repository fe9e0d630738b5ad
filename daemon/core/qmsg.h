/* SPDX-License-Identifier: MIT */
/*
 * qmsg.h: one message held by the daemon: a payload copied out of a frame,
 * linked into at most one queue or pipe at a time.
 */
#ifndef IPCD_QMSG_H
#define IPCD_QMSG_H

#include <stddef.h>
#include <stdint.h>

struct qmsg {
	struct qmsg *next;  /* next in the holder's FIFO */
	uint64_t jid;       /* its id in the journal (durable queues), else 0 */
	uint32_t deliveries; /* times delivered for acknowledgement in its
				current queue (dead-lettering counts them) */
	uint32_t len;       /* payload bytes (at most IPC_MSG_MAX); 32 bits so
			       the header stays 24 bytes, which every message
			       costs (qmsg_footprint) */
	unsigned char data[];
};

/* Copy len bytes into a new message; NULL when out of memory. */
struct qmsg *qmsg_new(const void *data, size_t len);
/* Free a message (NULL is fine). */
void qmsg_free(struct qmsg *m);
/* Payload bytes of all messages created and not yet freed (queued,
 * parked, in flight): what the max-bytes limit bounds. */
size_t qmsg_live_bytes(void);
/* The footprint (qmsg_footprint) of the same messages: what they cost
 * the daemon, headers and rounding included. */
size_t qmsg_live_mem(void);
/* Give the blocks kept for reuse back to malloc (at exit; harmless any
 * time). */
void qmsg_cache_drain(void);
/* Bytes the daemon spends on a message of len payload bytes: the
 * header, the payload (at least a small block's, QMSG_SMALL) and
 * malloc's own header and rounding. An empty message costs 144 bytes
 * on x86-64. What max-bytes counts per message. */
size_t qmsg_footprint(size_t len);
/* Fault injection for tests: from the nth qmsg_new() on (1: the next
 * one), every qmsg_new() fails as if memory ran out; 0 turns it off.
 * ipcd sets it from $IPCD_TEST_FAIL_QMSG (ipcd(8)). */
void qmsg_fail_from(unsigned long n);

#endif
