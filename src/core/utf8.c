/*
 * utf8.c - validation, NFC and folding on top of utf8proc.
 */
#include "core/utf8.h"

#include <pthread.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <utf8proc.h>

#include "core/banned.h"

/* Folding table for U+0000..U+1FFF, which holds every Vietnamese letter. */
#define FOLD_TABLE_SIZE 0x2000

static unsigned char fold_table[FOLD_TABLE_SIZE]; /* 0: not ASCII; 1: drop */
static pthread_once_t fold_once = PTHREAD_ONCE_INIT;

#define FOLD_DROP 1

static void build_fold_table(void)
{
    for (int cp = 0; cp < FOLD_TABLE_SIZE; cp++) {
        utf8proc_int32_t dec[8];
        utf8proc_ssize_t n;
        utf8proc_category_t cat;
        int options = UTF8PROC_DECOMPOSE | UTF8PROC_CASEFOLD;

        if (cp < 0x80) {
            fold_table[cp] = (unsigned char)(cp >= 'A' && cp <= 'Z' ? cp + 32 : cp);
            continue;
        }
        cat = utf8proc_category(cp);
        if (cat == UTF8PROC_CATEGORY_MN || cat == UTF8PROC_CATEGORY_CF) {
            fold_table[cp] = FOLD_DROP; /* a combining mark from NFD input; a soft hyphen */
            continue;
        }
        if (cat == UTF8PROC_CATEGORY_ZS) {
            fold_table[cp] = ' '; /* a no-break space */
            continue;
        }
        n = utf8proc_decompose_char(cp, dec, 8, (utf8proc_option_t)options, NULL);
        if (n >= 1 && dec[0] < 0x80 && dec[0] >= 0x20) {
            int c = dec[0];
            fold_table[cp] = (unsigned char)(c >= 'A' && c <= 'Z' ? c + 32 : c);
        }
    }
    /* Đ and đ carry a stroke, not a combining mark: no decomposition. */
    fold_table[0x0110] = 'd';
    fold_table[0x0111] = 'd';
    fold_table[0x0189] = 'd'; /* African D, sometimes typed for Đ */
}

int utf8_decode(const char *s, size_t len, int *cp)
{
    const unsigned char *b = (const unsigned char *)s;
    utf8proc_int32_t c;
    utf8proc_ssize_t n;

    /* Vietnamese text is ASCII and two- and three-byte sequences: decode
     * those here, and leave the rest (and every error) to utf8proc, which
     * gives the same answers for these. */
    if (len >= 2 && b[0] >= 0xc2 && b[0] <= 0xdf && (b[1] & 0xc0) == 0x80) {
        *cp = ((b[0] & 0x1f) << 6) | (b[1] & 0x3f);
        return 2;
    }
    if (len >= 3 && (b[0] & 0xf0) == 0xe0 && (b[1] & 0xc0) == 0x80 && (b[2] & 0xc0) == 0x80) {
        c = ((b[0] & 0x0f) << 12) | ((b[1] & 0x3f) << 6) | (b[2] & 0x3f);
        if (c >= 0x800 && (c < 0xd800 || c > 0xdfff)) {
            *cp = c;
            return 3;
        }
    }
    if (len >= 1 && b[0] < 0x80) {
        *cp = b[0];
        return 1;
    }
    n = utf8proc_iterate((const utf8proc_uint8_t *)s, (utf8proc_ssize_t)len, &c);
    if (n < 0) {
        return -1;
    }
    *cp = c;
    return (int)n;
}

bool utf8_valid_text(const char *s, size_t len, size_t *bad_at)
{
    size_t i = 0;

    while (i < len) {
        unsigned char c = (unsigned char)s[i];
        int cp;
        int n;

        if (c < 0x80) {
            if ((c < 0x20 && c != '\t') || c == 0x7f) {
                goto bad;
            }
            i++;
            continue;
        }
        n = utf8_decode(s + i, len - i, &cp);
        if (n < 0 || (cp >= 0x80 && cp < 0xa0)) {
            goto bad;
        }
        i += (size_t)n;
    }
    return true;

bad:
    if (bad_at) {
        *bad_at = i;
    }
    return false;
}

enum lt_code utf8_nfc(const char *s, size_t len, struct buf *out, struct lt_error *err)
{
    utf8proc_uint8_t *nfc = NULL;
    utf8proc_ssize_t n;
    enum lt_code rc;

    n = utf8proc_map((const utf8proc_uint8_t *)s, (utf8proc_ssize_t)len, &nfc,
                     UTF8PROC_STABLE | UTF8PROC_COMPOSE);
    if (n < 0) {
        return lt_error_set(err, LT_EINVAL, "text is not valid UTF-8: %s", utf8proc_errmsg(n));
    }
    rc = buf_append(out, nfc, (size_t)n);
    free(nfc);
    if (rc != LT_OK) {
        return lt_error_set(err, rc, "text is too long (over %zu bytes)", out->cap);
    }
    return LT_OK;
}

/*
 * Whether the sequence at b (n bytes left) may hold a space or format
 * character: not for ASCII, nor for the blocks of Vietnamese letters and
 * combining marks (lead bytes C3-C7, CC, CD; U+1EA0-U+1EFF), which are
 * skipped without decoding.
 */
static bool may_be_odd(const unsigned char *b, size_t n)
{
    if (b[0] < 0x80 || (b[0] >= 0xc3 && b[0] <= 0xc7) || b[0] == 0xcc || b[0] == 0xcd) {
        return false;
    }
    return !(b[0] == 0xe1 && n > 1 && (b[1] == 0xba || b[1] == 0xbb));
}

/* The offset of the first character of category cat at or after from (len if none). */
static size_t find_category(const char *s, size_t len, size_t from, utf8proc_category_t cat,
                            int *cp)
{
    size_t i = from;

    while (i < len) {
        const unsigned char *b = (const unsigned char *)s + i;
        int c, n;

        if (!may_be_odd(b, len - i)) {
            i++;
            continue;
        }
        n = utf8_decode(s + i, len - i, &c);
        if (n <= 0) {
            i++;
            continue;
        }
        if (utf8proc_category(c) == cat && c != ' ') {
            *cp = c;
            return i;
        }
        i += (size_t)n;
    }
    return len;
}

size_t utf8_find_invisible(const char *s, size_t len, int *cp)
{
    return find_category(s, len, 0, UTF8PROC_CATEGORY_CF, cp);
}

bool utf8_plain_spaces(const char *s, size_t len, struct buf *out)
{
    size_t from = 0;
    int cp;
    size_t at = find_category(s, len, 0, UTF8PROC_CATEGORY_ZS, &cp);

    if (at == len) {
        return false;
    }
    while (at < len) {
        int n = utf8_decode(s + at, len - at, &cp);

        buf_append(out, s + from, at - from);
        buf_append(out, " ", 1);
        from = at + (size_t)(n > 0 ? n : 1);
        at = find_category(s, len, from, UTF8PROC_CATEGORY_ZS, &cp);
    }
    buf_append(out, s + from, len - from);
    return true;
}

size_t utf8_fold(const char *s, size_t len, char *out, size_t outcap)
{
    size_t i = 0;
    size_t o = 0;

    if (outcap == 0) {
        return 0;
    }
    pthread_once(&fold_once, build_fold_table);
    while (i < len && o + 1 < outcap) {
        unsigned char c = (unsigned char)s[i];
        int cp;
        int n;

        if (c < 0x80) {
            out[o++] = (char)fold_table[c];
            i++;
            continue;
        }
        n = utf8_decode(s + i, len - i, &cp);
        if (n < 0) {
            out[o++] = '?';
            i++;
            continue;
        }
        i += (size_t)n;
        if (cp < FOLD_TABLE_SIZE && fold_table[cp] == FOLD_DROP) {
            continue;
        }
        if (cp >= FOLD_TABLE_SIZE) {
            utf8proc_category_t cat = utf8proc_category(cp);

            if (cat == UTF8PROC_CATEGORY_CF) {
                continue; /* a zero-width joiner or the like */
            }
            if (cat == UTF8PROC_CATEGORY_ZS) {
                out[o++] = ' ';
                continue;
            }
        }
        if (cp < FOLD_TABLE_SIZE && fold_table[cp] != 0) {
            out[o++] = (char)fold_table[cp];
            continue;
        }
        /* Not a Latin letter: keep it, lower-cased, if it fits whole. */
        utf8proc_uint8_t enc[4];
        utf8proc_ssize_t m = utf8proc_encode_char(utf8proc_tolower(cp), enc);
        if (o + (size_t)m + 1 > outcap) {
            break;
        }
        memcpy(out + o, enc, (size_t)m);
        o += (size_t)m;
    }
    out[o] = '\0';
    return o;
}

size_t utf8_fold_words(const char *s, size_t len, char *out, size_t outcap)
{
    size_t n;
    size_t o = 0;
    bool space = true;

    if (outcap == 0) {
        return 0;
    }
    /* Squeeze in place: the write position never passes the read one. */
    n = utf8_fold(s, len, out, outcap);
    for (size_t i = 0; i < n; i++) {
        char c = out[i];

        if (c == ' ' || c == '\t' || c == ',' || c == '-' || c == '_') {
            if (!space) {
                out[o++] = ' ';
            }
            space = true;
            continue;
        }
        out[o++] = c;
        space = false;
    }
    while (o > 0 && out[o - 1] == ' ') {
        o--;
    }
    out[o] = '\0';
    return o;
}
