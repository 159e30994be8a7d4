/*
 * batch.h - the body of a push: a child's events after a position.
 *
 * Design note.  A batch is one JSON object (docs/SYNC.md has the full
 * shape):
 *
 *   {"v":1,"events":[EVENT,...],"origin":"00004-1a2b3c4d","after":12,
 *    "through":15,"head":15,"pending_ms":0}
 *
 * origin is the pushing node; after is the position of the child's log the
 * parent acknowledged and through the position the batch brings it to;
 * head is the child's last position and pending_ms the wall time of its
 * oldest event not in this batch (0: none), for freshness reports.  Each
 * EVENT carries every field the hash covers, exactly, plus its position in
 * the child's log and its signature:
 *
 *   {"pos":13,"origin":"...","seq":5,"hlc":N,"actor":"...","type":"...",
 *    "entity":"...","base_version":0,"effective":20240,"cause":"...",
 *    "body":"<the JSON text, as a string>","prev_hash":"<hex>"|null,
 *    "hash":"<hex>","sig":"<hex>"|null}
 *
 * The body travels as a string so that its bytes, which the hash covers,
 * arrive unchanged.  Decoding is strict, since the bytes come from another
 * machine: every member present with its type, no unknown member, no
 * duplicate key, texts within the event log's caps and without NUL, hashes
 * and signatures of exact length, positions rising inside (after,
 * through], at most SYNC_BATCH_EVENTS_MAX events.  What the bytes mean
 * (signatures, chains, jurisdiction) is checked by verify.h and apply.h.
 */
#ifndef LT_SYNC_BATCH_H
#define LT_SYNC_BATCH_H

#include <stddef.h>
#include <stdint.h>

#include "core/buf.h"
#include "core/error.h"
#include "evlog/evlog.h"

#define SYNC_BATCH_VERSION    1
#define SYNC_BATCH_EVENTS_MAX 10000
#define SYNC_BATCH_BYTES      (768 * 1024) /* what a pusher puts in one request */

/* The header of a batch. */
struct sync_batch_head {
    char origin[EVLOG_ORIGIN_MAX];
    int64_t after;
    int64_t through;
    int64_t head;
    int64_t pending_ms;
};

/* A decoded batch: the head and the events, with their bodies owned. */
struct sync_batch {
    struct sync_batch_head h;
    struct event *events; /* ev->pos is the position in the sender's log */
    size_t nevents;
};

/* Free the events and their bodies; b may be NULL. */
void sync_batch_release(struct sync_batch *b);

/*
 * Decode len bytes (need not be NUL-terminated) into b (released by the
 * caller whatever the result).  LT_EINVAL for anything malformed, the
 * message naming the event at fault; LT_ETOOBIG past SYNC_BATCH_EVENTS_MAX.
 */
enum lt_code sync_batch_decode(const char *data, size_t len, struct sync_batch *b,
                               struct lt_error *err);

/*
 * Decode one EVENT object of a batch (borrowed j; i numbers it in
 * messages) into ev, whose body is then owned (free it, also on failure).
 * LT_EINVAL naming the member at fault, LT_ETOOBIG for a body over the cap.
 */
struct json_t;
enum lt_code sync_event_decode(const struct json_t *j, size_t i, struct event *ev,
                               struct lt_error *err);

/*
 * Encoding, piece by piece, so that a pusher can stop when full:
 * sync_enc_begin, then sync_enc_event for each event (LT_ETOOBIG and out
 * unchanged when the event would take out past its cap less room for the
 * end), then sync_enc_end.  n counts the events written so far.
 */
void sync_enc_begin(struct buf *out);
enum lt_code sync_enc_event(struct buf *out, size_t *n, const struct event *ev);
enum lt_code sync_enc_end(struct buf *out, const struct sync_batch_head *h);

/* A whole batch at once, into out (tests, tools).  LT_ETOOBIG past its cap. */
enum lt_code sync_batch_encode(const struct sync_batch *b, struct buf *out);

#endif
