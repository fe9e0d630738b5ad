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

#endif
