/* SPDX-License-Identifier: MIT */
/*
 * qmsg.h: one message held by the daemon: a payload copied out of a frame,
 * a large frame's own buffer taken over (never copied), or a sealed memfd
 * holding it (mapped read-only, never copied), linked
 * into at most one queue or pipe at a time. qmsg_free() is the one place
 * a held descriptor is closed.
 */
#ifndef IPCD_QMSG_H
#define IPCD_QMSG_H

#include <stddef.h>
#include <stdint.h>

struct quota_user;

/* Payloads up to this many bytes get a block from the free list. */
#define QMSG_SMALL 112u
/* What malloc adds to a block (glibc: one size word), and its rounding. */
#define QMSG_MALLOC_HDR 8u
#define QMSG_MALLOC_ALIGN 16u

struct qmsg {
	struct qmsg *next;  /* next in the holder's FIFO */
	struct quota_user *charge; /* the putter's uid, charged with its
				      footprint until it is freed, or NULL */
	uint64_t jid;       /* its id in the journal (durable queues), else 0 */
	uint32_t deliveries; /* times delivered for acknowledgement in its
				current queue (dead-lettering counts them) */
	uint32_t held_off;  /* a taken-over buffer (fd -1, map set): map is
			       this far into the malloc'd block */
	size_t len;
	int fd;             /* a sealed memfd holding the payload, or -1 */
	uint16_t lent;      /* a stand-in of qmsg_lend: map is another's */
	uint8_t slab;       /* its block is in a chunk of qmsg_new_bulk */
	uint8_t shared;     /* map lies in a frame shared with other messages
			       (qmsg_new_shared): held_off is its index */
	const unsigned char *map; /* the memfd's read-only mapping (len > 0),
				     or the payload in a taken-over buffer */
	unsigned char data[];     /* the payload, when map is NULL */
};

/* The payload bytes of m (inline, a taken-over buffer, or the memfd's
 * mapping). */
static inline const unsigned char *qmsg_bytes(const struct qmsg *m)
{
	return m->map != NULL ? m->map : m->data;
}

/* A FIFO of messages linked through next, with their totals: a queue's
 * ready messages, a pipe direction's buffer. */
struct qmsg_fifo {
	struct qmsg *head, *tail;   /* oldest first */
	size_t n;
	size_t bytes;               /* their payload */
	size_t mem;                 /* their qmsg_footprint */
};

/* Bytes the daemon spends on a message of len payload bytes: the
 * header, the payload (at least a small block's, QMSG_SMALL) and
 * malloc's own header and rounding. An empty message costs 176 bytes
 * on x86-64. What max-bytes counts per message. Inline: a put and its
 * get ask it half a dozen times per message (admit, charge, count,
 * uncharge). */
static inline size_t qmsg_footprint(size_t len)
{
	size_t n = sizeof(struct qmsg) + (len < QMSG_SMALL ? QMSG_SMALL : len);

	if (n > SIZE_MAX - QMSG_MALLOC_HDR - QMSG_MALLOC_ALIGN)
		return SIZE_MAX;
	n += QMSG_MALLOC_HDR + QMSG_MALLOC_ALIGN - 1;
	return n - n % QMSG_MALLOC_ALIGN;
}

/* Count m into f's totals. */
static inline void qmsg_fifo_add(struct qmsg_fifo *f, const struct qmsg *m)
{
	f->n++;
	f->bytes += m->len;
	f->mem += qmsg_footprint(m->len);
}

/* Count m out of f's totals. */
static inline void qmsg_fifo_sub(struct qmsg_fifo *f, const struct qmsg *m)
{
	f->n--;
	f->bytes -= m->len;
	f->mem -= qmsg_footprint(m->len);
}

/* Append m at the tail of f. */
static inline void qmsg_fifo_push(struct qmsg_fifo *f, struct qmsg *m)
{
	m->next = NULL;
	if (f->tail)
		f->tail->next = m;
	else
		f->head = m;
	f->tail = m;
	qmsg_fifo_add(f, m);
}

/* Put m back at the head of f. */
static inline void qmsg_fifo_unshift(struct qmsg_fifo *f, struct qmsg *m)
{
	m->next = f->head;
	f->head = m;
	if (!f->tail)
		f->tail = m;
	qmsg_fifo_add(f, m);
}

/* Unlink and return the head of f, or NULL when f is empty. */
static inline struct qmsg *qmsg_fifo_shift(struct qmsg_fifo *f)
{
	struct qmsg *m = f->head;

	if (m == NULL)
		return NULL;
	f->head = m->next;
	if (!f->head)
		f->tail = NULL;
	m->next = NULL;
	qmsg_fifo_sub(f, m);
	return m;
}

/* Append m to f, counting it in *in (a queue's puts, a pipe's sent). */
static inline void qmsg_fifo_put(struct qmsg_fifo *f, struct qmsg *m, uint64_t *in)
{
	qmsg_fifo_push(f, m);
	(*in)++;
}

/* Unlink f's head message (f not empty), counting it in *out (a
 * queue's gets, a pipe's received). */
static inline struct qmsg *qmsg_fifo_get(struct qmsg_fifo *f, uint64_t *out)
{
	(*out)++;
	return qmsg_fifo_shift(f);
}

/* Copy len bytes into a new message; NULL when out of memory. */
struct qmsg *qmsg_new(const void *data, size_t len);
/* A message whose len payload bytes are at data, inside block (malloc'd,
 * at most 4 GiB before data), which it takes over and frees: no copy.
 * NULL when out of memory (block is still the caller's). */
struct qmsg *qmsg_new_held(void *block, const unsigned char *data, size_t len);
/* Shared frames: a batch put's frame, read into a buffer of its own,
 * whose large payloads become messages pointing into it rather than
 * copies; the buffer is freed with the last of them. A message that
 * outlives the others keeps the whole frame, so the frames shared at
 * once are bounded (by the caller: ipcd gives a sixteenth of max-bytes,
 * on top of it, which counts each message's own footprint): past that,
 * payloads are copied as before. */
#define QFRAME_SHARE_DIV 16u
/* Payloads from this size up are shared; smaller ones are copied (one
 * 16-byte message must not keep an 8 MiB frame). */
#define QFRAME_SHARE_MIN (4u << 10)
struct qframe;
/* Share block (malloc'd, size bytes) among messages made from it with
 * qmsg_new_shared, then let go of it with qframe_put. NULL, with block
 * still the caller's, when the shared frames would hold more than limit
 * bytes, or out of memory. */
struct qframe *qframe_new(void *block, size_t size, size_t limit);
/* A message whose len payload bytes are at data inside f's block; NULL
 * when out of memory. */
struct qmsg *qmsg_new_shared(struct qframe *f, const unsigned char *data, size_t len);
/* Drop a reference to f (the maker's, once its messages are made; a
 * message's, by qmsg_free): the block is freed with the last. */
void qframe_put(struct qframe *f);
/* Bytes of shared frames not yet freed. */
size_t qframe_live_bytes(void);
/* qmsg_new for many messages made at once (recovery): a small one is
 * carved from a 2 MiB chunk, its small pages filled in by one call, so a
 * million of them cost no malloc calls and a few hundred system calls; a
 * chunk is unmapped when its last message is freed. qmsg_bulk_end()
 * ends the run. */
struct qmsg *qmsg_new_bulk(const void *data, size_t len);
/* The run of qmsg_new_bulk is over: the unused tail of the chunk being
 * carved goes back to the system. */
void qmsg_bulk_end(void);
/* Chunks of qmsg_new_bulk not yet unmapped. */
size_t qmsg_bulk_chunks(void);
/* Charge m's footprint to u (the putter's uid) until m is freed. */
void qmsg_charge(struct qmsg *m, struct quota_user *u);
/* A message whose len payload bytes are in the sealed memfd fd (checked
 * by the caller), which it takes over: mapped read-only, closed with the
 * message. NULL when out of memory or the mapping fails (fd closed). */
struct qmsg *qmsg_new_fd(int fd, size_t len);
/* A stand-in for the memfd message m, to send m's descriptor while m
 * stays held (in flight, peeked): a duplicate of the descriptor, m's
 * mapping (valid while m lives), counted in no byte total. NULL when
 * out of memory or descriptors. */
struct qmsg *qmsg_lend(const struct qmsg *m);
/* Memfd descriptors held by messages not yet freed. */
size_t qmsg_live_fds(void);
/* Free a message (NULL is fine), giving back its charge; a memfd's
 * descriptor is closed. */
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
/* Fault injection for tests: from the nth qmsg_new() on (1: the next
 * one), every qmsg_new() fails as if memory ran out; 0 turns it off.
 * ipcd sets it from $IPCD_TEST_FAIL_QMSG (ipcd(8)). */
void qmsg_fail_from(unsigned long n);

#endif
