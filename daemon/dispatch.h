/*
 * dispatch.h: decode one request frame and hand it to the handler of its
 * op; one handler per op (op_*.c).
 */
#ifndef IPCD_DISPATCH_H
#define IPCD_DISPATCH_H

#include <stddef.h>
#include <stdint.h>

struct conn;
struct proto_req;

/* Decode and serve one frame payload (without its 4-byte header). */
void dispatch_frame(struct conn *c, const unsigned char *p, size_t n);

/* Handlers, one per op. Each replies (now or once parked requests complete). */
void op_hello(struct conn *c, const struct proto_req *r);
void op_qopen(struct conn *c, const struct proto_req *r);
void op_qput(struct conn *c, const struct proto_req *r);
void op_qget(struct conn *c, const struct proto_req *r);
void op_stat(struct conn *c, const struct proto_req *r);
void op_qdel(struct conn *c, const struct proto_req *r);
void op_list(struct conn *c, const struct proto_req *r);
void op_qgeta(struct conn *c, const struct proto_req *r);
void op_qack(struct conn *c, const struct proto_req *r);
void op_pattach(struct conn *c, const struct proto_req *r);
void op_psend(struct conn *c, const struct proto_req *r);
void op_precv(struct conn *c, const struct proto_req *r);
void op_pclose(struct conn *c, const struct proto_req *r);
void op_qputn(struct conn *c, const struct proto_req *r);
void op_qgetn(struct conn *c, const struct proto_req *r);
void op_psendn(struct conn *c, const struct proto_req *r);
void op_precvn(struct conn *c, const struct proto_req *r);
/* park_wake(): a batch get woken with its first message m while a batch
 * put is offering messages: 1 when op_batch.c took it over (it replies
 * once the put is done, with what else the getter can take then), 0 to
 * reply now. */
struct qmsg;
int batch_defer(struct conn *c, uint32_t op, uint32_t id, uint32_t max,
		struct qmsg *m);
/* Who c acts as on end of p (pipe_send, pipe_recv): the record of its
 * attachment, or c itself when it holds no such end. */
struct pipe;
const void *op_pipe_owner(const struct conn *c, const struct pipe *p, unsigned end);
/* Close every pipe end c holds (it is going away): each peer reads what
 * was sent, then EOF. Safe after broker_fini. */
void op_pipe_release(struct conn *c);
/* QDEL on a pipe (op_qdel, once policy_owner allowed it): take its ends
 * off their holders' lists and delete it (broker_pipe_delete). 0,
 * IPC_ENOENT or IPC_EWRONGTYPE. */
int op_pipe_delete(struct conn *c, const char *name);

#endif
