/* Tests for src/oss/code.c and src/oss/state.c: dossier codes and the transition table. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "oss/code.h"
#include "oss/state.h"

static void test_new_codes_read_back(void **state)
{
    char code[OSS_DOSSIER_CODE_MAX], again[OSS_DOSSIER_CODE_MAX], lower[OSS_DOSSIER_CODE_MAX];
    struct lt_error err;

    (void)state;
    for (int i = 0; i < 200; i++) {
        oss_code_new(code);
        assert_int_equal(strlen(code), 11);
        assert_int_equal(oss_code_parse(code, again, &err), LT_OK);
        assert_string_equal(code, again);
        for (int j = 0; code[j]; j++) {
            lower[j] = (char)(code[j] >= 'A' && code[j] <= 'Z' ? code[j] + 32 : code[j]);
            lower[j + 1] = '\0';
        }
        assert_int_equal(oss_code_parse(lower, again, &err), LT_OK);
        assert_string_equal(code, again);
        assert_null(strpbrk(code, "1ILOU"));
    }
}

static void test_typos_are_caught(void **state)
{
    char code[OSS_DOSSIER_CODE_MAX], out[OSS_DOSSIER_CODE_MAX], bad[OSS_DOSSIER_CODE_MAX];
    struct lt_error err;
    static const char alphabet[] = "023456789ABCDEFGHJKMNPQRSTVWXYZ";

    (void)state;
    oss_code_new(code);
    /* every single wrong symbol */
    for (int pos = 0; pos < 11; pos++) {
        if (code[pos] == '-') {
            continue;
        }
        for (const char *a = alphabet; *a; a++) {
            if (*a == code[pos]) {
                continue;
            }
            memcpy(bad, code, sizeof(bad));
            bad[pos] = *a;
            assert_int_equal(oss_code_parse(bad, out, &err), LT_EINVAL);
        }
    }
    /* every swap of two different neighbours (dashes removed) */
    char plain[10] = { 0 };
    for (int i = 0, j = 0; code[i]; i++) {
        if (code[i] != '-') {
            plain[j++] = code[i];
        }
    }
    /* swaps within the eight payload symbols; the check symbol is not swapped */
    for (int i = 0; i < 7; i++) {
        char sw[10];

        memcpy(sw, plain, sizeof(sw));
        if (sw[i] == sw[i + 1]) {
            continue;
        }
        sw[i] = plain[i + 1];
        sw[i + 1] = plain[i];
        assert_int_equal(oss_code_parse(sw, out, &err), LT_EINVAL);
    }
    assert_int_equal(oss_code_parse("ABC-DEF", out, &err), LT_EINVAL);
    assert_int_equal(oss_code_parse("ABC-DEF-GHI", out, &err), LT_EINVAL); /* I is not used */
    assert_string_equal(err.field, "code");
}

static void test_transitions(void **state)
{
    enum oss_status next;
    struct lt_error err;

    (void)state;
    assert_int_equal(oss_transition(OSS_RECEIVED, OSS_REVIEW, &next, &err), LT_OK);
    assert_int_equal(next, OSS_IN_REVIEW);
    assert_int_equal(oss_transition(OSS_IN_REVIEW, OSS_REQUEST_INFO, &next, &err), LT_OK);
    assert_int_equal(next, OSS_WAITING_APPLICANT);
    assert_int_equal(oss_transition(OSS_WAITING_APPLICANT, OSS_RESUME, &next, &err), LT_OK);
    assert_int_equal(next, OSS_IN_REVIEW);
    assert_int_equal(oss_transition(OSS_IN_REVIEW, OSS_REJECT, &next, &err), LT_OK);
    assert_int_equal(next, OSS_REJECTED);
    assert_int_equal(oss_transition(OSS_APPROVED, OSS_RETURN_RESULT, &next, &err), LT_OK);
    assert_int_equal(next, OSS_RESULT_RETURNED);

    assert_int_equal(oss_transition(OSS_RECEIVED, OSS_APPROVE, &next, &err), LT_ECONFLICT);
    assert_string_equal(err.message, "cannot approve a dossier that is received");
    assert_string_equal(err.detail, "the actions allowed now: review");
    assert_int_equal(oss_transition(OSS_WAITING_APPLICANT, OSS_APPROVE, &next, &err), LT_ECONFLICT);
    assert_string_equal(err.detail, "the actions allowed now: resume");
    assert_int_equal(oss_transition(OSS_RESULT_RETURNED, OSS_REVIEW, &next, &err), LT_ECONFLICT);
    assert_string_equal(err.detail, "the actions allowed now: none");
    assert_true(oss_status_open(OSS_WAITING_APPLICANT));
    assert_false(oss_status_open(OSS_REJECTED));
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_new_codes_read_back),
        cmocka_unit_test(test_typos_are_caught),
        cmocka_unit_test(test_transitions),
    };

    return cmocka_run_group_tests(tests, NULL, NULL);
}
