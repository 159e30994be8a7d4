/*
 * fuzz_dossier_code.c - libFuzzer target for the dossier code reader.
 *
 * Feeds arbitrary text to oss_code_parse, as GET /lookup?code= and the
 * dossier routes do, and checks what must hold for any input: a refusal is
 * invalid_input naming the field "code"; an accepted code is canonical
 * ("XXX-XXX-XXX"), reads back as itself, and parses again unchanged.
 */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "oss/code.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    char text[256], out[OSS_DOSSIER_CODE_MAX], again[OSS_DOSSIER_CODE_MAX];
    struct lt_error err;

    if (size >= sizeof(text)) {
        return 0;
    }
    memcpy(text, data, size);
    text[size] = '\0';
    if (oss_code_parse(text, out, &err) != LT_OK) {
        if (err.code != LT_EINVAL || strcmp(err.field, "code") != 0 || err.message[0] == '\0') {
            abort();
        }
        return 0;
    }
    if (strlen(out) != 11 || out[3] != '-' || out[7] != '-' ||
        oss_code_parse(out, again, &err) != LT_OK || strcmp(out, again) != 0) {
        abort();
    }
    return 0;
}
