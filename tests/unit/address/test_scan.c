/*
 * Tests for src/address/address_scan.c: words, offsets, folding, the forms
 * numbers are written in, type prefixes and spelling comparison.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "address/address_scan.h"
#include "units/units.h"

static struct address_scan sc;

static void scan(const char *text)
{
    address_scan_line(&sc, text, strlen(text));
}

static void assert_word(int i, const char *fold, const char *as_written)
{
    const struct address_token *t = &sc.tok[i];

    assert_true(i < sc.n);
    assert_int_equal(t->flen, strlen(fold));
    assert_memory_equal(sc.fold + t->fold, fold, t->flen);
    assert_int_equal(t->end - t->start, strlen(as_written));
    assert_memory_equal(sc.text + t->start, as_written, t->end - t->start);
}

static void test_words_and_offsets(void **state)
{
    (void)state;
    scan("Số 12 ngõ 34, Phường Đội Cấn ,Q.Ba Đình-Hà Nội");
    assert_int_equal(sc.n, 12);
    assert_word(0, "so", "Số");
    assert_word(1, "12", "12");
    assert_word(4, "phuong", "Phường");
    assert_word(6, "can", "Cấn");
    assert_word(7, "q", "Q");
    assert_word(8, "ba", "Ba");
    assert_word(11, "noi", "Nội");
    assert_true(sc.parts);
    assert_true(sc.accents);
    assert_true(sc.tok[0].part_start);
    assert_true(sc.tok[4].part_start);
    assert_false(sc.tok[5].part_start);
    assert_true(sc.tok[7].part_start);
    assert_true(sc.tok[7].dot);
    assert_false(sc.tok[10].part_start); /* a hyphen splits words, not parts */
    assert_int_equal(address_scan_part_start(&sc, 6), 4);
    assert_int_equal(address_scan_part_start(&sc, 11), 7);

    scan("ben nghe quan 1 hcm");
    assert_false(sc.parts);
    assert_false(sc.accents);
}

static void test_numbers(void **state)
{
    char key[64];

    (void)state;
    scan("P12,Q.01,F7,q10 x");
    assert_int_equal(sc.n, 9);
    assert_word(0, "p", "P");
    assert_word(1, "12", "12");
    assert_true(sc.tok[1].glued);
    assert_true(sc.tok[1].numeric);
    assert_word(3, "1", "01"); /* leading zeros dropped */
    assert_word(4, "f", "F");
    assert_true(sc.tok[5].glued);
    assert_word(6, "q", "q");
    assert_word(7, "10", "10");
    /* Words that only look like a prefix and a number stay whole. */
    scan("B52 abc12");
    assert_int_equal(sc.n, 2);

    /* A Roman numeral ending a name reads as its value. */
    scan("Phường IV");
    assert_int_equal(sc.tok[1].roman, 4);
    assert_int_equal(address_scan_key(&sc, 1, 2, key, sizeof(key)), 1);
    assert_string_equal(key, "4");
    scan("Tam Xuân II");
    address_scan_key(&sc, 0, 3, key, sizeof(key));
    assert_string_equal(key, "tam xuan 2");
    scan("Ea H'đinh");
    address_scan_key(&sc, 0, sc.n, key, sizeof(key));
    assert_string_equal(key, "ea h dinh");
    assert_int_equal(address_scan_key(&sc, 0, sc.n, key, 5), 0); /* does not fit */
}

static void test_tail_of_a_long_line(void **state)
{
    char line[4096];
    size_t o = 0;

    (void)state;
    for (int i = 0; i < 300; i++) {
        o += (size_t)snprintf(line + o, sizeof(line) - o, "w%d ", i);
    }
    snprintf(line + o, sizeof(line) - o, ", Quận 1");
    scan(line);
    assert_int_equal(sc.n, SCAN_TOKENS_MAX);
    assert_word(SCAN_TOKENS_MAX - 1, "1", "1");
    assert_word(SCAN_TOKENS_MAX - 3, "w299", "w299");
}

static void assert_prefix(const char *text, int s, int ntok, enum unit_type type)
{
    struct address_prefix p;

    scan(text);
    p = address_scan_prefix(&sc, s, 0);
    if (p.ntok != ntok) {
        fail_msg("\"%s\": prefix of %d words, want %d", text, p.ntok, ntok);
    }
    if (ntok > 0) {
        assert_true(p.types & (1u << type));
    }
}

static void test_prefixes(void **state)
{
    (void)state;
    assert_prefix("Phường Bến Nghé", 1, 1, UNIT_TYPE_WARD);
    assert_prefix("PHƯỜNG Bến Nghé", 1, 1, UNIT_TYPE_WARD);
    assert_prefix("phuong Ben Nghe", 1, 1, UNIT_TYPE_WARD);
    assert_prefix("P. Bến Nghé", 1, 1, UNIT_TYPE_WARD);
    assert_prefix("P12", 1, 1, UNIT_TYPE_WARD);
    assert_prefix("F12", 1, 1, UNIT_TYPE_WARD);
    assert_prefix("F Bến Nghé", 1, 0, UNIT_TYPE_WARD); /* "F" needs its dot */
    assert_prefix("Thị trấn Trạm Tấu", 2, 2, UNIT_TYPE_TOWNSHIP);
    assert_prefix("TT.Trạm Tấu", 1, 1, UNIT_TYPE_TOWNSHIP);
    assert_prefix("Thị xã Cai Lậy", 2, 2, UNIT_TYPE_TOWN);
    assert_prefix("TX Cai Lậy", 1, 1, UNIT_TYPE_TOWN);
    assert_prefix("Thành phố Huế", 2, 2, UNIT_TYPE_MUNICIPALITY);
    assert_prefix("TP.HCM", 1, 1, UNIT_TYPE_PROVINCIAL_CITY);
    assert_prefix("T. Hà Giang", 1, 1, UNIT_TYPE_PROVINCE);
    assert_prefix("T Hà Giang", 1, 0, UNIT_TYPE_PROVINCE);
    assert_prefix("Đặc khu Côn Đảo", 2, 2, UNIT_TYPE_SPECIAL_ZONE);
    /* Diacritics that are not the prefix's: a name, not a prefix. */
    assert_prefix("Phương Sơn", 1, 0, UNIT_TYPE_WARD);
    assert_prefix("Quán Thánh", 1, 0, UNIT_TYPE_URBAN_DISTRICT);
    assert_prefix("Tĩnh Túc", 1, 0, UNIT_TYPE_PROVINCE);
    /* A prefix never reaches across a comma. */
    assert_prefix("Phường, Bến Nghé", 1, 0, UNIT_TYPE_WARD);
}

static void test_spelling(void **state)
{
    static const char nfd[] = "Ho\xcc\x82\xcc\x80ng Phu\xcc\x81";

    (void)state;
    scan("Xã Hoằng Phú");
    assert_true(address_scan_same_spelling(&sc, 1, 3, "Hoằng Phú"));
    assert_false(address_scan_same_spelling(&sc, 1, 3, "Hoằng Phụ"));
    scan("HOẰNG  PHÚ");
    assert_true(address_scan_same_spelling(&sc, 0, 2, "Hoằng Phú"));
    scan(nfd); /* decomposed: H o + circumflex + grave ... */
    assert_true(address_scan_same_spelling(&sc, 0, 2, "Hồng Phú"));
    scan("Văn Miếu-Quốc Tử Giám");
    assert_true(address_scan_same_spelling(&sc, 0, sc.n, "Văn Miếu - Quốc Tử Giám"));
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_words_and_offsets),
        cmocka_unit_test(test_numbers),
        cmocka_unit_test(test_tail_of_a_long_line),
        cmocka_unit_test(test_prefixes),
        cmocka_unit_test(test_spelling),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
