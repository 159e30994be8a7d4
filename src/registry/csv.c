/*
 * csv.c - the CSV shape of the registries, for import and export.
 *
 * The columns of a kind are the fields of its table, in order; nested
 * arrays (holders, encumbrances, industry codes) travel as JSON text in
 * their column.  Cells become JSON values by the field's type, so the
 * importer needs no knowledge of the kinds: it splits lines into cells and
 * hands them here, then to registry_validate or registry_write.
 */
#include <errno.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>

#include "registry/kinds.h"
#include "core/banned.h"

#define COLUMNS_MAX 16

static const char *columns[REG_KIND_COUNT][COLUMNS_MAX + 1];
static pthread_once_t columns_once = PTHREAD_ONCE_INIT;

static void build_columns(void)
{
    for (int k = 0; k < REG_KIND_COUNT; k++) {
        int i = 0;

        for (const struct field *f = kind_get((enum registry_kind)k)->fields; f->name; f++) {
            if (i == COLUMNS_MAX) {
                BUG("kind %d has more than %d fields", k, COLUMNS_MAX);
            }
            columns[k][i++] = f->name;
        }
        columns[k][i] = NULL;
    }
}

const char *const *registry_columns(enum registry_kind kind)
{
    if ((unsigned)kind >= REG_KIND_COUNT) {
        return NULL;
    }
    pthread_once(&columns_once, build_columns);
    return columns[kind];
}

bool registry_column_required(enum registry_kind kind, size_t i)
{
    const struct kind_def *k = kind_get(kind);
    size_t n = 0;

    for (const struct field *f = k != NULL ? k->fields : NULL; f != NULL && f->name; f++, n++) {
        if (n == i) {
            return (f->flags & F_REQUIRED) != 0;
        }
    }
    return false;
}

static enum lt_code cell_value(const struct field *f, const char *cell, json_t **out,
                               struct lt_error *err)
{
    char *end;
    json_error_t jerr;

    *out = NULL;
    switch (f->type) {
    case FT_INT: {
        long long v;

        errno = 0;
        v = strtoll(cell, &end, 10);
        if (errno != 0 || end == cell || *end != '\0') {
            return field_error(err, f->name, "\"%.40s\" is not an integer", cell);
        }
        *out = json_integer(v);
        return LT_OK;
    }
    case FT_NUMBER: {
        double v;

        errno = 0;
        v = strtod(cell, &end);
        if (errno != 0 || end == cell || *end != '\0') {
            return field_error(err, f->name, "\"%.40s\" is not a number", cell);
        }
        *out = json_real(v);
        return LT_OK;
    }
    case FT_OBJECTS:
    case FT_STRINGS:
        *out = json_loads(cell, JSON_REJECT_DUPLICATES, &jerr);
        if (*out == NULL || !json_is_array(*out)) {
            json_decref(*out);
            *out = NULL;
            return field_error(err, f->name, "is not a JSON array");
        }
        return LT_OK;
    case FT_STRING:
    case FT_ENUM:
    case FT_DATE:
        *out = json_string(cell);
        if (*out == NULL) {
            return field_error(err, f->name, "is not valid UTF-8");
        }
        return LT_OK;
    }
    BUG("unknown field type %d", (int)f->type);
}

enum lt_code registry_record_from_cells(enum registry_kind kind, const char *const *cells,
                                        size_t ncells, json_t **record, struct lt_error *err)
{
    const struct kind_def *k = kind_get(kind);
    size_t i = 0;
    json_t *rec;

    *record = NULL;
    if (k == NULL) {
        return lt_error_set(err, LT_EINVAL, "unknown registry kind %d", (int)kind);
    }
    rec = json_object();
    for (const struct field *f = k->fields; f->name; f++, i++) {
        json_t *v;
        enum lt_code rc;

        if (i >= ncells) {
            json_decref(rec);
            return lt_error_set(err, LT_EINVAL, "%zu cells, a %s row has more columns", ncells,
                                k->name);
        }
        if (cells[i] == NULL || cells[i][0] == '\0') {
            continue;
        }
        rc = cell_value(f, cells[i], &v, err);
        if (rc != LT_OK) {
            json_decref(rec);
            return rc;
        }
        json_object_set_new(rec, f->name, v);
    }
    if (i != ncells) {
        json_decref(rec);
        return lt_error_set(err, LT_EINVAL, "%zu cells, a %s row has %zu columns", ncells, k->name,
                            i);
    }
    *record = rec;
    return LT_OK;
}

/* Append s as one CSV cell, quoted when it holds a comma, a quote or a line break. */
static enum lt_code append_cell(struct buf *out, const char *s)
{
    enum lt_code rc = LT_OK;

    if (strpbrk(s, ",\"\r\n") == NULL) {
        return buf_append_str(out, s);
    }
    rc = buf_append_char(out, '"');
    for (const char *p = s; rc == LT_OK && *p; p++) {
        rc = *p == '"' ? buf_append_str(out, "\"\"") : buf_append_char(out, *p);
    }
    return rc == LT_OK ? buf_append_char(out, '"') : rc;
}

enum lt_code registry_record_to_csv(enum registry_kind kind, const json_t *record, struct buf *out)
{
    const struct kind_def *k = kind_get(kind);
    size_t start = out->len;
    enum lt_code rc = LT_OK;

    if (k == NULL) {
        return LT_EINVAL;
    }
    for (const struct field *f = k->fields; rc == LT_OK && f->name; f++) {
        const json_t *v = json_object_get(record, f->name);

        if (f != k->fields) {
            rc = buf_append_char(out, ',');
        }
        if (rc != LT_OK || v == NULL || json_is_null(v)) {
            continue;
        }
        if (json_is_string(v)) {
            rc = append_cell(out, json_string_value(v));
        } else if (json_is_integer(v)) {
            rc = buf_printf(out, "%lld", (long long)json_integer_value(v));
        } else if (json_is_real(v)) {
            rc = buf_printf(out, "%.15g", json_real_value(v));
        } else {
            char *text = json_dumps(v, REG_DUMP_FLAGS);

            rc = append_cell(out, text ? text : "");
            free(text);
        }
    }
    if (rc == LT_OK) {
        rc = buf_append_char(out, '\n');
    }
    if (rc != LT_OK) {
        /* leave the buffer as it was: no half line */
        out->len = start;
        if (out->data != NULL) {
            out->data[start] = '\0';
        }
    }
    return rc;
}
