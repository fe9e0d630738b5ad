/*
 * pipe_demo: Python's multiprocessing.Pipe example over ipcd, as two
 * separate processes started in either order:
 *
 *   pipe_demo [-s SOCKET] sender NAME      sends 0..9, then closes
 *   pipe_demo [-s SOCKET] receiver NAME    prints "out pipe : N" until EOF
 *
 * Both attach to the one-way pipe NAME (`r, w = Pipe(duplex=False)`),
 * creating it if they come first: the receiver holds end 0, the sender
 * end 1. What the sender sends before the receiver attaches is kept, and
 * the receiver stops on EOF (Python's EOFError) once the sender closed and
 * everything it sent has been read.
 */
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include <ipcclient/ipcclient.h>

#define DEMO_COUNT 10
#define DEMO_READER_END 0 /* r */
#define DEMO_WRITER_END 1 /* w */

/* Report a failed call on stderr; returns the failure exit status. */
static int demo_fail(ipc_client *c, const char *what, int rc)
{
	const char *why;

	if (c)
		why = ipc_last_error(c);
	else if (rc == IPC_ECONNECT || rc == IPC_EIO)
		why = strerror(errno);
	else
		why = ipc_strerror(rc);
	fprintf(stderr, "pipe_demo: %s: %s\n", what, why);
	return 1;
}

/* The sender: 0..DEMO_COUNT-1 as decimal text, then close. */
static int demo_sender(ipc_client *c, const char *name)
{
	char msg[16];
	int i, n, rc;

	for (i = 0; i < DEMO_COUNT; i++) {
		n = snprintf(msg, sizeof(msg), "%d", i);
		rc = ipc_pipe_send(c, name, DEMO_WRITER_END, msg, (size_t)n,
				   IPC_FOREVER);
		if (rc)
			return demo_fail(c, "send", rc);
	}
	rc = ipc_pipe_close(c, name, DEMO_WRITER_END);
	return rc ? demo_fail(c, "close", rc) : 0;
}

/* The receiver: print every message until EOF. */
static int demo_receiver(ipc_client *c, const char *name)
{
	void *data;
	size_t len;
	int rc;

	for (;;) {
		rc = ipc_pipe_recv(c, name, DEMO_READER_END, &data, &len,
				   IPC_FOREVER);
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

/* Print how to call the demo on stderr; returns the usage status. */
static int demo_usage(void)
{
	fprintf(stderr, "usage: pipe_demo [-s SOCKET] sender|receiver NAME\n");
	return 2;
}

int main(int argc, char **argv)
{
	const char *sock = NULL, *role, *name;
	ipc_client *c;
	int opt, rc, end;

	setvbuf(stdout, NULL, _IOLBF, 0);
	while ((opt = getopt(argc, argv, "s:h")) != -1) {
		if (opt != 's')
			return demo_usage();
		sock = optarg;
	}
	if (argc - optind != 2)
		return demo_usage();
	role = argv[optind];
	name = argv[optind + 1];
	if (strcmp(role, "sender") == 0)
		end = DEMO_WRITER_END;
	else if (strcmp(role, "receiver") == 0)
		end = DEMO_READER_END;
	else
		return demo_usage();

	rc = ipc_connect(sock, &c);
	if (rc)
		return demo_fail(NULL, "connect", rc);
	rc = ipc_pipe_attach(c, name, end, IPC_PIPE_CREATE | IPC_PIPE_ONEWAY, NULL);
	if (rc)
		rc = demo_fail(c, "attach", rc);
	else if (end == DEMO_WRITER_END)
		rc = demo_sender(c, name);
	else
		rc = demo_receiver(c, name);
	ipc_close(c);
	return rc;
}
