/* SPDX-License-Identifier: MIT */
/* busypoll.c: the poll window of busypoll.h. */
#include "busypoll.h"

/* Start polling with the whole window. */
void busypoll_init(struct busypoll *bp, unsigned max_us)
{
	bp->max_us = bp->window_us = bp->misses = 0;
	busypoll_set_max(bp, max_us);
}

/* New window, in force at once. */
void busypoll_set_max(struct busypoll *bp, unsigned max_us)
{
	bp->max_us = max_us > BUSYPOLL_MAX_US ? BUSYPOLL_MAX_US : max_us;
	bp->window_us = bp->max_us;
	bp->misses = 0;
}

/* The current window. */
unsigned busypoll_window(const struct busypoll *bp)
{
	return bp->window_us;
}

/* Polling paid: start counting misses again. */
void busypoll_hit(struct busypoll *bp)
{
	bp->misses = 0;
}

/* A short sleep (work came within the window) turns polling (back) on; a
 * long one after a poll is a miss, and enough of them turn it off. */
void busypoll_slept(struct busypoll *bp, uint64_t slept_us)
{
	if (slept_us < bp->max_us) {
		bp->window_us = bp->max_us;
		bp->misses = 0;
	} else if (bp->window_us > 0 && ++bp->misses >= BUSYPOLL_MISSES) {
		bp->window_us = 0;
	}
}
