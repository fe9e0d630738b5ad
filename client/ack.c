/* SPDX-License-Identifier: MIT */
/*
 * ack.c: at-least-once delivery in libipcclient: get with acknowledgement
 * (QGETA), ack (QACK) and release (QRELEASE). See ipcclient.h.
 */
#include <stdlib.h>
#include <string.h>

#include "backend.h"
#include "client_int.h"

/* Get one message, in flight until acked; see ipcclient.h. */
IPC_EXPORT int ipc_queue_get_ack(ipc_client *c, const char *name, void **data,
			   size_t *len, uint64_t *tag, int timeout_ms,
			   int lease_ms)
{
	struct proto_req req = { .op = PROTO_OP_QGETA, .timeout_ms = timeout_ms,
				 .lease_ms = lease_ms };
	struct proto_rep rep;
	int rc;

	if ((rc = client_prep(c, name, &req, CLIENT_PREP_TIMEOUT)))
		return rc;
	if (lease_ms < 0) {
		client_seterr(c, "invalid lease %d ms", lease_ms);
		return IPC_EINVAL;
	}
	/* No place for the tag is no place for the message either. */
	if ((rc = client_check_place(c, tag ? data : NULL, len)))
		return rc;
	if (c->ops)
		return CLIENT_BACKEND(c, get_ack, name, data, len, tag, timeout_ms, lease_ms);
	if ((rc = client_request_payload(c, &req, &rep, data, len)))
		return rc;
	*tag = rep.tag;
	return 0;
}

/* Acknowledge a message got with ipc_queue_get_ack(); see ipcclient.h. */
IPC_EXPORT int ipc_queue_ack(ipc_client *c, const char *name, uint64_t tag)
{
	struct proto_req req = { .op = PROTO_OP_QACK, .tag = tag };
	struct proto_rep rep;
	int rc = client_prep(c, name, &req, 0);

	if (rc)
		return rc;
	if (c->ops)
		return CLIENT_BACKEND(c, ack, name, tag);
	return client_request(c, &req, &rep);
}

/* Give a message got with ipc_queue_get_ack() back; see ipcclient.h. */
IPC_EXPORT int ipc_queue_release(ipc_client *c, const char *name, uint64_t tag,
				 int delay_ms)
{
	struct proto_req req = { .op = PROTO_OP_QRELEASE, .tag = tag,
				 .delay_ms = delay_ms };
	struct proto_rep rep;
	int rc;

	if ((rc = client_check(c)) || (rc = client_check_name(c, name)))
		return rc;
	if (delay_ms < 0) {
		client_seterr(c, "invalid delay %d ms", delay_ms);
		return IPC_EINVAL;
	}
	if (c->ops)
		return CLIENT_BACKEND(c, release, name, tag, delay_ms);
	strcpy(req.name, name);
	return client_request(c, &req, &rep);
}
