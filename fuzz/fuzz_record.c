/*
 * fuzz_record.c - libFuzzer target for a record posted to the registry API.
 *
 * The first byte picks the registry kind; the rest is the request body.
 * It goes the way of POST /api/v1/{kinds}: the JSON body parser with the
 * server's caps, registry_validate at today, then registry_record_key.
 * What must hold for any input: a refusal is invalid_input (or too_large)
 * with a message and, for validation, the field at fault; an accepted
 * record has a key, dumps canonically (canon_dump agrees with json_dumps)
 * and validates again into the same canonical record.
 */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>

#include "core/date.h"
#include "http/json_body.h"
#include "http/server.h"
#include "registry/kinds.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void check_valid(enum registry_kind kind, json_t *canon)
{
    struct lt_error err;
    json_t *again = NULL;
    char key[160], *want, *got = NULL;
    size_t len;

    if (registry_record_key(kind, canon, key, sizeof(key), &err) != LT_OK || key[0] == '\0') {
        abort();
    }
    want = json_dumps(canon, REG_DUMP_FLAGS);
    if (want == NULL || canon_dump(canon, 1 << 20, &got, &len) != LT_OK || strcmp(want, got) != 0) {
        abort();
    }
    if (registry_validate(units_builtin(), kind, canon, DATE_MIN, &again, &err) != LT_OK ||
        !json_equal(canon, again)) {
        abort();
    }
    free(want);
    free(got);
    json_decref(again);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    enum registry_kind kind;
    struct lt_error err;
    json_t *body = NULL, *canon = NULL;

    if (size < 1) {
        return 0;
    }
    kind = (enum registry_kind)(data[0] % REG_KIND_COUNT);
    if (http_json_parse_object((const char *)data + 1, size - 1, HTTP_JSON_MAX_DEPTH, &body,
                               &err) != LT_OK) {
        return 0;
    }
    if (registry_validate(units_builtin(), kind, body, DATE_MIN, &canon, &err) != LT_OK) {
        if ((err.code != LT_EINVAL && err.code != LT_ETOOBIG) || err.message[0] == '\0' ||
            canon != NULL) {
            abort();
        }
    } else {
        check_valid(kind, canon);
        json_decref(canon);
    }
    json_decref(body);
    return 0;
}
