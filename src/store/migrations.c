/*
 * migrations.c - the steps of the schema, and running the missing ones.
 *
 * Design note.  Version N of the schema is what the first N steps of
 * steps[] below create.  The backend reads the version recorded in the
 * database, refuses one newer than len(steps), and runs the missing steps in
 * one transaction together with recording the new version, so a database is
 * always at exactly one version: a step that fails leaves it where it was.
 *
 * Adding a step (a registry's tables, a new index) is one line at the end
 * of steps[]:
 *
 *     { "people registry", registry_people_sql },
 *
 * where the SQL text may live with its owner (declare it in that module's
 * header and include the header here).  Never edit or reorder a step that
 * has shipped: databases in the field are at its version already.  The SQL
 * must be portable (see store.h): plain types, no SQLite-only syntax such
 * as AUTOINCREMENT or WITHOUT ROWID, every statement ending in ";".
 */
#include "store/migrations.h"

#include <stdio.h>
#include <string.h>

#include "auth/schema.h"
#include "oss/schema.h"
#include "audit/audit.h"
#include "registry/schema.h"
#include "sync/schema.h"
#include "core/banned.h"

/*
 * Version 1: the event log (src/evlog/evlog.h).
 *
 * events: one row per event, numbered in local log order by pos (always
 * given by the writer, never generated).  (origin, seq) is an event's
 * identity across the tree.  prev_hash is NULL for an origin's first event;
 * sig is NULL until the sync layer signs events.  version is the entity's
 * version after the event in this node's log.
 *
 * entity_versions: each entity's current version and the position of its
 * last event (optimistic concurrency without scanning the log).
 *
 * origin_heads: the last event of each origin in this log, the link the
 * next event of that origin must carry; hlc lets the clock resume after a
 * restart without going backwards.
 *
 * node: this node's identity (one row).
 */
static const char evlog_v1_sql[] = "CREATE TABLE node ("
                                   " id INTEGER PRIMARY KEY CHECK (id = 1),"
                                   " origin TEXT NOT NULL,"
                                   " unit TEXT NOT NULL,"
                                   " created_ms INTEGER NOT NULL);"
                                   "CREATE TABLE events ("
                                   " pos INTEGER PRIMARY KEY,"
                                   " origin TEXT NOT NULL,"
                                   " seq INTEGER NOT NULL,"
                                   " hlc INTEGER NOT NULL,"
                                   " actor TEXT NOT NULL,"
                                   " type TEXT NOT NULL,"
                                   " entity TEXT NOT NULL,"
                                   " base_version INTEGER NOT NULL,"
                                   " version INTEGER NOT NULL,"
                                   " effective INTEGER NOT NULL,"
                                   " cause TEXT NOT NULL,"
                                   " body TEXT NOT NULL,"
                                   " prev_hash BLOB,"
                                   " hash BLOB NOT NULL,"
                                   " sig BLOB,"
                                   " UNIQUE (origin, seq));"
                                   "CREATE INDEX events_entity ON events (entity, pos);"
                                   "CREATE TABLE entity_versions ("
                                   " entity TEXT PRIMARY KEY,"
                                   " version INTEGER NOT NULL,"
                                   " pos INTEGER NOT NULL);"
                                   "CREATE TABLE origin_heads ("
                                   " origin TEXT PRIMARY KEY,"
                                   " seq INTEGER NOT NULL,"
                                   " hash BLOB NOT NULL,"
                                   " hlc INTEGER NOT NULL,"
                                   " pos INTEGER NOT NULL);";

/*
 * Version 7: events pulled down from the parent (evlog_apply_pulled).  A
 * node holds only the part of an outside origin's chain that concerns it,
 * so those events are marked: they are never pushed back up and are not
 * checked as links of a chain.  parent is the origin they came from.
 */
static const char evlog_pulled_sql[] = "CREATE TABLE pulled_events ("
                                       " pos INTEGER PRIMARY KEY,"
                                       " parent TEXT NOT NULL);";

/* Append new steps at the end, one line each; never edit a shipped one. */
static const struct migration steps[] = {
    { "event log", evlog_v1_sql },         { "registries", registry_schema_sql },
    { "sync", sync_schema_sql },           { "accounts and sessions", auth_schema_sql },
    { "one-stop shop", oss_schema_sql },   { "audit trail", audit_schema_sql },
    { "pulled events", evlog_pulled_sql }, { "pull cursors", sync_pull_schema_sql },
};

const struct migration *migrations_builtin(size_t *n)
{
    *n = sizeof(steps) / sizeof(steps[0]);
    return steps;
}

enum lt_code migrations_check(int current, size_t n, const char *path, struct lt_error *err)
{
    if (current < 0) {
        lt_error_set(err, LT_EINVAL, "database \"%s\" has a negative schema version (%d)", path,
                     current);
        lt_error_hint(err, "the file was not made by lienthong; restore it from a backup");
        return LT_EINVAL;
    }
    if ((size_t)current > n) {
        lt_error_set(err, LT_EINVAL, "database \"%s\" is newer than this program", path);
        lt_error_detail(err, "its schema is at version %d, this program knows versions up to %zu",
                        current, n);
        lt_error_hint(err, "run a newer lienthong on it; nothing was changed");
        return LT_EINVAL;
    }
    return LT_OK;
}

enum lt_code migrations_run(struct store_conn *c, int current, const struct migration *list,
                            size_t n, struct lt_error *err)
{
    struct lt_error why;

    for (size_t i = (size_t)current; i < n; i++) {
        if (store_exec(c, list[i].sql, &why) != LT_OK) {
            lt_error_set(err, LT_EINVAL, "could not migrate the database to version %zu (%s)",
                         i + 1, list[i].name);
            lt_error_detail(err, "%s", why.message);
            lt_error_hint(err, "nothing was changed; the database stays at version %d", current);
            return LT_EINVAL;
        }
    }
    return LT_OK;
}
