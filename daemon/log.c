/* SPDX-License-Identifier: MIT */
/* log.c: leveled logging to stderr. */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "log.h"

static enum log_level log_level = LOG_INFO;
static const char *const log_names[] = { "error", "warning", "info", "debug" };
static const int log_prio[] = { 3, 4, 6, 7 };

/* Show messages up to and including level. */
void log_set_level(enum log_level level)
{
	log_level = level;
}

/* Parse a level name; -1 when unknown. */
int log_parse_level(const char *s)
{
	for (int i = 0; i <= LOG_DEBUG; i++)
		if (strcmp(s, log_names[i]) == 0)
			return i;
	return -1;
}

/* The name of a level. */
const char *log_level_name(int level)
{
	return level >= 0 && level <= LOG_DEBUG ? log_names[level] : "?";
}

/* Write one line at level, prefixed so journald and humans see the level. */
void log_msg(enum log_level level, const char *fmt, ...)
{
	char line[1024];
	va_list ap;

	if (level > log_level)
		return;
	va_start(ap, fmt);
	vsnprintf(line, sizeof line, fmt, ap);
	va_end(ap);
	/* Under systemd, "<N>" is the sd-daemon(3) priority prefix journald
	 * understands; on a terminal it would only be noise. */
	if (getenv("JOURNAL_STREAM") != NULL)
		fprintf(stderr, "<%d>", log_prio[level]);
	fprintf(stderr, "ipcd: %s: %s\n", log_names[level], line);
}
