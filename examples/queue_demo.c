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
 * stayed full that long (default: it waits as long as it takes). The
 * command line and the error reports are demo.c's, shared with pipe_demo.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "demo.h"

#define DEMO_MAXSIZE 2
#define DEMO_COUNT 5
#define DEMO_GET_TIMEOUT_MS 10000

/* The command line: putter or getter, and what -t means here. */
static const struct demo demo_queue = {
	.prog = "queue_demo",
	.roles = { "putter", "getter" },
	.timeout_help =
		"  -t, --timeout MS     getter: stop after MS ms with nothing (default "
		DEMO_STR(DEMO_GET_TIMEOUT_MS) ");\n"
		"                       putter: give up after MS ms of a full queue\n"
		"                       (default: wait as long as it takes)\n",
};

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

/* Open the queue and play the role asked for. */
int main(int argc, char **argv)
{
	struct ipc_queue_opts opts = IPC_QUEUE_OPTS_INIT;
	struct demo_args a;
	ipc_client *c;
	int rc;

	if ((rc = demo_start(&demo_queue, argc, argv, &a, &c)) >= 0)
		return rc;
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
	else if (a.role == 0)
		rc = demo_putter(c, a.name, a.timeout_ms < 0 ? IPC_FOREVER : a.timeout_ms);
	else
		rc = demo_getter(c, a.name, a.timeout_ms < 0 ? DEMO_GET_TIMEOUT_MS :
				 a.timeout_ms);
	ipc_close(c);
	return rc;
}
