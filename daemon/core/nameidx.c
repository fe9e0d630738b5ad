/* SPDX-License-Identifier: MIT */
/*
 * nameidx.c: a skip list of names. Each node is linked at level 0 and, with
 * probability 1/4 per level, at the levels above, so a search skips most
 * nodes. Heights come from a private generator, never from the names, so
 * no choice of names makes searches slow.
 */
#include <stdlib.h>
#include <string.h>

#include "ipc_defs.h"
#include "nameidx.h"

/* Set up an empty index. */
void nameidx_init(struct nameidx *x)
{
	memset(x, 0, sizeof(*x));
	x->rng = 0x9e3779b97f4a7c15ULL ^ (uint64_t)(uintptr_t)x;
}

/* Free every node. */
void nameidx_fini(struct nameidx *x)
{
	struct nameidx_node *n, *next;

	for (n = x->head[0]; n; n = next) {
		next = n->next[0];
		free(n);
	}
	memset(x->head, 0, sizeof(x->head));
}

/* A height for a new node: 1, then one more with probability 1/4 each. */
static unsigned nameidx_height(struct nameidx *x)
{
	unsigned h = 1;

	/* xorshift64 */
	x->rng ^= x->rng << 13;
	x->rng ^= x->rng >> 7;
	x->rng ^= x->rng << 17;
	for (uint64_t r = x->rng; h < NAMEIDX_LEVELS && (r & 3) == 0; r >>= 2)
		h++;
	return h;
}

/* For each level, the link after which key goes (the head's link when
 * no node is below key): update[i]. */
static void nameidx_path(struct nameidx *x, const char *key,
			 struct nameidx_node ***update)
{
	struct nameidx_node **links = x->head, *n;
	unsigned i = NAMEIDX_LEVELS;

	while (i-- > 0) {
		while ((n = links[i]) != NULL && strcmp(n->key, key) < 0)
			links = n->next;
		update[i] = &links[i];
	}
}

/* Index key -> val. */
int nameidx_insert(struct nameidx *x, const char *key, void *val)
{
	struct nameidx_node **update[NAMEIDX_LEVELS], *n;
	unsigned h = nameidx_height(x), i;

	n = malloc(sizeof(*n) + h * sizeof(n->next[0]));
	if (!n)
		return IPC_ENOMEM;
	n->key = key;
	n->val = val;
	n->height = h;
	nameidx_path(x, key, update);
	for (i = 0; i < h; i++) {
		n->next[i] = *update[i];
		*update[i] = n;
	}
	return 0;
}

/* Drop key from the index. */
void nameidx_remove(struct nameidx *x, const char *key)
{
	struct nameidx_node **update[NAMEIDX_LEVELS], *n;
	unsigned i;

	nameidx_path(x, key, update);
	n = *update[0];
	if (!n || strcmp(n->key, key) != 0)
		return;
	for (i = 0; i < n->height; i++)
		*update[i] = n->next[i];
	free(n);
}

/* The first node whose key is strictly greater than after. */
struct nameidx_node *nameidx_after(const struct nameidx *x, const char *after)
{
	struct nameidx_node *const *links = x->head, *n;
	unsigned i = NAMEIDX_LEVELS;

	if (after == NULL || after[0] == '\0')
		return x->head[0];
	while (i-- > 0)
		while ((n = links[i]) != NULL && strcmp(n->key, after) <= 0)
			links = n->next;
	return links[0];
}
