/*
 * migrations.h - the versioned schema of a node's database.
 *
 * The schema is a list of steps; step i (0-based) brings the database from
 * version i to version i + 1.  The database records the version it is at
 * (SQLite: PRAGMA user_version) and the backend runs every missing step in
 * one transaction when it opens the database; a database at a version this
 * program does not know is refused.  Steps are only ever appended: a step
 * that shipped is never edited, a change to it is a new step.
 */
#ifndef LT_MIGRATIONS_H
#define LT_MIGRATIONS_H

#include <stddef.h>

#include "core/error.h"
#include "store/store.h"

struct migration {
    const char *name; /* what the step adds, for messages: "event log" */
    const char *sql;  /* one or more portable statements, each ending in ";" */
};

/* The program's own steps; *n is set to their count (the latest version). */
const struct migration *migrations_builtin(size_t *n);

/*
 * Check that the database at path, at version current, can be brought to
 * version n.  LT_EINVAL (naming both versions) if it is newer.
 */
enum lt_code migrations_check(int current, size_t n, const char *path, struct lt_error *err);

/*
 * Run steps current+1 .. n on c, inside the caller's transaction (the
 * backend begins it, records the new version and commits).  LT_EINVAL
 * naming the step that failed; the caller rolls back.
 */
enum lt_code migrations_run(struct store_conn *c, int current, const struct migration *steps,
                            size_t n, struct lt_error *err);

#endif
