/*
 * state.c - the sync tables, row by row.
 *
 * Design note.  One function per question or change, each a single
 * statement with a fixed SQL text (the store caches statements by text).
 * Text columns are copied into fixed-size fields; the writers never store
 * longer values than those fields hold (origins, units and URLs are
 * checked before they get here), so a copy never cuts a value short.
 */
#include "sync/state.h"

#include <stdio.h>
#include <string.h>

#include "core/banned.h"

static enum lt_code step_code(struct lt_error *err)
{
    return err != NULL && err->code != LT_OK ? err->code : LT_EIO;
}

static void col_copy(struct store_stmt *st, int i, char *out, size_t cap)
{
    snprintf(out, cap, "%s", store_col_text(st, i));
}

/* A blob column of exactly n bytes into out; false (out zeroed) otherwise. */
static bool col_bytes(struct store_stmt *st, int i, uint8_t *out, size_t n)
{
    const void *p;

    memset(out, 0, n);
    if (store_col_null(st, i)) {
        return false;
    }
    p = store_col_blob(st, i);
    if (p == NULL || store_col_bytes(st, i) != n) {
        return false;
    }
    memcpy(out, p, n);
    return true;
}

enum lt_code sync_self_create(struct store_conn *c, const uint8_t pk[SYNC_PK_BYTES],
                              const char *parent_url, struct lt_error *err)
{
    struct store_stmt *st;
    enum lt_code rc = store_prepare(c,
                                    "INSERT INTO sync_self (id, public_key, parent_url, "
                                    "enrolled_ms) VALUES (1, ?, ?, 0)",
                                    &st, err);

    if (rc != LT_OK) {
        return rc;
    }
    store_bind_blob(st, 1, pk, SYNC_PK_BYTES);
    if (parent_url != NULL && parent_url[0] != '\0') {
        store_bind_text(st, 2, parent_url);
    } else {
        store_bind_null(st, 2);
    }
    return store_exec_stmt(st, err);
}

enum lt_code sync_self_get(struct store_conn *c, struct sync_self *out, bool *found,
                           struct lt_error *err)
{
    struct store_stmt *st;
    enum store_step r;
    enum lt_code rc = store_prepare(c,
                                    "SELECT public_key, parent_url, parent_origin, parent_unit, "
                                    "parent_key, enrolled_ms FROM sync_self WHERE id = 1",
                                    &st, err);

    memset(out, 0, sizeof(*out));
    *found = false;
    if (rc != LT_OK) {
        return rc;
    }
    r = store_step(st, err);
    if (r == STORE_ERROR) {
        return step_code(err);
    }
    if (r == STORE_DONE) {
        return LT_OK;
    }
    *found = true;
    col_bytes(st, 0, out->pk, SYNC_PK_BYTES);
    col_copy(st, 1, out->parent_url, sizeof(out->parent_url));
    col_copy(st, 2, out->parent_origin, sizeof(out->parent_origin));
    col_copy(st, 3, out->parent_unit, sizeof(out->parent_unit));
    out->enrolled = col_bytes(st, 4, out->parent_pk, SYNC_PK_BYTES) && out->parent_origin[0];
    out->enrolled_ms = store_col_int(st, 5);
    return LT_OK;
}

enum lt_code sync_self_set_url(struct store_conn *c, const char *url, struct lt_error *err)
{
    struct store_stmt *st;
    enum lt_code rc =
        store_prepare(c, "UPDATE sync_self SET parent_url = ? WHERE id = 1", &st, err);

    if (rc != LT_OK) {
        return rc;
    }
    if (url != NULL && url[0] != '\0') {
        store_bind_text(st, 1, url);
    } else {
        store_bind_null(st, 1);
    }
    return store_exec_stmt(st, err);
}

enum lt_code sync_self_set_parent(struct store_conn *c, const char *url, const char *origin,
                                  const char *unit, const uint8_t pk[SYNC_PK_BYTES], int64_t now_ms,
                                  struct lt_error *err)
{
    struct store_stmt *st;
    enum lt_code rc = store_prepare(c,
                                    "UPDATE sync_self SET parent_url = ?, parent_origin = ?, "
                                    "parent_unit = ?, parent_key = ?, enrolled_ms = ? WHERE id = 1",
                                    &st, err);

    if (rc != LT_OK) {
        return rc;
    }
    store_bind_text(st, 1, url);
    store_bind_text(st, 2, origin);
    store_bind_text(st, 3, unit);
    store_bind_blob(st, 4, pk, SYNC_PK_BYTES);
    store_bind_int(st, 5, now_ms);
    rc = store_exec_stmt(st, err);
    if (rc == LT_OK && store_changes(c) != 1) {
        rc = lt_error_set(err, LT_ENOTFOUND, "this node has no sync identity");
    }
    return rc;
}

enum lt_code sync_upstream_get(struct store_conn *c, const char *parent, int64_t *acked,
                               struct lt_error *err)
{
    struct store_stmt *st;
    enum store_step r;
    enum lt_code rc =
        store_prepare(c, "SELECT acked FROM sync_upstream WHERE parent_origin = ?", &st, err);

    *acked = 0;
    if (rc != LT_OK) {
        return rc;
    }
    store_bind_text(st, 1, parent);
    r = store_step(st, err);
    if (r == STORE_ERROR) {
        return step_code(err);
    }
    if (r == STORE_ROW) {
        *acked = store_col_int(st, 0);
    }
    return LT_OK;
}

enum lt_code sync_upstream_set(struct store_conn *c, const char *parent, int64_t acked,
                               int64_t now_ms, struct lt_error *err)
{
    struct store_stmt *st;
    enum lt_code rc = store_prepare(
        c, "UPDATE sync_upstream SET acked = ?, acked_ms = ? WHERE parent_origin = ?", &st, err);

    if (rc != LT_OK) {
        return rc;
    }
    store_bind_int(st, 1, acked);
    store_bind_int(st, 2, now_ms);
    store_bind_text(st, 3, parent);
    rc = store_exec_stmt(st, err);
    if (rc != LT_OK || store_changes(c) == 1) {
        return rc;
    }
    rc = store_prepare(
        c, "INSERT INTO sync_upstream (parent_origin, acked, acked_ms) VALUES (?, ?, ?)", &st, err);
    if (rc != LT_OK) {
        return rc;
    }
    store_bind_text(st, 1, parent);
    store_bind_int(st, 2, acked);
    store_bind_int(st, 3, now_ms);
    return store_exec_stmt(st, err);
}

enum lt_code sync_known_get(struct store_conn *c, const char *origin, struct sync_known *out,
                            bool *found, struct lt_error *err)
{
    struct store_stmt *st;
    enum store_step r;
    enum lt_code rc = store_prepare(
        c, "SELECT origin, unit, public_key, enrolled_by FROM sync_keys WHERE origin = ?", &st,
        err);

    memset(out, 0, sizeof(*out));
    *found = false;
    if (rc != LT_OK) {
        return rc;
    }
    store_bind_text(st, 1, origin);
    r = store_step(st, err);
    if (r == STORE_ERROR) {
        return step_code(err);
    }
    if (r == STORE_ROW) {
        col_copy(st, 0, out->origin, sizeof(out->origin));
        col_copy(st, 1, out->unit, sizeof(out->unit));
        *found = col_bytes(st, 2, out->pk, SYNC_PK_BYTES);
        col_copy(st, 3, out->enrolled_by, sizeof(out->enrolled_by));
    }
    return LT_OK;
}

enum lt_code sync_known_learn(struct store_conn *c, const struct sync_known *k, int64_t pos,
                              struct lt_error *err)
{
    struct sync_known old;
    struct store_stmt *st;
    bool found;
    enum lt_code rc = sync_known_get(c, k->origin, &old, &found, err);

    if (rc != LT_OK) {
        return rc;
    }
    if (found) {
        if (memcmp(old.pk, k->pk, SYNC_PK_BYTES) == 0 && strcmp(old.unit, k->unit) == 0) {
            return LT_OK;
        }
        /* XXX: no key rotation or revocation: a node that loses its key is re-made. */
        lt_error_set(err, LT_ECONFLICT, "node \"%s\" is already enrolled with another key or unit",
                     k->origin);
        lt_error_detail(err, "known as unit %s, enrolled by %s; now claimed as unit %s by %s",
                        old.unit, old.enrolled_by, k->unit, k->enrolled_by);
        lt_error_hint(err, "a node keeps its key for life: give a new node a new data directory");
        return LT_ECONFLICT;
    }
    rc = store_prepare(c,
                       "INSERT INTO sync_keys (origin, unit, public_key, enrolled_by, learned_pos) "
                       "VALUES (?, ?, ?, ?, ?)",
                       &st, err);
    if (rc != LT_OK) {
        return rc;
    }
    store_bind_text(st, 1, k->origin);
    store_bind_text(st, 2, k->unit);
    store_bind_blob(st, 3, k->pk, SYNC_PK_BYTES);
    store_bind_text(st, 4, k->enrolled_by);
    store_bind_int(st, 5, pos);
    return store_exec_stmt(st, err);
}

#define CHILD_COLS                                                                                 \
    "origin, unit, enrolled_ms, acked, reported_head, pending_ms, last_contact_ms, batches, "      \
    "events, duplicates, refused, last_refusal, last_refusal_ms"

static void row_child(struct store_stmt *st, struct sync_child *ch)
{
    memset(ch, 0, sizeof(*ch));
    col_copy(st, 0, ch->origin, sizeof(ch->origin));
    col_copy(st, 1, ch->unit, sizeof(ch->unit));
    ch->enrolled_ms = store_col_int(st, 2);
    ch->acked = store_col_int(st, 3);
    ch->reported_head = store_col_int(st, 4);
    ch->pending_ms = store_col_int(st, 5);
    ch->last_contact_ms = store_col_int(st, 6);
    ch->batches = store_col_int(st, 7);
    ch->events = store_col_int(st, 8);
    ch->duplicates = store_col_int(st, 9);
    ch->refused = store_col_int(st, 10);
    col_copy(st, 11, ch->last_refusal, sizeof(ch->last_refusal));
    ch->last_refusal_ms = store_col_int(st, 12);
}

enum lt_code sync_child_get(struct store_conn *c, const char *origin, struct sync_child *out,
                            bool *found, struct lt_error *err)
{
    struct store_stmt *st;
    enum store_step r;
    enum lt_code rc =
        store_prepare(c, "SELECT " CHILD_COLS " FROM sync_children WHERE origin = ?", &st, err);

    *found = false;
    memset(out, 0, sizeof(*out));
    if (rc != LT_OK) {
        return rc;
    }
    store_bind_text(st, 1, origin);
    r = store_step(st, err);
    if (r == STORE_ERROR) {
        return step_code(err);
    }
    if (r == STORE_ROW) {
        row_child(st, out);
        *found = true;
    }
    return LT_OK;
}

enum lt_code sync_child_add(struct store_conn *c, const char *origin, const char *unit,
                            int64_t now_ms, struct lt_error *err)
{
    struct store_stmt *st;
    enum lt_code rc = store_prepare(c,
                                    "INSERT INTO sync_children (" CHILD_COLS ") VALUES "
                                    "(?, ?, ?, 0, 0, 0, 0, 0, 0, 0, 0, NULL, 0)",
                                    &st, err);

    if (rc != LT_OK) {
        return rc;
    }
    store_bind_text(st, 1, origin);
    store_bind_text(st, 2, unit);
    store_bind_int(st, 3, now_ms);
    return store_exec_stmt(st, err);
}

enum lt_code sync_child_put(struct store_conn *c, const struct sync_child *ch, struct lt_error *err)
{
    struct store_stmt *st;
    enum lt_code rc = store_prepare(c,
                                    "UPDATE sync_children SET acked = ?, reported_head = ?, "
                                    "pending_ms = ?, last_contact_ms = ?, batches = ?, events = ?, "
                                    "duplicates = ?, refused = ?, last_refusal = ?, "
                                    "last_refusal_ms = ? WHERE origin = ?",
                                    &st, err);

    if (rc != LT_OK) {
        return rc;
    }
    store_bind_int(st, 1, ch->acked);
    store_bind_int(st, 2, ch->reported_head);
    store_bind_int(st, 3, ch->pending_ms);
    store_bind_int(st, 4, ch->last_contact_ms);
    store_bind_int(st, 5, ch->batches);
    store_bind_int(st, 6, ch->events);
    store_bind_int(st, 7, ch->duplicates);
    store_bind_int(st, 8, ch->refused);
    if (ch->last_refusal[0] != '\0') {
        store_bind_text(st, 9, ch->last_refusal);
    } else {
        store_bind_null(st, 9);
    }
    store_bind_int(st, 10, ch->last_refusal_ms);
    store_bind_text(st, 11, ch->origin);
    rc = store_exec_stmt(st, err);
    if (rc == LT_OK && store_changes(c) != 1) {
        rc = lt_error_set(err, LT_ENOTFOUND, "no child \"%s\" is enrolled here", ch->origin);
    }
    return rc;
}

enum lt_code sync_children_each(struct store_conn *c, sync_child_fn fn, void *arg,
                                struct lt_error *err)
{
    struct store_stmt *st;
    struct sync_child ch;
    enum store_step r;
    enum lt_code rc =
        store_prepare(c, "SELECT " CHILD_COLS " FROM sync_children ORDER BY origin", &st, err);

    if (rc != LT_OK) {
        return rc;
    }
    while ((r = store_step(st, err)) == STORE_ROW) {
        row_child(st, &ch);
        rc = fn(&ch, arg, err);
        if (rc != LT_OK) {
            return rc;
        }
    }
    return r == STORE_DONE ? LT_OK : step_code(err);
}

enum lt_code sync_token_add(struct store_conn *c, const uint8_t hash[32], const char *unit,
                            int64_t created_ms, int64_t expires_ms, struct lt_error *err)
{
    struct store_stmt *st;
    enum lt_code rc = store_prepare(c,
                                    "INSERT INTO sync_tokens (token_hash, unit, created_ms, "
                                    "expires_ms, used_by, used_ms) VALUES (?, ?, ?, ?, NULL, 0)",
                                    &st, err);

    if (rc != LT_OK) {
        return rc;
    }
    store_bind_blob(st, 1, hash, 32);
    store_bind_text(st, 2, unit);
    store_bind_int(st, 3, created_ms);
    store_bind_int(st, 4, expires_ms);
    return store_exec_stmt(st, err);
}

enum lt_code sync_token_get(struct store_conn *c, const uint8_t hash[32], struct sync_token *out,
                            bool *found, struct lt_error *err)
{
    struct store_stmt *st;
    enum store_step r;
    enum lt_code rc = store_prepare(c,
                                    "SELECT unit, created_ms, expires_ms, used_by, used_ms FROM "
                                    "sync_tokens WHERE token_hash = ?",
                                    &st, err);

    memset(out, 0, sizeof(*out));
    *found = false;
    if (rc != LT_OK) {
        return rc;
    }
    store_bind_blob(st, 1, hash, 32);
    r = store_step(st, err);
    if (r == STORE_ERROR) {
        return step_code(err);
    }
    if (r == STORE_ROW) {
        *found = true;
        col_copy(st, 0, out->unit, sizeof(out->unit));
        out->created_ms = store_col_int(st, 1);
        out->expires_ms = store_col_int(st, 2);
        col_copy(st, 3, out->used_by, sizeof(out->used_by));
        out->used_ms = store_col_int(st, 4);
    }
    return LT_OK;
}

enum lt_code sync_token_use(struct store_conn *c, const uint8_t hash[32], const char *origin,
                            int64_t now_ms, struct lt_error *err)
{
    struct store_stmt *st;
    enum lt_code rc = store_prepare(c,
                                    "UPDATE sync_tokens SET used_by = ?, used_ms = ? WHERE "
                                    "token_hash = ? AND used_by IS NULL",
                                    &st, err);

    if (rc != LT_OK) {
        return rc;
    }
    store_bind_text(st, 1, origin);
    store_bind_int(st, 2, now_ms);
    store_bind_blob(st, 3, hash, 32);
    rc = store_exec_stmt(st, err);
    if (rc == LT_OK && store_changes(c) != 1) {
        rc = lt_error_set(err, LT_ECONFLICT, "the enrolment token was used meanwhile");
    }
    return rc;
}

enum lt_code sync_event_sig_put(struct store_conn *c, int64_t pos,
                                const uint8_t sig[EVLOG_SIG_BYTES], struct lt_error *err)
{
    struct store_stmt *st;
    enum lt_code rc =
        store_prepare(c, "UPDATE events SET sig = ? WHERE pos = ? AND sig IS NULL", &st, err);

    if (rc != LT_OK) {
        return rc;
    }
    store_bind_blob(st, 1, sig, EVLOG_SIG_BYTES);
    store_bind_int(st, 2, pos);
    return store_exec_stmt(st, err);
}
