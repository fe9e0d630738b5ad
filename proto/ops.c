/* SPDX-License-Identifier: MIT */
/* ops.c: the table of operations (ops.h) as data. */
#include <stddef.h>

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

/* The u64 keys of the daemon info map (INFO), from PROTO_DINFO_FIELDS. */
const struct proto_dinfo_key proto_dinfo_keys[] = {
#define PROTO_DINFO_KEY(f) { #f, offsetof(struct proto_dinfo, f) },
	PROTO_DINFO_FIELDS(PROTO_DINFO_KEY)
#undef PROTO_DINFO_KEY
};
const size_t proto_dinfo_nkeys = sizeof(proto_dinfo_keys) / sizeof(proto_dinfo_keys[0]);

/* The row of op, or NULL for an unknown op. */
const struct proto_op_desc *proto_op(uint32_t op)
{
	if (op == 0 || op >= PROTO_OP__MAX || proto_ops[op].name == NULL)
		return NULL;
	return &proto_ops[op];
}

/* Fields in the RQ_NONE/RP_NONE-terminated list f (0 is either's end). */
static unsigned proto_op_nfields(const unsigned char *f)
{
	unsigned n = 0;

	while (n < PROTO_FIELDS_MAX && f[n] != 0)
		n++;
	return n;
}

/* How many request fields d lists. */
unsigned proto_op_nreq(const struct proto_op_desc *d)
{
	return proto_op_nfields(d->req);
}

/* How many success reply fields d lists. */
unsigned proto_op_nrep(const struct proto_op_desc *d)
{
	return proto_op_nfields(d->rep);
}

/* How many success reply fields d lists before RP_CAPS (or all). */
unsigned proto_op_nrep_required(const struct proto_op_desc *d)
{
	unsigned n = 0;

	while (n < PROTO_FIELDS_MAX && d->rep[n] != 0 && d->rep[n] != RP_CAPS)
		n++;
	return n;
}

/* The name of op, or "?". */
const char *proto_op_name(uint32_t op)
{
	const struct proto_op_desc *d = proto_op(op);

	return d != NULL ? d->name : "?";
}
