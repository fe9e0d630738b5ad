/* SPDX-License-Identifier: MIT */
/*
 * admin.c: the operator's calls in libipcclient: peek, purge, chmod and
 * chown of a queue or pipe, and the daemon's figures. See ipcclient.h.
 */
#include <stdio.h>
#include <string.h>

#include "backend.h"
#include "client_int.h"

/* Look at the first messages of a queue without taking them; see
 * ipcclient.h. */
IPC_EXPORT int ipc_queue_peek(ipc_client *c, const char *name,
			      struct ipc_msg *msgs, size_t max, size_t *n)
{
	struct proto_req req = { .op = PROTO_OP_QPEEK };
	int rc;

	if (n)
		*n = 0;
	if ((rc = client_prep(c, name, &req, 0)))
		return rc;
	if (!msgs || !n || max < 1 || max > IPC_BATCH_MAX) {
		client_seterr(c, "a peek takes 1..%d messages", IPC_BATCH_MAX);
		return IPC_EINVAL;
	}
	if (c->ops)
		return CLIENT_BACKEND(c, peek, name, msgs, max, n);
	return client_batch_get(c, &req, msgs, max, n);
}

/* Drop every ready message of a queue; see ipcclient.h. */
IPC_EXPORT int ipc_queue_purge(ipc_client *c, const char *name,
			       uint64_t *dropped)
{
	struct proto_req req = { .op = PROTO_OP_QPURGE };
	struct proto_rep rep;
	int rc;

	if (dropped)
		*dropped = 0;
	if ((rc = client_prep(c, name, &req, 0)))
		return rc;
	if (c->ops)
		return CLIENT_BACKEND(c, purge, name, dropped);
	if ((rc = client_request(c, &req, &rep)))
		return rc;
	if (dropped)
		*dropped = rep.dropped;
	return 0;
}

/* Set the permissions of a queue or pipe; see ipcclient.h. */
IPC_EXPORT int ipc_chmod(ipc_client *c, const char *name, unsigned mode)
{
	struct proto_req req = { .op = PROTO_OP_CHMOD, .has_mode = 1,
				 .mode = mode };
	struct proto_rep rep;
	int rc;

	if ((rc = client_prep(c, name, &req, 0)))
		return rc;
	if (mode > PROTO_MODE_MAX) {
		client_seterr(c, "mode %#o has bits outside 0777", mode);
		return IPC_EINVAL;
	}
	if (c->ops)
		return CLIENT_BACKEND(c, chmod, name, mode);
	return client_request(c, &req, &rep);
}

/* An id for CHOWN: -1 for (uid_t)-1, "keep it". */
static int64_t admin_id(uint64_t id, uint64_t keep)
{
	return id == keep ? -1 : (int64_t)id;
}

/* Set the owner and group of a queue or pipe; see ipcclient.h. */
IPC_EXPORT int ipc_chown(ipc_client *c, const char *name, uid_t uid, gid_t gid)
{
	struct proto_req req = { .op = PROTO_OP_CHOWN };
	struct proto_rep rep;
	int rc;

	if ((rc = client_prep(c, name, &req, 0)))
		return rc;
	if (c->ops)
		return CLIENT_BACKEND(c, chown, name, uid, gid);
	req.uid = admin_id(uid, (uid_t)-1);
	req.gid = admin_id(gid, (gid_t)-1);
	return client_request(c, &req, &rep);
}

_Static_assert(sizeof(struct ipc_daemon_info) >= CLIENT_DINFO_SIZE_0,
	       "struct ipc_daemon_info lost fields");

/* Copy the wire's daemon info into the public struct. */
static void admin_dinfo_copy(struct ipc_daemon_info *dst,
			     const struct proto_dinfo *src)
{
	memset(dst, 0, sizeof(*dst));
	snprintf(dst->version, sizeof(dst->version), "%s", src->version);
#define ADMIN_DINFO_COPY(f) dst->f = src->f;
	PROTO_DINFO_FIELDS(ADMIN_DINFO_COPY)
#undef ADMIN_DINFO_COPY
}

/* Copy a whole struct ipc_daemon_info into the caller's one of size
 * bytes: the fields both know, zero past them. */
static void admin_dinfo_out(void *dst, size_t size,
			    const struct ipc_daemon_info *all)
{
	size_t n = size < sizeof(*all) ? size : sizeof(*all);

	memcpy(dst, all, n);
	if (size > n)
		memset((char *)dst + n, 0, size - n);
}

/* The daemon's figures; see ipcclient.h. */
IPC_EXPORT int ipc_daemon_info(ipc_client *c, struct ipc_daemon_info *info,
			       size_t size)
{
	struct proto_req req = { .op = PROTO_OP_INFO };
	struct ipc_daemon_info all;
	struct proto_rep rep;
	int rc;

	if ((rc = client_check(c)))
		return rc;
	if (!info || size < CLIENT_DINFO_SIZE_0) {
		client_seterr(c, "struct ipc_daemon_info of %zu bytes, at least "
			      "%u expected", info ? size : 0, CLIENT_DINFO_SIZE_0);
		return IPC_EINVAL;
	}
	if (c->ops)
		rc = CLIENT_BACKEND(c, daemon_info, &all);
	else if ((rc = client_request(c, &req, &rep)) == 0)
		admin_dinfo_copy(&all, rep.dinfo);
	if (rc == 0)
		admin_dinfo_out(info, size, &all);
	return rc;
}
