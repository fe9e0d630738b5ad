/* SPDX-License-Identifier: MIT */
/*
 * fuzz.h: the entry points of ipcd's fuzz targets. Each runs one input
 * and returns 0; a bug shows as a crash, a sanitizer report or abort().
 * tests/fuzz/run.sh builds them as libFuzzer targets (with -DFUZZ_MAIN,
 * which adds LLVMFuzzerTestOneInput); tests/check_fuzz_replay runs every
 * file of tests/fuzz/corpus/ through the same functions in make check.
 */
#ifndef IPC_FUZZ_H
#define IPC_FUZZ_H

#include <stddef.h>

/* proto/: frame peeking, the bounded check, request and reply decoding,
 * and encode/decode round trips of whatever decodes. The input is a
 * stream of frames (or, when it does not start with one, one payload). */
int fuzz_proto_one(const unsigned char *data, size_t n);

/* The daemon's request path: a fresh in-process daemon (server, conn,
 * dispatch, broker, queues) fed the input through socketpairs, its replies
 * checked to be well-formed frames. data[0] is a flag byte (FUZZ_D_*),
 * data[1..2] (big-endian) where the stream splits between two
 * connections (TWO) or between now and 3 ms later (LATE), the rest the
 * bytes the clients send. */
int fuzz_daemon_one(const unsigned char *data, size_t n);

/* Flag bits of fuzz_daemon_one()'s first byte. */
#define FUZZ_D_HELLO 0x01    /* say a valid HELLO first on each connection */
#define FUZZ_D_TWO 0x02      /* two connections: the stream splits at data[1..2] */
#define FUZZ_D_CLOSE_A 0x04  /* the first client disconnects before the second speaks */
#define FUZZ_D_HALF 0x08     /* the second client shuts down its writing side */
#define FUZZ_D_SHUTDOWN 0x10 /* end with server_shutdown (SIGTERM's path) */
#define FUZZ_D_WAIT 0x20     /* let 3 ms pass: timeouts and leases fire */
#define FUZZ_D_LATE 0x40     /* the bytes after the split come 3 ms later
				(timeouts and leases fire first): the second
				client's with TWO, else the first client's */

#endif
