/*
 * rows.c - import rows into registry records: the CSV header, cell counts,
 * UTF-8, JSON syntax.
 *
 * The field-by-field rules are the registry's (registry_record_from_cells,
 * then validation at write time); this file only makes sure what it hands
 * over is text of the right shape, and says which line and column is not.
 */
#include "import/rows.h"

#include <stdint.h>
#include <string.h>
#include <strings.h>

#include "core/banned.h"

/* Bytes 8 at a time while they are ASCII: most import text is. */
static size_t ascii_prefix(const unsigned char *s, size_t len)
{
    size_t i = 0;

    while (i + 8 <= len) {
        uint64_t w;

        memcpy(&w, s + i, 8);
        if (w & UINT64_C(0x8080808080808080)) {
            break;
        }
        i += 8;
    }
    while (i < len && s[i] < 0x80) {
        i++;
    }
    return i;
}

/* The length of the well-formed sequence at s (n bytes left), or 0. */
static size_t utf8_seq(const unsigned char *s, size_t n)
{
    unsigned char c = s[0];
    unsigned char lo = 0x80, hi = 0xBF;
    size_t len;

    if (c >= 0xC2 && c <= 0xDF) {
        len = 2;
    } else if (c >= 0xE0 && c <= 0xEF) {
        len = 3;
        lo = c == 0xE0 ? 0xA0 : 0x80;
        hi = c == 0xED ? 0x9F : 0xBF;
    } else if (c >= 0xF0 && c <= 0xF4) {
        len = 4;
        lo = c == 0xF0 ? 0x90 : 0x80;
        hi = c == 0xF4 ? 0x8F : 0xBF;
    } else {
        return 0;
    }
    if (n < len || s[1] < lo || s[1] > hi) {
        return 0;
    }
    for (size_t i = 2; i < len; i++) {
        if (s[i] < 0x80 || s[i] > 0xBF) {
            return 0;
        }
    }
    return len;
}

bool import_utf8_valid(const char *text, size_t len, size_t *bad_at)
{
    const unsigned char *s = (const unsigned char *)text;
    size_t i = 0;

    for (;;) {
        size_t n;

        i += ascii_prefix(s + i, len - i);
        if (i == len) {
            return true;
        }
        n = utf8_seq(s + i, len - i);
        if (n == 0) {
            if (bad_at != NULL) {
                *bad_at = i;
            }
            return false;
        }
        i += n;
    }
}

/* Copy a bad row's error, which the reader set without a field. */
static enum lt_code row_error(const struct import_row *row, struct lt_error *err)
{
    if (err != NULL) {
        *err = row->err;
    }
    return row->err.code;
}

enum lt_code import_header_read(enum registry_kind kind, const struct import_row *row,
                                struct import_header *h, struct lt_error *err)
{
    bool seen[IMPORT_CELLS_MAX] = { false };

    memset(h, 0, sizeof(*h));
    h->kind = kind;
    h->columns = registry_columns(kind);
    if (h->columns == NULL) {
        return lt_error_set(err, LT_EINVAL, "unknown registry kind %d", (int)kind);
    }
    if (row->err.code != LT_OK) {
        return row_error(row, err);
    }
    while (h->columns[h->ncolumns] != NULL) {
        h->ncolumns++;
    }
    for (size_t i = 0; i < row->ncells; i++) {
        size_t c = 0;

        /* FULL_NAME or Full_Name, as a spreadsheet may write it, is full_name */
        while (c < h->ncolumns && strcasecmp(h->columns[c], row->cells[i]) != 0) {
            c++;
        }
        if (c == h->ncolumns) {
            lt_error_set(err, LT_EINVAL, "the header names an unknown column \"%.60s\"",
                         row->cells[i]);
            lt_error_field(err, row->cells[i]);
            if (row->ncells == 1 && strchr(row->cells[i], ';') != NULL) {
                lt_error_hint(err, "the cells seem separated by semicolons, as a spreadsheet in "
                                   "a Vietnamese locale saves them: save as CSV with commas");
            } else {
                lt_error_hint(err, "the columns of %s: see \"lienthong export --kind %s\"",
                              registry_kind_name(kind), registry_kind_name(kind));
            }
            return LT_EINVAL;
        }
        if (seen[c]) {
            lt_error_set(err, LT_EINVAL, "the header names column \"%s\" twice", h->columns[c]);
            lt_error_field(err, h->columns[c]);
            return LT_EINVAL;
        }
        seen[c] = true;
        h->column[i] = c;
    }
    h->ncells = row->ncells;
    for (size_t c = 0; c < h->ncolumns; c++) {
        if (!seen[c] && registry_column_required(kind, c)) {
            lt_error_set(err, LT_EINVAL, "the header has no column \"%s\", which is required",
                         h->columns[c]);
            lt_error_field(err, h->columns[c]);
            lt_error_hint(err, "name every required column of the %s registry once, in any order",
                          registry_kind_name(kind));
            return LT_EINVAL;
        }
    }
    return LT_OK;
}

enum lt_code import_csv_record(const struct import_header *h, const struct import_row *row,
                               json_t **record, struct lt_error *err)
{
    const char *cells[IMPORT_CELLS_MAX];
    size_t bad;

    *record = NULL;
    if (row->err.code != LT_OK) {
        return row_error(row, err);
    }
    if (row->ncells < h->ncells) {
        const char *missing = h->columns[h->column[row->ncells]];

        lt_error_set(err, LT_EINVAL, "%zu cells, the header has %zu: no cell for column \"%s\"",
                     row->ncells, h->ncells, missing);
        lt_error_field(err, missing);
        return LT_EINVAL;
    }
    if (row->ncells > h->ncells) {
        return lt_error_set(err, LT_EINVAL, "%zu cells, the header has %zu columns", row->ncells,
                            h->ncells);
    }
    for (size_t c = 0; c < h->ncolumns; c++) {
        cells[c] = ""; /* a column the header left out */
    }
    for (size_t i = 0; i < row->ncells; i++) {
        const char *name = h->columns[h->column[i]];

        if (!import_utf8_valid(row->cells[i], row->lens[i], &bad)) {
            lt_error_set(err, LT_EINVAL, "field \"%s\": invalid UTF-8 at byte %zu", name, bad + 1);
            lt_error_field(err, name);
            lt_error_hint(err, "save the file as UTF-8");
            return LT_EINVAL;
        }
        cells[h->column[i]] = row->cells[i];
    }
    return registry_record_from_cells(h->kind, cells, h->ncolumns, record, err);
}

enum lt_code import_ndjson_record(const struct import_row *row, json_t **record,
                                  struct lt_error *err)
{
    json_error_t jerr;
    size_t bad;

    *record = NULL;
    if (row->err.code != LT_OK) {
        return row_error(row, err);
    }
    if (!import_utf8_valid(row->text, row->len, &bad)) {
        lt_error_set(err, LT_EINVAL, "invalid UTF-8 at column %zu", bad + 1);
        lt_error_hint(err, "save the file as UTF-8");
        return LT_EINVAL;
    }
    *record = json_loadb(row->text, row->len, JSON_REJECT_DUPLICATES, &jerr);
    if (*record == NULL) {
        lt_error_set(err, LT_EINVAL, "malformed JSON: %s", jerr.text);
        lt_error_detail(err, "at column %d", jerr.column);
        lt_error_hint(err, "one JSON object per line");
        return LT_EINVAL;
    }
    if (!json_is_object(*record)) {
        json_decref(*record);
        *record = NULL;
        lt_error_set(err, LT_EINVAL, "not a JSON object");
        lt_error_hint(err, "one JSON object per line");
        return LT_EINVAL;
    }
    return LT_OK;
}
