/*
 * Tests for src/address/address.c: hand-written addresses against the
 * built-in register.  Every expected code below was read from
 * the CSV files of data/units, not from the converter's output.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "address/address.h"

static struct address_converter *conv;

static int setup(void **state)
{
    (void)state;
    conv = address_converter_new(units_builtin());
    return conv != NULL ? 0 : -1;
}

static int teardown(void **state)
{
    (void)state;
    address_converter_free(conv);
    return 0;
}

static struct address_result convert(const char *text)
{
    struct address_result r;
    struct lt_error err;
    enum lt_code rc = address_convert(conv, text, strlen(text), &r, &err);

    if (rc != LT_OK) {
        fail_msg("\"%s\": %s", text, err.message);
    }
    return r;
}

static const char *code(const struct unit *unit)
{
    return unit != NULL ? unit->code : "(null)";
}

/* Converted to one commune of today, from the given old commune. */
static void expect_converted(const char *text, const char *old, const char *now)
{
    struct address_result r = convert(text);

    if (r.status != ADDRESS_CONVERTED) {
        fail_msg("\"%s\": status %s, note \"%s\"", text, address_status_name(r.status), r.note);
    }
    if (old != NULL) {
        assert_string_equal(code(r.old_commune), old);
    }
    assert_string_equal(code(r.new_commune), now);
    assert_int_equal(r.ncandidates, 1);
    assert_ptr_equal(r.candidates[0].commune, r.new_commune);
}

static bool has_candidate(const struct address_result *r, const char *now)
{
    for (size_t i = 0; i < r->ncandidates; i++) {
        if (strcmp(r->candidates[i].commune->code, now) == 0) {
            return true;
        }
    }
    return false;
}

static void test_street_kept_as_written(void **state)
{
    static const char text[] = "Số 12 ngõ 34 Đội Cấn, Phường Đội Cấn, Quận Ba Đình, "
                               "Hà Nội";
    struct address_result r = convert(text);

    (void)state;
    assert_int_equal(r.street_len, strlen("Số 12 ngõ 34 Đội Cấn"));
    assert_memory_equal(r.street, "Số 12 ngõ 34 Đội Cấn", r.street_len);
    assert_ptr_equal(r.street, text);
    assert_string_equal(code(r.old_commune), "00022");
    assert_string_equal(code(r.old_district), "001");
    assert_string_equal(code(r.old_province), "01");

    r = convert("  12/3 Hẻm 5 ,, P. Bến Nghé, Q.1 , TP.HCM");
    assert_int_equal(r.street_len, strlen("  12/3 Hẻm 5"));
    r = convert("Phường Bến Nghé, Quận 1, TP.HCM");
    assert_int_equal(r.street_len, 0);
    /* No comma to go by: the prefix says where the commune starts. */
    r = convert("Số 1 Phường Bến Thành Quận 1 Thành phố Hồ Chí Minh");
    assert_int_equal(r.status, ADDRESS_CONVERTED);
    assert_int_equal(r.street_len, strlen("Số 1"));
}

static void test_numbered_districts(void **state)
{
    static const char *const lines[] = {
        "Phường Bến Nghé, Quận 1, TP.HCM", "Phường Bến Nghé, Q1, TP.HCM",
        "Phường Bến Nghé, Q.1, TP.HCM",    "Phường Bến Nghé, Q. 1, TP.HCM",
        "P. Bến Nghé, Q 01, TP.HCM",       "Ben Nghe Q1 HCM",
    };

    (void)state;
    for (size_t i = 0; i < sizeof(lines) / sizeof(lines[0]); i++) {
        struct address_result r = convert(lines[i]);

        expect_converted(lines[i], "26740", "26740");
        assert_string_equal(code(r.old_district), "760");
    }
}

static void test_numbered_wards(void **state)
{
    static const char *const lines[] = {
        "Phường 12, Quận Gò Vấp, TP.HCM",   "P12, Q.Gò Vấp, TPHCM", "P.12, Gò Vấp, HCM",
        "P. 12, Q. Gò Vấp, Sài Gòn",        "F12 Q Go Vap TP HCM",  "phuong 12 quan go vap hcm",
        "Ph.12, Q.Gò Vấp, Tp. Hồ Chí Minh",
    };

    (void)state;
    for (size_t i = 0; i < sizeof(lines) / sizeof(lines[0]); i++) {
        expect_converted(lines[i], "26881", "26882");
    }
    /* A bare number is a house number, not a ward. */
    assert_int_equal(convert("12, Gò Vấp, TP.HCM").status, ADDRESS_NOT_FOUND);
}

static void test_province_shorthands(void **state)
{
    static const struct {
        const char *text;
        const char *province; /* today's */
    } cases[] = {
        { "Phường Bến Nghé, Quận 1, HCM", "79" },
        { "Phường Bến Nghé, Quận 1, TPHCM", "79" },
        { "Phường Bến Nghé, Quận 1, TP.HCM", "79" },
        { "Phường Bến Nghé, Quận 1, Tp. Hồ Chí Minh", "79" },
        { "Phường Bến Nghé, Quận 1, Thành phố Hồ Chí Minh", "79" },
        { "Phường Bến Nghé, Quận 1, Sài Gòn", "79" },
        { "Phường Bến Nghé, Quận 1, Sai Gon", "79" },
        { "Phường Đội Cấn, Quận Ba Đình, HN", "01" },
        { "Phường Hòa Cường Bắc, Quận Hải Châu, ĐN", "48" },
        { "Phường 7, TP Vũng Tàu, BRVT", "79" },
        { "Phường 7, TP Vũng Tàu, Bà Rịa - Vũng Tàu", "79" },
        { "Phường 7, TP Vũng Tàu, Bà Rịa-Vũng Tàu", "79" },
        { "Phường Phú Hội, Quận Thuận Hóa, Huế", "46" },
        { "Phường Phú Hội, Quận Thuận Hóa, Thừa Thiên Huế", "46" },
        { "Phường Phú Hội, Quận Thuận Hóa, TT Huế", "46" },
        { "Xã Lũng Cú, Huyện Đồng Văn, T. Hà Giang", "08" },
    };

    (void)state;
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        struct address_result r = convert(cases[i].text);

        if (r.new_province == NULL || strcmp(r.new_province->code, cases[i].province) != 0) {
            fail_msg("\"%s\": province %s, status %s", cases[i].text, code(r.new_province),
                     address_status_name(r.status));
        }
        assert_true(r.status == ADDRESS_CONVERTED || r.status == ADDRESS_AMBIGUOUS);
        assert_non_null(r.old_commune);
    }
}

static void test_split_commune_is_ambiguous(void **state)
{
    static const char *const want[] = { "00622", "00634", "00637", "09556", "09886" };
    struct address_result r = convert("Phường Đại Mỗ, Quận Nam Từ Liêm, Hà Nội");

    (void)state;
    assert_int_equal(r.status, ADDRESS_AMBIGUOUS);
    assert_null(r.new_commune);
    assert_string_equal(code(r.old_commune), "00634");
    assert_int_equal(r.ncandidates, 5);
    for (size_t i = 0; i < 5; i++) {
        assert_true(has_candidate(&r, want[i]));
        assert_int_equal(r.candidates[i].kind, UNIT_EDGE_PARTIAL);
        assert_string_equal(code(r.candidates[i].from), "00634");
        assert_string_equal(code(r.candidates[i].province), "01");
    }
    assert_non_null(strstr(r.note, "split"));
}

static void test_not_found_suggests(void **state)
{
    struct address_result r = convert("Phường Đội Cn, Quận Ba Đình, Hà Nội");
    bool found = false;

    (void)state;
    assert_int_equal(r.status, ADDRESS_NOT_FOUND);
    assert_int_equal(r.ncandidates, 0);
    assert_string_equal(code(r.old_district), "001");
    assert_true(r.nsuggestions >= 1);
    for (size_t i = 0; i < r.nsuggestions; i++) {
        found = found || strcmp(r.suggestions[i]->code, "00022") == 0;
    }
    assert_true(found);

    r = convert("Qwzx Yvbn");
    assert_int_equal(r.status, ADDRESS_NOT_FOUND);
    r = convert("Phuong Ben Ngeh, Quan 1, TP HCM");
    assert_int_equal(r.status, ADDRESS_NOT_FOUND);
    assert_true(r.nsuggestions >= 1);
    assert_string_equal(r.suggestions[0]->code, "26740");
}

static void expect_error(const char *text, size_t len, enum lt_code want, const char *needle)
{
    struct address_result r;
    struct lt_error err;

    memset(&r, 0x5a, sizeof(r));
    assert_int_equal(address_convert(conv, text, len, &r, &err), want);
    assert_int_equal(err.code, want);
    if (strstr(err.message, needle) == NULL && strstr(err.detail, needle) == NULL) {
        fail_msg("error \"%s\" (%s) does not say \"%s\"", err.message, err.detail, needle);
    }
    /* The result is left alone on error. */
    assert_int_equal(((unsigned char *)&r)[0], 0x5a);
    assert_int_equal(((unsigned char *)&r)[sizeof(r) - 1], 0x5a);
}

static void test_bad_input(void **state)
{
    char *big = malloc(ADDRESS_MAX_LEN + 2);
    struct address_result r;
    struct lt_error err;

    (void)state;
    expect_error("", 0, LT_EINVAL, "empty");
    expect_error(NULL, 0, LT_EINVAL, "empty");
    expect_error(" , ,, ", 6, LT_EINVAL, "empty");
    expect_error("Phường \xff Bến Nghé", 17, LT_EINVAL, "byte offset 10");
    expect_error("abc\xc3", 4, LT_EINVAL, "byte offset 3");
    expect_error("Q1\x01HCM", 6, LT_EINVAL, "byte offset 2");
    expect_error("Q1\nHCM", 6, LT_EINVAL, "byte offset 2");
    expect_error("Q1\0HCM", 6, LT_EINVAL, "byte offset 2");
    expect_error("Q1\xc2\x85HCM", 7, LT_EINVAL, "U+0085");
    expect_error("\xed\xa0\x80", 3, LT_EINVAL, "byte offset 0"); /* a surrogate */

    memset(big, 'a', ADDRESS_MAX_LEN + 1);
    expect_error(big, ADDRESS_MAX_LEN + 1, LT_ETOOBIG, "4097");
    /* Exactly at the cap is fine, and long lines of junk end quickly. */
    for (size_t i = 0; i < ADDRESS_MAX_LEN; i += 2) {
        big[i] = 'P';
        big[i + 1] = ' ';
    }
    assert_int_equal(address_convert(conv, big, ADDRESS_MAX_LEN, &r, &err), LT_OK);
    assert_int_equal(r.status, ADDRESS_NOT_FOUND);
    free(big);
}

static void test_same_name_different_type(void **state)
{
    struct address_result r;

    (void)state;
    expect_converted("Thị trấn Trạm Tấu, H. Trạm Tấu, Yên Bái", "04585", "04585");
    expect_converted("TT. Trạm Tấu, H. Trạm Tấu, Yên Bái", "04585", "04585");
    expect_converted("Xã Trạm Tấu, Huyện Trạm Tấu, Yên Bái", "04600", "04606");
    expect_converted("X. Tram Tau, H. Tram Tau, Yen Bai", "04600", "04606");
    r = convert("Trạm Tấu, Huyện Trạm Tấu, Yên Bái");
    assert_int_equal(r.status, ADDRESS_AMBIGUOUS);
    assert_true(has_candidate(&r, "04585") && has_candidate(&r, "04606"));

    /* Two districts "Cai Lậy"; the commune lies in one of them only. */
    expect_converted("Xã Mỹ Phước Tây, Cai Lậy, Tiền Giang", "28447", "28435");
    /* The wrong one of them: the commune is unique in the province, so it
     * converts, and the note says the district was passed over. */
    r = convert("Xã Mỹ Phước Tây, Huyện Cai Lậy, Tiền Giang");
    assert_string_equal(code(r.new_commune), "28435");
    assert_non_null(strstr(r.note, "Huyện Cai Lậy"));
    r = convert("Xã Mỹ Phước Tây, TX. Cai Lậy, Tiền Giang");
    assert_string_equal(code(r.old_district), "817");
}

static void test_names_that_start_like_a_prefix(void **state)
{
    struct address_result r;

    (void)state;
    expect_converted("Xã Phương Tiến, Huyện Vị Xuyên, Hà Giang", "00940", "00928");
    expect_converted("Phương Tiến, Vị Xuyên, Hà Giang", "00940", "00928");
    r = convert("Xã Sơn Thủy, Huyện Quan Sơn, Thanh Hóa");
    assert_string_equal(code(r.old_district), "387");
    r = convert("Xã Sơn Thủy, Quan Sơn, Thanh Hóa");
    assert_string_equal(code(r.old_district), "387");
}

static void test_without_district_or_province(void **state)
{
    struct address_result r;

    (void)state;
    /* Unique in its old province: converts. */
    expect_converted("Phường Bến Nghé, TP HCM", "26740", "26740");
    expect_converted("Xã Lũng Cú, Hà Giang", NULL, "00715");
    /* Today's commune in today's province: unchanged. */
    r = convert("Phường Sài Gòn, TP HCM");
    assert_int_equal(r.status, ADDRESS_UNCHANGED);
    assert_string_equal(code(r.new_commune), "26740");
    assert_null(r.old_commune);
    r = convert("Xã Lũng Cú, Tuyên Quang");
    assert_int_equal(r.status, ADDRESS_UNCHANGED);
    /* Many communes carry this name: say so. */
    r = convert("Xã Tân Thành");
    assert_int_equal(r.status, ADDRESS_AMBIGUOUS);
    assert_true(r.ncandidates > 1);
    /* A bare name that is also the old district's is read as the district. */
    r = convert("12 Trần Hưng Đạo, Hoàn Kiếm, Hà Nội");
    assert_int_equal(r.status, ADDRESS_NOT_FOUND);
    assert_string_equal(code(r.old_district), "002");
    assert_memory_equal(r.street, "12 Trần Hưng Đạo", r.street_len);
}

static void test_other_spellings(void **state)
{
    static char nfd[] = "Phu\xcc\x9bo\xcc\x9b\xcc\x80ng Be\xcc\x82\xcc\x81n Nghe\xcc\x81, "
                        "Qua\xcc\x82\xcc\xa3n 1, TP.HCM";
    struct address_result r;

    (void)state;
    /* alt_name: the 2025 resolutions' spelling. */
    expect_converted("Xã Can Hồ, Huyện Mường Tè, Lai Châu", "03469", "03433");
    expect_converted("Xã Kan Hồ, Huyện Mường Tè, Lai Châu", "03469", "03433");
    /* Roman numerals where the register has them, either way round. */
    expect_converted("Phường I, Thành phố Vị Thanh, Hậu Giang", "31318", "31321");
    expect_converted("Phường 1, Thành phố Vị Thanh, Hậu Giang", "31318", "31321");
    expect_converted("P.IV, TP Vị Thanh, Hậu Giang", "31324", "31333");
    /* Case, stripped diacritics, decomposed (NFD) text, stray separators. */
    expect_converted("PHƯỜNG BẾN NGHÉ, QUẬN 1, TP. HỒ CHÍ MINH", "26740", "26740");
    expect_converted("phuong ben nghe, quan 1, tp ho chi minh", "26740", "26740");
    expect_converted(nfd, "26740", "26740");
    expect_converted(" ,, Phường Bến Nghé ,, Quận 1,,TP.HCM , ", "26740", "26740");
    expect_converted("Phường Bến Nghé; Quận 1; TP.HCM; Việt Nam", "26740", "26740");
    expect_converted("Phường Bến Nghé, Quận 1, TP.HCM 700000", "26740", "26740");
    /* Twins once stripped; the diacritics tell them apart. */
    expect_converted("Xã Hoằng Phụ, Huyện Hoằng Hóa, Thanh Hóa", "16003", "16000");
    r = convert("Xa Hoang Phu, Huyen Hoang Hoa, Thanh Hoa");
    assert_int_equal(r.status, ADDRESS_AMBIGUOUS);
    assert_true(has_candidate(&r, "15889") && has_candidate(&r, "16000"));
}

static void test_old_structure_leftovers(void **state)
{
    struct address_result r;

    (void)state;
    /* An island district had no communes; it became a special zone. */
    r = convert("Huyện Côn Đảo, Bà Rịa - Vũng Tàu");
    assert_int_equal(r.status, ADDRESS_CONVERTED);
    assert_string_equal(code(r.new_commune), "26732");
    assert_string_equal(code(r.old_district), "755");
    /* A district gone before 2025 (Quận 2) is passed over, with a note. */
    r = convert("Phường Thảo Điền, Quận 2, TP HCM");
    expect_converted("Phường Thảo Điền, Quận 2, TP HCM", "27088", "27094");
    assert_non_null(strstr(r.note, "Quận 2"));
    /* Today's units as written today. */
    r = convert("Đặc khu Côn Đảo, TP Hồ Chí Minh");
    assert_int_equal(r.status, ADDRESS_UNCHANGED);
}

static void test_json_shape(void **state)
{
    static const char text[] = "Số 5, P. Đại Mỗ, Q. Nam Từ Liêm, HN";
    struct address_result r = convert(text);
    json_t *j = address_result_json(text, strlen(text), &r);

    (void)state;
    assert_string_equal(json_string_value(json_object_get(j, "input")), text);
    assert_string_equal(json_string_value(json_object_get(j, "status")), "ambiguous");
    assert_string_equal(json_string_value(json_object_get(j, "street")), "Số 5");
    assert_string_equal(json_string_value(json_object_get(
                            json_object_get(json_object_get(j, "old"), "commune"), "code")),
                        "00634");
    assert_true(json_is_null(json_object_get(json_object_get(j, "new"), "commune")));
    assert_int_equal(json_array_size(json_object_get(j, "candidates")), 5);
    assert_string_equal(json_string_value(json_object_get(
                            json_array_get(json_object_get(j, "candidates"), 0), "kind")),
                        "partial");
    assert_true(json_is_array(json_object_get(j, "suggestions")));
    assert_true(json_is_string(json_object_get(j, "note")));
    json_decref(j);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_street_kept_as_written),
        cmocka_unit_test(test_numbered_districts),
        cmocka_unit_test(test_numbered_wards),
        cmocka_unit_test(test_province_shorthands),
        cmocka_unit_test(test_split_commune_is_ambiguous),
        cmocka_unit_test(test_not_found_suggests),
        cmocka_unit_test(test_bad_input),
        cmocka_unit_test(test_same_name_different_type),
        cmocka_unit_test(test_names_that_start_like_a_prefix),
        cmocka_unit_test(test_without_district_or_province),
        cmocka_unit_test(test_other_spellings),
        cmocka_unit_test(test_old_structure_leftovers),
        cmocka_unit_test(test_json_shape),
    };
    return cmocka_run_group_tests(tests, setup, teardown);
}
