/* SPDX-License-Identifier: MIT */
/* log.h: leveled logging to stderr (journald adds time and unit). */
#ifndef IPCD_LOG_H
#define IPCD_LOG_H

enum log_level { LOG_ERR = 0, LOG_WARN = 1, LOG_INFO = 2, LOG_DEBUG = 3 };

/* Show messages up to and including level. */
void log_set_level(enum log_level level);
/* Parse "error", "warning", "info" or "debug"; -1 when unknown. */
int log_parse_level(const char *s);
/* The name of a level ("error" ... "debug"), "?" when out of range. */
const char *log_level_name(int level);
/* Write one line at level (no trailing newline needed). */
void log_msg(enum log_level level, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));

#define log_err(...) log_msg(LOG_ERR, __VA_ARGS__)
#define log_warn(...) log_msg(LOG_WARN, __VA_ARGS__)
#define log_info(...) log_msg(LOG_INFO, __VA_ARGS__)
#define log_debug(...) log_msg(LOG_DEBUG, __VA_ARGS__)

#endif
