/*
 * calendar.c - working-day arithmetic over the holiday calendar.
 *
 * The listed days of the covered years are kept as one flag per day of
 * those years (a few hundred bytes), so a lookup is an index; adding N
 * working days walks N days or a little more, which for statutory limits
 * (at most a few dozen days) is cheaper than anything cleverer.
 */
#include "oss/calendar.h"

#include <pthread.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>

#include "core/buf.h"
#include "core/date.h"
#include "core/banned.h"

enum day_kind {
    DAY_PLAIN,
    DAY_HOLIDAY,
    DAY_WORKING_SATURDAY,
};

struct oss_calendar {
    int32_t first; /* first day covered (1 January of first_year) */
    int32_t count; /* days covered */
    unsigned char *kind;
    int cutoff; /* minutes after midnight */
};

extern const char lt_data_calendar[];
extern const size_t lt_data_calendar_len;

static enum lt_code bad(struct lt_error *err, const char *field, const char *what)
{
    lt_error_set(err, LT_EINVAL, "calendar: %s", what);
    lt_error_field(err, field);
    return LT_EINVAL;
}

static enum lt_code parse_cutoff(const char *s, int *out, struct lt_error *err)
{
    int h, m;

    if (s == NULL || strlen(s) != 5 || s[2] != ':' || s[0] < '0' || s[0] > '2' || s[1] < '0' ||
        s[1] > '9' || s[3] < '0' || s[3] > '5' || s[4] < '0' || s[4] > '9') {
        return bad(err, "cutoff", "\"cutoff\" is not HH:MM");
    }
    h = (s[0] - '0') * 10 + (s[1] - '0');
    m = (s[3] - '0') * 10 + (s[4] - '0');
    if (h > 23) {
        return bad(err, "cutoff", "\"cutoff\" is not HH:MM");
    }
    *out = h * 60 + m;
    return LT_OK;
}

static int weekday(int32_t day)
{
    /* 1970-01-01 was a Thursday; 0 is Monday */
    return (int)(((day % 7) + 7 + 3) % 7);
}

static enum lt_code add_day(struct oss_calendar *c, const json_t *d, size_t i, struct lt_error *err)
{
    const char *date = json_string_value(json_object_get(d, "date"));
    const char *kind = json_string_value(json_object_get(d, "kind"));
    int32_t day;
    int wd;

    if (date == NULL || date_parse(date, &day, err) != LT_OK) {
        return bad(err, "days", "a day without a valid \"date\"");
    }
    if (day < c->first || day >= c->first + c->count) {
        lt_error_set(err, LT_EINVAL, "calendar: day %zu (%s) is outside first_year..last_year", i,
                     date);
        return LT_EINVAL;
    }
    wd = weekday(day);
    if (kind != NULL && strcmp(kind, "holiday") == 0 && wd < 5) {
        c->kind[day - c->first] = DAY_HOLIDAY;
    } else if (kind != NULL && strcmp(kind, "working_saturday") == 0 && wd == 5) {
        c->kind[day - c->first] = DAY_WORKING_SATURDAY;
    } else {
        lt_error_set(err, LT_EINVAL,
                     "calendar: day %zu (%s) is neither a weekday holiday nor a working Saturday",
                     i, date);
        return LT_EINVAL;
    }
    return LT_OK;
}

enum lt_code oss_calendar_parse(const char *text, size_t len, struct oss_calendar **out,
                                struct lt_error *err)
{
    json_error_t jerr;
    json_t *doc = json_loadb(text, len, JSON_REJECT_DUPLICATES, &jerr);
    struct oss_calendar *c = NULL;
    json_t *days;
    json_int_t y0, y1;
    enum lt_code rc = LT_OK;

    *out = NULL;
    if (doc == NULL) {
        lt_error_set(err, LT_EINVAL, "calendar: not JSON: %s", jerr.text);
        lt_error_detail(err, "line %d, column %d", jerr.line, jerr.column);
        return LT_EINVAL;
    }
    y0 = json_integer_value(json_object_get(doc, "first_year"));
    y1 = json_integer_value(json_object_get(doc, "last_year"));
    days = json_object_get(doc, "days");
    if (y0 < 1900 || y1 < y0 || y1 > 2199 || !json_is_array(days)) {
        rc = bad(err, "first_year", "needs first_year <= last_year (1900..2199) and days[]");
        goto out;
    }
    c = xcalloc(1, sizeof(*c));
    c->first = date_from_civil((int)y0, 1, 1);
    c->count = date_from_civil((int)y1 + 1, 1, 1) - c->first;
    c->kind = xcalloc((size_t)c->count, 1);
    rc = parse_cutoff(json_string_value(json_object_get(doc, "cutoff")), &c->cutoff, err);
    for (size_t i = 0; rc == LT_OK && i < json_array_size(days); i++) {
        rc = add_day(c, json_array_get(days, i), i, err);
    }
out:
    json_decref(doc);
    if (rc != LT_OK) {
        oss_calendar_free(c);
        return rc;
    }
    *out = c;
    return LT_OK;
}

void oss_calendar_free(struct oss_calendar *c)
{
    if (c == NULL) {
        return;
    }
    free(c->kind);
    free(c);
}

static struct oss_calendar *builtin;
static pthread_once_t builtin_once = PTHREAD_ONCE_INIT;

static void load_builtin(void)
{
    struct lt_error err;

    if (oss_calendar_parse(lt_data_calendar, lt_data_calendar_len, &builtin, &err) != LT_OK) {
        BUG("the built-in calendar does not load: %s", err.message);
    }
}

const struct oss_calendar *oss_calendar_builtin(void)
{
    pthread_once(&builtin_once, load_builtin);
    return builtin;
}

int oss_calendar_cutoff(const struct oss_calendar *c)
{
    return c->cutoff;
}

bool oss_calendar_is_working_day(const struct oss_calendar *c, int32_t day)
{
    int wd = weekday(day);

    if (day >= c->first && day < c->first + c->count) {
        switch (c->kind[day - c->first]) {
        case DAY_HOLIDAY:
            return false;
        case DAY_WORKING_SATURDAY:
            return true;
        default:
            break;
        }
    }
    return wd < 5;
}

int32_t oss_calendar_next_working_day(const struct oss_calendar *c, int32_t day)
{
    do {
        day++;
    } while (!oss_calendar_is_working_day(c, day));
    return day;
}

int32_t oss_calendar_add_working_days(const struct oss_calendar *c, int32_t day, int n)
{
    for (int i = 0; i < n; i++) {
        day = oss_calendar_next_working_day(c, day);
    }
    return day;
}

int oss_calendar_working_days_between(const struct oss_calendar *c, int32_t from, int32_t to)
{
    int n = 0;

    for (int32_t d = from + 1; d <= to; d++) {
        n += oss_calendar_is_working_day(c, d);
    }
    return n;
}

static int64_t local_ms(int64_t ms)
{
    return ms + OSS_VIETNAM_OFFSET_MS;
}

int32_t oss_day_of_ms(int64_t ms)
{
    int64_t l = local_ms(ms);

    return (int32_t)((l >= 0 ? l : l - (OSS_DAY_MS - 1)) / OSS_DAY_MS);
}

int oss_minute_of_ms(int64_t ms)
{
    int64_t into = local_ms(ms) - (int64_t)oss_day_of_ms(ms) * OSS_DAY_MS;

    return (int)(into / 60000);
}

int32_t oss_calendar_start_day(const struct oss_calendar *c, int64_t ms)
{
    int32_t day = oss_day_of_ms(ms);
    int64_t into = local_ms(ms) - (int64_t)day * OSS_DAY_MS;

    /* "after 15:00": 15:00:00.000 itself still counts that day */
    if (oss_calendar_is_working_day(c, day) && into <= (int64_t)c->cutoff * 60000) {
        return day;
    }
    return oss_calendar_next_working_day(c, day);
}

int32_t oss_calendar_due(const struct oss_calendar *c, int64_t ms, struct oss_time_limit limit)
{
    int32_t start = oss_calendar_start_day(c, ms);

    return oss_calendar_add_working_days(c, start, limit.same_day ? 0 : limit.working_days);
}
