/*
 * schema.c - the SQL of the sync tables (see schema.h for what each holds).
 *
 * Portable SQL only (store.h): plain types, keys given by the caller.
 * Times are milliseconds since the epoch (0: never); positions are log
 * positions (0: before the first event).
 */
#include "sync/schema.h"

#include "core/banned.h"

const char sync_schema_sql[] = "CREATE TABLE sync_self ("
                               " id INTEGER PRIMARY KEY CHECK (id = 1),"
                               " public_key BLOB NOT NULL,"
                               " parent_url TEXT,"
                               " parent_origin TEXT,"
                               " parent_unit TEXT,"
                               " parent_key BLOB,"
                               " enrolled_ms INTEGER NOT NULL);"
                               "CREATE TABLE sync_upstream ("
                               " parent_origin TEXT PRIMARY KEY,"
                               " acked INTEGER NOT NULL,"
                               " acked_ms INTEGER NOT NULL);"
                               "CREATE TABLE sync_keys ("
                               " origin TEXT PRIMARY KEY,"
                               " unit TEXT NOT NULL,"
                               " public_key BLOB NOT NULL,"
                               " enrolled_by TEXT NOT NULL,"
                               " learned_pos INTEGER NOT NULL);"
                               "CREATE TABLE sync_children ("
                               " origin TEXT PRIMARY KEY,"
                               " unit TEXT NOT NULL,"
                               " enrolled_ms INTEGER NOT NULL,"
                               " acked INTEGER NOT NULL,"
                               " reported_head INTEGER NOT NULL,"
                               " pending_ms INTEGER NOT NULL,"
                               " last_contact_ms INTEGER NOT NULL,"
                               " batches INTEGER NOT NULL,"
                               " events INTEGER NOT NULL,"
                               " duplicates INTEGER NOT NULL,"
                               " refused INTEGER NOT NULL,"
                               " last_refusal TEXT,"
                               " last_refusal_ms INTEGER NOT NULL);"
                               "CREATE TABLE sync_tokens ("
                               " token_hash BLOB PRIMARY KEY,"
                               " unit TEXT NOT NULL,"
                               " created_ms INTEGER NOT NULL,"
                               " expires_ms INTEGER NOT NULL,"
                               " used_by TEXT,"
                               " used_ms INTEGER NOT NULL);";

/*
 * sync_pull (pull.h): per parent origin, the position of the parent's log
 * this node has pulled up to (its cursor), when it moved, and how many
 * events were applied from it.  The events themselves are marked in
 * pulled_events (evlog).
 */
const char sync_pull_schema_sql[] = "CREATE TABLE sync_pull ("
                                    " parent_origin TEXT PRIMARY KEY,"
                                    " cursor INTEGER NOT NULL,"
                                    " pulled_ms INTEGER NOT NULL,"
                                    " events INTEGER NOT NULL);";
