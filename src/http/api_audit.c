/*
 * api_audit.c - the audit endpoints (see api_audit.h).
 *
 * Handlers turn the query into an audit_filter and the principal into
 * the view: the data subject's (their person, sealed rows held back, no
 * client address) or the auditor's (every detail, rows of accounts within
 * the auditor's jurisdiction).
 */
#include "http/api_audit.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "audit/audit.h"
#include "core/buf.h"
#include "core/date.h"
#include "units/units.h"
#include "core/banned.h"

#define NDJSON_TYPE "application/x-ndjson; charset=utf-8"

static const char *const q_me[] = { "limit", "after", NULL };
static const char *const q_audit[] = { "subject_kind", "subject", "person", "actor", "from",
                                       "to",           "limit",   "after",  NULL };
static const char *const q_export[] = { "from",  "to", "subject_kind", "subject", "person",
                                        "actor", NULL };

static struct node *audit_node;

static enum lt_code query_int(struct http_request *req, const char *name, long long lo,
                              long long hi, long long *out, struct lt_error *err)
{
    const char *s = http_request_query(req, name);
    char *end;
    long long v;

    if (s == NULL) {
        return LT_OK;
    }
    v = strtoll(s, &end, 10);
    if (*s == '\0' || *end != '\0' || v < lo || v > hi) {
        lt_error_set(err, LT_EINVAL, "\"%s\" must be a whole number from %lld to %lld", name, lo,
                     hi);
        lt_error_detail(err, "got \"%.40s\"", s);
        lt_error_field(err, name);
        return LT_EINVAL;
    }
    *out = v;
    return LT_OK;
}

/* A day argument as milliseconds: its start, or the next day's start (end). */
static enum lt_code query_day(struct http_request *req, const char *name, bool end, int64_t *out,
                              struct lt_error *err)
{
    const char *s = http_request_query(req, name);
    int32_t day;

    if (s == NULL || s[0] == '\0') {
        return LT_OK;
    }
    if (date_parse(s, &day, err) != LT_OK) {
        lt_error_field(err, name);
        return LT_EINVAL;
    }
    *out = audit_day_start_ms(end ? day + 1 : day);
    return LT_OK;
}

/* A short text argument (a key, an account name), or "" when absent. */
static enum lt_code query_text(struct http_request *req, const char *name, size_t max,
                               const char **out, struct lt_error *err)
{
    const char *s = http_request_query(req, name);

    *out = "";
    if (s == NULL) {
        return LT_OK;
    }
    if (strlen(s) > max) {
        lt_error_set(err, LT_EINVAL, "\"%s\" is longer than %zu bytes", name, max);
        lt_error_field(err, name);
        return LT_EINVAL;
    }
    *out = s;
    return LT_OK;
}

/* An auditor's jurisdiction test on the unit of a row's actor. */
static bool within_auditor(const char *actor_unit, void *arg)
{
    const struct auth_principal *p = arg;
    const char *unit = actor_unit[0] != '\0' ? actor_unit : evlog_unit(node_evlog(audit_node));

    return units_code_within(node_units(audit_node), unit, p->unit);
}

static enum lt_code need_auditor(const struct auth_principal *p, struct lt_error *err)
{
    if (p != NULL && p->role != AUTH_AUDITOR) {
        lt_error_set(err, LT_EFORBIDDEN, "only an auditor reads the audit trail");
        lt_error_hint(err, "a citizen reads their own access log at /api/v1/me/access-log");
        return LT_EFORBIDDEN;
    }
    return LT_OK;
}

/* The filter of the auditor's routes from the query. */
static enum lt_code auditor_filter(struct http_request *req, struct audit_filter *f,
                                   struct lt_error *err)
{
    const struct auth_principal *p = http_request_principal(req);
    enum registry_kind kind;
    long long limit = AUDIT_PAGE_DEFAULT, after = 0;
    enum lt_code rc;

    memset(f, 0, sizeof(*f));
    f->subject_today = DATE_MIN;
    if ((rc = need_auditor(p, err)) != LT_OK ||
        (rc = query_text(req, "subject_kind", 16, &f->subject_kind, err)) != LT_OK ||
        (rc = query_text(req, "subject", AUDIT_KEY_MAX - 1, &f->subject_key, err)) != LT_OK ||
        (rc = query_text(req, "person", 15, &f->person, err)) != LT_OK ||
        (rc = query_text(req, "actor", AUDIT_ACTOR_MAX - 1, &f->actor, err)) != LT_OK ||
        (rc = query_day(req, "from", false, &f->from_ms, err)) != LT_OK ||
        (rc = query_day(req, "to", true, &f->to_ms, err)) != LT_OK ||
        (rc = query_int(req, "limit", 1, AUDIT_PAGE_MAX, &limit, err)) != LT_OK ||
        (rc = query_int(req, "after", 0, INT64_MAX, &after, err)) != LT_OK) {
        return rc;
    }
    /* a registry's kind, or "dossier" (a dossier read or listed) */
    if (f->subject_kind[0] != '\0' && strcmp(f->subject_kind, "dossier") != 0) {
        if (!registry_kind_parse(f->subject_kind, &kind)) {
            lt_error_set(err, LT_EINVAL, "unknown subject_kind \"%s\"", f->subject_kind);
            lt_error_hint(
                err, "one of person, residence, household, parcel, benefit, business, dossier");
            lt_error_field(err, "subject_kind");
            return LT_EINVAL;
        }
        f->subject_kind = registry_kind_name(kind);
    }
    f->limit = (size_t)limit;
    f->after = after;
    if (p != NULL) {
        f->keep = within_auditor;
        f->keep_arg = (void *)p;
    }
    return LT_OK;
}

static enum lt_code get_access_log(struct http_request *req, void *ctx, struct lt_error *err)
{
    const struct auth_principal *p = http_request_principal(req);
    struct audit_filter f;
    long long limit = AUDIT_PAGE_DEFAULT, after = 0;
    json_t *page = NULL;
    enum lt_code rc;

    (void)ctx;
    if ((rc = http_request_only_query(req, q_me, err)) != LT_OK) {
        return rc;
    }
    if (p == NULL) {
        lt_error_set(err, LT_EUNAUTH, "log in to read your access log");
        return LT_EUNAUTH;
    }
    if (p->person_id[0] == '\0') {
        lt_error_set(err, LT_EFORBIDDEN, "account \"%s\" is not a person's own account",
                     p->account);
        lt_error_hint(err, "the access log belongs to a citizen's account");
        return LT_EFORBIDDEN;
    }
    if ((rc = query_int(req, "limit", 1, AUDIT_PAGE_MAX, &limit, err)) != LT_OK ||
        (rc = query_int(req, "after", 0, INT64_MAX, &after, err)) != LT_OK) {
        return rc;
    }
    memset(&f, 0, sizeof(f));
    f.person = p->person_id;
    f.limit = (size_t)limit;
    f.after = after;
    f.subject_today = date_today();
    rc = audit_query(node_store(audit_node), &f, &page, err);
    if (rc != LT_OK) {
        return rc;
    }
    json_object_set_new(page, "person", json_string(p->person_id));
    return http_reply_json(req, 200, page);
}

static enum lt_code get_audit(struct http_request *req, void *ctx, struct lt_error *err)
{
    struct audit_filter f;
    json_t *page = NULL;
    enum lt_code rc;

    (void)ctx;
    if ((rc = http_request_only_query(req, q_audit, err)) != LT_OK ||
        (rc = auditor_filter(req, &f, err)) != LT_OK ||
        (rc = audit_query(node_store(audit_node), &f, &page, err)) != LT_OK) {
        return rc;
    }
    return http_reply_json(req, 200, page);
}

static enum lt_code add_line(const char *line, size_t len, void *arg, struct lt_error *err)
{
    struct buf *b = arg;

    if (buf_append(b, line, len) != LT_OK || buf_append_char(b, '\n') != LT_OK) {
        lt_error_set(err, LT_ETOOBIG, "the export is larger than %zu MiB",
                     API_AUDIT_EXPORT_MAX >> 20);
        lt_error_hint(err, "narrow it with from= and to=, or run \"lienthong audit export\" "
                           "on the node");
        return LT_ETOOBIG;
    }
    return LT_OK;
}

static enum lt_code get_export(struct http_request *req, void *ctx, struct lt_error *err)
{
    struct audit_filter f;
    struct buf b;
    enum lt_code rc;

    (void)ctx;
    if ((rc = http_request_only_query(req, q_export, err)) != LT_OK ||
        (rc = auditor_filter(req, &f, err)) != LT_OK) {
        return rc;
    }
    buf_init(&b, API_AUDIT_EXPORT_MAX);
    rc = audit_export(node_store(audit_node), &f, add_line, &b, err);
    if (rc == LT_OK) {
        rc = http_reply_buf(req, 200, NDJSON_TYPE, &b);
    }
    buf_release(&b);
    return rc;
}

void api_audit_register(struct http_server *s, struct node *n)
{
    audit_node = n;
    http_server_route(s, "GET", "/api/v1/me/access-log", get_access_log, NULL);
    http_server_route(s, "GET", "/api/v1/audit", get_audit, NULL);
    http_server_route(s, "GET", "/api/v1/audit/export", get_export, NULL);
}
