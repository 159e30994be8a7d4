/*
 * Tests for src/oss/reference.c: publishing the catalogue and the calendar
 * at the centre (the fixture's node is of unit VN) puts them in use at
 * once and in the log, where another one-stop shop over the same node
 * finds them; a catalogue that drops a procedure version, a document that
 * does not validate and an unknown kind are refused with nothing written.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include "fixture.h"
#include "oss/reference.h"

/* The text of a file of data/ (malloc'd). */
static char *data_file(const char *rel, size_t *len)
{
    char path[512];
    FILE *f;
    char *text;

    snprintf(path, sizeof(path), "%s/../data/%s", LT_TESTS_DIR, rel);
    f = fopen(path, "rb");
    assert_non_null(f);
    text = calloc(1, 1 << 20);
    *len = fread(text, 1, (1 << 20) - 1, f);
    fclose(f);
    return text;
}

/* The catalogue with the fee of permanent_residence v1 set to fee. */
static char *catalogue_with_fee(long fee, bool drop_last)
{
    size_t len;
    char *text = data_file("procedures/catalogue.json", &len);
    json_t *doc = json_loads(text, 0, NULL), *procs = json_object_get(doc, "procedures");
    size_t i;
    json_t *p;
    char *out;

    json_array_foreach(procs, i, p)
    {
        if (strcmp(json_string_value(json_object_get(p, "code")), "permanent_residence") == 0) {
            json_object_set_new(p, "fee_vnd", json_integer(fee));
        }
    }
    if (drop_last) {
        json_array_remove(procs, json_array_size(procs) - 1);
    }
    out = json_dumps(doc, JSON_COMPACT | JSON_PRESERVE_ORDER);
    json_decref(doc);
    free(text);
    return out;
}

static int64_t fee_now(struct oss *o)
{
    return oss_catalogue_find(oss_catalogue(o), "permanent_residence", date_today())->fee_vnd;
}

static enum lt_code head_fn(struct store_conn *c, void *arg, struct lt_error *err)
{
    return evlog_head(c, arg, err);
}

static int64_t log_head(struct fixture *f)
{
    struct lt_error err;
    int64_t head = 0;

    assert_int_equal(store_read(node_store(f->n), head_fn, &head, &err), LT_OK);
    return head;
}

static void test_publish_catalogue(void **state)
{
    struct fixture *f = *state;
    char *text = catalogue_with_fee(30000, false);
    struct lt_error err;
    int64_t version = 0;
    struct oss *other;
    json_t *j;

    assert_int_equal(fee_now(f->o), 20000);
    assert_int_equal(
        oss_reference_publish(f->o, "catalogue", text, strlen(text), "admin.vn", &version, &err),
        LT_OK);
    assert_int_equal(version, 1);
    assert_int_equal(fee_now(f->o), 30000);
    j = oss_reference_json(f->o);
    assert_string_equal(
        json_string_value(json_object_get(json_object_get(j, "catalogue"), "source")), "published");
    assert_string_equal(
        json_string_value(json_object_get(json_object_get(j, "calendar"), "source")), "built-in");
    json_decref(j);

    /* Another shop over the same node finds it in the log. */
    other = oss_new(f->n, oss_catalogue_builtin(), oss_calendar_builtin());
    assert_int_equal(fee_now(other), 20000);
    assert_int_equal(oss_reference_load(other, &err), LT_OK);
    assert_int_equal(fee_now(other), 30000);
    assert_int_equal(oss_reference_load(other, &err), LT_OK); /* nothing new: unchanged */
    assert_int_equal(fee_now(other), 30000);
    oss_free(other);
    free(text);
}

static void test_publish_calendar(void **state)
{
    struct fixture *f = *state;
    size_t len;
    char *text = data_file("calendar/calendar.json", &len);
    struct lt_error err;
    int64_t version = 0;

    assert_int_equal(oss_reference_publish(f->o, "calendar", text, len, "admin.vn", &version, &err),
                     LT_OK);
    assert_int_equal(version, 1);
    assert_int_equal(oss_reference_publish(f->o, "calendar", text, len, "admin.vn", &version, &err),
                     LT_OK);
    assert_int_equal(version, 2);
    assert_ptr_not_equal(oss_calendar(f->o), oss_calendar_builtin());
    free(text);
}

static void test_refusals_write_nothing(void **state)
{
    struct fixture *f = *state;
    char *dropped = catalogue_with_fee(20000, true);
    const char *broken = "{\"procedures\": [{\"code\": \"x\"}]}";
    struct lt_error err;
    int64_t version = 0, head = log_head(f);

    assert_int_equal(
        oss_reference_publish(f->o, "catalogue", dropped, strlen(dropped), "a", &version, &err),
        LT_EINVAL);
    assert_non_null(strstr(err.message, "drops procedure"));
    assert_int_equal(
        oss_reference_publish(f->o, "catalogue", broken, strlen(broken), "a", &version, &err),
        LT_EINVAL);
    assert_int_equal(oss_reference_publish(f->o, "calendar", "[]", 2, "a", &version, &err),
                     LT_EINVAL);
    assert_int_equal(oss_reference_publish(f->o, "holidays", "{}", 2, "a", &version, &err),
                     LT_EINVAL);
    assert_non_null(strstr(err.message, "unknown reference data"));
    assert_int_equal(log_head(f), head);
    assert_ptr_equal(oss_catalogue(f->o), oss_catalogue_builtin());
    free(dropped);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_publish_catalogue, fixture_setup, fixture_teardown),
        cmocka_unit_test_setup_teardown(test_publish_calendar, fixture_setup, fixture_teardown),
        cmocka_unit_test_setup_teardown(test_refusals_write_nothing, fixture_setup,
                                        fixture_teardown),
    };

    return cmocka_run_group_tests(tests, NULL, NULL);
}
