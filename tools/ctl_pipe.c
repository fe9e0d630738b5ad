/* SPDX-License-Identifier: MIT */
/*
 * ctl_pipe.c: ipcctl's pipe commands, send and recv. Each attaches an end
 * and, when done (or timed out), detaches it: the peer sees no EOF and a
 * later ipcctl may attach the end again. --close closes it instead.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/types.h>

#include "ctl.h"

/* The end a pipe command uses: --end, else dflt. */
static int ctl_end(const struct ctl_args *a, int dflt)
{
	return a->end < 0 ? dflt : a->end;
}

/* Give the end up after the command's work ended with rc: close it with
 * --close (after a success), else detach it while the connection still
 * works. rc, or the failure of that last request. */
static int ctl_let_go(ipc_client *c, const struct ctl_args *a, int end, int rc)
{
	int rc2 = 0;

	if ((a->seen & OPT_CLOSE) && rc == 0)
		rc2 = ipc_pipe_close(c, a->pos[1], end);
	else if (!(a->seen & OPT_CLOSE) && rc >= 0)
		rc2 = ipc_pipe_detach(c, a->pos[1], end);
	return rc ? rc : rc2;
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

/* send NAME [MSG...]: attach end 1 (creating the pipe), send each MSG (or
 * each line of standard input) as one message, detach or close the end. */
int cmd_send(ipc_client *c, const struct ctl_args *a)
{
	const char *name = a->pos[1];
	int end = ctl_end(a, 1), rc, i;

	rc = ipc_pipe_attach(c, name, end, IPC_PIPE_CREATE |
			     ((a->seen & OPT_OWNED) ? IPC_PIPE_OWNED : 0), NULL);
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
			rc = ctl_let_go(c, a, end, IPC_EINVAL);
			return EXIT_ERR;
		}
	}
	rc = ctl_let_go(c, a, end, rc);
	if (rc)
		return ctl_fail(c, rc, "send", name);
	return 0;
}

/* ctl_recv_loop() could not write a message out (and said so). */
#define CTL_WRITE_FAILED 1000

/* Receive and print messages at end until EOF or a->count of them: the
 * last result (IPC_EEOF at the end) with *got set, or CTL_WRITE_FAILED. */
static int ctl_recv_loop(ipc_client *c, const struct ctl_args *a, int end,
			 long *got)
{
	void *data;
	size_t len;
	int rc = 0;

	while (rc == 0 && (a->count == 0 || *got < a->count)) {
		rc = ipc_pipe_recv(c, a->pos[1], end, &data, &len, a->timeout_ms);
		if (rc)
			break;
		++*got;
		if ((len && fwrite(data, 1, len, stdout) != len) ||
		    putchar('\n') == EOF || fflush(stdout)) {
			ctl_msg("recv: writing standard output: %s", strerror(errno));
			ipc_free(data);
			return CTL_WRITE_FAILED;
		}
		ipc_free(data);
	}
	return rc;
}

/* recv NAME: attach end 0 (creating the pipe), print each message on its
 * own line until EOF (exit 0) or --count messages (exit 5 when EOF comes
 * first), then detach or close the end. */
int cmd_recv(ipc_client *c, const struct ctl_args *a)
{
	const char *name = a->pos[1];
	int end = ctl_end(a, 0), rc;
	long got = 0;

	rc = ipc_pipe_attach(c, name, end, IPC_PIPE_CREATE |
			     ((a->seen & OPT_OWNED) ? IPC_PIPE_OWNED : 0), NULL);
	if (rc)
		return ctl_fail(c, rc, "recv", name);
	rc = ctl_recv_loop(c, a, end, &got);
	if (rc == CTL_WRITE_FAILED) {
		ctl_let_go(c, a, end, IPC_EINVAL);
		return EXIT_ERR;
	}
	if (rc == IPC_EEOF && a->count) {
		ctl_let_go(c, a, end, 0);
		ctl_msg("recv %s: end of pipe after %ld of %ld messages", name,
			got, a->count);
		return EXIT_EOF;
	}
	rc = ctl_let_go(c, a, end, rc == IPC_EEOF ? 0 : rc);
	if (rc)
		return ctl_fail(c, rc, "recv", name);
	return 0;
}
