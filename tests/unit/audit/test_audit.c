/*
 * test_audit.c - the audit trail and the record-level checks of the
 * registry API, through a real server with a test guard.
 *
 * The guard makes the caller whoever the X-Test-* headers say (role,
 * unit, person, account); without them the request is anonymous.  The
 * node is Hà Nội's (01); person A lives in 00004 (Hà Nội), B in 25747
 * (Hồ Chí Minh City), C nowhere yet; parcel 00004-1-2 is A's.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>
#include <curl/curl.h>

#include "audit/audit.h"
#include "core/buf.h"
#include "core/date.h"
#include "http/api_audit.h"
#include "http/api_registry.h"
#include "http/server.h"
#include "registry/registry.h"

#define A "001085000001"
#define B "001090000002"
#define C "001085000003"

struct fixture {
    char dir[64];
    struct node *n;
    struct audit *audit;
    struct http_server *s;
};

static struct fixture *fx;

static enum lt_code init_fn(struct store_conn *c, void *arg, struct lt_error *err)
{
    (void)arg;
    return evlog_init_node(c, "test-node", "01", err);
}

static void must_put(struct node *n, enum registry_kind kind, const char *json)
{
    json_t *rec = json_loads(json, 0, NULL);
    struct registry_change ch = {
        .kind = kind, .record = rec, .actor = "setup", .cause = "test", .effective = DATE_MIN
    };
    struct lt_error err;
    int64_t v = 0;

    assert_non_null(rec);
    if (registry_write(n, &ch, &v, &err) != LT_OK) {
        fail_msg("write refused: %s (%s)", err.message, err.field);
    }
    json_decref(rec);
}

static void add_person(struct node *n, const char *id, const char *birth)
{
    char j[512];

    snprintf(j, sizeof(j),
             "{\"id\":\"%s\",\"full_name\":\"Nguyễn Văn An\",\"birth_date\":\"%s\",\"sex\":"
             "\"male\",\"ethnicity\":\"01\",\"nationality\":\"VN\",\"status\":\"alive\"}",
             id, birth);
    must_put(n, REG_PERSON, j);
}

static void add_residence(struct node *n, const char *person, const char *unit)
{
    char j[512];

    snprintf(j, sizeof(j),
             "{\"person_id\":\"%s\",\"kind\":\"permanent\",\"unit\":\"%s\","
             "\"address_line\":\"1 phố Huế\",\"from_date\":\"2015-01-01\"}",
             person, unit);
    must_put(n, REG_RESIDENCE, j);
}

static enum lt_code test_guard(struct http_request *req, void *ctx, struct lt_error *err)
{
    static const char *const roles[] = {
        "citizen", "clerk", "officer", "auditor", "admin", "node"
    };
    const char *role = http_request_header(req, "X-Test-Role");
    const char *unit = http_request_header(req, "X-Test-Unit");
    const char *person = http_request_header(req, "X-Test-Person");
    struct auth_principal p;

    (void)ctx;
    (void)err;
    if (role == NULL) {
        return LT_OK;
    }
    memset(&p, 0, sizeof(p));
    for (int i = 0; i < AUTH_ROLE_COUNT; i++) {
        if (strcmp(role, roles[i]) == 0) {
            p.role = (enum auth_role)i;
        }
    }
    snprintf(p.account, sizeof(p.account), "%s-%s", role, unit != NULL ? unit : "");
    snprintf(p.unit, sizeof(p.unit), "%s", unit != NULL ? unit : "VN");
    snprintf(p.person_id, sizeof(p.person_id), "%s", person != NULL ? person : "");
    http_request_set_principal(req, &p);
    return LT_OK;
}

static int setup(void **state)
{
    struct fixture *f = calloc(1, sizeof(*f));
    struct store_options o;
    struct store *s = NULL;
    struct http_config cfg;
    struct lt_error err;

    snprintf(f->dir, sizeof(f->dir), "/tmp/lt-audit-XXXXXX");
    if (mkdtemp(f->dir) == NULL) {
        return -1;
    }
    store_options_default(&o);
    o.create = true;
    o.durable = false;
    o.readers = 4;
    if (store_open(f->dir, &o, &s, &err) != LT_OK || store_write(s, init_fn, NULL, &err) != LT_OK) {
        return -1;
    }
    store_close(s);
    o.create = false;
    if (node_open(f->dir, &o, &f->n, &err) != LT_OK) {
        return -1;
    }
    add_person(f->n, A, "1985-01-01");
    add_person(f->n, B, "1990-01-01");
    add_person(f->n, C, "1985-01-01");
    add_residence(f->n, A, "00004");
    add_residence(f->n, B, "25747");
    must_put(f->n, REG_PARCEL,
             "{\"id\":\"00004-1-2\",\"unit\":\"00004\",\"map_sheet\":1,\"parcel_no\":2,"
             "\"area_m2\":50,\"purpose\":\"ODT\",\"holders\":[{\"kind\":\"person\",\"id\":"
             "\"" A "\",\"share\":1}]}");
    must_put(f->n, REG_PARCEL,
             "{\"id\":\"00004-1-3\",\"unit\":\"00004\",\"map_sheet\":1,\"parcel_no\":3,"
             "\"area_m2\":80,\"purpose\":\"ODT\",\"holders\":[{\"kind\":\"person\",\"id\":"
             "\"" A "\",\"share\":0.5},{\"kind\":\"person\",\"id\":\"" B "\",\"share\":0.5}]}");

    if (audit_new(node_store(f->n), node_evlog(f->n), NULL, &f->audit, &err) != LT_OK) {
        return -1;
    }
    http_config_init(&cfg);
    cfg.listen = "127.0.0.1:0";
    cfg.threads = 2;
    f->s = http_server_new(&cfg, &err);
    http_server_set_guard(f->s, test_guard, NULL);
    api_registry_set_audit(f->audit);
    api_registry_register(f->s, f->n);
    api_audit_register(f->s, f->n);
    if (http_server_start(f->s, &err) != LT_OK) {
        return -1;
    }
    fx = f;
    *state = f;
    return 0;
}

static int teardown(void **state)
{
    struct fixture *f = *state;
    char cmd[128];

    http_server_free(f->s);
    api_registry_set_audit(NULL);
    audit_free(f->audit);
    node_close(f->n);
    snprintf(cmd, sizeof(cmd), "rm -rf '%s'", f->dir);
    if (system(cmd) != 0) {
        return -1;
    }
    free(f);
    return 0;
}

static size_t collect(char *p, size_t size, size_t n, void *arg)
{
    buf_append(arg, p, size * n);
    return size * n;
}

/*
 * A request with headers "Name: value" (NULL-terminated list); the status,
 * and the body parsed into *body (NULL if not JSON; body may be NULL).
 */
static long call(const char *method, const char *path, const char *json, json_t **body, ...)
{
    CURL *h = curl_easy_init();
    struct curl_slist *hl = NULL;
    char url[512];
    struct buf b;
    long status = 0;
    va_list ap;
    const char *hdr;

    buf_init(&b, 1 << 24);
    va_start(ap, body);
    while ((hdr = va_arg(ap, const char *)) != NULL) {
        hl = curl_slist_append(hl, hdr);
    }
    va_end(ap);
    if (json != NULL) {
        hl = curl_slist_append(hl, "Content-Type: application/json");
        curl_easy_setopt(h, CURLOPT_POSTFIELDS, json);
    }
    snprintf(url, sizeof(url), "%s%s", http_server_url(fx->s), path);
    curl_easy_setopt(h, CURLOPT_URL, url);
    curl_easy_setopt(h, CURLOPT_CUSTOMREQUEST, method);
    curl_easy_setopt(h, CURLOPT_HTTPHEADER, hl);
    curl_easy_setopt(h, CURLOPT_WRITEFUNCTION, collect);
    curl_easy_setopt(h, CURLOPT_WRITEDATA, &b);
    assert_int_equal(curl_easy_perform(h), CURLE_OK);
    curl_easy_getinfo(h, CURLINFO_RESPONSE_CODE, &status);
    if (body != NULL) {
        *body = json_loadb(b.data != NULL ? b.data : "", b.len, 0, NULL);
    }
    buf_release(&b);
    curl_slist_free_all(hl);
    curl_easy_cleanup(h);
    return status;
}

#define CLERK(unit)    "X-Test-Role: clerk", "X-Test-Unit: " unit
#define CITIZEN(p)     "X-Test-Role: citizen", "X-Test-Unit: 00004", "X-Test-Person: " p
#define PURPOSE        "X-Purpose: HS-2025-000123"
#define GET(path, ...) call("GET", path, NULL, NULL, __VA_ARGS__, NULL)

static const char *err_field(json_t *body)
{
    return json_string_value(json_object_get(json_object_get(body, "error"), "field"));
}

static void test_purpose_and_seal_checks(void **state)
{
    struct lt_error err;
    int32_t today = date_from_civil(2025, 7, 1), until = DATE_MIN;
    char long_purpose[AUDIT_PURPOSE_MAX + 2];

    (void)state;
    assert_int_equal(audit_purpose_check("HS-2025-000123", &err), LT_OK);
    assert_int_equal(audit_purpose_check("kiểm tra hồ sơ", &err), LT_OK);
    assert_int_equal(audit_purpose_check("", &err), LT_EINVAL);
    assert_int_equal(audit_purpose_check("a\x01z", &err), LT_EINVAL);
    assert_string_equal(err.field, "X-Purpose");
    assert_int_equal(audit_purpose_check("\xff\xfe", &err), LT_EINVAL);
    assert_int_equal(audit_purpose_check("law-enforcement:", &err), LT_EINVAL);
    memset(long_purpose, 'x', sizeof(long_purpose) - 1);
    long_purpose[sizeof(long_purpose) - 1] = '\0';
    assert_int_equal(audit_purpose_check(long_purpose, &err), LT_EINVAL);
    long_purpose[AUDIT_PURPOSE_MAX] = '\0';
    assert_int_equal(audit_purpose_check(long_purpose, &err), LT_OK);

    assert_true(audit_purpose_is_law("law-enforcement:VKS-12/2025"));
    assert_false(audit_purpose_is_law("HS-1"));
    assert_int_equal(audit_seal_check("2025-12-31", "HS-1", today, &until, &err), LT_EINVAL);
    assert_string_equal(err.field, "X-Sealed-Until");
    assert_int_equal(audit_seal_check("2025-07-01", "law-enforcement:X", today, &until, &err),
                     LT_EINVAL);
    assert_int_equal(audit_seal_check("31/12/2025", "law-enforcement:X", today, &until, &err),
                     LT_EINVAL);
    assert_int_equal(audit_seal_check("2040-01-01", "law-enforcement:X", today, &until, &err),
                     LT_EINVAL);
    assert_int_equal(audit_seal_check("2025-12-31", "law-enforcement:X", today, &until, &err),
                     LT_OK);
    assert_int_equal(until, date_from_civil(2025, 12, 31));
}

static void test_staff_jurisdiction(void **state)
{
    json_t *b = NULL;

    (void)state;
    assert_int_equal(GET("/api/v1/people/" A, CLERK("00004"), PURPOSE), 200);
    assert_int_equal(GET("/api/v1/residences/" A "/permanent", CLERK("00004"), PURPOSE), 200);
    assert_int_equal(GET("/api/v1/parcels/00004-1-2", CLERK("01"), PURPOSE), 200);
    /* outside: a person of another province; a person of no commune is the node's (01) */
    assert_int_equal(call("GET", "/api/v1/people/" B, NULL, &b, CLERK("00004"), PURPOSE, NULL),
                     403);
    assert_non_null(
        strstr(json_string_value(json_object_get(json_object_get(b, "error"), "message")),
               "outside your jurisdiction"));
    json_decref(b);
    assert_int_equal(GET("/api/v1/people/" C, CLERK("00004"), PURPOSE), 403);
    assert_int_equal(GET("/api/v1/people/" C, CLERK("01"), PURPOSE), 200);
    assert_int_equal(GET("/api/v1/people/" B, CLERK("79"), PURPOSE), 200);
    assert_int_equal(GET("/api/v1/people/" B "/history", CLERK("00004"), PURPOSE), 403);
    assert_int_equal(GET("/api/v1/people/" B "?as_of=2025-01-01", CLERK("00004"), PURPOSE), 403);
    assert_int_equal(GET("/api/v1/people/" A, CLERK("VN"), PURPOSE), 200);

    /* no purpose: refused with the header named, when a principal is present */
    assert_int_equal(call("GET", "/api/v1/people/" A, NULL, &b, CLERK("00004"), NULL), 400);
    assert_string_equal(err_field(b), "X-Purpose");
    json_decref(b);
    assert_int_equal(GET("/api/v1/people/" A, CLERK("00004"), "X-Purpose: bad\x01"), 400);
    /* anonymous (no accounts on the node): as before, no purpose needed */
    assert_int_equal(call("GET", "/api/v1/people/" B, NULL, NULL, NULL), 200);
    /* a node account reads nothing */
    assert_int_equal(GET("/api/v1/people/" A, "X-Test-Role: node", "X-Test-Unit: 01", PURPOSE),
                     403);

    /* lists and searches stay inside the jurisdiction */
    assert_int_equal(GET("/api/v1/people?unit=00004", CLERK("00004"), PURPOSE), 200);
    assert_int_equal(GET("/api/v1/people?unit=25747", CLERK("00004"), PURPOSE), 403);
    assert_int_equal(GET("/api/v1/people?unit=VN", CLERK("01"), PURPOSE), 403);
    assert_int_equal(GET("/api/v1/people?unit=79", CLERK("VN"), PURPOSE), 200);
    assert_int_equal(call("GET", "/api/v1/people/search?name=nguyen%20van%20an", NULL, &b,
                          CLERK("00004"), PURPOSE, NULL),
                     200);
    /* narrowed to the clerk's commune: A only */
    assert_int_equal(json_array_size(json_object_get(b, "results")), 1);
    json_decref(b);
    assert_int_equal(GET("/api/v1/people/search?name=an&unit=79", CLERK("00004"), PURPOSE), 403);
}

static void test_citizen_sees_only_their_own(void **state)
{
    json_t *b = NULL;

    (void)state;
    assert_int_equal(GET("/api/v1/people/" A, CITIZEN(A), PURPOSE), 200);
    assert_int_equal(GET("/api/v1/residences/" A "/permanent", CITIZEN(A), PURPOSE), 200);
    assert_int_equal(GET("/api/v1/parcels/00004-1-2", CITIZEN(A), PURPOSE), 200);
    assert_int_equal(GET("/api/v1/people/" A "/history", CITIZEN(A), PURPOSE), 200);
    /* someone else's: 404, the same answer as for a record that does not exist */
    assert_int_equal(call("GET", "/api/v1/people/" C, NULL, &b, CITIZEN(A), PURPOSE, NULL), 404);
    assert_string_equal(json_string_value(json_object_get(json_object_get(b, "error"), "message")),
                        "no person \"" C "\"");
    json_decref(b);
    assert_int_equal(GET("/api/v1/people/001085000009", CITIZEN(A), PURPOSE), 404);
    assert_int_equal(GET("/api/v1/parcels/00004-1-2", CITIZEN(B), PURPOSE), 404);
    assert_int_equal(GET("/api/v1/residences/" B "/permanent", CITIZEN(A), PURPOSE), 404);
    /* no lists, no searches, no writes */
    assert_int_equal(GET("/api/v1/people?unit=00004", CITIZEN(A), PURPOSE), 403);
    assert_int_equal(GET("/api/v1/people/search?name=an", CITIZEN(A), PURPOSE), 403);
    assert_int_equal(call("PUT", "/api/v1/people/" A,
                          "{\"id\":\"" A "\",\"full_name\":\"X\",\"birth_date\":\"1985-01-01\","
                          "\"sex\":\"male\",\"ethnicity\":\"01\",\"nationality\":\"VN\","
                          "\"status\":\"alive\"}",
                          NULL, CITIZEN(A), "If-Match: \"1\"", NULL),
                     403);
}

static void test_writes_take_the_account(void **state)
{
    static const char res_b[] = "{\"person_id\":\"" C "\",\"kind\":\"temporary\",\"unit\":"
                                "\"25747\",\"address_line\":\"2 Lê Lợi\",\"from_date\":"
                                "\"2020-01-01\"}";
    static const char res_a[] = "{\"person_id\":\"" C "\",\"kind\":\"temporary\",\"unit\":"
                                "\"00004\",\"address_line\":\"2 Lê Lợi\",\"from_date\":"
                                "\"2020-01-01\"}";
    json_t *b = NULL, *events;

    (void)state;
    assert_int_equal(call("POST", "/api/v1/residences", res_b, NULL, CLERK("00004"), NULL), 403);
    assert_int_equal(call("POST", "/api/v1/residences", res_a, NULL, CLERK("00004"), NULL), 201);
    assert_int_equal(call("GET", "/api/v1/residences/" C "/temporary/history", NULL, &b,
                          CLERK("00004"), PURPOSE, NULL),
                     200);
    events = json_object_get(b, "events");
    assert_int_equal(json_array_size(events), 1);
    assert_string_equal(json_string_value(json_object_get(json_array_get(events, 0), "actor")),
                        "clerk-00004");
    json_decref(b);
    assert_int_equal(call("POST", "/api/v1/residences", res_a, NULL, "X-Test-Role: auditor",
                          "X-Test-Unit: 01", NULL),
                     403);
}

/* The rows of the access log of person p as the citizen sees it via HTTP. */
static json_t *access_log(const char *p)
{
    char person[64];
    json_t *b = NULL;

    snprintf(person, sizeof(person), "X-Test-Person: %s", p);
    assert_int_equal(call("GET", "/api/v1/me/access-log", NULL, &b, "X-Test-Role: citizen",
                          "X-Test-Unit: 00004", person, NULL),
                     200);
    return b;
}

static void test_access_log_and_seal(void **state)
{
    struct fixture *f = *state;
    struct lt_error err;
    struct audit_filter flt;
    char seal[64], day_s[DATE_STR_MAX];
    int32_t today = date_today();
    json_t *b, *items, *page = NULL;
    size_t i;
    json_t *it;
    int sealed_seen = 0, clerk_seen = 0;

    date_format(today + 30, day_s);
    snprintf(seal, sizeof(seal), "X-Sealed-Until: %s", day_s);
    assert_int_equal(GET("/api/v1/people/" A, CLERK("00004"), PURPOSE), 200);
    assert_int_equal(GET("/api/v1/parcels/00004-1-2", CLERK("00004"), "X-Purpose: land check"),
                     200);
    /* only officers and auditors seal, only law-enforcement reads */
    assert_int_equal(
        GET("/api/v1/people/" A, CLERK("00004"), "X-Purpose: law-enforcement:C-1", seal), 403);
    assert_int_equal(
        GET("/api/v1/people/" A, "X-Test-Role: officer", "X-Test-Unit: 01", PURPOSE, seal), 400);
    assert_int_equal(GET("/api/v1/people/" A, "X-Test-Role: officer", "X-Test-Unit: 01",
                         "X-Purpose: law-enforcement:C-1", seal),
                     200);
    assert_int_equal(audit_flush(f->audit, &err), LT_OK);

    /* the citizen: the clerk's reads are there, the sealed one is not, no client address */
    b = access_log(A);
    items = json_object_get(b, "items");
    assert_true(json_array_size(items) >= 2);
    json_array_foreach(items, i, it)
    {
        const char *purpose = json_string_value(json_object_get(it, "purpose"));

        assert_null(json_object_get(it, "client"));
        sealed_seen += strncmp(purpose, "law-enforcement:", 16) == 0;
        clerk_seen += strcmp(json_string_value(json_object_get(it, "actor")), "clerk-00004") == 0 &&
                      strcmp(purpose, "land check") == 0;
    }
    assert_int_equal(sealed_seen, 0);
    assert_int_equal(clerk_seen, 1);
    json_decref(b);
    /* a parcel held by two people is in both their logs; someone else's log does not
     * hold A's own records */
    assert_int_equal(GET("/api/v1/parcels/00004-1-3", CLERK("00004"), "X-Purpose: shared"), 200);
    assert_int_equal(GET("/api/v1/parcels/00004-1-3", CITIZEN(B), PURPOSE), 200);
    assert_int_equal(audit_flush(f->audit, &err), LT_OK);
    b = access_log(A);
    clerk_seen = 0;
    json_array_foreach(json_object_get(b, "items"), i, it)
    {
        clerk_seen += strcmp(json_string_value(json_object_get(it, "purpose")), "shared") == 0;
    }
    assert_int_equal(clerk_seen, 1);
    json_decref(b);
    b = access_log(B);
    clerk_seen = 0;
    json_array_foreach(json_object_get(b, "items"), i, it)
    {
        clerk_seen += strcmp(json_string_value(json_object_get(it, "purpose")), "shared") == 0;
    }
    assert_int_equal(clerk_seen, 1);
    json_array_foreach(json_object_get(b, "items"), i, it)
    {
        assert_string_not_equal(
            json_string_value(json_object_get(json_object_get(it, "record"), "key")), A);
    }
    json_decref(b);

    /* with the clock at the seal's end, the sealed read appears to the citizen */
    memset(&flt, 0, sizeof(flt));
    flt.person = A;
    flt.limit = AUDIT_PAGE_MAX;
    flt.subject_today = today + 29;
    assert_int_equal(audit_query(node_store(f->n), &flt, &page, &err), LT_OK);
    sealed_seen = 0;
    json_array_foreach(json_object_get(page, "items"), i, it)
    {
        sealed_seen += json_object_get(it, "sealed_until") != NULL;
    }
    assert_int_equal(sealed_seen, 0);
    json_decref(page);
    flt.subject_today = today + 30;
    assert_int_equal(audit_query(node_store(f->n), &flt, &page, &err), LT_OK);
    sealed_seen = 0;
    json_array_foreach(json_object_get(page, "items"), i, it)
    {
        sealed_seen += json_object_get(it, "sealed_until") != NULL;
    }
    assert_int_equal(sealed_seen, 1);
    json_decref(page);

    /* the auditor of Hà Nội sees it now, with the client; Hồ Chí Minh City's does not */
    assert_int_equal(call("GET", "/api/v1/audit?person=" A "&limit=1000", NULL, &b,
                          "X-Test-Role: auditor", "X-Test-Unit: 01", NULL),
                     200);
    sealed_seen = 0;
    json_array_foreach(json_object_get(b, "items"), i, it)
    {
        assert_string_equal(json_string_value(json_object_get(it, "client")), "127.0.0.1");
        sealed_seen += json_object_get(it, "sealed_until") != NULL;
    }
    assert_int_equal(sealed_seen, 1);
    json_decref(b);
    assert_int_equal(call("GET", "/api/v1/audit?person=" A, NULL, &b, "X-Test-Role: auditor",
                          "X-Test-Unit: 79", NULL),
                     200);
    assert_int_equal(json_array_size(json_object_get(b, "items")), 0);
    json_decref(b);
    assert_int_equal(GET("/api/v1/audit", CLERK("01")), 403);
    assert_int_equal(GET("/api/v1/audit?limit=1001", "X-Test-Role: auditor", "X-Test-Unit: 01"),
                     400);
    assert_int_equal(GET("/api/v1/audit?subject_kind=x", "X-Test-Role: auditor", "X-Test-Unit: 01"),
                     400);
    assert_int_equal(GET("/api/v1/audit?who=x", "X-Test-Role: auditor", "X-Test-Unit: 01"), 400);
    assert_int_equal(call("GET", "/api/v1/me/access-log", NULL, NULL, NULL), 401);
    assert_int_equal(GET("/api/v1/me/access-log", CLERK("01")), 403);
}

/* Count the rows of a query of the auditor's view. */
static size_t count_rows(struct fixture *f, const char *kind, const char *key, const char *actor)
{
    struct audit_filter flt;
    struct lt_error err;
    json_t *page = NULL;
    size_t n;

    memset(&flt, 0, sizeof(flt));
    flt.subject_kind = kind;
    flt.subject_key = key;
    flt.actor = actor;
    flt.limit = AUDIT_PAGE_MAX;
    flt.subject_today = DATE_MIN;
    assert_int_equal(audit_query(node_store(f->n), &flt, &page, &err), LT_OK);
    n = json_array_size(json_object_get(page, "items"));
    json_decref(page);
    return n;
}

#define ODD_PURPOSE "say \"hi\" \\ to Nguyễn, tab\there"

/* Every audit event body must be JSON; count those holding ODD_PURPOSE verbatim. */
static enum lt_code check_body(const struct event *ev, void *arg, struct lt_error *err)
{
    int *found = arg;
    json_t *body, *a;
    size_t i;

    (void)err;
    if (strcmp(ev->type, AUDIT_EVENT_TYPE) != 0) {
        return LT_OK;
    }
    body = json_loads(ev->body, JSON_REJECT_DUPLICATES, NULL);
    assert_non_null(body);
    json_array_foreach(json_object_get(body, "accesses"), i, a)
    {
        *found += strcmp(json_string_value(json_object_get(a, "purpose")), ODD_PURPOSE) == 0;
    }
    json_decref(body);
    return LT_OK;
}

static enum lt_code apply_remote(struct store_conn *c, void *arg, struct lt_error *err)
{
    return audit_apply_event(c, arg, err);
}

static void test_events_lists_and_paging(void **state)
{
    struct fixture *f = *state;
    struct lt_error err;
    struct store_conn *c;
    struct event ev;
    json_t *page = NULL;
    struct audit_filter flt;
    int64_t checked = 0;
    int found;

    assert_int_equal(GET("/api/v1/people?unit=01", CLERK("01"), "X-Purpose: census"), 200);
    assert_int_equal(audit_flush(f->audit, &err), LT_OK);
    /* the list recorded each person it returned (A, and C has no unit: not listed) */
    assert_int_equal(count_rows(f, "person", A, "clerk-01"), 1);
    assert_int_equal(count_rows(f, "person", B, "clerk-01"), 0);
    /* a parcel read is found by its key (the subject index) */
    assert_int_equal(count_rows(f, "parcel", "00004-1-2", "clerk-00004"), 1);
    assert_int_equal(count_rows(f, "parcel", "00004-1-9", NULL), 0);
    /* the anonymous read of B was recorded as such */
    assert_int_equal(count_rows(f, "person", B, "anonymous"), 1);

    /* they are events of the log, chained like any other, with JSON bodies that keep
     * quotes, backslashes, tabs and Vietnamese text as they were */
    assert_int_equal(GET("/api/v1/people/" A, CLERK("01"), "X-Purpose: " ODD_PURPOSE), 200);
    assert_int_equal(audit_flush(f->audit, &err), LT_OK);
    c = store_reader_get(node_store(f->n));
    assert_int_equal(evlog_verify(c, &checked, &err), LT_OK);
    assert_true(checked > 6);
    found = 0;
    assert_int_equal(evlog_scan(c, 0, 0, check_body, &found, &err), LT_OK);
    assert_int_equal(found, 1);
    store_reader_put(node_store(f->n), c);

    /* paging by id */
    memset(&flt, 0, sizeof(flt));
    flt.limit = 2;
    flt.subject_today = DATE_MIN;
    assert_int_equal(audit_query(node_store(f->n), &flt, &page, &err), LT_OK);
    assert_int_equal(json_array_size(json_object_get(page, "items")), 2);
    flt.after = json_integer_value(json_object_get(page, "next"));
    assert_true(flt.after >= 2);
    json_decref(page);
    assert_int_equal(audit_query(node_store(f->n), &flt, &page, &err), LT_OK);
    assert_true(json_integer_value(json_object_get(
                    json_array_get(json_object_get(page, "items"), 0), "id")) > flt.after);
    json_decref(page);

    /* a period that runs backwards is refused, not answered empty */
    memset(&flt, 0, sizeof(flt));
    flt.limit = 2;
    flt.subject_today = DATE_MIN;
    flt.from_ms = 1800000000000;
    flt.to_ms = 1700000000000;
    assert_int_equal(audit_query(node_store(f->n), &flt, &page, &err), LT_EINVAL);
    assert_string_equal(err.field, "to");
    assert_null(page);

    /* an audit event from a child is projected on its parent */
    memset(&ev, 0, sizeof(ev));
    snprintf(ev.origin, sizeof(ev.origin), "child-1");
    ev.seq = 7;
    snprintf(ev.type, sizeof(ev.type), AUDIT_EVENT_TYPE);
    snprintf(ev.entity, sizeof(ev.entity), "audit/child-1");
    ev.body = "{\"accesses\":[{\"time_ms\":1751328000000,\"actor\":\"clerk-x\",\"role\":\"clerk\","
              "\"unit\":\"00004\",\"client\":\"10.0.0.1\",\"purpose\":\"p\",\"action\":\"read\","
              "\"records\":[[\"person\",\"" C "\",\"" C "\"]]}]}";
    assert_int_equal(store_write(node_store(f->n), apply_remote, &ev, &err), LT_OK);
    assert_int_equal(count_rows(f, "person", C, "clerk-x"), 1);
    ev.body = "{\"accesses\":[{\"time_ms\":\"soon\"}]}";
    assert_int_equal(store_write(node_store(f->n), apply_remote, &ev, &err), LT_EINVAL);
    snprintf(ev.type, sizeof(ev.type), "person.registered");
    assert_int_equal(store_write(node_store(f->n), apply_remote, &ev, &err), LT_OK);
}

static enum lt_code forget_projection(struct store_conn *c, void *arg, struct lt_error *err)
{
    enum lt_code rc = store_exec(c, "DELETE FROM audit_log WHERE origin = 'test-node';", err);

    (void)arg;
    return rc != LT_OK ? rc : store_exec(c, "UPDATE audit_state SET projected_pos = 0;", err);
}

/* Events written but not projected when the process died are projected at the next start. */
static void test_recovery_after_a_crash(void **state)
{
    struct fixture *f = *state;
    struct audit *again = NULL;
    struct lt_error err;
    size_t before;

    assert_int_equal(GET("/api/v1/people/" A, CLERK("00004"), "X-Purpose: before the crash"), 200);
    assert_int_equal(audit_flush(f->audit, &err), LT_OK);
    before = count_rows(f, "person", A, NULL);
    assert_true(before >= 3);
    assert_int_equal(store_write(node_store(f->n), forget_projection, NULL, &err), LT_OK);
    assert_int_equal(count_rows(f, "person", A, NULL), 0);
    assert_int_equal(audit_new(node_store(f->n), node_evlog(f->n), NULL, &again, &err), LT_OK);
    assert_int_equal(count_rows(f, "person", A, NULL), before);
    audit_free(again);
    /* and a start with nothing to recover adds nothing */
    assert_int_equal(audit_new(node_store(f->n), node_evlog(f->n), NULL, &again, &err), LT_OK);
    assert_int_equal(count_rows(f, "person", A, NULL), before);
    audit_free(again);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_purpose_and_seal_checks),
        cmocka_unit_test(test_staff_jurisdiction),
        cmocka_unit_test(test_citizen_sees_only_their_own),
        cmocka_unit_test(test_writes_take_the_account),
        cmocka_unit_test(test_access_log_and_seal),
        cmocka_unit_test(test_events_lists_and_paging),
        cmocka_unit_test(test_recovery_after_a_crash),
    };

    curl_global_init(CURL_GLOBAL_DEFAULT);
    return cmocka_run_group_tests(tests, setup, teardown);
}
