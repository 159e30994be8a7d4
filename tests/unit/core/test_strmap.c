/* Tests for src/core/strmap.c: many keys, several values a key, order kept. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include <cmocka.h>

#include "core/strmap.h"

static void test_many_keys(void **state)
{
    struct strmap m;
    char key[32];

    (void)state;
    strmap_init(&m);
    assert_int_equal(strmap_first(&m, "x", 1), STRMAP_END);
    for (uint32_t i = 0; i < 20000; i++) {
        int n = snprintf(key, sizeof(key), "k%u", i);
        strmap_add(&m, key, (size_t)n, i * 3);
    }
    for (uint32_t i = 0; i < 20000; i++) {
        int n = snprintf(key, sizeof(key), "k%u", i);
        uint32_t e = strmap_first(&m, key, (size_t)n);

        assert_int_not_equal(e, STRMAP_END);
        assert_int_equal(strmap_value(&m, e), i * 3);
        assert_int_equal(strmap_next(&m, e), STRMAP_END);
    }
    assert_int_equal(strmap_first(&m, "k20000", 6), STRMAP_END);
    assert_int_equal(strmap_first(&m, "k1", 1), STRMAP_END); /* "k" alone */
    strmap_release(&m);
}

static void test_multi_values_in_order(void **state)
{
    struct strmap m;
    uint32_t got[4];
    size_t n = 0;

    (void)state;
    strmap_init(&m);
    strmap_add(&m, "00004", 5, 7);
    for (int i = 0; i < 200; i++) {
        char key[8];
        int len = snprintf(key, sizeof(key), "f%d", i);
        strmap_add(&m, key, (size_t)len, 0);
    }
    strmap_add(&m, "00004", 5, 9);
    strmap_add(&m, "00004", 5, 11);
    for (uint32_t e = strmap_first(&m, "00004", 5); e != STRMAP_END; e = strmap_next(&m, e)) {
        got[n++] = strmap_value(&m, e);
    }
    assert_int_equal(n, 3);
    assert_int_equal(got[0], 7);
    assert_int_equal(got[1], 9);
    assert_int_equal(got[2], 11);
    assert_int_equal(strmap_count(&m, "00004", 5), 3);
    assert_int_equal(strmap_count(&m, "0000", 4), 0);
    strmap_release(&m);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_many_keys),
        cmocka_unit_test(test_multi_values_in_order),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
