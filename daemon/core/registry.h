/* SPDX-License-Identifier: MIT */
/*
 * registry.h: the daemon's namespace, a hash table from name to object
 * (queue or pipe). One namespace for both kinds: a name is either a queue
 * or a pipe. Lookups, inserts and removals are O(1) on average; the table
 * grows as needed. The registry never owns the objects.
 */
#ifndef IPCD_REGISTRY_H
#define IPCD_REGISTRY_H

#include <stddef.h>
#include <stdint.h>

struct registry;
struct access_owner;

/* A new empty registry; NULL on ENOMEM. */
struct registry *registry_new(void);
/* Free the table (not the objects; remove or walk them first). NULL is fine. */
void registry_free(struct registry *r);

/* Add name -> (kind, obj): 0, IPC_EEXIST when taken, IPC_ENAME when empty
 * or longer than IPC_NAME_MAX (bytes are not checked: see proto), IPC_ENOMEM.
 * The name is copied. */
int registry_add(struct registry *r, const char *name, int kind, void *obj);
/* The object named name, with its kind in *kind (kind may be NULL); NULL
 * when absent. */
void *registry_find(const struct registry *r, const char *name, int *kind);
/* The owner and mode recorded with name (all zero, i.e. root's with mode
 * 0, until set), to read or change in place; NULL when absent. */
struct access_owner *registry_owner(const struct registry *r, const char *name);
/* registry_find() and registry_owner() in one lookup: the object, its
 * kind in *kind and its owner in *owner; NULL when absent. */
void *registry_find_owned(const struct registry *r, const char *name, int *kind,
			  struct access_owner **owner);
/* Remove name; returns its object or NULL when absent. */
void *registry_remove(struct registry *r, const char *name);
/* The hash of name in r: SipHash-1-3 under r's key, which is random per
 * registry, so the same name hashes differently in every daemon. */
uint64_t registry_hash(const struct registry *r, const char *name);
/* How many names are registered. */
size_t registry_count(const struct registry *r);

/* Call fn for every entry, in name order (sorted, for stable listings).
 * fn must not add or remove entries. 0 (it allocates nothing). */
int registry_walk(const struct registry *r,
		  void (*fn)(const char *name, int kind, void *obj, void *arg),
		  void *arg);
/* Call fn for at most max entries whose names are strictly greater than
 * after in byte order ("": from the first), in that order; *more is 1
 * when another entry follows the last one given, else 0. How many were
 * given. O(log n + max): the registry keeps its names sorted (nameidx.h).
 * fn must not add or remove entries. */
size_t registry_walk_after(const struct registry *r, const char *after, size_t max,
			   void (*fn)(const char *name, int kind, void *obj, void *arg),
			   void *arg, int *more);

#endif
