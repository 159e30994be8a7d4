/*
 * parcel.c - land parcels: the ID agrees with the unit, sheet and number;
 * holders are registered people or businesses whose shares sum to 1;
 * encumbrances are released after they are registered.  The reg_parcels
 * projection.
 *
 * Shares are fractions of 1 with at most 6 decimal places (0.5, 0.333333),
 * so their sum may miss 1 by the rounding of each: up to half a millionth
 * per holder is tolerated.
 */
#include <stdio.h>
#include <string.h>

#include "core/date.h"
#include "registry/ids.h"
#include "registry/kinds.h"
#include "core/banned.h"

static enum lt_code check_holders(const struct vctx *v, const json_t *holders, struct lt_error *err)
{
    char path[LT_ERROR_FIELD_MAX];
    struct lt_error tmp;
    double sum = 0;
    size_t i, n = json_array_size(holders);
    json_t *h;

    if (n == 0) {
        return field_error(err, "holders", "no holder: a parcel has at least one");
    }
    json_array_foreach(holders, i, h)
    {
        const char *kind = rec_str(h, "kind");
        const char *id = rec_str(h, "id");
        struct personal_id pid;
        enum lt_code rc;

        snprintf(path, sizeof(path), "holders[%zu].id", i);
        if (strcmp(kind, "person") == 0) {
            rc = ids_personal_id_parse(v->u, id, &pid, &tmp);
        } else {
            rc = ids_enterprise_code_check(id, &tmp);
        }
        if (rc != LT_OK) {
            return field_error(err, path, "%s", tmp.message);
        }
        for (size_t k = 0; k < i; k++) {
            const json_t *o = json_array_get(holders, k);

            if (strcmp(rec_str(o, "kind"), kind) == 0 && strcmp(rec_str(o, "id"), id) == 0) {
                return field_error(err, path, "%s \"%s\" is listed twice", kind, id);
            }
        }
        sum += json_number_value(json_object_get(h, "share"));
    }
    if (sum - 1.0 > 0.5e-6 * (double)n + 1e-12 || 1.0 - sum > 0.5e-6 * (double)n + 1e-12) {
        field_error(err, "holders", "shares sum to %.6f, not 1", sum);
        lt_error_hint(err, "a share is a fraction of 1 (0.5 for half)");
        return LT_EINVAL;
    }
    return LT_OK;
}

static enum lt_code check_encumbrances(const json_t *list, struct lt_error *err)
{
    char path[LT_ERROR_FIELD_MAX];
    size_t i;
    json_t *e;

    json_array_foreach(list, i, e)
    {
        int32_t on = rec_date(e, "registered_on");
        int32_t off = rec_date(e, "released_on");

        if (off != DATE_MIN && off < on) {
            snprintf(path, sizeof(path), "encumbrances[%zu].released_on", i);
            return field_error(err, path, "%s is before registered_on %s",
                               rec_str(e, "released_on"), rec_str(e, "registered_on"));
        }
    }
    return LT_OK;
}

static enum lt_code check(const struct vctx *v, const json_t *rec, struct facts *f,
                          struct lt_error *err)
{
    struct parcel_id p;
    enum lt_code rc;

    rc = ids_parcel_id_parse(v->u, rec_str(rec, "id"), v->effective, &p, err);
    if (rc != LT_OK) {
        lt_error_field(err, "id");
        return rc;
    }
    if (strcmp(p.commune, rec_str(rec, "unit")) != 0) {
        return field_error(err, "unit", "\"%s\" is not the commune \"%s\" of the parcel ID",
                           rec_str(rec, "unit"), p.commune);
    }
    if (json_integer_value(json_object_get(rec, "map_sheet")) != p.map_sheet) {
        return field_error(err, "map_sheet", "is not the map sheet %d of the parcel ID",
                           p.map_sheet);
    }
    if (json_integer_value(json_object_get(rec, "parcel_no")) != p.parcel_no) {
        return field_error(err, "parcel_no", "is not the parcel number %d of the parcel ID",
                           p.parcel_no);
    }
    rc = check_holders(v, json_object_get(rec, "holders"), err);
    if (rc == LT_OK) {
        rc = check_encumbrances(json_object_get(rec, "encumbrances"), err);
    }
    if (rc != LT_OK) {
        return rc;
    }
    ids_parcel_id_format(&p, f->key);
    facts_set_unit(v, f, p.commune);
    f->holders = json_object_get(rec, "holders");
    return LT_OK;
}

static enum lt_code check_db(struct store_conn *c, const struct facts *f, struct lt_error *err)
{
    char path[LT_ERROR_FIELD_MAX];
    size_t i;
    json_t *h;

    json_array_foreach(f->holders, i, h)
    {
        const char *id = rec_str(h, "id");
        enum lt_code rc;

        snprintf(path, sizeof(path), "holders[%zu].id", i);
        if (strcmp(rec_str(h, "kind"), "person") == 0) {
            rc = db_require_person(c, id, path, err);
        } else {
            rc = db_require_business(c, id, path, err);
        }
        if (rc != LT_OK) {
            return rc;
        }
    }
    return LT_OK;
}

static enum lt_code project(struct store_conn *c, const struct facts *f, int64_t version,
                            const char *text, struct lt_error *err)
{
    static const char sql[] =
        "INSERT INTO reg_parcels (key, unit, province, version, record) VALUES (?, ?, ?, ?, ?) "
        "ON CONFLICT (key) DO UPDATE SET unit = excluded.unit, province = excluded.province, "
        "version = excluded.version, record = excluded.record "
        "WHERE excluded.version > reg_parcels.version";
    struct store_stmt *st;
    enum lt_code rc;

    rc = store_prepare(c, sql, &st, err);
    if (rc != LT_OK) {
        return rc;
    }
    store_bind_text(st, 1, f->key);
    store_bind_text(st, 2, f->unit);
    store_bind_text(st, 3, f->province);
    store_bind_int(st, 4, version);
    store_bind_text(st, 5, text);
    return db_exec(st, err);
}

const struct kind_def kind_parcel = {
    .name = "parcel",
    .plural = "parcels",
    .table = "reg_parcels",
    .fields = parcel_fields,
    .check = check,
    .check_db = check_db,
    .project = project,
};
