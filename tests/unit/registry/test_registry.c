/*
 * Tests for src/registry/registry.c on a real node (a store in a temporary
 * directory): writes and reads, refusals that leave the store unchanged,
 * optimistic concurrency, as-of and history, listing by commune and
 * province with paging, search, batches and rebuilding the projections.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <pthread.h>
#include <unistd.h>

#include <cmocka.h>

#include "core/date.h"
#include "registry/registry.h"

#define DUMP (JSON_COMPACT | JSON_PRESERVE_ORDER | JSON_REAL_PRECISION(15))

struct fixture {
    char dir[64];
    struct node *n;
};

static enum lt_code init_fn(struct store_conn *c, void *arg, struct lt_error *err)
{
    (void)arg;
    return evlog_init_node(c, "test-node", "01", err);
}

static int setup(void **state)
{
    struct fixture *f = calloc(1, sizeof(*f));
    struct store_options o;
    struct store *s = NULL;
    struct lt_error err;

    snprintf(f->dir, sizeof(f->dir), "/tmp/lt-registry-XXXXXX");
    if (mkdtemp(f->dir) == NULL) {
        return -1;
    }
    store_options_default(&o);
    o.create = true;
    o.durable = false;
    o.readers = 2;
    if (store_open(f->dir, &o, &s, &err) != LT_OK || store_write(s, init_fn, NULL, &err) != LT_OK) {
        fprintf(stderr, "setup: %s\n", err.message);
        return -1;
    }
    store_close(s);
    o.create = false;
    if (node_open(f->dir, &o, &f->n, &err) != LT_OK) {
        fprintf(stderr, "setup: %s\n", err.message);
        return -1;
    }
    *state = f;
    return 0;
}

static int teardown(void **state)
{
    struct fixture *f = *state;
    char cmd[128];

    node_close(f->n);
    snprintf(cmd, sizeof(cmd), "rm -rf '%s'", f->dir);
    if (system(cmd) != 0) {
        return -1;
    }
    free(f);
    return 0;
}

static int32_t day(const char *s)
{
    int32_t d = 0;

    assert_int_equal(date_parse(s, &d, NULL), LT_OK);
    return d;
}

/* Write a record given as JSON text; returns the code, *version the version. */
static enum lt_code put(struct node *n, enum registry_kind kind, const char *json, int64_t base,
                        const char *effective, int64_t *version, struct lt_error *err)
{
    json_error_t jerr;
    json_t *rec = json_loads(json, 0, &jerr);
    struct registry_change ch = { .kind = kind,
                                  .record = rec,
                                  .base_version = base,
                                  .actor = "clerk-01",
                                  .cause = "HS-2025-000123",
                                  .effective = effective ? day(effective) : DATE_MIN };
    int64_t v = -1;
    enum lt_code rc;

    if (rec == NULL) {
        fail_msg("bad JSON in test: %s", jerr.text);
    }
    lt_error_clear(err);
    rc = registry_write(n, &ch, &v, err);
    json_decref(rec);
    if (version != NULL) {
        *version = v;
    }
    return rc;
}

static void must_put(struct node *n, enum registry_kind kind, const char *json, int64_t base,
                     const char *effective)
{
    struct lt_error err;
    int64_t v;

    if (put(n, kind, json, base, effective, &v, &err) != LT_OK) {
        fail_msg("write refused: %s (field %s) for %s", err.message, err.field, json);
    }
    assert_int_equal(v, base + 1);
}

static char *person_json(const char *id, const char *name, const char *birth, const char *sex)
{
    char *s = NULL;

    if (asprintf(&s,
                 "{\"id\":\"%s\",\"full_name\":\"%s\",\"birth_date\":\"%s\",\"sex\":\"%s\","
                 "\"ethnicity\":\"01\",\"nationality\":\"VN\",\"status\":\"alive\"}",
                 id, name, birth, sex) < 0) {
        abort();
    }
    return s;
}

static void add_person(struct node *n, const char *id, const char *name, const char *birth,
                       const char *sex)
{
    char *j = person_json(id, name, birth, sex);

    must_put(n, REG_PERSON, j, 0, NULL);
    free(j);
}

static void add_residence(struct node *n, const char *person, const char *unit)
{
    char j[512];

    snprintf(j, sizeof(j),
             "{\"person_id\":\"%s\",\"kind\":\"permanent\",\"unit\":\"%s\","
             "\"address_line\":\"1 phố Huế\",\"from_date\":\"2015-01-01\"}",
             person, unit);
    must_put(n, REG_RESIDENCE, j, 0, NULL);
}

/* What a refusal must leave as it was: the log head and every table's row count. */
struct snapshot {
    int64_t head;
    int64_t rows[6];
};

static void snap(struct node *n, struct snapshot *s)
{
    static const char *const tables[6] = { "reg_people",  "reg_residences", "reg_households",
                                           "reg_parcels", "reg_benefits",   "reg_businesses" };
    struct store_conn *c = store_reader_get(node_store(n));
    struct lt_error err;

    assert_int_equal(evlog_head(c, &s->head, &err), LT_OK);
    for (int i = 0; i < 6; i++) {
        struct store_stmt *st;
        char sql[96];

        snprintf(sql, sizeof(sql), "SELECT COUNT(*) FROM %s", tables[i]);
        assert_int_equal(store_prepare(c, sql, &st, &err), LT_OK);
        assert_int_equal(store_step(st, &err), STORE_ROW);
        s->rows[i] = store_col_int(st, 0);
    }
    store_reader_put(node_store(n), c);
}

static void assert_same(const struct snapshot *a, const struct snapshot *b)
{
    assert_int_equal(a->head, b->head);
    for (int i = 0; i < 6; i++) {
        assert_int_equal(a->rows[i], b->rows[i]);
    }
}

static void test_write_get_change(void **state)
{
    struct fixture *f = *state;
    json_t *rec = NULL;
    struct lt_error err;
    struct buf text;
    int64_t v = 0;
    char *j;

    add_person(f->n, "001085012345", "Nguyễn Văn An", "1985-03-02", "male");
    assert_int_equal(registry_get(f->n, REG_PERSON, "001085012345", &rec, &v, &err), LT_OK);
    assert_int_equal(v, 1);
    assert_string_equal(json_string_value(json_object_get(rec, "full_name")), "Nguyễn Văn An");
    json_decref(rec);

    /* the stored text is the canonical dump, ready to send */
    buf_init(&text, 4096);
    assert_int_equal(registry_get_text(f->n, REG_PERSON, "001085012345", &text, &v, &err), LT_OK);
    assert_string_equal(buf_str(&text),
                        "{\"id\":\"001085012345\",\"full_name\":\"Nguyễn Văn An\",\"birth_date\":"
                        "\"1985-03-02\",\"sex\":\"male\",\"ethnicity\":\"01\",\"nationality\":"
                        "\"VN\",\"status\":\"alive\"}");
    buf_release(&text);

    j = person_json("001085012345", "Nguyễn Văn Ân", "1985-03-02", "male");
    must_put(f->n, REG_PERSON, j, 1, NULL);
    free(j);
    assert_int_equal(registry_get(f->n, REG_PERSON, "001085012345", &rec, &v, &err), LT_OK);
    assert_int_equal(v, 2);
    assert_string_equal(json_string_value(json_object_get(rec, "full_name")), "Nguyễn Văn Ân");
    json_decref(rec);

    assert_int_equal(registry_get(f->n, REG_PERSON, "001085099999", &rec, &v, &err), LT_ENOTFOUND);
    assert_null(rec);
    assert_int_equal(registry_get(f->n, REG_PARCEL, "001085012345", &rec, &v, &err), LT_ENOTFOUND);
}

/* Refusals that need the database; each must leave the store as it was. */
static void test_refusals_change_nothing(void **state)
{
    static const struct {
        enum registry_kind kind;
        int64_t base;
        const char *json;
        enum lt_code code;
        const char *field;
        const char *message;
    } cases[] = {
        { REG_PERSON, 0,
          "{\"id\":\"001205012346\",\"full_name\":\"Con\",\"birth_date\":\"2005-01-01\","
          "\"sex\":\"male\",\"ethnicity\":\"01\",\"nationality\":\"VN\",\"status\":\"alive\","
          "\"father_id\":\"001060099999\"}",
          LT_EINVAL, "father_id", "no person \"001060099999\"" },
        { REG_PERSON, 0,
          "{\"id\":\"001205012345\",\"full_name\":\"Con\",\"birth_date\":\"2005-01-01\","
          "\"sex\":\"male\",\"ethnicity\":\"01\",\"nationality\":\"VN\",\"status\":\"alive\","
          "\"father_id\":\"001160012345\"}",
          LT_EINVAL, "father_id", "is female" },
        { REG_PERSON, 0,
          "{\"id\":\"001150012345\",\"full_name\":\"Con\",\"birth_date\":\"1950-01-01\","
          "\"sex\":\"female\",\"ethnicity\":\"01\",\"nationality\":\"VN\",\"status\":\"alive\","
          "\"mother_id\":\"001160012345\"}",
          LT_EINVAL, "mother_id", "not born before" },
        { REG_PERSON, 0,
          "{\"id\":\"001060012345\",\"full_name\":\"Trùng\",\"birth_date\":\"1960-01-01\","
          "\"sex\":\"male\",\"ethnicity\":\"01\",\"nationality\":\"VN\",\"status\":\"alive\"}",
          LT_ECONFLICT, "", "already exists" },
        { REG_PERSON, 5,
          "{\"id\":\"001060012345\",\"full_name\":\"Cũ\",\"birth_date\":\"1960-01-01\","
          "\"sex\":\"male\",\"ethnicity\":\"01\",\"nationality\":\"VN\",\"status\":\"alive\"}",
          LT_ECONFLICT, "", "has no version 5 yet" },
        { REG_PERSON, 1,
          "{\"id\":\"001070012345\",\"full_name\":\"Chưa có\",\"birth_date\":\"1970-01-01\","
          "\"sex\":\"male\",\"ethnicity\":\"01\",\"nationality\":\"VN\",\"status\":\"alive\"}",
          LT_ENOTFOUND, "", "no person \"001070012345\" to change" },
        { REG_PERSON, 0, "{\"id\":\"001070012345\"}", LT_EINVAL, "full_name", "missing" },
        { REG_RESIDENCE, 0,
          "{\"person_id\":\"001070012345\",\"kind\":\"permanent\",\"unit\":\"00004\","
          "\"address_line\":\"x\",\"from_date\":\"2020-01-01\"}",
          LT_EINVAL, "person_id", "no person" },
        { REG_RESIDENCE, 0,
          "{\"person_id\":\"001060012345\",\"kind\":\"permanent\",\"unit\":\"00004\","
          "\"address_line\":\"x\",\"household_id\":\"HK-9\",\"relation_to_head\":\"child\","
          "\"from_date\":\"2020-01-01\"}",
          LT_EINVAL, "household_id", "no household \"HK-9\"" },
        { REG_RESIDENCE, 0,
          "{\"person_id\":\"001060012345\",\"kind\":\"permanent\",\"unit\":\"00008\","
          "\"address_line\":\"x\",\"household_id\":\"HK-1\",\"relation_to_head\":\"head\","
          "\"from_date\":\"2020-01-01\"}",
          LT_EINVAL, "unit", "not the unit \"00004\" of household" },
        { REG_RESIDENCE, 0,
          "{\"person_id\":\"001160012345\",\"kind\":\"permanent\",\"unit\":\"00004\","
          "\"address_line\":\"x\",\"household_id\":\"HK-1\",\"relation_to_head\":\"head\","
          "\"from_date\":\"2020-01-01\"}",
          LT_EINVAL, "relation_to_head", "headed by \"001060012345\"" },
        { REG_RESIDENCE, 0,
          "{\"person_id\":\"001060012345\",\"kind\":\"permanent\",\"unit\":\"00004\","
          "\"address_line\":\"x\",\"household_id\":\"HK-1\",\"relation_to_head\":\"spouse\","
          "\"from_date\":\"2020-01-01\"}",
          LT_EINVAL, "relation_to_head", "heads household" },
        { REG_HOUSEHOLD, 0,
          "{\"id\":\"HK-2\",\"head_id\":\"001070012345\",\"unit\":\"00004\","
          "\"address_line\":\"x\"}",
          LT_EINVAL, "head_id", "no person" },
        { REG_PARCEL, 0,
          "{\"id\":\"00004-1-2\",\"unit\":\"00004\",\"map_sheet\":1,\"parcel_no\":2,"
          "\"area_m2\":50,\"purpose\":\"ODT\",\"holders\":[{\"kind\":\"person\",\"id\":"
          "\"001060012345\",\"share\":0.5},{\"kind\":\"business\",\"id\":\"0314409058\","
          "\"share\":0.5}]}",
          LT_EINVAL, "holders[1].id", "no business \"0314409058\"" },
        { REG_BUSINESS, 0,
          "{\"code\":\"0100109106\",\"name\":\"X\",\"legal_form\":\"joint_stock\",\"unit\":"
          "\"00004\",\"address_line\":\"x\",\"representative_id\":\"001070012345\","
          "\"capital_vnd\":1,\"status\":\"active\"}",
          LT_EINVAL, "representative_id", "no person" },
        { REG_BENEFIT, 0,
          "{\"person_id\":\"001070012345\",\"scheme\":\"health_insurance\",\"start_date\":"
          "\"2024-01-01\",\"status\":\"active\"}",
          LT_EINVAL, "person_id", "no person" },
    };
    struct fixture *f = *state;
    struct snapshot before, after;

    add_person(f->n, "001060012345", "Lê Văn Cha", "1960-01-01", "male");
    add_person(f->n, "001160012345", "Phạm Thị Mẹ", "1960-01-01", "female");
    must_put(f->n, REG_HOUSEHOLD,
             "{\"id\":\"HK-1\",\"head_id\":\"001060012345\",\"unit\":\"00004\","
             "\"address_line\":\"5 Kim Mã\"}",
             0, NULL);
    snap(f->n, &before);
    assert_int_equal(before.head, 3);
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        struct lt_error err;
        int64_t v;
        enum lt_code rc = put(f->n, cases[i].kind, cases[i].json, cases[i].base, NULL, &v, &err);

        if (rc != cases[i].code || strcmp(err.field, cases[i].field) != 0 ||
            strstr(err.message, cases[i].message) == NULL) {
            fail_msg("case %zu: code %d field \"%s\" message \"%s\"", i, rc, err.field,
                     err.message);
        }
        if (rc == LT_ECONFLICT) {
            assert_int_equal(v, 1); /* the current version comes back */
        }
        snap(f->n, &after);
        assert_same(&before, &after);
    }
}

static void test_meta_refusals(void **state)
{
    struct fixture *f = *state;
    char *text = person_json("001085012345", "A", "1985-03-02", "male");
    json_t *rec = json_loads(text, 0, NULL);
    struct registry_change ch = { .kind = REG_PERSON, .record = rec, .actor = "a", .cause = "c" };
    struct snapshot before, after;
    struct lt_error err;
    int64_t v;

    snap(f->n, &before);
    ch.actor = NULL;
    assert_int_equal(registry_write(f->n, &ch, &v, &err), LT_EINVAL);
    assert_string_equal(err.field, "actor");
    ch.actor = "a";
    ch.cause = "";
    assert_int_equal(registry_write(f->n, &ch, &v, &err), LT_EINVAL);
    assert_string_equal(err.field, "cause");
    ch.cause = "c";
    ch.event_type = "parcel.changed";
    assert_int_equal(registry_write(f->n, &ch, &v, &err), LT_EINVAL);
    assert_string_equal(err.field, "event_type");
    ch.event_type = "person.Born";
    assert_int_equal(registry_write(f->n, &ch, &v, &err), LT_EINVAL);
    snap(f->n, &after);
    assert_same(&before, &after);
    ch.event_type = "person.born";
    assert_int_equal(registry_write(f->n, &ch, &v, &err), LT_OK);
    json_decref(rec);
    free(text);
}

static void test_optimistic_concurrency(void **state)
{
    struct fixture *f = *state;
    struct lt_error err;
    int64_t v1 = 0, v2 = 0;
    char *a, *b;

    add_person(f->n, "001085012345", "Nguyễn Văn An", "1985-03-02", "male");
    /* two clerks read version 1; the first writes, the second is refused */
    a = person_json("001085012345", "Nguyễn Văn Anh", "1985-03-02", "male");
    b = person_json("001085012345", "Nguyễn Văn Ánh", "1985-03-02", "male");
    assert_int_equal(put(f->n, REG_PERSON, a, 1, NULL, &v1, &err), LT_OK);
    assert_int_equal(v1, 2);
    assert_int_equal(put(f->n, REG_PERSON, b, 1, NULL, &v2, &err), LT_ECONFLICT);
    assert_int_equal(v2, 2);
    assert_non_null(strstr(err.detail, "current version 2"));
    /* with the current version it goes through */
    assert_int_equal(put(f->n, REG_PERSON, b, v2, NULL, &v2, &err), LT_OK);
    assert_int_equal(v2, 3);
    free(a);
    free(b);
}

/* A change with skip_same that leaves the record as it stands writes nothing. */
static void test_skip_same(void **state)
{
    struct fixture *f = *state;
    struct snapshot before, after;
    struct lt_error err;
    char *same = person_json("001085012345", "Nguyễn Văn An", "1985-03-02", "male");
    char *other = person_json("001085012345", "Nguyễn Văn Anh", "1985-03-02", "male");
    json_t *rec = json_loads(same, 0, NULL);
    struct registry_change ch = { .kind = REG_PERSON,
                                  .record = rec,
                                  .base_version = 1,
                                  .actor = "clerk-01",
                                  .cause = "HS-2025-000124",
                                  .effective = DATE_MIN,
                                  .skip_same = true };
    int64_t v = -1;

    add_person(f->n, "001085012345", "Nguyễn Văn An", "1985-03-02", "male");
    snap(f->n, &before);
    assert_int_equal(registry_write(f->n, &ch, &v, &err), LT_OK);
    assert_int_equal(v, 1);
    snap(f->n, &after);
    assert_same(&before, &after);
    /* without skip_same the same record is a change like any other */
    ch.skip_same = false;
    assert_int_equal(registry_write(f->n, &ch, &v, &err), LT_OK);
    assert_int_equal(v, 2);
    /* a stale base is a conflict, even when the record would be the same */
    ch.skip_same = true;
    ch.base_version = 1;
    assert_int_equal(registry_write(f->n, &ch, &v, &err), LT_ECONFLICT);
    assert_int_equal(v, 2);
    /* a record that differs is written */
    json_decref(rec);
    rec = json_loads(other, 0, NULL);
    ch.record = rec;
    ch.base_version = 2;
    assert_int_equal(registry_write(f->n, &ch, &v, &err), LT_OK);
    assert_int_equal(v, 3);
    json_decref(rec);
    free(same);
    free(other);
}

static void test_as_of_and_history(void **state)
{
    struct fixture *f = *state;
    json_t *rec = NULL, *hist = NULL;
    struct lt_error err;
    char *j;

    j = person_json("001085012345", "Nguyễn Văn An", "1985-03-02", "male");
    must_put(f->n, REG_PERSON, j, 0, "2020-01-01");
    free(j);
    j = person_json("001085012345", "Nguyễn Văn Bình", "1985-03-02", "male");
    must_put(f->n, REG_PERSON, j, 1, "2024-06-01");
    free(j);
    /* a residence before the reform in an old commune, then a move after it */
    must_put(f->n, REG_RESIDENCE,
             "{\"person_id\":\"001085012345\",\"kind\":\"permanent\",\"unit\":\"00001\","
             "\"address_line\":\"3 Phúc Xá\",\"from_date\":\"2019-05-01\"}",
             0, "2020-01-01");
    must_put(f->n, REG_RESIDENCE,
             "{\"person_id\":\"001085012345\",\"kind\":\"permanent\",\"unit\":\"00004\","
             "\"address_line\":\"12 Đội Cấn\",\"from_date\":\"2025-08-01\"}",
             1, "2025-08-01");

    assert_int_equal(
        registry_get_as_of(f->n, REG_PERSON, "001085012345", day("2019-12-31"), &rec, &err),
        LT_ENOTFOUND);
    assert_int_equal(
        registry_get_as_of(f->n, REG_PERSON, "001085012345", day("2024-05-31"), &rec, &err), LT_OK);
    assert_string_equal(json_string_value(json_object_get(rec, "full_name")), "Nguyễn Văn An");
    json_decref(rec);
    assert_int_equal(
        registry_get_as_of(f->n, REG_PERSON, "001085012345", day("2024-06-01"), &rec, &err), LT_OK);
    assert_string_equal(json_string_value(json_object_get(rec, "full_name")), "Nguyễn Văn Bình");
    json_decref(rec);
    assert_int_equal(registry_get_as_of(f->n, REG_RESIDENCE, "001085012345/permanent",
                                        day("2025-06-30"), &rec, &err),
                     LT_OK);
    assert_string_equal(json_string_value(json_object_get(rec, "unit")), "00001");
    json_decref(rec);
    assert_int_equal(registry_get_as_of(f->n, REG_RESIDENCE, "001085012345/permanent",
                                        day("2025-08-01"), &rec, &err),
                     LT_OK);
    assert_string_equal(json_string_value(json_object_get(rec, "unit")), "00004");
    json_decref(rec);

    assert_int_equal(registry_history(f->n, REG_PERSON, "001085012345", &hist, &err), LT_OK);
    assert_int_equal(json_array_size(hist), 2);
    for (size_t i = 0; i < 2; i++) {
        json_t *e = json_array_get(hist, i);

        assert_string_equal(json_string_value(json_object_get(e, "actor")), "clerk-01");
        assert_string_equal(json_string_value(json_object_get(e, "cause")), "HS-2025-000123");
        assert_string_equal(json_string_value(json_object_get(e, "origin")), "test-node");
        assert_int_equal(json_integer_value(json_object_get(e, "version")), (json_int_t)i + 1);
        assert_int_equal(strlen(json_string_value(json_object_get(e, "time"))), 24);
    }
    assert_string_equal(json_string_value(json_object_get(json_array_get(hist, 0), "type")),
                        "person.registered");
    assert_string_equal(json_string_value(json_object_get(json_array_get(hist, 1), "type")),
                        "person.changed");
    assert_string_equal(json_string_value(json_object_get(json_array_get(hist, 1), "effective")),
                        "2024-06-01");
    assert_string_equal(json_string_value(json_object_get(
                            json_object_get(json_array_get(hist, 1), "record"), "full_name")),
                        "Nguyễn Văn Bình");
    json_decref(hist);
    assert_int_equal(registry_history(f->n, REG_PERSON, "001085099999", &hist, &err), LT_ENOTFOUND);
}

/* Collect every key of a listing, page by page. */
static size_t list_all(struct node *n, enum registry_kind kind, const char *unit, int limit,
                       const char *key_field, char keys[][32], size_t max)
{
    char after[64] = "";
    size_t got = 0;

    for (;;) {
        json_t *page = NULL;
        struct lt_error err;
        json_t *items, *next;

        assert_int_equal(registry_list(n, kind, unit, after[0] ? after : NULL, limit, &page, &err),
                         LT_OK);
        items = json_object_get(page, "items");
        assert_true(json_array_size(items) <= (size_t)limit);
        for (size_t i = 0; i < json_array_size(items); i++) {
            json_t *it = json_array_get(items, i);
            const char *k = json_string_value(json_object_get(it, key_field));

            assert_true(got < max);
            snprintf(keys[got], 32, "%s", k ? k : "?");
            if (got > 0) {
                assert_true(strcmp(keys[got - 1], keys[got]) < 0);
            }
            got++;
        }
        next = json_object_get(page, "next");
        if (json_is_null(next)) {
            json_decref(page);
            return got;
        }
        assert_int_equal(json_array_size(items), limit);
        snprintf(after, sizeof(after), "%s", json_string_value(next));
        json_decref(page);
    }
}

static void test_list_by_commune_and_province(void **state)
{
    static const char *const units[] = { "00004", "00025", "25747" }; /* 01, 01, 79 */
    struct fixture *f = *state;
    char keys[64][32];
    json_t *page = NULL;
    struct lt_error err;

    for (int i = 0; i < 20; i++) {
        char id[24], name[32], j[512];

        snprintf(id, sizeof(id), "001090%06d", 100 + i);
        snprintf(name, sizeof(name), "Người Số %d", i);
        add_person(f->n, id, name, "1990-05-05", "male");
        add_residence(f->n, id, units[i % 3]);
        snprintf(j, sizeof(j),
                 "{\"id\":\"%s-1-%d\",\"unit\":\"%s\",\"map_sheet\":1,\"parcel_no\":%d,"
                 "\"area_m2\":100,\"purpose\":\"ODT\",\"holders\":[{\"kind\":\"person\","
                 "\"id\":\"%s\",\"share\":1}]}",
                 units[i % 3], i + 1, units[i % 3], i + 1, id);
        must_put(f->n, REG_PARCEL, j, 0, NULL);
    }
    /* 00004 holds i = 0, 3, ..., 18 (7 people); province 01 holds 00004 and 00025 (14) */
    assert_int_equal(list_all(f->n, REG_PERSON, "00004", 3, "id", keys, 64), 7);
    assert_string_equal(keys[0], "001090000100");
    assert_string_equal(keys[6], "001090000118");
    assert_int_equal(list_all(f->n, REG_PERSON, "01", 4, "id", keys, 64), 14);
    assert_int_equal(list_all(f->n, REG_PERSON, "79", 5, "id", keys, 64), 6);
    assert_int_equal(list_all(f->n, REG_PERSON, NULL, 7, "id", keys, 64), 20);
    assert_int_equal(list_all(f->n, REG_RESIDENCE, "01", 1000, "person_id", keys, 64), 14);
    assert_int_equal(list_all(f->n, REG_PARCEL, "00025", 2, "id", keys, 64), 7);
    assert_int_equal(list_all(f->n, REG_PARCEL, "79", 100, "id", keys, 64), 6);
    assert_int_equal(list_all(f->n, REG_PARCEL, "VN", 100, "id", keys, 64), 20);
    /* an exact page leaves next null only when nothing follows */
    assert_int_equal(registry_list(f->n, REG_PERSON, "00004", NULL, 7, &page, &err), LT_OK);
    assert_true(json_is_null(json_object_get(page, "next")));
    json_decref(page);
    assert_int_equal(registry_list(f->n, REG_PERSON, "00004", NULL, 6, &page, &err), LT_OK);
    assert_string_equal(json_string_value(json_object_get(page, "next")), "001090000115");
    json_decref(page);

    assert_int_equal(registry_list(f->n, REG_PERSON, "99", NULL, 5, &page, &err), LT_ENOTFOUND);
    assert_int_equal(registry_list(f->n, REG_PERSON, "001", NULL, 5, &page, &err), LT_EINVAL);
    assert_int_equal(registry_list(f->n, REG_PERSON, "00004", NULL, 0, &page, &err), LT_EINVAL);
    assert_null(page);
}

/* A move carries the person's benefits to the new unit. */
static void test_benefits_follow_the_person(void **state)
{
    struct fixture *f = *state;
    char keys[8][32];
    char j[512];

    add_person(f->n, "001050012345", "Đỗ Văn Già", "1950-02-02", "male");
    add_residence(f->n, "001050012345", "00004");
    must_put(f->n, REG_BENEFIT,
             "{\"person_id\":\"001050012345\",\"scheme\":\"social_assistance\","
             "\"monthly_amount_vnd\":500000,\"start_date\":\"2024-01-01\",\"status\":\"active\"}",
             0, NULL);
    assert_int_equal(list_all(f->n, REG_BENEFIT, "00004", 10, "person_id", keys, 8), 1);
    snprintf(j, sizeof(j),
             "{\"person_id\":\"001050012345\",\"kind\":\"permanent\",\"unit\":\"25747\","
             "\"address_line\":\"7 Thủ Dầu Một\",\"from_date\":\"2025-09-01\"}");
    must_put(f->n, REG_RESIDENCE, j, 1, NULL);
    assert_int_equal(list_all(f->n, REG_BENEFIT, "00004", 10, "person_id", keys, 8), 0);
    assert_int_equal(list_all(f->n, REG_BENEFIT, "79", 10, "person_id", keys, 8), 1);
    assert_int_equal(list_all(f->n, REG_PERSON, "25747", 10, "id", keys, 8), 1);
}

static size_t search(struct node *n, const char *q, int year, const char *unit, char ids[][16])
{
    json_t *res = NULL;
    struct lt_error err;
    size_t k;

    if (registry_search_people(n, q, year, unit, 50, &res, &err) != LT_OK) {
        fail_msg("search \"%s\": %s", q, err.message);
    }
    k = json_array_size(res);
    for (size_t i = 0; i < k; i++) {
        snprintf(ids[i], 16, "%s",
                 json_string_value(json_object_get(json_array_get(res, i), "id")));
    }
    json_decref(res);
    return k;
}

static void test_search(void **state)
{
    struct fixture *f = *state;
    char ids[50][16];
    json_t *res = NULL;
    struct lt_error err;

    add_person(f->n, "001085000001", "Nguyễn Văn An", "1985-01-01", "male");
    add_person(f->n, "001090000002", "Nguyễn Văn An", "1990-01-01", "male");
    add_person(f->n, "001085000003", "Nguyễn Văn Anh", "1985-01-01", "male");
    add_person(f->n, "001185000004", "Nguyễn Thị An Bình", "1985-01-01", "female");
    add_person(f->n, "001085000005", "Trần Văn An", "1985-01-01", "male");
    add_residence(f->n, "001085000001", "00004");
    add_residence(f->n, "001090000002", "25747");

    /* with or without diacritics, any case */
    assert_int_equal(search(f->n, "Nguyễn Văn An", 0, NULL, ids), 2);
    assert_string_equal(ids[0], "001085000001");
    assert_string_equal(ids[1], "001090000002");
    assert_int_equal(search(f->n, "nguyen van an", 0, NULL, ids), 2);
    assert_int_equal(search(f->n, "NGUYEN  VAN   AN", 0, NULL, ids), 2);
    /* a name that continues the query with a word, exact matches first */
    assert_int_equal(search(f->n, "nguyen van", 0, NULL, ids), 3);
    assert_string_equal(ids[0], "001085000001");
    assert_string_equal(ids[2], "001085000003");
    assert_int_equal(search(f->n, "nguyen thi an", 0, NULL, ids), 1);
    assert_string_equal(ids[0], "001185000004");
    /* but not a word cut short */
    assert_int_equal(search(f->n, "nguyen van a", 0, NULL, ids), 0);
    assert_int_equal(search(f->n, "nguyen", 0, NULL, ids), 4);
    /* birth year and unit */
    assert_int_equal(search(f->n, "nguyen van an", 1990, NULL, ids), 1);
    assert_string_equal(ids[0], "001090000002");
    assert_int_equal(search(f->n, "nguyen van an", 0, "00004", ids), 1);
    assert_string_equal(ids[0], "001085000001");
    assert_int_equal(search(f->n, "nguyen van an", 0, "79", ids), 1);
    assert_string_equal(ids[0], "001090000002");
    assert_int_equal(search(f->n, "nguyen van an", 1985, "79", ids), 0);
    assert_int_equal(search(f->n, "tran van an", 0, NULL, ids), 1);
    assert_int_equal(registry_search_people(f->n, " , ", 0, NULL, 10, &res, &err), LT_EINVAL);
    assert_null(res);
}

static void test_batch(void **state)
{
    struct fixture *f = *state;
    const char *recs[5] = {
        "{\"id\":\"001085000011\",\"full_name\":\"Một\",\"birth_date\":\"1985-01-01\",\"sex\":"
        "\"male\",\"ethnicity\":\"01\",\"nationality\":\"VN\",\"status\":\"alive\"}",
        "{\"id\":\"001085000012\",\"full_name\":\"Hai\",\"birth_date\":\"1986-01-01\",\"sex\":"
        "\"male\",\"ethnicity\":\"01\",\"nationality\":\"VN\",\"status\":\"alive\"}",
        "{\"person_id\":\"001085000011\",\"kind\":\"permanent\",\"unit\":\"00004\","
        "\"address_line\":\"x\",\"from_date\":\"2020-01-01\"}",
        "{\"person_id\":\"001085000099\",\"kind\":\"permanent\",\"unit\":\"00004\","
        "\"address_line\":\"x\",\"from_date\":\"2020-01-01\"}",
        "{\"id\":\"001085000013\",\"full_name\":\"Ba\",\"birth_date\":\"1985-01-01\",\"sex\":"
        "\"male\",\"ethnicity\":\"01\",\"nationality\":\"VN\",\"status\":\"alive\"}",
    };
    const enum registry_kind kinds[5] = { REG_PERSON, REG_PERSON, REG_RESIDENCE, REG_RESIDENCE,
                                          REG_PERSON };
    struct registry_change ch[5];
    struct registry_result res[5];
    struct snapshot before, after;
    struct lt_error err;
    size_t written = 99;

    for (int i = 0; i < 5; i++) {
        ch[i] = (struct registry_change){ .kind = kinds[i],
                                          .record = json_loads(recs[i], 0, NULL),
                                          .actor = "import",
                                          .cause = "import:test.csv",
                                          .effective = DATE_MIN };
        assert_non_null(ch[i].record);
    }
    /* row 1 is refused in validation (digits 5-6 say 1985), row 3 in the database */
    snap(f->n, &before);
    assert_int_equal(registry_write_batch(f->n, ch, 5, true, res, &written, &err), LT_EINVAL);
    assert_int_equal(written, 0);
    assert_int_equal(res[1].code, LT_EINVAL);
    assert_non_null(strstr(err.message, "row 1: "));
    assert_string_equal(err.field, "id");
    for (int i = 0; i < 5; i++) {
        if (i != 1) {
            assert_int_not_equal(res[i].code, LT_OK);
            assert_non_null(strstr(res[i].err.message, "not written"));
        }
    }
    snap(f->n, &after);
    assert_same(&before, &after);

    /* all or nothing, refused in the database: what was written is rolled back */
    json_decref(ch[1].record);
    ch[1].record = json_loads(recs[4], 0, NULL);
    json_object_set_new(ch[1].record, "id", json_string("001085000014"));
    assert_int_equal(registry_write_batch(f->n, ch, 5, true, res, &written, &err), LT_EINVAL);
    assert_non_null(strstr(err.message, "row 3: "));
    assert_string_equal(err.field, "person_id");
    assert_int_equal(written, 0);
    snap(f->n, &after);
    assert_same(&before, &after);

    /* partial: the good rows go in, including a residence of a person of the same batch */
    assert_int_equal(registry_write_batch(f->n, ch, 5, false, res, &written, &err), LT_OK);
    assert_int_equal(written, 4);
    assert_int_equal(res[0].code, LT_OK);
    assert_int_equal(res[0].version, 1);
    assert_int_equal(res[2].code, LT_OK);
    assert_int_equal(res[3].code, LT_EINVAL);
    assert_string_equal(res[3].err.field, "person_id");
    assert_int_equal(res[4].code, LT_OK);
    snap(f->n, &after);
    assert_int_equal(after.head, before.head + 4);
    assert_int_equal(after.rows[0], before.rows[0] + 3);
    assert_int_equal(after.rows[1], before.rows[1] + 1);

    /* again: every row now conflicts or is refused, nothing changes */
    before = after;
    assert_int_equal(registry_write_batch(f->n, ch, 5, false, res, &written, &err), LT_OK);
    assert_int_equal(written, 0);
    assert_int_equal(res[0].code, LT_ECONFLICT);
    assert_int_equal(res[0].version, 1);
    snap(f->n, &after);
    assert_same(&before, &after);
    for (int i = 0; i < 5; i++) {
        json_decref(ch[i].record);
    }
}

static void test_rebuild(void **state)
{
    struct fixture *f = *state;
    json_t *a = NULL, *b = NULL, *pa = NULL, *pb = NULL;
    struct snapshot before, after;
    struct lt_error err;
    int64_t events = 0, va, vb;
    char *j;

    add_person(f->n, "001085012345", "Nguyễn Văn An", "1985-03-02", "male");
    j = person_json("001085012345", "Nguyễn Văn Bình", "1985-03-02", "male");
    must_put(f->n, REG_PERSON, j, 1, NULL);
    free(j);
    add_residence(f->n, "001085012345", "00004");
    assert_int_equal(registry_get(f->n, REG_PERSON, "001085012345", &a, &va, &err), LT_OK);
    assert_int_equal(registry_list(f->n, REG_PERSON, "00004", NULL, 10, &pa, &err), LT_OK);
    snap(f->n, &before);

    assert_int_equal(registry_rebuild(f->n, &events, &err), LT_OK);
    assert_int_equal(events, 3);
    snap(f->n, &after);
    assert_same(&before, &after);
    assert_int_equal(registry_get(f->n, REG_PERSON, "001085012345", &b, &vb, &err), LT_OK);
    assert_int_equal(vb, va);
    assert_true(json_equal(a, b));
    assert_int_equal(registry_list(f->n, REG_PERSON, "00004", NULL, 10, &pb, &err), LT_OK);
    assert_true(json_equal(pa, pb));
    json_decref(a);
    json_decref(b);
    json_decref(pa);
    json_decref(pb);
}

struct racer {
    struct node *n;
    int i;
    enum lt_code rc;
    int64_t version;
};

static void *race(void *arg)
{
    struct racer *r = arg;
    struct lt_error err;
    char name[32];
    char *j;

    snprintf(name, sizeof(name), "Tên Thứ %d", r->i);
    j = person_json("001085012345", name, "1985-03-02", "male");
    r->rc = put(r->n, REG_PERSON, j, 1, NULL, &r->version, &err);
    free(j);
    return NULL;
}

/* Writers racing from the same version: one wins, the others learn the new version. */
static void test_concurrent_writers(void **state)
{
    struct fixture *f = *state;
    struct racer r[6];
    pthread_t th[6];
    int won = 0;

    add_person(f->n, "001085012345", "Nguyễn Văn An", "1985-03-02", "male");
    for (int i = 0; i < 6; i++) {
        r[i] = (struct racer){ f->n, i, LT_EINTERNAL, 0 };
        assert_int_equal(pthread_create(&th[i], NULL, race, &r[i]), 0);
    }
    for (int i = 0; i < 6; i++) {
        assert_int_equal(pthread_join(th[i], NULL), 0);
        if (r[i].rc == LT_OK) {
            won++;
        } else {
            assert_int_equal(r[i].rc, LT_ECONFLICT);
        }
        assert_int_equal(r[i].version, 2);
    }
    assert_int_equal(won, 1);
}

struct remote {
    const struct units *u;
    struct event ev;
};

static enum lt_code apply_fn(struct store_conn *c, void *arg, struct lt_error *err)
{
    struct remote *r = arg;

    return registry_apply_event(c, r->u, &r->ev, err);
}

/*
 * Events from elsewhere: newer versions land, older ones and foreign
 * entities change nothing, and one set aside (based on a stale version)
 * keeps the record and only moves its version.
 */
static void test_apply_event(void **state)
{
    struct fixture *f = *state;
    struct remote r = { node_units(f->n), { 0 } };
    json_t *rec = NULL;
    struct lt_error err;
    int64_t v = 0;
    char *j;

    add_person(f->n, "001085012345", "Nguyễn Văn An", "1985-03-02", "male");
    snprintf(r.ev.entity, sizeof(r.ev.entity), "person/001085012345");
    r.ev.effective = day("2025-08-01");
    j = person_json("001085012345", "Từ Nơi Khác", "1985-03-02", "male");
    r.ev.body = j;
    r.ev.base_version = 2;
    r.ev.version = 3;
    assert_int_equal(store_write(node_store(f->n), apply_fn, &r, &err), LT_OK);
    assert_int_equal(registry_get(f->n, REG_PERSON, "001085012345", &rec, &v, &err), LT_OK);
    assert_int_equal(v, 3);
    assert_string_equal(json_string_value(json_object_get(rec, "full_name")), "Từ Nơi Khác");
    json_decref(rec);
    free(j);

    /* an older version does not overwrite */
    j = person_json("001085012345", "Cũ Hơn", "1985-03-02", "male");
    r.ev.body = j;
    r.ev.base_version = 1;
    r.ev.version = 2;
    assert_int_equal(store_write(node_store(f->n), apply_fn, &r, &err), LT_OK);
    assert_int_equal(registry_get(f->n, REG_PERSON, "001085012345", &rec, &v, &err), LT_OK);
    assert_int_equal(v, 3);
    json_decref(rec);

    /* set aside: version 4 on a base of 2 is not in force */
    r.ev.base_version = 2;
    r.ev.version = 4;
    assert_int_equal(store_write(node_store(f->n), apply_fn, &r, &err), LT_OK);
    assert_int_equal(registry_get(f->n, REG_PERSON, "001085012345", &rec, &v, &err), LT_OK);
    assert_int_equal(v, 4);
    assert_string_equal(json_string_value(json_object_get(rec, "full_name")), "Từ Nơi Khác");
    json_decref(rec);
    /* but its record is still checked */
    r.ev.body = "{\"id\":\"001085012345\"}";
    r.ev.version = 5;
    assert_int_equal(store_write(node_store(f->n), apply_fn, &r, &err), LT_EINVAL);
    r.ev.body = j;
    r.ev.base_version = 8;
    r.ev.version = 9;

    /* not a registry entity: ignored; a body for another key: refused */
    snprintf(r.ev.entity, sizeof(r.ev.entity), "dossier/HS-1");
    assert_int_equal(store_write(node_store(f->n), apply_fn, &r, &err), LT_OK);
    snprintf(r.ev.entity, sizeof(r.ev.entity), "person/001085099999");
    assert_int_equal(store_write(node_store(f->n), apply_fn, &r, &err), LT_EINVAL);
    free(j);
    r.ev.body = "{\"id\":";
    assert_int_equal(store_write(node_store(f->n), apply_fn, &r, &err), LT_EINVAL);
}

static void test_get_text_limits(void **state)
{
    struct fixture *f = *state;
    struct lt_error err;
    struct buf small;
    int64_t v;

    add_person(f->n, "001085012345", "Nguyễn Văn An", "1985-03-02", "male");
    buf_init(&small, 16);
    assert_int_equal(registry_get_text(f->n, REG_PERSON, "001085012345", &small, &v, &err),
                     LT_ETOOBIG);
    assert_int_equal(small.len, 0);
    assert_int_equal(registry_get_text(f->n, REG_PERSON, "001085099999", &small, &v, &err),
                     LT_ENOTFOUND);
    assert_int_equal(registry_get_text(f->n, REG_PERSON, "", &small, &v, &err), LT_EINVAL);
    buf_release(&small);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_write_get_change, setup, teardown),
        cmocka_unit_test_setup_teardown(test_refusals_change_nothing, setup, teardown),
        cmocka_unit_test_setup_teardown(test_meta_refusals, setup, teardown),
        cmocka_unit_test_setup_teardown(test_optimistic_concurrency, setup, teardown),
        cmocka_unit_test_setup_teardown(test_skip_same, setup, teardown),
        cmocka_unit_test_setup_teardown(test_as_of_and_history, setup, teardown),
        cmocka_unit_test_setup_teardown(test_list_by_commune_and_province, setup, teardown),
        cmocka_unit_test_setup_teardown(test_benefits_follow_the_person, setup, teardown),
        cmocka_unit_test_setup_teardown(test_search, setup, teardown),
        cmocka_unit_test_setup_teardown(test_batch, setup, teardown),
        cmocka_unit_test_setup_teardown(test_rebuild, setup, teardown),
        cmocka_unit_test_setup_teardown(test_concurrent_writers, setup, teardown),
        cmocka_unit_test_setup_teardown(test_apply_event, setup, teardown),
        cmocka_unit_test_setup_teardown(test_get_text_limits, setup, teardown),
    };

    return cmocka_run_group_tests(tests, NULL, NULL);
}
