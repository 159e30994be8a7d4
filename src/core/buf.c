/*
 * buf.c - bounded buffers and the aborting allocators.
 */
#include "core/buf.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/banned.h"

static _Noreturn void out_of_memory(size_t size)
{
    fprintf(stderr, "lienthong: fatal: out of memory allocating %zu bytes\n", size);
    abort();
}

void *xmalloc(size_t size)
{
    void *p = malloc(size ? size : 1);

    if (p == NULL) {
        out_of_memory(size);
    }
    return p;
}

void *xcalloc(size_t n, size_t size)
{
    void *p = calloc(n ? n : 1, size ? size : 1);

    if (p == NULL) {
        out_of_memory(n * size);
    }
    return p;
}

void *xrealloc(void *p, size_t size)
{
    void *q = realloc(p, size ? size : 1);

    if (q == NULL) {
        out_of_memory(size);
    }
    return q;
}

char *xstrndup(const char *s, size_t n)
{
    char *p = xmalloc(n + 1);

    memcpy(p, s, n);
    p[n] = '\0';
    return p;
}

char *xstrdup(const char *s)
{
    return xstrndup(s, strlen(s));
}

void buf_init(struct buf *b, size_t cap)
{
    b->data = NULL;
    b->len = 0;
    b->alloc = 0;
    b->cap = cap;
}

void buf_release(struct buf *b)
{
    if (b == NULL) {
        return;
    }
    free(b->data);
    b->data = NULL;
    b->len = 0;
    b->alloc = 0;
}

void buf_reset(struct buf *b)
{
    b->len = 0;
    if (b->data) {
        b->data[0] = '\0';
    }
}

/* Make room for extra more bytes plus the terminator. */
static enum lt_code reserve(struct buf *b, size_t extra)
{
    size_t want;

    if (extra > b->cap || b->len > b->cap - extra) {
        return LT_ETOOBIG;
    }
    want = b->len + extra + 1;
    if (want <= b->alloc) {
        return LT_OK;
    }
    size_t alloc = b->alloc ? b->alloc : 64;
    while (alloc < want) {
        alloc *= 2;
    }
    if (alloc > b->cap + 1) {
        alloc = b->cap + 1;
    }
    b->data = xrealloc(b->data, alloc);
    b->alloc = alloc;
    return LT_OK;
}

enum lt_code buf_append(struct buf *b, const void *data, size_t len)
{
    if (reserve(b, len) != LT_OK) {
        return LT_ETOOBIG;
    }
    if (len) {
        memcpy(b->data + b->len, data, len);
    }
    b->len += len;
    b->data[b->len] = '\0';
    return LT_OK;
}

enum lt_code buf_append_str(struct buf *b, const char *s)
{
    return buf_append(b, s, strlen(s));
}

enum lt_code buf_append_char(struct buf *b, char c)
{
    return buf_append(b, &c, 1);
}

enum lt_code buf_printf(struct buf *b, const char *fmt, ...)
{
    va_list ap;
    int n;

    va_start(ap, fmt);
    n = vsnprintf(NULL, 0, fmt, ap);
    va_end(ap);
    if (n < 0) {
        return LT_EINTERNAL;
    }
    if (reserve(b, (size_t)n) != LT_OK) {
        return LT_ETOOBIG;
    }
    va_start(ap, fmt);
    vsnprintf(b->data + b->len, (size_t)n + 1, fmt, ap);
    va_end(ap);
    b->len += (size_t)n;
    return LT_OK;
}

const char *buf_str(const struct buf *b)
{
    return b->data ? b->data : "";
}
