/* SPDX-License-Identifier: MIT */
/*
 * registry.c: the namespace, a chained hash table from name to (kind,
 * object), hashed with SipHash-1-3 under a random key chosen when the
 * registry is made, so clients cannot pick names that share a bucket. The bucket array doubles when the load passes 3/4, so
 * lookups stay O(1) on average however many names there are.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <sys/random.h>

#include "access.h"
#include "ipc_defs.h"
#include "nameidx.h"
#include "registry.h"
#include "siphash.h"

#define REGISTRY_MIN_BUCKETS 16

struct rentry {
	struct rentry *next;  /* in its bucket's chain */
	uint64_t hash;
	int kind;
	void *obj;
	struct access_owner owner; /* root's, mode 0, until the broker sets it */
	char name[];
};

struct registry {
	struct rentry **buckets;
	size_t nbuckets;      /* a power of two */
	size_t count;
	struct nameidx order; /* the same entries in name order */
	uint64_t key[2];      /* the hash key, secret and random */
};

/* SipHash-1-3 of name under r's key. */
uint64_t registry_hash(const struct registry *r, const char *name)
{
	return siphash13(r->key, name, strlen(name));
}

/* A random hash key. Without getrandom (very old kernels) the clock and
 * the pid still make every daemon's key differ. */
static void registry_seed(uint64_t key[2])
{
	struct timespec ts;

	if (getrandom(key, 2 * sizeof(*key), GRND_NONBLOCK) == (ssize_t)(2 * sizeof(*key)))
		return;
	clock_gettime(CLOCK_REALTIME, &ts);
	key[0] = (uint64_t)ts.tv_nsec * 0x9e3779b97f4a7c15ULL ^ (uint64_t)getpid();
	key[1] = (uint64_t)ts.tv_sec * 0xc2b2ae3d27d4eb4fULL ^ (uintptr_t)key;
}

/* The chain head where an entry of hash h lives. */
static struct rentry **registry_bucket(const struct registry *r, uint64_t h)
{
	return &r->buckets[h & (r->nbuckets - 1)];
}

/* A new empty registry; NULL on ENOMEM. */
struct registry *registry_new(void)
{
	struct registry *r = calloc(1, sizeof(*r));

	if (!r)
		return NULL;
	nameidx_init(&r->order);
	registry_seed(r->key);
	r->nbuckets = REGISTRY_MIN_BUCKETS;
	r->buckets = calloc(r->nbuckets, sizeof(*r->buckets));
	if (!r->buckets) {
		free(r);
		return NULL;
	}
	return r;
}

/* Free the table and its entries (not the objects). */
void registry_free(struct registry *r)
{
	struct rentry *e, *next;
	size_t i;

	if (!r)
		return;
	for (i = 0; i < r->nbuckets; i++) {
		for (e = r->buckets[i]; e; e = next) {
			next = e->next;
			free(e);
		}
	}
	nameidx_fini(&r->order);
	free(r->buckets);
	free(r);
}

/* Double the bucket array; on ENOMEM keep the old one (slower, still right). */
static void registry_grow(struct registry *r)
{
	size_t n = r->nbuckets * 2, i;
	struct rentry **nb, *e, *next;

	if (n > SIZE_MAX / sizeof(*nb))
		return;
	nb = calloc(n, sizeof(*nb));
	if (!nb)
		return;
	for (i = 0; i < r->nbuckets; i++) {
		for (e = r->buckets[i]; e; e = next) {
			next = e->next;
			e->next = nb[e->hash & (n - 1)];
			nb[e->hash & (n - 1)] = e;
		}
	}
	free(r->buckets);
	r->buckets = nb;
	r->nbuckets = n;
}

/* The entry named name (hash h), NULL when absent. */
static struct rentry *registry_lookup(const struct registry *r,
				      const char *name, uint64_t h)
{
	struct rentry *e;

	for (e = *registry_bucket(r, h); e; e = e->next)
		if (e->hash == h && strcmp(e->name, name) == 0)
			return e;
	return NULL;
}

/* Add name -> (kind, obj): 0, IPC_EEXIST, IPC_ENAME or IPC_ENOMEM. */
int registry_add(struct registry *r, const char *name, int kind, void *obj)
{
	size_t len = strnlen(name, IPC_NAME_MAX + 1);
	struct rentry *e, **b;
	uint64_t h;

	if (len == 0 || len > IPC_NAME_MAX)
		return IPC_ENAME;
	h = registry_hash(r, name);
	if (registry_lookup(r, name, h))
		return IPC_EEXIST;
	e = malloc(sizeof(*e) + len + 1);
	if (!e)
		return IPC_ENOMEM;
	memcpy(e->name, name, len + 1);
	e->hash = h;
	e->kind = kind;
	e->obj = obj;
	memset(&e->owner, 0, sizeof(e->owner));
	if (nameidx_insert(&r->order, e->name, e) != 0) {
		free(e);
		return IPC_ENOMEM;
	}
	if (r->count + 1 > r->nbuckets / 4 * 3)
		registry_grow(r);
	b = registry_bucket(r, h);
	e->next = *b;
	*b = e;
	r->count++;
	return 0;
}

/* The object named name, its kind in *kind (if kind is not NULL); NULL when absent. */
void *registry_find(const struct registry *r, const char *name, int *kind)
{
	struct rentry *e = registry_lookup(r, name, registry_hash(r, name));

	if (!e)
		return NULL;
	if (kind)
		*kind = e->kind;
	return e->obj;
}

/* The object, kind and owner of name; NULL when absent. */
void *registry_find_owned(const struct registry *r, const char *name, int *kind,
			  struct access_owner **owner)
{
	struct rentry *e = registry_lookup(r, name, registry_hash(r, name));

	if (!e)
		return NULL;
	*kind = e->kind;
	*owner = &e->owner;
	return e->obj;
}

/* The owner and mode of name, to read or change; NULL when absent. */
struct access_owner *registry_owner(const struct registry *r, const char *name)
{
	struct rentry *e = registry_lookup(r, name, registry_hash(r, name));

	return e ? &e->owner : NULL;
}

/* Remove name; returns its object or NULL when absent. */
void *registry_remove(struct registry *r, const char *name)
{
	uint64_t h = registry_hash(r, name);
	struct rentry **pp, *e;
	void *obj;

	for (pp = registry_bucket(r, h); (e = *pp); pp = &e->next) {
		if (e->hash == h && strcmp(e->name, name) == 0) {
			*pp = e->next;
			nameidx_remove(&r->order, e->name);
			obj = e->obj;
			free(e);
			r->count--;
			return obj;
		}
	}
	return NULL;
}

/* How many names are registered. */
size_t registry_count(const struct registry *r)
{
	return r->count;
}

/* Call fn for every entry in name order: 0. */
int registry_walk(const struct registry *r,
		  void (*fn)(const char *name, int kind, void *obj, void *arg),
		  void *arg)
{
	int more = 0;

	registry_walk_after(r, "", r->count, fn, arg, &more);
	return 0;
}

/* Call fn for at most max entries named after `after`, in name order. */
size_t registry_walk_after(const struct registry *r, const char *after, size_t max,
			   void (*fn)(const char *name, int kind, void *obj, void *arg),
			   void *arg, int *more)
{
	const struct nameidx_node *n = nameidx_after(&r->order, after);
	const struct rentry *e;
	size_t done = 0;

	for (; n != NULL && done < max; n = n->next[0], done++) {
		e = n->val;
		fn(e->name, e->kind, e->obj, arg);
	}
	*more = n != NULL;
	return done;
}
