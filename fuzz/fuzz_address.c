/*
 * fuzz_address.c - libFuzzer target for the address converter.
 *
 * Feeds arbitrary bytes to address_convert over the built-in register, as
 * the HTTP API and the batch CLI do, and checks what must hold for any
 * input: an error is invalid_input or too_large and leaves a message; a
 * result has a street that is a prefix of the input, a status that agrees
 * with its units and candidates, and turns into JSON.
 */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>

#include "address/address.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void check(const char *text, size_t len, const struct address_result *r)
{
    json_t *j;
    char *s;

    if (r->street != text || r->street_len > len) {
        abort();
    }
    if (r->ncandidates > ADDRESS_MAX_CANDIDATES || r->nsuggestions > ADDRESS_MAX_SUGGESTIONS ||
        memchr(r->note, '\0', sizeof(r->note)) == NULL) {
        abort();
    }
    switch (r->status) {
    case ADDRESS_CONVERTED:
    case ADDRESS_UNCHANGED:
        if (r->new_commune == NULL || r->ncandidates != 1 ||
            r->candidates[0].commune != r->new_commune) {
            abort();
        }
        break;
    case ADDRESS_AMBIGUOUS:
        if (r->new_commune != NULL || r->ncandidates < 2) {
            abort();
        }
        break;
    case ADDRESS_NOT_FOUND:
        if (r->new_commune != NULL || r->ncandidates != 0) {
            abort();
        }
        break;
    }
    j = address_result_json(text, len, r);
    s = json_dumps(j, JSON_COMPACT);
    if (s == NULL) {
        abort();
    }
    free(s);
    json_decref(j);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    static struct address_converter *conv;
    struct address_result r;
    struct lt_error err;
    const char *text = (const char *)data;

    if (conv == NULL) {
        conv = address_converter_new(units_builtin());
    }
    if (address_convert(conv, text, size, &r, &err) == LT_OK) {
        check(text, size, &r);
    } else if ((err.code != LT_EINVAL && err.code != LT_ETOOBIG) || err.message[0] == '\0') {
        abort();
    }
    return 0;
}
