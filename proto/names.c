/* SPDX-License-Identifier: MIT */
/*
 * names.c: the name rule and the text of every result code.
 */
#include "proto.h"

/* 1 when c may appear in a name: [A-Za-z0-9_.:@-]. */
static int names_byte_ok(unsigned char c)
{
	return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
	       (c >= '0' && c <= '9') || c == '_' || c == '.' || c == ':' ||
	       c == '@' || c == '-';
}

/* 1 when name[0..len) is a valid queue or pipe name. */
int proto_name_valid(const char *name, size_t len)
{
	size_t i;

	if (name == NULL || len == 0 || len > IPC_NAME_MAX || name[0] == '.')
		return 0;
	for (i = 0; i < len; i++)
		if (!names_byte_ok((unsigned char)name[i]))
			return 0;
	return 1;
}

/* The text of each code in ipc_defs.h. */
static const struct {
	int code;
	const char *text;
} names_errors[] = {
	{ IPC_OK, "success" },
	{ IPC_EEMPTY, "empty: nothing to get or receive" },
	{ IPC_EFULL, "full: no room to put or send" },
	{ IPC_ENOENT, "no such queue or pipe" },
	{ IPC_EEXIST, "name already exists" },
	{ IPC_EDELETED, "queue or pipe deleted while waiting" },
	{ IPC_EMISMATCH, "exists with another maxsize or kind" },
	{ IPC_ENAME, "invalid name" },
	{ IPC_ETOOBIG, "message too big" },
	{ IPC_EINVAL, "invalid argument" },
	{ IPC_EEOF, "end of pipe" },
	{ IPC_EBUSY, "pipe end attached elsewhere" },
	{ IPC_EPIPE, "broken pipe" },
	{ IPC_EPERM, "permission denied" },
	{ IPC_ESHUTDOWN, "daemon shutting down" },
	{ IPC_ELIMIT, "daemon limit reached" },
	{ IPC_EWRONGTYPE, "wrong kind of object (queue or pipe)" },
	{ IPC_EDIRECTION, "pipe end has the wrong direction" },
	{ IPC_ECLOSED, "pipe end closed" },
	{ IPC_ENOTATTACHED, "pipe end not attached" },
	{ IPC_ENOTHELD, "no such message in flight (acked, or lease expired)" },
	{ IPC_ENOSPC, "no space to store the durable record (disk full or write error)" },
	{ IPC_ENODURABLE, "durability is off in the daemon (state-dir empty, or its journal could not be opened)" },
	{ IPC_ENOTSUP, "not supported by this backend" },
	{ IPC_EIO, "I/O error or connection lost" },
	{ IPC_EPROTO, "protocol error" },
	{ IPC_EVERSION, "protocol version mismatch" },
	{ IPC_ENOMEM, "out of memory" },
	{ IPC_ECONNECT, "cannot connect to the daemon" },
	{ IPC_ETIMEDOUT, "the daemon did not answer in time" },
};

/* A short English text for an IPC_* code. */
const char *proto_strerror(int code)
{
	size_t i;

	for (i = 0; i < sizeof(names_errors) / sizeof(names_errors[0]); i++)
		if (names_errors[i].code == code)
			return names_errors[i].text;
	return "unknown error";
}
