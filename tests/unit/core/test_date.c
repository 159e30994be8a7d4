/* Tests for src/core/date.c: day numbers, parsing and formatting. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "core/date.h"

static void test_known_days(void **state)
{
    (void)state;
    assert_int_equal(date_from_civil(1970, 1, 1), 0);
    assert_int_equal(date_from_civil(2000, 3, 1), 11017);
    assert_int_equal(date_from_civil(2025, 7, 1) - date_from_civil(2025, 6, 30), 1);
    assert_int_equal(date_from_civil(2024, 3, 1) - date_from_civil(2024, 2, 28), 2);
    assert_int_equal(date_from_civil(1969, 12, 31), -1);
}

static void test_round_trip(void **state)
{
    (void)state;
    for (int32_t d = date_from_civil(1900, 1, 1); d < date_from_civil(2200, 1, 1); d += 7) {
        int y, m, dd;

        date_to_civil(d, &y, &m, &dd);
        assert_int_equal(date_from_civil(y, m, dd), d);
    }
}

static void test_parse_and_format(void **state)
{
    int32_t d = 0;
    char s[DATE_STR_MAX];
    struct lt_error err;

    (void)state;
    assert_int_equal(date_parse("2025-07-01", &d, &err), LT_OK);
    date_format(d, s);
    assert_string_equal(s, "2025-07-01");
    assert_int_equal(date_parse("2024-02-29", &d, &err), LT_OK);
    date_format(DATE_MAX, s);
    assert_string_equal(s, "");
}

static void test_parse_refuses_and_leaves_output(void **state)
{
    const char *bad[] = { "2025-02-29",  "2025-13-01", "2025-00-10", "2025-7-1",   "20250701",
                          "2025-07-01x", "",           "abcd-ef-gh", "1800-01-01", "2025-06-31" };
    struct lt_error err;

    (void)state;
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        int32_t d = 12345;

        assert_int_equal(date_parse(bad[i], &d, &err), LT_EINVAL);
        assert_int_equal(d, 12345);
        assert_int_equal(err.code, LT_EINVAL);
        assert_true(strlen(err.message) > 0);
    }
}

static void test_today_is_plausible(void **state)
{
    (void)state;
    assert_true(date_today() > date_from_civil(2025, 1, 1));
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_known_days),
        cmocka_unit_test(test_round_trip),
        cmocka_unit_test(test_parse_and_format),
        cmocka_unit_test(test_parse_refuses_and_leaves_output),
        cmocka_unit_test(test_today_is_plausible),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
