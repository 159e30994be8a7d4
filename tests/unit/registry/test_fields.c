/*
 * Tests for the fast paths of src/registry/fields.c: the NFC quick check
 * (every pair of code points it lets through is NFC, as utf8proc says) and
 * the canonical dump (byte for byte json_dumps with REG_DUMP_FLAGS, on
 * every generated record of every kind after validation, and on strings
 * and numbers chosen to hit each escape and number form).
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "core/buf.h"
#include "core/date.h"
#include "core/utf8.h"
#include "gen/gen.h"
#include "registry/kinds.h"

static size_t put_utf8(int cp, char *out)
{
    if (cp < 0x80) {
        out[0] = (char)cp;
        return 1;
    }
    if (cp < 0x800) {
        out[0] = (char)(0xC0 | (cp >> 6));
        out[1] = (char)(0x80 | (cp & 0x3F));
        return 2;
    }
    out[0] = (char)(0xE0 | (cp >> 12));
    out[1] = (char)(0x80 | ((cp >> 6) & 0x3F));
    out[2] = (char)(0x80 | (cp & 0x3F));
    return 3;
}

static bool in_fast_set(int cp)
{
    return (cp >= 0x20 && cp < 0x300) || (cp >= 0x1E00 && cp <= 0x1EFF);
}

static void test_nfc_quick_check(void **state)
{
    struct buf out;
    struct lt_error err;
    char s[8];
    long pairs = 0;

    (void)state;
    buf_init(&out, 64);
    for (int a = 0x20; a <= 0x1EFF; a++) {
        size_t la;

        if (!in_fast_set(a) || (a >= 0x7F && a < 0xA0)) {
            continue;
        }
        la = put_utf8(a, s);
        for (int b = 0x20; b <= 0x1EFF; b++) {
            size_t n;

            if (!in_fast_set(b) || (b >= 0x7F && b < 0xA0)) {
                continue;
            }
            n = la + put_utf8(b, s + la);
            assert_true(text_is_nfc(s, n));
            buf_reset(&out);
            assert_int_equal(utf8_nfc(s, n, &out, &err), LT_OK);
            if (out.len != n || memcmp(out.data, s, n) != 0) {
                fail_msg("U+%04X U+%04X is not NFC", a, b);
            }
            pairs++;
        }
    }
    assert_true(pairs > 900000);

    /* a combining mark, a precomposed letter outside the set, CJK: not sure */
    assert_false(text_is_nfc("Nguye\xCC\x82\xCC\x83n", 9));
    assert_false(text_is_nfc("\xE2\x84\xAB", 3)); /* U+212B ANGSTROM SIGN: NFC is U+00C5 */
    assert_false(text_is_nfc("\xE4\xB8\xAD", 3));
    assert_true(text_is_nfc("Nguy\xE1\xBB\x85n V\xC4\x83n \xC4\x90\xE1\xBB\xA9\x63", 18));
    buf_release(&out);
}

static void same_dump(const json_t *v)
{
    char *want = json_dumps(v, REG_DUMP_FLAGS | JSON_ENCODE_ANY);
    char *got = NULL;
    size_t len = 0;

    assert_non_null(want);
    assert_int_equal(canon_dump(v, 1 << 20, &got, &len), LT_OK);
    if (strcmp(want, got) != 0) {
        fail_msg("canon_dump gave %s, json_dumps %s", got, want);
    }
    assert_int_equal(len, strlen(want));
    free(want);
    free(got);
}

static void test_dump_forms(void **state)
{
    static const char *const strings[] = {
        "",
        "plain",
        "quote \" and backslash \\",
        "tab\tnew\nline\rcr",
        "\x01\x1f\x7f",
        "\b\f",
        "slash / stays",
        "Nguyễn Văn Đức 😀",
        "end\\",
        "\"",
    };
    static const double reals[] = { 0.5,   123.4,   0.333333, 1e-06,  0.000123,  1e21,
                                    100.0, 1.5e300, -2.25,    1e-300, 12345678.9 };
    static const json_int_t ints[] = { 0, -5, 1, INT64_MAX, INT64_MIN, 1000000000000 };
    json_t *obj = json_object(), *arr = json_array();
    char *out = NULL;
    size_t len;

    (void)state;
    for (size_t i = 0; i < sizeof(strings) / sizeof(strings[0]); i++) {
        json_t *s = json_string(strings[i]);

        same_dump(s);
        json_array_append_new(arr, s);
        json_object_set_new(obj, strings[i], json_string("v"));
    }
    for (size_t i = 0; i < sizeof(reals) / sizeof(reals[0]); i++) {
        json_t *r = json_real(reals[i]);

        same_dump(r);
        json_array_append_new(arr, r);
    }
    for (size_t i = 0; i < sizeof(ints) / sizeof(ints[0]); i++) {
        json_t *n = json_integer(ints[i]);

        same_dump(n);
        json_array_append_new(arr, n);
    }
    json_object_set_new(obj, "empty", json_object());
    json_object_set_new(obj, "none", json_array());
    json_object_set(obj, "all", arr);
    same_dump(obj);
    same_dump(arr);

    /* no canonical record holds these: refused, the caller falls back */
    json_array_append_new(arr, json_true());
    assert_int_equal(canon_dump(arr, 1 << 20, &out, &len), LT_EINVAL);
    assert_null(out);
    /* the cap */
    assert_int_equal(canon_dump(obj, 16, &out, &len), LT_ETOOBIG);
    assert_null(out);
    json_decref(arr);
    json_decref(obj);
}

struct seen {
    long records;
};

static enum lt_code dump_generated(enum registry_kind kind, json_t *record, void *arg,
                                   struct lt_error *err)
{
    struct seen *s = arg;
    json_t *canon = NULL;

    if (registry_validate(units_builtin(), kind, record, DATE_MIN, &canon, err) != LT_OK) {
        fail_msg("a generated %s record is invalid: %s", registry_kind_name(kind), err->message);
    }
    same_dump(canon);
    json_decref(canon);
    s->records++;
    return LT_OK;
}

static void test_dump_generated(void **state)
{
    const char *units[] = { "00004", "00070" };
    struct gen_options o = { .units = units, .nunits = 2, .people = 300, .seed = 7 };
    struct seen s = { 0 };
    struct lt_error err;

    (void)state;
    o.today = date_today();
    assert_int_equal(gen_run(units_builtin(), &o, dump_generated, &s, &err), LT_OK);
    assert_true(s.records > 1000);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_nfc_quick_check),
        cmocka_unit_test(test_dump_forms),
        cmocka_unit_test(test_dump_generated),
    };

    return cmocka_run_group_tests(tests, NULL, NULL);
}
