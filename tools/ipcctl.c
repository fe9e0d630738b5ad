/* SPDX-License-Identifier: MIT */
/*
 * ipcctl: command-line access to the queues of ipcd. Uses only the public
 * libipcclient API, like any other program would.
 */
#include <errno.h>
#include <grp.h>
#include <limits.h>
#include <pwd.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <ipcclient/ipcclient.h>

/* Exit statuses. */
#define EXIT_ERR 1
#define EXIT_USAGE 2
#define EXIT_EMPTY 3
#define EXIT_FULL 4
#define EXIT_EOF 5      /* recv --count: the pipe ended first */
#define EXIT_BROKEN 6   /* send: the receiving end is closed */
#define EXIT_NOSPC 7    /* put, create --durable: the daemon's journal is full */

/* Options a subcommand may accept. */
#define OPT_MAXSIZE 0x1u
#define OPT_TIMEOUT 0x2u
#define OPT_ACK 0x4u
#define OPT_MODE 0x100u     /* create --mode */
#define OPT_JSON 0x200u     /* ls, stat --json */
#define OPT_ITER 0x400u     /* top -n/--iterations */
#define OPT_INTERVAL 0x800u /* top --interval */
#define OPT_END 0x1000u     /* send, recv --end */
#define OPT_COUNT 0x2000u   /* recv --count */
#define OPT_DURABLE 0x4000u /* create --durable */


/* The parsed command line. */
struct ctl_args {
	const char *socket;     /* -s, or NULL for the default */
	const char **pos;       /* argc entries; pos[0] is the command */
	int npos;
	unsigned seen;          /* OPT_* given */
	long long maxsize;      /* --maxsize, 0 = unbounded */
	int timeout_ms;         /* --timeout / --nowait, default forever */
	int ack;                /* get --ack */
	unsigned mode;          /* create --mode (OPT_MODE seen) */
	long iterations;        /* top -n: refreshes, 0 = until interrupted */
	int interval_ms;        /* top --interval, default 1 s */
	int end;                /* send, recv --end; -1: the command's default */
	long count;             /* recv --count, 0 = until EOF */
};

/* One subcommand: its word, its handler, how many arguments it takes and
 * which options it accepts. */
struct ctl_cmd {
	const char *name;
	int (*fn)(ipc_client *c, const struct ctl_args *a);
	int min_args;
	int max_args;
	unsigned opts;
};

static const char ctl_usage_text[] =
"usage: ipcctl [-s SOCKET] COMMAND [ARGS...] [OPTIONS]\n"
"\n"
"Commands:\n"
"  ls [--json]             list queues: NAME KIND SIZE MAXSIZE GETTERS PUTTERS\n"
"                          OWNER MODE (MAXSIZE 0 means unbounded)\n"
"  stat NAME [--json]      show one queue as 'key: value' lines, owner and\n"
"                          mode included\n"
"  create NAME [--maxsize N] [--mode MODE] [--durable]\n"
"                          create a queue holding at most N messages\n"
"                          (default 0 = unbounded), owned by you, with\n"
"                          permissions MODE (octal like a file's: read\n"
"                          permits get, write permits put; default: the\n"
"                          daemon's, 0660); fails if NAME exists;\n"
"                          --durable: the queue and its messages survive\n"
"                          a restart of ipcd (its journal, see ipcd(8))\n"
"  top [--interval SECONDS] [-n N]\n"
"                          live view of every queue: depth and puts/gets per\n"
"                          second, refreshed every SECONDS (default 1) until\n"
"                          interrupted, or N times\n"
"  rm NAME                 delete a queue or a pipe and the messages it\n"
"                          holds (its owner or root only)\n"
"  put NAME [DATA] [--timeout SECONDS | --nowait]\n"
"                          put DATA, or all of standard input when DATA is\n"
"                          absent, as one message (binary-safe, at most the\n"
"                          daemon's message size limit)\n"
"  get NAME [--timeout SECONDS | --nowait] [--ack]\n"
"                          take one message and write its bytes to standard\n"
"                          output exactly (no newline added); with --ack it\n"
"                          is acknowledged only once written and flushed: if\n"
"                          writing fails (or ipcctl dies) it goes back to the\n"
"                          head of the queue instead of being lost\n"
"  send NAME [MSG...] [--end E] [--timeout SECONDS | --nowait]\n"
"                          attach end 1 of pipe NAME (creating it), send each\n"
"                          MSG as one message, or each line of standard\n"
"                          input (without its newline) when there is none,\n"
"                          then close the end: the receiver gets EOF after\n"
"                          the last one\n"
"  recv NAME [--count N] [--end E] [--timeout SECONDS | --nowait]\n"
"                          attach end 0 of pipe NAME (creating it) and print\n"
"                          each message on its own line until the sender\n"
"                          closes (EOF), or N messages; then close the end\n"
"                          (what is still buffered for it is dropped, and\n"
"                          the end cannot be attached again)\n"
"\n"
"ls and stat show pipes too: which ends are attached or closed, and the\n"
"messages and bytes buffered each way (0->1 and 1->0).\n"
"\n"
"put and get never create the queue: on a missing queue they fail with\n"
"'no such queue'. Use 'create' first.\n"
"\n"
"Options (anywhere on the line; '--' ends options):\n"
"  -s, --socket PATH       the daemon's socket (default: $IPCD_SOCKET; else the\n"
"                          first of $XDG_RUNTIME_DIR/ipcd.sock, /run/ipcd/ipcd.sock\n"
"                          that accepts a connection)\n"
"  --timeout SECONDS       wait at most that long (decimal, e.g. 0.2);\n"
"                          default: wait forever\n"
"  --nowait                do not wait (same as --timeout 0)\n"
"  --maxsize N             create: the most messages the queue holds\n"
"  --mode MODE             create: the queue's permissions (octal)\n"
"  --json                  ls, stat: one JSON document (fields as in stat;\n"
"                          mode as an octal string)\n"
"  --interval SECONDS      top: time between refreshes\n"
"  -n, --iterations N      top: stop after N refreshes\n"
"  --end E                 send, recv: use pipe end E (0 or 1) instead;\n"
"                          a one-way pipe only sends from 1 to 0\n"
"  --count N               recv: stop after N messages\n"
"  --timeout (send, recv)  per message: Full / Empty when it runs out\n"
"  -h, --help              show this help\n"
"\n"
"Exit status: 0 success, 1 error (no such queue, permission denied, a\n"
"daemon limit reached, ...), 2 usage error, 3 empty (get or recv timed\n"
"out), 4 full (put or send timed out), 5 end of pipe before recv --count\n"
"messages, 6 broken pipe (send: the receiving end is closed), 7 no space\n"
"(put, create --durable: the daemon's journal could not store it).\n";

/* Print one "ipcctl: ..." line on stderr. */
__attribute__((format(printf, 1, 2)))
static void ctl_msg(const char *fmt, ...)
{
	va_list ap;

	fputs("ipcctl: ", stderr);
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fputc('\n', stderr);
}

/* Report a usage error; returns the usage exit status. */
__attribute__((format(printf, 1, 2)))
static int ctl_usage_error(const char *fmt, ...)
{
	char text[512];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(text, sizeof(text), fmt, ap);
	va_end(ap);
	ctl_msg("%s (try 'ipcctl --help')", text);
	return EXIT_USAGE;
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

/* Report a failed library call on c and return its exit status. */
static int ctl_fail(ipc_client *c, int rc, const char *cmd, const char *name)
{
	const char *why = ipc_last_error(c);

	if (!why[0])
		why = ipc_strerror(rc);
	if (name)
		ctl_msg("%s %s: %s", cmd, name, why);
	else
		ctl_msg("%s: %s", cmd, why);
	return ctl_exit_code(rc);
}

/* The word for a kind. */
static const char *ctl_kind_name(int kind)
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

	snprintf(buf, len, "%s", gr ? gr->gr_name : "");
	if (!gr)
		snprintf(buf, len, "%u", gid);
	return buf;
}

/* Print "label: id (name)", or "label: id" when id has no name. */
static void ctl_print_id(const char *label, unsigned id, const char *name)
{
	char num[16];

	snprintf(num, sizeof(num), "%u", id);
	if (strcmp(num, name) == 0)
		printf("%s: %u\n", label, id);
	else
		printf("%s: %u (%s)\n", label, id, name);
}

/* Print s as a JSON string. */
static void ctl_json_str(const char *s)
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

/* ls: the end of a pipe's row: its ends and what each way holds. */
static void ctl_pipe_row(const struct ipc_info *in)
{
	if (in->kind != IPC_KIND_PIPE)
		return;
	printf("  %s, end0 %s, end1 %s, 0->1: %llu msgs/%llu B, "
	       "1->0: %llu msgs/%llu B", in->duplex ? "duplex" : "one-way",
	       ctl_end_state(in, 0), ctl_end_state(in, 1), in->dir[0].size,
	       in->dir[0].bytes, in->dir[1].size, in->dir[1].bytes);
}

/* stat: a pipe's own lines. */
static void ctl_pipe_stat(const struct ipc_info *in)
{
	int i;

	if (in->kind != IPC_KIND_PIPE)
		return;
	printf("pipe: %s\nend0: %s\nend1: %s\nmaxbytes: %llu\n",
	       in->duplex ? "duplex" : "one-way", ctl_end_state(in, 0),
	       ctl_end_state(in, 1), in->maxbytes);
	for (i = 0; i < 2; i++)
		printf("size%d%d: %llu\nbytes%d%d: %llu\ngetters%d%d: %u\n"
		       "putters%d%d: %u\n", i, 1 - i, in->dir[i].size, i,
		       1 - i, in->dir[i].bytes, i, 1 - i, in->dir[i].getters,
		       i, 1 - i, in->dir[i].putters);
}

/* Print one queue or pipe as a JSON object (the keys are stable). */
static void ctl_json_info(const struct ipc_info *in)
{
	printf("{\"name\":");
	ctl_json_str(in->name);
	printf(",\"kind\":\"%s\",\"maxsize\":%lld,\"size\":%llu,\"bytes\":%llu,"
	       "\"getters\":%u,\"putters\":%u,\"puts\":%llu,\"gets\":%llu,"
	       "\"inflight\":%llu,\"requeued\":%llu,"
	       "\"uid\":%u,\"gid\":%u,\"mode\":\"%04o\"",
	       ctl_kind_name(in->kind), in->maxsize, in->size, in->bytes,
	       in->getters, in->putters, in->puts, in->gets, in->inflight,
	       in->requeued, in->uid, in->gid, in->mode);
	if (in->kind == IPC_KIND_QUEUE)
		printf(",\"durable\":%s", in->durable ? "true" : "false");
	if (in->kind == IPC_KIND_PIPE)
		printf(",\"duplex\":%s,\"end0\":\"%s\",\"end1\":\"%s\","
		       "\"maxbytes\":%llu,\"size01\":%llu,\"bytes01\":%llu,"
		       "\"getters01\":%u,\"putters01\":%u,\"size10\":%llu,"
		       "\"bytes10\":%llu,\"getters10\":%u,\"putters10\":%u",
		       in->duplex ? "true" : "false", ctl_end_state(in, 0),
		       ctl_end_state(in, 1), in->maxbytes, in->dir[0].size,
		       in->dir[0].bytes, in->dir[0].getters, in->dir[0].putters,
		       in->dir[1].size, in->dir[1].bytes, in->dir[1].getters,
		       in->dir[1].putters);
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

/* ls: print every queue and pipe as a table. */
static int cmd_ls(ipc_client *c, const struct ctl_args *a)
{
	struct ipc_info *infos;
	size_t n, i, w = 4;
	int rc;

	char user[64];

	rc = ipc_list(c, &infos, &n, sizeof(*infos));
	if (rc)
		return ctl_fail(c, rc, "ls", NULL);
	if (a->seen & OPT_JSON) {
		ctl_json_list(infos, n);
		ipc_free(infos);
		return 0;
	}
	for (i = 0; i < n; i++)
		if (strlen(infos[i].name) > w)
			w = strlen(infos[i].name);
	printf("%-*s %-5s %10s %10s %8s %8s %-10s %4s\n", (int)w, "NAME", "KIND",
	       "SIZE", "MAXSIZE", "GETTERS", "PUTTERS", "OWNER", "MODE");
	for (i = 0; i < n; i++) {
		printf("%-*s %-5s %10llu %10lld %8u %8u %-10s %04o", (int)w,
		       infos[i].name, ctl_kind_name(infos[i].kind),
		       infos[i].size, infos[i].maxsize, infos[i].getters,
		       infos[i].putters,
		       ctl_user(infos[i].uid, user, sizeof(user)), infos[i].mode);
		ctl_pipe_row(&infos[i]);
		if (infos[i].durable)
			fputs("  durable", stdout);
		putchar('\n');
	}
	ipc_free(infos);
	return 0;
}

/* stat NAME: print one queue as key: value lines. */
static int cmd_stat(ipc_client *c, const struct ctl_args *a)
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
	printf("name: %s\nkind: %s\nsize: %llu\nmaxsize: %lld\nbytes: %llu\n"
	       "getters: %u\nputters: %u\nputs: %llu\ngets: %llu\n"
	       "inflight: %llu\nrequeued: %llu\n",
	       in.name, ctl_kind_name(in.kind), in.size, in.maxsize, in.bytes,
	       in.getters, in.putters, in.puts, in.gets, in.inflight,
	       in.requeued);
	ctl_print_id("owner", in.uid, ctl_user(in.uid, user, sizeof(user)));
	ctl_print_id("group", in.gid, ctl_group(in.gid, group, sizeof(group)));
	printf("mode: %04o\n", in.mode);
	if (in.kind == IPC_KIND_QUEUE)
		printf("durable: %s\n", in.durable ? "yes" : "no");
	if (in.journal_bytes)
		printf("journal: %llu bytes, %llu live\n", in.journal_bytes,
		       in.journal_live);
	ctl_pipe_stat(&in);
	return 0;
}

/* create NAME [--maxsize N] [--mode M] [--durable]: create a queue that
 * must not exist yet. */
static int cmd_create(ipc_client *c, const struct ctl_args *a)
{
	struct ipc_queue_opts o = IPC_QUEUE_OPTS_INIT;
	int rc;

	o.maxsize = a->maxsize;
	o.flags = IPC_QUEUE_CREATE | IPC_QUEUE_EXCL;
	if (a->seen & OPT_DURABLE)
		o.flags |= IPC_QUEUE_DURABLE;
	if (a->seen & OPT_MODE)
		o.mode = (int)a->mode;
	rc = ipc_queue_open(c, a->pos[1], &o, NULL);
	if (rc)
		return ctl_fail(c, rc, "create", a->pos[1]);
	return 0;
}

/* rm NAME: delete a queue or a pipe (one request deletes either). */
static int cmd_rm(ipc_client *c, const struct ctl_args *a)
{
	int rc;

	rc = ipc_delete(c, a->pos[1]);
	if (rc)
		return ctl_fail(c, rc, "rm", a->pos[1]);
	return 0;
}

/* Read all of stdin, at most max bytes, into *out (malloc'd) and *len.
 * 0, or an exit status after reporting why. */
static int ctl_read_stdin(size_t max, char **out, size_t *len)
{
	size_t cap = max + 1, n = 0;
	char *buf = malloc(cap);
	size_t r;

	if (!buf) {
		ctl_msg("put: out of memory");
		return EXIT_ERR;
	}
	/* One byte of room past max tells "exactly max" from "more". */
	while (n < cap && (r = fread(buf + n, 1, cap - n, stdin)) > 0)
		n += r;
	if (ferror(stdin)) {
		ctl_msg("put: reading standard input: %s", strerror(errno));
		free(buf);
		return EXIT_ERR;
	}
	if (n > max) {
		ctl_msg("put: standard input is over the message limit of %zu bytes",
			max);
		free(buf);
		return EXIT_ERR;
	}
	*out = buf;
	*len = n;
	return 0;
}

/* put NAME [DATA]: put DATA or standard input as one message. */
static int cmd_put(ipc_client *c, const struct ctl_args *a)
{
	char *buf = NULL;
	const char *data;
	size_t len;
	int rc;

	if (a->npos > 2) {
		data = a->pos[2];
		len = strlen(data);
	} else {
		rc = ctl_read_stdin(ipc_msg_max(c), &buf, &len);
		if (rc)
			return rc;
		data = buf;
	}
	rc = ipc_queue_put(c, a->pos[1], data, len, a->timeout_ms);
	free(buf);
	if (rc)
		return ctl_fail(c, rc, "put", a->pos[1]);
	return 0;
}

/* get NAME [--ack]: take one message and write it to standard output as
 * is. With --ack the message is acked only once written and flushed; if
 * writing fails the connection closes unacked and the daemon puts the
 * message back at the head of the queue. */
static int cmd_get(ipc_client *c, const struct ctl_args *a)
{
	uint64_t tag = 0;
	void *data;
	size_t len;
	int rc;

	if (a->ack)
		rc = ipc_queue_get_ack(c, a->pos[1], &data, &len, &tag, a->timeout_ms, 0);
	else
		rc = ipc_queue_get(c, a->pos[1], &data, &len, a->timeout_ms);
	if (rc)
		return ctl_fail(c, rc, "get", a->pos[1]);
	if ((len && fwrite(data, 1, len, stdout) != len) || fflush(stdout)) {
		ctl_msg("get: writing standard output: %s%s", strerror(errno),
			a->ack ? " (not acked: the message stays in the queue)" : "");
		ipc_free(data);
		return EXIT_ERR;
	}
	ipc_free(data);
	if (a->ack && (rc = ipc_queue_ack(c, a->pos[1], tag)) != 0)
		return ctl_fail(c, rc, "get --ack", a->pos[1]);
	return 0;
}

/* Set by SIGINT/SIGTERM: top stops at the next refresh. */
static volatile sig_atomic_t ctl_stop;

/* SIGINT or SIGTERM during top. */
static void ctl_on_signal(int sig)
{
	(void)sig;
	ctl_stop = 1;
}

/* The entry named name in infos (n entries), or NULL. */
static const struct ipc_info *ctl_find_info(const struct ipc_info *infos,
					    size_t n, const char *name)
{
	size_t i;

	for (i = 0; i < n; i++)
		if (strcmp(infos[i].name, name) == 0)
			return &infos[i];
	return NULL;
}

/* Per-second rate of a counter that went from was to now in secs (0 for
 * a new or recreated queue). */
static double ctl_rate(unsigned long long now, unsigned long long was,
		       int known, double secs)
{
	if (!known || now < was || secs <= 0)
		return 0;
	return (double)(now - was) / secs;
}

/* Print one refresh of top: cur against prev, secs apart. */
static void ctl_top_print(const struct ipc_info *cur, size_t n,
			  const struct ipc_info *prev, size_t np, double secs,
			  int tty)
{
	const struct ipc_info *p;
	size_t i, w = 4;

	for (i = 0; i < n; i++)
		if (strlen(cur[i].name) > w)
			w = strlen(cur[i].name);
	if (tty)
		fputs("\033[H\033[2J", stdout);
	printf("%-*s %-5s %10s %10s %10s %10s %8s %8s\n", (int)w, "NAME",
	       "KIND", "SIZE", "MAXSIZE", "PUT/s", "GET/s", "GETTERS", "PUTTERS");
	for (i = 0; i < n; i++) {
		p = ctl_find_info(prev, np, cur[i].name);
		printf("%-*s %-5s %10llu %10lld %10.1f %10.1f %8u %8u\n", (int)w,
		       cur[i].name, ctl_kind_name(cur[i].kind), cur[i].size,
		       cur[i].maxsize,
		       ctl_rate(cur[i].puts, p ? p->puts : 0, p != NULL, secs),
		       ctl_rate(cur[i].gets, p ? p->gets : 0, p != NULL, secs),
		       cur[i].getters, cur[i].putters);
	}
	if (!tty)
		putchar('\n');
	fflush(stdout);
}

/* Sleep ms milliseconds, or less when a signal stops top. */
static void ctl_sleep_ms(int ms)
{
	struct timespec ts = { ms / 1000, (long)(ms % 1000) * 1000000L };

	while (!ctl_stop && nanosleep(&ts, &ts) != 0 && errno == EINTR)
		;
}

/* Seconds between two monotonic times. */
static double ctl_secs(const struct timespec *a, const struct timespec *b)
{
	return (double)(b->tv_sec - a->tv_sec) +
	       (double)(b->tv_nsec - a->tv_nsec) / 1e9;
}

/* top: list every interval and show depths and put/get rates, until
 * interrupted or a->iterations refreshes. */
static int cmd_top(ipc_client *c, const struct ctl_args *a)
{
	struct sigaction sa = { .sa_handler = ctl_on_signal };
	struct ipc_info *prev = NULL, *cur;
	struct timespec t0, t1;
	size_t np = 0, n;
	long done = 0;
	int rc, tty = isatty(STDOUT_FILENO);

	sigaction(SIGINT, &sa, NULL);
	sigaction(SIGTERM, &sa, NULL);
	rc = ipc_list(c, &prev, &np, sizeof(*prev));
	if (rc)
		return ctl_fail(c, rc, "top", NULL);
	clock_gettime(CLOCK_MONOTONIC, &t0);
	while (!ctl_stop && (a->iterations == 0 || done < a->iterations)) {
		ctl_sleep_ms(a->interval_ms);
		if (ctl_stop)
			break;
		rc = ipc_list(c, &cur, &n, sizeof(*cur));
		if (rc) {
			ipc_free(prev);
			return ctl_fail(c, rc, "top", NULL);
		}
		clock_gettime(CLOCK_MONOTONIC, &t1);
		ctl_top_print(cur, n, prev, np, ctl_secs(&t0, &t1), tty);
		ipc_free(prev);
		prev = cur;
		np = n;
		t0 = t1;
		done++;
	}
	ipc_free(prev);
	return 0;
}

/* Send each line of standard input (without its newline) as a message
 * until the end of the input or a failed send: the send's result. */
static int ctl_send_lines(ipc_client *c, const char *name, int end,
			  int timeout_ms)
{
	char *line = NULL;
	size_t cap = 0;
	ssize_t n;
	int rc = 0;

	while (rc == 0 && (n = getline(&line, &cap, stdin)) >= 0) {
		if (n > 0 && line[n - 1] == '\n')
			n--;
		rc = ipc_pipe_send(c, name, end, line, (size_t)n, timeout_ms);
	}
	free(line);
	return rc;
}

/* The end a pipe command uses: --end, else dflt. */
static int ctl_end(const struct ctl_args *a, int dflt)
{
	return a->end < 0 ? dflt : a->end;
}

/* send NAME [MSG...]: attach end 1 (creating the pipe), send each MSG (or
 * each line of standard input) as one message, close the end. */
static int cmd_send(ipc_client *c, const struct ctl_args *a)
{
	const char *name = a->pos[1];
	int end = ctl_end(a, 1), rc, i;

	rc = ipc_pipe_attach(c, name, end, IPC_PIPE_CREATE, NULL);
	if (rc)
		return ctl_fail(c, rc, "send", name);
	if (a->npos > 2) {
		for (i = 2; i < a->npos && rc == 0; i++)
			rc = ipc_pipe_send(c, name, end, a->pos[i],
					   strlen(a->pos[i]), a->timeout_ms);
	} else {
		rc = ctl_send_lines(c, name, end, a->timeout_ms);
		if (rc == 0 && ferror(stdin)) {
			ctl_msg("send: reading standard input: %s", strerror(errno));
			return EXIT_ERR;
		}
	}
	if (rc == 0)
		rc = ipc_pipe_close(c, name, end);
	if (rc)
		return ctl_fail(c, rc, "send", name);
	return 0;
}

/* recv NAME: attach end 0 (creating the pipe), print each message on its
 * own line until EOF (exit 0) or --count messages (exit 5 when EOF comes
 * first), close the end. */
static int cmd_recv(ipc_client *c, const struct ctl_args *a)
{
	const char *name = a->pos[1];
	int end = ctl_end(a, 0), rc;
	long got = 0;
	void *data;
	size_t len;

	rc = ipc_pipe_attach(c, name, end, IPC_PIPE_CREATE, NULL);
	while (rc == 0 && (a->count == 0 || got < a->count)) {
		rc = ipc_pipe_recv(c, name, end, &data, &len, a->timeout_ms);
		if (rc)
			break;
		got++;
		if ((len && fwrite(data, 1, len, stdout) != len) ||
		    putchar('\n') == EOF || fflush(stdout)) {
			ctl_msg("recv: writing standard output: %s", strerror(errno));
			ipc_free(data);
			return EXIT_ERR;
		}
		ipc_free(data);
	}
	if (rc == IPC_EEOF && a->count) {
		ctl_msg("recv %s: end of pipe after %ld of %ld messages", name,
			got, a->count);
		return EXIT_EOF;
	}
	if (rc == IPC_EEOF)
		rc = 0;
	if (rc == 0)
		rc = ipc_pipe_close(c, name, end);
	if (rc)
		return ctl_fail(c, rc, "recv", name);
	return 0;
}

static const struct ctl_cmd ctl_cmds[] = {
	{ "ls", cmd_ls, 0, 0, OPT_JSON },
	{ "stat", cmd_stat, 1, 1, OPT_JSON },
	{ "create", cmd_create, 1, 1, OPT_MAXSIZE | OPT_MODE | OPT_DURABLE },
	{ "top", cmd_top, 0, 0, OPT_ITER | OPT_INTERVAL },
	{ "rm", cmd_rm, 1, 1, 0 },
	{ "put", cmd_put, 1, 2, OPT_TIMEOUT },
	{ "get", cmd_get, 1, 1, OPT_TIMEOUT | OPT_ACK },
	{ "send", cmd_send, 1, INT_MAX, OPT_TIMEOUT | OPT_END },
	{ "recv", cmd_recv, 1, 1, OPT_TIMEOUT | OPT_END | OPT_COUNT },
};

/* The subcommand called name, or NULL. */
static const struct ctl_cmd *ctl_find_cmd(const char *name)
{
	size_t i;

	for (i = 0; i < sizeof(ctl_cmds) / sizeof(ctl_cmds[0]); i++)
		if (strcmp(ctl_cmds[i].name, name) == 0)
			return &ctl_cmds[i];
	return NULL;
}

/* Parse a timeout in decimal seconds into milliseconds (rounded up);
 * 0 or the usage exit status. */
static int ctl_parse_timeout(const char *s, int *ms)
{
	char *end;
	double sec, t;
	long long v;

	errno = 0;
	sec = strtod(s, &end);
	if (end == s || *end || errno ||
	    !(sec >= 0 && sec <= (double)INT_MAX / 1000.0))
		return ctl_usage_error("bad timeout '%s': want seconds >= 0", s);
	t = sec * 1000.0;
	v = (long long)t;
	if ((double)v < t)
		v++;
	*ms = (int)(v > INT_MAX ? INT_MAX : v);
	return 0;
}

/* Parse --maxsize N; 0 or the usage exit status. */
static int ctl_parse_maxsize(const char *s, long long *out)
{
	char *end;
	long long v;

	errno = 0;
	v = strtoll(s, &end, 10);
	if (end == s || *end || errno || v < 0)
		return ctl_usage_error("bad maxsize '%s': want an integer >= 0", s);
	*out = v;
	return 0;
}

/* Split "--opt=value" or take the next argument as the option's value.
 * Returns the value or NULL when missing; advances *i past a taken one. */
static const char *ctl_opt_value(int argc, char **argv, int *i,
				 const char *eq)
{
	if (eq)
		return eq + 1;
	if (*i + 1 >= argc)
		return NULL;
	return argv[++*i];
}

/* Does arg name the long option opt (alone or as opt=...)? Sets *eq to
 * the '=' when there is one. */
static int ctl_is_opt(const char *arg, const char *opt, const char **eq)
{
	size_t n = strlen(opt);

	if (strncmp(arg, opt, n) != 0 || (arg[n] && arg[n] != '='))
		return 0;
	*eq = arg[n] ? arg + n : NULL;
	return 1;
}

/* Parse an octal mode of at most 0777; 0 or the usage exit status. */
static int ctl_parse_mode(const char *s, unsigned *out)
{
	char *end;
	unsigned long v;

	errno = 0;
	v = strtoul(s, &end, 8);
	if (end == s || *end || errno || *s == '-' || v > 0777)
		return ctl_usage_error("bad mode '%s': want octal 0000-0777", s);
	*out = (unsigned)v;
	return 0;
}

/* Handle --mode, --interval and -n/--iterations; like ctl_parse_valued. */
static int ctl_parse_svc(int argc, char **argv, int *i, struct ctl_args *a)
{
	const char *arg = argv[*i], *eq = NULL, *v;
	char *end;

	if (ctl_is_opt(arg, "--mode", &eq)) {
		if (!(v = ctl_opt_value(argc, argv, i, eq)))
			return ctl_usage_error("--mode needs an octal mode");
		a->seen |= OPT_MODE;
		return ctl_parse_mode(v, &a->mode);
	}
	if (ctl_is_opt(arg, "--interval", &eq)) {
		if (!(v = ctl_opt_value(argc, argv, i, eq)))
			return ctl_usage_error("--interval needs seconds");
		a->seen |= OPT_INTERVAL;
		if (ctl_parse_timeout(v, &a->interval_ms))
			return EXIT_USAGE;
		return a->interval_ms > 0 ? 0 :
		       ctl_usage_error("--interval must be more than 0");
	}
	if (strcmp(arg, "-n") == 0 || ctl_is_opt(arg, "--iterations", &eq)) {
		if (!(v = ctl_opt_value(argc, argv, i, eq)))
			return ctl_usage_error("%s needs a count", arg);
		a->seen |= OPT_ITER;
		errno = 0;
		a->iterations = strtol(v, &end, 10);
		if (end == v || *end || errno || a->iterations < 1)
			return ctl_usage_error("bad count '%s': want an integer >= 1", v);
		return 0;
	}
	return 1;
}

/* Handle --end E and --count N; like ctl_parse_valued. */
static int ctl_parse_pipe(int argc, char **argv, int *i, struct ctl_args *a)
{
	const char *arg = argv[*i], *eq = NULL, *v;
	char *end;

	if (ctl_is_opt(arg, "--end", &eq)) {
		if (!(v = ctl_opt_value(argc, argv, i, eq)))
			return ctl_usage_error("--end needs 0 or 1");
		if (strcmp(v, "0") != 0 && strcmp(v, "1") != 0)
			return ctl_usage_error("bad end '%s': want 0 or 1", v);
		a->seen |= OPT_END;
		a->end = v[0] - '0';
		return 0;
	}
	if (ctl_is_opt(arg, "--count", &eq)) {
		if (!(v = ctl_opt_value(argc, argv, i, eq)))
			return ctl_usage_error("--count needs a number");
		a->seen |= OPT_COUNT;
		errno = 0;
		a->count = strtol(v, &end, 10);
		if (end == v || *end || errno || a->count < 1)
			return ctl_usage_error("bad count '%s': want an integer >= 1", v);
		return 0;
	}
	return 1;
}

/* Handle one option taking a value at argv[*i]; 0, 1 when arg is not one of
 * them, or the usage exit status. */
static int ctl_parse_valued(int argc, char **argv, int *i, struct ctl_args *a)
{
	const char *arg = argv[*i], *eq = NULL, *v;
	int rc;

	if (strcmp(arg, "-s") == 0 || ctl_is_opt(arg, "--socket", &eq)) {
		if (!(v = ctl_opt_value(argc, argv, i, eq)))
			return ctl_usage_error("%s needs a socket path", arg);
		a->socket = v;
		return 0;
	}
	if (ctl_is_opt(arg, "--timeout", &eq)) {
		if (!(v = ctl_opt_value(argc, argv, i, eq)))
			return ctl_usage_error("--timeout needs seconds");
		if (a->seen & OPT_TIMEOUT)
			return ctl_usage_error("--timeout/--nowait given twice");
		a->seen |= OPT_TIMEOUT;
		return ctl_parse_timeout(v, &a->timeout_ms);
	}
	if (ctl_is_opt(arg, "--maxsize", &eq)) {
		if (!(v = ctl_opt_value(argc, argv, i, eq)))
			return ctl_usage_error("--maxsize needs a number");
		a->seen |= OPT_MAXSIZE;
		return ctl_parse_maxsize(v, &a->maxsize);
	}
	if ((rc = ctl_parse_pipe(argc, argv, i, a)) != 1)
		return rc;
	return ctl_parse_svc(argc, argv, i, a);
}

/* Add a positional argument; 0 or the usage exit status. */
static int ctl_add_pos(struct ctl_args *a, const char *arg)
{
	a->pos[a->npos++] = arg; /* room for argc: the command checks how many */
	return 0;
}

/* Parse the whole command line (options anywhere). 0, -1 after --help was
 * printed, or the usage exit status. */
static int ctl_parse(int argc, char **argv, struct ctl_args *a)
{
	int i, rc, dashdash = 0;

	for (i = 1; i < argc; i++) {
		const char *arg = argv[i];

		if (dashdash || arg[0] != '-' || arg[1] == '\0') {
			rc = ctl_add_pos(a, arg);
		} else if (strcmp(arg, "--") == 0) {
			dashdash = 1;
			rc = 0;
		} else if (strcmp(arg, "-h") == 0 || strcmp(arg, "--help") == 0) {
			fputs(ctl_usage_text, stdout);
			return -1;
		} else if (strcmp(arg, "--json") == 0) {
			a->seen |= OPT_JSON;
			rc = 0;
		} else if (strcmp(arg, "--durable") == 0) {
			a->seen |= OPT_DURABLE;
			rc = 0;
		} else if (strcmp(arg, "--ack") == 0) {
			a->seen |= OPT_ACK;
			a->ack = 1;
			rc = 0;
		} else if (strcmp(arg, "--nowait") == 0) {
			if (a->seen & OPT_TIMEOUT)
				return ctl_usage_error("--timeout/--nowait given twice");
			a->seen |= OPT_TIMEOUT;
			a->timeout_ms = 0;
			rc = 0;
		} else {
			rc = ctl_parse_valued(argc, argv, &i, a);
			if (rc == 1)
				return ctl_usage_error("unknown option '%s'", arg);
		}
		if (rc)
			return rc;
	}
	return 0;
}

/* Check the arguments against what the command takes; 0 or usage status. */
static int ctl_check_args(const struct ctl_cmd *cmd, const struct ctl_args *a)
{
	int nargs = a->npos - 1;

	if (nargs < cmd->min_args)
		return ctl_usage_error("%s: missing argument", cmd->name);
	if (nargs > cmd->max_args)
		return ctl_usage_error("%s: too many arguments", cmd->name);
	if (a->seen & ~cmd->opts & OPT_TIMEOUT)
		return ctl_usage_error("%s does not take --timeout/--nowait",
				       cmd->name);
	if (a->seen & ~cmd->opts & OPT_MAXSIZE)
		return ctl_usage_error("%s does not take --maxsize", cmd->name);
	if (a->seen & ~cmd->opts & OPT_ACK)
		return ctl_usage_error("%s does not take --ack", cmd->name);
	if (a->seen & ~cmd->opts & OPT_MODE)
		return ctl_usage_error("%s does not take --mode", cmd->name);
	if (a->seen & ~cmd->opts & OPT_JSON)
		return ctl_usage_error("%s does not take --json", cmd->name);
	if (a->seen & ~cmd->opts & (OPT_ITER | OPT_INTERVAL))
		return ctl_usage_error("%s does not take --interval/-n", cmd->name);
	if (a->seen & ~cmd->opts & OPT_END)
		return ctl_usage_error("%s does not take --end", cmd->name);
	if (a->seen & ~cmd->opts & OPT_COUNT)
		return ctl_usage_error("%s does not take --count", cmd->name);
	if (a->seen & ~cmd->opts & OPT_DURABLE)
		return ctl_usage_error("%s does not take --durable", cmd->name);
	return 0;
}

/* Connect to the daemon (path NULL: the default search, ipc_connect(3));
 * NULL after reporting why, naming every path tried. */
static ipc_client *ctl_connect(const char *path)
{
	ipc_client *c;
	int rc = ipc_connect(path, &c);

	if (rc)
		ctl_msg("%s", ipc_last_error(NULL));
	return rc ? NULL : c;
}

int main(int argc, char **argv)
{
	struct ctl_args a = { .timeout_ms = IPC_FOREVER, .interval_ms = 1000,
			      .end = -1 };
	const char *pos[argc > 0 ? argc : 1];
	const struct ctl_cmd *cmd;
	ipc_client *c;
	int rc;

	a.pos = pos;
	rc = ctl_parse(argc, argv, &a);
	if (rc)
		return rc < 0 ? 0 : rc;
	if (a.npos == 0)
		return ctl_usage_error("missing command");
	cmd = ctl_find_cmd(a.pos[0]);
	if (!cmd)
		return ctl_usage_error("unknown command '%s'", a.pos[0]);
	rc = ctl_check_args(cmd, &a);
	if (rc)
		return rc;
	c = ctl_connect(a.socket);
	if (!c)
		return EXIT_ERR;
	rc = cmd->fn(c, &a);
	ipc_close(c);
	return rc;
}
