/*
 * Tests for src/registry/ids.c: personal IDs, enterprise codes and parcel
 * IDs, from the case files of tests/data/registry, plus properties of the
 * enterprise check digit.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include <cmocka.h>

#include "case_file.h"
#include "core/date.h"
#include "registry/ids.h"

/* Check one outcome against the case's expectation ("ok" or a message piece). */
static void expect(const char *file, int line, const char *input, enum lt_code rc,
                   const struct lt_error *err, const char *want)
{
    if (strcmp(want, "ok") == 0) {
        if (rc != LT_OK) {
            fail_msg("%s:%d: \"%s\" refused: %s", file, line, input, err->message);
        }
        return;
    }
    if (rc != LT_EINVAL) {
        fail_msg("%s:%d: \"%s\" accepted, expected a refusal with \"%s\"", file, line, input, want);
    }
    if (strstr(err->message, want) == NULL) {
        fail_msg("%s:%d: \"%s\": message \"%s\" lacks \"%s\"", file, line, input, err->message,
                 want);
    }
}

static void test_personal_ids(void **state)
{
    const struct units *u = units_builtin();
    FILE *f = case_open("personal-ids.txt");
    struct case_line c = { 0 };
    int n = 0;

    (void)state;
    while (case_next(f, &c, 4)) {
        struct lt_error err;
        int32_t birth;
        enum lt_code rc;

        assert_int_equal(c.nf, 4);
        assert_int_equal(date_parse(c.f[1], &birth, &err), LT_OK);
        lt_error_clear(&err);
        rc = ids_personal_id_check(u, c.f[0], birth, strcmp(c.f[2], "female") == 0, &err);
        expect("personal-ids.txt", c.lineno, c.f[0], rc, &err, c.f[3]);
        n++;
    }
    fclose(f);
    assert_true(n >= 20);
}

static void test_personal_id_parse_fields(void **state)
{
    struct personal_id id;
    struct lt_error err;

    (void)state;
    assert_int_equal(ids_personal_id_parse(units_builtin(), "079303004567", &id, &err), LT_OK);
    assert_string_equal(id.province, "79");
    assert_true(id.female);
    assert_int_equal(id.century, 2000);
    assert_int_equal(id.year, 2003);
    assert_int_equal(ids_personal_id_parse(units_builtin(), "001885012345", &id, &err), LT_OK);
    assert_false(id.female);
    assert_int_equal(id.century, 2300);
    assert_int_equal(id.year, 2385);
    /* 11 digits: a spreadsheet dropped the leading 0, and the hint says so */
    assert_int_equal(ids_personal_id_parse(units_builtin(), "79303004567", &id, &err), LT_EINVAL);
    assert_non_null(strstr(err.hint, "leading 0"));
}

static void test_enterprise_codes(void **state)
{
    FILE *f = case_open("enterprise-codes.txt");
    struct case_line c = { 0 };
    int n = 0;

    (void)state;
    while (case_next(f, &c, 2)) {
        struct lt_error err;
        enum lt_code rc;

        assert_int_equal(c.nf, 2);
        lt_error_clear(&err);
        rc = ids_enterprise_code_check(c.f[0], &err);
        expect("enterprise-codes.txt", c.lineno, c.f[0], rc, &err, c.f[1]);
        n++;
    }
    fclose(f);
    assert_true(n >= 15);
}

/* For many prefixes: exactly the computed check digit passes, or none when it would be 10. */
static void test_enterprise_check_digit_property(void **state)
{
    uint32_t x = 12345;
    int none = 0;

    (void)state;
    for (int i = 0; i < 5000; i++) {
        char code[11];
        int c, passing = 0;
        struct lt_error err;

        x = x * 1103515245u + 12345u;
        snprintf(code, sizeof(code), "%02u%07u0", 1 + (x >> 8) % 99, 1 + (x >> 3) % 9999999);
        c = ids_enterprise_check_digit(code);
        for (char d = '0'; d <= '9'; d++) {
            code[9] = d;
            if (ids_enterprise_code_check(code, &err) == LT_OK) {
                passing++;
                assert_int_equal(d - '0', c);
            }
        }
        assert_int_equal(passing, c < 0 ? 0 : 1);
        none += c < 0;
    }
    /* about one prefix in 11 has no check digit */
    assert_true(none > 200 && none < 800);
}

static void test_parcel_ids(void **state)
{
    const struct units *u = units_builtin();
    FILE *f = case_open("parcel-ids.txt");
    struct case_line c = { 0 };
    int n = 0;

    (void)state;
    while (case_next(f, &c, 3)) {
        struct parcel_id p;
        struct lt_error err;
        int32_t date;
        enum lt_code rc;

        assert_int_equal(c.nf, 3);
        assert_int_equal(date_parse(c.f[1], &date, &err), LT_OK);
        lt_error_clear(&err);
        rc = ids_parcel_id_parse(u, c.f[0], date, &p, &err);
        expect("parcel-ids.txt", c.lineno, c.f[0], rc, &err, c.f[2]);
        if (rc == LT_OK) {
            char back[IDS_PARCEL_MAX];

            ids_parcel_id_format(&p, back);
            assert_string_equal(back, c.f[0]);
        }
        n++;
    }
    fclose(f);
    assert_true(n >= 15);
}

static void test_parcel_id_parts(void **state)
{
    struct parcel_id p;
    struct lt_error err;

    (void)state;
    assert_int_equal(ids_parcel_id_parse(NULL, "00004-12-345", 0, &p, &err), LT_OK);
    assert_string_equal(p.commune, "00004");
    assert_int_equal(p.map_sheet, 12);
    assert_int_equal(p.parcel_no, 345);
    /* without a register the commune is only checked for its form */
    assert_int_equal(ids_parcel_id_parse(NULL, "99999-1-1", 0, &p, &err), LT_OK);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_personal_ids),
        cmocka_unit_test(test_personal_id_parse_fields),
        cmocka_unit_test(test_enterprise_codes),
        cmocka_unit_test(test_enterprise_check_digit_property),
        cmocka_unit_test(test_parcel_ids),
        cmocka_unit_test(test_parcel_id_parts),
    };

    return cmocka_run_group_tests(tests, NULL, NULL);
}
