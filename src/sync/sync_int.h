/*
 * sync_int.h - the sync object, shared by sync.c (the thread) and
 * routes.c (the HTTP side).  Not for use outside src/sync.
 *
 * Locking: mu guards up and the counters; wake_mu guards commit_seq;
 * everything else is set before the thread and the server start and only
 * read afterwards, except flags, which only the sync thread touches.
 */
#ifndef LT_SYNC_INT_H
#define LT_SYNC_INT_H

#include <limits.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdint.h>

#include "sync/keys.h"
#include "sync/state.h"
#include "sync/sync.h"

/* What the sync thread knows of the way up, for status reports. */
struct upstream {
    bool enrolled;
    char url[SYNC_URL_MAX];
    char parent_origin[EVLOG_ORIGIN_MAX];
    char parent_unit[UNIT_CODE_MAX];
    int64_t acked;      /* the position the parent acknowledged */
    bool connected;     /* the last request was answered */
    int64_t last_ok_ms; /* wall time of the last accepted push */
    int64_t sent_ms;    /* wall time the push in flight was sent; 0: none in flight */
    char last_error[LT_ERROR_MESSAGE_MAX];
    int failures; /* in a row */
    uint64_t batches, events_sent;
};

/*
 * A push unanswered for this long counts as a lost connection in the status
 * report, though the request waits on (a parent under load may be slow).
 */
#define SYNC_PUSH_STUCK_MS 15000

/* Whether a child was silent at the last look (sync thread only). */
struct child_flag {
    char origin[EVLOG_ORIGIN_MAX];
    bool silent;
};

struct sync {
    struct node *node;
    struct store *store;
    struct evlog *log;
    const struct units *u;
    char dir[PATH_MAX];
    struct sync_key key;
    char origin[EVLOG_ORIGIN_MAX];
    char unit[UNIT_CODE_MAX];
    struct sync_options opt;

    pthread_t thread;
    bool started;
    atomic_bool stop;
    pthread_mutex_t mu;
    pthread_cond_t cv;

    /* The commit notification (sync.c): wake_mu is never held while
     * calling into the store, as the store's writer takes it. */
    pthread_mutex_t wake_mu;
    pthread_cond_t wake_cv; /* CLOCK_MONOTONIC */
    uint64_t commit_seq;    /* under wake_mu: commits seen by the listener */

    struct upstream up;         /* under mu */
    uint64_t batches_received;  /* under mu: accepted from children */
    uint64_t batches_refused;   /* under mu: refused (bad batch or request) */
    uint64_t cursor_mismatches; /* under mu: replays and resends */

    struct child_flag *flags;
    size_t nflags;

    bool metrics_hooked;    /* sync_metrics_text is appended to GET /metrics */
    struct sync_pull *pull; /* pull down (pull.h) */
};

/* Register the HTTP routes (routes.c). */
void sync_routes_register(struct sync *s, struct http_server *srv);

/*
 * Authenticate a request to path signed by an enrolled child (routes.c):
 * *origin is the node it names (NULL if none).  LT_OK when the signature
 * is that child's; otherwise *refused tells a refusal (answer 403 with err)
 * from a failure of the store (return the code).
 */
enum lt_code sync_child_request(struct sync *s, struct http_request *req, const char *path,
                                const char **origin, bool *refused, struct lt_error *err);

/* The sync series in Prometheus text, appended to m; arg is the struct sync (routes.c). */
enum lt_code sync_metrics_text(struct buf *m, void *arg, struct lt_error *err);

/* Register the conflict inbox's routes over node n (conflict_routes.c). */
void sync_conflict_routes_register(struct node *n, struct http_server *srv);

#endif
