/* Tests for src/oss/catalogue.c: the shipped catalogue, versions, and refused catalogues. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include <cmocka.h>

#include "core/date.h"
#include "oss/catalogue.h"

static int32_t d(const char *s)
{
    int32_t v = 0;

    assert_int_equal(date_parse(s, &v, NULL), LT_OK);
    return v;
}

static void test_shipped_catalogue(void **state)
{
    const struct oss_catalogue *cat = oss_catalogue_builtin();
    const struct oss_procedure *list[64];
    static const char *const codes[] = {
        "birth_registration",      "death_registration",      "marriage_registration",
        "permanent_residence",     "temporary_residence",     "residence_removal",
        "child_health_insurance",  "social_assistance",       "funeral_allowance",
        "land_first_certificate",  "land_transfer",           "land_mortgage",
        "household_business",      "business_address_change", "birth_residence_health_insurance",
        "death_residence_funeral",
    };
    const struct oss_procedure *p;

    (void)state;
    assert_int_equal(oss_catalogue_in_force(cat, d("2025-07-01"), list, 64), 16);
    for (size_t i = 0; i < sizeof(codes) / sizeof(codes[0]); i++) {
        assert_non_null(oss_catalogue_find(cat, codes[i], d("2025-07-01")));
    }
    p = oss_catalogue_find(cat, "birth_residence_health_insurance", d("2026-01-01"));
    assert_int_equal(p->nsteps, 3);
    assert_int_equal(p->limit.working_days, 3);
    assert_string_equal(p->steps[1].proc->code, "permanent_residence");
    assert_int_equal(p->steps[2].proc->level, OSS_LEVEL_PROVINCE);
    p = oss_catalogue_find(cat, "birth_registration", d("2026-01-01"));
    assert_true(p->limit.same_day);
    assert_string_equal(p->effects[0], "person.birth");
}

static void test_version_in_force(void **state)
{
    const struct oss_catalogue *cat = oss_catalogue_builtin();
    const struct oss_procedure *p;

    (void)state;
    p = oss_catalogue_find(cat, "household_business", d("2024-05-01"));
    assert_non_null(p);
    assert_int_equal(p->version, 1);
    p = oss_catalogue_find(cat, "household_business", d("2025-06-30"));
    assert_int_equal(p->version, 1);
    p = oss_catalogue_find(cat, "household_business", d("2025-07-01"));
    assert_int_equal(p->version, 2);
    assert_null(oss_catalogue_find(cat, "household_business", d("2020-01-01")));
    assert_null(oss_catalogue_find(cat, "no_such_thing", d("2025-07-01")));
    assert_int_equal(oss_catalogue_version(cat, "household_business", 1)->level,
                     OSS_LEVEL_PROVINCE);
}

static void test_procedure_json(void **state)
{
    const struct oss_procedure *p =
        oss_catalogue_find(oss_catalogue_builtin(), "land_transfer", d("2026-01-01"));
    json_t *j = oss_procedure_json(p);

    (void)state;
    assert_string_equal(json_string_value(json_object_get(j, "level")), "province");
    assert_int_equal(
        json_integer_value(json_object_get(json_object_get(j, "time_limit"), "working_days")), 10);
    assert_string_equal(
        json_string_value(json_object_get(json_array_get(json_object_get(j, "fields"), 0), "type")),
        "parcel_id");
    assert_true(json_array_size(json_object_get(j, "legal_basis")) > 0);
    assert_false(json_is_true(json_object_get(j, "composite")));
    json_decref(j);
}

#define PROC(extra)                                                                                 \
    "{\"code\":\"x\",\"version\":1,\"valid_from\":\"2025-01-01\",\"name_vi\":\"X\","                \
    "\"name_en\":\"X\",\"domain\":\"d\",\"level\":\"commune\",\"time_limit\":{\"working_days\":"    \
    "3},\"fee_vnd\":0,\"documents\":[],\"legal_basis\":[{\"text\":\"t\",\"article\":\"a\"}]," extra \
    "}"

static void test_bad_catalogues_refused(void **state)
{
    static const char *const bad[] = {
        /* unknown field type */
        "{\"procedures\":[" PROC("\"route\":{\"by\":\"unit_field\",\"field\":\"u\"},\"fields\":[{"
                                 "\"name\":\"u\",\"type\":\"colour\",\"label_vi\":\"a\",\"label_"
                                 "en\":\"a\",\"required\":true}],\"effects\":[]") "]}",
        /* route through a missing field */
        "{\"procedures\":[" PROC("\"route\":{\"by\":\"unit_field\",\"field\":\"v\"},\"fields\":[{"
                                 "\"name\":\"u\",\"type\":\"unit\",\"label_vi\":\"a\",\"label_"
                                 "en\":\"a\",\"required\":true}],\"effects\":[]") "]}",
        /* an effect whose fields are missing */
        "{\"procedures\":[" PROC(
            "\"route\":{\"by\":\"unit_field\",\"field\":\"u\"},\"fields\":[{"
            "\"name\":\"u\",\"type\":\"unit\",\"label_vi\":\"a\",\"label_"
            "en\":\"a\",\"required\":true}],\"effects\":[\"person.death\"]") "]}",
        /* an unknown effect */
        "{\"procedures\":[" PROC("\"route\":{\"by\":\"unit_field\",\"field\":\"u\"},\"fields\":[{"
                                 "\"name\":\"u\",\"type\":\"unit\",\"label_vi\":\"a\",\"label_"
                                 "en\":\"a\",\"required\":true}],\"effects\":[\"rain\"]") "]}",
        /* two versions in force on one day */
        "{\"procedures\":[" PROC(
            "\"route\":{\"by\":\"unit_field\",\"field\":\"u\"},\"fields\":[{"
            "\"name\":\"u\",\"type\":\"unit\",\"label_vi\":\"a\",\"label_"
            "en\":\"a\",\"required\":true}],\"effects\":[]") "," PROC("\"route\":{\"by\":\"unit_field\",\"field\":\"u\"},\"fields\":[{\"name\":\"u\","
                                                                      "\"type\":\"unit\",\"label_vi\":\"a\",\"label_en\":\"a\",\"required\":true}],"
                                                                      "\"effects\":[]") "]}",
        /* a time limit of both kinds */
        "{\"procedures\":[{\"code\":\"x\",\"version\":1,\"valid_from\":\"2025-01-01\","
        "\"name_vi\":\"X\",\"name_en\":\"X\",\"domain\":\"d\",\"level\":\"commune\","
        "\"time_limit\":{\"working_days\":3,\"same_day\":true},\"fee_vnd\":0,\"documents\":[],"
        "\"legal_basis\":[{}],\"route\":{\"by\":\"unit_field\",\"field\":\"u\"},\"fields\":[{"
        "\"name\":\"u\",\"type\":\"unit\",\"label_vi\":\"a\",\"label_en\":\"a\",\"required\":"
        "true}],\"effects\":[]}]}",
        "{\"procedures\":[]}",
    };
    struct oss_catalogue *cat = NULL;
    struct lt_error err;
    static const char good[] = "{\"procedures\":[" PROC(
        "\"route\":{\"by\":\"unit_field\",\"field\":\"u\"},\"fields\":[{\"name\":\"u\",\"type\":"
        "\"unit\",\"label_vi\":\"a\",\"label_en\":\"a\",\"required\":true}],\"effects\":[]") "]}";

    (void)state;
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        assert_int_equal(oss_catalogue_parse(bad[i], strlen(bad[i]), &cat, &err), LT_EINVAL);
        assert_null(cat);
    }
    assert_int_equal(oss_catalogue_parse(good, strlen(good), &cat, &err), LT_OK);
    assert_non_null(oss_catalogue_find(cat, "x", d("2025-02-01")));
    oss_catalogue_free(cat);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_shipped_catalogue),
        cmocka_unit_test(test_version_in_force),
        cmocka_unit_test(test_procedure_json),
        cmocka_unit_test(test_bad_catalogues_refused),
    };

    return cmocka_run_group_tests(tests, NULL, NULL);
}
