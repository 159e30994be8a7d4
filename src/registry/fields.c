/*
 * fields.c - the field tables of the registries and the engine that checks
 * a record against them.
 *
 * One table per kind gives, in canonical order, every field a record may
 * carry.  The same tables drive validation (types, limits, code lists,
 * identifier checks, refusal of unknown fields), the canonical shape (keys
 * in table order, text NFC and trimmed, absent optional fields left out)
 * and the CSV columns of import and export.  Cross-field rules (a personal
 * ID against its birth date, shares summing to 1) live with each kind.
 */
#include <stdio.h>
#include <string.h>

#include "core/buf.h"
#include "core/date.h"
#include "core/utf8.h"
#include "registry/ids.h"
#include "registry/kinds.h"
#include "registry/refdata.h"
#include "core/banned.h"

#define NAME_MAX_CHARS    100
#define ADDRESS_MAX_CHARS 200
#define TEXT_MAX_BYTES    (4 * ADDRESS_MAX_CHARS + 64)

static const char *const sexes[] = { "male", "female", NULL };
static const char *const person_statuses[] = { "alive", "deceased", NULL };
static const char *const residence_kinds[] = { "permanent", "temporary", NULL };
static const char *const relations[] = { "head",       "spouse",      "child",   "parent",
                                         "grandchild", "grandparent", "sibling", "daughter_in_law",
                                         "son_in_law", "other",       NULL };
static const char *const holder_kinds[] = { "person", "business", NULL };
static const char *const encumbrance_kinds[] = { "mortgage", "lease", "easement", NULL };
static const char *const schemes[] = { "health_insurance", "social_insurance", "social_assistance",
                                       NULL };
static const char *const benefit_statuses[] = { "active", "suspended", "ended", NULL };
static const char *const legal_forms[] = { "sole_proprietorship", "llc_single_member",
                                           "llc_multi_member",    "joint_stock",
                                           "partnership",         "cooperative",
                                           "household_business",  NULL };
static const char *const business_statuses[] = { "active", "suspended", "dissolved", NULL };

/* One field per line reads as a table: keep clang-format away. */
/* clang-format off */
#define STR(n, fl, mx)      { .name = n, .type = FT_STRING, .flags = fl, .max = mx }
#define CODE(n, fl, mx, c)  { .name = n, .type = FT_STRING, .flags = fl, .max = mx, .check = c }
#define ENUM(n, fl, vals)   { .name = n, .type = FT_ENUM, .flags = fl, .values = vals }
#define DATE(n, fl)         { .name = n, .type = FT_DATE, .flags = fl }
#define INT(n, fl, lo, hi)  { .name = n, .type = FT_INT, .flags = fl, .min = lo, .maxv = hi }
#define NUM(n, fl, hi, d)   { .name = n, .type = FT_NUMBER, .flags = fl, .maxv = hi, .decimals = d }
#define OBJS(n, fl, mx, s)  { .name = n, .type = FT_OBJECTS, .flags = fl, .max = mx, .sub = s }
#define STRS(n, fl, mx, c)  { .name = n, .type = FT_STRINGS, .flags = fl, .max = mx, .check = c }
#define END                 { .name = NULL }
/* clang-format on */

#define REQ     F_REQUIRED
#define VND_MAX INT64_C(1000000000000000000) /* 10^18 VND: above any real amount */

const struct field person_fields[] = {
    CODE("id", REQ, 12, FC_PERSON_ID),
    STR("full_name", REQ, NAME_MAX_CHARS),
    DATE("birth_date", REQ | F_PAST),
    ENUM("sex", REQ, sexes),
    CODE("ethnicity", REQ, 2, FC_ETHNICITY),
    CODE("nationality", REQ, 2, FC_NATIONALITY),
    ENUM("status", REQ, person_statuses),
    DATE("death_date", F_PAST),
    CODE("father_id", 0, 12, FC_PERSON_ID),
    CODE("mother_id", 0, 12, FC_PERSON_ID),
    END,
};

const struct field residence_fields[] = {
    CODE("person_id", REQ, 12, FC_PERSON_ID),
    ENUM("kind", REQ, residence_kinds),
    CODE("unit", REQ, 5, FC_COMMUNE),
    STR("village", 0, NAME_MAX_CHARS),
    STR("address_line", REQ, ADDRESS_MAX_CHARS),
    CODE("household_id", 0, 32, FC_TOKEN),
    ENUM("relation_to_head", 0, relations),
    DATE("from_date", REQ | F_PAST),
    DATE("to_date", 0),
    END,
};

const struct field household_fields[] = {
    CODE("id", REQ, 32, FC_TOKEN),
    CODE("head_id", REQ, 12, FC_PERSON_ID),
    CODE("unit", REQ, 5, FC_COMMUNE),
    STR("address_line", REQ, ADDRESS_MAX_CHARS),
    END,
};

static const struct field holder_fields[] = {
    ENUM("kind", REQ, holder_kinds),
    STR("id", REQ, 12),
    NUM("share", REQ, 1, 6),
    END,
};

static const struct field encumbrance_fields[] = {
    ENUM("kind", REQ, encumbrance_kinds), STR("holder", REQ, NAME_MAX_CHARS),
    INT("amount_vnd", 0, 0, VND_MAX),     DATE("registered_on", REQ | F_PAST),
    DATE("released_on", F_PAST),          END,
};

const struct field parcel_fields[] = {
    CODE("id", REQ, 16, FC_PARCEL_ID),
    CODE("unit", REQ, 5, FC_COMMUNE),
    INT("map_sheet", REQ, 1, 9999),
    INT("parcel_no", REQ, 1, 99999),
    NUM("area_m2", REQ, INT64_C(10000000000), 1),
    CODE("purpose", REQ, 3, FC_LAND_USE),
    OBJS("holders", REQ, 50, holder_fields),
    STR("certificate_no", 0, 32),
    OBJS("encumbrances", F_DEFAULT, 50, encumbrance_fields),
    END,
};

const struct field benefit_fields[] = {
    CODE("person_id", REQ, 12, FC_PERSON_ID),
    ENUM("scheme", REQ, schemes),
    CODE("card_no", 0, 20, FC_TOKEN),
    STR("category", 0, NAME_MAX_CHARS),
    INT("monthly_amount_vnd", 0, 0, VND_MAX),
    DATE("start_date", REQ),
    DATE("end_date", 0),
    ENUM("status", REQ, benefit_statuses),
    END,
};

const struct field business_fields[] = {
    CODE("code", REQ, 10, FC_ENTERPRISE),        STR("name", REQ, 2 * NAME_MAX_CHARS),
    ENUM("legal_form", REQ, legal_forms),        CODE("unit", REQ, 5, FC_COMMUNE),
    STR("address_line", REQ, ADDRESS_MAX_CHARS), CODE("representative_id", REQ, 12, FC_PERSON_ID),
    INT("capital_vnd", REQ, 0, VND_MAX),         STRS("industry_codes", F_DEFAULT, 100, FC_VSIC),
    ENUM("status", REQ, business_statuses),      END,
};

enum lt_code field_error(struct lt_error *err, const char *field, const char *fmt, ...)
{
    va_list ap;
    char msg[LT_ERROR_MESSAGE_MAX];

    va_start(ap, fmt);
    vsnprintf(msg, sizeof(msg), fmt, ap);
    va_end(ap);
    lt_error_set(err, LT_EINVAL, "field \"%s\": %s", field, msg);
    lt_error_field(err, field);
    return LT_EINVAL;
}

/* Re-frame an identifier check's error as an error of field, keeping its hint. */
static enum lt_code wrap_error(struct lt_error *err, const char *field, const struct lt_error *in)
{
    field_error(err, field, "%s", in->message);
    if (in->hint[0] != '\0') {
        lt_error_hint(err, "%s", in->hint);
    }
    return LT_EINVAL;
}

static const char *json_type_name(const json_t *j)
{
    switch (json_typeof(j)) {
    case JSON_OBJECT:
        return "an object";
    case JSON_ARRAY:
        return "an array";
    case JSON_STRING:
        return "a string";
    case JSON_INTEGER:
        return "an integer";
    case JSON_REAL:
        return "a number with a fraction";
    case JSON_TRUE:
    case JSON_FALSE:
        return "a boolean";
    case JSON_NULL:
        return "null";
    }
    return "something else";
}

static enum lt_code type_error(struct lt_error *err, const char *path, const char *want,
                               const json_t *got)
{
    return field_error(err, path, "expected %s, got %s", want, json_type_name(got));
}

static bool is_token(const char *s)
{
    for (; *s; s++) {
        char ch = *s;

        if (!((ch >= 'a' && ch <= 'z') || (ch >= 'A' && ch <= 'Z') || (ch >= '0' && ch <= '9') ||
              ch == '-' || ch == '.' || ch == '_')) {
            return false;
        }
    }
    return true;
}

static enum lt_code check_code(const struct vctx *v, enum fcheck check, const char *s,
                               const char *path, struct lt_error *err)
{
    struct lt_error tmp;
    struct personal_id pid;
    struct parcel_id parcel;
    const struct unit *unit;
    char ds[DATE_STR_MAX];

    lt_error_clear(&tmp);
    switch (check) {
    case FC_NONE:
        return LT_OK;
    case FC_PERSON_ID:
        if (ids_personal_id_parse(v->u, s, &pid, &tmp) != LT_OK) {
            return wrap_error(err, path, &tmp);
        }
        return LT_OK;
    case FC_ENTERPRISE:
        if (ids_enterprise_code_check(s, &tmp) != LT_OK) {
            return wrap_error(err, path, &tmp);
        }
        return LT_OK;
    case FC_PARCEL_ID:
        if (ids_parcel_id_parse(v->u, s, v->effective, &parcel, &tmp) != LT_OK) {
            return wrap_error(err, path, &tmp);
        }
        return LT_OK;
    case FC_COMMUNE:
        unit = units_find(v->u, s, v->effective);
        if (unit == NULL || unit->level != UNIT_COMMUNE) {
            date_format(v->effective, ds);
            field_error(err, path, "no commune \"%s\" in force on %s", s, ds);
            lt_error_hint(err, "communes have 5-digit codes; since 2025-07-01 only the 3,321 "
                               "communes of the reform are in force");
            return LT_EINVAL;
        }
        return LT_OK;
    case FC_ETHNICITY:
        if (!refdata_ethnicity_valid(s)) {
            field_error(err, path, "\"%s\" is not an ethnic group code", s);
            lt_error_hint(err, "use the two-digit GSO code, \"01\" (Kinh) to \"54\"");
            return LT_EINVAL;
        }
        return LT_OK;
    case FC_NATIONALITY:
        if (!refdata_nationality_valid(s)) {
            field_error(err, path, "\"%s\" is not an ISO 3166-1 alpha-2 country code", s);
            lt_error_hint(err, "two upper-case letters, e.g. \"VN\"");
            return LT_EINVAL;
        }
        return LT_OK;
    case FC_LAND_USE:
        if (!refdata_land_use_valid(s)) {
            field_error(err, path, "\"%s\" is not a land-use purpose code", s);
            lt_error_hint(err, "use a code of land statistics, e.g. ONT, ODT, LUC, CLN");
            return LT_EINVAL;
        }
        return LT_OK;
    case FC_VSIC:
        if (!ids_industry_code_valid(s)) {
            return field_error(err, path, "\"%s\" is not an industry code of 4 or 5 digits", s);
        }
        return LT_OK;
    case FC_TOKEN:
        if (!is_token(s)) {
            return field_error(err, path, "\"%s\" may hold only letters, digits, '-', '.' and '_'",
                               s);
        }
        return LT_OK;
    }
    BUG("unknown field check %d", (int)check);
}

/*
 * True if valid UTF-8 text is surely NFC without asking utf8proc: every
 * code point is below U+0300 or a precomposed letter of U+1E00..U+1EFF
 * (where Vietnamese lives).  No normalisation changes such code points and
 * none of them combines with the one before, so a string of them is NFC
 * (tests/unit/registry/test_fields.c checks every pair).  Anything else,
 * a combining mark above all, goes through utf8proc.  Most names pass, and
 * utf8proc allocated and decomposed every one of them: a third of an
 * import's validation.
 */
bool text_is_nfc(const char *text, size_t len)
{
    const unsigned char *s = (const unsigned char *)text;

    for (size_t i = 0; i < len;) {
        unsigned char c = s[i];

        if (c < 0x80) {
            i++;
        } else if (c >= 0xC2 && c <= 0xCB) {
            i += 2; /* U+0080..U+02FF */
        } else if (c == 0xE1 && i + 1 < len && s[i + 1] >= 0xB8 && s[i + 1] <= 0xBB) {
            i += 3; /* U+1E00..U+1EFF */
        } else {
            return false;
        }
    }
    return true;
}

/* Number of code points in valid UTF-8. */
static size_t utf8_chars(const char *s, size_t len)
{
    size_t n = 0;

    for (size_t i = 0; i < len; i++) {
        if (((unsigned char)s[i] & 0xC0) != 0x80) {
            n++;
        }
    }
    return n;
}

/*
 * The canonical text of a string value: valid UTF-8 without control
 * characters or invisible format characters, every space U+0020, trimmed,
 * NFC, at most max characters.  *out is NULL for a value that is empty
 * after trimming.
 */
static enum lt_code canonical_text(const struct field *f, const json_t *j, const char *path,
                                   json_t **out, struct lt_error *err)
{
    const char *s = json_string_value(j);
    size_t len = json_string_length(j);
    size_t bad;
    struct buf b, sp;
    struct lt_error tmp;
    enum lt_code rc = LT_OK;
    int cp;

    *out = NULL;
    if (len > TEXT_MAX_BYTES || len > (size_t)f->max * 4 + 64) {
        return field_error(err, path, "longer than %d characters", f->max);
    }
    if (!utf8_valid_text(s, len, &bad)) {
        return field_error(err, path, "invalid UTF-8 or a control character at byte %zu", bad);
    }
    bad = utf8_find_invisible(s, len, &cp);
    if (bad < len) {
        field_error(err, path, "an invisible character (U+%04X) at character %zu", (unsigned)cp,
                    utf8_chars(s, bad) + 1);
        lt_error_hint(err, "type the text again; pasted text often carries such characters");
        return LT_EINVAL;
    }
    buf_init(&sp, len + 1);
    buf_init(&b, TEXT_MAX_BYTES * 2);
    if (utf8_plain_spaces(s, len, &sp)) { /* a no-break space is a space */
        s = sp.data;
        len = sp.len;
    }
    while (len > 0 && (*s == ' ' || *s == '\t')) {
        s++;
        len--;
    }
    while (len > 0 && (s[len - 1] == ' ' || s[len - 1] == '\t')) {
        len--;
    }
    if (len == 0) {
        goto out;
    }
    if (text_is_nfc(s, len)) {
        if (utf8_chars(s, len) > (size_t)f->max) {
            rc = field_error(err, path, "longer than %d characters", f->max);
            goto out;
        }
        *out = json_stringn_nocheck(s, len);
        goto out;
    }
    if (utf8_nfc(s, len, &b, &tmp) != LT_OK) {
        rc = wrap_error(err, path, &tmp);
        goto out;
    }
    if (utf8_chars(b.data, b.len) > (size_t)f->max) {
        rc = field_error(err, path, "longer than %d characters", f->max);
        goto out;
    }
    *out = json_stringn(b.data, b.len);

out:
    buf_release(&b);
    buf_release(&sp);
    return rc;
}

static enum lt_code value_string(const struct vctx *v, const struct field *f, const json_t *j,
                                 const char *path, json_t **out, struct lt_error *err)
{
    enum lt_code rc;

    if (!json_is_string(j)) {
        return type_error(err, path, "a string", j);
    }
    rc = canonical_text(f, j, path, out, err);
    if (rc != LT_OK || *out == NULL) {
        return rc;
    }
    rc = check_code(v, f->check, json_string_value(*out), path, err);
    if (rc != LT_OK) {
        json_decref(*out);
        *out = NULL;
    }
    return rc;
}

static enum lt_code value_enum(const struct field *f, const json_t *j, const char *path,
                               json_t **out, struct lt_error *err)
{
    const char *s;
    char list[LT_ERROR_HINT_MAX] = "";
    size_t used = 0;

    if (!json_is_string(j)) {
        return type_error(err, path, "a string", j);
    }
    s = json_string_value(j);
    for (const char *const *p = f->values; *p; p++) {
        if (strcmp(s, *p) == 0) {
            *out = json_string_nocheck(*p);
            return LT_OK;
        }
    }
    if (f->values == sexes && json_string_length(j) < 16) {
        /* "Nam" and "Nữ", as a Vietnamese form or spreadsheet writes them */
        char fold[32];

        utf8_fold(s, json_string_length(j), fold, sizeof(fold));
        if (strcmp(fold, "nam") == 0 || strcmp(fold, "nu") == 0) {
            *out = json_string_nocheck(strcmp(fold, "nam") == 0 ? "male" : "female");
            return LT_OK;
        }
    }
    for (const char *const *p = f->values; *p; p++) {
        used += (size_t)snprintf(list + used, used < sizeof(list) ? sizeof(list) - used : 0, "%s%s",
                                 p == f->values ? "" : ", ", *p);
        if (used >= sizeof(list)) {
            used = sizeof(list) - 1;
        }
    }
    field_error(err, path, "\"%.60s\" is not one of: %s", s, list);
    return LT_EINVAL;
}

static enum lt_code value_date(const struct vctx *v, const struct field *f, const json_t *j,
                               const char *path, json_t **out, struct lt_error *err)
{
    struct lt_error tmp;
    int32_t d;

    if (!json_is_string(j)) {
        return type_error(err, path, "a date string \"YYYY-MM-DD\"", j);
    }
    if (date_parse(json_string_value(j), &d, &tmp) != LT_OK) {
        return wrap_error(err, path, &tmp);
    }
    if ((f->flags & F_PAST) && d > v->today) {
        return field_error(err, path, "%s is in the future", json_string_value(j));
    }
    *out = json_stringn_nocheck(json_string_value(j), json_string_length(j));
    return LT_OK;
}

static enum lt_code value_int(const struct field *f, const json_t *j, const char *path,
                              json_t **out, struct lt_error *err)
{
    json_int_t i;

    if (!json_is_integer(j)) {
        return type_error(err, path, "an integer", j);
    }
    i = json_integer_value(j);
    if (i < f->min || i > f->maxv) {
        return field_error(err, path, "%lld is outside %lld..%lld", (long long)i, (long long)f->min,
                           (long long)f->maxv);
    }
    *out = json_integer(i);
    return LT_OK;
}

static enum lt_code value_number(const struct field *f, const json_t *j, const char *path,
                                 json_t **out, struct lt_error *err)
{
    static const double tens[] = { 1, 10, 100, 1e3, 1e4, 1e5, 1e6 };
    double x, scaled, off;
    int64_t units;

    if (!json_is_number(j)) {
        return type_error(err, path, "a number", j);
    }
    x = json_number_value(j);
    if (!(x > 0) || x > (double)f->maxv) {
        return field_error(err, path, "%g is not above 0 and at most %lld", x, (long long)f->maxv);
    }
    /* x is positive and bounded, so the scaled value fits an int64_t: no libm needed */
    scaled = x * tens[f->decimals];
    units = (int64_t)(scaled + 0.5);
    off = scaled - (double)units;
    if (off < 0) {
        off = -off;
    }
    if (off > 1e-9 * (scaled > 1 ? scaled : 1)) { /* the error of a double, not a digit */
        return field_error(err, path, "%.10g has more than %d decimal places", x, f->decimals);
    }
    if (units % (int64_t)tens[f->decimals] == 0) {
        *out = json_integer(units / (int64_t)tens[f->decimals]);
    } else {
        *out = json_real((double)units / tens[f->decimals]);
    }
    return LT_OK;
}

static enum lt_code value_objects(const struct vctx *v, const struct field *f, const json_t *j,
                                  const char *path, json_t **out, struct lt_error *err)
{
    size_t i;
    json_t *item;
    json_t *arr;
    char sub[128];

    if (!json_is_array(j)) {
        return type_error(err, path, "an array of objects", j);
    }
    if (json_array_size(j) > (size_t)f->max) {
        return field_error(err, path, "more than %d items", f->max);
    }
    arr = json_array();
    json_array_foreach(j, i, item)
    {
        json_t *o = json_object();
        enum lt_code rc;

        snprintf(sub, sizeof(sub), "%s[%zu]", path, i);
        rc = fields_validate(v, f->sub, item, o, sub, err);
        if (rc != LT_OK) {
            json_decref(o);
            json_decref(arr);
            return rc;
        }
        json_array_append_new(arr, o);
    }
    *out = arr;
    return LT_OK;
}

static enum lt_code value_strings(const struct vctx *v, const struct field *f, const json_t *j,
                                  const char *path, json_t **out, struct lt_error *err)
{
    size_t i;
    json_t *item;
    json_t *arr;
    char sub[128];

    if (!json_is_array(j)) {
        return type_error(err, path, "an array of strings", j);
    }
    if (json_array_size(j) > (size_t)f->max) {
        return field_error(err, path, "more than %d items", f->max);
    }
    arr = json_array();
    json_array_foreach(j, i, item)
    {
        const struct field one = {
            .name = f->name, .type = FT_STRING, .max = 64, .check = f->check
        };
        json_t *s = NULL;
        enum lt_code rc;

        snprintf(sub, sizeof(sub), "%s[%zu]", path, i);
        rc = value_string(v, &one, item, sub, &s, err);
        if (rc == LT_OK && s == NULL) {
            rc = field_error(err, sub, "is empty");
        }
        for (size_t k = 0; rc == LT_OK && k < json_array_size(arr); k++) {
            if (json_equal(json_array_get(arr, k), s)) {
                rc = field_error(err, sub, "\"%s\" is listed twice", json_string_value(s));
            }
        }
        if (rc != LT_OK) {
            json_decref(s);
            json_decref(arr);
            return rc;
        }
        json_array_append_new(arr, s);
    }
    *out = arr;
    return LT_OK;
}

static enum lt_code field_value(const struct vctx *v, const struct field *f, const json_t *j,
                                const char *path, json_t **out, struct lt_error *err)
{
    *out = NULL;
    switch (f->type) {
    case FT_STRING:
        return value_string(v, f, j, path, out, err);
    case FT_ENUM:
        return value_enum(f, j, path, out, err);
    case FT_DATE:
        return value_date(v, f, j, path, out, err);
    case FT_INT:
        return value_int(f, j, path, out, err);
    case FT_NUMBER:
        return value_number(f, j, path, out, err);
    case FT_OBJECTS:
        return value_objects(v, f, j, path, out, err);
    case FT_STRINGS:
        return value_strings(v, f, j, path, out, err);
    }
    BUG("unknown field type %d", (int)f->type);
}

static const struct field *find_field(const struct field *fields, const char *name)
{
    for (const struct field *f = fields; f->name; f++) {
        if (strcmp(f->name, name) == 0) {
            return f;
        }
    }
    return NULL;
}

/* The path of a field: its name at the top (no copy), "path.name" below, in buf. */
static const char *join_path(char *buf, size_t cap, const char *path, const char *name)
{
    if (path == NULL || path[0] == '\0') {
        return name;
    }
    snprintf(buf, cap, "%s.%s", path, name);
    return buf;
}

static enum lt_code refuse_unknown(const struct field *fields, const json_t *in, const char *path,
                                   struct lt_error *err)
{
    const char *k;
    json_t *val;
    char p[LT_ERROR_FIELD_MAX];
    char list[LT_ERROR_HINT_MAX];
    size_t used;

    json_object_foreach((json_t *)in, k, val)
    {
        if (find_field(fields, k) != NULL) {
            continue;
        }
        field_error(err, join_path(p, sizeof(p), path, k), "unknown field");
        used = (size_t)snprintf(list, sizeof(list), "known fields:");
        for (const struct field *f = fields; f->name && used < sizeof(list); f++) {
            used += (size_t)snprintf(list + used, sizeof(list) - used, " %s", f->name);
        }
        lt_error_hint(err, "%s", list);
        return LT_EINVAL;
    }
    return LT_OK;
}

enum lt_code fields_validate(const struct vctx *v, const struct field *fields, const json_t *in,
                             json_t *out, const char *path, struct lt_error *err)
{
    char p[LT_ERROR_FIELD_MAX];
    enum lt_code rc;

    if (!json_is_object(in)) {
        if (path == NULL || path[0] == '\0') {
            lt_error_set(err, LT_EINVAL, "expected a JSON object, got %s", json_type_name(in));
            return LT_EINVAL;
        }
        return type_error(err, path, "an object", in);
    }
    rc = refuse_unknown(fields, in, path, err);
    if (rc != LT_OK) {
        return rc;
    }
    for (const struct field *f = fields; f->name; f++) {
        const json_t *j = json_object_get(in, f->name);
        const char *fp = join_path(p, sizeof(p), path, f->name);
        json_t *val = NULL;

        if (j != NULL && !json_is_null(j)) {
            rc = field_value(v, f, j, fp, &val, err);
            if (rc != LT_OK) {
                return rc;
            }
        }
        if (val == NULL && (f->flags & F_DEFAULT)) {
            val = json_array();
        }
        if (val == NULL) {
            if (f->flags & F_REQUIRED) {
                return field_error(err, fp, "missing (required)");
            }
            continue;
        }
        /* the table's names are distinct and valid UTF-8: no check needed */
        json_object_set_new_nocheck(out, f->name, val);
    }
    return LT_OK;
}

const char *rec_str(const json_t *rec, const char *name)
{
    const char *s = json_string_value(json_object_get(rec, name));

    return s ? s : "";
}

int32_t rec_date(const json_t *rec, const char *name)
{
    const char *s = json_string_value(json_object_get(rec, name));
    int32_t d;

    if (s == NULL || date_parse(s, &d, NULL) != LT_OK) {
        return DATE_MIN;
    }
    return d;
}

void copy_fact(char *dst, size_t cap, const char *s)
{
    size_t n = strlen(s);

    if (n >= cap) {
        BUG("fact \"%.40s\" longer than %zu", s, cap - 1);
    }
    memcpy(dst, s, n + 1);
}

void facts_set_unit(const struct vctx *v, struct facts *f, const char *unit)
{
    const struct unit *c = units_find(v->u, unit, v->effective);
    const struct unit *p = c ? unit_province(v->u, c) : NULL;

    copy_fact(f->unit, sizeof(f->unit), unit);
    copy_fact(f->province, sizeof(f->province), p ? p->code : "");
}

/* A JSON string as jansson dumps it without JSON_ENSURE_ASCII or JSON_ESCAPE_SLASH. */
static enum lt_code dump_string(struct buf *b, const char *s, size_t len)
{
    static const char hex[] = "0123456789ABCDEF";
    enum lt_code rc = buf_append_char(b, '"');
    size_t run = 0; /* bytes copied as they are, pending */

    for (size_t i = 0; rc == LT_OK && i < len; i++) {
        unsigned char c = (unsigned char)s[i];
        char esc[7] = { '\\', 0 };
        size_t n = 2;

        if (c >= 0x20 && c != '"' && c != '\\') {
            run++;
            continue;
        }
        rc = buf_append(b, s + i - run, run);
        run = 0;
        switch (c) {
        case '"':
        case '\\':
            esc[1] = (char)c;
            break;
        case '\b':
            esc[1] = 'b';
            break;
        case '\f':
            esc[1] = 'f';
            break;
        case '\n':
            esc[1] = 'n';
            break;
        case '\r':
            esc[1] = 'r';
            break;
        case '\t':
            esc[1] = 't';
            break;
        default:
            memcpy(esc + 1, "u00", 3);
            esc[4] = hex[c >> 4];
            esc[5] = hex[c & 15];
            n = 6;
            break;
        }
        if (rc == LT_OK) {
            rc = buf_append(b, esc, n);
        }
    }
    if (rc == LT_OK) {
        rc = buf_append(b, s + len - run, run);
    }
    return rc == LT_OK ? buf_append_char(b, '"') : rc;
}

/* A real as jansson dumps it with JSON_REAL_PRECISION(15): "%.15g", ".0" if bare, short exponent.
 */
static enum lt_code dump_real(struct buf *b, double x)
{
    char s[40];
    int n = snprintf(s, sizeof(s), "%.15g", x);
    char *e;

    if (n < 0 || (size_t)n >= sizeof(s) - 3) {
        return LT_EINVAL;
    }
    if (strchr(s, '.') == NULL && strchr(s, 'e') == NULL) {
        memcpy(s + n, ".0", 3);
        n += 2;
    }
    e = strchr(s, 'e');
    if (e != NULL) {
        char *start = e + 1, *end;

        if (*start == '-') {
            start++;
        }
        end = e + 2; /* past the sign */
        while (*end == '0') {
            end++;
        }
        if (end != start) {
            memmove(start, end, strlen(end) + 1);
            n = (int)strlen(s);
        }
    }
    return buf_append(b, s, (size_t)n);
}

static enum lt_code dump_value(struct buf *b, const json_t *v)
{
    enum lt_code rc = LT_OK;
    const char *key;
    json_t *item;
    size_t i;
    char num[32];

    switch (json_typeof(v)) {
    case JSON_STRING:
        return dump_string(b, json_string_value(v), json_string_length(v));
    case JSON_INTEGER:
        return buf_append(
            b, num, (size_t)snprintf(num, sizeof(num), "%lld", (long long)json_integer_value(v)));
    case JSON_REAL:
        return dump_real(b, json_real_value(v));
    case JSON_OBJECT:
        rc = buf_append_char(b, '{');
        i = 0;
        json_object_foreach((json_t *)v, key, item)
        {
            if (rc == LT_OK && i++ > 0) {
                rc = buf_append_char(b, ',');
            }
            if (rc == LT_OK) {
                rc = dump_string(b, key, strlen(key));
            }
            if (rc == LT_OK) {
                rc = buf_append_char(b, ':');
            }
            if (rc == LT_OK) {
                rc = dump_value(b, item);
            }
        }
        return rc == LT_OK ? buf_append_char(b, '}') : rc;
    case JSON_ARRAY:
        rc = buf_append_char(b, '[');
        json_array_foreach(v, i, item)
        {
            if (rc == LT_OK && i > 0) {
                rc = buf_append_char(b, ',');
            }
            if (rc == LT_OK) {
                rc = dump_value(b, item);
            }
        }
        return rc == LT_OK ? buf_append_char(b, ']') : rc;
    case JSON_TRUE:
    case JSON_FALSE:
    case JSON_NULL:
        break;
    }
    return LT_EINVAL;
}

enum lt_code canon_dump(const json_t *rec, size_t cap, char **out, size_t *len)
{
    struct buf b;
    enum lt_code rc;

    *out = NULL;
    buf_init(&b, cap);
    rc = dump_value(&b, rec);
    if (rc != LT_OK) {
        buf_release(&b);
        return rc;
    }
    *len = b.len;
    *out = b.data != NULL ? b.data : xstrdup("");
    return LT_OK;
}
