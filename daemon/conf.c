/* SPDX-License-Identifier: MIT */
/* conf.c: defaults, the ipcd.conf parser and key = value settings. */
#include <errno.h>
#include <grp.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <sys/stat.h>

#include "access.h"
#include "busypoll.h"
#include "conf.h"
#include "ipc_defs.h"
#include "log.h"

/* Built-in defaults (ipcd(8), ipcd.conf(5) list them too). */
#define CONFIG_DEF_SOCKET_MODE 0600u
#define CONFIG_DEF_MAX_BYTES ((size_t)1 << 30)
#define CONFIG_DEF_MAX_QUEUES 65536u
#define CONFIG_DEF_MAX_CONNECTIONS 1024u
#define CONFIG_DEF_RESERVED_CONNS 3u
#define CONFIG_DEF_MAX_PARKED 65536u
/* Every per-uid limit defaults to this share (%) of its global one. */
#define CONFIG_DEF_UID_PCT 25u
#define CONFIG_DEF_MAX_OUTPUT ((size_t)8 << 20)
#define CONFIG_DEF_MAX_PARTIAL ((size_t)64 << 20)
#define CONFIG_DEF_FRAME_TIMEOUT 30u
/* The longest frame-timeout (s). */
#define CONFIG_FRAME_TIMEOUT_MAX 3600u
#define CONFIG_DEF_BUSY_POLL 50u
#define CONFIG_DEF_SYNC_INTERVAL 100u
/* The longest sync-interval (ms). */
#define CONFIG_SYNC_INTERVAL_MAX 60000u
/* The most a count limit may be set to. */
#define CONFIG_COUNT_MAX (1u << 24)
/* memfd payloads: only past the inline limit by default (measured: below
 * it memfd_create + seal + map per message costs more than the socket
 * copy it saves), up to 64 MiB, at most 4096 descriptors held; sizes
 * travel as u32 on the wire. */
#define CONFIG_DEF_MEMFD_THRESHOLD (IPC_MSG_MAX + 1u)
#define CONFIG_DEF_MAX_MEMFD_SIZE (64u << 20)
#define CONFIG_DEF_MAX_MEMFDS 4096u
#define CONFIG_MEMFD_SIZE_MAX ((size_t)UINT32_MAX)
/* The smallest output bound: below it a reply or two would stall reading. */
#define CONFIG_OUTPUT_MIN 4096u

/* How a key's value is read and written. */
enum config_type { CT_PATH, CT_GROUP, CT_MODE, CT_LEVEL, CT_SIZE, CT_COUNT,
		   CT_DIR, CT_SYNC, CT_RULES, CT_QSIZE, CT_QCOUNT };

/* The names of the sync modes, by enum config_sync. */
static const char *const config_sync_names[] = { "always", "interval", "none" };

/* One key: its type, where it lives, its range, whether SIGHUP applies
 * it, and its built-in default (a number, a mode, a level, a sync mode or
 * a per-uid share in %, by type; strings and rules start empty). */
struct config_key {
	const char *key;
	enum config_type type;
	size_t off;
	size_t min, max;
	int reloadable;
	size_t def;
};

#define CK(k, t, field, lo, hi, r, def) \
	{ k, t, offsetof(struct config, field), lo, hi, r, def }

static const struct config_key config_keys[] = {
	CK("socket", CT_PATH, socket_path, 0, 0, 0, 0),
	CK("socket-mode", CT_MODE, socket_mode, 0, 0, 0, CONFIG_DEF_SOCKET_MODE),
	CK("socket-group", CT_GROUP, socket_group, 0, 0, 0, 0),
	CK("log-level", CT_LEVEL, log_level, 0, 0, 1, LOG_INFO),
	CK("max-message-size", CT_SIZE, max_message, 1, IPC_MSG_MAX, 1, IPC_MSG_MAX),
	CK("max-bytes", CT_SIZE, max_bytes, 1, SIZE_MAX / 2, 1, CONFIG_DEF_MAX_BYTES),
	CK("max-queues", CT_COUNT, max_queues, 1, CONFIG_COUNT_MAX, 1, CONFIG_DEF_MAX_QUEUES),
	CK("max-connections", CT_COUNT, max_connections, 1, CONFIG_COUNT_MAX, 1, CONFIG_DEF_MAX_CONNECTIONS),
	CK("reserved-connections", CT_COUNT, reserved_conns, 0, CONFIG_COUNT_MAX, 1, CONFIG_DEF_RESERVED_CONNS),
	CK("max-parked", CT_COUNT, max_parked, 1, CONFIG_COUNT_MAX, 1, CONFIG_DEF_MAX_PARKED),
	CK("uid-max-connections", CT_QCOUNT, uid_conns, 1, CONFIG_COUNT_MAX, 1, CONFIG_DEF_UID_PCT),
	CK("uid-max-queues", CT_QCOUNT, uid_queues, 1, CONFIG_COUNT_MAX, 1, CONFIG_DEF_UID_PCT),
	CK("uid-max-bytes", CT_QSIZE, uid_bytes, 1, SIZE_MAX / 2, 1, CONFIG_DEF_UID_PCT),
	CK("uid-max-parked", CT_QCOUNT, uid_parked, 1, CONFIG_COUNT_MAX, 1, CONFIG_DEF_UID_PCT),
	CK("max-output", CT_SIZE, max_output, CONFIG_OUTPUT_MIN, SIZE_MAX / 2, 1, CONFIG_DEF_MAX_OUTPUT),
	CK("max-partial-bytes", CT_SIZE, max_partial, CONFIG_OUTPUT_MIN, SIZE_MAX / 2, 1, CONFIG_DEF_MAX_PARTIAL),
	CK("frame-timeout", CT_COUNT, frame_timeout, 1, CONFIG_FRAME_TIMEOUT_MAX, 1, CONFIG_DEF_FRAME_TIMEOUT),
	CK("default-mode", CT_MODE, default_mode, 0, 0, 1, ACCESS_MODE_DEFAULT),
	CK("busy-poll", CT_COUNT, busy_poll, 0, BUSYPOLL_MAX_US, 1, CONFIG_DEF_BUSY_POLL),
	CK("state-dir", CT_DIR, state_dir, 0, 0, 0, 0),
	CK("sync", CT_SYNC, sync, 0, 0, 0, CONFIG_SYNC_ALWAYS),
	CK("sync-interval", CT_COUNT, sync_interval, 1, CONFIG_SYNC_INTERVAL_MAX, 0, CONFIG_DEF_SYNC_INTERVAL),
	CK("memfd-threshold", CT_SIZE, memfd_threshold, 0, CONFIG_MEMFD_SIZE_MAX, 1, CONFIG_DEF_MEMFD_THRESHOLD),
	CK("max-memfd-size", CT_SIZE, max_memfd_size, 1, CONFIG_MEMFD_SIZE_MAX, 1, CONFIG_DEF_MAX_MEMFD_SIZE),
	CK("max-memfds", CT_COUNT, max_memfds, 0, CONFIG_COUNT_MAX, 1, CONFIG_DEF_MAX_MEMFDS),
	CK("create-prefix", CT_RULES, create_rules, 0, 0, 1, 0),
};

#define CONFIG_NKEYS (sizeof(config_keys) / sizeof(config_keys[0]))

/* The default state directory: systemd's StateDirectory= ($STATE_DIRECTORY,
 * its first entry), else /var/lib/ipcd for root, else the user's
 * $XDG_STATE_HOME/ipcd (~/.local/state/ipcd). "" when none fits. */
static void config_default_state_dir(char *buf, size_t len)
{
	const char *sd = getenv("STATE_DIRECTORY"), *xdg, *home;
	int n = 0;

	if (sd && sd[0] == '/')
		n = snprintf(buf, len, "%.*s", (int)strcspn(sd, ":"), sd);
	else if (geteuid() == 0)
		n = snprintf(buf, len, "/var/lib/ipcd");
	else if ((xdg = getenv("XDG_STATE_HOME")) && xdg[0] == '/')
		n = snprintf(buf, len, "%s/ipcd", xdg);
	else if ((home = getenv("HOME")) && home[0] == '/')
		n = snprintf(buf, len, "%s/.local/state/ipcd", home);
	if (n <= 0 || (size_t)n >= len)
		buf[0] = '\0';
}

/* Store k's built-in default into c. */
static void config_set_default(struct config *c, const struct config_key *k)
{
	char *field = (char *)c + k->off;

	switch (k->type) {
	case CT_MODE:
		*(unsigned *)(void *)field = (unsigned)k->def;
		break;
	case CT_LEVEL:
	case CT_SYNC:
		*(int *)(void *)field = (int)k->def;
		break;
	case CT_QSIZE:
	case CT_QCOUNT:
		((struct config_quota *)(void *)field)->pct = (unsigned)k->def;
		break;
	case CT_SIZE:
	case CT_COUNT:
		*(size_t *)(void *)field = k->def;
		break;
	default:        /* strings and rules: empty */
		break;
	}
}

/* The memfd-threshold default, when config_memfd_default set one. */
static size_t config_memfd_def;

/* Make n the memfd-threshold default (conf.h). */
void config_memfd_default(size_t n)
{
	config_memfd_def = n < CONFIG_DEF_MEMFD_THRESHOLD ? n : 0;
}

/* Fill c with the built-in defaults. */
void config_defaults(struct config *c)
{
	size_t i;

	memset(c, 0, sizeof(*c));
	for (i = 0; i < CONFIG_NKEYS; i++)
		config_set_default(c, &config_keys[i]);
	if (config_memfd_def != 0)
		c->memfd_threshold = config_memfd_def;
	config_default_state_dir(c->state_dir, sizeof(c->state_dir));
}

/* The key called name, or NULL. */
static const struct config_key *config_find(const char *name)
{
	size_t i;

	for (i = 0; i < CONFIG_NKEYS; i++)
		if (strcmp(config_keys[i].key, name) == 0)
			return &config_keys[i];
	return NULL;
}

/* 1 when key is a known key. */
int config_known(const char *key)
{
	return config_find(key) != NULL;
}

/* Parse a decimal count with an optional K, M or G (x1024) suffix. */
static int config_parse_size(const char *s, size_t *out)
{
	unsigned long long v, mul = 1;
	char *end;

	if (*s < '0' || *s > '9')
		return -1;
	errno = 0;
	v = strtoull(s, &end, 10);
	if (errno)
		return -1;
	switch (*end) {
	case 'k': case 'K': mul = 1ull << 10; end++; break;
	case 'm': case 'M': mul = 1ull << 20; end++; break;
	case 'g': case 'G': mul = 1ull << 30; end++; break;
	default: break;
	}
	if (*end != '\0' || v > SIZE_MAX / mul)
		return -1;
	*out = (size_t)(v * mul);
	return 0;
}

/* Set a size or count key, checking its range. */
static int config_set_number(const struct config_key *k, size_t *field,
			     const char *value, char *err, size_t errlen)
{
	size_t v;

	if (config_parse_size(value, &v) != 0 ||
	    (k->type == CT_COUNT && strpbrk(value, "kKmMgG"))) {
		snprintf(err, errlen, "%s: '%s' is not a %s", k->key, value,
			 k->type == CT_SIZE ? "size (bytes, optional K/M/G)" :
			 "number");
		return -1;
	}
	if (v < k->min || v > k->max) {
		snprintf(err, errlen, "%s: %zu out of range [%zu, %zu]",
			 k->key, v, k->min, k->max);
		return -1;
	}
	*field = v;
	return 0;
}

/* Set a per-uid limit: "N%" of the global limit (1-100), or a number
 * (a size for CT_QSIZE) in the key's range. */
static int config_set_quota(const struct config_key *k, struct config_quota *q,
			    const char *value, char *err, size_t errlen)
{
	struct config_key abs = *k;
	size_t len = strlen(value), pct;
	char num[32];

	if (len > 1 && len < sizeof(num) && value[len - 1] == '%') {
		memcpy(num, value, len - 1);
		num[len - 1] = '\0';
		if (strspn(num, "0123456789") != len - 1 ||
		    config_parse_size(num, &pct) != 0 || pct < 1 || pct > 100) {
			snprintf(err, errlen, "%s: '%s' is not a share of 1%% to 100%%",
				 k->key, value);
			return -1;
		}
		q->pct = (unsigned)pct;
		return 0;
	}
	abs.type = k->type == CT_QSIZE ? CT_SIZE : CT_COUNT;
	if (config_set_number(&abs, &q->value, value, err, errlen) != 0)
		return -1;
	q->pct = 0;
	return 0;
}

/* The per-uid limit q stands for when the global limit is global. */
size_t config_quota_limit(const struct config_quota *q, size_t global)
{
	size_t v;

	if (q->pct == 0)
		return q->value;
	v = global / 100 * q->pct + global % 100 * q->pct / 100;
	return v ? v : 1;
}

/* Copy a string value of at most max bytes into field. */
static int config_set_string(const struct config_key *k, char *field,
			     size_t max, const char *value, char *err,
			     size_t errlen)
{
	if (*value == '\0') {
		field[0] = '\0';   /* the default */
		return 0;
	}
	if (strlen(value) > max) {
		snprintf(err, errlen, "%s: longer than %zu bytes", k->key, max);
		return -1;
	}
	if (k->type == CT_PATH && value[0] != '/') {
		snprintf(err, errlen, "%s: '%s' is not an absolute path",
			 k->key, value);
		return -1;
	}
	strcpy(field, value);
	return 0;
}

/* Set a directory: an absolute path, or "" (turns the feature off). */
static int config_set_dir(const struct config_key *k, char *field,
			  const char *value, char *err, size_t errlen)
{
	if (value[0] == '\0') {
		field[0] = '\0';
		return 0;
	}
	if (strlen(value) > CONFIG_DIR_MAX || value[0] != '/') {
		snprintf(err, errlen, "%s: '%s' is not an absolute path of at "
			 "most %d bytes (or empty)", k->key, value, CONFIG_DIR_MAX);
		return -1;
	}
	strcpy(field, value);
	return 0;
}

/* Set a sync mode by name. */
static int config_set_sync(const struct config_key *k, int *field,
			   const char *value, char *err, size_t errlen)
{
	int i;

	for (i = 0; i <= CONFIG_SYNC_NONE; i++)
		if (strcmp(value, config_sync_names[i]) == 0) {
			*field = i;
			return 0;
		}
	snprintf(err, errlen, "%s: '%s' is not one of always, interval, none",
		 k->key, value);
	return -1;
}

/* Set key to the text value. */
int config_set(struct config *c, const char *key, const char *value,
	       char *err, size_t errlen)
{
	const struct config_key *k = config_find(key);
	char *field = (char *)c + (k ? k->off : 0);
	int level;

	if (k == NULL) {
		snprintf(err, errlen, "unknown key '%s'", key);
		return -1;
	}
	if (*value == '\0' && k->type != CT_PATH && k->type != CT_GROUP &&
	    k->type != CT_DIR && k->type != CT_RULES) {
		snprintf(err, errlen, "missing value for %s", key);
		return -1;
	}
	switch (k->type) {
	case CT_PATH:
		return config_set_string(k, field, CONFIG_PATH_MAX, value, err, errlen);
	case CT_GROUP:
		return config_set_string(k, field, CONFIG_GROUP_MAX, value, err, errlen);
	case CT_DIR:
		return config_set_dir(k, field, value, err, errlen);
	case CT_SYNC:
		return config_set_sync(k, (int *)(void *)field, value, err, errlen);
	case CT_QSIZE:
	case CT_QCOUNT:
		return config_set_quota(k, (struct config_quota *)(void *)field,
					value, err, errlen);
	case CT_RULES:
		return config_prefix_add(c, value, err, errlen);
	case CT_MODE:
		if (access_parse_mode(value, (unsigned *)(void *)field) == 0)
			return 0;
		snprintf(err, errlen, "%s: '%s' is not an octal mode (0000-0777)",
			 key, value);
		return -1;
	case CT_LEVEL:
		level = log_parse_level(value);
		if (level >= 0) {
			*(int *)(void *)field = level;
			return 0;
		}
		snprintf(err, errlen, "%s: '%s' is not one of error, warning, "
			 "info, debug", key, value);
		return -1;
	default:
		return config_set_number(k, (size_t *)(void *)field, value, err, errlen);
	}
}

/* Trim spaces and tabs at both ends of [*b, *e). */
static void config_trim(const char **b, const char **e)
{
	while (*b < *e && (**b == ' ' || **b == '\t' || **b == '\r'))
		(*b)++;
	while (*e > *b && ((*e)[-1] == ' ' || (*e)[-1] == '\t' || (*e)[-1] == '\r'))
		(*e)--;
}

/* Apply one line [b, e) of a config file. */
static int config_line(struct config *c, const char *b, const char *e,
		       char *err, size_t errlen)
{
	char key[CONFIG_LINE_MAX + 1], value[CONFIG_LINE_MAX + 1];
	const char *eq, *kb = b, *ke, *vb, *ve = e;

	config_trim(&kb, &ve);
	if (kb == ve || *kb == '#')
		return 0;
	if ((size_t)(e - b) > CONFIG_LINE_MAX) {
		snprintf(err, errlen, "line longer than %d bytes", CONFIG_LINE_MAX);
		return -1;
	}
	eq = memchr(kb, '=', (size_t)(ve - kb));
	if (eq == NULL) {
		snprintf(err, errlen, "expected 'key = value'");
		return -1;
	}
	ke = eq;
	vb = eq + 1;
	config_trim(&kb, &ke);
	config_trim(&vb, &ve);
	if (kb == ke) {
		snprintf(err, errlen, "missing key before '='");
		return -1;
	}
	if (memchr(kb, '\0', (size_t)(ve - kb)) != NULL) {
		snprintf(err, errlen, "NUL byte in line");
		return -1;
	}
	memcpy(key, kb, (size_t)(ke - kb));
	key[ke - kb] = '\0';
	memcpy(value, vb, (size_t)(ve - vb));
	value[ve - vb] = '\0';
	return config_set(c, key, value, err, errlen);
}

/* Apply a whole config text to c. */
int config_parse(struct config *c, const char *text, size_t len,
		 char *err, size_t errlen)
{
	const char *p = text, *end = text + len, *nl;
	char why[256];
	unsigned lineno = 0;

	while (p < end) {
		nl = memchr(p, '\n', (size_t)(end - p));
		if (nl == NULL)
			nl = end;
		lineno++;
		if (config_line(c, p, nl, why, sizeof(why)) != 0) {
			snprintf(err, errlen, "line %u: %s", lineno, why);
			return -1;
		}
		p = nl + 1;
	}
	return 0;
}

/* Read all of f (at most max bytes) into a malloc'd buffer. */
static char *config_slurp(FILE *f, size_t max, size_t *len)
{
	size_t cap = 4096, n = 0, r;
	char *buf = malloc(cap), *nb;

	while (buf != NULL && (r = fread(buf + n, 1, cap - n, f)) > 0) {
		n += r;
		if (n == cap && cap < max) {
			nb = realloc(buf, cap * 2);
			if (nb == NULL)
				free(buf);
			buf = nb;
			cap *= 2;
		} else if (n == cap) {
			break;
		}
	}
	*len = n;
	return buf;
}

/* Open the config file at path for reading: 0, 1 when it is missing and
 * missing_ok, -1 (err filled) on error. Opened without blocking and only
 * when it is a regular file of at most max bytes: a FIFO or a device in
 * its place must not hang the daemon's loop on SIGHUP. */
static int config_open(const char *path, int missing_ok, size_t max,
		       FILE **out, char *err, size_t errlen)
{
	int fd = open(path, O_RDONLY | O_NONBLOCK | O_CLOEXEC | O_NOCTTY);
	struct stat st;
	const char *why = NULL;

	if (fd < 0) {
		if (errno == ENOENT && missing_ok)
			return 1;
		snprintf(err, errlen, "%s: %s", path, strerror(errno));
		return -1;
	}
	if (fstat(fd, &st) != 0)
		why = strerror(errno);
	else if (!S_ISREG(st.st_mode))
		why = "not a regular file";
	else if ((uintmax_t)st.st_size >= max)
		why = "file too large";
	else if ((*out = fdopen(fd, "r")) == NULL)
		why = strerror(errno);
	if (why != NULL) {
		snprintf(err, errlen, "%s: %s", path, why);
		close(fd);
		return -1;
	}
	return 0;
}

/* Apply the file at path. */
int config_load(struct config *c, const char *path, int missing_ok,
		char *err, size_t errlen)
{
	/* A config file is a few lines; a huge one is a mistake. */
	const size_t max = 1u << 20;
	char why[320];
	size_t len;
	char *text;
	FILE *f = NULL;
	int rc = config_open(path, missing_ok, max, &f, err, errlen);

	if (rc != 0)
		return rc;
	text = config_slurp(f, max, &len);
	rc = text == NULL || ferror(f) ? -1 : 0;
	fclose(f);
	if (rc != 0 || len >= max) {
		snprintf(err, errlen, "%s: %s", path, text == NULL ?
			 "out of memory" : len >= max ? "file too large" :
			 "read error");
		free(text);
		return -1;
	}
	rc = config_parse(c, text, len, why, sizeof(why));
	free(text);
	if (rc != 0)
		snprintf(err, errlen, "%s: %s", path, why);
	return rc;
}

/* What ipcd would refuse at start beyond the syntax. */
int config_check(const struct config *c, char *err, size_t errlen)
{
	if (c->socket_group[0] != '\0' && getgrnam(c->socket_group) == NULL) {
		snprintf(err, errlen, "socket-group: no group '%s'", c->socket_group);
		return -1;
	}
	return 0;
}

/* Defaults, then the file, then the overrides. */
int config_build(struct config *c, const char *path, int missing_ok,
		 const struct config_override *ov, size_t nov,
		 char *err, size_t errlen)
{
	char why[256];
	size_t i;

	config_defaults(c);
	if (path != NULL && config_load(c, path, missing_ok, err, errlen) < 0)
		return -1;
	for (i = 0; i < nov; i++) {
		if (config_set(c, ov[i].key, ov[i].value, why, sizeof(why)) != 0) {
			snprintf(err, errlen, "command line: %s", why);
			return -1;
		}
	}
	return 0;
}

/* Write a per-uid limit as config_set_quota reads it. */
static void config_format_quota(const struct config_quota *q, char *buf,
				size_t len)
{
	if (q->pct)
		snprintf(buf, len, "%u%%", q->pct);
	else
		snprintf(buf, len, "%zu", q->value);
}

/* Every create-prefix rule of c, "; "-separated ("" for none). */
static void config_format_rules(const struct config *c, char *buf, size_t len)
{
	size_t i, at = 0;

	buf[0] = '\0';
	for (i = 0; i < c->ncreate_rules && at + 2 < len; i++) {
		if (i > 0)
			snprintf(buf + at, len - at, "; ");
		at += strlen(buf + at);
		config_prefix_format(c, i, buf + at, len - at);
		at += strlen(buf + at);
	}
}

/* Write key k's value in c as text. */
static void config_format_key(const struct config *c, const struct config_key *k,
			      char *buf, size_t len)
{
	const char *field = (const char *)c + k->off;

	switch (k->type) {
	case CT_PATH:
	case CT_GROUP:
	case CT_DIR:
		snprintf(buf, len, "%s", field);
		break;
	case CT_SYNC:
		snprintf(buf, len, "%s",
			 config_sync_names[*(const int *)(const void *)field]);
		break;
	case CT_RULES:
		config_format_rules(c, buf, len);
		break;
	case CT_MODE:
		snprintf(buf, len, "%04o", *(const unsigned *)(const void *)field);
		break;
	case CT_LEVEL:
		snprintf(buf, len, "%s", log_level_name(*(const int *)(const void *)field));
		break;
	case CT_QSIZE:
	case CT_QCOUNT:
		config_format_quota((const struct config_quota *)(const void *)field,
				    buf, len);
		break;
	default:
		snprintf(buf, len, "%zu", *(const size_t *)(const void *)field);
		break;
	}
}

/* The value of key in c as text. */
int config_format(const struct config *c, const char *key, char *buf,
		  size_t len)
{
	const struct config_key *k = config_find(key);

	if (k == NULL)
		return -1;
	config_format_key(c, k, buf, len);
	return 0;
}

/* Call fn once per create-prefix rule of c (once with "" for none), so
 * that what ipcd --check-config prints reads back as a config file. */
static void config_each_rule(const struct config *c, const struct config_key *k,
			     void (*fn)(const char *key, int reloadable,
					const char *va, const char *vb, void *arg),
			     void *arg)
{
	char v[IPC_NAME_MAX + ACCESS_WHO_TEXT_MAX + 2];
	size_t i;

	if (c->ncreate_rules == 0)
		fn(k->key, k->reloadable, "", "", arg);
	for (i = 0; i < c->ncreate_rules; i++) {
		config_prefix_format(c, i, v, sizeof(v));
		fn(k->key, k->reloadable, v, v, arg);
	}
}

/* Call fn for every key whose values in a and b differ (or every key). */
void config_each(const struct config *a, const struct config *b,
		 void (*fn)(const char *key, int reloadable, const char *va,
			    const char *vb, void *arg),
		 void *arg)
{
	static char va[CONFIG_VALUE_MAX], vb[CONFIG_VALUE_MAX];
	size_t i;

	for (i = 0; i < CONFIG_NKEYS; i++) {
		if (b == NULL && config_keys[i].type == CT_RULES) {
			config_each_rule(a, &config_keys[i], fn, arg);
			continue;
		}
		config_format_key(a, &config_keys[i], va, sizeof(va));
		config_format_key(b ? b : a, &config_keys[i], vb, sizeof(vb));
		if (b == NULL || strcmp(va, vb) != 0)
			fn(config_keys[i].key, config_keys[i].reloadable, va, vb, arg);
	}
}
