/*
 * buf.h - bounded, growable byte buffers.
 *
 * A struct buf owns its bytes, keeps them NUL-terminated, and never grows
 * past its cap: an append that would go over it fails with LT_ETOOBIG and
 * leaves the buffer as it was.  Every buffer sized by outside input (request
 * bodies, CSV lines, sync batches) is one of these with a hard cap.
 * Allocation failure aborts, as for every internal allocation.
 */
#ifndef LT_BUF_H
#define LT_BUF_H

#include <stdarg.h>
#include <stddef.h>

#include "core/error.h"

struct buf {
    char *data; /* NUL-terminated; NULL until the first append */
    size_t len;
    size_t alloc;
    size_t cap; /* hard limit on len */
};

/* Start an empty buffer that may hold at most cap bytes. */
void buf_init(struct buf *b, size_t cap);

/* Free the bytes; the buffer can be initialised again.  b may be NULL. */
void buf_release(struct buf *b);

/* Forget the contents, keep the allocation. */
void buf_reset(struct buf *b);

/* Append len bytes; LT_ETOOBIG (nothing appended) past the cap. */
enum lt_code buf_append(struct buf *b, const void *data, size_t len);

enum lt_code buf_append_str(struct buf *b, const char *s);
enum lt_code buf_append_char(struct buf *b, char c);
enum lt_code buf_printf(struct buf *b, const char *fmt, ...) LT_PRINTF(2, 3);

/* The contents as a string; "" for a buffer never written to (borrowed). */
const char *buf_str(const struct buf *b);

/* Abort-on-failure allocation, for sizes that do not come from outside. */
void *xmalloc(size_t size);
void *xcalloc(size_t n, size_t size);
void *xrealloc(void *p, size_t size);
char *xstrdup(const char *s);
char *xstrndup(const char *s, size_t n);

#endif
