/*
 * reader.c - splitting import input into NDJSON lines and CSV records.
 *
 * Design note.  Input sits in one window: the caller's bytes, or for a file
 * descriptor a buffer of IMPORT_LINE_MAX plus a chunk, refilled by moving
 * the unread tail to the front.  NDJSON lines are handed out in place (no
 * copy), which is why the window keeps room for a whole line; a longer line
 * is dropped as it streams by.  CSV goes through a byte-at-a-time state
 * machine that copies cell bytes (unquoted, quotes undoubled) into a record
 * buffer with a NUL after each cell, so quoted line breaks may span window
 * refills.  After an error a CSV record ends at the end of its physical
 * line, which is where a writer who made the mistake most likely ended it.
 */
#include "import/reader.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "core/buf.h"
#include "core/banned.h"

#define CHUNK (1024 * 1024)

struct import_reader {
    int fd; /* -1: memory */
    enum import_format format;
    char *own;       /* the window for fd input */
    const char *buf; /* own, or the caller's bytes */
    size_t size;     /* of own */
    size_t pos, end; /* unread input is buf[pos..end) */
    bool eof;        /* nothing more after end */
    bool started;    /* the byte order mark was looked for */
    uint64_t base;   /* input offset of buf[0] */
    long line;       /* the line buf[pos] is on */
    char *cells;     /* CSV cell bytes and their NULs */
};

/* CSV states, between two bytes of a record. */
enum cstate {
    C_START,    /* at the start of a cell */
    C_UNQUOTED, /* in a cell that did not start with a quote */
    C_QUOTED,   /* inside quotes */
    C_QUOTE,    /* after a quote inside quotes: a doubled one or the closing one */
    C_SKIP,     /* a bad record: dropping bytes to the end of its line */
};

/* A CSV record being built. */
struct rec {
    struct import_reader *r;
    struct import_row *row;
    size_t out;   /* bytes used in r->cells */
    size_t start; /* where the current cell starts */
    long quote_line;
    bool too_long;
};

/* Read more input after buf[pos..end), keeping those bytes.  false on a read error. */
static bool fill(struct import_reader *r, struct lt_error *err)
{
    ssize_t n;

    if (r->eof) {
        return true;
    }
    if (r->pos > 0) {
        memmove(r->own, r->own + r->pos, r->end - r->pos);
        r->base += r->pos;
        r->end -= r->pos;
        r->pos = 0;
    }
    do {
        n = read(r->fd, r->own + r->end, r->size - r->end);
    } while (n < 0 && errno == EINTR);
    if (n < 0) {
        lt_error_set(err, LT_EIO, "could not read the input: %s", strerror(errno));
        return false;
    }
    if (n == 0) {
        r->eof = true;
    }
    r->end += (size_t)n;
    return true;
}

/* Drop a UTF-8 byte order mark at the very start (spreadsheets write one). */
static bool skip_bom(struct import_reader *r, struct lt_error *err)
{
    r->started = true;
    while (r->end - r->pos < 3 && !r->eof) {
        if (!fill(r, err)) {
            return false;
        }
    }
    if (r->end - r->pos >= 3 && memcmp(r->buf + r->pos, "\xEF\xBB\xBF", 3) == 0) {
        r->pos += 3;
    }
    return true;
}

static bool blank(const char *s, size_t len)
{
    for (size_t i = 0; i < len; i++) {
        if (s[i] != ' ' && s[i] != '\t' && s[i] != '\r') {
            return false;
        }
    }
    return true;
}

static void row_start(struct import_row *row, long line)
{
    row->line = line;
    row->lines = 1;
    row->text = NULL;
    row->len = 0;
    row->ncells = 0;
    lt_error_clear(&row->err);
}

static enum import_read line_too_long(struct import_row *row, long line)
{
    row_start(row, line);
    lt_error_set(&row->err, LT_ETOOBIG, "the line is longer than %d bytes", IMPORT_LINE_MAX);
    lt_error_hint(&row->err, "one record per line; a record is far shorter than this");
    return IMPORT_ROW;
}

/* A complete NDJSON line: its line end stripped, binary data refused. */
static enum import_read line_row(struct import_row *row, long line, const char *s, size_t len)
{
    const char *nul;

    row_start(row, line);
    if (len > 0 && s[len - 1] == '\r') {
        len--;
    }
    nul = memchr(s, '\0', len);
    if (nul != NULL) {
        lt_error_set(&row->err, LT_EINVAL, "binary data: a NUL byte at column %zu",
                     (size_t)(nul - s) + 1);
        lt_error_hint(&row->err, "the input must be UTF-8 text");
        return IMPORT_ROW;
    }
    row->text = s;
    row->len = len;
    return IMPORT_ROW;
}

static enum import_read read_line(struct import_reader *r, struct import_row *row,
                                  struct lt_error *err)
{
    long first = r->line;
    bool dropping = false; /* too long: its bytes are dropped up to its line end */

    for (;;) {
        const char *s = r->buf + r->pos;
        size_t avail = r->end - r->pos;
        const char *nl = memchr(s, '\n', avail);

        if (nl != NULL) {
            size_t len = (size_t)(nl - s);

            r->pos += len + 1;
            r->line++;
            if (dropping || len > IMPORT_LINE_MAX) {
                return line_too_long(row, first);
            }
            if (blank(s, len)) {
                first = r->line;
                continue;
            }
            return line_row(row, first, s, len);
        }
        if (dropping || avail > IMPORT_LINE_MAX) {
            dropping = true;
            r->pos = r->end;
            avail = 0;
        }
        if (r->eof) {
            r->pos = r->end;
            if (dropping) {
                return line_too_long(row, first);
            }
            if (blank(s, avail)) {
                return IMPORT_END;
            }
            return line_row(row, first, s, avail);
        }
        if (!fill(r, err)) {
            return IMPORT_FAIL;
        }
    }
}

/* Mark the record bad (the first reason wins) and drop the rest of its line. */
static enum cstate bad_record(struct rec *b, const char *fmt, long a)
{
    if (b->row->err.code == LT_OK) {
        lt_error_set(&b->row->err, LT_EINVAL, fmt, a);
    }
    return C_SKIP;
}

static void put(struct rec *b, char c)
{
    if (b->out < IMPORT_LINE_MAX) {
        b->r->cells[b->out++] = c;
    } else {
        b->too_long = true;
    }
}

/* The cell ends; false when there are too many. */
static bool end_cell(struct rec *b)
{
    struct import_row *row = b->row;

    if (row->ncells == IMPORT_CELLS_MAX) {
        return false;
    }
    /* room for this NUL: the buffer has IMPORT_CELLS_MAX + 1 bytes past the cap */
    b->r->cells[b->out] = '\0';
    row->cells[row->ncells] = b->r->cells + b->start;
    row->lens[row->ncells] = b->out - b->start;
    row->ncells++;
    b->out++;
    b->start = b->out;
    return true;
}

static void rec_reset(struct rec *b, long line)
{
    row_start(b->row, line);
    b->out = 0;
    b->start = 0;
    b->too_long = false;
}

/* The record ends at a line end (or the end of the input). */
static enum import_read rec_end(struct rec *b, enum cstate st)
{
    struct import_row *row = b->row;

    row->lines = b->r->line - row->line;
    if (row->lines < 1) {
        row->lines = 1;
    }
    if (st != C_SKIP && !end_cell(b) && row->err.code == LT_OK) {
        lt_error_set(&row->err, LT_EINVAL, "more than %d cells", IMPORT_CELLS_MAX);
    }
    if (b->too_long) {
        lt_error_set(&row->err, LT_ETOOBIG, "the record is longer than %d bytes", IMPORT_LINE_MAX);
    }
    if (row->err.code != LT_OK) {
        row->ncells = 0;
    }
    return IMPORT_ROW;
}

/* The next byte, refilling the window; -1 at the end of the input, -2 on a read error. */
static int next_byte(struct import_reader *r, struct lt_error *err)
{
    if (r->pos == r->end) {
        if (r->eof) {
            return -1;
        }
        if (!fill(r, err)) {
            return -2;
        }
        if (r->pos == r->end) {
            return -1;
        }
    }
    return (unsigned char)r->buf[r->pos++];
}

/* After a '\r': true (and consumed) if a '\n' follows. */
static bool crlf(struct import_reader *r, struct lt_error *err, bool *failed)
{
    int c = next_byte(r, err);

    if (c == -2) {
        *failed = true;
        return false;
    }
    if (c == '\n') {
        r->line++;
        return true;
    }
    if (c >= 0) {
        r->pos--; /* not consumed: it is in the window still */
    }
    return false;
}

/* One byte of a record in state st: the next state, or -1 when the record ended. */
static int csv_step(struct rec *b, enum cstate st, int c, bool eol)
{
    switch (st) {
    case C_START:
    case C_UNQUOTED:
        if (eol) {
            return -1;
        }
        if (c == ',') {
            return end_cell(b) ? C_START : bad_record(b, "more than %ld cells", IMPORT_CELLS_MAX);
        }
        if (c == '"') {
            if (st == C_START) {
                b->quote_line = b->r->line;
                return C_QUOTED;
            }
            return bad_record(b, "a quote inside cell %ld, which does not start with one",
                              (long)b->row->ncells + 1);
        }
        put(b, (char)c);
        return C_UNQUOTED;
    case C_QUOTED:
        if (c == '"') {
            return C_QUOTE;
        }
        put(b, (char)c);
        return C_QUOTED;
    case C_QUOTE:
        if (eol) {
            return -1;
        }
        if (c == '"') {
            put(b, '"');
            return C_QUOTED;
        }
        if (c == ',') {
            return end_cell(b) ? C_START : bad_record(b, "more than %ld cells", IMPORT_CELLS_MAX);
        }
        return bad_record(b, "text after the closing quote of cell %ld", (long)b->row->ncells + 1);
    case C_SKIP:
        return eol ? -1 : C_SKIP;
    }
    BUG("unknown CSV state %d", (int)st);
}

static enum import_read read_record(struct import_reader *r, struct import_row *row,
                                    struct lt_error *err)
{
    struct rec b = { .r = r, .row = row };
    enum cstate st = C_START;
    bool failed = false;

    rec_reset(&b, r->line);
    for (;;) {
        int c = next_byte(r, err);
        bool eol = false;
        int next;

        if (c == -2) {
            return IMPORT_FAIL;
        }
        if (c == -1) {
            break;
        }
        if (c == '\n') {
            r->line++;
            eol = st != C_QUOTED;
        } else if (c == '\r' && st != C_QUOTED) {
            /* XXX: a lone CR (old Mac line ends) is data, which validation then refuses */
            eol = crlf(r, err, &failed);
            if (failed) {
                return IMPORT_FAIL;
            }
        } else if (c == '\0' && st != C_SKIP) {
            st = bad_record(&b, "binary data: a NUL byte in cell %ld", (long)row->ncells + 1);
            continue;
        }
        if (eol && st == C_START && row->ncells == 0) {
            rec_reset(&b, r->line); /* a blank line */
            continue;
        }
        next = csv_step(&b, st, c, eol);
        if (next < 0) {
            return rec_end(&b, st);
        }
        st = (enum cstate)next;
    }

    /* the end of the input */
    if (st == C_START && row->ncells == 0) {
        return IMPORT_END;
    }
    if (st == C_QUOTED) {
        st = bad_record(&b, "the quoted cell opened on line %ld is never closed", b.quote_line);
        lt_error_hint(&row->err, "a quote inside a quoted cell is written twice: \"\"");
    }
    return rec_end(&b, st);
}

struct import_reader *import_reader_fd(int fd, enum import_format format)
{
    struct import_reader *r = xcalloc(1, sizeof(*r));

    r->fd = fd;
    r->format = format;
    r->size = IMPORT_LINE_MAX + CHUNK;
    r->own = xmalloc(r->size);
    r->buf = r->own;
    r->line = 1;
    r->cells = xmalloc(IMPORT_LINE_MAX + IMPORT_CELLS_MAX + 1);
    return r;
}

struct import_reader *import_reader_mem(const void *data, size_t len, enum import_format format)
{
    struct import_reader *r = xcalloc(1, sizeof(*r));

    r->fd = -1;
    r->format = format;
    r->buf = data != NULL ? data : "";
    r->end = data != NULL ? len : 0;
    r->eof = true;
    r->line = 1;
    r->cells = xmalloc(IMPORT_LINE_MAX + IMPORT_CELLS_MAX + 1);
    return r;
}

void import_reader_free(struct import_reader *r)
{
    if (r == NULL) {
        return;
    }
    free(r->own);
    free(r->cells);
    free(r);
}

enum import_format import_reader_format(const struct import_reader *r)
{
    return r->format;
}

uint64_t import_reader_offset(const struct import_reader *r)
{
    return r->base + r->pos;
}

enum import_read import_read(struct import_reader *r, struct import_row *row, struct lt_error *err)
{
    if (!r->started && !skip_bom(r, err)) {
        return IMPORT_FAIL;
    }
    if (r->format == IMPORT_NDJSON) {
        return read_line(r, row, err);
    }
    return read_record(r, row, err);
}
