/*
 * api_address.c - POST /api/v1/addresses/convert.
 *
 *   {"address": "..."}          -> one result object (address_result_json)
 *   {"addresses": ["...", ...]} -> {"results": [...], "counts": {...}}
 *
 * A batch goes on past a bad item: the item's place in "results" holds
 * {"input": <as sent>, "status": "error", "error": {...}} and "counts"
 * has it under "error".  A single address that fails fails the request.
 * The converter is built once at start and only read here, so every
 * worker thread shares it without a lock.
 */
#include "http/api.h"

#include <string.h>

#include "http/json_body.h"
#include "core/banned.h"

#define NSTATUS (ADDRESS_NOT_FOUND + 1)

/* The converter is read-only; ctx only carries it through a void pointer. */
static const struct address_converter *converter_of(void *ctx)
{
    return ctx;
}

/* Convert one JSON value that should be an address line. */
static enum lt_code convert_value(const struct address_converter *conv, const json_t *value,
                                  const char *field, json_t **out, enum address_status *status,
                                  struct lt_error *err)
{
    struct address_result res;
    const char *text;
    size_t len;
    enum lt_code rc;

    if (!json_is_string(value)) {
        lt_error_set(err, LT_EINVAL, "an address must be a string");
        lt_error_detail(err, "got %s", http_json_type_name(value));
        lt_error_field(err, field);
        return LT_EINVAL;
    }
    text = json_string_value(value);
    len = json_string_length(value);
    rc = address_convert(conv, text, len, &res, err);
    if (rc != LT_OK) {
        lt_error_field(err, field);
        return rc;
    }
    *status = res.status;
    *out = address_result_json(text, len, &res);
    return LT_OK;
}

static enum lt_code convert_one(struct http_request *req, const struct address_converter *conv,
                                const json_t *value, struct lt_error *err)
{
    enum address_status status;
    json_t *result = NULL;
    enum lt_code rc = convert_value(conv, value, "address", &result, &status, err);

    if (rc != LT_OK) {
        return rc;
    }
    return http_reply_json(req, 200, result);
}

static enum lt_code convert_batch(struct http_request *req, const struct address_converter *conv,
                                  const json_t *list, struct lt_error *err)
{
    size_t counts[NSTATUS] = { 0 };
    size_t nerrors = 0;
    size_t n, i;
    json_t *results, *count_obj;

    if (!json_is_array(list)) {
        lt_error_set(err, LT_EINVAL, "\"addresses\" must be an array of strings");
        lt_error_detail(err, "got %s", http_json_type_name(list));
        lt_error_field(err, "addresses");
        return LT_EINVAL;
    }
    n = json_array_size(list);
    if (n > API_ADDRESS_BATCH_MAX) {
        lt_error_set(err, LT_ETOOBIG, "too many addresses in one request: %zu (at most %d)", n,
                     API_ADDRESS_BATCH_MAX);
        lt_error_hint(err, "send the list in several requests of at most %d addresses",
                      API_ADDRESS_BATCH_MAX);
        lt_error_field(err, "addresses");
        return LT_ETOOBIG;
    }

    /* XXX: a batch runs on one worker thread start to end; the other connections of that
     * worker wait meanwhile (a few hundred ms for 10,000 addresses). */
    results = json_array();
    for (i = 0; i < n; i++) {
        const json_t *item = json_array_get(list, i);
        struct lt_error item_err;
        enum address_status status;
        json_t *result = NULL;

        lt_error_clear(&item_err);
        if (convert_value(conv, item, "addresses", &result, &status, &item_err) != LT_OK) {
            result = json_pack("{s:O, s:s, s:o}", "input", (json_t *)item, "status", "error",
                               "error", http_error_object(&item_err));
            nerrors++;
        } else {
            counts[status]++;
        }
        json_array_append_new(results, result);
    }

    count_obj = json_object();
    for (int s = 0; s < NSTATUS; s++) {
        json_object_set_new(count_obj, address_status_name((enum address_status)s),
                            json_integer((json_int_t)counts[s]));
    }
    json_object_set_new(count_obj, "error", json_integer((json_int_t)nerrors));
    return http_reply_json(req, 200,
                           json_pack("{s:o, s:o}", "results", results, "counts", count_obj));
}

static enum lt_code post_convert(struct http_request *req, void *ctx, struct lt_error *err)
{
    static const char *const fields[] = { "address", "addresses", NULL };
    const struct address_converter *conv = converter_of(ctx);
    json_t *body = NULL;
    json_t *one, *many;
    enum lt_code rc;

    rc = http_request_json(req, &body, err);
    if (rc != LT_OK) {
        goto out;
    }
    rc = http_json_only_fields(body, fields, err);
    if (rc != LT_OK) {
        goto out;
    }

    one = json_object_get(body, "address");
    many = json_object_get(body, "addresses");
    if (one != NULL && many != NULL) {
        rc = lt_error_set(err, LT_EINVAL, "send \"address\" or \"addresses\", not both");
        lt_error_field(err, "addresses");
    } else if (one != NULL) {
        rc = convert_one(req, conv, one, err);
    } else if (many != NULL) {
        rc = convert_batch(req, conv, many, err);
    } else {
        rc = lt_error_set(err, LT_EINVAL, "the body names no address");
        lt_error_hint(err, "send {\"address\": \"...\"} or {\"addresses\": [\"...\", ...]}");
        lt_error_field(err, "address");
    }

out:
    json_decref(body);
    return rc;
}

void api_address_register(struct http_server *s, const struct address_converter *conv)
{
    /* The handler never writes through ctx; the cast only fits the void *. */
    http_server_route(s, "POST", "/api/v1/addresses/convert", post_convert, (void *)conv);
}
