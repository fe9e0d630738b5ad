/* SPDX-License-Identifier: MIT */
/* sock.c: socket calls the daemon and the client library share (sock.h). */
#include <sys/socket.h>
#include <sys/uio.h>

#include "proto.h"
#include "sock.h"

/* recvmsg() keeping the descriptors sent along (sock.h). */
ssize_t sock_recv_fds(int fd, void *buf, size_t len, int flags,
		      int *fds, size_t *nfds, int *mflags)
{
	struct iovec iov = { buf, len };

	return sock_recv_fdsv(fd, &iov, 1, flags, fds, nfds, mflags);
}

/* sock_recv_fds() into several buffers (sock.h). */
ssize_t sock_recv_fdsv(int fd, struct iovec *iov, size_t niov, int flags,
		       int *fds, size_t *nfds, int *mflags)
{
	union {
		struct cmsghdr h;
		char b[CMSG_SPACE(sizeof(int) * SOCK_FDS_MAX)];
	} cm;
	struct msghdr mh = { .msg_iov = iov, .msg_iovlen = niov,
			     .msg_control = cm.b, .msg_controllen = sizeof cm.b };
	ssize_t n = recvmsg(fd, &mh, flags | MSG_CMSG_CLOEXEC);

	*nfds = 0;
	*mflags = 0;
	if (n < 0)
		return n;
	*nfds = proto_fds_unpack(&mh, fds, SOCK_FDS_MAX);
	if (*nfds > SOCK_FDS_MAX)
		*nfds = SOCK_FDS_MAX;
	*mflags = mh.msg_flags;
	return n;
}

/* Raise fd's send buffer for large writes; see sock.h. */
void sock_sndbuf_fit(int fd, size_t pending, size_t most, int *raised)
{
	int v = SOCK_SNDBUF_BIG;

	if (*raised || pending < SOCK_SNDBUF_MIN || most < SOCK_SNDBUF_BIG)
		return;
	*raised = 1;
	(void)setsockopt(fd, SOL_SOCKET, SO_SNDBUF, &v, sizeof(v));
}
