/*
 * evlog.c - appending, applying, reading and verifying the event log.
 *
 * Design note.  Tables are those of migration step 1 (store/migrations.c):
 * events, entity_versions, origin_heads and node.  An append is three
 * writes: the entity's version (an INSERT for a new entity, an UPDATE
 * guarded by the base version otherwise, so the check and the bump are one
 * statement), the event row, and (once per write callback) the origin head.  Every check that can
 * refuse the event runs before the first write; a failure after it (only
 * an I/O error can do that) poisons the callback's savepoint, so "nothing
 * written" holds without a savepoint per event.
 *
 * The next position and this node's last (seq, hash) are read once per
 * write callback and then kept in struct evlog, keyed by the connection's
 * transaction mark (store_txn_mark), which the store changes for every
 * callback: a rolled-back append can never leave a stale head behind.
 * This node's row of origin_heads is written once per callback, by a
 * store_on_success hook, not once per event.  One evlog per store is the
 * rule that makes this cache the only writer of the local head.
 *
 * The clock is a hybrid logical clock: (ms << 16) + counter, never going
 * backwards even if the wall clock does, resumed from the log on open and
 * moved past every remote event applied.
 */
#include "evlog/evlog.h"

#include <jansson.h>
#include <pthread.h>
#include <sodium.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "core/buf.h"
#include "core/date.h"
#include "core/strmap.h"
#include "core/utf8.h"
#include "core/banned.h"

#define UNIT_MAX 16

#define EVENT_COLS                                                                                 \
    "pos, origin, seq, hlc, actor, type, entity, base_version, version, effective, cause, "        \
    "body, prev_hash, hash, sig"

static const char sql_insert_event[] =
    "INSERT INTO events (pos, origin, seq, hlc, actor, type, entity, base_version, version, "
    "effective, cause, body, prev_hash, hash, sig) "
    "VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)";
static const char sql_version_insert[] =
    "INSERT INTO entity_versions (entity, version, pos) VALUES (?, ?, ?)";
static const char sql_version_bump[] =
    "UPDATE entity_versions SET version = ?, pos = ? WHERE entity = ? AND version = ?";
static const char sql_version_set[] =
    "UPDATE entity_versions SET version = ?, pos = ? WHERE entity = ?";
static const char sql_version_get[] = "SELECT version FROM entity_versions WHERE entity = ?";
static const char sql_head_get[] = "SELECT seq, hash FROM origin_heads WHERE origin = ?";
static const char sql_head_insert[] =
    "INSERT INTO origin_heads (origin, seq, hash, hlc, pos) VALUES (?, ?, ?, ?, ?)";
static const char sql_head_update[] =
    "UPDATE origin_heads SET seq = ?, hash = ?, hlc = ?, pos = ? WHERE origin = ?";
static const char sql_log_head[] = "SELECT COALESCE(MAX(pos), 0) FROM events";
static const char sql_find[] = "SELECT hash FROM events WHERE origin = ? AND seq = ?";
static const char sql_scan[] =
    "SELECT " EVENT_COLS " FROM events WHERE pos > ? ORDER BY pos LIMIT ?";
static const char sql_history[] = "SELECT " EVENT_COLS " FROM events WHERE entity = ? ORDER BY pos";
static const char sql_as_of[] = "SELECT " EVENT_COLS " FROM events WHERE entity = ? AND "
                                "effective <= ? ORDER BY effective DESC, pos DESC LIMIT 1";
static const char sql_heads_all[] = "SELECT origin, seq, hash FROM origin_heads";
static const char sql_pulled_insert[] = "INSERT INTO pulled_events (pos, parent) VALUES (?, ?)";
static const char sql_pulled_after[] =
    "SELECT pos FROM pulled_events WHERE pos > ? ORDER BY pos LIMIT ?";

/*
 * The head of the log as this write callback sees it.  This node's origin
 * head is written back once, when the callback succeeds (flush_head).
 */
struct head_cache {
    const struct store_conn *conn;
    uint64_t mark; /* 0: nothing cached */
    int64_t pos;   /* last position in the log */
    int64_t seq;   /* this node's last seq, 0 before its first event */
    uint8_t hash[EVLOG_HASH_BYTES];
    int64_t hlc;     /* of that event */
    int64_t seq_pos; /* its position */
    bool row;        /* origin_heads has a row for this node */
    bool dirty;      /* seq moved since the row was written */
};

struct evlog {
    struct store *store;
    char origin[EVLOG_ORIGIN_MAX];
    char unit[UNIT_MAX];

    pthread_mutex_t clock_mu;
    int64_t hlc_last;
    int64_t (*now_ms)(void *arg);
    void *now_arg;

    struct head_cache head; /* writer thread only */
};

static int64_t wall_ms(void *arg)
{
    struct timespec ts;

    (void)arg;
    clock_gettime(CLOCK_REALTIME, &ts);
    return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static int64_t hlc_tick(struct evlog *log)
{
    int64_t now, v;

    pthread_mutex_lock(&log->clock_mu);
    now = log->now_ms(log->now_arg) << 16;
    log->hlc_last = now > log->hlc_last ? now : log->hlc_last + 1;
    v = log->hlc_last;
    pthread_mutex_unlock(&log->clock_mu);
    return v;
}

/* XXX: a peer whose clock runs far ahead drags ours along; sync should bound the skew. */
static void hlc_observe(struct evlog *log, int64_t hlc)
{
    pthread_mutex_lock(&log->clock_mu);
    if (hlc > log->hlc_last) {
        log->hlc_last = hlc;
    }
    pthread_mutex_unlock(&log->clock_mu);
}

static void put_len(crypto_generichash_state *h, uint32_t len)
{
    uint8_t b[4] = { (uint8_t)(len >> 24), (uint8_t)(len >> 16), (uint8_t)(len >> 8),
                     (uint8_t)len };

    crypto_generichash_update(h, b, sizeof(b));
}

static void put_text(crypto_generichash_state *h, const char *s, size_t len)
{
    put_len(h, (uint32_t)len);
    crypto_generichash_update(h, (const unsigned char *)s, len);
}

static void put_field(crypto_generichash_state *h, const char *s, size_t cap)
{
    put_text(h, s, strnlen(s, cap));
}

static void put_int(crypto_generichash_state *h, int64_t v)
{
    uint64_t u = (uint64_t)v;
    uint8_t b[8];

    for (int i = 7; i >= 0; i--) {
        b[i] = (uint8_t)u;
        u >>= 8;
    }
    crypto_generichash_update(h, b, sizeof(b));
}

void event_hash(const struct event *ev, uint8_t out[EVLOG_HASH_BYTES])
{
    static const char tag[] = "lienthong.event.v1";
    crypto_generichash_state h;
    uint8_t link = ev->has_prev ? 1 : 0;

    crypto_generichash_init(&h, NULL, 0, EVLOG_HASH_BYTES);
    put_text(&h, tag, sizeof(tag) - 1);
    put_field(&h, ev->origin, sizeof(ev->origin));
    put_int(&h, ev->seq);
    put_int(&h, ev->hlc);
    put_field(&h, ev->actor, sizeof(ev->actor));
    put_field(&h, ev->type, sizeof(ev->type));
    put_field(&h, ev->entity, sizeof(ev->entity));
    put_int(&h, ev->base_version);
    put_int(&h, ev->effective);
    put_field(&h, ev->cause, sizeof(ev->cause));
    put_text(&h, ev->body ? ev->body : "", ev->body ? strlen(ev->body) : 0);
    crypto_generichash_update(&h, &link, 1);
    if (ev->has_prev) {
        crypto_generichash_update(&h, ev->prev_hash, EVLOG_HASH_BYTES);
    }
    crypto_generichash_final(&h, out, EVLOG_HASH_BYTES);
}

void event_release(struct event *ev)
{
    if (ev == NULL) {
        return;
    }
    free(ev->body);
    ev->body = NULL;
}

/* Letters, digits, "-", "_" and "." only: origins and unit codes. */
static bool plain_name(const char *s, size_t cap)
{
    size_t n = strnlen(s, cap);

    if (n == 0 || n == cap) {
        return false;
    }
    for (size_t i = 0; i < n; i++) {
        char ch = s[i];

        if (!((ch >= 'a' && ch <= 'z') || (ch >= 'A' && ch <= 'Z') || (ch >= '0' && ch <= '9') ||
              ch == '-' || ch == '_' || ch == '.')) {
            return false;
        }
    }
    return true;
}

static enum lt_code check_text(const char *field, const char *s, size_t cap, bool required,
                               struct lt_error *err)
{
    size_t len = strnlen(s, cap);
    size_t bad = 0;

    if (len == cap) {
        lt_error_set(err, LT_EINVAL, "event %s is longer than %zu bytes", field, cap - 1);
    } else if (required && len == 0) {
        lt_error_set(err, LT_EINVAL, "event %s is empty", field);
    } else if (!utf8_valid_text(s, len, &bad)) {
        lt_error_set(err, LT_EINVAL, "event %s is not valid text", field);
        lt_error_detail(err, "bad byte at offset %zu", bad);
    } else {
        return LT_OK;
    }
    lt_error_field(err, field);
    return LT_EINVAL;
}

static enum lt_code check_body(const char *body, bool trusted, struct lt_error *err)
{
    json_error_t jerr;
    json_t *j;
    size_t len;

    if (body == NULL) {
        lt_error_set(err, LT_EINVAL, "event body is missing");
        lt_error_field(err, "body");
        return LT_EINVAL;
    }
    len = strlen(body);
    if (len > EVLOG_BODY_MAX) {
        lt_error_set(err, LT_ETOOBIG, "event body is %zu bytes, over the limit of %d", len,
                     EVLOG_BODY_MAX);
        lt_error_hint(err, "keep documents out of event bodies; store a reference instead");
        lt_error_field(err, "body");
        return LT_ETOOBIG;
    }
    if (trusted) {
        return LT_OK;
    }
    /* XXX: a full parse allocates a tree per event; a validating scanner would not. */
    j = json_loadb(body, len, JSON_DECODE_ANY | JSON_REJECT_DUPLICATES, &jerr);
    if (j == NULL) {
        lt_error_set(err, LT_EINVAL, "event body is not valid JSON: %s", jerr.text);
        lt_error_detail(err, "at line %d, column %d", jerr.line, jerr.column);
        lt_error_field(err, "body");
        return LT_EINVAL;
    }
    json_decref(j);
    return LT_OK;
}

/* The fields every event must have right, local or remote. */
static enum lt_code check_event(const struct event *ev, bool trusted_body, struct lt_error *err)
{
    int32_t first_day = date_from_civil(1900, 1, 1);
    int32_t last_day = date_from_civil(2199, 12, 31);
    enum lt_code rc;

    if ((rc = check_text("actor", ev->actor, sizeof(ev->actor), true, err)) != LT_OK ||
        (rc = check_text("type", ev->type, sizeof(ev->type), true, err)) != LT_OK ||
        (rc = check_text("entity", ev->entity, sizeof(ev->entity), true, err)) != LT_OK ||
        (rc = check_text("cause", ev->cause, sizeof(ev->cause), true, err)) != LT_OK) {
        return rc;
    }
    if (ev->base_version < 0) {
        lt_error_set(err, LT_EINVAL, "event base_version is negative (%lld)",
                     (long long)ev->base_version);
        lt_error_field(err, "base_version");
        return LT_EINVAL;
    }
    if (ev->effective < first_day || ev->effective > last_day) {
        lt_error_set(err, LT_EINVAL, "event effective date is outside 1900-01-01..2199-12-31");
        lt_error_detail(err, "day number %d", (int)ev->effective);
        lt_error_field(err, "effective");
        return LT_EINVAL;
    }
    return check_body(ev->body, trusted_body, err);
}

static enum lt_code require_write(const struct store_conn *c, const char *fn, struct lt_error *err)
{
    if (store_txn_mark(c) == 0) {
        return lt_error_set(err, LT_EINTERNAL, "%s called outside a store_write callback", fn);
    }
    return LT_OK;
}

/* A hash column into out (zero-filled); false if NULL. */
static bool col_hash(struct store_stmt *st, int i, uint8_t *out, size_t size)
{
    const void *p;
    size_t n;

    memset(out, 0, size);
    if (store_col_null(st, i)) {
        return false;
    }
    p = store_col_blob(st, i);
    n = store_col_bytes(st, i);
    if (p != NULL) {
        memcpy(out, p, n < size ? n : size);
    }
    return true;
}

/* Run a query whose answer is one integer; *found false if no row. */
static enum lt_code query_int(struct store_conn *c, const char *sql, const char *text, int64_t *v,
                              bool *found, struct lt_error *err)
{
    struct store_stmt *st;
    enum store_step r;
    enum lt_code rc = store_prepare(c, sql, &st, err);

    if (rc != LT_OK) {
        return rc;
    }
    if (text != NULL) {
        store_bind_text(st, 1, text);
    }
    r = store_step(st, err);
    if (r == STORE_ERROR) {
        return err != NULL ? err->code : LT_EIO;
    }
    *found = r == STORE_ROW;
    *v = *found ? store_col_int(st, 0) : 0;
    return LT_OK;
}

/* The last (seq, hash) of an origin in this log; seq 0 if none. */
static enum lt_code origin_head(struct store_conn *c, const char *origin, int64_t *seq,
                                uint8_t hash[EVLOG_HASH_BYTES], struct lt_error *err)
{
    struct store_stmt *st;
    enum store_step r;
    enum lt_code rc = store_prepare(c, sql_head_get, &st, err);

    if (rc != LT_OK) {
        return rc;
    }
    store_bind_text(st, 1, origin);
    r = store_step(st, err);
    if (r == STORE_ERROR) {
        return err != NULL ? err->code : LT_EIO;
    }
    *seq = 0;
    memset(hash, 0, EVLOG_HASH_BYTES);
    if (r == STORE_ROW) {
        *seq = store_col_int(st, 0);
        col_hash(st, 1, hash, EVLOG_HASH_BYTES);
    }
    return LT_OK;
}

/* Fill the head cache for this callback unless it is already current. */
static enum lt_code load_head(struct evlog *log, struct store_conn *c, struct lt_error *err)
{
    uint64_t mark = store_txn_mark(c);
    bool found;
    enum lt_code rc;

    if (log->head.mark == mark && log->head.conn == c) {
        return LT_OK;
    }
    log->head.mark = 0;
    log->head.dirty = false;
    rc = query_int(c, sql_log_head, NULL, &log->head.pos, &found, err);
    if (rc == LT_OK) {
        rc = origin_head(c, log->origin, &log->head.seq, log->head.hash, err);
    }
    if (rc == LT_OK) {
        log->head.row = log->head.seq > 0;
        log->head.conn = c;
        log->head.mark = mark;
    }
    return rc;
}

static enum lt_code write_head(struct store_conn *c, const char *origin, int64_t seq,
                               const uint8_t hash[EVLOG_HASH_BYTES], int64_t hlc, int64_t pos,
                               bool first, struct lt_error *err)
{
    struct store_stmt *st;
    enum lt_code rc = store_prepare(c, first ? sql_head_insert : sql_head_update, &st, err);

    if (rc != LT_OK) {
        return rc;
    }
    if (first) {
        store_bind_text(st, 1, origin);
        store_bind_int(st, 2, seq);
        store_bind_blob(st, 3, hash, EVLOG_HASH_BYTES);
        store_bind_int(st, 4, hlc);
        store_bind_int(st, 5, pos);
    } else {
        store_bind_int(st, 1, seq);
        store_bind_blob(st, 2, hash, EVLOG_HASH_BYTES);
        store_bind_int(st, 3, hlc);
        store_bind_int(st, 4, pos);
        store_bind_text(st, 5, origin);
    }
    return store_exec_stmt(st, err);
}

/* Success hook of a write callback: write this node's head once. */
static enum lt_code flush_head(struct store_conn *c, void *arg, struct lt_error *err)
{
    struct evlog *log = arg;
    struct head_cache *h = &log->head;
    enum lt_code rc;

    if (!h->dirty || h->mark != store_txn_mark(c) || h->conn != c) {
        return LT_OK;
    }
    rc = write_head(c, log->origin, h->seq, h->hash, h->hlc, h->seq_pos, !h->row, err);
    if (rc == LT_OK) {
        h->row = true;
        h->dirty = false;
    }
    return rc;
}

/* This node's chain moved to ev: remember it, write it when the callback succeeds. */
static enum lt_code advance_local(struct evlog *log, struct store_conn *c, const struct event *ev,
                                  struct lt_error *err)
{
    struct head_cache *h = &log->head;

    if (!h->dirty) {
        enum lt_code rc = store_on_success(c, flush_head, log, err);

        if (rc != LT_OK) {
            return rc;
        }
        h->dirty = true;
    }
    h->seq = ev->seq;
    h->hlc = ev->hlc;
    h->seq_pos = ev->pos;
    memcpy(h->hash, ev->hash, EVLOG_HASH_BYTES);
    return LT_OK;
}

static enum lt_code conflict(const struct event *ev, int64_t cur, int64_t *current,
                             struct lt_error *err)
{
    if (current != NULL) {
        *current = cur;
    }
    if (ev->base_version == 0) {
        lt_error_set(err, LT_ECONFLICT, "\"%s\" already exists", ev->entity);
    } else if (cur == 0) {
        lt_error_set(err, LT_ECONFLICT, "\"%s\" does not exist (yet)", ev->entity);
    } else {
        lt_error_set(err, LT_ECONFLICT, "\"%s\" changed since version %lld", ev->entity,
                     (long long)ev->base_version);
    }
    lt_error_detail(err, "its current version is %lld", (long long)cur);
    lt_error_hint(err, "read it again and reapply the change to version %lld", (long long)cur);
    return LT_ECONFLICT;
}

/* Bind a text field of an event in place: it outlives the statement's step. */
static void bind_field(struct store_stmt *st, int i, const char *s, size_t cap)
{
    store_bind_text_static(st, i, s, strnlen(s, cap));
}

/*
 * Check the base version and bump it in one statement; nothing is written
 * when it refuses.
 */
static enum lt_code bump_version(struct store_conn *c, const struct event *ev, int64_t pos,
                                 int64_t *current, struct lt_error *err)
{
    struct store_stmt *st;
    int64_t cur = 0;
    bool found;
    enum lt_code rc;

    if (ev->base_version == 0) {
        rc = store_prepare(c, sql_version_insert, &st, err);
        if (rc != LT_OK) {
            return rc;
        }
        bind_field(st, 1, ev->entity, sizeof(ev->entity));
        store_bind_int(st, 2, 1);
        store_bind_int(st, 3, pos);
        rc = store_exec_stmt(st, err);
        if (rc != LT_ECONFLICT) {
            return rc;
        }
    } else {
        rc = store_prepare(c, sql_version_bump, &st, err);
        if (rc != LT_OK) {
            return rc;
        }
        store_bind_int(st, 1, ev->base_version + 1);
        store_bind_int(st, 2, pos);
        store_bind_text(st, 3, ev->entity);
        store_bind_int(st, 4, ev->base_version);
        rc = store_exec_stmt(st, err);
        if (rc != LT_OK || store_changes(c) == 1) {
            return rc;
        }
    }
    rc = query_int(c, sql_version_get, ev->entity, &cur, &found, err);
    return rc != LT_OK ? rc : conflict(ev, cur, current, err);
}

/* Set an entity's version without a check (remote events). */
static enum lt_code set_version(struct store_conn *c, const char *entity, int64_t version,
                                int64_t pos, struct lt_error *err)
{
    struct store_stmt *st;
    enum lt_code rc;

    if (version == 1) {
        rc = store_prepare(c, sql_version_insert, &st, err);
        if (rc == LT_OK) {
            store_bind_text(st, 1, entity);
            store_bind_int(st, 2, version);
            store_bind_int(st, 3, pos);
        }
    } else {
        rc = store_prepare(c, sql_version_set, &st, err);
        if (rc == LT_OK) {
            store_bind_int(st, 1, version);
            store_bind_int(st, 2, pos);
            store_bind_text(st, 3, entity);
        }
    }
    return rc == LT_OK ? store_exec_stmt(st, err) : rc;
}

static enum lt_code insert_event(struct store_conn *c, const struct event *ev, struct lt_error *err)
{
    struct store_stmt *st;
    enum lt_code rc = store_prepare(c, sql_insert_event, &st, err);

    if (rc != LT_OK) {
        return rc;
    }
    store_bind_int(st, 1, ev->pos);
    bind_field(st, 2, ev->origin, sizeof(ev->origin));
    store_bind_int(st, 3, ev->seq);
    store_bind_int(st, 4, ev->hlc);
    bind_field(st, 5, ev->actor, sizeof(ev->actor));
    bind_field(st, 6, ev->type, sizeof(ev->type));
    bind_field(st, 7, ev->entity, sizeof(ev->entity));
    store_bind_int(st, 8, ev->base_version);
    store_bind_int(st, 9, ev->version);
    store_bind_int(st, 10, ev->effective);
    bind_field(st, 11, ev->cause, sizeof(ev->cause));
    store_bind_text_static(st, 12, ev->body, strlen(ev->body));
    if (ev->has_prev) {
        store_bind_blob_static(st, 13, ev->prev_hash, EVLOG_HASH_BYTES);
    } else {
        store_bind_null(st, 13);
    }
    store_bind_blob_static(st, 14, ev->hash, EVLOG_HASH_BYTES);
    if (ev->has_sig) {
        store_bind_blob_static(st, 15, ev->sig, EVLOG_SIG_BYTES);
    } else {
        store_bind_null(st, 15);
    }
    return store_exec_stmt(st, err);
}

/* A write failed after an earlier one of the same event: undo the callback. */
static enum lt_code halfway(struct evlog *log, struct store_conn *c, enum lt_code rc)
{
    store_poison(c);
    log->head.mark = 0;
    return rc;
}

static void copy_text(char *dst, size_t cap, const char *src, size_t len)
{
    if (len >= cap) {
        len = cap - 1;
    }
    memcpy(dst, src, len);
    dst[len] = '\0';
}

/* Read a row of EVENT_COLS; the body is borrowed from the statement. */
static void row_event(struct store_stmt *st, struct event *ev)
{
    const char *s;

    memset(ev, 0, sizeof(*ev));
    ev->pos = store_col_int(st, 0);
    s = store_col_text(st, 1);
    copy_text(ev->origin, sizeof(ev->origin), s, store_col_bytes(st, 1));
    ev->seq = store_col_int(st, 2);
    ev->hlc = store_col_int(st, 3);
    s = store_col_text(st, 4);
    copy_text(ev->actor, sizeof(ev->actor), s, store_col_bytes(st, 4));
    s = store_col_text(st, 5);
    copy_text(ev->type, sizeof(ev->type), s, store_col_bytes(st, 5));
    s = store_col_text(st, 6);
    copy_text(ev->entity, sizeof(ev->entity), s, store_col_bytes(st, 6));
    ev->base_version = store_col_int(st, 7);
    ev->version = store_col_int(st, 8);
    ev->effective = (int32_t)store_col_int(st, 9);
    s = store_col_text(st, 10);
    copy_text(ev->cause, sizeof(ev->cause), s, store_col_bytes(st, 10));
    ev->body = (char *)store_col_text(st, 11);
    ev->has_prev = col_hash(st, 12, ev->prev_hash, EVLOG_HASH_BYTES);
    col_hash(st, 13, ev->hash, EVLOG_HASH_BYTES);
    ev->has_sig = col_hash(st, 14, ev->sig, EVLOG_SIG_BYTES);
}

/* Step st and hand each row to fn. */
static enum lt_code each_row(struct store_stmt *st, evlog_event_fn fn, void *arg,
                             struct lt_error *err)
{
    struct event ev;
    enum store_step r;

    while ((r = store_step(st, err)) == STORE_ROW) {
        enum lt_code rc;

        row_event(st, &ev);
        rc = fn(&ev, arg, err);
        if (rc != LT_OK) {
            return rc;
        }
    }
    return r == STORE_DONE ? LT_OK : (err != NULL ? err->code : LT_EIO);
}

struct open_ctx {
    struct evlog *log;
    bool found;
};

static enum lt_code read_identity(struct store_conn *c, void *arg, struct lt_error *err)
{
    struct open_ctx *o = arg;
    struct store_stmt *st;
    enum store_step r;
    int64_t hlc = 0;
    bool found;
    enum lt_code rc = store_prepare(c, "SELECT origin, unit FROM node WHERE id = 1", &st, err);

    if (rc != LT_OK) {
        return rc;
    }
    r = store_step(st, err);
    if (r == STORE_ERROR) {
        return err != NULL ? err->code : LT_EIO;
    }
    o->found = r == STORE_ROW;
    if (!o->found) {
        return LT_OK;
    }
    snprintf(o->log->origin, sizeof(o->log->origin), "%s", store_col_text(st, 0));
    snprintf(o->log->unit, sizeof(o->log->unit), "%s", store_col_text(st, 1));
    rc = query_int(c, "SELECT COALESCE(MAX(hlc), 0) FROM origin_heads", NULL, &hlc, &found, err);
    o->log->hlc_last = hlc;
    return rc;
}

enum lt_code evlog_open(struct store *s, struct evlog **out, struct lt_error *err)
{
    struct evlog *log = xcalloc(1, sizeof(*log));
    struct open_ctx o = { .log = log };
    enum lt_code rc;

    *out = NULL;
    if (sodium_init() < 0) {
        free(log);
        return lt_error_set(err, LT_EINTERNAL, "could not initialise libsodium");
    }
    log->store = s;
    log->now_ms = wall_ms;
    pthread_mutex_init(&log->clock_mu, NULL);
    rc = store_read(s, read_identity, &o, err);
    if (rc == LT_OK && !o.found) {
        rc = lt_error_set(err, LT_ENOTFOUND, "database \"%s\" has no node identity", store_path(s));
        lt_error_hint(err, "create the node with: lienthong init --data DIR --unit CODE");
    }
    if (rc != LT_OK) {
        evlog_free(log);
        return rc;
    }
    *out = log;
    return LT_OK;
}

void evlog_free(struct evlog *log)
{
    if (log == NULL) {
        return;
    }
    pthread_mutex_destroy(&log->clock_mu);
    free(log);
}

void evlog_set_clock(struct evlog *log, int64_t (*now_ms)(void *arg), void *arg)
{
    pthread_mutex_lock(&log->clock_mu);
    log->now_ms = now_ms != NULL ? now_ms : wall_ms;
    log->now_arg = now_ms != NULL ? arg : NULL;
    pthread_mutex_unlock(&log->clock_mu);
}

const char *evlog_origin(const struct evlog *log)
{
    return log->origin;
}

const char *evlog_unit(const struct evlog *log)
{
    return log->unit;
}

enum lt_code evlog_init_node(struct store_conn *c, const char *origin, const char *unit,
                             struct lt_error *err)
{
    struct store_stmt *st;
    enum store_step r;
    enum lt_code rc;

    if (!plain_name(origin, EVLOG_ORIGIN_MAX)) {
        lt_error_set(err, LT_EINVAL, "node origin \"%.60s\" is not a valid origin id", origin);
        lt_error_detail(err, "use 1 to %d letters, digits, \"-\", \"_\" or \".\"",
                        EVLOG_ORIGIN_MAX - 1);
        return LT_EINVAL;
    }
    if (!plain_name(unit, UNIT_MAX)) {
        return lt_error_set(err, LT_EINVAL, "node unit \"%.60s\" is not a unit code", unit);
    }
    rc = store_prepare(c, "SELECT origin FROM node WHERE id = 1", &st, err);
    if (rc != LT_OK) {
        return rc;
    }
    r = store_step(st, err);
    if (r == STORE_ERROR) {
        return err != NULL ? err->code : LT_EIO;
    }
    if (r == STORE_ROW) {
        lt_error_set(err, LT_ECONFLICT, "this database already belongs to node \"%s\"",
                     store_col_text(st, 0));
        lt_error_hint(err, "a data directory holds exactly one node; use another directory");
        return LT_ECONFLICT;
    }
    rc = store_prepare(c, "INSERT INTO node (id, origin, unit, created_ms) VALUES (1, ?, ?, ?)",
                       &st, err);
    if (rc != LT_OK) {
        return rc;
    }
    store_bind_text(st, 1, origin);
    store_bind_text(st, 2, unit);
    store_bind_int(st, 3, wall_ms(NULL));
    return store_exec_stmt(st, err);
}

static enum lt_code append(struct evlog *log, struct store_conn *c, struct event *ev,
                           int64_t *current, bool trusted_body, struct lt_error *err)
{
    bool first;
    enum lt_code rc;

    if ((rc = require_write(c, "evlog_append", err)) != LT_OK ||
        (rc = check_event(ev, trusted_body, err)) != LT_OK ||
        (rc = load_head(log, c, err)) != LT_OK) {
        return rc;
    }
    rc = bump_version(c, ev, log->head.pos + 1, current, err);
    if (rc != LT_OK) {
        return rc;
    }

    snprintf(ev->origin, sizeof(ev->origin), "%s", log->origin);
    ev->pos = log->head.pos + 1;
    ev->seq = log->head.seq + 1;
    ev->version = ev->base_version + 1;
    ev->hlc = hlc_tick(log);
    first = log->head.seq == 0;
    ev->has_prev = !first;
    if (first) {
        memset(ev->prev_hash, 0, sizeof(ev->prev_hash));
    } else {
        memcpy(ev->prev_hash, log->head.hash, EVLOG_HASH_BYTES);
    }
    ev->has_sig = false;
    memset(ev->sig, 0, sizeof(ev->sig));
    event_hash(ev, ev->hash);

    if ((rc = insert_event(c, ev, err)) != LT_OK ||
        (rc = advance_local(log, c, ev, err)) != LT_OK) {
        return halfway(log, c, rc);
    }
    log->head.pos = ev->pos;
    return LT_OK;
}

enum lt_code evlog_append(struct evlog *log, struct store_conn *c, struct event *ev,
                          int64_t *current, struct lt_error *err)
{
    return append(log, c, ev, current, false, err);
}

enum lt_code evlog_append_trusted(struct evlog *log, struct store_conn *c, struct event *ev,
                                  int64_t *current, struct lt_error *err)
{
    return append(log, c, ev, current, true, err);
}

/* Is (origin, seq) in the log already?  LT_ECONFLICT if with another hash. */
static enum lt_code find_existing(struct store_conn *c, const struct event *ev, bool *found,
                                  struct lt_error *err)
{
    struct store_stmt *st;
    uint8_t hash[EVLOG_HASH_BYTES];
    enum store_step r;
    enum lt_code rc = store_prepare(c, sql_find, &st, err);

    if (rc != LT_OK) {
        return rc;
    }
    store_bind_text(st, 1, ev->origin);
    store_bind_int(st, 2, ev->seq);
    r = store_step(st, err);
    if (r == STORE_ERROR) {
        return err != NULL ? err->code : LT_EIO;
    }
    *found = r == STORE_ROW;
    if (!*found) {
        return LT_OK;
    }
    col_hash(st, 0, hash, sizeof(hash));
    if (sodium_memcmp(hash, ev->hash, EVLOG_HASH_BYTES) != 0) {
        lt_error_set(err, LT_ECONFLICT, "event (%s, %lld) differs from the one in the log",
                     ev->origin, (long long)ev->seq);
        lt_error_detail(err, "same origin and sequence, another hash: the origin's chain forked");
        return LT_ECONFLICT;
    }
    return LT_OK;
}

/* Does ev follow its origin's last event here? */
static enum lt_code check_link(struct evlog *log, struct store_conn *c, const struct event *ev,
                               int64_t *last_seq, struct lt_error *err)
{
    uint8_t hash[EVLOG_HASH_BYTES];
    enum lt_code rc;

    if (strcmp(ev->origin, log->origin) == 0) {
        *last_seq = log->head.seq;
        memcpy(hash, log->head.hash, EVLOG_HASH_BYTES);
    } else if ((rc = origin_head(c, ev->origin, last_seq, hash, err)) != LT_OK) {
        return rc;
    }
    if (ev->seq != *last_seq + 1) {
        lt_error_set(err, LT_EINVAL, "event (%s, %lld) does not follow its origin's last event",
                     ev->origin, (long long)ev->seq);
        lt_error_detail(err, "the log holds %s up to seq %lld; the next must be %lld", ev->origin,
                        (long long)*last_seq, (long long)(*last_seq + 1));
        lt_error_hint(err, "send the origin's events in order, without gaps");
        return LT_EINVAL;
    }
    if (ev->has_prev != (ev->seq > 1) ||
        (ev->has_prev && sodium_memcmp(ev->prev_hash, hash, EVLOG_HASH_BYTES) != 0)) {
        lt_error_set(err, LT_EINVAL, "event (%s, %lld) does not link to its origin's last event",
                     ev->origin, (long long)ev->seq);
        if (ev->seq > 1) {
            lt_error_detail(err, "its prev_hash is not the hash of (%s, %lld)", ev->origin,
                            (long long)*last_seq);
        } else {
            lt_error_detail(err, "the first event of an origin has no prev_hash");
        }
        return LT_EINVAL;
    }
    return LT_OK;
}

static enum lt_code check_remote(const struct event *ev, struct lt_error *err)
{
    uint8_t hash[EVLOG_HASH_BYTES];

    if (!plain_name(ev->origin, sizeof(ev->origin))) {
        lt_error_set(err, LT_EINVAL, "event origin \"%.60s\" is not a valid origin id", ev->origin);
        lt_error_field(err, "origin");
        return LT_EINVAL;
    }
    if (ev->seq < 1 || ev->hlc < 0) {
        lt_error_set(err, LT_EINVAL, "event (%s, %lld) has a seq below 1 or a negative clock",
                     ev->origin, (long long)ev->seq);
        return LT_EINVAL;
    }
    event_hash(ev, hash);
    if (sodium_memcmp(hash, ev->hash, EVLOG_HASH_BYTES) != 0) {
        lt_error_set(err, LT_EINVAL, "event (%s, %lld) does not match its hash", ev->origin,
                     (long long)ev->seq);
        lt_error_detail(err, "its fields or body were changed after it was made");
        return LT_EINVAL;
    }
    return LT_OK;
}

/* Record that the event at pos came down from parent (evlog_apply_pulled). */
static enum lt_code mark_pulled(struct store_conn *c, int64_t pos, const char *parent,
                                struct lt_error *err)
{
    struct store_stmt *st;
    enum lt_code rc = store_prepare(c, sql_pulled_insert, &st, err);

    if (rc != LT_OK) {
        return rc;
    }
    store_bind_int(st, 1, pos);
    store_bind_text(st, 2, parent);
    return store_exec_stmt(st, err);
}

/*
 * An event of another node, pushed up (parent NULL: it must extend its
 * origin's chain here) or pulled down from parent (the chain here is a
 * subset: no link is checked and no head is kept for its origin).
 */
static enum lt_code apply_foreign(struct evlog *log, struct store_conn *c, struct event *ev,
                                  const char *parent, bool *applied, struct lt_error *err)
{
    int64_t last_seq = 0, cur = 0;
    bool found = false;
    uint8_t head_hash[EVLOG_HASH_BYTES];
    enum lt_code rc;

    *applied = false;
    if ((rc = require_write(c, parent ? "evlog_apply_pulled" : "evlog_apply_remote", err)) !=
            LT_OK ||
        (rc = check_event(ev, false, err)) != LT_OK || (rc = check_remote(ev, err)) != LT_OK ||
        (rc = find_existing(c, ev, &found, err)) != LT_OK) {
        return rc;
    }
    if (found) {
        return LT_OK;
    }
    if ((rc = load_head(log, c, err)) != LT_OK) {
        return rc;
    }
    if (parent == NULL) {
        rc = check_link(log, c, ev, &last_seq, err);
    } else if (strcmp(ev->origin, log->origin) == 0) {
        rc = lt_error_set(err, LT_EINVAL, "event (%s, %lld) of this node came down from \"%s\"",
                          ev->origin, (long long)ev->seq, parent);
    } else if ((rc = origin_head(c, ev->origin, &last_seq, head_hash, err)) == LT_OK &&
               last_seq > 0) {
        /* A chain kept whole here is of this node's subtree: it only travels up. */
        rc = lt_error_set(err, LT_EINVAL, "event (%s, %lld) of this node's subtree came down",
                          ev->origin, (long long)ev->seq);
        lt_error_detail(err, "this log holds the chain of %s up to seq %lld", ev->origin,
                        (long long)last_seq);
    }
    if (rc == LT_OK) {
        rc = query_int(c, sql_version_get, ev->entity, &cur, &found, err);
    }
    if (rc != LT_OK) {
        return rc;
    }

    ev->pos = log->head.pos + 1;
    ev->version = cur + 1;
    rc = insert_event(c, ev, err);
    if (rc != LT_OK) {
        return rc;
    }
    rc = set_version(c, ev->entity, ev->version, ev->pos, err);
    if (rc == LT_OK && parent != NULL) {
        rc = mark_pulled(c, ev->pos, parent, err);
    } else if (rc == LT_OK) {
        rc = strcmp(ev->origin, log->origin) == 0
                 ? advance_local(log, c, ev, err)
                 : write_head(c, ev->origin, ev->seq, ev->hash, ev->hlc, ev->pos, last_seq == 0,
                              err);
    }
    if (rc != LT_OK) {
        return halfway(log, c, rc);
    }
    log->head.pos = ev->pos;
    hlc_observe(log, ev->hlc);
    *applied = true;
    return LT_OK;
}

enum lt_code evlog_apply_remote(struct evlog *log, struct store_conn *c, struct event *ev,
                                bool *applied, struct lt_error *err)
{
    return apply_foreign(log, c, ev, NULL, applied, err);
}

enum lt_code evlog_apply_pulled(struct evlog *log, struct store_conn *c, struct event *ev,
                                const char *parent, bool *applied, struct lt_error *err)
{
    if (parent == NULL || parent[0] == '\0') {
        return lt_error_set(err, LT_EINTERNAL, "evlog_apply_pulled needs the parent's origin");
    }
    return apply_foreign(log, c, ev, parent, applied, err);
}

enum lt_code evlog_pulled_after(struct store_conn *c, int64_t after, size_t limit, int64_t **pos,
                                size_t *n, struct lt_error *err)
{
    struct store_stmt *st;
    enum store_step r;
    size_t cap = 0;
    enum lt_code rc = store_prepare(c, sql_pulled_after, &st, err);

    *pos = NULL;
    *n = 0;
    if (rc != LT_OK) {
        return rc;
    }
    store_bind_int(st, 1, after);
    store_bind_int(st, 2, limit == 0 || limit > INT64_MAX ? INT64_MAX : (int64_t)limit);
    while ((r = store_step(st, err)) == STORE_ROW) {
        if (*n == cap) {
            cap = cap ? 2 * cap : 64;
            *pos = xrealloc(*pos, cap * sizeof(**pos));
        }
        (*pos)[(*n)++] = store_col_int(st, 0);
    }
    if (r == STORE_ERROR) {
        free(*pos);
        *pos = NULL;
        *n = 0;
        return err != NULL ? err->code : LT_EIO;
    }
    return LT_OK;
}

enum lt_code evlog_entity_version(struct store_conn *c, const char *entity, int64_t *version,
                                  struct lt_error *err)
{
    bool found;

    return query_int(c, sql_version_get, entity, version, &found, err);
}

enum lt_code evlog_history(struct store_conn *c, const char *entity, evlog_event_fn fn, void *arg,
                           struct lt_error *err)
{
    struct store_stmt *st;
    enum lt_code rc = store_prepare(c, sql_history, &st, err);

    if (rc != LT_OK) {
        return rc;
    }
    store_bind_text(st, 1, entity);
    return each_row(st, fn, arg, err);
}

enum lt_code evlog_as_of(struct store_conn *c, const char *entity, int32_t date, struct event *out,
                         struct lt_error *err)
{
    struct store_stmt *st;
    enum store_step r;
    char day[DATE_STR_MAX];
    enum lt_code rc = store_prepare(c, sql_as_of, &st, err);

    memset(out, 0, sizeof(*out));
    if (rc != LT_OK) {
        return rc;
    }
    store_bind_text(st, 1, entity);
    store_bind_int(st, 2, date);
    r = store_step(st, err);
    if (r == STORE_ERROR) {
        return err != NULL ? err->code : LT_EIO;
    }
    if (r == STORE_DONE) {
        date_format(date, day);
        lt_error_set(err, LT_ENOTFOUND, "\"%s\" has no record effective on or before %s", entity,
                     day[0] ? day : "that date");
        return LT_ENOTFOUND;
    }
    row_event(st, out);
    out->body = xstrdup(out->body);
    return LT_OK;
}

enum lt_code evlog_scan(struct store_conn *c, int64_t after, size_t limit, evlog_event_fn fn,
                        void *arg, struct lt_error *err)
{
    struct store_stmt *st;
    enum lt_code rc = store_prepare(c, sql_scan, &st, err);

    if (rc != LT_OK) {
        return rc;
    }
    store_bind_int(st, 1, after);
    store_bind_int(st, 2, limit == 0 || limit > INT64_MAX ? INT64_MAX : (int64_t)limit);
    return each_row(st, fn, arg, err);
}

enum lt_code evlog_head(struct store_conn *c, int64_t *pos, struct lt_error *err)
{
    bool found;

    return query_int(c, sql_log_head, NULL, pos, &found, err);
}

/* The running end of each origin's chain during a verify. */
struct chain_end {
    char origin[EVLOG_ORIGIN_MAX];
    int64_t seq;
    uint8_t hash[EVLOG_HASH_BYTES];
    bool used;
};

struct verify_ctx {
    struct chain_end *ends; /* open addressing, power-of-two size */
    size_t cap, n;
    int64_t checked;
    int64_t *pulled; /* positions of pulled events, rising */
    size_t npulled, ipulled;
};

static struct chain_end *chain_find(struct verify_ctx *v, const char *origin, bool add)
{
    size_t len = strlen(origin);
    size_t i = strmap_hash(origin, len) & (v->cap - 1);

    while (v->ends[i].used) {
        if (strcmp(v->ends[i].origin, origin) == 0) {
            return &v->ends[i];
        }
        i = (i + 1) & (v->cap - 1);
    }
    if (!add) {
        return NULL;
    }
    if (2 * (v->n + 1) > v->cap) {
        struct verify_ctx bigger = *v;

        bigger.cap = v->cap * 2;
        bigger.n = 0;
        bigger.ends = xcalloc(bigger.cap, sizeof(*bigger.ends));
        for (size_t j = 0; j < v->cap; j++) {
            if (v->ends[j].used) {
                *chain_find(&bigger, v->ends[j].origin, true) = v->ends[j];
            }
        }
        free(v->ends);
        *v = bigger;
        return chain_find(v, origin, true);
    }
    v->n++;
    v->ends[i].used = true;
    snprintf(v->ends[i].origin, sizeof(v->ends[i].origin), "%s", origin);
    return &v->ends[i];
}

static enum lt_code broken(const struct event *ev, struct lt_error *err, const char *why)
{
    lt_error_set(err, LT_EINVAL, "hash chain broken at log position %lld: event (%s, %lld)",
                 (long long)ev->pos, ev->origin, (long long)ev->seq);
    lt_error_detail(err, "%s", why);
    lt_error_hint(err, "the database was altered outside lienthong; restore it from a backup");
    return LT_EINVAL;
}

static enum lt_code verify_one(const struct event *ev, void *arg, struct lt_error *err)
{
    struct verify_ctx *v = arg;
    struct chain_end *end;
    uint8_t hash[EVLOG_HASH_BYTES];
    char why[160];

    event_hash(ev, hash);
    if (sodium_memcmp(hash, ev->hash, EVLOG_HASH_BYTES) != 0) {
        return broken(ev, err, "its fields or body do not match its hash");
    }
    while (v->ipulled < v->npulled && v->pulled[v->ipulled] < ev->pos) {
        v->ipulled++;
    }
    if (v->ipulled < v->npulled && v->pulled[v->ipulled] == ev->pos) {
        /* Pulled down: a subset of its origin's chain, whole only at the origin's ancestors. */
        v->checked++;
        return LT_OK;
    }
    end = chain_find(v, ev->origin, true);
    if (ev->seq != end->seq + 1) {
        snprintf(why, sizeof(why), "events are missing: the origin's previous one is seq %lld",
                 (long long)end->seq);
        return broken(ev, err, why);
    }
    if (ev->has_prev != (end->seq > 0) ||
        (ev->has_prev && sodium_memcmp(ev->prev_hash, end->hash, EVLOG_HASH_BYTES) != 0)) {
        snprintf(why, sizeof(why), "its prev_hash is not the hash of (%s, %lld)", ev->origin,
                 (long long)end->seq);
        return broken(ev, err, why);
    }
    end->seq = ev->seq;
    memcpy(end->hash, ev->hash, EVLOG_HASH_BYTES);
    v->checked++;
    return LT_OK;
}

/* The recorded heads must be exactly the ends of the chains. */
static enum lt_code verify_heads(struct store_conn *c, struct verify_ctx *v, struct lt_error *err)
{
    struct store_stmt *st;
    enum store_step r;
    size_t heads = 0;
    enum lt_code rc = store_prepare(c, sql_heads_all, &st, err);

    if (rc != LT_OK) {
        return rc;
    }
    while ((r = store_step(st, err)) == STORE_ROW) {
        const char *origin = store_col_text(st, 0);
        int64_t seq = store_col_int(st, 1);
        uint8_t hash[EVLOG_HASH_BYTES];
        const struct chain_end *end = chain_find(v, origin, false);

        col_hash(st, 2, hash, sizeof(hash));
        heads++;
        if (end == NULL || end->seq != seq ||
            sodium_memcmp(end->hash, hash, EVLOG_HASH_BYTES) != 0) {
            lt_error_set(err, LT_EINVAL, "hash chain of \"%s\" does not end where its head says",
                         origin);
            lt_error_detail(err, "the head is seq %lld, the log holds the origin up to seq %lld",
                            (long long)seq, end ? (long long)end->seq : 0LL);
            lt_error_hint(err, "events were removed from the log outside lienthong");
            return LT_EINVAL;
        }
    }
    if (r == STORE_ERROR) {
        return err != NULL ? err->code : LT_EIO;
    }
    if (heads != v->n) {
        lt_error_set(err, LT_EINVAL, "the log holds %zu origins but records heads for %zu", v->n,
                     heads);
        return LT_EINVAL;
    }
    return LT_OK;
}

enum lt_code evlog_verify(struct store_conn *c, int64_t *checked, struct lt_error *err)
{
    struct verify_ctx v = { .cap = 16 };
    enum lt_code rc;

    v.ends = xcalloc(v.cap, sizeof(*v.ends));
    rc = evlog_pulled_after(c, 0, 0, &v.pulled, &v.npulled, err);
    if (rc == LT_OK) {
        rc = evlog_scan(c, 0, 0, verify_one, &v, err);
    }
    if (rc == LT_OK) {
        rc = verify_heads(c, &v, err);
    }
    if (checked != NULL) {
        *checked = v.checked;
    }
    free(v.ends);
    free(v.pulled);
    return rc;
}
