/*
 * Tests for src/sync/batch.c: a batch survives encoding and decoding
 * byte for byte (hashes still match), an encoder that is full leaves a
 * whole batch behind, and the decoder refuses every malformed input in
 * tests/data/sync/bad-batches.txt with the error it names.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/date.h"
#include "sync/batch.h"
#include "sync/keys.h"

static void make_event(struct event *ev, int64_t pos, int64_t seq, const char *body,
                       const struct event *prev)
{
    memset(ev, 0, sizeof(*ev));
    ev->pos = pos;
    snprintf(ev->origin, sizeof(ev->origin), "00004-0000abcd");
    ev->seq = seq;
    ev->hlc = ((int64_t)1764800000000 << 16) + seq;
    snprintf(ev->actor, sizeof(ev->actor), "clerk \"01\"\\");
    snprintf(ev->type, sizeof(ev->type), "person.registered");
    snprintf(ev->entity, sizeof(ev->entity), "person/00109012345%lld", (long long)seq % 10);
    ev->base_version = seq - 1;
    ev->effective = date_from_civil(2025, 7, 1);
    snprintf(ev->cause, sizeof(ev->cause), "HS-2025-000%lld", (long long)seq);
    ev->body = strdup(body);
    ev->has_prev = prev != NULL;
    if (prev != NULL) {
        memcpy(ev->prev_hash, prev->hash, EVLOG_HASH_BYTES);
    }
    event_hash(ev, ev->hash);
    if (seq % 2 == 1) {
        memset(ev->sig, 0xA5, sizeof(ev->sig));
        ev->sig[0] = (uint8_t)seq;
        ev->has_sig = true;
    }
}

static void make_batch(struct sync_batch *b, size_t n)
{
    static const char *const bodies[] = {
        "{\"full_name\":\"Nguyễn Văn An\",\"note\":\"tab\\there\"}",
        "{\"q\":\"\\\"quoted\\\" and \\\\ backslash\",\"ctl\":\"\\u0001\\u001f\"}",
        "[1,2.5,true,null,{\"a\":\"Đ\"}]",
        "\"a string body with a\\nnewline\"",
    };

    memset(b, 0, sizeof(*b));
    snprintf(b->h.origin, sizeof(b->h.origin), "00004-0000abcd");
    b->h.after = 10;
    b->events = calloc(n, sizeof(*b->events));
    for (size_t i = 0; i < n; i++) {
        make_event(&b->events[i], 11 + (int64_t)i * 2, (int64_t)i + 1, bodies[i % 4],
                   i > 0 ? &b->events[i - 1] : NULL);
    }
    b->nevents = n;
    b->h.through = n > 0 ? b->events[n - 1].pos : b->h.after;
    b->h.head = b->h.through + 3;
    b->h.pending_ms = 1764800001234;
}

static void assert_same_event(const struct event *a, const struct event *b)
{
    uint8_t h[EVLOG_HASH_BYTES];

    assert_int_equal(a->pos, b->pos);
    assert_string_equal(a->origin, b->origin);
    assert_int_equal(a->seq, b->seq);
    assert_int_equal(a->hlc, b->hlc);
    assert_string_equal(a->actor, b->actor);
    assert_string_equal(a->type, b->type);
    assert_string_equal(a->entity, b->entity);
    assert_int_equal(a->base_version, b->base_version);
    assert_int_equal(a->effective, b->effective);
    assert_string_equal(a->cause, b->cause);
    assert_string_equal(a->body, b->body);
    assert_int_equal(a->has_prev, b->has_prev);
    assert_memory_equal(a->prev_hash, b->prev_hash, EVLOG_HASH_BYTES);
    assert_memory_equal(a->hash, b->hash, EVLOG_HASH_BYTES);
    assert_int_equal(a->has_sig, b->has_sig);
    assert_memory_equal(a->sig, b->sig, EVLOG_SIG_BYTES);
    event_hash(b, h);
    assert_memory_equal(h, b->hash, EVLOG_HASH_BYTES);
}

static void test_round_trip(void **state)
{
    struct sync_batch in, out;
    struct lt_error err;
    struct buf text;

    (void)state;
    make_batch(&in, 9);
    buf_init(&text, 1 << 20);
    assert_int_equal(sync_batch_encode(&in, &text), LT_OK);
    lt_error_clear(&err);
    if (sync_batch_decode(text.data, text.len, &out, &err) != LT_OK) {
        fail_msg("decode: %s (%s)", err.message, text.data);
    }
    assert_string_equal(out.h.origin, in.h.origin);
    assert_int_equal(out.h.after, in.h.after);
    assert_int_equal(out.h.through, in.h.through);
    assert_int_equal(out.h.head, in.h.head);
    assert_int_equal(out.h.pending_ms, in.h.pending_ms);
    assert_int_equal(out.nevents, in.nevents);
    for (size_t i = 0; i < in.nevents; i++) {
        assert_same_event(&in.events[i], &out.events[i]);
    }
    sync_batch_release(&out);
    sync_batch_release(&in);
    buf_release(&text);
}

static void test_empty_batch(void **state)
{
    struct sync_batch in, out;
    struct lt_error err;
    struct buf text;

    (void)state;
    make_batch(&in, 0);
    buf_init(&text, 4096);
    assert_int_equal(sync_batch_encode(&in, &text), LT_OK);
    assert_int_equal(sync_batch_decode(text.data, text.len, &out, &err), LT_OK);
    assert_int_equal(out.nevents, 0);
    assert_int_equal(out.h.after, 10);
    assert_int_equal(out.h.through, 10);
    sync_batch_release(&out);
    sync_batch_release(&in);
    buf_release(&text);
}

/* A full encoder refuses the next event whole and the batch still decodes. */
static void test_encoder_stops_when_full(void **state)
{
    struct sync_batch in, out;
    struct sync_batch_head h;
    struct lt_error err;
    struct buf text;
    size_t n = 0, before = 0;
    enum lt_code rc = LT_OK;

    (void)state;
    make_batch(&in, 40);
    buf_init(&text, 4096);
    sync_enc_begin(&text);
    for (size_t i = 0; i < in.nevents; i++) {
        before = text.len;
        rc = sync_enc_event(&text, &n, &in.events[i]);
        if (rc != LT_OK) {
            break;
        }
    }
    assert_int_equal(rc, LT_ETOOBIG);
    assert_int_equal(text.len, before);
    assert_true(n > 2 && n < 40);
    h = in.h;
    h.through = in.events[n - 1].pos;
    assert_int_equal(sync_enc_end(&text, &h), LT_OK);
    assert_true(text.len <= text.cap);
    assert_int_equal(sync_batch_decode(text.data, text.len, &out, &err), LT_OK);
    assert_int_equal(out.nevents, n);
    assert_same_event(&in.events[n - 1], &out.events[n - 1]);
    sync_batch_release(&out);
    sync_batch_release(&in);
    buf_release(&text);
}

static char *read_file(const char *path, size_t *len)
{
    FILE *f = fopen(path, "rb");
    char *data;
    long n;

    if (f == NULL) {
        fail_msg("cannot open %s", path);
    }
    fseek(f, 0, SEEK_END);
    n = ftell(f);
    fseek(f, 0, SEEK_SET);
    data = malloc((size_t)n + 1);
    if (fread(data, 1, (size_t)n, f) != (size_t)n) {
        fail_msg("cannot read %s", path);
    }
    fclose(f);
    data[n] = '\0';
    *len = (size_t)n;
    return data;
}

/*
 * The cases file: blocks separated by lines "--- CODE expected message
 * part", the block below being the batch.  "@EVENT@" in a batch stands
 * for a valid event at position 11, seq 1.
 */
static void test_bad_batches(void **state)
{
    struct sync_batch good, out;
    struct buf ev, text;
    size_t len, cases = 0;
    char *data = read_file(LT_TESTS_DIR "/data/sync/bad-batches.txt", &len);
    char *p = strstr(data, "\n--- ");

    (void)state;
    make_batch(&good, 1);
    buf_init(&text, 1 << 20);
    assert_int_equal(sync_batch_encode(&good, &text), LT_OK);
    /* The event's own text: between "[" and "]" of the events array. */
    buf_init(&ev, 1 << 20);
    {
        const char *a = strchr(text.data, '[') + 1;
        const char *z = strstr(a, "],\"origin\"");

        buf_append(&ev, a, (size_t)(z - a));
    }
    while (p != NULL) {
        char code[32], expect[256], *line_end, *next, *at;
        struct buf batch;
        struct lt_error err;
        enum lt_code rc;

        p += 5;
        line_end = strchr(p, '\n');
        assert_non_null(line_end);
        *line_end = '\0';
        if (sscanf(p, "%31s %255[^\n]", code, expect) != 2) {
            fail_msg("bad case header: %s", p);
        }
        next = strstr(line_end + 1, "\n--- ");
        if (next != NULL) {
            *next = '\0';
        }
        buf_init(&batch, 4 << 20);
        for (at = line_end + 1; *at != '\0';) {
            char *mark = strstr(at, "@EVENT@");

            if (mark == NULL) {
                buf_append_str(&batch, at);
                break;
            }
            buf_append(&batch, at, (size_t)(mark - at));
            buf_append(&batch, ev.data, ev.len);
            at = mark + 7;
        }
        lt_error_clear(&err);
        rc = sync_batch_decode(batch.data, batch.len, &out, &err);
        sync_batch_release(&out);
        if (strcmp(lt_code_name(rc), code) != 0 || strstr(err.message, expect) == NULL) {
            fail_msg("case \"%s\": got %s \"%s\"", expect, lt_code_name(rc), err.message);
        }
        buf_release(&batch);
        cases++;
        p = next;
    }
    assert_true(cases >= 20);
    free(data);
    buf_release(&ev);
    buf_release(&text);
    sync_batch_release(&good);
}

/* More events than the cap is refused before any is decoded. */
static void test_too_many_events(void **state)
{
    struct sync_batch out;
    struct lt_error err;
    struct buf text;

    (void)state;
    buf_init(&text, 64 << 20);
    buf_append_str(&text, "{\"v\":1,\"events\":[");
    for (int i = 0; i <= SYNC_BATCH_EVENTS_MAX; i++) {
        buf_append_str(&text, i > 0 ? ",{}" : "{}");
    }
    buf_append_str(&text, "],\"origin\":\"x\",\"after\":0,\"through\":0,\"head\":0,"
                          "\"pending_ms\":0}");
    assert_int_equal(sync_batch_decode(text.data, text.len, &out, &err), LT_ETOOBIG);
    assert_non_null(strstr(err.message, "over the limit"));
    sync_batch_release(&out);
    buf_release(&text);
}

/* A body over the event log's cap is refused as too large. */
static void test_body_too_big(void **state)
{
    struct sync_batch in, out;
    struct lt_error err;
    struct buf text;
    char *body = malloc(EVLOG_BODY_MAX + 4);

    (void)state;
    body[0] = '"';
    memset(body + 1, 'x', EVLOG_BODY_MAX);
    body[EVLOG_BODY_MAX + 1] = '"';
    body[EVLOG_BODY_MAX + 2] = '\0';
    make_batch(&in, 1);
    free(in.events[0].body);
    in.events[0].body = body;
    buf_init(&text, 4 << 20);
    assert_int_equal(sync_batch_encode(&in, &text), LT_OK);
    assert_int_equal(sync_batch_decode(text.data, text.len, &out, &err), LT_ETOOBIG);
    assert_non_null(strstr(err.message, "\"body\" is over"));
    sync_batch_release(&out);
    sync_batch_release(&in);
    buf_release(&text);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_round_trip),
        cmocka_unit_test(test_empty_batch),
        cmocka_unit_test(test_encoder_stops_when_full),
        cmocka_unit_test(test_bad_batches),
        cmocka_unit_test(test_too_many_events),
        cmocka_unit_test(test_body_too_big),
    };

    return cmocka_run_group_tests(tests, NULL, NULL);
}
