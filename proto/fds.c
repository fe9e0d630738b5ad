/* SPDX-License-Identifier: MIT */
/*
 * fds.c: the SCM_RIGHTS ancillary data that carries memfd descriptors
 * beside frames (PROTOCOL.md, *Large messages*), built and read over a
 * struct msghdr; the caller makes the sendmsg/recvmsg call.
 */
#include <string.h>
#include <sys/socket.h>

#include "proto.h"

/* Point mh's control data at cbuf holding fds[0..n) (none when n is 0
 * or cbuf is too small): how many it carries. */
size_t proto_fds_pack(struct msghdr *mh, void *cbuf, size_t cbuflen,
		      const int *fds, size_t n)
{
	size_t size = CMSG_SPACE(n * sizeof(int));
	struct cmsghdr *cm;

	mh->msg_control = NULL;
	mh->msg_controllen = 0;
	if (n == 0 || size > cbuflen)
		return 0;
	memset(cbuf, 0, size);
	mh->msg_control = cbuf;
	mh->msg_controllen = size;
	cm = CMSG_FIRSTHDR(mh);
	cm->cmsg_level = SOL_SOCKET;
	cm->cmsg_type = SCM_RIGHTS;
	cm->cmsg_len = CMSG_LEN(n * sizeof(int));
	memcpy(CMSG_DATA(cm), fds, n * sizeof(int));
	return n;
}

/* Copy the descriptors of mh's SCM_RIGHTS into fds[0..max): how many
 * arrived (those past max are counted, not copied). */
size_t proto_fds_unpack(struct msghdr *mh, int *fds, size_t max)
{
	struct cmsghdr *cm;
	size_t n = 0, k, i;

	for (cm = CMSG_FIRSTHDR(mh); cm != NULL; cm = CMSG_NXTHDR(mh, cm)) {
		if (cm->cmsg_level != SOL_SOCKET || cm->cmsg_type != SCM_RIGHTS)
			continue;
		k = (cm->cmsg_len - CMSG_LEN(0)) / sizeof(int);
		for (i = 0; i < k; i++, n++)
			if (n < max)
				memcpy(&fds[n], CMSG_DATA(cm) + i * sizeof(int),
				       sizeof(int));
	}
	return n;
}
