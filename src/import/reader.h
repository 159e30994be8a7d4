/*
 * reader.h - reading import files into rows: NDJSON lines and CSV records.
 *
 * Input comes from a file descriptor, read in large chunks, or from memory
 * (tests, fuzzing).  A reader only splits: a CSV record into its cells
 * (RFC 4180: cells separated by commas, records by CRLF or LF, a cell in
 * double quotes may hold commas, line breaks and doubled quotes), an NDJSON
 * file into lines.  What a row means is rows.h's business.
 *
 * One bad row never stops a file: a line or record longer than
 * IMPORT_LINE_MAX, binary data (a NUL byte), a stray quote or a cell past
 * IMPORT_CELLS_MAX is reported in that row and reading goes on after it.
 * Blank lines are skipped; a UTF-8 byte order mark at the start is dropped.
 * Line numbers are 1-based and count line feeds, so a CSV record with a line
 * break inside a quoted cell spans several lines and is known by its first.
 */
#ifndef LT_IMPORT_READER_H
#define LT_IMPORT_READER_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "core/error.h"

#define IMPORT_LINE_MAX  (64 * 1024) /* bytes of one NDJSON line or CSV record */
#define IMPORT_CELLS_MAX 64

enum import_format {
    IMPORT_CSV,
    IMPORT_NDJSON,
};

struct import_reader;

/* A reader of fd (not closed by the reader), or of data[0..len) (borrowed). */
struct import_reader *import_reader_fd(int fd, enum import_format format);
struct import_reader *import_reader_mem(const void *data, size_t len, enum import_format format);
void import_reader_free(struct import_reader *r); /* NULL ok */

/* The format r was opened for. */
enum import_format import_reader_format(const struct import_reader *r);

/* Bytes of input consumed so far (for a progress bar). */
uint64_t import_reader_offset(const struct import_reader *r);

/*
 * One row.  Everything in it is borrowed from the reader until the next
 * import_read.  When err.code is not LT_OK the row is bad (err says why,
 * err.field is empty) and its cells or text must not be used.
 */
struct import_row {
    long line;  /* the line it starts on */
    long lines; /* how many lines it spans */
    /* NDJSON: the line without its line end (not NUL-terminated) */
    const char *text;
    size_t len;
    /* CSV: the cells, each NUL-terminated, with their lengths */
    const char *cells[IMPORT_CELLS_MAX];
    size_t lens[IMPORT_CELLS_MAX];
    size_t ncells;
    struct lt_error err;
};

enum import_read {
    IMPORT_ROW,  /* *row holds the next row, good or bad */
    IMPORT_END,  /* no more rows */
    IMPORT_FAIL, /* the input could not be read: err (LT_EIO) */
};

enum import_read import_read(struct import_reader *r, struct import_row *row, struct lt_error *err);

#endif
