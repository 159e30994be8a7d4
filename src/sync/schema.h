/*
 * schema.h - the tables of the sync layer (one migration step).
 *
 * Design note.  The sync layer keeps its own state next to the event log,
 * in the same database, so that a batch from a child, its acknowledgement
 * and the keys it teaches are committed in one transaction:
 *
 *   sync_self      this node's public key, its parent's URL and, once
 *                  enrolled, the parent's origin, unit and public key
 *   sync_upstream  per parent origin, the position of this log that parent
 *                  acknowledged (the outbox is the log after it)
 *   sync_keys      every origin whose events this node verifies: its unit,
 *                  its Ed25519 public key and the origin whose signed
 *                  enrolment event taught the key
 *   sync_children  the children enrolled here: the position of their log
 *                  acknowledged to them, what they reported at their last
 *                  contact, and counters for freshness reports
 *   sync_tokens    one-time enrolment tokens, stored as BLAKE2b hashes
 *
 * The secret key is not in the database: it lives in the file node.key of
 * the data directory, readable by its owner only (keys.h).
 */
#ifndef LT_SYNC_SCHEMA_H
#define LT_SYNC_SCHEMA_H

extern const char sync_schema_sql[];

/* The child's cursors in its parents' logs (pull.h), a later migration step. */
extern const char sync_pull_schema_sql[];

#endif
