/*
 * Tests for src/store/migrations.c and the migration run of the SQLite
 * backend: a new database gets every step, an older one is brought up in
 * one transaction (a failing step leaves it at its old version, with none
 * of the new tables), a newer one is refused and left unchanged.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include <ftw.h>
#include <sqlite3.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "store/migrations.h"
#include "store/store.h"

static const struct migration three[] = {
    { "first", "CREATE TABLE one (a INTEGER PRIMARY KEY, b TEXT);" },
    { "second", "CREATE TABLE two (a INTEGER PRIMARY KEY);"
                "CREATE INDEX one_b ON one (b);"
                "INSERT INTO two (a) VALUES (2);" },
    { "third", "ALTER TABLE two ADD COLUMN c TEXT;" },
};

static const struct migration broken_third[] = {
    { "first", "CREATE TABLE one (a INTEGER PRIMARY KEY, b TEXT);" },
    { "second", "CREATE TABLE two (a INTEGER PRIMARY KEY);"
                "CREATE INDEX one_b ON one (b);"
                "INSERT INTO two (a) VALUES (2);" },
    { "third, broken", "ALTER TABLE nowhere ADD COLUMN c TEXT;" },
};

static int rm_entry(const char *path, const struct stat *st, int flag, struct FTW *ftw)
{
    (void)st;
    (void)flag;
    (void)ftw;
    return remove(path);
}

static int setup(void **state)
{
    char *dir = malloc(64);

    snprintf(dir, 64, "/tmp/lt-migr-XXXXXX");
    if (mkdtemp(dir) == NULL) {
        return -1;
    }
    *state = dir;
    return 0;
}

static int teardown(void **state)
{
    nftw(*state, rm_entry, 8, FTW_DEPTH | FTW_PHYS);
    free(*state);
    return 0;
}

static enum lt_code open_with(const char *dir, const struct migration *steps, size_t n, bool create,
                              struct store **s, struct lt_error *err)
{
    struct store_options o;

    store_options_default(&o);
    o.create = create;
    o.durable = false;
    o.readers = 1;
    o.migrations = steps;
    o.nmigrations = n;
    return store_open(dir, &o, s, err);
}

/* Raw look at the file, outside the store: version and whether a table exists. */
static int raw_version(const char *dir)
{
    char path[128];
    sqlite3 *db;
    sqlite3_stmt *st;
    int v = -1;

    snprintf(path, sizeof(path), "%s/lienthong.db", dir);
    assert_int_equal(sqlite3_open_v2(path, &db, SQLITE_OPEN_READONLY, NULL), SQLITE_OK);
    assert_int_equal(sqlite3_prepare_v2(db, "PRAGMA user_version", -1, &st, NULL), SQLITE_OK);
    if (sqlite3_step(st) == SQLITE_ROW) {
        v = sqlite3_column_int(st, 0);
    }
    sqlite3_finalize(st);
    sqlite3_close(db);
    return v;
}

static bool raw_has_table(const char *dir, const char *table)
{
    char path[128];
    sqlite3 *db;
    sqlite3_stmt *st;
    bool found;

    snprintf(path, sizeof(path), "%s/lienthong.db", dir);
    assert_int_equal(sqlite3_open_v2(path, &db, SQLITE_OPEN_READONLY, NULL), SQLITE_OK);
    assert_int_equal(
        sqlite3_prepare_v2(db, "SELECT 1 FROM sqlite_master WHERE name = ?", -1, &st, NULL),
        SQLITE_OK);
    sqlite3_bind_text(st, 1, table, -1, SQLITE_STATIC);
    found = sqlite3_step(st) == SQLITE_ROW;
    sqlite3_finalize(st);
    sqlite3_close(db);
    return found;
}

static void raw_exec(const char *dir, const char *sql)
{
    char path[128];
    sqlite3 *db;

    snprintf(path, sizeof(path), "%s/lienthong.db", dir);
    assert_int_equal(sqlite3_open(path, &db), SQLITE_OK);
    assert_int_equal(sqlite3_exec(db, sql, NULL, NULL, NULL), SQLITE_OK);
    sqlite3_close(db);
}

static void test_builtin_list_creates_the_event_log(void **state)
{
    const char *dir = *state;
    const struct migration *steps;
    struct store *s;
    struct lt_error err;
    size_t n;

    steps = migrations_builtin(&n);
    assert_true(n >= 1);
    assert_string_equal(steps[0].name, "event log");
    assert_int_equal(open_with(dir, NULL, 0, true, &s, &err), LT_OK);
    assert_int_equal(store_schema_version(s), (int)n);
    store_close(s);
    assert_int_equal(raw_version(dir), (int)n);
    assert_true(raw_has_table(dir, "events"));
    assert_true(raw_has_table(dir, "events_entity"));
    assert_true(raw_has_table(dir, "entity_versions"));
    assert_true(raw_has_table(dir, "origin_heads"));
    assert_true(raw_has_table(dir, "node"));

    /* Opening again at the same version changes nothing. */
    assert_int_equal(open_with(dir, NULL, 0, false, &s, &err), LT_OK);
    assert_int_equal(store_schema_version(s), (int)n);
    store_close(s);
}

static void test_older_database_is_migrated(void **state)
{
    const char *dir = *state;
    struct store *s;
    struct lt_error err;

    assert_int_equal(open_with(dir, three, 1, true, &s, &err), LT_OK);
    assert_int_equal(store_schema_version(s), 1);
    store_close(s);
    assert_int_equal(raw_version(dir), 1);
    assert_false(raw_has_table(dir, "two"));

    assert_int_equal(open_with(dir, three, 3, false, &s, &err), LT_OK);
    assert_int_equal(store_schema_version(s), 3);
    store_close(s);
    assert_int_equal(raw_version(dir), 3);
    assert_true(raw_has_table(dir, "two"));
    assert_true(raw_has_table(dir, "one_b"));
    raw_exec(dir, "INSERT INTO two (a, c) VALUES (3, 'third step ran')");
}

static void test_failed_step_rolls_back_every_step(void **state)
{
    const char *dir = *state;
    struct store *s = NULL;
    struct lt_error err;

    assert_int_equal(open_with(dir, three, 1, true, &s, &err), LT_OK);
    store_close(s);

    assert_int_equal(open_with(dir, broken_third, 3, false, &s, &err), LT_EINVAL);
    assert_null(s);
    assert_non_null(strstr(err.message, "version 3 (third, broken)"));
    assert_non_null(strstr(err.detail, "nowhere"));
    assert_non_null(strstr(err.hint, "stays at version 1"));
    /* Step 2 ran before step 3 failed, yet nothing of it remains. */
    assert_int_equal(raw_version(dir), 1);
    assert_false(raw_has_table(dir, "two"));
    assert_false(raw_has_table(dir, "one_b"));

    /* The database is still good: the right list brings it up. */
    assert_int_equal(open_with(dir, three, 3, false, &s, &err), LT_OK);
    assert_int_equal(store_schema_version(s), 3);
    store_close(s);
}

static void test_newer_database_is_refused(void **state)
{
    const char *dir = *state;
    struct store *s = NULL;
    struct lt_error err;

    assert_int_equal(open_with(dir, three, 3, true, &s, &err), LT_OK);
    store_close(s);
    s = NULL;
    assert_int_equal(open_with(dir, three, 1, false, &s, &err), LT_EINVAL);
    assert_null(s);
    assert_non_null(strstr(err.message, "newer than this program"));
    assert_non_null(strstr(err.detail, "version 3"));
    assert_non_null(strstr(err.detail, "up to 1"));
    assert_non_null(strstr(err.hint, "newer lienthong"));
    assert_int_equal(raw_version(dir), 3);

    /* The program's own list refuses a version from the future too. */
    raw_exec(dir, "PRAGMA user_version = 999");
    assert_int_equal(open_with(dir, NULL, 0, false, &s, &err), LT_EINVAL);
    assert_non_null(strstr(err.detail, "version 999"));
    assert_int_equal(raw_version(dir), 999);
}

static void test_failed_create_leaves_no_file(void **state)
{
    const char *dir = *state;
    struct store *s = NULL;
    struct lt_error err;

    assert_int_equal(open_with(dir, broken_third + 2, 1, true, &s, &err), LT_EINVAL);
    assert_null(s);
    assert_false(store_exists(dir));
}

static void test_check(void **state)
{
    struct lt_error err;

    (void)state;
    assert_int_equal(migrations_check(0, 3, "x.db", &err), LT_OK);
    assert_int_equal(migrations_check(3, 3, "x.db", &err), LT_OK);
    assert_int_equal(migrations_check(4, 3, "x.db", &err), LT_EINVAL);
    assert_non_null(strstr(err.message, "\"x.db\""));
    assert_int_equal(migrations_check(-1, 3, "x.db", &err), LT_EINVAL);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_builtin_list_creates_the_event_log, setup, teardown),
        cmocka_unit_test_setup_teardown(test_older_database_is_migrated, setup, teardown),
        cmocka_unit_test_setup_teardown(test_failed_step_rolls_back_every_step, setup, teardown),
        cmocka_unit_test_setup_teardown(test_newer_database_is_refused, setup, teardown),
        cmocka_unit_test_setup_teardown(test_failed_create_leaves_no_file, setup, teardown),
        cmocka_unit_test(test_check),
    };

    return cmocka_run_group_tests(tests, NULL, NULL);
}
