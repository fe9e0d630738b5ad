/* SPDX-License-Identifier: MIT */
/* memfd.c: descriptors in and out of a connection, and memfd messages. */
#include <assert.h>
#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/uio.h>
#include <unistd.h>

#include "conn.h"
#include "ipc_defs.h"
#include "log.h"
#include "memfd.h"
#include "proto.h"
#include "qmsg.h"
#include "server.h"
#include "sock.h"

/* Close fds[0..n). */
static void memfd_close_all(const int *fds, size_t n)
{
	size_t i;

	for (i = 0; i < n; i++)
		if (fds[i] >= 0)
			close(fds[i]);
}

/* Why c may not keep n more descriptors that came with flags, or NULL. */
static const char *memfd_refusal(const struct conn *c, size_t n, int flags)
{
	if (flags & MSG_CTRUNC)
		return "descriptors cut off (too many in one write)";
	if (!c->memfd)
		return "descriptors sent without the MEMFD capability";
	if (c->nfdq + n > MEMFD_FDQ_MAX)
		return "too many descriptors sent ahead of their frames";
	return NULL;
}

/* Append fds[0..n), received with recvmsg flags, to c->fdq: 0, or -1
 * once c is failed (and they are closed). */
static int memfd_take(struct conn *c, const int *fds, size_t n, int flags)
{
	const char *why;

	if (n == 0 && !(flags & MSG_CTRUNC))
		return 0;
	why = memfd_refusal(c, n, flags);
	if (why == NULL && (c->fdq_cap >= c->nfdq + n ||
			    (c->fdq = realloc(c->fdq, MEMFD_FDQ_MAX * sizeof(int))))) {
		c->fdq_cap = MEMFD_FDQ_MAX;
		memcpy(c->fdq + c->nfdq, fds, n * sizeof(int));
		c->nfdq += n;
		return 0;
	}
	memfd_close_all(fds, n);
	log_warn("conn %lu (pid %ld): %s; closing", c->id, (long)c->pid,
		 why ? why : "out of memory");
	conn_fail(c, 0, why ? IPC_EPROTO : IPC_ENOMEM, why ? why : "out of memory");
	return -1;
}

/* read() that keeps the descriptors sent along (memfd.h). */
ssize_t memfd_read(struct conn *c, void *buf, size_t len)
{
	struct iovec iov = { buf, len };

	return memfd_readv(c, &iov, 1);
}

/* memfd_read() into several buffers (memfd.h). */
ssize_t memfd_readv(struct conn *c, struct iovec *iov, size_t niov)
{
	int fds[SOCK_FDS_MAX], flags;
	size_t nfds;
	ssize_t n = sock_recv_fdsv(c->fd, iov, niov, MSG_DONTWAIT, fds, &nfds, &flags);

	if (n < 0)
		return n;
	if (memfd_take(c, fds, nfds, flags) != 0) {
		errno = EAGAIN;
		return -1;
	}
	return n;
}

/* Check a frame's descriptor count against those received. */
int memfd_frame_begin(struct conn *c, uint32_t id, uint32_t nfds)
{
	if (nfds <= c->nfdq)
		return 0;
	conn_fail(c, id, IPC_EPROTO, "frame names more descriptors than were "
		  "sent with it");
	return -1;
}

/* Close the frame's unclaimed descriptors and drop them from the FIFO. */
void memfd_frame_done(struct conn *c, uint32_t nfds)
{
	size_t n = nfds < c->nfdq ? nfds : c->nfdq;

	if (n == 0)
		return;
	memfd_close_all(c->fdq, n);
	memmove(c->fdq, c->fdq + n, (c->nfdq - n) * sizeof(int));
	c->nfdq -= n;
}

/* Descriptors left with no frame to claim them: fail c. */
int memfd_check_idle(struct conn *c)
{
	if (c->nfdq == 0)
		return 0;
	memfd_close_all(c->fdq, c->nfdq);
	c->nfdq = 0;
	log_warn("conn %lu (pid %ld): descriptors sent with no frame naming "
		 "them; closing", c->id, (long)c->pid);
	conn_fail(c, 0, IPC_EPROTO, "descriptors sent with no frame naming them");
	return -1;
}

/* Is fd a memfd sealed against write, shrink and grow, of len bytes? */
static int memfd_sealed(int fd, size_t len)
{
	struct stat st;
	int seals = fcntl(fd, F_GET_SEALS);

	if (seals < 0 || (seals & MEMFD_SEALS_NEEDED) != MEMFD_SEALS_NEEDED)
		return 0;
	return fstat(fd, &st) == 0 && S_ISREG(st.st_mode) && st.st_size >= 0 &&
	       (size_t)st.st_size == len;
}

/* Charge new message m to its putter c's uid (memfd.h). */
int memfd_charge(struct conn *c, struct qmsg *m)
{
	if (m == NULL)
		return IPC_ENOMEM;
	qmsg_charge(m, c->user);
	return 0;
}

/* A new message for a payload of the current frame (memfd.h). */
int memfd_msg_new(struct conn *c, const unsigned char *data, size_t len,
		  uint32_t memfd, struct qmsg **out)
{
	int fd;

	if (memfd == 0) {
		*out = qmsg_new(data, len);
		return memfd_charge(c, *out);
	}
	*out = NULL;
	assert(memfd <= c->nfdq);
	fd = c->fdq[memfd - 1];
	c->fdq[memfd - 1] = -1;
	if (fd < 0)
		return IPC_EINVAL;
	if (qmsg_live_fds() >= c->srv->cfg.max_memfds) {
		close(fd);
		return IPC_ELIMIT;
	}
	if (!memfd_sealed(fd, len)) {
		close(fd);
		return IPC_EINVAL;
	}
	*out = qmsg_new_fd(fd, len);
	return memfd_charge(c, *out);
}

/* A new message for the one payload of a QPUT or PSEND, taking the
 * frame's buffer over when it is a large frame read alone (a batch's
 * payloads share theirs instead: op_batch.c, batch_frame). */
static int memfd_msg_new_one(struct conn *c, const struct proto_req *r,
			     struct qmsg **out)
{
	void *b = r->data_memfd ? NULL : conn_take_frame(c, r->data, r->data_len, NULL);

	if (b == NULL)
		return memfd_msg_new(c, r->data, r->data_len, r->data_memfd, out);
	*out = qmsg_new_held(b, r->data, r->data_len);
	if (*out == NULL)
		free(b);
	return memfd_charge(c, *out);
}

/* Answer r with refusal rc of memfd_msg_new. */
static void memfd_refuse(struct conn *c, const struct proto_req *r, int rc)
{
	if (rc == IPC_ELIMIT)
		conn_reply_error(c, r->op, r->id, rc, "daemon limit reached: "
				 "max-memfds %zu", c->srv->cfg.max_memfds);
	else if (rc == IPC_EINVAL)
		conn_reply_error(c, r->op, r->id, rc, "memfd payload not sealed "
				 "(write, shrink, grow) or not of its length");
	else
		conn_reply_status(c, r->op, r->id, rc);
}

/* r's one payload as a new message (memfd.h). */
int memfd_req_msg(struct conn *c, const struct proto_req *r, struct qmsg **out)
{
	int rc = memfd_msg_new_one(c, r, out);

	if (rc == 0)
		return 0;
	memfd_refuse(c, r, rc);
	return -1;
}

/* Keep m until its descriptor is written to c: 0 or IPC_ENOMEM. */
static int memfd_out_push(struct conn *c, struct qmsg *m)
{
	size_t cap = c->fd_out_cap ? 2 * c->fd_out_cap : 16;
	struct qmsg **a;

	if (c->nfd_out == c->fd_out_cap) {
		a = realloc(c->fd_out, cap * sizeof(*a));
		if (a == NULL)
			return IPC_ENOMEM;
		c->fd_out = a;
		c->fd_out_cap = cap;
	}
	c->fd_out[c->nfd_out++] = m;
	return 0;
}

/* Can msgs[i] go to c as its descriptor, the frame's #k, at base? */
static int memfd_sendable(struct conn *c, struct qmsg *m, const void *base,
			  uint32_t k)
{
	return m != NULL && m->fd >= 0 && base == qmsg_bytes(m) &&
	       k < PROTO_FRAME_FDS_MAX && memfd_out_push(c, m) == 0;
}

/* The batch iov of a reply, with markers (memfd_rep). */
static struct proto_iov memfd_iov[IPC_BATCH_MAX];

/* 1 when one of msgs[0..n) is a memfd message. */
static int memfd_any(struct qmsg *const *msgs, size_t n)
{
	size_t i;

	for (i = 0; i < n; i++)
		if (msgs[i] != NULL && msgs[i]->fd >= 0)
			return 1;
	return 0;
}

/* Markers for the memfd messages of a reply to c (memfd.h). */
const struct proto_rep *memfd_rep(struct conn *c, const struct proto_rep *r,
				  struct qmsg **msgs, size_t n,
				  struct proto_rep *out)
{
	uint32_t k = 0;
	size_t i;

	/* Most replies carry none: r as it is, copied nowhere. */
	if (!c->memfd || n == 0 || r->status != 0 || !memfd_any(msgs, n))
		return r;
	*out = *r;
	if (r->iov == NULL && n == 1 && r->data_len == msgs[0]->len &&
	    memfd_sendable(c, msgs[0], r->data, 0)) {
		out->data_memfd = 1;
		out->data = NULL;
		msgs[0] = NULL;
		return out;
	}
	if (r->iov == NULL || r->niov != n || n > IPC_BATCH_MAX)
		return r;
	memcpy(memfd_iov, r->iov, n * sizeof(*memfd_iov));
	for (i = 0; i < n; i++) {
		if (!memfd_sendable(c, msgs[i], r->iov[i].base, k))
			continue;
		memfd_iov[i].memfd = ++k;
		memfd_iov[i].base = NULL;
		msgs[i] = NULL;
	}
	out->iov = memfd_iov;
	return out;
}

/* A stand-in carrying m's descriptor to c while m stays held. */
struct qmsg *memfd_lend(const struct conn *c, const struct qmsg *m)
{
	return c->memfd && m->fd >= 0 ? qmsg_lend(m) : NULL;
}

/* Bytes m takes in a reply to c. */
size_t memfd_cost(const struct conn *c, const struct qmsg *m)
{
	return c->memfd && m->fd >= 0 ? PROTO_MEMFD_MARK_LEN : proto_bin_cost(m->len);
}

/* 1 when m cannot reach c at all. */
int memfd_too_big(const struct conn *c, const struct qmsg *m)
{
	return m != NULL && !(c->memfd && m->fd >= 0) &&
	       proto_bin_cost(m->len) > PROTO_FRAME_MAX - 2 * PROTO_BATCH_REP_OVERHEAD;
}

/* Attach c's pending outgoing descriptors to mh. */
size_t memfd_out_attach(struct conn *c, struct msghdr *mh, void *cbuf,
			size_t cbuflen)
{
	size_t n = c->nfd_out < PROTO_FRAME_FDS_MAX ? c->nfd_out : PROTO_FRAME_FDS_MAX;
	int fds[PROTO_FRAME_FDS_MAX];
	size_t i;

	if (n == 0) {
		mh->msg_control = NULL;
		mh->msg_controllen = 0;
		return 0;
	}

	for (i = 0; i < n; i++)
		fds[i] = c->fd_out[i]->fd;
	return proto_fds_pack(mh, cbuf, cbuflen, fds, n);
}

/* The first n pending descriptors were sent: free their messages. */
void memfd_out_sent(struct conn *c, size_t n)
{
	size_t i;

	if (n == 0)
		return;
	for (i = 0; i < n; i++)
		qmsg_free(c->fd_out[i]);
	memmove(c->fd_out, c->fd_out + n, (c->nfd_out - n) * sizeof(*c->fd_out));
	c->nfd_out -= n;
}

/* Close and free every descriptor c holds. */
void memfd_conn_free(struct conn *c)
{
	memfd_close_all(c->fdq, c->nfdq);
	memfd_out_sent(c, c->nfd_out);
	free(c->fdq);
	free(c->fd_out);
	c->fdq = NULL;
	c->fd_out = NULL;
	c->nfdq = c->fdq_cap = c->fd_out_cap = 0;
}
