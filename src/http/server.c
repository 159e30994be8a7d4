/*
 * server.c - the HTTP framework over libmicrohttpd.
 *
 * Lifecycle of a request.  libmicrohttpd calls on_request() several times
 * for one request: once when the headers are in (we make the struct
 * http_request, match the route, and refuse at once what can be refused
 * from the headers: 404, 405, 414, and 413 from Content-Length, before any
 * body byte is read), once per piece of body (appended to a capped buffer;
 * past the cap the rest is counted and dropped), and once at the end, when
 * the handler runs.  on_completed() writes the access log line and frees
 * the request.
 *
 * libmicrohttpd does not let a response be queued while body data is being
 * delivered, so a chunked body over the cap is answered 413 only once it
 * has been read (and dropped); a client that keeps sending past
 * HTTP_DISCARD_MAX is cut off without an answer.
 *
 * We bind the listening socket ourselves and hand it to libmicrohttpd, so
 * that "address in use" reaches the caller with errno's reason instead of
 * a bare NULL, and so that port 0 can tell which port it got.
 *
 * Ownership: the server owns the router, the daemon and the socket; each
 * request owns its copies of method and path, its body buffer and the extra
 * reply headers, all freed in on_completed().
 */
#include "http/server.h"

#include <arpa/inet.h>
#include <errno.h>
#include <microhttpd.h>
#include <netinet/in.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include "core/buf.h"
#include "core/log.h"
#include "core/utf8.h"
#include "http/json_body.h"
#include "http/router.h"
#include "core/banned.h"

#define LISTEN_SPEC_MAX       80
#define LISTEN_BACKLOG        511
#define REPLY_HEADERS_MAX     8
#define HTTP_DISCARD_MAX      ((uint64_t)16 << 20) /* bytes dropped past the cap before we cut */
#define THREADS_MAX           1024
#define MAX_BODY_LIMIT        ((size_t)1 << 30)
#define CONNECTION_MEMORY_MIN ((size_t)8 << 10)
#define BLOCKING_THREADS      64
#define POOL_FIRST            2  /* blocking threads started with the server */
#define HEADER_TIMEOUT        10 /* seconds, the default header deadline */

struct listen_addr {
    struct sockaddr_storage ss;
    socklen_t len;
    int family;
    char host[LISTEN_SPEC_MAX];
};

/*
 * A connection, from accept to close, for the header deadline: since when
 * it has been waiting for a request's headers (while not in a request).
 * Linked in the server's list under conns_mu; the sweeper thread shuts
 * down the socket of one past the deadline, which libmicrohttpd then sees
 * as closed by the peer.  libmicrohttpd tells us a connection closed
 * (on_connection) before it closes the socket, and we unlink it there
 * under the same lock, so the sweeper never touches a reused descriptor.
 */
struct conn_track {
    struct conn_track *prev, *next;
    int fd;
    bool in_request;
    bool cut;
    struct timespec since;
};

struct http_server {
    struct http_config cfg;
    char *tls_cert; /* owned copies of the PEM texts, or NULL */
    char *tls_key;
    char proxy[INET6_ADDRSTRLEN]; /* cfg.trusted_proxy, normalised; "" if none */
    char listen_spec[LISTEN_SPEC_MAX];
    struct listen_addr addr;
    struct http_router *router;
    struct MHD_Daemon *daemon;
    uint16_t port;
    char url[LISTEN_SPEC_MAX + 32];
    atomic_bool starting; /* inside MHD_start_daemon: its messages are warnings */
    http_guard_fn guard;  /* run before every handler (http_server_set_guard), or NULL */
    void *guard_ctx;

    /* The blocking pool (see http_request_defer): a FIFO of suspended
     * requests, linked through next_job, under pool_mu. */
    pthread_t *pool; /* room for cfg.blocking_threads; npool started */
    unsigned npool;
    unsigned pool_busy; /* threads running a job */
    unsigned njobs;     /* jobs queued, not yet taken */
    pthread_mutex_t pool_mu;
    pthread_cond_t pool_cond;
    struct http_request *jobs_head, *jobs_tail;
    bool pool_stopping;

    /* The header deadline (struct conn_track). */
    pthread_mutex_t conns_mu;
    pthread_cond_t conns_cond;
    struct conn_track *conns;
    pthread_t sweeper;
    bool sweeper_running;
    bool sweeper_stopping;
};

struct reply_header {
    char *name;
    char *value;
};

struct http_request {
    struct http_server *server;
    struct MHD_Connection *conn;
    char *method;
    char *path;
    char *log_path; /* path with control bytes masked, for the log */
    struct http_match match;
    struct buf body;
    uint64_t received; /* body bytes seen, kept or dropped */
    bool too_big;
    bool refused; /* refused from its headers (see begin) with refusal */
    int refusal_status;
    struct lt_error refusal;
    bool replied;
    bool reply_failed;
    int status;
    size_t bytes;
    struct timespec start;
    char client[INET6_ADDRSTRLEN];
    struct reply_header headers[REPLY_HEADERS_MAX];
    size_t nheaders;
    bool has_principal;
    struct auth_principal principal;

    /* Deferred work (http_request_defer).  While it runs on the pool the
     * connection is suspended and the reply is only staged; it is queued
     * when libmicrohttpd calls us again after the resume. */
    http_handler_fn defer_fn;
    void *defer_arg;
    bool deferred; /* handed to the pool */
    bool in_pool;  /* replies are staged, not queued */
    bool staged;
    int staged_status;
    char *staged_type;
    char *staged_data;
    size_t staged_len;
    struct http_request *next_job;
};

/* Listen address parsing. */

static enum lt_code listen_error(const char *spec, const char *why, struct lt_error *err)
{
    lt_error_set(err, LT_EINVAL, "malformed listen address \"%s\"", spec);
    lt_error_detail(err, "%s", why);
    lt_error_hint(err, "write HOST:PORT with a numeric host: 127.0.0.1:8080, [::1]:8080 or :8080");
    lt_error_field(err, "listen");
    return LT_EINVAL;
}

static bool parse_port(const char *s, uint16_t *port)
{
    unsigned long v = 0;

    if (*s == '\0' || strlen(s) > 5) {
        return false;
    }
    for (const char *p = s; *p; p++) {
        if (*p < '0' || *p > '9') {
            return false;
        }
        v = v * 10 + (unsigned long)(*p - '0');
    }
    if (v > 65535) {
        return false;
    }
    *port = (uint16_t)v;
    return true;
}

/* "127.0.0.1:8080", "[::1]:8080", ":8080" (any IPv4) into a socket address. */
static enum lt_code parse_listen(const char *spec, struct listen_addr *out, struct lt_error *err)
{
    char host[LISTEN_SPEC_MAX];
    const char *port_s;
    uint16_t port;

    memset(out, 0, sizeof(*out));
    if (strlen(spec) >= LISTEN_SPEC_MAX) {
        return listen_error(spec, "too long", err);
    }
    if (spec[0] == '[') {
        const char *close = strchr(spec, ']');

        if (close == NULL || close[1] != ':') {
            return listen_error(spec, "an IPv6 address in brackets must be followed by :PORT", err);
        }
        snprintf(host, sizeof(host), "%.*s", (int)(close - spec - 1), spec + 1);
        port_s = close + 2;
        out->family = AF_INET6;
    } else {
        const char *colon = strrchr(spec, ':');

        if (colon == NULL) {
            return listen_error(spec, "no port", err);
        }
        snprintf(host, sizeof(host), "%.*s", (int)(colon - spec), spec);
        if (strchr(host, ':') != NULL) {
            return listen_error(spec, "an IPv6 address must be written in brackets", err);
        }
        port_s = colon + 1;
        out->family = AF_INET;
        if (host[0] == '\0') {
            /* XXX: ":PORT" is every IPv4 interface only; IPv6 needs "[::]:PORT" on its own. */
            snprintf(host, sizeof(host), "0.0.0.0");
        }
    }
    if (!parse_port(port_s, &port)) {
        return listen_error(spec, "the port must be a number from 0 to 65535", err);
    }

    if (out->family == AF_INET) {
        struct sockaddr_in *sin = (struct sockaddr_in *)&out->ss;

        sin->sin_family = AF_INET;
        sin->sin_port = htons(port);
        if (inet_pton(AF_INET, host, &sin->sin_addr) != 1) {
            return listen_error(spec, "not a numeric IPv4 address", err);
        }
        out->len = sizeof(*sin);
    } else {
        struct sockaddr_in6 *sin6 = (struct sockaddr_in6 *)&out->ss;

        sin6->sin6_family = AF_INET6;
        sin6->sin6_port = htons(port);
        if (inet_pton(AF_INET6, host, &sin6->sin6_addr) != 1) {
            return listen_error(spec, "not a numeric IPv6 address", err);
        }
        out->len = sizeof(*sin6);
    }
    snprintf(out->host, sizeof(out->host), "%s", host);
    return LT_OK;
}

/* Bind and listen; the socket is non-blocking, as the worker threads all
 * accept on it and only one wins each connection. */
static enum lt_code open_listener(const struct http_server *s, int *fd_out, uint16_t *port,
                                  struct lt_error *err)
{
    struct sockaddr_storage bound;
    socklen_t blen = sizeof(bound);
    int one = 1;
    int fd;

    fd = socket(s->addr.family, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
    if (fd < 0) {
        lt_error_set(err, LT_EIO, "could not open a socket for \"%s\"", s->listen_spec);
        lt_error_detail(err, "%s", strerror(errno));
        return LT_EIO;
    }
    /* Restarting must not wait for old connections in TIME_WAIT. */
    setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
    if (bind(fd, (const struct sockaddr *)&s->addr.ss, s->addr.len) != 0 ||
        listen(fd, LISTEN_BACKLOG) != 0) {
        int e = errno;

        close(fd);
        lt_error_set(err, LT_EIO, "could not listen on \"%s\"", s->listen_spec);
        lt_error_detail(err, "%s", strerror(e));
        if (e == EADDRINUSE) {
            lt_error_hint(err, "another process listens on that port; pick another with --listen");
        } else if (e == EADDRNOTAVAIL) {
            lt_error_hint(err, "the address is not one of this machine's");
        } else if (e == EACCES) {
            lt_error_hint(err, "ports below 1024 need privileges; use a higher port");
        }
        return LT_EIO;
    }
    if (getsockname(fd, (struct sockaddr *)&bound, &blen) != 0) {
        int e = errno;

        close(fd);
        lt_error_set(err, LT_EIO, "could not read the address of the socket");
        lt_error_detail(err, "%s", strerror(e));
        return LT_EIO;
    }
    *port = ntohs(bound.ss_family == AF_INET6 ? ((struct sockaddr_in6 *)&bound)->sin6_port
                                              : ((struct sockaddr_in *)&bound)->sin_port);
    *fd_out = fd;
    return LT_OK;
}

/* Text from our errors can hold cut UTF-8 (a truncated message) or bytes a
 * client sent; JSON strings must be valid UTF-8, so mask the bad bytes. */
static json_t *text_json(const char *s)
{
    size_t len = strlen(s);
    json_t *j = json_stringn(s, len);
    struct buf clean;

    if (j != NULL) {
        return j;
    }
    buf_init(&clean, len + 1);
    for (size_t i = 0; i < len;) {
        int cp;
        int n = utf8_decode(s + i, len - i, &cp);

        if (n <= 0) {
            buf_append_char(&clean, '?');
            i++;
        } else {
            buf_append(&clean, s + i, (size_t)n);
            i += (size_t)n;
        }
    }
    j = json_stringn(buf_str(&clean), clean.len);
    buf_release(&clean);
    return j != NULL ? j : json_string("?");
}

/* Responses. */

static bool has_reply_header(const struct http_request *req, const char *name)
{
    for (size_t i = 0; i < req->nheaders; i++) {
        if (strcasecmp(req->headers[i].name, name) == 0) {
            return true;
        }
    }
    return false;
}

/* Hand data (malloc'd, owned from here on) to libmicrohttpd as the response. */
static enum lt_code queue_reply(struct http_request *req, int status, const char *content_type,
                                char *data, size_t len)
{
    struct MHD_Response *resp;
    enum MHD_Result queued;

    resp = MHD_create_response_from_buffer(len, data, MHD_RESPMEM_MUST_FREE);
    if (resp == NULL) {
        free(data);
        req->reply_failed = true;
        return LT_EIO;
    }
    if (!has_reply_header(req, "Content-Type")) {
        MHD_add_response_header(resp, "Content-Type", content_type);
    }
    if (!has_reply_header(req, "Cache-Control")) {
        MHD_add_response_header(resp, "Cache-Control", "no-store");
    }
    MHD_add_response_header(resp, "X-Content-Type-Options", "nosniff");
    MHD_add_response_header(resp, "Content-Security-Policy", HTTP_CSP);
    MHD_add_response_header(resp, "Referrer-Policy", "no-referrer");
    MHD_add_response_header(resp, "X-Frame-Options", "DENY");
    for (size_t i = 0; i < req->nheaders; i++) {
        MHD_add_response_header(resp, req->headers[i].name, req->headers[i].value);
    }
    queued = MHD_queue_response(req->conn, (unsigned int)status, resp);
    MHD_destroy_response(resp);
    if (queued != MHD_YES) {
        req->reply_failed = true;
        return LT_EIO;
    }
    return LT_OK;
}

/* The one reply of a request: queued now, or staged while on the pool. */
static enum lt_code send_reply(struct http_request *req, int status, const char *content_type,
                               char *data, size_t len)
{
    if (req->replied) {
        BUG("second reply to %s %s", req->method, req->log_path);
    }
    req->replied = true;
    req->status = status;
    req->bytes = len;
    if (req->in_pool) {
        req->staged = true;
        req->staged_status = status;
        req->staged_type = xstrdup(content_type);
        req->staged_data = data;
        req->staged_len = len;
        return LT_OK;
    }
    return queue_reply(req, status, content_type, data, len);
}

/* Request lifecycle. */

static struct http_request *request_new(struct http_server *s, struct MHD_Connection *conn,
                                        const char *method, const char *url)
{
    struct http_request *req = xcalloc(1, sizeof(*req));

    req->server = s;
    req->conn = conn;
    req->method = xstrdup(method);
    req->path = xstrdup(url);
    req->log_path = xstrdup(url);
    for (char *p = req->log_path; *p; p++) {
        if ((unsigned char)*p < 0x20 || *p == 0x7f) {
            *p = '?';
        }
    }
    buf_init(&req->body, s->cfg.max_body);
    clock_gettime(CLOCK_MONOTONIC, &req->start);
    return req;
}

static void request_free(struct http_request *req)
{
    if (req == NULL) {
        return;
    }
    for (size_t i = 0; i < req->nheaders; i++) {
        free(req->headers[i].name);
        free(req->headers[i].value);
    }
    http_match_release(&req->match);
    buf_release(&req->body);
    free(req->staged_type);
    free(req->staged_data);
    free(req->method);
    free(req->path);
    free(req->log_path);
    free(req);
}

static enum MHD_Result result_of(const struct http_request *req)
{
    return req->reply_failed ? MHD_NO : MHD_YES;
}

static void body_too_big_error(const struct http_request *req, uint64_t declared,
                               struct lt_error *err)
{
    size_t cap = req->server->cfg.max_body;

    lt_error_set(err, LT_ETOOBIG, "the request body is larger than %zu bytes", cap);
    if (declared > 0) {
        lt_error_detail(err, "Content-Length is %llu", (unsigned long long)declared);
    } else {
        lt_error_detail(err, "more than %zu bytes arrived", cap);
    }
    lt_error_hint(err, "split the request into smaller ones");
}

/*
 * Can the request be refused from its headers alone?  Fills err and the
 * status if so: 414, 404, 405 (with Allow), 413 from Content-Length.
 */
static bool refusal(struct http_request *req, struct lt_error *err, int *status)
{
    const char *cl;
    enum http_match_result m;

    if (strlen(req->path) > HTTP_PATH_MAX) {
        lt_error_set(err, LT_ETOOBIG, "the request path is longer than %d bytes", HTTP_PATH_MAX);
        *status = MHD_HTTP_URI_TOO_LONG;
        return true;
    }

    m = http_router_match(req->server->router, req->method, req->path, &req->match);
    if (m == HTTP_MATCH_NO_PATH) {
        lt_error_set(err, LT_ENOTFOUND, "nothing is served at \"%s\"", req->path);
        lt_error_hint(err, "the API lives under /api/v1");
        *status = lt_code_http_status(LT_ENOTFOUND);
        return true;
    }
    if (m == HTTP_MATCH_NO_METHOD) {
        lt_error_set(err, LT_EINVAL, "method %s is not allowed on \"%s\"", req->method, req->path);
        lt_error_hint(err, "allowed here: %s", req->match.allow);
        http_reply_header(req, "Allow", req->match.allow);
        *status = MHD_HTTP_METHOD_NOT_ALLOWED;
        return true;
    }

    cl = MHD_lookup_connection_value(req->conn, MHD_HEADER_KIND, MHD_HTTP_HEADER_CONTENT_LENGTH);
    if (cl != NULL) {
        char *end;
        unsigned long long declared = strtoull(cl, &end, 10);

        if (end != cl && *end == '\0' && declared > req->server->cfg.max_body) {
            body_too_big_error(req, declared, err);
            *status = lt_code_http_status(LT_ETOOBIG);
            return true;
        }
    }
    return false;
}

static bool announces_body(const struct http_request *req)
{
    const char *cl =
        MHD_lookup_connection_value(req->conn, MHD_HEADER_KIND, MHD_HTTP_HEADER_CONTENT_LENGTH);

    if (MHD_lookup_connection_value(req->conn, MHD_HEADER_KIND,
                                    MHD_HTTP_HEADER_TRANSFER_ENCODING) != NULL) {
        return true;
    }
    return cl != NULL && strcmp(cl, "0") != 0;
}

/*
 * The first call: headers are in, no body byte read yet.  A refusal is
 * sent at once when a body follows, so that it is never read (the
 * connection then closes); without a body it waits for the last call,
 * which keeps the connection alive for the client's next request.
 */
static enum MHD_Result begin(struct http_request *req)
{
    if (!refusal(req, &req->refusal, &req->refusal_status)) {
        return MHD_YES;
    }
    req->refused = true;
    if (announces_body(req)) {
        http_reply_error_status(req, req->refusal_status, &req->refusal);
        return result_of(req);
    }
    return MHD_YES;
}

static enum MHD_Result receive(struct http_request *req, const char *data, size_t *size)
{
    size_t n = *size;

    *size = 0;
    req->received += n;
    if (!req->too_big) {
        if (buf_append(&req->body, data, n) == LT_OK) {
            return MHD_YES;
        }
        req->too_big = true;
        buf_release(&req->body);
        buf_init(&req->body, 0);
    }
    /* XXX: libmicrohttpd 0.9.75 cannot answer mid-upload, so a chunked body over the cap is
     * read and dropped before its 413 (Content-Length ones are refused unread). */
    if (req->received > req->server->cfg.max_body + HTTP_DISCARD_MAX) {
        log_info("http", "%s %s: cut off after %llu body bytes", req->method, req->log_path,
                 (unsigned long long)req->received);
        return MHD_NO;
    }
    return MHD_YES;
}

/*
 * After a handler returned rc without replying (or replying and failing):
 * the error reply, with 5xx logged.  Shared by inline and deferred work.
 */
static void answer_handler_result(struct http_request *req, enum lt_code rc, struct lt_error *err)
{
    if (req->replied) {
        if (rc != LT_OK && !req->reply_failed) {
            log_warning("http", "handler of %s %s failed after replying: %s", req->method,
                        req->log_path, err->message);
        }
        return;
    }
    if (rc == LT_OK) {
        lt_error_set(err, LT_EINTERNAL, "the server gave no answer");
        lt_error_detail(err, "the handler returned without a reply");
    } else if (err->code != rc) {
        /* The handler returned a code but left err unset. */
        lt_error_set(err, rc, "%s", lt_code_name(rc));
    }
    if (lt_code_http_status(err->code) >= 500) {
        log_error("http", "%s %s: %s%s%s", req->method, req->log_path, err->message,
                  err->detail[0] ? ": " : "", err->detail);
    }
    http_reply_error(req, err);
}

/* Run a deferred request's work on this (pool) thread, then resume it. */
static void run_deferred(struct http_request *req)
{
    struct lt_error err;
    enum lt_code rc;

    lt_error_clear(&err);
    req->in_pool = true;
    rc = req->defer_fn(req, req->defer_arg, &err);
    answer_handler_result(req, rc, &err);
    req->in_pool = false;
    MHD_resume_connection(req->conn);
}

static void *pool_main(void *arg)
{
    struct http_server *s = arg;

    pthread_mutex_lock(&s->pool_mu);
    for (;;) {
        struct http_request *req = s->jobs_head;

        if (req == NULL) {
            if (s->pool_stopping) {
                break;
            }
            pthread_cond_wait(&s->pool_cond, &s->pool_mu);
            continue;
        }
        s->jobs_head = req->next_job;
        if (s->jobs_head == NULL) {
            s->jobs_tail = NULL;
        }
        s->njobs--;
        s->pool_busy++;
        pthread_mutex_unlock(&s->pool_mu);
        run_deferred(req);
        pthread_mutex_lock(&s->pool_mu);
        s->pool_busy--;
    }
    pthread_mutex_unlock(&s->pool_mu);
    return NULL;
}

/*
 * The handler asked to finish on the pool: suspend the connection and
 * queue it.  Once the pool stops (the server is stopping) the work runs
 * here instead, so no connection stays suspended.
 */
static enum MHD_Result hand_to_pool(struct http_request *req)
{
    struct http_server *s = req->server;
    bool inline_run;

    req->deferred = true;
    pthread_mutex_lock(&s->pool_mu);
    inline_run = s->pool_stopping || s->npool == 0;
    if (!inline_run) {
        MHD_suspend_connection(req->conn);
        req->next_job = NULL;
        if (s->jobs_tail != NULL) {
            s->jobs_tail->next_job = req;
        } else {
            s->jobs_head = req;
        }
        s->jobs_tail = req;
        s->njobs++;
        /* More jobs waiting than threads free: one more thread, up to the cap. */
        if (s->npool - s->pool_busy < s->njobs && s->npool < s->cfg.blocking_threads) {
            if (pthread_create(&s->pool[s->npool], NULL, pool_main, s) == 0) {
                s->npool++;
            }
        }
        pthread_cond_signal(&s->pool_cond);
    }
    pthread_mutex_unlock(&s->pool_mu);
    if (inline_run) {
        struct lt_error err;

        lt_error_clear(&err);
        answer_handler_result(req, req->defer_fn(req, req->defer_arg, &err), &err);
        return result_of(req);
    }
    return MHD_YES;
}

/* The last call: the whole request is in; run the handler. */
static enum MHD_Result finish(struct http_request *req)
{
    struct lt_error err;
    enum lt_code rc;

    if (req->deferred) {
        /* Called again after the pool resumed us: send what it staged. */
        if (!req->staged) {
            BUG("%s %s resumed without a reply", req->method, req->log_path);
        }
        rc = queue_reply(req, req->staged_status, req->staged_type, req->staged_data,
                         req->staged_len);
        req->staged_data = NULL;
        return result_of(req);
    }
    lt_error_clear(&err);
    if (req->refused) {
        http_reply_error_status(req, req->refusal_status, &req->refusal);
        return result_of(req);
    }
    if (req->too_big) {
        body_too_big_error(req, 0, &err);
        http_reply_error(req, &err);
        return result_of(req);
    }

    if (req->server->guard != NULL) {
        rc = req->server->guard(req, req->server->guard_ctx, &err);
        if (rc != LT_OK) {
            answer_handler_result(req, rc, &err);
            return result_of(req);
        }
    }
    rc = req->match.handler(req, req->match.ctx, &err);
    if (req->defer_fn != NULL) {
        if (rc != LT_OK || req->replied) {
            BUG("handler of %s %s deferred and also answered", req->method, req->log_path);
        }
        return hand_to_pool(req);
    }
    answer_handler_result(req, rc, &err);
    return result_of(req);
}

/* The header deadline. */

static struct conn_track *track_of(struct MHD_Connection *conn)
{
    const union MHD_ConnectionInfo *info =
        MHD_get_connection_info(conn, MHD_CONNECTION_INFO_SOCKET_CONTEXT);

    return info != NULL ? info->socket_context : NULL;
}

/* A request's headers are in (in_request), or its answer is done. */
static void conn_mark(struct http_server *s, struct MHD_Connection *conn, bool in_request)
{
    struct conn_track *t = track_of(conn);

    if (t == NULL) {
        return;
    }
    pthread_mutex_lock(&s->conns_mu);
    t->in_request = in_request;
    clock_gettime(CLOCK_MONOTONIC, &t->since);
    pthread_mutex_unlock(&s->conns_mu);
}

static void on_connection(void *cls, struct MHD_Connection *conn, void **socket_context,
                          enum MHD_ConnectionNotificationCode code)
{
    struct http_server *s = cls;
    struct conn_track *t;

    if (code == MHD_CONNECTION_NOTIFY_STARTED) {
        const union MHD_ConnectionInfo *info =
            MHD_get_connection_info(conn, MHD_CONNECTION_INFO_CONNECTION_FD);

        t = xcalloc(1, sizeof(*t));
        t->fd = info != NULL ? info->connect_fd : -1;
        clock_gettime(CLOCK_MONOTONIC, &t->since);
        pthread_mutex_lock(&s->conns_mu);
        t->next = s->conns;
        if (s->conns != NULL) {
            s->conns->prev = t;
        }
        s->conns = t;
        pthread_mutex_unlock(&s->conns_mu);
        *socket_context = t;
        return;
    }
    t = *socket_context;
    if (t == NULL) {
        return;
    }
    pthread_mutex_lock(&s->conns_mu);
    if (t->prev != NULL) {
        t->prev->next = t->next;
    } else {
        s->conns = t->next;
    }
    if (t->next != NULL) {
        t->next->prev = t->prev;
    }
    pthread_mutex_unlock(&s->conns_mu);
    free(t);
    *socket_context = NULL;
}

/* Once a second: shut down connections past the header deadline. */
static void *sweeper_main(void *arg)
{
    struct http_server *s = arg;
    struct timespec now, wake;

    pthread_mutex_lock(&s->conns_mu);
    while (!s->sweeper_stopping) {
        clock_gettime(CLOCK_MONOTONIC, &now);
        for (struct conn_track *t = s->conns; t != NULL; t = t->next) {
            if (!t->in_request && !t->cut && t->fd >= 0 &&
                now.tv_sec - t->since.tv_sec >= (time_t)s->cfg.header_timeout_seconds) {
                shutdown(t->fd, SHUT_RDWR);
                t->cut = true;
                log_debug("http", "closed a connection that sent no complete request in %u s",
                          s->cfg.header_timeout_seconds);
            }
        }
        clock_gettime(CLOCK_REALTIME, &wake);
        wake.tv_sec += 1;
        pthread_cond_timedwait(&s->conns_cond, &s->conns_mu, &wake);
    }
    pthread_mutex_unlock(&s->conns_mu);
    return NULL;
}

static void start_sweeper(struct http_server *s)
{
    s->sweeper_stopping = false;
    s->sweeper_running = pthread_create(&s->sweeper, NULL, sweeper_main, s) == 0;
    if (!s->sweeper_running) {
        log_warning("http", "could not start the header deadline thread: slow clients are only "
                            "bounded by the idle timeout");
    }
}

static void stop_sweeper(struct http_server *s)
{
    if (!s->sweeper_running) {
        return;
    }
    pthread_mutex_lock(&s->conns_mu);
    s->sweeper_stopping = true;
    pthread_cond_signal(&s->conns_cond);
    pthread_mutex_unlock(&s->conns_mu);
    pthread_join(s->sweeper, NULL);
    s->sweeper_running = false;
}

static enum MHD_Result on_request(void *cls, struct MHD_Connection *conn, const char *url,
                                  const char *method, const char *version, const char *upload_data,
                                  size_t *upload_size, void **con_cls)
{
    struct http_request *req = *con_cls;

    (void)version;
    if (req == NULL) {
        conn_mark(cls, conn, true);
        req = request_new(cls, conn, method, url);
        *con_cls = req;
        return begin(req);
    }
    if (*upload_size > 0) {
        return receive(req, upload_data, upload_size);
    }
    return finish(req);
}

static const char *termination_name(enum MHD_RequestTerminationCode toe)
{
    switch (toe) {
    case MHD_REQUEST_TERMINATED_COMPLETED_OK:
        return "ok";
    case MHD_REQUEST_TERMINATED_WITH_ERROR:
        return "error";
    case MHD_REQUEST_TERMINATED_TIMEOUT_REACHED:
        return "timeout";
    case MHD_REQUEST_TERMINATED_DAEMON_SHUTDOWN:
        return "shutdown";
    case MHD_REQUEST_TERMINATED_READ_ERROR:
        return "read error";
    case MHD_REQUEST_TERMINATED_CLIENT_ABORT:
        return "client abort";
    }
    return "unknown";
}

static void on_completed(void *cls, struct MHD_Connection *conn, void **con_cls,
                         enum MHD_RequestTerminationCode toe)
{
    struct http_request *req = *con_cls;
    struct timespec now;
    long long us;

    if (req == NULL) {
        return;
    }
    conn_mark(cls, conn, false);
    clock_gettime(CLOCK_MONOTONIC, &now);
    us = (long long)(now.tv_sec - req->start.tv_sec) * 1000000 +
         (now.tv_nsec - req->start.tv_nsec) / 1000;
    if (toe == MHD_REQUEST_TERMINATED_COMPLETED_OK) {
        log_debug("http", "%s %s %d %zu %lldus %s", req->method, req->log_path, req->status,
                  req->bytes, us, http_request_client(req));
    } else {
        log_debug("http", "%s %s %d %zu %lldus %s (%s)", req->method, req->log_path, req->status,
                  req->bytes, us, http_request_client(req), termination_name(toe));
    }
    request_free(req);
    *con_cls = NULL;
}

/*
 * libmicrohttpd's own messages.  While starting they explain a failure the
 * caller will report, so they are warnings; once running they are mostly
 * about single clients (a header too large, a reset), which a client could
 * use to flood the log at any level above INFO.
 */
static void on_mhd_log(void *cls, const char *fmt, va_list ap)
{
    const struct http_server *s = cls;
    char line[512];
    size_t len;

    vsnprintf(line, sizeof(line), fmt, ap);
    len = strlen(line);
    while (len > 0 && (line[len - 1] == '\n' || line[len - 1] == '\r')) {
        line[--len] = '\0';
    }
    if (atomic_load(&s->starting)) {
        log_warning("http", "libmicrohttpd: %s", line);
    } else {
        log_info("http", "libmicrohttpd: %s", line);
    }
}

static int hex_value(char c)
{
    if (c >= '0' && c <= '9') {
        return c - '0';
    }
    if (c >= 'a' && c <= 'f') {
        return c - 'a' + 10;
    }
    if (c >= 'A' && c <= 'F') {
        return c - 'A' + 10;
    }
    return -1;
}

/*
 * Percent-decoding of paths and query arguments, in place.  Unlike the
 * default, "%00" stays as it is: a decoded NUL would end the C string
 * early, and "/units/00004%00x" would be read as "/units/00004".
 */
static size_t unescape(void *cls, struct MHD_Connection *conn, char *s)
{
    char *w = s;

    (void)cls;
    (void)conn;
    for (const char *r = s; *r != '\0';) {
        int hi = r[0] == '%' ? hex_value(r[1]) : -1;
        int lo = hi >= 0 ? hex_value(r[2]) : -1;

        if (lo >= 0 && (hi | lo) != 0) {
            *w++ = (char)(hi * 16 + lo);
            r += 3;
        } else {
            *w++ = *r++;
        }
    }
    *w = '\0';
    return (size_t)(w - s);
}

static unsigned cpu_count(void)
{
    long n = sysconf(_SC_NPROCESSORS_ONLN);

    return n > 0 ? (unsigned)n : 1;
}

/* The first threads of the pool; hand_to_pool starts more as jobs wait. */
static void start_pool(struct http_server *s)
{
    unsigned first = s->cfg.blocking_threads < POOL_FIRST ? s->cfg.blocking_threads : POOL_FIRST;

    s->pool_stopping = false;
    s->pool_busy = 0;
    s->njobs = 0;
    s->pool = xcalloc(s->cfg.blocking_threads, sizeof(*s->pool));
    for (unsigned i = 0; i < first; i++) {
        if (pthread_create(&s->pool[i], NULL, pool_main, s) != 0) {
            /* Fewer threads only means less concurrency; none runs work inline. */
            log_warning("http", "started %u of %u blocking threads", i, first);
            break;
        }
        s->npool++;
    }
}

static void stop_pool(struct http_server *s)
{
    pthread_mutex_lock(&s->pool_mu);
    s->pool_stopping = true;
    pthread_cond_broadcast(&s->pool_cond);
    pthread_mutex_unlock(&s->pool_mu);
    for (unsigned i = 0; i < s->npool; i++) {
        pthread_join(s->pool[i], NULL);
    }
    free(s->pool);
    s->pool = NULL;
    pthread_mutex_lock(&s->pool_mu); /* workers may still read it in hand_to_pool */
    s->npool = 0;
    pthread_mutex_unlock(&s->pool_mu);
}

/* Public API. */

void http_config_init(struct http_config *cfg)
{
    memset(cfg, 0, sizeof(*cfg));
    cfg->listen = HTTP_DEFAULT_LISTEN;
    cfg->threads = 0;
    cfg->max_body = HTTP_DEFAULT_MAX_BODY;
    cfg->max_connections = 1024;
    cfg->max_per_ip = 64;
    cfg->timeout_seconds = 30;
    /* libmicrohttpd zeroes this whole buffer after every request: bigger costs every read. */
    cfg->connection_memory = (size_t)16 << 10;
    cfg->blocking_threads = BLOCKING_THREADS;
    cfg->header_timeout_seconds = HEADER_TIMEOUT;
}

/* s as an IPv4 or IPv6 address in inet_ntop's form, into out; false if it is none. */
static bool normal_address(const char *s, char out[INET6_ADDRSTRLEN])
{
    unsigned char bin[sizeof(struct in6_addr)];

    if (inet_pton(AF_INET, s, bin) == 1) {
        return inet_ntop(AF_INET, bin, out, INET6_ADDRSTRLEN) != NULL;
    }
    if (inet_pton(AF_INET6, s, bin) == 1) {
        return inet_ntop(AF_INET6, bin, out, INET6_ADDRSTRLEN) != NULL;
    }
    return false;
}

/*
 * A request from the trusted proxy: the client is the last address of its
 * X-Forwarded-For (the one the proxy itself added; earlier ones are the
 * client's word).  Without a valid one the request stays the proxy's.
 */
static void forwarded_client(struct http_request *r)
{
    const char *xff = MHD_lookup_connection_value(r->conn, MHD_HEADER_KIND, "X-Forwarded-For");
    const char *last;
    char one[INET6_ADDRSTRLEN + 8], addr[INET6_ADDRSTRLEN];
    size_t n;

    if (xff == NULL) {
        return;
    }
    last = strrchr(xff, ',');
    last = last != NULL ? last + 1 : xff;
    last += strspn(last, " \t");
    n = strcspn(last, " \t");
    if (n == 0 || n >= sizeof(one)) {
        return;
    }
    memcpy(one, last, n);
    one[n] = '\0';
    if (normal_address(one, addr)) {
        snprintf(r->client, sizeof(r->client), "%s", addr);
    }
}

struct http_server *http_server_new(const struct http_config *cfg, struct lt_error *err)
{
    struct http_server *s = xcalloc(1, sizeof(*s));
    struct http_config defaults;

    http_config_init(&defaults);
    s->cfg = *cfg;
    if (s->cfg.listen == NULL) {
        s->cfg.listen = defaults.listen;
    }
    if (s->cfg.threads == 0) {
        s->cfg.threads = cpu_count();
    }
    if (s->cfg.max_body == 0) {
        s->cfg.max_body = defaults.max_body;
    }
    if (s->cfg.max_connections == 0) {
        s->cfg.max_connections = defaults.max_connections;
    }
    if (s->cfg.max_per_ip == 0) {
        s->cfg.max_per_ip = defaults.max_per_ip;
    }
    if (s->cfg.timeout_seconds == 0) {
        s->cfg.timeout_seconds = defaults.timeout_seconds;
    }
    if (s->cfg.connection_memory == 0) {
        s->cfg.connection_memory = defaults.connection_memory;
    }
    if (s->cfg.blocking_threads == 0) {
        s->cfg.blocking_threads = defaults.blocking_threads;
    }
    if (s->cfg.header_timeout_seconds == 0) {
        s->cfg.header_timeout_seconds = defaults.header_timeout_seconds;
    }
    if ((s->cfg.tls_cert_pem == NULL) != (s->cfg.tls_key_pem == NULL)) {
        lt_error_set(err, LT_EINVAL, "TLS needs both a certificate and a key");
        lt_error_field(err, s->cfg.tls_cert_pem == NULL ? "tls_cert" : "tls_key");
        goto fail;
    }

    if (s->cfg.threads > THREADS_MAX) {
        lt_error_set(err, LT_EINVAL, "too many threads: %u (at most %d)", s->cfg.threads,
                     THREADS_MAX);
        lt_error_field(err, "threads");
        goto fail;
    }
    if (s->cfg.blocking_threads > THREADS_MAX) {
        lt_error_set(err, LT_EINVAL, "too many blocking threads: %u (at most %d)",
                     s->cfg.blocking_threads, THREADS_MAX);
        lt_error_field(err, "blocking_threads");
        goto fail;
    }
    if (s->cfg.max_body > MAX_BODY_LIMIT) {
        lt_error_set(err, LT_EINVAL, "body cap %zu is over %zu bytes", s->cfg.max_body,
                     MAX_BODY_LIMIT);
        lt_error_field(err, "max_body");
        goto fail;
    }
    if (s->cfg.connection_memory < CONNECTION_MEMORY_MIN) {
        lt_error_set(err, LT_EINVAL, "connection memory %zu is under %zu bytes",
                     s->cfg.connection_memory, CONNECTION_MEMORY_MIN);
        lt_error_field(err, "connection_memory");
        goto fail;
    }
    if (parse_listen(s->cfg.listen, &s->addr, err) != LT_OK) {
        goto fail;
    }
    snprintf(s->listen_spec, sizeof(s->listen_spec), "%s", s->cfg.listen);
    s->cfg.listen = s->listen_spec;
    if (s->cfg.tls_cert_pem != NULL) {
        s->tls_cert = xstrdup(s->cfg.tls_cert_pem);
        s->tls_key = xstrdup(s->cfg.tls_key_pem);
    }
    s->cfg.tls_cert_pem = s->tls_cert;
    s->cfg.tls_key_pem = s->tls_key;
    if (s->cfg.trusted_proxy != NULL && !normal_address(s->cfg.trusted_proxy, s->proxy)) {
        lt_error_set(err, LT_EINVAL, "trusted proxy \"%.60s\" is not an IP address",
                     s->cfg.trusted_proxy);
        lt_error_field(err, "trusted_proxy");
        goto fail;
    }
    s->cfg.trusted_proxy = s->proxy[0] ? s->proxy : NULL;
    s->router = http_router_new();
    pthread_mutex_init(&s->conns_mu, NULL);
    pthread_cond_init(&s->conns_cond, NULL);
    pthread_mutex_init(&s->pool_mu, NULL);
    pthread_cond_init(&s->pool_cond, NULL);
    return s;

fail:
    free(s);
    return NULL;
}

void http_server_set_guard(struct http_server *s, http_guard_fn fn, void *ctx)
{
    if (s->daemon != NULL) {
        BUG("guard set after the server started");
    }
    s->guard = fn;
    s->guard_ctx = ctx;
}

const char *http_request_route(const struct http_request *req)
{
    return http_route_pattern(req->match.route);
}

void http_request_set_principal(struct http_request *req, const struct auth_principal *p)
{
    req->principal = *p;
    req->has_principal = true;
}

const struct auth_principal *http_request_principal(const struct http_request *req)
{
    return req->has_principal ? &req->principal : NULL;
}

void http_server_route(struct http_server *s, const char *method, const char *pattern,
                       http_handler_fn handler, void *ctx)
{
    struct lt_error err;

    if (s->daemon != NULL) {
        BUG("route %s %s added after the server started", method, pattern);
    }
    if (http_router_add(s->router, method, pattern, handler, ctx, &err) != LT_OK) {
        BUG("%s", err.message);
    }
}

void http_server_each_route(const struct http_server *s, http_route_visit_fn fn, void *arg)
{
    http_router_each(s->router, fn, arg);
}

enum lt_code http_server_start(struct http_server *s, struct lt_error *err)
{
    struct MHD_OptionItem opts[12];
    size_t n = 0;
    unsigned flags = MHD_USE_EPOLL_INTERNAL_THREAD | MHD_USE_ERROR_LOG | MHD_ALLOW_SUSPEND_RESUME |
                     MHD_USE_TURBO;
    int fd = -1;
    enum lt_code rc;

    if (s->daemon != NULL) {
        return lt_error_set(err, LT_ECONFLICT, "the server is already running");
    }
    rc = open_listener(s, &fd, &s->port, err);
    if (rc != LT_OK) {
        return rc;
    }

    opts[n++] = (struct MHD_OptionItem){ MHD_OPTION_LISTEN_SOCKET, fd, NULL };
    opts[n++] = (struct MHD_OptionItem){ MHD_OPTION_CONNECTION_LIMIT,
                                         (intptr_t)s->cfg.max_connections, NULL };
    opts[n++] = (struct MHD_OptionItem){ MHD_OPTION_PER_IP_CONNECTION_LIMIT,
                                         (intptr_t)s->cfg.max_per_ip, NULL };
    opts[n++] = (struct MHD_OptionItem){ MHD_OPTION_CONNECTION_TIMEOUT,
                                         (intptr_t)s->cfg.timeout_seconds, NULL };
    /* XXX: what libmicrohttpd refuses by itself (431 headers over this memory, a malformed
     * request line) gets its own HTML body or a bare close, not our JSON error. */
    opts[n++] = (struct MHD_OptionItem){ MHD_OPTION_CONNECTION_MEMORY_LIMIT,
                                         (intptr_t)s->cfg.connection_memory, NULL };
    if (s->tls_cert != NULL) {
        if (MHD_is_feature_supported(MHD_FEATURE_TLS) != MHD_YES) {
            close(fd);
            s->port = 0;
            lt_error_set(err, LT_EUNAVAIL, "this libmicrohttpd was built without TLS");
            lt_error_hint(err, "serve plain HTTP behind nginx instead (docs/DEPLOY.md)");
            return LT_EUNAVAIL;
        }
        flags |= MHD_USE_TLS;
        opts[n++] = (struct MHD_OptionItem){ MHD_OPTION_HTTPS_MEM_CERT, 0, s->tls_cert };
        opts[n++] = (struct MHD_OptionItem){ MHD_OPTION_HTTPS_MEM_KEY, 0, s->tls_key };
    }
    if (s->cfg.threads > 1) {
        opts[n++] =
            (struct MHD_OptionItem){ MHD_OPTION_THREAD_POOL_SIZE, (intptr_t)s->cfg.threads, NULL };
    }
    opts[n++] = (struct MHD_OptionItem){ MHD_OPTION_END, 0, NULL };
    if (s->addr.family == AF_INET6) {
        flags |= MHD_USE_IPv6;
    }

    /* The pool is whole before the first request can be deferred to it. */
    start_pool(s);
    atomic_store(&s->starting, true);
    s->daemon = MHD_start_daemon(
        flags, 0, NULL, NULL, on_request, s, MHD_OPTION_EXTERNAL_LOGGER, on_mhd_log, s,
        MHD_OPTION_NOTIFY_COMPLETED, on_completed, s, MHD_OPTION_NOTIFY_CONNECTION, on_connection,
        s, MHD_OPTION_UNESCAPE_CALLBACK, unescape, NULL, MHD_OPTION_ARRAY, opts, MHD_OPTION_END);
    atomic_store(&s->starting, false);
    if (s->daemon == NULL) {
        stop_pool(s);
        if (s->tls_cert != NULL) {
            lt_error_set(err, LT_EIO, "could not start the HTTPS server on \"%s\"", s->listen_spec);
            lt_error_detail(err, "libmicrohttpd refused the certificate or the key; its reason "
                                 "is in the log above");
            lt_error_hint(err, "give the PEM certificate chain and its unencrypted PEM key");
            close(fd);
            s->port = 0;
            return LT_EIO;
        }
        close(fd);
        s->port = 0;
        lt_error_set(err, LT_EIO, "could not start the HTTP server on \"%s\"", s->listen_spec);
        lt_error_detail(err, "libmicrohttpd refused to start; its reason is in the log above");
        return LT_EIO;
    }

    if (s->addr.family == AF_INET6) {
        snprintf(s->url, sizeof(s->url), "%s://[%s]:%u", s->tls_cert ? "https" : "http",
                 s->addr.host, (unsigned)s->port);
    } else {
        snprintf(s->url, sizeof(s->url), "%s://%s:%u", s->tls_cert ? "https" : "http", s->addr.host,
                 (unsigned)s->port);
    }
    start_sweeper(s);
    return LT_OK;
}

void http_server_stop(struct http_server *s)
{
    if (s == NULL || s->daemon == NULL) {
        return;
    }
    /* Deferred work first: every suspended connection must be resumed
     * before the daemon stops. */
    stop_pool(s);
    stop_sweeper(s);
    /* MHD_stop_daemon closes the listening socket we gave it. */
    MHD_stop_daemon(s->daemon);
    s->daemon = NULL;
    s->port = 0;
    s->url[0] = '\0';
}

void http_server_free(struct http_server *s)
{
    if (s == NULL) {
        return;
    }
    http_server_stop(s);
    http_router_free(s->router);
    free(s->tls_cert);
    free(s->tls_key);
    pthread_mutex_destroy(&s->conns_mu);
    pthread_cond_destroy(&s->conns_cond);
    pthread_mutex_destroy(&s->pool_mu);
    pthread_cond_destroy(&s->pool_cond);
    free(s);
}

uint16_t http_server_port(const struct http_server *s)
{
    return s->port;
}

const char *http_server_url(const struct http_server *s)
{
    return s->url;
}

size_t http_server_max_body(const struct http_server *s)
{
    return s->cfg.max_body;
}

const char *http_request_method(const struct http_request *req)
{
    return req->method;
}

const char *http_request_path(const struct http_request *req)
{
    return req->path;
}

const char *http_request_param(const struct http_request *req, const char *name)
{
    return http_match_param(&req->match, name);
}

const char *http_request_query(const struct http_request *req, const char *name)
{
    const char *value = NULL;
    size_t value_len = 0;

    if (MHD_lookup_connection_value_n(req->conn, MHD_GET_ARGUMENT_KIND, name, strlen(name), &value,
                                      &value_len) != MHD_YES) {
        return NULL;
    }
    return value != NULL ? value : "";
}

struct query_check {
    const char *const *allowed;
    const char *unknown; /* the first argument not allowed */
};

static enum MHD_Result check_query_arg(void *cls, enum MHD_ValueKind kind, const char *key,
                                       const char *value)
{
    struct query_check *q = cls;

    (void)kind;
    (void)value;
    for (size_t i = 0; q->allowed[i] != NULL; i++) {
        if (strcmp(key, q->allowed[i]) == 0) {
            return MHD_YES;
        }
    }
    q->unknown = key;
    return MHD_NO;
}

enum lt_code http_request_only_query(const struct http_request *req, const char *const *allowed,
                                     struct lt_error *err)
{
    struct query_check q = { allowed, NULL };
    struct buf names;

    MHD_get_connection_values(req->conn, MHD_GET_ARGUMENT_KIND, check_query_arg, &q);
    if (q.unknown == NULL) {
        return LT_OK;
    }
    lt_error_set(err, LT_EINVAL, "unknown query parameter \"%.64s\"", q.unknown);
    buf_init(&names, 512);
    for (size_t i = 0; allowed[i] != NULL; i++) {
        buf_printf(&names, "%s%s", i > 0 ? ", " : "", allowed[i]);
    }
    if (names.len > 0) {
        lt_error_hint(err, "this request takes: %s", buf_str(&names));
    } else {
        lt_error_hint(err, "this request takes no query parameters");
    }
    buf_release(&names);
    lt_error_field(err, q.unknown);
    return LT_EINVAL;
}

const char *http_request_header(const struct http_request *req, const char *name)
{
    return MHD_lookup_connection_value(req->conn, MHD_HEADER_KIND, name);
}

const char *http_request_body(const struct http_request *req, size_t *len)
{
    if (len != NULL) {
        *len = req->body.len;
    }
    return buf_str(&req->body);
}

const char *http_request_client(const struct http_request *req)
{
    /* The address is formatted on first use: most requests never ask. */
    struct http_request *r = (struct http_request *)req;
    const union MHD_ConnectionInfo *info;

    if (r->client[0] != '\0') {
        return r->client;
    }
    info = MHD_get_connection_info(r->conn, MHD_CONNECTION_INFO_CLIENT_ADDRESS);
    if (info == NULL || info->client_addr == NULL) {
        snprintf(r->client, sizeof(r->client), "-");
    } else if (info->client_addr->sa_family == AF_INET6) {
        const struct sockaddr_in6 *a = (const struct sockaddr_in6 *)info->client_addr;

        inet_ntop(AF_INET6, &a->sin6_addr, r->client, sizeof(r->client));
    } else {
        const struct sockaddr_in *a = (const struct sockaddr_in *)info->client_addr;

        inet_ntop(AF_INET, &a->sin_addr, r->client, sizeof(r->client));
    }
    if (r->server->proxy[0] != '\0' && strcmp(r->client, r->server->proxy) == 0) {
        forwarded_client(r);
    }
    return r->client;
}

bool http_request_tls(const struct http_request *req)
{
    return req->server->tls_cert != NULL;
}

enum lt_code http_request_json(struct http_request *req, json_t **out, struct lt_error *err)
{
    return http_json_parse_object(buf_str(&req->body), req->body.len, HTTP_JSON_MAX_DEPTH, out,
                                  err);
}

void http_reply_header(struct http_request *req, const char *name, const char *value)
{
    if (req->nheaders == REPLY_HEADERS_MAX) {
        BUG("more than %d reply headers", REPLY_HEADERS_MAX);
    }
    req->headers[req->nheaders].name = xstrdup(name);
    req->headers[req->nheaders].value = xstrdup(value);
    req->nheaders++;
}

enum lt_code http_reply_json(struct http_request *req, int status, json_t *body)
{
    /* 15 digits: 9.611, not the 9.6110000000000007 of the double's every digit */
    char *text = json_dumps(body, JSON_COMPACT | JSON_REAL_PRECISION(15));
    size_t len;

    json_decref(body);
    if (text == NULL) {
        /* Only an allocation failure inside jansson gets here. */
        log_error("http", "could not encode the JSON answer to %s %s", req->method, req->log_path);
        text = xstrdup("{\"error\":{\"code\":\"internal\",\"message\":\"could not encode the "
                       "answer\"}}");
        status = 500;
    }
    /* A final newline, for people reading answers with curl. */
    len = strlen(text);
    text = xrealloc(text, len + 2);
    text[len] = '\n';
    text[len + 1] = '\0';
    return send_reply(req, status, "application/json; charset=utf-8", text, len + 1);
}

void http_request_defer(struct http_request *req, http_handler_fn fn, void *arg)
{
    if (req->defer_fn != NULL || req->replied || req->in_pool) {
        BUG("%s %s deferred twice or after its reply", req->method, req->log_path);
    }
    req->defer_fn = fn;
    req->defer_arg = arg;
}

enum lt_code http_reply_buf(struct http_request *req, int status, const char *content_type,
                            struct buf *b)
{
    char *data = b->data != NULL ? b->data : xstrdup("");
    size_t len = b->len;

    b->data = NULL;
    b->len = 0;
    b->alloc = 0;
    return send_reply(req, status, content_type, data, len);
}

enum lt_code http_reply_error(struct http_request *req, const struct lt_error *err)
{
    return http_reply_error_status(req, lt_code_http_status(err->code), err);
}

enum lt_code http_reply_error_status(struct http_request *req, int status,
                                     const struct lt_error *err)
{
    return http_reply_json(req, status, http_error_json(err));
}

enum lt_code http_reply_text(struct http_request *req, int status, const char *content_type,
                             const char *text, size_t len)
{
    char *copy = xmalloc(len + 1);

    memcpy(copy, text, len);
    copy[len] = '\0';
    return send_reply(req, status, content_type, copy, len);
}

json_t *http_error_object(const struct lt_error *err)
{
    json_t *o = json_object();

    json_object_set_new(o, "code", json_string(lt_code_name(err->code)));
    json_object_set_new(o, "message",
                        text_json(err->message[0] ? err->message : lt_code_name(err->code)));
    if (err->detail[0] != '\0') {
        json_object_set_new(o, "detail", text_json(err->detail));
    }
    if (err->hint[0] != '\0') {
        json_object_set_new(o, "hint", text_json(err->hint));
    }
    if (err->field[0] != '\0') {
        json_object_set_new(o, "field", text_json(err->field));
    }
    return o;
}

json_t *http_error_json(const struct lt_error *err)
{
    return json_pack("{s:o}", "error", http_error_object(err));
}
