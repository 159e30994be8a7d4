/*
 * pull_batch.c - making an answer to a pull, and reading one (see pull_batch.h).
 *
 * Design note.  The parent reads its log in chunks of events copied out of
 * the scan (a callback of evlog_scan may not start a history, and the
 * decision reads histories), decides each event (pull_select.h) and
 * encodes what the child must hold straight into the answer, so an answer
 * is built in one pass and one read transaction.  A moving subject's
 * history and the event that moves it are one unit: if they take the
 * answer past its hard size they are taken out again and the answer ends
 * before that event (its "through" stays below it), unless they are the
 * first unit, which cannot be sent at all.
 *
 * Events of this node are signed here when they are not signed yet (the
 * pusher signs them when it first sends them up; XXX: interim until
 * evlog_append signs, docs/SYNC.md), on the copy only: Ed25519 is
 * deterministic, so the signature the pusher stores later is the same.
 */
#include "sync/pull_batch.h"

#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "sync/batch.h"
#include "sync/state.h"
#include "core/banned.h"

#define CHUNK_EVENTS      256
#define CHUNK_BYTES       ((size_t)4 << 20)
#define LINEAGE_MAX       32    /* enrolment is a tree of at most a few levels */
#define ANSWER_EVENTS_MAX 10000 /* an answer stops growing past this many events */

void sync_pull_answer_init(struct sync_pull_answer *a)
{
    memset(a, 0, sizeof(*a));
    buf_init(&a->text, SYNC_PULL_REPLY_MAX);
}

void sync_pull_answer_release(struct sync_pull_answer *a)
{
    if (a == NULL) {
        return;
    }
    buf_release(&a->text);
}

/* What this node knows of an origin: its unit, key and who enrolled it. */
struct origin_info {
    char origin[EVLOG_ORIGIN_MAX];
    bool found;
    struct sync_pull_key key;
    bool sent; /* an event of it is in the answer: its key goes too */
};

struct collect {
    struct node *n;
    struct store_conn *c;
    const struct units *u;
    const char *self;
    const struct sync_key *key;
    const char *parent_origin;
    const char *child;
    char child_unit[UNIT_CODE_MAX];
    struct origin_info *origins;
    size_t norigins;
    struct sync_pull_answer *a;
};

static enum lt_code lookup(struct collect *col, const char *origin, size_t *at,
                           struct lt_error *err)
{
    struct origin_info *o;
    struct sync_known k;
    bool found = false;
    enum lt_code rc;

    for (size_t i = 0; i < col->norigins; i++) {
        if (strcmp(col->origins[i].origin, origin) == 0) {
            *at = i;
            return LT_OK;
        }
    }
    memset(&k, 0, sizeof(k));
    if (strcmp(origin, col->self) != 0) {
        rc = sync_known_get(col->c, origin, &k, &found, err);
        if (rc != LT_OK) {
            return rc;
        }
    }
    col->origins = xrealloc(col->origins, (col->norigins + 1) * sizeof(*col->origins));
    o = &col->origins[col->norigins];
    memset(o, 0, sizeof(*o));
    snprintf(o->origin, sizeof(o->origin), "%s", origin);
    snprintf(o->key.origin, sizeof(o->key.origin), "%s", origin);
    if (strcmp(origin, col->self) == 0) {
        o->found = true;
        snprintf(o->key.unit, sizeof(o->key.unit), "%s", evlog_unit(node_evlog(col->n)));
        memcpy(o->key.pk, col->key->pk, SYNC_PK_BYTES);
        snprintf(o->key.enrolled_by, sizeof(o->key.enrolled_by), "%s", col->parent_origin);
    } else if (found) {
        o->found = true;
        snprintf(o->key.unit, sizeof(o->key.unit), "%s", k.unit);
        memcpy(o->key.pk, k.pk, SYNC_PK_BYTES);
        snprintf(o->key.enrolled_by, sizeof(o->key.enrolled_by), "%s", k.enrolled_by);
    }
    *at = col->norigins++;
    return LT_OK;
}

/* Did origin come from the child's subtree (enrolled by it, or below it)? */
static enum lt_code in_subtree(struct collect *col, const char *origin, bool *out,
                               struct lt_error *err)
{
    char cur[EVLOG_ORIGIN_MAX];
    size_t at;

    *out = false;
    snprintf(cur, sizeof(cur), "%s", origin);
    for (int depth = 0; depth < LINEAGE_MAX; depth++) {
        enum lt_code rc;

        if (strcmp(cur, col->child) == 0) {
            *out = true;
            return LT_OK;
        }
        if (strcmp(cur, col->self) == 0) {
            return LT_OK;
        }
        rc = lookup(col, cur, &at, err);
        if (rc != LT_OK) {
            return rc;
        }
        if (!col->origins[at].found || col->origins[at].key.enrolled_by[0] == '\0') {
            return LT_OK;
        }
        snprintf(cur, sizeof(cur), "%s", col->origins[at].key.enrolled_by);
    }
    return LT_OK;
}

/* Put one event into the answer: LT_ETOOBIG when past the hard size. */
static enum lt_code put_event(struct collect *col, const struct event *ev, struct lt_error *err)
{
    struct event e = *ev;
    size_t at;
    enum lt_code rc = lookup(col, ev->origin, &at, err);

    if (rc != LT_OK) {
        return rc;
    }
    if (!col->origins[at].found) {
        lt_error_set(err, LT_EINTERNAL, "no key is known here for origin \"%s\"", ev->origin);
        lt_error_detail(err, "event (%s, %lld) at position %lld", ev->origin, (long long)ev->seq,
                        (long long)ev->pos);
        return LT_EINTERNAL;
    }
    if (!e.has_sig) {
        lt_error_set(err, LT_EINTERNAL, "event (%s, %lld) has no signature", ev->origin,
                     (long long)ev->seq);
        return LT_EINTERNAL;
    }
    col->origins[at].sent = true;
    rc = sync_enc_event(&col->a->text, &col->a->nevents, &e);
    if (rc == LT_OK && col->a->text.len > SYNC_PULL_HARD_BYTES) {
        rc = LT_ETOOBIG;
    }
    return rc;
}

/* Cut the answer back to len bytes and n events. */
static void cut(struct sync_pull_answer *a, size_t len, size_t n)
{
    a->text.len = len;
    if (a->text.data != NULL) {
        a->text.data[len] = '\0';
    }
    a->nevents = n;
}

/* Sign this node's events not signed yet (on the copies). */
static void sign_own(struct collect *col, struct sync_pull_events *e)
{
    for (size_t i = 0; i < e->n; i++) {
        if (!e->ev[i].has_sig && strcmp(e->ev[i].origin, col->self) == 0) {
            sync_sign_event(col->key, &e->ev[i]);
        }
    }
}

/* The history, then the event, as the verdict says; *stop if they do not fit. */
static enum lt_code one_unit(struct collect *col, const struct event *ev,
                             const struct sync_pull_verdict *v, bool *stop, struct lt_error *err)
{
    struct sync_pull_events hist = { 0 };
    size_t len = col->a->text.len, n = col->a->nevents;
    bool mine;
    enum lt_code rc = LT_OK;

    if (v->history) {
        rc = sync_pull_history(col->c, ev, &hist, err);
        sign_own(col, &hist);
        for (size_t i = 0; rc == LT_OK && i < hist.n; i++) {
            rc = in_subtree(col, hist.ev[i].origin, &mine, err);
            if (rc == LT_OK && !mine) {
                rc = put_event(col, &hist.ev[i], err);
            }
        }
        col->a->histories++;
    }
    if (rc == LT_OK && v->send) {
        rc = put_event(col, ev, err);
    }
    sync_pull_events_release(&hist);
    if (rc == LT_ETOOBIG) {
        cut(col->a, len, n);
        if (n == 0) {
            lt_error_set(err, LT_ETOOBIG, "the history of \"%s\" is over %zu bytes", ev->entity,
                         (size_t)SYNC_PULL_HARD_BYTES);
            lt_error_detail(err, "event (%s, %lld) at position %lld moves it into %s", ev->origin,
                            (long long)ev->seq, (long long)ev->pos, col->child_unit);
            return LT_ETOOBIG;
        }
        *stop = true;
        return LT_OK;
    }
    return rc;
}

/* Decide one event of the log and add what the child needs. */
static enum lt_code one_event(struct collect *col, struct event *ev, bool *stop,
                              struct lt_error *err)
{
    struct sync_pull_verdict v;
    bool mine = false;
    size_t at;
    enum lt_code rc = lookup(col, ev->origin, &at, err);

    if (rc == LT_OK) {
        rc = in_subtree(col, ev->origin, &mine, err);
    }
    if (rc == LT_OK) {
        rc = lookup(col, ev->origin, &at, err); /* the array may have moved */
    }
    if (rc == LT_OK) {
        char unit[UNIT_CODE_MAX];

        snprintf(unit, sizeof(unit), "%s", col->origins[at].key.unit);
        rc = sync_pull_decide(col->c, col->u, col->child_unit, ev, mine, unit, &v, err);
    }
    if (rc != LT_OK || (!v.send && !v.history)) {
        return rc;
    }
    return one_unit(col, ev, &v, stop, err);
}

struct chunk {
    struct sync_pull_events ev;
    size_t bytes;
};

static enum lt_code chunk_add(const struct event *ev, void *arg, struct lt_error *err)
{
    struct chunk *ch = arg;

    (void)err;
    sync_pull_events_add(&ch->ev, ev);
    ch->bytes += strlen(ev->body != NULL ? ev->body : "");
    return ch->bytes > CHUNK_BYTES ? LT_ECONFLICT : LT_OK; /* a full chunk stops the scan */
}

static enum lt_code scan(struct collect *col, struct lt_error *err)
{
    struct sync_pull_answer *a = col->a;
    bool stop = false;
    enum lt_code rc = LT_OK;

    while (!stop && rc == LT_OK && a->scanned < SYNC_PULL_SCAN_MAX && a->through < a->head) {
        struct chunk ch = { { 0 }, 0 };

        rc = evlog_scan(col->c, a->through, CHUNK_EVENTS, chunk_add, &ch, err);
        if (rc == LT_ECONFLICT) {
            rc = LT_OK;
        }
        if (ch.ev.n == 0) {
            sync_pull_events_release(&ch.ev);
            break;
        }
        sign_own(col, &ch.ev);
        for (size_t i = 0; rc == LT_OK && !stop && i < ch.ev.n; i++) {
            rc = one_event(col, &ch.ev.ev[i], &stop, err);
            if (rc == LT_OK && !stop) {
                a->through = ch.ev.ev[i].pos;
                a->scanned++;
                stop = a->text.len > SYNC_PULL_SOFT_BYTES || a->nevents >= ANSWER_EVENTS_MAX ||
                       a->scanned >= SYNC_PULL_SCAN_MAX;
            }
        }
        sync_pull_events_release(&ch.ev);
    }
    return rc;
}

/* The closing: keys of the origins sent, and the positions. */
static enum lt_code finish(struct collect *col, struct lt_error *err)
{
    struct sync_pull_answer *a = col->a;
    json_t *keys = json_array();
    char pk[SYNC_PK_HEX];
    char *text;
    enum lt_code rc;

    for (size_t i = 0; i < col->norigins; i++) {
        const struct sync_pull_key *k = &col->origins[i].key;

        if (!col->origins[i].sent) {
            continue;
        }
        sync_hex(k->pk, SYNC_PK_BYTES, pk);
        json_array_append_new(
            keys, json_pack("{s:s, s:s, s:s, s:o}", "origin", k->origin, "unit", k->unit,
                            "public_key", pk, "enrolled_by",
                            k->enrolled_by[0] ? json_string(k->enrolled_by) : json_null()));
    }
    text = json_dumps(keys, JSON_COMPACT);
    json_decref(keys);
    if (text == NULL) {
        BUG("could not dump the keys of a pull answer");
    }
    rc =
        buf_printf(&a->text,
                   "],\"keys\":%s,\"origin\":\"%s\",\"after\":%lld,\"through\":%lld,"
                   "\"head\":%lld}",
                   text, col->self, (long long)a->after, (long long)a->through, (long long)a->head);
    free(text);
    if (rc != LT_OK) {
        lt_error_set(err, LT_ETOOBIG, "the keys of a pull answer are over %zu bytes",
                     (size_t)SYNC_PULL_KEYS_BYTES);
    }
    return rc;
}

enum lt_code sync_pull_collect(struct node *n, struct store_conn *c, const struct sync_key *key,
                               const char *parent_origin, const char *child_origin,
                               struct sync_pull_answer *a, struct lt_error *err)
{
    struct collect col;
    struct sync_child ch;
    bool found = false;
    enum lt_code rc;

    memset(&col, 0, sizeof(col));
    col.n = n;
    col.c = c;
    col.u = node_units(n);
    col.self = evlog_origin(node_evlog(n));
    col.key = key;
    col.parent_origin = parent_origin != NULL ? parent_origin : "";
    col.child = child_origin;
    col.a = a;
    buf_reset(&a->text);
    a->nevents = a->histories = a->scanned = 0;
    if (a->through < a->after) {
        a->through = a->after;
    }

    rc = evlog_head(c, &a->head, err);
    if (rc == LT_OK) {
        rc = sync_child_get(c, child_origin, &ch, &found, err);
    }
    if (rc != LT_OK) {
        return rc;
    }
    if (!found) {
        lt_error_set(err, LT_ENOTFOUND, "node \"%s\" is not a child of this node", child_origin);
        lt_error_hint(err, "enrol it first: lienthong enrol --child-unit CODE on this node");
        return LT_ENOTFOUND;
    }
    if (a->through > a->head) {
        lt_error_set(err, LT_ECONFLICT, "the cursor %lld is past this log's end at %lld",
                     (long long)a->through, (long long)a->head);
        lt_error_hint(err, "pull again from position 0: the cursor belongs to another log");
        return LT_ECONFLICT;
    }
    snprintf(col.child_unit, sizeof(col.child_unit), "%s", ch.unit);

    sync_enc_begin(&a->text);
    rc = scan(&col, err);
    if (rc == LT_OK) {
        rc = finish(&col, err);
    }
    free(col.origins);
    return rc;
}
