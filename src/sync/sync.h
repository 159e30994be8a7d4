/*
 * sync.h - a node's place in the tree: pushing up, receiving from below.
 *
 * Design note.  Sync is child-initiated HTTP (docs/SYNC.md has the
 * protocol).  A serving node runs one sync thread which
 *
 *   - pushes this node's log after the position its parent acknowledged,
 *     in order, in batches, as soon as a write commits; under load a batch
 *     takes everything committed meanwhile, so batches grow instead of
 *     requests multiplying (one request in flight per parent);
 *   - when the parent cannot be reached, retries with exponential backoff
 *     (the outbox is just the log after the acknowledged position, so a
 *     node that was down or offline catches up by itself);
 *   - sends an empty batch when idle for a heartbeat interval, so the
 *     parent can tell a quiet child from a silent one;
 *   - watches its own children and logs when one falls silent or returns.
 *
 * and serves, on the HTTP server, the routes of the parent side:
 *
 *   POST /sync/v1/push     a batch from a child (signed request)
 *   POST /sync/v1/pull     a child long-polls for what it must hold (pull.h)
 *   POST /sync/v1/enrol    a child enrols with a one-time token
 *   GET  /sync/v1/status   freshness: per child backlog, last contact, silence
 *   GET  /sync/v1/metrics  the same as Prometheus text
 *
 * The parent's own log holds its children's events with their original
 * identity and signature, so its pusher relays them up with its own, and
 * the centre receives each event exactly once.
 */
#ifndef LT_SYNC_SYNC_H
#define LT_SYNC_SYNC_H

#include <stddef.h>

#include "core/error.h"
#include "http/server.h"
#include "registry/registry.h"

struct sync_options {
    int heartbeat_ms;    /* an idle child pushes an empty batch this often; 0: 10 s */
    int silent_after_ms; /* a child not heard from this long is silent; 0: 60 s */
    int retry_max_ms;    /* the longest wait between retries; 0: 30 s */
    int poll_ms;         /* XXX: interim commit polling interval; 0: 2 ms */
    size_t batch_bytes;  /* the most bytes in one push; 0: SYNC_BATCH_BYTES */
};

void sync_options_default(struct sync_options *o);

struct sync;

/*
 * Sync for node n, whose data directory is dir (for its key).  Loads the
 * key and the sync identity.  LT_ENOTFOUND if the node has no key (made
 * before nodes had keys); LT_EINVAL for a key file that is not private or
 * not this node's.
 */
enum lt_code sync_new(struct node *n, const char *dir, const struct sync_options *o,
                      struct sync **out, struct lt_error *err);

/* Add the routes above to srv (before it starts). */
void sync_register(struct sync *s, struct http_server *srv);

/* Start the sync thread. */
enum lt_code sync_start(struct sync *s, struct lt_error *err);

/* Stop the thread (an ongoing push is aborted); safe if not started. */
void sync_stop(struct sync *s);

/* Stop and free; s may be NULL.  The server must be stopped first. */
void sync_free(struct sync *s);

#endif
