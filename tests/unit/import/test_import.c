/*
 * Tests for src/import/import.c on a real node: a CSV file with good and
 * bad rows (refused rows reported in file order with their line and field,
 * the good ones written, a child after its parents in a later batch), the
 * same file all or nothing (every bad row reported, nothing written), a
 * second import of the same rows (each refused as existing, nothing
 * changed), NDJSON rows, a bad header, and records referring to records of
 * an earlier import.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "core/buf.h"
#include "import/import.h"

struct fixture {
    char dir[64];
    struct node *n;
    struct buf report; /* "line:field:code;" per refused row */
};

static enum lt_code init_fn(struct store_conn *c, void *arg, struct lt_error *err)
{
    (void)arg;
    return evlog_init_node(c, "test-import", "01", err);
}

static int setup(void **state)
{
    struct fixture *f = calloc(1, sizeof(*f));
    struct store_options o;
    struct store *s = NULL;
    struct lt_error err;

    snprintf(f->dir, sizeof(f->dir), "/tmp/lt-import-XXXXXX");
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
    buf_init(&f->report, 1 << 20);
    *state = f;
    return 0;
}

static int teardown(void **state)
{
    struct fixture *f = *state;
    char cmd[128];

    node_close(f->n);
    buf_release(&f->report);
    snprintf(cmd, sizeof(cmd), "rm -rf '%s'", f->dir);
    if (system(cmd) != 0) {
        return -1;
    }
    free(f);
    return 0;
}

static void on_refused(void *arg, long line, const struct lt_error *why)
{
    struct fixture *f = arg;

    buf_printf(&f->report, "%ld:%s:%s;", line, why->field, lt_code_name(why->code));
}

static enum lt_code run(struct fixture *f, enum registry_kind kind, enum import_format format,
                        const char *text, size_t len, bool all, struct import_stats *st,
                        struct lt_error *err)
{
    struct import_options o = { .kind = kind,
                                .all_or_nothing = all,
                                .actor = "import",
                                .cause = "import:test",
                                .batch = 2,
                                .refused = on_refused,
                                .arg = f };
    struct import_reader *r = import_reader_mem(text, len, format);
    enum lt_code rc;

    buf_reset(&f->report);
    rc = import_run(f->n, r, &o, st, err);
    import_reader_free(r);
    return rc;
}

static int64_t log_head(struct node *n)
{
    struct store_conn *c = store_reader_get(node_store(n));
    struct lt_error err;
    int64_t head = -1;

    assert_int_equal(evlog_head(c, &head, &err), LT_OK);
    store_reader_put(node_store(n), c);
    return head;
}

static bool exists(struct node *n, enum registry_kind kind, const char *key)
{
    struct lt_error err;
    json_t *rec = NULL;
    int64_t v;
    enum lt_code rc = registry_get(n, kind, key, &rec, &v, &err);

    json_decref(rec);
    return rc == LT_OK;
}

static const char people_csv[] =
    "id,full_name,birth_date,sex,ethnicity,nationality,status,death_date,father_id,mother_id\n"
    "001084000001,Nguyễn Văn An,1984-02-05,male,01,VN,alive,,,\n"
    "001189000002,Trần Thị Bình,1989-12-12,female,01,VN,alive,,,\n"
    "001085000003,Lê Văn Cường,1984-03-03,male,01,VN,alive,,,\n"
    "001214000004,Nguyễn Văn Dũng,2014-06-26,male,01,VN,alive,,001084000001,001189000002\n"
    "001214000005,Nguyễn Văn Em,2014-06-26,male,01,VN,alive,,001084009999,\n"
    "001214000006,Short Row,2014-06-26,male,01,VN,alive,,\n"
    "001214000007,Bad \xC3\x28 UTF,2014-06-26,male,01,VN,alive,,,\n"
    "001214000008,\"Quoted, Name\",2014-06-26,male,01,VN,alive,,,\n";

/* line 6 refers to a person who is not there: retried after the file, so reported last */
static const char *const people_refused =
    "4:id:invalid_input;7:mother_id:invalid_input;8:full_name:invalid_input;"
    "6:father_id:invalid_input;";

static void test_partial(void **state)
{
    struct fixture *f = *state;
    struct import_stats st;
    struct lt_error err;
    int64_t before = log_head(f->n);

    assert_int_equal(
        run(f, REG_PERSON, IMPORT_CSV, people_csv, sizeof(people_csv) - 1, false, &st, &err),
        LT_OK);
    assert_string_equal(buf_str(&f->report), people_refused);
    assert_int_equal(st.read, 8);
    assert_int_equal(st.written, 4);
    assert_int_equal(st.refused, 4);
    assert_int_equal(st.bytes, sizeof(people_csv) - 1);
    assert_int_equal(log_head(f->n), before + 4);
    assert_true(exists(f->n, REG_PERSON, "001214000004"));
    assert_true(exists(f->n, REG_PERSON, "001214000008"));
    assert_false(exists(f->n, REG_PERSON, "001085000003"));
    assert_false(exists(f->n, REG_PERSON, "001214000006"));
}

static void test_all_or_nothing(void **state)
{
    struct fixture *f = *state;
    struct import_stats st;
    struct lt_error err;
    int64_t before = log_head(f->n);

    assert_int_equal(
        run(f, REG_PERSON, IMPORT_CSV, people_csv, sizeof(people_csv) - 1, true, &st, &err), LT_OK);
    /* every bad row, not only the first; the child of rows written before still passes */
    assert_string_equal(buf_str(&f->report), people_refused);
    assert_int_equal(st.written, 0);
    assert_int_equal(st.refused, 4);
    assert_int_equal(log_head(f->n), before);
    assert_false(exists(f->n, REG_PERSON, "001084000001"));

    /* a file whose only refusal comes from the database rolls back too */
    {
        static const char db_only[] =
            "id,full_name,birth_date,sex,ethnicity,nationality,status,death_date,father_id,"
            "mother_id\n"
            "001084000001,Nguyễn Văn An,1984-02-05,male,01,VN,alive,,,\n"
            "001214000005,Nguyễn Văn Em,2014-06-26,male,01,VN,alive,,001084009999,\n";

        assert_int_equal(
            run(f, REG_PERSON, IMPORT_CSV, db_only, sizeof(db_only) - 1, true, &st, &err), LT_OK);
        assert_string_equal(buf_str(&f->report), "3:father_id:invalid_input;");
        assert_int_equal(st.written, 0);
        assert_int_equal(log_head(f->n), before);
        assert_false(exists(f->n, REG_PERSON, "001084000001"));
    }

    /* and a clean file is written whole */
    {
        static const char clean[] =
            "id,full_name,birth_date,sex,ethnicity,nationality,status,death_date,father_id,"
            "mother_id\n"
            "001084000001,Nguyễn Văn An,1984-02-05,male,01,VN,alive,,,\n"
            "001189000002,Trần Thị Bình,1989-12-12,female,01,VN,alive,,,\n"
            "001214000004,Nguyễn Văn Dũng,2014-06-26,male,01,VN,alive,,001084000001,"
            "001189000002\n";

        assert_int_equal(run(f, REG_PERSON, IMPORT_CSV, clean, sizeof(clean) - 1, true, &st, &err),
                         LT_OK);
        assert_string_equal(buf_str(&f->report), "");
        assert_int_equal(st.written, 3);
        assert_int_equal(log_head(f->n), before + 3);
    }
}

static void test_reimport_changes_nothing(void **state)
{
    struct fixture *f = *state;
    struct import_stats st;
    struct lt_error err;
    int64_t head;

    assert_int_equal(
        run(f, REG_PERSON, IMPORT_CSV, people_csv, sizeof(people_csv) - 1, false, &st, &err),
        LT_OK);
    assert_int_equal(st.written, 4);
    head = log_head(f->n);
    assert_int_equal(
        run(f, REG_PERSON, IMPORT_CSV, people_csv, sizeof(people_csv) - 1, false, &st, &err),
        LT_OK);
    assert_int_equal(st.written, 0);
    assert_int_equal(st.refused, 8);
    assert_string_equal(buf_str(&f->report),
                        "2::conflict;3::conflict;4:id:invalid_input;5::conflict;"
                        "7:mother_id:invalid_input;8:full_name:invalid_input;9::conflict;"
                        "6:father_id:invalid_input;");
    assert_int_equal(log_head(f->n), head);
}

static void test_ndjson_and_references(void **state)
{
    static const char people[] =
        "{\"id\":\"001084000011\",\"full_name\":\"A\",\"birth_date\":\"1984-02-05\",\"sex\":"
        "\"male\",\"ethnicity\":\"01\",\"nationality\":\"VN\",\"status\":\"alive\"}\n"
        "{\"id\":\"001084000012\",\"full_name\":\"B\",\"birth_date\":\"1984-02-05\",\"sex\":"
        "\"male\",\"ethnicity\":\"01\",\"nationality\":\"VN\",\"status\":\"alive\","
        "\"colour\":\"red\"}\n"
        "{\"id\":\"001084000013\",\n"
        "\n"
        "[]\n";
    static const char residences[] =
        "{\"person_id\":\"001084000011\",\"kind\":\"permanent\",\"unit\":\"00004\","
        "\"address_line\":\"Số 1\",\"from_date\":\"2020-01-01\"}\n"
        "{\"person_id\":\"001084000012\",\"kind\":\"permanent\",\"unit\":\"00004\","
        "\"address_line\":\"Số 2\",\"from_date\":\"2020-01-01\"}\n";
    struct fixture *f = *state;
    struct import_stats st;
    struct lt_error err;

    assert_int_equal(
        run(f, REG_PERSON, IMPORT_NDJSON, people, sizeof(people) - 1, false, &st, &err), LT_OK);
    assert_string_equal(buf_str(&f->report),
                        "2:colour:invalid_input;3::invalid_input;5::invalid_input;");
    assert_int_equal(st.read, 4);
    assert_int_equal(st.written, 1);

    /* a residence of a person imported before goes in; one of a person refused does not */
    assert_int_equal(
        run(f, REG_RESIDENCE, IMPORT_NDJSON, residences, sizeof(residences) - 1, false, &st, &err),
        LT_OK);
    assert_string_equal(buf_str(&f->report), "2:person_id:invalid_input;");
    assert_true(exists(f->n, REG_RESIDENCE, "001084000011/permanent"));
}

static void test_forward_references(void **state)
{
    /* three generations, youngest first, over batches of two: two retry passes; all or
     * nothing first, which must write nothing */
    static const char text[] =
        "id,full_name,birth_date,sex,ethnicity,nationality,status,death_date,father_id,mother_id\n"
        "001214000031,Cháu,2014-06-26,male,01,VN,alive,,001084000021,\n"
        "001214000032,Cháu Hai,2014-06-26,male,01,VN,alive,,001084000099,\n"
        "001084000021,Cha,1984-02-05,male,01,VN,alive,,001050000011,\n"
        "001189000022,Mẹ,1989-12-12,female,01,VN,alive,,,\n"
        "001050000011,Ông,1950-01-01,male,01,VN,alive,,,\n";
    struct fixture *f = *state;
    struct import_stats st;
    struct lt_error err;
    int64_t before = log_head(f->n);

    for (int all = 1; all >= 0; all--) {
        assert_int_equal(run(f, REG_PERSON, IMPORT_CSV, text, sizeof(text) - 1, all, &st, &err),
                         LT_OK);
        assert_string_equal(buf_str(&f->report), "3:father_id:invalid_input;");
        assert_int_equal(st.read, 5);
        assert_int_equal(st.refused, 1);
        assert_int_equal(st.written, all ? 0 : 4);
    }
    assert_int_equal(log_head(f->n), before + 4);
    assert_true(exists(f->n, REG_PERSON, "001214000031"));
    assert_false(exists(f->n, REG_PERSON, "001214000032"));
}

static void test_bad_header(void **state)
{
    static const char text[] = "id,full_name,colour\n001084000001,A,red\n";
    struct fixture *f = *state;
    struct import_stats st;
    struct lt_error err;
    int64_t head = log_head(f->n);

    assert_int_equal(run(f, REG_PERSON, IMPORT_CSV, text, sizeof(text) - 1, false, &st, &err),
                     LT_EINVAL);
    assert_string_equal(err.field, "colour");
    assert_string_equal(buf_str(&f->report), "1:colour:invalid_input;");
    assert_int_equal(st.read, 0);
    assert_int_equal(log_head(f->n), head);

    /* an empty file is no error */
    assert_int_equal(run(f, REG_PERSON, IMPORT_CSV, "", 0, false, &st, &err), LT_OK);
    assert_int_equal(st.read, 0);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_partial, setup, teardown),
        cmocka_unit_test_setup_teardown(test_all_or_nothing, setup, teardown),
        cmocka_unit_test_setup_teardown(test_reimport_changes_nothing, setup, teardown),
        cmocka_unit_test_setup_teardown(test_ndjson_and_references, setup, teardown),
        cmocka_unit_test_setup_teardown(test_forward_references, setup, teardown),
        cmocka_unit_test_setup_teardown(test_bad_header, setup, teardown),
    };

    return cmocka_run_group_tests(tests, NULL, NULL);
}
