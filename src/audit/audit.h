/*
 * audit.h - the audit trail: who read which record, when, from where and
 * under which purpose.
 *
 * Design note.  Every read of a person's, parcel's or business's record
 * (and every list, search and export that returns them) is one access:
 * an actor (account, role, unit), a client address, a purpose, an action
 * ("read", "read_as_of", "history", "list", "search", "export") and the
 * records it returned (kind, key and the person each is about).  A read
 * must not wait for a durable write, so audit_record only appends the
 * access to an in-memory queue.  A flusher thread takes the queue every
 * flush_ms (150 ms by default) and writes it with one store_write as
 * events of type "audit.read" on the entity "audit/<origin>" (the
 * entity's version numbers the batches), each body listing at most
 * AUDIT_EVENT_ACCESSES accesses.  Being events, accesses are durable at
 * that point, hash-chained, signed when pushed and replicated upward by
 * sync like any change; a parent projects them with audit_apply_event.
 *
 * The projection, table audit_log (one row per access and record, indexed
 * by the person a record is about for the citizen's access log, by record
 * and by actor for the auditor), is brought up to this node's own events
 * every project_ms (5 s by default) rather than at each flush: its person
 * index takes inserts all over, and a commit writes each page it dirtied
 * once, so fewer, larger projections cost a good deal less.  audit_state
 * remembers the log position projected; at start (audit_new) the events
 * written after it, which a crash left unprojected, are projected.
 *
 * What can be lost: accesses still in the queue when the process dies
 * (kill -9, power loss): at most one flush interval.  audit_record
 * refuses (LT_ELIMIT) once AUDIT_QUEUE_MAX accesses wait, so that a
 * stalled writer never lets reads go unrecorded.
 *
 * A law-enforcement access (purpose "law-enforcement:<reference>") may be
 * sealed until a day: it is recorded like the others and shown to the
 * auditor, but left out of the data subject's access log before that day.
 *
 * Threads: audit_record may be called from any thread; the rest from one.
 */
#ifndef LT_AUDIT_H
#define LT_AUDIT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <jansson.h>

#include "core/error.h"
#include "evlog/evlog.h"
#include "store/store.h"

#define AUDIT_PURPOSE_MAX    200 /* bytes of a purpose */
#define AUDIT_ACTOR_MAX      64
#define AUDIT_UNIT_MAX       16
#define AUDIT_CLIENT_MAX     48
#define AUDIT_KEY_MAX        64
#define AUDIT_QUEUE_MAX      200000 /* accesses waiting for the flusher */
#define AUDIT_EVENT_ACCESSES 256    /* accesses in one audit.read event */
#define AUDIT_EVENT_TYPE     "audit.read"
#define AUDIT_LAW_PREFIX     "law-enforcement:"
#define AUDIT_SEAL_YEARS_MAX 10

/* The schema step of the audit projection (store/migrations.c). */
extern const char audit_schema_sql[];

/* One record an access returned, and the person it is about ("" if none). */
struct audit_subject {
    const char *kind;   /* "person", "residence", ..., or "export" scopes */
    const char *key;    /* the record key */
    const char *person; /* personal ID of the data subject, or "" / NULL */
};

/* One access, as handed to audit_record (all strings borrowed). */
struct audit_access {
    const char *actor;    /* account, or "anonymous", or "cli:<user>" */
    const char *role;     /* "clerk", ..., "none" */
    const char *unit;     /* the actor's jurisdiction, "" if none */
    const char *client;   /* the client address, "local" on the command line */
    const char *purpose;  /* checked by audit_purpose_check; "" when none was given */
    const char *action;   /* "read", "history", "list", "search", "export" */
    int32_t sealed_until; /* a day, or DATE_MIN: not sealed */
    const struct audit_subject *subjects;
    size_t nsubjects;
};

struct audit;

struct audit_options {
    int flush_ms;   /* events written every flush_ms; 0: 150 */
    int project_ms; /* audit_log brought up to them every project_ms; 0: 5000 */
};

/*
 * A recorder writing to the store s with log (both borrowed, must outlive
 * it), with its flusher thread started, after projecting this node's audit
 * events that a crash left unprojected.  LT_EIO if the thread cannot
 * start; the store's errors.
 */
enum lt_code audit_new(struct store *s, struct evlog *log, const struct audit_options *o,
                       struct audit **out, struct lt_error *err);

/* Flush what is queued, stop the flusher and free.  NULL ok. */
void audit_free(struct audit *a);

/*
 * Queue one access (copied).  LT_EINVAL for an access with no subject or
 * strings over their caps (a defect of the caller), LT_ELIMIT when
 * AUDIT_QUEUE_MAX accesses are waiting (the read must then be refused).
 */
enum lt_code audit_record(struct audit *a, const struct audit_access *acc, struct lt_error *err);

/*
 * Write what is queued now, as events and into audit_log, and wait for the
 * commit (tests, shutdown).  The store's error if a write failed: the
 * accesses then stay queued (or pending projection) for the next flush.
 */
enum lt_code audit_flush(struct audit *a, struct lt_error *err);

/* Accesses written so far and accesses waiting (for /metrics and tests). */
void audit_counts(struct audit *a, uint64_t *written, uint64_t *queued);

/*
 * Record one access and write it at once, durably, without a recorder
 * (the command line's export).  Errors of the store.
 */
enum lt_code audit_write_now(struct store *s, struct evlog *log, const struct audit_access *acc,
                             struct lt_error *err);

/*
 * Inside a write: project an event from another node if it is an
 * audit.read event; other events are ignored.  LT_EINVAL for a malformed
 * body.
 */
enum lt_code audit_apply_event(struct store_conn *c, const struct event *ev, struct lt_error *err);

/*
 * Check a purpose (the X-Purpose header): 1..AUDIT_PURPOSE_MAX bytes of
 * valid UTF-8 without control characters; "law-enforcement:" must be
 * followed by a reference.  LT_EINVAL naming the field "X-Purpose".
 */
enum lt_code audit_purpose_check(const char *purpose, struct lt_error *err);

/* True if purpose is a law-enforcement purpose ("law-enforcement:<ref>"). */
bool audit_purpose_is_law(const char *purpose);

/*
 * Check a seal (the X-Sealed-Until header, "YYYY-MM-DD") for purpose on
 * day today: only with a law-enforcement purpose, after today, at most
 * AUDIT_SEAL_YEARS_MAX years ahead.  *until is the day.  LT_EINVAL naming
 * "X-Sealed-Until".
 */
enum lt_code audit_seal_check(const char *header, const char *purpose, int32_t today,
                              int32_t *until, struct lt_error *err);

/* Queries of the projection (audit_query.c).  Pages go by row id. */

#define AUDIT_PAGE_DEFAULT 100
#define AUDIT_PAGE_MAX     1000

/* A filter for audit_query; empty strings and zero fields do not filter. */
struct audit_filter {
    const char *subject_kind;
    const char *subject_key;
    const char *person;
    const char *actor;
    int64_t from_ms, to_ms; /* [from, to); 0: open */
    int64_t after;          /* row id cursor; 0: from the start */
    size_t limit;           /* 1..AUDIT_PAGE_MAX */
    /* The data subject's view: rows sealed after this day are left out,
     * and the client address is not given.  DATE_MIN: the auditor's view. */
    int32_t subject_today;
    /* Keep a row only if this says so (jurisdiction); NULL keeps all. */
    bool (*keep)(const char *actor_unit, void *arg);
    void *keep_arg;
};

/*
 * Rows matching f in row order (oldest first), at most f->limit kept ones:
 * *page (new reference) is {"items": [...], "next": id|null}, each item
 * {id, time, actor, role, unit, client?, purpose, action, sealed_until?,
 * origin, record: {kind, key}}.  LT_EINVAL for a limit out of range.
 */
enum lt_code audit_query(struct store *s, const struct audit_filter *f, json_t **page,
                         struct lt_error *err);

/*
 * Every row matching f (limit ignored) as NDJSON lines, the shape of
 * audit_query's items, one fn call per line (line without "\n").  Stops
 * at fn's first error.
 */
typedef enum lt_code (*audit_line_fn)(const char *line, size_t len, void *arg,
                                      struct lt_error *err);
enum lt_code audit_export(struct store *s, const struct audit_filter *f, audit_line_fn fn,
                          void *arg, struct lt_error *err);

/* Milliseconds since the epoch of a day's start (UTC+7, Vietnam's day), for from/to. */
int64_t audit_day_start_ms(int32_t day);

#endif
