/* SPDX-License-Identifier: MIT */
/*
 * natsd.h: private nats-server processes for the NATS backend's tests:
 * one JetStream server, or a cluster of three, on 127.0.0.1 with free
 * ports and a temporary store directory; stopped by pid.
 *
 * The binary is named by NATS_SERVER_BIN (the Makefile exports what
 * configure found); n_bin() is NULL when there is none, and the suites
 * then skip (exit 77).
 */
#ifndef IPC_TEST_NATSD_H
#define IPC_TEST_NATSD_H

#include <sys/types.h>

/* One nats-server under test. */
struct natsd {
	char dir[64];        /* mkdtemp'd: the JetStream store and the log */
	char log[96];
	char url[64];        /* nats://127.0.0.1:PORT */
	char name[16];       /* server name (n1, n2, n3 in a cluster) */
	int port;            /* client port */
	int cport;           /* cluster port, 0 when alone */
	char routes[160];    /* -routes of a cluster member */
	pid_t pid;           /* 0 when not running */
};

/* The nats-server binary, or NULL when none was found. */
const char *n_bin(void);

/* Start one JetStream server on a free port and wait until it answers. */
void n_start(struct natsd *n);

/* Start a 3-node JetStream cluster (n[0..2]) and wait until each answers;
 * the JetStream meta leader may take a few seconds more. */
void n_cluster_start(struct natsd n[3]);

/* Start a stopped member again with its ports, store and routes. */
void n_restart(struct natsd *n);

/* Send sig to the server and reap it (SIGKILL: a crash). */
void n_kill(struct natsd *n, int sig);

/* Stop the server (SIGTERM), reap it, remove its directory. */
void n_stop(struct natsd *n);

/* Print the server's log to stderr (on failure). */
void n_dump_log(const struct natsd *n);

#endif
