/* SPDX-License-Identifier: MIT */
/*
 * ctl_info.c: ipcctl's reports: ls and stat, as text or JSON, and the
 * messages it prints on failure. Text and JSON use the same field names:
 * ls's column headers and stat's keys are the JSON keys.
 */
#include <grp.h>
#include <pwd.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "ctl.h"

/* Print one "ipcctl: ..." line on stderr. */
void ctl_msg(const char *fmt, ...)
{
	va_list ap;

	fputs("ipcctl: ", stderr);
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fputc('\n', stderr);
}

/* The exit status for a library result. */
static int ctl_exit_code(int rc)
{
	if (rc == 0)
		return 0;
	if (rc == IPC_EEMPTY)
		return EXIT_EMPTY;
	if (rc == IPC_EFULL)
		return EXIT_FULL;
	if (rc == IPC_EEOF)
		return EXIT_EOF;
	if (rc == IPC_EPIPE)
		return EXIT_BROKEN;
	if (rc == IPC_ENOSPC)
		return EXIT_NOSPC;
	return EXIT_ERR;
}

/* Does cmd work on pipes (send, recv) rather than queues? */
static int ctl_pipe_cmd(const char *cmd)
{
	return strncmp(cmd, "send", 4) == 0 || strncmp(cmd, "recv", 4) == 0;
}

/* Report a failed library call on c and return its exit status. A name
 * of the other kind is said in so many words. */
int ctl_fail(ipc_client *c, int rc, const char *cmd, const char *name)
{
	const char *why = ipc_last_error(c);

	if (!why[0])
		why = ipc_strerror(rc);
	if (rc == IPC_EWRONGTYPE && name)
		ctl_msg("%s: %s is a %s, not a %s", cmd, name,
			ctl_pipe_cmd(cmd) ? "queue" : "pipe",
			ctl_pipe_cmd(cmd) ? "pipe" : "queue");
	else if (name)
		ctl_msg("%s %s: %s", cmd, name, why);
	else
		ctl_msg("%s: %s", cmd, why);
	return ctl_exit_code(rc);
}

/* The word for a kind. */
const char *ctl_kind_name(int kind)
{
	if (kind == IPC_KIND_QUEUE)
		return "queue";
	if (kind == IPC_KIND_PIPE)
		return "pipe";
	return "?";
}

/* The user name of uid into buf, or its number. */
static const char *ctl_user(unsigned uid, char *buf, size_t len)
{
	/* The last answer is kept: ls asks for the same few owners row after
	 * row, and each getpwuid() may read the whole passwd file (37,000
	 * rows took seconds). */
	static char name[64];
	static unsigned last;
	static int known;
	struct passwd *pw;

	if (!known || uid != last) {
		pw = getpwuid((uid_t)uid);
		if (pw)
			snprintf(name, sizeof(name), "%s", pw->pw_name);
		else
			snprintf(name, sizeof(name), "%u", uid);
		last = uid;
		known = 1;
	}
	snprintf(buf, len, "%s", name);
	return buf;
}

/* The group name of gid into buf, or its number. */
static const char *ctl_group(unsigned gid, char *buf, size_t len)
{
	struct group *gr = getgrgid((gid_t)gid);

	if (gr)
		snprintf(buf, len, "%s", gr->gr_name);
	else
		snprintf(buf, len, "%u", gid);
	return buf;
}

/* Print s as a JSON string. */
void ctl_json_str(const char *s)
{
	putchar('"');
	for (; *s; s++) {
		unsigned char ch = (unsigned char)*s;

		if (ch == '"' || ch == '\\')
			printf("\\%c", ch);
		else if (ch < 0x20)
			printf("\\u%04x", ch);
		else
			putchar(ch);
	}
	putchar('"');
}

/* The state of end e of a pipe: attached, closed or free. */
static const char *ctl_end_state(const struct ipc_info *in, int e)
{
	if (in->ends & IPC_END_ATTACHED(e))
		return "attached";
	if (in->ends & IPC_END_CLOSED(e))
		return "closed";
	return "free";
}

/* ls: the end of a pipe's row, as key=value with the JSON keys. */
static void ctl_pipe_row(const struct ipc_info *in)
{
	if (in->kind != IPC_KIND_PIPE)
		return;
	printf("  duplex=%s end0=%s end1=%s size01=%llu bytes01=%llu "
	       "size10=%llu bytes10=%llu", in->duplex ? "true" : "false",
	       ctl_end_state(in, 0), ctl_end_state(in, 1), in->dir[0].size,
	       in->dir[0].bytes, in->dir[1].size, in->dir[1].bytes);
}

/* Where the fields of one queue or pipe go: "key: value" lines (stat)
 * or the members of a JSON object (stat --json, ls --json), same keys. */
struct ctl_emit {
	int json;
	int first;      /* JSON: no member written yet */
};

/* Start the field key. */
static void ctl_emit_key(struct ctl_emit *e, const char *key)
{
	if (e->json)
		printf("%s\"%s\":", e->first ? "" : ",", key);
	else
		printf("%s: ", key);
	e->first = 0;
}

/* A field holding a number. */
static void ctl_emit_num(struct ctl_emit *e, const char *key, long long v,
			 unsigned long long u, int is_signed)
{
	ctl_emit_key(e, key);
	if (is_signed)
		printf("%lld", v);
	else
		printf("%llu", u);
	if (!e->json)
		putchar('\n');
}

/* A field holding an unsigned number. */
static void ctl_emit_u(struct ctl_emit *e, const char *key, unsigned long long v)
{
	ctl_emit_num(e, key, 0, v, 0);
}

/* A field holding a string (quoted and escaped in JSON). */
static void ctl_emit_s(struct ctl_emit *e, const char *key, const char *s)
{
	ctl_emit_key(e, key);
	if (e->json) {
		ctl_json_str(s);
	} else {
		fputs(s, stdout);
		putchar('\n');
	}
}

/* A field holding true or false. */
static void ctl_emit_b(struct ctl_emit *e, const char *key, int b)
{
	ctl_emit_key(e, key);
	fputs(b ? "true" : "false", stdout);
	if (!e->json)
		putchar('\n');
}

/* A pipe's own fields, after the common ones. */
static void ctl_emit_pipe(struct ctl_emit *e, const struct ipc_info *in)
{
	static const char *const dir_keys[] = { "size", "bytes", "getters", "putters" };
	unsigned long long v[4];
	char key[16];
	int i, k;

	ctl_emit_b(e, "duplex", in->duplex);
	ctl_emit_s(e, "end0", ctl_end_state(in, 0));
	ctl_emit_s(e, "end1", ctl_end_state(in, 1));
	ctl_emit_u(e, "maxbytes", in->maxbytes);
	for (i = 0; i < 2; i++) {
		v[0] = in->dir[i].size;
		v[1] = in->dir[i].bytes;
		v[2] = in->dir[i].getters;
		v[3] = in->dir[i].putters;
		for (k = 0; k < 4; k++) {
			snprintf(key, sizeof key, "%s%d%d", dir_keys[k], i, 1 - i);
			ctl_emit_u(e, key, v[k]);
		}
	}
}

/* The fields only some queues or pipes have. */
static void ctl_emit_more(struct ctl_emit *e, const struct ipc_info *in)
{
	if (in->kind == IPC_KIND_QUEUE)
		ctl_emit_b(e, "durable", in->durable);
	if (in->journal_bytes) {
		ctl_emit_u(e, "journal_bytes", in->journal_bytes);
		ctl_emit_u(e, "journal_live", in->journal_live);
	}
	if (in->max_deliveries) {
		ctl_emit_u(e, "max_deliveries", in->max_deliveries);
		ctl_emit_s(e, "dead_letter", in->dead_letter);
		ctl_emit_u(e, "dead_lettered", in->dead_lettered);
		ctl_emit_u(e, "dead_letter_failed", in->dead_letter_failed);
	}
	if (in->kind == IPC_KIND_PIPE)
		ctl_emit_pipe(e, in);
}

/* The fields of one queue or pipe, in their stable order. */
static void ctl_emit_info(struct ctl_emit *e, const struct ipc_info *in)
{
	char user[64], group[64], mode[16];

	ctl_emit_s(e, "name", in->name);
	ctl_emit_s(e, "kind", ctl_kind_name(in->kind));
	ctl_emit_num(e, "maxsize", in->maxsize, 0, 1);
	ctl_emit_u(e, "size", in->size);
	ctl_emit_u(e, "bytes", in->bytes);
	ctl_emit_u(e, "memory", in->memory);
	ctl_emit_u(e, "getters", in->getters);
	ctl_emit_u(e, "putters", in->putters);
	ctl_emit_u(e, "puts", in->puts);
	ctl_emit_u(e, "gets", in->gets);
	ctl_emit_u(e, "inflight", in->inflight);
	ctl_emit_u(e, "requeued", in->requeued);
	ctl_emit_s(e, "owner", ctl_user(in->uid, user, sizeof(user)));
	ctl_emit_s(e, "group", ctl_group(in->gid, group, sizeof(group)));
	ctl_emit_u(e, "uid", in->uid);
	ctl_emit_u(e, "gid", in->gid);
	snprintf(mode, sizeof mode, "%04o", in->mode);
	ctl_emit_s(e, "mode", mode);
	ctl_emit_more(e, in);
}

/* Print one queue or pipe as a JSON object (the keys are stable). */
static void ctl_json_info(const struct ipc_info *in)
{
	struct ctl_emit e = { .json = 1, .first = 1 };

	putchar('{');
	ctl_emit_info(&e, in);
	putchar('}');
}

/* Print a whole listing as one JSON array. */
static void ctl_json_list(const struct ipc_info *infos, size_t n)
{
	size_t i;

	putchar('[');
	for (i = 0; i < n; i++) {
		if (i)
			putchar(',');
		ctl_json_info(&infos[i]);
	}
	printf("]\n");
}

/* ls as a table; the headers are the JSON keys in capitals. */
static void ctl_ls_table(const struct ipc_info *infos, size_t n)
{
	size_t i, w = 4;
	char user[64];

	for (i = 0; i < n; i++)
		if (strlen(infos[i].name) > w)
			w = strlen(infos[i].name);
	printf("%-*s %-5s %10s %10s %12s %12s %8s %8s %-10s %4s\n", (int)w,
	       "NAME", "KIND", "SIZE", "MAXSIZE", "BYTES", "MEMORY", "GETTERS",
	       "PUTTERS", "OWNER", "MODE");
	for (i = 0; i < n; i++) {
		printf("%-*s %-5s %10llu %10lld %12llu %12llu %8u %8u %-10s %04o",
		       (int)w, infos[i].name, ctl_kind_name(infos[i].kind),
		       infos[i].size, infos[i].maxsize, infos[i].bytes,
		       infos[i].memory, infos[i].getters,
		       infos[i].putters,
		       ctl_user(infos[i].uid, user, sizeof(user)), infos[i].mode);
		ctl_pipe_row(&infos[i]);
		if (infos[i].durable)
			fputs("  durable=true", stdout);
		if (infos[i].max_deliveries)
			printf("  dead_letter=%s max_deliveries=%u dead_lettered=%llu",
			       infos[i].dead_letter, infos[i].max_deliveries,
			       infos[i].dead_lettered);
		putchar('\n');
	}
}

/* ls: print every queue and pipe as a table or JSON. */
int cmd_ls(ipc_client *c, const struct ctl_args *a)
{
	struct ipc_info *infos;
	size_t n;
	int rc;

	rc = ipc_list(c, &infos, &n, sizeof(*infos));
	if (rc)
		return ctl_fail(c, rc, "ls", NULL);
	if (a->seen & OPT_JSON)
		ctl_json_list(infos, n);
	else
		ctl_ls_table(infos, n);
	ipc_free(infos);
	return 0;
}

/* stat NAME: print one queue or pipe as key: value lines or JSON. */
int cmd_stat(ipc_client *c, const struct ctl_args *a)
{
	struct ctl_emit e = { .json = 0, .first = 1 };
	struct ipc_info in;
	int rc;

	rc = ipc_stat(c, a->pos[1], &in, sizeof(in));
	if (rc)
		return ctl_fail(c, rc, "stat", a->pos[1]);
	if (a->seen & OPT_JSON) {
		ctl_json_info(&in);
		putchar('\n');
		return 0;
	}
	ctl_emit_info(&e, &in);
	return 0;
}
