/* Tests for src/core/error.c: filling, names, statuses and the printed form. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "core/error.h"

static void test_set_returns_code_and_clears(void **state)
{
    struct lt_error err;

    (void)state;
    lt_error_set(&err, LT_EINVAL, "first");
    lt_error_detail(&err, "d");
    lt_error_hint(&err, "h");
    lt_error_field(&err, "birth_date");
    assert_int_equal(lt_error_set(&err, LT_ENOTFOUND, "no unit \"%s\"", "99999"), LT_ENOTFOUND);
    assert_string_equal(err.message, "no unit \"99999\"");
    assert_string_equal(err.detail, "");
    assert_string_equal(err.hint, "");
    assert_string_equal(err.field, "");
    assert_int_equal(lt_error_set(NULL, LT_EIO, "ignored"), LT_EIO);
}

static void test_long_message_is_truncated_safely(void **state)
{
    struct lt_error err;
    char big[2000];

    (void)state;
    memset(big, 'x', sizeof(big) - 1);
    big[sizeof(big) - 1] = '\0';
    lt_error_set(&err, LT_EINVAL, "%s", big);
    lt_error_detail(&err, "%s", big);
    assert_int_equal(strlen(err.message), LT_ERROR_MESSAGE_MAX - 1);
    assert_int_equal(strlen(err.detail), LT_ERROR_DETAIL_MAX - 1);
}

static void test_names_and_statuses(void **state)
{
    (void)state;
    assert_string_equal(lt_code_name(LT_EINVAL), "invalid_input");
    assert_string_equal(lt_code_name(LT_ENOTFOUND), "not_found");
    assert_int_equal(lt_code_http_status(LT_EINVAL), 400);
    assert_int_equal(lt_code_http_status(LT_ENOTFOUND), 404);
    assert_int_equal(lt_code_http_status(LT_ECONFLICT), 409);
    assert_int_equal(lt_code_http_status(LT_ETOOBIG), 413);
    assert_int_equal(lt_code_http_status(LT_EUNAUTH), 401);
    assert_int_equal(lt_code_http_status(LT_EFORBIDDEN), 403);
    assert_int_equal(lt_code_http_status(LT_ELIMIT), 429);
    assert_string_equal(lt_code_name(LT_EUNAUTH), "unauthenticated");
    assert_int_equal(lt_code_http_status((enum lt_code)999), 500);
}

static void test_print(void **state)
{
    struct lt_error err;
    char *text = NULL;
    size_t len = 0;
    FILE *f = open_memstream(&text, &len);

    (void)state;
    lt_error_set(&err, LT_EINVAL, "malformed date \"x\"");
    lt_error_hint(&err, "write dates as YYYY-MM-DD");
    lt_error_print(&err, f);
    fclose(f);
    assert_string_equal(text, "lienthong: error: malformed date \"x\"\n"
                              "  hint: write dates as YYYY-MM-DD\n");
    free(text);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_set_returns_code_and_clears),
        cmocka_unit_test(test_long_message_is_truncated_safely),
        cmocka_unit_test(test_names_and_statuses),
        cmocka_unit_test(test_print),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
