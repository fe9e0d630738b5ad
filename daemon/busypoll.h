/* SPDX-License-Identifier: MIT */
/*
 * busypoll.h: how long the event loop polls before it sleeps.
 *
 * Waking a sleeping process costs more than the work of most requests:
 * on this project's 2-vCPU VM the wakee runs 20-30 us after the wakeup
 * (the idle vCPU has to be woken by an IPI through the hypervisor), while
 * serving a put takes about 1 us. A client that waits for each reply
 * sends its next request a few microseconds after the reply, so ipcd
 * polls its sockets without sleeping for a short window after the last
 * piece of work, and the next request finds it awake.
 *
 * The window is the configured busy-poll (ipcd.conf(5), microseconds; 0
 * never polls) or nothing: after BUSYPOLL_MISSES polls in a row ran out and
 * were followed by a sleep longer than the window, traffic is too sparse
 * for polling to pay, and ipcd sleeps at once until a sleep shorter than
 * the window shows requests coming close together again. So sparse traffic
 * costs a few wasted polls, and requests that come back to back never find
 * ipcd asleep. (A window that grows and shrinks by halves, as the kernel's
 * cpuidle-haltpoll does, was tried: with a client that waits for every
 * reply it spent most of its time below the gap between requests, and
 * caught fewer than a fixed window.) Pure logic: no clock, no loop.
 */
#ifndef IPCD_BUSYPOLL_H
#define IPCD_BUSYPOLL_H

#include <stdint.h>

/* The largest busy-poll setting, in microseconds. */
#define BUSYPOLL_MAX_US 1000u
/* Wasted polls in a row after which ipcd stops polling. */
#define BUSYPOLL_MISSES 8u

struct busypoll {
	unsigned max_us;    /* configured window; 0: never poll */
	unsigned window_us; /* how long the next poll lasts: max_us or 0 */
	unsigned misses;    /* polls in a row that ran out and then slept long */
};

/* Poll for max_us (capped at BUSYPOLL_MAX_US) after work. */
void busypoll_init(struct busypoll *bp, unsigned max_us);
/* Change the window (SIGHUP). */
void busypoll_set_max(struct busypoll *bp, unsigned max_us);
/* How long to poll after work before sleeping, in microseconds (0: sleep). */
unsigned busypoll_window(const struct busypoll *bp);
/* A poll found work before its window ran out. */
void busypoll_hit(struct busypoll *bp);
/* The loop slept slept_us before work came (after a poll that ran out, or
 * at once with no window): keep, drop or restore the window. */
void busypoll_slept(struct busypoll *bp, uint64_t slept_us);

#endif
