/*
 * error.c - filling, naming and printing struct lt_error.
 */
#include "core/error.h"

#include <stdlib.h>
#include <string.h>

#include "core/banned.h"

void lt_error_clear(struct lt_error *err)
{
    if (err == NULL) {
        return;
    }
    err->code = LT_OK;
    err->message[0] = '\0';
    err->detail[0] = '\0';
    err->hint[0] = '\0';
    err->field[0] = '\0';
}

enum lt_code lt_error_set(struct lt_error *err, enum lt_code code, const char *fmt, ...)
{
    va_list ap;

    if (err == NULL) {
        return code;
    }
    lt_error_clear(err);
    err->code = code;
    va_start(ap, fmt);
    vsnprintf(err->message, sizeof(err->message), fmt, ap);
    va_end(ap);
    return code;
}

void lt_error_detail(struct lt_error *err, const char *fmt, ...)
{
    va_list ap;

    if (err == NULL) {
        return;
    }
    va_start(ap, fmt);
    vsnprintf(err->detail, sizeof(err->detail), fmt, ap);
    va_end(ap);
}

void lt_error_hint(struct lt_error *err, const char *fmt, ...)
{
    va_list ap;

    if (err == NULL) {
        return;
    }
    va_start(ap, fmt);
    vsnprintf(err->hint, sizeof(err->hint), fmt, ap);
    va_end(ap);
}

void lt_error_field(struct lt_error *err, const char *field)
{
    if (err == NULL) {
        return;
    }
    snprintf(err->field, sizeof(err->field), "%s", field);
}

static const struct {
    const char *name;
    int status;
} codes[] = {
    [LT_OK] = { "ok", 200 },
    [LT_EINVAL] = { "invalid_input", 400 },
    [LT_ENOTFOUND] = { "not_found", 404 },
    [LT_ECONFLICT] = { "conflict", 409 },
    [LT_ETOOBIG] = { "too_large", 413 },
    [LT_EIO] = { "io_error", 500 },
    [LT_EUNAVAIL] = { "unavailable", 503 },
    [LT_EINTERNAL] = { "internal", 500 },
    [LT_EUNAUTH] = { "unauthenticated", 401 },
    [LT_EFORBIDDEN] = { "forbidden", 403 },
    [LT_ELIMIT] = { "too_many_requests", 429 },
};

const char *lt_code_name(enum lt_code code)
{
    if ((unsigned)code >= sizeof(codes) / sizeof(codes[0])) {
        return "internal";
    }
    return codes[code].name;
}

int lt_code_http_status(enum lt_code code)
{
    if ((unsigned)code >= sizeof(codes) / sizeof(codes[0])) {
        return 500;
    }
    return codes[code].status;
}

void lt_error_print(const struct lt_error *err, FILE *out)
{
    fprintf(out, "lienthong: error: %s\n",
            err->message[0] ? err->message : lt_code_name(err->code));
    if (err->detail[0]) {
        fprintf(out, "  detail: %s\n", err->detail);
    }
    if (err->hint[0]) {
        fprintf(out, "  hint: %s\n", err->hint);
    }
}

void lt_bug(const char *file, int line, const char *fmt, ...)
{
    va_list ap;

    fprintf(stderr, "lienthong: BUG at %s:%d: ", file, line);
    va_start(ap, fmt);
    vfprintf(stderr, fmt, ap);
    va_end(ap);
    fputc('\n', stderr);
    abort();
}
