/*
 * json_body.h - parsing JSON that a client sent, with hard limits.
 *
 * jansson has no depth option (its own limit is 2048 levels), so the
 * nesting is measured by a scan of the bytes before jansson sees them: a
 * document nested too deep is refused without building any of it.  Errors
 * are LT_EINVAL with what a client needs to fix its request.
 */
#ifndef LT_HTTP_JSON_BODY_H
#define LT_HTTP_JSON_BODY_H

#include <stddef.h>

#include <jansson.h>

#include "core/error.h"

/*
 * The nesting depth of the JSON text data[0..len): the deepest level of
 * brackets and braces outside strings ("[]" is 1, "1" is 0).  Stops and
 * returns max + 1 as soon as max is passed, with *at (if not NULL) the
 * byte offset where it was.
 */
size_t http_json_depth(const char *data, size_t len, size_t max, size_t *at);

/*
 * Parse data[0..len) into *out (new reference).  LT_EINVAL for empty
 * input, nesting deeper than max_depth, duplicate object keys and
 * malformed JSON or invalid UTF-8 (the detail gives jansson's line, column,
 * byte offset and reason).
 */
enum lt_code http_json_parse(const char *data, size_t len, size_t max_depth, json_t **out,
                             struct lt_error *err);

/* Like http_json_parse, and the value must be an object. */
enum lt_code http_json_parse_object(const char *data, size_t len, size_t max_depth, json_t **out,
                                    struct lt_error *err);

/*
 * Check that obj holds no member outside allowed (a NULL-terminated list).
 * LT_EINVAL naming the first unknown member (in field too) otherwise.
 */
enum lt_code http_json_only_fields(const json_t *obj, const char *const *allowed,
                                   struct lt_error *err);

/* "object", "array", "string", "number", "true", "false" or "null". */
const char *http_json_type_name(const json_t *v);

#endif
