/*
 * enrol.c - issuing tokens, accepting and requesting enrolments.
 *
 * Design note.  The parent's checks and writes run in one write callback:
 * the token is marked used, the child row and the pinned key are added and
 * the node.enrolled event is appended together, or none of them is.  The
 * token is compared by its hash only; a guess needs 160 bits.
 */
#include "sync/enrol.h"

#include <sodium.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/date.h"
#include "sync/apply.h"
#include "sync/client.h"
#include "sync/verify.h"
#include "core/banned.h"

bool sync_url_ok(const char *url)
{
    size_t len = url != NULL ? strlen(url) : 0;

    if (len == 0 || len >= SYNC_URL_MAX) {
        return false;
    }
    if (strncmp(url, "http://", 7) != 0 && strncmp(url, "https://", 8) != 0) {
        return false;
    }
    for (size_t i = 0; i < len; i++) {
        if ((unsigned char)url[i] <= ' ' || url[i] == '"' || url[i] == '\\') {
            return false;
        }
    }
    return url[url[4] == 's' ? 8 : 7] != '\0';
}

static void token_hash(const char *token, uint8_t out[32])
{
    crypto_generichash(out, 32, (const unsigned char *)token, strlen(token), NULL, 0);
}

/* Can a node of child_unit be a child of a node of parent_unit? */
static enum lt_code child_unit_ok(const struct units *u, const char *parent_unit,
                                  const char *child_unit, struct lt_error *err)
{
    const struct unit *unit = units_find(u, child_unit, date_today());

    if (unit == NULL) {
        lt_error_set(err, LT_EINVAL, "no unit \"%.16s\" is in force today", child_unit);
        lt_error_hint(err, "find the code by name: lienthong units search \"<name>\"");
        return LT_EINVAL;
    }
    if (strcmp(child_unit, parent_unit) == 0 || !units_code_within(u, child_unit, parent_unit)) {
        lt_error_set(err, LT_EINVAL, "unit %s (%s) is not inside this node's unit %s", child_unit,
                     unit->name, parent_unit);
        lt_error_hint(err, "a node enrols the nodes of units inside its own");
        return LT_EINVAL;
    }
    return LT_OK;
}

struct issue {
    uint8_t hash[32];
    const char *unit;
    int64_t now, expires;
};

static enum lt_code issue_fn(struct store_conn *c, void *arg, struct lt_error *err)
{
    const struct issue *is = arg;

    return sync_token_add(c, is->hash, is->unit, is->now, is->expires, err);
}

enum lt_code sync_enrol_issue(struct node *n, const char *child_unit, int64_t ttl_ms,
                              char token[SYNC_TOKEN_CHARS + 1], int64_t *expires_ms,
                              struct lt_error *err)
{
    uint8_t raw[SYNC_TOKEN_BYTES];
    struct issue is = { .unit = child_unit };
    enum lt_code rc;

    rc = child_unit_ok(node_units(n), evlog_unit(node_evlog(n)), child_unit, err);
    if (rc != LT_OK) {
        return rc;
    }
    if (sodium_init() < 0) {
        return lt_error_set(err, LT_EINTERNAL, "could not initialise libsodium");
    }
    randombytes_buf(raw, sizeof(raw));
    sync_hex(raw, sizeof(raw), token);
    sodium_memzero(raw, sizeof(raw));
    token_hash(token, is.hash);
    is.now = sync_now_ms();
    is.expires = is.now + (ttl_ms > 0 ? ttl_ms : SYNC_TOKEN_TTL_MS);
    *expires_ms = is.expires;
    return store_write(node_store(n), issue_fn, &is, err);
}

/* An enrolment request, as the parent reads it. */
struct accept {
    struct node *n;
    uint8_t hash[32];
    char origin[EVLOG_ORIGIN_MAX];
    char unit[UNIT_CODE_MAX];
    uint8_t pk[SYNC_PK_BYTES];
    int64_t now;
    int64_t position; /* of the enrolment event, set by the write */
    int status;
};

static enum lt_code forbidden(struct accept *a, struct lt_error *err, const char *msg)
{
    a->status = 403;
    lt_error_set(err, LT_EINVAL, "%s", msg);
    lt_error_hint(err, "ask the parent's operator for a new token: lienthong enrol --child-unit %s",
                  a->unit);
    return LT_EINVAL;
}

static enum lt_code append_enrolment(struct accept *a, struct store_conn *c, struct lt_error *err)
{
    struct evlog *log = node_evlog(a->n);
    const struct unit *unit = units_find(node_units(a->n), a->unit, date_today());
    struct event ev;
    char pk[SYNC_PK_HEX];
    json_t *body;
    enum lt_code rc;

    memset(&ev, 0, sizeof(ev));
    sync_hex(a->pk, sizeof(a->pk), pk);
    body = json_pack("{s:s, s:s, s:s, s:s, s:s}", "origin", a->origin, "unit", a->unit, "unit_name",
                     unit != NULL ? unit->name : "", "public_key", pk, "parent", evlog_origin(log));
    snprintf(ev.actor, sizeof(ev.actor), "system");
    snprintf(ev.type, sizeof(ev.type), "%s", SYNC_EVENT_ENROLLED);
    snprintf(ev.entity, sizeof(ev.entity), "node/%s", a->origin);
    snprintf(ev.cause, sizeof(ev.cause), "lienthong enrol");
    ev.effective = date_today();
    ev.body = json_dumps(body, JSON_COMPACT | JSON_PRESERVE_ORDER);
    json_decref(body);
    rc = evlog_append(log, c, &ev, NULL, err);
    if (rc == LT_OK) {
        a->position = ev.pos;
        rc = sync_learn_enrolment(c, &ev, err);
    }
    free(ev.body);
    return rc;
}

/* The same child asking again with the token it used: the same answer. */
static enum lt_code repeated(struct accept *a, struct store_conn *c, struct lt_error *err)
{
    struct sync_known k;
    bool found = false;
    enum lt_code rc = sync_known_get(c, a->origin, &k, &found, err);

    if (rc != LT_OK) {
        return rc;
    }
    if (!found || memcmp(k.pk, a->pk, SYNC_PK_BYTES) != 0) {
        return forbidden(a, err, "the enrolment token was used already");
    }
    a->position = 0;
    return LT_OK;
}

static enum lt_code accept_fn(struct store_conn *c, void *arg, struct lt_error *err)
{
    struct accept *a = arg;
    struct sync_token t;
    struct sync_child ch;
    bool found = false;
    enum lt_code rc = sync_token_get(c, a->hash, &t, &found, err);

    if (rc != LT_OK) {
        return rc;
    }
    if (!found) {
        return forbidden(a, err, "the enrolment token is not known here");
    }
    if (t.used_by[0] != '\0') {
        return strcmp(t.used_by, a->origin) == 0 ? repeated(a, c, err)
                                                 : forbidden(a, err, "the token was used already");
    }
    if (t.expires_ms < a->now) {
        return forbidden(a, err, "the enrolment token has expired");
    }
    if (strcmp(t.unit, a->unit) != 0) {
        a->status = 403;
        lt_error_set(err, LT_EINVAL, "the token was issued for unit %s, not %s", t.unit, a->unit);
        return LT_EINVAL;
    }
    rc = sync_child_get(c, a->origin, &ch, &found, err);
    if (rc == LT_OK && found) {
        a->status = 409;
        lt_error_set(err, LT_ECONFLICT, "node \"%s\" is enrolled here already", a->origin);
        return LT_ECONFLICT;
    }
    if (rc == LT_OK) {
        rc = sync_token_use(c, a->hash, a->origin, a->now, err);
    }
    if (rc == LT_OK) {
        rc = sync_child_add(c, a->origin, a->unit, a->now, err);
    }
    if (rc == LT_OK) {
        rc = append_enrolment(a, c, err);
    }
    if (rc == LT_ECONFLICT) {
        a->status = 409;
    }
    return rc;
}

/* Read the request body into a; 400 on anything malformed. */
static enum lt_code parse_request(struct accept *a, const char *body, size_t len, char *token,
                                  struct lt_error *err)
{
    json_error_t jerr;
    json_t *j = json_loadb(body, len, JSON_REJECT_DUPLICATES, &jerr);
    const char *tok, *origin, *unit, *pk;
    enum lt_code rc = LT_OK;

    a->status = 400;
    tok = json_string_value(json_object_get(j, "token"));
    origin = json_string_value(json_object_get(j, "origin"));
    unit = json_string_value(json_object_get(j, "unit"));
    pk = json_string_value(json_object_get(j, "public_key"));
    if (j == NULL || tok == NULL || origin == NULL || unit == NULL || pk == NULL) {
        rc = lt_error_set(err, LT_EINVAL,
                          "an enrolment needs \"token\", \"origin\", \"unit\" and \"public_key\"");
        goto out;
    }
    if (strlen(tok) != SYNC_TOKEN_CHARS || strlen(origin) >= sizeof(a->origin) ||
        origin[0] == '\0' || strlen(unit) >= sizeof(a->unit) ||
        !sync_unhex(pk, a->pk, sizeof(a->pk))) {
        rc = lt_error_set(err, LT_EINVAL, "the enrolment request is malformed");
        lt_error_detail(err, "token: %d hex digits, public_key: 64 hex digits", SYNC_TOKEN_CHARS);
        goto out;
    }
    snprintf(token, SYNC_TOKEN_CHARS + 1, "%s", tok);
    snprintf(a->origin, sizeof(a->origin), "%s", origin);
    snprintf(a->unit, sizeof(a->unit), "%s", unit);

out:
    json_decref(j);
    return rc;
}

enum lt_code sync_enrol_accept(struct node *n, const struct sync_key *key, const char *body,
                               size_t len, const char *origin_hdr, const char *time_hdr,
                               const char *sig_hdr, json_t **reply, int *http_status,
                               struct lt_error *err)
{
    struct accept a = { .n = n };
    char token[SYNC_TOKEN_CHARS + 1], pk[SYNC_PK_HEX];
    enum lt_code rc;

    *reply = NULL;
    rc = parse_request(&a, body, len, token, err);
    if (rc == LT_OK) {
        a.status = 403;
        if (origin_hdr == NULL || strcmp(origin_hdr, a.origin) != 0) {
            rc = lt_error_set(err, LT_EINVAL, "header %s must name the enrolling node",
                              SYNC_HDR_ORIGIN);
        } else {
            rc = sync_check_request(a.pk, "POST", "/sync/v1/enrol", a.origin, time_hdr, sig_hdr,
                                    body, len, sync_now_ms(), err);
        }
    }
    if (rc == LT_OK) {
        a.status = 400;
        rc = child_unit_ok(node_units(n), evlog_unit(node_evlog(n)), a.unit, err);
    }
    if (rc == LT_OK) {
        a.status = 500;
        token_hash(token, a.hash);
        a.now = sync_now_ms();
        rc = store_write(node_store(n), accept_fn, &a, err);
    }
    sodium_memzero(token, sizeof(token));
    if (rc != LT_OK) {
        *http_status = a.status != 500 ? a.status : lt_code_http_status(rc);
        return rc;
    }
    sync_hex(key->pk, sizeof(key->pk), pk);
    *reply = json_pack("{s:{s:s, s:s, s:s}, s:s, s:s, s:I}", "parent", "origin",
                       evlog_origin(node_evlog(n)), "unit", evlog_unit(node_evlog(n)), "public_key",
                       pk, "origin", a.origin, "unit", a.unit, "position", (json_int_t)a.position);
    return LT_OK;
}

/* Child side. */

struct self_read {
    struct sync_self self;
    bool found;
};

static enum lt_code self_fn(struct store_conn *c, void *arg, struct lt_error *err)
{
    struct self_read *r = arg;

    return sync_self_get(c, &r->self, &r->found, err);
}

static enum lt_code record_fn(struct store_conn *c, void *arg, struct lt_error *err)
{
    const struct sync_enrolment *e = arg;

    return sync_self_set_parent(c, e->parent_url, e->parent_origin, e->parent_unit, e->parent_pk,
                                sync_now_ms(), err);
}

/* The parent's error body into err, or a generic message. */
static enum lt_code refused(const struct buf *reply, long status, const char *url,
                            struct lt_error *err)
{
    json_t *j = json_loads(buf_str(reply), 0, NULL);
    json_t *e = json_object_get(j, "error");
    const char *msg = json_string_value(json_object_get(e, "message"));
    const char *hint = json_string_value(json_object_get(e, "hint"));
    enum lt_code rc = status == 409 ? LT_ECONFLICT : LT_EINVAL;

    lt_error_set(err, rc, "the parent at %s refused the enrolment: %s", url,
                 msg != NULL ? msg : "no reason given");
    lt_error_detail(err, "HTTP status %ld", status);
    if (hint != NULL) {
        lt_error_hint(err, "%s", hint);
    }
    json_decref(j);
    return rc;
}

static enum lt_code read_answer(const struct buf *reply, struct sync_enrolment *out,
                                struct lt_error *err)
{
    json_t *j = json_loads(buf_str(reply), 0, NULL);
    json_t *p = json_object_get(j, "parent");
    const char *origin = json_string_value(json_object_get(p, "origin"));
    const char *unit = json_string_value(json_object_get(p, "unit"));
    const char *pk = json_string_value(json_object_get(p, "public_key"));
    enum lt_code rc = LT_OK;

    if (origin == NULL || unit == NULL || pk == NULL || strlen(origin) >= EVLOG_ORIGIN_MAX ||
        strlen(unit) >= UNIT_CODE_MAX || !sync_unhex(pk, out->parent_pk, SYNC_PK_BYTES)) {
        rc = lt_error_set(err, LT_EINVAL, "the parent's answer to the enrolment is malformed");
    } else {
        snprintf(out->parent_origin, sizeof(out->parent_origin), "%s", origin);
        snprintf(out->parent_unit, sizeof(out->parent_unit), "%s", unit);
        out->position = json_integer_value(json_object_get(j, "position"));
    }
    json_decref(j);
    return rc;
}

static enum lt_code send_request(struct node *n, const struct sync_key *key, const char *token,
                                 struct sync_enrolment *out, struct lt_error *err)
{
    struct evlog *log = node_evlog(n);
    struct sync_client *cl = NULL;
    struct buf reply;
    char pk[SYNC_PK_HEX], *text;
    long status = 0;
    json_t *body;
    enum lt_code rc;

    sync_hex(key->pk, sizeof(key->pk), pk);
    body = json_pack("{s:s, s:s, s:s, s:s}", "token", token, "origin", evlog_origin(log), "unit",
                     evlog_unit(log), "public_key", pk);
    text = json_dumps(body, JSON_COMPACT);
    json_decref(body);
    buf_init(&reply, SYNC_REPLY_MAX);
    cl = sync_client_new(out->parent_url, key, evlog_origin(log), NULL, 30000);
    rc =
        sync_client_request(cl, "POST", "/sync/v1/enrol", text, strlen(text), &status, &reply, err);
    if (rc == LT_OK && status != 200) {
        rc = refused(&reply, status, out->parent_url, err);
    }
    if (rc == LT_OK) {
        rc = read_answer(&reply, out, err);
    }
    sync_client_free(cl);
    buf_release(&reply);
    free(text);
    return rc;
}

enum lt_code sync_enrol_request(struct node *n, const char *dir, const char *token,
                                const char *parent_url, struct sync_enrolment *out,
                                struct lt_error *err)
{
    struct self_read r;
    struct sync_key key;
    const char *mine = evlog_unit(node_evlog(n));
    enum lt_code rc;

    memset(out, 0, sizeof(*out));
    rc = store_read(node_store(n), self_fn, &r, err);
    if (rc == LT_OK && !r.found) {
        rc = lt_error_set(err, LT_ENOTFOUND, "this node has no sync identity");
        lt_error_hint(err, "it was made before nodes had keys; make a new one with lienthong init");
    }
    if (rc != LT_OK) {
        return rc;
    }
    if (parent_url == NULL || parent_url[0] == '\0') {
        parent_url = r.self.parent_url;
    }
    if (!sync_url_ok(parent_url)) {
        lt_error_set(err, LT_EINVAL, "no parent URL to enrol with");
        lt_error_hint(err,
                      "give it: lienthong enrol --data DIR --token T --parent http://HOST:PORT");
        return LT_EINVAL;
    }
    snprintf(out->parent_url, sizeof(out->parent_url), "%s", parent_url);
    rc = sync_key_load(dir, &key, err);
    if (rc == LT_OK && memcmp(key.pk, r.self.pk, SYNC_PK_BYTES) != 0) {
        rc = lt_error_set(err, LT_EINVAL, "the key file of \"%s\" is not this node's key", dir);
    }
    if (rc == LT_OK) {
        rc = send_request(n, &key, token, out, err);
    }
    sync_key_wipe(&key);
    if (rc == LT_OK && (strcmp(out->parent_unit, mine) == 0 ||
                        !units_code_within(node_units(n), mine, out->parent_unit))) {
        rc = lt_error_set(err, LT_EINVAL, "the parent serves unit %s, which does not contain %s",
                          out->parent_unit, mine);
    }
    if (rc == LT_OK) {
        rc = store_write(node_store(n), record_fn, out, err);
    }
    return rc;
}
