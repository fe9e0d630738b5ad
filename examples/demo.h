/* SPDX-License-Identifier: MIT */
/*
 * demo.h: the plumbing queue_demo and pipe_demo share, so that each demo
 * file holds only its own story: the command line both take
 * ([-s SOCKET] [-t MS] ROLE NAME, --help), connecting, and reporting a
 * failed call on stderr.
 */
#ifndef IPCD_EXAMPLES_DEMO_H
#define IPCD_EXAMPLES_DEMO_H

#include <ipcclient/ipcclient.h>

/* A number as a string literal: DEMO_STR(10000) is "10000". */
#define DEMO_STR_(x) #x
#define DEMO_STR(x) DEMO_STR_(x)

/* What tells one demo from the other on the command line. */
struct demo {
	const char *prog;         /* "queue_demo", the prefix of every complaint */
	const char *roles[2];     /* the two ROLE words, as --help lists them */
	const char *timeout_help; /* the usage lines of -t MS */
};

/* The command line. */
struct demo_args {
	const char *sock;         /* -s: NULL for the default socket */
	int role;                 /* index of ROLE in demo.roles */
	const char *name;         /* the queue or pipe */
	int timeout_ms;           /* -t, or -1 when not given */
};

/* Line-buffer stdout, parse the command line into *a and connect *c:
 * -1 to go on, or the exit status to leave with (0 after --help, 2 for
 * a bad command line, 1 when the connection failed). */
int demo_start(const struct demo *d, int argc, char **argv, struct demo_args *a,
	       ipc_client **c);

/* Report a failed call on stderr (c NULL: before a connection); returns
 * the failure exit status. */
int demo_fail(ipc_client *c, const char *what, int rc);

#endif
