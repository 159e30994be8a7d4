/*
 * Tests for src/gen/gen.c: the same seed gives the same records, every
 * record passes its registry's validation, IDs agree with sex and birth
 * year, and records come after those they refer to.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "core/buf.h"
#include "core/date.h"
#include "core/strmap.h"
#include "gen/gen.h"

struct collect {
    struct buf text; /* every record, serialised, for comparing runs */
    struct strmap people;
    long counts[REG_KIND_COUNT];
    long invalid;
    long dangling;
    long bad_ids;
    int32_t today;
};

static bool known_person(struct collect *c, const char *id)
{
    return id == NULL || strmap_first(&c->people, id, strlen(id)) != STRMAP_END;
}

static enum lt_code collect(enum registry_kind kind, json_t *record, void *arg,
                            struct lt_error *err)
{
    struct collect *c = arg;
    char *s = json_dumps(record, JSON_COMPACT | JSON_SORT_KEYS);
    json_t *canonical = NULL;
    struct lt_error verr;

    (void)err;
    buf_append_str(&c->text, s);
    buf_append_char(&c->text, '\n');
    free(s);
    c->counts[kind]++;

    if (registry_validate(units_builtin(), kind, record, c->today, &canonical, &verr) != LT_OK) {
        if (c->invalid < 5) {
            print_message("invalid %s: %s (%s) %s\n", registry_kind_name(kind), verr.message,
                          verr.field, verr.detail);
        }
        c->invalid++;
    }
    json_decref(canonical);

    if (kind == REG_PERSON) {
        const char *id = json_string_value(json_object_get(record, "id"));
        const char *birth = json_string_value(json_object_get(record, "birth_date"));
        const char *sex = json_string_value(json_object_get(record, "sex"));
        int year = atoi(birth);
        int digit = id[3] - '0';

        if (strlen(id) != 12 || digit != (year - 1900) / 100 * 2 + (strcmp(sex, "female") == 0) ||
            (id[4] - '0') * 10 + (id[5] - '0') != year % 100) {
            c->bad_ids++;
        }
        if (!known_person(c, json_string_value(json_object_get(record, "father_id"))) ||
            !known_person(c, json_string_value(json_object_get(record, "mother_id")))) {
            c->dangling++;
        }
        strmap_add(&c->people, id, strlen(id), 1);
    } else if (kind == REG_RESIDENCE || kind == REG_BENEFIT) {
        if (!known_person(c, json_string_value(json_object_get(record, "person_id")))) {
            c->dangling++;
        }
    } else if (kind == REG_HOUSEHOLD) {
        if (!known_person(c, json_string_value(json_object_get(record, "head_id")))) {
            c->dangling++;
        }
    } else if (kind == REG_BUSINESS) {
        if (!known_person(c, json_string_value(json_object_get(record, "representative_id")))) {
            c->dangling++;
        }
    }
    return LT_OK;
}

static void run(struct collect *c, const char *const *units, size_t n, long people, uint64_t seed)
{
    struct gen_options o = { .units = units, .nunits = n, .people = people, .seed = seed };
    struct lt_error err;

    memset(c, 0, sizeof(*c));
    buf_init(&c->text, (size_t)1 << 30);
    strmap_init(&c->people);
    c->today = date_today();
    o.today = c->today;
    assert_int_equal(gen_run(units_builtin(), &o, collect, c, &err), LT_OK);
}

static void release(struct collect *c)
{
    buf_release(&c->text);
    strmap_release(&c->people);
}

static void test_deterministic_and_valid(void **state)
{
    static const char *const units[] = { "00004", "16171" };
    struct collect a, b, other;

    (void)state;
    run(&a, units, 2, 400, 42);
    run(&b, units, 2, 400, 42);
    run(&other, units, 2, 400, 43);
    assert_int_equal(a.text.len, b.text.len);
    assert_memory_equal(a.text.data, b.text.data, a.text.len);
    assert_true(other.text.len != a.text.len ||
                memcmp(other.text.data, a.text.data, a.text.len) != 0);

    assert_true(a.counts[REG_PERSON] >= 800);
    assert_int_equal(a.counts[REG_RESIDENCE], a.counts[REG_PERSON]);
    assert_true(a.counts[REG_HOUSEHOLD] > 0 && a.counts[REG_PARCEL] > 0);
    assert_true(a.counts[REG_BENEFIT] > 0 && a.counts[REG_BUSINESS] > 0);
    assert_int_equal(a.invalid, 0);
    assert_int_equal(a.bad_ids, 0);
    assert_int_equal(a.dangling, 0);
    release(&a);
    release(&b);
    release(&other);
}

static void test_province_means_every_commune(void **state)
{
    static const char *const units[] = { "01" };
    struct collect c;

    (void)state;
    run(&c, units, 1, 1, 7);
    /* Hà Nội has 126 communes and wards today: one household at least in each. */
    assert_true(c.counts[REG_HOUSEHOLD] >= 126);
    assert_int_equal(c.invalid, 0);
    release(&c);
}

static void test_refuses_bad_options(void **state)
{
    static const char *const old_unit[] = { "00001" }; /* ended with the reform */
    static const char *const fine[] = { "00004" };
    struct gen_options o = { .units = old_unit, .nunits = 1, .people = 10, .seed = 1 };
    struct collect c;
    struct lt_error err;

    (void)state;
    memset(&c, 0, sizeof(c));
    buf_init(&c.text, 1 << 20);
    strmap_init(&c.people);
    o.today = date_today();
    assert_int_equal(gen_run(units_builtin(), &o, collect, &c, &err), LT_EINVAL);
    assert_string_equal(err.field, "units");
    o.units = fine;
    o.people = 0;
    assert_int_equal(gen_run(units_builtin(), &o, collect, &c, &err), LT_EINVAL);
    assert_int_equal(c.text.len, 0);
    release(&c);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_deterministic_and_valid),
        cmocka_unit_test(test_province_means_every_commune),
        cmocka_unit_test(test_refuses_bad_options),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
