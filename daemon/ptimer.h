/* SPDX-License-Identifier: MIT */
/*
 * ptimer.h: the daemon's millisecond timers (request timeouts, leases)
 * on one timerfd, re-armed only when the earliest due time moves.
 *
 * libevent keeps precise timers by re-arming a timerfd before every
 * epoll_wait (EVENT_BASE_FLAG_PRECISE_TIMER): one more system call per
 * loop turn on the one-at-a-time path. Without that flag its clock is
 * CLOCK_MONOTONIC_COARSE, a tick (4 ms) behind at worst, and a 1 ms
 * timeout ended 3-7 ms late. Here the loop runs without the flag (its own
 * timers are whole seconds, or zero) and these timers keep precise due
 * times in a binary heap: the timerfd is set when a timer earlier than
 * the one it is set for arrives, and when it fires; a timer removed
 * before it is due leaves it set (the wake-up then finds nothing due).
 * A get parked with the same timeout after each other one is thus
 * armed once, not once per request.
 */
#ifndef IPCD_PTIMER_H
#define IPCD_PTIMER_H

#include <stddef.h>
#include <stdint.h>
#include <event2/event_struct.h>

struct ptimer;

/* Called once t is due (t is out of the heap: add it again to repeat). */
typedef void (*ptimer_fn)(struct ptimer *t);

struct ptimer {
	uint64_t due_ns;   /* CLOCK_MONOTONIC */
	size_t idx;        /* in the heap, or PTIMER_IDLE */
	ptimer_fn fn;
};

#define PTIMER_IDLE SIZE_MAX

struct ptimers {
	struct ptimer **heap;  /* earliest first (a binary min-heap) */
	size_t n, cap;
	int fd;                /* the timerfd, -1 until the first timer */
	uint64_t armed_ns;     /* when the timerfd fires, 0: not set */
	unsigned long nsets;   /* timerfd_settime calls, for tests */
	struct event_base *base;
	struct event ev;
};

/* Set up an empty set of timers on base (no descriptor yet). */
void ptimers_init(struct ptimers *pt, struct event_base *base);
/* Close the timerfd and free the heap; the timers left are not called. */
void ptimers_fini(struct ptimers *pt);
/* A timer not in any heap, calling fn when due. */
void ptimer_setup(struct ptimer *t, ptimer_fn fn);
/* Make t due in ms milliseconds (moved if it was pending): 0, or
 * IPC_ENOMEM (t then not pending). */
int ptimer_add(struct ptimers *pt, struct ptimer *t, int64_t ms);
/* Stop t if pending (a no-op otherwise). */
void ptimer_del(struct ptimers *pt, struct ptimer *t);
/* 1 when t is pending. */
int ptimer_pending(const struct ptimer *t);
/* Call every timer due by now, then set the timerfd for the next. */
void ptimers_run(struct ptimers *pt);

#endif
