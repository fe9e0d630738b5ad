/* SPDX-License-Identifier: MIT */
/*
 * server.h: the daemon's I/O shell: the listening socket, the libevent
 * loop, signals, the set of connections and shutdown.
 */
#ifndef IPCD_SERVER_H
#define IPCD_SERVER_H

#include <stddef.h>
#include <sys/types.h>
#include <time.h>

#include "broker.h"
#include "busypoll.h"
#include "conf.h"
#include "ilist.h"
#include "proto.h"
#include "ptimer.h"

struct event_base;
struct event;
struct conn;

/* Connections refused (policy_connect) waiting for their refusal at
 * once; past that they are closed at once, unanswered. */
#define SERVER_REFUSED_MAX 16
/* Descriptors kept for the daemon itself (the listening socket, the
 * event loop, the journal, the config file on SIGHUP, the spare one) and
 * for the refused connections: max-connections is bounded by
 * RLIMIT_NOFILE minus these. */
#define SERVER_FD_RESERVE (16 + SERVER_REFUSED_MAX)
/* Warnings a storm could repeat (refused connections, no descriptor)
 * are logged at most once in this many seconds, with a count. */
#define SERVER_LOG_EVERY_SEC 10

/* Builds a fresh configuration for SIGHUP (file + flags again): 0, or -1
 * after logging why (the running one is kept). */
typedef int (*server_reload_fn)(struct config *out, void *arg);

/* Replies counted by status, 0..SERVER_STATUS_MAX - 1. */
#define SERVER_STATUS_MAX 64

/* What the daemon counts for INFO, each where it happens, with a plain
 * increment: connections in server.c, requests in dispatch.c, parked
 * requests and replies in conn.c. op_info() adds what the broker and the
 * journal know. */
struct server_stats {
	uint64_t started_ns;       /* CLOCK_MONOTONIC at start, ns */
	uint64_t start_time;       /* the Unix time at start, s */
	uint64_t conns_total;      /* connections accepted and served */
	uint64_t conns_refused;    /* connections refused over max-connections */
	uint64_t requests;         /* request frames served */
	uint64_t parked;           /* requests parked now */
	uint64_t fatal;            /* replies with a negative (fatal) status */
	uint64_t status[SERVER_STATUS_MAX]; /* replies by status */
};

struct server {
	struct event_base *base;
	struct ptimers timers;        /* request timeouts and leases (ptimer.h) */
	struct broker broker;
	int listen_fd;
	struct event *accept_ev;
	struct event *accept_retry_ev; /* re-arms accepting after EMFILE */
	struct event *sig_term, *sig_int, *sig_hup;
	struct event *shutdown_ev;     /* bounds how long shutdown waits to flush */
	char *path;                    /* the socket we created and must unlink */
	dev_t path_dev;                /* its device and inode: unlink only that file */
	ino_t path_ino;
	int activated;                 /* listen_fd came from systemd: never unlink */
	struct config cfg;             /* what runs now (limits change on SIGHUP) */
	server_reload_fn reload;       /* NULL: SIGHUP only re-applies cfg */
	void *reload_arg;
	struct ilist conns;            /* every open connection */
	struct ilist dirty;            /* connections with replies to write,
					  in the order they got them */
	struct event *flush_ev;        /* writes them at the end of the loop
					  iteration (conn.c) */
	size_t nconns;                 /* in conns, refused ones included */
	size_t nrefused;               /* connections refused (policy_connect) */
	size_t max_conns;              /* max-connections, bounded by the
					  descriptor limit (server_limits) */
	size_t fd_limit;               /* RLIMIT_NOFILE, raised to the hard limit */
	int spare_fd;                  /* kept free to refuse a connection when
					  descriptors run out (EMFILE) */
	time_t emfile_logged;          /* when that was last logged, */
	unsigned long emfile_refused;  /* connections closed so in all */
	time_t refuse_logged;          /* when a refusal was last logged */
	size_t in_bytes;               /* connections' input buffers (partial
					  frames), at most cfg.max_partial */
	unsigned long next_conn_id;
	int shutting_down;
	int stopped;                   /* server_run returns */
	struct busypoll poll;          /* how long to poll before sleeping */
	unsigned long nreads;          /* read events served, for the poll */
	struct event *trim_ev;         /* returns free heap memory when idle */
	unsigned long trim_mark;       /* nreads when the trim timer was armed */
	struct durable *durable;       /* the journal of durable queues (durable.c) */
	struct server_stats stats;     /* counters for INFO */
	struct pbuf out;               /* scratch: replies are encoded here */
	struct proto_dec dec;          /* scratch: requests are decoded here */
};

/* Set up the loop and listen: on the socket systemd passed, else on
 * cfg->socket_path (created with cfg->socket_mode and socket_group).
 * 0 or -1 (logged). */
int server_init(struct server *s, const struct config *cfg);
/* Take the reloadable settings of cfg (limits, log level), log what
 * changed, warn about changes that need a restart. */
void server_reconfigure(struct server *s, const struct config *cfg);
/* Tell the service manager we are ready, then run until shut down; 0 on
 * a clean shutdown. */
int server_run(struct server *s);
/* Stop accepting, complete parked requests with IPC_ESHUTDOWN, flush and
 * close every connection, then leave the loop. */
void server_shutdown(struct server *s);
/* Free everything server_init made, unlinking the socket. */
void server_fini(struct server *s);

/* 1 when a warning rate-limited to one per SERVER_LOG_EVERY_SEC, last
 * logged at *last (0: never), may be logged now (*last is then set). */
int server_log_due(time_t *last);
/* Nanoseconds on the monotonic clock. */
uint64_t server_now_ns(void);

/* A new connection joins the set (called by conn_new). */
void server_conn_add(struct server *s, struct conn *c);
/* A connection is gone: drop it from the set (called by conn). */
void server_conn_gone(struct server *s, struct conn *c);

#endif
