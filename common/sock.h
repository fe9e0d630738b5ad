/* SPDX-License-Identifier: MIT */
/*
 * sock.h: socket calls the daemon and the client library share. proto/
 * makes no system calls (it builds and reads a struct msghdr); the calls
 * on a real socket that both sides make alike live here.
 */
#ifndef IPCD_SOCK_H
#define IPCD_SOCK_H

#include <stddef.h>
#include <sys/types.h>

/* The most descriptors one recvmsg can bring (the kernel's SCM_MAX_FD). */
#define SOCK_FDS_MAX 253

/* recvmsg() of up to len bytes into buf from fd, with flags and
 * MSG_CMSG_CLOEXEC: the bytes read (or -1 with errno). The descriptors
 * sent along go to fds[0..*nfds) (room for SOCK_FDS_MAX), now the
 * caller's to keep or close; *mflags gets the msghdr's flags (MSG_CTRUNC:
 * some were cut off). */
ssize_t sock_recv_fds(int fd, void *buf, size_t len, int flags,
		      int *fds, size_t *nfds, int *mflags);
/* sock_recv_fds() scattering the bytes over iov[0..niov). */
struct iovec;
ssize_t sock_recv_fdsv(int fd, struct iovec *iov, size_t niov, int flags,
		       int *fds, size_t *nfds, int *mflags);

/* A write of SOCK_SNDBUF_MIN bytes or more raises the socket's send
 * buffer to SOCK_SNDBUF_BIG (which the kernel doubles, bounded by
 * net.core.wmem_max): with the default 208 KiB a 1 MiB message crosses in
 * five pieces, each a wake-up of both sides and a few system calls. */
#define SOCK_SNDBUF_MIN (256u << 10)
#define SOCK_SNDBUF_BIG (1u << 20)

/* Raise fd's send buffer once (*raised remembers it) when a write of
 * pending bytes is due, unless the caller lets the kernel hold fewer than
 * SOCK_SNDBUF_BIG bytes (most); a refusal is ignored (the old buffer
 * works). */
void sock_sndbuf_fit(int fd, size_t pending, size_t most, int *raised);

#endif
