/*
 * pull_batch.h - the answer to a pull: what the parent sends down.
 *
 * Design note.  The parent scans its log after the child's cursor, keeps
 * what pull_select.h says the child must hold, and answers with one JSON
 * object (docs/SYNC.md has the full shape):
 *
 *   {"v":1,"events":[EVENT,...],"keys":[KEY,...],"origin":"01-9f8e7d6c",
 *    "after":120,"through":180,"head":200}
 *
 * EVENT is the event of a push batch (batch.h), "pos" being its position
 * in the parent's log: rising, except that the history of a subject moving
 * into the child comes just before the event that moves it, at its own
 * (earlier) positions.  after is the child's cursor, through the position
 * up to which the parent looked (the child's next cursor) and head the
 * parent's last position.  KEY is {"origin","unit","public_key",
 * "enrolled_by"} for each origin of the events: the parent vouches for the
 * keys it knows, so that the child can check every signature, and the
 * answer itself is signed with the parent's key (pull.h).
 *
 * An answer is cut at a soft size between events (a moving subject and
 * its history are never cut apart) and at a scan limit, so a child far
 * behind catches up in several answers; one subject whose history alone
 * is over the hard size cannot be sent (XXX below).
 */
#ifndef LT_SYNC_PULL_BATCH_H
#define LT_SYNC_PULL_BATCH_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "core/buf.h"
#include "core/error.h"
#include "evlog/evlog.h"
#include "registry/registry.h"
#include "sync/keys.h"
#include "sync/pull_select.h"
#include "units/units.h"

#define SYNC_PULL_VERSION    1
#define SYNC_PULL_SOFT_BYTES (768 * 1024)      /* an answer stops growing past this */
#define SYNC_PULL_HARD_BYTES ((size_t)8 << 20) /* XXX: one subject's history over this is stuck */
#define SYNC_PULL_KEYS_BYTES ((size_t)1 << 20) /* room for the keys after the events */
#define SYNC_PULL_SCAN_MAX   20000             /* events looked at for one answer */
#define SYNC_PULL_REPLY_MAX  (SYNC_PULL_HARD_BYTES + SYNC_PULL_KEYS_BYTES + 4096)
#define SYNC_PULL_KEYS_MAX   4096 /* keys in one answer */

/* A key the parent vouches for. */
struct sync_pull_key {
    char origin[EVLOG_ORIGIN_MAX];
    char unit[UNIT_CODE_MAX];
    uint8_t pk[SYNC_PK_BYTES];
    char enrolled_by[EVLOG_ORIGIN_MAX]; /* "" for the centre */
};

/* The parent's side: an answer being made. */
struct sync_pull_answer {
    struct buf text;  /* the encoded answer, once complete */
    size_t nevents;   /* events in it */
    size_t histories; /* subjects sent with their history */
    size_t scanned;   /* events of the log looked at */
    int64_t after, through, head;
};

void sync_pull_answer_init(struct sync_pull_answer *a);
void sync_pull_answer_release(struct sync_pull_answer *a);

/*
 * Inside a read on c: the answer to the enrolled child child_origin, made
 * by node n with its key (which signs n's own events not signed yet) and
 * whose own parent is parent_origin ("" at the centre).  The caller sets
 * a->after to the child's cursor and a->through to where the scan resumes
 * (the same for a fresh answer; further on when a waiting pull looks
 * again after an empty look); a->text is made afresh.  LT_ENOTFOUND if
 * child_origin is not a child of n; LT_ECONFLICT if a->after is past n's
 * head (a->head is set: the child's cursor is from another log); LT_EINTERNAL
 * if an event's origin has no known key; LT_ETOOBIG if one subject's
 * history is over SYNC_PULL_HARD_BYTES.
 */
enum lt_code sync_pull_collect(struct node *n, struct store_conn *c, const struct sync_key *key,
                               const char *parent_origin, const char *child_origin,
                               struct sync_pull_answer *a, struct lt_error *err);

/* The child's side: an answer decoded (pull_reply.c). */
struct sync_pull_reply {
    char origin[EVLOG_ORIGIN_MAX];
    int64_t after, through, head;
    struct event *events; /* bodies owned */
    size_t nevents;
    struct sync_pull_key *keys;
    size_t nkeys;
};

/* Free the events, their bodies and the keys; r may be NULL. */
void sync_pull_reply_release(struct sync_pull_reply *r);

/*
 * Decode len bytes of an answer (strictly, as batch.h decodes a push).
 * LT_EINVAL naming what is malformed; LT_ETOOBIG past the event or key
 * limits.  r is the caller's to release whatever the result.
 */
enum lt_code sync_pull_reply_decode(const char *data, size_t len, struct sync_pull_reply *r,
                                    struct lt_error *err);

#endif
