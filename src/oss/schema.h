/*
 * schema.h - the tables of the one-stop shop (a step of store/migrations.c).
 *
 * oss_dossiers is the projection of the dossier events: one row per
 * dossier with the whole dossier as JSON (doc) and the columns that the
 * officer's queue and the indicators filter and sort on.  open is 1 while
 * the status is received, in_review or waiting_applicant.  Days are day
 * numbers (core/date.h), received_ms milliseconds since the epoch;
 * settled_day is NULL until the decision.
 *
 * Indexes: the queue of a commune, a province or the nation (open, by due
 * day then code, for keyset pages), the dossiers received at a commune, a
 * citizen's own dossiers, and the indicators of a province by day of
 * receipt and of settlement.
 */
#ifndef LT_OSS_SCHEMA_H
#define LT_OSS_SCHEMA_H

extern const char oss_schema_sql[];

#endif
