/*
 * fuzz_json_body.c - libFuzzer target for what a client sends as text:
 * JSON request bodies and the X-Purpose / X-Sealed-Until headers.
 *
 * The bytes go through http_json_parse_object with the server's depth cap,
 * as http_request_json does, then through http_json_only_fields; and, as a
 * header value, through the purpose and seal checks of the audit trail.
 * What must hold for any input: a refusal is invalid_input with a message;
 * an accepted body is an object no deeper than the cap that dumps and
 * loads back to an equal value; the depth scan agrees with the parse; an
 * accepted purpose is valid UTF-8 text within its cap.
 */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>

#include "audit/audit.h"
#include "core/date.h"
#include "core/utf8.h"
#include "http/json_body.h"
#include "http/server.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static const char *const allowed[] = { "id", "full_name", "unit", "holders", NULL };

static void check_body(const char *text, size_t size)
{
    struct lt_error err;
    json_t *obj = NULL, *back;
    char *dumped;

    if (http_json_parse_object(text, size, HTTP_JSON_MAX_DEPTH, &obj, &err) != LT_OK) {
        if (err.code != LT_EINVAL || err.message[0] == '\0' || obj != NULL) {
            abort();
        }
        return;
    }
    if (!json_is_object(obj) ||
        http_json_depth(text, size, HTTP_JSON_MAX_DEPTH, NULL) > HTTP_JSON_MAX_DEPTH) {
        abort();
    }
    if (http_json_only_fields(obj, allowed, &err) != LT_OK &&
        (err.code != LT_EINVAL || err.message[0] == '\0')) {
        abort();
    }
    dumped = json_dumps(obj, JSON_COMPACT | JSON_ENCODE_ANY);
    back = dumped != NULL ? json_loads(dumped, JSON_DECODE_ANY, NULL) : NULL;
    if (back == NULL || !json_equal(obj, back)) {
        abort();
    }
    free(dumped);
    json_decref(back);
    json_decref(obj);
}

static void check_header(const char *text, size_t size)
{
    struct lt_error err;
    int32_t until = DATE_MIN, today = date_from_civil(2025, 7, 1);

    if (audit_purpose_check(text, &err) == LT_OK) {
        if (strlen(text) > AUDIT_PURPOSE_MAX || !utf8_valid_text(text, strlen(text), NULL)) {
            abort();
        }
    } else if (err.code != LT_EINVAL || strcmp(err.field, "X-Purpose") != 0) {
        abort();
    }
    if (audit_seal_check(text, "law-enforcement:X", today, &until, &err) == LT_OK) {
        if (until <= today || size < 10) {
            abort();
        }
    } else if (err.code != LT_EINVAL || until != DATE_MIN) {
        abort();
    }
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    char *text = malloc(size + 1);

    memcpy(text, data, size);
    text[size] = '\0';
    check_body(text, size);
    check_header(text, size);
    free(text);
    return 0;
}
