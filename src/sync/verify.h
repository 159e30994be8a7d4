/*
 * verify.h - what a parent checks of each event a child sends.
 *
 * Design note.  Trust follows the tree.  A parent knows the key and unit
 * of each child it enrolled, and learns those of the nodes below them from
 * the children's own signed enrolment events, which reach it before any
 * event of the nodes they enrol.  An event from a child is accepted only
 * if, in this order:
 *
 *   1. its hash matches its bytes (what the signature covers is the hash);
 *   2. its origin is known here and lies inside the sending child's unit
 *      (a child relays only its own subtree);
 *   3. it is signed by its origin's key;
 *   4. what it is about lies inside its origin's unit (jurisdiction);
 *
 * and then, when it is applied (apply.h), it extends its origin's chain
 * here (evlog_apply_remote), or is a duplicate and is dropped.
 *
 * Jurisdiction today reads the body's "unit" member when it has one
 * (residences, households, parcels, businesses, enrolments, a node's
 * first event).  People and benefits carry no unit in their body, so
 * their jurisdiction is not checked yet (docs/SYNC.md, "Gaps").
 * XXX: jurisdiction of people and benefits is not checked.
 */
#ifndef LT_SYNC_VERIFY_H
#define LT_SYNC_VERIFY_H

#include <stdbool.h>
#include <stddef.h>

#include "core/error.h"
#include "evlog/evlog.h"
#include "sync/state.h"
#include "units/units.h"

/*
 * The unit an event is about, from its body's "unit" member, into out.
 * false if the body names none (or is not a JSON object).
 */
bool sync_event_unit(const struct event *ev, char *out, size_t cap);

/*
 * Checks 1 to 4 above for one event sent by a child of unit child_unit.
 * origin is what this node knows of ev->origin (found false: unknown).
 * LT_EINVAL with the reason; the detail names the event.
 */
enum lt_code sync_verify_event(const struct units *u, const struct event *ev,
                               const struct sync_known *origin, bool found, const char *child_unit,
                               struct lt_error *err);

#endif
