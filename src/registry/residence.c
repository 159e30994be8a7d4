/*
 * residence.c - permanent and temporary residence: its rules, the checks
 * on its person and household, and the reg_residences projection.
 *
 * A person has at most one record of each kind ("<person id>/permanent",
 * "<person id>/temporary"); a move is a change of that record, so its
 * history is the person's residence history.  Writing a permanent
 * residence also moves the person (reg_people.unit) and their benefits
 * (reg_benefits.unit) to its unit, which is what "people of a commune"
 * and "benefits of a commune" list.
 */
#include <stdio.h>
#include <string.h>

#include "core/date.h"
#include "registry/kinds.h"
#include "core/banned.h"

static enum lt_code check(const struct vctx *v, const json_t *rec, struct facts *f,
                          struct lt_error *err)
{
    const char *person = rec_str(rec, "person_id");
    const char *kind = rec_str(rec, "kind");
    int32_t from = rec_date(rec, "from_date");
    int32_t to = rec_date(rec, "to_date");

    if (json_object_get(rec, "relation_to_head") != NULL &&
        json_object_get(rec, "household_id") == NULL) {
        return field_error(err, "relation_to_head", "given without household_id");
    }
    if (json_object_get(rec, "household_id") != NULL &&
        json_object_get(rec, "relation_to_head") == NULL) {
        return field_error(err, "relation_to_head", "missing: household_id is given");
    }
    if (to != DATE_MIN && to < from) {
        return field_error(err, "to_date", "%s is before from_date %s", rec_str(rec, "to_date"),
                           rec_str(rec, "from_date"));
    }
    snprintf(f->key, sizeof(f->key), "%s/%s", person, kind);
    copy_fact(f->person, sizeof(f->person), person);
    copy_fact(f->sub, sizeof(f->sub), kind);
    copy_fact(f->household, sizeof(f->household), rec_str(rec, "household_id"));
    f->head = strcmp(rec_str(rec, "relation_to_head"), "head") == 0;
    facts_set_unit(v, f, rec_str(rec, "unit"));
    return LT_OK;
}

static enum lt_code check_household(struct store_conn *c, const struct facts *f,
                                    struct lt_error *err)
{
    struct store_stmt *st;
    enum store_step step;
    enum lt_code rc;
    bool is_head;

    rc = store_prepare(c, "SELECT head_id, unit FROM reg_households WHERE key = ?", &st, err);
    if (rc != LT_OK) {
        return rc;
    }
    store_bind_text(st, 1, f->household);
    step = store_step(st, err);
    if (step == STORE_ERROR) {
        return err->code;
    }
    if (step == STORE_DONE) {
        field_error(err, "household_id", "no household \"%s\" in the registry", f->household);
        err->code = LT_ENOTFOUND; /* see check_db in kinds.h */
        return LT_ENOTFOUND;
    }
    if (strcmp(store_col_text(st, 1), f->unit) != 0) {
        return field_error(err, "unit", "\"%s\" is not the unit \"%s\" of household \"%s\"",
                           f->unit, store_col_text(st, 1), f->household);
    }
    is_head = strcmp(store_col_text(st, 0), f->person) == 0;
    if (is_head && !f->head) {
        return field_error(err, "relation_to_head",
                           "the person heads household \"%s\": the relation is \"head\"",
                           f->household);
    }
    if (!is_head && f->head) {
        return field_error(err, "relation_to_head", "household \"%s\" is headed by \"%s\"",
                           f->household, store_col_text(st, 0));
    }
    return LT_OK;
}

static enum lt_code check_db(struct store_conn *c, const struct facts *f, struct lt_error *err)
{
    enum lt_code rc;

    rc = db_require_person(c, f->person, "person_id", err);
    if (rc == LT_OK && f->household[0] != '\0') {
        rc = check_household(c, f, err);
    }
    return rc;
}

/* Move the person and their benefits to the unit of their permanent residence. */
/* XXX: a permanent residence that has ended (to_date passed) still places the person */
static enum lt_code move_person(struct store_conn *c, const struct facts *f, struct lt_error *err)
{
    static const char *const sql[] = {
        "UPDATE reg_people SET unit = ?, province = ? WHERE key = ?",
        "UPDATE reg_benefits SET unit = ?, province = ? WHERE person_id = ?",
    };
    struct store_stmt *st;
    enum lt_code rc = LT_OK;

    for (size_t i = 0; rc == LT_OK && i < sizeof(sql) / sizeof(sql[0]); i++) {
        rc = store_prepare(c, sql[i], &st, err);
        if (rc == LT_OK) {
            store_bind_text(st, 1, f->unit);
            store_bind_text(st, 2, f->province);
            store_bind_text(st, 3, f->person);
            rc = db_exec(st, err);
        }
    }
    return rc;
}

static enum lt_code project(struct store_conn *c, const struct facts *f, int64_t version,
                            const char *text, struct lt_error *err)
{
    static const char sql[] =
        "INSERT INTO reg_residences (key, person_id, kind, unit, province, household_id, "
        "version, record) VALUES (?, ?, ?, ?, ?, ?, ?, ?) ON CONFLICT (key) DO UPDATE SET "
        "unit = excluded.unit, province = excluded.province, "
        "household_id = excluded.household_id, version = excluded.version, "
        "record = excluded.record WHERE excluded.version > reg_residences.version";
    struct store_stmt *st;
    enum lt_code rc;

    rc = store_prepare(c, sql, &st, err);
    if (rc != LT_OK) {
        return rc;
    }
    store_bind_text(st, 1, f->key);
    store_bind_text(st, 2, f->person);
    store_bind_text(st, 3, f->sub);
    store_bind_text(st, 4, f->unit);
    store_bind_text(st, 5, f->province);
    if (f->household[0] != '\0') {
        store_bind_text(st, 6, f->household);
    } else {
        store_bind_null(st, 6);
    }
    store_bind_int(st, 7, version);
    store_bind_text(st, 8, text);
    rc = db_exec(st, err);
    if (rc != LT_OK || store_changes(c) == 0 || strcmp(f->sub, "permanent") != 0) {
        return rc;
    }
    return move_person(c, f, err);
}

const struct kind_def kind_residence = {
    .name = "residence",
    .plural = "residences",
    .table = "reg_residences",
    .fields = residence_fields,
    .check = check,
    .check_db = check_db,
    .project = project,
};
