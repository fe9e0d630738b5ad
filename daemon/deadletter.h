/* SPDX-License-Identifier: MIT */
/*
 * deadletter.h: poison messages. A queue created with max-deliveries N
 * and a dead-letter queue (QOPEN) sends a message that came back unacked
 * after its Nth delivery to that queue instead of delivering it again
 * (the counting is queue.c's, see "Dead-lettering" in queue.h). This is
 * the daemon's half: the target is looked up by name at each move, and
 * the journal is kept right when either queue is durable.
 *
 * The move is refused, and the message goes back to its queue as if
 * dead-lettering were off (counted in dead_letter_failed and logged),
 * when the dead-letter queue does not exist (or is a pipe), is full (as
 * a put finds it: reserved slots count, and what its held read-ahead
 * consumers' hold pages count as handed out is acked first), may not
 * be written by the owner of the source queue (its uid and
 * primary group), or its journal has no room. Nothing is lost: the
 * operator creates or empties the dead-letter queue, and the next time
 * the message comes back unacked it moves.
 */
#ifndef IPCD_DEADLETTER_H
#define IPCD_DEADLETTER_H

#include <stdint.h>

struct proto_req;
struct queue;
struct server;

/* Check QOPEN request r's dead-lettering fields: both max_deliveries and
 * dead_letter or neither, and not the queue itself. 0 or IPC_EINVAL. */
int deadletter_check(const struct proto_req *r);
/* Turn dead-lettering on for q (just created or recovered): after max
 * deliveries, to the queue named target. 0 or IPC_ENOMEM. */
int deadletter_set(struct server *s, struct queue *q, uint32_t max,
		   const char *target);
/* Does existing queue q have the dead-lettering r asks for (none asked:
 * yes)? 0 or IPC_EMISMATCH. */
int deadletter_match(const struct queue *q, const struct proto_req *r);

#endif
