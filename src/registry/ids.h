/*
 * ids.h - the identifiers of the registries: personal IDs (căn cước),
 * enterprise codes (mã số doanh nghiệp) and parcel IDs.
 *
 * These checks need no database: formats, check digits, and the codes of
 * administrative units that must exist (through the units register).  Each
 * refusal is LT_EINVAL with a message that says which part is wrong and
 * why; the caller names the field (lt_error_field).
 */
#ifndef LT_REGISTRY_IDS_H
#define LT_REGISTRY_IDS_H

#include <stdbool.h>
#include <stdint.h>

#include "core/error.h"
#include "units/units.h"

#define IDS_PERSON_LEN     12
#define IDS_ENTERPRISE_LEN 10
#define IDS_PARCEL_MAX     24 /* "00004-9999-99999" and NUL, with room */

/* What the digits of a personal ID say about its holder. */
struct personal_id {
    char province[3]; /* the 2-digit province code of digits 2-3: "01" */
    bool female;      /* digit 4 odd */
    int century;      /* first year of the century of birth: 1900, 2000, ... */
    int year;         /* the birth year digits 4-6 encode: century + digits 5-6 */
};

/* Whether s has the shape of a personal ID, 12 digits (its digits unchecked). */
bool ids_personal_id_shaped(const char *s);

/*
 * Parse a personal ID: 12 digits, the first three "0" and a province code
 * in force on 2025-06-30 (the 63 old provinces) or 2025-07-01 (the 34 new
 * ones).  LT_EINVAL otherwise.
 */
enum lt_code ids_personal_id_parse(const struct units *u, const char *s, struct personal_id *out,
                                   struct lt_error *err);

/*
 * Check a personal ID against the birth date and sex of its holder: digit 4
 * gives the century and the sex, digits 5-6 the last two digits of the
 * birth year.  LT_EINVAL naming the digit that disagrees, and with what.
 */
enum lt_code ids_personal_id_check(const struct units *u, const char *s, int32_t birth_date,
                                   bool female, struct lt_error *err);

/*
 * The check digit of an enterprise code from its first nine digits, or -1
 * when the weighted sum leaves no valid digit (such codes are not issued).
 */
int ids_enterprise_check_digit(const char *first9);

/*
 * Check an enterprise code: 10 digits, a tax-office province code "01".."99"
 * in digits 1-2, a sequence other than 0000000 in digits 3-9, and the check
 * digit in digit 10.  Household businesses get codes of the same form.
 */
enum lt_code ids_enterprise_code_check(const char *s, struct lt_error *err);

/* An industry code of VSIC 2018: 4 or 5 digits (its form only). */
bool ids_industry_code_valid(const char *s);

struct parcel_id {
    char commune[6]; /* 5-digit commune code */
    int map_sheet;   /* 1..9999 */
    int parcel_no;   /* 1..99999 */
};

/*
 * Parse "<5-digit commune>-<map sheet 1..9999>-<parcel no 1..99999>" (no
 * leading zeros in the numbers).  With u not NULL, the commune must be in
 * force on date.  LT_EINVAL otherwise.
 */
enum lt_code ids_parcel_id_parse(const struct units *u, const char *s, int32_t date,
                                 struct parcel_id *out, struct lt_error *err);

/* Write the canonical parcel ID of p into out (IDS_PARCEL_MAX bytes). */
void ids_parcel_id_format(const struct parcel_id *p, char out[IDS_PARCEL_MAX]);

#endif
