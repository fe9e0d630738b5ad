/* SPDX-License-Identifier: MIT */
/*
 * ctl_queue.c: ipcctl's queue commands: create, rm, put, and get, which
 * also drains (--count N, --all) with lines, NUL-separated or
 * length-prefixed output.
 */
#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "ctl.h"

/* create NAME [--maxsize N] [--mode MODE] [--durable] [--owned]
 * [--max-deliveries N --dead-letter DLQ]: create a queue that must not
 * exist yet; with --owned, one that may exist if it is the caller's or
 * root's. */
int cmd_create(ipc_client *c, const struct ctl_args *a)
{
	struct ipc_queue_opts o = IPC_QUEUE_OPTS_INIT;
	int rc;

	o.maxsize = a->maxsize;
	o.flags = IPC_QUEUE_CREATE | ((a->seen & OPT_OWNED) ? IPC_QUEUE_OWNED :
				      IPC_QUEUE_EXCL);
	if (a->seen & OPT_DURABLE)
		o.flags |= IPC_QUEUE_DURABLE;
	if (a->seen & OPT_MODE)
		o.mode = (int)a->mode;
	o.max_deliveries = a->max_deliveries;
	o.dead_letter = a->dead_letter;
	rc = ipc_queue_open(c, a->pos[1], &o, NULL);
	if (rc)
		return ctl_fail(c, rc, "create", a->pos[1]);
	return 0;
}

/* rm NAME: delete a queue or a pipe (one request deletes either). */
int cmd_rm(ipc_client *c, const struct ctl_args *a)
{
	int rc;

	rc = ipc_delete(c, a->pos[1]);
	if (rc)
		return ctl_fail(c, rc, "rm", a->pos[1]);
	return 0;
}

/* With --owned: are queues a->pos[1..n] the caller's or root's? */
int ctl_check_owned(ipc_client *c, const struct ctl_args *a, const char *cmd,
		    int n)
{
	struct ipc_queue_opts o = IPC_QUEUE_OPTS_INIT;
	int i, rc;

	if (!(a->seen & OPT_OWNED))
		return 0;
	o.flags = IPC_QUEUE_OWNED;
	for (i = 1; i <= n; i++)
		if ((rc = ipc_queue_open(c, a->pos[i], &o, NULL)) != 0)
			return ctl_fail(c, rc, cmd, a->pos[i]);
	return 0;
}

/* read(2) fd 0 into buf, riding out EINTR: bytes read, 0 at the end, -1. */
static ssize_t ctl_read0(char *buf, size_t len)
{
	ssize_t r;

	do {
		r = read(STDIN_FILENO, buf, len);
	} while (r < 0 && errno == EINTR);
	return r;
}

/* Read all of stdin, at most max bytes, into *out (malloc'd) and *len.
 * On a terminal the first Ctrl-D ends it: a read that returns what was
 * typed without its newline was ended by one. 0, or an exit status after
 * reporting why. */
static int ctl_read_stdin(size_t max, char **out, size_t *len)
{
	size_t cap = max + 1, n = 0;   /* one byte past max tells "more" */
	char *buf = malloc(cap);
	int tty = isatty(STDIN_FILENO);
	ssize_t r = 1;

	if (!buf) {
		ctl_msg("put: out of memory");
		return EXIT_ERR;
	}
	while (n < cap && (r = ctl_read0(buf + n, cap - n)) > 0) {
		n += (size_t)r;
		if (tty && buf[n - 1] != '\n')
			break;
	}
	if (r < 0 || n > max) {
		if (r < 0)
			ctl_msg("put: reading standard input: %s", strerror(errno));
		else
			ctl_msg("put: standard input is over the message limit "
				"of %zu bytes", max);
		free(buf);
		return EXIT_ERR;
	}
	*out = buf;
	*len = n;
	return 0;
}

/* put NAME [DATA]: put DATA, or standard input when DATA is absent or
 * "-", as one message. */
int cmd_put(ipc_client *c, const struct ctl_args *a)
{
	char *buf = NULL;
	const char *data;
	size_t len;
	int rc;

	if ((rc = ctl_check_owned(c, a, "put", 1)) != 0)
		return rc;
	if (a->npos > 2 && strcmp(a->pos[2], "-") != 0) {
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

/* Write one got message to stdout the way sep says (CTL_SEP_NONE: its
 * bytes only) and flush: 0, or -1 with errno. */
static int ctl_write_msg(const void *data, size_t len, enum ctl_sep sep)
{
	if (sep == CTL_SEP_LENGTH && printf("%zu\n", len) < 0)
		return -1;
	if (len && fwrite(data, 1, len, stdout) != len)
		return -1;
	if ((sep == CTL_SEP_LINE || sep == CTL_SEP_LENGTH) && putchar('\n') == EOF)
		return -1;
	if (sep == CTL_SEP_NUL && putchar('\0') == EOF)
		return -1;
	return fflush(stdout) ? -1 : 0;
}

/* Write one got message from queue name as a JSON object on its own
 * line: {"queue": name, "data": its bytes, one character per byte}. 0,
 * or -1 with errno. */
static int ctl_write_json(const char *name, const unsigned char *data, size_t len)
{
	size_t i;

	printf("{\"queue\":");
	ctl_json_str(name);
	printf(",\"data\":\"");
	for (i = 0; i < len; i++) {
		if (data[i] == '"' || data[i] == '\\')
			printf("\\%c", data[i]);
		else if (data[i] < 0x20 || data[i] > 0x7e)
			printf("\\u%04x", data[i]);
		else
			putchar(data[i]);
	}
	printf("\"}\n");
	return fflush(stdout) || ferror(stdout) ? -1 : 0;
}

/* Take one message from the queue, or from the first of several with
 * one (get_any), as *name says; *tag for --ack. 0 or the library's code. */
static int ctl_get_from(ipc_client *c, const struct ctl_args *a, int timeout_ms,
			const char **name, void **data, size_t *len, uint64_t *tag)
{
	size_t n = (size_t)a->npos - 1, index = 0;
	int rc;

	if (n == 1 && (a->seen & OPT_ACK))
		rc = ipc_queue_get_ack(c, a->pos[1], data, len, tag, timeout_ms, 0);
	else if (n == 1)
		rc = ipc_queue_get(c, a->pos[1], data, len, timeout_ms);
	else if (a->seen & OPT_ACK)
		rc = ipc_queue_get_any_ack(c, a->pos + 1, n, &index, data, len, tag,
					   timeout_ms, 0);
	else
		rc = ipc_queue_get_any(c, a->pos + 1, n, &index, data, len, timeout_ms);
	*name = a->pos[1 + index];
	return rc;
}

/* Take one message (acked once written with --ack) and write it out: 0,
 * or the exit status after reporting a failure other than Empty
 * (returned as IPC_EEMPTY's status for the caller to judge). */
static int ctl_get_one(ipc_client *c, const struct ctl_args *a, int timeout_ms)
{
	const char *name;
	int ack = (a->seen & OPT_ACK) != 0, rc;
	uint64_t tag = 0;
	void *data;
	size_t len;

	rc = ctl_get_from(c, a, timeout_ms, &name, &data, &len, &tag);
	if (rc == IPC_EEMPTY)
		return EXIT_EMPTY;
	if (rc)
		return ctl_fail(c, rc, "get", a->npos == 2 ? name : NULL);
	if (a->seen & OPT_JSON)
		rc = ctl_write_json(name, data, len);
	else
		rc = ctl_write_msg(data, len, a->sep);
	ipc_free(data);
	if (rc) {
		ctl_msg("get: writing standard output: %s%s", strerror(errno),
			ack ? " (not acked: the message stays in the queue)" : "");
		return EXIT_ERR;
	}
	if (ack && (rc = ipc_queue_ack(c, name, tag)) != 0)
		return ctl_fail(c, rc, "get --ack", name);
	return 0;
}

/* get NAME...: take one message (from the first of several NAMEs that
 * has one, waiting on all) and write its bytes as they are, or as JSON
 * naming its queue; with
 * --count N take N (Empty when fewer come within --timeout each), with
 * --all take them until the queue is empty (waiting --timeout, default
 * not at all, for each). With --ack each is acked only once written and
 * flushed; if writing fails the connection closes unacked and the daemon
 * puts the message back at the head of the queue. */
int cmd_get(ipc_client *c, const struct ctl_args *a)
{
	int all = (a->seen & OPT_ALL) != 0, rc = 0;
	int timeout = all && !(a->seen & OPT_TIMEOUT) ? 0 : a->timeout_ms;
	long got = 0;

	if ((rc = ctl_check_owned(c, a, "get", a->npos - 1)) != 0)
		return rc;
	if (!all && !(a->seen & OPT_COUNT)) {
		rc = ctl_get_one(c, a, a->timeout_ms);
		if (rc == EXIT_EMPTY)
			ctl_msg("get %s%s: %s", a->pos[1], a->npos > 2 ? " ..." : "",
				ipc_strerror(IPC_EEMPTY));
		return rc;
	}
	while (rc == 0 && (all || got < a->count) &&
	       (rc = ctl_get_one(c, a, timeout)) == 0)
		got++;
	if (rc == EXIT_EMPTY && all)
		return 0;
	if (rc == EXIT_EMPTY)
		ctl_msg("get %s%s: empty after %ld of %ld messages", a->pos[1],
			a->npos > 2 ? " ..." : "", got, a->count);
	return rc;
}
