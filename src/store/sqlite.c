/*
 * sqlite.c - the SQLite backend of the store: connections, the statement
 * cache, the writer thread with group commit, and the reader pool.
 *
 * Design note.  One database file per node, in WAL mode, so readers never
 * block the writer nor the writer them.  Exactly one connection writes, and
 * only from the writer thread: submitters queue a request and sleep on their
 * own condition variable.  The writer takes everything queued (up to
 * group_max), runs it in one BEGIN IMMEDIATE transaction, each callback
 * between SAVEPOINT and RELEASE (or ROLLBACK TO when it fails), commits
 * once and wakes each submitter with its own result, and the commit
 * listener (store_on_commit: the sync pusher waits on it).  While it commits and
 * syncs, new requests pile up and form the next group, so the number of
 * fsyncs falls as load rises.  A group of one needs no savepoint: its
 * failure rolls back the whole transaction.
 *
 * If the database itself abandons the transaction (disk full, I/O error),
 * the callbacks already run in it are lost: they are reported failed and
 * the rest of the group continues in a new transaction.  Callbacks cannot
 * end the transaction themselves: an authorizer refuses BEGIN, COMMIT,
 * ROLLBACK and SAVEPOINT while one runs, and the writer's own transaction
 * statements are kept outside the statement cache.
 *
 * Readers (query_only) are handed out from a stack.  One is opened with
 * the store; more as they are wanted, up to the pool's size, so a node
 * holds as many connections (and their schema and caches) as its busiest
 * moment needed.  If one cannot be opened, the pool stops growing there.
 * Before a connection goes back to the pool every statement still
 * mid-result is reset, so the next user does not inherit an old snapshot.
 *
 * Ownership: the store owns every connection; a connection owns its
 * cached statements, keyed by SQL text in a chained hash table.
 */
#include "store/store.h"

#include <errno.h>
#include <pthread.h>
#include <sqlite3.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "core/buf.h"
#include "core/log.h"
#include "core/strmap.h"
#include "store/migrations.h"
#include "core/banned.h"

#define DEFAULT_READERS          8
#define DEFAULT_CACHE_KIB        8192
#define DEFAULT_WRITER_CACHE_KIB 65536
#define DEFAULT_GROUP_MAX        1024
#define DEFAULT_BUSY_MS          5000
#define WAL_LIMIT_BYTES          (64 * 1024 * 1024) /* WAL size kept after a checkpoint */
#define APPLICATION_ID           0x4c544e47         /* "LTNG" in the file header */
#define SQL_QUOTE_MAX            160                /* bytes of SQL quoted in an error detail */
#define PAGE_SIZE                "8192"             /* for new files, see set_wal */
#define RECENT_SLOTS             32                 /* see store_conn.recent */

struct store_stmt {
    sqlite3_stmt *st;
    struct store_conn *conn;
    char *sql;
    size_t len;      /* of sql */
    const char *ptr; /* the caller's text it was last prepared from (see recent) */
    uint32_t hash;
    int bind_rc; /* first failed binding since store_prepare */
    int bind_index;
    struct store_stmt *next; /* same bucket */
};

/* Transaction statements of a connection, kept out of the cache. */
enum tx_stmt {
    TX_BEGIN,
    TX_COMMIT,
    TX_ROLLBACK,
    TX_SAVEPOINT,
    TX_RELEASE,
    TX_ROLLBACK_TO,
    TX_COUNT,
};

struct store_conn {
    sqlite3 *db;
    struct store *store;
    struct store_stmt **buckets;
    size_t nbuckets;
    size_t nstmts;
    sqlite3_stmt *tx[TX_COUNT];
    uint64_t mark; /* see store_txn_mark */
    struct hook {
        store_write_fn fn;
        void *arg;
    } hooks[STORE_HOOKS_MAX]; /* see store_on_success */
    int nhooks;
    bool poisoned;    /* see store_poison */
    bool in_callback; /* the authorizer refuses transaction control */
    bool writer;
    /*
     * The statements last prepared, by the address of the caller's SQL
     * text: most texts are constants, so the next prepare of the same one
     * skips hashing it.  A hit is still compared in full (a text built in a
     * reused buffer has the same address and other words).
     */
    struct store_stmt *recent[RECENT_SLOTS];
};

struct write_req {
    store_write_fn fn;
    void *arg;
    struct lt_error *err; /* the submitter's, or scratch */
    struct lt_error scratch;
    enum lt_code rc;
    bool done;
    pthread_cond_t cond;
    struct write_req *next;
};

struct store {
    char *path;
    struct store_options opt;
    const struct migration *steps;
    size_t nsteps;
    int version;

    struct store_conn *writer;
    pthread_t thread;
    bool thread_started;
    bool locks_ready;
    pthread_mutex_t mu; /* the queue, stopping and stats */
    pthread_cond_t wake;
    struct write_req *head, *tail;
    bool stopping;
    struct store_stats stats;
    store_commit_fn commit_fn; /* under mu; see store_on_commit */
    void *commit_arg;

    pthread_mutex_t pool_mu;
    pthread_cond_t pool_cond;
    struct store_conn **readers;
    struct store_conn **idle; /* a stack of the readers not taken */
    int nreaders, nidle;
    int opening; /* readers being opened (store_reader_get), under pool_mu */
};

/* Transaction marks are unique in the process, across stores. */
static _Atomic uint64_t mark_counter;

static uint64_t next_mark(void)
{
    return ++mark_counter;
}

static const char *const tx_sql_writer[TX_COUNT] = {
    [TX_BEGIN] = "BEGIN IMMEDIATE",
    [TX_COMMIT] = "COMMIT",
    [TX_ROLLBACK] = "ROLLBACK",
    [TX_SAVEPOINT] = "SAVEPOINT lt_write",
    [TX_RELEASE] = "RELEASE SAVEPOINT lt_write",
    [TX_ROLLBACK_TO] = "ROLLBACK TO SAVEPOINT lt_write",
};

static const char *const tx_sql_reader[TX_COUNT] = {
    [TX_BEGIN] = "BEGIN",
    [TX_COMMIT] = "COMMIT",
    [TX_ROLLBACK] = "ROLLBACK",
};

/* Map an extended SQLite result code to ours. */
static enum lt_code code_of(int rc)
{
    switch (rc & 0xff) {
    case SQLITE_CONSTRAINT:
        if (rc == SQLITE_CONSTRAINT_UNIQUE || rc == SQLITE_CONSTRAINT_PRIMARYKEY ||
            rc == SQLITE_CONSTRAINT_ROWID) {
            return LT_ECONFLICT;
        }
        return LT_EINVAL;
    case SQLITE_TOOBIG:
        return LT_ETOOBIG;
    case SQLITE_RANGE:
    case SQLITE_MISUSE:
    case SQLITE_AUTH:
        return LT_EINTERNAL;
    default:
        return LT_EIO;
    }
}

/* Fill err from the connection's last failure (call before any reset). */
static enum lt_code db_error(struct store_conn *c, int rc, const char *what, const char *sql,
                             struct lt_error *err)
{
    enum lt_code code = code_of(rc);
    const char *msg = sqlite3_errmsg(c->db);
    const char *constraint = strstr(msg, "failed: ");

    if ((rc & 0xff) == SQLITE_NOTADB) {
        lt_error_set(err, LT_EIO, "\"%s\" is not a lienthong database", c->store->path);
        lt_error_detail(err, "it is not an SQLite database (%s)", msg);
        lt_error_hint(err, "point --data at a node's data directory, or move the file away");
        return LT_EIO;
    }
    lt_error_set(err, code, "could not %s in \"%s\": %s", what, c->store->path, msg);
    if ((rc & 0xff) == SQLITE_CONSTRAINT && constraint != NULL) {
        lt_error_detail(err, "constraint %s; statement: %.*s", constraint + 8, SQL_QUOTE_MAX,
                        sql ? sql : "");
    } else if (sql != NULL) {
        lt_error_detail(err, "statement: %.*s", SQL_QUOTE_MAX, sql);
    }
    switch (rc & 0xff) {
    case SQLITE_FULL:
        lt_error_hint(err, "free some disk space, then try again");
        break;
    case SQLITE_BUSY:
    case SQLITE_LOCKED:
        lt_error_hint(err, "another process is writing: is a node running on this directory?");
        break;
    case SQLITE_AUTH:
        lt_error_hint(err,
                      "a write callback may not begin, commit or roll back: the store does that");
        break;
    default:
        break;
    }
    return code;
}

/* While a write callback runs, refuse statements that would end its transaction. */
static int authorize(void *arg, int action, const char *a, const char *b, const char *db,
                     const char *trigger)
{
    const struct store_conn *c = arg;

    (void)a;
    (void)b;
    (void)db;
    (void)trigger;
    if (c->in_callback && (action == SQLITE_TRANSACTION || action == SQLITE_SAVEPOINT)) {
        return SQLITE_DENY;
    }
    return SQLITE_OK;
}

/* Reset every statement of c that is mid-result, ending its read snapshot. */
static void reset_all(struct store_conn *c)
{
    for (sqlite3_stmt *st = sqlite3_next_stmt(c->db, NULL); st != NULL;
         st = sqlite3_next_stmt(c->db, st)) {
        if (sqlite3_stmt_busy(st)) {
            sqlite3_reset(st);
        }
    }
}

static enum lt_code tx_run(struct store_conn *c, enum tx_stmt which, const char *what,
                           struct lt_error *err)
{
    sqlite3_stmt *st = c->tx[which];
    int rc = sqlite3_step(st);
    enum lt_code code = LT_OK;

    if (rc != SQLITE_DONE && rc != SQLITE_ROW) {
        code = db_error(c, rc, what, sqlite3_sql(st), err);
    }
    sqlite3_reset(st);
    return code;
}

static void conn_free(struct store_conn *c)
{
    if (c == NULL) {
        return;
    }
    for (size_t i = 0; i < c->nbuckets; i++) {
        struct store_stmt *st = c->buckets[i];

        while (st != NULL) {
            struct store_stmt *next = st->next;

            sqlite3_finalize(st->st);
            free(st->sql);
            free(st);
            st = next;
        }
    }
    for (int i = 0; i < TX_COUNT; i++) {
        sqlite3_finalize(c->tx[i]);
    }
    sqlite3_close_v2(c->db);
    free(c->buckets);
    free(c);
}

static enum lt_code conn_setup(struct store_conn *c, struct lt_error *err)
{
    const struct store_options *o = &c->store->opt;
    const char *const *tx = c->writer ? tx_sql_writer : tx_sql_reader;
    char pragmas[256];
    int rc;

    snprintf(pragmas, sizeof(pragmas),
             "PRAGMA cache_size = -%d; PRAGMA foreign_keys = ON; PRAGMA synchronous = %s;%s",
             c->writer ? o->writer_cache_kib : o->cache_kib, o->durable ? "FULL" : "NORMAL",
             c->writer ? "" : " PRAGMA query_only = ON;");
    rc = sqlite3_exec(c->db, pragmas, NULL, NULL, NULL);
    if (rc != SQLITE_OK) {
        return db_error(c, rc, "set up a connection", pragmas, err);
    }
    for (int i = 0; i < TX_COUNT; i++) {
        if (tx[i] == NULL) {
            continue;
        }
        rc = sqlite3_prepare_v3(c->db, tx[i], -1, SQLITE_PREPARE_PERSISTENT, &c->tx[i], NULL);
        if (rc != SQLITE_OK) {
            return db_error(c, rc, "prepare a transaction statement", tx[i], err);
        }
    }
    if (c->writer) {
        sqlite3_set_authorizer(c->db, authorize, c);
    }
    return LT_OK;
}

static enum lt_code conn_open(struct store *s, bool writer, struct store_conn **out,
                              struct lt_error *err)
{
    struct store_conn *c = xcalloc(1, sizeof(*c));
    int flags = SQLITE_OPEN_READWRITE | SQLITE_OPEN_NOMUTEX;
    int rc;

    if (writer && s->opt.create) {
        flags |= SQLITE_OPEN_CREATE;
    }
    c->store = s;
    c->writer = writer;
    c->nbuckets = 64;
    c->buckets = xcalloc(c->nbuckets, sizeof(*c->buckets));
    rc = sqlite3_open_v2(s->path, &c->db, flags, NULL);
    if (rc != SQLITE_OK) {
        lt_error_set(err, LT_EIO, "could not open database \"%s\": %s", s->path,
                     c->db ? sqlite3_errmsg(c->db) : sqlite3_errstr(rc));
        conn_free(c);
        return LT_EIO;
    }
    sqlite3_extended_result_codes(c->db, 1);
    sqlite3_busy_timeout(c->db, s->opt.busy_ms);
    if (conn_setup(c, err) != LT_OK) {
        conn_free(c);
        return err ? err->code : LT_EIO;
    }
    *out = c;
    return LT_OK;
}

/* Run a one-row, one-integer query (pragmas) outside the cache. */
static enum lt_code query_int(struct store_conn *c, const char *sql, int64_t *v,
                              struct lt_error *err)
{
    sqlite3_stmt *st = NULL;
    int rc = sqlite3_prepare_v2(c->db, sql, -1, &st, NULL);
    enum lt_code code = LT_OK;

    if (rc == SQLITE_OK) {
        rc = sqlite3_step(st);
    }
    if (rc == SQLITE_ROW) {
        *v = sqlite3_column_int64(st, 0);
    } else {
        code = db_error(c, rc, "read the database header", sql, err);
    }
    sqlite3_finalize(st);
    return code;
}

/* Refuse a file that is not a database, or that some other program made. */
static enum lt_code identify(struct store *s, struct lt_error *err)
{
    struct store_conn *c = s->writer;
    int64_t app = 0, tables = 0, version = 0;

    if (query_int(c, "PRAGMA application_id", &app, err) != LT_OK ||
        query_int(c, "PRAGMA user_version", &version, err) != LT_OK ||
        query_int(c, "SELECT count(*) FROM sqlite_master", &tables, err) != LT_OK) {
        return err ? err->code : LT_EIO;
    }
    if (app == APPLICATION_ID || (app == 0 && version == 0 && tables == 0)) {
        return LT_OK;
    }
    lt_error_set(err, LT_EIO, "\"%s\" is not a lienthong database", s->path);
    lt_error_detail(err, "it is an SQLite database of another program (id %lld, version %lld)",
                    (long long)app, (long long)version);
    lt_error_hint(err, "point --data at a node's data directory, or move the file away");
    return LT_EIO;
}

/*
 * WAL mode, set once in the file.  A new file first gets PAGE_SIZE pages
 * (a no-op for an existing one): events are rows of a few hundred bytes,
 * and larger pages made bulk appends about an eighth faster here.
 */
static enum lt_code set_wal(struct store *s, struct lt_error *err)
{
    struct store_conn *c = s->writer;
    sqlite3_stmt *st = NULL;
    char limit[64];
    int rc = sqlite3_exec(c->db, "PRAGMA page_size = " PAGE_SIZE, NULL, NULL, NULL);
    bool wal = false;

    if (rc == SQLITE_OK) {
        rc = sqlite3_prepare_v2(c->db, "PRAGMA journal_mode = WAL", -1, &st, NULL);
    }
    if (rc == SQLITE_OK) {
        rc = sqlite3_step(st);
    }
    if (rc == SQLITE_ROW) {
        const unsigned char *mode = sqlite3_column_text(st, 0);

        wal = mode != NULL && strcmp((const char *)mode, "wal") == 0;
        rc = SQLITE_OK;
    }
    if (rc != SQLITE_OK) {
        db_error(c, rc, "switch to WAL mode", "PRAGMA journal_mode = WAL", err);
        sqlite3_finalize(st);
        return LT_EIO;
    }
    sqlite3_finalize(st);
    if (!wal) {
        lt_error_set(err, LT_EIO, "could not switch \"%s\" to WAL mode", s->path);
        lt_error_hint(err, "keep the data directory on a local file system");
        return LT_EIO;
    }
    snprintf(limit, sizeof(limit), "PRAGMA journal_size_limit = %d", WAL_LIMIT_BYTES);
    rc = sqlite3_exec(c->db, limit, NULL, NULL, NULL);
    return rc == SQLITE_OK ? LT_OK : db_error(c, rc, "limit the WAL size", limit, err);
}

/* Bring the schema to the last step, all missing steps in one transaction. */
static enum lt_code migrate(struct store *s, struct lt_error *err)
{
    struct store_conn *c = s->writer;
    int64_t v = 0;
    char sql[96];
    enum lt_code rc;

    rc = query_int(c, "PRAGMA user_version", &v, err);
    if (rc == LT_OK) {
        rc = migrations_check((int)v, s->nsteps, s->path, err);
    }
    if (rc != LT_OK || (size_t)v == s->nsteps) {
        s->version = (int)v;
        return rc;
    }

    rc = tx_run(c, TX_BEGIN, "begin the schema migration", err);
    if (rc != LT_OK) {
        return rc;
    }
    /* Another process may have migrated while we waited for the lock. */
    rc = query_int(c, "PRAGMA user_version", &v, err);
    if (rc == LT_OK) {
        rc = migrations_check((int)v, s->nsteps, s->path, err);
    }
    if (rc == LT_OK) {
        rc = migrations_run(c, (int)v, s->steps, s->nsteps, err);
    }
    if (rc == LT_OK) {
        snprintf(sql, sizeof(sql), "PRAGMA user_version = %zu; PRAGMA application_id = %d;",
                 s->nsteps, APPLICATION_ID);
        rc = store_exec(c, sql, err);
    }
    if (rc == LT_OK) {
        rc = tx_run(c, TX_COMMIT, "commit the schema migration", err);
    }
    if (rc != LT_OK) {
        tx_run(c, TX_ROLLBACK, "roll back the schema migration", NULL);
        return rc;
    }
    s->version = (int)s->nsteps;
    return LT_OK;
}

/* Every callback from first up to (not including) stop failed with err. */
static void fail_range(struct write_req *first, struct write_req *stop, enum lt_code code,
                       const struct lt_error *why)
{
    for (struct write_req *r = first; r != stop; r = r->next) {
        if (r->rc == LT_OK) {
            *r->err = *why;
            r->err->code = code;
            r->rc = code;
        }
    }
}

/* Make sure a failed callback's error says something. */
static void fill_error(struct lt_error *err, enum lt_code rc)
{
    if (err->message[0] == '\0') {
        lt_error_set(err, rc, "write failed (%s)", lt_code_name(rc));
    }
    err->code = rc;
}

/* Run one callback in the open transaction; on failure undo just its work. */
static void run_one(struct store *s, struct write_req *r, bool single)
{
    struct store_conn *c = s->writer;
    struct lt_error *err = r->err;
    enum lt_code rc;

    lt_error_clear(err);
    c->mark = next_mark();
    c->poisoned = false;
    c->nhooks = 0;
    if (!single && tx_run(c, TX_SAVEPOINT, "open a savepoint", err) != LT_OK) {
        r->rc = err->code;
        c->mark = 0;
        return;
    }

    c->in_callback = true;
    rc = r->fn(c, r->arg, err);
    for (int i = 0; i < c->nhooks && rc == LT_OK && !c->poisoned; i++) {
        rc = c->hooks[i].fn(c, c->hooks[i].arg, err);
    }
    c->in_callback = false;
    c->nhooks = 0;
    reset_all(c);

    if (sqlite3_get_autocommit(c->db)) {
        /* The database abandoned the transaction (I/O error, disk full). */
        if (rc == LT_OK) {
            lt_error_set(err, LT_EIO, "the database rolled back the write transaction in \"%s\"",
                         s->path);
            rc = LT_EIO;
        }
        fill_error(err, rc);
        r->rc = rc;
        c->mark = 0;
        return;
    }
    if (rc == LT_OK && c->poisoned) {
        rc = lt_error_set(err, LT_EINTERNAL,
                          "write rolled back: a step failed halfway and its error was dropped");
    }
    if (rc == LT_OK && !single) {
        rc = tx_run(c, TX_RELEASE, "release a savepoint", err);
    }
    if (rc != LT_OK) {
        fill_error(err, rc);
        if (single || tx_run(c, TX_ROLLBACK_TO, "roll back a savepoint", NULL) != LT_OK ||
            tx_run(c, TX_RELEASE, "release a savepoint", NULL) != LT_OK) {
            tx_run(c, TX_ROLLBACK, "roll back", NULL);
        }
    }
    r->rc = rc;
    c->mark = 0;
}

/*
 * Run a group of callbacks and commit once.  Callbacks whose transaction
 * the database abandoned are reported failed; the rest go on in a new one.
 */
static void run_group(struct store *s, struct write_req *group, size_t n, uint64_t *groups,
                      uint64_t *commits)
{
    struct store_conn *c = s->writer;
    struct write_req *first = group; /* the first callback of the open transaction */
    struct lt_error why;
    bool single = n == 1;

    for (struct write_req *r = group; r != NULL; r = r->next) {
        r->rc = LT_OK;
    }
    if (tx_run(c, TX_BEGIN, "begin a write transaction", &why) != LT_OK) {
        fail_range(group, NULL, why.code, &why);
        return;
    }
    (*groups)++;

    for (struct write_req *r = group; r != NULL; r = r->next) {
        run_one(s, r, single);
        if (!sqlite3_get_autocommit(c->db)) {
            continue;
        }
        lt_error_set(&why, LT_EIO, "write lost: \"%s\" rolled back its whole transaction", s->path);
        lt_error_detail(&why, "another write of the same group failed at the disk");
        if (!single) {
            fail_range(first, r, LT_EIO, &why);
        }
        first = r->next;
        if (first == NULL) {
            return;
        }
        if (tx_run(c, TX_BEGIN, "begin a write transaction", &why) != LT_OK) {
            fail_range(first, NULL, why.code, &why);
            return;
        }
        (*groups)++;
    }

    if (tx_run(c, TX_COMMIT, "commit", &why) != LT_OK) {
        tx_run(c, TX_ROLLBACK, "roll back", NULL);
        fail_range(first, NULL, LT_EIO, &why);
        return;
    }
    (*commits)++;
}

static void *writer_main(void *arg)
{
    struct store *s = arg;
    size_t group_max = (size_t)s->opt.group_max;

    pthread_mutex_lock(&s->mu);
    for (;;) {
        struct write_req *group, *last, *next;
        uint64_t groups = 0, commits = 0, failed = 0;
        size_t n = 1;

        while (s->head == NULL && !s->stopping) {
            pthread_cond_wait(&s->wake, &s->mu);
        }
        if (s->head == NULL) {
            break;
        }
        group = last = s->head;
        while (last->next != NULL && n < group_max) {
            last = last->next;
            n++;
        }
        s->head = last->next;
        if (s->head == NULL) {
            s->tail = NULL;
        }
        last->next = NULL;
        s->stats.queued -= n;
        pthread_mutex_unlock(&s->mu);

        run_group(s, group, n, &groups, &commits);

        pthread_mutex_lock(&s->mu);
        for (struct write_req *r = group; r != NULL; r = next) {
            next = r->next; /* r lives on its submitter's stack: read before waking it */
            failed += r->rc != LT_OK;
            r->done = true;
            pthread_cond_signal(&r->cond);
        }
        s->stats.writes += n;
        s->stats.failed += failed;
        s->stats.groups += groups;
        s->stats.commits += commits;
        if (n > s->stats.group_max) {
            s->stats.group_max = n;
        }
        if (commits > 0 && s->commit_fn != NULL) {
            s->commit_fn(s->commit_arg); /* under mu: it only signals */
        }
    }
    pthread_mutex_unlock(&s->mu);
    return NULL;
}

static void remove_db_files(const char *path)
{
    static const char *const suffixes[] = { "", "-wal", "-shm", "-journal" };
    char name[4096];

    for (size_t i = 0; i < sizeof(suffixes) / sizeof(suffixes[0]); i++) {
        snprintf(name, sizeof(name), "%s%s", path, suffixes[i]);
        unlink(name);
    }
}

static enum lt_code prepare_dir(const char *dir, bool create, struct lt_error *err)
{
    struct stat st;

    if (stat(dir, &st) == 0) {
        if (!S_ISDIR(st.st_mode)) {
            lt_error_set(err, LT_EIO, "data directory \"%s\" is not a directory", dir);
            return LT_EIO;
        }
        return LT_OK;
    }
    if (!create) {
        lt_error_set(err, LT_ENOTFOUND, "data directory \"%s\" does not exist", dir);
        lt_error_hint(err, "create a node there with: lienthong init --data %s --unit CODE", dir);
        return LT_ENOTFOUND;
    }
    if (mkdir(dir, 0700) != 0 && errno != EEXIST) {
        lt_error_set(err, LT_EIO, "could not create data directory \"%s\": %s", dir,
                     strerror(errno));
        return LT_EIO;
    }
    return LT_OK;
}

static void resolve_options(struct store *s, const struct store_options *o)
{
    if (o != NULL) {
        s->opt = *o;
    } else {
        store_options_default(&s->opt);
    }
    if (s->opt.readers <= 0) {
        s->opt.readers = DEFAULT_READERS;
    }
    if (s->opt.cache_kib <= 0) {
        s->opt.cache_kib = DEFAULT_CACHE_KIB;
    }
    if (s->opt.writer_cache_kib <= 0) {
        s->opt.writer_cache_kib = s->opt.cache_kib > DEFAULT_WRITER_CACHE_KIB
                                      ? s->opt.cache_kib
                                      : DEFAULT_WRITER_CACHE_KIB;
    }
    if (s->opt.group_max <= 0) {
        s->opt.group_max = DEFAULT_GROUP_MAX;
    }
    if (s->opt.busy_ms <= 0) {
        s->opt.busy_ms = DEFAULT_BUSY_MS;
    }
    if (s->opt.migrations != NULL) {
        s->steps = s->opt.migrations;
        s->nsteps = s->opt.nmigrations;
    } else {
        s->steps = migrations_builtin(&s->nsteps);
    }
}

/* The first reader; the others are opened as they are wanted (grow_pool). */
static enum lt_code open_readers(struct store *s, struct lt_error *err)
{
    enum lt_code rc;

    s->readers = xcalloc((size_t)s->opt.readers, sizeof(*s->readers));
    s->idle = xcalloc((size_t)s->opt.readers, sizeof(*s->idle));
    rc = conn_open(s, false, &s->readers[0], err);
    if (rc == LT_OK) {
        s->nreaders = 1;
        s->idle[s->nidle++] = s->readers[0];
    }
    return rc;
}

/*
 * With pool_mu held and no reader idle: open one more, without the lock.
 * NULL if it could not be opened; the pool then keeps the size it has.
 */
static struct store_conn *grow_pool(struct store *s)
{
    struct store_conn *c = NULL;
    struct lt_error err;
    enum lt_code rc;

    s->opening++;
    pthread_mutex_unlock(&s->pool_mu);
    rc = conn_open(s, false, &c, &err);
    pthread_mutex_lock(&s->pool_mu);
    s->opening--;
    if (rc != LT_OK) {
        log_warning("store", "reader %d of \"%s\" could not be opened, going on with %d: %s",
                    s->nreaders + 1, s->path, s->nreaders, err.message);
        s->opt.readers = s->nreaders + s->opening;
        return NULL;
    }
    s->readers[s->nreaders++] = c;
    return c;
}

/* Open the writer, check and migrate the file, open the readers, start the writer. */
static enum lt_code start(struct store *s, struct lt_error *err)
{
    enum lt_code rc = conn_open(s, true, &s->writer, err);

    if (rc == LT_OK) {
        rc = identify(s, err);
    }
    if (rc == LT_OK) {
        rc = set_wal(s, err);
    }
    if (rc == LT_OK) {
        rc = migrate(s, err);
    }
    if (rc == LT_OK) {
        rc = open_readers(s, err);
    }
    if (rc == LT_OK && pthread_create(&s->thread, NULL, writer_main, s) != 0) {
        rc = lt_error_set(err, LT_EIO, "could not start the writer thread of \"%s\"", s->path);
    }
    return rc;
}

/*
 * Process-wide settings, before SQLite is first used: no memory statistics,
 * which would take a global mutex on every allocation of every connection.
 */
static void configure_sqlite(void)
{
    sqlite3_config(SQLITE_CONFIG_MEMSTATUS, 0);
}

void store_options_default(struct store_options *o)
{
    memset(o, 0, sizeof(*o));
    o->durable = true;
    o->readers = DEFAULT_READERS;
    o->cache_kib = DEFAULT_CACHE_KIB;
    o->group_max = DEFAULT_GROUP_MAX;
    o->busy_ms = DEFAULT_BUSY_MS;
}

static enum lt_code writer_cache_fn(struct store_conn *c, void *arg, struct lt_error *err)
{
    return store_exec(c, arg, err);
}

enum lt_code store_set_cache(struct store *s, int reader_kib, int writer_kib, struct lt_error *err)
{
    char sql[64];
    enum lt_code rc = LT_OK;

    if (reader_kib <= 0 || writer_kib <= 0) {
        return lt_error_set(err, LT_EINVAL, "a page cache must be at least 1 KiB");
    }
    snprintf(sql, sizeof(sql), "PRAGMA cache_size = -%d", reader_kib);
    pthread_mutex_lock(&s->pool_mu);
    if (s->nidle != s->nreaders || s->opening > 0) {
        rc = lt_error_set(err, LT_EINTERNAL, "store_set_cache: %d readers are in use",
                          s->nreaders - s->nidle + s->opening);
    }
    for (int i = 0; rc == LT_OK && i < s->nreaders; i++) {
        int src = sqlite3_exec(s->readers[i]->db, sql, NULL, NULL, NULL);

        if (src != SQLITE_OK) {
            rc = db_error(s->readers[i], src, "set the page cache", sql, err);
        }
    }
    if (rc == LT_OK) {
        s->opt.cache_kib = reader_kib;
    }
    pthread_mutex_unlock(&s->pool_mu);
    if (rc != LT_OK) {
        return rc;
    }
    snprintf(sql, sizeof(sql), "PRAGMA cache_size = -%d", writer_kib);
    rc = store_write(s, writer_cache_fn, sql, err);
    if (rc == LT_OK) {
        s->opt.writer_cache_kib = writer_kib;
    }
    return rc;
}

bool store_exists(const char *dir)
{
    char path[4096];
    struct stat st;

    snprintf(path, sizeof(path), "%s/%s", dir, STORE_DB_NAME);
    return stat(path, &st) == 0 && S_ISREG(st.st_mode);
}

enum lt_code store_open(const char *dir, const struct store_options *o, struct store **out,
                        struct lt_error *err)
{
    static pthread_once_t once = PTHREAD_ONCE_INIT;
    struct store *s = xcalloc(1, sizeof(*s));
    size_t len = strlen(dir) + sizeof(STORE_DB_NAME) + 2;
    bool existed;
    enum lt_code rc;

    *out = NULL;
    pthread_once(&once, configure_sqlite);
    resolve_options(s, o);
    s->path = xmalloc(len);
    snprintf(s->path, len, "%s/%s", dir, STORE_DB_NAME);
    pthread_mutex_init(&s->mu, NULL);
    pthread_cond_init(&s->wake, NULL);
    pthread_mutex_init(&s->pool_mu, NULL);
    pthread_cond_init(&s->pool_cond, NULL);
    s->locks_ready = true;

    rc = prepare_dir(dir, s->opt.create, err);
    if (rc != LT_OK) {
        goto out;
    }
    existed = store_exists(dir);
    if (!existed && !s->opt.create) {
        rc = lt_error_set(err, LT_ENOTFOUND, "no database in \"%s\"", dir);
        lt_error_hint(err, "create a node there with: lienthong init --data %s --unit CODE", dir);
        goto out;
    }
    rc = start(s, err);
    if (rc == LT_OK) {
        s->thread_started = true;
        *out = s;
        return LT_OK;
    }
    /* Nothing half-made: a database this call created goes again. */
    if (!existed) {
        char *path = xstrdup(s->path);

        store_close(s);
        remove_db_files(path);
        free(path);
        return rc;
    }
out:
    store_close(s);
    return rc;
}

void store_close(struct store *s)
{
    if (s == NULL) {
        return;
    }
    if (s->thread_started) {
        pthread_mutex_lock(&s->mu);
        s->stopping = true;
        pthread_cond_signal(&s->wake);
        pthread_mutex_unlock(&s->mu);
        pthread_join(s->thread, NULL);
    }
    if (s->nidle != s->nreaders) {
        BUG("store_close: %d of %d readers of \"%s\" were not given back", s->nreaders - s->nidle,
            s->nreaders, s->path);
    }
    for (int i = 0; i < s->nreaders; i++) {
        conn_free(s->readers[i]);
    }
    conn_free(s->writer);
    if (s->locks_ready) {
        pthread_mutex_destroy(&s->mu);
        pthread_cond_destroy(&s->wake);
        pthread_mutex_destroy(&s->pool_mu);
        pthread_cond_destroy(&s->pool_cond);
    }
    free(s->readers);
    free(s->idle);
    free(s->path);
    free(s);
}

int store_schema_version(struct store *s)
{
    return s->version;
}

const char *store_path(const struct store *s)
{
    return s->path;
}

enum lt_code store_write(struct store *s, store_write_fn fn, void *arg, struct lt_error *err)
{
    struct write_req r;

    memset(&r, 0, sizeof(r));
    r.fn = fn;
    r.arg = arg;
    r.err = err != NULL ? err : &r.scratch;
    if (s->thread_started && pthread_equal(pthread_self(), s->thread)) {
        return lt_error_set(err, LT_EINTERNAL,
                            "store_write called from inside a write callback (a deadlock)");
    }
    pthread_cond_init(&r.cond, NULL);

    pthread_mutex_lock(&s->mu);
    if (s->stopping) {
        pthread_mutex_unlock(&s->mu);
        pthread_cond_destroy(&r.cond);
        return lt_error_set(err, LT_EUNAVAIL, "the store \"%s\" is closing", s->path);
    }
    if (s->tail != NULL) {
        s->tail->next = &r;
    } else {
        s->head = &r;
    }
    s->tail = &r;
    s->stats.queued++;
    pthread_cond_signal(&s->wake);
    while (!r.done) {
        pthread_cond_wait(&r.cond, &s->mu);
    }
    pthread_mutex_unlock(&s->mu);

    pthread_cond_destroy(&r.cond);
    return r.rc;
}

void store_poison(struct store_conn *c)
{
    c->poisoned = true;
}

enum lt_code store_on_success(struct store_conn *c, store_write_fn fn, void *arg,
                              struct lt_error *err)
{
    if (c->mark == 0) {
        return lt_error_set(err, LT_EINTERNAL, "store_on_success called outside a write");
    }
    for (int i = 0; i < c->nhooks; i++) {
        if (c->hooks[i].fn == fn && c->hooks[i].arg == arg) {
            return LT_OK;
        }
    }
    if (c->nhooks == STORE_HOOKS_MAX) {
        return lt_error_set(err, LT_EINTERNAL, "more than %d success hooks in one write",
                            STORE_HOOKS_MAX);
    }
    c->hooks[c->nhooks].fn = fn;
    c->hooks[c->nhooks].arg = arg;
    c->nhooks++;
    return LT_OK;
}

uint64_t store_txn_mark(const struct store_conn *c)
{
    return c->mark;
}

struct store_conn *store_reader_get(struct store *s)
{
    struct store_conn *c;

    pthread_mutex_lock(&s->pool_mu);
    while (s->nidle == 0) {
        if (s->nreaders + s->opening < s->opt.readers && (c = grow_pool(s)) != NULL) {
            pthread_mutex_unlock(&s->pool_mu);
            return c;
        }
        if (s->nidle == 0) {
            pthread_cond_wait(&s->pool_cond, &s->pool_mu);
        }
    }
    c = s->idle[--s->nidle];
    pthread_mutex_unlock(&s->pool_mu);
    return c;
}

void store_reader_put(struct store *s, struct store_conn *c)
{
    if (c == NULL) {
        return;
    }
    if (c->writer || c->store != s) {
        BUG("store_reader_put: a connection that is not a reader of \"%s\"", s->path);
    }
    reset_all(c);
    if (!sqlite3_get_autocommit(c->db)) {
        tx_run(c, TX_ROLLBACK, "end a read transaction", NULL);
    }
    pthread_mutex_lock(&s->pool_mu);
    s->idle[s->nidle++] = c;
    pthread_cond_signal(&s->pool_cond);
    pthread_mutex_unlock(&s->pool_mu);
}

enum lt_code store_read(struct store *s, store_write_fn fn, void *arg, struct lt_error *err)
{
    struct store_conn *c = store_reader_get(s);
    enum lt_code rc;

    rc = tx_run(c, TX_BEGIN, "begin a read transaction", err);
    if (rc == LT_OK) {
        rc = fn(c, arg, err);
        reset_all(c);
        if (tx_run(c, TX_COMMIT, "end a read transaction", rc == LT_OK ? err : NULL) != LT_OK &&
            rc == LT_OK) {
            rc = err != NULL ? err->code : LT_EIO;
        }
    }
    store_reader_put(s, c);
    return rc;
}

void store_on_commit(struct store *s, store_commit_fn fn, void *arg)
{
    pthread_mutex_lock(&s->mu);
    s->commit_fn = fn;
    s->commit_arg = arg;
    pthread_mutex_unlock(&s->mu);
}

void store_stats(struct store *s, struct store_stats *out)
{
    pthread_mutex_lock(&s->mu);
    *out = s->stats;
    pthread_mutex_unlock(&s->mu);
    pthread_mutex_lock(&s->pool_mu);
    out->readers = (uint64_t)s->nreaders;
    pthread_mutex_unlock(&s->pool_mu);
}

/*
 * The cache key: the length and the two ends of the SQL text, which is
 * enough to spread a fixed set of statements (equal keys are then compared
 * in full) without hashing long texts on every prepare.
 */
static uint32_t sql_hash(const char *sql, size_t len)
{
    size_t edge = len < 32 ? len : 32;
    uint32_t h = strmap_hash(sql, edge) ^ (uint32_t)len * 2654435761u;

    return h ^ strmap_hash(sql + len - edge, edge) * 16777619u;
}

static void cache_grow(struct store_conn *c)
{
    size_t n = c->nbuckets * 2;
    struct store_stmt **b = xcalloc(n, sizeof(*b));

    for (size_t i = 0; i < c->nbuckets; i++) {
        struct store_stmt *st = c->buckets[i];

        while (st != NULL) {
            struct store_stmt *next = st->next;

            st->next = b[st->hash & (n - 1)];
            b[st->hash & (n - 1)] = st;
            st = next;
        }
    }
    free(c->buckets);
    c->buckets = b;
    c->nbuckets = n;
}

static size_t recent_slot(const char *sql)
{
    return ((uintptr_t)sql >> 4) % RECENT_SLOTS;
}

/* Hand out a cached statement, reset and unbound. */
static enum lt_code reuse(struct store_conn *c, struct store_stmt *st, const char *sql,
                          struct store_stmt **out)
{
    sqlite3_reset(st->st);
    sqlite3_clear_bindings(st->st);
    st->bind_rc = SQLITE_OK;
    st->ptr = sql;
    c->recent[recent_slot(sql)] = st;
    *out = st;
    return LT_OK;
}

enum lt_code store_prepare(struct store_conn *c, const char *sql, struct store_stmt **out,
                           struct lt_error *err)
{
    struct store_stmt *st = c->recent[recent_slot(sql)];
    size_t len;
    uint32_t h;
    sqlite3_stmt *raw = NULL;
    const char *tail = NULL;
    int rc;

    if (st != NULL && st->ptr == sql && memcmp(st->sql, sql, st->len + 1) == 0) {
        return reuse(c, st, sql, out);
    }
    len = strlen(sql);
    h = sql_hash(sql, len);
    for (st = c->buckets[h & (c->nbuckets - 1)]; st != NULL; st = st->next) {
        if (st->hash == h && memcmp(st->sql, sql, len + 1) == 0) {
            return reuse(c, st, sql, out);
        }
    }

    rc = sqlite3_prepare_v3(c->db, sql, (int)len, SQLITE_PREPARE_PERSISTENT, &raw, &tail);
    if (rc != SQLITE_OK) {
        /* SQL the schema does not accept is a bug of ours, not of the input. */
        db_error(c, rc, "prepare a statement", sql, err);
        if (err != NULL) {
            err->code = LT_EINTERNAL;
        }
        return LT_EINTERNAL;
    }
    while (tail != NULL && (*tail == ' ' || *tail == '\n' || *tail == '\t' || *tail == ';')) {
        tail++;
    }
    if (raw == NULL || (tail != NULL && *tail != '\0')) {
        sqlite3_finalize(raw);
        lt_error_set(err, LT_EINTERNAL, "store_prepare needs exactly one statement");
        lt_error_detail(err, "statement: %.*s", SQL_QUOTE_MAX, sql);
        return LT_EINTERNAL;
    }

    st = xcalloc(1, sizeof(*st));
    st->st = raw;
    st->conn = c;
    st->sql = xstrndup(sql, len);
    st->len = len;
    st->ptr = sql;
    st->hash = h;
    c->recent[recent_slot(sql)] = st;
    st->next = c->buckets[h & (c->nbuckets - 1)];
    c->buckets[h & (c->nbuckets - 1)] = st;
    if (++c->nstmts > c->nbuckets) {
        cache_grow(c);
    }
    *out = st;
    return LT_OK;
}

static void bind_check(struct store_stmt *st, int i, int rc)
{
    if (rc != SQLITE_OK && st->bind_rc == SQLITE_OK) {
        st->bind_rc = rc;
        st->bind_index = i;
    }
}

void store_bind_text(struct store_stmt *st, int i, const char *s)
{
    if (s == NULL) {
        bind_check(st, i, sqlite3_bind_null(st->st, i));
        return;
    }
    store_bind_textn(st, i, s, strlen(s));
}

void store_bind_textn(struct store_stmt *st, int i, const char *s, size_t len)
{
    if (s == NULL) {
        bind_check(st, i, sqlite3_bind_null(st->st, i));
        return;
    }
    bind_check(st, i, sqlite3_bind_text64(st->st, i, s, len, SQLITE_TRANSIENT, SQLITE_UTF8));
}

void store_bind_text_static(struct store_stmt *st, int i, const char *s, size_t len)
{
    if (s == NULL) {
        bind_check(st, i, sqlite3_bind_null(st->st, i));
        return;
    }
    bind_check(st, i, sqlite3_bind_text64(st->st, i, s, len, SQLITE_STATIC, SQLITE_UTF8));
}

void store_bind_blob_static(struct store_stmt *st, int i, const void *p, size_t len)
{
    if (p == NULL) {
        bind_check(st, i, sqlite3_bind_null(st->st, i));
        return;
    }
    bind_check(st, i, sqlite3_bind_blob64(st->st, i, p, len, SQLITE_STATIC));
}

void store_bind_int(struct store_stmt *st, int i, int64_t v)
{
    bind_check(st, i, sqlite3_bind_int64(st->st, i, v));
}

void store_bind_real(struct store_stmt *st, int i, double v)
{
    bind_check(st, i, sqlite3_bind_double(st->st, i, v));
}

void store_bind_blob(struct store_stmt *st, int i, const void *p, size_t len)
{
    if (p == NULL) {
        bind_check(st, i, sqlite3_bind_null(st->st, i));
        return;
    }
    bind_check(st, i, sqlite3_bind_blob64(st->st, i, p, len, SQLITE_TRANSIENT));
}

void store_bind_null(struct store_stmt *st, int i)
{
    bind_check(st, i, sqlite3_bind_null(st->st, i));
}

enum store_step store_step(struct store_stmt *st, struct lt_error *err)
{
    int rc;

    if (st->bind_rc != SQLITE_OK) {
        lt_error_set(err, code_of(st->bind_rc) == LT_ETOOBIG ? LT_ETOOBIG : LT_EINTERNAL,
                     "could not bind parameter %d in \"%s\": %s", st->bind_index,
                     st->conn->store->path, sqlite3_errstr(st->bind_rc));
        lt_error_detail(err, "statement: %.*s", SQL_QUOTE_MAX, st->sql);
        return STORE_ERROR;
    }
    rc = sqlite3_step(st->st);
    if (rc == SQLITE_ROW) {
        return STORE_ROW;
    }
    if (rc == SQLITE_DONE) {
        return STORE_DONE;
    }
    db_error(st->conn, rc, "run a statement", st->sql, err);
    sqlite3_reset(st->st);
    return STORE_ERROR;
}

enum lt_code store_exec_stmt(struct store_stmt *st, struct lt_error *err)
{
    enum store_step r = store_step(st, err);

    if (r == STORE_ERROR) {
        return err != NULL ? err->code : LT_EIO;
    }
    sqlite3_reset(st->st);
    return LT_OK;
}

enum lt_code store_exec(struct store_conn *c, const char *sql, struct lt_error *err)
{
    int rc = sqlite3_exec(c->db, sql, NULL, NULL, NULL);

    if (rc != SQLITE_OK) {
        return db_error(c, sqlite3_extended_errcode(c->db), "run SQL", sql, err);
    }
    return LT_OK;
}

bool store_col_null(struct store_stmt *st, int i)
{
    return sqlite3_column_type(st->st, i) == SQLITE_NULL;
}

const char *store_col_text(struct store_stmt *st, int i)
{
    const unsigned char *s = sqlite3_column_text(st->st, i);

    return s != NULL ? (const char *)s : "";
}

size_t store_col_bytes(struct store_stmt *st, int i)
{
    return (size_t)sqlite3_column_bytes(st->st, i);
}

int64_t store_col_int(struct store_stmt *st, int i)
{
    return sqlite3_column_int64(st->st, i);
}

double store_col_real(struct store_stmt *st, int i)
{
    return sqlite3_column_double(st->st, i);
}

const void *store_col_blob(struct store_stmt *st, int i)
{
    return sqlite3_column_blob(st->st, i);
}

int64_t store_changes(struct store_conn *c)
{
    return sqlite3_changes64(c->db);
}
