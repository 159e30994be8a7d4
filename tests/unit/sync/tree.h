/*
 * tree.h - real nodes for the sync tests: stores in a temporary directory,
 * each with its identity, key and sync tables, enrolled as the tests ask,
 * and batches read from a node's log as its pusher would send them.
 *
 * Included by one test program each; every function is static.
 */
#ifndef LT_TEST_SYNC_TREE_H
#define LT_TEST_SYNC_TREE_H

#include <ftw.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/date.h"
#include "registry/registry.h"
#include "sync/apply.h"
#include "sync/batch.h"
#include "sync/enrol.h"
#include "sync/keys.h"
#include "sync/state.h"

/* Not every test program uses every helper. */
#define TREE_FN static __attribute__((unused))

struct tnode {
    char dir[128];
    struct node *n;
    struct sync_key key;
};

struct tident {
    const char *origin, *unit;
    const uint8_t *pk;
};

TREE_FN enum lt_code tident_fn(struct store_conn *c, void *arg, struct lt_error *err)
{
    const struct tident *id = arg;
    enum lt_code rc = evlog_init_node(c, id->origin, id->unit, err);

    return rc == LT_OK ? sync_self_create(c, id->pk, NULL, err) : rc;
}

static struct event tgenesis;

TREE_FN enum lt_code tgenesis_fn(struct store_conn *c, void *arg, struct lt_error *err)
{
    return evlog_append(arg, c, &tgenesis, NULL, err);
}

/* A node like "lienthong init" makes: identity, key, a first event. */
TREE_FN void tnode_make(struct tnode *t, const char *root, const char *origin, const char *unit)
{
    struct store_options o;
    struct store *s = NULL;
    struct lt_error err;
    struct tident id = { origin, unit, NULL };
    char body[128];

    snprintf(t->dir, sizeof(t->dir), "%s/%s", root, origin);
    store_options_default(&o);
    o.create = true;
    o.durable = false;
    o.readers = 2;
    if (store_open(t->dir, &o, &s, &err) != LT_OK ||
        sync_key_create(t->dir, &t->key, &err) != LT_OK) {
        fail_msg("make %s: %s", origin, err.message);
    }
    id.pk = t->key.pk;
    if (store_write(s, tident_fn, &id, &err) != LT_OK) {
        fail_msg("make %s: %s", origin, err.message);
    }
    store_close(s);
    o.create = false;
    if (node_open(t->dir, &o, &t->n, &err) != LT_OK) {
        fail_msg("open %s: %s", origin, err.message);
    }
    memset(&tgenesis, 0, sizeof(tgenesis));
    snprintf(body, sizeof(body), "{\"origin\":\"%s\",\"unit\":\"%s\"}", origin, unit);
    snprintf(tgenesis.actor, sizeof(tgenesis.actor), "system");
    snprintf(tgenesis.type, sizeof(tgenesis.type), "node.initialised");
    snprintf(tgenesis.entity, sizeof(tgenesis.entity), "node/%s", origin);
    snprintf(tgenesis.cause, sizeof(tgenesis.cause), "test");
    tgenesis.effective = date_today();
    tgenesis.body = body;
    if (store_write(node_store(t->n), tgenesis_fn, node_evlog(t->n), &err) != LT_OK) {
        fail_msg("genesis %s: %s", origin, err.message);
    }
}

TREE_FN void tnode_close(struct tnode *t)
{
    node_close(t->n);
    t->n = NULL;
}

TREE_FN int trm_entry(const char *path, const struct stat *st, int flag, struct FTW *ftw)
{
    (void)st;
    (void)flag;
    (void)ftw;
    return remove(path);
}

TREE_FN void tree_remove(const char *root)
{
    nftw(root, trm_entry, 16, FTW_DEPTH | FTW_PHYS);
}

/* The request body of an enrolment, signed by child: into *body, headers. */
TREE_FN void tenrol_request(const struct tnode *child, const char *token, char **body,
                            char t_hdr[32], char sig[SYNC_SIG_HEX])
{
    struct evlog *log = node_evlog(child->n);
    char pk[SYNC_PK_HEX];
    int64_t now = sync_now_ms();

    sync_hex(child->key.pk, SYNC_PK_BYTES, pk);
    if (asprintf(body, "{\"token\":\"%s\",\"origin\":\"%s\",\"unit\":\"%s\",\"public_key\":\"%s\"}",
                 token, evlog_origin(log), evlog_unit(log), pk) < 0) {
        abort();
    }
    snprintf(t_hdr, 32, "%lld", (long long)now);
    sync_sign_request(&child->key, "POST", "/sync/v1/enrol", evlog_origin(log), now, *body,
                      strlen(*body), sig);
}

/* Enrol child with parent through the real token and accept path. */
TREE_FN void tenrol(struct tnode *parent, struct tnode *child)
{
    char token[SYNC_TOKEN_CHARS + 1], t_hdr[32], sig[SYNC_SIG_HEX], *body = NULL;
    struct lt_error err;
    json_t *reply = NULL;
    int64_t expires;
    int status = 0;

    if (sync_enrol_issue(parent->n, evlog_unit(node_evlog(child->n)), 0, token, &expires, &err) !=
        LT_OK) {
        fail_msg("issue: %s", err.message);
    }
    tenrol_request(child, token, &body, t_hdr, sig);
    if (sync_enrol_accept(parent->n, &parent->key, body, strlen(body),
                          evlog_origin(node_evlog(child->n)), t_hdr, sig, &reply, &status,
                          &err) != LT_OK) {
        fail_msg("accept: %s (%d)", err.message, status);
    }
    json_decref(reply);
    free(body);
}

/* Reading a node's outbox, as its pusher does. */
struct tread {
    const struct tnode *t;
    struct sync_batch *b;
    size_t alloc;
};

TREE_FN enum lt_code tread_event(const struct event *ev, void *arg, struct lt_error *err)
{
    struct tread *r = arg;
    struct event *e;

    (void)err;
    if (r->b->nevents == r->alloc) {
        r->alloc = r->alloc ? 2 * r->alloc : 16;
        r->b->events = realloc(r->b->events, r->alloc * sizeof(*r->b->events));
    }
    e = &r->b->events[r->b->nevents++];
    *e = *ev;
    e->body = strdup(ev->body);
    if (!e->has_sig) {
        sync_sign_event(&r->t->key, e);
    }
    return LT_OK;
}

TREE_FN enum lt_code tread_fn(struct store_conn *c, void *arg, struct lt_error *err)
{
    struct tread *r = arg;
    enum lt_code rc = evlog_head(c, &r->b->h.head, err);

    return rc == LT_OK ? evlog_scan(c, r->b->h.after, 0, tread_event, r, err) : rc;
}

/* Every event of t's log after position after, signed. */
TREE_FN void tbatch(const struct tnode *t, int64_t after, struct sync_batch *b)
{
    struct tread r = { t, b, 0 };
    struct lt_error err;

    memset(b, 0, sizeof(*b));
    snprintf(b->h.origin, sizeof(b->h.origin), "%s", evlog_origin(node_evlog(t->n)));
    b->h.after = after;
    if (store_read(node_store(t->n), tread_fn, &r, &err) != LT_OK) {
        fail_msg("read batch: %s", err.message);
    }
    b->h.through = b->nevents > 0 ? b->events[b->nevents - 1].pos : after;
}

/* Give b to parent through the encoder and decoder, as the wire would. */
TREE_FN void twire(struct sync_batch *b)
{
    struct sync_batch out;
    struct lt_error err;
    struct buf text;

    buf_init(&text, 64 << 20);
    if (sync_batch_encode(b, &text) != LT_OK ||
        sync_batch_decode(text.data, text.len, &out, &err) != LT_OK) {
        fail_msg("wire: %s", err.message);
    }
    sync_batch_release(b);
    *b = out;
    buf_release(&text);
}

struct tapply {
    struct node *n;
    struct sync_batch *b;
    struct sync_apply_result res;
};

TREE_FN enum lt_code tapply_fn(struct store_conn *c, void *arg, struct lt_error *err)
{
    struct tapply *a = arg;

    return sync_apply_batch(a->n, c, a->b, sync_now_ms(), &a->res, err);
}

/* Apply b at parent in one write, as POST /sync/v1/push does. */
TREE_FN enum lt_code tapply(struct tnode *parent, struct sync_batch *b,
                            struct sync_apply_result *res, struct lt_error *err)
{
    struct tapply a = { parent->n, b, { 0 } };
    enum lt_code rc;

    twire(b);
    lt_error_clear(err);
    rc = store_write(node_store(parent->n), tapply_fn, &a, err);
    if (res != NULL) {
        *res = a.res;
    }
    return rc;
}

TREE_FN enum lt_code thead_fn(struct store_conn *c, void *arg, struct lt_error *err)
{
    return evlog_head(c, arg, err);
}

TREE_FN int64_t thead(struct tnode *t)
{
    struct lt_error err;
    int64_t head = -1;

    if (store_read(node_store(t->n), thead_fn, &head, &err) != LT_OK) {
        fail_msg("head: %s", err.message);
    }
    return head;
}

struct tchild_read {
    const char *origin;
    struct sync_child ch;
    bool found;
};

TREE_FN enum lt_code tchild_fn(struct store_conn *c, void *arg, struct lt_error *err)
{
    struct tchild_read *r = arg;

    return sync_child_get(c, r->origin, &r->ch, &r->found, err);
}

/* What parent holds about child. */
TREE_FN struct sync_child tchild(struct tnode *parent, struct tnode *child)
{
    struct tchild_read r = { .origin = evlog_origin(node_evlog(child->n)) };
    struct lt_error err;

    if (store_read(node_store(parent->n), tchild_fn, &r, &err) != LT_OK || !r.found) {
        fail_msg("no child %s", r.origin);
    }
    return r.ch;
}

TREE_FN enum lt_code tchild_put_fn(struct store_conn *c, void *arg, struct lt_error *err)
{
    return sync_child_put(c, arg, err);
}

/* Overwrite parent's row of a child (to move its cursor). */
TREE_FN void tchild_put(struct tnode *parent, struct sync_child *ch)
{
    struct lt_error err;

    if (store_write(node_store(parent->n), tchild_put_fn, ch, &err) != LT_OK) {
        fail_msg("child put: %s", err.message);
    }
}

/* Write one record at t through the registry. */
TREE_FN void twrite(struct tnode *t, enum registry_kind kind, const char *json)
{
    json_t *rec = json_loads(json, 0, NULL);
    struct registry_change ch = { .kind = kind,
                                  .record = rec,
                                  .actor = "clerk",
                                  .cause = "HS-2025-000001",
                                  .effective = DATE_MIN };
    struct lt_error err;
    int64_t v;

    if (rec == NULL || registry_write(t->n, &ch, &v, &err) != LT_OK) {
        fail_msg("write at %s refused: %s", t->dir, rec ? err.message : "bad JSON");
    }
    json_decref(rec);
}

TREE_FN bool thas(struct tnode *t, enum registry_kind kind, const char *key)
{
    struct lt_error err;
    json_t *rec = NULL;
    int64_t v;
    enum lt_code rc = registry_get(t->n, kind, key, &rec, &v, &err);

    json_decref(rec);
    return rc == LT_OK;
}

#define PERSON_A                                                                                   \
    "{\"id\":\"001090123456\",\"full_name\":\"Nguyễn Văn An\",\"birth_date\":\"1990-05-01\","   \
    "\"sex\":\"male\",\"ethnicity\":\"01\",\"nationality\":\"VN\",\"status\":\"alive\"}"
#define HOUSEHOLD_A                                                                                \
    "{\"id\":\"HK-1\",\"head_id\":\"001090123456\",\"unit\":\"00004\",\"address_line\":\"5 Kim "   \
    "Mã\"}"
#define HOUSEHOLD_ELSEWHERE                                                                         \
    "{\"id\":\"HK-2\",\"head_id\":\"001090123456\",\"unit\":\"00008\",\"address_line\":\"7 Đội " \
    "Cấn\"}"

#endif
