/* SPDX-License-Identifier: MIT */
/*
 * activate.h: socket activation, sd_listen_fds(3) done by hand (no
 * libsystemd). systemd passes listening sockets from fd 3 on and says so
 * in $LISTEN_FDS, for the process $LISTEN_PID only.
 */
#ifndef IPCD_ACTIVATE_H
#define IPCD_ACTIVATE_H

#include <stddef.h>

/* The first fd systemd passes (SD_LISTEN_FDS_START). */
#define ACTIVATE_FD_START 3

/* Adopt the listening socket passed to this process: its fd (made
 * non-blocking and close-on-exec) with its path in name (len bytes; "" if
 * unnamed); -1 when none was passed; -2 when one was passed but is not a
 * listening AF_UNIX stream socket (logged). The LISTEN_* variables are
 * removed from the environment either way; extra fds are closed. */
int activate_listen_fd(char *name, size_t len);

#endif
