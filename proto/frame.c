/* SPDX-License-Identifier: MIT */
/*
 * frame.c: finding frame boundaries in a byte stream.
 */
#include "proto.h"

/* Length of the complete frame at the head of buf, 0 if more is needed. */
long proto_frame_peek(const unsigned char *buf, size_t len, size_t max)
{
	uint32_t plen;

	if (len < PROTO_FRAME_HDR)
		return 0;
	plen = (uint32_t)buf[0] << 24 | (uint32_t)buf[1] << 16 |
	       (uint32_t)buf[2] << 8 | (uint32_t)buf[3];
	if (plen == 0 || plen > max)
		return IPC_EPROTO;
	if (len - PROTO_FRAME_HDR < plen)
		return 0;
	return (long)(PROTO_FRAME_HDR + plen);
}

/* Skip the array header at the head of p[0..n): its length, or 0. */
static size_t peek_array(const unsigned char *p, size_t n)
{
	if (n >= 1 && p[0] >= 0x92 && p[0] <= 0x9f)
		return 1;           /* fixarray of 2..15 */
	if (n >= 3 && p[0] == 0xdc)
		return 3;           /* array 16 */
	if (n >= 5 && p[0] == 0xdd)
		return 5;           /* array 32 */
	return 0;
}

/* The uint of any width at p[*off..n) holding at most 32 bits, *off moved
 * past it: 0, or IPC_EPROTO. */
static int peek_u32(const unsigned char *p, size_t n, size_t *off, uint32_t *out)
{
	size_t o = *off;
	uint64_t v = 0;
	unsigned w, i;

	if (o >= n)
		return IPC_EPROTO;
	if (p[o] <= 0x7f) {
		*out = p[o];
		*off = o + 1;
		return 0;
	}
	if (p[o] < 0xcc || p[o] > 0xcf)
		return IPC_EPROTO;
	w = 1u << (p[o] - 0xcc);  /* uint8, 16, 32, 64 */
	if (n - o - 1 < w)
		return IPC_EPROTO;
	for (i = 0; i < w; i++)
		v = v << 8 | p[o + 1 + i];
	if (v > UINT32_MAX)
		return IPC_EPROTO;
	*out = (uint32_t)v;
	*off = o + 1 + w;
	return 0;
}

/* The id at the head of a reply payload: an array, then a uint of any
 * width holding at most 32 bits. */
int proto_rep_peek_id(const unsigned char *p, size_t n, uint32_t *id)
{
	size_t off = peek_array(p, n);

	return off == 0 ? IPC_EPROTO : peek_u32(p, n, &off, id);
}

/* Skip the integer of any width and sign at p[*off..n): 0, or IPC_EPROTO. */
static int peek_skip_int(const unsigned char *p, size_t n, size_t *off)
{
	size_t o = *off, w;

	if (o >= n)
		return IPC_EPROTO;
	if (p[o] <= 0x7f || p[o] >= 0xe0)
		w = 0;                          /* positive or negative fixint */
	else if (p[o] >= 0xcc && p[o] <= 0xd3)
		w = 1u << ((p[o] - 0xcc) & 3);  /* uint8..64, int8..64 */
	else
		return IPC_EPROTO;
	if (n - o - 1 < w)
		return IPC_EPROTO;
	*off = o + 1 + w;
	return 0;
}

/* The id of a request payload [op, id, ...]: an array, an integer op,
 * then the id, a uint holding at most 32 bits. */
int proto_req_peek_id(const unsigned char *p, size_t n, uint32_t *id)
{
	size_t off = peek_array(p, n);

	if (off == 0 || peek_skip_int(p, n, &off))
		return IPC_EPROTO;
	return peek_u32(p, n, &off, id);
}
