/* SPDX-License-Identifier: MIT */
/*
 * demo.c: the command line, connection and error reports of the two
 * examples (see demo.h).
 */
#include <errno.h>
#include <getopt.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "demo.h"

/* The running demo's name, for demo_fail(). */
static const char *demo_prog = "demo";

/* Report a failed call; see demo.h. */
int demo_fail(ipc_client *c, const char *what, int rc)
{
	const char *why;

	if (c)
		why = ipc_last_error(c);
	else if (rc == IPC_ECONNECT || rc == IPC_EIO)
		why = strerror(errno);
	else
		why = ipc_strerror(rc);
	fprintf(stderr, "%s: %s: %s\n", demo_prog, what, why);
	return 1;
}

/* Print how to call the demo (on stdout for --help, else on stderr);
 * returns the exit status. */
static int demo_usage(const struct demo *d, FILE *f, int status)
{
	fprintf(f, "usage: %s [-s SOCKET] [-t MS] %s|%s NAME\n"
		"  -s, --socket SOCKET  the daemon's socket (default: ipcd's usual one)\n"
		"%s"
		"  -h, --help           this text\n",
		d->prog, d->roles[0], d->roles[1], d->timeout_help);
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
static int demo_args_parse(const struct demo *d, int argc, char **argv,
			   struct demo_args *a)
{
	static const struct option longopts[] = {
		{ "socket", required_argument, NULL, 's' },
		{ "timeout", required_argument, NULL, 't' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	int opt;

	*a = (struct demo_args){ .timeout_ms = -1 };
	while ((opt = getopt_long(argc, argv, "s:t:h", longopts, NULL)) != -1) {
		if (opt == 'h')
			return demo_usage(d, stdout, 0);
		if (opt == 's')
			a->sock = optarg;
		else if (opt != 't' || demo_parse_ms(optarg, &a->timeout_ms))
			return demo_usage(d, stderr, 2);
	}
	if (argc - optind != 2)
		return demo_usage(d, stderr, 2);
	a->name = argv[optind + 1];
	for (a->role = 0; a->role < 2; a->role++)
		if (strcmp(argv[optind], d->roles[a->role]) == 0)
			return -1;
	return demo_usage(d, stderr, 2);
}

/* Parse the command line and connect; see demo.h. */
int demo_start(const struct demo *d, int argc, char **argv, struct demo_args *a,
	       ipc_client **c)
{
	int rc;

	demo_prog = d->prog;
	setvbuf(stdout, NULL, _IOLBF, 0);
	if ((rc = demo_args_parse(d, argc, argv, a)) >= 0)
		return rc;
	rc = ipc_connect(a->sock, c);
	return rc ? demo_fail(NULL, "connect", rc) : -1;
}
