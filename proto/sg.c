/* SPDX-License-Identifier: MIT */
/*
 * sg.c: sending a buffer of frames whose large payloads were left out
 * (struct proto_hole) with scatter/gather writes, across short writes.
 * Pure bookkeeping: the caller does the sendmsg().
 */
#include <sys/uio.h>

#include "proto.h"

/* The bytes of the stream left to send, as iovecs: the count (<= max). */
int proto_sg_iov(const struct proto_sg *sg, const unsigned char *buf, size_t len,
		 const struct proto_hole *h, size_t nh, struct iovec *iov, int max)
{
	size_t pos = sg->pos, i = sg->hole, skip = sg->hsent, end;
	int k = 0;

	while (k < max && (pos < len || i < nh)) {
		if (i < nh && pos == h[i].off) {
			iov[k].iov_base = (void *)(h[i].base + skip);
			iov[k++].iov_len = h[i].len - skip;
			skip = 0;
			i++;
			continue;
		}
		end = i < nh ? h[i].off : len;
		iov[k].iov_base = (void *)(buf + pos);
		iov[k++].iov_len = end - pos;
		pos = end;
	}
	return k;
}

/* Account for n more bytes sent. */
void proto_sg_advance(struct proto_sg *sg, size_t n, size_t len,
		      const struct proto_hole *h, size_t nh)
{
	size_t take, end;

	while (n > 0 && (sg->pos < len || sg->hole < nh)) {
		if (sg->hole < nh && sg->pos == h[sg->hole].off) {
			take = h[sg->hole].len - sg->hsent;
			take = take < n ? take : n;
			sg->hsent += take;
			n -= take;
			if (sg->hsent == h[sg->hole].len) {
				sg->hole++;
				sg->hsent = 0;
			}
			continue;
		}
		end = sg->hole < nh ? h[sg->hole].off : len;
		take = end - sg->pos < n ? end - sg->pos : n;
		sg->pos += take;
		n -= take;
	}
}

/* Bytes left to send. */
size_t proto_sg_left(const struct proto_sg *sg, size_t len,
		     const struct proto_hole *h, size_t nh)
{
	size_t left = len - sg->pos, i;

	for (i = sg->hole; i < nh; i++)
		left += h[i].len;
	return left - sg->hsent;
}
