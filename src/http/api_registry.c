/*
 * api_registry.c - the registry endpoints (see api_registry.h).
 *
 * Handlers only translate: path, query and headers to a registry call, its
 * result or error to JSON.  Validation, versions and events all live in the
 * registry module, so the CLI import and the HTTP API cannot disagree.
 */
#include "http/api_registry.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/buf.h"
#include "core/date.h"
#include "core/log.h"
#include "core/banned.h"

#define LIST_LIMIT_DEFAULT 50
#define LIST_LIMIT_MAX     500
#define KEY_MAX            160

struct kind_ctx {
    struct node *node;
    enum registry_kind kind;
};

static struct kind_ctx contexts[REG_KIND_COUNT];

static const char *const plurals[REG_KIND_COUNT] = {
    [REG_PERSON] = "people",  [REG_RESIDENCE] = "residences", [REG_HOUSEHOLD] = "households",
    [REG_PARCEL] = "parcels", [REG_BENEFIT] = "benefits",     [REG_BUSINESS] = "businesses",
};

/* Kinds whose key is two path segments: "<person id>/<part>". */
static bool two_part_key(enum registry_kind kind)
{
    return kind == REG_RESIDENCE || kind == REG_BENEFIT;
}

/* The record key from the path: "{key}" or "{key}/{part}". */
static enum lt_code path_key(struct http_request *req, enum registry_kind kind, char *out,
                             size_t cap, struct lt_error *err)
{
    const char *key = http_request_param(req, "key");
    const char *part = http_request_param(req, "part");
    int n;

    if (two_part_key(kind)) {
        n = snprintf(out, cap, "%s/%s", key, part);
    } else {
        n = snprintf(out, cap, "%s", key);
    }
    if (n < 0 || (size_t)n >= cap) {
        lt_error_set(err, LT_EINVAL, "the %s key in the path is too long",
                     registry_kind_name(kind));
        lt_error_field(err, "key");
        return LT_EINVAL;
    }
    return LT_OK;
}

static void etag_of(int64_t version, char out[32])
{
    snprintf(out, 32, "\"%lld\"", (long long)version);
}

/* Parse a query date, or keep *out when the argument is absent. */
static enum lt_code query_date(struct http_request *req, const char *name, int32_t *out,
                               struct lt_error *err)
{
    const char *s = http_request_query(req, name);

    if (s == NULL) {
        return LT_OK;
    }
    if (date_parse(s, out, err) != LT_OK) {
        lt_error_field(err, name);
        return LT_EINVAL;
    }
    return LT_OK;
}

/* A whole number query argument in [lo, hi], or keep *out when absent. */
static enum lt_code query_long(struct http_request *req, const char *name, long lo, long hi,
                               long *out, struct lt_error *err)
{
    const char *s = http_request_query(req, name);
    char *end;
    long v;

    if (s == NULL) {
        return LT_OK;
    }
    v = strtol(s, &end, 10);
    if (*s == '\0' || *end != '\0' || v < lo || v > hi) {
        lt_error_set(err, LT_EINVAL, "\"%s\" must be a whole number from %ld to %ld", name, lo, hi);
        lt_error_field(err, name);
        return LT_EINVAL;
    }
    *out = v;
    return LT_OK;
}

static enum lt_code get_record(struct http_request *req, void *ctx, struct lt_error *err)
{
    const struct kind_ctx *k = ctx;
    char key[KEY_MAX], etag[32];
    int32_t as_of = DATE_MIN;
    json_t *record = NULL;
    int64_t version = 0;
    const char *inm;
    enum lt_code rc;

    if ((rc = path_key(req, k->kind, key, sizeof(key), err)) != LT_OK ||
        (rc = query_date(req, "as_of", &as_of, err)) != LT_OK) {
        return rc;
    }
    if (as_of != DATE_MIN) {
        rc = registry_get_as_of(k->node, k->kind, key, as_of, &record, err);
        if (rc != LT_OK) {
            return rc;
        }
        return http_reply_json(req, 200, json_pack("{s:o}", "record", record));
    }
    rc = registry_get(k->node, k->kind, key, &record, &version, err);
    if (rc != LT_OK) {
        return rc;
    }
    etag_of(version, etag);
    inm = http_request_header(req, "If-None-Match");
    http_reply_header(req, "ETag", etag);
    if (inm != NULL && strcmp(inm, etag) == 0) {
        json_decref(record);
        return http_reply_text(req, 304, "application/json; charset=utf-8", "", 0);
    }
    return http_reply_json(
        req, 200, json_pack("{s:I, s:o}", "version", (json_int_t)version, "record", record));
}

static enum lt_code get_history(struct http_request *req, void *ctx, struct lt_error *err)
{
    const struct kind_ctx *k = ctx;
    char key[KEY_MAX];
    json_t *events = NULL;
    enum lt_code rc;

    if ((rc = path_key(req, k->kind, key, sizeof(key), err)) != LT_OK ||
        (rc = registry_history(k->node, k->kind, key, &events, err)) != LT_OK) {
        return rc;
    }
    return http_reply_json(req, 200, json_pack("{s:s, s:o}", "key", key, "events", events));
}

/* The version a change is based on: If-Match: "N", or ?base_version=N. */
static enum lt_code base_version(struct http_request *req, int64_t *out, struct lt_error *err)
{
    const char *im = http_request_header(req, "If-Match");
    long v = -1;
    enum lt_code rc;

    if (im != NULL) {
        char *end;
        const char *p = im[0] == '"' ? im + 1 : im;

        v = strtol(p, &end, 10);
        if (end == p || v < 1 || (im[0] == '"' && strcmp(end, "\"") != 0) ||
            (im[0] != '"' && *end != '\0')) {
            lt_error_set(err, LT_EINVAL, "malformed If-Match header \"%.40s\"", im);
            lt_error_hint(err, "send the ETag of the version you changed, e.g. If-Match: \"3\"");
            lt_error_field(err, "If-Match");
            return LT_EINVAL;
        }
    } else if ((rc = query_long(req, "base_version", 1, INT32_MAX, &v, err)) != LT_OK) {
        return rc;
    }
    if (v < 1) {
        lt_error_set(err, LT_EINVAL, "a change must name the version it is based on");
        lt_error_hint(err, "read the record first and send its ETag as If-Match");
        lt_error_field(err, "If-Match");
        return LT_EINVAL;
    }
    *out = v;
    return LT_OK;
}

/* Reply to a refused write; a stale version also names the current one. */
static enum lt_code reply_write_error(struct http_request *req, const struct lt_error *err,
                                      int64_t current)
{
    json_t *body;
    int status = lt_code_http_status(err->code);

    if (err->code != LT_ECONFLICT || current < 1) {
        return http_reply_error(req, err);
    }
    body = http_error_json(err);
    json_object_set_new(json_object_get(body, "error"), "current_version", json_integer(current));
    return http_reply_json(req, status, body);
}

/* The key in the path of a change must be the record's own key. */
static enum lt_code check_key(enum registry_kind kind, const json_t *record, const char *key,
                              struct lt_error *err)
{
    char own[KEY_MAX];
    enum lt_code rc = registry_record_key(kind, record, own, sizeof(own), err);

    if (rc != LT_OK) {
        return rc;
    }
    if (strcmp(own, key) != 0) {
        lt_error_set(err, LT_EINVAL, "the record's key \"%s\" is not the one in the path \"%s\"",
                     own, key);
        lt_error_hint(err, "a key cannot be changed; register a new record instead");
        return LT_EINVAL;
    }
    return LT_OK;
}

/* Write the body as the record; key is the one in the path for a change
 * (NULL for a new record) and must be the record's own. */
static enum lt_code write_record(struct http_request *req, const struct kind_ctx *k, int64_t base,
                                 const char *key, struct lt_error *err)
{
    struct registry_change ch = { 0 };
    json_t *body = NULL;
    int64_t version = 0;
    int32_t effective = DATE_MIN;
    char etag[32];
    enum lt_code rc;

    if ((rc = query_date(req, "effective", &effective, err)) != LT_OK ||
        (rc = http_request_json(req, &body, err)) != LT_OK) {
        return rc;
    }
    if (key != NULL && (rc = check_key(k->kind, body, key, err)) != LT_OK) {
        json_decref(body);
        return rc;
    }
    ch.kind = k->kind;
    ch.record = body;
    ch.base_version = base;
    /* XXX: the actor is the client address until accounts exist (issue 6). */
    ch.actor = http_request_client(req);
    ch.cause = http_request_query(req, "cause") ? http_request_query(req, "cause") : "api";
    ch.effective = effective;
    rc = registry_write(k->node, &ch, &version, err);
    json_decref(body);
    if (rc != LT_OK) {
        return reply_write_error(req, err, version);
    }
    etag_of(version, etag);
    http_reply_header(req, "ETag", etag);
    return http_reply_json(req, base == 0 ? 201 : 200,
                           json_pack("{s:I}", "version", (json_int_t)version));
}

static enum lt_code post_record(struct http_request *req, void *ctx, struct lt_error *err)
{
    return write_record(req, ctx, 0, NULL, err);
}

static enum lt_code put_record(struct http_request *req, void *ctx, struct lt_error *err)
{
    const struct kind_ctx *k = ctx;
    char key[KEY_MAX];
    int64_t base = 0;
    enum lt_code rc;

    if ((rc = path_key(req, k->kind, key, sizeof(key), err)) != LT_OK ||
        (rc = base_version(req, &base, err)) != LT_OK) {
        return rc;
    }
    return write_record(req, k, base, key, err);
}

static enum lt_code list_records(struct http_request *req, void *ctx, struct lt_error *err)
{
    const struct kind_ctx *k = ctx;
    const char *unit = http_request_query(req, "unit");
    long limit = LIST_LIMIT_DEFAULT;
    json_t *page = NULL;
    enum lt_code rc;

    if (unit == NULL || unit[0] == '\0') {
        lt_error_set(err, LT_EINVAL, "listing %s needs a unit", plurals[k->kind]);
        lt_error_hint(err, "add ?unit=<commune or province code>");
        lt_error_field(err, "unit");
        return LT_EINVAL;
    }
    if ((rc = query_long(req, "limit", 1, LIST_LIMIT_MAX, &limit, err)) != LT_OK ||
        (rc = registry_list(k->node, k->kind, unit, http_request_query(req, "after"), (int)limit,
                            &page, err)) != LT_OK) {
        return rc;
    }
    return http_reply_json(req, 200, page);
}

static enum lt_code search_people(struct http_request *req, void *ctx, struct lt_error *err)
{
    const struct kind_ctx *k = ctx;
    const char *name = http_request_query(req, "name");
    long year = 0, limit = LIST_LIMIT_DEFAULT;
    json_t *results = NULL;
    enum lt_code rc;

    if (name == NULL || name[0] == '\0') {
        lt_error_set(err, LT_EINVAL, "a search needs a name");
        lt_error_hint(err, "add ?name=<full or partial name>, with or without diacritics");
        lt_error_field(err, "name");
        return LT_EINVAL;
    }
    if ((rc = query_long(req, "birth_year", 1900, 2199, &year, err)) != LT_OK ||
        (rc = query_long(req, "limit", 1, LIST_LIMIT_MAX, &limit, err)) != LT_OK ||
        (rc = registry_search_people(k->node, name, (int)year, http_request_query(req, "unit"),
                                     (int)limit, &results, err)) != LT_OK) {
        return rc;
    }
    return http_reply_json(req, 200, json_pack("{s:s, s:o}", "name", name, "results", results));
}

void api_registry_register(struct http_server *s, struct node *n)
{
    for (int kind = 0; kind < REG_KIND_COUNT; kind++) {
        struct kind_ctx *k = &contexts[kind];
        const char *keypat = two_part_key((enum registry_kind)kind) ? "{key}/{part}" : "{key}";
        char base[64], one[96], hist[112];

        k->node = n;
        k->kind = (enum registry_kind)kind;
        snprintf(base, sizeof(base), "/api/v1/%s", plurals[kind]);
        snprintf(one, sizeof(one), "%s/%s", base, keypat);
        snprintf(hist, sizeof(hist), "%s/history", one);
        http_server_route(s, "POST", base, post_record, k);
        http_server_route(s, "GET", base, list_records, k);
        http_server_route(s, "GET", one, get_record, k);
        http_server_route(s, "PUT", one, put_record, k);
        http_server_route(s, "GET", hist, get_history, k);
    }
    http_server_route(s, "GET", "/api/v1/people/search", search_people, &contexts[REG_PERSON]);
}
