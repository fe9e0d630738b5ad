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

/* The id at the head of a reply payload: an array, then a uint of any
 * width holding at most 32 bits. */
int proto_rep_peek_id(const unsigned char *p, size_t n, uint32_t *id)
{
	size_t off;
	uint64_t v = 0;
	unsigned w, i;

	if (n >= 1 && p[0] >= 0x92 && p[0] <= 0x9f)
		off = 1;            /* fixarray of 2..15 */
	else if (n >= 3 && p[0] == 0xdc)
		off = 3;            /* array 16 */
	else if (n >= 5 && p[0] == 0xdd)
		off = 5;            /* array 32 */
	else
		return IPC_EPROTO;
	if (off >= n)
		return IPC_EPROTO;
	if (p[off] <= 0x7f) {
		*id = p[off];
		return 0;
	}
	if (p[off] < 0xcc || p[off] > 0xcf)
		return IPC_EPROTO;
	w = 1u << (p[off] - 0xcc);  /* uint8, 16, 32, 64 */
	if (n - off - 1 < w)
		return IPC_EPROTO;
	for (i = 0; i < w; i++)
		v = v << 8 | p[off + 1 + i];
	if (v > UINT32_MAX)
		return IPC_EPROTO;
	*id = (uint32_t)v;
	return 0;
}
