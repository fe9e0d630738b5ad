/* SPDX-License-Identifier: MIT */
/* activate.c: adopt a listening socket passed by systemd. */
#include <errno.h>
#include <fcntl.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include "activate.h"
#include "log.h"

/* How many fds were passed to us: 0 when none or they are for another
 * process; -1 when $LISTEN_FDS is malformed. */
static int activate_count(void)
{
	const char *pid = getenv("LISTEN_PID"), *fds = getenv("LISTEN_FDS");
	char *end;
	long p, n;

	if (pid == NULL || fds == NULL)
		return 0;
	errno = 0;
	p = strtol(pid, &end, 10);
	if (errno || *end || p != (long)getpid())
		return 0;
	n = strtol(fds, &end, 10);
	if (errno || *end || n < 0 || n > 1024)
		return -1;
	return (int)n;
}

/* Is fd a listening AF_UNIX stream socket? Fills name with its path. */
static int activate_check(int fd, char *name, size_t len)
{
	struct sockaddr_un sa;
	socklen_t salen = sizeof(sa);
	int type = 0, acc = 0;
	socklen_t l1 = sizeof(type), l2 = sizeof(acc);

	if (getsockopt(fd, SOL_SOCKET, SO_TYPE, &type, &l1) != 0 ||
	    getsockopt(fd, SOL_SOCKET, SO_ACCEPTCONN, &acc, &l2) != 0 ||
	    getsockname(fd, (struct sockaddr *)&sa, &salen) != 0)
		return -1;
	if (type != SOCK_STREAM || !acc || sa.sun_family != AF_UNIX)
		return -1;
	if (salen > offsetof(struct sockaddr_un, sun_path) && sa.sun_path[0])
		snprintf(name, len, "%.*s", (int)sizeof(sa.sun_path), sa.sun_path);
	else
		snprintf(name, len, "%s", "");
	return 0;
}

/* Adopt the passed listening socket. */
int activate_listen_fd(char *name, size_t len)
{
	int n = activate_count(), fd = ACTIVATE_FD_START, i, fl;

	unsetenv("LISTEN_PID");
	unsetenv("LISTEN_FDS");
	unsetenv("LISTEN_FDNAMES");
	if (n == 0)
		return -1;
	if (n < 0) {
		log_err("socket activation: bad LISTEN_FDS");
		return -2;
	}
	if (n > 1) {
		log_warn("socket activation: %d sockets passed, serving the first", n);
		for (i = 1; i < n; i++)
			close(fd + i);
	}
	if (activate_check(fd, name, len) != 0) {
		log_err("socket activation: fd %d is not a listening Unix stream socket", fd);
		return -2;
	}
	fl = fcntl(fd, F_GETFL);
	if (fl < 0 || fcntl(fd, F_SETFL, fl | O_NONBLOCK) != 0 ||
	    fcntl(fd, F_SETFD, FD_CLOEXEC) != 0) {
		log_err("socket activation: fd %d: %s", fd, strerror(errno));
		return -2;
	}
	return fd;
}
