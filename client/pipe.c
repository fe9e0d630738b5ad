/* SPDX-License-Identifier: MIT */
/*
 * pipe.c: named pipes in libipcclient: attach, send, receive, close,
 * share and join (PATTACH, PSEND, PRECV, PCLOSE, PSHARE, PJOIN). See
 * ipcclient.h.
 */
#include <stddef.h>
#include <stdlib.h>
#include <string.h>

#include "backend.h"
#include "client_int.h"

/* Check the end and the name of a pipe call: 0 or a result to return. */
static int client_pipe_check(struct ipc_client *c, const char *name, int end)
{
	int rc;

	if ((rc = client_check(c)) || (rc = client_check_name(c, name)))
		return rc;
	return client_check_end(c, end);
}

/* Map the public attach flags onto the request's: 0 or IPC_EINVAL. */
static int client_pipe_flags(int flags, struct proto_req *req)
{
	const int known = IPC_PIPE_CREATE | IPC_PIPE_DUPLEX | IPC_PIPE_ONEWAY |
			  IPC_PIPE_OWNED;

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
	if (flags & IPC_PIPE_OWNED)
		req->flags |= PROTO_PIPE_OWNED;
	return 0;
}

/* Put the caller's pipe options (the fields its size covers; defaults
 * for the rest) into the request: 0 or IPC_EINVAL. */
static int client_pipe_opts(struct ipc_client *c, const struct ipc_pipe_opts *in,
			    struct proto_req *req)
{
	struct ipc_pipe_opts o = IPC_PIPE_OPTS_INIT;

	if (!in)
		return 0;
	if (client_check_opts(c, in, in->size, sizeof(o)))
		return IPC_EINVAL;
	if (CLIENT_OPT_HAS(in->size, struct ipc_pipe_opts, maxmsgs))
		o.maxmsgs = in->maxmsgs;
	if (CLIENT_OPT_HAS(in->size, struct ipc_pipe_opts, maxbytes))
		o.maxbytes = in->maxbytes;
	if (CLIENT_OPT_HAS(in->size, struct ipc_pipe_opts, mode))
		o.mode = in->mode;
	if (o.maxmsgs < 0 || o.maxmsgs > IPC_PIPE_MSGS_MAX ||
	    o.maxbytes < 0 || o.maxbytes > IPC_PIPE_BYTES_MAX || !CLIENT_MODE_OK(o.mode)) {
		client_seterr(c, "invalid pipe maxmsgs, maxbytes or mode");
		return IPC_EINVAL;
	}
	req->maxmsgs = o.maxmsgs;
	req->maxbytes = o.maxbytes;
	req->has_mode = o.mode != IPC_MODE_DEFAULT;
	req->mode = req->has_mode ? (uint32_t)o.mode : 0;
	return 0;
}

/* Check an attach or join reply and tell the caller (opts, may be NULL)
 * what the pipe has, the fields its size covers: 0 or IPC_EPROTO. */
static int client_pipe_report(struct ipc_client *c, const struct proto_rep *rep,
			      struct ipc_pipe_opts *opts)
{
	if (rep->flags != PROTO_PIPE_DUPLEX && rep->flags != PROTO_PIPE_ONEWAY) {
		client_seterr(c, "%s reply with flags 0x%x", proto_op_name(rep->op),
			      (unsigned)rep->flags);
		return client_fail(c, IPC_EPROTO);
	}
	if (!opts)
		return 0;
	if (CLIENT_OPT_HAS(opts->size, struct ipc_pipe_opts, maxmsgs))
		opts->maxmsgs = rep->maxmsgs;
	if (CLIENT_OPT_HAS(opts->size, struct ipc_pipe_opts, maxbytes))
		opts->maxbytes = rep->maxbytes;
	if (CLIENT_OPT_HAS(opts->size, struct ipc_pipe_opts, duplex))
		opts->duplex = rep->flags == PROTO_PIPE_DUPLEX;
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
	if (client_pipe_flags(flags, &req)) {
		client_seterr(c, "invalid pipe flags 0x%x", (unsigned)flags);
		return IPC_EINVAL;
	}
	if ((rc = client_pipe_opts(c, opts, &req)))
		return rc;
	if (c->ops)
		return CLIENT_BACKEND(c, pipe_attach, name, end, flags, opts);
	req.end = (uint32_t)end;
	strcpy(req.name, name);
	rc = client_request(c, &req, &rep);
	return rc ? rc : client_pipe_report(c, &rep, opts);
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
	if (c->ops)
		return CLIENT_BACKEND(c, pipe_send, name, end, data, len, timeout_ms);
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
	if (c->ops)
		return CLIENT_BACKEND(c, pipe_recv, name, end, data, len, timeout_ms);
	if (c->readahead && (rc = client_readahead_recv(c, name, end, data, len,
							timeout_ms)) != CLIENT_NO_READAHEAD)
		return rc;
	req.end = (uint32_t)end;
	strcpy(req.name, name);
	return client_request_payload(c, &req, &rep, data, len);
}

/* One request op (PCLOSE, PDETACH) on an attached end. */
static int client_pipe_let_go(ipc_client *c, const char *name, int end,
			      uint32_t op)
{
	struct proto_req req = { .op = op };
	struct proto_rep rep;
	int rc;

	if ((rc = client_pipe_check(c, name, end)))
		return rc;
	if (c->ops && op == PROTO_OP_PCLOSE)
		return CLIENT_BACKEND(c, pipe_close, name, end);
	if (c->ops)
		return CLIENT_BACKEND(c, pipe_detach, name, end);
	req.end = (uint32_t)end;
	strcpy(req.name, name);
	return client_request(c, &req, &rep);
}

/* Close an attached end; see ipcclient.h. */
IPC_EXPORT int ipc_pipe_close(ipc_client *c, const char *name, int end)
{
	return client_pipe_let_go(c, name, end, PROTO_OP_PCLOSE);
}

/* Give up an attached end without closing it; see ipcclient.h. */
IPC_EXPORT int ipc_pipe_detach(ipc_client *c, const char *name, int end)
{
	return client_pipe_let_go(c, name, end, PROTO_OP_PDETACH);
}



/* Check a share or join request on end of pipe name, fill it in and
 * make the round trip: 0, a result code, or IPC_ENOTSUP on NATS. */
static int client_pipe_hold_request(ipc_client *c, const char *name, int end,
				    struct proto_req *req, struct proto_rep *rep)
{
	int rc;

	if ((rc = client_pipe_check(c, name, end)))
		return rc;
	if (c->ops) {
		client_seterr(c, "pipes are not supported by this backend");
		return IPC_ENOTSUP;
	}
	req->end = (uint32_t)end;
	strcpy(req->name, name);
	return client_request(c, req, rep);
}

/* Share an attached end with another connection; see ipcclient.h. */
IPC_EXPORT int ipc_pipe_share(ipc_client *c, const char *name, int end,
			      uint64_t *token)
{
	struct proto_req req = { .op = PROTO_OP_PSHARE };
	struct proto_rep rep;
	int rc;

	if ((rc = client_check(c)))
		return rc;
	if (!token) {
		client_seterr(c, "no token pointer");
		return IPC_EINVAL;
	}
	if ((rc = client_pipe_hold_request(c, name, end, &req, &rep)) == 0)
		*token = rep.tag;
	return rc;
}

/* Hold an end another connection shared; see ipcclient.h. */
IPC_EXPORT int ipc_pipe_join(ipc_client *c, const char *name, int end,
			     uint64_t token, struct ipc_pipe_opts *opts)
{
	struct proto_req req = { .op = PROTO_OP_PJOIN, .tag = token };
	struct proto_rep rep;
	int rc;

	if ((rc = client_check(c)))
		return rc;
	if (opts && client_check_opts(c, opts, opts->size, sizeof(*opts)))
		return IPC_EINVAL;
	rc = client_pipe_hold_request(c, name, end, &req, &rep);
	return rc ? rc : client_pipe_report(c, &rep, opts);
}
