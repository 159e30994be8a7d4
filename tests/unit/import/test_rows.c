/*
 * Tests for src/import/rows.c: the CSV header (any order, unknown, repeated
 * and missing columns), CSV rows into records (cell counts, UTF-8, the
 * record they make), NDJSON lines into records (syntax, duplicates, not an
 * object, UTF-8) and the UTF-8 check itself.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "import/rows.h"

#define DUMP (JSON_COMPACT | JSON_PRESERVE_ORDER)

/* The first row of text, read as CSV (the reader is freed: use at once). */
static struct import_row first_row(const char *text, size_t len, enum import_format format,
                                   struct import_reader **r)
{
    struct import_row row;
    struct lt_error err;

    *r = import_reader_mem(text, len, format);
    assert_int_equal(import_read(*r, &row, &err), IMPORT_ROW);
    return row;
}

static enum lt_code header_of(const char *line, struct import_header *h, struct lt_error *err)
{
    struct import_reader *r;
    struct import_row row = first_row(line, strlen(line), IMPORT_CSV, &r);
    enum lt_code rc = import_header_read(REG_HOUSEHOLD, &row, h, err);

    import_reader_free(r);
    return rc;
}

static void test_header(void **state)
{
    struct import_header h;
    struct lt_error err;

    (void)state;
    assert_int_equal(header_of("unit,id,address_line,head_id\n", &h, &err), LT_OK);
    assert_int_equal(h.ncolumns, 4);
    assert_string_equal(h.columns[h.column[0]], "unit");
    assert_string_equal(h.columns[h.column[3]], "head_id");

    assert_int_equal(header_of("id,head_id,unit,address_line,colour\n", &h, &err), LT_EINVAL);
    assert_string_equal(err.field, "colour");
    assert_non_null(strstr(err.message, "unknown column"));

    assert_int_equal(header_of("id,head_id,unit,id,address_line\n", &h, &err), LT_EINVAL);
    assert_string_equal(err.field, "id");
    assert_non_null(strstr(err.message, "twice"));

    assert_int_equal(header_of("id,head_id,address_line\n", &h, &err), LT_EINVAL);
    assert_string_equal(err.field, "unit");
    assert_non_null(strstr(err.message, "no column"));

    /* as a spreadsheet may write them: in capitals, or with semicolons */
    assert_int_equal(header_of("UNIT,Id,Address_Line,head_id\n", &h, &err), LT_OK);
    assert_string_equal(h.columns[h.column[0]], "unit");
    assert_int_equal(header_of("id;head_id;unit;address_line\n", &h, &err), LT_EINVAL);
    assert_non_null(strstr(err.hint, "semicolons"));
}

/* A header may leave out optional columns, not required ones. */
static void test_header_optional_columns(void **state)
{
    static const char text[] = "id,full_name,birth_date,sex,ethnicity,nationality,status\n"
                               "001085012345,Nguyễn Văn An,1985-03-02,male,01,VN,alive\n";
    struct import_reader *r = import_reader_mem(text, strlen(text), IMPORT_CSV);
    struct import_header h;
    struct import_row row;
    struct lt_error err;
    json_t *rec = NULL;
    char *dump;

    (void)state;
    assert_int_equal(import_read(r, &row, &err), IMPORT_ROW);
    assert_int_equal(import_header_read(REG_PERSON, &row, &h, &err), LT_OK);
    assert_int_equal(h.ncells, 7);
    assert_int_equal(import_read(r, &row, &err), IMPORT_ROW);
    assert_int_equal(import_csv_record(&h, &row, &rec, &err), LT_OK);
    dump = json_dumps(rec, DUMP);
    assert_string_equal(dump, "{\"id\":\"001085012345\",\"full_name\":\"Nguyễn Văn An\","
                              "\"birth_date\":\"1985-03-02\",\"sex\":\"male\",\"ethnicity\":"
                              "\"01\",\"nationality\":\"VN\",\"status\":\"alive\"}");
    free(dump);
    json_decref(rec);
    import_reader_free(r);

    r = import_reader_mem("id,birth_date,sex,ethnicity,nationality,status,mother_id\n", 57,
                          IMPORT_CSV);
    assert_int_equal(import_read(r, &row, &err), IMPORT_ROW);
    assert_int_equal(import_header_read(REG_PERSON, &row, &h, &err), LT_EINVAL);
    assert_string_equal(err.field, "full_name");
    assert_non_null(strstr(err.message, "required"));
    import_reader_free(r);
}

/* The record of row 2 of a household CSV file, or the error. */
static enum lt_code household_row(const char *text, json_t **rec, struct lt_error *err)
{
    struct import_reader *r = import_reader_mem(text, strlen(text), IMPORT_CSV);
    struct import_header h;
    struct import_row row;
    enum lt_code rc;

    assert_int_equal(import_read(r, &row, err), IMPORT_ROW);
    assert_int_equal(import_header_read(REG_HOUSEHOLD, &row, &h, err), LT_OK);
    assert_int_equal(import_read(r, &row, err), IMPORT_ROW);
    rc = import_csv_record(&h, &row, rec, err);
    import_reader_free(r);
    return rc;
}

static void test_csv_record(void **state)
{
    static const char bad_utf8[] =
        "unit,id,head_id,address_line\n00004,HK1,001084002045,S\xC3\x28\n";
    json_t *rec = NULL;
    struct lt_error err;
    char *text;

    (void)state;
    assert_int_equal(household_row("address_line,unit,id,head_id\n"
                                   "\"Số 1, phố Huế\",00004,HK1,001084002045\n",
                                   &rec, &err),
                     LT_OK);
    text = json_dumps(rec, DUMP);
    assert_string_equal(text, "{\"id\":\"HK1\",\"head_id\":\"001084002045\",\"unit\":\"00004\","
                              "\"address_line\":\"Số 1, phố Huế\"}");
    free(text);
    json_decref(rec);

    /* a cell short: named by the column it lacks */
    assert_int_equal(
        household_row("unit,id,head_id,address_line\n00004,HK1,001084002045\n", &rec, &err),
        LT_EINVAL);
    assert_null(rec);
    assert_string_equal(err.field, "address_line");

    /* a cell too many */
    assert_int_equal(
        household_row("unit,id,head_id,address_line\n00004,HK1,001084002045,S,x\n", &rec, &err),
        LT_EINVAL);
    assert_non_null(strstr(err.message, "5 cells, the header has 4"));

    /* invalid UTF-8: named by its column */
    assert_int_equal(household_row(bad_utf8, &rec, &err), LT_EINVAL);
    assert_string_equal(err.field, "address_line");
    assert_non_null(strstr(err.message, "invalid UTF-8 at byte 2"));
}

static enum lt_code ndjson(const char *line, json_t **rec, struct lt_error *err)
{
    struct import_reader *r;
    struct import_row row = first_row(line, strlen(line), IMPORT_NDJSON, &r);
    enum lt_code rc = import_ndjson_record(&row, rec, err);

    import_reader_free(r);
    return rc;
}

static void test_ndjson_record(void **state)
{
    json_t *rec = NULL;
    struct lt_error err;

    (void)state;
    assert_int_equal(ndjson("{\"id\":\"HK1\",\"unit\":\"00004\"}\n", &rec, &err), LT_OK);
    assert_string_equal(json_string_value(json_object_get(rec, "unit")), "00004");
    json_decref(rec);

    assert_int_equal(ndjson("{\"id\":\"HK1\",\"unit\":}\n", &rec, &err), LT_EINVAL);
    assert_null(rec);
    assert_non_null(strstr(err.message, "malformed JSON"));
    assert_non_null(strstr(err.detail, "column"));

    assert_int_equal(ndjson("{\"id\":\"a\",\"id\":\"b\"}\n", &rec, &err), LT_EINVAL);
    assert_non_null(strstr(err.message, "malformed JSON"));

    assert_int_equal(ndjson("[1,2]\n", &rec, &err), LT_EINVAL);
    assert_non_null(strstr(err.message, "not a JSON object"));

    assert_int_equal(ndjson("{\"id\":1} trailing\n", &rec, &err), LT_EINVAL);

    assert_int_equal(ndjson("{\"id\":\"\xED\xA0\x80\"}\n", &rec, &err), LT_EINVAL);
    assert_non_null(strstr(err.message, "invalid UTF-8 at column 8"));
}

static void test_utf8(void **state)
{
    static const struct {
        const char *s;
        bool ok;
        size_t bad;
    } cases[] = {
        { "plain ascii text that is long enough for words", true, 0 },
        { "Nguy\xE1\xBB\x85n V\xC4\x83n", true, 0 },
        { "\xF0\x9F\x98\x80 emoji", true, 0 },
        { "ab\xC0\xAF", false, 2 },                  /* overlong '/' */
        { "abc\xE0\x80\xAF", false, 3 },             /* overlong, three bytes */
        { "\xED\xA0\x80", false, 0 },                /* a surrogate */
        { "abcdefghij\xF4\x90\x80\x80", false, 10 }, /* past U+10FFFF */
        { "x\xE1\xBB", false, 1 },                   /* cut short */
        { "\x80", false, 0 },                        /* a lone continuation byte */
        { "\xFF", false, 0 },
    };

    (void)state;
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        size_t bad = 999;
        bool ok = import_utf8_valid(cases[i].s, strlen(cases[i].s), &bad);

        if (ok != cases[i].ok || (!ok && bad != cases[i].bad)) {
            fail_msg("case %zu: valid %d at %zu", i, ok, bad);
        }
    }
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_header),     cmocka_unit_test(test_header_optional_columns),
        cmocka_unit_test(test_csv_record), cmocka_unit_test(test_ndjson_record),
        cmocka_unit_test(test_utf8),
    };

    return cmocka_run_group_tests(tests, NULL, NULL);
}
