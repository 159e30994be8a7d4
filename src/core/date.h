/*
 * date.h - civil dates as day numbers.
 *
 * A date is the number of days since 1970-01-01 in the proleptic Gregorian
 * calendar, held in an int32_t.  Validity ranges of units, event dates and
 * due dates all use it.  "Today" is the date in Vietnam (UTC+7, no DST).
 */
#ifndef LT_DATE_H
#define LT_DATE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "core/error.h"

#define DATE_MIN     INT32_MIN /* open start of a validity range */
#define DATE_MAX     INT32_MAX /* open end of a validity range */
#define DATE_STR_MAX 11        /* "YYYY-MM-DD" and NUL */

/* Days since 1970-01-01 of a civil date (no range check). */
int32_t date_from_civil(int year, int month, int day);

/* The civil date of a day number. */
void date_to_civil(int32_t days, int *year, int *month, int *day);

/*
 * Parse "YYYY-MM-DD" (a real calendar day, years 1900..2199).
 * LT_EINVAL with a clear message otherwise; *out is untouched then.
 */
enum lt_code date_parse(const char *s, int32_t *out, struct lt_error *err);

/* Write "YYYY-MM-DD" into out (DATE_STR_MAX bytes); "" for DATE_MIN/MAX. */
void date_format(int32_t days, char out[DATE_STR_MAX]);

/* Today's date in Vietnam. */
int32_t date_today(void);

#endif
