/*
 * conn.h: one client connection: reads frames, hands each to dispatch,
 * writes replies, and owns the requests it has parked.
 */
#ifndef IPCD_CONN_H
#define IPCD_CONN_H

#include <stdint.h>
#include <sys/types.h>

struct server;
struct park;
struct proto_rep;
struct bufferevent;

enum conn_state {
	CONN_HELLO = 1, /* waiting for the version handshake */
	CONN_READY,     /* serving requests */
	CONN_CLOSING,   /* flushing its last replies, reads nothing */
	CONN_DEAD,      /* closed; freed once out of the current callback */
};

struct conn {
	struct conn *next, *prev;   /* in the server's set */
	struct server *srv;
	struct bufferevent *bev;
	struct park *parks;         /* requests parked for this connection */
	enum conn_state state;
	unsigned long id;           /* serial number, for logs */
	pid_t pid;                  /* peer credentials (SO_PEERCRED) */
	uid_t uid;
	gid_t gid;
};

/* Wrap an accepted socket; NULL on failure (fd closed). */
struct conn *conn_new(struct server *s, int fd);
/* Queue a reply for sending. */
void conn_reply(struct conn *c, const struct proto_rep *r);
/* Queue a status-only reply to request (op, id). */
void conn_reply_status(struct conn *c, uint32_t op, uint32_t id, int status);
/* Reply status (with detail) to id, then close once flushed: the peer
 * broke the protocol or is being shut down. Cancels its parked requests. */
void conn_fail(struct conn *c, uint32_t id, int status, const char *detail);
/* Stop reading and close once the pending replies are flushed. */
void conn_drain(struct conn *c);
/* Close now: cancel parked requests, free the socket; the struct itself is
 * freed out of the current callback. */
void conn_close(struct conn *c);
/* Link p into c's parked requests. */
void conn_park_add(struct conn *c, struct park *p);
/* Unlink p from its connection's parked requests. */
void conn_park_del(struct park *p);

#endif
