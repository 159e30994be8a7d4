/*
 * apply.c - applying a child's batch in one transaction (see apply.h).
 *
 * Design note.  Order matters inside a batch: an enrolment event from a
 * child teaches the key of a grandchild whose events may follow in the
 * same batch, so keys are learned as each event is applied and looked up
 * afresh for the next, on the same connection (the writes of this
 * callback are visible to it).  Nothing is cached across callbacks.
 */
#include "sync/apply.h"

#include "audit/audit.h"

#include <jansson.h>
#include <stdio.h>
#include <string.h>

#include "audit/audit.h"
#include "sync/keys.h"
#include "sync/state.h"
#include "sync/verify.h"
#include "core/banned.h"

enum lt_code sync_learn_enrolment(struct store_conn *c, const struct event *ev,
                                  struct lt_error *err)
{
    struct sync_known k;
    json_t *body;
    const char *origin, *unit, *pk;
    enum lt_code rc = LT_OK;

    if (strcmp(ev->type, SYNC_EVENT_ENROLLED) != 0) {
        return LT_OK;
    }
    body = json_loads(ev->body != NULL ? ev->body : "", 0, NULL);
    origin = json_string_value(json_object_get(body, "origin"));
    unit = json_string_value(json_object_get(body, "unit"));
    pk = json_string_value(json_object_get(body, "public_key"));
    memset(&k, 0, sizeof(k));
    if (origin == NULL || unit == NULL || pk == NULL || strlen(origin) >= sizeof(k.origin) ||
        strlen(unit) >= sizeof(k.unit) || !sync_unhex(pk, k.pk, sizeof(k.pk))) {
        rc = lt_error_set(err, LT_EINVAL, "enrolment event (%s, %lld) is malformed", ev->origin,
                          (long long)ev->seq);
        lt_error_detail(err, "its body needs \"origin\", \"unit\" and a 64-hex \"public_key\"");
        goto out;
    }
    snprintf(k.origin, sizeof(k.origin), "%s", origin);
    snprintf(k.unit, sizeof(k.unit), "%s", unit);
    snprintf(k.enrolled_by, sizeof(k.enrolled_by), "%s", ev->origin);
    rc = sync_known_learn(c, &k, ev->pos, err);

out:
    json_decref(body);
    return rc;
}

/* Check, apply and project one event of the batch. */
static enum lt_code apply_one(struct node *n, struct store_conn *c, const struct sync_child *ch,
                              struct event *ev, struct sync_apply_result *res, struct lt_error *err)
{
    struct sync_known k;
    bool found = false, applied = false;
    enum lt_code rc;

    if (strcmp(ev->origin, evlog_origin(node_evlog(n))) == 0) {
        lt_error_set(err, LT_EINVAL, "an event of this node came back from child \"%s\"",
                     ch->origin);
        lt_error_detail(err, "event (%s, %lld); events only travel up the tree", ev->origin,
                        (long long)ev->seq);
        return LT_EINVAL;
    }
    rc = sync_known_get(c, ev->origin, &k, &found, err);
    if (rc == LT_OK) {
        rc = sync_verify_event(node_units(n), ev, &k, found, ch->unit, err);
    }
    if (rc == LT_OK) {
        rc = evlog_apply_remote(node_evlog(n), c, ev, &applied, err);
    }
    if (rc != LT_OK) {
        return rc;
    }
    if (!applied) {
        res->duplicates++;
        return LT_OK;
    }
    res->applied++;
    rc = registry_apply_event(c, node_units(n), ev, err);
    if (rc == LT_OK) {
        rc = sync_conflict_note(c, ev, &res->conflicts, err);
    }
    if (rc == LT_OK) {
        rc = audit_apply_event(c, ev, err);
    }
    if (rc == LT_OK) {
        rc = sync_learn_enrolment(c, ev, err);
    }
    return rc;
}

enum lt_code sync_apply_batch(struct node *n, struct store_conn *c, struct sync_batch *b,
                              int64_t now_ms, struct sync_apply_result *res, struct lt_error *err)
{
    struct sync_child ch;
    bool found = false;
    enum lt_code rc;

    memset(res, 0, sizeof(*res));
    rc = sync_child_get(c, b->h.origin, &ch, &found, err);
    if (rc != LT_OK) {
        return rc;
    }
    if (!found) {
        lt_error_set(err, LT_ENOTFOUND, "node \"%s\" is not a child of this node", b->h.origin);
        lt_error_hint(err, "enrol it first: lienthong enrol --child-unit CODE on this node");
        return LT_ENOTFOUND;
    }
    ch.last_contact_ms = now_ms;
    ch.reported_head = b->h.head;
    ch.pending_ms = b->h.pending_ms;
    res->ack = ch.acked;
    if (b->h.after != ch.acked) {
        res->cursor_mismatch = true;
        return sync_child_put(c, &ch, err);
    }

    for (size_t i = 0; i < b->nevents; i++) {
        rc = apply_one(n, c, &ch, &b->events[i], res, err);
        if (rc != LT_OK) {
            return rc;
        }
    }

    ch.acked = b->h.through;
    ch.batches++;
    ch.events += (int64_t)res->applied;
    ch.duplicates += (int64_t)res->duplicates;
    res->ack = ch.acked;
    rc = sync_child_put(c, &ch, err);
    if (rc == LT_OK) {
        rc = evlog_head(c, &res->head, err);
    }
    return rc;
}

enum lt_code sync_note_refusal(struct store_conn *c, const char *origin, const struct lt_error *why,
                               int64_t now_ms, struct lt_error *err)
{
    struct sync_child ch;
    bool found = false;
    enum lt_code rc = sync_child_get(c, origin, &ch, &found, err);

    if (rc != LT_OK || !found) {
        return rc;
    }
    ch.refused++;
    ch.last_contact_ms = now_ms;
    ch.last_refusal_ms = now_ms;
    snprintf(ch.last_refusal, sizeof(ch.last_refusal), "%s", why->message);
    return sync_child_put(c, &ch, err);
}
