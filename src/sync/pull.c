/*
 * pull.c - pull down over HTTP: the parent's route, the child's puller.
 *
 * Design note.  The parent side is stateless but for reports: a pull is
 * authenticated like a push (an enrolled child's signature, before the
 * body is read), then answered from one read of the log
 * (sync_pull_collect).  An answer with nothing in it is not sent while
 * the child agreed to wait: the request moves to the server's blocking
 * pool and looks again, from where the last look ended, each time a
 * commit wakes it, until it has something or its time is up.  Nothing is
 * written for a pull, so a refused one changes nothing.
 *
 * The child side is one thread, like the pusher: read the sync identity
 * and the cursor every second, pull, check the answer's signature against
 * the parent's pinned key, apply it in one write (pull_apply.h), and pull
 * again at once while the parent has more, or with a wait once caught up.
 * Failures back off from 100 ms to the pusher's maximum, with jitter.
 *
 * XXX: a signed pull replayed within the clock window is answered again: keep the link on TLS.
 * XXX: each waiting pull selects the new events for itself: the work grows with the children.
 */
#include "sync/pull.h"

#include <sodium.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "core/log.h"
#include "sync/client.h"
#include "sync/pull_batch.h"
#include "sync/sync_int.h"
#include "core/banned.h"

#define LOG_COMP       "sync"
#define CONFIG_MS      1000
#define RETRY_FIRST_MS 100
#define WATCH_MS       2
#define NONCE_BYTES    16
#define ANSWER_TAG     "lienthong.pull.answer.v1\n"

/* What the child knows of its pulls (under mu). */
struct downstream {
    bool enrolled;
    char url[SYNC_URL_MAX];
    char parent_origin[EVLOG_ORIGIN_MAX];
    int64_t cursor;      /* the parent's log position pulled up to */
    int64_t parent_head; /* at the last answer */
    bool connected;
    int64_t last_ok_ms;
    char last_error[LT_ERROR_MESSAGE_MAX];
    int failures;
    uint64_t answers, events, duplicates;
};

/* What a parent saw of a child's last pull (under mu), for reports. */
struct pull_seen {
    char origin[EVLOG_ORIGIN_MAX];
    int64_t cursor, through;
    int64_t last_ms;
    uint64_t answers, events;
};

struct sync_pull {
    struct sync *s;
    pthread_mutex_t mu;
    pthread_cond_t commit_cv; /* a commit, or stop: waiting pulls look again */
    pthread_cond_t watch_cv;  /* a pull starts waiting: the watcher wakes */
    pthread_cond_t stop_cv;   /* stopping: the puller's naps end */
    bool stopping;

    /* The parent side. */
    uint64_t commits; /* the store's commit counter as the watcher last saw it */
    int waiters;
    bool watching;
    pthread_t watcher;
    struct pull_seen *seen;
    size_t nseen;
    uint64_t answered, refused, busy;

    /* The child side. */
    bool pulling;
    pthread_t thread;
    struct downstream down;
    void (*on_reference)(void *arg);
    void *on_reference_arg;
};

static int64_t mono_ms(void)
{
    struct timespec ts;

    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* An absolute CLOCK_REALTIME time ms from now, for pthread_cond_timedwait. */
static struct timespec in_ms(int64_t ms)
{
    struct timespec ts;

    clock_gettime(CLOCK_REALTIME, &ts);
    ts.tv_sec += ms / 1000;
    ts.tv_nsec += (ms % 1000) * 1000000;
    if (ts.tv_nsec >= 1000000000) {
        ts.tv_sec++;
        ts.tv_nsec -= 1000000000;
    }
    return ts;
}

/* Sleep up to ms unless stopping (p->mu not held). */
static void nap(struct sync_pull *p, int64_t ms)
{
    struct timespec ts;

    if (ms <= 0) {
        return;
    }
    ts = in_ms(ms);
    pthread_mutex_lock(&p->mu);
    if (!p->stopping) {
        pthread_cond_timedwait(&p->stop_cv, &p->mu, &ts);
    }
    pthread_mutex_unlock(&p->mu);
}

/* Signing answers. */

static void answer_digest(const char *origin, const char *nonce, const char *body, size_t len,
                          struct buf *msg)
{
    uint8_t h[32];
    char hex[65];

    crypto_generichash(h, sizeof(h), (const unsigned char *)body, len, NULL, 0);
    sync_hex(h, sizeof(h), hex);
    buf_init(msg, 1024);
    if (buf_printf(msg, ANSWER_TAG "%s\n%s\n%s", origin, nonce, hex) != LT_OK) {
        BUG("pull answer digest over 1 KiB");
    }
}

void sync_pull_sign_answer(const struct sync_key *k, const char *origin, const char *nonce,
                           const char *body, size_t len, char out[SYNC_SIG_HEX])
{
    uint8_t sig[crypto_sign_BYTES];
    struct buf msg;

    answer_digest(origin, nonce, body, len, &msg);
    crypto_sign_detached(sig, NULL, (const unsigned char *)msg.data, msg.len, k->sk);
    sync_hex(sig, sizeof(sig), out);
    buf_release(&msg);
}

bool sync_pull_answer_ok(const uint8_t pk[SYNC_PK_BYTES], const char *origin, const char *nonce,
                         const char *body, size_t len, const char *sig_hex)
{
    uint8_t sig[crypto_sign_BYTES];
    struct buf msg;
    bool ok;

    if (sig_hex == NULL || !sync_unhex(sig_hex, sig, sizeof(sig))) {
        return false;
    }
    answer_digest(origin, nonce, body, len, &msg);
    ok = crypto_sign_verify_detached(sig, (const unsigned char *)msg.data, msg.len, pk) == 0;
    buf_release(&msg);
    return ok;
}

/* The parent side: the watcher. */

static void *watch_main(void *arg)
{
    struct sync_pull *p = arg;
    struct store_stats st;
    struct timespec ts;

    pthread_mutex_lock(&p->mu);
    while (!p->stopping) {
        if (p->waiters == 0) {
            pthread_cond_wait(&p->watch_cv, &p->mu);
            continue;
        }
        pthread_mutex_unlock(&p->mu);
        store_stats(p->s->store, &st);
        pthread_mutex_lock(&p->mu);
        if (st.commits != p->commits) {
            p->commits = st.commits;
            pthread_cond_broadcast(&p->commit_cv);
        }
        ts = in_ms(WATCH_MS);
        pthread_cond_timedwait(&p->watch_cv, &p->mu, &ts);
    }
    pthread_mutex_unlock(&p->mu);
    return NULL;
}

/* The parent side: a pull. */

struct pull_req {
    struct sync *s;
    char origin[EVLOG_ORIGIN_MAX];
    char nonce[SYNC_PULL_NONCE_HEX];
    int64_t after;
    int wait;       /* seconds */
    bool waiter;    /* holds a waiting slot */
    bool come_back; /* could not wait: tell the child when to come back */
};

struct collect_ctx {
    struct sync *s;
    const struct pull_req *r;
    char parent_origin[EVLOG_ORIGIN_MAX];
    struct sync_pull_answer *a;
};

static enum lt_code collect_fn(struct store_conn *c, void *arg, struct lt_error *err)
{
    struct collect_ctx *x = arg;

    return sync_pull_collect(x->s->node, c, &x->s->key, x->parent_origin, x->r->origin, x->a, err);
}

static void note_answer(struct sync_pull *p, const struct pull_req *r,
                        const struct sync_pull_answer *a)
{
    struct pull_seen *ps = NULL;

    pthread_mutex_lock(&p->mu);
    for (size_t i = 0; i < p->nseen && ps == NULL; i++) {
        if (strcmp(p->seen[i].origin, r->origin) == 0) {
            ps = &p->seen[i];
        }
    }
    if (ps == NULL) {
        p->seen = xrealloc(p->seen, (p->nseen + 1) * sizeof(*p->seen));
        ps = &p->seen[p->nseen++];
        memset(ps, 0, sizeof(*ps));
        snprintf(ps->origin, sizeof(ps->origin), "%s", r->origin);
    }
    ps->cursor = a->after;
    ps->through = a->through;
    ps->last_ms = sync_now_ms();
    ps->answers++;
    ps->events += a->nevents;
    p->answered++;
    pthread_mutex_unlock(&p->mu);
}

static enum lt_code reply_answer(struct http_request *req, struct pull_req *r,
                                 struct sync_pull_answer *a)
{
    char sig[SYNC_SIG_HEX];

    sync_pull_sign_answer(&r->s->key, r->s->origin, r->nonce, a->text.data, a->text.len, sig);
    http_reply_header(req, SYNC_HDR_ORIGIN, r->s->origin);
    http_reply_header(req, SYNC_HDR_SIG, sig);
    if (r->come_back) {
        http_reply_header(req, "Retry-After", "1");
    }
    log_debug(LOG_COMP,
              "pull from %s after %lld: %zu events (%zu histories) of %zu looked at, through %lld "
              "of %lld",
              r->origin, (long long)a->after, a->nevents, a->histories, a->scanned,
              (long long)a->through, (long long)a->head);
    note_answer(r->s->pull, r, a);
    return http_reply_buf(req, 200, "application/json; charset=utf-8", &a->text);
}

static enum lt_code reply_failed(struct http_request *req, struct pull_req *r,
                                 const struct sync_pull_answer *a, enum lt_code rc,
                                 struct lt_error *err)
{
    json_t *body;

    if (rc == LT_ECONFLICT) {
        /* The cursor is past our head: the child resets it (docs/SYNC.md). */
        log_warning(LOG_COMP, "pull from %s: %s", r->origin, err->message);
        body = http_error_json(err);
        json_object_set_new(body, "head", json_integer(a->head));
        return http_reply_json(req, 409, body);
    }
    if (rc == LT_ENOTFOUND) {
        return http_reply_error_status(req, 403, err);
    }
    log_error(LOG_COMP, "could not answer a pull from %s: %s%s%s", r->origin, err->message,
              err->detail[0] ? ": " : "", err->detail);
    return rc;
}

/* Wait for a commit or the deadline (monotonic); false when stopping. */
static bool wait_commit(struct sync_pull *p, uint64_t seen, int64_t deadline)
{
    bool go_on;

    pthread_mutex_lock(&p->mu);
    while (!p->stopping && p->commits == seen && mono_ms() < deadline) {
        struct timespec ts = in_ms(deadline - mono_ms());

        pthread_cond_timedwait(&p->commit_cv, &p->mu, &ts);
    }
    go_on = !p->stopping;
    pthread_mutex_unlock(&p->mu);
    return go_on;
}

static uint64_t commits_now(struct sync_pull *p)
{
    uint64_t c;

    pthread_mutex_lock(&p->mu);
    c = p->commits;
    pthread_mutex_unlock(&p->mu);
    return c;
}

/* Answer r: look, and while there is nothing and time is left, wait and look again. */
static enum lt_code answer_pull(struct http_request *req, void *arg, struct lt_error *err)
{
    struct pull_req *r = arg;
    struct sync_pull *p = r->s->pull;
    struct sync_pull_answer a;
    struct collect_ctx x = { .s = r->s, .r = r, .a = &a };
    int64_t deadline = mono_ms() + (int64_t)r->wait * 1000;
    enum lt_code rc;

    pthread_mutex_lock(&r->s->mu);
    snprintf(x.parent_origin, sizeof(x.parent_origin), "%s", r->s->up.parent_origin);
    pthread_mutex_unlock(&r->s->mu);
    sync_pull_answer_init(&a);
    a.after = r->after;
    a.through = r->after;
    for (;;) {
        uint64_t seen = commits_now(p);

        rc = store_read(r->s->store, collect_fn, &x, err);
        if (rc != LT_OK || a.nevents > 0 || a.through < a.head || mono_ms() >= deadline ||
            !wait_commit(p, seen, deadline)) {
            break;
        }
    }
    if (r->waiter) {
        pthread_mutex_lock(&p->mu);
        p->waiters--;
        pthread_mutex_unlock(&p->mu);
    }
    rc = rc == LT_OK ? reply_answer(req, r, &a) : reply_failed(req, r, &a, rc, err);
    sync_pull_answer_release(&a);
    free(r);
    return rc;
}

/* The request: {"v":1,"after":N,"wait":S,"nonce":"<32 hex>"}, strictly. */
static enum lt_code read_request(const char *body, size_t len, struct pull_req *r,
                                 struct lt_error *err)
{
    json_error_t jerr;
    json_t *j = json_loadb(body, len, JSON_REJECT_DUPLICATES, &jerr);
    json_t *v = json_object_get(j, "v"), *after = json_object_get(j, "after");
    json_t *wait = json_object_get(j, "wait"), *nonce = json_object_get(j, "nonce");
    uint8_t raw[NONCE_BYTES];
    enum lt_code rc = LT_OK;

    if (!json_is_object(j) || json_object_size(j) != 4 || !json_is_integer(v) ||
        json_integer_value(v) != SYNC_PULL_VERSION || !json_is_integer(after) ||
        json_integer_value(after) < 0 || !json_is_integer(wait) || json_integer_value(wait) < 0 ||
        json_integer_value(wait) > SYNC_PULL_WAIT_MAX || !json_is_string(nonce) ||
        json_string_length(nonce) != 2 * NONCE_BYTES ||
        !sync_unhex(json_string_value(nonce), raw, sizeof(raw))) {
        rc = lt_error_set(err, LT_EINVAL, "the pull request is malformed");
        lt_error_detail(err,
                        "expected {\"v\": %d, \"after\": position, \"wait\": 0..%d seconds, "
                        "\"nonce\": 32 hex digits}",
                        SYNC_PULL_VERSION, SYNC_PULL_WAIT_MAX);
    } else {
        r->after = json_integer_value(after);
        r->wait = (int)json_integer_value(wait);
        snprintf(r->nonce, sizeof(r->nonce), "%s", json_string_value(nonce));
    }
    json_decref(j);
    return rc;
}

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

static enum lt_code refuse_pull(struct sync *s, struct http_request *req, const char *origin,
                                int status, struct lt_error *err)
{
    log_warning(LOG_COMP, "refused a pull from %s (%s): %s%s%s",
                origin != NULL ? origin : "(unsigned)", http_request_client(req), err->message,
                err->detail[0] ? "; " : "", err->detail);
    pthread_mutex_lock(&s->pull->mu);
    s->pull->refused++;
    pthread_mutex_unlock(&s->pull->mu);
    return http_reply_error_status(req, status, err);
}

/* May r wait?  Takes a waiting slot if so. */
static void take_slot(struct sync_pull *p, struct pull_req *r)
{
    if (r->wait == 0) {
        return;
    }
    pthread_mutex_lock(&p->mu);
    if (p->stopping || !p->watching) {
        r->wait = 0;
    } else if (p->waiters >= SYNC_PULL_WAITERS) {
        r->wait = 0;
        r->come_back = true;
        p->busy++;
    } else {
        p->waiters++;
        r->waiter = true;
        pthread_cond_signal(&p->watch_cv);
    }
    pthread_mutex_unlock(&p->mu);
}

static enum lt_code post_pull(struct http_request *req, void *ctx, struct lt_error *err)
{
    struct sync *s = ctx;
    struct auth au = { .origin = http_request_header(req, SYNC_HDR_ORIGIN) };
    struct pull_req *r;
    size_t len = 0;
    const char *body = http_request_body(req, &len);
    enum lt_code rc;

    if (au.origin == NULL || au.origin[0] == '\0' || strlen(au.origin) >= EVLOG_ORIGIN_MAX) {
        lt_error_set(err, LT_EINVAL, "the request does not name its node in %s", SYNC_HDR_ORIGIN);
        return refuse_pull(s, req, NULL, 403, err);
    }
    rc = store_read(s->store, auth_fn, &au, err);
    if (rc != LT_OK) {
        return rc;
    }
    if (!au.found) {
        lt_error_set(err, LT_EINVAL, "node \"%s\" is not enrolled here", au.origin);
        lt_error_hint(err, "enrol it: lienthong enrol --child-unit CODE on this node");
        return refuse_pull(s, req, au.origin, 403, err);
    }
    rc = sync_check_request(au.key.pk, "POST", SYNC_PULL_PATH, au.origin,
                            http_request_header(req, SYNC_HDR_TIME),
                            http_request_header(req, SYNC_HDR_SIG), body, len, sync_now_ms(), err);
    if (rc != LT_OK) {
        return refuse_pull(s, req, au.origin, 403, err);
    }
    r = xcalloc(1, sizeof(*r));
    r->s = s;
    snprintf(r->origin, sizeof(r->origin), "%s", au.origin);
    rc = read_request(body, len, r, err);
    if (rc != LT_OK) {
        free(r);
        return refuse_pull(s, req, au.origin, 400, err);
    }
    /* Even an answer given at once reads up to SYNC_PULL_SCAN_MAX events: not on a worker. */
    take_slot(s->pull, r);
    http_request_defer(req, answer_pull, r);
    return LT_OK;
}

void sync_pull_routes_register(struct sync *s, struct http_server *srv)
{
    http_server_route(srv, "POST", SYNC_PULL_PATH, post_pull, s);
}

/* The child side. */

struct puller {
    struct sync_client *cl;
    struct buf reply;
    struct sync_self self;
    int64_t cursor;
    bool caught_up;
    int64_t backoff_ms;
    int64_t next_try; /* monotonic; 0: now */
    int64_t catchup_start;
    uint64_t catchup_events;
    bool warned_past;
};

struct config_read {
    struct sync_self self;
    bool found;
    struct sync_pull_cursor cur;
};

static enum lt_code config_fn(struct store_conn *c, void *arg, struct lt_error *err)
{
    struct config_read *cr = arg;
    enum lt_code rc = sync_self_get(c, &cr->self, &cr->found, err);

    if (rc == LT_OK && cr->found && cr->self.enrolled) {
        rc = sync_pull_cursor_get(c, cr->self.parent_origin, &cr->cur, err);
    }
    return rc;
}

static void load_config(struct sync_pull *p, struct puller *pl)
{
    struct config_read cr;
    struct lt_error err;

    memset(&cr, 0, sizeof(cr));
    if (store_read(p->s->store, config_fn, &cr, &err) != LT_OK) {
        log_warning(LOG_COMP, "could not read the pull configuration: %s", err.message);
        return;
    }
    if (!cr.found || !cr.self.enrolled) {
        return;
    }
    if (pl->cl != NULL && strcmp(pl->self.parent_origin, cr.self.parent_origin) == 0 &&
        strcmp(pl->self.parent_url, cr.self.parent_url) == 0) {
        return;
    }
    pl->self = cr.self;
    pl->cursor = cr.cur.cursor;
    pl->caught_up = false;
    pl->next_try = 0;
    pl->backoff_ms = 0;
    sync_client_free(pl->cl);
    pl->cl = sync_client_new(cr.self.parent_url, &p->s->key, p->s->origin, &p->s->stop,
                             (SYNC_PULL_WAIT_MAX + 30) * 1000L);
    pthread_mutex_lock(&p->mu);
    p->down.enrolled = true;
    snprintf(p->down.url, sizeof(p->down.url), "%s", cr.self.parent_url);
    snprintf(p->down.parent_origin, sizeof(p->down.parent_origin), "%s", cr.self.parent_origin);
    p->down.cursor = cr.cur.cursor;
    p->down.connected = false;
    pthread_mutex_unlock(&p->mu);
    log_notice(LOG_COMP, "pulling from parent %s (%s) at %s after position %lld",
               cr.self.parent_origin, cr.self.parent_unit, cr.self.parent_url,
               (long long)cr.cur.cursor);
}

struct apply_ctx {
    struct sync *s;
    const struct sync_self *self;
    struct sync_pull_reply *r;
    struct sync_pull_applied res;
};

static enum lt_code apply_fn(struct store_conn *c, void *arg, struct lt_error *err)
{
    struct apply_ctx *a = arg;

    return sync_pull_apply(a->s->node, c, a->self, a->r, sync_now_ms(), &a->res, err);
}

/* The parent's refusal or failure, as an error. */
static enum lt_code answer_error(const struct buf *reply, long status, struct lt_error *err)
{
    json_t *j = json_loads(buf_str(reply), 0, NULL);
    json_t *e = json_object_get(j, "error");
    const char *msg = json_string_value(json_object_get(e, "message"));
    const char *detail = json_string_value(json_object_get(e, "detail"));

    lt_error_set(err, status == 503 ? LT_EUNAVAIL : LT_EINVAL,
                 "the parent refused the pull (HTTP %ld): %s", status,
                 msg != NULL ? msg : "no reason given");
    if (detail != NULL) {
        lt_error_detail(err, "%s", detail);
    }
    json_decref(j);
    return err->code;
}

static void pull_failed(struct sync_pull *p, struct puller *pl, const struct lt_error *why)
{
    int failures;
    int64_t jitter;

    pthread_mutex_lock(&p->mu);
    failures = ++p->down.failures;
    p->down.connected = why->code != LT_EUNAVAIL && p->down.connected;
    snprintf(p->down.last_error, sizeof(p->down.last_error), "%s", why->message);
    pthread_mutex_unlock(&p->mu);

    pl->backoff_ms = pl->backoff_ms == 0 ? RETRY_FIRST_MS : pl->backoff_ms * 2;
    if (pl->backoff_ms > p->s->opt.retry_max_ms) {
        pl->backoff_ms = p->s->opt.retry_max_ms;
    }
    jitter = (int64_t)randombytes_uniform((uint32_t)(pl->backoff_ms / 4 + 1));
    pl->next_try = mono_ms() + pl->backoff_ms + jitter;
    if (failures == 1) {
        log_warning(LOG_COMP, "pull from parent %s failed: %s%s%s%s; retrying", pl->self.parent_url,
                    why->message, why->detail[0] ? " (" : "", why->detail,
                    why->detail[0] ? ")" : "");
    } else {
        log_debug(LOG_COMP, "pull failed again (%d in a row): %s", failures, why->message);
    }
}

static void pull_ok(struct sync_pull *p, struct puller *pl, const struct sync_pull_reply *r,
                    const struct sync_pull_applied *res)
{
    bool was_down;

    pthread_mutex_lock(&p->mu);
    was_down = p->down.failures > 0 || !p->down.connected;
    p->down.failures = 0;
    p->down.connected = true;
    p->down.cursor = res->cursor;
    p->down.parent_head = r->head;
    p->down.last_ok_ms = sync_now_ms();
    p->down.last_error[0] = '\0';
    p->down.answers++;
    p->down.events += res->applied;
    p->down.duplicates += res->duplicates;
    pthread_mutex_unlock(&p->mu);

    pl->cursor = res->cursor;
    pl->caught_up = r->through >= r->head;
    pl->backoff_ms = 0;
    pl->next_try = 0;
    if (was_down) {
        log_notice(LOG_COMP, "pulling from parent %s again, after position %lld of %lld",
                   pl->self.parent_origin, (long long)res->cursor, (long long)r->head);
    }
    if (!pl->caught_up && pl->catchup_start == 0) {
        pl->catchup_start = mono_ms();
        pl->catchup_events = 0;
        log_notice(LOG_COMP, "catching up from parent %s: %lld positions to look at",
                   pl->self.parent_origin, (long long)(r->head - r->after));
    }
    if (pl->catchup_start != 0) {
        pl->catchup_events += res->applied;
        if (pl->caught_up) {
            log_notice(LOG_COMP, "caught up from parent %s: %llu events in %.1f s",
                       pl->self.parent_origin, (unsigned long long)pl->catchup_events,
                       (double)(mono_ms() - pl->catchup_start) / 1000.0);
            pl->catchup_start = 0;
        }
    }
    if (res->applied > 0) {
        log_info(LOG_COMP,
                 "pulled %zu events from %s (already here: %zu, keys learned: %zu); "
                 "cursor %lld",
                 res->applied, pl->self.parent_origin, res->duplicates, res->keys,
                 (long long)res->cursor);
    }
}

/* The parent says our cursor is past its log: start again from 0. */
static enum lt_code reset_cursor(struct sync_pull *p, struct puller *pl, struct lt_error *err)
{
    struct sync_pull_reply r;
    struct apply_ctx a = { .s = p->s, .self = &pl->self, .r = &r };
    enum lt_code rc;

    /* An answer with nothing in it "through" 0 puts the cursor back at the start. */
    memset(&r, 0, sizeof(r));
    snprintf(r.origin, sizeof(r.origin), "%s", pl->self.parent_origin);
    r.after = pl->cursor;
    if (!pl->warned_past) {
        pl->warned_past = true;
        log_error(LOG_COMP, "parent %s has no position %lld: pulling again from the start",
                  pl->self.parent_origin, (long long)pl->cursor);
    }
    rc = store_write(p->s->store, apply_fn, &a, err);
    if (rc == LT_OK) {
        pl->cursor = 0;
        pl->caught_up = false;
    }
    return rc;
}

/* Check, decode and apply a 200 answer. */
static enum lt_code take_answer(struct sync_pull *p, struct puller *pl, const char *nonce,
                                struct lt_error *err)
{
    struct sync_pull_reply r;
    struct apply_ctx a = { .s = p->s, .self = &pl->self, .r = &r };
    const char *from = sync_client_reply_header(pl->cl, SYNC_HDR_ORIGIN);
    enum lt_code rc = LT_OK;

    memset(&r, 0, sizeof(r));
    if (from == NULL || strcmp(from, pl->self.parent_origin) != 0 ||
        !sync_pull_answer_ok(pl->self.parent_pk, from, nonce, pl->reply.data, pl->reply.len,
                             sync_client_reply_header(pl->cl, SYNC_HDR_SIG))) {
        rc = lt_error_set(err, LT_EINVAL, "the pull answer is not signed by parent \"%s\"",
                          pl->self.parent_origin);
        lt_error_detail(err, "it names %s", from != NULL ? from : "no origin");
    }
    if (rc == LT_OK) {
        rc = sync_pull_reply_decode(pl->reply.data, pl->reply.len, &r, err);
    }
    if (rc == LT_OK) {
        rc = store_write(p->s->store, apply_fn, &a, err);
    }
    if (rc == LT_OK) {
        pull_ok(p, pl, &r, &a.res);
        if (a.res.reference && p->on_reference != NULL) {
            p->on_reference(p->on_reference_arg);
        }
    }
    sync_pull_reply_release(&r);
    return rc;
}

static enum lt_code pull_once(struct sync_pull *p, struct puller *pl, struct lt_error *err)
{
    uint8_t raw[NONCE_BYTES];
    char nonce[SYNC_PULL_NONCE_HEX], body[256];
    long status = 0;
    int len;
    enum lt_code rc;

    randombytes_buf(raw, sizeof(raw));
    sync_hex(raw, sizeof(raw), nonce);
    len = snprintf(body, sizeof(body), "{\"v\":%d,\"after\":%lld,\"wait\":%d,\"nonce\":\"%s\"}",
                   SYNC_PULL_VERSION, (long long)pl->cursor, pl->caught_up ? SYNC_PULL_WAIT : 0,
                   nonce);
    rc = sync_client_request(pl->cl, "POST", SYNC_PULL_PATH, body, (size_t)len, &status, &pl->reply,
                             err);
    if (rc != LT_OK) {
        return rc;
    }
    if (status == 409) {
        return reset_cursor(p, pl, err);
    }
    if (status != 200) {
        return answer_error(&pl->reply, status, err);
    }
    rc = take_answer(p, pl, nonce, err);
    if (rc == LT_OK && sync_client_reply_header(pl->cl, "Retry-After") != NULL) {
        pl->next_try = mono_ms() + SYNC_PULL_RETRY_MS; /* the parent was too busy to hold it */
    }
    return rc;
}

static void *pull_main(void *arg)
{
    struct sync_pull *p = arg;
    struct puller pl;
    int64_t next_config = 0;

    memset(&pl, 0, sizeof(pl));
    buf_init(&pl.reply, SYNC_PULL_REPLY_MAX);
    while (!atomic_load(&p->s->stop)) {
        int64_t now = mono_ms();
        struct lt_error err;

        if (now >= next_config) {
            load_config(p, &pl);
            next_config = now + CONFIG_MS;
        }
        if (pl.cl == NULL || now < pl.next_try) {
            nap(p, (pl.cl == NULL ? next_config
                                  : (pl.next_try < next_config ? pl.next_try : next_config)) -
                       now);
            continue;
        }
        lt_error_clear(&err);
        if (pull_once(p, &pl, &err) != LT_OK && !atomic_load(&p->s->stop)) {
            pull_failed(p, &pl, &err);
        }
    }
    sync_client_free(pl.cl);
    buf_release(&pl.reply);
    return NULL;
}

/* Lifecycle and reports. */

struct sync_pull *sync_pull_new(struct sync *s)
{
    struct sync_pull *p = xcalloc(1, sizeof(*p));

    p->s = s;
    pthread_mutex_init(&p->mu, NULL);
    pthread_cond_init(&p->commit_cv, NULL);
    pthread_cond_init(&p->watch_cv, NULL);
    pthread_cond_init(&p->stop_cv, NULL);
    return p;
}

void sync_pull_free(struct sync_pull *p)
{
    if (p == NULL) {
        return;
    }
    pthread_cond_destroy(&p->commit_cv);
    pthread_cond_destroy(&p->watch_cv);
    pthread_cond_destroy(&p->stop_cv);
    pthread_mutex_destroy(&p->mu);
    free(p->seen);
    free(p);
}

void sync_on_reference(struct sync *s, void (*fn)(void *arg), void *arg)
{
    s->pull->on_reference = fn;
    s->pull->on_reference_arg = arg;
}

enum lt_code sync_pull_start(struct sync *s, struct lt_error *err)
{
    struct sync_pull *p = s->pull;
    struct store_stats st;

    store_stats(s->store, &st);
    p->commits = st.commits;
    p->stopping = false;
    if (pthread_create(&p->watcher, NULL, watch_main, p) != 0) {
        return lt_error_set(err, LT_EINTERNAL, "could not start the pull watcher thread");
    }
    pthread_mutex_lock(&p->mu);
    p->watching = true;
    pthread_mutex_unlock(&p->mu);
    if (pthread_create(&p->thread, NULL, pull_main, p) != 0) {
        sync_pull_stop(s);
        return lt_error_set(err, LT_EINTERNAL, "could not start the pull thread");
    }
    p->pulling = true;
    return LT_OK;
}

void sync_pull_stop(struct sync *s)
{
    struct sync_pull *p = s != NULL ? s->pull : NULL;
    bool watching;

    if (p == NULL) {
        return;
    }
    pthread_mutex_lock(&p->mu);
    p->stopping = true;
    watching = p->watching;
    p->watching = false;
    pthread_cond_broadcast(&p->commit_cv);
    pthread_cond_broadcast(&p->watch_cv);
    pthread_cond_broadcast(&p->stop_cv);
    pthread_mutex_unlock(&p->mu);
    if (watching) {
        pthread_join(p->watcher, NULL);
    }
    if (p->pulling) {
        pthread_join(p->thread, NULL);
        p->pulling = false;
    }
}

static json_t *upstream_json(const struct downstream *d, int64_t now)
{
    if (!d->enrolled) {
        return json_null();
    }
    return json_pack("{s:s, s:b, s:I, s:I, s:I, s:o, s:o, s:i, s:I, s:I, s:I}", "parent_origin",
                     d->parent_origin, "connected", d->connected, "cursor", (json_int_t)d->cursor,
                     "parent_head", (json_int_t)d->parent_head, "behind_positions",
                     (json_int_t)(d->parent_head > d->cursor ? d->parent_head - d->cursor : 0),
                     "seconds_since_answer",
                     d->last_ok_ms > 0 ? json_real((double)(now - d->last_ok_ms) / 1000.0)
                                       : json_null(),
                     "last_error", d->last_error[0] ? json_string(d->last_error) : json_null(),
                     "failures", d->failures, "answers", (json_int_t)d->answers, "events",
                     (json_int_t)d->events, "duplicates", (json_int_t)d->duplicates);
}

json_t *sync_pull_status(struct sync *s)
{
    struct sync_pull *p = s->pull;
    int64_t now = sync_now_ms();
    json_t *kids = json_array(), *out;

    pthread_mutex_lock(&p->mu);
    for (size_t i = 0; i < p->nseen; i++) {
        const struct pull_seen *ps = &p->seen[i];

        json_array_append_new(
            kids, json_pack("{s:s, s:I, s:I, s:f, s:I, s:I}", "origin", ps->origin, "cursor",
                            (json_int_t)ps->cursor, "through", (json_int_t)ps->through,
                            "seconds_since_pull", (double)(now - ps->last_ms) / 1000.0, "answers",
                            (json_int_t)ps->answers, "events", (json_int_t)ps->events));
    }
    out = json_pack("{s:o, s:o, s:i, s:I, s:I, s:I}", "upstream", upstream_json(&p->down, now),
                    "children", kids, "waiting", p->waiters, "answered", (json_int_t)p->answered,
                    "refused", (json_int_t)p->refused, "busy", (json_int_t)p->busy);
    pthread_mutex_unlock(&p->mu);
    return out;
}
