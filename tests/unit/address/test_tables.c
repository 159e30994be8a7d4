/*
 * Tests for the tables written at build time (src/units/units_tables.h,
 * src/address/address_tables.h): the built-in register and the converter
 * over it hold exactly what parsing the CSV files and building the
 * converter at run time give.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "address/address.h"
#include "address/address_tables.h"
#include "units/units.h"
#include "units/units_tables.h"

static void assert_same_string(const char *a, const char *b)
{
    if (a == NULL || b == NULL) {
        assert_null(a);
        assert_null(b);
        return;
    }
    assert_string_equal(a, b);
}

static void assert_same_u32s(const uint32_t *a, const uint32_t *b, size_t n)
{
    assert_memory_equal(a, b, sizeof(uint32_t) * n);
}

static void test_register_is_the_parsed_one(void **state)
{
    const struct units *built = units_builtin();
    struct units *parsed = units_load_csv();
    struct units_tables a, b;

    (void)state;
    assert_int_equal(units_count(built), units_count(parsed));
    for (uint32_t i = 0; i < units_count(parsed); i++) {
        const struct unit *x = units_at(built, i), *y = units_at(parsed, i);

        assert_int_equal(x->id, y->id);
        assert_string_equal(x->code, y->code);
        assert_string_equal(x->name, y->name);
        assert_string_equal(x->short_name, y->short_name);
        assert_same_string(x->alt_name, y->alt_name);
        assert_string_equal(x->fold, y->fold);
        assert_int_equal(x->type, y->type);
        assert_int_equal(x->level, y->level);
        assert_int_equal(x->parent, y->parent);
        assert_int_equal(x->valid_from, y->valid_from);
        assert_int_equal(x->valid_to, y->valid_to);
    }
    units_export_tables(built, &a);
    units_export_tables(parsed, &b);
    assert_int_equal(a.nedges, b.nedges);
    assert_same_u32s(a.child_off, b.child_off, (size_t)a.n + 1);
    assert_same_u32s(a.child_ids, b.child_ids, (size_t)a.n - 1);
    assert_same_u32s(a.succ_off, b.succ_off, (size_t)a.n + 1);
    assert_same_u32s(a.pred_off, b.pred_off, (size_t)a.n + 1);
    assert_memory_equal(a.succ, b.succ, sizeof(a.succ[0]) * a.nedges);
    assert_memory_equal(a.pred, b.pred, sizeof(a.pred[0]) * a.nedges);
    assert_int_equal(a.ncode_entries, b.ncode_entries);
    assert_memory_equal(a.code_entries, b.code_entries,
                        sizeof(a.code_entries[0]) * a.ncode_entries);
    assert_int_equal(a.ncode_buckets, b.ncode_buckets);
    assert_same_u32s(a.code_buckets, b.code_buckets, a.ncode_buckets);
    assert_int_equal(a.code_arena_len, b.code_arena_len);
    assert_memory_equal(a.code_arena, b.code_arena, a.code_arena_len);
    /* Lookups work on the tables as they do on the parsed register. */
    assert_string_equal(units_find_default(built, "00004")->name,
                        units_find_default(parsed, "00004")->name);
    units_tables_release(&a);
    units_tables_release(&b);
    units_free(parsed);
}

static void assert_same_index(const struct address_index_tables *a,
                              const struct address_index_tables *b)
{
    assert_int_equal(a->nkeys, b->nkeys);
    assert_int_equal(a->mask, b->mask);
    for (uint32_t i = 0; i < a->nkeys; i++) {
        assert_int_equal(a->keys[i].off, b->keys[i].off);
        assert_int_equal(a->keys[i].len, b->keys[i].len);
        assert_int_equal(a->keys[i].hash, b->keys[i].hash);
        assert_int_equal(a->keys[i].first, b->keys[i].first);
    }
    assert_int_equal(a->keys[a->nkeys].first, b->keys[b->nkeys].first);
    assert_same_u32s(a->slots, b->slots, 2 * ((size_t)a->mask + 1));
    assert_int_equal(a->arena_len, b->arena_len);
    assert_memory_equal(a->arena, b->arena, a->arena_len);
    assert_int_equal(a->nvalues, b->nvalues);
    assert_same_u32s(a->values, b->values, a->nvalues);
}

static void test_converter_is_the_built_one(void **state)
{
    const struct units *u = units_builtin();
    struct address_converter *from_tables = address_converter_new(u);
    struct address_converter *built = address_converter_build(u);
    struct address_tables a, b;
    struct address_result r1, r2;
    struct lt_error err;
    static const char line[] = "Số 12 ngõ 34 Đội Cấn, Phường Đội Cấn, Quận Ba Đình, Hà Nội";

    (void)state;
    address_export_tables(from_tables, &a);
    address_export_tables(built, &b);
    assert_same_index(&a.index, &b.index);
    assert_same_index(&a.names, &b.names);
    assert_int_equal(a.noldp, b.noldp);
    assert_same_u32s(a.oldp, b.oldp, a.noldp);
    assert_same_u32s(a.oldp_next, b.oldp_next, a.noldp);
    assert_int_equal(address_convert(from_tables, line, strlen(line), &r1, &err), LT_OK);
    assert_int_equal(address_convert(built, line, strlen(line), &r2, &err), LT_OK);
    assert_int_equal(r1.status, ADDRESS_AMBIGUOUS); /* Đội Cấn was split */
    assert_int_equal(r1.status, r2.status);
    assert_int_equal(r1.ncandidates, r2.ncandidates);
    assert_ptr_equal(r1.candidates[0].commune, r2.candidates[0].commune);
    free((void *)a.oldp);
    free((void *)b.oldp);
    address_converter_free(from_tables);
    address_converter_free(built);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_register_is_the_parsed_one),
        cmocka_unit_test(test_converter_is_the_built_one),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
