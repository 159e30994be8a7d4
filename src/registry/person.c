/*
 * person.c - the people registry: a person's cross-field rules, the checks
 * on their parents, and the reg_people projection.
 *
 * The projection keeps, next to the record, the folded name and birth year
 * that search needs and the unit of the person's permanent residence (kept
 * up to date by residence.c), so that listing people by unit and searching
 * by name, year and unit are index reads.
 */
#include <string.h>

#include "core/date.h"
#include "core/utf8.h"
#include "registry/ids.h"
#include "registry/kinds.h"
#include "core/banned.h"

static enum lt_code check(const struct vctx *v, const json_t *rec, struct facts *f,
                          struct lt_error *err)
{
    const char *id = rec_str(rec, "id");
    const char *name = rec_str(rec, "full_name");
    bool deceased = strcmp(rec_str(rec, "status"), "deceased") == 0;
    int32_t birth = rec_date(rec, "birth_date");
    int32_t death = rec_date(rec, "death_date");
    struct lt_error tmp;
    int m, d;

    f->female = strcmp(rec_str(rec, "sex"), "female") == 0;
    if (ids_personal_id_check(v->u, id, birth, f->female, &tmp) != LT_OK) {
        field_error(err, "id", "%s", tmp.message);
        return LT_EINVAL;
    }
    if (deceased && death == DATE_MIN) {
        return field_error(err, "death_date", "missing: status is \"deceased\"");
    }
    if (!deceased && death != DATE_MIN) {
        return field_error(err, "death_date", "given, but status is \"%s\"",
                           rec_str(rec, "status"));
    }
    if (death != DATE_MIN && death < birth) {
        return field_error(err, "death_date", "%s is before birth_date %s",
                           rec_str(rec, "death_date"), rec_str(rec, "birth_date"));
    }
    copy_fact(f->father, sizeof(f->father), rec_str(rec, "father_id"));
    copy_fact(f->mother, sizeof(f->mother), rec_str(rec, "mother_id"));
    if (strcmp(f->father, id) == 0) {
        return field_error(err, "father_id", "is the person's own ID");
    }
    if (strcmp(f->mother, id) == 0) {
        return field_error(err, "mother_id", "is the person's own ID");
    }
    if (f->father[0] != '\0' && strcmp(f->father, f->mother) == 0) {
        return field_error(err, "mother_id", "is the same person as father_id");
    }
    copy_fact(f->key, sizeof(f->key), id);
    utf8_fold_words(name, strlen(name), f->fold, sizeof(f->fold));
    f->birth_date = birth;
    date_to_civil(birth, &f->birth_year, &m, &d);
    return LT_OK;
}

/* A parent must be a registered person of the right sex, born before the child. */
static enum lt_code check_parent(struct store_conn *c, const struct facts *f, const char *id,
                                 bool female, const char *field, struct lt_error *err)
{
    struct store_stmt *st;
    enum store_step step;
    enum lt_code rc;
    bool p_female;
    int32_t p_birth;

    rc = store_prepare(c, "SELECT sex, birth_date FROM reg_people WHERE key = ?", &st, err);
    if (rc != LT_OK) {
        return rc;
    }
    store_bind_text(st, 1, id);
    step = store_step(st, err);
    if (step == STORE_ERROR) {
        return err->code;
    }
    if (step == STORE_DONE) {
        field_error(err, field, "no person \"%s\" in the people registry", id);
        err->code = LT_ENOTFOUND; /* see check_db in kinds.h */
        return LT_ENOTFOUND;
    }
    p_female = store_col_int(st, 0) != 0;
    p_birth = (int32_t)store_col_int(st, 1);
    if (p_female != female) {
        return field_error(err, field, "person \"%s\" is %s", id, p_female ? "female" : "male");
    }
    if (p_birth >= f->birth_date) {
        return field_error(err, field, "person \"%s\" was not born before the child", id);
    }
    return LT_OK;
}

static enum lt_code check_db(struct store_conn *c, const struct facts *f, struct lt_error *err)
{
    enum lt_code rc = LT_OK;

    if (f->father[0] != '\0') {
        rc = check_parent(c, f, f->father, false, "father_id", err);
    }
    if (rc == LT_OK && f->mother[0] != '\0') {
        rc = check_parent(c, f, f->mother, true, "mother_id", err);
    }
    return rc;
}

static enum lt_code project(struct store_conn *c, const struct facts *f, int64_t version,
                            const char *text, struct lt_error *err)
{
    static const char sql[] =
        "INSERT INTO reg_people (key, name_fold, birth_year, birth_date, sex, version, record) "
        "VALUES (?, ?, ?, ?, ?, ?, ?) ON CONFLICT (key) DO UPDATE SET "
        "name_fold = excluded.name_fold, birth_year = excluded.birth_year, "
        "birth_date = excluded.birth_date, sex = excluded.sex, version = excluded.version, "
        "record = excluded.record WHERE excluded.version > reg_people.version";
    struct store_stmt *st;
    enum lt_code rc;

    rc = store_prepare(c, sql, &st, err);
    if (rc != LT_OK) {
        return rc;
    }
    /* facts and text outlive the statement's step: no copies */
    store_bind_text_static(st, 1, f->key, strlen(f->key));
    store_bind_text_static(st, 2, f->fold, strlen(f->fold));
    store_bind_int(st, 3, f->birth_year);
    store_bind_int(st, 4, f->birth_date);
    store_bind_int(st, 5, f->female ? 1 : 0);
    store_bind_int(st, 6, version);
    store_bind_text_static(st, 7, text, strlen(text));
    return db_exec(st, err);
}

const struct kind_def kind_person = {
    .name = "person",
    .plural = "people",
    .table = "reg_people",
    .fields = person_fields,
    .check = check,
    .check_db = check_db,
    .project = project,
};
