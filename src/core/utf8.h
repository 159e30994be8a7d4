/*
 * utf8.h - UTF-8 validation, NFC normalisation and Vietnamese folding.
 *
 * Text is stored as NFC UTF-8.  Search and matching fold it: lower case,
 * diacritics removed, đ/Đ to d (đ has no Unicode decomposition, so a plain
 * "strip marks" misses it).  "Nguyễn Văn Đức" folds to "nguyen van duc".
 * Normalisation and case mapping come from utf8proc; folding uses a table
 * built from utf8proc once, so that the hot path of address conversion does
 * not allocate.
 */
#ifndef LT_UTF8_H
#define LT_UTF8_H

#include <stdbool.h>
#include <stddef.h>

#include "core/buf.h"
#include "core/error.h"

/*
 * True if s[0..len) is well-formed UTF-8 holding no NUL and no control
 * character other than tab.  Otherwise false, and *bad_at (if not NULL) is
 * the byte offset of the first bad sequence.
 */
bool utf8_valid_text(const char *s, size_t len, size_t *bad_at);

/* Append the NFC form of s[0..len) to out.  LT_EINVAL for invalid UTF-8. */
enum lt_code utf8_nfc(const char *s, size_t len, struct buf *out, struct lt_error *err);

/*
 * Fold s[0..len) into out (at most outcap bytes including the terminating
 * NUL): lower case, Vietnamese diacritics removed, combining marks dropped.
 * Characters that do not fold to ASCII are kept, lower-cased.  Invalid bytes
 * are copied as '?'.  Returns the length written, truncated to fit.
 */
size_t utf8_fold(const char *s, size_t len, char *out, size_t outcap);

/*
 * Fold like utf8_fold, then squeeze every run of spaces, tabs, commas,
 * hyphens and underscores to one space and trim both ends, so that
 * "  Bà Rịa-Vũng Tàu " and "ba ria vung tau" compare equal.  Returns the
 * length written (out holds at most outcap bytes with the NUL).
 */
size_t utf8_fold_words(const char *s, size_t len, char *out, size_t outcap);

/*
 * The byte offset in valid UTF-8 s[0..len) of the first invisible format
 * character (Unicode category Cf: zero-width space and joiners, soft
 * hyphen, direction marks, byte order mark), its code point in *cp; len if
 * there is none.  Such characters come with pasted text and make two
 * spellings of one name that look the same.
 */
size_t utf8_find_invisible(const char *s, size_t len, int *cp);

/*
 * If valid UTF-8 s[0..len) holds a space other than U+0020 (category Zs:
 * no-break space, thin space, ideographic space...), append s to out with
 * each of them as U+0020 and return true; else return false, out untouched.
 */
bool utf8_plain_spaces(const char *s, size_t len, struct buf *out);

/* Decode one code point at s (len bytes left); returns its byte length, or
 * a negative number for an invalid sequence. */
int utf8_decode(const char *s, size_t len, int *cp);

#endif
