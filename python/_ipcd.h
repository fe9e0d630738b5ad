/* SPDX-License-Identifier: MIT */
/*
 * _ipcd.h: what the C files of the extension module ipcd._ipcd share
 * (_ipcd.c: the module, Client and the errors; feeder.c: Feeder;
 * pickle5.c: the default serializer's dumps/loads).
 */
#ifndef IPCD_PY_IPCD_H
#define IPCD_PY_IPCD_H

#define PY_SSIZE_T_CLEAN
#include <Python.h>

#include <sys/types.h>
#include <time.h>

#define SLICE_MS 100   /* longest wait without a signal check */

/* Nanoseconds on the monotonic clock. */
static inline long long now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (long long)ts.tv_sec * 1000000000LL + ts.tv_nsec;
}

/* This process's pid, kept by module init and the at-fork hook. */
extern pid_t this_pid;

/* Raise the exception for IPC_* code with text detail; returns NULL. */
PyObject *raise_code(int code, const char *detail);

/* One slice of a sliced_wait, run with the GIL released, waiting at most
 * slice_ms: nonzero when the wait is over. */
typedef int (*slice_fn)(void *arg, int slice_ms);

/* Call step in slices of at most SLICE_MS with the GIL released until it
 * returns nonzero or timeout_ms (-1 forever) ran out, checking for signals
 * between slices: 1 over, 0 out of time, -1 when a handler raised. */
int sliced_wait(slice_fn step, void *arg, int timeout_ms);

/* Ready the Feeder type and add it to module m: 0 or -1. */
int feeder_init_type(PyObject *m);

/* Add pickle_dumps/pickle_loads (pickle5.c) to module m: 0 or -1. */
int pickle5_init(PyObject *m);

/* The object of the n-byte pickle at p when pickle5.c reads that shape
 * itself (an int, bytes or str), else NULL (an exception set only when
 * making the object failed). */
PyObject *pickle5_load_fast(const void *p, size_t n);

/* A message in MSG_PARTS pieces, written one after another (a piece
 * may be empty). */
#define MSG_PARTS 3
struct msg_parts {
	const void *base[MSG_PARTS];
	size_t len[MSG_PARTS];
};

/* A message of one piece, the bytes of buf (valid while buf is held). */
static inline struct msg_parts msg_parts_of(const Py_buffer *buf)
{
	return (struct msg_parts){ { buf->buf }, { (size_t)buf->len } };
}

/* The bytes of mp in all. */
static inline size_t msg_parts_len(const struct msg_parts *mp)
{
	return mp->len[0] + mp->len[1] + mp->len[2];
}

/* Copy mp's bytes to dst, one piece after another: dst. */
static inline void *msg_parts_copy(void *dst, const struct msg_parts *mp)
{
	char *p = dst;

	for (int i = 0; i < MSG_PARTS; i++) {
		if (mp->len[i])
			memcpy(p, mp->base[i], mp->len[i]);
		p += mp->len[i];
	}
	return dst;
}

/* Room pickle5_parts needs for the opcodes around the payload. */
#define PICKLE5_PARTS_BUF 32

/* The pickle pickle_dumps(obj) writes, when pickle5.c writes that shape
 * itself (an int in the int32 range, bytes or str), as parts in *mp:
 * opcodes (in buf), obj's own bytes (valid while obj is and is not
 * changed: bytes and str never are) and closing opcodes (in buf): 1.
 * 0 when pickle must write it (no exception set). */
int pickle5_parts(PyObject *obj, unsigned char buf[PICKLE5_PARTS_BUF], struct msg_parts *mp);

/* pickle_loads(data): pickle5_load_fast, else pickle.loads. */
PyObject *pickle5_loads(PyObject *data);

#endif
