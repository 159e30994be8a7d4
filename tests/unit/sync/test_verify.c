/*
 * Tests for src/sync/verify.c: which units lie inside which, the unit an
 * event is about, and each check a parent makes of a child's event, alone
 * and in the order verify.h gives.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "core/date.h"
#include "sync/keys.h"
#include "sync/verify.h"

static void test_unit_within(void **state)
{
    static const struct {
        const char *inner, *outer;
        bool within;
    } cases[] = {
        { "00004", "01", true },  { "00008", "01", true },     { "26740", "79", true },
        { "00004", "VN", true },  { "01", "VN", true },        { "VN", "VN", true },
        { "01", "01", true },     { "00004", "00004", true },  { "00004", "79", false },
        { "26740", "01", false }, { "00008", "00004", false }, { "01", "00004", false },
        { "VN", "01", false },    { "79", "01", false },       { "99999", "01", false },
        { "00004", "99", false }, { "", "VN", false },         { "00004", "", false },
        { "00001", "01", true },  { "00688", "08", true },     { "00688", "01", false },
    };
    const struct units *u = units_builtin();

    (void)state;
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        if (units_code_within(u, cases[i].inner, cases[i].outer) != cases[i].within) {
            fail_msg("%s within %s: expected %d", cases[i].inner, cases[i].outer, cases[i].within);
        }
    }
    assert_false(units_code_within(u, NULL, "VN"));
}

static void test_event_unit(void **state)
{
    struct event ev;
    char unit[16];

    (void)state;
    memset(&ev, 0, sizeof(ev));
    ev.body = (char *)"{\"id\":\"HK-1\",\"unit\":\"00004\"}";
    assert_true(sync_event_unit(&ev, unit, sizeof(unit)));
    assert_string_equal(unit, "00004");
    ev.body = (char *)"{\"id\":\"001090123456\"}";
    assert_false(sync_event_unit(&ev, unit, sizeof(unit)));
    ev.body = (char *)"{\"unit\":5}";
    assert_false(sync_event_unit(&ev, unit, sizeof(unit)));
    ev.body = (char *)"[\"unit\"]";
    assert_false(sync_event_unit(&ev, unit, sizeof(unit)));
    ev.body = (char *)"not json";
    assert_false(sync_event_unit(&ev, unit, sizeof(unit)));
    ev.body = NULL;
    assert_false(sync_event_unit(&ev, unit, sizeof(unit)));
}

struct fixture {
    char dir[64];
    struct sync_key key, other;
    struct sync_known known;
    struct event ev;
    char body[256];
};

static int setup(void **state)
{
    struct fixture *f = calloc(1, sizeof(*f));
    struct lt_error err;
    char path[128];

    snprintf(f->dir, sizeof(f->dir), "/tmp/lt-verify-XXXXXX");
    if (mkdtemp(f->dir) == NULL || sync_key_create(f->dir, &f->key, &err) != LT_OK) {
        return -1;
    }
    snprintf(path, sizeof(path), "%s/%s", f->dir, SYNC_KEY_FILE);
    unlink(path);
    if (sync_key_create(f->dir, &f->other, &err) != LT_OK) {
        return -1;
    }
    unlink(path);
    rmdir(f->dir);

    snprintf(f->known.origin, sizeof(f->known.origin), "00004-0000abcd");
    snprintf(f->known.unit, sizeof(f->known.unit), "00004");
    memcpy(f->known.pk, f->key.pk, SYNC_PK_BYTES);
    snprintf(f->known.enrolled_by, sizeof(f->known.enrolled_by), "01-00001111");

    snprintf(f->body, sizeof(f->body),
             "{\"id\":\"HK-7\",\"head_id\":\"001090123456\",\"unit\":\"00004\","
             "\"address_line\":\"5 Kim Mã\"}");
    snprintf(f->ev.origin, sizeof(f->ev.origin), "00004-0000abcd");
    f->ev.seq = 3;
    f->ev.hlc = (int64_t)1764800000000 << 16;
    snprintf(f->ev.actor, sizeof(f->ev.actor), "clerk");
    snprintf(f->ev.type, sizeof(f->ev.type), "household.registered");
    snprintf(f->ev.entity, sizeof(f->ev.entity), "household/HK-7");
    snprintf(f->ev.cause, sizeof(f->ev.cause), "api");
    f->ev.effective = date_from_civil(2025, 8, 1);
    f->ev.body = f->body;
    f->ev.has_prev = true;
    memset(f->ev.prev_hash, 0x11, EVLOG_HASH_BYTES);
    event_hash(&f->ev, f->ev.hash);
    sync_sign_event(&f->key, &f->ev);
    *state = f;
    return 0;
}

static int teardown(void **state)
{
    free(*state);
    return 0;
}

static enum lt_code check(struct fixture *f, const char *child_unit, bool found,
                          struct lt_error *err)
{
    lt_error_clear(err);
    return sync_verify_event(units_builtin(), &f->ev, &f->known, found, child_unit, err);
}

/* Re-hash and re-sign after a change, so that only the change is wrong. */
static void reseal(struct fixture *f, const struct sync_key *k)
{
    event_hash(&f->ev, f->ev.hash);
    sync_sign_event(k, &f->ev);
}

static void test_good_event(void **state)
{
    struct fixture *f = *state;
    struct lt_error err;

    assert_int_equal(check(f, "00004", true, &err), LT_OK);
    /* a province relays its commune's events; the centre too */
    assert_int_equal(check(f, "01", true, &err), LT_OK);
    assert_int_equal(check(f, "VN", true, &err), LT_OK);
}

static void test_hash_mismatch(void **state)
{
    struct fixture *f = *state;
    struct lt_error err;

    f->body[8] = 'X'; /* HK-7 -> HX-7, signature still over the old hash */
    assert_int_equal(check(f, "00004", true, &err), LT_EINVAL);
    assert_non_null(strstr(err.message, "does not match its hash"));
    assert_non_null(strstr(err.detail, "(00004-0000abcd, 3)"));
}

static void test_unknown_origin(void **state)
{
    struct fixture *f = *state;
    struct lt_error err;

    assert_int_equal(check(f, "00004", false, &err), LT_EINVAL);
    assert_non_null(strstr(err.message, "is not known here"));
}

static void test_origin_outside_child(void **state)
{
    struct fixture *f = *state;
    struct lt_error err;

    /* province 79 may not relay the events of a commune of 01 */
    assert_int_equal(check(f, "79", true, &err), LT_EINVAL);
    assert_non_null(strstr(err.message, "outside the sending child's unit 79"));
    assert_int_equal(check(f, "00008", true, &err), LT_EINVAL);
}

static void test_unsigned(void **state)
{
    struct fixture *f = *state;
    struct lt_error err;

    f->ev.has_sig = false;
    assert_int_equal(check(f, "00004", true, &err), LT_EINVAL);
    assert_non_null(strstr(err.message, "is not signed"));
}

static void test_bad_signature(void **state)
{
    struct fixture *f = *state;
    struct lt_error err;

    f->ev.sig[17] ^= 0x40;
    assert_int_equal(check(f, "00004", true, &err), LT_EINVAL);
    assert_non_null(strstr(err.message, "bad signature"));

    /* another node's key, over the right hash */
    reseal(f, &f->other);
    assert_int_equal(check(f, "00004", true, &err), LT_EINVAL);
    assert_non_null(strstr(err.message, "bad signature"));
}

static void test_outside_jurisdiction(void **state)
{
    struct fixture *f = *state;
    struct lt_error err;

    snprintf(f->body, sizeof(f->body),
             "{\"id\":\"HK-7\",\"head_id\":\"001090123456\",\"unit\":\"00008\","
             "\"address_line\":\"5 Kim Mã\"}");
    reseal(f, &f->key);
    assert_int_equal(check(f, "01", true, &err), LT_EINVAL);
    assert_non_null(strstr(err.message, "event about unit 00008 is outside its origin's unit"));

    /* a person's record names no unit: not checked yet (verify.h) */
    snprintf(f->body, sizeof(f->body), "{\"id\":\"001090123456\"}");
    reseal(f, &f->key);
    assert_int_equal(check(f, "01", true, &err), LT_OK);
}

/* The hash is checked before the origin: a stranger learns nothing more. */
static void test_order_of_checks(void **state)
{
    struct fixture *f = *state;
    struct lt_error err;

    f->body[8] = 'X';
    f->ev.sig[0] ^= 1;
    assert_int_equal(check(f, "79", false, &err), LT_EINVAL);
    assert_non_null(strstr(err.message, "does not match its hash"));
    reseal(f, &f->other);
    assert_int_equal(check(f, "79", true, &err), LT_EINVAL);
    assert_non_null(strstr(err.message, "outside the sending child's unit"));
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_unit_within),
        cmocka_unit_test(test_event_unit),
        cmocka_unit_test_setup_teardown(test_good_event, setup, teardown),
        cmocka_unit_test_setup_teardown(test_hash_mismatch, setup, teardown),
        cmocka_unit_test_setup_teardown(test_unknown_origin, setup, teardown),
        cmocka_unit_test_setup_teardown(test_origin_outside_child, setup, teardown),
        cmocka_unit_test_setup_teardown(test_unsigned, setup, teardown),
        cmocka_unit_test_setup_teardown(test_bad_signature, setup, teardown),
        cmocka_unit_test_setup_teardown(test_outside_jurisdiction, setup, teardown),
        cmocka_unit_test_setup_teardown(test_order_of_checks, setup, teardown),
    };

    return cmocka_run_group_tests(tests, NULL, NULL);
}
