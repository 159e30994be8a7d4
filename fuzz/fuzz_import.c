/*
 * fuzz_import.c - libFuzzer target for the import row parsers.
 *
 * The first byte picks the format (CSV or NDJSON) and the registry kind;
 * the rest is the file.  Every row goes through the reader and into a
 * record (rows.h), as "lienthong import" does before writing, and what must
 * hold for any input is checked: the reader always moves forward and ends,
 * line numbers grow, cells are NUL-terminated and within the caps, a
 * refused row says why.  A record that also passes validation must dump as
 * json_dumps does (canon_dump), and must come back the same through its
 * CSV line (registry_record_to_csv, then the reader and rows again).
 */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>

#include "core/buf.h"
#include "core/date.h"
#include "import/reader.h"
#include "import/rows.h"
#include "registry/kinds.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* A header naming the kind's columns in order, for files whose own header is bad. */
static void default_header(enum registry_kind kind, struct import_header *h)
{
    const char *const *cols = registry_columns(kind);
    struct import_row row;
    struct lt_error err;

    memset(&row, 0, sizeof(row));
    for (size_t i = 0; cols[i] != NULL; i++) {
        row.cells[i] = cols[i];
        row.lens[i] = strlen(cols[i]);
        row.ncells++;
    }
    if (import_header_read(kind, &row, h, &err) != LT_OK) {
        abort();
    }
}

/* A valid record's CSV line must read back into the same canonical record. */
static void round_trip(enum registry_kind kind, const struct import_header *h, const json_t *canon)
{
    struct buf line;
    struct import_reader *r;
    struct import_row row;
    struct lt_error err;
    json_t *back = NULL, *canon2 = NULL;

    buf_init(&line, 1 << 20);
    if (registry_record_to_csv(kind, canon, &line) != LT_OK) {
        abort();
    }
    r = import_reader_mem(line.data, line.len, IMPORT_CSV);
    if (import_read(r, &row, &err) != IMPORT_ROW || row.err.code != LT_OK ||
        import_csv_record(h, &row, &back, &err) != LT_OK ||
        registry_validate(units_builtin(), kind, back, DATE_MIN, &canon2, &err) != LT_OK ||
        !json_equal((json_t *)canon, canon2)) {
        abort();
    }
    json_decref(back);
    json_decref(canon2);
    import_reader_free(r);
    buf_release(&line);
}

static void check_record(enum registry_kind kind, const struct import_header *h, json_t *record)
{
    struct lt_error err;
    json_t *canon = NULL;
    char *want, *got = NULL;
    size_t len;

    if (!json_is_object(record)) {
        abort();
    }
    if (registry_validate(units_builtin(), kind, record, DATE_MIN, &canon, &err) != LT_OK) {
        if (err.code == LT_OK || err.message[0] == '\0') {
            abort();
        }
        return;
    }
    want = json_dumps(canon, REG_DUMP_FLAGS);
    if (want == NULL || canon_dump(canon, 1 << 20, &got, &len) != LT_OK || strcmp(want, got) != 0 ||
        len != strlen(want)) {
        abort();
    }
    free(want);
    free(got);
    round_trip(kind, h, canon);
    json_decref(canon);
}

static void check_row(const struct import_row *row, bool csv)
{
    if (row->err.code != LT_OK) {
        if (row->err.message[0] == '\0' || row->ncells != 0) {
            abort();
        }
        return;
    }
    if (!csv && (row->text == NULL || row->len > IMPORT_LINE_MAX)) {
        abort();
    }
    if (csv && (row->ncells == 0 || row->ncells > IMPORT_CELLS_MAX)) {
        abort();
    }
    for (size_t i = 0; csv && i < row->ncells; i++) {
        if (strlen(row->cells[i]) != row->lens[i] || row->lens[i] > IMPORT_LINE_MAX) {
            abort();
        }
    }
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    enum registry_kind kind;
    bool csv;
    struct import_reader *r;
    struct import_header h;
    struct import_row row;
    struct lt_error err;
    enum import_read got;
    long last_line = 0;
    uint64_t last_offset = 0;
    bool header = true;

    if (size < 1) {
        return 0;
    }
    csv = (data[0] & 1) != 0;
    kind = (enum registry_kind)((data[0] >> 1) % REG_KIND_COUNT);
    r = import_reader_mem(data + 1, size - 1, csv ? IMPORT_CSV : IMPORT_NDJSON);
    default_header(kind, &h);
    while ((got = import_read(r, &row, &err)) == IMPORT_ROW) {
        json_t *record = NULL;
        enum lt_code rc;

        check_row(&row, csv);
        if (row.line <= last_line || row.lines < 1 || import_reader_offset(r) <= last_offset ||
            import_reader_offset(r) > size - 1) {
            abort();
        }
        last_line = row.line + row.lines - 1;
        last_offset = import_reader_offset(r);
        if (csv && header) {
            header = false;
            if (import_header_read(kind, &row, &h, &err) != LT_OK) {
                default_header(kind, &h);
            }
            continue;
        }
        rc = csv ? import_csv_record(&h, &row, &record, &err)
                 : import_ndjson_record(&row, &record, &err);
        if (rc != LT_OK) {
            if (record != NULL || err.message[0] == '\0') {
                abort();
            }
            continue;
        }
        check_record(kind, &h, record);
        json_decref(record);
    }
    if (got != IMPORT_END) {
        abort(); /* memory cannot fail to read */
    }
    import_reader_free(r);
    return 0;
}
