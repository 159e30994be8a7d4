/*
 * router.c - route patterns and path matching.
 *
 * A route keeps its pattern split into segments.  Matching splits a copy of
 * the request path in place (the copy becomes the storage of the captured
 * values) and compares segment by segment against every route: the table
 * holds tens of routes, so a linear scan costs less than the JSON encoding
 * of any answer.
 */
#include "http/router.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/buf.h"
#include "core/banned.h"

struct segment {
    char *text; /* the literal, or the capture's name without braces */
    bool capture;
};

struct http_route {
    char method[HTTP_METHOD_MAX];
    char *pattern;
    struct segment segs[HTTP_ROUTE_MAX_SEGMENTS];
    size_t nsegs;
    http_handler_fn handler;
    void *ctx;
};

struct http_router {
    struct http_route **routes;
    size_t n, alloc;
};

static void route_free(struct http_route *route)
{
    if (route == NULL) {
        return;
    }
    for (size_t i = 0; i < route->nsegs; i++) {
        free(route->segs[i].text);
    }
    free(route->pattern);
    free(route);
}

static bool valid_method(const char *method)
{
    size_t len = strlen(method);

    if (len == 0 || len >= HTTP_METHOD_MAX) {
        return false;
    }
    for (size_t i = 0; i < len; i++) {
        if (method[i] < 'A' || method[i] > 'Z') {
            return false;
        }
    }
    return true;
}

static bool valid_capture_name(const char *s, size_t len)
{
    if (len == 0) {
        return false;
    }
    for (size_t i = 0; i < len; i++) {
        char c = s[i];

        if (!((c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '_')) {
            return false;
        }
    }
    return true;
}

/* Split pattern into route->segs; LT_EINVAL with the reason otherwise. */
static enum lt_code parse_pattern(struct http_route *route, const char *pattern,
                                  struct lt_error *err)
{
    const char *p = pattern + 1;
    size_t ncaptures = 0;

    for (;;) {
        const char *end = strchr(p, '/');
        size_t len = end != NULL ? (size_t)(end - p) : strlen(p);
        struct segment *seg;

        if (route->nsegs == HTTP_ROUTE_MAX_SEGMENTS) {
            return lt_error_set(err, LT_EINVAL, "route \"%s\" has more than %d segments", pattern,
                                HTTP_ROUTE_MAX_SEGMENTS);
        }
        seg = &route->segs[route->nsegs];
        if (len > 0 && p[0] == '{') {
            if (len < 2 || p[len - 1] != '}' || !valid_capture_name(p + 1, len - 2)) {
                return lt_error_set(err, LT_EINVAL, "malformed capture \"%.*s\" in route \"%s\"",
                                    (int)len, p, pattern);
            }
            for (size_t i = 0; i < route->nsegs; i++) {
                if (route->segs[i].capture && strlen(route->segs[i].text) == len - 2 &&
                    memcmp(route->segs[i].text, p + 1, len - 2) == 0) {
                    return lt_error_set(err, LT_EINVAL, "capture \"%.*s\" appears twice in \"%s\"",
                                        (int)len, p, pattern);
                }
            }
            if (++ncaptures > HTTP_ROUTE_MAX_PARAMS) {
                return lt_error_set(err, LT_EINVAL, "route \"%s\" has more than %d captures",
                                    pattern, HTTP_ROUTE_MAX_PARAMS);
            }
            seg->text = xstrndup(p + 1, len - 2);
            seg->capture = true;
        } else {
            if (memchr(p, '{', len) != NULL || memchr(p, '}', len) != NULL) {
                return lt_error_set(err, LT_EINVAL, "stray brace in segment \"%.*s\" of \"%s\"",
                                    (int)len, p, pattern);
            }
            seg->text = xstrndup(p, len);
            seg->capture = false;
        }
        route->nsegs++;
        if (end == NULL) {
            return LT_OK;
        }
        p = end + 1;
    }
}

static bool same_pattern(const struct http_route *a, const struct http_route *b)
{
    if (a->nsegs != b->nsegs) {
        return false;
    }
    for (size_t i = 0; i < a->nsegs; i++) {
        /* "{code}" and "{id}" at the same place would be ambiguous too. */
        if (a->segs[i].capture != b->segs[i].capture) {
            return false;
        }
        if (!a->segs[i].capture && strcmp(a->segs[i].text, b->segs[i].text) != 0) {
            return false;
        }
    }
    return true;
}

/* Does route match the split path?  Captures must be non-empty. */
static bool route_matches(const struct http_route *route, char *const *segs, size_t nsegs)
{
    if (route->nsegs != nsegs) {
        return false;
    }
    for (size_t i = 0; i < nsegs; i++) {
        if (route->segs[i].capture) {
            if (segs[i][0] == '\0') {
                return false;
            }
        } else if (strcmp(route->segs[i].text, segs[i]) != 0) {
            return false;
        }
    }
    return true;
}

/* True if a is more specific than b: a literal where they first differ. */
static bool more_specific(const struct http_route *a, const struct http_route *b)
{
    for (size_t i = 0; i < a->nsegs; i++) {
        if (a->segs[i].capture != b->segs[i].capture) {
            return !a->segs[i].capture;
        }
    }
    return false;
}

static bool method_fits(const struct http_route *route, const char *method)
{
    if (strcmp(route->method, method) == 0) {
        return true;
    }
    return strcmp(method, "HEAD") == 0 && strcmp(route->method, "GET") == 0;
}

/* Add method to the comma-separated allow list unless it is there. */
static void allow_add(char *allow, const char *method)
{
    size_t len = strlen(allow);
    size_t mlen = strlen(method);
    const char *p = allow;

    while ((p = strstr(p, method)) != NULL) {
        if ((p == allow || p[-1] == ' ') && (p[mlen] == ',' || p[mlen] == '\0')) {
            return;
        }
        p += mlen;
    }
    if (len + mlen + 3 > HTTP_ALLOW_MAX) {
        return;
    }
    snprintf(allow + len, HTTP_ALLOW_MAX - len, "%s%s", len > 0 ? ", " : "", method);
}

/*
 * Split path (after its leading '/') in place; false if too many segments.
 * XXX: libmicrohttpd percent-decodes the path before we see it, so "%2F"
 * inside a segment splits it like a '/'.
 */
static bool split_path(char *path, char **segs, size_t *nsegs)
{
    char *p = path + 1;

    *nsegs = 0;
    for (;;) {
        char *end = strchr(p, '/');

        if (*nsegs == HTTP_ROUTE_MAX_SEGMENTS) {
            return false;
        }
        segs[(*nsegs)++] = p;
        if (end == NULL) {
            return true;
        }
        *end = '\0';
        p = end + 1;
    }
}

struct http_router *http_router_new(void)
{
    return xcalloc(1, sizeof(struct http_router));
}

void http_router_free(struct http_router *r)
{
    if (r == NULL) {
        return;
    }
    for (size_t i = 0; i < r->n; i++) {
        route_free(r->routes[i]);
    }
    free(r->routes);
    free(r);
}

enum lt_code http_router_add(struct http_router *r, const char *method, const char *pattern,
                             http_handler_fn handler, void *ctx, struct lt_error *err)
{
    struct http_route *route = NULL;
    enum lt_code rc;

    if (!valid_method(method)) {
        return lt_error_set(err, LT_EINVAL, "malformed method \"%s\"", method);
    }
    if (pattern[0] != '/') {
        return lt_error_set(err, LT_EINVAL, "route \"%s\" does not start with '/'", pattern);
    }
    if (handler == NULL) {
        return lt_error_set(err, LT_EINVAL, "route \"%s\" has no handler", pattern);
    }

    route = xcalloc(1, sizeof(*route));
    snprintf(route->method, sizeof(route->method), "%s", method);
    route->pattern = xstrdup(pattern);
    route->handler = handler;
    route->ctx = ctx;
    rc = parse_pattern(route, pattern, err);
    if (rc != LT_OK) {
        goto out;
    }

    for (size_t i = 0; i < r->n; i++) {
        if (strcmp(r->routes[i]->method, method) == 0 && same_pattern(r->routes[i], route)) {
            rc = lt_error_set(err, LT_EINVAL, "route %s \"%s\" clashes with \"%s\"", method,
                              pattern, r->routes[i]->pattern);
            goto out;
        }
    }
    if (r->n == r->alloc) {
        r->alloc = r->alloc ? r->alloc * 2 : 16;
        r->routes = xrealloc(r->routes, r->alloc * sizeof(*r->routes));
    }
    r->routes[r->n++] = route;
    route = NULL;

out:
    route_free(route);
    return rc;
}

enum http_match_result http_router_match(const struct http_router *r, const char *method,
                                         const char *path, struct http_match *m)
{
    char *segs[HTTP_ROUTE_MAX_SEGMENTS];
    size_t nsegs;
    const struct http_route *best = NULL;
    bool path_known = false;

    memset(m, 0, sizeof(*m));
    if (path[0] != '/') {
        return HTTP_MATCH_NO_PATH;
    }
    m->scratch = xstrdup(path);
    if (!split_path(m->scratch, segs, &nsegs)) {
        return HTTP_MATCH_NO_PATH;
    }

    for (size_t i = 0; i < r->n; i++) {
        const struct http_route *route = r->routes[i];

        if (!route_matches(route, segs, nsegs)) {
            continue;
        }
        path_known = true;
        allow_add(m->allow, route->method);
        if (strcmp(route->method, "GET") == 0) {
            allow_add(m->allow, "HEAD");
        }
        if (method_fits(route, method) && (best == NULL || more_specific(route, best))) {
            best = route;
        }
    }
    if (best == NULL) {
        return path_known ? HTTP_MATCH_NO_METHOD : HTTP_MATCH_NO_PATH;
    }

    m->route = best;
    m->handler = best->handler;
    m->ctx = best->ctx;
    for (size_t i = 0; i < best->nsegs; i++) {
        if (best->segs[i].capture) {
            m->names[m->nparams] = best->segs[i].text;
            m->values[m->nparams] = segs[i];
            m->nparams++;
        }
    }
    return HTTP_MATCH_OK;
}

void http_match_release(struct http_match *m)
{
    if (m == NULL) {
        return;
    }
    free(m->scratch);
    memset(m, 0, sizeof(*m));
}

const char *http_match_param(const struct http_match *m, const char *name)
{
    for (size_t i = 0; i < m->nparams; i++) {
        if (strcmp(m->names[i], name) == 0) {
            return m->values[i];
        }
    }
    return NULL;
}

void http_router_each(const struct http_router *r, http_route_visit_fn fn, void *arg)
{
    for (size_t i = 0; i < r->n; i++) {
        fn(r->routes[i]->method, r->routes[i]->pattern, arg);
    }
}

const char *http_route_pattern(const struct http_route *route)
{
    return route->pattern;
}
