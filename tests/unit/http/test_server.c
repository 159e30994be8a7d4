/*
 * test_server.c - the framework end to end: a real server on a loopback
 * port, spoken to over raw sockets so that every byte on the wire is under
 * the test's control (bodies announced but not sent, chunked uploads,
 * half-sent requests).
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <semaphore.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <unistd.h>

#include <cmocka.h>

#include "core/buf.h"
#include "http/server.h"

#define TEST_MAX_BODY 1024
#define REPLY_MAX     (1 << 20)

struct reply {
    int status;
    char *raw;        /* the whole response, NUL-terminated */
    const char *body; /* into raw */
    size_t body_len;
};

/* Handlers. */

static enum lt_code h_echo(struct http_request *req, void *ctx, struct lt_error *err)
{
    const char *q = http_request_query(req, "q");

    (void)ctx;
    (void)err;
    return http_reply_json(
        req, 200,
        json_pack("{s:s, s:s, s:s, s:o, s:s}", "method", http_request_method(req), "path",
                  http_request_path(req), "name", http_request_param(req, "name"), "q",
                  q != NULL ? json_string(q) : json_null(), "client", http_request_client(req)));
}

static enum lt_code h_json(struct http_request *req, void *ctx, struct lt_error *err)
{
    json_t *body = NULL;
    size_t len = 0, members;
    enum lt_code rc = http_request_json(req, &body, err);

    (void)ctx;
    if (rc != LT_OK) {
        return rc;
    }
    http_request_body(req, &len);
    members = json_object_size(body);
    json_decref(body);
    return http_reply_json(
        req, 201,
        json_pack("{s:I, s:I}", "members", (json_int_t)members, "bytes", (json_int_t)len));
}

static enum lt_code h_fail(struct http_request *req, void *ctx, struct lt_error *err)
{
    (void)req;
    (void)ctx;
    lt_error_set(err, LT_ECONFLICT, "the dossier changed under you");
    lt_error_detail(err, "version 3, you sent 2");
    lt_error_hint(err, "reload and try again");
    lt_error_field(err, "version");
    return LT_ECONFLICT;
}

static enum lt_code h_bare(struct http_request *req, void *ctx, struct lt_error *err)
{
    (void)req;
    (void)ctx;
    (void)err;
    return LT_ENOTFOUND;
}

static enum lt_code h_silent(struct http_request *req, void *ctx, struct lt_error *err)
{
    (void)req;
    (void)ctx;
    (void)err;
    return LT_OK;
}

static enum lt_code h_text(struct http_request *req, void *ctx, struct lt_error *err)
{
    (void)ctx;
    (void)err;
    http_reply_header(req, "X-Test", "yes");
    http_reply_header(req, "Cache-Control", "max-age=60");
    return http_reply_text(req, 200, "text/plain; charset=utf-8", "hello", 5);
}

/*
 * Deferred work: /wait hands its request to the blocking pool, where it
 * signals "entered" and waits for "gate" before answering, so a test can
 * hold it there; /wait-fail answers with an error from the pool.
 */
static sem_t entered, gate;

static enum lt_code d_wait(struct http_request *req, void *ctx, struct lt_error *err)
{
    (void)err;
    sem_post(&entered);
    sem_wait(&gate);
    http_reply_header(req, "X-Pool", "yes");
    return http_reply_text(req, 200, "text/plain; charset=utf-8", ctx, strlen(ctx));
}

static enum lt_code d_fail(struct http_request *req, void *ctx, struct lt_error *err)
{
    (void)req;
    (void)ctx;
    lt_error_set(err, LT_ECONFLICT, "stale in the pool");
    lt_error_field(err, "If-Match");
    return LT_ECONFLICT;
}

static enum lt_code h_wait(struct http_request *req, void *ctx, struct lt_error *err)
{
    (void)ctx;
    (void)err;
    http_reply_header(req, "X-Worker", "yes");
    http_request_defer(req, d_wait, "done");
    return LT_OK;
}

static enum lt_code h_wait_fail(struct http_request *req, void *ctx, struct lt_error *err)
{
    (void)ctx;
    (void)err;
    http_request_defer(req, d_fail, NULL);
    return LT_OK;
}

/* A tiny client. */

static int dial(uint16_t port)
{
    struct sockaddr_in sin = { .sin_family = AF_INET, .sin_port = htons(port) };
    struct timeval tv = { .tv_sec = 5 };
    int fd = socket(AF_INET, SOCK_STREAM, 0);

    assert_true(fd >= 0);
    sin.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    assert_int_equal(connect(fd, (struct sockaddr *)&sin, sizeof(sin)), 0);
    setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
    return fd;
}

static void send_all(int fd, const char *data, size_t len)
{
    while (len > 0) {
        ssize_t n = send(fd, data, len, MSG_NOSIGNAL);

        if (n < 0 && errno == EINTR) {
            continue;
        }
        if (n <= 0) {
            return; /* the server may close early (413); the reply says the rest */
        }
        data += n;
        len -= (size_t)n;
    }
}

/* Read until the server closes (requests say "Connection: close"). */
static void read_reply(int fd, struct reply *r)
{
    struct buf b;
    char chunk[4096];
    char *end;

    buf_init(&b, REPLY_MAX);
    for (;;) {
        ssize_t n = recv(fd, chunk, sizeof(chunk), 0);

        if (n < 0 && errno == EINTR) {
            continue;
        }
        if (n <= 0) {
            break;
        }
        assert_int_equal(buf_append(&b, chunk, (size_t)n), LT_OK);
    }
    memset(r, 0, sizeof(*r));
    r->raw = xstrdup(buf_str(&b));
    buf_release(&b);
    if (sscanf(r->raw, "HTTP/1.1 %d", &r->status) != 1) {
        r->status = -1;
    }
    end = strstr(r->raw, "\r\n\r\n");
    r->body = end != NULL ? end + 4 : "";
    r->body_len = strlen(r->body);
}

static void exchange(uint16_t port, const char *request, struct reply *r)
{
    int fd = dial(port);

    send_all(fd, request, strlen(request));
    read_reply(fd, r);
    close(fd);
}

static void get(uint16_t port, const char *method, const char *path, struct reply *r)
{
    char req[4096];

    snprintf(req, sizeof(req), "%s %s HTTP/1.1\r\nHost: t\r\nConnection: close\r\n\r\n", method,
             path);
    exchange(port, req, r);
}

static void post(uint16_t port, const char *path, const char *body, struct reply *r)
{
    struct buf req;

    buf_init(&req, REPLY_MAX);
    buf_printf(&req,
               "POST %s HTTP/1.1\r\nHost: t\r\nConnection: close\r\nContent-Type: "
               "application/json\r\nContent-Length: %zu\r\n\r\n%s",
               path, strlen(body), body);
    exchange(port, buf_str(&req), r);
    buf_release(&req);
}

/* True if the response carries exactly this header line. */
static bool has_header(const struct reply *r, const char *line)
{
    char needle[512];

    snprintf(needle, sizeof(needle), "\r\n%s\r\n", line);
    return strcasestr(r->raw, needle) != NULL;
}

static json_t *body_json(const struct reply *r)
{
    json_error_t jerr;
    json_t *j = json_loadb(r->body, r->body_len, 0, &jerr);

    if (j == NULL) {
        fail_msg("body is not JSON (%s): %s", jerr.text, r->raw);
    }
    return j;
}

/* The error body's inner member, as a string ("" if absent). */
static const char *error_member(json_t *body, const char *name)
{
    json_t *v = json_object_get(json_object_get(body, "error"), name);

    return v != NULL ? json_string_value(v) : "";
}

static void reply_release(struct reply *r)
{
    free(r->raw);
}

/* Fixture: one server for the group. */

static struct http_server *start(unsigned threads, const char *listen)
{
    struct http_config cfg;
    struct lt_error err;
    struct http_server *s;

    http_config_init(&cfg);
    cfg.listen = listen;
    cfg.threads = threads;
    cfg.max_body = TEST_MAX_BODY;
    s = http_server_new(&cfg, &err);
    if (s == NULL) {
        fail_msg("%s", err.message);
    }
    http_server_route(s, "GET", "/echo/{name}", h_echo, NULL);
    http_server_route(s, "POST", "/json", h_json, NULL);
    http_server_route(s, "GET", "/fail", h_fail, NULL);
    http_server_route(s, "GET", "/bare", h_bare, NULL);
    http_server_route(s, "GET", "/silent", h_silent, NULL);
    http_server_route(s, "GET", "/text", h_text, NULL);
    http_server_route(s, "GET", "/wait", h_wait, NULL);
    http_server_route(s, "GET", "/wait-fail", h_wait_fail, NULL);
    if (http_server_start(s, &err) != LT_OK) {
        fail_msg("%s: %s", err.message, err.detail);
    }
    return s;
}

static int setup(void **state)
{
    *state = start(2, "127.0.0.1:0");
    return 0;
}

static int teardown(void **state)
{
    http_server_free(*state);
    return 0;
}

static uint16_t port_of(void **state)
{
    return http_server_port(*state);
}

/* Tests. */

static void test_get_params_and_query(void **state)
{
    struct reply r;
    json_t *j;

    get(port_of(state), "GET", "/echo/Ba%20%C4%90%C3%ACnh?q=ba%20dinh&x=1", &r);
    assert_int_equal(r.status, 200);
    assert_true(has_header(&r, "Content-Type: application/json; charset=utf-8"));
    assert_true(has_header(&r, "X-Content-Type-Options: nosniff"));
    assert_true(has_header(&r, "Cache-Control: no-store"));
    j = body_json(&r);
    assert_string_equal(json_string_value(json_object_get(j, "name")), "Ba Đình");
    assert_string_equal(json_string_value(json_object_get(j, "q")), "ba dinh");
    assert_string_equal(json_string_value(json_object_get(j, "client")), "127.0.0.1");
    assert_string_equal(json_string_value(json_object_get(j, "method")), "GET");
    json_decref(j);
    reply_release(&r);

    /* Absent and empty query arguments differ. */
    get(port_of(state), "GET", "/echo/x?q", &r);
    j = body_json(&r);
    assert_string_equal(json_string_value(json_object_get(j, "q")), "");
    json_decref(j);
    reply_release(&r);
    get(port_of(state), "GET", "/echo/x", &r);
    j = body_json(&r);
    assert_true(json_is_null(json_object_get(j, "q")));
    json_decref(j);
    reply_release(&r);
}

static void test_encoded_nul_stays_encoded(void **state)
{
    /* A decoded NUL would cut "/echo/a%00b" to "/echo/a". */
    struct reply r;
    json_t *j;

    get(port_of(state), "GET", "/echo/a%00b?q=x%00y%41", &r);
    assert_int_equal(r.status, 200);
    j = body_json(&r);
    assert_string_equal(json_string_value(json_object_get(j, "name")), "a%00b");
    assert_string_equal(json_string_value(json_object_get(j, "q")), "x%00yA");
    json_decref(j);
    reply_release(&r);
}

static void test_head(void **state)
{
    struct reply r;

    get(port_of(state), "HEAD", "/text", &r);
    assert_int_equal(r.status, 200);
    assert_true(has_header(&r, "Content-Length: 5"));
    assert_int_equal(r.body_len, 0);
    reply_release(&r);
}

static void test_text_and_extra_headers(void **state)
{
    struct reply r;

    get(port_of(state), "GET", "/text", &r);
    assert_int_equal(r.status, 200);
    assert_string_equal(r.body, "hello");
    assert_true(has_header(&r, "X-Test: yes"));
    assert_true(has_header(&r, "Content-Type: text/plain; charset=utf-8"));
    /* A handler's own Cache-Control replaces the default. */
    assert_true(has_header(&r, "Cache-Control: max-age=60"));
    assert_false(has_header(&r, "Cache-Control: no-store"));
    reply_release(&r);
}

static void test_404(void **state)
{
    struct reply r;
    json_t *j;

    get(port_of(state), "GET", "/nowhere", &r);
    assert_int_equal(r.status, 404);
    assert_true(has_header(&r, "Content-Type: application/json; charset=utf-8"));
    j = body_json(&r);
    assert_string_equal(error_member(j, "code"), "not_found");
    assert_string_equal(error_member(j, "message"), "nothing is served at \"/nowhere\"");
    json_decref(j);
    reply_release(&r);
}

static void test_405(void **state)
{
    struct reply r;
    json_t *j;

    get(port_of(state), "DELETE", "/echo/x", &r);
    assert_int_equal(r.status, 405);
    assert_true(has_header(&r, "Allow: GET, HEAD"));
    j = body_json(&r);
    assert_string_equal(error_member(j, "code"), "invalid_input");
    assert_string_equal(error_member(j, "hint"), "allowed here: GET, HEAD");
    json_decref(j);
    reply_release(&r);

    /* With a body: refused before it is read. */
    post(port_of(state), "/text", "{}", &r);
    assert_int_equal(r.status, 405);
    reply_release(&r);
}

static void test_414(void **state)
{
    char path[HTTP_PATH_MAX + 64];
    struct reply r;
    json_t *j;

    memset(path, 'a', sizeof(path) - 1);
    path[0] = '/';
    path[sizeof(path) - 1] = '\0';
    get(port_of(state), "GET", path, &r);
    assert_int_equal(r.status, 414);
    j = body_json(&r);
    assert_string_equal(error_member(j, "code"), "too_large");
    json_decref(j);
    reply_release(&r);
}

static void test_headers_over_memory(void **state)
{
    /* Headers past the per-connection memory are refused by libmicrohttpd. */
    struct buf req;
    struct reply r;

    buf_init(&req, REPLY_MAX);
    buf_printf(&req, "GET /echo/x HTTP/1.1\r\nHost: t\r\nConnection: close\r\n");
    for (int i = 0; i < 100; i++) {
        buf_printf(&req, "X-Filler-%d: %0500d\r\n", i, i);
    }
    buf_append_str(&req, "\r\n");
    exchange(port_of(state), buf_str(&req), &r);
    assert_int_equal(r.status, 431);
    buf_release(&req);
    reply_release(&r);
}

static void test_json_body(void **state)
{
    struct reply r;
    json_t *j;

    post(port_of(state), "/json", "{\"a\": 1, \"b\": [true]}", &r);
    assert_int_equal(r.status, 201);
    j = body_json(&r);
    assert_int_equal(json_integer_value(json_object_get(j, "members")), 2);
    assert_int_equal(json_integer_value(json_object_get(j, "bytes")), 21);
    json_decref(j);
    reply_release(&r);

    post(port_of(state), "/json", "{\"a\": [1, 2", &r);
    assert_int_equal(r.status, 400);
    j = body_json(&r);
    assert_string_equal(error_member(j, "message"), "malformed JSON body");
    assert_non_null(strstr(error_member(j, "detail"), "line 1, column 11"));
    json_decref(j);
    reply_release(&r);
}

static void test_413_content_length_not_read(void **state)
{
    /* The body is announced and never sent: the answer must not wait for it. */
    static const char req[] = "POST /json HTTP/1.1\r\nHost: t\r\nConnection: close\r\n"
                              "Content-Length: 5000\r\n\r\n";
    struct reply r;
    json_t *j;

    exchange(port_of(state), req, &r);
    assert_int_equal(r.status, 413);
    j = body_json(&r);
    assert_string_equal(error_member(j, "code"), "too_large");
    assert_string_equal(error_member(j, "message"), "the request body is larger than 1024 bytes");
    assert_string_equal(error_member(j, "detail"), "Content-Length is 5000");
    json_decref(j);
    reply_release(&r);
}

static void send_chunked(int fd, size_t total)
{
    static const char head0[] = "POST /json HTTP/1.1\r\nHost: t\r\nConnection: close\r\n"
                                "Transfer-Encoding: chunked\r\n\r\n";
    char chunk[600];
    char head[32];

    memset(chunk, ' ', sizeof(chunk));
    send_all(fd, head0, strlen(head0));
    while (total > 0) {
        size_t n = total < sizeof(chunk) ? total : sizeof(chunk);

        snprintf(head, sizeof(head), "%zx\r\n", n);
        send_all(fd, head, strlen(head));
        send_all(fd, chunk, n);
        send_all(fd, "\r\n", 2);
        total -= n;
    }
    send_all(fd, "0\r\n\r\n", 5);
}

static void test_413_chunked(void **state)
{
    struct reply r;
    json_t *j;
    int fd = dial(port_of(state));

    send_chunked(fd, 3000);
    read_reply(fd, &r);
    close(fd);
    assert_int_equal(r.status, 413);
    j = body_json(&r);
    assert_string_equal(error_member(j, "detail"), "more than 1024 bytes arrived");
    json_decref(j);
    reply_release(&r);
}

static void test_chunked_within_cap(void **state)
{
    struct reply r;
    json_t *j;
    int fd = dial(port_of(state));

    send_chunked(fd, 1000);
    read_reply(fd, &r);
    close(fd);
    assert_int_equal(r.status, 400);
    j = body_json(&r);
    /* 1000 spaces pass the cap and reach jansson, which wants a value. */
    assert_string_equal(error_member(j, "message"), "malformed JSON body");
    json_decref(j);
    reply_release(&r);
}

static void test_handler_errors(void **state)
{
    struct reply r;
    json_t *j;

    get(port_of(state), "GET", "/fail", &r);
    assert_int_equal(r.status, 409);
    j = body_json(&r);
    assert_string_equal(error_member(j, "code"), "conflict");
    assert_string_equal(error_member(j, "message"), "the dossier changed under you");
    assert_string_equal(error_member(j, "detail"), "version 3, you sent 2");
    assert_string_equal(error_member(j, "hint"), "reload and try again");
    assert_string_equal(error_member(j, "field"), "version");
    json_decref(j);
    reply_release(&r);

    get(port_of(state), "GET", "/bare", &r);
    assert_int_equal(r.status, 404);
    j = body_json(&r);
    assert_string_equal(error_member(j, "message"), "not_found");
    json_decref(j);
    reply_release(&r);

    get(port_of(state), "GET", "/silent", &r);
    assert_int_equal(r.status, 500);
    j = body_json(&r);
    assert_string_equal(error_member(j, "code"), "internal");
    json_decref(j);
    reply_release(&r);
}

static void test_slow_client_does_not_block(void **state)
{
    /* One worker: a client that sends half a request must not hold it. */
    struct http_server *s = start(1, "127.0.0.1:0");
    uint16_t port = http_server_port(s);
    int slow = dial(port);
    struct reply r;

    (void)state;
    send_all(slow, "GET /echo/slow HTTP/1.1\r\nHo", 27);
    get(port, "GET", "/echo/fast", &r);
    assert_int_equal(r.status, 200);
    assert_non_null(strstr(r.body, "\"fast\""));
    reply_release(&r);

    /* The slow one still gets its answer when it finishes. */
    send_all(slow, "st: t\r\nConnection: close\r\n\r\n", 28);
    read_reply(slow, &r);
    close(slow);
    assert_int_equal(r.status, 200);
    assert_non_null(strstr(r.body, "\"slow\""));
    reply_release(&r);
    http_server_free(s);
}

static void test_deferred_work_frees_the_worker(void **state)
{
    /* One worker: while /wait sits on the pool, the worker serves others. */
    struct http_server *s = start(1, "127.0.0.1:0");
    uint16_t port = http_server_port(s);
    const char *wait_req = "GET /wait HTTP/1.1\r\nHost: t\r\nConnection: close\r\n\r\n";
    int waiting = dial(port);
    struct reply r;
    json_t *j;

    (void)state;
    sem_init(&entered, 0, 0);
    sem_init(&gate, 0, 0);
    send_all(waiting, wait_req, strlen(wait_req));
    sem_wait(&entered);

    get(port, "GET", "/echo/other", &r);
    assert_int_equal(r.status, 200);
    assert_non_null(strstr(r.body, "\"other\""));
    reply_release(&r);

    /* Released, it answers with the headers of both threads. */
    sem_post(&gate);
    read_reply(waiting, &r);
    close(waiting);
    assert_int_equal(r.status, 200);
    assert_string_equal(r.body, "done");
    assert_true(has_header(&r, "X-Worker: yes"));
    assert_true(has_header(&r, "X-Pool: yes"));
    assert_true(has_header(&r, "Content-Type: text/plain; charset=utf-8"));
    reply_release(&r);

    /* An error from the pool is the usual JSON error. */
    get(port, "GET", "/wait-fail", &r);
    assert_int_equal(r.status, 409);
    j = body_json(&r);
    assert_string_equal(error_member(j, "code"), "conflict");
    assert_string_equal(error_member(j, "field"), "If-Match");
    json_decref(j);
    reply_release(&r);

    /* Stopping with work held on the pool: it finishes first, then the stop. */
    waiting = dial(port);
    send_all(waiting, wait_req, strlen(wait_req));
    sem_wait(&entered);
    sem_post(&gate);
    http_server_free(s);
    read_reply(waiting, &r);
    close(waiting);
    assert_int_equal(r.status, 200);
    reply_release(&r);
    sem_destroy(&entered);
    sem_destroy(&gate);
}

/* A server with small connection limits, for the two tests below. */
static struct http_server *start_limited(unsigned per_ip, unsigned timeout)
{
    struct http_config cfg;
    struct lt_error err;
    struct http_server *s;

    http_config_init(&cfg);
    cfg.listen = "127.0.0.1:0";
    cfg.threads = 1;
    cfg.max_per_ip = per_ip;
    cfg.timeout_seconds = timeout;
    s = http_server_new(&cfg, &err);
    assert_non_null(s);
    http_server_route(s, "GET", "/text", h_text, NULL);
    http_server_route(s, "GET", "/wait", h_wait, NULL);
    http_server_route(s, "GET", "/wait-fail", h_wait_fail, NULL);
    if (http_server_start(s, &err) != LT_OK) {
        fail_msg("%s: %s", err.message, err.detail);
    }
    return s;
}

static void test_per_ip_limit(void **state)
{
    struct http_server *s = start_limited(2, 30);
    uint16_t port = http_server_port(s);
    int a = dial(port), b = dial(port);
    struct reply r;

    (void)state;
    /* Two idle connections from 127.0.0.1 use up its share... */
    send_all(a, "GET /te", 7);
    send_all(b, "GET /te", 7);
    usleep(100 * 1000);
    get(port, "GET", "/text", &r);
    assert_int_equal(r.status, -1); /* closed without an answer */
    reply_release(&r);

    /* ...and the held ones are still served. */
    send_all(a, "xt HTTP/1.1\r\nHost: t\r\nConnection: close\r\n\r\n", 44);
    read_reply(a, &r);
    assert_int_equal(r.status, 200);
    reply_release(&r);
    close(a);
    close(b);
    http_server_free(s);
}

static void test_idle_timeout(void **state)
{
    struct http_server *s = start_limited(0, 1);
    int fd = dial(http_server_port(s));
    struct reply r;

    (void)state;
    /* Half a request, then silence: the server hangs up after ~1 s, well
     * before the client's own 5 s receive timeout. */
    send_all(fd, "GET /text HTTP/1.1\r\n", 20);
    read_reply(fd, &r);
    assert_int_equal(r.status, -1);
    assert_string_equal(r.raw, "");
    reply_release(&r);
    close(fd);
    http_server_free(s);
}

static void test_port_taken(void **state)
{
    struct http_config cfg;
    struct lt_error err;
    struct http_server *s;
    char listen[32];

    snprintf(listen, sizeof(listen), "127.0.0.1:%u", (unsigned)port_of(state));
    http_config_init(&cfg);
    cfg.listen = listen;
    s = http_server_new(&cfg, &err);
    assert_non_null(s);
    assert_int_equal(http_server_start(s, &err), LT_EIO);
    assert_non_null(strstr(err.message, "could not listen on"));
    assert_string_equal(err.detail, strerror(EADDRINUSE));
    assert_int_equal(http_server_port(s), 0);
    http_server_free(s);
}

static void test_stop_frees_the_port(void **state)
{
    /* After a stop the port is free again: the listening socket is closed. */
    struct http_server *s = start(2, "127.0.0.1:0");
    struct http_server *again;
    struct http_config cfg;
    struct lt_error err;
    struct reply r;
    char listen[32];

    (void)state;
    snprintf(listen, sizeof(listen), "127.0.0.1:%u", (unsigned)http_server_port(s));
    http_server_stop(s);
    http_config_init(&cfg);
    cfg.listen = listen;
    again = http_server_new(&cfg, &err);
    assert_non_null(again);
    http_server_route(again, "GET", "/text", h_text, NULL);
    if (http_server_start(again, &err) != LT_OK) {
        fail_msg("%s: %s", err.message, err.detail);
    }
    get(http_server_port(again), "GET", "/text", &r);
    assert_int_equal(r.status, 200);
    reply_release(&r);
    http_server_free(again);
    http_server_free(s);
}

static void test_listen_forms(void **state)
{
    static const char *const good[] = { "127.0.0.1:0", ":0", "[::1]:0", "[::]:8080",
                                        "0.0.0.0:65535" };
    static const char *const bad[] = { "localhost:8080", "127.0.0.1",     "::1:8080",   "[::1]8080",
                                       "[::1]",          "1.2.3.4:65536", "1.2.3.4:-1", "1.2.3.4:",
                                       "1.2.3:80",       "[1.2.3.4]:80" };
    struct http_config cfg;
    struct lt_error err;

    (void)state;
    http_config_init(&cfg);
    for (size_t i = 0; i < sizeof(good) / sizeof(good[0]); i++) {
        struct http_server *s;

        cfg.listen = good[i];
        s = http_server_new(&cfg, &err);
        if (s == NULL) {
            fail_msg("%s refused: %s", good[i], err.message);
        }
        http_server_free(s);
    }
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        lt_error_clear(&err);
        cfg.listen = bad[i];
        if (http_server_new(&cfg, &err) != NULL) {
            fail_msg("%s accepted", bad[i]);
        }
        assert_int_equal(err.code, LT_EINVAL);
        assert_string_equal(err.field, "listen");
    }
}

static void test_url_and_ipv6(void **state)
{
    struct http_config cfg;
    struct lt_error err;
    struct http_server *s;
    char want[64];

    snprintf(want, sizeof(want), "http://127.0.0.1:%u", (unsigned)port_of(state));
    assert_string_equal(http_server_url(*state), want);

    http_config_init(&cfg);
    cfg.listen = "[::1]:0";
    cfg.threads = 1;
    s = http_server_new(&cfg, &err);
    assert_non_null(s);
    if (http_server_start(s, &err) != LT_OK) {
        http_server_free(s);
        skip(); /* no IPv6 loopback here */
    }
    snprintf(want, sizeof(want), "http://[::1]:%u", (unsigned)http_server_port(s));
    assert_string_equal(http_server_url(s), want);
    http_server_stop(s);
    assert_string_equal(http_server_url(s), "");
    http_server_stop(s); /* twice is harmless */
    http_server_free(s);
}

/* A guard for the guard test: "X-Who: name" makes the caller that clerk of
 * unit 00004; no header is anonymous; "X-Who: nobody" is refused. */
static enum lt_code test_guard(struct http_request *req, void *ctx, struct lt_error *err)
{
    const char *who = http_request_header(req, "X-Who");
    struct auth_principal p;

    (void)ctx;
    if (who == NULL) {
        return LT_OK;
    }
    if (strcmp(who, "nobody") == 0) {
        return lt_error_set(err, LT_EUNAUTH, "unknown caller on %s", http_request_route(req));
    }
    memset(&p, 0, sizeof(p));
    snprintf(p.account, sizeof(p.account), "%s", who);
    p.role = AUTH_CLERK;
    snprintf(p.unit, sizeof(p.unit), "00004");
    http_request_set_principal(req, &p);
    return LT_OK;
}

static enum lt_code h_whoami(struct http_request *req, void *ctx, struct lt_error *err)
{
    const struct auth_principal *p = http_request_principal(req);

    (void)ctx;
    (void)err;
    return http_reply_json(req, 200,
                           json_pack("{s:s, s:s}", "account", p != NULL ? p->account : "", "unit",
                                     p != NULL ? p->unit : ""));
}

static void test_guard_runs_before_the_handler(void **state)
{
    struct http_config cfg;
    struct lt_error err;
    struct http_server *s;
    struct reply r;
    json_t *j;

    (void)state;
    http_config_init(&cfg);
    cfg.listen = "127.0.0.1:0";
    cfg.threads = 1;
    s = http_server_new(&cfg, &err);
    assert_non_null(s);
    http_server_set_guard(s, test_guard, NULL);
    http_server_route(s, "GET", "/whoami", h_whoami, NULL);
    assert_int_equal(http_server_start(s, &err), LT_OK);

    exchange(http_server_port(s),
             "GET /whoami HTTP/1.1\r\nHost: x\r\nConnection: close\r\nX-Who: lan\r\n\r\n", &r);
    assert_int_equal(r.status, 200);
    j = body_json(&r);
    assert_string_equal(json_string_value(json_object_get(j, "account")), "lan");
    assert_string_equal(json_string_value(json_object_get(j, "unit")), "00004");
    json_decref(j);
    reply_release(&r);

    get(http_server_port(s), "GET", "/whoami", &r);
    assert_int_equal(r.status, 200);
    j = body_json(&r);
    assert_string_equal(json_string_value(json_object_get(j, "account")), "");
    json_decref(j);
    reply_release(&r);

    exchange(http_server_port(s),
             "GET /whoami HTTP/1.1\r\nHost: x\r\nConnection: close\r\nX-Who: nobody\r\n\r\n", &r);
    assert_int_equal(r.status, 401);
    j = body_json(&r);
    assert_string_equal(error_member(j, "code"), "unauthenticated");
    assert_string_equal(error_member(j, "message"), "unknown caller on /whoami");
    json_decref(j);
    reply_release(&r);
    http_server_free(s);
}

static void test_config_limits(void **state)
{
    struct http_config cfg;
    struct lt_error err;

    (void)state;
    http_config_init(&cfg);
    cfg.threads = 5000;
    assert_null(http_server_new(&cfg, &err));
    assert_string_equal(err.field, "threads");

    http_config_init(&cfg);
    cfg.max_body = (size_t)2 << 30;
    assert_null(http_server_new(&cfg, &err));
    assert_string_equal(err.field, "max_body");

    http_config_init(&cfg);
    cfg.connection_memory = 100;
    assert_null(http_server_new(&cfg, &err));
    assert_string_equal(err.field, "connection_memory");
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_get_params_and_query),
        cmocka_unit_test(test_guard_runs_before_the_handler),
        cmocka_unit_test(test_encoded_nul_stays_encoded),
        cmocka_unit_test(test_head),
        cmocka_unit_test(test_text_and_extra_headers),
        cmocka_unit_test(test_404),
        cmocka_unit_test(test_405),
        cmocka_unit_test(test_414),
        cmocka_unit_test(test_headers_over_memory),
        cmocka_unit_test(test_json_body),
        cmocka_unit_test(test_413_content_length_not_read),
        cmocka_unit_test(test_413_chunked),
        cmocka_unit_test(test_chunked_within_cap),
        cmocka_unit_test(test_handler_errors),
        cmocka_unit_test(test_slow_client_does_not_block),
        cmocka_unit_test(test_deferred_work_frees_the_worker),
        cmocka_unit_test(test_per_ip_limit),
        cmocka_unit_test(test_idle_timeout),
        cmocka_unit_test(test_port_taken),
        cmocka_unit_test(test_stop_frees_the_port),
        cmocka_unit_test(test_listen_forms),
        cmocka_unit_test(test_url_and_ipv6),
        cmocka_unit_test(test_config_limits),
    };

    return cmocka_run_group_tests(tests, setup, teardown);
}
