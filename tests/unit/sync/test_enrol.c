/*
 * Tests for src/sync/enrol.c: tokens are issued only for units inside the
 * parent's, work once, expire, are bound to their unit and to a request
 * signed by the key being enrolled; a lost answer can be asked for again;
 * the parent's log records the enrolment with the child's key.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include <unistd.h>

#include "tree.h"

struct fixture {
    char root[64];
    struct tnode p01, c4, c8;
};

static int setup(void **state)
{
    struct fixture *f = calloc(1, sizeof(*f));

    snprintf(f->root, sizeof(f->root), "/tmp/lt-enrol-XXXXXX");
    if (mkdtemp(f->root) == NULL) {
        return -1;
    }
    tnode_make(&f->p01, f->root, "01-00000002", "01");
    tnode_make(&f->c4, f->root, "00004-00000003", "00004");
    tnode_make(&f->c8, f->root, "00008-00000006", "00008");
    *state = f;
    return 0;
}

static int teardown(void **state)
{
    struct fixture *f = *state;

    tnode_close(&f->p01);
    tnode_close(&f->c4);
    tnode_close(&f->c8);
    tree_remove(f->root);
    free(f);
    return 0;
}

static void issue(struct fixture *f, const char *unit, int64_t ttl, char *token)
{
    struct lt_error err;
    int64_t expires;

    if (sync_enrol_issue(f->p01.n, unit, ttl, token, &expires, &err) != LT_OK) {
        fail_msg("issue: %s", err.message);
    }
    assert_int_equal(strlen(token), SYNC_TOKEN_CHARS);
}

/* Send child's enrolment with token; the status, and the reply's position. */
static int enrol_as(struct fixture *f, struct tnode *child, const char *token, int64_t *position,
                    struct lt_error *err)
{
    char t_hdr[32], sig[SYNC_SIG_HEX], *body = NULL;
    json_t *reply = NULL;
    int status = 200;

    tenrol_request(child, token, &body, t_hdr, sig);
    lt_error_clear(err);
    if (sync_enrol_accept(f->p01.n, &f->p01.key, body, strlen(body),
                          evlog_origin(node_evlog(child->n)), t_hdr, sig, &reply, &status,
                          err) == LT_OK) {
        status = 200;
        *position = json_integer_value(json_object_get(reply, "position"));
        assert_string_equal(
            json_string_value(json_object_get(json_object_get(reply, "parent"), "origin")),
            "01-00000002");
    }
    json_decref(reply);
    free(body);
    return status;
}

static void test_issue_refuses_units_outside(void **state)
{
    struct fixture *f = *state;
    char token[SYNC_TOKEN_CHARS + 1];
    struct lt_error err;
    int64_t expires;

    assert_int_equal(sync_enrol_issue(f->p01.n, "26740", 0, token, &expires, &err), LT_EINVAL);
    assert_non_null(strstr(err.message, "is not inside this node's unit 01"));
    assert_int_equal(sync_enrol_issue(f->p01.n, "01", 0, token, &expires, &err), LT_EINVAL);
    assert_int_equal(sync_enrol_issue(f->p01.n, "VN", 0, token, &expires, &err), LT_EINVAL);
    assert_int_equal(sync_enrol_issue(f->p01.n, "00001", 0, token, &expires, &err), LT_EINVAL);
    assert_non_null(strstr(err.message, "in force today"));
}

static void test_enrol_once(void **state)
{
    struct fixture *f = *state;
    char token[SYNC_TOKEN_CHARS + 1];
    struct lt_error err;
    struct sync_batch b;
    int64_t pos = 0, head = thead(&f->p01);

    issue(f, "00004", 0, token);
    assert_int_equal(enrol_as(f, &f->c4, token, &pos, &err), 200);
    assert_int_equal(pos, head + 1);
    assert_int_equal(tchild(&f->p01, &f->c4).acked, 0);

    /* the enrolment is an event of the parent's log, with the key */
    tbatch(&f->p01, head, &b);
    assert_int_equal(b.nevents, 1);
    assert_string_equal(b.events[0].type, SYNC_EVENT_ENROLLED);
    assert_string_equal(b.events[0].entity, "node/00004-00000003");
    {
        char pk[SYNC_PK_HEX];

        sync_hex(f->c4.key.pk, SYNC_PK_BYTES, pk);
        assert_non_null(strstr(b.events[0].body, pk));
    }
    sync_batch_release(&b);

    /* the same child asking again: the same answer, nothing new written */
    assert_int_equal(enrol_as(f, &f->c4, token, &pos, &err), 200);
    assert_int_equal(pos, 0);
    assert_int_equal(thead(&f->p01), head + 1);

    /* another node with the used token: refused */
    assert_int_equal(enrol_as(f, &f->c8, token, &pos, &err), 403);
    assert_non_null(strstr(err.message, "used already"));
}

static void test_token_checks(void **state)
{
    struct fixture *f = *state;
    char token[SYNC_TOKEN_CHARS + 1], other[SYNC_TOKEN_CHARS + 1];
    struct lt_error err;
    int64_t pos, head = thead(&f->p01);

    /* a token for 00004 does not enrol the node of 00008 */
    issue(f, "00004", 0, token);
    assert_int_equal(enrol_as(f, &f->c8, token, &pos, &err), 403);
    assert_non_null(strstr(err.message, "issued for unit 00004, not 00008"));

    /* unknown and expired tokens */
    memset(other, 'a', SYNC_TOKEN_CHARS);
    other[SYNC_TOKEN_CHARS] = '\0';
    assert_int_equal(enrol_as(f, &f->c8, other, &pos, &err), 403);
    assert_non_null(strstr(err.message, "not known here"));
    issue(f, "00008", 1, other);
    usleep(5000);
    assert_int_equal(enrol_as(f, &f->c8, other, &pos, &err), 403);
    assert_non_null(strstr(err.message, "expired"));
    assert_int_equal(thead(&f->p01), head);
}

static void test_request_must_be_signed_by_the_key(void **state)
{
    struct fixture *f = *state;
    char token[SYNC_TOKEN_CHARS + 1], t_hdr[32], sig[SYNC_SIG_HEX], *body = NULL;
    struct lt_error err;
    json_t *reply = NULL;
    int status = 0;
    int64_t head = thead(&f->p01);

    issue(f, "00004", 0, token);
    tenrol_request(&f->c4, token, &body, t_hdr, sig);
    /* signed by another key than the one in the body */
    sync_sign_request(&f->c8.key, "POST", "/sync/v1/enrol", "00004-00000003",
                      strtoll(t_hdr, NULL, 10), body, strlen(body), sig);
    assert_int_equal(sync_enrol_accept(f->p01.n, &f->p01.key, body, strlen(body), "00004-00000003",
                                       t_hdr, sig, &reply, &status, &err),
                     LT_EINVAL);
    assert_int_equal(status, 403);
    assert_non_null(strstr(err.message, "signature does not match"));

    /* a malformed body */
    assert_int_equal(sync_enrol_accept(f->p01.n, &f->p01.key, "{\"token\":1}", 11, "00004-00000003",
                                       t_hdr, sig, &reply, &status, &err),
                     LT_EINVAL);
    assert_int_equal(status, 400);
    assert_int_equal(thead(&f->p01), head);
    free(body);

    /* the token still works for the right key */
    {
        int64_t pos;

        assert_int_equal(enrol_as(f, &f->c4, token, &pos, &err), 200);
    }
}

static void test_url_ok(void **state)
{
    (void)state;
    assert_true(sync_url_ok("http://127.0.0.1:8401"));
    assert_true(sync_url_ok("https://tinh-01.gov.vn/"));
    assert_false(sync_url_ok("http://"));
    assert_false(sync_url_ok("ftp://x"));
    assert_false(sync_url_ok("http://a b"));
    assert_false(sync_url_ok(""));
    assert_false(sync_url_ok(NULL));
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_issue_refuses_units_outside, setup, teardown),
        cmocka_unit_test_setup_teardown(test_enrol_once, setup, teardown),
        cmocka_unit_test_setup_teardown(test_token_checks, setup, teardown),
        cmocka_unit_test_setup_teardown(test_request_must_be_signed_by_the_key, setup, teardown),
        cmocka_unit_test(test_url_ok),
    };

    return cmocka_run_group_tests(tests, NULL, NULL);
}
