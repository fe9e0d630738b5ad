/* SPDX-License-Identifier: MIT */
/*
 * conf_prefix.c: the create-prefix rules of ipcd.conf(5), read and
 * written. A rule is "PREFIX WHO[,WHO...]": names starting with PREFIX
 * may be created only by root and the principals listed, each one of
 * root, any, uid:N, gid:N, user:NAME or group:NAME (names are resolved
 * when the rule is read; an unknown one is an error, not a rule that
 * admits nobody by accident).
 */
#include <errno.h>
#include <grp.h>
#include <pwd.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "access.h"
#include "conf.h"
#include "proto.h"

/* A decimal id of at most UINT32_MAX - 1 (-1 is "nobody" to the
 * kernel): 0 with *id, or -1. */
static int prefix_id(const char *s, uint32_t *id)
{
	unsigned long long v;
	char *end;

	if (*s < '0' || *s > '9')
		return -1;
	errno = 0;
	v = strtoull(s, &end, 10);
	if (errno != 0 || *end != '\0' || v >= UINT32_MAX)
		return -1;
	*id = (uint32_t)v;
	return 0;
}

/* The uid or gid a user:NAME or group:NAME token names: 0 or -1. */
static int prefix_lookup(int group, const char *name, uint32_t *id)
{
	struct passwd *pw;
	struct group *gr;

	if (group) {
		gr = getgrnam(name);
		if (gr != NULL)
			*id = (uint32_t)gr->gr_gid;
		return gr != NULL ? 0 : -1;
	}
	pw = getpwnam(name);
	if (pw != NULL)
		*id = (uint32_t)pw->pw_uid;
	return pw != NULL ? 0 : -1;
}

/* One principal token into *w: 0, or -1 with the reason in err. */
static int prefix_who(const char *tok, struct access_who *w, char *err,
		      size_t errlen)
{
	int rc = 0;

	*w = (struct access_who){ ACCESS_WHO_UID, 0 };
	if (strcmp(tok, "any") == 0)
		w->kind = ACCESS_WHO_ANY;
	else if (strncmp(tok, "uid:", 4) == 0)
		rc = prefix_id(tok + 4, &w->id);
	else if (strncmp(tok, "gid:", 4) == 0) {
		w->kind = ACCESS_WHO_GID;
		rc = prefix_id(tok + 4, &w->id);
	} else if (strncmp(tok, "user:", 5) == 0)
		rc = prefix_lookup(0, tok + 5, &w->id);
	else if (strncmp(tok, "group:", 6) == 0) {
		w->kind = ACCESS_WHO_GID;
		rc = prefix_lookup(1, tok + 6, &w->id);
	} else if (strcmp(tok, "root") != 0) {
		snprintf(err, errlen, "create-prefix: '%s' is not root, any, "
			 "uid:N, gid:N, user:NAME or group:NAME", tok);
		return -1;
	}
	/* uid:N and gid:N have 'i' second; user: and group: do not. */
	if (rc != 0)
		snprintf(err, errlen, "create-prefix: '%s': %s", tok,
			 tok[1] == 'i' ? "not a decimal id below 4294967295" :
			 "no such user or group");
	return rc;
}

/* The principal list text (commas, no spaces) into r: 0 or -1. */
static int prefix_who_list(const char *text, struct access_rule *r,
			   char *err, size_t errlen)
{
	char buf[ACCESS_WHO_TEXT_MAX + 1], *tok, *save = NULL;

	if (strlen(text) > ACCESS_WHO_TEXT_MAX || strpbrk(text, " \t") ||
	    text[0] == ',' || strstr(text, ",,") || text[strlen(text) - 1] == ',') {
		snprintf(err, errlen, "create-prefix: '%s' is not a list of at "
			 "most %d bytes like root,group:svc", text,
			 ACCESS_WHO_TEXT_MAX);
		return -1;
	}
	strcpy(buf, text);
	strcpy(r->who_text, text);
	for (tok = strtok_r(buf, ",", &save); tok; tok = strtok_r(NULL, ",", &save)) {
		if (r->nwho == ACCESS_WHO_MAX) {
			snprintf(err, errlen, "create-prefix: more than %d "
				 "principals", ACCESS_WHO_MAX);
			return -1;
		}
		if (prefix_who(tok, &r->who[r->nwho], err, errlen) != 0)
			return -1;
		r->nwho++;
	}
	return 0;
}

/* Read one rule "PREFIX WHO[,WHO...]" into r. */
int config_prefix_parse(const char *value, struct access_rule *r,
			char *err, size_t errlen)
{
	size_t plen = strcspn(value, " \t");
	const char *who = value + plen + strspn(value + plen, " \t");

	memset(r, 0, sizeof(*r));
	if (plen == 0 || plen > IPC_NAME_MAX || !proto_name_valid(value, plen)) {
		snprintf(err, errlen, "create-prefix: '%.*s' is not the start "
			 "of a name (1-%d bytes of A-Z a-z 0-9 _ . : @ -, not "
			 "starting with '.')", (int)plen, value, IPC_NAME_MAX);
		return -1;
	}
	if (*who == '\0') {
		snprintf(err, errlen, "create-prefix: '%.*s' lists nobody "
			 "(PREFIX WHO[,WHO...])", (int)plen, value);
		return -1;
	}
	memcpy(r->prefix, value, plen);
	return prefix_who_list(who, r, err, errlen);
}

/* Add rule text value to c's rules, or clear them for "". */
int config_prefix_add(struct config *c, const char *value, char *err,
		      size_t errlen)
{
	struct access_rule r;
	size_t i;

	if (value[0] == '\0') {
		c->ncreate_rules = 0;
		return 0;
	}
	if (config_prefix_parse(value, &r, err, errlen) != 0)
		return -1;
	for (i = 0; i < c->ncreate_rules; i++) {
		if (strcmp(c->create_rules[i].prefix, r.prefix) == 0) {
			snprintf(err, errlen, "create-prefix: '%s' has a rule "
				 "already", r.prefix);
			return -1;
		}
	}
	if (c->ncreate_rules == CONFIG_RULES_MAX) {
		snprintf(err, errlen, "create-prefix: more than %d rules",
			 CONFIG_RULES_MAX);
		return -1;
	}
	c->create_rules[c->ncreate_rules++] = r;
	return 0;
}

/* Write rule i of c as config_prefix_add reads it. */
void config_prefix_format(const struct config *c, size_t i, char *buf,
			  size_t len)
{
	snprintf(buf, len, "%s %s", c->create_rules[i].prefix,
		 c->create_rules[i].who_text);
}
