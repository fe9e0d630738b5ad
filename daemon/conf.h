/* SPDX-License-Identifier: MIT */
/*
 * conf.h: ipcd's settings, from defaults, an optional config file
 * (ipcd.conf(5)) and command-line flags, in that order.
 *
 * The file format: one "key = value" per line; blank lines and lines whose
 * first non-blank is '#' are ignored; spaces around key and value are
 * trimmed; a key given twice keeps its last value. An empty value is
 * allowed for socket and socket-group only and means the default (so
 * that ipcd --check-config output reads back). Every command-line flag
 * --KEY VALUE sets the same key. Sizes are bytes with an optional K, M or
 * G suffix (powers of 1024); modes are octal.
 *
 * The parser is pure (config_parse on a text); config_load reads a file.
 */
#ifndef IPCD_CONFIG_H
#define IPCD_CONFIG_H

#include <stddef.h>

#include "access.h"

/* The config file ipcd reads by default: SYSCONFDIR (configure's
 * --sysconfdir, passed by the Makefile) /ipcd.conf. */
#ifndef SYSCONFDIR
#define SYSCONFDIR "/etc"
#endif
#define CONFIG_DEFAULT_FILE SYSCONFDIR "/ipcd.conf"
/* Longest socket path (sun_path holds 108 bytes with the NUL). */
#define CONFIG_PATH_MAX 107
/* Longest group name. */
#define CONFIG_GROUP_MAX 63
/* Longest state directory path. */
#define CONFIG_DIR_MAX 255
/* The sync modes (ipcd.conf(5) "sync"). */
enum config_sync { CONFIG_SYNC_ALWAYS, CONFIG_SYNC_INTERVAL, CONFIG_SYNC_NONE };
/* Longest line in a config file. */
#define CONFIG_LINE_MAX 1024
/* The most create-prefix rules. */
#define CONFIG_RULES_MAX 32
/* Longest value config_format and config_each write: every rule of
 * create-prefix, "; "-separated. */
#define CONFIG_VALUE_MAX (CONFIG_RULES_MAX * (IPC_NAME_MAX + ACCESS_WHO_TEXT_MAX + 4))

/* A per-uid limit: an absolute value, or pct percent of a global one. */
struct config_quota {
	size_t value;               /* with pct 0 */
	unsigned pct;               /* 1..100, or 0: value is absolute */
};

struct config {
	char socket_path[CONFIG_PATH_MAX + 1]; /* "" = the default search */
	unsigned socket_mode;       /* mode of the socket ipcd creates */
	char socket_group[CONFIG_GROUP_MAX + 1]; /* "" = ipcd's own group */
	int log_level;              /* enum log_level */
	size_t max_message;         /* largest payload, <= IPC_MSG_MAX */
	size_t max_bytes;           /* message bytes held in all (footprints) */
	size_t max_queues;          /* queues + pipes */
	size_t max_connections;     /* clients served at once */
	size_t reserved_conns;      /* of them, kept for root (and ipcd's uid) */
	size_t max_parked;          /* requests parked, all clients together */
	struct config_quota uid_conns;   /* per uid (root exempt): connections, */
	struct config_quota uid_queues;  /* queues and pipes owned, */
	struct config_quota uid_bytes;   /* bytes of messages put, */
	struct config_quota uid_parked;  /* requests parked */
	size_t max_output;          /* unsent reply bytes before a client
				       stops being read */
	size_t max_partial;         /* input buffer bytes held for requests
				       not yet whole, all clients together */
	size_t frame_timeout;       /* s a started request may take to
				       arrive whole */
	unsigned default_mode;      /* mode of a queue created without one */
	size_t busy_poll;           /* us to poll before sleeping (busypoll.h) */
	char state_dir[CONFIG_DIR_MAX + 1]; /* the journal of durable queues;
				       "" = durability off */
	int sync;                   /* enum config_sync */
	size_t sync_interval;       /* ms between syncs with sync = interval */
	size_t memfd_threshold;     /* payloads from this size go by memfd
				       (told clients in HELLO); 0 = never */
	size_t max_memfd_size;      /* largest memfd payload */
	size_t max_memfds;          /* memfd descriptors held in all */
	int salvage;                /* not a key: ipcd --salvage */
	/* create-prefix: who may create names under which prefix (each
	 * line adds a rule; an empty value clears them) */
	struct access_rule create_rules[CONFIG_RULES_MAX];
	size_t ncreate_rules;
};

/* A key = value pair given on the command line, applied after the file. */
struct config_override {
	const char *key;
	const char *value;
};

/* Fill c with the built-in defaults. */
void config_defaults(struct config *c);
/* Make payloads from n bytes up go as memfds by default from now on
 * (ipcd sets it from the kernel's shmem policy, shmem.h); 0, or n past
 * the built-in default (one byte past the inline limit), restores that. */
void config_memfd_default(size_t n);
/* Set key to the text value: 0, or -1 with a reason in err. */
int config_set(struct config *c, const char *key, const char *value,
	       char *err, size_t errlen);
/* Apply a whole config text (len bytes, need not be NUL-terminated) to c:
 * 0, or -1 with "line N: reason" in err (c may be partly changed). */
int config_parse(struct config *c, const char *text, size_t len,
		 char *err, size_t errlen);
/* Apply the file at path: 0; 1 when it does not exist and missing_ok; or
 * -1 with "path: reason" in err. */
int config_load(struct config *c, const char *path, int missing_ok,
		char *err, size_t errlen);
/* Defaults, then the file (path NULL: none; missing_ok as config_load),
 * then the overrides: 0 or -1 with err. */
int config_build(struct config *c, const char *path, int missing_ok,
		 const struct config_override *ov, size_t nov,
		 char *err, size_t errlen);

/* The per-uid limit q stands for when the global limit is global. */
size_t config_quota_limit(const struct config_quota *q, size_t global);
/* Read one create-prefix rule "PREFIX WHO[,WHO...]" into r: 0, or -1
 * with the reason in err (conf_prefix.c). */
int config_prefix_parse(const char *value, struct access_rule *r,
			char *err, size_t errlen);
/* Add the rule value to c's create-prefix rules ("" clears them): 0, or
 * -1 with err (a bad rule, a prefix given twice, too many rules). */
int config_prefix_add(struct config *c, const char *value, char *err,
		      size_t errlen);
/* Write rule i of c as config_prefix_add reads it. */
void config_prefix_format(const struct config *c, size_t i, char *buf,
			  size_t len);

/* What ipcd would refuse at start beyond the syntax (an unknown
 * socket-group): 0, or -1 with a reason in err. */
int config_check(const struct config *c, char *err, size_t errlen);

/* 1 when key is a known key. */
int config_known(const char *key);
/* The value of key in c as text (as config_set reads it); 0 or -1. */
int config_format(const struct config *c, const char *key, char *buf,
		  size_t len);
/* Call fn for every key, in a fixed order, with whether a running daemon
 * can apply a change of it (SIGHUP) and its values in a and b, when they
 * differ (b NULL: for every key, with a's value twice). */
void config_each(const struct config *a, const struct config *b,
		 void (*fn)(const char *key, int reloadable, const char *va,
			    const char *vb, void *arg),
		 void *arg);

#endif
