/* SPDX-License-Identifier: MIT */
/*
 * named.h: making a queue or pipe object with its name (1 to IPC_NAME_MAX
 * bytes, kept in a char[IPC_NAME_MAX + 1] of the object). Header-only.
 */
#ifndef IPCD_NAMED_H
#define IPCD_NAMED_H

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "ipc_defs.h"

/* A zeroed object of size bytes whose name, the char[IPC_NAME_MAX + 1]
 * at offset off, is a copy of name: NULL with errno EINVAL when name is
 * NULL or not 1 to IPC_NAME_MAX bytes, or with errno ENOMEM. */
static inline void *named_new(size_t size, size_t off, const char *name)
{
	size_t len = name ? strnlen(name, IPC_NAME_MAX + 1) : 0;
	char *obj;

	if (len == 0 || len > IPC_NAME_MAX) {
		errno = EINVAL;
		return NULL;
	}
	obj = calloc(1, size);
	if (obj != NULL)
		memcpy(obj + off, name, len);   /* zeroed: NUL-terminated */
	return obj;
}

#endif
