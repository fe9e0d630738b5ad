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
 * that found no room, for MS milliseconds fails.
 */
#include <errno.h>
#include <getopt.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <ipcclient/ipcclient.h>

#define DEMO_COUNT 10
#define DEMO_READER_END 0 /* r */
#define DEMO_WRITER_END 1 /* w */

/* The command line. */
struct demo_args {
	const char *sock;      /* -s: NULL for the default socket */
	const char *name;      /* the pipe */
	int end;               /* DEMO_READER_END or DEMO_WRITER_END */
	int timeout_ms;        /* -t, or IPC_FOREVER */
};

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

/* Print how to call the demo (on stdout for --help, else on stderr);
 * returns the exit status. */
static int demo_usage(FILE *f, int status)
{
	fprintf(f, "usage: pipe_demo [-s SOCKET] [-t MS] sender|receiver NAME\n"
		"  -s, --socket SOCKET  the daemon's socket (default: ipcd's usual one)\n"
		"  -t, --timeout MS     fail when a send or receive waited MS ms\n"
		"                       (default: wait as long as it takes)\n"
		"  -h, --help           this text\n");
	return status;
}

/* Parse a timeout in milliseconds: 0 or -1 when it is not one. */
static int demo_parse_ms(const char *s, int *out)
{
	char *end;
	long v;

	errno = 0;
	v = strtol(s, &end, 10);
	if (errno || end == s || *end || v < 0 || v > INT_MAX)
		return -1;
	*out = (int)v;
	return 0;
}

/* Parse the command line into *a: -1 to go on, or the exit status to
 * leave with (0 after --help). */
static int demo_args_parse(int argc, char **argv, struct demo_args *a)
{
	static const struct option longopts[] = {
		{ "socket", required_argument, NULL, 's' },
		{ "timeout", required_argument, NULL, 't' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	int opt;

	a->timeout_ms = IPC_FOREVER;
	while ((opt = getopt_long(argc, argv, "s:t:h", longopts, NULL)) != -1) {
		if (opt == 'h')
			return demo_usage(stdout, 0);
		if (opt == 's')
			a->sock = optarg;
		else if (opt != 't' || demo_parse_ms(optarg, &a->timeout_ms))
			return demo_usage(stderr, 2);
	}
	if (argc - optind != 2)
		return demo_usage(stderr, 2);
	a->name = argv[optind + 1];
	if (strcmp(argv[optind], "sender") == 0)
		a->end = DEMO_WRITER_END;
	else if (strcmp(argv[optind], "receiver") == 0)
		a->end = DEMO_READER_END;
	else
		return demo_usage(stderr, 2);
	return -1;
}

int main(int argc, char **argv)
{
	struct demo_args a = { 0 };
	ipc_client *c;
	int rc;

	setvbuf(stdout, NULL, _IOLBF, 0);
	if ((rc = demo_args_parse(argc, argv, &a)) >= 0)
		return rc;
	rc = ipc_connect(a.sock, &c);
	if (rc)
		return demo_fail(NULL, "connect", rc);
	/* OWNED: never attach to a pipe another user made first. */
	rc = ipc_pipe_attach(c, a.name, a.end, IPC_PIPE_CREATE | IPC_PIPE_ONEWAY |
			     IPC_PIPE_OWNED, NULL);
	if (rc)
		rc = demo_fail(c, "attach", rc);
	else if (a.end == DEMO_WRITER_END)
		rc = demo_sender(c, a.name, a.timeout_ms);
	else
		rc = demo_receiver(c, a.name, a.timeout_ms);
	ipc_close(c);
	return rc;
}
