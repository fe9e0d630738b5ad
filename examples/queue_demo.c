/*
 * queue_demo: Python's multiprocessing.Queue example over ipcd, as two
 * separate processes started in either order:
 *
 *   queue_demo [-s SOCKET] putter NAME    puts 5 random numbers
 *   queue_demo [-s SOCKET] getter NAME    gets until 10 s pass with nothing
 *
 * Both open the queue with maxsize 2, creating it if they come first, so
 * the putter blocks while the queue is full just as q.put() does.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <ipcclient/ipcclient.h>

#define DEMO_MAXSIZE 2
#define DEMO_COUNT 5
#define DEMO_GET_TIMEOUT_MS 10000

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

/* The putter: DEMO_COUNT random doubles, each sent as "%f" text. */
static int demo_putter(ipc_client *c, const char *name)
{
	char msg[64];
	double v;
	int i, n, rc;

	printf("subprocess putter : %ld\n", (long)getpid());
	srand48((long)getpid() ^ (long)time(NULL));
	for (i = 0; i < DEMO_COUNT; i++) {
		v = drand48();
		n = snprintf(msg, sizeof(msg), "%f", v);
		rc = ipc_queue_put(c, name, msg, (size_t)n, IPC_FOREVER);
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

/* The getter: take values until none arrives for DEMO_GET_TIMEOUT_MS. */
static int demo_getter(ipc_client *c, const char *name)
{
	void *data;
	size_t len;
	int rc;

	printf("subprocess getter : %ld\n", (long)getpid());
	for (;;) {
		rc = ipc_queue_get(c, name, &data, &len, DEMO_GET_TIMEOUT_MS);
		if (rc == IPC_EEMPTY)
			return 0;
		if (rc)
			return demo_fail(c, "get", rc);
		printf("subprocess getter : get value %f\n",
		       demo_parse(data, len));
		ipc_free(data);
	}
}

/* Print how to call the demo on stderr; returns the usage status. */
static int demo_usage(void)
{
	fprintf(stderr, "usage: queue_demo [-s SOCKET] putter|getter NAME\n");
	return 2;
}

int main(int argc, char **argv)
{
	struct ipc_queue_opts opts = IPC_QUEUE_OPTS_INIT;
	const char *sock = NULL, *role, *name;
	ipc_client *c;
	int opt, rc;

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
	if (strcmp(role, "putter") != 0 && strcmp(role, "getter") != 0)
		return demo_usage();

	rc = ipc_connect(sock, &c);
	if (rc)
		return demo_fail(NULL, "connect", rc);
	opts.maxsize = DEMO_MAXSIZE;
	opts.flags = IPC_QUEUE_CREATE;
	rc = ipc_queue_open(c, name, &opts, NULL);
	if (rc)
		rc = demo_fail(c, "open", rc);
	else if (role[0] == 'p')
		rc = demo_putter(c, name);
	else
		rc = demo_getter(c, name);
	ipc_close(c);
	return rc;
}
