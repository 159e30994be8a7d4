/*
 * rows.h - import rows into registry records.
 *
 * A CSV file starts with a header naming each column of the kind
 * (registry_columns) exactly once, in any order; each row then has one cell
 * per column and becomes a record through registry_record_from_cells.  An
 * NDJSON line is one record as a JSON object.  Either way the record still
 * needs validating (registry_write does that); here are the checks that
 * come before: UTF-8, cell counts, JSON syntax.  Errors name the line and,
 * where there is one, the field (the CSV column) at fault.
 */
#ifndef LT_IMPORT_ROWS_H
#define LT_IMPORT_ROWS_H

#include <stddef.h>

#include <jansson.h>

#include "core/error.h"
#include "import/reader.h"
#include "registry/registry.h"

/* How the cells of a CSV file's rows map onto a kind's columns. */
struct import_header {
    enum registry_kind kind;
    const char *const *columns;      /* registry_columns(kind) */
    size_t ncolumns;                 /* of the kind */
    size_t ncells;                   /* of the header, and so of each row */
    size_t column[IMPORT_CELLS_MAX]; /* cell i holds columns[column[i]] */
};

/*
 * Read the header row of a CSV file of kind.  LT_EINVAL (field: the column
 * at fault) for an unknown or repeated column, a missing required one, or
 * a bad row.  An optional column left out is empty in every row.
 */
enum lt_code import_header_read(enum registry_kind kind, const struct import_row *row,
                                struct import_header *h, struct lt_error *err);

/*
 * The record of a CSV row (new reference in *record).  LT_EINVAL for a bad
 * row, a row with a missing or extra cell, a cell that is not UTF-8, or a
 * cell registry_record_from_cells refuses; the message starts with the line.
 */
enum lt_code import_csv_record(const struct import_header *h, const struct import_row *row,
                               json_t **record, struct lt_error *err);

/*
 * The record of an NDJSON line (new reference in *record): a JSON object,
 * no duplicate keys.  LT_EINVAL for a bad row, invalid UTF-8 or malformed
 * JSON, with the line and column.
 */
enum lt_code import_ndjson_record(const struct import_row *row, json_t **record,
                                  struct lt_error *err);

/*
 * True if s[0..len) is well-formed UTF-8 (shortest forms, no surrogates);
 * otherwise false with the offset of the first bad byte in *bad_at.
 */
bool import_utf8_valid(const char *s, size_t len, size_t *bad_at);

#endif
