/* SPDX-License-Identifier: MIT */
/*
 * check_config.c: the ipcd.conf parser, key = value settings and the
 * file-like access checks (daemon/conf.c, daemon/core/access.c), without a
 * daemon or a socket.
 */
#include <check.h>
#include <grp.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "../daemon/conf.h"
#include "../daemon/shmem.h"
#include "access.h"
#include "ipc_defs.h"
#include "log.h"

/* Parse text into a fresh default config; returns config_parse's result. */
static int parse(struct config *c, const char *text, char *err, size_t len)
{
	config_defaults(c);
	err[0] = '\0';
	return config_parse(c, text, strlen(text), err, len);
}

/* Assert text fails to parse with an error containing want. */
static void parse_fails(const char *text, const char *want)
{
	struct config c;
	char err[512];

	ck_assert_int_eq(parse(&c, text, err, sizeof(err)), -1);
	ck_assert_msg(strstr(err, want) != NULL, "error '%s' lacks '%s' for:\n%s",
		      err, want, text);
}

START_TEST(test_defaults)
{
	struct config c;
	char v[128];

	config_defaults(&c);
	ck_assert_str_eq(c.socket_path, "");
	ck_assert_uint_eq(c.socket_mode, 0600);
	ck_assert_str_eq(c.socket_group, "");
	ck_assert_int_eq(c.log_level, LOG_INFO);
	ck_assert_uint_eq(c.max_message, IPC_MSG_MAX);
	ck_assert_uint_eq(c.max_bytes, (size_t)1 << 30);
	ck_assert_uint_eq(c.max_queues, 65536);
	ck_assert_uint_eq(c.max_connections, 1024);
	ck_assert_uint_eq(c.max_output, (size_t)8 << 20);
	ck_assert_uint_eq(c.max_partial, (size_t)64 << 20);
	ck_assert_uint_eq(c.frame_timeout, 30);
	ck_assert_uint_eq(c.default_mode, 0660);
	ck_assert_uint_eq(c.busy_poll, 50);
	ck_assert_uint_eq(c.reserved_conns, 3);
	ck_assert_uint_eq(c.max_parked, 65536);
	ck_assert_uint_eq(c.uid_conns.pct, 25);
	ck_assert_int_eq(config_format(&c, "default-mode", v, sizeof(v)), 0);
	ck_assert_str_eq(v, "0660");
	ck_assert_int_eq(config_format(&c, "log-level", v, sizeof(v)), 0);
	ck_assert_str_eq(v, "info");
	ck_assert_int_eq(config_format(&c, "nope", v, sizeof(v)), -1);
	/* An empty text and comments only change nothing. */
	ck_assert_int_eq(parse(&c, "", v, sizeof(v)), 0);
	ck_assert_int_eq(parse(&c, "\n# comment\n   \n\t# x = y\n", v, sizeof(v)), 0);
	ck_assert_uint_eq(c.max_queues, 65536);
}
END_TEST

START_TEST(test_every_key)
{
	static const char text[] =
		"# a full file\n"
		"socket = /run/x/ipcd.sock\n"
		"  socket-mode=0660  \n"
		"socket-group = ipcd\n"
		"log-level = debug\r\n"
		"max-message-size = 64K\n"
		"max-bytes = 2G\n"
		"max-queues = 10\n"
		"max-connections = 3\n"
		"max-output = 1M\n"
		"default-mode = 640\n"
		"busy-poll = 0\n";
	struct config c;
	char err[256];

	ck_assert_int_eq(parse(&c, text, err, sizeof(err)), 0);
	ck_assert_str_eq(c.socket_path, "/run/x/ipcd.sock");
	ck_assert_uint_eq(c.socket_mode, 0660);
	ck_assert_str_eq(c.socket_group, "ipcd");
	ck_assert_int_eq(c.log_level, LOG_DEBUG);
	ck_assert_uint_eq(c.max_message, 65536);
	ck_assert_uint_eq(c.max_bytes, (size_t)2 << 30);
	ck_assert_uint_eq(c.max_queues, 10);
	ck_assert_uint_eq(c.max_connections, 3);
	ck_assert_uint_eq(c.max_output, 1 << 20);
	ck_assert_uint_eq(c.default_mode, 0640);
	ck_assert_uint_eq(c.busy_poll, 0);
	/* The last of a repeated key wins; no newline at the end is fine. */
	ck_assert_int_eq(parse(&c, "max-queues = 5\nmax-queues = 7", err,
			       sizeof(err)), 0);
	ck_assert_uint_eq(c.max_queues, 7);
	/* '=' inside the value is part of it. */
	ck_assert_int_eq(parse(&c, "socket = /tmp/a=b", err, sizeof(err)), 0);
	ck_assert_str_eq(c.socket_path, "/tmp/a=b");
}
END_TEST

/* The memfd keys: defaults, sizes with suffixes, 0 allowed where it
 * means "never", sizes capped at what the wire's u32 carries. */
START_TEST(test_memfd_keys)
{
	struct config c;
	char err[512];

	config_defaults(&c);
	ck_assert_uint_eq(c.memfd_threshold, (1u << 20) + 1);  /* past the inline limit */
	ck_assert_uint_eq(c.max_memfd_size, 64u << 20);
	ck_assert_uint_eq(c.max_memfds, 4096);
	ck_assert_int_eq(parse(&c, "memfd-threshold = 16K\nmax-memfd-size = 1G\n"
			       "max-memfds = 0\n", err, sizeof(err)), 0);
	ck_assert_uint_eq(c.memfd_threshold, 16384);
	ck_assert_uint_eq(c.max_memfd_size, 1u << 30);
	ck_assert_uint_eq(c.max_memfds, 0);
	ck_assert_int_eq(parse(&c, "memfd-threshold = 0\n", err, sizeof(err)), 0);
	ck_assert_uint_eq(c.memfd_threshold, 0);
	parse_fails("max-memfd-size = 4G\n", "out of range");
	parse_fails("max-memfd-size = 0\n", "out of range");
	parse_fails("memfd-threshold = 4G\n", "out of range");
}
END_TEST

/* A fake transparent_hugepage directory: the top-level shmem_enabled
 * policy top, then "KB=policy" per-size ones (NULL-ended); its path in
 * dir (a mkdtemp template). */
static void fake_thp(char *dir, const char *top, const char *const *sizes)
{
	char path[256], sub[64];
	FILE *f;

	ck_assert_ptr_nonnull(mkdtemp(dir));
	snprintf(path, sizeof(path), "%s/shmem_enabled", dir);
	ck_assert_ptr_nonnull(f = fopen(path, "w"));
	fprintf(f, "always within_size advise [%s] deny force\n", top);
	fclose(f);
	for (; *sizes != NULL; sizes++) {
		snprintf(sub, sizeof(sub), "%.*s", (int)strcspn(*sizes, "="), *sizes);
		snprintf(path, sizeof(path), "%s/hugepages-%skB", dir, sub);
		ck_assert_int_eq(mkdir(path, 0700), 0);
		strcat(path, "/shmem_enabled");
		ck_assert_ptr_nonnull(f = fopen(path, "w"));
		fprintf(f, "always inherit within_size advise never [%s]\n",
			strchr(*sizes, '=') + 1);
		fclose(f);
	}
}

/* Remove what fake_thp made. */
static void fake_thp_rm(const char *dir)
{
	char cmd[300];

	snprintf(cmd, sizeof(cmd), "rm -rf '%s'", dir);
	ck_assert_int_eq(system(cmd), 0);
}

/* The memfd-threshold default follows the kernel's shmem policy: no
 * large folios (this machine's never, a deny, "advise", folios under
 * 64 KiB, no directory) keep the built-in one; a folio size S with
 * "within_size" serves payloads from S up, with "always" from S / 2 up,
 * never under 256 KiB; "inherit" takes the top-level policy. */
START_TEST(test_memfd_threshold_shmem)
{
	static const struct {
		const char *top, *sizes[4];
		size_t want;
	} cases[] = {
		{ "never", { "2048=inherit", "1024=never", NULL }, 0 },
		{ "within_size", { "2048=inherit", "64=never", NULL }, 2048u << 10 },
		{ "always", { "2048=inherit", NULL }, 1024u << 10 },
		{ "never", { "2048=inherit", "1024=within_size", NULL }, 1024u << 10 },
		{ "never", { "64=always", "2048=never", NULL }, 256u << 10 },
		{ "never", { "16=always", "32=within_size", "2048=advise", NULL }, 0 },
		{ "deny", { "64=always", NULL }, 0 },
		{ "force", { "2048=never", NULL }, 1024u << 10 },
		{ "within_size", { NULL }, 2048u << 10 },   /* no per-size files */
	};
	struct config c;
	char dir[64];
	size_t i;

	for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		strcpy(dir, "/tmp/check_config_thp.XXXXXX");
		fake_thp(dir, cases[i].top, cases[i].sizes);
		ck_assert_msg(shmem_memfd_threshold(dir) == cases[i].want,
			      "case %zu: %zu, want %zu", i, shmem_memfd_threshold(dir),
			      cases[i].want);
		fake_thp_rm(dir);
	}
	ck_assert_uint_eq(shmem_memfd_threshold("/nonexistent/thp"), 0);
	config_memfd_default(SHMEM_THRESHOLD_FOLIOS);
	config_defaults(&c);
	ck_assert_uint_eq(c.memfd_threshold, 256u << 10);
	config_memfd_default(2u << 20);      /* past the built-in one: that */
	config_defaults(&c);
	ck_assert_uint_eq(c.memfd_threshold, (1u << 20) + 1);
	config_memfd_default(SHMEM_THRESHOLD_FOLIOS);
	config_memfd_default(0);
	config_defaults(&c);
	ck_assert_uint_eq(c.memfd_threshold, (1u << 20) + 1);
}
END_TEST

/* The durability keys: state-dir (empty turns it off), sync, sync-interval. */
START_TEST(test_durability_keys)
{
	struct config c;
	char err[512], v[300];

	config_defaults(&c);
	ck_assert_int_eq(c.sync, CONFIG_SYNC_ALWAYS);
	ck_assert_uint_eq(c.sync_interval, 100);
	ck_assert_int_eq(config_format(&c, "sync", v, sizeof(v)), 0);
	ck_assert_str_eq(v, "always");
	ck_assert_int_eq(parse(&c, "state-dir = /srv/ipcd\nsync = interval\n"
			       "sync-interval = 250\n", err, sizeof(err)), 0);
	ck_assert_str_eq(c.state_dir, "/srv/ipcd");
	ck_assert_int_eq(c.sync, CONFIG_SYNC_INTERVAL);
	ck_assert_uint_eq(c.sync_interval, 250);
	ck_assert_int_eq(parse(&c, "state-dir =\nsync = none\n", err,
			       sizeof(err)), 0);
	ck_assert_str_eq(c.state_dir, "");
	ck_assert_int_eq(c.sync, CONFIG_SYNC_NONE);
	/* The default: systemd's StateDirectory=, else root's /var/lib/ipcd,
	 * else the user's XDG state directory. */
	setenv("STATE_DIRECTORY", "/var/lib/ipcd-unit:/other", 1);
	config_defaults(&c);
	ck_assert_str_eq(c.state_dir, "/var/lib/ipcd-unit");
	unsetenv("STATE_DIRECTORY");
	config_defaults(&c);
	if (geteuid() == 0) {
		ck_assert_str_eq(c.state_dir, "/var/lib/ipcd");
	} else {
		setenv("XDG_STATE_HOME", "/home/x/.st", 1);
		config_defaults(&c);
		ck_assert_str_eq(c.state_dir, "/home/x/.st/ipcd");
	}
}
END_TEST

START_TEST(test_errors)
{
	parse_fails("max-queues = 5\nfrobnicate = 1\n", "line 2: unknown key 'frobnicate'");
	parse_fails("\n\njust words\n", "line 3: expected 'key = value'");
	parse_fails("= 5\n", "line 1: missing key");
	parse_fails("max-bytes =\n", "line 1: missing value for max-bytes");
	parse_fails("log-level =\n", "line 1: missing value for log-level");
	parse_fails("max-bytes = lots\n", "max-bytes: 'lots' is not a size");
	parse_fails("max-bytes = 5T\n", "not a size");
	parse_fails("max-bytes = -1\n", "not a size");
	parse_fails("max-bytes = 0\n", "out of range");
	parse_fails("max-bytes = 99999999999999999999999\n", "not a size");
	parse_fails("max-queues = 1K\n", "max-queues: '1K' is not a number");
	parse_fails("max-connections = 0\n", "out of range");
	parse_fails("max-message-size = 1048577\n", "out of range");
	parse_fails("max-output = 100\n", "out of range");
	parse_fails("max-partial-bytes = 100\n", "out of range");
	parse_fails("frame-timeout = 0\n", "out of range");
	parse_fails("frame-timeout = 1K\n", "not a number");
	parse_fails("busy-poll = 1001\n", "out of range");
	parse_fails("busy-poll = 1K\n", "not a number");
	parse_fails("socket-mode = 0800\n", "not an octal mode");
	parse_fails("socket-mode = 01777\n", "not an octal mode");
	parse_fails("default-mode = rw\n", "not an octal mode");
	parse_fails("state-dir = var/lib\n", "not an absolute path");
	parse_fails("sync = sometimes\n", "not one of always, interval, none");
	parse_fails("sync =\n", "missing value for sync");
	parse_fails("sync-interval = 0\n", "out of range");
	parse_fails("sync-interval = 60001\n", "out of range");
	parse_fails("log-level = loud\n", "not one of error, warning, info, debug");
	parse_fails("socket = relative/path\n", "not an absolute path");
	{
		char longline[CONFIG_LINE_MAX + 40];

		memset(longline, 'a', sizeof(longline) - 1);
		longline[sizeof(longline) - 1] = '\0';
		memcpy(longline, "socket = /", 10);
		parse_fails(longline, "line 1: line longer than");
	}
	{
		char path[CONFIG_PATH_MAX + 16] = "socket = /";

		memset(path + 10, 'p', CONFIG_PATH_MAX);
		path[10 + CONFIG_PATH_MAX] = '\0';
		parse_fails(path, "longer than");
	}
}
END_TEST

START_TEST(test_nul_byte)
{
	static const char text[] = "max-queues = 5\0junk\n";
	struct config c;
	char err[256];

	config_defaults(&c);
	ck_assert_int_eq(config_parse(&c, text, sizeof(text) - 1, err,
				      sizeof(err)), -1);
	ck_assert_ptr_nonnull(strstr(err, "line 1: NUL byte"));
}
END_TEST

/* config_set sets one key from its text; an unknown key says so;
 * config_known knows the keys' spelling. */
START_TEST(test_config_set)
{
	struct config c;
	char err[256];

	config_defaults(&c);
	ck_assert_int_eq(config_set(&c, "max-bytes", "3M", err, sizeof(err)), 0);
	ck_assert_uint_eq(c.max_bytes, 3u << 20);
	ck_assert_int_eq(config_set(&c, "nope", "1", err, sizeof(err)), -1);
	ck_assert_str_eq(err, "unknown key 'nope'");
	ck_assert_int_eq(config_known("max-output"), 1);
	ck_assert_int_eq(config_known("max_output"), 0);
}
END_TEST

/* Write text to a new temporary file; its name into path (a mkstemp
 * template). */
static void temp_conf(char *path, const char *text)
{
	int fd = mkstemp(path);
	FILE *f;

	ck_assert_int_ge(fd, 0);
	f = fdopen(fd, "w");
	fputs(text, f);
	fclose(f);
}

/* config_build: flags win over the file, the file over the defaults; a
 * bad flag says so. */
START_TEST(test_build_precedence)
{
	struct config_override ov[] = {
		{ "max-queues", "9" }, { "log-level", "warning" },
	};
	struct config c;
	char err[256], path[] = "/tmp/check_config.XXXXXX";

	temp_conf(path, "max-queues = 4\nmax-connections = 2\n");
	ck_assert_int_eq(config_build(&c, path, 0, ov, 2, err, sizeof(err)), 0);
	ck_assert_uint_eq(c.max_queues, 9);
	ck_assert_uint_eq(c.max_connections, 2);
	ck_assert_int_eq(c.log_level, LOG_WARN);
	ck_assert_uint_eq(c.max_output, (size_t)8 << 20);
	/* A bad flag says so. */
	ov[0].value = "many";
	ck_assert_int_eq(config_build(&c, path, 0, ov, 1, err, sizeof(err)), -1);
	ck_assert_ptr_nonnull(strstr(err, "command line: max-queues"));
	unlink(path);
}
END_TEST

/* config_build: a bad file names itself and the line; a missing file is
 * fine when optional, an error when asked for. */
START_TEST(test_build_bad_or_missing_file)
{
	struct config c;
	char err[256], path[] = "/tmp/check_config.XXXXXX";

	temp_conf(path, "max-queues = 4\nmax-queues 5\n");
	ck_assert_int_eq(config_build(&c, path, 1, NULL, 0, err, sizeof(err)), -1);
	ck_assert_ptr_nonnull(strstr(err, path));
	ck_assert_ptr_nonnull(strstr(err, "line 2"));
	unlink(path);
	ck_assert_int_eq(config_load(&c, path, 1, err, sizeof(err)), 1);
	ck_assert_int_eq(config_build(&c, path, 1, NULL, 0, err, sizeof(err)), 0);
	ck_assert_int_eq(config_build(&c, path, 0, NULL, 0, err, sizeof(err)), -1);
	ck_assert_ptr_nonnull(strstr(err, "No such file"));
}
END_TEST

/* Collects config_each calls. */
struct diff {
	char keys[512];
	int n, reloadable;
};

/* config_each callback: note the key and whether it reloads. */
static void diff_one(const char *key, int reloadable, const char *va,
		     const char *vb, void *arg)
{
	struct diff *d = arg;

	(void)va;
	(void)vb;
	strcat(d->keys, key);
	strcat(d->keys, " ");
	d->n++;
	d->reloadable += reloadable;
}

START_TEST(test_diff)
{
	struct config a, b;
	struct diff d = { "", 0, 0 };

	config_defaults(&a);
	b = a;
	config_each(&a, &b, diff_one, &d);
	ck_assert_int_eq(d.n, 0);
	b.max_bytes = 5;
	b.log_level = LOG_DEBUG;
	b.socket_mode = 0666;
	config_each(&a, &b, diff_one, &d);
	ck_assert_str_eq(d.keys, "socket-mode log-level max-bytes ");
	ck_assert_int_eq(d.reloadable, 2);
	memset(&d, 0, sizeof(d));
	config_each(&a, NULL, diff_one, &d);
	ck_assert_int_eq(d.n, 26);
}
END_TEST

/* The per-uid limits: a share of the global limit or a number (a size
 * for uid-max-bytes), read back as given; reserved-connections and
 * max-parked are plain counts. */
START_TEST(test_quota_keys)
{
	struct config c;
	char err[256], v[64];

	config_defaults(&c);
	ck_assert_uint_eq(c.reserved_conns, 3);
	ck_assert_uint_eq(c.max_parked, 65536);
	ck_assert_int_eq(config_format(&c, "uid-max-bytes", v, sizeof(v)), 0);
	ck_assert_str_eq(v, "25%");
	ck_assert_uint_eq(config_quota_limit(&c.uid_conns, 1024), 256);
	ck_assert_uint_eq(config_quota_limit(&c.uid_bytes, (size_t)1 << 30),
			  (size_t)1 << 28);
	ck_assert_uint_eq(config_quota_limit(&c.uid_parked, 3), 1);
	ck_assert_int_eq(parse(&c, "uid-max-connections = 10\n"
			       "uid-max-bytes = 4M\nuid-max-queues = 100%\n"
			       "uid-max-parked = 1%\nreserved-connections = 0\n"
			       "max-parked = 7\n", err, sizeof(err)), 0);
	ck_assert_uint_eq(config_quota_limit(&c.uid_conns, 1024), 10);
	ck_assert_uint_eq(config_quota_limit(&c.uid_bytes, 1), (size_t)4 << 20);
	ck_assert_uint_eq(config_quota_limit(&c.uid_queues, 65536), 65536);
	ck_assert_uint_eq(config_quota_limit(&c.uid_parked, 65536), 655);
	ck_assert_uint_eq(c.reserved_conns, 0);
	ck_assert_uint_eq(c.max_parked, 7);
	ck_assert_int_eq(config_format(&c, "uid-max-bytes", v, sizeof(v)), 0);
	ck_assert_str_eq(v, "4194304");
	ck_assert_int_eq(config_format(&c, "uid-max-queues", v, sizeof(v)), 0);
	ck_assert_str_eq(v, "100%");
	parse_fails("uid-max-queues = 0%\n", "share of 1% to 100%");
	parse_fails("uid-max-queues = 101%\n", "share of 1% to 100%");
	parse_fails("uid-max-queues = x%\n", "share of 1% to 100%");
	parse_fails("uid-max-connections = 2K\n", "not a number");
	parse_fails("uid-max-parked = 0\n", "out of range");
	parse_fails("max-parked = 0\n", "out of range");
}
END_TEST

/* Append "key = value\n" to the text in arg (config_each callback). */
static void print_one(const char *key, int reloadable, const char *va,
		      const char *vb, void *arg)
{
	char *text = arg;
	size_t used = strlen(text);

	(void)reloadable;
	(void)vb;
	snprintf(text + used, 4096 - used, "%s = %s\n", key, va);
}

/* Every key printed as ipcd --check-config prints it reads back to the
 * same settings, an unset socket-group ("socket-group = ") included. */
START_TEST(test_print_reads_back)
{
	struct config a, b;
	char text[4096] = "", again[4096] = "", err[256];

	config_defaults(&a);
	ck_assert_int_eq(config_set(&a, "max-bytes", "3M", err, sizeof(err)), 0);
	ck_assert_int_eq(config_set(&a, "log-level", "debug", err, sizeof(err)), 0);
	config_each(&a, NULL, print_one, text);
	ck_assert_ptr_nonnull(strstr(text, "socket-group = \n"));
	ck_assert_msg(parse(&b, text, err, sizeof(err)) == 0, "%s: %s", err, text);
	config_each(&b, NULL, print_one, again);
	ck_assert_str_eq(again, text);
	/* An empty value resets socket and socket-group to the default. */
	ck_assert_int_eq(parse(&b, "socket-group = users\nsocket = /tmp/s\n"
			       "socket-group =\nsocket =\n", err, sizeof(err)), 0);
	ck_assert_str_eq(b.socket_group, "");
	ck_assert_str_eq(b.socket_path, "");
}
END_TEST

/* Parse the three create-prefix rules of the create-prefix tests into c. */
static void parse_three_rules(struct config *c)
{
	char err[256];

	ck_assert_msg(parse(c, "create-prefix = svc. root,gid:7\n"
			    "create-prefix = svc.public. any\n"
			    "create-prefix=u.  uid:5,user:root,group:root\n",
			    err, sizeof(err)) == 0, "%s", err);
}

/* create-prefix: each line adds a rule, the longest prefix decides, root
 * and the listed principals are admitted. */
START_TEST(test_create_prefix)
{
	const gid_t sup[] = { 7 };
	const struct access_cred nobody = { 65534, 65534, NULL, 0 },
		in_group = { 1000, 1000, sup, 1 }, rootc = { 0, 0, NULL, 0 },
		uid5 = { 5, 5, NULL, 0 };
	const struct access_rule *r;
	struct config c;

	parse_three_rules(&c);
	ck_assert_uint_eq(c.ncreate_rules, 3);
	ck_assert_str_eq(c.create_rules[2].who_text, "uid:5,user:root,group:root");
	r = access_rule_match(c.create_rules, c.ncreate_rules, "svc.public.x");
	ck_assert_str_eq(r->prefix, "svc.public.");
	ck_assert_int_eq(access_rule_admits(r, &nobody), 0);
	r = access_rule_match(c.create_rules, c.ncreate_rules, "svc.jobs");
	ck_assert_str_eq(r->prefix, "svc.");
	ck_assert_int_eq(access_rule_admits(r, &nobody), IPC_EPERM);
	ck_assert_int_eq(access_rule_admits(r, &in_group), 0);
	ck_assert_int_eq(access_rule_admits(r, &rootc), 0);
	r = access_rule_match(c.create_rules, c.ncreate_rules, "u.x");
	ck_assert_int_eq(access_rule_admits(r, &uid5), 0);
	ck_assert_ptr_null(access_rule_match(c.create_rules, c.ncreate_rules, "svcx"));
}
END_TEST

/* create-prefix rules print back one per line (--check-config), in a
 * form that reads back the same. */
START_TEST(test_create_prefix_prints_back)
{
	char text[4096] = "", again[4096] = "", err[256];
	struct config c, b;

	parse_three_rules(&c);
	config_each(&c, NULL, print_one, text);
	ck_assert_ptr_nonnull(strstr(text, "create-prefix = svc. root,gid:7\n"
				     "create-prefix = svc.public. any\n"));
	ck_assert_msg(parse(&b, text, err, sizeof(err)) == 0, "%s", err);
	config_each(&b, NULL, print_one, again);
	ck_assert_str_eq(again, text);
}
END_TEST

/* An empty create-prefix clears the rules before it (a flag
 * --create-prefix '' drops the file's rules). */
START_TEST(test_create_prefix_clear)
{
	char err[256];
	struct config c;

	ck_assert_int_eq(parse(&c, "create-prefix = a. any\ncreate-prefix =\n"
			       "create-prefix = b. any\n", err, sizeof(err)), 0);
	ck_assert_uint_eq(c.ncreate_rules, 1);
	ck_assert_str_eq(c.create_rules[0].prefix, "b.");
}
END_TEST

/* Every create-prefix mistake is refused with its reason. */
START_TEST(test_create_prefix_errors)
{
	char many[4096] = "";

	parse_fails("create-prefix = a. any\ncreate-prefix = a. root\n",
		    "line 2: create-prefix: 'a.' has a rule already");
	parse_fails("create-prefix = a.\n", "lists nobody");
	parse_fails("create-prefix = .a any\n", "not the start of a name");
	parse_fails("create-prefix = a/b any\n", "not the start of a name");
	parse_fails("create-prefix = a. wheel\n", "'wheel' is not root, any");
	parse_fails("create-prefix = a. root,,any\n", "is not a list");
	parse_fails("create-prefix = a. root, any\n", "is not a list");
	parse_fails("create-prefix = a. uid:x\n", "not a decimal id");
	parse_fails("create-prefix = a. gid:4294967295\n", "not a decimal id");
	parse_fails("create-prefix = a. user:no-such-user-here\n", "no such user");
	parse_fails("create-prefix = a. uid:1,uid:2,uid:3,uid:4,uid:5,uid:6,"
		    "uid:7,uid:8,uid:9\n", "more than 8 principals");
	for (int i = 0; i <= CONFIG_RULES_MAX; i++)
		snprintf(many + strlen(many), sizeof(many) - strlen(many),
			 "create-prefix = p%d. any\n", i);
	parse_fails(many, "more than 32 rules");
}
END_TEST

/* The built-in per-user rule's names: u.UID. with a canonical uid. */
START_TEST(test_user_prefix_names)
{
	uid_t uid = 1;

	ck_assert_int_eq(access_user_prefix("u.1000.jobs", &uid), 1);
	ck_assert_uint_eq(uid, 1000);
	ck_assert_int_eq(access_user_prefix("u.0.x", &uid), 1);
	ck_assert_uint_eq(uid, 0);
	ck_assert_int_eq(access_user_prefix("u.4294967294.x", &uid), 1);
	ck_assert_int_eq(access_user_prefix("u.4294967295.x", &uid), 0);
	ck_assert_int_eq(access_user_prefix("u.99999999999999999999.x", &uid), 0);
	ck_assert_int_eq(access_user_prefix("u.01.x", &uid), 0);
	ck_assert_int_eq(access_user_prefix("u.1000", &uid), 0);
	ck_assert_int_eq(access_user_prefix("u..x", &uid), 0);
	ck_assert_int_eq(access_user_prefix("u.x.1", &uid), 0);
	ck_assert_int_eq(access_user_prefix("x.1000.y", &uid), 0);
}
END_TEST

/* config_check refuses what the daemon would refuse at start. */
START_TEST(test_check_group)
{
	struct group *gr = getgrgid(getgid());
	struct config c;
	char err[256] = "";

	ck_assert_ptr_nonnull(gr);
	config_defaults(&c);
	ck_assert_int_eq(config_check(&c, err, sizeof(err)), 0);
	snprintf(c.socket_group, sizeof(c.socket_group), "%s", gr->gr_name);
	ck_assert_int_eq(config_check(&c, err, sizeof(err)), 0);
	snprintf(c.socket_group, sizeof(c.socket_group), "no-such-group-ipcd");
	ck_assert_int_eq(config_check(&c, err, sizeof(err)), -1);
	ck_assert_str_eq(err, "socket-group: no group 'no-such-group-ipcd'");
}
END_TEST

START_TEST(test_access_owner)
{
	struct access_cred alice = { 1000, 1000, NULL, 0 };
	struct access_cred root = { 0, 0, NULL, 0 };
	struct access_owner o;

	access_owner_init(&o, &alice, 0640 | 01000);
	ck_assert_uint_eq(o.uid, 1000);
	ck_assert_uint_eq(o.gid, 1000);
	ck_assert_uint_eq(o.mode, 0640);
	ck_assert_int_eq(access_check(&o, &alice, ACCESS_READ), 0);
	ck_assert_int_eq(access_check(&o, &alice, ACCESS_WRITE), 0);
	ck_assert_int_eq(access_check(&o, &alice, ACCESS_READ | ACCESS_WRITE), 0);
	/* The owner gets the owner bits only, even when others get more. */
	o.mode = 0066;
	ck_assert_int_eq(access_check(&o, &alice, ACCESS_READ), IPC_EPERM);
	ck_assert_int_eq(access_check_any(&o, &alice), IPC_EPERM);
	ck_assert_int_eq(access_check_owner(&o, &alice), 0);
	/* Root passes everything, even mode 0. */
	o.mode = 0;
	ck_assert_int_eq(access_check(&o, &root, ACCESS_READ | ACCESS_WRITE), 0);
	ck_assert_int_eq(access_check_any(&o, &root), 0);
	ck_assert_int_eq(access_check_owner(&o, &root), 0);
}
END_TEST

START_TEST(test_access_group_other)
{
	gid_t bob_groups[] = { 50, 1000, 70 };
	struct access_cred alice = { 1000, 1000, NULL, 0 };
	struct access_cred bob = { 1001, 1001, bob_groups, 3 };   /* in 1000 */
	struct access_cred carol = { 1002, 1002, NULL, 0 };       /* other */
	struct access_cred dave = { 1003, 1000, NULL, 0 };        /* primary 1000 */
	struct access_owner o;

	access_owner_init(&o, &alice, 0640);
	ck_assert_int_eq(access_check(&o, &bob, ACCESS_READ), 0);
	ck_assert_int_eq(access_check(&o, &bob, ACCESS_WRITE), IPC_EPERM);
	ck_assert_int_eq(access_check(&o, &dave, ACCESS_READ), 0);
	ck_assert_int_eq(access_check(&o, &dave, ACCESS_WRITE), IPC_EPERM);
	ck_assert_int_eq(access_check(&o, &carol, ACCESS_READ), IPC_EPERM);
	ck_assert_int_eq(access_check_any(&o, &carol), IPC_EPERM);
	ck_assert_int_eq(access_check_any(&o, &bob), 0);
	ck_assert_int_eq(access_check_owner(&o, &bob), IPC_EPERM);
	/* Write-only for others: put but not get. */
	o.mode = 0602;
	ck_assert_int_eq(access_check(&o, &carol, ACCESS_WRITE), 0);
	ck_assert_int_eq(access_check(&o, &carol, ACCESS_READ), IPC_EPERM);
	ck_assert_int_eq(access_check(&o, &carol, ACCESS_READ | ACCESS_WRITE),
			 IPC_EPERM);
	/* A group member gets the group bits even when others get more. */
	o.mode = 0606;
	ck_assert_int_eq(access_check_any(&o, &bob), IPC_EPERM);
	ck_assert_int_eq(access_check(&o, &carol, ACCESS_READ), 0);
	/* Execute bits mean nothing. */
	o.mode = 0111;
	ck_assert_int_eq(access_check_any(&o, &carol), IPC_EPERM);
}
END_TEST

START_TEST(test_parse_mode)
{
	unsigned m = 12345;

	ck_assert_int_eq(access_parse_mode("0640", &m), 0);
	ck_assert_uint_eq(m, 0640);
	ck_assert_int_eq(access_parse_mode("777", &m), 0);
	ck_assert_uint_eq(m, 0777);
	ck_assert_int_eq(access_parse_mode("0", &m), 0);
	ck_assert_uint_eq(m, 0);
	ck_assert_int_eq(access_parse_mode("1000", &m), -1);
	ck_assert_int_eq(access_parse_mode("08", &m), -1);
	ck_assert_int_eq(access_parse_mode("-1", &m), -1);
	ck_assert_int_eq(access_parse_mode(" 644", &m), -1);
	ck_assert_int_eq(access_parse_mode("644x", &m), -1);
	ck_assert_int_eq(access_parse_mode("", &m), -1);
	ck_assert_uint_eq(m, 0);
}
END_TEST

/* The whole suite. */
static Suite *config_suite(void)
{
	Suite *s = suite_create("config");
	TCase *tc = tcase_create("config");

	tcase_add_test(tc, test_defaults);
	tcase_add_test(tc, test_every_key);
	tcase_add_test(tc, test_errors);
	tcase_add_test(tc, test_durability_keys);
	tcase_add_test(tc, test_memfd_keys);
	tcase_add_test(tc, test_memfd_threshold_shmem);
	tcase_add_test(tc, test_nul_byte);
	tcase_add_test(tc, test_config_set);
	tcase_add_test(tc, test_build_precedence);
	tcase_add_test(tc, test_build_bad_or_missing_file);
	tcase_add_test(tc, test_diff);
	tcase_add_test(tc, test_quota_keys);
	tcase_add_test(tc, test_print_reads_back);
	tcase_add_test(tc, test_create_prefix);
	tcase_add_test(tc, test_create_prefix_prints_back);
	tcase_add_test(tc, test_create_prefix_clear);
	tcase_add_test(tc, test_create_prefix_errors);
	tcase_add_test(tc, test_user_prefix_names);
	tcase_add_test(tc, test_check_group);
	suite_add_tcase(s, tc);
	tc = tcase_create("access");
	tcase_add_test(tc, test_access_owner);
	tcase_add_test(tc, test_access_group_other);
	tcase_add_test(tc, test_parse_mode);
	suite_add_tcase(s, tc);
	return s;
}

int main(void)
{
	SRunner *sr = srunner_create(config_suite());
	int failed;

	srunner_run_all(sr, CK_NORMAL);
	failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed ? 1 : 0;
}
