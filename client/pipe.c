/*
 * pipe.c: named pipes in libipcclient: attach, send, receive and close
 * (PATTACH, PSEND, PRECV, PCLOSE). See ipcclient.h.
 */
#include <stdlib.h>
#include <string.h>

#include "client_int.h"

/* Check the end and the name of a pipe call: 0 or a result to return. */
static int client_pipe_check(struct ipc_client *c, const char *name, int end)
{
	int rc;

	if ((rc = client_check(c)) || (rc = client_check_name(c, name)))
		return rc;
	return client_check_end(c, end);
}

/* Map the public attach flags and options onto the request: 0 or EINVAL. */
static int client_pipe_want(int flags, const struct ipc_pipe_opts *opts,
			    struct proto_req *req)
{
	const int known = IPC_PIPE_CREATE | IPC_PIPE_DUPLEX | IPC_PIPE_ONEWAY;

	if ((flags & ~known) ||
	    ((flags & IPC_PIPE_DUPLEX) && (flags & IPC_PIPE_ONEWAY)))
		return IPC_EINVAL;
	req->flags = 0;
	if (flags & IPC_PIPE_CREATE)
		req->flags |= PROTO_PIPE_CREATE;
	if (flags & IPC_PIPE_DUPLEX)
		req->flags |= PROTO_PIPE_DUPLEX;
	if (flags & IPC_PIPE_ONEWAY)
		req->flags |= PROTO_PIPE_ONEWAY;
	if (!opts)
		return 0;
	if (opts->maxmsgs < 0 || opts->maxmsgs > IPC_PIPE_MSGS_MAX ||
	    opts->maxbytes < 0 || opts->maxbytes > IPC_PIPE_BYTES_MAX)
		return IPC_EINVAL;
	req->maxmsgs = opts->maxmsgs;
	req->maxbytes = opts->maxbytes;
	return 0;
}

/* Attach to a pipe end; see ipcclient.h. */
IPC_EXPORT int ipc_pipe_attach(ipc_client *c, const char *name, int end,
			       int flags, struct ipc_pipe_opts *opts)
{
	struct proto_req req = { .op = PROTO_OP_PATTACH };
	struct proto_rep rep;
	int rc;

	if ((rc = client_pipe_check(c, name, end)))
		return rc;
	if (client_pipe_want(flags, opts, &req)) {
		client_seterr(c, "invalid pipe flags, maxmsgs or maxbytes");
		return IPC_EINVAL;
	}
	req.end = (uint32_t)end;
	strcpy(req.name, name);
	rc = client_request(c, &req, &rep);
	if (rc)
		return rc;
	if (rep.flags != PROTO_PIPE_DUPLEX && rep.flags != PROTO_PIPE_ONEWAY) {
		client_seterr(c, "attach reply with flags 0x%x", (unsigned)rep.flags);
		return client_fail(c, IPC_EPROTO);
	}
	if (opts) {
		opts->maxmsgs = rep.maxmsgs;
		opts->maxbytes = rep.maxbytes;
		opts->duplex = rep.flags == PROTO_PIPE_DUPLEX;
	}
	return 0;
}

/* Send one message from an attached end; see ipcclient.h. */
IPC_EXPORT int ipc_pipe_send(ipc_client *c, const char *name, int end,
			     const void *data, size_t len, int timeout_ms)
{
	struct proto_req req = { .op = PROTO_OP_PSEND, .data = data,
				 .data_len = len, .timeout_ms = timeout_ms };
	struct proto_rep rep;
	int rc;

	if ((rc = client_pipe_check(c, name, end)) ||
	    (rc = client_check_timeout(c, timeout_ms)))
		return rc;
	if ((rc = client_check_payload(c, data, len, &req)))
		return rc;
	req.end = (uint32_t)end;
	strcpy(req.name, name);
	return client_request(c, &req, &rep);
}

/* Receive one message at an attached end; see ipcclient.h. */
IPC_EXPORT int ipc_pipe_recv(ipc_client *c, const char *name, int end,
			     void **data, size_t *len, int timeout_ms)
{
	struct proto_req req = { .op = PROTO_OP_PRECV, .timeout_ms = timeout_ms };
	struct proto_rep rep;
	int rc;

	if ((rc = client_pipe_check(c, name, end)) ||
	    (rc = client_check_timeout(c, timeout_ms)) ||
	    (rc = client_check_place(c, data, len)))
		return rc;
	if (c->prefetch && (rc = client_prefetch_recv(c, name, end, data, len,
						      timeout_ms)) != CLIENT_NO_PREFETCH)
		return rc;
	req.end = (uint32_t)end;
	strcpy(req.name, name);
	return client_request_payload(c, &req, &rep, data, len);
}

/* Close an attached end; see ipcclient.h. */
IPC_EXPORT int ipc_pipe_close(ipc_client *c, const char *name, int end)
{
	struct proto_req req = { .op = PROTO_OP_PCLOSE };
	struct proto_rep rep;
	int rc;

	if ((rc = client_pipe_check(c, name, end)))
		return rc;
	req.end = (uint32_t)end;
	strcpy(req.name, name);
	return client_request(c, &req, &rep);
}

/* Delete a pipe: the same request as ipc_queue_delete; see ipcclient.h. */
IPC_EXPORT int ipc_pipe_delete(ipc_client *c, const char *name)
{
	return ipc_queue_delete(c, name);
}
