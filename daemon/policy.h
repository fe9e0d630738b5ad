/* SPDX-License-Identifier: MIT */
/*
 * policy.h: the one request-policy path of the op handlers (op_*.c):
 * find the queue or pipe a request names, check that the connection may
 * do what the op does to it, and admit what the op would make the daemon
 * hold (the daemon-wide limits). A refusal is answered here, so it gets
 * the same status and the same detail text whichever op hits it.
 */
#ifndef IPCD_POLICY_H
#define IPCD_POLICY_H

#include "access.h"

struct conn;
struct pipe;
struct proto_req;
struct qmsg;
struct queue;

/* What an op does to the object its request names (policy_queue,
 * policy_pipe): read it, write it, and whether the request's payload
 * (one message or a batch) is to be held by the daemon. */
#define POLICY_READ ACCESS_READ
#define POLICY_WRITE ACCESS_WRITE
#define POLICY_HOLD 0x100u

/* Find queue r->name for c, check c may do what need says on it and
 * admit r's payload (POLICY_HOLD): 0 with *q, or non-zero once r has
 * been answered with the refusal. */
int policy_queue(struct conn *c, const struct proto_req *r, unsigned need,
		 struct queue **q);
/* Find pipe r->name and admit r's payload (POLICY_HOLD); who may use an
 * end was checked when it was attached: 0 with *p, or non-zero once r has
 * been answered. */
int policy_pipe(struct conn *c, const struct proto_req *r, unsigned need,
		struct pipe **p);
/* Find what r->name names for an owner-only op (QDEL, QPURGE, CHMOD):
 * c must own it or be root; CHOWN: c must be root. 0 with *kind (enum
 * ipc_kind), or non-zero once r is answered (the refusal names the op). */
int policy_owner(struct conn *c, const struct proto_req *r, int *kind);
/* Before QOPEN or PATTACH opens or creates r->name, a queue or pipe
 * (kind, enum ipc_kind): when it does not exist and create is set, may c
 * create it (the built-in u.UID. rule and the create-prefix rules); when
 * it exists and owned is set (IPC_QUEUE_OWNED, IPC_PIPE_OWNED), is it
 * owned by c's uid or root? 0, or IPC_EPERM once r is answered with a
 * detail naming the rule or the owner. */
int policy_open(struct conn *c, const struct proto_req *r, int kind,
		int create, int owned);
/* Answer r with refusal rc of opening or creating r->name (QOPEN,
 * PATTACH): IPC_ELIMIT there is max-queues or uid-max-queues. */
void policy_refuse_create(struct conn *c, const struct proto_req *r, int rc);

/* Why a new connection is refused (policy_connect). */
enum policy_conn {
	POLICY_CONN_OK = 0,
	POLICY_CONN_FULL,       /* max-connections (or the descriptor limit) */
	POLICY_CONN_RESERVED,   /* only the reserved connections are left */
	POLICY_CONN_UID,        /* uid-max-connections */
};

/* May new connection c (its credentials known, not yet counted) be
 * served? POLICY_CONN_OK, or why not. */
int policy_connect(const struct conn *c);
/* The name of refusal why (enum policy_conn), for logs. */
const char *policy_connect_name(int why);
/* Answer the HELLO r of a refused connection (fatal: it closes). */
void policy_refuse_hello(struct conn *c, const struct proto_req *r);
/* May r park, counting as weight parked requests (park_weight), under
 * CONN_PARKS_MAX per connection, max-parked and uid-max-parked? 0, or
 * IPC_ELIMIT once r is answered. */
int policy_park(struct conn *c, const struct proto_req *r, unsigned weight);
/* Whether c may park weight more requests under the same limits, nothing
 * answered (a put that waits only for QDONEs in flight: park_sync). */
int policy_may_park(const struct conn *c, unsigned weight);

#endif
