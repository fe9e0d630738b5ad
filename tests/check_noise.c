/* SPDX-License-Identifier: MIT */
/*
 * check_noise.c: bench/procstat.c, whose CPU time the bench's noise
 * figures count: parsing /proc/PID/stat, telling kernel threads, the
 * bench's own tree and other processes apart, and the CPU each kind used
 * between two tables, processes coming and going included.
 */
#include <check.h>
#include <stdio.h>
#include <string.h>

#include "../bench/bench.h"

#define PF_KTHREAD 0x00200000UL

/* A process of a made-up table. */
static struct proc_ent ent(long pid, long ppid, unsigned long flags, double cpu, double kids)
{
	struct proc_ent e;

	memset(&e, 0, sizeof e);
	e.pid = pid;
	e.ppid = ppid;
	e.flags = flags;
	e.cpu = cpu;
	e.kids = kids;
	snprintf(e.comm, sizeof e.comm, "p%ld", pid);
	return e;
}

/* The bench (100) and a daemon it started (200), adopted. */
static const long roots[] = { 100, 200 };

START_TEST(parse_stat_line)
{
	const char *line = "1234 (a b) c) S 77 1234 1234 0 -1 4194560 10 0 0 0 250 50 "
			   "100 20 20 0 1 0 42 1000 10 18446744073709551615\n";
	struct proc_ent e;

	ck_assert_int_eq(proc_parse_stat(line, 100, &e), 0);
	ck_assert_int_eq(e.pid, 1234);
	ck_assert_int_eq(e.ppid, 77);
	ck_assert_str_eq(e.comm, "a b) c");
	ck_assert_int_eq(e.state, 'S');
	ck_assert_uint_eq(e.flags, 4194560);
	ck_assert_double_eq_tol(e.cpu, 3.0, 1e-9);
	ck_assert_double_eq_tol(e.kids, 1.2, 1e-9);
	ck_assert_int_eq(proc_parse_stat("1234 (cut short) S 1 2", 100, &e), -1);
	ck_assert_int_eq(proc_parse_stat("no parentheses", 100, &e), -1);
}
END_TEST

START_TEST(classify_kinds)
{
	struct proc_ent v[] = {
		ent(300, 1, 0, 0, 0),             /* another user's process */
		ent(102, 101, 0, 0, 0),           /* the bench's grandchild */
		ent(2, 0, PF_KTHREAD, 0, 0),      /* kthreadd */
		ent(100, 10, 0, 0, 0),            /* the bench, under a shell */
		ent(50, 2, PF_KTHREAD, 0, 0),     /* a kworker */
		ent(101, 100, 0, 0, 0),           /* the bench's child */
		ent(201, 200, 0, 0, 0),           /* the daemon's child */
		ent(200, 1, 0, 0, 0),             /* a daemon, reparented to init */
		ent(10, 1, 0, 0, 0),              /* the shell that ran the bench */
		ent(1, 0, 0, 0, 0),               /* init */
	};
	static const struct { long pid; enum proc_kind kind; } want[] = {
		{ 1, PROC_OTHER }, { 2, PROC_KERN }, { 10, PROC_OTHER }, { 50, PROC_KERN },
		{ 100, PROC_OURS }, { 101, PROC_OURS }, { 102, PROC_OURS },
		{ 200, PROC_OURS }, { 201, PROC_OURS }, { 300, PROC_OTHER },
	};
	size_t i, n = sizeof v / sizeof v[0];

	proc_classify(v, n, roots, 2);
	for (i = 0; i < n; i++) {
		ck_assert_int_eq(v[i].pid, want[i].pid);     /* sorted by pid */
		ck_assert_msg(v[i].kind == want[i].kind, "pid %ld: kind %d, want %d", v[i].pid,
			      (int)v[i].kind, (int)want[i].kind);
	}
}
END_TEST

/* proc_diff of a and b (classified here) into sum and top[3]: how many. */
static size_t diff(struct proc_ent *a, size_t na, struct proc_ent *b, size_t nb,
		   double sum[PROC__KINDS], struct proc_top top[3])
{
	proc_classify(a, na, roots, 2);
	proc_classify(b, nb, roots, 2);
	return proc_diff(a, na, b, nb, sum, top, 3);
}

START_TEST(diff_kinds_apart)
{
	/* The bench used 2 s (its reaped run children's included), its
	 * daemon 1 s; a kworker 0.25 s and another one exited (its time is
	 * gone with it, not taken off); a busy shell elsewhere 0.5 s. */
	struct proc_ent a[] = { ent(100, 10, 0, 1, 0), ent(200, 1, 0, 4, 0),
				ent(50, 2, PF_KTHREAD, 7, 0), ent(51, 2, PF_KTHREAD, 30, 0),
				ent(300, 1, 0, 9, 0) };
	struct proc_ent b[] = { ent(100, 10, 0, 1.5, 1.5), ent(200, 1, 0, 5, 0),
				ent(50, 2, PF_KTHREAD, 7.25, 0), ent(300, 1, 0, 9.5, 0) };
	double sum[PROC__KINDS];
	struct proc_top top[3];
	size_t n = diff(a, 5, b, 4, sum, top);

	ck_assert_double_eq_tol(sum[PROC_OURS], 3.0, 1e-9);
	ck_assert_double_eq_tol(sum[PROC_KERN], 0.25, 1e-9);
	ck_assert_double_eq_tol(sum[PROC_OTHER], 0.5, 1e-9);
	ck_assert_uint_eq(n, 2);
	ck_assert_int_eq(top[0].pid, 300);
	ck_assert_int_eq(top[0].kind, PROC_OTHER);
	ck_assert_double_eq_tol(top[0].secs, 0.5, 1e-9);
	ck_assert_int_eq(top[1].pid, 50);
	ck_assert_int_eq(top[1].kind, PROC_KERN);
}
END_TEST

START_TEST(diff_collected_chain)
{
	/* bash -> make -> test: make and the test exit and are collected.
	 * make used 0.1 s meanwhile, the test 1 s; their earlier time (the
	 * test's 5 s) must not count. */
	struct proc_ent a[] = { ent(400, 1, 0, 1, 0), ent(401, 400, 0, 0.1, 0),
				ent(402, 401, 0, 5, 0) };
	struct proc_ent b[] = { ent(400, 1, 0, 1, 0.2 + 6) };
	double sum[PROC__KINDS];
	struct proc_top top[3];
	size_t n = diff(a, 3, b, 1, sum, top);

	ck_assert_double_eq_tol(sum[PROC_OTHER], 1.1, 1e-9);
	ck_assert_uint_eq(n, 1);
	ck_assert_int_eq(top[0].pid, 400);
	ck_assert_str_eq(top[0].comm, "p400");
}
END_TEST

START_TEST(diff_new_and_uncollected)
{
	/* A process that ignores SIGCHLD loses a child's 3 s: that must not
	 * hide a new busy process (0.75 s, all of it since a) or a busy one. */
	struct proc_ent a[] = { ent(500, 1, 0, 1, 0), ent(501, 500, 0, 3, 0),
				ent(300, 1, 0, 2, 0) };
	struct proc_ent b[] = { ent(500, 1, 0, 1, 0), ent(300, 1, 0, 2.5, 0),
				ent(600, 1, 0, 0.75, 0) };
	double sum[PROC__KINDS];
	struct proc_top top[3];
	size_t n = diff(a, 3, b, 3, sum, top);

	ck_assert_double_eq_tol(sum[PROC_OTHER], 1.25, 1e-9);
	ck_assert_uint_eq(n, 2);
	ck_assert_int_eq(top[0].pid, 600);
	ck_assert_int_eq(top[1].pid, 300);
}
END_TEST

START_TEST(diff_top_keeps_the_largest)
{
	struct proc_ent a[] = { ent(301, 1, 0, 0, 0), ent(302, 1, 0, 0, 0),
				ent(303, 1, 0, 0, 0), ent(304, 1, 0, 0, 0), ent(101, 100, 0, 0, 0),
				ent(100, 1, 0, 0, 0) };
	struct proc_ent b[] = { ent(301, 1, 0, 0.1, 0), ent(302, 1, 0, 0.4, 0),
				ent(303, 1, 0, 0.3, 0), ent(304, 1, 0, 0.2, 0),
				ent(101, 100, 0, 9, 0), ent(100, 1, 0, 0, 0) };
	double sum[PROC__KINDS];
	struct proc_top top[3];
	size_t n = diff(a, 6, b, 6, sum, top);

	ck_assert_uint_eq(n, 3);         /* ours (101) is never named */
	ck_assert_int_eq(top[0].pid, 302);
	ck_assert_int_eq(top[1].pid, 303);
	ck_assert_int_eq(top[2].pid, 304);
	ck_assert_double_eq_tol(sum[PROC_OTHER], 1.0, 1e-9);
	ck_assert_double_eq_tol(sum[PROC_OURS], 9.0, 1e-9);
}
END_TEST

/* The suite. */
static Suite *noise_suite(void)
{
	Suite *s = suite_create("noise");
	TCase *tc = tcase_create("procstat");

	tcase_add_test(tc, parse_stat_line);
	tcase_add_test(tc, classify_kinds);
	tcase_add_test(tc, diff_kinds_apart);
	tcase_add_test(tc, diff_collected_chain);
	tcase_add_test(tc, diff_new_and_uncollected);
	tcase_add_test(tc, diff_top_keeps_the_largest);
	suite_add_tcase(s, tc);
	return s;
}

int main(void)
{
	SRunner *sr = srunner_create(noise_suite());
	int failed;

	srunner_run_all(sr, CK_NORMAL);
	failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed ? 1 : 0;
}
