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
