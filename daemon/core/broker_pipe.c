/* SPDX-License-Identifier: MIT */
/*
 * broker_pipe.c: the pipes of the broker's namespace, as plain data.
 * Pipes share the namespace with queues: a name is one or the other, and
 * a queue op on a pipe (or back) is IPC_EWRONGTYPE. A pipe is created by
 * the first attach to it and leaves the namespace once both ends are
 * closed, or when it is deleted (QDEL).
 */
#include <stdio.h>
#include <string.h>

#include "access.h"
#include "broker.h"
#include "ipc_defs.h"
#include "pipe.h"
#include "registry.h"

/* Find pipe name. */
int broker_pipe_find(struct broker *b, const char *name, struct pipe **p)
{
	int kind = 0;
	void *obj;

	/* After broker_fini (shutdown) a closing connection finds nothing. */
	if (b->reg == NULL)
		return IPC_ENOENT;
	obj = registry_find(b->reg, name, &kind);
	if (obj == NULL)
		return IPC_ENOENT;
	if (kind != IPC_KIND_PIPE)
		return IPC_EWRONGTYPE;
	*p = obj;
	return 0;
}

/* Check an existing pipe against what an attach asks for explicitly. */
static int broker_pipe_match(const struct pipe *p, const struct broker_pipe_want *w)
{
	if ((w->flags & BROKER_PIPE_DUPLEX) && !pipe_duplex(p))
		return IPC_EMISMATCH;
	if ((w->flags & BROKER_PIPE_ONEWAY) && pipe_duplex(p))
		return IPC_EMISMATCH;
	if (w->maxmsgs > 0 && (uint64_t)w->maxmsgs != pipe_maxmsgs(p))
		return IPC_EMISMATCH;
	if (w->maxbytes > 0 && (uint64_t)w->maxbytes != pipe_maxbytes(p))
		return IPC_EMISMATCH;
	return 0;
}

/* What cred needs on a pipe to use end: read to receive, write to send. */
static unsigned broker_pipe_need(bool duplex, uint32_t end)
{
	if (duplex)
		return ACCESS_READ | ACCESS_WRITE;
	return end == 0 ? ACCESS_READ : ACCESS_WRITE;
}

/* Create pipe name as w says, owned by cred. */
static int broker_pipe_create(struct broker *b, const char *name,
			      const struct broker_pipe_want *w,
			      const struct access_cred *cred, struct pipe **p)
{
	int64_t msgs = w->maxmsgs ? w->maxmsgs : IPC_PIPE_DEFAULT_MSGS;
	int64_t bytes = w->maxbytes ? w->maxbytes : IPC_PIPE_DEFAULT_BYTES;
	int rc;

	if (msgs < 0 || msgs > IPC_PIPE_MSGS_MAX || bytes < 0 ||
	    bytes > IPC_PIPE_BYTES_MAX)
		return IPC_EINVAL;
	if ((rc = broker_may_create(b, cred)) != 0)
		return rc;
	*p = pipe_new(name, !(w->flags & BROKER_PIPE_ONEWAY), (size_t)msgs,
		      (size_t)bytes, b->wake);
	rc = broker_register(b, name, IPC_KIND_PIPE, *p, cred,
			     w->has_mode ? (int)w->mode : -1);
	if (rc != 0)
		*p = NULL;
	return rc;
}

/* Attach owner to an end of pipe name, creating the pipe if asked. */
int broker_pipe_attach(struct broker *b, const char *name,
		       const struct broker_pipe_want *w,
		       const struct access_cred *cred, void *owner,
		       struct pipe **p)
{
	int rc;

	if (w->end > 1 || owner == NULL)
		return IPC_EINVAL;
	if ((w->flags & BROKER_PIPE_DUPLEX) && (w->flags & BROKER_PIPE_ONEWAY))
		return IPC_EINVAL;
	rc = broker_pipe_find(b, name, p);
	if (rc == 0) {
		rc = broker_access(b, name, cred,
				   broker_pipe_need(pipe_duplex(*p), w->end));
		if (rc == 0)
			rc = broker_pipe_match(*p, w);
	} else if (rc == IPC_ENOENT && (w->flags & BROKER_PIPE_CREATE)) {
		rc = broker_pipe_create(b, name, w, cred, p);
	}
	return rc ? rc : pipe_attach(*p, w->end, owner);
}

/* May cred use end of pipe p (a join, PJOIN)? As for an attach: 0 or
 * IPC_EPERM. */
int broker_pipe_access(const struct broker *b, const struct pipe *p, unsigned end,
		       const struct access_cred *cred)
{
	return broker_access(b, pipe_name(p), cred, broker_pipe_need(pipe_duplex(p), end));
}

/* Free p once both its ends are closed and nobody walks it any more. */
void broker_pipe_reap(struct broker *b, struct pipe *p)
{
	int kind = 0;

	if (!pipe_done(p))
		return;
	/* A deleted pipe left the namespace already, and its name may be a
	 * new pipe's (or a queue's) by now: remove only p itself. */
	if (b->reg != NULL && registry_find(b->reg, pipe_name(p), &kind) == p)
		broker_unregister(b, pipe_name(p));
	/* Both ends closed: nothing is parked any more, nothing buffered. */
	broker_count_gone(b, IPC_KIND_PIPE, p);
	pipe_free(p, IPC_ECLOSED);
}

/* Close end of pipe name held by owner; the pipe goes when both are closed. */
int broker_pipe_close(struct broker *b, const char *name, unsigned end,
		      const void *owner)
{
	struct pipe *p;
	int rc = broker_pipe_find(b, name, &p);

	if (rc != 0)
		return rc;
	rc = pipe_close(p, end, owner);
	broker_pipe_reap(b, p);
	return rc;
}

/* Detach end of pipe name held by owner (pipe_detach). */
int broker_pipe_detach(struct broker *b, const char *name, unsigned end,
		       const void *owner)
{
	struct pipe *p;
	int rc = broker_pipe_find(b, name, &p);

	return rc != 0 ? rc : pipe_detach(p, end, owner);
}
