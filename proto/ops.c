/* SPDX-License-Identifier: MIT */
/* ops.c: the table of operations (ops.h) as data. */
#include "proto.h"

/* Brace a parenthesised field list: (a, b) -> { a, b }. */
#define PROTO_BRACE(...) { __VA_ARGS__ }

/* The rows of ops.h, indexed by op number. */
static const struct proto_op_desc proto_ops[PROTO_OP__MAX] = {
#define PROTO_OP_ROW(N, n, num, rq, opt, rp, park) \
	[num] = { #N, PROTO_BRACE rq, opt, PROTO_BRACE rp, park },
	PROTO_OPS(PROTO_OP_ROW)
#undef PROTO_OP_ROW
};

/* The row of op, or NULL for an unknown op. */
const struct proto_op_desc *proto_op(uint32_t op)
{
	if (op == 0 || op >= PROTO_OP__MAX || proto_ops[op].name == NULL)
		return NULL;
	return &proto_ops[op];
}

/* The name of op, or "?". */
const char *proto_op_name(uint32_t op)
{
	const struct proto_op_desc *d = proto_op(op);

	return d != NULL ? d->name : "?";
}
