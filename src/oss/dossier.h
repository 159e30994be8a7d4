/*
 * dossier.h - acting on a dossier: the state machine applied with its
 * permissions, the paused clock, composite steps, and approval with the
 * registry effects, each action one event in one write.
 *
 * Design note.  An action runs whole inside one store_write callback: the
 * row is read on the writer connection (so two officers acting at once
 * are serialised and the second sees the first's result), the caller's
 * right to act and the transition are checked, the effects applied
 * (approval), the event appended with the version read as its base, and
 * the row updated.  Any refusal returns an error from the callback, which
 * rolls back everything it did: nothing is half applied.
 *
 * The clock: "request_info" notes the day the clock paused; "resume" moves
 * the due date on by the working days that passed while paused (counting
 * from the day after the pause to the day of resumption).  Settlement
 * (approve of the last step, or reject) notes the day, which the
 * indicators compare with the due date.
 *
 * Composites: "approve" names a step, which must be the first step still
 * pending (a child is registered before its residence); the step's effects
 * are applied and the step is approved; the dossier is approved with its
 * last step.  "reject" (with or without a step) rejects the dossier and
 * every step still pending; the effects of steps already approved stay,
 * as they were decided.
 */
#ifndef LT_OSS_DOSSIER_H
#define LT_OSS_DOSSIER_H

#include "oss/oss_int.h"

/* Update a dossier's projection row after an action (inside a write). */
enum lt_code oss_row_update(struct store_conn *c, const json_t *doc, int64_t version,
                            struct lt_error *err);

#endif
