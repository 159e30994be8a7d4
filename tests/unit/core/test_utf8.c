/* Tests for src/core/utf8.c: validation, NFC and Vietnamese folding. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "core/utf8.h"

static void assert_fold(const char *in, const char *want)
{
    char out[256];

    utf8_fold(in, strlen(in), out, sizeof(out));
    assert_string_equal(out, want);
}

static void test_fold_vietnamese(void **state)
{
    (void)state;
    assert_fold("Nguyễn Văn An", "nguyen van an");
    assert_fold("ĐẮK LẮK", "dak lak");
    assert_fold("đường Đội Cấn", "duong doi can");
    assert_fold("Thừa Thiên Huế", "thua thien hue");
    assert_fold("Ơ ư Ư ơ ă Â ê Ô", "o u u o a a e o");
    assert_fold("Quận 1", "quan 1");
    /* NFD input: base letters followed by combining marks. */
    assert_fold("Nguye\xcc\x82\xcc\x83n", "nguyen");
    /* Not Latin: kept, lower-cased. */
    assert_fold("Ж", "\xd0\xb6");
    /* Pasted text: a no-break or thin space is a space, a zero-width joiner
     * or soft hyphen is nothing. */
    assert_fold("Lê\xc2\xa0Văn\xe2\x80\x89Mười", "le van muoi");
    assert_fold("Lê Văn\xe2\x80\x8d Tám", "le van tam");
    assert_fold("Nguy\xc2\xadễn", "nguyen");
}

static void test_invisible_and_spaces(void **state)
{
    static const char zwj[] = "Lê Văn\xe2\x80\x8d Tám";
    static const char nbsp[] = "\xc2\xa0Lê\xc2\xa0Văn\xe3\x80\x80Mười";
    struct buf b;
    int cp = 0;

    (void)state;
    assert_int_equal(utf8_find_invisible("Nguyễn Văn Ân", strlen("Nguyễn Văn Ân"), &cp),
                     strlen("Nguyễn Văn Ân"));
    assert_int_equal(utf8_find_invisible(zwj, strlen(zwj), &cp), 8);
    assert_int_equal(cp, 0x200d);
    assert_int_equal(utf8_find_invisible("\xef\xbb\xbfx", 4, &cp), 0);
    assert_int_equal(cp, 0xfeff);
    buf_init(&b, 256);
    assert_false(utf8_plain_spaces("Lê Văn Tám", strlen("Lê Văn Tám"), &b));
    assert_int_equal(b.len, 0);
    assert_true(utf8_plain_spaces(nbsp, strlen(nbsp), &b));
    assert_int_equal(b.len, strlen(" Lê Văn Mười"));
    assert_memory_equal(b.data, " Lê Văn Mười", b.len);
    buf_release(&b);
}

static void test_fold_invalid_and_truncation(void **state)
{
    char out[6];

    (void)state;
    assert_fold("a\xff"
                "b",
                "a?b");
    utf8_fold("Hà Nội xyz", strlen("Hà Nội xyz"), out, sizeof(out));
    assert_string_equal(out, "ha no");
}

static void test_fold_words(void **state)
{
    char out[128];
    const char *in = "  Bà Rịa-Vũng  Tàu ,, ";

    (void)state;
    utf8_fold_words(in, strlen(in), out, sizeof(out));
    assert_string_equal(out, "ba ria vung tau");
    utf8_fold_words("", 0, out, sizeof(out));
    assert_string_equal(out, "");
}

static void test_valid_text(void **state)
{
    size_t at = 0;

    (void)state;
    assert_true(utf8_valid_text("Phường Ba Đình", strlen("Phường Ba Đình"), &at));
    assert_true(utf8_valid_text("a\tb", 3, &at));
    assert_false(utf8_valid_text("ab\xc3", 3, &at));
    assert_int_equal(at, 2);
    assert_false(utf8_valid_text("a\nb", 3, &at));
    assert_int_equal(at, 1);
    assert_false(utf8_valid_text("a\0b", 3, &at));
    assert_false(utf8_valid_text("\xed\xa0\x80", 3, &at)); /* a surrogate */
    assert_false(utf8_valid_text("\xc0\xaf", 2, &at));     /* overlong */
    assert_false(utf8_valid_text("x\xc2\x85", 3, &at));    /* C1 control */
    assert_int_equal(at, 1);
}

static void test_nfc(void **state)
{
    struct buf b;
    struct lt_error err;

    (void)state;
    buf_init(&b, 64);
    assert_int_equal(utf8_nfc("Nguye\xcc\x82\xcc\x83n", 10, &b, &err), LT_OK);
    assert_string_equal(buf_str(&b), "Nguyễn");
    buf_reset(&b);
    assert_int_equal(utf8_nfc("\xff", 1, &b, &err), LT_EINVAL);
    assert_int_equal(b.len, 0);
    buf_release(&b);

    buf_init(&b, 4);
    assert_int_equal(utf8_nfc("Nguyễn", strlen("Nguyễn"), &b, &err), LT_ETOOBIG);
    assert_int_equal(b.len, 0);
    buf_release(&b);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_fold_vietnamese),
        cmocka_unit_test(test_invisible_and_spaces),
        cmocka_unit_test(test_fold_invalid_and_truncation),
        cmocka_unit_test(test_fold_words),
        cmocka_unit_test(test_valid_text),
        cmocka_unit_test(test_nfc),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
