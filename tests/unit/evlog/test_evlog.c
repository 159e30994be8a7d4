/*
 * Tests for src/evlog/evlog.c: node identity, appends and their hash
 * chain, optimistic concurrency, refusals that leave the database
 * unchanged, the chain after rolled-back savepoints (alone and inside one
 * group commit), the hybrid logical clock, remote events, as-of and
 * history, scans, and verification of a tampered log.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include <ftw.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "core/date.h"
#include "evlog/evlog.h"
#include "store/store.h"

#define ORIGIN "00004-aaaa0001"

struct node {
    char dir[96];
    struct store *s;
    struct evlog *log;
};

struct fixture {
    char root[64];
    struct node local;
};

static int rm_entry(const char *path, const struct stat *st, int flag, struct FTW *ftw)
{
    (void)st;
    (void)flag;
    (void)ftw;
    return remove(path);
}

static void sleep_ms(int ms)
{
    struct timespec ts = { ms / 1000, (long)(ms % 1000) * 1000000L };

    nanosleep(&ts, NULL);
}

struct ident {
    const char *origin, *unit;
};

static enum lt_code init_fn(struct store_conn *c, void *arg, struct lt_error *err)
{
    const struct ident *id = arg;

    return evlog_init_node(c, id->origin, id->unit, err);
}

static void node_open(struct node *n, const char *root, const char *name, const char *origin,
                      const char *unit)
{
    struct store_options o;
    struct ident id = { origin, unit };
    struct lt_error err;

    snprintf(n->dir, sizeof(n->dir), "%s/%s", root, name);
    store_options_default(&o);
    o.create = true;
    o.durable = false;
    o.readers = 2;
    if (store_open(n->dir, &o, &n->s, &err) != LT_OK) {
        fail_msg("store_open: %s", err.message);
    }
    if (store_write(n->s, init_fn, &id, &err) != LT_OK) {
        fail_msg("evlog_init_node: %s", err.message);
    }
    if (evlog_open(n->s, &n->log, &err) != LT_OK) {
        fail_msg("evlog_open: %s", err.message);
    }
}

static void node_close(struct node *n)
{
    evlog_free(n->log);
    store_close(n->s);
    n->log = NULL;
    n->s = NULL;
}

static int setup(void **state)
{
    struct fixture *f = calloc(1, sizeof(*f));

    snprintf(f->root, sizeof(f->root), "/tmp/lt-evlog-XXXXXX");
    if (mkdtemp(f->root) == NULL) {
        return -1;
    }
    node_open(&f->local, f->root, "local", ORIGIN, "00004");
    *state = f;
    return 0;
}

static int teardown(void **state)
{
    struct fixture *f = *state;

    node_close(&f->local);
    nftw(f->root, rm_entry, 8, FTW_DEPTH | FTW_PHYS);
    free(f);
    return 0;
}

/* ---- appending through store_write ---- */

static void event_fill(struct event *ev, const char *entity, int64_t base, const char *body,
                       int32_t effective)
{
    memset(ev, 0, sizeof(*ev));
    snprintf(ev->actor, sizeof(ev->actor), "clerk:an");
    snprintf(ev->type, sizeof(ev->type), "person.registered");
    snprintf(ev->entity, sizeof(ev->entity), "%s", entity);
    snprintf(ev->cause, sizeof(ev->cause), "dossier:H01.1-250701-0001");
    ev->base_version = base;
    ev->effective = effective;
    ev->body = (char *)body;
}

struct append {
    struct evlog *log;
    struct event ev;
    int64_t current;
    enum lt_code fail_after; /* fail the callback after a good append */
};

static enum lt_code append_fn(struct store_conn *c, void *arg, struct lt_error *err)
{
    struct append *a = arg;
    enum lt_code rc = evlog_append(a->log, c, &a->ev, &a->current, err);

    if (rc == LT_OK && a->fail_after != LT_OK) {
        return lt_error_set(err, a->fail_after, "projection refused the change");
    }
    return rc;
}

static enum lt_code append(struct node *n, struct event *ev, int64_t *current, struct lt_error *err)
{
    struct append a = { n->log, *ev, -1, LT_OK };
    enum lt_code rc = store_write(n->s, append_fn, &a, err);

    *ev = a.ev;
    if (current != NULL) {
        *current = a.current;
    }
    return rc;
}

static int32_t day(const char *s)
{
    int32_t d = 0;

    assert_int_equal(date_parse(s, &d, NULL), LT_OK);
    return d;
}

static struct event add(struct node *n, const char *entity, int64_t base, const char *body)
{
    struct event ev;
    struct lt_error err;

    event_fill(&ev, entity, base, body, day("2025-07-01"));
    if (append(n, &ev, NULL, &err) != LT_OK) {
        fail_msg("append %s: %s (%s)", entity, err.message, err.detail);
    }
    return ev;
}

/* ---- looking at the database ---- */

struct db_state {
    int64_t head, events, versions, heads, version_sum, head_seq_sum;
};

static int64_t one_int(struct store_conn *c, const char *sql)
{
    struct store_stmt *st;
    struct lt_error err;

    if (store_prepare(c, sql, &st, &err) != LT_OK || store_step(st, &err) != STORE_ROW) {
        return -1;
    }
    return store_col_int(st, 0);
}

static enum lt_code state_fn(struct store_conn *c, void *arg, struct lt_error *err)
{
    struct db_state *d = arg;

    d->events = one_int(c, "SELECT count(*) FROM events");
    d->versions = one_int(c, "SELECT count(*) FROM entity_versions");
    d->heads = one_int(c, "SELECT count(*) FROM origin_heads");
    d->version_sum = one_int(c, "SELECT COALESCE(SUM(version), 0) FROM entity_versions");
    d->head_seq_sum = one_int(c, "SELECT COALESCE(SUM(seq), 0) FROM origin_heads");
    return evlog_head(c, &d->head, err);
}

static struct db_state state_of(struct node *n)
{
    struct db_state d;
    struct lt_error err;

    assert_int_equal(store_read(n->s, state_fn, &d, &err), LT_OK);
    return d;
}

static void assert_same_state(struct db_state a, struct db_state b)
{
    assert_int_equal(a.head, b.head);
    assert_int_equal(a.events, b.events);
    assert_int_equal(a.versions, b.versions);
    assert_int_equal(a.heads, b.heads);
    assert_int_equal(a.version_sum, b.version_sum);
    assert_int_equal(a.head_seq_sum, b.head_seq_sum);
}

struct verify_q {
    int64_t checked;
    struct lt_error err;
};

static enum lt_code verify_fn(struct store_conn *c, void *arg, struct lt_error *err)
{
    struct verify_q *q = arg;

    (void)err;
    return evlog_verify(c, &q->checked, &q->err);
}

static enum lt_code verify(struct node *n, struct verify_q *q)
{
    struct lt_error err;

    lt_error_clear(&q->err);
    return store_read(n->s, verify_fn, q, &err);
}

static void assert_verifies(struct node *n, int64_t events)
{
    struct verify_q q;

    if (verify(n, &q) != LT_OK) {
        fail_msg("verify: %s (%s)", q.err.message, q.err.detail);
    }
    assert_int_equal(q.checked, events);
}

struct raw {
    const char *sql;
};

static enum lt_code raw_fn(struct store_conn *c, void *arg, struct lt_error *err)
{
    return store_exec(c, ((struct raw *)arg)->sql, err);
}

static void raw_sql(struct node *n, const char *sql)
{
    struct raw r = { sql };
    struct lt_error err;

    if (store_write(n->s, raw_fn, &r, &err) != LT_OK) {
        fail_msg("%s: %s", sql, err.message);
    }
}

/* ---- identity ---- */

static void test_identity(void **state)
{
    struct fixture *f = *state;
    struct ident again = { "00004-ffff0000", "00004" };
    struct ident bad = { "has space", "00004" };
    struct store_options o;
    struct store *s;
    struct evlog *log = (struct evlog *)1;
    struct lt_error err;
    char dir[128];

    assert_string_equal(evlog_origin(f->local.log), ORIGIN);
    assert_string_equal(evlog_unit(f->local.log), "00004");
    assert_int_equal(store_write(f->local.s, init_fn, &again, &err), LT_ECONFLICT);
    assert_non_null(strstr(err.message, ORIGIN));

    /* A database without identity: evlog_open says so; a bad origin is refused. */
    snprintf(dir, sizeof(dir), "%s/bare", f->root);
    store_options_default(&o);
    o.create = true;
    o.durable = false;
    assert_int_equal(store_open(dir, &o, &s, &err), LT_OK);
    assert_int_equal(evlog_open(s, &log, &err), LT_ENOTFOUND);
    assert_null(log);
    assert_non_null(strstr(err.message, "no node identity"));
    assert_non_null(strstr(err.hint, "lienthong init"));
    assert_int_equal(store_write(s, init_fn, &bad, &err), LT_EINVAL);
    assert_int_equal(evlog_open(s, &log, &err), LT_ENOTFOUND);
    store_close(s);
    evlog_free(NULL);
}

/* ---- appends ---- */

static void test_append_chains(void **state)
{
    struct fixture *f = *state;
    struct event a, b, c;
    uint8_t h[EVLOG_HASH_BYTES];
    struct db_state d;

    a = add(&f->local, "person/001085012345", 0, "{\"name\":\"Nguyễn Văn An\"}");
    b = add(&f->local, "person/001085012346", 0, "{\"name\":\"Trần Thị Bình\"}");
    c = add(&f->local, "person/001085012345", 1, "{\"name\":\"Nguyễn Văn An\",\"v\":2}");

    assert_string_equal(a.origin, ORIGIN);
    assert_int_equal(a.seq, 1);
    assert_int_equal(b.seq, 2);
    assert_int_equal(c.seq, 3);
    assert_int_equal(a.pos, 1);
    assert_int_equal(c.pos, 3);
    assert_false(a.has_prev);
    assert_true(b.has_prev);
    assert_memory_equal(b.prev_hash, a.hash, EVLOG_HASH_BYTES);
    assert_memory_equal(c.prev_hash, b.hash, EVLOG_HASH_BYTES);
    assert_int_equal(a.version, 1);
    assert_int_equal(c.version, 2);
    assert_true(b.hlc > a.hlc && c.hlc > b.hlc);
    assert_false(c.has_sig);
    event_hash(&c, h);
    assert_memory_equal(h, c.hash, EVLOG_HASH_BYTES);

    d = state_of(&f->local);
    assert_int_equal(d.head, 3);
    assert_int_equal(d.events, 3);
    assert_int_equal(d.versions, 2);
    assert_int_equal(d.heads, 1);
    assert_verifies(&f->local, 3);
}

static void test_stale_base_is_a_conflict(void **state)
{
    struct fixture *f = *state;
    struct event ev;
    struct db_state before;
    struct lt_error err;
    int64_t current = -1;

    add(&f->local, "parcel/00004-12-345", 0, "{\"area\":120}");
    add(&f->local, "parcel/00004-12-345", 1, "{\"area\":125}");
    before = state_of(&f->local);

    /* Registering again, a stale base, a future base, a missing entity. */
    event_fill(&ev, "parcel/00004-12-345", 0, "{\"area\":130}", day("2025-07-02"));
    assert_int_equal(append(&f->local, &ev, &current, &err), LT_ECONFLICT);
    assert_int_equal(current, 2);
    assert_non_null(strstr(err.detail, "current version is 2"));
    assert_non_null(strstr(err.message, "parcel/00004-12-345"));
    event_fill(&ev, "parcel/00004-12-345", 1, "{\"area\":130}", day("2025-07-02"));
    assert_int_equal(append(&f->local, &ev, &current, &err), LT_ECONFLICT);
    assert_int_equal(current, 2);
    event_fill(&ev, "parcel/00004-12-345", 7, "{\"area\":130}", day("2025-07-02"));
    assert_int_equal(append(&f->local, &ev, &current, &err), LT_ECONFLICT);
    assert_int_equal(current, 2);
    event_fill(&ev, "parcel/00004-99-999", 1, "{}", day("2025-07-02"));
    assert_int_equal(append(&f->local, &ev, &current, &err), LT_ECONFLICT);
    assert_int_equal(current, 0);
    assert_non_null(strstr(err.detail, "current version is 0"));
    assert_same_state(before, state_of(&f->local));

    /* The right base goes through and chains on. */
    event_fill(&ev, "parcel/00004-12-345", 2, "{\"area\":130}", day("2025-07-02"));
    assert_int_equal(append(&f->local, &ev, &current, &err), LT_OK);
    assert_int_equal(ev.version, 3);
    assert_int_equal(ev.seq, 3);
    assert_verifies(&f->local, 3);
}

static void test_refusals_change_nothing(void **state)
{
    struct fixture *f = *state;
    struct db_state before;
    struct event ev, ok;
    struct lt_error err;
    char *big;
    size_t n = EVLOG_BODY_MAX + 1;

    ok = add(&f->local, "business/0101234567", 0, "{\"name\":\"HTX Ba Đình\"}");
    before = state_of(&f->local);

    big = malloc(n + 1);
    memset(big, ' ', n);
    big[0] = '1';
    big[n] = '\0';
    event_fill(&ev, "business/0101234568", 0, big, day("2025-07-01"));
    assert_int_equal(append(&f->local, &ev, NULL, &err), LT_ETOOBIG);
    assert_non_null(strstr(err.message, "over the limit"));
    assert_string_equal(err.field, "body");
    free(big);

    event_fill(&ev, "business/0101234568", 0, "{\"name\": ", day("2025-07-01"));
    assert_int_equal(append(&f->local, &ev, NULL, &err), LT_EINVAL);
    assert_non_null(strstr(err.message, "not valid JSON"));
    assert_string_equal(err.field, "body");
    event_fill(&ev, "business/0101234568", 0, "{\"a\":1,\"a\":2}", day("2025-07-01"));
    assert_int_equal(append(&f->local, &ev, NULL, &err), LT_EINVAL);
    event_fill(&ev, "business/0101234568", 0, "{} trailing", day("2025-07-01"));
    assert_int_equal(append(&f->local, &ev, NULL, &err), LT_EINVAL);
    event_fill(&ev, "business/0101234568", 0, NULL, day("2025-07-01"));
    assert_int_equal(append(&f->local, &ev, NULL, &err), LT_EINVAL);

    event_fill(&ev, "business/0101234568", 0, "{}", day("2025-07-01"));
    ev.actor[0] = '\0';
    assert_int_equal(append(&f->local, &ev, NULL, &err), LT_EINVAL);
    assert_string_equal(err.field, "actor");
    event_fill(&ev, "business/0101234568", 0, "{}", day("2025-07-01"));
    ev.cause[0] = '\0';
    assert_int_equal(append(&f->local, &ev, NULL, &err), LT_EINVAL);
    assert_string_equal(err.field, "cause");
    event_fill(&ev, "business/0101234568", 0, "{}", day("2025-07-01"));
    memset(ev.entity, 'x', sizeof(ev.entity)); /* not terminated */
    assert_int_equal(append(&f->local, &ev, NULL, &err), LT_EINVAL);
    assert_string_equal(err.field, "entity");
    event_fill(&ev, "business/0101234568", 0, "{}", day("2025-07-01"));
    snprintf(ev.type, sizeof(ev.type), "bad\xff");
    assert_int_equal(append(&f->local, &ev, NULL, &err), LT_EINVAL);
    assert_string_equal(err.field, "type");
    event_fill(&ev, "business/0101234568", 0, "{}", day("2025-07-01"));
    ev.effective = date_from_civil(1850, 1, 1);
    assert_int_equal(append(&f->local, &ev, NULL, &err), LT_EINVAL);
    assert_string_equal(err.field, "effective");
    event_fill(&ev, "business/0101234568", -1, "{}", day("2025-07-01"));
    assert_int_equal(append(&f->local, &ev, NULL, &err), LT_EINVAL);

    assert_same_state(before, state_of(&f->local));
    ev = add(&f->local, "business/0101234568", 0, "\"a bare JSON string is a body too\"");
    assert_int_equal(ev.seq, ok.seq + 1);
    assert_memory_equal(ev.prev_hash, ok.hash, EVLOG_HASH_BYTES);
}

static enum lt_code append_on_reader(struct store_conn *c, void *arg, struct lt_error *err)
{
    struct append *a = arg;

    return evlog_append(a->log, c, &a->ev, NULL, err);
}

static void test_append_outside_write(void **state)
{
    struct fixture *f = *state;
    struct append a = { f->local.log, { 0 }, 0, LT_OK };
    struct lt_error err;

    event_fill(&a.ev, "person/1", 0, "{}", day("2025-07-01"));
    assert_int_equal(store_read(f->local.s, append_on_reader, &a, &err), LT_EINTERNAL);
    assert_non_null(strstr(err.message, "outside a store_write"));
    assert_int_equal(state_of(&f->local).events, 0);
}

/* ---- rollbacks ---- */

static void test_rolled_back_append_keeps_the_chain(void **state)
{
    struct fixture *f = *state;
    struct append b = { f->local.log, { 0 }, 0, LT_EINVAL };
    struct event a, c;
    struct db_state before;
    struct lt_error err;

    a = add(&f->local, "household/00004-001", 0, "{\"head\":\"001085012345\"}");
    before = state_of(&f->local);

    /* B appends fine, then its callback fails: the savepoint goes, B with it. */
    event_fill(&b.ev, "household/00004-002", 0, "{}", day("2025-07-01"));
    assert_int_equal(store_write(f->local.s, append_fn, &b, &err), LT_EINVAL);
    assert_string_equal(err.message, "projection refused the change");
    assert_int_equal(b.ev.seq, a.seq + 1);
    assert_same_state(before, state_of(&f->local));

    c = add(&f->local, "household/00004-002", 0, "{}");
    assert_int_equal(c.seq, a.seq + 1);
    assert_int_equal(c.pos, a.pos + 1);
    assert_memory_equal(c.prev_hash, a.hash, EVLOG_HASH_BYTES);
    assert_int_equal(c.version, 1);
    assert_verifies(&f->local, 2);
}

/* Several appends in one callback, then the callback fails. */
struct many {
    struct evlog *log;
    const char *prefix;
    int n;
    bool fail;
    int64_t last_seq;
};

static enum lt_code many_fn(struct store_conn *c, void *arg, struct lt_error *err)
{
    struct many *m = arg;
    char entity[64];
    struct event ev;
    enum lt_code rc;

    for (int i = 0; i < m->n; i++) {
        snprintf(entity, sizeof(entity), "person/%s%08d", m->prefix, i);
        event_fill(&ev, entity, 0, "{\"k\":1}", 20270);
        rc = evlog_append(m->log, c, &ev, NULL, err);
        if (rc != LT_OK) {
            return rc;
        }
        m->last_seq = ev.seq;
    }
    return m->fail ? lt_error_set(err, LT_EINVAL, "the last row was bad") : LT_OK;
}

static void test_many_in_one_write_then_rollback(void **state)
{
    struct fixture *f = *state;
    struct many ok = { f->local.log, "a", 2000, false, 0 };
    struct many bad = { f->local.log, "b", 50, true, 0 };
    struct event ev;
    struct db_state before;
    struct lt_error err;

    assert_int_equal(store_write(f->local.s, many_fn, &ok, &err), LT_OK);
    assert_int_equal(ok.last_seq, 2000);
    before = state_of(&f->local);
    assert_int_equal(before.events, 2000);
    assert_int_equal(store_write(f->local.s, many_fn, &bad, &err), LT_EINVAL);
    assert_int_equal(bad.last_seq, 2000 + 50); /* all 50 appended, then the callback failed */
    assert_same_state(before, state_of(&f->local));
    ev = add(&f->local, "person/x", 0, "{}");
    assert_int_equal(ev.seq, 2001);
    assert_verifies(&f->local, 2001);
}

/* Hold the writer so that the next submissions form one group. */
struct gate {
    pthread_mutex_t mu;
    pthread_cond_t cond;
    bool entered, open;
};

static enum lt_code gate_fn(struct store_conn *c, void *arg, struct lt_error *err)
{
    struct gate *g = arg;

    (void)c;
    (void)err;
    pthread_mutex_lock(&g->mu);
    g->entered = true;
    pthread_cond_broadcast(&g->cond);
    while (!g->open) {
        pthread_cond_wait(&g->cond, &g->mu);
    }
    pthread_mutex_unlock(&g->mu);
    return LT_OK;
}

struct submit {
    struct store *s;
    store_write_fn fn;
    void *arg;
    enum lt_code rc;
    struct lt_error err;
};

static void *submit_main(void *arg)
{
    struct submit *m = arg;

    m->rc = store_write(m->s, m->fn, m->arg, &m->err);
    return NULL;
}

#define GROUP 7

static void test_rollback_inside_a_group(void **state)
{
    struct fixture *f = *state;
    struct gate g = { PTHREAD_MUTEX_INITIALIZER, PTHREAD_COND_INITIALIZER, false, false };
    struct submit gs = { f->local.s, gate_fn, &g, LT_EIO, { 0 } };
    struct append ap[GROUP];
    struct submit subs[GROUP];
    pthread_t th[GROUP], gt;
    struct store_stats st, before;
    struct lt_error err;
    int ok = 0;

    add(&f->local, "person/first", 0, "{}");
    store_stats(f->local.s, &before);
    pthread_create(&gt, NULL, submit_main, &gs);
    pthread_mutex_lock(&g.mu);
    while (!g.entered) {
        pthread_cond_wait(&g.cond, &g.mu);
    }
    pthread_mutex_unlock(&g.mu);

    /* Every other callback fails after its append; the rest must chain. */
    for (int i = 0; i < GROUP; i++) {
        char entity[32];

        snprintf(entity, sizeof(entity), "person/g%d", i);
        ap[i] = (struct append){ f->local.log, { 0 }, 0, i % 2 ? LT_ECONFLICT : LT_OK };
        event_fill(&ap[i].ev, entity, 0, "{}", day("2025-07-01"));
        subs[i] = (struct submit){ f->local.s, append_fn, &ap[i], LT_EIO, { 0 } };
        pthread_create(&th[i], NULL, submit_main, &subs[i]);
    }
    for (int i = 0; i < 5000; i++) {
        store_stats(f->local.s, &st);
        if (st.queued == GROUP) {
            break;
        }
        sleep_ms(1);
    }
    assert_int_equal(st.queued, GROUP);
    pthread_mutex_lock(&g.mu);
    g.open = true;
    pthread_cond_broadcast(&g.cond);
    pthread_mutex_unlock(&g.mu);
    pthread_join(gt, NULL);
    for (int i = 0; i < GROUP; i++) {
        pthread_join(th[i], NULL);
        assert_int_equal(subs[i].rc, i % 2 ? LT_ECONFLICT : LT_OK);
        ok += subs[i].rc == LT_OK;
    }
    store_stats(f->local.s, &st);
    assert_int_equal(st.commits - before.commits, 2); /* the gate, then the group */

    assert_int_equal(state_of(&f->local).events, 1 + ok);
    assert_verifies(&f->local, 1 + ok);
    assert_int_equal(add(&f->local, "person/last", 0, "{}").seq, 2 + ok);
    (void)err;
}

struct appender {
    struct node *n;
    int id;
    int ok;
};

static void *appender_main(void *arg)
{
    struct appender *a = arg;
    char entity[32];
    struct event ev;
    struct lt_error err;

    for (int i = 0; i < 100; i++) {
        snprintf(entity, sizeof(entity), "person/t%d-%d", a->id, i);
        event_fill(&ev, entity, 0, "{\"thread\":true}", 20270);
        a->ok += append(a->n, &ev, NULL, &err) == LT_OK;
    }
    return NULL;
}

static void test_concurrent_appends_chain(void **state)
{
    struct fixture *f = *state;
    struct appender a[8];
    pthread_t th[8];
    struct store_stats st;

    for (int i = 0; i < 8; i++) {
        a[i] = (struct appender){ &f->local, i, 0 };
        pthread_create(&th[i], NULL, appender_main, &a[i]);
    }
    for (int i = 0; i < 8; i++) {
        pthread_join(th[i], NULL);
        assert_int_equal(a[i].ok, 100);
    }
    store_stats(f->local.s, &st);
    assert_true(st.commits < st.writes);
    assert_int_equal(state_of(&f->local).head_seq_sum, 800);
    assert_verifies(&f->local, 800);
}

/* ---- the clock ---- */

static int64_t fake_now;

static int64_t fake_clock(void *arg)
{
    (void)arg;
    return fake_now;
}

static void test_clock_never_goes_back(void **state)
{
    struct fixture *f = *state;
    struct lt_error err;
    struct event a, b, c, d, e;

    evlog_set_clock(f->local.log, fake_clock, NULL);
    fake_now = 1751328000000; /* 2025-07-01 */
    a = add(&f->local, "person/c1", 0, "{}");
    assert_int_equal(a.hlc, fake_now << 16);
    assert_int_equal(evlog_hlc_ms(a.hlc), fake_now);
    b = add(&f->local, "person/c1", 1, "{}");
    assert_int_equal(b.hlc, a.hlc + 1); /* same millisecond: the counter moves */
    fake_now -= 3600 * 1000;            /* the wall clock jumps back an hour */
    c = add(&f->local, "person/c1", 2, "{}");
    assert_int_equal(c.hlc, b.hlc + 1);
    fake_now += 2 * 3600 * 1000;
    d = add(&f->local, "person/c1", 3, "{}");
    assert_int_equal(d.hlc, fake_now << 16);

    /* After a restart with a clock in the past, it resumes past the log. */
    evlog_free(f->local.log);
    assert_int_equal(evlog_open(f->local.s, &f->local.log, &err), LT_OK);
    fake_now = 1000;
    evlog_set_clock(f->local.log, fake_clock, NULL);
    e = add(&f->local, "person/c1", 4, "{}");
    assert_true(e.hlc > d.hlc);

    /* The real clock again: far past the fake one. */
    evlog_set_clock(f->local.log, NULL, NULL);
    assert_true(add(&f->local, "person/c1", 5, "{}").hlc > e.hlc);
}

/* ---- remote events ---- */

struct collected {
    struct event ev[16];
    int n;
};

static enum lt_code collect(const struct event *ev, void *arg, struct lt_error *err)
{
    struct collected *col = arg;

    (void)err;
    if (col->n == 16) {
        return LT_ETOOBIG;
    }
    col->ev[col->n] = *ev;
    col->ev[col->n].body = strdup(ev->body);
    col->n++;
    return LT_OK;
}

static void collected_free(struct collected *col)
{
    for (int i = 0; i < col->n; i++) {
        event_release(&col->ev[i]);
    }
    col->n = 0;
}

struct scan_q {
    int64_t after;
    size_t limit;
    const char *entity;
    struct collected *col;
};

static enum lt_code scan_fn(struct store_conn *c, void *arg, struct lt_error *err)
{
    struct scan_q *q = arg;

    if (q->entity != NULL) {
        return evlog_history(c, q->entity, collect, q->col, err);
    }
    return evlog_scan(c, q->after, q->limit, collect, q->col, err);
}

static enum lt_code scan(struct node *n, int64_t after, size_t limit, struct collected *col,
                         struct lt_error *err)
{
    struct scan_q q = { after, limit, NULL, col };

    return store_read(n->s, scan_fn, &q, err);
}

struct apply {
    struct evlog *log;
    struct event *ev;
    int n;
    bool applied[16];
};

static enum lt_code apply_fn(struct store_conn *c, void *arg, struct lt_error *err)
{
    struct apply *a = arg;

    for (int i = 0; i < a->n; i++) {
        enum lt_code rc = evlog_apply_remote(a->log, c, &a->ev[i], &a->applied[i], err);

        if (rc != LT_OK) {
            return rc;
        }
    }
    return LT_OK;
}

static enum lt_code apply(struct node *n, struct event *ev, int count, bool *applied,
                          struct lt_error *err)
{
    struct apply a = { n->log, ev, count, { false } };
    enum lt_code rc = store_write(n->s, apply_fn, &a, err);

    if (applied != NULL) {
        memcpy(applied, a.applied, sizeof(bool) * (size_t)count);
    }
    return rc;
}

static void test_apply_remote(void **state)
{
    struct fixture *f = *state;
    struct node remote;
    struct collected col = { 0 }, here = { 0 };
    struct db_state before;
    struct event ev, mine;
    struct lt_error err;
    bool applied[16];
    int64_t ahead;

    node_open(&remote, f->root, "remote", "01-bbbb0002", "01");
    ahead = (int64_t)time(NULL) * 1000 + 3600 * 1000; /* its clock runs an hour ahead */
    fake_now = ahead;
    evlog_set_clock(remote.log, fake_clock, NULL);
    add(&remote, "person/shared", 0, "{\"from\":\"remote\"}");
    add(&remote, "person/r2", 0, "{}");
    add(&remote, "person/shared", 1, "{\"from\":\"remote\",\"v\":2}");
    assert_int_equal(scan(&remote, 0, 0, &col, &err), LT_OK);
    assert_int_equal(col.n, 3);

    mine = add(&f->local, "person/shared", 0, "{\"from\":\"local\"}");
    before = state_of(&f->local);

    /* Out of order (a gap), a changed body, a broken link: refused, nothing written. */
    assert_int_equal(apply(&f->local, &col.ev[1], 1, NULL, &err), LT_EINVAL);
    assert_non_null(strstr(err.message, "does not follow"));
    assert_non_null(strstr(err.detail, "next must be 1"));
    ev = col.ev[0];
    ev.body = "{\"from\":\"forged\"}";
    assert_int_equal(apply(&f->local, &ev, 1, NULL, &err), LT_EINVAL);
    assert_non_null(strstr(err.message, "does not match its hash"));
    ev = col.ev[0];
    ev.has_prev = true;
    memset(ev.prev_hash, 7, EVLOG_HASH_BYTES);
    event_hash(&ev, ev.hash); /* consistent in itself, but links to nothing */
    assert_int_equal(apply(&f->local, &ev, 1, NULL, &err), LT_EINVAL);
    assert_non_null(strstr(err.message, "does not link"));
    assert_same_state(before, state_of(&f->local));

    /* In order: applied, with local positions and versions. */
    assert_int_equal(apply(&f->local, col.ev, 3, applied, &err), LT_OK);
    assert_true(applied[0] && applied[1] && applied[2]);
    assert_int_equal(col.ev[0].pos, mine.pos + 1);
    assert_int_equal(col.ev[0].version, 2); /* based on 0, but local was at 1: stale */
    assert_true(col.ev[0].version != col.ev[0].base_version + 1);
    assert_int_equal(col.ev[1].version, 1);
    assert_int_equal(col.ev[1].version, col.ev[1].base_version + 1);
    assert_verifies(&f->local, 4);
    before = state_of(&f->local);
    assert_int_equal(before.heads, 2);

    /* Twice: nothing changes. */
    assert_int_equal(apply(&f->local, col.ev, 3, applied, &err), LT_OK);
    assert_false(applied[0] || applied[1] || applied[2]);
    assert_same_state(before, state_of(&f->local));

    /* The same identity with other contents is a fork, not a duplicate. */
    ev = col.ev[2];
    ev.body = "{\"from\":\"fork\"}";
    event_hash(&ev, ev.hash);
    assert_int_equal(apply(&f->local, &ev, 1, NULL, &err), LT_ECONFLICT);
    assert_non_null(strstr(err.detail, "forked"));
    assert_same_state(before, state_of(&f->local));

    /* Our clock moved past the remote one; our own chain goes on. */
    mine = add(&f->local, "person/after", 0, "{}");
    assert_true(mine.hlc > col.ev[2].hlc);
    assert_int_equal(mine.seq, 2);
    assert_verifies(&f->local, 5);

    /* History of the shared entity holds both origins, in log order. */
    {
        struct scan_q q = { 0, 0, "person/shared", &here };

        assert_int_equal(store_read(f->local.s, scan_fn, &q, &err), LT_OK);
        assert_int_equal(here.n, 3);
        assert_string_equal(here.ev[0].origin, ORIGIN);
        assert_string_equal(here.ev[1].origin, "01-bbbb0002");
        assert_int_equal(here.ev[2].version, 3);
        collected_free(&here);
    }
    collected_free(&col);
    node_close(&remote);
}

/* ---- reading ---- */

struct as_of_q {
    const char *entity;
    int32_t date;
    struct event ev;
    struct lt_error err;
};

static enum lt_code as_of_fn(struct store_conn *c, void *arg, struct lt_error *err)
{
    struct as_of_q *q = arg;

    (void)err;
    return evlog_as_of(c, q->entity, q->date, &q->ev, &q->err);
}

static void test_as_of_and_history(void **state)
{
    struct fixture *f = *state;
    struct as_of_q q = { "person/h", 0, { 0 }, { 0 } };
    struct collected col = { 0 };
    struct scan_q sq = { 0, 0, "person/h", &col };
    struct event ev;
    struct lt_error err;

    event_fill(&ev, "person/h", 0, "{\"v\":1}", day("2025-01-01"));
    assert_int_equal(append(&f->local, &ev, NULL, &err), LT_OK);
    event_fill(&ev, "person/other", 0, "{\"v\":99}", day("2025-01-15"));
    assert_int_equal(append(&f->local, &ev, NULL, &err), LT_OK);
    event_fill(&ev, "person/h", 1, "{\"v\":2}", day("2025-03-01"));
    assert_int_equal(append(&f->local, &ev, NULL, &err), LT_OK);
    /* A correction effective in February, recorded last. */
    event_fill(&ev, "person/h", 2, "{\"v\":3}", day("2025-02-01"));
    assert_int_equal(append(&f->local, &ev, NULL, &err), LT_OK);
    event_fill(&ev, "person/h", 3, "{\"v\":4}", day("2025-03-01"));
    assert_int_equal(append(&f->local, &ev, NULL, &err), LT_OK);

    q.date = day("2025-02-15");
    assert_int_equal(store_read(f->local.s, as_of_fn, &q, &err), LT_OK);
    assert_string_equal(q.ev.body, "{\"v\":3}");
    assert_int_equal(q.ev.version, 3);
    event_release(&q.ev);
    q.date = day("2025-01-31");
    assert_int_equal(store_read(f->local.s, as_of_fn, &q, &err), LT_OK);
    assert_string_equal(q.ev.body, "{\"v\":1}");
    event_release(&q.ev);
    q.date = day("2025-03-01"); /* two events that day: the later in the log wins */
    assert_int_equal(store_read(f->local.s, as_of_fn, &q, &err), LT_OK);
    assert_string_equal(q.ev.body, "{\"v\":4}");
    assert_string_equal(q.ev.actor, "clerk:an");
    assert_string_equal(q.ev.cause, "dossier:H01.1-250701-0001");
    event_release(&q.ev);
    q.date = day("2024-12-31");
    assert_int_equal(store_read(f->local.s, as_of_fn, &q, &err), LT_ENOTFOUND);
    assert_non_null(strstr(q.err.message, "2024-12-31"));
    assert_null(q.ev.body);
    q.entity = "person/nobody";
    q.date = day("2025-12-31");
    assert_int_equal(store_read(f->local.s, as_of_fn, &q, &err), LT_ENOTFOUND);

    assert_int_equal(store_read(f->local.s, scan_fn, &sq, &err), LT_OK);
    assert_int_equal(col.n, 4);
    for (int i = 0; i < 4; i++) {
        assert_string_equal(col.ev[i].entity, "person/h");
        assert_int_equal(col.ev[i].version, i + 1);
    }
    assert_string_equal(col.ev[3].body, "{\"v\":4}");
    collected_free(&col);
}

struct version_q {
    const char *entity;
    int64_t v;
};

static enum lt_code version_fn(struct store_conn *c, void *arg, struct lt_error *err)
{
    struct version_q *q = arg;

    return evlog_entity_version(c, q->entity, &q->v, err);
}

static enum lt_code stop_at_third(const struct event *ev, void *arg, struct lt_error *err)
{
    int *n = arg;

    (void)ev;
    if (++*n == 3) {
        return lt_error_set(err, LT_ECONFLICT, "enough");
    }
    return LT_OK;
}

static enum lt_code stop_fn(struct store_conn *c, void *arg, struct lt_error *err)
{
    return evlog_scan(c, 0, 0, stop_at_third, arg, err);
}

static void test_scan_head_and_versions(void **state)
{
    struct fixture *f = *state;
    struct collected col = { 0 };
    struct version_q vq = { "person/s1", -1 };
    struct lt_error err;
    int seen = 0;

    assert_int_equal(state_of(&f->local).head, 0);
    assert_int_equal(scan(&f->local, 0, 0, &col, &err), LT_OK);
    assert_int_equal(col.n, 0);
    assert_verifies(&f->local, 0);
    for (int i = 0; i < 5; i++) {
        add(&f->local, i % 2 ? "person/s2" : "person/s1", i / 2, "{}");
    }
    assert_int_equal(state_of(&f->local).head, 5);
    assert_int_equal(scan(&f->local, 2, 2, &col, &err), LT_OK);
    assert_int_equal(col.n, 2);
    assert_int_equal(col.ev[0].pos, 3);
    assert_int_equal(col.ev[1].pos, 4);
    collected_free(&col);
    assert_int_equal(scan(&f->local, 4, 100, &col, &err), LT_OK);
    assert_int_equal(col.n, 1);
    collected_free(&col);
    assert_int_equal(scan(&f->local, 5, 0, &col, &err), LT_OK);
    assert_int_equal(col.n, 0);

    assert_int_equal(store_read(f->local.s, stop_fn, &seen, &err), LT_ECONFLICT);
    assert_string_equal(err.message, "enough");
    assert_int_equal(seen, 3);

    assert_int_equal(store_read(f->local.s, version_fn, &vq, &err), LT_OK);
    assert_int_equal(vq.v, 3);
    vq.entity = "person/none";
    assert_int_equal(store_read(f->local.s, version_fn, &vq, &err), LT_OK);
    assert_int_equal(vq.v, 0);
}

/* ---- verification ---- */

struct rehash {
    int64_t pos;
    int64_t prev_pos; /* link to this event's hash instead */
};

/* Rewrite an event's link and hash so that the row is consistent in itself. */
static enum lt_code relink_fn(struct store_conn *c, void *arg, struct lt_error *err)
{
    struct rehash *r = arg;
    struct collected col = { 0 };
    struct store_stmt *st;
    enum lt_code rc;

    rc = evlog_scan(c, r->prev_pos - 1, 1, collect, &col, err);
    if (rc == LT_OK) {
        rc = evlog_scan(c, r->pos - 1, 1, collect, &col, err);
    }
    if (rc != LT_OK || col.n != 2) {
        collected_free(&col);
        return LT_EINTERNAL;
    }
    memcpy(col.ev[1].prev_hash, col.ev[0].hash, EVLOG_HASH_BYTES);
    event_hash(&col.ev[1], col.ev[1].hash);
    rc = store_prepare(c, "UPDATE events SET prev_hash = ?, hash = ? WHERE pos = ?", &st, err);
    if (rc == LT_OK) {
        store_bind_blob(st, 1, col.ev[1].prev_hash, EVLOG_HASH_BYTES);
        store_bind_blob(st, 2, col.ev[1].hash, EVLOG_HASH_BYTES);
        store_bind_int(st, 3, r->pos);
        rc = store_exec_stmt(st, err);
    }
    collected_free(&col);
    return rc;
}

static void test_verify_finds_tampering(void **state)
{
    struct fixture *f = *state;
    struct rehash rh = { 4, 2 };
    struct verify_q q;
    struct lt_error err;

    for (int i = 0; i < 5; i++) {
        add(&f->local, "person/t", i, i == 1 ? "{\"name\":\"Lê Văn Cường\"}" : "{}");
    }
    assert_verifies(&f->local, 5);

    /* A changed body. */
    raw_sql(&f->local, "UPDATE events SET body = '{\"name\":\"Lê Văn Cương\"}' WHERE pos = 2");
    assert_int_equal(verify(&f->local, &q), LT_EINVAL);
    assert_non_null(strstr(q.err.message, "position 2"));
    assert_non_null(strstr(q.err.message, "(" ORIGIN ", 2)"));
    assert_non_null(strstr(q.err.detail, "do not match its hash"));
    raw_sql(&f->local, "UPDATE events SET body = '{\"name\":\"Lê Văn Cường\"}' WHERE pos = 2");
    assert_verifies(&f->local, 5);

    /* A changed actor or date, too. */
    raw_sql(&f->local, "UPDATE events SET effective = effective + 1 WHERE pos = 3");
    assert_int_equal(verify(&f->local, &q), LT_EINVAL);
    assert_non_null(strstr(q.err.message, "position 3"));
    raw_sql(&f->local, "UPDATE events SET effective = effective - 1 WHERE pos = 3");

    /* A link rewritten to skip an event, with a hash that matches the row. */
    assert_int_equal(store_write(f->local.s, relink_fn, &rh, &err), LT_OK);
    assert_int_equal(verify(&f->local, &q), LT_EINVAL);
    assert_non_null(strstr(q.err.message, "position 4"));
    assert_non_null(strstr(q.err.detail, "prev_hash is not the hash of (" ORIGIN ", 3)"));
    rh.prev_pos = 3;
    assert_int_equal(store_write(f->local.s, relink_fn, &rh, &err), LT_OK);
    assert_verifies(&f->local, 5);

    /* An event removed from the middle, then from the end. */
    raw_sql(&f->local, "DELETE FROM events WHERE pos = 5");
    assert_int_equal(verify(&f->local, &q), LT_EINVAL);
    assert_non_null(strstr(q.err.message, "does not end where its head says"));
    raw_sql(&f->local, "DELETE FROM events WHERE pos = 3");
    assert_int_equal(verify(&f->local, &q), LT_EINVAL);
    assert_non_null(strstr(q.err.detail, "events are missing"));
}

static void test_event_hash_is_unambiguous(void **state)
{
    struct event a, b;
    uint8_t ha[EVLOG_HASH_BYTES], hb[EVLOG_HASH_BYTES];

    (void)state;
    event_fill(&a, "person/1", 0, "{}", 20000);
    snprintf(a.origin, sizeof(a.origin), "o1");
    b = a;
    snprintf(a.actor, sizeof(a.actor), "ab");
    snprintf(a.type, sizeof(a.type), "c");
    snprintf(b.actor, sizeof(b.actor), "a");
    snprintf(b.type, sizeof(b.type), "bc");
    event_hash(&a, ha);
    event_hash(&b, hb);
    assert_memory_not_equal(ha, hb, EVLOG_HASH_BYTES);

    /* Each field counts; pos, version and the signature do not. */
    b = a;
    b.pos = 99;
    b.version = 42;
    b.has_sig = true;
    memset(b.sig, 1, sizeof(b.sig));
    event_hash(&b, hb);
    assert_memory_equal(ha, hb, EVLOG_HASH_BYTES);
    b = a;
    b.seq++;
    event_hash(&b, hb);
    assert_memory_not_equal(ha, hb, EVLOG_HASH_BYTES);
    b = a;
    b.hlc++;
    event_hash(&b, hb);
    assert_memory_not_equal(ha, hb, EVLOG_HASH_BYTES);
    b = a;
    b.base_version++;
    event_hash(&b, hb);
    assert_memory_not_equal(ha, hb, EVLOG_HASH_BYTES);
    b = a;
    b.has_prev = true; /* a zero link is not the same as none */
    event_hash(&b, hb);
    assert_memory_not_equal(ha, hb, EVLOG_HASH_BYTES);
    b = a;
    b.body = "{ }";
    event_hash(&b, hb);
    assert_memory_not_equal(ha, hb, EVLOG_HASH_BYTES);
    b = a;
    snprintf(b.cause, sizeof(b.cause), "dossier:other");
    event_hash(&b, hb);
    assert_memory_not_equal(ha, hb, EVLOG_HASH_BYTES);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_identity, setup, teardown),
        cmocka_unit_test_setup_teardown(test_append_chains, setup, teardown),
        cmocka_unit_test_setup_teardown(test_stale_base_is_a_conflict, setup, teardown),
        cmocka_unit_test_setup_teardown(test_refusals_change_nothing, setup, teardown),
        cmocka_unit_test_setup_teardown(test_append_outside_write, setup, teardown),
        cmocka_unit_test_setup_teardown(test_rolled_back_append_keeps_the_chain, setup, teardown),
        cmocka_unit_test_setup_teardown(test_many_in_one_write_then_rollback, setup, teardown),
        cmocka_unit_test_setup_teardown(test_rollback_inside_a_group, setup, teardown),
        cmocka_unit_test_setup_teardown(test_concurrent_appends_chain, setup, teardown),
        cmocka_unit_test_setup_teardown(test_clock_never_goes_back, setup, teardown),
        cmocka_unit_test_setup_teardown(test_apply_remote, setup, teardown),
        cmocka_unit_test_setup_teardown(test_as_of_and_history, setup, teardown),
        cmocka_unit_test_setup_teardown(test_scan_head_and_versions, setup, teardown),
        cmocka_unit_test_setup_teardown(test_verify_finds_tampering, setup, teardown),
        cmocka_unit_test(test_event_hash_is_unambiguous),
    };

    return cmocka_run_group_tests(tests, NULL, NULL);
}
