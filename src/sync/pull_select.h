/*
 * pull_select.h - which events of a parent's log a child must hold.
 *
 * Design note.  A child holds its own subtree's events (they go up, never
 * down) and, from the rest of the tree, the events about records in its
 * jurisdiction and the reference data.  The parent decides it event by
 * event, in its own log order, from its own log only, so the decision is
 * the same whenever it is made (a child that was offline for a week gets
 * what it would have got live).
 *
 * The subject of an event is what its jurisdiction is judged by:
 *
 *   person/ID, residence/ID/KIND, benefit/ID/SCHEME   the person ID: in
 *       the units of the person's residences (permanent and temporary,
 *       each as its last event before the position looked at says)
 *   household/H, parcel/P, business/B                the record: in the
 *       unit its last event names
 *   reference/KIND ("reference.published")           every node, when
 *       written at the centre
 *   anything else (node.*, audit.*, dossier.*)       nobody below
 *
 * XXX: dossiers do not flow down: no node projects dossier events it did not write.
 * XXX: nothing flows for the units register: it is compiled in until reorganisation plans exist.
 *
 * For an event e about a subject, "before" is the subject's units without
 * e and "after" with it.  The child of unit U must hold e if a unit of
 * before or after lies within U (so the event that moves a record out of
 * U reaches U too, and nothing after it), unless e originated in the
 * child's subtree (it has it).  If no unit of before and one of after lies
 * within U, the subject moves in: the child also needs its history, every
 * earlier event about the subject that did not originate in its subtree
 * (a person arrives with the person record, all residences and all
 * benefits, from the first event on), sent before e.  That also happens
 * when the child itself wrote e (a temporary residence for a person
 * registered elsewhere): the history comes down, e does not.
 *
 * Subtree membership follows enrolment, not units (two nodes may serve
 * one commune): an origin is in the child's subtree if the chain of
 * "enrolled by" of the keys this node knows leads from it to the child.
 */
#ifndef LT_SYNC_PULL_SELECT_H
#define LT_SYNC_PULL_SELECT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "core/error.h"
#include "evlog/evlog.h"
#include "store/store.h"
#include "units/units.h"

/* The type and entity prefix of a reference data publication. */
#define SYNC_REFERENCE_EVENT  "reference.published"
#define SYNC_REFERENCE_PREFIX "reference/"

/* The unit of the centre: only it publishes reference data. */
#define SYNC_CENTRE_UNIT "VN"

enum sync_subject_kind {
    SYNC_SUBJECT_NONE,      /* flows down to nobody */
    SYNC_SUBJECT_PERSON,    /* a person and their residences and benefits */
    SYNC_SUBJECT_RECORD,    /* a record that names its own unit */
    SYNC_SUBJECT_REFERENCE, /* reference data */
};

struct sync_subject {
    enum sync_subject_kind kind;
    char id[EVLOG_ENTITY_MAX]; /* the person ID, or the record's whole entity */
};

/* The subject of an event of the given type about entity. */
void sync_pull_subject(const char *type, const char *entity, struct sync_subject *out);

/* What a child must get of one event. */
struct sync_pull_verdict {
    bool send;    /* the event itself */
    bool history; /* its subject's earlier events, first */
};

/*
 * Decide for event ev of this log (ev->pos its position here) and a child
 * of unit child_unit.  from_subtree: ev originated in the child's subtree;
 * origin_unit: the unit of ev's origin.  Reads the subject's earlier
 * events on c (a reader, or inside a write).  Only the errors of reading.
 */
enum lt_code sync_pull_decide(struct store_conn *c, const struct units *u, const char *child_unit,
                              const struct event *ev, bool from_subtree, const char *origin_unit,
                              struct sync_pull_verdict *out, struct lt_error *err);

/* An event of a history, with its body owned. */
struct sync_pull_events {
    struct event *ev;
    size_t n, alloc;
};

/* Free every body and the array; e may be NULL. */
void sync_pull_events_release(struct sync_pull_events *e);

/* Append a copy of ev (its body copied). */
void sync_pull_events_add(struct sync_pull_events *e, const struct event *ev);

/*
 * Every event about ev's subject before ev (position below ev->pos), in
 * log order, appended to out.  The caller drops those of the child's
 * subtree.  Only the errors of reading.
 */
enum lt_code sync_pull_history(struct store_conn *c, const struct event *ev,
                               struct sync_pull_events *out, struct lt_error *err);

#endif
