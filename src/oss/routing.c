/*
 * routing.c - the competent unit of a dossier (see routing.h).
 */
#include "oss/routing.h"

#include <stdio.h>
#include <string.h>

#include "registry/ids.h"
#include "core/banned.h"

static enum lt_code field_err(struct lt_error *err, const char *field, const char *msg,
                              const char *key)
{
    char f[LT_ERROR_FIELD_MAX];

    lt_error_set(err, LT_EINVAL, msg, key);
    snprintf(f, sizeof(f), "%s%s", strcmp(field, "applicant") == 0 ? "" : "fields.",
             strcmp(field, "applicant") == 0 ? "applicant.id" : field);
    lt_error_field(err, f);
    return LT_EINVAL;
}

enum lt_code oss_record_unit(struct oss *o, enum registry_kind kind, const char *key,
                             const char *field, char out[UNIT_CODE_MAX], struct lt_error *err)
{
    char rkey[64];
    json_t *rec = NULL;
    const char *unit;
    enum lt_code rc;

    snprintf(rkey, sizeof(rkey), kind == REG_RESIDENCE ? "%s/permanent" : "%s", key);
    rc = registry_get(o->node, kind, rkey, &rec, NULL, err);
    if (rc == LT_ENOTFOUND) {
        return field_err(err, field,
                         kind == REG_RESIDENCE ? "%s has no permanent residence to route by"
                                               : "no record \"%s\" to route by",
                         key);
    }
    if (rc == LT_EINVAL) {
        lt_error_field(err, field);
    }
    if (rc != LT_OK) {
        return rc;
    }
    unit = json_string_value(json_object_get(rec, "unit"));
    if (unit == NULL || (kind == REG_RESIDENCE && json_object_get(rec, "to_date") != NULL)) {
        json_decref(rec);
        return field_err(err, field, "%s has no current permanent residence to route by", key);
    }
    snprintf(out, UNIT_CODE_MAX, "%s", unit);
    json_decref(rec);
    return LT_OK;
}

enum lt_code oss_route(struct oss *o, const struct oss_procedure *p, const json_t *fields,
                       const char *applicant_id, char out[UNIT_CODE_MAX], struct lt_error *err)
{
    const char *f = p->route_field;
    const char *v =
        strcmp(f, "applicant") == 0 ? applicant_id : json_string_value(json_object_get(fields, f));
    char commune[UNIT_CODE_MAX];
    struct parcel_id pid;
    enum lt_code rc = LT_OK;

    if (v == NULL) {
        return field_err(err, f, "%s: no value to route by", f);
    }
    switch (p->route_by) {
    case OSS_ROUTE_UNIT_FIELD:
        snprintf(commune, sizeof(commune), "%s", v);
        break;
    case OSS_ROUTE_RESIDENCE_OF:
        rc = oss_record_unit(o, REG_RESIDENCE, v, f, commune, err);
        break;
    case OSS_ROUTE_PARCEL:
        /* a parcel's commune is the first part of its ID, registered or not */
        rc = ids_parcel_id_parse(o->u, v, oss_today(o), &pid, err);
        if (rc == LT_OK) {
            snprintf(commune, sizeof(commune), "%s", pid.commune);
        }
        break;
    case OSS_ROUTE_BUSINESS:
        rc = oss_record_unit(o, REG_BUSINESS, v, f, commune, err);
        break;
    }
    if (rc != LT_OK) {
        return rc;
    }
    oss_unit_at_level(o, commune, p->level, out);
    if (out[0] == '\0') {
        return field_err(err, f, "the unit of %s is not in the units register", v);
    }
    return LT_OK;
}
