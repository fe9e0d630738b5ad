/* main.c: ipcd's command line. */
#include <errno.h>
#include <getopt.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "ipc_defs.h"
#include "log.h"
#include "server.h"

#define DEFAULT_SOCKET "/run/ipcd/ipcd.sock"

/* Print usage to f. */
static void usage(FILE *f)
{
	fprintf(f,
		"Usage: ipcd [-s PATH] [-v] [-h]\n"
		"Serve named bounded queues over a Unix domain socket.\n"
		"\n"
		"  -s, --socket PATH  listen on PATH (default: $IPCD_SOCKET, else\n"
		"                     $XDG_RUNTIME_DIR/ipcd.sock, else " DEFAULT_SOCKET ")\n"
		"  -v, --verbose      log connections and requests (debug level)\n"
		"  -h, --help         show this help\n"
		"\n"
		"Runs in the foreground and logs to stderr. SIGTERM or SIGINT: answer\n"
		"waiting requests with 'shutting down', remove the socket, exit 0.\n");
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

/* Create the socket's directory when it is the default /run/ipcd. */
static void make_default_dir(const char *path)
{
	if (strcmp(path, DEFAULT_SOCKET) == 0 && mkdir("/run/ipcd", 0755) != 0 &&
	    errno != EEXIST)
		log_warn("mkdir /run/ipcd: %s", strerror(errno));
}

/* Parse the command line, run the server until it is told to stop. */
int main(int argc, char **argv)
{
	static const struct option opts[] = {
		{ "socket", required_argument, NULL, 's' },
		{ "verbose", no_argument, NULL, 'v' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	struct server_config cfg = { .socket_path = NULL, .msg_max = IPC_MSG_MAX };
	struct server s;
	char buf[256];
	int opt, rc;

	while ((opt = getopt_long(argc, argv, "s:vh", opts, NULL)) != -1) {
		switch (opt) {
		case 's': cfg.socket_path = optarg; break;
		case 'v': log_set_level(LOG_DEBUG); break;
		case 'h': usage(stdout); return 0;
		default: usage(stderr); return 2;
		}
	}
	if (optind != argc) {
		usage(stderr);
		return 2;
	}
	if (cfg.socket_path == NULL) {
		cfg.socket_path = default_socket(buf, sizeof buf);
		make_default_dir(cfg.socket_path);
	}
	/* A peer that closes early must not kill the daemon mid-write. */
	signal(SIGPIPE, SIG_IGN);
	rc = server_init(&s, &cfg);
	if (rc == 0)
		rc = server_run(&s);
	server_fini(&s);
	return rc == 0 ? 0 : 1;
}
