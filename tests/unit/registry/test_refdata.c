/*
 * Tests for src/registry/refdata.c: the ethnic group, nationality and
 * land-use purpose lists.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include <cmocka.h>

#include "registry/refdata.h"

static void test_ethnic_groups(void **state)
{
    char code[12];

    (void)state;
    assert_int_equal(refdata_ethnicity_count(), 54);
    for (int i = 1; i <= 54; i++) {
        snprintf(code, sizeof(code), "%02d", i);
        assert_true(refdata_ethnicity_valid(code));
        assert_non_null(refdata_ethnicity_name(code));
    }
    assert_string_equal(refdata_ethnicity_name("01"), "Kinh");
    assert_false(refdata_ethnicity_valid("00"));
    assert_false(refdata_ethnicity_valid("55"));
    assert_false(refdata_ethnicity_valid("1"));
    assert_false(refdata_ethnicity_valid("Kinh"));
    assert_false(refdata_ethnicity_valid(""));
}

static void test_nationalities(void **state)
{
    const char *good[] = { "VN", "US", "FR", "CN", "LA", "KH", "JP", "KR", "SS", "AX", "ZW" };
    const char *bad[] = { "vn", "V", "VNM", "XX", "ZZ", "UK", "EU", "", "V1", "AA" };

    (void)state;
    assert_int_equal(refdata_nationality_count(), 249);
    for (size_t i = 0; i < sizeof(good) / sizeof(good[0]); i++) {
        assert_true(refdata_nationality_valid(good[i]));
    }
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        assert_false(refdata_nationality_valid(bad[i]));
    }
}

static void test_land_uses(void **state)
{
    const char *good[] = { "LUC", "LUK", "HNK", "CLN", "RSX", "RPH", "RDD", "NTS",
                           "NKH", "ONT", "ODT", "TSC", "CQP", "CAN", "SKC", "TMD" };
    const char *bad[] = { "luc", "LUA", "NNP", "BHK", "XYZ", "", "LU", "ONTX" };

    (void)state;
    assert_true(refdata_land_use_count() >= 40);
    for (size_t i = 0; i < sizeof(good) / sizeof(good[0]); i++) {
        assert_true(refdata_land_use_valid(good[i]));
        assert_non_null(refdata_land_use_name(good[i]));
    }
    /* group codes (LUA, NNP) are not purposes a parcel can carry; BHK was merged into HNK */
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        assert_false(refdata_land_use_valid(bad[i]));
    }
    assert_string_equal(refdata_land_use_name("ONT"), "Đất ở tại nông thôn");
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_ethnic_groups),
        cmocka_unit_test(test_nationalities),
        cmocka_unit_test(test_land_uses),
    };

    return cmocka_run_group_tests(tests, NULL, NULL);
}
