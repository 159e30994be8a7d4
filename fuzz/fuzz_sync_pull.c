/*
 * fuzz_sync_pull.c - libFuzzer target for the pull answer decoder.
 *
 * Feeds arbitrary bytes to sync_pull_reply_decode, as a child does with
 * its parent's answer, and checks what must hold for any input: a refusal
 * is invalid_input or too_large with a message; an accepted answer has
 * after <= through <= head, every event at or below through with a body
 * within the cap, and NUL-terminated names.
 */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "sync/pull_batch.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void check_reply(const struct sync_pull_reply *r)
{
    if (r->through < r->after || r->head < r->through ||
        memchr(r->origin, '\0', sizeof(r->origin)) == NULL || r->nkeys > SYNC_PULL_KEYS_MAX) {
        abort();
    }
    for (size_t i = 0; i < r->nevents; i++) {
        const struct event *ev = &r->events[i];

        if (ev->pos > r->through || ev->body == NULL || strlen(ev->body) > EVLOG_BODY_MAX ||
            ev->seq < 1 || ev->hlc < 0) {
            abort();
        }
    }
    for (size_t i = 0; i < r->nkeys; i++) {
        const struct sync_pull_key *k = &r->keys[i];

        if (memchr(k->origin, '\0', sizeof(k->origin)) == NULL || k->origin[0] == '\0' ||
            memchr(k->unit, '\0', sizeof(k->unit)) == NULL ||
            memchr(k->enrolled_by, '\0', sizeof(k->enrolled_by)) == NULL) {
            abort();
        }
    }
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    struct sync_pull_reply r;
    struct lt_error err;
    enum lt_code rc;

    lt_error_clear(&err);
    rc = sync_pull_reply_decode((const char *)data, size, &r, &err);
    if (rc == LT_OK) {
        check_reply(&r);
    } else if ((rc != LT_EINVAL && rc != LT_ETOOBIG) || err.message[0] == '\0') {
        abort();
    }
    sync_pull_reply_release(&r);
    return 0;
}
