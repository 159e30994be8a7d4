/*
 * router.h - matching request paths against route patterns.
 *
 * A pattern is a path whose segments are literals or captures:
 * "/api/v1/units/{code}/children".  A capture matches one non-empty
 * segment and is read back by name.  Routes are added before the server
 * starts and only read afterwards, so matching needs no lock.
 *
 * When several patterns match a path, the one with a literal at the first
 * segment where they differ wins ("/units/search" over "/units/{code}").
 * GET routes also answer HEAD.  A path that some pattern matches, but for
 * another method, is "no method" (405) and the match lists the Allow value.
 *
 * This file knows nothing of libmicrohttpd, so that it can be unit tested
 * on its own.
 */
#ifndef LT_HTTP_ROUTER_H
#define LT_HTTP_ROUTER_H

#include <stdbool.h>
#include <stddef.h>

#include "core/error.h"
#include "http/server.h"

#define HTTP_ROUTE_MAX_SEGMENTS 16
#define HTTP_ROUTE_MAX_PARAMS   8
#define HTTP_METHOD_MAX         16
#define HTTP_ALLOW_MAX          128

struct http_router;
struct http_route;

enum http_match_result {
    HTTP_MATCH_OK,
    HTTP_MATCH_NO_PATH,   /* no pattern matches the path: 404 */
    HTTP_MATCH_NO_METHOD, /* patterns match, none for this method: 405 */
};

/* The outcome of a match; release it with http_match_release. */
struct http_match {
    const struct http_route *route;
    http_handler_fn handler;
    void *ctx;
    size_t nparams;
    const char *names[HTTP_ROUTE_MAX_PARAMS];  /* borrowed from the route */
    const char *values[HTTP_ROUTE_MAX_PARAMS]; /* point into scratch */
    char *scratch;                             /* owned copy of the path, split */
    char allow[HTTP_ALLOW_MAX];                /* "GET, HEAD", for NO_METHOD */
};

struct http_router *http_router_new(void);
void http_router_free(struct http_router *r);

/*
 * Add a route.  LT_EINVAL for a malformed method or pattern (no leading
 * '/', an empty or malformed capture name, a name used twice, too many
 * segments or captures) and for a (method, pattern) pair already added.
 */
enum lt_code http_router_add(struct http_router *r, const char *method, const char *pattern,
                             http_handler_fn handler, void *ctx, struct lt_error *err);

/* Match a request; m is filled in every case and must be released. */
enum http_match_result http_router_match(const struct http_router *r, const char *method,
                                         const char *path, struct http_match *m);

void http_match_release(struct http_match *m);

/* The value captured for name (borrowed from m), or NULL. */
const char *http_match_param(const struct http_match *m, const char *name);

/* Call fn(method, pattern, arg) for every route, in the order added. */
void http_router_each(const struct http_router *r, http_route_visit_fn fn, void *arg);

/* The pattern of the route matched, e.g. "/api/v1/units/{code}" (borrowed). */
const char *http_route_pattern(const struct http_route *route);

#endif
