/*
 * ipcctl: command-line access to the queues of ipcd. Uses only the public
 * libipcclient API, like any other program would.
 */
#include <errno.h>
#include <limits.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "ipcclient.h"

/* Exit statuses. */
#define EXIT_ERR 1
#define EXIT_USAGE 2
#define EXIT_EMPTY 3
#define EXIT_FULL 4

/* Options a subcommand may accept. */
#define OPT_MAXSIZE 0x1u
#define OPT_TIMEOUT 0x2u

#define CTL_POS_MAX 3 /* command word + up to two arguments */

/* The parsed command line. */
struct ctl_args {
	const char *socket;     /* -s, or NULL for the default */
	const char *pos[CTL_POS_MAX];
	int npos;               /* pos[0] is the command */
	unsigned seen;          /* OPT_* given */
	long long maxsize;      /* --maxsize, 0 = unbounded */
	int timeout_ms;         /* --timeout / --nowait, default forever */
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
"  ls                      list queues: NAME KIND SIZE MAXSIZE GETTERS PUTTERS\n"
"                          (MAXSIZE 0 means unbounded)\n"
"  stat NAME               show one queue as 'key: value' lines\n"
"  create NAME [--maxsize N]\n"
"                          create a queue holding at most N messages\n"
"                          (default 0 = unbounded); fails if NAME exists\n"
"  rm NAME                 delete a queue and the messages it holds\n"
"  put NAME [DATA] [--timeout SECONDS | --nowait]\n"
"                          put DATA, or all of standard input when DATA is\n"
"                          absent, as one message (binary-safe, at most the\n"
"                          daemon's message size limit)\n"
"  get NAME [--timeout SECONDS | --nowait]\n"
"                          take one message and write its bytes to standard\n"
"                          output exactly (no newline added)\n"
"\n"
"put and get never create the queue: on a missing queue they fail with\n"
"'no such queue'. Use 'create' first.\n"
"\n"
"Options (anywhere on the line; '--' ends options):\n"
"  -s, --socket PATH       the daemon's socket (default: $IPCD_SOCKET, else\n"
"                          $XDG_RUNTIME_DIR/ipcd.sock, else /run/ipcd/ipcd.sock)\n"
"  --timeout SECONDS       wait at most that long (decimal, e.g. 0.2);\n"
"                          default: wait forever\n"
"  --nowait                do not wait (same as --timeout 0)\n"
"  --maxsize N             create: the most messages the queue holds\n"
"  -h, --help              show this help\n"
"\n"
"Exit status: 0 success, 1 error, 2 usage error, 3 empty (get timed out),\n"
"4 full (put timed out).\n";

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

/* ls: print every queue and pipe as a table. */
static int cmd_ls(ipc_client *c, const struct ctl_args *a)
{
	struct ipc_info *infos;
	size_t n, i, w = 4;
	int rc;

	rc = ipc_list(c, &infos, &n);
	if (rc)
		return ctl_fail(c, rc, "ls", NULL);
	for (i = 0; i < n; i++)
		if (strlen(infos[i].name) > w)
			w = strlen(infos[i].name);
	printf("%-*s %-5s %10s %10s %8s %8s\n", (int)w, "NAME", "KIND",
	       "SIZE", "MAXSIZE", "GETTERS", "PUTTERS");
	for (i = 0; i < n; i++)
		printf("%-*s %-5s %10llu %10lld %8u %8u\n", (int)w,
		       infos[i].name, ctl_kind_name(infos[i].kind),
		       infos[i].size, infos[i].maxsize, infos[i].getters,
		       infos[i].putters);
	ipc_free(infos);
	return 0;
}

/* stat NAME: print one queue as key: value lines. */
static int cmd_stat(ipc_client *c, const struct ctl_args *a)
{
	struct ipc_info in;
	int rc;

	rc = ipc_stat(c, a->pos[1], &in);
	if (rc)
		return ctl_fail(c, rc, "stat", a->pos[1]);
	printf("name: %s\nkind: %s\nsize: %llu\nmaxsize: %lld\nbytes: %llu\n"
	       "getters: %u\nputters: %u\nputs: %llu\ngets: %llu\n",
	       in.name, ctl_kind_name(in.kind), in.size, in.maxsize, in.bytes,
	       in.getters, in.putters, in.puts, in.gets);
	return 0;
}

/* create NAME [--maxsize N]: create a queue that must not exist yet. */
static int cmd_create(ipc_client *c, const struct ctl_args *a)
{
	int rc;

	rc = ipc_queue_open(c, a->pos[1], a->maxsize,
			    IPC_OPEN_CREATE | IPC_OPEN_EXCL, NULL);
	if (rc)
		return ctl_fail(c, rc, "create", a->pos[1]);
	return 0;
}

/* rm NAME: delete a queue. */
static int cmd_rm(ipc_client *c, const struct ctl_args *a)
{
	int rc;

	rc = ipc_queue_delete(c, a->pos[1]);
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
	rc = ipc_put(c, a->pos[1], data, len, a->timeout_ms);
	free(buf);
	if (rc)
		return ctl_fail(c, rc, "put", a->pos[1]);
	return 0;
}

/* get NAME: take one message and write it to standard output as is. */
static int cmd_get(ipc_client *c, const struct ctl_args *a)
{
	void *data;
	size_t len;
	int rc;

	rc = ipc_get(c, a->pos[1], &data, &len, a->timeout_ms);
	if (rc)
		return ctl_fail(c, rc, "get", a->pos[1]);
	if ((len && fwrite(data, 1, len, stdout) != len) || fflush(stdout)) {
		ctl_msg("get: writing standard output: %s", strerror(errno));
		ipc_free(data);
		return EXIT_ERR;
	}
	ipc_free(data);
	return 0;
}

static const struct ctl_cmd ctl_cmds[] = {
	{ "ls", cmd_ls, 0, 0, 0 },
	{ "stat", cmd_stat, 1, 1, 0 },
	{ "create", cmd_create, 1, 1, OPT_MAXSIZE },
	{ "rm", cmd_rm, 1, 1, 0 },
	{ "put", cmd_put, 1, 2, OPT_TIMEOUT },
	{ "get", cmd_get, 1, 1, OPT_TIMEOUT },
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

/* Handle one option taking a value at argv[*i]; 0, 1 when arg is not one of
 * them, or the usage exit status. */
static int ctl_parse_valued(int argc, char **argv, int *i, struct ctl_args *a)
{
	const char *arg = argv[*i], *eq = NULL, *v;

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
	return 1;
}

/* Add a positional argument; 0 or the usage exit status. */
static int ctl_add_pos(struct ctl_args *a, const char *arg)
{
	if (a->npos >= CTL_POS_MAX)
		return ctl_usage_error("too many arguments at '%s'", arg);
	a->pos[a->npos++] = arg;
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
	return 0;
}

/* Connect to the daemon; NULL after reporting why. */
static ipc_client *ctl_connect(const char *path)
{
	char buf[4096];
	ipc_client *c;
	int rc;

	if (!path && !(path = ipc_default_socket(buf, sizeof(buf)))) {
		ctl_msg("default socket path too long");
		return NULL;
	}
	rc = ipc_connect(path, &c);
	if (rc == IPC_ECONNECT || rc == IPC_EIO)
		ctl_msg("cannot connect to %s: %s", path, strerror(errno));
	else if (rc)
		ctl_msg("cannot connect to %s: %s", path, ipc_strerror(rc));
	return rc ? NULL : c;
}

int main(int argc, char **argv)
{
	struct ctl_args a = { .timeout_ms = IPC_FOREVER };
	const struct ctl_cmd *cmd;
	ipc_client *c;
	int rc;

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
