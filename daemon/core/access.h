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
#include <sys/types.h>

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
