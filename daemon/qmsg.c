/*
 * qmsg.c: a held message, one allocation for header and payload.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "qmsg.h"

/* Copy len bytes into a new message; NULL when out of memory. */
struct qmsg *qmsg_new(const void *data, size_t len)
{
	struct qmsg *m;

	if (len > SIZE_MAX - sizeof(*m))
		return NULL;
	m = malloc(sizeof(*m) + len);
	if (!m)
		return NULL;
	m->next = NULL;
	m->len = len;
	if (len)
		memcpy(m->data, data, len);
	return m;
}

/* Free a message (NULL is fine). */
void qmsg_free(struct qmsg *m)
{
	free(m);
}

/* Bytes the daemon spends on a message of len payload bytes. */
size_t qmsg_footprint(size_t len)
{
	return sizeof(struct qmsg) + len;
}
