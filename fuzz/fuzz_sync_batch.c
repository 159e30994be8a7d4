/*
 * fuzz_sync_batch.c - libFuzzer target for the push batch decoder.
 *
 * Feeds arbitrary bytes to sync_batch_decode, as POST /sync/v1/push does
 * with a child's body, and checks what must hold for any input: a refusal
 * is invalid_input or too_large with a message; an accepted batch keeps
 * its positions rising inside (after, through] with head at least
 * through, and survives encoding and decoding again unchanged.
 */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "sync/batch.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void check_batch(const struct sync_batch *b)
{
    int64_t last = b->h.after;

    if (b->nevents > SYNC_BATCH_EVENTS_MAX || b->h.through < b->h.after ||
        b->h.head < b->h.through || memchr(b->h.origin, '\0', sizeof(b->h.origin)) == NULL) {
        abort();
    }
    for (size_t i = 0; i < b->nevents; i++) {
        const struct event *ev = &b->events[i];

        if (ev->pos <= last || ev->pos > b->h.through || ev->body == NULL ||
            strlen(ev->body) > EVLOG_BODY_MAX || ev->seq < 1 || ev->hlc < 0) {
            abort();
        }
        last = ev->pos;
    }
}

static void check_same(const struct sync_batch *a, const struct sync_batch *b)
{
    if (strcmp(a->h.origin, b->h.origin) != 0 || a->h.after != b->h.after ||
        a->h.through != b->h.through || a->h.head != b->h.head ||
        a->h.pending_ms != b->h.pending_ms || a->nevents != b->nevents) {
        abort();
    }
    for (size_t i = 0; i < a->nevents; i++) {
        const struct event *x = &a->events[i], *y = &b->events[i];

        if (x->pos != y->pos || x->seq != y->seq || x->hlc != y->hlc ||
            x->base_version != y->base_version || x->effective != y->effective ||
            strcmp(x->origin, y->origin) != 0 || strcmp(x->actor, y->actor) != 0 ||
            strcmp(x->type, y->type) != 0 || strcmp(x->entity, y->entity) != 0 ||
            strcmp(x->cause, y->cause) != 0 || strcmp(x->body, y->body) != 0 ||
            x->has_prev != y->has_prev || x->has_sig != y->has_sig ||
            memcmp(x->prev_hash, y->prev_hash, EVLOG_HASH_BYTES) != 0 ||
            memcmp(x->hash, y->hash, EVLOG_HASH_BYTES) != 0 ||
            memcmp(x->sig, y->sig, EVLOG_SIG_BYTES) != 0) {
            abort();
        }
    }
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    struct sync_batch b, again;
    struct lt_error err;
    struct buf text;
    enum lt_code rc;

    lt_error_clear(&err);
    rc = sync_batch_decode((const char *)data, size, &b, &err);
    if (rc != LT_OK) {
        if ((rc != LT_EINVAL && rc != LT_ETOOBIG) || err.message[0] == '\0') {
            abort();
        }
        sync_batch_release(&b);
        return 0;
    }
    check_batch(&b);
    buf_init(&text, (size_t)64 << 20);
    if (sync_batch_encode(&b, &text) != LT_OK ||
        sync_batch_decode(text.data, text.len, &again, &err) != LT_OK) {
        abort();
    }
    check_same(&b, &again);
    sync_batch_release(&again);
    sync_batch_release(&b);
    buf_release(&text);
    return 0;
}
