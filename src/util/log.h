/*
 * log.h - one line per event in logfmt, to stderr:
 *
 *	ts=2026-11-21T09:57:05.123Z level=info msg="alert opened" workflow=loan id=12
 *
 * The key/value part is a printf format of space-separated key=%conv pairs; each value is
 * formatted with its conversion and quoted when it needs to be, so callers never quote:
 *
 *	log_info("alert opened", "workflow=%s id=%" PRId64, wf, id);
 *
 * Supported conversions: %s %d %i %u %ld %lu %lld %llu %zu %g %f %x and PRId64/PRIu64.
 * Thread-safe: one write(2) per line.
 */
#ifndef SW_LOG_H
#define SW_LOG_H

#include "util/common.h"

enum log_level {
	LOG_DEBUG,
	LOG_INFO,
	LOG_WARN,
	LOG_ERROR,
	LOG_FATAL
};

void log_set_level(enum log_level min);
/* Parse "debug|info|warn|error"; -1 when unknown. */
int log_level_parse(const char *s);
void log_msg(enum log_level level, const char *msg, const char *kvfmt, ...) SW_PRINTF(3, 4);
/* A line with no key/value part. */
void log_line(enum log_level level, const char *msg);
/* Format one logfmt line into buf (for tests); returns its length. */
size_t log_format(char *buf, size_t n, int64_t ts_ms, enum log_level level, const char *msg,
                  const char *kvfmt, va_list ap);

#define log_debug(msg, ...) log_msg(LOG_DEBUG, msg, __VA_ARGS__)
#define log_info(msg, ...)  log_msg(LOG_INFO, msg, __VA_ARGS__)
#define log_warn(msg, ...)  log_msg(LOG_WARN, msg, __VA_ARGS__)
#define log_error(msg, ...) log_msg(LOG_ERROR, msg, __VA_ARGS__)

#endif
