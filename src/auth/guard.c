/*
 * guard.c - the check before every handler (see http.h and policy.h).
 *
 * Public and signed routes cost nothing: no credential is looked at.  The
 * others cost one hash and one indexed read of the session on a reader
 * connection.
 */
#include <stdio.h>
#include <string.h>
#include <strings.h>

#include "auth/http.h"
#include "auth/policy.h"
#include "core/banned.h"

bool auth_request_token(const struct http_request *req, char out[AUTH_TOKEN_CHARS + 2],
                        bool *from_cookie)
{
    const char *h = http_request_header(req, "Authorization");
    size_t plen = strlen(AUTH_COOKIE);

    *from_cookie = false;
    if (h != NULL) {
        if (strncasecmp(h, "Bearer ", 7) != 0) {
            return false;
        }
        snprintf(out, AUTH_TOKEN_CHARS + 2, "%s", h + 7);
        return true;
    }
    h = http_request_header(req, "Cookie");
    for (const char *p = h; p != NULL && *p != '\0';) {
        size_t len;

        while (*p == ' ' || *p == ';') {
            p++;
        }
        len = strcspn(p, ";");
        if (len > plen && strncmp(p, AUTH_COOKIE, plen) == 0 && p[plen] == '=') {
            snprintf(out, AUTH_TOKEN_CHARS + 2, "%.*s", (int)(len - plen - 1), p + plen + 1);
            *from_cookie = true;
            return true;
        }
        p += len;
    }
    return false;
}

static bool changes_state(const char *method)
{
    return strcmp(method, "GET") != 0 && strcmp(method, "HEAD") != 0 &&
           strcmp(method, "OPTIONS") != 0;
}

static enum lt_code unauthenticated(struct http_request *req, struct lt_error *err)
{
    http_reply_header(req, "WWW-Authenticate", "Bearer realm=\"lienthong\"");
    if (err->code != LT_EUNAUTH) {
        lt_error_set(err, LT_EUNAUTH, "this needs an account");
        lt_error_hint(err, "log in with POST /api/v1/auth/login and send \"Authorization: "
                           "Bearer <token>\"");
    }
    return LT_EUNAUTH;
}

static enum lt_code check_unit(const struct auth *a, const struct auth_principal *p,
                               const char *unit, const char *field, struct lt_error *err)
{
    /* A code no unit ever carried holds nothing: the handler answers it (404). */
    if (unit == NULL || auth_within(a, p, unit) || !units_code_within(auth_units(a), unit, "VN")) {
        return LT_OK;
    }
    lt_error_set(err, LT_EFORBIDDEN, "unit \"%.16s\" is outside your jurisdiction (%s)", unit,
                 p->unit);
    lt_error_field(err, field);
    return LT_EFORBIDDEN;
}

static enum lt_code check_role(const struct auth_rule *rule, const struct auth_principal *p,
                               const char *method, struct lt_error *err)
{
    if ((rule->roles & AUTH_ROLE_BIT(p->role)) != 0) {
        return LT_OK;
    }
    lt_error_set(err, LT_EFORBIDDEN, "the role %s may not %s %s", auth_role_name(p->role), method,
                 rule->pattern);
    return LT_EFORBIDDEN;
}

enum lt_code auth_guard(struct http_request *req, void *ctx, struct lt_error *err)
{
    struct auth *a = ctx;
    const char *method = http_request_method(req);
    const struct auth_rule *rule = auth_policy_find(method, http_request_route(req));
    char token[AUTH_TOKEN_CHARS + 2];
    unsigned char csrf_hash[AUTH_HASH_BYTES];
    struct auth_principal p;
    bool from_cookie;
    enum lt_code rc;

    if (rule == NULL) {
        /* auth_policy_check keeps this from happening in "lienthong serve". */
        lt_error_set(err, LT_EINTERNAL, "no access rule for %s %s", method,
                     http_request_route(req));
        return LT_EINTERNAL;
    }
    if (rule->access != AUTH_ROLES) {
        return LT_OK;
    }
    if (!auth_request_token(req, token, &from_cookie)) {
        return unauthenticated(req, err);
    }
    rc = auth_authenticate(a, token, &p, csrf_hash, err);
    if (rc == LT_EUNAUTH) {
        return unauthenticated(req, err);
    }
    if (rc != LT_OK) {
        return rc;
    }
    if (from_cookie && changes_state(method) &&
        !auth_csrf_matches(csrf_hash, http_request_header(req, "X-CSRF-Token"))) {
        lt_error_set(err, LT_EFORBIDDEN, "missing or wrong X-CSRF-Token");
        lt_error_detail(err, "a request authenticated by the session cookie that changes "
                             "something must carry the csrf value of the login answer");
        lt_error_field(err, "X-CSRF-Token");
        return LT_EFORBIDDEN;
    }
    rc = check_role(rule, &p, method, err);
    if (rc == LT_OK && rule->unit_param != NULL) {
        rc = check_unit(a, &p, http_request_param(req, rule->unit_param), rule->unit_param, err);
    }
    if (rc == LT_OK && rule->unit_query) {
        rc = check_unit(a, &p, http_request_query(req, "unit"), "unit", err);
    }
    if (rc != LT_OK) {
        return rc;
    }
    http_request_set_principal(req, &p);
    return LT_OK;
}
