/*
 * Tests for pull down (src/sync/pull_select.c, pull_batch.c, pull_apply.c)
 * on real nodes (tree.h), without HTTP: the parent collects an answer,
 * it goes through the encoder and the strict decoder, and the child
 * applies it in one write.
 *
 * The tree: VN; province 01 with communes 00004 (c4) and 00008 (c8).
 * What is checked: a record written at the province reaches the commune
 * of its unit and not the other; a person moving from 00008 to 00004
 * arrives with their history (person, residences, benefits) while 00008
 * gets only the move; reference data from the centre reaches a commune
 * through its province, with the centre's key vouched on the way, and
 * reference data from a province does not; a child far behind catches up
 * in several answers; tampered answers (body, signature, a vouched key,
 * the cursor, an event of the child's own subtree) are refused whole.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include "sync/pull.h"
#include "sync/pull_select.h"
#include "tree.h"

#define PERSON_B                                                                                   \
    "{\"id\":\"001190654321\",\"full_name\":\"Trần Thị Bình\",\"birth_date\":\"1990-06-01\"," \
    "\"sex\":\"female\",\"ethnicity\":\"01\",\"nationality\":\"VN\",\"status\":\"alive\"}"
#define RESIDENCE_A(unit)                                                                          \
    "{\"person_id\":\"001090123456\",\"kind\":\"permanent\",\"unit\":\"" unit "\","                \
    "\"address_line\":\"7 Đội Cấn\",\"from_date\":\"2020-01-01\"}"
#define BENEFIT_A(status)                                                                          \
    "{\"person_id\":\"001090123456\",\"scheme\":\"health_insurance\",\"card_no\":\"DN401012\","    \
    "\"start_date\":\"2024-01-01\",\"status\":\"" status "\"}"

#define VN_ORIGIN "VN-00000001"

struct fixture {
    char root[64];
    struct tnode vn, p01, c4, c8;
    int64_t acked_c8; /* what p01 acknowledged of c8 */
};

struct parent_set {
    const struct tnode *parent;
};

static enum lt_code set_parent_fn(struct store_conn *c, void *arg, struct lt_error *err)
{
    const struct tnode *p = ((struct parent_set *)arg)->parent;

    return sync_self_set_parent(c, "http://127.0.0.1:1", evlog_origin(node_evlog(p->n)),
                                evlog_unit(node_evlog(p->n)), p->key.pk, sync_now_ms(), err);
}

/* Enrol child with parent, on both sides. */
static void enrol(struct tnode *parent, struct tnode *child)
{
    struct parent_set ps = { parent };
    struct lt_error err;

    tenrol(parent, child);
    if (store_write(node_store(child->n), set_parent_fn, &ps, &err) != LT_OK) {
        fail_msg("set parent: %s", err.message);
    }
}

static int setup(void **state)
{
    struct fixture *f = calloc(1, sizeof(*f));

    snprintf(f->root, sizeof(f->root), "/tmp/lt-pull-XXXXXX");
    if (mkdtemp(f->root) == NULL) {
        return -1;
    }
    tnode_make(&f->vn, f->root, VN_ORIGIN, "VN");
    tnode_make(&f->p01, f->root, "01-00000002", "01");
    tnode_make(&f->c4, f->root, "00004-00000003", "00004");
    tnode_make(&f->c8, f->root, "00008-00000004", "00008");
    enrol(&f->vn, &f->p01);
    enrol(&f->p01, &f->c4);
    enrol(&f->p01, &f->c8);
    *state = f;
    return 0;
}

static int teardown(void **state)
{
    struct fixture *f = *state;

    tnode_close(&f->vn);
    tnode_close(&f->p01);
    tnode_close(&f->c4);
    tnode_close(&f->c8);
    tree_remove(f->root);
    free(f);
    return 0;
}

/* Push everything new of c8 to p01. */
static void push_c8(struct fixture *f)
{
    struct sync_apply_result res;
    struct sync_batch b;
    struct lt_error err;

    tbatch(&f->c8, f->acked_c8, &b);
    if (tapply(&f->p01, &b, &res, &err) != LT_OK) {
        fail_msg("push: %s", err.message);
    }
    f->acked_c8 = res.ack;
    sync_batch_release(&b);
}

/* A change with a base version, at t. */
static void tchange(struct tnode *t, enum registry_kind kind, const char *json, int64_t base)
{
    json_t *rec = json_loads(json, 0, NULL);
    struct registry_change ch = { .kind = kind,
                                  .record = rec,
                                  .base_version = base,
                                  .actor = "officer",
                                  .cause = "HS-2025-000002",
                                  .effective = DATE_MIN };
    struct lt_error err;
    int64_t v;

    if (rec == NULL || registry_write(t->n, &ch, &v, &err) != LT_OK) {
        fail_msg("change at %s refused: %s", t->dir, rec ? err.message : "bad JSON");
    }
    json_decref(rec);
}

/* Collecting at the parent. */

struct collect_read {
    struct tnode *parent;
    const char *parent_parent;
    const char *child;
    struct sync_pull_answer *a;
};

static enum lt_code collect_fn(struct store_conn *c, void *arg, struct lt_error *err)
{
    struct collect_read *r = arg;

    return sync_pull_collect(r->parent->n, c, &r->parent->key, r->parent_parent, r->child, r->a,
                             err);
}

static enum lt_code collect(struct tnode *parent, const char *parent_parent, const char *child,
                            int64_t after, struct sync_pull_answer *a, struct lt_error *err)
{
    struct collect_read r = { parent, parent_parent, child, a };

    a->after = after;
    a->through = after;
    return store_read(node_store(parent->n), collect_fn, &r, err);
}

/* Applying at the child. */

struct apply_write {
    struct tnode *child;
    struct sync_pull_reply *r;
    struct sync_pull_applied res;
};

static enum lt_code apply_fn(struct store_conn *c, void *arg, struct lt_error *err)
{
    struct apply_write *w = arg;
    struct sync_self self;
    bool found = false;
    enum lt_code rc = sync_self_get(c, &self, &found, err);

    if (rc == LT_OK && !found) {
        rc = lt_error_set(err, LT_EINTERNAL, "no sync identity");
    }
    return rc == LT_OK ? sync_pull_apply(w->child->n, c, &self, w->r, sync_now_ms(), &w->res, err)
                       : rc;
}

static enum lt_code apply(struct tnode *child, struct sync_pull_reply *r,
                          struct sync_pull_applied *res, struct lt_error *err)
{
    struct apply_write w = { child, r, { 0 } };
    enum lt_code rc = store_write(node_store(child->n), apply_fn, &w, err);

    if (res != NULL) {
        *res = w.res;
    }
    return rc;
}

struct cursor_read {
    const char *parent;
    struct sync_pull_cursor cur;
};

static enum lt_code cursor_fn(struct store_conn *c, void *arg, struct lt_error *err)
{
    struct cursor_read *r = arg;

    return sync_pull_cursor_get(c, r->parent, &r->cur, err);
}

static int64_t cursor_of(struct tnode *child, struct tnode *parent)
{
    struct cursor_read r = { .parent = evlog_origin(node_evlog(parent->n)) };
    struct lt_error err;

    if (store_read(node_store(child->n), cursor_fn, &r, &err) != LT_OK) {
        fail_msg("cursor: %s", err.message);
    }
    return r.cur.cursor;
}

/* One pull of child from parent: the answer decoded into r (release it). */
static void answer(struct tnode *parent, const char *parent_parent, struct tnode *child,
                   struct sync_pull_reply *r)
{
    struct sync_pull_answer a;
    struct lt_error err;

    sync_pull_answer_init(&a);
    if (collect(parent, parent_parent, evlog_origin(node_evlog(child->n)), cursor_of(child, parent),
                &a, &err) != LT_OK) {
        fail_msg("collect: %s", err.message);
    }
    if (sync_pull_reply_decode(a.text.data, a.text.len, r, &err) != LT_OK) {
        fail_msg("decode: %s", err.message);
    }
    sync_pull_answer_release(&a);
}

/* One whole pull; the number of events in the answer. */
static size_t pull(struct tnode *parent, const char *parent_parent, struct tnode *child,
                   struct sync_pull_applied *res)
{
    struct sync_pull_reply r;
    struct lt_error err;
    size_t n;

    answer(parent, parent_parent, child, &r);
    n = r.nevents;
    if (apply(child, &r, res, &err) != LT_OK) {
        fail_msg("apply: %s (%s)", err.message, err.detail);
    }
    sync_pull_reply_release(&r);
    return n;
}

static int64_t count_events(struct tnode *t)
{
    return thead(t);
}

struct version_read {
    const char *entity;
    int64_t v;
};

static enum lt_code version_fn(struct store_conn *c, void *arg, struct lt_error *err)
{
    struct version_read *r = arg;

    return evlog_entity_version(c, r->entity, &r->v, err);
}

static int64_t version_of(struct tnode *t, const char *entity)
{
    struct version_read r = { entity, 0 };
    struct lt_error err;

    if (store_read(node_store(t->n), version_fn, &r, &err) != LT_OK) {
        fail_msg("version: %s", err.message);
    }
    return r.v;
}

static enum lt_code verify_fn(struct store_conn *c, void *arg, struct lt_error *err)
{
    return evlog_verify(c, arg, err);
}

static void assert_verifies(struct tnode *t)
{
    struct lt_error err;
    int64_t n = 0;

    if (store_read(node_store(t->n), verify_fn, &n, &err) != LT_OK) {
        fail_msg("verify %s: %s (%s)", t->dir, err.message, err.detail);
    }
}

static char *unit_of(struct tnode *t, enum registry_kind kind, const char *key)
{
    struct lt_error err;
    json_t *rec = NULL;
    int64_t v;
    char *out;

    if (registry_get(t->n, kind, key, &rec, &v, &err) != LT_OK) {
        return strdup("(none)");
    }
    out = strdup(json_string_value(json_object_get(rec, "unit")));
    json_decref(rec);
    return out;
}

/* Tests. */

static void test_subjects(void **state)
{
    struct sync_subject s;

    (void)state;
    sync_pull_subject("person.registered", "person/001090123456", &s);
    assert_int_equal(s.kind, SYNC_SUBJECT_PERSON);
    assert_string_equal(s.id, "001090123456");
    sync_pull_subject("residence.changed", "residence/001090123456/permanent", &s);
    assert_int_equal(s.kind, SYNC_SUBJECT_PERSON);
    assert_string_equal(s.id, "001090123456");
    sync_pull_subject("benefit.registered", "benefit/001090123456/health_insurance", &s);
    assert_int_equal(s.kind, SYNC_SUBJECT_PERSON);
    sync_pull_subject("parcel.transferred", "parcel/00004-12-345", &s);
    assert_int_equal(s.kind, SYNC_SUBJECT_RECORD);
    assert_string_equal(s.id, "parcel/00004-12-345");
    sync_pull_subject("household.registered", "household/HK-1", &s);
    assert_int_equal(s.kind, SYNC_SUBJECT_RECORD);
    sync_pull_subject("reference.published", "reference/catalogue", &s);
    assert_int_equal(s.kind, SYNC_SUBJECT_REFERENCE);
    sync_pull_subject("reference.published", "person/1", &s);
    assert_int_equal(s.kind, SYNC_SUBJECT_PERSON);
    sync_pull_subject("node.enrolled", "node/00004-1", &s);
    assert_int_equal(s.kind, SYNC_SUBJECT_NONE);
    sync_pull_subject("audit.read", "audit/00004-1", &s);
    assert_int_equal(s.kind, SYNC_SUBJECT_NONE);
    sync_pull_subject("dossier.received", "dossier/K7M4QX9PD", &s);
    assert_int_equal(s.kind, SYNC_SUBJECT_NONE);
    sync_pull_subject("person.registered", "person/", &s);
    assert_int_equal(s.kind, SYNC_SUBJECT_NONE);
}

static void test_province_write_flows_only_to_its_commune(void **state)
{
    struct fixture *f = *state;
    struct sync_pull_applied res;
    int64_t c4 = count_events(&f->c4), c8 = count_events(&f->c8);

    twrite(&f->p01, REG_PERSON, PERSON_B);
    twrite(&f->p01, REG_HOUSEHOLD,
           "{\"id\":\"HK-9\",\"head_id\":\"001190654321\",\"unit\":\"00004\","
           "\"address_line\":\"5 Kim Mã\"}");

    /* The enrolment events name the communes' units: they stay at the province. */
    assert_int_equal(pull(&f->p01, VN_ORIGIN, &f->c4, &res), 1);
    assert_int_equal(res.applied, 1);
    assert_true(thas(&f->c4, REG_HOUSEHOLD, "HK-9"));
    assert_false(thas(&f->c4, REG_PERSON, "001190654321")); /* no residence in 00004 */
    assert_int_equal(count_events(&f->c4), c4 + 1);
    assert_int_equal(cursor_of(&f->c4, &f->p01), thead(&f->p01));

    assert_int_equal(pull(&f->p01, VN_ORIGIN, &f->c8, &res), 0);
    assert_false(thas(&f->c8, REG_HOUSEHOLD, "HK-9"));
    assert_int_equal(count_events(&f->c8), c8);
    assert_int_equal(cursor_of(&f->c8, &f->p01), thead(&f->p01));

    /* Asked again, nothing new: the cursor is where it was. */
    assert_int_equal(pull(&f->p01, VN_ORIGIN, &f->c4, &res), 0);
    assert_int_equal(count_events(&f->c4), c4 + 1);
    assert_verifies(&f->c4);
}

static void test_person_moving_in_brings_their_history(void **state)
{
    struct fixture *f = *state;
    struct sync_pull_applied res;
    char *unit;
    int64_t c8;

    twrite(&f->c8, REG_PERSON, PERSON_A);
    twrite(&f->c8, REG_RESIDENCE, RESIDENCE_A("00008"));
    twrite(&f->c8, REG_BENEFIT, BENEFIT_A("active"));
    push_c8(f);
    c8 = count_events(&f->c8);

    /* Nothing for anyone yet: the person lives in 00008, which wrote it. */
    assert_int_equal(pull(&f->p01, VN_ORIGIN, &f->c4, &res), 0);
    assert_int_equal(pull(&f->p01, VN_ORIGIN, &f->c8, &res), 0);

    /* The province moves the person's permanent residence to 00004. */
    tchange(&f->p01, REG_RESIDENCE, RESIDENCE_A("00004"), 1);
    assert_int_equal(pull(&f->p01, VN_ORIGIN, &f->c4, &res), 4);
    assert_int_equal(res.applied, 4);
    assert_true(thas(&f->c4, REG_PERSON, "001090123456"));
    assert_true(thas(&f->c4, REG_BENEFIT, "001090123456/health_insurance"));
    unit = unit_of(&f->c4, REG_RESIDENCE, "001090123456/permanent");
    assert_string_equal(unit, "00004");
    free(unit);
    assert_int_equal(version_of(&f->c4, "residence/001090123456/permanent"),
                     version_of(&f->p01, "residence/001090123456/permanent"));

    /* The commune left behind gets the move, and only that. */
    assert_int_equal(pull(&f->p01, VN_ORIGIN, &f->c8, &res), 1);
    assert_int_equal(count_events(&f->c8), c8 + 1);
    unit = unit_of(&f->c8, REG_RESIDENCE, "001090123456/permanent");
    assert_string_equal(unit, "00004");
    free(unit);

    /* Later changes go to the new commune only. */
    tchange(&f->p01, REG_BENEFIT, BENEFIT_A("suspended"), 1);
    assert_int_equal(pull(&f->p01, VN_ORIGIN, &f->c4, &res), 1);
    assert_int_equal(pull(&f->p01, VN_ORIGIN, &f->c8, &res), 0);
    assert_int_equal(version_of(&f->c4, "benefit/001090123456/health_insurance"), 2);

    assert_verifies(&f->c4);
    assert_verifies(&f->c8);
}

struct pulled_read {
    int64_t *pos;
    size_t n;
};

static enum lt_code pulled_fn(struct store_conn *c, void *arg, struct lt_error *err)
{
    struct pulled_read *r = arg;

    return evlog_pulled_after(c, 0, 0, &r->pos, &r->n, err);
}

static void test_pulled_events_are_marked(void **state)
{
    struct fixture *f = *state;
    struct sync_pull_applied res;
    struct pulled_read r = { NULL, 0 };
    struct lt_error err;
    int64_t before = thead(&f->c4);

    twrite(&f->p01, REG_PERSON, PERSON_B);
    twrite(&f->p01, REG_HOUSEHOLD,
           "{\"id\":\"HK-9\",\"head_id\":\"001190654321\",\"unit\":\"00004\","
           "\"address_line\":\"5 Kim Mã\"}");
    twrite(&f->c4, REG_PERSON, PERSON_A);
    pull(&f->p01, VN_ORIGIN, &f->c4, &res);
    assert_int_equal(store_read(node_store(f->c4.n), pulled_fn, &r, &err), LT_OK);
    assert_int_equal(r.n, 1);
    assert_int_equal(r.pos[0], before + 2); /* after the local person */
    free(r.pos);
}

static enum lt_code reference_fn(struct store_conn *c, void *arg, struct lt_error *err)
{
    struct tnode *t = arg;
    struct event ev;

    memset(&ev, 0, sizeof(ev));
    snprintf(ev.actor, sizeof(ev.actor), "admin.vn");
    snprintf(ev.type, sizeof(ev.type), SYNC_REFERENCE_EVENT);
    snprintf(ev.entity, sizeof(ev.entity), "reference/calendar");
    snprintf(ev.cause, sizeof(ev.cause), "publish");
    ev.effective = date_today();
    ev.body = "{\"kind\":\"calendar\",\"document\":{}}";
    return evlog_entity_version(c, ev.entity, &ev.base_version, err) == LT_OK
               ? evlog_append(node_evlog(t->n), c, &ev, NULL, err)
               : err->code;
}

static void publish(struct tnode *t)
{
    struct lt_error err;

    if (store_write(node_store(t->n), reference_fn, t, &err) != LT_OK) {
        fail_msg("publish: %s", err.message);
    }
}

static void test_reference_data_flows_from_the_centre(void **state)
{
    struct fixture *f = *state;
    struct sync_pull_applied res;

    publish(&f->vn);
    assert_int_equal(pull(&f->vn, "", &f->p01, &res), 1);
    assert_true(res.reference);
    assert_int_equal(res.keys, 1); /* the centre's own key, vouched by itself */
    assert_int_equal(pull(&f->p01, VN_ORIGIN, &f->c4, &res), 1);
    assert_true(res.reference);
    assert_int_equal(res.keys, 1); /* the centre's key, vouched by the province */
    assert_int_equal(version_of(&f->c4, "reference/calendar"), 1);
    assert_int_equal(pull(&f->p01, VN_ORIGIN, &f->c8, &res), 1);

    /* A province's own "reference data" stays there. */
    publish(&f->p01);
    assert_int_equal(pull(&f->p01, VN_ORIGIN, &f->c4, &res), 0);
    assert_int_equal(version_of(&f->c4, "reference/calendar"), 1);
    assert_verifies(&f->c4);
    assert_verifies(&f->p01);
}

static void test_a_child_away_gets_the_backlog(void **state)
{
    struct fixture *f = *state;
    struct sync_pull_applied res;
    char rec[256];
    int rounds = 0;

    twrite(&f->p01, REG_PERSON, PERSON_B);
    for (int i = 0; i < 60; i++) {
        snprintf(rec, sizeof(rec),
                 "{\"id\":\"HK-%d\",\"head_id\":\"001190654321\",\"unit\":\"%s\","
                 "\"address_line\":\"%d Kim Mã\"}",
                 i, i % 2 ? "00004" : "00008", i + 1);
        twrite(&f->p01, REG_HOUSEHOLD, rec);
    }
    while (cursor_of(&f->c4, &f->p01) < thead(&f->p01) && rounds < 10) {
        pull(&f->p01, VN_ORIGIN, &f->c4, &res);
        rounds++;
    }
    assert_int_equal(cursor_of(&f->c4, &f->p01), thead(&f->p01));
    assert_true(thas(&f->c4, REG_HOUSEHOLD, "HK-59"));
    assert_false(thas(&f->c4, REG_HOUSEHOLD, "HK-58"));
}

/* Pull c4, change the answer with fn, expect a refusal naming why, and nothing applied. */
static void refused(struct fixture *f, void (*fn)(struct fixture *, struct sync_pull_reply *),
                    enum lt_code code, const char *why)
{
    struct sync_pull_reply r;
    struct lt_error err;
    int64_t head = thead(&f->c4), cur = cursor_of(&f->c4, &f->p01);

    answer(&f->p01, VN_ORIGIN, &f->c4, &r);
    fn(f, &r);
    assert_int_equal(apply(&f->c4, &r, NULL, &err), code);
    if (strstr(err.message, why) == NULL) {
        fail_msg("refused for \"%s\", not \"%s\"", err.message, why);
    }
    assert_int_equal(thead(&f->c4), head);
    assert_int_equal(cursor_of(&f->c4, &f->p01), cur);
    sync_pull_reply_release(&r);
}

static void alter_body(struct fixture *f, struct sync_pull_reply *r)
{
    (void)f;
    r->events[0].body[2] ^= 1;
}

static void alter_sig(struct fixture *f, struct sync_pull_reply *r)
{
    (void)f;
    r->events[0].sig[5] ^= 1;
}

static void alter_key(struct fixture *f, struct sync_pull_reply *r)
{
    (void)f;
    for (size_t i = 0; i < r->nkeys; i++) {
        r->keys[i].pk[0] ^= 1;
    }
}

static void alter_cursor(struct fixture *f, struct sync_pull_reply *r)
{
    (void)f;
    r->after += 1;
}

static void alter_origin(struct fixture *f, struct sync_pull_reply *r)
{
    snprintf(r->origin, sizeof(r->origin), "%s", evlog_origin(node_evlog(f->c8.n)));
}

static enum lt_code own_fn(const struct event *ev, void *arg, struct lt_error *err)
{
    struct event *out = arg;

    (void)err;
    free(out->body);
    *out = *ev;
    out->body = strdup(ev->body);
    return LT_ECONFLICT; /* the first one will do */
}

static enum lt_code own_read(struct store_conn *c, void *arg, struct lt_error *err)
{
    enum lt_code rc = evlog_scan(c, 0, 1, own_fn, arg, err);

    return rc == LT_ECONFLICT ? LT_OK : rc;
}

/* Put c4's own first event in the answer, as if it came down. */
static void add_own(struct fixture *f, struct sync_pull_reply *r)
{
    struct lt_error err;
    struct event *ev;

    r->events = realloc(r->events, (r->nevents + 1) * sizeof(*r->events));
    ev = &r->events[r->nevents];
    memset(ev, 0, sizeof(*ev));
    if (store_read(node_store(f->c4.n), own_read, ev, &err) != LT_OK) {
        fail_msg("read: %s", err.message);
    }
    sync_sign_event(&f->c4.key, ev);
    r->nevents++;
}

static void test_tampered_answers_are_refused(void **state)
{
    struct fixture *f = *state;
    struct sync_pull_answer a;
    struct lt_error err;

    twrite(&f->p01, REG_PERSON, PERSON_B);
    twrite(&f->p01, REG_HOUSEHOLD,
           "{\"id\":\"HK-9\",\"head_id\":\"001190654321\",\"unit\":\"00004\","
           "\"address_line\":\"5 Kim Mã\"}");
    refused(f, alter_body, LT_EINVAL, "does not match its hash");
    refused(f, alter_sig, LT_EINVAL, "bad signature");
    refused(f, alter_key, LT_EINVAL, "not the one pinned");
    refused(f, alter_cursor, LT_ECONFLICT, "but the cursor is at");
    refused(f, alter_origin, LT_EINVAL, "not from this node's parent");
    refused(f, add_own, LT_EINVAL, "subtree came down");
    assert_false(thas(&f->c4, REG_HOUSEHOLD, "HK-9"));

    /* An unknown child gets nothing. */
    sync_pull_answer_init(&a);
    assert_int_equal(collect(&f->p01, VN_ORIGIN, "00070-99999999", 0, &a, &err), LT_ENOTFOUND);
    assert_non_null(strstr(err.message, "is not a child of this node"));
    /* Nor does a cursor from another log. */
    assert_int_equal(collect(&f->p01, VN_ORIGIN, evlog_origin(node_evlog(f->c4.n)),
                             thead(&f->p01) + 5, &a, &err),
                     LT_ECONFLICT);
    sync_pull_answer_release(&a);

    /* The genuine answer still applies. */
    assert_int_equal(pull(&f->p01, VN_ORIGIN, &f->c4, NULL), 1);
    assert_true(thas(&f->c4, REG_HOUSEHOLD, "HK-9"));
}

static void test_answer_signature(void **state)
{
    struct fixture *f = *state;
    char sig[SYNC_SIG_HEX];
    const char *body = "{\"v\":1}";

    sync_pull_sign_answer(&f->p01.key, "01-00000002", "00ff", body, strlen(body), sig);
    assert_true(sync_pull_answer_ok(f->p01.key.pk, "01-00000002", "00ff", body, strlen(body), sig));
    assert_false(
        sync_pull_answer_ok(f->p01.key.pk, "01-00000002", "00fe", body, strlen(body), sig));
    assert_false(sync_pull_answer_ok(f->p01.key.pk, "01-00000002", "00ff", "{\"v\":2}", 7, sig));
    assert_false(sync_pull_answer_ok(f->c4.key.pk, "01-00000002", "00ff", body, strlen(body), sig));
    assert_false(
        sync_pull_answer_ok(f->p01.key.pk, "01-00000002", "00ff", body, strlen(body), NULL));
}

static void test_malformed_answers(void **state)
{
    static const char *const bad[] = {
        "[]",
        "{\"v\":1}",
        "{\"v\":2,\"events\":[],\"keys\":[],\"origin\":\"x\",\"after\":0,\"through\":0,"
        "\"head\":0}",
        "{\"v\":1,\"events\":[],\"keys\":[],\"origin\":\"x\",\"after\":3,\"through\":2,"
        "\"head\":4}",
        "{\"v\":1,\"events\":[],\"keys\":[],\"origin\":\"x\",\"after\":0,\"through\":0,"
        "\"head\":0,\"more\":1}",
        "{\"v\":1,\"events\":[],\"keys\":[{\"origin\":\"x\",\"unit\":\"01\","
        "\"public_key\":\"00\",\"enrolled_by\":null}],\"origin\":\"x\",\"after\":0,"
        "\"through\":0,\"head\":0}",
        "{\"v\":1,\"events\":[{}],\"keys\":[],\"origin\":\"x\",\"after\":0,\"through\":0,"
        "\"head\":0}",
    };
    struct sync_pull_reply r;
    struct lt_error err;

    (void)state;
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        if (sync_pull_reply_decode(bad[i], strlen(bad[i]), &r, &err) == LT_OK) {
            fail_msg("accepted: %s", bad[i]);
        }
        sync_pull_reply_release(&r);
    }
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_subjects),
        cmocka_unit_test_setup_teardown(test_province_write_flows_only_to_its_commune, setup,
                                        teardown),
        cmocka_unit_test_setup_teardown(test_person_moving_in_brings_their_history, setup,
                                        teardown),
        cmocka_unit_test_setup_teardown(test_pulled_events_are_marked, setup, teardown),
        cmocka_unit_test_setup_teardown(test_reference_data_flows_from_the_centre, setup, teardown),
        cmocka_unit_test_setup_teardown(test_a_child_away_gets_the_backlog, setup, teardown),
        cmocka_unit_test_setup_teardown(test_tampered_answers_are_refused, setup, teardown),
        cmocka_unit_test_setup_teardown(test_answer_signature, setup, teardown),
        cmocka_unit_test(test_malformed_answers),
    };

    return cmocka_run_group_tests(tests, NULL, NULL);
}
