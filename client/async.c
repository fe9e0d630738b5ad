/* SPDX-License-Identifier: MIT */
/*
 * async.c: pipelining on one connection. Async puts go out without
 * waiting for their replies (held in tx and written in runs: client.c),
 * at most a window of them in flight; their
 * replies are read whenever the handle reads (the window is full, a
 * blocking call waits for its own reply, ipc_flush) and the first failure
 * is kept for ipc_flush(). Read-ahead, the consumer's side of it, is in
 * readahead.c.
 */
#include <errno.h>
#include <poll.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "backend.h"
#include "client_int.h"

/* Make room for one more async request: with the window (or
 * CLIENT_WINDOW_BYTES) full, settle replies until at most half of it is
 * in flight. Waiting for half rather than one slot lets the daemon read a
 * run of requests per wakeup and answer them in one write, instead of one
 * request per round trip. */
int client_window_room(struct ipc_client *c)
{
	struct proto_rep rep;
	int rc;

	if (c->nasync < c->window && c->async_bytes < CLIENT_WINDOW_BYTES)
		return 0;
	while (c->nasync > c->window / 2 || c->async_bytes > CLIENT_WINDOW_BYTES / 2)
		if ((rc = client_wait(c, 0, &rep)))
			return rc;
	return 0;
}

/* Put one message without waiting for the reply; see ipcclient.h. */
IPC_EXPORT int ipc_queue_put_async(ipc_client *c, const char *name, const void *data,
				   size_t len, int timeout_ms)
{
	struct proto_req req = { .op = PROTO_OP_QPUT, .data = data,
				 .data_len = len, .timeout_ms = timeout_ms };
	int rc;

	if ((rc = client_prep(c, name, &req, CLIENT_PREP_TIMEOUT | CLIENT_PREP_DATA)))
		return rc;
	if (c->ops)
		return CLIENT_BACKEND(c, put_async, name, data, len, timeout_ms);
	if ((rc = client_window_room(c)))
		return rc;
	return client_send(c, &req, 1);
}

/* Wait until the socket is readable, at most until end (monotonic ms,
 * -1 never): 0 readable, IPC_EFULL at the end or when a signal came (the
 * caller may have a handler to run), or fatal. */
static int async_poll(struct ipc_client *c, int64_t end)
{
	struct pollfd pfd = { .fd = c->fd, .events = POLLIN };
	int64_t left = end < 0 ? -1 : end - client_now_ms();
	int n;

	if (end >= 0 && left <= 0)
		return IPC_EFULL;
	n = poll(&pfd, 1, left > INT32_MAX ? INT32_MAX : (int)left);
	if (n < 0 && errno != EINTR)
		return client_fail_errno(c, "poll", errno);
	return n <= 0 ? IPC_EFULL : 0;
}

/* Read async replies until at most max are in flight; see ipcclient.h. */
IPC_EXPORT int ipc_async_wait(ipc_client *c, unsigned max, int timeout_ms)
{
	int64_t end = timeout_ms < 0 ? -1 : client_now_ms() + timeout_ms;
	struct proto_rep rep;
	int rc;

	if ((rc = client_check(c)) || (rc = client_check_timeout(c, timeout_ms)))
		return rc;
	if (c->ops)
		return client_notsup(c, "async_wait");
	if ((rc = client_push(c)))
		return rc;
	while (c->nasync > max) {
		/* Poll first so that the wait ends in time: a reply that has
		 * begun to come is then read whole. */
		if (!client_has_input(c) && (rc = async_poll(c, end)))
			return rc;
		if ((rc = client_wait(c, 0, &rep)))
			return rc;
	}
	return 0;
}

/* Hand out the first failure kept since the last flush, and forget it. */
static int async_report(struct ipc_client *c)
{
	int rc = c->async_rc;

	if (rc)
		client_seterr(c, "%s", c->async_err);
	c->async_rc = 0;
	return rc;
}

/* The first failure among the async replies read so far; see ipcclient.h. */
IPC_EXPORT int ipc_async_error(ipc_client *c)
{
	int rc = client_check(c);

	if (!rc && c->ops)
		return client_notsup(c, "async_error");
	return rc ? rc : async_report(c);
}

/* Wait for every async reply; the first failure; see ipcclient.h. */
IPC_EXPORT int ipc_flush(ipc_client *c)
{
	struct proto_rep rep;
	int rc;

	if ((rc = client_check(c)))
		return rc;
	if (c->ops)
		return c->ops->flush ? c->ops->flush(c) : client_notsup(c, "flush");
	while (c->nasync > 0)
		if ((rc = client_wait(c, 0, &rep)))
			return rc;
	rc = async_report(c);
	c->async_seq = 0;
	c->flush_notput = c->async_notput;
	c->async_notput = 0;
	return rc;
}

/* Write held async requests, waiting for no reply; see ipcclient.h. */
IPC_EXPORT int ipc_push(ipc_client *c)
{
	int rc = client_check(c);

	if (!rc && c->ops)
		return c->ops->push ? c->ops->push(c) : client_notsup(c, "push");
	return rc ? rc : client_push(c);
}

/* Messages the last flush found not put; see ipcclient.h. */
IPC_EXPORT unsigned long long ipc_flush_notput(const ipc_client *c)
{
	return c ? c->flush_notput : 0;
}

/* Send one message from a pipe end without waiting; see ipcclient.h. */
IPC_EXPORT int ipc_pipe_send_async(ipc_client *c, const char *name, int end,
				   const void *data, size_t len, int timeout_ms)
{
	struct proto_req req = { .op = PROTO_OP_PSEND, .data = data,
				 .data_len = len, .timeout_ms = timeout_ms,
				 .end = (uint32_t)end };
	int rc;

	if ((rc = client_prep(c, name, &req, CLIENT_PREP_TIMEOUT | CLIENT_PREP_END |
			      CLIENT_PREP_DATA)))
		return rc;
	if (c->ops)
		return CLIENT_BACKEND(c, pipe_send_async, name, end, data, len, timeout_ms);
	if ((rc = client_window_room(c)))
		return rc;
	return client_send(c, &req, 1);
}

/* Bound the async requests in flight; see ipcclient.h. */
IPC_EXPORT int ipc_set_window(ipc_client *c, unsigned n)
{
	int rc;

	if ((rc = client_check(c)))
		return rc;
	if (n < 1 || n > IPC_WINDOW_MAX) {
		client_seterr(c, "window must be 1..%d", IPC_WINDOW_MAX);
		return IPC_EINVAL;
	}
	c->window = n;
	return 0;
}
