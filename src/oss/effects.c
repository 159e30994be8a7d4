/*
 * effects.c - the registry effects of approval (see effects.h).
 *
 * Each effect builds whole records in the registries' canonical shapes
 * (registry.h) from the dossier's fields and the records as they stand in
 * the write, and writes them with registry_write_in, which validates them
 * as any registry write is validated.  The cause of every change is the
 * dossier's code, so a record's history names the dossier that made it.
 */
#include "oss/effects.h"

#include <stdio.h>
#include <string.h>

#include "core/date.h"
#include "registry/ids.h"
#include "core/banned.h"

struct effect {
    const char *kind;
    const char *const needs[10];
    enum lt_code (*apply)(const struct oss_effect_ctx *ctx, struct lt_error *err);
};

static const char *fstr(const struct oss_effect_ctx *ctx, const char *name)
{
    return json_string_value(json_object_get(ctx->fields, name));
}

static json_int_t fint(const struct oss_effect_ctx *ctx, const char *name)
{
    return (json_int_t)json_number_value(json_object_get(ctx->fields, name));
}

static const char *rstr(const json_t *rec, const char *name)
{
    const char *s = json_string_value(json_object_get(rec, name));

    return s != NULL ? s : "";
}

static void today_str(const struct oss_effect_ctx *ctx, char out[DATE_STR_MAX])
{
    date_format(ctx->today, out);
}

/* Read a record in the write; LT_ENOTFOUND is passed on for the caller to word. */
static enum lt_code get(const struct oss_effect_ctx *ctx, enum registry_kind kind, const char *key,
                        json_t **rec, int64_t *version, struct lt_error *err)
{
    return registry_get_in(ctx->conn, kind, key, rec, version, err);
}

/* The record must be at the version the dossier saw at receipt, if it saw one. */
static enum lt_code check_seen(const struct oss_effect_ctx *ctx, enum registry_kind kind,
                               const char *key, int64_t now, struct lt_error *err)
{
    char entity[96];
    const json_t *v;

    snprintf(entity, sizeof(entity), "%s/%s", registry_kind_name(kind), key);
    v = json_object_get(ctx->seen, entity);
    if (v == NULL || json_integer_value(v) == now) {
        return LT_OK;
    }
    lt_error_set(err, LT_ECONFLICT, "%s %s changed since the dossier was received",
                 registry_kind_name(kind), key);
    lt_error_detail(err, "version %lld at receipt, %lld now", (long long)json_integer_value(v),
                    (long long)now);
    lt_error_hint(err, "read its history, then reject the dossier or have it filed again");
    return LT_ECONFLICT;
}

static enum lt_code write(const struct oss_effect_ctx *ctx, enum registry_kind kind, json_t *rec,
                          int64_t base, const char *type, struct lt_error *err)
{
    struct registry_change ch = {
        .kind = kind,
        .record = rec,
        .base_version = base,
        .actor = ctx->actor,
        .cause = ctx->dossier,
        .effective = ctx->today,
        .event_type = type,
    };
    enum lt_code rc = registry_write_in(ctx->node, ctx->conn, &ch, NULL, err);

    json_decref(rec);
    if (rc == LT_ECONFLICT && base == 0) {
        /* the registry's hint (send a base_version) is for its API, not for a dossier */
        err->detail[0] = '\0';
        lt_error_hint(err, "another dossier or office registered it first");
    }
    return rc;
}

static enum lt_code missing(struct lt_error *err, const char *what, const char *key)
{
    lt_error_set(err, LT_EINVAL, "no %s %s is registered", what, key);
    lt_error_hint(err, "it may have been removed since the dossier was received");
    return LT_EINVAL;
}

/* A person who exists and is alive, with the record's version. */
static enum lt_code living(const struct oss_effect_ctx *ctx, const char *id, json_t **rec,
                           int64_t *version, struct lt_error *err)
{
    enum lt_code rc = get(ctx, REG_PERSON, id, rec, version, err);

    if (rc == LT_ENOTFOUND) {
        return missing(err, "person", id);
    }
    if (rc == LT_OK && strcmp(rstr(*rec, "status"), "deceased") == 0) {
        json_decref(*rec);
        *rec = NULL;
        lt_error_set(err, LT_EINVAL, "%s is recorded as deceased", id);
        lt_error_hint(err, "the procedure cannot be approved for a deceased person");
        return LT_EINVAL;
    }
    return rc;
}

static void set_opt(json_t *rec, const char *name, const char *v)
{
    if (v != NULL && v[0] != '\0') {
        json_object_set_new(rec, name, json_string(v));
    }
}

static enum lt_code person_birth(const struct oss_effect_ctx *ctx, struct lt_error *err)
{
    json_t *rec =
        json_pack("{s:s, s:s, s:s, s:s, s:s, s:s, s:s}", "id", fstr(ctx, "child_id"), "full_name",
                  fstr(ctx, "child_full_name"), "birth_date", fstr(ctx, "child_birth_date"), "sex",
                  fstr(ctx, "child_sex"), "ethnicity", fstr(ctx, "child_ethnicity"), "nationality",
                  "VN", "status", "alive");

    set_opt(rec, "father_id", fstr(ctx, "father_id"));
    set_opt(rec, "mother_id", fstr(ctx, "mother_id"));
    return write(ctx, REG_PERSON, rec, 0, "person.born", err);
}

/*
 * A death ends the person's benefits still running (a health insurance card,
 * a pension, an allowance) on the day of death, or on the day a benefit
 * started if the registry has it starting later; one that ran out before
 * keeps its own end.
 */
static enum lt_code benefits_end(const struct oss_effect_ctx *ctx, const char *id,
                                 const char *death, struct lt_error *err)
{
    static const char *const schemes[] = { "health_insurance", "social_insurance",
                                           "social_assistance" };
    char key[48];

    for (size_t i = 0; i < sizeof(schemes) / sizeof(schemes[0]); i++) {
        json_t *rec = NULL;
        int64_t v = 0;
        const char *start, *end;
        enum lt_code rc;

        snprintf(key, sizeof(key), "%s/%s", id, schemes[i]);
        rc = get(ctx, REG_BENEFIT, key, &rec, &v, err);
        if (rc == LT_ENOTFOUND) {
            continue;
        }
        if (rc != LT_OK) {
            return rc;
        }
        if (strcmp(rstr(rec, "status"), "ended") == 0) {
            json_decref(rec);
            continue;
        }
        start = rstr(rec, "start_date");
        end = json_string_value(json_object_get(rec, "end_date"));
        if (end == NULL || strcmp(end, death) > 0) {
            json_object_set_new(rec, "end_date",
                                json_string(strcmp(death, start) < 0 ? start : death));
        }
        json_object_set_new(rec, "status", json_string("ended"));
        rc = write(ctx, REG_BENEFIT, rec, v, "benefit.ended", err);
        if (rc != LT_OK) {
            return rc;
        }
    }
    return LT_OK;
}

static enum lt_code person_death(const struct oss_effect_ctx *ctx, struct lt_error *err)
{
    const char *id = fstr(ctx, "deceased_id");
    json_t *rec = NULL;
    int64_t v = 0;
    enum lt_code rc = living(ctx, id, &rec, &v, err);

    if (rc != LT_OK) {
        return rc;
    }
    json_object_set_new(rec, "status", json_string("deceased"));
    json_object_set_new(rec, "death_date", json_string(fstr(ctx, "death_date")));
    rc = write(ctx, REG_PERSON, rec, v, "person.died", err);
    if (rc == LT_OK) {
        rc = benefits_end(ctx, id, fstr(ctx, "death_date"), err);
    }
    return rc;
}

static enum lt_code residence_add(const struct oss_effect_ctx *ctx, const char *kind,
                                  struct lt_error *err)
{
    const char *id = fstr(ctx, "person_id");
    char key[48], today[DATE_STR_MAX];
    json_t *person = NULL, *old = NULL, *rec;
    int64_t v = 0;
    enum lt_code rc = living(ctx, id, &person, &v, err);

    json_decref(person);
    if (rc != LT_OK) {
        return rc;
    }
    snprintf(key, sizeof(key), "%s/%s", id, kind);
    v = 0;
    rc = get(ctx, REG_RESIDENCE, key, &old, &v, err);
    json_decref(old);
    if (rc != LT_OK && rc != LT_ENOTFOUND) {
        return rc;
    }
    if (rc == LT_ENOTFOUND) {
        v = 0;
    }
    rc = check_seen(ctx, REG_RESIDENCE, key, v, err);
    if (rc != LT_OK) {
        return rc;
    }
    today_str(ctx, today);
    rec = json_pack("{s:s, s:s, s:s, s:s, s:s}", "person_id", id, "kind", kind, "unit",
                    fstr(ctx, "residence_unit"), "address_line", fstr(ctx, "address_line"),
                    "from_date", today);
    set_opt(rec, "household_id", fstr(ctx, "household_id"));
    set_opt(rec, "relation_to_head", fstr(ctx, "relation_to_head"));
    set_opt(rec, "to_date", fstr(ctx, "to_date"));
    return write(ctx, REG_RESIDENCE, rec, v, "residence.registered", err);
}

static enum lt_code residence_permanent_add(const struct oss_effect_ctx *ctx, struct lt_error *err)
{
    return residence_add(ctx, "permanent", err);
}

static enum lt_code residence_temporary_add(const struct oss_effect_ctx *ctx, struct lt_error *err)
{
    return residence_add(ctx, "temporary", err);
}

static enum lt_code residence_permanent_remove(const struct oss_effect_ctx *ctx,
                                               struct lt_error *err)
{
    char key[48];
    json_t *rec = NULL;
    int64_t v = 0;
    enum lt_code rc;

    snprintf(key, sizeof(key), "%s/permanent", fstr(ctx, "person_id"));
    rc = get(ctx, REG_RESIDENCE, key, &rec, &v, err);
    if (rc == LT_ENOTFOUND) {
        return missing(err, "permanent residence of", fstr(ctx, "person_id"));
    }
    if (rc == LT_OK) {
        rc = check_seen(ctx, REG_RESIDENCE, key, v, err);
    }
    if (rc != LT_OK) {
        json_decref(rec);
        return rc;
    }
    if (json_object_get(rec, "to_date") != NULL) {
        json_decref(rec);
        return lt_error_set(err, LT_EINVAL, "the permanent residence of %s was removed already",
                            fstr(ctx, "person_id"));
    }
    json_object_set_new(rec, "to_date", json_string(fstr(ctx, "removal_date")));
    return write(ctx, REG_RESIDENCE, rec, v, "residence.removed", err);
}

/* Write a benefit, replacing the person's record of that scheme if there is one. */
static enum lt_code put_benefit(const struct oss_effect_ctx *ctx, const char *person, json_t *rec,
                                struct lt_error *err)
{
    char key[48];
    json_t *old = NULL;
    int64_t v = 0;
    enum lt_code rc;

    snprintf(key, sizeof(key), "%s/%s", person, rstr(rec, "scheme"));
    rc = get(ctx, REG_BENEFIT, key, &old, &v, err);
    json_decref(old);
    if (rc != LT_OK && rc != LT_ENOTFOUND) {
        json_decref(rec);
        return rc;
    }
    return write(ctx, REG_BENEFIT, rec, rc == LT_OK ? v : 0, "benefit.granted", err);
}

static enum lt_code benefit_child_hi(const struct oss_effect_ctx *ctx, struct lt_error *err)
{
    const char *id = fstr(ctx, "child_id");
    json_t *person = NULL;
    int64_t v = 0;
    int32_t born = 0;
    int y, m, d;
    char today[DATE_STR_MAX], end[DATE_STR_MAX];
    enum lt_code rc = living(ctx, id, &person, &v, err);

    if (rc != LT_OK) {
        return rc;
    }
    date_parse(rstr(person, "birth_date"), &born, NULL);
    json_decref(person);
    date_to_civil(born, &y, &m, &d);
    /* the card runs to the day before the sixth birthday (29 February: 1 March) */
    date_format(date_from_civil(y + 6, m, m == 2 && d == 29 ? 28 : d) - 1, end);
    if (date_from_civil(y + 6, m, m == 2 && d == 29 ? 28 : d) <= ctx->today) {
        lt_error_set(err, LT_EINVAL, "%s is six or older", id);
        lt_error_hint(err, "the free card is for children under six");
        return LT_EINVAL;
    }
    today_str(ctx, today);
    return put_benefit(ctx, id,
                       json_pack("{s:s, s:s, s:s, s:s, s:s, s:s, s:s}", "person_id", id, "scheme",
                                 "health_insurance", "card_no", fstr(ctx, "card_no"), "category",
                                 "child_under_6", "start_date", today, "end_date", end, "status",
                                 "active"),
                       err);
}

static enum lt_code benefit_social_assistance(const struct oss_effect_ctx *ctx,
                                              struct lt_error *err)
{
    const char *id = fstr(ctx, "beneficiary_id");
    json_t *person = NULL;
    int64_t v = 0;
    char today[DATE_STR_MAX];
    enum lt_code rc = living(ctx, id, &person, &v, err);

    json_decref(person);
    if (rc != LT_OK) {
        return rc;
    }
    today_str(ctx, today);
    return put_benefit(ctx, id,
                       json_pack("{s:s, s:s, s:s, s:I, s:s, s:s}", "person_id", id, "scheme",
                                 "social_assistance", "category", fstr(ctx, "category"),
                                 "monthly_amount_vnd", fint(ctx, "monthly_amount_vnd"),
                                 "start_date", today, "status", "active"),
                       err);
}

static enum lt_code benefit_funeral(const struct oss_effect_ctx *ctx, struct lt_error *err)
{
    const char *id = fstr(ctx, "deceased_id");
    json_t *person = NULL;
    int64_t v = 0;
    char today[DATE_STR_MAX];
    enum lt_code rc = get(ctx, REG_PERSON, id, &person, &v, err);

    if (rc == LT_ENOTFOUND) {
        return missing(err, "person", id);
    }
    if (rc != LT_OK) {
        return rc;
    }
    if (strcmp(rstr(person, "status"), "deceased") != 0) {
        json_decref(person);
        lt_error_set(err, LT_EINVAL, "%s is not recorded as deceased", id);
        lt_error_hint(err, "register the death first");
        return LT_EINVAL;
    }
    json_decref(person);
    today_str(ctx, today);
    /* XXX: the benefit registry has no one-off amounts: the amount stays in the dossier */
    return put_benefit(ctx, id,
                       json_pack("{s:s, s:s, s:s, s:s, s:s, s:s}", "person_id", id, "scheme",
                                 "social_assistance", "category", "funeral_allowance", "start_date",
                                 today, "end_date", today, "status", "ended"),
                       err);
}

static enum lt_code parcel_first(const struct oss_effect_ctx *ctx, struct lt_error *err)
{
    struct parcel_id pid;
    json_t *rec;
    enum lt_code rc = ids_parcel_id_parse(NULL, fstr(ctx, "parcel_id"), ctx->today, &pid, err);

    if (rc != LT_OK) {
        return rc;
    }
    rec = json_pack(
        "{s:s, s:s, s:i, s:i, s:f, s:s, s:[{s:s, s:s, s:i}], s:s}", "id", fstr(ctx, "parcel_id"),
        "unit", pid.commune, "map_sheet", pid.map_sheet, "parcel_no", pid.parcel_no, "area_m2",
        json_number_value(json_object_get(ctx->fields, "area_m2")), "purpose", fstr(ctx, "purpose"),
        "holders", "kind", strlen(ctx->applicant) == 10 ? "business" : "person", "id",
        ctx->applicant, "share", 1, "certificate_no", fstr(ctx, "certificate_no"));
    return write(ctx, REG_PARCEL, rec, 0, "parcel.registered", err);
}

/* The parcel as it stands, unchanged since receipt and still held by the applicant. */
static enum lt_code held_parcel(const struct oss_effect_ctx *ctx, json_t **rec, int64_t *v,
                                size_t *holder, struct lt_error *err)
{
    const char *id = fstr(ctx, "parcel_id");
    const json_t *holders;
    enum lt_code rc = get(ctx, REG_PARCEL, id, rec, v, err);

    if (rc == LT_ENOTFOUND) {
        return missing(err, "parcel", id);
    }
    if (rc == LT_OK) {
        rc = check_seen(ctx, REG_PARCEL, id, *v, err);
    }
    if (rc != LT_OK) {
        json_decref(*rec);
        *rec = NULL;
        return rc;
    }
    holders = json_object_get(*rec, "holders");
    for (size_t i = 0; i < json_array_size(holders); i++) {
        if (strcmp(rstr(json_array_get(holders, i), "id"), ctx->applicant) == 0) {
            *holder = i;
            return LT_OK;
        }
    }
    json_decref(*rec);
    *rec = NULL;
    return lt_error_set(err, LT_EINVAL, "parcel %s is no longer held by the applicant %s", id,
                        ctx->applicant);
}

static enum lt_code parcel_transfer(const struct oss_effect_ctx *ctx, struct lt_error *err)
{
    const char *to = fstr(ctx, "transferee_id");
    json_t *rec = NULL, *person = NULL, *holders, *h;
    int64_t v = 0, pv = 0;
    size_t at = 0;
    enum lt_code rc = living(ctx, to, &person, &pv, err);

    json_decref(person);
    if (rc == LT_OK) {
        rc = held_parcel(ctx, &rec, &v, &at, err);
    }
    if (rc != LT_OK) {
        return rc;
    }
    holders = json_object_get(rec, "holders");
    for (size_t i = 0; i < json_array_size(holders); i++) {
        if (strcmp(rstr(json_array_get(holders, i), "id"), to) == 0) {
            json_decref(rec);
            return lt_error_set(err, LT_EINVAL, "%s holds a share of parcel %s already", to,
                                fstr(ctx, "parcel_id"));
        }
    }
    /* the transferee takes the applicant's share */
    h = json_array_get(holders, at);
    json_object_set_new(h, "kind", json_string("person"));
    json_object_set_new(h, "id", json_string(to));
    return write(ctx, REG_PARCEL, rec, v, "parcel.transferred", err);
}

static enum lt_code parcel_mortgage(const struct oss_effect_ctx *ctx, struct lt_error *err)
{
    json_t *rec = NULL, *enc, *m;
    int64_t v = 0;
    size_t at = 0;
    char today[DATE_STR_MAX];
    enum lt_code rc = held_parcel(ctx, &rec, &v, &at, err);

    if (rc != LT_OK) {
        return rc;
    }
    today_str(ctx, today);
    m = json_pack("{s:s, s:s, s:s}", "kind", "mortgage", "holder", fstr(ctx, "mortgagee"),
                  "registered_on", today);
    if (json_object_get(ctx->fields, "amount_vnd") != NULL) {
        json_object_set_new(m, "amount_vnd", json_integer(fint(ctx, "amount_vnd")));
    }
    enc = json_object_get(rec, "encumbrances");
    if (enc == NULL) {
        enc = json_array();
        json_object_set_new(rec, "encumbrances", enc);
    }
    json_array_append_new(enc, m);
    return write(ctx, REG_PARCEL, rec, v, "parcel.mortgaged", err);
}

static enum lt_code business_household(const struct oss_effect_ctx *ctx, struct lt_error *err)
{
    json_t *rec = json_pack("{s:s, s:s, s:s, s:s, s:s, s:s, s:I, s:[s], s:s}", "code",
                            fstr(ctx, "business_code"), "name", fstr(ctx, "business_name"),
                            "legal_form", "household_business", "unit", fstr(ctx, "business_unit"),
                            "address_line", fstr(ctx, "address_line"), "representative_id",
                            ctx->applicant, "capital_vnd", fint(ctx, "capital_vnd"),
                            "industry_codes", fstr(ctx, "industry_code"), "status", "active");

    return write(ctx, REG_BUSINESS, rec, 0, "business.registered", err);
}

static enum lt_code business_move(const struct oss_effect_ctx *ctx, struct lt_error *err)
{
    const char *code = fstr(ctx, "business_code");
    json_t *rec = NULL;
    int64_t v = 0;
    enum lt_code rc = get(ctx, REG_BUSINESS, code, &rec, &v, err);

    if (rc == LT_ENOTFOUND) {
        return missing(err, "business", code);
    }
    if (rc == LT_OK) {
        rc = check_seen(ctx, REG_BUSINESS, code, v, err);
    }
    if (rc == LT_OK && strcmp(rstr(rec, "status"), "active") != 0) {
        rc = lt_error_set(err, LT_EINVAL, "business %s is %s", code, rstr(rec, "status"));
    }
    if (rc != LT_OK) {
        json_decref(rec);
        return rc;
    }
    json_object_set_new(rec, "unit", json_string(fstr(ctx, "new_unit")));
    json_object_set_new(rec, "address_line", json_string(fstr(ctx, "address_line")));
    return write(ctx, REG_BUSINESS, rec, v, "business.moved", err);
}

static const struct effect effects[] = {
    { "person.birth",
      { "child_id", "child_full_name", "child_birth_date", "child_sex", "child_ethnicity",
        "?father_id", "?mother_id", NULL },
      person_birth },
    { "person.death", { "deceased_id", "death_date", NULL }, person_death },
    { "residence.permanent_add",
      { "person_id", "residence_unit", "address_line", "?household_id", "?relation_to_head", NULL },
      residence_permanent_add },
    { "residence.temporary_add",
      { "person_id", "residence_unit", "address_line", "?household_id", "?relation_to_head",
        "?to_date", NULL },
      residence_temporary_add },
    { "residence.permanent_remove",
      { "person_id", "removal_date", NULL },
      residence_permanent_remove },
    { "benefit.health_insurance_child", { "child_id", "card_no", NULL }, benefit_child_hi },
    { "benefit.social_assistance",
      { "beneficiary_id", "category", "monthly_amount_vnd", NULL },
      benefit_social_assistance },
    { "benefit.funeral_allowance", { "deceased_id", "amount_vnd", NULL }, benefit_funeral },
    { "parcel.first_certificate",
      { "parcel_id", "area_m2", "purpose", "certificate_no", NULL },
      parcel_first },
    { "parcel.transfer", { "parcel_id", "transferee_id", NULL }, parcel_transfer },
    { "parcel.mortgage", { "parcel_id", "mortgagee", "?amount_vnd", NULL }, parcel_mortgage },
    { "business.household_register",
      { "business_code", "business_name", "business_unit", "address_line", "capital_vnd",
        "industry_code", NULL },
      business_household },
    { "business.address_change",
      { "business_code", "new_unit", "address_line", NULL },
      business_move },
};

static const struct effect *find(const char *kind)
{
    for (size_t i = 0; i < sizeof(effects) / sizeof(effects[0]); i++) {
        if (strcmp(effects[i].kind, kind) == 0) {
            return &effects[i];
        }
    }
    return NULL;
}

enum lt_code oss_effect_check_applicant(const struct oss_effect_ctx *ctx, bool business,
                                        struct lt_error *err)
{
    json_t *rec = NULL;
    int64_t v = 0;
    enum lt_code rc = get(ctx, business ? REG_BUSINESS : REG_PERSON, ctx->applicant, &rec, &v, err);

    if (rc == LT_ENOTFOUND) {
        rc = missing(err, business ? "business" : "person", ctx->applicant);
    } else if (rc == LT_OK &&
               strcmp(rstr(rec, "status"), business ? "dissolved" : "deceased") == 0) {
        rc = lt_error_set(err, LT_EINVAL, "the applicant %s is recorded as %s since receipt",
                          ctx->applicant, business ? "dissolved" : "deceased");
        lt_error_hint(err, "reject the dossier; an heir or successor files again");
    }
    if (rc == LT_EINVAL) {
        lt_error_field(err, "applicant.id");
    }
    json_decref(rec);
    return rc;
}

const char *const *oss_effect_needs(const char *kind)
{
    const struct effect *e = find(kind);

    return e != NULL ? e->needs : NULL;
}

enum lt_code oss_effect_apply(const struct oss_effect_ctx *ctx, const char *kind,
                              struct lt_error *err)
{
    const struct effect *e = find(kind);

    if (e == NULL) {
        return lt_error_set(err, LT_EINTERNAL, "unknown effect \"%s\"", kind);
    }
    return e->apply(ctx, err);
}
