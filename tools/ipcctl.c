/* SPDX-License-Identifier: MIT */
/*
 * ipcctl: command-line access to the queues and pipes of ipcd. Uses only
 * the public libipcclient API, like any other program would. This file
 * holds the tables of commands and options, the parser (getopt_long; the
 * options may come anywhere on the line), the help built from those
 * tables, and main(); the commands live in ctl_*.c.
 */
#include <errno.h>
#include <getopt.h>
#include <limits.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ctl.h"

/* Options every command takes. */
#define OPT_GLOBAL 0x80000000u

/* One command: its word, handler, how many arguments, which options, its
 * synopsis after the word, and what it does. */
struct ctl_cmd {
	const char *name;
	int (*fn)(ipc_client *c, const struct ctl_args *a);
	int min_args;
	int max_args;
	unsigned opts;
	const char *synopsis;
	const char *help;
};

static const struct ctl_cmd ctl_cmds[] = {
	{ "ls", cmd_ls, 0, 0, OPT_JSON, "[--json]",
	  "list queues and pipes: NAME KIND SIZE MAXSIZE GETTERS PUTTERS OWNER\n"
	  "MODE (MAXSIZE 0 means unbounded); a pipe's row goes on with its\n"
	  "ends and what each way holds (duplex= end0= end1= size01= bytes01=\n"
	  "size10= bytes10=)" },
	{ "stat", cmd_stat, 1, 1, OPT_JSON, "NAME [--json]",
	  "show one queue or pipe as 'key: value' lines, owner and mode\n"
	  "included; the keys are the --json keys" },
	{ "create", cmd_create, 1, 1, OPT_MAXSIZE | OPT_MODE | OPT_DURABLE | OPT_DLQ |
	  OPT_OWNED,
	  "NAME [--maxsize N] [--mode MODE] [--durable] [--owned]\n"
	  "       [--max-deliveries N --dead-letter DLQ]",
	  "create a queue holding at most N messages (default 0 = unbounded),\n"
	  "owned by you, with permissions MODE (octal like a file's: read\n"
	  "permits get, write permits put; default: the daemon's, 0660);\n"
	  "fails if NAME exists (with --owned: unless it is yours or root's);\n"
	  "--durable: the queue and its messages survive a restart of ipcd\n"
	  "(its journal, see ipcd(8)); --max-deliveries N --dead-letter DLQ:\n"
	  "a message delivered N times for ack (get --ack) and not acked moves\n"
	  "to queue DLQ instead of being delivered again" },
	{ "rm", cmd_rm, 1, 1, 0, "NAME",
	  "delete a queue or a pipe and the messages it holds (its owner or\n"
	  "root only)" },
	{ "put", cmd_put, 1, 2, OPT_TIMEOUT | OPT_OWNED,
	  "NAME [DATA|-] [--owned] [--timeout SECONDS | --nowait]",
	  "put DATA, or all of standard input when DATA is absent or '-', as\n"
	  "one message (binary-safe, at most the daemon's message size limit;\n"
	  "on a terminal the first Ctrl-D ends it); never creates the queue" },
	{ "get", cmd_get, 1, IPC_GET_ANY_MAX,
	  OPT_TIMEOUT | OPT_ACK | OPT_COUNT | OPT_ALL | OPT_SEP | OPT_JSON | OPT_OWNED,
	  "NAME... [--count N | --all] [-0 | --length-prefixed | --json] [--ack]\n"
	  "       [--owned] [--timeout SECONDS | --nowait]",
	  "take one message and write its bytes to standard output exactly (no\n"
	  "newline added); --count N takes N, --all takes them until the queue\n"
	  "is empty (waiting --timeout for each, default not at all), each\n"
	  "followed by a newline, or by a NUL with -0, or each as its length in\n"
	  "decimal and a newline, its bytes and a newline with\n"
	  "--length-prefixed (for binary data). With several NAMEs each message\n"
	  "comes from the first of them that has one, waiting on all at once;\n"
	  "--json writes each as {\"queue\": NAME, \"data\": ...} on its own\n"
	  "line, saying which queue it came from. With --ack each is\n"
	  "acknowledged only once written and flushed: if writing fails (or\n"
	  "ipcctl dies) it goes back to the head of its queue instead of being\n"
	  "lost" },
	{ "send", cmd_send, 1, INT_MAX, OPT_TIMEOUT | OPT_END | OPT_CLOSE | OPT_OWNED,
	  "NAME [MSG...] [--end E] [--close] [--owned]\n"
	  "       [--timeout SECONDS | --nowait]",
	  "attach end 1 of pipe NAME (creating it), send each MSG as one\n"
	  "message, or each line of standard input (without its newline) when\n"
	  "there is none, then detach the end (the receiver sees no EOF and a\n"
	  "later send may attach it); --close closes it instead: the receiver\n"
	  "gets EOF after the last message" },
	{ "recv", cmd_recv, 1, 1, OPT_TIMEOUT | OPT_END | OPT_COUNT | OPT_CLOSE |
	  OPT_OWNED,
	  "NAME [--count N] [--end E] [--close] [--owned]\n"
	  "       [--timeout SECONDS | --nowait]",
	  "attach end 0 of pipe NAME (creating it) and print each message on\n"
	  "its own line until the sender closes (EOF), N messages, or the\n"
	  "timeout runs out; then detach the end, so a later recv takes the\n"
	  "next messages. --close closes it instead (what is still buffered\n"
	  "for it is dropped, and the end cannot be attached again)" },
	{ "top", cmd_top, 0, 0, OPT_ITER | OPT_INTERVAL | OPT_JSON,
	  "[--interval SECONDS] [-n N] [--json]",
	  "live view of every queue and pipe, busiest first: depth and puts\n"
	  "and gets per second (PUT_RATE, GET_RATE), drawn at once and then\n"
	  "every SECONDS (default 1) until q or Ctrl-C, or N frames; --json\n"
	  "prints one JSON object per frame" },
	{ "peek", cmd_peek, 1, 1, OPT_COUNT, "NAME [--count N]",
	  "print the first N (default 1) messages of queue NAME, one per line,\n"
	  "without taking them (needs read permission)" },
	{ "purge", cmd_purge, 1, 1, 0, "NAME",
	  "drop every message waiting in queue NAME (not those delivered and\n"
	  "not yet acked) and print how many; the queue stays (its owner or\n"
	  "root only)" },
	{ "chmod", cmd_chmod, 2, 2, 0, "NAME MODE",
	  "set the permissions (octal) of a queue or pipe (its owner or root)" },
	{ "chown", cmd_chown, 2, 2, 0, "NAME USER[:GROUP] | NAME :GROUP",
	  "set the owner and/or group (names or numbers) of a queue or pipe\n"
	  "(root only)" },
	{ "info", cmd_info, 0, 0, OPT_JSON, "[--json]",
	  "show the daemon's figures as 'key: value' lines: version, uptime,\n"
	  "connections, queues and pipes, messages and bytes held against\n"
	  "its limits, parked requests, puts and gets, refusals by reason,\n"
	  "and its journal's; the keys are the --json keys (ipcctl(1))" },
	{ "metrics", cmd_metrics, 0, 0, 0, "",
	  "print the daemon's figures and every queue's and pipe's in the\n"
	  "Prometheus text format (ipcd_puts_total,\n"
	  "ipcd_queue_messages{queue=\"jobs\"}, ...), e.g. for\n"
	  "node_exporter's textfile collector (see ipcctl(1))" },
	{ "help", NULL, 0, 1, 0, "[COMMAND]",
	  "show this help, or one command's" },
};

#define CTL_NCMDS (sizeof(ctl_cmds) / sizeof(ctl_cmds[0]))

/* getopt_long codes of the options with no short form. */
enum {
	O_CONNECT_TIMEOUT = 256, O_IO_TIMEOUT, O_TIMEOUT, O_NOWAIT, O_MAXSIZE, O_MODE, O_JSON,
	O_ACK, O_INTERVAL, O_END, O_COUNT, O_ALL, O_LENGTH, O_CLOSE, O_DURABLE,
	O_OWNED, O_MAX_DELIVERIES, O_DEAD_LETTER,
};

/* One option: its getopt_long row, the OPT_* bit of the commands taking
 * it, and its help line. */
struct ctl_opt {
	struct option lo;
	unsigned bit;
	const char *usage;
	const char *help;
};

static const struct ctl_opt ctl_opts[] = {
	{ { "socket", required_argument, NULL, 's' }, OPT_GLOBAL, "-s, --socket PATH",
	  "the daemon's socket (default: $IPCD_SOCKET; else the first of\n"
	  "$XDG_RUNTIME_DIR/ipcd.sock, /run/ipcd/ipcd.sock that accepts a\n"
	  "connection)" },
	{ { "connect-timeout", required_argument, NULL, O_CONNECT_TIMEOUT },
	  OPT_GLOBAL, "--connect-timeout SECONDS",
	  "give up on a daemon that does not answer within SECONDS (default 5)" },
	{ { "io-timeout", required_argument, NULL, O_IO_TIMEOUT },
	  OPT_GLOBAL, "--io-timeout SECONDS",
	  "give up on a request whose answer is SECONDS later than its own\n"
	  "timeout (default 5)" },
	{ { "timeout", required_argument, NULL, O_TIMEOUT }, OPT_TIMEOUT,
	  "--timeout SECONDS", "wait at most that long (decimal, e.g. 0.2);\n"
	  "default: wait forever; send, recv, get --count: per message" },
	{ { "nowait", no_argument, NULL, O_NOWAIT }, OPT_TIMEOUT, "--nowait",
	  "do not wait (same as --timeout 0)" },
	{ { "maxsize", required_argument, NULL, O_MAXSIZE }, OPT_MAXSIZE,
	  "--maxsize N", "the most messages the queue holds" },
	{ { "mode", required_argument, NULL, O_MODE }, OPT_MODE, "--mode MODE",
	  "the queue's permissions (octal)" },
	{ { "durable", no_argument, NULL, O_DURABLE }, OPT_DURABLE, "--durable",
	  "a durable queue (journaled by the daemon; survives a restart)" },
	{ { "owned", no_argument, NULL, O_OWNED }, OPT_OWNED, "--owned",
	  "refuse a queue or pipe that exists and is not owned by you or root\n"
	  "(another user may have taken the name first)" },
	{ { "max-deliveries", required_argument, NULL, O_MAX_DELIVERIES }, OPT_DLQ,
	  "--max-deliveries N", "dead-letter a message after N deliveries" },
	{ { "dead-letter", required_argument, NULL, O_DEAD_LETTER }, OPT_DLQ,
	  "--dead-letter DLQ", "the queue poison messages move to" },
	{ { "json", no_argument, NULL, O_JSON }, OPT_JSON, "--json",
	  "JSON instead of text, with the same field names (see ipcctl(1))" },
	{ { "ack", no_argument, NULL, O_ACK }, OPT_ACK, "--ack",
	  "acknowledge each message only once written" },
	{ { "count", required_argument, NULL, O_COUNT }, OPT_COUNT, "--count N",
	  "stop after N messages (peek: show N)" },
	{ { "all", no_argument, NULL, O_ALL }, OPT_ALL, "--all",
	  "take messages until the queue is empty" },
	{ { "null", no_argument, NULL, '0' }, OPT_SEP, "-0, --null",
	  "end each message with a NUL instead of a newline" },
	{ { "length-prefixed", no_argument, NULL, O_LENGTH }, OPT_SEP,
	  "--length-prefixed", "write each message as LENGTH\\n BYTES \\n" },
	{ { "end", required_argument, NULL, O_END }, OPT_END, "--end E",
	  "use pipe end E (0 or 1) instead; a one-way pipe only sends from 1\n"
	  "to 0" },
	{ { "close", no_argument, NULL, O_CLOSE }, OPT_CLOSE, "--close",
	  "close the pipe end when done instead of detaching it" },
	{ { "interval", required_argument, NULL, O_INTERVAL }, OPT_INTERVAL,
	  "--interval SECONDS", "time between frames" },
	{ { "iterations", required_argument, NULL, 'n' }, OPT_ITER,
	  "-n, --iterations N", "stop after N frames" },
	{ { "help", no_argument, NULL, 'h' }, OPT_GLOBAL, "-h, --help",
	  "show the help (of the command, when one is given)" },
	{ { "version", no_argument, NULL, 'V' }, OPT_GLOBAL, "-V, --version",
	  "show ipcctl's and libipcclient's versions" },
};

#define CTL_NOPTS (sizeof(ctl_opts) / sizeof(ctl_opts[0]))

static const char ctl_exit_text[] =
"Exit status: 0 success, 1 error (no such queue, permission denied, a\n"
"daemon limit reached, the daemon not answering, ...), 2 usage error,\n"
"3 empty (get or recv timed out, peek found nothing), 4 full (put or\n"
"send timed out), 5 end of pipe before recv --count messages, 6 broken\n"
"pipe (send: the receiving end is closed), 7 no space (put, create\n"
"--durable: the daemon's journal could not store it).\n";

/* Print text with each line indented by n spaces. */
static void ctl_indent(const char *text, int n)
{
	const char *nl;

	for (; *text; text = nl + 1) {
		nl = strchr(text, '\n');
		if (!nl)
			nl = text + strlen(text) - 1;
		printf("%*s%.*s\n", n, "", (int)(nl - text + (*nl != '\n')), text);
	}
}

/* Print the help lines of the options in mask (and the global ones). */
static void ctl_help_opts(unsigned mask)
{
	size_t i;

	printf("\nOptions (anywhere on the line; '--' ends them):\n");
	for (i = 0; i < CTL_NOPTS; i++) {
		if (!(ctl_opts[i].bit & (mask | OPT_GLOBAL)))
			continue;
		printf("  %s\n", ctl_opts[i].usage);
		ctl_indent(ctl_opts[i].help, 6);
	}
}

/* Print one command's usage, what it does and its options. */
static void ctl_help_cmd(const struct ctl_cmd *cmd)
{
	printf("usage: ipcctl [-s SOCKET] %s %s\n\n", cmd->name, cmd->synopsis);
	ctl_indent(cmd->help, 2);
	ctl_help_opts(cmd->opts);
}

/* Print the whole help: every command, every option, the exit statuses. */
static void ctl_help_all(void)
{
	size_t i;

	printf("usage: ipcctl [-s SOCKET] COMMAND [ARGS...] [OPTIONS]\n"
	       "       ipcctl help [COMMAND] | COMMAND --help | --version\n\n"
	       "Commands:\n");
	for (i = 0; i < CTL_NCMDS; i++) {
		printf("  %s %s\n", ctl_cmds[i].name, ctl_cmds[i].synopsis);
		ctl_indent(ctl_cmds[i].help, 6);
	}
	ctl_help_opts(~0u);
	printf("\n%s", ctl_exit_text);
}

/* Report a usage error; returns the usage exit status. */
int ctl_usage_error(const char *fmt, ...)
{
	char text[512];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(text, sizeof(text), fmt, ap);
	va_end(ap);
	ctl_msg("%s (try 'ipcctl --help')", text);
	return EXIT_USAGE;
}

/* The command called name, or NULL. */
static const struct ctl_cmd *ctl_find_cmd(const char *name)
{
	size_t i;

	for (i = 0; i < CTL_NCMDS; i++)
		if (strcmp(ctl_cmds[i].name, name) == 0)
			return &ctl_cmds[i];
	return NULL;
}

/* Parse a time in decimal seconds into milliseconds (rounded up);
 * 0 or the usage exit status. */
static int ctl_parse_secs(const char *opt, const char *s, int *ms)
{
	char *end;
	double sec, t;
	long long v;

	errno = 0;
	sec = strtod(s, &end);
	if (end == s || *end || errno ||
	    !(sec >= 0 && sec <= (double)INT_MAX / 1000.0))
		return ctl_usage_error("bad %s '%s': want seconds >= 0", opt, s);
	t = sec * 1000.0;
	v = (long long)t;
	if ((double)v < t)
		v++;
	*ms = (int)(v > INT_MAX ? INT_MAX : v);
	return 0;
}

/* Parse a whole number of at least min (at most max); 0 or the usage exit
 * status. */
static int ctl_parse_num(const char *opt, const char *s, long long min,
			 long long max, long long *out)
{
	char *end;
	long long v;

	errno = 0;
	v = strtoll(s, &end, 10);
	if (end == s || *end || errno || v < min || v > max)
		return ctl_usage_error("bad %s '%s': want an integer from %lld",
				       opt, s, min);
	*out = v;
	return 0;
}

/* Parse an octal mode of at most 0777; 0 or the usage exit status. */
int ctl_parse_mode(const char *s, unsigned *out)
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

/* The OPT_* bit of getopt_long's code ch (0 for none). */
static unsigned ctl_opt_bit(int ch)
{
	size_t i;

	for (i = 0; i < CTL_NOPTS; i++)
		if (ctl_opts[i].lo.val == ch)
			return ctl_opts[i].bit == OPT_GLOBAL ? 0 : ctl_opts[i].bit;
	return 0;
}

/* Apply the options that take a number; 0, 1 when ch is none of them, or
 * the usage exit status. */
static int ctl_apply_num(int ch, const char *v, struct ctl_args *a)
{
	long long n;
	int rc;

	switch (ch) {
	case O_MAXSIZE:
		return ctl_parse_num("maxsize", v, 0, LLONG_MAX, &a->maxsize);
	case O_MAX_DELIVERIES:
		return ctl_parse_num("max-deliveries", v, 1, UINT32_MAX,
				     &a->max_deliveries);
	case O_COUNT:
		rc = ctl_parse_num("count", v, 1, LONG_MAX, &n);
		a->count = (long)n;
		return rc;
	case 'n':
		rc = ctl_parse_num("count", v, 1, LONG_MAX, &n);
		a->iterations = (long)n;
		return rc;
	case O_END:
		rc = ctl_parse_num("end", v, 0, 1, &n);
		a->end = (int)n;
		return rc;
	case O_INTERVAL:
		if ((rc = ctl_parse_secs("interval", v, &a->interval_ms)))
			return rc;
		return a->interval_ms > 0 ? 0 :
		       ctl_usage_error("--interval must be more than 0");
	}
	return 1;
}

/* Apply one option getopt_long returned (ch, its argument v): 0, -1
 * after printing help or the version, or the usage exit status. */
static int ctl_apply(int ch, const char *v, struct ctl_args *a)
{
	unsigned bit = ctl_opt_bit(ch);
	int rc;

	if (bit == OPT_TIMEOUT && (a->seen & OPT_TIMEOUT))
		return ctl_usage_error("--timeout/--nowait given twice");
	if (bit == OPT_SEP && (a->seen & OPT_SEP))
		return ctl_usage_error("-0/--length-prefixed given twice");
	a->seen |= bit;
	if ((rc = ctl_apply_num(ch, v, a)) != 1)
		return rc;
	switch (ch) {
	case 's': a->socket = v; return 0;
	case O_CONNECT_TIMEOUT:
		return ctl_parse_secs("connect-timeout", v, &a->connect_timeout_ms);
	case O_IO_TIMEOUT:
		return ctl_parse_secs("io-timeout", v, &a->io_timeout_ms);
	case O_TIMEOUT: return ctl_parse_secs("timeout", v, &a->timeout_ms);
	case O_NOWAIT: a->timeout_ms = 0; return 0;
	case O_MODE: return ctl_parse_mode(v, &a->mode);
	case O_DEAD_LETTER: a->dead_letter = v; return 0;
	case '0': a->sep = CTL_SEP_NUL; return 0;
	case O_LENGTH: a->sep = CTL_SEP_LENGTH; return 0;
	case 'h': a->help = 1; return 0;
	case 'V':
		printf("ipcctl %s (libipcclient %s)\n", IPC_VERSION_STRING,
		       ipc_version());
		return -1;
	case O_JSON: case O_ACK: case O_ALL: case O_CLOSE: case O_DURABLE:
	case O_OWNED:
		return 0;
	}
	return EXIT_USAGE;   /* '?': getopt_long said what was wrong */
}

/* Parse the whole command line (options anywhere). 0, -1 after the
 * version was printed, or the usage exit status. */
static int ctl_parse(int argc, char **argv, struct ctl_args *a)
{
	struct option lo[CTL_NOPTS + 1];
	size_t i;
	int ch, rc;

	for (i = 0; i < CTL_NOPTS; i++)
		lo[i] = ctl_opts[i].lo;
	memset(&lo[CTL_NOPTS], 0, sizeof(lo[0]));
	opterr = 0;
	while ((ch = getopt_long(argc, argv, ":s:n:0hV", lo, NULL)) != -1) {
		if (ch == ':')
			return ctl_usage_error("option '%s' needs a value",
					       argv[optind - 1]);
		if (ch == '?')
			return ctl_usage_error("unknown option '%s'", argv[optind - 1]);
		if ((rc = ctl_apply(ch, optarg, a)))
			return rc;
	}
	for (; optind < argc; optind++)
		a->pos[a->npos++] = argv[optind];
	return 0;
}

/* Check the arguments and options against what the command takes; 0 or
 * the usage exit status. */
static int ctl_check_args(const struct ctl_cmd *cmd, const struct ctl_args *a)
{
	int nargs = a->npos - 1;
	size_t i;

	if (nargs < cmd->min_args)
		return ctl_usage_error("%s: missing argument", cmd->name);
	if (nargs > cmd->max_args)
		return ctl_usage_error("%s: too many arguments", cmd->name);
	for (i = 0; i < CTL_NOPTS; i++)
		if (ctl_opts[i].bit != OPT_GLOBAL &&
		    (a->seen & ctl_opts[i].bit & ~cmd->opts))
			return ctl_usage_error("%s does not take %s", cmd->name,
					       ctl_opts[i].usage);
	if ((a->seen & OPT_COUNT) && (a->seen & OPT_ALL))
		return ctl_usage_error("%s: --count or --all, not both", cmd->name);
	if ((a->seen & OPT_SEP) && (a->seen & OPT_JSON))
		return ctl_usage_error("%s: -0/--length-prefixed or --json, not both",
				       cmd->name);
	if ((a->max_deliveries == 0) != (a->dead_letter == NULL))
		return ctl_usage_error("%s: --max-deliveries and --dead-letter go "
				       "together", cmd->name);
	return 0;
}

/* help [COMMAND], or COMMAND --help: print the help asked for. */
static int ctl_help(const struct ctl_args *a)
{
	const char *word = NULL;
	const struct ctl_cmd *cmd;

	if (a->npos > 0 && strcmp(a->pos[0], "help") != 0)
		word = a->pos[0];
	else if (a->npos > 1)
		word = a->pos[1];
	if (!word) {
		ctl_help_all();
		return 0;
	}
	if (!(cmd = ctl_find_cmd(word)))
		return ctl_usage_error("unknown command '%s'", word);
	ctl_help_cmd(cmd);
	return 0;
}

/* Connect to the daemon (path NULL: the default search, ipc_connect(3));
 * NULL after reporting why, naming every path tried. */
static ipc_client *ctl_connect(const struct ctl_args *a)
{
	ipc_client *c;
	int rc = ipc_connect_timeout(a->socket, a->connect_timeout_ms, &c);

	if (rc == 0 && (rc = ipc_set_io_timeout(c, a->io_timeout_ms)) != 0) {
		ctl_msg("%s", ipc_last_error(c));
		ipc_close(c);
		return NULL;
	}
	if (rc == IPC_ETIMEDOUT)
		ctl_msg("%s: %s", ipc_strerror(rc), ipc_last_error(NULL));
	else if (rc)
		ctl_msg("%s", ipc_last_error(NULL));
	return rc ? NULL : c;
}

int main(int argc, char **argv)
{
	struct ctl_args a = { .timeout_ms = IPC_FOREVER, .interval_ms = 1000,
			      .end = -1,
			      .connect_timeout_ms = IPC_CONNECT_TIMEOUT_DEFAULT,
			      .io_timeout_ms = IPC_IO_TIMEOUT_DEFAULT };
	const char *pos[argc > 0 ? argc : 1];
	const struct ctl_cmd *cmd;
	ipc_client *c;
	int rc;

	a.pos = pos;
	rc = ctl_parse(argc, argv, &a);
	if (rc)
		return rc < 0 ? 0 : rc;
	if (a.help || (a.npos > 0 && strcmp(a.pos[0], "help") == 0))
		return ctl_help(&a);
	if (a.npos == 0)
		return ctl_usage_error("missing command");
	cmd = ctl_find_cmd(a.pos[0]);
	if (!cmd)
		return ctl_usage_error("unknown command '%s'", a.pos[0]);
	if ((rc = ctl_check_args(cmd, &a)))
		return rc;
	if (!(a.seen & OPT_SEP))
		a.sep = a.seen & (OPT_COUNT | OPT_ALL) ? CTL_SEP_LINE : CTL_SEP_NONE;
	if (!(c = ctl_connect(&a)))
		return EXIT_ERR;
	rc = cmd->fn(c, &a);
	ipc_close(c);
	return rc;
}
