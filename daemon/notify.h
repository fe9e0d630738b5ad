/* SPDX-License-Identifier: MIT */
/*
 * notify.h: tell the service manager how ipcd is doing, by the sd_notify(3)
 * protocol done by hand (no libsystemd): one datagram of "KEY=value" lines
 * sent to the AF_UNIX socket named by $NOTIFY_SOCKET ('@' for the abstract
 * namespace). Without $NOTIFY_SOCKET nothing is sent.
 */
#ifndef IPCD_NOTIFY_H
#define IPCD_NOTIFY_H

/* Send state (e.g. "READY=1"): 0 when sent, 1 when there is no
 * $NOTIFY_SOCKET, -1 on failure (errno set). */
int notify_send(const char *state);

#endif
