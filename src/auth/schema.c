/*
 * schema.c - the SQL of accounts and sessions (see schema.h).
 */
#include "auth/schema.h"

#include "core/banned.h"

const char auth_schema_sql[] = "CREATE TABLE accounts ("
                               " name TEXT PRIMARY KEY,"
                               " password_hash TEXT NOT NULL,"
                               " role TEXT NOT NULL,"
                               " unit TEXT NOT NULL,"
                               " person_id TEXT,"
                               " created_ms INTEGER NOT NULL,"
                               " created_by TEXT NOT NULL,"
                               " disabled_ms INTEGER);"
                               "CREATE INDEX accounts_unit ON accounts (unit, name);"
                               "CREATE TABLE sessions ("
                               " token_hash BLOB PRIMARY KEY,"
                               " account TEXT NOT NULL,"
                               " csrf_hash BLOB NOT NULL,"
                               " client TEXT NOT NULL,"
                               " created_ms INTEGER NOT NULL,"
                               " expires_ms INTEGER NOT NULL,"
                               " revoked_ms INTEGER);"
                               "CREATE INDEX sessions_account ON sessions (account);";
