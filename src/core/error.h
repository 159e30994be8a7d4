/*
 * error.h - the one error type of Lienthong.
 *
 * Functions that act return an enum lt_code (LT_OK is 0) and, when they fail,
 * fill a caller-owned struct lt_error with a message, a detail and a hint.
 * The CLI prints it (error_print), the HTTP layer turns it into a JSON body
 * and a status (lt_code_http_status).  Errors travel as values; only the
 * edges (main, the HTTP handler) log them.
 */
#ifndef LT_ERROR_H
#define LT_ERROR_H

#include <stdarg.h>
#include <stdio.h>

enum lt_code {
    LT_OK = 0,
    LT_EINVAL,     /* the input is malformed or fails a check */
    LT_ENOTFOUND,  /* what was asked for does not exist */
    LT_ECONFLICT,  /* the state changed under the caller */
    LT_ETOOBIG,    /* an input went over a hard cap */
    LT_EIO,        /* a file, socket or disk operation failed */
    LT_EUNAVAIL,   /* a service we depend on is not there */
    LT_EINTERNAL,  /* a bug or an impossible state */
    LT_EUNAUTH,    /* the caller is not known: no, or a bad, credential */
    LT_EFORBIDDEN, /* the caller is known and may not do this */
    LT_ELIMIT,     /* too many attempts: try again later */
};

#define LT_ERROR_MESSAGE_MAX 256
#define LT_ERROR_DETAIL_MAX  512
#define LT_ERROR_HINT_MAX    256
#define LT_ERROR_FIELD_MAX   64

struct lt_error {
    enum lt_code code;
    char message[LT_ERROR_MESSAGE_MAX];
    char detail[LT_ERROR_DETAIL_MAX];
    char hint[LT_ERROR_HINT_MAX];
    char field[LT_ERROR_FIELD_MAX]; /* the input field at fault, or "" */
};

#define LT_PRINTF(a, b) __attribute__((format(printf, a, b)))

/* Reset err to "no error".  err may be NULL. */
void lt_error_clear(struct lt_error *err);

/*
 * Set the code and the message of err (detail, hint and field are cleared)
 * and return the code, so that callers can write "return lt_error_set(...)".
 * err may be NULL: the code is still returned.
 */
enum lt_code lt_error_set(struct lt_error *err, enum lt_code code, const char *fmt, ...)
    LT_PRINTF(3, 4);

/* Add the detail (what exactly was wrong) to an error already set. */
void lt_error_detail(struct lt_error *err, const char *fmt, ...) LT_PRINTF(2, 3);

/* Add the hint (what the person can do about it) to an error already set. */
void lt_error_hint(struct lt_error *err, const char *fmt, ...) LT_PRINTF(2, 3);

/* Name the input field the error is about. */
void lt_error_field(struct lt_error *err, const char *field);

/* The stable machine name of a code: "invalid_input", "not_found", ... */
const char *lt_code_name(enum lt_code code);

/* The HTTP status an error of this code is answered with. */
int lt_code_http_status(enum lt_code code);

/* Print err for a person: "lienthong: error: ..." then detail and hint lines. */
void lt_error_print(const struct lt_error *err, FILE *out);

/* Report an impossible state with its place and abort. */
#define BUG(...) lt_bug(__FILE__, __LINE__, __VA_ARGS__)
_Noreturn void lt_bug(const char *file, int line, const char *fmt, ...) LT_PRINTF(3, 4);

#endif
