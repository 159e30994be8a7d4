/*
 * test_router.c - route patterns, captures, precedence, 404 and 405.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "http/router.h"

/* Distinct handlers, so a test can tell which route matched. */
static enum lt_code h_a(struct http_request *req, void *ctx, struct lt_error *err)
{
    (void)req;
    (void)ctx;
    (void)err;
    return LT_OK;
}

static enum lt_code h_b(struct http_request *req, void *ctx, struct lt_error *err)
{
    (void)req;
    (void)ctx;
    (void)err;
    return LT_OK;
}

static enum lt_code h_c(struct http_request *req, void *ctx, struct lt_error *err)
{
    (void)req;
    (void)ctx;
    (void)err;
    return LT_OK;
}

static void add_ok(struct http_router *r, const char *method, const char *pattern,
                   http_handler_fn fn, void *ctx)
{
    struct lt_error err;

    lt_error_clear(&err);
    assert_int_equal(http_router_add(r, method, pattern, fn, ctx, &err), LT_OK);
}

static void add_fails(const char *method, const char *pattern, const char *why)
{
    struct http_router *r = http_router_new();
    struct lt_error err;

    lt_error_clear(&err);
    assert_int_equal(http_router_add(r, method, pattern, h_a, NULL, &err), LT_EINVAL);
    assert_non_null(strstr(err.message, why));
    http_router_free(r);
}

static void test_literal_and_captures(void **state)
{
    struct http_router *r = http_router_new();
    struct http_match m;
    int ctx_b = 7;

    (void)state;
    add_ok(r, "GET", "/healthz", h_a, NULL);
    add_ok(r, "GET", "/api/v1/units/{code}/children", h_b, &ctx_b);
    add_ok(r, "GET", "/a/{x}/b/{y}", h_c, NULL);

    assert_int_equal(http_router_match(r, "GET", "/healthz", &m), HTTP_MATCH_OK);
    assert_ptr_equal(m.handler, h_a);
    assert_int_equal(m.nparams, 0);
    http_match_release(&m);

    assert_int_equal(http_router_match(r, "GET", "/api/v1/units/00004/children", &m),
                     HTTP_MATCH_OK);
    assert_ptr_equal(m.handler, h_b);
    assert_ptr_equal(m.ctx, &ctx_b);
    assert_string_equal(http_match_param(&m, "code"), "00004");
    assert_null(http_match_param(&m, "name"));
    assert_string_equal(http_route_pattern(m.route), "/api/v1/units/{code}/children");
    http_match_release(&m);

    assert_int_equal(http_router_match(r, "GET", "/a/one/b/two", &m), HTTP_MATCH_OK);
    assert_ptr_equal(m.handler, h_c);
    assert_int_equal(m.nparams, 2);
    assert_string_equal(http_match_param(&m, "x"), "one");
    assert_string_equal(http_match_param(&m, "y"), "two");
    http_match_release(&m);
    http_router_free(r);
}

static void test_not_found(void **state)
{
    struct http_router *r = http_router_new();
    struct http_match m;
    static const char *const misses[] = {
        "/",
        "/healthz/",
        "/healthzz",
        "/HEALTHZ",
        "/api/v1/units//children", /* a capture never matches an empty segment */
        "/api/v1/units/00004",
        "/api/v1/units/00004/children/x",
        "healthz",
        "",
        "/a/b/c/d/e/f/g/h/i/j/k/l/m/n/o/p/q/r/s/t",
    };

    (void)state;
    add_ok(r, "GET", "/healthz", h_a, NULL);
    add_ok(r, "GET", "/api/v1/units/{code}/children", h_b, NULL);
    for (size_t i = 0; i < sizeof(misses) / sizeof(misses[0]); i++) {
        assert_int_equal(http_router_match(r, "GET", misses[i], &m), HTTP_MATCH_NO_PATH);
        assert_null(m.handler);
        http_match_release(&m);
    }
    http_router_free(r);
}

static void test_root_route(void **state)
{
    struct http_router *r = http_router_new();
    struct http_match m;

    (void)state;
    add_ok(r, "GET", "/", h_a, NULL);
    assert_int_equal(http_router_match(r, "GET", "/", &m), HTTP_MATCH_OK);
    http_match_release(&m);
    assert_int_equal(http_router_match(r, "GET", "/x", &m), HTTP_MATCH_NO_PATH);
    http_match_release(&m);
    http_router_free(r);
}

static void test_method_not_allowed(void **state)
{
    struct http_router *r = http_router_new();
    struct http_match m;

    (void)state;
    add_ok(r, "GET", "/items/{id}", h_a, NULL);
    add_ok(r, "DELETE", "/items/{id}", h_b, NULL);
    add_ok(r, "POST", "/items", h_c, NULL);

    assert_int_equal(http_router_match(r, "PUT", "/items/3", &m), HTTP_MATCH_NO_METHOD);
    assert_string_equal(m.allow, "GET, HEAD, DELETE");
    assert_null(m.handler);
    http_match_release(&m);

    assert_int_equal(http_router_match(r, "GET", "/items", &m), HTTP_MATCH_NO_METHOD);
    assert_string_equal(m.allow, "POST");
    http_match_release(&m);

    /* HEAD is served by the GET route. */
    assert_int_equal(http_router_match(r, "HEAD", "/items/3", &m), HTTP_MATCH_OK);
    assert_ptr_equal(m.handler, h_a);
    http_match_release(&m);

    assert_int_equal(http_router_match(r, "HEAD", "/items", &m), HTTP_MATCH_NO_METHOD);
    http_match_release(&m);

    assert_int_equal(http_router_match(r, "DELETE", "/items/3", &m), HTTP_MATCH_OK);
    assert_ptr_equal(m.handler, h_b);
    http_match_release(&m);
    http_router_free(r);
}

static void test_literal_beats_capture(void **state)
{
    struct http_match m;

    (void)state;
    /* In both orders of registration. */
    for (int order = 0; order < 2; order++) {
        struct http_router *r = http_router_new();

        if (order == 0) {
            add_ok(r, "GET", "/units/{code}", h_a, NULL);
            add_ok(r, "GET", "/units/search", h_b, NULL);
        } else {
            add_ok(r, "GET", "/units/search", h_b, NULL);
            add_ok(r, "GET", "/units/{code}", h_a, NULL);
        }
        add_ok(r, "GET", "/{kind}/x", h_c, NULL);

        assert_int_equal(http_router_match(r, "GET", "/units/search", &m), HTTP_MATCH_OK);
        assert_ptr_equal(m.handler, h_b);
        http_match_release(&m);

        assert_int_equal(http_router_match(r, "GET", "/units/00004", &m), HTTP_MATCH_OK);
        assert_ptr_equal(m.handler, h_a);
        assert_string_equal(http_match_param(&m, "code"), "00004");
        http_match_release(&m);

        /* "/units/x": literal "units" first beats capture "{kind}" first. */
        assert_int_equal(http_router_match(r, "GET", "/units/x", &m), HTTP_MATCH_OK);
        assert_ptr_equal(m.handler, h_a);
        http_match_release(&m);

        assert_int_equal(http_router_match(r, "GET", "/other/x", &m), HTTP_MATCH_OK);
        assert_ptr_equal(m.handler, h_c);
        assert_string_equal(http_match_param(&m, "kind"), "other");
        http_match_release(&m);
        http_router_free(r);
    }
}

static void test_capture_keeps_bytes(void **state)
{
    struct http_router *r = http_router_new();
    struct http_match m;

    (void)state;
    add_ok(r, "GET", "/u/{code}", h_a, NULL);
    /* The path arrives percent-decoded; a capture holds what is there. */
    assert_int_equal(http_router_match(r, "GET", "/u/Ba Đình", &m), HTTP_MATCH_OK);
    assert_string_equal(http_match_param(&m, "code"), "Ba Đình");
    http_match_release(&m);
    http_router_free(r);
}

static void test_bad_patterns(void **state)
{
    (void)state;
    add_fails("GET", "healthz", "does not start with '/'");
    add_fails("get", "/healthz", "malformed method");
    add_fails("", "/healthz", "malformed method");
    add_fails("GET", "/units/{}", "malformed capture");
    add_fails("GET", "/units/{Code}", "malformed capture");
    add_fails("GET", "/units/{code", "malformed capture");
    add_fails("GET", "/units/x{code}", "stray brace");
    add_fails("GET", "/units/code}", "stray brace");
    add_fails("GET", "/a/{x}/b/{x}", "appears twice");
    add_fails("GET", "/a/b/c/d/e/f/g/h/i/j/k/l/m/n/o/p/q", "more than 16 segments");
    add_fails("GET", "/{a}/{b}/{c}/{d}/{e}/{f}/{g}/{h}/{i}", "more than 8 captures");
}

static void test_duplicate_routes(void **state)
{
    struct http_router *r = http_router_new();
    struct lt_error err;

    (void)state;
    add_ok(r, "GET", "/units/{code}", h_a, NULL);
    add_ok(r, "POST", "/units/{code}", h_b, NULL);
    assert_int_equal(http_router_add(r, "GET", "/units/{code}", h_b, NULL, &err), LT_EINVAL);
    assert_non_null(strstr(err.message, "clashes"));
    /* Another capture name at the same place could never be reached. */
    assert_int_equal(http_router_add(r, "GET", "/units/{id}", h_b, NULL, &err), LT_EINVAL);
    assert_int_equal(http_router_add(r, "GET", "/units/{code}", NULL, NULL, &err), LT_EINVAL);
    http_router_free(r);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_literal_and_captures),
        cmocka_unit_test(test_not_found),
        cmocka_unit_test(test_root_route),
        cmocka_unit_test(test_method_not_allowed),
        cmocka_unit_test(test_literal_beats_capture),
        cmocka_unit_test(test_capture_keeps_bytes),
        cmocka_unit_test(test_bad_patterns),
        cmocka_unit_test(test_duplicate_routes),
    };

    return cmocka_run_group_tests(tests, NULL, NULL);
}
