/* SPDX-License-Identifier: MIT */
/*
 * check_busypoll.c: the poll window of daemon/busypoll.c, which decides
 * how long ipcd polls for the next request before it sleeps.
 */
#include <check.h>
#include <stdlib.h>

#include "../daemon/busypoll.h"

/* n sleeps of us microseconds each. */
static void sleeps(struct busypoll *bp, unsigned n, uint64_t us)
{
	while (n-- > 0)
		busypoll_slept(bp, us);
}

/* Polling starts on with the configured window, capped at the maximum. */
START_TEST(test_init)
{
	struct busypoll bp;

	busypoll_init(&bp, 50);
	ck_assert_uint_eq(busypoll_window(&bp), 50);
	busypoll_init(&bp, BUSYPOLL_MAX_US + 1);
	ck_assert_uint_eq(busypoll_window(&bp), BUSYPOLL_MAX_US);
	busypoll_init(&bp, 0);
	ck_assert_uint_eq(busypoll_window(&bp), 0);
	/* Off stays off, whatever the sleeps. */
	busypoll_slept(&bp, 0);
	busypoll_slept(&bp, 1000000);
	ck_assert_uint_eq(busypoll_window(&bp), 0);
}
END_TEST

/* BUSYPOLL_MISSES long sleeps in a row turn polling off; fewer do not. */
START_TEST(test_misses_turn_off)
{
	struct busypoll bp;
	unsigned i;

	busypoll_init(&bp, 50);
	for (i = 0; i + 1 < BUSYPOLL_MISSES; i++) {
		busypoll_slept(&bp, 50);
		ck_assert_uint_eq(busypoll_window(&bp), 50);
	}
	busypoll_slept(&bp, 1000);
	ck_assert_uint_eq(busypoll_window(&bp), 0);
	/* Long sleeps keep it off. */
	sleeps(&bp, 100, 5000);
	ck_assert_uint_eq(busypoll_window(&bp), 0);
}
END_TEST

/* A sleep shorter than the window turns polling back on, and resets the
 * count of misses, as does a poll that found work. */
START_TEST(test_short_sleep_and_hit)
{
	struct busypoll bp;

	busypoll_init(&bp, 50);
	sleeps(&bp, BUSYPOLL_MISSES, 60);
	ck_assert_uint_eq(busypoll_window(&bp), 0);
	busypoll_slept(&bp, 49);
	ck_assert_uint_eq(busypoll_window(&bp), 50);
	sleeps(&bp, BUSYPOLL_MISSES - 1, 60);
	busypoll_hit(&bp);
	sleeps(&bp, BUSYPOLL_MISSES - 1, 60);
	ck_assert_uint_eq(busypoll_window(&bp), 50);
	busypoll_slept(&bp, 10);
	sleeps(&bp, BUSYPOLL_MISSES - 1, 60);
	ck_assert_uint_eq(busypoll_window(&bp), 50);
	busypoll_slept(&bp, 60);
	ck_assert_uint_eq(busypoll_window(&bp), 0);
}
END_TEST

/* A new setting (SIGHUP) applies at once, polling on again. */
START_TEST(test_set_max)
{
	struct busypoll bp;

	busypoll_init(&bp, 50);
	sleeps(&bp, BUSYPOLL_MISSES, 1000);
	ck_assert_uint_eq(busypoll_window(&bp), 0);
	busypoll_set_max(&bp, 200);
	ck_assert_uint_eq(busypoll_window(&bp), 200);
	busypoll_slept(&bp, 150);
	ck_assert_uint_eq(busypoll_window(&bp), 200);
	busypoll_set_max(&bp, 0);
	ck_assert_uint_eq(busypoll_window(&bp), 0);
	busypoll_slept(&bp, 0);
	ck_assert_uint_eq(busypoll_window(&bp), 0);
	busypoll_set_max(&bp, 99999);
	ck_assert_uint_eq(busypoll_window(&bp), BUSYPOLL_MAX_US);
}
END_TEST

/* The whole suite. */
static Suite *busypoll_suite(void)
{
	Suite *s = suite_create("busypoll");
	TCase *tc = tcase_create("window");

	tcase_add_test(tc, test_init);
	tcase_add_test(tc, test_misses_turn_off);
	tcase_add_test(tc, test_short_sleep_and_hit);
	tcase_add_test(tc, test_set_max);
	suite_add_tcase(s, tc);
	return s;
}

int main(void)
{
	SRunner *sr = srunner_create(busypoll_suite());
	int failed;

	srunner_run_all(sr, CK_NORMAL);
	failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed ? 1 : 0;
}
