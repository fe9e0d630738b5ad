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

/* stat: a pipe's own lines. */
static void ctl_pipe_stat(const struct ipc_info *in)
{
	int i;

	if (in->kind != IPC_KIND_PIPE)
		return;
	printf("duplex: %s\nend0: %s\nend1: %s\nmaxbytes: %llu\n",
	       in->duplex ? "true" : "false", ctl_end_state(in, 0),
	       ctl_end_state(in, 1), in->maxbytes);
	for (i = 0; i < 2; i++)
		printf("size%d%d: %llu\nbytes%d%d: %llu\ngetters%d%d: %u\n"
		       "putters%d%d: %u\n", i, 1 - i, in->dir[i].size, i,
		       1 - i, in->dir[i].bytes, i, 1 - i, in->dir[i].getters,
		       i, 1 - i, in->dir[i].putters);
}

/* A pipe's own JSON keys, after the common ones. */
static void ctl_json_pipe(const struct ipc_info *in)
{
	int i;

	if (in->kind != IPC_KIND_PIPE)
		return;
	printf(",\"duplex\":%s,\"end0\":\"%s\",\"end1\":\"%s\",\"maxbytes\":%llu",
	       in->duplex ? "true" : "false", ctl_end_state(in, 0),
	       ctl_end_state(in, 1), in->maxbytes);
	for (i = 0; i < 2; i++)
		printf(",\"size%d%d\":%llu,\"bytes%d%d\":%llu,\"getters%d%d\":%u,"
		       "\"putters%d%d\":%u", i, 1 - i, in->dir[i].size, i, 1 - i,
		       in->dir[i].bytes, i, 1 - i, in->dir[i].getters, i, 1 - i,
		       in->dir[i].putters);
}

/* Print one queue or pipe as a JSON object (the keys are stable). */
static void ctl_json_info(const struct ipc_info *in)
{
	char user[64], group[64];

	printf("{\"name\":");
	ctl_json_str(in->name);
	printf(",\"kind\":\"%s\",\"maxsize\":%lld,\"size\":%llu,\"bytes\":%llu,"
	       "\"memory\":%llu,\"getters\":%u,\"putters\":%u,\"puts\":%llu,\"gets\":%llu,"
	       "\"inflight\":%llu,\"requeued\":%llu,\"owner\":",
	       ctl_kind_name(in->kind), in->maxsize, in->size, in->bytes,
	       in->memory, in->getters, in->putters, in->puts, in->gets, in->inflight,
	       in->requeued);
	ctl_json_str(ctl_user(in->uid, user, sizeof(user)));
	printf(",\"group\":");
	ctl_json_str(ctl_group(in->gid, group, sizeof(group)));
	printf(",\"uid\":%u,\"gid\":%u,\"mode\":\"%04o\"", in->uid, in->gid,
	       in->mode);
	if (in->kind == IPC_KIND_QUEUE)
		printf(",\"durable\":%s", in->durable ? "true" : "false");
	if (in->journal_bytes)
		printf(",\"journal_bytes\":%llu,\"journal_live\":%llu",
		       in->journal_bytes, in->journal_live);
	if (in->max_deliveries) {
		printf(",\"max_deliveries\":%u,\"dead_letter\":", in->max_deliveries);
		ctl_json_str(in->dead_letter);
		printf(",\"dead_lettered\":%llu,\"dead_letter_failed\":%llu",
		       in->dead_lettered, in->dead_letter_failed);
	}
	ctl_json_pipe(in);
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
	struct ipc_info in;
	char user[64], group[64];
	int rc;

	rc = ipc_stat(c, a->pos[1], &in, sizeof(in));
	if (rc)
		return ctl_fail(c, rc, "stat", a->pos[1]);
	if (a->seen & OPT_JSON) {
		ctl_json_info(&in);
		putchar('\n');
		return 0;
	}
	printf("name: %s\nkind: %s\nmaxsize: %lld\nsize: %llu\nbytes: %llu\n"
	       "memory: %llu\ngetters: %u\nputters: %u\nputs: %llu\ngets: %llu\n"
	       "inflight: %llu\nrequeued: %llu\nowner: %s\ngroup: %s\n"
	       "uid: %u\ngid: %u\nmode: %04o\n",
	       in.name, ctl_kind_name(in.kind), in.maxsize, in.size, in.bytes,
	       in.memory, in.getters, in.putters, in.puts, in.gets, in.inflight,
	       in.requeued, ctl_user(in.uid, user, sizeof(user)),
	       ctl_group(in.gid, group, sizeof(group)), in.uid, in.gid, in.mode);
	if (in.kind == IPC_KIND_QUEUE)
		printf("durable: %s\n", in.durable ? "true" : "false");
	if (in.journal_bytes)
		printf("journal_bytes: %llu\njournal_live: %llu\n",
		       in.journal_bytes, in.journal_live);
	if (in.max_deliveries)
		printf("max_deliveries: %u\ndead_letter: %s\ndead_lettered: %llu\n"
		       "dead_letter_failed: %llu\n", in.max_deliveries,
		       in.dead_letter, in.dead_lettered, in.dead_letter_failed);
	ctl_pipe_stat(&in);
	return 0;
}
