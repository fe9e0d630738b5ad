/* SPDX-License-Identifier: MIT */
/*
 * batch.c: several messages per request (QPUTN, QGETN, PSENDN, PRECVN).
 *
 * A batch put sends as many messages per request as a frame holds (at
 * most IPC_BATCH_MAX); the daemon takes a prefix of each, as much as
 * fits, and says how many, so the library goes on with the rest until
 * all are taken or the timeout runs out. A batch get returns what one
 * reply carries, pointing into the handle's receive buffer.
 */
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "backend.h"
#include "client_int.h"

/* Room a batch request's frame has for payloads: the frame minus its
 * name, header fields and array headers. */
#define BATCH_ROOM (PROTO_FRAME_MAX - 256u)

/* Milliseconds on the monotonic clock. */
static long long batch_now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (long long)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* The timeout left for the next request of a call that started with
 * timeout_ms and must end by deadline. */
static int batch_left(int timeout_ms, long long deadline)
{
	long long left;

	if (timeout_ms <= 0)
		return timeout_ms;
	left = deadline - batch_now_ms();
	return left > 0 ? (int)left : 0;
}

/* Check a batch to send: every message fits the daemon's limit. */
static int batch_check_msgs(struct ipc_client *c, const struct ipc_msg *msgs, size_t n)
{
	size_t i;

	if (!msgs && n) {
		client_seterr(c, "no messages");
		return IPC_EINVAL;
	}
	for (i = 0; i < n; i++) {
		if (msgs[i].len > client_payload_max(c, msgs[i].len)) {
			client_seterr(c, "message %zu of %zu bytes over the limit of %zu",
				      i, msgs[i].len, client_payload_max(c, msgs[i].len));
			return IPC_ETOOBIG;
		}
		if (!msgs[i].data && msgs[i].len) {
			client_seterr(c, "message %zu has no data", i);
			return IPC_EINVAL;
		}
	}
	return 0;
}

/* Fill iov with the longest prefix of msgs[0..n) one request carries
 * (a memfd payload takes a marker's bytes, and a descriptor). */
static size_t batch_chunk(const struct ipc_client *c, const struct ipc_msg *msgs,
			  size_t n, struct proto_iov *iov)
{
	size_t k, used = 0, fds = 0;
	int memfd;

	for (k = 0; k < n && k < IPC_BATCH_MAX; k++) {
		memfd = client_memfd_fits(c, msgs[k].len);
		used += memfd ? PROTO_MEMFD_MARK_LEN : proto_bin_cost(msgs[k].len);
		fds += (size_t)memfd;
		if (k > 0 && (used > BATCH_ROOM || fds > PROTO_FRAME_FDS_MAX))
			break;
		iov[k].base = msgs[k].data ? msgs[k].data : (const void *)"";
		iov[k].len = msgs[k].len;
		iov[k].memfd = 0;
	}
	return k;
}

/* Put msgs in order with one request per chunk (req has op, name and,
 * for pipes, end set); *nput says how many were taken. */
static int batch_put(struct ipc_client *c, struct proto_req *req,
		     const struct ipc_msg *msgs, size_t n, size_t *nput, int timeout_ms)
{
	struct proto_iov iov[IPC_BATCH_MAX];
	long long deadline = batch_now_ms() + (timeout_ms > 0 ? timeout_ms : 0);
	struct proto_rep rep;
	size_t done = 0, k;
	int rc = 0;

	while (done < n) {
		k = batch_chunk(c, msgs + done, n - done, iov);
		req->iov = iov;
		req->niov = k;
		req->timeout_ms = batch_left(timeout_ms, deadline);
		rc = client_request(c, req, &rep);
		if (rc)
			break;
		if (rep.count > k) {
			client_seterr(c, "daemon took %u of %zu messages", rep.count, k);
			rc = client_fail(c, IPC_EPROTO);
			break;
		}
		/* Not all taken: the next request, for the rest, takes what
		 * fits then, or is answered why none does (Full, no space,
		 * too big, a limit), waiting per the time left. */
		done += rep.count;
	}
	if (nput)
		*nput = done;
	return rc;
}

/* Put several messages, in order; see ipcclient.h. */
IPC_EXPORT int ipc_queue_put_many(ipc_client *c, const char *name, const struct ipc_msg *msgs,
				  size_t n, size_t *nput, int timeout_ms)
{
	struct proto_req req = { .op = PROTO_OP_QPUTN, .timeout_ms = timeout_ms };
	int rc;

	if (nput)
		*nput = 0;
	if ((rc = client_prep(c, name, &req, CLIENT_PREP_TIMEOUT)) ||
	    (rc = batch_check_msgs(c, msgs, n)))
		return rc;
	if (c->ops)
		return CLIENT_BACKEND(c, put_many, name, msgs, n, nput, timeout_ms);
	return batch_put(c, &req, msgs, n, nput, timeout_ms);
}

/* Put several messages without waiting for the replies; see ipcclient.h. */
IPC_EXPORT int ipc_queue_put_many_async(ipc_client *c, const char *name,
					const struct ipc_msg *msgs, size_t n, int timeout_ms)
{
	struct proto_req req = { .op = PROTO_OP_QPUTN, .timeout_ms = timeout_ms };
	struct proto_iov iov[IPC_BATCH_MAX];
	size_t done = 0;
	int rc;

	if ((rc = client_prep(c, name, &req, CLIENT_PREP_TIMEOUT)) ||
	    (rc = batch_check_msgs(c, msgs, n)))
		return rc;
	if (c->ops)
		return CLIENT_BACKEND(c, put_many_async, name, msgs, n, timeout_ms);
	while (done < n) {
		if ((rc = client_window_room(c)))
			return rc;
		req.niov = batch_chunk(c, msgs + done, n - done, iov);
		req.iov = iov;
		if ((rc = client_send(c, &req, 1)))
			return rc;
		done += req.niov;
	}
	return 0;
}

/* Check what a batch get asks for. */
static int batch_check_get(struct ipc_client *c, struct ipc_msg *msgs, size_t max,
			   size_t *n)
{
	if (!msgs || !n || max < 1 || max > IPC_BATCH_MAX) {
		client_seterr(c, "a batch get takes 1..%d messages", IPC_BATCH_MAX);
		return IPC_EINVAL;
	}
	return 0;
}

/* One batch get request; the messages point into the receive buffer. */
int client_batch_get(struct ipc_client *c, struct proto_req *req,
		     struct ipc_msg *msgs, size_t max, size_t *n)
{
	struct proto_rep rep;
	size_t i;
	int rc;

	req->max = (uint32_t)max;
	rc = client_request(c, req, &rep);
	if (rc)
		return rc;
	if (rep.niov > max) {
		client_seterr(c, "batch reply of %zu messages, %zu asked for",
			      rep.niov, max);
		return client_fail(c, IPC_EPROTO);
	}
	for (i = 0; i < rep.niov; i++) {
		msgs[i].data = rep.iov[i].base;
		msgs[i].len = rep.iov[i].len;
	}
	*n = rep.niov;
	return 0;
}

/* Get up to max messages; see ipcclient.h. */
IPC_EXPORT int ipc_queue_get_many(ipc_client *c, const char *name, struct ipc_msg *msgs,
				  size_t max, size_t *n, int timeout_ms)
{
	struct proto_req req = { .op = PROTO_OP_QGETN, .timeout_ms = timeout_ms };
	int rc;

	if (n)
		*n = 0;
	if ((rc = client_prep(c, name, &req, CLIENT_PREP_TIMEOUT)) ||
	    (rc = batch_check_get(c, msgs, max, n)))
		return rc;
	if (c->ops)
		return CLIENT_BACKEND(c, get_many, name, msgs, max, n, timeout_ms);
	/* Messages read ahead left the queue first: they come first. */
	if (c->readahead && (rc = client_readahead_many(c, name, -1, msgs, max, n,
							timeout_ms)) != CLIENT_NO_READAHEAD)
		return rc;
	return client_batch_get(c, &req, msgs, max, n);
}

/* Send several messages from a pipe end; see ipcclient.h. */
IPC_EXPORT int ipc_pipe_send_many(ipc_client *c, const char *name, int end,
				  const struct ipc_msg *msgs, size_t n, size_t *nsent,
				  int timeout_ms)
{
	struct proto_req req = { .op = PROTO_OP_PSENDN, .end = (uint32_t)end };
	int rc;

	if (nsent)
		*nsent = 0;
	if ((rc = client_check(c)) || (rc = client_check_name(c, name)) ||
	    (rc = client_check_end(c, end)) ||
	    (rc = client_check_timeout(c, timeout_ms)) ||
	    (rc = batch_check_msgs(c, msgs, n)))
		return rc;
	if (c->ops)
		return CLIENT_BACKEND(c, pipe_send_many, name, end, msgs, n, nsent, timeout_ms);
	strcpy(req.name, name);
	return batch_put(c, &req, msgs, n, nsent, timeout_ms);
}

/* Receive up to max messages at a pipe end; see ipcclient.h. */
IPC_EXPORT int ipc_pipe_recv_many(ipc_client *c, const char *name, int end,
				  struct ipc_msg *msgs, size_t max, size_t *n,
				  int timeout_ms)
{
	struct proto_req req = { .op = PROTO_OP_PRECVN, .end = (uint32_t)end,
				 .timeout_ms = timeout_ms };
	int rc;

	if (n)
		*n = 0;
	if ((rc = client_check(c)) || (rc = client_check_name(c, name)) ||
	    (rc = client_check_end(c, end)) ||
	    (rc = client_check_timeout(c, timeout_ms)) ||
	    (rc = batch_check_get(c, msgs, max, n)))
		return rc;
	if (c->ops)
		return CLIENT_BACKEND(c, pipe_recv_many, name, end, msgs, max, n, timeout_ms);
	if (c->readahead && (rc = client_readahead_many(c, name, end, msgs, max, n,
							timeout_ms)) != CLIENT_NO_READAHEAD)
		return rc;
	strcpy(req.name, name);
	return client_batch_get(c, &req, msgs, max, n);
}

/* Give msgs back to the head of queue name, the last chunk first so that
 * the queue has them in order; see client_int.h. */
int client_unget(struct ipc_client *c, const char *name, const struct ipc_msg *msgs,
		 size_t n)
{
	struct proto_iov iov[IPC_BATCH_MAX];
	struct proto_req req = { .op = PROTO_OP_QUNGET };
	struct proto_rep rep;
	size_t *ends = malloc(n * sizeof(*ends)), nchunks = 0, start;
	int rc = 0;

	if (!ends) {
		client_seterr(c, "out of memory");
		return IPC_ENOMEM;
	}
	for (start = 0; start < n; start = ends[nchunks++])
		ends[nchunks] = start + batch_chunk(c, msgs + start, n - start, iov);
	strcpy(req.name, name);
	while (rc == 0 && nchunks-- > 0) {
		start = nchunks ? ends[nchunks - 1] : 0;
		req.iov = iov;
		req.niov = batch_chunk(c, msgs + start, ends[nchunks] - start, iov);
		rc = client_request(c, &req, &rep);
	}
	free(ends);
	return rc;
}

/* Give messages back to the head of a queue; see ipcclient.h. */
IPC_EXPORT int ipc_queue_unget(ipc_client *c, const char *name, const struct ipc_msg *msgs,
			       size_t n)
{
	int rc;

	if ((rc = client_check(c)) || (rc = client_check_name(c, name)) ||
	    (rc = batch_check_msgs(c, msgs, n)))
		return rc;
	if (c->ops)
		return client_notsup(c, "ipc_queue_unget");
	return n ? client_unget(c, name, msgs, n) : 0;
}
