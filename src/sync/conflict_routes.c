/*
 * conflict_routes.c - the conflict inbox over HTTP (conflict.h has the
 * design).
 *
 *   GET  /api/v1/conflicts?status=open|resolved|all&unit=&after=&limit=
 *        {"conflicts": [summary...], "next": cursor|null}, oldest first
 *   GET  /api/v1/conflicts/{id}
 *        one conflict: both sides with their records, and "current"
 *   POST /api/v1/conflicts/{id}/resolve
 *        {"choice": "held"|"incoming"|"merged", "version": N, "record": {...}}
 *        (record with "merged" only; version is "current"."version" as
 *        read): 200 with the conflict resolved and "current" after it
 *
 * Who: officers (src/auth/policy.c).  Lists are narrowed to the caller's
 * jurisdiction (or ?unit= inside it); a conflict outside it is 403.  The
 * records shown are personal data: a list or a view states its purpose
 * (X-Purpose) and is recorded in the audit trail like a registry read.
 * Handlers only translate; the resolution is written on the blocking
 * pool, where it waits for its commit.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/buf.h"
#include "http/api_registry.h"
#include "http/json_body.h"
#include "sync/conflict.h"
#include "sync/sync_int.h"
#include "core/banned.h"

#define LIMIT_DEFAULT 50

static const char *const q_list[] = { "status", "unit", "after", "limit", NULL };
static const char *const q_none[] = { NULL };
static const char *const body_fields[] = { "choice", "version", "record", NULL };

/* A whole number query argument in [lo, hi], or keep *out when absent. */
static enum lt_code query_num(struct http_request *req, const char *name, long long lo,
                              long long hi, long long *out, struct lt_error *err)
{
    const char *s = http_request_query(req, name);
    char *end;
    long long v;

    if (s == NULL) {
        return LT_OK;
    }
    v = strtoll(s, &end, 10);
    if (*s == '\0' || *end != '\0' || v < lo || v > hi) {
        lt_error_set(err, LT_EINVAL, "\"%s\" must be a whole number from %lld to %lld", name, lo,
                     hi);
        lt_error_detail(err, "got \"%.40s\"", s);
        lt_error_field(err, name);
        return LT_EINVAL;
    }
    *out = v;
    return LT_OK;
}

/* The jurisdiction a request is narrowed to: ?unit=, else the account's; NULL: none. */
static const char *within_of(struct http_request *req)
{
    const struct auth_principal *p = http_request_principal(req);
    const char *unit = http_request_query(req, "unit");

    if (unit != NULL && unit[0] != '\0') {
        return unit; /* the guard checked it lies inside the account's */
    }
    return p != NULL ? p->unit : NULL;
}

/* Record the access to the records a list names (by key) or a view shows. */
static enum lt_code record_items(struct http_request *req, const char *action, json_t *items,
                                 bool full, struct lt_error *err)
{
    size_t n = json_array_size(items), count = 0, i;
    struct api_record_ref *refs = xcalloc(2 * n + 1, sizeof(*refs));
    json_t *it;
    enum lt_code rc;

    json_array_foreach(items, i, it)
    {
        enum registry_kind kind;
        const char *key = json_string_value(json_object_get(it, "key"));

        if (key == NULL ||
            !registry_kind_parse(json_string_value(json_object_get(it, "kind")), &kind)) {
            continue;
        }
        refs[count++] = (struct api_record_ref){ kind, key, NULL };
        if (full) {
            refs[count - 1].record = json_object_get(json_object_get(it, "held"), "record");
            refs[count++] = (struct api_record_ref){
                kind, key, json_object_get(json_object_get(it, "incoming"), "record")
            };
        }
    }
    rc = api_registry_record_access(req, action, refs, count, err);
    free(refs);
    return rc;
}

static enum lt_code list_conflicts(struct http_request *req, void *ctx, struct lt_error *err)
{
    struct node *n = ctx;
    struct sync_conflict_query q = { .status = http_request_query(req, "status") };
    long long after = 0, limit = LIMIT_DEFAULT;
    json_t *page = NULL;
    enum lt_code rc;

    if ((rc = http_request_only_query(req, q_list, err)) != LT_OK ||
        (rc = query_num(req, "after", 0, INT64_MAX, &after, err)) != LT_OK ||
        (rc = query_num(req, "limit", 1, SYNC_CONFLICT_LIST_MAX, &limit, err)) != LT_OK) {
        return rc;
    }
    q.after = after;
    q.limit = (int)limit;
    q.within = within_of(req);
    rc = sync_conflict_list(n, &q, &page, err);
    if (rc == LT_OK) {
        rc = record_items(req, "conflicts", json_object_get(page, "conflicts"), false, err);
    }
    if (rc != LT_OK) {
        json_decref(page);
        return rc;
    }
    return http_reply_json(req, 200, page);
}

static enum lt_code get_conflict(struct http_request *req, void *ctx, struct lt_error *err)
{
    struct node *n = ctx;
    const struct auth_principal *p = http_request_principal(req);
    json_t *cf = NULL, *one;
    enum lt_code rc;

    if ((rc = http_request_only_query(req, q_none, err)) != LT_OK) {
        return rc;
    }
    rc = sync_conflict_get(n, http_request_param(req, "id"), p != NULL ? p->unit : NULL, &cf, err);
    if (rc != LT_OK) {
        return rc;
    }
    one = json_pack("[O]", cf);
    rc = record_items(req, "conflict", one, true, err);
    json_decref(one);
    if (rc != LT_OK) {
        json_decref(cf);
        return rc;
    }
    return http_reply_json(req, 200, cf);
}

/* A decision checked on the worker, written on the pool. */
struct resolve_job {
    struct node *n;
    json_t *body;
    char id[SYNC_CONFLICT_ID_MAX];
    char actor[EVLOG_ACTOR_MAX];
    char within[AUTH_UNIT_MAX];
    bool limited; /* within applies */
};

static enum lt_code run_resolve(struct http_request *req, void *arg, struct lt_error *err)
{
    struct resolve_job *j = arg;
    struct sync_resolution r = { 0 };
    json_t *out = NULL;
    enum lt_code rc;

    r.id = j->id;
    r.choice = json_string_value(json_object_get(j->body, "choice"));
    r.record = json_object_get(j->body, "record");
    r.version = json_integer_value(json_object_get(j->body, "version"));
    r.actor = j->actor;
    r.within = j->limited ? j->within : NULL;
    rc = sync_conflict_resolve(j->n, &r, &out, err);
    json_decref(j->body);
    free(j);
    return rc != LT_OK ? rc : http_reply_json(req, 200, out);
}

static enum lt_code body_error(struct lt_error *err, const char *field, const char *what)
{
    lt_error_set(err, LT_EINVAL, "\"%s\" must be %s", field, what);
    lt_error_field(err, field);
    return LT_EINVAL;
}

/* The body's shape: {choice: string, version: integer >= 1, record?: object}. */
static enum lt_code check_body(const json_t *body, struct lt_error *err)
{
    const json_t *v = json_object_get(body, "version");
    const json_t *rec = json_object_get(body, "record");
    enum lt_code rc = http_json_only_fields(body, body_fields, err);

    if (rc != LT_OK) {
        return rc;
    }
    if (!json_is_string(json_object_get(body, "choice"))) {
        return body_error(err, "choice", "\"held\", \"incoming\" or \"merged\"");
    }
    if (!json_is_integer(v) || json_integer_value(v) < 1) {
        body_error(err, "version", "the record's current version, a whole number from 1");
        lt_error_hint(err, "read the conflict and send its \"current\".\"version\"");
        return LT_EINVAL;
    }
    if (rec != NULL && !json_is_object(rec)) {
        return body_error(err, "record", "an object: the merged record");
    }
    return LT_OK;
}

static enum lt_code post_resolve(struct http_request *req, void *ctx, struct lt_error *err)
{
    const struct auth_principal *p = http_request_principal(req);
    const char *id = http_request_param(req, "id");
    struct resolve_job *j;
    json_t *body = NULL;
    enum lt_code rc;

    if ((rc = http_request_only_query(req, q_none, err)) != LT_OK ||
        (rc = http_request_json(req, &body, err)) != LT_OK) {
        return rc;
    }
    if ((rc = check_body(body, err)) != LT_OK) {
        json_decref(body);
        return rc;
    }
    if (strlen(id) >= SYNC_CONFLICT_ID_MAX) {
        json_decref(body);
        lt_error_set(err, LT_ENOTFOUND, "no conflict \"%.80s\"", id);
        return LT_ENOTFOUND;
    }
    j = xcalloc(1, sizeof(*j));
    j->n = ctx;
    j->body = body;
    snprintf(j->id, sizeof(j->id), "%s", id);
    /* XXX: with no accounts on the node the actor is the client address. */
    snprintf(j->actor, sizeof(j->actor), "%s", p != NULL ? p->account : http_request_client(req));
    if (p != NULL) {
        snprintf(j->within, sizeof(j->within), "%s", p->unit);
        j->limited = true;
    }
    http_request_defer(req, run_resolve, j);
    return LT_OK;
}

void sync_conflict_routes_register(struct node *n, struct http_server *srv)
{
    http_server_route(srv, "GET", "/api/v1/conflicts", list_conflicts, n);
    http_server_route(srv, "GET", "/api/v1/conflicts/{id}", get_conflict, n);
    http_server_route(srv, "POST", "/api/v1/conflicts/{id}/resolve", post_resolve, n);
}
