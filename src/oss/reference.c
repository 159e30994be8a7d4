/*
 * reference.c - publishing and loading the catalogue and the calendar (see reference.h).
 *
 * Design note.  A document is validated before its event is written, so a
 * node that pulls it can expect it to load; it is still validated again
 * there (the node may run another release), and one that fails is logged
 * and left unused rather than stopping the node.  Swapping is one atomic
 * store of the pointer the requests read; what it replaces is freed only
 * with the oss.
 */
#include "oss/reference.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/date.h"
#include "core/log.h"
#include "evlog/evlog.h"
#include "oss/oss_int.h"
#include "core/banned.h"

#define KIND_CATALOGUE "catalogue"
#define KIND_CALENDAR  "calendar"

static bool kind_ok(const char *kind)
{
    return kind != NULL && (strcmp(kind, KIND_CATALOGUE) == 0 || strcmp(kind, KIND_CALENDAR) == 0);
}

/* The publication in use for kind, or NULL for the built-in data (ref_mu held). */
static const struct oss_published *in_use(const struct oss *o, const char *kind)
{
    bool cat = strcmp(kind, KIND_CATALOGUE) == 0;

    for (size_t i = o->npublished; i > 0; i--) {
        const struct oss_published *p = &o->published[i - 1];

        if ((cat && p->cat != NULL) || (!cat && p->cal != NULL)) {
            return p;
        }
    }
    return NULL;
}

static int64_t version_in_use(struct oss *o, const char *kind)
{
    const struct oss_published *p;
    int64_t v;

    pthread_mutex_lock(&o->ref_mu);
    p = in_use(o, kind);
    v = p != NULL ? p->version : 0;
    pthread_mutex_unlock(&o->ref_mu);
    return v;
}

/* Take cat or cal (owned) as publication version of origin, and use it. */
static void adopt(struct oss *o, struct oss_catalogue *cat, struct oss_calendar *cal,
                  int64_t version, const char *origin)
{
    struct oss_published *p;

    pthread_mutex_lock(&o->ref_mu);
    o->published = xrealloc(o->published, (o->npublished + 1) * sizeof(*o->published));
    p = &o->published[o->npublished++];
    memset(p, 0, sizeof(*p));
    p->cat = cat;
    p->cal = cal;
    p->version = version;
    snprintf(p->origin, sizeof(p->origin), "%s", origin);
    if (cat != NULL) {
        atomic_store(&o->cat, cat);
    } else {
        atomic_store(&o->cal, cal);
    }
    pthread_mutex_unlock(&o->ref_mu);
}

/* Does next keep every procedure version of cur? */
static enum lt_code keeps_versions(const struct oss_catalogue *cur,
                                   const struct oss_catalogue *next, struct lt_error *err)
{
    for (size_t i = 0; i < oss_catalogue_count(cur); i++) {
        const struct oss_procedure *p = oss_catalogue_at(cur, i);

        if (oss_catalogue_version(next, p->code, p->version) == NULL) {
            lt_error_set(err, LT_EINVAL, "the catalogue drops procedure %s version %d", p->code,
                         p->version);
            lt_error_detail(err, "dossiers stay bound to the version they were received under");
            lt_error_hint(err, "keep the version and close it with valid_to instead");
            return LT_EINVAL;
        }
    }
    return LT_OK;
}

/* Validate text as kind: *cat or *cal is made (owned by the caller). */
static enum lt_code validate(struct oss *o, const char *kind, const char *text, size_t len,
                             struct oss_catalogue **cat, struct oss_calendar **cal,
                             struct lt_error *err)
{
    enum lt_code rc;

    *cat = NULL;
    *cal = NULL;
    if (strcmp(kind, KIND_CALENDAR) == 0) {
        return oss_calendar_parse(text, len, cal, err);
    }
    rc = oss_catalogue_parse(text, len, cat, err);
    if (rc == LT_OK) {
        rc = keeps_versions(oss_catalogue(o), *cat, err);
    }
    if (rc != LT_OK) {
        oss_catalogue_free(*cat);
        *cat = NULL;
    }
    return rc;
}

struct publish {
    struct oss *o;
    struct event ev;
};

static enum lt_code publish_fn(struct store_conn *c, void *arg, struct lt_error *err)
{
    struct publish *p = arg;
    enum lt_code rc = evlog_entity_version(c, p->ev.entity, &p->ev.base_version, err);

    if (rc == LT_OK) {
        rc = evlog_append(node_evlog(p->o->node), c, &p->ev, NULL, err);
    }
    return rc;
}

enum lt_code oss_reference_publish(struct oss *o, const char *kind, const char *text, size_t len,
                                   const char *actor, int64_t *version, struct lt_error *err)
{
    struct evlog *log = node_evlog(o->node);
    struct oss_catalogue *cat = NULL;
    struct oss_calendar *cal = NULL;
    struct publish p = { .o = o };
    json_t *doc = NULL, *body = NULL;
    enum lt_code rc;

    *version = 0;
    if (!kind_ok(kind)) {
        lt_error_set(err, LT_EINVAL, "unknown reference data \"%.40s\"", kind ? kind : "");
        lt_error_hint(err, "publish \"catalogue\" or \"calendar\"");
        return LT_EINVAL;
    }
    if (strcmp(evlog_unit(log), OSS_REFERENCE_CENTRE) != 0) {
        lt_error_set(err, LT_EFORBIDDEN, "reference data is published at the centre");
        lt_error_detail(err, "this node is of unit %s; it receives the centre's publications",
                        evlog_unit(log));
        return LT_EFORBIDDEN;
    }
    rc = validate(o, kind, text, len, &cat, &cal, err);
    if (rc != LT_OK) {
        return rc;
    }
    doc = json_loadb(text, len, JSON_REJECT_DUPLICATES, NULL);
    body = json_pack("{s:s, s:O}", "kind", kind, "document", doc);
    p.ev.body = json_dumps(body, JSON_COMPACT | JSON_PRESERVE_ORDER);
    snprintf(p.ev.actor, sizeof(p.ev.actor), "%s", actor != NULL && actor[0] ? actor : "system");
    snprintf(p.ev.type, sizeof(p.ev.type), OSS_REFERENCE_EVENT);
    snprintf(p.ev.entity, sizeof(p.ev.entity), "reference/%s", kind);
    snprintf(p.ev.cause, sizeof(p.ev.cause), "publish");
    p.ev.effective = date_today();
    if (p.ev.body == NULL) {
        BUG("could not dump a validated %s", kind);
    }
    rc = store_write(node_store(o->node), publish_fn, &p, err);
    if (rc == LT_OK) {
        *version = p.ev.version;
        adopt(o, cat, cal, p.ev.version, evlog_origin(log));
        cat = NULL;
        cal = NULL;
        log_notice("oss", "published the %s, version %lld", kind, (long long)*version);
    }
    oss_catalogue_free(cat);
    oss_calendar_free(cal);
    free(p.ev.body);
    json_decref(body);
    json_decref(doc);
    return rc;
}

/* Loading the latest publications. */

struct latest {
    char *body;
    char origin[EVLOG_ORIGIN_MAX];
    int64_t version;
};

static enum lt_code keep_last(const struct event *ev, void *arg, struct lt_error *err)
{
    struct latest *l = arg;

    (void)err;
    free(l->body);
    l->body = xstrdup(ev->body != NULL ? ev->body : "");
    snprintf(l->origin, sizeof(l->origin), "%s", ev->origin);
    l->version = ev->version;
    return LT_OK;
}

struct load_read {
    const char *entity;
    int64_t known; /* the version in use */
    struct latest l;
};

static enum lt_code load_fn(struct store_conn *c, void *arg, struct lt_error *err)
{
    struct load_read *r = arg;
    int64_t v = 0;
    enum lt_code rc = evlog_entity_version(c, r->entity, &v, err);

    if (rc != LT_OK || v == 0 || v == r->known) {
        return rc;
    }
    return evlog_history(c, r->entity, keep_last, &r->l, err);
}

/* Parse a publication's body and use its document. */
static void use_body(struct oss *o, const char *kind, const struct latest *l)
{
    json_t *body = json_loads(l->body, JSON_REJECT_DUPLICATES, NULL);
    const json_t *doc = json_object_get(body, "document");
    struct oss_catalogue *cat = NULL;
    struct oss_calendar *cal = NULL;
    struct lt_error err;
    char *text = json_is_object(doc) ? json_dumps(doc, JSON_COMPACT | JSON_PRESERVE_ORDER) : NULL;
    enum lt_code rc = LT_EINVAL;

    lt_error_clear(&err);
    if (text == NULL) {
        lt_error_set(&err, LT_EINVAL, "the body holds no \"document\" object");
    } else {
        rc = validate(o, kind, text, strlen(text), &cat, &cal, &err);
    }
    if (rc == LT_OK) {
        adopt(o, cat, cal, l->version, l->origin);
        log_notice("oss", "using the %s published by %s, version %lld", kind, l->origin,
                   (long long)l->version);
    } else {
        log_error("oss", "the %s published by %s (version %lld) is not used: %s%s%s", kind,
                  l->origin, (long long)l->version, err.message, err.detail[0] ? ": " : "",
                  err.detail);
    }
    free(text);
    json_decref(body);
}

enum lt_code oss_reference_load(struct oss *o, struct lt_error *err)
{
    static const char *const kinds[] = { KIND_CATALOGUE, KIND_CALENDAR };
    char entity[48];

    for (size_t i = 0; i < sizeof(kinds) / sizeof(kinds[0]); i++) {
        struct load_read r;
        enum lt_code rc;

        memset(&r, 0, sizeof(r));
        snprintf(entity, sizeof(entity), "reference/%s", kinds[i]);
        r.entity = entity;
        r.known = version_in_use(o, kinds[i]);
        rc = store_read(node_store(o->node), load_fn, &r, err);
        if (rc == LT_OK && r.l.body != NULL) {
            use_body(o, kinds[i], &r.l);
        }
        free(r.l.body);
        if (rc != LT_OK) {
            return rc;
        }
    }
    return LT_OK;
}

static json_t *kind_json(struct oss *o, const char *kind)
{
    const struct oss_published *p;
    json_t *out;

    pthread_mutex_lock(&o->ref_mu);
    p = in_use(o, kind);
    out = p != NULL ? json_pack("{s:s, s:I, s:s}", "source", "published", "version",
                                (json_int_t)p->version, "origin", p->origin)
                    : json_pack("{s:s, s:i}", "source", "built-in", "version", 0);
    pthread_mutex_unlock(&o->ref_mu);
    return out;
}

json_t *oss_reference_json(struct oss *o)
{
    return json_pack("{s:o, s:o}", KIND_CATALOGUE, kind_json(o, KIND_CATALOGUE), KIND_CALENDAR,
                     kind_json(o, KIND_CALENDAR));
}
