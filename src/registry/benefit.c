/*
 * benefit.c - social protection: health insurance, social insurance and
 * social assistance of a person, one record per person and scheme
 * ("<person id>/<scheme>").  The reg_benefits projection carries the unit
 * of the person's permanent residence, so benefits list by commune and
 * province like everything else (residence.c keeps it current).
 */
#include <stdio.h>
#include <string.h>

#include "core/date.h"
#include "registry/kinds.h"
#include "core/banned.h"

static enum lt_code check(const struct vctx *v, const json_t *rec, struct facts *f,
                          struct lt_error *err)
{
    int32_t start = rec_date(rec, "start_date");
    int32_t end = rec_date(rec, "end_date");

    (void)v;
    if (end != DATE_MIN && end < start) {
        return field_error(err, "end_date", "%s is before start_date %s", rec_str(rec, "end_date"),
                           rec_str(rec, "start_date"));
    }
    if (end == DATE_MIN && strcmp(rec_str(rec, "status"), "ended") == 0) {
        return field_error(err, "end_date", "missing: status is \"ended\"");
    }
    snprintf(f->key, sizeof(f->key), "%s/%s", rec_str(rec, "person_id"), rec_str(rec, "scheme"));
    copy_fact(f->person, sizeof(f->person), rec_str(rec, "person_id"));
    copy_fact(f->sub, sizeof(f->sub), rec_str(rec, "scheme"));
    return LT_OK;
}

static enum lt_code check_db(struct store_conn *c, const struct facts *f, struct lt_error *err)
{
    return db_require_person(c, f->person, "person_id", err);
}

static enum lt_code project(struct store_conn *c, const struct facts *f, int64_t version,
                            const char *text, struct lt_error *err)
{
    static const char sql[] =
        "INSERT INTO reg_benefits (key, person_id, scheme, unit, province, version, record) "
        "VALUES (?, ?, ?, (SELECT unit FROM reg_people WHERE key = ?), "
        "(SELECT province FROM reg_people WHERE key = ?), ?, ?) ON CONFLICT (key) DO UPDATE "
        "SET unit = excluded.unit, province = excluded.province, version = excluded.version, "
        "record = excluded.record WHERE excluded.version > reg_benefits.version";
    struct store_stmt *st;
    enum lt_code rc;

    rc = store_prepare(c, sql, &st, err);
    if (rc != LT_OK) {
        return rc;
    }
    store_bind_text(st, 1, f->key);
    store_bind_text(st, 2, f->person);
    store_bind_text(st, 3, f->sub);
    store_bind_text(st, 4, f->person);
    store_bind_text(st, 5, f->person);
    store_bind_int(st, 6, version);
    store_bind_text(st, 7, text);
    return db_exec(st, err);
}

const struct kind_def kind_benefit = {
    .name = "benefit",
    .plural = "benefits",
    .table = "reg_benefits",
    .fields = benefit_fields,
    .check = check,
    .check_db = check_db,
    .project = project,
};
