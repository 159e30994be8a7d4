/*
 * code.c - making and reading dossier codes (see code.h).
 */
#include "oss/code.h"

#include <ctype.h>
#include <stdio.h>
#include <string.h>

#include <sodium.h>

#include "core/banned.h"

static const char alphabet[] = "023456789ABCDEFGHJKMNPQRSTVWXYZ";
#define BASE    31
#define PAYLOAD 8

static int value_of(char c)
{
    const char *p = c ? strchr(alphabet, c) : NULL;

    return p != NULL ? (int)(p - alphabet) : -1;
}

static char check_of(const char *payload)
{
    int sum = 0;

    for (int i = 0; i < PAYLOAD; i++) {
        sum += (i + 1) * value_of(payload[i]);
    }
    return alphabet[sum % BASE];
}

static void format(const char *sym9, char out[OSS_DOSSIER_CODE_MAX])
{
    snprintf(out, OSS_DOSSIER_CODE_MAX, "%.3s-%.3s-%.3s", sym9, sym9 + 3, sym9 + 6);
}

void oss_code_new(char out[OSS_DOSSIER_CODE_MAX])
{
    char s[PAYLOAD + 2];

    if (sodium_init() < 0) {
        BUG("libsodium does not initialise");
    }
    for (int i = 0; i < PAYLOAD; i++) {
        s[i] = alphabet[randombytes_uniform(BASE)];
    }
    s[PAYLOAD] = check_of(s);
    s[PAYLOAD + 1] = '\0';
    format(s, out);
}

enum lt_code oss_code_parse(const char *s, char out[OSS_DOSSIER_CODE_MAX], struct lt_error *err)
{
    char sym[PAYLOAD + 2];
    size_t n = 0;

    for (const char *p = s ? s : ""; *p != '\0'; p++) {
        char c = (char)toupper((unsigned char)*p);

        if (c == '-' || c == ' ') {
            continue;
        }
        if (c == 'O') {
            c = '0';
        }
        if (n == PAYLOAD + 1) {
            n++;
            break;
        }
        if (value_of(c) < 0) {
            lt_error_set(err, LT_EINVAL, "a dossier code has no \"%c\"",
                         isprint((unsigned char)c) ? c : '?');
            lt_error_hint(
                err, "codes use digits and letters other than I, L, O and U, e.g. K7M-4QX-9PD");
            lt_error_field(err, "code");
            return LT_EINVAL;
        }
        sym[n++] = c;
    }
    if (n != PAYLOAD + 1) {
        lt_error_set(err, LT_EINVAL, "a dossier code has 9 symbols");
        lt_error_hint(err, "as printed on the receipt, e.g. K7M-4QX-9PD");
        lt_error_field(err, "code");
        return LT_EINVAL;
    }
    sym[n] = '\0';
    if (check_of(sym) != sym[PAYLOAD]) {
        lt_error_set(err, LT_EINVAL, "the dossier code does not check: a symbol is mistyped");
        lt_error_hint(err, "read the code again from the receipt");
        lt_error_field(err, "code");
        return LT_EINVAL;
    }
    format(sym, out);
    return LT_OK;
}
