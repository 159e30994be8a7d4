/* Tests for src/oss/calendar.c: working days, holidays, swaps, the cut-off, due dates. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "core/date.h"
#include "oss/calendar.h"

static int32_t d(const char *s)
{
    int32_t v = 0;

    assert_int_equal(date_parse(s, &v, NULL), LT_OK);
    return v;
}

/* ms of a Vietnam local time on day s */
static int64_t at(const char *s, int h, int m)
{
    return ((int64_t)d(s) * 86400 + h * 3600 + m * 60) * 1000 - OSS_VIETNAM_OFFSET_MS;
}

static void assert_day(int32_t got, const char *want)
{
    char s[DATE_STR_MAX];

    date_format(got, s);
    assert_string_equal(s, want);
}

static void test_weekends_holidays_and_swaps(void **state)
{
    const struct oss_calendar *c = oss_calendar_builtin();

    (void)state;
    assert_true(oss_calendar_is_working_day(c, d("2025-07-01")));  /* Tuesday */
    assert_false(oss_calendar_is_working_day(c, d("2025-07-05"))); /* Saturday */
    assert_false(oss_calendar_is_working_day(c, d("2025-07-06"))); /* Sunday */
    assert_false(oss_calendar_is_working_day(c, d("2025-09-01"))); /* National Day, adjacent */
    assert_false(oss_calendar_is_working_day(c, d("2025-09-02")));
    assert_true(oss_calendar_is_working_day(c, d("2025-04-26"))); /* Saturday worked for 2 May */
    assert_false(oss_calendar_is_working_day(c, d("2025-05-02")));
    assert_false(oss_calendar_is_working_day(c, d("2026-02-18"))); /* Tết */
    assert_false(oss_calendar_is_working_day(c, d("2026-04-27"))); /* Hùng Kings substitute */
    assert_false(oss_calendar_is_working_day(c, d("2027-02-10"))); /* derived substitute */
    assert_true(oss_calendar_is_working_day(c, d("2028-01-03")));  /* outside: weekdays work */
    assert_int_equal(oss_calendar_cutoff(c), 15 * 60);
}

static void test_adding_and_counting(void **state)
{
    const struct oss_calendar *c = oss_calendar_builtin();

    (void)state;
    /* Friday 13 Feb 2026 + 1: Tết closes 16-20 Feb */
    assert_day(oss_calendar_add_working_days(c, d("2026-02-13"), 1), "2026-02-23");
    assert_day(oss_calendar_next_working_day(c, d("2025-04-25")), "2025-04-26");
    /* 30 April, 1 May and the swapped 2 May are off */
    assert_day(oss_calendar_add_working_days(c, d("2025-04-29"), 2), "2025-05-06");
    assert_day(oss_calendar_add_working_days(c, d("2025-07-01"), 0), "2025-07-01");
    assert_int_equal(oss_calendar_working_days_between(c, d("2026-02-13"), d("2026-02-23")), 1);
    assert_int_equal(oss_calendar_working_days_between(c, d("2025-07-01"), d("2025-07-08")), 5);
    assert_int_equal(oss_calendar_working_days_between(c, d("2025-07-08"), d("2025-07-01")), 0);
}

static void test_cutoff_and_due_dates(void **state)
{
    const struct oss_calendar *c = oss_calendar_builtin();
    struct oss_time_limit same = { .same_day = true }, three = { .working_days = 3 };

    (void)state;
    assert_day(oss_day_of_ms(at("2025-07-03", 23, 30)), "2025-07-03");
    assert_int_equal(oss_minute_of_ms(at("2025-07-03", 23, 30)), 23 * 60 + 30);
    assert_day(oss_calendar_start_day(c, at("2025-07-03", 15, 0)), "2025-07-03");
    assert_day(oss_calendar_start_day(c, at("2025-07-03", 15, 1)), "2025-07-04");
    assert_day(oss_calendar_start_day(c, at("2025-07-05", 9, 0)), "2025-07-07"); /* Saturday */
    assert_day(oss_calendar_due(c, at("2025-07-03", 9, 0), same), "2025-07-03");
    assert_day(oss_calendar_due(c, at("2025-07-03", 16, 0), same), "2025-07-04");
    /* Thursday 23 April 2026 after the cut-off: starts Friday 24; 27 April, 30 April and
     * 1 May are holidays, so the third working day is Monday 4 May */
    assert_day(oss_calendar_due(c, at("2026-04-23", 16, 0), three), "2026-05-04");
    assert_day(oss_calendar_due(c, at("2026-04-23", 10, 0), three), "2026-04-29");
}

static void test_bad_calendars_refused(void **state)
{
    struct oss_calendar *c = NULL;
    struct lt_error err;
    static const char *const bad[] = {
        "{}",
        "{\"cutoff\":\"25:00\",\"first_year\":2025,\"last_year\":2025,\"days\":[]}",
        "{\"cutoff\":\"15:00\",\"first_year\":2025,\"last_year\":2025,\"days\":[{\"date\":"
        "\"2025-07-05\",\"kind\":\"holiday\"}]}", /* a Saturday is no weekday holiday */
        "{\"cutoff\":\"15:00\",\"first_year\":2025,\"last_year\":2025,\"days\":[{\"date\":"
        "\"2026-01-01\",\"kind\":\"holiday\"}]}", /* outside the years */
        "not json",
    };

    (void)state;
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        assert_int_equal(oss_calendar_parse(bad[i], strlen(bad[i]), &c, &err), LT_EINVAL);
        assert_null(c);
    }
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_weekends_holidays_and_swaps),
        cmocka_unit_test(test_adding_and_counting),
        cmocka_unit_test(test_cutoff_and_due_dates),
        cmocka_unit_test(test_bad_calendars_refused),
    };

    return cmocka_run_group_tests(tests, NULL, NULL);
}
