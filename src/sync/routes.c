/*
 * routes.c - the parent side of sync over HTTP, and freshness reports.
 *
 *   POST /sync/v1/push     a signed batch from an enrolled child
 *   POST /sync/v1/enrol    a child enrols with a one-time token
 *   GET  /sync/v1/status   JSON: this node, its way up, each child
 *   GET  /sync/v1/metrics  Prometheus text of the same
 *
 * Design note.  A push is checked in the cheapest order that keeps
 * strangers out early: the sender must be an enrolled child and the
 * request must carry its signature (a reader look-up and one Ed25519
 * check, before the body is parsed); then the batch is decoded strictly
 * (batch.h) and applied in one write (apply.h).  Every refusal is logged
 * at WARNING with the child and the reason, counted, and recorded in the
 * child's row for the status report.  A cursor mismatch is not a refusal:
 * it is answered 409 with the acknowledged position ({"error": ...,
 * "ack": N}) and logged at INFO, as it happens after every restart that
 * lost an answer.
 *
 * Push and enrol are authenticated here, by signature and one-time token;
 * status and metrics need an account, checked by the guard (the access
 * policy, src/auth/policy.c).  GET /metrics belongs to api_registry.c
 * (store counters); the sync series are appended to it through
 * api_registry_set_metrics (sync_metrics_text), and stay at
 * /sync/v1/metrics as well.
 */
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "core/log.h"
#include "sync/apply.h"
#include "sync/batch.h"
#include "sync/conflict.h"
#include "sync/enrol.h"
#include "sync/pull.h"
#include "sync/sync_int.h"
#include "core/banned.h"

#define LOG_COMP  "sync"
#define PUSH_PATH "/sync/v1/push"

static void iso_time(int64_t ms, char out[32])
{
    time_t t = (time_t)(ms / 1000);
    struct tm tm;
    char day[24];

    gmtime_r(&t, &tm);
    strftime(day, sizeof(day), "%Y-%m-%dT%H:%M:%S", &tm);
    snprintf(out, 32, "%s.%03dZ", day, (int)(ms % 1000));
}

static json_t *time_or_null(int64_t ms)
{
    char t[32];

    if (ms <= 0) {
        return json_null();
    }
    iso_time(ms, t);
    return json_string(t);
}

static json_t *age_or_null(int64_t now, int64_t ms)
{
    return ms > 0 ? json_real((double)(now - ms) / 1000.0) : json_null();
}

/* The push. */

struct auth {
    const char *origin;
    struct sync_known key;
    bool found;
};

static enum lt_code auth_fn(struct store_conn *c, void *arg, struct lt_error *err)
{
    struct auth *a = arg;
    struct sync_child ch;
    bool child = false;
    enum lt_code rc = sync_child_get(c, a->origin, &ch, &child, err);

    if (rc == LT_OK && child) {
        rc = sync_known_get(c, a->origin, &a->key, &a->found, err);
    }
    return rc;
}

enum lt_code sync_child_request(struct sync *s, struct http_request *req, const char *path,
                                const char **origin, bool *refused, struct lt_error *err)
{
    struct auth au = { .origin = http_request_header(req, SYNC_HDR_ORIGIN) };
    size_t len = 0;
    const char *body = http_request_body(req, &len);
    enum lt_code rc;

    *origin = NULL;
    *refused = true;
    if (au.origin == NULL || au.origin[0] == '\0' || strlen(au.origin) >= EVLOG_ORIGIN_MAX) {
        return lt_error_set(err, LT_EINVAL, "the request does not name its node in %s",
                            SYNC_HDR_ORIGIN);
    }
    *origin = au.origin;
    rc = store_read(s->store, auth_fn, &au, err);
    if (rc != LT_OK) {
        *refused = false;
        return rc;
    }
    if (!au.found) {
        lt_error_set(err, LT_EINVAL, "node \"%s\" is not enrolled here", au.origin);
        lt_error_hint(err, "enrol it: lienthong enrol --child-unit CODE on this node");
        return LT_EINVAL;
    }
    rc = sync_check_request(au.key.pk, "POST", path, au.origin,
                            http_request_header(req, SYNC_HDR_TIME),
                            http_request_header(req, SYNC_HDR_SIG), body, len, sync_now_ms(), err);
    *refused = rc != LT_OK;
    return rc;
}

struct apply_ctx {
    struct sync *s;
    struct sync_batch *b;
    struct sync_apply_result res;
    int64_t now;
};

static enum lt_code apply_fn(struct store_conn *c, void *arg, struct lt_error *err)
{
    struct apply_ctx *a = arg;

    return sync_apply_batch(a->s->node, c, a->b, a->now, &a->res, err);
}

struct refusal {
    const char *origin;
    const struct lt_error *why;
};

static enum lt_code refusal_fn(struct store_conn *c, void *arg, struct lt_error *err)
{
    const struct refusal *r = arg;

    return sync_note_refusal(c, r->origin, r->why, sync_now_ms(), err);
}

/* Log, count and record a refused batch; the caller answers. */
static void refuse_batch(struct sync *s, struct http_request *req, const char *origin,
                         const struct lt_error *why, bool record)
{
    struct refusal r = { origin, why };
    struct lt_error err;

    log_warning(LOG_COMP, "refused a batch from %s (%s): %s%s%s", origin, http_request_client(req),
                why->message, why->detail[0] ? "; " : "", why->detail);
    pthread_mutex_lock(&s->mu);
    s->batches_refused++;
    pthread_mutex_unlock(&s->mu);
    if (record && store_write(s->store, refusal_fn, &r, &err) != LT_OK) {
        log_warning(LOG_COMP, "could not record the refusal: %s", err.message);
    }
}

static enum lt_code reply_forbidden(struct sync *s, struct http_request *req, const char *origin,
                                    struct lt_error *err)
{
    refuse_batch(s, req, origin != NULL ? origin : "(unsigned)", err, false);
    return http_reply_error_status(req, 403, err);
}

static enum lt_code reply_applied(struct sync *s, struct http_request *req, const char *origin,
                                  const struct apply_ctx *a, struct lt_error *err)
{
    json_t *body;

    if (a->res.cursor_mismatch) {
        pthread_mutex_lock(&s->mu);
        s->cursor_mismatches++;
        pthread_mutex_unlock(&s->mu);
        log_info(LOG_COMP, "batch from %s starts after %lld, but %lld is acknowledged", origin,
                 (long long)a->b->h.after, (long long)a->res.ack);
        lt_error_set(err, LT_ECONFLICT,
                     "the batch starts after position %lld, but %lld is acknowledged",
                     (long long)a->b->h.after, (long long)a->res.ack);
        lt_error_hint(err, "send the events after the acknowledged position");
        body = http_error_json(err);
        json_object_set_new(body, "ack", json_integer(a->res.ack));
        return http_reply_json(req, 409, body);
    }
    pthread_mutex_lock(&s->mu);
    s->batches_received++;
    pthread_mutex_unlock(&s->mu);
    log_debug(LOG_COMP, "batch from %s: %zu events, %zu new, %zu duplicates; acknowledged %lld",
              origin, a->b->nevents, a->res.applied, a->res.duplicates, (long long)a->res.ack);
    body = json_pack("{s:I, s:I, s:I, s:I}", "ack", (json_int_t)a->res.ack, "applied",
                     (json_int_t)a->res.applied, "duplicates", (json_int_t)a->res.duplicates,
                     "head", (json_int_t)a->res.head);
    return http_reply_json(req, 200, body);
}

/* After a batch committed: the inbox's count, and a line for the operators. */
static void note_conflicts(const char *origin, const struct sync_conflict_tally *t)
{
    sync_conflict_settled(t->closed);
    if (t->opened > 0 || t->joined > 0) {
        log_notice(LOG_COMP,
                   "batch from %s: %zu events based on a stale version set aside, %zu new "
                   "conflicts (GET /api/v1/conflicts)",
                   origin, t->opened + t->joined, t->opened);
    }
    if (t->closed > 0) {
        log_info(LOG_COMP, "batch from %s resolved %zu conflicts", origin, t->closed);
    }
}

static enum lt_code post_push(struct http_request *req, void *ctx, struct lt_error *err)
{
    struct sync *s = ctx;
    const char *origin;
    struct sync_batch b;
    struct apply_ctx a = { .s = s, .b = &b };
    size_t len = 0;
    const char *body = http_request_body(req, &len);
    bool refused;
    enum lt_code rc;

    memset(&b, 0, sizeof(b));
    rc = sync_child_request(s, req, PUSH_PATH, &origin, &refused, err);
    if (rc != LT_OK) {
        return refused ? reply_forbidden(s, req, origin, err) : rc;
    }

    rc = sync_batch_decode(body, len, &b, err);
    if (rc == LT_OK && strcmp(b.h.origin, origin) != 0) {
        rc = lt_error_set(err, LT_EINVAL, "the batch is from \"%s\" but the request from \"%s\"",
                          b.h.origin, origin);
    }
    if (rc == LT_OK) {
        a.now = sync_now_ms();
        rc = store_write(s->store, apply_fn, &a, err);
    }
    if (rc == LT_OK) {
        note_conflicts(origin, &a.res.conflicts);
        rc = reply_applied(s, req, origin, &a, err);
    } else if (rc != LT_EIO && rc != LT_EUNAVAIL && rc != LT_EINTERNAL) {
        refuse_batch(s, req, origin, err, true);
    }
    sync_batch_release(&b);
    return rc;
}

static enum lt_code post_enrol(struct http_request *req, void *ctx, struct lt_error *err)
{
    struct sync *s = ctx;
    size_t len = 0;
    const char *body = http_request_body(req, &len);
    json_t *reply = NULL;
    int status = 400;
    enum lt_code rc;

    rc = sync_enrol_accept(s->node, &s->key, body, len, http_request_header(req, SYNC_HDR_ORIGIN),
                           http_request_header(req, SYNC_HDR_TIME),
                           http_request_header(req, SYNC_HDR_SIG), &reply, &status, err);
    if (rc != LT_OK) {
        log_warning(LOG_COMP, "refused an enrolment from %s: %s", http_request_client(req),
                    err->message);
        return http_reply_error_status(req, status, err);
    }
    log_notice(LOG_COMP, "enrolled child %s (unit %s) from %s",
               json_string_value(json_object_get(reply, "origin")),
               json_string_value(json_object_get(reply, "unit")), http_request_client(req));
    return http_reply_json(req, 200, reply);
}

/* Status. */

struct status {
    struct sync *s;
    int64_t now;
    int64_t head;
    struct sync_self self;
    bool self_found;
    struct upstream up;
    int64_t up_pending_ms; /* the oldest event the parent lacks; 0: none */
    struct sync_child *kids;
    size_t nkids;
    int64_t conflicts_open;
};

static enum lt_code first_event(const struct event *ev, void *arg, struct lt_error *err)
{
    (void)err;
    *(int64_t *)arg = evlog_hlc_ms(ev->hlc);
    return LT_OK;
}

static enum lt_code collect_child(const struct sync_child *ch, void *arg, struct lt_error *err)
{
    struct status *st = arg;

    (void)err;
    st->kids = xrealloc(st->kids, (st->nkids + 1) * sizeof(*st->kids));
    st->kids[st->nkids++] = *ch;
    return LT_OK;
}

static enum lt_code gather(struct store_conn *c, void *arg, struct lt_error *err)
{
    struct status *st = arg;
    enum lt_code rc = evlog_head(c, &st->head, err);

    if (rc == LT_OK) {
        rc = sync_self_get(c, &st->self, &st->self_found, err);
    }
    if (rc == LT_OK && st->up.enrolled && st->head > st->up.acked) {
        rc = evlog_scan(c, st->up.acked, 1, first_event, &st->up_pending_ms, err);
    }
    if (rc == LT_OK) {
        rc = sync_children_each(c, collect_child, st, err);
    }
    if (rc == LT_OK) {
        rc = sync_conflict_count_open(c, &st->conflicts_open, err);
    }
    return rc;
}

/* A snapshot of everything a report shows; free st->kids after. */
static enum lt_code read_status(struct sync *s, struct status *st, struct lt_error *err)
{
    memset(st, 0, sizeof(*st));
    st->s = s;
    pthread_mutex_lock(&s->mu);
    st->up = s->up;
    pthread_mutex_unlock(&s->mu);
    st->now = sync_now_ms();
    if (st->up.sent_ms > 0 && st->now - st->up.sent_ms > SYNC_PUSH_STUCK_MS) {
        st->up.connected = false; /* a parent that takes a request and never answers */
    }
    return store_read(s->store, gather, st, err);
}

static int64_t child_since(const struct sync_child *ch)
{
    return ch->last_contact_ms ? ch->last_contact_ms : ch->enrolled_ms;
}

static bool child_silent(const struct status *st, const struct sync_child *ch)
{
    return st->now - child_since(ch) > st->s->opt.silent_after_ms;
}

static int64_t child_backlog(const struct sync_child *ch)
{
    return ch->reported_head > ch->acked ? ch->reported_head - ch->acked : 0;
}

static double seconds_since(int64_t now, int64_t ms)
{
    return ms > 0 && now > ms ? (double)(now - ms) / 1000.0 : 0.0;
}

static json_t *child_json(const struct status *st, const struct sync_child *ch)
{
    return json_pack(
        "{s:s, s:s, s:o, s:I, s:I, s:I, s:f, s:o, s:o, s:b, s:I, s:I, s:I, s:I, "
        "s:o, s:o}",
        "origin", ch->origin, "unit", ch->unit, "enrolled", time_or_null(ch->enrolled_ms), "acked",
        (json_int_t)ch->acked, "reported_head", (json_int_t)ch->reported_head, "backlog_events",
        (json_int_t)child_backlog(ch), "backlog_seconds", seconds_since(st->now, ch->pending_ms),
        "last_contact", time_or_null(ch->last_contact_ms), "seconds_since_contact",
        age_or_null(st->now, ch->last_contact_ms), "silent", child_silent(st, ch), "batches",
        (json_int_t)ch->batches, "events", (json_int_t)ch->events, "duplicates",
        (json_int_t)ch->duplicates, "refused", (json_int_t)ch->refused, "last_refusal",
        ch->last_refusal[0] ? json_string(ch->last_refusal) : json_null(), "last_refusal_at",
        time_or_null(ch->last_refusal_ms));
}

static int64_t up_backlog(const struct status *st)
{
    return st->head > st->up.acked ? st->head - st->up.acked : 0;
}

static json_t *upstream_json(const struct status *st)
{
    if (!st->up.enrolled) {
        if (st->self.parent_url[0] == '\0') {
            return json_null();
        }
        return json_pack("{s:s, s:b}", "parent_url", st->self.parent_url, "enrolled", 0);
    }
    return json_pack("{s:s, s:s, s:s, s:b, s:b, s:o, s:I, s:I, s:f, s:o, s:o, s:o, s:i, s:I, s:I}",
                     "parent_url", st->up.url, "parent_origin", st->up.parent_origin, "parent_unit",
                     st->up.parent_unit, "enrolled", 1, "connected", st->up.connected,
                     "waiting_seconds", age_or_null(st->now, st->up.sent_ms), "acked",
                     (json_int_t)st->up.acked, "backlog_events", (json_int_t)up_backlog(st),
                     "backlog_seconds", seconds_since(st->now, st->up_pending_ms), "last_ack",
                     time_or_null(st->up.last_ok_ms), "seconds_since_ack",
                     age_or_null(st->now, st->up.last_ok_ms), "last_error",
                     st->up.last_error[0] ? json_string(st->up.last_error) : json_null(),
                     "failures", st->up.failures, "batches", (json_int_t)st->up.batches,
                     "events_sent", (json_int_t)st->up.events_sent);
}

static enum lt_code get_status(struct http_request *req, void *ctx, struct lt_error *err)
{
    struct sync *s = ctx;
    struct status st;
    char pk[SYNC_PK_HEX];
    json_t *body, *kids;
    enum lt_code rc = read_status(s, &st, err);

    if (rc != LT_OK) {
        free(st.kids);
        return rc;
    }
    kids = json_array();
    for (size_t i = 0; i < st.nkids; i++) {
        json_array_append_new(kids, child_json(&st, &st.kids[i]));
    }
    free(st.kids);
    sync_hex(s->key.pk, sizeof(s->key.pk), pk);
    pthread_mutex_lock(&s->mu);
    body = json_pack("{s:{s:s, s:s, s:s, s:I, s:o}, s:o, s:o, s:f, s:{s:I, s:I, s:I}, s:I}", "node",
                     "origin", s->origin, "unit", s->unit, "public_key", pk, "head",
                     (json_int_t)st.head, "time", time_or_null(st.now), "upstream",
                     upstream_json(&st), "children", kids, "silent_after_seconds",
                     (double)s->opt.silent_after_ms / 1000.0, "received", "batches",
                     (json_int_t)s->batches_received, "refused", (json_int_t)s->batches_refused,
                     "cursor_mismatches", (json_int_t)s->cursor_mismatches, "conflicts_open",
                     (json_int_t)st.conflicts_open);
    pthread_mutex_unlock(&s->mu);
    json_object_set_new(body, "pull", sync_pull_status(s));
    return http_reply_json(req, 200, body);
}

/* Metrics, in the Prometheus text format (version 0.0.4). */

static void family(struct buf *m, const char *name, const char *type, const char *help)
{
    buf_printf(m, "# HELP %s %s\n# TYPE %s %s\n", name, help, name, type);
}

static void sample(struct buf *m, const char *name, const char *labels, double v)
{
    buf_printf(m, "%s%s %.17g\n", name, labels, v);
}

/* One family over every child. */
static void child_family(struct buf *m, const struct status *st, const char *name, const char *type,
                         const char *help,
                         double (*value)(const struct status *st, const struct sync_child *ch))
{
    char labels[128];

    if (st->nkids == 0) {
        return;
    }
    family(m, name, type, help);
    for (size_t i = 0; i < st->nkids; i++) {
        const struct sync_child *ch = &st->kids[i];

        snprintf(labels, sizeof(labels), "{child=\"%s\",unit=\"%s\"}", ch->origin, ch->unit);
        sample(m, name, labels, value(st, ch));
    }
}

static double v_backlog(const struct status *st, const struct sync_child *ch)
{
    (void)st;
    return (double)child_backlog(ch);
}

static double v_backlog_s(const struct status *st, const struct sync_child *ch)
{
    return seconds_since(st->now, ch->pending_ms);
}

static double v_contact(const struct status *st, const struct sync_child *ch)
{
    return seconds_since(st->now, child_since(ch));
}

static double v_silent(const struct status *st, const struct sync_child *ch)
{
    return child_silent(st, ch) ? 1 : 0;
}

static double v_events(const struct status *st, const struct sync_child *ch)
{
    (void)st;
    return (double)ch->events;
}

static double v_refused(const struct status *st, const struct sync_child *ch)
{
    (void)st;
    return (double)ch->refused;
}

static void upstream_metrics(struct buf *m, const struct status *st)
{
    if (!st->up.enrolled) {
        return;
    }
    family(m, "lienthong_sync_upstream_backlog_events", "gauge",
           "Events of this log the parent has not acknowledged.");
    sample(m, "lienthong_sync_upstream_backlog_events", "", (double)up_backlog(st));
    family(m, "lienthong_sync_upstream_backlog_seconds", "gauge",
           "Age of the oldest event the parent has not acknowledged.");
    sample(m, "lienthong_sync_upstream_backlog_seconds", "",
           seconds_since(st->now, st->up_pending_ms));
    family(m, "lienthong_sync_upstream_connected", "gauge",
           "1 if the last request to the parent was answered and none has waited over 15 s.");
    sample(m, "lienthong_sync_upstream_connected", "", st->up.connected ? 1 : 0);
    family(m, "lienthong_sync_upstream_events_total", "counter",
           "Events sent to the parent and acknowledged.");
    sample(m, "lienthong_sync_upstream_events_total", "", (double)st->up.events_sent);
}

static void log_metrics(struct buf *m, const struct status *st)
{
    family(m, "lienthong_log_head_position", "gauge", "Position of the last event of the log.");
    sample(m, "lienthong_log_head_position", "", (double)st->head);
}

enum lt_code sync_metrics_text(struct buf *m, void *arg, struct lt_error *err)
{
    struct sync *s = arg;
    struct status st;
    uint64_t received, refused;
    enum lt_code rc = read_status(s, &st, err);

    if (rc != LT_OK) {
        free(st.kids);
        return rc;
    }
    log_metrics(m, &st);
    upstream_metrics(m, &st);
    child_family(m, &st, "lienthong_sync_child_backlog_events", "gauge",
                 "Events a child had not sent yet at its last contact.", v_backlog);
    child_family(m, &st, "lienthong_sync_child_backlog_seconds", "gauge",
                 "Age of the oldest event a child had not sent at its last contact.", v_backlog_s);
    child_family(m, &st, "lienthong_sync_child_last_contact_age_seconds", "gauge",
                 "Seconds since a child was last heard from (since enrolment if never).",
                 v_contact);
    child_family(m, &st, "lienthong_sync_child_silent", "gauge",
                 "1 if a child has been silent longer than the threshold.", v_silent);
    child_family(m, &st, "lienthong_sync_child_events_total", "counter",
                 "Events received from a child that were new here.", v_events);
    child_family(m, &st, "lienthong_sync_child_refused_batches_total", "counter",
                 "Batches from a child refused.", v_refused);
    family(m, "lienthong_sync_silent_after_seconds", "gauge",
           "A child not heard from for longer than this is flagged silent (serve --silent-after).");
    sample(m, "lienthong_sync_silent_after_seconds", "", (double)s->opt.silent_after_ms / 1000.0);
    pthread_mutex_lock(&s->mu);
    received = s->batches_received;
    refused = s->batches_refused;
    pthread_mutex_unlock(&s->mu);
    family(m, "lienthong_sync_batches_received_total", "counter",
           "Batches from children applied since start.");
    sample(m, "lienthong_sync_batches_received_total", "", (double)received);
    family(m, "lienthong_sync_batches_refused_total", "counter",
           "Batches and requests from below refused since start.");
    sample(m, "lienthong_sync_batches_refused_total", "", (double)refused);
    family(m, "lienthong_conflicts_open", "gauge",
           "Changes from below based on a stale version, waiting in the conflict inbox.");
    sample(m, "lienthong_conflicts_open", "", (double)st.conflicts_open);
    free(st.kids);
    return LT_OK;
}

static enum lt_code get_metrics(struct http_request *req, void *ctx, struct lt_error *err)
{
    struct buf m;
    enum lt_code rc;

    buf_init(&m, (size_t)16 << 20);
    rc = sync_metrics_text(&m, ctx, err);
    if (rc == LT_OK) {
        rc = http_reply_text(req, 200, "text/plain; version=0.0.4; charset=utf-8", buf_str(&m),
                             m.len);
    }
    buf_release(&m);
    return rc;
}

void sync_routes_register(struct sync *s, struct http_server *srv)
{
    http_server_route(srv, "POST", PUSH_PATH, post_push, s);
    sync_pull_routes_register(s, srv);
    http_server_route(srv, "POST", "/sync/v1/enrol", post_enrol, s);
    http_server_route(srv, "GET", "/sync/v1/status", get_status, s);
    http_server_route(srv, "GET", "/sync/v1/metrics", get_metrics, s);
}
