/*
 * pull_apply.h - a child applies what it pulled from its parent.
 *
 * Design note.  An answer (pull_batch.h) is applied in one write callback,
 * whole or not at all, with the cursor it moves.  The child trusts its
 * parent's pinned key (sync_self) and what the parent vouches for in a
 * signed answer; it checks, in this order:
 *
 *   1. the answer is from its parent and starts at its cursor;
 *   2. each key: not this node's, nor of a node this node enrolled; the
 *      parent's own equal to the pinned one; any other pinned for life
 *      like keys learned from enrolment (sync_known_learn);
 *   3. each event: not of this node's subtree (its own events only go up);
 *      its hash matches its bytes; its origin's key is known and signed
 *      it; what it is about lies inside its origin's unit; reference data
 *      comes from the centre;
 *
 * and applies each event with evlog_apply_pulled (identity, hashes and
 * signature kept, a duplicate dropped, marked as pulled so it is never
 * pushed back), then registry_apply_event.  The first refusal rolls the
 * whole answer back and leaves the cursor where it was.
 *
 * XXX: a record changed at the parent and here at once ends differently on each: no conflict inbox.
 */
#ifndef LT_SYNC_PULL_APPLY_H
#define LT_SYNC_PULL_APPLY_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "core/error.h"
#include "registry/registry.h"
#include "store/store.h"
#include "sync/pull_batch.h"
#include "sync/schema.h"
#include "sync/state.h"

/* The child's cursor in a parent's log, and what came of it. */
struct sync_pull_cursor {
    int64_t cursor;    /* the parent's log position pulled up to (0: none) */
    int64_t pulled_ms; /* when it last moved (0: never) */
    int64_t events;    /* events applied from this parent, over time */
};

/* Read the cursor for parent (zeroes if none). */
enum lt_code sync_pull_cursor_get(struct store_conn *c, const char *parent,
                                  struct sync_pull_cursor *out, struct lt_error *err);

struct sync_pull_applied {
    size_t applied;    /* events new here */
    size_t duplicates; /* events already here, dropped */
    size_t keys;       /* keys learned */
    bool reference;    /* reference data among the new events */
    int64_t cursor;    /* the cursor now */
};

/*
 * Inside a write: apply reply r from the parent self->parent_origin (the
 * caller checked the answer's signature with self->parent_pk).  Refusals,
 * with nothing applied: LT_EINVAL (a check above), LT_ECONFLICT (an answer
 * that does not start at the cursor; a key that contradicts a pinned one;
 * a forked chain).  Event positions in r are overwritten with this log's.
 */
enum lt_code sync_pull_apply(struct node *n, struct store_conn *c, const struct sync_self *self,
                             struct sync_pull_reply *r, int64_t now_ms,
                             struct sync_pull_applied *res, struct lt_error *err);

#endif
