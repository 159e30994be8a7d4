/*
 * audit.c - the recorder: the queue of accesses, the flusher that writes
 * them as events, and the projection (see audit.h).
 *
 * The queue is an array under a mutex; audit_record copies an access into
 * it and returns.  A flush swaps the array out under the mutex and writes
 * it with one store_write, so readers never wait for the write.  Flushes
 * are serialised by their own mutex (the flusher thread and audit_flush
 * may both run one).  Local batches and batches from children are
 * projected by the same code, from the event body.
 */
#include "audit/audit.h"

#include <errno.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "core/buf.h"
#include "core/date.h"
#include "core/log.h"
#include "core/utf8.h"
#include "core/banned.h"

#define FLUSH_MS_DEFAULT   150
#define PROJECT_MS_DEFAULT 5000
#define PROJECT_PENDING    131072 /* or sooner, when this many accesses wait (~30 MB) */
#define ENTITY_PREFIX      "audit/"

/*
 * One row per (access, record).  A person read is found by the person
 * index (its key is its person), so the subject index leaves person rows
 * out: one index fewer to update on the hot path of point reads.
 */
const char audit_schema_sql[] =
    "CREATE TABLE audit_log ("
    " id INTEGER PRIMARY KEY,"
    " time_ms INTEGER NOT NULL,"
    " origin TEXT NOT NULL,"
    " seq INTEGER NOT NULL,"
    " n INTEGER NOT NULL,"
    " actor TEXT NOT NULL,"
    " role TEXT NOT NULL,"
    " actor_unit TEXT NOT NULL,"
    " client TEXT NOT NULL,"
    " purpose TEXT NOT NULL,"
    " sealed_until INTEGER,"
    " action TEXT NOT NULL,"
    " subject_kind TEXT NOT NULL,"
    " subject_key TEXT NOT NULL,"
    " person TEXT);"
    "CREATE INDEX audit_log_person ON audit_log (person, id) WHERE person IS NOT NULL;"
    "CREATE INDEX audit_log_subject ON audit_log (subject_kind, subject_key, id) "
    "WHERE subject_kind <> 'person';"
    "CREATE INDEX audit_log_actor ON audit_log (actor, id);"
    "CREATE TABLE audit_state ("
    " origin TEXT PRIMARY KEY,"
    " projected_pos INTEGER NOT NULL);";

static const char sql_max_id[] = "SELECT max(id) FROM audit_log";
static const char sql_state_get[] = "SELECT projected_pos FROM audit_state WHERE origin = ?";
static const char sql_state_new[] = "INSERT INTO audit_state (origin, projected_pos) VALUES (?, ?)";
/* Never backwards: "lienthong export" may project its own access meanwhile. */
static const char sql_state_set[] =
    "UPDATE audit_state SET projected_pos = ? WHERE origin = ? AND projected_pos < ?";
static const char sql_insert[] =
    "INSERT INTO audit_log (id, time_ms, origin, seq, n, actor, role, actor_unit, client, "
    "purpose, sealed_until, action, subject_kind, subject_key, person) "
    "VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)";

/*
 * A queued access: its own copy of everything, packed in one allocation
 * (subjects first, then the six texts), so that the accesses waiting for
 * the projection cost their bytes and not their caps.
 */
struct entry {
    int64_t time_ms;
    int32_t sealed_until;
    const char *actor, *role, *unit, *client, *purpose, *action; /* in subjects' block */
    size_t nsubjects;
    char *subjects;   /* nsubjects * 3 NUL-terminated strings: kind, key, person */
    int64_t seq, pos; /* its event, once written */
    int64_t n;        /* its place in the event */
};

struct queue {
    struct entry *items;
    size_t n, cap;
};

struct audit {
    struct store *store;
    struct evlog *log;
    int flush_ms;
    int project_ms;

    pthread_mutex_t mu; /* guards q, stop, written */
    pthread_cond_t wake;
    struct queue q;
    bool stop;
    uint64_t written;

    pthread_mutex_t flush_mu; /* one flush at a time; guards pending, last_project */
    struct queue pending;     /* written as events, not yet in audit_log */
    int64_t last_project;
    pthread_t thread;
};

static int64_t now_ms(void)
{
    struct timespec ts;

    clock_gettime(CLOCK_REALTIME, &ts);
    return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static void queue_release(struct queue *q)
{
    for (size_t i = 0; i < q->n; i++) {
        free(q->items[i].subjects);
    }
    free(q->items);
    memset(q, 0, sizeof(*q));
}

/* The length of a text field, checked: valid UTF-8 under cap bytes. */
static enum lt_code check_field(const char *src, size_t cap, const char *name, size_t *len,
                                struct lt_error *err)
{
    *len = src != NULL ? strlen(src) : 0;
    if (*len >= cap || !utf8_valid_text(src != NULL ? src : "", *len, NULL)) {
        lt_error_set(err, LT_EINVAL, "audit %s is not text of at most %zu bytes", name, cap - 1);
        return LT_EINVAL;
    }
    return LT_OK;
}

/* The bytes of the packed subjects of acc, or 0 if one of them is not fit to record. */
static size_t subjects_size(const struct audit_access *acc)
{
    size_t total = 0;

    for (size_t i = 0; i < acc->nsubjects; i++) {
        const struct audit_subject *s = &acc->subjects[i];
        const char *parts[3] = { s->kind, s->key, s->person != NULL ? s->person : "" };

        for (int j = 0; j < 3; j++) {
            size_t len = strlen(parts[j]);

            if (len >= AUDIT_KEY_MAX || !utf8_valid_text(parts[j], len, NULL)) {
                return 0;
            }
            total += len + 1;
        }
    }
    return total;
}

/* Fill e from acc (subjects packed into one allocation). */
static enum lt_code entry_fill(struct entry *e, const struct audit_access *acc,
                               struct lt_error *err)
{
    const char *src[6] = {
        acc->actor, acc->role, acc->unit, acc->client, acc->purpose, acc->action
    };
    static const char *const names[6] = { "actor", "role", "unit", "client", "purpose", "action" };
    static const size_t caps[6] = { AUDIT_ACTOR_MAX,       16, AUDIT_UNIT_MAX, AUDIT_CLIENT_MAX,
                                    AUDIT_PURPOSE_MAX + 1, 16 };
    const char **dst[6];
    size_t len[6];
    size_t total = subjects_size(acc);
    char *p;
    enum lt_code rc;

    memset(e, 0, sizeof(*e));
    if (acc->nsubjects == 0 || total == 0) {
        return lt_error_set(err, LT_EINVAL, "an access must name records by text keys");
    }
    for (int i = 0; i < 6; i++) {
        if ((rc = check_field(src[i], caps[i], names[i], &len[i], err)) != LT_OK) {
            return rc;
        }
        total += len[i] + 1;
    }
    e->time_ms = now_ms();
    e->sealed_until = acc->sealed_until;
    e->nsubjects = acc->nsubjects;
    e->subjects = p = xmalloc(total);
    for (size_t i = 0; i < acc->nsubjects; i++) {
        const struct audit_subject *s = &acc->subjects[i];
        const char *parts[3] = { s->kind, s->key, s->person != NULL ? s->person : "" };

        for (int j = 0; j < 3; j++) {
            size_t n = strlen(parts[j]) + 1;

            memcpy(p, parts[j], n);
            p += n;
        }
    }
    dst[0] = &e->actor, dst[1] = &e->role, dst[2] = &e->unit;
    dst[3] = &e->client, dst[4] = &e->purpose, dst[5] = &e->action;
    for (int i = 0; i < 6; i++) {
        memcpy(p, src[i] != NULL ? src[i] : "", len[i]);
        p[len[i]] = '\0';
        *dst[i] = p;
        p += len[i] + 1;
    }
    return LT_OK;
}

/*
 * A JSON string of valid UTF-8 text (entry_fill checked it): quotes,
 * backslashes and control characters escaped, the rest as it is.
 */
static void put_str(struct buf *b, const char *s)
{
    static const char hex[] = "0123456789abcdef";
    const unsigned char *p = (const unsigned char *)s, *run = p;

    buf_append_char(b, '"');
    for (; *p != '\0'; p++) {
        if (*p == '"' || *p == '\\' || *p < 0x20) {
            char esc[6] = { '\\', (char)*p, 0, 0, 0, 0 };
            size_t n = 2;

            if (*p < 0x20) {
                esc[1] = 'u';
                esc[2] = '0';
                esc[3] = '0';
                esc[4] = hex[*p >> 4];
                esc[5] = hex[*p & 15];
                n = 6;
            }
            buf_append(b, run, (size_t)(p - run));
            buf_append(b, esc, n);
            run = p + 1;
        }
    }
    buf_append(b, run, (size_t)(p - run));
    buf_append_char(b, '"');
}

/* Walk the packed subjects of e: kind, key and person of subject i. */
static const char *next_subject(const char *p, const char **kind, const char **key,
                                const char **person)
{
    *kind = p;
    *key = *kind + strlen(*kind) + 1;
    *person = *key + strlen(*key) + 1;
    return *person + strlen(*person) + 1;
}

/*
 * One access as it travels in an event body, written as text rather than
 * built with jansson (a third of the flusher's time went to jansson):
 * {"time_ms", "actor", "role", "unit", "client", "purpose", "action",
 * "sealed_until"?, "records": [[kind, key, person], ...]}.
 */
static void put_entry(struct buf *b, const struct entry *e)
{
    static const char *const names[6] = { ",\"actor\":",  ",\"role\":",    ",\"unit\":",
                                          ",\"client\":", ",\"purpose\":", ",\"action\":" };
    const char *values[6] = { e->actor, e->role, e->unit, e->client, e->purpose, e->action };
    const char *p = e->subjects, *kind, *key, *person;
    char num[32];
    int n = snprintf(num, sizeof(num), "{\"time_ms\":%lld", (long long)e->time_ms);

    buf_append(b, num, (size_t)n);
    for (int i = 0; i < 6; i++) {
        buf_append_str(b, names[i]);
        put_str(b, values[i]);
    }
    if (e->sealed_until != DATE_MIN) {
        char day[DATE_STR_MAX];

        date_format(e->sealed_until, day);
        buf_append_str(b, ",\"sealed_until\":");
        put_str(b, day);
    }
    buf_append_str(b, ",\"records\":[");
    for (size_t i = 0; i < e->nsubjects; i++) {
        p = next_subject(p, &kind, &key, &person);
        buf_append_str(b, i > 0 ? ",[" : "[");
        put_str(b, kind);
        buf_append_char(b, ',');
        put_str(b, key);
        buf_append_char(b, ',');
        put_str(b, person);
        buf_append_char(b, ']');
    }
    buf_append_str(b, "]}");
}

/* The columns of an access shared by its rows. */
struct access_cols {
    const char *origin;
    int64_t seq, n, time_ms;
    int32_t sealed;
    const char *text[6]; /* actor, role, unit, client, purpose, action */
};

static void bind_static(struct store_stmt *st, int i, const char *s)
{
    store_bind_text_static(st, i, s, s != NULL ? strlen(s) : 0);
}

static enum lt_code insert_row(struct store_conn *c, const struct access_cols *a, int64_t id,
                               const char *kind, const char *key, const char *person,
                               struct lt_error *err)
{
    struct store_stmt *st;
    enum lt_code rc = store_prepare(c, sql_insert, &st, err);

    if (rc != LT_OK) {
        return rc;
    }
    /* The texts outlive the statement's step (store_exec_stmt resets it): no copies. */
    store_bind_int(st, 1, id);
    store_bind_int(st, 2, a->time_ms);
    bind_static(st, 3, a->origin);
    store_bind_int(st, 4, a->seq);
    store_bind_int(st, 5, a->n);
    for (int f = 0; f < 5; f++) {
        bind_static(st, 6 + f, a->text[f]);
    }
    if (a->sealed != DATE_MIN) {
        store_bind_int(st, 11, a->sealed);
    } else {
        store_bind_null(st, 11);
    }
    bind_static(st, 12, a->text[5]);
    bind_static(st, 13, kind);
    bind_static(st, 14, key);
    bind_static(st, 15, person[0] != '\0' ? person : NULL);
    return store_exec_stmt(st, err);
}

static const char *jstr(const json_t *o, const char *name)
{
    return json_string_value(json_object_get(o, name));
}

/* Insert the rows of one access of an event body from a child; *id is the last row id used. */
static enum lt_code project_access(struct store_conn *c, struct access_cols *a, const json_t *acc,
                                   int64_t *id, struct lt_error *err)
{
    static const char *const names[6] = { "actor", "role", "unit", "client", "purpose", "action" };
    const json_t *records = json_object_get(acc, "records");
    const char *sealed = jstr(acc, "sealed_until");
    json_t *t = json_object_get(acc, "time_ms"), *r;
    struct lt_error why;
    size_t i;

    for (int f = 0; f < 6; f++) {
        if ((a->text[f] = jstr(acc, names[f])) == NULL) {
            return lt_error_set(err, LT_EINVAL, "an audit access lacks \"%s\"", names[f]);
        }
    }
    a->sealed = DATE_MIN;
    if (!json_is_integer(t) || !json_is_array(records) || json_array_size(records) == 0 ||
        (sealed != NULL && date_parse(sealed, &a->sealed, &why) != LT_OK)) {
        return lt_error_set(err, LT_EINVAL, "an audit access is malformed");
    }
    a->time_ms = json_integer_value(t);
    json_array_foreach(records, i, r)
    {
        const char *kind = json_string_value(json_array_get(r, 0));
        const char *key = json_string_value(json_array_get(r, 1));
        const char *person = json_string_value(json_array_get(r, 2));
        enum lt_code rc;

        if (kind == NULL || key == NULL || person == NULL) {
            return lt_error_set(err, LT_EINVAL, "an audit record is not [kind, key, person]");
        }
        if ((rc = insert_row(c, a, ++*id, kind, key, person, err)) != LT_OK) {
            return rc;
        }
    }
    return LT_OK;
}

static enum lt_code max_id(struct store_conn *c, int64_t *id, struct lt_error *err)
{
    struct store_stmt *st;
    enum lt_code rc = store_prepare(c, sql_max_id, &st, err);
    enum store_step step;

    if (rc != LT_OK) {
        return rc;
    }
    step = store_step(st, err);
    if (step == STORE_ERROR) {
        return err->code;
    }
    *id = step == STORE_ROW ? store_col_int(st, 0) : 0;
    store_step(st, err); /* done: let the statement go */
    return LT_OK;
}

/* Project every access of an audit event body from a child. */
static enum lt_code project_body(struct store_conn *c, const char *origin, int64_t seq,
                                 const json_t *body, struct lt_error *err)
{
    const json_t *accesses = json_object_get(body, "accesses");
    struct access_cols a = { .origin = origin, .seq = seq };
    int64_t id = 0;
    size_t i;
    json_t *acc;
    enum lt_code rc;

    if (!json_is_array(accesses)) {
        return lt_error_set(err, LT_EINVAL, "an audit event has no \"accesses\" array");
    }
    if ((rc = max_id(c, &id, err)) != LT_OK) {
        return rc;
    }
    json_array_foreach(accesses, i, acc)
    {
        a.n = (int64_t)i;
        if ((rc = project_access(c, &a, acc, &id, err)) != LT_OK) {
            return rc;
        }
    }
    return LT_OK;
}

/* Project this node's own entries (written as events), as project_body would from them. */
static enum lt_code project_entries(struct store_conn *c, const char *origin, const struct entry *e,
                                    size_t count, struct lt_error *err)
{
    struct access_cols a = { .origin = origin };
    int64_t id = 0;
    enum lt_code rc = max_id(c, &id, err);

    for (size_t i = 0; rc == LT_OK && i < count; i++) {
        const char *p = e[i].subjects, *kind, *key, *person;

        a.seq = e[i].seq;
        a.n = e[i].n;
        a.time_ms = e[i].time_ms;
        a.sealed = e[i].sealed_until;
        a.text[0] = e[i].actor;
        a.text[1] = e[i].role;
        a.text[2] = e[i].unit;
        a.text[3] = e[i].client;
        a.text[4] = e[i].purpose;
        a.text[5] = e[i].action;
        for (size_t j = 0; rc == LT_OK && j < e[i].nsubjects; j++) {
            p = next_subject(p, &kind, &key, &person);
            rc = insert_row(c, &a, ++id, kind, key, person, err);
        }
    }
    return rc;
}

/* What a flush writes: entries[0..n) of a swapped-out queue. */
struct flush_job {
    struct evlog *log;
    struct entry *entries;
    size_t n;
    bool events, project; /* what to write */
    struct buf body;      /* reused for each event */
};

/* Append one event for count entries; *seq is its sequence number. */
static enum lt_code write_chunk(struct store_conn *c, struct flush_job *j, struct entry *e,
                                size_t count, struct lt_error *err)
{
    struct event ev;
    int64_t version = 0;
    enum lt_code rc;

    buf_reset(&j->body);
    buf_append_str(&j->body, "{\"accesses\":[");
    for (size_t i = 0; i < count; i++) {
        if (i > 0) {
            buf_append_char(&j->body, ',');
        }
        put_entry(&j->body, &e[i]);
    }
    if (buf_append_str(&j->body, "]}") != LT_OK) {
        BUG("an audit event body outgrew its cap");
    }
    memset(&ev, 0, sizeof(ev));
    snprintf(ev.entity, sizeof(ev.entity), ENTITY_PREFIX "%s", evlog_origin(j->log));
    rc = evlog_entity_version(c, ev.entity, &version, err);
    if (rc != LT_OK) {
        return rc;
    }
    snprintf(ev.actor, sizeof(ev.actor), "audit");
    snprintf(ev.type, sizeof(ev.type), AUDIT_EVENT_TYPE);
    snprintf(ev.cause, sizeof(ev.cause), "audit");
    ev.base_version = version;
    ev.effective = date_today();
    ev.body = j->body.data;
    rc = evlog_append_trusted(j->log, c, &ev, NULL, err);
    for (size_t i = 0; rc == LT_OK && i < count; i++) {
        e[i].seq = ev.seq;
        e[i].pos = ev.pos;
        e[i].n = (int64_t)i;
    }
    return rc;
}

/* Record that this node's audit events up to pos are in audit_log. */
static enum lt_code state_set(struct store_conn *c, const char *origin, int64_t pos,
                              struct lt_error *err)
{
    struct store_stmt *st;
    enum lt_code rc = store_prepare(c, sql_state_set, &st, err);

    if (rc == LT_OK) {
        store_bind_int(st, 1, pos);
        store_bind_text(st, 2, origin);
        store_bind_int(st, 3, pos);
        rc = store_exec_stmt(st, err);
    }
    return rc;
}

static enum lt_code flush_write(struct store_conn *c, void *arg, struct lt_error *err)
{
    struct flush_job *j = arg;
    enum lt_code rc = LT_OK;

    for (size_t at = 0; j->events && rc == LT_OK && at < j->n; at += AUDIT_EVENT_ACCESSES) {
        size_t count = j->n - at < AUDIT_EVENT_ACCESSES ? j->n - at : AUDIT_EVENT_ACCESSES;

        rc = write_chunk(c, j, j->entries + at, count, err);
    }
    if (rc == LT_OK && j->project && j->n > 0) {
        rc = project_entries(c, evlog_origin(j->log), j->entries, j->n, err);
        if (rc == LT_OK) {
            rc = state_set(c, evlog_origin(j->log), j->entries[j->n - 1].pos, err);
        }
    }
    return rc;
}

/* Write entries[0..n) in one store_write: as events, into audit_log, or both. */
static enum lt_code write_entries(struct store *s, struct evlog *log, struct entry *entries,
                                  size_t n, bool events, bool project, struct lt_error *err)
{
    struct flush_job j = { log, entries, n, events, project, { 0 } };
    enum lt_code rc;

    buf_init(&j.body, EVLOG_BODY_MAX);
    rc = store_write(s, flush_write, &j, err);
    buf_release(&j.body);
    return rc;
}

/* Append the entries of from to to (from is left empty). */
static void queue_move(struct queue *to, struct queue *from)
{
    if (to->n + from->n > to->cap) {
        to->cap = to->n + from->n;
        to->items = xrealloc(to->items, to->cap * sizeof(*to->items));
    }
    memcpy(to->items + to->n, from->items, from->n * sizeof(*from->items));
    to->n += from->n;
    free(from->items);
    memset(from, 0, sizeof(*from));
}

/* Put entries taken by a failed flush back in front of the queue. */
static void requeue(struct audit *a, struct queue *taken)
{
    pthread_mutex_lock(&a->mu);
    queue_move(taken, &a->q);
    a->q = *taken;
    pthread_mutex_unlock(&a->mu);
    memset(taken, 0, sizeof(*taken));
}

/*
 * Write the queue as events (durable: this bounds what a crash loses) and
 * keep its entries pending; project the pending ones into audit_log when
 * project is set, or project_ms has passed, or many wait.  Projecting
 * less often is what makes the trail cheap: each projection dirties index
 * pages all over the person index, and the WAL writes each page once per
 * commit however many rows landed on it.
 */
static enum lt_code flush(struct audit *a, bool project, struct lt_error *err)
{
    struct queue taken;
    enum lt_code rc = LT_OK;

    pthread_mutex_lock(&a->flush_mu);
    pthread_mutex_lock(&a->mu);
    taken = a->q;
    memset(&a->q, 0, sizeof(a->q));
    pthread_mutex_unlock(&a->mu);
    if (taken.n > 0) {
        rc = write_entries(a->store, a->log, taken.items, taken.n, true, false, err);
        if (rc != LT_OK) {
            requeue(a, &taken);
            goto out;
        }
        pthread_mutex_lock(&a->mu);
        a->written += taken.n;
        pthread_mutex_unlock(&a->mu);
        queue_move(&a->pending, &taken);
    }
    if (a->pending.n > 0 && (project || now_ms() - a->last_project >= a->project_ms ||
                             a->pending.n >= PROJECT_PENDING)) {
        /* XXX: the access log lags the trail by up to project_ms (five seconds). */
        rc = write_entries(a->store, a->log, a->pending.items, a->pending.n, false, true, err);
        if (rc == LT_OK) {
            queue_release(&a->pending);
            a->last_project = now_ms();
        }
    }

out:
    pthread_mutex_unlock(&a->flush_mu);
    return rc;
}

enum lt_code audit_flush(struct audit *a, struct lt_error *err)
{
    return flush(a, true, err);
}

static void *flusher(void *arg)
{
    struct audit *a = arg;
    struct lt_error err;

    pthread_mutex_lock(&a->mu);
    while (!a->stop) {
        struct timespec until;

        clock_gettime(CLOCK_REALTIME, &until);
        until.tv_nsec += (long)a->flush_ms * 1000000L;
        until.tv_sec += until.tv_nsec / 1000000000L;
        until.tv_nsec %= 1000000000L;
        while (!a->stop && pthread_cond_timedwait(&a->wake, &a->mu, &until) != ETIMEDOUT) {
        }
        pthread_mutex_unlock(&a->mu);
        /* XXX: accesses queued since the last flush are lost if the process dies now. */
        if (flush(a, false, &err) != LT_OK) {
            log_error("audit", "could not write the audit trail (kept queued): %s", err.message);
        }
        pthread_mutex_lock(&a->mu);
    }
    pthread_mutex_unlock(&a->mu);
    return NULL;
}

/* Recovery: this node's audit events after the projected position. */
struct recover {
    const char *origin;
    int64_t pos;
    size_t events;
    struct store_conn *c;
};

static enum lt_code recover_event(const struct event *ev, void *arg, struct lt_error *err)
{
    struct recover *r = arg;
    json_t *body;
    enum lt_code rc;

    if (strcmp(ev->origin, r->origin) != 0 || strcmp(ev->type, AUDIT_EVENT_TYPE) != 0) {
        return LT_OK;
    }
    body = json_loads(ev->body, 0, NULL);
    rc = project_body(r->c, ev->origin, ev->seq, body, err);
    json_decref(body);
    r->pos = ev->pos;
    r->events++;
    return rc;
}

/*
 * Bring audit_log up to this node's own audit events: those written but
 * not projected when the process last stopped (at most project_ms of
 * them, after a crash).  A node's first start records where its trail
 * begins.
 */
static enum lt_code recover_write(struct store_conn *c, void *arg, struct lt_error *err)
{
    struct recover *r = arg;
    struct store_stmt *st;
    enum store_step step;
    int64_t from;
    enum lt_code rc = store_prepare(c, sql_state_get, &st, err);

    if (rc != LT_OK) {
        return rc;
    }
    store_bind_text(st, 1, r->origin);
    step = store_step(st, err);
    if (step == STORE_ERROR) {
        return err->code;
    }
    if (step == STORE_DONE) {
        if ((rc = evlog_head(c, &r->pos, err)) != LT_OK ||
            (rc = store_prepare(c, sql_state_new, &st, err)) != LT_OK) {
            return rc;
        }
        store_bind_text(st, 1, r->origin);
        store_bind_int(st, 2, r->pos);
        return store_exec_stmt(st, err);
    }
    from = r->pos = store_col_int(st, 0);
    store_step(st, err);
    r->c = c;
    rc = evlog_scan(c, from, 0, recover_event, r, err);
    return rc == LT_OK && r->events > 0 ? state_set(c, r->origin, r->pos, err) : rc;
}

enum lt_code audit_new(struct store *s, struct evlog *log, const struct audit_options *o,
                       struct audit **out, struct lt_error *err)
{
    struct audit *a;
    struct recover r = { evlog_origin(log), 0, 0 };
    enum lt_code rc = store_write(s, recover_write, &r, err);

    *out = NULL;
    if (rc != LT_OK) {
        return rc;
    }
    if (r.events > 0) {
        log_notice("audit", "projected %zu audit events written before the last stop", r.events);
    }
    a = xcalloc(1, sizeof(*a));
    a->store = s;
    a->log = log;
    a->flush_ms = o != NULL && o->flush_ms > 0 ? o->flush_ms : FLUSH_MS_DEFAULT;
    a->project_ms = o != NULL && o->project_ms > 0 ? o->project_ms : PROJECT_MS_DEFAULT;
    a->last_project = now_ms();
    pthread_mutex_init(&a->mu, NULL);
    pthread_mutex_init(&a->flush_mu, NULL);
    pthread_cond_init(&a->wake, NULL);
    if (pthread_create(&a->thread, NULL, flusher, a) != 0) {
        pthread_cond_destroy(&a->wake);
        pthread_mutex_destroy(&a->flush_mu);
        pthread_mutex_destroy(&a->mu);
        free(a);
        *out = NULL;
        return lt_error_set(err, LT_EIO, "could not start the audit flusher thread");
    }
    *out = a;
    return LT_OK;
}

void audit_free(struct audit *a)
{
    struct lt_error err;

    if (a == NULL) {
        return;
    }
    pthread_mutex_lock(&a->mu);
    a->stop = true;
    pthread_cond_signal(&a->wake);
    pthread_mutex_unlock(&a->mu);
    pthread_join(a->thread, NULL);
    if (audit_flush(a, &err) != LT_OK) {
        log_error("audit", "%zu accesses could not be written at shutdown: %s", a->q.n,
                  err.message);
    }
    queue_release(&a->q);
    queue_release(&a->pending);
    pthread_cond_destroy(&a->wake);
    pthread_mutex_destroy(&a->flush_mu);
    pthread_mutex_destroy(&a->mu);
    free(a);
}

enum lt_code audit_record(struct audit *a, const struct audit_access *acc, struct lt_error *err)
{
    struct entry e;
    enum lt_code rc = entry_fill(&e, acc, err);

    if (rc != LT_OK) {
        return rc;
    }
    pthread_mutex_lock(&a->mu);
    if (a->q.n >= AUDIT_QUEUE_MAX) {
        pthread_mutex_unlock(&a->mu);
        free(e.subjects);
        lt_error_set(err, LT_ELIMIT, "the audit trail is not keeping up: the read was refused");
        lt_error_detail(err, "%d accesses are waiting to be written", AUDIT_QUEUE_MAX);
        lt_error_hint(err, "try again in a moment; tell the node's operator if it lasts");
        return LT_ELIMIT;
    }
    if (a->q.n == a->q.cap) {
        a->q.cap = a->q.cap == 0 ? 256 : a->q.cap * 2;
        a->q.items = xrealloc(a->q.items, a->q.cap * sizeof(*a->q.items));
    }
    a->q.items[a->q.n++] = e;
    pthread_mutex_unlock(&a->mu);
    return LT_OK;
}

void audit_counts(struct audit *a, uint64_t *written, uint64_t *queued)
{
    pthread_mutex_lock(&a->mu);
    *written = a->written;
    *queued = a->q.n;
    pthread_mutex_unlock(&a->mu);
}

enum lt_code audit_write_now(struct store *s, struct evlog *log, const struct audit_access *acc,
                             struct lt_error *err)
{
    struct entry e;
    enum lt_code rc = entry_fill(&e, acc, err);

    if (rc != LT_OK) {
        return rc;
    }
    rc = write_entries(s, log, &e, 1, true, true, err);
    free(e.subjects);
    return rc;
}

enum lt_code audit_apply_event(struct store_conn *c, const struct event *ev, struct lt_error *err)
{
    json_t *body;
    enum lt_code rc;

    if (strcmp(ev->type, AUDIT_EVENT_TYPE) != 0 ||
        strncmp(ev->entity, ENTITY_PREFIX, strlen(ENTITY_PREFIX)) != 0) {
        return LT_OK;
    }
    body = json_loads(ev->body != NULL ? ev->body : "", JSON_REJECT_DUPLICATES, NULL);
    rc = project_body(c, ev->origin, ev->seq, body, err);
    if (rc != LT_OK) {
        lt_error_detail(err, "audit event (%s, %lld)", ev->origin, (long long)ev->seq);
    }
    json_decref(body);
    return rc;
}

enum lt_code audit_purpose_check(const char *purpose, struct lt_error *err)
{
    size_t len = strlen(purpose), bad = 0;

    if (len == 0) {
        lt_error_set(err, LT_EINVAL, "the purpose is empty");
    } else if (len > AUDIT_PURPOSE_MAX) {
        lt_error_set(err, LT_EINVAL, "the purpose is longer than %d bytes", AUDIT_PURPOSE_MAX);
    } else if (!utf8_valid_text(purpose, len, &bad)) {
        lt_error_set(err, LT_EINVAL, "the purpose is not printable UTF-8 text");
        lt_error_detail(err, "a control character or a bad byte at offset %zu", bad);
    } else if (strncmp(purpose, AUDIT_LAW_PREFIX, strlen(AUDIT_LAW_PREFIX)) == 0 &&
               len == strlen(AUDIT_LAW_PREFIX)) {
        lt_error_set(err, LT_EINVAL, "a law-enforcement purpose needs its reference");
    } else {
        return LT_OK;
    }
    lt_error_hint(err, "send X-Purpose: a dossier code, a stated purpose, or "
                       "law-enforcement:<case reference>");
    lt_error_field(err, "X-Purpose");
    return LT_EINVAL;
}

bool audit_purpose_is_law(const char *purpose)
{
    size_t n = strlen(AUDIT_LAW_PREFIX);

    return strncmp(purpose, AUDIT_LAW_PREFIX, n) == 0 && purpose[n] != '\0';
}

enum lt_code audit_seal_check(const char *header, const char *purpose, int32_t today,
                              int32_t *until, struct lt_error *err)
{
    int y, m, d;
    int32_t day = DATE_MIN;

    if (!audit_purpose_is_law(purpose)) {
        lt_error_set(err, LT_EINVAL, "only a law-enforcement read can be sealed");
        lt_error_hint(err, "send X-Purpose: law-enforcement:<case reference> with it");
    } else if (date_parse(header, &day, err) != LT_OK) {
        lt_error_hint(err, "send X-Sealed-Until: YYYY-MM-DD, a day after today");
    } else if (day <= today) {
        lt_error_set(err, LT_EINVAL, "the seal must end after today");
    } else {
        date_to_civil(today, &y, &m, &d);
        if (day > date_from_civil(y + AUDIT_SEAL_YEARS_MAX, m, d > 28 ? 28 : d)) {
            lt_error_set(err, LT_EINVAL, "a read can be sealed for at most %d years",
                         AUDIT_SEAL_YEARS_MAX);
        } else {
            *until = day;
            return LT_OK;
        }
    }
    lt_error_field(err, "X-Sealed-Until");
    return LT_EINVAL;
}

int64_t audit_day_start_ms(int32_t day)
{
    /* Vietnam's day starts at 17:00 UTC the day before. */
    return ((int64_t)day * 86400 - 7 * 3600) * 1000;
}
