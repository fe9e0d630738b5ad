/* SPDX-License-Identifier: MIT */
/*
 * quota.c: per-uid accounting, a chained hash table of records by uid.
 * The uids come from SO_PEERCRED, which a client cannot choose, so an
 * unkeyed hash is enough; the bucket array doubles past one record per
 * bucket.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "ipc_defs.h"
#include "quota.h"

#define QUOTA_MIN_BUCKETS 16u

/* Set up an empty table with no limits. */
void quota_init(struct quota *q, uid_t self)
{
	memset(q, 0, sizeof(*q));
	q->self = self;
}

/* Free every record. */
void quota_fini(struct quota *q)
{
	struct quota_user *u, *next;
	size_t i;

	for (i = 0; i < q->nbuckets; i++)
		for (u = q->buckets[i]; u != NULL; u = next) {
			next = u->next;
			free(u);
		}
	free(q->buckets);
	q->buckets = NULL;
	q->nbuckets = q->count = 0;
}

/* 1 when uid is not held to the per-uid limits. */
int quota_exempt(const struct quota *q, uid_t uid)
{
	return uid == 0 || uid == q->self;
}

/* The bucket of uid in a table of n buckets (a power of two). */
static size_t quota_bucket(uid_t uid, size_t n)
{
	return (size_t)(((uint64_t)uid * 0x9E3779B97F4A7C15ull) >> 32) & (n - 1);
}

/* Double the bucket array (or make the first): 0 or -1. */
static int quota_grow(struct quota *q)
{
	size_t n = q->nbuckets ? q->nbuckets * 2 : QUOTA_MIN_BUCKETS, i, b;
	struct quota_user **nb = calloc(n, sizeof(*nb)), *u, *next;

	if (nb == NULL)
		return -1;
	for (i = 0; i < q->nbuckets; i++)
		for (u = q->buckets[i]; u != NULL; u = next) {
			next = u->next;
			b = quota_bucket(u->uid, n);
			u->next = nb[b];
			nb[b] = u;
		}
	free(q->buckets);
	q->buckets = nb;
	q->nbuckets = n;
	return 0;
}

/* The record of uid, or NULL. */
struct quota_user *quota_find(const struct quota *q, uid_t uid)
{
	struct quota_user *u;

	if (q->nbuckets == 0)
		return NULL;
	for (u = q->buckets[quota_bucket(uid, q->nbuckets)]; u != NULL; u = u->next)
		if (u->uid == uid)
			return u;
	return NULL;
}

/* The record of uid, made when missing. */
struct quota_user *quota_user(struct quota *q, uid_t uid)
{
	struct quota_user *u = quota_find(q, uid);
	size_t b;

	if (u != NULL)
		return u;
	if (q->count >= q->nbuckets && quota_grow(q) != 0)
		return NULL;
	u = calloc(1, sizeof(*u));
	if (u == NULL)
		return NULL;
	u->table = q;
	u->uid = uid;
	b = quota_bucket(uid, q->nbuckets);
	u->next = q->buckets[b];
	q->buckets[b] = u;
	q->count++;
	return u;
}

/* May u take n more of res? */
int quota_admit(const struct quota_user *u, enum quota_res res, size_t n)
{
	size_t lim = u->table->limit[res];

	if (lim == 0 || quota_exempt(u->table, u->uid))
		return 0;
	return u->used[res] > lim || n > lim - u->used[res] ? IPC_ELIMIT : 0;
}

/* Charge u with n of res. */
void quota_charge(struct quota_user *u, enum quota_res res, size_t n)
{
	if (u != NULL)
		u->used[res] += n;
}

/* Unlink and free u, which holds nothing. */
static void quota_drop(struct quota_user *u)
{
	struct quota *q = u->table;
	struct quota_user **pp = &q->buckets[quota_bucket(u->uid, q->nbuckets)];

	while (*pp != u)
		pp = &(*pp)->next;
	*pp = u->next;
	q->count--;
	free(u);
}

/* Give back n of res charged to u; free u once it holds nothing. */
void quota_uncharge(struct quota_user *u, enum quota_res res, size_t n)
{
	int r;

	if (u == NULL)
		return;
	u->used[res] -= n < u->used[res] ? n : u->used[res];
	for (r = 0; r < QUOTA_NRES; r++)
		if (u->used[r] != 0)
			return;
	quota_drop(u);
}

/* Move one owned object from uid from to uid to. */
int quota_move_object(struct quota *q, uid_t from, uid_t to)
{
	struct quota_user *t;

	if (from == to)
		return 0;
	t = quota_user(q, to);
	if (t == NULL)
		return IPC_ENOMEM;
	quota_charge(t, QUOTA_OBJECTS, 1);
	quota_uncharge(quota_find(q, from), QUOTA_OBJECTS, 1);
	return 0;
}
