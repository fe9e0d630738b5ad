/* SPDX-License-Identifier: MIT */
/* resv.h: a connection's slot reservations in bounded queues (op_resv.c). */
#ifndef IPCD_RESV_H
#define IPCD_RESV_H

struct conn;

/* Give back every slot c reserved (it closes or drains). Safe after
 * broker_fini: the queues forgot them then. */
void resv_release_all(struct conn *c);

#endif
