/* SPDX-License-Identifier: MIT */
/*
 * memfd.h: large messages as sealed memfds (PROTOCOL.md, *Large
 * messages*). A connection that negotiated PROTO_CAP_MEMFD sends
 * descriptors with SCM_RIGHTS; they wait in its FIFO (c->fdq) until the
 * frame whose markers name them is served, which turns each into a held
 * message (after checking its seals and size) or closes it. Replies to
 * such a connection carry memfd messages as markers and their descriptors
 * go with the next write. Every descriptor the daemon holds is in a FIFO,
 * a message (closed by qmsg_free) or c->fd_out: none can leak.
 */
#ifndef IPCD_MEMFD_H
#define IPCD_MEMFD_H

#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

struct conn;
struct msghdr;
struct proto_rep;
struct proto_req;
struct qmsg;

/* Descriptors one connection may have received and not yet had claimed:
 * one write's worth (SCM_MAX_FD) plus those of a frame not yet whole. */
#define MEMFD_FDQ_MAX 512u
/* The seals a memfd payload must carry. */
#define MEMFD_SEALS_NEEDED (F_SEAL_WRITE | F_SEAL_SHRINK | F_SEAL_GROW)

/* read() for c's socket that keeps descriptors sent with the bytes in
 * c->fdq: bytes read, 0 on EOF, -1 (errno; EAGAIN once c was failed for
 * descriptors it may not send, a truncated list or too many waiting). */
ssize_t memfd_read(struct conn *c, void *buf, size_t len);
/* memfd_read() scattering the bytes over iov[0..niov). */
struct iovec;
ssize_t memfd_readv(struct conn *c, struct iovec *iov, size_t niov);
/* Check a frame naming nfds descriptors against those received: 0, or
 * -1 once c was failed (IPC_EPROTO) for naming more than arrived. */
int memfd_frame_begin(struct conn *c, uint32_t id, uint32_t nfds);
/* The frame naming nfds descriptors was served: close those not claimed
 * and drop them from the FIFO. */
void memfd_frame_done(struct conn *c, uint32_t nfds);
/* No partial frame is left: descriptors still waiting came with no frame
 * to claim them; c is failed (IPC_EPROTO). 0, or -1 when failed. */
int memfd_check_idle(struct conn *c);
/* Charge new message m (NULL: none, out of memory) to its putter c's
 * uid (per-uid quotas): 0 or IPC_ENOMEM. */
int memfd_charge(struct conn *c, struct qmsg *m);
/* A new message for a payload of the current frame: inline data[0..len)
 * (memfd 0), or the frame's descriptor memfd - 1, checked (sealed
 * against write, shrink and grow, exactly len bytes) and within the
 * daemon's max-memfds. 0, IPC_ENOMEM, IPC_ELIMIT or IPC_EINVAL (the
 * descriptor is closed then). */
int memfd_msg_new(struct conn *c, const unsigned char *data, size_t len,
		  uint32_t memfd, struct qmsg **out);
/* memfd_msg_new for r's one payload (QPUT, PSEND; a large inline
 * payload alone in c's input buffer takes the buffer over, no copy): 0,
 * or -1 once r was answered with the refusal (a detail for the limits). */
int memfd_req_msg(struct conn *c, const struct proto_req *r, struct qmsg **out);
/* A reply to c owning msgs[0..n): with PROTO_CAP_MEMFD, the memfd
 * messages become markers in *out (a copy of r; its iov in static
 * storage, valid until the next call) and move to c->fd_out (msgs[j] set
 * NULL); r itself otherwise. */
const struct proto_rep *memfd_rep(struct conn *c, const struct proto_rep *r,
				  struct qmsg **msgs, size_t n,
				  struct proto_rep *out);
/* A stand-in carrying m's descriptor to c while m stays held (QGETA):
 * NULL when c takes no descriptors, m is inline, or none is left. */
struct qmsg *memfd_lend(const struct conn *c, const struct qmsg *m);
/* Bytes m takes in a reply to c: a marker's, or its bin's. */
size_t memfd_cost(const struct conn *c, const struct qmsg *m);
/* 1 when m (may be NULL) cannot reach c at all: c takes no descriptors
 * and m does not fit a frame. */
int memfd_too_big(const struct conn *c, const struct qmsg *m);
/* Attach c's pending outgoing descriptors to mh (cbuf: room for
 * PROTO_FRAME_FDS_MAX of them): how many. */
size_t memfd_out_attach(struct conn *c, struct msghdr *mh, void *cbuf,
			size_t cbuflen);
/* The first n pending descriptors were sent: free their messages. */
void memfd_out_sent(struct conn *c, size_t n);
/* Close and free every descriptor c holds (at its end). */
void memfd_conn_free(struct conn *c);

#endif
