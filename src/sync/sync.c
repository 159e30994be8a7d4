/*
 * sync.c - the sync thread: push up, retry, heartbeat, watch children.
 *
 * Design note.  One thread per node does all of it, so there is never
 * more than one request in flight to the parent and a batch always starts
 * where the last acknowledged one ended.  The loop:
 *
 *   - every second or so, re-read the sync identity (an enrolment made by
 *     "lienthong enrol" while the node serves is picked up) and look at
 *     the children's last contact, logging who fell silent or came back;
 *   - if the log holds events after the acknowledged position, or the
 *     heartbeat is due, push one batch: read up to SYNC_BATCH_EVENTS_MAX
 *     events (at most batch_bytes of them) on a reader, sign those of this
 *     node that are not signed yet, send, and store the acknowledged
 *     position the parent answers with (and the signatures);
 *   - else wait for the next commit.
 *
 * The wait is woken by the store's commit notification (store_on_commit):
 * the writer thread bumps commit_seq under wake_mu and signals wake_cv, a
 * lock of its own that nothing holds while calling into the store, so the
 * writer never waits on the sync thread.  No interval stands between a
 * commit and its push.  While a push is in flight, commits only bump the
 * counter; the next turn reads everything committed meanwhile into one
 * batch, so under load batches grow while requests stay one at a time.
 * Commits made by another process on the same database (lienthong import
 * while serving) do not notify this one: the head is read again at every
 * configuration tick (1 s) for them.
 *
 * A failed push is retried after 100 ms, doubling to retry_max_ms, with
 * jitter, so that a whole province's communes coming back do not knock in
 * step.  The parent's answer is the truth about the cursor: a 409 carries
 * its acknowledged position and the thread simply resumes from there.
 */
#include "sync/sync.h"

#include <sodium.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <jansson.h>

#include "core/log.h"
#include "http/api_registry.h"
#include "sync/batch.h"
#include "sync/client.h"
#include "sync/conflict.h"
#include "sync/pull.h"
#include "sync/sync_int.h"
#include "core/banned.h"

#define LOG_COMP       "sync"
#define CONFIG_MS      1000
#define MONITOR_MS     1000
#define RETRY_FIRST_MS 100
#define PUSH_PATH      "/sync/v1/push"

void sync_options_default(struct sync_options *o)
{
    memset(o, 0, sizeof(*o));
    o->heartbeat_ms = 10000;
    o->silent_after_ms = 60000;
    o->retry_max_ms = 30000;
    o->batch_bytes = SYNC_BATCH_BYTES;
}

static int64_t mono_ms(void)
{
    struct timespec ts;

    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* Sleep up to ms, waking early when asked to stop. */
static void nap(struct sync *s, int64_t ms)
{
    struct timespec ts;

    if (ms <= 0) {
        return;
    }
    clock_gettime(CLOCK_REALTIME, &ts);
    ts.tv_sec += ms / 1000;
    ts.tv_nsec += (ms % 1000) * 1000000;
    if (ts.tv_nsec >= 1000000000) {
        ts.tv_sec++;
        ts.tv_nsec -= 1000000000;
    }
    pthread_mutex_lock(&s->mu);
    if (!atomic_load(&s->stop)) {
        pthread_cond_timedwait(&s->cv, &s->mu, &ts);
    }
    pthread_mutex_unlock(&s->mu);
}

/* The pusher's own view, kept between loop turns (sync thread only). */
struct pusher {
    struct sync_client *cl;
    struct buf body, reply;
    int64_t head;          /* this log's head, as last read */
    uint64_t commits_seen; /* commit_seq at that read; UINT64_MAX: read again */
    int64_t last_push;     /* monotonic time of the last answered push */
    int64_t backoff_ms;
    int64_t next_try;       /* monotonic; 0: now */
    int64_t catchup_start;  /* monotonic; 0: not catching up */
    int64_t catchup_events; /* events sent since it started */
    bool warned_ahead;
};

/* Reading the outbox. */

struct sig_note {
    int64_t pos;
    uint8_t sig[EVLOG_SIG_BYTES];
};

struct outbox {
    struct sync *s;
    struct buf *body;
    int64_t *pulled; /* positions of events pulled from above: never sent back */
    size_t npulled, ipulled;
    size_t n;
    int64_t through;
    bool full;
    bool oversize;       /* the first event alone does not fit */
    int64_t pending_hlc; /* of the first event left out; 0: none */
    int64_t head;
    struct sig_note *sigs;
    size_t nsigs, asigs;
};

static enum lt_code outbox_event(const struct event *ev, void *arg, struct lt_error *err)
{
    struct outbox *o = arg;
    struct event e = *ev;
    enum lt_code rc;

    if (o->full || o->n >= SYNC_BATCH_EVENTS_MAX) {
        o->full = true;
        o->pending_hlc = ev->hlc;
        return LT_ECONFLICT; /* stops the scan; not an error */
    }
    while (o->ipulled < o->npulled && o->pulled[o->ipulled] < ev->pos) {
        o->ipulled++;
    }
    if (o->ipulled < o->npulled && o->pulled[o->ipulled] == ev->pos) {
        o->through = ev->pos; /* the parent has it: acknowledged with the batch */
        return LT_OK;
    }
    if (!e.has_sig) {
        if (strcmp(e.origin, o->s->origin) != 0) {
            lt_error_set(err, LT_EINTERNAL, "event (%s, %lld) of another node has no signature",
                         e.origin, (long long)e.seq);
            return LT_EINTERNAL;
        }
        /* XXX: interim: evlog_append should sign; see docs/SYNC.md. */
        sync_sign_event(&o->s->key, &e);
        if (o->nsigs == o->asigs) {
            o->asigs = o->asigs ? 2 * o->asigs : 64;
            o->sigs = xrealloc(o->sigs, o->asigs * sizeof(*o->sigs));
        }
        o->sigs[o->nsigs].pos = e.pos;
        memcpy(o->sigs[o->nsigs++].sig, e.sig, EVLOG_SIG_BYTES);
    }
    rc = sync_enc_event(o->body, &o->n, &e);
    if (rc == LT_ETOOBIG) {
        o->full = true;
        o->oversize = o->n == 0;
        o->pending_hlc = ev->hlc;
        return LT_ECONFLICT;
    }
    o->through = ev->pos;
    return rc;
}

struct read_ctx {
    struct outbox *o;
    int64_t after;
    size_t limit;
};

static enum lt_code read_outbox(struct store_conn *c, void *arg, struct lt_error *err)
{
    struct read_ctx *r = arg;
    enum lt_code rc = evlog_head(c, &r->o->head, err);

    if (rc == LT_OK) {
        free(r->o->pulled);
        rc = evlog_pulled_after(c, r->after, r->limit, &r->o->pulled, &r->o->npulled, err);
    }
    if (rc == LT_OK) {
        rc = evlog_scan(c, r->after, r->limit, outbox_event, r->o, err);
    }
    return rc == LT_ECONFLICT && r->o->full ? LT_OK : rc;
}

struct save_ctx {
    const struct outbox *o;
    const char *parent;
    int64_t acked;
};

static enum lt_code save_ack(struct store_conn *c, void *arg, struct lt_error *err)
{
    struct save_ctx *sv = arg;
    enum lt_code rc = sync_upstream_set(c, sv->parent, sv->acked, sync_now_ms(), err);

    for (size_t i = 0; rc == LT_OK && i < sv->o->nsigs; i++) {
        rc = sync_event_sig_put(c, sv->o->sigs[i].pos, sv->o->sigs[i].sig, err);
    }
    return rc;
}

static void upstream_failed(struct sync *s, struct pusher *p, const struct lt_error *why)
{
    int64_t jitter;
    int failures;

    pthread_mutex_lock(&s->mu);
    failures = ++s->up.failures;
    s->up.connected = why->code != LT_EUNAVAIL && s->up.connected;
    snprintf(s->up.last_error, sizeof(s->up.last_error), "%s", why->message);
    pthread_mutex_unlock(&s->mu);

    p->backoff_ms = p->backoff_ms == 0 ? RETRY_FIRST_MS : p->backoff_ms * 2;
    if (p->backoff_ms > s->opt.retry_max_ms) {
        p->backoff_ms = s->opt.retry_max_ms;
    }
    jitter = (int64_t)randombytes_uniform((uint32_t)(p->backoff_ms / 4 + 1));
    p->next_try = mono_ms() + p->backoff_ms + jitter;
    if (failures == 1) {
        log_warning(LOG_COMP, "push to parent %s failed: %s%s%s%s; retrying", s->up.url,
                    why->message, why->detail[0] ? " (" : "", why->detail,
                    why->detail[0] ? ")" : "");
    } else {
        log_debug(LOG_COMP, "push failed again (%d in a row, next try in %lld ms): %s", failures,
                  (long long)p->backoff_ms, why->message);
    }
}

static void upstream_ok(struct sync *s, struct pusher *p, int64_t acked, size_t sent)
{
    bool was_down;

    pthread_mutex_lock(&s->mu);
    was_down = s->up.failures > 0 || !s->up.connected;
    s->up.failures = 0;
    s->up.connected = true;
    s->up.acked = acked;
    s->up.last_ok_ms = sync_now_ms();
    s->up.last_error[0] = '\0';
    s->up.batches++;
    s->up.events_sent += sent;
    pthread_mutex_unlock(&s->mu);

    p->backoff_ms = 0;
    p->next_try = 0;
    p->last_push = mono_ms();
    if (was_down) {
        log_notice(LOG_COMP, "connected to parent %s (%s) at %s; acknowledged position %lld",
                   s->up.parent_origin, s->up.parent_unit, s->up.url, (long long)acked);
    }
}

/* Read the parent's answer: its acknowledged position. */
static enum lt_code answer_ack(const struct buf *reply, long status, int64_t *ack,
                               struct lt_error *err)
{
    json_t *j = json_loads(buf_str(reply), 0, NULL);
    json_t *a = json_object_get(j, "ack");
    json_t *e = json_object_get(j, "error");
    const char *msg = json_string_value(json_object_get(e, "message"));
    const char *detail = json_string_value(json_object_get(e, "detail"));
    enum lt_code rc = LT_OK;

    if ((status == 200 || status == 409) && json_is_integer(a) && json_integer_value(a) >= 0) {
        *ack = json_integer_value(a);
    } else {
        rc = lt_error_set(err, status == 503 ? LT_EUNAVAIL : LT_EINVAL,
                          "the parent refused the batch (HTTP %ld): %s", status,
                          msg != NULL ? msg : "no reason given");
        if (detail != NULL) {
            lt_error_detail(err, "%s", detail);
        }
    }
    json_decref(j);
    return rc;
}

/* The parent acknowledged beyond our head: our log lost events it has. */
static void check_ahead(struct sync *s, struct pusher *p, int64_t ack)
{
    if (ack <= p->head || p->warned_ahead) {
        return;
    }
    p->warned_ahead = true;
    /* XXX: no recovery: a node restored from an old backup must be re-made and re-enrolled. */
    log_error(LOG_COMP, "parent %s acknowledged %lld, past this log's end at %lld: an old backup?",
              s->up.parent_origin, (long long)ack, (long long)p->head);
}

static void catchup_progress(struct sync *s, struct pusher *p, const struct outbox *o,
                             int64_t after)
{
    if (o->full && p->catchup_start == 0) {
        p->catchup_start = mono_ms();
        p->catchup_events = 0;
        log_notice(LOG_COMP, "catching up with parent %s: %lld events to send", s->up.parent_origin,
                   (long long)(o->head - after));
    }
    if (p->catchup_start != 0) {
        p->catchup_events += (int64_t)o->n;
        if (!o->full) {
            log_notice(LOG_COMP, "caught up with parent %s: %lld events in %.1f s",
                       s->up.parent_origin, (long long)p->catchup_events,
                       (double)(mono_ms() - p->catchup_start) / 1000.0);
            p->catchup_start = 0;
        }
    }
}

/* Build the next batch after acked into p->body; o is filled. */
static enum lt_code build_batch(struct sync *s, struct pusher *p, int64_t acked, struct outbox *o,
                                struct lt_error *err)
{
    struct read_ctx r = { .o = o, .after = acked, .limit = SYNC_BATCH_EVENTS_MAX + 1 };
    struct sync_batch_head h;
    enum lt_code rc;

    memset(o, 0, sizeof(*o));
    o->s = s;
    o->body = &p->body;
    o->through = acked;
    sync_enc_begin(&p->body);
    rc = store_read(s->store, read_outbox, &r, err);
    if (rc == LT_OK && o->oversize) {
        /* One event bigger than a batch: send it alone, in a bigger buffer. */
        /* XXX: the parent's --max-body (1 MiB) may still refuse it; it must be raised then. */
        struct buf big;

        free(o->sigs);
        free(o->pulled);
        memset(o, 0, sizeof(*o));
        o->s = s;
        o->through = acked;
        buf_init(&big, 8 * (size_t)EVLOG_BODY_MAX);
        o->body = &big;
        sync_enc_begin(&big);
        r.limit = 1;
        rc = store_read(s->store, read_outbox, &r, err);
        buf_release(&p->body);
        p->body = big;
        o->body = &p->body;
    }
    if (rc != LT_OK) {
        return rc;
    }
    memset(&h, 0, sizeof(h));
    snprintf(h.origin, sizeof(h.origin), "%s", s->origin);
    h.after = acked;
    h.through = o->through;
    h.head = o->head > o->through ? o->head : o->through;
    h.pending_ms = o->pending_hlc > 0 ? evlog_hlc_ms(o->pending_hlc) : 0;
    p->head = h.head;
    return sync_enc_end(&p->body, &h);
}

/* One push: read, sign, send, store the answer. */
static enum lt_code push_once(struct sync *s, struct pusher *p, struct lt_error *err)
{
    struct outbox o;
    struct save_ctx sv;
    int64_t acked, ack = 0, t0 = mono_ms();
    long status = 0;
    enum lt_code rc;

    pthread_mutex_lock(&s->mu);
    acked = s->up.acked;
    pthread_mutex_unlock(&s->mu);

    rc = build_batch(s, p, acked, &o, err);
    if (rc == LT_OK) {
        pthread_mutex_lock(&s->mu);
        s->up.sent_ms = sync_now_ms();
        pthread_mutex_unlock(&s->mu);
        rc = sync_client_request(p->cl, "POST", PUSH_PATH, p->body.data, p->body.len, &status,
                                 &p->reply, err);
        pthread_mutex_lock(&s->mu);
        s->up.sent_ms = 0;
        pthread_mutex_unlock(&s->mu);
    }
    if (rc == LT_OK) {
        rc = answer_ack(&p->reply, status, &ack, err);
    }
    if (rc == LT_OK) {
        sv = (struct save_ctx){ .o = &o, .parent = s->up.parent_origin, .acked = ack };
        rc = store_write(s->store, save_ack, &sv, err);
    }
    if (rc == LT_OK) {
        check_ahead(s, p, ack);
        upstream_ok(s, p, ack, status == 200 ? o.n : 0);
        if (status == 409) {
            log_notice(LOG_COMP, "parent %s holds this log up to position %lld; resuming there",
                       s->up.parent_origin, (long long)ack);
        } else {
            catchup_progress(s, p, &o, acked);
            log_debug(LOG_COMP, "pushed %zu events after %lld, acknowledged %lld, in %lld ms", o.n,
                      (long long)acked, (long long)ack, (long long)(mono_ms() - t0));
        }
    }
    free(o.sigs);
    free(o.pulled);
    if (p->body.cap != s->opt.batch_bytes) {
        /* An oversize event grew the buffer: back to the batch size. */
        buf_release(&p->body);
        buf_init(&p->body, s->opt.batch_bytes);
    }
    return rc;
}

/* Configuration: pick up an enrolment, a new parent, or the first ack. */

struct config_read {
    struct sync_self self;
    bool found;
    int64_t acked;
};

static enum lt_code read_config(struct store_conn *c, void *arg, struct lt_error *err)
{
    struct config_read *cr = arg;
    enum lt_code rc = sync_self_get(c, &cr->self, &cr->found, err);

    if (rc == LT_OK && cr->found && cr->self.enrolled) {
        rc = sync_upstream_get(c, cr->self.parent_origin, &cr->acked, err);
    }
    return rc;
}

static void load_config(struct sync *s, struct pusher *p)
{
    struct config_read cr;
    struct lt_error err;
    bool changed;

    memset(&cr, 0, sizeof(cr));
    if (store_read(s->store, read_config, &cr, &err) != LT_OK) {
        log_warning(LOG_COMP, "could not read the sync configuration: %s", err.message);
        return;
    }
    if (!cr.found || !cr.self.enrolled) {
        return;
    }
    pthread_mutex_lock(&s->mu);
    changed = !s->up.enrolled || strcmp(s->up.parent_origin, cr.self.parent_origin) != 0 ||
              strcmp(s->up.url, cr.self.parent_url) != 0;
    if (changed) {
        s->up.enrolled = true;
        snprintf(s->up.url, sizeof(s->up.url), "%s", cr.self.parent_url);
        snprintf(s->up.parent_origin, sizeof(s->up.parent_origin), "%s", cr.self.parent_origin);
        snprintf(s->up.parent_unit, sizeof(s->up.parent_unit), "%s", cr.self.parent_unit);
        s->up.acked = cr.acked;
        s->up.connected = false;
    }
    pthread_mutex_unlock(&s->mu);
    if (!changed) {
        return;
    }
    sync_client_free(p->cl);
    p->cl = sync_client_new(cr.self.parent_url, &s->key, s->origin, &s->stop, 120000);
    p->next_try = 0;
    p->backoff_ms = 0;
    p->last_push = 0;
    log_notice(LOG_COMP, "pushing to parent %s (%s) at %s after position %lld",
               cr.self.parent_origin, cr.self.parent_unit, cr.self.parent_url, (long long)cr.acked);
}

/* Watching children. */

struct watch {
    struct sync *s;
    int64_t now;
};

static struct child_flag *flag_for(struct sync *s, const char *origin)
{
    for (size_t i = 0; i < s->nflags; i++) {
        if (strcmp(s->flags[i].origin, origin) == 0) {
            return &s->flags[i];
        }
    }
    s->flags = xrealloc(s->flags, (s->nflags + 1) * sizeof(*s->flags));
    memset(&s->flags[s->nflags], 0, sizeof(*s->flags));
    snprintf(s->flags[s->nflags].origin, sizeof(s->flags[0].origin), "%s", origin);
    return &s->flags[s->nflags++];
}

static enum lt_code watch_child(const struct sync_child *ch, void *arg, struct lt_error *err)
{
    struct watch *w = arg;
    struct child_flag *f = flag_for(w->s, ch->origin);
    int64_t since = ch->last_contact_ms ? ch->last_contact_ms : ch->enrolled_ms;
    bool silent = w->now - since > w->s->opt.silent_after_ms;

    (void)err;
    if (silent && !f->silent) {
        log_warning(LOG_COMP, "child %s (%s) is silent: no contact for %lld s", ch->origin,
                    ch->unit, (long long)((w->now - since) / 1000));
    } else if (!silent && f->silent) {
        log_notice(LOG_COMP, "child %s (%s) is back: %lld events behind", ch->origin, ch->unit,
                   (long long)(ch->reported_head > ch->acked ? ch->reported_head - ch->acked : 0));
    }
    f->silent = silent;
    return LT_OK;
}

static enum lt_code watch_fn(struct store_conn *c, void *arg, struct lt_error *err)
{
    return sync_children_each(c, watch_child, arg, err);
}

static void watch_children(struct sync *s)
{
    struct watch w = { .s = s, .now = sync_now_ms() };
    struct lt_error err;

    if (store_read(s->store, watch_fn, &w, &err) != LT_OK) {
        log_warning(LOG_COMP, "could not read the children's state: %s", err.message);
    }
}

/* Waiting for work. */

static enum lt_code head_fn(struct store_conn *c, void *arg, struct lt_error *err)
{
    return evlog_head(c, arg, err);
}

/* The store's commit listener (store_on_commit): runs on the writer thread. */
static void on_commit(void *arg)
{
    struct sync *s = arg;

    pthread_mutex_lock(&s->wake_mu);
    s->commit_seq++;
    pthread_cond_broadcast(&s->wake_cv);
    pthread_mutex_unlock(&s->wake_mu);
    sync_pull_on_commit(s->pull);
}

static uint64_t commit_seq(struct sync *s)
{
    uint64_t seq;

    pthread_mutex_lock(&s->wake_mu);
    seq = s->commit_seq;
    pthread_mutex_unlock(&s->wake_mu);
    return seq;
}

/* Read the head again if anything committed since the last look. */
static void refresh_head(struct sync *s, struct pusher *p)
{
    struct lt_error err;
    uint64_t seq = commit_seq(s); /* before the read: a later commit is seen next time */
    int64_t head;

    if (seq == p->commits_seen) {
        return;
    }
    if (store_read(s->store, head_fn, &head, &err) == LT_OK) {
        p->commits_seen = seq;
        p->head = head;
    }
}

/* Wait until something commits, deadline (monotonic) passes, or stop. */
static void wait_commit(struct sync *s, struct pusher *p, int64_t deadline)
{
    struct timespec ts = { .tv_sec = deadline / 1000, .tv_nsec = (deadline % 1000) * 1000000 };

    pthread_mutex_lock(&s->wake_mu);
    while (!atomic_load(&s->stop) && s->commit_seq == p->commits_seen && mono_ms() < deadline) {
        pthread_cond_timedwait(&s->wake_cv, &s->wake_mu, &ts);
    }
    pthread_mutex_unlock(&s->wake_mu);
}

static int64_t min64(int64_t a, int64_t b)
{
    return a < b ? a : b;
}

/* One turn of the loop while enrolled; returns the time to wait until. */
static int64_t push_turn(struct sync *s, struct pusher *p, int64_t now, int64_t horizon)
{
    struct lt_error err;
    bool pending;
    int64_t acked;

    if (now < p->next_try) {
        return min64(p->next_try, horizon);
    }
    refresh_head(s, p);
    pthread_mutex_lock(&s->mu);
    acked = s->up.acked;
    pthread_mutex_unlock(&s->mu);
    pending = p->head > acked && !p->warned_ahead;
    if (!pending && now - p->last_push < s->opt.heartbeat_ms) {
        wait_commit(s, p, min64(p->last_push + s->opt.heartbeat_ms, horizon));
        return 0;
    }
    lt_error_clear(&err);
    if (push_once(s, p, &err) != LT_OK) {
        upstream_failed(s, p, &err);
        return min64(p->next_try, horizon);
    }
    return 0;
}

static void *sync_main(void *arg)
{
    struct sync *s = arg;
    struct pusher p;
    int64_t next_config = 0, next_watch = 0;

    memset(&p, 0, sizeof(p));
    p.commits_seen = UINT64_MAX;
    buf_init(&p.body, s->opt.batch_bytes);
    buf_init(&p.reply, SYNC_REPLY_MAX);
    while (!atomic_load(&s->stop)) {
        int64_t now = mono_ms(), until;
        bool enrolled;

        if (now >= next_config) {
            load_config(s, &p);
            next_config = now + CONFIG_MS;
            p.commits_seen = UINT64_MAX; /* another process may have written */
        }
        if (now >= next_watch) {
            watch_children(s);
            next_watch = now + MONITOR_MS;
        }
        pthread_mutex_lock(&s->mu);
        enrolled = s->up.enrolled;
        pthread_mutex_unlock(&s->mu);
        if (!enrolled) {
            nap(s, min64(next_config, next_watch) - now);
            continue;
        }
        until = push_turn(s, &p, now, min64(next_config, next_watch));
        if (until > 0) {
            nap(s, until - mono_ms());
        }
    }
    sync_client_free(p.cl);
    buf_release(&p.body);
    buf_release(&p.reply);
    return NULL;
}

/* Lifecycle. */

struct open_read {
    struct sync_self self;
    bool found;
};

static enum lt_code open_fn(struct store_conn *c, void *arg, struct lt_error *err)
{
    struct open_read *r = arg;

    return sync_self_get(c, &r->self, &r->found, err);
}

enum lt_code sync_new(struct node *n, const char *dir, const struct sync_options *o,
                      struct sync **out, struct lt_error *err)
{
    struct sync *s = xcalloc(1, sizeof(*s));
    struct open_read r;
    pthread_condattr_t ca;
    enum lt_code rc;

    *out = NULL;
    s->node = n;
    s->store = node_store(n);
    s->log = node_evlog(n);
    s->u = node_units(n);
    snprintf(s->dir, sizeof(s->dir), "%s", dir);
    snprintf(s->origin, sizeof(s->origin), "%s", evlog_origin(s->log));
    snprintf(s->unit, sizeof(s->unit), "%s", evlog_unit(s->log));
    sync_options_default(&s->opt);
    if (o != NULL) {
        s->opt.heartbeat_ms = o->heartbeat_ms > 0 ? o->heartbeat_ms : s->opt.heartbeat_ms;
        s->opt.silent_after_ms =
            o->silent_after_ms > 0 ? o->silent_after_ms : s->opt.silent_after_ms;
        s->opt.retry_max_ms = o->retry_max_ms > 0 ? o->retry_max_ms : s->opt.retry_max_ms;
        s->opt.batch_bytes = o->batch_bytes >= 4096 ? o->batch_bytes : s->opt.batch_bytes;
    }
    pthread_mutex_init(&s->mu, NULL);
    pthread_cond_init(&s->cv, NULL);
    pthread_mutex_init(&s->wake_mu, NULL);
    pthread_condattr_init(&ca);
    pthread_condattr_setclock(&ca, CLOCK_MONOTONIC); /* wait_commit's deadlines */
    pthread_cond_init(&s->wake_cv, &ca);
    pthread_condattr_destroy(&ca);
    atomic_init(&s->stop, false);
    s->pull = sync_pull_new(s);

    rc = store_read(s->store, open_fn, &r, err);
    if (rc == LT_OK && !r.found) {
        rc = lt_error_set(err, LT_ENOTFOUND, "node \"%s\" has no sync identity", s->origin);
        lt_error_hint(err, "it was made before nodes had keys; make a new one with lienthong init");
    }
    if (rc == LT_OK) {
        rc = sync_key_load(dir, &s->key, err);
    }
    if (rc == LT_OK && memcmp(s->key.pk, r.self.pk, SYNC_PK_BYTES) != 0) {
        rc = lt_error_set(err, LT_EINVAL, "the key file in \"%s\" is not this node's key", dir);
        lt_error_hint(err, "restore the node.key made with this node; keys are never replaced");
    }
    if (rc == LT_OK) {
        rc = sync_client_global_init(err);
    }
    if (rc == LT_OK) {
        rc = sync_conflict_load(s->store, err);
    }
    if (rc != LT_OK) {
        sync_free(s);
        return rc;
    }
    *out = s;
    return LT_OK;
}

void sync_register(struct sync *s, struct http_server *srv)
{
    sync_routes_register(s, srv);
    sync_conflict_routes_register(s->node, srv);
    api_registry_set_metrics(sync_metrics_text, s);
    s->metrics_hooked = true;
}

enum lt_code sync_start(struct sync *s, struct lt_error *err)
{
    store_on_commit(s->store, on_commit, s);
    if (pthread_create(&s->thread, NULL, sync_main, s) != 0) {
        store_on_commit(s->store, NULL, NULL);
        return lt_error_set(err, LT_EINTERNAL, "could not start the sync thread");
    }
    s->started = true;
    return sync_pull_start(s, err);
}

void sync_stop(struct sync *s)
{
    if (s == NULL || !s->started) {
        return;
    }
    store_on_commit(s->store, NULL, NULL);
    pthread_mutex_lock(&s->mu);
    atomic_store(&s->stop, true);
    pthread_cond_broadcast(&s->cv);
    pthread_mutex_unlock(&s->mu);
    pthread_mutex_lock(&s->wake_mu);
    pthread_cond_broadcast(&s->wake_cv);
    pthread_mutex_unlock(&s->wake_mu);
    sync_pull_stop(s);
    pthread_join(s->thread, NULL);
    s->started = false;
}

void sync_free(struct sync *s)
{
    if (s == NULL) {
        return;
    }
    sync_stop(s);
    if (s->metrics_hooked) {
        api_registry_set_metrics(NULL, NULL);
    }
    sync_key_wipe(&s->key);
    pthread_cond_destroy(&s->cv);
    pthread_mutex_destroy(&s->mu);
    pthread_cond_destroy(&s->wake_cv);
    pthread_mutex_destroy(&s->wake_mu);
    sync_pull_free(s->pull);
    free(s->flags);
    free(s);
}
