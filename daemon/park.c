/* park.c: requests parked until a queue satisfies them or time runs out. */
#include <stdlib.h>
#include <string.h>
#include <event2/event.h>

#include "conn.h"
#include "ipc_defs.h"
#include "park.h"
#include "proto.h"
#include "qmsg.h"
#include "queue.h"
#include "server.h"

/* Unlink, stop the timer and free a park whose waiter is no longer parked. */
static void park_free(struct park *p)
{
	if (p->timed)
		event_del(&p->timer);
	conn_park_del(p);
	qmsg_free(p->w.msg);
	free(p);
}

/* Take a park off whatever holds its waiter. */
static void park_unpark(struct park *p)
{
	if (p->w.holder != NULL)
		queue_unpark(&p->w);
}

/* The timeout ran out: answer Empty or Full, nothing moved. */
static void park_timeout(evutil_socket_t fd, short what, void *arg)
{
	struct park *p = arg;

	(void)fd;
	(void)what;
	p->timed = 0;
	park_unpark(p);
	conn_reply_status(p->conn, p->op, p->id,
			  p->w.kind == WAITER_GET ? IPC_EEMPTY : IPC_EFULL);
	park_free(p);
}

/* A new park for request (op, id) of c. */
struct park *park_new(struct conn *c, uint32_t op, uint32_t id,
		      enum waiter_kind kind, struct qmsg *msg, int64_t timeout_ms)
{
	struct park *p = calloc(1, sizeof *p);

	if (p == NULL)
		return NULL;
	p->w.kind = kind;
	p->w.msg = msg;
	p->conn = c;
	p->op = op;
	p->id = id;
	if (timeout_ms > 0) {
		struct timeval tv = { .tv_sec = timeout_ms / 1000,
				      .tv_usec = (timeout_ms % 1000) * 1000 };

		event_assign(&p->timer, c->srv->base, -1, 0, park_timeout, p);
		event_add(&p->timer, &tv);
		p->timed = 1;
	}
	conn_park_add(c, p);
	return p;
}

/* The broker's wake function: a parked request completed with status. */
void park_wake(struct waiter *w, int status, struct qmsg *m)
{
	struct park *p = container_of(w, struct park, w);
	struct proto_rep rep = { .op = p->op, .id = p->id, .status = status };

	if (status == 0 && m != NULL) {
		rep.data = m->data;
		rep.data_len = m->len;
	}
	conn_reply(p->conn, &rep);
	qmsg_free(m);
	park_free(p);
}

/* Drop a parked request without replying: its connection is gone. */
void park_cancel(struct park *p)
{
	park_unpark(p);
	park_free(p);
}
