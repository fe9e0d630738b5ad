/*
 * client_int.h: libipcclient internals, shared by the files of client/ and
 * never installed. The library is built with -fvisibility=hidden; only the
 * functions marked IPC_EXPORT (the ones of ipcclient.h) leave the .so.
 */
#ifndef IPC_CLIENT_INT_H
#define IPC_CLIENT_INT_H

#include <stddef.h>
#include <stdint.h>

#include "ipcclient.h"
#include "proto.h"

#define IPC_EXPORT __attribute__((visibility("default")))

/* How much room a read asks for when no frame header says more. */
#define CLIENT_READ_CHUNK 65536u

/* One request waiting for its reply. Today there is at most one (calls
 * are synchronous); pipelining turns this into a table searched by id. */
struct client_pending {
	uint32_t id;
	uint32_t op;
};

struct ipc_client {
	int fd;
	struct pbuf tx;          /* the request being sent */
	struct pbuf rx;          /* bytes received, frames not yet consumed */
	size_t rx_done;          /* length of the last decoded frame, dropped at
				    the next read (its reply points into it) */
	uint32_t next_id;        /* request ids: 1, 2, ... skipping 0 */
	struct client_pending pending;
	struct proto_dec dec;
	int dec_ready;           /* dec was initialised */
	size_t msg_max;          /* the daemon's message limit (HELLO) */
	int broken;              /* a fatal error happened: refuse every call */
	char err[256];           /* ipc_last_error() */
};

/* Shared by the files of client/ (client.c): */

/* Record the text ipc_last_error() returns. */
void client_seterr(struct ipc_client *c, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));
/* Mark the handle broken after a fatal error; returns code. */
int client_fail(struct ipc_client *c, int code);
/* Refuse a call on a broken handle; 0 when the handle is usable. */
int client_check(struct ipc_client *c);
/* Check a name before any round trip: 0 or IPC_ENAME. */
int client_check_name(struct ipc_client *c, const char *name);
/* Check a timeout in milliseconds: 0 or IPC_EINVAL. */
int client_check_timeout(struct ipc_client *c, int timeout_ms);
/* Send req (id assigned here) and wait for its reply in *rep (valid until
 * the next call). 0 when a reply arrived whatever its status; IPC_EINVAL
 * when req cannot be encoded; else fatal. */
int client_call(struct ipc_client *c, struct proto_req *req, struct proto_rep *rep);
/* client_call, then the reply's status (with its detail recorded). */
int client_request(struct ipc_client *c, struct proto_req *req, struct proto_rep *rep);

#endif
