/* SPDX-License-Identifier: MIT */
/*
 * policy.c: find, check access, admit: the steps every request that names
 * a queue or pipe goes through, and the one place that words a refusal.
 * Adding a limit (a per-uid quota, say) means adding it to policy_admit
 * and its wording here; no handler changes.
 */
#include <stddef.h>
#include <stdio.h>

#include "access.h"
#include "broker.h"
#include "conn.h"
#include "durable.h"
#include "ipc_defs.h"
#include "policy.h"
#include "proto.h"
#include "qmsg.h"
#include "quota.h"
#include "server.h"

/* Bytes r asks the daemon to hold: the footprint (qmsg_footprint) of
 * its one message or of each message of its batch. */
static size_t policy_footprint(const struct proto_req *r)
{
	size_t i, n = 0;

	if (r->niov == 0)
		return qmsg_footprint(r->data_len);
	for (i = 0; i < r->niov; i++)
		n += qmsg_footprint(r->iov[i].len);
	return n;
}

/* What denied access to need reads as in a refusal. */
static const char *policy_verb(unsigned need)
{
	if (need & POLICY_WRITE)
		return "write to";
	if (need & POLICY_READ)
		return "read from";
	return "use";
}

/* Answer r with refusal rc. The refusals an operator may need to act
 * on carry a detail text saying which rule refused; the rest are plain
 * statuses (no such name, wrong kind, ...). */
static void policy_refuse(struct conn *c, const struct proto_req *r, int rc,
			  const char *verb)
{
	if (rc == IPC_EPERM)
		conn_reply_error(c, r->op, r->id, rc, "permission denied: uid %ld "
				 "may not %s '%s'", (long)c->uid, verb, r->name);
	else
		conn_reply_status(c, r->op, r->id, rc);
}

/* Answer r: c's uid is at its limit of res (key, limit). */
static int policy_refuse_quota(struct conn *c, const struct proto_req *r,
			       const char *key, enum quota_res res)
{
	conn_reply_error(c, r->op, r->id, IPC_ELIMIT, "uid %ld limit reached: "
			 "%s %zu", (long)c->uid, key,
			 c->srv->broker.quota.limit[res]);
	return IPC_ELIMIT;
}

/* Admit r's payload under the daemon-wide limits and c's uid's quota: 0,
 * or IPC_ELIMIT once r is answered. */
static int policy_admit(struct conn *c, const struct proto_req *r)
{
	size_t mem = policy_footprint(r);

	if (broker_admit(&c->srv->broker, mem) != 0) {
		conn_reply_error(c, r->op, r->id, IPC_ELIMIT, "daemon limit "
				 "reached: max-bytes %zu", c->srv->cfg.max_bytes);
		return IPC_ELIMIT;
	}
	if (c->user != NULL && quota_admit(c->user, QUOTA_BYTES, mem) != 0)
		return policy_refuse_quota(c, r, "uid-max-bytes", QUOTA_BYTES);
	return 0;
}

/* Find, check access and admit for a request on a queue. */
int policy_queue(struct conn *c, const struct proto_req *r, unsigned need,
		 struct queue **q)
{
	struct broker *b = &c->srv->broker;
	unsigned want = need & (POLICY_READ | POLICY_WRITE);
	struct access_cred cred;
	int rc;

	conn_cred(c, &cred);
	rc = broker_queue_access(b, r->name, &cred, want, q);
	if (rc != 0) {
		policy_refuse(c, r, rc, policy_verb(need));
		return rc;
	}
	return (need & POLICY_HOLD) ? policy_admit(c, r) : 0;
}

/* Find and admit for a request on a pipe. */
int policy_pipe(struct conn *c, const struct proto_req *r, unsigned need,
		struct pipe **p)
{
	int rc = broker_pipe_find(&c->srv->broker, r->name, p);

	if (rc != 0) {
		policy_refuse(c, r, rc, policy_verb(need));
		return rc;
	}
	return (need & POLICY_HOLD) ? policy_admit(c, r) : 0;
}

/* What an owner-only op does, as a refusal words it. */
static const char *policy_owner_verb(uint32_t op)
{
	switch (op) {
	case PROTO_OP_QPURGE: return "purge";
	case PROTO_OP_CHMOD: return "chmod";
	case PROTO_OP_CHOWN: return "chown";
	default: return "delete";
	}
}

/* Find what r->name names and check c may do r's owner-only op to it. */
int policy_owner(struct conn *c, const struct proto_req *r, int *kind)
{
	struct broker *b = &c->srv->broker;
	struct access_cred cred;
	struct queue *q;
	int rc = broker_queue_find(b, r->name, &q);

	*kind = rc == IPC_EWRONGTYPE ? IPC_KIND_PIPE : IPC_KIND_QUEUE;
	if (rc == IPC_EWRONGTYPE)
		rc = 0;
	conn_cred(c, &cred);
	if (rc == 0)
		rc = broker_access_owner(b, r->name, &cred);
	/* Like chown(2): giving a name away is root's alone. */
	if (rc == 0 && r->op == PROTO_OP_CHOWN && cred.uid != 0)
		rc = IPC_EPERM;
	if (rc != 0)
		policy_refuse(c, r, rc, policy_owner_verb(r->op));
	return rc;
}

/* May cred create r->name? The built-in per-user rule (u.UID.: that uid
 * alone), then the longest create-prefix rule; root always may. 0, or
 * IPC_EPERM once r is answered with the rule that refused. */
static int policy_create(struct conn *c, const struct proto_req *r,
			 const struct access_cred *cred)
{
	const struct config *cfg = &c->srv->cfg;
	const struct access_rule *rule;
	uid_t uid;

	if (cred->uid == 0)
		return 0;
	if (access_user_prefix(r->name, &uid) && uid != cred->uid) {
		conn_reply_error(c, r->op, r->id, IPC_EPERM, "permission denied: "
				 "uid %ld may not create '%s' (names under u.%lu. "
				 "are uid %lu's)", (long)cred->uid, r->name,
				 (unsigned long)uid, (unsigned long)uid);
		return IPC_EPERM;
	}
	rule = access_rule_match(cfg->create_rules, cfg->ncreate_rules, r->name);
	if (rule == NULL || access_rule_admits(rule, cred) == 0)
		return 0;
	conn_reply_error(c, r->op, r->id, IPC_EPERM, "permission denied: uid %ld "
			 "may not create '%s' (create-prefix %s %s)",
			 (long)cred->uid, r->name, rule->prefix, rule->who_text);
	return IPC_EPERM;
}

/* Before QOPEN or PATTACH opens or creates r->name (of kind): who may
 * create it, and with OWNED whose an existing one must be. */
int policy_open(struct conn *c, const struct proto_req *r, int kind,
		int create, int owned)
{
	struct access_cred cred;
	const struct access_owner *o;
	int k;

	conn_cred(c, &cred);
	o = broker_owner(&c->srv->broker, r->name, &k);
	if (o == NULL)
		return create ? policy_create(c, r, &cred) : 0;
	/* A name of the other kind is the open's own refusal (EWRONGTYPE). */
	if (!owned || k != kind || o->uid == cred.uid || o->uid == 0)
		return 0;
	conn_reply_error(c, r->op, r->id, IPC_EPERM, "permission denied: '%s' "
			 "is owned by uid %lu, not by uid %ld or root", r->name,
			 (unsigned long)o->uid, (long)cred.uid);
	return IPC_EPERM;
}

/* Answer r with refusal rc of opening or creating r->name. */
void policy_refuse_create(struct conn *c, const struct proto_req *r, int rc)
{
	static const struct access_cred root; /* held to no uid's quota */

	/* broker_may_create refused: the daemon's limit, or else c's uid's. */
	if (rc == IPC_ELIMIT && broker_may_create(&c->srv->broker, &root) == 0)
		policy_refuse_quota(c, r, "uid-max-queues", QUOTA_OBJECTS);
	else if (rc == IPC_ELIMIT)
		conn_reply_error(c, r->op, r->id, rc, "daemon limit reached: "
				 "max-queues %zu", c->srv->cfg.max_queues);
	else if (rc == IPC_ENODURABLE)
		conn_reply_error(c, r->op, r->id, rc, "%s", durable_off_reason(c->srv));
	else
		policy_refuse(c, r, rc, "open");
}

/* May new connection c be served? Like PostgreSQL's
 * superuser_reserved_connections, the last reserved-connections slots
 * are for root (and ipcd's own uid), so that a uid filling the rest
 * cannot lock the administrator out. */
int policy_connect(const struct conn *c)
{
	const struct server *s = c->srv;
	const struct quota_user *u = quota_find(&s->broker.quota, c->uid);
	size_t served = s->nconns - s->nrefused;

	if (served >= s->max_conns)
		return POLICY_CONN_FULL;
	if (quota_exempt(&s->broker.quota, c->uid))
		return POLICY_CONN_OK;
	if (s->cfg.reserved_conns >= s->max_conns - served)
		return POLICY_CONN_RESERVED;
	if (u != NULL && quota_admit(u, QUOTA_CONNS, 1) != 0)
		return POLICY_CONN_UID;
	return POLICY_CONN_OK;
}

/* The name of a connection refusal, for logs. */
const char *policy_connect_name(int why)
{
	switch (why) {
	case POLICY_CONN_FULL: return "max-connections";
	case POLICY_CONN_RESERVED: return "reserved-connections";
	case POLICY_CONN_UID: return "uid-max-connections";
	default: return "served";
	}
}

/* Answer the HELLO of a refused connection, saying which limit. */
void policy_refuse_hello(struct conn *c, const struct proto_req *r)
{
	const struct server *s = c->srv;
	char detail[160];

	if (c->refused == POLICY_CONN_UID)
		snprintf(detail, sizeof(detail), "too many connections for uid "
			 "%ld (uid-max-connections %zu)", (long)c->uid,
			 s->broker.quota.limit[QUOTA_CONNS]);
	else if (c->refused == POLICY_CONN_RESERVED)
		snprintf(detail, sizeof(detail), "too many connections "
			 "(max-connections %zu, the last %zu reserved for root)",
			 s->max_conns, s->cfg.reserved_conns);
	else if (s->max_conns < s->cfg.max_connections)
		snprintf(detail, sizeof(detail), "too many connections "
			 "(max-connections %zu: %zu with the descriptor limit %zu)",
			 s->cfg.max_connections, s->max_conns, s->fd_limit);
	else
		snprintf(detail, sizeof(detail), "too many connections "
			 "(max-connections %zu)", s->max_conns);
	conn_fail(c, r->id, IPC_ELIMIT, detail);
}

/* Which limit weight more parked requests of c would pass: 0 (none),
 * 1 the connection's, 2 max-parked, 3 uid-max-parked. */
static int policy_park_limit(const struct conn *c, unsigned weight)
{
	const struct server *s = c->srv;

	if (c->nparks + weight > CONN_PARKS_MAX)
		return 1;
	if (s->stats.parked + weight > s->cfg.max_parked)
		return 2;
	if (c->user != NULL && quota_admit(c->user, QUOTA_PARKS, weight) != 0)
		return 3;
	return 0;
}

/* May c park weight more requests (nothing answered)? */
int policy_may_park(const struct conn *c, unsigned weight)
{
	return policy_park_limit(c, weight) == 0;
}

/* May r park, counting as weight parked requests? */
int policy_park(struct conn *c, const struct proto_req *r, unsigned weight)
{
	switch (policy_park_limit(c, weight)) {
	case 1:
		conn_reply_error(c, r->op, r->id, IPC_ELIMIT, "connection limit "
				 "reached: %d parked requests", CONN_PARKS_MAX);
		return IPC_ELIMIT;
	case 2:
		conn_reply_error(c, r->op, r->id, IPC_ELIMIT, "daemon limit "
				 "reached: max-parked %zu", c->srv->cfg.max_parked);
		return IPC_ELIMIT;
	case 3:
		return policy_refuse_quota(c, r, "uid-max-parked", QUOTA_PARKS);
	}
	return 0;
}
