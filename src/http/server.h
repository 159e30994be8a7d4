/*
 * server.h - the HTTP framework every module of Lienthong serves through.
 *
 * A thin layer over libmicrohttpd: a server owns a listening socket, a pool
 * of worker threads (epoll, one event loop per thread) and a route table.
 * Modules add routes before the server starts:
 *
 *     http_server_route(s, "GET", "/api/v1/units/{code}", get_unit, ctx);
 *
 * and a handler reads the request through the accessors below and answers
 * with exactly one http_reply_* call, or returns an error code with err
 * filled, which the framework turns into the one JSON error body:
 *
 *     {"error": {"code": "invalid_input", "message": "...", "detail": "...",
 *                "hint": "...", "field": "..."}}
 *
 * (empty members left out) with the status of lt_code_http_status().
 *
 * The framework answers by itself: 404 for an unknown path, 405 with an
 * Allow header for a known path and another method, 413 for a body over the
 * cap (refused from Content-Length before reading, or counted while
 * receiving a chunked body), 414 for an over-long path.  HEAD is served by
 * the GET route with the body dropped.  Every response carries
 * "X-Content-Type-Options: nosniff" and "Cache-Control: no-store"; JSON is
 * "application/json; charset=utf-8".  Each request ends with one access
 * log line at DEBUG in component "http": method, path, status, bytes and
 * microseconds.
 *
 * Threads: handlers run on the worker threads, several at a time, and must
 * only share read-only state or lock what they share.  A handler blocks the
 * other connections of its worker while it runs, so work that waits (a
 * durable write waiting for its commit) is handed to the server's pool of
 * blocking threads with http_request_defer: the connection is suspended,
 * the worker goes on serving the others, and the many requests waiting at
 * once are what lets the store group their commits.
 */
#ifndef LT_HTTP_SERVER_H
#define LT_HTTP_SERVER_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <jansson.h>

#include "auth/principal.h"
#include "core/error.h"

#define HTTP_DEFAULT_LISTEN   "127.0.0.1:8080"
#define HTTP_DEFAULT_MAX_BODY ((size_t)1 << 20)
#define HTTP_JSON_MAX_DEPTH   32
#define HTTP_PATH_MAX         1024 /* longer request paths get 414 */

/*
 * Limits of a server.  A zero field takes its default (http_config_init).
 * Bodies are buffered whole, so max_connections * max_body bounds the
 * memory that request bodies can take.
 */
struct http_config {
    /* "127.0.0.1:8080", "[::1]:8080", ":8080" (every IPv4 interface) or
     * "[::]:8080"; port 0 picks a free port (http_server_port tells which).
     * Borrowed: http_server_new copies it. */
    const char *listen;
    unsigned threads;          /* worker threads; 0 = number of CPUs */
    size_t max_body;           /* request body cap in bytes */
    unsigned max_connections;  /* all clients together */
    unsigned max_per_ip;       /* connections from one address */
    unsigned timeout_seconds;  /* idle connections are closed after this */
    size_t connection_memory;  /* per-connection buffer: bounds the request line and headers */
    unsigned blocking_threads; /* most threads for deferred work (http_request_defer), started as
                                  jobs wait */
    /* A connection must deliver a request's whole headers within this many
     * seconds of opening or of its previous answer, or it is closed: a
     * client dripping header bytes cannot hold a connection (the idle
     * timeout alone restarts at every byte).  0: 10 s. */
    unsigned header_timeout_seconds;
    /* TLS: the certificate chain and private key as PEM text (borrowed,
     * copied by http_server_new); both NULL for plain HTTP. */
    const char *tls_cert_pem;
    const char *tls_key_pem;
    /* The address of a reverse proxy in front of the node (borrowed, copied),
     * or NULL: a request from it is the client's that the last entry of its
     * X-Forwarded-For names, for the login limits, the access log and the
     * audit trail. */
    const char *trusted_proxy;
};

struct http_server;
struct http_request;

/*
 * A route handler.  It either answers with one http_reply_* call and
 * returns LT_OK, or returns an error code with err filled and lets the
 * framework send the error body.  ctx is what was given to
 * http_server_route.
 */
typedef enum lt_code (*http_handler_fn)(struct http_request *req, void *ctx, struct lt_error *err);

/* The content security policy of every response: only this origin's
 * scripts, styles, images and requests (no inline script, style or event
 * handler), no plug-ins, never in a frame, forms posted here only. */
#define HTTP_CSP                                                                                   \
    "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self'; "                    \
    "connect-src 'self'; object-src 'none'; frame-ancestors 'none'; base-uri 'none'; "             \
    "form-action 'self'"

/* Fill cfg with the defaults: 127.0.0.1:8080, CPU count threads, 1 MiB
 * bodies, 1024 connections, 64 per address, 30 s timeout, 16 KiB memory,
 * 64 blocking threads. */
void http_config_init(struct http_config *cfg);

/*
 * A server for cfg (copied), not yet listening.  LT_EINVAL (NULL returned)
 * for a malformed listen address or an out-of-range limit; the error names
 * the field at fault.
 */
struct http_server *http_server_new(const struct http_config *cfg, struct lt_error *err);

/*
 * Add a route: method "GET", "POST", ...; pattern "/a/{name}/b".  Routes
 * must all be added before http_server_start.  A malformed pattern or a
 * route added twice is a defect in the calling module and aborts (BUG).
 */
void http_server_route(struct http_server *s, const char *method, const char *pattern,
                       http_handler_fn handler, void *ctx);

/*
 * Visit every route added: fn(method, pattern, arg), in the order added
 * (borrowed strings).  The access policy (src/auth/policy.h) checks with it
 * that each route has a rule.
 */
typedef void (*http_route_visit_fn)(const char *method, const char *pattern, void *arg);
void http_server_each_route(const struct http_server *s, http_route_visit_fn fn, void *arg);

/*
 * Bind, listen and start the workers.  LT_EIO when the address cannot be
 * bound (the port is taken, the address is not local), with the system's
 * reason in the detail, or when libmicrohttpd refuses the TLS certificate
 * or key; LT_EUNAVAIL when TLS is asked of a libmicrohttpd built without it.
 */
enum lt_code http_server_start(struct http_server *s, struct lt_error *err);

/* Finish the deferred work, stop accepting, close every connection and
 * join the workers.  Safe to call on a server not started or already
 * stopped. */
void http_server_stop(struct http_server *s);

/* Stop if needed and free.  s may be NULL. */
void http_server_free(struct http_server *s);

/* The port listened on (useful with port 0); 0 before start. */
uint16_t http_server_port(const struct http_server *s);

/* "http://127.0.0.1:8080" (https:// with TLS) once started, "" before (borrowed). */
const char *http_server_url(const struct http_server *s);

/* The request body cap in force, in bytes. */
size_t http_server_max_body(const struct http_server *s);

/* Request accessors.  Strings are borrowed and live as long as the request. */

const char *http_request_method(const struct http_request *req);
const char *http_request_path(const struct http_request *req);

/* The value a "{name}" segment captured, or NULL if the pattern has none. */
const char *http_request_param(const struct http_request *req, const char *name);

/* A query argument, percent-decoded; NULL if absent ("?q" alone gives ""). */
const char *http_request_query(const struct http_request *req, const char *name);

/*
 * Refuse a query argument whose name is not in allowed (NULL-terminated):
 * LT_EINVAL naming the first unknown one (in field too) and listing the
 * allowed ones in the hint, so that "?nmae=" is not silently ignored.
 */
enum lt_code http_request_only_query(const struct http_request *req, const char *const *allowed,
                                     struct lt_error *err);

/* A request header (case-insensitive name), or NULL. */
const char *http_request_header(const struct http_request *req, const char *name);

/* The body bytes (NUL-terminated, "" when none) and their count. */
const char *http_request_body(const struct http_request *req, size_t *len);

/* The client's address, "127.0.0.1" or "::1". */
const char *http_request_client(const struct http_request *req);

/* True if the request came over TLS (the server has a certificate). */
bool http_request_tls(const struct http_request *req);

/*
 * Parse the body as a JSON object (new reference in *out).  LT_EINVAL for
 * an empty body, malformed JSON (the detail gives the line, column and
 * byte offset), nesting deeper than HTTP_JSON_MAX_DEPTH, duplicate keys, or
 * a value that is not an object.
 */
enum lt_code http_request_json(struct http_request *req, json_t **out, struct lt_error *err);

/*
 * Inside a handler: finish this request on the blocking pool instead.  The
 * handler calls this, returns LT_OK at once and does not reply; fn(req,
 * arg, err) then runs on a pool thread and answers like any handler (one
 * http_reply_* call, or an error code).  Every accessor still works there.
 * While the server stops, fn runs on the worker instead.  Deferring twice
 * or after replying is a BUG.
 */
void http_request_defer(struct http_request *req, http_handler_fn fn, void *arg);

/*
 * The guard: run on every matched request before its handler, to
 * authenticate it and check that the route may be used (src/auth).  It
 * returns LT_OK to let the handler run, having attached the principal
 * with http_request_set_principal when the caller is known, or an error
 * code (LT_EUNAUTH, LT_EFORBIDDEN, LT_ELIMIT, ...) with err filled, which is
 * answered instead of running the handler.  Without a guard every request
 * runs anonymous.  Set before http_server_start.
 */
typedef enum lt_code (*http_guard_fn)(struct http_request *req, void *ctx, struct lt_error *err);
void http_server_set_guard(struct http_server *s, http_guard_fn fn, void *ctx);

/* The route pattern the request matched ("/api/v1/units/{code}"), borrowed. */
const char *http_request_route(const struct http_request *req);

/* Attach the principal (copied) to the request; only the guard calls this. */
void http_request_set_principal(struct http_request *req, const struct auth_principal *p);

/* The caller's principal, or NULL for an anonymous request (borrowed). */
const struct auth_principal *http_request_principal(const struct http_request *req);

/*
 * Add a header to the reply sent next ("Location", "Retry-After", ...).
 * Name and value are copied.  At most 8 per request; more is a BUG.
 */
void http_reply_header(struct http_request *req, const char *name, const char *value);

/*
 * Reply with a JSON document; body is stolen (decref'd in every case).
 * Replying twice to one request is a BUG.  LT_EIO if libmicrohttpd refused
 * the response (the connection is then closed).
 */
enum lt_code http_reply_json(struct http_request *req, int status, json_t *body);

/* Reply with the error body and the status of err->code. */
enum lt_code http_reply_error(struct http_request *req, const struct lt_error *err);

/* Reply with the error body and an explicit status (e.g. 405, 414). */
enum lt_code http_reply_error_status(struct http_request *req, int status,
                                     const struct lt_error *err);

/* Reply with text of the given content type (copied), e.g. for /metrics. */
enum lt_code http_reply_text(struct http_request *req, int status, const char *content_type,
                             const char *text, size_t len);

/*
 * Reply with the bytes of b (taken: b is left empty, its cap kept), e.g. a
 * JSON document built as text.  Saves a copy over http_reply_text.
 */
struct buf;
enum lt_code http_reply_buf(struct http_request *req, int status, const char *content_type,
                            struct buf *b);

/*
 * The inner error object {"code", "message", "detail"?, "hint"?, "field"?}
 * (new reference); http_error_json wraps it as {"error": {...}}.  Batch
 * endpoints put the inner object in the place of a failed item.
 */
json_t *http_error_object(const struct lt_error *err);
json_t *http_error_json(const struct lt_error *err);

#endif
