/* SPDX-License-Identifier: MIT */
/* main.c: ipcd's command line and configuration. */
#include <errno.h>
#include <getopt.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "conf.h"
#include "conn.h"
#include "ipc_defs.h"
#include "log.h"
#include "memfd.h"
#include "qmsg.h"
#include "server.h"
#include "shmem.h"

#define DEFAULT_SOCKET "/run/ipcd/ipcd.sock"

/* Long options without a short form. */
enum {
	OPT_CHECK = 256,
	OPT_KEY,       /* any --KEY VALUE that is a config key */
	OPT_SALVAGE,   /* start from the valid prefix of a corrupt journal */
};

/* Where the configuration comes from, kept for SIGHUP. */
struct main_conf {
	const char *path;              /* config file, or NULL for none */
	int missing_ok;                /* the default file may be absent */
	struct config_override *ov;    /* command-line settings, in order */
	size_t nov;
	int salvage;                   /* --salvage */
};

/* What --help prints. */
static const char usage_text[] =
	"Usage: ipcd [OPTIONS]\n"
	"Serve named bounded queues over a Unix domain socket.\n"
	"\n"
	"  -c, --config FILE         read settings from FILE (default: "
	CONFIG_DEFAULT_FILE ",\n"
	"                            when it exists)\n"
	"  -s, --socket PATH         listen on PATH (default: $IPCD_SOCKET, else\n"
	"                            $XDG_RUNTIME_DIR/ipcd.sock, else " DEFAULT_SOCKET ")\n"
	"      --socket-mode MODE    mode of the socket file ipcd creates (default 0600)\n"
	"      --socket-group GROUP  group of that socket file (default: ipcd's own)\n"
	"      --log-level LEVEL     error, warning, info or debug (default info)\n"
	"  -v, --verbose             same as --log-level debug\n"
	"      --max-message-size N  largest message payload (default 1048576, the most)\n"
	"      --max-bytes N         message bytes held in all, overhead included (default 1G)\n"
	"      --max-queues N        queues and pipes (default 65536)\n"
	"      --max-connections N   clients served at once (default 1024)\n"
	"      --reserved-connections N  of them, kept for root (default 3)\n"
	"      --max-parked N        requests waiting in the daemon, all clients\n"
	"                            together (default 65536)\n"
	"      --uid-max-connections N|P%  per uid, root exempt (default 25%\n"
	"                            of max-connections); likewise\n"
	"      --uid-max-queues N|P%  queues and pipes owned (of max-queues),\n"
	"      --uid-max-bytes N|P% memory of the messages put (of max-bytes),\n"
	"      --uid-max-parked N|P% requests waiting (of max-parked)\n"
	"      --max-output N        unsent reply bytes per client before ipcd\n"
	"                            stops reading from it (default 8M)\n"
	"      --max-partial-bytes N bytes of requests not yet whole held for all\n"
	"                            clients together (default 64M)\n"
	"      --frame-timeout S     seconds a request may take to arrive whole\n"
	"                            (default 30)\n"
	"      --default-mode MODE   mode of a queue created without one (default 0660)\n"
	"      --busy-poll US        microseconds to poll for the next request before\n"
	"                            sleeping, adapted to the traffic (default 50,\n"
	"                            at most 1000; 0: never)\n"
	"      --state-dir DIR       where durable queues are journaled (default:\n"
	"                            $STATE_DIRECTORY, /var/lib/ipcd for root, else\n"
	"                            $XDG_STATE_HOME/ipcd; empty: durability off)\n"
	"      --sync MODE           always (default), interval or none: when a put\n"
	"                            on a durable queue is on stable storage\n"
	"      --sync-interval MS    with --sync interval, ms between syncs (default 100)\n"
	"      --memfd-threshold N   payloads from N bytes up travel as sealed memfds\n"
	"                            (default 1048577, past the inline limit, lower\n"
	"                            with shmem large folios; 0: never)\n"
	"      --max-memfd-size N    largest memfd payload (default 64M)\n"
	"      --max-memfds N        memfd descriptors held in all (default 4096)\n"
	"      --create-prefix 'PREFIX WHO[,WHO...]'\n"
	"                            names under PREFIX may be created only by root\n"
	"                            and WHO: root, any, uid:N, gid:N, user:NAME,\n"
	"                            group:NAME (repeatable; '' clears the rules)\n"
	"      --salvage             start from the records before a corrupt one in\n"
	"                            the journal (the rest is set aside)\n"
	"      --check-config        check the configuration, print it and exit\n"
	"  -V, --version             print the version and exit\n"
	"  -h, --help                show this help\n"
	"\n"
	"Sizes are bytes with an optional K, M or G suffix; modes are octal.\n"
	"Each setting is also a key of the config file (ipcd.conf(5)); flags win.\n"
	"Runs in the foreground and logs to stderr. SIGTERM or SIGINT: answer\n"
	"waiting requests with 'shutting down', remove the socket (not one passed\n"
	"by systemd), exit 0. SIGHUP: reload the log level, limits, busy-poll\n"
	"and create-prefix rules.\n";

/* Print usage to f. */
static void usage(FILE *f)
{
	fputs(usage_text, f);
}

/* The default socket path, per the documented order. */
static const char *default_socket(char *buf, size_t len)
{
	const char *env = getenv("IPCD_SOCKET");
	const char *xdg = getenv("XDG_RUNTIME_DIR");

	if (env != NULL && *env != '\0')
		return env;
	if (xdg != NULL && *xdg != '\0') {
		snprintf(buf, len, "%s/ipcd.sock", xdg);
		return buf;
	}
	return DEFAULT_SOCKET;
}

/* Fault injection for the test suite: $IPCD_TEST_FAIL_QMSG=N makes the
 * Nth message allocation and every later one fail, $IPCD_TEST_FAIL_REPLY=N
 * the Nth reply carrying messages and every later one (ipcd(8)). */
static void main_test_hooks(void)
{
	const char *v = getenv("IPCD_TEST_FAIL_QMSG");

	if (v != NULL && *v != '\0') {
		qmsg_fail_from(strtoul(v, NULL, 10));
		log_warn("IPCD_TEST_FAIL_QMSG=%s: message allocations will fail", v);
	}
	v = getenv("IPCD_TEST_FAIL_REPLY");
	if (v != NULL && *v != '\0') {
		conn_fail_replies_from(strtoul(v, NULL, 10));
		log_warn("IPCD_TEST_FAIL_REPLY=%s: replies carrying messages will "
			 "fail to encode", v);
	}
}

/* Create the socket's directory when it is the default /run/ipcd. */
static void make_default_dir(const char *path)
{
	if (strcmp(path, DEFAULT_SOCKET) == 0 && mkdir("/run/ipcd", 0755) != 0 &&
	    errno != EEXIST)
		log_warn("mkdir /run/ipcd: %s", strerror(errno));
}

/* Build the configuration: defaults, file, flags, then the default
 * socket when none was set. 0 or -1 with err filled. */
static int main_build(const struct main_conf *mc, struct config *cfg,
		      char *err, size_t errlen)
{
	char buf[sizeof(cfg->socket_path) + 16];
	const char *sock;

	config_memfd_default(shmem_memfd_threshold(SHMEM_THP_DIR));
	if (config_build(cfg, mc->path, mc->missing_ok, mc->ov, mc->nov, err,
			 errlen) != 0)
		return -1;
	if (cfg->socket_path[0] == '\0') {
		sock = default_socket(buf, sizeof(buf));
		if (strlen(sock) >= sizeof(cfg->socket_path)) {
			snprintf(err, errlen, "socket path too long: %s", sock);
			return -1;
		}
		strcpy(cfg->socket_path, sock);
	}
	return 0;
}

/* SIGHUP: the configuration again, from the same file and flags. */
static int main_reload(struct config *out, void *arg)
{
	char err[512];

	if (main_build(arg, out, err, sizeof(err)) == 0)
		return 0;
	log_err("reload: %s; keeping the running configuration", err);
	return -1;
}

/* Print one setting as "key = value" (config_each callback). */
static void print_key(const char *key, int reloadable, const char *va,
		      const char *vb, void *arg)
{
	(void)reloadable;
	(void)vb;
	(void)arg;
	printf("%s = %s\n", key, va);
}

/* Record a --KEY VALUE flag; -1 for an unknown one. */
static int add_override(struct main_conf *mc, const char *key, const char *value)
{
	if (!config_known(key))
		return -1;
	mc->ov[mc->nov].key = key;
	mc->ov[mc->nov].value = value;
	mc->nov++;
	return 0;
}

/* Parse the command line into mc; 0, -1 to exit 0 (help, version), or
 * the usage exit status. *check is set by --check-config. */
static int parse_args(int argc, char **argv, struct main_conf *mc, int *check)
{
	static const struct option opts[] = {
		{ "config", required_argument, NULL, 'c' },
		{ "socket", required_argument, NULL, 's' },
		{ "socket-mode", required_argument, NULL, OPT_KEY },
		{ "socket-group", required_argument, NULL, OPT_KEY },
		{ "log-level", required_argument, NULL, OPT_KEY },
		{ "max-message-size", required_argument, NULL, OPT_KEY },
		{ "max-bytes", required_argument, NULL, OPT_KEY },
		{ "max-queues", required_argument, NULL, OPT_KEY },
		{ "max-connections", required_argument, NULL, OPT_KEY },
		{ "reserved-connections", required_argument, NULL, OPT_KEY },
		{ "max-parked", required_argument, NULL, OPT_KEY },
		{ "uid-max-connections", required_argument, NULL, OPT_KEY },
		{ "uid-max-queues", required_argument, NULL, OPT_KEY },
		{ "uid-max-bytes", required_argument, NULL, OPT_KEY },
		{ "uid-max-parked", required_argument, NULL, OPT_KEY },
		{ "max-output", required_argument, NULL, OPT_KEY },
		{ "max-partial-bytes", required_argument, NULL, OPT_KEY },
		{ "frame-timeout", required_argument, NULL, OPT_KEY },
		{ "default-mode", required_argument, NULL, OPT_KEY },
		{ "busy-poll", required_argument, NULL, OPT_KEY },
		{ "state-dir", required_argument, NULL, OPT_KEY },
		{ "sync", required_argument, NULL, OPT_KEY },
		{ "sync-interval", required_argument, NULL, OPT_KEY },
		{ "memfd-threshold", required_argument, NULL, OPT_KEY },
		{ "max-memfd-size", required_argument, NULL, OPT_KEY },
		{ "max-memfds", required_argument, NULL, OPT_KEY },
		{ "create-prefix", required_argument, NULL, OPT_KEY },
		{ "salvage", no_argument, NULL, OPT_SALVAGE },
		{ "verbose", no_argument, NULL, 'v' },
		{ "check-config", no_argument, NULL, OPT_CHECK },
		{ "version", no_argument, NULL, 'V' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	int opt, idx;

	while ((opt = getopt_long(argc, argv, "c:s:vVh", opts, &idx)) != -1) {
		switch (opt) {
		case 'c': mc->path = optarg; mc->missing_ok = 0; break;
		case 's': add_override(mc, "socket", optarg); break;
		case 'v': add_override(mc, "log-level", "debug"); break;
		case OPT_KEY: add_override(mc, opts[idx].name, optarg); break;
		case OPT_CHECK: *check = 1; break;
		case OPT_SALVAGE: mc->salvage = 1; break;
		case 'V': printf("ipcd %s (protocol %d)\n", PACKAGE_VERSION,
				 IPC_PROTO_VERSION); return -1;
		case 'h': usage(stdout); return -1;
		default: usage(stderr); return 2;
		}
	}
	if (optind != argc) {
		fprintf(stderr, "ipcd: unexpected argument '%s'\n", argv[optind]);
		usage(stderr);
		return 2;
	}
	return 0;
}

/* Parse the command line and configuration, run the server until it is
 * told to stop. */
int main(int argc, char **argv)
{
	struct main_conf mc = { CONFIG_DEFAULT_FILE, 1, NULL, 0, 0 };
	struct config cfg;
	struct server s;
	char err[512];
	int rc, check = 0;

	mc.ov = calloc((size_t)argc + 1, sizeof(*mc.ov));
	if (mc.ov == NULL)
		return 1;
	rc = parse_args(argc, argv, &mc, &check);
	if (rc == 0 && (main_build(&mc, &cfg, err, sizeof(err)) != 0 ||
			config_check(&cfg, err, sizeof(err)) != 0)) {
		log_err("%s", err);
		rc = 1;
	}
	cfg.salvage = mc.salvage;
	if (rc == 0 && check)
		config_each(&cfg, NULL, print_key, NULL);
	if (rc != 0 || check) {
		free(mc.ov);
		return rc < 0 ? 0 : rc;
	}
	log_set_level((enum log_level)cfg.log_level);
	main_test_hooks();
	make_default_dir(cfg.socket_path);
	/* server_init raises the soft descriptor limit to the hard one:
	 * room for connections and memfd messages. */
	/* A peer that closes early must not kill the daemon mid-write. */
	signal(SIGPIPE, SIG_IGN);
	rc = server_init(&s, &cfg);
	s.reload = main_reload;
	s.reload_arg = &mc;
	if (rc == 0)
		rc = server_run(&s);
	server_fini(&s);
	free(mc.ov);
	return rc == 0 ? 0 : 1;
}
