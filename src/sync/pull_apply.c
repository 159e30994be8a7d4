/*
 * pull_apply.c - applying a pulled answer in one transaction (see pull_apply.h).
 *
 * Design note.  Keys are learned before any event is checked, so that the
 * events of an origin first met in this answer can be verified; the key
 * rows are written in the same callback and roll back with it.  Nothing is
 * cached across callbacks.
 */
#include "sync/pull_apply.h"

#include <sodium.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "sync/keys.h"
#include "sync/verify.h"
#include "core/banned.h"

#define LINEAGE_MAX 32

enum lt_code sync_pull_cursor_get(struct store_conn *c, const char *parent,
                                  struct sync_pull_cursor *out, struct lt_error *err)
{
    struct store_stmt *st;
    enum store_step r;
    enum lt_code rc = store_prepare(
        c, "SELECT cursor, pulled_ms, events FROM sync_pull WHERE parent_origin = ?", &st, err);

    memset(out, 0, sizeof(*out));
    if (rc != LT_OK) {
        return rc;
    }
    store_bind_text(st, 1, parent);
    r = store_step(st, err);
    if (r == STORE_ERROR) {
        return err != NULL && err->code != LT_OK ? err->code : LT_EIO;
    }
    if (r == STORE_ROW) {
        out->cursor = store_col_int(st, 0);
        out->pulled_ms = store_col_int(st, 1);
        out->events = store_col_int(st, 2);
    }
    return LT_OK;
}

static enum lt_code cursor_put(struct store_conn *c, const char *parent,
                               const struct sync_pull_cursor *cur, struct lt_error *err)
{
    struct store_stmt *st;
    enum lt_code rc = store_prepare(c,
                                    "UPDATE sync_pull SET cursor = ?, pulled_ms = ?, events = ? "
                                    "WHERE parent_origin = ?",
                                    &st, err);

    if (rc != LT_OK) {
        return rc;
    }
    store_bind_int(st, 1, cur->cursor);
    store_bind_int(st, 2, cur->pulled_ms);
    store_bind_int(st, 3, cur->events);
    store_bind_text(st, 4, parent);
    rc = store_exec_stmt(st, err);
    if (rc != LT_OK || store_changes(c) == 1) {
        return rc;
    }
    rc = store_prepare(c,
                       "INSERT INTO sync_pull (parent_origin, cursor, pulled_ms, events) "
                       "VALUES (?, ?, ?, ?)",
                       &st, err);
    if (rc != LT_OK) {
        return rc;
    }
    store_bind_text(st, 1, parent);
    store_bind_int(st, 2, cur->cursor);
    store_bind_int(st, 3, cur->pulled_ms);
    store_bind_int(st, 4, cur->events);
    return store_exec_stmt(st, err);
}

static enum lt_code refuse(struct lt_error *err, const struct event *ev, const char *fmt, ...)
    LT_PRINTF(3, 4);

static enum lt_code refuse(struct lt_error *err, const struct event *ev, const char *fmt, ...)
{
    char msg[LT_ERROR_MESSAGE_MAX];
    va_list ap;

    va_start(ap, fmt);
    vsnprintf(msg, sizeof(msg), fmt, ap);
    va_end(ap);
    lt_error_set(err, LT_EINVAL, "%s", msg);
    if (ev != NULL) {
        lt_error_detail(err, "event (%s, %lld) \"%s\" of %s", ev->origin, (long long)ev->seq,
                        ev->type, ev->entity);
    }
    return LT_EINVAL;
}

/* Does the lineage of origin (enrolled by ...) lead to this node? */
static enum lt_code of_my_subtree(struct store_conn *c, const char *self, const char *origin,
                                  bool *out, struct lt_error *err)
{
    char cur[EVLOG_ORIGIN_MAX];
    struct sync_known k;
    bool found;

    *out = false;
    snprintf(cur, sizeof(cur), "%s", origin);
    for (int depth = 0; depth < LINEAGE_MAX; depth++) {
        enum lt_code rc;

        if (strcmp(cur, self) == 0) {
            *out = true;
            return LT_OK;
        }
        rc = sync_known_get(c, cur, &k, &found, err);
        if (rc != LT_OK || !found || k.enrolled_by[0] == '\0') {
            return rc;
        }
        snprintf(cur, sizeof(cur), "%s", k.enrolled_by);
    }
    return LT_OK;
}

static enum lt_code learn_key(struct store_conn *c, const struct sync_self *self,
                              const char *origin, const struct sync_pull_key *pk, bool *learned,
                              struct lt_error *err)
{
    struct sync_known k, old;
    bool mine = false, found = false;
    enum lt_code rc;

    *learned = false;
    if (strcmp(pk->origin, origin) == 0) {
        return refuse(err, NULL, "the parent vouched for this node's own key");
    }
    if (strcmp(pk->origin, self->parent_origin) == 0 &&
        (sodium_memcmp(pk->pk, self->parent_pk, SYNC_PK_BYTES) != 0 ||
         strcmp(pk->unit, self->parent_unit) != 0)) {
        return refuse(err, NULL,
                      "the parent sent a key or unit of its own that is not the one "
                      "pinned at enrolment");
    }
    rc = sync_known_get(c, pk->origin, &old, &found, err);
    if (rc == LT_OK && !found) {
        rc = of_my_subtree(c, origin, pk->enrolled_by, &mine, err);
    }
    if (rc != LT_OK) {
        return rc;
    }
    if (mine) {
        return refuse(err, NULL, "the parent vouched for \"%s\" as enrolled below this node",
                      pk->origin);
    }
    memset(&k, 0, sizeof(k));
    snprintf(k.origin, sizeof(k.origin), "%s", pk->origin);
    snprintf(k.unit, sizeof(k.unit), "%s", pk->unit);
    memcpy(k.pk, pk->pk, SYNC_PK_BYTES);
    snprintf(k.enrolled_by, sizeof(k.enrolled_by), "%s", pk->enrolled_by);
    rc = sync_known_learn(c, &k, 0, err);
    *learned = rc == LT_OK && !found;
    return rc;
}

/* The checks of one pulled event (pull_apply.h, 3). */
static enum lt_code check_event(struct node *n, struct store_conn *c, const char *self,
                                const struct event *ev, struct lt_error *err)
{
    const struct units *u = node_units(n);
    uint8_t hash[EVLOG_HASH_BYTES];
    char unit[UNIT_CODE_MAX + 8];
    struct sync_known k;
    bool found = false, mine = false;
    enum lt_code rc = of_my_subtree(c, self, ev->origin, &mine, err);

    if (rc != LT_OK) {
        return rc;
    }
    if (mine) {
        return refuse(err, ev, "an event of this node's subtree came down from the parent");
    }
    event_hash(ev, hash);
    if (sodium_memcmp(hash, ev->hash, EVLOG_HASH_BYTES) != 0) {
        return refuse(err, ev, "event does not match its hash");
    }
    rc = sync_known_get(c, ev->origin, &k, &found, err);
    if (rc != LT_OK) {
        return rc;
    }
    if (!found) {
        return refuse(err, ev, "origin \"%s\" is not known here and the parent sent no key for it",
                      ev->origin);
    }
    if (!ev->has_sig || !sync_event_sig_ok(k.pk, ev->hash, ev->sig)) {
        return refuse(err, ev, "bad signature: \"%s\" did not sign this event", ev->origin);
    }
    if (sync_event_unit(ev, unit, sizeof(unit)) && !units_code_within(u, unit, k.unit)) {
        return refuse(err, ev, "event about unit %s is outside its origin's unit %s", unit, k.unit);
    }
    if (strcmp(ev->type, SYNC_REFERENCE_EVENT) == 0 && strcmp(k.unit, SYNC_CENTRE_UNIT) != 0) {
        return refuse(err, ev, "reference data from unit %s: only the centre publishes it", k.unit);
    }
    return LT_OK;
}

enum lt_code sync_pull_apply(struct node *n, struct store_conn *c, const struct sync_self *self,
                             struct sync_pull_reply *r, int64_t now_ms,
                             struct sync_pull_applied *res, struct lt_error *err)
{
    const char *origin = evlog_origin(node_evlog(n));
    struct sync_pull_cursor cur;
    enum lt_code rc;

    memset(res, 0, sizeof(*res));
    if (!self->enrolled || strcmp(r->origin, self->parent_origin) != 0) {
        return refuse(err, NULL, "the answer is from \"%s\", not from this node's parent",
                      r->origin);
    }
    rc = sync_pull_cursor_get(c, self->parent_origin, &cur, err);
    if (rc != LT_OK) {
        return rc;
    }
    res->cursor = cur.cursor;
    if (r->after != cur.cursor) {
        lt_error_set(err, LT_ECONFLICT, "the answer starts after %lld, but the cursor is at %lld",
                     (long long)r->after, (long long)cur.cursor);
        return LT_ECONFLICT;
    }

    for (size_t i = 0; i < r->nkeys; i++) {
        bool learned = false;

        rc = learn_key(c, self, origin, &r->keys[i], &learned, err);
        if (rc != LT_OK) {
            return rc;
        }
        res->keys += learned;
    }
    for (size_t i = 0; i < r->nevents; i++) {
        struct event *ev = &r->events[i];
        bool applied = false;

        rc = check_event(n, c, origin, ev, err);
        if (rc == LT_OK) {
            rc = evlog_apply_pulled(node_evlog(n), c, ev, self->parent_origin, &applied, err);
        }
        if (rc == LT_OK && applied) {
            rc = registry_apply_event(c, node_units(n), ev, err);
        }
        if (rc != LT_OK) {
            return rc;
        }
        res->applied += applied;
        res->duplicates += !applied;
        res->reference = res->reference || (applied && strcmp(ev->type, SYNC_REFERENCE_EVENT) == 0);
    }

    cur.cursor = r->through;
    cur.events += (int64_t)res->applied;
    cur.pulled_ms = now_ms;
    res->cursor = cur.cursor;
    return cursor_put(c, self->parent_origin, &cur, err);
}
