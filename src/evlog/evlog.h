/*
 * evlog.h - the event log, the source of truth of a node.
 *
 * Design note.  Every change to a registry is an event; registry tables are
 * projections updated in the same transaction as the append.  An event has
 * an identity everywhere, (origin, seq): the node that made it and its
 * number in that node's sequence, unique across the tree, so applying an
 * event twice changes nothing.  Each origin's events form a hash chain: an
 * event carries the hash of the same origin's previous event, and its own
 * hash covers its bytes and that link (BLAKE2b-256 from libsodium).  A
 * signature field is kept for the sync layer, which signs events with the
 * origin's Ed25519 key.
 *
 * A node also numbers events in its own log order (pos); that position is
 * the cursor a parent acknowledges.  Time is a hybrid logical clock:
 * milliseconds since the epoch shifted left 16 bits, plus a counter, so that
 * it never goes backwards on one node and orders causally across nodes.
 *
 * Entities ("person/001085012345", "parcel/00004-12-345") carry a version,
 * bumped by each event about them.  An event names the version it was based
 * on; a stale base is refused (LT_ECONFLICT with the current version), which
 * gives optimistic concurrency to every writer.
 *
 * The body of a registry event holds the whole record after the change, so
 * the record as of any date is the body of its last event effective on or
 * before that date, and its history is the list of its events.
 *
 * All functions taking a struct store_conn run inside the caller's
 * transaction: appends inside a store_write callback, reads inside
 * store_read or on a reader.
 */
#ifndef LT_EVLOG_H
#define LT_EVLOG_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "core/error.h"
#include "store/store.h"

#define EVLOG_ORIGIN_MAX 40
#define EVLOG_ACTOR_MAX  64
#define EVLOG_TYPE_MAX   48
#define EVLOG_ENTITY_MAX 96
#define EVLOG_CAUSE_MAX  96
#define EVLOG_HASH_BYTES 32
#define EVLOG_SIG_BYTES  64
#define EVLOG_BODY_MAX   (256 * 1024)

struct event {
    int64_t pos; /* local log position; set by the append */
    char origin[EVLOG_ORIGIN_MAX];
    int64_t seq;
    int64_t hlc;
    char actor[EVLOG_ACTOR_MAX];   /* who: an account, "import", "system" */
    char type[EVLOG_TYPE_MAX];     /* "person.registered", "parcel.transferred" */
    char entity[EVLOG_ENTITY_MAX]; /* "person/001085012345" */
    int64_t base_version;          /* entity version it was based on; 0: new */
    int64_t version;               /* entity version after it; set by the append */
    int32_t effective;             /* day the change takes effect (core/date.h) */
    char cause[EVLOG_CAUSE_MAX];   /* legal cause: a dossier code, "import:people.csv" */
    char *body;                    /* JSON text: see event_release */
    uint8_t prev_hash[EVLOG_HASH_BYTES];
    uint8_t hash[EVLOG_HASH_BYTES];
    uint8_t sig[EVLOG_SIG_BYTES];
    bool has_prev;
    bool has_sig;
};

/*
 * Free the body of an event (the struct itself is the caller's).  Only for
 * events whose body the log allocated (evlog_as_of); an appended event's
 * body stays its caller's, and a callback's event is borrowed.
 */
void event_release(struct event *ev);

/*
 * Compute the hash of ev over its canonical bytes: every field above but
 * pos, version, hash and sig, and the link (has_prev, prev_hash).  The
 * encoding is unambiguous: a version tag, then each text as a 4-byte
 * big-endian length and its bytes, each number as 8 bytes big-endian, the
 * link as one byte 0 or 1 followed by the 32 bytes when 1.
 */
void event_hash(const struct event *ev, uint8_t out[EVLOG_HASH_BYTES]);

/* The wall-clock milliseconds part of a hybrid logical clock value. */
static inline int64_t evlog_hlc_ms(int64_t hlc)
{
    return hlc >> 16;
}

/* The node's own origin id and next clock; one per open store. */
struct evlog;

/*
 * Read the node's identity from the store (set by evlog_init_node) and
 * resume the clock after the latest event of the log.  One per open store:
 * it caches the log head for the write in progress.  LT_ENOTFOUND if the
 * database has no node identity.
 */
enum lt_code evlog_open(struct store *s, struct evlog **out, struct lt_error *err);
void evlog_free(struct evlog *log); /* NULL ok */

/*
 * Replace the wall clock (milliseconds since the epoch) the HLC reads; NULL
 * restores the real one.  For tests of a clock that jumps backwards.
 */
void evlog_set_clock(struct evlog *log, int64_t (*now_ms)(void *arg), void *arg);

/* This node's origin id. */
const char *evlog_origin(const struct evlog *log);

/* This node's unit code ("00004", "01", "VN"). */
const char *evlog_unit(const struct evlog *log);

/*
 * Inside a write: record the node's identity in a new database (used by
 * "lienthong init").  origin: letters, digits, "-", "_", "." (at most
 * EVLOG_ORIGIN_MAX - 1); unit: a unit code.  LT_ECONFLICT if the store
 * already has one, LT_EINVAL for a malformed origin or unit.
 */
enum lt_code evlog_init_node(struct store_conn *c, const char *origin, const char *unit,
                             struct lt_error *err);

/*
 * Inside a write: append an event originated here.  The caller fills actor,
 * type, entity, base_version, effective, cause and body; the append sets
 * origin, seq, hlc, prev_hash, has_prev, hash, pos and version (has_sig is
 * cleared).  LT_ECONFLICT if base_version is not the entity's current
 * version (the detail and *current, if not NULL, give the current one);
 * LT_ETOOBIG for a body over EVLOG_BODY_MAX; LT_EINVAL for a body that is
 * not JSON (jansson, duplicate keys refused), an empty actor, type, entity
 * or cause, a field that is not valid UTF-8 text or not NUL-terminated, or
 * an effective date outside 1900..2199; LT_EINTERNAL outside a store_write
 * callback.  On failure nothing is written (if a write fails halfway the
 * callback's savepoint is poisoned, see store_poison).
 */
enum lt_code evlog_append(struct evlog *log, struct store_conn *c, struct event *ev,
                          int64_t *current, struct lt_error *err);

/*
 * evlog_append for a body the caller made itself by dumping a JSON value
 * (json_dumps of a record it validated, as the registries do): the same
 * checks and writes, but the body is not parsed again to prove it is JSON,
 * which was most of an append's cost in a bulk import.  Its size and its
 * presence are still checked.  Never pass text that came from outside.
 */
enum lt_code evlog_append_trusted(struct evlog *log, struct store_conn *c, struct event *ev,
                                  int64_t *current, struct lt_error *err);

/*
 * Inside a write: apply an event from another node as it is (origin, seq,
 * hlc, hashes and signature kept); sets pos and version, and moves this
 * node's clock past ev->hlc.  Returns LT_OK and sets *applied false if
 * (origin, seq) is already in the log with the same hash; LT_ECONFLICT if
 * it is there with another hash (a forked chain).  LT_EINVAL if its hash
 * does not match its bytes, if it does not follow that origin's last event
 * here (seq must be the next one, prev_hash that event's hash; an origin's
 * first event has seq 1 and no link), or for fields as in evlog_append.
 * The entity version is not checked against base_version: the event is
 * applied (the chain must stay whole) and ev->version != base_version + 1
 * tells the caller it was based on a stale version, for the conflict inbox.
 */
enum lt_code evlog_apply_remote(struct evlog *log, struct store_conn *c, struct event *ev,
                                bool *applied, struct lt_error *err);

/*
 * Inside a write: apply an event pulled down from the parent whose origin
 * is parent, as evlog_apply_remote does (identity, hashes and signature
 * kept; a duplicate is dropped; another hash for the same (origin, seq) is
 * LT_ECONFLICT), except that a node holds only the part of an outside
 * origin's chain that concerns it: the event is not linked to the origin's
 * previous one here and no head is kept for that origin.  It is recorded
 * as pulled (table pulled_events), so that it is never pushed back up and
 * evlog_verify checks its hash alone.  LT_EINVAL for an event of this node,
 * or of an origin whose chain this log keeps whole (this node's subtree:
 * those only travel up).
 */
enum lt_code evlog_apply_pulled(struct evlog *log, struct store_conn *c, struct event *ev,
                                const char *parent, bool *applied, struct lt_error *err);

/*
 * The positions of pulled events after position after, rising, at most
 * limit of them (0: all), into *pos (the caller frees it) and *n.
 */
enum lt_code evlog_pulled_after(struct store_conn *c, int64_t after, size_t limit, int64_t **pos,
                                size_t *n, struct lt_error *err);

/* The current version of an entity (0 if none). */
enum lt_code evlog_entity_version(struct store_conn *c, const char *entity, int64_t *version,
                                  struct lt_error *err);

/*
 * Called for each event of a scan, history or verify; return non-OK to stop
 * (returned as is).  ev and its body are borrowed for the call.  The
 * callback may query the same connection, but not start another scan or
 * history on it.
 */
typedef enum lt_code (*evlog_event_fn)(const struct event *ev, void *arg, struct lt_error *err);

/* Every event of an entity, oldest first. */
enum lt_code evlog_history(struct store_conn *c, const char *entity, evlog_event_fn fn, void *arg,
                           struct lt_error *err);

/*
 * The last event of an entity effective on or before date, the latest
 * effective date first and log order between equal dates (body owned by
 * *out: event_release it).  LT_ENOTFOUND if there is none.
 */
enum lt_code evlog_as_of(struct store_conn *c, const char *entity, int32_t date, struct event *out,
                         struct lt_error *err);

/* Events with pos > after, in log order, at most limit of them (0: all). */
enum lt_code evlog_scan(struct store_conn *c, int64_t after, size_t limit, evlog_event_fn fn,
                        void *arg, struct lt_error *err);

/* The position of the last event (0 for an empty log). */
enum lt_code evlog_head(struct store_conn *c, int64_t *pos, struct lt_error *err);

/*
 * Check every origin's hash chain in the log: each event's hash against its
 * bytes, each link against the previous event of its origin, sequences
 * without gaps from 1, and the recorded heads against the chains' ends.
 * Pulled events (evlog_apply_pulled) are checked against their hash only.
 * *checked is the number of events checked.  LT_EINVAL naming the first
 * event (position, origin, seq) whose hash or link is wrong.  Run it on a
 * reader: inside a write callback this node's head is only recorded when
 * the callback succeeds.
 */
enum lt_code evlog_verify(struct store_conn *c, int64_t *checked, struct lt_error *err);

#endif
