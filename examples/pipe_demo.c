/* SPDX-License-Identifier: MIT */
/*
 * pipe_demo: Python's multiprocessing.Pipe example over ipcd, as two
 * separate processes started in either order:
 *
 *   pipe_demo [-s SOCKET] [-t MS] sender NAME     sends 0..9, then closes
 *   pipe_demo [-s SOCKET] [-t MS] receiver NAME   prints "out pipe : N" until EOF
 *
 * Both attach to the one-way pipe NAME (`r, w = Pipe(duplex=False)`),
 * creating it if they come first: the receiver holds end 0, the sender
 * end 1. What the sender sends before the receiver attaches is kept, and
 * the receiver stops on EOF (Python's EOFError) once the sender closed and
 * everything it sent has been read. -t/--timeout MS bounds every wait
 * (default: as long as it takes): a receive that got nothing, or a send
 * that found no room, for MS milliseconds fails. The command line and
 * the error reports are demo.c's, shared with queue_demo.
 */
#include <stdio.h>

#include "demo.h"

#define DEMO_COUNT 10
#define DEMO_READER_END 0 /* r */
#define DEMO_WRITER_END 1 /* w */

/* The command line: sender or receiver, and what -t means here. */
static const struct demo demo_pipe = {
	.prog = "pipe_demo",
	.roles = { "sender", "receiver" },
	.timeout_help =
		"  -t, --timeout MS     fail when a send or receive waited MS ms\n"
		"                       (default: wait as long as it takes)\n",
};

/* The sender: 0..DEMO_COUNT-1 as decimal text, then close. */
static int demo_sender(ipc_client *c, const char *name, int timeout_ms)
{
	char msg[16];
	int i, n, rc;

	for (i = 0; i < DEMO_COUNT; i++) {
		n = snprintf(msg, sizeof(msg), "%d", i);
		rc = ipc_pipe_send(c, name, DEMO_WRITER_END, msg, (size_t)n,
				   timeout_ms);
		if (rc)
			return demo_fail(c, "send", rc);
	}
	rc = ipc_pipe_close(c, name, DEMO_WRITER_END);
	return rc ? demo_fail(c, "close", rc) : 0;
}

/* The receiver: print every message until EOF. */
static int demo_receiver(ipc_client *c, const char *name, int timeout_ms)
{
	void *data;
	size_t len;
	int rc;

	for (;;) {
		rc = ipc_pipe_recv(c, name, DEMO_READER_END, &data, &len,
				   timeout_ms);
		if (rc == IPC_EEOF)
			break;
		if (rc)
			return demo_fail(c, "recv", rc);
		printf("out pipe : %.*s\n", (int)len, (const char *)data);
		ipc_free(data);
	}
	rc = ipc_pipe_close(c, name, DEMO_READER_END);
	return rc ? demo_fail(c, "close", rc) : 0;
}

/* Attach to the pipe and play the role asked for. */
int main(int argc, char **argv)
{
	struct demo_args a;
	ipc_client *c;
	int rc, end;

	if ((rc = demo_start(&demo_pipe, argc, argv, &a, &c)) >= 0)
		return rc;
	end = a.role == 0 ? DEMO_WRITER_END : DEMO_READER_END;
	/* OWNED: never attach to a pipe another user made first. Without
	 * -t, a.timeout_ms is -1: IPC_FOREVER. */
	rc = ipc_pipe_attach(c, a.name, end, IPC_PIPE_CREATE | IPC_PIPE_ONEWAY |
			     IPC_PIPE_OWNED, NULL);
	if (rc)
		rc = demo_fail(c, "attach", rc);
	else if (end == DEMO_WRITER_END)
		rc = demo_sender(c, a.name, a.timeout_ms);
	else
		rc = demo_receiver(c, a.name, a.timeout_ms);
	ipc_close(c);
	return rc;
}
