/*
 * Tests for src/units/units.c against the built-in register: counts of the
 * shipped data, lookups by code and date, hierarchy, lineage and search.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "core/date.h"
#include "units/units.h"

static const struct units *u;
static int32_t before, after;

static int setup(void **state)
{
    (void)state;
    u = units_builtin();
    before = date_from_civil(2025, 6, 30);
    after = date_from_civil(2025, 7, 1);
    return 0;
}

static size_t count_level(enum unit_level level, int32_t date)
{
    size_t n = 0;

    for (uint32_t i = 0; i < units_count(u); i++) {
        const struct unit *x = units_at(u, i);
        if (x->level == level && unit_valid_on(x, date)) {
            n++;
        }
    }
    return n;
}

static void test_counts(void **state)
{
    (void)state;
    assert_int_equal(units_count(u), 1 + 63 + 696 + 10047 + 34 + 3321);
    assert_int_equal(count_level(UNIT_PROVINCE, before), 63);
    assert_int_equal(count_level(UNIT_DISTRICT, before), 696);
    assert_int_equal(count_level(UNIT_COMMUNE, before), 10047);
    assert_int_equal(count_level(UNIT_PROVINCE, after), 34);
    assert_int_equal(count_level(UNIT_DISTRICT, after), 0);
    assert_int_equal(count_level(UNIT_COMMUNE, after), 3321);
}

static void test_find_by_code_and_date(void **state)
{
    const struct unit *old, *now, *all[4];

    (void)state;
    old = units_find(u, "00004", before);
    now = units_find(u, "00004", after);
    assert_non_null(old);
    assert_non_null(now);
    assert_string_equal(old->name, "Phường Trúc Bạch");
    assert_string_equal(now->name, "Phường Ba Đình");
    assert_string_equal(now->fold, "ba dinh");
    assert_int_equal(old->valid_to, before);
    assert_int_equal(now->valid_from, after);
    assert_int_equal(now->valid_to, DATE_MAX);
    assert_ptr_equal(units_find(u, "00004", date_from_civil(2010, 1, 1)), old);
    assert_ptr_equal(units_find_default(u, "00004"), now);
    assert_int_equal(units_find_all(u, "00004", all, 4), 2);
    assert_null(units_find(u, "99999", after));
    assert_null(units_find(u, "001", after)); /* districts ended with the reform */
    assert_string_equal(units_find_default(u, "001")->name, "Quận Ba Đình");
    assert_null(units_find_default(u, ""));
    assert_string_equal(units_find(u, "VN", after)->name, "Việt Nam");
}

static void test_hierarchy(void **state)
{
    const struct unit *kids[128];
    const struct unit *c = units_find(u, "00004", before);
    const struct unit *vn = units_nation(u);

    (void)state;
    assert_string_equal(unit_parent(u, c)->name, "Quận Ba Đình");
    assert_string_equal(unit_parent(u, unit_parent(u, c))->code, "01");
    assert_ptr_equal(unit_province(u, c), units_find(u, "01", before));
    assert_ptr_equal(unit_parent(u, units_find(u, "01", before)), vn);
    assert_null(unit_parent(u, vn));

    assert_int_equal(units_children(u, vn, after, kids, 128), 34);
    assert_int_equal(units_children(u, vn, before, kids, 128), 63);
    assert_int_equal(units_children(u, vn, DATE_MIN, kids, 128), 97);
    /* Hà Nội had 30 districts; today it has 126 communes and wards. */
    assert_int_equal(units_children(u, units_find(u, "01", before), DATE_MIN, kids, 128), 30);
    assert_int_equal(units_children(u, units_find(u, "01", after), DATE_MIN, kids, 0), 126);
    /* Ba Đình district: 13 wards in the register of 2025-03-01, in code order. */
    assert_int_equal(units_children(u, units_find(u, "001", before), before, kids, 128), 13);
    assert_string_equal(kids[0]->code, "00001");
    for (int i = 1; i < 13; i++) {
        assert_true(strcmp(kids[i - 1]->code, kids[i]->code) < 0);
    }
}

static void test_successors_and_predecessors(void **state)
{
    struct unit_link l[16];
    size_t n;

    (void)state;
    n = units_successors(u, units_find(u, "00001", before), l, 16);
    assert_int_equal(n, 1);
    assert_string_equal(l[0].unit->code, "00097");
    assert_int_equal(l[0].kind, UNIT_EDGE_FULL);
    assert_int_equal(l[0].depth, 1);

    /* A split commune: Phường Ngọc Hà went partly to two new wards. */
    n = units_successors(u, units_find(u, "00016", before), l, 16);
    assert_true(n >= 2);
    for (size_t i = 0; i < n; i++) {
        assert_int_equal(l[i].kind, UNIT_EDGE_PARTIAL);
        assert_true(unit_valid_on(l[i].unit, after));
    }

    n = units_predecessors(u, units_find(u, "00004", after), l, 16);
    assert_true(n >= 2);
    assert_string_equal(l[0].unit->name, "Phường Trúc Bạch");

    /* Provinces: Hà Giang (02) went whole into Tuyên Quang (08). */
    n = units_successors(u, units_find(u, "02", before), l, 16);
    assert_int_equal(n, 1);
    assert_string_equal(l[0].unit->name, "Tỉnh Tuyên Quang");
    n = units_predecessors(u, units_find(u, "08", after), l, 16);
    assert_int_equal(n, 2);

    /* An island district with no communes became a special zone. */
    n = units_successors(u, units_find(u, "755", before), l, 16);
    assert_int_equal(n, 1);
    assert_int_equal(l[0].unit->type, UNIT_TYPE_SPECIAL_ZONE);

    /* Today's units have no successors yet. */
    assert_int_equal(units_successors(u, units_find(u, "00004", after), l, 16), 0);
    assert_int_equal(units_direct_successors(u, units_find(u, "00016", before), l, 1), n + 1);
}

static void test_every_old_commune_has_successors_in_its_new_province(void **state)
{
    struct unit_link l[8];

    (void)state;
    for (uint32_t i = 0; i < units_count(u); i++) {
        const struct unit *c = units_at(u, i);
        const struct unit *oldp, *newp;
        struct unit_link pl[2];

        if (c->level != UNIT_COMMUNE || !unit_valid_on(c, before)) {
            continue;
        }
        size_t n = units_direct_successors(u, c, l, 8);
        assert_true(n >= 1 && n <= 5);
        oldp = unit_province(u, c);
        assert_int_equal(units_direct_successors(u, oldp, pl, 2), 1);
        newp = pl[0].unit;
        for (size_t k = 0; k < n; k++) {
            assert_ptr_equal(unit_province(u, l[k].unit), newp);
            assert_int_equal(l[k].kind, n == 1 ? UNIT_EDGE_FULL : UNIT_EDGE_PARTIAL);
        }
    }
}

static void test_search(void **state)
{
    const struct unit *r[16];
    size_t n;

    (void)state;
    n = units_search(u, "ba dinh", DATE_MIN, r, 16);
    assert_true(n >= 3);
    assert_string_equal(r[0]->name, "Phường Ba Đình"); /* today's first */
    n = units_search(u, "Ba Đình", after, r, 16);
    for (size_t i = 0; i < n && i < 16; i++) {
        assert_true(unit_valid_on(r[i], after));
    }
    n = units_search(u, "P. Ba Đình", DATE_MIN, r, 16);
    assert_true(n >= 1);
    for (size_t i = 0; i < n && i < 16; i++) {
        assert_int_equal(r[i]->type, UNIT_TYPE_WARD);
    }
    n = units_search(u, "quan 1", DATE_MIN, r, 16);
    assert_true(n >= 1);
    assert_string_equal(r[0]->name, "Quận 1");
    /* A name that starts like a prefix word still matches as a name. */
    n = units_search(u, "Quan Son", DATE_MIN, r, 16);
    assert_true(n >= 1);
    assert_string_equal(r[0]->short_name, "Quan Sơn");
    /* Another official spelling. */
    n = units_search(u, "Can Ho", before, r, 16);
    assert_true(n >= 1);
    assert_int_equal(units_search(u, "zzzz qqq", DATE_MIN, r, 16), 0);
    assert_int_equal(units_search(u, "", DATE_MIN, r, 16), 0);
    assert_int_equal(units_search(u, "  ,, ", DATE_MIN, r, 16), 0);
}

static void test_parse_prefix(void **state)
{
    static const struct {
        const char *text;
        size_t len; /* 0: no prefix */
        enum unit_type type;
    } cases[] = {
        { "phuong ba dinh", 7, UNIT_TYPE_WARD },
        { "p. ba dinh", 3, UNIT_TYPE_WARD },
        { "p.12", 2, UNIT_TYPE_WARD },
        { "p12", 1, UNIT_TYPE_WARD },
        { "q1", 1, UNIT_TYPE_URBAN_DISTRICT },
        { "q. 1", 3, UNIT_TYPE_URBAN_DISTRICT },
        { "tt. pho rang", 4, UNIT_TYPE_TOWNSHIP },
        { "thi tran pho rang", 9, UNIT_TYPE_TOWNSHIP },
        { "tx. son tay", 4, UNIT_TYPE_TOWN },
        { "tp. hcm", 4, UNIT_TYPE_MUNICIPALITY },
        { "t. ha giang", 3, UNIT_TYPE_PROVINCE },
        { "tinh ha giang", 5, UNIT_TYPE_PROVINCE },
        { "t ha giang", 0, UNIT_TYPE_NATION },
        { "tan phu", 0, UNIT_TYPE_NATION },
        { "phuong", 0, UNIT_TYPE_NATION },
        { "xa", 0, UNIT_TYPE_NATION },
    };

    (void)state;
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        size_t len = 0;
        unsigned levels = 0, types = 0;
        bool ok = units_parse_prefix(cases[i].text, strlen(cases[i].text), &len, &levels, &types);

        if (cases[i].len == 0) {
            assert_false(ok);
        } else {
            assert_true(ok);
            assert_int_equal(len, cases[i].len);
            assert_true(types & (1u << cases[i].type));
        }
    }
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_counts),
        cmocka_unit_test(test_find_by_code_and_date),
        cmocka_unit_test(test_hierarchy),
        cmocka_unit_test(test_successors_and_predecessors),
        cmocka_unit_test(test_every_old_commune_has_successors_in_its_new_province),
        cmocka_unit_test(test_search),
        cmocka_unit_test(test_parse_prefix),
    };
    return cmocka_run_group_tests(tests, setup, NULL);
}
