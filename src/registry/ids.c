/*
 * ids.c - checking personal IDs, enterprise codes and parcel IDs.
 *
 * Pure functions over the text of an identifier and the units register;
 * no allocation, safe from any thread.
 */
#include "registry/ids.h"

#include <stdio.h>
#include <string.h>

#include "core/date.h"
#include "core/banned.h"

static bool all_digits(const char *s, size_t n)
{
    for (size_t i = 0; i < n; i++) {
        if (s[i] < '0' || s[i] > '9') {
            return false;
        }
    }
    return true;
}

bool ids_personal_id_shaped(const char *s)
{
    return strlen(s) == IDS_PERSON_LEN && all_digits(s, IDS_PERSON_LEN);
}

/* The province (old or new) with this 2-digit code, or NULL. */
static const struct unit *province_either_side(const struct units *u, const char *code)
{
    const int32_t dates[] = { date_from_civil(2025, 6, 30), date_from_civil(2025, 7, 1) };

    for (size_t i = 0; i < sizeof(dates) / sizeof(dates[0]); i++) {
        const struct unit *p = units_find(u, code, dates[i]);

        if (p != NULL && p->level == UNIT_PROVINCE) {
            return p;
        }
    }
    return NULL;
}

enum lt_code ids_personal_id_parse(const struct units *u, const char *s, struct personal_id *out,
                                   struct lt_error *err)
{
    size_t len = strlen(s);
    int d4;

    if (!ids_personal_id_shaped(s)) {
        lt_error_set(err, LT_EINVAL, "personal ID \"%.40s\" is not 12 digits", s);
        if (len == IDS_PERSON_LEN - 1 && all_digits(s, len)) {
            lt_error_hint(err, "a spreadsheet may have dropped its leading 0: keep the column "
                               "as text");
        } else {
            lt_error_hint(err, "a personal ID (căn cước) has exactly 12 digits, e.g. 001085012345");
        }
        return LT_EINVAL;
    }
    if (s[0] != '0') {
        return lt_error_set(err, LT_EINVAL,
                            "personal ID \"%s\": digits 1-3 \"%.3s\" are not a province code "
                            "(they start with 0)",
                            s, s);
    }
    out->province[0] = s[1];
    out->province[1] = s[2];
    out->province[2] = '\0';
    if (province_either_side(u, out->province) == NULL) {
        return lt_error_set(err, LT_EINVAL,
                            "personal ID \"%s\": digits 1-3 \"%.3s\" name no province, old or new",
                            s, s);
    }
    d4 = s[3] - '0';
    out->female = (d4 % 2) == 1;
    out->century = 1900 + (d4 / 2) * 100;
    out->year = out->century + (s[4] - '0') * 10 + (s[5] - '0');
    return LT_OK;
}

enum lt_code ids_personal_id_check(const struct units *u, const char *s, int32_t birth_date,
                                   bool female, struct lt_error *err)
{
    struct personal_id id;
    enum lt_code rc;
    int y, m, d;

    rc = ids_personal_id_parse(u, s, &id, err);
    if (rc != LT_OK) {
        return rc;
    }
    date_to_civil(birth_date, &y, &m, &d);
    if (id.century != y / 100 * 100) {
        return lt_error_set(err, LT_EINVAL,
                            "personal ID \"%s\": digit 4 \"%c\" means born %d-%d, but birth_date "
                            "is in %d",
                            s, s[3], id.century, id.century + 99, y);
    }
    if (id.female != female) {
        return lt_error_set(err, LT_EINVAL,
                            "personal ID \"%s\": digit 4 \"%c\" means %s, but sex is %s", s, s[3],
                            id.female ? "female" : "male", female ? "female" : "male");
    }
    if (id.year != y) {
        return lt_error_set(err, LT_EINVAL,
                            "personal ID \"%s\": digits 5-6 \"%.2s\" mean born in %d, but "
                            "birth_date is in %d",
                            s, s + 4, id.year, y);
    }
    return LT_OK;
}

int ids_enterprise_check_digit(const char *first9)
{
    static const int weights[9] = { 31, 29, 23, 19, 17, 13, 7, 5, 3 };
    int sum = 0;
    int c;

    for (int i = 0; i < 9; i++) {
        sum += (first9[i] - '0') * weights[i];
    }
    c = 10 - sum % 11;
    return c == 10 ? -1 : c;
}

bool ids_industry_code_valid(const char *s)
{
    size_t n = strlen(s);

    /* XXX: industry codes are checked for form only; the VSIC 2018 list is not shipped */
    return (n == 4 || n == 5) && strspn(s, "0123456789") == n;
}

enum lt_code ids_enterprise_code_check(const char *s, struct lt_error *err)
{
    size_t len = strlen(s);
    int c;

    if (len != IDS_ENTERPRISE_LEN || !all_digits(s, len)) {
        lt_error_set(err, LT_EINVAL, "enterprise code \"%.40s\" is not 10 digits", s);
        lt_error_hint(err, "an enterprise code (mã số doanh nghiệp) has 10 digits, e.g. "
                           "0314409058; a branch suffix such as -001 is not accepted here");
        return LT_EINVAL;
    }
    /* XXX: digits 1-2 are not checked against the tax offices' province codes (no list) */
    if (s[0] == '0' && s[1] == '0') {
        return lt_error_set(err, LT_EINVAL,
                            "enterprise code \"%s\": digits 1-2 \"00\" are not a province code", s);
    }
    if (memcmp(s + 2, "0000000", 7) == 0) {
        return lt_error_set(err, LT_EINVAL,
                            "enterprise code \"%s\": digits 3-9 are 0000000, not a sequence "
                            "number",
                            s);
    }
    c = ids_enterprise_check_digit(s);
    if (c < 0) {
        return lt_error_set(err, LT_EINVAL,
                            "enterprise code \"%s\": digits 1-9 give no valid check digit (no "
                            "such code is issued)",
                            s);
    }
    if (s[9] - '0' != c) {
        return lt_error_set(err, LT_EINVAL,
                            "enterprise code \"%s\": check digit 10 is \"%c\", expected \"%d\"", s,
                            s[9], c);
    }
    return LT_OK;
}

/*
 * Parse a positive decimal number of 1..maxdigits digits without a leading
 * zero at s; *end is set past it.  -1 if there is none.
 */
static long parse_part(const char *s, int maxdigits, const char **end)
{
    long v = 0;
    int n = 0;

    if (*s == '0') {
        return -1;
    }
    while (s[n] >= '0' && s[n] <= '9') {
        if (n == maxdigits) {
            return -1;
        }
        v = v * 10 + (s[n] - '0');
        n++;
    }
    *end = s + n;
    return n == 0 ? -1 : v;
}

enum lt_code ids_parcel_id_parse(const struct units *u, const char *s, int32_t date,
                                 struct parcel_id *out, struct lt_error *err)
{
    const char *p;
    long sheet, no;

    if (strlen(s) < 9 || !all_digits(s, 5) || s[5] != '-') {
        goto bad;
    }
    sheet = parse_part(s + 6, 4, &p);
    if (sheet < 1 || *p != '-') {
        goto bad;
    }
    no = parse_part(p + 1, 5, &p);
    if (no < 1 || *p != '\0') {
        goto bad;
    }
    memcpy(out->commune, s, 5);
    out->commune[5] = '\0';
    out->map_sheet = (int)sheet;
    out->parcel_no = (int)no;
    if (u != NULL) {
        const struct unit *c = units_find(u, out->commune, date);
        char ds[DATE_STR_MAX];

        if (c == NULL || c->level != UNIT_COMMUNE) {
            date_format(date, ds);
            return lt_error_set(err, LT_EINVAL,
                                "parcel ID \"%s\": no commune \"%s\" in force on %s", s,
                                out->commune, ds);
        }
    }
    return LT_OK;

bad:
    lt_error_set(err, LT_EINVAL, "parcel ID \"%.40s\" is not <commune>-<map sheet>-<parcel no>", s);
    lt_error_hint(err, "e.g. 00004-12-345: a 5-digit commune code, a map sheet 1-9999 and a "
                       "parcel number 1-99999, without leading zeros");
    return LT_EINVAL;
}

void ids_parcel_id_format(const struct parcel_id *p, char out[IDS_PARCEL_MAX])
{
    snprintf(out, IDS_PARCEL_MAX, "%s-%d-%d", p->commune, p->map_sheet, p->parcel_no);
}
