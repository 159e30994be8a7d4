/*
 * conflict.c - the conflict inbox (see conflict.h for the design).
 *
 * One table, sync_conflicts (its SQL is in schema.c, with the other sync
 * tables), one row per conflict: both sides as they were
 * when it opened (the held side's record is the projection's text then,
 * the incoming side's the latest event set aside), and how it was closed.
 * Rows are never deleted: a resolved conflict stays as the record of what
 * was decided.  The SQL is portable (store.h).
 */
#include "sync/conflict.h"

#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "core/buf.h"
#include "core/date.h"
#include "sync/state.h"
#include "core/banned.h"

#define KEY_MAX    EVLOG_ENTITY_MAX
#define STATUS_MAX 12
#define CHOICE_MAX 12
#define SCAN_MAX   10000 /* rows a list reads at most to fill a page */

#define COLS                                                                                       \
    "id, pos, entity, unit, status, detected_ms, held_record, held_version, held_origin, "         \
    "held_seq, held_actor, held_hlc, in_origin, in_seq, in_last_seq, in_events, in_base, "         \
    "in_actor, in_type, in_hlc, in_record, resolved_ms, res_origin, res_seq, res_actor, "          \
    "res_choice"

static const char sql_insert[] =
    "INSERT INTO sync_conflicts (" COLS ") VALUES "
    "(?, ?, ?, ?, 'open', ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, 1, ?, ?, ?, ?, ?, 0, '', 0, '', '')";
static const char sql_find_open[] = "SELECT id FROM sync_conflicts WHERE entity = ? AND "
                                    "status = 'open' AND in_origin = ?";
static const char sql_join[] =
    "UPDATE sync_conflicts SET in_last_seq = ?, in_events = in_events + 1, in_actor = ?, "
    "in_type = ?, in_hlc = ?, in_record = ? WHERE id = ?";
static const char sql_close[] =
    "UPDATE sync_conflicts SET status = 'resolved', resolved_ms = ?, res_origin = ?, "
    "res_seq = ?, res_actor = ?, res_choice = ? WHERE id = ? AND entity = ? AND status = 'open'";
static const char sql_get[] = "SELECT " COLS " FROM sync_conflicts WHERE id = ?";
static const char sql_marks[] = "SELECT id FROM sync_conflicts WHERE entity = ? AND "
                                "status = 'open' ORDER BY pos LIMIT 100";
static const char sql_count_open[] = "SELECT COUNT(*) FROM sync_conflicts WHERE status = 'open'";
static const char sql_list_status[] = "SELECT " COLS " FROM sync_conflicts WHERE status = ? AND "
                                      "pos > ? ORDER BY pos LIMIT ?";
static const char sql_list_all[] =
    "SELECT " COLS " FROM sync_conflicts WHERE pos > ? ORDER BY pos LIMIT ?";
/* The event whose record the projection holds: the last one in force. */
static const char sql_held_event[] =
    "SELECT origin, seq, actor, hlc, version FROM events WHERE entity = ? AND "
    "version = base_version + 1 ORDER BY pos DESC LIMIT 1";
static const char sql_event_at[] =
    "SELECT origin, seq FROM events WHERE entity = ? AND version = ?";

/* Conflicts that may be open in this process: see conflict.h. */
static _Atomic int64_t open_hint;

/* One row. */
struct conflict {
    char id[SYNC_CONFLICT_ID_MAX];
    int64_t pos;
    char entity[EVLOG_ENTITY_MAX];
    char unit[UNIT_CODE_MAX];
    char status[STATUS_MAX];
    int64_t detected_ms;
    char *held_record; /* NULL: nothing held */
    int64_t held_version;
    char held_origin[EVLOG_ORIGIN_MAX]; /* "": no event in force */
    int64_t held_seq;
    char held_actor[EVLOG_ACTOR_MAX];
    int64_t held_hlc;
    char in_origin[EVLOG_ORIGIN_MAX];
    int64_t in_seq, in_last_seq, in_events, in_base;
    char in_actor[EVLOG_ACTOR_MAX];
    char in_type[EVLOG_TYPE_MAX];
    int64_t in_hlc;
    char *in_record;
    int64_t resolved_ms;
    char res_origin[EVLOG_ORIGIN_MAX];
    int64_t res_seq;
    char res_actor[EVLOG_ACTOR_MAX];
    char res_choice[CHOICE_MAX];
};

static void conflict_release(struct conflict *cf)
{
    free(cf->held_record);
    free(cf->in_record);
    cf->held_record = cf->in_record = NULL;
}

static void copy_col(struct store_stmt *st, int i, char *out, size_t cap)
{
    snprintf(out, cap, "%s", store_col_text(st, i));
}

static void row_conflict(struct store_stmt *st, struct conflict *cf)
{
    memset(cf, 0, sizeof(*cf));
    copy_col(st, 0, cf->id, sizeof(cf->id));
    cf->pos = store_col_int(st, 1);
    copy_col(st, 2, cf->entity, sizeof(cf->entity));
    copy_col(st, 3, cf->unit, sizeof(cf->unit));
    copy_col(st, 4, cf->status, sizeof(cf->status));
    cf->detected_ms = store_col_int(st, 5);
    cf->held_record = store_col_null(st, 6) ? NULL : xstrdup(store_col_text(st, 6));
    cf->held_version = store_col_int(st, 7);
    copy_col(st, 8, cf->held_origin, sizeof(cf->held_origin));
    cf->held_seq = store_col_int(st, 9);
    copy_col(st, 10, cf->held_actor, sizeof(cf->held_actor));
    cf->held_hlc = store_col_int(st, 11);
    copy_col(st, 12, cf->in_origin, sizeof(cf->in_origin));
    cf->in_seq = store_col_int(st, 13);
    cf->in_last_seq = store_col_int(st, 14);
    cf->in_events = store_col_int(st, 15);
    cf->in_base = store_col_int(st, 16);
    copy_col(st, 17, cf->in_actor, sizeof(cf->in_actor));
    copy_col(st, 18, cf->in_type, sizeof(cf->in_type));
    cf->in_hlc = store_col_int(st, 19);
    cf->in_record = xstrdup(store_col_text(st, 20));
    cf->resolved_ms = store_col_int(st, 21);
    copy_col(st, 22, cf->res_origin, sizeof(cf->res_origin));
    cf->res_seq = store_col_int(st, 23);
    copy_col(st, 24, cf->res_actor, sizeof(cf->res_actor));
    copy_col(st, 25, cf->res_choice, sizeof(cf->res_choice));
}

static enum lt_code step_error(struct lt_error *err)
{
    return err != NULL && err->code != LT_OK ? err->code : LT_EIO;
}

static enum lt_code conflict_read(struct store_conn *c, const char *id, struct conflict *cf,
                                  bool *found, struct lt_error *err)
{
    struct store_stmt *st;
    enum store_step r;
    enum lt_code rc = store_prepare(c, sql_get, &st, err);

    *found = false;
    if (rc != LT_OK) {
        return rc;
    }
    store_bind_text(st, 1, id);
    r = store_step(st, err);
    if (r == STORE_ERROR) {
        return step_error(err);
    }
    if (r == STORE_ROW) {
        row_conflict(st, cf);
        *found = true;
    }
    return LT_OK;
}

static int64_t wall_ms(void)
{
    struct timespec ts;

    clock_gettime(CLOCK_REALTIME, &ts);
    return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* Opening and joining. */

/* The side this node holds: the projection's record and the event in force. */
struct held {
    struct buf text;
    bool has_record;
    int64_t version;
    char unit[UNIT_CODE_MAX];
    char origin[EVLOG_ORIGIN_MAX];
    int64_t seq, hlc;
    char actor[EVLOG_ACTOR_MAX];
};

static enum lt_code read_held(struct store_conn *c, enum registry_kind kind, const char *key,
                              const char *entity, struct held *h, struct lt_error *err)
{
    struct store_stmt *st;
    enum store_step r;
    int64_t row_version = 0;
    enum lt_code rc;

    rc = registry_get_text_unit_in(c, kind, key, &h->text, &row_version, h->unit, err);
    if (rc != LT_OK && rc != LT_ENOTFOUND) {
        return rc;
    }
    h->has_record = rc == LT_OK;
    lt_error_clear(err);
    rc = store_prepare(c, sql_held_event, &st, err);
    if (rc != LT_OK) {
        return rc;
    }
    store_bind_text(st, 1, entity);
    r = store_step(st, err);
    if (r == STORE_ERROR) {
        return step_error(err);
    }
    if (r == STORE_ROW) {
        copy_col(st, 0, h->origin, sizeof(h->origin));
        h->seq = store_col_int(st, 1);
        copy_col(st, 2, h->actor, sizeof(h->actor));
        h->hlc = store_col_int(st, 3);
        h->version = store_col_int(st, 4);
    }
    return LT_OK;
}

/*
 * Where the record lives, for jurisdiction: the unit of the record held
 * (for people and benefits, of the person's residence), else the incoming
 * record's, else the unit of the node the change came from.
 */
static enum lt_code conflict_unit(struct store_conn *c, const struct event *ev,
                                  const struct held *h, char out[UNIT_CODE_MAX],
                                  struct lt_error *err)
{
    json_t *body;
    const char *unit;
    struct sync_known k;
    bool found = false;
    enum lt_code rc;

    out[0] = '\0';
    if (h->has_record && h->unit[0] != '\0') {
        snprintf(out, UNIT_CODE_MAX, "%s", h->unit);
        return LT_OK;
    }
    body = json_loads(ev->body != NULL ? ev->body : "", 0, NULL);
    if (body == NULL) {
        return lt_error_set(err, LT_EINVAL, "event (%s, %lld): the body is not JSON", ev->origin,
                            (long long)ev->seq);
    }
    unit = json_string_value(json_object_get(body, "unit"));
    if (unit != NULL && strlen(unit) < UNIT_CODE_MAX) {
        snprintf(out, UNIT_CODE_MAX, "%s", unit);
    }
    json_decref(body);
    if (out[0] != '\0') {
        return LT_OK;
    }
    rc = sync_known_get(c, ev->origin, &k, &found, err);
    if (rc == LT_OK && found) {
        snprintf(out, UNIT_CODE_MAX, "%s", k.unit);
    }
    return rc;
}

static enum lt_code open_conflict(struct store_conn *c, enum registry_kind kind, const char *key,
                                  const struct event *ev, struct lt_error *err)
{
    struct held h;
    struct store_stmt *st;
    char id[SYNC_CONFLICT_ID_MAX], unit[UNIT_CODE_MAX];
    enum lt_code rc;

    memset(&h, 0, sizeof(h));
    buf_init(&h.text, EVLOG_BODY_MAX + 8);
    rc = read_held(c, kind, key, ev->entity, &h, err);
    if (rc == LT_OK) {
        rc = conflict_unit(c, ev, &h, unit, err);
    }
    if (rc == LT_OK) {
        rc = store_prepare(c, sql_insert, &st, err);
    }
    if (rc != LT_OK) {
        buf_release(&h.text);
        return rc;
    }
    snprintf(id, sizeof(id), "%s:%lld", ev->origin, (long long)ev->seq);
    store_bind_text(st, 1, id);
    store_bind_int(st, 2, ev->pos);
    store_bind_text(st, 3, ev->entity);
    store_bind_text(st, 4, unit);
    store_bind_int(st, 5, wall_ms());
    if (h.has_record) {
        store_bind_textn(st, 6, h.text.data, h.text.len);
    } else {
        store_bind_null(st, 6);
    }
    store_bind_int(st, 7, h.version);
    store_bind_text(st, 8, h.origin);
    store_bind_int(st, 9, h.seq);
    store_bind_text(st, 10, h.actor);
    store_bind_int(st, 11, h.hlc);
    store_bind_text(st, 12, ev->origin);
    store_bind_int(st, 13, ev->seq);
    store_bind_int(st, 14, ev->seq);
    store_bind_int(st, 15, ev->base_version);
    store_bind_text(st, 16, ev->actor);
    store_bind_text(st, 17, ev->type);
    store_bind_int(st, 18, ev->hlc);
    store_bind_text(st, 19, ev->body != NULL ? ev->body : "");
    rc = store_exec_stmt(st, err);
    buf_release(&h.text);
    if (rc == LT_OK) {
        /* Raised before the commit: a read after it must look. */
        atomic_fetch_add(&open_hint, 1);
    }
    return rc;
}

/* The open conflict of entity from origin, if any, into id. */
static enum lt_code find_open(struct store_conn *c, const char *entity, const char *origin,
                              char id[SYNC_CONFLICT_ID_MAX], bool *found, struct lt_error *err)
{
    struct store_stmt *st;
    enum store_step r;
    enum lt_code rc = store_prepare(c, sql_find_open, &st, err);

    *found = false;
    if (rc != LT_OK) {
        return rc;
    }
    store_bind_text(st, 1, entity);
    store_bind_text(st, 2, origin);
    r = store_step(st, err);
    if (r == STORE_ERROR) {
        return step_error(err);
    }
    if (r == STORE_ROW) {
        copy_col(st, 0, id, SYNC_CONFLICT_ID_MAX);
        *found = true;
    }
    return LT_OK;
}

static enum lt_code set_aside(struct store_conn *c, enum registry_kind kind, const char *key,
                              const struct event *ev, struct sync_conflict_tally *t,
                              struct lt_error *err)
{
    struct store_stmt *st;
    char id[SYNC_CONFLICT_ID_MAX];
    bool found = false;
    enum lt_code rc = find_open(c, ev->entity, ev->origin, id, &found, err);

    if (rc != LT_OK) {
        return rc;
    }
    if (!found) {
        rc = open_conflict(c, kind, key, ev, err);
        if (rc == LT_OK && t != NULL) {
            t->opened++;
        }
        return rc;
    }
    rc = store_prepare(c, sql_join, &st, err);
    if (rc != LT_OK) {
        return rc;
    }
    store_bind_int(st, 1, ev->seq);
    store_bind_text(st, 2, ev->actor);
    store_bind_text(st, 3, ev->type);
    store_bind_int(st, 4, ev->hlc);
    store_bind_text(st, 5, ev->body != NULL ? ev->body : "");
    store_bind_text(st, 6, id);
    rc = store_exec_stmt(st, err);
    if (rc == LT_OK && t != NULL) {
        t->joined++;
    }
    return rc;
}

/* Closing. */

/* Close conflict id of entity (if open) by the event (origin, seq); *closed tells. */
static enum lt_code close_conflict(struct store_conn *c, const char *id, const char *entity,
                                   const char *origin, int64_t seq, const char *actor,
                                   const char *choice, bool *closed, struct lt_error *err)
{
    struct store_stmt *st;
    enum lt_code rc = store_prepare(c, sql_close, &st, err);

    *closed = false;
    if (rc != LT_OK) {
        return rc;
    }
    store_bind_int(st, 1, wall_ms());
    store_bind_text(st, 2, origin);
    store_bind_int(st, 3, seq);
    store_bind_text(st, 4, actor);
    store_bind_text(st, 5, choice);
    store_bind_text(st, 6, id);
    store_bind_text(st, 7, entity);
    rc = store_exec_stmt(st, err);
    *closed = rc == LT_OK && store_changes(c) > 0;
    return rc;
}

/*
 * Is ev a resolution?  Its type ends in ".conflict_resolved" and its cause
 * is "conflict:<id>:<choice>": the id and the choice into id, choice.
 */
static bool resolution_of(const struct event *ev, char id[SYNC_CONFLICT_ID_MAX],
                          char choice[CHOICE_MAX])
{
    size_t tl = strlen(ev->type), vl = strlen(SYNC_CONFLICT_VERB);
    size_t pl = strlen(SYNC_CONFLICT_CAUSE);
    const char *rest, *last;

    if (tl <= vl + 1 || ev->type[tl - vl - 1] != '.' ||
        strcmp(ev->type + tl - vl, SYNC_CONFLICT_VERB) != 0 ||
        strncmp(ev->cause, SYNC_CONFLICT_CAUSE, pl) != 0) {
        return false;
    }
    rest = ev->cause + pl;
    last = strrchr(rest, ':');
    if (last == NULL || last == rest || (size_t)(last - rest) >= SYNC_CONFLICT_ID_MAX ||
        strlen(last + 1) >= CHOICE_MAX) {
        return false;
    }
    snprintf(id, SYNC_CONFLICT_ID_MAX, "%.*s", (int)(last - rest), rest);
    snprintf(choice, CHOICE_MAX, "%s", last + 1);
    return true;
}

enum lt_code sync_conflict_note(struct store_conn *c, const struct event *ev,
                                struct sync_conflict_tally *t, struct lt_error *err)
{
    enum registry_kind kind;
    char key[KEY_MAX], id[SYNC_CONFLICT_ID_MAX], choice[CHOICE_MAX];
    bool closed = false;
    enum lt_code rc;

    if (!registry_entity_parse(ev->entity, &kind, key, sizeof(key))) {
        /* XXX: a stale event about a dossier is kept in the log but not put in the inbox:
         * parents do not project dossiers yet. */
        return LT_OK;
    }
    if (event_set_aside(ev)) {
        return set_aside(c, kind, key, ev, t, err);
    }
    if (!resolution_of(ev, id, choice)) {
        return LT_OK;
    }
    rc = close_conflict(c, id, ev->entity, ev->origin, ev->seq, ev->actor, choice, &closed, err);
    if (rc == LT_OK && closed && t != NULL) {
        t->closed++;
    }
    return rc;
}

void sync_conflict_settled(size_t n)
{
    if (n > 0) {
        atomic_fetch_sub(&open_hint, (int64_t)n);
    }
}

int64_t sync_conflict_open_count(void)
{
    int64_t n = atomic_load(&open_hint);

    return n > 0 ? n : 0;
}

enum lt_code sync_conflict_count_open(struct store_conn *c, int64_t *n, struct lt_error *err)
{
    struct store_stmt *st;
    enum lt_code rc = store_prepare(c, sql_count_open, &st, err);

    if (rc != LT_OK) {
        return rc;
    }
    if (store_step(st, err) != STORE_ROW) {
        return step_error(err);
    }
    *n = store_col_int(st, 0);
    return LT_OK;
}

static enum lt_code count_fn(struct store_conn *c, void *arg, struct lt_error *err)
{
    return sync_conflict_count_open(c, arg, err);
}

enum lt_code sync_conflict_load(struct store *s, struct lt_error *err)
{
    int64_t n = 0;
    enum lt_code rc = store_read(s, count_fn, &n, err);

    if (rc == LT_OK) {
        atomic_fetch_add(&open_hint, n);
    }
    return rc;
}

enum lt_code sync_conflict_marks(struct store *s, const char *entity, json_t **ids,
                                 struct lt_error *err)
{
    struct store_conn *c;
    struct store_stmt *st;
    enum store_step r;
    enum lt_code rc;

    *ids = NULL;
    if (atomic_load(&open_hint) <= 0) {
        return LT_OK;
    }
    c = store_reader_get(s);
    rc = store_prepare(c, sql_marks, &st, err);
    if (rc == LT_OK) {
        store_bind_text(st, 1, entity);
        while ((r = store_step(st, err)) == STORE_ROW) {
            if (*ids == NULL) {
                *ids = json_array();
            }
            json_array_append_new(*ids, json_string(store_col_text(st, 0)));
        }
        rc = r == STORE_ERROR ? step_error(err) : LT_OK;
    }
    store_reader_put(s, c);
    if (rc != LT_OK) {
        json_decref(*ids);
        *ids = NULL;
    }
    return rc;
}

/* Reports. */

static json_t *time_json(int64_t ms)
{
    time_t t = (time_t)(ms / 1000);
    struct tm tm;
    char out[80];

    if (ms <= 0 || gmtime_r(&t, &tm) == NULL) {
        return json_null();
    }
    snprintf(out, sizeof(out), "%04d-%02d-%02dT%02d:%02d:%02d.%03dZ", tm.tm_year + 1900,
             tm.tm_mon + 1, tm.tm_mday, tm.tm_hour, tm.tm_min, tm.tm_sec, (int)(ms % 1000));
    return json_string(out);
}

/* A stored record as JSON (new reference), or null. */
static json_t *record_json(const char *text)
{
    json_t *j = text != NULL ? json_loads(text, 0, NULL) : NULL;

    return j != NULL ? j : json_null();
}

static json_t *conflict_json(const struct conflict *cf, bool full)
{
    enum registry_kind kind = REG_PERSON;
    char key[KEY_MAX] = "";
    json_t *held = json_null(), *in, *res = json_null(), *j;

    registry_entity_parse(cf->entity, &kind, key, sizeof(key));
    if (cf->held_origin[0] != '\0') {
        held =
            json_pack("{s:s, s:I, s:s, s:I, s:o}", "origin", cf->held_origin, "seq",
                      (json_int_t)cf->held_seq, "actor", cf->held_actor, "version",
                      (json_int_t)cf->held_version, "time", time_json(evlog_hlc_ms(cf->held_hlc)));
        if (full) {
            json_object_set_new(held, "record", record_json(cf->held_record));
        }
    }
    in = json_pack("{s:s, s:I, s:I, s:I, s:I, s:s, s:s, s:o}", "origin", cf->in_origin, "seq",
                   (json_int_t)cf->in_seq, "last_seq", (json_int_t)cf->in_last_seq, "events",
                   (json_int_t)cf->in_events, "base_version", (json_int_t)cf->in_base, "actor",
                   cf->in_actor, "type", cf->in_type, "time", time_json(evlog_hlc_ms(cf->in_hlc)));
    if (full) {
        json_object_set_new(in, "record", record_json(cf->in_record));
    }
    if (strcmp(cf->status, "open") != 0) {
        res = json_pack("{s:s, s:I, s:s, s:s, s:o}", "origin", cf->res_origin, "seq",
                        (json_int_t)cf->res_seq, "actor", cf->res_actor, "choice", cf->res_choice,
                        "at", time_json(cf->resolved_ms));
    }
    j = json_pack("{s:s, s:s, s:s, s:s, s:s, s:s, s:o, s:o, s:o, s:o}", "id", cf->id, "entity",
                  cf->entity, "kind", registry_kind_name(kind), "key", key, "unit", cf->unit,
                  "status", cf->status, "detected_at", time_json(cf->detected_ms), "held", held,
                  "incoming", in, "resolution", res);
    return j;
}

/* Does the conflict's record lie within unit (NULL: no limit)? */
static bool conflict_within(const struct units *u, const struct evlog *log,
                            const struct conflict *cf, const char *within)
{
    if (within == NULL) {
        return true;
    }
    return units_code_within(u, cf->unit[0] != '\0' ? cf->unit : evlog_unit(log), within);
}

struct list_ctx {
    struct node *n;
    const struct sync_conflict_query *q;
    json_t *items;
    int64_t last;   /* pos of the last row read */
    size_t scanned; /* rows read */
    bool more;      /* the page may not be the last */
};

static enum lt_code list_fn(struct store_conn *c, void *arg, struct lt_error *err)
{
    struct list_ctx *x = arg;
    const char *status = x->q->status != NULL ? x->q->status : "open";
    bool all = strcmp(status, "all") == 0;
    struct store_stmt *st;
    struct conflict cf;
    enum store_step r;
    enum lt_code rc = store_prepare(c, all ? sql_list_all : sql_list_status, &st, err);

    if (rc != LT_OK) {
        return rc;
    }
    if (all) {
        store_bind_int(st, 1, x->q->after);
        store_bind_int(st, 2, SCAN_MAX);
    } else {
        store_bind_text(st, 1, status);
        store_bind_int(st, 2, x->q->after);
        store_bind_int(st, 3, SCAN_MAX);
    }
    while ((r = store_step(st, err)) == STORE_ROW) {
        row_conflict(st, &cf);
        x->scanned++;
        x->last = cf.pos;
        if (conflict_within(node_units(x->n), node_evlog(x->n), &cf, x->q->within)) {
            json_array_append_new(x->items, conflict_json(&cf, false));
        }
        conflict_release(&cf);
        if (json_array_size(x->items) == (size_t)x->q->limit) {
            x->more = true;
            break;
        }
    }
    if (r == STORE_ERROR) {
        return step_error(err);
    }
    if (x->scanned == SCAN_MAX) {
        x->more = true;
    }
    return LT_OK;
}

enum lt_code sync_conflict_list(struct node *n, const struct sync_conflict_query *q, json_t **page,
                                struct lt_error *err)
{
    struct list_ctx x = { .n = n, .q = q };
    const char *status = q->status != NULL ? q->status : "open";
    enum lt_code rc;

    *page = NULL;
    if (strcmp(status, "open") != 0 && strcmp(status, "resolved") != 0 &&
        strcmp(status, "all") != 0) {
        lt_error_set(err, LT_EINVAL, "unknown conflict status \"%.40s\"", status);
        lt_error_hint(err, "use status=open, resolved or all");
        lt_error_field(err, "status");
        return LT_EINVAL;
    }
    if (q->limit < 1 || q->limit > SYNC_CONFLICT_LIST_MAX || q->after < 0) {
        lt_error_set(err, LT_EINVAL, "a page holds 1 to %d conflicts after a cursor of 0 or more",
                     SYNC_CONFLICT_LIST_MAX);
        lt_error_field(err, q->after < 0 ? "after" : "limit");
        return LT_EINVAL;
    }
    x.items = json_array();
    rc = store_read(node_store(n), list_fn, &x, err);
    if (rc != LT_OK) {
        json_decref(x.items);
        return rc;
    }
    *page = json_pack("{s:o, s:o}", "conflicts", x.items, "next",
                      x.more ? json_integer(x.last) : json_null());
    return LT_OK;
}

struct get_ctx {
    struct node *n;
    const char *id;
    const char *within;
    json_t *out;
};

static enum lt_code not_found(const char *id, struct lt_error *err)
{
    lt_error_set(err, LT_ENOTFOUND, "no conflict \"%.80s\"", id);
    lt_error_hint(err, "GET /api/v1/conflicts lists them; an id is \"<origin>:<seq>\"");
    return LT_ENOTFOUND;
}

static enum lt_code outside(const struct conflict *cf, const char *within, struct lt_error *err)
{
    lt_error_set(err, LT_EFORBIDDEN, "conflict \"%s\" is outside your jurisdiction", cf->id);
    lt_error_detail(err, "its record is in unit %s; your account covers %s",
                    cf->unit[0] ? cf->unit : "(none)", within);
    return LT_EFORBIDDEN;
}

/* The record as it is now: {version, record|null}. */
static enum lt_code current_json(struct store_conn *c, const struct conflict *cf, json_t **out,
                                 struct lt_error *err)
{
    enum registry_kind kind;
    char key[KEY_MAX];
    json_t *rec = NULL;
    int64_t version = 0;
    enum lt_code rc = evlog_entity_version(c, cf->entity, &version, err);

    if (rc != LT_OK) {
        return rc;
    }
    if (!registry_entity_parse(cf->entity, &kind, key, sizeof(key))) {
        return lt_error_set(err, LT_EINTERNAL, "conflict \"%s\" is about \"%s\", not a record",
                            cf->id, cf->entity);
    }
    rc = registry_get_in(c, kind, key, &rec, NULL, err);
    if (rc == LT_ENOTFOUND) {
        lt_error_clear(err);
        rc = LT_OK;
    }
    if (rc != LT_OK) {
        return rc;
    }
    *out = json_pack("{s:I, s:o}", "version", (json_int_t)version, "record",
                     rec != NULL ? rec : json_null());
    return LT_OK;
}

static enum lt_code get_fn(struct store_conn *c, void *arg, struct lt_error *err)
{
    struct get_ctx *x = arg;
    struct conflict cf;
    json_t *cur = NULL;
    bool found = false;
    enum lt_code rc = conflict_read(c, x->id, &cf, &found, err);

    if (rc != LT_OK) {
        return rc;
    }
    if (!found) {
        return not_found(x->id, err);
    }
    if (!conflict_within(node_units(x->n), node_evlog(x->n), &cf, x->within)) {
        rc = outside(&cf, x->within, err);
    } else {
        rc = current_json(c, &cf, &cur, err);
    }
    if (rc == LT_OK) {
        x->out = conflict_json(&cf, true);
        json_object_set_new(x->out, "current", cur);
    }
    conflict_release(&cf);
    return rc;
}

enum lt_code sync_conflict_get(struct node *n, const char *id, const char *within, json_t **out,
                               struct lt_error *err)
{
    struct get_ctx x = { n, id, within, NULL };
    enum lt_code rc = store_read(node_store(n), get_fn, &x, err);

    *out = rc == LT_OK ? x.out : NULL;
    if (rc != LT_OK) {
        json_decref(x.out);
    }
    return rc;
}

/* Resolving. */

struct resolve_ctx {
    struct node *n;
    const struct sync_resolution *r;
};

static bool valid_choice(const char *choice)
{
    return choice != NULL && (strcmp(choice, "held") == 0 || strcmp(choice, "incoming") == 0 ||
                              strcmp(choice, "merged") == 0);
}

/* The record chosen, as a new reference. */
static enum lt_code chosen_record(struct store_conn *c, const struct resolve_ctx *x,
                                  const struct conflict *cf, enum registry_kind kind,
                                  const char *key, json_t **rec, struct lt_error *err)
{
    const char *choice = x->r->choice;
    enum lt_code rc;

    *rec = NULL;
    if (strcmp(choice, "merged") == 0) {
        *rec = json_incref((json_t *)x->r->record);
        return LT_OK;
    }
    if (strcmp(choice, "incoming") == 0) {
        *rec = json_loads(cf->in_record, 0, NULL);
        if (*rec == NULL) {
            return lt_error_set(err, LT_EINTERNAL, "the incoming record of \"%s\" is not JSON",
                                cf->id);
        }
        return LT_OK;
    }
    rc = registry_get_in(c, kind, key, rec, NULL, err);
    if (rc == LT_ENOTFOUND) {
        lt_error_set(err, LT_ECONFLICT, "this node holds no %s \"%s\" to keep",
                     registry_kind_name(kind), key);
        lt_error_hint(err, "choose \"incoming\", or send a \"merged\" record");
        return LT_ECONFLICT;
    }
    return rc;
}

/* The record must be the conflict's, and its unit inside the node's and the officer's. */
static enum lt_code check_chosen(const struct resolve_ctx *x, enum registry_kind kind,
                                 const char *key, const json_t *rec, json_t **canon,
                                 struct lt_error *err)
{
    const struct units *u = node_units(x->n);
    const char *node_unit = evlog_unit(node_evlog(x->n));
    char got[KEY_MAX];
    const char *unit;
    enum lt_code rc = registry_validate(u, kind, rec, DATE_MIN, canon, err);

    if (rc == LT_OK) {
        rc = registry_record_key(kind, *canon, got, sizeof(got), err);
    }
    if (rc != LT_OK) {
        return rc;
    }
    if (strcmp(got, key) != 0) {
        lt_error_set(err, LT_EINVAL, "the merged record is not the one in conflict");
        lt_error_detail(err, "its key is \"%s\", the conflict's \"%s\"", got, key);
        lt_error_field(err, "record");
        return LT_EINVAL;
    }
    unit = json_string_value(json_object_get(*canon, "unit"));
    if (unit != NULL && !units_code_within(u, unit, node_unit)) {
        lt_error_set(err, LT_EINVAL, "the record's unit %s is outside this node's unit %s", unit,
                     node_unit);
        lt_error_detail(err, "this node may only write records of its own unit; its parent "
                             "would refuse the change");
        lt_error_field(err, "record");
        return LT_EINVAL;
    }
    if (unit != NULL && x->r->within != NULL && !units_code_within(u, unit, x->r->within)) {
        lt_error_set(err, LT_EFORBIDDEN, "the record's unit %s is outside your jurisdiction", unit);
        lt_error_detail(err, "your account covers %s", x->r->within);
        return LT_EFORBIDDEN;
    }
    return LT_OK;
}

/* The (origin, seq) of the event that gave entity its version. */
static enum lt_code event_at(struct store_conn *c, const char *entity, int64_t version,
                             char origin[EVLOG_ORIGIN_MAX], int64_t *seq, struct lt_error *err)
{
    struct store_stmt *st;
    enum store_step r;
    enum lt_code rc = store_prepare(c, sql_event_at, &st, err);

    if (rc != LT_OK) {
        return rc;
    }
    store_bind_text(st, 1, entity);
    store_bind_int(st, 2, version);
    r = store_step(st, err);
    if (r == STORE_ERROR) {
        return step_error(err);
    }
    if (r == STORE_DONE) {
        return lt_error_set(err, LT_EINTERNAL, "no event gave %s version %lld", entity,
                            (long long)version);
    }
    copy_col(st, 0, origin, EVLOG_ORIGIN_MAX);
    *seq = store_col_int(st, 1);
    return LT_OK;
}

/* Write the chosen record as the resolution and close the conflict. */
static enum lt_code write_resolution(struct store_conn *c, const struct resolve_ctx *x,
                                     const struct conflict *cf, enum registry_kind kind,
                                     int64_t current, const json_t *canon, struct lt_error *err)
{
    char cause[EVLOG_CAUSE_MAX], type[EVLOG_TYPE_MAX], origin[EVLOG_ORIGIN_MAX];
    struct registry_change ch = { 0 };
    int64_t version = 0, seq = 0;
    bool closed = false;
    enum lt_code rc;

    snprintf(cause, sizeof(cause), "%s%s:%s", SYNC_CONFLICT_CAUSE, cf->id, x->r->choice);
    snprintf(type, sizeof(type), "%s.%s", registry_kind_name(kind), SYNC_CONFLICT_VERB);
    ch.kind = kind;
    ch.record = (json_t *)canon;
    ch.base_version = current;
    ch.actor = x->r->actor;
    ch.cause = cause;
    ch.effective = DATE_MIN;
    ch.event_type = type;
    rc = registry_write_in(x->n, c, &ch, &version, err);
    if (rc == LT_OK) {
        rc = event_at(c, cf->entity, version, origin, &seq, err);
    }
    if (rc == LT_OK) {
        rc = close_conflict(c, cf->id, cf->entity, origin, seq, x->r->actor, x->r->choice, &closed,
                            err);
    }
    if (rc == LT_OK && !closed) {
        rc = lt_error_set(err, LT_EINTERNAL, "conflict \"%s\" did not close", cf->id);
    }
    return rc;
}

static enum lt_code resolve_fn(struct store_conn *c, void *arg, struct lt_error *err)
{
    struct resolve_ctx *x = arg;
    struct conflict cf;
    enum registry_kind kind = REG_PERSON;
    char key[KEY_MAX] = "";
    json_t *rec = NULL, *canon = NULL;
    int64_t current = 0;
    bool found = false;
    enum lt_code rc = conflict_read(c, x->r->id, &cf, &found, err);

    if (rc != LT_OK) {
        return rc;
    }
    if (!found) {
        return not_found(x->r->id, err);
    }
    if (!conflict_within(node_units(x->n), node_evlog(x->n), &cf, x->r->within)) {
        rc = outside(&cf, x->r->within, err);
    } else if (strcmp(cf.status, "open") != 0) {
        rc = lt_error_set(err, LT_ECONFLICT, "conflict \"%s\" is resolved already", cf.id);
        lt_error_detail(err, "by %s (%s), event (%s, %lld)", cf.res_actor, cf.res_choice,
                        cf.res_origin, (long long)cf.res_seq);
    } else if (!registry_entity_parse(cf.entity, &kind, key, sizeof(key))) {
        rc = lt_error_set(err, LT_EINTERNAL, "conflict \"%s\" is about \"%s\", not a record", cf.id,
                          cf.entity);
    } else {
        rc = evlog_entity_version(c, cf.entity, &current, err);
    }
    if (rc == LT_OK && current != x->r->version) {
        rc = lt_error_set(err, LT_ECONFLICT, "%s changed since version %lld", cf.entity,
                          (long long)x->r->version);
        lt_error_detail(err, "current version %lld", (long long)current);
        lt_error_hint(err, "read the conflict again (its \"current\") and decide on that");
        lt_error_field(err, "version");
    }
    if (rc == LT_OK) {
        rc = chosen_record(c, x, &cf, kind, key, &rec, err);
    }
    if (rc == LT_OK) {
        rc = check_chosen(x, kind, key, rec, &canon, err);
    }
    if (rc == LT_OK) {
        rc = write_resolution(c, x, &cf, kind, current, canon, err);
    }
    json_decref(rec);
    json_decref(canon);
    conflict_release(&cf);
    return rc;
}

enum lt_code sync_conflict_resolve(struct node *n, const struct sync_resolution *r, json_t **out,
                                   struct lt_error *err)
{
    struct resolve_ctx x = { n, r };
    enum lt_code rc;

    *out = NULL;
    if (!valid_choice(r->choice)) {
        lt_error_set(err, LT_EINVAL, "unknown choice \"%.40s\"", r->choice ? r->choice : "");
        lt_error_hint(err, "choose \"held\", \"incoming\" or \"merged\" (with a record)");
        lt_error_field(err, "choice");
        return LT_EINVAL;
    }
    if ((strcmp(r->choice, "merged") == 0) != (r->record != NULL)) {
        lt_error_set(err, LT_EINVAL, "a record goes with the choice \"merged\", and only with it");
        lt_error_field(err, "record");
        return LT_EINVAL;
    }
    rc = store_write(node_store(n), resolve_fn, &x, err);
    if (rc != LT_OK) {
        return rc;
    }
    sync_conflict_settled(1);
    return sync_conflict_get(n, r->id, NULL, out, err);
}
