/*
 * pull_select.c - the decision of what flows down (see pull_select.h).
 *
 * Everything is read from the log with evlog_history, one entity at a
 * time, so the answer depends on the log only, never on the projections
 * (which show the present, not the position being decided).  A person's
 * entities are the fixed set below; the residence kinds and benefit
 * schemes are those of registry.h.
 */
#include "sync/pull_select.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/buf.h"
#include "sync/verify.h"
#include "core/banned.h"

/* The entities of a person besides person/ID (registry.h: residence kinds, benefit schemes). */
static const struct {
    const char *kind, *part;
} person_parts[] = {
    { "residence", "permanent" },       { "residence", "temporary" },
    { "benefit", "health_insurance" },  { "benefit", "social_insurance" },
    { "benefit", "social_assistance" },
};
#define RESIDENCE_PARTS 2 /* the first entries of person_parts: they place the person */

static const char *const record_prefixes[] = { "household/", "parcel/", "business/" };

/* The text between the first and the second '/' of entity, into out. */
static bool middle_part(const char *entity, char *out, size_t cap)
{
    const char *a = strchr(entity, '/');
    const char *b = a != NULL ? strchr(a + 1, '/') : NULL;
    size_t len = b != NULL ? (size_t)(b - a - 1) : (a != NULL ? strlen(a + 1) : 0);

    if (a == NULL || len == 0 || len >= cap) {
        return false;
    }
    memcpy(out, a + 1, len);
    out[len] = '\0';
    return true;
}

void sync_pull_subject(const char *type, const char *entity, struct sync_subject *out)
{
    memset(out, 0, sizeof(*out));
    if (strcmp(type, SYNC_REFERENCE_EVENT) == 0 &&
        strncmp(entity, SYNC_REFERENCE_PREFIX, strlen(SYNC_REFERENCE_PREFIX)) == 0) {
        out->kind = SYNC_SUBJECT_REFERENCE;
        snprintf(out->id, sizeof(out->id), "%s", entity);
        return;
    }
    if (strncmp(entity, "person/", 7) == 0 || strncmp(entity, "residence/", 10) == 0 ||
        strncmp(entity, "benefit/", 8) == 0) {
        if (middle_part(entity, out->id, sizeof(out->id))) {
            out->kind = SYNC_SUBJECT_PERSON;
        }
        return;
    }
    for (size_t i = 0; i < sizeof(record_prefixes) / sizeof(record_prefixes[0]); i++) {
        if (strncmp(entity, record_prefixes[i], strlen(record_prefixes[i])) == 0) {
            out->kind = SYNC_SUBJECT_RECORD;
            snprintf(out->id, sizeof(out->id), "%s", entity);
            return;
        }
    }
}

/* The units an entity names just before and just after position pos. */
struct placed {
    int64_t pos;
    char before[UNIT_CODE_MAX + 8];
    char after[UNIT_CODE_MAX + 8];
};

static enum lt_code place_one(const struct event *ev, void *arg, struct lt_error *err)
{
    struct placed *p = arg;
    char unit[UNIT_CODE_MAX + 8];

    (void)err;
    if (ev->pos > p->pos) {
        return LT_OK;
    }
    if (!sync_event_unit(ev, unit, sizeof(unit))) {
        unit[0] = '\0';
    }
    if (ev->pos < p->pos) {
        snprintf(p->before, sizeof(p->before), "%s", unit);
    }
    snprintf(p->after, sizeof(p->after), "%s", unit);
    return LT_OK;
}

static bool inside(const struct units *u, const char *unit, const char *child_unit)
{
    return unit[0] != '\0' && units_code_within(u, unit, child_unit);
}

/* Is the subject in the child's unit before and after ev? */
static enum lt_code place(struct store_conn *c, const struct units *u, const char *child_unit,
                          const struct event *ev, const struct sync_subject *sub, bool *before,
                          bool *after, struct lt_error *err)
{
    char entity[EVLOG_ENTITY_MAX + 32];
    size_t n = sub->kind == SYNC_SUBJECT_PERSON ? RESIDENCE_PARTS : 1;
    enum lt_code rc = LT_OK;

    *before = false;
    *after = false;
    for (size_t i = 0; rc == LT_OK && i < n; i++) {
        struct placed p = { .pos = ev->pos };

        if (sub->kind == SYNC_SUBJECT_PERSON) {
            snprintf(entity, sizeof(entity), "%s/%s/%s", person_parts[i].kind, sub->id,
                     person_parts[i].part);
        } else {
            snprintf(entity, sizeof(entity), "%s", sub->id);
        }
        rc = evlog_history(c, entity, place_one, &p, err);
        *before = *before || inside(u, p.before, child_unit);
        *after = *after || inside(u, p.after, child_unit);
    }
    return rc;
}

enum lt_code sync_pull_decide(struct store_conn *c, const struct units *u, const char *child_unit,
                              const struct event *ev, bool from_subtree, const char *origin_unit,
                              struct sync_pull_verdict *out, struct lt_error *err)
{
    struct sync_subject sub;
    bool before = false, after = false;
    enum lt_code rc;

    memset(out, 0, sizeof(*out));
    sync_pull_subject(ev->type, ev->entity, &sub);
    switch (sub.kind) {
    case SYNC_SUBJECT_NONE:
        return LT_OK;
    case SYNC_SUBJECT_REFERENCE:
        out->send = !from_subtree && strcmp(origin_unit, SYNC_CENTRE_UNIT) == 0;
        return LT_OK;
    case SYNC_SUBJECT_PERSON:
    case SYNC_SUBJECT_RECORD:
        break;
    }
    rc = place(c, u, child_unit, ev, &sub, &before, &after, err);
    if (rc != LT_OK) {
        return rc;
    }
    out->send = (before || after) && !from_subtree;
    out->history = !before && after;
    return LT_OK;
}

void sync_pull_events_release(struct sync_pull_events *e)
{
    if (e == NULL) {
        return;
    }
    for (size_t i = 0; i < e->n; i++) {
        free(e->ev[i].body);
    }
    free(e->ev);
    memset(e, 0, sizeof(*e));
}

void sync_pull_events_add(struct sync_pull_events *e, const struct event *ev)
{
    if (e->n == e->alloc) {
        e->alloc = e->alloc ? 2 * e->alloc : 16;
        e->ev = xrealloc(e->ev, e->alloc * sizeof(*e->ev));
    }
    e->ev[e->n] = *ev;
    e->ev[e->n].body = xstrdup(ev->body != NULL ? ev->body : "");
    e->n++;
}

struct gather {
    struct sync_pull_events *out;
    int64_t below;
};

static enum lt_code gather_one(const struct event *ev, void *arg, struct lt_error *err)
{
    struct gather *g = arg;

    (void)err;
    if (ev->pos < g->below) {
        sync_pull_events_add(g->out, ev);
    }
    return LT_OK;
}

static int by_pos(const void *a, const void *b)
{
    const struct event *x = a, *y = b;

    return x->pos < y->pos ? -1 : x->pos > y->pos;
}

enum lt_code sync_pull_history(struct store_conn *c, const struct event *ev,
                               struct sync_pull_events *out, struct lt_error *err)
{
    struct sync_subject sub;
    struct gather g = { out, ev->pos };
    char entity[EVLOG_ENTITY_MAX + 32];
    size_t first = out->n;
    enum lt_code rc = LT_OK;

    sync_pull_subject(ev->type, ev->entity, &sub);
    if (sub.kind == SYNC_SUBJECT_RECORD) {
        return evlog_history(c, sub.id, gather_one, &g, err);
    }
    if (sub.kind != SYNC_SUBJECT_PERSON) {
        return LT_OK;
    }
    snprintf(entity, sizeof(entity), "person/%s", sub.id);
    rc = evlog_history(c, entity, gather_one, &g, err);
    for (size_t i = 0; rc == LT_OK && i < sizeof(person_parts) / sizeof(person_parts[0]); i++) {
        snprintf(entity, sizeof(entity), "%s/%s/%s", person_parts[i].kind, sub.id,
                 person_parts[i].part);
        rc = evlog_history(c, entity, gather_one, &g, err);
    }
    if (rc == LT_OK && out->n - first > 1) {
        qsort(out->ev + first, out->n - first, sizeof(*out->ev), by_pos);
    }
    return rc;
}
