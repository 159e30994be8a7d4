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

#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "core/date.h"
#include "core/utf8.h"
#include "registry/kinds.h"
#include "core/banned.h"

struct prep {
    const struct kind_def *k;
    json_t *canon;
    char *text;
    size_t len;
    bool skip_same; /* registry_change.skip_same */
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
    rc = canon_dump(p->canon, EVLOG_BODY_MAX + 1, &p->text, &len);
    if (rc == LT_EINVAL) {
        p->text = json_dumps(p->canon, REG_DUMP_FLAGS);
        len = p->text != NULL ? strlen(p->text) : 0;
    }
    if (p->text == NULL && rc != LT_ETOOBIG) {
        BUG("could not dump a canonical %s record", p->k->name);
    }
    if (rc == LT_ETOOBIG || len > EVLOG_BODY_MAX) {
        lt_error_set(err, LT_ETOOBIG, "the %s record is over the limit of %d bytes", p->k->name,
                     EVLOG_BODY_MAX);
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
    p->len = len;
    p->skip_same = ch->skip_same && ch->base_version > 0;
    return LT_OK;
}

struct same {
    const struct prep *p;
    bool same;
};

static void compare_row(const char *text, size_t len, int64_t version, const char *unit, void *arg)
{
    struct same *s = arg;

    (void)unit;
    s->same =
        version == s->p->ev.base_version && len == s->p->len && memcmp(text, s->p->text, len) == 0;
}

/*
 * Whether the record stands at the change's base version exactly as the
 * change would leave it.  A stale base is not "the same": the append then
 * refuses it as a conflict.
 */
static enum lt_code same_as_stored(struct store_conn *c, const struct prep *p, bool *same,
                                   struct lt_error *err)
{
    struct same s = { p, false };
    enum lt_code rc = db_read_row(c, p->k, p->f.key, compare_row, &s, err);

    if (rc == LT_ENOTFOUND) {
        lt_error_clear(err);
        rc = LT_OK;
    }
    *same = s.same;
    return rc;
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
    if (p->ev.base_version > current) {
        lt_error_set(err, LT_ECONFLICT, "%s \"%s\" has no version %lld yet", p->k->name, p->f.key,
                     (long long)p->ev.base_version);
        lt_error_detail(err, "current version %lld", (long long)current);
        lt_error_hint(err, "read it again and apply the change to version %lld",
                      (long long)current);
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
 * failure came after the append, so the callback must be abandoned; *retry
 * when the change was refused for a record it refers to that is missing.
 */
static enum lt_code write_row(struct store_conn *c, struct evlog *log, struct prep *p,
                              int64_t *version, bool *fatal, bool *retry, struct lt_error *err)
{
    int64_t current = 0;
    enum lt_code rc;

    *fatal = false;
    *retry = false;
    rc = p->k->check_db(c, &p->f, err);
    if (rc == LT_ENOTFOUND) {
        *retry = true;
        err->code = LT_EINVAL;
        return LT_EINVAL;
    }
    if (rc != LT_OK) {
        *fatal = rc != LT_EINVAL;
        return rc;
    }
    if (p->skip_same) {
        bool same;

        rc = same_as_stored(c, p, &same, err);
        if (rc != LT_OK) {
            *fatal = true;
            return rc;
        }
        if (same) {
            *version = p->ev.base_version;
            return LT_OK;
        }
    }
    /* the body is our own dump of the validated record: no need to parse it again */
    rc = evlog_append_trusted(log, c, &p->ev, &current, err);
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
        r->code = write_row(c, b->n->log, &b->p[i], &r->version, &fatal, &r->retry, &r->err);
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
        results[i].retry = false;
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

/* A batch of a stream, from push to reap. */
struct sbatch {
    struct prep *p;
    struct registry_result *res; /* the caller's */
    size_t count;
    void *tag;
    bool done; /* the writer went through it: it may be reaped */
    struct sbatch *next;
};

/*
 * The submitter thread calls store_write(stream_write) whenever batches
 * wait.  stream_write, in the store's writer thread, writes batches as
 * they come, waiting for the next one while the transaction is young, and
 * returns (and the store commits) once it holds STREAM_COMMIT_ROWS changes
 * or is STREAM_COMMIT_MS old; with all_or_nothing it returns only at
 * finish.  A batch is done (reapable) as soon as it is written, so that
 * the caller's slots come back without waiting for a commit: the commit's
 * fate is the stream's (finish reports a failed commit and counts only
 * what was committed).  mu guards everything below it; cond signals any
 * change of it.
 */
struct registry_stream {
    struct node *n;
    bool all;
    pthread_t thread;
    pthread_mutex_t mu;
    pthread_cond_t cond;
    struct sbatch *head, *tail; /* pushed and not reaped, oldest first */
    struct sbatch *todo;        /* the first not yet written */
    bool closing;               /* finish was called: no more pushes */
    bool abandon;               /* all_or_nothing: finish was told not to commit */
    bool failed;                /* a write of the stream failed: rc and err say why */
    enum lt_code rc;
    struct lt_error err;
    int64_t refused; /* changes refused (all_or_nothing: so far in its transaction) */
    int64_t pending; /* changes written in the open store_write, not yet committed */
    int64_t written; /* committed */
};

/*
 * Commit at least this often without all_or_nothing.  Each commit syncs
 * the log and may checkpoint it, which in a bulk import cost more than the
 * rows when done per batch; a few seconds of rows is still little to redo.
 */
#define STREAM_COMMIT_ROWS 200000
#define STREAM_COMMIT_MS   3000
/* XXX: other writes of the process wait while a stream holds the writer (up to 3 s) */

static void sbatch_free(struct sbatch *b)
{
    for (size_t i = 0; i < b->count; i++) {
        prep_release(&b->p[i]);
    }
    free(b->p);
    free(b);
}

/* Write one batch in the writer thread; non-OK only for a failure that abandons the write. */
static enum lt_code stream_batch(struct store_conn *c, struct registry_stream *s, struct sbatch *b,
                                 int64_t *written, int64_t *refused, struct lt_error *err)
{
    for (size_t i = 0; i < b->count; i++) {
        struct registry_result *r = &b->res[i];
        bool fatal;

        if (r->code != LT_OK) {
            continue;
        }
        r->code = write_row(c, s->n->log, &b->p[i], &r->version, &fatal, &r->retry, &r->err);
        if (r->code != LT_OK && fatal) {
            *err = r->err;
            return r->code;
        }
        *written += r->code == LT_OK;
        *refused += r->code != LT_OK && !r->retry;
    }
    return LT_OK;
}

static void deadline_after(struct timespec *t, long ms)
{
    clock_gettime(CLOCK_REALTIME, t);
    t->tv_sec += ms / 1000;
    t->tv_nsec += (ms % 1000) * 1000000L;
    if (t->tv_nsec >= 1000000000L) {
        t->tv_sec++;
        t->tv_nsec -= 1000000000L;
    }
}

static bool passed(const struct timespec *t)
{
    struct timespec now;

    clock_gettime(CLOCK_REALTIME, &now);
    return now.tv_sec > t->tv_sec || (now.tv_sec == t->tv_sec && now.tv_nsec >= t->tv_nsec);
}

static enum lt_code stream_write(struct store_conn *c, void *arg, struct lt_error *err)
{
    struct registry_stream *s = arg;
    struct timespec deadline;
    int64_t rows = 0;
    enum lt_code rc = LT_OK;

    deadline_after(&deadline, STREAM_COMMIT_MS);
    pthread_mutex_lock(&s->mu);
    for (;;) {
        struct sbatch *b = s->todo;
        int64_t written = 0, refused = 0;
        bool full = !s->all && (rows >= STREAM_COMMIT_ROWS || passed(&deadline));

        if (b == NULL || full) {
            if (s->closing || full) {
                break;
            }
            if (s->all) {
                pthread_cond_wait(&s->cond, &s->mu);
            } else {
                pthread_cond_timedwait(&s->cond, &s->mu, &deadline);
            }
            continue;
        }
        pthread_mutex_unlock(&s->mu);
        rc = stream_batch(c, s, b, &written, &refused, err);
        pthread_mutex_lock(&s->mu);
        s->todo = b->next;
        s->pending += written;
        s->refused += refused;
        rows += (int64_t)b->count;
        b->done = true;
        pthread_cond_broadcast(&s->cond);
        if (rc != LT_OK) {
            break;
        }
    }
    if (rc == LT_OK && s->all && s->refused > 0) {
        rc = lt_error_set(err, LT_EINVAL, "%lld change%s refused: nothing written",
                          (long long)s->refused, s->refused == 1 ? " was" : "s were");
        lt_error_hint(err, "correct the refused rows and import again");
    } else if (rc == LT_OK && s->all && s->abandon) {
        rc = lt_error_set(err, LT_EINVAL, "the stream was abandoned: nothing written");
    }
    pthread_mutex_unlock(&s->mu);
    return rc;
}

/* Fail the changes of a batch not yet written that were not refused on their own. */
static void sbatch_fail(struct sbatch *b, enum lt_code rc, const struct lt_error *why)
{
    for (size_t i = 0; i < b->count; i++) {
        struct registry_result *r = &b->res[i];

        if (r->code == LT_OK) {
            r->code = rc;
            r->version = 0;
            r->retry = false;
            lt_error_set(&r->err, rc, "not written: %s", why->message);
        }
    }
    b->done = true;
}

/*
 * After a store_write of the stream (under mu): count what it committed,
 * or on failure fail the stream and every batch still waiting.  The
 * batches it went through were made done as it went (and may be freed
 * already): they are not touched.
 */
static void settle(struct registry_stream *s, enum lt_code rc, const struct lt_error *why)
{
    if (rc == LT_OK) {
        s->written += s->pending;
    } else {
        for (struct sbatch *b = s->todo; b != NULL; b = b->next) {
            sbatch_fail(b, rc, why);
        }
        s->todo = NULL;
        s->failed = true;
        s->rc = rc;
        s->err = *why;
    }
    s->pending = 0;
}

static void *submitter(void *arg)
{
    struct registry_stream *s = arg;
    struct lt_error err;

    pthread_mutex_lock(&s->mu);
    for (;;) {
        enum lt_code rc;

        while (s->todo == NULL && !s->closing) {
            pthread_cond_wait(&s->cond, &s->mu);
        }
        if (s->todo == NULL) {
            break;
        }
        pthread_mutex_unlock(&s->mu);
        lt_error_clear(&err);
        rc = store_write(s->n->store, stream_write, s, &err);
        pthread_mutex_lock(&s->mu);
        settle(s, rc, &err);
        pthread_cond_broadcast(&s->cond);
        if (s->all || s->failed) {
            break;
        }
    }
    pthread_mutex_unlock(&s->mu);
    return NULL;
}

enum lt_code registry_stream_open(struct node *n, bool all_or_nothing, struct registry_stream **out,
                                  struct lt_error *err)
{
    struct registry_stream *s = xcalloc(1, sizeof(*s));

    *out = NULL;
    s->n = n;
    s->all = all_or_nothing;
    pthread_mutex_init(&s->mu, NULL);
    pthread_cond_init(&s->cond, NULL);
    if (pthread_create(&s->thread, NULL, submitter, s) != 0) {
        pthread_mutex_destroy(&s->mu);
        pthread_cond_destroy(&s->cond);
        free(s);
        return lt_error_set(err, LT_EIO, "could not start the thread of a write stream");
    }
    *out = s;
    return LT_OK;
}

enum lt_code registry_stream_push(struct registry_stream *s, const struct registry_change *changes,
                                  size_t count, struct registry_result *results, void *tag,
                                  struct lt_error *err)
{
    struct sbatch *b;
    int64_t refused = 0;

    if (count > REGISTRY_BATCH_MAX) {
        return lt_error_set(err, LT_ETOOBIG, "%zu changes in one batch, over the limit of %d",
                            count, REGISTRY_BATCH_MAX);
    }
    pthread_mutex_lock(&s->mu);
    if (s->failed || s->closing) {
        enum lt_code rc = s->failed ? s->rc : LT_EINTERNAL;

        if (s->failed) {
            *err = s->err;
        } else {
            lt_error_set(err, rc, "registry_stream_push after registry_stream_finish");
        }
        pthread_mutex_unlock(&s->mu);
        return rc;
    }
    pthread_mutex_unlock(&s->mu);

    b = xcalloc(1, sizeof(*b));
    b->p = xcalloc(count ? count : 1, sizeof(*b->p));
    b->res = results;
    b->count = count;
    b->tag = tag;
    for (size_t i = 0; i < count; i++) {
        results[i].version = 0;
        results[i].retry = false;
        lt_error_clear(&results[i].err);
        results[i].code = prepare(s->n->u, &changes[i], &b->p[i], &results[i].err);
        refused += results[i].code != LT_OK;
    }

    pthread_mutex_lock(&s->mu);
    s->refused += refused;
    if (s->tail != NULL) {
        s->tail->next = b;
    } else {
        s->head = b;
    }
    s->tail = b;
    if (s->todo == NULL) {
        s->todo = b;
    }
    pthread_cond_broadcast(&s->cond);
    pthread_mutex_unlock(&s->mu);
    return LT_OK;
}

bool registry_stream_reap(struct registry_stream *s, void **tag)
{
    struct sbatch *b;

    pthread_mutex_lock(&s->mu);
    b = s->head;
    while (b != NULL && !b->done) {
        pthread_cond_wait(&s->cond, &s->mu);
    }
    if (b != NULL) {
        s->head = b->next;
        if (s->head == NULL) {
            s->tail = NULL;
        }
    }
    pthread_mutex_unlock(&s->mu);
    if (b == NULL) {
        return false;
    }
    *tag = b->tag;
    sbatch_free(b);
    return true;
}

enum lt_code registry_stream_finish(struct registry_stream *s, bool commit, int64_t *written,
                                    struct lt_error *err)
{
    enum lt_code rc;

    pthread_mutex_lock(&s->mu);
    s->closing = true;
    s->abandon = !commit;
    pthread_cond_broadcast(&s->cond);
    pthread_mutex_unlock(&s->mu);
    pthread_join(s->thread, NULL);

    rc = s->failed ? s->rc : LT_OK;
    if (rc != LT_OK) {
        *err = s->err;
    }
    if (written != NULL) {
        *written = s->written;
    }
    while (s->head != NULL) {
        struct sbatch *b = s->head;

        s->head = b->next;
        sbatch_free(b);
    }
    pthread_mutex_destroy(&s->mu);
    pthread_cond_destroy(&s->cond);
    free(s);
    return rc;
}

enum lt_code registry_write_in(struct node *n, struct store_conn *c,
                               const struct registry_change *ch, int64_t *version,
                               struct lt_error *err)
{
    struct prep p;
    bool fatal, retry;
    int64_t v = 0;
    enum lt_code rc;

    rc = prepare(n->u, ch, &p, err);
    if (rc == LT_OK) {
        rc = write_row(c, n->log, &p, &v, &fatal, &retry, err);
    }
    prep_release(&p);
    if (version != NULL) {
        *version = v;
    }
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
