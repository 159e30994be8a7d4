/*
 * embedded.h - files compiled into the binary with their index.
 *
 * tools/embed.c --index NAME writes "const struct embedded_file NAME[]" at
 * build time: one entry per file, ended by an entry whose name is NULL.
 * Everything is constant and lives as long as the program.
 */
#ifndef LT_EMBEDDED_H
#define LT_EMBEDDED_H

#include <stddef.h>

struct embedded_file {
    const char *name; /* the file's base name, "app.css" */
    const char *data; /* its bytes, NUL-terminated */
    size_t len;       /* without the NUL */
    const char *etag; /* "\"<16 hex digits>\"", a hash of the bytes */
};

#endif
