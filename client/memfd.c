/* SPDX-License-Identifier: MIT */
/*
 * memfd.c: large messages as sealed memfds (PROTOCOL.md, *Large
 * messages*). A payload from the daemon's memfd_min up is written once
 * into a new memfd, sealed (write, shrink, grow, seal) and sent with
 * SCM_RIGHTS beside its request frame; the daemon hands the descriptor to
 * the consumer, whose library maps it read-only. A sealed memfd can never
 * be written again, so there is no pool to reuse: one memfd_create, one
 * write and one seal per message.
 *
 * Received descriptors wait in c->rxfds until the reply that marks them
 * is decoded; its payloads then point into read-only mappings, valid like
 * the receive buffer until the next read (ipc_queue_get_view keeps one).
 */
#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/uio.h>
#include <unistd.h>

#include "backend.h"
#include "client_int.h"
#include "sock.h"

/* The most received descriptors waiting for their replies. */
#define CLIENT_RXFDS_MAX 4096u
/* The seals every memfd payload carries. */
#define CLIENT_SEALS (F_SEAL_WRITE | F_SEAL_SHRINK | F_SEAL_GROW | F_SEAL_SEAL)

/* Does a payload of len bytes go as a memfd? */
int client_memfd_fits(const struct ipc_client *c, size_t len)
{
	return c->memfd_min > 0 && len >= c->memfd_min && len <= c->memfd_max;
}

/* The most bytes a payload may have on this handle. */
size_t client_payload_max(const struct ipc_client *c, size_t len)
{
	return c->memfd_min > 0 && len >= c->memfd_min ? c->memfd_max : c->msg_max;
}

/* Close fds[0..n). */
static void client_close_fds(const int *fds, size_t n)
{
	size_t i;

	for (i = 0; i < n; i++)
		close(fds[i]);
}

/* Room for k more received descriptors: 0 or -1. */
static int client_rxfds_reserve(struct ipc_client *c, size_t k)
{
	size_t cap = c->rxfds_cap ? c->rxfds_cap : 64;
	int *a;

	if (c->nrxfds + k > CLIENT_RXFDS_MAX)
		return -1;
	while (cap < c->nrxfds + k)
		cap *= 2;
	if (cap == c->rxfds_cap)
		return 0;
	if (!(a = realloc(c->rxfds, cap * sizeof(int))))
		return -1;
	c->rxfds = a;
	c->rxfds_cap = cap;
	return 0;
}

/* Keep fds[0..k), received with recvmsg flags: 0, or -1 (those closed). */
static int client_memfd_take(struct ipc_client *c, const int *fds, size_t k, int flags)
{
	if (k == 0 && !(flags & MSG_CTRUNC))
		return 0;
	if ((flags & MSG_CTRUNC) || client_rxfds_reserve(c, k) != 0) {
		client_close_fds(fds, k);
		return -1;
	}
	memcpy(c->rxfds + c->nrxfds, fds, k * sizeof(int));
	c->nrxfds += k;
	return 0;
}

/* recv() keeping the descriptors sent along. */
long client_memfd_recv(struct ipc_client *c, void *buf, size_t len, int flags)
{
	int fds[SOCK_FDS_MAX], mflags;
	size_t k;
	ssize_t n = sock_recv_fds(c->fd, buf, len, flags, fds, &k, &mflags);

	if (n < 0)
		return -1;
	if (client_memfd_take(c, fds, k, mflags) != 0) {
		errno = EPROTO;
		return -1;
	}
	return (long)n;
}

/* A new sealed memfd holding data[0..len), in c->txfds: 0, or
 * IPC_ELIMIT when the system refuses one (errno kept in the text). */
static int client_memfd_make(struct ipc_client *c, const unsigned char *data,
			     size_t len)
{
	int fd = memfd_create("ipcd-msg", MFD_CLOEXEC | MFD_ALLOW_SEALING);
	size_t off = 0;
	ssize_t n = 0;

	while (fd >= 0 && off < len) {
		n = pwrite(fd, data + off, len - off, (off_t)off);
		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0)
			break;
		off += (size_t)n;
	}
	if (fd < 0 || off < len || fcntl(fd, F_ADD_SEALS, CLIENT_SEALS) != 0) {
		client_seterr(c, "cannot make a memfd of %zu bytes: %s", len,
			      strerror(n == 0 && off < len ? ENOSPC : errno));
		if (fd >= 0)
			close(fd);
		return IPC_ELIMIT;
	}
	c->txfds[c->ntxfds++] = fd;
	return 0;
}

/* Turn a batch's large payloads into memfds (client_memfd_prepare). */
static int client_memfd_prepare_batch(struct ipc_client *c, struct proto_req *req)
{
	size_t i, n = req->niov;
	int rc;

	for (i = 0; i < n && !client_memfd_fits(c, req->iov[i].len); i++)
		;
	if (i == n)
		return 0;
	if (!c->memfd_iov && !(c->memfd_iov = malloc(IPC_BATCH_MAX * sizeof(*c->memfd_iov))))
		return client_fail(c, IPC_ENOMEM);
	memcpy(c->memfd_iov, req->iov, n * sizeof(*c->memfd_iov));
	for (; i < n && c->ntxfds < PROTO_FRAME_FDS_MAX; i++) {
		if (!client_memfd_fits(c, req->iov[i].len))
			continue;
		if ((rc = client_memfd_make(c, req->iov[i].base, req->iov[i].len)) != 0)
			return rc;
		c->memfd_iov[i].memfd = (uint32_t)c->ntxfds;
	}
	req->iov = c->memfd_iov;
	return 0;
}

/* Will client_memfd_prepare() make memfds for req? */
int client_memfd_wanted(const struct ipc_client *c, const struct proto_req *req)
{
	size_t i;

	if (c->memfd_min == 0)
		return 0;
	if (req->op == PROTO_OP_QPUT || req->op == PROTO_OP_QPUTR || req->op == PROTO_OP_PSEND)
		return client_memfd_fits(c, req->data_len);
	if (req->op != PROTO_OP_QPUTN && req->op != PROTO_OP_PSENDN)
		return 0;
	for (i = 0; i < req->niov; i++)
		if (client_memfd_fits(c, req->iov[i].len))
			return 1;
	return 0;
}

/* Turn req's large payloads into sealed memfds. */
int client_memfd_prepare(struct ipc_client *c, struct proto_req *req)
{
	int rc = 0;

	if (c->memfd_min == 0)
		return 0;
	if (req->op == PROTO_OP_QPUT || req->op == PROTO_OP_QPUTR || req->op == PROTO_OP_PSEND) {
		if (client_memfd_fits(c, req->data_len) &&
		    (rc = client_memfd_make(c, req->data, req->data_len)) == 0)
			req->data_memfd = 1;
	} else if (req->op == PROTO_OP_QPUTN || req->op == PROTO_OP_PSENDN) {
		rc = client_memfd_prepare_batch(c, req);
	}
	if (rc != 0)
		client_memfd_sent(c);
	return rc;
}

/* Attach c->txfds to mh. */
size_t client_memfd_attach(struct ipc_client *c, void *mhp, void *cbuf,
			   size_t cbuflen)
{
	return proto_fds_pack(mhp, cbuf, cbuflen, c->txfds, c->ntxfds);
}

/* The descriptors attached went out (the kernel holds them): close ours. */
void client_memfd_sent(struct ipc_client *c)
{
	client_close_fds(c->txfds, c->ntxfds);
	c->ntxfds = 0;
}

/* Keep a mapping in *list: 0 or IPC_ENOMEM. */
static int client_map_keep(struct client_map **list, size_t *n, size_t *cap,
			   const struct client_map *m)
{
	size_t ncap = *cap ? 2 * *cap : 8;
	struct client_map *a;

	if (*n == *cap) {
		if (!(a = realloc(*list, ncap * sizeof(*a))))
			return IPC_ENOMEM;
		*list = a;
		*cap = ncap;
	}
	(*list)[(*n)++] = *m;
	return 0;
}

/* Map fd's len bytes read-only into *base (kept in c->maps): 0 or fatal. */
static int client_memfd_map(struct ipc_client *c, int fd, size_t len,
			    const unsigned char **base)
{
	struct client_map m = { NULL, len, 1 };
	struct stat st;

	if (len == 0) {
		*base = (const unsigned char *)"";
		return 0;
	}
	if (fstat(fd, &st) != 0 || st.st_size < 0 || (size_t)st.st_size < len) {
		client_seterr(c, "bad reply: a memfd shorter than its message");
		return client_fail(c, IPC_EPROTO);
	}
	m.base = mmap(NULL, len, PROT_READ, MAP_SHARED | MAP_POPULATE, fd, 0);
	if (m.base == MAP_FAILED) {
		client_seterr(c, "cannot map a %zu-byte message: %s", len, strerror(errno));
		return client_fail(c, IPC_ENOMEM);
	}
	if (client_map_keep(&c->maps, &c->nmaps, &c->maps_cap, &m) != 0) {
		munmap(m.base, len);
		return client_fail(c, IPC_ENOMEM);
	}
	*base = m.base;
	return 0;
}

/* Map the memfd payloads a decoded reply marks. */
int client_memfd_claim(struct ipc_client *c, struct proto_rep *rep)
{
	struct proto_iov *iov = (struct proto_iov *)(uintptr_t)rep->iov;
	size_t i;
	int rc = 0;

	if (rep->nfds == 0)
		return 0;
	if (rep->nfds > c->nrxfds) {
		client_seterr(c, "bad reply: %u memfds named, %zu received",
			      (unsigned)rep->nfds, c->nrxfds);
		return client_fail(c, IPC_EPROTO);
	}
	if (rep->data_memfd)
		rc = client_memfd_map(c, c->rxfds[rep->data_memfd - 1], rep->data_len,
				      &rep->data);
	for (i = 0; rc == 0 && iov != NULL && i < rep->niov; i++)
		if (iov[i].memfd)
			rc = client_memfd_map(c, c->rxfds[iov[i].memfd - 1], iov[i].len,
					      &iov[i].base);
	client_close_fds(c->rxfds, rep->nfds);
	memmove(c->rxfds, c->rxfds + rep->nfds, (c->nrxfds - rep->nfds) * sizeof(int));
	c->nrxfds -= rep->nfds;
	return rc;
}

/* Unmap the mappings of the last reply. */
void client_memfd_release(struct ipc_client *c)
{
	while (c->nmaps > 0) {
		c->nmaps--;
		munmap(c->maps[c->nmaps].base, c->maps[c->nmaps].len);
	}
}

/* Free one held view. */
static void client_view_free(const struct client_map *m)
{
	if (m->mapped)
		munmap(m->base, m->len);
	else
		free(m->base);
}

/* Free everything memfd.c holds for c. */
void client_memfd_free(struct ipc_client *c)
{
	client_memfd_release(c);
	while (c->nviews > 0)
		client_view_free(&c->views[--c->nviews]);
	client_close_fds(c->rxfds, c->nrxfds);
	client_memfd_sent(c);
	free(c->rxfds);
	free(c->maps);
	free(c->views);
	free(c->memfd_iov);
}

/* Make the message p (of the last reply, or a malloc'd copy when
 * mapped is 0) a view the caller holds until ipc_msg_release. */
static int client_view_keep(struct ipc_client *c, void *p, size_t len, int mapped)
{
	struct client_map m = { p, len, mapped };
	size_t i;

	for (i = 0; mapped && i < c->nmaps && c->maps[i].base != p; i++)
		;
	if (mapped && i == c->nmaps)
		return IPC_EINVAL;
	if (client_map_keep(&c->views, &c->nviews, &c->views_cap, &m) != 0)
		return client_fail(c, IPC_ENOMEM);
	if (mapped)
		c->maps[i] = c->maps[--c->nmaps];
	return 0;
}

/* A get whose message is handed over as it is (memfd) or copied. */
static int client_get_view_wire(struct ipc_client *c, const char *name,
				const void **data, size_t *len, int timeout_ms)
{
	struct proto_req req = { .op = PROTO_OP_QGET, .timeout_ms = timeout_ms };
	struct proto_rep rep;
	void *copy;
	int rc;

	strcpy(req.name, name);
	if ((rc = client_request(c, &req, &rep)))
		return rc;
	if (rep.data_memfd && rep.data_len > 0 &&
	    client_view_keep(c, (void *)(uintptr_t)rep.data, rep.data_len, 1) == 0) {
		*data = rep.data;
		*len = rep.data_len;
		return 0;
	}
	if ((rc = client_copy_out(c, rep.data, rep.data_len, &copy, len)))
		return rc;
	*data = copy;
	return client_view_keep(c, copy, *len, 0);
}

/* Get one message without copying it; see ipcclient.h. */
IPC_EXPORT int ipc_queue_get_view(ipc_client *c, const char *name,
				  const void **data, size_t *len, int timeout_ms)
{
	void *copy = NULL;
	int rc;

	if ((rc = client_check(c)) || (rc = client_check_name(c, name)) ||
	    (rc = client_check_timeout(c, timeout_ms)) ||
	    (rc = client_check_place(c, (void **)(uintptr_t)data, len)))
		return rc;
	/* Read-ahead buffers and other backends hand out copies. */
	if (c->ops || c->readahead) {
		rc = ipc_queue_get(c, name, &copy, len, timeout_ms);
		if (rc == 0 && (rc = client_view_keep(c, copy, *len, 0)) != 0)
			free(copy);
		*data = rc == 0 ? copy : NULL;
		return rc;
	}
	return client_get_view_wire(c, name, data, len, timeout_ms);
}

/* Give back a message of ipc_queue_get_view; see ipcclient.h. */
IPC_EXPORT int ipc_msg_release(ipc_client *c, const void *data)
{
	size_t i;

	if (!c || !data)
		return IPC_EINVAL;
	for (i = 0; i < c->nviews && c->views[i].base != data; i++)
		;
	if (i == c->nviews) {
		client_seterr(c, "no message of ipc_queue_get_view() at %p", data);
		return IPC_EINVAL;
	}
	client_view_free(&c->views[i]);
	c->views[i] = c->views[--c->nviews];
	return 0;
}
