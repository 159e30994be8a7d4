/*
 * Tests for src/sync/conflict.c on real nodes (tree.h): a commune and its
 * province change the same person concurrently; the province keeps its
 * record, sets the commune's change aside in one conflict with both sides,
 * marks the record, and the centre, fed the province's log, reaches the
 * same verdict; a resolution closes it at the province and, relayed, at
 * the centre.  Also: later changes join an open conflict, another origin
 * opens its own, a rebuild keeps the record held, an as-of read skips what
 * was set aside, and every refused resolution leaves the node as it was.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include "sync/conflict.h"
#include "tree.h"

#define ID "001090123456"

struct fixture {
    char root[64];
    struct tnode vn, p01, c4, c8;
};

static int setup(void **state)
{
    struct fixture *f = calloc(1, sizeof(*f));

    snprintf(f->root, sizeof(f->root), "/tmp/lt-conflict-XXXXXX");
    if (mkdtemp(f->root) == NULL) {
        return -1;
    }
    tnode_make(&f->vn, f->root, "VN-00000001", "VN");
    tnode_make(&f->p01, f->root, "01-00000002", "01");
    tnode_make(&f->c4, f->root, "00004-00000003", "00004");
    tnode_make(&f->c8, f->root, "00008-00000004", "00008");
    tenrol(&f->vn, &f->p01);
    tenrol(&f->p01, &f->c4);
    tenrol(&f->p01, &f->c8);
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

/* A person record with this name. */
static char *person(const char *name)
{
    char *j = NULL;

    if (asprintf(&j,
                 "{\"id\":\"" ID "\",\"full_name\":\"%s\",\"birth_date\":\"1990-05-01\","
                 "\"sex\":\"male\",\"ethnicity\":\"01\",\"nationality\":\"VN\","
                 "\"status\":\"alive\"}",
                 name) < 0) {
        abort();
    }
    return j;
}

/* Change the person at t, based on version base; the new version. */
static int64_t change(struct tnode *t, const char *name, int64_t base)
{
    char *text = person(name);
    json_t *rec = json_loads(text, 0, NULL);
    struct registry_change ch = { .kind = REG_PERSON,
                                  .record = rec,
                                  .base_version = base,
                                  .actor = "officer",
                                  .cause = "HS-2025-000002",
                                  .effective = DATE_MIN };
    struct lt_error err;
    int64_t v = 0;

    if (registry_write(t->n, &ch, &v, &err) != LT_OK) {
        fail_msg("change at %s: %s", t->dir, err.message);
    }
    json_decref(rec);
    free(text);
    return v;
}

/* Push everything of child that parent has not acknowledged. */
static struct sync_apply_result push(struct tnode *parent, struct tnode *child)
{
    struct sync_apply_result res;
    struct sync_batch b;
    struct lt_error err;

    tbatch(child, tchild(parent, child).acked, &b);
    if (tapply(parent, &b, &res, &err) != LT_OK) {
        fail_msg("push: %s (%s)", err.message, err.detail);
    }
    sync_batch_release(&b);
    return res;
}

/* The person's name and version at t. */
static const char *name_at(struct tnode *t, int64_t *version)
{
    static char name[128];
    struct lt_error err;
    json_t *rec = NULL;

    if (registry_get(t->n, REG_PERSON, ID, &rec, version, &err) != LT_OK) {
        fail_msg("get: %s", err.message);
    }
    snprintf(name, sizeof(name), "%s", json_string_value(json_object_get(rec, "full_name")));
    json_decref(rec);
    return name;
}

/* The ids of the person's open conflicts at t, as "a,b", or "". */
static const char *marks_at(struct tnode *t)
{
    static char out[256];
    struct lt_error err;
    json_t *ids = NULL, *v;
    size_t i;

    out[0] = '\0';
    if (sync_conflict_marks(node_store(t->n), "person/" ID, &ids, &err) != LT_OK) {
        fail_msg("marks: %s", err.message);
    }
    json_array_foreach(ids, i, v)
    {
        snprintf(out + strlen(out), sizeof(out) - strlen(out), "%s%s", i ? "," : "",
                 json_string_value(v));
    }
    json_decref(ids);
    return out;
}

static json_t *conflict_at(struct tnode *t, const char *id)
{
    struct lt_error err;
    json_t *cf = NULL;

    if (sync_conflict_get(t->n, id, NULL, &cf, &err) != LT_OK) {
        fail_msg("get conflict %s: %s", id, err.message);
    }
    return cf;
}

static const char *str_at(json_t *j, const char *a, const char *b)
{
    json_t *v = json_object_get(j, a);

    return json_string_value(b != NULL ? json_object_get(v, b) : v);
}

static int64_t int_at(json_t *j, const char *a, const char *b)
{
    return json_integer_value(json_object_get(json_object_get(j, a), b));
}

static const char *side_name(json_t *cf, const char *side)
{
    return json_string_value(
        json_object_get(json_object_get(json_object_get(cf, side), "record"), "full_name"));
}

static size_t open_count(struct tnode *t)
{
    struct sync_conflict_query q = { .status = "open", .limit = 100 };
    struct lt_error err;
    json_t *page = NULL;
    size_t n;

    if (sync_conflict_list(t->n, &q, &page, &err) != LT_OK) {
        fail_msg("list: %s", err.message);
    }
    n = json_array_size(json_object_get(page, "conflicts"));
    json_decref(page);
    return n;
}

/*
 * The story of the tests: the commune registers a person, everything goes
 * up; then the province and the commune each change it from version 1.
 * Returns the id of the conflict the province opens.
 */
static void concurrent_changes(struct fixture *f, char id[SYNC_CONFLICT_ID_MAX])
{
    struct sync_apply_result res;
    char *text = person("Nguyễn Văn An");

    twrite(&f->c4, REG_PERSON, text);
    free(text);
    push(&f->p01, &f->c4);
    push(&f->vn, &f->p01);

    assert_int_equal(change(&f->p01, "Nguyễn Văn Tỉnh", 1), 2);
    assert_int_equal(change(&f->c4, "Nguyễn Văn Xã", 1), 2);

    res = push(&f->p01, &f->c4);
    assert_int_equal(res.applied, 1); /* the event is in the log */
    assert_int_equal(res.conflicts.opened, 1);
    assert_int_equal(res.conflicts.joined, 0);
    snprintf(id, SYNC_CONFLICT_ID_MAX, "%s", marks_at(&f->p01));
    assert_string_equal(id, "00004-00000003:3"); /* genesis 1, registered 2, changed 3 */
}

static void test_stale_change_set_aside(void **state)
{
    struct fixture *f = *state;
    struct sync_apply_result res;
    char id[SYNC_CONFLICT_ID_MAX];
    struct lt_error err;
    json_t *cf, *hist = NULL, *asof = NULL;
    int64_t v = 0, head;

    concurrent_changes(f, id);

    /* nothing overwritten: the province keeps its record, at the entity's version */
    assert_string_equal(name_at(&f->p01, &v), "Nguyễn Văn Tỉnh");
    assert_int_equal(v, 3);
    assert_true(sync_conflict_open_count() > 0);
    cf = conflict_at(&f->p01, id);
    assert_string_equal(str_at(cf, "status", NULL), "open");
    assert_string_equal(str_at(cf, "entity", NULL), "person/" ID);
    assert_string_equal(str_at(cf, "held", "origin"), "01-00000002");
    assert_string_equal(str_at(cf, "held", "actor"), "officer");
    assert_int_equal(int_at(cf, "held", "version"), 2);
    assert_string_equal(side_name(cf, "held"), "Nguyễn Văn Tỉnh");
    assert_string_equal(str_at(cf, "incoming", "origin"), "00004-00000003");
    assert_int_equal(int_at(cf, "incoming", "seq"), 3);
    assert_int_equal(int_at(cf, "incoming", "base_version"), 1);
    assert_string_equal(side_name(cf, "incoming"), "Nguyễn Văn Xã");
    assert_int_equal(int_at(cf, "current", "version"), 3);
    assert_string_equal(str_at(cf, "unit", NULL), "00004"); /* the origin's: no residence */
    json_decref(cf);

    /* as of today the record is the one in force; the history shows what was set aside */
    assert_int_equal(registry_get_as_of(f->p01.n, REG_PERSON, ID, date_today(), &asof, &err),
                     LT_OK);
    assert_string_equal(json_string_value(json_object_get(asof, "full_name")), "Nguyễn Văn Tỉnh");
    json_decref(asof);
    assert_int_equal(registry_history(f->p01.n, REG_PERSON, ID, &hist, &err), LT_OK);
    assert_int_equal(json_array_size(hist), 3);
    assert_false(json_is_true(json_object_get(json_array_get(hist, 1), "set_aside")));
    assert_true(json_is_true(json_object_get(json_array_get(hist, 2), "set_aside")));
    json_decref(hist);

    /* a rebuild of the projections keeps the record held, at its version */
    assert_int_equal(registry_rebuild(f->p01.n, NULL, &err), LT_OK);
    assert_string_equal(name_at(&f->p01, &v), "Nguyễn Văn Tỉnh");
    assert_int_equal(v, 3);

    /* the centre, fed the province's log in its order, reaches the same verdict */
    head = thead(&f->vn);
    res = push(&f->vn, &f->p01);
    assert_int_equal(res.conflicts.opened, 1);
    assert_int_equal(thead(&f->vn), head + 2);
    assert_string_equal(marks_at(&f->vn), id);
    assert_string_equal(name_at(&f->vn, &v), "Nguyễn Văn Tỉnh");
    assert_int_equal(v, 3);
    cf = conflict_at(&f->vn, id);
    assert_string_equal(side_name(cf, "held"), "Nguyễn Văn Tỉnh");
    assert_string_equal(side_name(cf, "incoming"), "Nguyễn Văn Xã");
    json_decref(cf);
    assert_int_equal(open_count(&f->vn), 1);
}

static void test_resolution_clears_everywhere(void **state)
{
    struct fixture *f = *state;
    struct sync_resolution r = { 0 };
    struct sync_apply_result res;
    char id[SYNC_CONFLICT_ID_MAX];
    struct lt_error err;
    json_t *cf = NULL;
    int64_t v = 0;

    concurrent_changes(f, id);
    push(&f->vn, &f->p01);

    r.id = id;
    r.choice = "incoming";
    r.version = 3;
    r.actor = "officer.01";
    r.within = "01";
    if (sync_conflict_resolve(f->p01.n, &r, &cf, &err) != LT_OK) {
        fail_msg("resolve: %s (%s)", err.message, err.detail);
    }
    assert_string_equal(str_at(cf, "status", NULL), "resolved");
    assert_string_equal(str_at(cf, "resolution", "choice"), "incoming");
    assert_string_equal(str_at(cf, "resolution", "actor"), "officer.01");
    assert_string_equal(str_at(cf, "resolution", "origin"), "01-00000002");
    assert_int_equal(int_at(cf, "current", "version"), 4);
    json_decref(cf);
    assert_string_equal(name_at(&f->p01, &v), "Nguyễn Văn Xã");
    assert_int_equal(v, 4);
    assert_string_equal(marks_at(&f->p01), "");
    assert_int_equal(open_count(&f->p01), 0);

    /* relayed: the centre applies the resolution and closes its own copy */
    res = push(&f->vn, &f->p01);
    assert_int_equal(res.conflicts.closed, 1);
    assert_int_equal(res.conflicts.opened, 0);
    sync_conflict_settled(res.conflicts.closed);
    assert_string_equal(name_at(&f->vn, &v), "Nguyễn Văn Xã");
    assert_int_equal(v, 4);
    assert_string_equal(marks_at(&f->vn), "");
    cf = conflict_at(&f->vn, id);
    assert_string_equal(str_at(cf, "status", NULL), "resolved");
    assert_string_equal(str_at(cf, "resolution", "actor"), "officer.01");
    json_decref(cf);
}

/* Refuse r at the province; nothing may change. */
static void refuse(struct fixture *f, const struct sync_resolution *r, enum lt_code code,
                   const char *part)
{
    struct lt_error err;
    json_t *out = NULL;
    int64_t head = thead(&f->p01), v = 0, v_after = 0;
    char before[256], name[128];
    enum lt_code rc;

    snprintf(before, sizeof(before), "%s", marks_at(&f->p01));
    snprintf(name, sizeof(name), "%s", name_at(&f->p01, &v));
    rc = sync_conflict_resolve(f->p01.n, r, &out, &err);
    if (rc != code || strstr(err.message, part) == NULL) {
        fail_msg("expected %s \"%s\", got %s \"%s\"", lt_code_name(code), part, lt_code_name(rc),
                 err.message);
    }
    assert_null(out);
    assert_int_equal(thead(&f->p01), head);
    assert_string_equal(marks_at(&f->p01), before);
    assert_string_equal(name_at(&f->p01, &v_after), name);
    assert_int_equal(v_after, v);
}

static void test_refusals_change_nothing(void **state)
{
    struct fixture *f = *state;
    struct sync_resolution r = { 0 };
    char id[SYNC_CONFLICT_ID_MAX];
    char *other = NULL, *bad = NULL;
    struct lt_error err;
    json_t *out = NULL, *rec;
    int64_t v = 0;

    concurrent_changes(f, id);
    r.id = id;
    r.actor = "officer.01";
    r.version = 3;

    r.choice = "incoming";
    r.version = 2;
    refuse(f, &r, LT_ECONFLICT, "changed since version 2");
    r.version = 3;
    r.choice = "theirs";
    refuse(f, &r, LT_EINVAL, "unknown choice");
    r.choice = "merged";
    refuse(f, &r, LT_EINVAL, "goes with the choice");
    other = person("Người Khác");
    other[18] = '7'; /* another personal ID: 001090123457 */
    rec = json_loads(other, 0, NULL);
    r.record = rec;
    refuse(f, &r, LT_EINVAL, "not the one in conflict");
    json_decref(rec);
    bad = person("Nguyễn Văn Gộp");
    rec = json_loads(bad, 0, NULL);
    json_object_set_new(rec, "sex", json_string("unknown"));
    r.record = rec;
    refuse(f, &r, LT_EINVAL, "");
    json_decref(rec);
    r.record = NULL;
    r.choice = "held";
    r.within = "79";
    refuse(f, &r, LT_EFORBIDDEN, "outside your jurisdiction");
    r.within = "01";
    r.id = "00004-00000003:99";
    refuse(f, &r, LT_ENOTFOUND, "no conflict");
    r.id = id;
    assert_string_equal(name_at(&f->p01, &v), "Nguyễn Văn Tỉnh");
    assert_int_equal(v, 3);

    /* a merged record, and then the same conflict again */
    rec = json_loads(bad, 0, NULL);
    r.choice = "merged";
    r.record = rec;
    if (sync_conflict_resolve(f->p01.n, &r, &out, &err) != LT_OK) {
        fail_msg("resolve: %s (%s)", err.message, err.detail);
    }
    json_decref(out);
    assert_string_equal(name_at(&f->p01, &v), "Nguyễn Văn Gộp");
    r.version = v;
    refuse(f, &r, LT_ECONFLICT, "resolved already");
    json_decref(rec);
    free(other);
    free(bad);
}

static void test_join_and_other_origin(void **state)
{
    struct fixture *f = *state;
    struct sync_apply_result res;
    char id[SYNC_CONFLICT_ID_MAX], *text;
    json_t *cf;
    int64_t v = 0;

    concurrent_changes(f, id);

    /* the commune, unaware, changes the record again: it joins the open conflict */
    assert_int_equal(change(&f->c4, "Nguyễn Văn Xã Hai", 2), 3);
    res = push(&f->p01, &f->c4);
    assert_int_equal(res.conflicts.opened, 0);
    assert_int_equal(res.conflicts.joined, 1);
    cf = conflict_at(&f->p01, id);
    assert_int_equal(int_at(cf, "incoming", "events"), 2);
    assert_int_equal(int_at(cf, "incoming", "last_seq"), 4);
    assert_string_equal(side_name(cf, "incoming"), "Nguyễn Văn Xã Hai");
    assert_string_equal(side_name(cf, "held"), "Nguyễn Văn Tỉnh");
    json_decref(cf);

    /* another commune registering the same personal ID opens its own */
    text = person("Trần Văn Khác");
    twrite(&f->c8, REG_PERSON, text);
    free(text);
    res = push(&f->p01, &f->c8);
    assert_int_equal(res.conflicts.opened, 1);
    assert_string_equal(marks_at(&f->p01), "00004-00000003:3,00008-00000004:2");
    cf = conflict_at(&f->p01, "00008-00000004:2");
    assert_int_equal(int_at(cf, "incoming", "base_version"), 0);
    assert_string_equal(str_at(cf, "unit", NULL), "00008");
    json_decref(cf);
    assert_string_equal(name_at(&f->p01, &v), "Nguyễn Văn Tỉnh");
    assert_int_equal(v, 5);
    assert_int_equal(open_count(&f->p01), 2);

    /* the centre counts the same: both set aside there too */
    res = push(&f->vn, &f->p01);
    assert_int_equal(res.conflicts.opened, 2);
    assert_int_equal(res.conflicts.joined, 1);
    assert_string_equal(marks_at(&f->vn), "00004-00000003:3,00008-00000004:2");
    assert_string_equal(name_at(&f->vn, &v), "Nguyễn Văn Tỉnh");
    assert_int_equal(v, 5);
}

/* Changes that follow each other, each based on what the other had, are no conflict. */
static void test_in_order_no_conflict(void **state)
{
    struct fixture *f = *state;
    struct sync_apply_result res;
    char *text = person("Nguyễn Văn An");
    int64_t v = 0;

    twrite(&f->c4, REG_PERSON, text);
    free(text);
    assert_int_equal(change(&f->c4, "Nguyễn Văn Ba", 1), 2);
    res = push(&f->p01, &f->c4);
    assert_int_equal(res.conflicts.opened, 0);
    assert_int_equal(change(&f->p01, "Nguyễn Văn Bốn", 2), 3);
    res = push(&f->vn, &f->p01);
    assert_int_equal(res.conflicts.opened, 0);
    assert_string_equal(name_at(&f->vn, &v), "Nguyễn Văn Bốn");
    assert_int_equal(v, 3);
    assert_string_equal(marks_at(&f->vn), "");
    assert_string_equal(marks_at(&f->p01), "");
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_stale_change_set_aside, setup, teardown),
        cmocka_unit_test_setup_teardown(test_resolution_clears_everywhere, setup, teardown),
        cmocka_unit_test_setup_teardown(test_refusals_change_nothing, setup, teardown),
        cmocka_unit_test_setup_teardown(test_join_and_other_origin, setup, teardown),
        cmocka_unit_test_setup_teardown(test_in_order_no_conflict, setup, teardown),
    };

    return cmocka_run_group_tests(tests, NULL, NULL);
}
