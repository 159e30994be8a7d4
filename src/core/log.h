/*
 * log.h - the logger: five levels, one line per event.
 *
 * A line reads "2026-12-03T16:40:01.123Z 4242 NOTICE sync: message".  Lines
 * go to stderr (or a file set with log_open) with a single write, so lines
 * from several threads never interleave.  Components can be traced at DEBUG
 * level at run time with a spec like "sync,-http" (log_set_trace).
 */
#ifndef LT_LOG_H
#define LT_LOG_H

#include <stdbool.h>

#include "core/error.h"

enum log_level {
    LT_LOG_DEBUG,
    LT_LOG_INFO,
    LT_LOG_NOTICE,
    LT_LOG_WARNING,
    LT_LOG_ERROR,
};

/* Lines below this level are dropped unless their component is traced. */
void log_set_level(enum log_level level);

/*
 * Parse a trace spec: comma-separated component names, each traced at DEBUG,
 * or "-name" to hold that one at the general level; "all" traces every
 * component.  LT_EINVAL for a malformed spec, with nothing changed.
 */
enum lt_code log_set_trace(const char *spec, struct lt_error *err);

/* Parse "debug", "info", "notice", "warning" or "error". */
enum lt_code log_parse_level(const char *name, enum log_level *out, struct lt_error *err);

bool log_enabled(enum log_level level, const char *component);

void log_write(enum log_level level, const char *component, const char *fmt, ...) LT_PRINTF(3, 4);

#define lt_log(level, component, ...)                                                              \
    do {                                                                                           \
        if (log_enabled((level), (component))) {                                                   \
            log_write((level), (component), __VA_ARGS__);                                          \
        }                                                                                          \
    } while (0)

#define log_debug(c, ...)   lt_log(LT_LOG_DEBUG, c, __VA_ARGS__)
#define log_info(c, ...)    lt_log(LT_LOG_INFO, c, __VA_ARGS__)
#define log_notice(c, ...)  lt_log(LT_LOG_NOTICE, c, __VA_ARGS__)
#define log_warning(c, ...) lt_log(LT_LOG_WARNING, c, __VA_ARGS__)
#define log_error(c, ...)   lt_log(LT_LOG_ERROR, c, __VA_ARGS__)

#endif
