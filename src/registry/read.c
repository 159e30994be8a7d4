/*
 * read.c - reading the registries: a record, as of a date, its history,
 * the records of a unit, and people by name.
 *
 * Every read takes a reader connection from the store's pool and gives it
 * back before returning.  A get is one primary-key read of the projection
 * (registry_get_text hands out the stored text without parsing it);
 * as-of and history read the event log; lists and searches are index
 * ranges read in index order, so none of them sorts.
 */
#include "registry/registry.h"

#include <stdio.h>
#include <string.h>
#include <time.h>

#include "core/date.h"
#include "core/utf8.h"
#include "registry/ids.h"
#include "registry/kinds.h"
#include "core/banned.h"

static enum lt_code check_key(const struct kind_def *k, const char *key, struct lt_error *err)
{
    if (k == NULL) {
        return lt_error_set(err, LT_EINVAL, "unknown registry kind");
    }
    if (key == NULL || key[0] == '\0' || strlen(key) >= REG_KEY_MAX) {
        lt_error_set(err, LT_EINVAL, "no valid %s key given", k->name);
        lt_error_field(err, "key");
        return LT_EINVAL;
    }
    /*
     * A key that cannot be one is refused as malformed, not looked up and
     * answered "no such record": the two call for different fixes.  Only the
     * form is checked (the province digits of a personal ID need the units
     * register, which a read on a bare connection does not have).
     */
    if (k == kind_get(REG_PERSON) && !ids_personal_id_shaped(key)) {
        lt_error_set(err, LT_EINVAL, "personal ID \"%.40s\" is not 12 digits", key);
        lt_error_field(err, "id");
        return LT_EINVAL;
    }
    if (k == kind_get(REG_BUSINESS) && ids_enterprise_code_check(key, err) != LT_OK) {
        lt_error_field(err, "code");
        return LT_EINVAL;
    }
    return LT_OK;
}

static enum lt_code not_found(const struct kind_def *k, const char *key, struct lt_error *err)
{
    return lt_error_set(err, LT_ENOTFOUND, "no %s \"%s\"", k->name, key);
}

enum lt_code db_read_row(struct store_conn *c, const struct kind_def *k, const char *key, row_fn fn,
                         void *arg, struct lt_error *err)
{
    struct store_stmt *st;
    char sql[128];
    enum store_step step;
    enum lt_code rc;

    snprintf(sql, sizeof(sql), "SELECT record, version, unit FROM %s WHERE key = ?", k->table);
    rc = store_prepare(c, sql, &st, err);
    if (rc != LT_OK) {
        return rc;
    }
    store_bind_text(st, 1, key);
    step = store_step(st, err);
    if (step == STORE_ERROR) {
        return err->code;
    }
    if (step == STORE_DONE) {
        return not_found(k, key, err);
    }
    fn(store_col_text(st, 0), store_col_bytes(st, 0), store_col_int(st, 1), store_col_text(st, 2),
       arg);
    return LT_OK;
}

static enum lt_code read_row(struct node *n, enum registry_kind kind, const char *key, row_fn fn,
                             void *arg, struct lt_error *err)
{
    const struct kind_def *k = kind_get(kind);
    struct store_conn *c;
    enum lt_code rc;

    rc = check_key(k, key, err);
    if (rc != LT_OK) {
        return rc;
    }
    c = store_reader_get(n->store);
    rc = db_read_row(c, k, key, fn, arg, err);
    store_reader_put(n->store, c);
    return rc;
}

struct get_json {
    json_t *record;
    int64_t version;
};

static void got_json(const char *text, size_t len, int64_t version, const char *unit, void *arg)
{
    struct get_json *g = arg;

    (void)unit;
    g->record = json_loadb(text, len, 0, NULL);
    g->version = version;
}

struct get_text {
    struct buf *out;
    enum lt_code rc;
    int64_t version;
    char *unit; /* UNIT_CODE_MAX bytes, or NULL */
};

static void got_text(const char *text, size_t len, int64_t version, const char *unit, void *arg)
{
    struct get_text *g = arg;

    g->rc = buf_append(g->out, text, len);
    g->version = version;
    if (g->unit != NULL) {
        snprintf(g->unit, UNIT_CODE_MAX, "%s", unit);
    }
}

static void entity_of(const struct kind_def *k, const char *key, char out[EVLOG_ENTITY_MAX])
{
    snprintf(out, EVLOG_ENTITY_MAX, "%s/%s", k->name, key);
}

/* An event's clock as "YYYY-MM-DDTHH:MM:SS.mmmZ". */
static void format_hlc(int64_t hlc, char out[80])
{
    int64_t ms = hlc >> 16;
    time_t secs = (time_t)(ms / 1000);
    struct tm tm;

    if (gmtime_r(&secs, &tm) == NULL) {
        snprintf(out, 80, "%s", "");
        return;
    }
    snprintf(out, 80, "%04d-%02d-%02dT%02d:%02d:%02d.%03dZ", tm.tm_year + 1900, tm.tm_mon + 1,
             tm.tm_mday, tm.tm_hour, tm.tm_min, tm.tm_sec, (int)(ms % 1000));
}

static enum lt_code history_item(const struct event *ev, void *arg, struct lt_error *err)
{
    json_t *arr = arg;
    json_t *record = ev->body ? json_loads(ev->body, 0, NULL) : NULL;
    char time_s[80];
    char eff[DATE_STR_MAX];

    (void)err;
    format_hlc(ev->hlc, time_s);
    date_format(ev->effective, eff);
    json_array_append_new(
        arr, json_pack("{s:I, s:s, s:I, s:s, s:s, s:s, s:s, s:s, s:I, s:b, s:o}", "pos",
                       (json_int_t)ev->pos, "origin", ev->origin, "seq", (json_int_t)ev->seq,
                       "time", time_s, "actor", ev->actor, "type", ev->type, "cause", ev->cause,
                       "effective", eff, "version", (json_int_t)ev->version, "set_aside",
                       event_set_aside(ev), "record", record ? record : json_null()));
    return LT_OK;
}

/* Which column a unit code filters on: "unit", "province", or NULL for all. */
static enum lt_code unit_scope(struct node *n, const char *unit, const char **column,
                               struct lt_error *err)
{
    const struct unit *x;

    *column = NULL;
    if (unit == NULL || unit[0] == '\0' || strcmp(unit, "VN") == 0) {
        return LT_OK;
    }
    x = units_find_default(n->u, unit);
    if (x == NULL) {
        lt_error_set(err, LT_ENOTFOUND, "no unit \"%.20s\"", unit);
        lt_error_field(err, "unit");
        return LT_ENOTFOUND;
    }
    if (x->level == UNIT_COMMUNE) {
        *column = "unit";
    } else if (x->level == UNIT_PROVINCE) {
        *column = "province";
    } else {
        lt_error_set(err, LT_EINVAL, "unit \"%s\" is a district: list by commune or province",
                     unit);
        lt_error_field(err, "unit");
        return LT_EINVAL;
    }
    return LT_OK;
}

static enum lt_code check_limit(int *limit, struct lt_error *err)
{
    if (*limit < 1) {
        lt_error_set(err, LT_EINVAL, "limit %d is below 1", *limit);
        lt_error_field(err, "limit");
        return LT_EINVAL;
    }
    if (*limit > REGISTRY_LIST_MAX) {
        *limit = REGISTRY_LIST_MAX;
    }
    return LT_OK;
}

/* Append the record in column col of the current row to arr. */
static enum lt_code append_record(json_t *arr, struct store_stmt *st, int col, struct lt_error *err)
{
    json_t *rec = json_loadb(store_col_text(st, col), store_col_bytes(st, col), 0, NULL);

    if (rec == NULL) {
        return lt_error_set(err, LT_EINTERNAL, "a stored record is not JSON");
    }
    json_array_append_new(arr, rec);
    return LT_OK;
}

/*
 * One search query: exact (name_fold = q) or continuing (q followed by a
 * word: the range after "q " and before "q!"), both index ranges of
 * reg_people_name read in index order, so no sort is needed.  Appends at
 * most limit records to arr.
 */
static enum lt_code search_query(struct store_conn *c, bool exact, const char *fold, int birth_year,
                                 const char *column, const char *unit, int limit, json_t *arr,
                                 struct lt_error *err)
{
    char sql[320], lo[REG_FOLD_MAX + 2], hi[REG_FOLD_MAX + 2];
    struct store_stmt *st;
    enum lt_code rc;
    int b = 1;

    snprintf(sql, sizeof(sql), "SELECT record FROM reg_people WHERE %s%s%s%s ORDER BY %s LIMIT ?",
             exact ? "name_fold = ?" : "name_fold > ? AND name_fold < ?",
             birth_year ? " AND birth_year = ?" : "", column ? " AND " : "",
             column ? (strcmp(column, "unit") == 0 ? "unit = ?" : "province = ?") : "",
             exact ? "birth_year, key" : "name_fold, birth_year, key");
    rc = store_prepare(c, sql, &st, err);
    if (rc != LT_OK) {
        return rc;
    }
    if (exact) {
        store_bind_text(st, b++, fold);
    } else {
        snprintf(lo, sizeof(lo), "%s ", fold);
        snprintf(hi, sizeof(hi), "%s!", fold);
        store_bind_text(st, b++, lo);
        store_bind_text(st, b++, hi);
    }
    if (birth_year) {
        store_bind_int(st, b++, birth_year);
    }
    if (column) {
        store_bind_text(st, b++, unit);
    }
    store_bind_int(st, b, limit);
    for (;;) {
        enum store_step step = store_step(st, err);

        if (step == STORE_ERROR) {
            return err->code;
        }
        if (step == STORE_DONE) {
            return LT_OK;
        }
        rc = append_record(arr, st, 0, err);
        if (rc != LT_OK) {
            return rc;
        }
    }
}

enum lt_code registry_get(struct node *n, enum registry_kind kind, const char *key, json_t **record,
                          int64_t *version, struct lt_error *err)
{
    struct get_json g = { NULL, 0 };
    enum lt_code rc;

    *record = NULL;
    rc = read_row(n, kind, key, got_json, &g, err);
    if (rc != LT_OK) {
        return rc;
    }
    if (g.record == NULL) {
        return lt_error_set(err, LT_EINTERNAL, "the stored %s \"%s\" is not JSON",
                            registry_kind_name(kind), key);
    }
    *record = g.record;
    if (version != NULL) {
        *version = g.version;
    }
    return LT_OK;
}

enum lt_code registry_get_in(struct store_conn *c, enum registry_kind kind, const char *key,
                             json_t **record, int64_t *version, struct lt_error *err)
{
    const struct kind_def *k = kind_get(kind);
    struct get_json g = { NULL, 0 };
    enum lt_code rc;

    *record = NULL;
    rc = check_key(k, key, err);
    if (rc == LT_OK) {
        rc = db_read_row(c, k, key, got_json, &g, err);
    }
    if (rc != LT_OK) {
        return rc;
    }
    if (g.record == NULL) {
        return lt_error_set(err, LT_EINTERNAL, "the stored %s \"%s\" is not JSON", k->name, key);
    }
    *record = g.record;
    if (version != NULL) {
        *version = g.version;
    }
    return LT_OK;
}

enum lt_code registry_get_text(struct node *n, enum registry_kind kind, const char *key,
                               struct buf *out, int64_t *version, struct lt_error *err)
{
    return registry_get_text_unit(n, kind, key, out, version, NULL, err);
}

enum lt_code registry_get_text_unit(struct node *n, enum registry_kind kind, const char *key,
                                    struct buf *out, int64_t *version, char *unit,
                                    struct lt_error *err)
{
    struct get_text g = { out, LT_OK, 0, unit };
    enum lt_code rc;

    rc = read_row(n, kind, key, got_text, &g, err);
    if (rc != LT_OK) {
        return rc;
    }
    if (g.rc != LT_OK) {
        return lt_error_set(err, g.rc, "the %s \"%s\" does not fit the buffer",
                            registry_kind_name(kind), key);
    }
    if (version != NULL) {
        *version = g.version;
    }
    return LT_OK;
}

enum lt_code registry_get_text_unit_in(struct store_conn *c, enum registry_kind kind,
                                       const char *key, struct buf *out, int64_t *version,
                                       char *unit, struct lt_error *err)
{
    const struct kind_def *k = kind_get(kind);
    struct get_text g = { out, LT_OK, 0, unit };
    enum lt_code rc = check_key(k, key, err);

    if (rc == LT_OK) {
        rc = db_read_row(c, k, key, got_text, &g, err);
    }
    if (rc != LT_OK) {
        return rc;
    }
    if (g.rc != LT_OK) {
        return lt_error_set(err, g.rc, "the %s \"%s\" does not fit the buffer", k->name, key);
    }
    if (version != NULL) {
        *version = g.version;
    }
    return LT_OK;
}

enum lt_code registry_get_as_of(struct node *n, enum registry_kind kind, const char *key,
                                int32_t date, json_t **record, struct lt_error *err)
{
    const struct kind_def *k = kind_get(kind);
    char entity[EVLOG_ENTITY_MAX];
    char ds[DATE_STR_MAX];
    struct store_conn *c;
    struct event ev;
    enum lt_code rc;

    *record = NULL;
    rc = check_key(k, key, err);
    if (rc != LT_OK) {
        return rc;
    }
    entity_of(k, key, entity);
    memset(&ev, 0, sizeof(ev));
    c = store_reader_get(n->store);
    rc = evlog_as_of(c, entity, date, &ev, err);
    store_reader_put(n->store, c);
    if (rc == LT_ENOTFOUND) {
        date_format(date, ds);
        return lt_error_set(err, LT_ENOTFOUND, "no %s \"%s\" on %s", k->name, key, ds);
    }
    if (rc != LT_OK) {
        return rc;
    }
    *record = ev.body ? json_loads(ev.body, 0, NULL) : NULL;
    event_release(&ev);
    if (*record == NULL) {
        return lt_error_set(err, LT_EINTERNAL, "the event body of %s is not JSON", entity);
    }
    return LT_OK;
}

enum lt_code registry_history(struct node *n, enum registry_kind kind, const char *key,
                              json_t **events, struct lt_error *err)
{
    const struct kind_def *k = kind_get(kind);
    char entity[EVLOG_ENTITY_MAX];
    struct store_conn *c;
    json_t *arr;
    enum lt_code rc;

    *events = NULL;
    rc = check_key(k, key, err);
    if (rc != LT_OK) {
        return rc;
    }
    entity_of(k, key, entity);
    arr = json_array();
    c = store_reader_get(n->store);
    rc = evlog_history(c, entity, history_item, arr, err);
    store_reader_put(n->store, c);
    if (rc == LT_OK && json_array_size(arr) == 0) {
        rc = not_found(k, key, err);
    }
    if (rc != LT_OK) {
        json_decref(arr);
        return rc;
    }
    *events = arr;
    return LT_OK;
}

enum lt_code registry_list(struct node *n, enum registry_kind kind, const char *unit,
                           const char *after, int limit, json_t **page, struct lt_error *err)
{
    const struct kind_def *k = kind_get(kind);
    const char *column;
    struct store_conn *c;
    struct store_stmt *st;
    char sql[192];
    char last[REG_KEY_MAX] = "";
    json_t *items = NULL;
    json_t *next = json_null();
    enum lt_code rc;
    int rows = 0, b = 1;

    *page = NULL;
    if (k == NULL) {
        return lt_error_set(err, LT_EINVAL, "unknown registry kind");
    }
    rc = check_limit(&limit, err);
    if (rc == LT_OK) {
        rc = unit_scope(n, unit, &column, err);
    }
    if (rc != LT_OK) {
        return rc;
    }
    snprintf(sql, sizeof(sql), "SELECT key, record FROM %s WHERE %s%s key > ? ORDER BY key LIMIT ?",
             k->table, column ? column : "", column ? " = ? AND" : "");
    c = store_reader_get(n->store);
    rc = store_prepare(c, sql, &st, err);
    if (rc != LT_OK) {
        goto out;
    }
    if (column != NULL) {
        store_bind_text(st, b++, unit);
    }
    store_bind_text(st, b++, after ? after : "");
    store_bind_int(st, b, limit + 1);
    items = json_array();
    for (;;) {
        enum store_step step = store_step(st, err);

        if (step == STORE_ERROR) {
            rc = err->code;
            goto out;
        }
        if (step == STORE_DONE) {
            break;
        }
        if (++rows > limit) {
            /* a row beyond the page: the next page starts after the last key */
            json_decref(next);
            next = json_string(last);
            break;
        }
        rc = append_record(items, st, 1, err);
        if (rc != LT_OK) {
            goto out;
        }
        snprintf(last, sizeof(last), "%s", store_col_text(st, 0));
    }
    *page = json_pack("{s:o, s:o}", "items", items, "next", next);
    items = NULL;
    next = NULL;

out:
    store_reader_put(n->store, c);
    json_decref(items);
    json_decref(next);
    return rc;
}

enum lt_code registry_search_people(struct node *n, const char *name, int birth_year,
                                    const char *unit, int limit, json_t **results,
                                    struct lt_error *err)
{
    char fold[REG_FOLD_MAX];
    const char *column;
    struct store_conn *c;
    json_t *arr;
    enum lt_code rc;
    size_t flen;

    *results = NULL;
    flen = name ? utf8_fold_words(name, strlen(name), fold, sizeof(fold)) : 0;
    if (flen == 0) {
        lt_error_set(err, LT_EINVAL, "no name to search for");
        lt_error_field(err, "name");
        return LT_EINVAL;
    }
    rc = check_limit(&limit, err);
    if (rc == LT_OK) {
        rc = unit_scope(n, unit, &column, err);
    }
    if (rc != LT_OK) {
        return rc;
    }
    arr = json_array();
    c = store_reader_get(n->store);
    rc = search_query(c, true, fold, birth_year, column, unit, limit, arr, err);
    if (rc == LT_OK && json_array_size(arr) < (size_t)limit) {
        rc = search_query(c, false, fold, birth_year, column, unit,
                          limit - (int)json_array_size(arr), arr, err);
    }
    store_reader_put(n->store, c);
    if (rc != LT_OK) {
        json_decref(arr);
        return rc;
    }
    *results = arr;
    return LT_OK;
}
