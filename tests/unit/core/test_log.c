/* Tests for src/core/log.c: levels, trace specs and the one-line format. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>

#include "core/log.h"

static void test_levels_and_traces(void **state)
{
    struct lt_error err;

    (void)state;
    log_set_level(LT_LOG_NOTICE);
    assert_int_equal(log_set_trace("", &err), LT_OK);
    assert_false(log_enabled(LT_LOG_DEBUG, "sync"));
    assert_false(log_enabled(LT_LOG_INFO, "sync"));
    assert_true(log_enabled(LT_LOG_NOTICE, "sync"));
    assert_true(log_enabled(LT_LOG_ERROR, "http"));

    assert_int_equal(log_set_trace("sync,-http", &err), LT_OK);
    assert_true(log_enabled(LT_LOG_DEBUG, "sync"));
    assert_false(log_enabled(LT_LOG_DEBUG, "http"));
    assert_true(log_enabled(LT_LOG_WARNING, "http"));
    assert_false(log_enabled(LT_LOG_DEBUG, "units"));

    assert_int_equal(log_set_trace("all,-http", &err), LT_OK);
    assert_true(log_enabled(LT_LOG_DEBUG, "units"));
    assert_false(log_enabled(LT_LOG_DEBUG, "http"));
}

static void test_bad_spec_changes_nothing(void **state)
{
    struct lt_error err;
    enum log_level level = LT_LOG_ERROR;

    (void)state;
    assert_int_equal(log_set_trace("sync", &err), LT_OK);
    assert_int_equal(log_set_trace("sync,,http", &err), LT_EINVAL);
    assert_int_equal(log_set_trace("-", &err), LT_EINVAL);
    assert_true(log_enabled(LT_LOG_DEBUG, "sync"));
    assert_false(log_enabled(LT_LOG_DEBUG, "http"));
    assert_int_equal(log_parse_level("verbose", &level, &err), LT_EINVAL);
    assert_int_equal(level, LT_LOG_ERROR);
    assert_int_equal(log_parse_level("Debug", &level, &err), LT_OK);
    assert_int_equal(level, LT_LOG_DEBUG);
}

static void test_line_format(void **state)
{
    int fds[2];
    int saved;
    char line[512] = { 0 };
    ssize_t n;

    (void)state;
    assert_int_equal(pipe(fds), 0);
    saved = dup(STDERR_FILENO);
    dup2(fds[1], STDERR_FILENO);
    log_set_level(LT_LOG_INFO);
    log_info("units", "loaded %d units\nsecond line", 14000);
    dup2(saved, STDERR_FILENO);
    close(saved);
    close(fds[1]);
    n = read(fds[0], line, sizeof(line) - 1);
    close(fds[0]);
    assert_true(n > 0);
    /* 2026-12-03T16:40:01.123Z <pid> INFO units: loaded ... */
    assert_int_equal(line[10], 'T');
    assert_int_equal(line[23], 'Z');
    assert_non_null(strstr(line, " INFO units: loaded 14000 units second line\n"));
    assert_int_equal(strchr(line, '\n') - line, n - 1);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_levels_and_traces),
        cmocka_unit_test(test_bad_spec_changes_nothing),
        cmocka_unit_test(test_line_format),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
