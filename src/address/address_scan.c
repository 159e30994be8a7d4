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

#include <pthread.h>
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

/* Roman numerals I..XXX; index + 1 is the value. */
static const char *const romans[] = {
    "i",   "ii",   "iii",   "iv",   "v",   "vi",   "vii",   "viii",   "ix",   "x",
    "xi",  "xii",  "xiii",  "xiv",  "xv",  "xvi",  "xvii",  "xviii",  "xix",  "xx",
    "xxi", "xxii", "xxiii", "xxiv", "xxv", "xxvi", "xxvii", "xxviii", "xxix", "xxx",
};

static uint8_t roman_value(const char *s, size_t len)
{
    if (len == 0 || len > 6) {
        return 0;
    }
    for (size_t i = 0; i < len; i++) {
        if (s[i] != 'i' && s[i] != 'v' && s[i] != 'x') {
            return 0; /* most words end here, at their first letter */
        }
    }
    for (size_t i = 0; i < sizeof(romans) / sizeof(romans[0]); i++) {
        if (strncmp(romans[i], s, len) == 0 && romans[i][len] == '\0') {
            return (uint8_t)(i + 1);
        }
    }
    return 0;
}

/* Prefix letters that people run into a number: "Q1", "P12", "F7". */
static bool glue_letters(const char *s, size_t len)
{
    switch (len) {
    case 1:
        return s[0] == 'p' || s[0] == 'f' || s[0] == 'q' || s[0] == 'x';
    case 2:
        return (s[0] == 'p' && s[1] == 'h') || (s[0] == 'x' && s[1] == 'a');
    case 4:
        return memcmp(s, "quan", 4) == 0;
    case 6:
        return memcmp(s, "phuong", 6) == 0;
    default:
        return false;
    }
}

static void prefix_marks(const struct address_scan *sc, struct address_token *t);

struct raw {
    uint16_t start, end;
    bool part_start, dot;
    bool ascii; /* no byte outside ASCII */
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
            r->ascii = b < 0x80;
            sc->parts = sc->parts || (part && count > 0);
            part = false;
            in_word = true;
            count++;
        } else if (b >= 0x80) {
            ring[(count - 1) % SCAN_TOKENS_MAX].ascii = false;
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
        t->ascii = r->ascii;
        t->fold = (uint16_t)fo;
        if (t->ascii) { /* utf8_fold's answer, without its call */
            char *out = sc->fold + fo;

            fl = wlen < SCAN_FOLD_MAX - 1 ? wlen : SCAN_FOLD_MAX - 1;
            for (size_t i = 0; i < fl; i++) {
                char c = text[r->start + i];

                out[i] = c >= 'A' && c <= 'Z' ? (char)(c + ('a' - 'A')) : c;
            }
            out[fl] = '\0';
        } else {
            fl = utf8_fold(text + r->start, wlen, sc->fold + fo, SCAN_FOLD_MAX);
        }
        /* A fold that fills the buffer may have been cut short. */
        t->flen = fl + 1 < SCAN_FOLD_MAX ? (uint8_t)fl : 0;
        fo += SCAN_FOLD_MAX;
        split_glued(sc, t);
        for (struct address_token *x = t; x < sc->tok + sc->n; x++) {
            normalise_number(sc, x);
            prefix_marks(sc, x);
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

/* The words prefixes are made of. */
enum prefix_word {
    PW_NONE,
    PW_THANH,
    PW_PHO,
    PW_THI,
    PW_TRAN,
    PW_XA,
    PW_DAC,
    PW_KHU,
    PW_PHUONG,
    PW_QUAN,
    PW_HUYEN,
    PW_TINH,
    PW_TP,
    PW_TT,
    PW_TTR,
    PW_TX,
    PW_DK,
    PW_PH,
    PW_P,
    PW_F,
    PW_Q,
    PW_H,
    PW_X,
    PW_T,
};

/* Each word as spelled with its diacritics; NULL for an abbreviation, which has none. */
static const char *const word_spelled[] = {
    [PW_THANH] = "thành", [PW_PHO] = "phố",     [PW_THI] = "thị",   [PW_TRAN] = "trấn",
    [PW_XA] = "xã",       [PW_DAC] = "đặc",     [PW_KHU] = "khu",   [PW_PHUONG] = "phường",
    [PW_QUAN] = "quận",   [PW_HUYEN] = "huyện", [PW_TINH] = "tỉnh", [PW_T] = NULL,
};

/* The prefix word a folded word is, or PW_NONE. */
static enum prefix_word prefix_word(const char *f, size_t len)
{
    switch (len) {
    case 1:
        switch (f[0]) {
        case 'p':
            return PW_P;
        case 'f':
            return PW_F;
        case 'q':
            return PW_Q;
        case 'h':
            return PW_H;
        case 'x':
            return PW_X;
        case 't':
            return PW_T;
        default:
            return PW_NONE;
        }
    case 2:
        return memcmp(f, "tp", 2) == 0   ? PW_TP
               : memcmp(f, "tt", 2) == 0 ? PW_TT
               : memcmp(f, "tx", 2) == 0 ? PW_TX
               : memcmp(f, "dk", 2) == 0 ? PW_DK
               : memcmp(f, "ph", 2) == 0 ? PW_PH
               : memcmp(f, "xa", 2) == 0 ? PW_XA
                                         : PW_NONE;
    case 3:
        return memcmp(f, "pho", 3) == 0   ? PW_PHO
               : memcmp(f, "thi", 3) == 0 ? PW_THI
               : memcmp(f, "dac", 3) == 0 ? PW_DAC
               : memcmp(f, "khu", 3) == 0 ? PW_KHU
               : memcmp(f, "ttr", 3) == 0 ? PW_TTR
                                          : PW_NONE;
    case 4:
        return memcmp(f, "tran", 4) == 0   ? PW_TRAN
               : memcmp(f, "quan", 4) == 0 ? PW_QUAN
               : memcmp(f, "tinh", 4) == 0 ? PW_TINH
                                           : PW_NONE;
    case 5:
        return memcmp(f, "thanh", 5) == 0   ? PW_THANH
               : memcmp(f, "huyen", 5) == 0 ? PW_HUYEN
                                            : PW_NONE;
    case 6:
        return memcmp(f, "phuong", 6) == 0 ? PW_PHUONG : PW_NONE;
    default:
        return PW_NONE;
    }
}

/* The two-word prefixes come first: see TWO_WORD_PREFIXES. */
static const struct prefix {
    uint8_t w[2]; /* enum prefix_word; the second PW_NONE for a one-word prefix */
    enum abbrev_rule rule;
    unsigned levels;
    unsigned types;
} prefixes[] = {
    { { PW_THANH, PW_PHO },
      FULL_WORD,
      L(PROVINCE) | L(DISTRICT),
      T(MUNICIPALITY) | T(PROVINCIAL_CITY) },
    { { PW_THI, PW_TRAN }, FULL_WORD, L(COMMUNE), T(TOWNSHIP) },
    { { PW_THI, PW_XA }, FULL_WORD, L(DISTRICT), T(TOWN) },
    { { PW_DAC, PW_KHU }, FULL_WORD, L(COMMUNE), T(SPECIAL_ZONE) },
    { { PW_PHUONG, PW_NONE }, FULL_WORD, L(COMMUNE), T(WARD) },
    { { PW_XA, PW_NONE }, FULL_WORD, L(COMMUNE), T(COMMUNE) },
    { { PW_QUAN, PW_NONE }, FULL_WORD, L(DISTRICT), T(URBAN_DISTRICT) },
    { { PW_HUYEN, PW_NONE }, FULL_WORD, L(DISTRICT), T(RURAL_DISTRICT) },
    { { PW_TINH, PW_NONE }, FULL_WORD, L(PROVINCE), T(PROVINCE) },
    { { PW_TP, PW_NONE }, ABBREV, L(PROVINCE) | L(DISTRICT), T(MUNICIPALITY) | T(PROVINCIAL_CITY) },
    { { PW_TT, PW_NONE }, ABBREV, L(COMMUNE), T(TOWNSHIP) },
    { { PW_TTR, PW_NONE }, ABBREV, L(COMMUNE), T(TOWNSHIP) },
    { { PW_TX, PW_NONE }, ABBREV, L(DISTRICT), T(TOWN) },
    { { PW_DK, PW_NONE }, ABBREV, L(COMMUNE), T(SPECIAL_ZONE) },
    { { PW_PH, PW_NONE }, ABBREV, L(COMMUNE), T(WARD) },
    { { PW_P, PW_NONE }, ABBREV, L(COMMUNE), T(WARD) },
    { { PW_F, PW_NONE }, ABBREV_GLUE, L(COMMUNE), T(WARD) },
    { { PW_Q, PW_NONE }, ABBREV, L(DISTRICT), T(URBAN_DISTRICT) },
    { { PW_H, PW_NONE }, ABBREV, L(DISTRICT), T(RURAL_DISTRICT) },
    { { PW_X, PW_NONE }, ABBREV, L(COMMUNE), T(COMMUNE) },
    { { PW_T, PW_NONE }, ABBREV_DOT, L(PROVINCE), T(PROVINCE) },
};

#define NPREFIXES         (sizeof(prefixes) / sizeof(prefixes[0]))
#define TWO_WORD_PREFIXES 4         /* prefixes[0..4) have two words, the rest one */
#define ONE_WORD_MASK     0x1ffff0u /* bits of the one-word prefixes */

_Static_assert(NPREFIXES <= 32, "prefix sets are 32-bit masks");
_Static_assert(ONE_WORD_MASK == ((1u << NPREFIXES) - 1) - ((1u << TWO_WORD_PREFIXES) - 1),
               "ONE_WORD_MASK matches prefixes[]");

#undef L
#undef T

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
    /* As the register writes it, or with a capital first letter. */
    if ((size_t)(t->end - t->start) == sl && (sc->text[i] | 0x20) == spelled[0] &&
        memcmp(sc->text + i + 1, spelled + 1, sl - 1) == 0) {
        return true;
    }
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

/*
 * Which prefixes the word can be part of, as its first word (bit i of
 * t->pfx_first: prefixes[i].w[0]) and as its second (t->pfx_second), each
 * with the diacritics the prefix allows.  Done once per word, so that
 * address_scan_prefix, asked many times per line, only combines bits.
 */
/* For each prefix word, the prefixes it is the first (second) word of. */
static uint32_t first_of[PW_T + 1], second_of[PW_T + 1];
static pthread_once_t marks_once = PTHREAD_ONCE_INIT;

static void build_marks(void)
{
    for (unsigned i = 0; i < NPREFIXES; i++) {
        first_of[prefixes[i].w[0]] |= 1u << i;
        if (prefixes[i].w[1] != PW_NONE) {
            second_of[prefixes[i].w[1]] |= 1u << i;
        }
    }
}

static void prefix_marks(const struct address_scan *sc, struct address_token *t)
{
    enum prefix_word w = prefix_word(sc->fold + t->fold, t->flen);

    t->pfx_first = t->pfx_second = 0;
    if (w == PW_NONE || !spelled_as(sc, t, word_spelled[w])) {
        return;
    }
    pthread_once(&marks_once, build_marks);
    t->pfx_first = first_of[w];
    t->pfx_second = second_of[w];
}

struct address_prefix address_scan_prefix(const struct address_scan *sc, int s, int floor)
{
    struct address_prefix hit = { 0, 0, 0 };
    uint32_t cand = 0;

    if (s >= sc->n || sc->tok[s].part_start || s < 1) {
        return hit;
    }
    if (s - 1 >= floor) {
        cand |= sc->tok[s - 1].pfx_first & ONE_WORD_MASK;
    }
    if (s - 2 >= floor && !sc->tok[s - 1].part_start) {
        cand |= sc->tok[s - 2].pfx_first & sc->tok[s - 1].pfx_second & ~ONE_WORD_MASK;
    }
    /* In the order of prefixes[]: the first that fits wins. */
    while (cand != 0) {
        unsigned i = (unsigned)__builtin_ctz(cand);
        const struct prefix *p = &prefixes[i];

        cand &= cand - 1;
        if (abbrev_ok(&sc->tok[s - 1], &sc->tok[s], p->rule)) {
            hit.ntok = i < TWO_WORD_PREFIXES ? 2 : 1;
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
