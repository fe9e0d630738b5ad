/* SPDX-License-Identifier: MIT */
/*
 * check_fuzz_replay.c: every file of tests/fuzz/corpus/ (the seeds and
 * each input a fuzzer ever crashed on) run through the same entry points
 * as the libFuzzer targets: corpus/proto/ through fuzz_proto_one(),
 * corpus/daemon/ through fuzz_daemon_one() (an in-process ipcd). One
 * Check test per target; each input's path is printed before it runs, so
 * the log names the one that crashed. The daemon shell and core are
 * linked in as libraries (everything of ipcd but its main.c).
 */
#include <check.h>
#include <dirent.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "fuzz.h"
#include "proto.h"

#define REPLAY_MAX 4096

/* One corpus file and the target it feeds. */
struct replay {
	char path[1024];
	int daemon;
};

static struct replay replays[REPLAY_MAX];
static int nreplays;

/* Read a whole file into *buf (malloc'd): its size. Asserts on failure. */
static size_t replay_read(const char *path, unsigned char **buf)
{
	FILE *f = fopen(path, "rb");
	size_t cap = 4096, n = 0, r;

	ck_assert_msg(f != NULL, "cannot open %s", path);
	*buf = malloc(cap);
	while ((r = fread(*buf + n, 1, cap - n, f)) > 0) {
		n += r;
		if (n == cap)
			*buf = realloc(*buf, cap *= 2);
	}
	fclose(f);
	return n;
}

/* Replay every corpus file of one target (_i: 0 proto, 1 daemon). */
START_TEST(test_replay)
{
	unsigned char *buf;
	int i, done = 0;
	size_t n;

	for (i = 0; i < nreplays; i++) {
		if (replays[i].daemon != _i)
			continue;
		fprintf(stderr, "replay %s\n", replays[i].path);
		buf = NULL;
		n = replay_read(replays[i].path, &buf);
		if (_i)
			ck_assert_int_eq(fuzz_daemon_one(buf, n), 0);
		else
			ck_assert_int_eq(fuzz_proto_one(buf, n), 0);
		free(buf);
		done++;
	}
	ck_assert_msg(done > 0, "no %s inputs in the corpus", _i ? "daemon" : "proto");
}
END_TEST

/* The corpus directory (FUZZ_CORPUS or argv[1]). */
static const char *corpus_dir;

/* Every op of the table, number and lower-case name (proto/ops.h). */
static const struct seed_op {
	uint32_t op;
	const char *name;
} seed_ops[] = {
#define SEED_OP_ROW(N, n, num, rq, opt, rp, park) { PROTO_OP_##N, #n },
	PROTO_OPS(SEED_OP_ROW)
#undef SEED_OP_ROW
};

/* Every op of the table has a request seed proto/req-NAME and a reply seed
 * proto/rep-NAME that decode as that op (tests/fuzz/gen_corpus writes
 * them): an op added without seeds, or seeds the decoder now refuses,
 * fail here. */
START_TEST(test_every_op_seeded)
{
	struct proto_dec d;
	struct proto_req rq;
	struct proto_rep rp;
	unsigned char *buf;
	char path[1024];
	size_t i, n;

	ck_assert_int_eq(proto_dec_init(&d), 0);
	d.memfd_max = 64u << 20;
	for (i = 0; i < sizeof(seed_ops) / sizeof(seed_ops[0]); i++) {
		snprintf(path, sizeof(path), "%s/proto/req-%s", corpus_dir, seed_ops[i].name);
		n = replay_read(path, &buf);
		ck_assert_msg(n > PROTO_FRAME_HDR && proto_dec_req(&d, buf + PROTO_FRAME_HDR,
			      n - PROTO_FRAME_HDR, IPC_MSG_MAX, &rq) == 0 &&
			      rq.op == seed_ops[i].op, "%s: %s", path, d.err);
		free(buf);
		snprintf(path, sizeof(path), "%s/proto/rep-%s", corpus_dir, seed_ops[i].name);
		n = replay_read(path, &buf);
		ck_assert_msg(n > PROTO_FRAME_HDR && proto_dec_rep(&d, buf + PROTO_FRAME_HDR,
			      n - PROTO_FRAME_HDR, seed_ops[i].op, &rp) == 0 &&
			      rp.status == 0, "%s: %s", path, d.err);
		free(buf);
	}
	proto_dec_fini(&d);
}
END_TEST

/* Add every regular file of dir/sub, sorted, to the replay list. */
static void replay_scan(const char *dir, const char *sub, int daemon)
{
	struct dirent **ents;
	int i, n;
	char path[512];

	snprintf(path, sizeof(path), "%s/%s", dir, sub);
	n = scandir(path, &ents, NULL, alphasort);
	if (n < 0) {
		fprintf(stderr, "check_fuzz_replay: cannot read %s\n", path);
		exit(1);
	}
	for (i = 0; i < n; i++) {
		if (ents[i]->d_name[0] != '.' && nreplays < REPLAY_MAX) {
			snprintf(replays[nreplays].path, sizeof(replays[0].path),
				 "%s/%s", path, ents[i]->d_name);
			replays[nreplays++].daemon = daemon;
		}
		free(ents[i]);
	}
	free(ents);
}

/* Run every corpus file; FUZZ_CORPUS (or argv[1]) is the corpus dir. */
int main(int argc, char **argv)
{
	const char *dir = argc > 1 ? argv[1] : getenv("FUZZ_CORPUS");
	Suite *s = suite_create("fuzz_replay");
	TCase *tc = tcase_create("corpus");
	SRunner *sr;
	int nproto, failed;

	if (!dir || !*dir) {
		fprintf(stderr, "check_fuzz_replay: set FUZZ_CORPUS (make check does)\n");
		return 1;
	}
	replay_scan(dir, "proto", 0);
	nproto = nreplays;
	replay_scan(dir, "daemon", 1);
	printf("check_fuzz_replay: %d proto and %d daemon inputs from %s\n",
	       nproto, nreplays - nproto, dir);
	signal(SIGPIPE, SIG_IGN);
	tcase_set_timeout(tc, 300);
	corpus_dir = dir;
	tcase_add_loop_test(tc, test_replay, 0, 2);
	tcase_add_test(tc, test_every_op_seeded);
	suite_add_tcase(s, tc);
	sr = srunner_create(s);
	srunner_run_all(sr, CK_NORMAL);
	failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed ? 1 : 0;
}
