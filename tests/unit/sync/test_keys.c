/*
 * Tests for src/sync/keys.c: the key file (made once, private, checked on
 * load), event signatures and request signatures, each refused when any
 * byte they cover changes.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "sync/keys.h"

struct fixture {
    char dir[64];
};

static int setup(void **state)
{
    struct fixture *f = calloc(1, sizeof(*f));

    snprintf(f->dir, sizeof(f->dir), "/tmp/lt-keys-XXXXXX");
    if (mkdtemp(f->dir) == NULL) {
        return -1;
    }
    *state = f;
    return 0;
}

static int teardown(void **state)
{
    struct fixture *f = *state;
    char path[128];

    snprintf(path, sizeof(path), "%s/%s", f->dir, SYNC_KEY_FILE);
    unlink(path);
    rmdir(f->dir);
    free(f);
    return 0;
}

static void test_key_file(void **state)
{
    struct fixture *f = *state;
    struct sync_key a, b;
    struct lt_error err;
    char path[128];
    struct stat st;
    FILE *fp;

    assert_int_equal(sync_key_load(f->dir, &a, &err), LT_ENOTFOUND);
    assert_int_equal(sync_key_create(f->dir, &a, &err), LT_OK);
    snprintf(path, sizeof(path), "%s/%s", f->dir, SYNC_KEY_FILE);
    assert_int_equal(stat(path, &st), 0);
    assert_int_equal(st.st_mode & 0777, 0600);
    assert_int_equal(sync_key_load(f->dir, &b, &err), LT_OK);
    assert_memory_equal(a.pk, b.pk, SYNC_PK_BYTES);
    assert_memory_equal(a.sk, b.sk, SYNC_SK_BYTES);

    /* never replaced */
    assert_int_equal(sync_key_create(f->dir, &b, &err), LT_ECONFLICT);
    assert_int_equal(sync_key_load(f->dir, &b, &err), LT_OK);
    assert_memory_equal(a.pk, b.pk, SYNC_PK_BYTES);

    /* readable by others: refused */
    chmod(path, 0644);
    assert_int_equal(sync_key_load(f->dir, &b, &err), LT_EINVAL);
    assert_non_null(strstr(err.message, "readable by other users"));
    chmod(path, 0600);

    /* not a key */
    fp = fopen(path, "w");
    fputs("not a key\n", fp);
    fclose(fp);
    assert_int_equal(sync_key_load(f->dir, &b, &err), LT_EINVAL);
    assert_non_null(strstr(err.message, "is not a key"));

    sync_key_wipe(&a);
    for (size_t i = 0; i < sizeof(a.sk); i++) {
        assert_int_equal(a.sk[i], 0);
    }
}

static void test_event_signature(void **state)
{
    struct fixture *f = *state;
    struct sync_key k, other;
    struct event ev;
    struct lt_error err;

    assert_int_equal(sync_key_create(f->dir, &k, &err), LT_OK);
    memset(&other, 0, sizeof(other));
    other = k;
    other.pk[0] ^= 1;
    memset(&ev, 0, sizeof(ev));
    for (int i = 0; i < EVLOG_HASH_BYTES; i++) {
        ev.hash[i] = (uint8_t)(i * 7);
    }
    sync_sign_event(&k, &ev);
    assert_true(ev.has_sig);
    assert_true(sync_event_sig_ok(k.pk, ev.hash, ev.sig));
    assert_false(sync_event_sig_ok(other.pk, ev.hash, ev.sig));
    ev.hash[5] ^= 0x10;
    assert_false(sync_event_sig_ok(k.pk, ev.hash, ev.sig));
    ev.hash[5] ^= 0x10;
    ev.sig[63] ^= 0x01;
    assert_false(sync_event_sig_ok(k.pk, ev.hash, ev.sig));
}

static void test_request_signature(void **state)
{
    struct fixture *f = *state;
    static const char body[] = "{\"v\":1}";
    struct sync_key k;
    struct lt_error err;
    char sig[SYNC_SIG_HEX], t[32], bad[SYNC_SIG_HEX];
    int64_t now = 1764800000000;

    assert_int_equal(sync_key_create(f->dir, &k, &err), LT_OK);
    sync_sign_request(&k, "POST", "/sync/v1/push", "01-aa", now, body, strlen(body), sig);
    snprintf(t, sizeof(t), "%lld", (long long)now);
    assert_int_equal(sync_check_request(k.pk, "POST", "/sync/v1/push", "01-aa", t, sig, body,
                                        strlen(body), now + 1000, &err),
                     LT_OK);

    /* every covered part matters */
    assert_int_equal(
        sync_check_request(k.pk, "POST", "/sync/v1/push", "01-aa", t, sig, "{}", 2, now, &err),
        LT_EINVAL);
    assert_non_null(strstr(err.message, "signature does not match"));
    assert_int_equal(sync_check_request(k.pk, "POST", "/sync/v1/enrol", "01-aa", t, sig, body,
                                        strlen(body), now, &err),
                     LT_EINVAL);
    assert_int_equal(sync_check_request(k.pk, "POST", "/sync/v1/push", "01-ab", t, sig, body,
                                        strlen(body), now, &err),
                     LT_EINVAL);
    assert_int_equal(sync_check_request(k.pk, "PUT", "/sync/v1/push", "01-aa", t, sig, body,
                                        strlen(body), now, &err),
                     LT_EINVAL);
    snprintf(t, sizeof(t), "%lld", (long long)now + 1);
    assert_int_equal(sync_check_request(k.pk, "POST", "/sync/v1/push", "01-aa", t, sig, body,
                                        strlen(body), now, &err),
                     LT_EINVAL);

    /* a time too far from ours, malformed or missing headers */
    snprintf(t, sizeof(t), "%lld", (long long)now);
    assert_int_equal(sync_check_request(k.pk, "POST", "/sync/v1/push", "01-aa", t, sig, body,
                                        strlen(body), now + SYNC_CLOCK_SKEW_MS + 1, &err),
                     LT_EINVAL);
    assert_non_null(strstr(err.message, "too far from ours"));
    assert_int_equal(sync_check_request(k.pk, "POST", "/sync/v1/push", "01-aa", "12x", sig, body,
                                        strlen(body), now, &err),
                     LT_EINVAL);
    assert_int_equal(sync_check_request(k.pk, "POST", "/sync/v1/push", "01-aa", NULL, sig, body,
                                        strlen(body), now, &err),
                     LT_EINVAL);
    assert_non_null(strstr(err.message, "not signed"));
    snprintf(bad, sizeof(bad), "%s", sig);
    bad[10] = 'x';
    assert_int_equal(sync_check_request(k.pk, "POST", "/sync/v1/push", "01-aa", t, bad, body,
                                        strlen(body), now, &err),
                     LT_EINVAL);
    assert_non_null(strstr(err.message, "is not a signature"));
}

static void test_hex(void **state)
{
    uint8_t in[5] = { 0x00, 0x01, 0xab, 0xcd, 0xff }, out[5];
    char hex[11];

    (void)state;
    sync_hex(in, sizeof(in), hex);
    assert_string_equal(hex, "0001abcdff");
    assert_true(sync_unhex(hex, out, sizeof(out)));
    assert_memory_equal(in, out, sizeof(in));
    assert_true(sync_unhex("0001ABCDFF", out, sizeof(out)));
    assert_false(sync_unhex("0001abcdf", out, sizeof(out)));
    assert_false(sync_unhex("0001abcdff00", out, sizeof(out)));
    assert_false(sync_unhex("0001abcdfg", out, sizeof(out)));
    assert_false(sync_unhex(NULL, out, sizeof(out)));
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_key_file, setup, teardown),
        cmocka_unit_test_setup_teardown(test_event_signature, setup, teardown),
        cmocka_unit_test_setup_teardown(test_request_signature, setup, teardown),
        cmocka_unit_test(test_hex),
    };

    return cmocka_run_group_tests(tests, NULL, NULL);
}
