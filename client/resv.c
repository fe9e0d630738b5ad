/* SPDX-License-Identifier: MIT */
/*
 * resv.c: slot reservations (credits) in bounded queues: reserve slots,
 * put into them pipelined (no Full possible), give back the rest. The
 * daemon counts them toward maxsize (op_resv.c); see ipcclient.h.
 */
#include "backend.h"
#include "client_int.h"

/* Reserve up to want slots of queue name; see ipcclient.h. */
IPC_EXPORT int ipc_queue_reserve(ipc_client *c, const char *name, unsigned want,
				 unsigned *granted)
{
	return ipc_queue_reserve_idle(c, name, want, 0, granted);
}

/* Reserve up to want slots of queue name, taken back idle_ms after their
 * last use; see ipcclient.h. */
IPC_EXPORT int ipc_queue_reserve_idle(ipc_client *c, const char *name, unsigned want,
				      int idle_ms, unsigned *granted)
{
	struct proto_req req = { .op = PROTO_OP_QRESV, .max = want, .lease_ms = idle_ms };
	struct proto_rep rep;
	int rc;

	if (granted)
		*granted = 0;
	if ((rc = client_prep(c, name, &req, 0)))
		return rc;
	if (c->ops)
		return client_notsup(c, "reserve");
	if (want < 1 || want > IPC_BATCH_MAX || idle_ms < 0) {
		client_seterr(c, "want must be 1..%d, idle_ms >= 0", IPC_BATCH_MAX);
		return IPC_EINVAL;
	}
	if ((rc = client_request(c, &req, &rep)))
		return rc;
	if (granted)
		*granted = rep.count;
	if (rep.count == 0) {
		client_seterr(c, "no slots granted");
		return IPC_EFULL;
	}
	return 0;
}

/* Put one message into a reserved slot, pipelined; see ipcclient.h. */
IPC_EXPORT int ipc_queue_put_reserved_async(ipc_client *c, const char *name,
					    const void *data, size_t len)
{
	struct proto_req req = { .op = PROTO_OP_QPUTR, .data = data, .data_len = len };
	int rc;

	if ((rc = client_prep(c, name, &req, CLIENT_PREP_DATA)))
		return rc;
	if (c->ops)
		return client_notsup(c, "put_reserved_async");
	if ((rc = client_window_room(c)))
		return rc;
	return client_send(c, &req, 1);
}

/* Give back every slot this connection reserved in name; see ipcclient.h. */
IPC_EXPORT int ipc_queue_unreserve(ipc_client *c, const char *name)
{
	struct proto_req req = { .op = PROTO_OP_QUNRESV };
	struct proto_rep rep;
	int rc;

	if ((rc = client_prep(c, name, &req, 0)))
		return rc;
	if (c->ops)
		return client_notsup(c, "unreserve");
	return client_request(c, &req, &rep);
}
