/* SPDX-License-Identifier: MIT */
/*
 * check_durable.c: durable queues end to end: a real ipcd restarted (with
 * SIGTERM and with SIGKILL) on the same state directory keeps durable
 * queues, their settings and messages in order, and forgets the rest; a
 * crash loop of 50 SIGKILLs under a producer and an at-least-once
 * consumer loses nothing; a full disk (a 2 MiB tmpfs, as root) refuses
 * puts with IPC_ENOSPC and loses nothing acknowledged; a corrupt journal
 * refuses to start unless --salvage.
 */
#include <check.h>
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "harness.h"
#include <ipcclient/ipcclient.h>

/* --- helpers ------------------------------------------------------------------ */

/* Start ipcd on d's prepared socket and state directory with extra args. */
static void launch(struct h_daemon *d, const char *const *args)
{
	const struct h_opts o = { .args = args, .listen_fd = -1 };

	h_launch_opts(d, &o);
}

/* Stop ipcd with sig, keeping its directory for a restart; a SIGTERM
 * must end it cleanly. */
static void kill_keep(struct h_daemon *d, int sig)
{
	int st = h_kill_keep(d, sig);

	if (sig == SIGTERM)
		ck_assert_msg(WIFEXITED(st) && WEXITSTATUS(st) == 0,
			      "ipcd ended with 0x%x", st);
}

/* Create queue name with flags, maxsize and mode; asserts the result. */
static void mkq(ipc_client *c, const char *name, unsigned flags, long long max,
	       int mode, int want)
{
	ck_assert_int_eq(ipc_queue_open(c, name, H_QOPTS_MODE(max, IPC_QUEUE_CREATE |
							  IPC_QUEUE_EXCL | flags, mode),
					NULL), want);
}

/* Get one message without waiting and check its text. */
static void expect_get(ipc_client *c, const char *q, const char *text)
{
	void *data = NULL;
	size_t len = 0;

	ck_assert_int_eq(ipc_queue_get(c, q, &data, &len, 0), 0);
	ck_assert_uint_eq(len, strlen(text));
	ck_assert_mem_eq(data, text, len);
	ipc_free(data);
}

/* The info of q, asserting it exists. */
static struct ipc_info info_of(ipc_client *c, const char *q)
{
	struct ipc_info in;

	ck_assert_int_eq(ipc_stat(c, q, &in, sizeof(in)), 0);
	return in;
}

/* Does path exist? */
static int exists(const char *path)
{
	struct stat sb;

	return stat(path, &sb) == 0;
}

/* Purge, chmod and chown of a durable queue are journaled: after a
 * SIGKILL the purged messages stay gone (the one in flight comes back),
 * and the new mode and owner are kept. */
START_TEST(test_admin_durable)
{
	struct h_daemon d;
	struct ipc_info in;
	uint64_t tag, dropped = 0;
	ipc_client *c;
	void *data;
	size_t len;
	int root = geteuid() == 0;

	h_prepare(&d);
	launch(&d, NULL);
	c = h_connect(&d);
	mkq(c, "jobs", IPC_QUEUE_DURABLE, 10, 0660, 0);
	h_put_text(c, "jobs", "a");
	h_put_text(c, "jobs", "b");
	h_put_text(c, "jobs", "c");
	ck_assert_int_eq(ipc_queue_get_ack(c, "jobs", &data, &len, &tag, 0, 0), 0);
	ipc_free(data);
	ck_assert_int_eq(ipc_queue_purge(c, "jobs", &dropped), 0);
	ck_assert_uint_eq(dropped, 2);
	h_put_text(c, "jobs", "d");
	ck_assert_int_eq(ipc_chmod(c, "jobs", 0604), 0);
	if (root)
		ck_assert_int_eq(ipc_chown(c, "jobs", 12, 34), 0);
	ipc_close(c);
	kill_keep(&d, SIGKILL);

	launch(&d, NULL);
	c = h_connect(&d);
	in = info_of(c, "jobs");
	ck_assert_uint_eq(in.mode, 0604);
	ck_assert_uint_eq(in.uid, root ? 12 : geteuid());
	ck_assert_uint_eq(in.gid, root ? 34 : getegid());
	ck_assert_uint_eq(in.size, 2);
	expect_get(c, "jobs", "a");
	expect_get(c, "jobs", "d");
	ipc_close(c);
	h_stop(&d);
}
END_TEST

/* --- restart --------------------------------------------------------------------- */

/* A durable queue keeps its settings, its messages in order and its
 * unacked deliveries (requeued) across restarts; plainly got and acked
 * messages stay gone; a non-durable queue is gone; until the first
 * durable queue, nothing is written to the state directory. */
/* Fill durable queue "jobs" with m0..m19 (singly and in a batch), get
 * m0..m2, ack m3 and leave m4 in flight. */
static void restart_fill(ipc_client *c)
{
	struct ipc_msg batch[4];
	char text[16], ms[4][8];
	void *data;
	size_t len, nput;
	uint64_t t3, t4;
	int i;

	mkq(c, "jobs", IPC_QUEUE_DURABLE, 100, 0640, 0);
	for (i = 0; i < 16; i++) {
		snprintf(text, sizeof(text), "m%d", i);
		h_put_text(c, "jobs", text);
	}
	for (i = 0; i < 4; i++) {
		snprintf(ms[i], sizeof(ms[i]), "m%d", 16 + i);
		batch[i] = (struct ipc_msg){ ms[i], strlen(ms[i]) };
	}
	ck_assert_int_eq(ipc_queue_put_many(c, "jobs", batch, 4, &nput, 0), 0);
	ck_assert_uint_eq(nput, 4);
	expect_get(c, "jobs", "m0");
	expect_get(c, "jobs", "m1");
	expect_get(c, "jobs", "m2");
	ck_assert_int_eq(ipc_queue_get_ack(c, "jobs", &data, &len, &t3, 0, 0), 0);
	ipc_free(data);
	ck_assert_int_eq(ipc_queue_get_ack(c, "jobs", &data, &len, &t4, 0, 0), 0);
	ipc_free(data);
	ck_assert_int_eq(ipc_queue_ack(c, "jobs", t3), 0);   /* m3 done, m4 not */
}

/* The restart test (see above), stopping ipcd with sig. */
static void restart_case(int sig)
{
	struct h_daemon d;
	char text[16];
	ipc_client *c;
	struct ipc_info in;
	int i;

	h_prepare(&d);
	launch(&d, NULL);
	c = h_connect(&d);
	mkq(c, "plain", 0, 0, IPC_MODE_DEFAULT, 0);
	h_put_text(c, "plain", "gone after restart");
	ck_assert_msg(!exists(d.state), "a plain queue touched the disk");
	restart_fill(c);
	in = info_of(c, "jobs");
	ck_assert_uint_eq(in.durable, 1);
	ck_assert_uint_gt(in.journal_bytes, 0);
	ck_assert_uint_gt(in.journal_live, 0);
	ck_assert_uint_le(in.journal_live, in.journal_bytes);
	in = info_of(c, "plain");
	ck_assert_uint_eq(in.durable, 0);
	ck_assert_uint_eq(in.journal_bytes, 0);
	ipc_close(c);
	kill_keep(&d, sig);

	launch(&d, NULL);
	c = h_connect(&d);
	ck_assert_int_eq(ipc_stat(c, "plain", &in, sizeof(in)), IPC_ENOENT);
	in = info_of(c, "jobs");
	ck_assert_int_eq(in.maxsize, 100);
	ck_assert_uint_eq(in.mode, 0640);
	ck_assert_uint_eq(in.uid, geteuid());
	ck_assert_uint_eq(in.gid, getegid());
	ck_assert_int_eq(in.durable, 1);
	ck_assert_uint_eq(in.size, 16);
	ck_assert_uint_eq(in.requeued, 1);
	for (i = 4; i < 20; i++) {
		snprintf(text, sizeof(text), "m%d", i);
		expect_get(c, "jobs", text);
	}
	ipc_close(c);
	kill_keep(&d, sig);
	/* Everything was got: nothing comes back a second time. */
	launch(&d, NULL);
	c = h_connect(&d);
	ck_assert_uint_eq(info_of(c, "jobs").size, 0);
	ipc_close(c);
	h_stop(&d);
}

START_TEST(test_restart_sigterm)
{
	restart_case(SIGTERM);
}
END_TEST

START_TEST(test_restart_sigkill)
{
	restart_case(SIGKILL);
}
END_TEST

/* A message only read ahead held (QGETH) and given back was not
 * delivered, on disk either: after a restart it is not counted requeued
 * and its deliveries for max_deliveries are not raised (one nack of it
 * under max_deliveries 2 keeps it in its queue). */
START_TEST(test_held_not_delivered_after_restart)
{
	struct ipc_queue_opts o = IPC_QUEUE_OPTS_INIT;
	struct h_daemon d;
	ipc_client *c;
	uint64_t tag;
	void *data;
	size_t len;

	h_prepare(&d);
	launch(&d, NULL);
	c = h_connect(&d);
	mkq(c, "dead", IPC_QUEUE_DURABLE, 0, IPC_MODE_DEFAULT, 0);
	o.maxsize = 4;
	o.flags = IPC_QUEUE_CREATE | IPC_QUEUE_DURABLE;
	o.max_deliveries = 2;
	o.dead_letter = "dead";
	ck_assert_int_eq(ipc_queue_open(c, "jobs", &o, NULL), 0);
	h_put_text(c, "jobs", "a");
	h_put_text(c, "jobs", "b");
	ck_assert_int_eq(ipc_queue_set_readahead_held(c, "jobs", 2, 0), 0);
	expect_get(c, "jobs", "a");             /* "b" held, not handed out */
	ipc_close(c);                           /* "b" goes back */
	c = h_connect(&d);
	while (info_of(c, "jobs").inflight > 0)
		usleep(1000);
	ck_assert_uint_eq(info_of(c, "jobs").size, 1);
	ipc_close(c);
	kill_keep(&d, SIGKILL);

	launch(&d, NULL);
	c = h_connect(&d);
	ck_assert_uint_eq(info_of(c, "jobs").size, 1);
	ck_assert_uint_eq(info_of(c, "jobs").requeued, 0);
	ck_assert_int_eq(ipc_queue_get_ack(c, "jobs", &data, &len, &tag, 0, 0), 0);
	ck_assert_mem_eq(data, "b", 1);
	ipc_free(data);
	ck_assert_int_eq(ipc_queue_release(c, "jobs", tag, 0), 0);
	ck_assert_uint_eq(info_of(c, "jobs").size, 1);  /* 1 delivery of 2 */
	ck_assert_uint_eq(info_of(c, "dead").size, 0);
	ipc_close(c);
	h_stop(&d);
}
END_TEST

/* A put on a full durable queue whose park is refused (max-parked
 * reached: IPC_ELIMIT) was journaled first: it is dropped from the
 * journal too, so it does not appear after a restart. */
START_TEST(test_refused_park_not_journaled)
{
	static const char *const args[] = { "--max-parked", "1", NULL };
	struct h_daemon d;
	ipc_client *c, *c2;
	pid_t pid;
	int st;

	h_prepare(&d);
	launch(&d, args);
	c = h_connect(&d);
	mkq(c, "q", IPC_QUEUE_DURABLE, 1, IPC_MODE_DEFAULT, 0);
	h_put_text(c, "q", "a");
	pid = fork();
	ck_assert_int_ge(pid, 0);
	if (pid == 0) {     /* the one park there is room for: times out */
		c2 = h_connect(&d);
		_exit(ipc_queue_put(c2, "q", "b", 1, 3000) == IPC_EFULL ? 0 : 1);
	}
	while (info_of(c, "q").putters == 0)
		usleep(1000);
	ck_assert_int_eq(ipc_queue_put(c, "q", "c", 1, 3000), IPC_ELIMIT);
	ck_assert_int_eq(waitpid(pid, &st, 0), pid);
	ck_assert(WIFEXITED(st) && WEXITSTATUS(st) == 0);
	ipc_close(c);
	kill_keep(&d, SIGKILL);

	launch(&d, args);
	c = h_connect(&d);
	ck_assert_uint_eq(info_of(c, "q").size, 1);
	expect_get(c, "q", "a");
	ipc_close(c);
	h_stop(&d);
}
END_TEST

/* Each sync mode keeps every acknowledged put through a kill -9. */
START_TEST(test_sync_modes)
{
	static const char *const modes[] = { "always", "interval", "none" };
	const char *args[] = { "--sync", NULL, "--sync-interval", "20", NULL };
	struct h_daemon d;
	ipc_client *c;
	char text[16];
	int m, i;

	for (m = 0; m < 3; m++) {
		args[1] = modes[m];
		h_prepare(&d);
		launch(&d, args);
		c = h_connect(&d);
		mkq(c, "q", IPC_QUEUE_DURABLE, 0, IPC_MODE_DEFAULT, 0);
		for (i = 0; i < 50; i++) {
			snprintf(text, sizeof(text), "%s-%d", modes[m], i);
			h_put_text(c, "q", text);
		}
		ipc_close(c);
		kill_keep(&d, SIGKILL);
		launch(&d, args);
		c = h_connect(&d);
		for (i = 0; i < 50; i++) {
			snprintf(text, sizeof(text), "%s-%d", modes[m], i);
			expect_get(c, "q", text);
		}
		ipc_close(c);
		h_stop(&d);
	}
}
END_TEST

/* Async puts (pipelined, replies held until synced) are durable too once
 * ipc_flush() has their replies; a batch's whole prefix as well. */
START_TEST(test_async_batch_durable)
{
	struct h_daemon d;
	struct ipc_msg b[64];
	uint32_t v[64];
	ipc_client *c;
	size_t nput, len;
	void *data;
	uint32_t i, got;

	h_prepare(&d);
	launch(&d, NULL);
	c = h_connect(&d);
	mkq(c, "q", IPC_QUEUE_DURABLE, 0, IPC_MODE_DEFAULT, 0);
	for (i = 0; i < 500; i++)
		ck_assert_int_eq(ipc_queue_put_async(c, "q", &i, sizeof(i), 0), 0);
	ck_assert_int_eq(ipc_flush(c), 0);
	for (i = 0; i < 64; i++) {
		v[i] = 500 + i;
		b[i] = (struct ipc_msg){ &v[i], sizeof(v[i]) };
	}
	ck_assert_int_eq(ipc_queue_put_many(c, "q", b, 64, &nput, 0), 0);
	ck_assert_uint_eq(nput, 64);
	ipc_close(c);
	kill_keep(&d, SIGKILL);
	launch(&d, NULL);
	c = h_connect(&d);
	for (i = 0; i < 564; i++) {
		ck_assert_int_eq(ipc_queue_get(c, "q", &data, &len, 0), 0);
		memcpy(&got, data, sizeof(got));
		ipc_free(data);
		ck_assert_uint_eq(got, i);
	}
	ipc_close(c);
	h_stop(&d);
}
END_TEST

/* The line number of the first line of text at or after line from that
 * contains both a and b (b may be NULL), or -1. */
static int find_line(const char *text, int from, const char *a, const char *b)
{
	const char *p = text, *nl;
	int line = 0;
	size_t len;

	for (; *p; p = nl + 1, line++) {
		nl = strchr(p, '\n');
		if (!nl)
			nl = p + strlen(p);
		len = (size_t)(nl - p);
		if (line >= from && memmem(p, len, a, strlen(a)) &&
		    (!b || memmem(p, len, b, strlen(b))))
			return line;
		if (!*nl)
			break;
	}
	return -1;
}

/* Attach strace to pid, tracing the journal write, the sync and the
 * replies into path: strace's pid (running, attached). */
static pid_t strace_attach(pid_t pid, const char *path)
{
	char pidstr[16];
	pid_t st;

	snprintf(pidstr, sizeof(pidstr), "%d", (int)pid);
	st = fork();
	ck_assert_int_ge(st, 0);
	if (st == 0) {
		execl("/usr/bin/strace", "strace", "-f", "-qq", "-s", "256", "-o",
		      path, "-e", "trace=pwrite64,fdatasync,sendmsg,writev", "-p",
		      pidstr, (char *)NULL);
		_exit(127);
	}
	usleep(500000);    /* attached by then, threads included */
	return st;
}

/* sync = always: under strace, the reply to a durable put is sent only
 * after the fdatasync that covers its journal write has returned. */
START_TEST(test_always_reply_after_sync)
{
	struct h_daemon d;
	char path[200], *tr = calloc(1, 1 << 20);
	ipc_client *c;
	int w, s, r, st;
	pid_t sp;
	FILE *f;

	if (access("/usr/bin/strace", X_OK) != 0) {
		printf("test_always_reply_after_sync skipped: no /usr/bin/strace\n");
		free(tr);
		return;
	}
	h_prepare(&d);
	snprintf(path, sizeof(path), "%s/strace.out", d.dir);
	launch(&d, NULL);
	c = h_connect(&d);
	mkq(c, "q", IPC_QUEUE_DURABLE, 0, IPC_MODE_DEFAULT, 0);
	sp = strace_attach(d.pid, path);
	if (waitpid(sp, &st, WNOHANG) == sp) {
		printf("test_always_reply_after_sync skipped: strace could not "
		       "attach (ptrace not permitted?)\n");
		free(tr);
		ipc_close(c);
		h_stop(&d);
		return;
	}
	h_put_text(c, "q", "the-marked-put");
	usleep(200000);
	kill(sp, SIGTERM);   /* detaches; ipcd goes on */
	waitpid(sp, &st, 0);
	f = fopen(path, "r");
	ck_assert_ptr_nonnull(f);
	ck_assert_uint_gt(fread(tr, 1, (1 << 20) - 1, f), 0);
	fclose(f);
	ipc_close(c);
	h_stop(&d);     /* removes path too */
	w = find_line(tr, 0, "pwrite64(", "the-marked-put");
	s = find_line(tr, w, "fdatasync", "= 0");
	r = find_line(tr, w, "sendmsg(", NULL);
	ck_assert_msg(w >= 0 && s > w && r > s,
		      "write at line %d, sync done at %d, reply at %d:\n%s", w, s,
		      r, tr);
	free(tr);
}
END_TEST

/* No state directory: a durable create fails with IPC_ENODURABLE (ipcctl:
 * exit 1, "durability is off"), plain queues work; DURABLE on an existing plain queue is a mismatch; a
 * deleted durable queue stays deleted. */
START_TEST(test_off_mismatch_delete)
{
	const char *off[] = { "--state-dir", "", NULL };
	struct h_daemon d;
	struct ipc_info in;
	struct h_buf err;
	ipc_client *c;

	h_prepare(&d);
	launch(&d, off);
	c = h_connect(&d);
	mkq(c, "q", IPC_QUEUE_DURABLE, 0, IPC_MODE_DEFAULT, IPC_ENODURABLE);
	ck_assert_msg(strstr(ipc_last_error(c), "state-dir is empty"), "%s",
		      ipc_last_error(c));
	ck_assert_int_eq(ipc_stat(c, "q", &in, sizeof(in)), IPC_ENOENT);
	/* ipcctl: exit status 1 and a message that says why. */
	ck_assert_int_eq(h_run_ipcctl(&d, NULL, 0, NULL, &err, "create", "q",
				      "--durable", NULL), 1);
	ck_assert_msg(strstr(err.data, "durability is off"), "%s", err.data);
	h_buf_free(&err);
	ck_assert_int_eq(ipc_stat(c, "q", &in, sizeof(in)), IPC_ENOENT);
	mkq(c, "q", 0, 0, IPC_MODE_DEFAULT, 0);
	ipc_close(c);
	h_stop(&d);

	h_prepare(&d);
	launch(&d, NULL);
	c = h_connect(&d);
	mkq(c, "plain", 0, 0, IPC_MODE_DEFAULT, 0);
	ck_assert_int_eq(ipc_queue_open(c, "plain", H_QOPTS(IPC_MAXSIZE_ANY,
			 IPC_QUEUE_CREATE | IPC_QUEUE_DURABLE), NULL), IPC_EMISMATCH);
	mkq(c, "dur", IPC_QUEUE_DURABLE, 0, IPC_MODE_DEFAULT, 0);
	h_put_text(c, "dur", "x");
	ck_assert_int_eq(ipc_queue_open(c, "dur", H_QOPTS(IPC_MAXSIZE_ANY,
			 IPC_QUEUE_CREATE | IPC_QUEUE_DURABLE), NULL), 0);
	ck_assert_int_eq(ipc_delete(c, "dur"), 0);
	ipc_close(c);
	kill_keep(&d, SIGKILL);
	launch(&d, NULL);
	c = h_connect(&d);
	ck_assert_int_eq(ipc_stat(c, "dur", &in, sizeof(in)), IPC_ENOENT);
	ipc_close(c);
	h_stop(&d);
}
END_TEST

/* A state-dir that cannot be opened (here a path through a regular file):
 * a durable create fails with IPC_ENODURABLE whose detail gives the
 * journal's error, ipcctl exits 1 saying so, and once the cause is gone
 * the next durable create opens the journal, without a restart. */
START_TEST(test_unopenable_state_dir)
{
	char file[200], state[240];
	const char *args[] = { "--state-dir", state, NULL };
	struct h_daemon d;
	struct h_buf err;
	ipc_client *c;
	FILE *f;

	h_prepare(&d);
	snprintf(file, sizeof(file), "%s/blocker", d.dir);
	snprintf(state, sizeof(state), "%s/state", file);
	ck_assert_ptr_nonnull(f = fopen(file, "w"));
	fclose(f);
	launch(&d, args);
	c = h_connect(&d);
	mkq(c, "q", IPC_QUEUE_DURABLE, 0, IPC_MODE_DEFAULT, IPC_ENODURABLE);
	ck_assert_msg(strstr(ipc_last_error(c), "journal in state-dir could not be opened: "), "%s",
		      ipc_last_error(c));
	ck_assert_msg(!strstr(ipc_last_error(c), "state-dir is empty"), "%s",
		      ipc_last_error(c));
	ck_assert_int_eq(h_run_ipcctl(&d, NULL, 0, NULL, &err, "create", "q",
				      "--durable", NULL), 1);
	ck_assert_msg(strstr(err.data, "durability is off") &&
		      strstr(err.data, "journal in state-dir could not be opened: "),
		      "%s", err.data);
	h_buf_free(&err);
	mkq(c, "plain", 0, 0, IPC_MODE_DEFAULT, 0);
	/* The cause removed: the journal opens on the next durable create. */
	ck_assert_int_eq(unlink(file), 0);
	ck_assert_int_eq(mkdir(file, 0700), 0);
	mkq(c, "q", IPC_QUEUE_DURABLE, 0, IPC_MODE_DEFAULT, 0);
	h_put_text(c, "q", "kept");
	ipc_close(c);
	kill_keep(&d, SIGTERM);
	launch(&d, args);
	c = h_connect(&d);
	expect_get(c, "q", "kept");
	ipc_close(c);
	h_stop(&d);
}
END_TEST

/* ipcctl create --durable, and stat/ls show it. */
START_TEST(test_ipcctl_durable)
{
	struct h_daemon d;
	struct h_buf out;

	h_start(&d);
	ck_assert_int_eq(h_run_ipcctl(&d, NULL, 0, NULL, NULL, "create", "jobs",
				      "--durable", NULL), 0);
	ck_assert_int_eq(h_run_ipcctl(&d, NULL, 0, &out, NULL, "stat", "jobs",
				      NULL), 0);
	ck_assert_ptr_nonnull(strstr(out.data, "durable: true"));
	ck_assert_ptr_nonnull(strstr(out.data, "journal_bytes: "));
	ck_assert_ptr_nonnull(strstr(out.data, "journal_live: "));
	h_buf_free(&out);
	ck_assert_int_eq(h_run_ipcctl(&d, NULL, 0, &out, NULL, "ls", NULL), 0);
	ck_assert_ptr_nonnull(strstr(out.data, "durable"));
	h_buf_free(&out);
	ck_assert_int_eq(h_run_ipcctl(&d, NULL, 0, NULL, NULL, "rm", "jobs",
				      "--durable", NULL), 2);
	h_stop(&d);
}
END_TEST

/* --- corruption ------------------------------------------------------------------ */

/* Run ipcd on d's socket and state directory with extra args until it
 * exits by itself; its status, its stderr in *err. */
static int run_ipcd(const struct h_daemon *d, const char *extra,
		    struct h_buf *err)
{
	char *argv[] = { (char *)h_bin("IPCD_BIN"), "-s", (char *)d->sock,
			 "--state-dir", (char *)d->state, (char *)extra, NULL };

	return h_run(argv, NULL, 0, NULL, err, 20000);
}

/* A flipped byte in a record followed by good ones: ipcd refuses to start
 * naming the file and offset; --salvage starts with the records before. */
START_TEST(test_corrupt_refuses_salvage)
{
	struct h_daemon d;
	struct h_buf err;
	char seg[200], text[16];
	ipc_client *c;
	int fd, i;
	unsigned char b;

	h_prepare(&d);
	launch(&d, NULL);
	c = h_connect(&d);
	mkq(c, "q", IPC_QUEUE_DURABLE, 0, IPC_MODE_DEFAULT, 0);
	for (i = 0; i < 10; i++) {
		snprintf(text, sizeof(text), "message-%d", i);
		h_put_text(c, "q", text);
	}
	ipc_close(c);
	kill_keep(&d, SIGTERM);
	/* Records: header 32, QUEUE 12+24+1, then PUTs of 12+12+9 bytes. */
	snprintf(seg, sizeof(seg), "%s/00000001.seg", d.state);
	fd = open(seg, O_RDWR);
	ck_assert_int_ge(fd, 0);
	ck_assert_int_eq(pread(fd, &b, 1, 32 + 37 + 5 * 33 + 20), 1);
	b ^= 1;
	ck_assert_int_eq(pwrite(fd, &b, 1, 32 + 37 + 5 * 33 + 20), 1);
	close(fd);
	ck_assert_int_eq(run_ipcd(&d, NULL, &err), 1);
	ck_assert_msg(strstr(err.data, "00000001.seg: corrupt record at offset 234"),
		      "%s", err.data);
	ck_assert_ptr_nonnull(strstr(err.data, "--salvage"));
	h_buf_free(&err);
	launch(&d, (const char *const[]){ "--salvage", NULL });
	c = h_connect(&d);
	ck_assert_uint_eq(info_of(c, "q").size, 5);
	for (i = 0; i < 5; i++) {
		snprintf(text, sizeof(text), "message-%d", i);
		expect_get(c, "q", text);
	}
	ipc_close(c);
	h_stop(&d);
}
END_TEST

/* --- crash loop --------------------------------------------------------------------- */

#define LOOP_Q "crash"

/* Connect to d's socket, retrying while the daemon restarts. */
static ipc_client *reconnect(const struct h_daemon *d)
{
	ipc_client *c = NULL;

	while (ipc_connect(d->sock, &c) != 0)
		usleep(2000);
	return c;
}

/* Append one 32-bit number to fd (a record for the parent). */
static void note(int fd, uint32_t v)
{
	if (write(fd, &v, sizeof(v)) != (ssize_t)sizeof(v))
		_exit(3);
}

/* The producer: numbered messages, one at a time and in batches of 8,
 * each number noted once its put succeeded. Never retries (so the order
 * of the successful ones is the order of the numbers). */
static void producer(const struct h_daemon *d, int fd)
{
	struct ipc_msg b[8];
	uint32_t seq = 0, v[8];
	ipc_client *c = reconnect(d);
	size_t n, i;

	for (;;) {
		if (seq % 3 == 0) {
			for (i = 0; i < 8; i++) {
				v[i] = seq + (uint32_t)i;
				b[i] = (struct ipc_msg){ &v[i], sizeof(v[i]) };
			}
			n = 0;
			if (ipc_queue_put_many(c, LOOP_Q, b, 8, &n, 1000) != 0)
				n = 0;
			for (i = 0; i < n; i++)
				note(fd, v[i]);
			if (n == 0) {
				ipc_close(c);
				c = reconnect(d);
			}
			seq += 8;
		} else {
			v[0] = seq;
			if (ipc_queue_put(c, LOOP_Q, &v[0], sizeof(v[0]), 1000) == 0) {
				note(fd, seq);
			} else {
				ipc_close(c);
				c = reconnect(d);
			}
			seq++;
		}
	}
}

/* The consumer: get with ack, note the number, then ack it and note the
 * ack (high bit set). */
static void consumer(const struct h_daemon *d, int fd)
{
	ipc_client *c = reconnect(d);
	uint64_t tag;
	uint32_t v;
	void *data;
	size_t len;
	int rc;

	for (;;) {
		rc = ipc_queue_get_ack(c, LOOP_Q, &data, &len, &tag, 100, 0);
		if (rc == IPC_EEMPTY)
			continue;
		if (rc != 0) {
			ipc_close(c);
			c = reconnect(d);
			continue;
		}
		memcpy(&v, data, sizeof(v));
		ipc_free(data);
		note(fd, v);
		if (ipc_queue_ack(c, LOOP_Q, tag) == 0)
			note(fd, v | 0x80000000u);
	}
}

/* Fork fn(d, fd of a new file at path). */
static pid_t spawn(const struct h_daemon *d, const char *path,
		   void (*fn)(const struct h_daemon *, int))
{
	int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_APPEND, 0600);
	pid_t pid;

	ck_assert_int_ge(fd, 0);
	pid = fork();
	ck_assert_int_ge(pid, 0);
	if (pid == 0) {
		fn(d, fd);
		_exit(0);
	}
	close(fd);
	return pid;
}

/* Read a file of 32-bit numbers: malloc'd, *n of them. */
static uint32_t *slurp_u32(const char *path, size_t *n)
{
	struct stat sb;
	uint32_t *v;
	int fd = open(path, O_RDONLY);

	ck_assert_int_ge(fd, 0);
	ck_assert_int_eq(fstat(fd, &sb), 0);
	v = malloc((size_t)sb.st_size + 4);
	ck_assert_int_eq(read(fd, v, (size_t)sb.st_size), sb.st_size);
	close(fd);
	*n = (size_t)sb.st_size / 4;
	return v;
}

/* The tallies of a crash loop. */
struct tally {
	size_t confirmed, delivered, lost, duplicated, reordered, acked_back;
};

/* Check the consumer's record (and the drained rest) against the
 * producer's confirmed puts. */
static struct tally tally(const uint32_t *put, size_t nput, const uint32_t *got,
			  size_t ngot, uint32_t top)
{
	unsigned char *seen = calloc(top + 1, 1);  /* bit 1 seen, bit 2 acked */
	struct tally t = { .confirmed = nput };
	uint32_t v, maxfirst = 0;
	size_t i;

	for (i = 0; i < ngot; i++) {
		v = got[i] & 0x7fffffffu;
		if (got[i] & 0x80000000u) {
			seen[v] |= 2;
			continue;
		}
		t.delivered++;
		if (seen[v] & 2)
			t.acked_back++;
		if (seen[v] & 1) {
			t.duplicated++;
			continue;
		}
		if (v < maxfirst)
			t.reordered++;
		maxfirst = v > maxfirst ? v : maxfirst;
		seen[v] |= 1;
	}
	for (i = 0; i < nput; i++)
		if (!(seen[put[i]] & 1))
			t.lost++;
	free(seen);
	return t;
}

/* Take every message left (after the producer and consumer are gone). */
static void drain(const struct h_daemon *d, const char *path)
{
	int fd = open(path, O_WRONLY | O_APPEND);
	ipc_client *c = h_connect(d);
	void *data;
	size_t len;
	uint32_t v;

	ck_assert_int_ge(fd, 0);
	while (ipc_queue_get(c, LOOP_Q, &data, &len, 0) == 0) {
		memcpy(&v, data, sizeof(v));
		ipc_free(data);
		note(fd, v);
	}
	ipc_close(c);
	close(fd);
}

/* SIGKILL ipcd at random moments, 50 times (CRASH_CYCLES), under a
 * producer (plain and batch puts) and an at-least-once consumer: every
 * confirmed put is delivered, no acked message comes back, order holds;
 * duplicates (unacked deliveries) are counted. */
START_TEST(test_crash_loop)
{
	const char *env = getenv("CRASH_CYCLES");
	int cycles = env ? atoi(env) : 50, i, st;
	unsigned seed = (unsigned)time(NULL);
	char ppath[200], cpath[200];
	uint32_t *put, *got, top = 0;
	size_t nput, ngot, k;
	struct h_daemon d;
	struct tally t;
	pid_t prod, cons;
	ipc_client *c;

	srand(seed);
	h_prepare(&d);
	snprintf(ppath, sizeof(ppath), "%s/put.log", d.dir);
	snprintf(cpath, sizeof(cpath), "%s/got.log", d.dir);
	launch(&d, NULL);
	c = h_connect(&d);
	mkq(c, LOOP_Q, IPC_QUEUE_DURABLE, 0, IPC_MODE_DEFAULT, 0);
	ipc_close(c);
	prod = spawn(&d, ppath, producer);
	cons = spawn(&d, cpath, consumer);
	for (i = 0; i < cycles; i++) {
		usleep(20000 + (useconds_t)(rand() % 100) * 1000);
		kill_keep(&d, SIGKILL);
		launch(&d, NULL);
	}
	usleep(50000);
	kill(prod, SIGKILL);
	kill(cons, SIGKILL);
	waitpid(prod, &st, 0);
	waitpid(cons, &st, 0);
	drain(&d, cpath);
	put = slurp_u32(ppath, &nput);
	got = slurp_u32(cpath, &ngot);
	h_stop(&d);
	for (k = 0; k < nput; k++)
		top = put[k] > top ? put[k] : top;
	for (k = 0; k < ngot; k++)
		top = (got[k] & 0x7fffffffu) > top ? got[k] & 0x7fffffffu : top;
	t = tally(put, nput, got, ngot, top);
	printf("crash loop (seed %u, %d SIGKILLs): %zu puts confirmed, %zu "
	       "deliveries, lost %zu, duplicated %zu, reordered %zu, acked and "
	       "back %zu\n", seed, cycles, t.confirmed, t.delivered, t.lost,
	       t.duplicated, t.reordered, t.acked_back);
	ck_assert_uint_gt(t.confirmed, 0);
	ck_assert_uint_eq(t.lost, 0);
	ck_assert_uint_eq(t.reordered, 0);
	ck_assert_uint_eq(t.acked_back, 0);
	free(put);
	free(got);
}
END_TEST

/* --- a full disk ------------------------------------------------------------------- */

/* The tmpfs test_disk_full mounted, for the exit of a failed test. */
static char disk_full_mount[200];

/* Detach the tmpfs when a failed assertion ends the test first. */
static void disk_full_unmount(void)
{
	if (disk_full_mount[0])
		umount2(disk_full_mount, MNT_DETACH);
}

/* The state directory on a 2 MiB tmpfs, mostly filled by another file:
 * puts (single, batch, async) get IPC_ENOSPC once it is full (ipcctl put
 * exits 7), everything acknowledged before survives a restart, and puts
 * work again once space is freed. */
START_TEST(test_disk_full)
{
	static char msg[1024];
	char fill[200];
	struct h_daemon d;
	struct h_buf err;
	struct ipc_msg batch[8];
	size_t nput = 99;
	ipc_client *c;
	int ok = 0, rc, i;
	FILE *f;

	if (geteuid() != 0) {
		printf("test_disk_full skipped: mounting a tmpfs needs root\n");
		return;
	}
	h_prepare(&d);
	ck_assert_int_eq(mkdir(d.state, 0700), 0);
	if (mount("tmpfs", d.state, "tmpfs", 0, "size=2m,mode=0700") != 0) {
		printf("test_disk_full skipped: mount: %s\n", strerror(errno));
		return;
	}
	snprintf(disk_full_mount, sizeof(disk_full_mount), "%s", d.state);
	atexit(disk_full_unmount);
	snprintf(fill, sizeof(fill), "%s/filler", d.state);
	f = fopen(fill, "wb");
	memset(msg, 'f', sizeof(msg));
	while (ftell(f) < 1536 * 1024 && fwrite(msg, 1, sizeof(msg), f) == sizeof(msg))
		;
	ck_assert_int_eq(fclose(f), 0);
	launch(&d, NULL);
	c = h_connect(&d);
	mkq(c, "q", IPC_QUEUE_DURABLE, 0, IPC_MODE_DEFAULT, 0);
	while ((rc = ipc_queue_put(c, "q", msg, sizeof(msg), 0)) == 0)
		ok++;
	ck_assert_int_eq(rc, IPC_ENOSPC);
	ck_assert_int_gt(ok, 10);
	/* ipcctl says so with exit status 7 and puts nothing. */
	ck_assert_int_eq(h_run_ipcctl(&d, msg, sizeof(msg), NULL, &err, "put",
				      "q", "-", NULL), 7);
	ck_assert_ptr_nonnull(strstr(err.data, "no space"));
	h_buf_free(&err);
	/* A batch and an async put are refused alike, nothing of them put. */
	for (i = 0; i < 8; i++)
		batch[i] = (struct ipc_msg){ msg, sizeof(msg) };
	ck_assert_int_eq(ipc_queue_put_many(c, "q", batch, 2, &nput, 0), IPC_ENOSPC);
	ck_assert_uint_eq(nput, 0);
	ck_assert_int_eq(ipc_queue_put_async(c, "q", msg, sizeof(msg), 0), 0);
	ck_assert_int_eq(ipc_flush(c), IPC_ENOSPC);
	ck_assert_uint_eq(info_of(c, "q").size, (unsigned long long)ok);
	/* Room for a few: a batch cut short by the full disk says so
	 * (IPC_ENOSPC, not IPC_EFULL), with the prefix that went in. */
	ck_assert_int_eq(truncate(fill, 1536 * 1024 - 4096), 0);
	ck_assert_int_eq(ipc_queue_put_many(c, "q", batch, 8, &nput, 0), IPC_ENOSPC);
	ck_assert_uint_gt(nput, 0);
	ck_assert_uint_lt(nput, 8);
	ok += (int)nput;
	ck_assert_uint_eq(info_of(c, "q").size, (unsigned long long)ok);
	ipc_close(c);
	kill_keep(&d, SIGKILL);
	launch(&d, NULL);
	c = h_connect(&d);
	ck_assert_uint_eq(info_of(c, "q").size, (unsigned long long)ok);
	ck_assert_int_eq(unlink(fill), 0);
	ck_assert_int_eq(ipc_queue_put(c, "q", msg, sizeof(msg), 0), 0);
	ipc_close(c);
	kill_keep(&d, SIGTERM);
	ck_assert_int_eq(umount(d.state), 0);
	disk_full_mount[0] = '\0';
	launch(&d, (const char *const[]){ "--state-dir", "", NULL });
	h_stop(&d);    /* removes the directory */
}
END_TEST

/* The suite. */
static Suite *durable_suite(void)
{
	Suite *s = suite_create("durable");

	h_add_case(s, "restart_sigterm", test_restart_sigterm, 60);
	h_add_case(s, "restart_sigkill", test_restart_sigkill, 60);
	h_add_case(s, "held_not_delivered_after_restart",
		   test_held_not_delivered_after_restart, 60);
	h_add_case(s, "refused_park_not_journaled", test_refused_park_not_journaled, 60);
	h_add_case(s, "sync_modes", test_sync_modes, 60);
	h_add_case(s, "async_batch_durable", test_async_batch_durable, 60);
	h_add_case(s, "always_reply_after_sync", test_always_reply_after_sync, 60);
	h_add_case(s, "off_mismatch_delete", test_off_mismatch_delete, 60);
	h_add_case(s, "unopenable_state_dir", test_unopenable_state_dir, 60);
	h_add_case(s, "ipcctl_durable", test_ipcctl_durable, 60);
	h_add_case(s, "corrupt_refuses_salvage", test_corrupt_refuses_salvage, 60);
	h_add_case(s, "crash_loop", test_crash_loop, 240);
	h_add_case(s, "disk_full", test_disk_full, 60);
	h_add_case(s, "admin_durable", test_admin_durable, 60);
	return s;
}

/* Run the suite. */
int main(void)
{
	return h_run_suite(durable_suite());
}
