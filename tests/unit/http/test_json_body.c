/*
 * test_json_body.c - JSON from clients: depth limit, parse errors, member
 * checks, and the shape of the error body.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "core/buf.h"
#include "http/json_body.h"
#include "http/server.h"

static size_t depth_of(const char *s)
{
    return http_json_depth(s, strlen(s), 100, NULL);
}

/* "[[[...]]]" nested n deep (caller frees). */
static char *nested(size_t n)
{
    char *s = malloc(2 * n + 1);

    memset(s, '[', n);
    memset(s + n, ']', n);
    s[2 * n] = '\0';
    return s;
}

static void test_depth_scan(void **state)
{
    size_t at = 0;

    (void)state;
    assert_int_equal(depth_of("1"), 0);
    assert_int_equal(depth_of("\"x\""), 0);
    assert_int_equal(depth_of("[]"), 1);
    assert_int_equal(depth_of("{\"a\":[1,{\"b\":[]}]}"), 4);
    assert_int_equal(depth_of("[[],[],[]]"), 2);
    /* Brackets inside strings do not count, escaped quotes do not end them. */
    assert_int_equal(depth_of("[\"[[[{{{\"]"), 1);
    assert_int_equal(depth_of("[\"\\\"[[[\"]"), 1);
    assert_int_equal(depth_of("[\"\\\\\",[[]]]"), 3);
    /* Past the limit the scan stops and says where. */
    assert_int_equal(http_json_depth("[[[[1]]]]", 9, 3, &at), 4);
    assert_int_equal(at, 3);
}

static void test_parse_ok(void **state)
{
    struct lt_error err;
    json_t *v = NULL;
    const char *text = "{\"address\": \"12 Lý Thường Kiệt\", \"n\": [1, 2]}";

    (void)state;
    assert_int_equal(http_json_parse_object(text, strlen(text), 32, &v, &err), LT_OK);
    assert_true(json_is_object(v));
    assert_string_equal(json_string_value(json_object_get(v, "address")), "12 Lý Thường Kiệt");
    json_decref(v);
}

static void test_parse_depth_boundary(void **state)
{
    struct lt_error err;
    json_t *v = NULL;
    char *ok = nested(HTTP_JSON_MAX_DEPTH);
    char *deep = nested(HTTP_JSON_MAX_DEPTH + 1);

    (void)state;
    assert_int_equal(http_json_parse(ok, strlen(ok), HTTP_JSON_MAX_DEPTH, &v, &err), LT_OK);
    json_decref(v);

    assert_int_equal(http_json_parse(deep, strlen(deep), HTTP_JSON_MAX_DEPTH, &v, &err), LT_EINVAL);
    assert_null(v);
    assert_string_equal(err.message, "the JSON body nests deeper than 32 levels");
    assert_string_equal(err.detail, "level 33 opens at byte 32");
    free(ok);
    free(deep);
}

static void test_parse_deep_refused_before_parse(void **state)
{
    /* 100,000 levels would take jansson to its own limit; we stop at 33. */
    struct lt_error err;
    json_t *v = NULL;
    char *deep = nested(100000);

    (void)state;
    assert_int_equal(http_json_parse(deep, strlen(deep), 32, &v, &err), LT_EINVAL);
    assert_non_null(strstr(err.message, "deeper than 32"));
    free(deep);
}

static void test_parse_errors(void **state)
{
    struct lt_error err;
    json_t *v = NULL;
    static const char truncated[] = "{\"address\":";
    static const char second_line[] = "{\n  \"a\": 1,\n  \"b\": tru\n}";
    static const char bad_utf8[] = "{\"address\":\"\xff\"}";
    static const char dup[] = "{\"a\":1,\"a\":2}";
    static const char nul[] = "{\"a\":\"x\\u0000y\"}";

    (void)state;
    assert_int_equal(http_json_parse("", 0, 32, &v, &err), LT_EINVAL);
    assert_string_equal(err.message, "the request body is empty");

    assert_int_equal(http_json_parse(truncated, strlen(truncated), 32, &v, &err), LT_EINVAL);
    assert_string_equal(err.message, "malformed JSON body");
    assert_non_null(strstr(err.detail, "line 1, column 11 (byte 11)"));

    assert_int_equal(http_json_parse(second_line, strlen(second_line), 32, &v, &err), LT_EINVAL);
    assert_non_null(strstr(err.detail, "line 3,"));

    assert_int_equal(http_json_parse(bad_utf8, strlen(bad_utf8), 32, &v, &err), LT_EINVAL);
    assert_non_null(strstr(err.detail, "0xff"));

    assert_int_equal(http_json_parse(dup, strlen(dup), 32, &v, &err), LT_EINVAL);
    assert_non_null(strstr(err.detail, "duplicate"));

    assert_int_equal(http_json_parse(nul, strlen(nul), 32, &v, &err), LT_EINVAL);
    assert_null(v);
}

static void test_parse_object_only(void **state)
{
    struct lt_error err;
    json_t *v = NULL;

    (void)state;
    assert_int_equal(http_json_parse_object("[1]", 3, 32, &v, &err), LT_EINVAL);
    assert_null(v);
    assert_string_equal(err.message, "the request body must be a JSON object");
    assert_string_equal(err.detail, "got array");
    assert_int_equal(http_json_parse_object("\"x\"", 3, 32, &v, &err), LT_EINVAL);
    assert_string_equal(err.detail, "got string");
}

static void test_only_fields(void **state)
{
    static const char *const allowed[] = { "address", "addresses", NULL };
    struct lt_error err;
    json_t *ok = json_pack("{s:s}", "address", "x");
    json_t *bad = json_pack("{s:s, s:i}", "address", "x", "adress", 1);
    json_t *empty = json_object();

    (void)state;
    assert_int_equal(http_json_only_fields(ok, allowed, &err), LT_OK);
    assert_int_equal(http_json_only_fields(empty, allowed, &err), LT_OK);
    lt_error_clear(&err);
    assert_int_equal(http_json_only_fields(bad, allowed, &err), LT_EINVAL);
    assert_string_equal(err.field, "adress");
    assert_non_null(strstr(err.message, "\"adress\""));
    assert_string_equal(err.hint, "the fields accepted here are: address, addresses");
    json_decref(ok);
    json_decref(bad);
    json_decref(empty);
}

static void test_error_body_shape(void **state)
{
    struct lt_error err;
    json_t *body, *inner;

    (void)state;
    /* Only code and message when nothing else is set. */
    lt_error_set(&err, LT_ENOTFOUND, "no unit has the code \"99999\"");
    body = http_error_json(&err);
    assert_int_equal(json_object_size(body), 1);
    inner = json_object_get(body, "error");
    assert_int_equal(json_object_size(inner), 2);
    assert_string_equal(json_string_value(json_object_get(inner, "code")), "not_found");
    assert_string_equal(json_string_value(json_object_get(inner, "message")),
                        "no unit has the code \"99999\"");
    json_decref(body);

    /* Every member when all are set. */
    lt_error_set(&err, LT_EINVAL, "malformed date \"2025-13-01\"");
    lt_error_detail(&err, "month 13");
    lt_error_hint(&err, "write dates as YYYY-MM-DD");
    lt_error_field(&err, "date");
    inner = http_error_object(&err);
    assert_int_equal(json_object_size(inner), 5);
    assert_string_equal(json_string_value(json_object_get(inner, "code")), "invalid_input");
    assert_string_equal(json_string_value(json_object_get(inner, "detail")), "month 13");
    assert_string_equal(json_string_value(json_object_get(inner, "hint")),
                        "write dates as YYYY-MM-DD");
    assert_string_equal(json_string_value(json_object_get(inner, "field")), "date");
    json_decref(inner);

    /* A message with no text falls back to the code's name. */
    lt_error_clear(&err);
    err.code = LT_ETOOBIG;
    inner = http_error_object(&err);
    assert_string_equal(json_string_value(json_object_get(inner, "message")), "too_large");
    json_decref(inner);
}

static void test_error_body_masks_bad_utf8(void **state)
{
    struct lt_error err;
    json_t *inner;
    const char *msg;

    (void)state;
    /* A client's bytes in a message, and a cut multi-byte sequence. */
    lt_error_set(&err, LT_ENOTFOUND, "nothing is served at \"/a\xff\xfe\"");
    lt_error_detail(&err, "%s", "Đ\xc4");
    inner = http_error_object(&err);
    msg = json_string_value(json_object_get(inner, "message"));
    assert_non_null(msg);
    assert_string_equal(msg, "nothing is served at \"/a??\"");
    assert_string_equal(json_string_value(json_object_get(inner, "detail")), "Đ?");
    json_decref(inner);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_depth_scan),
        cmocka_unit_test(test_parse_ok),
        cmocka_unit_test(test_parse_depth_boundary),
        cmocka_unit_test(test_parse_deep_refused_before_parse),
        cmocka_unit_test(test_parse_errors),
        cmocka_unit_test(test_parse_object_only),
        cmocka_unit_test(test_only_fields),
        cmocka_unit_test(test_error_body_shape),
        cmocka_unit_test(test_error_body_masks_bad_utf8),
    };

    return cmocka_run_group_tests(tests, NULL, NULL);
}
