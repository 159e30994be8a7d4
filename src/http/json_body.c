/*
 * json_body.c - JSON from clients: depth scan, parse, member checks.
 *
 * The depth scan only needs to tell strings from structure: inside a
 * string a backslash hides the next byte and brackets mean nothing.  It
 * does not validate; jansson does that right after.  A text the scan calls
 * too deep is refused even if it is also malformed, which is still a 400.
 */
#include "http/json_body.h"

#include <stdbool.h>
#include <stdio.h>
#include <string.h>

#include "core/banned.h"

size_t http_json_depth(const char *data, size_t len, size_t max, size_t *at)
{
    size_t depth = 0, deepest = 0;
    bool in_string = false;

    for (size_t i = 0; i < len; i++) {
        char c = data[i];

        if (in_string) {
            if (c == '\\') {
                i++;
            } else if (c == '"') {
                in_string = false;
            }
            continue;
        }
        if (c == '"') {
            in_string = true;
        } else if (c == '[' || c == '{') {
            depth++;
            if (depth > deepest) {
                deepest = depth;
            }
            if (depth > max) {
                if (at != NULL) {
                    *at = i;
                }
                return max + 1;
            }
        } else if ((c == ']' || c == '}') && depth > 0) {
            depth--;
        }
    }
    return deepest;
}

enum lt_code http_json_parse(const char *data, size_t len, size_t max_depth, json_t **out,
                             struct lt_error *err)
{
    json_error_t jerr;
    size_t at = 0;
    json_t *v;

    *out = NULL;
    if (len == 0) {
        lt_error_set(err, LT_EINVAL, "the request body is empty");
        lt_error_hint(err, "send a JSON object with Content-Type: application/json");
        return LT_EINVAL;
    }
    if (http_json_depth(data, len, max_depth, &at) > max_depth) {
        lt_error_set(err, LT_EINVAL, "the JSON body nests deeper than %zu levels", max_depth);
        lt_error_detail(err, "level %zu opens at byte %zu", max_depth + 1, at);
        return LT_EINVAL;
    }

    v = json_loadb(data, len, JSON_REJECT_DUPLICATES | JSON_DECODE_ANY, &jerr);
    if (v == NULL) {
        lt_error_set(err, LT_EINVAL, "malformed JSON body");
        lt_error_detail(err, "line %d, column %d (byte %d): %s", jerr.line, jerr.column,
                        jerr.position, jerr.text);
        return LT_EINVAL;
    }
    *out = v;
    return LT_OK;
}

enum lt_code http_json_parse_object(const char *data, size_t len, size_t max_depth, json_t **out,
                                    struct lt_error *err)
{
    enum lt_code rc = http_json_parse(data, len, max_depth, out, err);

    if (rc != LT_OK) {
        return rc;
    }
    if (!json_is_object(*out)) {
        lt_error_set(err, LT_EINVAL, "the request body must be a JSON object");
        lt_error_detail(err, "got %s", http_json_type_name(*out));
        json_decref(*out);
        *out = NULL;
        return LT_EINVAL;
    }
    return LT_OK;
}

enum lt_code http_json_only_fields(const json_t *obj, const char *const *allowed,
                                   struct lt_error *err)
{
    /* jansson's iterators take a non-const object; they do not change it. */
    json_t *o = (json_t *)obj;

    for (void *it = json_object_iter(o); it != NULL; it = json_object_iter_next(o, it)) {
        const char *key = json_object_iter_key(it);
        bool known = false;

        for (size_t i = 0; allowed[i] != NULL; i++) {
            if (strcmp(key, allowed[i]) == 0) {
                known = true;
                break;
            }
        }
        if (!known) {
            char list[LT_ERROR_HINT_MAX] = "";
            size_t used = 0;

            for (size_t i = 0; allowed[i] != NULL && used < sizeof(list); i++) {
                used += (size_t)snprintf(list + used, sizeof(list) - used, "%s%s",
                                         i > 0 ? ", " : "", allowed[i]);
            }
            lt_error_set(err, LT_EINVAL, "unknown field \"%s\" in the request body", key);
            lt_error_field(err, key);
            lt_error_hint(err, "the fields accepted here are: %s", list);
            return LT_EINVAL;
        }
    }
    return LT_OK;
}

const char *http_json_type_name(const json_t *v)
{
    switch (json_typeof(v)) {
    case JSON_OBJECT:
        return "object";
    case JSON_ARRAY:
        return "array";
    case JSON_STRING:
        return "string";
    case JSON_INTEGER:
    case JSON_REAL:
        return "number";
    case JSON_TRUE:
        return "true";
    case JSON_FALSE:
        return "false";
    case JSON_NULL:
        return "null";
    }
    return "unknown";
}
