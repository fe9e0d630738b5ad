/* SPDX-License-Identifier: MIT */
/*
 * queue_demo: Python's multiprocessing.Queue example over ipcd, as two
 * separate processes started in either order:
 *
 *   queue_demo [-s SOCKET] [-t MS] putter NAME   puts 5 random numbers
 *   queue_demo [-s SOCKET] [-t MS] getter NAME   gets until MS pass with nothing
 *
 * Both open the queue with maxsize 2, creating it if they come first, so
 * the putter blocks while the queue is full just as q.put() does.
 * -t/--timeout MS bounds every wait: the getter stops once nothing came
 * for MS milliseconds (default 10000), the putter gives up when the queue
 * stayed full that long (default: it waits as long as it takes).
 */
#include <errno.h>
#include <getopt.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <ipcclient/ipcclient.h>

#define DEMO_MAXSIZE 2
#define DEMO_COUNT 5
#define DEMO_GET_TIMEOUT_MS 10000

/* The command line. */
struct demo_args {
	const char *sock;      /* -s: NULL for the default socket */
	const char *role;      /* "putter" or "getter" */
	const char *name;      /* the queue */
	int timeout_ms;        /* -t, or -1 when not given */
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
	fprintf(stderr, "queue_demo: %s: %s\n", what, why);
	return 1;
}

/* The putter: DEMO_COUNT random doubles, each sent as "%f" text, each
 * put waiting at most timeout_ms for room. */
static int demo_putter(ipc_client *c, const char *name, int timeout_ms)
{
	char msg[64];
	double v;
	int i, n, rc;

	printf("subprocess putter : %ld\n", (long)getpid());
	srand48((long)getpid() ^ (long)time(NULL));
	for (i = 0; i < DEMO_COUNT; i++) {
		v = drand48();
		n = snprintf(msg, sizeof(msg), "%f", v);
		rc = ipc_queue_put(c, name, msg, (size_t)n, timeout_ms);
		if (rc)
			return demo_fail(c, "put", rc);
		printf("subprocess putter : put value %f\n", v);
	}
	return 0;
}

/* Turn a message back into the number it carries. */
static double demo_parse(const void *data, size_t len)
{
	char text[64];

	if (len >= sizeof(text))
		len = sizeof(text) - 1;
	memcpy(text, data, len);
	text[len] = '\0';
	return strtod(text, NULL);
}

/* The getter: take values until none arrives for timeout_ms. */
static int demo_getter(ipc_client *c, const char *name, int timeout_ms)
{
	void *data;
	size_t len;
	int rc;

	printf("subprocess getter : %ld\n", (long)getpid());
	for (;;) {
		rc = ipc_queue_get(c, name, &data, &len, timeout_ms);
		if (rc == IPC_EEMPTY)
			return 0;
		if (rc)
			return demo_fail(c, "get", rc);
		printf("subprocess getter : get value %f\n",
		       demo_parse(data, len));
		ipc_free(data);
	}
}

/* Print how to call the demo (on stdout for --help, else on stderr);
 * returns the exit status. */
static int demo_usage(FILE *f, int status)
{
	fprintf(f, "usage: queue_demo [-s SOCKET] [-t MS] putter|getter NAME\n"
		"  -s, --socket SOCKET  the daemon's socket (default: ipcd's usual one)\n"
		"  -t, --timeout MS     getter: stop after MS ms with nothing (default %d);\n"
		"                       putter: give up after MS ms of a full queue\n"
		"                       (default: wait as long as it takes)\n"
		"  -h, --help           this text\n", DEMO_GET_TIMEOUT_MS);
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

	a->sock = NULL;
	a->timeout_ms = -1;
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
	a->role = argv[optind];
	a->name = argv[optind + 1];
	if (strcmp(a->role, "putter") != 0 && strcmp(a->role, "getter") != 0)
		return demo_usage(stderr, 2);
	return -1;
}

int main(int argc, char **argv)
{
	struct ipc_queue_opts opts = IPC_QUEUE_OPTS_INIT;
	struct demo_args a = { 0 };
	ipc_client *c;
	int rc;

	setvbuf(stdout, NULL, _IOLBF, 0);
	if ((rc = demo_args_parse(argc, argv, &a)) >= 0)
		return rc;
	rc = ipc_connect(a.sock, &c);
	if (rc)
		return demo_fail(NULL, "connect", rc);
	opts.maxsize = DEMO_MAXSIZE;
	/* Whichever role starts first creates the queue. The seed's example
	 * runs unchanged on ipcd and on NATS, so it opens with CREATE alone;
	 * a service on ipcd adds IPC_QUEUE_OWNED (or IPC_QUEUE_EXCL) so as
	 * not to join a queue another user made first (NAME SQUATTING in
	 * ipcd(8)), as pipe_demo does. */
	opts.flags = IPC_QUEUE_CREATE;
	rc = ipc_queue_open(c, a.name, &opts, NULL);
	if (rc)
		rc = demo_fail(c, "open", rc);
	else if (a.role[0] == 'p')
		rc = demo_putter(c, a.name, a.timeout_ms < 0 ? IPC_FOREVER : a.timeout_ms);
	else
		rc = demo_getter(c, a.name, a.timeout_ms < 0 ? DEMO_GET_TIMEOUT_MS :
				 a.timeout_ms);
	ipc_close(c);
	return rc;
}
