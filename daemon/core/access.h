/* SPDX-License-Identifier: MIT */
/*
 * access.h: who may use a queue or pipe, decided like file permissions.
 * Plain C, no I/O.
 *
 * Every queue and pipe has an owner uid, a group gid and a mode (the low
 * 9 bits of a file mode). A peer whose uid is the owner's gets the owner
 * bits; else a peer in the group (primary or supplementary) gets the group
 * bits; else the other bits. Read (4) permits get/recv, write (2) permits
 * put/send; the execute bits are kept but mean nothing. uid 0 is admitted
 * everywhere.
 */
#ifndef IPCD_ACCESS_H
#define IPCD_ACCESS_H

#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include "ipc_defs.h"

#define ACCESS_READ 04u
#define ACCESS_WRITE 02u
/* The bits a mode may have. */
#define ACCESS_MODE_MASK 0777u
/* The mode of a queue or pipe created without one. */
#define ACCESS_MODE_DEFAULT 0660u

/* A connected peer, as SO_PEERCRED / SO_PEERGROUPS describe it. */
struct access_cred {
	uid_t uid;
	gid_t gid;                /* primary group */
	const gid_t *groups;      /* supplementary groups (may be NULL) */
	size_t ngroups;
};

/* The owner and permissions of one queue or pipe. */
struct access_owner {
	uid_t uid;
	gid_t gid;
	unsigned mode;            /* ACCESS_MODE_MASK bits */
};

/* One principal of a create-prefix rule: a uid, a group (primary or
 * supplementary), or anyone. */
enum access_who_kind { ACCESS_WHO_UID, ACCESS_WHO_GID, ACCESS_WHO_ANY };
struct access_who {
	int kind;                 /* enum access_who_kind */
	uint32_t id;              /* the uid or gid */
};
/* The most principals one rule lists. */
#define ACCESS_WHO_MAX 8
/* Longest principal list of a rule, as written. */
#define ACCESS_WHO_TEXT_MAX 255

/* Who may create names under a prefix (ipcd.conf(5) "create-prefix"):
 * the longest rule whose prefix starts a name decides; root always may. */
struct access_rule {
	char prefix[IPC_NAME_MAX + 1];
	struct access_who who[ACCESS_WHO_MAX];
	size_t nwho;
	char who_text[ACCESS_WHO_TEXT_MAX + 1]; /* "root,group:svc" */
};

/* The rule of rules[0..n) with the longest prefix that starts name, or
 * NULL when none does. */
const struct access_rule *access_rule_match(const struct access_rule *rules,
					    size_t n, const char *name);
/* 0 when rule r lets cred create a name under its prefix (root always
 * may), else IPC_EPERM. */
int access_rule_admits(const struct access_rule *r, const struct access_cred *c);
/* The built-in per-user rule: 1 with *uid when name is u.UID.REST (UID a
 * decimal uid without leading zeros: only that uid and root may create
 * it), else 0. */
int access_user_prefix(const char *name, uid_t *uid);

/* Owner := the creator (cred's uid and primary gid), with mode. */
void access_owner_init(struct access_owner *o, const struct access_cred *c,
		       unsigned mode);
/* 0 when cred may do want (ACCESS_READ, ACCESS_WRITE or both) on o, else
 * IPC_EPERM. */
int access_check(const struct access_owner *o, const struct access_cred *c,
		 unsigned want);
/* 0 when cred may use o at all (read or write), else IPC_EPERM. */
int access_check_any(const struct access_owner *o, const struct access_cred *c);
/* 0 when cred owns o or is root (may delete it), else IPC_EPERM. */
int access_check_owner(const struct access_owner *o,
		       const struct access_cred *c);
/* Parse an octal mode ("0640", "640") of at most ACCESS_MODE_MASK bits:
 * 0 with *mode, or -1. */
int access_parse_mode(const char *s, unsigned *mode);

#endif
