/*
 * routes.c - login, logout, the caller, and accounts over HTTP (http.h).
 *
 * Logins and account creation hash passwords (tens of milliseconds of one
 * core), and every change here waits for a commit, so those handlers check
 * their input on the worker and finish on the server's blocking pool
 * (http_request_defer): a burst of logins never holds the workers that
 * serve reads.
 */
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "auth/http.h"
#include "auth/password.h"
#include "auth/policy.h"
#include "core/buf.h"
#include "core/log.h"
#include "core/banned.h"

#define LOG_COMP "auth"

static void iso_time(int64_t ms, char out[32])
{
    time_t t = (time_t)(ms / 1000);
    struct tm tm;

    gmtime_r(&t, &tm);
    strftime(out, 32, "%Y-%m-%dT%H:%M:%SZ", &tm);
}

static json_t *principal_json(const struct auth_principal *p)
{
    json_t *o = json_pack("{s:s, s:s, s:s}", "account", p->account, "role", auth_role_name(p->role),
                          "unit", p->unit);

    if (p->person_id[0] != '\0') {
        json_object_set_new(o, "person_id", json_string(p->person_id));
    }
    return o;
}

/* A string member of body, or NULL with err filled. */
static const char *member(json_t *body, const char *name, bool required, size_t max,
                          struct lt_error *err)
{
    json_t *v = json_object_get(body, name);

    if (v == NULL || json_is_null(v)) {
        if (required) {
            lt_error_set(err, LT_EINVAL, "\"%s\" is required", name);
            lt_error_field(err, name);
        }
        return NULL;
    }
    if (!json_is_string(v) || json_string_length(v) >= max) {
        lt_error_set(err, LT_EINVAL, "\"%s\" must be a string of fewer than %zu bytes", name, max);
        lt_error_field(err, name);
        return NULL;
    }
    return json_string_value(v);
}

/* The routes below that act for an account refuse to run without one
 * (as under "serve --no-auth", where no guard runs). */
static enum lt_code need_account(const struct http_request *req, struct lt_error *err)
{
    if (http_request_principal(req) != NULL) {
        return LT_OK;
    }
    lt_error_set(err, LT_EUNAUTH, "this needs an account");
    lt_error_hint(err, "accounts are off on this node (--no-auth)");
    return LT_EUNAUTH;
}

/* Secure when the client reached us over TLS, directly or through a proxy. */
static bool secure_cookie(const struct http_request *req)
{
    const char *proto = http_request_header(req, "X-Forwarded-Proto");

    return http_request_tls(req) || (proto != NULL && strcmp(proto, "https") == 0);
}

static void set_cookie(struct http_request *req, const char *token, int64_t max_age_s)
{
    char cookie[160];

    snprintf(cookie, sizeof(cookie), "%s=%s; HttpOnly; SameSite=Strict; Path=/; Max-Age=%lld%s",
             AUTH_COOKIE, token, (long long)max_age_s, secure_cookie(req) ? "; Secure" : "");
    http_reply_header(req, "Set-Cookie", cookie);
}

/* Login. */

struct login {
    struct auth *auth;
    json_t *body;
};

static enum lt_code finish_login(struct http_request *req, void *arg, struct lt_error *err)
{
    struct login *l = arg;
    const char *account = json_string_value(json_object_get(l->body, "account"));
    const char *password = json_string_value(json_object_get(l->body, "password"));
    struct auth_session sess;
    int64_t retry_ms = 0;
    char when[32], retry[24];
    json_t *o;
    enum lt_code rc;

    rc = auth_login(l->auth, account, password, http_request_client(req), &sess, &retry_ms, err);
    json_decref(l->body);
    free(l);
    if (rc == LT_ELIMIT) {
        snprintf(retry, sizeof(retry), "%lld", (long long)(retry_ms + 999) / 1000);
        http_reply_header(req, "Retry-After", retry);
    }
    if (rc != LT_OK) {
        if (rc == LT_EUNAUTH || rc == LT_ELIMIT) {
            log_info(LOG_COMP, "login of \"%.64s\" from %s refused: %s", account,
                     http_request_client(req), err->message);
        }
        return rc;
    }
    iso_time(sess.expires_ms, when);
    o = principal_json(&sess.principal);
    json_object_set_new(o, "token", json_string(sess.token));
    json_object_set_new(o, "csrf", json_string(sess.csrf));
    json_object_set_new(o, "expires_at", json_string(when));
    set_cookie(req, sess.token, (sess.expires_ms - (int64_t)time(NULL) * 1000) / 1000);
    log_info(LOG_COMP, "\"%s\" (%s, %s) logged in from %s", sess.principal.account,
             auth_role_name(sess.principal.role), sess.principal.unit, http_request_client(req));
    return http_reply_json(req, 200, o);
}

static enum lt_code post_login(struct http_request *req, void *ctx, struct lt_error *err)
{
    json_t *body = NULL;
    struct login *l;
    enum lt_code rc = http_request_json(req, &body, err);

    if (rc != LT_OK) {
        return rc;
    }
    if (member(body, "account", true, AUTH_ACCOUNT_MAX * 4, err) == NULL ||
        member(body, "password", true, PASSWORD_MAX_BYTES + 1, err) == NULL) {
        json_decref(body);
        return LT_EINVAL;
    }
    l = xcalloc(1, sizeof(*l));
    l->auth = ctx;
    l->body = body;
    http_request_defer(req, finish_login, l);
    return LT_OK;
}

/* Logout. */

struct logout {
    struct auth *auth;
    char token[AUTH_TOKEN_CHARS + 2];
};

static enum lt_code finish_logout(struct http_request *req, void *arg, struct lt_error *err)
{
    struct logout *l = arg;
    enum lt_code rc = auth_logout(l->auth, l->token, err);

    free(l);
    if (rc != LT_OK) {
        return rc;
    }
    set_cookie(req, "", 0);
    return http_reply_json(req, 200, json_pack("{s:b}", "logged_out", 1));
}

static enum lt_code post_logout(struct http_request *req, void *ctx, struct lt_error *err)
{
    struct logout *l = xcalloc(1, sizeof(*l));
    bool from_cookie;

    if (need_account(req, err) != LT_OK) {
        free(l);
        return LT_EUNAUTH;
    }
    l->auth = ctx;
    auth_request_token(req, l->token, &from_cookie);
    http_request_defer(req, finish_logout, l);
    return LT_OK;
}

static enum lt_code get_me(struct http_request *req, void *ctx, struct lt_error *err)
{
    (void)ctx;
    if (need_account(req, err) != LT_OK) {
        return LT_EUNAUTH;
    }
    return http_reply_json(req, 200, principal_json(http_request_principal(req)));
}

/* Accounts. */

struct account_add {
    struct auth *auth;
    struct auth_principal acct;
    json_t *body; /* holds the password */
};

static enum lt_code finish_account_add(struct http_request *req, void *arg, struct lt_error *err)
{
    struct account_add *j = arg;
    const char *password = json_string_value(json_object_get(j->body, "password"));
    enum lt_code rc =
        auth_account_add(j->auth, http_request_principal(req), &j->acct, password, err);
    json_t *o = rc == LT_OK ? principal_json(&j->acct) : NULL;

    if (rc == LT_OK) {
        log_notice(LOG_COMP, "\"%s\" added account \"%s\" (%s, %s)",
                   http_request_principal(req)->account, j->acct.account,
                   auth_role_name(j->acct.role), j->acct.unit);
    }
    json_decref(j->body);
    free(j);
    return rc == LT_OK ? http_reply_json(req, 201, o) : rc;
}

static enum lt_code post_account(struct http_request *req, void *ctx, struct lt_error *err)
{
    json_t *body = NULL;
    struct account_add *j;
    const char *name, *role, *unit, *person = NULL;
    enum lt_code rc = need_account(req, err);

    if (rc == LT_OK) {
        rc = http_request_json(req, &body, err);
    }
    if (rc != LT_OK) {
        return rc;
    }
    if ((name = member(body, "account", true, AUTH_ACCOUNT_MAX, err)) == NULL ||
        member(body, "password", true, PASSWORD_MAX_BYTES + 1, err) == NULL ||
        (role = member(body, "role", true, 16, err)) == NULL ||
        (unit = member(body, "unit", true, AUTH_UNIT_MAX, err)) == NULL ||
        ((person = member(body, "person_id", false, AUTH_PERSON_MAX, err)) == NULL &&
         err->code != LT_OK)) {
        json_decref(body);
        return LT_EINVAL;
    }
    j = xcalloc(1, sizeof(*j));
    if (!auth_role_parse(role, &j->acct.role)) {
        /* role points into body: word the error before letting it go */
        lt_error_set(err, LT_EINVAL, "unknown role \"%.16s\"", role);
        lt_error_hint(err, "one of citizen, clerk, officer, auditor, admin");
        lt_error_field(err, "role");
        free(j);
        json_decref(body);
        return LT_EINVAL;
    }
    j->auth = ctx;
    j->body = body;
    snprintf(j->acct.account, sizeof(j->acct.account), "%s", name);
    snprintf(j->acct.unit, sizeof(j->acct.unit), "%s", unit);
    snprintf(j->acct.person_id, sizeof(j->acct.person_id), "%s", person != NULL ? person : "");
    http_request_defer(req, finish_account_add, j);
    return LT_OK;
}

static enum lt_code get_accounts(struct http_request *req, void *ctx, struct lt_error *err)
{
    const char *unit = http_request_query(req, "unit");
    json_t *list = NULL;
    enum lt_code rc;

    if (need_account(req, err) != LT_OK) {
        return LT_EUNAUTH;
    }
    if (unit == NULL || unit[0] == '\0') {
        unit = http_request_principal(req)->unit;
    }
    rc = auth_account_list(ctx, unit, &list, err);
    if (rc != LT_OK) {
        return rc;
    }
    return http_reply_json(req, 200, json_pack("{s:o}", "accounts", list));
}

struct account_disable {
    struct auth *auth;
    char name[AUTH_ACCOUNT_MAX];
};

static enum lt_code finish_disable(struct http_request *req, void *arg, struct lt_error *err)
{
    struct account_disable *j = arg;
    enum lt_code rc = auth_account_disable(j->auth, http_request_principal(req), j->name, err);
    json_t *o = rc == LT_OK ? json_pack("{s:s, s:b}", "account", j->name, "disabled", 1) : NULL;

    if (rc == LT_OK) {
        log_notice(LOG_COMP, "\"%s\" disabled account \"%s\"", http_request_principal(req)->account,
                   j->name);
    }
    free(j);
    return rc == LT_OK ? http_reply_json(req, 200, o) : rc;
}

static enum lt_code post_disable(struct http_request *req, void *ctx, struct lt_error *err)
{
    const char *name = http_request_param(req, "name");
    struct account_disable *j;

    if (need_account(req, err) != LT_OK) {
        return LT_EUNAUTH;
    }
    if (strlen(name) >= AUTH_ACCOUNT_MAX) {
        lt_error_set(err, LT_ENOTFOUND, "no account \"%.64s\"", name);
        return LT_ENOTFOUND;
    }
    j = xcalloc(1, sizeof(*j));
    j->auth = ctx;
    snprintf(j->name, sizeof(j->name), "%s", name);
    http_request_defer(req, finish_disable, j);
    return LT_OK;
}

void auth_http_register(struct auth *a, struct http_server *s)
{
    http_server_route(s, "POST", "/api/v1/auth/login", post_login, a);
    http_server_route(s, "POST", "/api/v1/auth/logout", post_logout, a);
    http_server_route(s, "GET", "/api/v1/auth/me", get_me, a);
    http_server_route(s, "POST", "/api/v1/accounts", post_account, a);
    http_server_route(s, "GET", "/api/v1/accounts", get_accounts, a);
    http_server_route(s, "POST", "/api/v1/accounts/{name}/disable", post_disable, a);
    http_server_set_guard(s, auth_guard, a);
}
