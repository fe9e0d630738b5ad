/* SPDX-License-Identifier: MIT */
/*
 * discover.c: which socket ipc_connect() uses when it is given none.
 *
 * An explicit path or $IPCD_SOCKET is used as given. Otherwise the client
 * tries the user's own daemon ($XDG_RUNTIME_DIR/ipcd.sock) and then the
 * system's (/run/ipcd/ipcd.sock), and uses the first that accepts a
 * connection; when none does, the error text names every path tried.
 */
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "client_int.h"

/* Why this thread's last ipc_connect() failed: ipc_last_error(NULL). */
static __thread char connect_err[CLIENT_PATHS_MAX * (CLIENT_PATH_MAX + 48)];

/* The system daemon's socket. IPCD_TEST_SYSTEM_SOCKET replaces it, for
 * the test suite only (ipcclient.h): the tests cannot own /run/ipcd. */
static const char *client_system_socket(void)
{
	const char *test = getenv("IPCD_TEST_SYSTEM_SOCKET");

	return test && *test ? test : CLIENT_SYSTEM_SOCKET;
}

/* Append one path to the list; a path too long for a socket is kept
 * (empty) so that the error can say so. */
static void client_paths_add(struct client_paths *p, const char *fmt,
			     const char *arg)
{
	int n = snprintf(p->path[p->n], sizeof(p->path[p->n]), fmt, arg);

	p->toolong[p->n] = n < 0 || (size_t)n >= sizeof(p->path[p->n]);
	p->n++;
}

/* The paths ipc_connect(path) tries, in order. */
void client_paths(const char *path, struct client_paths *p)
{
	const char *env = getenv("IPCD_SOCKET");
	const char *xdg = getenv("XDG_RUNTIME_DIR");

	p->n = 0;
	if (path) {
		client_paths_add(p, "%s", path);
	} else if (env && *env) {
		client_paths_add(p, "%s", env);
	} else {
		if (xdg && *xdg)
			client_paths_add(p, "%s/ipcd.sock", xdg);
		client_paths_add(p, "%s", client_system_socket());
	}
}

/* Forget the last connect failure of this thread. */
void client_connect_err_clear(void)
{
	connect_err[0] = '\0';
}

/* Add "PATH: why" for one path that did not accept a connection. */
void client_connect_err_add(const char *path, int err)
{
	size_t used = strlen(connect_err);

	snprintf(connect_err + used, sizeof(connect_err) - used, "%s%s: %s",
		 used ? "; " : "cannot connect to ", path, strerror(err));
}

/* Replace the text with a failure after the connection was accepted:
 * what (the code's text) and the detail, when there is one. */
void client_connect_err_set(const char *path, const char *what,
			    const char *detail)
{
	snprintf(connect_err, sizeof(connect_err), "cannot connect to %s: %s%s%s",
		 path, what, *detail ? ": " : "", detail);
}

/* Text of this thread's last ipc_connect() failure, or NULL. */
const char *client_connect_err(void)
{
	return connect_err[0] ? connect_err : NULL;
}

/* Write the first path ipc_connect(NULL) tries into buf; see ipcclient.h. */
IPC_EXPORT char *ipc_default_socket(char *buf, size_t len)
{
	struct client_paths p;
	int n;

	client_paths(NULL, &p);
	if (!buf || len == 0 || p.toolong[0])
		return NULL;
	n = snprintf(buf, len, "%s", p.path[0]);
	return n < 0 || (size_t)n >= len ? NULL : buf;
}
