/*
 * Tests for registry_validate (src/registry/fields.c and the per-kind
 * rules): every case of tests/data/registry/records.jsonl is a record of a
 * kind with the outcome expected, "ok" (and optionally the canonical
 * record) or the field at fault and a piece of the message.  Also the CSV
 * shape (src/registry/csv.c).
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "case_file.h"
#include "core/date.h"
#include "registry/registry.h"

#define DUMP (JSON_COMPACT | JSON_PRESERVE_ORDER | JSON_REAL_PRECISION(15))

static int run_case(const struct units *u, json_t *c, int line)
{
    const char *name = json_string_value(json_object_get(c, "case"));
    const char *kind_s = json_string_value(json_object_get(c, "kind"));
    const char *eff_s = json_string_value(json_object_get(c, "effective"));
    json_t *expect = json_object_get(c, "expect");
    json_t *want_canon = json_object_get(c, "canonical");
    enum registry_kind kind;
    int32_t eff;
    json_t *canon = NULL;
    struct lt_error err;
    enum lt_code rc;
    int failed = 0;

    assert_true(registry_kind_parse(kind_s, &kind));
    assert_int_equal(date_parse(eff_s ? eff_s : "2025-08-01", &eff, &err), LT_OK);
    lt_error_clear(&err);
    rc = registry_validate(u, kind, json_object_get(c, "record"), eff, &canon, &err);
    if (json_is_string(expect)) {
        if (rc != LT_OK) {
            print_error("records.jsonl:%d %s: refused: %s (field %s)\n", line, name, err.message,
                        err.field);
            failed = 1;
        } else if (want_canon != NULL && !json_equal(canon, want_canon)) {
            char *got = json_dumps(canon, DUMP);

            print_error("records.jsonl:%d %s: canonical %s\n", line, name, got);
            free(got);
            failed = 1;
        }
    } else {
        const char *field = json_string_value(json_object_get(expect, "field"));
        const char *msg = json_string_value(json_object_get(expect, "message"));

        if (rc != LT_EINVAL) {
            print_error("records.jsonl:%d %s: got %d, expected a refusal\n", line, name, rc);
            failed = 1;
        } else if (strcmp(err.field, field) != 0 || strstr(err.message, msg) == NULL) {
            print_error("records.jsonl:%d %s: field \"%s\" message \"%s\"; expected \"%s\" "
                        "with \"%s\"\n",
                        line, name, err.field, err.message, field, msg);
            failed = 1;
        } else if (canon != NULL) {
            failed = 1;
        }
    }
    json_decref(canon);
    return failed;
}

static void test_record_cases(void **state)
{
    const struct units *u = units_builtin();
    FILE *f = case_open("records.jsonl");
    char line[CASE_LINE_MAX];
    int n = 0, failed = 0, lineno = 0;

    (void)state;
    while (fgets(line, sizeof(line), f) != NULL) {
        json_error_t jerr;
        json_t *c;

        lineno++;
        if (line[0] == '\n' || line[0] == '#') {
            continue;
        }
        c = json_loads(line, 0, &jerr);
        if (c == NULL) {
            fail_msg("records.jsonl:%d: %s", lineno, jerr.text);
        }
        failed += run_case(u, c, lineno);
        json_decref(c);
        n++;
    }
    fclose(f);
    assert_int_equal(failed, 0);
    assert_true(n >= 60);
}

/* Canonical records are stable: validating one again gives it back unchanged. */
static void test_canonical_is_a_fixed_point(void **state)
{
    const struct units *u = units_builtin();
    json_t *rec =
        json_pack("{s:s, s:s, s:s, s:s, s:s, s:s, s:s}", "full_name", " Lê  Thi\xcc\x81 Hoa ", "id",
                  "001190012345", "birth_date", "1990-01-31", "sex", "female", "ethnicity", "01",
                  "nationality", "VN", "status", "alive");
    json_t *a = NULL, *b = NULL;
    struct lt_error err;

    (void)state;
    assert_int_equal(registry_validate(u, REG_PERSON, rec, DATE_MIN, &a, &err), LT_OK);
    assert_int_equal(registry_validate(u, REG_PERSON, a, DATE_MIN, &b, &err), LT_OK);
    assert_true(json_equal(a, b));
    /* inner spaces are kept, the ends trimmed, the combining acute composed */
    assert_string_equal(json_string_value(json_object_get(a, "full_name")), "Lê  Thí Hoa");
    assert_string_equal(json_string_value(json_object_get(a, "id")), "001190012345");
    json_decref(rec);
    json_decref(a);
    json_decref(b);
}

static void test_record_key(void **state)
{
    const struct units *u = units_builtin();
    json_t *rec =
        json_pack("{s:s, s:s, s:s, s:s, s:s}", "person_id", "001085012345", "kind", "temporary",
                  "unit", "00004", "address_line", "x", "from_date", "2020-01-01");
    json_t *canon = NULL;
    struct lt_error err;
    char key[64];

    (void)state;
    assert_int_equal(registry_validate(u, REG_RESIDENCE, rec, DATE_MIN, &canon, &err), LT_OK);
    assert_int_equal(registry_record_key(REG_RESIDENCE, canon, key, sizeof(key), &err), LT_OK);
    assert_string_equal(key, "001085012345/temporary");
    assert_int_equal(registry_record_key(REG_RESIDENCE, canon, key, 10, &err), LT_ETOOBIG);
    assert_int_equal(registry_record_key(REG_PERSON, canon, key, sizeof(key), &err), LT_EINVAL);
    json_decref(rec);
    json_decref(canon);
}

static void test_kind_names(void **state)
{
    enum registry_kind k;

    (void)state;
    assert_true(registry_kind_parse("people", &k));
    assert_int_equal(k, REG_PERSON);
    assert_true(registry_kind_parse("businesses", &k));
    assert_int_equal(k, REG_BUSINESS);
    assert_true(registry_kind_parse("residence", &k));
    assert_int_equal(k, REG_RESIDENCE);
    assert_false(registry_kind_parse("persons", &k));
    assert_string_equal(registry_kind_name(REG_PARCEL), "parcel");
}

static void test_csv_round_trip(void **state)
{
    const struct units *u = units_builtin();
    const char *const *cols = registry_columns(REG_PARCEL);
    const char *cells[] = { "00004-12-345",
                            "00004",
                            "12",
                            "345",
                            "123.4",
                            "ODT",
                            "[{\"kind\":\"person\",\"id\":\"001085012345\",\"share\":1}]",
                            "CS, \"01\"",
                            "" };
    json_t *rec = NULL, *canon = NULL, *back = NULL;
    struct lt_error err;
    struct buf line;

    (void)state;
    assert_string_equal(cols[0], "id");
    assert_string_equal(cols[6], "holders");
    assert_null(cols[9]);
    assert_int_equal(registry_record_from_cells(REG_PARCEL, cells, 9, &rec, &err), LT_OK);
    assert_int_equal(registry_validate(u, REG_PARCEL, rec, DATE_MIN, &canon, &err), LT_OK);
    buf_init(&line, 4096);
    assert_int_equal(registry_record_to_csv(REG_PARCEL, canon, &line), LT_OK);
    assert_string_equal(buf_str(&line),
                        "00004-12-345,00004,12,345,123.4,ODT,"
                        "\"[{\"\"kind\"\":\"\"person\"\",\"\"id\"\":\"\"001085012345\"\","
                        "\"\"share\"\":1}]\",\"CS, \"\"01\"\"\",[]\n");
    buf_release(&line);

    /* wrong cell count, a non-integer in an integer column, a non-array */
    assert_int_equal(registry_record_from_cells(REG_PARCEL, cells, 8, &back, &err), LT_EINVAL);
    cells[2] = "12a";
    assert_int_equal(registry_record_from_cells(REG_PARCEL, cells, 9, &back, &err), LT_EINVAL);
    assert_string_equal(err.field, "map_sheet");
    cells[2] = "12";
    cells[6] = "{}";
    assert_int_equal(registry_record_from_cells(REG_PARCEL, cells, 9, &back, &err), LT_EINVAL);
    assert_string_equal(err.field, "holders");
    assert_null(back);

    /* a buffer too small takes nothing */
    buf_init(&line, 10);
    assert_int_equal(registry_record_to_csv(REG_PARCEL, canon, &line), LT_ETOOBIG);
    assert_int_equal(line.len, 0);
    buf_release(&line);
    json_decref(rec);
    json_decref(canon);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_record_cases),   cmocka_unit_test(test_canonical_is_a_fixed_point),
        cmocka_unit_test(test_record_key),     cmocka_unit_test(test_kind_names),
        cmocka_unit_test(test_csv_round_trip),
    };

    return cmocka_run_group_tests(tests, NULL, NULL);
}
