/*
 * log.c - the logger.
 *
 * The level and the trace table are set once at start-up, before threads
 * exist, and only read afterwards; no lock is needed on the hot path.
 */
#include "core/log.h"

#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>
#include <sys/time.h>
#include <time.h>
#include <unistd.h>

#include "core/banned.h"

#define TRACE_MAX     16
#define COMPONENT_MAX 24
#define LOG_LINE_MAX  2048

struct trace_entry {
    char component[COMPONENT_MAX];
    bool on;
};

static enum log_level min_level = LT_LOG_NOTICE;
static struct trace_entry traces[TRACE_MAX];
static int ntraces;
static bool trace_all;

static const char *const level_names[] = { "DEBUG", "INFO", "NOTICE", "WARNING", "ERROR" };

void log_set_level(enum log_level level)
{
    min_level = level;
}

enum lt_code log_parse_level(const char *name, enum log_level *out, struct lt_error *err)
{
    for (int i = 0; i <= LT_LOG_ERROR; i++) {
        if (strcasecmp(name, level_names[i]) == 0) {
            *out = (enum log_level)i;
            return LT_OK;
        }
    }
    lt_error_set(err, LT_EINVAL, "unknown log level \"%s\"", name);
    lt_error_hint(err, "use one of debug, info, notice, warning, error");
    return LT_EINVAL;
}

enum lt_code log_set_trace(const char *spec, struct lt_error *err)
{
    struct trace_entry parsed[TRACE_MAX];
    int n = 0;
    bool all = false;
    const char *p = spec;

    while (*p) {
        const char *end = strchr(p, ',');
        size_t len = end ? (size_t)(end - p) : strlen(p);
        bool on = true;

        if (len > 0 && p[0] == '-') {
            on = false;
            p++;
            len--;
        }
        if (len == 0 || len >= COMPONENT_MAX) {
            return lt_error_set(err, LT_EINVAL, "malformed trace spec \"%s\"", spec);
        }
        if (on && len == 3 && memcmp(p, "all", 3) == 0) {
            all = true;
        } else {
            if (n == TRACE_MAX) {
                return lt_error_set(err, LT_EINVAL, "trace spec names more than %d components",
                                    TRACE_MAX);
            }
            memcpy(parsed[n].component, p, len);
            parsed[n].component[len] = '\0';
            parsed[n].on = on;
            n++;
        }
        p += len;
        if (*p == ',') {
            p++;
        }
    }
    memcpy(traces, parsed, sizeof(parsed[0]) * (size_t)n);
    ntraces = n;
    trace_all = all;
    return LT_OK;
}

bool log_enabled(enum log_level level, const char *component)
{
    if (level >= min_level) {
        return true;
    }
    for (int i = 0; i < ntraces; i++) {
        if (strcmp(traces[i].component, component) == 0) {
            return traces[i].on;
        }
    }
    return trace_all;
}

void log_write(enum log_level level, const char *component, const char *fmt, ...)
{
    char line[LOG_LINE_MAX];
    struct timeval tv;
    struct tm tm;
    size_t len;
    int n;
    va_list ap;

    gettimeofday(&tv, NULL);
    gmtime_r(&tv.tv_sec, &tm);
    len = strftime(line, sizeof(line), "%Y-%m-%dT%H:%M:%S", &tm);
    n = snprintf(line + len, sizeof(line) - len, ".%03dZ %d %s %s: ", (int)(tv.tv_usec / 1000),
                 (int)getpid(), level_names[level], component);
    len += (size_t)n;

    va_start(ap, fmt);
    n = vsnprintf(line + len, sizeof(line) - len, fmt, ap);
    va_end(ap);
    if (n < 0) {
        n = 0;
    }
    len += (size_t)n;
    if (len > sizeof(line) - 2) {
        len = sizeof(line) - 2; /* truncated: keep the line whole */
    }
    /* One line per event: a message never carries its own line breaks. */
    for (size_t i = 0; i < len; i++) {
        if (line[i] == '\n' || line[i] == '\r') {
            line[i] = ' ';
        }
    }
    line[len++] = '\n';
    if (write(STDERR_FILENO, line, len) < 0) {
        /* Nowhere left to report a failure to log. */
    }
}
