/*
 * Tests for src/store/sqlite.c: opening and refusing databases, pragmas,
 * the statement cache and error mapping, group commit (a failing callback
 * leaves no trace while its group-mates commit), the commit notification,
 * concurrent submitters,
 * the reader pool and snapshots, lock waits, and durability across a crash.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include <ftw.h>
#include <pthread.h>
#include <sqlite3.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "store/migrations.h"
#include "store/store.h"

struct fixture {
    char dir[64];
    struct store *s;
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

static enum lt_code make_table(struct store_conn *c, void *arg, struct lt_error *err)
{
    (void)arg;
    return store_exec(c,
                      "CREATE TABLE t (k INTEGER PRIMARY KEY, v TEXT NOT NULL);"
                      "CREATE TABLE parent (id INTEGER PRIMARY KEY);"
                      "CREATE TABLE child (id INTEGER PRIMARY KEY,"
                      " parent INTEGER NOT NULL REFERENCES parent (id));",
                      err);
}

static struct store *open_store(const char *dir, bool durable, int readers)
{
    struct store_options o;
    struct store *s = NULL;
    struct lt_error err;

    store_options_default(&o);
    o.create = true;
    o.durable = durable;
    o.readers = readers;
    o.cache_kib = 1024;
    if (store_open(dir, &o, &s, &err) != LT_OK) {
        fail_msg("store_open: %s (%s)", err.message, err.detail);
    }
    return s;
}

static int setup(void **state)
{
    struct fixture *f = calloc(1, sizeof(*f));
    struct lt_error err;

    snprintf(f->dir, sizeof(f->dir), "/tmp/lt-store-XXXXXX");
    if (mkdtemp(f->dir) == NULL) {
        return -1;
    }
    f->s = open_store(f->dir, false, 4);
    if (store_write(f->s, make_table, NULL, &err) != LT_OK) {
        return -1;
    }
    *state = f;
    return 0;
}

static int teardown(void **state)
{
    struct fixture *f = *state;

    store_close(f->s);
    nftw(f->dir, rm_entry, 8, FTW_DEPTH | FTW_PHYS);
    free(f);
    return 0;
}

/* ---- helpers run as callbacks ---- */

struct put {
    int64_t k;
    const char *v;
    enum lt_code fail_with; /* return this after inserting, LT_OK: succeed */
    bool poison;
};

static enum lt_code put_row(struct store_conn *c, void *arg, struct lt_error *err)
{
    struct put *p = arg;
    struct store_stmt *st;
    enum lt_code rc = store_prepare(c, "INSERT INTO t (k, v) VALUES (?, ?)", &st, err);

    if (rc != LT_OK) {
        return rc;
    }
    store_bind_int(st, 1, p->k);
    store_bind_text(st, 2, p->v);
    rc = store_exec_stmt(st, err);
    if (rc != LT_OK) {
        return rc;
    }
    if (p->poison) {
        store_poison(c);
    }
    if (p->fail_with != LT_OK) {
        return lt_error_set(err, p->fail_with, "refused row %lld on purpose", (long long)p->k);
    }
    return LT_OK;
}

static int64_t count_on(struct store_conn *c, const char *sql)
{
    struct store_stmt *st;
    struct lt_error err;

    assert_int_equal(store_prepare(c, sql, &st, &err), LT_OK);
    assert_int_equal(store_step(st, &err), STORE_ROW);
    return store_col_int(st, 0);
}

static int64_t count_rows(struct store *s, const char *sql)
{
    struct store_conn *c = store_reader_get(s);
    int64_t n = count_on(c, sql);

    store_reader_put(s, c);
    return n;
}

static bool has_row(struct store *s, int64_t k)
{
    struct store_conn *c = store_reader_get(s);
    struct store_stmt *st;
    struct lt_error err;
    bool found;

    assert_int_equal(store_prepare(c, "SELECT v FROM t WHERE k = ?", &st, &err), LT_OK);
    store_bind_int(st, 1, k);
    found = store_step(st, &err) == STORE_ROW;
    store_reader_put(s, c);
    return found;
}

static enum lt_code delete_all(struct store_conn *c, void *arg, struct lt_error *err)
{
    (void)arg;
    return store_exec(c, "DELETE FROM t", err);
}

static void raw_delete(struct store *s)
{
    struct lt_error err;

    assert_int_equal(store_write(s, delete_all, NULL, &err), LT_OK);
    assert_int_equal(count_rows(s, "SELECT count(*) FROM t"), 0);
}

struct pragma_q {
    const char *sql;
    char text[32];
    int64_t v;
};

static enum lt_code read_pragma(struct store_conn *c, void *arg, struct lt_error *err)
{
    struct pragma_q *q = arg;
    struct store_stmt *st;
    enum lt_code rc = store_prepare(c, q->sql, &st, err);

    if (rc != LT_OK) {
        return rc;
    }
    if (store_step(st, err) != STORE_ROW) {
        return LT_EIO;
    }
    snprintf(q->text, sizeof(q->text), "%s", store_col_text(st, 0));
    q->v = store_col_int(st, 0);
    return LT_OK;
}

/* ---- opening ---- */

static void test_open_missing_without_create(void **state)
{
    struct fixture *f = *state;
    struct store_options o;
    struct store *s = (struct store *)1;
    struct lt_error err;
    char dir[128];

    store_options_default(&o);
    snprintf(dir, sizeof(dir), "%s/none", f->dir);
    assert_int_equal(store_open(dir, &o, &s, &err), LT_ENOTFOUND);
    assert_null(s);
    assert_non_null(strstr(err.message, "does not exist"));
    assert_non_null(strstr(err.hint, "lienthong init"));
    assert_false(store_exists(dir));

    /* An existing but empty directory: no database there, none made. */
    assert_int_equal(mkdir(dir, 0700), 0);
    assert_int_equal(store_open(dir, &o, &s, &err), LT_ENOTFOUND);
    assert_non_null(strstr(err.message, "no database"));
    assert_false(store_exists(dir));
    rmdir(dir);
}

static void test_create_and_pragmas(void **state)
{
    struct fixture *f = *state;
    struct pragma_q q = { 0 };
    struct store *s;
    struct lt_error err;
    size_t n;
    char dir[128];

    migrations_builtin(&n);
    assert_true(store_exists(f->dir));
    assert_int_equal(store_schema_version(f->s), (int)n);
    assert_non_null(strstr(store_path(f->s), "/lienthong.db"));

    q.sql = "PRAGMA journal_mode";
    assert_int_equal(store_write(f->s, read_pragma, &q, &err), LT_OK);
    assert_string_equal(q.text, "wal");
    q.sql = "PRAGMA foreign_keys";
    assert_int_equal(store_write(f->s, read_pragma, &q, &err), LT_OK);
    assert_int_equal(q.v, 1);
    q.sql = "PRAGMA page_size";
    assert_int_equal(store_write(f->s, read_pragma, &q, &err), LT_OK);
    assert_int_equal(q.v, 8192);
    q.sql = "PRAGMA cache_size";
    assert_int_equal(store_write(f->s, read_pragma, &q, &err), LT_OK);
    assert_int_equal(q.v, -65536); /* the writer's: at least 64 MiB */
    {
        struct store_conn *c = store_reader_get(f->s);
        struct store_stmt *st;

        assert_int_equal(store_prepare(c, "PRAGMA cache_size", &st, &err), LT_OK);
        assert_int_equal(store_step(st, &err), STORE_ROW);
        assert_int_equal(store_col_int(st, 0), -1024); /* a reader's: the fixture's */
        store_step(st, &err);
        store_reader_put(f->s, c);
    }
    q.sql = "PRAGMA synchronous";
    assert_int_equal(store_write(f->s, read_pragma, &q, &err), LT_OK);
    assert_int_equal(q.v, 1); /* NORMAL: this fixture is not durable */
    assert_int_equal(store_read(f->s, read_pragma, &q, &err), LT_OK);
    assert_int_equal(q.v, 1);
    q.sql = "PRAGMA query_only";
    assert_int_equal(store_read(f->s, read_pragma, &q, &err), LT_OK);
    assert_int_equal(q.v, 1);
    q.sql = "PRAGMA cache_size";
    assert_int_equal(store_read(f->s, read_pragma, &q, &err), LT_OK);
    assert_int_equal(q.v, -1024);

    /* Durable: FULL, so a commit is on disk when store_write returns. */
    snprintf(dir, sizeof(dir), "%s/durable", f->dir);
    s = open_store(dir, true, 1);
    q.sql = "PRAGMA synchronous";
    assert_int_equal(store_write(s, read_pragma, &q, &err), LT_OK);
    assert_int_equal(q.v, 2);
    assert_int_equal(store_read(s, read_pragma, &q, &err), LT_OK);
    assert_int_equal(q.v, 2);
    store_close(s);
    store_close(NULL);
}

static void test_not_a_database(void **state)
{
    struct fixture *f = *state;
    struct store_options o;
    struct store *s = NULL;
    struct lt_error err;
    sqlite3 *db;
    char dir[128], path[160];
    FILE *fp;

    store_options_default(&o);
    snprintf(dir, sizeof(dir), "%s/garbage", f->dir);
    mkdir(dir, 0700);
    snprintf(path, sizeof(path), "%s/lienthong.db", dir);
    fp = fopen(path, "w");
    assert_non_null(fp);
    for (int i = 0; i < 200; i++) {
        fputs("this is not a database at all. ", fp);
    }
    fclose(fp);
    assert_int_equal(store_open(dir, &o, &s, &err), LT_EIO);
    assert_null(s);
    assert_non_null(strstr(err.message, "not a lienthong database"));
    assert_true(store_exists(dir)); /* left alone: it was not ours to remove */

    /* An SQLite file of another program is refused too, and left unchanged. */
    snprintf(dir, sizeof(dir), "%s/foreign", f->dir);
    mkdir(dir, 0700);
    snprintf(path, sizeof(path), "%s/lienthong.db", dir);
    assert_int_equal(sqlite3_open(path, &db), SQLITE_OK);
    assert_int_equal(
        sqlite3_exec(db, "CREATE TABLE other (x); INSERT INTO other VALUES (1);", NULL, NULL, NULL),
        SQLITE_OK);
    sqlite3_close(db);
    assert_int_equal(store_open(dir, &o, &s, &err), LT_EIO);
    assert_non_null(strstr(err.message, "not a lienthong database"));
    assert_non_null(strstr(err.detail, "another program"));
    assert_int_equal(sqlite3_open(path, &db), SQLITE_OK);
    assert_int_equal(sqlite3_exec(db, "SELECT count(*) FROM events", NULL, NULL, NULL),
                     SQLITE_ERROR);
    sqlite3_close(db);
}

/* ---- statements ---- */

static enum lt_code step_errors(struct store_conn *c, void *arg, struct lt_error *err)
{
    struct store_stmt *st, *again;
    struct lt_error e;

    (void)arg;
    (void)err;
    assert_int_equal(store_prepare(c, "INSERT INTO t (k, v) VALUES (?, ?)", &st, &e), LT_OK);
    store_bind_int(st, 1, 7);
    store_bind_text(st, 2, "seven");
    assert_int_equal(store_exec_stmt(st, &e), LT_OK);
    assert_int_equal(store_changes(c), 1);

    /* The same SQL gives the same statement, with its bindings cleared. */
    assert_int_equal(store_prepare(c, "INSERT INTO t (k, v) VALUES (?, ?)", &again, &e), LT_OK);
    assert_ptr_equal(st, again);
    store_bind_int(st, 1, 8);
    assert_int_equal(store_exec_stmt(st, &e), LT_EINVAL); /* v unbound: NULL, NOT NULL fails */
    assert_non_null(strstr(e.message, "NOT NULL"));

    /* A duplicate key: a conflict, naming the constraint. */
    assert_int_equal(store_prepare(c, "INSERT INTO t (k, v) VALUES (?, ?)", &st, &e), LT_OK);
    store_bind_int(st, 1, 7);
    store_bind_text(st, 2, "again");
    assert_int_equal(store_step(st, &e), STORE_ERROR);
    assert_int_equal(e.code, LT_ECONFLICT);
    assert_non_null(strstr(e.detail, "t.k"));

    /* A foreign key that points nowhere (foreign keys are on). */
    assert_int_equal(store_prepare(c, "INSERT INTO child (id, parent) VALUES (1, 99)", &st, &e),
                     LT_OK);
    assert_int_equal(store_exec_stmt(st, &e), LT_EINVAL);
    assert_non_null(strstr(e.message, "FOREIGN KEY"));

    /* SQL the schema does not accept, two statements at once, a bad index. */
    assert_int_equal(store_prepare(c, "SELECT nope FROM nowhere", &st, &e), LT_EINTERNAL);
    assert_non_null(strstr(e.detail, "nowhere"));
    assert_int_equal(store_prepare(c, "SELECT 1; SELECT 2", &st, &e), LT_EINTERNAL);
    assert_int_equal(store_prepare(c, "SELECT ?", &st, &e), LT_OK);
    store_bind_int(st, 3, 1);
    assert_int_equal(store_step(st, &e), STORE_ERROR);
    assert_int_equal(e.code, LT_EINTERNAL);
    assert_non_null(strstr(e.message, "parameter 3"));

    /* A trailing semicolon is one statement. */
    assert_int_equal(store_prepare(c, "SELECT 5;", &st, &e), LT_OK);
    assert_int_equal(store_step(st, &e), STORE_ROW);
    assert_int_equal(store_col_int(st, 0), 5);
    return LT_OK;
}

static void test_statement_errors(void **state)
{
    struct fixture *f = *state;
    struct lt_error err;

    assert_int_equal(store_write(f->s, step_errors, NULL, &err), LT_OK);
    assert_true(has_row(f->s, 7));
    assert_false(has_row(f->s, 8));
}

static enum lt_code column_types(struct store_conn *c, void *arg, struct lt_error *err)
{
    struct store_stmt *st;
    static const uint8_t blob[3] = { 0, 1, 2 };

    (void)arg;
    assert_int_equal(store_prepare(c, "SELECT ?, ?, ?, ?, ?", &st, err), LT_OK);
    store_bind_textn(st, 1, "abcdef", 3);
    store_bind_real(st, 2, 2.5);
    store_bind_blob(st, 3, blob, sizeof(blob));
    store_bind_null(st, 4);
    store_bind_text(st, 5, NULL);
    assert_int_equal(store_step(st, err), STORE_ROW);
    assert_string_equal(store_col_text(st, 0), "abc");
    assert_int_equal(store_col_bytes(st, 0), 3);
    assert_true(store_col_real(st, 1) == 2.5);
    assert_memory_equal(store_col_blob(st, 2), blob, 3);
    assert_int_equal(store_col_bytes(st, 2), 3);
    assert_true(store_col_null(st, 3));
    assert_string_equal(store_col_text(st, 3), "");
    assert_true(store_col_null(st, 4));
    assert_false(store_col_null(st, 0));
    assert_int_equal(store_step(st, err), STORE_DONE);
    return LT_OK;
}

static void test_columns_on_reader(void **state)
{
    struct fixture *f = *state;
    struct lt_error err;

    assert_int_equal(store_read(f->s, column_types, NULL, &err), LT_OK);
}

/* ---- writes ---- */

static void test_write_and_failed_write(void **state)
{
    struct fixture *f = *state;
    struct put ok = { 1, "one", LT_OK, false };
    struct put bad = { 2, "two", LT_ECONFLICT, false };
    struct put poisoned = { 3, "three", LT_OK, true };
    struct lt_error err;

    assert_int_equal(store_write(f->s, put_row, &ok, &err), LT_OK);
    assert_int_equal(store_write(f->s, put_row, &bad, &err), LT_ECONFLICT);
    assert_string_equal(err.message, "refused row 2 on purpose");
    assert_int_equal(store_write(f->s, put_row, &poisoned, &err), LT_EINTERNAL);
    assert_non_null(strstr(err.message, "halfway"));
    assert_int_equal(store_write(f->s, put_row, &ok, NULL), LT_ECONFLICT); /* err may be NULL */
    assert_true(has_row(f->s, 1));
    assert_false(has_row(f->s, 2));
    assert_false(has_row(f->s, 3));
    assert_int_equal(count_rows(f->s, "SELECT count(*) FROM t"), 1);
}

static enum lt_code end_transaction(struct store_conn *c, void *arg, struct lt_error *err)
{
    static const char *const refused[] = { "COMMIT", "ROLLBACK", "SAVEPOINT x", "BEGIN",
                                           "RELEASE SAVEPOINT lt_write" };
    struct put p = { 40, "forty", LT_OK, false };
    struct store_stmt *st;
    struct lt_error e;

    (void)arg;
    assert_int_equal(put_row(c, &p, err), LT_OK);
    for (size_t i = 0; i < sizeof(refused) / sizeof(refused[0]); i++) {
        assert_int_equal(store_exec(c, refused[i], &e), LT_EINTERNAL);
        assert_non_null(strstr(e.hint, "may not begin, commit"));
        assert_int_equal(store_prepare(c, refused[i], &st, &e), LT_EINTERNAL);
    }
    return LT_OK;
}

static void test_callback_cannot_end_transaction(void **state)
{
    struct fixture *f = *state;
    struct lt_error err;
    struct put after = { 41, "forty-one", LT_OK, false };

    assert_int_equal(store_write(f->s, end_transaction, NULL, &err), LT_OK);
    assert_true(has_row(f->s, 40));
    assert_int_equal(store_write(f->s, put_row, &after, &err), LT_OK);
    assert_true(has_row(f->s, 41));
}

struct hooked {
    int runs;
    enum lt_code hook_rc;
    enum lt_code body_rc;
    int registrations;
};

static enum lt_code summary_hook(struct store_conn *c, void *arg, struct lt_error *err)
{
    struct hooked *h = arg;
    struct put p = { 700 + h->runs, "written by the hook", LT_OK, false };
    enum lt_code rc = put_row(c, &p, err);

    h->runs++;
    if (rc == LT_OK && h->hook_rc != LT_OK) {
        rc = lt_error_set(err, h->hook_rc, "the hook refused");
    }
    return rc;
}

static enum lt_code with_hook(struct store_conn *c, void *arg, struct lt_error *err)
{
    struct hooked *h = arg;
    struct put p = { 690, "the callback's own row", LT_OK, false };
    enum lt_code rc = put_row(c, &p, err);

    for (int i = 0; i < h->registrations && rc == LT_OK; i++) {
        rc = store_on_success(c, summary_hook, h, err);
    }
    return rc == LT_OK ? h->body_rc : rc;
}

static enum lt_code too_many_hooks(struct store_conn *c, void *arg, struct lt_error *err)
{
    static int args[STORE_HOOKS_MAX + 1];

    (void)arg;
    for (int i = 0; i < STORE_HOOKS_MAX; i++) {
        assert_int_equal(store_on_success(c, summary_hook, &args[i], err), LT_OK);
    }
    assert_int_equal(store_on_success(c, summary_hook, &args[STORE_HOOKS_MAX], err), LT_EINTERNAL);
    return LT_EINTERNAL;
}

static enum lt_code hook_on_reader(struct store_conn *c, void *arg, struct lt_error *err)
{
    return store_on_success(c, summary_hook, arg, err);
}

static void test_success_hooks(void **state)
{
    struct fixture *f = *state;
    struct hooked ok = { 0, LT_OK, LT_OK, 3 };
    struct hooked refused = { 0, LT_OK, LT_ECONFLICT, 1 };
    struct hooked failing = { 0, LT_EIO, LT_OK, 1 };
    struct lt_error err;

    /* Registered three times, run once, after the callback, in its savepoint. */
    assert_int_equal(store_write(f->s, with_hook, &ok, &err), LT_OK);
    assert_int_equal(ok.runs, 1);
    assert_true(has_row(f->s, 690));
    assert_true(has_row(f->s, 700));
    raw_delete(f->s);

    /* A failing callback: the hook does not run. */
    assert_int_equal(store_write(f->s, with_hook, &refused, &err), LT_ECONFLICT);
    assert_int_equal(refused.runs, 0);
    assert_false(has_row(f->s, 690));

    /* A failing hook fails the callback, rolled back whole. */
    assert_int_equal(store_write(f->s, with_hook, &failing, &err), LT_EIO);
    assert_string_equal(err.message, "the hook refused");
    assert_int_equal(failing.runs, 1);
    assert_false(has_row(f->s, 690));
    assert_false(has_row(f->s, 700));

    assert_int_equal(store_write(f->s, too_many_hooks, NULL, &err), LT_EINTERNAL);
    assert_int_equal(store_read(f->s, hook_on_reader, &ok, &err), LT_EINTERNAL);
    assert_non_null(strstr(err.message, "outside a write"));
}

/* The commit listener: counts the commits it is told of. */
static void count_commit(void *arg)
{
    (*(int *)arg)++;
}

static void test_commit_notification(void **state)
{
    struct fixture *f = *state;
    struct put ok = { 80, "eighty", LT_OK, false };
    struct put bad = { 81, "eighty-one", LT_ECONFLICT, false };
    struct put later = { 82, "eighty-two", LT_OK, false };
    struct lt_error err;
    int told = 0, other = 0;

    store_on_commit(f->s, count_commit, &told);
    assert_int_equal(store_write(f->s, put_row, &ok, &err), LT_OK);
    assert_int_equal(told, 1); /* before store_write returned */
    assert_true(has_row(f->s, 80));

    /* A write rolled back commits nothing: no call. */
    assert_int_equal(store_write(f->s, put_row, &bad, &err), LT_ECONFLICT);
    assert_int_equal(told, 1);

    /* A new listener replaces the old one; NULL removes it. */
    store_on_commit(f->s, count_commit, &other);
    assert_int_equal(store_write(f->s, put_row, &later, &err), LT_OK);
    assert_int_equal(told, 1);
    assert_int_equal(other, 1);
    store_on_commit(f->s, NULL, NULL);
    later.k = 83;
    assert_int_equal(store_write(f->s, put_row, &later, &err), LT_OK);
    assert_int_equal(other, 1);
}

static struct store *nested_store;

static enum lt_code write_inside(struct store_conn *c, void *arg, struct lt_error *err)
{
    struct put p = { 50, "fifty", LT_OK, false };

    (void)c;
    (void)arg;
    return store_write(nested_store, put_row, &p, err);
}

static void test_write_from_callback_refused(void **state)
{
    struct fixture *f = *state;
    struct lt_error err;

    nested_store = f->s;
    assert_int_equal(store_write(f->s, write_inside, NULL, &err), LT_EINTERNAL);
    assert_non_null(strstr(err.message, "inside a write callback"));
    assert_false(has_row(f->s, 50));
}

/* A callback that holds the writer until the test lets it go. */
struct gate {
    pthread_mutex_t mu;
    pthread_cond_t cond;
    bool entered, open;
};

static enum lt_code wait_at_gate(struct store_conn *c, void *arg, struct lt_error *err)
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

static void gate_close(struct store *s, struct gate *g, pthread_t *th, struct submit *m)
{
    pthread_mutex_init(&g->mu, NULL);
    pthread_cond_init(&g->cond, NULL);
    g->entered = g->open = false;
    m->s = s;
    m->fn = wait_at_gate;
    m->arg = g;
    pthread_create(th, NULL, submit_main, m);
    pthread_mutex_lock(&g->mu);
    while (!g->entered) {
        pthread_cond_wait(&g->cond, &g->mu);
    }
    pthread_mutex_unlock(&g->mu);
}

static void gate_open(struct gate *g, pthread_t th)
{
    pthread_mutex_lock(&g->mu);
    g->open = true;
    pthread_cond_broadcast(&g->cond);
    pthread_mutex_unlock(&g->mu);
    pthread_join(th, NULL);
    pthread_mutex_destroy(&g->mu);
    pthread_cond_destroy(&g->cond);
}

static void wait_queued(struct store *s, uint64_t n)
{
    struct store_stats st;

    for (int i = 0; i < 5000; i++) {
        store_stats(s, &st);
        if (st.queued >= n) {
            return;
        }
        sleep_ms(1);
    }
    fail_msg("only %llu of %llu writes were queued", (unsigned long long)st.queued,
             (unsigned long long)n);
}

#define GROUP 6

static void test_group_failure_alone(void **state)
{
    struct fixture *f = *state;
    struct put puts[GROUP];
    struct submit subs[GROUP], gm = { 0 };
    pthread_t th[GROUP], gt;
    struct store_stats before, after;
    struct gate g;

    store_stats(f->s, &before);
    gate_close(f->s, &g, &gt, &gm);

    /* Queue a group behind the gate: writes 100.. succeed, 102 fails, 104 is poisoned. */
    for (int i = 0; i < GROUP; i++) {
        puts[i] = (struct put){ 100 + i, "grouped", LT_OK, false };
        if (i == 2) {
            puts[i].fail_with = LT_EINVAL;
        }
        if (i == 4) {
            puts[i].poison = true;
        }
        subs[i] = (struct submit){ f->s, put_row, &puts[i], LT_EIO, { 0 } };
        pthread_create(&th[i], NULL, submit_main, &subs[i]);
    }
    wait_queued(f->s, GROUP);
    gate_open(&g, gt);
    for (int i = 0; i < GROUP; i++) {
        pthread_join(th[i], NULL);
    }
    store_stats(f->s, &after);

    assert_int_equal(gm.rc, LT_OK);
    for (int i = 0; i < GROUP; i++) {
        if (i == 2) {
            assert_int_equal(subs[i].rc, LT_EINVAL);
            assert_string_equal(subs[i].err.message, "refused row 102 on purpose");
            assert_false(has_row(f->s, 100 + i));
        } else if (i == 4) {
            assert_int_equal(subs[i].rc, LT_EINTERNAL);
            assert_false(has_row(f->s, 100 + i));
        } else {
            assert_int_equal(subs[i].rc, LT_OK);
            assert_int_equal(subs[i].err.code, LT_OK);
            assert_true(has_row(f->s, 100 + i));
        }
    }
    /* The gate alone, then all six in one transaction: two commits for seven writes. */
    assert_int_equal(after.writes - before.writes, GROUP + 1);
    assert_int_equal(after.commits - before.commits, 2);
    assert_int_equal(after.failed - before.failed, 2);
    assert_true(after.group_max >= GROUP);
    assert_int_equal(after.queued, 0);
}

struct burst {
    struct store *s;
    int thread;
    int n;
    int ok;
};

static void *burst_main(void *arg)
{
    struct burst *b = arg;
    struct lt_error err;

    for (int i = 0; i < b->n; i++) {
        struct put p = { 10000 + b->thread * 1000 + i, "burst", LT_OK, false };

        if (store_write(b->s, put_row, &p, &err) == LT_OK) {
            b->ok++;
        }
    }
    return NULL;
}

#define THREADS    8
#define PER_THREAD 200

static void test_concurrent_submitters(void **state)
{
    struct fixture *f = *state;
    struct store *s;
    struct burst b[THREADS];
    pthread_t th[THREADS];
    struct store_stats before, after;
    struct lt_error err;
    char dir[128];

    snprintf(dir, sizeof(dir), "%s/burst", f->dir);
    s = open_store(dir, true, 2); /* durable: every commit is an fsync */
    assert_int_equal(store_write(s, make_table, NULL, &err), LT_OK);
    store_stats(s, &before);
    for (int i = 0; i < THREADS; i++) {
        b[i] = (struct burst){ s, i, PER_THREAD, 0 };
        pthread_create(&th[i], NULL, burst_main, &b[i]);
    }
    for (int i = 0; i < THREADS; i++) {
        pthread_join(th[i], NULL);
        assert_int_equal(b[i].ok, PER_THREAD);
    }
    store_stats(s, &after);
    assert_int_equal(count_rows(s, "SELECT count(*) FROM t"), THREADS * PER_THREAD);
    assert_int_equal(after.writes - before.writes, THREADS * PER_THREAD);
    assert_int_equal(after.failed - before.failed, 0);
    print_message("# %d writes from %d threads in %llu commits (largest group %llu)\n",
                  THREADS * PER_THREAD, THREADS,
                  (unsigned long long)(after.commits - before.commits),
                  (unsigned long long)after.group_max);
    assert_true(after.commits - before.commits < (uint64_t)(THREADS * PER_THREAD));
    assert_true(after.group_max > 1);
    store_close(s);
}

static void test_group_max_splits_groups(void **state)
{
    struct fixture *f = *state;
    struct store_options o;
    struct store *s;
    struct put puts[5];
    struct submit subs[5], gm = { 0 };
    pthread_t th[5], gt;
    struct store_stats before, after;
    struct gate g;
    struct lt_error err;
    char dir[128];

    snprintf(dir, sizeof(dir), "%s/small-groups", f->dir);
    store_options_default(&o);
    o.create = true;
    o.durable = false;
    o.group_max = 2;
    assert_int_equal(store_open(dir, &o, &s, &err), LT_OK);
    assert_int_equal(store_write(s, make_table, NULL, &err), LT_OK);
    store_stats(s, &before);
    gate_close(s, &g, &gt, &gm);
    for (int i = 0; i < 5; i++) {
        puts[i] = (struct put){ 200 + i, "small", LT_OK, false };
        subs[i] = (struct submit){ s, put_row, &puts[i], LT_EIO, { 0 } };
        pthread_create(&th[i], NULL, submit_main, &subs[i]);
    }
    wait_queued(s, 5);
    gate_open(&g, gt);
    for (int i = 0; i < 5; i++) {
        pthread_join(th[i], NULL);
        assert_int_equal(subs[i].rc, LT_OK);
    }
    store_stats(s, &after);
    /* gate, then 2 + 2 + 1 */
    assert_int_equal(after.commits - before.commits, 4);
    assert_int_equal(after.group_max, 2);
    assert_int_equal(count_rows(s, "SELECT count(*) FROM t"), 5);
    store_close(s);
}

/* ---- readers ---- */

struct snapshot {
    struct store *s;
    int64_t first, second;
};

static enum lt_code read_twice(struct store_conn *c, void *arg, struct lt_error *err)
{
    struct snapshot *snap = arg;
    struct put p = { 300, "during the read", LT_OK, false };

    snap->first = count_on(c, "SELECT count(*) FROM t");
    assert_int_equal(store_write(snap->s, put_row, &p, err), LT_OK);
    snap->second = count_on(c, "SELECT count(*) FROM t");
    return LT_OK;
}

static void test_read_is_one_snapshot(void **state)
{
    struct fixture *f = *state;
    struct snapshot snap = { f->s, -1, -1 };
    struct lt_error err;

    assert_int_equal(store_read(f->s, read_twice, &snap, &err), LT_OK);
    assert_int_equal(snap.first, snap.second);
    /* A reader taken afterwards sees the write. */
    assert_int_equal(count_rows(f->s, "SELECT count(*) FROM t"), snap.first + 1);
}

static void test_reader_sees_commits_not_stale_snapshot(void **state)
{
    struct fixture *f = *state;
    struct store_conn *c;
    struct store_stmt *st;
    struct put first = { 399, "w", LT_OK, false };
    struct put p = { 400, "x", LT_OK, false };
    struct lt_error err;
    enum store_step r = STORE_ERROR;
    enum lt_code rc;

    assert_int_equal(store_write(f->s, put_row, &first, &err), LT_OK);
    c = store_reader_get(f->s);
    /* Leave a statement mid-result, as a caller reading one row would. */
    rc = store_prepare(c, "SELECT k FROM t", &st, &err);
    if (rc == LT_OK) {
        r = store_step(st, &err);
    }
    store_reader_put(f->s, c);
    assert_int_equal(rc, LT_OK);
    assert_int_equal(r, STORE_ROW);
    assert_int_equal(store_write(f->s, put_row, &p, &err), LT_OK);
    assert_true(has_row(f->s, 400));

    c = store_reader_get(f->s);
    rc = store_prepare(c, "INSERT INTO t (k, v) VALUES (401, 'no')", &st, &err);
    if (rc == LT_OK) {
        rc = store_exec_stmt(st, &err);
    }
    store_reader_put(f->s, c);
    assert_int_equal(rc, LT_EIO); /* readers are query-only */
    assert_non_null(strstr(err.message, "readonly"));
    assert_false(has_row(f->s, 401));
}

struct taker {
    struct store *s;
    struct store_conn *got;
    bool done;
    pthread_mutex_t mu;
};

static void *take_main(void *arg)
{
    struct taker *t = arg;
    struct store_conn *c = store_reader_get(t->s);

    pthread_mutex_lock(&t->mu);
    t->got = c;
    t->done = true;
    pthread_mutex_unlock(&t->mu);
    return NULL;
}

static void test_reader_pool_blocks_when_empty(void **state)
{
    struct fixture *f = *state;
    struct store *s;
    struct store_conn *a, *b;
    struct store_stats st;
    struct taker t = { 0 };
    pthread_t th;
    bool done;
    char dir[128];

    snprintf(dir, sizeof(dir), "%s/pool", f->dir);
    s = open_store(dir, false, 2);
    store_stats(s, &st);
    assert_int_equal(st.readers, 1); /* one at first, */
    a = store_reader_get(s);
    b = store_reader_get(s);
    assert_ptr_not_equal(a, b);
    store_stats(s, &st);
    assert_int_equal(st.readers, 2); /* a second when both were wanted */
    t.s = s;
    pthread_mutex_init(&t.mu, NULL);
    pthread_create(&th, NULL, take_main, &t);
    sleep_ms(100);
    pthread_mutex_lock(&t.mu);
    done = t.done;
    pthread_mutex_unlock(&t.mu);
    assert_false(done);
    store_reader_put(s, b);
    pthread_join(th, NULL);
    assert_ptr_equal(t.got, b);
    store_reader_put(s, a);
    store_reader_put(s, t.got);
    pthread_mutex_destroy(&t.mu);
    store_close(s);
}

/* The cache_size of each of s's n readers, taken all at once, into v. */
static void reader_caches(struct store *s, int n, int64_t *v)
{
    struct store_conn *c[4];

    assert_true(n <= 4);
    for (int i = 0; i < n; i++) {
        c[i] = store_reader_get(s);
        v[i] = count_on(c[i], "PRAGMA cache_size");
    }
    for (int i = 0; i < n; i++) {
        store_reader_put(s, c[i]);
    }
}

static void test_set_cache(void **state)
{
    struct fixture *f = *state;
    struct pragma_q q = { .sql = "PRAGMA cache_size" };
    struct store *s;
    struct store_conn *held;
    struct lt_error err;
    int64_t v[2];
    char dir[128];

    snprintf(dir, sizeof(dir), "%s/cache", f->dir);
    s = open_store(dir, false, 2);
    assert_int_equal(store_set_cache(s, 256, 2048, &err), LT_OK);
    assert_int_equal(store_write(s, read_pragma, &q, &err), LT_OK);
    assert_int_equal(q.v, -2048);
    reader_caches(s, 2, v);
    assert_int_equal(v[0], -256);
    assert_int_equal(v[1], -256);

    /* Refused while a reader is out, and nothing changed. */
    held = store_reader_get(s);
    assert_int_equal(store_set_cache(s, 512, 4096, &err), LT_EINTERNAL);
    assert_non_null(strstr(err.message, "in use"));
    store_reader_put(s, held);
    assert_int_equal(store_set_cache(s, 0, 4096, &err), LT_EINVAL);
    assert_int_equal(store_write(s, read_pragma, &q, &err), LT_OK);
    assert_int_equal(q.v, -2048);
    reader_caches(s, 2, v);
    assert_int_equal(v[0], -256);
    assert_int_equal(v[1], -256);
    store_close(s);
}

/* ---- locks and crashes ---- */

static void test_lock_held_by_another_writer(void **state)
{
    struct fixture *f = *state;
    struct store_options o;
    struct store *other;
    struct gate g;
    struct submit gm = { 0 };
    pthread_t gt;
    struct put p = { 500, "blocked", LT_OK, false };
    struct lt_error err;
    struct timespec t0, t1;
    double waited;

    /* A second handle on the same file stands for another process. */
    store_options_default(&o);
    o.busy_ms = 200;
    o.readers = 1;
    assert_int_equal(store_open(f->dir, &o, &other, &err), LT_OK);
    gate_close(f->s, &g, &gt, &gm); /* holds the write lock inside BEGIN IMMEDIATE */
    clock_gettime(CLOCK_MONOTONIC, &t0);
    assert_int_equal(store_write(other, put_row, &p, &err), LT_EIO);
    clock_gettime(CLOCK_MONOTONIC, &t1);
    waited = (double)(t1.tv_sec - t0.tv_sec) + (double)(t1.tv_nsec - t0.tv_nsec) / 1e9;
    assert_true(waited >= 0.15); /* it waited for the lock before giving up */
    assert_non_null(strstr(err.message, "locked"));
    assert_non_null(strstr(err.hint, "another process"));
    gate_open(&g, gt);

    /* Once the lock is free the other handle writes. */
    assert_int_equal(store_write(other, put_row, &p, &err), LT_OK);
    store_close(other);
    assert_true(has_row(f->s, 500));
}

/* No fixture: the fork must happen while this process runs no store threads. */
static void test_commit_survives_crash(void **state)
{
    struct store *s;
    char root[64], dir[128];
    pid_t pid;
    int status;

    (void)state;
    snprintf(root, sizeof(root), "/tmp/lt-crash-XXXXXX");
    assert_non_null(mkdtemp(root));
    snprintf(dir, sizeof(dir), "%s/crash", root);
    pid = fork();
    assert_true(pid >= 0);
    if (pid == 0) {
        struct put p = { 600, "before the crash", LT_OK, false };
        struct lt_error err;

        s = open_store(dir, true, 1);
        if (store_write(s, make_table, NULL, &err) != LT_OK ||
            store_write(s, put_row, &p, &err) != LT_OK) {
            _exit(1);
        }
        _exit(0); /* no close, no checkpoint: as if the power went */
    }
    assert_int_equal(waitpid(pid, &status, 0), pid);
    assert_true(WIFEXITED(status) && WEXITSTATUS(status) == 0);
    s = open_store(dir, true, 1);
    assert_true(has_row(s, 600));
    store_close(s);
    nftw(root, rm_entry, 8, FTW_DEPTH | FTW_PHYS);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_open_missing_without_create, setup, teardown),
        cmocka_unit_test_setup_teardown(test_create_and_pragmas, setup, teardown),
        cmocka_unit_test_setup_teardown(test_not_a_database, setup, teardown),
        cmocka_unit_test_setup_teardown(test_statement_errors, setup, teardown),
        cmocka_unit_test_setup_teardown(test_columns_on_reader, setup, teardown),
        cmocka_unit_test_setup_teardown(test_write_and_failed_write, setup, teardown),
        cmocka_unit_test_setup_teardown(test_callback_cannot_end_transaction, setup, teardown),
        cmocka_unit_test_setup_teardown(test_write_from_callback_refused, setup, teardown),
        cmocka_unit_test_setup_teardown(test_success_hooks, setup, teardown),
        cmocka_unit_test_setup_teardown(test_commit_notification, setup, teardown),
        cmocka_unit_test_setup_teardown(test_group_failure_alone, setup, teardown),
        cmocka_unit_test_setup_teardown(test_concurrent_submitters, setup, teardown),
        cmocka_unit_test_setup_teardown(test_group_max_splits_groups, setup, teardown),
        cmocka_unit_test_setup_teardown(test_read_is_one_snapshot, setup, teardown),
        cmocka_unit_test_setup_teardown(test_reader_sees_commits_not_stale_snapshot, setup,
                                        teardown),
        cmocka_unit_test_setup_teardown(test_reader_pool_blocks_when_empty, setup, teardown),
        cmocka_unit_test_setup_teardown(test_set_cache, setup, teardown),
        cmocka_unit_test_setup_teardown(test_lock_held_by_another_writer, setup, teardown),
        cmocka_unit_test(test_commit_survives_crash),
    };

    return cmocka_run_group_tests(tests, NULL, NULL);
}
