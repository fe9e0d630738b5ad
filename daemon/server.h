/*
 * server.h: the daemon's I/O shell: the listening socket, the libevent
 * loop, signals, the set of connections and shutdown.
 */
#ifndef IPCD_SERVER_H
#define IPCD_SERVER_H

#include <stddef.h>

#include "broker.h"
#include "proto.h"

struct event_base;
struct event;
struct conn;

struct server_config {
	const char *socket_path;
	size_t msg_max;
};

struct server {
	struct event_base *base;
	struct broker broker;
	int listen_fd;
	struct event *accept_ev;
	struct event *accept_retry_ev; /* re-arms accepting after EMFILE */
	struct event *sig_term, *sig_int;
	struct event *shutdown_ev;     /* bounds how long shutdown waits to flush */
	char *path;                    /* the socket we created and must unlink */
	struct conn *conns;            /* every open connection */
	size_t nconns;
	unsigned long next_conn_id;
	int shutting_down;
	struct pbuf out;               /* scratch: replies are encoded here */
	struct proto_dec dec;          /* scratch: requests are decoded here */
};

/* Set up the loop and listen on cfg->socket_path; 0 or -1 (logged). */
int server_init(struct server *s, const struct server_config *cfg);
/* Run until shut down; 0 on a clean shutdown. */
int server_run(struct server *s);
/* Stop accepting, complete parked requests with IPC_ESHUTDOWN, flush and
 * close every connection, then leave the loop. */
void server_shutdown(struct server *s);
/* Free everything server_init made, unlinking the socket. */
void server_fini(struct server *s);

/* A connection is gone: drop it from the set (called by conn). */
void server_conn_gone(struct server *s, struct conn *c);

#endif
