/* SPDX-License-Identifier: MIT */
/*
 * ctl_admin.c: ipcctl's operator commands: peek, purge, chmod, chown.
 */
#include <errno.h>
#include <grp.h>
#include <limits.h>
#include <pwd.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ctl.h"

/* peek NAME [--count N]: print the first N (default 1) ready messages,
 * each on its own line, leaving them in the queue. */
int cmd_peek(ipc_client *c, const struct ctl_args *a)
{
	static struct ipc_msg msgs[IPC_BATCH_MAX];
	long want = a->count > 0 ? a->count : 1;
	size_t n = 0, i;
	int rc;

	if (want > IPC_BATCH_MAX)
		return ctl_usage_error("peek: --count is at most %d", IPC_BATCH_MAX);
	rc = ipc_queue_peek(c, a->pos[1], msgs, (size_t)want, &n);
	if (rc)
		return ctl_fail(c, rc, "peek", a->pos[1]);
	for (i = 0; i < n; i++) {
		fwrite(msgs[i].data, 1, msgs[i].len, stdout);
		putchar('\n');
	}
	return fflush(stdout) ? EXIT_ERR : 0;
}

/* purge NAME: drop every ready message; print how many. */
int cmd_purge(ipc_client *c, const struct ctl_args *a)
{
	uint64_t dropped = 0;
	int rc = ipc_queue_purge(c, a->pos[1], &dropped);

	if (rc)
		return ctl_fail(c, rc, "purge", a->pos[1]);
	printf("%llu\n", (unsigned long long)dropped);
	return 0;
}

/* chmod NAME MODE: set the permissions of a queue or pipe. */
int cmd_chmod(ipc_client *c, const struct ctl_args *a)
{
	unsigned mode;
	int rc = ctl_parse_mode(a->pos[2], &mode);

	if (rc)
		return rc;
	rc = ipc_chmod(c, a->pos[1], mode);
	return rc ? ctl_fail(c, rc, "chmod", a->pos[1]) : 0;
}

/* A user (or group, group != 0) name or number into *id: 0, or the usage
 * exit status. */
static int ctl_parse_id(const char *s, int group, unsigned *id)
{
	struct passwd *pw;
	struct group *gr;
	char *end;
	unsigned long v;

	errno = 0;
	v = strtoul(s, &end, 10);
	if (*s && !*end && !errno && *s != '-' && v < UINT_MAX) {
		*id = (unsigned)v;
		return 0;
	}
	if (!group && (pw = getpwnam(s)) != NULL) {
		*id = pw->pw_uid;
		return 0;
	}
	if (group && (gr = getgrnam(s)) != NULL) {
		*id = gr->gr_gid;
		return 0;
	}
	return ctl_usage_error("no such %s '%s'", group ? "group" : "user", s);
}

/* chown NAME USER[:GROUP] or NAME :GROUP: set the owner and/or group. */
int cmd_chown(ipc_client *c, const struct ctl_args *a)
{
	char spec[256];
	char *colon;
	unsigned uid = (unsigned)-1, gid = (unsigned)-1;
	int rc = 0;

	snprintf(spec, sizeof(spec), "%s", a->pos[2]);
	colon = strchr(spec, ':');
	if (colon)
		*colon++ = '\0';
	if (spec[0])
		rc = ctl_parse_id(spec, 0, &uid);
	if (!rc && colon && *colon)
		rc = ctl_parse_id(colon, 1, &gid);
	if (rc)
		return rc;
	if (!spec[0] && !(colon && *colon))
		return ctl_usage_error("chown: want USER, USER:GROUP or :GROUP");
	rc = ipc_chown(c, a->pos[1], (uid_t)uid, (gid_t)gid);
	return rc ? ctl_fail(c, rc, "chown", a->pos[1]) : 0;
}

