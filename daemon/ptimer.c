/* SPDX-License-Identifier: MIT */
/* ptimer.c: millisecond timers on one lazily re-armed timerfd (ptimer.h). */
#include <errno.h>
#include <string.h>
#include <stdlib.h>
#include <sys/timerfd.h>
#include <time.h>
#include <unistd.h>
#include <event2/event.h>

#include "ipc_defs.h"
#include "log.h"
#include "ptimer.h"

/* Nanoseconds on the monotonic clock. */
static uint64_t ptimer_now(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}

/* Put t at heap slot i. */
static void ptimer_place(struct ptimers *pt, struct ptimer *t, size_t i)
{
	pt->heap[i] = t;
	t->idx = i;
}

/* Move the timer at slot i up while it is due before its parent. */
static void ptimer_up(struct ptimers *pt, size_t i)
{
	struct ptimer *t = pt->heap[i];

	while (i > 0 && pt->heap[(i - 1) / 2]->due_ns > t->due_ns) {
		ptimer_place(pt, pt->heap[(i - 1) / 2], i);
		i = (i - 1) / 2;
	}
	ptimer_place(pt, t, i);
}

/* Move the timer at slot i down while a child is due before it. */
static void ptimer_down(struct ptimers *pt, size_t i)
{
	struct ptimer *t = pt->heap[i];
	size_t c;

	while ((c = 2 * i + 1) < pt->n) {
		if (c + 1 < pt->n && pt->heap[c + 1]->due_ns < pt->heap[c]->due_ns)
			c++;
		if (pt->heap[c]->due_ns >= t->due_ns)
			break;
		ptimer_place(pt, pt->heap[c], i);
		i = c;
	}
	ptimer_place(pt, t, i);
}

/* Set the timerfd to fire at due_ns (0: never). */
static void ptimer_set_fd(struct ptimers *pt, uint64_t due_ns)
{
	struct itimerspec its = { { 0, 0 }, { 0, 0 } };

	its.it_value.tv_sec = (time_t)(due_ns / 1000000000u);
	its.it_value.tv_nsec = (long)(due_ns % 1000000000u);
	pt->nsets++;
	if (timerfd_settime(pt->fd, TFD_TIMER_ABSTIME, &its, NULL) != 0)
		log_warn("timerfd_settime: %s", strerror(errno));
	pt->armed_ns = due_ns;
}

/* The timerfd fired (or a spurious wake): run what is due. */
static void ptimer_on_fd(evutil_socket_t fd, short what, void *arg)
{
	uint64_t ticks;

	(void)what;
	if (read(fd, &ticks, sizeof ticks) < 0 && errno != EAGAIN)
		log_warn("timerfd read: %s", strerror(errno));
	ptimers_run(arg);
}

/* Make the timerfd and watch it: 0, or IPC_ENOMEM. */
static int ptimer_open(struct ptimers *pt)
{
	pt->fd = timerfd_create(CLOCK_MONOTONIC, TFD_NONBLOCK | TFD_CLOEXEC);
	if (pt->fd < 0) {
		log_warn("timerfd_create: %s", strerror(errno));
		return IPC_ENOMEM;
	}
	event_assign(&pt->ev, pt->base, pt->fd, EV_READ | EV_PERSIST, ptimer_on_fd, pt);
	event_add(&pt->ev, NULL);
	return 0;
}

/* Set up an empty set of timers on base. */
void ptimers_init(struct ptimers *pt, struct event_base *base)
{
	pt->heap = NULL;
	pt->n = pt->cap = 0;
	pt->fd = -1;
	pt->armed_ns = 0;
	pt->nsets = 0;
	pt->base = base;
}

/* Close the timerfd and free the heap. */
void ptimers_fini(struct ptimers *pt)
{
	while (pt->n > 0)
		pt->heap[--pt->n]->idx = PTIMER_IDLE;
	if (pt->fd >= 0) {
		event_del(&pt->ev);
		close(pt->fd);
	}
	free(pt->heap);
	ptimers_init(pt, pt->base);
}

/* A timer not in any heap. */
void ptimer_setup(struct ptimer *t, ptimer_fn fn)
{
	t->due_ns = 0;
	t->idx = PTIMER_IDLE;
	t->fn = fn;
}

/* 1 when t is pending. */
int ptimer_pending(const struct ptimer *t)
{
	return t->idx != PTIMER_IDLE;
}

/* Room for one more timer: 0, or IPC_ENOMEM. */
static int ptimer_reserve(struct ptimers *pt)
{
	size_t cap = pt->cap ? 2 * pt->cap : 64;
	struct ptimer **h;

	if (pt->n < pt->cap)
		return 0;
	if ((h = realloc(pt->heap, cap * sizeof(*h))) == NULL)
		return IPC_ENOMEM;
	pt->heap = h;
	pt->cap = cap;
	return 0;
}

/* Make t due in ms milliseconds. */
int ptimer_add(struct ptimers *pt, struct ptimer *t, int64_t ms)
{
	ptimer_del(pt, t);
	if ((pt->fd < 0 && ptimer_open(pt) != 0) || ptimer_reserve(pt) != 0)
		return IPC_ENOMEM;
	t->due_ns = ptimer_now() + (uint64_t)ms * 1000000u;
	ptimer_place(pt, t, pt->n++);
	ptimer_up(pt, t->idx);
	/* Set later (or not at all): it must fire by t's time. */
	if (pt->armed_ns == 0 || t->due_ns < pt->armed_ns)
		ptimer_set_fd(pt, t->due_ns);
	return 0;
}

/* Stop t if pending; the timerfd stays set (lazily). */
void ptimer_del(struct ptimers *pt, struct ptimer *t)
{
	size_t i = t->idx;
	struct ptimer *last;

	if (i == PTIMER_IDLE)
		return;
	t->idx = PTIMER_IDLE;
	last = pt->heap[--pt->n];
	if (last == t)
		return;
	ptimer_place(pt, last, i);
	ptimer_up(pt, i);
	ptimer_down(pt, last->idx);
}

/* Call every timer due by now, then set the timerfd for the next. */
void ptimers_run(struct ptimers *pt)
{
	uint64_t now = ptimer_now();
	struct ptimer *t;

	if (pt->armed_ns != 0 && pt->armed_ns <= now)
		pt->armed_ns = 0;	/* it fired */
	while (pt->n > 0 && (t = pt->heap[0])->due_ns <= now) {
		ptimer_del(pt, t);
		t->fn(t);
	}
	if (pt->n > 0 && (pt->armed_ns == 0 || pt->heap[0]->due_ns < pt->armed_ns))
		ptimer_set_fd(pt, pt->heap[0]->due_ns);
}
