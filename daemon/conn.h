/* SPDX-License-Identifier: MIT */
/*
 * conn.h: one client connection: reads frames, hands each to dispatch,
 * writes replies, and owns the requests it has parked.
 */
#ifndef IPCD_CONN_H
#define IPCD_CONN_H

#include <stdint.h>
#include <sys/types.h>
#include <event2/event_struct.h>

#include "ilist.h"
#include "proto.h"

/* The most requests one connection may have parked at once: a client that
 * pipelines blocking requests cannot grow the daemon without bound. */
#define CONN_PARKS_MAX 4096

struct server;
struct park;
struct lease;
struct proto_rep;
struct access_cred;
struct quota_user;

enum conn_state {
	CONN_HELLO = 1, /* waiting for the version handshake */
	CONN_READY,     /* serving requests */
	CONN_CLOSING,   /* flushing its last replies, reads nothing */
	CONN_DEAD,      /* closed; freed once out of the current callback */
};

struct conn {
	struct ilist link;          /* in the server's set */
	struct server *srv;
	int fd;
	int sndbuf_raised;          /* its send buffer was raised (sock_sndbuf_fit) */
	struct event rev;           /* readable; not added while paused or closing */
	int rev_on;                 /* rev is added (conn_rev_on) */
	struct event wev;           /* writable; added only while output is left over */
	int wev_on;                 /* wev is added (conn_wev_set) */
	struct event turn;          /* a zero timer: whole requests kept past
				       its turn are served next iteration */
	size_t turn_left;           /* requests it may still have served in
				       this turn (conn.c) */
	int hot;                    /* its last turn ran out: read only what
				       the next one can serve */
	struct event *deadline;     /* closing or refused: when to give up on the peer */
	struct event *frame_ev;     /* a request not yet whole: when to give up
				       on it (frame-timeout) */
	size_t in_charged;          /* in.cap as counted in srv->in_bytes */
	unsigned long nframes;      /* requests served, to see progress */
	struct pbuf in;             /* bytes read but not served: a partial frame,
				       or frames kept while paused */
	int take_ok;                /* the frame being served is in alone and
				       large: conn_take_frame may take in */
	int took;                   /* a frame's buffer was taken since the
				       last read: read the next header alone */
	unsigned char ahead[PROTO_FRAME_HDR]; /* the first bytes of the frame
				       after a large one, read with its end
				       (conn_read_kept): into in once that
				       frame is served */
	size_t nahead;
	struct pbuf out;            /* replies not yet written (from sg on) */
	struct proto_hole *holes;   /* large payloads left out of out, sent */
	struct qmsg **hole_msgs;    /* from the messages kept here for it */
	size_t nholes, holes_cap, holes_done;
	struct proto_sg sg;         /* how far writing got */
	size_t out_total, out_sent; /* bytes queued (holes too) and written */
	struct ilist dirty;         /* in the server's list of output to flush
				       (linked while it has some) */
	struct ilist parks;         /* requests parked for this connection */
	struct ilist stalled_parks; /* and those of them set aside while
				       stalled (park_stall), oldest first */
	size_t nparks;              /* how many; at most CONN_PARKS_MAX */
	struct ilist leases;        /* messages it holds in flight (QGETA,
				       QGETH), oldest first (struct lease) */
	uint64_t done_tag;          /* the last tag a QDONE acked (lease.c) */
	uint64_t *hold_page;        /* its hold page (QHOLDS), or NULL */
	struct ilist *slot_holds;   /* with it, per word, the holds it counts,
				       in batch order (struct lease) */
	struct ilist holds;         /* pipe ends it has attached (op_pipe.c) */
	struct ilist resvs;         /* slots it reserved in queues (op_resv.c) */
	enum conn_state state;
	unsigned long id;           /* serial number, for logs */
	pid_t pid;                  /* peer credentials (SO_PEERCRED) */
	uid_t uid;
	gid_t gid;
	gid_t *groups;              /* supplementary groups (SO_PEERGROUPS) */
	size_t ngroups;
	int memfd;                  /* HELLO granted PROTO_CAP_MEMFD (memfd.h) */
	int *fdq;                   /* descriptors received, not yet claimed by
				       a frame, oldest first (nfdq of fdq_cap) */
	size_t nfdq, fdq_cap;
	struct qmsg **fd_out;       /* memfd messages whose descriptors go with
				       the next write (nfd_out of fd_out_cap) */
	size_t nfd_out, fd_out_cap;
	int refused;                /* policy_connect's refusal (enum
				       policy_conn): HELLO gets IPC_ELIMIT */
	struct quota_user *user;    /* its uid's quota record (NULL: refused) */
	int paused;                 /* unsent output over max-output: not read */
	int peer_gone;              /* a write failed while it held read-ahead:
				       its input is read to the end, only
				       QDONE served, nothing written (conn.c) */
	int stalled;                /* unsent output over max-output: its parked
				       gets are handed nothing (park_stall) */
	size_t out_charged;         /* bytes of out taken by replies carrying
				       messages, counted in the broker's
				       shell_bytes (against max-bytes) */
};

/* Wrap an accepted socket and add it to the server's set, served or
 * refused as policy_connect says (a refused one has its HELLO answered
 * IPC_ELIMIT and is closed, or dropped after a short wait for it); NULL
 * when it was closed at once (too many refusals waiting, or out of
 * memory). */
struct conn *conn_new(struct server *s, int fd);
/* The input buffer holding the frame being served, when it holds that
 * large frame alone and data[0..len) lies in it: c lets go of it, the
 * caller frees it (a message taking it over: no copy), its size in
 * *size if size is not NULL. Else NULL. */
void *conn_take_frame(struct conn *c, const unsigned char *data, size_t len,
		      size_t *size);
/* The peer's credentials for access checks (valid while c lives). */
void conn_cred(const struct conn *c, struct access_cred *cred);
/* Queue a reply for sending. A reply with a negative (fatal) status
 * closes the connection once it is flushed, like conn_fail. */
void conn_reply(struct conn *c, const struct proto_rep *r);
/* conn_reply() for a reply carrying the messages msgs[0..n) (the data of
 * a QGET-like reply, or a batch's iov), which the connection takes over:
 * large ones are written straight from the message instead of copied,
 * and each is freed once written (at once when copied). */
struct qmsg;
void conn_reply_own(struct conn *c, const struct proto_rep *r,
		    struct qmsg **msgs, size_t n);
/* conn_reply_own() for messages taken from queue q: should the reply
 * not be encoded (the connection is closed then) or c be closed already,
 * they go back to the head of q in order, delivered to nobody. */
struct queue;
void conn_reply_take(struct conn *c, const struct proto_rep *r,
		     struct queue *q, struct qmsg **msgs, size_t n);
/* Fault injection for tests: from the nth reply carrying messages on (1:
 * the next), every one fails to encode as if memory ran out; 0 turns it
 * off. ipcd sets it from $IPCD_TEST_FAIL_REPLY (ipcd(8)). */
void conn_fail_replies_from(unsigned long n);
/* Queue a status-only reply to request (op, id). */
void conn_reply_status(struct conn *c, uint32_t op, uint32_t id, int status);
/* Queue a failure reply to request (op, id) with a detail text for humans. */
void conn_reply_error(struct conn *c, uint32_t op, uint32_t id, int status,
		      const char *fmt, ...) __attribute__((format(printf, 5, 6)));
/* Reply status (with detail) to id, then close once flushed: the peer
 * broke the protocol or is being shut down. Cancels its parked requests. */
void conn_fail(struct conn *c, uint32_t id, int status, const char *detail);
/* Stop reading and close once the pending replies are flushed. */
void conn_drain(struct conn *c);
/* Whether c has bytes it has not served yet: in its buffer, on its
 * socket, or unread because it is paused or closing. */
int conn_input_pending(const struct conn *c);
/* Close now: cancel parked requests, free the socket; the struct itself is
 * freed out of the current callback. */
void conn_close(struct conn *c);
/* Link p into c's parked requests. */
void conn_park_add(struct conn *c, struct park *p);
/* Unlink p from its connection's parked requests. */
void conn_park_del(struct park *p);

#endif
