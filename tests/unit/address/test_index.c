/*
 * Tests for src/address/address_index.c: values by key in insertion order,
 * repeated values kept once, growth past the first table, unknown keys.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include <cmocka.h>

#include "address/address_index.h"

static void test_values_by_key(void **state)
{
    struct address_index x;
    const uint32_t *v;
    size_t n;

    (void)state;
    address_index_init(&x);
    address_index_add(&x, "tan thanh", 9, 7);
    address_index_add(&x, "ba dinh", 7, 1);
    address_index_add(&x, "tan thanh", 9, 3);
    address_index_add(&x, "tan thanh", 9, 7); /* repeated: kept once */
    address_index_add(&x, "tan thanh", 9, 5);
    address_index_add(&x, "", 0, 42);
    address_index_freeze(&x);

    v = address_index_get(&x, "tan thanh", 9, &n);
    assert_int_equal(n, 3);
    assert_int_equal(v[0], 7);
    assert_int_equal(v[1], 3);
    assert_int_equal(v[2], 5);
    v = address_index_get(&x, "ba dinh", 7, &n);
    assert_int_equal(n, 1);
    assert_int_equal(v[0], 1);
    v = address_index_get(&x, "", 0, &n);
    assert_int_equal(n, 1);
    assert_int_equal(v[0], 42);
    /* Keys are bytes: a prefix or a longer key is another key. */
    assert_null(address_index_get(&x, "tan than", 8, &n));
    assert_int_equal(n, 0);
    assert_null(address_index_get(&x, "ba dinh!", 8, &n));
    address_index_release(&x);
    address_index_release(NULL);
}

static void test_many_keys(void **state)
{
    struct address_index x;
    char key[32];

    (void)state;
    address_index_init(&x);
    for (uint32_t i = 0; i < 50000; i++) {
        int len = snprintf(key, sizeof(key), "k%u", i % 20000);

        address_index_add(&x, key, (size_t)len, i);
    }
    address_index_freeze(&x);
    for (uint32_t i = 0; i < 20000; i++) {
        int len = snprintf(key, sizeof(key), "k%u", i);
        size_t n;
        const uint32_t *v = address_index_get(&x, key, (size_t)len, &n);

        assert_int_equal(n, i < 10000 ? 3 : 2);
        assert_int_equal(v[0], i);
        assert_int_equal(v[1], i + 20000);
    }
    address_index_release(&x);
}

static void test_empty(void **state)
{
    struct address_index x;
    size_t n = 99;

    (void)state;
    address_index_init(&x);
    address_index_freeze(&x);
    assert_null(address_index_get(&x, "x", 1, &n));
    assert_int_equal(n, 0);
    address_index_release(&x);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_values_by_key),
        cmocka_unit_test(test_many_keys),
        cmocka_unit_test(test_empty),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
