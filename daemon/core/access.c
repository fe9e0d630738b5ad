/* SPDX-License-Identifier: MIT */
/* access.c: file-like permission checks on queues and pipes. */
#include <stdlib.h>
#include <string.h>

#include "access.h"
#include "ipc_defs.h"

/* Owner := the creator, with mode. */
void access_owner_init(struct access_owner *o, const struct access_cred *c,
		       unsigned mode)
{
	o->uid = c->uid;
	o->gid = c->gid;
	o->mode = mode & ACCESS_MODE_MASK;
}

/* Is cred a member of group gid (primary or supplementary)? */
static int access_in_group(const struct access_cred *c, gid_t gid)
{
	size_t i;

	if (c->gid == gid)
		return 1;
	for (i = 0; i < c->ngroups; i++)
		if (c->groups[i] == gid)
			return 1;
	return 0;
}

/* The rwx triplet of o's mode that applies to cred. */
static unsigned access_bits(const struct access_owner *o,
			    const struct access_cred *c)
{
	if (c->uid == o->uid)
		return (o->mode >> 6) & 7u;
	if (access_in_group(c, o->gid))
		return (o->mode >> 3) & 7u;
	return o->mode & 7u;
}

/* May cred do want on o? Like a file: owner, else group, else other bits. */
int access_check(const struct access_owner *o, const struct access_cred *c,
		 unsigned want)
{
	if (c->uid == 0)
		return 0;
	return (access_bits(o, c) & want) == want ? 0 : IPC_EPERM;
}

/* May cred read or write o? */
int access_check_any(const struct access_owner *o, const struct access_cred *c)
{
	if (c->uid == 0)
		return 0;
	return access_bits(o, c) & (ACCESS_READ | ACCESS_WRITE) ? 0 : IPC_EPERM;
}

/* Does cred own o (or is it root)? */
int access_check_owner(const struct access_owner *o,
		       const struct access_cred *c)
{
	return c->uid == 0 || c->uid == o->uid ? 0 : IPC_EPERM;
}

/* Parse an octal mode of at most ACCESS_MODE_MASK bits. */
int access_parse_mode(const char *s, unsigned *mode)
{
	char *end;
	unsigned long v;

	if (s == NULL || *s < '0' || *s > '7')
		return -1;
	v = strtoul(s, &end, 8);
	if (*end != '\0' || v > ACCESS_MODE_MASK)
		return -1;
	*mode = (unsigned)v;
	return 0;
}

/* The longest-prefix rule for name. */
const struct access_rule *access_rule_match(const struct access_rule *rules,
					    size_t n, const char *name)
{
	const struct access_rule *best = NULL;
	size_t i, len, best_len = 0;

	for (i = 0; i < n; i++) {
		len = strlen(rules[i].prefix);
		if (len > best_len && strncmp(name, rules[i].prefix, len) == 0) {
			best = &rules[i];
			best_len = len;
		}
	}
	return best;
}

/* Does rule r let cred create a name under its prefix? */
int access_rule_admits(const struct access_rule *r, const struct access_cred *c)
{
	size_t i;

	if (c->uid == 0)
		return 0;
	for (i = 0; i < r->nwho; i++) {
		if (r->who[i].kind == ACCESS_WHO_ANY ||
		    (r->who[i].kind == ACCESS_WHO_UID && c->uid == r->who[i].id) ||
		    (r->who[i].kind == ACCESS_WHO_GID &&
		     access_in_group(c, (gid_t)r->who[i].id)))
			return 0;
	}
	return IPC_EPERM;
}

/* Is name u.UID.REST, and whose? */
int access_user_prefix(const char *name, uid_t *uid)
{
	unsigned long long v = 0;
	const char *p = name + 2;

	if (strncmp(name, "u.", 2) != 0 || *p < '0' || *p > '9' ||
	    (*p == '0' && p[1] != '.'))
		return 0;
	for (; *p >= '0' && *p <= '9'; p++) {
		v = v * 10 + (unsigned)(*p - '0');
		if (v >= UINT32_MAX)
			return 0;
	}
	if (*p != '.')
		return 0;
	*uid = (uid_t)v;
	return 1;
}
