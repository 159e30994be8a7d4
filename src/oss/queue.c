/*
 * queue.c - the officer's queue: the dossiers of a unit by due date.
 *
 * Each query is one index range read in index order (oss_q_unit,
 * oss_q_province, oss_q_all, oss_q_received, oss_applicant: see schema.h),
 * so a page costs its own rows whatever the number of open dossiers; the
 * "next" cursor is the last row's (due day, code), compared as a row value
 * for keyset pagination.  The rows are framed from the projection's columns
 * without parsing the stored dossier.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/date.h"
#include "oss/code.h"
#include "oss/oss_int.h"
#include "core/banned.h"

#define LIMIT_DEFAULT 50

enum scope {
    SCOPE_COMMUNE,
    SCOPE_PROVINCE,
    SCOPE_ALL,
    SCOPE_RECEIVED,
    SCOPE_APPLICANT,
};

/* One SQL text per scope and filter; the parameters are in the same order in each. */
#define COLS                                                                                       \
    "SELECT code, procedure, proc_version, applicant_kind, applicant_id, channel,"                 \
    " received_unit, competent_unit, status, received_ms, due_day FROM oss_dossiers WHERE "
#define TAIL                                                                                       \
    " AND (due_day, code) > (?, ?) AND due_day >= ? AND due_day <= ?"                              \
    " AND (? = '' OR status = ?) ORDER BY due_day, code LIMIT ?"

static const char *const sql_of[] = {
    [SCOPE_COMMUNE] = COLS "competent_unit = ? AND open = ?" TAIL,
    [SCOPE_PROVINCE] = COLS "competent_province = ? AND open = ?" TAIL,
    [SCOPE_ALL] = COLS "? = '' AND open = ?" TAIL,
    [SCOPE_RECEIVED] = COLS "received_unit = ? AND open = ?" TAIL,
    [SCOPE_APPLICANT] = COLS "applicant_id = ? AND ? IS NOT NULL" TAIL,
};

struct query {
    struct oss *o;
    enum scope scope;
    const char *key;
    int open; /* 1 open, 0 settled; -1 either (applicant) */
    const char *status;
    int32_t after_day, lo, hi;
    char after_code[OSS_DOSSIER_CODE_MAX];
    int limit;
    json_t *page;
};

static enum lt_code bad(struct lt_error *err, const char *field, const char *msg)
{
    lt_error_set(err, LT_EINVAL, "%s", msg);
    lt_error_field(err, field);
    return LT_EINVAL;
}

static json_t *row_json(struct query *q, struct store_stmt *st, int32_t today)
{
    const struct oss_procedure *p = oss_catalogue_version(
        oss_catalogue(q->o), store_col_text(st, 1), (int)store_col_int(st, 2));
    int32_t due = (int32_t)store_col_int(st, 10);
    bool open = strcmp(store_col_text(st, 8), "received") == 0 ||
                strcmp(store_col_text(st, 8), "in_review") == 0 ||
                strcmp(store_col_text(st, 8), "waiting_applicant") == 0;
    char at[OSS_TIME_MAX], day[DATE_STR_MAX];

    oss_format_time(store_col_int(st, 9), at);
    date_format(due, day);
    return json_pack("{s:s, s:{s:s, s:i, s:s, s:s}, s:{s:s, s:s}, s:s, s:s, s:s, s:s, s:s,"
                     " s:s, s:b, s:b}",
                     "code", store_col_text(st, 0), "procedure", "code", store_col_text(st, 1),
                     "version", (int)store_col_int(st, 2), "name_vi", p ? p->name_vi : "",
                     "name_en", p ? p->name_en : "", "applicant", "kind", store_col_text(st, 3),
                     "id", store_col_text(st, 4), "channel", store_col_text(st, 5), "received_unit",
                     store_col_text(st, 6), "competent_unit", store_col_text(st, 7), "status",
                     store_col_text(st, 8), "received_at", at, "due_date", day, "overdue",
                     open && due < today, "due_today", open && due == today);
}

static enum lt_code queue_fn(struct store_conn *c, void *arg, struct lt_error *err)
{
    struct query *q = arg;
    struct store_stmt *st;
    json_t *items = json_array();
    int32_t today = oss_today(q->o), last_day = 0;
    char last_code[OSS_DOSSIER_CODE_MAX] = "";
    enum store_step step;
    int n = 0;
    enum lt_code rc = store_prepare(c, sql_of[q->scope], &st, err);

    if (rc != LT_OK) {
        json_decref(items);
        return rc;
    }
    store_bind_text(st, 1, q->key);
    store_bind_int(st, 2, q->open);
    store_bind_int(st, 3, q->after_day);
    store_bind_text(st, 4, q->after_code);
    store_bind_int(st, 5, q->lo);
    store_bind_int(st, 6, q->hi);
    store_bind_text(st, 7, q->status ? q->status : "");
    store_bind_text(st, 8, q->status ? q->status : "");
    store_bind_int(st, 9, q->limit + 1);
    while ((step = store_step(st, err)) == STORE_ROW) {
        if (n == q->limit) {
            break;
        }
        json_array_append_new(items, row_json(q, st, today));
        last_day = (int32_t)store_col_int(st, 10);
        snprintf(last_code, sizeof(last_code), "%s", store_col_text(st, 0));
        n++;
    }
    if (step == STORE_ERROR) {
        json_decref(items);
        return err->code;
    }
    q->page = json_pack("{s:o, s:n}", "dossiers", items, "next");
    if (step == STORE_ROW) {
        char cursor[40], day[DATE_STR_MAX];

        date_format(last_day, day);
        snprintf(cursor, sizeof(cursor), "%s_%s", day, last_code);
        json_object_set_new(q->page, "next", json_string(cursor));
    }
    return LT_OK;
}

static enum lt_code parse_cursor(const char *s, struct query *q, struct lt_error *err)
{
    char day[DATE_STR_MAX];

    if (s == NULL || s[0] == '\0') {
        q->after_day = INT32_MIN;
        q->after_code[0] = '\0';
        return LT_OK;
    }
    if (strlen(s) < 12 || s[10] != '_') {
        return bad(err, "after", "after must be the \"next\" cursor of the previous page");
    }
    memcpy(day, s, 10);
    day[10] = '\0';
    if (date_parse(day, &q->after_day, NULL) != LT_OK ||
        oss_code_parse(s + 11, q->after_code, NULL) != LT_OK) {
        return bad(err, "after", "after must be the \"next\" cursor of the previous page");
    }
    return LT_OK;
}

/* Which index answers, for the caller and the unit asked for. */
static enum lt_code choose_scope(struct oss *o, const struct auth_principal *who,
                                 const struct oss_queue_query *in, struct query *q,
                                 struct lt_error *err)
{
    const char *unit = in->unit != NULL && in->unit[0] ? in->unit : who->unit;
    const struct unit *un;
    bool received = in->side != NULL && strcmp(in->side, "received") == 0;

    if (in->side != NULL && !received && strcmp(in->side, "competent") != 0) {
        return bad(err, "side", "side must be competent or received");
    }
    if (who->role == AUTH_CITIZEN) {
        q->scope = SCOPE_APPLICANT;
        q->key = who->person_id;
        return LT_OK;
    }
    if (who->role == AUTH_NODE) {
        return lt_error_set(err, LT_EFORBIDDEN, "node accounts do not read dossiers");
    }
    un = units_find_default(o->u, unit);
    if (un == NULL || un->level == UNIT_DISTRICT) {
        return bad(err, "unit", "unit must be a commune, a province or VN");
    }
    if (!oss_within(o, who, unit)) {
        lt_error_set(err, LT_EFORBIDDEN, "unit %s is outside your jurisdiction (%s)", unit,
                     who->unit);
        lt_error_field(err, "unit");
        return LT_EFORBIDDEN;
    }
    q->key = un->code;
    if (received) {
        if (un->level != UNIT_COMMUNE) {
            /* XXX: the received side is indexed per commune only */
            return bad(err, "side", "side=received needs a commune");
        }
        q->scope = SCOPE_RECEIVED;
    } else if (un->level == UNIT_NATION) {
        q->scope = SCOPE_ALL;
        q->key = "";
    } else {
        q->scope = un->level == UNIT_PROVINCE ? SCOPE_PROVINCE : SCOPE_COMMUNE;
    }
    return LT_OK;
}

enum lt_code oss_queue(struct oss *o, const struct auth_principal *who,
                       const struct oss_queue_query *in, json_t **page, struct lt_error *err)
{
    struct query q = { .o = o, .open = 1, .lo = INT32_MIN, .hi = INT32_MAX };
    enum oss_status s;
    int32_t today = oss_today(o);
    enum lt_code rc;

    *page = NULL;
    rc = oss_require_principal(who, err);
    if (rc == LT_OK) {
        rc = choose_scope(o, who, in, &q, err);
    }
    if (rc == LT_OK) {
        rc = parse_cursor(in->after, &q, err);
    }
    if (rc != LT_OK) {
        return rc;
    }
    if (in->status != NULL && in->status[0] != '\0') {
        if (!oss_status_parse(in->status, &s)) {
            return bad(err, "status", "unknown status");
        }
        q.status = oss_status_name(s);
        q.open = oss_status_open(s);
    }
    if (q.scope == SCOPE_APPLICANT) {
        q.open = -1;
    }
    if (in->due != NULL && strcmp(in->due, "overdue") == 0) {
        q.hi = today - 1;
    } else if (in->due != NULL && strcmp(in->due, "today") == 0) {
        q.lo = q.hi = today;
    } else if (in->due != NULL && in->due[0] != '\0') {
        return bad(err, "due", "due must be overdue or today");
    }
    q.limit = in->limit == 0 ? LIMIT_DEFAULT : in->limit;
    if (q.limit < 1 || q.limit > OSS_QUEUE_MAX) {
        return bad(err, "limit", "limit must be from 1 to 500");
    }
    rc = store_read(node_store(o->node), queue_fn, &q, err);
    if (rc == LT_OK) {
        *page = q.page;
    }
    return rc;
}
