/*
 * apply.h - a parent applies a batch pushed by a child.
 *
 * Design note.  A batch is applied in one write callback, so it is
 * applied whole or not at all: the cursor check, every event's checks
 * (verify.h), evlog_apply_remote and registry_apply_event for each, the
 * conflict inbox (conflict.h: an event based on a stale version is kept in
 * the log but set aside, with both sides in a conflict), the keys taught by
 * enrolment events, and the child's new acknowledged position all commit
 * together.  The first event refused rolls the whole callback back.
 *
 * The cursor: the parent keeps, per child, the position of the child's log
 * it has acknowledged.  A batch must start exactly there (after == acked).
 * One that starts elsewhere (a replay, or a child that lost our last
 * answer) changes nothing but the time of last contact and is answered
 * with the acknowledged position, from which the child resumes.  Events
 * already here (by origin and seq, e.g. after a re-parenting) are dropped.
 */
#ifndef LT_SYNC_APPLY_H
#define LT_SYNC_APPLY_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "core/error.h"
#include "registry/registry.h"
#include "store/store.h"
#include "sync/batch.h"
#include "sync/conflict.h"

/* The type of the event a parent writes when it enrols a child. */
#define SYNC_EVENT_ENROLLED "node.enrolled"

struct sync_apply_result {
    bool cursor_mismatch;                 /* the batch did not start at ack; nothing applied */
    int64_t ack;                          /* the child's position acknowledged now */
    size_t applied;                       /* events new here */
    size_t duplicates;                    /* events already here, dropped */
    int64_t head;                         /* this node's log head after the batch */
    struct sync_conflict_tally conflicts; /* what the batch did to the inbox */
};

/*
 * Inside a write: apply batch b from the enrolled child b->h.origin (the
 * caller authenticated the request).  LT_OK also for a cursor mismatch
 * (res->cursor_mismatch set).  Refusals, with nothing applied: LT_EINVAL
 * (a check of verify.h, or a chain that does not link), LT_ECONFLICT (a
 * forked chain, or an enrolment event that contradicts a pinned key),
 * LT_ENOTFOUND (the origin is not a child of this node).  Event positions
 * in b are overwritten with this log's.
 */
enum lt_code sync_apply_batch(struct node *n, struct store_conn *c, struct sync_batch *b,
                              int64_t now_ms, struct sync_apply_result *res, struct lt_error *err);

/*
 * Inside a write: if ev (at this log's position ev->pos) is an enrolment
 * event, learn the key it carries.  LT_EINVAL for a malformed enrolment
 * body, LT_ECONFLICT for a key that contradicts one pinned already.
 */
enum lt_code sync_learn_enrolment(struct store_conn *c, const struct event *ev,
                                  struct lt_error *err);

/*
 * Inside a write: record that a batch from child origin was refused (the
 * reason is err's message) and when.  For the status report.
 */
enum lt_code sync_note_refusal(struct store_conn *c, const char *origin, const struct lt_error *why,
                               int64_t now_ms, struct lt_error *err);

#endif
