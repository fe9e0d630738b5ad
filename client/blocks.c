/* SPDX-License-Identifier: MIT */
/*
 * blocks.c: the blocks of large messages (CLIENT_HOLE_MIN bytes up) that
 * gets (read ahead or not) hand to callers one by one, and that callers
 * give back with ipc_free(). A few freed ones (BLOCKS_KEEP_BYTES in all, for the
 * whole process) are kept for the next messages instead of
 * going back to malloc: freed one by one there, a fetch's worth of them
 * ends up at the top of the heap, which glibc gives back to the system
 * past its trim threshold (128 KiB), so every block of the next fetch
 * faults its pages in and zeroes them again (consumer, 64 KiB messages,
 * 1 MiB fetched at once: 14 page faults per message). Blocks start on a
 * cache line: copies into them are ~10% faster than at malloc's +16.
 * The lock is only ever tried: a block another thread is keeping or
 * taking at that moment (or a child forked while it held the lock) goes
 * to malloc instead.
 */
#include <pthread.h>
#include <stdint.h>
#include <stdlib.h>
#if defined(__GLIBC__)
#include <malloc.h>
#endif

#include "client_int.h"

/* The most bytes, and blocks, kept. */
#define BLOCKS_KEEP_BYTES (2u << 20)
#define BLOCKS_KEEP_MAX 64
/* Where a block starts. */
#define BLOCKS_ALIGN 64u

/* The blocks kept, with their usable sizes. */
static struct {
	pthread_mutex_t lock;
	void *p[BLOCKS_KEEP_MAX];
	size_t size[BLOCKS_KEEP_MAX];
	size_t n, bytes;
} blocks = { .lock = PTHREAD_MUTEX_INITIALIZER };

/* A kept block of at least len bytes (the newest that fits), or NULL. */
static void *blocks_take(size_t len)
{
	void *p = NULL;
	size_t i;

	if (pthread_mutex_trylock(&blocks.lock) != 0)
		return NULL;
	for (i = blocks.n; i-- > 0;)
		if (blocks.size[i] >= len) {
			p = blocks.p[i];
			blocks.bytes -= blocks.size[i];
			blocks.p[i] = blocks.p[--blocks.n];
			blocks.size[i] = blocks.size[blocks.n];
			break;
		}
	pthread_mutex_unlock(&blocks.lock);
	return p;
}

/* A block for a message of len bytes (CLIENT_HOLE_MIN up): a kept one,
 * else a new one on a cache line; the caller frees it with ipc_free(),
 * or free(). NULL when out of memory. */
void *client_block_new(size_t len)
{
	void *p = blocks_take(len);

	if (p == NULL)
		p = aligned_alloc(BLOCKS_ALIGN, (len + BLOCKS_ALIGN - 1) & ~(size_t)(BLOCKS_ALIGN - 1));
	return p;
}

/* Keep p, a malloc'd block of size usable bytes, if there is room: 1
 * when kept. */
static int blocks_keep(void *p, size_t size)
{
	int kept = 0;

	if (pthread_mutex_trylock(&blocks.lock) != 0)
		return 0;
	if (blocks.n < BLOCKS_KEEP_MAX && blocks.bytes + size <= BLOCKS_KEEP_BYTES) {
		blocks.p[blocks.n] = p;
		blocks.size[blocks.n++] = size;
		blocks.bytes += size;
		kept = 1;
	}
	pthread_mutex_unlock(&blocks.lock);
	return kept;
}

/* Free memory returned by this library (NULL is fine); see ipcclient.h.
 * A large block on a cache line is kept for read-ahead while there is
 * room: only those, since other large memory the library returns (a
 * listing, malloc'd) would be handed out as a message's block off the
 * line. */
IPC_EXPORT void ipc_free(void *p)
{
#if defined(__GLIBC__)
	size_t size = p ? malloc_usable_size(p) : 0;

	if (size >= CLIENT_HOLE_MIN && ((uintptr_t)p & (BLOCKS_ALIGN - 1)) == 0 &&
	    blocks_keep(p, size))
		return;
#endif
	free(p);
}

/* Free every kept block (ipc_close: a process done with its handles
 * keeps nothing). */
void client_blocks_drop(void)
{
	if (pthread_mutex_trylock(&blocks.lock) != 0)
		return;
	while (blocks.n > 0)
		free(blocks.p[--blocks.n]);
	blocks.bytes = 0;
	pthread_mutex_unlock(&blocks.lock);
}
