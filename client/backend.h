/* SPDX-License-Identifier: MIT */
/*
 * backend.h: what a libipcclient backend implements. The public calls of
 * ipcclient.h check their arguments (a usable handle, a valid name, a
 * timeout >= -1, places for the results) and then serve the call with the
 * handle's backend: with c->ops NULL, the ipcd Unix-socket protocol, which
 * the rest of each public call speaks (client.c, ack.c, async.c, batch.c,
 * pipe.c); else the entry of c->ops (CLIENT_BACKEND in client_int.h),
 * today NATS JetStream (nats.c, docs/nats.md). An entry left NULL makes
 * the public call return IPC_ENOTSUP.
 *
 * ipc_connect() picks the backend from the target: "nats://..." is NATS
 * (when built with it: HAVE_NATS), anything else a socket path.
 *
 * Every entry follows ipcclient.h's result rule (0, positive IPC_E*
 * outcome, negative fatal) and records its failure text with
 * client_seterr(). Adding a public call: add its entry here, its
 * CLIENT_BACKEND line to the public call, and fill it in nats_backend.
 */
#ifndef IPC_CLIENT_BACKEND_H
#define IPC_CLIENT_BACKEND_H

#include <stddef.h>
#include <stdint.h>

#include "ipcclient/ipcclient.h"

struct backend_ops {
	const char *name;        /* "ipcd" or "nats", for error texts */

	/* Connect c to target (the backend's URL) and set c->bstate and
	 * c->msg_max. 0, IPC_ECONNECT or another outcome of ipc_connect();
	 * close is called after a failure too. */
	int (*connect)(struct ipc_client *c, const char *target);
	/* Release what connect made (flushing held async work first). */
	void (*close)(struct ipc_client *c);

	/* Queues: one entry per call of ipcclient.h. o is complete (the
	 * caller's fields over the defaults) and checked. */
	int (*queue_open)(struct ipc_client *c, const char *name,
			  const struct ipc_queue_opts *o, long long *maxsize_out);
	int (*put)(struct ipc_client *c, const char *name, const void *data,
		   size_t len, int timeout_ms);
	int (*get)(struct ipc_client *c, const char *name, void **data,
		   size_t *len, int timeout_ms);
	int (*get_ack)(struct ipc_client *c, const char *name, void **data,
		       size_t *len, uint64_t *tag, int timeout_ms, int lease_ms);
	int (*ack)(struct ipc_client *c, const char *name, uint64_t tag);
	/* stat fills this library's whole struct ipc_info; list returns a
	 * malloc'd array of them: the public calls copy them out at the
	 * caller's sizeof. */
	int (*stat)(struct ipc_client *c, const char *name, struct ipc_info *info);
	int (*del)(struct ipc_client *c, const char *name);
	int (*list)(struct ipc_client *c, struct ipc_info **infos, size_t *n);
	int (*put_many)(struct ipc_client *c, const char *name,
			const struct ipc_msg *msgs, size_t n, size_t *nput,
			int timeout_ms);
	int (*get_many)(struct ipc_client *c, const char *name,
			struct ipc_msg *msgs, size_t max, size_t *n, int timeout_ms);
	int (*put_async)(struct ipc_client *c, const char *name, const void *data,
			 size_t len, int timeout_ms);
	int (*put_many_async)(struct ipc_client *c, const char *name,
			      const struct ipc_msg *msgs, size_t n, int timeout_ms);
	int (*flush)(struct ipc_client *c);
	int (*push)(struct ipc_client *c);
	int (*set_readahead)(struct ipc_client *c, const char *name, unsigned n);
	/* Release (nack) and the operator's calls (NULL on a backend that
	 * cannot: IPC_ENOTSUP). */
	int (*release)(struct ipc_client *c, const char *name, uint64_t tag,
		       int delay_ms);
	int (*peek)(struct ipc_client *c, const char *name,
		    struct ipc_msg *msgs, size_t max, size_t *n);
	int (*purge)(struct ipc_client *c, const char *name, uint64_t *dropped);
	int (*chmod)(struct ipc_client *c, const char *name, unsigned mode);
	int (*chown)(struct ipc_client *c, const char *name, uid_t uid, gid_t gid);
	/* ipc_daemon_info(): this library's whole struct. */
	int (*daemon_info)(struct ipc_client *c, struct ipc_daemon_info *info);
	/* The descriptor ipc_fd() returns (-1: none to poll). */
	int (*fd)(const struct ipc_client *c);

	/* Pipes (NULL on a backend that refuses them: IPC_ENOTSUP). */
	int (*pipe_attach)(struct ipc_client *c, const char *name, int end,
			   int flags, struct ipc_pipe_opts *opts);
	int (*pipe_send)(struct ipc_client *c, const char *name, int end,
			 const void *data, size_t len, int timeout_ms);
	int (*pipe_recv)(struct ipc_client *c, const char *name, int end,
			 void **data, size_t *len, int timeout_ms);
	int (*pipe_close)(struct ipc_client *c, const char *name, int end);
	int (*pipe_detach)(struct ipc_client *c, const char *name, int end);
	int (*pipe_send_many)(struct ipc_client *c, const char *name, int end,
			      const struct ipc_msg *msgs, size_t n, size_t *nsent,
			      int timeout_ms);
	int (*pipe_recv_many)(struct ipc_client *c, const char *name, int end,
			      struct ipc_msg *msgs, size_t max, size_t *n,
			      int timeout_ms);
	int (*pipe_send_async)(struct ipc_client *c, const char *name, int end,
			       const void *data, size_t len, int timeout_ms);
	int (*pipe_set_readahead)(struct ipc_client *c, const char *name, int end,
				  unsigned n);
};

/* The NATS JetStream backend (nats.c); only when built with HAVE_NATS. */
extern const struct backend_ops nats_backend;

/* 1 when target names a NATS server ("nats://..."), else 0. */
int backend_is_nats(const char *target);

#endif
