/*
 * code.h - dossier codes a citizen can read out on the phone.
 *
 * Design note.  A code is nine symbols written in three groups of three,
 * "K7M-4QX-9PD": eight random symbols and a check symbol.  The alphabet
 * has 31 symbols, the digits and capital letters without those that sound
 * or look alike (1, I, L, O, U): "0" cannot be mistaken for a letter once
 * "O" is gone.  The check symbol is the weighted sum of the eight (weights
 * 1..8) modulo 31, a prime, so any one wrong symbol and any swap of two
 * neighbours is caught before a look-up.  31^8 is about 8.5e11 codes, so a
 * random code collides with an existing one rarely, and a collision is
 * detected by the primary key and retried.
 */
#ifndef LT_OSS_CODE_H
#define LT_OSS_CODE_H

#include <stdbool.h>

#include "core/error.h"

#define OSS_DOSSIER_CODE_MAX 12 /* "K7M-4QX-9PD" and NUL */

/* A new random code into out. */
void oss_code_new(char out[OSS_DOSSIER_CODE_MAX]);

/*
 * Read a code as a person may type it (any case, with or without the
 * dashes or with spaces, "o" for zero) into its canonical form.
 * LT_EINVAL for a wrong length, a symbol outside the alphabet (named), or
 * a check symbol that does not match ("a symbol is mistyped").
 */
enum lt_code oss_code_parse(const char *s, char out[OSS_DOSSIER_CODE_MAX], struct lt_error *err);

#endif
