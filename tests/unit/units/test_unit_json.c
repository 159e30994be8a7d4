/* Tests for src/units/unit_json.c: the JSON shapes the API and CLI share. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "core/date.h"
#include "units/unit_json.h"

static void test_full_record(void **state)
{
    const struct units *u = units_builtin();
    const struct unit *c = units_find(u, "00004", date_from_civil(2025, 6, 30));
    json_t *j = unit_to_json(u, c);

    (void)state;
    assert_string_equal(json_string_value(json_object_get(j, "code")), "00004");
    assert_string_equal(json_string_value(json_object_get(j, "name")), "Phường Trúc Bạch");
    assert_string_equal(json_string_value(json_object_get(j, "type")), "ward");
    assert_string_equal(json_string_value(json_object_get(j, "level")), "commune");
    assert_true(json_is_null(json_object_get(j, "valid_from")));
    assert_string_equal(json_string_value(json_object_get(j, "valid_to")), "2025-06-30");
    assert_string_equal(json_string_value(json_object_get(json_object_get(j, "parent"), "name")),
                        "Quận Ba Đình");
    assert_null(json_object_get(j, "alt_name"));
    json_decref(j);

    c = units_find(u, "03469", date_from_civil(2025, 6, 30));
    j = unit_to_json(u, c);
    assert_string_equal(json_string_value(json_object_get(j, "alt_name")), "Xã Can Hồ");
    json_decref(j);
}

static void test_refs_and_links(void **state)
{
    const struct units *u = units_builtin();
    struct unit_link l;
    json_t *j;

    (void)state;
    j = unit_ref_json(NULL);
    assert_true(json_is_null(j));
    json_decref(j);

    assert_int_equal(
        units_successors(u, units_find(u, "00001", date_from_civil(2025, 1, 1)), &l, 1), 1);
    j = unit_link_json(&l);
    assert_string_equal(json_string_value(json_object_get(j, "code")), "00097");
    assert_string_equal(json_string_value(json_object_get(j, "kind")), "full");
    assert_int_equal(json_integer_value(json_object_get(j, "depth")), 1);
    assert_true(json_is_null(json_object_get(j, "valid_to")));
    json_decref(j);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_full_record),
        cmocka_unit_test(test_refs_and_links),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
