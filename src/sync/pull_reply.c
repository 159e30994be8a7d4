/*
 * pull_reply.c - reading a parent's answer to a pull, strictly (see pull_batch.h).
 *
 * The bytes come from another machine: every member present with its
 * type, no unknown or duplicate member, positions in order, texts within
 * their fields, keys of exact length, events decoded as a push's
 * (sync_event_decode), and caps on the counts.  What the answer means
 * (signatures, keys, jurisdiction) is pull_apply.c's to check.
 */
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "sync/batch.h"
#include "sync/pull_batch.h"
#include "core/banned.h"

#define REPLY_EVENTS_MAX 65536

static const char *const reply_members[] = { "v",     "events",  "keys", "origin",
                                             "after", "through", "head", NULL };
static const char *const key_members[] = { "origin", "unit", "public_key", "enrolled_by", NULL };

void sync_pull_reply_release(struct sync_pull_reply *r)
{
    if (r == NULL) {
        return;
    }
    for (size_t i = 0; i < r->nevents; i++) {
        free(r->events[i].body);
    }
    free(r->events);
    free(r->keys);
    memset(r, 0, sizeof(*r));
}

static bool only(const json_t *obj, const char *const *names, const char **unknown)
{
    const char *k;
    json_t *v;

    json_object_foreach((json_t *)obj, k, v)
    {
        bool ok = false;

        (void)v;
        for (size_t i = 0; names[i] != NULL && !ok; i++) {
            ok = strcmp(k, names[i]) == 0;
        }
        if (!ok) {
            *unknown = k;
            return false;
        }
    }
    return true;
}

static bool text_into(const json_t *v, char *out, size_t cap)
{
    const char *s = json_string_value(v);

    if (s == NULL || s[0] == '\0' || json_string_length(v) >= cap ||
        strlen(s) != json_string_length(v)) {
        return false;
    }
    snprintf(out, cap, "%s", s);
    return true;
}

static bool position(const json_t *v, int64_t *out)
{
    if (!json_is_integer(v) || json_integer_value(v) < 0) {
        return false;
    }
    *out = json_integer_value(v);
    return true;
}

static enum lt_code decode_key(const json_t *j, size_t i, struct sync_pull_key *k,
                               struct lt_error *err)
{
    const char *unknown = NULL;
    const json_t *by = json_object_get(j, "enrolled_by");

    memset(k, 0, sizeof(*k));
    if (!json_is_object(j) || !only(j, key_members, &unknown)) {
        lt_error_set(err, LT_EINVAL, "key %zu: %s%s", i,
                     unknown ? "unknown member " : "not an object", unknown ? unknown : "");
        return LT_EINVAL;
    }
    if (!text_into(json_object_get(j, "origin"), k->origin, sizeof(k->origin)) ||
        !text_into(json_object_get(j, "unit"), k->unit, sizeof(k->unit)) ||
        json_string_value(json_object_get(j, "public_key")) == NULL ||
        !sync_unhex(json_string_value(json_object_get(j, "public_key")), k->pk, SYNC_PK_BYTES) ||
        (!json_is_null(by) && !text_into(by, k->enrolled_by, sizeof(k->enrolled_by)))) {
        lt_error_set(err, LT_EINVAL,
                     "key %zu: \"origin\", \"unit\", \"public_key\" (64 hex) or "
                     "\"enrolled_by\" is missing or malformed",
                     i);
        return LT_EINVAL;
    }
    return LT_OK;
}

static enum lt_code decode_head(const json_t *root, struct sync_pull_reply *r, struct lt_error *err)
{
    const char *unknown = NULL;
    const json_t *v = json_object_get(root, "v");

    if (!only(root, reply_members, &unknown)) {
        lt_error_set(err, LT_EINVAL, "the pull answer has an unknown member \"%s\"", unknown);
        return LT_EINVAL;
    }
    if (!json_is_integer(v) || json_integer_value(v) != SYNC_PULL_VERSION) {
        lt_error_set(err, LT_EINVAL, "pull answer version is not %d", SYNC_PULL_VERSION);
        lt_error_hint(err, "run the same release on parent and child");
        return LT_EINVAL;
    }
    if (!text_into(json_object_get(root, "origin"), r->origin, sizeof(r->origin)) ||
        !position(json_object_get(root, "after"), &r->after) ||
        !position(json_object_get(root, "through"), &r->through) ||
        !position(json_object_get(root, "head"), &r->head)) {
        lt_error_set(err, LT_EINVAL,
                     "the pull answer lacks a valid \"origin\", \"after\", "
                     "\"through\" or \"head\"");
        return LT_EINVAL;
    }
    if (r->through < r->after || r->head < r->through) {
        lt_error_set(err, LT_EINVAL, "pull answer positions are out of order");
        lt_error_detail(err, "after %lld, through %lld, head %lld", (long long)r->after,
                        (long long)r->through, (long long)r->head);
        return LT_EINVAL;
    }
    return LT_OK;
}

static enum lt_code decode_lists(const json_t *root, struct sync_pull_reply *r,
                                 struct lt_error *err)
{
    const json_t *events = json_object_get(root, "events");
    const json_t *keys = json_object_get(root, "keys");
    size_t n;
    enum lt_code rc = LT_OK;

    if (!json_is_array(events) || !json_is_array(keys)) {
        return lt_error_set(err, LT_EINVAL, "the pull answer lacks its \"events\" or \"keys\"");
    }
    n = json_array_size(keys);
    if (n > SYNC_PULL_KEYS_MAX || json_array_size(events) > REPLY_EVENTS_MAX) {
        return lt_error_set(err, LT_ETOOBIG, "the pull answer holds too many keys or events");
    }
    r->keys = n > 0 ? xcalloc(n, sizeof(*r->keys)) : NULL;
    for (size_t i = 0; rc == LT_OK && i < n; i++) {
        rc = decode_key(json_array_get(keys, i), i, &r->keys[i], err);
        r->nkeys = i + 1;
    }
    n = json_array_size(events);
    r->events = n > 0 ? xcalloc(n, sizeof(*r->events)) : NULL;
    for (size_t i = 0; rc == LT_OK && i < n; i++) {
        rc = sync_event_decode(json_array_get(events, i), i, &r->events[i], err);
        r->nevents = i + 1; /* the body, if any, is owned from here */
        if (rc == LT_OK && r->events[i].pos > r->through) {
            rc = lt_error_set(err, LT_EINVAL, "event %zu: position %lld is past \"through\"", i,
                              (long long)r->events[i].pos);
        }
    }
    return rc;
}

enum lt_code sync_pull_reply_decode(const char *data, size_t len, struct sync_pull_reply *r,
                                    struct lt_error *err)
{
    json_error_t jerr;
    json_t *root;
    enum lt_code rc;

    memset(r, 0, sizeof(*r));
    root = json_loadb(data, len, JSON_REJECT_DUPLICATES, &jerr);
    if (!json_is_object(root)) {
        lt_error_set(err, LT_EINVAL, "the pull answer is not a JSON object");
        lt_error_detail(err, "%s", root == NULL ? jerr.text : "another JSON value");
        json_decref(root);
        return LT_EINVAL;
    }
    rc = decode_head(root, r, err);
    if (rc == LT_OK) {
        rc = decode_lists(root, r, err);
    }
    json_decref(root);
    return rc;
}
