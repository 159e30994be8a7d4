/*
 * address_scan.h - cutting an address line into folded words (private to
 * src/address).
 *
 * The converter reads an address from its end, so the scanner keeps only the
 * last SCAN_TOKENS_MAX words of a line, each with its byte offsets in the
 * input (the street part is returned as written) and its folded text (lower
 * case, no diacritics) for the index lookups.  The same scanner cuts the
 * names of the register when the index is built, so that a name and the way
 * it is written in an address always fold the same way.
 *
 * A scan holds no pointers into the heap; it lives on the caller's stack.
 */
#ifndef LT_ADDRESS_SCAN_H
#define LT_ADDRESS_SCAN_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define SCAN_TOKENS_MAX 40 /* words kept from the end of a line */
#define SCAN_FOLD_MAX   32 /* folded bytes of one word; longer words never name a unit */

struct address_token {
    uint16_t start, end; /* bytes of the input */
    uint16_t fold;       /* offset of the folded text in struct address_scan.fold */
    uint8_t flen;        /* 0 for a word too long to be part of a name */
    uint8_t roman;       /* value of a Roman numeral I..XXX, else 0 */
    bool part_start;     /* first word of a comma-separated part */
    bool dot;            /* a '.' right after it, as after an abbreviation */
    bool glued;          /* the digits of "Q1", "P12", split from the letters */
    bool ascii;          /* no byte outside ASCII */
    bool numeric;        /* only digits (leading zeros dropped in the fold) */
    uint32_t pfx_first;  /* bit i: it can be the first word of type prefix i */
    uint32_t pfx_second; /* bit i: ... the second word of two-word prefix i */
};

struct address_scan {
    const char *text;
    size_t len;
    struct address_token tok[2 * SCAN_TOKENS_MAX]; /* a split can double a word */
    int n;
    bool parts;   /* the line has comma-separated parts */
    bool accents; /* some word has letters outside ASCII: diacritics are meant */
    char fold[2 * SCAN_TOKENS_MAX * SCAN_FOLD_MAX];
};

/* A type prefix recognised in front of a name: "Phường", "P.", "Thị xã", "TX". */
struct address_prefix {
    int ntok;        /* words it takes; 0 when there is none */
    unsigned levels; /* bit (1 << enum unit_level) per level it can name */
    unsigned types;  /* bit (1 << enum unit_type) per type it can name */
};

/*
 * Cut text[0..len) (valid UTF-8, checked by the caller) into words.  Only the
 * last SCAN_TOKENS_MAX words are kept; sc->tok[0] may then start after the
 * beginning of the line.
 */
void address_scan_line(struct address_scan *sc, const char *text, size_t len);

/*
 * The key text of the name made of words [s, e): folded words joined by one
 * space, a final Roman numeral written in digits ("Phường IV" and "Phường 4"
 * meet).  Returns its length, or 0 if it does not fit in cap bytes or holds a
 * word too long to be a name.
 */
size_t address_scan_key(const struct address_scan *sc, int s, int e, char *out, size_t cap);

/*
 * The type prefix whose last word is sc->tok[s - 1], taking no word before
 * floor.  A word written with diacritics counts only if they are the
 * prefix's own ("Phương Sơn" is a name, "Phường Sơn" a ward).
 */
struct address_prefix address_scan_prefix(const struct address_scan *sc, int s, int floor);

/* The first word of the comma-separated part that holds word i. */
int address_scan_part_start(const struct address_scan *sc, int i);

/*
 * Compare the words [s, e) with a name as written in the register, case and
 * Unicode normalisation aside but diacritics counted.  Used only to choose
 * between names that fold the same ("Hoằng Phú", "Hoằng Phụ").
 */
bool address_scan_same_spelling(const struct address_scan *sc, int s, int e, const char *name);

#endif
