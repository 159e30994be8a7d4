/*
 * audit_query.c - reading the audit projection: the citizen's access log,
 * the auditor's search and the inspector's export (see audit.h).
 *
 * A query's SQL is put together from fixed fragments, one per filter that
 * is set, so there are few distinct texts (the store caches each) and no
 * value is ever spliced in.  Rows come in id order, which is the order
 * they were recorded on this node; a jurisdiction filter (keep) runs on
 * each row after SQL.
 */
#include "audit/audit.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "core/buf.h"
#include "core/date.h"
#include "core/banned.h"

#define COLS                                                                                       \
    "id, time_ms, actor, role, actor_unit, client, purpose, sealed_until, action, subject_kind, "  \
    "subject_key, origin"

static void format_ms(int64_t ms, char out[80])
{
    time_t secs = (time_t)(ms / 1000);
    struct tm tm;

    if (gmtime_r(&secs, &tm) == NULL) {
        snprintf(out, 80, "%s", "");
        return;
    }
    snprintf(out, 80, "%04d-%02d-%02dT%02d:%02d:%02d.%03dZ", tm.tm_year + 1900, tm.tm_mon + 1,
             tm.tm_mday, tm.tm_hour, tm.tm_min, tm.tm_sec, (int)(ms % 1000));
}

static bool set(const char *s)
{
    return s != NULL && s[0] != '\0';
}

/* A query for one person record: its rows are those of the person index. */
static bool person_subject(const struct audit_filter *f)
{
    return set(f->subject_kind) && strcmp(f->subject_kind, "person") == 0 && set(f->subject_key);
}

/* The SQL for f, and its bindings in order. */
static void build_sql(const struct audit_filter *f, struct buf *sql)
{
    buf_append_str(sql, "SELECT " COLS " FROM audit_log WHERE id > ?");
    if (set(f->person)) {
        buf_append_str(sql, " AND person = ?");
    }
    if (set(f->subject_kind)) {
        buf_append_str(sql, " AND subject_kind = ?");
    }
    if (set(f->subject_key)) {
        buf_append_str(sql, " AND subject_key = ?");
    }
    if (person_subject(f)) {
        buf_append_str(sql, " AND person = ?"); /* the person index (audit.c) */
    } else if (set(f->subject_kind)) {
        /* lets the planner use the partial subject index */
        buf_append_str(sql, " AND subject_kind <> 'person'");
    }
    if (set(f->actor)) {
        buf_append_str(sql, " AND actor = ?");
    }
    if (f->from_ms != 0) {
        buf_append_str(sql, " AND time_ms >= ?");
    }
    if (f->to_ms != 0) {
        buf_append_str(sql, " AND time_ms < ?");
    }
    if (f->subject_today != DATE_MIN) {
        buf_append_str(sql, " AND (sealed_until IS NULL OR sealed_until <= ?)");
    }
    buf_append_str(sql, " ORDER BY id");
}

static void bind_filter(struct store_stmt *st, const struct audit_filter *f)
{
    int i = 1;

    store_bind_int(st, i++, f->after);
    if (set(f->person)) {
        store_bind_text(st, i++, f->person);
    }
    if (set(f->subject_kind)) {
        store_bind_text(st, i++, f->subject_kind);
    }
    if (set(f->subject_key)) {
        store_bind_text(st, i++, f->subject_key);
    }
    if (person_subject(f)) {
        store_bind_text(st, i++, f->subject_key);
    }
    if (set(f->actor)) {
        store_bind_text(st, i++, f->actor);
    }
    if (f->from_ms != 0) {
        store_bind_int(st, i++, f->from_ms);
    }
    if (f->to_ms != 0) {
        store_bind_int(st, i++, f->to_ms);
    }
    if (f->subject_today != DATE_MIN) {
        store_bind_int(st, i++, f->subject_today);
    }
}

/* One row as its JSON item; the data subject's view leaves out the client and origin. */
static json_t *row_json(struct store_stmt *st, bool subject_view)
{
    char time_s[80], day[DATE_STR_MAX];
    json_t *o;

    format_ms(store_col_int(st, 1), time_s);
    o = json_pack("{s:I, s:s, s:s, s:s, s:s}", "id", (json_int_t)store_col_int(st, 0), "time",
                  time_s, "actor", store_col_text(st, 2), "role", store_col_text(st, 3), "unit",
                  store_col_text(st, 4));
    if (!subject_view) {
        json_object_set_new(o, "client", json_string(store_col_text(st, 5)));
    }
    json_object_set_new(o, "purpose", json_string(store_col_text(st, 6)));
    json_object_set_new(o, "action", json_string(store_col_text(st, 8)));
    if (!store_col_null(st, 7)) {
        date_format((int32_t)store_col_int(st, 7), day);
        json_object_set_new(o, "sealed_until", json_string(day));
    }
    json_object_set_new(
        o, "record",
        json_pack("{s:s, s:s}", "kind", store_col_text(st, 9), "key", store_col_text(st, 10)));
    if (!subject_view) {
        json_object_set_new(o, "origin", json_string(store_col_text(st, 11)));
    }
    return o;
}

/* Called for each kept row; return false to stop. */
typedef bool (*row_fn)(struct store_stmt *st, void *arg);

static enum lt_code run(struct store *s, const struct audit_filter *f, row_fn fn, void *arg,
                        struct lt_error *err)
{
    struct store_conn *c;
    struct store_stmt *st;
    struct buf sql;
    enum store_step step = STORE_DONE;
    enum lt_code rc;

    if (f->from_ms > 0 && f->to_ms > 0 && f->from_ms >= f->to_ms) {
        lt_error_set(err, LT_EINVAL, "the period runs backwards: from is after to");
        lt_error_hint(err, "give the earlier day as from");
        lt_error_field(err, "to");
        return LT_EINVAL;
    }
    c = store_reader_get(s);
    buf_init(&sql, 1024);
    build_sql(f, &sql);
    rc = store_prepare(c, buf_str(&sql), &st, err);
    if (rc == LT_OK) {
        bind_filter(st, f);
        while ((step = store_step(st, err)) == STORE_ROW) {
            /* XXX: rows outside the jurisdiction are skipped one by one, after SQL. */
            if (f->keep != NULL && !f->keep(store_col_text(st, 4), f->keep_arg)) {
                continue;
            }
            if (!fn(st, arg)) {
                break;
            }
        }
        if (step == STORE_ERROR) {
            rc = err->code;
        }
        /* reset the statement by preparing it again next time; let it go now */
        store_prepare(c, buf_str(&sql), &st, err);
    }
    store_reader_put(s, c);
    buf_release(&sql);
    return rc;
}

struct page {
    json_t *items;
    size_t limit;
    bool subject_view;
    bool more;
};

static bool page_row(struct store_stmt *st, void *arg)
{
    struct page *p = arg;

    if (json_array_size(p->items) == p->limit) {
        p->more = true;
        return false;
    }
    json_array_append_new(p->items, row_json(st, p->subject_view));
    return true;
}

enum lt_code audit_query(struct store *s, const struct audit_filter *f, json_t **page,
                         struct lt_error *err)
{
    struct page p = { json_array(), f->limit, f->subject_today != DATE_MIN, false };
    json_t *next = json_null();
    enum lt_code rc;

    *page = NULL;
    if (f->limit < 1 || f->limit > AUDIT_PAGE_MAX) {
        json_decref(p.items);
        lt_error_set(err, LT_EINVAL, "limit must be from 1 to %d", AUDIT_PAGE_MAX);
        lt_error_field(err, "limit");
        return LT_EINVAL;
    }
    rc = run(s, f, page_row, &p, err);
    if (rc != LT_OK) {
        json_decref(p.items);
        return rc;
    }
    if (p.more) {
        json_t *last = json_array_get(p.items, json_array_size(p.items) - 1);

        next = json_integer(json_integer_value(json_object_get(last, "id")));
    }
    *page = json_pack("{s:o, s:o}", "items", p.items, "next", next);
    return LT_OK;
}

struct lines {
    audit_line_fn fn;
    void *arg;
    bool subject_view;
    enum lt_code rc;
    struct lt_error *err;
};

static bool line_row(struct store_stmt *st, void *arg)
{
    struct lines *l = arg;
    json_t *o = row_json(st, l->subject_view);
    char *text = json_dumps(o, JSON_COMPACT | JSON_PRESERVE_ORDER);

    json_decref(o);
    l->rc = l->fn(text, strlen(text), l->arg, l->err);
    free(text);
    return l->rc == LT_OK;
}

enum lt_code audit_export(struct store *s, const struct audit_filter *f, audit_line_fn fn,
                          void *arg, struct lt_error *err)
{
    struct lines l = { fn, arg, f->subject_today != DATE_MIN, LT_OK, err };
    enum lt_code rc = run(s, f, line_row, &l, err);

    return rc != LT_OK ? rc : l.rc;
}
