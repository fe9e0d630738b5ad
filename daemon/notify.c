/* SPDX-License-Identifier: MIT */
/* notify.c: the sd_notify(3) datagram, without libsystemd. */
#include <errno.h>
#include <stddef.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include "notify.h"

/* Fill sa from $NOTIFY_SOCKET; its length, 0 when unset, -1 when bad. */
static socklen_t notify_addr(struct sockaddr_un *sa, int *bad)
{
	const char *path = getenv("NOTIFY_SOCKET");
	size_t len;

	*bad = 0;
	if (path == NULL || *path == '\0')
		return 0;
	len = strlen(path);
	if ((path[0] != '/' && path[0] != '@') || len >= sizeof(sa->sun_path)) {
		*bad = 1;
		return 0;
	}
	memset(sa, 0, sizeof(*sa));
	sa->sun_family = AF_UNIX;
	memcpy(sa->sun_path, path, len);
	if (path[0] == '@')
		sa->sun_path[0] = '\0';
	return (socklen_t)(offsetof(struct sockaddr_un, sun_path) + len);
}

/* Send one state datagram to the service manager. */
int notify_send(const char *state)
{
	struct sockaddr_un sa;
	int bad, fd, err;
	socklen_t salen = notify_addr(&sa, &bad);
	ssize_t n;

	if (bad) {
		errno = EINVAL;
		return -1;
	}
	if (salen == 0)
		return 1;
	fd = socket(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC, 0);
	if (fd < 0)
		return -1;
	n = sendto(fd, state, strlen(state), MSG_NOSIGNAL,
		   (const struct sockaddr *)&sa, salen);
	err = errno;
	close(fd);
	errno = err;
	return n == (ssize_t)strlen(state) ? 0 : -1;
}
