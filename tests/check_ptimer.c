/* SPDX-License-Identifier: MIT */
/*
 * check_ptimer.c: daemon/ptimer.c, the millisecond timers on one timerfd:
 * due order, removal from anywhere, and how seldom the timerfd is set.
 */
#include <check.h>
#include <stdint.h>
#include <stdlib.h>
#include <time.h>
#include <event2/event.h>

#include "../daemon/ptimer.h"

/* Timers of one test, and the order they fired in. */
static struct ptimers pts;
static struct ptimer tm[8];
static int fired[16];
static int nfired;

/* Record which timer fired. */
static void on_fire(struct ptimer *t)
{
	fired[nfired++] = (int)(t - tm);
}

/* A timer that adds timer 7 again, 1 ms on, once. */
static void on_fire_readd(struct ptimer *t)
{
	on_fire(t);
	if (nfired == 1)
		ck_assert_int_eq(ptimer_add(&pts, &tm[7], 1), 0);
}

/* Microseconds on the monotonic clock. */
static int64_t now_us(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000000 + ts.tv_nsec / 1000;
}

/* Run base until n timers fired (or 5 s passed). */
static void run_until(struct event_base *base, int n)
{
	int64_t end = now_us() + 5000000;

	while (nfired < n && now_us() < end)
		event_base_loop(base, EVLOOP_ONCE);
}

/* A base with the timers set up. */
static struct event_base *setup(ptimer_fn fn)
{
	struct event_base *base = event_base_new();
	int i;

	ck_assert_ptr_nonnull(base);
	ptimers_init(&pts, base);
	for (i = 0; i < 8; i++)
		ptimer_setup(&tm[i], fn);
	nfired = 0;
	return base;
}

/* Tear down what setup made. */
static void teardown(struct event_base *base)
{
	ptimers_fini(&pts);
	event_base_free(base);
}

/* Timers fire in due order, not in the order they were added, and never
 * before their time. */
START_TEST(test_due_order)
{
	static const int ms[5] = { 40, 10, 30, 20, 50 };
	struct event_base *base = setup(on_fire);
	int64_t t0 = now_us();
	int i;

	for (i = 0; i < 5; i++)
		ck_assert_int_eq(ptimer_add(&pts, &tm[i], ms[i]), 0);
	run_until(base, 5);
	ck_assert_int_eq(nfired, 5);
	ck_assert_int_eq(fired[0], 1);
	ck_assert_int_eq(fired[1], 3);
	ck_assert_int_eq(fired[2], 2);
	ck_assert_int_eq(fired[3], 0);
	ck_assert_int_eq(fired[4], 4);
	ck_assert_int_ge(now_us() - t0, 50000);
	for (i = 0; i < 5; i++)
		ck_assert(!ptimer_pending(&tm[i]));
	teardown(base);
}
END_TEST

/* A timer removed from the middle of the heap, or moved by adding it
 * again, does not fire at its old time; the others still do. */
START_TEST(test_del_and_move)
{
	struct event_base *base = setup(on_fire);
	int i;

	for (i = 0; i < 6; i++)
		ck_assert_int_eq(ptimer_add(&pts, &tm[i], 5 + 5 * i), 0);
	ptimer_del(&pts, &tm[2]);
	ptimer_del(&pts, &tm[2]);              /* a no-op */
	ck_assert(!ptimer_pending(&tm[2]));
	ck_assert_int_eq(ptimer_add(&pts, &tm[0], 60), 0);  /* first -> last */
	run_until(base, 5);
	ck_assert_int_eq(nfired, 5);
	ck_assert_int_eq(fired[0], 1);
	ck_assert_int_eq(fired[1], 3);
	ck_assert_int_eq(fired[2], 4);
	ck_assert_int_eq(fired[3], 5);
	ck_assert_int_eq(fired[4], 0);
	teardown(base);
}
END_TEST

/* A callback may add timers (a lease given back with a delay). */
START_TEST(test_add_from_callback)
{
	struct event_base *base = setup(on_fire_readd);

	ck_assert_int_eq(ptimer_add(&pts, &tm[7], 2), 0);
	run_until(base, 2);
	ck_assert_int_eq(nfired, 2);
	ck_assert_int_eq(fired[0], 7);
	ck_assert_int_eq(fired[1], 7);
	teardown(base);
}
END_TEST

/* The one-at-a-time path: each request parks with the same timeout and
 * is answered before it is due. The timerfd is set for the first only
 * (libevent's precise mode set one before every epoll_wait), and the
 * wake-up the stale setting causes finds nothing due and sets it once
 * more for the pending timer. */
START_TEST(test_set_seldom)
{
	struct event_base *base = setup(on_fire);
	int i;

	for (i = 0; i < 1000; i++) {
		ck_assert_int_eq(ptimer_add(&pts, &tm[0], 30), 0);
		ptimer_del(&pts, &tm[0]);
	}
	ck_assert_uint_eq(pts.nsets, 1);
	/* A timer due before the one the timerfd is set for moves it. */
	ck_assert_int_eq(ptimer_add(&pts, &tm[1], 200), 0);
	ck_assert_uint_eq(pts.nsets, 1);
	ck_assert_int_eq(ptimer_add(&pts, &tm[2], 5), 0);
	ck_assert_uint_eq(pts.nsets, 2);
	ptimer_del(&pts, &tm[2]);
	run_until(base, 1);
	ck_assert_int_eq(nfired, 1);
	ck_assert_int_eq(fired[0], 1);
	/* Woken at 5 ms for nothing, set for tm[1]'s 200 ms, which fired. */
	ck_assert_uint_eq(pts.nsets, 3);
	teardown(base);
}
END_TEST

/* The whole suite. */
static Suite *ptimer_suite(void)
{
	Suite *s = suite_create("ptimer");
	TCase *tc = tcase_create("timers");

	tcase_set_timeout(tc, 30);
	tcase_add_test(tc, test_due_order);
	tcase_add_test(tc, test_del_and_move);
	tcase_add_test(tc, test_add_from_callback);
	tcase_add_test(tc, test_set_seldom);
	suite_add_tcase(s, tc);
	return s;
}

int main(void)
{
	SRunner *sr = srunner_create(ptimer_suite());
	int failed;

	srunner_run_all(sr, CK_NORMAL);
	failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed ? 1 : 0;
}
