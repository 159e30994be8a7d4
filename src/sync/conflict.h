/*
 * conflict.h - the conflict inbox: changes from below that were based on a
 * stale version of a record.
 *
 * Design note.  An event a child pushes names the version of the entity it
 * was based on.  The parent applies every event whole to its log (relay
 * and exactly-once need it, and so does the origin's hash chain), so the
 * entity's version here counts it; evlog_apply_remote gives it version
 * current + 1, and an event whose version is not base_version + 1 was
 * based on a stale version: the child had not seen every change this node
 * holds about the record.  Such an event is "set aside" (event_set_aside):
 *
 *   - the registries keep the record they held (registry_apply_event only
 *     moves the row's version, which reads and changes name);
 *   - this module keeps both sides in a conflict: the record as this node
 *     held it, with the origin, seq, actor and version of the event that
 *     made it, and the incoming record, with its origin, seq, actor, the
 *     base version it named and its type;
 *   - the record is marked: a read names its open conflicts.
 *
 * A conflict's id is "<origin>:<seq>" of the first event set aside, the
 * same at every node.  Later events set aside for the same record from the
 * same origin, while its conflict is open, join it (the incoming side is
 * the latest of them); another origin opens its own.
 *
 * The centre receives the subtree's events in the order the province
 * logged them, so it counts the same versions and reaches the same
 * verdicts (a node that changed the record itself sees more conflicts:
 * its own change is a side too).
 *
 * An officer resolves a conflict with an ordinary registry change of type
 * "<kind>.conflict_resolved" whose cause is "conflict:<id>:<choice>"
 * (choice "held", "incoming" or "merged") and whose body is the record
 * chosen; it is based on the current version, so it is in force wherever
 * the resolver's log is the whole story, and goes up like any event.
 * Applied from below, it closes the conflict it names if that is open
 * here, which clears the mark at every ancestor.
 * XXX: nothing flows down yet, so the child never learns the outcome and its next change opens
 * a new conflict.
 *
 * Reads must find marks cheaply: the point read is the hottest path of
 * a node.  A process-wide count of conflicts that may be open (raised
 * inside the write that opens one, lowered only after the write that
 * closes one has committed) lets a read skip the look-up whenever it is
 * zero, which is nearly always.
 *
 * All functions taking a store_conn run inside the caller's transaction.
 */
#ifndef LT_SYNC_CONFLICT_H
#define LT_SYNC_CONFLICT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <jansson.h>

#include "core/error.h"
#include "evlog/evlog.h"
#include "registry/registry.h"
#include "store/store.h"

#define SYNC_CONFLICT_ID_MAX   (EVLOG_ORIGIN_MAX + 24) /* "<origin>:<seq>" */
#define SYNC_CONFLICT_VERB     "conflict_resolved"     /* type "<kind>.conflict_resolved" */
#define SYNC_CONFLICT_CAUSE    "conflict:"             /* cause "conflict:<id>:<choice>" */
#define SYNC_CONFLICT_LIST_MAX 500

/* What the events of a batch did to the inbox. */
struct sync_conflict_tally {
    size_t opened; /* new conflicts */
    size_t joined; /* events set aside into a conflict already open */
    size_t closed; /* conflicts closed by a resolution from below */
};

/*
 * Inside a write, after an event from elsewhere was applied to the log
 * (evlog_apply_remote) and projected (registry_apply_event): open or join
 * a conflict if ev was set aside; close the conflict a resolution names.
 * Other events change nothing.  Counts into *t (may be NULL).  Errors of
 * the store; LT_EINVAL for an incoming body that is not JSON.
 */
enum lt_code sync_conflict_note(struct store_conn *c, const struct event *ev,
                                struct sync_conflict_tally *t, struct lt_error *err);

/*
 * After the write in which sync_conflict_note closed n conflicts has
 * committed (not before: a read must never miss an open conflict).
 */
void sync_conflict_settled(size_t n);

/* The open conflicts in the store, counted (for /metrics). */
enum lt_code sync_conflict_count_open(struct store_conn *c, int64_t *n, struct lt_error *err);

/* At start: count the open conflicts of store s into the process-wide count. */
enum lt_code sync_conflict_load(struct store *s, struct lt_error *err);

/* Open conflicts in this process (at least; 0 means none). */
int64_t sync_conflict_open_count(void);

/*
 * The ids of the open conflicts about entity, oldest first (the first
 * 100), as a new array in *ids, or NULL when there is none (without
 * reading the store when no conflict is open in the process).
 */
enum lt_code sync_conflict_marks(struct store *s, const char *entity, json_t **ids,
                                 struct lt_error *err);

struct sync_conflict_query {
    const char *status; /* "open" (also NULL), "resolved" or "all" */
    const char *within; /* only conflicts about records inside this unit; NULL: all */
    int64_t after;      /* the "next" of the page before; 0: from the start */
    int limit;          /* 1..SYNC_CONFLICT_LIST_MAX */
};

/*
 * A page of conflicts, oldest first: *page (new reference) is
 * {"conflicts": [summary...], "next": cursor|null}.  A summary has the
 * sides without their records.  LT_EINVAL for an unknown status or limit.
 */
enum lt_code sync_conflict_list(struct node *n, const struct sync_conflict_query *q, json_t **page,
                                struct lt_error *err);

/*
 * One conflict with both records and the record as it is now ("current":
 * {version, record|null}), in *out (new reference).  LT_ENOTFOUND for an
 * unknown id; LT_EFORBIDDEN if within is not NULL and the record lies
 * outside it.
 */
enum lt_code sync_conflict_get(struct node *n, const char *id, const char *within, json_t **out,
                               struct lt_error *err);

/* An officer's decision. */
struct sync_resolution {
    const char *id;
    const char *choice;   /* "held": the record as this node holds it now; "incoming";
                           * "merged": record */
    const json_t *record; /* merged only (borrowed) */
    int64_t version;      /* the record's version the officer saw (current) */
    const char *actor;    /* the officer's account */
    const char *within;   /* the officer's jurisdiction; NULL: none (no accounts) */
};

/*
 * Resolve a conflict: write the chosen record as the change described
 * above and close the conflict, in one transaction.  *out (new reference)
 * is the conflict as sync_conflict_get gives it afterwards.  Refusals,
 * with nothing written: LT_EINVAL (a choice or record that is not valid,
 * a merged record for another key, or a record whose unit lies outside
 * this node's), LT_ENOTFOUND (no such conflict), LT_EFORBIDDEN (outside
 * within), LT_ECONFLICT (resolved already, a stale version: the detail
 * gives the current one, or "held" with no record held).
 */
enum lt_code sync_conflict_resolve(struct node *n, const struct sync_resolution *r, json_t **out,
                                   struct lt_error *err);

#endif
