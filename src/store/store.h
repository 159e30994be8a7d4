/*
 * store.h - the storage interface of a node.
 *
 * Design note.  A node keeps everything in one database: the event log, the
 * projections (registry tables) and its own state.  The embedded backend is
 * SQLite (one file "lienthong.db" in the data directory, WAL mode); a
 * PostgreSQL backend comes later behind the same interface, so every SQL
 * text used through it stays portable: plain types (TEXT, INTEGER, BLOB,
 * REAL; INTEGER is 64-bit), "?" parameters (the PostgreSQL backend rewrites
 * them to $n), no SQLite-only functions, keys supplied by the caller rather
 * than generated (INTEGER PRIMARY KEY columns are always given a value).
 *
 * Concurrency: one writer and a pool of readers.  Writes are submitted as
 * callbacks (store_write); a single writer thread runs them, many at a
 * time, inside one transaction, each in its own savepoint, and commits
 * once for all of them (group commit): concurrent writers share one fsync,
 * and a callback that fails rolls back alone.  Readers take a connection
 * from the pool (store_reader_get) and see the last committed state.
 *
 * Statements are prepared once per connection and cached by their SQL text,
 * so SQL texts must come from a fixed set (never splice values into them).
 * A connection belongs to one thread at a time: the writer's to the writer
 * thread while a callback runs, a reader's to whoever took it from the pool.
 */
#ifndef LT_STORE_H
#define LT_STORE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "core/error.h"

/* The database file inside a data directory. */
#define STORE_DB_NAME "lienthong.db"

struct store;
struct store_conn;
struct store_stmt;
struct migration; /* store/migrations.h */

struct store_options {
    bool create;   /* create the database if it does not exist */
    bool durable;  /* fsync every commit (synchronous=FULL); default true */
    int readers;   /* most readers, opened as wanted (one at first); 0 means 8 */
    int cache_kib; /* page cache per reader connection, KiB; 0 means 8192 */
    /* Page cache of the writer, KiB; 0: the larger of cache_kib and 65536.
     * The writer inserts all over the indexes (the audit trail's person
     * index above all): a cache that holds their inner pages spares it a
     * pread for each insert and a spill in the middle of a transaction.
     * SQLite fills it only as pages are read, so a small node stays small. */
    int writer_cache_kib;
    int group_max; /* most write callbacks in one transaction; 0: 1024 */
    int busy_ms;   /* wait this long for a lock held by another process; 0: 5000 */
    /* The schema steps to bring the database to; NULL: the program's own
     * (migrations_builtin).  Tests pass their own lists. */
    const struct migration *migrations;
    size_t nmigrations;
};

/* Defaults: create false, durable true, readers 8, cache 8 MiB (the writer
 * 64 MiB), group 1024. */
void store_options_default(struct store_options *o);

/*
 * Change the page cache of each reader connection to reader_kib and the
 * writer's to writer_kib (KiB; SQLite frees what is over).  For a store not
 * yet shared: every reader must be in the pool.  A node picks its caches
 * by its level once it knows its unit (lienthong serve --cache).
 */
enum lt_code store_set_cache(struct store *s, int reader_kib, int writer_kib, struct lt_error *err);

/* True if dir holds a database (a node's data directory). */
bool store_exists(const char *dir);

/*
 * Open (or with o->create, create) the database in directory dir and bring
 * its schema up to date with the migrations, all steps in one transaction.
 * With o->create a missing dir is created (one level, mode 0700).  Errors:
 * LT_ENOTFOUND no database and create not set, LT_EIO the file cannot be
 * opened, is locked or is not a database, LT_EINVAL the schema is newer than
 * this program or a migration step failed (nothing of it is applied).
 */
enum lt_code store_open(const char *dir, const struct store_options *o, struct store **out,
                        struct lt_error *err);

/*
 * Stop the writer (after running what was submitted) and close.  Every
 * reader must have been given back.  NULL ok.
 */
void store_close(struct store *s);

/* The schema version the database is at. */
int store_schema_version(struct store *s);

/* The path of the database file (borrowed, lives as long as s). */
const char *store_path(const struct store *s);

/*
 * A write: runs in the writer thread inside a transaction, in its own
 * savepoint.  Returning anything but LT_OK rolls back what this callback
 * did (and only that) and is handed back to the submitter with err.  A
 * callback must not begin, commit or roll back transactions or savepoints
 * itself, nor call store_write.
 */
typedef enum lt_code (*store_write_fn)(struct store_conn *c, void *arg, struct lt_error *err);

/*
 * Submit a write and wait until it is committed (durably, with o->durable)
 * or refused.  Returns the callback's code; LT_EIO if the commit failed (then
 * every callback of that group is reported failed, nothing applied);
 * LT_EINTERNAL if the callback returned LT_OK after store_poison, or ended
 * the transaction itself.  err may be NULL.
 */
enum lt_code store_write(struct store *s, store_write_fn fn, void *arg, struct lt_error *err);

/*
 * Inside a write callback: a multi-statement step failed halfway, so the
 * callback's savepoint must be rolled back whatever the callback returns.
 * Used by layers (the event log) that write several rows per call and
 * promise "on failure nothing is written" without a savepoint per call.
 */
void store_poison(struct store_conn *c);

/* At most this many distinct store_on_success hooks per write callback. */
#define STORE_HOOKS_MAX 8

/*
 * Inside a write callback: run fn(c, arg, err) once after the callback has
 * returned LT_OK, still inside its savepoint, so that a layer making many
 * small changes writes their summary once (the event log writes its origin
 * head so).  A failing hook fails the callback, rolled back whole.  The
 * same (fn, arg) registered twice runs once; LT_EINTERNAL past
 * STORE_HOOKS_MAX distinct hooks or outside a write callback.
 */
enum lt_code store_on_success(struct store_conn *c, store_write_fn fn, void *arg,
                              struct lt_error *err);

/*
 * A number identifying the current savepoint state of a write callback:
 * unique to each callback, changed again whenever one is rolled back, 0
 * outside write callbacks (on readers).  A layer may cache what it read in
 * a write under this mark and trust the cache while the mark is unchanged.
 */
uint64_t store_txn_mark(const struct store_conn *c);

/*
 * A reader connection for this thread, from the pool (blocks while all are
 * taken).  Give it back with store_reader_put.  Reads see committed data.
 */
struct store_conn *store_reader_get(struct store *s);
void store_reader_put(struct store *s, struct store_conn *c);

/*
 * Run fn on a reader inside one read transaction, so that several queries
 * see one snapshot.  Returns fn's code.
 */
enum lt_code store_read(struct store *s, store_write_fn fn, void *arg, struct lt_error *err);

/* Counters of the writer, for tests, benchmarks and /metrics. */
struct store_stats {
    uint64_t writes;    /* callbacks run */
    uint64_t failed;    /* callbacks rolled back (their own failure or the commit's) */
    uint64_t commits;   /* transactions committed */
    uint64_t groups;    /* transactions begun by the writer */
    uint64_t group_max; /* most callbacks seen in one group */
    uint64_t queued;    /* callbacks waiting for the writer now */
    uint64_t readers;   /* reader connections open now (the pool grows as wanted) */
};

void store_stats(struct store *s, struct store_stats *out);

/*
 * Commit notification: fn(arg) is called by the writer thread after each
 * group of writes that committed (once per group, however many
 * transactions it took), when the data is visible to readers and as the
 * group's submitters are woken.  It runs with the store's own
 * lock held, so it must only signal (set a flag, post to a condition
 * variable under a lock of its own that is never held while calling into
 * the store) and return.  One listener per store: a new call replaces the
 * old one, and fn NULL removes it; once store_on_commit returns, the old fn
 * is not running and will not be called again, so its arg may be freed.
 */
typedef void (*store_commit_fn)(void *arg);
void store_on_commit(struct store *s, store_commit_fn fn, void *arg);

/*
 * Statements.  store_prepare returns a cached statement, reset and with its
 * bindings cleared (borrowed: owned by the connection).  Preparing the same
 * SQL again on the connection resets it, so do not nest two uses of one SQL
 * text.  Errors: LT_EINTERNAL for SQL the database does not accept.
 */
enum lt_code store_prepare(struct store_conn *c, const char *sql, struct store_stmt **out,
                           struct lt_error *err);

/*
 * Bind parameter i (1-based).  Text and blobs are copied; a NULL text is
 * bound as NULL.  A bad index is reported by the next store_step.
 */
void store_bind_text(struct store_stmt *st, int i, const char *s);
void store_bind_textn(struct store_stmt *st, int i, const char *s, size_t len);

/*
 * Bind without copying: s (len bytes) must stay as it is until the
 * statement has been stepped and reset (store_exec_stmt does both), as the
 * hot paths of a write have their data in hand.  A NULL is bound as NULL.
 */
void store_bind_text_static(struct store_stmt *st, int i, const char *s, size_t len);
void store_bind_blob_static(struct store_stmt *st, int i, const void *p, size_t len);
void store_bind_int(struct store_stmt *st, int i, int64_t v);
void store_bind_real(struct store_stmt *st, int i, double v);
void store_bind_blob(struct store_stmt *st, int i, const void *p, size_t len);
void store_bind_null(struct store_stmt *st, int i);

enum store_step {
    STORE_ROW,
    STORE_DONE,
    STORE_ERROR,
};

/*
 * Step a statement.  STORE_ERROR fills err: LT_ECONFLICT for a unique or
 * primary key violation (the detail names the constraint), LT_EINVAL for
 * another constraint (foreign key, check, not null), LT_ETOOBIG for a value
 * over the database's limits, LT_EINTERNAL for a bad binding, LT_EIO else.
 */
enum store_step store_step(struct store_stmt *st, struct lt_error *err);

/* Run a statement that returns no rows; reset it after. */
enum lt_code store_exec_stmt(struct store_stmt *st, struct lt_error *err);

/* Run one or more SQL statements with no parameters (DDL, pragmas). */
enum lt_code store_exec(struct store_conn *c, const char *sql, struct lt_error *err);

/*
 * Column i (0-based) of the current row; text/blob valid until the next
 * step.  Call store_col_bytes after store_col_text or store_col_blob.
 */
bool store_col_null(struct store_stmt *st, int i);
const char *store_col_text(struct store_stmt *st, int i); /* "" for NULL */
size_t store_col_bytes(struct store_stmt *st, int i);
int64_t store_col_int(struct store_stmt *st, int i);
double store_col_real(struct store_stmt *st, int i);
const void *store_col_blob(struct store_stmt *st, int i);

/* Rows changed by the last statement on this connection. */
int64_t store_changes(struct store_conn *c);

#endif
