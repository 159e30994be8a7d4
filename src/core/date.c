/*
 * date.c - day numbers from and to civil dates.
 *
 * The conversion counts 400-year eras starting on 1 March, so that the leap
 * day falls at the end of the counted year and needs no special case.
 */
#include "core/date.h"

#include <stdio.h>
#include <string.h>
#include <time.h>

#include "core/banned.h"

#define VIETNAM_UTC_OFFSET (7 * 3600)

int32_t date_from_civil(int year, int month, int day)
{
    int y = month <= 2 ? year - 1 : year;
    int era = (y >= 0 ? y : y - 399) / 400;
    int yoe = y - era * 400;                                            /* [0, 399] */
    int doy = (153 * (month + (month > 2 ? -3 : 9)) + 2) / 5 + day - 1; /* [0, 365] */
    int doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;                    /* [0, 146096] */

    return (int32_t)(era * 146097 + doe - 719468);
}

void date_to_civil(int32_t days, int *year, int *month, int *day)
{
    int z = days + 719468;
    int era = (z >= 0 ? z : z - 146096) / 146097;
    int doe = z - era * 146097;
    int yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;
    int doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    int mp = (5 * doy + 2) / 153;
    int d = doy - (153 * mp + 2) / 5 + 1;
    int m = mp < 10 ? mp + 3 : mp - 9;

    *year = yoe + era * 400 + (m <= 2);
    *month = m;
    *day = d;
}

static bool all_digits(const char *s, size_t n)
{
    for (size_t i = 0; i < n; i++) {
        if (s[i] < '0' || s[i] > '9') {
            return false;
        }
    }
    return true;
}

enum lt_code date_parse(const char *s, int32_t *out, struct lt_error *err)
{
    int y, m, d, cy, cm, cd;
    int32_t days;

    if (strlen(s) != 10 || s[4] != '-' || s[7] != '-' || !all_digits(s, 4) ||
        !all_digits(s + 5, 2) || !all_digits(s + 8, 2)) {
        lt_error_set(err, LT_EINVAL, "malformed date \"%.32s\"", s);
        lt_error_hint(err, "write dates as YYYY-MM-DD, e.g. 2025-07-01");
        return LT_EINVAL;
    }
    y = (s[0] - '0') * 1000 + (s[1] - '0') * 100 + (s[2] - '0') * 10 + (s[3] - '0');
    m = (s[5] - '0') * 10 + (s[6] - '0');
    d = (s[8] - '0') * 10 + (s[9] - '0');
    if (y < 1900 || y > 2199 || m < 1 || m > 12 || d < 1 || d > 31) {
        return lt_error_set(err, LT_EINVAL, "date \"%s\" is out of range", s);
    }
    days = date_from_civil(y, m, d);
    date_to_civil(days, &cy, &cm, &cd);
    if (cy != y || cm != m || cd != d) {
        return lt_error_set(err, LT_EINVAL, "date \"%s\" does not exist", s);
    }
    *out = days;
    return LT_OK;
}

void date_format(int32_t days, char out[DATE_STR_MAX])
{
    int y, m, d;

    if (days == DATE_MIN || days == DATE_MAX) {
        out[0] = '\0';
        return;
    }
    date_to_civil(days, &y, &m, &d);
    /* Write the digits by hand: the ranges are known, snprintf cannot tell. */
    y = ((y % 10000) + 10000) % 10000;
    out[0] = (char)('0' + y / 1000);
    out[1] = (char)('0' + y / 100 % 10);
    out[2] = (char)('0' + y / 10 % 10);
    out[3] = (char)('0' + y % 10);
    out[4] = '-';
    out[5] = (char)('0' + m / 10);
    out[6] = (char)('0' + m % 10);
    out[7] = '-';
    out[8] = (char)('0' + d / 10);
    out[9] = (char)('0' + d % 10);
    out[10] = '\0';
}

int32_t date_today(void)
{
    time_t now = time(NULL) + VIETNAM_UTC_OFFSET;

    return (int32_t)(now / 86400);
}
