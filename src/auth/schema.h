/*
 * schema.h - the tables of accounts and sessions (one migration step).
 *
 * Design note.  Accounts and sessions are a node's own state: they are not
 * events and are not replicated, since each node authenticates the people
 * who use it.
 *
 *   accounts  one row per login name: the argon2id hash string (which
 *             carries its own salt and cost), the role, the jurisdiction
 *             unit, a citizen's personal ID, who made it and when, and when
 *             it was disabled (NULL while active)
 *   sessions  one row per bearer token, keyed by the BLAKE2b hash of the
 *             token (the token itself is never stored), with the hash of
 *             its CSRF value, its expiry and its revocation time
 */
#ifndef LT_AUTH_SCHEMA_H
#define LT_AUTH_SCHEMA_H

extern const char auth_schema_sql[];

#endif
