/*
 * catalogue.h - the versioned procedure catalogue of the one-stop shop.
 *
 * Design note.  The catalogue is reference data compiled into the binary
 * (data/procedures/catalogue.json, see its SOURCES.md), validated whole
 * when loaded and read-only afterwards, so threads share it.  A procedure
 * is a code and a version with a validity range; a dossier is bound to the
 * version in force on the day it was received (oss_catalogue_find), and
 * keeps naming that version after a newer one comes into force.
 *
 * Validation refuses what the rest of the module would trip on: unknown
 * field types or checks, a route through a field the procedure does not
 * have or of the wrong type, an effect the effects module does not know or
 * whose fields are missing, a composite step naming a procedure that is
 * not there or whose required fields the composite cannot supply, two
 * versions of one code in force on the same day.
 */
#ifndef LT_OSS_CATALOGUE_H
#define LT_OSS_CATALOGUE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <jansson.h>

#include "core/error.h"
#include "oss/calendar.h"

#define OSS_CODE_MAX 48 /* procedure and step codes */

enum oss_field_type {
    OSS_F_TEXT,
    OSS_F_DATE,
    OSS_F_PERSON_ID,
    OSS_F_PARCEL_ID,
    OSS_F_BUSINESS_CODE,
    OSS_F_UNIT,
    OSS_F_ENUM,
    OSS_F_NUMBER,
    OSS_F_INDUSTRY_CODE,
};

/* What receipt checks about the record a field names. */
enum oss_check {
    OSS_CHECK_NONE,
    OSS_CHECK_NEW,    /* must not exist yet (a child's ID, a new parcel, a new business) */
    OSS_CHECK_EXISTS, /* must exist */
    OSS_CHECK_ALIVE,  /* a person who exists and is not deceased */
    OSS_CHECK_HELD,   /* a parcel the applicant holds a share of */
};

enum oss_level {
    OSS_LEVEL_COMMUNE,
    OSS_LEVEL_PROVINCE,
};

/* How the competent unit is found (routing.h). */
enum oss_route_by {
    OSS_ROUTE_UNIT_FIELD,   /* a field of type unit */
    OSS_ROUTE_RESIDENCE_OF, /* the permanent residence of the person a field (or "applicant") names
                             */
    OSS_ROUTE_PARCEL,       /* the unit of the parcel a field names */
    OSS_ROUTE_BUSINESS,     /* the unit of the business a field names */
};

struct oss_field {
    const char *name;
    enum oss_field_type type;
    bool required;
    enum oss_check check;
    const json_t *options; /* OSS_F_ENUM: [{value, label_vi, label_en}] (borrowed) */
};

struct oss_procedure;

struct oss_step {
    const char *code;
    const char *name_vi, *name_en;
    const struct oss_procedure *proc; /* the version in force on the composite's valid_from */
    const json_t *bind;               /* {step field: composite field} (borrowed) */
};

struct oss_procedure {
    const char *code;
    int version;
    int32_t valid_from, valid_to; /* DATE_MAX: still in force */
    const char *name_vi, *name_en, *domain;
    enum oss_level level;
    struct oss_time_limit limit;
    int64_t fee_vnd;
    enum oss_route_by route_by;
    const char *route_field;
    struct oss_field *fields;
    size_t nfields;
    const char **effects;
    size_t neffects;
    struct oss_step *steps; /* composites only */
    size_t nsteps;
    const json_t *doc; /* the entry of the data file (borrowed) */
};

struct oss_catalogue;

/*
 * Parse and validate a catalogue document.  LT_EINVAL naming the
 * procedure and the member at fault.  *out is the caller's.
 */
enum lt_code oss_catalogue_parse(const char *text, size_t len, struct oss_catalogue **out,
                                 struct lt_error *err);
void oss_catalogue_free(struct oss_catalogue *cat); /* NULL ok */

/* The built-in catalogue, loaded on first use (borrowed; BUG if it does not validate). */
const struct oss_catalogue *oss_catalogue_builtin(void);

/* The version of code in force on day, or NULL (borrowed). */
const struct oss_procedure *oss_catalogue_find(const struct oss_catalogue *cat, const char *code,
                                               int32_t day);

/* A given version of code, or NULL (borrowed). */
const struct oss_procedure *oss_catalogue_version(const struct oss_catalogue *cat, const char *code,
                                                  int version);

/* How many procedure versions cat holds, and the ith (borrowed), in catalogue order. */
size_t oss_catalogue_count(const struct oss_catalogue *cat);
const struct oss_procedure *oss_catalogue_at(const struct oss_catalogue *cat, size_t i);

/* Every procedure in force on day, in catalogue order, into out[0..max); returns how many. */
size_t oss_catalogue_in_force(const struct oss_catalogue *cat, int32_t day,
                              const struct oss_procedure **out, size_t max);

/* The field of p called name, or NULL. */
const struct oss_field *oss_procedure_field(const struct oss_procedure *p, const char *name);

/* The step called code, or NULL. */
const struct oss_step *oss_procedure_step(const struct oss_procedure *p, const char *code);

const char *oss_field_type_name(enum oss_field_type t);
const char *oss_level_name(enum oss_level l);

/* {code, version, name_vi, name_en, domain, level, time_limit, fee_vnd, composite}
 * (new reference). */
json_t *oss_procedure_summary_json(const struct oss_procedure *p);

/* The summary plus valid_from, fields, documents, effects, legal_basis, steps (new reference). */
json_t *oss_procedure_json(const struct oss_procedure *p);

#endif
