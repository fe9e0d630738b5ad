/* SPDX-License-Identifier: MIT */
/*
 * wire.h: the shell's conversions between the wire's types (proto.h) and
 * the core's (broker.h), so that daemon/core/ never sees the protocol.
 */
#ifndef IPCD_WIRE_H
#define IPCD_WIRE_H

#include <stdint.h>

struct broker_info;
struct broker_pipe_want;
struct proto_info;
struct proto_req;

/* The BROKER_OPEN_* flags of a QOPEN's PROTO_OPEN_* flags. */
uint32_t wire_open_flags(uint32_t proto_flags);
/* What PATTACH request r asks of the broker. */
void wire_pipe_want(const struct proto_req *r, struct broker_pipe_want *w);
/* The wire's description of a queue or pipe (STAT, LIST). */
void wire_info(const struct broker_info *in, struct proto_info *out);

#endif
