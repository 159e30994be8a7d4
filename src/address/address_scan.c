/*
 * address_scan.c - cutting an address line into folded words.
 *
 * Two passes over the line.  The first finds the word boundaries, keeping the
 * last SCAN_TOKENS_MAX words in a ring so that a 4 KiB line costs no more
 * memory than a short one.  The second folds the kept words and normalises
 * the forms people write numbers in: "Q1" and "P.12" become a prefix word and
 * a number, "01" becomes "1", and a Roman numeral ending a name is read as
 * its value.
 *
 * Word separators are white space and punctuation; commas, semicolons, bars
 * and brackets also end a "part", the unit of structure an address is written
 * in ("12 Lý Thường Kiệt, P. Trần Hưng Đạo, Q. Hoàn Kiếm").  An apostrophe
 * separates words too, so "Ea H'đinh" and "Ea H’ đinh" meet.
 * XXX: a name written without its apostrophe ("Ea Hđinh") is not recognised.
 */
#include "address/address_scan.h"

#include <string.h>
#include <utf8proc.h>

#include "core/utf8.h"
#include "units/units.h"
#include "core/banned.h"

#define SPELLING_MAX 128 /* code points of a name compared by spelling */

enum sep_kind {
    SEP_NONE,
    SEP_WORD, /* ends a word */
    SEP_PART, /* ends a word and a comma-separated part */
};

/* ASCII separators, by byte. */
static const uint8_t ascii_sep[128] = {
    [','] = SEP_PART,  [';'] = SEP_PART, ['|'] = SEP_PART, ['('] = SEP_PART, [')'] = SEP_PART,
    ['['] = SEP_PART,  [']'] = SEP_PART, ['{'] = SEP_PART, ['}'] = SEP_PART, [' '] = SEP_WORD,
    ['\t'] = SEP_WORD, ['.'] = SEP_WORD, ['-'] = SEP_WORD, ['/'] = SEP_WORD, ['\\'] = SEP_WORD,
    ['\''] = SEP_WORD, ['"'] = SEP_WORD, ['`'] = SEP_WORD, [':'] = SEP_WORD, ['_'] = SEP_WORD,
    ['+'] = SEP_WORD,  ['&'] = SEP_WORD, ['!'] = SEP_WORD, ['?'] = SEP_WORD, ['*'] = SEP_WORD,
    ['='] = SEP_WORD,  ['<'] = SEP_WORD, ['>'] = SEP_WORD, ['~'] = SEP_WORD, ['^'] = SEP_WORD,
};

static enum sep_kind classify(int cp)
{
    if (cp < 0x80) {
        return cp >= 0 ? (enum sep_kind)ascii_sep[cp] : SEP_NONE;
    }
    /* No-break space, dashes, typographic quotes, ellipsis, zero-width
     * characters and the byte-order mark that spreadsheets put first. */
    if (cp == 0xa0 || (cp >= 0x2010 && cp <= 0x2015) || (cp >= 0x2018 && cp <= 0x201f) ||
        cp == 0x2026 || (cp >= 0x200b && cp <= 0x200d) || cp == 0xfeff || cp == 0x3000 ||
        cp == 0x00b4 || cp == 0x2032) {
        return SEP_WORD;
    }
    if (cp == 0xff0c || cp == 0x3001) { /* full-width and ideographic commas */
        return SEP_PART;
    }
    return SEP_NONE;
}

static const char *const romans[] = {
    "i",   "ii",   "iii",   "iv",   "v",   "vi",   "vii",   "viii",   "ix",   "x",
    "xi",  "xii",  "xiii",  "xiv",  "xv",  "xvi",  "xvii",  "xviii",  "xix",  "xx",
    "xxi", "xxii", "xxiii", "xxiv", "xxv", "xxvi", "xxvii", "xxviii", "xxix", "xxx",
};

static uint8_t roman_value(const char *s, size_t len)
{
    if (len == 0 || len > 6 || (s[0] != 'i' && s[0] != 'v' && s[0] != 'x')) {
        return 0;
    }
    for (size_t i = 0; i < sizeof(romans) / sizeof(romans[0]); i++) {
        if (strlen(romans[i]) == len && memcmp(romans[i], s, len) == 0) {
            return (uint8_t)(i + 1);
        }
    }
    return 0;
}

/* Prefix letters that people run into a number: "Q1", "P12", "F7". */
static bool glue_letters(const char *s, size_t len)
{
    static const char *const words[] = { "p", "ph", "f", "q", "phuong", "quan", "x", "xa" };

    for (size_t i = 0; i < sizeof(words) / sizeof(words[0]); i++) {
        if (strlen(words[i]) == len && memcmp(words[i], s, len) == 0) {
            return true;
        }
    }
    return false;
}

struct raw {
    uint16_t start, end;
    bool part_start, dot;
};

/* First pass: word boundaries; the last SCAN_TOKENS_MAX words stay in ring. */
static int find_words(struct address_scan *sc, struct raw *ring)
{
    int count = 0;
    bool in_word = false;
    bool part = true;
    size_t i = 0;

    while (i < sc->len) {
        unsigned char b = (unsigned char)sc->text[i];
        int cp = b;
        int n = 1;
        enum sep_kind k;

        if (b >= 0x80) {
            n = utf8_decode(sc->text + i, sc->len - i, &cp);
            if (n <= 0) {
                cp = 0xfffd; /* the caller validated; never taken */
                n = 1;
            }
            sc->accents = true;
        }
        k = classify(cp);
        if (k != SEP_NONE) {
            if (in_word) {
                ring[(count - 1) % SCAN_TOKENS_MAX].end = (uint16_t)i;
                ring[(count - 1) % SCAN_TOKENS_MAX].dot = cp == '.';
                in_word = false;
            }
            part = part || k == SEP_PART;
        } else if (!in_word) {
            struct raw *r = &ring[count % SCAN_TOKENS_MAX];

            r->start = (uint16_t)i;
            r->part_start = part;
            r->dot = false;
            sc->parts = sc->parts || (part && count > 0);
            part = false;
            in_word = true;
            count++;
        }
        i += (size_t)n;
    }
    if (in_word) {
        ring[(count - 1) % SCAN_TOKENS_MAX].end = (uint16_t)sc->len;
    }
    return count;
}

static void normalise_number(struct address_scan *sc, struct address_token *t)
{
    const char *f = sc->fold + t->fold;

    t->numeric = t->flen > 0;
    for (int i = 0; i < t->flen; i++) {
        if (f[i] < '0' || f[i] > '9') {
            t->numeric = false;
            break;
        }
    }
    while (t->numeric && t->flen > 1 && sc->fold[t->fold] == '0') {
        t->fold++;
        t->flen--;
    }
    t->roman = t->numeric ? 0 : roman_value(sc->fold + t->fold, t->flen);
}

/* "q1" -> "q" "1" when the letters are a prefix and the word was ASCII. */
static void split_glued(struct address_scan *sc, struct address_token *t)
{
    const char *f = sc->fold + t->fold;
    int letters = 0;
    struct address_token *d;

    if (!t->ascii || t->flen < 2) {
        return;
    }
    while (letters < t->flen && f[letters] >= 'a' && f[letters] <= 'z') {
        letters++;
    }
    if (letters == 0 || letters == t->flen || t->flen - letters > 3 ||
        !glue_letters(f, (size_t)letters)) {
        return;
    }
    for (int i = letters; i < t->flen; i++) {
        if (f[i] < '0' || f[i] > '9') {
            return;
        }
    }
    d = t + 1;
    *d = *t;
    d->start = (uint16_t)(t->start + letters);
    d->fold = (uint16_t)(t->fold + letters);
    d->flen = (uint8_t)(t->flen - letters);
    d->part_start = false;
    d->glued = true;
    t->end = d->start;
    t->flen = (uint8_t)letters;
    t->dot = false;
    sc->n++;
}

void address_scan_line(struct address_scan *sc, const char *text, size_t len)
{
    struct raw ring[SCAN_TOKENS_MAX];
    int count;
    int first;
    size_t fo = 0;

    sc->text = text;
    sc->len = len;
    sc->n = 0;
    sc->parts = false;
    sc->accents = false;
    count = find_words(sc, ring);
    first = count > SCAN_TOKENS_MAX ? count - SCAN_TOKENS_MAX : 0;
    for (int k = first; k < count; k++) {
        const struct raw *r = &ring[k % SCAN_TOKENS_MAX];
        struct address_token *t = &sc->tok[sc->n++];
        size_t wlen = (size_t)(r->end - r->start);
        size_t fl;

        memset(t, 0, sizeof(*t));
        t->start = r->start;
        t->end = r->end;
        t->part_start = r->part_start;
        t->dot = r->dot;
        t->ascii = true;
        for (size_t i = 0; i < wlen; i++) {
            if ((unsigned char)text[r->start + i] >= 0x80) {
                t->ascii = false;
                break;
            }
        }
        t->fold = (uint16_t)fo;
        fl = utf8_fold(text + r->start, wlen, sc->fold + fo, SCAN_FOLD_MAX);
        /* A fold that fills the buffer may have been cut short. */
        t->flen = fl + 1 < SCAN_FOLD_MAX ? (uint8_t)fl : 0;
        fo += SCAN_FOLD_MAX;
        split_glued(sc, t);
        for (struct address_token *x = t; x < sc->tok + sc->n; x++) {
            normalise_number(sc, x);
        }
    }
}

size_t address_scan_key(const struct address_scan *sc, int s, int e, char *out, size_t cap)
{
    size_t o = 0;

    for (int i = s; i < e; i++) {
        const struct address_token *t = &sc->tok[i];
        char num[4];
        const char *w = sc->fold + t->fold;
        size_t wl = t->flen;

        if (wl == 0) {
            return 0;
        }
        if (i == e - 1 && t->roman != 0) {
            wl = (size_t)snprintf(num, sizeof(num), "%u", (unsigned)t->roman);
            w = num;
        }
        if (o + wl + 2 > cap) {
            return 0;
        }
        if (i > s) {
            out[o++] = ' ';
        }
        memcpy(out + o, w, wl);
        o += wl;
    }
    out[o] = '\0';
    return o;
}

/*
 * Type prefixes.  Full words carry their spelling with diacritics, so that a
 * name word that folds like one ("Phương", "Quan", "Tĩnh") is not taken for
 * it when the diacritics say otherwise.
 */
#define L(x) (1u << UNIT_##x)
#define T(x) (1u << UNIT_TYPE_##x)

enum abbrev_rule {
    FULL_WORD,
    ABBREV,      /* any abbreviation: "P", "P.", "Q1" */
    ABBREV_DOT,  /* a single letter that must carry its dot: "T." */
    ABBREV_GLUE, /* a dot or a number run into it: "F." or "F7" */
};

static const struct prefix {
    const char *words[2];
    const char *spelled[2];
    enum abbrev_rule rule;
    unsigned levels;
    unsigned types;
} prefixes[] = {
    { { "thanh", "pho" },
      { "thành", "phố" },
      FULL_WORD,
      L(PROVINCE) | L(DISTRICT),
      T(MUNICIPALITY) | T(PROVINCIAL_CITY) },
    { { "thi", "tran" }, { "thị", "trấn" }, FULL_WORD, L(COMMUNE), T(TOWNSHIP) },
    { { "thi", "xa" }, { "thị", "xã" }, FULL_WORD, L(DISTRICT), T(TOWN) },
    { { "dac", "khu" }, { "đặc", "khu" }, FULL_WORD, L(COMMUNE), T(SPECIAL_ZONE) },
    { { "phuong", NULL }, { "phường", NULL }, FULL_WORD, L(COMMUNE), T(WARD) },
    { { "xa", NULL }, { "xã", NULL }, FULL_WORD, L(COMMUNE), T(COMMUNE) },
    { { "quan", NULL }, { "quận", NULL }, FULL_WORD, L(DISTRICT), T(URBAN_DISTRICT) },
    { { "huyen", NULL }, { "huyện", NULL }, FULL_WORD, L(DISTRICT), T(RURAL_DISTRICT) },
    { { "tinh", NULL }, { "tỉnh", NULL }, FULL_WORD, L(PROVINCE), T(PROVINCE) },
    { { "tp", NULL },
      { NULL, NULL },
      ABBREV,
      L(PROVINCE) | L(DISTRICT),
      T(MUNICIPALITY) | T(PROVINCIAL_CITY) },
    { { "tt", NULL }, { NULL, NULL }, ABBREV, L(COMMUNE), T(TOWNSHIP) },
    { { "ttr", NULL }, { NULL, NULL }, ABBREV, L(COMMUNE), T(TOWNSHIP) },
    { { "tx", NULL }, { NULL, NULL }, ABBREV, L(DISTRICT), T(TOWN) },
    { { "dk", NULL }, { NULL, NULL }, ABBREV, L(COMMUNE), T(SPECIAL_ZONE) },
    { { "ph", NULL }, { NULL, NULL }, ABBREV, L(COMMUNE), T(WARD) },
    { { "p", NULL }, { NULL, NULL }, ABBREV, L(COMMUNE), T(WARD) },
    { { "f", NULL }, { NULL, NULL }, ABBREV_GLUE, L(COMMUNE), T(WARD) },
    { { "q", NULL }, { NULL, NULL }, ABBREV, L(DISTRICT), T(URBAN_DISTRICT) },
    { { "h", NULL }, { NULL, NULL }, ABBREV, L(DISTRICT), T(RURAL_DISTRICT) },
    { { "x", NULL }, { NULL, NULL }, ABBREV, L(COMMUNE), T(COMMUNE) },
    { { "t", NULL }, { NULL, NULL }, ABBREV_DOT, L(PROVINCE), T(PROVINCE) },
};

#undef L
#undef T

static bool fold_is(const struct address_scan *sc, const struct address_token *t, const char *word)
{
    size_t wl;

    if (t->flen == 0 || sc->fold[t->fold] != word[0]) {
        return false;
    }
    wl = strlen(word);
    return t->flen == wl && memcmp(sc->fold + t->fold, word, wl) == 0;
}

/*
 * True unless the word carries diacritics other than spelled's.  Decomposed
 * input (combining marks) is let through: fold equality is enough there.
 */
static bool spelled_as(const struct address_scan *sc, const struct address_token *t,
                       const char *spelled)
{
    size_t i = t->start;
    size_t j = 0;
    size_t sl;

    if (t->ascii || spelled == NULL) {
        return true;
    }
    /* U+0300..U+036F are encoded with lead bytes 0xcc and 0xcd. */
    for (size_t k = t->start; k < t->end; k++) {
        unsigned char b = (unsigned char)sc->text[k];

        if (b == 0xcc || b == 0xcd) {
            return true;
        }
    }
    sl = strlen(spelled);
    while (i < t->end && j < sl) {
        int a, b;
        int n = utf8_decode(sc->text + i, t->end - i, &a);
        int m = utf8_decode(spelled + j, sl - j, &b);

        if (n <= 0 || m <= 0) {
            return false;
        }
        if (utf8proc_tolower(a) != b) {
            return false;
        }
        i += (size_t)n;
        j += (size_t)m;
    }
    return i == t->end && j == sl;
}

static bool abbrev_ok(const struct address_token *t, const struct address_token *next,
                      enum abbrev_rule rule)
{
    switch (rule) {
    case FULL_WORD:
    case ABBREV:
        return true;
    case ABBREV_DOT:
        return t->dot;
    case ABBREV_GLUE:
        return t->dot || next->glued;
    }
    return false;
}

struct address_prefix address_scan_prefix(const struct address_scan *sc, int s, int floor)
{
    struct address_prefix hit = { 0, 0, 0 };

    if (s >= sc->n || sc->tok[s].part_start) {
        return hit;
    }
    for (size_t i = 0; i < sizeof(prefixes) / sizeof(prefixes[0]); i++) {
        const struct prefix *p = &prefixes[i];
        int nw = p->words[1] != NULL ? 2 : 1;
        int at = s - nw;
        bool ok;

        if (at < floor) {
            continue;
        }
        ok = fold_is(sc, &sc->tok[at], p->words[0]) && spelled_as(sc, &sc->tok[at], p->spelled[0]);
        if (ok && nw == 2) {
            ok = !sc->tok[at + 1].part_start && fold_is(sc, &sc->tok[at + 1], p->words[1]) &&
                 spelled_as(sc, &sc->tok[at + 1], p->spelled[1]);
        }
        if (ok && abbrev_ok(&sc->tok[s - 1], &sc->tok[s], p->rule)) {
            hit.ntok = nw;
            hit.levels = p->levels;
            hit.types = p->types;
            return hit;
        }
    }
    return hit;
}

int address_scan_part_start(const struct address_scan *sc, int i)
{
    while (i > 0 && !sc->tok[i].part_start) {
        i--;
    }
    return i;
}

/*
 * Canonical decomposition, case folded, words joined by one space: two
 * strings with the same spelling give the same code points.
 */
static int spelling(const char *s, size_t len, utf8proc_int32_t *out)
{
    utf8proc_int32_t buf[SPELLING_MAX];
    utf8proc_ssize_t n;
    int o = 0;
    bool space = true;

    n = utf8proc_decompose((const utf8proc_uint8_t *)s, (utf8proc_ssize_t)len, buf, SPELLING_MAX,
                           (utf8proc_option_t)(UTF8PROC_DECOMPOSE | UTF8PROC_CASEFOLD));
    if (n < 0 || n > SPELLING_MAX) {
        return -1;
    }
    for (utf8proc_ssize_t i = 0; i < n; i++) {
        if (classify(buf[i]) != SEP_NONE) {
            space = true;
            continue;
        }
        if (space && o > 0) {
            out[o++] = ' ';
        }
        space = false;
        out[o++] = buf[i];
    }
    return o;
}

bool address_scan_same_spelling(const struct address_scan *sc, int s, int e, const char *name)
{
    utf8proc_int32_t a[SPELLING_MAX], b[SPELLING_MAX];
    size_t from = sc->tok[s].start;
    size_t to = sc->tok[e - 1].end;
    int na = spelling(sc->text + from, to - from, a);
    int nb = spelling(name, strlen(name), b);

    return na >= 0 && na == nb && memcmp(a, b, sizeof(a[0]) * (size_t)na) == 0;
}
