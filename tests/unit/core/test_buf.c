/* Tests for src/core/buf.c: growth, the hard cap, and refusal leaving the buffer unchanged. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "core/buf.h"

static void test_append_grows_and_terminates(void **state)
{
    struct buf b;

    (void)state;
    buf_init(&b, 1 << 20);
    assert_string_equal(buf_str(&b), "");
    for (int i = 0; i < 1000; i++) {
        assert_int_equal(buf_append_str(&b, "abc"), LT_OK);
    }
    assert_int_equal(b.len, 3000);
    assert_int_equal(strlen(buf_str(&b)), 3000);
    assert_memory_equal(b.data + 2997, "abc", 4);
    buf_release(&b);
}

static void test_cap_refuses_and_keeps_contents(void **state)
{
    struct buf b;

    (void)state;
    buf_init(&b, 8);
    assert_int_equal(buf_append_str(&b, "12345"), LT_OK);
    assert_int_equal(buf_append_str(&b, "6789"), LT_ETOOBIG);
    assert_string_equal(buf_str(&b), "12345");
    assert_int_equal(b.len, 5);
    assert_int_equal(buf_append_str(&b, "678"), LT_OK);
    assert_string_equal(buf_str(&b), "12345678");
    assert_int_equal(buf_append_char(&b, 'x'), LT_ETOOBIG);
    assert_int_equal(buf_printf(&b, "%d", 1), LT_ETOOBIG);
    assert_string_equal(buf_str(&b), "12345678");
    buf_release(&b);
}

static void test_printf_and_reset(void **state)
{
    struct buf b;

    (void)state;
    buf_init(&b, 64);
    assert_int_equal(buf_printf(&b, "%s-%04d", "unit", 7), LT_OK);
    assert_string_equal(buf_str(&b), "unit-0007");
    buf_reset(&b);
    assert_int_equal(b.len, 0);
    assert_string_equal(buf_str(&b), "");
    assert_int_equal(buf_printf(&b, "%c", 'z'), LT_OK);
    assert_string_equal(buf_str(&b), "z");
    buf_release(&b);
    buf_release(NULL);
}

static void test_huge_length_does_not_overflow(void **state)
{
    struct buf b;

    (void)state;
    buf_init(&b, 16);
    assert_int_equal(buf_append(&b, "x", SIZE_MAX), LT_ETOOBIG);
    assert_int_equal(b.len, 0);
    buf_release(&b);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_append_grows_and_terminates),
        cmocka_unit_test(test_cap_refuses_and_keeps_contents),
        cmocka_unit_test(test_printf_and_reset),
        cmocka_unit_test(test_huge_length_does_not_overflow),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
