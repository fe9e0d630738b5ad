/* SPDX-License-Identifier: MIT */
/*
 * getany.c: ipc_queue_get_any() and ipc_queue_get_any_ack(), a get from
 * the first non-empty of several queues, waiting on all of them at once
 * in the daemon (QGETANY). See ipcclient.h.
 */
#include <string.h>

#include "client_int.h"

/* Check a get_any's arguments and point req at the names: 0, or
 * IPC_EINVAL or IPC_ENAME with the handle's error text set. */
static int client_any_prep(struct ipc_client *c, const char *const *names,
			   size_t n, size_t *index, struct proto_iov *iov,
			   struct proto_req *req)
{
	size_t i;
	int rc;

	if ((rc = client_check(c)))
		return rc;
	if (names == NULL || n == 0 || n > IPC_GET_ANY_MAX || index == NULL) {
		client_seterr(c, "get_any takes 1..%d queue names and a place "
			      "for the index", IPC_GET_ANY_MAX);
		return IPC_EINVAL;
	}
	for (i = 0; i < n; i++) {
		if ((rc = client_check_name(c, names[i])))
			return rc;
		memset(&iov[i], 0, sizeof iov[i]);
		iov[i].base = (const unsigned char *)names[i];
		iov[i].len = strlen(names[i]);
	}
	req->names = iov;
	req->nnames = n;
	return client_check_timeout(c, (int)req->timeout_ms);
}

/* One QGETANY round trip: the message to the caller, *index (and *tag
 * with ack) from the reply. */
static int client_any_call(struct ipc_client *c, struct proto_req *req,
			   size_t *index, void **data, size_t *len,
			   uint64_t *tag)
{
	struct proto_rep rep;
	int rc;

	if ((rc = client_check_place(c, data, len)))
		return rc;
	if (c->ops)
		return client_notsup(c, "get_any");
	if ((rc = client_request_payload(c, req, &rep, data, len)))
		return rc;
	if (rep.index >= req->nnames) {
		ipc_free(*data);
		client_seterr(c, "get_any: the daemon named queue %u of %zu",
			      rep.index, req->nnames);
		return client_fail(c, IPC_EPROTO);
	}
	*index = rep.index;
	if (tag)
		*tag = rep.tag;
	return 0;
}

/* Get from the first non-empty of several queues; see ipcclient.h. */
IPC_EXPORT int ipc_queue_get_any(ipc_client *c, const char *const *names,
				 size_t n, size_t *index, void **data,
				 size_t *len, int timeout_ms)
{
	struct proto_req req = { .op = PROTO_OP_QGETANY, .timeout_ms = timeout_ms };
	struct proto_iov iov[IPC_GET_ANY_MAX];
	int rc = client_any_prep(c, names, n, index, iov, &req);

	return rc ? rc : client_any_call(c, &req, index, data, len, NULL);
}

/* The same, at-least-once; see ipcclient.h. */
IPC_EXPORT int ipc_queue_get_any_ack(ipc_client *c, const char *const *names,
				     size_t n, size_t *index, void **data,
				     size_t *len, uint64_t *tag, int timeout_ms,
				     int lease_ms)
{
	struct proto_req req = { .op = PROTO_OP_QGETANY, .timeout_ms = timeout_ms,
				 .ack = 1, .lease_ms = lease_ms };
	struct proto_iov iov[IPC_GET_ANY_MAX];
	int rc = client_any_prep(c, names, n, index, iov, &req);

	if (rc)
		return rc;
	if (lease_ms < 0 || tag == NULL) {
		client_seterr(c, lease_ms < 0 ? "invalid lease" : "no place for the tag");
		return IPC_EINVAL;
	}
	return client_any_call(c, &req, index, data, len, tag);
}
