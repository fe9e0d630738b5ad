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
	ctl_emit_u(e, "reserved", in->reserved);
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

/* Print a page of a listing as part of one JSON array: its elements,
 * after the `first` earlier ones. */
static void ctl_json_page(const struct ipc_info *infos, size_t n, size_t first)
{
	size_t i;

	for (i = 0; i < n; i++) {
		if (first + i)
			putchar(',');
		ctl_json_info(&infos[i]);
	}
}

/* The ls table's header, the name column w wide; the headers are the
 * JSON keys in capitals. */
static void ctl_ls_header(int w)
{
	printf("%-*s %-5s %10s %10s %12s %12s %8s %8s %-10s %4s\n", w,
	       "NAME", "KIND", "SIZE", "MAXSIZE", "BYTES", "MEMORY", "GETTERS",
	       "PUTTERS", "OWNER", "MODE");
}

/* One row of the ls table, the name column w wide. */
static void ctl_ls_row(const struct ipc_info *in, int w)
{
	char user[64];

	printf("%-*s %-5s %10llu %10lld %12llu %12llu %8u %8u %-10s %04o",
	       w, in->name, ctl_kind_name(in->kind), in->size, in->maxsize,
	       in->bytes, in->memory, in->getters, in->putters,
	       ctl_user(in->uid, user, sizeof(user)), in->mode);
	ctl_pipe_row(in);
	if (in->reserved)
		printf("  reserved=%llu", in->reserved);
	if (in->durable)
		fputs("  durable=true", stdout);
	if (in->max_deliveries)
		printf("  dead_letter=%s max_deliveries=%u dead_lettered=%llu",
		       in->dead_letter, in->max_deliveries, in->dead_lettered);
	putchar('\n');
}

/* Print a page of ls as table rows, after the `first` earlier ones: the
 * first page sets the name column's width (*w) and prints the header. */
static void ctl_ls_page(const struct ipc_info *infos, size_t n, size_t first,
			int *w)
{
	size_t i;

	if (first == 0) {
		*w = 4;
		for (i = 0; i < n; i++)
			if ((int)strlen(infos[i].name) > *w)
				*w = (int)strlen(infos[i].name);
		ctl_ls_header(*w);
	}
	for (i = 0; i < n; i++)
		ctl_ls_row(&infos[i], *w);
}

/* ls: print every queue and pipe as a table or JSON, a page at a time
 * (ipc_list_page): however many the daemon lists, one page is held. */
int cmd_ls(ipc_client *c, const struct ctl_args *a)
{
	char after[IPC_NAME_MAX + 1] = "";
	struct ipc_info *infos;
	size_t n, total = 0;
	int rc, more = 1, w = 4, json = (a->seen & OPT_JSON) != 0;

	while (more) {
		rc = ipc_list_page(c, after, &infos, &n, sizeof(*infos), &more);
		if (rc)
			return ctl_fail(c, rc, "ls", NULL);
		if (json && total == 0)
			putchar('[');
		if (json)
			ctl_json_page(infos, n, total);
		else
			ctl_ls_page(infos, n, total, &w);
		if (n > 0)
			strcpy(after, infos[n - 1].name);
		total += n;
		ipc_free(infos);
	}
	if (json)
		printf("]\n");
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
