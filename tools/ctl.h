/* SPDX-License-Identifier: MIT */
/*
 * ctl.h: what the files of ipcctl share: the parsed command line, the
 * exit statuses, and the commands, each in the file named after what it
 * does (ctl_queue.c, ctl_pipe.c, ctl_top.c, ctl_daemon.c; ipcctl.c parses
 * and helps).
 */
#ifndef IPC_CTL_H
#define IPC_CTL_H

#include <ipcclient/ipcclient.h>

/* Exit statuses. */
#define EXIT_ERR 1
#define EXIT_USAGE 2
#define EXIT_EMPTY 3
#define EXIT_FULL 4
#define EXIT_EOF 5      /* recv --count: the pipe ended first */
#define EXIT_BROKEN 6   /* send: the receiving end is closed */
#define EXIT_NOSPC 7    /* put, create --durable: the daemon's journal is full */

/* Options a command may accept (struct ctl_cmd's opts). */
#define OPT_MAXSIZE 0x1u
#define OPT_TIMEOUT 0x2u    /* --timeout, --nowait */
#define OPT_ACK 0x4u
#define OPT_MODE 0x8u       /* create --mode */
#define OPT_JSON 0x10u      /* ls, stat, top, info --json */
#define OPT_ITER 0x20u      /* top -n/--iterations */
#define OPT_INTERVAL 0x40u  /* top --interval */
#define OPT_END 0x80u       /* send, recv --end */
#define OPT_COUNT 0x100u    /* recv, get --count */
#define OPT_ALL 0x200u      /* get --all */
#define OPT_SEP 0x400u      /* get -0, --length-prefixed */
#define OPT_CLOSE 0x800u    /* send, recv --close */
#define OPT_DURABLE 0x1000u /* create --durable */
#define OPT_OWNED 0x2000u   /* create, put, get, send, recv --owned */
#define OPT_DLQ 0x4000u     /* create --max-deliveries, --dead-letter */

/* How get --count/--all separates the messages it writes. */
enum ctl_sep { CTL_SEP_NONE, CTL_SEP_LINE, CTL_SEP_NUL, CTL_SEP_LENGTH };

/* The parsed command line. */
struct ctl_args {
	const char *socket;     /* -s, or NULL for the default */
	int connect_timeout_ms; /* --connect-timeout */
	int io_timeout_ms;      /* --io-timeout: ipc_set_io_timeout() */
	const char **pos;       /* positional arguments; pos[0] is the command */
	int npos;
	unsigned seen;          /* OPT_* given */
	long long maxsize;      /* --maxsize, 0 = unbounded */
	int timeout_ms;         /* --timeout / --nowait, default forever */
	unsigned mode;          /* create --mode (OPT_MODE seen) */
	long iterations;        /* top -n: refreshes, 0 = until interrupted */
	int interval_ms;        /* top --interval, default 1 s */
	int end;                /* send, recv --end; -1: the command's default */
	long count;             /* recv, get --count, 0 = no count */
	enum ctl_sep sep;       /* get: -0, --length-prefixed, else lines */
	int help;               /* -h, --help */
	long long max_deliveries; /* create --max-deliveries, 0 = none */
	const char *dead_letter;  /* create --dead-letter, or NULL */
};

/* Print one "ipcctl: ..." line on stderr. */
void ctl_msg(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
/* Report a usage error; returns the usage exit status. */
int ctl_usage_error(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
/* Parse an octal mode of at most 0777; 0 or the usage exit status. */
int ctl_parse_mode(const char *s, unsigned *out);
/* Report a failed library call on c and return its exit status. */
int ctl_fail(ipc_client *c, int rc, const char *cmd, const char *name);
/* The word for a kind ("queue", "pipe"). */
const char *ctl_kind_name(int kind);
/* Print s as a JSON string. */
void ctl_json_str(const char *s);

/* With --owned: check that queues a->pos[1..n] are owned by the caller's uid
 * or root before using it (IPC_QUEUE_OWNED). 0, or the exit status after
 * reporting the refusal as cmd's. */
int ctl_check_owned(ipc_client *c, const struct ctl_args *a, const char *cmd,
		    int n);

/* The commands (a: the command line; pos[1] the name where one is taken). */
int cmd_ls(ipc_client *c, const struct ctl_args *a);
int cmd_stat(ipc_client *c, const struct ctl_args *a);
int cmd_create(ipc_client *c, const struct ctl_args *a);
int cmd_rm(ipc_client *c, const struct ctl_args *a);
int cmd_put(ipc_client *c, const struct ctl_args *a);
int cmd_get(ipc_client *c, const struct ctl_args *a);
int cmd_send(ipc_client *c, const struct ctl_args *a);
int cmd_recv(ipc_client *c, const struct ctl_args *a);
int cmd_top(ipc_client *c, const struct ctl_args *a);
int cmd_peek(ipc_client *c, const struct ctl_args *a);
int cmd_purge(ipc_client *c, const struct ctl_args *a);
int cmd_chmod(ipc_client *c, const struct ctl_args *a);
int cmd_chown(ipc_client *c, const struct ctl_args *a);
int cmd_info(ipc_client *c, const struct ctl_args *a);
int cmd_metrics(ipc_client *c, const struct ctl_args *a);

#endif
