/*
 * batch.c - encoding and strict decoding of push batches (see batch.h).
 *
 * Design note.  Encoding writes the JSON text directly into a bounded
 * buffer rather than building a jansson tree: a pusher encodes thousands
 * of events per request and needs to know, event by event, whether the
 * next one still fits.  Each event is first written to a scratch buffer
 * and then appended in one piece, so a full batch is never left holding
 * half an event.  Decoding parses with jansson (duplicate keys refused)
 * and copies every member into a struct event, checking it on the way.
 */
#include "sync/batch.h"

#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "sync/keys.h"
#include "core/banned.h"

/* Room kept at the end of a batch for the closing members. */
#define END_RESERVE 512

/* The largest encoding of one event: its body may grow sixfold escaped. */
#define EVENT_TEXT_MAX (6 * (size_t)EVLOG_BODY_MAX + 8192)

static const char *const event_members[] = {
    "pos",       "origin", "seq",  "hlc",       "actor", "type", "entity", "base_version",
    "effective", "cause",  "body", "prev_hash", "hash",  "sig",  NULL,
};

static const char *const head_members[] = {
    "v", "events", "origin", "after", "through", "head", "pending_ms", NULL,
};

/* Append s as a JSON string; the texts of the event log are valid UTF-8. */
static enum lt_code put_string(struct buf *b, const char *s, size_t len)
{
    static const char hex[] = "0123456789abcdef";
    enum lt_code rc = buf_append_char(b, '"');
    size_t run = 0;

    for (size_t i = 0; i < len && rc == LT_OK; i++) {
        unsigned char ch = (unsigned char)s[i];
        char esc[7];
        size_t n = 0;

        if (ch == '"' || ch == '\\') {
            esc[0] = '\\';
            esc[1] = (char)ch;
            n = 2;
        } else if (ch < 0x20) {
            memcpy(esc, "\\u00", 4);
            esc[4] = hex[ch >> 4];
            esc[5] = hex[ch & 15];
            n = 6;
        } else {
            continue;
        }
        rc = buf_append(b, s + run, i - run);
        if (rc == LT_OK) {
            rc = buf_append(b, esc, n);
        }
        run = i + 1;
    }
    if (rc == LT_OK) {
        rc = buf_append(b, s + run, len - run);
    }
    return rc == LT_OK ? buf_append_char(b, '"') : rc;
}

static enum lt_code put_member(struct buf *b, const char *name, const char *s, size_t cap)
{
    enum lt_code rc = buf_printf(b, ",\"%s\":", name);

    return rc == LT_OK ? put_string(b, s, strnlen(s, cap)) : rc;
}

static enum lt_code put_hex_member(struct buf *b, const char *name, const uint8_t *p, size_t n,
                                   bool present)
{
    char hex[2 * EVLOG_SIG_BYTES + 1];

    if (!present) {
        return buf_printf(b, ",\"%s\":null", name);
    }
    sync_hex(p, n, hex);
    return buf_printf(b, ",\"%s\":\"%s\"", name, hex);
}

static enum lt_code encode_event(struct buf *b, const struct event *ev)
{
    const char *body = ev->body != NULL ? ev->body : "";
    enum lt_code rc = buf_printf(b, "{\"pos\":%lld", (long long)ev->pos);

    if (rc == LT_OK) {
        rc = put_member(b, "origin", ev->origin, sizeof(ev->origin));
    }
    if (rc == LT_OK) {
        rc = buf_printf(b, ",\"seq\":%lld,\"hlc\":%lld", (long long)ev->seq, (long long)ev->hlc);
    }
    if (rc == LT_OK) {
        rc = put_member(b, "actor", ev->actor, sizeof(ev->actor));
    }
    if (rc == LT_OK) {
        rc = put_member(b, "type", ev->type, sizeof(ev->type));
    }
    if (rc == LT_OK) {
        rc = put_member(b, "entity", ev->entity, sizeof(ev->entity));
    }
    if (rc == LT_OK) {
        rc = buf_printf(b, ",\"base_version\":%lld,\"effective\":%d", (long long)ev->base_version,
                        (int)ev->effective);
    }
    if (rc == LT_OK) {
        rc = put_member(b, "cause", ev->cause, sizeof(ev->cause));
    }
    if (rc == LT_OK) {
        rc = buf_append_str(b, ",\"body\":");
    }
    if (rc == LT_OK) {
        rc = put_string(b, body, strlen(body));
    }
    if (rc == LT_OK) {
        rc = put_hex_member(b, "prev_hash", ev->prev_hash, EVLOG_HASH_BYTES, ev->has_prev);
    }
    if (rc == LT_OK) {
        rc = put_hex_member(b, "hash", ev->hash, EVLOG_HASH_BYTES, true);
    }
    if (rc == LT_OK) {
        rc = put_hex_member(b, "sig", ev->sig, EVLOG_SIG_BYTES, ev->has_sig);
    }
    return rc == LT_OK ? buf_append_char(b, '}') : rc;
}

void sync_enc_begin(struct buf *out)
{
    buf_reset(out);
    if (buf_printf(out, "{\"v\":%d,\"events\":[", SYNC_BATCH_VERSION) != LT_OK) {
        BUG("batch buffer of %zu bytes cannot hold its opening", out->cap);
    }
}

enum lt_code sync_enc_event(struct buf *out, size_t *n, const struct event *ev)
{
    struct buf one;
    enum lt_code rc;

    buf_init(&one, EVENT_TEXT_MAX);
    rc = encode_event(&one, ev);
    if (rc == LT_OK && out->len + one.len + 1 + END_RESERVE > out->cap) {
        rc = LT_ETOOBIG;
    }
    if (rc == LT_OK && *n > 0) {
        rc = buf_append_char(out, ',');
    }
    if (rc == LT_OK) {
        rc = buf_append(out, one.data, one.len);
        if (rc == LT_OK) {
            (*n)++;
        }
    }
    buf_release(&one);
    return rc;
}

enum lt_code sync_enc_end(struct buf *out, const struct sync_batch_head *h)
{
    enum lt_code rc = buf_append_str(out, "]");

    if (rc == LT_OK) {
        rc = put_member(out, "origin", h->origin, sizeof(h->origin));
    }
    if (rc == LT_OK) {
        rc = buf_printf(out, ",\"after\":%lld,\"through\":%lld,\"head\":%lld,\"pending_ms\":%lld}",
                        (long long)h->after, (long long)h->through, (long long)h->head,
                        (long long)h->pending_ms);
    }
    return rc;
}

enum lt_code sync_batch_encode(const struct sync_batch *b, struct buf *out)
{
    size_t n = 0;
    enum lt_code rc = LT_OK;

    if (out->cap < END_RESERVE + 64) {
        return LT_ETOOBIG;
    }
    sync_enc_begin(out);
    for (size_t i = 0; i < b->nevents && rc == LT_OK; i++) {
        rc = sync_enc_event(out, &n, &b->events[i]);
    }
    return rc == LT_OK ? sync_enc_end(out, &b->h) : rc;
}

void sync_batch_release(struct sync_batch *b)
{
    if (b == NULL) {
        return;
    }
    for (size_t i = 0; i < b->nevents; i++) {
        free(b->events[i].body);
    }
    free(b->events);
    b->events = NULL;
    b->nevents = 0;
}

/* Decoding: each helper names the member and, through prefix, the event. */

static enum lt_code bad(struct lt_error *err, const char *prefix, const char *member,
                        const char *what)
{
    lt_error_set(err, LT_EINVAL, "%s\"%s\" %s", prefix, member, what);
    lt_error_field(err, member);
    return LT_EINVAL;
}

static enum lt_code only_known(const json_t *obj, const char *const *names, const char *prefix,
                               struct lt_error *err)
{
    const char *key;
    json_t *v;

    json_object_foreach((json_t *)obj, key, v)
    {
        bool known = false;

        for (size_t i = 0; names[i] != NULL && !known; i++) {
            known = strcmp(key, names[i]) == 0;
        }
        if (!known) {
            lt_error_set(err, LT_EINVAL, "%sunknown member \"%.64s\"", prefix, key);
            return LT_EINVAL;
        }
    }
    return LT_OK;
}

static enum lt_code get_int(const json_t *obj, const char *name, int64_t min, int64_t max,
                            const char *prefix, int64_t *out, struct lt_error *err)
{
    const json_t *v = json_object_get(obj, name);

    if (v == NULL) {
        return bad(err, prefix, name, "is missing");
    }
    if (!json_is_integer(v)) {
        return bad(err, prefix, name, "is not an integer");
    }
    if (json_integer_value(v) < min || json_integer_value(v) > max) {
        return bad(err, prefix, name, "is out of range");
    }
    *out = json_integer_value(v);
    return LT_OK;
}

/* A string member without NUL, shorter than cap, into out (cap bytes). */
static enum lt_code get_text(const json_t *obj, const char *name, const char *prefix, char *out,
                             size_t cap, struct lt_error *err)
{
    const json_t *v = json_object_get(obj, name);
    size_t len;

    if (v == NULL) {
        return bad(err, prefix, name, "is missing");
    }
    if (!json_is_string(v)) {
        return bad(err, prefix, name, "is not a string");
    }
    len = json_string_length(v);
    if (len >= cap) {
        return bad(err, prefix, name, "is too long");
    }
    if (memchr(json_string_value(v), '\0', len) != NULL) {
        return bad(err, prefix, name, "holds a NUL character");
    }
    memcpy(out, json_string_value(v), len);
    out[len] = '\0';
    return LT_OK;
}

/* A hex member of exactly n bytes, or null when nullable; *present set. */
static enum lt_code get_hex(const json_t *obj, const char *name, bool nullable, const char *prefix,
                            uint8_t *out, size_t n, bool *present, struct lt_error *err)
{
    const json_t *v = json_object_get(obj, name);

    memset(out, 0, n);
    *present = false;
    if (v == NULL) {
        return bad(err, prefix, name, "is missing");
    }
    if (json_is_null(v) && nullable) {
        return LT_OK;
    }
    if (!json_is_string(v) || !sync_unhex(json_string_value(v), out, n)) {
        return bad(err, prefix, name,
                   n == EVLOG_HASH_BYTES ? "is not 64 hex digits" : "is not 128 hex digits");
    }
    *present = true;
    return LT_OK;
}

static enum lt_code get_body(const json_t *obj, const char *prefix, char **out,
                             struct lt_error *err)
{
    const json_t *v = json_object_get(obj, "body");
    size_t len;

    if (v == NULL) {
        return bad(err, prefix, "body", "is missing");
    }
    if (!json_is_string(v)) {
        return bad(err, prefix, "body", "is not a string");
    }
    len = json_string_length(v);
    if (len > EVLOG_BODY_MAX) {
        lt_error_set(err, LT_ETOOBIG, "%s\"body\" is over %d bytes", prefix, EVLOG_BODY_MAX);
        return LT_ETOOBIG;
    }
    if (memchr(json_string_value(v), '\0', len) != NULL) {
        return bad(err, prefix, "body", "holds a NUL character");
    }
    *out = xstrndup(json_string_value(v), len);
    return LT_OK;
}

static enum lt_code decode_event(const json_t *j, size_t i, struct event *ev, struct lt_error *err)
{
    char prefix[48];
    int64_t eff = 0;
    bool hash_present = false;
    enum lt_code rc;

    snprintf(prefix, sizeof(prefix), "event %zu: ", i);
    memset(ev, 0, sizeof(*ev));
    if (!json_is_object(j)) {
        return lt_error_set(err, LT_EINVAL, "%snot an object", prefix);
    }
    if ((rc = only_known(j, event_members, prefix, err)) != LT_OK ||
        (rc = get_int(j, "pos", 1, INT64_MAX, prefix, &ev->pos, err)) != LT_OK ||
        (rc = get_text(j, "origin", prefix, ev->origin, sizeof(ev->origin), err)) != LT_OK ||
        (rc = get_int(j, "seq", 1, INT64_MAX, prefix, &ev->seq, err)) != LT_OK ||
        (rc = get_int(j, "hlc", 0, INT64_MAX, prefix, &ev->hlc, err)) != LT_OK ||
        (rc = get_text(j, "actor", prefix, ev->actor, sizeof(ev->actor), err)) != LT_OK ||
        (rc = get_text(j, "type", prefix, ev->type, sizeof(ev->type), err)) != LT_OK ||
        (rc = get_text(j, "entity", prefix, ev->entity, sizeof(ev->entity), err)) != LT_OK ||
        (rc = get_int(j, "base_version", 0, INT64_MAX, prefix, &ev->base_version, err)) != LT_OK ||
        (rc = get_int(j, "effective", INT32_MIN, INT32_MAX, prefix, &eff, err)) != LT_OK ||
        (rc = get_text(j, "cause", prefix, ev->cause, sizeof(ev->cause), err)) != LT_OK ||
        (rc = get_hex(j, "prev_hash", true, prefix, ev->prev_hash, EVLOG_HASH_BYTES, &ev->has_prev,
                      err)) != LT_OK ||
        (rc = get_hex(j, "hash", false, prefix, ev->hash, EVLOG_HASH_BYTES, &hash_present, err)) !=
            LT_OK ||
        (rc = get_hex(j, "sig", true, prefix, ev->sig, EVLOG_SIG_BYTES, &ev->has_sig, err)) !=
            LT_OK) {
        return rc;
    }
    ev->effective = (int32_t)eff;
    return get_body(j, prefix, &ev->body, err);
}

enum lt_code sync_event_decode(const json_t *j, size_t i, struct event *ev, struct lt_error *err)
{
    return decode_event(j, i, ev, err);
}

static enum lt_code decode_head(const json_t *root, struct sync_batch_head *h, struct lt_error *err)
{
    int64_t v = 0;
    enum lt_code rc;

    if ((rc = only_known(root, head_members, "batch: ", err)) != LT_OK ||
        (rc = get_int(root, "v", 0, INT64_MAX, "batch: ", &v, err)) != LT_OK) {
        return rc;
    }
    if (v != SYNC_BATCH_VERSION) {
        lt_error_set(err, LT_EINVAL, "batch version %lld is not supported", (long long)v);
        lt_error_hint(err, "this node speaks version %d; run the same release on both nodes",
                      SYNC_BATCH_VERSION);
        return LT_EINVAL;
    }
    if ((rc = get_text(root, "origin", "batch: ", h->origin, sizeof(h->origin), err)) != LT_OK ||
        (rc = get_int(root, "after", 0, INT64_MAX, "batch: ", &h->after, err)) != LT_OK ||
        (rc = get_int(root, "through", 0, INT64_MAX, "batch: ", &h->through, err)) != LT_OK ||
        (rc = get_int(root, "head", 0, INT64_MAX, "batch: ", &h->head, err)) != LT_OK ||
        (rc = get_int(root, "pending_ms", 0, INT64_MAX, "batch: ", &h->pending_ms, err)) != LT_OK) {
        return rc;
    }
    if (h->through < h->after || h->head < h->through) {
        lt_error_set(err, LT_EINVAL, "batch positions are out of order");
        lt_error_detail(err, "after %lld, through %lld, head %lld: each must be at most the next",
                        (long long)h->after, (long long)h->through, (long long)h->head);
        return LT_EINVAL;
    }
    return LT_OK;
}

enum lt_code sync_batch_decode(const char *data, size_t len, struct sync_batch *b,
                               struct lt_error *err)
{
    json_error_t jerr;
    json_t *root, *events;
    int64_t last;
    size_t n;
    enum lt_code rc = LT_OK;

    memset(b, 0, sizeof(*b));
    root = json_loadb(data, len, JSON_REJECT_DUPLICATES, &jerr);
    if (root == NULL) {
        lt_error_set(err, LT_EINVAL, "the batch is not a JSON object: %s", jerr.text);
        lt_error_detail(err, "at line %d, column %d", jerr.line, jerr.column);
        return LT_EINVAL;
    }
    if (!json_is_object(root)) {
        rc = lt_error_set(err, LT_EINVAL, "the batch is not a JSON object");
        goto out;
    }
    if ((rc = decode_head(root, &b->h, err)) != LT_OK) {
        goto out;
    }
    events = json_object_get(root, "events");
    if (!json_is_array(events)) {
        rc = bad(err, "batch: ", "events", events == NULL ? "is missing" : "is not an array");
        goto out;
    }
    n = json_array_size(events);
    if (n > SYNC_BATCH_EVENTS_MAX) {
        rc = lt_error_set(err, LT_ETOOBIG, "the batch holds %zu events, over the limit of %d", n,
                          SYNC_BATCH_EVENTS_MAX);
        goto out;
    }
    b->events = n > 0 ? xcalloc(n, sizeof(*b->events)) : NULL;
    last = b->h.after;
    for (size_t i = 0; i < n; i++) {
        rc = decode_event(json_array_get(events, i), i, &b->events[i], err);
        b->nevents = i + 1; /* the body, if any, is owned from here */
        if (rc != LT_OK) {
            goto out;
        }
        if (b->events[i].pos <= last || b->events[i].pos > b->h.through) {
            rc = lt_error_set(err, LT_EINVAL, "event %zu: position %lld is out of order", i,
                              (long long)b->events[i].pos);
            lt_error_detail(err, "positions must rise after %lld, up to %lld", (long long)last,
                            (long long)b->h.through);
            goto out;
        }
        last = b->events[i].pos;
    }

out:
    json_decref(root);
    return rc;
}
