/*
 * household.c - households (the household book): the head must be a
 * registered person; the reg_households projection.
 *
 * Members are not listed in the household record: each member's residence
 * names the household and the relation to its head, so a member moving
 * out is one change to one record.
 */
#include <string.h>

#include "registry/kinds.h"
#include "core/banned.h"

static enum lt_code check(const struct vctx *v, const json_t *rec, struct facts *f,
                          struct lt_error *err)
{
    (void)err;
    copy_fact(f->key, sizeof(f->key), rec_str(rec, "id"));
    copy_fact(f->person, sizeof(f->person), rec_str(rec, "head_id"));
    facts_set_unit(v, f, rec_str(rec, "unit"));
    return LT_OK;
}

static enum lt_code check_db(struct store_conn *c, const struct facts *f, struct lt_error *err)
{
    return db_require_person(c, f->person, "head_id", err);
}

static enum lt_code project(struct store_conn *c, const struct facts *f, int64_t version,
                            const char *text, struct lt_error *err)
{
    static const char sql[] =
        "INSERT INTO reg_households (key, head_id, unit, province, version, record) "
        "VALUES (?, ?, ?, ?, ?, ?) ON CONFLICT (key) DO UPDATE SET head_id = excluded.head_id, "
        "unit = excluded.unit, province = excluded.province, version = excluded.version, "
        "record = excluded.record WHERE excluded.version > reg_households.version";
    struct store_stmt *st;
    enum lt_code rc;

    rc = store_prepare(c, sql, &st, err);
    if (rc != LT_OK) {
        return rc;
    }
    store_bind_text(st, 1, f->key);
    store_bind_text(st, 2, f->person);
    store_bind_text(st, 3, f->unit);
    store_bind_text(st, 4, f->province);
    store_bind_int(st, 5, version);
    store_bind_text(st, 6, text);
    return db_exec(st, err);
}

const struct kind_def kind_household = {
    .name = "household",
    .plural = "households",
    .table = "reg_households",
    .fields = household_fields,
    .check = check,
    .check_db = check_db,
    .project = project,
};
