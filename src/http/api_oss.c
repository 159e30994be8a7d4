/*
 * api_oss.c - the one-stop shop endpoints (see api_oss.h).
 *
 * Handlers translate only: query and body to an oss call, its answer or
 * error to JSON (or, for /lookup, to a small HTML page that works without
 * JavaScript).  Receipt and actions are parsed on the worker and written
 * on the blocking pool, where they wait for their commit.
 */
#include "http/api_oss.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "audit/audit.h"
#include "core/buf.h"
#include "core/date.h"
#include "http/api_registry.h"
#include "http/json_body.h"
#include "oss/code.h"
#include "oss/reference.h"
#include "registry/ids.h"
#include "core/banned.h"

#define HTML_TYPE "text/html; charset=utf-8"
#define HTML_MAX  (64 * 1024)

static enum lt_code query_day(struct http_request *req, const char *name, int32_t dflt,
                              int32_t *out, struct lt_error *err)
{
    const char *s = http_request_query(req, name);

    *out = dflt;
    if (s == NULL || s[0] == '\0') {
        return LT_OK;
    }
    if (date_parse(s, out, err) != LT_OK) {
        lt_error_field(err, name);
        return LT_EINVAL;
    }
    return LT_OK;
}

/* The query parameters each route takes; any other is refused (400). */
static const char *const q_none[] = { NULL };
static const char *const q_date[] = { "date", NULL };
static const char *const q_queue[] = { "unit", "status", "due", "side", "after", "limit", NULL };
static const char *const q_indicators[] = { "unit", "from", "to", NULL };

static enum lt_code list_procedures(struct http_request *req, void *ctx, struct lt_error *err)
{
    struct oss *o = ctx;
    const struct oss_procedure *ps[128];
    int32_t day;
    size_t n;
    json_t *arr;
    enum lt_code rc = http_request_only_query(req, q_date, err);

    if (rc == LT_OK) {
        rc = query_day(req, "date", date_today(), &day, err);
    }
    if (rc != LT_OK) {
        return rc;
    }
    n = oss_catalogue_in_force(oss_catalogue(o), day, ps, 128);
    arr = json_array();
    for (size_t i = 0; i < n && i < 128; i++) {
        json_array_append_new(arr, oss_procedure_summary_json(ps[i]));
    }
    return http_reply_json(req, 200, json_pack("{s:o}", "procedures", arr));
}

static enum lt_code get_procedure(struct http_request *req, void *ctx, struct lt_error *err)
{
    struct oss *o = ctx;
    const char *code = http_request_param(req, "code");
    const struct oss_procedure *p;
    int32_t day;
    enum lt_code rc = http_request_only_query(req, q_date, err);

    if (rc == LT_OK) {
        rc = query_day(req, "date", date_today(), &day, err);
    }
    if (rc != LT_OK) {
        return rc;
    }
    p = oss_catalogue_find(oss_catalogue(o), code, day);
    if (p == NULL) {
        lt_error_set(err, LT_ENOTFOUND, "no procedure \"%.60s\" is in force on that day", code);
        lt_error_hint(err, "GET /api/v1/procedures lists them");
        return LT_ENOTFOUND;
    }
    return http_reply_json(req, 200, oss_procedure_json(p));
}

struct job {
    struct oss *o;
    json_t *body;
    char code[OSS_DOSSIER_CODE_MAX + 20];
};

static void job_free(struct job *j)
{
    json_decref(j->body);
    free(j);
}

static enum lt_code run_receive(struct http_request *req, void *arg, struct lt_error *err)
{
    struct job *j = arg;
    json_t *d = NULL;
    char location[64];
    enum lt_code rc = oss_receive(j->o, http_request_principal(req), j->body, &d, err);

    job_free(j);
    if (rc != LT_OK) {
        return rc;
    }
    snprintf(location, sizeof(location), "/api/v1/dossiers/%s",
             json_string_value(json_object_get(d, "code")));
    http_reply_header(req, "Location", location);
    return http_reply_json(req, 201, d);
}

static enum lt_code run_action(struct http_request *req, void *arg, struct lt_error *err)
{
    struct job *j = arg;
    json_t *d = NULL;
    enum lt_code rc = oss_act(j->o, http_request_principal(req), j->code, j->body, &d, err);

    job_free(j);
    return rc != LT_OK ? rc : http_reply_json(req, 200, d);
}

/* The members of the bodies: a receipt, its applicant, an action. */
static const char *const b_receipt[] = { "procedure", "applicant", "channel",
                                         "documents", "fields",    NULL };
static const char *const b_applicant[] = { "kind", "id", NULL };
static const char *const b_action[] = { "action", "version", "step", "reason", "note", NULL };

/* Only the members of allowed (and of an applicant, in a receipt). */
static enum lt_code check_body(const json_t *body, const char *const *allowed, struct lt_error *err)
{
    const json_t *app = json_object_get(body, "applicant");
    char field[LT_ERROR_FIELD_MAX];
    enum lt_code rc = http_json_only_fields(body, allowed, err);

    if (rc == LT_OK && allowed == b_receipt && json_is_object(app) &&
        (rc = http_json_only_fields(app, b_applicant, err)) != LT_OK) {
        snprintf(field, sizeof(field), "applicant.%.50s", err->field);
        lt_error_field(err, field);
    }
    return rc;
}

/* Parse the body on the worker and finish on the blocking pool. */
static enum lt_code defer_write(struct http_request *req, struct oss *o, const char *code,
                                const char *const *allowed, http_handler_fn fn,
                                struct lt_error *err)
{
    struct job *j;
    json_t *body = NULL;
    enum lt_code rc;

    rc = oss_require_principal(http_request_principal(req), err);
    if (rc == LT_OK) {
        rc = http_request_only_query(req, q_none, err);
    }
    if (rc != LT_OK) {
        return rc;
    }
    rc = http_request_json(req, &body, err);
    if (rc == LT_OK && (rc = check_body(body, allowed, err)) != LT_OK) {
        json_decref(body);
    }
    if (rc != LT_OK) {
        return rc;
    }
    j = xcalloc(1, sizeof(*j));
    j->o = o;
    j->body = body;
    snprintf(j->code, sizeof(j->code), "%s", code != NULL ? code : "");
    http_request_defer(req, fn, j);
    return LT_OK;
}

static enum lt_code post_dossier(struct http_request *req, void *ctx, struct lt_error *err)
{
    return defer_write(req, ctx, NULL, b_receipt, run_receive, err);
}

static enum lt_code post_action(struct http_request *req, void *ctx, struct lt_error *err)
{
    const char *code = http_request_param(req, "code");

    if (strlen(code) > OSS_DOSSIER_CODE_MAX + 8) {
        lt_error_set(err, LT_EINVAL, "a dossier code has 9 symbols");
        lt_error_field(err, "code");
        return LT_EINVAL;
    }
    return defer_write(req, ctx, code, b_action, run_action, err);
}

#define DOSSIER_SUBJECTS_MAX 16

/* A dossier (an item of the queue, or the whole) as a subject of the audit trail: about
 * its applicant when that is a person. */
static struct audit_subject dossier_subject(const json_t *d)
{
    const json_t *app = json_object_get(d, "applicant");
    const char *kind = json_string_value(json_object_get(app, "kind"));
    const char *id = json_string_value(json_object_get(app, "id"));
    const char *code = json_string_value(json_object_get(d, "code"));

    return (struct audit_subject){ "dossier", code != NULL ? code : "",
                                   kind != NULL && strcmp(kind, "person") == 0 && id != NULL ? id
                                                                                             : "" };
}

/*
 * A dossier shows who applied and the people its fields name (a child, the
 * parents, the deceased): its read goes to the audit trail as a read of the
 * dossier about each of them, under the request's purpose or else the
 * dossier's code.
 */
static enum lt_code record_dossier_read(struct http_request *req, const json_t *d,
                                        struct lt_error *err)
{
    struct audit_subject subj[DOSSIER_SUBJECTS_MAX];
    const char *name;
    json_t *v;
    size_t n = 0;

    subj[n++] = dossier_subject(d);
    json_object_foreach(json_object_get(d, "fields"), name, v)
    {
        const char *s = json_string_value(v);
        size_t len = strlen(name);

        if (n < DOSSIER_SUBJECTS_MAX && s != NULL && len > 3 &&
            strcmp(name + len - 3, "_id") == 0 && ids_personal_id_shaped(s) &&
            strcmp(s, subj[0].person) != 0) {
            subj[n++] = (struct audit_subject){ "dossier", subj[0].key, s };
        }
    }
    return api_registry_record_read(req, "read", subj[0].key, subj, n, err);
}

/* The queue names each dossier's applicant: a list of the dossiers, for the audit trail. */
static enum lt_code record_queue_read(struct http_request *req, const json_t *page,
                                      struct lt_error *err)
{
    const json_t *items = json_object_get(page, "dossiers");
    size_t n = json_array_size(items);
    struct audit_subject *subj;
    enum lt_code rc;

    if (n == 0) {
        return LT_OK;
    }
    subj = xcalloc(n, sizeof(*subj));
    for (size_t i = 0; i < n; i++) {
        subj[i] = dossier_subject(json_array_get(items, i));
    }
    rc = api_registry_record_read(req, "list", "the queue of dossiers", subj, n, err);
    free(subj);
    return rc;
}

static enum lt_code get_dossier(struct http_request *req, void *ctx, struct lt_error *err)
{
    json_t *d = NULL;
    enum lt_code rc = http_request_only_query(req, q_none, err);

    if (rc == LT_OK) {
        rc = oss_get(ctx, http_request_principal(req), http_request_param(req, "code"), &d, err);
    }
    if (rc == LT_OK) {
        rc = record_dossier_read(req, d, err);
        if (rc != LT_OK) {
            json_decref(d);
        }
    }
    return rc != LT_OK ? rc : http_reply_json(req, 200, d);
}

static enum lt_code list_dossiers(struct http_request *req, void *ctx, struct lt_error *err)
{
    struct oss_queue_query q = {
        .unit = http_request_query(req, "unit"),
        .status = http_request_query(req, "status"),
        .due = http_request_query(req, "due"),
        .side = http_request_query(req, "side"),
        .after = http_request_query(req, "after"),
    };
    const char *limit = http_request_query(req, "limit");
    json_t *page = NULL;
    enum lt_code rc = http_request_only_query(req, q_queue, err);

    if (rc != LT_OK) {
        return rc;
    }
    if (limit != NULL) {
        char *end;
        long v = strtol(limit, &end, 10);

        if (*limit == '\0' || *end != '\0' || v < 1 || v > OSS_QUEUE_MAX) {
            lt_error_set(err, LT_EINVAL, "limit must be a whole number from 1 to %d",
                         OSS_QUEUE_MAX);
            lt_error_field(err, "limit");
            return LT_EINVAL;
        }
        q.limit = (int)v;
    }
    rc = oss_queue(ctx, http_request_principal(req), &q, &page, err);
    if (rc == LT_OK) {
        rc = record_queue_read(req, page, err);
        if (rc != LT_OK) {
            json_decref(page);
        }
    }
    return rc != LT_OK ? rc : http_reply_json(req, 200, page);
}

static enum lt_code get_public(struct http_request *req, void *ctx, struct lt_error *err)
{
    json_t *d = NULL;
    enum lt_code rc = http_request_only_query(req, q_none, err);

    if (rc == LT_OK) {
        rc = oss_public(ctx, http_request_param(req, "code"), &d, err);
    }
    return rc != LT_OK ? rc : http_reply_json(req, 200, d);
}

static enum lt_code get_indicators(struct http_request *req, void *ctx, struct lt_error *err)
{
    struct oss *o = ctx;
    int32_t today = date_today(), from, to;
    json_t *out = NULL;
    enum lt_code rc;
    int y, m, d;

    date_to_civil(today, &y, &m, &d);
    rc = http_request_only_query(req, q_indicators, err);
    if (rc == LT_OK) {
        rc = query_day(req, "from", date_from_civil(y, 1, 1), &from, err);
    }
    if (rc == LT_OK) {
        rc = query_day(req, "to", today, &to, err);
    }
    if (rc == LT_OK) {
        rc = oss_indicators(o, http_request_principal(req), http_request_query(req, "unit"), from,
                            to, &out, err);
    }
    return rc != LT_OK ? rc : http_reply_json(req, 200, out);
}

/* HTML text: & < > " ' escaped. */
static void html_text(struct buf *b, const char *s)
{
    for (; s != NULL && *s; s++) {
        switch (*s) {
        case '&':
            buf_append_str(b, "&amp;");
            break;
        case '<':
            buf_append_str(b, "&lt;");
            break;
        case '>':
            buf_append_str(b, "&gt;");
            break;
        case '"':
            buf_append_str(b, "&quot;");
            break;
        case '\'':
            buf_append_str(b, "&#39;");
            break;
        default:
            buf_append_char(b, *s);
        }
    }
}

static const char *status_vi(const char *s)
{
    static const char *const names[][2] = {
        { "received", "Đã tiếp nhận" },
        { "in_review", "Đang giải quyết" },
        { "waiting_applicant", "Chờ bổ sung hồ sơ (tạm dừng tính thời hạn)" },
        { "approved", "Đã giải quyết, chờ trả kết quả" },
        { "rejected", "Từ chối giải quyết" },
        { "result_returned", "Đã trả kết quả" },
    };

    for (size_t i = 0; i < sizeof(names) / sizeof(names[0]); i++) {
        if (strcmp(names[i][0], s) == 0) {
            return names[i][1];
        }
    }
    return s;
}

static void html_result(struct buf *b, const json_t *d)
{
    const char *status = json_string_value(json_object_get(d, "status"));
    const json_t *p = json_object_get(d, "procedure");

    buf_append_str(
        b, "<dl class=\"summary\" id=\"lookup-result\">\n<dt>Mã hồ sơ / Dossier code</dt><dd>");
    html_text(b, json_string_value(json_object_get(d, "code")));
    buf_append_str(b, "</dd>\n<dt>Thủ tục / Procedure</dt><dd>");
    html_text(b, json_string_value(json_object_get(p, "name_vi")));
    buf_append_str(b, " / ");
    html_text(b, json_string_value(json_object_get(p, "name_en")));
    buf_append_str(b, "</dd>\n<dt>Trạng thái / Status</dt><dd>");
    html_text(b, status_vi(status ? status : ""));
    buf_append_str(b, " (");
    html_text(b, status);
    buf_append_str(b, ")</dd>\n<dt>Hẹn trả kết quả / Due date</dt><dd>");
    html_text(b, json_string_value(json_object_get(d, "due_date")));
    buf_append_str(b, "</dd>\n</dl>\n");
}

static enum lt_code get_lookup(struct http_request *req, void *ctx, struct lt_error *err)
{
    const char *code = http_request_query(req, "code");
    struct lt_error why;
    json_t *d = NULL;
    struct buf b;
    int status = 200;
    enum lt_code rc;

    (void)err;
    buf_init(&b, HTML_MAX);
    /* The web UI's stylesheet (src/web) when there is one; the page reads as well without. */
    buf_append_str(&b,
                   "<!DOCTYPE html>\n<html lang=\"vi\">\n<head>\n<meta charset=\"utf-8\">\n"
                   "<meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\n"
                   "<title>Tra cứu hồ sơ / Dossier look-up</title>\n"
                   "<link rel=\"icon\" href=\"/static/icon.svg\" type=\"image/svg+xml\">\n"
                   "<link rel=\"stylesheet\" href=\"/static/app.css\">\n</head>\n<body>\n"
                   "<header class=\"top\"><a class=\"brand\" href=\"/\">Lienthong</a></header>\n"
                   "<main class=\"narrow\">\n"
                   "<h1>Tra cứu hồ sơ <span lang=\"en\">/ Dossier look-up</span></h1>\n"
                   "<form method=\"get\" action=\"/lookup\">\n<label for=\"code\">Mã hồ sơ "
                   "trên giấy biên nhận / Code on the receipt</label>\n<input id=\"code\" "
                   "name=\"code\" class=\"w-id\" autocomplete=\"off\" spellcheck=\"false\" "
                   "value=\"");
    html_text(&b, code != NULL && strlen(code) <= 40 ? code : "");
    buf_append_str(&b, "\">\n<button type=\"submit\" class=\"button\">Tra cứu / Look up</button>\n"
                       "</form>\n");
    if (code != NULL && code[0] != '\0') {
        rc = oss_public(ctx, code, &d, &why);
        if (rc == LT_OK) {
            html_result(&b, d);
            json_decref(d);
        } else {
            status = lt_code_http_status(rc);
            buf_append_str(&b, "<p role=\"alert\" class=\"notice error\"><strong>");
            html_text(&b, rc == LT_ENOTFOUND ? "Không tìm thấy hồ sơ với mã này. / No dossier "
                                               "has this code."
                                             : why.message);
            buf_append_str(&b, "</strong></p>\n");
        }
    }
    buf_append_str(&b, "</main>\n</body>\n</html>\n");
    rc = http_reply_buf(req, status, HTML_TYPE, &b);
    buf_release(&b);
    return rc;
}

/* Reference data: what is in use, and a publication at the centre. */

static enum lt_code get_reference(struct http_request *req, void *ctx, struct lt_error *err)
{
    enum lt_code rc = http_request_only_query(req, q_none, err);

    return rc != LT_OK ? rc : http_reply_json(req, 200, oss_reference_json(ctx));
}

struct publish_job {
    struct oss *o;
    char kind[16];
    char actor[AUTH_ACCOUNT_MAX];
    char *text;
    size_t len;
};

static enum lt_code run_publish(struct http_request *req, void *arg, struct lt_error *err)
{
    struct publish_job *j = arg;
    int64_t version = 0;
    enum lt_code rc =
        oss_reference_publish(j->o, j->kind, j->text, j->len, j->actor, &version, err);
    json_t *body = json_pack("{s:s, s:I}", "kind", j->kind, "version", (json_int_t)version);

    free(j->text);
    free(j);
    if (rc != LT_OK) {
        json_decref(body);
        return rc;
    }
    return http_reply_json(req, 200, body);
}

static enum lt_code put_reference(struct http_request *req, void *ctx, struct lt_error *err)
{
    const struct auth_principal *who = http_request_principal(req);
    const char *kind = http_request_param(req, "kind");
    struct publish_job *j;
    size_t len = 0;
    const char *body = http_request_body(req, &len);
    enum lt_code rc = oss_require_principal(who, err);

    if (rc == LT_OK) {
        rc = http_request_only_query(req, q_none, err);
    }
    if (rc != LT_OK) {
        return rc;
    }
    if (strcmp(who->unit, OSS_REFERENCE_CENTRE) != 0) {
        lt_error_set(err, LT_EFORBIDDEN,
                     "reference data is published by an administrator of the "
                     "centre");
        return LT_EFORBIDDEN;
    }
    if (strlen(kind) >= sizeof(j->kind)) {
        lt_error_set(err, LT_EINVAL, "unknown reference data \"%.40s\"", kind);
        lt_error_hint(err, "publish \"catalogue\" or \"calendar\"");
        lt_error_field(err, "kind");
        return LT_EINVAL;
    }
    j = xcalloc(1, sizeof(*j));
    j->o = ctx;
    snprintf(j->kind, sizeof(j->kind), "%s", kind);
    snprintf(j->actor, sizeof(j->actor), "%s", who->account);
    j->text = xstrndup(body, len);
    j->len = len;
    http_request_defer(req, run_publish, j);
    return LT_OK;
}

void api_oss_register(struct http_server *s, struct oss *o)
{
    http_server_route(s, "GET", "/api/v1/procedures", list_procedures, o);
    http_server_route(s, "GET", "/api/v1/procedures/{code}", get_procedure, o);
    http_server_route(s, "POST", "/api/v1/dossiers", post_dossier, o);
    http_server_route(s, "GET", "/api/v1/dossiers", list_dossiers, o);
    http_server_route(s, "GET", "/api/v1/dossiers/{code}", get_dossier, o);
    http_server_route(s, "POST", "/api/v1/dossiers/{code}/actions", post_action, o);
    http_server_route(s, "GET", "/api/v1/public/dossiers/{code}", get_public, o);
    http_server_route(s, "GET", "/lookup", get_lookup, o);
    http_server_route(s, "GET", "/api/v1/indicators", get_indicators, o);
    http_server_route(s, "GET", "/api/v1/reference", get_reference, o);
    http_server_route(s, "PUT", "/api/v1/reference/{kind}", put_reference, o);
}
