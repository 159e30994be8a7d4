/*
 * write.c - writing the registries: one change or a batch of them.
 *
 * Design note.  A write is prepared in the caller's thread (validation
 * against the field tables and the kind's rules, the canonical JSON text,
 * the facts the projection needs) and then run in the store's writer
 * thread as one store_write callback: the checks that need the database,
 * evlog_append (which does the version check), the projection upsert.  The
 * writer does no JSON work, which is what lets a bulk import approach raw
 * insert speed.  A batch is many prepared changes in one callback; a
 * refused change has written nothing (its checks only read, and a refused
 * append writes nothing), so the batch can go on past it, while a failure
 * after the append (the projection) abandons the whole callback.
 */
#include "registry/registry.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/date.h"
#include "core/utf8.h"
#include "registry/kinds.h"
#include "core/banned.h"

struct prep {
    const struct kind_def *k;
    json_t *canon;
    char *text;
    struct facts f;
    struct event ev;
};

static enum lt_code check_meta_text(const char *s, size_t max, const char *field,
                                    struct lt_error *err)
{
    size_t len = s ? strlen(s) : 0;

    if (len == 0) {
        return field_error(err, field, "missing (required)");
    }
    if (len >= max) {
        return field_error(err, field, "longer than %zu bytes", max - 1);
    }
    if (!utf8_valid_text(s, len, NULL)) {
        return field_error(err, field, "invalid UTF-8 or a control character");
    }
    return LT_OK;
}

static enum lt_code check_event_type(const struct kind_def *k, const char *t, struct lt_error *err)
{
    size_t nl = strlen(k->name);
    size_t len = strlen(t);

    if (len >= EVLOG_TYPE_MAX || strncmp(t, k->name, nl) != 0 || t[nl] != '.' ||
        t[nl + 1] == '\0' || strspn(t + nl + 1, "abcdefghijklmnopqrstuvwxyz_") != len - nl - 1) {
        field_error(err, "event_type", "\"%.60s\" is not \"%s.<verb>\"", t, k->name);
        lt_error_hint(err, "a lower-case verb after the kind, e.g. \"%s.changed\"", k->name);
        return LT_EINVAL;
    }
    return LT_OK;
}

static void prep_release(struct prep *p)
{
    json_decref(p->canon);
    free(p->text);
    p->canon = NULL;
    p->text = NULL;
}

/* Everything about a change that needs no database, in the caller's thread. */
static enum lt_code prepare(const struct units *u, const struct registry_change *ch, struct prep *p,
                            struct lt_error *err)
{
    enum lt_code rc;
    size_t len;

    memset(p, 0, sizeof(*p));
    p->k = kind_get(ch->kind);
    if (p->k == NULL) {
        return lt_error_set(err, LT_EINVAL, "unknown registry kind %d", (int)ch->kind);
    }
    rc = check_meta_text(ch->actor, EVLOG_ACTOR_MAX, "actor", err);
    if (rc == LT_OK) {
        rc = check_meta_text(ch->cause, EVLOG_CAUSE_MAX, "cause", err);
    }
    if (rc == LT_OK && ch->event_type != NULL) {
        rc = check_event_type(p->k, ch->event_type, err);
    }
    if (rc == LT_OK && ch->base_version < 0) {
        rc = field_error(err, "base_version", "%lld is negative", (long long)ch->base_version);
    }
    if (rc == LT_OK) {
        rc = validate_record(u, ch->kind, ch->record, ch->effective, &p->canon, &p->f, err);
    }
    if (rc != LT_OK) {
        return rc;
    }
    p->text = json_dumps(p->canon, REG_DUMP_FLAGS);
    if (p->text == NULL) {
        BUG("could not dump a canonical %s record", p->k->name);
    }
    len = strlen(p->text);
    if (len > EVLOG_BODY_MAX) {
        lt_error_set(err, LT_ETOOBIG, "the %s record is %zu bytes, over the limit of %d",
                     p->k->name, len, EVLOG_BODY_MAX);
        prep_release(p);
        return LT_ETOOBIG;
    }
    snprintf(p->ev.actor, sizeof(p->ev.actor), "%s", ch->actor);
    snprintf(p->ev.cause, sizeof(p->ev.cause), "%s", ch->cause);
    if (ch->event_type != NULL) {
        snprintf(p->ev.type, sizeof(p->ev.type), "%s", ch->event_type);
    } else {
        snprintf(p->ev.type, sizeof(p->ev.type), "%s.%s", p->k->name,
                 ch->base_version == 0 ? "registered" : "changed");
    }
    snprintf(p->ev.entity, sizeof(p->ev.entity), "%s/%s", p->k->name, p->f.key);
    p->ev.base_version = ch->base_version;
    p->ev.effective = ch->effective == DATE_MIN ? date_today() : ch->effective;
    p->ev.body = p->text; /* borrowed: never event_release'd */
    return LT_OK;
}

/* Turn evlog's version conflict into what the caller of a registry write reads. */
static enum lt_code conflict(const struct prep *p, int64_t current, int64_t *version,
                             struct lt_error *err)
{
    *version = current;
    if (p->ev.base_version > 0 && current == 0) {
        lt_error_set(err, LT_ENOTFOUND, "no %s \"%s\" to change", p->k->name, p->f.key);
        lt_error_hint(err, "send base_version 0 to register it");
        return LT_ENOTFOUND;
    }
    if (p->ev.base_version == 0) {
        lt_error_set(err, LT_ECONFLICT, "%s \"%s\" already exists", p->k->name, p->f.key);
        lt_error_detail(err, "current version %lld", (long long)current);
        lt_error_hint(err, "to change it, send base_version %lld", (long long)current);
        return LT_ECONFLICT;
    }
    lt_error_set(err, LT_ECONFLICT, "%s \"%s\" changed since version %lld", p->k->name, p->f.key,
                 (long long)p->ev.base_version);
    lt_error_detail(err, "current version %lld", (long long)current);
    lt_error_hint(err, "read it again and apply the change to version %lld", (long long)current);
    return LT_ECONFLICT;
}

/*
 * Write one prepared change in the writer thread.  *fatal is set when the
 * failure came after the append, so the callback must be abandoned.
 */
static enum lt_code write_row(struct store_conn *c, struct evlog *log, struct prep *p,
                              int64_t *version, bool *fatal, struct lt_error *err)
{
    int64_t current = 0;
    enum lt_code rc;

    *fatal = false;
    rc = p->k->check_db(c, &p->f, err);
    if (rc != LT_OK) {
        *fatal = rc != LT_EINVAL;
        return rc;
    }
    rc = evlog_append(log, c, &p->ev, &current, err);
    if (rc == LT_ECONFLICT) {
        return conflict(p, current, version, err);
    }
    if (rc != LT_OK) {
        *fatal = rc != LT_ETOOBIG && rc != LT_EINVAL;
        return rc;
    }
    *version = p->ev.version;
    rc = p->k->project(c, &p->f, p->ev.version, p->text, err);
    *fatal = rc != LT_OK;
    return rc;
}

struct batch {
    struct node *n;
    struct prep *p;
    size_t count;
    bool all;
    struct registry_result *res;
    bool stopped;  /* a row stopped the batch (all or nothing, or a fatal failure) */
    size_t failed; /* that row */
};

static enum lt_code batch_fn(struct store_conn *c, void *arg, struct lt_error *err)
{
    struct batch *b = arg;

    for (size_t i = 0; i < b->count; i++) {
        struct registry_result *r = &b->res[i];
        bool fatal;

        if (r->code != LT_OK) {
            continue;
        }
        r->code = write_row(c, b->n->log, &b->p[i], &r->version, &fatal, &r->err);
        if (r->code != LT_OK && (b->all || fatal)) {
            b->stopped = true;
            b->failed = i;
            *err = r->err;
            return r->code;
        }
    }
    return LT_OK;
}

/*
 * After a batch that wrote nothing (rc): every change but the one that
 * stopped it, and but those refused on their own in a partial batch, is
 * reported not written.
 */
static void mark_unwritten(struct batch *b, enum lt_code rc, const struct lt_error *why)
{
    for (size_t i = 0; i < b->count; i++) {
        struct registry_result *r = &b->res[i];

        if (b->stopped && i == b->failed) {
            continue;
        }
        if (r->code != LT_OK && !b->all) {
            continue;
        }
        r->code = rc;
        r->version = 0;
        if (b->stopped) {
            lt_error_set(&r->err, rc, "not written: row %zu was refused (%s)", b->failed,
                         why->message);
        } else {
            r->err = *why;
        }
    }
}

enum lt_code registry_write_batch(struct node *n, const struct registry_change *changes,
                                  size_t count, bool all_or_nothing,
                                  struct registry_result *results, size_t *written,
                                  struct lt_error *err)
{
    struct batch b = { .n = n, .count = count, .all = all_or_nothing, .res = results };
    enum lt_code rc = LT_OK;
    size_t todo = 0;

    if (written != NULL) {
        *written = 0;
    }
    if (count > REGISTRY_BATCH_MAX) {
        return lt_error_set(err, LT_ETOOBIG, "%zu changes in one batch, over the limit of %d",
                            count, REGISTRY_BATCH_MAX);
    }
    b.p = xcalloc(count ? count : 1, sizeof(*b.p));
    for (size_t i = 0; i < count; i++) {
        results[i].code = LT_OK;
        results[i].version = 0;
        lt_error_clear(&results[i].err);
    }
    for (size_t i = 0; i < count && !b.stopped; i++) {
        results[i].code = prepare(n->u, &changes[i], &b.p[i], &results[i].err);
        if (results[i].code != LT_OK && all_or_nothing) {
            b.stopped = true;
            b.failed = i;
            rc = results[i].code;
            *err = results[i].err;
        }
        todo += results[i].code == LT_OK;
    }
    if (!b.stopped && todo > 0) {
        rc = store_write(n->store, batch_fn, &b, err);
    }
    if (rc != LT_OK) {
        struct lt_error why = b.stopped ? results[b.failed].err : *err;

        mark_unwritten(&b, rc, &why);
        if (b.stopped && count > 1) {
            lt_error_set(err, rc, "row %zu: %s", b.failed, why.message);
            snprintf(err->detail, sizeof(err->detail), "%s", why.detail);
            snprintf(err->hint, sizeof(err->hint), "%s", why.hint);
            snprintf(err->field, sizeof(err->field), "%s", why.field);
        } else {
            *err = why;
        }
    }
    for (size_t i = 0; i < count; i++) {
        if (written != NULL && results[i].code == LT_OK) {
            (*written)++;
        }
        prep_release(&b.p[i]);
    }
    free(b.p);
    return rc;
}

enum lt_code registry_write(struct node *n, const struct registry_change *ch, int64_t *version,
                            struct lt_error *err)
{
    struct registry_result r;
    enum lt_code rc;

    rc = registry_write_batch(n, ch, 1, true, &r, NULL, err);
    if (version != NULL) {
        *version = r.version;
    }
    return rc;
}
/* Reading. */
