/*
 * state.h - reading and writing the sync tables (schema.h).
 *
 * Every function runs inside the caller's transaction: writes inside a
 * store_write callback, reads there or on a reader.  Nothing here decides
 * anything; enrol.c, apply.c and sync.c do.
 */
#ifndef LT_SYNC_STATE_H
#define LT_SYNC_STATE_H

#include <stdbool.h>
#include <stdint.h>

#include "core/error.h"
#include "evlog/evlog.h"
#include "store/store.h"
#include "sync/keys.h"
#include "units/units.h"

#define SYNC_URL_MAX    512
#define SYNC_REASON_MAX 256

/* This node's sync identity (the sync_self row). */
struct sync_self {
    uint8_t pk[SYNC_PK_BYTES];
    char parent_url[SYNC_URL_MAX]; /* "" if none */
    bool enrolled;                 /* the parent fields below are set */
    char parent_origin[EVLOG_ORIGIN_MAX];
    char parent_unit[UNIT_CODE_MAX];
    uint8_t parent_pk[SYNC_PK_BYTES];
    int64_t enrolled_ms;
};

/* Record the identity of a new node.  LT_ECONFLICT if one exists. */
enum lt_code sync_self_create(struct store_conn *c, const uint8_t pk[SYNC_PK_BYTES],
                              const char *parent_url, struct lt_error *err);

/* Read it.  *found false for a node made before sync existed. */
enum lt_code sync_self_get(struct store_conn *c, struct sync_self *out, bool *found,
                           struct lt_error *err);

/* Change the parent URL (NULL or "": none). */
enum lt_code sync_self_set_url(struct store_conn *c, const char *url, struct lt_error *err);

/* Record the parent this node is enrolled with (and its URL). */
enum lt_code sync_self_set_parent(struct store_conn *c, const char *url, const char *origin,
                                  const char *unit, const uint8_t pk[SYNC_PK_BYTES], int64_t now_ms,
                                  struct lt_error *err);

/* The position a parent acknowledged (0 if never). */
enum lt_code sync_upstream_get(struct store_conn *c, const char *parent, int64_t *acked,
                               struct lt_error *err);
enum lt_code sync_upstream_set(struct store_conn *c, const char *parent, int64_t acked,
                               int64_t now_ms, struct lt_error *err);

/* An origin whose events this node can verify. */
struct sync_known {
    char origin[EVLOG_ORIGIN_MAX];
    char unit[UNIT_CODE_MAX];
    uint8_t pk[SYNC_PK_BYTES];
    char enrolled_by[EVLOG_ORIGIN_MAX];
};

enum lt_code sync_known_get(struct store_conn *c, const char *origin, struct sync_known *out,
                            bool *found, struct lt_error *err);

/*
 * Learn an origin's key from an enrolment event at log position pos.  The
 * same key again changes nothing; LT_ECONFLICT if the origin is known
 * with another key or unit (keys are pinned for life).
 */
enum lt_code sync_known_learn(struct store_conn *c, const struct sync_known *k, int64_t pos,
                              struct lt_error *err);

/* A child enrolled here, as its row stands. */
struct sync_child {
    char origin[EVLOG_ORIGIN_MAX];
    char unit[UNIT_CODE_MAX];
    int64_t enrolled_ms;
    int64_t acked;         /* the child's log position acknowledged to it */
    int64_t reported_head; /* the child's head at its last contact */
    int64_t pending_ms;    /* its oldest event not yet here, at last contact; 0: none */
    int64_t last_contact_ms;
    int64_t batches, events, duplicates, refused;
    char last_refusal[SYNC_REASON_MAX];
    int64_t last_refusal_ms;
};

enum lt_code sync_child_get(struct store_conn *c, const char *origin, struct sync_child *out,
                            bool *found, struct lt_error *err);

/* A new child (LT_ECONFLICT if the origin is enrolled already). */
enum lt_code sync_child_add(struct store_conn *c, const char *origin, const char *unit,
                            int64_t now_ms, struct lt_error *err);

/* Write back the cursor, report and counters of ch. */
enum lt_code sync_child_put(struct store_conn *c, const struct sync_child *ch,
                            struct lt_error *err);

typedef enum lt_code (*sync_child_fn)(const struct sync_child *ch, void *arg, struct lt_error *err);

/* Every child, by origin. */
enum lt_code sync_children_each(struct store_conn *c, sync_child_fn fn, void *arg,
                                struct lt_error *err);

/* A one-time enrolment token as stored. */
struct sync_token {
    char unit[UNIT_CODE_MAX];
    int64_t created_ms, expires_ms, used_ms;
    char used_by[EVLOG_ORIGIN_MAX]; /* "" while unused */
};

enum lt_code sync_token_add(struct store_conn *c, const uint8_t hash[32], const char *unit,
                            int64_t created_ms, int64_t expires_ms, struct lt_error *err);
enum lt_code sync_token_get(struct store_conn *c, const uint8_t hash[32], struct sync_token *out,
                            bool *found, struct lt_error *err);
enum lt_code sync_token_use(struct store_conn *c, const uint8_t hash[32], const char *origin,
                            int64_t now_ms, struct lt_error *err);

/*
 * Store the signature of an event of this node signed at push time.
 * XXX: interim until evlog_append signs (docs/SYNC.md, "Hooks needed").
 */
enum lt_code sync_event_sig_put(struct store_conn *c, int64_t pos,
                                const uint8_t sig[EVLOG_SIG_BYTES], struct lt_error *err);

#endif
