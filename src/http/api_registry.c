/*
 * api_registry.c - the registry endpoints (see api_registry.h).
 *
 * Handlers only translate: path, query and headers to a registry call, its
 * result or error to JSON.  Validation, versions and events all live in the
 * registry module, so the CLI import and the HTTP API cannot disagree.
 *
 * The point read is the hot path: the stored record text is framed as it
 * is into {"version":N,"record":...}, with no JSON parsing or dumping.
 * Writes are checked on the worker thread (JSON, validation, the key) and
 * then handed to the server's blocking pool, where registry_write waits for
 * its commit without holding a worker: that is what lets concurrent writers
 * share one fsync (the store's group commit).
 */
#include "http/api_registry.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "audit/audit.h"
#include "core/buf.h"
#include "core/date.h"
#include "core/log.h"
#include "sync/conflict.h"
#include "units/units.h"
#include "core/banned.h"

#define LIST_LIMIT_DEFAULT 50
#define LIST_LIMIT_MAX     500
#define RECORD_PEOPLE_MAX  50 /* a parcel's holders at most (src/registry/fields.c) */
#define KEY_MAX            160
#define ETAG_MAX           32
#define JSON_TYPE          "application/json; charset=utf-8"
#define RECORD_DUMP_FLAGS  (JSON_COMPACT | JSON_PRESERVE_ORDER | JSON_REAL_PRECISION(15))
/* Room kept in front of a record read as text for {"version":N,"record": */
#define FRAME_GAP 48
/* Room after it for ,"conflicts":[ids] */
#define MARKS_MAX (64 * 1024)

struct kind_ctx {
    struct node *node;
    enum registry_kind kind;
};

static struct kind_ctx contexts[REG_KIND_COUNT];

/* Where reads are recorded; NULL: not recorded (api_registry_set_audit). */
static struct audit *recorder;

/* More series for GET /metrics (api_registry_set_metrics); NULL: none. */
static api_metrics_fn metrics_fn;
static void *metrics_arg;

static const char *const plurals[REG_KIND_COUNT] = {
    [REG_PERSON] = "people",  [REG_RESIDENCE] = "residences", [REG_HOUSEHOLD] = "households",
    [REG_PARCEL] = "parcels", [REG_BENEFIT] = "benefits",     [REG_BUSINESS] = "businesses",
};

/* The member of a record that holds its key (the first part for two-part keys). */
static const char *const key_fields[REG_KIND_COUNT] = {
    [REG_PERSON] = "id", [REG_RESIDENCE] = "person_id", [REG_HOUSEHOLD] = "id",
    [REG_PARCEL] = "id", [REG_BENEFIT] = "person_id",   [REG_BUSINESS] = "code",
};

/* Kinds whose key is two path segments: "<person id>/<part>". */
static bool two_part_key(enum registry_kind kind)
{
    return kind == REG_RESIDENCE || kind == REG_BENEFIT;
}

/* The record key from the path: "{key}" or "{key}/{part}". */
static enum lt_code path_key(struct http_request *req, enum registry_kind kind, char *out,
                             size_t cap, struct lt_error *err)
{
    const char *key = http_request_param(req, "key");
    const char *part = http_request_param(req, "part");
    int n;

    if (two_part_key(kind)) {
        n = snprintf(out, cap, "%s/%s", key, part);
    } else {
        n = snprintf(out, cap, "%s", key);
    }
    if (n < 0 || (size_t)n >= cap) {
        lt_error_set(err, LT_EINVAL, "the %s key in the path is too long",
                     registry_kind_name(kind));
        lt_error_field(err, "key");
        return LT_EINVAL;
    }
    return LT_OK;
}

static void etag_of(int64_t version, char out[ETAG_MAX])
{
    snprintf(out, ETAG_MAX, "\"%lld\"", (long long)version);
}

/*
 * Does an If-None-Match value name this version?  It is "*" or a list of
 * entity tags, each possibly weak (W/"3"); comparison is weak, as RFC 9110
 * asks for If-None-Match.
 */
static bool etag_matches(const char *header, int64_t version)
{
    char etag[ETAG_MAX];
    size_t elen;
    const char *p = header;

    etag_of(version, etag);
    elen = strlen(etag);
    for (;;) {
        p += strspn(p, " \t,");
        if (*p == '\0') {
            return false;
        }
        if (*p == '*') {
            return true;
        }
        if (p[0] == 'W' && p[1] == '/') {
            p += 2;
        }
        if (strncmp(p, etag, elen) == 0 && (p[elen] == '\0' || strchr(" \t,", p[elen]))) {
            return true;
        }
        p += strcspn(p, ",");
    }
}

/* Parse a query date, or keep *out when the argument is absent. */
static enum lt_code query_date(struct http_request *req, const char *name, int32_t *out,
                               struct lt_error *err)
{
    const char *s = http_request_query(req, name);

    if (s == NULL) {
        return LT_OK;
    }
    if (date_parse(s, out, err) != LT_OK) {
        lt_error_field(err, name);
        return LT_EINVAL;
    }
    return LT_OK;
}

/* A whole number query argument in [lo, hi], or keep *out when absent. */
static enum lt_code query_long(struct http_request *req, const char *name, long lo, long hi,
                               long *out, struct lt_error *err)
{
    const char *s = http_request_query(req, name);
    char *end;
    long v;

    if (s == NULL) {
        return LT_OK;
    }
    v = strtol(s, &end, 10);
    if (*s == '\0' || *end != '\0' || v < lo || v > hi) {
        lt_error_set(err, LT_EINVAL, "\"%s\" must be a whole number from %ld to %ld", name, lo, hi);
        lt_error_detail(err, "got \"%.40s\"", s);
        lt_error_field(err, name);
        return LT_EINVAL;
    }
    *out = v;
    return LT_OK;
}

/*
 * Reply {"version":N,"record":<text>} where b holds FRAME_GAP bytes and
 * then the record text: the prefix is written over the end of the gap and
 * the text moved down to it, so the body is built with one allocation.
 * marks (may be NULL): the ids of the record's open conflicts, added as
 * "conflicts".
 */
static enum lt_code reply_framed(struct http_request *req, int status, int64_t version,
                                 struct buf *b, const json_t *marks)
{
    char prefix[FRAME_GAP];
    int n = snprintf(prefix, sizeof(prefix), "{\"version\":%lld,\"record\":", (long long)version);
    size_t text_len = b->len - FRAME_GAP;
    char *ids = NULL;

    memcpy(b->data, prefix, (size_t)n);
    memmove(b->data + n, b->data + FRAME_GAP, text_len);
    b->len = (size_t)n + text_len;
    b->data[b->len] = '\0';
    if (marks != NULL) {
        ids = json_dumps(marks, JSON_COMPACT);
        if (ids == NULL || buf_append_str(b, ",\"conflicts\":") != LT_OK ||
            buf_append_str(b, ids) != LT_OK) {
            BUG("the conflict marks of a record do not fit its buffer");
        }
        free(ids);
    }
    if (buf_append(b, "}\n", 2) != LT_OK) {
        BUG("a framed record does not fit its buffer");
    }
    return http_reply_buf(req, status, JSON_TYPE, b);
}

/* A buffer for a framed record: the gap, then room for the largest record. */
static void frame_init(struct buf *b)
{
    static const char gap[FRAME_GAP] = { 0 };

    buf_init(b, FRAME_GAP + EVLOG_BODY_MAX + 8 + MARKS_MAX);
    buf_append(b, gap, sizeof(gap));
}

/* Query parameters each route takes; anything else is refused. */
static const char *const q_get[] = { "as_of", NULL };
static const char *const q_none[] = { NULL };
static const char *const q_write[] = { "cause", "effective", NULL };
static const char *const q_put[] = { "cause", "effective", "base_version", NULL };
static const char *const q_list[] = { "unit", "after", "limit", NULL };
static const char *const q_search[] = { "name", "birth_year", "unit", "limit", NULL };

static const char *const role_names[AUTH_ROLE_COUNT] = {
    [AUTH_CITIZEN] = "citizen", [AUTH_CLERK] = "clerk", [AUTH_OFFICER] = "officer",
    [AUTH_AUDITOR] = "auditor", [AUTH_ADMIN] = "admin", [AUTH_NODE] = "node",
};

/*
 * Who reads, and why: the principal (NULL when no guard attached one),
 * the purpose (X-Purpose) and the seal (X-Sealed-Until) of a read.
 */
struct access {
    const struct auth_principal *p;
    const char *purpose;
    int32_t sealed;
};

static enum lt_code forbidden(struct lt_error *err, const char *fmt, const char *arg)
{
    lt_error_set(err, LT_EFORBIDDEN, fmt, arg);
    return LT_EFORBIDDEN;
}

/*
 * Check the read's purpose and seal.  With a principal the purpose is
 * required; without one (a node with no accounts) it is optional and the
 * read is recorded as "anonymous".  Only officers and auditors may seal.
 */
static enum lt_code access_begin(struct http_request *req, struct access *a, struct lt_error *err)
{
    const char *seal = http_request_header(req, "X-Sealed-Until");

    a->p = http_request_principal(req);
    a->purpose = http_request_header(req, "X-Purpose");
    a->sealed = DATE_MIN;
    /* XXX: a read refused here or by the jurisdiction check is not recorded in the trail. */
    if (a->p != NULL && a->p->role == AUTH_NODE) {
        return forbidden(err, "a node account cannot read %s", "the registries");
    }
    if (a->purpose == NULL && a->p != NULL) {
        lt_error_set(err, LT_EINVAL, "a read of personal data must state its purpose");
        lt_error_detail(err, "no X-Purpose header; every read is recorded with its purpose");
        lt_error_hint(err, "send X-Purpose: a dossier code or a stated purpose, e.g. "
                           "X-Purpose: 000.00.00.H01-250701-0001");
        lt_error_field(err, "X-Purpose");
        return LT_EINVAL;
    }
    if (a->purpose != NULL && audit_purpose_check(a->purpose, err) != LT_OK) {
        return LT_EINVAL;
    }
    if (seal == NULL) {
        return LT_OK;
    }
    if (a->p == NULL || (a->p->role != AUTH_OFFICER && a->p->role != AUTH_AUDITOR)) {
        lt_error_set(err, LT_EFORBIDDEN, "only an officer or an auditor can seal a read");
        lt_error_field(err, "X-Sealed-Until");
        return LT_EFORBIDDEN;
    }
    return audit_seal_check(seal, a->purpose != NULL ? a->purpose : "", date_today(), &a->sealed,
                            err);
}

/* The person a residence or benefit key "<person>/<part>" is about. */
static void key_person(const char *key, char out[AUTH_PERSON_MAX])
{
    size_t n = strcspn(key, "/");

    snprintf(out, AUTH_PERSON_MAX, "%.*s", (int)(n < AUTH_PERSON_MAX ? n : 0), key);
}

/* Kinds whose key names the person they are about. */
static bool keyed_by_person(enum registry_kind kind)
{
    return kind == REG_PERSON || kind == REG_RESIDENCE || kind == REG_BENEFIT;
}

/*
 * The people a record is about, for the access log: the person of a
 * person, residence or benefit (from the key alone: rec may be NULL), the
 * head of a household, the representative of a business, every person
 * holding a parcel.  At most max of them into out (strings borrowed from
 * rec, or copied into own); returns how many.
 */
static size_t record_people(enum registry_kind kind, const char *key, const json_t *rec,
                            char own[AUTH_PERSON_MAX], const char *out[], size_t max)
{
    size_t n = 0, i;
    json_t *h;

    if (keyed_by_person(kind)) {
        key_person(key, own);
        out[n++] = own;
    } else if (kind == REG_HOUSEHOLD || kind == REG_BUSINESS) {
        const char *id = json_string_value(
            json_object_get(rec, kind == REG_HOUSEHOLD ? "head_id" : "representative_id"));

        out[n++] = id != NULL ? id : "";
    } else if (kind == REG_PARCEL) {
        json_array_foreach(json_object_get(rec, "holders"), i, h)
        {
            const char *hk = json_string_value(json_object_get(h, "kind"));
            const char *id = json_string_value(json_object_get(h, "id"));

            if (n < max && hk != NULL && id != NULL && strcmp(hk, "person") == 0) {
                out[n++] = id;
            }
        }
    }
    return n;
}

/* Does a citizen hold, represent or head this record? */
static bool citizen_owns(const struct auth_principal *p, enum registry_kind kind, const char *key,
                         const json_t *rec)
{
    char own[AUTH_PERSON_MAX];
    const char *people[RECORD_PEOPLE_MAX];
    size_t n = record_people(kind, key, rec, own, people, RECORD_PEOPLE_MAX);

    for (size_t i = 0; i < n; i++) {
        if (p->person_id[0] != '\0' && strcmp(people[i], p->person_id) == 0) {
            return true;
        }
    }
    return false;
}

/* The refusal a citizen gets for a record not theirs: the same as for no record. */
static enum lt_code not_theirs(enum registry_kind kind, const char *key, struct lt_error *err)
{
    return lt_error_set(err, LT_ENOTFOUND, "no %s \"%s\"", registry_kind_name(kind), key);
}

/*
 * After reading: the record's unit (or the node's, for a person not yet
 * resident anywhere) must lie in the caller's jurisdiction: 403 naming
 * both; a citizen must be one of the record's people: 404 as if it did not
 * exist, so that a citizen cannot probe who is registered.  Citizens are
 * checked before the read where the key tells (rec NULL then).
 */
static enum lt_code check_record(const struct kind_ctx *k, const struct access *a, const char *key,
                                 const char *unit, const json_t *rec, struct lt_error *err)
{
    /* XXX: the unit is the record's today, also for reads as of an earlier day. */
    const char *where = unit != NULL && unit[0] != '\0' ? unit : evlog_unit(node_evlog(k->node));

    if (a->p == NULL) {
        return LT_OK;
    }
    if (a->p->role == AUTH_CITIZEN) {
        return citizen_owns(a->p, k->kind, key, rec) ? LT_OK : not_theirs(k->kind, key, err);
    }
    if (unit == NULL) {
        return LT_OK;
    }
    if (!units_code_within(node_units(k->node), where, a->p->unit)) {
        lt_error_set(err, LT_EFORBIDDEN, "the %s \"%s\" is outside your jurisdiction",
                     registry_kind_name(k->kind), key);
        lt_error_detail(err, "it is in unit %s; your account covers %s", where, a->p->unit);
        return LT_EFORBIDDEN;
    }
    return LT_OK;
}

/* The subjects of one record into subj (room for RECORD_PEOPLE_MAX); returns how many. */
static size_t add_subjects(enum registry_kind kind, const char *key, const json_t *rec,
                           char own[AUTH_PERSON_MAX], struct audit_subject *subj)
{
    const char *people[RECORD_PEOPLE_MAX];
    size_t np = record_people(kind, key, rec, own, people, RECORD_PEOPLE_MAX);

    for (size_t j = 0; j < (np > 0 ? np : 1); j++) {
        subj[j].kind = registry_kind_name(kind);
        subj[j].key = key;
        subj[j].person = np > 0 ? people[j] : "";
    }
    return np > 0 ? np : 1;
}

/* Queue the access for the recorder. */
static enum lt_code record_subjects(struct http_request *req, const struct access *a,
                                    const char *action, const struct audit_subject *subj,
                                    size_t count, struct lt_error *err)
{
    struct audit_access acc;

    memset(&acc, 0, sizeof(acc));
    acc.actor = a->p != NULL ? a->p->account : "anonymous";
    acc.role = a->p != NULL ? role_names[a->p->role] : "none";
    acc.unit = a->p != NULL ? a->p->unit : "";
    acc.client = http_request_client(req);
    acc.purpose = a->purpose != NULL ? a->purpose : "";
    acc.action = action;
    acc.sealed_until = a->sealed;
    acc.subjects = subj;
    acc.nsubjects = count;
    return audit_record(recorder, &acc, err);
}

/* Record one access to the records of recs (an array of records). */
static enum lt_code record_many(struct http_request *req, const struct kind_ctx *k,
                                const struct access *a, const char *action, const json_t *recs,
                                struct lt_error *err)
{
    size_t n = json_array_size(recs), count = 0, cap, i;
    struct audit_subject *subj;
    char(*keys)[KEY_MAX];
    char(*own)[AUTH_PERSON_MAX];
    json_t *rec;
    enum lt_code rc;

    if (recorder == NULL || n == 0) {
        return LT_OK;
    }
    cap = n + RECORD_PEOPLE_MAX;
    subj = xcalloc(cap, sizeof(*subj));
    keys = xcalloc(n, sizeof(*keys));
    own = xcalloc(n, sizeof(*own));
    json_array_foreach(recs, i, rec)
    {
        struct lt_error ignored;

        if (count + RECORD_PEOPLE_MAX > cap) {
            cap = 2 * cap;
            subj = xrealloc(subj, cap * sizeof(*subj));
        }
        if (registry_record_key(k->kind, rec, keys[i], KEY_MAX, &ignored) == LT_OK) {
            count += add_subjects(k->kind, keys[i], rec, own[i], subj + count);
        }
    }
    rc = count > 0 ? record_subjects(req, a, action, subj, count, err) : LT_OK;
    free(own);
    free(keys);
    free(subj);
    return rc;
}

/*
 * Read the current record's text into b (from offset at), check the
 * caller may see it, and record the access.  The record is parsed only
 * when a check or the access log needs more than its key: never for the
 * point read of a person by staff, the hot path.
 */
static enum lt_code read_checked(struct http_request *req, const struct kind_ctx *k,
                                 const struct access *a, const char *key, const char *action,
                                 struct buf *b, size_t at, int64_t *version, struct lt_error *err)
{
    char unit[UNIT_CODE_MAX] = "", own[AUTH_PERSON_MAX];
    struct audit_subject subj[RECORD_PEOPLE_MAX];
    json_t *rec = NULL;
    bool citizen = a->p != NULL && a->p->role == AUTH_CITIZEN;
    enum lt_code rc;

    if (citizen && keyed_by_person(k->kind) && (rc = check_record(k, a, key, NULL, NULL, err))) {
        return rc;
    }
    rc = registry_get_text_unit(k->node, k->kind, key, b, version, unit, err);
    if (rc != LT_OK) {
        return rc;
    }
    if (!keyed_by_person(k->kind) && (citizen || recorder != NULL)) {
        rec = json_loadb(b->data + at, b->len - at, 0, NULL);
        if (rec == NULL) {
            return lt_error_set(err, LT_EINTERNAL, "the stored %s \"%s\" is not JSON",
                                registry_kind_name(k->kind), key);
        }
    }
    rc = check_record(k, a, key, unit, rec, err);
    if (rc == LT_OK && recorder != NULL) {
        rc = record_subjects(req, a, action, subj, add_subjects(k->kind, key, rec, own, subj), err);
    }
    json_decref(rec);
    return rc;
}

static enum lt_code get_as_of(struct http_request *req, const struct kind_ctx *k, const char *key,
                              int32_t as_of, struct lt_error *err)
{
    char day[DATE_STR_MAX];
    json_t *record = NULL;
    enum lt_code rc = registry_get_as_of(k->node, k->kind, key, as_of, &record, err);

    if (rc != LT_OK) {
        return rc;
    }
    date_format(as_of, day);
    /* XXX: no version or ETag as of a day: registry_get_as_of does not give the version. */
    return http_reply_json(req, 200, json_pack("{s:s, s:o}", "as_of", day, "record", record));
}

/*
 * The record's open conflicts (src/sync/conflict.h), or NULL: a change
 * from below based on a stale version was set aside and waits for an
 * officer.  No read of the store when the node has none open.
 */
static enum lt_code record_marks(const struct kind_ctx *k, const char *key, json_t **marks,
                                 struct lt_error *err)
{
    char entity[EVLOG_ENTITY_MAX];
    int n;

    *marks = NULL;
    if (sync_conflict_open_count() == 0) {
        return LT_OK;
    }
    n = snprintf(entity, sizeof(entity), "%s/%s", registry_kind_name(k->kind), key);
    if (n < 0 || (size_t)n >= sizeof(entity)) {
        return LT_OK; /* no entity has so long a name: nothing to mark */
    }
    return sync_conflict_marks(node_store(k->node), entity, marks, err);
}

static enum lt_code get_record(struct http_request *req, void *ctx, struct lt_error *err)
{
    const struct kind_ctx *k = ctx;
    char key[KEY_MAX], etag[ETAG_MAX];
    int32_t as_of = DATE_MIN;
    int64_t version = 0;
    const char *inm;
    json_t *marks = NULL;
    struct access a;
    struct buf b;
    enum lt_code rc;

    if ((rc = http_request_only_query(req, q_get, err)) != LT_OK ||
        (rc = path_key(req, k->kind, key, sizeof(key), err)) != LT_OK ||
        (rc = query_date(req, "as_of", &as_of, err)) != LT_OK ||
        (rc = access_begin(req, &a, err)) != LT_OK) {
        return rc;
    }

    frame_init(&b);
    rc = read_checked(req, k, &a, key, as_of != DATE_MIN ? "read_as_of" : "read", &b, FRAME_GAP,
                      &version, err);
    if (rc == LT_OK && as_of != DATE_MIN) {
        buf_release(&b);
        return get_as_of(req, k, key, as_of, err);
    }
    if (rc != LT_OK) {
        buf_release(&b);
        return rc;
    }
    etag_of(version, etag);
    http_reply_header(req, "ETag", etag);
    inm = http_request_header(req, "If-None-Match");
    if (inm != NULL && etag_matches(inm, version)) {
        buf_release(&b);
        return http_reply_text(req, 304, JSON_TYPE, "", 0);
    }
    rc = record_marks(k, key, &marks, err);
    if (rc == LT_OK) {
        rc = reply_framed(req, 200, version, &b, marks);
    }
    json_decref(marks);
    buf_release(&b);
    return rc;
}

static enum lt_code get_history(struct http_request *req, void *ctx, struct lt_error *err)
{
    const struct kind_ctx *k = ctx;
    char key[KEY_MAX];
    json_t *events = NULL;
    struct access a;
    struct buf b;
    enum lt_code rc;

    if ((rc = http_request_only_query(req, q_none, err)) != LT_OK ||
        (rc = path_key(req, k->kind, key, sizeof(key), err)) != LT_OK ||
        (rc = access_begin(req, &a, err)) != LT_OK) {
        return rc;
    }
    buf_init(&b, EVLOG_BODY_MAX + 8);
    rc = read_checked(req, k, &a, key, "history", &b, 0, NULL, err);
    buf_release(&b);
    if (rc != LT_OK || (rc = registry_history(k->node, k->kind, key, &events, err)) != LT_OK) {
        return rc;
    }
    return http_reply_json(req, 200, json_pack("{s:s, s:o}", "key", key, "events", events));
}

/* A refusal for a change that names no version to change. */
static enum lt_code no_base_version(struct lt_error *err)
{
    lt_error_set(err, LT_EINVAL, "a change must name the version it is based on");
    lt_error_detail(err, "no If-Match header and no base_version argument");
    lt_error_hint(err, "read the record first and send its ETag as If-Match, e.g. If-Match: \"3\"");
    lt_error_field(err, "If-Match");
    return LT_EINVAL;
}

/*
 * The version a change is based on: If-Match: "N" (or N), or
 * ?base_version=N; 0 when neither is given.
 */
static enum lt_code base_version(struct http_request *req, int64_t *out, struct lt_error *err)
{
    const char *im = http_request_header(req, "If-Match");
    long v = 0;

    *out = 0;
    if (im != NULL) {
        char *end;
        const char *p = im[0] == '"' ? im + 1 : im;

        v = strtol(p, &end, 10);
        if (end == p || v < 1 || (im[0] == '"' && strcmp(end, "\"") != 0) ||
            (im[0] != '"' && *end != '\0')) {
            lt_error_set(err, LT_EINVAL, "malformed If-Match header");
            lt_error_detail(err, "got \"%.40s\"; one version is expected", im);
            lt_error_hint(err, "send the ETag of the version you changed, e.g. If-Match: \"3\"");
            lt_error_field(err, "If-Match");
            return LT_EINVAL;
        }
        *out = v;
        if (http_request_query(req, "base_version") == NULL) {
            return LT_OK;
        }
        /* both given: they must agree, or which one the client meant is a guess */
        if (query_long(req, "base_version", 1, INT32_MAX, &v, err) != LT_OK) {
            return LT_EINVAL;
        }
        if (v != *out) {
            lt_error_set(err, LT_EINVAL, "If-Match and base_version name different versions");
            lt_error_detail(err, "If-Match %lld, base_version %ld", (long long)*out, v);
            lt_error_hint(err, "send one of them");
            lt_error_field(err, "base_version");
            return LT_EINVAL;
        }
        return LT_OK;
    }
    if (query_long(req, "base_version", 1, INT32_MAX, &v, err) != LT_OK) {
        return LT_EINVAL;
    }
    *out = v;
    return LT_OK;
}

/* Reply to a refused write; a stale version also names the current one. */
static enum lt_code reply_write_error(struct http_request *req, const struct lt_error *err,
                                      int64_t current)
{
    json_t *body;

    if (err->code != LT_ECONFLICT || current < 1) {
        return http_reply_error(req, err);
    }
    body = http_error_json(err);
    json_object_set_new(json_object_get(body, "error"), "current_version", json_integer(current));
    return http_reply_json(req, lt_code_http_status(err->code), body);
}

/* A change checked on the worker thread, written on the pool. */
struct write_job {
    const struct kind_ctx *k;
    json_t *record; /* canonical */
    char *text;     /* its JSON text, for the answer */
    char key[KEY_MAX];
    int64_t base;
    int32_t effective;
    char actor[EVLOG_ACTOR_MAX];
    char cause[EVLOG_CAUSE_MAX];
};

static void write_job_free(struct write_job *j)
{
    if (j == NULL) {
        return;
    }
    json_decref(j->record);
    free(j->text);
    free(j);
}

/* On the blocking pool: write, wait for the commit, answer. */
static enum lt_code run_write(struct http_request *req, void *arg, struct lt_error *err)
{
    struct write_job *j = arg;
    struct registry_change ch = { 0 };
    char etag[ETAG_MAX], location[KEY_MAX + 64];
    int64_t version = 0;
    struct buf b;
    enum lt_code rc;

    ch.kind = j->k->kind;
    ch.record = j->record;
    ch.base_version = j->base;
    ch.actor = j->actor;
    ch.cause = j->cause;
    ch.effective = j->effective;
    ch.skip_same = true; /* a PUT of the record as it stands answers its version, unchanged */
    rc = registry_write(j->k->node, &ch, &version, err);
    if (rc != LT_OK) {
        rc = reply_write_error(req, err, version);
        write_job_free(j);
        return rc;
    }
    etag_of(version, etag);
    http_reply_header(req, "ETag", etag);
    if (j->base == 0) {
        snprintf(location, sizeof(location), "/api/v1/%s/%s", plurals[j->k->kind], j->key);
        http_reply_header(req, "Location", location);
    }
    frame_init(&b);
    buf_append_str(&b, j->text);
    rc = reply_framed(req, j->base == 0 ? 201 : 200, version, &b, NULL);
    buf_release(&b);
    write_job_free(j);
    return rc;
}

/*
 * Who writes: the principal's account (the client address on a node
 * without accounts).  Citizens, auditors and nodes do not write the
 * registries; others only records whose unit (for people and benefits:
 * the unit of the person's residence, else the node's) lies in their
 * jurisdiction, except a person registered new, who has no unit yet.
 */
static enum lt_code write_allowed(struct http_request *req, struct write_job *j,
                                  struct lt_error *err)
{
    const struct auth_principal *p = http_request_principal(req);
    const char *unit = json_string_value(json_object_get(j->record, "unit"));
    char current[UNIT_CODE_MAX] = "", person[AUTH_PERSON_MAX];
    struct access a = { p, NULL, DATE_MIN };
    struct lt_error ignored;
    struct buf b;

    if (p == NULL) {
        /* XXX: with no accounts on the node the actor is the client address. */
        snprintf(j->actor, sizeof(j->actor), "%s", http_request_client(req));
        return LT_OK;
    }
    if (p->role == AUTH_CITIZEN || p->role == AUTH_AUDITOR || p->role == AUTH_NODE) {
        return forbidden(err, "a %s account cannot change the registries", role_names[p->role]);
    }
    if (unit == NULL && j->k->kind == REG_PERSON && j->base == 0) {
        /* A person registered new lives nowhere yet: any staff account that
         * writes may register one; the residence written next is checked. */
        snprintf(j->actor, sizeof(j->actor), "%s", p->account);
        return LT_OK;
    }
    if (unit == NULL) {
        key_person(j->key, person);
        buf_init(&b, EVLOG_BODY_MAX + 8);
        if (registry_get_text_unit(j->k->node, REG_PERSON, person, &b, NULL, current, &ignored) !=
            LT_OK) {
            current[0] = '\0';
        }
        buf_release(&b);
        unit = current;
    }
    if (check_record(j->k, &a, j->key, unit, NULL, err) != LT_OK) {
        return LT_EFORBIDDEN;
    }
    snprintf(j->actor, sizeof(j->actor), "%s", p->account);
    return LT_OK;
}

/*
 * Check a change on the worker thread: the body is one JSON object, a
 * valid record of the kind (validated as registry_write will, at the
 * change's effective day) and, for a change, the record in the path.
 */
static enum lt_code prepare_write(struct http_request *req, struct write_job *j,
                                  const char *path_key_s, struct lt_error *err)
{
    const char *cause = http_request_query(req, "cause");
    json_t *body = NULL;
    enum lt_code rc;

    if ((rc = query_date(req, "effective", &j->effective, err)) != LT_OK ||
        (rc = http_request_json(req, &body, err)) != LT_OK) {
        return rc;
    }
    rc = registry_validate(node_units(j->k->node), j->k->kind, body, j->effective, &j->record, err);
    json_decref(body);
    if (rc == LT_OK) {
        rc = registry_record_key(j->k->kind, j->record, j->key, sizeof(j->key), err);
    }
    if (rc != LT_OK) {
        return rc;
    }
    if (path_key_s != NULL && strcmp(j->key, path_key_s) != 0) {
        lt_error_set(err, LT_EINVAL, "the record is not the one in the path");
        lt_error_detail(err, "the body's key is \"%s\", the path's \"%s\"", j->key, path_key_s);
        lt_error_hint(err, "a key cannot be changed; register a new record instead");
        lt_error_field(err, key_fields[j->k->kind]);
        return LT_EINVAL;
    }
    rc = write_allowed(req, j, err);
    if (rc != LT_OK) {
        return rc;
    }
    if (cause != NULL && strlen(cause) >= sizeof(j->cause)) {
        lt_error_set(err, LT_EINVAL, "the cause is longer than %zu bytes", sizeof(j->cause) - 1);
        lt_error_field(err, "cause");
        return LT_EINVAL;
    }
    snprintf(j->cause, sizeof(j->cause), "%s", cause != NULL ? cause : "api");
    j->text = json_dumps(j->record, RECORD_DUMP_FLAGS);
    if (j->text == NULL) {
        BUG("could not dump a canonical %s record", registry_kind_name(j->k->kind));
    }
    return LT_OK;
}

/* Check the change, then finish it on the blocking pool. */
static enum lt_code start_write(struct http_request *req, const struct kind_ctx *k, int64_t base,
                                const char *key, struct lt_error *err)
{
    struct write_job *j = xcalloc(1, sizeof(*j));
    enum lt_code rc;

    j->k = k;
    j->base = base;
    j->effective = DATE_MIN;
    rc = prepare_write(req, j, key, err);
    if (rc != LT_OK) {
        write_job_free(j);
        return rc;
    }
    http_request_defer(req, run_write, j);
    return LT_OK;
}

static enum lt_code post_record(struct http_request *req, void *ctx, struct lt_error *err)
{
    enum lt_code rc = http_request_only_query(req, q_write, err);

    return rc != LT_OK ? rc : start_write(req, ctx, 0, NULL, err);
}

static enum lt_code put_record(struct http_request *req, void *ctx, struct lt_error *err)
{
    const struct kind_ctx *k = ctx;
    char key[KEY_MAX];
    int64_t base = 0;
    enum lt_code rc;

    if ((rc = http_request_only_query(req, q_put, err)) != LT_OK ||
        (rc = path_key(req, k->kind, key, sizeof(key), err)) != LT_OK ||
        (rc = base_version(req, &base, err)) != LT_OK) {
        return rc;
    }
    if (base == 0) {
        /* XXX: 428 says "invalid_input": the error enum has no code for a missing precondition. */
        no_base_version(err);
        return http_reply_error_status(req, 428, err);
    }
    return start_write(req, k, base, key, err);
}

/*
 * The unit a list or search may cover: a citizen lists nothing; staff
 * list within their jurisdiction, and a search without a unit is narrowed
 * to it.  *unit may be replaced by the caller's own.
 */
static enum lt_code list_scope(const struct kind_ctx *k, const struct access *a, const char **unit,
                               struct lt_error *err)
{
    if (a->p == NULL) {
        return LT_OK;
    }
    if (a->p->role == AUTH_CITIZEN) {
        return forbidden(err, "a citizen cannot list or search the %s", plurals[k->kind]);
    }
    if (*unit == NULL || (*unit)[0] == '\0') {
        /* The node holds only records of its own unit (and of units
         * below it): a caller covering the node's unit sees all of it,
         * people not yet resident anywhere included. */
        if (!units_code_within(node_units(k->node), evlog_unit(node_evlog(k->node)), a->p->unit)) {
            *unit = a->p->unit;
        }
        return LT_OK;
    }
    if (units_find_default(node_units(k->node), *unit) == NULL) {
        return LT_OK; /* no such unit: the list answers 404 */
    }
    if (!units_code_within(node_units(k->node), *unit, a->p->unit)) {
        lt_error_set(err, LT_EFORBIDDEN, "unit \"%.20s\" is outside your jurisdiction", *unit);
        lt_error_detail(err, "your account covers %s", a->p->unit);
        lt_error_field(err, "unit");
        return LT_EFORBIDDEN;
    }
    return LT_OK;
}

/* XXX: lists and searches do not carry the conflict marks a point read gives. */
static enum lt_code list_records(struct http_request *req, void *ctx, struct lt_error *err)
{
    const struct kind_ctx *k = ctx;
    const char *unit = http_request_query(req, "unit");
    long limit = LIST_LIMIT_DEFAULT;
    json_t *page = NULL;
    struct access a;
    enum lt_code rc;

    if ((rc = http_request_only_query(req, q_list, err)) != LT_OK) {
        return rc;
    }
    if (unit == NULL || unit[0] == '\0') {
        lt_error_set(err, LT_EINVAL, "listing %s needs a unit", plurals[k->kind]);
        lt_error_hint(err, "add ?unit=<commune or province code>, or ?unit=VN for all");
        lt_error_field(err, "unit");
        return LT_EINVAL;
    }
    if ((rc = query_long(req, "limit", 1, LIST_LIMIT_MAX, &limit, err)) != LT_OK ||
        (rc = access_begin(req, &a, err)) != LT_OK ||
        (rc = list_scope(k, &a, &unit, err)) != LT_OK ||
        (rc = registry_list(k->node, k->kind, unit, http_request_query(req, "after"), (int)limit,
                            &page, err)) != LT_OK) {
        return rc;
    }
    rc = record_many(req, k, &a, "list", json_object_get(page, "items"), err);
    if (rc != LT_OK) {
        json_decref(page);
        return rc;
    }
    return http_reply_json(req, 200, page);
}

static enum lt_code search_people(struct http_request *req, void *ctx, struct lt_error *err)
{
    const struct kind_ctx *k = ctx;
    const char *name = http_request_query(req, "name");
    const char *unit = http_request_query(req, "unit");
    long year = 0, limit = LIST_LIMIT_DEFAULT;
    json_t *results = NULL;
    struct access a;
    enum lt_code rc;

    if ((rc = http_request_only_query(req, q_search, err)) != LT_OK) {
        return rc;
    }
    if (name == NULL || name[0] == '\0') {
        lt_error_set(err, LT_EINVAL, "a search needs a name");
        lt_error_hint(err, "add ?name=<full or partial name>, with or without diacritics");
        lt_error_field(err, "name");
        return LT_EINVAL;
    }
    if ((rc = query_long(req, "birth_year", 1900, 2199, &year, err)) != LT_OK ||
        (rc = query_long(req, "limit", 1, LIST_LIMIT_MAX, &limit, err)) != LT_OK ||
        (rc = access_begin(req, &a, err)) != LT_OK ||
        (rc = list_scope(k, &a, &unit, err)) != LT_OK ||
        (rc = registry_search_people(
             k->node, name, (int)year,
             unit != NULL && unit[0] != '\0' && strcmp(unit, "VN") != 0 ? unit : NULL, (int)limit,
             &results, err)) != LT_OK) {
        return rc;
    }
    rc = record_many(req, k, &a, "search", results, err);
    if (rc != LT_OK) {
        json_decref(results);
        return rc;
    }
    return http_reply_json(req, 200, json_pack("{s:s, s:o}", "name", name, "results", results));
}

/* Prometheus text: the store's writer counters. */
static enum lt_code get_metrics(struct http_request *req, void *ctx, struct lt_error *err)
{
    struct node *n = ctx;
    struct store_stats st;
    struct buf b;
    enum lt_code rc;

    store_stats(node_store(n), &st);
    buf_init(&b, (size_t)16 << 20);
    buf_printf(&b,
               "# HELP lienthong_store_writes_total Write callbacks run by the store's writer.\n"
               "# TYPE lienthong_store_writes_total counter\n"
               "lienthong_store_writes_total %llu\n"
               "# HELP lienthong_store_writes_failed_total Write callbacks rolled back.\n"
               "# TYPE lienthong_store_writes_failed_total counter\n"
               "lienthong_store_writes_failed_total %llu\n"
               "# HELP lienthong_store_commits_total Transactions committed (one fsync each).\n"
               "# TYPE lienthong_store_commits_total counter\n"
               "lienthong_store_commits_total %llu\n"
               "# HELP lienthong_store_group_max Most write callbacks in one transaction.\n"
               "# TYPE lienthong_store_group_max gauge\n"
               "lienthong_store_group_max %llu\n"
               "# HELP lienthong_store_queued Write callbacks waiting for the writer.\n"
               "# TYPE lienthong_store_queued gauge\n"
               "lienthong_store_queued %llu\n",
               (unsigned long long)st.writes, (unsigned long long)st.failed,
               (unsigned long long)st.commits, (unsigned long long)st.group_max,
               (unsigned long long)st.queued);
    if (recorder != NULL) {
        uint64_t written = 0, queued = 0;

        audit_counts(recorder, &written, &queued);
        buf_printf(&b,
                   "# HELP lienthong_audit_written_total Accesses written to the audit trail.\n"
                   "# TYPE lienthong_audit_written_total counter\n"
                   "lienthong_audit_written_total %llu\n"
                   "# HELP lienthong_audit_queued Accesses waiting to be written (lost if the "
                   "process dies).\n"
                   "# TYPE lienthong_audit_queued gauge\n"
                   "lienthong_audit_queued %llu\n",
                   (unsigned long long)written, (unsigned long long)queued);
    }
    rc = metrics_fn != NULL ? metrics_fn(&b, metrics_arg, err) : LT_OK;
    if (rc == LT_OK) {
        rc = http_reply_buf(req, 200, "text/plain; version=0.0.4; charset=utf-8", &b);
    }
    buf_release(&b);
    return rc;
}

void api_registry_set_audit(struct audit *a)
{
    recorder = a;
}

enum lt_code api_registry_record_read(struct http_request *req, const char *action,
                                      const char *purpose, const struct audit_subject *subj,
                                      size_t count, struct lt_error *err)
{
    struct access a = { http_request_principal(req), http_request_header(req, "X-Purpose"),
                        DATE_MIN };

    if (a.purpose != NULL && audit_purpose_check(a.purpose, err) != LT_OK) {
        return LT_EINVAL;
    }
    if (recorder == NULL || count == 0) {
        return LT_OK;
    }
    if (a.purpose == NULL) {
        a.purpose = purpose;
    }
    return record_subjects(req, &a, action, subj, count, err);
}

void api_registry_set_metrics(api_metrics_fn fn, void *arg)
{
    metrics_fn = fn;
    metrics_arg = arg;
}

static bool subject_seen(const struct audit_subject *subj, size_t n,
                         const struct audit_subject *one)
{
    for (size_t i = 0; i < n; i++) {
        if (strcmp(subj[i].kind, one->kind) == 0 && strcmp(subj[i].key, one->key) == 0 &&
            strcmp(subj[i].person, one->person) == 0) {
            return true;
        }
    }
    return false;
}

enum lt_code api_registry_record_access(struct http_request *req, const char *action,
                                        const struct api_record_ref *refs, size_t n,
                                        struct lt_error *err)
{
    struct audit_subject *subj;
    char(*own)[AUTH_PERSON_MAX];
    struct access a;
    size_t count = 0;
    enum lt_code rc = access_begin(req, &a, err);

    if (rc != LT_OK || recorder == NULL || n == 0) {
        return rc;
    }
    subj = xcalloc(n * RECORD_PEOPLE_MAX, sizeof(*subj));
    own = xcalloc(n, sizeof(*own));
    for (size_t i = 0; i < n; i++) {
        size_t end =
            count + add_subjects(refs[i].kind, refs[i].key, refs[i].record, own[i], subj + count);

        /* Two sides of one record often name the same people: each once. */
        for (size_t j = count; j < end; j++) {
            if (!subject_seen(subj, count, &subj[j])) {
                subj[count++] = subj[j];
            }
        }
    }
    rc = record_subjects(req, &a, action, subj, count, err);
    free(own);
    free(subj);
    return rc;
}

void api_registry_register(struct http_server *s, struct node *n)
{
    for (int kind = 0; kind < REG_KIND_COUNT; kind++) {
        struct kind_ctx *k = &contexts[kind];
        const char *keypat = two_part_key((enum registry_kind)kind) ? "{key}/{part}" : "{key}";
        char base[64], one[96], hist[112];

        k->node = n;
        k->kind = (enum registry_kind)kind;
        snprintf(base, sizeof(base), "/api/v1/%s", plurals[kind]);
        snprintf(one, sizeof(one), "%s/%s", base, keypat);
        snprintf(hist, sizeof(hist), "%s/history", one);
        http_server_route(s, "POST", base, post_record, k);
        http_server_route(s, "GET", base, list_records, k);
        http_server_route(s, "GET", one, get_record, k);
        http_server_route(s, "PUT", one, put_record, k);
        http_server_route(s, "GET", hist, get_history, k);
    }
    http_server_route(s, "GET", "/api/v1/people/search", search_people, &contexts[REG_PERSON]);
    http_server_route(s, "GET", "/metrics", get_metrics, n);
}
