/* SPDX-License-Identifier: MIT */
/*
 * journal_sync.c: the sync thread. The loop writes records and says how
 * far (jsync_written); the thread fdatasyncs everything written so far in
 * one call, so all records written while the previous fdatasync ran share
 * the next one (group commit), then signals an eventfd the loop watches.
 * The thread touches only descriptors and the counters under mu; it never
 * sees records, waiters or the index.
 *
 * The loop signals the thread only when it sleeps waiting for work
 * (idle): while it syncs, or with sync = interval waits out the interval,
 * it finds the new written mark by itself when it next looks. Signalling
 * every write woke the pacing thread once per loop iteration for nothing
 * (a futex round trip and a context switch on the loop's every write).
 *
 * With sync = always, only records a reply waits for (the loop says how
 * far: wanted) start a sync at once. Records nobody waits for (a get's
 * or an ack's CONSUME, a DELIVER, compaction's copies) ride on the next
 * sync someone waits for, or are synced sync-interval after the thread
 * first saw them: a consumer draining a queue no longer keeps the disk
 * syncing for records whose replies went out before any sync anyway
 * (and the puts waiting behind such a sync wait less). After a round the
 * thread sleeps out sync-interval in that way, so a get's CONSUME record
 * after a put's sync wakes nothing either.
 *
 * The thread sleeps on a futex word (jsync_wait), not a condition
 * variable: one system call to wake it and none to hand the mutex back.
 * With sync = always it also writes the zeros that reserve space ahead of
 * the records (jsync_fill), after its rounds.
 */
#include <errno.h>
#include <stdint.h>
#include <linux/futex.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>
#include <sys/eventfd.h>
#include <sys/syscall.h>
#include <sched.h>
#include <time.h>
#include <unistd.h>

#include "journal_int.h"

/* Polls after a round that ran out in a row after which the thread
 * stops polling (the loop's BUSYPOLL_MISSES). */
#define JSYNC_SPIN_MISSES 8u
/* A closer thread's stack: it only calls close(). */
#define JSYNC_CLOSER_STACK (64u << 10)

/* Is a sync due? Earlier segments or the directory; else records: with
 * sync = always those a reply waits for, or any once lazy_due (their
 * deadline passed) or at stop; with interval any. (mu held) */
static bool jsync_due(const struct jsync *s, bool lazy_due)
{
	if (s->nold || s->ndead || s->dir_dirty)
		return true;
	if (s->written <= s->synced)
		return false;
	return s->mode != JOURNAL_SYNC_ALWAYS || s->wanted > s->synced ||
	       lazy_due || s->stop;
}

/* Nanoseconds on the monotonic clock. */
static uint64_t jsync_now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}

/* *until = *from + ms. */
static void jsync_after(struct timespec *until, const struct timespec *from,
			unsigned ms)
{
	*until = *from;
	until->tv_nsec += (long)(ms % 1000) * 1000000L;
	until->tv_sec += ms / 1000 + until->tv_nsec / 1000000000L;
	until->tv_nsec %= 1000000000L;
}

/* until = now + ms on the monotonic clock. */
static void jsync_deadline(struct timespec *until, unsigned ms)
{
	struct timespec now;

	clock_gettime(CLOCK_MONOTONIC, &now);
	jsync_after(until, &now, ms);
}

/* Poll the futex word for up to us microseconds while it is still v (did
 * it move?), giving the CPU to anyone runnable meanwhile (the client
 * whose next put this waits for, on a machine with few CPUs). Once the word moves, the
 * futex wait after this returns at once: the thread saved the wake-up,
 * a futex call on the loop and a context switch (about 30 us on a VM),
 * on every put of a client that waits for each sync. */
static bool jsync_spin(struct jsync *s, uint32_t v, unsigned us)
{
	uint64_t end = jsync_now_ns() + (uint64_t)us * 1000u;

	while (__atomic_load_n(&s->seq, __ATOMIC_ACQUIRE) == v) {
		if (jsync_now_ns() >= end)
			return false;
		sched_yield();
	}
	return true;
}

/* Sleep on the futex word until it is bumped, or until *until (absolute,
 * monotonic; NULL: no limit), first polling it spin_us (0: not at all;
 * *hit: it moved meanwhile): did the time run out? (mu held; let go
 * meanwhile) A futex rather than a condition variable: the thread wakes
 * with one system call and the loop's signal is one, where the condition
 * variable cost a mutex hand-over too (its waiter takes the mutex back as
 * contended, so every unlock after a wake-up was one more futex call). */
static bool jsync_wait(struct jsync *s, const struct timespec *until,
		       unsigned spin_us, bool *hit)
{
	uint32_t v = __atomic_load_n(&s->seq, __ATOMIC_ACQUIRE);
	long rc;
	int err;

	pthread_mutex_unlock(&s->mu);
	if (spin_us)
		*hit = jsync_spin(s, v, spin_us);
	rc = syscall(SYS_futex, &s->seq, FUTEX_WAIT_BITSET | FUTEX_PRIVATE_FLAG,
		     v, until, NULL, FUTEX_BITSET_MATCH_ANY);
	err = rc < 0 ? errno : 0;
	pthread_mutex_lock(&s->mu);
	return err == ETIMEDOUT;
}

/* Wake the thread from jsync_wait (or make its next wait return at once). */
static void jsync_signal(struct jsync *s)
{
	__atomic_fetch_add(&s->seq, 1, __ATOMIC_RELEASE);
	if (syscall(SYS_futex, &s->seq, FUTEX_WAKE | FUTEX_PRIVATE_FLAG, 1,
		    NULL, NULL, 0) < 0)
		(void)0; /* only EFAULT/EINVAL: a bug, and the wait times out */
}

/* How long to poll before this wait: after a round a reply waited for,
 * the set time, once (a miss means the client is not that quick). */
static unsigned jsync_spin_us(struct jsync *s)
{
	bool after_wanted = s->round_wanted;

	s->round_wanted = false;
	return after_wanted ? __atomic_load_n(&s->spin_us, __ATOMIC_RELAXED) : 0;
}

/* Wait out lazy_until (did it run out?), after a round a reply waited
 * for first polling for the next such write. The poll adapts as the
 * loop's window does (busypoll.h): after JSYNC_SPIN_MISSES polls in a
 * row ran out it is off, so puts further apart than busy-poll cost no
 * CPU after the first few, and it is back on once such a write comes
 * within the poll's time while the thread sleeps. (mu held) */
static bool jsync_poll_wait(struct jsync *s)
{
	unsigned us = jsync_spin_us(s);
	bool spin = us > 0 && s->spin_misses < JSYNC_SPIN_MISSES, hit = false;
	uint64_t t0 = us ? jsync_now_ns() : 0;
	bool due = jsync_wait(s, &s->lazy_until, spin ? us : 0, &hit);
	bool wanted = !due && s->wanted > s->synced;
	bool soon = spin ? hit : us && jsync_now_ns() - t0 < (uint64_t)us * 1000u;

	s->spin_hits += hit && wanted;
	if (wanted && soon)
		s->spin_misses = 0;
	else if (spin)
		s->spin_misses++;
	return due;
}

/* Sleep until a sync is due or stop. While lazy_until is armed (records
 * nobody waits for are pending, or with sync = always the interval after
 * a round has not run out) only a write someone waits for signals;
 * records written meanwhile are synced at lazy_until. Else it sleeps
 * idle (any write signals) until something is written. (mu held) */
static void jsync_sleep(struct jsync *s)
{
	bool lazy_due = false;

	while (!s->stop && !jsync_due(s, lazy_due)) {
		if (!s->lazy_armed && s->written > s->synced) {
			jsync_deadline(&s->lazy_until, s->interval_ms);
			s->lazy_armed = true;
		}
		if (s->lazy_armed) {
			s->lazy_wait = true;
			lazy_due = jsync_poll_wait(s);
			s->lazy_wait = false;
			if (lazy_due && s->written <= s->synced)
				s->lazy_armed = lazy_due = false; /* quiet: idle */
		} else {
			s->idle = true;
			jsync_wait(s, NULL, 0, NULL);
			s->idle = false;
		}
		s->wakeups++;
	}
}

/* With sync = interval: wait until interval after the last sync, or stop.
 * (mu held) */
static void jsync_pace(struct jsync *s, const struct timespec *last)
{
	struct timespec until;

	jsync_after(&until, last, s->interval_ms);
	while (!s->stop && !jsync_wait(s, &until, 0, NULL))
		s->wakeups++;
	s->wakeups++;
}

/* Count one round that took ns. (mu held) */
static void jsync_timed(struct jsync *s, uint64_t ns)
{
	s->syncs++;
	s->sync_ns += ns;
	if (ns > s->sync_ns_max)
		s->sync_ns_max = ns;
}

/* Close the n fds of fds and free the array. */
static void jsync_close_fds(int *fds, size_t n)
{
	size_t i;

	for (i = 0; i < n; i++)
		close(fds[i]);
	free(fds);
}

/* One round: sync the earlier segments, the current one and the
 * directory; publish the result, signal the loop, then close the deleted
 * segments. (mu held; released during the I/O and for the signal, so the
 * loop that wakes for it does not find the mutex held and sleep again
 * until it is released) */
static void jsync_round(struct jsync *s)
{
	uint64_t target = s->written, from = s->synced, one = 1, t0 = jsync_now_ns();
	int *old = s->old, *dead = s->dead, fd = s->fd, err = 0;
	size_t nold = s->nold, ndead = s->ndead, i;
	bool dir = s->dir_dirty;

	s->old = s->dead = NULL;
	s->nold = s->capold = s->ndead = s->capdead = 0;
	s->dir_dirty = false;
	s->lazy_armed = false;   /* records written from now on: a new deadline */
	pthread_mutex_unlock(&s->mu);
	for (i = 0; i < nold; i++) {
		if (fdatasync(old[i]) != 0 && !err)
			err = errno;
		close(old[i]);
	}
	free(old);
	if (fdatasync(fd) != 0 && !err)
		err = errno;
	if (dir && fsync(s->dirfd) != 0 && !err)
		err = errno;
	pthread_mutex_lock(&s->mu);
	if (err) {
		s->err = err;
		s->err_lsn = target;
	} else if (target > s->synced) {
		s->synced = target;
	}
	s->round_wanted = s->wanted > from;
	s->round_bytes = target > from ? target - from : 0;
	jsync_timed(s, jsync_now_ns() - t0);
	pthread_mutex_unlock(&s->mu);
	if (write(s->efd, &one, sizeof(one)) < 0)
		(void)0; /* the counter is saturated: the loop wakes anyway */
	jsync_close_fds(dead, ndead); /* after the signal: replies never wait for it */
	pthread_mutex_lock(&s->mu);
}

/* With sync = always, after a round that started at *last: records
 * nobody waits for are synced at last + interval at the latest (those
 * written during the round too), and until then only a write someone
 * waits for wakes the thread. In a put/get exchange the get's CONSUME
 * record then wakes nothing (it woke the idle thread, which only went
 * back to sleep until the next put: a futex call on the loop and a
 * context switch on a vCPU the client was about to need). (mu held) */
static void jsync_quiet(struct jsync *s, const struct timespec *last)
{
	if (s->mode != JOURNAL_SYNC_ALWAYS)
		return;
	jsync_after(&s->lazy_until, last, s->interval_ms);
	s->lazy_armed = true;
}

/* With sync = always, keep zeros ahead of the loop's writes: once its
 * write position comes within ahead of what is filled, write the next
 * chunk of zeros, so the loop does not write them (about a millisecond
 * per MiB). After a small round (single puts, where each sync is what a
 * client waits for) fdatasync them at once, so no put's sync has to carry
 * the new blocks and the size change. After a round of a sixteenth of a
 * chunk or more (a stream of batches) leave them to the next round: the
 * records waiting meanwhile would wait behind a chunk's write-out, and
 * one metadata commit per chunk is nothing there. A failure only leaves
 * it to the loop, which then reports a full disk on the put; a failed
 * fdatasync fails the records written so far, as a round's would (its
 * error is reported once). (mu held; let go meanwhile) */
static void jsync_fill(struct jsync *s)
{
	uint64_t want = s->wpos + s->ahead, target = s->written, from;
	bool filled = false, now = s->round_bytes < s->chunk / 16;
	int fd = s->fd, err = 0;

	if (s->mode != JOURNAL_SYNC_ALWAYS || s->stop)
		return;
	pthread_mutex_unlock(&s->mu);
	pthread_mutex_lock(&s->fill_mu);
	from = s->fill_end;
	if (s->fill_fd == fd && from < want &&
	    jzero_fill(fd, from, s->chunk) == 0) {
		s->fill_end = from + s->chunk;
		filled = true;
	}
	pthread_mutex_unlock(&s->fill_mu);
	if (filled && now && fdatasync(fd) != 0)
		err = errno;
	pthread_mutex_lock(&s->mu);
	s->fills += filled;
	s->fill_syncs += filled && now;
	if (err) {
		s->err = err;
		s->err_lsn = target;
	}
}

/* The thread: sync whenever something is due, paced with interval. */
static void *jsync_main(void *arg)
{
	struct jsync *s = arg;
	struct timespec last = { 0, 0 };

	pthread_mutex_lock(&s->mu);
	for (;;) {
		jsync_sleep(s);
		if (!jsync_due(s, true))
			break;
		if (s->mode == JOURNAL_SYNC_INTERVAL)
			jsync_pace(s, &last);
		clock_gettime(CLOCK_MONOTONIC, &last);
		jsync_round(s);
		jsync_fill(s);
		jsync_quiet(s, &last);
	}
	pthread_mutex_unlock(&s->mu);
	return NULL;
}

/* Set up the shared state and the thread (none: neither). */
int jsync_start(struct journal *j)
{
	struct jsync *s = &j->sync;
	int rc;

	s->mode = j->o.sync;
	s->interval_ms = j->o.interval_ms;
	s->fd = j->fd;
	s->dirfd = j->dirfd;
	s->written = s->synced = j->lsn_written;
	s->wpos = j->buf_off;
	s->fill_fd = j->fd;
	s->fill_end = j->alloc_end;
	s->chunk = j->o.prealloc;
	s->ahead = j->o.reserve + j->o.prealloc / 2;
	if (s->mode == JOURNAL_SYNC_NONE)
		return 0;
	s->efd = eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
	if (s->efd < 0)
		return -errno;
	pthread_mutex_init(&s->mu, NULL);
	pthread_mutex_init(&s->fill_mu, NULL);
	s->inited = true;
	rc = pthread_create(&s->thread, NULL, jsync_main, s);
	if (rc != 0)
		return -rc;
	s->running = true;
	return 0;
}

/* A closer's work: the last close of a deleted segment. */
static void *jsync_closer(void *arg)
{
	close((int)(intptr_t)arg);
	return NULL;
}

/* Join the closers that are done (all of them when wait), keeping the
 * others in order. */
static void jsync_join_closers(struct jsync *s, bool wait)
{
	size_t i, kept = 0;

	for (i = 0; i < s->nclosers; i++) {
		if (wait)
			pthread_join(s->closers[i], NULL);
		else if (pthread_tryjoin_np(s->closers[i], NULL) != 0)
			s->closers[kept++] = s->closers[i];
	}
	s->nclosers = kept;
}

/* With no sync thread (sync = none), close fd in a short thread of its
 * own: the last close of a deleted 64 MiB segment frees its pages, 13-16
 * ms the loop would stall. Here, when no thread can be had. */
static void jsync_close_off_loop(struct jsync *s, int fd)
{
	pthread_attr_t a;
	int rc = -1;

	jsync_join_closers(s, false);
	if (s->nclosers >= JSYNC_CLOSERS_MAX) {
		pthread_join(s->closers[0], NULL);
		memmove(s->closers, s->closers + 1, --s->nclosers * sizeof(*s->closers));
	}
	if (pthread_attr_init(&a) == 0) {
		pthread_attr_setstacksize(&a, JSYNC_CLOSER_STACK);
		rc = pthread_create(&s->closers[s->nclosers], &a, jsync_closer,
				    (void *)(intptr_t)fd);
		pthread_attr_destroy(&a);
	}
	if (rc != 0) {
		close(fd);
		return;
	}
	s->nclosers++;
	s->closes_off_loop++;
}

/* Last sync, stop the thread, free the shared state. */
void jsync_stop(struct journal *j)
{
	struct jsync *s = &j->sync;

	if (s->running) {
		pthread_mutex_lock(&s->mu);
		s->stop = true;
		pthread_mutex_unlock(&s->mu);
		jsync_signal(s);
		pthread_join(s->thread, NULL);
		s->running = false;
		jsync_poll(j);
	}
	jsync_join_closers(s, true);
	jsync_close_fds(s->old, s->nold);
	jsync_close_fds(s->dead, s->ndead);
	s->old = s->dead = NULL;
	s->nold = s->capold = s->ndead = s->capdead = 0;
	if (s->inited) {
		pthread_mutex_destroy(&s->fill_mu);
		pthread_mutex_destroy(&s->mu);
		s->inited = false;
	}
	if (s->efd >= 0)
		close(s->efd);
	s->efd = -1;
}

/* Everything up to lsn is written, and replies wait for it up to want:
 * wake the thread if it sleeps idle, or waits out a deadline and a reply
 * now waits (signalled after unlocking, so it does not wake into a held
 * mutex). Did it wake the thread? */
bool jsync_written(struct journal *j, uint64_t lsn, uint64_t want)
{
	struct jsync *s = &j->sync;
	bool wake;

	if (!s->running)
		return false;
	pthread_mutex_lock(&s->mu);
	s->written = lsn;
	s->wpos = j->buf_off;
	if (want > s->wanted)
		s->wanted = want;
	wake = s->idle || (s->lazy_wait && s->wanted > s->synced);
	if (wake)           /* one signal is enough until it sleeps again */
		s->idle = s->lazy_wait = false;
	pthread_mutex_unlock(&s->mu);
	if (wake)
		jsync_signal(s);
	return wake;
}

/* Sync and close oldfd here, s->mu let go meanwhile, when the thread's
 * list cannot take it: rather than lose its last records' sync. */
static void jsync_old_here(struct jsync *s, int oldfd)
{
	pthread_mutex_unlock(&s->mu);
	if (fdatasync(oldfd) != 0)
		(void)0; /* reported by the next round's sync */
	close(oldfd);
	pthread_mutex_lock(&s->mu);
}

/* Hand the old segment's fd to the thread; fd is current now. */
void jsync_rotate(struct journal *j, int oldfd, int fd)
{
	struct jsync *s = &j->sync;

	if (!s->running) {
		close(oldfd);
		s->fd = fd;
		return;
	}
	pthread_mutex_lock(&s->mu);
	if (jgrow(&s->old, s->nold, &s->capold, sizeof(*s->old), 4) == 0)
		s->old[s->nold++] = oldfd;
	else
		jsync_old_here(s, oldfd);
	s->fd = fd;
	s->wpos = j->buf_off;
	pthread_mutex_unlock(&s->mu);
	jsync_signal(s);
}

/* Hand the fd of a deleted segment to the thread to close. */
void jsync_drop(struct journal *j, int fd)
{
	struct jsync *s = &j->sync;
	bool queued = false;

	if (s->running) {
		pthread_mutex_lock(&s->mu);
		if (jgrow(&s->dead, s->ndead, &s->capdead, sizeof(*s->dead), 4) == 0) {
			s->dead[s->ndead++] = fd;
			queued = true;
		}
		pthread_mutex_unlock(&s->mu);
	}
	if (queued)
		jsync_signal(s);
	else if (s->mode == JOURNAL_SYNC_NONE)
		jsync_close_off_loop(s, fd);
	else
		close(fd);
}

/* Ask for a directory fsync with the next round. */
void jsync_dir(struct journal *j)
{
	struct jsync *s = &j->sync;

	if (!s->running)
		return;
	pthread_mutex_lock(&s->mu);
	s->dir_dirty = true;
	pthread_mutex_unlock(&s->mu);
	jsync_signal(s);
}

/* Read what the thread did. */
uint64_t jsync_poll(struct journal *j)
{
	struct jsync *s = &j->sync;
	uint64_t failed = 0;

	if (!s->inited)
		return 0;
	pthread_mutex_lock(&s->mu);
	j->lsn_synced = s->synced;
	if (s->syncs > j->syncs)
		j->round_us = (unsigned)((s->sync_ns - j->sync_ns) / 1000u /
					 (s->syncs - j->syncs));
	j->syncs = s->syncs;
	j->sync_ns = s->sync_ns;
	j->sync_ns_max = s->sync_ns_max;
	if (s->err) {
		failed = s->err_lsn;
		s->err = 0;
	}
	pthread_mutex_unlock(&s->mu);
	return failed;
}

/* How often the thread has woken up so far, the chunks it filled, how
 * many of those it synced at once, and the writes it caught polling. */
uint64_t jsync_wakeups(struct journal *j, uint64_t *fills, uint64_t *fill_syncs,
		       uint64_t *spin_hits)
{
	struct jsync *s = &j->sync;
	uint64_t n;

	*fills = *fill_syncs = *spin_hits = 0;
	if (!s->inited)
		return 0;
	pthread_mutex_lock(&s->mu);
	n = s->wakeups;
	*fills = s->fills;
	*fill_syncs = s->fill_syncs;
	*spin_hits = s->spin_hits;
	pthread_mutex_unlock(&s->mu);
	return n;
}

/* Set the poll after a round (journal_set_spin). */
void jsync_set_spin(struct journal *j, unsigned us)
{
	__atomic_store_n(&j->sync.spin_us, us, __ATOMIC_RELAXED);
}

/* Take the fill lock and see how far the thread filled. */
void jsync_fill_lock(struct journal *j)
{
	struct jsync *s = &j->sync;

	if (!s->inited)
		return;
	pthread_mutex_lock(&s->fill_mu);
	if (s->fill_fd == j->fd && s->fill_end > j->alloc_end)
		j->alloc_end = s->fill_end;
}

/* Publish the loop's reserve to the thread and let go of the lock. */
void jsync_fill_unlock(struct journal *j)
{
	struct jsync *s = &j->sync;

	if (!s->inited)
		return;
	s->fill_fd = j->fd;
	s->fill_end = j->alloc_end;
	pthread_mutex_unlock(&s->fill_mu);
}
