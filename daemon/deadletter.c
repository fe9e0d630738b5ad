/* SPDX-License-Identifier: MIT */
/* deadletter.c: moving poison messages to their dead-letter queue. */
#include <string.h>

#include "access.h"
#include "broker.h"
#include "deadletter.h"
#include "durable.h"
#include "ipc_defs.h"
#include "lease.h"
#include "log.h"
#include "proto.h"
#include "qmsg.h"
#include "queue.h"
#include "server.h"

/* QOPEN's dead-lettering fields: both or neither, not the queue itself. */
int deadletter_check(const struct proto_req *r)
{
	if ((r->max_deliveries == 0) != (r->dead_letter[0] == '\0'))
		return IPC_EINVAL;
	if (strcmp(r->dead_letter, r->name) == 0)
		return IPC_EINVAL;
	return 0;
}

/* Does q have the dead-lettering r asks for? */
int deadletter_match(const struct queue *q, const struct proto_req *r)
{
	struct queue_stats st;

	if (r->max_deliveries == 0)
		return 0;
	queue_stats(q, &st);
	if (st.max_deliveries != r->max_deliveries ||
	    strcmp(queue_dead_letter(q), r->dead_letter) != 0)
		return IPC_EMISMATCH;
	return 0;
}

/* The dead-letter queue of q, if q's owner may write to it: 0 with
 * *dlq, or why not (whether it has room, the put says). */
static int deadletter_target(struct server *s, struct queue *q,
			     struct queue **dlq)
{
	struct broker *b = &s->broker;
	struct broker_info info;
	struct access_cred owner = { 0 };
	int rc;

	if (b->reg == NULL)
		return IPC_ESHUTDOWN;  /* broker_fini: the namespace is gone */
	if ((rc = broker_queue_find(b, queue_dead_letter(q), dlq)) != 0)
		return rc;
	if (broker_info(b, queue_name(q), &info) != 0)
		return IPC_ENOENT;     /* q is being deleted */
	owner.uid = info.owner.uid;
	owner.gid = info.owner.gid;
	return broker_access(b, queue_dead_letter(q), &owner, ACCESS_WRITE);
}

/* q's max-deliveries. */
static unsigned deadletter_max(const struct queue *q)
{
	struct queue_stats st;

	queue_stats(q, &st);
	return (unsigned)st.max_deliveries;
}

/* queue_dead_fn: move m, given up on by q, to q's dead-letter queue (arg
 * is the server): 0, or why not (m is untouched and stays q's). */
static int deadletter_move(struct queue *q, struct qmsg *m, void *arg)
{
	struct server *s = arg;
	struct queue *dlq = NULL;
	uint64_t jid = m->jid;
	int rc = deadletter_target(s, q, &dlq);

	if (rc == 0) {
		m->jid = 0;
		rc = durable_put(s, dlq, m);
	}
	/* Full as for a put: reserved slots count, and what consumers'
	 * hold pages count as handed out is acked first. */
	if (rc == 0 && (rc = lease_put(dlq, m, 0)) != 0)
		durable_drop(s, m);
	if (rc != 0) {
		m->jid = jid;
		log_warn("queue '%s': a message delivered %u times stays: "
			 "dead-letter queue '%s': %s", queue_name(q),
			 deadletter_max(q), queue_dead_letter(q),
			 proto_strerror(rc));
		return rc;
	}
	durable_forget(s, jid);   /* gone from q's journal */
	log_info("queue '%s': a message delivered %u times moved to '%s'",
		 queue_name(q), deadletter_max(q),
		 queue_dead_letter(q));
	return 0;
}

/* Turn dead-lettering on for q. */
int deadletter_set(struct server *s, struct queue *q, uint32_t max,
		   const char *target)
{
	return queue_set_dead_letter(q, max, target, deadletter_move, s);
}
