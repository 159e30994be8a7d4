/*
 * calendar.h - working days: weekends, public holidays, substitute days,
 * swapped working Saturdays, and the afternoon cut-off for receipt.
 *
 * Design note.  The calendar is reference data compiled into the binary
 * (data/calendar/calendar.json, see its SOURCES.md) and read-only once
 * loaded, so every thread may share it.  A day is a core/date.h day number;
 * times are milliseconds since the epoch (UTC) and are read in Vietnam time
 * (UTC+7).  A working day is Monday to Friday unless listed as a holiday,
 * or a Saturday listed as a working Saturday.  Days outside the years the
 * file covers count weekends only.
 *
 * Time limits count from the day of receipt: a dossier received on a
 * working day before the cut-off starts its clock that day, otherwise on
 * the next working day.  A limit of N working days ends on the Nth working
 * day after the start; "same working day" ends on the start day itself.
 */
#ifndef LT_OSS_CALENDAR_H
#define LT_OSS_CALENDAR_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "core/error.h"

#define OSS_VIETNAM_OFFSET_MS (7 * 3600 * 1000LL)
#define OSS_DAY_MS            (86400 * 1000LL)

struct oss_calendar;

/* A statutory time limit: same_day, or working_days (1..365). */
struct oss_time_limit {
    bool same_day;
    int working_days;
};

/*
 * Parse a calendar document (the shape of data/calendar/calendar.json).
 * LT_EINVAL naming the day or member at fault.  *out is the caller's
 * (oss_calendar_free).
 */
enum lt_code oss_calendar_parse(const char *text, size_t len, struct oss_calendar **out,
                                struct lt_error *err);
void oss_calendar_free(struct oss_calendar *c); /* NULL ok */

/* The built-in calendar, parsed on first use (borrowed, lives as long as the process).
 * A calendar file that does not parse is a defect of the build: BUG. */
const struct oss_calendar *oss_calendar_builtin(void);

/* The cut-off, in minutes after midnight Vietnam time (900 for 15:00). */
int oss_calendar_cutoff(const struct oss_calendar *c);

bool oss_calendar_is_working_day(const struct oss_calendar *c, int32_t day);

/* The first working day strictly after day. */
int32_t oss_calendar_next_working_day(const struct oss_calendar *c, int32_t day);

/* The nth working day after day (n >= 0; n = 0 gives day itself). */
int32_t oss_calendar_add_working_days(const struct oss_calendar *c, int32_t day, int n);

/* How many working days d there are with from < d <= to (0 if to <= from). */
int oss_calendar_working_days_between(const struct oss_calendar *c, int32_t from, int32_t to);

/* The day (Vietnam time) of a time in ms since the epoch, and its minute of the day. */
int32_t oss_day_of_ms(int64_t ms);
int oss_minute_of_ms(int64_t ms);

/* The day a dossier received at ms starts its clock: that day if it is a
 * working day and ms is not after the cut-off, else the next working day. */
int32_t oss_calendar_start_day(const struct oss_calendar *c, int64_t ms);

/* The due date of a dossier received at ms under limit. */
int32_t oss_calendar_due(const struct oss_calendar *c, int64_t ms, struct oss_time_limit limit);

#endif
