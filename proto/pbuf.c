/* SPDX-License-Identifier: MIT */
/*
 * pbuf.c: the growable byte buffer frames are built in and read into.
 */
#include <stdlib.h>
#include <string.h>

#include "proto.h"

#define PBUF_MIN_CAP 256

/* Set up an empty buffer. */
void pbuf_init(struct pbuf *b)
{
	b->data = NULL;
	b->len = 0;
	b->cap = 0;
}

/* Release a buffer's memory. */
void pbuf_free(struct pbuf *b)
{
	free(b->data);
	pbuf_init(b);
}

/* Make room for n more bytes, doubling the capacity as needed. */
int pbuf_reserve(struct pbuf *b, size_t n)
{
	return pbuf_reserve_upto(b, n, SIZE_MAX);
}

/* pbuf_reserve(), the capacity doubled no further than limit (when
 * limit leaves room for the n bytes). */
int pbuf_reserve_upto(struct pbuf *b, size_t n, size_t limit)
{
	size_t need, cap;
	unsigned char *p;

	if (n > SIZE_MAX - b->len)
		return IPC_ENOMEM;
	need = b->len + n;
	if (need <= b->cap)
		return 0;
	cap = b->cap ? b->cap : PBUF_MIN_CAP;
	while (cap < need)
		cap = cap > SIZE_MAX / 2 ? need : cap * 2;
	if (cap > limit && limit >= need)
		cap = limit;
	p = realloc(b->data, cap);
	if (p == NULL)
		return IPC_ENOMEM;
	b->data = p;
	b->cap = cap;
	return 0;
}

/* Append n bytes at the end. */
int pbuf_append(struct pbuf *b, const void *p, size_t n)
{
	if (n == 0)
		return 0;
	if (pbuf_reserve(b, n))
		return IPC_ENOMEM;
	memcpy(b->data + b->len, p, n);
	b->len += n;
	return 0;
}

/* Drop the first n bytes (consumed), keeping the rest. */
void pbuf_consume(struct pbuf *b, size_t n)
{
	if (n >= b->len) {
		b->len = 0;
		return;
	}
	memmove(b->data, b->data + n, b->len - n);
	b->len -= n;
}
