/* SPDX-License-Identifier: MIT */
/*
 * quota.h: what each uid makes the daemon hold, against per-uid limits
 * (dbus-broker's user accounting). Plain data, no I/O.
 *
 * One record per uid that holds anything: its connections, the queues
 * and pipes it owns, the bytes of the messages it put (charged to the
 * putter until the message is freed, wherever it is by then: queued,
 * parked, in flight, or being written to a consumer) and its parked
 * requests. A record lives while any of them is non-zero; whoever keeps
 * a pointer to one (a connection, a message) holds a charge on it.
 *
 * Everyone is counted; the limits do not apply to the exempt uids (root
 * and the uid the daemon runs as: a user's own daemon serves that user
 * without a per-uid cap).
 */
#ifndef IPCD_QUOTA_H
#define IPCD_QUOTA_H

#include <stddef.h>
#include <sys/types.h>

/* What a uid is charged for. */
enum quota_res {
	QUOTA_CONNS,     /* connections admitted */
	QUOTA_OBJECTS,   /* queues and pipes it owns */
	QUOTA_BYTES,     /* memory of the messages it put (qmsg_footprint) */
	QUOTA_PARKS,     /* requests it has parked */
	QUOTA_NRES
};

struct quota;

struct quota_user {
	struct quota_user *next;   /* in its bucket's chain */
	struct quota *table;
	uid_t uid;
	size_t used[QUOTA_NRES];
};

struct quota {
	struct quota_user **buckets;
	size_t nbuckets;           /* a power of two (0 before the first user) */
	size_t count;              /* records alive */
	size_t limit[QUOTA_NRES];  /* per uid; 0: none */
	uid_t self;                /* the daemon's uid, exempt like root */
};

/* Set up an empty table with no limits, exempting uid 0 and self. */
void quota_init(struct quota *q, uid_t self);
/* Free every record (pointers to them are dangling afterwards). */
void quota_fini(struct quota *q);
/* 1 when uid is not held to the per-uid limits. */
int quota_exempt(const struct quota *q, uid_t uid);
/* The record of uid, made (with nothing charged) when missing; NULL on
 * ENOMEM. A record with nothing charged is freed by the next uncharge
 * of it, or lives until quota_fini: charge it at once. */
struct quota_user *quota_user(struct quota *q, uid_t uid);
/* The record of uid, or NULL when it holds nothing. */
struct quota_user *quota_find(const struct quota *q, uid_t uid);
/* May u take n more of res? 0, or IPC_ELIMIT (never for exempt uids). */
int quota_admit(const struct quota_user *u, enum quota_res res, size_t n);
/* Charge u with n of res (NULL u: nothing). */
void quota_charge(struct quota_user *u, enum quota_res res, size_t n);
/* Give back n of res charged to u (NULL u: nothing); u is freed once it
 * holds nothing at all. */
void quota_uncharge(struct quota_user *u, enum quota_res res, size_t n);
/* Move one owned object from uid from to uid to (a chown): 0 or
 * IPC_ENOMEM (nothing moved). Not checked against to's limit: only
 * root gives names away. */
int quota_move_object(struct quota *q, uid_t from, uid_t to);

#endif
